/**
 * The generation loop: prompt in batches, then one token at a time —
 * sample, stream, stop at an end-of-generation token, a stop string or the
 * token limit.
 */
import type { Model } from "../model/model.js";
import type { Tokenizer } from "../tokenizer/types.js";
import type { SkipPolicy, SkipStats } from "../skip/policy.js";
import type { SamplingOptions } from "./sampling.js";
import { prefill } from "../model/prefill.js";
import { scoreTokens, type TopToken } from "./perplexity.js";
import { Sequence } from "./sequence.js";

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
  /** generated ids; an end-of-generation token that ended the generation is not among them */
  tokens: number[];
  finish_reason: FinishReason;
  /**
   * True when generation ended because the model picked an end-of-generation
   * token. The decode step that picked it is counted in `skip` (it ran under
   * the policy) although its token is not in `tokens`.
   */
  eog: boolean;
  stats: GenerateStats;
  skip: SkipStats;
  /** with `logprobs` */
  logprobs?: TokenLogprobs;
}

/**
 * Stream text chunks for `promptIds`; the generator's return value is the
 * full result with stats. Runs alone on the model (KV cache slot 0).
 */
export async function* generateStream(
  model: Model,
  tokenizer: Tokenizer,
  promptIds: readonly number[],
  opts: GenerateOptions,
): AsyncGenerator<string, GenerateResult> {
  const seq = new Sequence(model, tokenizer, promptIds, opts);
  const policy = opts.policy;
  policy.reset();
  model.kv.truncate(0);

  const lp = seq.lp;
  // decode steps count from here: after the prompt, or after a prompt scored "as if decoded"
  let genBase = 0;
  const t0 = performance.now();
  let logits: Float32Array;
  if (lp && opts.scorePrompt) {
    const stepwise = policy.method !== "none";
    const s = scoreTokens(model, promptIds, policy, { stepwise, top: opts.logprobs, keepLast: true });
    logits = s.last!;
    lp.tokens.push(...promptIds);
    lp.logprobs.push(null, ...s.logp);
    lp.top.push(null, ...s.best.slice(0, -1));
    lp.promptTokens = promptIds.length;
    if (stepwise) genBase = promptIds.length;
  } else {
    // prompt: batches, logits of the last token only
    logits = prefill(model, promptIds, policy);
  }
  seq.promptMs = performance.now() - t0;

  const t1 = performance.now();
  for (let i = 0; ; i++) {
    if (opts.signal?.aborted) {
      seq.finish = "aborted";
      break;
    }
    const emit = seq.accept(logits);
    if (emit) yield emit;
    if (seq.finish) break;
    // the next token's logits; yield to the event loop so cancellation and I/O get a turn
    // the fed token's position and index follow the kept tokens (a loop rewind may have taken some back)
    const id = seq.lastToken,
      k = seq.out.length - 1;
    logits = model.forward([id], promptIds.length + k, { policy, phase: "decode", genIndex: genBase + k, logits: "last" })!;
    seq.decodeSteps++;
    opts.onToken?.(id, i);
    await new Promise<void>((r) => setImmediate(r));
  }
  const rest = seq.end();
  if (rest) yield rest;
  seq.decodeMs = performance.now() - t1;
  return seq.result();
}
