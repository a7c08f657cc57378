// The per-token vector operations between the matrix products: RMSNorm, the
// residual add and rotary embeddings. Each touches a few kilobytes, but a
// 7B decode step runs ~200 of them, and as JavaScript loops over heap views
// they took ~3% of the step (8-9 ms of ~290 at one thread). The arithmetic is
// src/kernels/ops.ts's, in f64 where that is f64, so both give the same bits.

/**
 * `rows` rows of n floats: out = x / rms(x) * w (out may alias x; rows
 * contiguous in both). The sum of squares is in f64, in four lanes (element
 * i into lane i % 4), then (s0 + s2) + (s1 + s3), then the n % 4 last ones:
 * ops.ts rmsnorm sums in the same order. Each output is x * scale * w in f64,
 * rounded once.
 */
export function rmsnorm(out: usize, x: usize, w: usize, n: i32, rows: i32, eps: f64): void {
  const n4 = n & ~3;
  for (let r = 0; r < rows; r++) {
    let s01 = f64x2.splat(0), s23 = f64x2.splat(0);
    for (let i = 0; i < n4; i += 4) {
      const v = v128.load(x + (<usize>i << 2));
      const lo = f64x2.promote_low_f32x4(v), hi = f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1));
      s01 = f64x2.add(s01, f64x2.mul(lo, lo));
      s23 = f64x2.add(s23, f64x2.mul(hi, hi));
    }
    const s = f64x2.add(s01, s23);
    let ss = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
    for (let i = n4; i < n; i++) {
      const v = <f64>load<f32>(x + (<usize>i << 2));
      ss += v * v;
    }
    const scale = 1 / Math.sqrt(ss / <f64>n + eps);
    const sv = f64x2.splat(scale);
    for (let i = 0; i < n4; i += 4) {
      const o = <usize>i << 2;
      const v = v128.load(x + o), g = v128.load(w + o);
      const lo = f64x2.mul(f64x2.mul(f64x2.promote_low_f32x4(v), sv), f64x2.promote_low_f32x4(g));
      const hi = f64x2.mul(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 0, 1)), sv),
        f64x2.promote_low_f32x4(v128.shuffle<i32>(g, g, 2, 3, 0, 1)));
      v128.store(out + o, v128.shuffle<i32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
    }
    for (let i = n4; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(out + o, <f32>(<f64>load<f32>(x + o) * scale * <f64>load<f32>(w + o)));
    }
    out += <usize>n << 2;
    x += <usize>n << 2;
  }
}

/** dst[i] += src[i] for i < n (f32). */
export function addInto(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/**
 * Rotary embedding of nHeads heads of headDim floats at v, their first
 * ropeDim values, with the token's table cos/sin (ropeDim / 2 floats each):
 * pairs (2i, 2i + 1), or with neox (i, i + ropeDim / 2), each rotated as
 * (x0 c - x1 s, x0 s + x1 c) in f64 and rounded once, as ops.ts rope.
 */
export function rope(v: usize, nHeads: i32, headDim: i32, ropeDim: i32, neox: i32, cos: usize, sin: usize): void {
  const half = ropeDim >> 1;
  const flip = f64x2(-1, 1);
  for (let h = 0; h < nHeads; h++) {
    const b = v + (<usize>(h * headDim) << 2);
    if (neox) {
      let i = 0;
      for (; i + 2 <= half; i += 2) {
        const p0 = b + (<usize>i << 2), p1 = b + (<usize>(i + half) << 2);
        const x0 = f64x2.promote_low_f32x4(v128.load64_zero(p0)), x1 = f64x2.promote_low_f32x4(v128.load64_zero(p1));
        const c = f64x2.promote_low_f32x4(v128.load64_zero(cos + (<usize>i << 2)));
        const s = f64x2.promote_low_f32x4(v128.load64_zero(sin + (<usize>i << 2)));
        const y0 = f64x2.sub(f64x2.mul(x0, c), f64x2.mul(x1, s)), y1 = f64x2.add(f64x2.mul(x0, s), f64x2.mul(x1, c));
        v128.store64_lane(p0, f32x4.demote_f64x2_zero(y0), 0);
        v128.store64_lane(p1, f32x4.demote_f64x2_zero(y1), 0);
      }
      for (; i < half; i++) rotate(b + (<usize>i << 2), b + (<usize>(i + half) << 2), cos, sin, i);
    } else {
      // one pair (x0, x1) as an f64x2: (x0, x1) * c + (x1, x0) * s * (-1, 1)
      for (let i = 0; i < half; i++) {
        const p = b + (<usize>i << 3);
        const x = f64x2.promote_low_f32x4(v128.load64_zero(p));
        const c = f64x2.splat(<f64>load<f32>(cos + (<usize>i << 2))), s = f64x2.splat(<f64>load<f32>(sin + (<usize>i << 2)));
        const y = f64x2.add(f64x2.mul(x, c), f64x2.mul(f64x2.mul(v128.shuffle<i64>(x, x, 1, 0), s), flip));
        v128.store64_lane(p, f32x4.demote_f64x2_zero(y), 0);
      }
    }
  }
}

@inline function rotate(p0: usize, p1: usize, cos: usize, sin: usize, i: i32): void {
  const x0 = <f64>load<f32>(p0), x1 = <f64>load<f32>(p1);
  const c = <f64>load<f32>(cos + (<usize>i << 2)), s = <f64>load<f32>(sin + (<usize>i << 2));
  store<f32>(p0, <f32>(x0 * c - x1 * s));
  store<f32>(p1, <f32>(x0 * s + x1 * c));
}
