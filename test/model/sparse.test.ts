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
