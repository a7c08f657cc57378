/**
 * Whole-model decode step of two or more kernel builds in one process: the
 * model is loaded once per build, and rounds of 4 decode steps alternate
 * between them (CPU time per step at 1 thread, robust on a shared machine;
 * wall time at more threads), so a change in the machine's load touches every
 * build alike. Medians and bests of the rounds, and the first build's time
 * over each other's.
 *
 * Run: npm run build && node dist/bench/model-ab.js --model FILE [--threads 1] [--rounds 10] [--builds relaxed,dotadd]
 *   (builds: kernel variants, see src/kernels/wasm-module.ts; pin with taskset -c N at 1 thread:
 *   this machine's two vCPUs differ in speed)
 */
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import type { KernelVariant } from "../src/kernels/wasm-module.js";
import { decodeRows } from "./steps.js";
import { median } from "./median.js";

const { values: opts } = parseArgs({
  options: {
    model: { type: "string" },
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "10" },
    builds: { type: "string", default: "relaxed,dotadd" },
  },
});
if (!opts.model) throw new Error("usage: model-ab.js --model FILE [--threads 1] [--rounds 10] [--builds relaxed,dotadd]");
const threads = Number(opts.threads);
const loaded = [];
for (const variant of opts.builds.split(",") as KernelVariant[]) {
  const engine = await loadModel(opts.model, { threads, ctx: 512, variant });
  loaded.push({ variant, engine, rows: decodeRows(engine, 1), ms: [] as number[] });
}
for (const b of loaded) b.engine.model.forwardBatch(b.rows);
let pos = 2;
for (let r = 0; r < Number(opts.rounds); r++) {
  for (const b of r & 1 ? [...loaded].reverse() : loaded) {
    const c0 = process.cpuUsage(),
      t0 = performance.now();
    for (let i = 0; i < 4; i++) b.engine.model.forwardBatch(b.rows.map((p) => ({ ...p, pos: pos + i })));
    const c = process.cpuUsage(c0);
    b.ms.push(threads === 1 ? (c.user + c.system) / 4000 : (performance.now() - t0) / 4);
  }
  pos = pos + 4 > 400 ? 2 : pos + 4;
}
const [m0, b0] = [median(loaded[0].ms), Math.min(...loaded[0].ms)];
for (const b of loaded) {
  const [m, best] = [median(b.ms), Math.min(...b.ms)];
  console.log(
    `${process.version} ${threads}t ${b.engine.model.kernels.name}: median ${m.toFixed(1)} ms/step, best ${best.toFixed(1)} ` +
      `(${threads === 1 ? "CPU" : "wall"} time); ${loaded[0].variant} ÷ this: median ${(m0 / m).toFixed(3)}×, best ${(b0 / best).toFixed(3)}×`,
  );
}
for (const b of loaded) await b.engine.dispose();
