import type { KernelExports } from "./wasm-module.js";
import { CHUNKS, CHUNK_FIELDS, DONE, EPN, EPOCH_SHIFT, INDEX_MASK, JOBS, JOB_FIELDS, MEM, NEXT } from "./pool-protocol.js";

/**
 * Take tickets and compute chunks of the current dispatch described in
 * `ctl` until none are left (see pool-protocol.ts), then count them into
 * DONE. Bumps ctl[heartbeat] after each chunk so the main thread can tell a
 * slow worker from a dead one (heartbeat < 0: none, the main thread itself).
 * `ks`: the kernel instance (main thread: the dispatch's), or one per memory
 * of the pool (workers), of which each chunk takes the one ctl[MEM] names.
 * MEM is read after the ticket proved valid: the dispatch wrote it before
 * publishing its tickets, and cannot be followed by the next one while this
 * thread holds an uncounted chunk of it, so a late ticket of a new dispatch
 * never runs in the memory of the old one.
 */
export function runChunks(ks: KernelExports | readonly KernelExports[], ctl: Int32Array, heartbeat: number): void {
  let taken = 0,
    total = 0;
  try {
    for (;;) {
      const t = Atomics.add(ctl, NEXT, 1);
      const en = Atomics.load(ctl, EPN);
      if (en >>> EPOCH_SHIFT !== t >>> EPOCH_SHIFT || (t & INDEX_MASK) >= (en & INDEX_MASK)) return;
      total = en & INDEX_MASK;
      taken++; // counted even if the kernel throws, so the main thread never waits for it
      const k = Array.isArray(ks) ? ks[Atomics.load(ctl, MEM)] : (ks as KernelExports);
      const c = CHUNKS + (t & INDEX_MASK) * CHUNK_FIELDS;
      const o = JOBS + ctl[c] * JOB_FIELDS;
      k.matmul(
        ctl[o],
        ctl[o + 1] >>> 0,
        ctl[o + 2],
        ctl[o + 3],
        ctl[o + 4],
        ctl[c + 1],
        ctl[c + 2],
        ctl[o + 5] >>> 0,
        ctl[o + 6],
        ctl[o + 7] >>> 0,
        ctl[o + 8],
        ctl[o + 9] >>> 0,
        ctl[o + 10],
        ctl[o + 11] >>> 0,
      );
      if (heartbeat >= 0) Atomics.add(ctl, heartbeat, 1);
    }
  } finally {
    if (taken > 0 && Atomics.add(ctl, DONE, taken) + taken === total) Atomics.notify(ctl, DONE);
  }
}
