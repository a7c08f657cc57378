// Interleaved rounds (the VM drifts): per round, each kernel streams through its copies once; median per-call times
// and the median of per-round ratios against the product's Q4_1 (the file's type). 1 thread.
import { readFileSync } from "node:fs";
const rows = Number(process.argv[2] ?? 1536), cols = Number(process.argv[3] ?? 576), streamMiB = Number(process.argv[4] ?? 128), rounds = Number(process.argv[5] ?? 30);
const { WasmKernels } = await import("../../../../dist/src/kernels/wasm.js");
const { GGMLType, typeInfo } = await import("../../../../dist/src/quant/types.js");
const { randomActivations, randomMatrix, rng } = await import("../../../../dist/test/helpers/kernel-testdata.js");
const { probeBandwidth } = await import("../../../../dist/src/kernels/probe.js");
const X = (await WebAssembly.instantiate(readFileSync(new URL("./q3.wasm", import.meta.url)), { env: { abort() { throw new Error("abort"); } } })).instance.exports;
const nb = cols / 32, groups = rows / 4;
const runs = [];
for (const type of [GGMLType.Q4_1, GGMLType.Q4_0, GGMLType.Q8_0]) {
  const k = await WasmKernels.create(1), rand = rng(1);
  const bytes = (rows * typeInfo(type).typeSize * cols) / 32, copies = Math.max(1, Math.ceil((streamMiB << 20) / bytes));
  const ws = Array.from({ length: copies }, () => randomMatrix(k.heap, type, rows, cols, rand));
  for (const w of ws) k.prepare(w);
  const x = randomActivations(k.heap, cols, rand), out = k.heap.alloc(rows * 4);
  runs.push({ name: `product ${typeInfo(type).name}`, bytes, copies, call: (i) => k.matvec(ws[i % copies], x, out) });
}
// prototype kernels on random bytes (speed only; correctness is bench.mjs's)
const mem = X.memory; const ACT = 1024, OUT = ACT + nb * 72 + 64, W0 = (OUT + rows * 4 + 4095) & ~4095;
for (const [name, bb, fn] of [["proto q4 (int16 path)", 72, X.matvecQ4], ["proto q3 (int16 path)", 56, X.matvecQ3]]) {
  const bytes = groups * nb * bb, copies = Math.max(1, Math.floor((streamMiB << 20) / bytes));
  runs.push({ name, bytes, copies, call: (i) => fn(W0 + (i % copies) * bytes, ACT, nb, groups, OUT), proto: true });
}
{ // fill the prototype area with random bytes once (scales as small normal f16)
  const need = Math.max(...runs.filter((r) => r.proto).map((r) => r.bytes * r.copies));
  if (mem.buffer.byteLength < W0 + need) mem.grow(Math.ceil((W0 + need - mem.buffer.byteLength) / 65536));
  const u8 = new Uint8Array(mem.buffer, W0, need); for (let i = 0; i < need; i++) u8[i] = (i * 2654435761) >>> 24;
  const dv = new DataView(mem.buffer); for (let b = 0; b < nb; b++) { dv.setFloat32(ACT + 72 * b, 0.01, true); dv.setFloat32(ACT + 72 * b + 4, 0.1, true); }
}
const t = runs.map(() => []);
for (let r = 0; r < rounds; r++) {
  runs.forEach((run, j) => { const n = Math.max(run.copies, 100); const t0 = process.hrtime.bigint(); for (let i = 0; i < n; i++) run.call(i); t[j].push(Number(process.hrtime.bigint() - t0) / 1e3 / n); });
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
console.log(`${rows}x${cols}, ${rounds} interleaved rounds, ${streamMiB} MiB of copies per kernel, 1 thread; probe ${probeBandwidth(256, 3).gbps.toFixed(1)} GB/s; load ${(await import("node:os")).loadavg()[0].toFixed(2)}`);
runs.forEach((run, j) => {
  const m = med(t[j]), ratio = med(t[j].map((x, r) => x / t[0][r]));
  console.log(`${run.name.padEnd(24)} ${(run.bytes / 1024).toFixed(0).padStart(5)} KiB: median ${m.toFixed(1)} us/call (${(rows * cols / m / 1e3).toFixed(1)} G weights/s, ${(run.bytes / m / 1e3).toFixed(1)} GB/s); time ÷ product Q4_1 ${ratio.toFixed(3)} (bytes ÷ ${(run.bytes / runs[0].bytes).toFixed(3)})`);
});
