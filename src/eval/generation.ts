/**
 * Shared pieces of the open-ended generation tasks (summarization,
 * conversation): greedy chat generation with FFN counts, and the
 * collapse metrics over a set of answers.
 */
import type { Engine } from "../api/engine.js";
import type { GenerateResult } from "../generate/generate.js";
import type { ChatMessage } from "../generate/chat-template.js";
import { distinctN, isLooping } from "./collapse.js";
import { mean, type RunContext } from "./task.js";

export interface ChatTurn {
  text: string;
  tokens: number;
  finish: string;
  skipped_ffn: number;
  total_ffn: number;
}

/** One greedy reply to `messages` through the chat template. */
export async function chatReply(engine: Engine, messages: ChatMessage[], maxTokens: number, ctx: RunContext): Promise<ChatTurn> {
  const r = await engine.generate({ messages }, { temperature: 0, maxTokens, skip: ctx.policy, signal: ctx.signal });
  return { text: r.text, tokens: r.tokens.length, finish: r.finish_reason, skipped_ffn: r.skip.skipped_ffn, total_ffn: r.skip.total_ffn };
}

/**
 * Generated tokens predicted by decode steps after the warm-up, i.e. under
 * the skip policy (the first token comes from the prefill, the warm-up's
 * from dense steps). The policy also counts the step that picked an
 * end-of-generation token, which is not among the answer's tokens.
 */
export function decodedTokens(r: Pick<GenerateResult, "skip" | "eog">): number {
  return Math.max(0, (r.skip.tokens ?? 0) - (r.eog ? 1 : 0));
}

/**
 * Collapse over answers: share ending in a repeated n-gram loop, mean
 * distinct-2, share that hit the token limit, mean length in words.
 */
export function collapseMetrics(answers: readonly { text: string; finish: string }[]): Record<string, number> {
  const n = answers.length;
  if (n === 0) return { loop_rate: NaN, distinct2: NaN, hit_limit: NaN, words: NaN };
  return {
    loop_rate: answers.filter((a) => isLooping(a.text)).length / n,
    distinct2: mean(answers.map((a) => distinctN(a.text, 2))),
    hit_limit: answers.filter((a) => a.finish === "length").length / n,
    words: mean(answers.map((a) => a.text.split(/\s+/).filter(Boolean).length)),
  };
}
