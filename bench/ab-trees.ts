/**
 * A/B of two built checkouts in one process (a regression check): both load
 * the same model with their own code, then benchmark alternately round by
 * round, so both see the same machine load.
 *
 *   node dist/bench/ab-trees.js --a /path/to/other/checkout --b . [--threads 2] [--rounds 5] [--model M]
 *     [--prompt-tokens 128] [--gen-tokens 64]
 *   (each checkout built: npm run build)
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import type { Engine } from "../src/api/engine.js";
import type { BenchOptions, BenchResult } from "../src/api/bench.js";
import { SMOLLM2 } from "../test/helpers/paths.js";
import { median } from "./median.js";
import { checkoutLoadModel, checkoutModule } from "./checkout.js";

const { values: v } = parseArgs({
  options: {
    a: { type: "string" },
    b: { type: "string" },
    threads: { type: "string" },
    rounds: { type: "string" },
    model: { type: "string" },
    "prompt-tokens": { type: "string" },
    "gen-tokens": { type: "string" },
  },
});
if (!v.a || !v.b) throw new Error("--a DIR and --b DIR (built checkouts) are required");
const threads = Number(v.threads ?? 2),
  rounds = Number(v.rounds ?? 5),
  model = v.model ?? SMOLLM2,
  promptTokens = Number(v["prompt-tokens"] ?? 128),
  genTokens = Number(v["gen-tokens"] ?? 64);

interface Side {
  name: string;
  engine: Engine;
  bench: (e: Engine, o: BenchOptions) => BenchResult;
  prompt: number[];
  decode: number[];
}
const sides: Side[] = [];
for (const dir of [v.a, v.b]) {
  const loadModel = await checkoutLoadModel(dir);
  const { benchmark } = await checkoutModule<typeof import("../src/api/bench.js")>(dir, "api/bench.js");
  sides.push({
    name: dir,
    engine: await loadModel(model, { threads, ctx: Math.max(256, promptTokens + genTokens + 8) }),
    bench: benchmark,
    prompt: [],
    decode: [],
  });
}
for (let r = 0; r < rounds; r++) {
  for (const s of r % 2 ? [...sides].reverse() : sides) {
    const b = s.bench(s.engine, { promptTokens, genTokens });
    s.prompt.push(b.prompt_tok_per_s);
    s.decode.push(b.decode_tok_per_s);
  }
}
console.log(
  `${model.split("/").pop()}, ${threads} thread(s), ${rounds} alternating rounds, prompt ${promptTokens} + ${genTokens} decoded tokens, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
for (const s of sides) {
  console.log(
    `${s.name}: prompt ${median(s.prompt).toFixed(1)} tok/s, decode ${median(s.decode).toFixed(1)} tok/s (runs: ${s.decode.map((x) => x.toFixed(1)).join(" ")})`,
  );
}
for (const s of sides) await s.engine.dispose();
