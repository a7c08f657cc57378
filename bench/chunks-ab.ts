/**
 * The pool's chunking A/B'd in one process: decode steps take turns between settings of `KernelPool.minChunkMacs`
 * (0: the old cut, CHUNKS_PER_THREAD chunks per thread whatever their size), step by step, so the host's drift falls
 * on every setting alike. Prints the median step time of each setting and its ratio to the first. Results do not depend
 * on the chunking (every row is computed the same way whatever the split), only the time does.
 *
 *   node dist/bench/chunks-ab.js --model FILE [--threads 2] [--settings 0,524288] [--steps 600] [--profile P.json]
 */
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { readSkipProfile } from "../src/skip/skip-profile.js";
import type { KernelPool } from "../src/kernels/pool.js";
import { median } from "./median.js";

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    threads: { type: "string", default: "2" },
    settings: { type: "string", default: "0,524288" },
    steps: { type: "string", default: "600" },
    profile: { type: "string" },
  },
});
if (!v.model) throw new Error("usage: chunks-ab.js --model FILE [--threads 2] [--settings 0,524288] [--steps 600] [--profile P.json]");
const settings = v.settings.split(",").map(Number);
if (settings.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--settings ${v.settings}: give whole numbers of multiply-adds`);
const steps = Number(v.steps);
const engine = await loadModel(v.model, { threads: Number(v.threads), ctx: 1024 });
const m = engine.model;
const policy = engine.policy(v.profile ? readSkipProfile(v.profile, engine.config.nLayers).config : undefined);
engine.prepareSkip(policy);
// the shards' pool (a bench may look inside the kernels)
const pools = [...new Set(m.shards.map((S) => (S.kernels as unknown as { pool?: KernelPool }).pool))].filter((p) => p !== undefined);
if (pools.length === 0) throw new Error("no kernel pool: give --threads 2 or more");
const step = (pos: number): void => {
  m.forward([100 + (pos % 50)], pos, { policy, phase: "decode", genIndex: pos, logits: "last" });
};
for (let p = 0; p < 20; p++) step(p);
const times = settings.map((): number[] => []);
for (let i = 0; i < steps; i++) {
  const j = i % settings.length;
  for (const P of pools) P.minChunkMacs = settings[j];
  const t0 = performance.now();
  step(20 + (i % 900)); // positions 20..919, each setting over the same range
  times[j].push(performance.now() - t0);
}
const meds = times.map((t) => median(t));
console.log(
  `${v.model.split("/").pop()}${v.profile ? ` with ${v.profile.split("/").pop()}` : ""}, ${v.threads} threads, ${steps} decode steps taking turns: ` +
    settings.map((s, j) => `minChunkMacs ${s}: ${meds[j].toFixed(3)} ms/step (${(meds[j] / meds[0]).toFixed(3)}×)`).join("; "),
);
await engine.dispose();
