/**
 * ffn-prune's calibration statistics (src/skip/calibrate-prune.ts): the dense
 * model is fed the calibration prompts and their sampled dense continuations
 * one token at a time, and per layer it sums each neuron's h_i² (the down
 * projection's input), the FFN contribution's energy (as added to the
 * residual) and the residual's energy entering the FFN; ‖W2[:, i]‖² comes
 * from the down projection's rows (through the kernels, whatever their layout).
 */
import type { Engine } from "../api/engine.js";
import { PolicyWrapper } from "../skip/wrapper.js";

export interface PruneStats {
  /** per layer and neuron, Σ h_i² over the samples */
  hsq: Float64Array[];
  /** per layer and neuron, ‖W2[:, i]‖² */
  col2: Float64Array[];
  /** per layer, Σ ‖FFN output as added‖² and Σ ‖residual before it‖² */
  outEnergy: Float64Array;
  residEnergy: Float64Array;
  samples: number;
}

export function pruneStats(engine: Engine, seqs: readonly number[][], skipFirst = 4): PruneStats {
  const model = engine.model,
    { nLayers: L, ffnDim: F, dim } = engine.config;
  const hsq = Array.from({ length: L }, () => new Float64Array(F));
  const outEnergy = new Float64Array(L),
    residEnergy = new Float64Array(L);
  let pos = 0,
    samples = 0;
  const energy = (m: Float32Array, at: number, n: number) => {
    let s = 0;
    for (let i = at; i < at + n; i++) s += m[i] * m[i];
    return s;
  };
  const collector = new (class extends PolicyWrapper {
    override get wantsFFNHidden(): boolean {
      return true;
    }
    override get wantsFFNOutput(): boolean {
      return true;
    }
    override observeFFNHidden(layer: number, m: Float32Array, at: number, n: number): void {
      if (pos < skipFirst) return;
      const h = hsq[layer];
      for (let i = 0; i < n; i++) h[i] += m[at + i] * m[at + i];
    }
    override observeFFNOutput(layer: number, m: Float32Array, at: number, d: number, hAt: number): void {
      if (pos < skipFirst) return;
      outEnergy[layer] += energy(m, at, d);
      residEnergy[layer] += energy(m, hAt, d);
    }
  })(engine.policy({ method: "none" }));
  for (const ids of seqs) {
    collector.reset();
    model.kv.truncate(0);
    for (pos = 0; pos < ids.length; pos++) {
      model.forward([ids[pos]], pos, { policy: collector, phase: "prompt", logits: "none" });
      if (pos >= skipFirst) samples++;
    }
  }
  // ‖W2[:, i]‖²: the down projection's rows, read through each layer's kernels
  const col2 = Array.from({ length: L }, () => new Float64Array(F));
  for (const S of model.shards) {
    const K = S.kernels,
      row = K.heap.alloc(F * 4, 16);
    for (let l = S.first; l < S.end; l++) {
      const w2 = model.weights.layers[l].w2;
      for (let r = 0; r < dim; r++) {
        K.getRow(w2, r, row);
        const v = K.heap.f32(row, F);
        for (let i = 0; i < F; i++) col2[l][i] += v[i] * v[i];
      }
    }
  }
  return { hsq, col2, outEnergy, residEnergy, samples };
}
