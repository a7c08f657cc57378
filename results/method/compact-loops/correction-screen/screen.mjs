// Session 24 screen for issue 16 (research, not product). Run from the repository root after `npx tsc -p .`:
//   node results/method/compact-loops/correction-screen/screen.mjs ~/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf profiles/smollm2-135m-instruct-prune-u50.keep
// Screen: how much of a compact copy's error (the dropped neurons' contribution d = W2[:,D] h_D) is a constant vector?
// Fit the mean of d on sampled continuations (seeds 1..6), measure E||d||^2 and E||d - mean||^2 on others (seeds 101..106).
import { openScreen } from "./common.mjs";
const [model, keepFile] = process.argv.slice(2);
const { L, dim, sampled: seqsFor, observeDropped } = await openScreen(model, keepFile);
function collect(seqs, mean, alpha) {
  const sum = Array.from({ length: L }, () => new Float64Array(dim));
  const e = new Float64Array(L), ec = new Float64Array(L), eo = new Float64Array(L), fc = new Float64Array(L), cc = new Float64Array(L), es = new Float64Array(L);
  const n = observeDropped(
    seqs,
    (l, m, at, d) => {
      let s = 0, sc = 0; const mu = mean?.[l];
      for (let r = 0; r < dim; r++) { sum[l][r] += d[r]; s += d[r] * d[r]; if (mu) { const x = d[r] - mu[r]; sc += x * x; } }
      e[l] += s; ec[l] += sc;
    },
    (l, m, at, dd, hAt, d) => { let s = 0, a = 0, b = 0, q = 0; const al = alpha?.[l] ?? 1;
      for (let i = 0; i < dd; i++) { const f = m[at + i], c = f - d[i]; s += f * f; a += f * c; b += c * c; const x = f - al * c; q += x * x; }
      eo[l] += s; fc[l] += a; cc[l] += b; es[l] += q; },
  );
  return { mean: sum.map((s) => Float64Array.from(s, (x) => x / n)), e, ec, eo, n, alpha: Array.from(fc, (a, l) => a / cc[l]), es };
}
const fit = collect(await seqsFor(1));
const held = collect(await seqsFor(101), fit.mean, fit.alpha);
console.log("layer  dropped/ffn-out energy (held-out) | error left: fitted mean subtracted | compact output times fitted alpha | alpha");
for (let l = 0; l < L; l++) console.log(String(l).padStart(3), (held.e[l] / held.eo[l]).toFixed(3).padStart(8), (held.ec[l] / held.e[l]).toFixed(3).padStart(8), (held.es[l] / held.e[l]).toFixed(3).padStart(8), fit.alpha[l].toFixed(3).padStart(7));
const tot = held.e.reduce((a, b) => a + b, 0), totc = held.ec.reduce((a, b) => a + b, 0);
const tots = held.es.reduce((a, b) => a + b, 0);
console.log("all layers: error left, mean", (totc / tot).toFixed(3), "alpha", (tots / tot).toFixed(3), "samples", fit.n, held.n);
