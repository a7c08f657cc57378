// Packed ("x4") layout of the K-quants Q4_K and Q5_K, and their kernels.
//
// The four-row kernels over the plain layout (rows4.ts) spend per 32-value
// sub-block and row about a dozen instructions beside the two dots: the
// activations are reloaded for every row, the four rows' d, dmin and scale
// bytes are gathered and transposed per super-block, and each row is its own
// memory stream. At load, rows 4g..4g+3 are rearranged in place (same bytes)
// so that one 4-row super-block is contiguous and its header loads as
// vectors, one lane per row:
//
//   Q4_Kx4 super-block (576 bytes):
//     f16 d[4] | f16 dmin[4] | c0[4] c1[4] c2[4] (scale bytes 0-3, 4-7, 8-11 of each row, 4 bytes per lane)
//     | nibbles: pair j (0..3), row r: the row's 32 bytes of sub-blocks 2j (low) and 2j+1 (high nibbles)
//   Q5_Kx4 super-block (704 bytes): the same header | qh[4][32] | nibbles as Q4_Kx4
//
// The kernels then read the activations once per sub-block for the four
// rows, and decoding runs STREAMS_K groups (each one contiguous stream) a
// STREAMS_K-th of the rows apart in one pass. Every group's sums are formed
// by the same function (superK) whether it is decoded alone, in a stream
// kernel or for a prompt token, so results do not depend on the split.

import { Q4_K, Q5_K, q8nOffset, qOffset, sum4 } from "./common";
import { dot32u } from "./dot-legacy";
import { byteF, kMins } from "./rows4";
import { scratch } from "./prompt";

/** True when `type` is a K-quant this file packs. */
export function packableK(type: i32): bool {
  return type == Q4_K || type == Q5_K;
}

/** Plain bytes of one super-block of a row: Q4_K 144, Q5_K 176. */
@inline function sbBytes(Q5: bool): usize {
  return Q5 ? 176 : 144;
}

/**
 * Move row r's plain super-block at `plain` to its places in the packed
 * 4-row super-block at `packed`, or back (toPacked false).
 */
function moveK(Q5: bool, plain: usize, packed: usize, r: usize, toPacked: bool): void {
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

/** Rearrange rows [0, rows & ~3) of the K matrix at w in place (scratch: 4 * rowBytes bytes). */
export function repackK(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, scratch: usize): void {
  const Q5 = type == Q5_K;
  const nsb = cols >> 8;
  const sb = sbBytes(Q5);
  const gbytes = <usize>rowBytes << 2;
  for (let g: i32 = 0; g + 4 <= rows; g += 4) {
    const dst = w + <usize>g * <usize>rowBytes;
    memory.copy(scratch, dst, gbytes);
    for (let r: usize = 0; r < 4; r++) {
      for (let s = 0; s < nsb; s++) moveK(Q5, scratch + r * <usize>rowBytes + <usize>s * sb, dst + <usize>s * (sb << 2), r, true);
    }
  }
}

/** Write the plain bytes of row `row` of a packed K matrix to dst (rowBytes bytes), for dequantization. */
export function plainRowK(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, row: i32, dst: usize): void {
  const Q5 = type == Q5_K;
  if (row >= (rows & ~3)) {
    memory.copy(dst, w + <usize>row * <usize>rowBytes, rowBytes);
    return;
  }
  const nsb = cols >> 8;
  const sb = sbBytes(Q5);
  const g = w + <usize>(row & ~3) * <usize>rowBytes;
  for (let s = 0; s < nsb; s++) moveK(Q5, dst + <usize>s * sb, g + <usize>s * (sb << 2), <usize>(row & 3), false);
}

/** v, stored to this thread's scratch: a scheduling barrier between rows (see rows4.ts fence). */
@inline function fence(v: v128): v128 {
  v128.store(scratch, v);
  return v;
}

/**
 * int32x4 partial dot of 32 byte weights w0 (values 0..15), w1 (16..31) with
 * A16 block b: relaxed build with its int8 values x0, x1 (loaded once for the
 * four rows), baseline with the int16 values at a.
 */
@inline function dotW(w0: v128, w1: v128, x0: v128, x1: v128, a: usize, cols: i32, b: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(x0, w0), i16x8.relaxed_dot_i8x16_i7x16_s(x1, w1)));
  }
  return dot32u(w0, w1, a + qOffset(cols) + (<usize>b << 6));
}

/**
 * The four rows' contributions of one packed Q4_K / Q5_K super-block at p
 * (super-block index sb) with the A16 activation at a (nb blocks). Not
 * inlined into the stream kernel: four copies in one loop body left
 * TurboFan too many live values (measured slower than one group at a time).
 */
function superQ4_K(p: usize, a: usize, nb: i32, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return superK(false, p, a, nb, cols, sb, kMask, kRebias);
}
function superQ5_K(p: usize, a: usize, nb: i32, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return superK(true, p, a, nb, cols, sb, kMask, kRebias);
}
@inline function superOf(Q5: bool, p: usize, a: usize, nb: i32, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  return Q5 ? superQ5_K(p, a, nb, cols, sb, kMask, kRebias) : superQ4_K(p, a, nb, cols, sb, kMask, kRebias);
}

@inline function superK(Q5: bool, p: usize, a: usize, nb: i32, cols: i32, sb: i32, kMask: i32, kRebias: f32): v128 {
  const mask = i32x4.splat(kMask), rebias = f32x4.splat(kRebias);
  const k15 = (kMask >>> 28) + 7;
  const lowNib = i8x16.splat(<i8>k15), six = i8x16.splat(<i8>(k15 * 4 + 3)), one = i8x16.splat(<i8>(k15 - 14));
  const hd = v128.load(p);
  const d = f32x4.mul(v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(hd), 13), mask), rebias);
  const dmin = f32x4.mul(v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(hd), 13), mask), rebias);
  const c0 = v128.load(p, 16), c1 = v128.load(p, 32), c2 = v128.load(p, 48);
  const scLo = v128.and(c0, six), mnLo = v128.and(c1, six); // sub-blocks 0..3: byte j of each lane
  const scHi = v128.or(v128.and(c2, lowNib), i8x16.shl(i8x16.shr_u(c0, 6), 4)); // sub-blocks 4..7
  const mnHi = v128.or(i8x16.shr_u(c2, 4), i8x16.shl(i8x16.shr_u(c1, 6), 4));
  const blk = sb << 3;
  let acc = f32x4.mul(dmin, f32x4.add(kMins(mnLo, a, nb, blk), kMins(mnHi, a, nb, blk + 4)));
  acc = f32x4.neg(acc);
  const q = p + (Q5 ? 192 : 64);
  acc = pairK(Q5, acc, p, q, 0, a, cols, blk, d, scLo, lowNib, one);
  acc = pairK(Q5, acc, p, q + 128, 1, a, cols, blk, d, scLo, lowNib, one);
  acc = pairK(Q5, acc, p, q + 256, 2, a, cols, blk, d, scHi, lowNib, one);
  return pairK(Q5, acc, p, q + 384, 3, a, cols, blk, d, scHi, lowNib, one);
}

/** acc plus sub-blocks 2j, 2j+1 of the packed super-block at p (nibbles of the pair at q; scales: bytes (2j)&3, +1 of sc). */
@inline function pairK(Q5: bool, acc: v128, p: usize, q: usize, j: i32, a: usize, cols: i32, blk: i32, d: v128, sc: v128,
  lowNib: v128, one: v128): v128 {
  const b = blk + 2 * j, k = (2 * j) & 3;
  const x = a + q8nOffset(cols) + (<usize>b << 5);
  // one sub-block at a time for the four rows, a fence after each row (see fence): fewer live vectors
  let x0 = ASC_FEATURE_RELAXED_SIMD ? v128.load(x) : x0Dummy(), x1 = ASC_FEATURE_RELAXED_SIMD ? v128.load(x, 16) : x0Dummy();
  const lo = sum4(fence(rowLo(Q5, p, q, 0, j, x0, x1, a, cols, b, lowNib, one)), fence(rowLo(Q5, p, q, 1, j, x0, x1, a, cols, b, lowNib, one)),
    fence(rowLo(Q5, p, q, 2, j, x0, x1, a, cols, b, lowNib, one)), fence(rowLo(Q5, p, q, 3, j, x0, x1, a, cols, b, lowNib, one)));
  acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(lo), f32x4.mul(f32x4.mul(d, byteF(sc, k)), v128.load32_splat(a + (<usize>b << 2)))));
  x0 = ASC_FEATURE_RELAXED_SIMD ? v128.load(x, 32) : x0Dummy();
  x1 = ASC_FEATURE_RELAXED_SIMD ? v128.load(x, 48) : x0Dummy();
  const hi = sum4(fence(rowHi(Q5, p, q, 0, j, x0, x1, a, cols, b + 1, lowNib, one)), fence(rowHi(Q5, p, q, 1, j, x0, x1, a, cols, b + 1, lowNib, one)),
    fence(rowHi(Q5, p, q, 2, j, x0, x1, a, cols, b + 1, lowNib, one)), fence(rowHi(Q5, p, q, 3, j, x0, x1, a, cols, b + 1, lowNib, one)));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(hi), f32x4.mul(f32x4.mul(d, byteF(sc, k + 1)), v128.load32_splat(a + (<usize>(b + 1) << 2)))));
}

@inline function x0Dummy(): v128 {
  return i32x4.splat(0);
}

/** Row r's int32x4 partial dot of sub-block 2j (low nibbles of its 32 bytes at q + 32r). */
@inline function rowLo(Q5: bool, p: usize, q: usize, r: usize, j: i32, x0: v128, x1: v128, a: usize, cols: i32, b: i32,
  lowNib: v128, one: v128): v128 {
  const v0 = v128.load(q + (r << 5)), v1 = v128.load(q + (r << 5), 16);
  let w0 = v128.and(v0, lowNib), w1 = v128.and(v1, lowNib);
  if (Q5) {
    w0 = v128.or(w0, i16x8.shl(v128.and(i16x8.shr_u(v128.load(p + 64 + (r << 5)), 2 * j), one), 4));
    w1 = v128.or(w1, i16x8.shl(v128.and(i16x8.shr_u(v128.load(p + 64 + (r << 5), 16), 2 * j), one), 4));
  }
  return dotW(w0, w1, x0, x1, a, cols, b);
}

/** Row r's int32x4 partial dot of sub-block 2j+1 (high nibbles). */
@inline function rowHi(Q5: bool, p: usize, q: usize, r: usize, j: i32, x0: v128, x1: v128, a: usize, cols: i32, b: i32,
  lowNib: v128, one: v128): v128 {
  const v0 = v128.load(q + (r << 5)), v1 = v128.load(q + (r << 5), 16);
  let w0 = v128.and(i16x8.shr_u(v0, 4), lowNib), w1 = v128.and(i16x8.shr_u(v1, 4), lowNib);
  if (Q5) {
    w0 = v128.or(w0, i16x8.shl(v128.and(i16x8.shr_u(v128.load(p + 64 + (r << 5)), 2 * j + 1), one), 4));
    w1 = v128.or(w1, i16x8.shl(v128.and(i16x8.shr_u(v128.load(p + 64 + (r << 5), 16), 2 * j + 1), one), 4));
  }
  return dotW(w0, w1, x0, x1, a, cols, b);
}

/** Rows 4g..4g+3 (group at g) of a packed Q4_K / Q5_K matrix dotted with the A16 activation at a: 4 floats at out. */
export function groupK(type: i32, g: usize, a: usize, nb: i32, cols: i32, out: usize, kMask: i32, kRebias: f32): void {
  if (type == Q5_K) groupKOf(true, g, a, nb, cols, out, kMask, kRebias);
  else groupKOf(false, g, a, nb, cols, out, kMask, kRebias);
}

@inline function groupKOf(Q5: bool, g: usize, a: usize, nb: i32, cols: i32, out: usize, kMask: i32, kRebias: f32): void {
  const sb4 = sbBytes(Q5) << 2;
  const nsb = nb >> 3;
  let acc = f32x4.splat(0);
  for (let s = 0; s < nsb; s++) acc = f32x4.add(acc, superOf(Q5, g + <usize>s * sb4, a, nb, cols, s, kMask, kRebias));
  v128.store(out, acc);
}

/**
 * Groups decoded in one pass (memory streams) by streamsK. Same-process CPU
 * time against the plain four-row kernel (Q4_K 2048x2048, loaded machine):
 * 1 group 1.03-1.07x, 2 groups 1.19-1.32x, 4 groups ~1.05x.
 */
export const STREAMS_K: i32 = 2;

/** groupK of the STREAMS_K groups at g + i*d (bytes); outputs at out + i*od. */
export function streamsK(type: i32, g: usize, d: usize, a: usize, nb: i32, cols: i32, out: usize, od: usize, kMask: i32, kRebias: f32): void {
  if (type == Q5_K) streamsKOf(true, g, d, a, nb, cols, out, od, kMask, kRebias);
  else streamsKOf(false, g, d, a, nb, cols, out, od, kMask, kRebias);
}

@inline function streamsKOf(Q5: bool, g: usize, d: usize, a: usize, nb: i32, cols: i32, out: usize, od: usize, kMask: i32, kRebias: f32): void {
  const sb4 = sbBytes(Q5) << 2;
  const nsb = nb >> 3;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  for (let s = 0; s < nsb; s++) {
    const p = g + <usize>s * sb4;
    acc0 = f32x4.add(acc0, superOf(Q5, p, a, nb, cols, s, kMask, kRebias));
    acc1 = f32x4.add(acc1, superOf(Q5, p + d, a, nb, cols, s, kMask, kRebias));
  }
  v128.store(out, acc0);
  v128.store(out + od, acc1);
}
