// Matvec throughput of the wasm kernels vs the memory-bandwidth probe.
// Run: npm run build:kernels && npx tsx bench/kernels.ts
import { GGMLType } from "../src/quant/types.js";
import { WasmKernels } from "../src/kernels/wasm.js";
import { probeBandwidth } from "../src/kernels/probe.js";
import { randomActivations, randomMatrix, rng } from "../src/kernels/testdata.js";

const probe = probeBandwidth(256, 3);
console.log(`probe: wasm SIMD sum over ${probe.bytes / 2 ** 20} MiB: ${probe.gbps.toFixed(1)} GB/s (1 core)`);

// [name, type, rows, cols, packed (Kernels.prepare'd into the 4-row layout)]
const cases: [string, GGMLType, number, number, boolean][] = [
  ["Q4_1 1536x576 (ffn up/gate) plain", GGMLType.Q4_1, 1536, 576, false],
  ["Q4_1 1536x576 (ffn up/gate)", GGMLType.Q4_1, 1536, 576, true],
  ["Q4_1 576x1536 (ffn down)", GGMLType.Q4_1, 576, 1536, true],
  ["Q4_1 576x576 (attn q/o)", GGMLType.Q4_1, 576, 576, true],
  ["Q8_0 49152x576 (output/embd) plain", GGMLType.Q8_0, 49152, 576, false],
  ["Q8_0 49152x576 (output/embd)", GGMLType.Q8_0, 49152, 576, true],
];

for (const threads of [1, 2]) {
  const k = await WasmKernels.create(threads);
  const rand = rng(1);
  for (const [name, type, rows, cols, packed] of cases) {
    // Several copies so the small matrices are not all served from cache, as in a real forward pass.
    const copies = Math.max(1, Math.ceil((64 << 20) / (rows * cols)));
    const ws = Array.from({ length: copies }, () => randomMatrix(k.heap, type, rows, cols, rand));
    if (packed) for (const w of ws) k.prepare(w);
    const x = randomActivations(k.heap, cols, rand);
    const out = k.heap.alloc(rows * 4);
    for (const w of ws) k.matvec(w, x, out);
    const bytes = ws[0].rowBytes * rows;
    // Wall time, and (1 thread) CPU time of this process: on a shared machine
    // the CPU time still says what the kernel costs when it does run.
    let best = Infinity, bestCpu = Infinity;
    for (let rep = 0; rep < 7; rep++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      const reps = Math.max(1, Math.ceil(20 / ws.length));
      for (let i = 0; i < reps; i++) for (const w of ws) k.matvec(w, x, out);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9 / ws.length / reps);
      const c = process.cpuUsage(c0);
      bestCpu = Math.min(bestCpu, (c.user + c.system) / 1e6 / ws.length / reps);
    }
    const gbps = bytes / best / 1e9;
    const cpu = threads === 1 ? `, cpu-time ${(bytes / bestCpu / 1e9).toFixed(1)} GB/s` : "";
    console.log(`${threads} thread(s) ${name}: ${(best * 1e6).toFixed(0)} us/matvec, ${gbps.toFixed(1)} GB/s (${((100 * gbps) / probe.gbps).toFixed(0)}% of 1-core probe)${cpu}`);
  }
  // prompt: batched matmul vs n matvecs
  const w = randomMatrix(k.heap, GGMLType.Q4_1, 1536, 576, rand);
  k.prepare(w);
  const n = 64;
  const x = randomActivations(k.heap, n * 576, rand);
  const out = k.heap.alloc(n * 1536 * 4);
  k.matmul(w, x, out, n);
  let t0 = process.hrtime.bigint();
  k.matmul(w, x, out, n);
  const tm = Number(process.hrtime.bigint() - t0) / 1e6;
  t0 = process.hrtime.bigint();
  for (let t = 0; t < n; t++) k.matvec(w, x + t * 576 * 4, out + t * 1536 * 4);
  const tv = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`${threads} thread(s) Q4_1 1536x576, ${n} tokens: matmul ${tm.toFixed(2)} ms, ${n} matvecs ${tv.toFixed(2)} ms`);
  await k.dispose();
}
