import { hsum, sum4f, exp4, h2f } from "./common";

/**
 * Grouped-query attention of one query at position `pos` over KV cache
 * positions [0, pos] (byte offsets; q, out and the arithmetic f32, the cache
 * f32 or, with f16 = 1, IEEE half): out[h] = sum_t
 * softmax_t(q_h . k_t / sqrt(headDim)) v_t, query head h reading KV head
 * h / (nHeads / nKvHeads). `scores` holds pos + 1 floats of scratch.
 * Same math as src/model/ops.ts attention, in f32 SIMD: scores four
 * positions at a time (one transpose-add instead of a horizontal sum per
 * position), softmax with exp4, and the weighted sum of values 16 floats
 * of the output at a time, kept in registers across all positions.
 */
export function attention(out: usize, q: usize, kc: usize, vc: usize, kvDim: i32, pos: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scores: usize, f16: i32): void {
  if (f16) attentionOf<u16>(out, q, kc, vc, kvDim, pos, nHeads, nKvHeads, headDim, scores);
  else attentionOf<f32>(out, q, kc, vc, kvDim, pos, nHeads, nKvHeads, headDim, scores);
}

// The cache element type T is a compile-time marker (f32 or u16 = IEEE
// half): kv4<T> loads four elements as f32x4, kv1<T> one; the f32 instance
// is the same code as before the f16 cache existed.

/** Cache elements i..i+3 of the row at p as f32x4 (halves converted exactly; the cache never holds inf/nan). */
@inline function kv4<T>(p: usize, i: i32): v128 {
  if (sizeof<T>() == 4) return v128.load(p + (<usize>i << 2));
  const h = i32x4.extend_low_i16x8_u(v128.load64_zero(p + (<usize>i << 1)));
  const mag = f32x4.mul(i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13), f32x4.splat(5.192296858534828e33)); // * 2^112 rebiases the exponent
  return v128.or(mag, i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16));
}
@inline function kv1<T>(p: usize, i: i32): f32 {
  return sizeof<T>() == 4 ? load<f32>(p + (<usize>i << 2)) : h2f(load<u16>(p + (<usize>i << 1)));
}

function attentionOf<T>(out: usize, q: usize, kc: usize, vc: usize, kvDim: i32, pos: i32,
  nHeads: i32, nKvHeads: i32, headDim: i32, scores: usize): void {
  const group = nHeads / nKvHeads;
  const scale = <f32>1.0 / Mathf.sqrt(<f32>headDim);
  const hd4 = headDim & ~3;
  const rowBytes = <usize>kvDim * sizeof<T>();
  const n = pos + 1;
  for (let h = 0; h < nHeads; h++) {
    const qb = q + (<usize>(h * headDim) << 2);
    const kvOff = <usize>((h / group) * headDim) * sizeof<T>();
    // scores
    let maxv = f32x4.splat(-Infinity);
    let t = 0;
    for (; t + 4 <= n; t += 4) {
      const k0 = kc + kvOff + <usize>t * rowBytes;
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      for (let i = 0; i < hd4; i += 4) {
        const qv = v128.load(qb + (<usize>i << 2));
        a0 = f32x4.add(a0, f32x4.mul(qv, kv4<T>(k0, i)));
        a1 = f32x4.add(a1, f32x4.mul(qv, kv4<T>(k0 + rowBytes, i)));
        a2 = f32x4.add(a2, f32x4.mul(qv, kv4<T>(k0 + 2 * rowBytes, i)));
        a3 = f32x4.add(a3, f32x4.mul(qv, kv4<T>(k0 + 3 * rowBytes, i)));
      }
      let sc = sum4f(a0, a1, a2, a3);
      if (hd4 < headDim) sc = f32x4.add(sc, tailDots<T>(qb, k0, rowBytes, hd4, headDim));
      sc = f32x4.mul(sc, f32x4.splat(scale));
      v128.store(scores + (<usize>t << 2), sc);
      maxv = f32x4.max(maxv, sc);
    }
    let mx = Mathf.max(Mathf.max(f32x4.extract_lane(maxv, 0), f32x4.extract_lane(maxv, 1)), Mathf.max(f32x4.extract_lane(maxv, 2), f32x4.extract_lane(maxv, 3)));
    for (; t < n; t++) {
      const kb = kc + kvOff + <usize>t * rowBytes;
      let acc = f32x4.splat(0);
      let i = 0;
      for (; i < hd4; i += 4) acc = f32x4.add(acc, f32x4.mul(v128.load(qb + (<usize>i << 2)), kv4<T>(kb, i)));
      let sc = hsum(acc);
      for (; i < headDim; i++) sc += load<f32>(qb + (<usize>i << 2)) * kv1<T>(kb, i);
      sc *= scale;
      store<f32>(scores + (<usize>t << 2), sc);
      if (sc > mx) mx = sc;
    }
    // softmax numerators and their sum
    const mv = f32x4.splat(mx);
    let sumv = f32x4.splat(0);
    t = 0;
    for (; t + 4 <= n; t += 4) {
      const e = exp4(f32x4.sub(v128.load(scores + (<usize>t << 2)), mv));
      v128.store(scores + (<usize>t << 2), e);
      sumv = f32x4.add(sumv, e);
    }
    let sum = hsum(sumv);
    for (; t < n; t++) {
      const e = Mathf.exp(load<f32>(scores + (<usize>t << 2)) - mx);
      store<f32>(scores + (<usize>t << 2), e);
      sum += e;
    }
    // out = sum_t e_t v_t / sum
    const inv = f32x4.splat(<f32>1.0 / sum);
    const ob = out + (<usize>(h * headDim) << 2);
    const vb = vc + kvOff;
    let i = 0;
    for (; i + 16 <= headDim; i += 16) {
      let o0 = f32x4.splat(0), o1 = f32x4.splat(0), o2 = f32x4.splat(0), o3 = f32x4.splat(0);
      let vp = vb + <usize>i * sizeof<T>();
      for (let u = 0; u < n; u++) {
        const pv = v128.load32_splat(scores + (<usize>u << 2));
        o0 = f32x4.add(o0, f32x4.mul(pv, kv4<T>(vp, 0)));
        o1 = f32x4.add(o1, f32x4.mul(pv, kv4<T>(vp, 4)));
        o2 = f32x4.add(o2, f32x4.mul(pv, kv4<T>(vp, 8)));
        o3 = f32x4.add(o3, f32x4.mul(pv, kv4<T>(vp, 12)));
        vp += rowBytes;
      }
      const o = ob + (<usize>i << 2);
      v128.store(o, f32x4.mul(o0, inv));
      v128.store(o, f32x4.mul(o1, inv), 16);
      v128.store(o, f32x4.mul(o2, inv), 32);
      v128.store(o, f32x4.mul(o3, inv), 48);
    }
    for (; i < headDim; i++) {
      let acc: f32 = 0;
      let vp = vb + <usize>i * sizeof<T>();
      for (let u = 0; u < n; u++) {
        acc += load<f32>(scores + (<usize>u << 2)) * kv1<T>(vp, 0);
        vp += rowBytes;
      }
      store<f32>(ob + (<usize>i << 2), acc * f32x4.extract_lane(inv, 0));
    }
  }
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
