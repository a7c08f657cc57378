import assert from "node:assert/strict";
import { test } from "node:test";
import { calibrate, type EvalResult, type Trial } from "./calibrate.js";
import { createPolicy, type SkipConfig } from "./config.js";
import { drive } from "../../test/helpers/fake-driver.js";
import { mulberry32 } from "../util/rng.js";

const L = 20;
// Synthetic model: middle layers saturate (cosine near 1), outer layers do not;
// each token gets its own noise. Cosines are fixed per (layer, token).
const COS: number[][] = (() => {
  const r = mulberry32(3);
  return Array.from({ length: 40 }, () =>
    Array.from({ length: L }, (_, l) => {
      const depth = Math.min(l, L - 1 - l) / (L / 2); // 0 at the ends, ~1 in the middle
      return 1 - (0.3 * (1 - depth) ** 2 + 0.002) * (0.5 + r());
    }),
  );
})();

let calls = 0;
/** Runs the real policy on the synthetic cosines; skipping a low-cosine FFN costs agreement. */
async function evaluate(c: SkipConfig): Promise<EvalResult> {
  calls++;
  const p = createPolicy(c, L);
  const ran = drive(p, { nLayers: L, promptTokens: 5, decodeTokens: COS.length, cos: (l, g) => (g < 0 ? 0.5 : COS[g][l]) });
  let damage = 0;
  ran.forEach((r, g) =>
    r.forEach((x, l) => {
      if (!x) damage += 1 - COS[g][l];
    }),
  );
  return { ratio: p.stats().ratio, agreement: Math.max(0, 1 - damage / COS.length), kl: damage / COS.length };
}

test("calibrate meets the target with the trial closest to dense", async () => {
  calls = 0;
  const res = await calibrate({ nLayers: L, targetRatio: 0.25, evaluate, base: { warmup: 0 } });
  assert.equal(res.met, true);
  assert.equal(res.truncated, false);
  assert.ok(res.best.ratio >= 0.24, `ratio ${res.best.ratio}`);
  assert.equal(res.best.config.method, "ffn-skip");
  // cached: never the same config twice
  assert.equal(calls, res.trials.length);
  assert.equal(new Set(res.trials.map((t) => JSON.stringify(t.config))).size, res.trials.length);
  // best is the highest agreement among the trials that meet the target
  const ok = res.trials.filter((t) => t.ratio >= 0.24);
  assert.equal(res.best.agreement, Math.max(...ok.map((t) => t.agreement)));
  // and no config of a brute-force sweep over the same cells does clearly better
  const c = res.best.config as { coldStart: number; coldEnd: number; k: number };
  let brute: Trial | null = null;
  for (const cs of [2, 4])
    for (const ce of [2, 4])
      for (const k of [1, 2, 4])
        for (let i = 0; i <= 60; i++) {
          const cfg: SkipConfig = { method: "ffn-skip", warmup: 0, coldStart: cs, coldEnd: ce, k, tau: 0.7 + i * 0.005 };
          const t = { config: cfg, ...(await evaluate(cfg)) };
          if (t.ratio >= 0.24 && (!brute || t.agreement > brute.agreement)) brute = t;
        }
  assert.ok(
    brute && res.best.agreement >= brute.agreement - 0.01,
    `best ${res.best.agreement} (${JSON.stringify(c)}) vs brute ${brute?.agreement}`,
  );
});

test("an unreachable target returns the highest ratio, met=false", async () => {
  const res = await calibrate({ nLayers: L, targetRatio: 0.9, evaluate, grid: { k: [1] } });
  assert.equal(res.met, false);
  assert.equal(res.best.ratio, Math.max(...res.trials.map((t) => t.ratio)));
  // one feasibility probe per cell (2 cold starts × 2 cold ends × 1 k)
  assert.equal(res.trials.length, 4);
});

test("maxEvals stops the search and reports it", async () => {
  const res = await calibrate({ nLayers: L, targetRatio: 0.2, evaluate, maxEvals: 3 });
  assert.equal(res.truncated, true);
  assert.equal(res.trials.length, 3);
});

test("tau bisection closes the bracket around the highest tau that meets the target", async () => {
  const res = await calibrate({ nLayers: L, targetRatio: 0.2, evaluate, grid: { coldStart: [2], coldEnd: [2], k: [2] }, bisect: 8 });
  const tau = (t: Trial) => (t.config as { tau: number }).tau;
  const hit = Math.max(...res.trials.filter((t) => t.ratio >= 0.19).map(tau));
  const miss = Math.min(...res.trials.filter((t) => t.ratio < 0.19 && tau(t) > hit).map(tau));
  // the widest grid bracket is [-1, 0.6]: 8 halvings leave at most 1.6 / 256
  assert.ok(miss - hit <= 1.6 / 256 + 1e-9, `bracket [${hit}, ${miss}]`);
  assert.ok(hit > 0.9 && hit < 1, `hit ${hit}`);
});

test("calibrate rejects bad options", async () => {
  await assert.rejects(calibrate({ nLayers: L, targetRatio: 0, evaluate }), /targetRatio must be in \(0, 1\)/);
  await assert.rejects(calibrate({ nLayers: L, targetRatio: 0.2, evaluate, grid: { k: [-1] } }), /k must be an integer ≥ 0/);
  await assert.rejects(calibrate({ nLayers: L, targetRatio: 0.2, evaluate, grid: { coldStart: [15], coldEnd: [5] } }), /no grid cell/);
  await assert.rejects(calibrate({ nLayers: L, targetRatio: 0.2, evaluate: async () => ({ ratio: NaN, agreement: 1 }) }), /non-finite/);
});
