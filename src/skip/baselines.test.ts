// Tests of the baseline policies (dense, random, static, early exit, layer drop)
// through the fake forward pass, with stats checked against the trace.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DensePolicy } from "./dense.js";
import { EarlyExitPolicy } from "./early-exit.js";
import { drive } from "../../test/helpers/fake-driver.js";
import { LayerDropPolicy } from "./layer-drop.js";
import type { SkipPolicy } from "./policy.js";
import { RandomPolicy } from "./random.js";
import { mulberry32 } from "../util/rng.js";
import { StaticPolicy } from "./static.js";
import { traceCounts, withTrace, type StepRecord } from "./trace.js";

const L = 12;
const skipped = (ran: boolean[]): number[] => ran.flatMap((r, l) => (r ? [] : [l]));
const traced = (p: SkipPolicy, decodeTokens: number, cos = (_l: number, _g: number) => 0.5) => {
  const t = withTrace(p);
  drive(t, { nLayers: L, promptTokens: 4, decodeTokens, cos });
  const s = t.stats();
  const c = traceCounts(t.records);
  assert.equal(s.skipped_ffn, c.skipped_ffn, "stats skipped = trace count");
  assert.equal(s.total_ffn, c.total_ffn, "stats total = trace count");
  return { t, s, decode: t.records.filter((r) => r.phase === "decode") };
};

test("dense never skips; counts every decode token", () => {
  const { s, decode } = traced(new DensePolicy(L), 5);
  assert.deepEqual([s.skipped_ffn, s.total_ffn, s.ratio, s.method], [0, 5 * L, 0, "none"]);
  for (const r of decode) assert.ok(r.ran.every((x) => x) && r.mode.every((m) => m === "run"));
});

test("mulberry32 is deterministic and in [0, 1)", () => {
  const a = mulberry32(42),
    b = mulberry32(42),
    c = mulberry32(43);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(
    Array.from({ length: 1000 }, () => b()),
    xs,
  );
  assert.notDeepEqual(
    Array.from({ length: 1000 }, () => c()),
    xs,
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.05);
});

test("random: a contiguous middle block of k each token, deterministic per seed", () => {
  const o = { warmup: 2, coldStart: 2, coldEnd: 3, k: 3, seed: 7 };
  const { t, s, decode } = traced(new RandomPolicy(L, o), 60);
  const starts = new Set<number>();
  decode.forEach((r, g) => {
    const sk = skipped(r.ran);
    if (g < 2) return assert.deepEqual(sk, []);
    assert.equal(sk.length, 3);
    assert.equal(sk[2] - sk[0], 2, "contiguous");
    assert.ok(sk[0] >= 2 && sk[2] < L - 3, `inside middle: ${sk}`);
    starts.add(sk[0]);
  });
  // all 5 possible positions [2..6] appear over 58 tokens
  assert.deepEqual([...starts].sort(), [2, 3, 4, 5, 6]);
  assert.equal(s.skipped_ffn, 58 * 3);
  const again = traced(new RandomPolicy(L, o), 60).decode.map((r) => r.ran);
  assert.deepEqual(
    again,
    decode.map((r) => r.ran),
  );
  const other = traced(new RandomPolicy(L, { ...o, seed: 8 }), 60).decode.map((r) => r.ran);
  assert.notDeepEqual(
    other,
    decode.map((r) => r.ran),
  );
  // reset reseeds: the next sequence replays the first
  const before = t.records.filter((r) => r.phase === "decode").map((r) => r.ran);
  t.reset();
  t.clearTrace();
  drive(t, { nLayers: L, promptTokens: 4, decodeTokens: 60, cos: () => 0.5 });
  assert.deepEqual(
    t.records.filter((r) => r.phase === "decode").map((r) => r.ran),
    before,
  );
  assert.equal(t.records[0].seq, 1);
});

test("random: schedule cycles the block length", () => {
  const { decode } = traced(new RandomPolicy(L, { warmup: 0, coldStart: 1, coldEnd: 1, k: 9, schedule: [2, 0, 10], seed: 1 }), 6);
  assert.deepEqual(
    decode.map((r) => skipped(r.ran).length),
    [2, 0, 10, 2, 0, 10],
  );
  assert.deepEqual(skipped(decode[2].ran), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test("static: the same FFNs every decode token after warm-up", () => {
  const { s, decode, t } = traced(new StaticPolicy(L, { warmup: 1, layers: [3, 7, 8] }), 6);
  assert.deepEqual(
    decode.map((r) => skipped(r.ran)),
    [[], [3, 7, 8], [3, 7, 8], [3, 7, 8], [3, 7, 8], [3, 7, 8]],
  );
  assert.ok(
    t.records[0].ran.every((x) => x),
    "prompt dense",
  );
  assert.equal(s.ratio, 15 / (5 * L));
  assert.deepEqual(s.per_layer, [0, 0, 0, 5, 0, 0, 0, 5, 5, 0, 0, 0]);
});

const modes = (r: StepRecord) => r.mode.map((m) => (m === "run" ? "R" : m === "copy-kv" ? "C" : "X")).join("");

test("early exit (adaptive): copy-kv from after the first middle layer above tau up to the cold end", () => {
  const o = { warmup: 1, coldStart: 2, coldEnd: 2, tau: 0.9 };
  // token g exits after layer 3+g; cold-start layers' cosines never trigger
  const cos = (l: number, g: number) => (l < 2 || l === 3 + g ? 0.95 : 0.5);
  const { s, decode } = traced(new EarlyExitPolicy(L, o), 5, cos);
  assert.deepEqual(decode.map(modes), ["RRRRRRRRRRRR", "RRRRRCCCCCRR", "RRRRRRCCCCRR", "RRRRRRRCCCRR", "RRRRRRRRCCRR"]);
  // copied layers do not run their FFN, and their cosine is not computed
  assert.ok(decode[1].cos.slice(5, 10).every(Number.isNaN));
  assert.equal(s.skipped_ffn, 5 + 4 + 3 + 2);
  assert.equal(s.total_ffn, 4 * L);
});

test("early exit (fixed schedule) ignores cosines and cycles the exit layer", () => {
  const p = new EarlyExitPolicy(L, { warmup: 0, coldStart: 2, coldEnd: 1, tau: 0.9, exitLayers: [6, 11, 9] });
  assert.equal(p.wantsCosine, false);
  const { decode } = traced(p, 4, () => 0.99);
  assert.deepEqual(decode.map(modes), ["RRRRRRCCCCCR", "RRRRRRRRRRRR", "RRRRRRRRRCCR", "RRRRRRCCCCCR"]);
});

test("layer drop: removed layers in every step, prompt included, counted over decode tokens", () => {
  const { s, t } = traced(new LayerDropPolicy(L, { layers: [4, 9] }), 3);
  for (const r of t.records) assert.equal(modes(r), "RRRRXRRRRXRR");
  assert.equal(t.records[0].phase, "prompt");
  assert.deepEqual([s.skipped_ffn, s.total_ffn], [6, 3 * L]);
});
