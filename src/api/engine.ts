/**
 * The library's public face: load a model once, then generate, stream,
 * chat and score with any skip policy.
 */
import { loadModelPath, type LoadOptions, type Loaded } from "../model/load.js";
import { resolveModel } from "../models/resolve.js";
import type { PullOptions } from "../models/pull.js";
import { generateStream, type GenerateOptions, type GenerateResult } from "../generate/generate.js";
import { perplexity, type PerplexityResult } from "../generate/perplexity.js";
import { BUILTIN_TEMPLATES, ChatTemplate, type ChatMessage } from "../generate/chat-template.js";
import type { SamplingOptions } from "../generate/sampling.js";
import type { SkipPolicy } from "../skip/policy.js";
import { createPolicy, type SkipConfig } from "../skip/config.js";
import { bytesPerToken } from "../model/weights.js";
import { Batch } from "../generate/batch.js";

export interface LoadModelOptions extends LoadOptions, EngineOptions {
  /** progress lines while a model alias is downloaded */
  onProgress?: PullOptions["onProgress"];
  /** cache folder for pulled models */
  home?: string;
}

export interface EngineOptions {
  /** prompt tokens a new generation feeds per batch step while others decode (default 32; see Batch) */
  promptChunk?: number;
  /** whether a prompt chunk shares a step with decoding rows ("mixed", default) or gets its own ("first"); see Batch */
  prefill?: "mixed" | "first";
}

/** A skip method given as a config (see `src/skip/config.ts`) or a ready policy object. */
export type SkipSpec = SkipConfig | SkipPolicy;

export interface RunOptions extends SamplingOptions {
  maxTokens?: number;
  stop?: string[];
  skip?: SkipSpec;
  signal?: AbortSignal;
  onToken?: GenerateOptions["onToken"];
  /** keep generating through end-of-generation tokens (benchmarks, parity tests) */
  ignoreEog?: boolean;
  /** per-token log-probabilities with this many alternatives per position (see `GenerateOptions.logprobs`) */
  logprobs?: number;
  /** with `logprobs`, score the prompt too (see `GenerateOptions.scorePrompt`) */
  scorePrompt?: boolean;
}

/**
 * What to condition on: plain text, a conversation rendered with the model's
 * chat template, or token ids as they are.
 */
export type Prompt = string | { messages: ChatMessage[] } | { tokens: number[] };

function isPolicy(s: SkipSpec): s is SkipPolicy {
  return typeof (s as SkipPolicy).runFFN === "function";
}

/**
 * Concurrent `stream` / `generate` calls share one batch (continuous
 * batching, src/generate/batch.ts): up to `parallel` (a load option) decode
 * together, the rest wait for a slot.
 */
export class Engine {
  private chatTemplate: ChatTemplate | null | undefined;
  /** the continuous batch every generation goes through */
  readonly batch: Batch;

  constructor(
    readonly loaded: Loaded,
    opts: EngineOptions = {},
  ) {
    this.batch = new Batch(loaded.model, loaded.tokenizer, { chunk: opts.promptChunk, prefill: opts.prefill });
  }

  get config() {
    return this.loaded.config;
  }
  get tokenizer() {
    return this.loaded.tokenizer;
  }
  get model() {
    return this.loaded.model;
  }
  get path() {
    return this.loaded.path;
  }

  /** Bytes of weights read per generated token, and per layer's FFN. */
  get weightBytes() {
    return bytesPerToken(this.loaded.model.weights);
  }

  /**
   * Build what a skip method needs before its first step: ffn-prune's and ffn-skip-compact's compact FFN copies
   * (otherwise built on the first pruned step, 0.3–1 s on SmolLM2-135M). Returns the bytes those copies take.
   */
  prepareSkip(skip?: SkipSpec): number {
    const p = this.policy(skip);
    return p.compactLists ? this.loaded.model.buildCompact(p.compactLists()) : 0;
  }

  /** A policy object for a skip spec (dense when absent). */
  policy(skip?: SkipSpec): SkipPolicy {
    if (skip === undefined) return createPolicy({ method: "none" }, this.config.nLayers);
    return isPolicy(skip) ? skip : createPolicy(skip, this.config.nLayers);
  }

  /** The model's chat template, or an error saying it has none. */
  template(): ChatTemplate {
    if (this.chatTemplate === undefined) {
      const src = this.loaded.metadata["tokenizer.chat_template"] ?? BUILTIN_TEMPLATES[this.config.arch];
      const tk = this.tokenizer;
      const piece = (id: number | null) => (id === null ? "" : tk.tokenToPiece(id));
      this.chatTemplate = typeof src === "string" ? new ChatTemplate(src, { bos_token: piece(tk.bos), eos_token: piece(tk.eos) }) : null;
    }
    if (!this.chatTemplate) throw new Error(`${this.path} has no chat template (tokenizer.chat_template); use a plain text prompt`);
    return this.chatTemplate;
  }

  /** Token ids for a prompt (with BOS per the model, special tokens parsed in chat renderings). */
  encodePrompt(prompt: Prompt): number[] {
    if (typeof prompt === "string") return this.tokenizer.encode(prompt, { addSpecial: true, parseSpecial: false });
    if ("tokens" in prompt) return [...prompt.tokens];
    const text = this.template().render(prompt.messages);
    // the rendered template already contains BOS where the model wants one
    return this.tokenizer.encode(text, { addSpecial: false, parseSpecial: true });
  }

  /**
   * Stream text chunks; the return value carries the full result and stats.
   * Runs in the shared batch, except prompt scoring (`scorePrompt`), which
   * runs alone between batches.
   */
  async *stream(prompt: Prompt, opts: RunOptions = {}): AsyncGenerator<string, GenerateResult> {
    const ids = this.encodePrompt(prompt);
    const { skip, ...rest } = opts;
    const run = { ...rest, policy: this.policy(skip) };
    if (!opts.scorePrompt || opts.logprobs === undefined) return yield* this.batch.stream(ids, run);
    const release = await this.batch.acquire();
    try {
      return yield* generateStream(this.model, this.tokenizer, ids, run);
    } finally {
      release();
    }
  }

  /** Generate to the end and return the result. */
  async generate(prompt: Prompt, opts: RunOptions = {}): Promise<GenerateResult> {
    const it = this.stream(prompt, opts);
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
    }
  }

  /** Teacher-forced perplexity of text (or token ids); skipping policies run token by token. */
  perplexity(input: string | number[], opts: { maxTokens?: number; skip?: SkipSpec } = {}): PerplexityResult {
    let ids = typeof input === "string" ? this.tokenizer.encode(input, { addSpecial: true }) : input;
    if (opts.maxTokens !== undefined) ids = ids.slice(0, opts.maxTokens);
    const policy = this.policy(opts.skip);
    // synchronous, so it runs between two batch steps in a slot no generation holds
    const slot = this.batch.borrowSlot();
    try {
      return perplexity(this.model, ids, policy, policy.method !== "none", slot);
    } finally {
      this.batch.giveBack(slot);
    }
  }

  /** Release the worker threads. */
  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

/**
 * Load a model: a path to a .gguf file or a Hugging Face model directory, an alias (downloaded on first use),
 * or nothing for the default model.
 */
export async function loadModel(spec?: string, opts: LoadModelOptions = {}): Promise<Engine> {
  const path = await resolveModel(spec, { onProgress: opts.onProgress, home: opts.home });
  return new Engine(await loadModelPath(path, opts), opts);
}
