// ffn-skip-linear's stand-in for a skipped FFN (src/skip/linear.ts):
// u = b + U (Vᵀ x̂) for one row x̂, with V (dim × rank), Uᵀ (rank × dim) and b
// as f32 (U and V hold the side file's f16 values exactly). It runs on the
// main thread for every skipped FFN and token, so it has to cost a small
// fraction of the FFN it replaces. Reading f16 and converting here was slower
// than reading twice the bytes (SmolLM2, one map: 37 µs against 21 µs; an
// f32 subnormal in the 2^112 trick made Gemma's 60 µs), so the maps are
// widened once at load, and the speed bound charges the f32 bytes.
//
// The products accumulate in f64 lanes in the order of the TypeScript
// reference, applyLowRank in src/skip/linear-fit.ts: z[j] sums over i from 0
// up, u[i] starts at b[i] and sums over j from 0 up; SIMD runs across the
// other index. Every lane does the reference's exact IEEE operations, so the
// result is bit-identical and the method's measured quality stays valid.

/** lanes 2, 3 of an f32x4 promoted to f64x2 */
@inline function promoteHigh(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1));
}

/** f64 at k of the scale vector s, which holds f32 (x) or f64 (z) */
@inline function scale(s: usize, k: i32, sF64: bool): f64 {
  return sF64 ? load<f64>(s + (<usize>k << 3)) : <f64>load<f32>(s + (<usize>k << 2));
}

/**
 * out[0..8) (f64) = init[0..8) (f32; 0: zeros) + Σ_k w[k]·s[k] for k = 0..K-1 in
 * order, where w[k] is 8 f32 at w + k·stride: one f64 accumulator per output.
 */
@inline function block8(out: usize, init: usize, w: usize, stride: usize, K: i32, s: usize, sF64: bool): void {
  const b0 = init ? v128.load(init) : f64x2.splat(0),
    b1 = init ? v128.load(init, 16) : f64x2.splat(0);
  let a0 = init ? f64x2.promote_low_f32x4(b0) : b0,
    a1 = init ? promoteHigh(b0) : b0,
    a2 = init ? f64x2.promote_low_f32x4(b1) : b1,
    a3 = init ? promoteHigh(b1) : b1;
  for (let k = 0; k < K; k++, w += stride) {
    const sk = f64x2.splat(scale(s, k, sF64));
    const lo = v128.load(w),
      hi = v128.load(w, 16);
    a0 = f64x2.add(a0, f64x2.mul(f64x2.promote_low_f32x4(lo), sk));
    a1 = f64x2.add(a1, f64x2.mul(promoteHigh(lo), sk));
    a2 = f64x2.add(a2, f64x2.mul(f64x2.promote_low_f32x4(hi), sk));
    a3 = f64x2.add(a3, f64x2.mul(promoteHigh(hi), sk));
  }
  v128.store(out, a0);
  v128.store(out, a1, 16);
  v128.store(out, a2, 32);
  v128.store(out, a3, 48);
}

/** out (f64) = init (f32; 0: zero) + Σ_k w[k·stride]·s[k], in order: block8's one-output tail */
@inline function block1(out: usize, init: usize, w: usize, stride: usize, K: i32, s: usize, sF64: bool): void {
  let a: f64 = init ? <f64>load<f32>(init) : 0;
  for (let k = 0; k < K; k++, w += stride) a += <f64>load<f32>(w) * scale(s, k, sF64);
  store<f64>(out, a);
}

/**
 * z[0..rank) = Vᵀ x and u[0..dim) = b + U z (f64, byte offsets).
 * x: dim f32; v: dim × rank f32 row-major; ut: rank × dim f32 (U transposed);
 * b: dim f32; z: rank f64 scratch; u: dim f64 out.
 */
export function lowRank(x: usize, dim: i32, rank: i32, v: usize, ut: usize, b: usize, z: usize, u: usize): void {
  // z = Vᵀ x: eight columns j at a time, summed over every row i
  const vRow = <usize>rank << 2;
  let j = 0;
  for (; j + 8 <= rank; j += 8) block8(z + (<usize>j << 3), 0, v + (<usize>j << 2), vRow, dim, x, false);
  for (; j < rank; j++) block1(z + (<usize>j << 3), 0, v + (<usize>j << 2), vRow, dim, x, false);
  // u = b + U z: eight rows i at a time, starting from b, summed over every column j
  const utRow = <usize>dim << 2;
  let i = 0;
  for (; i + 8 <= dim; i += 8) block8(u + (<usize>i << 3), b + (<usize>i << 2), ut + (<usize>i << 2), utRow, rank, z, true);
  for (; i < dim; i++) block1(u + (<usize>i << 3), b + (<usize>i << 2), ut + (<usize>i << 2), utRow, rank, z, true);
}
