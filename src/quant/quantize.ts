/**
 * Row quantization, for the weight copies the engine makes at run time
 * (ffn-prune's compact down projection, src/model/compact-ffn.ts). Q4_1 as
 * ggml stores it (dequant.ts): per block of 32, f16 d and m, then 16 bytes,
 * byte j holding value j in its low nibble and value j + 16 in its high one;
 * x ≈ q·d + m with q in 0..15. m is the block's minimum and d its range over
 * 15, both rounded to f16 first and q rounded against those rounded values,
 * so a block that was itself Q4_1 with q spanning 0..15 comes back exactly.
 */
import { f32ToF16, F16_TABLE } from "./f16.js";

/** Quantize n values (a multiple of 32) of x from xAt to Q4_1 into dst from dstAt (n / 32 · 20 bytes). */
export function quantizeRowQ4_1(x: Float32Array, xAt: number, n: number, dst: Uint8Array, dstAt: number): void {
  if (n % 32 !== 0) throw new Error(`quantizeRowQ4_1: ${n} values are not whole blocks of 32`);
  for (let b = 0; b < n / 32; b++) {
    const s = xAt + b * 32,
      o = dstAt + b * 20;
    let lo = Infinity,
      hi = -Infinity;
    for (let j = 0; j < 32; j++) {
      const v = x[s + j];
      if (!Number.isFinite(v)) throw new Error(`quantizeRowQ4_1: value ${v} at ${s + j} is not finite`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const mBits = f32ToF16(lo),
      dBits = f32ToF16((hi - lo) / 15);
    const m = F16_TABLE[mBits],
      d = F16_TABLE[dBits];
    const inv = d > 0 ? 1 / d : 0;
    dst[o] = dBits & 255;
    dst[o + 1] = dBits >> 8;
    dst[o + 2] = mBits & 255;
    dst[o + 3] = mBits >> 8;
    const q = (v: number) => Math.max(0, Math.min(15, Math.round((v - m) * inv)));
    for (let j = 0; j < 16; j++) dst[o + 4 + j] = q(x[s + j]) | (q(x[s + j + 16]) << 4);
  }
}
