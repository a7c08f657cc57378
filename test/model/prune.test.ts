/**
 * ffn-prune (src/skip/prune.ts, src/model/compact-ffn.ts). On the tiny F32 model, where the compact copies are exact:
 * a decode step with a compact FFN gives the logits of the same model whose pruned neurons' gate and up rows are
 * zero (to float rounding), the ratio is the bytes the copies do not hold, warm-up and the prompt run whole, and a
 * model with no file to copy rows from says so. On SmolLM2 (Q4_1): the copies' gate and up rows are the file's
 * own bytes (their products equal the whole matrices' at the kept neurons, bit for bit), and the requantized down
 * projection stays within a Q4_1 step of the whole one.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { TINY, tinyModel, tinySource, type MemorySource } from "../helpers/tiny-model.js";
import { PrunePolicy } from "../../src/skip/prune.js";
import { createPolicy } from "../../src/skip/config.js";
import type { SkipPolicy } from "../../src/skip/policy.js";
import type { Model } from "../../src/model/model.js";
import { CompactFFN } from "../../src/model/compact-ffn.js";
import { loadModel, type Engine } from "../../src/api/engine.js";
import { SMOLLM2, needs } from "../helpers/paths.js";
import { GGUFTensorSource } from "../../src/model/gguf-source.js";
import { readSkipProfile } from "../../src/skip/skip-profile.js";

const F = TINY.ffnDim,
  L = TINY.nLayers;
const ALL = Int32Array.from({ length: F }, (_, i) => i);
/** layer 2 keeps neurons 0..63 minus every fourth, plus 64..79 (64 of 96); layer 4 keeps the last 32 */
const K2 = Int32Array.from([
  ...Array.from({ length: 64 }, (_, i) => i).filter((i) => i % 4 !== 3),
  ...Array.from({ length: 16 }, (_, i) => 64 + i),
]);
const K4 = Int32Array.from({ length: 32 }, (_, i) => 64 + i);
const KEEPS = [ALL, ALL, K2, ALL, K4, ALL];
const TOKENS = [3, 17, 4, 42, 8, 11, 29];

/** Each token fed as a decode step (genIndex from 0), the logits of each. */
function decode(m: Model, policy: SkipPolicy): Float32Array[] {
  policy.reset();
  m.kv.truncate(0);
  return TOKENS.map((t, i) => m.forward([t], i, { policy, phase: "decode", genIndex: i, logits: "last" })!.slice());
}

/** The tiny source with the gate and up rows of every neuron not in KEEPS zeroed: the pruned model, computed whole. */
function zeroedSource(): MemorySource {
  const src = tinySource();
  KEEPS.forEach((keep, l) => {
    const kept = new Set(keep);
    for (const t of ["ffn_gate", "ffn_up"]) {
      const d = src.tensors.get(`blk.${l}.${t}.weight`)!.data;
      for (let n = 0; n < F; n++) if (!kept.has(n)) d.fill(0, n * TINY.dim, (n + 1) * TINY.dim);
    }
  });
  return src;
}

test("ffn-prune on the tiny F32 model: the compact FFNs give the pruned model's logits, and count the bytes they skip", () => {
  const src = tinySource();
  const m = tinyModel(src);
  m.tensorSource = () => src;
  const dense = decode(tinyModel(), createPolicy({ method: "none" }, L));
  // warm-up: the first two steps run every FFN whole
  const warm = decode(m, new PrunePolicy(L, { warmup: 2, keeps: KEEPS, ffnDim: F }));
  for (const i of [0, 1]) assert.deepEqual(warm[i], dense[i]);
  assert.notDeepEqual(warm[2], dense[2]);
  const policy = new PrunePolicy(L, { warmup: 0, keeps: KEEPS, ffnDim: F });
  const got = decode(m, policy);
  const pruned = decode(tinyModel(zeroedSource()), createPolicy({ method: "none" }, L));
  for (let i = 0; i < TOKENS.length; i++) {
    const scale = Math.max(...pruned[i].map(Math.abs));
    const gap = Math.max(...pruned[i].map((v, j) => Math.abs(v - got[i][j])));
    assert.ok(gap <= 1e-5 * scale, `step ${i}: logits differ by ${gap} (scale ${scale})`);
    assert.ok(Math.max(...dense[i].map((v, j) => Math.abs(v - got[i][j]))) > 1e-3 * scale, `step ${i}: pruning changed nothing`);
  }
  // F32 everywhere: a copy keeping n of F neurons holds n/F of the bytes
  const s = policy.stats();
  assert.equal(s.tokens, TOKENS.length);
  assert.ok(Math.abs(s.ratio - (1 - 64 / 96 + (1 - 32 / 96)) / L) < 1e-12, `ratio ${s.ratio}`);
});

test("ffn-prune: the prompt runs whole, and a model without a file to copy rows from is a clear error", () => {
  const m = tinyModel();
  const policy = new PrunePolicy(L, { warmup: 0, keeps: KEEPS, ffnDim: F });
  const dense = tinyModel();
  const none = createPolicy({ method: "none" }, L);
  assert.deepEqual(
    m.forward(TOKENS, 0, { policy, phase: "prompt", logits: "last" }),
    dense.forward(TOKENS, 0, { policy: none, phase: "prompt", logits: "last" }),
  );
  assert.throws(() => m.forward([5], TOKENS.length, { policy, phase: "decode", genIndex: 0, logits: "last" }), /not loaded from a file/);
  const c = new CompactFFN(
    m.weights.layers,
    () => m.kernels,
    () => tinySource(),
  );
  assert.throws(
    () =>
      c.layer(
        1,
        Int32Array.from({ length: 40 }, (_, i) => i),
      ),
    /keeps 40 neurons; need a multiple of 32/,
  );
});

let engine: Engine | undefined;
after(async () => {
  await engine?.dispose();
});

test("ffn-prune on SmolLM2 (Q4_1): the copied gate and up rows are the file's, the requantized down within a Q4_1 step", async (t) => {
  if (needs(t, SMOLLM2)) return;
  engine = await loadModel(SMOLLM2, { threads: 1, ctx: 64 });
  const m = engine.model,
    K = m.kernels,
    H = K.heap;
  const { dim: D, ffnDim: FF } = engine.config;
  const l = 7;
  const keep = Int32Array.from({ length: FF - 256 }, (_, i) => i + (i >= 300 ? 256 : 0));
  const c = new CompactFFN(
    m.weights.layers,
    () => K,
    () => GGUFTensorSource.open(SMOLLM2),
  ).layer(l, keep);
  const L7 = m.weights.layers[l];
  const xb = H.alloc(D * 4),
    full = H.alloc(FF * 4 * 2),
    part = H.alloc(FF * 4 * 2),
    h = H.alloc(FF * 4),
    oFull = H.alloc(D * 4),
    oPart = H.alloc(D * 4);
  H.f32(xb, D).set(Float32Array.from({ length: D }, (_, i) => Math.sin(i * 0.37) * 1.5));
  K.matvecMulti([L7.w1, L7.w3], xb, [full, full + FF * 4]);
  K.matvecMulti([c.w1, c.w3], xb, [part, part + FF * 4]);
  const f = H.f32(full, 2 * FF),
    p = H.f32(part, 2 * FF);
  keep.forEach((n, i) => {
    assert.equal(p[i], f[n], `gate of neuron ${n}`);
    assert.equal(p[FF + i], f[FF + n], `up of neuron ${n}`);
  });
  // the down projections of the same h (zero at the pruned neurons): the requantization's error only
  const hv = Float32Array.from({ length: FF }, (_, i) => Math.cos(i * 0.11));
  H.f32(h, FF).set(hv.map((v, i) => (i >= 300 && i < 556 ? 0 : v)));
  K.matvec(L7.w2, h, oFull);
  H.f32(h, keep.length).set(Array.from(keep, (n) => hv[n]));
  K.matvec(c.w2, h, oPart);
  const a = H.f32(oFull, D),
    b = H.f32(oPart, D);
  const scale = Math.max(...a.map(Math.abs));
  const gap = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  assert.ok(gap < 0.05 * scale && gap > 0, `down: largest gap ${gap} against outputs up to ${scale}`);
  assert.ok(Math.abs(c.saved - 256 / FF) < 0.02, `saved ${c.saved}`);
  // the shipped ~25% ffn-skip-compact profile: its copies (24 middle layers, half the neurons) built ahead
  const prof = readSkipProfile("profiles/smollm2-135m-instruct-compact-25.json", engine.config.nLayers);
  const built = engine.prepareSkip(prof.config);
  assert.ok(built > 0.4 * 24 * (L7.w1.rows * L7.w1.rowBytes * 3) * 0.5, `${built} bytes of copies`);
});

test("ffn-prune's copies can be built ahead (Engine.prepareSkip / Model.buildCompact); the step then reuses them", () => {
  const src = tinySource();
  const m = tinyModel(src);
  m.tensorSource = () => src;
  const policy = new PrunePolicy(L, { warmup: 0, keeps: KEEPS, ffnDim: F });
  const bytes = m.buildCompact(policy.compactLists());
  // F32 copies: gate and up rows of the kept neurons, and the down projection's kept columns
  assert.equal(bytes, (64 + 32) * 3 * TINY.dim * 4);
  const before = m.kernels.heap.used;
  decode(m, policy);
  assert.equal(m.kernels.heap.used, before, "the decode steps built nothing more");
  assert.equal(m.buildCompact(policy.compactLists()), bytes, "building again adds nothing");
});
