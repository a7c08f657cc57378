// Attention over an f16 KV cache in two layouts: position-major rows (kvDim per position, the KV cache's layout before
// session 18) against head-major (each head's positions in one run, the layout now; src/model/kv-cache.ts). 7B shape
// 32/32/128, 32 layers; a read of EVICT_MIB (default 768) MiB evicts the caches before each round, and with
// EVICT_EACH_MIB also before each layer (as a real step's matrix products do; then only the attention calls are timed);
// WARM=1 skips the evictions. Results: results/bench/decode-s18.md.
// Run: npx tsc -p . && EVICT_MIB=3500 EVICT_EACH_MIB=100 taskset -c 1 node dist/bench/attn-layout.js [--pos 45]
//   [--build build/kernels-dotadd.wasm] [--rounds 6]
import { parseArgs } from "node:util";
import { SharedHeap } from "../src/kernels/heap.js";
import { loadBuild } from "./builds.js";

const { values: o } = parseArgs({
  options: {
    pos: { type: "string", default: "45" },
    build: { type: "string", default: "build/kernels-relaxed.wasm" },
    rounds: { type: "string", default: "6" },
  },
});
const heap = new SharedHeap();
const K = loadBuild(o.build, heap);
const nH = 32,
  hd = 128,
  kvDim = nH * hd,
  ctx = 512,
  layers = 32,
  pos = Number(o.pos);
const q = heap.alloc(nH * hd * 4, 64),
  out = heap.alloc(nH * hd * 4, 64);
const per = ctx * kvDim * 2;
const kc = Array.from({ length: layers }, () => heap.alloc(per, 4096)),
  vc = Array.from({ length: layers }, () => heap.alloc(per, 4096));
const f = heap.viewsF32(),
  h = new Uint16Array(f.buffer);
for (let i = 0; i < nH * hd; i++) f[(q >>> 2) + i] = Math.sin(i) * 0.3;
for (let l = 0; l < layers; l++)
  for (let i = 0; i < ctx * kvDim; i++) {
    h[(kc[l] >>> 1) + i] = 0x3c00 ^ ((i * 7919) & 0x83ff);
    h[(vc[l] >>> 1) + i] = 0x3800 ^ ((i * 104729) & 0x83ff);
  }
const scratch = heap.alloc(K.attentionScratch(ctx, nH, nH, hd), 64);
const evictBytes = Number(process.env.EVICT_MIB ?? 768) * 1048576,
  ev = heap.alloc(evictBytes, 4096);
const each = Number(process.env.EVICT_EACH_MIB ?? 0) * 1048576; // bytes read before each layer (the weights a layer streams)
const evict = (): void => {
  K.probeSum(ev, evictBytes);
};
const res: Record<string, number[]> = { "position-major": [], "head-major": [] };
for (let r = 0; r < Number(o.rounds); r++) {
  if (!process.env.WARM) evict();
  let t0 = performance.now();
  let tp = 0;
  for (let l = 0; l < layers; l++) {
    if (each) K.probeSum(ev + l * each, each);
    const t = performance.now();
    K.attention(out, q, kc[l], vc[l], kvDim, hd, pos, nH, nH, hd, scratch, 1);
    tp += performance.now() - t;
  }
  res["position-major"].push(each ? tp : performance.now() - t0);
  if (!process.env.WARM) evict();
  t0 = performance.now();
  // head-major: head j's position t at (j * ctx + t) * hd (the same bytes read as the other layout; the timing is what matters)
  let th = 0;
  for (let l = 0; l < layers; l++) {
    if (each) K.probeSum(ev + l * each, each);
    const t = performance.now();
    K.attention(out, q, kc[l], vc[l], hd, ctx * hd, pos, nH, nH, hd, scratch, 1);
    th += performance.now() - t;
  }
  res["head-major"].push(each ? th : performance.now() - t0);
}
for (const [k, v] of Object.entries(res))
  console.log(k, "ms per token (32 layers), best", Math.min(...v).toFixed(2), "median", v.sort((a, b) => a - b)[v.length >> 1].toFixed(2));
