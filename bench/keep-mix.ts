/**
 * Research helper for issue 16 (not part of the product): a keep file (src/skip/neuron-keep.ts) whose layers come from
 * different keep files, e.g. the top quarter of every layer's neurons in the early layers and the top half in the late
 * ones, for ffn-skip-compact.
 *
 *   node dist/bench/keep-mix.js --out OUT.keep --base A.keep [--take FROM-TO=B.keep ...]
 */
import { parseArgs } from "node:util";
import { loadKeep, writeKeep } from "../src/skip/neuron-keep.js";

const { values: v } = parseArgs({
  options: { out: { type: "string" }, base: { type: "string" }, take: { type: "string", multiple: true } },
});
if (!v.out || !v.base) throw new Error("--out OUT.keep and --base A.keep are required");
const base = loadKeep(v.base);
for (const t of v.take ?? []) {
  const m = /^(\d+)-(\d+)=(.+)$/.exec(t);
  if (!m) throw new Error(`--take ${t}: expected FROM-TO=FILE.keep`);
  const other = loadKeep(m[3]);
  if (other.ffnDim !== base.ffnDim || other.keeps.length !== base.keeps.length)
    throw new Error(`--take ${t}: ${m[3]} is for another model (${other.keeps.length} layers of ${other.ffnDim} neurons)`);
  for (let l = Number(m[1]); l <= Number(m[2]); l++) base.keeps[l] = other.keeps[l];
}
writeKeep(v.out, base.keeps, base.ffnDim);
console.log(`${v.out}: kept per layer ${base.keeps.map((k) => k.length).join(",")}`);
