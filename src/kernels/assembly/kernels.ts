// Fused dequantize-and-dot kernels in AssemblyScript (compiled to wasm SIMD).
//
// No GC, no static data: every buffer is a byte offset into the one shared
// memory the JS side allocates from, so worker instances over the same
// memory can run these on disjoint row ranges.
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
//   f32 scale[nb] | f32 sum[nb] | (pad to 16) | i16 q[cols] [| i8 q8[cols]]
//
// The module is compiled twice (see package.json build:kernels): plain
// SIMD128, and with relaxed SIMD (ASC_FEATURE_RELAXED_SIMD), whose
// i16x8.relaxed_dot_i8x16_i7x16_s (x86 pmaddubsw) multiplies 16 int8 pairs
// in one instruction where i32x4.dot_i16x8_s needs int16 and does 8. The
// relaxed build adds the i8 copy q8 (per block in the order of the packed
// Q4_1 nibbles, see repack) and uses it for packed Q4_1; every integer sum is
// exact in both builds and the float operations are the same, so the two
// builds give bit-identical results.

// ggml type ids (see src/quant/types.ts)
const F32: i32 = 0;
const F16: i32 = 1;
const Q4_0: i32 = 2;
const Q4_1: i32 = 3;
const Q5_0: i32 = 6;
const Q5_1: i32 = 7;
const Q8_0: i32 = 8;
const Q4_K: i32 = 12;
const Q5_K: i32 = 13;
const Q6_K: i32 = 14;
const BF16: i32 = 30;

/** Byte offset of the int16 values inside an A16 buffer of `cols` values. */
@inline function qOffset(cols: i32): usize {
  return ((<usize>(cols >> 5) * 8 + 15) & ~(<usize>15));
}

/** Byte offset of the int8 copy (relaxed build only) inside an A16 buffer of `cols` values. */
@inline function q8Offset(cols: i32): usize {
  return qOffset(cols) + (<usize>cols << 1);
}

/** Bytes one A16-quantized activation vector of `cols` values takes (64-aligned). */
export function actBytes(cols: i32): i32 {
  const q8 = ASC_FEATURE_RELAXED_SIMD ? <usize>cols : 0;
  return <i32>((q8Offset(cols) + q8 + 63) & ~(<usize>63));
}

/** 1 when this is the relaxed-SIMD build. */
export function relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/**
 * Relaxed build: 1 when i16x8.relaxed_dot_i8x16_i7x16_s gives exact products
 * on this engine for the operands the kernels use (signed int8 times 0..15),
 * checked on 64 bytes of scratch at p. An engine whose relaxed dot differs
 * (it is allowed to for operands the kernels never pass) must not be used.
 */
export function selfTest(p: usize): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 1;
  for (let t = 0; t < 8; t++) {
    for (let i = 0; i < 16; i++) {
      store<i8>(p + i, <i8>((i * 37 + t * 101) % 255 - 127));
      store<u8>(p + 16 + i, <u8>((i * 7 + t * 3) & 15));
    }
    v128.store(p + 32, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(p), v128.load(p + 16)));
    for (let j = 0; j < 8; j++) {
      const e = <i32>load<i8>(p + 2 * j) * <i32>load<u8>(p + 16 + 2 * j) + <i32>load<i8>(p + 2 * j + 1) * <i32>load<u8>(p + 17 + 2 * j);
      if (<i32>load<i16>(p + 32 + 2 * j) != e) return 0;
    }
  }
  return 1;
}

/** x rounded to the nearest f16 value (ties to even, as F16C does), as f32; |x| < 65520. */
@inline function f16round(x: f32): f32 {
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
    }
    const isum = i32x4.extract_lane(s, 0) + i32x4.extract_lane(s, 1) + i32x4.extract_lane(s, 2) + i32x4.extract_lane(s, 3);
    store<f32>(act + (<usize>b << 2), f16round(da));
    store<f32>(act + (<usize>(nb + b) << 2), f16round(da * <f32>isum));
  }
}

/** IEEE half -> float; exact for normals and subnormals (weights never hold inf/nan). */
@inline function h2f(h: u32): f32 {
  const o = reinterpret<f32>((h & 0x7fff) << 13) * <f32>5.192296858534828e33; // * 2^112 rebiases the exponent
  return reinterpret<f32>(reinterpret<u32>(o) | ((h & 0x8000) << 16));
}

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** int32x4 partial dot of 32 unsigned-or-signed byte weights (as lo/hi 16-lane halves) with 32 int16 activations. */
@inline function dot32u(w0: v128, w1: v128, a: usize): v128 {
  let s = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(w0), v128.load(a));
  s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(w0), v128.load(a, 16)));
  s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(w1), v128.load(a, 32)));
  return i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(w1), v128.load(a, 48)));
}
@inline function dot16s(w0: v128, a: usize): v128 {
  const s = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), v128.load(a));
  return i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), v128.load(a, 16)));
}

/** Spread the 32 bits of `qh` to bytes: result byte j (of 16) is 0x10 where bit (j + 16*half) is set. */
@inline function highBits(qhv: v128, half: i32): v128 {
  const idx = half == 0
    ? i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
    : i8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const sel = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  const b = v128.and(i8x16.swizzle(qhv, idx), sel);
  return v128.and(i8x16.eq(b, sel), i8x16.splat(0x10));
}

// Each dot* returns sum_j W[j] * x[j] for one row; `a` is the A16 base of
// the token, nb the number of 32-blocks, cols the number of values.

function dotQ4_0(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const v = v128.load(w, 2);
    const s = dot32u(v128.and(v, lowNib), i8x16.shr_u(v, 4), q + (<usize>b << 6));
    const dd = d * load<f32>(a + (<usize>b << 2));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(dd)));
    accm += d * load<f32>(a + (<usize>(nb + b) << 2)); // the -8 offset: -8*d*sum(x)
    w += 18;
  }
  return hsum(acc) - 8 * accm;
}

function dotQ4_1(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const m = h2f(load<u16>(w, 2));
    const v = v128.load(w, 4);
    const s = dot32u(v128.and(v, lowNib), i8x16.shr_u(v, 4), q + (<usize>b << 6));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(a + (<usize>b << 2)))));
    accm += m * load<f32>(a + (<usize>(nb + b) << 2));
    w += 20;
  }
  return hsum(acc) + accm;
}

function dotQ5_0(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const qhv = i32x4.splat(load<u32>(w, 2));
    const v = v128.load(w, 6);
    const w0 = v128.or(v128.and(v, lowNib), highBits(qhv, 0));
    const w1 = v128.or(i8x16.shr_u(v, 4), highBits(qhv, 1));
    const s = dot32u(w0, w1, q + (<usize>b << 6));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(a + (<usize>b << 2)))));
    accm += d * load<f32>(a + (<usize>(nb + b) << 2));
    w += 22;
  }
  return hsum(acc) - 16 * accm;
}

function dotQ5_1(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const m = h2f(load<u16>(w, 2));
    const qhv = i32x4.splat(load<u32>(w, 4));
    const v = v128.load(w, 8);
    const w0 = v128.or(v128.and(v, lowNib), highBits(qhv, 0));
    const w1 = v128.or(i8x16.shr_u(v, 4), highBits(qhv, 1));
    const s = dot32u(w0, w1, q + (<usize>b << 6));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(a + (<usize>b << 2)))));
    accm += m * load<f32>(a + (<usize>(nb + b) << 2));
    w += 24;
  }
  return hsum(acc) + accm;
}

function dotQ8_0(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const qa = q + (<usize>b << 6);
    const s = i32x4.add(dot16s(v128.load(w, 2), qa), dot16s(v128.load(w, 18), qa + 32));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(a + (<usize>b << 2)))));
    w += 34;
  }
  return hsum(acc);
}

/** 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at p (Q4_K/Q5_K). */
@inline function kScale(p: usize, j: i32): i32 {
  return j < 4 ? load<u8>(p + j) & 63 : (load<u8>(p + j + 4) & 0xf) | ((load<u8>(p + j - 4) >> 6) << 4);
}
@inline function kMin(p: usize, j: i32): i32 {
  return j < 4 ? load<u8>(p + j + 4) & 63 : (load<u8>(p + j + 4) >> 4) | ((load<u8>(p + j) >> 6) << 4);
}

function dotQ4_K(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  const nsb = nb >> 3;
  for (let sb = 0; sb < nsb; sb++) {
    const d = h2f(load<u16>(w));
    const dmin = h2f(load<u16>(w, 2));
    for (let j = 0; j < 4; j++) {
      const v0 = v128.load(w + 16 + (<usize>j << 5));
      const v1 = v128.load(w + 32 + (<usize>j << 5));
      const blo = (sb << 3) + 2 * j; // A16 block of the low nibbles; high nibbles are the next one
      const slo = dot32u(v128.and(v0, lowNib), v128.and(v1, lowNib), q + (<usize>blo << 6));
      const shi = dot32u(i8x16.shr_u(v0, 4), i8x16.shr_u(v1, 4), q + (<usize>(blo + 1) << 6));
      const dlo = d * <f32>kScale(w + 4, 2 * j) * load<f32>(a + (<usize>blo << 2));
      const dhi = d * <f32>kScale(w + 4, 2 * j + 1) * load<f32>(a + (<usize>(blo + 1) << 2));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(slo), f32x4.splat(dlo)));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(shi), f32x4.splat(dhi)));
      accm += dmin * (<f32>kMin(w + 4, 2 * j) * load<f32>(a + (<usize>(nb + blo) << 2)) +
        <f32>kMin(w + 4, 2 * j + 1) * load<f32>(a + (<usize>(nb + blo + 1) << 2)));
    }
    w += 144;
  }
  return hsum(acc) - accm;
}

function dotQ5_K(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  const one = i8x16.splat(1);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  const nsb = nb >> 3;
  for (let sb = 0; sb < nsb; sb++) {
    const d = h2f(load<u16>(w));
    const dmin = h2f(load<u16>(w, 2));
    const h0 = v128.load(w, 16);
    const h1 = v128.load(w, 32);
    for (let j = 0; j < 4; j++) {
      const v0 = v128.load(w + 48 + (<usize>j << 5));
      const v1 = v128.load(w + 64 + (<usize>j << 5));
      const bl = 2 * j, bh = 2 * j + 1; // qh bit of the low and high nibbles
      const w0 = v128.or(v128.and(v0, lowNib), i8x16.shl(v128.and(i8x16.shr_u(h0, bl), one), 4));
      const w1 = v128.or(v128.and(v1, lowNib), i8x16.shl(v128.and(i8x16.shr_u(h1, bl), one), 4));
      const w2 = v128.or(i8x16.shr_u(v0, 4), i8x16.shl(v128.and(i8x16.shr_u(h0, bh), one), 4));
      const w3 = v128.or(i8x16.shr_u(v1, 4), i8x16.shl(v128.and(i8x16.shr_u(h1, bh), one), 4));
      const blo = (sb << 3) + 2 * j;
      const slo = dot32u(w0, w1, q + (<usize>blo << 6));
      const shi = dot32u(w2, w3, q + (<usize>(blo + 1) << 6));
      const dlo = d * <f32>kScale(w + 4, 2 * j) * load<f32>(a + (<usize>blo << 2));
      const dhi = d * <f32>kScale(w + 4, 2 * j + 1) * load<f32>(a + (<usize>(blo + 1) << 2));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(slo), f32x4.splat(dlo)));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(shi), f32x4.splat(dhi)));
      accm += dmin * (<f32>kMin(w + 4, 2 * j) * load<f32>(a + (<usize>(nb + blo) << 2)) +
        <f32>kMin(w + 4, 2 * j + 1) * load<f32>(a + (<usize>(nb + blo + 1) << 2)));
    }
    w += 176;
  }
  return hsum(acc) - accm;
}

/** 16 Q6_K values (already -32) against 16 activations starting at value index y of the row. */
@inline function q6part(acc: v128, v: v128, q: usize, a: usize, y: i32, scale: f32): v128 {
  const s = dot16s(v, q + (<usize>y << 1));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(scale * load<f32>(a + (<usize>(y >> 5) << 2)))));
}

function dotQ6_K(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  const three = i8x16.splat(3);
  const off = i8x16.splat(32);
  let acc = f32x4.splat(0);
  const nsb = nb >> 3;
  for (let sb = 0; sb < nsb; sb++) {
    const d = h2f(load<u16>(w, 208));
    for (let n = 0; n < 2; n++) {
      const ql = w + (<usize>n << 6);
      const qh = w + 128 + (<usize>n << 5);
      const sc = w + 192 + (<usize>n << 3);
      for (let g = 0; g < 2; g++) {
        const L0 = v128.load(ql + (<usize>g << 4));
        const L1 = v128.load(ql + 32 + (<usize>g << 4));
        const H = v128.load(qh + (<usize>g << 4));
        const v1 = i8x16.sub(v128.or(v128.and(L0, lowNib), i8x16.shl(v128.and(H, three), 4)), off);
        const v2 = i8x16.sub(v128.or(v128.and(L1, lowNib), i8x16.shl(v128.and(i8x16.shr_u(H, 2), three), 4)), off);
        const v3 = i8x16.sub(v128.or(i8x16.shr_u(L0, 4), i8x16.shl(v128.and(i8x16.shr_u(H, 4), three), 4)), off);
        const v4 = i8x16.sub(v128.or(i8x16.shr_u(L1, 4), i8x16.shl(i8x16.shr_u(H, 6), 4)), off);
        const y = (sb << 8) + (n << 7) + (g << 4);
        acc = q6part(acc, v1, q, a, y, d * <f32>load<i8>(sc + g));
        acc = q6part(acc, v2, q, a, y + 32, d * <f32>load<i8>(sc + g + 2));
        acc = q6part(acc, v3, q, a, y + 64, d * <f32>load<i8>(sc + g + 4));
        acc = q6part(acc, v4, q, a, y + 96, d * <f32>load<i8>(sc + g + 6));
      }
    }
    w += 210;
  }
  return hsum(acc);
}

// Float weights are dotted with the f32 activations directly.

function dotF32(w: usize, x: usize, cols: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const o = <usize>c << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(w + o), v128.load(x + o)));
    acc = f32x4.add(acc, f32x4.mul(v128.load(w + o, 16), v128.load(x + o, 16)));
  }
  let s = hsum(acc);
  for (; c < cols; c++) s += load<f32>(w + (<usize>c << 2)) * load<f32>(x + (<usize>c << 2));
  return s;
}

function dotF16(w: usize, x: usize, cols: i32): f32 {
  const mag = i32x4.splat(0x7fff);
  const sgn = i32x4.splat(0x8000);
  const rebias = f32x4.splat(5.192296858534828e33);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const h = v128.load(w + (<usize>c << 1));
    const lo = i32x4.extend_low_i16x8_u(h);
    const hi = i32x4.extend_high_i16x8_u(h);
    const flo = v128.or(f32x4.mul(i32x4.shl(v128.and(lo, mag), 13), rebias), i32x4.shl(v128.and(lo, sgn), 16));
    const fhi = v128.or(f32x4.mul(i32x4.shl(v128.and(hi, mag), 13), rebias), i32x4.shl(v128.and(hi, sgn), 16));
    acc = f32x4.add(acc, f32x4.mul(flo, v128.load(x + (<usize>c << 2))));
    acc = f32x4.add(acc, f32x4.mul(fhi, v128.load(x + (<usize>c << 2), 16)));
  }
  let s = hsum(acc);
  for (; c < cols; c++) s += h2f(load<u16>(w + (<usize>c << 1))) * load<f32>(x + (<usize>c << 2));
  return s;
}

function dotBF16(w: usize, x: usize, cols: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const h = v128.load(w + (<usize>c << 1));
    const flo = i32x4.shl(i32x4.extend_low_i16x8_u(h), 16);
    const fhi = i32x4.shl(i32x4.extend_high_i16x8_u(h), 16);
    acc = f32x4.add(acc, f32x4.mul(flo, v128.load(x + (<usize>c << 2))));
    acc = f32x4.add(acc, f32x4.mul(fhi, v128.load(x + (<usize>c << 2), 16)));
  }
  let s = hsum(acc);
  for (; c < cols; c++) s += reinterpret<f32>(<u32>load<u16>(w + (<usize>c << 1)) << 16) * load<f32>(x + (<usize>c << 2));
  return s;
}

/** True when `type` needs the A16-quantized activation (i.e. is a block-quantized type). */
export function usesAct(type: i32): bool {
  type &= ~PACKED;
  return type != F32 && type != F16 && type != BF16;
}

/** True when this module has a kernel for ggml type id `type`. */
export function supports(type: i32): bool {
  if (type & PACKED) return packable(type & ~PACKED);
  return type == F32 || type == F16 || type == BF16 || type == Q4_0 || type == Q4_1 || type == Q5_0 ||
    type == Q5_1 || type == Q8_0 || type == Q4_K || type == Q5_K || type == Q6_K;
}

@inline function dotRow(type: i32, row: usize, a: usize, x: usize, cols: i32): f32 {
  const nb = cols >> 5;
  switch (type) {
    case Q4_0: return dotQ4_0(row, a, nb, cols);
    case Q4_1: return dotQ4_1(row, a, nb, cols);
    case Q5_0: return dotQ5_0(row, a, nb, cols);
    case Q5_1: return dotQ5_1(row, a, nb, cols);
    case Q8_0: return dotQ8_0(row, a, nb, cols);
    case Q4_K: return dotQ4_K(row, a, nb, cols);
    case Q5_K: return dotQ5_K(row, a, nb, cols);
    case Q6_K: return dotQ6_K(row, a, nb, cols);
    case F16: return dotF16(row, x, cols);
    case BF16: return dotBF16(row, x, cols);
    default: return dotF32(row, x, cols);
  }
}

// ---------------------------------------------------------------------------
// Packed ("x4") layouts. The row-at-a-time kernels above spend most of their
// time on per-block scalar work (two f16 conversions, a splat, a horizontal
// reduction) rather than on the bytes. Q4_1 and Q8_0 matrices are therefore
// rearranged once at load time, in place and with the same byte count, so
// that four rows' blocks sit side by side:
//
//   Q4_1x4 block b of rows 4g..4g+3 (80 bytes): f16 d[4] | f16 m[4] | nibbles[4][16]
//   Q8_0x4 block b of rows 4g..4g+3 (136 bytes): f16 d[4] | i8 q[4][32]
//
// Group g (4 rows) occupies bytes [4g*rowBytes, (4g+4)*rowBytes) as before;
// the last rows % 4 rows stay in the plain layout. One v128 load then gives
// four rows' scales (converted to f32 in SIMD), the four rows share each
// activation load, and four int32 partial sums reduce to one vector per
// block. Q4_1 nibbles are also permuted within a block so that i16 lane i of
// the 16 bytes holds values i, 8+i, 16+i, 24+i in its four nibbles: a mask or
// a shift then yields values 0-7, 8-15, 16-23, 24-31 as int16 directly.
// ---------------------------------------------------------------------------

/** Type-id flag of a packed matrix (the job's `type` is PACKED | ggml type). */
const PACKED: i32 = 0x100;

/** True when matrices of `type` can be packed (see repack). */
export function packable(type: i32): bool {
  return type == Q4_1 || type == Q8_0;
}

/**
 * Rearrange rows [0, rows & ~3) of the `type` matrix at w in place into the
 * packed layout, using `scratch` (4 * rowBytes bytes) as a staging buffer.
 */
export function repack(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, scratch: usize): void {
  const nb = cols >> 5;
  const gbytes = <usize>rowBytes << 2;
  for (let g: i32 = 0; g + 4 <= rows; g += 4) {
    const src = w + <usize>g * <usize>rowBytes;
    memory.copy(scratch, src, gbytes);
    for (let r = 0; r < 4; r++) {
      const row = scratch + <usize>r * <usize>rowBytes;
      for (let b = 0; b < nb; b++) {
        if (type == Q4_1) {
          const blk = row + <usize>b * 20;
          const dst = src + <usize>b * 80;
          store<u16>(dst + (<usize>r << 1), load<u16>(blk));
          store<u16>(dst + 8 + (<usize>r << 1), load<u16>(blk, 2));
          const qd = dst + 16 + (<usize>r << 4);
          for (let i = 0; i < 8; i++) {
            // value j < 16: low nibble of byte j; value 16 + j: high nibble of byte j
            const v0 = load<u8>(blk + 4 + i) & 15, v8 = load<u8>(blk + 12 + i) & 15;
            const v16 = load<u8>(blk + 4 + i) >> 4, v24 = load<u8>(blk + 12 + i) >> 4;
            store<u8>(qd + (<usize>i << 1), <u8>(v0 | (v8 << 4)));
            store<u8>(qd + (<usize>i << 1) + 1, <u8>(v16 | (v24 << 4)));
          }
        } else { // Q8_0
          const blk = row + <usize>b * 34;
          const dst = src + <usize>b * 136;
          store<u16>(dst + (<usize>r << 1), load<u16>(blk));
          memory.copy(dst + 8 + (<usize>r << 5), blk + 2, 32);
        }
      }
    }
  }
}

/** [sum(s0), sum(s1), sum(s2), sum(s3)] of four i32x4 vectors. */
@inline function sum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t0 = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 1, 5), v128.shuffle<i32>(s0, s1, 2, 6, 3, 7));
  const t1 = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 4, 1, 5), v128.shuffle<i32>(s2, s3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
}

/** int32x4 partial dot of one packed Q4_1 row block (16 bytes at p) with the block's 32 int16 activations a0..a3. */
@inline function nib4(p: usize, a0: v128, a1: v128, a2: v128, a3: v128, m: v128): v128 {
  const v = v128.load(p);
  let s = i32x4.dot_i16x8_s(v128.and(v, m), a0);
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 4), m), a1));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 8), m), a2));
  return i32x4.add(s, i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), a3));
}

// The group kernels take their SIMD constants as arguments (k15 = 15,
// kMask = 0x8fffe000, kRebias = 2^112, passed in by matmul): V8 does not
// hoist constants out of loops and would rebuild each one, in three
// instructions, on every block.

/**
 * One block of a packed Q4_1 group (at p): the four rows' float
 * contributions, given the block's activations x0..x3 (int16 a0..a3; in the
 * relaxed build int8 lo, hi and x2, x3 unused), its scale da and scaled sum
 * sa (splatted, times 2^112: see scaleQ4_1), and m the kernel's nibble mask. The streams kernel loads the
 * activations once for all its groups.
 */
@inline function blockQ4_1(p: usize, x0: v128, x1: v128, x2: v128, x3: v128, da: v128, sa: v128,
  m: v128, mask: v128, out: usize): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return scaleQ4_1(sum4(nib4r(p + 16, x0, x1, m), nib4r(p + 32, x0, x1, m), nib4r(p + 48, x0, x1, m), nib4r(p + 64, x0, x1, m)),
      p, da, sa, mask);
  }
  // The stores to `out` (overwritten at the end) are scheduling barriers:
  // without them TurboFan hoists all 20 loads of the block to the top and
  // spills half of the values they feed (the relaxed build needs fewer).
  const s0 = nib4(p + 16, x0, x1, x2, x3, m);
  v128.store(out, s0);
  const s1 = nib4(p + 32, x0, x1, x2, x3, m);
  v128.store(out, s1);
  const t0 = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 1, 5), v128.shuffle<i32>(s0, s1, 2, 6, 3, 7));
  const s2 = nib4(p + 48, x0, x1, x2, x3, m);
  v128.store(out, s2);
  const s3 = nib4(p + 64, x0, x1, x2, x3, m);
  const t1 = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 4, 1, 5), v128.shuffle<i32>(s2, s3, 2, 6, 3, 7));
  const s = i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
  return scaleQ4_1(s, p, da, sa, mask);
}

/**
 * Relaxed build: int32x4 partial dot of one packed Q4_1 row block (16 bytes
 * at p) with the block's int8 activations lo/hi (see quantizeAct); m8 = 0x0f
 * in every byte. A pair of products is at most 2*127*15, so the two dots add
 * in int16 without overflow.
 */
@inline function nib4r(p: usize, lo: v128, hi: v128, m8: v128): v128 {
  const v = v128.load(p);
  const s = i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(lo, v128.and(v, m8)),
    i16x8.relaxed_dot_i8x16_i7x16_s(hi, v128.and(i16x8.shr_u(v, 4), m8)));
  return i32x4.extadd_pairwise_i16x8_s(s);
}

/**
 * The four rows' float contributions of a Q4_1 block from their integer sums
 * s (scales at p; activation scale da and sum sa, each times 2^112: one
 * multiply per block for all streams instead of two per group. Exact: a power
 * of two moves between factors without rounding.)
 */
@inline function scaleQ4_1(s: v128, p: usize, da: v128, sa: v128, mask: v128): v128 {
  // d and m as f32 bit patterns still to be multiplied by 2^112 (the h2f trick): da and sa carry that factor
  const sc = v128.load(p);
  const d = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(sc), 13), mask);
  const mn = v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(sc), 13), mask);
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, da)), f32x4.mul(mn, sa));
}

@inline function nibMask(k15: i32): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? i16x8.splat(<i16>(k15 * 0x101)) : i16x8.splat(<i16>k15);
}

// The packed kernels are written once for both packed types: the type
// parameter Q is a compile-time marker, u8 for Q4_1 and u16 for Q8_0
// (sizeof<Q>() folds to a constant, so each instance has one block kernel
// and no branches).

/** One packed block of either type at p, given the activations as loaded by the group/stream kernels. */
@inline function blockOf<Q>(p: usize, x0: v128, x1: v128, x2: v128, x3: v128, da: v128, sa: v128,
  m: v128, mask: v128, out: usize): v128 {
  return sizeof<Q>() == 1 ? blockQ4_1(p, x0, x1, x2, x3, da, sa, m, mask, out) : blockQ8_0(p, x0, x1, x2, x3, da, mask, out);
}
/** True when the Q kernels read the int8 activation copy (Q4_1 in the relaxed build). */
@inline function int8Act<Q>(): bool {
  return ASC_FEATURE_RELAXED_SIMD && sizeof<Q>() == 1;
}
/** Where the Q kernels' activation values start in the A16 buffer at a, and their bytes per block. */
@inline function actBase<Q>(a: usize, cols: i32): usize {
  return int8Act<Q>() ? a + q8Offset(cols) : a + qOffset(cols);
}
@inline function actStep<Q>(): usize {
  return int8Act<Q>() ? 32 : 64;
}
/** Bytes of one packed block of 4 rows: Q4_1x4 80, Q8_0x4 136. */
@inline function blockBytes<Q>(): usize {
  return sizeof<Q>() == 1 ? 80 : 136;
}

/** Rows 4g..4g+3 of a packed Q matrix (group at g) dotted with the A16 activation at a; stores 4 floats at out. */
function group<Q>(g: usize, a: usize, nb: i32, cols: i32, out: usize, k15: i32, kMask: i32, kRebias: f32): void {
  const m = nibMask(k15), mask = i32x4.splat(kMask), rebias = f32x4.splat(kRebias);
  const bb = blockBytes<Q>();
  let qa = actBase<Q>(a, cols);
  let pa = a;
  let acc = f32x4.splat(0);
  const end = g + <usize>nb * bb;
  for (let p = g; p < end; p += bb) {
    const x0 = v128.load(qa), x1 = v128.load(qa, 16);
    const x2 = int8Act<Q>() ? x0 : v128.load(qa, 32), x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
    const da = f32x4.mul(v128.load32_splat(pa), rebias), sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), rebias);
    acc = f32x4.add(acc, blockOf<Q>(p, x0, x1, x2, x3, da, sa, m, mask, out));
    qa += actStep<Q>();
    pa += 4;
  }
  v128.store(out, acc);
}

// Decoding reads each weight once, so it is bound by memory, and one stream
// through memory is not enough: a single core streaming one packed matrix
// front to back reached ~4.5 GB/s, four streams a quarter of the matrix
// apart 8.5-10 GB/s and eight 10-12 GB/s (bench/kernels.md). The hardware
// prefetchers follow each stream; wasm has no prefetch instruction to do it
// ourselves. The stream kernels compute several groups (rows 4g.., 4g+d..,
// 4g+2d.., ...) in one pass over the blocks, each group's sums formed exactly
// as by the one-group kernel, so results do not depend on how rows are split.

/** Number of streams of the stream kernel. */
const STREAMS: i32 = 8;

/** group<Q> of the eight groups at g + i*d (bytes, i < 8); outputs at out + i*od. */
function streams<Q>(g: usize, d: usize, a: usize, nb: i32, cols: i32, out: usize, od: usize, k15: i32, kMask: i32, kRebias: f32): void {
  const m = nibMask(k15), mask = i32x4.splat(kMask), rebias = f32x4.splat(kRebias);
  const bb = blockBytes<Q>();
  let qa = actBase<Q>(a, cols);
  let pa = a;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let acc4 = f32x4.splat(0), acc5 = f32x4.splat(0), acc6 = f32x4.splat(0), acc7 = f32x4.splat(0);
  const end = g + <usize>nb * bb;
  for (let p = g; p < end; p += bb) {
    const x0 = v128.load(qa), x1 = v128.load(qa, 16);
    const x2 = int8Act<Q>() ? x0 : v128.load(qa, 32), x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
    const da = f32x4.mul(v128.load32_splat(pa), rebias), sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), rebias);
    acc0 = f32x4.add(acc0, blockOf<Q>(p, x0, x1, x2, x3, da, sa, m, mask, out));
    acc1 = f32x4.add(acc1, blockOf<Q>(p + d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc2 = f32x4.add(acc2, blockOf<Q>(p + 2 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc3 = f32x4.add(acc3, blockOf<Q>(p + 3 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc4 = f32x4.add(acc4, blockOf<Q>(p + 4 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc5 = f32x4.add(acc5, blockOf<Q>(p + 5 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc6 = f32x4.add(acc6, blockOf<Q>(p + 6 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc7 = f32x4.add(acc7, blockOf<Q>(p + 7 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    qa += actStep<Q>();
    pa += 4;
  }
  v128.store(out, acc0);
  v128.store(out + od, acc1);
  v128.store(out + 2 * od, acc2);
  v128.store(out + 3 * od, acc3);
  v128.store(out + 4 * od, acc4);
  v128.store(out + 5 * od, acc5);
  v128.store(out + 6 * od, acc6);
  v128.store(out + 7 * od, acc7);
}

// Prompts: a weight group is used by every token of the batch, so for n > 1
// its nibbles and scales are first expanded once into a per-thread scratch
// (int16 values, f32 scales; UNPACKED_BLOCK bytes per block, in L1), and
// each token then only multiplies and adds.

/** This instance's (thread's) scratch for unpacked groups; see setScratch. */
let scratch: usize = 0;
let scratchBytes: i32 = 0;
/**
 * Bytes of one unpacked Q4_1 block of a group: f32 d[4] | f32 m[4] | q[4][32],
 * the values as int16 (in the nib4 order), or as int8 in the relaxed build
 * (low then high nibbles, in the nib4r order).
 */
const UNPACKED_BLOCK: i32 = ASC_FEATURE_RELAXED_SIMD ? 160 : 288;

/** Give this instance `bytes` of scratch at p (each thread needs its own). */
export function setScratch(p: usize, bytes: i32): void {
  scratch = p;
  scratchBytes = bytes;
}

/** Expand the packed Q4_1 group at g (nb blocks) into the scratch. */
function unpackQ4_1(g: usize, nb: i32, kMask: i32, kRebias: f32): void {
  const m = i16x8.splat(15), mask = i32x4.splat(kMask), rebias = f32x4.splat(kRebias);
  let u = scratch;
  const end = g + <usize>nb * 80;
  for (let p = g; p < end; p += 80) {
    const sc = v128.load(p);
    v128.store(u, f32x4.mul(v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(sc), 13), mask), rebias));
    v128.store(u, f32x4.mul(v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(sc), 13), mask), rebias), 16);
    if (ASC_FEATURE_RELAXED_SIMD) {
      const m8 = i8x16.splat(15);
      for (let r: usize = 0; r < 4; r++) {
        const v = v128.load(p + 16 + (r << 4));
        const o = u + 32 + (r << 5);
        v128.store(o, v128.and(v, m8));
        v128.store(o, v128.and(i16x8.shr_u(v, 4), m8), 16);
      }
      u += UNPACKED_BLOCK;
      continue;
    }
    for (let r: usize = 0; r < 4; r++) {
      const v = v128.load(p + 16 + (r << 4));
      const o = u + 32 + (r << 6);
      v128.store(o, v128.and(v, m));
      v128.store(o, v128.and(i16x8.shr_u(v, 4), m), 16);
      v128.store(o, v128.and(i16x8.shr_u(v, 8), m), 32);
      v128.store(o, i16x8.shr_u(v, 12), 48);
    }
    u += UNPACKED_BLOCK;
  }
}

/** Relaxed build: int32x4 partial dot of 32 unpacked int8 weights at p (low, high nibbles) with lo/hi. */
@inline function u8x32(p: usize, lo: v128, hi: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(lo, v128.load(p)),
    i16x8.relaxed_dot_i8x16_i7x16_s(hi, v128.load(p, 16))));
}

/** int32x4 partial dot of 32 unpacked int16 weights at p with a0..a3. */
@inline function u16x32(p: usize, a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  let s = i32x4.dot_i16x8_s(v128.load(p), a0);
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.load(p, 16), a1));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.load(p, 32), a2));
  return i32x4.add(s, i32x4.dot_i16x8_s(v128.load(p, 48), a3));
}

/**
 * group<u8> (Q4_1) for the group unpacked in the scratch, with the same operations
 * in the same order, so a prompt's tokens get bit-identical results to
 * decoding them one by one (with int8 activations a last-bit difference can
 * flip a rounding in the next layer's quantization and grow from there).
 */
function groupUnpackedQ4_1(a: usize, nb: i32, cols: i32, out: usize): void {
  let qa = a + qOffset(cols);
  let pa = a;
  const end = scratch + <usize>nb * UNPACKED_BLOCK;
  let acc = f32x4.splat(0);
  if (ASC_FEATURE_RELAXED_SIMD) {
    let q8a = a + q8Offset(cols);
    for (let p = scratch; p < end; p += UNPACKED_BLOCK) {
      const lo = v128.load(q8a), hi = v128.load(q8a, 16);
      const s = sum4(u8x32(p + 32, lo, hi), u8x32(p + 64, lo, hi), u8x32(p + 96, lo, hi), u8x32(p + 128, lo, hi));
      acc = f32x4.add(acc, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(v128.load(p), v128.load32_splat(pa))),
        f32x4.mul(v128.load(p, 16), v128.load32_splat(pa + (<usize>nb << 2)))));
      q8a += 32;
      pa += 4;
    }
    v128.store(out, acc);
    return;
  }
  for (let p = scratch; p < end; p += UNPACKED_BLOCK) {
    const a0 = v128.load(qa), a1 = v128.load(qa, 16), a2 = v128.load(qa, 32), a3 = v128.load(qa, 48);
    const s0 = u16x32(p + 32, a0, a1, a2, a3);
    const s1 = u16x32(p + 96, a0, a1, a2, a3);
    const t0 = i32x4.add(v128.shuffle<i32>(s0, s1, 0, 4, 1, 5), v128.shuffle<i32>(s0, s1, 2, 6, 3, 7));
    const s2 = u16x32(p + 160, a0, a1, a2, a3);
    const s3 = u16x32(p + 224, a0, a1, a2, a3);
    const t1 = i32x4.add(v128.shuffle<i32>(s2, s3, 0, 4, 1, 5), v128.shuffle<i32>(s2, s3, 2, 6, 3, 7));
    const s = i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
    acc = f32x4.add(acc, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(v128.load(p), v128.load32_splat(pa))),
      f32x4.mul(v128.load(p, 16), v128.load32_splat(pa + (<usize>nb << 2)))));
    qa += 64;
    pa += 4;
  }
  v128.store(out, acc);
}

/** int32x4 partial dot of 32 int8 weights at p with 32 int16 activations a0..a3. */
@inline function q8x32(p: usize, a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const v0 = v128.load(p), v1 = v128.load(p, 16);
  let s = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v0), a0);
  s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v0), a1));
  s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(v1), a2));
  return i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(v1), a3));
}

/** One block of a packed Q8_0 group (at p) against the block's activations (int16 a0..a3, scale da splatted): the four rows' contributions. */
@inline function blockQ8_0(p: usize, a0: v128, a1: v128, a2: v128, a3: v128, da: v128, mask: v128, out: usize): v128 {
  const s0 = q8x32(p + 8, a0, a1, a2, a3);
  v128.store(out, s0); // scheduling barrier, see blockQ4_1
  const s1 = q8x32(p + 40, a0, a1, a2, a3);
  v128.store(out, s1);
  const s2 = q8x32(p + 72, a0, a1, a2, a3);
  v128.store(out, s2);
  const s3 = q8x32(p + 104, a0, a1, a2, a3);
  const d = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(v128.load64_zero(p)), 13), mask); // times 2^112 in da
  return f32x4.mul(f32x4.convert_i32x4_s(sum4(s0, s1, s2, s3)), f32x4.mul(d, da));
}

/**
 * Dequantize row `row` of a `type` matrix (PACKED | type for a packed one)
 * of `rows` rows to f32 at dst. Packed types only: plain rows are
 * dequantized on the JS side.
 */
export function getRow(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, row: i32, dst: usize): void {
  const base = type & ~PACKED;
  const nb = cols >> 5;
  const full = rows & ~3;
  const lane = <usize>(row & 3);
  const g = w + <usize>(row & ~3) * <usize>rowBytes;
  for (let b = 0; b < nb; b++) {
    const o = dst + (<usize>b << 7);
    if (base == Q8_0) {
      let d: f32, p: usize;
      if (row < full) { const blk = g + <usize>b * 136; d = h2f(load<u16>(blk + (lane << 1))); p = blk + 8 + (lane << 5); }
      else { const blk = w + <usize>row * <usize>rowBytes + <usize>b * 34; d = h2f(load<u16>(blk)); p = blk + 2; }
      for (let j = 0; j < 32; j++) store<f32>(o + (<usize>j << 2), d * <f32>load<i8>(p + j));
    } else { // Q4_1
      if (row < full) {
        const blk = g + <usize>b * 80;
        const d = h2f(load<u16>(blk + (lane << 1))), m = h2f(load<u16>(blk + 8 + (lane << 1)));
        const p = blk + 16 + (lane << 4);
        for (let i = 0; i < 8; i++) {
          const lo = load<u8>(p + (<usize>i << 1)), hi = load<u8>(p + (<usize>i << 1) + 1);
          store<f32>(o + (<usize>i << 2), d * <f32>(lo & 15) + m);
          store<f32>(o + (<usize>(8 + i) << 2), d * <f32>(lo >> 4) + m);
          store<f32>(o + (<usize>(16 + i) << 2), d * <f32>(hi & 15) + m);
          store<f32>(o + (<usize>(24 + i) << 2), d * <f32>(hi >> 4) + m);
        }
      } else {
        const blk = w + <usize>row * <usize>rowBytes + <usize>b * 20;
        const d = h2f(load<u16>(blk)), m = h2f(load<u16>(blk, 2));
        for (let j = 0; j < 16; j++) {
          const v = load<u8>(blk + 4 + j);
          store<f32>(o + (<usize>j << 2), d * <f32>(v & 15) + m);
          store<f32>(o + (<usize>(16 + j) << 2), d * <f32>(v >> 4) + m);
        }
      }
    }
  }
}

/**
 * Rows [r0, r1) of out[t*outStride + r] = W[r,:] . x_t for t < n, for a
 * matrix of `rows` rows. W: rows of `rowBytes` at `w`. x_t: f32 at
 * x + t*cols*4 (float weights) or A16 at act + t*actStride (quantized
 * weights; see quantizeAct). For a packed type (PACKED | ggml type), r0 must
 * be a multiple of 4 and r1 a multiple of 4 or `rows`.
 * Each weight row (group) is read from memory once and reused from L1 for all n tokens.
 */
export function matmul(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, r0: i32, r1: i32,
  act: usize, actStride: i32, x: usize, n: i32, out: usize, outStride: i32): void {
  let r = r0;
  if (type & PACKED) {
    type &= ~PACKED;
    const nb = cols >> 5;
    const full = min(r1, rows & ~3);
    const k15 = 15 + (rows >> 31), kMask = 0x8fffe000 + (rows >> 31); // rows >= 0: opaque constants (see group)
    const kRebias = <f32>5.192296858534828e33 + <f32>(rows >> 31);
    const unpack = type == Q4_1 && n > 1 && nb * UNPACKED_BLOCK <= scratchBytes;
    if (n == 1 && full - r >= 4 * STREAMS) {
      // decoding: STREAMS streams, a STREAMS-th of [r, full) apart (see streams)
      const q = (full - r) / (4 * STREAMS); // groups per stream
      const d = <usize>(q << 2) * <usize>rowBytes, od = <usize>(q << 4);
      for (let i = 0; i < q; i++) {
        const g = w + <usize>r * <usize>rowBytes, o = out + (<usize>r << 2);
        if (type == Q4_1) streams<u8>(g, d, act, nb, cols, o, od, k15, kMask, kRebias);
        else streams<u16>(g, d, act, nb, cols, o, od, k15, kMask, kRebias);
        r += 4;
      }
      r += (STREAMS - 1) * 4 * q; // the other streams' rows are done too
    }
    for (; r < full; r += 4) {
      const g = w + <usize>r * <usize>rowBytes;
      if (unpack) {
        unpackQ4_1(g, nb, kMask, kRebias);
        for (let t = 0; t < n; t++) {
          groupUnpackedQ4_1(act + <usize>t * <usize>actStride, nb, cols, out + ((<usize>t * <usize>outStride + <usize>r) << 2));
        }
        continue;
      }
      for (let t = 0; t < n; t++) {
        const a = act + <usize>t * <usize>actStride;
        const o = out + ((<usize>t * <usize>outStride + <usize>r) << 2);
        if (type == Q4_1) group<u8>(g, a, nb, cols, o, k15, kMask, kRebias);
        else group<u16>(g, a, nb, cols, o, k15, kMask, kRebias);
      }
    }
  }
  for (; r < r1; r++) {
    const row = w + <usize>r * <usize>rowBytes;
    for (let t = 0; t < n; t++) {
      const v = dotRow(type, row, act + <usize>t * <usize>actStride, x + (<usize>t * <usize>cols << 2), cols);
      store<f32>(out + ((<usize>t * <usize>outStride + <usize>r) << 2), v);
    }
  }
}

/**
 * Grouped-query attention of one query at position `pos` over KV cache
 * positions [0, pos] (f32 everywhere; byte offsets): out[h] = sum_t
 * softmax_t(q_h . k_t / sqrt(headDim)) v_t, query head h reading KV head
 * h / (nHeads / nKvHeads). `scores` holds pos + 1 floats of scratch.
 * Same math as src/model/ops.ts attention, in f32 SIMD: scores four
 * positions at a time (one transpose-add instead of a horizontal sum per
 * position), softmax with exp4, and the weighted sum of values 16 floats
 * of the output at a time, kept in registers across all positions.
 */
export function attention(out: usize, q: usize, kc: usize, vc: usize, kvDim: i32, pos: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scores: usize): void {
  const group = nHeads / nKvHeads;
  const scale = <f32>1.0 / Mathf.sqrt(<f32>headDim);
  const hd4 = headDim & ~3;
  const rowBytes = <usize>kvDim << 2;
  const n = pos + 1;
  for (let h = 0; h < nHeads; h++) {
    const qb = q + (<usize>(h * headDim) << 2);
    const kvOff = <usize>((h / group) * headDim) << 2;
    // scores
    let maxv = f32x4.splat(-Infinity);
    let t = 0;
    for (; t + 4 <= n; t += 4) {
      const k0 = kc + kvOff + <usize>t * rowBytes;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let i = 0; i < hd4; i += 4) {
        const o = <usize>i << 2;
        const qv = v128.load(qb + o);
        a0 = f32x4.add(a0, f32x4.mul(qv, v128.load(k0 + o)));
        a1 = f32x4.add(a1, f32x4.mul(qv, v128.load(k0 + rowBytes + o)));
        a2 = f32x4.add(a2, f32x4.mul(qv, v128.load(k0 + 2 * rowBytes + o)));
        a3 = f32x4.add(a3, f32x4.mul(qv, v128.load(k0 + 3 * rowBytes + o)));
      }
      let sc = sum4f(a0, a1, a2, a3);
      if (hd4 < headDim) sc = f32x4.add(sc, tailDots(qb, k0, rowBytes, hd4, headDim));
      sc = f32x4.mul(sc, f32x4.splat(scale));
      v128.store(scores + (<usize>t << 2), sc);
      maxv = f32x4.max(maxv, sc);
    }
    let mx = Mathf.max(Mathf.max(f32x4.extract_lane(maxv, 0), f32x4.extract_lane(maxv, 1)), Mathf.max(f32x4.extract_lane(maxv, 2), f32x4.extract_lane(maxv, 3)));
    for (; t < n; t++) {
      const kb = kc + kvOff + <usize>t * rowBytes;
      let acc = f32x4.splat(0);
      let i = 0;
      for (; i < hd4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qb + (<usize>i << 2)), v128.load(kb + (<usize>i << 2))));
      let sc = hsum(acc);
      for (; i < headDim; i++) sc += load<f32>(qb + (<usize>i << 2)) * load<f32>(kb + (<usize>i << 2));
      sc *= scale;
      store<f32>(scores + (<usize>t << 2), sc);
      if (sc > mx) mx = sc;
    }
    // softmax numerators and their sum
    const mv = f32x4.splat(mx);
    let sumv = f32x4.splat(0);
    t = 0;
    for (; t + 4 <= n; t += 4) {
      const e = exp4(f32x4.sub(v128.load(scores + (<usize>t << 2)), mv));
      v128.store(scores + (<usize>t << 2), e);
      sumv = f32x4.add(sumv, e);
    }
    let sum = hsum(sumv);
    for (; t < n; t++) {
      const e = Mathf.exp(load<f32>(scores + (<usize>t << 2)) - mx);
      store<f32>(scores + (<usize>t << 2), e);
      sum += e;
    }
    // out = sum_t e_t v_t / sum
    const inv = f32x4.splat(<f32>1.0 / sum);
    const ob = out + (<usize>(h * headDim) << 2);
    const vb = vc + kvOff;
    let i = 0;
    for (; i + 16 <= headDim; i += 16) {
      let o0 = f32x4.splat(0), o1 = f32x4.splat(0), o2 = f32x4.splat(0), o3 = f32x4.splat(0);
      let vp = vb + (<usize>i << 2);
      for (let u = 0; u < n; u++) {
        const pv = v128.load32_splat(scores + (<usize>u << 2));
        o0 = f32x4.add(o0, f32x4.mul(pv, v128.load(vp)));
        o1 = f32x4.add(o1, f32x4.mul(pv, v128.load(vp, 16)));
        o2 = f32x4.add(o2, f32x4.mul(pv, v128.load(vp, 32)));
        o3 = f32x4.add(o3, f32x4.mul(pv, v128.load(vp, 48)));
        vp += rowBytes;
      }
      const o = ob + (<usize>i << 2);
      v128.store(o, f32x4.mul(o0, inv));
      v128.store(o, f32x4.mul(o1, inv), 16);
      v128.store(o, f32x4.mul(o2, inv), 32);
      v128.store(o, f32x4.mul(o3, inv), 48);
    }
    for (; i < headDim; i++) {
      let acc: f32 = 0;
      let vp = vb + (<usize>i << 2);
      for (let u = 0; u < n; u++) {
        acc += load<f32>(scores + (<usize>u << 2)) * load<f32>(vp);
        vp += rowBytes;
      }
      store<f32>(ob + (<usize>i << 2), acc * f32x4.extract_lane(inv, 0));
    }
  }
}

/** [sum(a0), sum(a1), sum(a2), sum(a3)] of four f32x4 vectors. */
@inline function sum4f(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t0 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const t1 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
}

/** Dots of q[i0, hd) with the same slice of the four key rows at k0 (rowBytes apart), for a headDim that is not a multiple of 4. */
function tailDots(qb: usize, k0: usize, rowBytes: usize, i0: i32, hd: i32): v128 {
  let d0: f32 = 0, d1: f32 = 0, d2: f32 = 0, d3: f32 = 0;
  for (let i = i0; i < hd; i++) {
    const o = <usize>i << 2;
    const qv = load<f32>(qb + o);
    d0 += qv * load<f32>(k0 + o);
    d1 += qv * load<f32>(k0 + rowBytes + o);
    d2 += qv * load<f32>(k0 + 2 * rowBytes + o);
    d3 += qv * load<f32>(k0 + 3 * rowBytes + o);
  }
  return f32x4(d0, d1, d2, d3);
}

/**
 * exp(x) for four floats: Cephes-style range reduction x = n ln2 + r,
 * |r| <= ln2/2, a degree-6 polynomial for e^r and 2^n put into the exponent
 * bits; relative error a few ulp over [-87, 88] (clamped outside).
 */
@inline function exp4(x: v128): v128 {
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

/** x[i] = silu(x[i]) * y[i] for i < n (f32, byte offsets): SwiGLU's gate, as src/model/ops.ts swiglu. */
export function swiglu(x: usize, y: usize, n: i32): void {
  const one = f32x4.splat(1.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(x + o);
    const silu = f32x4.div(g, f32x4.add(one, exp4(f32x4.neg(g))));
    v128.store(x + o, f32x4.mul(silu, v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(x + o);
    store<f32>(x + o, g / (<f32>1.0 + Mathf.exp(-g)) * load<f32>(y + o));
  }
}

/**
 * Memory-bandwidth probe: sum of `bytes` (a multiple of 64 * STREAMS) of f32
 * at p, read as STREAMS sequential streams equally far apart, the way the
 * decode kernels read weights (one stream alone gets about 3/4 of it here).
 */
export function probeSum(p: usize, bytes: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const d = <usize>(bytes / STREAMS);
  const end = p + d;
  for (; p < end; p += 32) {
    a0 = f32x4.add(a0, f32x4.add(v128.load(p), v128.load(p, 16)));
    a1 = f32x4.add(a1, f32x4.add(v128.load(p + d), v128.load(p + d, 16)));
    a2 = f32x4.add(a2, f32x4.add(v128.load(p + 2 * d), v128.load(p + 2 * d, 16)));
    a3 = f32x4.add(a3, f32x4.add(v128.load(p + 3 * d), v128.load(p + 3 * d, 16)));
    a0 = f32x4.add(a0, f32x4.add(v128.load(p + 4 * d), v128.load(p + 4 * d, 16)));
    a1 = f32x4.add(a1, f32x4.add(v128.load(p + 5 * d), v128.load(p + 5 * d, 16)));
    a2 = f32x4.add(a2, f32x4.add(v128.load(p + 6 * d), v128.load(p + 6 * d, 16)));
    a3 = f32x4.add(a3, f32x4.add(v128.load(p + 7 * d), v128.load(p + 7 * d, 16)));
  }
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}
