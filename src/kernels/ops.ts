/**
 * The small per-token operations between matrix products: norms, rotary
 * embeddings, attention over the KV cache, activation functions. They touch
 * kilobytes per token, the matrix products megabytes, so plain loops over
 * Float32Array views of the heap are fine here.
 */
import { roundToF16 } from "../quant/f16.js";

/**
 * out[i] = x[i] / rms(x) * w[i] over one row of n (out may alias x). The sum
 * of squares goes in four lanes (element i into lane i % 4), then
 * (s0 + s2) + (s1 + s3), then the n % 4 last ones: the order of the wasm
 * kernel (assembly/norm.ts), so both give the same bits.
 */
export function rmsnorm(out: Float32Array, oOff: number, x: Float32Array, xOff: number, w: Float32Array, n: number, eps: number): void {
  const n4 = n & ~3;
  let s0 = 0,
    s1 = 0,
    s2 = 0,
    s3 = 0;
  for (let i = 0; i < n4; i += 4) {
    const a = x[xOff + i],
      b = x[xOff + i + 1],
      c = x[xOff + i + 2],
      d = x[xOff + i + 3];
    s0 += a * a;
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  let ss = s0 + s2 + (s1 + s3);
  for (let i = n4; i < n; i++) {
    const v = x[xOff + i];
    ss += v * v;
  }
  const scale = 1 / Math.sqrt(ss / n + eps);
  for (let i = 0; i < n; i++) out[oOff + i] = x[xOff + i] * scale * w[i];
}

/**
 * Rotary embedding tables for one position: cos/sin of pos·θ_i for the
 * ropeDim/2 frequencies, computed once per token and reused by every layer.
 */
export function ropeTable(pos: number, invFreq: Float32Array, cos: Float32Array, sin: Float32Array): void {
  for (let i = 0; i < invFreq.length; i++) {
    const a = pos * invFreq[i];
    cos[i] = Math.cos(a);
    sin[i] = Math.sin(a);
  }
}

/** θ_i = base^(-2i/ropeDim) */
export function ropeInvFreq(base: number, ropeDim: number): Float32Array {
  const f = new Float32Array(ropeDim / 2);
  for (let i = 0; i < f.length; i++) f[i] = base ** ((-2 * i) / ropeDim);
  return f;
}

/**
 * Rotate nHeads heads of headDim at v[off..]. "norm" style rotates adjacent
 * pairs (2i, 2i+1) — the layout llama GGUF files are converted to; "neox"
 * rotates (i, i + ropeDim/2).
 */
export function rope(
  v: Float32Array,
  off: number,
  nHeads: number,
  headDim: number,
  ropeDim: number,
  neox: boolean,
  cos: Float32Array,
  sin: Float32Array,
): void {
  const half = ropeDim / 2;
  for (let h = 0; h < nHeads; h++) {
    const b = off + h * headDim;
    for (let i = 0; i < half; i++) {
      const i0 = neox ? b + i : b + 2 * i;
      const i1 = neox ? b + i + half : b + 2 * i + 1;
      const x0 = v[i0],
        x1 = v[i1];
      v[i0] = x0 * cos[i] - x1 * sin[i];
      v[i1] = x0 * sin[i] + x1 * cos[i];
    }
  }
}

/** x[i] = silu(x[i]) * y[i] — SwiGLU's gate. */
export function swiglu(x: Float32Array, xOff: number, y: Float32Array, yOff: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const g = x[xOff + i];
    x[xOff + i] = (g / (1 + Math.exp(-g))) * y[yOff + i];
  }
}

/**
 * x[i] = gelu(x[i]) * y[i] — GeGLU's gate (Gemma), gelu with the tanh
 * approximation as llama.cpp applies it: of the gate rounded to f16, the
 * result rounded to f16 (ggml's f16 table), 0 at or below -10 and the gate
 * itself at or above 10.
 */
export function geglu(x: Float32Array, xOff: number, y: Float32Array, yOff: number, n: number): void {
  const c = Math.sqrt(2 / Math.PI);
  for (let i = 0; i < n; i++) {
    const g = x[xOff + i];
    let r = 0;
    if (g >= 10) r = g;
    else if (g > -10) {
      const h = roundToF16(g);
      r = roundToF16(0.5 * h * (1 + Math.tanh(c * (h + 0.044715 * h * h * h))));
    }
    x[xOff + i] = r * y[yOff + i];
  }
}

/** dst[i] += src[i] */
export function addInto(dst: Float32Array, dOff: number, src: Float32Array, sOff: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dOff + i] += src[sOff + i];
}

/** cos(a, b) of two vectors of n. */
export function cosine(a: Float32Array, aOff: number, b: Float32Array, bOff: number, n: number): number {
  let ab = 0,
    aa = 0,
    bb = 0;
  for (let i = 0; i < n; i++) {
    const u = a[aOff + i],
      v = b[bOff + i];
    ab += u * v;
    aa += u * u;
    bb += v * v;
  }
  const d = Math.sqrt(aa * bb);
  return d > 0 ? ab / d : 1;
}

/**
 * cos(h, h + f): the saturation signal of FFN-SkipLLM, from one pass over the
 * two vectors the forward pass already has (h, and the FFN output f).
 */
export function residualCosine(h: Float32Array, hOff: number, f: Float32Array, fOff: number, n: number): number {
  let hh = 0,
    hf = 0,
    ff = 0;
  for (let i = 0; i < n; i++) {
    const a = h[hOff + i],
      b = f[fOff + i];
    hh += a * a;
    hf += a * b;
    ff += b * b;
  }
  const denom = Math.sqrt(hh * (hh + 2 * hf + ff));
  return denom > 0 ? (hh + hf) / denom : 1;
}

/**
 * Grouped-query attention of one token at position `pos` over cache
 * positions [0, pos]: out[h] = Σ_t softmax(q_h·k_t / √d) v_t, with query
 * head h reading KV head h / (nHeads / nKvHeads).
 */
export function attention(
  out: Float32Array,
  oOff: number,
  q: Float32Array,
  qOff: number,
  keyCache: Float32Array,
  valueCache: Float32Array,
  kvDim: number,
  pos: number,
  nHeads: number,
  nKvHeads: number,
  headDim: number,
  scores: Float32Array,
): void {
  const group = nHeads / nKvHeads;
  const scale = 1 / Math.sqrt(headDim);
  for (let h = 0; h < nHeads; h++) {
    const qb = qOff + h * headDim;
    const kvOff = Math.floor(h / group) * headDim;
    let max = -Infinity;
    for (let t = 0; t <= pos; t++) {
      const kb = t * kvDim + kvOff;
      let s = 0;
      for (let i = 0; i < headDim; i++) s += q[qb + i] * keyCache[kb + i];
      s *= scale;
      scores[t] = s;
      if (s > max) max = s;
    }
    let sum = 0;
    for (let t = 0; t <= pos; t++) {
      const e = Math.exp(scores[t] - max);
      scores[t] = e;
      sum += e;
    }
    const ob = oOff + h * headDim;
    for (let i = 0; i < headDim; i++) out[ob + i] = 0;
    for (let t = 0; t <= pos; t++) {
      const p = scores[t] / sum;
      const vb = t * kvDim + kvOff;
      for (let i = 0; i < headDim; i++) out[ob + i] += p * valueCache[vb + i];
    }
  }
}
