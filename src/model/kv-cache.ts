/**
 * The KV cache: per layer, keys and values of every position so far,
 * [slots][kvHeads][ctx][headDim] each, allocated once in the heap of the shard
 * that holds the layer. Head-major: attention reads each KV head's positions
 * as one run of memory, which the hardware prefetchers follow; with a row of
 * all heads per position it read a slice of every row (kvDim apart), and on a
 * 7B model at position 45, between matrix products that evict the caches, that
 * took 9.3 ms per token where the runs take 4.8-5.8 (bench/attn-layout.ts). A slot is one sequence's cache: the sequences a batch
 * decodes together each hold one (src/generate/batch.ts); Model.forward
 * runs in slot 0 unless told otherwise. Elements are IEEE half by
 * default (as llama.cpp's default cache: half the memory and half the bytes
 * attention reads per token), rounded to nearest even from the f32 the
 * projections produce; "f32" keeps them exact.
 */
import { kvBytes, type Heap, type Kernels, type KVStrides, type KVType } from "../kernels/types.js";

export class KVCache {
  /** per layer, byte offset of slot 0's keys / values (slot s is s × slotBytes further) */
  readonly keyCache: number[] = [];
  readonly valueCache: number[] = [];
  /** bytes of one slot's keys (or values) in one layer: ctx rows */
  readonly slotBytes: number;
  /** bytes of one element (2 for f16, 4 for f32) */
  readonly elemBytes: number;
  /** bytes from one position to the next within a head (headDim elements), and from one KV head to the next (ctx positions) */
  readonly posBytes: number;
  readonly headBytes: number;
  /** the same layout in elements, for the attention kernels */
  readonly strides: KVStrides;
  /**
   * Positions written per layer in slot 0 — lets tests check that attention
   * wrote every layer's cache for every token, whatever the skip policy did.
   */
  readonly written: Int32Array;
  /** the same per slot: writtenBy[slot][layer] */
  readonly writtenBy: Int32Array[];

  readonly nLayers: number;

  /** `heaps[l]`: the heap layer l's cache goes in; `slots`: sequences it holds (each ctx positions); kvDim = KV heads × headDim. */
  constructor(
    heaps: readonly Heap[],
    readonly ctx: number,
    readonly kvDim: number,
    readonly type: KVType = "f16",
    readonly slots = 1,
    readonly headDim = kvDim,
  ) {
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`KV cache slots must be an integer ≥ 1, got ${slots}`);
    if (!(Number.isInteger(headDim) && headDim > 0 && kvDim % headDim === 0))
      throw new RangeError(`KV cache: head size ${headDim} does not divide kvDim ${kvDim}`);
    this.nLayers = heaps.length;
    this.elemBytes = kvBytes(type);
    this.posBytes = headDim * this.elemBytes;
    this.headBytes = ctx * this.posBytes;
    this.strides = { pos: headDim, head: ctx * headDim };
    this.slotBytes = (kvDim / headDim) * this.headBytes;
    for (let l = 0; l < this.nLayers; l++) {
      this.keyCache.push(heaps[l].alloc(slots * this.slotBytes));
      this.valueCache.push(heaps[l].alloc(slots * this.slotBytes));
    }
    this.writtenBy = Array.from({ length: slots }, () => new Int32Array(this.nLayers));
    this.written = this.writtenBy[0];
  }

  /** Bytes of one layer's cache (K and V) for `slots` sequences. */
  static layerBytes(ctx: number, kvDim: number, type: KVType = "f16", slots = 1): number {
    return slots * ctx * kvDim * kvBytes(type) * 2;
  }

  /** Bytes of the cache (both K and V, all layers, all slots). */
  get bytes(): number {
    return this.nLayers * KVCache.layerBytes(this.ctx, this.kvDim, this.type, this.slots);
  }

  /** Byte offsets of `slot`'s keys and values in `layer`. */
  keys(layer: number, slot: number): number {
    return this.keyCache[layer] + slot * this.slotBytes;
  }
  values(layer: number, slot: number): number {
    return this.valueCache[layer] + slot * this.slotBytes;
  }

  /**
   * Store one position's key and value of `layer` in `slot`: kvDim floats each
   * at float indices k and v of `src` (a view of the heap), head by head into
   * their runs, converted to the cache type (halves by `kernels`, which own that heap).
   */
  write(layer: number, pos: number, src: Float32Array, k: number, v: number, slot: number, kernels: Pick<Kernels, "toHalves">): void {
    const hd = this.headDim,
      heads = this.kvDim / hd;
    const kb = this.keys(layer, slot) + pos * this.posBytes,
      vb = this.values(layer, slot) + pos * this.posBytes;
    if (this.type === "f32") {
      for (let j = 0; j < heads; j++) {
        src.copyWithin((kb + j * this.headBytes) / 4, k + j * hd, k + (j + 1) * hd);
        src.copyWithin((vb + j * this.headBytes) / 4, v + j * hd, v + (j + 1) * hd);
      }
      return;
    }
    kernels.toHalves(k * 4, kb, hd, heads, this.headBytes);
    kernels.toHalves(v * 4, vb, hd, heads, this.headBytes);
  }

  /** Mark `n` positions from `pos` written in `layer` of `slot`. */
  mark(layer: number, pos: number, n: number, slot = 0): void {
    const w = this.writtenBy[slot];
    w[layer] = Math.max(w[layer], pos + n);
  }

  /** Forget everything of `slot` from `pos` on (a new sequence, or a rewind). */
  truncate(pos: number, slot = 0): void {
    const w = this.writtenBy[slot];
    for (let l = 0; l < this.nLayers; l++) w[l] = Math.min(w[l], pos);
  }
}
