import { hsum, sum4f, exp4, h2f } from "./common";

/**
 * Grouped-query attention of one query at position `pos` over KV cache
 * positions [0, pos] (byte offsets; q, out and the arithmetic f32, the cache
 * f32 or, with f16 = 1, IEEE half; KV head j's position t at element
 * j * headStride + t * posStride of kc / vc): out[h] = sum_t
 * softmax_t(q_h . k_t / sqrt(headDim)) v_t, query head h reading KV head
 * h / (nHeads / nKvHeads). `scores` holds pos + 1 floats of scratch.
 * Same math as src/model/ops.ts attention, in f32 SIMD: scores four
 * positions at a time (one transpose-add instead of a horizontal sum per
 * position), softmax with exp4, and the weighted sum of values 16 floats
 * of the output at a time, kept in registers across all positions.
 */
export function attention(out: usize, q: usize, kc: usize, vc: usize, posStride: i32, headStride: i32, pos: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scores: usize, f16: i32): void {
  attentionHeads(out, q, kc, vc, posStride, headStride, pos, nHeads, nKvHeads, headDim, scores, f16, 0, nHeads);
}

/** Type-id flag of an attention job handed through matmul (see there and WasmKernels.attention): bit 0 = f16 cache. */
export const ATTENTION: i32 = 0x10000;

/**
 * attention for query heads [h0, h1) only (a chunk of a dispatch over
 * threads: every head is computed the same way whatever the split, so the
 * results do not depend on the thread count); `scores` as for attention.
 */
export function attentionHeads(out: usize, q: usize, kc: usize, vc: usize, posStride: i32, headStride: i32, pos: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scores: usize, f16: i32, h0: i32, h1: i32): void {
  if (f16) attentionOf<u16>(out, q, kc, vc, posStride, headStride, pos, nHeads, nKvHeads, headDim, scores, h0, h1);
  else attentionOf<f32>(out, q, kc, vc, posStride, headStride, pos, nHeads, nKvHeads, headDim, scores, h0, h1);
}

// The cache element type T is a compile-time marker (f32 or u16 = IEEE
// half): kv4<T> loads four elements as f32x4, kv1<T> one; the f32 instance
// is the same code as before the f16 cache existed.

/**
 * Cache elements i..i+3 of the row at p as f32x4 (halves converted exactly;
 * the cache never holds inf/nan). A half's bits, sign-extended and shifted
 * left 13, hold its sign at bit 31 and exponent and mantissa at bits 27..13;
 * masking the rest gives a float 2^-112 times the half (subnormals too), so
 * one multiply by 2^112 finishes it: a sign-extending load and three
 * operations instead of the seven of the sign-and-magnitude route. `mask`
 * and `rebias` come from kvMask / kvRebias: V8 rebuilds a constant vector at
 * every use inside a loop.
 */
@inline function kv4<T>(p: usize, i: i32, mask: v128, rebias: v128): v128 {
  if (sizeof<T>() == 4) return v128.load(p + (<usize>i << 2));
  return f32x4.mul(v128.and(i32x4.shl(v128.load16x4_s(p + (<usize>i << 1)), 13), mask), rebias);
}

/** kv4's mask, 0x8fffe000, from `zero` (a value the compiler cannot fold, 0 at run time) so it stays in a register. */
@inline function kvMask(zero: i32): v128 {
  return i32x4.splat(0x8fffe000 + zero);
}
/** kv4's 2^112, from `zero` as kvMask. */
@inline function kvRebias(zero: i32): v128 {
  return f32x4.splat(<f32>5.192296858534828e33 + <f32>zero);
}

@inline function kv1<T>(p: usize, i: i32): f32 {
  return sizeof<T>() == 4 ? load<f32>(p + (<usize>i << 2)) : h2f(load<u16>(p + (<usize>i << 1)));
}

function attentionOf<T>(out: usize, q: usize, kc: usize, vc: usize, posStride: i32, headStride: i32, pos: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scores: usize, h0: i32, h1: i32): void {
  const group = nHeads / nKvHeads;
  const rowBytes = <usize>posStride * sizeof<T>();
  const n = pos + 1;
  if (sizeof<T>() == 4 || group == 1) {
    // each query head reads its KV head's rows itself (halves widened as read)
    for (let h = h0; h < h1; h++) {
      const kvOff = <usize>(h / group) * <usize>headStride * sizeof<T>();
      const ob = out + (<usize>(h * headDim) << 2);
      scoresRange<T>(q + (<usize>(h * headDim) << 2), kc + kvOff, rowBytes, headDim, 0, n, scores);
      const sum = softmax(scores, n);
      valuesRange<T>(ob, vc + kvOff, rowBytes, headDim, 0, n, scores);
      finish(ob, headDim, sum);
    }
    return;
  }
  // An f16 cache read by `group` query heads (GQA): widen a block of B rows
  // once into f32 scratch and run every head of the group over it. Widening
  // was most of the per-element work, and it is exact, so each head gets the
  // same f32 operations in the same order as above: bit-identical results.
  // Scratch: group x stride scores | B rows of widened K or V | group sums.
  const hb = <usize>headDim << 2;
  const stride = <usize>((n + 3) & ~3) << 2;
  const conv = scores + <usize>group * stride;
  const B = blockRows(headDim);
  const sums = conv + <usize>B * hb;
  for (let kv = h0 / group; kv * group < h1; kv++) {
    const kvOff = (<usize>kv * <usize>headStride) << 1;
    // this KV head's query heads inside [h0, h1): hs .. hs + gn - 1
    const hs = max(h0, kv * group),
      gn = min(h1, (kv + 1) * group) - hs;
    for (let tb = 0; tb < n; tb += B) {
      const te = min(tb + B, n);
      widen(conv, kc + kvOff + <usize>tb * rowBytes, rowBytes, headDim, te - tb);
      // row t of the block at conv + (t - tb) * hb (wrapping pointer arithmetic)
      const base = conv - <usize>tb * hb;
      for (let g = 0; g < gn; g++)
        scoresRange<f32>(q + (<usize>((hs + g) * headDim) << 2), base, hb, headDim, tb, te, scores + <usize>g * stride);
    }
    for (let g = 0; g < gn; g++) store<f32>(sums + (<usize>g << 2), softmax(scores + <usize>g * stride, n));
    for (let tb = 0; tb < n; tb += B) {
      const te = min(tb + B, n);
      widen(conv, vc + kvOff + <usize>tb * rowBytes, rowBytes, headDim, te - tb);
      const base = conv - <usize>tb * hb;
      for (let g = 0; g < gn; g++)
        valuesRange<f32>(out + (<usize>((hs + g) * headDim) << 2), base, hb, headDim, tb, te, scores + <usize>g * stride);
    }
    for (let g = 0; g < gn; g++)
      finish(out + (<usize>((hs + g) * headDim) << 2), headDim, load<f32>(sums + (<usize>g << 2)));
  }
}

/** Rows per widened block: about 32 KB of f32 (a multiple of 4, so blocks keep the four-position steps aligned). */
@inline function blockRows(headDim: i32): i32 {
  return max(4, (8192 / headDim) & ~3);
}

/** Scratch bytes attention needs at position pos (see attentionOf); the caller allocates it. */
export function attentionScratch(pos: i32, nHeads: i32, nKvHeads: i32, headDim: i32): i32 {
  const group = nHeads / nKvHeads;
  return group * (((pos + 1 + 3) & ~3) << 2) + blockRows(headDim) * (headDim << 2) + (group << 2);
}

/** rows halves (rowBytes apart, headDim each, from p) widened to f32 at dst, headDim floats per row. */
function widen(dst: usize, p: usize, rowBytes: usize, headDim: i32, rows: i32): void {
  const mask = kvMask(headDim >> 31), rebias = kvRebias(headDim >> 31); // headDim >= 0
  const hd16 = headDim & ~15, hd4 = headDim & ~3;
  for (let r = 0; r < rows; r++) {
    let i = 0;
    // 16 at a time: the loop's own instructions were as many as the conversion's
    for (; i < hd16; i += 16) {
      const d = dst + (<usize>i << 2), s = p + (<usize>i << 1);
      v128.store(d, kv4<u16>(s, 0, mask, rebias));
      v128.store(d, kv4<u16>(s, 4, mask, rebias), 16);
      v128.store(d, kv4<u16>(s, 8, mask, rebias), 32);
      v128.store(d, kv4<u16>(s, 12, mask, rebias), 48);
    }
    for (; i < hd4; i += 4) v128.store(dst + (<usize>i << 2), kv4<u16>(p, i, mask, rebias));
    for (; i < headDim; i++) store<f32>(dst + (<usize>i << 2), kv1<u16>(p, i));
    dst += <usize>headDim << 2;
    p += rowBytes;
  }
}

/**
 * Scaled scores q . k_t / sqrt(headDim) of positions [t0, t1) (row t at
 * kb + t * rowBytes) into sc[t]: four positions at a time while t + 4 <= t1,
 * then one at a time (t0 and every block end but the last are multiples of
 * 4, so the split matches one pass over [0, n)).
 */
function scoresRange<T>(qb: usize, kb: usize, rowBytes: usize, headDim: i32, t0: i32, t1: i32, sc: usize): void {
  const mask = kvMask(headDim >> 31), rebias = kvRebias(headDim >> 31); // headDim >= 0
  const scale = <f32>1.0 / Mathf.sqrt(<f32>headDim);
  const hd4 = headDim & ~3;
  let t = t0;
  for (; t + 4 <= t1; t += 4) {
    const k0 = kb + <usize>t * rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    for (let i = 0; i < hd4; i += 4) {
      const qv = v128.load(qb + (<usize>i << 2));
      a0 = f32x4.add(a0, f32x4.mul(qv, kv4<T>(k0, i, mask, rebias)));
      a1 = f32x4.add(a1, f32x4.mul(qv, kv4<T>(k0 + rowBytes, i, mask, rebias)));
      a2 = f32x4.add(a2, f32x4.mul(qv, kv4<T>(k0 + 2 * rowBytes, i, mask, rebias)));
      a3 = f32x4.add(a3, f32x4.mul(qv, kv4<T>(k0 + 3 * rowBytes, i, mask, rebias)));
    }
    let s = sum4f(a0, a1, a2, a3);
    if (hd4 < headDim) s = f32x4.add(s, tailDots<T>(qb, k0, rowBytes, hd4, headDim));
    v128.store(sc + (<usize>t << 2), f32x4.mul(s, f32x4.splat(scale)));
  }
  for (; t < t1; t++) {
    const k = kb + <usize>t * rowBytes;
    let acc = f32x4.splat(0);
    let i = 0;
    for (; i < hd4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qb + (<usize>i << 2)), kv4<T>(k, i, mask, rebias)));
    let s = hsum(acc);
    for (; i < headDim; i++) s += load<f32>(qb + (<usize>i << 2)) * kv1<T>(k, i);
    store<f32>(sc + (<usize>t << 2), s * scale);
  }
}

/** sc[0..n) := exp(sc - max); returns their sum. */
function softmax(sc: usize, n: i32): f32 {
  const n4 = n & ~3;
  let maxv = f32x4.splat(-Infinity);
  // pmax is one instruction where max (NaN- and signed-zero-aware) is several; scores are never NaN, and a
  // -0 for +0 as the maximum changes no difference taken from it that exp4 can tell
  for (let t = 0; t < n4; t += 4) maxv = f32x4.pmax(maxv, v128.load(sc + (<usize>t << 2)));
  let mx = Mathf.max(Mathf.max(f32x4.extract_lane(maxv, 0), f32x4.extract_lane(maxv, 1)), Mathf.max(f32x4.extract_lane(maxv, 2), f32x4.extract_lane(maxv, 3)));
  for (let t = n4; t < n; t++) {
    const s = load<f32>(sc + (<usize>t << 2));
    if (s > mx) mx = s;
  }
  const mv = f32x4.splat(mx);
  let sumv = f32x4.splat(0);
  let t = 0;
  for (; t < n4; t += 4) {
    const e = exp4(f32x4.sub(v128.load(sc + (<usize>t << 2)), mv));
    v128.store(sc + (<usize>t << 2), e);
    sumv = f32x4.add(sumv, e);
  }
  let sum = hsum(sumv);
  for (; t < n; t++) {
    const e = Mathf.exp(load<f32>(sc + (<usize>t << 2)) - mx);
    store<f32>(sc + (<usize>t << 2), e);
    sum += e;
  }
  return sum;
}

/**
 * ob[i] += sum over t in [t0, t1) of e_t v_t[i] (row t at vb + t * rowBytes),
 * starting from 0 when t0 = 0: 16 floats at a time kept in registers across
 * the positions, the rest one by one. Partial sums wait in ob between blocks.
 */
function valuesRange<T>(ob: usize, vb: usize, rowBytes: usize, headDim: i32, t0: i32, t1: i32, sc: usize): void {
  const mask = kvMask(headDim >> 31), rebias = kvRebias(headDim >> 31); // headDim >= 0
  let i = 0;
  for (; i + 16 <= headDim; i += 16) {
    const o = ob + (<usize>i << 2);
    let o0 = f32x4.splat(0), o1 = f32x4.splat(0), o2 = f32x4.splat(0), o3 = f32x4.splat(0);
    if (t0 > 0) {
      o0 = v128.load(o);
      o1 = v128.load(o, 16);
      o2 = v128.load(o, 32);
      o3 = v128.load(o, 48);
    }
    let vp = vb + <usize>t0 * rowBytes + <usize>i * sizeof<T>();
    for (let u = t0; u < t1; u++) {
      const pv = v128.load32_splat(sc + (<usize>u << 2));
      o0 = f32x4.add(o0, f32x4.mul(pv, kv4<T>(vp, 0, mask, rebias)));
      o1 = f32x4.add(o1, f32x4.mul(pv, kv4<T>(vp, 4, mask, rebias)));
      o2 = f32x4.add(o2, f32x4.mul(pv, kv4<T>(vp, 8, mask, rebias)));
      o3 = f32x4.add(o3, f32x4.mul(pv, kv4<T>(vp, 12, mask, rebias)));
      vp += rowBytes;
    }
    v128.store(o, o0);
    v128.store(o, o1, 16);
    v128.store(o, o2, 32);
    v128.store(o, o3, 48);
  }
  for (; i < headDim; i++) {
    let acc: f32 = t0 > 0 ? load<f32>(ob + (<usize>i << 2)) : 0;
    let vp = vb + <usize>t0 * rowBytes + <usize>i * sizeof<T>();
    for (let u = t0; u < t1; u++) {
      acc += load<f32>(sc + (<usize>u << 2)) * kv1<T>(vp, 0);
      vp += rowBytes;
    }
    store<f32>(ob + (<usize>i << 2), acc);
  }
}

/** ob[0..headDim) /= sum (as a multiply by 1 / sum). */
function finish(ob: usize, headDim: i32, sum: f32): void {
  const inv: f32 = <f32>1.0 / sum;
  const iv = f32x4.splat(inv);
  let i = 0;
  for (; i + 4 <= headDim; i += 4) v128.store(ob + (<usize>i << 2), f32x4.mul(v128.load(ob + (<usize>i << 2)), iv));
  for (; i < headDim; i++) store<f32>(ob + (<usize>i << 2), load<f32>(ob + (<usize>i << 2)) * inv);
}

/** Dots of q[i0, hd) with the same slice of the four key rows at k0 (rowBytes apart), for a headDim that is not a multiple of 4. */
function tailDots<T>(qb: usize, k0: usize, rowBytes: usize, i0: i32, hd: i32): v128 {
  let d0: f32 = 0, d1: f32 = 0, d2: f32 = 0, d3: f32 = 0;
  for (let i = i0; i < hd; i++) {
    const qv = load<f32>(qb + (<usize>i << 2));
    d0 += qv * kv1<T>(k0, i);
    d1 += qv * kv1<T>(k0 + rowBytes, i);
    d2 += qv * kv1<T>(k0 + 2 * rowBytes, i);
    d3 += qv * kv1<T>(k0 + 3 * rowBytes, i);
  }
  return f32x4(d0, d1, d2, d3);
}
