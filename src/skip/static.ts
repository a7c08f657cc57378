/**
 * Static baseline: one fixed set of FFNs (chosen offline on calibration data
 * and given as a list) is skipped for every decode token after warm-up.
 */
import { BasePolicy, layerMask } from "./base.js";

export interface StaticOptions {
  warmup: number;
  /** layers whose FFN is skipped */
  layers: number[];
}

export class StaticPolicy extends BasePolicy {
  readonly method = "static";
  readonly wantsCosine = false;
  private readonly skip: Uint8Array;

  constructor(nLayers: number, o: StaticOptions) {
    super(nLayers, o.warmup);
    this.skip = layerMask(nLayers, o.layers);
  }

  protected override decideFFN(layer: number): boolean {
    return !(this.active && this.skip[layer] === 1);
  }
}
