/**
 * Reference dequantization of ggml tensor types to f32, exactly as ggml's
 * dequantize_row_* (and gguf-python's dequantize) compute it: every
 * arithmetic step is rounded to f32 (Math.fround) in the same order, so the
 * results are bit-identical. Slow and obvious on purpose: the fast kernels are
 * tested against this.
 *
 * Block layouts (little-endian; "f16" is an fp16 scale):
 *   Q4_0 (32 values, 18 B): f16 d, u8 qs[16]      x = (nibble - 8) * d
 *   Q4_1 (32 values, 20 B): f16 d, f16 m, qs[16]  x = nibble * d + m
 *   Q5_0 (32 values, 22 B): f16 d, u32 qh, qs[16] x = ((nibble | hbit << 4) - 16) * d
 *   Q5_1 (32 values, 24 B): f16 d, f16 m, u32 qh, qs[16]  x = (nibble | hbit << 4) * d + m
 *   Q8_0 (32 values, 34 B): f16 d, i8 qs[32]      x = q * d
 *   In the 32-value types, byte j holds value j in its low nibble and value
 *   j+16 in its high nibble; bit j of qh is the fifth bit of value j.
 *   Q4_K / Q5_K / Q6_K: 256-value super-blocks, see the functions below.
 */
import { GGMLType, typeInfo } from "./types.js";
import { F16_TABLE } from "./f16.js";

const fr = Math.fround;

function f16At(src: Uint8Array, o: number): number {
  return F16_TABLE[src[o] | (src[o + 1] << 8)];
}

function dequantF32(src: Uint8Array, so: number, dst: Float32Array, dof: number, n: number): void {
  const dv = new DataView(src.buffer, src.byteOffset + so, n * 4);
  for (let i = 0; i < n; i++) dst[dof + i] = dv.getFloat32(i * 4, true);
}

function dequantF16(src: Uint8Array, so: number, dst: Float32Array, dof: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dof + i] = f16At(src, so + 2 * i);
}

function dequantBF16(src: Uint8Array, so: number, dst: Float32Array, dof: number, n: number): void {
  // bf16 is the top 16 bits of an f32: write the bits through an integer view.
  const bits = new Uint32Array(n);
  for (let i = 0; i < n; i++) bits[i] = ((src[so + 2 * i] | (src[so + 2 * i + 1] << 8)) << 16) >>> 0;
  dst.set(new Float32Array(bits.buffer), dof);
}

function dequantQ4_0(src: Uint8Array, so: number, dst: Float32Array, dof: number, nb: number): void {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 18;
    const y = dof + b * 32;
    const d = f16At(src, o);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 2 + j];
      dst[y + j] = fr(((q & 0x0f) - 8) * d);
      dst[y + j + 16] = fr(((q >> 4) - 8) * d);
    }
  }
}

function dequantQ4_1(src: Uint8Array, so: number, dst: Float32Array, dof: number, nb: number): void {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 20;
    const y = dof + b * 32;
    const d = f16At(src, o);
    const m = f16At(src, o + 2);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 4 + j];
      dst[y + j] = fr(fr((q & 0x0f) * d) + m);
      dst[y + j + 16] = fr(fr((q >> 4) * d) + m);
    }
  }
}

function readU32(src: Uint8Array, o: number): number {
  return (src[o] | (src[o + 1] << 8) | (src[o + 2] << 16) | (src[o + 3] << 24)) >>> 0;
}

function dequantQ5_0(src: Uint8Array, so: number, dst: Float32Array, dof: number, nb: number): void {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 22;
    const y = dof + b * 32;
    const d = f16At(src, o);
    const qh = readU32(src, o + 2);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 6 + j];
      const h0 = (qh >>> j) & 1;
      const h1 = (qh >>> (j + 16)) & 1;
      dst[y + j] = fr((((q & 0x0f) | (h0 << 4)) - 16) * d);
      dst[y + j + 16] = fr((((q >> 4) | (h1 << 4)) - 16) * d);
    }
  }
}

function dequantQ5_1(src: Uint8Array, so: number, dst: Float32Array, dof: number, nb: number): void {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 24;
    const y = dof + b * 32;
    const d = f16At(src, o);
    const m = f16At(src, o + 2);
    const qh = readU32(src, o + 4);
    for (let j = 0; j < 16; j++) {
      const q = src[o + 8 + j];
      const h0 = (qh >>> j) & 1;
      const h1 = (qh >>> (j + 16)) & 1;
      dst[y + j] = fr(fr(((q & 0x0f) | (h0 << 4)) * d) + m);
      dst[y + j + 16] = fr(fr(((q >> 4) | (h1 << 4)) * d) + m);
    }
  }
}

function dequantQ8_0(src: Uint8Array, so: number, dst: Float32Array, dof: number, nb: number): void {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 34;
    const y = dof + b * 32;
    const d = f16At(src, o);
    for (let j = 0; j < 32; j++) {
      const q = (src[o + 2 + j] << 24) >> 24; // sign-extend the int8
      dst[y + j] = fr(q * d);
    }
  }
}

/**
 * K-quant 6-bit scale and min number `j` (0..7) from the 12 packed bytes at `s`:
 * the first four pairs are the low 6 bits of bytes 0..3 (scales) and 4..7 (mins);
 * the last four take their low 4 bits from bytes 8..11 and their top 2 bits
 * from the spare top bits of bytes 0..7.
 */
function scaleMinK4(src: Uint8Array, s: number, j: number, out: Int32Array): void {
  if (j < 4) {
    out[0] = src[s + j] & 63;
    out[1] = src[s + j + 4] & 63;
  } else {
    out[0] = (src[s + j + 4] & 0x0f) | ((src[s + j - 4] >> 6) << 4);
    out[1] = (src[s + j + 4] >> 4) | ((src[s + j] >> 6) << 4);
  }
}

const sc = new Int32Array(2);

/**
 * Q4_K (256 values, 144 B): f16 d, f16 dmin, u8 scales[12], u8 qs[128].
 * Q5_K (256 values, 176 B): f16 d, f16 dmin, u8 scales[12], u8 qh[32], u8 qs[128].
 * Eight sub-blocks of 32 values with a 6-bit scale and min each; chunk c
 * (values 64c..64c+63) is the 32 bytes qs[32c..]: low nibbles are sub-block
 * 2c, high nibbles sub-block 2c+1. Q5_K adds a fifth bit per value: bit 2c
 * (low nibble) or 2c+1 (high nibble) of qh[l].
 * x = (d*scale) * q - (dmin*min).
 */
function dequantQ4Q5_K(src: Uint8Array, so: number, dst: Float32Array, dof: number, nb: number, fiveBit: boolean): void {
  const blockBytes = fiveBit ? 176 : 144;
  const qsStart = fiveBit ? 48 : 16;
  for (let b = 0; b < nb; b++) {
    const o = so + b * blockBytes;
    const d = f16At(src, o);
    const dmin = f16At(src, o + 2);
    const s = o + 4;
    const qh = o + 16; // Q5_K only
    for (let c = 0; c < 4; c++) {
      const qs = o + qsStart + c * 32;
      const y = dof + b * 256 + c * 64;
      scaleMinK4(src, s, 2 * c, sc);
      const d1 = fr(d * sc[0]);
      const m1 = fr(dmin * sc[1]);
      scaleMinK4(src, s, 2 * c + 1, sc);
      const d2 = fr(d * sc[0]);
      const m2 = fr(dmin * sc[1]);
      for (let l = 0; l < 32; l++) {
        const q = src[qs + l];
        const h = fiveBit ? src[qh + l] : 0;
        const q1 = (q & 0x0f) | (((h >> (2 * c)) & 1) << 4);
        const q2 = (q >> 4) | (((h >> (2 * c + 1)) & 1) << 4);
        dst[y + l] = fr(fr(d1 * q1) - m1);
        dst[y + 32 + l] = fr(fr(d2 * q2) - m2);
      }
    }
  }
}

/**
 * Q6_K (256 values, 210 B): u8 ql[128], u8 qh[64], i8 scales[16], f16 d (last).
 * Two halves of 128 values; in half h, for l < 32, ql[64h+l] and ql[64h+32+l]
 * give the low nibbles of values l, l+32 (low nibbles) and l+64, l+96 (high
 * nibbles); qh[32h+l] gives their top 2 bits (bits 0-1, 2-3, 4-5, 6-7).
 * Each 16 values share an int8 scale. x = d*scale * (q6 - 32).
 */
function dequantQ6_K(src: Uint8Array, so: number, dst: Float32Array, dof: number, nb: number): void {
  for (let b = 0; b < nb; b++) {
    const o = so + b * 210;
    const d = f16At(src, o + 208);
    for (let half = 0; half < 2; half++) {
      const ql = o + half * 64;
      const qh = o + 128 + half * 32;
      const sc = o + 192 + half * 8;
      const y = dof + b * 256 + half * 128;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4; // 16 values per scale
        const h = src[qh + l];
        const q1 = ((src[ql + l] & 0x0f) | ((h & 3) << 4)) - 32;
        const q2 = ((src[ql + l + 32] & 0x0f) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((src[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((src[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        const s1 = (src[sc + is] << 24) >> 24;
        const s2 = (src[sc + is + 2] << 24) >> 24;
        const s3 = (src[sc + is + 4] << 24) >> 24;
        const s4 = (src[sc + is + 6] << 24) >> 24;
        dst[y + l] = fr(fr(d * s1) * q1);
        dst[y + l + 32] = fr(fr(d * s2) * q2);
        dst[y + l + 64] = fr(fr(d * s3) * q3);
        dst[y + l + 96] = fr(fr(d * s4) * q4);
      }
    }
  }
}

/**
 * Dequantize `n` values of `type` starting at byte `srcOffset` of `src` into
 * dst[dstOffset .. dstOffset+n). `n` must be a multiple of the type's block size.
 */
export function dequantizeRow(type: GGMLType, src: Uint8Array, srcOffset: number, dst: Float32Array, dstOffset: number, n: number): void {
  const info = typeInfo(type); // throws, naming the supported types, for anything else
  if (!Number.isInteger(n) || n < 0 || n % info.blockSize !== 0) {
    throw new Error(`dequantizeRow: ${n} values is not a multiple of the ${info.name} block size ${info.blockSize}`);
  }
  const nb = n / info.blockSize;
  const bytes = nb * info.typeSize;
  if (srcOffset < 0 || srcOffset + bytes > src.length) {
    throw new Error(`dequantizeRow: ${info.name} source needs ${bytes} bytes at offset ${srcOffset}, but has ${src.length}`);
  }
  if (dstOffset < 0 || dstOffset + n > dst.length) {
    throw new Error(`dequantizeRow: destination needs ${n} floats at offset ${dstOffset}, but has ${dst.length}`);
  }
  switch (type) {
    case GGMLType.F32:
      return dequantF32(src, srcOffset, dst, dstOffset, n);
    case GGMLType.F16:
      return dequantF16(src, srcOffset, dst, dstOffset, n);
    case GGMLType.BF16:
      return dequantBF16(src, srcOffset, dst, dstOffset, n);
    case GGMLType.Q4_0:
      return dequantQ4_0(src, srcOffset, dst, dstOffset, nb);
    case GGMLType.Q4_1:
      return dequantQ4_1(src, srcOffset, dst, dstOffset, nb);
    case GGMLType.Q5_0:
      return dequantQ5_0(src, srcOffset, dst, dstOffset, nb);
    case GGMLType.Q5_1:
      return dequantQ5_1(src, srcOffset, dst, dstOffset, nb);
    case GGMLType.Q8_0:
      return dequantQ8_0(src, srcOffset, dst, dstOffset, nb);
    case GGMLType.Q4_K:
      return dequantQ4Q5_K(src, srcOffset, dst, dstOffset, nb, false);
    case GGMLType.Q5_K:
      return dequantQ4Q5_K(src, srcOffset, dst, dstOffset, nb, true);
    case GGMLType.Q6_K:
      return dequantQ6_K(src, srcOffset, dst, dstOffset, nb);
    default:
      throw new Error(`dequantizeRow: no dequantizer for ${info.name}`);
  }
}
