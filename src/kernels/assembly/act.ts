import { qOffset, q8Offset, q8nOffset, a16Bytes, akD, akB32, akB16, akQ, sum4 } from "./common";

// Activation quantization.
//
// Activations for quantized weights are first quantized once per call to
// "A16" blocks of 32, the way llama.cpp quantizes them (ggml's Q8_0/Q8_1
// activation blocks), so results agree with it to rounding: scale
// da = amax/127 rounded to f16, q = round(x * 127/amax) in [-127, 127], and
// the sum da*sum(q) rounded to f16 (for the weights' offset/min terms). The
// values are stored as int16 because i32x4.dot_i16x8_s multiplies int16
// pairs and the weights have to be widened to int16 anyway.
//
// A16 layout for `cols` values (nb = cols/32 blocks), at byte offset `act`:
//   f32 scale[nb] | f32 sum[nb] | (pad to 16) | i16 q[cols] [| i8 q8[cols] | i8 q8n[cols]]
//
// The relaxed build adds two int8 copies: q8 in the order of the packed
// Q4_1 nibbles (see packed.ts repack) and q8n in natural order, for the
// plain-layout kernels of rows4.ts.

/** Bytes one A16-quantized activation vector of `cols` values takes (64-aligned). */
export function actBytes(cols: i32): i32 {
  if (cols & 255) return <i32>a16Bytes(cols);
  return <i32>((akQ(cols) + (<usize>cols << (ASC_FEATURE_RELAXED_SIMD ? 0 : 1)) + 63) & ~(<usize>63));
}


/** x rounded to the nearest f16 value (ties to even, as F16C does), as f32; |x| < 65520. */
@inline export function f16round(x: f32): f32 {
  const a = Mathf.abs(x);
  if (a < <f32>6.103515625e-5) return nearest<f32>(x * <f32>16777216.0) * <f32>5.9604644775390625e-8; // subnormal: steps of 2^-24
  const b = reinterpret<u32>(x);
  return reinterpret<f32>((b + 0xfff + ((b >> 13) & 1)) & ~(<u32>0x1fff));
}

/**
 * max |x| over the 4*nv floats at p. Non-negative floats order as their bit
 * patterns do, so an integer max (one instruction, where f32x4.max is
 * several) finds it, and a NaN (above every number as bits) still wins and
 * makes the block's scale NaN, as f32x4.max did.
 */
@inline function absMax(p: usize, nv: i32): f32 {
  const absMask = i32x4.splat(0x7fffffff);
  let m = v128.and(v128.load(p), absMask);
  for (let k = 1; k < nv; k++) m = i32x4.max_s(m, v128.and(v128.load(p + (<usize>k << 4)), absMask));
  m = i32x4.max_s(m, v128.shuffle<i32>(m, m, 2, 3, 0, 1));
  m = i32x4.max_s(m, v128.shuffle<i32>(m, m, 1, 0, 3, 2));
  return f32x4.extract_lane(m, 0);
}

/**
 * round(v) to the nearest integer, ties to even, as int32 lanes, for |v| <=
 * 2^22 (quantized activations are within +-127): adding 1.5 * 2^23 leaves
 * the rounded value in the low mantissa bits. Two instructions where
 * nearest + trunc_sat take about eight in V8; NaN lanes give garbage where
 * trunc_sat gave 0, but their block's scale is NaN then either way.
 */
@inline function roundInt(v: v128, magic: v128): v128 {
  return i32x4.sub(f32x4.add(v, magic), magic);
}

/** The 1.5 * 2^23 of roundInt, built from `zero` (0 at run time, opaque to the compiler) to stay in a register. */
@inline function roundMagic(zero: i32): v128 {
  return f32x4.splat(<f32>12582912.0 + <f32>zero);
}

/**
 * Quantize f32 x[cols] (cols % 32 == 0) to A16 at `act`.
 */
export function quantizeAct(x: usize, cols: i32, act: usize): void {
  const nb = cols >> 5;
  const q = act + qOffset(cols);
  const magic = roundMagic(cols >> 31); // cols >= 0
  for (let b = 0; b < nb; b++) {
    const p = x + (<usize>b << 7);
    const amax = absMax(p, 8);
    const da: f32 = amax / <f32>127.0;
    const inv = f32x4.splat(amax != 0 ? <f32>127.0 / amax : <f32>0.0);
    let s = i32x4.splat(0);
    const qb = q + (<usize>b << 6);
    for (let k = 0; k < 4; k++) {
      const a = roundInt(f32x4.mul(v128.load(p + (<usize>k << 5)), inv), magic);
      const c = roundInt(f32x4.mul(v128.load(p + (<usize>k << 5) + 16), inv), magic);
      s = i32x4.add(s, i32x4.add(a, c));
      v128.store(qb + (<usize>k << 4), i16x8.narrow_i32x4_s(a, c));
    }
    if (ASC_FEATURE_RELAXED_SIMD) {
      // values [0,16) and [16,32) interleaved: lo = x0 x16 x1 x17 .. x7 x23, hi = x8 x24 .. x15 x31,
      // the order of the low and high nibbles of a packed Q4_1 row block
      const q8 = act + q8Offset(cols) + (<usize>b << 5);
      const lo = i8x16.narrow_i16x8_s(v128.load(qb), v128.load(qb, 32));
      const hi = i8x16.narrow_i16x8_s(v128.load(qb, 16), v128.load(qb, 48));
      v128.store(q8, v128.shuffle<u8>(lo, lo, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15));
      v128.store(q8, v128.shuffle<u8>(hi, hi, 0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15), 16);
      const q8n = act + q8nOffset(cols) + (<usize>b << 5);
      v128.store(q8n, i8x16.narrow_i16x8_s(v128.load(qb), v128.load(qb, 16)));
      v128.store(q8n, i8x16.narrow_i16x8_s(v128.load(qb, 32), v128.load(qb, 48)), 16);
    }
    const isum = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
    store<f32>(act + (<usize>b << 2), f16round(da));
    store<f32>(act + (<usize>(nb + b) << 2), f16round(da * <f32>isum));
  }
}

/**
 * Quantize f32 x[cols] (cols % 256 == 0) to AK at `act` (see common.ts
 * akD), the activation of the K-quants, like ggml's Q8_K: one f32 scale
 * d = amax/127 per 256 values, q = round(x/d) in [-127, 127], and the
 * integer sums of q per 32 and per 16 values. The K-quants' 6-bit sub-block
 * scales and mins then multiply exact integer sums, and one float step per
 * 256 values and row remains (see packed-k.ts).
 */
export function quantizeActK(x: usize, cols: i32, act: usize): void {
  const nsb = cols >> 8;
  const magic = roundMagic(cols >> 31); // cols >= 0
  for (let sb = 0; sb < nsb; sb++) {
    const p = x + (<usize>sb << 10);
    const amax = absMax(p, 64);
    store<f32>(act + akD(cols) + (<usize>sb << 2), amax / <f32>127.0);
    const inv = f32x4.splat(amax != 0 ? <f32>127.0 / amax : <f32>0.0);
    const b16 = act + akB16(cols) + (<usize>sb << 5);
    for (let g4 = 0; g4 < 4; g4++) {
      // four 16-value groups: values, then their four sums at once
      const s0 = quant16(p, inv, magic, act + akQ(cols), (sb << 8) + (g4 << 6));
      const s1 = quant16(p, inv, magic, act + akQ(cols), (sb << 8) + (g4 << 6) + 16);
      const s2 = quant16(p, inv, magic, act + akQ(cols), (sb << 8) + (g4 << 6) + 32);
      const s3 = quant16(p, inv, magic, act + akQ(cols), (sb << 8) + (g4 << 6) + 48);
      const s = sum4(s0, s1, s2, s3);
      v128.store64_lane(b16 + (<usize>g4 << 3), i16x8.narrow_i32x4_s(s, s), 0);
      const s32 = i32x4.add(v128.shuffle<i32>(s, s, 0, 2, 0, 2), v128.shuffle<i32>(s, s, 1, 3, 1, 3));
      v128.store32_lane(act + akB32(cols) + (<usize>sb << 4) + (<usize>g4 << 2), i16x8.narrow_i32x4_s(s32, s32), 0);
    }
  }
}

/** Quantize the 16 values y..y+15 (y from the super-block start p: values at p + 4*(y & 255)) into q; their int32x4 partial sums. */
@inline function quant16(p: usize, inv: v128, magic: v128, q: usize, y: i32): v128 {
  const v = p + (<usize>(y & 255) << 2);
  const a = roundInt(f32x4.mul(v128.load(v), inv), magic);
  const b = roundInt(f32x4.mul(v128.load(v, 16), inv), magic);
  const c = roundInt(f32x4.mul(v128.load(v, 32), inv), magic);
  const d = roundInt(f32x4.mul(v128.load(v, 48), inv), magic);
  const lo = i16x8.narrow_i32x4_s(a, b), hi = i16x8.narrow_i32x4_s(c, d);
  if (ASC_FEATURE_RELAXED_SIMD) v128.store(q + <usize>y, i8x16.narrow_i16x8_s(lo, hi));
  else {
    v128.store(q + (<usize>y << 1), lo);
    v128.store(q + (<usize>y << 1), hi, 16);
  }
  return i32x4.add(i32x4.add(a, b), i32x4.add(c, d));
}
