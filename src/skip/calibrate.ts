/**
 * Calibration search for FFN-SkipLLM knobs, as a pure function over an
 * injected evaluator (which runs the model on calibration prompts and
 * compares with dense output). For every grid cell (coldStart, coldEnd, k):
 *   1. the lowest tau (most skipping) tells whether the cell can reach the
 *      target ratio at all — if not, the cell costs one evaluation;
 *   2. a descending tau grid finds the first tau that meets the target,
 *      bracketing it with the grid value above (or tau = 1, which never skips);
 *   3. bisection on tau moves to the highest tau that still meets the target
 *      (the ratio falls as tau rises, and fewer skips stay closer to dense).
 * Among all trials that meet the target (ratio ≥ target − tolerance) the one
 * closest to dense wins: highest agreement, then lowest KL, then the ratio
 * nearest the target. Evaluations are cached by config.
 */
import { resolveConfig, type SkipConfig } from "./config.js";

export interface EvalResult {
  /** skip ratio measured on the calibration data */
  ratio: number;
  /** agreement with dense output in [0, 1] (e.g. top-1 token match rate) */
  agreement: number;
  /** mean KL(dense ‖ skipped) of next-token distributions, if measured */
  kl?: number;
}

export type Evaluator = (config: SkipConfig) => Promise<EvalResult>;

export interface CalibrateOptions {
  nLayers: number;
  /** wanted skip ratio in (0, 1) */
  targetRatio: number;
  evaluate: Evaluator;
  /** knobs held fixed during the search */
  base?: { warmup?: number; maxWindows?: number; schedule?: number[] };
  /** search grid; defaults scale with the depth (see defaultGrid) */
  grid?: { coldStart?: number[]; coldEnd?: number[]; k?: number[]; tau?: number[] };
  /** bisection steps on tau per cell (default 5) */
  bisect?: number;
  /** the target counts as met at ratio ≥ target − tolerance (default 0.01) */
  tolerance?: number;
  /** stop after this many evaluations and return the best so far (default 200) */
  maxEvals?: number;
}

export interface Trial extends EvalResult {
  config: SkipConfig;
}

export interface CalibrateResult {
  /** the chosen config with its measurements */
  best: Trial;
  /** whether `best` meets the target (false: the best effort, highest ratio) */
  met: boolean;
  /** every evaluation in order, for charts and the profile's metadata */
  trials: Trial[];
  /** true when maxEvals stopped the search early */
  truncated: boolean;
}

/** Default grid: cold regions of ~10% and ~20% of the layers, k ∈ {1, 2, 4}. */
export function defaultGrid(nLayers: number): Required<NonNullable<CalibrateOptions["grid"]>> {
  const cold = [...new Set([0.1, 0.2].map((f) => Math.max(1, Math.round(f * nLayers))))];
  return {
    coldStart: cold,
    coldEnd: cold,
    k: [1, 2, 4],
    // cosines of saturated FFNs sit just below 1, so the grid is dense there;
    // -1 (skip whenever possible) is the feasibility probe
    tau: [0.995, 0.99, 0.98, 0.96, 0.93, 0.9, 0.8, 0.6, -1],
  };
}

class Stop extends Error {}

/** Whether trial a is closer to dense than b: higher agreement, then lower KL, then the ratio nearer the target. */
export function closerToDense(a: Trial, b: Trial, target: number): boolean {
  if (a.agreement !== b.agreement) return a.agreement > b.agreement;
  const ka = a.kl ?? Infinity,
    kb = b.kl ?? Infinity;
  if (ka !== kb) return ka < kb;
  return Math.abs(a.ratio - target) < Math.abs(b.ratio - target);
}

export async function calibrate(o: CalibrateOptions): Promise<CalibrateResult> {
  const { nLayers, targetRatio: target } = o;
  if (!(target > 0 && target < 1)) throw new Error(`calibrate: targetRatio must be in (0, 1), got ${target}`);
  const g = { ...defaultGrid(nLayers), ...o.grid };
  const tol = o.tolerance ?? 0.01;
  const steps = o.bisect ?? 5;
  const maxEvals = o.maxEvals ?? 200;
  if (!(tol >= 0)) throw new Error(`calibrate: tolerance must be ≥ 0, got ${tol}`);
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`calibrate: bisect must be an integer ≥ 0, got ${steps}`);
  if (!Number.isInteger(maxEvals) || maxEvals < 1) throw new Error(`calibrate: maxEvals must be an integer ≥ 1, got ${maxEvals}`);
  const taus = [...new Set(g.tau)].sort((a, b) => b - a);
  if (taus.length === 0) throw new Error("calibrate: the tau grid is empty");

  const trials: Trial[] = [];
  const cache = new Map<string, Trial>();
  const meets = (t: Trial) => t.ratio >= target - tol;
  const run = async (c: SkipConfig): Promise<Trial> => {
    const key = JSON.stringify(c);
    const hit = cache.get(key);
    if (hit) return hit;
    if (trials.length >= maxEvals) throw new Stop();
    const r = await o.evaluate(c);
    if (!Number.isFinite(r.ratio) || !Number.isFinite(r.agreement)) {
      throw new Error(`calibrate: evaluator returned non-finite ratio/agreement for ${key}`);
    }
    const t: Trial = { config: c, ...r };
    cache.set(key, t);
    trials.push(t);
    return t;
  };

  let truncated = false;
  try {
    for (const coldStart of g.coldStart) {
      for (const coldEnd of g.coldEnd) {
        if (coldStart + coldEnd >= nLayers) continue;
        for (const k of g.k) {
          const cfg = (tau: number): SkipConfig => {
            const c: SkipConfig = { method: "ffn-skip", ...o.base, coldStart, coldEnd, tau, k };
            resolveConfig(c, nLayers); // a bad grid value fails here, before any model run
            return c;
          };
          if (!meets(await run(cfg(taus[taus.length - 1])))) continue;
          let miss = 1; // tau = 1 never skips: the upper bracket
          let hit = taus[taus.length - 1];
          for (const tau of taus) {
            if (meets(await run(cfg(tau)))) {
              hit = tau;
              break;
            }
            miss = tau;
          }
          for (let i = 0; i < steps; i++) {
            const mid = +((hit + miss) / 2).toPrecision(10);
            if (mid === hit || mid === miss) break;
            if (meets(await run(cfg(mid)))) hit = mid;
            else miss = mid;
          }
        }
      }
    }
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    truncated = true;
  }
  if (trials.length === 0) throw new Error("calibrate: no grid cell was evaluated (check coldStart/coldEnd against the layers)");
  const ok = trials.filter(meets);
  const better = (a: Trial, b: Trial) => closerToDense(a, b, target);
  const pool = ok.length ? ok : trials;
  let best = pool[0];
  for (const t of pool) {
    if (ok.length ? better(t, best) : t.ratio > best.ratio || (t.ratio === best.ratio && better(t, best))) best = t;
  }
  return { best, met: ok.length > 0, trials, truncated };
}
