import { Q5_K, Q6_K, transposeTo } from "./common";
import { scratch } from "./prompt";
import { halves4, sbBytes } from "./packed-k";

// Expansion of packed K groups (packed-k.ts layouts) for the batch kernels of
// prompt-k.ts (read its header for the transposed order and why): each 4-row
// super-block is decoded once per batch into W_0..W_63 (lane k: row k's four
// weights for activation values 4i..4i+3), its scales as per-row int16
// vectors and its f16 scales as f32 (halves4, the decode kernels' bits).
// Transposes go through registers; the few that are reused (Q5_K's qh,
// Q6_K's qh and scales) go to the first 128 bytes of the scratch (prompt-k's
// sink, not in use while groups are expanded).

/** Bytes of one expanded super-block of a 4-row group: Q4_K / Q5_K 1248, Q6_K 1296 (see expandQ45, expandQ6). */
@inline export function expandedSuper(type: i32): i32 {
  return type == Q6_K ? 1296 : 1248;
}
/** Offset of W_0 in an expanded super-block (the header before it: f32 scales, scale vectors). */
export const W45: usize = 224;
export const W6: usize = 272;

/** The 16 bytes at p + 16*0, p + stride, p + 2*stride, p + 3*stride (one per row) transposed to u. */
@inline function transposeRows(p: usize, stride: usize, u: usize): void {
  transposeTo(v128.load(p), v128.load(p + stride), v128.load(p + 2 * stride), v128.load(p + 3 * stride), u);
}

/**
 * The 16-byte chunks of four rows at p, p + stride, p + 2*stride, p + 3*stride
 * transposed in registers (vector c: lane k = bytes 4c..4c+3 of row k) and
 * split into weights: low nibbles to u + 16c, high nibbles to u + off + 16c,
 * with (bits) their high bits from the transposed bytes at hb + 16c, bits
 * lo.. (low nibbles) and hi.. (high) of each byte, `mask` wide, moved to
 * bit 4. One pass: no store and reload of the transposed vectors.
 */
@inline function nibbles4(p: usize, stride: usize, u: usize, off: usize, bits: bool, hb: usize, lo: i32, hi: i32, mask: i32): void {
  const a = v128.load(p), b = v128.load(p + stride), c = v128.load(p + 2 * stride), d = v128.load(p + 3 * stride);
  const t0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<i32>(c, d, 0, 4, 1, 5);
  const t2 = v128.shuffle<i32>(a, b, 2, 6, 3, 7), t3 = v128.shuffle<i32>(c, d, 2, 6, 3, 7);
  nibbles(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), u, off, bits, hb, lo, hi, mask);
  nibbles(v128.shuffle<i32>(t0, t1, 2, 3, 6, 7), u + 16, off, bits, hb + 16, lo, hi, mask);
  nibbles(v128.shuffle<i32>(t2, t3, 0, 1, 4, 5), u + 32, off, bits, hb + 32, lo, hi, mask);
  nibbles(v128.shuffle<i32>(t2, t3, 2, 3, 6, 7), u + 48, off, bits, hb + 48, lo, hi, mask);
}

/** One transposed vector t of nibbles4, split and stored. */
@inline function nibbles(t: v128, u: usize, off: usize, bits: bool, hb: usize, lo: i32, hi: i32, mask: i32): void {
  let l = v128.and(t, i8x16.splat(15)), h = v128.and(i16x8.shr_u(t, 4), i8x16.splat(15));
  if (bits) {
    const q = v128.load(hb);
    l = v128.or(l, bitsTo4(q, lo, mask));
    h = v128.or(h, bitsTo4(q, hi, mask));
  }
  v128.store(u, l);
  v128.store(u + off, h);
}

/** Byte b of each i32 lane, zero-extended. */
@inline function byteOf(v: v128, b: i32): v128 {
  return v128.and(i32x4.shr_u(v, b << 3), i32x4.splat(255));
}

/** Each i32 lane's low int16 in both of its int16 halves (a row's scale in both lanes of its pair). */
@inline function twice16(v: v128): v128 {
  return v128.or(v128.and(v, i32x4.splat(0xffff)), i32x4.shl(v, 16));
}

/** Bits b, ..., b + width - 1 of each byte moved to bit 4 (i16 shifts: the bits kept never cross a byte). */
@inline function bitsTo4(v: v128, b: i32, mask: i32): v128 {
  return i16x8.shl(v128.and(i16x8.shr_u(v, b), i8x16.splat(<i8>mask)), 4);
}

/**
 * Expand packed Q4_Kx4 / Q5_Kx4 super-block p into u: f32 d[4] | f32 dmin[4]
 * (halves4: superK's bits) | scale vectors sc_j (j = 0..7; i32 lane k = row
 * k's scale of sub-block j in both int16 halves) | min pairs mn_m (m = 0..3;
 * int16 lanes 2k, 2k+1 = row k's mins of sub-blocks 2m, 2m+1) | W_0..W_63.
 */
function expandQ45(Q5: bool, p: usize, u: usize, kMask: i32, kRebias: f32): void {
  const hd = v128.load(p);
  v128.store(u, halves4(i32x4.extend_low_i16x8_s(hd), kMask, kRebias));
  v128.store(u, halves4(i32x4.extend_high_i16x8_s(hd), kMask, kRebias), 16);
  // 6-bit scales and mins as superK unpacks them: byte j of lane k is row k's value for sub-block j (lo) or 4 + j (hi)
  const c0 = v128.load(p, 16), c1 = v128.load(p, 32), c2 = v128.load(p, 48);
  const six = i8x16.splat(63), lowNib = i8x16.splat(15);
  const scLo = v128.and(c0, six), mnLo = v128.and(c1, six);
  const scHi = v128.or(v128.and(c2, lowNib), i8x16.shl(i8x16.shr_u(c0, 6), 4));
  const mnHi = v128.or(i8x16.shr_u(c2, 4), i8x16.shl(i8x16.shr_u(c1, 6), 4));
  for (let j = 0; j < 4; j++) {
    v128.store(u + 32 + (<usize>j << 4), twice16(byteOf(scLo, j)));
    v128.store(u + 96 + (<usize>j << 4), twice16(byteOf(scHi, j)));
  }
  v128.store(u + 160, v128.or(byteOf(mnLo, 0), i32x4.shl(byteOf(mnLo, 1), 16)));
  v128.store(u + 176, v128.or(byteOf(mnLo, 2), i32x4.shl(byteOf(mnLo, 3), 16)));
  v128.store(u + 192, v128.or(byteOf(mnHi, 0), i32x4.shl(byteOf(mnHi, 1), 16)));
  v128.store(u + 208, v128.or(byteOf(mnHi, 2), i32x4.shl(byteOf(mnHi, 3), 16)));
  // Q5_K: the rows' qh bytes transposed once (halves 0..15, 16..31 of each row), to the sink
  if (Q5) {
    transposeRows(p + 64, 32, scratch);
    transposeRows(p + 80, 32, scratch + 64);
  }
  // pair j, half hh: row k's bytes 16hh + 4c.. of its 32 are values 64j + 16hh + 4c.. (low nibbles, W index
  // 16j + 4hh + c) and 64j + 32 + 16hh + 4c.. (high nibbles, index + 8): transposed into the low slots, then split
  // (Q5_K: fifth bits are bits 2j (low nibbles) and 2j + 1 (high) of the row's qh bytes)
  const q = p + (Q5 ? 192 : 64), w = u + W45;
  for (let j = 0; j < 4; j++) {
    for (let hh = 0; hh < 2; hh++) {
      nibbles4(q + (<usize>j << 7) + (<usize>hh << 4), 32, w + (<usize>(16 * j + 4 * hh) << 4), 128, Q5, scratch + (<usize>hh << 6), 2 * j, 2 * j + 1, 1);
    }
  }
}

/**
 * Expand packed Q6_Kx4 super-block p into u: f32 d[4] | scale vectors sc_k
 * (k = 0..15, per 16 values; i32 lane r = row r's signed scale in both int16
 * halves) | W_0..W_63 (unsigned 6-bit values).
 */
function expandQ6(p: usize, u: usize, kMask: i32, kRebias: f32): void {
  v128.store(u, halves4(i32x4.extend_low_i16x8_s(v128.load64_zero(p + 832)), kMask, kRebias));
  // the rows' 16 int8 scales transposed: lane r of vector c = row r's scales 4c..4c+3
  transposeRows(p, 16, scratch);
  for (let c: usize = 0; c < 4; c++) {
    const t = v128.load(scratch + (c << 4));
    const lo = i16x8.extend_low_i8x16_s(t), hi = i16x8.extend_high_i8x16_s(t); // rows 0, 1 | rows 2, 3
    const sc = u + 16 + (c << 6);
    v128.store(sc, v128.shuffle<i16>(lo, hi, 0, 0, 4, 4, 8, 8, 12, 12));
    v128.store(sc, v128.shuffle<i16>(lo, hi, 1, 1, 5, 5, 9, 9, 13, 13), 16);
    v128.store(sc, v128.shuffle<i16>(lo, hi, 2, 2, 6, 6, 10, 10, 14, 14), 32);
    v128.store(sc, v128.shuffle<i16>(lo, hi, 3, 3, 7, 7, 11, 11, 15, 15), 48);
  }
  // half h, quarter k (0, 1), half hh of its 32 ql bytes: low nibbles are values 128h + 32k + 16hh + 4c..
  // (W index 32h + 8k + 4hh + c), high nibbles values + 64 (index + 16); their bits 4, 5 from bits 2k, 2k+1
  // (low) and 2k+4, 2k+5 (high) of qh bytes 32h + 16hh + 4c.. (see packed-k.ts rowPairQ6)
  const w = u + W6;
  for (let h = 0; h < 2; h++) {
    for (let hh = 0; hh < 2; hh++) {
      transposeRows(p + 64 + 128 + (<usize>h << 5) + (<usize>hh << 4), 192, scratch);
      for (let k = 0; k < 2; k++) {
        nibbles4(p + 64 + (<usize>h << 6) + (<usize>k << 5) + (<usize>hh << 4), 192, w + (<usize>(32 * h + 8 * k + 4 * hh) << 4), 256,
          true, scratch, 2 * k, 2 * k + 4, 3);
      }
    }
  }
}

/**
 * Expand `groups` packed K groups (g, g + d, g + 2d, ...; nsb super-blocks
 * each) to dst, one after another, super-block by super-block across the
 * groups (several streams through memory at once).
 */
export function expandK(type: i32, g: usize, d: usize, groups: i32, nsb: i32, dst: usize, kMask: i32, kRebias: f32): void {
  const eb = <usize>expandedSuper(type), pb = sbBytes(type) << 2;
  const gs = <usize>nsb * eb;
  for (let s: usize = 0; s < <usize>nsb; s++) {
    for (let i = 0; i < groups; i++) {
      const p = g + <usize>i * d + s * pb, u = dst + <usize>i * gs + s * eb;
      if (type == Q6_K) expandQ6(p, u, kMask, kRebias);
      else if (type == Q5_K) expandQ45(true, p, u, kMask, kRebias);
      else expandQ45(false, p, u, kMask, kRebias);
    }
  }
}

