/**
 * Research helper for issue 16 (not part of the product): how likely the dense model finds each Vicuna answer of a run,
 * beside whether the answer ends in a loop. A loop rate alone cannot tell an answer that stays fluent from one that
 * breaks into text no model would write: both "do not loop". The dense model's mean negative log-likelihood per token
 * of the answer (teacher-forced after the same chat prompt) tells them apart: a fluent answer scores low, a loop lower
 * still, word salad high.
 *
 * An answer is counted as broken when it does not loop and its NLL is above every answer the dense model wrote itself
 * (the run named "dense"), and as degenerate when it loops or is broken; --pairs A:B compares two runs' degenerate
 * answers on the questions both have (exact McNemar).
 *
 *   node dist/bench/answer-likelihood.js --model FILE --runs NAME=A1.jsonl[,A2.jsonl] [--runs ...] [--data vicuna-80.jsonl]
 *     [--out per-answer.jsonl] [--scores per-answer.jsonl] [--pairs A:B,C:D] [--threads 1]
 * (the caches are conversation-*.jsonl item caches; several per run are joined by question id. --scores: an earlier
 * --out whose NLLs are reused for the same run and question; loops are always counted again from the text)
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { isLooping } from "../src/eval/collapse.js";
import { mcnemar } from "../src/eval/stats.js";
import { VICUNA_DEFAULT } from "../src/eval/conversation.js";
import { dataPath, readJsonl } from "../src/eval/data.js";
import { firstAnswers } from "./conv-caches.js";
import { midMedian } from "./median.js";

const { values: v, positionals } = parseArgs({
  options: {
    model: { type: "string" },
    data: { type: "string" },
    out: { type: "string" },
    scores: { type: "string" },
    pairs: { type: "string" },
    threads: { type: "string", default: "1" },
    runs: { type: "string", multiple: true },
  },
  allowPositionals: true,
});
const runs = [...(v.runs ?? []), ...positionals];
if (!v.model || runs.length === 0) throw new Error("--model FILE and at least one --runs NAME=CACHE[,CACHE] are required");

const questions = new Map(
  readJsonl(dataPath(v.data ?? VICUNA_DEFAULT), "conversation").map((r) => [String(r.question_id), String(r.text)]),
);
interface Row {
  run: string;
  id: string;
  loop: boolean;
  nll: number;
  tokens: number;
  finish: string;
}
const earlier = new Map<string, Row>();
if (v.scores)
  // an empty answer's NLL is infinite, which JSON writes as null
  for (const r of readJsonl(v.scores, "answer scores") as unknown as Row[])
    earlier.set(`${r.run}\u0000${r.id}`, { ...r, nll: r.nll ?? Number.POSITIVE_INFINITY });
const engine = await loadModel(v.model, { threads: Number(v.threads), ctx: 1024 });
const rows: Row[] = [];
for (const run of runs) {
  const eq = run.indexOf("=");
  if (eq < 1) throw new Error(`--runs ${run}: expected NAME=CACHE[,CACHE]`);
  const name = run.slice(0, eq);
  const answers = firstAnswers(run.slice(eq + 1));
  for (const [id, a] of [...answers].sort((x, y) => Number(x[0]) - Number(y[0]))) {
    const had = earlier.get(`${name}\u0000${id}`);
    if (had) {
      rows.push({ ...had, loop: isLooping(a.text) });
      continue;
    }
    const q = questions.get(id);
    if (q === undefined) throw new Error(`${name}: question ${id} is not in the data file`);
    const prompt = engine.encodePrompt({ messages: [{ role: "user", content: q }] });
    const body = engine.tokenizer.encode(a.text, { addSpecial: false });
    if (body.length === 0) {
      rows.push({ run: name, id, loop: false, nll: Number.POSITIVE_INFINITY, tokens: 0, finish: a.finish });
      continue;
    }
    const r = engine.perplexity([...prompt, ...body]);
    // nll[i] scores token i + 1: the answer's tokens are prompt.length ..
    const nll = r.nll.slice(prompt.length - 1);
    const mean = nll.reduce((s, x) => s + x, 0) / nll.length;
    rows.push({ run: name, id, loop: isLooping(a.text), nll: mean, tokens: body.length, finish: a.finish });
  }
  process.stderr.write(`${name}: ${answers.size} answers scored\n`);
}
await engine.dispose();
if (v.out) writeFileSync(v.out, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
// broken: no loop, and less likely under dense than anything dense wrote itself
const denseRows = rows.filter((r) => r.run === "dense");
const T = denseRows.length > 0 ? Math.max(...denseRows.map((r) => r.nll)) : Number.POSITIVE_INFINITY;
const broken = (r: Row) => !r.loop && r.nll > T;
const degenerate = (r: Row) => r.loop || broken(r);
const pct = (k: number, n: number) => `${((100 * k) / n).toFixed(1)}%`;
console.log(`threshold for "broken": ${T.toFixed(2)} nats/token (the least likely of ${denseRows.length} dense answers)`);
console.log("");
console.log(
  "| run | answers | loop rate | broken, no loop | degenerate (either) | median NLL/token under dense | of the looping answers | of the others |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const name of new Set(rows.map((r) => r.run))) {
  const mine = rows.filter((r) => r.run === name);
  const nll = (f: (r: Row) => boolean) => midMedian(mine.filter(f).map((r) => r.nll)).toFixed(2);
  const n = mine.length;
  console.log(
    `| ${name} | ${n} | ${pct(mine.filter((r) => r.loop).length, n)} | ${pct(mine.filter(broken).length, n)} | ${pct(mine.filter(degenerate).length, n)} | ${nll(() => true)} | ${nll((r) => r.loop)} | ${nll((r) => !r.loop)} |`,
  );
}
for (const pair of v.pairs ? v.pairs.split(",") : []) {
  const [a, b] = pair.split(":");
  const A = new Map(rows.filter((r) => r.run === a).map((r) => [r.id, r])),
    B = new Map(rows.filter((r) => r.run === b).map((r) => [r.id, r]));
  const ids = [...A.keys()].filter((id) => B.has(id));
  if (ids.length === 0) throw new Error(`--pairs ${pair}: the runs share no question`);
  const x: number[] = ids.map((id) => (degenerate(A.get(id)!) ? 1 : 0)),
    y: number[] = ids.map((id) => (degenerate(B.get(id)!) ? 1 : 0));
  const m = mcnemar(x, y);
  const lower = ids.filter((id) => A.get(id)!.nll < B.get(id)!.nll).length;
  console.log(
    `${a} vs ${b}, ${ids.length} questions: degenerate ${pct(
      x.reduce((s, t) => s + t, 0),
      ids.length,
    )} vs ${pct(
      y.reduce((s, t) => s + t, 0),
      ids.length,
    )}, ${m.onlyA} / ${m.onlyB} discordant, exact McNemar p ${m.p.toFixed(4)}; ${a}'s answer more likely under dense on ${lower} of ${ids.length}`,
  );
}
