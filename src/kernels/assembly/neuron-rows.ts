import { Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, exp4 } from "./common";
import { round16 } from "./elementwise";
import { dotQ4_0, dotQ4_1, dotQ5_0, dotQ5_1, dotQ8_0 } from "./dot-legacy";

// ---------------------------------------------------------------------------
// ffn-sparse per neuron, realized (ffn-sparse-rows, issue 16): a token keeps
// the FFN neurons whose |act(gate)| is large, and only their up rows and
// down columns are read. Sessions 12-15 found that dropping neurons in
// groups loses most of what the gate knows (groups of 4 drop ~3x the
// activation energy single neurons do), and that a down projection whose
// quantization blocks run along the neurons cannot skip single neurons.
// So the down projection gets a copy with one row per neuron ("neuron
// rows"): neuron i's column of W2, dim outputs in blocks of 32,
//
//   16 bytes of nibbles per block (byte t: output t low, t + 16 high) × nb |
//   f16 d × nb4 | f16 m × nb4          (nb = dim / 32, nb4 = nb rounded up to 4)
//
// so w[j] = d·q + m as in Q4_1, and a kept neuron's row is one contiguous run
// of bytes (368 on SmolLM2 against 360 for its Q4_1 column blocks).
//
// The sum over kept neurons runs in integers: with c[k][b] = h_k · d[k][b]
// rounded to int16 on one scale S per token, out[j] = S · Σ_k c[k][b(j)]·q[k][j]
// + Σ_k h_k · m[k][b(j)]. Two neurons' nibbles are interleaved in registers
// and one i32x4.dot_i16x8_s multiplies both by their coefficients, four
// outputs per instruction, as the dense kernels' dots do; the int32 sums
// are exact (S is chosen so they cannot overflow).
// ---------------------------------------------------------------------------

/** Bytes of one neuron row of a down projection with `dim` outputs (a multiple of 32). */
export function neuronRowBytes(dim: i32): i32 {
  const nb = dim >> 5;
  return nb * 16 + ((nb + 3) & ~3) * 4;
}

/** Scratch bytes neuronRowsDown needs for n kept neurons of a `dim`-output projection. */
export function neuronRowsScratch(dim: i32, n: i32): i32 {
  const nb4 = ((dim >> 5) + 3) & ~3;
  const np = (((n + 1) >> 1) + 3) & ~3;
  return (n * nb4 + np * nb4 + nb4) * 4 + dim * 4 + 64;
}

/**
 * out[k] = (row idx[k] of the plain-layout matrix w) · x for k < n, x quantized to A16 at a (act.ts), times
 * scale[k] when scale is not 0: the up projection's kept rows, times their activated gates. Legacy block types only
 * (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0).
 */
export function gatherDots(type: i32, w: usize, rowBytes: i32, cols: i32, idx: usize, n: i32, a: usize, out: usize, scale: usize): void {
  const nb = cols >> 5;
  for (let k = 0; k < n; k++) {
    const row = w + <usize>load<i32>(idx + (<usize>k << 2)) * <usize>rowBytes;
    let v: f32 = 0;
    if (type == Q4_1) v = dotQ4_1(row, a, nb, cols);
    else if (type == Q8_0) v = dotQ8_0(row, a, nb, cols);
    else if (type == Q4_0) v = dotQ4_0(row, a, nb, cols);
    else if (type == Q5_0) v = dotQ5_0(row, a, nb, cols);
    else if (type == Q5_1) v = dotQ5_1(row, a, nb, cols);
    if (scale) v *= load<f32>(scale + (<usize>k << 2));
    store<f32>(out + (<usize>k << 2), v);
  }
}

/**
 * The neurons one token keeps: for the n gate values at g (n a multiple of 4), act(g[i]) exactly as the dense
 * kernels compute it (swiglu's SiLU, or geglu's GELU with llama.cpp's f16 roundings, elementwise.ts); the neurons
 * with |act| ≥ threshold go, in order, to idx (int32) and their act values to a (f32). Returns how many.
 */
export function gateSelect(g: usize, n: i32, gelu: i32, threshold: f32, idx: usize, a: usize, tmp: usize): i32 {
  const one = f32x4.splat(1.0), c2 = f32x4.splat(1.5957691216057308), k = f32x4.splat(0.044715);
  const lo = f32x4.splat(-10.0), hi = f32x4.splat(10.0), th = f32x4.splat(threshold);
  let kept = 0;
  for (let i = 0; i + 4 <= n; i += 4) {
    const x = v128.load(g + (<usize>i << 2));
    let r: v128;
    if (!gelu) r = f32x4.div(x, f32x4.add(one, exp4(f32x4.neg(x))));
    else {
      const h = round16(x);
      const u2 = f32x4.mul(c2, f32x4.add(h, f32x4.mul(k, f32x4.mul(h, f32x4.mul(h, h)))));
      r = round16(f32x4.div(h, f32x4.add(one, exp4(f32x4.neg(u2)))));
      r = v128.bitselect(x, r, f32x4.ge(x, hi));
      r = v128.andnot(r, f32x4.le(x, lo));
    }
    const bits = i32x4.bitmask(f32x4.ge(f32x4.abs(r), th));
    if (bits == 0) continue;
    v128.store(tmp, r);
    for (let j = 0; j < 4; j++)
      if (bits & (1 << j)) {
        store<i32>(idx + (<usize>kept << 2), i + j);
        store<f32>(a + (<usize>kept << 2), load<f32>(tmp + (<usize>j << 2)));
        kept++;
      }
  }
  return kept;
}

/** Four f16 at p as f32x4 (normal numbers and zero; the copies hold no subnormal scale, see neuron-rows builder). */
@inline function halves4(p: usize): v128 {
  const h = i32x4.extend_low_i16x8_u(v128.load64_zero(p));
  const mag = f32x4.mul(i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13), f32x4.splat(5.192296858534828e33)); // 2^112
  return v128.or(mag, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}

/** acc (4 i32 lanes, outputs 4t..4t+3 of a block) += the pair's nibbles (interleaved bytes) times their coefficients. */
@inline function pairDot(acc: v128, il: v128, coef: v128, high: bool): v128 {
  return i32x4.add(acc, i32x4.dot_i16x8_s(high ? i16x8.extend_high_i8x16_u(il) : i16x8.extend_low_i8x16_u(il), coef));
}

/** Neuron row k of the kept list (row0 past its end: padding). */
@inline function rowOf(w: usize, idx: usize, k: i32, n: i32, rb: usize, row0: usize): usize {
  return k < n ? w + <usize>load<i32>(idx + (<usize>k << 2)) * rb : row0;
}

/**
 * out[0..dim) = Σ_k h[k] · W2[:, idx[k]] over the n kept neurons, from the neuron-row copy at w (see above).
 * scratch: neuronRowsScratch(dim, n) bytes, 16-aligned.
 */
export function neuronRowsDown(w: usize, dim: i32, idx: usize, h: usize, n: i32, scratch: usize, out: usize): void {
  const nb = dim >> 5;
  const nb4 = (nb + 3) & ~3;
  const rb = <usize>(nb * 16 + nb4 * 4);
  const np = (n + 1) >> 1;
  const np4 = (np + 3) & ~3;
  const cf = scratch; // f32 [n][nb4]: c = h·d
  const coef = cf + <usize>(n * nb4) * 4; // i32 [np4][nb4]: int16 c of neurons 2p (low) and 2p+1 (high)
  const mv = coef + <usize>(np4 * nb4) * 4; // f32 [nb4]: Σ h·m per block
  const acc = (mv + <usize>nb4 * 4 + 15) & ~(<usize>15); // i32 [dim]
  for (let v = 0; v < nb4; v += 4) v128.store(mv + (<usize>v << 2), f32x4.splat(0));
  // pass 1: coefficients in float, their largest magnitude, and the minimums' sums
  let cmax = f32x4.splat(0);
  for (let k = 0; k < n; k++) {
    const row = w + <usize>load<i32>(idx + (<usize>k << 2)) * rb;
    const hk = f32x4.splat(load<f32>(h + (<usize>k << 2)));
    const dp = row + <usize>nb * 16;
    const mp = dp + <usize>nb4 * 2;
    const cp = cf + <usize>(k * nb4) * 4;
    for (let v = 0; v < nb4; v += 4) {
      const c = f32x4.mul(hk, halves4(dp + (<usize>v << 1)));
      v128.store(cp + (<usize>v << 2), c);
      cmax = f32x4.max(cmax, f32x4.abs(c));
      const mvp = mv + (<usize>v << 2);
      v128.store(mvp, f32x4.add(v128.load(mvp), f32x4.mul(hk, halves4(mp + (<usize>v << 1)))));
    }
  }
  cmax = f32x4.max(cmax, f32x4.shuffle(cmax, cmax, 2, 3, 0, 1));
  cmax = f32x4.max(cmax, f32x4.shuffle(cmax, cmax, 1, 0, 3, 2));
  const cm = f32x4.extract_lane(cmax, 0);
  // int16 coefficients, capped so that a lane's sum of np4 pairs (each ≤ 2·15·lim) stays below 2^31
  let lim: f32 = 32767;
  const cap = Mathf.floor(<f32>2147483000 / (<f32>30 * <f32>max<i32>(np4, 1)));
  if (cap < lim) lim = cap;
  const S: f32 = cm > 0 ? cm / lim : 0;
  const inv = f32x4.splat(cm > 0 ? lim / cm : 0);
  const lo16 = i32x4.splat(0xffff);
  // pass 2: pairs of int16 coefficients (padding pairs are zero)
  for (let p = 0; p < np4; p++) {
    const ka = p << 1,
      kb = ka + 1;
    const dst = coef + <usize>(p * nb4) * 4;
    for (let v = 0; v < nb4; v += 4) {
      let qa = i32x4.splat(0),
        qb = i32x4.splat(0);
      if (ka < n) qa = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(cf + (<usize>(ka * nb4 + v) << 2)), inv)));
      if (kb < n) qb = i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(v128.load(cf + (<usize>(kb * nb4 + v) << 2)), inv)));
      v128.store(dst + (<usize>v << 2), v128.or(v128.and(qa, lo16), i32x4.shl(qb, 16)));
    }
  }
  // pass 3: the integer sums, four pairs (eight neuron rows streamed side by side) per pass over the outputs
  for (let j = 0; j < dim; j += 4) v128.store(acc + (<usize>j << 2), i32x4.splat(0));
  const row0 = w + <usize>load<i32>(idx) * rb; // padding neurons read this row with coefficient 0
  const low = i8x16.splat(0x0f);
  for (let p0 = 0; p0 < np4; p0 += 4) {
    const k0 = p0 << 1;
    const r0 = rowOf(w, idx, k0, n, rb, row0),
      r1 = rowOf(w, idx, k0 + 1, n, rb, row0),
      r2 = rowOf(w, idx, k0 + 2, n, rb, row0),
      r3 = rowOf(w, idx, k0 + 3, n, rb, row0),
      r4 = rowOf(w, idx, k0 + 4, n, rb, row0),
      r5 = rowOf(w, idx, k0 + 5, n, rb, row0),
      r6 = rowOf(w, idx, k0 + 6, n, rb, row0),
      r7 = rowOf(w, idx, k0 + 7, n, rb, row0);
    const cp = coef + <usize>(p0 * nb4) * 4,
      cs = <usize>nb4 * 4;
    for (let b = 0; b < nb; b++) {
      const ap = acc + (<usize>b << 7),
        bo = <usize>b << 4,
        co = cp + (<usize>b << 2);
      let a0 = v128.load(ap),
        a1 = v128.load(ap, 16),
        a2 = v128.load(ap, 32),
        a3 = v128.load(ap, 48),
        a4 = v128.load(ap, 64),
        a5 = v128.load(ap, 80),
        a6 = v128.load(ap, 96),
        a7 = v128.load(ap, 112);
      {
        const va = v128.load(r0 + bo),
          vb = v128.load(r1 + bo),
          cv = v128.load32_splat(co);
        const la = v128.and(va, low),
          lb = v128.and(vb, low),
          ha = i8x16.shr_u(va, 4),
          hb = i8x16.shr_u(vb, 4);
        const l0 = i8x16.shuffle(la, lb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const l1 = i8x16.shuffle(la, lb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const h0 = i8x16.shuffle(ha, hb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const h1 = i8x16.shuffle(ha, hb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        a0 = pairDot(a0, l0, cv, false);
        a1 = pairDot(a1, l0, cv, true);
        a2 = pairDot(a2, l1, cv, false);
        a3 = pairDot(a3, l1, cv, true);
        a4 = pairDot(a4, h0, cv, false);
        a5 = pairDot(a5, h0, cv, true);
        a6 = pairDot(a6, h1, cv, false);
        a7 = pairDot(a7, h1, cv, true);
      }
      {
        const va = v128.load(r2 + bo),
          vb = v128.load(r3 + bo),
          cv = v128.load32_splat(co + cs);
        const la = v128.and(va, low),
          lb = v128.and(vb, low),
          ha = i8x16.shr_u(va, 4),
          hb = i8x16.shr_u(vb, 4);
        const l0 = i8x16.shuffle(la, lb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const l1 = i8x16.shuffle(la, lb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const h0 = i8x16.shuffle(ha, hb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const h1 = i8x16.shuffle(ha, hb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        a0 = pairDot(a0, l0, cv, false);
        a1 = pairDot(a1, l0, cv, true);
        a2 = pairDot(a2, l1, cv, false);
        a3 = pairDot(a3, l1, cv, true);
        a4 = pairDot(a4, h0, cv, false);
        a5 = pairDot(a5, h0, cv, true);
        a6 = pairDot(a6, h1, cv, false);
        a7 = pairDot(a7, h1, cv, true);
      }
      {
        const va = v128.load(r4 + bo),
          vb = v128.load(r5 + bo),
          cv = v128.load32_splat(co + 2 * cs);
        const la = v128.and(va, low),
          lb = v128.and(vb, low),
          ha = i8x16.shr_u(va, 4),
          hb = i8x16.shr_u(vb, 4);
        const l0 = i8x16.shuffle(la, lb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const l1 = i8x16.shuffle(la, lb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const h0 = i8x16.shuffle(ha, hb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const h1 = i8x16.shuffle(ha, hb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        a0 = pairDot(a0, l0, cv, false);
        a1 = pairDot(a1, l0, cv, true);
        a2 = pairDot(a2, l1, cv, false);
        a3 = pairDot(a3, l1, cv, true);
        a4 = pairDot(a4, h0, cv, false);
        a5 = pairDot(a5, h0, cv, true);
        a6 = pairDot(a6, h1, cv, false);
        a7 = pairDot(a7, h1, cv, true);
      }
      {
        const va = v128.load(r6 + bo),
          vb = v128.load(r7 + bo),
          cv = v128.load32_splat(co + 3 * cs);
        const la = v128.and(va, low),
          lb = v128.and(vb, low),
          ha = i8x16.shr_u(va, 4),
          hb = i8x16.shr_u(vb, 4);
        const l0 = i8x16.shuffle(la, lb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const l1 = i8x16.shuffle(la, lb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        const h0 = i8x16.shuffle(ha, hb, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        const h1 = i8x16.shuffle(ha, hb, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        a0 = pairDot(a0, l0, cv, false);
        a1 = pairDot(a1, l0, cv, true);
        a2 = pairDot(a2, l1, cv, false);
        a3 = pairDot(a3, l1, cv, true);
        a4 = pairDot(a4, h0, cv, false);
        a5 = pairDot(a5, h0, cv, true);
        a6 = pairDot(a6, h1, cv, false);
        a7 = pairDot(a7, h1, cv, true);
      }
      v128.store(ap, a0);
      v128.store(ap, a1, 16);
      v128.store(ap, a2, 32);
      v128.store(ap, a3, 48);
      v128.store(ap, a4, 64);
      v128.store(ap, a5, 80);
      v128.store(ap, a6, 96);
      v128.store(ap, a7, 112);
    }
  }
  // pass 4: out = S · sum + the block's minimum term
  const sv = f32x4.splat(S);
  for (let b = 0; b < nb; b++) {
    const m = f32x4.splat(load<f32>(mv + (<usize>b << 2)));
    const ap = acc + (<usize>b << 7),
      op = out + (<usize>b << 7);
    for (let t: usize = 0; t < 128; t += 16) v128.store(op + t, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(v128.load(ap + t)), sv), m));
  }
}
