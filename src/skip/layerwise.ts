/**
 * ffn-skip-layerwise: FFN-SkipLLM with one cosine threshold PER LAYER instead
 * of one global τ (issue 16, "per-layer thresholds"). Everything else is
 * FFN-SkipLLM's (ffn-skip.ts, left unchanged): per decode token after warm-up,
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
import { BasePolicy } from "./base.js";
import type { StepInfo } from "./policy.js";

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

export class LayerwiseSkipPolicy extends BasePolicy {
  readonly method = "ffn-skip-layerwise";
  readonly wantsCosine = true;
  private readonly o: LayerwiseOptions;
  private readonly taus: Float64Array;
  private readonly middleEnd: number;
  /** FFNs still to skip in the open window */
  private windowLeft = 0;
  private windowsLeft = 0;
  /** layer and cosine of the last FFN computed in this step */
  private lastLayer = -1;
  private lastCos = NaN;

  constructor(nLayers: number, o: LayerwiseOptions) {
    super(nLayers, o.warmup);
    if (o.taus.length !== nLayers)
      throw new Error(`ffn-skip-layerwise: taus has ${o.taus.length} entries, the model has ${nLayers} layers`);
    this.o = o;
    this.taus = Float64Array.from(o.taus);
    this.middleEnd = nLayers - o.coldEnd;
  }

  protected override onBegin(_step: StepInfo): void {
    this.windowLeft = 0;
    this.windowsLeft = this.o.maxWindows ?? Infinity;
    this.lastLayer = -1;
    this.lastCos = NaN;
  }

  /** THE decision of this method: run layer `layer`'s FFN (true) or skip it. */
  protected override decideFFN(layer: number): boolean {
    if (!this.active || this.o.k === 0 || layer < this.o.coldStart || layer >= this.middleEnd) return true;
    if (this.windowLeft > 0) {
      this.windowLeft--;
      return false;
    }
    // as in ffn-skip: only the FFN of the layer just before may open a window, against THIS layer's threshold
    if (this.lastLayer === layer - 1 && this.lastCos > this.taus[layer] && this.windowsLeft > 0) {
      this.windowsLeft--;
      this.windowLeft = Math.min(this.o.k, this.middleEnd - layer) - 1;
      return false;
    }
    return true;
  }

  protected override onObserve(layer: number, cos: number): void {
    this.lastLayer = layer;
    this.lastCos = cos;
  }
}
