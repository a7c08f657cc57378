// Session 27 research prototype (relaxed SIMD): 4-bit vs 3-bit decode kernels of one structure, as the product's
// relaxed Q4_1 path (4-row groups, int8 activations, i16x8.relaxed_dot_i8x16_i7x16_s, int16 accumulation per block).
// Activations per block of 32: f32 da, f32 sa (= da * sum q), 32 int8 values (value 4j+t at byte 4j+t): 40 bytes.
//   q4: 72 bytes per 4-row block: f16 d[4] | N0..N3 (v128 k: row r's 4 bytes in i32 lane r; byte t low nibble =
//       value 4(2k)+t, high nibble = value 4(2k+1)+t)  (offset 8, unsigned 0..15)
//   q3: 56 bytes: f16 d[4] | L0 L1 (byte (r,t) of Lm: bits 2f.. = low 2 bits of value 4(4m+f)+t) | H (bit j = bit 2 of
//       value 4j+t)  (offset 4, unsigned 0..7)
// out[r] = sum over blocks of d_r * (da * s_r - off * sa).

@inline function h2f(d: v128): v128 {
  const x = i32x4.extend_low_i16x8_u(d);
  const e = i32x4.shl(v128.and(x, i32x4.splat(0x7fff)), 13);
  const s = i32x4.shl(v128.and(x, i32x4.splat(0x8000)), 16);
  return f32x4.mul(v128.or(e, s), f32x4.splat(5.192296858534828e33));
}

@inline function blockOut(acc: v128, s16: v128, p: usize, a: usize, off: f32): v128 {
  const s = i32x4.extadd_pairwise_i16x8_s(s16);
  const d = h2f(v128.load64_zero(p));
  const da = v128.load32_splat(a), sa = v128.load32_splat(a, 4);
  return f32x4.add(acc, f32x4.mul(d, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(s), da), f32x4.mul(sa, f32x4.splat(off)))));
}

@inline function dot(x: v128, w: v128): v128 {
  return i16x8.relaxed_dot_i8x16_i7x16_s(x, w);
}

@inline function q4word(n: v128, xa: v128, xb: v128, m: v128): v128 {
  return i16x8.add(dot(xa, v128.and(n, m)), dot(xb, v128.and(i16x8.shr_u(n, 4), m)));
}

export function matvecQ4(w: usize, act: usize, nb: i32, groups: i32, out: usize): void {
  const m15 = i8x16.splat(15);
  for (let g = 0; g < groups; g++) {
    let acc = f32x4.splat(0);
    let p = w + <usize>g * <usize>nb * 72;
    let a = act;
    for (let b = 0; b < nb; b++) {
      const X0 = v128.load(a, 8), X1 = v128.load(a, 24);
      let s = q4word(v128.load(p, 8), v128.shuffle<i32>(X0, X0, 0, 0, 0, 0), v128.shuffle<i32>(X0, X0, 1, 1, 1, 1), m15);
      s = i16x8.add(s, q4word(v128.load(p, 24), v128.shuffle<i32>(X0, X0, 2, 2, 2, 2), v128.shuffle<i32>(X0, X0, 3, 3, 3, 3), m15));
      s = i16x8.add(s, q4word(v128.load(p, 40), v128.shuffle<i32>(X1, X1, 0, 0, 0, 0), v128.shuffle<i32>(X1, X1, 1, 1, 1, 1), m15));
      s = i16x8.add(s, q4word(v128.load(p, 56), v128.shuffle<i32>(X1, X1, 2, 2, 2, 2), v128.shuffle<i32>(X1, X1, 3, 3, 3, 3), m15));
      acc = blockOut(acc, s, p, a, 8);
      p += 72;
      a += 40;
    }
    v128.store(out + (<usize>g << 4), acc);
  }
}

/** Value vector j (0..7) of a q3 block: low 2 bits from L (field j & 3), bit 2 from bit j of H. */
@inline function q3vec(L: v128, H: v128, j: i32, m3: v128, m4: v128): v128 {
  const f = j & 3;
  const lo = f == 3 ? i16x8.shr_u(L, 6) : f == 0 ? L : i16x8.shr_u(L, 2 * f);
  const hi = j < 2 ? i16x8.shl(H, 2 - j) : j == 2 ? H : i16x8.shr_u(H, j - 2);
  return v128.or(v128.and(lo, m3), v128.and(hi, m4));
}

export function matvecQ3(w: usize, act: usize, nb: i32, groups: i32, out: usize): void {
  const m3 = i8x16.splat(3), m4 = i8x16.splat(4);
  for (let g = 0; g < groups; g++) {
    let acc = f32x4.splat(0);
    let p = w + <usize>g * <usize>nb * 56;
    let a = act;
    for (let b = 0; b < nb; b++) {
      const X0 = v128.load(a, 8), X1 = v128.load(a, 24);
      const L0 = v128.load(p, 8), L1 = v128.load(p, 24), H = v128.load(p, 40);
      let s = dot(v128.shuffle<i32>(X0, X0, 0, 0, 0, 0), q3vec(L0, H, 0, m3, m4));
      s = i16x8.add(s, dot(v128.shuffle<i32>(X0, X0, 1, 1, 1, 1), q3vec(L0, H, 1, m3, m4)));
      s = i16x8.add(s, dot(v128.shuffle<i32>(X0, X0, 2, 2, 2, 2), q3vec(L0, H, 2, m3, m4)));
      s = i16x8.add(s, dot(v128.shuffle<i32>(X0, X0, 3, 3, 3, 3), q3vec(L0, H, 3, m3, m4)));
      s = i16x8.add(s, dot(v128.shuffle<i32>(X1, X1, 0, 0, 0, 0), q3vec(L1, H, 4, m3, m4)));
      s = i16x8.add(s, dot(v128.shuffle<i32>(X1, X1, 1, 1, 1, 1), q3vec(L1, H, 5, m3, m4)));
      s = i16x8.add(s, dot(v128.shuffle<i32>(X1, X1, 2, 2, 2, 2), q3vec(L1, H, 6, m3, m4)));
      s = i16x8.add(s, dot(v128.shuffle<i32>(X1, X1, 3, 3, 3, 3), q3vec(L1, H, 7, m3, m4)));
      acc = blockOut(acc, s, p, a, 4);
      p += 56;
      a += 40;
    }
    v128.store(out + (<usize>g << 4), acc);
  }
}

// Eight streams (groups g + i*d) per pass, as the product's decode kernel (streams.ts): memory-level parallelism.
@inline function blockQ4(p: usize, X0: v128, X1: v128, da: v128, sa: v128, m15: v128, out: usize): v128 {
  let s = q4word(v128.load(p, 8), v128.shuffle<i32>(X0, X0, 0, 0, 0, 0), v128.shuffle<i32>(X0, X0, 1, 1, 1, 1), m15);
  s = i16x8.add(s, q4word(v128.load(p, 24), v128.shuffle<i32>(X0, X0, 2, 2, 2, 2), v128.shuffle<i32>(X0, X0, 3, 3, 3, 3), m15));
  v128.store(out, s); // scheduling barrier (see the product's blockQ4_0)
  s = i16x8.add(s, q4word(v128.load(p, 40), v128.shuffle<i32>(X1, X1, 0, 0, 0, 0), v128.shuffle<i32>(X1, X1, 1, 1, 1, 1), m15));
  s = i16x8.add(s, q4word(v128.load(p, 56), v128.shuffle<i32>(X1, X1, 2, 2, 2, 2), v128.shuffle<i32>(X1, X1, 3, 3, 3, 3), m15));
  const d = h2f(v128.load64_zero(p));
  return f32x4.mul(d, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extadd_pairwise_i16x8_s(s)), da), sa));
}

@inline function blockQ3(p: usize, X0: v128, X1: v128, da: v128, sa: v128, m3: v128, m4: v128, out: usize): v128 {
  const L0 = v128.load(p, 8), L1 = v128.load(p, 24), H = v128.load(p, 40);
  let s = dot(v128.shuffle<i32>(X0, X0, 0, 0, 0, 0), q3vec(L0, H, 0, m3, m4));
  s = i16x8.add(s, dot(v128.shuffle<i32>(X0, X0, 1, 1, 1, 1), q3vec(L0, H, 1, m3, m4)));
  s = i16x8.add(s, dot(v128.shuffle<i32>(X0, X0, 2, 2, 2, 2), q3vec(L0, H, 2, m3, m4)));
  s = i16x8.add(s, dot(v128.shuffle<i32>(X0, X0, 3, 3, 3, 3), q3vec(L0, H, 3, m3, m4)));
  v128.store(out, s);
  s = i16x8.add(s, dot(v128.shuffle<i32>(X1, X1, 0, 0, 0, 0), q3vec(L1, H, 4, m3, m4)));
  s = i16x8.add(s, dot(v128.shuffle<i32>(X1, X1, 1, 1, 1, 1), q3vec(L1, H, 5, m3, m4)));
  s = i16x8.add(s, dot(v128.shuffle<i32>(X1, X1, 2, 2, 2, 2), q3vec(L1, H, 6, m3, m4)));
  s = i16x8.add(s, dot(v128.shuffle<i32>(X1, X1, 3, 3, 3, 3), q3vec(L1, H, 7, m3, m4)));
  const d = h2f(v128.load64_zero(p));
  return f32x4.mul(d, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(i32x4.extadd_pairwise_i16x8_s(s)), da), sa));
}

@inline function blk(bits: i32, p: usize, X0: v128, X1: v128, da: v128, sa: v128, m15: v128, m3: v128, m4: v128, out: usize): v128 {
  return bits == 4 ? blockQ4(p, X0, X1, da, sa, m15, out) : blockQ3(p, X0, X1, da, sa, m3, m4, out);
}

@inline function streams8(bits: i32, w: usize, act: usize, nb: i32, groups: i32, out: usize): void {
  const m15 = i8x16.splat(15), m3 = i8x16.splat(3), m4 = i8x16.splat(4);
  const bb: usize = bits == 4 ? 72 : 56, off: f32 = bits == 4 ? 8 : 4;
  const per = groups >> 3, d = <usize>per * <usize>nb * bb;
  const scratch = out + (<usize>groups << 4);
  for (let g = 0; g < per; g++) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    let p = w + <usize>g * <usize>nb * bb;
    let a = act;
    for (let b = 0; b < nb; b++) {
      const X0 = v128.load(a, 8), X1 = v128.load(a, 24);
      const da = v128.load32_splat(a), sa = f32x4.mul(v128.load32_splat(a, 4), f32x4.splat(off));
      a0 = f32x4.add(a0, blk(bits, p, X0, X1, da, sa, m15, m3, m4, scratch));
      a1 = f32x4.add(a1, blk(bits, p + d, X0, X1, da, sa, m15, m3, m4, scratch));
      a2 = f32x4.add(a2, blk(bits, p + 2 * d, X0, X1, da, sa, m15, m3, m4, scratch));
      a3 = f32x4.add(a3, blk(bits, p + 3 * d, X0, X1, da, sa, m15, m3, m4, scratch));
      a4 = f32x4.add(a4, blk(bits, p + 4 * d, X0, X1, da, sa, m15, m3, m4, scratch));
      a5 = f32x4.add(a5, blk(bits, p + 5 * d, X0, X1, da, sa, m15, m3, m4, scratch));
      a6 = f32x4.add(a6, blk(bits, p + 6 * d, X0, X1, da, sa, m15, m3, m4, scratch));
      a7 = f32x4.add(a7, blk(bits, p + 7 * d, X0, X1, da, sa, m15, m3, m4, scratch));
      p += bb;
      a += 40;
    }
    const o = out + (<usize>g << 4), od = <usize>per << 4;
    v128.store(o, a0); v128.store(o + od, a1); v128.store(o + 2 * od, a2); v128.store(o + 3 * od, a3);
    v128.store(o + 4 * od, a4); v128.store(o + 5 * od, a5); v128.store(o + 6 * od, a6); v128.store(o + 7 * od, a7);
  }
}

export function streamsQ4(w: usize, act: usize, nb: i32, groups: i32, out: usize): void { streams8(4, w, act, nb, groups, out); }
export function streamsQ3(w: usize, act: usize, nb: i32, groups: i32, out: usize): void { streams8(3, w, act, nb, groups, out); }
