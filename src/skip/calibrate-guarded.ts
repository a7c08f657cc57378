/**
 * Calibration of ffn-skip-guarded (and ffn-skip-linear) to a target ratio: the guards are fixed
 * (they are the method), the cold regions too, and for each window length k
 * a bisection on tau finds the highest tau whose ratio on the calibration
 * prompts still meets the target (the ratio falls as tau rises; the guards
 * and the gate only lower it further, so a lower tau pays for them). Among
 * the k's the trial closest to dense wins (agreement, then KL, then the
 * ratio nearest the target), as in calibrate.ts. Pure over an injected
 * evaluator; the evaluations use calibration prompts only.
 */
import { closerToDense, type CalibrateResult, type Evaluator, type Trial } from "./calibrate.js";
import { resolveConfig, type LinearOptions, type SkipConfig } from "./config.js";
import type { GuardedOptions } from "./guarded.js";
import type { CompactSkipOptions } from "./skip-compact.js";

export interface CalibrateGuardedOptions {
  /** the method whose tau is bisected (default ffn-skip-guarded; ffn-skip-linear works the same way) */
  method?: "ffn-skip-guarded" | "ffn-skip-linear" | "ffn-skip-compact";
  nLayers: number;
  targetRatio: number;
  evaluate: Evaluator;
  /** everything but tau and k (missing knobs take their defaults) */
  base:
    | Partial<Omit<GuardedOptions, "tau" | "k">>
    | Partial<Omit<LinearOptions, "tau" | "k">>
    | Partial<Omit<CompactSkipOptions, "tau" | "k"> & { keepFile: string }>;
  /** window lengths to try (default 1, 2) */
  k?: number[];
  /** bisection steps on tau per k (default 10: tau to ±0.002) */
  bisect?: number;
  /** the target counts as met at ratio ≥ target − tolerance (default 0.01) */
  tolerance?: number;
}

export async function calibrateGuarded(o: CalibrateGuardedOptions): Promise<CalibrateResult> {
  const target = o.targetRatio;
  if (!(target > 0 && target < 1)) throw new Error(`calibrateGuarded: targetRatio must be in (0, 1), got ${target}`);
  const tol = o.tolerance ?? 0.01,
    steps = o.bisect ?? 10;
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`calibrateGuarded: bisect must be an integer ≥ 0, got ${steps}`);
  const ks = o.k ?? [1, 2];
  if (ks.length === 0) throw new Error("calibrateGuarded: no k to try");
  const trials: Trial[] = [];
  const meets = (t: Trial) => t.ratio >= target - tol;
  const run = async (tau: number, k: number): Promise<Trial> => {
    const c = { method: o.method ?? "ffn-skip-guarded", ...o.base, tau, k } as SkipConfig;
    resolveConfig(c, o.nLayers); // a bad knob fails before any model run
    const r = await o.evaluate(c);
    if (!Number.isFinite(r.ratio) || !Number.isFinite(r.agreement)) {
      throw new Error(`calibrateGuarded: evaluator returned non-finite ratio/agreement for ${JSON.stringify(c)}`);
    }
    const t: Trial = { config: c, ...r };
    trials.push(t);
    return t;
  };
  const picks: Trial[] = [];
  for (const k of ks) {
    // tau = -1 skips wherever the windows allow: the most this k can reach
    let hit = await run(-1, k);
    if (!meets(hit)) {
      picks.push(hit);
      continue;
    }
    let lo = -1,
      hi = 1; // cos ≤ 1, so tau = 1 never skips
    for (let i = 0; i < steps; i++) {
      const mid = +((lo + hi) / 2).toPrecision(10);
      const t = await run(mid, k);
      if (meets(t)) {
        lo = mid;
        hit = t;
      } else hi = mid;
    }
    picks.push(hit);
  }
  const ok = picks.filter(meets);
  const better = (a: Trial, b: Trial) => closerToDense(a, b, target);
  let best: Trial;
  if (ok.length) best = ok.reduce((a, b) => (better(b, a) ? b : a));
  else best = picks.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return { best, met: ok.length > 0, trials, truncated: false };
}
