// Constants and small helpers every kernel file shares: ggml type ids, the
// A16 activation layout offsets (see act.ts), f16 -> f32, horizontal sums, exp.

// ggml type ids (see src/quant/types.ts)
export const F32: i32 = 0;
export const F16: i32 = 1;
export const Q4_0: i32 = 2;
export const Q4_1: i32 = 3;
export const Q5_0: i32 = 6;
export const Q5_1: i32 = 7;
export const Q8_0: i32 = 8;
export const Q4_K: i32 = 12;
export const Q5_K: i32 = 13;
export const Q6_K: i32 = 14;
export const BF16: i32 = 30;

/** Byte offset of the int16 values inside an A16 buffer of `cols` values. */
@inline export function qOffset(cols: i32): usize {
  return ((<usize>(cols >> 5) * 8 + 15) & ~(<usize>15));
}

/** Byte offset of the int8 copy (relaxed build only) inside an A16 buffer of `cols` values. */
@inline export function q8Offset(cols: i32): usize {
  return qOffset(cols) + (<usize>cols << 1);
}

/** Byte offset of the natural-order int8 copy (relaxed build only; see act.ts) inside an A16 buffer of `cols` values. */
@inline export function q8nOffset(cols: i32): usize {
  return q8Offset(cols) + <usize>cols;
}


/** Bytes of the A16 part of an activation buffer of `cols` values (64-aligned); the AK part follows. */
@inline export function a16Bytes(cols: i32): usize {
  const q8 = ASC_FEATURE_RELAXED_SIMD ? <usize>cols << 1 : 0;
  return (q8Offset(cols) + q8 + 63) & ~(<usize>63);
}

// AK: the K-quant activation (see act.ts quantizeActK), after the A16 part,
// for cols % 256 == 0: f32 d[cols/256] (pad to 16) | i16 bsum32[cols/32] |
// i16 bsum16[cols/16] | values: i8[cols] (relaxed build) or i16[cols].

/** Byte offset of AK's f32 scales (one per 256 values). */
@inline export function akD(cols: i32): usize {
  return a16Bytes(cols);
}
/** Byte offset of AK's i16 sums of 32 values. */
@inline export function akB32(cols: i32): usize {
  return akD(cols) + ((<usize>(cols >> 8) * 4 + 15) & ~(<usize>15));
}
/** Byte offset of AK's i16 sums of 16 values. */
@inline export function akB16(cols: i32): usize {
  return akB32(cols) + (<usize>cols >> 4);
}
/** Byte offset of AK's values (int8 in the relaxed build, int16 in the baseline). */
@inline export function akQ(cols: i32): usize {
  return akB16(cols) + (<usize>cols >> 3);
}

/** IEEE half -> float; exact for normals and subnormals (weights never hold inf/nan). */
@inline export function h2f(h: u32): f32 {
  const o = reinterpret<f32>((h & 0x7fff) << 13) * <f32>5.192296858534828e33; // * 2^112 rebiases the exponent
  return reinterpret<f32>(reinterpret<u32>(o) | ((h & 0x8000) << 16));
}

@inline export function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}


/** [sum(s0), sum(s1), sum(s2), sum(s3)] of four i32x4 vectors. */
@inline export function sum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t0 = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 1, 5), v128.shuffle<i32>(s0, s1, 2, 6, 3, 7));
  const t1 = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 4, 1, 5), v128.shuffle<i32>(s2, s3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
}


/** [sum(a0), sum(a1), sum(a2), sum(a3)] of four f32x4 vectors. */
@inline export function sum4f(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const t1 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
}


/**
 * exp(x) for four floats: Cephes-style range reduction x = n ln2 + r,
 * |r| <= ln2/2, a degree-6 polynomial for e^r and 2^n put into the exponent
 * bits; relative error a few ulp over [-87, 88] (clamped outside).
 */
@inline export function exp4(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, f32x4.splat(88.0)), f32x4.splat(-87.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}
