// Engine checks: which build this is, whether its relaxed dot is exact here,
// and the memory-bandwidth probe.

import { STREAMS } from "./streams";
import { DOT_ADD_BUILD, dot8Add, hsum } from "./common";

/** 1 when this is the relaxed-SIMD build, 2 the relaxed build with dot-adds (see common.ts DOT_ADD_BUILD), 0 the baseline. */
export function relaxed(): i32 {
  return DOT_ADD_BUILD ? 2 : ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/**
 * Relaxed builds: 1 when i16x8.relaxed_dot_i8x16_i7x16_s (and in the dot-add
 * build i32x4.relaxed_dot_i8x16_i7x16_add_s) gives exact products on this
 * engine for the operands the kernels use (signed int8 times 0..15; in the
 * dot-add build also times unsigned 0..255), checked on 64 bytes of scratch at p. An engine whose relaxed dot differs
 * (it is allowed to for operands the kernels never pass) must not be used.
 */
export function selfTest(p: usize): i32 {
  if (!ASC_FEATURE_RELAXED_SIMD) return 1;
  for (let t = 0; t < 8; t++) {
    for (let i = 0; i < 16; i++) {
      store<i8>(p + i, <i8>((i * 37 + t * 101) % 255 - 127));
      store<u8>(p + 16 + i, <u8>((i * 7 + t * 3) & 15));
    }
    v128.store(p + 32, i16x8.relaxed_dot_i8x16_i7x16_s(v128.load(p), v128.load(p + 16)));
    for (let j = 0; j < 8; j++) {
      const e = <i32>load<i8>(p + 2 * j) * <i32>load<u8>(p + 16 + 2 * j) + <i32>load<i8>(p + 2 * j + 1) * <i32>load<u8>(p + 17 + 2 * j);
      if (<i32>load<i16>(p + 32 + 2 * j) != e) return 0;
    }
    if (DOT_ADD_BUILD) {
      // the dot-add: four products and the accumulator per int32 lane
      v128.store(p + 48, i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p), v128.load(p + 16), i32x4.splat(t * 1000 - 3000)));
      for (let j = 0; j < 4; j++) {
        let e = t * 1000 - 3000;
        for (let k = 0; k < 4; k++) e += <i32>load<i8>(p + 4 * j + k) * <i32>load<u8>(p + 16 + 4 * j + k);
        if (load<i32>(p + 48 + 4 * j) != e) return 0;
      }
      // unsigned bytes up to 255 against int8 down to -128 (the Q4 decode kernels' 0xf0-masked nibbles, the Q8_0
      // small-batch kernel's weights + 128): exact with vpdpbusd; pmaddubsw's int16 pairs would saturate, sdot
      // would read them as signed
      for (let i = 0; i < 16; i++) {
        store<i8>(p + i, <i8>(i < 4 ? (t & 1 ? 127 : -128) : (i * 59 + t * 17) % 256 - 128));
        store<u8>(p + 16 + i, <u8>(i < 4 ? 255 - t : (i * 101 + t * 43) & 255));
      }
      v128.store(p + 48, i32x4.relaxed_dot_i8x16_i7x16_add_s(v128.load(p), v128.load(p + 16), i32x4.splat(7 - t)));
      for (let j = 0; j < 4; j++) {
        let e = 7 - t;
        for (let k = 0; k < 4; k++) e += <i32>load<i8>(p + 4 * j + k) * <i32>load<u8>(p + 16 + 4 * j + k);
        if (load<i32>(p + 48 + 4 * j) != e) return 0;
      }
    }
  }
  return 1;
}

/**
 * Memory-bandwidth probe: sum of `bytes` (a multiple of 64 * STREAMS) of f32
 * at p, read as STREAMS sequential streams equally far apart, the way the
 * decode kernels read weights (one stream alone gets about 3/4 of it here).
 */
export function probeSum(p: usize, bytes: i32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const d = <usize>(bytes / STREAMS);
  const end = p + d;
  for (; p < end; p += 32) {
    a0 = f32x4.add(a0, f32x4.add(v128.load(p), v128.load(p, 16)));
    a1 = f32x4.add(a1, f32x4.add(v128.load(p + d), v128.load(p + d, 16)));
    a2 = f32x4.add(a2, f32x4.add(v128.load(p + 2 * d), v128.load(p + 2 * d, 16)));
    a3 = f32x4.add(a3, f32x4.add(v128.load(p + 3 * d), v128.load(p + 3 * d, 16)));
    a0 = f32x4.add(a0, f32x4.add(v128.load(p + 4 * d), v128.load(p + 4 * d, 16)));
    a1 = f32x4.add(a1, f32x4.add(v128.load(p + 5 * d), v128.load(p + 5 * d, 16)));
    a2 = f32x4.add(a2, f32x4.add(v128.load(p + 6 * d), v128.load(p + 6 * d, 16)));
    a3 = f32x4.add(a3, f32x4.add(v128.load(p + 7 * d), v128.load(p + 7 * d, 16)));
  }
  return hsum(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)));
}

/**
 * The int8 kernels' instruction bound: `iters` rounds of 8 independent
 * multiply-add steps on 128 bytes at p (L1), each step the pair every int8
 * kernel needs per 16 products at least — a dot of 16 byte pairs into int16
 * lanes (i16x8.relaxed_dot_i8x16_i7x16_s, pmaddubsw on x86) and an add into an
 * accumulator — with an operand load per step. 128 multiply-adds per round in
 * the relaxed build; the baseline build has no int8 dot and runs
 * i32x4.dot_i16x8_s on int16 pairs instead (64 per round). No unpacking, no
 * scales: what is left of a kernel's work. Returns a checksum.
 */
export function peakDot(p: usize, iters: i32): i32 {
  const w0 = v128.load(p), w1 = v128.load(p, 16), w2 = v128.load(p, 32), w3 = v128.load(p, 48);
  let a0 = i16x8.splat(0), a1 = i16x8.splat(0), a2 = i16x8.splat(0), a3 = i16x8.splat(0);
  let a4 = i16x8.splat(0), a5 = i16x8.splat(0), a6 = i16x8.splat(0), a7 = i16x8.splat(0);
  for (let i = 0; i < iters; i++) {
    const q = p + 64 + (<usize>(i & 3) << 4);
    a0 = dotAdd(a0, v128.load(q), w0);
    a1 = dotAdd(a1, v128.load(q, 4), w1);
    a2 = dotAdd(a2, v128.load(q, 8), w2);
    a3 = dotAdd(a3, v128.load(q, 12), w3);
    a4 = dotAdd(a4, v128.load(q, 2), w0);
    a5 = dotAdd(a5, v128.load(q, 6), w1);
    a6 = dotAdd(a6, v128.load(q, 10), w2);
    a7 = dotAdd(a7, v128.load(q, 14), w3);
  }
  const s = v128.xor(v128.xor(v128.xor(a0, a1), v128.xor(a2, a3)), v128.xor(v128.xor(a4, a5), v128.xor(a6, a7)));
  return i32x4.extract_lane(s, 0) ^ i32x4.extract_lane(s, 1) ^ i32x4.extract_lane(s, 2) ^ i32x4.extract_lane(s, 3);
}

/** acc plus the build's integer dot of x and w: 16 int8 products (int16 lanes; the dot-add build: int32), else 8 int16 products in int32 lanes. */
@inline function dotAdd(acc: v128, x: v128, w: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return dot8Add(acc, x, w);
  return i32x4.add(acc, i32x4.dot_i16x8_s(x, w));
}
