/**
 * ffn-sparse's calibration on the calibration set (src/skip/calibrate-sparse.ts
 * has the rule): one dense teacher-forced pass samples every layer's
 * |act(gate)| over the decode steps, then the kept fraction is searched on
 * the ratio the policy reports over the same steps.
 */
import type { Engine } from "../api/engine.js";
import { neuronByteShare } from "../model/sparse-ffn.js";
import { GateSampler, KeptCounter, searchKeep, type KeepTrial } from "../skip/calibrate-sparse.js";
import { orderedGroups, sortWithinBlocks } from "../skip/neuron-order.js";
import { SparsePolicy } from "../skip/sparse.js";
import { measure, type CalibSet } from "./calib.js";

export interface SparseCalibration {
  thresholds: number[];
  best: KeepTrial;
  trials: KeepTrial[];
}

/**
 * Thresholds reaching `target` (share of FFN bytes saved) on `set`, the first `warmup` generated tokens dense.
 * `groupSize` 4: the neurons drop in groups of 4 on the group's mean |act(gate)| (SparseOptions.groupSize), in file
 * order or along `orders` (one per layer, within the down projection's blocks: neuron-order.ts).
 */
export function calibrateSparse(
  engine: Engine,
  set: CalibSet,
  target: number,
  warmup: number,
  log = (_: string) => {},
  groupSize = 1,
  orders?: Int32Array[],
): SparseCalibration {
  const L = engine.config.nLayers;
  if (orders && groupSize !== 4) throw new Error("calibrate ffn-sparse: a neuron order needs groups of 4");
  const sampler = new GateSampler(L, warmup, groupSize, orders);
  const grouped = orders ? { groups: orderedGroups(orders) } : groupSize === 4 ? { groupSize } : {};
  measure(engine, set, sampler);
  const layers = engine.model.weights.layers;
  const share = layers.reduce((a, w) => a + neuronByteShare(w.w1, w.w2, w.w3), 0) / L;
  const { best, trials } = searchKeep(target, share, (keep) => {
    const m = measure(engine, set, new SparsePolicy(L, { warmup, thresholds: sampler.thresholdsAt(keep), ...grouped }));
    log(
      `calibrate ffn-sparse: keep ${(keep * 100).toFixed(2)}% → ratio ${(m.ratio * 100).toFixed(2)}%, agreement ${(m.agreement * 100).toFixed(1)}%`,
    );
    return { keep, ratio: m.ratio, agreement: m.agreement };
  });
  return { thresholds: sampler.thresholdsAt(best.keep), best, trials };
}

/**
 * ffn-sparse's neuron order for groups of 4 (neuron-order.ts): per layer, each 32-neuron block's neurons sorted by how
 * often they are kept, neuron by neuron, at `thresholds` (from calibrateSparse with groupSize 1 at the same target) over
 * the set's decode steps, rarest first; groups of 4 along it then hold neurons that are dropped together.
 */
export function sortedNeuronOrder(engine: Engine, set: CalibSet, thresholds: number[], warmup: number): Int32Array[] {
  const counter = new KeptCounter(engine.config.nLayers, warmup, thresholds, engine.config.ffnDim);
  measure(engine, set, counter);
  return counter.kept.map((k) => sortWithinBlocks(k));
}
