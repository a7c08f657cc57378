/**
 * The forward pass's side of ffn-prune (src/skip/prune.ts): per layer and
 * list of kept neurons, a compact copy of the FFN without the other neurons,
 * built on first use in the layer's heap and then run by the ordinary dense
 * kernels, so every byte the pruned neurons held is a byte not read.
 *
 *   gate, up: the kept rows, copied byte for byte from the model file (a
 *             Q5_0 matrix the loader widened to Q8_0 is widened alike);
 *   down:     the kept columns. Its quantization blocks run along the
 *             neurons, so a block's neurons cannot be dropped from it: the
 *             rows are dequantized, the kept columns gathered and the result
 *             requantized to Q4_1 (F32 and F16 downs stay exact in their type).
 *
 * The copies add (kept ÷ ffnDim) of the FFN's bytes to the model's memory.
 * The requantized down projection carries a second rounding, which the
 * quality measurements include (results/method/prune/).
 */
import type { Kernels, WeightMatrix } from "../kernels/types.js";
import { dequantizeRow } from "../quant/dequant.js";
import { f32ToF16 } from "../quant/f16.js";
import { quantizeRowQ4_1 } from "../quant/quantize.js";
import { GGMLType, rowBytes, typeInfo } from "../quant/types.js";
import { widenQ5_0InPlace } from "../quant/widen.js";
import type { LayerWeights, TensorSource } from "./weights.js";

/** One layer's compact FFN and the share of the layer's FFN weight bytes it does not hold. */
export interface CompactLayer {
  w1: WeightMatrix;
  w2: WeightMatrix;
  w3: WeightMatrix;
  saved: number;
}

const bytesOf = (w: WeightMatrix) => w.rows * w.rowBytes;

export class CompactFFN {
  /** per layer: the copy for each kept list (lists are shared per process, see neuron-keep.ts) */
  private readonly copies: Map<Int32Array, CompactLayer>[];
  private source: TensorSource | undefined;
  /** heap bytes the copies take so far */
  bytes = 0;

  constructor(
    private readonly layers: readonly LayerWeights[],
    private readonly kernelsOf: (l: number) => Kernels,
    private readonly open: (() => TensorSource) | undefined,
  ) {
    this.copies = layers.map(() => new Map());
  }

  /** Layer l's compact FFN keeping `keep` (sorted neuron numbers), built on first use. */
  layer(l: number, keep: Int32Array): CompactLayer {
    const have = this.copies[l].get(keep);
    if (have) return have;
    if (!this.open) throw new Error("ffn-prune: this model was not loaded from a file, so its FFN rows cannot be copied");
    this.source ??= this.open();
    const src = this.source,
      K = this.kernelsOf(l),
      L = this.layers[l];
    const F = L.w1.rows;
    if (keep.length === 0 || keep.length % 32 !== 0 || keep[keep.length - 1] >= F)
      throw new Error(`ffn-prune: layer ${l} keeps ${keep.length} neurons; need a multiple of 32 of the FFN's ${F}`);
    const name = (t: string) => `blk.${l}.${t}.weight`;
    const w1 = this.rowsOf(K, src, name("ffn_gate"), L.w1, keep),
      w3 = this.rowsOf(K, src, name("ffn_up"), L.w3, keep),
      w2 = this.columnsOf(K, src, name("ffn_down"), L.w2, keep);
    const made = { w1, w2, w3, saved: 1 - (bytesOf(w1) + bytesOf(w2) + bytesOf(w3)) / (bytesOf(L.w1) + bytesOf(L.w2) + bytesOf(L.w3)) };
    this.copies[l].set(keep, made);
    return made;
  }

  /** Rows `keep` of the file's matrix `name` (loaded as w) as a new matrix in K's heap, in w's type, prepared. */
  private rowsOf(K: Kernels, src: TensorSource, name: string, w: WeightMatrix, keep: Int32Array): WeightMatrix {
    const t = src.type(name),
      fileRow = rowBytes(t, w.cols);
    const widen = t === GGMLType.Q5_0 && w.type === GGMLType.Q8_0;
    if (t !== w.type && !widen)
      throw new Error(`ffn-prune: ${name} is ${typeInfo(t).name} in the file but ${typeInfo(w.type).name} in memory`);
    const all = new Uint8Array(fileRow * w.rows);
    src.readInto(name, all);
    const ptr = K.heap.alloc(w.rowBytes * keep.length);
    const out = K.heap.u8(ptr, w.rowBytes * keep.length);
    keep.forEach((r, i) => {
      const row = all.subarray(r * fileRow, (r + 1) * fileRow);
      if (!widen) out.set(row, i * w.rowBytes);
      else {
        // the Q5_0 row at the end of its Q8_0-sized slot, widened in place (as the loader does)
        const slot = out.subarray(i * w.rowBytes, (i + 1) * w.rowBytes);
        slot.set(row, w.rowBytes - fileRow);
        widenQ5_0InPlace(slot, w.cols / 32);
      }
    });
    return this.prepared(K, { ptr, type: w.type, rows: keep.length, cols: w.cols, rowBytes: w.rowBytes });
  }

  /** Columns `keep` of the file's down projection `name` (loaded as w): Q4_1, or F32/F16 as in the file. */
  private columnsOf(K: Kernels, src: TensorSource, name: string, w: WeightMatrix, keep: Int32Array): WeightMatrix {
    const t = src.type(name),
      fileRow = rowBytes(t, w.cols),
      n = keep.length;
    const all = new Uint8Array(fileRow * w.rows);
    src.readInto(name, all);
    const type = compactDownType(t);
    const rb = rowBytes(type, n);
    const ptr = K.heap.alloc(rb * w.rows);
    const out = K.heap.u8(ptr, rb * w.rows);
    const row = new Float32Array(w.cols),
      kept = new Float32Array(n);
    const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let r = 0; r < w.rows; r++) {
      dequantizeRow(t, all, r * fileRow, row, 0, w.cols);
      for (let i = 0; i < n; i++) kept[i] = row[keep[i]];
      if (type === GGMLType.Q4_1) quantizeRowQ4_1(kept, 0, n, out, r * rb);
      else if (type === GGMLType.F32) for (let i = 0; i < n; i++) dv.setFloat32(r * rb + 4 * i, kept[i], true);
      else for (let i = 0; i < n; i++) dv.setUint16(r * rb + 2 * i, f32ToF16(kept[i]), true);
    }
    return this.prepared(K, { ptr, type, rows: w.rows, cols: n, rowBytes: rb });
  }

  private prepared(K: Kernels, w: WeightMatrix): WeightMatrix {
    K.prepare?.(w);
    this.bytes += bytesOf(w);
    return w;
  }
}

/** The type of a compact down projection for a file down projection of type t (see CompactFFN). */
export function compactDownType(t: GGMLType): GGMLType {
  return t === GGMLType.F32 || t === GGMLType.F16 ? t : GGMLType.Q4_1;
}

/** Weight bytes of layer L's FFN, whole, and as a compact copy keeping `kept` neurons (what CompactFFN builds). */
export function compactBytes(L: LayerWeights, kept: number): { whole: number; compact: number } {
  const whole = bytesOf(L.w1) + bytesOf(L.w2) + bytesOf(L.w3);
  if (kept >= L.w1.rows) return { whole, compact: whole };
  const compact = kept * (L.w1.rowBytes + L.w3.rowBytes) + L.w2.rows * rowBytes(compactDownType(L.w2.type), kept);
  return { whole, compact };
}
