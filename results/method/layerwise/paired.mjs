// Paired comparison of two perplexity caches (per-window mean NLL), as bench/method.ts report does:
//   node results/method/layerwise/paired.mjs A.jsonl B.jsonl   (run from the repo root after npm run build)
import { readFileSync } from "node:fs";
import { bootstrapMean, pairedBootstrap } from "../../../dist/src/eval/stats.js";
const load = (f) => {
  const m = new Map();
  for (const l of readFileSync(f, "utf8").split("\n")) {
    if (!l.trim()) continue;
    const r = JSON.parse(l);
    if (r.id !== undefined) m.set(r.id, r.output);
  }
  return m;
};
const [fa, fb] = process.argv.slice(2);
const A = load(fa), B = load(fb);
const ids = [...A.keys()].filter((k) => B.has(k));
const va = ids.map((k) => A.get(k).nll_sum / A.get(k).n), vb = ids.map((k) => B.get(k).nll_sum / B.get(k).n);
const ratio = (M) => ids.reduce((s, k) => s + M.get(k).skipped_ffn, 0) / ids.reduce((s, k) => s + M.get(k).total_ffn, 0);
const show = (name, v, M) => {
  const ci = bootstrapMean(v);
  console.log(`${name}: ${ids.length} windows, ppl ${Math.exp(ci.mean).toFixed(1)} [${Math.exp(ci.lo).toFixed(1)}, ${Math.exp(ci.hi).toFixed(1)}], achieved skip ${(ratio(M) * 100).toFixed(1)}%`);
};
show("A " + fa, va, A);
show("B " + fb, vb, B);
const p = pairedBootstrap(va, vb);
console.log(`B − A mean window NLL: ${JSON.stringify(p)}`);
