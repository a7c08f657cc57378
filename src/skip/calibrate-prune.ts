/**
 * ffn-prune's calibration (prune.ts), the pure part: from each neuron's
 * importance, the neurons each layer keeps for a target share of FFN weight
 * bytes saved. src/eval/calib-prune.ts measures the importances.
 *
 * Importance of neuron i in layer l: its share of the energy the FFN adds to
 * its output, E[h_i²]·‖W2[:, i]‖² over the layer's sum of those, times the
 * energy of the FFN's contribution to the residual over the residual's own
 * (E‖ffn out‖² / E‖x‖², after Gemma's post-FFN norm where there is one).
 * With allocation "global" the neurons of all layers are ranked together and
 * the least important go first (layers whose FFN adds little give up more);
 * with "uniform" each layer gives up the same number. A layer's pruned count
 * is a whole number of 32-neuron blocks (the compact down projection's Q4_1
 * blocks), at most all but one block.
 */
import { KEEP_BLOCK } from "./neuron-keep.js";

export type PruneAllocation = "global" | "uniform";

export interface PruneChoice {
  keeps: Int32Array[];
  /** the share of all layers' FFN weight bytes the compact copies do not read */
  ratio: number;
}

/**
 * The kept neurons per layer whose byte saving is closest to `target`. `scores[l][i]` is neuron i's importance;
 * `bytes(l, kept)` the layer's FFN bytes whole and compact (compact-ffn.ts compactBytes).
 */
export function choosePrune(
  scores: readonly Float64Array[],
  target: number,
  bytes: (l: number, kept: number) => { whole: number; compact: number },
  allocation: PruneAllocation,
): PruneChoice {
  if (!(target > 0 && target < 1)) throw new Error(`ffn-prune: target must be in (0, 1), got ${target}`);
  const L = scores.length;
  const F = scores[0].length;
  if (F % KEEP_BLOCK !== 0) throw new Error(`ffn-prune: an FFN of ${F} neurons is not whole blocks of ${KEEP_BLOCK}`);
  // each layer's neurons, least important first
  const order = scores.map((s) => Int32Array.from({ length: F }, (_, i) => i).sort((a, b) => s[a] - s[b] || a - b));
  const wholeAll = scores.reduce((t, _, l) => t + bytes(l, F).whole, 0);
  const choice = (pruned: number[]): PruneChoice => {
    let saved = 0;
    const keeps = pruned.map((c, l) => {
      const drop = Math.min(F - KEEP_BLOCK, Math.round(c / KEEP_BLOCK) * KEEP_BLOCK);
      const b = bytes(l, F - drop);
      saved += b.whole - b.compact;
      return Int32Array.from(order[l].subarray(drop)).sort();
    });
    return { keeps, ratio: saved / wholeAll };
  };
  let counts: (n: number) => number[];
  let hi: number;
  if (allocation === "uniform") {
    counts = (n) => new Array<number>(L).fill(n);
    hi = F - KEEP_BLOCK;
  } else {
    const all = scores.flatMap((s, l) => Array.from(s, (v, i) => ({ v, l, i }))).sort((a, b) => a.v - b.v);
    counts = (n) => {
      const c = new Array<number>(L).fill(0);
      for (let k = 0; k < n; k++) c[all[k].l]++;
      return c;
    };
    hi = L * F;
  }
  // the ratio grows with n (up to rounding): bisect, then take the closer of the two ends
  let lo = 0;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (choice(counts(mid)).ratio < target) lo = mid;
    else hi = mid;
  }
  const a = choice(counts(lo)),
    b = choice(counts(hi));
  return Math.abs(a.ratio - target) <= Math.abs(b.ratio - target) ? a : b;
}

/** Importance of every neuron from the calibration statistics (see the file comment). */
export function pruneScores(
  hsq: readonly Float64Array[],
  col2: readonly Float64Array[],
  outEnergy: ArrayLike<number>,
  residEnergy: ArrayLike<number>,
): Float64Array[] {
  return hsq.map((h, l) => {
    const e = Float64Array.from(h, (v, i) => v * col2[l][i]);
    const sum = e.reduce((s, v) => s + v, 0);
    const w = sum > 0 && residEnergy[l] > 0 ? outEnergy[l] / residEnergy[l] / sum : 0;
    return e.map((v) => v * w);
  });
}
