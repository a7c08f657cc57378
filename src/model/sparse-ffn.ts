/**
 * The forward pass's side of ffn-sparse (src/skip/sparse.ts): which FFN
 * neurons a row keeps, decided on the gate projection before the activation
 * runs, and the dropped neurons zeroed after it.
 */
import type { Kernels, NeuronMajorMatrix, WeightMatrix } from "../kernels/types.js";
import type { NeuronGroups } from "../skip/policy.js";
import { isWithinBlocks } from "../kernels/permutation.js";

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

/** Groups of 4 neurons: the granularity the realized kernels skip (kernels/assembly/neuron-major.ts). */
export const REALIZED_GROUP = 4;

/** One layer's copies for groups along one order: the neuron-major down projection and, for an order, the up rows in it. */
interface RealizedLayer {
  down: NeuronMajorMatrix;
  /** the up projection with its rows along the order (the file's own packed matrix for file order) */
  up: WeightMatrix;
}

/**
 * ffn-sparse with groups of 4 neurons, computed by kernels that read only the
 * kept groups: the up projection's kept 4-row groups and a neuron-major copy
 * of the down projection (built here on first use; it adds the down
 * projection's bytes again). Groups are taken in file order, or along a
 * neuron order that stays inside the down projection's 32-neuron blocks
 * (src/skip/neuron-order.ts): then the copies are made along it (the up rows
 * too, which adds the up projection's bytes), and the gate's values are
 * gathered into it before the group mask. One token at a time (decode);
 * layers whose matrices the kernels cannot do this for (not Q4_0/Q4_1, shapes
 * not multiples of 32) have no copies and run the masked form.
 */
export class RealizedSparseFFN {
  /** per layer: the copies for each order seen (undefined key: file order; null: the kernels cannot) */
  private readonly copies: Map<Int32Array | undefined, RealizedLayer | null>[];
  /** per layer: the group mask's heap offset in that layer's heap (ffnDim / 4 bytes), and |act(gate)|'s (ffnDim floats) */
  private readonly maskPtr: number[] = [];
  private readonly actPtr: number[] = [];
  /** the gate's values along an order, gathered here before they go back to the heap */
  private gathered = new Float32Array(0);
  /** bytes the copies and masks take so far */
  bytes = 0;

  constructor(
    private readonly weights: readonly { w2: WeightMatrix; w3: WeightMatrix }[],
    private readonly kernelsOf: (l: number) => Kernels,
  ) {
    this.copies = weights.map(() => new Map());
  }

  /** Layer l's copies for groups along `order` (undefined: file order), built on first use; undefined where the kernels cannot. */
  private layer(l: number, order: Int32Array | undefined): RealizedLayer | undefined {
    const have = this.copies[l].get(order);
    if (have !== undefined) return have ?? undefined;
    const K = this.kernelsOf(l),
      L = this.weights[l];
    let made: RealizedLayer | null = null;
    const fits = K.matvecMasked && K.matvecNeuronMajor && K.gateGroups && L.w3.packed && L.w3.type === L.w2.type;
    const orderFits = order === undefined || (K.permutedRows !== undefined && isWithinBlocks(order, 32) && order.length === L.w3.rows);
    const down = fits && orderFits ? K.neuronMajor?.(L.w2, order) : undefined;
    if (down) {
      const up = order ? K.permutedRows!(L.w3, order) : L.w3;
      if (this.maskPtr[l] === undefined) {
        this.maskPtr[l] = K.heap.alloc(down.cols / REALIZED_GROUP, 16);
        this.actPtr[l] = K.heap.alloc(down.cols * 4, 16);
        this.bytes += down.cols / REALIZED_GROUP + down.cols * 4;
      }
      this.bytes += L.w2.rowBytes * L.w2.rows + (order ? L.w3.rowBytes * L.w3.rows : 0);
      made = { down, up };
    }
    this.copies[l].set(order, made);
    return made ?? undefined;
  }

  /** True when layer l runs realized for groups along `order` (undefined: file order); builds the copies on first use. */
  has(l: number, order?: Int32Array): boolean {
    return this.layer(l, order) !== undefined;
  }

  /** Build the file-order copies of every layer; returns how many layers run realized. */
  buildAll(): number {
    return this.weights.filter((_, l) => this.has(l)).length;
  }

  /**
   * The FFN of one token in layer l after its gate (at byte offset h1, in file order), for groups along `order`: the
   * group mask on `threshold` (in wasm, by dropGroups' rule), the up projection of the kept groups into h3, the
   * activation, and the down projection of the kept groups into o. Returns the neurons kept and |act(gate)| of every
   * neuron, along the order (a view of the heap, valid until the next call for this layer).
   */
  run(
    K: Kernels,
    l: number,
    order: Int32Array | undefined,
    xb: number,
    h1: number,
    h3: number,
    o: number,
    threshold: number,
    gelu: boolean,
  ): { kept: number; act: Float32Array } {
    const R = this.layer(l, order)!,
      nm = R.down,
      mask = this.maskPtr[l],
      act = this.actPtr[l];
    const n = nm.cols;
    if (order) {
      // the gate was computed in file order; its values move to their positions along the order
      if (this.gathered.length < n) this.gathered = new Float32Array(n);
      const g = K.heap.f32(h1, n),
        t = this.gathered;
      for (let i = 0; i < n; i++) t[i] = g[order[i]];
      g.set(t.subarray(0, n));
    }
    const kept = K.gateGroups!(h1, n, gelu, threshold, act, mask);
    K.matvecMasked!(R.up, xb, h3, mask);
    // a dropped group's up rows are 0, so its h is act(gate) * 0 = 0, as the neuron-major kernel requires
    if (gelu) K.geglu(h1, h3, n);
    else K.swiglu(h1, h3, n);
    K.matvecNeuronMajor!(nm, h1, o, mask);
    return { kept, act: K.heap.f32(act, n) };
  }
}
