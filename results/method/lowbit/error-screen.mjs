// Screen (session 26, research): error of low-bit requantized FFN copies vs dropping neurons (u50/u75), SmolLM2.
import { openScreen } from "/work/main/results/method/compact-loops/correction-screen/common.mjs";
import { loadKeep } from "/work/main/dist/src/skip/neuron-keep.js";
const [model, keep50, keep75] = process.argv.slice(2);
const { engine, F, dim, sampled, observeDropped } = await openScreen(model, keep50);
const k75 = loadKeep(keep75).keeps, k50 = loadKeep(keep50).keeps;
const LAYERS = [4, 9, 14, 19, 24];
const S = engine.model.shards[0], K = S.kernels, Wl = engine.model.weights.layers;
function mat(w, rows, cols) { const out = new Float32Array(rows * cols), r0 = K.heap.alloc(cols * 4, 16); for (let r = 0; r < rows; r++) { K.getRow(w, r, r0); out.set(K.heap.f32(r0, cols), r * cols); } return out; }
// fake-quantize rows of length n (row-major [rows][n]) in blocks of B with `bits`, min/scale per block; search: grid over range shrink
function fq(W, n, B, bits, search) {
  const out = new Float32Array(W.length), L = (1 << bits) - 1;
  for (let s = 0; s < W.length; s += B) {
    let lo = Infinity, hi = -Infinity; for (let j = 0; j < B; j++) { const v = W[s + j]; if (v < lo) lo = v; if (v > hi) hi = v; }
    let best = Infinity, bd = 0, bm = 0;
    const tries = search ? 24 : 1;
    for (let a = 0; a < tries; a++) for (let b = 0; b < tries; b++) {
      const m = lo + (hi - lo) * 0.02 * a, M = hi - (hi - lo) * 0.02 * b; if (M <= m) continue;
      const d = (M - m) / L; let e = 0;
      for (let j = 0; j < B; j++) { const q = Math.max(0, Math.min(L, Math.round((W[s + j] - m) / d))); const x = q * d + m - W[s + j]; e += x * x; }
      if (e < best) { best = e; bd = d; bm = m; }
    }
    if (!(best < Infinity)) { bd = 0; bm = lo; }
    for (let j = 0; j < B; j++) out[s + j] = bd > 0 ? Math.max(0, Math.min(L, Math.round((W[s + j] - bm) / bd))) * bd + bm : bm;
  }
  return out;
}
const silu = (v) => v / (1 + Math.exp(-v));
const variants = ["u50", "u75", "q2b32", "q2b32s", "q2b16s", "q3b32", "q3b16s", "top25+q2b32s"];
const bytes = { u50: 0.5, u75: 0.25, q2b32: 12 / 20, q2b32s: 12 / 20, q2b16s: 2.625 / 5, q3b32: 16 / 20, q3b16s: 3.4375 / 5, "top25+q2b32s": 0.25 + 0.75 * 0.6 };
const per = {};
for (const l of LAYERS) {
  const W1 = mat(Wl[l].w1, F, dim), W3 = mat(Wl[l].w3, F, dim), W2 = mat(Wl[l].w2, dim, F);
  const W2t = new Float32Array(F * dim); for (let r = 0; r < dim; r++) for (let i = 0; i < F; i++) W2t[i * dim + r] = W2[r * F + i];
  const sets = {};
  const q = (B, bits, s) => ({ W1: fq(W1, dim, B, bits, s), W3: fq(W3, dim, B, bits, s), W2t: (() => { const w = fq(W2, F, B, bits, s); const t = new Float32Array(F * dim); for (let r = 0; r < dim; r++) for (let i = 0; i < F; i++) t[i * dim + r] = w[r * F + i]; return t; })() });
  sets.q2b32 = q(32, 2, false); sets.q2b32s = q(32, 2, true); sets.q2b16s = q(16, 2, true); sets.q3b32 = q(32, 3, false); sets.q3b16s = q(16, 3, true);
  per[l] = { W1, W3, W2t, sets, norm: Float32Array.from(K.heap.f32(Wl[l].ffnNorm, dim)), keep50: new Set(k50[l]), keep75: new Set(k75[l]), top25: new Set(k75[l]) };
  console.error("layer", l, "ready");
}
const err = Object.fromEntries(LAYERS.map((l) => [l, Object.fromEntries(variants.map((v) => [v, 0]))])), en = {}, chk = {};
LAYERS.forEach((l) => { en[l] = 0; chk[l] = 0; });
function ffn(W1, W3, W2t, x, keepFn, out, hTrue) {
  out.fill(0);
  for (let i = 0; i < F; i++) {
    if (keepFn && !keepFn(i)) continue;
    let g = 0, u = 0; const o = i * dim; for (let j = 0; j < dim; j++) { g += W1[o + j] * x[j]; u += W3[o + j] * x[j]; }
    const h = silu(g) * u; if (hTrue) hTrue[i] = h;
    for (let r = 0; r < dim; r++) out[r] += h * W2t[o + r];
  }
}
let cnt = 0;
const seqs = await sampled(101);
const x = new Float32Array(dim), t = new Float32Array(dim), o = new Float32Array(dim);
observeDropped(seqs, () => {}, (l, m, at, dd, hAt) => {
  if (!per[l]) return; if ((cnt++ % 11) !== 0) return;
  const P = per[l]; let ss = 0; for (let j = 0; j < dim; j++) ss += m[hAt + j] * m[hAt + j];
  const r = 1 / Math.sqrt(ss / dim + engine.config.normEps); for (let j = 0; j < dim; j++) x[j] = m[hAt + j] * r * P.norm[j];
  ffn(P.W1, P.W3, P.W2t, x, null, t);
  let e = 0, c = 0; for (let j = 0; j < dim; j++) { e += t[j] * t[j]; const dlt = t[j] - m[at + j]; c += dlt * dlt; } en[l] += e; chk[l] += c;
  const add = (v) => { let s = 0; for (let j = 0; j < dim; j++) { const d = o[j] - t[j]; s += d * d; } err[l][v] += s; };
  ffn(P.W1, P.W3, P.W2t, x, (i) => P.keep50.has(i), o); add("u50");
  ffn(P.W1, P.W3, P.W2t, x, (i) => P.keep75.has(i), o); add("u75");
  for (const v of ["q2b32", "q2b32s", "q2b16s", "q3b32", "q3b16s"]) { const s = P.sets[v]; ffn(s.W1, s.W3, s.W2t, x, null, o); add(v); }
  // top 25% neurons exact, the rest from q2b32s
  { const s = P.sets.q2b32s; const o2 = new Float32Array(dim); ffn(P.W1, P.W3, P.W2t, x, (i) => P.top25.has(i), o2); ffn(s.W1, s.W3, s.W2t, x, (i) => !P.top25.has(i), o); for (let j = 0; j < dim; j++) o[j] += o2[j]; add("top25+q2b32s"); }
});
console.log("relative error energy ||FFN_variant - FFN||^2 / ||FFN||^2 (dense SmolLM2 continuations, seeds 101-106, every 11th obs); bytes = share of Q4_1 FFN bytes read; e/saved");
console.log("layer check " + variants.join(" "));
for (const l of LAYERS) console.log(l, (chk[l] / en[l]).toFixed(4), variants.map((v) => (err[l][v] / en[l]).toFixed(3)).join(" "));
const tot = (v) => LAYERS.reduce((a, l) => a + err[l][v] / en[l], 0) / LAYERS.length;
for (const v of variants) console.log(v.padEnd(14), "bytes", bytes[v].toFixed(3), "err", tot(v).toFixed(3), "err/saved", (tot(v) / (1 - bytes[v])).toFixed(3));
