/**
 * Where a decode step's time goes: each dispatch of matrix products timed by its matrices (ms per step and GB/s of
 * weights), the attention and the other kernel calls, and the rest (JavaScript, activation quantization, ...).
 * Wraps the loaded engine's kernels; positions 20.. of a dense decode.
 *
 *   node dist/bench/step-parts.js --model FILE [--threads 1] [--steps 10] [--chunks-per-thread N] [--profile P.json]
 * (--profile: a skip profile's decode steps instead of dense ones; compact copies are built first)
 */
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { readSkipProfile } from "../src/skip/skip-profile.js";
import type { Job } from "../src/kernels/pool.js";

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    threads: { type: "string", default: "1" },
    steps: { type: "string", default: "10" },
    "chunks-per-thread": { type: "string" },
    profile: { type: "string" },
  },
});
if (!v.model) throw new Error("usage: step-parts.js --model FILE [--threads 1] [--steps 10]");
const engine = await loadModel(v.model, { threads: Number(v.threads), ctx: 512 });
const m = engine.model;
const policy = engine.policy(v.profile ? readSkipProfile(v.profile, engine.config.nLayers).config : undefined);
engine.prepareSkip(policy);
const step = (pos: number): void => {
  m.forward([100 + (pos % 50)], pos, { policy, phase: "decode", genIndex: pos, logits: "last" });
};
for (let p = 0; p < 20; p++) step(p);
const parts = new Map<string, { ms: number; bytes: number; calls: number; wait: number; alone: number }>();
const add = (key: string, ms: number, bytes: number, wait = 0, alone = false): void => {
  const a = parts.get(key) ?? { ms: 0, bytes: 0, calls: 0, wait: 0, alone: 0 };
  a.ms += ms;
  a.bytes += bytes;
  a.calls++;
  a.wait += wait;
  if (alone) a.alone++;
  parts.set(key, a);
};
const TYPE_NAMES: Record<number, string> = { 2: "Q4_0", 3: "Q4_1", 8: "Q8_0", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 6: "Q5_0" };
for (const S of m.shards) {
  // the wasm kernels' private dispatch and its job table (a bench may look inside)
  const K = S.kernels as unknown as {
    exec(n: number): void;
    jobs: Job[];
    backoff: number;
    pool?: { chunksPerThread: number; lastWaitMs: number };
  } & Record<string, unknown>;
  if (v["chunks-per-thread"] && K.pool) K.pool.chunksPerThread = Number(v["chunks-per-thread"]);
  const exec = K.exec.bind(K);
  K.exec = (nj: number): void => {
    const jobs = K.jobs.slice(0, nj);
    // with a pool: whether the pool's back-off (after a long wait for a worker) runs this dispatch on the main thread alone
    const alone = K.pool !== undefined && K.backoff > 0;
    const t0 = performance.now();
    exec(nj);
    const ms = performance.now() - t0;
    const wait = K.pool && !alone ? K.pool.lastWaitMs : 0;
    if (jobs[0].type & 0x10000) return add("attention (pool)", ms, 0, wait, alone);
    const key = jobs.map((j) => `${TYPE_NAMES[j.type & 0xff] ?? j.type & 0xff} ${j.rows}x${j.cols}`).join(" + ");
    add(
      key,
      ms,
      jobs.reduce((s, j) => s + j.rows * j.rowBytes, 0),
      wait,
      alone,
    );
  };
  for (const name of ["attention", "swiglu", "geglu", "toHalves", "rmsnorm", "addInto", "rope"] as const) {
    const f = (K[name] as (...a: unknown[]) => void).bind(K);
    K[name] = (...a: unknown[]): void => {
      const t0 = performance.now();
      f(...a);
      add(name, performance.now() - t0, 0);
    };
  }
}
const steps = Number(v.steps);
const t0 = performance.now();
for (let r = 0; r < steps; r++) step(20 + r);
const total = (performance.now() - t0) / steps;
let inside = 0;
console.log(`${v.model.split("/").pop()}, ${v.threads} thread(s), ${steps} decode steps at positions 20..: ${total.toFixed(2)} ms/step`);
for (const [k, a] of parts) {
  inside += a.ms / steps;
  const rate = a.bytes > 0 ? `, ${(a.bytes / a.ms / 1e6).toFixed(2)} GB/s` : "";
  const pool =
    v.threads !== "1" && a.bytes > 0 ? `; main thread waited ${(a.wait / steps).toFixed(2)} ms/step, ${a.alone} calls alone` : "";
  console.log(`  ${k}: ${(a.ms / steps).toFixed(2)} ms/step${rate} (${a.calls / steps} calls${pool})`);
}
console.log(`  the rest (JavaScript, activation quantization, ...): ${(total - inside).toFixed(2)} ms/step`);
await engine.dispose();
