// ffn-sparse's realized kernels against the dense ones, per product (issue 16): the masked up projection
// (matvecMasked) and the neuron-major down projection (matvecNeuronMajor, its activation quantization included)
// at a share of groups of 4 kept, beside the dense matvec of the same matrices. Matrices are --mib of copies read in
// turn (weights from memory, as in a forward pass); one thread, CPU time, best of --rounds, the kinds alternating in
// every round. "per kept weight" = (realized time ÷ dense time) ÷ keep: 1.00 means the realized kernel spends what
// the dense one does on each weight it reads, which is what turns skipped bytes into time one for one.
//
//   npm run build && node --experimental-wasm-relaxed-simd dist/bench/sparse-kernels.js [--keep 1,0.75,0.65]
//     [--cases '[[3,1536,576]]'] [--rounds 7] [--mib 64] [--variant relaxed]
//   cases: [ggmlTypeId (2 = Q4_0, 3 = Q4_1), ffnDim, dim]: the up projection is ffnDim × dim, the down dim × ffnDim.
import { parseArgs } from "node:util";
import { WasmKernels } from "../src/kernels/wasm.js";
import type { KernelVariant } from "../src/kernels/wasm-module.js";
import type { NeuronMajorMatrix, WeightMatrix } from "../src/kernels/types.js";
import { randomMatrix, rng } from "../test/helpers/kernel-testdata.js";

const { values: opts } = parseArgs({
  options: {
    keep: { type: "string", default: "1,0.75,0.65" },
    cases: { type: "string", default: "[[3,1536,576],[2,5632,2048]]" },
    rounds: { type: "string", default: "7" },
    mib: { type: "string", default: "64" },
    variant: { type: "string", default: "relaxed" },
  },
});
const keeps = opts.keep.split(",").map(Number);
const K = await WasmKernels.create(1, undefined, opts.variant as KernelVariant);
const H = K.heap;
const rand = rng(9);

/** CPU microseconds of f() */
function cpu(f: () => void): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return c.user + c.system;
}

for (const [type, F, D] of JSON.parse(opts.cases) as [number, number, number][]) {
  const bytes = (w: WeightMatrix) => w.rows * w.rowBytes;
  const copies = Math.max(1, Math.ceil((Number(opts.mib) << 20) / (2 * F * Math.ceil((D / 32) * 20))));
  const ups: WeightMatrix[] = [],
    downs: WeightMatrix[] = [],
    nms: NeuronMajorMatrix[] = [];
  for (let c = 0; c < copies; c++) {
    const up = randomMatrix(H, type, F, D, rand),
      down = randomMatrix(H, type, D, F, rand);
    K.prepare(up);
    K.prepare(down);
    ups.push(up);
    downs.push(down);
    nms.push(K.neuronMajor(down)!);
  }
  const x = H.alloc(D * 4),
    h = H.alloc(F * 4),
    outUp = H.alloc(F * 4),
    outDown = H.alloc(D * 4),
    mask = H.alloc(F / 4);
  H.f32(x, D).set(Float32Array.from({ length: D }, () => rand() * 2 - 1));
  const masks = keeps.map((k) => Uint8Array.from({ length: F / 4 }, () => (rand() < k ? 1 : 0)));
  const hOf = (m: Uint8Array) => Float32Array.from({ length: F }, (_, i) => (m[i >> 2] ? rand() * 2 - 1 : 0));
  const hs = masks.map(hOf);
  const best = { up: Infinity, down: Infinity, masked: keeps.map(() => Infinity), nm: keeps.map(() => Infinity) };
  for (let r = 0; r < Number(opts.rounds); r++) {
    best.up = Math.min(best.up, cpu(() => ups.forEach((w) => K.matvec(w, x, outUp))) / copies);
    H.f32(h, F).set(hs[0]);
    best.down = Math.min(best.down, cpu(() => downs.forEach((w) => K.matvec(w, h, outDown))) / copies);
    keeps.forEach((_, i) => {
      H.u8(mask, F / 4).set(masks[i]);
      H.f32(h, F).set(hs[i]);
      best.masked[i] = Math.min(best.masked[i], cpu(() => ups.forEach((w) => K.matvecMasked!(w, x, outUp, mask))) / copies);
      best.nm[i] = Math.min(best.nm[i], cpu(() => nms.forEach((w) => K.matvecNeuronMajor!(w, h, outDown, mask))) / copies);
    });
  }
  const kept = masks.map((m) => m.reduce((a, b) => a + b, 0) / m.length);
  console.log(
    `type ${type}, up ${F}x${D} (${(bytes(ups[0]) / 1e6).toFixed(2)} MB), down ${D}x${F}, ${copies} copies, ${opts.variant}: dense up ${best.up.toFixed(1)} us, dense down ${best.down.toFixed(1)} us`,
  );
  kept.forEach((k, i) =>
    console.log(
      `  keep ${(100 * k).toFixed(1)}%: masked up ${best.masked[i].toFixed(1)} us (${(best.masked[i] / best.up / k).toFixed(2)} per kept weight), neuron-major down ${best.nm[i].toFixed(1)} us (${(best.nm[i] / best.down / k).toFixed(2)} per kept weight)`,
    ),
  );
}
await K.dispose();
