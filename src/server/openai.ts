/** OpenAI response shapes for chat and text completions (whole and streamed chunks). */
import type { GenerateResult } from "../generate/generate.js";

/** `usage`, extended with what skipping achieved and the decode speed. */
export function usage(r: GenerateResult) {
  return {
    prompt_tokens: r.stats.prompt_tokens,
    completion_tokens: r.stats.generated_tokens,
    total_tokens: r.stats.prompt_tokens + r.stats.generated_tokens,
    skip_method: r.skip.method,
    skip_ratio: r.skip.ratio,
    skipped_ffn: r.skip.skipped_ffn,
    total_ffn: r.skip.total_ffn,
    decode_tok_per_s: r.stats.decode_tok_per_s,
    prompt_tok_per_s: r.stats.prompt_tok_per_s,
  };
}

export type Kind = "chat" | "completion";

export interface Ids { id: string; created: number; model: string }

export function finishReason(r: GenerateResult): "stop" | "length" {
  return r.finish_reason === "stop" ? "stop" : "length";
}

export function wholeResponse(kind: Kind, ids: Ids, r: GenerateResult) {
  const base = { id: ids.id, created: ids.created, model: ids.model, system_fingerprint: null };
  return kind === "chat"
    ? { ...base, object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: r.text, refusal: null }, logprobs: null, finish_reason: finishReason(r) }], usage: usage(r) }
    : { ...base, object: "text_completion", choices: [{ index: 0, text: r.text, logprobs: null, finish_reason: finishReason(r) }], usage: usage(r) };
}

/** One streamed chunk: text (`delta`), the closing one (`finish` set), or the usage-only one. */
export function chunk(kind: Kind, ids: Ids, part: { text?: string; first?: boolean; finish?: "stop" | "length"; usage?: ReturnType<typeof usage> }) {
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
  return { ...base, object: "text_completion", choices: [{ index: 0, text: part.text ?? "", logprobs: null, finish_reason: finish }] };
}
