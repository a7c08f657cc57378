import { Worker } from "node:worker_threads";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { KernelExports } from "./wasm-module.js";
import {
  CONTROL_INTS, DONE, ERR, EXIT_JOBS, HEARTBEAT, JOBS, JOB_FIELDS, MAX_JOBS, MAX_THREADS, NJOBS, NTHREADS, SEQ, SPIN,
} from "./pool-protocol.js";
import { runShare } from "./pool-share.js";

/** A matrix product job: rows of W times n activation vectors (see KernelExports.matmul). */
export interface Job {
  type: number; w: number; rowBytes: number; cols: number; rows: number;
  act: number; actStride: number; x: number; n: number; out: number; outStride: number;
}

/** How long the main thread waits without any worker heartbeat before it declares the pool dead. */
const STALL_MS = 5000;

/**
 * worker_threads pool over one shared memory. Every thread (main included)
 * runs the same wasm kernels on its own row share of each job; hand-off is a
 * shared Int32Array plus Atomics (see pool-protocol.ts), with a short spin
 * before sleeping on both sides so a dispatch costs microseconds.
 */
export class KernelPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly workers: Worker[] = [];
  private dead: string | undefined;
  private disposed = false;
  private lastError = "";

  private constructor(private readonly k: KernelExports, threads: number) {
    this.threads = threads;
    this.ctl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  }

  /** Start `threads - 1` workers over `memory` and wait until each has instantiated the kernels. */
  static async create(k: KernelExports, module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<KernelPool> {
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new Error(`threads must be an integer from 1 to ${MAX_THREADS}, got ${threads}`);
    }
    const pool = new KernelPool(k, threads);
    // Built code runs pool-worker.js; under tsx only the .ts source exists and
    // the worker inherits tsx's loader through execArgv.
    let entry: URL | string = new URL("./pool-worker.js", import.meta.url);
    let evalCode = false;
    if (!existsSync(fileURLToPath(entry))) {
      // Running from source under tsx: register tsx in the worker, then load the .ts entry.
      const api = JSON.stringify(import.meta.resolve("tsx/esm/api"));
      const src = JSON.stringify(new URL("./pool-worker.ts", import.meta.url).href);
      entry = `import(${api}).then((m) => { m.register(); return import(${src}); })`;
      evalCode = true;
    }
    const ready: Promise<void>[] = [];
    for (let i = 1; i < threads; i++) {
      const worker = new Worker(entry, { eval: evalCode, workerData: { module, memory, control: pool.ctl.buffer, index: i } });
      worker.unref(); // never keep the process alive, even if dispose() is forgotten
      pool.workers.push(worker);
      ready.push(new Promise<void>((resolve, reject) => {
        worker.once("message", () => resolve());
        worker.once("error", reject);
        worker.once("exit", (code) => reject(new Error(`kernel worker ${i} exited with code ${code} before it was ready`)));
      }));
      worker.on("message", (m) => { if (m !== "ready") pool.lastError = String(m); });
      worker.on("error", (e) => { pool.dead ??= `kernel worker ${i} crashed: ${e.message}`; });
      worker.on("exit", (code) => { if (!pool.disposed) pool.dead ??= `kernel worker ${i} exited with code ${code}`; });
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await pool.dispose();
      throw e;
    }
    return pool;
  }

  /** Run `jobs` split by rows over all threads; returns when every row is written. */
  run(jobs: readonly Job[], count = jobs.length): void {
    for (let s = 0; s < count; s += MAX_JOBS) this.dispatch(jobs, s, Math.min(count, s + MAX_JOBS));
  }

  private dispatch(jobs: readonly Job[], j0: number, j1: number): void {
    if (this.disposed) throw new Error("kernel pool used after dispose()");
    if (this.dead) throw new Error(`kernel pool is broken: ${this.dead}`);
    const ctl = this.ctl;
    for (let j = j0; j < j1; j++) {
      const b = jobs[j], o = JOBS + (j - j0) * JOB_FIELDS;
      ctl[o] = b.type; ctl[o + 1] = b.w; ctl[o + 2] = b.rowBytes; ctl[o + 3] = b.cols; ctl[o + 4] = b.rows;
      ctl[o + 5] = b.act; ctl[o + 6] = b.actStride; ctl[o + 7] = b.x; ctl[o + 8] = b.n; ctl[o + 9] = b.out; ctl[o + 10] = b.outStride;
    }
    const njobs = j1 - j0;
    ctl[NJOBS] = njobs;
    ctl[NTHREADS] = this.threads;
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, SEQ, 1); // release: the job fields above are visible to a worker that sees the new SEQ
    Atomics.notify(ctl, SEQ);
    let mainError: unknown;
    try {
      runShare(this.k, ctl, njobs, 0, this.threads, -1);
    } catch (e) {
      mainError = e; // still wait: workers are writing into the same memory
    }
    this.waitWorkers();
    if (mainError) throw mainError;
    const err = Atomics.load(ctl, ERR);
    if (err) {
      Atomics.store(ctl, ERR, 0);
      throw new Error(`kernel worker ${err} failed${this.lastError ? `: ${this.lastError}` : ""}`);
    }
  }

  private waitWorkers(): void {
    const ctl = this.ctl, want = this.threads - 1;
    let spins = 0;
    while (Atomics.load(ctl, DONE) < want && spins < SPIN) spins++;
    let beats = this.heartbeats();
    let since = Date.now();
    for (;;) {
      const done = Atomics.load(ctl, DONE);
      if (done >= want) return;
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
    for (let i = 0; i < this.threads - 1; i++) s += Atomics.load(this.ctl, HEARTBEAT + i);
    return s;
  }

  /** Test hook: the worker threads (e.g. to kill one). */
  get workerThreads(): readonly Worker[] {
    return this.workers;
  }

  /** Stop the workers; the pool cannot be used afterwards. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    Atomics.store(this.ctl, NJOBS, EXIT_JOBS);
    Atomics.add(this.ctl, SEQ, 1);
    Atomics.notify(this.ctl, SEQ);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
