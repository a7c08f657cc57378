// A/B of the decode (matvec) kernels of two or more builds on packed matrices:
// each build repacks its own copies of the same random matrices (so a build
// may change the packed layout), quantizes the same activation, and runs
// n = 1 through its raw `matmul` export; rounds alternate between the builds
// in one process, CPU time per call (robust on a shared machine), best of
// --rounds. Outputs are compared bit for bit across the builds.
// Run: npm run build && node --experimental-wasm-relaxed-simd dist/bench/decode-ab.js --builds OLD.wasm,NEW.wasm
//   [--cases '[[2,5632,2048],...]'] (ggml type id, rows, cols) [--rounds 8] [--mib 64] (streaming footprint per build)
//   [--hot] (one matrix repeated, in cache: the kernel's compute bound instead of streaming)
//   [--n 1] (tokens per product: n > 1 runs the batch (prompt) kernels instead)
//   [--scratch-kib 1024] (each build's prompt scratch, as src/kernels/wasm.ts gives it; was 144 before session 10)
import { parseArgs } from "node:util";
import { SharedHeap } from "../src/kernels/heap.js";
import { randomActivations, randomMatrix, rng } from "../test/helpers/kernel-testdata.js";
import { loadBuild } from "./builds.js";

const { values: opts } = parseArgs({
  options: {
    builds: { type: "string", default: "" },
    cases: { type: "string", default: "[[2,5632,2048],[8,2048,2048],[12,2048,2048],[14,2048,2048]]" },
    rounds: { type: "string", default: "8" },
    mib: { type: "string", default: "64" },
    hot: { type: "boolean", default: false },
    n: { type: "string", default: "1" },
    "scratch-kib": { type: "string", default: "1024" },
  },
});
const paths = opts.builds.split(",").filter(Boolean);
if (paths.length < 2) throw new Error("usage: decode-ab.js --builds A.wasm,B.wasm[,...]");
const PACKED = 0x100;
const heap = new SharedHeap();
const builds = paths.map((p) => ({ name: p, K: loadBuild(p, heap) }));
const scratchBytes = Number(opts["scratch-kib"]) << 10; // the prompt scratch per thread (src/kernels/wasm.ts SCRATCH_BYTES)
for (const b of builds) b.K.setScratch(heap.alloc(scratchBytes, 64), scratchBytes);
const cases: [number, number, number][] = JSON.parse(opts.cases);
const rounds = Number(opts.rounds);
const n = Number(opts.n);

for (const [type, rows, cols] of cases) {
  const rand = rng(7);
  const first = randomMatrix(heap, type, rows, cols, rand);
  const bytes = first.rowBytes * rows;
  const copies = opts.hot ? 1 : Math.max(1, Math.ceil((Number(opts.mib) << 20) / bytes));
  const src = [first, ...Array.from({ length: copies - 1 }, () => randomMatrix(heap, type, rows, cols, rand))];
  const x = randomActivations(heap, cols * n, rand);
  const repackScratch = heap.alloc(4 * first.rowBytes, 64);
  const setup = builds.map(({ name, K }) => {
    const ws = src.map((w) => {
      const p = heap.alloc(bytes, 64);
      heap.u8(p, bytes).set(heap.u8(w.ptr, bytes));
      K.repack(type, p, w.rowBytes, cols, rows, repackScratch);
      return p;
    });
    const stride = K.actBytes(cols);
    const act = heap.alloc(stride * n, 64);
    for (let t = 0; t < n; t++) {
      if (K.actKind(type) === 2) K.quantizeActK(x + t * cols * 4, cols, act + t * stride);
      else K.quantizeAct(x + t * cols * 4, cols, act + t * stride);
    }
    return { name, K, ws, act, stride, out: heap.alloc(rows * 4 * n, 64), best: Infinity };
  });
  const reps = n > 1 ? Math.max(2, Math.min(copies, Math.ceil(40 / n))) : Math.max(copies, opts.hot ? 200 : 20);
  for (let round = 0; round < rounds; round++) {
    for (const s of round & 1 ? [...setup].reverse() : setup) {
      const c0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) {
        s.K.matmul(type | PACKED, s.ws[i % copies], first.rowBytes, cols, rows, 0, rows, s.act, s.stride, x, n, s.out, rows);
      }
      const c = process.cpuUsage(c0);
      s.best = Math.min(s.best, (c.user + c.system) / 1e6 / reps);
    }
  }
  const ref = heap.u8(setup[0].out, rows * 4 * n);
  const line = setup.map((s, i) => {
    const same = Buffer.compare(Buffer.from(heap.u8(s.out, rows * 4 * n)), Buffer.from(ref)) === 0;
    const ratio = i === 0 ? "" : ` x${(setup[0].best / s.best).toFixed(3)}${same ? "" : " OUTPUT DIFFERS"}`;
    return `${s.name.replace(/.*\//, "")} ${(bytes / s.best / 1e9).toFixed(2)} GB/s${ratio}`;
  });
  console.log(`type ${type} ${rows}x${cols}${n > 1 ? ` n=${n}` : ""}${opts.hot ? " hot" : ""}: ${line.join(", ")}`);
}
