// Time of one attention call (one query over an f16 KV cache) for one or two
// kernel builds alternating in one process, CPU time per call, best of
// --rounds rounds; one thread. Shapes are nHeads/nKvHeads/headDim.
// Run: npm run build && node --experimental-wasm-relaxed-simd dist/bench/attention.js
//        [--shapes 9/3/64,4/1/256,32/32/128,32/8/128] [--pos 100,500] [--builds build/kernels-relaxed.wasm,OLD.wasm] [--rounds 20]
//   (default shapes: SmolLM2-135M, Gemma 3 270M, LLaMA-2-7B, Llama-3-8B; a build without attentionScratch
//   gets the scratch it asked for before, pos + 1 floats)
import { parseArgs } from "node:util";
import { SharedHeap } from "../src/kernels/heap.js";
import { loadBuilds } from "./builds.js";

const { values: opts } = parseArgs({
  options: {
    shapes: { type: "string", default: "9/3/64,4/1/256,32/32/128,32/8/128" },
    pos: { type: "string", default: "100,500" },
    builds: { type: "string", default: "" },
    rounds: { type: "string", default: "20" },
  },
});
const heap = new SharedHeap();
const builds = loadBuilds(opts.builds, heap);
const positions = opts.pos.split(",").map(Number);
const maxPos = Math.max(...positions);
for (const shape of opts.shapes.split(",")) {
  const [nH, nKv, hd] = shape.split("/").map(Number);
  const kvDim = nKv * hd,
    ctx = maxPos + 1;
  const q = heap.alloc(nH * hd * 4, 64),
    out = heap.alloc(nH * hd * 4, 64);
  const kc = heap.alloc(ctx * kvDim * 2, 64),
    vc = heap.alloc(ctx * kvDim * 2, 64);
  const f = heap.viewsF32(),
    h = new Uint16Array(f.buffer);
  for (let i = 0; i < nH * hd; i++) f[(q >>> 2) + i] = Math.sin(i) * 0.3;
  // halves of magnitude 0.5..2 with pseudo-random mantissas and signs
  for (let i = 0; i < ctx * kvDim; i++) {
    h[(kc >>> 1) + i] = 0x3c00 ^ ((i * 7919) & 0x83ff);
    h[(vc >>> 1) + i] = 0x3800 ^ ((i * 104729) & 0x83ff);
  }
  for (const pos of positions) {
    const scratch = builds.map(({ K }) => {
      const need = K.attentionScratch ? K.attentionScratch(pos, nH, nKv, hd) : (pos + 1) * 4;
      return heap.alloc(need, 64);
    });
    const best = builds.map(() => Infinity);
    const reps = Math.max(10, Math.ceil(2e6 / (nH * hd * (pos + 1))));
    for (let r = 0; r < Number(opts.rounds); r++)
      builds.forEach(({ K }, b) => {
        const c0 = process.cpuUsage();
        for (let i = 0; i < reps; i++) K.attention(out, q, kc, vc, kvDim, hd, pos, nH, nKv, hd, scratch[b], 1);
        const c = process.cpuUsage(c0);
        best[b] = Math.min(best[b], (c.user + c.system) / reps);
      });
    const cells = builds.map(({ name }, b) => `${name} ${best[b].toFixed(1)} us`);
    const ratio = builds.length === 2 ? `, x${(best[1] / best[0]).toFixed(2)}` : "";
    console.log(`${nH}/${nKv}x${hd} pos ${pos}: ${cells.join(", ")}${ratio}`);
  }
}
