/**
 * Parity with llama.cpp on a real model (default SmolLM2; --model gemma3 or a
 * path), written to results/parity.md (or --out):
 * argmax agreement between ffnskip and several llama.cpp configurations
 * (batched / token-by-token, default / precise), the logit noise between
 * them, perplexity, and greedy continuations.
 *
 *   npm run build && node dist/bench/parity.js [--model smollm2|gemma3|PATH] [--tokens 2000] [--threads 2] [--out F]
 */
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { getOracle, type OracleOptions } from "../test/oracle/llamacpp.js";
import { basename } from "node:path";
import { GEMMA3, SMOLLM2, WIKITEXT } from "../test/helpers/paths.js";

const { values: v } = parseArgs({
  options: { model: { type: "string" }, tokens: { type: "string" }, threads: { type: "string" }, out: { type: "string" } },
});
const MODEL = ({ smollm2: SMOLLM2, gemma3: GEMMA3 } as Record<string, string>)[v.model ?? "smollm2"] ?? v.model!;
const N = Number(v.tokens ?? 2000),
  threads = Number(v.threads ?? 2);
const engine = await loadModel(MODEL, { threads, ctx: 2048 });
const ids = engine.tokenizer.encode(readFileSync(WIKITEXT, "utf8"), { addSpecial: true }).slice(0, N);
const V = engine.config.vocabSize;
const keep = Array.from({ length: 60 }, (_, i) => i * Math.floor(N / 60));

const ours = engine.perplexity(ids);
const argmax: Record<string, number[]> = { ffnskip: ours.argmax.slice(0, N - 1) };
const ppl: Record<string, number> = { ffnskip: ours.ppl };
const logits: Record<string, Map<number, Float32Array>> = { ffnskip: new Map() };
engine.model.kv.truncate(0);
for (let p = 0; p < N; p += engine.model.batchSize) {
  const c = ids.slice(p, p + engine.model.batchSize);
  const lg = engine.model.forward(c, p, { policy: engine.policy(), phase: "prompt", logits: "all" })!;
  for (let t = 0; t < c.length; t++) if (keep.includes(p + t)) logits.ffnskip.set(p + t, lg.slice(t * V, (t + 1) * V));
}
const configs: [string, OracleOptions][] = [
  ["llama.cpp batched", { batchSize: 512 }],
  ["llama.cpp token-by-token", { batchSize: 1 }],
  ["llama.cpp batched, precise", { batchSize: 512, precision: "precise" }],
  ["llama.cpp token-by-token, precise", { batchSize: 1, precision: "precise" }],
];
for (const [name, opts] of configs) {
  const o = await getOracle(MODEL, { threads, contextSize: 2048, ...opts });
  const r = await o.score(ids, { keepLogits: keep });
  argmax[name] = r.argmax;
  logits[name] = r.logits;
  ppl[name] = Math.exp(r.nll.reduce((a, b) => a + b, 0) / r.nll.length);
  await o.dispose();
}
const names = Object.keys(argmax);
const agree = (a: string, b: string) => argmax[a].filter((x, i) => x === argmax[b][i]).length / (N - 1);
/** rms and max difference of the top-20 logits (mean difference removed: softmax ignores it) */
function noise(a: string, b: string): string {
  let mx = 0,
    ss = 0,
    n = 0;
  for (const k of keep) {
    const x = logits[a].get(k)!,
      y = logits[b].get(k)!;
    const top = Array.from(x.keys())
      .sort((i, j) => x[j] - x[i])
      .slice(0, 20);
    const mean = top.reduce((s, i) => s + x[i] - y[i], 0) / top.length;
    for (const i of top) {
      const d = x[i] - y[i] - mean;
      mx = Math.max(mx, Math.abs(d));
      ss += d * d;
      n++;
    }
  }
  return `${Math.sqrt(ss / n).toFixed(3)} / ${mx.toFixed(3)}`;
}
const lines: string[] = [];
lines.push(`# Parity with llama.cpp — ${basename(MODEL)}`, "");
lines.push(
  `Command: \`npm run build && node dist/bench/parity.js${v.model ? ` --model ${v.model}` : ""} --tokens ${N} --threads ${threads}${v.out ? ` --out ${v.out}` : ""}\` (${new Date().toISOString().slice(0, 10)}).`,
);
lines.push(
  `First ${N} tokens of WikiText-2 raw test; llama.cpp through node-llama-cpp's prebuilt CPU build. "precise" = f32 KV cache and no flash attention (llama.cpp's defaults: f16 KV, flash attention auto).`,
  "",
);
lines.push(`## Next-token argmax agreement (%)`, "", `| | ${names.join(" | ")} |`, `|---|${names.map(() => "---").join("|")}|`);
for (const a of names) lines.push(`| ${a} | ${names.map((b) => (agree(a, b) * 100).toFixed(2)).join(" | ")} |`);
lines.push("", `## Perplexity`, "", `| engine | ppl | vs llama.cpp batched |`, `|---|---|---|`);
for (const a of names) lines.push(`| ${a} | ${ppl[a].toFixed(4)} | ${((ppl[a] / ppl["llama.cpp batched"] - 1) * 100).toFixed(2)}% |`);
lines.push(
  "",
  `## Logit noise (rms / max difference over the top-20 logits at ${keep.length} positions)`,
  "",
  `| pair | rms / max |`,
  `|---|---|`,
);
for (const [a, b] of [
  ["llama.cpp batched", "llama.cpp token-by-token"],
  ["ffnskip", "llama.cpp batched"],
  ["ffnskip", "llama.cpp token-by-token"],
  ["llama.cpp batched", "llama.cpp batched, precise"],
])
  lines.push(`| ${a} vs ${b} | ${noise(a, b)} |`);
// greedy continuations of 64 tokens: tokens before the first divergence
const PROMPTS = [
  "The capital of France is",
  "def fibonacci(n):\n    ",
  "Once upon a time, in a small village by the sea,",
  "<|im_start|>user\nWhat is photosynthesis?<|im_end|>\n<|im_start|>assistant\n",
  "The three most important inventions of the 20th century are",
];
const greedy: Record<string, number[][]> = { ffnskip: [] };
for (const p of PROMPTS)
  greedy.ffnskip.push(
    (
      await engine.generate(
        { tokens: engine.tokenizer.encode(p, { parseSpecial: true }) },
        { temperature: 0, maxTokens: 64, ignoreEog: true },
      )
    ).tokens,
  );
for (const [name, opts] of [
  ["llama.cpp", {}],
  ["llama.cpp precise", { precision: "precise" }],
] as const) {
  const o = await getOracle(MODEL, { threads, contextSize: 2048, ...(opts as OracleOptions) });
  greedy[name] = [];
  for (const p of PROMPTS) greedy[name].push((await o.greedy(engine.tokenizer.encode(p, { parseSpecial: true }), 64)).ids);
  await o.dispose();
}
const prefix = (a: number[], b: number[]) => {
  const k = a.findIndex((x, i) => x !== b[i]);
  return k < 0 ? 64 : k;
};
lines.push(
  "",
  "## Greedy continuations (64 tokens): tokens before the first divergence, per prompt",
  "",
  "| pair | " + PROMPTS.map((p) => JSON.stringify(p).slice(0, 24)).join(" | ") + " |",
  "|---|" + PROMPTS.map(() => "---").join("|") + "|",
);
for (const [a, b] of [
  ["ffnskip", "llama.cpp"],
  ["llama.cpp precise", "llama.cpp"],
  ["ffnskip", "llama.cpp precise"],
]) {
  lines.push(`| ${a} vs ${b} | ${greedy[a].map((x, i) => prefix(x, greedy[b][i])).join(" | ")} |`);
}
lines.push(
  "",
  `Summary: ffnskip agrees with llama.cpp batched on ${(agree("ffnskip", "llama.cpp batched") * 100).toFixed(2)}% of next-token argmaxes, ` +
    `llama.cpp token-by-token on ${(agree("llama.cpp token-by-token", "llama.cpp batched") * 100).toFixed(2)}%; top-20 logit noise against llama.cpp batched ` +
    `${noise("ffnskip", "llama.cpp batched")} (rms / max), llama.cpp token-by-token's ${noise("llama.cpp token-by-token", "llama.cpp batched")}.`,
);
const out = v.out ?? "results/parity.md";
mkdirSync("results", { recursive: true });
writeFileSync(out, lines.join("\n") + "\n");
process.stdout.write(lines.join("\n") + "\n");
await engine.dispose();
