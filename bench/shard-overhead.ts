/**
 * What splitting a model over shards costs: SmolLM2 decode and prompt speed
 * with one shard against the same model forced over several (maxShardBytes),
 * alternating round by round in one process. Writes results/scale/shard-overhead.md.
 *
 *   npm run build && node dist/bench/shard-overhead.js [--threads 1,2] [--rounds 3] [--max-shard-mib 48]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { loadModel, type Engine } from "../src/api/engine.js";
import { benchmark } from "../src/api/bench.js";
import { SMOLLM2 } from "../test/helpers/paths.js";
import { median } from "./median.js";

const { values: v } = parseArgs({
  options: {
    threads: { type: "string" },
    rounds: { type: "string" },
    "max-shard-mib": { type: "string" },
    model: { type: "string" },
  },
});
const threadList = (v.threads ?? "1,2").split(",").map(Number);
const rounds = Number(v.rounds ?? 3),
  maxMib = Number(v["max-shard-mib"] ?? 48);
const model = v.model ?? SMOLLM2;

const cmd = `node dist/bench/shard-overhead.js --threads ${threadList.join(",")} --rounds ${rounds} --max-shard-mib ${maxMib}`;
const md = [
  `# Shard overhead — ${model.split("/").pop()}`,
  "",
  `Command: \`npm run build && ${cmd}\` (${new Date().toISOString().slice(0, 16)}Z, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}).`,
  `Both engines loaded in one process, benchmarked alternately (128 prompt tokens, 64 decoded); medians of ${rounds} rounds.`,
  "",
  `| threads | shards | prompt tok/s | decode tok/s | decode vs 1 shard |`,
  `|---|---|---|---|---|`,
];
for (const threads of threadList) {
  const engines: Engine[] = [
    await loadModel(model, { threads, ctx: 256 }),
    await loadModel(model, { threads, ctx: 256, maxShardBytes: maxMib * 2 ** 20 }),
  ];
  const res = engines.map(() => ({ prompt: [] as number[], decode: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    engines.forEach((e, i) => {
      const b = benchmark(e, { promptTokens: 128, genTokens: 64 });
      res[i].prompt.push(b.prompt_tok_per_s);
      res[i].decode.push(b.decode_tok_per_s);
    });
  }
  const base = median(res[0].decode);
  engines.forEach((e, i) =>
    md.push(
      `| ${threads} | ${e.model.shards.length} | ${median(res[i].prompt).toFixed(1)} | ${median(res[i].decode).toFixed(1)} | ${(median(res[i].decode) / base).toFixed(3)} |`,
    ),
  );
  for (const e of engines) await e.dispose();
}
mkdirSync("results/scale", { recursive: true });
writeFileSync("results/scale/shard-overhead.md", md.join("\n") + "\n");
process.stdout.write(md.join("\n") + "\n");
