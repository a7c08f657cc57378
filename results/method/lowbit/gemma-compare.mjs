// Session 26, exploratory: Gemma 3 270M with FFN-SkipLLM windows running simulated 3-bit copies (~25%) against dense,
// FFN-SkipLLM ~25% and the shipped ffn-skip-compact ~25%, on Vicuna 40-79 (loops) and the 16 WikiText-2 windows.
// Run from the repository root after `npx tsc -p .`: node results/method/lowbit/gemma-compare.mjs
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isLooping } from "../../../dist/src/eval/collapse.js";
import { mcnemar, pairedBootstrap } from "../../../dist/src/eval/stats.js";

const rows = (f) => readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.id !== undefined && r.output);
const byId = (f) => new Map(rows(f).map((r) => [String(r.id), r.output]));
const D = "results/method/lowbit/gemma-dev-q3ks/cache", L = "results/method/compact-loops/cache";
const mine = (task) => join(D, readdirSync(D).find((f) => f.startsWith(`${task}-ffn-skip-compact-`)));
const runs = [
  ["3-bit copies ~25%", mine("conversation"), mine("perplexity")],
  ["FFN-SkipLLM ~25%", join(L, "gemma-dev-ffn-skip-25.jsonl"), "results/method/gemma3-270m/cache/perplexity-ffn-skip-9e1ec333035897c9.jsonl"],
  ["ffn-skip-compact ~25%", join(L, "gemma-dev-compact-25.jsonl"), "results/method/gemma3-270m-prune/cache/perplexity-ffn-skip-compact-94e2924f6f534c3f.jsonl"],
  ["dense", join(L, "gemma-dev-dense.jsonl"), "results/method/gemma3-270m/cache/perplexity-none-883fbaf72ff05f12.jsonl"],
];
const conv = runs.map(([, c]) => byId(c));
const ids = [...conv[0].keys()].filter((id) => Number(id) >= 40 && conv.every((m) => m.has(id)));
const loops = conv.map((m) => ids.map((id) => (isLooping(m.get(id).answers[0].text) ? 1 : 0)));
const ppl = runs.map(([, , p]) => byId(p));
const wins = [...ppl[0].keys()].filter((id) => ppl.every((m) => m.has(id)));
const nll = ppl.map((m) => wins.map((id) => m.get(id).nll_sum / m.get(id).n));
const mean = (a) => a.reduce((s, x) => s + x, 0) / a.length;
console.log(`Gemma 3 270M, Vicuna ${ids.length} questions (40-79) and ${wins.length} WikiText-2 windows\n`);
console.log("| run | loops | perplexity |\n|---|---:|---:|");
runs.forEach(([name], i) => console.log(`| ${name} | ${(100 * mean(loops[i])).toFixed(1)}% | ${Math.exp(mean(nll[i])).toFixed(1)} |`));
for (const j of [1, 2]) {
  const m = mcnemar(loops[0], loops[j]), b = pairedBootstrap(nll[j], nll[0]);
  console.log(`\n${runs[0][0]} − ${runs[j][0]}: loops discordant ${m.onlyA} / ${m.onlyB}, p ${m.p.toFixed(3)}; mean NLL ${b.diff.mean.toFixed(3)} [${b.diff.lo.toFixed(3)}, ${b.diff.hi.toFixed(3)}], p ${b.p.toFixed(3)}`);
}
