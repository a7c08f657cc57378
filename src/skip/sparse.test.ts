import { test } from "node:test";
import assert from "node:assert/strict";
import { createPolicy } from "./config.js";
import { GateSampler, searchKeep } from "./calibrate-sparse.js";
import type { StepInfo } from "./policy.js";

const L = 4;
const step = (phase: "prompt" | "decode", genIndex: number): StepInfo => ({ pos: 10 + genIndex, nTokens: 1, phase, genIndex });

test("ffn-sparse config: one finite threshold >= 0 per layer", () => {
  assert.throws(() => createPolicy({ method: "ffn-sparse" }, L), /needs thresholds/);
  assert.throws(() => createPolicy({ method: "ffn-sparse", thresholds: [0.1, 0.2] }, L), /2 entries, the model has 4 layers/);
  assert.throws(() => createPolicy({ method: "ffn-sparse", thresholds: [0.1, -1, 0, 0] }, L), /finite number ≥ 0/);
  assert.throws(() => createPolicy({ method: "ffn-sparse", thresholds: [0, 0, 0, 0], tau: 0.9 } as never, L), /tau does not apply/);
  assert.equal(createPolicy({ method: "ffn-sparse", thresholds: [0, 0.1, 0.2, 0] }, L).method, "ffn-sparse");
});

test("ffn-sparse drops neurons only in decode steps after warm-up, and counts the bytes saved as a share of FFNs", () => {
  const p = createPolicy({ method: "ffn-sparse", warmup: 2, thresholds: [0, 0.1, 0.2, 0.3] }, L);
  const act = new Float32Array(8);
  p.beginStep(step("prompt", -1));
  assert.deepEqual(
    [0, 1, 2, 3].map((l) => p.neuronThreshold!(l)),
    [0, 0, 0, 0],
  );
  p.endStep();
  for (let g = 0; g < 4; g++) {
    p.beginStep(step("decode", g));
    for (let l = 0; l < L; l++) {
      assert.equal(p.runFFN(l), true, "ffn-sparse never skips a whole FFN");
      assert.equal(p.neuronThreshold!(l), g < 2 ? 0 : [0, 0.1, 0.2, 0.3][l]);
      p.observeNeurons!(l, act, 4, l === 0 ? 0 : 0.25);
    }
    p.endStep();
  }
  const s = p.stats();
  // two counted tokens, three layers saving a quarter of an FFN each
  assert.equal(s.total_ffn, 2 * L);
  assert.ok(Math.abs(s.skipped_ffn - 2 * 3 * 0.25) < 1e-12);
  assert.ok(Math.abs(s.ratio - 0.1875) < 1e-12);
  assert.deepEqual(s.per_layer, [0, 0.5, 0.5, 0.5]);
});

test("the gate sampler records |act(gate)| after warm-up only, and its thresholds are the sample's quantiles", () => {
  const s = new GateSampler(2, 1);
  const act = Float32Array.from({ length: 300 }, (_, i) => i / 300);
  for (let g = 0; g < 3; g++) {
    s.beginStep(step("decode", g));
    for (let l = 0; l < 2; l++) {
      assert.equal(s.neuronThreshold(l), g < 1 ? 0 : Number.MIN_VALUE);
      s.observeNeurons(l, act, 300, 0);
    }
    s.endStep();
  }
  assert.equal(s.samples[0].length, 2 * 100);
  const [t0] = s.thresholdsAt(0.25);
  assert.ok(Math.abs(t0 - 0.75) < 0.02, `keep 25% → the 75% quantile, got ${t0}`);
  assert.deepEqual(new GateSampler(1, 0).samples, [[]]);
  assert.throws(() => new GateSampler(1, 0).thresholdsAt(0.5), /no decode tokens/);
});

test("searchKeep finds the kept fraction whose ratio meets the target, starting from the byte-share estimate", () => {
  // a ratio that falls with keep, 10% off the estimate
  const ratioAt = (keep: number) => 0.9 * (2 / 3) * (1 - keep);
  const r = searchKeep(0.25, 2 / 3, (keep) => ({ keep, ratio: ratioAt(keep), agreement: 1 }));
  assert.ok(Math.abs(r.best.ratio - 0.25) <= 0.002, `ratio ${r.best.ratio}`);
  assert.equal(r.trials[0].keep, 1 - 0.25 / (2 / 3));
  assert.ok(r.trials.length <= 9);
  assert.throws(() => searchKeep(0.7, 2 / 3, (keep) => ({ keep, ratio: 0, agreement: 1 })), /outside \(0, 0.667\)/);
});
