// Row dots of the legacy 32-value block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
// (plain ggml layout) with an A16 activation.

import { qOffset, h2f, hsum } from "./common";

/** int32x4 partial dot of 32 unsigned-or-signed byte weights (as lo/hi 16-lane halves) with 32 int16 activations. */
@inline export function dot32u(w0: v128, w1: v128, a: usize): v128 {
  let s = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(w0), v128.load(a));
  s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(w0), v128.load(a, 16)));
  s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(w1), v128.load(a, 32)));
  return i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(w1), v128.load(a, 48)));
}
@inline export function dot16s(w0: v128, a: usize): v128 {
  const s = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_s(w0), v128.load(a));
  return i32x4.add(s, i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_s(w0), v128.load(a, 16)));
}

/** Spread the 32 bits of `qh` to bytes: result byte j (of 16) is 0x10 where bit (j + 16*half) is set. */
@inline export function highBits(qhv: v128, half: i32): v128 {
  const idx = half == 0
    ? i8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)
    : i8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const sel = i8x16(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
  const b = v128.and(i8x16.swizzle(qhv, idx), sel);
  return v128.and(i8x16.eq(b, sel), i8x16.splat(0x10));
}

// Each dot* returns sum_j W[j] * x[j] for one row; `a` is the A16 base of
// the token, nb the number of 32-blocks, cols the number of values.

export function dotQ4_0(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const v = v128.load(w, 2);
    const s = dot32u(v128.and(v, lowNib), i8x16.shr_u(v, 4), q + (<usize>b << 6));
    const dd = d * load<f32>(a + (<usize>b << 2));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(dd)));
    accm += d * load<f32>(a + (<usize>(nb + b) << 2)); // the -8 offset: -8*d*sum(x)
    w += 18;
  }
  return hsum(acc) - 8 * accm;
}

export function dotQ4_1(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const m = h2f(load<u16>(w, 2));
    const v = v128.load(w, 4);
    const s = dot32u(v128.and(v, lowNib), i8x16.shr_u(v, 4), q + (<usize>b << 6));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(a + (<usize>b << 2)))));
    accm += m * load<f32>(a + (<usize>(nb + b) << 2));
    w += 20;
  }
  return hsum(acc) + accm;
}

export function dotQ5_0(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const qhv = i32x4.splat(load<u32>(w, 2));
    const v = v128.load(w, 6);
    const w0 = v128.or(v128.and(v, lowNib), highBits(qhv, 0));
    const w1 = v128.or(i8x16.shr_u(v, 4), highBits(qhv, 1));
    const s = dot32u(w0, w1, q + (<usize>b << 6));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(a + (<usize>b << 2)))));
    accm += d * load<f32>(a + (<usize>(nb + b) << 2));
    w += 22;
  }
  return hsum(acc) - 16 * accm;
}

export function dotQ5_1(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const m = h2f(load<u16>(w, 2));
    const qhv = i32x4.splat(load<u32>(w, 4));
    const v = v128.load(w, 8);
    const w0 = v128.or(v128.and(v, lowNib), highBits(qhv, 0));
    const w1 = v128.or(i8x16.shr_u(v, 4), highBits(qhv, 1));
    const s = dot32u(w0, w1, q + (<usize>b << 6));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(a + (<usize>b << 2)))));
    accm += m * load<f32>(a + (<usize>(nb + b) << 2));
    w += 24;
  }
  return hsum(acc) + accm;
}

export function dotQ8_0(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  let acc = f32x4.splat(0);
  for (let b = 0; b < nb; b++) {
    const d = h2f(load<u16>(w));
    const qa = q + (<usize>b << 6);
    const s = i32x4.add(dot16s(v128.load(w, 2), qa), dot16s(v128.load(w, 18), qa + 32));
    acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(d * load<f32>(a + (<usize>b << 2)))));
    w += 34;
  }
  return hsum(acc);
}
