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

/**
 * True in the dot-add build (build/kernels-dotadd.wasm, asconfig.json target
 * dotadd: the relaxed build with asc --use DOT_ADD=1). Its int8 kernels sum
 * with i32x4.relaxed_dot_i8x16_i7x16_add_s, four products and the
 * accumulator per int32 lane in one operation, where the relaxed build does
 * a pairwise i16x8 dot, int16 adds and a widening. Node 24's V8 (13.6) runs
 * it as one vpdpbusd where the CPU has AVX-VNNI; Node 22's (12.4) lowers it
 * to three instructions, and Node 20's (11.3) computes it differently (its
 * self-test fails, probe.ts). So the JS side checks and times both builds
 * once and takes the faster (wasm-module.ts). The sums are the same exact
 * integers, so all builds agree bit for bit.
 */
// @ts-ignore: DOT_ADD is the compile-time constant of asc --use (asconfig.json)
export const DOT_ADD_BUILD: bool = DOT_ADD != 0;

// The int8 kernels' sums, written once for both relaxed builds: the relaxed
// build's are int16 pairs (i16x8.relaxed_dot_i8x16_i7x16_s, exact while a
// lane's few products stay below 32767, see each kernel), widened pairwise
// into int32 per block; the dot-add build's are int32 lanes already. Lane r
// of the widened sum is the same integer in both.

/** The int8 dot of activation bytes x (signed) and weight bytes w (0..127): int16 pairs, or int32 fours in the dot-add build. */
@inline export function dot8(x: v128, w: v128): v128 {
  return DOT_ADD_BUILD ? i32x4.relaxed_dot_i8x16_i7x16_add_s(x, w, i32x4.splat(0)) : i16x8.relaxed_dot_i8x16_i7x16_s(x, w);
}

/** s plus dot8(x, w). */
@inline export function dot8Add(s: v128, x: v128, w: v128): v128 {
  return DOT_ADD_BUILD ? i32x4.relaxed_dot_i8x16_i7x16_add_s(x, w, s) : i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(x, w));
}

/** A sum of dot8s as int32 lanes (four products per lane). */
@inline export function widen8(s: v128): v128 {
  return DOT_ADD_BUILD ? s : i32x4.extadd_pairwise_i16x8_s(s);
}

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
 * exp4's constants as a static table: read as memory operands they cost a
 * load each, where a constant vector inside a loop is rebuilt by V8 at every
 * use (three instructions each, thirteen constants).
 */
const EXP_K = memory.data<f32>([
  88.0, 88.0, 88.0, 88.0,
  -87.0, -87.0, -87.0, -87.0,
  1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341,
  12582912.0, 12582912.0, 12582912.0, 12582912.0, // 1.5 * 2^23
  0.693359375, 0.693359375, 0.693359375, 0.693359375,
  -2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4,
  1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4,
  1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3,
  8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3,
  4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2,
  1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1,
  5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1,
  1.0, 1.0, 1.0, 1.0,
], 16);

/**
 * exp(x) for four floats: Cephes-style range reduction x = n ln2 + r,
 * |r| <= ln2/2, a degree-6 polynomial for e^r and 2^n put into the exponent
 * bits; relative error a few ulp over [-87, 88] (clamped outside; x is never
 * NaN, so the one-instruction pmin/pmax clamp as min/max would). n is
 * rounded to the nearest integer (ties to even, as f32x4.nearest) by adding
 * 1.5 * 2^23, which also leaves n + 0x4b400000 in the sum's bits: no
 * float-to-int conversion (a saturating one costs V8 about seven instructions).
 */
@inline export function exp4(x: v128): v128 {
  const k = EXP_K;
  x = f32x4.pmax(f32x4.pmin(x, v128.load(k)), v128.load(k, 16));
  const t = f32x4.add(f32x4.mul(x, v128.load(k, 32)), v128.load(k, 48));
  const n = f32x4.sub(t, v128.load(k, 48));
  let r = f32x4.sub(x, f32x4.mul(n, v128.load(k, 64)));
  r = f32x4.sub(r, f32x4.mul(n, v128.load(k, 80)));
  let p = v128.load(k, 96);
  p = f32x4.add(f32x4.mul(p, r), v128.load(k, 112));
  p = f32x4.add(f32x4.mul(p, r), v128.load(k, 128));
  p = f32x4.add(f32x4.mul(p, r), v128.load(k, 144));
  p = f32x4.add(f32x4.mul(p, r), v128.load(k, 160));
  p = f32x4.add(f32x4.mul(p, r), v128.load(k, 176));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), v128.load(k, 192));
  // (n + 0x4b400000) - 0x4b400000 + 127, shifted into the exponent
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127 - 0x4b400000)), 23);
  return f32x4.mul(p, scale);
}

/** Four i32x4 vectors transposed (lane k of result c = lane c of input k), stored at u, u+16, u+32, u+48. */
@inline export function transposeTo(a: v128, b: v128, c: v128, d: v128, u: usize): void {
  const t0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<i32>(c, d, 0, 4, 1, 5);
  const t2 = v128.shuffle<i32>(a, b, 2, 6, 3, 7), t3 = v128.shuffle<i32>(c, d, 2, 6, 3, 7);
  v128.store(u, v128.shuffle<i32>(t0, t1, 0, 1, 4, 5));
  v128.store(u, v128.shuffle<i32>(t0, t1, 2, 3, 6, 7), 16);
  v128.store(u, v128.shuffle<i32>(t2, t3, 0, 1, 4, 5), 32);
  v128.store(u, v128.shuffle<i32>(t2, t3, 2, 3, 6, 7), 48);
}
