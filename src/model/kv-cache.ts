/**
 * The KV cache: per layer, keys and values of every position so far,
 * [ctx][kvDim] each, allocated once in the heap of the shard that holds the
 * layer. Elements are IEEE half by
 * default (as llama.cpp's default cache: half the memory and half the bytes
 * attention reads per token), rounded to nearest even from the f32 the
 * projections produce; "f32" keeps them exact.
 */
import { kvBytes, type Heap, type KVType } from "../kernels/types.js";
import { f32ToF16 } from "../quant/f16.js";

export class KVCache {
  readonly keyCache: number[] = [];
  readonly valueCache: number[] = [];
  /** bytes of one element (2 for f16, 4 for f32) and of one position's row (kvDim elements) */
  readonly elemBytes: number;
  readonly rowBytes: number;
  /**
   * Positions written per layer — lets tests check that attention wrote every
   * layer's cache for every token, whatever the skip policy did.
   */
  readonly written: Int32Array;

  readonly nLayers: number;

  /** `heaps[l]`: the heap layer l's cache goes in. */
  constructor(
    heaps: readonly Heap[],
    readonly ctx: number,
    readonly kvDim: number,
    readonly type: KVType = "f16",
  ) {
    this.nLayers = heaps.length;
    this.elemBytes = kvBytes(type);
    this.rowBytes = kvDim * this.elemBytes;
    for (let l = 0; l < this.nLayers; l++) {
      this.keyCache.push(heaps[l].alloc(ctx * this.rowBytes));
      this.valueCache.push(heaps[l].alloc(ctx * this.rowBytes));
    }
    this.written = new Int32Array(this.nLayers);
  }

  /** Bytes of one layer's cache (K and V). */
  static layerBytes(ctx: number, kvDim: number, type: KVType = "f16"): number {
    return ctx * kvDim * kvBytes(type) * 2;
  }

  /** Bytes of the cache (both K and V, all layers). */
  get bytes(): number {
    return this.nLayers * KVCache.layerBytes(this.ctx, this.kvDim, this.type);
  }

  /**
   * Store one position's key and value of `layer`: kvDim floats each at float
   * indices k and v of `src` (a view of the heap), converted to the cache type.
   */
  write(layer: number, pos: number, src: Float32Array, k: number, v: number): void {
    const n = this.kvDim;
    if (this.type === "f32") {
      src.copyWithin(this.keyCache[layer] / 4 + pos * n, k, k + n);
      src.copyWithin(this.valueCache[layer] / 4 + pos * n, v, v + n);
      return;
    }
    const h = new Uint16Array(src.buffer);
    const kd = (this.keyCache[layer] + pos * this.rowBytes) >>> 1,
      vd = (this.valueCache[layer] + pos * this.rowBytes) >>> 1;
    for (let i = 0; i < n; i++) {
      h[kd + i] = f32ToF16(src[k + i]);
      h[vd + i] = f32ToF16(src[v + i]);
    }
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
