// A/B of two kernel builds on the same matrices: matvec (or an n-token
// matmul) through the raw wasm `matmul` export of each, alternating rounds in
// one process, CPU time per call (robust on a shared machine), best of 6.
// Run: npm run build && node --experimental-wasm-relaxed-simd dist/bench/kernels-ab.js OLD.wasm NEW.wasm [cases-json] [n]
//   cases-json: [[ggmlTypeId, rows, cols], ...]; default Q4_0, Q5_0, Q4_K (2 shapes), Q5_K, Q6_K
//   (keep a copy of build/*.wasm from before a change to compare against)
//   The matrices are not prepared (plain layout): builds since the K-quants read the AK activation
//   stage plain K rows as packed groups per call, so compare K-quants with bench/kernels.ts instead.
import { SharedHeap } from "../src/kernels/heap.js";
import { randomActivations, randomMatrix, rng } from "../test/helpers/kernel-testdata.js";
import { loadBuild } from "./builds.js";

const [oldPath, newPath, casesArg, nArg] = process.argv.slice(2);
if (!oldPath || !newPath) throw new Error("usage: kernels-ab.js OLD.wasm NEW.wasm [cases-json] [n]");
const heap = new SharedHeap();
const builds = { old: loadBuild(oldPath, heap), new: loadBuild(newPath, heap) };
const cases: [number, number, number][] = JSON.parse(
  casesArg ?? "[[2,5632,2048],[6,2048,640],[12,640,1024],[12,2048,2048],[13,2048,2048],[14,640,2048]]",
);
const n = Number(nArg ?? 1);
const rand = rng(3);
for (const [type, rows, cols] of cases) {
  const first = randomMatrix(heap, type, rows, cols, rand);
  const copies = Math.max(1, Math.ceil((64 << 20) / (rows * first.rowBytes)));
  const ws = [first, ...Array.from({ length: copies - 1 }, () => randomMatrix(heap, type, rows, cols, rand))];
  const x = randomActivations(heap, cols * n, rand);
  const setup = Object.fromEntries(
    Object.entries(builds).map(([name, K]) => {
      const stride = K.actBytes(cols),
        act = heap.alloc(stride * n, 64);
      const ak = K.actKind?.(type) === 2; // builds before AK have no actKind
      for (let t = 0; t < n; t++) (ak ? K.quantizeActK : K.quantizeAct)(x + t * cols * 4, cols, act + t * stride);
      return [name, { K, act, stride, out: heap.alloc(rows * 4 * n), best: Infinity }];
    }),
  );
  for (let round = 0; round < 6; round++) {
    for (const s of Object.values(setup)) {
      const reps = n === 1 ? Math.max(copies, 20) : 2;
      const c0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) {
        const w = ws[i % copies];
        s.K.matmul(w.type, w.ptr, w.rowBytes, cols, rows, 0, rows, s.act, s.stride, x, n, s.out, rows);
      }
      const c = process.cpuUsage(c0);
      s.best = Math.min(s.best, (c.user + c.system) / 1e6 / reps);
    }
  }
  const bytes = first.rowBytes * rows,
    o = setup.old,
    w = setup.new;
  console.log(
    `type ${type} ${rows}x${cols} n=${n}: old ${(bytes / o.best / 1e9).toFixed(2)} GB/s, new ${(bytes / w.best / 1e9).toFixed(2)} GB/s (CPU time), x${(o.best / w.best).toFixed(2)}`,
  );
}
