import { dot8, dot8Add, qOffset, q8Offset, widen8 } from "./common";
import { blockBytes, int8Act, actFactor, sumFactor, actScale, outScale, scaleBits, floatStep } from "./packed";

// Batches (prompt chunks, several sequences decoding together): a weight
// group is used by every row of the batch, so for n > 1 it is first expanded
// once into a per-thread scratch (in L1/L2) in a "transposed" order, and each
// row then costs only its multiply-adds and one float step per block.
//
// Transposed order: v128 W_i holds, in i32 lane k, row k's values for the
// activation bytes [4i, 4i+4) (int8 path) or values [2i, 2i+2) as int16
// (int16 path). The activation side of W_i is then one 32-bit splat of the
// row's own A16 copy, one dot per W_i gives row k's partial sum in lane(s)
// k, and the four rows' block sums add up lane-wise: no per-row horizontal
// reduction and no 4x4 transpose per row and block, which were about a third
// of a row's instructions in the one-row kernels (nibSums, q8x32 + sum4).
//
//   int8 path (relaxed build, Q4_1 / Q4_0): W_0..W_7 from the 16 low and 16
//     high nibble bytes of each row (the order of the activations' q8 copy;
//     the packed nibble words already hold row k in lane k, so expanding
//     them is a mask and a shift, see packed.ts);
//     relaxed dots (pairs of products) add in int16: 8 dots x 2 x 127 x 15 =
//     30480 < 32767, then one pairwise widening gives the four rows' sums.
//     The activation words are "split" once per batch (splitActs: each
//     splatted to a v128, with the block's float factors), and splitPair
//     dots two expanded groups with two split tokens per pass: every
//     operand a plain load, four dots per four loads (64 products per 4
//     loads, 4 dots and 4 adds, where the bound, probe.ts peakDot, is 4
//     dots and 4 adds). expandedQuad (four tokens, splat loads from the A16
//     copy) serves rows too wide for a tile of split tokens in the scratch.
//   int16 path (baseline Q4_1 / Q4_0, and Q8_0 in both builds): W_0..W_15
//     from the values widened to int16 (natural order); i32x4.dot_i16x8_s
//     gives lane k = row k directly. Split activations the same way (16
//     words of int16 pairs per block), dotted by splitPair16.
//
// Integer sums are exact in any order, and the float steps per block are the
// decode kernels' (blockQ4_1 / blockQ4_0 / blockQ8_0) on the same operands in
// the same order, so every row gets bit-identical results to decoding it
// alone (batched and token-by-token generation agree exactly).

/** This instance's (thread's) scratch for expanded groups and split activations; see setScratch. */
export let scratch: usize = 0;
export let scratchBytes: i32 = 0;
/** The last 128 bytes of the scratch, for the split kernels' scheduling barriers (see pin4) and splitPair16's sums: not counted in scratchBytes. */
let sink: usize = 0;

/** Give this instance `bytes` of scratch at p (each thread needs its own). */
export function setScratch(p: usize, bytes: i32): void {
  scratch = p;
  scratchBytes = bytes - 128;
  sink = p + <usize>scratchBytes;
}

/**
 * Bytes of one expanded block of a Q group: f32 d[4] | f32 m[4] (the decode
 * kernels' bit patterns, see scaleQ4_1; m unused for Q4_0 / Q8_0) | weights
 * (int8 path 8 x 16 bytes, int16 path 16 x 16 bytes).
 */
@inline export function expandedBlock<Q>(): i32 {
  return int8Act<Q>() ? 160 : 288;
}

/** Expand packed block p of a Q group into u (see expandedBlock). u8: Q4_1, i8: Q4_0, u16: Q8_0. */
@inline function expandBlock<Q>(p: usize, u: usize, mask: v128): void {
  if (sizeof<Q>() == 2) {
    v128.store(u, scaleBits(i32x4.extend_low_i16x8_s(v128.load64_zero(p)), mask));
    // the packed pairs already have row k in i32 lane k (see repack): widening gives W_i directly
    for (let i: usize = 0; i < 8; i++) {
      const v = v128.load(p + 8 + (i << 4));
      v128.store(u + 32 + (i << 5), i16x8.extend_low_i8x16_s(v));
      v128.store(u + 48 + (i << 5), i16x8.extend_high_i8x16_s(v));
    }
    return;
  }
  const q = p + (isSigned<Q>() ? 8 : 16);
  const sc = v128.load(p);
  v128.store(u, scaleBits(i32x4.extend_low_i16x8_s(sc), mask));
  if (!isSigned<Q>()) v128.store(u, scaleBits(i32x4.extend_high_i16x8_s(sc), mask), 16);
  // the packed nibble words already have row k in i32 lane k (see repack): word i gives W_i / W_4+i (int8
  // path: low / high nibbles) or W_i, W_4+i, W_8+i, W_12+i (int16 path: nibble j of each int16 lane)
  for (let i: usize = 0; i < 4; i++) {
    const v = v128.load(q + (i << 4));
    if (int8Act<Q>()) {
      const m8 = i8x16.splat(15);
      v128.store(u + 32 + (i << 4), v128.and(v, m8));
      v128.store(u + 96 + (i << 4), v128.and(i16x8.shr_u(v, 4), m8));
    } else {
      const m = i16x8.splat(15);
      v128.store(u + 32 + (i << 4), v128.and(v, m));
      v128.store(u + 96 + (i << 4), v128.and(i16x8.shr_u(v, 4), m));
      v128.store(u + 160 + (i << 4), v128.and(i16x8.shr_u(v, 8), m));
      v128.store(u + 224 + (i << 4), i16x8.shr_u(v, 12));
    }
  }
}

/**
 * Expand `groups` packed Q groups (g, g + d, g + 2d, ...; nb blocks each)
 * into the scratch, one after another, block by block across the groups:
 * several streams through memory at once (see streams.ts).
 */
export function expand<Q>(g: usize, d: usize, groups: i32, nb: i32, kMask: i32): void {
  const mask = i32x4.splat(kMask);
  const ub = <usize>expandedBlock<Q>(), bb = blockBytes<Q>();
  const gs = <usize>nb * ub;
  for (let b: usize = 0; b < <usize>nb; b++) {
    const p = g + b * bb, u = scratch + b * ub;
    if (groups == 4) {
      expandBlock<Q>(p, u, mask);
      expandBlock<Q>(p + d, u + gs, mask);
      expandBlock<Q>(p + 2 * d, u + 2 * gs, mask);
      expandBlock<Q>(p + 3 * d, u + 3 * gs, mask);
    } else {
      for (let s = 0; s < groups; s++) expandBlock<Q>(p + <usize>s * d, u + <usize>s * gs, mask);
    }
  }
}

/**
 * Rows of the expanded Q group at u (nb blocks) dotted with one A16
 * activation at a; stores the four rows' floats at out. Same float steps as
 * group<Q> (blockOf) block by block.
 */
export function expandedGroup<Q>(u: usize, a: usize, nb: i32, cols: i32, out: usize, kRebias: f32): void {
  const af = actFactor<Q>(kRebias), sf = sumFactor<Q>(kRebias);
  const ub = <usize>expandedBlock<Q>();
  let pa = a;
  let acc = f32x4.splat(0);
  const end = u + <usize>nb * ub;
  // Activation pairs are splatted from one v128 load by shuffles (a shuffle
  // port the dots do not use; V8 recomputes the address of every offset
  // load32_splat). The stores of partial sums to `out` (overwritten at the
  // end) are scheduling barriers, see nibSums: without them TurboFan hoists
  // all of the block's loads to the top and spills.
  if (int8Act<Q>()) {
    let x = a + q8Offset(cols);
    for (let p = u; p < end; p += ub) {
      let s = quarter8(v128.load(x), p + 32, i16x8.splat(0));
      v128.store(out, s);
      s = quarter8(v128.load(x, 16), p + 96, s);
      acc = f32x4.add(acc, scaled<Q>(widen8(s), p, pa, nb, af, sf));
      x += 32;
      pa += 4;
    }
  } else {
    let x = a + qOffset(cols);
    for (let p = u; p < end; p += ub) {
      let s = quarter(v128.load(x), p + 32, i32x4.splat(0));
      v128.store(out, s);
      s = quarter(v128.load(x, 16), p + 96, s);
      v128.store(out, s);
      s = quarter(v128.load(x, 32), p + 160, s);
      v128.store(out, s);
      s = quarter(v128.load(x, 48), p + 224, s);
      acc = f32x4.add(acc, scaled<Q>(s, p, pa, nb, af, sf));
      x += 64;
      pa += 4;
    }
  }
  v128.store(out, outScale<Q>(acc, kRebias));
}

/** Lane k of v in every lane. */
@inline function splat(v: v128, k: u8): v128 {
  return v128.shuffle<i32>(v, v, k, k, k, k);
}

/**
 * int8 path: expandedGroup<Q> for two activations at a and b (outputs at oa,
 * ob) in one pass, each expanded weight vector loaded once for both; each
 * row's operations are exactly expandedGroup's.
 */
export function expandedPair<Q>(u: usize, a: usize, b: usize, nb: i32, cols: i32, oa: usize, ob: usize, kRebias: f32): void {
  const af = actFactor<Q>(kRebias), sf = sumFactor<Q>(kRebias);
  const ub = <usize>expandedBlock<Q>();
  let xa = a + q8Offset(cols), xb = b + q8Offset(cols);
  let pa = a, pb = b;
  let accA = f32x4.splat(0), accB = f32x4.splat(0);
  const end = u + <usize>nb * ub;
  for (let p = u; p < end; p += ub) {
    let sA = i16x8.splat(0), sB = i16x8.splat(0);
    for (let h: usize = 0; h < 32; h += 16) {
      // activations [16h', 16h' + 16) of both rows against W_4h'..W_4h'+3 (h' = h / 16)
      const lo = v128.load(xa + h), hi = v128.load(xb + h);
      let w = v128.load(p + 32 + 4 * h);
      sA = dot8Add(sA, v128.shuffle<i32>(lo, lo, 0, 0, 0, 0), w);
      sB = dot8Add(sB, v128.shuffle<i32>(hi, hi, 0, 0, 0, 0), w);
      w = v128.load(p + 48 + 4 * h);
      sA = dot8Add(sA, v128.shuffle<i32>(lo, lo, 1, 1, 1, 1), w);
      sB = dot8Add(sB, v128.shuffle<i32>(hi, hi, 1, 1, 1, 1), w);
      w = v128.load(p + 64 + 4 * h);
      sA = dot8Add(sA, v128.shuffle<i32>(lo, lo, 2, 2, 2, 2), w);
      sB = dot8Add(sB, v128.shuffle<i32>(hi, hi, 2, 2, 2, 2), w);
      w = v128.load(p + 80 + 4 * h);
      sA = dot8Add(sA, v128.shuffle<i32>(lo, lo, 3, 3, 3, 3), w);
      sB = dot8Add(sB, v128.shuffle<i32>(hi, hi, 3, 3, 3, 3), w);
      v128.store(oa, sA); // scheduling barriers (see expandedGroup)
      v128.store(ob, sB);
    }
    accA = f32x4.add(accA, scaled<Q>(widen8(sA), p, pa, nb, af, sf));
    accB = f32x4.add(accB, scaled<Q>(widen8(sB), p, pb, nb, af, sf));
    xa += 32;
    xb += 32;
    pa += 4;
    pb += 4;
  }
  v128.store(oa, outScale<Q>(accA, kRebias));
  v128.store(ob, outScale<Q>(accB, kRebias));
}

/**
 * int8 path: expandedGroup<Q> for four activations at a, a + as, a + 2as,
 * a + 3as (outputs at o, o + os, ...) in one pass: each expanded weight
 * vector W_i is loaded once and dotted with all four rows' activation words
 * (register blocking over tokens), each word splatted by its load
 * (vbroadcastss, a load-port uop: the shuffles of expandedPair compete with
 * the dots and adds for the vector ports). Each row's operations are exactly
 * expandedGroup's: the same 8 dots summed in int16 (8 x 2 x 127 x 15 < 32767
 * per row, as there) and the same float step per block. The inner loop is
 * left rolled: unrolled, TurboFan issues all 32 splat loads of a block first
 * and spills them.
 */
export function expandedQuad<Q>(u: usize, a: usize, as: usize, nb: i32, cols: i32, o: usize, os: usize, kRebias: f32): void {
  const af = actFactor<Q>(kRebias), sf = sumFactor<Q>(kRebias);
  const ub = <usize>expandedBlock<Q>();
  const q8 = q8Offset(cols);
  let p0 = a, p1 = a + as, p2 = a + 2 * as, p3 = a + 3 * as;
  let x0 = p0 + q8, x1 = p1 + q8, x2 = p2 + q8, x3 = p3 + q8;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  const end = u + <usize>nb * ub;
  for (let p = u; p < end; p += ub) {
    // W_i (at p + 32 + 16i) against activation bytes [4i, 4i + 4) of each row's block (its int8 copy)
    let w = v128.load(p + 32);
    let s0 = dot8(v128.load32_splat(x0), w);
    let s1 = dot8(v128.load32_splat(x1), w);
    let s2 = dot8(v128.load32_splat(x2), w);
    let s3 = dot8(v128.load32_splat(x3), w);
    for (let i: usize = 4; i < 32; i += 4) {
      w = v128.load(p + 32 + (i << 2));
      s0 = dot8Add(s0, v128.load32_splat(x0 + i), w);
      s1 = dot8Add(s1, v128.load32_splat(x1 + i), w);
      s2 = dot8Add(s2, v128.load32_splat(x2 + i), w);
      s3 = dot8Add(s3, v128.load32_splat(x3 + i), w);
    }
    acc0 = f32x4.add(acc0, scaled<Q>(widen8(s0), p, p0, nb, af, sf));
    acc1 = f32x4.add(acc1, scaled<Q>(widen8(s1), p, p1, nb, af, sf));
    acc2 = f32x4.add(acc2, scaled<Q>(widen8(s2), p, p2, nb, af, sf));
    acc3 = f32x4.add(acc3, scaled<Q>(widen8(s3), p, p3, nb, af, sf));
    x0 += 32; x1 += 32; x2 += 32; x3 += 32;
    p0 += 4; p1 += 4; p2 += 4; p3 += 4;
  }
  v128.store(o, outScale<Q>(acc0, kRebias));
  v128.store(o + os, outScale<Q>(acc1, kRebias));
  v128.store(o + 2 * os, outScale<Q>(acc2, kRebias));
  v128.store(o + 3 * os, outScale<Q>(acc3, kRebias));
}

/** Bytes of one token's block in the split activations (see splitActs): int8 path 160, int16 path 288. */
@inline export function splitBlock<Q>(): i32 {
  return int8Act<Q>() ? 160 : 288;
}

/**
 * The n activations at act (A16, stride as) "split" for splitPair<Q>: token
 * k's block b at dst + (k * nb + b) * splitBlock<Q>() holds its activation
 * words each splatted to a v128 (int8 path: 8 words, bytes 4i..4i+3 of the
 * block's int8 copy; int16 path: 16 words, values 2i, 2i+1), then its scale
 * times actFactor and its sum times sumFactor, splatted (as actScale and
 * scaled<Q> form them: the same f32 products, so the same bits). Four times
 * the activation bytes, written once per batch so that every splat the
 * kernel needs is a plain load with its offset in the address (a
 * load32_splat costs a load plus an address add in V8, a shuffle a
 * vector-port uop).
 */
export function splitActs<Q>(act: usize, as: usize, n: i32, nb: i32, cols: i32, dst: usize, kRebias: f32): void {
  const af = actFactor<Q>(kRebias), sf = sumFactor<Q>(kRebias);
  const words: usize = int8Act<Q>() ? 8 : 16;
  const q = int8Act<Q>() ? q8Offset(cols) : qOffset(cols), nb4 = <usize>nb << 2;
  let d = dst;
  for (let k = 0; k < n; k++) {
    const a = act + <usize>k * as;
    let x = a + q;
    for (let b: usize = 0; b < nb4; b += 4) {
      for (let i: usize = 0; i < words; i++) v128.store(d + (i << 4), v128.load32_splat(x + (i << 2)));
      v128.store(d + (words << 4), actScale(a + b, af));
      v128.store(d + (words << 4), f32x4.mul(v128.load32_splat(a + nb4 + b), sf), 16);
      x += words << 2;
      d += <usize>splitBlock<Q>();
    }
  }
}

/**
 * int8 path: two expanded groups (at u0, u1; nb blocks) times two split
 * activations (at x0, x1, see splitActs) in one pass, outputs o_gk for group
 * g and token k: per weight step two W_i and two activation words are
 * loaded and give four dots (register blocking over groups and tokens), and
 * every load is a plain one. Each (group, token) gets expandedGroup's
 * operations: the same 8 dots summed in int16 (8 x 2 x 127 x 15 < 32767) and
 * the same float step per block, so the same bits. A lone group or token is
 * passed twice (u1 = u0, or x1 = x0, with the same outputs). Per 64
 * products: 4 loads, 4 dots, 4 adds and 4 barrier stores (see pin4), where
 * expandedQuad has 5 loads and 4 address adds.
 */
export function splitPair<Q>(u0: usize, u1: usize, x0: usize, x1: usize, nb: i32,
  o00: usize, o01: usize, o10: usize, o11: usize, kRebias: f32): void {
  const k = sink;
  const ub = <usize>expandedBlock<Q>();
  let acc00 = f32x4.splat(0), acc01 = f32x4.splat(0), acc10 = f32x4.splat(0), acc11 = f32x4.splat(0);
  let p1 = u1;
  const end = u0 + <usize>nb * ub;
  for (let p0 = u0; p0 < end; p0 += ub) {
    // W_i (at p + 32 + 16i) against activation word i (at x + 16i) of the block
    let wa = v128.load(p0, 32), wb = v128.load(p1, 32), c0 = v128.load(x0), c1 = v128.load(x1);
    let s00 = dot8(c0, wa), s01 = dot8(c1, wa);
    let s10 = dot8(c0, wb), s11 = dot8(c1, wb);
    pin4(k, s00, s01, s10, s11);
    wa = v128.load(p0, 48); wb = v128.load(p1, 48); c0 = v128.load(x0, 16); c1 = v128.load(x1, 16);
    s00 = dotAdd(s00, c0, wa); s01 = dotAdd(s01, c1, wa); s10 = dotAdd(s10, c0, wb); s11 = dotAdd(s11, c1, wb);
    pin4(k, s00, s01, s10, s11);
    wa = v128.load(p0, 64); wb = v128.load(p1, 64); c0 = v128.load(x0, 32); c1 = v128.load(x1, 32);
    s00 = dotAdd(s00, c0, wa); s01 = dotAdd(s01, c1, wa); s10 = dotAdd(s10, c0, wb); s11 = dotAdd(s11, c1, wb);
    pin4(k, s00, s01, s10, s11);
    wa = v128.load(p0, 80); wb = v128.load(p1, 80); c0 = v128.load(x0, 48); c1 = v128.load(x1, 48);
    s00 = dotAdd(s00, c0, wa); s01 = dotAdd(s01, c1, wa); s10 = dotAdd(s10, c0, wb); s11 = dotAdd(s11, c1, wb);
    pin4(k, s00, s01, s10, s11);
    wa = v128.load(p0, 96); wb = v128.load(p1, 96); c0 = v128.load(x0, 64); c1 = v128.load(x1, 64);
    s00 = dotAdd(s00, c0, wa); s01 = dotAdd(s01, c1, wa); s10 = dotAdd(s10, c0, wb); s11 = dotAdd(s11, c1, wb);
    pin4(k, s00, s01, s10, s11);
    wa = v128.load(p0, 112); wb = v128.load(p1, 112); c0 = v128.load(x0, 80); c1 = v128.load(x1, 80);
    s00 = dotAdd(s00, c0, wa); s01 = dotAdd(s01, c1, wa); s10 = dotAdd(s10, c0, wb); s11 = dotAdd(s11, c1, wb);
    pin4(k, s00, s01, s10, s11);
    wa = v128.load(p0, 128); wb = v128.load(p1, 128); c0 = v128.load(x0, 96); c1 = v128.load(x1, 96);
    s00 = dotAdd(s00, c0, wa); s01 = dotAdd(s01, c1, wa); s10 = dotAdd(s10, c0, wb); s11 = dotAdd(s11, c1, wb);
    pin4(k, s00, s01, s10, s11);
    wa = v128.load(p0, 144); wb = v128.load(p1, 144); c0 = v128.load(x0, 112); c1 = v128.load(x1, 112);
    s00 = dotAdd(s00, c0, wa); s01 = dotAdd(s01, c1, wa); s10 = dotAdd(s10, c0, wb); s11 = dotAdd(s11, c1, wb);
    pin4(k, s00, s01, s10, s11);
    acc00 = f32x4.add(acc00, blockFloat<Q>(widen8(s00), p0, v128.load(x0, 128), v128.load(x0, 144)));
    v128.store(k, acc00); // scheduling barriers (see pin4): one float step at a time
    acc01 = f32x4.add(acc01, blockFloat<Q>(widen8(s01), p0, v128.load(x1, 128), v128.load(x1, 144)));
    v128.store(k, acc01, 16);
    acc10 = f32x4.add(acc10, blockFloat<Q>(widen8(s10), p1, v128.load(x0, 128), v128.load(x0, 144)));
    v128.store(k, acc10, 32);
    acc11 = f32x4.add(acc11, blockFloat<Q>(widen8(s11), p1, v128.load(x1, 128), v128.load(x1, 144)));
    p1 += ub;
    x0 += <usize>splitBlock<Q>();
    x1 += <usize>splitBlock<Q>();
  }
  v128.store(o00, outScale<Q>(acc00, kRebias));
  v128.store(o01, outScale<Q>(acc01, kRebias));
  v128.store(o10, outScale<Q>(acc10, kRebias));
  v128.store(o11, outScale<Q>(acc11, kRebias));
}

/**
 * int16 path (Q8_0; Q4_0 / Q4_1 in the baseline build): splitPair<Q> with
 * the 16 int16 weight vectors W_i of an expanded block and i32x4.dot_i16x8_s
 * (8 products per dot, summed in int32). Four steps per inner iteration,
 * their loads at fixed offsets from pointers bumped once per iteration. The
 * float sums live in the sink (k + 64..127), freeing four registers so that
 * a barrier every second step suffices (x0.89-0.90 against a barrier every
 * step and sums in registers; the same change measured x0.99-1.01 in
 * splitPair).
 */
export function splitPair16<Q>(u0: usize, u1: usize, x0: usize, x1: usize, nb: i32,
  o00: usize, o01: usize, o10: usize, o11: usize, kRebias: f32): void {
  const k = sink;
  const ub = <usize>expandedBlock<Q>();
  const z = f32x4.splat(0);
  v128.store(k, z, 64);
  v128.store(k, z, 80);
  v128.store(k, z, 96);
  v128.store(k, z, 112);
  let p1 = u1;
  const end = u0 + <usize>nb * ub;
  for (let p0 = u0; p0 < end; p0 += ub) {
    let s00 = i32x4.splat(0), s01 = i32x4.splat(0), s10 = i32x4.splat(0), s11 = i32x4.splat(0);
    let q0 = p0 + 32, q1 = p1 + 32, y0 = x0, y1 = x1;
    for (let j = 0; j < 4; j++) {
      // W_i (at q + 16i') against activation word i (at y + 16i'), i = 4j + i'
      let wa = v128.load(q0), wb = v128.load(q1), c0 = v128.load(y0), c1 = v128.load(y1);
      s00 = dot16Add(s00, c0, wa); s01 = dot16Add(s01, c1, wa); s10 = dot16Add(s10, c0, wb); s11 = dot16Add(s11, c1, wb);
      wa = v128.load(q0, 16); wb = v128.load(q1, 16); c0 = v128.load(y0, 16); c1 = v128.load(y1, 16);
      s00 = dot16Add(s00, c0, wa); s01 = dot16Add(s01, c1, wa); s10 = dot16Add(s10, c0, wb); s11 = dot16Add(s11, c1, wb);
      pin4(k, s00, s01, s10, s11);
      wa = v128.load(q0, 32); wb = v128.load(q1, 32); c0 = v128.load(y0, 32); c1 = v128.load(y1, 32);
      s00 = dot16Add(s00, c0, wa); s01 = dot16Add(s01, c1, wa); s10 = dot16Add(s10, c0, wb); s11 = dot16Add(s11, c1, wb);
      wa = v128.load(q0, 48); wb = v128.load(q1, 48); c0 = v128.load(y0, 48); c1 = v128.load(y1, 48);
      s00 = dot16Add(s00, c0, wa); s01 = dot16Add(s01, c1, wa); s10 = dot16Add(s10, c0, wb); s11 = dot16Add(s11, c1, wb);
      pin4(k, s00, s01, s10, s11);
      q0 += 64;
      q1 += 64;
      y0 += 64;
      y1 += 64;
    }
    v128.store(k, f32x4.add(v128.load(k, 64), blockFloat<Q>(s00, p0, v128.load(x0, 256), v128.load(x0, 272))), 64);
    v128.store(k, f32x4.add(v128.load(k, 80), blockFloat<Q>(s01, p0, v128.load(x1, 256), v128.load(x1, 272))), 80);
    v128.store(k, f32x4.add(v128.load(k, 96), blockFloat<Q>(s10, p1, v128.load(x0, 256), v128.load(x0, 272))), 96);
    v128.store(k, f32x4.add(v128.load(k, 112), blockFloat<Q>(s11, p1, v128.load(x1, 256), v128.load(x1, 272))), 112);
    p1 += ub;
    x0 += <usize>splitBlock<Q>();
    x1 += <usize>splitBlock<Q>();
  }
  v128.store(o00, outScale<Q>(v128.load(k, 64), kRebias));
  v128.store(o01, outScale<Q>(v128.load(k, 80), kRebias));
  v128.store(o10, outScale<Q>(v128.load(k, 96), kRebias));
  v128.store(o11, outScale<Q>(v128.load(k, 112), kRebias));
}

/** s plus the int16 dot of x and w (int32 lanes). */
@inline function dot16Add(s: v128, x: v128, w: v128): v128 {
  return i32x4.add(s, i32x4.dot_i16x8_s(x, w));
}

/** s plus the relaxed dot of x and w (dot8Add). */
@inline function dotAdd(s: v128, x: v128, w: v128): v128 {
  return dot8Add(s, x, w);
}

/**
 * Scheduling barrier: four partial sums stored to the sink k (its first 64
 * bytes, never read). TurboFan places a pure value just before its first use, so without
 * a use per step all of a block's loads are issued first and their values
 * spilled; a store keeps its place among the loads, so each step's dots and
 * adds are done before the next step's loads. Stores beside the outputs
 * (as expandedGroup's) measured ~15% slower here: the kernel's loads stream
 * past their addresses (4K aliasing).
 */
@inline function pin4(k: usize, s0: v128, s1: v128, s2: v128, s3: v128): void {
  v128.store(k, s0);
  v128.store(k, s1, 16);
  v128.store(k, s2, 32);
  v128.store(k, s3, 48);
}

/** s plus the int8 path's relaxed dots of four groups of 4 activation bytes (x: 16) with the expanded W_i at w, w+16, w+32, w+48. */
@inline function quarter8(x: v128, w: usize, s: v128): v128 {
  s = dot8Add(s, v128.shuffle<i32>(x, x, 0, 0, 0, 0), v128.load(w));
  s = dot8Add(s, v128.shuffle<i32>(x, x, 1, 1, 1, 1), v128.load(w, 16));
  s = dot8Add(s, v128.shuffle<i32>(x, x, 2, 2, 2, 2), v128.load(w, 32));
  return dot8Add(s, v128.shuffle<i32>(x, x, 3, 3, 3, 3), v128.load(w, 48));
}

/** s plus the int16 path's dots of four activation pairs (x: 8 values) with the expanded W_i at w, w+16, w+32, w+48. */
@inline function quarter(x: v128, w: usize, s: v128): v128 {
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.shuffle<i32>(x, x, 0, 0, 0, 0), v128.load(w)));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.shuffle<i32>(x, x, 1, 1, 1, 1), v128.load(w, 16)));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.shuffle<i32>(x, x, 2, 2, 2, 2), v128.load(w, 32)));
  return i32x4.add(s, i32x4.dot_i16x8_s(v128.shuffle<i32>(x, x, 3, 3, 3, 3), v128.load(w, 48)));
}

/** The four rows' float contributions of one block from their integer sums s, as blockOf<Q> forms them. */
@inline function scaled<Q>(s: v128, p: usize, pa: usize, nb: i32, af: v128, sf: v128): v128 {
  const da = actScale(pa, af);
  if (sizeof<Q>() == 2) return blockFloat<Q>(s, p, da, da);
  return blockFloat<Q>(s, p, da, f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), sf));
}

/** scaled<Q> given the block's activation factors: da (scale times actFactor), sa (sum times sumFactor; unused for Q8_0). */
@inline function blockFloat<Q>(s: v128, p: usize, da: v128, sa: v128): v128 {
  const d = v128.load(p);
  return floatStep<Q>(s, d, sizeof<Q>() == 1 && !isSigned<Q>() ? v128.load(p, 16) : d, da, sa);
}
