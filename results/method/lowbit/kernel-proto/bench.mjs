// Harness for q3.ts: correctness against a float64 reference, then hot and streaming throughput (1 thread).
import { readFileSync } from "node:fs";
const rows = Number(process.argv[2] ?? 1536), cols = Number(process.argv[3] ?? 576), streamMiB = Number(process.argv[4] ?? 256);
const mem = new WebAssembly.Memory({ initial: 8192 });
const X = (await WebAssembly.instantiate(readFileSync(new URL("./q3.wasm", import.meta.url)), { env: { memory: mem, abort() { throw new Error("abort"); } } })).instance.exports;
const M = X.memory ?? mem;
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
const nb = cols / 32, groups = rows / 4;
const f16 = (x) => { const f = new Float32Array([x]), u = new Uint32Array(f.buffer)[0]; const e = ((u >> 23) & 255) - 127 + 15, m = (u >> 13) & 1023; return ((u >> 16) & 0x8000) | (e << 10) | m; };
const f16v = (h) => { const e = (h >> 10) & 31, m = h & 1023; return (h & 0x8000 ? -1 : 1) * 2 ** (e - 15) * (1 + m / 1024); };
// activation block: f32 da, f32 sa, then A_j (j=0..3) with i32 lane k = pair (a[2k+8j], a[2k+1+8j]) ... 80 bytes? we use 72: 8 + 64
const ACT = 1024, actBytes = nb * 72;
const a = new Int16Array(cols).map(() => Math.round(rnd() * 254 - 127)), da = new Float32Array(nb).map(() => 0.01 + rnd() * 0.02);
{ const dv = new DataView(M.buffer);
  for (let b = 0; b < nb; b++) { const o = ACT + b * 72; let s = 0; for (let i = 0; i < 32; i++) s += a[32 * b + i];
    dv.setFloat32(o, da[b], true); dv.setFloat32(o + 4, da[b] * s, true);
    for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) { dv.setInt16(o + 8 + 16 * j + 4 * k, a[32 * b + 2 * k + 8 * j], true); dv.setInt16(o + 8 + 16 * j + 4 * k + 2, a[32 * b + 2 * k + 1 + 8 * j], true); } } }
function make(bits) {
  const q = new Uint8Array(rows * cols).map(() => Math.floor(rnd() * (1 << bits)));
  const d = new Uint16Array(rows * nb).map(() => f16(0.001 + rnd() * 0.01));
  const bb = bits === 4 ? 72 : 56, bytes = new Uint8Array(groups * nb * bb), dv = new DataView(bytes.buffer);
  for (let g = 0; g < groups; g++) for (let b = 0; b < nb; b++) {
    const o = (g * nb + b) * bb;
    for (let r = 0; r < 4; r++) dv.setUint16(o + 2 * r, d[(4 * g + r) * nb + b], true);
    const Q = (r, i) => q[(4 * g + r) * cols + 32 * b + i];
    if (bits === 4) for (let k = 0; k < 4; k++) for (let r = 0; r < 4; r++) for (let s = 0; s < 2; s++) {
      let v = 0; for (let j = 0; j < 4; j++) v |= Q(r, 2 * k + s + 8 * j) << (4 * j); dv.setUint16(o + 8 + 16 * k + 2 * (2 * r + s), v, true); }
    else {
      for (let m = 0; m < 2; m++) for (let r = 0; r < 4; r++) for (let s = 0; s < 2; s++) {
        let v = 0; for (let t = 0; t < 2; t++) for (let j = 0; j < 4; j++) v |= (Q(r, 2 * (2 * m + t) + s + 8 * j) & 3) << (2 * (4 * t + j)); dv.setUint16(o + 8 + 16 * m + 2 * (2 * r + s), v, true); }
      for (let r = 0; r < 4; r++) for (let s = 0; s < 2; s++) { let v = 0; for (let k = 0; k < 4; k++) for (let j = 0; j < 4; j++) v |= (Q(r, 2 * k + s + 8 * j) >> 2) << (4 * k + j); dv.setUint16(o + 40 + 2 * (2 * r + s), v, true); }
    }
  }
  const ref = new Float64Array(rows), off = bits === 4 ? 8 : 4;
  for (let r = 0; r < rows; r++) { let t = 0; for (let b = 0; b < nb; b++) { let s = 0; for (let i = 0; i < 32; i++) s += (q[r * cols + 32 * b + i] - off) * a[32 * b + i]; t += f16v(d[r * nb + b]) * da[b] * s; } ref[r] = t; }
  return { bytes, ref };
}
const OUT = ACT + actBytes + 64, W0 = (OUT + rows * 4 + 4095) & ~4095;
for (const [bits, fn] of [[4, X.matvecQ4], [3, X.matvecQ3]]) {
  const { bytes, ref } = make(bits);
  const copies = Math.max(1, Math.floor((streamMiB << 20) / bytes.length));
  const u8 = new Uint8Array(M.buffer);
  for (let c = 0; c < copies; c++) u8.set(bytes, W0 + c * bytes.length);
  fn(W0, ACT, nb, groups, OUT);
  const out = new Float32Array(M.buffer, OUT, rows);
  let e = 0, n = 0; for (let r = 0; r < rows; r++) { e = Math.max(e, Math.abs(out[r] - ref[r])); n = Math.max(n, Math.abs(ref[r])); }
  const time = (hot) => { const reps = hot ? 400 : copies * 2; let best = Infinity;
    for (let round = 0; round < 5; round++) { const t0 = process.hrtime.bigint(); for (let i = 0; i < reps; i++) fn(W0 + (hot ? 0 : (i % copies) * bytes.length), ACT, nb, groups, OUT); const dt = Number(process.hrtime.bigint() - t0) / 1e3 / reps; best = Math.min(best, dt); } return best; };
  const th = time(true), ts = time(false), w = rows * cols;
  console.log(`q${bits} ${rows}x${cols}: max err ${(e / n).toExponential(1)} of max |out|; hot ${th.toFixed(1)} us (${(w / th / 1e3).toFixed(1)} G weights/s, ${(bytes.length / th / 1e3).toFixed(1)} GB/s), streaming ${ts.toFixed(1)} us (${(w / ts / 1e3).toFixed(1)} G weights/s, ${(bytes.length / ts / 1e3).toFixed(1)} GB/s), ${copies} copies`);
}
// the product's kernels (matvec: activation quantization included) on the same shape, 1 thread
const { WasmKernels } = await import("../../../../dist/src/kernels/wasm.js");
const { GGMLType, typeInfo } = await import("../../../../dist/src/quant/types.js");
const { randomActivations, randomMatrix, rng } = await import("../../../../dist/test/helpers/kernel-testdata.js");
const { probeBandwidth } = await import("../../../../dist/src/kernels/probe.js");
for (const type of [GGMLType.Q4_1, GGMLType.Q4_0]) {
  const k = await WasmKernels.create(1), rand = rng(1);
  const bytes = (rows * typeInfo(type).typeSize * cols) / 32, copies = Math.max(1, Math.ceil((streamMiB << 20) / bytes));
  const ws = Array.from({ length: copies }, () => randomMatrix(k.heap, type, rows, cols, rand));
  for (const w of ws) k.prepare(w);
  const x = randomActivations(k.heap, cols, rand), out = k.heap.alloc(rows * 4);
  const time = (reps, f) => { let best = Infinity; for (let r = 0; r < 5; r++) { const t0 = process.hrtime.bigint(); for (let i = 0; i < reps; i++) f(i); best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e3 / reps); } return best; };
  const ts = time(copies * 2, (i) => k.matvec(ws[i % copies], x, out)), th = time(400, () => k.matvec(ws[0], x, out));
  const w = rows * cols;
  console.log(`product ${k.name} ${typeInfo(type).name} ${rows}x${cols}: hot ${th.toFixed(1)} us (${(w / th / 1e3).toFixed(1)} G weights/s, ${(bytes / th / 1e3).toFixed(1)} GB/s), streaming ${ts.toFixed(1)} us (${(w / ts / 1e3).toFixed(1)} G weights/s, ${(bytes / ts / 1e3).toFixed(1)} GB/s)`);
  await k.dispose();
}
const probe = probeBandwidth(256, 3);
console.log(`probe ${probe.gbps.toFixed(1)} GB/s; uptime load: ${(await import("node:os")).loadavg()[0].toFixed(2)}`);
