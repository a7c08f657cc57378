// Session 26 screen for issue 16 (research, not product): how much of an FFN's output does a cheaper copy get wrong?
// Run from the repository root after `npx tsc -p .`:
//   node results/method/lowbit/error-screen.mjs MODEL U50.keep U75.keep U25.keep VARIANT,...
// For layers 4, 9, 14, 19, 24 of SmolLM2, on the dense model's sampled continuations of the calibration prompts
// (seeds 101-106, every 11th observed FFN), ||FFN_copy(x) - FFN(x)||^2 / ||FFN(x)||^2 with every weight dequantized
// from the file and, for the low-bit copies, quantized again in float (fq.mjs); "bytes" is the copy's share of the Q4_1
// FFN's bytes. Variants: u50, u75, u25 (the keep files' neurons only), q2b32, q2b32s, q2b16s, q3b32, q3b16s (blocks of 32/16,
// s = searched range, float scales), top25+q2b32s, q2k, q3ks, q3ka (K-like, fq.mjs), q40 (ggml Q4_0), u25+q40.
import { openScreen } from "../compact-loops/correction-screen/common.mjs";
import { loadKeep } from "../../../dist/src/skip/neuron-keep.js";
import { fqAffineK, fqBlock, fqQ4_0, fqSym3K } from "./fq.mjs";
const [model, keep50, keep75, keep25, list] = process.argv.slice(2);
const { engine, F, dim, sampled, observeDropped } = await openScreen(model, keep50);
const keeps = { u50: loadKeep(keep50).keeps, u75: loadKeep(keep75).keeps, u25: loadKeep(keep25).keeps };
const variants = list.split(",");
const LAYERS = [4, 9, 14, 19, 24];
const BYTES = { u50: 0.5, u75: 0.25, u25: 0.75, q2b32: 12 / 20, q2b32s: 12 / 20, q2b16s: 2.625 / 5, q3b32: 16 / 20, q3b16s: 3.4375 / 5,
  "top25+q2b32s": 0.25 + 0.75 * 0.6, q2k: 2.625 / 5, q3ks: 3.4375 / 5, q3ka: 3.625 / 5, q40: 0.9, "u25+q40": 0.75 * 0.9 };
/** per variant: [fake quantizer of a row-major matrix, or null for the file's weights; keep list name, or null for all neurons] */
const RECIPE = { u50: [null, "u50"], u75: [null, "u75"], u25: [null, "u25"], q2b32: [(w, n) => fqBlock(w, 32, 2, false)], q2b32s: [(w) => fqBlock(w, 32, 2, true)],
  q2b16s: [(w) => fqBlock(w, 16, 2, true)], q3b32: [(w) => fqBlock(w, 32, 3, false)], q3b16s: [(w) => fqBlock(w, 16, 3, true)],
  q2k: [(w) => fqAffineK(w, 2)], q3ks: [fqSym3K], q3ka: [(w) => fqAffineK(w, 3)], q40: [fqQ4_0], "u25+q40": [fqQ4_0, "u25"] };
for (const v of variants) if (!(v in RECIPE) && v !== "top25+q2b32s") throw new Error(`variant ${v}: not one of ${Object.keys(BYTES).join(", ")}`);
const K = engine.model.shards[0].kernels, Wl = engine.model.weights.layers;
function mat(w, rows, cols) { const out = new Float32Array(rows * cols), r0 = K.heap.alloc(cols * 4, 16); for (let r = 0; r < rows; r++) { K.getRow(w, r, r0); out.set(K.heap.f32(r0, cols), r * cols); } return out; }
const transpose = (w) => { const t = new Float32Array(F * dim); for (let r = 0; r < dim; r++) for (let i = 0; i < F; i++) t[i * dim + r] = w[r * F + i]; return t; };
const silu = (v) => v / (1 + Math.exp(-v));
const per = {};
for (const l of LAYERS) {
  const W1 = mat(Wl[l].w1, F, dim), W3 = mat(Wl[l].w3, F, dim), W2 = mat(Wl[l].w2, dim, F);
  const file = { W1, W3, W2t: transpose(W2) }, sets = {};
  for (const v of variants) {
    const fq = v === "top25+q2b32s" ? RECIPE.q2b32s[0] : RECIPE[v][0];
    if (fq && !sets[fq]) sets[fq] = { W1: fq(W1), W3: fq(W3), W2t: transpose(fq(W2)) };
  }
  per[l] = { file, sets, norm: Float32Array.from(K.heap.f32(Wl[l].ffnNorm, dim)), keep: Object.fromEntries(Object.entries(keeps).map(([k, v]) => [k, new Set(v[l])])) };
  console.error("layer", l, "ready");
}
function ffn({ W1, W3, W2t }, x, keepFn, out) {
  out.fill(0);
  for (let i = 0; i < F; i++) {
    if (keepFn && !keepFn(i)) continue;
    let g = 0, u = 0; const o = i * dim; for (let j = 0; j < dim; j++) { g += W1[o + j] * x[j]; u += W3[o + j] * x[j]; }
    const h = silu(g) * u;
    for (let r = 0; r < dim; r++) out[r] += h * W2t[o + r];
  }
}
const err = Object.fromEntries(LAYERS.map((l) => [l, Object.fromEntries(variants.map((v) => [v, 0]))])), en = {}, chk = {};
LAYERS.forEach((l) => { en[l] = 0; chk[l] = 0; });
let cnt = 0;
const x = new Float32Array(dim), t = new Float32Array(dim), o = new Float32Array(dim), o2 = new Float32Array(dim);
observeDropped(await sampled(101), () => {}, (l, m, at, dd, hAt) => {
  if (!per[l] || cnt++ % 11 !== 0) return;
  const P = per[l]; let ss = 0; for (let j = 0; j < dim; j++) ss += m[hAt + j] * m[hAt + j];
  const r = 1 / Math.sqrt(ss / dim + engine.config.normEps); for (let j = 0; j < dim; j++) x[j] = m[hAt + j] * r * P.norm[j];
  ffn(P.file, x, null, t);
  let e = 0, c = 0; for (let j = 0; j < dim; j++) { e += t[j] * t[j]; const d = t[j] - m[at + j]; c += d * d; } en[l] += e; chk[l] += c;
  for (const v of variants) {
    if (v === "top25+q2b32s") { // the top quarter of the neurons (u75's keep list) exact, the rest 2-bit
      const k = P.keep.u75; ffn(P.file, x, (i) => k.has(i), o2); ffn(P.sets[RECIPE.q2b32s[0]], x, (i) => !k.has(i), o); for (let j = 0; j < dim; j++) o[j] += o2[j];
    } else { const [fq, keep] = RECIPE[v]; ffn(fq ? P.sets[fq] : P.file, x, keep ? (i) => P.keep[keep].has(i) : null, o); }
    let s = 0; for (let j = 0; j < dim; j++) { const d = o[j] - t[j]; s += d * d; } err[l][v] += s;
  }
});
console.log("relative error energy ||FFN_variant - FFN||^2 / ||FFN||^2 (dense SmolLM2 continuations, seeds 101-106, every 11th obs); bytes = share of Q4_1 FFN bytes read; e/saved");
console.log("layer check " + variants.join(" "));
for (const l of LAYERS) console.log(l, (chk[l] / en[l]).toFixed(4), variants.map((v) => (err[l][v] / en[l]).toFixed(3)).join(" "));
const tot = (v) => LAYERS.reduce((a, l) => a + err[l][v] / en[l], 0) / LAYERS.length;
for (const v of variants) console.log(v.padEnd(14), "bytes", BYTES[v].toFixed(3), "err", tot(v).toFixed(3), "err/saved", (tot(v) / (1 - BYTES[v])).toFixed(3));
