/**
 * Stop strings over streamed text: text is released only once it can no
 * longer be the start of a stop string, so a stop string is never shown.
 */
export class StopMatcher {
  private pending = "";
  constructor(private readonly stops: readonly string[]) {
    for (const s of stops) if (typeof s !== "string" || s.length === 0) throw new Error("stop strings must be non-empty strings");
  }

  /** Feed new text; returns the text safe to emit and whether a stop string was hit. */
  push(text: string): { emit: string; stopped: boolean } {
    this.pending += text;
    let cut = -1;
    for (const s of this.stops) {
      const i = this.pending.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) cut = i;
    }
    if (cut >= 0) {
      const emit = this.pending.slice(0, cut);
      this.pending = "";
      return { emit, stopped: true };
    }
    // hold back the longest suffix that is a prefix of some stop string
    let hold = 0;
    for (const s of this.stops) {
      for (let l = Math.min(s.length - 1, this.pending.length); l > hold; l--) {
        if (this.pending.endsWith(s.slice(0, l))) {
          hold = l;
          break;
        }
      }
    }
    const emit = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { emit, stopped: false };
  }

  /** Whatever is still held back, at the end. */
  flush(): string {
    const p = this.pending;
    this.pending = "";
    return p;
  }
}
