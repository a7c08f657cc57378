/**
 * Calibration of ffn-skip-layerwise (layerwise.ts): per-layer thresholds from
 * a per-layer sensitivity and one global knob.
 *
 * 1. Sensitivity (measured by layerDamage in src/eval/calib.ts on the
 *    calibration prompts only): for every calibration token t and middle
 *    layer l, the dense model's cosine gap g_l(t) = 1 − cos_{l−1}(t) of the
 *    FFN that would open a window at l, and the damage d_l(t) = KL(dense ‖
 *    the same step with layer l's FFN alone skipped) of the next-token
 *    distribution. w_l = Σ_t d_l(t) / Σ_t g_l(t): KL per unit of cosine gap.
 * 2. Thresholds: taus[l] = 1 − c · (w̄ / w_l)^α (w̄ the geometric mean of the
 *    middle layers' w), clamped to [−1, 1]; cold layers get 2 (never). A layer
 *    is skipped when its predicted damage w_l^α · g < c · w̄^α, i.e. under one
 *    budget per skipped FFN that is the same for every layer. α = 0 is
 *    FFN-SkipLLM with τ = 1 − c.
 * 3. c is bisected (geometrically, between 1e-4·c_max and c_max, c_max putting every
 *    threshold at −1) to the smallest c —
 *    the highest thresholds — whose ratio on the calibration set meets the
 *    target; per k the trial closest to dense wins.
 * Pure over an injected evaluator.
 */
import { closerToDense, type CalibrateResult, type Evaluator, type Trial } from "./calibrate.js";
import { resolveConfig, type SkipConfig } from "./config.js";

/** Per middle layer l: the gap g_l(t) = 1 − cos_{l−1}(t) and damage d_l(t) at each calibration token. */
export interface LayerDamage {
  nLayers: number;
  coldStart: number;
  coldEnd: number;
  /** per layer (length nLayers; empty for cold layers) */
  gap: number[][];
  kl: number[][];
}

/** w_l = Σ d_l / Σ g_l per middle layer (NaN for cold layers); a layer with no gap or damage gets the smallest positive w. */
export function sensitivities(d: LayerDamage): number[] {
  const w = new Array<number>(d.nLayers).fill(NaN);
  const end = d.nLayers - d.coldEnd;
  for (let l = d.coldStart; l < end; l++) {
    let sg = 0,
      sd = 0;
    for (let i = 0; i < d.gap[l].length; i++) {
      sg += d.gap[l][i];
      sd += d.kl[l][i];
    }
    w[l] = sg > 0 && sd > 0 ? sd / sg : NaN;
  }
  const pos = w.filter((x) => Number.isFinite(x) && x > 0);
  if (pos.length === 0) throw new Error("sensitivities: no middle layer has a positive damage and cosine gap");
  const floor = Math.min(...pos);
  for (let l = d.coldStart; l < end; l++) if (!Number.isFinite(w[l])) w[l] = floor;
  return w;
}

/** taus[l] = clamp(1 − c · (w̄ / w_l)^α, −1, 1) for the middle layers, 2 (never) for the cold ones. */
export function layerTaus(w: readonly number[], c: number, alpha: number, coldStart: number, coldEnd: number): number[] {
  const L = w.length,
    end = L - coldEnd;
  if (!(c >= 0)) throw new Error(`layerTaus: c must be ≥ 0, got ${c}`);
  let logSum = 0;
  for (let l = coldStart; l < end; l++) {
    if (!(w[l] > 0)) throw new Error(`layerTaus: sensitivity of layer ${l} must be > 0, got ${w[l]}`);
    logSum += Math.log(w[l]);
  }
  const mean = Math.exp(logSum / Math.max(1, end - coldStart));
  const taus = new Array<number>(L).fill(2);
  for (let l = coldStart; l < end; l++) {
    const t = 1 - c * (mean / w[l]) ** alpha;
    taus[l] = +Math.max(-1, Math.min(1, t)).toPrecision(8);
  }
  return taus;
}

export interface CalibrateLayerwiseOptions {
  nLayers: number;
  targetRatio: number;
  evaluate: Evaluator;
  /** per-layer sensitivities (sensitivities()) */
  w: readonly number[];
  /** exponent α on the relative sensitivity (default 1) */
  alpha?: number;
  warmup: number;
  coldStart: number;
  coldEnd: number;
  /** window lengths to try (default 1) */
  k?: number[];
  /** bisection steps on c (default 12) */
  bisect?: number;
  /** the target counts as met at ratio ≥ target − tolerance (default 0.01) */
  tolerance?: number;
}

export interface LayerwiseTrial extends Trial {
  /** the global knob of this trial */
  c: number;
}

export async function calibrateLayerwise(o: CalibrateLayerwiseOptions): Promise<CalibrateResult & { best: LayerwiseTrial }> {
  const target = o.targetRatio;
  if (!(target > 0 && target < 1)) throw new Error(`calibrateLayerwise: targetRatio must be in (0, 1), got ${target}`);
  const tol = o.tolerance ?? 0.01,
    steps = o.bisect ?? 12,
    alpha = o.alpha ?? 1;
  const ks = o.k ?? [1];
  if (ks.length === 0) throw new Error("calibrateLayerwise: no k to try");
  const end = o.nLayers - o.coldEnd;
  // c at which every middle threshold is −1 (skip whenever the windows allow): the feasibility probe
  let mean = 0;
  for (let l = o.coldStart; l < end; l++) mean += Math.log(o.w[l]);
  mean = Math.exp(mean / Math.max(1, end - o.coldStart));
  let cMax = 0;
  for (let l = o.coldStart; l < end; l++) cMax = Math.max(cMax, 2 / (mean / o.w[l]) ** alpha);
  const trials: LayerwiseTrial[] = [];
  const meets = (t: Trial) => t.ratio >= target - tol;
  const run = async (c: number, k: number): Promise<LayerwiseTrial> => {
    const config = {
      method: "ffn-skip-layerwise",
      warmup: o.warmup,
      coldStart: o.coldStart,
      coldEnd: o.coldEnd,
      k,
      taus: layerTaus(o.w, c, alpha, o.coldStart, o.coldEnd),
    } as SkipConfig;
    resolveConfig(config, o.nLayers);
    const r = await o.evaluate(config);
    if (!Number.isFinite(r.ratio) || !Number.isFinite(r.agreement))
      throw new Error(`calibrateLayerwise: non-finite ratio/agreement at c ${c}`);
    const t: LayerwiseTrial = { config, ...r, c };
    trials.push(t);
    return t;
  };
  const picks: LayerwiseTrial[] = [];
  for (const k of ks) {
    let hit = await run(cMax, k);
    if (!meets(hit)) {
      picks.push(hit);
      continue;
    }
    // geometric bisection: the ratio moves with c over orders of magnitude (the cosine gaps are ~0.01-0.05)
    let lo = cMax * 1e-4, // c ≈ 0: thresholds ≈ 1, (almost) nothing skipped; assumed to miss, never evaluated
      hi = cMax;
    for (let i = 0; i < steps; i++) {
      const mid = +Math.sqrt(lo * hi).toPrecision(10);
      const t = await run(mid, k);
      if (meets(t)) {
        hi = mid;
        hit = t;
      } else lo = mid;
    }
    picks.push(hit);
  }
  const ok = picks.filter(meets);
  let best: LayerwiseTrial;
  if (ok.length) best = ok.reduce((a, b) => (closerToDense(b, a, target) ? b : a));
  else best = picks.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return { best, met: ok.length > 0, trials, truncated: false };
}
