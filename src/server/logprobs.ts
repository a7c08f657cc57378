/**
 * OpenAI's legacy completions `logprobs` object from the engine's per-token
 * log-probabilities: `tokens` (each token's text), `token_logprobs`,
 * `top_logprobs` (per position a {token text: logprob} dict of the most likely
 * tokens plus the chosen one, as OpenAI: "up to logprobs+1 elements") and
 * `text_offset` (where each token's text starts in the choice's text).
 */
import type { TokenLogprobs } from "../generate/generate.js";
import type { Tokenizer } from "../tokenizer/types.js";

export interface LegacyLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

/**
 * Text of `ids` decoded incrementally, with the offset at which each token's
 * text starts (a token that completes a multi-byte character starts where the
 * character does, after the tokens that began it).
 */
export function decodeWithOffsets(tk: Tokenizer, ids: readonly number[], base = 0): { text: string; offsets: number[] } {
  const d = tk.createStreamDecoder();
  let text = "";
  const offsets: number[] = [];
  for (const id of ids) {
    offsets.push(base + text.length);
    text += d.push(id);
  }
  return { text: text + d.flush(), offsets };
}

/**
 * `lp` as OpenAI's legacy object. `echoText` is the decoded prompt placed in
 * front of the generated text (when echoed); generated tokens' offsets count
 * from its end and are capped at the choice text's length (tokens a stop
 * string cut off, or the end-of-generation token, point at the end).
 */
export function legacyLogprobs(tk: Tokenizer, lp: TokenLogprobs, choiceText: string): LegacyLogprobs {
  const prompt = lp.tokens.slice(0, lp.promptTokens);
  const gen = lp.tokens.slice(lp.promptTokens);
  const p = decodeWithOffsets(tk, prompt);
  const g = decodeWithOffsets(tk, gen, p.text.length);
  const piece = (id: number) => tk.decode([id]);
  const top_logprobs = lp.top.map((best, i) => {
    if (best === null) return null;
    const d: Record<string, number> = {};
    for (const b of best) {
      const k = piece(b.id);
      if (!(k in d)) d[k] = b.logprob;
    }
    // the chosen token is always listed (OpenAI: up to logprobs + 1 entries)
    const k = piece(lp.tokens[i]);
    if (!(k in d)) d[k] = lp.logprobs[i]!;
    return d;
  });
  return {
    tokens: lp.tokens.map(piece),
    token_logprobs: lp.logprobs,
    top_logprobs,
    text_offset: [...p.offsets, ...g.offsets].map((o) => Math.min(o, choiceText.length)),
  };
}
