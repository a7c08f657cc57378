import assert from "node:assert/strict";
import { test } from "node:test";
import { lineChart, niceTicks } from "../util/chart.js";
import { FfnSkipPolicy } from "./ffn-skip.js";
import { drive } from "../../test/helpers/fake-driver.js";
import { cosineProfile, cosineProfileChart, quantile, summarize } from "./profile.js";
import { withTrace } from "./trace.js";

test("summarize: mean and numpy-style quartiles, NaN ignored", () => {
  assert.deepEqual(summarize([4, NaN, 1, 3, 2]), { n: 4, mean: 2.5, min: 1, q1: 1.75, median: 2.5, q3: 3.25, max: 4 });
  assert.equal(quantile([7], 0.25), 7);
  const e = summarize([]);
  assert.equal(e.n, 0);
  assert.ok(Number.isNaN(e.mean) && Number.isNaN(e.q1));
});

test("cosineProfile keeps prompt and generated apart and skips uncomputed FFNs", () => {
  const L = 6;
  const p = withTrace(new FfnSkipPolicy(L, { warmup: 1, coldStart: 1, coldEnd: 1, tau: 0.9, k: 1 }));
  // prompt cosine 0.5 + l/100; decode cosine 0.95 at layer 1 (opens a window at 2), else 0.2 + g/10
  drive(p, { nLayers: L, promptTokens: 3, decodeTokens: 3, cos: (l, g) => (g < 0 ? 0.5 + l / 100 : l === 1 ? 0.95 : 0.2 + g / 10) });
  const prof = cosineProfile(p.records, L);
  assert.deepEqual(
    prof.prompt.map((s) => s.n),
    [1, 1, 1, 1, 1, 1],
  );
  assert.deepEqual(
    prof.prompt.map((s) => s.mean),
    [0.5, 0.51, 0.52, 0.53, 0.54, 0.55],
  );
  // layer 2 ran only in the warm-up token (g = 0), later tokens skipped it
  assert.deepEqual(
    prof.generated.map((s) => s.n),
    [3, 3, 1, 3, 3, 3],
  );
  assert.equal(prof.generated[2].mean, 0.2);
  assert.ok(Math.abs(prof.generated[3].mean - 0.3) < 1e-12);
  assert.ok(Math.abs(prof.generated[3].q1 - 0.25) < 1e-12);
  assert.throws(() => cosineProfile(p.records, 7), /record has 6 layers, expected 7/);
  const svg = cosineProfileChart(prof);
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<polygon /g) ?? []).length, 2, "one IQR band per series");
  assert.match(svg, />prompt</);
  assert.match(svg, />generated</);
});

test("lineChart: a line per series, NaN breaks the line, text is escaped, output is deterministic", () => {
  const pts = [0, 1, 2, 3, 4].map((x) => ({ x, y: x === 2 ? NaN : x * x }));
  const svg = lineChart([{ name: "a<b & c", points: pts }], { title: "score vs ratio", xLabel: "ratio", yLabel: "score" });
  assert.match(svg, /a&lt;b &amp; c/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 2, "split at the NaN");
  assert.equal((svg.match(/<circle /g) ?? []).length, 4);
  assert.doesNotMatch(svg, /NaN/);
  assert.equal(svg, lineChart([{ name: "a<b & c", points: pts }], { title: "score vs ratio", xLabel: "ratio", yLabel: "score" }));
  assert.throws(() => lineChart([], { width: 100, height: 50 }), /too small/);
  assert.doesNotMatch(lineChart([{ name: "flat", points: [{ x: 1, y: 1 }] }]), /NaN|Infinity/);
});

test("niceTicks gives round steps covering the range", () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(0.93, 1, 7), [0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 1]);
  assert.deepEqual(niceTicks(0, 29, 8), [0, 5, 10, 15, 20, 25]);
});
