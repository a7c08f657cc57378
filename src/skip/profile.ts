/**
 * Per-layer cosine profile: aggregates cos(h, h+FFN) samples (from a trace)
 * into mean and quartiles per layer, prompt and generated tokens apart — the
 * picture that motivates FFN-SkipLLM (middle layers saturate, cosines near 1).
 * Pure functions; `cosineProfileChart` draws it with chart.ts.
 */
import { lineChart } from "../util/chart.js";
import type { StepRecord } from "./trace.js";

export interface LayerSummary {
  /** samples (NaN when 0) */
  n: number;
  mean: number;
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

export interface CosineProfile {
  nLayers: number;
  /** per layer, prompt steps (the cosine of each prompt step's last token) */
  prompt: LayerSummary[];
  /** per layer, decode steps */
  generated: LayerSummary[];
}

/** Quantile of ascending `sorted` by linear interpolation (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < n ? sorted[i] + f * (sorted[i + 1] - sorted[i]) : sorted[i];
}

/** Summary of the finite values in `values`. */
export function summarize(values: readonly number[]): LayerSummary {
  const v = Float64Array.from(values.filter(Number.isFinite)).sort();
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i];
  return {
    n: v.length,
    mean: v.length ? sum / v.length : NaN,
    min: v.length ? v[0] : NaN,
    q1: quantile(v, 0.25),
    median: quantile(v, 0.5),
    q3: quantile(v, 0.75),
    max: v.length ? v[v.length - 1] : NaN,
  };
}

/** Aggregate the cosines of trace records (NaN = not computed, ignored). */
export function cosineProfile(records: readonly StepRecord[], nLayers: number): CosineProfile {
  const prompt: number[][] = Array.from({ length: nLayers }, () => []);
  const gen: number[][] = Array.from({ length: nLayers }, () => []);
  for (const r of records) {
    if (r.cos.length !== nLayers) throw new Error(`cosineProfile: record has ${r.cos.length} layers, expected ${nLayers}`);
    const dst = r.phase === "prompt" ? prompt : gen;
    for (let l = 0; l < nLayers; l++) if (Number.isFinite(r.cos[l])) dst[l].push(r.cos[l]);
  }
  return { nLayers, prompt: prompt.map(summarize), generated: gen.map(summarize) };
}

/** SVG: mean cosine per layer with the interquartile band, prompt vs generated. */
export function cosineProfileChart(p: CosineProfile, title = "cos(h, h + FFN(h)) per layer"): string {
  const series = (name: string, s: LayerSummary[]) => ({
    name,
    points: s.map((x, l) => ({ x: l, y: x.mean, lo: x.q1, hi: x.q3 })),
  });
  return lineChart([series("prompt", p.prompt), series("generated", p.generated)], {
    title,
    xLabel: "layer",
    yLabel: "cosine (mean, IQR band)",
  });
}
