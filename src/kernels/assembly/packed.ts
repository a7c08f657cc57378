import { DOT_ADD_BUILD, dot8, dot8Add, Q4_0, Q4_1, Q8_0, qOffset, q8Offset, transposeTo } from "./common";
import { packableK, repackK } from "./packed-k";

// ---------------------------------------------------------------------------
// Packed ("x4") layouts. The row-at-a-time kernels (dot-*.ts) spend most of their
// time on per-block scalar work (two f16 conversions, a splat, a horizontal
// reduction) rather than on the bytes. Q4_1 and Q8_0 matrices are therefore
// rearranged once at load time, in place and with the same byte count, so
// that four rows' blocks sit side by side:
//
//   Q4_1x4 block b of rows 4g..4g+3 (80 bytes): f16 d[4] | f16 m[4] | nibbles: word k (0..3) of rows 0..3
//   Q4_0x4 block b of rows 4g..4g+3 (72 bytes): f16 d[4] | nibbles: word k (0..3) of rows 0..3
//   Q8_0x4 block b of rows 4g..4g+3 (136 bytes): f16 d[4] | values by pairs: pair i (0..15) of rows 0..3
//     at 8 + 8i (values 2i, 2i+1 of row r at bytes 2r, 2r+1)
//
// Group g (4 rows) occupies bytes [4g*rowBytes, (4g+4)*rowBytes) as before;
// the last rows % 4 rows stay in the plain layout. One v128 load then gives
// four rows' scales (converted to f32 in SIMD) and the four rows share each
// activation load. Q4 nibbles are permuted within a row's 16 bytes so that
// i16 lane i holds values i, 8+i, 16+i, 24+i in its four nibbles, and the
// rows' 16 bytes are then interleaved by 4-byte words: bytes [16k, 16k+16)
// of the nibble area hold word k (bytes 4k..4k+3) of rows 0, 1, 2, 3. A
// v128 of nibbles thus has row r in i32 lane r, and a dot with one
// activation word splatted to all lanes sums row r in lane r: the four rows'
// sums need no 4x4 transpose-add per block (see nibSums). Q8_0 values are
// interleaved by pairs for the same reason: widened to int16, a v128 half
// holds one pair of each row, and i32x4.dot_i16x8_s against one activation
// pair splatted gives row r's sum in lane r (see blockQ8_0).
// ---------------------------------------------------------------------------

/** Type-id flag of a packed matrix (the job's `type` is PACKED | ggml type). */
export const PACKED: i32 = 0x100;

/**
 * Job-type flag of a load-time repack (REPACK | ggml type): the job's rows [r0, r1), r0 a multiple of 4, are
 * rearranged in place by whichever thread takes them (matmul.ts), with that thread's kernel scratch as staging.
 */
export const REPACK: i32 = 0x4000;

/** True when matrices of `type` can be packed (see repack). */
export function packable(type: i32): bool {
  return type == Q4_0 || type == Q4_1 || type == Q8_0 || packableK(type);
}

/**
 * Rearrange rows [0, rows & ~3) of the `type` matrix at w in place into the
 * packed layout, using `scratch` (4 * rowBytes bytes) as a staging buffer.
 */
export function repack(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, scratch: usize): void {
  if (packableK(type)) {
    repackK(type, w, rowBytes, cols, rows, scratch);
    return;
  }
  const nb = cols >> 5;
  const gbytes = <usize>rowBytes << 2;
  const rb = <usize>rowBytes;
  for (let g: i32 = 0; g + 4 <= rows; g += 4) {
    const src = w + <usize>g * rb;
    memory.copy(scratch, src, gbytes);
    for (let b = 0; b < nb; b++) {
      if (type == Q8_0) repackQ8_0(scratch + <usize>b * 34, rb, src + <usize>b * 136);
      else repackQ4(scratch + <usize>b * (type == Q4_1 ? 20 : 18), rb, src + <usize>b * (type == Q4_1 ? 80 : 72), type == Q4_1);
    }
  }
}

/**
 * Block b of four rows (the first at blk, the others rowBytes apart) as a
 * packed Q4_0 / Q4_1 block at dst: scales side by side, then each row's
 * 16 nibble bytes permuted (i16 lane i holds values i, 8+i, 16+i, 24+i) and
 * the rows interleaved by 4-byte words (see the layout above). In SIMD: a
 * plain block has value j in the low nibble of byte j and 16+j in its high
 * nibble, so permuted byte 2i is (low nibble of byte i) | (low of byte 8+i)
 * << 4 and byte 2i+1 the same of the high nibbles; the word interleave is a
 * 4x4 transpose of 32-bit lanes. (Was a scalar loop per value: half of a
 * 7B file's load time.)
 */
@inline function repackQ4(blk: usize, rowBytes: usize, dst: usize, q4_1: bool): void {
  const head: usize = q4_1 ? 4 : 2;
  const r0 = nibPerm(v128.load(blk + head)), r1 = nibPerm(v128.load(blk + rowBytes + head));
  const r2 = nibPerm(v128.load(blk + 2 * rowBytes + head)), r3 = nibPerm(v128.load(blk + 3 * rowBytes + head));
  for (let r: usize = 0; r < 4; r++) {
    store<u16>(dst + (r << 1), load<u16>(blk + r * rowBytes));
    if (q4_1) store<u16>(dst + 8 + (r << 1), load<u16>(blk + r * rowBytes, 2));
  }
  transposeTo(r0, r1, r2, r3, dst + (q4_1 ? 16 : 8));
}

/** One row block's 16 nibble bytes in the packed order (see repackQ4). */
@inline function nibPerm(a: v128): v128 {
  const m = i8x16.splat(15);
  const lo = v128.and(a, m), hi = v128.and(i16x8.shr_u(a, 4), m);
  // bytes 8..15 of each, shifted into the high nibble (within their bytes: values < 16) and moved down
  const lo8 = i16x8.shl(lo, 4), hi8 = i16x8.shl(hi, 4);
  const even = v128.or(lo, v128.shuffle<u8>(lo8, lo8, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15));
  const odd = v128.or(hi, v128.shuffle<u8>(hi8, hi8, 8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15));
  return v128.shuffle<u8>(even, odd, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

/**
 * Block b of four Q8_0 rows (the first at blk) as a packed block at dst:
 * scales side by side, then value pair i of rows 0..3 at 8 + 8i (a 4 x 16
 * transpose of 16-bit lanes, see q8Pair).
 */
@inline function repackQ8_0(blk: usize, rowBytes: usize, dst: usize): void {
  for (let r: usize = 0; r < 4; r++) store<u16>(dst + (r << 1), load<u16>(blk + r * rowBytes));
  for (let h: usize = 0; h < 2; h++) {
    // pairs 8h .. 8h+7 of each row
    const a0 = v128.load(blk + 2 + (h << 4)), a1 = v128.load(blk + rowBytes + 2 + (h << 4));
    const a2 = v128.load(blk + 2 * rowBytes + 2 + (h << 4)), a3 = v128.load(blk + 3 * rowBytes + 2 + (h << 4));
    const u01 = v128.shuffle<i16>(a0, a1, 0, 8, 1, 9, 2, 10, 3, 11), u23 = v128.shuffle<i16>(a2, a3, 0, 8, 1, 9, 2, 10, 3, 11);
    const v01 = v128.shuffle<i16>(a0, a1, 4, 12, 5, 13, 6, 14, 7, 15), v23 = v128.shuffle<i16>(a2, a3, 4, 12, 5, 13, 6, 14, 7, 15);
    const q = dst + 8 + (h << 6);
    v128.store(q, v128.shuffle<i32>(u01, u23, 0, 4, 1, 5));
    v128.store(q, v128.shuffle<i32>(u01, u23, 2, 6, 3, 7), 16);
    v128.store(q, v128.shuffle<i32>(v01, v23, 0, 4, 1, 5), 32);
    v128.store(q, v128.shuffle<i32>(v01, v23, 2, 6, 3, 7), 48);
  }
}

/** Offset of byte n (0..15) of row 0's permuted nibbles in a packed Q4 block's nibble area (row r: + 4r). */
@inline export function nibByte(n: i32): usize {
  return (<usize>(n >> 2) << 4) + <usize>(n & 3);
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
@inline export function blockQ4_1(p: usize, x0: v128, x1: v128, x2: v128, x3: v128, da: v128, sa: v128,
  m: v128, mask: v128, out: usize): v128 {
  return scaleQ4_1(nibSums(p + 16, x0, x1, x2, x3, m, out), p, da, sa, mask);
}

/**
 * One block of a packed Q4_0 group (at p): as blockQ4_1 with m = -8d, so sa
 * arrives as -8 times the activation sum and d serves both terms. The 2^112
 * of the h2f trick is split: 2^80 rides on da and sa (one multiply per block
 * for all streams, see actFactor), 2^32 on the kernel's outputs (outScale),
 * and d is used as its raw bit pattern (d·2^-112), which saves a multiply
 * per group and block. All of 2^112 on da overflowed: s·da is formed before
 * d scales it and reaches 480·amax, infinite times 2^112 once amax passed
 * ~136; times 2^80 it stays below 2^105 for any f16 amax. The products and
 * sums are those of d·(s·da + sa) times 2^-32, which stay normal floats
 * (a nonzero term is at least 2^-48·2^-32), so the outputs are bit-identical
 * to multiplying by d itself.
 */
@inline export function blockQ4_0(p: usize, x0: v128, x1: v128, x2: v128, x3: v128, da: v128, sa: v128,
  m: v128, mask: v128, out: usize): v128 {
  const s = nibSums(p + 8, x0, x1, x2, x3, m, out);
  v128.store(out, s); // scheduling barrier: without it TurboFan hoists all 8 streams' loads to the top and spills them
  const d = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(v128.load64_zero(p)), 13), mask);
  return f32x4.mul(d, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(s), da), sa));
}

/**
 * [sum] of each of the four rows of a packed nibble area at q (64 bytes)
 * dotted with the block's activations: row r in lane r. Word k of the rows
 * (the v128 at q + 16k) meets activation word k splatted (lane k of each
 * activation vector: the relaxed build's int8 copy x0 (low nibbles) and x1
 * (high nibbles), the baseline's int16 x0..x3, one per nibble of an int16
 * lane, see repack).
 */
@inline function nibSums(q: usize, x0: v128, x1: v128, x2: v128, x3: v128, m: v128, out: usize): v128 {
  if (DOT_ADD_BUILD) {
    // int32 lanes straight from the dot-adds (row r's four values of a word in lane r); low and high
    // nibbles in two chains, which halves the chain of dependent dot-adds. The high nibbles stay in
    // place (byte & 0xf0 = 16 x nibble, one andnot instead of a shift and an and): the dot-add's
    // unsigned operand takes 0..240 exactly (vpdpbusd, checked by selfTest), and the high chain's
    // sum is 16 times the nibbles' sum, so one exact shift per block undoes it.
    let v = v128.load(q);
    let sl = dot8(v128.shuffle<i32>(x0, x0, 0, 0, 0, 0), v128.and(v, m));
    let sh = dot8(v128.shuffle<i32>(x1, x1, 0, 0, 0, 0), v128.andnot(v, m));
    v = v128.load(q, 16);
    sl = dot8Add(sl, v128.shuffle<i32>(x0, x0, 1, 1, 1, 1), v128.and(v, m));
    sh = dot8Add(sh, v128.shuffle<i32>(x1, x1, 1, 1, 1, 1), v128.andnot(v, m));
    v128.store(out, sl); // scheduling barrier, see blockQ4_0
    v = v128.load(q, 32);
    sl = dot8Add(sl, v128.shuffle<i32>(x0, x0, 2, 2, 2, 2), v128.and(v, m));
    sh = dot8Add(sh, v128.shuffle<i32>(x1, x1, 2, 2, 2, 2), v128.andnot(v, m));
    v = v128.load(q, 48);
    sl = dot8Add(sl, v128.shuffle<i32>(x0, x0, 3, 3, 3, 3), v128.and(v, m));
    sh = dot8Add(sh, v128.shuffle<i32>(x1, x1, 3, 3, 3, 3), v128.andnot(v, m));
    return i32x4.add(sl, i32x4.shr_s(sh, 4));
  }
  if (ASC_FEATURE_RELAXED_SIMD) {
    // int16 lanes: 8 dots of pairs, |lane| <= 8*2*127*15 = 30480 < 32767, exact; one pairwise widening per block
    let s = word8(q, v128.shuffle<i32>(x0, x0, 0, 0, 0, 0), v128.shuffle<i32>(x1, x1, 0, 0, 0, 0), m);
    s = i16x8.add(s, word8(q + 16, v128.shuffle<i32>(x0, x0, 1, 1, 1, 1), v128.shuffle<i32>(x1, x1, 1, 1, 1, 1), m));
    v128.store(out, s); // scheduling barrier, see blockQ4_0
    s = i16x8.add(s, word8(q + 32, v128.shuffle<i32>(x0, x0, 2, 2, 2, 2), v128.shuffle<i32>(x1, x1, 2, 2, 2, 2), m));
    s = i16x8.add(s, word8(q + 48, v128.shuffle<i32>(x0, x0, 3, 3, 3, 3), v128.shuffle<i32>(x1, x1, 3, 3, 3, 3), m));
    return i32x4.extadd_pairwise_i16x8_s(s);
  }
  let s = word16(q, v128.shuffle<i32>(x0, x0, 0, 0, 0, 0), v128.shuffle<i32>(x1, x1, 0, 0, 0, 0), v128.shuffle<i32>(x2, x2, 0, 0, 0, 0), v128.shuffle<i32>(x3, x3, 0, 0, 0, 0), m);
  s = i32x4.add(s, word16(q + 16, v128.shuffle<i32>(x0, x0, 1, 1, 1, 1), v128.shuffle<i32>(x1, x1, 1, 1, 1, 1), v128.shuffle<i32>(x2, x2, 1, 1, 1, 1), v128.shuffle<i32>(x3, x3, 1, 1, 1, 1), m));
  v128.store(out, s);
  s = i32x4.add(s, word16(q + 32, v128.shuffle<i32>(x0, x0, 2, 2, 2, 2), v128.shuffle<i32>(x1, x1, 2, 2, 2, 2), v128.shuffle<i32>(x2, x2, 2, 2, 2, 2), v128.shuffle<i32>(x3, x3, 2, 2, 2, 2), m));
  return i32x4.add(s, word16(q + 48, v128.shuffle<i32>(x0, x0, 3, 3, 3, 3), v128.shuffle<i32>(x1, x1, 3, 3, 3, 3), v128.shuffle<i32>(x2, x2, 3, 3, 3, 3), v128.shuffle<i32>(x3, x3, 3, 3, 3, 3), m));
}

/**
 * Relaxed build: int16x8 partial dots of one nibble word of the four rows
 * (v128 at p, row r in i32 lane r) with the activation words lo (low
 * nibbles) and hi (high nibbles) splatted; m8 = 0x0f in every byte. A pair
 * of products is at most 2*127*15, so the two dots add in int16.
 */
@inline function word8(p: usize, lo: v128, hi: v128, m8: v128): v128 {
  const v = v128.load(p);
  return i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(lo, v128.and(v, m8)),
    i16x8.relaxed_dot_i8x16_i7x16_s(hi, v128.and(i16x8.shr_u(v, 4), m8)));
}

/** Baseline: int32x4 dots of one nibble word of the four rows (v128 at p) with the int16 activation pairs a0..a3 splatted (nibble j of each int16 lane: aj); m = 15 per int16. */
@inline function word16(p: usize, a0: v128, a1: v128, a2: v128, a3: v128, m: v128): v128 {
  const v = v128.load(p);
  let s = i32x4.dot_i16x8_s(v128.and(v, m), a0);
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 4), m), a1));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 8), m), a2));
  return i32x4.add(s, i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), a3));
}

/**
 * The four rows' float contributions of a Q4_1 block from their integer sums
 * s (scales at p; activation scale da and sum sa, each times 2^112: one
 * multiply per block for all streams instead of two per group. Exact: a power
 * of two moves between factors without rounding.)
 */
@inline export function scaleQ4_1(s: v128, p: usize, da: v128, sa: v128, mask: v128): v128 {
  // d and m as f32 bit patterns still to be multiplied by 2^112 (the h2f trick): da and sa carry that factor
  const sc = v128.load(p);
  const d = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(sc), 13), mask);
  const mn = v128.and(i32x4.shl(i32x4.extend_high_i16x8_s(sc), 13), mask);
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, da)), f32x4.mul(mn, sa));
}

/** The four rows' f16 scales at s (widened to i32 lanes) as the decode kernels' f32 bit patterns (times 2^112 in the activation factors). */
@inline export function scaleBits(s: v128, mask: v128): v128 {
  return v128.and(i32x4.shl(s, 13), mask);
}

/**
 * A Q block's float contributions of four rows from their integer sums s,
 * given the rows' scales d and (Q4_1) minimums m as scaleBits patterns and
 * the activation factors da, sa: the operations of blockQ8_0, blockQ4_0 and
 * scaleQ4_1 in their order, for the batch kernels (the same bits).
 */
@inline export function floatStep<Q>(s: v128, d: v128, m: v128, da: v128, sa: v128): v128 {
  if (sizeof<Q>() == 2) return f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, da));
  if (isSigned<Q>()) return f32x4.mul(d, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(s), da), sa));
  return f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, da)), f32x4.mul(m, sa));
}

@inline export function nibMask(k15: i32): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? i16x8.splat(<i16>(k15 * 0x101)) : i16x8.splat(<i16>k15);
}

/** True for the Q8_0 instance in the dot-add build, whose small batches take int8 dot-adds (small-batch.ts tokensQ8). */
@inline export function q8Dot<Q>(): bool {
  return DOT_ADD_BUILD && sizeof<Q>() == 2;
}

/**
 * Values 4i..4i+3 of rows 0..3 of packed Q8_0 block p (pairs 2i and 2i+1,
 * see repackQ8_0) with row r in i32 lane r, each value + 128 as an unsigned
 * byte (flip: 0x80 in every byte), for small-batch.ts tokensQ8's dot-adds: they multiply signed
 * bytes (the activations) by unsigned ones, so sum(q*(w+128)) comes out and
 * 128*sum(q) (q8Correction) is taken off, leaving the int16 path's integer.
 */
@inline export function wordQ8(p: usize, i: i32, flip: v128): v128 {
  const v = v128.load(p + 8 + (<usize>i << 4));
  return v128.xor(v128.shuffle<u8>(v, v, 0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15), flip);
}

/** 128 times the sum of the 32 int8 values lo (0..15), hi (16..31), splatted: what the dot-adds of wordQ8 add. */
@inline export function q8Correction(lo: v128, hi: v128): v128 {
  const s = i32x4.add(i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(lo)),
    i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(hi)));
  const t = i32x4.add(s, v128.shuffle<i32>(s, s, 2, 3, 0, 1));
  return i32x4.shl(i32x4.add(t, v128.shuffle<i32>(t, t, 1, 0, 3, 2)), 7);
}

// The packed kernels are written once for both packed types: the type
// parameter Q is a compile-time marker, u8 for Q4_1, i8 for Q4_0 and u16 for
// Q8_0 (sizeof<Q>() and isSigned<Q>() fold to constants, so each instance
// has one block kernel and no branches).

/** One packed block of either type at p, given the activations as loaded by the group/stream kernels. */
@inline export function blockOf<Q>(p: usize, x0: v128, x1: v128, x2: v128, x3: v128, da: v128, sa: v128,
  m: v128, mask: v128, out: usize): v128 {
  if (sizeof<Q>() == 2) return blockQ8_0(p, x0, x1, x2, x3, da, mask, out);
  return isSigned<Q>() ? blockQ4_0(p, x0, x1, x2, x3, da, sa, m, mask, out) : blockQ4_1(p, x0, x1, x2, x3, da, sa, m, mask, out);
}
/** True for the Q4_0 instance, which splits the 2^112 between da, sa and its outputs (see blockQ4_0). */
@inline export function splitRebias<Q>(): bool {
  return sizeof<Q>() == 1 && isSigned<Q>();
}
/** The factor on the activation scales of the Q kernels, given kRebias = 2^112: 2^112, for Q4_0 2^80. */
@inline export function actFactor<Q>(kRebias: f32): v128 {
  return f32x4.splat(splitRebias<Q>() ? kRebias * <f32>2.3283064365386963e-10 : kRebias);
}
/** The factor on the activation sums of the Q kernels: 2^112, for Q4_0 -8·2^80 (see blockQ4_0). */
@inline export function sumFactor<Q>(kRebias: f32): v128 {
  return f32x4.splat(splitRebias<Q>() ? kRebias * <f32>-1.862645149230957e-9 : kRebias);
}
/** The Q kernels' activation scale of the block whose f32 scale is at pa, splatted, times af (actFactor). */
@inline export function actScale(pa: usize, af: v128): v128 {
  return f32x4.mul(v128.load32_splat(pa), af);
}
/** A Q kernel's summed block contributions acc as outputs: times 2^32 for Q4_0 (the rest of its 2^112), else acc. */
@inline export function outScale<Q>(acc: v128, kRebias: f32): v128 {
  return splitRebias<Q>() ? f32x4.mul(acc, f32x4.splat(kRebias * <f32>8.271806125530277e-25)) : acc;
}
/** True when the Q kernels read the int8 activation copy (Q4_1 in the relaxed build). */
@inline export function int8Act<Q>(): bool {
  return ASC_FEATURE_RELAXED_SIMD && sizeof<Q>() == 1;
}
/** Where the Q kernels' activation values start in the A16 buffer at a, and their bytes per block. */
@inline export function actBase<Q>(a: usize, cols: i32): usize {
  return int8Act<Q>() ? a + q8Offset(cols) : a + qOffset(cols);
}
@inline export function actStep<Q>(): usize {
  return int8Act<Q>() ? 32 : 64;
}
/** Bytes of one packed block of 4 rows: Q4_1x4 80, Q4_0x4 72, Q8_0x4 136. */
@inline export function blockBytes<Q>(): usize {
  return sizeof<Q>() == 2 ? 136 : isSigned<Q>() ? 72 : 80;
}

/** Rows 4g..4g+3 of a packed Q matrix (group at g) dotted with the A16 activation at a; stores 4 floats at out. */

/** Offset of values 2i, 2i+1 of row 0 in a packed Q8_0 block (row r: + 2r). */
@inline export function q8Pair(i: i32): usize {
  return 8 + (<usize>i << 3);
}

/**
 * int32x4 dots of the four rows' value pairs 2k, 2k+1 (the v128 at p: pair
 * 2k of rows 0..3, then pair 2k+1) with the activation pairs lo and hi
 * splatted: row r in lane r.
 */
@inline function q8pairs(p: usize, lo: v128, hi: v128): v128 {
  // two sign-extending 8-byte loads: V8 widens the high half of a v128 in two instructions, the low one in one
  return i32x4.add(i32x4.dot_i16x8_s(v128.load8x8_s(p), lo), i32x4.dot_i16x8_s(v128.load8x8_s(p + 8), hi));
}

/** One block of a packed Q8_0 group (at p) against the block's activations (int16 a0..a3, scale da splatted): the four rows' contributions. */
@inline export function blockQ8_0(p: usize, a0: v128, a1: v128, a2: v128, a3: v128, da: v128, mask: v128, out: usize): v128 {
  // activation pair i is i32 lane i & 3 of a(i >> 2)
  let s = q8pairs(p + 8, v128.shuffle<i32>(a0, a0, 0, 0, 0, 0), v128.shuffle<i32>(a0, a0, 1, 1, 1, 1));
  s = i32x4.add(s, q8pairs(p + 24, v128.shuffle<i32>(a0, a0, 2, 2, 2, 2), v128.shuffle<i32>(a0, a0, 3, 3, 3, 3)));
  v128.store(out, s); // scheduling barrier, see blockQ4_0
  s = i32x4.add(s, q8pairs(p + 40, v128.shuffle<i32>(a1, a1, 0, 0, 0, 0), v128.shuffle<i32>(a1, a1, 1, 1, 1, 1)));
  s = i32x4.add(s, q8pairs(p + 56, v128.shuffle<i32>(a1, a1, 2, 2, 2, 2), v128.shuffle<i32>(a1, a1, 3, 3, 3, 3)));
  v128.store(out, s);
  s = i32x4.add(s, q8pairs(p + 72, v128.shuffle<i32>(a2, a2, 0, 0, 0, 0), v128.shuffle<i32>(a2, a2, 1, 1, 1, 1)));
  s = i32x4.add(s, q8pairs(p + 88, v128.shuffle<i32>(a2, a2, 2, 2, 2, 2), v128.shuffle<i32>(a2, a2, 3, 3, 3, 3)));
  v128.store(out, s);
  s = i32x4.add(s, q8pairs(p + 104, v128.shuffle<i32>(a3, a3, 0, 0, 0, 0), v128.shuffle<i32>(a3, a3, 1, 1, 1, 1)));
  s = i32x4.add(s, q8pairs(p + 120, v128.shuffle<i32>(a3, a3, 2, 2, 2, 2), v128.shuffle<i32>(a3, a3, 3, 3, 3, 3)));
  const d = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(v128.load64_zero(p)), 13), mask); // times 2^112 in da
  return f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.mul(d, da));
}
