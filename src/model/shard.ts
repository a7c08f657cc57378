/**
 * A shard: one WebAssembly memory (wasm32, so at most 4 GiB) with its own
 * kernels, a contiguous range of layers whose weights and KV cache live in
 * that memory, and its own activation buffers. A model too big for one
 * memory is split into several; the forward pass runs them in order and
 * moves the hidden state from one to the next (see Model.forward). Only one
 * shard computes at a time; all shards share one worker pool, whose workers
 * hold a kernel instance in every shard's memory (WasmKernels.createGroup).
 */
import type { Kernels } from "../kernels/types.js";
import type { ModelConfig } from "./config.js";

/** Heap byte offsets of a shard's activation buffers, [batchSize][...] each. */
export interface Buffers {
  /** the residual stream (hidden state): the only thing that moves between shards */
  x: number;
  xb: number;
  q: number;
  k: number;
  v: number;
  att: number;
  o: number;
  h1: number;
  h3: number;
  /** logits, in the last shard only (empty elsewhere) */
  logits: number;
  /** RoPE tables of the batch's tokens: cos, sin, then the sliding-window layers' cos, sin ([batchSize][ropeDim / 2] each; the last two unused by models without them); written in the first shard, copied to the others */
  rope: number;
}

/** Floats of each buffer for a batch of B tokens. */
function bufferFloats(c: ModelConfig, B: number, last: boolean): Buffers {
  const qDim = c.nHeads * c.headDim,
    kvDim = c.nKvHeads * c.headDim;
  return {
    x: B * c.dim,
    xb: B * c.dim,
    q: B * qDim,
    k: B * kvDim,
    v: B * kvDim,
    att: B * qDim,
    o: B * c.dim,
    h1: B * c.ffnDim,
    h3: B * c.ffnDim,
    logits: last ? B * c.vocabSize : 0,
    rope: 2 * B * c.ropeDim,
  };
}

/** Heap bytes of one shard's activation buffers (with alignment slack), for planning. */
export function activationBytes(c: ModelConfig, B: number, last: boolean): number {
  return Object.values(bufferFloats(c, B, last)).reduce((s, n) => s + n * 4 + 64, 0);
}

export class Shard {
  readonly b: Buffers;
  // f32 view over the heap, refreshed if the memory grows
  private buf: ArrayBufferLike | null = null;
  private f32!: Float32Array;

  /** Shard `index` of the model, computing layers [first, end) with `kernels` over their heap. */
  constructor(
    readonly index: number,
    readonly kernels: Kernels,
    readonly first: number,
    readonly end: number,
    c: ModelConfig,
    batchSize: number,
    last: boolean,
  ) {
    const floats = bufferFloats(c, batchSize, last);
    const b = {} as Buffers;
    for (const key of Object.keys(floats) as (keyof Buffers)[]) b[key] = kernels.heap.alloc(floats[key] * 4);
    this.b = b;
  }

  /** f32 view of the whole memory. */
  views(): Float32Array {
    const b = this.kernels.heap.memory.buffer;
    if (b !== this.buf) {
      this.buf = b;
      this.f32 = new Float32Array(b);
    }
    return this.f32;
  }

  /** Copy n floats at byte offset `from` in this shard to byte offset `to` in shard `dst`. */
  copyTo(dst: Shard, from: number, to: number, n: number): void {
    dst.views().set(this.views().subarray(from / 4, from / 4 + n), to / 4);
  }
}
