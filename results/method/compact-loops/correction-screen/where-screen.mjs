// Session 24 screen for issue 16 (research, not product). Run from the repository root after `npx tsc -p .`:
//   node results/method/compact-loops/correction-screen/where-screen.mjs ~/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf profiles/smollm2-135m-instruct-prune-u50.keep
// Screen: is a compact copy's error (dropped neurons' contribution d) predictable per token and layer from what the
// compact copy itself computes? If so, a two-stage FFN (top half, then the other half only where needed) could pick
// where to stop. Records per (token, middle layer): err = ||d||^2/||x||^2 (x = residual entering the FFN), and
// predictors from the kept half: kc = ||c||^2/||x||^2 (c = kept neurons' output), hk = ||h_K||^2, hmax = max |h_K|.
import { openScreen } from "./common.mjs";
const [model, keepFile] = process.argv.slice(2);
const { L, keeps: keepL, sampled, observeDropped } = await openScreen(model, keepFile);
const seqs = await sampled(1);
const recs = []; // [layer, err, kc, hk, hmax, cos]
let hk = 0, hmax = 0;
observeDropped(
  seqs,
  (l, m, at) => {
    hk = 0; hmax = 0;
    for (const i of keepL[l]) { const h = m[at + i]; hk += h * h; hmax = Math.max(hmax, Math.abs(h)); }
  },
  (l, m, at, dd, hAt, d) => {
    let xx = 0, dd2 = 0, cc = 0, xf = 0, ff = 0;
    for (let i = 0; i < dd; i++) { const f = m[at + i], x = m[hAt + i], ci = f - d[i]; xx += x * x; dd2 += d[i] * d[i]; cc += ci * ci; xf += x * (x + f); ff += (x + f) * (x + f); }
    recs.push([l, dd2 / xx, cc / xx, hk, hmax, xf / Math.sqrt(xx * ff)]);
  },
);
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
