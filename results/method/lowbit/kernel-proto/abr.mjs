// Relaxed prototypes (q3r.ts): correctness against float64, then interleaved rounds against the product Q4_1 kernel,
// 1 thread per process. Build: npx asc results/method/lowbit/kernel-proto/q3r.ts --outFile results/method/lowbit/kernel-proto/q3r.wasm --optimizeLevel 3 --runtime stub --enable simd --enable relaxed-simd --noAssert
// (asconfig.json at the root adds its shared imported memory). Run: node --experimental-wasm-relaxed-simd results/method/lowbit/kernel-proto/abr.mjs ROWS COLS MiB ROUNDS
import { readFileSync } from "node:fs";
const rows = Number(process.argv[2] ?? 1536), cols = Number(process.argv[3] ?? 576), streamMiB = Number(process.argv[4] ?? 128), rounds = Number(process.argv[5] ?? 30);
const D = new URL("../../../../dist", import.meta.url).href;
const { WasmKernels } = await import(`${D}/src/kernels/wasm.js`);
const { GGMLType, typeInfo } = await import(`${D}/src/quant/types.js`);
const { randomActivations, randomMatrix, rng } = await import(`${D}/test/helpers/kernel-testdata.js`);
const { probeBandwidth } = await import(`${D}/src/kernels/probe.js`);
const M = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
const X = (await WebAssembly.instantiate(readFileSync(new URL("./q3r.wasm", import.meta.url)), { env: { memory: M, abort() { throw new Error("abort"); } } })).instance.exports;
const nb = cols / 32, groups = rows / 4;
const ACT = 1024, OUT = ACT + nb * 40 + 64 + 4096, W0 = (OUT + rows * 4 + 64 + 4095) & ~4095;
let seed = 7; const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const need = W0 + (streamMiB << 20) * 4 + (8 << 20);
if (M.buffer.byteLength < need) M.grow(Math.ceil((need - M.buffer.byteLength) / 65536));
// activations
const a = new Int8Array(cols).map(() => Math.round(rnd() * 254 - 127)), da = new Float32Array(nb).map(() => 0.01 + rnd() * 0.02);
{ const dv = new DataView(M.buffer);
  for (let b = 0; b < nb; b++) { const o = ACT + b * 40; let s = 0; for (let i = 0; i < 32; i++) { s += a[32 * b + i]; dv.setInt8(o + 8 + i, a[32 * b + i]); }
    dv.setFloat32(o, da[b], true); dv.setFloat32(o + 4, Math.fround(da[b]) * s, true); } }
const f16 = (x) => { const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0]; const e = ((u >> 23) & 255) - 127 + 15, m = (u >> 13) & 1023; return ((u >> 16) & 0x8000) | (e << 10) | m; };
const f16v = (h) => { const e = (h >> 10) & 31, m = h & 1023; return (h & 0x8000 ? -1 : 1) * 2 ** (e - 15) * (1 + m / 1024); };
function make(bits, at) {
  const q = new Uint8Array(rows * cols).map(() => Math.floor(rnd() * (1 << bits)));
  const d = new Uint16Array(rows * nb).map(() => f16(0.001 + rnd() * 0.01));
  const bb = bits === 4 ? 72 : 56, bytes = new Uint8Array(groups * nb * bb), dv = new DataView(bytes.buffer);
  for (let g = 0; g < groups; g++) for (let b = 0; b < nb; b++) {
    const o = (g * nb + b) * bb, Q = (r, i) => q[(4 * g + r) * cols + 32 * b + i];
    for (let r = 0; r < 4; r++) dv.setUint16(o + 2 * r, d[(4 * g + r) * nb + b], true);
    for (let r = 0; r < 4; r++) for (let t = 0; t < 4; t++) {
      if (bits === 4) for (let k = 0; k < 4; k++) bytes[o + 8 + 16 * k + 4 * r + t] = Q(r, 4 * (2 * k) + t) | (Q(r, 4 * (2 * k + 1) + t) << 4);
      else {
        for (let m = 0; m < 2; m++) { let v = 0; for (let f = 0; f < 4; f++) v |= (Q(r, 4 * (4 * m + f) + t) & 3) << (2 * f); bytes[o + 8 + 16 * m + 4 * r + t] = v; }
        let h = 0; for (let j = 0; j < 8; j++) h |= (Q(r, 4 * j + t) >> 2) << j; bytes[o + 40 + 4 * r + t] = h;
      }
    }
  }
  new Uint8Array(M.buffer, at, bytes.length).set(bytes);
  const off = bits === 4 ? 8 : 4, ref = new Float64Array(rows);
  for (let r = 0; r < rows; r++) { let acc = 0; for (let b = 0; b < nb; b++) { let s = 0, sq = 0; for (let i = 0; i < 32; i++) { s += q[r * cols + 32 * b + i] * a[32 * b + i]; sq += a[32 * b + i]; } acc += f16v(d[r * nb + b]) * da[b] * (s - off * sq); } ref[r] = acc; }
  return { bytes: bytes.length, ref };
}
for (const [bits, fn] of [[4, X.matvecQ4], [3, X.matvecQ3], [4, X.streamsQ4], [3, X.streamsQ3]]) {
  const { ref } = make(bits, W0); fn(W0, ACT, nb, groups, OUT);
  const out = new Float32Array(M.buffer, OUT, rows); let err = 0, mx = 0;
  for (let r = 0; r < rows; r++) { err = Math.max(err, Math.abs(out[r] - ref[r])); mx = Math.max(mx, Math.abs(ref[r])); }
  console.log(`q${bits} proto: max |out - float64| ${err.toExponential(2)} (max |ref| ${mx.toExponential(2)})`);
  if (!(err <= 1e-5 * mx + 1e-6)) throw new Error(`q${bits} prototype is wrong`);
}
const runs = [];
{ const type = GGMLType.Q4_1, k = await WasmKernels.create(1), rand = rng(1);
  const bytes = (rows * typeInfo(type).typeSize * cols) / 32, copies = Math.max(1, Math.ceil((streamMiB << 20) / bytes));
  const ws = Array.from({ length: copies }, () => randomMatrix(k.heap, type, rows, cols, rand)); for (const w of ws) k.prepare(w);
  const x = randomActivations(k.heap, cols, rand), out = k.heap.alloc(rows * 4);
  runs.push({ name: `product Q4_1 (${k.variant ?? "auto"})`, bytes, copies, call: (i) => k.matvec(ws[i % copies], x, out) }); }
let base = W0;
for (const [name, bb, fn] of [["proto q4 relaxed", 72, X.matvecQ4], ["proto q3 relaxed", 56, X.matvecQ3], ["proto q4 8 streams", 72, X.streamsQ4], ["proto q3 8 streams", 56, X.streamsQ3]]) {
  const bytes = groups * nb * bb, copies = Math.max(1, Math.floor((streamMiB << 20) / bytes)), at = base;
  new Uint8Array(M.buffer, at, bytes * copies).forEach((_, i, u) => { u[i] = (i * 2654435761) >>> 24; });
  for (let c = 0; c < copies; c++) for (let g = 0; g < groups * nb; g++) new DataView(M.buffer).setUint32(at + c * bytes + g * bb, 0x20002000, true) ;
  runs.push({ name, bytes, copies, call: (i) => fn(at + (i % copies) * bytes, ACT, nb, groups, OUT) });
  base += bytes * copies;
}
const t = runs.map(() => []);
for (let r = 0; r < rounds; r++) runs.forEach((run, j) => { const n = Math.max(run.copies, 100); const t0 = process.hrtime.bigint(); for (let i = 0; i < n; i++) run.call(i); t[j].push(Number(process.hrtime.bigint() - t0) / 1e3 / n); });
const med = (v) => { const s = [...v].sort((x, y) => x - y); return s[s.length >> 1]; };
console.log(`${rows}x${cols}, ${rounds} interleaved rounds, ${streamMiB} MiB of copies per kernel, 1 thread; probe ${probeBandwidth(256, 3).gbps.toFixed(1)} GB/s; load ${(await import("node:os")).loadavg()[0].toFixed(2)}`);
runs.forEach((run, j) => { const m = med(t[j]), ratio = med(t[j].map((x, r) => x / t[0][r]));
  console.log(`${run.name.padEnd(26)} ${(run.bytes / 1024).toFixed(0).padStart(5)} KiB: median ${m.toFixed(1)} us/call (${(rows * cols / m / 1e3).toFixed(1)} G weights/s, ${(run.bytes / m / 1e3).toFixed(1)} GB/s); time ÷ product Q4_1 ${ratio.toFixed(3)} (bytes ÷ ${(run.bytes / runs[0].bytes).toFixed(3)})`); });
