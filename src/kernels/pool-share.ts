import type { KernelExports } from "./wasm-module.js";
import { JOBS, JOB_FIELDS, share } from "./pool-protocol.js";

/** Multiply-adds per chunk between heartbeats (about a millisecond of work). */
const CHUNK_MACS = 1 << 21;

/**
 * Compute thread `i`'s rows of the `njobs` jobs described in `ctl`,
 * bumping ctl[heartbeat] after each chunk so the main thread can tell a slow
 * worker from a dead one (heartbeat < 0: none, the main thread's own share).
 */
export function runShare(k: KernelExports, ctl: Int32Array, njobs: number, i: number, t: number, heartbeat: number): void {
  for (let j = 0; j < njobs; j++) {
    const o = JOBS + j * JOB_FIELDS;
    const type = ctl[o], w = ctl[o + 1] >>> 0, rowBytes = ctl[o + 2], cols = ctl[o + 3], rows = ctl[o + 4];
    const act = ctl[o + 5] >>> 0, actStride = ctl[o + 6], x = ctl[o + 7] >>> 0, n = ctl[o + 8];
    const out = ctl[o + 9] >>> 0, outStride = ctl[o + 10];
    const [r0, r1] = share(rows, i, t);
    // a multiple of 4 rows: packed matrices are computed 4 rows at a time
    const step = Math.max(4, Math.floor(CHUNK_MACS / (cols * n)) & ~3);
    for (let r = r0; r < r1; r += step) {
      k.matmul(type, w, rowBytes, cols, rows, r, Math.min(r1, r + step), act, actStride, x, n, out, outStride);
      if (heartbeat >= 0) Atomics.add(ctl, heartbeat, 1);
    }
  }
}
