/**
 * Continuous batching through the library on SmolLM2: a greedy request
 * gives the same tokens alone or beside three others (dense, FFN-SkipLLM
 * from the shipped 25% profile, random skipping, the guarded, linear, prune and compact profiles), concurrent calls really
 * share steps, an aborted or abandoned sequence frees its slot at once,
 * and the slots are reused by queued requests.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { loadModel, type Engine, type RunOptions } from "../../src/api/engine.js";
import { readSkipProfile } from "../../src/skip/skip-profile.js";
import type { SkipConfig } from "../../src/skip/config.js";
import { ROOT, SMOLLM2, missing, needs } from "../helpers/paths.js";
import { join } from "node:path";

const PROMPTS = [
  "The capital of France is",
  "Once upon a time, in a small village by the sea,",
  "def fibonacci(n):",
  "List three primary colors:",
];
const TOKENS = 12;

let engine: Engine | undefined;
before(async () => {
  if (missing(SMOLLM2)) return;
  // a prompt chunk of 4 makes every prompt above go in several chunks beside decoding rows
  engine = await loadModel(SMOLLM2, { threads: 1, ctx: 256, parallel: 4, promptChunk: 4 });
});
after(async () => {
  await engine?.dispose();
});

const SKIPS: [string, () => SkipConfig][] = [
  ["dense", () => ({ method: "none" })],
  ["ffn-skip (25% profile)", () => readSkipProfile(join(ROOT, "profiles", "smollm2-135m-instruct-25.json"), 30).config],
  ["random", () => ({ method: "random", warmup: 1, k: 4, seed: 3 })],
  // keeps per-sequence state (the running mean of each layer's FFN outputs) that must not leak between rows
  [
    "ffn-skip-guarded (25% profile, running-mean stand-in)",
    () => readSkipProfile(join(ROOT, "profiles", "smollm2-135m-instruct-guarded-25.json"), 30).config,
  ],
  // adds a low-rank map of each skipped row's own input: per-row work, scratch per policy
  [
    "ffn-skip-linear (25% profile, low-rank stand-in)",
    () => readSkipProfile(join(ROOT, "profiles", "smollm2-135m-instruct-linear-25.json"), 30).config,
  ],
  // compact FFN copies: the rows that run the same copy in a layer go through it as one batch (Model.compactRows)
  ["ffn-prune (25% profile)", () => readSkipProfile(join(ROOT, "profiles", "smollm2-135m-instruct-prune-25.json"), 30).config],
  ["ffn-skip-compact (25% profile)", () => readSkipProfile(join(ROOT, "profiles", "smollm2-135m-instruct-compact-25.json"), 30).config],
];

for (const [name, skip] of SKIPS) {
  test(`greedy tokens are the same alone and beside three others: ${name}`, async (t) => {
    if (needs(t, SMOLLM2)) return;
    const e = engine!;
    const opts = (): RunOptions => ({ maxTokens: TOKENS, temperature: 0, ignoreEog: true, skip: skip() });
    const alone = [];
    for (const p of PROMPTS) alone.push(await e.generate(p, opts()));
    const steps0 = e.batch.stats.steps;
    const together = await Promise.all(PROMPTS.map((p) => e.generate(p, opts())));
    // they shared steps: far fewer than one step per token each
    const steps = e.batch.stats.steps - steps0;
    assert.ok(steps < (PROMPTS.length * TOKENS) / 2, `${steps} steps for ${PROMPTS.length} × ${TOKENS} tokens`);
    for (let i = 0; i < PROMPTS.length; i++) {
      assert.deepEqual(together[i].tokens, alone[i].tokens, `prompt ${i}`);
      assert.equal(together[i].text, alone[i].text);
      assert.equal(together[i].skip.skipped_ffn, alone[i].skip.skipped_ffn, `prompt ${i}: the same FFNs skipped`);
    }
    if (name !== "dense")
      assert.ok(
        alone.some((r) => r.skip.skipped_ffn > 0),
        "the policy skipped something",
      );
  });
}

test("the batch gives the same tokens as the single-sequence loop", async (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const { generateStream } = await import("../../src/generate/generate.js");
  const ids = e.encodePrompt(PROMPTS[1]);
  const it = generateStream(e.model, e.tokenizer, ids, { maxTokens: TOKENS, temperature: 0, ignoreEog: true, policy: e.policy() });
  let r = await it.next();
  while (!r.done) r = await it.next();
  const batched = await e.generate({ tokens: ids }, { maxTokens: TOKENS, temperature: 0, ignoreEog: true });
  assert.deepEqual(batched.tokens, r.value.tokens);
});

test("an aborted or abandoned sequence frees its slot at once; queued requests take the slots", async (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const ctl = new AbortController();
  const long = { maxTokens: 200, temperature: 0, ignoreEog: true };
  // four long ones fill the slots; a fifth waits
  const aborted = e.generate(PROMPTS[0], { ...long, signal: ctl.signal });
  const abandonedIt = e.stream(PROMPTS[1], long);
  const others = [e.generate(PROMPTS[2], { ...long, maxTokens: 30 }), e.generate(PROMPTS[3], { ...long, maxTokens: 30 })];
  await abandonedIt.next(); // the second has produced text: all four are admitted
  assert.equal(e.batch.freeSlots, 0);
  const fifth = e.generate(PROMPTS[0], { maxTokens: 4, temperature: 0, ignoreEog: true });
  assert.equal(e.batch.queued, 1);
  ctl.abort();
  const a = await aborted;
  assert.equal(a.finish_reason, "aborted");
  assert.ok(a.tokens.length < 200);
  // the freed slot went to the fifth request, which finishes while the other long ones still run
  const f = await fifth;
  assert.equal(f.tokens.length, 4);
  await abandonedIt.return(undefined as never); // the consumer stops reading
  const rest = await Promise.all(others);
  assert.deepEqual(
    rest.map((r) => r.tokens.length),
    [30, 30],
  );
  assert.equal(e.batch.running, 0);
  assert.equal(e.batch.freeSlots, 4);
});

test("one policy object in two concurrent generations is refused", async (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const p = e.policy({ method: "none" });
  const first = e.generate(PROMPTS[0], { maxTokens: 3, skip: p });
  await assert.rejects(e.generate(PROMPTS[1], { maxTokens: 3, skip: p }), /already in use by another running generation/);
  await first;
});

test('prefill "first" (a prompt chunk gets its own step) gives the same tokens as alone', async (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const { Batch } = await import("../../src/generate/batch.js");
  // a second batch over the same model, used while the engine's own is idle
  const b = new Batch(e.model, e.tokenizer, { chunk: 4, prefill: "first" });
  const run = async (p: string) => {
    const it = b.stream(e.encodePrompt(p), { maxTokens: TOKENS, temperature: 0, ignoreEog: true, policy: e.policy() });
    let r = await it.next();
    while (!r.done) r = await it.next();
    return r.value.tokens;
  };
  const alone = [];
  for (const p of PROMPTS) alone.push(await run(p));
  assert.deepEqual(await Promise.all(PROMPTS.map(run)), alone);
});

test("the engine holds exactly `parallel` KV caches; perplexity borrows a free one while generations run", async (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  assert.equal(e.model.kv.slots, 4, "no extra slot for the single-sequence paths");
  const TEXT = "The quick brown fox jumps over the lazy dog because it was in a hurry to get home.";
  const idle = e.perplexity(TEXT);
  const opts = { maxTokens: TOKENS, temperature: 0, ignoreEog: true };
  const alone = [];
  for (const p of PROMPTS.slice(0, 3)) alone.push((await e.generate(p, opts)).tokens);
  // three decode, one slot is free: perplexity runs between two steps in it
  const its = PROMPTS.slice(0, 3).map((p) => e.stream(p, opts));
  await Promise.all(its.map((it) => it.next()));
  assert.equal(e.batch.freeSlots, 1);
  const busy = e.perplexity(TEXT);
  assert.deepEqual(busy.nll, idle.nll, "the same scores in whichever slot");
  assert.equal(e.batch.freeSlots, 1, "the borrowed slot is given back");
  const drain = async (it: AsyncGenerator<string, { tokens: number[] }>) => {
    let r = await it.next();
    while (!r.done) r = await it.next();
    return r.value.tokens;
  };
  // the generations did not notice
  assert.deepEqual(await Promise.all(its.map(drain)), alone);
  // every slot decoding: a clear refusal, and the batch goes on
  const four = PROMPTS.map((p) => e.stream(p, { ...opts, maxTokens: 40 }));
  await Promise.all(four.map((it) => it.next()));
  assert.equal(e.batch.freeSlots, 0);
  assert.throws(() => e.perplexity(TEXT), /all 4 KV cache slots are in use by running generations/);
  await Promise.all(four.map(drain));
  assert.equal(e.batch.freeSlots, 4);
});
