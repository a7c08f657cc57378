/**
 * ffn-skip-layerwise: FFN-SkipLLM with one cosine threshold PER LAYER instead
 * of one global τ (issue 16, "per-layer thresholds"). Everything else is
 * FFN-SkipLLM's (the class extends ffn-skip.ts's, whose decisions it keeps): per decode token after warm-up,
 * in the middle layers [coldStart, L − coldEnd), when the FFN computed in the
 * layer just before layer l gave cos(h, h + FFN) > taus[l], the FFNs of layers
 * l .. l + k − 1 are skipped (the window stops at the cold end); the layer
 * after a window runs and is checked again.
 *
 * `taus[l]` is the threshold for OPENING A WINDOW AT LAYER l (it is compared
 * with the cosine of layer l − 1's FFN). Entries of cold layers are ignored.
 * With every entry equal to τ the decisions are exactly ffn-skip's with that τ
 * (layerwise.test.ts checks this).
 *
 * How the thresholds are found (calibrate-layerwise.ts): the dense model's
 * per-layer damage — KL(dense ‖ skip layer l alone) of the next-token
 * distribution at each calibration token — gives each layer a sensitivity
 * w_l (KL per unit of cosine gap 1 − cos_{l−1}); taus[l] = 1 − c · (w̄ / w_l)^α
 * with one global knob c bisected to the target ratio, so a layer whose
 * skipping costs more needs a higher cosine.
 */
import { FfnSkipPolicy } from "./ffn-skip.js";

export interface LayerwiseOptions {
  /** generated tokens that run dense first */
  warmup: number;
  /** first layers whose FFN always runs */
  coldStart: number;
  /** last layers whose FFN always runs */
  coldEnd: number;
  /** per layer l (length = layers): the cosine of layer l − 1 must exceed it to open a window at l; > 1 never */
  taus: number[];
  /** FFNs skipped per window */
  k: number;
  /** skip windows allowed per token (undefined = no limit) */
  maxWindows?: number;
}

/** FFN-SkipLLM's decisions (ffn-skip.ts) with the window-opening threshold looked up per layer. */
export class LayerwiseSkipPolicy extends FfnSkipPolicy {
  override readonly method = "ffn-skip-layerwise";
  private readonly taus: Float64Array;

  constructor(nLayers: number, o: LayerwiseOptions) {
    // tau is never read: threshold() below replaces it
    super(nLayers, { warmup: o.warmup, coldStart: o.coldStart, coldEnd: o.coldEnd, tau: NaN, k: o.k, maxWindows: o.maxWindows });
    if (o.taus.length !== nLayers)
      throw new Error(`ffn-skip-layerwise: taus has ${o.taus.length} entries, the model has ${nLayers} layers`);
    this.taus = Float64Array.from(o.taus);
  }

  /** as in ffn-skip, only the FFN of the layer just before may open a window, against THIS layer's threshold */
  protected override threshold(layer: number): number {
    return this.taus[layer];
  }
}
