/**
 * A model split over several memories (shards) computes exactly what one
 * memory does: same logits, bit for bit, for prompt and decode, with a skip
 * policy active; and a layer that fits no shard is a clear error.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TINY, tinyModel, tinyShardedModel, tinySource } from "../helpers/tiny-model.js";
import { join } from "node:path";
import { HOME, SMOLLM2, needs } from "../helpers/paths.js";
import { createPolicy, type SkipConfig } from "../../src/skip/config.js";
import { planShards } from "../../src/model/shard-plan.js";
import { activationBytes } from "../../src/model/shard.js";
import { KVCache } from "../../src/model/kv-cache.js";
import { weightSizes } from "../../src/model/weights.js";
import { loadModel } from "../../src/api/engine.js";
import type { Model } from "../../src/model/model.js";

const PROMPT = [3, 17, 4, 42, 8, 1, 9];
const CTX = 64,
  BATCH = 16;

/** Prompt logits for every token, then `n` greedy decode steps' logits, under a fresh policy from `cfg`. */
function run(model: Model, cfg: SkipConfig, prompt = PROMPT, n = 8): { logits: Float32Array[]; skipped: number } {
  const policy = createPolicy(cfg, model.config.nLayers);
  policy.reset();
  model.kv.truncate(0);
  const logits: Float32Array[] = [];
  const all = model.forward(prompt, 0, { policy, phase: "prompt", logits: "all" })!.slice();
  logits.push(all);
  let lg = all.subarray(all.length - model.config.vocabSize);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < lg.length; j++) if (lg[j] > lg[best]) best = j;
    lg = model.forward([best], prompt.length + i, { policy, phase: "decode", genIndex: i, logits: "last" })!.slice();
    logits.push(lg);
  }
  return { logits, skipped: policy.stats().skipped_ffn };
}

const POLICIES: SkipConfig[] = [
  { method: "none" },
  { method: "ffn-skip", tau: -1, warmup: 1, coldStart: 1, coldEnd: 1, k: 2 },
  { method: "random", warmup: 1, coldStart: 1, coldEnd: 1, k: 3, seed: 5 },
];

/** A budget that puts every layer in a shard of its own (the first with an untied embedding table), and the output part in one more. */
function perLayerBudget(src = tinySource()): number {
  const sizes = weightSizes(src, TINY);
  const kv = KVCache.layerBytes(CTX, TINY.nKvHeads * TINY.headDim);
  const embed = src.has("output.weight") ? sizes.embed : 0;
  return activationBytes(TINY, BATCH, false) + Math.max(...sizes.layers) + kv + embed + 1000;
}

/** The tiny model with its own output matrix (untied), so the embedding stays in the first shard. */
function untiedSource() {
  const src = tinySource(3);
  const e = src.tensors.get("token_embd.weight")!;
  src.tensors.set("output.weight", { dims: e.dims, data: e.data.map((v) => v * 0.5 + 0.01) });
  return src;
}

test("shard plans: fewest contiguous shards, tied table in the last, output alone when it does not fit", () => {
  const src = tinySource();
  const one = planShards(src, TINY, { ctx: CTX, batchSize: BATCH });
  assert.deepEqual(one.layers, [{ first: 0, end: TINY.nLayers }]);
  const per = planShards(src, TINY, { ctx: CTX, batchSize: BATCH, maxShardBytes: perLayerBudget() });
  // six one-layer shards and a zero-layer one for output norm, tied table and logits
  assert.deepEqual(per.layers, [...Array.from({ length: 6 }, (_, l) => ({ first: l, end: l + 1 })), { first: 6, end: 6 }]);
  assert.equal(per.embed, 6, "the tied embedding/output table is in the last shard");
  assert.ok(per.bytes.every((b) => b <= perLayerBudget()));
  const untied = planShards(untiedSource(), TINY, { ctx: CTX, batchSize: BATCH, maxShardBytes: 2 * perLayerBudget(untiedSource()) });
  assert.equal(untied.embed, 0);
  assert.deepEqual(untied.layers, [
    { first: 0, end: 2 },
    { first: 2, end: 4 },
    { first: 4, end: 6 },
  ]);
});

for (const [what, src] of [
  ["tied", tinySource],
  ["untied", untiedSource],
] as const) {
  test(`tiny model (${what} output): N shards give the same logits as one, bit for bit, under every policy`, () => {
    const whole = tinyModel(src(), CTX, BATCH);
    for (const budget of [2 * perLayerBudget(src()), perLayerBudget(src())]) {
      const split = tinyShardedModel(budget, src(), CTX, BATCH);
      assert.ok(split.shards.length >= 3, `${split.shards.length} shards`);
      for (const cfg of POLICIES) {
        const a = run(whole, cfg),
          b = run(split, cfg);
        if (cfg.method !== "none") assert.ok(a.skipped > 0, `${cfg.method} skipped nothing`);
        assert.equal(b.skipped, a.skipped, cfg.method);
        assert.deepEqual(b.logits, a.logits, `${cfg.method}, ${split.shards.length} shards`);
      }
    }
  });
}

test("a layer larger than one shard's budget is a clear error", () => {
  assert.throws(() => tinyShardedModel(perLayerBudget() / 2), /layer 0 needs [\d.]+ MiB \(\d+ bytes\) .*maxShardBytes/);
  assert.throws(() => tinyShardedModel(5e9), /maxShardBytes must be .* got 5000000000/);
});

const GEMMA = join(HOME, "models", "gemma-3-270m-q4_k_m.gguf");
const REAL: [name: string, path: string, maxShardMiB: number, minShards: number][] = [
  // 30 layers over 3 shards, the tied table with the last layers
  ["SmolLM2-135M", SMOLLM2, 48, 3],
  // all 18 layers in one shard, the 170 MiB tied table (Gemma's 262k vocabulary) alone in a second
  ["Gemma-3-270M", GEMMA, 240, 2],
];

for (const [name, path, maxMib, minShards] of REAL) {
  test(`${name} over ${minShards}+ shards (2 threads) matches one shard (1 thread) bit for bit, prompt and decode, with ffn-skip`, async (t) => {
    if (needs(t, path)) return;
    const whole = await loadModel(path, { threads: 1, ctx: 128 });
    const split = await loadModel(path, { threads: 2, ctx: 128, maxShardBytes: maxMib * 2 ** 20 });
    try {
      assert.equal(whole.model.shards.length, 1);
      assert.ok(split.model.shards.length >= minShards, `${split.model.shards.length} shards`);
      const prompt = whole.encodePrompt("The capital of France is");
      // ffn-skip after a dense first decode step (warm-up 1): dense and skipping steps both checked
      const a = run(whole.model, POLICIES[1], prompt, 5),
        b = run(split.model, POLICIES[1], prompt, 5);
      assert.ok(a.skipped > 0, "ffn-skip skipped nothing");
      assert.equal(b.skipped, a.skipped);
      assert.deepEqual(b.logits, a.logits);
    } finally {
      await whole.dispose();
      await split.dispose();
    }
  });
}
