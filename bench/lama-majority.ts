/**
 * The informed-guess baseline for lama-cloze (`majorityBaseline` in
 * src/eval/cloze.ts) on the same first N items the task evaluates: each item
 * answered with its relation's most frequent other object. Prints one line.
 *
 *   npm run build && FFNSKIP_SHARED=/path/to/shared node dist/bench/lama-majority.js [--limit 300]
 */
import { parseArgs } from "node:util";
import { CLOZE_DEFAULT, majorityBaseline, roundRobin } from "../src/eval/cloze.js";
import { dataPath, readJsonl, select, str } from "../src/eval/data.js";

const { values: v } = parseArgs({ options: { limit: { type: "string" }, data: { type: "string" } } });
const path = dataPath(v.data ?? CLOZE_DEFAULT);
const rows = readJsonl(path, "lama-majority").map((r, i) => ({
  relation: str(r, "relation", `${path} row ${i + 1}`),
  object: str(r, "object", `${path} row ${i + 1}`),
}));
const items = select(
  roundRobin(rows).map((x) => x.row),
  v.limit === undefined ? undefined : Number(v.limit),
  undefined,
  "lama-majority",
).map((x) => x.row);
const share = majorityBaseline(items, rows);
process.stdout.write(
  `${path}: ${items.length} items (round-robin over ${new Set(rows.map((r) => r.relation)).size} relations); ` +
    `relation-majority baseline (leave-one-out) exact = ${(100 * share).toFixed(1)}% (${Math.round(share * items.length)}/${items.length})\n`,
);
