// Forward step with n decoding rows (dense) and one prompt chunk of 64 tokens, straight on the model:
// CPU time per step (robust on a shared machine), best of `rounds`, 1 thread.
// Run: npx tsx bench/step-profile.ts [--model PATH] [--n 1,2,4,8] [--rounds 5]
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { decodeRows } from "./steps.js";

const { values: v } = parseArgs({
  options: { model: { type: "string" }, n: { type: "string", default: "1,2,4,8" }, rounds: { type: "string", default: "5" } },
});
const modelPath = v.model ?? `${process.env.HOME}/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf`;
const engine = await loadModel(modelPath, { threads: 1, ctx: 256, parallel: 8 });
const m = engine.model;
const cpuMs = (f: () => void): number => {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const rounds = Number(v.rounds);
const line: string[] = [];
for (const n of v.n.split(",").map(Number)) {
  const parts = decodeRows(engine, n);
  m.forwardBatch(parts);
  let best = Infinity;
  for (let r = 0; r < rounds; r++)
    best = Math.min(
      best,
      cpuMs(() => m.forwardBatch(parts.map((p) => ({ ...p, pos: 1 + r })))),
    );
  line.push(`n=${n} ${best.toFixed(1)} ms (${(best / n).toFixed(2)} ms/row)`);
}
const prompt = Array.from({ length: 64 }, (_, i) => 200 + i);
let bestP = Infinity;
for (let r = 0; r < rounds; r++)
  bestP = Math.min(
    bestP,
    cpuMs(() => m.forwardBatch([{ slot: 0, tokens: prompt, pos: 0, policy: engine.policy(), phase: "prompt", logits: "last" }])),
  );
line.push(`prompt 64 tokens ${bestP.toFixed(1)} ms (${((64 * 1000) / bestP).toFixed(0)} tok/s)`);
console.log(`${engine.model.kernels.name} decode steps (CPU time, best of ${rounds}): ${line.join("; ")}`);
await engine.dispose();
