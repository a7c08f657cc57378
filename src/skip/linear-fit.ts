/**
 * Reduced-rank ridge regression for the linear FFN stand-in (linear.ts):
 * from pairs (x = the FFN's RMS-normalized input, y = the FFN's output as
 * added to the residual) fit y ≈ b + U (Vᵀ x) with U (d×r) orthonormal.
 *
 * W = (Σxx + λI)⁻¹ Σxy on centered data (ridge, λ = ridge · tr(Σxx)/d), then
 * the rank-r projection that keeps the most variance of the fitted values
 * (reduced-rank regression: P = top-r eigenvectors of Wᵀ Σxx W), U = P,
 * V = W P, b = ȳ − U Vᵀ x̄. Plain Float64Array linear algebra; d is a few
 * hundred, so O(d³) per layer is seconds.
 */

/** One layer's stand-in: y ≈ b + U (Vᵀ x), row-major U, V of d × r. */
export interface LowRankMap {
  dim: number;
  rank: number;
  b: Float32Array;
  /** d × r, row-major (U[i*r + j]) */
  U: Float32Array;
  /** d × r, row-major */
  V: Float32Array;
}

/** Samples of one layer: n rows of x and y, each `dim` floats. */
export interface Samples {
  dim: number;
  n: number;
  x: Float32Array;
  y: Float32Array;
}

export interface FitOptions {
  rank: number;
  /** λ as a share of the mean input variance tr(Σxx)/d (default 0.01) */
  ridge?: number;
  /** subspace iterations for the top eigenvectors (default 30) */
  iterations?: number;
}

/** Centered moments: means, Σxx = Σ (x−x̄)(x−x̄)ᵀ and Σxy, d × d row-major. */
function moments(s: Samples): { mx: Float64Array; my: Float64Array; sxx: Float64Array; sxy: Float64Array } {
  const d = s.dim,
    n = s.n;
  const mx = new Float64Array(d),
    my = new Float64Array(d);
  for (let t = 0; t < n; t++)
    for (let i = 0; i < d; i++) {
      mx[i] += s.x[t * d + i];
      my[i] += s.y[t * d + i];
    }
  for (let i = 0; i < d; i++) {
    mx[i] /= n;
    my[i] /= n;
  }
  const sxx = new Float64Array(d * d),
    sxy = new Float64Array(d * d);
  const xc = new Float64Array(d),
    yc = new Float64Array(d);
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < d; i++) {
      xc[i] = s.x[t * d + i] - mx[i];
      yc[i] = s.y[t * d + i] - my[i];
    }
    for (let i = 0; i < d; i++) {
      const a = xc[i],
        ri = i * d;
      if (a === 0) continue;
      for (let j = i; j < d; j++) sxx[ri + j] += a * xc[j];
      for (let j = 0; j < d; j++) sxy[ri + j] += a * yc[j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) sxx[i * d + j] = sxx[j * d + i];
  return { mx, my, sxx, sxy };
}

/** C = A B for n×n row-major matrices (A may be transposed). */
function matmul(A: Float64Array, B: Float64Array, n: number, m: number, transA = false): Float64Array {
  // A: n×n, B: n×m
  const C = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    const ci = i * m;
    for (let k = 0; k < n; k++) {
      const a = transA ? A[k * n + i] : A[i * n + k];
      if (a === 0) continue;
      const bk = k * m;
      for (let j = 0; j < m; j++) C[ci + j] += a * B[bk + j];
    }
  }
  return C;
}

/** Solve (A) X = B in place of B for SPD A (n×n) and B (n×m), by Cholesky. */
export function choleskySolve(A: Float64Array, B: Float64Array, n: number, m: number): Float64Array {
  const Lm = new Float64Array(A);
  for (let j = 0; j < n; j++) {
    let s = Lm[j * n + j];
    for (let k = 0; k < j; k++) s -= Lm[j * n + k] * Lm[j * n + k];
    if (!(s > 0)) throw new Error(`choleskySolve: matrix is not positive definite (pivot ${j} = ${s})`);
    const djj = Math.sqrt(s);
    Lm[j * n + j] = djj;
    for (let i = j + 1; i < n; i++) {
      let v = Lm[i * n + j];
      for (let k = 0; k < j; k++) v -= Lm[i * n + k] * Lm[j * n + k];
      Lm[i * n + j] = v / djj;
    }
  }
  const X = new Float64Array(B);
  // forward: L Z = B
  for (let i = 0; i < n; i++) {
    const xi = i * m;
    for (let k = 0; k < i; k++) {
      const l = Lm[i * n + k];
      if (l === 0) continue;
      const xk = k * m;
      for (let j = 0; j < m; j++) X[xi + j] -= l * X[xk + j];
    }
    const inv = 1 / Lm[i * n + i];
    for (let j = 0; j < m; j++) X[xi + j] *= inv;
  }
  // backward: Lᵀ X = Z
  for (let i = n - 1; i >= 0; i--) {
    const xi = i * m;
    for (let k = i + 1; k < n; k++) {
      const l = Lm[k * n + i];
      if (l === 0) continue;
      const xk = k * m;
      for (let j = 0; j < m; j++) X[xi + j] -= l * X[xk + j];
    }
    const inv = 1 / Lm[i * n + i];
    for (let j = 0; j < m; j++) X[xi + j] *= inv;
  }
  return X;
}

/**
 * Orthonormalize the p columns of Q (n×p, row-major) in place: modified
 * Gram-Schmidt, each column projected out twice (once loses orthogonality
 * when the columns are nearly dependent, as they become under iteration).
 */
function orthonormalize(Q: Float64Array, n: number, p: number): void {
  for (let j = 0; j < p; j++) {
    for (let pass = 0; pass < 2; pass++)
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += Q[i * p + j] * Q[i * p + k];
        for (let i = 0; i < n; i++) Q[i * p + j] -= dot * Q[i * p + k];
      }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += Q[i * p + j] * Q[i * p + j];
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < n; i++) Q[i * p + j] /= norm;
  }
}

/** Eigen-decomposition of a small symmetric p×p matrix by cyclic Jacobi: eigenvalues and column eigenvectors. */
export function jacobiEigen(S: Float64Array, p: number): { values: Float64Array; vectors: Float64Array } {
  const A = new Float64Array(S),
    V = new Float64Array(p * p);
  for (let i = 0; i < p; i++) V[i * p + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let i = 0; i < p; i++) for (let j = i + 1; j < p; j++) off += A[i * p + j] ** 2;
    if (off < 1e-30) break;
    for (let a = 0; a < p; a++)
      for (let b = a + 1; b < p; b++) {
        const apq = A[a * p + b];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[b * p + b] - A[a * p + a]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1),
          s = t * c;
        for (let k = 0; k < p; k++) {
          const akp = A[k * p + a],
            akq = A[k * p + b];
          A[k * p + a] = c * akp - s * akq;
          A[k * p + b] = s * akp + c * akq;
        }
        for (let k = 0; k < p; k++) {
          const apk = A[a * p + k],
            aqk = A[b * p + k];
          A[a * p + k] = c * apk - s * aqk;
          A[b * p + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < p; k++) {
          const vkp = V[k * p + a],
            vkq = V[k * p + b];
          V[k * p + a] = c * vkp - s * vkq;
          V[k * p + b] = s * vkp + c * vkq;
        }
      }
  }
  const values = new Float64Array(p);
  for (let i = 0; i < p; i++) values[i] = A[i * p + i];
  return { values, vectors: V };
}

/** Top-r eigenvectors (columns, n×r row-major) of symmetric PSD M (n×n): subspace iteration + Rayleigh-Ritz. */
export function topEigenvectors(M: Float64Array, n: number, r: number, iterations = 30): Float64Array {
  const p = Math.min(n, r + 16);
  let Q: Float64Array = new Float64Array(n * p);
  // deterministic start: a fixed pseudo-random matrix
  let s = 0x9e3779b9;
  for (let i = 0; i < Q.length; i++) {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0;
    Q[i] = (s >>> 0) / 2 ** 32 - 0.5;
  }
  orthonormalize(Q, n, p);
  for (let it = 0; it < iterations; it++) {
    Q = matmul(M, Q, n, p);
    orthonormalize(Q, n, p);
  }
  // Rayleigh-Ritz: S = Qᵀ M Q, rotate Q by S's eigenvectors, keep the r largest
  const MQ = matmul(M, Q, n, p);
  const S = new Float64Array(p * p);
  for (let i = 0; i < n; i++) for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) S[a * p + b] += Q[i * p + a] * MQ[i * p + b];
  const { values, vectors } = jacobiEigen(S, p);
  const order = Array.from(values.keys()).sort((a, b) => values[b] - values[a]);
  const out = new Float64Array(n * r);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < r; j++) {
      const e = order[j];
      let v = 0;
      for (let a = 0; a < p; a++) v += Q[i * p + a] * vectors[a * p + e];
      out[i * r + j] = v;
    }
  return out;
}

/** Fit one layer's low-rank stand-in from its samples. */
export function fitLowRank(s: Samples, o: FitOptions): LowRankMap {
  const d = s.dim,
    r = o.rank;
  if (!(Number.isInteger(r) && r >= 1 && r <= d)) throw new Error(`fitLowRank: rank must be an integer in [1, ${d}], got ${r}`);
  if (s.n < 2) throw new Error(`fitLowRank: need at least 2 samples, got ${s.n}`);
  const { mx, my, sxx, sxy } = moments(s);
  let tr = 0;
  for (let i = 0; i < d; i++) tr += sxx[i * d + i];
  const lambda = (o.ridge ?? 0.01) * (tr / d) + 1e-12;
  const A = new Float64Array(sxx);
  for (let i = 0; i < d; i++) A[i * d + i] += lambda;
  const W = choleskySolve(A, sxy, d, d); // d_in × d_out
  // fitted values' covariance Wᵀ Σxx W (d_out × d_out)
  const SW = matmul(sxx, W, d, d);
  const M = matmul(W, SW, d, d, true);
  const P = topEigenvectors(M, d, r, o.iterations ?? 30); // d_out × r
  const V = new Float64Array(d * r);
  for (let i = 0; i < d; i++)
    for (let k = 0; k < d; k++) {
      const w = W[i * d + k];
      if (w === 0) continue;
      for (let j = 0; j < r; j++) V[i * r + j] += w * P[k * r + j];
    }
  const map: LowRankMap = { dim: d, rank: r, b: new Float32Array(d), U: Float32Array.from(P), V: Float32Array.from(V) };
  // b = ȳ − U Vᵀ x̄ (with the stored f32 U, V)
  const z = new Float64Array(r);
  for (let i = 0; i < d; i++) for (let j = 0; j < r; j++) z[j] += map.V[i * r + j] * mx[i];
  for (let i = 0; i < d; i++) {
    let u = 0;
    for (let j = 0; j < r; j++) u += map.U[i * r + j] * z[j];
    map.b[i] = my[i] - u;
  }
  return map;
}

/** y += b + U (Vᵀ x) for one row: x at xAt of xs, y at yAt of ys (x and y may be the same array, not overlapping rows). */
export function applyLowRank(map: LowRankMap, xs: Float32Array, xAt: number, ys: Float32Array, yAt: number, z: Float64Array): void {
  const { dim: d, rank: r, U, V, b } = map;
  z.fill(0, 0, r);
  for (let i = 0; i < d; i++) {
    const xi = xs[xAt + i],
      vi = i * r;
    for (let j = 0; j < r; j++) z[j] += V[vi + j] * xi;
  }
  for (let i = 0; i < d; i++) {
    let u = b[i];
    const ui = i * r;
    for (let j = 0; j < r; j++) u += U[ui + j] * z[j];
    ys[yAt + i] += u;
  }
}

/**
 * How well `map` predicts the samples' y: `ev` = 1 − Σ‖y − ŷ‖² / Σ‖y − ȳ‖²
 * (explained variance, ȳ the samples' own mean: a map that only knows
 * another text's mean can score below 0), and `gain` = 1 − Σ‖y − ŷ‖² / Σ‖y‖²
 * (the error removed compared with adding nothing, which is what skipping
 * without a stand-in adds).
 */
export function predictionScore(map: LowRankMap, s: Samples): { ev: number; gain: number } {
  const d = s.dim;
  const my = new Float64Array(d);
  for (let t = 0; t < s.n; t++) for (let i = 0; i < d; i++) my[i] += s.y[t * d + i] / s.n;
  const pred = new Float32Array(d),
    z = new Float64Array(map.rank);
  let sse = 0,
    sst = 0,
    ss0 = 0;
  for (let t = 0; t < s.n; t++) {
    pred.fill(0);
    applyLowRank(map, s.x, t * d, pred, 0, z);
    for (let i = 0; i < d; i++) {
      const y = s.y[t * d + i];
      sse += (y - pred[i]) ** 2;
      sst += (y - my[i]) ** 2;
      ss0 += y * y;
    }
  }
  return { ev: sst > 0 ? 1 - sse / sst : NaN, gain: ss0 > 0 ? 1 - sse / ss0 : NaN };
}
