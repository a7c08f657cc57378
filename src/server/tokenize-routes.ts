/**
 * vLLM-style tokenizer routes, which lm-evaluation-harness's
 * `tokenizer_backend=remote` (and its `auto` detection) uses so the harness
 * counts tokens with exactly the server's tokenizer:
 *   GET  /tokenizer_info → {bos_token, eos_token, pad_token, chat_template, model_max_length, ...}
 *   POST /tokenize   {"prompt": str, "add_special_tokens"?: bool} → {tokens, count, max_model_len}
 *   POST /detokenize {"tokens": [ids]} → {prompt}
 * As with a Hugging Face tokenizer, special-token text such as "<|im_end|>" in
 * the prompt is read as that token, and decoding renders special tokens.
 */
import type { Engine } from "../api/engine.js";
import { badRequest } from "./errors.js";

export function tokenizerInfo(engine: Engine) {
  const tk = engine.tokenizer;
  const piece = (id: number | null) => (id === null ? null : tk.tokenToPiece(id));
  const template = engine.loaded.metadata["tokenizer.chat_template"];
  return {
    tokenizer_class: "ffnskip",
    bos_token: piece(tk.bos),
    eos_token: piece(tk.eos),
    pad_token: null,
    add_bos_token: tk.addBos,
    add_eos_token: tk.addEos,
    vocab_size: tk.vocabSize,
    model_max_length: engine.model.ctx,
    chat_template: typeof template === "string" ? template : null,
  };
}

export function tokenize(engine: Engine, body: Record<string, unknown>) {
  if (typeof body.prompt !== "string") throw badRequest("prompt must be a string", "prompt");
  const add = body.add_special_tokens ?? true;
  if (typeof add !== "boolean") throw badRequest("add_special_tokens must be a boolean", "add_special_tokens");
  const tokens = engine.tokenizer.encode(body.prompt, { addSpecial: add, parseSpecial: true });
  return { tokens, count: tokens.length, max_model_len: engine.model.ctx };
}

export function detokenize(engine: Engine, body: Record<string, unknown>) {
  const ids = body.tokens;
  const V = engine.tokenizer.vocabSize;
  if (!Array.isArray(ids) || !ids.every((t) => Number.isInteger(t) && t >= 0 && t < V)) {
    throw badRequest(`tokens must be a list of token ids in [0, ${V})`, "tokens");
  }
  return { prompt: engine.tokenizer.decode(ids as number[]) };
}
