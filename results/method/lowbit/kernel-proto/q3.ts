// Session 26 research prototype (not product): can a 3-bit FFN copy be read faster than the file's 4-bit weights?
// Two decode kernels of the same structure (4-row groups, blocks of 32, int16 activation pairs, i32x4.dot_i16x8_s),
// as the product's baseline Q4_0 path (src/kernels/assembly/packed.ts word16):
//   q4: 72 bytes per block of 4 rows: f16 d[4] | 4 nibble words (v128 k: i16 lane 2r+s holds 4 nibbles j = value 2k+s+8j of row r)
//   q3: 56 bytes: f16 d[4] | L0 L1 (2-bit fields: v128 m, i16 lane 2r+s, field 4t+j = value 2(2m+t)+s+8j) | H (1-bit field 4k+j)
// Values unsigned (q4: 0..15, offset 8; q3: 0..7, offset 4). Activations per block: f32 da, f32 sa (= da * sum q),
// then A_j (j = 0..3): i32 lane k = the int16 pair (a[2k+8j], a[2k+1+8j]). 80 bytes per block.
// out[r] = sum over blocks of d_r * da * (sum_i q_ri a_i - off * sum_i a_i).

@inline function h2f(d: v128): v128 {
  // 4 f16 (low halves of i32 lanes, normal numbers) to f32
  const x = i32x4.extend_low_i16x8_u(d);
  const e = i32x4.shl(v128.and(x, i32x4.splat(0x7fff)), 13);
  const s = i32x4.shl(v128.and(x, i32x4.splat(0x8000)), 16);
  return f32x4.mul(v128.or(e, s), f32x4.splat(5.192296858534828e33)); // 2^112
}

/** acc plus the four rows' block contributions d_r * (da * s_r - off * sa) (scales at p, activation block at a). */
@inline function blockOut(acc: v128, s: v128, p: usize, a: usize, off: f32): v128 {
  const d = h2f(v128.load64_zero(p));
  const da = v128.load32_splat(a), sa = v128.load32_splat(a, 4);
  return f32x4.add(acc, f32x4.mul(d, f32x4.sub(f32x4.mul(f32x4.convert_i32x4_s(s), da), f32x4.mul(sa, f32x4.splat(off)))));
}

export function matvecQ4(w: usize, act: usize, nb: i32, groups: i32, out: usize): void {
  const m15 = i16x8.splat(15);
  for (let g = 0; g < groups; g++) {
    let acc = f32x4.splat(0);
    let p = w + <usize>g * <usize>nb * 72;
    let a = act;
    for (let b = 0; b < nb; b++) {
      const A0 = v128.load(a, 8), A1 = v128.load(a, 24), A2 = v128.load(a, 40), A3 = v128.load(a, 56);
      let s = i32x4.splat(0);
      for (let k = 0; k < 4; k++) {
        const n = v128.load(p + 8 + (<usize>k << 4));
        let x0: v128, x1: v128, x2: v128, x3: v128;
        if (k == 0) { x0 = v128.shuffle<i32>(A0, A0, 0, 0, 0, 0); x1 = v128.shuffle<i32>(A1, A1, 0, 0, 0, 0); x2 = v128.shuffle<i32>(A2, A2, 0, 0, 0, 0); x3 = v128.shuffle<i32>(A3, A3, 0, 0, 0, 0); }
        else if (k == 1) { x0 = v128.shuffle<i32>(A0, A0, 1, 1, 1, 1); x1 = v128.shuffle<i32>(A1, A1, 1, 1, 1, 1); x2 = v128.shuffle<i32>(A2, A2, 1, 1, 1, 1); x3 = v128.shuffle<i32>(A3, A3, 1, 1, 1, 1); }
        else if (k == 2) { x0 = v128.shuffle<i32>(A0, A0, 2, 2, 2, 2); x1 = v128.shuffle<i32>(A1, A1, 2, 2, 2, 2); x2 = v128.shuffle<i32>(A2, A2, 2, 2, 2, 2); x3 = v128.shuffle<i32>(A3, A3, 2, 2, 2, 2); }
        else { x0 = v128.shuffle<i32>(A0, A0, 3, 3, 3, 3); x1 = v128.shuffle<i32>(A1, A1, 3, 3, 3, 3); x2 = v128.shuffle<i32>(A2, A2, 3, 3, 3, 3); x3 = v128.shuffle<i32>(A3, A3, 3, 3, 3, 3); }
        s = i32x4.add(s, i32x4.dot_i16x8_s(v128.and(n, m15), x0));
        s = i32x4.add(s, i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(n, 4), m15), x1));
        s = i32x4.add(s, i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(n, 8), m15), x2));
        s = i32x4.add(s, i32x4.dot_i16x8_s(i16x8.shr_u(n, 12), x3));
      }
      acc = blockOut(acc, s, p, a, 8);
      p += 72;
      a += 72;
    }
    v128.store(out + (<usize>g << 4), acc);
  }
}

@inline function bitTo2(H: v128, b: i32): v128 {
  return v128.and(b >= 2 ? i16x8.shr_u(H, b - 2) : i16x8.shl(H, 2 - b), i16x8.splat(4));
}

@inline function q3word(L: v128, H: v128, t: i32, k: i32, x0: v128, x1: v128, x2: v128, x3: v128, s: v128): v128 {
  const m3 = i16x8.splat(3);
  const f = t << 2, h = k << 2;
  // field f + j of L (2 bits at 2(f + j)), field h + j of H (1 bit at h + j) moved to bit 2
  let v = v128.or(v128.and(i16x8.shr_u(L, 2 * f), m3), bitTo2(H, h));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v, x0));
  v = v128.or(v128.and(i16x8.shr_u(L, 2 * f + 2), m3), bitTo2(H, h + 1));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v, x1));
  v = v128.or(v128.and(i16x8.shr_u(L, 2 * f + 4), m3), bitTo2(H, h + 2));
  s = i32x4.add(s, i32x4.dot_i16x8_s(v, x2));
  v = v128.or(v128.and(i16x8.shr_u(L, 2 * f + 6), m3), bitTo2(H, h + 3));
  return i32x4.add(s, i32x4.dot_i16x8_s(v, x3));
}

export function matvecQ3(w: usize, act: usize, nb: i32, groups: i32, out: usize): void {
  for (let g = 0; g < groups; g++) {
    let acc = f32x4.splat(0);
    let p = w + <usize>g * <usize>nb * 56;
    let a = act;
    for (let b = 0; b < nb; b++) {
      const A0 = v128.load(a, 8), A1 = v128.load(a, 24), A2 = v128.load(a, 40), A3 = v128.load(a, 56);
      const L0 = v128.load(p, 8), L1 = v128.load(p, 24), H = v128.load(p, 40);
      let s = i32x4.splat(0);
      s = q3word(L0, H, 0, 0, v128.shuffle<i32>(A0, A0, 0, 0, 0, 0), v128.shuffle<i32>(A1, A1, 0, 0, 0, 0), v128.shuffle<i32>(A2, A2, 0, 0, 0, 0), v128.shuffle<i32>(A3, A3, 0, 0, 0, 0), s);
      s = q3word(L0, H, 1, 1, v128.shuffle<i32>(A0, A0, 1, 1, 1, 1), v128.shuffle<i32>(A1, A1, 1, 1, 1, 1), v128.shuffle<i32>(A2, A2, 1, 1, 1, 1), v128.shuffle<i32>(A3, A3, 1, 1, 1, 1), s);
      s = q3word(L1, H, 0, 2, v128.shuffle<i32>(A0, A0, 2, 2, 2, 2), v128.shuffle<i32>(A1, A1, 2, 2, 2, 2), v128.shuffle<i32>(A2, A2, 2, 2, 2, 2), v128.shuffle<i32>(A3, A3, 2, 2, 2, 2), s);
      s = q3word(L1, H, 1, 3, v128.shuffle<i32>(A0, A0, 3, 3, 3, 3), v128.shuffle<i32>(A1, A1, 3, 3, 3, 3), v128.shuffle<i32>(A2, A2, 3, 3, 3, 3), v128.shuffle<i32>(A3, A3, 3, 3, 3, 3), s);
      acc = blockOut(acc, s, p, a, 4);
      p += 56;
      a += 72;
    }
    v128.store(out + (<usize>g << 4), acc);
  }
}
