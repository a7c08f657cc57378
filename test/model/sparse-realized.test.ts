/**
 * ffn-sparse realized (src/model/sparse-ffn.ts RealizedSparseFFN) on SmolLM2 (Q4_1): a decode step whose neurons drop
 * in groups of 4 in file order reads only the kept groups. Against the masked form of the same decisions (the same
 * groups given as an explicit order, which the kernels do not realize): from the same input the same groups drop and
 * the outputs differ only by the two down kernels' activation rounding. Over a whole model, groups whose mean |act|
 * sits at the threshold flip with that rounding, so whole runs are compared only by their ratio.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { loadModel, type Engine } from "../../src/api/engine.js";
import { SparsePolicy } from "../../src/skip/sparse.js";
import { createPolicy } from "../../src/skip/config.js";
import type { SkipPolicy } from "../../src/skip/policy.js";
import { RealizedSparseFFN, dropGroups, gateActivations } from "../../src/model/sparse-ffn.js";
import { SMOLLM2, missing, needs } from "../helpers/paths.js";
import { rng } from "../helpers/kernel-testdata.js";

let engine: Engine | undefined;
before(async () => {
  if (missing(SMOLLM2)) return;
  engine = await loadModel(SMOLLM2, { threads: 1, ctx: 128 });
});
after(async () => {
  await engine?.dispose();
});

const PROMPT = "The capital of France is Paris. The capital of Italy is";

/** The prompt, then `steps` decode steps of the dense model's greedy tokens (teacher-forced); each step's logits. */
function run(e: Engine, policy: SkipPolicy, tokens: number[]): Float32Array[] {
  const m = e.model;
  policy.reset();
  m.kv.truncate(0);
  const prompt = e.tokenizer.encode(PROMPT, { addSpecial: true });
  const out = [m.forward(prompt, 0, { policy, phase: "prompt", logits: "last" })!.slice()];
  tokens.forEach((t, i) => out.push(m.forward([t], prompt.length + i, { policy, phase: "decode", genIndex: i, logits: "last" })!.slice()));
  return out;
}

/**
 * One FFN of layer l from one input, groups of 4 along `order` (undefined: file order): the masked form (the full gate
 * and up, the dropped groups' h zeroed, the dense down projection) against RealizedSparseFFN, about 40% of the groups
 * dropped (the threshold midway between two groups' means: the wasm gate rounds differently from JS's).
 */
function compareLayer(e: Engine, R: RealizedSparseFFN, l: number, order: Int32Array | undefined): void {
  const K = e.model.shards[0].kernels,
    H = K.heap;
  const D = e.config.dim,
    F = e.config.ffnDim;
  const at = (i: number) => (order ? order[i] : i);
  const xb = H.alloc(D * 4),
    h1 = H.alloc(F * 4),
    h3 = H.alloc(F * 4),
    o = H.alloc(D * 4);
  const L = e.model.weights.layers[l];
  H.f32(xb, D).set(Float32Array.from({ length: D }, (_, i) => Math.sin(i * 1.7 + l) * 2));
  K.matvecMulti([L.w1, L.w3], xb, [h1, h3], 1);
  const act = new Float32Array(F);
  gateActivations(H.f32(0, H.memory.buffer.byteLength / 4), h1 / 4, F, false, act);
  const means = Array.from(
    { length: F / 4 },
    (_, g) => (act[at(4 * g)] + act[at(4 * g + 1)] + act[at(4 * g + 2)] + act[at(4 * g + 3)]) / 4,
  );
  means.sort((a, b) => a - b);
  const cut = Math.floor(0.4 * means.length);
  const threshold = (means[cut - 1] + means[cut]) / 2;
  K.swiglu(h1, h3, F);
  const keptMasked = dropGroups(H.f32(0, H.memory.buffer.byteLength / 4), h1 / 4, act, F, threshold, { size: 4, order });
  K.matvec(L.w2, h1, o);
  const want = Float32Array.from(H.f32(o, D));
  // the realized form from the same input
  assert.ok(R.has(l, order), `layer ${l} runs realized`);
  K.matvec(L.w1, xb, h1);
  const r = R.run(K, l, order, xb, h1, h3, o, threshold, false);
  const got = H.f32(o, D);
  assert.equal(r.kept, keptMasked, `layer ${l}: kept neurons`);
  assert.ok(r.kept > 0.3 * F && r.kept < 0.9 * F, `layer ${l}: kept ${r.kept} of ${F}`);
  for (const i of [0, 7, 100, F - 1]) assert.ok(Math.abs(r.act[i] - act[at(i)]) <= 1e-5 * Math.max(1, act[at(i)]), `act at ${i}`);
  let gap = 0,
    scale = 0;
  for (let i = 0; i < D; i++) {
    gap = Math.max(gap, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  assert.ok(gap <= 1e-3 * scale, `layer ${l}: outputs differ by ${gap} (largest ${scale})`);
}

test("one FFN in groups of 4: the realized kernels drop the same groups as the masked form and agree to 1e-3", (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  e.model.realizeSparse();
  const R = new RealizedSparseFFN(e.model.weights.layers, () => e.model.shards[0].kernels);
  for (const l of [2, 15, 27]) compareLayer(e, R, l, undefined);
});

test("groups along a neuron order within blocks: realized from permuted copies, the same groups and outputs as the masked form", (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const R = new RealizedSparseFFN(e.model.weights.layers, () => e.model.shards[0].kernels);
  const rand = rng(5);
  const F = e.config.ffnDim;
  for (const l of [3, 20]) {
    // a random order within each 32-neuron block
    const order = Int32Array.from({ length: F }, (_, i) => i);
    for (let b = 0; b < F; b += 32)
      for (let i = 31; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[b + i], order[b + j]] = [order[b + j], order[b + i]];
      }
    compareLayer(e, R, l, order);
  }
});

test("a decode step with ffn-sparse in groups of 4 runs the realized kernels in every Q4_1 layer and counts its ratio", (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const L = e.config.nLayers;
  const K = e.model.shards[0].kernels;
  let calls = 0;
  const nm = K.matvecNeuronMajor!.bind(K);
  K.matvecNeuronMajor = (w, h, out, mask) => {
    calls++;
    nm(w, h, out, mask);
  };
  try {
    const thresholds = new Array<number>(L).fill(0.2);
    const policy = new SparsePolicy(L, { warmup: 0, thresholds, groupSize: 4 });
    // the same groups of 4, listed last first: an order that leaves the 32-neuron blocks, which the kernels cannot copy along
    const F = e.config.ffnDim;
    const reversed = Int32Array.from({ length: F }, (_, i) => F - 4 * (Math.floor(i / 4) + 1) + (i % 4));
    const masked = new SparsePolicy(L, { warmup: 0, thresholds, groups: new Array(L).fill({ size: 4, order: reversed }) });
    const tokens = [504, 3575, 282, 4649];
    const logits = run(e, policy, tokens);
    assert.equal(calls, L * tokens.length, "one realized down projection per layer and decode step");
    run(e, masked, tokens);
    assert.equal(calls, L * tokens.length, "an order across blocks runs the masked form");
    for (const x of logits) assert.ok(x.every(Number.isFinite));
    // decisions near the threshold flip with the kernels' rounding, so the ratios agree only roughly
    const a = policy.stats().ratio,
      b = masked.stats().ratio;
    assert.ok(a > 0.05 && Math.abs(a - b) < 0.02, `ratios ${a} (realized) and ${b} (masked)`);
    // each block's groups in reverse: within blocks, so realized from permuted copies
    const inBlocks = Int32Array.from({ length: F }, (_, i) => i - (i % 32) + 28 - 4 * Math.floor((i % 32) / 4) + (i % 4));
    const along = new SparsePolicy(L, { warmup: 0, thresholds, groups: new Array(L).fill({ size: 4, order: inBlocks }) });
    run(e, along, tokens);
    assert.equal(calls, 2 * L * tokens.length, "an order within blocks runs realized");
    const c = along.stats().ratio;
    assert.ok(Math.abs(c - b) < 0.02, `ratios ${c} (realized along the order) and ${b} (masked)`);
  } finally {
    K.matvecNeuronMajor = nm;
  }
});

test("ffn-sparse groupSize: 4 in a config, 1 by default, anything else refused by name", () => {
  const L = 30,
    thresholds = new Array<number>(L).fill(0.1);
  assert.equal(createPolicy({ method: "ffn-sparse", thresholds, groupSize: 4 }, L).neuronGroups?.(3)?.size, 4);
  assert.equal(createPolicy({ method: "ffn-sparse", thresholds }, L).neuronGroups?.(3), undefined);
  assert.throws(() => createPolicy({ method: "ffn-sparse", thresholds, groupSize: 2 }, L), /group_size must be 1 .* or 4/);
});
