/**
 * Multiple-choice scoring by log-likelihood, with the skip policy active as
 * if the continuation were being decoded.
 *
 * The rule (docs/eval-knowledge.md):
 * - the pair is split as lm-evaluation-harness splits it: trailing spaces of
 *   the context move to the continuation; the context is tokenized alone
 *   (with the model's BOS), the continuation's tokens are those of
 *   context + continuation after the context's token count;
 * - the context is the prompt: one prefill in prompt batches (skip methods
 *   do not skip there; layer-drop's removed layers stay removed), done ONCE
 *   per item — every choice rewinds the KV cache to the end of the context;
 * - continuation token 0 is scored from the prefill's last logits, exactly
 *   as the first generated token would come from them; continuation token
 *   j ≥ 1 is scored from the decode step that feeds token j − 1 with
 *   genIndex j − 1. A policy skips in the steps with genIndex ≥ its warm-up,
 *   so `decoded` (continuation tokens predicted by such steps) is
 *   max(0, n − 1 − warm-up): a one-token answer is never scored under skipping.
 * - the policy is reset before each choice (each choice is its own decode).
 */
import type { Engine } from "../api/engine.js";
import { scoreRow } from "../generate/perplexity.js";
import { prefill } from "../model/prefill.js";
import type { SkipPolicy } from "../skip/policy.js";

export interface ChoiceScore {
  /** Σ log p(continuation token | everything before) */
  logprob: number;
  /** continuation tokens */
  tokens: number;
  /** continuation tokens predicted by decode steps after the policy's warm-up */
  decoded: number;
  /** every continuation token was the model's top token */
  greedy: boolean;
}

export interface ChoicesResult {
  choices: ChoiceScore[];
  contextTokens: number;
  skipped_ffn: number;
  total_ffn: number;
}

/** Token ids of context and of each continuation, split as the harness splits a loglikelihood request. */
export function splitPairs(
  encode: (text: string) => number[],
  context: string,
  continuations: readonly string[],
): { context: number[]; continuations: number[][] } {
  const spaces = context.length - context.trimEnd().length;
  const ctx = context.slice(0, context.length - spaces),
    moved = context.slice(context.length - spaces);
  const ctxIds = encode(ctx);
  const conts = continuations.map((c, i) => {
    const whole = encode(ctx + moved + c);
    const ids = whole.slice(ctxIds.length);
    if (ids.length === 0) throw new Error(`choice ${i} (${JSON.stringify(c)}) has no tokens after the context`);
    return ids;
  });
  return { context: ctxIds, continuations: conts };
}

export function scoreChoices(engine: Engine, context: string, continuations: readonly string[], policy: SkipPolicy): ChoicesResult {
  const model = engine.model,
    V = engine.config.vocabSize;
  const { context: ctx, continuations: conts } = splitPairs(
    (t) => engine.tokenizer.encode(t, { addSpecial: true, parseSpecial: false }),
    context,
    continuations,
  );
  const longest = Math.max(...conts.map((c) => c.length));
  if (ctx.length + longest > model.ctx)
    throw new Error(`context ${ctx.length} + continuation ${longest} tokens exceed the context of ${model.ctx}; use a larger --ctx`);
  policy.reset();
  model.kv.truncate(0);
  // the prefill's last logits give every choice's first token; copied, the heap view is reused
  const first = prefill(model, ctx, policy).slice(0, V);
  let skipped = 0,
    total = 0;
  const choices = conts.map((ids) => {
    policy.reset();
    model.kv.truncate(ctx.length);
    const r0 = scoreRow(first, 0, V, ids[0]);
    let logprob = r0.logp,
      greedy = r0.top === ids[0];
    for (let j = 0; j + 1 < ids.length; j++) {
      const logits = model.forward([ids[j]], ctx.length + j, { policy, phase: "decode", genIndex: j, logits: "last" })!;
      const r = scoreRow(logits, 0, V, ids[j + 1]);
      logprob += r.logp;
      greedy &&= r.top === ids[j + 1];
    }
    const s = policy.stats();
    skipped += s.skipped_ffn;
    total += s.total_ffn;
    return { logprob, tokens: ids.length, decoded: s.tokens ?? 0, greedy };
  });
  return { choices, contextTokens: ctx.length, skipped_ffn: skipped, total_ffn: total };
}
