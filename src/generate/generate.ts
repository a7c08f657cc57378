/**
 * The generation loop: prompt in batches, then one token at a time —
 * sample, stream, stop at an end-of-generation token, a stop string or the
 * token limit.
 */
import type { Model } from "../model/model.js";
import type { Tokenizer } from "../tokenizer/types.js";
import type { SkipPolicy, SkipStats } from "../skip/policy.js";
import { createSampler, type SamplingOptions } from "./sampling.js";
import { StopMatcher } from "./stop.js";
import { prefill } from "../model/prefill.js";

export interface GenerateOptions extends SamplingOptions {
  /** most tokens to generate; default 256 (bounded by the context) */
  maxTokens?: number;
  /** stop when the text contains one of these (not included in the output) */
  stop?: string[];
  /** skip policy for this generation (default: dense) */
  policy: SkipPolicy;
  /** cancel: generation stops at the next token */
  signal?: AbortSignal;
  /** called after every decode step with the token (for traces) */
  onToken?: (token: number, index: number) => void;
  /** keep generating through end-of-generation tokens */
  ignoreEog?: boolean;
}

export interface GenerateStats {
  prompt_tokens: number;
  generated_tokens: number;
  prompt_ms: number;
  decode_ms: number;
  prompt_tok_per_s: number;
  decode_tok_per_s: number;
}

export type FinishReason = "stop" | "length" | "aborted";

export interface GenerateResult {
  text: string;
  tokens: number[];
  finish_reason: FinishReason;
  stats: GenerateStats;
  skip: SkipStats;
}

/** Tokens per second, 0 when nothing was timed. */
const rate = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);

/**
 * Stream text chunks for `promptIds`; the generator's return value is the
 * full result with stats.
 */
export async function* generateStream(
  model: Model, tokenizer: Tokenizer, promptIds: readonly number[], opts: GenerateOptions,
): AsyncGenerator<string, GenerateResult> {
  if (promptIds.length === 0) throw new Error("empty prompt: nothing to condition on (the tokenizer produced no tokens)");
  if (promptIds.length >= model.ctx) {
    throw new Error(`prompt of ${promptIds.length} tokens does not fit in the context of ${model.ctx} tokens (use a shorter prompt or a larger --ctx)`);
  }
  const maxTokens = opts.maxTokens ?? 256;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new RangeError(`max tokens must be an integer ≥ 0, got ${opts.maxTokens}`);
  const sampler = createSampler(opts);
  const stop = new StopMatcher(opts.stop ?? []);
  const policy = opts.policy;
  policy.reset();
  model.kv.truncate(0);

  // prompt: batches, logits of the last token only
  const t0 = performance.now();
  let logits: Float32Array | null = prefill(model, promptIds, policy);
  const promptMs = performance.now() - t0;

  const history = [...promptIds];
  const out: number[] = [];
  const decoder = tokenizer.createStreamDecoder();
  let text = "";
  let finish: FinishReason = "length";
  let decodeSteps = 0;
  const limit = Math.min(maxTokens, model.ctx - promptIds.length);
  const t1 = performance.now();
  for (let i = 0; i < limit; i++) {
    if (opts.signal?.aborted) { finish = "aborted"; break; }
    const id = sampler.sample(logits!, history);
    if (!opts.ignoreEog && tokenizer.eogIds.has(id)) { finish = "stop"; break; }
    out.push(id);
    history.push(id);
    const { emit, stopped } = stop.push(decoder.push(id));
    if (emit) { text += emit; yield emit; }
    if (stopped) { finish = "stop"; break; }
    if (out.length >= limit) break;
    // the next token's logits; yield to the event loop so cancellation and I/O get a turn
    logits = model.forward([id], promptIds.length + i, { policy, phase: "decode", genIndex: i, logits: "last" });
    decodeSteps++;
    opts.onToken?.(id, i);
    await new Promise<void>((r) => setImmediate(r));
  }
  if (finish !== "stop") {
    const tail = stop.push(decoder.flush());
    const rest = tail.stopped ? tail.emit : tail.emit + stop.flush();
    if (rest) { text += rest; yield rest; }
  }
  const decodeMs = performance.now() - t1;
  return {
    text,
    tokens: out,
    finish_reason: finish,
    stats: {
      prompt_tokens: promptIds.length,
      generated_tokens: out.length,
      prompt_ms: promptMs,
      decode_ms: decodeMs,
      prompt_tok_per_s: rate(promptIds.length, promptMs),
      decode_tok_per_s: rate(decodeSteps, decodeMs),
    },
    skip: policy.stats(),
  };
}
