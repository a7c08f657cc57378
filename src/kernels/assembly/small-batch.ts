import { DOT_ADD_BUILD, dot8, dot8Add, q8nOffset, widen8 } from "./common";
import { blockBytes, int8Act, nibMask, outScale, scaleBits, floatStep, actFactor, actScale, q8Dot, wordQ8, q8Correction } from "./packed";
import { scratch, scratchBytes, splitActs, splitBlock } from "./prompt";

// Small batches (n = 2 .. a few tokens: several sequences decoding together,
// short prompts) straight from the packed layout, with no expansion. In the
// dot-add build Q8_0 takes this path for whole prompt chunks too (tokensQ8:
// its int8 form beats the expanded int16 path at every n measured, 2-64).
//
// The batch path (prompt.ts) expands each packed group into the scratch once
// and dots the copy with every token. For a few tokens the copy costs about
// as much as the dots it serves (a 4-row SmolLM2 step: expand 60% of the
// split dots' time), and at n = 2 batching gained nothing over decoding the
// rows one by one. Here each block's weight vectors are unpacked once into
// registers (int8 path: a nibble word masked, and shifted and masked; int16
// path: widened by its load, load8x8_s, or a nibble of the int16 lanes) and
// dotted with every token's activation words, which are the split
// activations of the batch path (splitActs: each word splatted once per
// product), so every activation operand is a plain load that V8 folds into
// the dot. The weight vectors are exactly the expanded W_i of prompt.ts and
// the activation words the same bytes, so the integer sums are the same
// (exact in any order: int8 path |sum| <= 8 x 2 x 127 x 15 < 32767 in
// int16, int16 path in int32), and each block's float step is floatStep,
// the decode kernels' operations in their order, summed over the blocks in
// block order: every output is bit-identical to decoding its row alone.
//
// Several groups far apart are done per pass (the decode kernels' streams,
// see streams.ts): at n = 2 the product is still close to memory bound. The
// per-(group, token) float sums live in the scratch (one load, add and store
// per block), which leaves the registers to the unpacked weights.

/**
 * Bytes of scratch smallGroups<Q> needs beside the split activations for S
 * groups and n tokens: the float sums of every (group, token), and the int16
 * path's per-token integer sums of a block's first half (the int8 path's
 * scale bits), and two SIMD constants.
 */
export function smallScratch(S: i32, n: i32): i32 {
  return (S * n + max(n, 2) + 2) << 4;
}

/**
 * The S packed Q groups at g, g + d, ... (nb blocks each) times the n split
 * activations at x (smallSplit<Q>: token t's block b at x + t*xs + b *
 * smallSplitBlock<Q>()): the four rows' outputs of group s and token t stored at
 * out + s*od + t*os. `acc` is smallScratch(S, n) bytes of scratch.
 */
export function smallGroups<Q>(g: usize, d: usize, S: i32, x: usize, xs: usize, n: i32, nb: i32, acc: usize,
  out: usize, od: usize, os: usize, k15: i32, kMask: i32, kRebias: f32): void {
  const bb = blockBytes<Q>(), sbk = <usize>smallSplitBlock<Q>();
  const cells = <usize>(S * n) << 4, tmp = acc + cells, k = tmp + (<usize>max(n, 2) << 4);
  for (let c: usize = 0; c < cells; c += 16) v128.store(acc + c, f32x4.splat(0));
  // the SIMD constants wait in the scratch: V8 rebuilds a splat in the loop on every use, a load is one instruction
  v128.store(k, q8Dot<Q>() ? i8x16.splat(<i8>((k15 + 1) << 3)) : nibMask(k15)); // tokensQ8: 0x80 in every byte
  v128.store(k, i32x4.splat(kMask), 16);
  const gEnd = g + <usize>nb * bb, xn = <usize>n * xs;
  for (let gb = g, xb = x; gb < gEnd; gb += bb, xb += sbk) {
    let a = acc, p = gb;
    for (let s = 0; s < S; s++, p += d) {
      if (int8Act<Q>()) a = tokens8<Q>(p, xb, xb + xn, xs, a, tmp, k);
      else if (q8Dot<Q>()) a = tokensQ8(p, xb, xb + xn, xs, a, k);
      else a = tokens16<Q>(p, xb, xb + xn, xs, a, tmp, k);
    }
  }
  let a = acc;
  for (let s = 0; s < S; s++) {
    for (let t = 0; t < n; t++, a += 16) v128.store(out + <usize>s * od + <usize>t * os, outScale<Q>(v128.load(a), kRebias));
  }
}

/**
 * int8 path (relaxed build, Q4_1 / Q4_0): packed block p against the block
 * of every token (xb, xb + xs, ... < xe), two tokens per iteration; each
 * token's float contribution is added to its sum at a, a + 16, ... The
 * rows' scale bits wait in sc (32 bytes of scratch) rather than in two of
 * the registers the eight weight vectors and two tokens' sums need. Returns
 * the address after the last sum.
 */
@inline function tokens8<Q>(p: usize, xb: usize, xe: usize, xs: usize, a: usize, sc: usize, k: usize): usize {
  const m8 = v128.load(k), mask = v128.load(k, 16);
  // nibble word k: W_k (low nibbles) and W_4+k (high nibbles) of prompt.ts's expanded block
  const q = p + (isSigned<Q>() ? 8 : 16);
  let v = v128.load(q);
  const l0 = v128.and(v, m8), h0 = v128.and(i16x8.shr_u(v, 4), m8);
  v = v128.load(q, 16);
  const l1 = v128.and(v, m8), h1 = v128.and(i16x8.shr_u(v, 4), m8);
  v = v128.load(q, 32);
  const l2 = v128.and(v, m8), h2 = v128.and(i16x8.shr_u(v, 4), m8);
  v = v128.load(q, 48);
  const l3 = v128.and(v, m8), h3 = v128.and(i16x8.shr_u(v, 4), m8);
  v = v128.load(p);
  v128.store(sc, scaleBits(i32x4.extend_low_i16x8_s(v), mask));
  if (!isSigned<Q>()) v128.store(sc, scaleBits(i32x4.extend_high_i16x8_s(v), mask), 16);
  let xt = xb;
  for (; xt + xs < xe; xt += 2 * xs, a += 32) {
    // the first token's store comes before the second token's loads: TurboFan would otherwise issue all 16 loads first and spill
    addStep<Q>(a, dots8<Q>(xt, m8, l0, l1, l2, l3, h0, h1, h2, h3), sc, xt);
    addStep<Q>(a + 16, dots8<Q>(xt + xs, m8, l0, l1, l2, l3, h0, h1, h2, h3), sc, xt + xs);
  }
  if (xt < xe) {
    addStep<Q>(a, dots8<Q>(xt, m8, l0, l1, l2, l3, h0, h1, h2, h3), sc, xt);
    a += 16;
  }
  return a;
}

/** Adds a token's float contribution of a block (int8 path: int16 sums s, int32 in the dot-add build; split block at x; scale bits at sc) to its sum at a. */
@inline function addStep<Q>(a: usize, s: v128, sc: usize, x: usize): void {
  const f = floatStep<Q>(widen8(s), v128.load(sc), v128.load(sc, 16), v128.load(x, 128), v128.load(x, 144));
  v128.store(a, f32x4.add(v128.load(a), f));
}

/**
 * int16 path (Q8_0; Q4_0 / Q4_1 in the baseline build): tokens8<Q> with the
 * 16 int16 weight vectors W_i of the block, in two halves of eight (the
 * registers hold one half): the first half's integer sums wait in tmp (a
 * token's at tmp + 16t), the second adds to them and takes the float step.
 */
@inline function tokens16<Q>(p: usize, xb: usize, xe: usize, xs: usize, a: usize, tmp: usize, k: usize): usize {
  const m = v128.load(k), mask = v128.load(k, 16);
  let w0 = w16<Q>(p, 0, m), w1 = w16<Q>(p, 1, m), w2 = w16<Q>(p, 2, m), w3 = w16<Q>(p, 3, m);
  let w4 = w16<Q>(p, 4, m), w5 = w16<Q>(p, 5, m), w6 = w16<Q>(p, 6, m), w7 = w16<Q>(p, 7, m);
  for (let xt = xb, u = tmp; xt < xe; xt += xs, u += 16) {
    v128.store(u, dots8<Q>(xt, i32x4.splat(0), w0, w1, w2, w3, w4, w5, w6, w7));
  }
  w0 = w16<Q>(p, 8, m); w1 = w16<Q>(p, 9, m); w2 = w16<Q>(p, 10, m); w3 = w16<Q>(p, 11, m);
  w4 = w16<Q>(p, 12, m); w5 = w16<Q>(p, 13, m); w6 = w16<Q>(p, 14, m); w7 = w16<Q>(p, 15, m);
  const dd = scaleBits(i32x4.extend_low_i16x8_s(v128.load64_zero(p)), mask);
  const mn = sizeof<Q>() == 1 && !isSigned<Q>() ? scaleBits(i32x4.extend_high_i16x8_s(v128.load(p)), mask) : dd;
  for (let xt = xb, u = tmp; xt < xe; xt += xs, u += 16, a += 16) {
    const s = dots8<Q>(xt + 128, v128.load(u), w0, w1, w2, w3, w4, w5, w6, w7);
    const f = floatStep<Q>(s, dd, mn, v128.load(xt, 256), v128.load(xt, 272));
    v128.store(a, f32x4.add(v128.load(a), f));
  }
  return a;
}

/**
 * Q8_0 in the dot-add build: tokens16<u16> with int8 dots, four products per
 * int32 lane instead of two. The dot-add multiplies signed bytes (the
 * token's activation words) by unsigned ones, so each weight enters as w +
 * 128 (its sign bit flipped): the dot-adds give sum(q*w) + 128*sum(q), and
 * the token's split block carries 128*sum(q) to take off (smallSplitQ8).
 * The result is the same integer as the int16 path's, and the float step
 * the same, so the outputs are the same bits. The eight weight vectors are
 * the block's value pairs regrouped so that i32 lane r holds values 4i..4i+3
 * of row r (wordQ8); `k` holds the 0x80 bytes and the scale mask.
 */
@inline function tokensQ8(p: usize, xb: usize, xe: usize, xs: usize, a: usize, k: usize): usize {
  const flip = v128.load(k), mask = v128.load(k, 16);
  const w0 = wordQ8(p, 0, flip), w1 = wordQ8(p, 1, flip), w2 = wordQ8(p, 2, flip), w3 = wordQ8(p, 3, flip);
  const w4 = wordQ8(p, 4, flip), w5 = wordQ8(p, 5, flip), w6 = wordQ8(p, 6, flip), w7 = wordQ8(p, 7, flip);
  const dd = scaleBits(i32x4.extend_low_i16x8_s(v128.load64_zero(p)), mask);
  for (let xt = xb; xt < xe; xt += xs, a += 16) {
    const s = i32x4.sub(chains8(xt, w0, w1, w2, w3, w4, w5, w6, w7), v128.load(xt, 144));
    v128.store(a, f32x4.add(v128.load(a), floatStep<u16>(s, dd, dd, v128.load(xt, 128), dd)));
  }
  return a;
}

/** Bytes of one token's block in the small-batch kernel's split activations: splitBlock<Q>, but 160 for q8Dot (smallSplitQ8). */
@inline export function smallSplitBlock<Q>(): i32 {
  return q8Dot<Q>() ? 160 : splitBlock<Q>();
}

/** The n activations at act (A16, stride as) split for smallGroups<Q>: splitActs<Q>, or smallSplitQ8 for q8Dot. */
export function smallSplit<Q>(act: usize, as: usize, n: i32, nb: i32, cols: i32, dst: usize, kRebias: f32): void {
  if (q8Dot<Q>()) smallSplitQ8(act, as, n, nb, cols, dst, kRebias);
  else splitActs<Q>(act, as, n, nb, cols, dst, kRebias);
}

/**
 * tokensQ8's split activations: token k's block b at dst + (k * nb + b) *
 * 160 holds the block's eight int8 words (natural order, the A16's q8n
 * copy) each splatted, its scale times actFactor (as splitActs<u16> forms
 * it: the same bits), and 128 times the sum of its 32 values, splatted.
 */
function smallSplitQ8(act: usize, as: usize, n: i32, nb: i32, cols: i32, dst: usize, kRebias: f32): void {
  const af = actFactor<u16>(kRebias);
  let d = dst;
  for (let k = 0; k < n; k++) {
    const a = act + <usize>k * as;
    let x = a + q8nOffset(cols);
    for (let b: usize = 0; b < <usize>nb; b++) {
      for (let i: usize = 0; i < 8; i++) v128.store(d + (i << 4), v128.load32_splat(x + (i << 2)));
      v128.store(d, actScale(a + (b << 2), af), 128);
      v128.store(d, q8Correction(v128.load(x), v128.load(x, 16)), 144);
      x += 32;
      d += 160;
    }
  }
}

/**
 * The dots of one token's eight activation words (at x, x + 16, ...) with
 * the weight vectors w0..w7, summed: int8 path (int16 sums) the dots alone,
 * int16 path (int32 sums) added to s.
 */
@inline function dots8<Q>(x: usize, s: v128, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128): v128 {
  if (int8Act<Q>() && DOT_ADD_BUILD) return chains8(x, w0, w1, w2, w3, w4, w5, w6, w7);
  s = int8Act<Q>() ? i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(x), w0) : dotAdd<Q>(s, v128.load(x), w0);
  s = dotAdd<Q>(s, v128.load(x, 16), w1);
  s = dotAdd<Q>(s, v128.load(x, 32), w2);
  s = dotAdd<Q>(s, v128.load(x, 48), w3);
  s = dotAdd<Q>(s, v128.load(x, 64), w4);
  s = dotAdd<Q>(s, v128.load(x, 80), w5);
  s = dotAdd<Q>(s, v128.load(x, 96), w6);
  return dotAdd<Q>(s, v128.load(x, 112), w7);
}

/** Dot-add build: the eight activation words at x, x + 16, ... dotted with w0..w7 as int32 sums, in two chains of four (a chain's dot-adds wait on each other). */
@inline function chains8(x: usize, w0: v128, w1: v128, w2: v128, w3: v128, w4: v128, w5: v128, w6: v128, w7: v128): v128 {
  let a = dot8(v128.load(x), w0);
  let b = dot8(v128.load(x, 64), w4);
  a = dot8Add(a, v128.load(x, 16), w1);
  b = dot8Add(b, v128.load(x, 80), w5);
  a = dot8Add(a, v128.load(x, 32), w2);
  b = dot8Add(b, v128.load(x, 96), w6);
  a = dot8Add(a, v128.load(x, 48), w3);
  b = dot8Add(b, v128.load(x, 112), w7);
  return i32x4.add(a, b);
}

/** s plus the dot of activation word x and weight vector w: int8 path relaxed (int16 lanes), int16 path int32 lanes. */
@inline function dotAdd<Q>(s: v128, x: v128, w: v128): v128 {
  return int8Act<Q>() ? i16x8.add(s, i16x8.relaxed_dot_i8x16_i7x16_s(x, w)) : i32x4.add(s, i32x4.dot_i16x8_s(x, w));
}

/**
 * int16 path: W_i (i constant) of packed block p, as prompt.ts expands it:
 * Q8_0 pair i of the four rows widened; Q4 nibble i >> 2 of each int16 lane
 * of nibble word i & 3 (m = 15 per int16).
 */
@inline function w16<Q>(p: usize, i: i32, m: v128): v128 {
  if (sizeof<Q>() == 2) return v128.load8x8_s(p + 8 + (<usize>i << 3));
  const v = v128.load(p + (isSigned<Q>() ? 8 : 16) + (<usize>(i & 3) << 4));
  const j = i >> 2;
  if (j == 0) return v128.and(v, m);
  if (j == 1) return v128.and(i16x8.shr_u(v, 4), m);
  if (j == 2) return v128.and(i16x8.shr_u(v, 8), m);
  return i16x8.shr_u(v, 12);
}

/** Groups far apart per pass of the small-batch kernel (memory streams, see streams.ts). */
export const SMALL_STREAMS: i32 = 4;

/**
 * Most tokens for which matmul takes the small-batch path rather than
 * expanding (prompt.ts), from bench/matmul-n.ts A/B (results/bench/small-batch-s11.md):
 * the int8 path (relaxed Q4) and Q8_0 gained x0.50-0.90 at n = 2, 3, x0.74-0.99 at 4 and
 * x0.80-1.01 at 8, and were about even at 12-16; the baseline build's int16 Q4 path
 * gained at n = 2, 3 only.
 */
const SMALL_INT8_MAX: i32 = 8;
const SMALL_Q8_MAX: i32 = 8;
/** Q8_0's int8 small-batch path in the dot-add build (tokensQ8) up to a whole prompt chunk (model.ts DEFAULT_BATCH). */
const SMALL_Q8DOT_MAX: i32 = 64;
const SMALL_INT16_Q4_MAX: i32 = 3;

/** True when matmul computes an n-token product of a packed Q matrix with smallBatch<Q>. */
@inline export function smallFor<Q>(n: i32): bool {
  return n >= 2 && n <= (int8Act<Q>() ? SMALL_INT8_MAX : q8Dot<Q>() ? SMALL_Q8DOT_MAX : sizeof<Q>() == 2 ? SMALL_Q8_MAX : SMALL_INT16_Q4_MAX);
}

/**
 * Packed groups [r, full) of a Q matrix times n activations (A16 at act,
 * actStride apart; or already split at `split`, splitJob's output) with
 * smallGroups<Q>, SMALL_STREAMS groups a SMALL_STREAMS-th of the range apart
 * per pass, the rest adjacent in one pass. Returns the first row not done:
 * r itself when the split activations and sums of two tokens do not fit the scratch.
 */
export function smallBatch<Q>(w: usize, rowBytes: i32, nb: i32, cols: i32, r: i32, full: i32, act: usize, actStride: i32,
  n: i32, out: usize, outStride: i32, k15: i32, kMask: i32, kRebias: f32, split: usize): i32 {
  const sb = <usize>(nb * smallSplitBlock<Q>()), need = <usize>smallScratch(SMALL_STREAMS, n);
  let x = split, acc = scratch + <usize>scratchBytes - need; // at the end: away from the split (4K aliasing)
  if (x == 0) {
    if (<usize>n * sb + need > <usize>scratchBytes) return smallTiles<Q>(w, rowBytes, nb, cols, r, full, act, actStride, n, out, outStride, k15, kMask, kRebias);
    smallSplit<Q>(act, <usize>actStride, n, nb, cols, scratch, kRebias);
    x = scratch;
    // acc stays at the end of the scratch
  } else if (need > <usize>scratchBytes) return r;
  const rb = <usize>rowBytes, os = <usize>outStride << 2;
  const q = ((full - r) >> 2) / SMALL_STREAMS; // groups per stream
  const d = <usize>(q << 2) * rb, od = <usize>q << 4;
  for (let i = 0; i < q; i++, r += 4) {
    smallGroups<Q>(w + <usize>r * rb, d, SMALL_STREAMS, x, sb, n, nb, acc, out + (<usize>r << 2), od, os, k15, kMask, kRebias);
  }
  r += (SMALL_STREAMS - 1) * 4 * q; // the other streams' groups are done too
  const rest = (full - r) >> 2;
  if (rest > 0) smallGroups<Q>(w + <usize>r * rb, rb << 2, rest, x, sb, n, nb, acc, out + (<usize>r << 2), 16, os, k15, kMask, kRebias);
  return r + 4 * rest;
}

/**
 * smallBatch<Q> for n tokens whose split activations do not fit the scratch at once: in tiles of as many tokens as
 * fit, each tile reading the matrix again (each token's outputs are computed as alone, so the same bits). Returns r
 * when not even two tokens fit.
 */
function smallTiles<Q>(w: usize, rowBytes: i32, nb: i32, cols: i32, r: i32, full: i32, act: usize, actStride: i32,
  n: i32, out: usize, outStride: i32, k15: i32, kMask: i32, kRebias: f32): i32 {
  const sb = nb * smallSplitBlock<Q>();
  let t = n - 1;
  while (t >= 2 && t * sb + smallScratch(SMALL_STREAMS, t) > scratchBytes) t--;
  if (t < 2) return r;
  let done = r;
  for (let t0 = 0; t0 < n; t0 += t) {
    done = smallBatch<Q>(w, rowBytes, nb, cols, r, full, act + <usize>t0 * <usize>actStride, actStride, min(t, n - t0),
      out + (<usize>t0 * <usize>outStride << 2), outStride, k15, kMask, kRebias, 0);
  }
  return done;
}
