import type { GGMLType } from "../quant/types.js";

/** Element type of the KV cache: IEEE half (default, as llama.cpp) or f32. */
export type KVType = "f16" | "f32";

/** Bytes of one KV cache element of `type`. */
/**
 * Where a KV cache's elements are, in elements from its base: KV head j's position t at j * head + t * pos. The
 * model's cache is head-major (pos = headDim, head = ctx * headDim: each head's positions in one run, which attention
 * reads as one stream; src/model/kv-cache.ts); position-major rows (pos = kvDim, head = headDim) are the default.
 */
export interface KVStrides {
  pos: number;
  head: number;
}

export function kvBytes(type: KVType): number {
  if (type === "f16") return 2;
  if (type === "f32") return 4;
  throw new Error(`KV cache type "${type}" is not supported; supported: f16, f32`);
}

/**
 * A weight matrix living in the kernels' memory, row-major as ggml stores it:
 * `rows` output features, each a row of `cols` input values of `type`
 * (GGUF dims are [cols, rows]).
 */
export interface WeightMatrix {
  /** byte offset in the kernels' memory */
  ptr: number;
  type: GGMLType;
  rows: number;
  cols: number;
  /** bytes per row */
  rowBytes: number;
  /**
   * Set by Kernels.prepare when the kernels rearranged the bytes into their
   * own layout: from then on only that Kernels object may read the matrix
   * (rows through getRow).
   */
  packed?: boolean;
}

/**
 * The one memory the engine computes in (a WebAssembly.Memory, shared with
 * worker threads). Everything the forward pass touches per token — weights,
 * activations, KV cache — is allocated here once, at load time.
 */
export interface Heap {
  readonly memory: WebAssembly.Memory;
  /** Allocate `bytes` (aligned to `align`, default 64) and return the byte offset. */
  alloc(bytes: number, align?: number): number;
  /** Float32 view of `n` floats at byte offset `ptr` (refresh after the memory grows). */
  f32(ptr: number, n: number): Float32Array;
  /** Byte view of `n` bytes at `ptr`. */
  u8(ptr: number, n: number): Uint8Array;
  /** Bytes handed out so far (the next allocation starts at or above this). */
  readonly used: number;
  /**
   * Touch every page handed out from byte `from` (default: the bottom) up, so that memory nothing has written yet
   * (the KV cache, activations) is mapped now, at load, and not by the first prompt (with huge pages each first touch
   * zeroes 2 MiB). Pages already written (the weights) need no touch: skipping them saved 0.65 s of a 7B's load.
   */
  prefault(from?: number): void;
}

/** A down projection's neuron-major copy (ffn-sparse realized; see assembly/neuron-major.ts): read by groups of 4 neurons. */
export interface NeuronMajorMatrix {
  /** heap byte offset of the copy */
  ptr: number;
  /** the ggml type it was made from (Q4_0 or Q4_1) */
  type: GGMLType;
  /** outputs (the model dimension) */
  rows: number;
  /** neurons (the FFN dimension) */
  cols: number;
}

/**
 * Matrix products, the only place weights are read. Activations are f32
 * buffers in the heap; how a kernel treats them inside (e.g. quantizing to
 * 8 bits per block) is its own business.
 */
export interface Kernels {
  readonly name: string;
  readonly threads: number;
  readonly heap: Heap;
  /** out[r] = dot(W[r, :], x) for r < w.rows. x: w.cols floats, out: w.rows floats. */
  matvec(w: WeightMatrix, x: number, out: number): void;
  /**
   * Several matrices that share one input, in one dispatch (Q/K/V; gate/up).
   * outs[i] receives ws[i] x; with n > 1 tokens, as matmul (n rows of x, n of each out).
   */
  matvecMulti(ws: readonly WeightMatrix[], x: number, outs: readonly number[], n?: number): void;
  /**
   * Batched: for t < n, out[t*w.rows + r] = dot(W[r,:], x[t*w.cols : (t+1)*w.cols]).
   */
  matmul(w: WeightMatrix, x: number, out: number, n: number): void;
  /**
   * Optional load-time hook, called once per matrix after its bytes are in
   * the heap: the kernels may rearrange them in place (same byte count) into
   * a faster layout and mark the matrix `packed`. Idempotent.
   */
  prepare?(w: WeightMatrix): void;
  /** Optional: prepare for several matrices at once (the same result; faster where the kernels use several threads). */
  prepareAll?(ws: readonly WeightMatrix[]): void;
  /**
   * Grouped-query attention of one query (f32, heap byte offsets) at
   * position `pos` over KV cache positions [0, pos] of kvDim elements each,
   * of type `kvType` (IEEE half or f32), laid out as `strides` says
   * (default: one row of kvDim per position): the same result as
   * src/model/ops.ts attention over the cache's values.
   */
  attention(
    out: number,
    q: number,
    keys: number,
    values: number,
    kvDim: number,
    pos: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
    kvType: KVType,
    strides?: KVStrides,
  ): void;
  /** x[i] = silu(x[i]) * y[i] for i < n (f32 at heap byte offsets), as src/model/ops.ts swiglu. */
  swiglu(x: number, y: number, n: number): void;
  /** x[i] = gelu(x[i]) * y[i] (tanh approximation, Gemma), as src/model/ops.ts geglu. */
  geglu(x: number, y: number, n: number): void;
  /**
   * n floats at byte offset src as IEEE halves at dst (2-aligned), rounded to nearest even as src/quant/f16.ts f32ToF16;
   * `rows` such rows (contiguous at src), row r's halves at dst + r * dstStride bytes.
   */
  toHalves(src: number, dst: number, n: number, rows?: number, dstStride?: number): void;
  /** `rows` contiguous rows of n floats at x, RMS-normalized and times the weight w (n floats) into out (may be x), as ops.ts rmsnorm. */
  rmsnorm(out: number, x: number, w: number, n: number, rows: number, eps: number): void;
  /** dst[i] += src[i] for i < n floats. */
  addInto(dst: number, src: number, n: number): void;
  /**
   * RoPE in place over nHeads heads of headDim floats at v (their first ropeDim values), with the token's tables at
   * cos / sin (ropeDim / 2 floats each); pairs (2i, 2i + 1), or (i, i + ropeDim / 2) with neox: as ops.ts rope.
   */
  rope(v: number, nHeads: number, headDim: number, ropeDim: number, neox: boolean, cos: number, sin: number): void;
  /**
   * Optional (ffn-sparse realized): the neuron-major copy of a prepared down projection, or undefined where these
   * kernels have none for its type or shape (packed Q4_0/Q4_1, rows and cols multiples of 32). `order`: a permutation
   * of the neurons inside each block of 32 (ffn-sparse's neuron order): position i of the copy holds neuron order[i].
   */
  neuronMajor?(w: WeightMatrix, order?: Int32Array): NeuronMajorMatrix | undefined;
  /**
   * Optional, with neuronMajor: a copy of a prepared matrix (of the kind matvecMasked takes) whose row r is row
   * order[r] of w (ffn-sparse's up projection along a neuron order).
   */
  permutedRows?(w: WeightMatrix, order: Int32Array): WeightMatrix;
  /**
   * Optional, with neuronMajor: out = W x for the 4-row groups whose byte in `mask` (heap offset, one per group) is
   * nonzero, 0 for the others, one token. For the matrices neuronMajor accepts the shape of (packed Q4_0/Q4_1).
   */
  matvecMasked?(w: WeightMatrix, x: number, out: number, mask: number): void;
  /**
   * Optional (ffn-sparse realized): act[i] = |act(g[i])| for n gate values at g (SiLU, or GELU when `gelu`), and one
   * mask byte per group of 4: 1 where the group's mean is at least `threshold`. Returns the neurons kept.
   */
  gateGroups?(g: number, n: number, gelu: boolean, threshold: number, act: number, mask: number): number;
  /** Optional: out = W h, one token, over the groups of 4 neurons `mask` keeps; h of the dropped groups must be 0. */
  matvecNeuronMajor?(w: NeuronMajorMatrix, h: number, out: number, mask: number): void;
  /** Row `row` of `w` as f32 at byte offset `dst` (w.cols floats), whatever its layout. */
  getRow(w: WeightMatrix, row: number, dst: number): void;
  /** Release worker threads. */
  dispose(): Promise<void>;
}
