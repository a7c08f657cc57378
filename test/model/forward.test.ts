/**
 * Forward-pass invariants on a tiny random model: batching, the KV cache,
 * and the skip hooks (FFN-SkipLLM's must-show tests).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TINY, tinyModel, tinySource } from "../helpers/tiny-model.js";
import { createPolicy, type SkipConfig } from "../../src/skip/config.js";
import { withTrace, traceCounts } from "../../src/skip/trace.js";
import type { SkipPolicy } from "../../src/skip/policy.js";
import type { Model } from "../../src/model/model.js";
import { f32ToF16 } from "../../src/quant/f16.js";

const L = TINY.nLayers;
const PROMPT = [3, 17, 4, 42, 8, 1, 9];

/** Prompt in one batch, then `n` greedy decode steps; returns every step's logits. */
function run(model: Model, policy: SkipPolicy, n = 8): Float32Array[] {
  policy.reset();
  model.kv.truncate(0);
  const out: Float32Array[] = [];
  let lg = model.forward(PROMPT, 0, { policy, phase: "prompt", logits: "last" })!.slice();
  out.push(lg);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < lg.length; j++) if (lg[j] > lg[best]) best = j;
    lg = model.forward([best], PROMPT.length + i, { policy, phase: "decode", genIndex: i, logits: "last" })!.slice();
    out.push(lg);
  }
  return out;
}

const dense = () => createPolicy({ method: "none" }, L);

test("a prompt in one batch gives the same logits as token by token", () => {
  const m = tinyModel();
  const all = m.forward(PROMPT, 0, { policy: dense(), phase: "prompt", logits: "all" })!.slice();
  m.kv.truncate(0);
  for (let t = 0; t < PROMPT.length; t++) {
    const one = m.forward([PROMPT[t]], t, { policy: dense(), phase: "prompt", logits: "last" })!;
    for (let v = 0; v < TINY.vocabSize; v++) {
      assert.ok(Math.abs(one[v] - all[t * TINY.vocabSize + v]) < 1e-4, `token ${t} logit ${v}`);
    }
  }
});

test("ffn-skip with tau above 1 is bit-identical to dense", () => {
  const m = tinyModel();
  const a = run(m, dense());
  const b = run(m, createPolicy({ method: "ffn-skip", tau: 1.5, warmup: 0, coldStart: 1, coldEnd: 1, k: 2 }, L));
  assert.deepEqual(b, a);
});

test("skipping layer j's FFN equals the model with that FFN's output zeroed", () => {
  const j = 3;
  const skipJ = run(tinyModel(), createPolicy({ method: "static", layers: [j], warmup: 0 }, L));
  const src = tinySource();
  src.tensors.get(`blk.${j}.ffn_down.weight`)!.data.fill(0);
  // zeroed FFN in the decode steps only: the prompt ran the real FFN in the skip run
  const zeroed = tinyModel(src);
  const real = tinyModel();
  const policy = dense();
  policy.reset();
  // prompt through the real model, then copy its KV cache into the zeroed one
  real.forward(PROMPT, 0, { policy, phase: "prompt", logits: "last" });
  const heapR = real.kernels.heap,
    heapZ = zeroed.kernels.heap;
  const bytes = real.kv.slotBytes; // the whole slot, whatever the cache's layout
  for (let l = 0; l < L; l++) {
    heapZ.u8(zeroed.kv.keyCache[l], bytes).set(heapR.u8(real.kv.keyCache[l], bytes));
    heapZ.u8(zeroed.kv.valueCache[l], bytes).set(heapR.u8(real.kv.valueCache[l], bytes));
  }
  assert.notDeepEqual(skipJ[1], run(real, dense())[1], "skipping must change something");
  let lg = skipJ[0];
  for (let i = 0; i < 8; i++) {
    let best = 0;
    for (let v = 1; v < lg.length; v++) if (lg[v] > lg[best]) best = v;
    const z = zeroed.forward([best], PROMPT.length + i, { policy, phase: "decode", genIndex: i, logits: "last" })!;
    assert.deepEqual(z.slice(), skipJ[i + 1], `decode step ${i}`);
    lg = skipJ[i + 1];
  }
});

const FFN_POLICIES: SkipConfig[] = [
  { method: "none" },
  { method: "ffn-skip", tau: -1, warmup: 1, coldStart: 1, coldEnd: 1, k: 2 },
  { method: "random", warmup: 1, coldStart: 1, coldEnd: 1, k: 3, seed: 5 },
  { method: "static", warmup: 1, layers: [1, 2, 4] },
];

test("under every FFN policy attention writes every layer's KV cache for every token", () => {
  for (const cfg of FFN_POLICIES) {
    const m = tinyModel();
    const n = 6;
    run(m, createPolicy(cfg, L), n);
    for (let l = 0; l < L; l++) assert.equal(m.kv.written[l], PROMPT.length + n, `${cfg.method} layer ${l}`);
  }
});

test("skipping really skips, and the stats' ratio matches the trace", () => {
  for (const cfg of FFN_POLICIES.slice(1)) {
    const traced = withTrace(createPolicy(cfg, L), L);
    run(tinyModel(), traced, 10);
    const st = traced.stats(),
      tr = traceCounts(traced.records);
    assert.ok(st.skipped_ffn > 0, `${cfg.method} skipped nothing`);
    assert.equal(st.skipped_ffn, tr.skipped_ffn, cfg.method);
    assert.equal(st.total_ffn, tr.total_ffn, cfg.method);
    assert.equal(st.ratio, st.skipped_ffn / st.total_ffn);
    // decode steps after warm-up: L × (10 − warm-up 1)
    assert.equal(st.total_ffn, L * 9, cfg.method);
  }
});

test("warm-up and cold regions are respected on the real forward pass", () => {
  const traced = withTrace(createPolicy({ method: "ffn-skip", tau: -1, warmup: 3, coldStart: 2, coldEnd: 1, k: 5 }, L), L);
  run(tinyModel(), traced, 8);
  for (const r of traced.records) {
    if (r.phase === "prompt" || r.genIndex < 3)
      assert.ok(
        r.ran.every((x) => x),
        "warm-up runs dense",
      );
    else {
      assert.ok(r.ran[0] && r.ran[1] && r.ran[L - 1], "cold layers run");
      assert.ok(
        r.ran.some((x) => !x),
        "middle skipped",
      );
    }
  }
});

test("layer-drop removes layers; early-exit copies KV from the exit state", () => {
  const m = tinyModel();
  run(m, createPolicy({ method: "layer-drop", layers: [2, 3] }, L), 4);
  assert.equal(m.kv.written[2], 0);
  assert.equal(m.kv.written[1], PROMPT.length + 4);
  const e = tinyModel();
  const pol = createPolicy({ method: "early-exit", tau: -1, warmup: 1, coldStart: 1, coldEnd: 1 }, L);
  run(e, pol, 4);
  for (let l = 0; l < L; l++) assert.equal(e.kv.written[l], PROMPT.length + 4, `layer ${l}`);
  assert.ok(pol.stats().skipped_ffn > 0);
});

test("a context overflow is refused", () => {
  const m = tinyModel(undefined, 8);
  assert.throws(() => m.forward([1, 2, 3, 4, 5, 6, 7, 8, 9], 0, { policy: dense(), phase: "prompt", logits: "none" }), /context full/);
});

test("the forward pass reports each layer's input/output cosine (Block Influence) when asked", async () => {
  const { withBlockInfluence } = await import("../../src/skip/block-influence.js");
  const p = withBlockInfluence(createPolicy({ method: "layer-drop", layers: [2] }, L), L);
  run(tinyModel(), p, 3);
  const bi = p.influence();
  assert.equal(bi[2], 0, "a removed layer leaves its input unchanged");
  for (const l of [0, 1, 3, 4, 5]) assert.ok(bi[l] > 0 && bi[l] < 2, `layer ${l}: ${bi[l]}`);
});

test("an f16 KV cache (default) holds the f32 cache's values rounded to nearest even, in half the bytes, and gives close logits", () => {
  const h = tinyModel(),
    f = tinyModel(undefined, 64, 16, TINY, "f32");
  assert.equal(h.kv.type, "f16");
  assert.equal(h.kv.bytes * 2, f.kv.bytes);
  const lh = run(h, dense()),
    lf = run(f, dense());
  // layer 0's keys and values come from the embeddings alone, so they are the same floats in both runs
  const n = PROMPT.length * h.kv.kvDim;
  const mem = (m: Model) => m.kernels.heap.memory.buffer;
  const kh = new Uint16Array(mem(h), h.kv.keyCache[0], n),
    kf = new Float32Array(mem(f), f.kv.keyCache[0], n);
  const vh = new Uint16Array(mem(h), h.kv.valueCache[0], n),
    vf = new Float32Array(mem(f), f.kv.valueCache[0], n);
  for (let i = 0; i < n; i++) {
    assert.equal(kh[i], f32ToF16(kf[i]), `key ${i}`);
    assert.equal(vh[i], f32ToF16(vf[i]), `value ${i}`);
  }
  let maxDiff = 0,
    maxAbs = 0;
  for (let s = 0; s < lh.length; s++) {
    for (let v = 0; v < TINY.vocabSize; v++) {
      maxDiff = Math.max(maxDiff, Math.abs(lh[s][v] - lf[s][v]));
      maxAbs = Math.max(maxAbs, Math.abs(lf[s][v]));
    }
  }
  // half precision keeps 11 significant bits: logits move by a small fraction of their range, not more
  assert.ok(maxDiff > 0, "the f16 cache changes something");
  assert.ok(maxDiff < 0.01 * maxAbs, `f16 vs f32 cache logits differ by ${maxDiff} (largest logit ${maxAbs})`);
});
