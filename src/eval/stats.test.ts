import { test } from "node:test";
import assert from "node:assert/strict";
import {
  binomialTwoSided,
  bootstrapMean,
  itemsForPairedDrop,
  itemsForUnpaired,
  mcnemar,
  medianInterval,
  normalQuantile,
  pairedBootstrap,
  quantile,
} from "./stats.js";

const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b} (±${tol})`);

test("quantile interpolates like numpy", () => {
  close(quantile([1, 2, 3, 4], 0.5), 2.5, 1e-12);
  close(quantile([1, 2, 3, 4], 0.25), 1.75, 1e-12);
  assert.equal(quantile([7], 0.9), 7);
});

test("bootstrap CI: a constant has a zero-width interval; a fair coin's 95% CI is about ±1.96·√(.25/n)", () => {
  const c = bootstrapMean([3, 3, 3, 3]);
  assert.deepEqual([c.mean, c.lo, c.hi], [3, 3, 3]);
  const coin = Array.from({ length: 400 }, (_, i) => i % 2);
  const ci = bootstrapMean(coin, { resamples: 4000 });
  assert.equal(ci.mean, 0.5);
  const half = 1.96 * Math.sqrt(0.25 / 400);
  close(ci.lo, 0.5 - half, 0.01);
  close(ci.hi, 0.5 + half, 0.01);
  // seeded: the same call gives the same interval
  assert.deepEqual(bootstrapMean(coin, { resamples: 4000 }), ci);
  assert.throws(() => bootstrapMean([1, Number.NaN]), /value 1 is NaN/);
});

test("exact binomial and McNemar p-values match hand computation", () => {
  close(binomialTwoSided(0, 5), 2 / 32, 1e-12);
  assert.equal(binomialTwoSided(3, 6), 1);
  // 10 items only a got right, 2 only b: p = 2·(C(12,0)+C(12,1)+C(12,2))/2^12
  const a = [...Array(10).fill(1), ...Array(2).fill(0), ...Array(30).fill(1)];
  const b = [...Array(10).fill(0), ...Array(2).fill(1), ...Array(30).fill(1)];
  const r = mcnemar(a, b);
  assert.equal(r.onlyA, 10);
  assert.equal(r.onlyB, 2);
  close(r.p, (2 * (1 + 12 + 66)) / 4096, 1e-12);
  close(r.diff.mean, -8 / 42, 1e-12);
  assert.ok(r.diff.hi < 0, "the drop's CI excludes zero");
  assert.equal(mcnemar([1, 0], [1, 0]).p, 1);
  assert.throws(() => mcnemar([1], [1, 0]), /same items/);
});

test("paired bootstrap: a consistent shift is significant, noise is not", () => {
  const a = Array.from({ length: 200 }, (_, i) => Math.sin(i) * 3);
  const shifted = a.map((x) => x + 0.5);
  const r = pairedBootstrap(a, shifted);
  close(r.diff.mean, 0.5, 1e-12);
  assert.ok(r.p < 0.01);
  const noisy = a.map((x, i) => x + (i % 2 ? 0.5 : -0.5));
  assert.ok(pairedBootstrap(a, noisy).p > 0.5);
});

test("normal quantile and sample sizes match textbook values", () => {
  close(normalQuantile(0.975), 1.959964, 1e-6);
  close(normalQuantile(0.8), 0.841621, 1e-6);
  close(normalQuantile(0.001), -3.090232, 1e-6);
  // two proportions 0.5 vs 0.4, α = .05, power .8: 388 per group (standard tables)
  assert.equal(itemsForUnpaired(0.5, 0.1), 388);
  // Connor: δ = .02 with 10% discordant pairs
  const n = itemsForPairedDrop(0.02, 0.1);
  close(n, (1.959964 * Math.sqrt(0.1) + 0.841621 * Math.sqrt(0.1 - 0.0004)) ** 2 / 0.0004, 1.5);
  // fewer flips, fewer items
  assert.ok(itemsForPairedDrop(0.02, 0.05) < n);
});

test("median interval: order statistics with exact binomial coverage", () => {
  // n = 10: P(Binom(10, 1/2) <= 1) = 11/1024, so [x(2), x(9)] covers 1 - 22/1024; [x(3), x(8)] (1 - 112/1024) is below 95%
  const r = medianInterval([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
  assert.deepEqual([r.lo, r.mean, r.hi], [2, 5.5, 9]);
  close(r.coverage, 1 - 22 / 1024, 1e-12);
  // n = 8: only the whole range reaches 95% (1 - 2/256)
  const e = medianInterval([3, 1, 4, 1, 5, 9, 2, 6]);
  assert.deepEqual([e.lo, e.hi], [1, 9]);
  close(e.coverage, 1 - 2 / 256, 1e-12);
  // n = 5 cannot reach 95%: the whole range with its coverage, 1 - 2/32
  close(medianInterval([1, 2, 3, 4, 5]).coverage, 1 - 2 / 32, 1e-12);
  // a lower level narrows it: n = 10 at 80% is [x(3), x(8)]
  assert.deepEqual(
    [medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.8).lo, medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.8).hi],
    [3, 8],
  );
  assert.throws(() => medianInterval([1, Number.NaN]), /medianInterval: value 1/);
});
