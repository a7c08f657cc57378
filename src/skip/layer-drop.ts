/**
 * Layer drop (ShortGPT): a fixed list of layers is removed from the model for
 * every token, the prompt included (no KV entries exist for them). The ratio
 * counts their FFNs as not run over the decode tokens (no warm-up).
 */
import { BasePolicy, layerMask } from "./base.js";
import type { LayerMode } from "./policy.js";

export interface LayerDropOptions {
  /** removed layers */
  layers: number[];
}

export class LayerDropPolicy extends BasePolicy {
  readonly method = "layer-drop";
  readonly wantsCosine = false;
  private readonly removed: Uint8Array;

  constructor(nLayers: number, o: LayerDropOptions) {
    super(nLayers, 0);
    this.removed = layerMask(nLayers, o.layers);
  }

  protected override decideLayer(layer: number): LayerMode {
    return this.removed[layer] === 1 ? "removed" : "run";
  }
}
