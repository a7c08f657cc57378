/**
 * Random baseline: the same budget as FFN-SkipLLM but input-blind. Each
 * decode token after warm-up skips a contiguous block of k FFNs placed
 * uniformly at random inside the middle layers [coldStart, L-coldEnd).
 * The PRNG is reseeded on reset(), so a sequence replays identically.
 */
import { BasePolicy } from "./base.js";
import type { StepInfo } from "./policy.js";
import { mulberry32 } from "../util/rng.js";

export interface RandomOptions {
  warmup: number;
  coldStart: number;
  coldEnd: number;
  /** block length (used when no schedule); must fit in the middle layers */
  k: number;
  /** k per decode token after warm-up, cycling */
  schedule?: number[];
  seed: number;
}

export class RandomPolicy extends BasePolicy {
  readonly method = "random";
  readonly wantsCosine = false;
  private readonly o: RandomOptions;
  private rng: () => number;
  private blockStart = 0;
  private blockEnd = 0;

  constructor(nLayers: number, o: RandomOptions) {
    super(nLayers, o.warmup);
    this.o = o;
    this.rng = mulberry32(o.seed);
  }

  protected override onBegin(_step: StepInfo): void {
    this.blockStart = this.blockEnd = 0;
    if (!this.active) return;
    const s = this.o.schedule;
    const k = s ? s[this.tokenIndex % s.length] : this.o.k;
    if (k === 0) return;
    const middle = this.nLayers - this.o.coldEnd - this.o.coldStart;
    this.blockStart = this.o.coldStart + Math.floor(this.rng() * (middle - k + 1));
    this.blockEnd = this.blockStart + k;
  }

  protected override decideFFN(layer: number): boolean {
    return layer < this.blockStart || layer >= this.blockEnd;
  }

  protected override onReset(): void {
    this.rng = mulberry32(this.o.seed);
  }
}
