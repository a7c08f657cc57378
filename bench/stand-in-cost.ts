/**
 * CPU time of ffn-skip-linear's stand-in for one skipped FFN on one token:
 * the unit-RMS norm and the two rank-r products, as the wasm SIMD kernel the
 * policy runs (StandInKernel, src/skip/linear-kernel.ts) and as the plain
 * TypeScript reference (applyLowRank) it replaced; the two give the same bits.
 * Times a map of the given stand-in file (default SmolLM2's) over many calls:
 *
 *   npm run build && node dist/bench/stand-in-cost.js [--file profiles/smollm2-135m-instruct-linear.standin] [--calls 20000]
 */
import { parseArgs } from "node:util";
import { loadStandIn, standInKernel } from "../src/skip/linear.js";
import { applyLowRank } from "../src/skip/linear-fit.js";
import { unitRms } from "../src/skip/linear-kernel.js";

const { values: v } = parseArgs({ options: { file: { type: "string" }, calls: { type: "string" } } });
const file = v.file ?? "profiles/smollm2-135m-instruct-linear.standin";
const calls = Number(v.calls ?? 20000);
if (!(Number.isInteger(calls) && calls > 0)) throw new Error(`--calls takes a whole number > 0, got ${v.calls}`);
const maps = loadStandIn(file);
const layer = maps.layers.findIndex((m) => m !== null && m !== undefined);
if (layer < 0) throw new Error(`${file}: no layer has a map`);
const map = maps.layers[layer]!;
const kernel = standInKernel(maps);
const h = new Float32Array(map.dim).map((_, i) => Math.sin(i)),
  xn = new Float32Array(map.dim),
  z = new Float64Array(map.rank);

/** µs of CPU per call of `once`, after a warm-up that lets V8 optimize it */
function time(once: () => void): number {
  for (let i = 0; i < 2000; i++) once();
  const t0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) once();
  const us = process.cpuUsage(t0);
  return (us.user + us.system) / calls;
}
const flop = 4 * map.dim * map.rank;
for (const [name, once] of [
  ["wasm SIMD kernel", () => kernel.apply(layer, h, 0)],
  [
    "TypeScript reference",
    () => {
      unitRms(h, 0, map.dim, xn);
      applyLowRank(map, xn, 0, h, 0, z);
    },
  ],
] as const) {
  h.forEach((_, i) => (h[i] = Math.sin(i)));
  const per = time(once);
  process.stdout.write(
    `${file}: dim ${map.dim}, rank ${map.rank}, ${name}: ${per.toFixed(1)} µs CPU per skipped FFN and token (${(flop / per / 1e3).toFixed(2)} GFLOP/s)\n`,
  );
}
