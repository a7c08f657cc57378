/**
 * ShortGPT's Block Influence: BI_l = 1 − cos(layer input, layer output),
 * averaged over tokens. Layers with the lowest BI change the residual
 * stream least and are the ones layer-drop removes.
 */
import type { SkipPolicy } from "./policy.js";
import { PolicyWrapper } from "./wrapper.js";

export interface InfluencePolicy extends SkipPolicy {
  /** mean BI per layer over the steps observed so far (NaN where none) */
  influence(): number[];
}

/**
 * Wrap `policy` so every step's per-layer input/output cosine is collected
 * (prompt and decode steps alike; the forward pass reports the last token of
 * each step, so token-by-token passes give every token).
 */
export function withBlockInfluence(policy: SkipPolicy, nLayers: number): InfluencePolicy {
  return new BlockInfluence(policy, nLayers);
}

class BlockInfluence extends PolicyWrapper implements InfluencePolicy {
  private readonly sum: Float64Array;
  private readonly count: Float64Array;
  constructor(
    inner: SkipPolicy,
    readonly layers: number,
  ) {
    super(inner);
    this.sum = new Float64Array(layers);
    this.count = new Float64Array(layers);
  }
  override get nLayers(): number {
    return this.layers;
  }
  override get wantsLayerCosine(): boolean {
    return true;
  }
  override observeLayer(l: number, c: number): void {
    this.sum[l] += 1 - c;
    this.count[l]++;
    super.observeLayer(l, c);
  }
  influence(): number[] {
    return Array.from(this.sum, (s, l) => (this.count[l] ? s / this.count[l] : NaN));
  }
}
