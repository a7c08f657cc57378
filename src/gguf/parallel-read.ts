/**
 * Reading many byte ranges of one file on several threads. Loading a 7B model
 * is mostly this copy: page cache into fresh wasm memory, whose first touch
 * (page faults) costs as much as the copy itself on a virtual machine. Ranges
 * whose destination lies in shared memory (the kernels' wasm memories) are
 * split by bytes between the calling thread and short-lived workers; the
 * call is synchronous (the caller waits on a shared flag), like readSync.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

/** One range: `bytes` bytes at file offset `offset` into `dest` (exactly `bytes` long). */
export interface FileRange {
  offset: number;
  dest: Uint8Array;
}

/** A range as a worker receives it (its destination as shared buffer + offset). */
export interface SharedRange {
  offset: number;
  bytes: number;
  buffer: SharedArrayBuffer;
  byteOffset: number;
}

/** How long the caller waits for a worker before reading its share itself. */
const WORKER_TIMEOUT_MS = 120_000;
/** Bytes per worker below which a worker does not pay for its start (~20 ms). */
const MIN_WORKER_BYTES = 64 << 20;

/**
 * Read every range with `read` (the single-range reader, which names a short or failed read) on this thread, or on
 * `threads` threads where destinations are shared: a worker that fails or stalls leaves its share to this thread,
 * so errors are always the single reader's.
 */
export function readRangesInto(
  path: string,
  ranges: readonly FileRange[],
  threads: number,
  read: (r: FileRange) => void,
  minWorkerBytes = MIN_WORKER_BYTES,
): void {
  const shared = ranges.filter((r) => r.dest.buffer instanceof SharedArrayBuffer);
  const rest = ranges.filter((r) => !(r.dest.buffer instanceof SharedArrayBuffer));
  const total = shared.reduce((s, r) => s + r.dest.length, 0);
  const helpers = Math.max(0, Math.min(threads - 1, Math.floor(total / minWorkerBytes)));
  if (helpers === 0) {
    for (const r of ranges) read(r);
    return;
  }
  // deal ranges round-robin by bytes: share i gets the ranges that start in its slice of the byte count
  const shares: FileRange[][] = Array.from({ length: helpers + 1 }, () => []);
  let at = 0;
  for (const r of shared) {
    shares[Math.min(helpers, Math.floor((at * (helpers + 1)) / total))].push(r);
    at += r.dest.length;
  }
  const built = new URL("./read-worker.js", import.meta.url);
  const entry = existsSync(fileURLToPath(built)) ? built : new URL("./read-worker.ts", import.meta.url);
  const jobs = shares.slice(1).map((share) => {
    const flag = new SharedArrayBuffer(4);
    const workerData = {
      path,
      flag,
      ranges: share.map(
        (r): SharedRange => ({
          offset: r.offset,
          bytes: r.dest.length,
          buffer: r.dest.buffer as SharedArrayBuffer,
          byteOffset: r.dest.byteOffset,
        }),
      ),
    };
    return { share, flag: new Int32Array(flag), worker: new Worker(entry, { workerData }) };
  });
  try {
    for (const r of [...shares[0], ...rest]) read(r);
    for (const j of jobs) {
      Atomics.wait(j.flag, 0, 0, WORKER_TIMEOUT_MS);
      if (Atomics.load(j.flag, 0) !== 1) for (const r of j.share) read(r); // failed or stalled: read it here
    }
  } finally {
    for (const j of jobs) void j.worker.terminate();
  }
}
