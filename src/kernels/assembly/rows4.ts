// Four rows at once over the plain ggml layout (no repacking): Q4_0, Q5_0,
// Q4_K, Q5_K, Q6_K.
//
// The row-at-a-time dots (dot-*.ts) spend most of their time on per-block
// scalar work: f16 scale conversions, 6-bit scale unpacking, a splat and a
// float multiply-add per row and block. Here four rows p0..p3 go through one
// pass: each row's integer block sums come from the same SIMD code as
// before, a 4x4 transpose-add (sum4) puts them in the lanes of one vector,
// and the scales of the four rows are converted and applied together, one
// lane per row. Lane r depends only on row r (every lane-crossing step is an
// exact integer sum), so a row gets the same float whichever rows share its
// pass: results do not depend on how rows are split among threads, and the
// tail rows run the same kernel with the row repeated.
//
// The four rows need not be adjacent: for decoding, matmul passes rows a
// quarter of the range apart, four sequential streams through memory that
// the hardware prefetchers follow (one stream alone is prefetch-bound, see
// streams.ts).
//
// kMask = 0x8fffe000 and kRebias = 2^112 arrive as arguments (see packed.ts:
// V8 would otherwise rebuild the constants inside the loop); f16 -> f32 of
// four halves is h2f4.

import { Q4_0, Q5_0, Q4_K, Q5_K, Q6_K, qOffset, q8nOffset, sum4 } from "./common";
import { dot32u, highBits } from "./dot-legacy";
import { scratch } from "./prompt";

// Integer block dots of unsigned byte weights (0..63) with the A16
// activation: the baseline build widens the weights to int16 for
// i32x4.dot_i16x8_s; the relaxed build multiplies them with the
// natural-order int8 copy q8n, 16 pairs per i16x8.relaxed_dot_i8x16_i7x16_s
// (pairs of products are at most 2*127*63, two of them still fit in int16).
// The lanes of the int32x4 results differ between the builds, their sums do
// not: every later lane-crossing step is an exact integer sum (sum4).

/**
 * v, stored to this thread's scratch: a scheduling barrier between the rows
 * (TurboFan would otherwise hoist every row's loads to the top and spill the
 * values they feed; see packed.ts blockQ4_1).
 */
@inline function fence(v: v128): v128 {
  v128.store(scratch, v);
  return v;
}

/** int32x4 partial dot of 32 byte weights (w0: values 0..15, w1: 16..31 of A16 block blk) with the block's activations. */
@inline function dotB(w0: v128, w1: v128, a: usize, cols: i32, blk: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const p = a + q8nOffset(cols) + (<usize>blk << 5);
    return i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(p), w0),
      i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(p, 16), w1)));
  }
  return dot32u(w0, w1, a + qOffset(cols) + (<usize>blk << 6));
}

/** int32x4 partial dot of 16 byte weights with the activations of values y..y+15. */
@inline function dotB16(w: v128, a: usize, cols: i32, y: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(a + q8nOffset(cols) + <usize>y), w));
  }
  const p = a + qOffset(cols) + (<usize>y << 1);
  return i32x4.add(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(w), v128.load(p)), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(w), v128.load(p, 16)));
}

/** int32x4 partial sums of the int activations of values y..y+15. */
@inline function sumQ16(a: usize, cols: i32, y: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(a + q8nOffset(cols) + <usize>y)));
  }
  const p = a + qOffset(cols) + (<usize>y << 1);
  return i32x4.add(i32x4.extadd_pairwise_i16x8_s(v128.load(p)), i32x4.extadd_pairwise_i16x8_s(v128.load(p, 16)));
}

/** Four IEEE halves (bits 0..15 of each i32 lane; higher bits ignored) as f32; exact, as h2f. */
@inline function h2f4(h: v128, mask: v128, rebias: v128): v128 {
  return f32x4.mul(v128.and(i32x4.shr_s(i32x4.shl(h, 16), 3), mask), rebias);
}

/** The u16 at offset o of each of the four rows' blocks, one per i32 lane. */
@inline function u16x4(p0: usize, p1: usize, p2: usize, p3: usize, o: usize): v128 {
  let v = i32x4.splat(<i32>load<u16>(p0 + o));
  v = i32x4.replace_lane(v, 1, <i32>load<u16>(p1 + o));
  v = i32x4.replace_lane(v, 2, <i32>load<u16>(p2 + o));
  return i32x4.replace_lane(v, 3, <i32>load<u16>(p3 + o));
}

/** Lanes [x0[i], x1[i], x2[i], x3[i]] for i = 0..3 as t[i] (a 4x4 transpose of i32 lanes): returns t[i] for the constant i. */
@inline function column(x0: v128, x1: v128, x2: v128, x3: v128, i: i32): v128 {
  const a = i < 2 ? v128.shuffle<i32>(x0, x1, 0, 4, 1, 5) : v128.shuffle<i32>(x0, x1, 2, 6, 3, 7);
  const b = i < 2 ? v128.shuffle<i32>(x2, x3, 0, 4, 1, 5) : v128.shuffle<i32>(x2, x3, 2, 6, 3, 7);
  return (i & 1) == 0 ? v128.shuffle<i32>(a, b, 0, 1, 4, 5) : v128.shuffle<i32>(a, b, 2, 3, 6, 7);
}

/** Byte k (0..3) of each i32 lane, unsigned, as f32. */
@inline export function byteF(v: v128, k: i32): v128 {
  return f32x4.convert_i32x4_s(v128.and(i32x4.shr_u(v, 8 * k), i32x4.splat(0xff)));
}

/** Legacy 32-blocks with one f16 scale d and a fixed offset (Q4_0: 8, Q5_0: 16): rows' dots. Q5 = 5-bit values. */
@inline function rows4Legacy(Q5: bool, p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32,
  kMask: i32, kRebias: f32): v128 {
  const mask = i32x4.splat(kMask), rebias = f32x4.splat(kRebias);
  const lowNib = i8x16.splat(<i8>(kMask >>> 28) + 7); // 0x0f
  const bb: usize = Q5 ? 22 : 18;
  let acc = f32x4.splat(0), accm = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const o = <usize>b * bb;
    const s = sum4(fence(legacyDot(Q5, p0 + o, a, cols, b, lowNib)), fence(legacyDot(Q5, p1 + o, a, cols, b, lowNib)),
      fence(legacyDot(Q5, p2 + o, a, cols, b, lowNib)), fence(legacyDot(Q5, p3 + o, a, cols, b, lowNib)));
    const d = h2f4(u16x4(p0, p1, p2, p3, o), mask, rebias);
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, v128.load32_splat(a + (<usize>b << 2)))));
    accm = f32x4.add(accm, f32x4.mul(d, v128.load32_splat(a + (<usize>(nb + b) << 2))));
  }
  // the offset: -8 (Q4_0) or -16 (Q5_0) times d*sum(x)
  return f32x4.sub(acc, f32x4.mul(f32x4.splat(Q5 ? <f32>16.0 : <f32>8.0), accm));
}

/** int32x4 partial dot of one Q4_0 / Q5_0 block at p (values 0..15 / 0..31) with A16 block b. */
@inline function legacyDot(Q5: bool, p: usize, a: usize, cols: i32, b: i32, lowNib: v128): v128 {
  if (Q5) {
    const qhv = i32x4.splat(load<u32>(p, 2));
    const v = v128.load(p, 6);
    return dotB(v128.or(v128.and(v, lowNib), highBits(qhv, 0)), v128.or(v128.and(i16x8.shr_u(v, 4), lowNib), highBits(qhv, 1)), a, cols, b);
  }
  const v = v128.load(p, 2);
  return dotB(v128.and(v, lowNib), v128.and(i16x8.shr_u(v, 4), lowNib), a, cols, b);
}

export function rows4Q4_0(p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32, kMask: i32, kRebias: f32): v128 {
  return rows4Legacy(false, p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
}

export function rows4Q5_0(p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32, kMask: i32, kRebias: f32): v128 {
  return rows4Legacy(true, p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
}

/**
 * Q4_K / Q5_K (Q5 = 5-bit values): per 256-value super-block f16 d, dmin,
 * 12 bytes of 6-bit scales and mins for the eight 32-value sub-blocks, then
 * (Q5_K) 32 bytes of high bits and 128 bytes of nibbles (sub-block 2j in the
 * low, 2j+1 in the high nibbles of bytes 32j..32j+31). The first 16 bytes of
 * a super-block (d, dmin, scales) of the four rows load as four vectors and
 * transpose to one vector per 4-byte column, one lane per row; the 6-bit
 * unpacking (see dot-kquant.ts kScale/kMin) then runs on all four rows'
 * bytes at once.
 */
@inline function rows4K(Q5: bool, p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32,
  kMask: i32, kRebias: f32): v128 {
  const mask = i32x4.splat(kMask), rebias = f32x4.splat(kRebias);
  const k15 = (kMask >>> 28) + 7;
  const lowNib = i8x16.splat(<i8>k15), six = i8x16.splat(<i8>(k15 * 4 + 3)), one = i8x16.splat(<i8>(k15 - 14));
  const sbBytes: usize = Q5 ? 176 : 144;
  let acc = f32x4.splat(0);
  const nsb = nb >> 3;
  for (let sb = 0; sb < nsb; sb++) {
    const o = <usize>sb * sbBytes;
    const s0 = p0 + o, s1 = p1 + o, s2 = p2 + o, s3 = p3 + o;
    const x0 = v128.load(s0), x1 = v128.load(s1), x2 = v128.load(s2), x3 = v128.load(s3);
    const hd = column(x0, x1, x2, x3, 0), c0 = column(x0, x1, x2, x3, 1), c1 = column(x0, x1, x2, x3, 2), c2 = column(x0, x1, x2, x3, 3);
    const d = h2f4(hd, mask, rebias);
    const dmin = f32x4.mul(v128.and(i32x4.shr_s(hd, 3), mask), rebias);
    const scLo = v128.and(c0, six), mnLo = v128.and(c1, six); // sub-blocks 0..3: byte j of each lane
    const scHi = v128.or(v128.and(c2, lowNib), i8x16.shl(i8x16.shr_u(c0, 6), 4)); // sub-blocks 4..7
    const mnHi = v128.or(i8x16.shr_u(c2, 4), i8x16.shl(i8x16.shr_u(c1, 6), 4));
    const blk = sb << 3;
    // the four pairs of sub-blocks, unrolled so that every shift count is a constant
    acc = kPair(Q5, acc, s0, s1, s2, s3, 0, a, cols, blk, d, scLo, lowNib, one);
    acc = kPair(Q5, acc, s0, s1, s2, s3, 1, a, cols, blk, d, scLo, lowNib, one);
    acc = kPair(Q5, acc, s0, s1, s2, s3, 2, a, cols, blk, d, scHi, lowNib, one);
    acc = kPair(Q5, acc, s0, s1, s2, s3, 3, a, cols, blk, d, scHi, lowNib, one);
    const msum = f32x4.add(kMins(mnLo, a, nb, blk), kMins(mnHi, a, nb, blk + 4));
    acc = f32x4.sub(acc, f32x4.mul(dmin, msum));
  }
  return acc;
}

/** acc plus sub-blocks 2j and 2j+1 of the four rows' super-blocks at s0..s3 (their scales: bytes (2j)&3 and the next of sc). */
@inline function kPair(Q5: bool, acc: v128, s0: usize, s1: usize, s2: usize, s3: usize, j: i32, a: usize, cols: i32,
  blk: i32, d: v128, sc: v128, lowNib: v128, one: v128): v128 {
  const b = blk + 2 * j, k = (2 * j) & 3;
  const lo = sum4(fence(kDot(Q5, s0, j, false, a, cols, b, lowNib, one)), fence(kDot(Q5, s1, j, false, a, cols, b, lowNib, one)),
    fence(kDot(Q5, s2, j, false, a, cols, b, lowNib, one)), fence(kDot(Q5, s3, j, false, a, cols, b, lowNib, one)));
  const hi = sum4(fence(kDot(Q5, s0, j, true, a, cols, b + 1, lowNib, one)), fence(kDot(Q5, s1, j, true, a, cols, b + 1, lowNib, one)),
    fence(kDot(Q5, s2, j, true, a, cols, b + 1, lowNib, one)), fence(kDot(Q5, s3, j, true, a, cols, b + 1, lowNib, one)));
  acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(lo), f32x4.mul(f32x4.mul(d, byteF(sc, k)), v128.load32_splat(a + (<usize>b << 2)))));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(hi), f32x4.mul(f32x4.mul(d, byteF(sc, k + 1)), v128.load32_splat(a + (<usize>(b + 1) << 2)))));
}

/** The four sub-blocks' mins (bytes 0..3 of mn) times their activation sums (A16 blocks blk..blk+3). */
@inline export function kMins(mn: v128, a: usize, nb: i32, blk: i32): v128 {
  const sa = a + (<usize>(nb + blk) << 2);
  const m01 = f32x4.add(f32x4.mul(byteF(mn, 0), v128.load32_splat(sa)), f32x4.mul(byteF(mn, 1), v128.load32_splat(sa + 4)));
  return f32x4.add(m01, f32x4.add(f32x4.mul(byteF(mn, 2), v128.load32_splat(sa + 8)), f32x4.mul(byteF(mn, 3), v128.load32_splat(sa + 12))));
}

/** int32x4 partial dot of sub-block 2j (hi false) or 2j+1 of the Q4_K / Q5_K super-block at s with A16 block b. */
@inline function kDot(Q5: bool, s: usize, j: i32, hi: bool, a: usize, cols: i32, b: i32, lowNib: v128, one: v128): v128 {
  const q = s + (Q5 ? 48 : 16) + (<usize>j << 5);
  const v0 = v128.load(q), v1 = v128.load(q, 16);
  let w0 = v128.and(hi ? i16x8.shr_u(v0, 4) : v0, lowNib);
  let w1 = v128.and(hi ? i16x8.shr_u(v1, 4) : v1, lowNib);
  if (Q5) {
    const bit = hi ? 2 * j + 1 : 2 * j; // qh bit of this sub-block
    w0 = v128.or(w0, i16x8.shl(v128.and(i16x8.shr_u(v128.load(s, 16), bit), one), 4));
    w1 = v128.or(w1, i16x8.shl(v128.and(i16x8.shr_u(v128.load(s, 32), bit), one), 4));
  }
  return dotB(w0, w1, a, cols, b);
}

export function rows4Q4_K(p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32, kMask: i32, kRebias: f32): v128 {
  return rows4K(false, p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
}

export function rows4Q5_K(p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32, kMask: i32, kRebias: f32): v128 {
  return rows4K(true, p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
}

/**
 * Q6_K: per 256-value super-block ql[128] (low 4 bits), qh[64] (high 2
 * bits), 16 int8 scales (one per 16 values) and f16 d (see dot-kquant.ts
 * dotQ6_K for the bit layout). The 6-bit values stay unsigned (0..63) for
 * the byte dots; the -32 is 32 times the 16 activations' sum, taken once for
 * the four rows. Each 32-value A16 block has two scales: its two 16-value
 * integer sums are scaled in int32 (exact: |sum| < 2^16 * 127) and added
 * before the one float multiply per block.
 */
export function rows4Q6_K(p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32, kMask: i32, kRebias: f32): v128 {
  const mask = i32x4.splat(kMask), rebias = f32x4.splat(kRebias);
  const k15 = (kMask >>> 28) + 7;
  const lowNib = i8x16.splat(<i8>k15), three = i8x16.splat(<i8>(k15 - 12));
  let acc = f32x4.splat(0);
  const nsb = nb >> 3;
  for (let sb = 0; sb < nsb; sb++) {
    const o = <usize>sb * 210;
    const s0 = p0 + o, s1 = p1 + o, s2 = p2 + o, s3 = p3 + o;
    const d = h2f4(u16x4(p0, p1, p2, p3, o + 208), mask, rebias);
    const x0 = v128.load(s0, 192), x1 = v128.load(s1, 192), x2 = v128.load(s2, 192), x3 = v128.load(s3, 192);
    const sc0 = column(x0, x1, x2, x3, 0), sc1 = column(x0, x1, x2, x3, 1), sc2 = column(x0, x1, x2, x3, 2), sc3 = column(x0, x1, x2, x3, 3);
    const y = sb << 8;
    // the eight 32-value blocks (half n, quarter k), unrolled so that every shift count is a constant
    acc = q6Block(acc, s0, s1, s2, s3, 0, 0, sc0, a, cols, y, d, lowNib, three);
    acc = q6Block(acc, s0, s1, s2, s3, 0, 1, sc0, a, cols, y, d, lowNib, three);
    acc = q6Block(acc, s0, s1, s2, s3, 0, 2, sc1, a, cols, y, d, lowNib, three);
    acc = q6Block(acc, s0, s1, s2, s3, 0, 3, sc1, a, cols, y, d, lowNib, three);
    acc = q6Block(acc, s0, s1, s2, s3, 1, 0, sc2, a, cols, y, d, lowNib, three);
    acc = q6Block(acc, s0, s1, s2, s3, 1, 1, sc2, a, cols, y, d, lowNib, three);
    acc = q6Block(acc, s0, s1, s2, s3, 1, 2, sc3, a, cols, y, d, lowNib, three);
    acc = q6Block(acc, s0, s1, s2, s3, 1, 3, sc3, a, cols, y, d, lowNib, three);
  }
  return acc;
}

/** acc plus A16 block (y0 + 128n + 32k) / 32 of the four rows' Q6_K super-blocks at s0..s3; sc holds scales 8n+2k, 8n+2k+1 at bytes (2k)&3, +1. */
@inline function q6Block(acc: v128, s0: usize, s1: usize, s2: usize, s3: usize, n: i32, k: i32, sc: v128, a: usize, cols: i32, y0: i32,
  d: v128, lowNib: v128, three: v128): v128 {
  const y = y0 + (n << 7) + (k << 5);
  const lo = (<usize>n << 6) + (<usize>(k & 1) << 5), hq: usize = 128 + (<usize>n << 5);
  const sl = k < 2 ? 0 : 4, sh = 2 * k;
  // 32 times the activation sums (the -32 of every value), once for the four rows
  const m0 = i32x4.shl(sumQ16(a, cols, y), 5), m1 = i32x4.shl(sumQ16(a, cols, y + 16), 5);
  const g0 = sum4(fence(i32x4.sub(dotB16(q6vals(s0 + lo, s0 + hq, sl, sh, lowNib, three), a, cols, y), m0)),
    fence(i32x4.sub(dotB16(q6vals(s1 + lo, s1 + hq, sl, sh, lowNib, three), a, cols, y), m0)),
    fence(i32x4.sub(dotB16(q6vals(s2 + lo, s2 + hq, sl, sh, lowNib, three), a, cols, y), m0)),
    fence(i32x4.sub(dotB16(q6vals(s3 + lo, s3 + hq, sl, sh, lowNib, three), a, cols, y), m0)));
  const g1 = sum4(fence(i32x4.sub(dotB16(q6vals(s0 + lo + 16, s0 + hq + 16, sl, sh, lowNib, three), a, cols, y + 16), m1)),
    fence(i32x4.sub(dotB16(q6vals(s1 + lo + 16, s1 + hq + 16, sl, sh, lowNib, three), a, cols, y + 16), m1)),
    fence(i32x4.sub(dotB16(q6vals(s2 + lo + 16, s2 + hq + 16, sl, sh, lowNib, three), a, cols, y + 16), m1)),
    fence(i32x4.sub(dotB16(q6vals(s3 + lo + 16, s3 + hq + 16, sl, sh, lowNib, three), a, cols, y + 16), m1)));
  const kb = (2 * k) & 3;
  const s = i32x4.add(i32x4.mul(g0, i32x4.shr_s(i32x4.shl(sc, 24 - 8 * kb), 24)), i32x4.mul(g1, i32x4.shr_s(i32x4.shl(sc, 16 - 8 * kb), 24)));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, v128.load32_splat(a + (<usize>(y >> 5) << 2)))));
}

/** 16 Q6_K values 0..63: 4 bits of the bytes at l (shifted right by sl), 2 bits of the bytes at h (shifted right by sh). */
@inline function q6vals(l: usize, h: usize, sl: i32, sh: i32, lowNib: v128, three: v128): v128 {
  const lo = v128.and(sl == 0 ? v128.load(l) : i16x8.shr_u(v128.load(l), sl), lowNib);
  const hi = v128.and(sh == 0 ? v128.load(h) : i16x8.shr_u(v128.load(h), sh), three);
  return v128.or(lo, i16x8.shl(hi, 4)); // i16 shifts: the masked bits never cross a byte
}

/** The rows4 kernel of `type`, or 0 (see has4); lanes are the four rows' dots. */
export function rows4(type: i32, p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32, kMask: i32, kRebias: f32): v128 {
  switch (type) {
    case Q4_0: return rows4Q4_0(p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
    case Q5_0: return rows4Q5_0(p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
    case Q4_K: return rows4Q4_K(p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
    case Q5_K: return rows4Q5_K(p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
    default: return rows4Q6_K(p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
  }
}

/** True when `type` (plain layout) has a rows4 kernel. */
export function has4(type: i32): bool {
  return type == Q4_0 || type == Q5_0 || type == Q4_K || type == Q5_K || type == Q6_K;
}
