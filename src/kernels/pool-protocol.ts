/**
 * Layout of the shared Int32Array through which the main thread hands
 * matrix products to the worker threads (no postMessage per op).
 *
 * The main thread writes the jobs, zeroes DONE, bumps SEQ and notifies;
 * each worker computes its row share of every job, adds 1 to DONE and
 * notifies; the main thread computes share 0 itself, then waits for DONE.
 */
export const SEQ = 0;
/** workers finished with the current SEQ */
export const DONE = 1;
/** 0, or 1 + index of a worker whose kernel threw */
export const ERR = 2;
/** number of jobs in this dispatch; EXIT_JOBS tells workers to leave */
export const NJOBS = 3;
/** total threads sharing the rows, main thread included */
export const NTHREADS = 4;
export const EXIT_JOBS = -1;
/** per-worker heartbeat counters (bumped per finished chunk), at HEARTBEAT + worker index */
export const HEARTBEAT = 8;
export const MAX_THREADS = 24;
export const JOBS = HEARTBEAT + MAX_THREADS;
/** Int32 fields per job: type, w, rowBytes, cols, rows, act, actStride, x, n, out, outStride */
export const JOB_FIELDS = 11;
export const MAX_JOBS = 8;
export const CONTROL_INTS = JOBS + MAX_JOBS * JOB_FIELDS;

/** Spin iterations (Atomics.load polls) before falling back to Atomics.wait. */
export const SPIN = 20000;

/** Row boundary of thread i of t: a multiple of 4 (packed matrices go 4 rows at a time), or `rows`. */
function bound(rows: number, i: number, t: number): number {
  return i >= t ? rows : Math.min(rows, Math.round((rows * i) / t / 4) * 4);
}

/** Rows [r0, r1) that thread `i` of `t` computes out of `rows`. */
export function share(rows: number, i: number, t: number): [number, number] {
  return [bound(rows, i, t), bound(rows, i + 1, t)];
}
