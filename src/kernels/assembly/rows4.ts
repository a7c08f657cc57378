// Four rows at once over the plain ggml layout (no repacking): Q4_0, Q5_0.
// (The K-quants have their own kernels over a packed layout: packed-k.ts.)
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

import { Q4_0, Q5_0, qOffset, q8nOffset, sum4 } from "./common";
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

/** The rows4 kernel of `type`, or 0 (see has4); lanes are the four rows' dots. */
export function rows4(type: i32, p0: usize, p1: usize, p2: usize, p3: usize, a: usize, nb: i32, cols: i32, kMask: i32, kRebias: f32): v128 {
  switch (type) {
    case Q4_0: return rows4Q4_0(p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
    default: return rows4Q5_0(p0, p1, p2, p3, a, nb, cols, kMask, kRebias);
  }
}

/** True when `type` (plain layout) has a rows4 kernel. */
export function has4(type: i32): bool {
  return type == Q4_0 || type == Q5_0;
}
