/**
 * Run one traced generation and arrange the per-step records as rows of a
 * tokens × layers grid for the viewer.
 *
 * Row i is the forward pass that *produced* generated token i: row 0 is the
 * last prompt batch (whose last position predicts token 0), row i > 0 the
 * decode step that consumed token i-1. A generation that ends on an
 * end-of-generation token has one more row, for the step that produced it.
 */
import type { Engine, Prompt, RunOptions } from "../api/engine.js";
import type { GenerateStats, FinishReason } from "../generate/generate.js";
import type { LayerMode, SkipStats } from "../skip/policy.js";
import { withTrace, type StepRecord } from "../skip/trace.js";

export interface TraceRow {
  /** the token this step produced (its text; "" for the end-of-generation row) */
  text: string;
  id: number | null;
  phase: "prompt" | "decode";
  /** per layer: cosine of the FFN, null when it did not run */
  cos: (number | null)[];
  /** per layer: whether the FFN ran */
  ran: boolean[];
  mode: LayerMode[];
  /** FFNs not run in this step */
  skipped: number;
  /** whether the step counts toward the skip ratio (decode, after warm-up) */
  counted: boolean;
}

export interface TraceView {
  model: string;
  prompt: string;
  nLayers: number;
  rows: TraceRow[];
  text: string;
  finish_reason: FinishReason;
  stats: GenerateStats;
  skip: SkipStats;
  /** how the run was configured, for the page header */
  settings: Record<string, unknown>;
}

/** Generate with `opts.skip` wrapped in a trace recorder and return the grid. */
export async function runTrace(
  engine: Engine,
  prompt: Prompt,
  opts: RunOptions = {},
  meta: { model?: string; settings?: Record<string, unknown> } = {},
): Promise<TraceView> {
  const L = engine.config.nLayers;
  const traced = withTrace(engine.policy(opts.skip), L);
  const res = await engine.generate(prompt, { ...opts, skip: traced });
  const recs = traced.records;
  const last = recs.length ? recs[recs.length - 1].seq : 0;
  const mine = recs.filter((r) => r.seq === last);
  const promptLast = [...mine].reverse().find((r) => r.phase === "prompt");
  const steps: StepRecord[] = [...(promptLast ? [promptLast] : []), ...mine.filter((r) => r.phase === "decode")];
  // per-token text through a stream decoder: a multi-byte character lands on the token that completes it
  const dec = engine.tokenizer.createStreamDecoder();
  const rows: TraceRow[] = steps.map((r, i) => {
    const id = i < res.tokens.length ? res.tokens[i] : null;
    return {
      text: id === null ? "" : dec.push(id),
      id,
      phase: r.phase,
      cos: r.cos.map((c) => (Number.isFinite(c) ? c : null)),
      ran: [...r.ran],
      mode: [...r.mode],
      skipped: r.ran.filter((x) => !x).length,
      counted: r.counted,
    };
  });
  const tail = dec.flush();
  if (tail && rows.length) rows[Math.min(rows.length, res.tokens.length) - 1].text += tail;
  const promptText =
    typeof prompt === "string"
      ? prompt
      : "messages" in prompt
        ? prompt.messages.map((m) => `${m.role}: ${m.content}`).join("\n")
        : engine.tokenizer.decode(prompt.tokens);
  return {
    model: meta.model ?? engine.path.replace(/^.*[\\/]/, ""),
    prompt: promptText,
    nLayers: L,
    rows,
    text: res.text,
    finish_reason: res.finish_reason,
    stats: res.stats,
    skip: res.skip,
    settings: meta.settings ?? {},
  };
}
