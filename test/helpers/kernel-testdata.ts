import { GGMLType, rowBytes, typeInfo } from "../../src/quant/types.js";
import type { Heap, WeightMatrix } from "../../src/kernels/types.js";

/** Deterministic PRNG so kernel tests and benches are reproducible. */
export { mulberry32 as rng } from "../../src/util/rng.js";

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/** f32 -> IEEE half bits, truncating the mantissa (only used for normal-range test values). */
export function f16Bits(v: number): number {
  f32buf[0] = v;
  const b = u32buf[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  if (v === 0 || exp <= 0) return sign;
  return sign | (Math.min(exp, 30) << 10) | ((b >>> 13) & 0x3ff);
}

function putF16(u8: Uint8Array, o: number, v: number): void {
  const h = f16Bits(v);
  u8[o] = h & 0xff;
  u8[o + 1] = h >>> 8;
}

/** Byte offsets of the f16 scale fields in one block of each quantized type. */
const SCALE_FIELDS: Partial<Record<GGMLType, number[]>> = {
  [GGMLType.Q4_0]: [0],
  [GGMLType.Q4_1]: [0, 2],
  [GGMLType.Q5_0]: [0],
  [GGMLType.Q5_1]: [0, 2],
  [GGMLType.Q8_0]: [0],
  [GGMLType.Q4_K]: [0, 2],
  [GGMLType.Q5_K]: [0, 2],
  [GGMLType.Q6_K]: [208],
};

/**
 * Fill `u8` with `rows` rows of valid random `type` data: random quant bits
 * and f16 scales of magnitude 1e-3..5e-2 (signed for the additive mins of
 * Q4_1/Q5_1), float types uniform in [-1, 1).
 */
export function fillRandomWeights(u8: Uint8Array, type: GGMLType, rows: number, cols: number, rand: () => number): void {
  const n = rows * cols;
  if (type === GGMLType.F32) {
    const f = new Float32Array(u8.buffer, u8.byteOffset, n);
    for (let i = 0; i < n; i++) f[i] = rand() * 2 - 1;
    return;
  }
  if (type === GGMLType.F16 || type === GGMLType.BF16) {
    for (let i = 0; i < n; i++) {
      const v = rand() * 2 - 1;
      f32buf[0] = v;
      const h = type === GGMLType.F16 ? f16Bits(v) : u32buf[0] >>> 16;
      u8[2 * i] = h & 0xff;
      u8[2 * i + 1] = h >>> 8;
    }
    return;
  }
  const info = typeInfo(type);
  const bytes = rows * rowBytes(type, cols);
  for (let i = 0; i < bytes; i++) u8[i] = (rand() * 256) | 0;
  const fields = SCALE_FIELDS[type]!;
  for (let b = 0; b < bytes / info.typeSize; b++) {
    for (let k = 0; k < fields.length; k++) {
      const mag = 1e-3 + rand() * 0.049;
      // The K-quant dmin is subtracted, the Q4_1/Q5_1 m added: signs vary for m only.
      const signed = k === 1 && (type === GGMLType.Q4_1 || type === GGMLType.Q5_1);
      putF16(u8, b * info.typeSize + fields[k], signed && rand() < 0.5 ? -mag : mag);
    }
  }
}

/** Allocate and fill a random `type` matrix in `heap`. */
export function randomMatrix(heap: Heap, type: GGMLType, rows: number, cols: number, rand: () => number): WeightMatrix {
  const rb = rowBytes(type, cols);
  const ptr = heap.alloc(rows * rb);
  fillRandomWeights(heap.u8(ptr, rows * rb), type, rows, cols, rand);
  return { ptr, type, rows, cols, rowBytes: rb };
}

/** Allocate `n` floats in `heap` filled with values like LLM activations (mostly small, a few outliers). */
export function randomActivations(heap: Heap, n: number, rand: () => number): number {
  const ptr = heap.alloc(n * 4);
  const x = heap.f32(ptr, n);
  for (let i = 0; i < n; i++) x[i] = (rand() * 2 - 1) * (rand() < 0.02 ? 20 : 1);
  return ptr;
}

/** Byte offsets of the f16 scales in a K-quant super-block: Q4_K/Q5_K d and dmin, Q6_K d. */
export const K_SCALE_OFFSETS: Partial<Record<GGMLType, number[]>> = {
  [GGMLType.Q4_K]: [0, 2],
  [GGMLType.Q5_K]: [0, 2],
  [GGMLType.Q6_K]: [208],
};

/**
 * Overwrite the f16 scales of the K-quant blocks in `u8` with subnormal halves
 * (exponent 0, either sign), a few normal ones and zeros between, as real
 * files have them: 99.9% of Gemma 3 270M's Q6_K scales are subnormal.
 */
export function subnormalScales(u8: Uint8Array, type: GGMLType): void {
  const offsets = K_SCALE_OFFSETS[type];
  if (!offsets) throw new Error(`subnormalScales: ${GGMLType[type]} is not a K-quant`);
  const blockBytes = typeInfo(type).typeSize;
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  for (let b = 0, i = 0; b < u8.length; b += blockBytes)
    for (const o of offsets)
      dv.setUint16(b + o, i++ % 7 === 6 ? 0x0400 + (i % 5) : i % 11 === 0 ? 0 : ((i * 389) % 1023) + 1 + (i % 3 === 0 ? 0x8000 : 0), true);
}
