import { kvBytes, type Kernels, type KVStrides, type KVType, type NeuronMajorMatrix, type WeightMatrix } from "./types.js";
import { SharedHeap } from "./heap.js";
import { checkMatrix } from "./reference.js";
import { isWithinBlocks } from "./permutation.js";
import { instantiateKernels, kernelModule, type KernelExports, type KernelVariant } from "./wasm-module.js";
import { KernelPool, type Job } from "./pool.js";
import { GGMLType, typeInfo } from "../quant/types.js";
import { dequantizeRow } from "../quant/dequant.js";

/** Type-id flag the wasm module uses for packed matrices (assembly/packed.ts PACKED). */
const PACKED = 0x100;
/** Job-type flag of a load-time repack (assembly/packed.ts REPACK). */
const REPACK = 0x4000;
/** Type-id flags of ffn-sparse's realized jobs (assembly/neuron-major.ts): a masked up projection, a neuron-major down. */
const MASKED = 0x1000;
const NEURON_MAJOR = 0x2000;
/** The types the realized kernels read (neuron-major.ts). */
const Q4_TYPES: ReadonlySet<number> = new Set([GGMLType.Q4_0, GGMLType.Q4_1]);
/** Type-id flag of an attention job (assembly/attention.ts ATTENTION); bit 0 = f16 cache. */
const ATTENTION = 0x10000;
/** Attention below this many query-key products per call runs on the calling thread alone (see attentionStep). */
const ATTENTION_SPLIT_MACS = 65536;
/** A wait for workers longer than this (ms) after the main thread's own chunks means a worker was preempted. */
const PREEMPTED_MS = 2;
/**
 * After such a wait the main thread runs the next dispatches alone: BACKOFF_MIN of them the first time, twice as
 * many each time the wait comes back before BACKOFF_DISPATCHES (about one decoded token) good dispatches have
 * passed, at most BACKOFF_DISPATCHES. A worker preempted for good is left alone for a token at a time, as before;
 * one descheduled for a few milliseconds costs a few dispatches, not a token (on a quiet host a fixed 200 made 7B
 * decode at 2 threads 1.15x slower than no back-off: results/bench/backoff-s15.md). FFNSKIP_POOL_BACKOFF overrides the
 * most (0 = never back off), for measuring.
 */
const BACKOFF_DISPATCHES = backoffFromEnv(200);
const BACKOFF_MIN = 8;

function backoffFromEnv(fallback: number): number {
  const v = process.env.FFNSKIP_POOL_BACKOFF;
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`FFNSKIP_POOL_BACKOFF=${v}: give a whole number of dispatches (0 = never back off)`);
  return n;
}
/**
 * Per-thread kernel scratch (assembly/prompt.ts setScratch): expanded weight
 * groups for rows of up to 16384 values, and the int8 path's split
 * activations of a prompt chunk beside them (160 bytes per 32 values and
 * token: 64 tokens of 2048 values, fewer of wider rows, which then go in
 * several tiles, each expanding the groups again).
 */
const SCRATCH_BYTES = 1 << 20;

/**
 * WebAssembly SIMD kernels, optionally split by rows over a worker pool.
 * Quantized weights are dotted with an int16 block-quantized copy of the
 * activation (made once per call by the main thread; see
 * assembly/act.ts), float weights with the f32 activation itself.
 */
export class WasmKernels implements Kernels {
  /** "wasm-relaxed-simd-dotadd", "wasm-relaxed-simd" or "wasm-simd": the kernel build in use (see KernelVariant) */
  readonly name: string;
  readonly heap: SharedHeap;
  private readonly k: KernelExports;
  private pool: KernelPool | undefined;
  /** this kernel set's memory in its pool (a shard's index; see createGroup) */
  private mem = 0;
  /** scratch for quantized activations, grown geometrically on demand */
  private act = 0;
  private actCap = 0;
  /** split activations of batch job slot i (see splitOnce), grown geometrically on demand */
  private readonly splits: { ptr: number; cap: number }[] = [];
  /** dispatches left to run on the main thread alone (see exec) */
  private backoff = 0;
  /** the next back-off's length, and the pool dispatches since the last long wait */
  private nextBackoff = BACKOFF_MIN;
  private goodDispatches = 0;
  /** staging buffer for prepare() */
  private scratch = 0;
  private scratchCap = 0;
  /** attention scratch (scores, widened f16 rows; bytes), grown with the position */
  private scores = 0;
  private scoresCap = 0;
  /** reused job records: no allocation per token */
  private readonly jobs: Job[] = [];

  private constructor(heap: SharedHeap, k: KernelExports) {
    this.heap = heap;
    this.k = k;
    const r = k.relaxed();
    this.name = r === 2 ? "wasm-relaxed-simd-dotadd" : r === 1 ? "wasm-relaxed-simd" : "wasm-simd";
  }

  static async create(threads = 1, heap = new SharedHeap(), variant?: KernelVariant): Promise<WasmKernels> {
    return (await WasmKernels.createGroup(1, threads, variant, [heap]))[0];
  }

  /**
   * `count` kernel sets, each over its own heap (a model's shards: one wasm32 memory each), sharing one worker
   * pool of `threads` threads whose workers hold an instance in every memory (see KernelPool.create).
   */
  static async createGroup(count: number, threads = 1, variant?: KernelVariant, heaps: readonly SharedHeap[] = []): Promise<WasmKernels[]> {
    if (!(threads >= 1 && Number.isInteger(threads))) throw new Error(`threads must be a positive integer, got ${threads}`);
    if (!(count >= 1 && Number.isInteger(count))) throw new Error(`kernel set count must be a positive integer, got ${count}`);
    const module = kernelModule(variant);
    const kerns: WasmKernels[] = [];
    for (let i = 0; i < count; i++) {
      const heap = heaps[i] ?? new SharedHeap();
      const kern = new WasmKernels(heap, instantiateKernels(module, heap.memory));
      kern.mem = i;
      // every thread's instance gets its own scratch for prompt matmuls
      kern.k.setScratch(heap.alloc(SCRATCH_BYTES, 64), SCRATCH_BYTES);
      kerns.push(kern);
    }
    if (threads > 1) {
      const pool = await KernelPool.create(
        module,
        kerns.map((kern) => ({
          memory: kern.heap.memory,
          scratch: Array.from({ length: threads - 1 }, () => kern.heap.alloc(SCRATCH_BYTES, 64)),
        })),
        threads,
        SCRATCH_BYTES,
      );
      for (let i = 0; i < count; i++) {
        if (i > 0) pool.retain();
        kerns[i].pool = pool;
      }
    }
    return kerns;
  }

  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Test hook: the pool, if threads > 1. */
  get kernelPool(): KernelPool | undefined {
    return this.pool;
  }

  private job(i: number): Job {
    while (this.jobs.length <= i) {
      this.jobs.push({
        type: 0,
        w: 0,
        rowBytes: 0,
        cols: 0,
        rows: 0,
        act: 0,
        actStride: 0,
        x: 0,
        n: 0,
        out: 0,
        outStride: 0,
        step: 0,
        split: 0,
      });
    }
    return this.jobs[i];
  }

  /** Validate `w`, quantize n activation vectors at x if its type needs it, and fill job slot i. */
  private setup(i: number, w: WeightMatrix, x: number, out: number, n: number, quantize: boolean): Job {
    checkMatrix(this.heap, w);
    if (this.k.supports(w.type) !== 1) throw new Error(`wasm kernels do not support ${typeInfo(w.type).name}`);
    const size = this.heap.memory.buffer.byteLength;
    if (x & 3 || out & 3 || x < 0 || out < 0 || x + n * w.cols * 4 > size || out + n * w.rows * 4 > size) {
      throw new Error(`activation ${x} or output ${out} (${n} x ${w.cols} -> ${w.rows} floats) is misaligned or outside the heap`);
    }
    const j = this.job(i);
    j.type = w.packed ? w.type | PACKED : w.type;
    j.w = w.ptr;
    j.rowBytes = w.rowBytes;
    j.cols = w.cols;
    j.rows = w.rows;
    j.x = x;
    j.n = n;
    j.out = out;
    j.outStride = w.rows;
    j.act = 0;
    j.actStride = 0;
    j.step = 0;
    j.split = 0;
    const kind = this.k.actKind(w.type); // 0: f32 x, 1: A16, 2: AK (K-quants)
    if (kind !== 0) {
      if (kind === 2 && this.k.scratchNeedK(w.rowBytes) > SCRATCH_BYTES) {
        throw new Error(`K-quant rows of ${w.rowBytes} bytes need more than the kernels' ${SCRATCH_BYTES}-byte scratch`);
      }
      const stride = this.k.actBytes(w.cols);
      if (quantize) {
        this.ensureAct(stride * n);
        for (let t = 0; t < n; t++) {
          if (kind === 2) this.k.quantizeActK(x + t * w.cols * 4, w.cols, this.act + t * stride);
          else this.k.quantizeAct(x + t * w.cols * 4, w.cols, this.act + t * stride);
        }
      }
      j.act = this.act;
      j.actStride = stride;
      if (this.pool && n > 1) this.splitOnce(i, j);
    }
    return j;
  }

  /**
   * Rearrange a Q4_0, Q4_1, Q8_0, Q4_K, Q5_K or Q6_K matrix into the 4-row
   * interleaved layout the fast kernels read (see assembly/packed.ts,
   * packed-k.ts); other types stay as they are.
   */
  prepare(w: WeightMatrix): void {
    if (w.packed) return;
    checkMatrix(this.heap, w);
    if (this.k.packable(w.type) !== 1 || w.rows < 4) return;
    this.ensureStaging(4 * w.rowBytes);
    this.k.repack(w.type, w.ptr, w.rowBytes, w.cols, w.rows, this.scratch);
    w.packed = true;
  }

  /** The staging buffer of prepare and of getRow on packed K-quant rows, at least `bytes`. */
  private ensureStaging(bytes: number): void {
    if (bytes <= this.scratchCap) return;
    this.scratchCap = Math.max(bytes, 2 * this.scratchCap);
    this.scratch = this.heap.alloc(this.scratchCap, 64);
  }

  /**
   * prepare() for many matrices at once, their 4-row groups repacked by every thread of the pool (at load: a 7B's
   * repack took 0.76 s on the main thread alone). Rows wider than a quarter of the threads' scratch go through prepare.
   */
  prepareAll(ws: readonly WeightMatrix[]): void {
    const todo = [...new Set(ws)].filter((w) => {
      if (w.packed) return false;
      checkMatrix(this.heap, w);
      if (this.k.packable(w.type) !== 1 || w.rows < 4) return false;
      if (4 * w.rowBytes > SCRATCH_BYTES - 128) {
        this.prepare(w);
        return false;
      }
      return true;
    });
    todo.forEach((w, i) => {
      this.ensureStaging(4 * w.rowBytes); // getRow on packed K-quant rows stages there
      const { type, ptr, rowBytes, cols, rows } = w;
      Object.assign(this.job(i), { type: type | REPACK, w: ptr, rowBytes, cols, rows, act: 0, actStride: 0, x: 0 });
      Object.assign(this.job(i), { n: 1, out: 0, outStride: 0, step: 0, split: 0 });
    });
    if (todo.length > 0) this.exec(todo.length);
    for (const w of todo) w.packed = true;
  }

  getRow(w: WeightMatrix, row: number, dst: number): void {
    checkMatrix(this.heap, w);
    if (!(Number.isInteger(row) && row >= 0 && row < w.rows)) throw new Error(`getRow: row ${row} out of range [0, ${w.rows})`);
    if (dst & 3 || dst < 0 || dst + w.cols * 4 > this.heap.memory.buffer.byteLength) {
      throw new Error(`getRow: destination ${dst} (${w.cols} floats) is misaligned or outside the heap`);
    }
    if (w.packed && this.k.packableK(w.type) === 1) {
      // packed K-quants: the row's plain bytes back into the staging buffer (sized by prepare), then the plain dequantizer
      this.k.plainRowK(w.type, w.ptr, w.rowBytes, w.cols, w.rows, row, this.scratch);
      dequantizeRow(w.type, this.heap.viewsU8(), this.scratch, this.heap.viewsF32(), dst >>> 2, w.cols);
    } else if (w.packed) this.k.getRow(w.type | PACKED, w.ptr, w.rowBytes, w.cols, w.rows, row, dst);
    else dequantizeRow(w.type, this.heap.viewsU8(), w.ptr + row * w.rowBytes, this.heap.viewsF32(), dst >>> 2, w.cols);
  }

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
    strides: KVStrides = { pos: kvDim, head: headDim },
  ): void {
    const eb = kvBytes(kvType);
    if (!(nHeads % nKvHeads === 0 && kvDim === nKvHeads * headDim && pos >= 0)) {
      throw new Error(`attention: ${nHeads} heads, ${nKvHeads} KV heads of ${headDim} and kvDim ${kvDim} at position ${pos} do not fit`);
    }
    const { pos: ps, head: hs } = strides;
    // heads side by side in a position's row, or each head's positions in a run of their own
    const apart = (nKvHeads - 1) * hs + headDim <= ps || (ps >= headDim && hs >= (pos + 1) * ps);
    if (!(Number.isInteger(ps) && Number.isInteger(hs) && hs >= headDim && apart))
      throw new Error(`attention: KV strides ${ps} (position) and ${hs} (head) overlap heads of ${headDim} at position ${pos}`);
    const size = this.heap.memory.buffer.byteLength;
    const cache = ((nKvHeads - 1) * hs + pos * ps + headDim) * eb;
    if (
      (out | q) & 3 ||
      (keys | values) & (eb - 1) ||
      out + nHeads * headDim * 4 > size ||
      q + nHeads * headDim * 4 > size ||
      keys + cache > size ||
      values + cache > size ||
      Math.min(out, q, keys, values) < 0
    ) {
      throw new Error("attention: a buffer is misaligned or outside the heap");
    }
    const f16 = kvType === "f16" ? 1 : 0;
    const step = this.attentionStep(pos, nHeads, nKvHeads, headDim);
    const per = this.k.attentionScratch(pos, nHeads, nKvHeads, headDim);
    // a split over threads gives each query head index its own scratch region
    const need = step > 0 ? per * nHeads : per;
    if (need > this.scoresCap) {
      this.scoresCap = Math.max(need, 2 * this.scoresCap, 4096);
      this.scores = this.heap.alloc(this.scoresCap, 64);
    }
    if (step === 0) {
      this.k.attention(out, q, keys, values, ps, hs, pos, nHeads, nKvHeads, headDim, this.scores, f16);
      return;
    }
    const j = this.job(0);
    Object.assign(j, { type: ATTENTION | f16, w: q, rowBytes: ps, cols: headDim, rows: nHeads, act: keys, actStride: nKvHeads });
    Object.assign(j, { x: values, n: pos, out, outStride: this.scores, step, split: hs });
    this.exec(1);
  }

  /**
   * Query heads per chunk when attention at `pos` is worth splitting over the
   * threads, else 0: whole KV groups while there are at least two (a group
   * shares its widened K/V), otherwise the one group's query heads split in
   * two or more (each chunk widens the K/V itself). Below ATTENTION_SPLIT_MACS
   * of work the hand-off would cost more than it saves.
   */
  private attentionStep(pos: number, nHeads: number, nKvHeads: number, headDim: number): number {
    if (!this.pool || (pos + 1) * nHeads * headDim < ATTENTION_SPLIT_MACS) return 0;
    const group = nHeads / nKvHeads,
      T = this.pool.threads;
    if (nKvHeads >= 2) return group * Math.max(1, Math.floor(nKvHeads / (2 * T)));
    return Math.ceil(nHeads / T);
  }

  swiglu(x: number, y: number, n: number): void {
    this.checkGate("swiglu", x, y, n);
    this.k.swiglu(x, y, n);
  }

  geglu(x: number, y: number, n: number): void {
    this.checkGate("geglu", x, y, n);
    this.k.geglu(x, y, n);
  }

  toHalves(src: number, dst: number, n: number, rows = 1, dstStride = n * 2): void {
    const size = this.heap.memory.buffer.byteLength;
    const last = dst + (rows - 1) * dstStride;
    if (
      src & 3 ||
      (dst | dstStride) & 1 ||
      src < 0 ||
      dst < 0 ||
      dstStride < 0 ||
      src + n * rows * 4 > size ||
      last + n * 2 > size ||
      !(n >= 0 && rows >= 1)
    ) {
      throw new Error(
        `toHalves: ${rows} x ${n} floats at ${src} to halves at ${dst} (${dstStride} bytes apart) are misaligned or outside the heap`,
      );
    }
    this.k.toHalves(src, dst, n, rows, dstStride);
  }

  rmsnorm(out: number, x: number, w: number, n: number, rows: number, eps: number): void {
    this.checkFloats("rmsnorm", n * rows, out, x);
    this.checkFloats("rmsnorm", n, w);
    this.k.rmsnorm(out, x, w, n, rows, eps);
  }

  addInto(dst: number, src: number, n: number): void {
    this.checkFloats("addInto", n, dst, src);
    this.k.addInto(dst, src, n);
  }

  rope(v: number, nHeads: number, headDim: number, ropeDim: number, neox: boolean, cos: number, sin: number): void {
    if (!(ropeDim % 2 === 0 && ropeDim <= headDim))
      throw new Error(`rope: rotary dimension ${ropeDim} must be even and at most the head's ${headDim}`);
    this.checkFloats("rope", nHeads * headDim, v);
    this.checkFloats("rope", ropeDim / 2, cos, sin);
    this.k.rope(v, nHeads, headDim, ropeDim, neox ? 1 : 0, cos, sin);
  }

  /** Throws unless each of `at` (heap byte offsets) holds n floats inside the heap, 4-aligned. */
  private checkFloats(what: string, n: number, ...at: number[]): void {
    const size = this.heap.memory.buffer.byteLength;
    for (const p of at)
      if (p & 3 || p < 0 || p + n * 4 > size || !(n >= 0))
        throw new Error(`${what}: ${n} floats at ${p} are misaligned or outside the heap`);
  }

  private checkGate(what: string, x: number, y: number, n: number): void {
    const size = this.heap.memory.buffer.byteLength;
    if ((x | y) & 3 || x < 0 || y < 0 || x + n * 4 > size || y + n * 4 > size || !(n >= 0)) {
      throw new Error(`${what}: ${n} floats at ${x} / ${y} are misaligned or outside the heap`);
    }
  }

  /**
   * A batch job on the pool: split its activations once here (see
   * assembly/matmul.ts splitJob) rather than once per chunk of rows in every
   * thread, which for a prompt chunk was about a third of the work.
   */
  private splitOnce(i: number, j: Job): void {
    const need = this.k.splitNeed(j.type, j.cols, j.n);
    if (need === 0) return;
    for (let e = 0; e < i; e++) {
      const o = this.jobs[e]; // an earlier matrix of this dispatch with the same input and type: same split (Q/K/V, gate/up)
      if (o.split !== 0 && o.type === j.type && o.cols === j.cols && o.act === j.act && o.n === j.n) {
        j.split = o.split;
        return;
      }
    }
    while (this.splits.length <= i) this.splits.push({ ptr: 0, cap: 0 });
    const s = this.splits[i];
    if (need > s.cap) {
      s.cap = Math.max(need, 2 * s.cap);
      s.ptr = this.heap.alloc(s.cap, 64);
    }
    this.k.splitJob(j.type, j.cols, j.act, j.actStride, j.n, s.ptr);
    j.split = s.ptr;
  }

  private ensureAct(bytes: number): void {
    if (bytes <= this.actCap) return;
    this.actCap = Math.max(bytes, this.actCap * 2, 1 << 16);
    this.act = this.heap.alloc(this.actCap, 64);
  }

  private exec(njobs: number): void {
    if (this.pool) {
      this.pool.check();
      if (this.backoff === 0) {
        this.pool.run(this.jobs, njobs, this.k, this.mem);
        // A long wait means a worker was preempted holding a chunk (another
        // process has the core): then the main thread alone is faster, so
        // stay off the pool for a while and try again after. Not when the
        // dispatch had to wake a worker: the wait then was the wake-up, and a
        // back-off would only let it fall asleep again. (A model split over
        // shards had one pool per shard, asleep while the others ran: every
        // token's first dispatch in a shard woke its worker, and backing off
        // there kept 7B decode single-threaded for most of each token:
        // results/bench/backoff-s15.md. The shards now share one pool.)
        if (this.pool.lastWaitMs > PREEMPTED_MS && !this.pool.lastWoke) {
          this.backoff = Math.min(this.nextBackoff, BACKOFF_DISPATCHES);
          this.nextBackoff = Math.min(2 * this.nextBackoff, BACKOFF_DISPATCHES);
          this.goodDispatches = 0;
        } else if (++this.goodDispatches >= BACKOFF_DISPATCHES) this.nextBackoff = BACKOFF_MIN;
        return;
      }
      this.backoff--;
    }
    for (let i = 0; i < njobs; i++) {
      const j = this.jobs[i];
      this.k.matmul(j.type, j.w, j.rowBytes, j.cols, j.rows, 0, j.rows, j.act, j.actStride, j.x, j.n, j.out, j.outStride, j.split);
    }
  }

  matvec(w: WeightMatrix, x: number, out: number): void {
    this.setup(0, w, x, out, 1, true);
    this.exec(1);
  }

  matvecMulti(ws: readonly WeightMatrix[], x: number, outs: readonly number[], n = 1): void {
    if (ws.length !== outs.length) throw new Error(`matvecMulti: ${ws.length} matrices but ${outs.length} outputs`);
    if (!Number.isInteger(n) || n < 1) throw new Error(`matvecMulti: token count ${n} must be a positive integer`);
    if (ws.length === 0) return;
    // One quantization of x per activation kind serves every matrix (they all read the same x).
    let quantized = 0;
    for (let i = 0; i < ws.length; i++) {
      if (ws[i].cols !== ws[0].cols)
        throw new Error(`matvecMulti: matrices share one input but have ${ws[0].cols} and ${ws[i].cols} columns`);
      const kind = this.k.actKind(ws[i].type);
      this.setup(i, ws[i], x, outs[i], n, (quantized & kind) === 0);
      quantized |= kind;
    }
    this.exec(ws.length);
  }

  neuronMajor(w: WeightMatrix, order?: Int32Array): NeuronMajorMatrix | undefined {
    checkMatrix(this.heap, w);
    if (!w.packed || !Q4_TYPES.has(w.type) || w.rows % 32 !== 0 || w.cols % 32 !== 0) return undefined;
    if ((w.cols / 32) * 9 > SCRATCH_BYTES - 128) return undefined; // the kernel lists each block's kept groups in its scratch
    if (order && !isWithinBlocks(order, 32))
      throw new Error(`neuronMajor: the order is not a permutation of ${w.cols} neurons within blocks of 32`);
    if (order && order.length !== w.cols) throw new Error(`neuronMajor: an order of ${order.length} neurons for ${w.cols} columns`);
    const perm = order ? this.heapInts(order) : 0;
    const ptr = this.heap.alloc(this.k.neuronMajorBytes(w.rows, w.cols), 64);
    if (this.k.toNeuronMajor(w.type, w.ptr, w.rowBytes, w.cols, w.rows, ptr, perm) !== 0) return undefined; // a Q4_0 scale over 8188
    return { ptr, type: w.type, rows: w.rows, cols: w.cols };
  }

  permutedRows(w: WeightMatrix, order: Int32Array): WeightMatrix {
    checkMatrix(this.heap, w);
    if (!w.packed || !Q4_TYPES.has(w.type) || w.rows % 4 !== 0)
      throw new Error(`permutedRows: needs a packed Q4_0/Q4_1 matrix of whole 4-row groups, got ${typeInfo(w.type).name} ${w.rows} rows`);
    if (order.length !== w.rows || !isWithinBlocks(order, order.length))
      throw new Error(`permutedRows: the order is not a permutation of the matrix's ${w.rows} rows`);
    const perm = this.heapInts(order);
    const ptr = this.heap.alloc(w.rows * w.rowBytes, 64);
    this.k.permuteRows(w.type, w.ptr, w.rowBytes, w.cols, w.rows, perm, ptr);
    return { ptr, type: w.type, rows: w.rows, cols: w.cols, rowBytes: w.rowBytes, packed: true };
  }

  /** A copy of `a` in the heap (kept: the copies these build are made once per model). */
  private heapInts(a: Int32Array): number {
    const p = this.heap.alloc(a.length * 4, 16);
    new Int32Array(this.heap.memory.buffer, p, a.length).set(a);
    return p;
  }

  matvecMasked(w: WeightMatrix, x: number, out: number, mask: number): void {
    if (!w.packed || !Q4_TYPES.has(w.type) || w.rows % 4 !== 0)
      throw new Error(`matvecMasked: needs a packed Q4_0/Q4_1 matrix of whole 4-row groups, got ${typeInfo(w.type).name} ${w.rows} rows`);
    if (w.rows + 64 > SCRATCH_BYTES - 128) throw new Error(`matvecMasked: ${w.rows} rows do not fit the kernels' list of kept groups`);
    this.checkMask(mask, w.rows / 4);
    const j = this.setup(0, w, x, out, 1, true);
    j.type |= MASKED;
    j.split = mask;
    this.exec(1);
  }

  gateGroups(g: number, n: number, gelu: boolean, threshold: number, act: number, mask: number): number {
    this.checkGate("gateGroups", g, act, n);
    if (n % 4 !== 0) throw new Error(`gateGroups: ${n} gate values are not whole groups of 4`);
    this.checkMask(mask, n / 4);
    return this.k.gateGroups(g, n, gelu ? 1 : 0, threshold, act, mask);
  }

  matvecNeuronMajor(w: NeuronMajorMatrix, h: number, out: number, mask: number): void {
    const size = this.heap.memory.buffer.byteLength;
    if (h & 3 || out & 3 || h < 0 || out < 0 || h + w.cols * 4 > size || out + w.rows * 4 > size)
      throw new Error(`matvecNeuronMajor: activation ${h} or output ${out} is misaligned or outside the heap`);
    this.checkMask(mask, w.cols / 4);
    this.ensureAct(this.k.neuronActBytes(w.cols));
    this.k.quantizeNeurons(h, w.cols, this.act);
    const j = this.job(0);
    j.type = NEURON_MAJOR | w.type;
    j.w = w.ptr;
    j.rowBytes = 0;
    j.cols = w.cols;
    j.rows = w.rows;
    j.act = this.act;
    j.actStride = 0;
    j.x = 0;
    j.n = 1;
    j.out = out;
    j.outStride = w.rows;
    // chunks of whole 32-output tiles, about two per thread
    j.step = 32 * Math.max(1, Math.ceil(w.rows / 32 / (2 * this.threads)));
    j.split = mask;
    this.exec(1);
  }

  private checkMask(mask: number, groups: number): void {
    if (!Number.isInteger(mask) || mask <= 0 || mask + groups > this.heap.memory.buffer.byteLength)
      throw new Error(`group mask ${mask} (${groups} bytes) is outside the heap`);
  }

  matmul(w: WeightMatrix, x: number, out: number, n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`matmul: token count ${n} must be a positive integer`);
    this.setup(0, w, x, out, n, true);
    this.exec(1);
  }

  async dispose(): Promise<void> {
    await this.pool?.release();
    this.pool = undefined;
  }
}
