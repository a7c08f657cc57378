/** The dense baseline: every layer and FFN runs. Counts all decode tokens. */
import { BasePolicy } from "./base.js";

export class DensePolicy extends BasePolicy {
  readonly method = "none";
  readonly wantsCosine = false;

  constructor(nLayers: number) {
    super(nLayers, 0);
  }
}
