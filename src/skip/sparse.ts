/**
 * ffn-sparse: this project's method beyond the paper (issue 16). Instead of
 * skipping whole FFN blocks, every FFN runs its gate projection and then
 * keeps only the neurons whose gate is large: neuron i of layer l is dropped
 * when |act(gate_i)| < thresholds[l] (act = SiLU for SwiGLU, GELU for
 * GeGLU), so its up-projection row and down-projection column are not needed
 * (in the masked form computed here they are computed and zeroed: same
 * result; see docs/method.md for what a kernel that skips them would save).
 * Contextual activation sparsity of this kind was shown on 7B models by CATS
 * (Lee et al., 2024) and TEAL (Liu et al., 2024); here it stands beside
 * FFN-SkipLLM at the same share of FFN weight bytes saved.
 *
 * The ratio it reports is that share: per layer and decode token,
 * (dropped neurons ÷ ffnDim) × (up + down bytes ÷ gate + up + down bytes),
 * comparable with FFN-SkipLLM's skipped FFNs ÷ (layers × tokens).
 * Thresholds are calibrated per layer (calibrate-sparse.ts); the prompt and
 * the first `warmup` generated tokens run dense, as in FFN-SkipLLM.
 */
import { BasePolicy } from "./base.js";
import type { NeuronGroups } from "./policy.js";

export interface SparseOptions {
  warmup: number;
  /** per layer, the |act(gate)| below which a neuron is dropped (0: the layer keeps every neuron) */
  thresholds: number[];
  /**
   * Research variant (bench/sparse-layout.ts), not in profiles: per layer, drop neurons in groups along an order
   * (a group drops when its mean |act(gate)| is below the threshold), the granularity a kernel that skips packed
   * weights would need. Absent: neuron by neuron.
   */
  groups?: NeuronGroups[];
  /**
   * 4: every layer drops neurons in groups of 4 in file order (a group drops when its mean |act(gate)| is below the
   * threshold), which the kernels skip without reading (src/model/sparse-ffn.ts RealizedSparseFFN, on Q4_0/Q4_1
   * weights); absent or 1: neuron by neuron (a masked computation, no speed-up).
   */
  groupSize?: number;
}

export class SparsePolicy extends BasePolicy {
  readonly method: string = "ffn-sparse";
  readonly wantsCosine = false;
  protected readonly thresholds: Float64Array;
  private readonly groups: NeuronGroups[] | undefined;

  constructor(nLayers: number, o: SparseOptions) {
    super(nLayers, o.warmup);
    if (o.thresholds.length !== nLayers)
      throw new Error(`ffn-sparse: thresholds has ${o.thresholds.length} entries, the model has ${nLayers} layers`);
    this.thresholds = Float64Array.from(o.thresholds);
    if (o.groups !== undefined && o.groups.length !== nLayers)
      throw new Error(`ffn-sparse: groups has ${o.groups.length} entries, the model has ${nLayers} layers`);
    if (o.groups !== undefined && o.groupSize !== undefined) throw new Error("ffn-sparse: give groups or groupSize, not both");
    if (o.groupSize !== undefined && o.groupSize !== 1 && o.groupSize !== 4)
      throw new Error(`ffn-sparse: groupSize must be 1 or 4, got ${o.groupSize}`);
    this.groups = o.groupSize === 4 ? new Array<NeuronGroups>(nLayers).fill({ size: 4 }) : o.groups;
  }

  neuronGroups(layer: number): NeuronGroups | undefined {
    return this.groups?.[layer];
  }

  neuronThreshold(layer: number): number {
    return this.active ? this.thresholds[layer] : 0;
  }

  observeNeurons(layer: number, _act: Float32Array, _kept: number, savedFraction: number): void {
    if (this.active) this.counter.partial(layer, savedFraction);
  }
}
