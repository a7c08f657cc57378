// Worker of readRangesInto (parallel-read.ts): reads its share of a file's byte ranges into shared memory, then sets
// the done flag (1: all read, 2: something failed; the main thread then rereads the share itself for the error).
import { closeSync, openSync, readSync } from "node:fs";
import { workerData } from "node:worker_threads";
import type { SharedRange } from "./parallel-read.js";

const { path, ranges, flag } = workerData as { path: string; ranges: SharedRange[]; flag: SharedArrayBuffer };
const done = new Int32Array(flag);
let status = 1;
try {
  const fd = openSync(path, "r");
  try {
    for (const r of ranges) {
      const dest = new Uint8Array(r.buffer, r.byteOffset, r.bytes);
      for (let got = 0; got < r.bytes; ) {
        const n = readSync(fd, dest, got, r.bytes - got, r.offset + got);
        if (n === 0) throw new Error("short read");
        got += n;
      }
    }
  } finally {
    closeSync(fd);
  }
} catch {
  status = 2;
}
Atomics.store(done, 0, status);
Atomics.notify(done, 0);
