import assert from "node:assert/strict";
import { test } from "node:test";
import { drive, type CosineFn } from "../../test/helpers/fake-driver.js";
import { FfnSkipPolicy, type FfnSkipOptions } from "./ffn-skip.js";
import { traceCounts, withTrace } from "./trace.js";

const L = 12;
const skipped = (ran: boolean[]): number[] => ran.flatMap((r, l) => (r ? [] : [l]));
const base: FfnSkipOptions = { warmup: 0, coldStart: 2, coldEnd: 2, tau: 0.9, k: 3 };
const run = (o: Partial<FfnSkipOptions>, cos: CosineFn, decodeTokens = 3, promptTokens = 4) =>
  drive(new FfnSkipPolicy(L, { ...base, ...o }), { nLayers: L, promptTokens, decodeTokens, cos });

test("tau > 1 never skips, even with cosine 1", () => {
  for (const ran of run({ tau: 1.01 }, () => 1)) assert.deepEqual(skipped(ran), []);
});

test("k-window: after a skipped window the next layer runs and is checked again", () => {
  // Layer 1 (cold start) opens a window at 2; 5 runs and reopens; 9 runs; 10-11 cold.
  for (const ran of run({}, () => 0.95)) assert.deepEqual(skipped(ran), [2, 3, 4, 6, 7, 8]);
});

test("maxWindows 1 is the research code's one window per token", () => {
  for (const ran of run({ maxWindows: 1 }, () => 0.95)) assert.deepEqual(skipped(ran), [2, 3, 4]);
});

test("only a cosine above tau opens a window, for exactly the next k layers", () => {
  const ran = run({}, (l) => (l === 3 ? 0.95 : 0.5));
  for (const r of ran) assert.deepEqual(skipped(r), [4, 5, 6]);
  // cosine equal to tau does not skip (strictly greater)
  for (const r of run({}, () => 0.9)) assert.deepEqual(skipped(r), []);
});

test("a window never reaches into the cold end", () => {
  for (const r of run({}, (l) => (l === 7 ? 0.99 : 0))) assert.deepEqual(skipped(r), [8, 9]);
  // a high cosine in the last middle layer opens nothing
  for (const r of run({}, (l) => (l === 9 ? 0.99 : 0))) assert.deepEqual(skipped(r), []);
  // nor does one inside the cold end or early cold start
  for (const r of run({}, (l) => (l === 0 || l >= 10 ? 0.99 : 0))) assert.deepEqual(skipped(r), []);
});

test("cold start: no layer below coldStart is skipped; coldStart 0 has no cosine to start from", () => {
  for (const r of run({ coldStart: 0, coldEnd: 0, k: 2 }, () => 0.95)) {
    assert.deepEqual(skipped(r), [1, 2, 4, 5, 7, 8, 10, 11]);
  }
});

test("prompt and warm-up tokens run dense and are not counted", () => {
  const p = withTrace(new FfnSkipPolicy(L, { ...base, warmup: 2 }));
  const ran = drive(p, { nLayers: L, promptTokens: 5, decodeTokens: 4, cos: () => 0.95 });
  assert.deepEqual(skipped(ran[0]), []);
  assert.deepEqual(skipped(ran[1]), []);
  assert.deepEqual(skipped(ran[2]), [2, 3, 4, 6, 7, 8]);
  assert.equal(p.records[0].phase, "prompt");
  assert.ok(p.records[0].ran.every((r) => r));
  const s = p.stats();
  assert.equal(s.total_ffn, L * 2);
  assert.equal(s.skipped_ffn, 12);
  assert.equal(s.ratio, 0.5);
  assert.equal(s.tokens, 2);
  assert.deepEqual(s.per_layer, [0, 0, 2, 2, 2, 0, 2, 2, 2, 0, 0, 0]);
  const t = traceCounts(p.records);
  assert.equal(t.skipped_ffn, s.skipped_ffn);
  assert.equal(t.total_ffn, s.total_ffn);
});

test("schedule cycles k per decode token after warm-up; 0 is a full-compute token", () => {
  const ran = run({ schedule: [1, 2, 0], warmup: 1 }, () => 0.95, 7);
  const expect = [[], [2, 4, 6, 8], [2, 3, 5, 6, 8, 9], [], [2, 4, 6, 8], [2, 3, 5, 6, 8, 9], []];
  assert.deepEqual(ran.map(skipped), expect);
});

test("stats equal the trace's counts on irregular cosines; reset clears", () => {
  const p = withTrace(new FfnSkipPolicy(L, { ...base, warmup: 1, schedule: [3, 1, 2] }));
  const cos: CosineFn = (l, g) => 0.8 + 0.2 * (((l * 7 + g * 13) % 11) / 10);
  drive(p, { nLayers: L, promptTokens: 3, decodeTokens: 25, cos });
  const s = p.stats();
  const t = traceCounts(p.records);
  assert.ok(s.skipped_ffn > 0 && s.skipped_ffn < s.total_ffn);
  assert.equal(s.skipped_ffn, t.skipped_ffn);
  assert.equal(s.total_ffn, t.total_ffn);
  assert.equal(s.ratio, t.ratio);
  // every recorded cosine is NaN exactly where the FFN did not run
  for (const r of p.records) r.ran.forEach((ran, l) => assert.equal(Number.isNaN(r.cos[l]), !ran));
  p.reset();
  assert.deepEqual(
    { ...p.stats(), per_layer: undefined },
    { method: "ffn-skip", ratio: 0, skipped_ffn: 0, total_ffn: 0, tokens: 0, per_layer: undefined },
  );
  // a fresh sequence replays identically
  p.clearTrace();
  drive(p, { nLayers: L, promptTokens: 3, decodeTokens: 25, cos });
  assert.deepEqual(p.stats(), s);
});

test("window state does not leak from one token to the next", () => {
  // token 0: layer 8 opens a window reaching 9 only; token 1 has low cosines
  const ran = run({}, (l, g) => (g === 0 && l === 8 ? 0.99 : 0), 2, 0);
  assert.deepEqual(ran.map(skipped), [[9], []]);
});
