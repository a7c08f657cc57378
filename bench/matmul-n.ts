// Per-matrix time of an n-row product (n = 1: the decode matvec) on packed
// matrices, for one or two kernel builds alternating in one process, CPU time
// per call (robust on a shared machine), best of --rounds rounds (5); one thread.
// Run: npm run build && node --experimental-wasm-relaxed-simd dist/bench/matmul-n.js [--n 1,2,4,8,64]
//        [--cases '[[3,1536,576],[2,2048,5632],[8,49152,576]]'] [--builds build/kernels-relaxed.wasm,OLD.wasm] [--rounds 5] [--mib 64]
//   cases: [ggmlTypeId, rows, cols]; default SmolLM2's gate (Q4_1 1536x576) and down (Q4_1 576x1536),
//   a 1.1B Q4_0 FFN matrix (5632x2048) and Q8_0 2048x640 and SmolLM2's output (Q8_0 49152x576).
//   Matrices are 64 MiB of copies read in turn, so weights come from memory as in a forward pass;
//   --mib 0: one matrix repeated (hot in cache for small shapes), the kernel's instruction bound.
//   --bound: also time the int8 instruction bound (assembly/probe.ts peakDot, the first build's) in every round,
//     and print each product's multiply-adds per second as a share of it (same rounds, same CPU-time clock).
//   --ceiling (with --bound and n = 1 in --n): per n > 1, the aggregate speed-up batching n sequences can give on
//     this product, n·T1 ÷ Tn: as measured (first build), and its ceiling with the n-row product at the int8 dot
//     peak (Tn >= n·rows·cols ÷ peak), beside T1's own floor at the bandwidth probe of this run (bytes ÷ GB/s).
//   --chunk-rows R: each product as calls of R rows (r0..r0+R), as the thread pool hands out chunks
//     (src/kernels/pool.ts chunkRows: 16 rows for a 2048-wide matrix at n = 64); 0 (default): one call.
//   --scratch-kib K: each build's prompt scratch (assembly/prompt.ts setScratch; default 1024, as src/kernels/wasm.ts gives it).
//   Outputs are compared across builds (OUTPUTS DIFFER on the case line when any bit differs).
//   All builds read matrices packed by the first: to compare builds whose packed layouts differ (Q4_0, Q4_1
//   and Q8_0 changed in session 9), use bench/decode-ab.ts (--n for batches), where each build packs its own.
import { parseArgs } from "node:util";
import { SharedHeap } from "../src/kernels/heap.js";
import { loadBuilds } from "./builds.js";
import { probeBandwidth } from "../src/kernels/probe.js";
import { randomActivations, randomMatrix, rng } from "../test/helpers/kernel-testdata.js";

const PACKED = 0x100;
const { values: opts } = parseArgs({
  options: {
    n: { type: "string", default: "1,2,4,8,64" },
    cases: { type: "string", default: "[[3,1536,576],[3,576,1536],[2,5632,2048],[8,2048,640],[8,49152,576]]" },
    builds: { type: "string", default: "" },
    rounds: { type: "string", default: "5" },
    mib: { type: "string", default: "64" },
    "scratch-kib": { type: "string", default: "1024" },
    bound: { type: "boolean", default: false },
    ceiling: { type: "boolean", default: false },
    "chunk-rows": { type: "string", default: "0" },
  },
});
const ns = opts.n.split(",").map(Number);
const cases: [number, number, number][] = JSON.parse(opts.cases);
const heap = new SharedHeap();
const builds = loadBuilds(opts.builds, heap);
const scratchBytes = Number(opts["scratch-kib"]) << 10;
for (const { K } of builds) K.setScratch(heap.alloc(scratchBytes, 64), scratchBytes);
const rand = rng(5);
const probe = heap.alloc(256, 64);
new Uint8Array(heap.memory.buffer, probe, 256).forEach((_, i, a) => (a[i] = (i * 37) & 127));
const PROBE_ITERS = 200_000;
for (let i = 0; i < 50; i++) builds[0].K.peakDot(probe, PROBE_ITERS / 20); // tier up
/** CPU microseconds of one peakDot call of PROBE_ITERS rounds (128 int8 or 64 int16 multiply-adds each). */
function boundCall(): number {
  const c0 = process.cpuUsage();
  builds[0].K.peakDot(probe, PROBE_ITERS);
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}
if (opts.ceiling && !(opts.bound && ns.includes(1))) throw new Error("--ceiling needs --bound and 1 in --n");
const probeGBs = opts.ceiling ? probeBandwidth(256, 3).gbps : 0;
if (opts.ceiling) console.log(`bandwidth probe ${probeGBs.toFixed(1)} GB/s (one core, wasm, this run)`);
const boundMacs = PROBE_ITERS * (builds[0].K.relaxed() >= 1 ? 128 : 64);
const nMax = Math.max(...ns);
const chunkRows = Number(opts["chunk-rows"]);
for (const [type, rows, cols] of cases) {
  const first = randomMatrix(heap, type, rows, cols, rand);
  const copies = Math.max(1, Math.ceil((Number(opts.mib) << 20) / (rows * first.rowBytes)));
  const ws = [first, ...Array.from({ length: copies - 1 }, () => randomMatrix(heap, type, rows, cols, rand))];
  const scratch = heap.alloc(4 * first.rowBytes, 64);
  for (const w of ws) builds[0].K.repack(type, w.ptr, w.rowBytes, cols, rows, scratch); // same layout for every build
  const x = randomActivations(heap, cols * nMax, rand);
  const out = heap.alloc(rows * 4 * nMax);
  const acts = builds.map(({ K }) => {
    const stride = K.actBytes(cols),
      act = heap.alloc(stride * nMax, 64);
    for (let t = 0; t < nMax; t++) {
      if (K.actKind(type) === 2) K.quantizeActK(x + t * cols * 4, cols, act + t * stride);
      else K.quantizeAct(x + t * cols * 4, cols, act + t * stride);
    }
    return { act, stride };
  });
  const chunk = chunkRows > 0 ? chunkRows : rows;
  let t1 = NaN; // the first build's n = 1 time (us)
  for (const n of ns) {
    const best = builds.map(() => Infinity);
    let boundBest = Infinity;
    const reps = copies === 1 ? Math.ceil(200 / n) : Math.max(2, Math.min(copies, Math.ceil(40 / n)));
    for (let round = 0; round < Number(opts.rounds); round++) {
      if (opts.bound) boundBest = Math.min(boundBest, boundCall());
      builds.forEach(({ K }, b) => {
        const c0 = process.cpuUsage();
        for (let i = 0; i < reps; i++) {
          const w = ws[i % copies];
          for (let r0 = 0; r0 < rows; r0 += chunk) {
            K.matmul(
              type | PACKED,
              w.ptr,
              w.rowBytes,
              cols,
              rows,
              r0,
              Math.min(rows, r0 + chunk),
              acts[b].act,
              acts[b].stride,
              x,
              n,
              out,
              rows,
            );
          }
        }
        const c = process.cpuUsage(c0);
        best[b] = Math.min(best[b], (c.user + c.system) / reps);
      });
    }
    // outputs of every build against the first's, bit for bit
    const outs = builds.map(({ K }, b) => {
      K.matmul(type | PACKED, first.ptr, first.rowBytes, cols, rows, 0, rows, acts[b].act, acts[b].stride, x, n, out, rows);
      return new Uint32Array(heap.memory.buffer, out, rows * n).slice();
    });
    const same = outs.every((o) => o.every((v, i) => v === outs[0][i]));
    console.log(
      `type ${type} ${rows}x${cols} n=${n}${same ? "" : " OUTPUTS DIFFER"}: ` +
        builds.map((b, i) => `${b.name} ${best[i].toFixed(0)} us (${(best[i] / n).toFixed(1)} us/row)`).join(", ") +
        (builds.length === 2 ? `, x${(best[1] / best[0]).toFixed(2)}` : ""),
    );
    if (opts.bound) {
      const bound = boundMacs / boundBest / 1e3,
        macs = rows * cols * n;
      console.log(
        `  bound ${bound.toFixed(1)} GMAC/s: ` +
          builds
            .map((b, i) => `${b.name} ${(macs / best[i] / 1e3).toFixed(1)} GMAC/s (${((100 * macs) / best[i] / 1e3 / bound).toFixed(0)}%)`)
            .join(", "),
      );
      if (n === 1) t1 = best[0];
      if (opts.ceiling && n > 1) {
        const floor1 = (rows * first.rowBytes) / probeGBs / 1e3; // us at the probe's bandwidth
        const peakN = macs / bound / 1e3; // us for n rows at the dot peak
        console.log(
          `  batching ${n}: n·T1/Tn ${((n * t1) / best[0]).toFixed(2)}× measured; ceiling ${((n * t1) / peakN).toFixed(2)}× ` +
            `(n-row product at the dot peak; T1 ${t1.toFixed(0)} us, its bandwidth floor ${floor1.toFixed(0)} us → ${((n * floor1) / peakN).toFixed(2)}×)`,
        );
      }
    }
  }
}
