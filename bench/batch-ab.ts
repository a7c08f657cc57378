/**
 * A/B of two built checkouts on batched decoding (continuous batching through the library): P concurrent greedy
 * generations with one skip profile (or dense), aggregate tokens per second, the checkouts alternating round by
 * round in one process so both see the same machine load. Run it twice with --a and --b swapped: a checkout's
 * place in the order and its memory layout can move the figure by a few percent, as the dense control shows.
 *
 *   node dist/bench/batch-ab.js --a /path/to/other/checkout --b . --profile P.json|none [--parallel 8] [--tokens 48]
 *     [--rounds 4] [--model M]   (each checkout built: npm run build)
 */
import { parseArgs } from "node:util";
import type { SkipConfig } from "../src/skip/config.js";
import { checkoutLoadModel, checkoutModule } from "./checkout.js";
import { median } from "./median.js";

const { values: v } = parseArgs({
  options: {
    a: { type: "string" },
    b: { type: "string" },
    profile: { type: "string" },
    parallel: { type: "string", default: "8" },
    tokens: { type: "string", default: "48" },
    rounds: { type: "string", default: "4" },
    model: { type: "string" },
  },
});
if (!v.a || !v.b || !v.profile) throw new Error("--a DIR --b DIR (built checkouts) and --profile FILE|none are required");
const P = Number(v.parallel),
  tokens = Number(v.tokens),
  rounds = Number(v.rounds);
const PROMPTS = [
  "The capital of France is",
  "Once upon a time,",
  "def fibonacci(n):",
  "List three primary colors:",
  "Water boils at",
  "The best way to learn",
  "In 1492,",
  "My favourite food is",
];

async function side(dir: string) {
  const loadModel = await checkoutLoadModel(dir);
  const e = await loadModel(v.model, { threads: 1, ctx: 512, parallel: P });
  let skip: SkipConfig = { method: "none" };
  if (v.profile !== "none") {
    const { readSkipProfile } = await checkoutModule<typeof import("../src/skip/skip-profile.js")>(dir, "skip/skip-profile.js");
    skip = readSkipProfile(v.profile!, e.config.nLayers).config;
  }
  return { e, skip };
}

const sides = [await side(v.a), await side(v.b)];
async function run(s: (typeof sides)[number]): Promise<number> {
  s.e.prepareSkip(s.skip);
  const t = performance.now();
  const rs = await Promise.all(
    Array.from({ length: P }, (_, i) =>
      s.e.generate(PROMPTS[i % PROMPTS.length], { maxTokens: tokens, temperature: 0, ignoreEog: true, skip: s.skip }),
    ),
  );
  return rs.reduce((n, r) => n + r.tokens.length, 0) / ((performance.now() - t) / 1000);
}
for (const s of sides) await run(s); // warm-up: copies built, pages touched
const got: number[][] = [[], []];
for (let r = 0; r < rounds; r++) for (let i = 0; i < 2; i++) got[i].push(await run(sides[i]));
const [ma, mb] = got.map((x) => median(x));
console.log(
  `${v.profile === "none" ? "dense" : v.profile!.split("/").pop()}, ${P} sequences × ${tokens} tokens: A ${ma.toFixed(1)} tok/s, B ${mb.toFixed(1)} tok/s, B/A ${(mb / ma).toFixed(3)} (rounds A ${got[0].map((x) => x.toFixed(0)).join(",")}; B ${got[1].map((x) => x.toFixed(0)).join(",")})`,
);
for (const s of sides) await s.e.dispose();
