/**
 * The forward pass's side of ffn-sparse-rows (src/skip/sparse-rows.ts): per
 * layer, copies of the FFN in which every neuron's weights are one
 * contiguous run, so a token that keeps half its neurons reads half their
 * bytes (kernels: src/kernels/assembly/neuron-rows.ts).
 *
 *   up:   the file's rows in their plain ggml layout (the loaded matrix is
 *         packed four rows together for the dense kernels), copied byte for
 *         byte; a Q5_0 matrix the loader widened to Q8_0 is widened alike.
 *   down: one row per neuron (its column of W2), requantized in blocks of 32
 *         outputs as Q4_1 values (d·q + m, f16 d and m) in the kernel's
 *         layout. The file's blocks run along the neurons, so this is a
 *         second rounding, which the quality measurements include.
 *
 * The gate runs as loaded (it is read whole, to choose the neurons). The
 * copies add the up and down projections' bytes again to the model's memory.
 */
import type { Kernels, NeuronRowsMatrix, WeightMatrix } from "../kernels/types.js";
import { dequantizeRow } from "../quant/dequant.js";
import { F16_TABLE, f32ToF16 } from "../quant/f16.js";
import { GGMLType, rowBytes, typeInfo } from "../quant/types.js";
import { widenQ5_0InPlace } from "../quant/widen.js";
import type { LayerWeights, TensorSource } from "./weights.js";

/** One layer's copies. */
export interface NeuronRowsLayer {
  /** the up projection, plain layout */
  up: WeightMatrix;
  /** the down projection, one row per neuron */
  down: NeuronRowsMatrix;
}

/** Smallest normal f16: a scale below it would be a subnormal, which the kernel's conversion does not take. */
const F16_MIN_NORMAL = 6.103515625e-5;

/**
 * Quantize the n = 32·nb values x[at..at+n) as one neuron row (see assembly/neuron-rows.ts): nibbles of block b at
 * dst[o + 16b..], f16 d at o + 16nb + 2b, f16 m at o + 16nb + 2nb4 + 2b. m is the block's minimum and d its range
 * over 15, as Q4_1, except that neither is left subnormal: m below the smallest normal f16 becomes 0 and d rises to
 * it (the error stays within one step).
 */
export function quantizeNeuronRow(x: Float32Array, at: number, nb: number, dst: Uint8Array, o: number): void {
  const nb4 = (nb + 3) & ~3;
  const dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let b = 0; b < nb; b++) {
    let lo = Infinity,
      hi = -Infinity;
    for (let j = 0; j < 32; j++) {
      const v = x[at + 32 * b + j];
      if (!Number.isFinite(v)) throw new Error(`quantizeNeuronRow: value ${v} at ${at + 32 * b + j} is not finite`);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    let mBits = f32ToF16(lo);
    if (Math.abs(F16_TABLE[mBits]) < F16_MIN_NORMAL) mBits = 0;
    let dBits = f32ToF16((hi - F16_TABLE[mBits]) / 15);
    if (F16_TABLE[dBits] < F16_MIN_NORMAL) dBits = f32ToF16(F16_MIN_NORMAL);
    const m = F16_TABLE[mBits],
      inv = 1 / F16_TABLE[dBits];
    dv.setUint16(o + 16 * nb + 2 * b, dBits, true);
    dv.setUint16(o + 16 * nb + 2 * nb4 + 2 * b, mBits, true);
    const q = (v: number) => Math.max(0, Math.min(15, Math.round((v - m) * inv)));
    for (let t = 0; t < 16; t++) dst[o + 16 * b + t] = q(x[at + 32 * b + t]) | (q(x[at + 32 * b + t + 16]) << 4);
  }
}

/** Value j of neuron row r (the layout above), for tests and the reference. */
export function neuronRowValue(bytes: Uint8Array, o: number, nb: number, j: number): number {
  const nb4 = (nb + 3) & ~3,
    b = j >> 5,
    t = j & 31;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const d = F16_TABLE[dv.getUint16(o + 16 * nb + 2 * b, true)],
    m = F16_TABLE[dv.getUint16(o + 16 * nb + 2 * nb4 + 2 * b, true)];
  const byte = bytes[o + 16 * b + (t & 15)];
  return d * (t < 16 ? byte & 15 : byte >> 4) + m;
}

/** Whether a layer's up and down projections can have neuron-row copies in these kernels. */
export function neuronRowsFit(K: Kernels, L: LayerWeights): boolean {
  const legacy = [GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.Q8_0].includes(L.w3.type);
  return !!K.gatherDots && !!K.neuronRowsDown && legacy && L.w2.rows % 32 === 0 && L.w3.cols % 32 === 0;
}

export class NeuronRowsFFN {
  private readonly copies: (NeuronRowsLayer | null | undefined)[];
  private source: TensorSource | undefined;
  /** heap bytes the copies take so far */
  bytes = 0;

  constructor(
    private readonly layers: readonly LayerWeights[],
    private readonly kernelsOf: (l: number) => Kernels,
    private readonly open: (() => TensorSource) | undefined,
  ) {
    this.copies = layers.map(() => undefined);
  }

  /** Layer l's copies, built on first use; undefined where the kernels have none for its types (it then runs masked). */
  layer(l: number): NeuronRowsLayer | undefined {
    const have = this.copies[l];
    if (have !== undefined) return have ?? undefined;
    const K = this.kernelsOf(l),
      L = this.layers[l];
    if (!neuronRowsFit(K, L)) {
      this.copies[l] = null;
      return undefined;
    }
    if (!this.open) throw new Error("ffn-sparse-rows: this model was not loaded from a file, so its FFN rows cannot be copied");
    this.source ??= this.open();
    const made = {
      up: this.plainRows(K, this.source, `blk.${l}.ffn_up.weight`, L.w3),
      down: this.neuronRows(K, this.source, `blk.${l}.ffn_down.weight`, L.w2),
    };
    this.copies[l] = made;
    return made;
  }

  /** The file's matrix `name` (loaded as w) in its plain layout, in w's type. */
  private plainRows(K: Kernels, src: TensorSource, name: string, w: WeightMatrix): WeightMatrix {
    const t = src.type(name),
      fileRow = rowBytes(t, w.cols);
    const widen = t === GGMLType.Q5_0 && w.type === GGMLType.Q8_0;
    if (t !== w.type && !widen)
      throw new Error(`ffn-sparse-rows: ${name} is ${typeInfo(t).name} in the file but ${typeInfo(w.type).name} in memory`);
    const ptr = K.heap.alloc(w.rowBytes * w.rows);
    const out = K.heap.u8(ptr, w.rowBytes * w.rows);
    if (!widen) src.readInto(name, out);
    else {
      const all = new Uint8Array(fileRow * w.rows);
      src.readInto(name, all);
      for (let r = 0; r < w.rows; r++) {
        // the Q5_0 row at the end of its Q8_0-sized slot, widened in place (as the loader does)
        const slot = out.subarray(r * w.rowBytes, (r + 1) * w.rowBytes);
        slot.set(all.subarray(r * fileRow, (r + 1) * fileRow), w.rowBytes - fileRow);
        widenQ5_0InPlace(slot, w.cols / 32);
      }
    }
    this.bytes += w.rowBytes * w.rows;
    return { ptr, type: w.type, rows: w.rows, cols: w.cols, rowBytes: w.rowBytes };
  }

  /** The neuron-row copy of the file's down projection `name` (loaded as w: dim rows, one column per neuron). */
  private neuronRows(K: Kernels, src: TensorSource, name: string, w: WeightMatrix): NeuronRowsMatrix {
    const t = src.type(name),
      fileRow = rowBytes(t, w.cols);
    const dim = w.rows,
      F = w.cols,
      nb = dim / 32;
    const all = new Uint8Array(fileRow * dim);
    src.readInto(name, all);
    // transpose through f32: column i of W2 becomes row i
    const wt = new Float32Array(F * dim),
      row = new Float32Array(F);
    for (let r = 0; r < dim; r++) {
      dequantizeRow(t, all, r * fileRow, row, 0, F);
      for (let i = 0; i < F; i++) wt[i * dim + r] = row[i];
    }
    const rb = K.neuronRowBytes!(dim);
    const ptr = K.heap.alloc(rb * F, 64);
    const out = K.heap.u8(ptr, rb * F);
    for (let i = 0; i < F; i++) quantizeNeuronRow(wt, i * dim, nb, out, i * rb);
    this.bytes += rb * F;
    return { ptr, dim, neurons: F, rowBytes: rb };
  }
}
