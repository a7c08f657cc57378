/**
 * The forward pass's side of ffn-sparse (src/skip/sparse.ts): which FFN
 * neurons a row keeps, decided on the gate projection before the activation
 * runs, and the dropped neurons zeroed after it.
 */
import type { Kernels, NeuronMajorMatrix, WeightMatrix } from "../kernels/types.js";
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
  if ((order && order.length !== n) || n % size !== 0)
    throw new Error(`ffn-sparse groups: ${order?.length ?? n} neurons in groups of ${size} do not fit an FFN of ${n}`);
  let kept = 0;
  for (let b = 0; b < n; b += size) {
    let s = 0;
    for (let i = b; i < b + size; i++) s += act[order ? order[i] : i];
    if (s >= threshold * size) kept += size;
    else for (let i = b; i < b + size; i++) m[at + (order ? order[i] : i)] = 0;
  }
  return kept;
}

/** Share of a layer's FFN weight bytes that belong to neurons (up rows and down columns): what dropping all of them saves. */
export function neuronByteShare(w1: WeightMatrix, w2: WeightMatrix, w3: WeightMatrix): number {
  const b = (w: WeightMatrix) => w.rowBytes * w.rows;
  return (b(w2) + b(w3)) / (b(w1) + b(w2) + b(w3));
}

/** Groups of 4 neurons in file order: the granularity the realized kernels skip (kernels/assembly/neuron-major.ts). */
export const REALIZED_GROUP = 4;

/**
 * ffn-sparse with groups of 4 neurons in file order, computed by kernels that
 * read only the kept groups: the up projection's kept 4-row groups and a
 * neuron-major copy of the down projection (built here, once; it adds the
 * down projection's bytes again). One token at a time (decode); layers whose
 * matrices the kernels cannot do this for (not Q4_0/Q4_1, shapes not multiples of 32) have no entry and run the masked
 * form.
 */
export class RealizedSparseFFN {
  private readonly down: (NeuronMajorMatrix | undefined)[] = [];
  /** per layer: the group mask's heap offset in that layer's heap (ffnDim / 4 bytes), and |act(gate)|'s (ffnDim floats) */
  private readonly maskPtr: number[] = [];
  private readonly actPtr: number[] = [];
  /** bytes the neuron-major copies and masks take */
  readonly bytes: number;

  constructor(layers: readonly { w2: WeightMatrix; w3: WeightMatrix }[], kernelsOf: (l: number) => Kernels) {
    let bytes = 0;
    layers.forEach((L, l) => {
      const K = kernelsOf(l);
      const nm =
        K.matvecMasked && K.matvecNeuronMajor && K.gateGroups && L.w3.packed && L.w3.type === L.w2.type ? K.neuronMajor?.(L.w2) : undefined;
      this.down.push(nm);
      this.maskPtr.push(nm ? K.heap.alloc(nm.cols / REALIZED_GROUP, 16) : 0);
      this.actPtr.push(nm ? K.heap.alloc(nm.cols * 4, 16) : 0);
      if (nm) bytes += L.w2.rowBytes * L.w2.rows + nm.cols / REALIZED_GROUP + nm.cols * 4;
    });
    this.bytes = bytes;
  }

  /** True when layer l runs realized. */
  has(l: number): boolean {
    return this.down[l] !== undefined;
  }

  /** Layers that run realized. */
  get layers(): number {
    return this.down.filter(Boolean).length;
  }

  /**
   * The FFN of one token in layer l after its gate (at byte offset h1): the group mask on `threshold` (in wasm, by
   * dropGroups' rule), the up projection of the kept groups into h3, the activation, and the down projection of the
   * kept groups into o. Returns the neurons kept and |act(gate)| of every neuron (a view of the heap, valid until the
   * next call for this layer).
   */
  run(
    K: Kernels,
    l: number,
    w3: WeightMatrix,
    xb: number,
    h1: number,
    h3: number,
    o: number,
    threshold: number,
    gelu: boolean,
  ): { kept: number; act: Float32Array } {
    const nm = this.down[l]!,
      mask = this.maskPtr[l],
      act = this.actPtr[l];
    const kept = K.gateGroups!(h1, nm.cols, gelu, threshold, act, mask);
    K.matvecMasked!(w3, xb, h3, mask);
    // a dropped group's up rows are 0, so its h is act(gate) * 0 = 0, as the neuron-major kernel requires
    if (gelu) K.geglu(h1, h3, nm.cols);
    else K.swiglu(h1, h3, nm.cols);
    K.matvecNeuronMajor!(nm, h1, o, mask);
    return { kept, act: K.heap.f32(act, nm.cols) };
  }
}
