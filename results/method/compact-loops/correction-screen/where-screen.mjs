// Session 24 screen for issue 16 (research, not product). Run from the repository root after `npx tsc -p .`:
//   node results/method/compact-loops/correction-screen/where-screen.mjs ~/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf profiles/smollm2-135m-instruct-prune-u50.keep
// Screen: is a compact copy's error (dropped neurons' contribution d) predictable per token and layer from what the
// compact copy itself computes? If so, a two-stage FFN (top half, then the other half only where needed) could pick
// where to stop. Records per (token, middle layer): err = ||d||^2/||x||^2 (x = residual entering the FFN), and
// predictors from the kept half: kc = ||c||^2/||x||^2 (c = kept neurons' output), hk = ||h_K||^2, hmax = max |h_K|.
import { loadModel } from "../../../../dist/src/api/engine.js";
import { buildCalibSet } from "../../../../dist/src/eval/calib.js";
import { loadKeep } from "../../../../dist/src/skip/neuron-keep.js";
import { PolicyWrapper } from "../../../../dist/src/skip/wrapper.js";
const [model, keepFile] = process.argv.slice(2);
const engine = await loadModel(model, { threads: 1 });
const { nLayers: L, ffnDim: F, dim } = engine.config;
const { keeps } = loadKeep(keepFile);
const set = await buildCalibSet(engine, 6, 32);
const seqs = [];
for (const [i, ids] of set.prompts.entries()) {
  const g = await engine.generate({ tokens: ids }, { temperature: 0.7, seed: 1 + i, maxTokens: 256, ignoreEog: true });
  seqs.push([...ids, ...g.tokens]);
}
const m_ = engine.model, drop = [], W = [], keepL = [];
for (const S of m_.shards) {
  const K = S.kernels, row = K.heap.alloc(F * 4, 16);
  for (let l = S.first; l < S.end; l++) {
    const kept = new Set(keeps[l]); keepL[l] = keeps[l];
    const D = []; for (let i = 0; i < F; i++) if (!kept.has(i)) D.push(i);
    drop[l] = D;
    const w = new Float32Array(D.length * dim);
    for (let r = 0; r < dim; r++) { K.getRow(m_.weights.layers[l].w2, r, row); const v = K.heap.f32(row, F); D.forEach((i, j) => (w[j * dim + r] = v[i])); }
    W[l] = w;
  }
}
const recs = []; // [layer, err, kc, hk, hmax, cos]
let pos = 0, hk = 0, hmax = 0;
const d = new Float64Array(dim);
const c = new (class extends PolicyWrapper {
  get wantsFFNHidden() { return true; }
  get wantsFFNOutput() { return true; }
  observeFFNHidden(l, m, at) {
    if (pos < 4) return;
    d.fill(0);
    const D = drop[l], w = W[l];
    for (let j = 0; j < D.length; j++) { const h = m[at + D[j]]; if (h === 0) continue; const o = j * dim; for (let r = 0; r < dim; r++) d[r] += h * w[o + r]; }
    hk = 0; hmax = 0;
    for (const i of keepL[l]) { const h = m[at + i]; hk += h * h; hmax = Math.max(hmax, Math.abs(h)); }
  }
  observeFFNOutput(l, m, at, dd, hAt) {
    if (pos < 4) return;
    let xx = 0, dd2 = 0, cc = 0, xf = 0, ff = 0;
    for (let i = 0; i < dd; i++) { const f = m[at + i], x = m[hAt + i], ci = f - d[i]; xx += x * x; dd2 += d[i] * d[i]; cc += ci * ci; xf += x * (x + f); ff += (x + f) * (x + f); }
    recs.push([l, dd2 / xx, cc / xx, hk, hmax, xf / Math.sqrt(xx * ff)]);
  }
})(engine.policy({ method: "none" }));
for (const ids of seqs) { c.reset(); m_.kv.truncate(0); for (pos = 0; pos < ids.length; pos++) m_.forward([ids[pos]], pos, { policy: c, phase: "prompt", logits: "none" }); }
const mid = recs.filter((r) => r[0] >= 3 && r[0] < L - 3);
const total = mid.reduce((s, r) => s + r[1], 0);
const rank = (a) => { const o = a.map((v, i) => [v, i]).sort((x, y) => x[0] - y[0]); const rk = new Float64Array(a.length); o.forEach(([, i], k) => (rk[i] = k)); return rk; };
const spearman = (a, b) => { const ra = rank(a), rb = rank(b), n = a.length, m = (n - 1) / 2; let s = 0, sa = 0, sb = 0; for (let i = 0; i < n; i++) { s += (ra[i] - m) * (rb[i] - m); sa += (ra[i] - m) ** 2; sb += (rb[i] - m) ** 2; } return s / Math.sqrt(sa * sb); };
// within each layer (a rule would threshold per layer): pick half of each layer's tokens by a score, sum the error picked
function pickHalf(score) {
  let s = 0;
  for (let l = 3; l < L - 3; l++) {
    const rs = mid.filter((r) => r[0] === l);
    const o = [...rs].sort((a, b) => score(a) - score(b));
    for (const r of o.slice(0, o.length >> 1)) s += r[1];
  }
  return s / total;
}
console.log("middle-layer records", mid.length);
console.log("share of the error a compacted half of each layer's tokens carries (0.5 = chosen at random):");
console.log("  oracle (least error)   ", pickHalf((r) => r[1]).toFixed(3));
console.log("  by kept output energy  ", pickHalf((r) => r[2]).toFixed(3), " spearman", spearman(mid.map((r) => r[1]), mid.map((r) => r[2])).toFixed(3));
console.log("  by ||h_K||^2           ", pickHalf((r) => r[3]).toFixed(3), " spearman", spearman(mid.map((r) => r[1]), mid.map((r) => r[3])).toFixed(3));
console.log("  by max |h_K|           ", pickHalf((r) => r[4]).toFixed(3), " spearman", spearman(mid.map((r) => r[1]), mid.map((r) => r[4])).toFixed(3));
console.log("  by this FFN's cosine (high first, FFN-SkipLLM's signal, one layer late in practice)", pickHalf((r) => -r[5]).toFixed(3));
