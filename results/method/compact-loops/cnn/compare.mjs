// Session 24: paired comparison of the CNN summaries in a folder's caches (run from the repository root after
// `npx tsc -p .`): node results/method/compact-loops/cnn/compare.mjs [folder, default this one] [shared data folder, default ../shared]
// The folder's pairs.json lists [ffn-skip-compact run, FFN-SkipLLM run] names to compare (session 25: Gemma in ../cnn-gemma).
// Per story: ROUGE-L F1 against the CNN highlights and against dense's summary, and whether the summary loops
// (src/eval/collapse.ts). ffn-skip-compact against FFN-SkipLLM at the same target: paired bootstrap (scores), exact McNemar (loops).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isLooping } from "../../../../dist/src/eval/collapse.js";
import { rougeL } from "../../../../dist/src/eval/rouge.js";
import { bootstrapMean, mcnemar, pairedBootstrap } from "../../../../dist/src/eval/stats.js";

const folder = process.argv[2] ?? "results/method/compact-loops/cnn";
const dir = join(folder, "cache");
const shared = process.argv[3] ?? "../shared";
const refs = readFileSync(join(shared, "data/summarization/cnn-90.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).highlights.join("\n"));
const runs = new Map();
for (const f of readdirSync(dir)) {
  const lines = readFileSync(join(dir, f), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const skip = lines[0].config.skip;
  const name = skip.method === "none" ? "dense" : `${skip.method} τ ${skip.tau} k ${skip.k}${skip.tauSkip ? ` τ_skip ${skip.tauSkip}` : ""}`;
  const out = new Map();
  for (const l of lines) if (l.id !== undefined && l.output) out.set(l.id, l.output.text);
  runs.set(name, out);
}
const dense0 = runs.get("dense");
for (const [name, out] of runs) if (out.size < dense0.size) {
  console.log(`(${name}: ${out.size} of ${dense0.size} stories so far, left out)`);
  runs.delete(name);
}
const dense = runs.get("dense");
const ids = [...dense.keys()].sort((a, b) => a - b);
const per = (name) => {
  const o = runs.get(name);
  return {
    ref: ids.map((id) => rougeL(o.get(id), refs[Number(id)]).f),
    dense: ids.map((id) => rougeL(o.get(id), dense.get(id)).f),
    loop: ids.map((id) => (isLooping(o.get(id)) ? 1 : 0)),
  };
};
const pct = (x) => (100 * x).toFixed(1);
console.log(`${ids.length} stories; runs: ${[...runs.keys()].join(" | ")}\n`);
console.log("| run | ROUGE-L vs reference [95% CI] | ROUGE-L vs dense [95% CI] | loop rate |");
console.log("|---|---|---|---:|");
for (const name of runs.keys()) {
  const p = per(name);
  const r = bootstrapMean(p.ref), d = bootstrapMean(p.dense);
  console.log(`| ${name} | ${pct(r.mean)} [${pct(r.lo)}, ${pct(r.hi)}] | ${pct(d.mean)} [${pct(d.lo)}, ${pct(d.hi)}] | ${pct(p.loop.reduce((s, x) => s + x, 0) / ids.length)}% |`);
}
console.log("");
for (const [a, b] of JSON.parse(readFileSync(join(folder, "pairs.json"), "utf8"))) {
  if (!runs.has(a) || !runs.has(b)) continue;
  const A = per(a), B = per(b);
  const r = pairedBootstrap(B.ref, A.ref), d = pairedBootstrap(B.dense, A.dense), m = mcnemar(A.loop, B.loop);
  console.log(`${a} vs ${b}: ROUGE-L vs reference ${pct(r.diff.mean)} [${pct(r.diff.lo)}, ${pct(r.diff.hi)}] p ${r.p.toFixed(3)}; vs dense ${pct(d.diff.mean)} [${pct(d.diff.lo)}, ${pct(d.diff.hi)}] p ${d.p.toFixed(3)}; loops ${m.onlyA} / ${m.onlyB} discordant (this method only / FFN-SkipLLM only), p ${m.p.toFixed(3)}`);
}
