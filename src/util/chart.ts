/**
 * A small generic SVG line chart: one or more series, each a line through
 * (x, y) with an optional shaded band [lo, hi] (e.g. the interquartile range
 * of per-layer cosines, or a score range against skip ratio). Returns a plain
 * SVG string; no dependencies, deterministic output.
 */

export interface ChartPoint {
  x: number;
  y: number;
  /** band bottom / top; the band is drawn where both are finite */
  lo?: number;
  hi?: number;
  /** error bar bottom / top (e.g. a 95% CI), drawn as a vertical bar with caps where both are finite */
  errLo?: number;
  errHi?: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
  /** CSS colour; defaults to a fixed palette by series index */
  color?: string;
}

export interface ChartOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  width?: number;
  height?: number;
  /** axis ranges; default: the data's extent (bands included) */
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Rounded tick values covering [lo, hi] (about `count` of them). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

const fmt = (v: number): string => String(+v.toPrecision(4));

/** Render the series as an SVG document string. */
export function lineChart(series: ChartSeries[], o: ChartOptions = {}): string {
  const W = o.width ?? 720,
    H = o.height ?? 420;
  const m = { left: 64, right: 150, top: o.title ? 36 : 16, bottom: 52 };
  const pw = W - m.left - m.right,
    ph = H - m.top - m.bottom;
  if (pw <= 0 || ph <= 0) throw new Error(`lineChart: ${W}x${H} is too small for the axes`);
  const xs: number[] = [],
    ys: number[] = [];
  for (const s of series) {
    for (const p of s.points) {
      if (Number.isFinite(p.x)) xs.push(p.x);
      for (const v of [p.y, p.lo, p.hi, p.errLo, p.errHi]) if (v !== undefined && Number.isFinite(v)) ys.push(v);
    }
  }
  let x0 = o.xMin ?? (xs.length ? Math.min(...xs) : 0),
    x1 = o.xMax ?? (xs.length ? Math.max(...xs) : 1);
  let y0 = o.yMin ?? (ys.length ? Math.min(...ys) : 0),
    y1 = o.yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (!(x1 > x0)) {
    x0 -= 0.5;
    x1 += 0.5;
  }
  if (!(y1 > y0)) {
    const d = Math.abs(y0) * 0.05 || 0.5;
    y0 -= d;
    y1 += d;
  }
  const X = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const Y = (y: number) => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const c = (v: number) => v.toFixed(2);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  if (o.title) out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(o.title)}</text>`);
  // grid and axes
  for (const t of niceTicks(x0, x1, 8)) {
    out.push(`<line x1="${c(X(t))}" y1="${m.top}" x2="${c(X(t))}" y2="${m.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${c(X(t))}" y="${m.top + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1, 6)) {
    out.push(`<line x1="${m.left}" y1="${c(Y(t))}" x2="${m.left + pw}" y2="${c(Y(t))}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 6}" y="${c(Y(t) + 4)}" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
  if (o.xLabel) out.push(`<text x="${m.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  if (o.yLabel) out.push(`<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  series.forEach((s, i) => {
    const col = esc(s.color ?? PALETTE[i % PALETTE.length]);
    const pts = s.points
      .filter((p) => Number.isFinite(p.x))
      .slice()
      .sort((a, b) => a.x - b.x);
    const band = pts.filter((p) => p.lo !== undefined && p.hi !== undefined && Number.isFinite(p.lo) && Number.isFinite(p.hi));
    if (band.length > 1) {
      const d = [...band.map((p) => `${c(X(p.x))},${c(Y(p.hi!))}`), ...band.reverse().map((p) => `${c(X(p.x))},${c(Y(p.lo!))}`)];
      out.push(`<polygon points="${d.join(" ")}" fill="${col}" fill-opacity="0.18" stroke="none"/>`);
    }
    // a non-finite y breaks the line instead of drawing through it
    let seg: string[] = [];
    const flush = () => {
      if (seg.length > 1) out.push(`<polyline points="${seg.join(" ")}" fill="none" stroke="${col}" stroke-width="2"/>`);
      seg = [];
    };
    for (const p of pts) {
      if (!Number.isFinite(p.y)) {
        flush();
        continue;
      }
      seg.push(`${c(X(p.x))},${c(Y(p.y))}`);
      if (p.errLo !== undefined && p.errHi !== undefined && Number.isFinite(p.errLo) && Number.isFinite(p.errHi)) {
        const x = c(X(p.x)),
          a = c(Y(p.errLo)),
          b = c(Y(p.errHi));
        const l = c(X(p.x) - 4),
          r = c(X(p.x) + 4);
        out.push(`<path d="M${x},${a}V${b}M${l},${a}H${r}M${l},${b}H${r}" stroke="${col}" stroke-width="1.2" fill="none"/>`);
      }
      out.push(`<circle cx="${c(X(p.x))}" cy="${c(Y(p.y))}" r="2.5" fill="${col}"/>`);
    }
    flush();
    const ly = m.top + 14 + i * 18;
    out.push(`<line x1="${m.left + pw + 12}" y1="${ly - 4}" x2="${m.left + pw + 32}" y2="${ly - 4}" stroke="${col}" stroke-width="2"/>`);
    out.push(`<text x="${m.left + pw + 38}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
