/**
 * The forward pass's side of ffn-sparse (src/skip/sparse.ts): which FFN
 * neurons a row keeps, decided on the gate projection before the activation
 * runs, and the dropped neurons zeroed after it.
 */
import type { WeightMatrix } from "../kernels/types.js";
import type { NeuronGroups } from "../skip/policy.js";

/** |act(g)| of n gate values at index `at` of m into out[0..n): SiLU, or the tanh GELU for GeGLU (as the kernels compute them). */
export function gateActivations(m: Float32Array, at: number, n: number, gelu: boolean, out: Float32Array): void {
  if (gelu)
    for (let i = 0; i < n; i++) {
      const g = m[at + i];
      out[i] = Math.abs(0.5 * g * (1 + Math.tanh(0.7978845608028654 * (g + 0.044715 * g * g * g))));
    }
  else
    for (let i = 0; i < n; i++) {
      const g = m[at + i];
      out[i] = Math.abs(g / (1 + Math.exp(-g)));
    }
}

/** Zero h[at + i] where act[i] < threshold; returns how many were kept. */
export function dropNeurons(m: Float32Array, at: number, act: Float32Array, n: number, threshold: number): number {
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (act[i] >= threshold) kept++;
    else m[at + i] = 0;
  }
  return kept;
}

/**
 * Zero h[at + i] of every group of g (g.size neurons along g.order) whose mean act is below threshold;
 * returns how many neurons were kept.
 */
export function dropGroups(m: Float32Array, at: number, act: Float32Array, n: number, threshold: number, g: NeuronGroups): number {
  const { size, order } = g;
  if (order.length !== n || n % size !== 0)
    throw new Error(`ffn-sparse groups: an order of ${order.length} neurons in groups of ${size} does not fit an FFN of ${n}`);
  let kept = 0;
  for (let b = 0; b < n; b += size) {
    let s = 0;
    for (let i = b; i < b + size; i++) s += act[order[i]];
    if (s >= threshold * size) kept += size;
    else for (let i = b; i < b + size; i++) m[at + order[i]] = 0;
  }
  return kept;
}

/** Share of a layer's FFN weight bytes that belong to neurons (up rows and down columns): what dropping all of them saves. */
export function neuronByteShare(w1: WeightMatrix, w2: WeightMatrix, w3: WeightMatrix): number {
  const b = (w: WeightMatrix) => w.rowBytes * w.rows;
  return (b(w2) + b(w3)) / (b(w1) + b(w2) + b(w3));
}
