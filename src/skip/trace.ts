/**
 * Tracing decorator: wraps any policy, forwards every call unchanged and
 * records, per step, what each layer did. It forces wantsCosine so the trace
 * has the cosine of every FFN computed (the inner policy's decisions do not
 * depend on being asked for cosines it does not use).
 *
 * Records are plain JSON-able objects; a cosine that was not computed is NaN,
 * which JSON.stringify writes as null.
 */
import type { LayerMode, SkipPolicy, SkipStats, StepInfo } from "./policy.js";

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
  const L = nLayers;
  const records: StepRecord[] = [];
  let seq = 0;
  let cur: StepRecord | null = null;
  let totalBefore = 0;

  const traced: TracedPolicy = {
    inner: policy,
    records,
    get method() {
      return policy.method;
    },
    nLayers: L,
    wantsCosine: true,
    beginStep(step: StepInfo) {
      totalBefore = policy.stats().total_ffn;
      cur = {
        seq,
        phase: step.phase,
        pos: step.pos,
        nTokens: step.nTokens,
        genIndex: step.genIndex,
        counted: false,
        mode: new Array<LayerMode>(L).fill("run"),
        ran: new Array<boolean>(L).fill(false),
        cos: new Array<number>(L).fill(NaN),
      };
      policy.beginStep(step);
    },
    layerMode(layer: number) {
      const m = policy.layerMode(layer);
      if (cur) cur.mode[layer] = m;
      return m;
    },
    runFFN(layer: number) {
      const r = policy.runFFN(layer);
      if (cur) cur.ran[layer] = r;
      return r;
    },
    observeFFN(layer: number, cos: number) {
      if (cur) cur.cos[layer] = cos;
      policy.observeFFN(layer, cos);
    },
    endStep() {
      policy.endStep();
      if (!cur) throw new Error("trace: endStep() without beginStep()");
      // The counter is the inner policy's; the trace learns whether the step
      // counted from its denominator growing, so it stays an independent check.
      cur.counted = policy.stats().total_ffn > totalBefore;
      records.push(cur);
      cur = null;
    },
    reset() {
      policy.reset();
      seq++;
      cur = null;
    },
    stats(): SkipStats {
      return policy.stats();
    },
    clearTrace() {
      records.length = 0;
    },
  };
  return traced;
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
