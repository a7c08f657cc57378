/**
 * FFN-SkipLLM (Jaiswal et al., EMNLP 2024): input-adaptive skipping of
 * saturated FFN blocks. Attention always runs; only FFNs are skipped.
 *
 * Per decode token after warm-up, in the middle layers [coldStart, L-coldEnd):
 * when the FFN computed in the layer just before gave cos(h, h+FFN) > tau,
 * the FFNs of the next k layers are skipped (the window stops at the cold
 * end). The layer after a window runs and its cosine is checked again, so a
 * token may skip several windows unless `maxWindows` limits it. With
 * `maxWindows: 1` this is the research code's per-token budget (one window of
 * k). A cold-start layer's cosine may open a window starting at coldStart,
 * as in the research code.
 */
import { BasePolicy } from "./base.js";
import type { StepInfo } from "./policy.js";

export interface FfnSkipOptions {
  /** generated tokens that run dense first */
  warmup: number;
  /** first layers whose FFN always runs */
  coldStart: number;
  /** last layers whose FFN always runs */
  coldEnd: number;
  /** cosine threshold; > 1 never skips */
  tau: number;
  /** FFNs skipped per window (used when no schedule) */
  k: number;
  /** k per decode token after warm-up, cycling; 0 = a full-compute token */
  schedule?: number[];
  /** skip windows allowed per token (undefined = no limit) */
  maxWindows?: number;
}

export class FfnSkipPolicy extends BasePolicy {
  readonly method: string = "ffn-skip";
  readonly wantsCosine = true;
  private readonly o: FfnSkipOptions;
  private readonly middleEnd: number;
  /** window length for the current token */
  private kNow = 0;
  /** FFNs still to skip in the open window */
  private windowLeft = 0;
  private windowsLeft = 0;
  /** layer and cosine of the last FFN computed in this step */
  private lastLayer = -1;
  private lastCos = NaN;
  /** the cosine that opened the current window (ffn-skip-compact's tauSkip reads it) */
  protected windowCos = NaN;

  constructor(nLayers: number, o: FfnSkipOptions) {
    super(nLayers, o.warmup);
    this.o = o;
    this.middleEnd = nLayers - o.coldEnd;
  }

  protected override onBegin(_step: StepInfo): void {
    const s = this.o.schedule;
    this.kNow = !this.active ? 0 : s ? s[this.tokenIndex % s.length] : this.o.k;
    this.windowLeft = 0;
    this.windowsLeft = this.o.maxWindows ?? Infinity;
    this.lastLayer = -1;
    this.lastCos = NaN;
    this.windowCos = NaN;
  }

  protected override decideFFN(layer: number): boolean {
    if (this.kNow === 0 || layer < this.o.coldStart || layer >= this.middleEnd) return true;
    if (this.windowLeft > 0) {
      this.windowLeft--;
      return false;
    }
    // Only the FFN of the immediately preceding layer may open a window:
    // after a window it was not computed, so the next layer runs and is checked.
    if (this.lastLayer === layer - 1 && this.lastCos > this.threshold(layer) && this.windowsLeft > 0) {
      this.windowsLeft--;
      this.windowCos = this.lastCos;
      this.windowLeft = Math.min(this.kNow, this.middleEnd - layer) - 1;
      return false;
    }
    return true;
  }

  /** The cosine that opens a window at `layer`: τ (ffn-skip-layerwise gives one per layer). */
  protected threshold(_layer: number): number {
    return this.o.tau;
  }

  protected override onObserve(layer: number, cos: number): void {
    this.lastLayer = layer;
    this.lastCos = cos;
  }
}
