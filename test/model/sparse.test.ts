/**
 * ffn-sparse in the forward pass (src/model/sparse-ffn.ts): dropping no
 * neuron is dense, dropping all of them is skipping the FFN (that a
 * sequence's neurons do not depend on its company: batch-forward.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { TINY, tinyModel } from "../helpers/tiny-model.js";
import { createPolicy } from "../../src/skip/config.js";
import type { SkipPolicy } from "../../src/skip/policy.js";
import type { Model } from "../../src/model/model.js";
import { SparsePolicy } from "../../src/skip/sparse.js";
import { dropGroups } from "../../src/model/sparse-ffn.js";

const L = TINY.nLayers;
const PROMPT = [3, 17, 4, 42, 8, 1, 9];
const sparse = (t: number | number[], warmup = 0): SkipPolicy =>
  createPolicy({ method: "ffn-sparse", warmup, thresholds: Array.isArray(t) ? t : new Array<number>(L).fill(t) }, L);

/** Prompt in one batch, then 6 decode steps of fixed tokens; every step's logits. */
function run(model: Model, policy: SkipPolicy): Float32Array[] {
  policy.reset();
  model.kv.truncate(0);
  const out = [model.forward(PROMPT, 0, { policy, phase: "prompt", logits: "last" })!.slice()];
  for (let i = 0; i < 6; i++)
    out.push(
      model.forward([(7 * i + 5) % TINY.vocabSize], PROMPT.length + i, { policy, phase: "decode", genIndex: i, logits: "last" })!.slice(),
    );
  return out;
}

test("ffn-sparse with every threshold 0 is bit-identical to dense and saves nothing", () => {
  const m = tinyModel();
  const p = sparse(0);
  assert.deepEqual(run(m, p), run(m, createPolicy({ method: "none" }, L)));
  assert.equal(p.stats().ratio, 0);
});

test("ffn-sparse dropping every neuron equals skipping every FFN, and counts the neurons' share of the FFN bytes", () => {
  const m = tinyModel();
  const p = sparse(1e30);
  const skipAll = createPolicy({ method: "static", warmup: 0, layers: [...Array(L).keys()] }, L);
  assert.deepEqual(run(m, p), run(m, skipAll));
  // F32 gate, up and down of equal size: the neurons hold 2/3 of the bytes
  assert.ok(Math.abs(p.stats().ratio - 2 / 3) < 1e-12, `ratio ${p.stats().ratio}`);
});

test("a threshold between drops some neurons: logits move, the ratio is a fraction of the share", () => {
  const m = tinyModel();
  const p = sparse([0, 0.05, 0.05, 0.05, 0.05, 0]);
  const a = run(m, p),
    d = run(m, createPolicy({ method: "none" }, L));
  assert.deepEqual(a[0], d[0], "the prompt runs dense");
  assert.notDeepEqual(a.slice(1), d.slice(1));
  const r = p.stats().ratio;
  assert.ok(r > 0 && r < (2 / 3) * (4 / 6), `ratio ${r}`);
});

test("neuron groups of one along the identity order drop exactly what ffn-sparse drops neuron by neuron", () => {
  const m = tinyModel();
  const th = [0, 0.05, 0.05, 0.05, 0.05, 0];
  const F = TINY.ffnDim;
  const identity = Array.from({ length: L }, () => ({ size: 1, order: Int32Array.from({ length: F }, (_, i) => i) }));
  const grouped = new SparsePolicy(L, { warmup: 0, thresholds: th, groups: identity });
  assert.deepEqual(run(m, grouped), run(m, sparse(th)));
});

test("groupSize 4 where the kernels cannot skip groups (F32 weights, reference kernels) is the masked form of groups of 4 in file order", () => {
  const m = tinyModel();
  const th = [0, 0.2, 0.2, 0.2, 0.2, 0];
  const F = TINY.ffnDim;
  const fileOrder = Array.from({ length: L }, () => ({ size: 4, order: Int32Array.from({ length: F }, (_, i) => i) }));
  const viaConfig = createPolicy({ method: "ffn-sparse", warmup: 0, thresholds: th, groupSize: 4 }, L);
  const explicit = new SparsePolicy(L, { warmup: 0, thresholds: th, groups: fileOrder });
  assert.deepEqual(run(m, viaConfig), run(m, explicit));
  assert.equal(viaConfig.stats().ratio, explicit.stats().ratio);
  assert.ok(viaConfig.stats().ratio > 0);
  assert.equal(m.realizeSparse().layers, 0, "no layer of an F32 model has realized kernels");
  assert.throws(() => new SparsePolicy(L, { warmup: 0, thresholds: th, groups: fileOrder, groupSize: 4 }), /groups or groupSize, not both/);
});

test("grouped dropping: groups of four drop whole, so the logits differ from dropping neuron by neuron", () => {
  const m = tinyModel();
  const th = [0, 0.2, 0.2, 0.2, 0.2, 0];
  const F = TINY.ffnDim;
  const reversed = Array.from({ length: L }, () => ({ size: 4, order: Int32Array.from({ length: F }, (_, i) => F - 1 - i) }));
  const grouped = new SparsePolicy(L, { warmup: 0, thresholds: th, groups: reversed });
  const a = run(m, grouped);
  const one = sparse(th);
  assert.notDeepEqual(a.slice(1), run(m, one).slice(1));
  const r = grouped.stats().ratio;
  assert.ok(r > 0 && r !== one.stats().ratio, `grouped ratio ${r}, neuron by neuron ${one.stats().ratio}`);
  assert.throws(
    () => new SparsePolicy(L, { warmup: 0, thresholds: th, groups: reversed.slice(1) }),
    /groups has 5 entries, the model has 6/,
  );
});

test("dropGroups zeroes a group when its mean |act| is below the threshold, along the order; a bad order is refused", () => {
  const act = Float32Array.of(0.9, 0.1, 0.1, 0.1, 0.2, 0.3);
  const h = Float32Array.of(1, 2, 3, 4, 5, 6);
  // groups {0, 1} mean 0.5, {2, 3} mean 0.1, {4, 5} mean 0.25
  const kept = dropGroups(h, 0, act, 6, 0.2, { size: 2, order: Int32Array.of(0, 1, 2, 3, 4, 5) });
  assert.equal(kept, 4);
  assert.deepEqual([...h], [1, 2, 0, 0, 5, 6]);
  // along another order the groups are {0, 2}, {1, 3}, {4, 5}: means 0.5, 0.1, 0.25
  const h2 = Float32Array.of(1, 2, 3, 4, 5, 6);
  assert.equal(dropGroups(h2, 0, act, 6, 0.2, { size: 2, order: Int32Array.of(0, 2, 1, 3, 4, 5) }), 4);
  assert.deepEqual([...h2], [1, 0, 3, 0, 5, 6]);
  assert.throws(
    () => dropGroups(h2, 0, act, 6, 0.2, { size: 4, order: Int32Array.of(0, 1, 2, 3, 4, 5) }),
    /in groups of 4 do not fit an FFN of 6/,
  );
  // no order: file order, as groups {0, 1}, {2, 3}, {4, 5}
  const h3 = Float32Array.of(1, 2, 3, 4, 5, 6);
  assert.equal(dropGroups(h3, 0, act, 6, 0.2, { size: 2 }), 4);
  assert.deepEqual([...h3], [1, 2, 0, 0, 5, 6]);
});
