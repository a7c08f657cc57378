/**
 * Speed measurement of a loaded engine: prompt tok/s (batched), decode tok/s
 * (one token at a time, greedy, ignoring end-of-generation so every run
 * decodes the same count), and the weight bytes actually read per token.
 */
import type { Engine, SkipSpec } from "./engine.js";
import { argmax } from "../generate/sampling.js";
import { prefill } from "../model/prefill.js";

export interface BenchOptions {
  promptTokens: number;
  genTokens: number;
  skip?: SkipSpec;
  /** prompt token ids; default: a fixed English text cycled to length */
  prompt?: number[];
}

export interface BenchResult {
  prompt_tokens: number;
  gen_tokens: number;
  prompt_ms: number;
  decode_ms: number;
  prompt_tok_per_s: number;
  decode_tok_per_s: number;
  /** weight bytes read per decoded token, skipped FFNs excluded */
  weight_bytes_per_token: number;
  /** weight bytes per token ÷ decode time per token */
  decode_gb_per_s: number;
  skip: ReturnType<import("../skip/policy.js").SkipPolicy["stats"]>;
}

const TEXT =
  "The history of the city begins with a small settlement on the river, where traders met to exchange grain, " +
  "salt and cloth. Over the centuries the town grew into a regional centre, with a market, a cathedral and a " +
  "university that attracted scholars from distant countries. ";

/** A prompt of exactly n token ids from a fixed text. */
export function benchPrompt(engine: Engine, n: number): number[] {
  const base = engine.tokenizer.encode(TEXT, { addSpecial: false });
  const out: number[] = [];
  if (engine.tokenizer.addBos && engine.tokenizer.bos !== null) out.push(engine.tokenizer.bos);
  while (out.length < n) out.push(base[out.length % base.length]);
  return out.slice(0, n);
}

export function benchmark(engine: Engine, o: BenchOptions): BenchResult {
  const model = engine.model;
  const prompt = o.prompt ?? benchPrompt(engine, o.promptTokens);
  if (prompt.length + o.genTokens > model.ctx)
    throw new Error(`prompt ${prompt.length} + gen ${o.genTokens} tokens exceed the context ${model.ctx}`);
  if (o.genTokens < 1) throw new Error("bench needs at least 1 generated token");
  const policy = engine.policy(o.skip);
  policy.reset();
  model.kv.truncate(0);
  const t0 = performance.now();
  let logits: Float32Array | null = prefill(model, prompt, policy);
  const promptMs = performance.now() - t0;
  let tok = argmax(logits!);
  const t1 = performance.now();
  for (let i = 0; i < o.genTokens; i++) {
    logits = model.forward([tok], prompt.length + i, { policy, phase: "decode", genIndex: i, logits: "last" });
    tok = argmax(logits!);
  }
  const decodeMs = performance.now() - t1;
  return result(engine, prompt.length, o.genTokens, promptMs, decodeMs, policy.stats());
}

function result(
  engine: Engine,
  promptTokens: number,
  genTokens: number,
  promptMs: number,
  decodeMs: number,
  skip: BenchResult["skip"],
): BenchResult {
  const { total, ffnPerLayer } = engine.weightBytes;
  // bytes per token: everything, minus the FFNs the policy skipped (averaged over the decoded tokens)
  const meanFfn = ffnPerLayer.reduce((a, b) => a + b, 0) / ffnPerLayer.length;
  const skippedPerToken = (skip.skipped_ffn * meanFfn) / genTokens;
  const bytes = total - skippedPerToken;
  return {
    prompt_tokens: promptTokens,
    gen_tokens: genTokens,
    prompt_ms: promptMs,
    decode_ms: decodeMs,
    prompt_tok_per_s: (promptTokens * 1000) / promptMs,
    decode_tok_per_s: (genTokens * 1000) / decodeMs,
    weight_bytes_per_token: bytes,
    decode_gb_per_s: bytes / (decodeMs / genTokens) / 1e6,
    skip,
  };
}

/**
 * Decode speed of several skip configs side by side: each decodes its own
 * sequence in its own KV cache slot, and they take turns token by token, the
 * order rotating every token. A shared machine's drift (which moves
 * back-to-back runs of a few seconds by ±25% on our VMs) then falls on all
 * configs alike within milliseconds, so the ratio of their decode times is
 * far steadier than that of separate runs. With `block` > 1 each turn is that
 * many tokens. The engine needs `parallel` ≥ the
 * number of configs (a load option). Prompts are prefilled one config after
 * another; `undefined` in `skips` is dense.
 */
export function benchmarkInterleaved(
  engine: Engine,
  o: Omit<BenchOptions, "skip"> & {
    skips: (SkipSpec | undefined)[];
    /** tokens a config decodes per turn (default 1); longer turns let its own working set settle in the caches */
    block?: number;
  },
): BenchResult[] {
  const model = engine.model;
  const n = o.skips.length;
  if (n > model.kv.slots)
    throw new Error(`interleaved bench: ${n} configs need ${n} KV cache slots, the model has ${model.kv.slots} (load with parallel: ${n})`);
  const prompt = o.prompt ?? benchPrompt(engine, o.promptTokens);
  if (prompt.length + o.genTokens > model.ctx)
    throw new Error(`prompt ${prompt.length} + gen ${o.genTokens} tokens exceed the context ${model.ctx}`);
  if (o.genTokens < 1) throw new Error("bench needs at least 1 generated token");
  const block = o.block ?? 1;
  if (!Number.isInteger(block) || block < 1) throw new Error(`interleaved bench: block must be an integer ≥ 1, got ${block}`);
  const policies = o.skips.map((s) => engine.policy(s));
  const promptMs = new Float64Array(n);
  const decodeMs = new Float64Array(n);
  const tok = policies.map((policy, c) => {
    policy.reset();
    model.kv.truncate(0, c);
    const t0 = performance.now();
    const logits = prefill(model, prompt, policy, c);
    promptMs[c] = performance.now() - t0;
    return argmax(logits);
  });
  for (let b = 0; b * block < o.genTokens; b++)
    for (let j = 0; j < n; j++) {
      const c = (b + j) % n;
      const t0 = performance.now();
      for (let i = b * block; i < Math.min((b + 1) * block, o.genTokens); i++) {
        const logits = model.forward([tok[c]], prompt.length + i, {
          policy: policies[c],
          phase: "decode",
          genIndex: i,
          logits: "last",
          slot: c,
        });
        tok[c] = argmax(logits!);
      }
      decodeMs[c] += performance.now() - t0;
    }
  return policies.map((p, c) => result(engine, prompt.length, o.genTokens, promptMs[c], decodeMs[c], p.stats()));
}
