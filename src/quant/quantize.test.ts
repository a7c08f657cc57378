import { test } from "node:test";
import assert from "node:assert/strict";
import { GGMLType } from "./types.js";
import { dequantizeRow } from "./dequant.js";
import { quantizeRowQ4_1 } from "./quantize.js";

function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) / 16777216;
  };
}

test("Q4_1 quantization: every value within half a step of the block (plus f16 rounding of m)", () => {
  const rand = rng(3);
  const n = 32 * 40;
  const x = Float32Array.from({ length: n }, (_, i) => (rand() * 2 - 1) * (1 + (i >> 5)) * 0.01 + (i % 7 === 0 ? 0.05 : 0));
  const q = new Uint8Array((n / 32) * 20);
  quantizeRowQ4_1(x, 0, n, q, 0);
  const y = new Float32Array(n);
  dequantizeRow(GGMLType.Q4_1, q, 0, y, 0, n);
  for (let b = 0; b < n / 32; b++) {
    let lo = Infinity,
      hi = -Infinity;
    for (let j = 0; j < 32; j++) {
      lo = Math.min(lo, x[32 * b + j]);
      hi = Math.max(hi, x[32 * b + j]);
    }
    const step = (hi - lo) / 15;
    for (let j = 0; j < 32; j++) {
      const e = Math.abs(y[32 * b + j] - x[32 * b + j]);
      assert.ok(e <= step * 0.51 + Math.abs(lo) * 1e-3 + 1e-7, `block ${b} value ${j}: error ${e} > half step ${step / 2}`);
    }
  }
});

test("Q4_1 quantization gives back a Q4_1 row whose blocks use q = 0 and 15, bit for bit", () => {
  const rand = rng(11);
  const blocks = 24;
  const src = new Uint8Array(blocks * 20);
  for (let b = 0; b < blocks; b++) {
    const o = b * 20;
    // d and m as f16 bits: d = 0x2000..0x2fff (small positive), m negative or positive
    const d = 0x2000 + Math.floor(rand() * 0x0fff),
      m = (0x2400 + Math.floor(rand() * 0x0fff)) | (b & 1 ? 0x8000 : 0);
    src.set([d & 255, d >> 8, m & 255, m >> 8], o);
    for (let j = 0; j < 16; j++) src[o + 4 + j] = Math.floor(rand() * 256);
    src[o + 4] = 0x0f; // value 0 at q = 15, value 16 at q = 0
  }
  const x = new Float32Array(blocks * 32);
  dequantizeRow(GGMLType.Q4_1, src, 0, x, 0, x.length);
  const again = new Uint8Array(src.length);
  quantizeRowQ4_1(x, 0, x.length, again, 0);
  const y = new Float32Array(x.length);
  dequantizeRow(GGMLType.Q4_1, again, 0, y, 0, y.length);
  assert.deepEqual(y, x);
});

test("Q4_1 quantization refuses partial blocks and non-finite values", () => {
  assert.throws(() => quantizeRowQ4_1(new Float32Array(40), 0, 40, new Uint8Array(40), 0), /not whole blocks of 32/);
  const x = new Float32Array(32);
  x[5] = Number.NaN;
  assert.throws(() => quantizeRowQ4_1(x, 0, 32, new Uint8Array(20), 0), /not finite/);
});
