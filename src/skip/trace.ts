/**
 * Tracing decorator: wraps any policy, forwards every call unchanged (see
 * PolicyWrapper) and records, per step, what each layer did. It forces wantsCosine so the trace
 * has the cosine of every FFN computed (the inner policy's decisions do not
 * depend on being asked for cosines it does not use).
 *
 * Records are plain JSON-able objects; a cosine that was not computed is NaN,
 * which JSON.stringify writes as null.
 */
import type { LayerMode, SkipPolicy, StepInfo } from "./policy.js";
import { PolicyWrapper } from "./wrapper.js";

export interface StepRecord {
  /** sequence number: incremented by every reset() */
  seq: number;
  phase: "prompt" | "decode";
  pos: number;
  nTokens: number;
  genIndex: number;
  /** whether the step counts in the stats (decode token after warm-up) */
  counted: boolean;
  /** per layer */
  mode: LayerMode[];
  /** per layer: the FFN was computed */
  ran: boolean[];
  /** per layer: cos(h, h+FFN) of the step's last token, NaN when not computed */
  cos: number[];
}

export interface TracedPolicy extends SkipPolicy {
  /** the wrapped policy */
  readonly inner: SkipPolicy;
  /** every step recorded so far (prompt and decode), across resets */
  readonly records: StepRecord[];
  /** drop the records (the inner policy is untouched) */
  clearTrace(): void;
}

/**
 * Wrap `policy` so every step is recorded. `nLayers` defaults to the policy's
 * own `nLayers` (set by every built-in policy).
 */
export function withTrace(policy: SkipPolicy, nLayers = policy.nLayers): TracedPolicy {
  if (nLayers === undefined || !Number.isInteger(nLayers) || nLayers <= 0) {
    throw new Error(`withTrace: policy "${policy.method}" does not state nLayers; pass it as the second argument`);
  }
  return new Traced(policy, nLayers);
}

class Traced extends PolicyWrapper implements TracedPolicy {
  readonly records: StepRecord[] = [];
  private seq = 0;
  private cur: StepRecord | null = null;
  private totalBefore = 0;

  constructor(
    inner: SkipPolicy,
    private readonly layers: number,
  ) {
    super(inner);
  }

  override get nLayers(): number {
    return this.layers;
  }
  override get wantsCosine(): boolean {
    return true;
  }

  override beginStep(step: StepInfo): void {
    const L = this.layers;
    this.totalBefore = this.inner.stats().total_ffn;
    this.cur = {
      seq: this.seq,
      phase: step.phase,
      pos: step.pos,
      nTokens: step.nTokens,
      genIndex: step.genIndex,
      counted: false,
      mode: new Array<LayerMode>(L).fill("run"),
      ran: new Array<boolean>(L).fill(false),
      cos: new Array<number>(L).fill(NaN),
    };
    super.beginStep(step);
  }

  override layerMode(layer: number): LayerMode {
    const m = super.layerMode(layer);
    if (this.cur) this.cur.mode[layer] = m;
    return m;
  }

  override runFFN(layer: number): boolean {
    const r = super.runFFN(layer);
    if (this.cur) this.cur.ran[layer] = r;
    return r;
  }

  override observeFFN(layer: number, cos: number): void {
    if (this.cur) this.cur.cos[layer] = cos;
    super.observeFFN(layer, cos);
  }

  override endStep(): void {
    super.endStep();
    if (!this.cur) throw new Error("trace: endStep() without beginStep()");
    // The counter is the inner policy's; the trace learns whether the step
    // counted from its denominator growing, so it stays an independent check.
    this.cur.counted = this.inner.stats().total_ffn > this.totalBefore;
    this.records.push(this.cur);
    this.cur = null;
  }

  override reset(): void {
    super.reset();
    this.seq++;
    this.cur = null;
  }

  clearTrace(): void {
    this.records.length = 0;
  }
}

/** Skip counts recomputed from records (counted steps only), to check stats. */
export function traceCounts(records: StepRecord[]): { skipped_ffn: number; total_ffn: number; ratio: number } {
  let skipped = 0;
  let total = 0;
  for (const r of records) {
    if (!r.counted) continue;
    total += r.ran.length;
    for (const ran of r.ran) if (!ran) skipped++;
  }
  return { skipped_ffn: skipped, total_ffn: total, ratio: total > 0 ? skipped / total : 0 };
}
