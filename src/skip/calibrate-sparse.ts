/**
 * Calibration of ffn-sparse (sparse.ts), the method's side: the gate sample
 * a dense pass collects, per-layer thresholds from it, and the search for the
 * kept fraction that meets a target (src/eval/calib-sparse.ts runs it on the
 * calibration set).
 *
 * With one kept fraction f for every layer, layer l's threshold is the
 * (1 − f) quantile of its |act(gate)| sample, and the bytes saved are
 * mean_l share_l · (1 − f), share_l being the neurons' part of the layer's
 * FFN bytes (up rows and down columns). f starts from that estimate and is
 * bisected within ±0.1 on the ratio the policy itself reports.
 */
import { SparsePolicy } from "./sparse.js";

/** The value of ascending `sorted` below which a share 1 − keep of it lies (the lower sample quantile): a threshold that keeps `keep`. */
export function keptQuantile(sorted: ArrayLike<number>, keep: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((1 - keep) * sorted.length))];
}

/** Every |act(gate)| value kept out of STRIDE (enough for quantiles; ~10^5 per layer on the default set). */
const STRIDE = 3;

/** A policy that drops nothing (a threshold below every nonzero |act|, whose neurons add 0 anyway) and records the gates. */
export class GateSampler extends SparsePolicy {
  readonly samples: number[][];
  /**
   * `groupSize` 4: sample the mean |act| of each group of 4 neurons (in file order, or along `orders[l]`), the value a
   * grouped policy compares
   */
  constructor(
    nLayers: number,
    warmup: number,
    private readonly groupSize = 1,
    private readonly orders?: Int32Array[],
  ) {
    super(nLayers, { warmup, thresholds: new Array<number>(nLayers).fill(Number.MIN_VALUE) });
    this.samples = Array.from({ length: nLayers }, () => []);
  }
  override observeNeurons(layer: number, act: Float32Array, kept: number, saved: number): void {
    super.observeNeurons(layer, act, kept, saved);
    if (!this.active) return;
    const s = this.samples[layer],
      g = this.groupSize,
      order = this.orders?.[layer];
    if (g === 1) for (let i = layer % STRIDE; i < act.length; i += STRIDE) s.push(act[i]);
    else
      for (let b = (layer % STRIDE) * g; b < act.length; b += STRIDE * g) {
        let m = 0;
        for (let i = b; i < b + g; i++) m += act[order ? order[i] : i];
        s.push(m / g);
      }
  }
  /** Per layer, the (1 − keep) quantile of the sample. */
  thresholdsAt(keep: number): number[] {
    this.sorted ??= this.samples.map((s) => {
      if (s.length === 0) throw new Error("calibrate ffn-sparse: no decode tokens after warm-up in the calibration set");
      return Float64Array.from(s).sort();
    });
    return this.sorted.map((s) => keptQuantile(s, keep));
  }
  private sorted: Float64Array[] | undefined;
}

/**
 * A policy that drops nothing and counts, per layer and neuron, the decode steps after warm-up at which the neuron's
 * |act(gate)| reaches `thresholds[l]` (would be kept by ffn-sparse neuron by neuron): what calibration sorts a
 * neuron order by (neuron-order.ts sortWithinBlocks).
 */
export class KeptCounter extends SparsePolicy {
  readonly kept: Float64Array[];
  constructor(
    nLayers: number,
    warmup: number,
    private readonly keepAt: number[],
    ffnDim: number,
  ) {
    super(nLayers, { warmup, thresholds: new Array<number>(nLayers).fill(Number.MIN_VALUE) });
    this.kept = Array.from({ length: nLayers }, () => new Float64Array(ffnDim));
  }
  override observeNeurons(layer: number, act: Float32Array, kept: number, saved: number): void {
    super.observeNeurons(layer, act, kept, saved);
    if (!this.active) return;
    const k = this.kept[layer],
      th = this.keepAt[layer];
    for (let i = 0; i < k.length; i++) if (act[i] >= th) k[i]++;
  }
}

export interface KeepTrial {
  keep: number;
  ratio: number;
  agreement: number;
}

/**
 * The kept fraction whose ratio (from `evaluate`) is closest to `target`:
 * from 1 − target / share, bisected within ±0.1 (the ratio falls as keep
 * rises) until within 0.2 points or 8 more evaluations.
 */
export function searchKeep(target: number, share: number, evaluate: (keep: number) => KeepTrial): { best: KeepTrial; trials: KeepTrial[] } {
  if (!(target > 0 && target < share))
    throw new Error(`calibrate ffn-sparse: target ${target} is outside (0, ${share.toFixed(3)}), the share of FFN bytes the neurons hold`);
  let keep = 1 - target / share,
    lo = Math.max(0, keep - 0.1),
    hi = Math.min(1, keep + 0.1);
  const trials = [evaluate(keep)];
  let last = trials[0],
    best = last;
  for (let i = 0; i < 8 && Math.abs(last.ratio - target) > 0.002; i++) {
    if (last.ratio > target) lo = keep;
    else hi = keep;
    keep = (lo + hi) / 2;
    last = evaluate(keep);
    trials.push(last);
    if (Math.abs(last.ratio - target) < Math.abs(best.ratio - target)) best = last;
  }
  return { best, trials };
}
