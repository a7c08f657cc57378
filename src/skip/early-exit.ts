/**
 * Early exit (CALM / SkipDecode style), a whole-layer baseline. Per decode
 * token after warm-up the token leaves the stack early: the layers from the
 * exit point up to (not including) the last coldEnd layers are "copy-kv" (the
 * hidden state passes through and their KV entries are filled from it, so
 * later tokens can still attend to this position).
 *
 * Adaptive (CALM): the first layer l ≥ coldStart in the middle whose FFN gives
 * cos > tau is the last one run; layers l+1 .. L-coldEnd-1 are copied.
 * Fixed (SkipDecode): `exitLayers` gives, cycling per token, the first copied
 * layer e; layers e .. L-coldEnd-1 are copied (e = L-coldEnd copies none).
 * The last coldEnd layers always run (0 = exit straight to the final norm).
 */
import { BasePolicy } from "./base.js";
import type { LayerMode, StepInfo } from "./policy.js";

export interface EarlyExitOptions {
  warmup: number;
  coldStart: number;
  coldEnd: number;
  /** cosine threshold for the adaptive exit (ignored when exitLayers is set) */
  tau: number;
  /** fixed exit layer per decode token after warm-up, cycling */
  exitLayers?: number[];
}

export class EarlyExitPolicy extends BasePolicy {
  readonly method = "early-exit";
  readonly wantsCosine: boolean;
  private readonly o: EarlyExitOptions;
  private readonly middleEnd: number;
  /** first copied layer for this token (middleEnd = none) */
  private exitAt = 0;

  constructor(nLayers: number, o: EarlyExitOptions) {
    super(nLayers, o.warmup);
    this.o = o;
    this.middleEnd = nLayers - o.coldEnd;
    this.wantsCosine = o.exitLayers === undefined;
  }

  protected override onBegin(_step: StepInfo): void {
    const e = this.o.exitLayers;
    this.exitAt = this.active && e ? e[this.tokenIndex % e.length] : this.middleEnd;
  }

  protected override decideLayer(layer: number): LayerMode {
    return this.active && layer >= this.exitAt && layer < this.middleEnd ? "copy-kv" : "run";
  }

  protected override onObserve(layer: number, cos: number): void {
    if (!this.active || this.o.exitLayers || this.exitAt < this.middleEnd) return;
    if (layer >= this.o.coldStart && layer < this.middleEnd && cos > this.o.tau) this.exitAt = layer + 1;
  }
}
