/**
 * CPU time of ffn-skip-linear's stand-in for one skipped FFN on one token:
 * the unit-RMS norm and the two rank-r products of `applyLowRank`, in the
 * TypeScript the policy runs on the main thread. Times a map of the given
 * stand-in file (default SmolLM2's) over many calls:
 *
 *   npm run build && node dist/bench/stand-in-cost.js [--file profiles/smollm2-135m-instruct-linear.standin] [--calls 20000]
 */
import { parseArgs } from "node:util";
import { loadStandIn, unitRms } from "../src/skip/linear.js";
import { applyLowRank } from "../src/skip/linear-fit.js";

const { values: v } = parseArgs({ options: { file: { type: "string" }, calls: { type: "string" } } });
const file = v.file ?? "profiles/smollm2-135m-instruct-linear.standin";
const calls = Number(v.calls ?? 20000);
if (!(Number.isInteger(calls) && calls > 0)) throw new Error(`--calls takes a whole number > 0, got ${v.calls}`);
const maps = loadStandIn(file);
const map = maps.layers.find((m) => m !== null && m !== undefined);
if (!map) throw new Error(`${file}: no layer has a map`);
const h = new Float32Array(map.dim).map((_, i) => Math.sin(i)),
  xn = new Float32Array(map.dim),
  z = new Float64Array(map.rank);
const once = () => {
  unitRms(h, 0, map.dim, xn);
  applyLowRank(map, xn, 0, h, 0, z);
};
for (let i = 0; i < 2000; i++) once(); // let V8 optimize it
const t0 = process.cpuUsage();
for (let i = 0; i < calls; i++) once();
const us = process.cpuUsage(t0);
const per = (us.user + us.system) / calls;
process.stdout.write(
  `${file}: dim ${map.dim}, rank ${map.rank}: ${per.toFixed(1)} µs CPU per skipped FFN and token (${((4 * map.dim * map.rank) / per / 1e3).toFixed(2)} GFLOP/s)\n`,
);
