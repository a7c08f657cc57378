import { qOffset, q8Offset, sum4 } from "./common";

// Prompts: a weight group is used by every token of the batch, so for n > 1
// its nibbles and scales are first expanded once into a per-thread scratch
// (int16 values, f32 scales; UNPACKED_BLOCK bytes per block, in L1), and
// each token then only multiplies and adds.

/** This instance's (thread's) scratch for unpacked groups; see setScratch. */
export let scratch: usize = 0;
export let scratchBytes: i32 = 0;
/**
 * Bytes of one unpacked Q4_1 block of a group: f32 d[4] | f32 m[4] | q[4][32],
 * the values as int16 (in the nib4 order), or as int8 in the relaxed build
 * (low then high nibbles, in the nib4r order).
 */
export const UNPACKED_BLOCK: i32 = ASC_FEATURE_RELAXED_SIMD ? 160 : 288;

/** Give this instance `bytes` of scratch at p (each thread needs its own). */
export function setScratch(p: usize, bytes: i32): void {
  scratch = p;
  scratchBytes = bytes;
}

/** Expand the packed Q4_1 group at g (nb blocks) into the scratch. */
export function unpackQ4_1(g: usize, nb: i32, kMask: i32, kRebias: f32): void {
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
@inline export function u8x32(p: usize, lo: v128, hi: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_s(i16x8.add(i16x8.relaxed_dot_i8x16_i7x16_s(lo, v128.load(p)),
    i16x8.relaxed_dot_i8x16_i7x16_s(hi, v128.load(p, 16))));
}

/** int32x4 partial dot of 32 unpacked int16 weights at p with a0..a3. */
@inline export function u16x32(p: usize, a0: v128, a1: v128, a2: v128, a3: v128): v128 {
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
export function groupUnpackedQ4_1(a: usize, nb: i32, cols: i32, out: usize): void {
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
