/**
 * The KV cache: per layer, keys and values of every position so far, f32,
 * [ctx][kvDim] each, allocated once in the heap of the shard that holds the layer.
 */
import type { Heap } from "../kernels/types.js";

export class KVCache {
  readonly keyCache: number[] = [];
  readonly valueCache: number[] = [];
  /**
   * Positions written per layer — lets tests check that attention wrote every
   * layer's cache for every token, whatever the skip policy did.
   */
  readonly written: Int32Array;

  readonly nLayers: number;

  /** `heaps[l]`: the heap layer l's cache goes in. */
  constructor(heaps: readonly Heap[], readonly ctx: number, readonly kvDim: number) {
    this.nLayers = heaps.length;
    for (let l = 0; l < this.nLayers; l++) {
      const heap = heaps[l];
      this.keyCache.push(heap.alloc(ctx * kvDim * 4));
      this.valueCache.push(heap.alloc(ctx * kvDim * 4));
    }
    this.written = new Int32Array(this.nLayers);
  }

  /** Bytes of one layer's cache (K and V). */
  static layerBytes(ctx: number, kvDim: number): number {
    return ctx * kvDim * 4 * 2;
  }

  /** Bytes of the cache (both K and V, all layers). */
  get bytes(): number {
    return this.nLayers * KVCache.layerBytes(this.ctx, this.kvDim);
  }

  /** Mark `n` positions from `pos` written in `layer`. */
  mark(layer: number, pos: number, n: number): void {
    this.written[layer] = Math.max(this.written[layer], pos + n);
  }

  /** Forget everything from `pos` on (a new sequence, or a rewind). */
  truncate(pos: number): void {
    for (let l = 0; l < this.nLayers; l++) this.written[l] = Math.min(this.written[l], pos);
  }
}
