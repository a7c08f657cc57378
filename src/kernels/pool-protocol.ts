/**
 * Layout of the shared Int32Array through which the main thread hands
 * matrix products to the worker threads (no postMessage per op).
 *
 * A dispatch is a list of jobs cut into chunks of rows (a chunk table in
 * CHUNKS). The main thread writes jobs and chunks, resets DONE, publishes
 * the chunk count under a new epoch (EPN), resets the ticket counter NEXT,
 * bumps SEQ and notifies. Then every thread, main included, takes tickets
 * from NEXT (Atomics.add) and computes the chunks they name until none are
 * left, then adds the number it computed to DONE; the main thread returns
 * when DONE reaches the chunk count. (One add per thread and dispatch, not
 * per chunk: every atomic on this shared line costs a cross-core transfer.) Taking work dynamically, rather than a fixed
 * share per thread, means a worker the OS has not scheduled only loses its
 * chunks to the main thread instead of stalling it.
 *
 * Tickets and the chunk count carry the epoch in their top bits
 * (epoch << EPOCH_SHIFT | value), so a ticket taken late, from a dispatch
 * that is already finished, never names a chunk of the next one.
 */
export const SEQ = 0;
/** chunks finished in the current dispatch */
export const DONE = 1;
/** 0, or 1 + index of a worker whose kernel threw */
export const ERR = 2;
/** epoch << EPOCH_SHIFT | number of chunks */
export const EPN = 3;
/** epoch << EPOCH_SHIFT | next chunk index (the ticket counter) */
export const NEXT = 4;
/** nonzero: workers leave */
export const EXIT = 5;
/** workers asleep in Atomics.wait on SEQ (the main thread notifies only when there are any) */
export const SLEEPERS = 6;
/** the memory (shard) whose kernel instance computes the current dispatch: index into the pool's memories */
export const MEM = 7;
export const EPOCH_SHIFT = 12;
export const INDEX_MASK = (1 << EPOCH_SHIFT) - 1;
export const EPOCH_MASK = (1 << (32 - EPOCH_SHIFT)) - 1;
/** per-worker heartbeat counters (bumped per finished chunk), at HEARTBEAT + HEARTBEAT_STRIDE * worker index */
export const HEARTBEAT = 16;
/** one 64-byte cache line per heartbeat, so bumping it stays local to the worker's core */
export const HEARTBEAT_STRIDE = 16;
export const MAX_THREADS = 24;
export const JOBS = HEARTBEAT + HEARTBEAT_STRIDE * MAX_THREADS;
/** Int32 fields per job: type, w, rowBytes, cols, rows, act, actStride, x, n, out, outStride, split */
export const JOB_FIELDS = 12;
export const MAX_JOBS = 8;
export const CHUNKS = JOBS + MAX_JOBS * JOB_FIELDS;
/** Int32 fields per chunk: job index, first row, end row */
export const CHUNK_FIELDS = 3;
/** at most this many chunks per dispatch (far below INDEX_MASK: late tickets overshoot by at most one per thread) */
export const MAX_CHUNKS = 1024;
export const CONTROL_INTS = CHUNKS + MAX_CHUNKS * CHUNK_FIELDS;

/** Spin iterations (Atomics.load polls) before falling back to Atomics.wait. */
export const SPIN = 20000;
