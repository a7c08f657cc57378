// Row dots of the k-quants Q4_K, Q5_K, Q6_K (256-value super-blocks, plain
// ggml layout) with an A16 activation.

import { qOffset, h2f, hsum } from "./common";
import { dot32u, dot16s } from "./dot-legacy";

/** 6-bit scale and min of sub-block j (0..7) from the 12 packed bytes at p (Q4_K/Q5_K). */
@inline export function kScale(p: usize, j: i32): i32 {
  return j < 4 ? load<u8>(p + j) & 63 : (load<u8>(p + j + 4) & 0xf) | ((load<u8>(p + j - 4) >> 6) << 4);
}
@inline export function kMin(p: usize, j: i32): i32 {
  return j < 4 ? load<u8>(p + j + 4) & 63 : (load<u8>(p + j + 4) >> 4) | ((load<u8>(p + j) >> 6) << 4);
}

export function dotQ4_K(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  const nsb = nb >> 3;
  for (let sb = 0; sb < nsb; sb++) {
    const d = h2f(load<u16>(w));
    const dmin = h2f(load<u16>(w, 2));
    for (let j = 0; j < 4; j++) {
      const v0 = v128.load(w + 16 + (<usize>j << 5));
      const v1 = v128.load(w + 32 + (<usize>j << 5));
      const blo = (sb << 3) + 2 * j; // A16 block of the low nibbles; high nibbles are the next one
      const slo = dot32u(v128.and(v0, lowNib), v128.and(v1, lowNib), q + (<usize>blo << 6));
      const shi = dot32u(i8x16.shr_u(v0, 4), i8x16.shr_u(v1, 4), q + (<usize>(blo + 1) << 6));
      const dlo = d * <f32>kScale(w + 4, 2 * j) * load<f32>(a + (<usize>blo << 2));
      const dhi = d * <f32>kScale(w + 4, 2 * j + 1) * load<f32>(a + (<usize>(blo + 1) << 2));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(slo), f32x4.splat(dlo)));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(shi), f32x4.splat(dhi)));
      accm += dmin * (<f32>kMin(w + 4, 2 * j) * load<f32>(a + (<usize>(nb + blo) << 2)) +
        <f32>kMin(w + 4, 2 * j + 1) * load<f32>(a + (<usize>(nb + blo + 1) << 2)));
    }
    w += 144;
  }
  return hsum(acc) - accm;
}

export function dotQ5_K(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  const one = i8x16.splat(1);
  let acc = f32x4.splat(0);
  let accm: f32 = 0;
  const nsb = nb >> 3;
  for (let sb = 0; sb < nsb; sb++) {
    const d = h2f(load<u16>(w));
    const dmin = h2f(load<u16>(w, 2));
    const h0 = v128.load(w, 16);
    const h1 = v128.load(w, 32);
    for (let j = 0; j < 4; j++) {
      const v0 = v128.load(w + 48 + (<usize>j << 5));
      const v1 = v128.load(w + 64 + (<usize>j << 5));
      const bl = 2 * j, bh = 2 * j + 1; // qh bit of the low and high nibbles
      const w0 = v128.or(v128.and(v0, lowNib), i8x16.shl(v128.and(i8x16.shr_u(h0, bl), one), 4));
      const w1 = v128.or(v128.and(v1, lowNib), i8x16.shl(v128.and(i8x16.shr_u(h1, bl), one), 4));
      const w2 = v128.or(i8x16.shr_u(v0, 4), i8x16.shl(v128.and(i8x16.shr_u(h0, bh), one), 4));
      const w3 = v128.or(i8x16.shr_u(v1, 4), i8x16.shl(v128.and(i8x16.shr_u(h1, bh), one), 4));
      const blo = (sb << 3) + 2 * j;
      const slo = dot32u(w0, w1, q + (<usize>blo << 6));
      const shi = dot32u(w2, w3, q + (<usize>(blo + 1) << 6));
      const dlo = d * <f32>kScale(w + 4, 2 * j) * load<f32>(a + (<usize>blo << 2));
      const dhi = d * <f32>kScale(w + 4, 2 * j + 1) * load<f32>(a + (<usize>(blo + 1) << 2));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(slo), f32x4.splat(dlo)));
      acc = f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(shi), f32x4.splat(dhi)));
      accm += dmin * (<f32>kMin(w + 4, 2 * j) * load<f32>(a + (<usize>(nb + blo) << 2)) +
        <f32>kMin(w + 4, 2 * j + 1) * load<f32>(a + (<usize>(nb + blo + 1) << 2)));
    }
    w += 176;
  }
  return hsum(acc) - accm;
}

/** 16 Q6_K values (already -32) against 16 activations starting at value index y of the row. */
@inline export function q6part(acc: v128, v: v128, q: usize, a: usize, y: i32, scale: f32): v128 {
  const s = dot16s(v, q + (<usize>y << 1));
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(s), f32x4.splat(scale * load<f32>(a + (<usize>(y >> 5) << 2)))));
}

export function dotQ6_K(w: usize, a: usize, nb: i32, cols: i32): f32 {
  const q = a + qOffset(cols);
  const lowNib = i8x16.splat(0x0f);
  const three = i8x16.splat(3);
  const off = i8x16.splat(32);
  let acc = f32x4.splat(0);
  const nsb = nb >> 3;
  for (let sb = 0; sb < nsb; sb++) {
    const d = h2f(load<u16>(w, 208));
    for (let n = 0; n < 2; n++) {
      const ql = w + (<usize>n << 6);
      const qh = w + 128 + (<usize>n << 5);
      const sc = w + 192 + (<usize>n << 3);
      for (let g = 0; g < 2; g++) {
        const L0 = v128.load(ql + (<usize>g << 4));
        const L1 = v128.load(ql + 32 + (<usize>g << 4));
        const H = v128.load(qh + (<usize>g << 4));
        const v1 = i8x16.sub(v128.or(v128.and(L0, lowNib), i8x16.shl(v128.and(H, three), 4)), off);
        const v2 = i8x16.sub(v128.or(v128.and(L1, lowNib), i8x16.shl(v128.and(i8x16.shr_u(H, 2), three), 4)), off);
        const v3 = i8x16.sub(v128.or(i8x16.shr_u(L0, 4), i8x16.shl(v128.and(i8x16.shr_u(H, 4), three), 4)), off);
        const v4 = i8x16.sub(v128.or(i8x16.shr_u(L1, 4), i8x16.shl(i8x16.shr_u(H, 6), 4)), off);
        const y = (sb << 8) + (n << 7) + (g << 4);
        acc = q6part(acc, v1, q, a, y, d * <f32>load<i8>(sc + g));
        acc = q6part(acc, v2, q, a, y + 32, d * <f32>load<i8>(sc + g + 2));
        acc = q6part(acc, v3, q, a, y + 64, d * <f32>load<i8>(sc + g + 4));
        acc = q6part(acc, v4, q, a, y + 96, d * <f32>load<i8>(sc + g + 6));
      }
    }
    w += 210;
  }
  return hsum(acc);
}
