// Packed ("x4") layouts of the K-quants Q4_K, Q5_K and Q6_K, and their kernels.
//
// At load, rows 4g..4g+3 are rearranged in place (same bytes) so that one
// 4-row super-block (256 values of each row) is contiguous and its header
// loads as vectors, one lane per row:
//
//   Q4_Kx4 super-block (576 bytes):
//     f16 d[4] | f16 dmin[4] | c0[4] c1[4] c2[4] (scale bytes 0-3, 4-7, 8-11 of each row, 4 bytes per lane)
//     | nibbles: pair j (0..3), row r: the row's 32 bytes of sub-blocks 2j (low) and 2j+1 (high nibbles)
//   Q5_Kx4 super-block (704 bytes): the same header | qh[4][32] | nibbles as Q4_Kx4
//   Q6_Kx4 super-block (840 bytes): i8 scales[4][16] | row r: ql[128] qh[64] | f16 d[4]
//
// The kernels dot them with the AK activation (act.ts quantizeActK: int8,
// one f32 scale per 256 values, integer sums per 32 and 16 values), as
// llama.cpp dots K-quants with Q8_K. Everything inside a super-block is
// integer: a row's sub-block dot (int16 pairs from the byte dot) is widened
// to int32 by i32x4.dot_i16x8_s against the sub-block's 6-bit scale in every
// int16 lane, so the scale costs no instruction beyond the widening the dot
// needs anyway; the mins (Q4_K, Q5_K) and the -32 (Q6_K) multiply the
// activation's integer sums once per super-block. Each row keeps its own
// int32 accumulator; one 4x4 transpose-add (sum4) and one float step per
// super-block and four rows remain. All integer sums are exact, so the two
// builds agree bit for bit, and every group's sums come from one function
// (super*) whether it is decoded alone, in a stream pass, for a prompt token
// or staged from plain rows, so results do not depend on the split.

import { Q4_K, Q5_K, Q6_K, akD, akB16, akB32, akQ, sum4 } from "./common";
import { scratch } from "./prompt";

/** True when `type` is a K-quant this file packs. */
export function packableK(type: i32): bool {
  return type == Q4_K || type == Q5_K || type == Q6_K;
}

/** Plain bytes of one super-block of a row: Q4_K 144, Q5_K 176, Q6_K 210. */
@inline export function sbBytes(type: i32): usize {
  return type == Q6_K ? 210 : type == Q5_K ? 176 : 144;
}

// This thread's scratch (prompt.ts): [0, 16) the other kernels' fence stores, [16, 272) the
// four rows' sub-block scales, each in both int16 halves of an i32 (splat-loaded per sub-block:
// a 32-bit splat from memory is a plain load, a 16-bit one costs a shuffle as well),
// [272, 288) one group's outputs, [288, 352) four rows' int32 accumulators,
// [352, 416) a second token's (groupK2), [416, 432) its super-block result,
// from STAGE on a group staged from plain rows.
const SC: usize = 16;
const TMP: usize = 272;
const ACC: usize = 288;
const ACC2: usize = 352;
const RES2: usize = 416;
const STAGE: usize = 448;

/** Scratch bytes the K kernels need for rows of rowBytes bytes (plain rows are staged there as a packed group). */
export function scratchNeedK(rowBytes: i32): i32 {
  return <i32>STAGE + (rowBytes << 2);
}

/**
 * Move row r's plain super-block at `plain` to its places in the packed
 * 4-row super-block at `packed`, or back (toPacked false).
 */
function moveK(type: i32, plain: usize, packed: usize, r: usize, toPacked: bool): void {
  if (type == Q6_K) {
    move(packed + (r << 4), plain + 192, 16, toPacked); // scales
    move(packed + 64 + r * 192, plain, 192, toPacked); // ql, qh
    move(packed + 832 + (r << 1), plain + 208, 2, toPacked); // d
    return;
  }
  const Q5 = type == Q5_K;
  move(packed + (r << 1), plain, 2, toPacked); // d
  move(packed + 8 + (r << 1), plain + 2, 2, toPacked); // dmin
  for (let k: usize = 0; k < 3; k++) move(packed + 16 + (k << 4) + (r << 2), plain + 4 + (k << 2), 4, toPacked);
  if (Q5) move(packed + 64 + (r << 5), plain + 16, 32, toPacked); // qh
  const nib = packed + (Q5 ? 192 : 64);
  for (let j: usize = 0; j < 4; j++) move(nib + (j << 7) + (r << 5), plain + (Q5 ? 48 : 16) + (j << 5), 32, toPacked);
}

@inline function move(packed: usize, plain: usize, n: usize, toPacked: bool): void {
  if (toPacked) memory.copy(packed, plain, n);
  else memory.copy(plain, packed, n);
}

/** The four plain rows at p0..p3 (cols values) written as one packed group at dst. */
function packRows(type: i32, p0: usize, p1: usize, p2: usize, p3: usize, cols: i32, dst: usize): void {
  const nsb = cols >> 8;
  const sb = sbBytes(type);
  for (let s = 0; s < nsb; s++) {
    const o = <usize>s * sb, g = dst + <usize>s * (sb << 2);
    moveK(type, p0 + o, g, 0, true);
    moveK(type, p1 + o, g, 1, true);
    moveK(type, p2 + o, g, 2, true);
    moveK(type, p3 + o, g, 3, true);
  }
}

/** Rearrange rows [0, rows & ~3) of the K matrix at w in place (scratch: 4 * rowBytes bytes). */
export function repackK(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, scratch: usize): void {
  const rb = <usize>rowBytes;
  for (let g: i32 = 0; g + 4 <= rows; g += 4) {
    const dst = w + <usize>g * rb;
    memory.copy(scratch, dst, rb << 2);
    packRows(type, scratch, scratch + rb, scratch + 2 * rb, scratch + 3 * rb, cols, dst);
  }
}

/** Write the plain bytes of row `row` of a packed K matrix to dst (rowBytes bytes), for dequantization. */
export function plainRowK(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, row: i32, dst: usize): void {
  if (row >= (rows & ~3)) {
    memory.copy(dst, w + <usize>row * <usize>rowBytes, rowBytes);
    return;
  }
  const nsb = cols >> 8;
  const sb = sbBytes(type);
  const g = w + <usize>(row & ~3) * <usize>rowBytes;
  for (let s = 0; s < nsb; s++) moveK(type, dst + <usize>s * sb, g + <usize>s * (sb << 2), <usize>(row & 3), false);
}

/**
 * IEEE halves (sign-extended in the i32 lanes of h) as f32x4; exact. The
 * exponent is re-biased with an integer add (kRebias = 2^112 is opaque, see
 * matmul.ts, so its bits give the 112 << 23), not h2f's multiply by 2^112:
 * that multiply takes an f32 subnormal whenever the half is subnormal, and
 * x86 runs every such operand through a slow microcode assist. Real Q6_K
 * files hit it on almost every super-block (Gemma 3 270M: 99.9% of the Q6_K
 * scales are subnormal halves, 0.5% of the Q4_K ones). A subnormal half
 * m·2⁻²⁴ is formed as (2⁻¹⁴ + m·2⁻²⁴) − 2⁻¹⁴ with the half's sign on both
 * terms, every operand a normal float.
 */
@inline export function halves4(h: v128, kMask: i32, kRebias: f32): v128 {
  const bits = v128.and(i32x4.shl(h, 13), i32x4.splat(kMask)); // sign, exponent (bias 15) and mantissa in f32 places
  const sub = i32x4.eq(v128.and(bits, i32x4.splat(0x0f800000)), i32x4.splat(0)); // exponent 0: subnormal or zero
  const rebias = i32x4.splat(reinterpret<i32>(kRebias) - 0x3f800000); // 112 << 23
  const biased = i32x4.add(i32x4.add(bits, rebias), v128.and(sub, i32x4.splat(0x00800000)));
  const corr = v128.and(sub, v128.or(i32x4.splat(0x38800000), v128.and(bits, i32x4.splat(0x80000000)))); // ±2⁻¹⁴
  return f32x4.sub(biased, corr);
}

/**
 * s times the integer dot of 16 byte weights w (0..63) with the AK values
 * at x (relaxed: xv, their int8 vector), as int32x4 partials; sp holds s in
 * every int16 lane. Relaxed: byte dot to int16 pairs, widened by the scale
 * multiply. Baseline: the int16 weights times s (|w*s| < 2^13), dotted with
 * the int16 values.
 */
@inline function dot16(w: v128, xv: v128, x: usize, sp: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return i32x4.dot_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(xv, w), sp);
  return i32x4.add(i32x4.dot_i16x8_s(i16x8.mul(i16x8.extend_low_i8x16_u(w), sp), v128.load(x)),
    i32x4.dot_i16x8_s(i16x8.mul(i16x8.extend_high_i8x16_u(w), sp), v128.load(x, 16)));
}

/** dot16 of 32 weights (w0: values 0..15, w1: 16..31) with one scale; relaxed: the two int16 dots add first (|sum| < 2^15 for values < 32). */
@inline function dot32(w0: v128, w1: v128, x0: v128, x1: v128, x: usize, sp: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i32x4.dot_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(x0, w0), i16x8.relaxed_dot_i8x16_i7x16_s(x1, w1)), sp);
  }
  return i32x4.add(dot16(w0, x0, x, sp), dot16(w1, x1, x + 32, sp));
}

/** Address of AK value y of super-block sb (int8 relaxed, int16 baseline). */
@inline function akAt(a: usize, cols: i32, y: i32): usize {
  return a + akQ(cols) + (<usize>y << (ASC_FEATURE_RELAXED_SIMD ? 0 : 1));
}

/** The AK int8 vector of values y..y+15 (relaxed build; a placeholder in the baseline, which reads memory in dot16). */
@inline function akVec(a: usize, cols: i32, y: i32): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? v128.load(akAt(a, cols, y)) : i32x4.splat(0);
}

/** The int16 scale at scratch offset o (stored twice, as an i32) in every lane. */
@inline function scale(sc: usize, o: usize): v128 {
  return v128.load32_splat(sc + o);
}

/** The eight int16 scales in s stored as i32 pairs (s_t | s_t << 16) at o, o + 4, ..., o + 28. */
@inline function storeScales(o: usize, s: v128): void {
  v128.store(o, v128.shuffle<i16>(s, s, 0, 0, 1, 1, 2, 2, 3, 3));
  v128.store(o, v128.shuffle<i16>(s, s, 4, 4, 5, 5, 6, 6, 7, 7), 16);
}

/**
 * The four rows' dots of one packed Q4_K / Q5_K super-block at p (super-block
 * sb of the AK activation at a). Not inlined into the stream kernel: four
 * copies in one loop body left TurboFan too many live values (measured
 * slower than one group at a time).
 */
function superQ4_K(p: usize, a: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return superK(false, p, a, cols, sb, kMask, kRebias, false, a);
}
function superQ5_K(p: usize, a: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return superK(true, p, a, cols, sb, kMask, kRebias, false, a);
}
function superQ6_K(p: usize, a: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return superQ6(p, a, cols, sb, kMask, kRebias, false, a);
}
@inline function superOf(type: i32, p: usize, a: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  if (type == Q6_K) return superQ6_K(p, a, cols, sb, kMask, kRebias);
  return type == Q5_K ? superQ5_K(p, a, cols, sb, kMask, kRebias) : superQ4_K(p, a, cols, sb, kMask, kRebias);
}

/**
 * The same super-block for two tokens (a, a1) at once: each row's weights are
 * decoded once and dotted with both; token a's result returned, a1's at
 * scratch + RES2. Every token gets exactly superOf's operations.
 */
function superQ4_K2(p: usize, a: usize, a1: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return superK(false, p, a, cols, sb, kMask, kRebias, true, a1);
}
function superQ5_K2(p: usize, a: usize, a1: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return superK(true, p, a, cols, sb, kMask, kRebias, true, a1);
}
function superQ6_K2(p: usize, a: usize, a1: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return superQ6(p, a, cols, sb, kMask, kRebias, true, a1);
}

/**
 * superK: the four rows' dots of a Q4_K / Q5_K super-block with activation a;
 * two: with a1 as well (its int32 sums at ACC2, its result at RES2).
 */
@inline function superK(Q5: bool, p: usize, a: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32, two: bool, a1: usize): v128 {
  const sc = scratch; // a local: each read of the global is a load, and the kernel addresses the scratch ~40 times
  const k15 = (kMask >>> 28) + 7;
  const lowNib = i8x16.splat(<i8>k15), six = i8x16.splat(<i8>(k15 * 4 + 3)), one = i8x16.splat(<i8>(k15 - 14));
  const hd = v128.load(p);
  const c0 = v128.load(p, 16), c1 = v128.load(p, 32), c2 = v128.load(p, 48);
  // 6-bit scales and mins: byte j of lane r is row r's value for sub-block j (lo) or 4 + j (hi)
  const scLo = v128.and(c0, six), mnLo = v128.and(c1, six);
  const scHi = v128.or(v128.and(c2, lowNib), i8x16.shl(i8x16.shr_u(c0, 6), 4));
  const mnHi = v128.or(i8x16.shr_u(c2, 4), i8x16.shl(i8x16.shr_u(c1, 6), 4));
  // per row its eight scales as int16, to the scratch (splat-loaded per sub-block)
  const s01 = v128.shuffle<i32>(scLo, scHi, 0, 4, 1, 5), s23 = v128.shuffle<i32>(scLo, scHi, 2, 6, 3, 7);
  storeScales(sc + SC, i16x8.extend_low_i8x16_u(s01));
  storeScales(sc + SC + 32, i16x8.extend_high_i8x16_u(s01));
  storeScales(sc + SC + 64, i16x8.extend_low_i8x16_u(s23));
  storeScales(sc + SC + 96, i16x8.extend_high_i8x16_u(s23));
  // the mins times the activation's 32-value sums, per row
  const m01 = v128.shuffle<i32>(mnLo, mnHi, 0, 4, 1, 5), m23 = v128.shuffle<i32>(mnLo, mnHi, 2, 6, 3, 7);
  const bs = v128.load(a + akB32(cols) + (<usize>sb << 4));
  const summ = sum4(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(m01), bs), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(m01), bs),
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(m23), bs), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(m23), bs));
  const q = p + (Q5 ? 192 : 64);
  const y = sb << 8;
  // the four pairs of sub-blocks, unrolled so that every shift count is a constant; per row an
  // int32 accumulator in the scratch (its store after each row is the scheduling barrier, see rows4.ts fence)
  const z = i32x4.splat(0);
  v128.store(sc + ACC, z);
  v128.store(sc + ACC, z, 16);
  v128.store(sc + ACC, z, 32);
  v128.store(sc + ACC, z, 48);
  if (two) {
    v128.store(sc + ACC2, z);
    v128.store(sc + ACC2, z, 16);
    v128.store(sc + ACC2, z, 32);
    v128.store(sc + ACC2, z, 48);
  }
  pairK(sc, Q5, p, q, 0, a, cols, y, lowNib, one, two, a1);
  pairK(sc, Q5, p, q, 1, a, cols, y, lowNib, one, two, a1);
  pairK(sc, Q5, p, q, 2, a, cols, y, lowNib, one, two, a1);
  pairK(sc, Q5, p, q, 3, a, cols, y, lowNib, one, two, a1);
  const sumi = sum4(v128.load(sc + ACC), v128.load(sc + ACC, 16), v128.load(sc + ACC, 32), v128.load(sc + ACC, 48));
  const d = halves4(i32x4.extend_low_i16x8_s(hd), kMask, kRebias), dmin = halves4(i32x4.extend_high_i16x8_s(hd), kMask, kRebias);
  if (two) {
    const bs1 = v128.load(a1 + akB32(cols) + (<usize>sb << 4));
    const summ1 = sum4(i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(m01), bs1), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(m01), bs1),
      i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(m23), bs1), i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(m23), bs1));
    const sumi1 = sum4(v128.load(sc + ACC2), v128.load(sc + ACC2, 16), v128.load(sc + ACC2, 32), v128.load(sc + ACC2, 48));
    const da1 = v128.load32_splat(a1 + akD(cols) + (<usize>sb << 2));
    v128.store(sc + RES2, f32x4.mul(da1, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(sumi1)), f32x4.mul(dmin, f32x4.convert_i32x4_s(summ1)))));
  }
  const da = v128.load32_splat(a + akD(cols) + (<usize>sb << 2));
  return f32x4.mul(da, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(sumi)), f32x4.mul(dmin, f32x4.convert_i32x4_s(summ))));
}

/** Sub-blocks 2j, 2j+1 of the four rows added to their accumulators; the activations are loaded once for the four rows. */
@inline function pairK(sc: usize, Q5: bool, p: usize, q: usize, j: i32, a: usize, cols: i32, y: i32, lowNib: v128, one: v128,
  two: bool, a1: usize): void {
  const yl = y + (j << 6), yh = yl + 32;
  const xl = akAt(a, cols, yl), xh = akAt(a, cols, yh);
  const x0 = akVec(a, cols, yl), x1 = akVec(a, cols, yl + 16), x2 = akVec(a, cols, yh), x3 = akVec(a, cols, yh + 16);
  rowPairK(sc, Q5, p, q, 0, j, x0, x1, x2, x3, xl, xh, lowNib, one, two, a1, cols, yl, yh);
  rowPairK(sc, Q5, p, q, 1, j, x0, x1, x2, x3, xl, xh, lowNib, one, two, a1, cols, yl, yh);
  rowPairK(sc, Q5, p, q, 2, j, x0, x1, x2, x3, xl, xh, lowNib, one, two, a1, cols, yl, yh);
  rowPairK(sc, Q5, p, q, 3, j, x0, x1, x2, x3, xl, xh, lowNib, one, two, a1, cols, yl, yh);
}

/** Row r's sub-blocks 2j (low nibbles of its 32 bytes at q + 128j + 32r) and 2j+1 (high nibbles), scaled, added to its accumulator. */
@inline function rowPairK(sc: usize, Q5: bool, p: usize, q: usize, r: usize, j: i32, x0: v128, x1: v128, x2: v128, x3: v128, xl: usize, xh: usize,
  lowNib: v128, one: v128, two: bool, a1: usize, cols: i32, yl: i32, yh: i32): void {
  const n = q + (<usize>j << 7) + (r << 5);
  const v0 = v128.load(n), v1 = v128.load(n, 16);
  let w0 = v128.and(v0, lowNib), w1 = v128.and(v1, lowNib);
  let w2 = v128.and(i16x8.shr_u(v0, 4), lowNib), w3 = v128.and(i16x8.shr_u(v1, 4), lowNib);
  if (Q5) { // fifth bits: bits 2j, 2j+1 of the row's qh bytes, moved to bit 4
    const h0 = v128.load(p + 64 + (r << 5)), h1 = v128.load(p + 64 + (r << 5), 16);
    const b16 = i8x16.shl(one, 4);
    w0 = v128.or(w0, v128.and(fifthBit(h0, 2 * j), b16));
    w1 = v128.or(w1, v128.and(fifthBit(h1, 2 * j), b16));
    w2 = v128.or(w2, v128.and(fifthBit(h0, 2 * j + 1), b16));
    w3 = v128.or(w3, v128.and(fifthBit(h1, 2 * j + 1), b16));
  }
  const o = SC + (r << 5) + (<usize>j << 3);
  const s = i32x4.add(dot32(w0, w1, x0, x1, xl, scale(sc, o)), dot32(w2, w3, x2, x3, xh, scale(sc, o + 4)));
  v128.store(sc + ACC + (r << 4), i32x4.add(v128.load(sc + ACC + (r << 4)), s));
  if (two) { // the second token's activations (loaded per row: registers are scarce), the same weights
    const zl = akAt(a1, cols, yl), zh = akAt(a1, cols, yh);
    const t = i32x4.add(dot32(w0, w1, akVec(a1, cols, yl), akVec(a1, cols, yl + 16), zl, scale(sc, o)),
      dot32(w2, w3, akVec(a1, cols, yh), akVec(a1, cols, yh + 16), zh, scale(sc, o + 4)));
    v128.store(sc + ACC2 + (r << 4), i32x4.add(v128.load(sc + ACC2 + (r << 4)), t));
  }
}

/** Bit b of each byte moved to bit 4 (i16 shifts: the bit kept never crosses a byte). */
@inline function fifthBit(v: v128, b: i32): v128 {
  return b < 4 ? i16x8.shl(v, 4 - b) : b == 4 ? v : i16x8.shr_u(v, b - 4);
}

/**
 * The four rows' dots of one packed Q6_K super-block at p. Values are the
 * unsigned 6-bit q (0..63) with scale s per 16 values; the -32 of each value
 * is 32 * sum(s * bsum16) per row, formed once per super-block. two: token
 * a1 as well (as superK).
 */
@inline function superQ6(p: usize, a: usize, cols: i32, sb: i32, kMask: i32, kRebias: f32, two: bool, a1: usize): v128 {
  const sc = scratch; // a local, see superK
  const k15 = (kMask >>> 28) + 7;
  const lowNib = i8x16.splat(<i8>k15), hiMask = i8x16.splat(<i8>(k15 * 3 + 3)); // 0x0f, 0x30
  const b0 = v128.load(a + akB16(cols) + (<usize>sb << 5)), b1 = v128.load(a + akB16(cols) + (<usize>sb << 5), 16);
  // per row: its 16 scales as int16 to the scratch, -32 * sum(scale * bsum16) as its accumulator's start
  q6Start(sc, p, 0, b0, b1);
  q6Start(sc, p, 1, b0, b1);
  q6Start(sc, p, 2, b0, b1);
  q6Start(sc, p, 3, b0, b1);
  if (two) {
    const c0 = v128.load(a1 + akB16(cols) + (<usize>sb << 5)), c1 = v128.load(a1 + akB16(cols) + (<usize>sb << 5), 16);
    q6Start2(sc, p, 0, c0, c1);
    q6Start2(sc, p, 1, c0, c1);
    q6Start2(sc, p, 2, c0, c1);
    q6Start2(sc, p, 3, c0, c1);
  }
  // quarters k and k + 2 of each half share their ql bytes (low and high nibbles); unrolled so that every shift count is a constant
  const y = sb << 8;
  pairQ6(sc, p, 0, 0, a, cols, y, lowNib, hiMask, two, a1);
  pairQ6(sc, p, 0, 1, a, cols, y, lowNib, hiMask, two, a1);
  pairQ6(sc, p, 1, 0, a, cols, y, lowNib, hiMask, two, a1);
  pairQ6(sc, p, 1, 1, a, cols, y, lowNib, hiMask, two, a1);
  const sumi = sum4(v128.load(sc + ACC), v128.load(sc + ACC, 16), v128.load(sc + ACC, 32), v128.load(sc + ACC, 48));
  const d = halves4(i32x4.extend_low_i16x8_s(v128.load64_zero(p + 832)), kMask, kRebias);
  if (two) {
    const sumi1 = sum4(v128.load(sc + ACC2), v128.load(sc + ACC2, 16), v128.load(sc + ACC2, 32), v128.load(sc + ACC2, 48));
    const da1 = v128.load32_splat(a1 + akD(cols) + (<usize>sb << 2));
    v128.store(sc + RES2, f32x4.mul(f32x4.convert_i32x4_s(sumi1), f32x4.mul(d, da1)));
  }
  const da = v128.load32_splat(a + akD(cols) + (<usize>sb << 2));
  return f32x4.mul(f32x4.convert_i32x4_s(sumi), f32x4.mul(d, da));
}

@inline function q6Start(sc: usize, p: usize, r: usize, b0: v128, b1: v128): void {
  const s = v128.load(p + (r << 4));
  const lo = i16x8.extend_low_i8x16_s(s), hi = i16x8.extend_high_i8x16_s(s);
  storeScales(sc + SC + (r << 6), lo);
  storeScales(sc + SC + (r << 6) + 32, hi);
  v128.store(sc + ACC + (r << 4), i32x4.sub(i32x4.splat(0), i32x4.shl(i32x4.add(i32x4.dot_i16x8_s(lo, b0), i32x4.dot_i16x8_s(hi, b1)), 5)));
}

/** q6Start's accumulator start for a second token (bsum16 c0, c1) at ACC2; the scales are q6Start's. */
@inline function q6Start2(sc: usize, p: usize, r: usize, c0: v128, c1: v128): void {
  const s = v128.load(p + (r << 4));
  const lo = i16x8.extend_low_i8x16_s(s), hi = i16x8.extend_high_i8x16_s(s);
  v128.store(sc + ACC2 + (r << 4), i32x4.sub(i32x4.splat(0), i32x4.shl(i32x4.add(i32x4.dot_i16x8_s(lo, c0), i32x4.dot_i16x8_s(hi, c1)), 5)));
}

/** Quarters k and k + 2 of half h of the four rows added to their accumulators; the activations are loaded once for the four rows. */
@inline function pairQ6(sc: usize, p: usize, h: i32, k: i32, a: usize, cols: i32, y: i32, lowNib: v128, hiMask: v128,
  two: bool, a1: usize): void {
  const yl = y + (h << 7) + (k << 5), yh = yl + 64;
  const xl = akAt(a, cols, yl), xh = akAt(a, cols, yh);
  const x0 = akVec(a, cols, yl), x1 = akVec(a, cols, yl + 16), x2 = akVec(a, cols, yh), x3 = akVec(a, cols, yh + 16);
  rowPairQ6(sc, p, 0, h, k, x0, x1, x2, x3, xl, xh, lowNib, hiMask, two, a1, cols, yl, yh);
  rowPairQ6(sc, p, 1, h, k, x0, x1, x2, x3, xl, xh, lowNib, hiMask, two, a1, cols, yl, yh);
  rowPairQ6(sc, p, 2, h, k, x0, x1, x2, x3, xl, xh, lowNib, hiMask, two, a1, cols, yl, yh);
  rowPairQ6(sc, p, 3, h, k, x0, x1, x2, x3, xl, xh, lowNib, hiMask, two, a1, cols, yl, yh);
}

/**
 * Row r's values 128h + 32k .. +31 and 128h + 32(k+2) .. +31 of a Q6_Kx4
 * super-block, scaled, added to its accumulator: low 4 bits from the low
 * and high nibbles of ql[64h + 32k + l], high 2 bits from bits 2k and
 * 2k + 4 of qh[32h + l]; scales 8h + 2k, +1 and 8h + 2k + 4, +5.
 */
@inline function rowPairQ6(sc: usize, p: usize, r: usize, h: i32, k: i32, x0: v128, x1: v128, x2: v128, x3: v128, xl: usize, xh: usize,
  lowNib: v128, hiMask: v128, two: bool, a1: usize, cols: i32, yl: i32, yh: i32): void {
  const row = p + 64 + r * 192;
  const l = row + (<usize>h << 6) + (<usize>k << 5), qh = row + 128 + (<usize>h << 5);
  const l0 = v128.load(l), l1 = v128.load(l, 16), h0 = v128.load(qh), h1 = v128.load(qh, 16);
  const w0 = v128.or(v128.and(l0, lowNib), v128.and(q6High(h0, k), hiMask));
  const w1 = v128.or(v128.and(l1, lowNib), v128.and(q6High(h1, k), hiMask));
  const w2 = v128.or(v128.and(i16x8.shr_u(l0, 4), lowNib), v128.and(q6High(h0, k + 2), hiMask));
  const w3 = v128.or(v128.and(i16x8.shr_u(l1, 4), lowNib), v128.and(q6High(h1, k + 2), hiMask));
  const s = SC + (r << 6) + (<usize>((h << 3) + (k << 1)) << 2);
  const n = ASC_FEATURE_RELAXED_SIMD ? 16 : 32;
  const lo = i32x4.add(dot16(w0, x0, xl, scale(sc, s)), dot16(w1, x1, xl + n, scale(sc, s + 4)));
  const hi = i32x4.add(dot16(w2, x2, xh, scale(sc, s + 16)), dot16(w3, x3, xh + n, scale(sc, s + 20)));
  v128.store(sc + ACC + (r << 4), i32x4.add(v128.load(sc + ACC + (r << 4)), i32x4.add(lo, hi)));
  if (two) { // the second token, the same weights (see rowPairK)
    const zl = akAt(a1, cols, yl), zh = akAt(a1, cols, yh);
    const lo1 = i32x4.add(dot16(w0, akVec(a1, cols, yl), zl, scale(sc, s)), dot16(w1, akVec(a1, cols, yl + 16), zl + n, scale(sc, s + 4)));
    const hi1 = i32x4.add(dot16(w2, akVec(a1, cols, yh), zh, scale(sc, s + 16)), dot16(w3, akVec(a1, cols, yh + 16), zh + n, scale(sc, s + 20)));
    v128.store(sc + ACC2 + (r << 4), i32x4.add(v128.load(sc + ACC2 + (r << 4)), i32x4.add(lo1, hi1)));
  }
}

/** Bits 2k, 2k+1 of each byte moved to bits 4, 5 (i16 shifts: the bits kept never cross a byte). */
@inline function q6High(v: v128, k: i32): v128 {
  return k == 0 ? i16x8.shl(v, 4) : k == 1 ? i16x8.shl(v, 2) : k == 2 ? v : i16x8.shr_u(v, 2);
}

/** Rows 4g..4g+3 (group at g) of a packed K matrix dotted with the AK activation at a: 4 floats at out. */
export function groupK(type: i32, g: usize, a: usize, cols: i32, out: usize, kMask: i32, kRebias: f32): void {
  const sb4 = sbBytes(type) << 2;
  const nsb = cols >> 8;
  let acc = f32x4.splat(0);
  for (let s = 0; s < nsb; s++) acc = f32x4.add(acc, superOf(type, g + <usize>s * sb4, a, cols, s, kMask, kRebias));
  v128.store(out, acc);
}

/**
 * groupK for two tokens at once (activations a0, a1; outputs o0, o1): each
 * super-block's weights decoded once for both (n = 2, 3: fewer tokens than
 * the expanded batch kernels pay for). Each token gets groupK's bits.
 */
export function groupK2(type: i32, g: usize, a0: usize, a1: usize, cols: i32, o0: usize, o1: usize, kMask: i32, kRebias: f32): void {
  const sb4 = sbBytes(type) << 2;
  const nsb = cols >> 8;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  for (let s = 0; s < nsb; s++) {
    const p = g + <usize>s * sb4;
    let v: v128;
    if (type == Q6_K) v = superQ6_K2(p, a0, a1, cols, s, kMask, kRebias);
    else if (type == Q5_K) v = superQ5_K2(p, a0, a1, cols, s, kMask, kRebias);
    else v = superQ4_K2(p, a0, a1, cols, s, kMask, kRebias);
    acc0 = f32x4.add(acc0, v);
    acc1 = f32x4.add(acc1, v128.load(scratch + RES2));
  }
  v128.store(o0, acc0);
  v128.store(o1, acc1);
}

/**
 * Groups decoded in one pass (memory streams) by streamsK. Same-process CPU
 * time against the plain four-row kernel (Q4_K 2048x2048, loaded machine):
 * 1 group 1.03-1.07x, 2 groups 1.19-1.32x, 4 groups ~1.05x. Since the
 * kernels got cheaper (scales splat-loaded 32 bits wide) 4 groups beat 2:
 * bench/decode-ab.ts, Q4_K 2048x2048, 2048x5632, 5632x2048 x1.07-1.21 in 3
 * of 4 runs, Q6_K 2048x5632 x1.03-1.06; 8 groups were no better than 4.
 */
export const STREAMS_K: i32 = 4;

/**
 * Q6_K decodes eight groups per pass (streamsK): from DRAM (bench/decode-ab.ts --mib 700-1024, one thread) 8
 * streams read Q6_K 1.11-1.42x faster than 4 (a 7B's 49152x4096 output head 9.8 -> 12.9 GB/s), where Q4_K and Q5_K
 * read 0.89-0.95x as fast (results/bench/decode-s18.md).
 */
export const STREAMS_Q6_K: i32 = 8;

/** Groups per decode pass of a K-quant of `type`. */
@inline export function streamsOfK(type: i32): i32 {
  return type == Q6_K ? STREAMS_Q6_K : STREAMS_K;
}

/**
 * groupK of the `streams` (STREAMS_K or STREAMS_Q6_K, see streamsOfK) groups at g + i*d (bytes); outputs at
 * out + i*od.
 */
export function streamsK(type: i32, streams: i32, g: usize, d: usize, a: usize, cols: i32, out: usize, od: usize, kMask: i32, kRebias: f32): void {
  const sb4 = sbBytes(type) << 2;
  const nsb = cols >> 8;
  const eight = streams == 8;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let acc4 = f32x4.splat(0), acc5 = f32x4.splat(0), acc6 = f32x4.splat(0), acc7 = f32x4.splat(0);
  for (let s = 0; s < nsb; s++) {
    const p = g + <usize>s * sb4;
    acc0 = f32x4.add(acc0, superOf(type, p, a, cols, s, kMask, kRebias));
    acc1 = f32x4.add(acc1, superOf(type, p + d, a, cols, s, kMask, kRebias));
    acc2 = f32x4.add(acc2, superOf(type, p + 2 * d, a, cols, s, kMask, kRebias));
    acc3 = f32x4.add(acc3, superOf(type, p + 3 * d, a, cols, s, kMask, kRebias));
    if (eight) {
      acc4 = f32x4.add(acc4, superOf(type, p + 4 * d, a, cols, s, kMask, kRebias));
      acc5 = f32x4.add(acc5, superOf(type, p + 5 * d, a, cols, s, kMask, kRebias));
      acc6 = f32x4.add(acc6, superOf(type, p + 6 * d, a, cols, s, kMask, kRebias));
      acc7 = f32x4.add(acc7, superOf(type, p + 7 * d, a, cols, s, kMask, kRebias));
    }
  }
  v128.store(out, acc0);
  v128.store(out + od, acc1);
  v128.store(out + 2 * od, acc2);
  v128.store(out + 3 * od, acc3);
  if (eight) {
    v128.store(out + 4 * od, acc4);
    v128.store(out + 5 * od, acc5);
    v128.store(out + 6 * od, acc6);
    v128.store(out + 7 * od, acc7);
  }
}

/**
 * Rows of a K matrix still in the plain layout (a matrix never prepared, or
 * the last rows % 4 of a packed one): rows r..r+m-1 (m <= 4; the last one
 * repeated to fill the group) are staged as one packed group in the scratch
 * and go through groupK, so they get exactly what they would get packed.
 * Their outputs for the n tokens: out + 4*(t*outStride + r).
 */
export function plainRowsK(type: i32, p: usize, rowBytes: i32, m: i32, cols: i32, act: usize, actStride: i32, n: i32,
  out: usize, outStride: i32, kMask: i32, kRebias: f32): void {
  const rb = <usize>rowBytes;
  const last = <usize>(m - 1);
  packRows(type, p, p + min<usize>(1, last) * rb, p + min<usize>(2, last) * rb, p + min<usize>(3, last) * rb, cols, scratch + STAGE);
  for (let t = 0; t < n; t++) {
    groupK(type, scratch + STAGE, act + <usize>t * <usize>actStride, cols, scratch + TMP, kMask, kRebias);
    const o = out + (<usize>t * <usize>outStride << 2);
    for (let i = 0; i < m; i++) store<f32>(o + (<usize>i << 2), load<f32>(scratch + TMP + (<usize>i << 2)));
  }
}
