// Bit-exactness of the batched packed kernels under scratch sizes that force
// the other paths of matmul.ts batch(): tiles of split tokens (n larger than
// a tile), the expandedQuad fallback (no room for a tile), and the one-group
// kernels (no room for a group): every row of an n-row product must equal
// that row's matvec (n = 1), bit for bit. The K-quants (types 12-14) the
// same through prompt-k.ts batchK: column tiles (5632-wide rows at 1 MiB,
// fewer tokens at 160 and 96 KiB), token tiles (160 KiB, many tokens), two
// streams (96 KiB), the groupK2 / groupK fallback (24 and 4 KiB, n = 2 and
// 3, the baseline build), a lone last group and rows % 4 left in the plain
// layout. The small-batch path (small-batch.ts, n = 2..8) the same: odd n,
// row counts not a multiple of 4 groups per pass (a pass of the rest), one
// block per row, its split and sums not fitting a 4 KiB scratch. Each batch also with its activations split once per job (splitJob,
// matmul's split) and its rows in calls of 8, as the thread pool runs them.
// Run: npm run build && node --experimental-wasm-relaxed-simd dist/bench/batch-check.js [--builds build/kernels-relaxed.wasm,build/kernels.wasm]
import { parseArgs } from "node:util";
import { SharedHeap } from "../src/kernels/heap.js";
import { loadBuilds } from "./builds.js";
import { randomActivations, randomMatrix, rng } from "../test/helpers/kernel-testdata.js";

const PACKED = 0x100;
const { values: opts } = parseArgs({ options: { builds: { type: "string", default: "" } } });
const heap = new SharedHeap();
const builds = loadBuilds(opts.builds, heap);
const rand = rng(11);
const scratchKiB = [1024, 160, 96, 24, 4];
const ns = [2, 3, 4, 5, 6, 7, 8, 9, 12, 17, 40, 64];
let bad = 0,
  checked = 0,
  splitBuf = 0,
  splitCap = 0;
/** Rows of the n-row product at out against the per-row matvecs at ref, bit for bit. */
function compare(what: string, ref: number, out: number, rows: number, n: number): void {
  const a = new Uint32Array(heap.memory.buffer, ref, rows * n),
    b = new Uint32Array(heap.memory.buffer, out, rows * n);
  checked++;
  const i = a.findIndex((v, j) => v !== b[j]);
  if (i >= 0) {
    bad++;
    console.log(`${what}: differs at token ${Math.floor(i / rows)} row ${i % rows}`);
  }
}
for (const { name, K } of builds) {
  const scratchMax = 1024 << 10;
  const scratch = heap.alloc(scratchMax, 64);
  for (const [type, rows, cols] of [
    [3, 44, 576],
    [2, 36, 2048],
    [2, 20, 5632],
    [8, 28, 640],
    [3, 16, 576],
    [2, 6, 32],
    [8, 70, 64],
    [12, 46, 2048],
    [12, 8, 256],
    [13, 20, 5632],
    [13, 36, 1536],
    [14, 44, 2048],
    [14, 6, 768],
  ]) {
    const w = randomMatrix(heap, type, rows, cols, rand);
    K.repack(type, w.ptr, w.rowBytes, cols, rows, heap.alloc(4 * w.rowBytes, 64));
    const nMax = Math.max(...ns);
    const x = randomActivations(heap, cols * nMax, rand);
    const stride = K.actBytes(cols);
    const act = heap.alloc(stride * nMax, 64);
    for (let t = 0; t < nMax; t++) {
      if (K.actKind(type) === 2) K.quantizeActK(x + t * cols * 4, cols, act + t * stride);
      else K.quantizeAct(x + t * cols * 4, cols, act + t * stride);
    }
    const ref = heap.alloc(rows * 4 * nMax, 64);
    K.setScratch(scratch, scratchMax);
    for (let t = 0; t < nMax; t++) {
      K.matmul(type | PACKED, w.ptr, w.rowBytes, cols, rows, 0, rows, act + t * stride, stride, x, 1, ref + t * rows * 4, rows);
    }
    const out = heap.alloc(rows * 4 * nMax, 64);
    for (const kib of scratchKiB) {
      K.setScratch(scratch, kib << 10);
      for (const n of ns) {
        new Uint8Array(heap.memory.buffer, out, rows * 4 * n).fill(0x7f);
        K.matmul(type | PACKED, w.ptr, w.rowBytes, cols, rows, 0, rows, act, stride, x, n, out, rows);
        compare(`${name} type ${type} ${rows}x${cols} scratch ${kib} KiB n=${n}`, ref, out, rows, n);
        // the activations split once per job (splitJob), the rows in chunks of 8 as the pool hands them out
        const need = K.splitNeed(type | PACKED, cols, n);
        if (need > 0) {
          if (need > splitCap) {
            splitCap = need;
            splitBuf = heap.alloc(need, 64);
          }
          K.splitJob(type | PACKED, cols, act, stride, n, splitBuf);
          new Uint8Array(heap.memory.buffer, out, rows * 4 * n).fill(0x7f);
          for (let r0 = 0; r0 < rows; r0 += 8) {
            K.matmul(type | PACKED, w.ptr, w.rowBytes, cols, rows, r0, Math.min(rows, r0 + 8), act, stride, x, n, out, rows, splitBuf);
          }
          compare(`${name} type ${type} ${rows}x${cols} scratch ${kib} KiB n=${n} job split, chunks of 8 rows`, ref, out, rows, n);
        }
      }
    }
  }
}
console.log(`${checked - bad}/${checked} batches bit-identical to per-row matvecs`);
process.exitCode = bad ? 1 : 0;
