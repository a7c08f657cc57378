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
import { scoreRow, scoreTokens, type TopToken } from "./perplexity.js";

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
  /**
   * record each generated token's log-probability and the `logprobs` most
   * likely tokens at its position (0: only the chosen token's); off when absent
   */
  logprobs?: number;
  /**
   * also score the prompt (with `logprobs`): every prompt token's
   * log-probability given those before it. Dense, the prompt goes in batches
   * as usual. Under a skipping policy it goes token by token on the decode
   * path, "as if decoded": the policy's warm-up counts from the first prompt
   * token, it decides on every later one, and generation continues from that
   * state — the same definition as `perplexity` with a policy.
   */
  scorePrompt?: boolean;
}

/**
 * Per-token log-probabilities from the model's own distribution (log-softmax
 * of the raw logits, before penalties, logit bias and temperature).
 */
export interface TokenLogprobs {
  /** the prompt's ids (when scored), then the generated ones — including an end-of-generation token that ended the generation */
  tokens: number[];
  /** log p(token | everything before it); null for the first prompt token, which has no context */
  logprobs: (number | null)[];
  /** the most likely tokens at each position, best first; null where `logprobs` is */
  top: (TopToken[] | null)[];
  /** how many of `tokens` are the prompt (0 unless scored) */
  promptTokens: number;
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
  /** with `logprobs` */
  logprobs?: TokenLogprobs;
}

/** Tokens per second, 0 when nothing was timed. */
const rate = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);

/**
 * Stream text chunks for `promptIds`; the generator's return value is the
 * full result with stats.
 */
export async function* generateStream(
  model: Model,
  tokenizer: Tokenizer,
  promptIds: readonly number[],
  opts: GenerateOptions,
): AsyncGenerator<string, GenerateResult> {
  if (promptIds.length === 0) throw new Error("empty prompt: nothing to condition on (the tokenizer produced no tokens)");
  if (promptIds.length >= model.ctx) {
    throw new Error(
      `prompt of ${promptIds.length} tokens does not fit in the context of ${model.ctx} tokens (use a shorter prompt or a larger --ctx)`,
    );
  }
  const maxTokens = opts.maxTokens ?? 256;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new RangeError(`max tokens must be an integer ≥ 0, got ${opts.maxTokens}`);
  const sampler = createSampler(opts);
  const stop = new StopMatcher(opts.stop ?? []);
  const policy = opts.policy;
  policy.reset();
  model.kv.truncate(0);

  const nTop = opts.logprobs;
  const lp: TokenLogprobs | undefined = nTop === undefined ? undefined : { tokens: [], logprobs: [], top: [], promptTokens: 0 };
  // decode steps count from here: after the prompt, or after a prompt scored "as if decoded"
  let genBase = 0;
  const t0 = performance.now();
  let logits: Float32Array | null;
  if (lp && opts.scorePrompt) {
    const stepwise = policy.method !== "none";
    const s = scoreTokens(model, promptIds, policy, { stepwise, top: nTop, keepLast: true });
    logits = s.last;
    lp.tokens.push(...promptIds);
    lp.logprobs.push(null, ...s.logp);
    lp.top.push(null, ...s.best.slice(0, -1));
    lp.promptTokens = promptIds.length;
    if (stepwise) genBase = promptIds.length;
  } else {
    // prompt: batches, logits of the last token only
    logits = prefill(model, promptIds, policy);
  }
  const promptMs = performance.now() - t0;
  const raw = lp ? new Float32Array(model.config.vocabSize) : null;

  const history = [...promptIds];
  const out: number[] = [];
  const decoder = tokenizer.createStreamDecoder();
  let text = "";
  let finish: FinishReason = "length";
  let decodeSteps = 0;
  const limit = Math.min(maxTokens, model.ctx - promptIds.length);
  const t1 = performance.now();
  for (let i = 0; i < limit; i++) {
    if (opts.signal?.aborted) {
      finish = "aborted";
      break;
    }
    // the sampler edits logits in place (penalties, bias): log-probs come from a copy of the raw ones
    if (raw) raw.set(logits!);
    const id = sampler.sample(logits!, history);
    if (lp && raw) {
      const r = scoreRow(raw, 0, raw.length, id, nTop);
      lp.tokens.push(id);
      lp.logprobs.push(r.logp);
      lp.top.push(r.best);
    }
    if (!opts.ignoreEog && tokenizer.eogIds.has(id)) {
      finish = "stop";
      break;
    }
    out.push(id);
    history.push(id);
    const { emit, stopped } = stop.push(decoder.push(id));
    if (emit) {
      text += emit;
      yield emit;
    }
    if (stopped) {
      finish = "stop";
      break;
    }
    if (out.length >= limit) break;
    // the next token's logits; yield to the event loop so cancellation and I/O get a turn
    logits = model.forward([id], promptIds.length + i, { policy, phase: "decode", genIndex: genBase + i, logits: "last" });
    decodeSteps++;
    opts.onToken?.(id, i);
    await new Promise<void>((r) => setImmediate(r));
  }
  if (finish !== "stop") {
    const tail = stop.push(decoder.flush());
    const rest = tail.stopped ? tail.emit : tail.emit + stop.flush();
    if (rest) {
      text += rest;
      yield rest;
    }
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
    ...(lp ? { logprobs: lp } : {}),
  };
}
