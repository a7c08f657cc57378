import { qOffset, q8Offset, q8nOffset } from "./common";

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
  const q8 = ASC_FEATURE_RELAXED_SIMD ? <usize>cols << 1 : 0;
  return <i32>((q8Offset(cols) + q8 + 63) & ~(<usize>63));
}


/** x rounded to the nearest f16 value (ties to even, as F16C does), as f32; |x| < 65520. */
@inline export function f16round(x: f32): f32 {
  const a = Mathf.abs(x);
  if (a < <f32>6.103515625e-5) return nearest<f32>(x * <f32>16777216.0) * <f32>5.9604644775390625e-8; // subnormal: steps of 2^-24
  const b = reinterpret<u32>(x);
  return reinterpret<f32>((b + 0xfff + ((b >> 13) & 1)) & ~(<u32>0x1fff));
}

/**
 * Quantize f32 x[cols] (cols % 32 == 0) to A16 at `act`.
 */
export function quantizeAct(x: usize, cols: i32, act: usize): void {
  const nb = cols >> 5;
  const q = act + qOffset(cols);
  const absMask = i32x4.splat(0x7fffffff);
  for (let b = 0; b < nb; b++) {
    const p = x + (<usize>b << 7);
    let m = v128.and(v128.load(p), absMask);
    for (let k = 1; k < 8; k++) m = f32x4.max(m, v128.and(v128.load(p + (<usize>k << 4)), absMask));
    m = f32x4.max(m, v128.shuffle<i32>(m, m, 2, 3, 0, 1));
    m = f32x4.max(m, v128.shuffle<i32>(m, m, 1, 0, 3, 2));
    const amax = f32x4.extract_lane(m, 0);
    const da: f32 = amax / <f32>127.0;
    const inv = f32x4.splat(amax != 0 ? <f32>127.0 / amax : <f32>0.0);
    let s = i32x4.splat(0);
    const qb = q + (<usize>b << 6);
    for (let k = 0; k < 4; k++) {
      const a = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p + (<usize>k << 5)), inv)));
      const c = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(p + (<usize>k << 5) + 16), inv)));
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
