import assert from "node:assert/strict";
import { test } from "node:test";
import { calibrateGuarded } from "./calibrate-guarded.js";
import type { SkipConfig } from "./config.js";

/** A fake model: the ratio falls linearly as tau rises (k = 2 reaches twice as far), agreement falls with the ratio, worse for k = 2. */
const fake = async (c: SkipConfig) => {
  const { tau, k } = c as { tau: number; k: number };
  const ratio = Math.max(0, Math.min(1, (1 - tau) * 2 * k));
  return { ratio, agreement: 1 - ratio * (k === 2 ? 1.5 : 1) };
};

test("bisects tau per k to the highest tau meeting the target and keeps the guards", async () => {
  const r = await calibrateGuarded({
    nLayers: 30,
    targetRatio: 0.25,
    evaluate: fake,
    base: { guard: 3, hold: 8, coldStart: 3, coldEnd: 3 },
  });
  assert.equal(r.met, true);
  const best = r.best.config as { tau: number; k: number; guard: number; method: string };
  assert.equal(best.method, "ffn-skip-guarded");
  assert.equal(best.guard, 3);
  // k = 1 loses less agreement at the same ratio; its exact tau for 0.24 (target − tolerance) is 0.88
  assert.equal(best.k, 1);
  assert.ok(r.best.ratio >= 0.24 && r.best.ratio < 0.25 + 0.01, `ratio ${r.best.ratio}`);
  assert.ok(best.tau <= 0.88 && best.tau > 0.87, `tau ${best.tau}`);
});

test("an unreachable target returns the highest ratio found, marked not met", async () => {
  const r = await calibrateGuarded({ nLayers: 30, targetRatio: 0.9, evaluate: async () => ({ ratio: 0.3, agreement: 0.5 }), base: {} });
  assert.equal(r.met, false);
  assert.equal(r.best.ratio, 0.3);
  await assert.rejects(calibrateGuarded({ nLayers: 30, targetRatio: 0.2, evaluate: fake, base: { standIn: 5 } }), /standIn must be/);
});
