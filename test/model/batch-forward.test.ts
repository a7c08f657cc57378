/**
 * The batched forward pass (Model.forwardBatch) on the tiny in-memory model:
 * each sequence's logits are the same bit for bit whether it runs alone or
 * beside others with different skip policies (ffn-sparse's dropped neurons
 * and ffn-prune's and ffn-skip-compact's compact FFNs included; the reference kernels compute
 * every row on its own), also split over shards; a layer whose FFN every row
 * skips does not read that FFN's weights, and a row that runs it does not
 * disturb the rows that skip.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TINY, tinySource } from "../helpers/tiny-model.js";
import { createPolicy, type SkipConfig } from "../../src/skip/config.js";
import { Model, type SeqStep } from "../../src/model/model.js";
import { loadWeights, type TensorSource } from "../../src/model/weights.js";
import { planShards } from "../../src/model/shard-plan.js";
import { ReferenceKernels } from "../../src/kernels/reference.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeKeep } from "../../src/skip/neuron-keep.js";

const CTX = 64,
  BATCH = 28,
  SLOTS = 8;

/** The tiny model with `SLOTS` KV cache slots, in one memory or split by `maxShardBytes`. */
function slotted(src: TensorSource = tinySource(), maxShardBytes?: number): Model {
  const plan = planShards(src, TINY, { ctx: CTX, batchSize: BATCH, maxShardBytes, slots: SLOTS });
  const kernels = plan.layers.map(() => new ReferenceKernels());
  const heaps = kernels.map((k) => k.heap);
  const m = new Model(TINY, loadWeights(src, TINY, heaps, plan), kernels, CTX, BATCH, "f16", SLOTS);
  m.tensorSource = () => src; // ffn-prune copies its FFN rows from here
  return m;
}

/** ffn-prune's kept neurons: layers 1 and 4 keep two of their three 32-neuron blocks' worth, the others all */
const KEEP = join(mkdtempSync(join(tmpdir(), "ffnskip-keep-")), "tiny.keep");
const all = Int32Array.from({ length: TINY.ffnDim }, (_, i) => i);
const some = Int32Array.from({ length: 64 }, (_, i) => 3 * (i >> 1) + (i & 1));
writeKeep(KEEP, [all, some, all, all, some, all], TINY.ffnDim);

/** A sequence: its prompt and skip method (decode phase from warm-up 0, so skipping starts at once). */
interface Spec {
  prompt: number[];
  skip: SkipConfig;
}

const SPECS: Spec[] = [
  { prompt: [3, 17, 4, 42, 8], skip: { method: "none" } },
  { prompt: [7, 1, 9], skip: { method: "ffn-skip", tau: -1, warmup: 0, coldStart: 1, coldEnd: 1, k: 2 } },
  { prompt: [11, 2, 30, 5, 6, 12, 19], skip: { method: "random", warmup: 0, coldStart: 1, coldEnd: 1, k: 2, seed: 9 } },
  { prompt: [40], skip: { method: "static", warmup: 0, layers: [2, 3] } },
  { prompt: [13, 21, 8], skip: { method: "ffn-sparse", warmup: 0, thresholds: [0, 0.05, 0.05, 0.05, 0.05, 0] } },
  { prompt: [5, 9, 33, 2], skip: { method: "ffn-prune", warmup: 0, keepFile: KEEP } },
  { prompt: [44, 3], skip: { method: "ffn-skip-compact", tau: -1, warmup: 0, coldStart: 1, coldEnd: 1, k: 2, keepFile: KEEP } },
];

const argmax = (v: Float32Array) => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);

/**
 * Prompt then `steps` greedy decode steps for `specs` (slots 1..), either
 * one sequence per forward call (`together` false) or all in one call per
 * step; returns each sequence's logits per step.
 */
function run(model: Model, specs: Spec[], together: boolean, steps = 6): Float32Array[][] {
  const policies = specs.map((s) => createPolicy(s.skip, TINY.nLayers));
  const out: Float32Array[][] = specs.map(() => []);
  const next: number[] = [];
  policies.forEach((p, i) => {
    p.reset();
    model.kv.truncate(0, i + 1);
  });
  const call = (parts: SeqStep[], idx: number[]) => {
    if (together) {
      const lg = model.forwardBatch(parts);
      idx.forEach((i, j) => out[i].push(lg[j]!.slice()));
    } else parts.forEach((p, j) => out[idx[j]].push(model.forwardBatch([p])[0]!.slice()));
  };
  const idx = specs.map((_, i) => i);
  call(
    specs.map((s, i) => ({ slot: i + 1, tokens: s.prompt, pos: 0, policy: policies[i], phase: "prompt", logits: "last" })),
    idx,
  );
  for (let g = 0; g < steps; g++) {
    idx.forEach((i) => (next[i] = argmax(out[i][out[i].length - 1])));
    call(
      specs.map((s, i) => ({
        slot: i + 1,
        tokens: [next[i]],
        pos: s.prompt.length + g,
        policy: policies[i],
        phase: "decode",
        genIndex: g,
        logits: "last",
      })),
      idx,
    );
  }
  return out;
}

test("rows with different skip policies in one batch give each sequence's logits alone, bit for bit", () => {
  const m = slotted();
  const alone = run(m, SPECS, false);
  const together = run(m, SPECS, true);
  for (let i = 0; i < SPECS.length; i++)
    for (let s = 0; s < alone[i].length; s++)
      assert.deepEqual(together[i][s], alone[i][s], `sequence ${i} (${SPECS[i].skip.method}) step ${s}`);
  // the skipping policies did skip (else the test would not test per-row skipping)
  assert.ok(m.ffnStats.rowsRun < m.ffnStats.rowBlocks);
});

test("the same on a model split over shards, and equal to the one-memory model", () => {
  const one = run(slotted(), SPECS, true);
  const sharded = slotted(tinySource(), 300_000);
  assert.ok(sharded.shards.length > 1, `expected several shards, got ${sharded.shards.length}`);
  const many = run(sharded, SPECS, true);
  for (let i = 0; i < SPECS.length; i++)
    for (let s = 0; s < one[i].length; s++) assert.deepEqual(many[i][s], one[i][s], `sequence ${i} step ${s}`);
});

/** Poison layer 2's gate matrix: any read of it turns the reading row's logits into NaN. */
function poisonLayer2(m: Model): void {
  const w1 = m.weights.layers[2].w1;
  m.kernels.heap.f32(w1.ptr, w1.rows * w1.cols).fill(NaN);
}

test("an FFN that every row skips is not read at all", () => {
  const m = slotted();
  const policies = SPECS.map(() => createPolicy({ method: "static", warmup: 0, layers: [2] }, TINY.nLayers));
  policies.forEach((p) => p.reset());
  // clean prompts (the prompt runs every FFN), then poison and decode
  m.forwardBatch(SPECS.map((s, i) => ({ slot: i + 1, tokens: s.prompt, pos: 0, policy: policies[i], phase: "prompt", logits: "none" })));
  poisonLayer2(m);
  m.resetFfnStats();
  for (let g = 0; g < 3; g++) {
    const lg = m.forwardBatch(
      SPECS.map((s, i) => ({
        slot: i + 1,
        tokens: [g + i],
        pos: s.prompt.length + g,
        policy: policies[i],
        phase: "decode",
        genIndex: g,
        logits: "last",
      })),
    );
    lg.forEach((l, i) => assert.ok(l!.every(Number.isFinite), `sequence ${i} step ${g}`));
  }
  assert.deepEqual(m.ffnStats, {
    blocks: 3 * TINY.nLayers,
    skipped: 3,
    rowBlocks: 3 * TINY.nLayers * SPECS.length,
    rowsRun: 3 * (TINY.nLayers - 1) * SPECS.length,
  });
});

test("decode rows that skip a poisoned FFN stay finite beside a row that runs it", () => {
  const m = slotted();
  const P = [3, 17, 4];
  const pol = (cfg: SkipConfig) => createPolicy(cfg, TINY.nLayers);
  const skipper = pol({ method: "static", warmup: 0, layers: [2] }),
    dense = pol({ method: "none" });
  m.kv.truncate(0, 1);
  m.kv.truncate(0, 2);
  // clean prompts in both slots
  m.forwardBatch([
    { slot: 1, tokens: P, pos: 0, policy: skipper, phase: "prompt", logits: "none" },
    { slot: 2, tokens: P, pos: 0, policy: dense, phase: "prompt", logits: "none" },
  ]);
  poisonLayer2(m);
  m.resetFfnStats();
  const [a, b] = m.forwardBatch([
    { slot: 1, tokens: [5], pos: P.length, policy: skipper, phase: "decode", genIndex: 0, logits: "last" },
    { slot: 2, tokens: [5], pos: P.length, policy: dense, phase: "decode", genIndex: 0, logits: "last" },
  ]);
  assert.ok(a!.every(Number.isFinite), "the row that skips layer 2's FFN is untouched by it");
  assert.ok(b!.some(Number.isNaN), "the row that runs layer 2's FFN read the poisoned weights");
  assert.equal(m.ffnStats.skipped, 0);
  assert.equal(m.ffnStats.rowsRun, m.ffnStats.rowBlocks - 1);
});

test("bad steps are clear errors", () => {
  const m = slotted();
  const p = createPolicy({ method: "none" }, TINY.nLayers);
  const q = createPolicy({ method: "none" }, TINY.nLayers);
  assert.throws(() => m.forwardBatch([]), /no sequences/);
  assert.throws(
    () => m.forwardBatch([{ slot: SLOTS, tokens: [1], pos: 0, policy: p, phase: "prompt", logits: "none" }]),
    new RegExp(`slot ${SLOTS} out of range \\[0, ${SLOTS}\\)`),
  );
  assert.throws(
    () =>
      m.forwardBatch([
        { slot: 1, tokens: [1], pos: 0, policy: p, phase: "prompt", logits: "none" },
        { slot: 1, tokens: [2], pos: 0, policy: q, phase: "prompt", logits: "none" },
      ]),
    /two sequences in KV cache slot 1/,
  );
  assert.throws(
    () => m.forwardBatch([{ slot: 1, tokens: new Array(BATCH + 1).fill(1), pos: 0, policy: p, phase: "prompt", logits: "none" }]),
    new RegExp(`exceed the batch size ${BATCH}`),
  );
});
