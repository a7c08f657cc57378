import assert from "node:assert/strict";
import { test } from "node:test";
import { roundToF16 } from "../quant/f16.js";
import { applyLowRank, type LowRankMap } from "./linear-fit.js";
import { StandInKernel, unitRms } from "./linear-kernel.js";

/** a deterministic pseudo-random map with f16-exact U, V (as read from a side file) */
function randomMap(dim: number, rank: number, seed: number): LowRankMap {
  let s = seed;
  const rnd = () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const h = roundToF16;
  return {
    dim,
    rank,
    // b beyond f16's range (Gemma's are), U/V with subnormal halves and negative zeros
    b: Float32Array.from({ length: dim }, (_, i) => (i === 1 ? 1e5 : rnd() * 40)),
    U: Float32Array.from({ length: dim * rank }, (_, i) => h(i % 17 === 3 ? 3e-7 : i % 23 === 5 ? -0 : rnd() * 0.2)),
    V: Float32Array.from({ length: dim * rank }, (_, i) => h(i % 19 === 4 ? -2e-6 : rnd() * 0.3)),
  };
}

test("the wasm stand-in kernel equals the TypeScript reference bit for bit", () => {
  // multiples of the kernel's 8-wide blocks, and shapes that exercise its scalar tails
  for (const [dim, rank] of [
    [576, 32],
    [64, 8],
    [37, 11],
    [8, 3],
    [5, 16],
  ]) {
    const maps = [null, randomMap(dim, rank, dim * 31 + rank), randomMap(dim, rank, 7)];
    const k = new StandInKernel(maps, dim, rank);
    assert.equal(k.has(0), false);
    for (const layer of [1, 2]) {
      const row = Float32Array.from({ length: 2 * dim }, (_, i) => Math.sin(i * 0.7 + layer) * (i % 5 === 0 ? 30 : 1));
      const want = row.slice();
      const xn = new Float32Array(dim);
      unitRms(want, dim, dim, xn);
      applyLowRank(maps[layer]!, xn, 0, want, dim, new Float64Array(rank));
      k.apply(layer, row, dim);
      assert.deepEqual(row, want, `dim ${dim}, rank ${rank}, layer ${layer}`);
    }
    const untouched = new Float32Array(dim).fill(1);
    k.apply(0, untouched, 0);
    assert.ok(untouched.every((v) => v === 1));
  }
});

test("the stand-in kernel refuses maps that are not f16 or not of its shape", () => {
  const m = randomMap(16, 8, 1);
  assert.throws(() => new StandInKernel([{ ...m, V: m.V.map((v, i) => (i === 3 ? 0.1 : v)) }], 16, 8), /layer 0's V holds 0.1.*not an f16/);
  assert.throws(() => new StandInKernel([m], 16, 4), /layer 0's map is 16×8, not 16×4/);
});
