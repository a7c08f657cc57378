/**
 * FFN-SkipLLM with guards (this project's method, not the paper's; see
 * docs/method.md). The skip decision inside a token is FFN-SkipLLM's — a
 * cosine above tau in the layer before opens a window of k skipped FFNs in
 * the middle layers — and three additions decide around it:
 *
 * - loop guard (`guard` = n-gram length, 0 = off): when the last `guard`
 *   input tokens already occurred as a run among the recent decode tokens,
 *   the next `hold` tokens run dense. Skipping on a small model makes it fall
 *   into repetition loops; dense compute where repetition starts is where
 *   the budget is worth spending.
 * - confidence gate (`minConf`, 0 = off): a token may skip only when the
 *   previous step's top-1 probability was at least minConf (consecutive
 *   confidences are correlated, and a confident step is an easy one).
 * - stand-in (`standIn`): a skipped FFN's output is replaced by a cheap
 *   estimate instead of zero: 1 = the same layer's output for the previous
 *   token that computed it, 2 = the running mean of this sequence's outputs
 *   of that layer. It costs dim floats per layer of state and one vector add,
 *   no weight bytes.
 *
 * Ratios are counted as for every method (counter.ts): dense guard steps
 * count as tokens that skipped nothing.
 */
import { BasePolicy } from "./base.js";
import type { StepInfo } from "./policy.js";

export interface GuardedOptions {
  warmup: number;
  coldStart: number;
  coldEnd: number;
  tau: number;
  k: number;
  /** loop guard n-gram length (0 = off) */
  guard: number;
  /** dense tokens after the loop guard fires */
  hold: number;
  /** lowest top-1 probability of the previous step that allows skipping (0 = off) */
  minConf: number;
  /** 0 = none, 1 = previous token's output of the layer, 2 = running mean of the layer's outputs */
  standIn: number;
}

/** How far back the loop guard looks for an earlier copy of the last n-gram, in tokens. */
export const GUARD_LOOKBACK = 128;

/** top-1 probability of a logit row (softmax), skipping terms below e^-30 of the top. */
export function topProbability(logits: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] > max) max = logits[i];
  let sum = 0;
  const floor = max - 30;
  for (let i = 0; i < logits.length; i++) if (logits[i] > floor) sum += Math.exp(logits[i] - max);
  return 1 / sum;
}

/** Whether the last n entries of `hist` occur as a contiguous run earlier within the last `lookback` entries. */
export function endsInRepeat(hist: readonly number[], n: number, lookback = GUARD_LOOKBACK): boolean {
  const len = hist.length;
  if (n < 1 || len < n + 1) return false;
  const tail = len - n;
  for (let s = Math.max(0, len - lookback); s < tail; s++) {
    let j = 0;
    while (j < n && hist[s + j] === hist[tail + j]) j++;
    if (j === n) return true;
  }
  return false;
}

export class GuardedSkipPolicy extends BasePolicy {
  readonly method = "ffn-skip-guarded";
  readonly wantsCosine = true;
  readonly wantsFFNOutput: boolean;
  private readonly o: GuardedOptions;
  private readonly middleEnd: number;
  /** decode input tokens of this sequence (loop guard) */
  private readonly hist: number[] = [];
  private holdLeft = 0;
  /** top-1 probability of the last computed logits (1 before any) */
  private conf = 1;
  /** this token may skip */
  private open = false;
  private windowLeft = 0;
  private lastLayer = -1;
  private lastCos = NaN;
  /** stand-in state: per layer `dim` floats, and how many outputs went into it */
  private store: Float32Array | null = null;
  private readonly seen: Float64Array;
  /** tokens the guard / gate kept dense (after warm-up) */
  guardedTokens = 0;
  gatedTokens = 0;

  constructor(nLayers: number, o: GuardedOptions) {
    super(nLayers, o.warmup);
    this.o = o;
    this.middleEnd = nLayers - o.coldEnd;
    this.wantsFFNOutput = o.standIn > 0;
    this.seen = new Float64Array(nLayers);
  }

  protected override onBegin(step: StepInfo): void {
    this.windowLeft = 0;
    this.lastLayer = -1;
    this.lastCos = NaN;
    if (step.phase === "decode" && step.token !== undefined && this.o.guard > 0) {
      this.hist.push(step.token);
      if (this.hist.length > 2 * GUARD_LOOKBACK) this.hist.splice(0, this.hist.length - GUARD_LOOKBACK);
      if (endsInRepeat(this.hist, this.o.guard)) this.holdLeft = this.o.hold;
    }
    this.open = this.active && this.o.k > 0;
    if (!this.active) return;
    if (this.holdLeft > 0) {
      this.open = false;
      this.guardedTokens++;
    } else if (this.conf < this.o.minConf) {
      this.open = false;
      this.gatedTokens++;
    }
  }

  protected override decideFFN(layer: number): boolean {
    if (!this.open || layer < this.o.coldStart || layer >= this.middleEnd) return true;
    if (this.windowLeft > 0) {
      this.windowLeft--;
      return false;
    }
    if (this.lastLayer === layer - 1 && this.lastCos > this.o.tau) {
      this.windowLeft = Math.min(this.o.k, this.middleEnd - layer) - 1;
      return false;
    }
    return true;
  }

  protected override onObserve(layer: number, cos: number): void {
    this.lastLayer = layer;
    this.lastCos = cos;
  }

  override endStep(): void {
    if (this.active && this.holdLeft > 0) this.holdLeft--;
    super.endStep();
  }

  observeLogits(logits: Float32Array): void {
    if (this.o.minConf > 0) this.conf = topProbability(logits);
  }

  observeFFNOutput(layer: number, m: Float32Array, at: number, dim: number): void {
    if (!this.store) this.store = new Float32Array(this.nLayers * dim);
    const s = this.store,
      base = layer * dim;
    if (this.o.standIn === 1) {
      for (let i = 0; i < dim; i++) s[base + i] = m[at + i];
    } else {
      // running mean: s += (o − s) / count
      const w = 1 / ++this.seen[layer];
      for (let i = 0; i < dim; i++) s[base + i] += (m[at + i] - s[base + i]) * w;
    }
    if (this.o.standIn === 1) this.seen[layer] = 1;
  }

  standIn(layer: number, m: Float32Array, at: number, n: number, dim: number): void {
    if (!this.store || this.seen[layer] === 0) return;
    const s = this.store,
      base = layer * dim;
    for (let t = 0; t < n; t++) {
      const r = at + t * dim;
      for (let i = 0; i < dim; i++) m[r + i] += s[base + i];
    }
  }

  protected override onReset(): void {
    this.hist.length = 0;
    this.holdLeft = 0;
    this.conf = 1;
    this.guardedTokens = 0;
    this.gatedTokens = 0;
    this.seen.fill(0);
    this.store?.fill(0);
  }
}
