import { Q4_K, Q5_K, Q6_K, akD, akB32, akQ } from "./common";
import { scratch, scratchBytes } from "./prompt";
import { sbBytes } from "./packed-k";
import { expandedSuper, expandK, W45, W6 } from "./expand-k";

// Batches (n > 1 tokens) of the K-quants Q4_K, Q5_K and Q6_K, relaxed build:
// the scheme of prompt.ts for Q4_0/Q4_1 (read it first) applied to the packed
// 4-row super-blocks of packed-k.ts. Each 4-row group is decoded once per
// batch ("expanded": nibbles, fifth / high bits, 6-bit scales and mins, f16
// scales) into the scratch, each token's AK activation is split once per
// batch (every word splatted to a v128), and splitPairK dots two expanded
// groups with two split tokens per pass, every operand a plain load.
//
// Transposed order, as in prompt.ts: W_i holds, in i32 lane k, row k's four
// weights (0..15, 0..31 or 0..63) for the super-block's activation values
// [4i, 4i+4) in natural order, so a relaxed dot with the splatted word i of a
// token gives row k's partial sums in int16 lanes 2k, 2k+1. The per-row
// sub-block scale is then one i32x4.dot_i16x8_s against a vector holding row
// k's scale in both int16 lanes 2k, 2k+1: it widens to int32 and applies a
// different scale to each row (lane) in one instruction. Dots are summed in
// int16 before widening as far as exactness allows (x: |q| <= 127; each dot
// lane is two products; int16 adds wrap, so only the final sum's range
// matters):
//   Q4_K  8 dots (one 32-value sub-block): 8 x 2 x 127 x 15 = 30480
//   Q5_K  4 dots (half a sub-block):       4 x 2 x 127 x 31 = 31496
//   Q6_K  4 dots (one 16-value scale) of the values centred, q - 32 in
//         [-32, 31]: 4 x 2 x 127 x 32 = 32512; the -32 enters the int16 sum
//         as the token's vector C (lane 2k: -32 times the sum of the
//         activations that lane's products take; splitActsK), so the dots
//         stay on the unsigned q (the relaxed dot's i7 operand)
// all < 32767. The mins (Q4_K, Q5_K) multiply the token's integer sums per
// 32 values: dot_i16x8_s of a vector of each row's pair of mins against the
// token's splatted pair of sums.
//
// Every integer sum is the exact integer packed-k.ts's super* kernels form
// (exact in any order), and the float steps per super-block and the adds
// over super-blocks are theirs on the same operands in the same order, so
// each (row, token) gets groupK's bits: batched and token-by-token results
// agree exactly.

// This thread's scratch (prompt.ts scratch, from offset 0): [0, 128) the sink
// (pinK's barrier stores, splitPairK's float sums at 64..127, expandK's
// transposes), then S expanded groups, then the split activations of a token
// tile. groupK's own scratch areas (packed-k.ts) overlap; they are not used
// while a batch runs.
const SINK: usize = 128;

/**
 * Bytes of one token's super-block of split activations (see splitActsK):
 * words 64 x 16 | bsum32 pairs 4 x 16 | Q6_K's C 16 x 16 | d 16.
 */
export const SPLIT_K: i32 = 1360;
const SB32: usize = 1024;
const SC6: usize = 1088;
const SD: usize = 1344;

/**
 * The n AK activations at act (stride as bytes; cols values, cols % 256 ==
 * 0) split for splitPairK, at dst: token k's super-block s at
 * dst + (k * cols/256 + s) * SPLIT_K holds its 64 int8 words (values 4i..4i+3)
 * each splatted to a v128, its int16 sums of 32 values in pairs (2m, 2m+1)
 * splatted (the mins' operand), per 16 values Q6_K's C (int16 lanes 2k,
 * 2k + 1: -32 times the sum of the activation bytes 4i, 4i + 1 and 4i + 2,
 * 4i + 3 of its four words i, the values int16 lanes 2k, 2k + 1 of a relaxed
 * dot multiply; |C| <= 32 x 8 x 127), and its f32 scale splatted.
 * Type-independent (one split serves Q4_K, Q5_K and Q6_K matrices of the
 * same activation), and written once per batch so that every splat the
 * kernel needs is a plain load with its offset in the address (see prompt.ts
 * splitActs).
 */
export function splitActsK(act: usize, as: usize, n: i32, cols: i32, dst: usize): void {
  splitRangeK(act, as, n, cols, 0, cols >> 8, dst, true);
}

/**
 * splitActsK of super-blocks [s0, s0 + m) only: token k's super-block s0 + s
 * at dst + (k * m + s) * SPLIT_K; c6 false: without Q6_K's C vectors (left
 * unwritten), which are about half the split's instructions: batchK splits
 * per call, and the pool calls it per chunk of rows (16 rows of a 2048-wide
 * matrix at n = 64), so the split is no small part of a chunk's work.
 */
function splitRangeK(act: usize, as: usize, n: i32, cols: i32, s0: i32, m: i32, dst: usize, c6: bool): void {
  let d = dst;
  for (let k = 0; k < n; k++) {
    const a = act + <usize>k * as;
    for (let s = s0; s < s0 + m; s++) {
      const x = a + akQ(cols) + (<usize>s << 8);
      for (let i: usize = 0; i < 64; i++) v128.store(d + (i << 4), v128.load32_splat(x + (i << 2)));
      const b32 = a + akB32(cols) + (<usize>s << 4);
      for (let m: usize = 0; m < 4; m++) v128.store(d + SB32 + (m << 4), v128.load32_splat(b32 + (m << 2)));
      for (let g: usize = 0; c6 && g < 16; g++) {
        // pair sums of the 16 bytes: int16 lanes 2i, 2i + 1 = word i's bytes 0 + 1, 2 + 3; summed over the words
        let e = i16x8.extadd_pairwise_i8x16_s(v128.load(x + (g << 4)));
        e = i16x8.add(e, v128.shuffle<i32>(e, e, 2, 3, 0, 1));
        e = i16x8.add(e, v128.shuffle<i32>(e, e, 1, 0, 3, 2));
        v128.store(d + SC6 + (g << 4), i16x8.mul(e, i16x8.splat(-32)));
      }
      v128.store(d + SD, v128.load32_splat(a + akD(cols) + (<usize>s << 2)));
      d += <usize>SPLIT_K;
    }
  }
}

/** s plus the relaxed dot of x (int8 activations) and w (weights 0..63). */
@inline function dotAdd(s: v128, x: v128, w: v128): v128 {
  return i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(x, w));
}

/** The relaxed dot of x and w. */
@inline function dot(x: v128, w: v128): v128 {
  return i16x8.relaxed_dot_i8x16_i7x16_s(x, w);
}

/** acc plus the int16 sums s widened to int32 by the rows' scales sc (each row's scale in both lanes of its pair). */
@inline function widen(acc: v128, s: v128, sc: v128): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(s, sc));
}

/**
 * Scheduling barrier (see prompt.ts pin4): four partial sums stored to the
 * sink's first 64 bytes, never read, so that each step's dots and adds are
 * done before the next step's loads.
 */
@inline function pinK(k: usize, s0: v128, s1: v128, s2: v128, s3: v128): void {
  v128.store(k, s0);
  v128.store(k, s1, 16);
  v128.store(k, s2, 32);
  v128.store(k, s3, 48);
}

/**
 * The four (group, token) float sums in the sink (k + 64..127) start at 0,
 * or (a later column tile, see batchK) at the sums so far, kept in the
 * outputs: the adds over super-blocks stay groupK's, in order.
 */
@inline function startSums(k: usize, o00: usize, o01: usize, o10: usize, o11: usize, first: bool): void {
  const z = f32x4.splat(0);
  v128.store(k, first ? z : v128.load(o00), 64);
  v128.store(k, first ? z : v128.load(o01), 80);
  v128.store(k, first ? z : v128.load(o10), 96);
  v128.store(k, first ? z : v128.load(o11), 112);
}

/** Sum over m < 4 of the int16-pair dots of the vectors at a + 16m and b + 16m (int32 lanes). */
@inline function pairs4(a: usize, b: usize): v128 {
  const s = i32x4.add(i32x4.dot_i16x8_s(v128.load(a), v128.load(b)), i32x4.dot_i16x8_s(v128.load(a, 16), v128.load(b, 16)));
  return i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(v128.load(a, 32), v128.load(b, 32)), i32x4.dot_i16x8_s(v128.load(a, 48), v128.load(b, 48))));
}

/**
 * Two expanded Q4_K / Q5_K groups (u0, u1; nsb super-blocks) times two split
 * tokens (x0, x1) in one pass, outputs o_gk for group g and token k (4 floats
 * each). Per super-block and sub-block: 8 steps of 2 W loads, 2 word loads, 4
 * dots and 4 int16 adds, then a widening by the scales (twice for Q5_K);
 * per super-block the mins, and superK's float step
 * da * (d * sumi - dmin * summ) added to the (group, token)'s sum (in the
 * sink). A lone group or token is passed twice.
 */
@inline function pairQ45(Q5: bool, u0: usize, u1: usize, x0: usize, x1: usize, nsb: i32,
  o00: usize, o01: usize, o10: usize, o11: usize, first: bool): void {
  const k = scratch;
  const z = i32x4.splat(0);
  startSums(k, o00, o01, o10, o11, first);
  let e0 = u0, e1 = u1;
  for (let s = 0; s < nsb; s++) {
    let i00 = z, i01 = z, i10 = z, i11 = z;
    let w0 = e0 + W45, w1 = e1 + W45, y0 = x0, y1 = x1, c0 = e0 + 32, c1 = e1 + 32;
    for (let j = 0; j < 8; j++) {
      // sub-block j: W_8j+i (at w + 16i) against word 8j+i (at y + 16i)
      let wa = v128.load(w0), wb = v128.load(w1), xa = v128.load(y0), xb = v128.load(y1);
      let s00 = dot(xa, wa), s01 = dot(xb, wa), s10 = dot(xa, wb), s11 = dot(xb, wb);
      wa = v128.load(w0, 16); wb = v128.load(w1, 16); xa = v128.load(y0, 16); xb = v128.load(y1, 16);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 32); wb = v128.load(w1, 32); xa = v128.load(y0, 32); xb = v128.load(y1, 32);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      wa = v128.load(w0, 48); wb = v128.load(w1, 48); xa = v128.load(y0, 48); xb = v128.load(y1, 48);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      if (Q5) { // four dots per int16 sum (4 x 2 x 127 x 31 < 32767): widen, start again
        const sa = v128.load(c0), sb = v128.load(c1);
        i00 = widen(i00, s00, sa); i01 = widen(i01, s01, sa); i10 = widen(i10, s10, sb); i11 = widen(i11, s11, sb);
        wa = v128.load(w0, 64); wb = v128.load(w1, 64); xa = v128.load(y0, 64); xb = v128.load(y1, 64);
        s00 = dot(xa, wa); s01 = dot(xb, wa); s10 = dot(xa, wb); s11 = dot(xb, wb);
      } else {
        wa = v128.load(w0, 64); wb = v128.load(w1, 64); xa = v128.load(y0, 64); xb = v128.load(y1, 64);
        s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      }
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 80); wb = v128.load(w1, 80); xa = v128.load(y0, 80); xb = v128.load(y1, 80);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      wa = v128.load(w0, 96); wb = v128.load(w1, 96); xa = v128.load(y0, 96); xb = v128.load(y1, 96);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 112); wb = v128.load(w1, 112); xa = v128.load(y0, 112); xb = v128.load(y1, 112);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      const sa = v128.load(c0), sb = v128.load(c1);
      i00 = widen(i00, s00, sa); i01 = widen(i01, s01, sa); i10 = widen(i10, s10, sb); i11 = widen(i11, s11, sb);
      w0 += 128; w1 += 128; y0 += 128; y1 += 128; c0 += 16; c1 += 16;
    }
    // the mins times the tokens' sums of 32 values; the float step, one (group, token) at a time
    const m00 = pairs4(e0 + 160, x0 + SB32), m01 = pairs4(e0 + 160, x1 + SB32);
    const m10 = pairs4(e1 + 160, x0 + SB32), m11 = pairs4(e1 + 160, x1 + SB32);
    const d0 = v128.load(e0), n0 = v128.load(e0, 16), d1 = v128.load(e1), n1 = v128.load(e1, 16);
    v128.store(k, f32x4.add(v128.load(k, 64), floatQ45(i00, m00, d0, n0, v128.load(x0, SD))), 64);
    v128.store(k, f32x4.add(v128.load(k, 80), floatQ45(i01, m01, d0, n0, v128.load(x1, SD))), 80);
    v128.store(k, f32x4.add(v128.load(k, 96), floatQ45(i10, m10, d1, n1, v128.load(x0, SD))), 96);
    v128.store(k, f32x4.add(v128.load(k, 112), floatQ45(i11, m11, d1, n1, v128.load(x1, SD))), 112);
    e0 += 1248; e1 += 1248; x0 += <usize>SPLIT_K; x1 += <usize>SPLIT_K;
  }
  v128.store(o00, v128.load(k, 64));
  v128.store(o01, v128.load(k, 80));
  v128.store(o10, v128.load(k, 96));
  v128.store(o11, v128.load(k, 112));
}

/** superK's float step: da * (d * sumi - dmin * summ), the same operations in the same order. */
@inline function floatQ45(sumi: v128, summ: v128, d: v128, dmin: v128, da: v128): v128 {
  return f32x4.mul(da, f32x4.sub(f32x4.mul(d, f32x4.convert_i32x4_s(sumi)), f32x4.mul(dmin, f32x4.convert_i32x4_s(summ))));
}

/**
 * pairQ45 for Q6_K: per 16 values (one scale) one int16 sum, started at the
 * token's C (the -32 of the four dots' values) and widened by the scale once;
 * per super-block superQ6_K's float step sumi * (d * da).
 */
@inline function pairQ6(u0: usize, u1: usize, x0: usize, x1: usize, nsb: i32,
  o00: usize, o01: usize, o10: usize, o11: usize, first: bool): void {
  const k = scratch;
  const z = i32x4.splat(0);
  startSums(k, o00, o01, o10, o11, first);
  let e0 = u0, e1 = u1;
  for (let s = 0; s < nsb; s++) {
    let i00 = z, i01 = z, i10 = z, i11 = z;
    let w0 = e0 + W6, w1 = e1 + W6, y0 = x0, y1 = x1, c0 = e0 + 16, c1 = e1 + 16, g0 = x0 + SC6, g1 = x1 + SC6;
    for (let j = 0; j < 8; j++) {
      // values 32j..32j+31: scales 2j (words 8j..8j+3) and 2j+1 (8j+4..8j+7)
      let wa = v128.load(w0), wb = v128.load(w1), xa = v128.load(y0), xb = v128.load(y1);
      let ca = v128.load(g0), cb = v128.load(g1);
      let s00 = dotAdd(ca, xa, wa), s01 = dotAdd(cb, xb, wa), s10 = dotAdd(ca, xa, wb), s11 = dotAdd(cb, xb, wb);
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 16); wb = v128.load(w1, 16); xa = v128.load(y0, 16); xb = v128.load(y1, 16);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 32); wb = v128.load(w1, 32); xa = v128.load(y0, 32); xb = v128.load(y1, 32);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 48); wb = v128.load(w1, 48); xa = v128.load(y0, 48); xb = v128.load(y1, 48);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      let sa = v128.load(c0), sb = v128.load(c1);
      i00 = widen(i00, s00, sa); i01 = widen(i01, s01, sa); i10 = widen(i10, s10, sb); i11 = widen(i11, s11, sb);
      wa = v128.load(w0, 64); wb = v128.load(w1, 64); xa = v128.load(y0, 64); xb = v128.load(y1, 64);
      ca = v128.load(g0, 16); cb = v128.load(g1, 16);
      s00 = dotAdd(ca, xa, wa); s01 = dotAdd(cb, xb, wa); s10 = dotAdd(ca, xa, wb); s11 = dotAdd(cb, xb, wb);
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 80); wb = v128.load(w1, 80); xa = v128.load(y0, 80); xb = v128.load(y1, 80);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 96); wb = v128.load(w1, 96); xa = v128.load(y0, 96); xb = v128.load(y1, 96);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      pinK(k, s00, s01, s10, s11);
      wa = v128.load(w0, 112); wb = v128.load(w1, 112); xa = v128.load(y0, 112); xb = v128.load(y1, 112);
      s00 = dotAdd(s00, xa, wa); s01 = dotAdd(s01, xb, wa); s10 = dotAdd(s10, xa, wb); s11 = dotAdd(s11, xb, wb);
      sa = v128.load(c0, 16); sb = v128.load(c1, 16);
      i00 = widen(i00, s00, sa); i01 = widen(i01, s01, sa); i10 = widen(i10, s10, sb); i11 = widen(i11, s11, sb);
      w0 += 128; w1 += 128; y0 += 128; y1 += 128; c0 += 32; c1 += 32; g0 += 32; g1 += 32;
    }
    // the float step, one (group, token) at a time
    const d0 = v128.load(e0), d1 = v128.load(e1);
    v128.store(k, f32x4.add(v128.load(k, 64), f32x4.mul(f32x4.convert_i32x4_s(i00), f32x4.mul(d0, v128.load(x0, SD)))), 64);
    v128.store(k, f32x4.add(v128.load(k, 80), f32x4.mul(f32x4.convert_i32x4_s(i01), f32x4.mul(d0, v128.load(x1, SD)))), 80);
    v128.store(k, f32x4.add(v128.load(k, 96), f32x4.mul(f32x4.convert_i32x4_s(i10), f32x4.mul(d1, v128.load(x0, SD)))), 96);
    v128.store(k, f32x4.add(v128.load(k, 112), f32x4.mul(f32x4.convert_i32x4_s(i11), f32x4.mul(d1, v128.load(x1, SD)))), 112);
    e0 += 1296; e1 += 1296; x0 += <usize>SPLIT_K; x1 += <usize>SPLIT_K;
  }
  v128.store(o00, v128.load(k, 64));
  v128.store(o01, v128.load(k, 80));
  v128.store(o10, v128.load(k, 96));
  v128.store(o11, v128.load(k, 112));
}

/** The pair kernel of each type, not inlined: one compiled function each. */
function splitPairQ4_K(u0: usize, u1: usize, x0: usize, x1: usize, nsb: i32, o00: usize, o01: usize, o10: usize, o11: usize,
  first: bool): void {
  pairQ45(false, u0, u1, x0, x1, nsb, o00, o01, o10, o11, first);
}
function splitPairQ5_K(u0: usize, u1: usize, x0: usize, x1: usize, nsb: i32, o00: usize, o01: usize, o10: usize, o11: usize,
  first: bool): void {
  pairQ45(true, u0, u1, x0, x1, nsb, o00, o01, o10, o11, first);
}
function splitPairQ6_K(u0: usize, u1: usize, x0: usize, x1: usize, nsb: i32, o00: usize, o01: usize, o10: usize, o11: usize,
  first: bool): void {
  pairQ6(u0, u1, x0, x1, nsb, o00, o01, o10, o11, first);
}

/**
 * Expanded groups u0, u1 (rows r0.., r1..; nsb super-blocks) times the n
 * split tokens at split, two at a time (a lone last one twice); first: the
 * column tile that starts the sums.
 */
function splitTokensK(type: i32, u0: usize, u1: usize, r0: i32, r1: i32, split: usize, nsb: i32, n: i32,
  out: usize, outStride: i32, first: bool): void {
  const tb = <usize>nsb * <usize>SPLIT_K;
  for (let t = 0; t < n; t += 2) {
    const t1 = min(t + 1, n - 1);
    const oa = out + (<usize>t * <usize>outStride << 2), ob = out + (<usize>t1 * <usize>outStride << 2);
    const x0 = split + <usize>t * tb, x1 = split + <usize>t1 * tb;
    const o00 = oa + (<usize>r0 << 2), o01 = ob + (<usize>r0 << 2), o10 = oa + (<usize>r1 << 2), o11 = ob + (<usize>r1 << 2);
    if (type == Q6_K) splitPairQ6_K(u0, u1, x0, x1, nsb, o00, o01, o10, o11, first);
    else if (type == Q5_K) splitPairQ5_K(u0, u1, x0, x1, nsb, o00, o01, o10, o11, first);
    else splitPairQ4_K(u0, u1, x0, x1, nsb, o00, o01, o10, o11, first);
  }
}

/**
 * Fewest tokens for which batchK expands groups (fewer: groupK2, two tokens
 * per pass over the packed group, packed-k.ts). Expanding a group costs about
 * 1.5 groupK passes; bench/matmul-n.js, CPU time, Q4_K 5632x2048 / 640x2048,
 * Q5_K 2048x2048, Q6_K 2048x5632: expanding from n = 2 against groupK per
 * token x0.89-1.22 at n = 2 and 3 (the lone third token costs a full pair
 * pass), so those go to groupK2 (x0.71-0.89 against groupK); expanding from
 * n = 8 instead of 4 (groupK2 for n = 4..7) x0.98-1.11 at n = 4, x1.12-1.30
 * at n = 6.
 */
export const EXPAND_K_TOKENS = 4;
/** Fewest tokens per tile of split activations (fewer: the tile's groups are expanded again too often). */
const SPLIT_TOKENS_K = 8;

/** Fewest super-blocks per column tile (fewer: token tiles instead, see batchK). */
const TILE_SB_K = 4;

/**
 * Packed K groups [r, full) (rows of rowBytes bytes at w, cols values) times
 * n > 1 AK activations (act, stride actStride; outputs at out + 4*(t*outStride
 * + row)). When S = 4 expanded groups and all n tokens' split activations fit
 * the scratch for at least TILE_SB_K super-blocks (or the whole row), the
 * columns go in tiles of as many super-blocks as fit (balanced), the float
 * sums kept in the outputs between tiles: each group is expanded once.
 * Otherwise the tokens go in tiles of as many as fit beside S = 4 (else 2)
 * whole expanded groups, the groups expanded again per tile. Per tile the
 * groups are expanded S at a time, a S-th of the range apart (S streams
 * through memory), and dotted in pairs with the tile's tokens in pairs.
 * Returns the first row not done (r itself in the baseline build, or when a
 * tile of SPLIT_TOKENS_K tokens (or n) does not fit).
 */
export function batchK(type: i32, w: usize, rowBytes: i32, cols: i32, r: i32, full: i32, act: usize, actStride: i32,
  n: i32, out: usize, outStride: i32, kMask: i32, kRebias: f32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD || n < EXPAND_K_TOKENS || full - r < 4) return r;
  const nsb = cols >> 8, eb = expandedSuper(type);
  const room = scratchBytes - <i32>SINK;
  let C = room / (4 * eb + n * SPLIT_K); // super-blocks per column tile with all n tokens
  if (C >= min(nsb, TILE_SB_K)) {
    const tiles = (nsb + C - 1) / C;
    C = (nsb + tiles - 1) / tiles;
    const split = scratch + SINK + <usize>(4 * C * eb);
    const pb = sbBytes(type) << 2;
    let end = r;
    for (let c0 = 0; c0 < nsb; c0 += C) {
      const m = min(C, nsb - c0);
      splitRangeK(act, <usize>actStride, n, cols, c0, m, split, type == Q6_K);
      end = splitGroupsK(type, w + <usize>c0 * pb, rowBytes, m, r, full, split, n, out, outStride, kMask, kRebias, 4, c0 == 0);
    }
    return end;
  }
  const gs = nsb * eb, tb = nsb * SPLIT_K;
  let S = 4, T = ((room - 4 * gs) / tb) & ~1;
  if (T < min(n, SPLIT_TOKENS_K)) {
    S = 2;
    T = ((room - 2 * gs) / tb) & ~1;
  }
  if (T < min(n, SPLIT_TOKENS_K)) return r;
  T = min(T, n);
  const split = scratch + SINK + <usize>(S * gs);
  let end = r;
  for (let t = 0; t < n; t += T) {
    const nt = min(T, n - t);
    splitRangeK(act + <usize>t * <usize>actStride, <usize>actStride, nt, cols, 0, nsb, split, type == Q6_K);
    end = splitGroupsK(type, w, rowBytes, nsb, r, full, split, nt, out + (<usize>t * <usize>outStride << 2), outStride, kMask, kRebias, S, true);
  }
  return end;
}

/**
 * Bytes of the activations of n tokens split once per job for a `type` K
 * matrix of cols values (splitActsK of all cols, for batchSplitK), 0 when
 * matmul would not expand its groups (baseline build, n < EXPAND_K_TOKENS,
 * or 4 expanded groups do not fit the scratch).
 */
export function splitNeedK(type: i32, cols: i32, n: i32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD || n < EXPAND_K_TOKENS) return 0;
  const nsb = cols >> 8;
  if (4 * nsb * expandedSuper(type) > scratchBytes - <i32>SINK) return 0;
  return n * nsb * SPLIT_K;
}

/**
 * batchK for activations split once per job (split: splitActsK of all n
 * tokens and cols, splitNeedK bytes; every chunk of rows reads it): groups
 * [r, full) expanded 4 at a time, dotted with all n tokens. Returns the first
 * row not done.
 */
export function batchSplitK(type: i32, w: usize, rowBytes: i32, cols: i32, r: i32, full: i32, split: usize, n: i32,
  out: usize, outStride: i32, kMask: i32, kRebias: f32): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD || full - r < 4) return r; // (splitNeedK is 0 in the baseline build)
  return splitGroupsK(type, w, rowBytes, cols >> 8, r, full, split, n, out, outStride, kMask, kRebias, 4, true);
}

/**
 * batchK for one tile of n split tokens at split (nsb super-blocks each, the
 * groups' first at w + row * rowBytes): groups [r, full) expanded S at a
 * time, a S-th of the range apart, then dotted in pairs with the tokens
 * (splitTokensK); the rest S' < S at a time. Returns the first row not done.
 * Also the entry for activations split once per job (splitActsK of all cols
 * into a buffer of n * cols/256 * SPLIT_K bytes, read by every chunk of rows):
 * nsb = cols/256, S = 4 (4 expanded groups fit the scratch for rows up to
 * ~50k values), first = true; batchK's one-tile case is exactly that call.
 */
export function splitGroupsK(type: i32, w: usize, rowBytes: i32, nsb: i32, r: i32, full: i32, split: usize, n: i32,
  out: usize, outStride: i32, kMask: i32, kRebias: f32, S: i32, first: bool): i32 {
  const gs = <usize>(nsb * expandedSuper(type)), rb = <usize>rowBytes;
  const u = scratch + SINK;
  const q = ((full - r) >> 2) / S; // groups per stream
  const d = <usize>(q << 2) * rb;
  for (let i = 0; i < q; i++, r += 4) {
    expandK(type, w + <usize>r * rb, d, S, nsb, u, kMask, kRebias);
    for (let s = 0; s < S; s += 2) {
      splitTokensK(type, u + <usize>s * gs, u + <usize>(s + 1) * gs, r + s * 4 * q, r + (s + 1) * 4 * q, split, nsb, n, out, outStride, first);
    }
  }
  r += (S - 1) * 4 * q; // the other streams' groups are done too
  const rest = (full - r) >> 2;
  expandK(type, w + <usize>r * rb, rb << 2, rest, nsb, u, kMask, kRebias);
  for (let s = 0; s < rest; s += 2) {
    const s1 = min(s + 1, rest - 1); // a lone last group is passed twice
    splitTokensK(type, u + <usize>s * gs, u + <usize>s1 * gs, r + 4 * s, r + 4 * s1, split, nsb, n, out, outStride, first);
  }
  return r + 4 * rest;
}
