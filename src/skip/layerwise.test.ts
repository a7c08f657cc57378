import assert from "node:assert/strict";
import { test } from "node:test";
import { drive, type CosineFn } from "../../test/helpers/fake-driver.js";
import { calibrateLayerwise, layerTaus, sensitivities, type LayerDamage } from "./calibrate-layerwise.js";
import type { SkipConfig } from "./config.js";
import { createPolicy } from "./config.js";
import { FfnSkipPolicy } from "./ffn-skip.js";
import { LayerwiseSkipPolicy, type LayerwiseOptions } from "./layerwise.js";

const L = 12;
const skipped = (ran: boolean[]): number[] => ran.flatMap((r, l) => (r ? [] : [l]));
const base: LayerwiseOptions = { warmup: 0, coldStart: 2, coldEnd: 2, k: 1, taus: new Array(L).fill(0.9) };
const run = (o: Partial<LayerwiseOptions>, cos: CosineFn, decodeTokens = 3) =>
  drive(new LayerwiseSkipPolicy(L, { ...base, ...o }), { nLayers: L, promptTokens: 4, decodeTokens, cos });

test("equal thresholds make exactly ffn-skip's decisions (irregular cosines, k 1, 2 and 3, a window limit)", () => {
  const cos: CosineFn = (l, g) => 0.8 + 0.2 * (((l * 7 + g * 13) % 11) / 10);
  for (const k of [1, 2, 3]) {
    for (const maxWindows of [undefined, 1]) {
      const o = { warmup: 1, coldStart: 2, coldEnd: 2, k, maxWindows };
      const a = drive(new FfnSkipPolicy(L, { ...o, tau: 0.9 }), { nLayers: L, promptTokens: 3, decodeTokens: 20, cos });
      const lw = new LayerwiseSkipPolicy(L, { ...o, taus: new Array(L).fill(0.9) });
      const b = drive(lw, { nLayers: L, promptTokens: 3, decodeTokens: 20, cos });
      assert.deepEqual(b, a, `k ${k}, maxWindows ${maxWindows}`);
      assert.ok(lw.stats().skipped_ffn > 0);
    }
  }
});

test("each layer's own threshold decides whether a window opens AT that layer", () => {
  // every cosine 0.95; a window at layer 4 needs more than 0.97: with k 1 ffn-skip would skip 2, 4, 6, 8
  const taus = new Array(L).fill(0.9);
  taus[4] = 0.97;
  for (const r of run({ taus }, () => 0.95)) assert.deepEqual(skipped(r), [2, 5, 7, 9]);
  // a threshold above 1 never opens a window there, even at cosine 1
  const never = new Array(L).fill(1.5);
  for (const r of run({ taus: never }, () => 1)) assert.deepEqual(skipped(r), []);
  // the threshold of the skipped layer is used, not the one of the layer whose cosine is read
  const t2 = new Array(L).fill(2);
  t2[6] = 0.5;
  for (const r of run({ taus: t2 }, () => 0.6)) assert.deepEqual(skipped(r), [6]);
});

test("prompt and warm-up tokens run dense; cold layers are never skipped", () => {
  const ran = drive(new LayerwiseSkipPolicy(L, { ...base, warmup: 2, taus: new Array(L).fill(-1) }), {
    nLayers: L,
    promptTokens: 5,
    decodeTokens: 3,
    cos: () => 0.99,
  });
  assert.deepEqual(ran.map(skipped), [[], [], [2, 4, 6, 8]]);
});

test("the config checks taus against the model and the profile/flag kinds accept a list of numbers", () => {
  assert.throws(() => createPolicy({ method: "ffn-skip-layerwise", taus: [0.9, 0.9] }, L), /taus has 2 entries, the model has 12/);
  assert.throws(() => createPolicy({ method: "ffn-skip-layerwise", taus: new Array(L).fill(3) }, L), /each of taus/);
  assert.throws(() => createPolicy({ method: "ffn-skip-layerwise" } as SkipConfig, L), /needs taus/);
  assert.equal(createPolicy({ method: "ffn-skip-layerwise", taus: new Array(L).fill(0.9) }, L).method, "ffn-skip-layerwise");
});

test("sensitivities and thresholds: a layer with more damage per cosine gap gets a higher threshold", () => {
  const gap: number[][] = Array.from({ length: L }, () => []),
    kl: number[][] = Array.from({ length: L }, () => []);
  for (let l = 2; l < L - 2; l++) {
    gap[l] = [0.01, 0.03];
    kl[l] = [0.04 * (l === 5 ? 4 : 1), 0.12 * (l === 5 ? 4 : 1)];
  }
  const d: LayerDamage = { nLayers: L, coldStart: 2, coldEnd: 2, gap, kl };
  const w = sensitivities(d);
  assert.ok(Math.abs(w[3] - 4) < 1e-12 && Math.abs(w[5] - 16) < 1e-12, `w ${w}`);
  const taus = layerTaus(w, 0.05, 1, 2, 2);
  assert.equal(taus[0], 2);
  assert.equal(taus[L - 1], 2);
  assert.ok(taus[5] > taus[3], `taus ${taus}`);
  // alpha 0 is one global tau = 1 − c
  assert.ok(
    layerTaus(w, 0.05, 0, 2, 2)
      .slice(2, L - 2)
      .every((t) => t === 0.95),
  );
  // geometric mean of w over the 8 middle layers: 4 · 4^(1/8); layer 3's threshold is 1 − c · 4^(1/8)
  assert.ok(Math.abs(taus[3] - (1 - 0.05 * 4 ** (1 / 8))) < 1e-7, `tau[3] ${taus[3]}`);
});

test("calibrateLayerwise bisects the global knob to the smallest c meeting the target", async () => {
  const w = new Array(L).fill(NaN).map((_, l) => (l >= 2 && l < L - 2 ? 1 + l : NaN));
  // fake model: the ratio is the mean over middle layers of clamp((1 − tau) · 2)
  const fake = async (c: SkipConfig) => {
    const t = (c as { taus: number[] }).taus.slice(2, L - 2);
    const ratio = t.reduce((s, x) => s + Math.max(0, Math.min(1, (1 - x) * 2)), 0) / t.length / 2;
    return { ratio, agreement: 1 - ratio };
  };
  const r = await calibrateLayerwise({ nLayers: L, targetRatio: 0.1, evaluate: fake, w, warmup: 2, coldStart: 2, coldEnd: 2 });
  assert.equal(r.met, true);
  assert.ok(r.best.ratio >= 0.09 && r.best.ratio < 0.1, `ratio ${r.best.ratio}`);
  const cfg = r.best.config as { method: string; taus: number[]; k: number };
  assert.equal(cfg.method, "ffn-skip-layerwise");
  assert.equal(cfg.k, 1);
  assert.ok(cfg.taus[2] < cfg.taus[9], "the more sensitive layer has the higher threshold");
  const far = await calibrateLayerwise({ nLayers: L, targetRatio: 0.9, evaluate: fake, w, warmup: 2, coldStart: 2, coldEnd: 2 });
  assert.equal(far.met, false);
});
