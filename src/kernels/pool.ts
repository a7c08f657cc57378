import { Worker } from "node:worker_threads";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { KernelExports } from "./wasm-module.js";
import {
  CHUNKS,
  CHUNK_FIELDS,
  CONTROL_INTS,
  DONE,
  EPN,
  EPOCH_MASK,
  EPOCH_SHIFT,
  ERR,
  EXIT,
  HEARTBEAT,
  HEARTBEAT_STRIDE,
  INDEX_MASK,
  JOBS,
  JOB_FIELDS,
  MAX_CHUNKS,
  MEM,
  MAX_JOBS,
  MAX_THREADS,
  NEXT,
  SEQ,
  SLEEPERS,
  SPIN,
} from "./pool-protocol.js";
import { runChunks } from "./pool-share.js";

/** A matrix product job: rows of W times n activation vectors (see KernelExports.matmul). */
export interface Job {
  type: number;
  w: number;
  rowBytes: number;
  cols: number;
  rows: number;
  act: number;
  actStride: number;
  x: number;
  n: number;
  out: number;
  outStride: number;
  /** rows per chunk when the job fixes it (attention: query heads), else 0 */
  step: number;
  /** 0, or the job's activations split once for all chunks (KernelExports.splitJob) */
  split: number;
}

/** How long the main thread waits without any worker heartbeat before it declares the pool dead. */
const STALL_MS = 5000;
/** Chunking of a job (see chunkRows). */
const CHUNKS_PER_THREAD = 4;
const MIN_CHUNK_ROWS = 32;
/**
 * Multiply-adds per chunk at least, down to one chunk per thread. Small models' decode products (SmolLM2's FFN
 * matrices hold 885k) were cut into 8 chunks at two threads, 110k each, and each chunk has fixed costs (its ticket,
 * and presumably the stream kernel starting its reads afresh): at 2^19, decode steps at two threads took 0.87-0.92x
 * the time on SmolLM2-135M, 0.97-0.98x on Gemma 3 270M and 0.98-1.01x on 1.1B shapes (steps alternating in one
 * process; results/bench/chunks-s27.md).
 */
const MIN_CHUNK_MACS = 1 << 19;
/**
 * Multiply-adds per chunk at most (a few milliseconds of work at most): the heartbeat period. Was 2^21: at two threads
 * that cut a 7B's Q6_K output head into 512-row chunks, whose decode windows read 7 GB/s where 2048 rows read 11-12
 * (head 11-12.6 -> 7.0-7.5 ms; 7B step 1.031x, 1.1B Q4_0 prompt 1.13x, decode 1.09x: results/bench/decode-s18.md).
 */
const CHUNK_MACS = 1 << 23;

/**
 * Rows per chunk of a job of `rows` rows, each `macs` multiply-adds (cols times tokens): about `perThread` chunks per
 * thread so a late or slow thread leaves little behind, fewer (one per thread at least) where a chunk would hold under
 * `minMacs` (0: no such limit), at least MIN_CHUNK_ROWS (the hand-off of a chunk costs about a microsecond), at most
 * CHUNK_MACS of work (the heartbeat period), a multiple of 4 (packed matrices go 4 rows at a time) and few enough
 * chunks to fit the `budget`.
 */
export function chunkRows(rows: number, macs: number, threads: number, perThread: number, minMacs: number, budget: number): number {
  let chunks = threads * perThread;
  if (minMacs > 0) chunks = Math.min(chunks, Math.max(threads, Math.floor((rows * macs) / minMacs)));
  let r = Math.ceil(rows / chunks);
  r = Math.max(r, MIN_CHUNK_ROWS);
  r = Math.min(r, Math.max(1, Math.floor(CHUNK_MACS / macs)));
  r = Math.max(r, Math.ceil(rows / budget));
  return (r + 3) & ~3;
}

/**
 * worker_threads pool over one shared memory. Every thread (main included)
 * runs the same wasm kernels on chunks of rows it takes from a shared ticket
 * counter; hand-off is a shared Int32Array plus Atomics (see
 * pool-protocol.ts), with a short spin before sleeping on both sides so a
 * dispatch costs microseconds.
 */
export class KernelPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly workers: Worker[] = [];
  private dead: string | undefined;
  private disposed = false;
  private lastError = "";
  /** how long the last dispatch waited for workers after the main thread ran out of chunks */
  lastWaitMs = 0;
  /**
   * whether the last dispatch had to wake a sleeping worker: then its wait includes the wake-up (ms on a virtual
   * machine whose idle vCPU must be woken), which says nothing about the next dispatch, as the worker now spins
   */
  lastWoke = false;
  /** chunks per thread a job is cut into (see chunkRows); a field so benchmarks can compare settings */
  chunksPerThread = CHUNKS_PER_THREAD;
  /** multiply-adds a chunk should hold at least (see chunkRows); a field so benchmarks can compare settings (0: off) */
  minChunkMacs = MIN_CHUNK_MACS;
  private epoch = 0;
  /** kernel sets using this pool (see retain) */
  private users = 1;

  private constructor(threads: number) {
    this.threads = threads;
    this.ctl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  }

  /**
   * Start `threads - 1` workers and wait until each has instantiated the kernels over every memory in `memories`
   * (`scratch[i - 1]`: worker i's kernel scratch in that memory, scratchBytes each). A model split over several
   * memories (shards) shares one pool, so its thread count is the model's (a pool per shard ran one set of
   * workers per shard, each asleep while the other shards ran; decode speed measured the same either way).
   */
  static async create(
    module: WebAssembly.Module,
    memories: readonly { memory: WebAssembly.Memory; scratch: readonly number[] }[],
    threads: number,
    scratchBytes = 0,
  ): Promise<KernelPool> {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new Error(`threads must be an integer from 1 to ${MAX_THREADS}, got ${threads}`);
    }
    const pool = new KernelPool(threads);
    // Built code runs pool-worker.js. Run from source (npx tsx bench/x.ts) only the
    // .ts exists; the worker inherits the TypeScript loader through execArgv.
    const built = new URL("./pool-worker.js", import.meta.url);
    const entry = existsSync(fileURLToPath(built)) ? built : new URL("./pool-worker.ts", import.meta.url);
    const ready: Promise<void>[] = [];
    for (let i = 1; i < threads; i++) {
      const worker = new Worker(entry, {
        workerData: {
          module,
          memories: memories.map((m) => ({ memory: m.memory, scratch: m.scratch[i - 1] ?? 0 })),
          scratchBytes,
          control: pool.ctl.buffer,
          index: i,
        },
      });
      worker.unref(); // never keep the process alive, even if dispose() is forgotten
      pool.workers.push(worker);
      ready.push(
        new Promise<void>((resolve, reject) => {
          worker.once("message", () => resolve());
          worker.once("error", reject);
          worker.once("exit", (code) => reject(new Error(`kernel worker ${i} exited with code ${code} before it was ready`)));
        }),
      );
      worker.on("message", (m) => {
        if (m !== "ready") pool.lastError = String(m);
      });
      worker.on("error", (e) => {
        pool.dead ??= `kernel worker ${i} crashed: ${e.message}`;
      });
      worker.on("exit", (code) => {
        if (!pool.disposed) pool.dead ??= `kernel worker ${i} exited with code ${code}`;
      });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return pool;
  }

  /**
   * Run `count` of `jobs` split by rows over all threads, in memory `mem` of the pool (k: the main thread's instance
   * there); returns when every row is written.
   */
  run(jobs: readonly Job[], count: number, k: KernelExports, mem: number): void {
    for (let s = 0; s < count; s += MAX_JOBS) this.dispatch(jobs, s, Math.min(count, s + MAX_JOBS), k, mem);
  }

  /** A pool shared by several kernel sets (shards) gets one retain() per extra user; the last release() disposes it. */
  retain(): void {
    this.users++;
  }
  async release(): Promise<void> {
    if (--this.users <= 0) await this.dispose();
  }

  private dispatch(jobs: readonly Job[], j0: number, j1: number, k: KernelExports, mem: number): void {
    if (this.disposed) throw new Error("kernel pool used after dispose()");
    if (this.dead) throw new Error(`kernel pool is broken: ${this.dead}`);
    const ctl = this.ctl;
    const budget = Math.floor(MAX_CHUNKS / (j1 - j0));
    let n = 0;
    for (let j = j0; j < j1; j++) {
      const b = jobs[j],
        o = JOBS + (j - j0) * JOB_FIELDS;
      ctl[o] = b.type;
      ctl[o + 1] = b.w;
      ctl[o + 2] = b.rowBytes;
      ctl[o + 3] = b.cols;
      ctl[o + 4] = b.rows;
      ctl[o + 5] = b.act;
      ctl[o + 6] = b.actStride;
      ctl[o + 7] = b.x;
      ctl[o + 8] = b.n;
      ctl[o + 9] = b.out;
      ctl[o + 10] = b.outStride;
      ctl[o + 11] = b.split;
      const step = b.step > 0 ? b.step : chunkRows(b.rows, b.cols * b.n, this.threads, this.chunksPerThread, this.minChunkMacs, budget);
      for (let r = 0; r < b.rows; r += step, n++) {
        const c = CHUNKS + n * CHUNK_FIELDS;
        ctl[c] = j - j0;
        ctl[c + 1] = r;
        ctl[c + 2] = Math.min(b.rows, r + step);
      }
    }
    this.epoch = (this.epoch + 1) & EPOCH_MASK;
    Atomics.store(ctl, MEM, mem);
    Atomics.store(ctl, DONE, 0);
    Atomics.store(ctl, EPN, (this.epoch << EPOCH_SHIFT) | n);
    Atomics.store(ctl, NEXT, this.epoch << EPOCH_SHIFT); // release: jobs and chunks above are visible to a ticket holder
    Atomics.add(ctl, SEQ, 1);
    this.lastWoke = Atomics.load(ctl, SLEEPERS) > 0;
    if (this.lastWoke) Atomics.notify(ctl, SEQ); // a wake-up is a syscall; spinning workers see SEQ
    let mainError: unknown;
    try {
      runChunks(k, ctl, -1);
    } catch (e) {
      mainError = e;
      this.drain(); // hand out (as done, uncomputed) what is left, then still wait: workers write into the same memory
    }
    const t0 = performance.now();
    this.waitWorkers(n);
    this.lastWaitMs = performance.now() - t0;
    if (mainError) throw mainError;
    const err = Atomics.load(ctl, ERR);
    if (err) {
      Atomics.store(ctl, ERR, 0);
      throw new Error(`kernel worker ${err} failed${this.lastError ? `: ${this.lastError}` : ""}`);
    }
  }

  /** Take the remaining tickets of the current dispatch and count them done without computing them. */
  private drain(): void {
    const ctl = this.ctl;
    for (;;) {
      const t = Atomics.add(ctl, NEXT, 1);
      const en = Atomics.load(ctl, EPN);
      if (en >>> EPOCH_SHIFT !== t >>> EPOCH_SHIFT || (t & INDEX_MASK) >= (en & INDEX_MASK)) return;
      Atomics.add(ctl, DONE, 1);
    }
  }

  /** Wait until all `n` chunks are done (the workers finish the ones they took). */
  private waitWorkers(n: number): void {
    const ctl = this.ctl;
    let spins = 0;
    while (Atomics.load(ctl, DONE) < n && spins < SPIN) spins++;
    let beats = this.heartbeats();
    let since = Date.now();
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= n) return;
      if (this.dead) throw new Error(`kernel pool is broken: ${this.dead}`);
      if (Atomics.wait(ctl, DONE, done, 250) !== "timed-out") continue;
      const now = this.heartbeats();
      if (now !== beats) {
        beats = now;
        since = Date.now();
      } else if (Date.now() - since > STALL_MS) {
        this.dead = `a kernel worker stopped responding (no progress for ${STALL_MS} ms)`;
        throw new Error(`kernel pool is broken: ${this.dead}`);
      }
    }
  }

  private heartbeats(): number {
    let s = 0;
    for (let i = 0; i < this.threads - 1; i++) s += Atomics.load(this.ctl, HEARTBEAT + HEARTBEAT_STRIDE * i);
    return s;
  }

  /** Throws if the pool cannot be used (disposed, or a worker died or hung). */
  check(): void {
    if (this.disposed) throw new Error("kernel pool used after dispose()");
    if (this.dead) throw new Error(`kernel pool is broken: ${this.dead}`);
  }

  /** Test hook: the worker threads (e.g. to kill one). */
  get workerThreads(): readonly Worker[] {
    return this.workers;
  }

  /** Stop the workers; the pool cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctl, EXIT, 1);
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
