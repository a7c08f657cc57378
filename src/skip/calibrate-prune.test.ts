import { test } from "node:test";
import assert from "node:assert/strict";
import { choosePrune, pruneScores } from "./calibrate-prune.js";

const L = 4,
  F = 256;
/** layer l's neuron i scores (l + 1) * (i + 1): layer 0 matters least, and within a layer the first neurons */
const scores = Array.from({ length: L }, (_, l) => Float64Array.from({ length: F }, (_, i) => (l + 1) * (i + 1)));
/** bytes proportional to neurons (every FFN the same size), as for an all-Q4_1 model */
const bytes = (_l: number, kept: number) => ({ whole: 3 * F, compact: 3 * kept });

test("ffn-prune calibration: global allocation drops the least important neurons over all layers, in blocks of 32", () => {
  const c = choosePrune(scores, 0.25, bytes, "global");
  assert.ok(Math.abs(c.ratio - 0.25) <= 32 / (L * F), `ratio ${c.ratio}`);
  const dropped = c.keeps.map((k) => F - k.length);
  for (const d of dropped) assert.equal(d % 32, 0);
  // layer 0's neurons are the cheapest: it gives up the most, layer 3 the least
  assert.ok(dropped[0] > dropped[3], `dropped per layer ${dropped}`);
  // within a layer the lowest-scoring neurons go, and the kept lists are sorted
  for (const k of c.keeps) {
    assert.deepEqual(
      Array.from(k),
      Array.from(k).sort((a, b) => a - b),
    );
    if (k.length < F) assert.equal(k[0], F - k.length);
  }
});

test("ffn-prune calibration: uniform allocation drops the same number everywhere; a layer keeps at least a block", () => {
  const c = choosePrune(scores, 0.25, bytes, "uniform");
  assert.deepEqual(
    c.keeps.map((k) => k.length),
    [192, 192, 192, 192],
  );
  assert.equal(c.ratio, 0.25);
  const most = choosePrune(scores, 0.99, bytes, "global");
  for (const k of most.keeps) assert.ok(k.length >= 32);
  assert.throws(() => choosePrune(scores, 1.5, bytes, "global"), /target must be in \(0, 1\)/);
});

test("ffn-prune calibration: bytes decide the ratio (a compact layer may cost more per neuron than the file's)", () => {
  // the compact down costs more per neuron than the whole one: pruning one block saves less than its share
  const dear = (_l: number, kept: number) => ({ whole: 3 * F, compact: kept >= F ? 3 * F : 3.5 * kept });
  const c = choosePrune(scores, 0.2, dear, "uniform");
  const kept = c.keeps[0].length;
  assert.ok(Math.abs(c.ratio - (1 - (3.5 * kept) / (3 * F))) < 1e-12);
});

test("ffn-prune importance: each layer's neuron energies as shares of its output energy, times output over residual energy", () => {
  const s = pruneScores([Float64Array.of(1, 3)], [Float64Array.of(2, 2)], [4], [16]);
  assert.deepEqual(Array.from(s[0]), [0.25 * 0.25, 0.75 * 0.25]);
});
