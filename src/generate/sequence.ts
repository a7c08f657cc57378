/**
 * One generation's state between forward steps: sampler, stop strings,
 * streaming detokenizer, the tokens so far and their log-probabilities.
 * The single-sequence loop (generate.ts) and the batch (batch.ts) both feed
 * it each step's logits, so what a sequence emits does not depend on which
 * loop ran it.
 */
import type { Model } from "../model/model.js";
import type { Tokenizer, StreamDecoder } from "../tokenizer/types.js";
import type { SkipPolicy } from "../skip/policy.js";
import { createSampler, type Sampler } from "./sampling.js";
import { StopMatcher } from "./stop.js";
import { scoreRow } from "./perplexity.js";
import type { FinishReason, GenerateOptions, GenerateResult, TokenLogprobs } from "./generate.js";

/** Tokens per second, 0 when nothing was timed. */
const rate = (n: number, ms: number) => (ms > 0 ? (n * 1000) / ms : 0);

/** Check a request against the model before anything runs; returns the token limit (maxTokens bounded by the context). */
export function tokenLimit(model: Model, promptIds: readonly number[], maxTokens: number | undefined): number {
  if (promptIds.length === 0) throw new Error("empty prompt: nothing to condition on (the tokenizer produced no tokens)");
  if (promptIds.length >= model.ctx) {
    throw new Error(
      `prompt of ${promptIds.length} tokens does not fit in the context of ${model.ctx} tokens (use a shorter prompt or a larger --ctx)`,
    );
  }
  const max = maxTokens ?? 256;
  if (!Number.isInteger(max) || max < 0) throw new RangeError(`max tokens must be an integer ≥ 0, got ${maxTokens}`);
  return Math.min(max, model.ctx - promptIds.length);
}

export class Sequence {
  readonly limit: number;
  readonly policy: SkipPolicy;
  readonly out: number[] = [];
  /** with `logprobs` */
  readonly lp: TokenLogprobs | undefined;
  /** set when the sequence has ended */
  finish: FinishReason | null = null;
  /** ended on an end-of-generation token (see GenerateResult.eog) */
  eog = false;
  /** decode steps run (forward calls after the prompt) */
  decodeSteps = 0;
  promptMs = 0;
  decodeMs = 0;
  private readonly sampler: Sampler;
  private readonly stop: StopMatcher;
  private readonly decoder: StreamDecoder;
  private readonly history: number[];
  private readonly raw: Float32Array | null;
  private text = "";
  /** generated tokens handed to the detokenizer (the rest may still be taken back) */
  private emitted = 0;
  private readonly lookBehind: number;

  constructor(
    model: Model,
    private readonly tokenizer: Tokenizer,
    readonly promptIds: readonly number[],
    private readonly opts: GenerateOptions,
  ) {
    this.limit = tokenLimit(model, promptIds, opts.maxTokens);
    this.sampler = createSampler(opts);
    this.stop = new StopMatcher(opts.stop ?? []);
    this.decoder = tokenizer.createStreamDecoder();
    this.history = [...promptIds];
    this.policy = opts.policy;
    this.lookBehind = this.policy.lookBehind ?? 0;
    this.lp = opts.logprobs === undefined ? undefined : { tokens: [], logprobs: [], top: [], promptTokens: 0 };
    this.raw = this.lp ? new Float32Array(model.config.vocabSize) : null;
  }

  /** The last generated token: the one to feed next. */
  get lastToken(): number {
    return this.out[this.out.length - 1];
  }

  /**
   * The logits after the last fed token: sample the next token and return the
   * text it completes ("" while a stop string or a UTF-8 sequence is pending).
   * Sets `finish` when the sequence ends (end-of-generation token, stop
   * string, token limit); otherwise `lastToken` is to be fed next. A policy
   * with a loop rewind (SkipPolicy.takeBack) may take trailing tokens back:
   * then `lastToken` is an earlier one, fed again at its own position, and the
   * text of the last `lookBehind` tokens is held back until it is final.
   */
  accept(logits: Float32Array): string {
    if (this.out.length >= this.limit) {
      this.finish = "length";
      return "";
    }
    // the sampler edits logits in place (penalties, bias): log-probs come from a copy of the raw ones
    if (this.raw) this.raw.set(logits);
    const id = this.sampler.sample(logits, this.history);
    if (this.lp && this.raw) {
      const r = scoreRow(this.raw, 0, this.raw.length, id, this.opts.logprobs);
      this.lp.tokens.push(id);
      this.lp.logprobs.push(r.logp);
      this.lp.top.push(r.best);
    }
    if (!this.opts.ignoreEog && this.tokenizer.eogIds.has(id)) {
      this.finish = "stop";
      this.eog = true;
      return "";
    }
    this.out.push(id);
    this.history.push(id);
    const back = this.policy.takeBack?.(this.out) ?? 0;
    if (back > 0) {
      this.drop(this.out.length - back);
      return "";
    }
    const emit = this.release(this.out.length - this.lookBehind);
    if (!this.finish && this.out.length >= this.limit) this.finish = "length";
    return emit;
  }

  /** Keep only the first `n` generated tokens (and their log-probabilities). */
  private drop(n: number): void {
    const cut = this.out.length - n;
    if (cut <= 0) return;
    this.out.length = n;
    this.history.length -= cut;
    if (this.lp) for (const a of [this.lp.tokens, this.lp.logprobs, this.lp.top]) a.length -= cut;
  }

  /** Hand generated tokens up to index `upto` to the detokenizer and stop matcher; a stop string ends the sequence there. */
  private release(upto: number): string {
    let text = "";
    // a stop string drops the tokens after it (held back by the look-behind), which ends the loop
    while (this.emitted < Math.min(upto, this.out.length)) {
      const { emit, stopped } = this.stop.push(this.decoder.push(this.out[this.emitted++]));
      text += emit;
      if (stopped) {
        this.finish = "stop";
        this.drop(this.emitted);
      }
    }
    this.text += text;
    return text;
  }

  /** End the sequence (`reason` unless it already ended) and return the text still held back, if it ended without a stop string. */
  end(reason: FinishReason = "length"): string {
    this.finish ??= reason;
    // tokens held back for a possible take-back are final now (none are left after a stop string)
    const held = this.release(this.out.length);
    if (this.finish === "stop") return held;
    const tail = this.stop.push(this.decoder.flush());
    const rest = tail.stopped ? tail.emit : tail.emit + this.stop.flush();
    this.text += rest;
    return held + rest;
  }

  /** The whole result (after `end`). */
  result(): GenerateResult {
    const n = this.promptIds.length;
    return {
      text: this.text,
      tokens: this.out,
      finish_reason: this.finish ?? "length",
      eog: this.eog,
      stats: {
        prompt_tokens: n,
        generated_tokens: this.out.length,
        prompt_ms: this.promptMs,
        decode_ms: this.decodeMs,
        prompt_tok_per_s: rate(n, this.promptMs),
        decode_tok_per_s: rate(this.decodeSteps, this.decodeMs),
      },
      skip: this.policy.stats(),
      ...(this.lp ? { logprobs: this.lp } : {}),
    };
  }
}
