import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readSync, openSync, closeSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readRangesInto, type FileRange } from "./parallel-read.js";

/** The single-range reader the loader passes: readSync until done, a short read named. */
function reader(path: string): (r: FileRange) => void {
  return (r) => {
    const fd = openSync(path, "r");
    try {
      for (let got = 0; got < r.dest.length; ) {
        const n = readSync(fd, r.dest, got, r.dest.length - got, r.offset + got);
        if (n === 0) throw new Error(`${path}: truncated at ${r.offset + got}`);
        got += n;
      }
    } finally {
      closeSync(fd);
    }
  };
}

test("readRangesInto reads every range, shared ones on worker threads, plain ones here, byte for byte", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-pread-"));
  try {
    const file = new Uint8Array(1 << 20);
    for (let i = 0; i < file.length; i++) file[i] = (i * 2654435761) >>> 24;
    const path = join(dir, "f.bin");
    writeFileSync(path, file);
    const shared = new SharedArrayBuffer(1 << 20);
    const ranges: FileRange[] = [];
    let at = 0;
    for (let i = 0; i < 40; i++) {
      const off = (i * 24593) % ((1 << 20) - 9000),
        len = 1000 + ((i * 7919) % 8000);
      ranges.push({ offset: off, dest: i % 5 === 4 ? new Uint8Array(len) : new Uint8Array(shared, at, len) });
      if (i % 5 !== 4) at += len;
    }
    readRangesInto(path, ranges, 3, reader(path), 1); // 3 threads, a worker for any size
    for (const r of ranges) assert.deepEqual(r.dest, file.subarray(r.offset, r.offset + r.dest.length), `range at ${r.offset}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("readRangesInto: a range past the end of the file fails with the single reader's error, not a hang", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-pread-"));
  try {
    const path = join(dir, "short.bin");
    writeFileSync(path, new Uint8Array(4096));
    const shared = new SharedArrayBuffer(8192);
    // the second share (the worker's) holds the range past the end: the worker fails, this thread rereads it and throws
    const ranges: FileRange[] = [
      { offset: 0, dest: new Uint8Array(shared, 0, 2048) },
      { offset: 3000, dest: new Uint8Array(shared, 2048, 4096) },
    ];
    assert.throws(() => readRangesInto(path, ranges, 2, reader(path), 1), /truncated at 4096/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
