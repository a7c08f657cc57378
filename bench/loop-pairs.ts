/**
 * Vicuna loop rates of two runs over the same questions, paired (exact McNemar, src/eval/stats.ts), from their
 * per-item caches (results/.../cache/conversation-*.jsonl). Several caches per side are joined by question id, e.g.
 * the 40 test questions and the 40 others of Vicuna-80.
 *
 *   node dist/bench/loop-pairs.js --a A1.jsonl[,A2.jsonl] --b B1.jsonl[,B2.jsonl]
 */
import { parseArgs } from "node:util";
import { isLooping } from "../src/eval/collapse.js";
import { mcnemar } from "../src/eval/stats.js";
import { firstAnswers } from "./conv-caches.js";

const { values: v } = parseArgs({ options: { a: { type: "string" }, b: { type: "string" } } });
if (!v.a || !v.b) throw new Error("--a CACHES and --b CACHES (comma-separated conversation cache files) are required");

/** question id → whether its first answer ends in a loop */
const loops = (files: string): Map<string, boolean> => new Map([...firstAnswers(files)].map(([id, a]) => [id, isLooping(a.text)]));
const A = loops(v.a),
  B = loops(v.b);
const ids = [...A.keys()].filter((id) => B.has(id));
if (ids.length === 0) throw new Error("the two sides share no question id");
const x = ids.map((id) => (A.get(id) ? 1 : 0)),
  y = ids.map((id) => (B.get(id) ? 1 : 0));
const m = mcnemar(x, y);
const rate = (z: number[]) => ((100 * z.reduce((s, t) => s + t, 0)) / z.length).toFixed(1);
console.log(
  `${ids.length} questions: loop rate A ${rate(x)}%, B ${rate(y)}%; loops only in A ${m.onlyA}, only in B ${m.onlyB}; exact McNemar p ${m.p.toFixed(4)}`,
);
