/**
 * Decode steps of two built checkouts alternating in one process: each loads the model with its own code, then
 * rounds of 8 decode steps (positions 8 on, dense) alternate between them, so both see the same machine load.
 * Prints the median and best ms per step of each and the per-round ratio A / B (above 1: B is faster).
 *
 *   node dist/bench/step-ab.js --a /path/to/other/checkout --b . --model FILE [--threads 1] [--rounds 8]
 *   (each checkout built: npm run build; pin one thread with taskset -c N)
 */
import { parseArgs } from "node:util";
import type { Engine } from "../src/api/engine.js";
import { median } from "./median.js";
import { checkoutLoadModel } from "./checkout.js";

const { values: v } = parseArgs({
  options: {
    a: { type: "string" },
    b: { type: "string" },
    model: { type: "string" },
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "8" },
  },
});
if (!v.a || !v.b || !v.model) throw new Error("usage: step-ab.js --a DIR --b DIR --model FILE [--threads 1] [--rounds 8]");
const trees = [v.a, v.b];
const engines: Engine[] = [];
for (const d of trees) {
  const loadModel = await checkoutLoadModel(d);
  engines.push(await loadModel(v.model, { threads: Number(v.threads), ctx: 256 }));
}
const step = (e: Engine, pos: number, i: number): void => {
  e.model.forward([100 + (pos % 50)], pos, { policy: e.policy(), phase: "decode", genIndex: i, logits: "last" });
};
for (const e of engines) for (let p = 0; p < 8; p++) step(e, p, p);
const ms: number[][] = engines.map(() => []);
const rounds = Number(v.rounds);
for (let r = 0; r < rounds; r++) {
  for (const i of r & 1 ? [1, 0] : [0, 1]) {
    const t0 = performance.now();
    for (let s = 0; s < 8; s++) step(engines[i], 8 + ((r * 8 + s) % 200), s);
    ms[i].push((performance.now() - t0) / 8);
  }
}
trees.forEach((d, i) => console.log(`${d}: median ${median(ms[i]).toFixed(2)} ms/step, best ${Math.min(...ms[i]).toFixed(2)}`));
const ratios = ms[0].map((a, i) => a / ms[1][i]);
console.log(`A / B per round: ${ratios.map((x) => x.toFixed(3)).join(" ")}; median ${median(ratios).toFixed(3)}`);
for (const e of engines) await e.dispose();
