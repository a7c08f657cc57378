/** Progress lines with an ETA (for stderr), at most one every `everyMs`. */

export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return "?";
  s = Math.round(s);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}

export class Progress {
  private done = 0;
  private last = 0;
  private readonly t0 = performance.now();

  /** `total` items to compute (cached ones already excluded). */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly cached: number,
    private readonly write: (line: string) => void,
    private readonly everyMs = 5000,
  ) {}

  /** One more item computed. */
  tick(): void {
    this.done++;
    const now = performance.now();
    if (this.done < this.total && now - this.last < this.everyMs) return;
    this.last = now;
    const per = (now - this.t0) / 1000 / this.done;
    const eta = per * (this.total - this.done);
    this.write(
      `${this.label}: ${this.done + this.cached}/${this.total + this.cached}` +
        (this.cached ? ` (${this.cached} cached)` : "") +
        `, ${per.toFixed(1)} s/item, ETA ${formatDuration(eta)}`,
    );
  }
}
