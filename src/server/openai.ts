/** OpenAI response shapes for chat and text completions (whole and streamed chunks). */
import type { GenerateResult } from "../generate/generate.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { decodeWithOffsets, legacyLogprobs } from "./logprobs.js";

/**
 * `usage` over one or more generations (a batch), extended with what skipping
 * achieved (Σ skipped ÷ Σ counted FFNs) and the speeds (Σ tokens ÷ Σ time).
 */
export function usage(rs: GenerateResult | GenerateResult[]) {
  const all = Array.isArray(rs) ? rs : [rs];
  const sum = (f: (r: GenerateResult) => number) => all.reduce((a, r) => a + f(r), 0);
  const prompt = sum((r) => r.stats.prompt_tokens),
    completion = sum((r) => r.stats.generated_tokens);
  const skipped = sum((r) => r.skip.skipped_ffn),
    total = sum((r) => r.skip.total_ffn);
  const promptMs = sum((r) => r.stats.prompt_ms),
    decodeMs = sum((r) => r.stats.decode_ms);
  const decodeSteps = sum((r) => (r.stats.decode_tok_per_s * r.stats.decode_ms) / 1000);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    skip_method: all[0].skip.method,
    skip_ratio: all.length === 1 ? all[0].skip.ratio : total > 0 ? skipped / total : 0,
    skipped_ffn: skipped,
    total_ffn: total,
    decode_tok_per_s: all.length === 1 ? all[0].stats.decode_tok_per_s : decodeMs > 0 ? (decodeSteps * 1000) / decodeMs : 0,
    prompt_tok_per_s: all.length === 1 ? all[0].stats.prompt_tok_per_s : promptMs > 0 ? (prompt * 1000) / promptMs : 0,
  };
}

export type Kind = "chat" | "completion";

export interface Ids {
  id: string;
  created: number;
  model: string;
}

export function finishReason(r: GenerateResult): "stop" | "length" {
  return r.finish_reason === "stop" ? "stop" : "length";
}

/** What a completions choice needs besides the result: the prompt (for echo) and the tokenizer. */
export interface ChoiceContext {
  tokenizer: Tokenizer;
  prompts: number[][];
  echo: boolean;
}

function completionChoice(c: ChoiceContext, index: number, r: GenerateResult) {
  const text = (c.echo ? decodeWithOffsets(c.tokenizer, c.prompts[index]).text : "") + r.text;
  const logprobs = r.logprobs ? legacyLogprobs(c.tokenizer, r.logprobs, text) : null;
  return { index, text, logprobs, finish_reason: finishReason(r) };
}

export function wholeResponse(kind: Kind, ids: Ids, rs: GenerateResult[], c?: ChoiceContext) {
  const base = { id: ids.id, created: ids.created, model: ids.model, system_fingerprint: null };
  if (kind === "chat") {
    const r = rs[0];
    return {
      ...base,
      object: "chat.completion",
      choices: [
        { index: 0, message: { role: "assistant", content: r.text, refusal: null }, logprobs: null, finish_reason: finishReason(r) },
      ],
      usage: usage(r),
    };
  }
  if (!c) throw new Error("wholeResponse: completions need the tokenizer and prompts");
  return { ...base, object: "text_completion", choices: rs.map((r, i) => completionChoice(c, i, r)), usage: usage(rs) };
}

/** One streamed chunk: text (`delta`), the closing one (`finish` set), or the usage-only one. */
export function chunk(
  kind: Kind,
  ids: Ids,
  part: { index?: number; text?: string; first?: boolean; finish?: "stop" | "length"; usage?: ReturnType<typeof usage> },
) {
  const base = { id: ids.id, created: ids.created, model: ids.model, system_fingerprint: null };
  if (part.usage) {
    return { ...base, object: kind === "chat" ? "chat.completion.chunk" : "text_completion", choices: [], usage: part.usage };
  }
  const finish = part.finish ?? null;
  if (kind === "chat") {
    const delta: Record<string, string> = {};
    if (part.first) delta.role = "assistant";
    if (part.text !== undefined) delta.content = part.text;
    return { ...base, object: "chat.completion.chunk", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
  }
  return {
    ...base,
    object: "text_completion",
    choices: [{ index: part.index ?? 0, text: part.text ?? "", logprobs: null, finish_reason: finish }],
  };
}
