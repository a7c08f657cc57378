// Knowledge tasks without a model: prompt formats against the harness's
// templates on real rows, the harness's context/continuation split, acc and
// acc_norm choice rules, cloze prompts and answers, few-shot prompt and shots,
// sweep cell order, warm-up override, and the statistics in the report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { splitPairs } from "../../src/eval/choice.js";
import { clozeAnswer, clozePrompt, clozeTask, majorityBaseline, rankOf, roundRobin } from "../../src/eval/cloze.js";
import { fewshotPrompt, fewshotTask } from "../../src/eval/fewshot.js";
import { argmax, hellaswagPreprocess, MC_TASKS, mcTask } from "../../src/eval/knowledge.js";
import { taskSkipConfig, type EvalRecord } from "../../src/eval/evaluate.js";
import { compare, knowledgeSummary, measuringStick, statsTable } from "../../src/eval/report.js";
import { parseCells, sweepChart, type SweepResult } from "../../src/eval/sweep.js";
import { itemsForPairedDrop, itemsForUnpaired } from "../../src/eval/stats.js";
import type { Task } from "../../src/eval/task.js";
import { SHARED } from "../helpers/paths.js";

const K = join(SHARED, "data", "knowledge");
const have = (f: string) => existsSync(join(K, f));

test("multiple-choice prompts follow lm-eval's task yamls on real rows", (t) => {
  if (!have("arc-easy-test.jsonl") || !have("hellaswag-val.jsonl")) return t.skip(`no ${K}`);
  process.env.FFNSKIP_SHARED = SHARED;
  const arc = mcTask("arc-easy", { limit: 2 });
  const a = arc.items[1] as unknown as { context: string; choices: string[]; gold: number };
  assert.equal(
    a.context,
    "Question: Which piece of safety equipment is used to keep mold spores from entering the respiratory system?\nAnswer:",
  );
  assert.deepEqual(a.choices, ["safety goggles", "breathing mask", "rubber gloves", "lead apron"]);
  assert.equal(a.gold, 1);
  assert.equal(arc.chance, 0.25);
  assert.equal(arc.warmup, 0);
  const piqa = mcTask("piqa", { limit: 2 }).items[1] as unknown as { context: string; choices: string[]; gold: number };
  assert.equal(piqa.context, "Question: dresser\nAnswer:");
  assert.deepEqual(piqa.choices, ["replace drawer with bobby pin ", "finish, woodgrain with  bobby pin "]);
  assert.equal(piqa.gold, 1);
  const hs = mcTask("hellaswag", { limit: 1 }).items[0] as unknown as { context: string; choices: string[]; gold: number };
  assert.equal(hs.context, "Roof shingle removal: A man is sitting on a roof. he");
  assert.equal(hs.choices[3], "starts pulling up roofing on a roof.");
  assert.equal(hs.gold, 3);
  const ob = mcTask("openbookqa", { limit: 1 }).items[0] as unknown as { context: string };
  assert.ok(!ob.context.startsWith("Question:"), "openbookqa uses the bare question_stem");
  assert.throws(() => mcTask("mmlu", {}), /unknown multiple-choice task "mmlu"; supported: arc-easy/);
});

test("hellaswag preprocessing is the harness's", () => {
  assert.equal(hellaswagPreprocess(" How to cook [title] Boil water. [step] Stir  it "), "How to cook. Boil water. Stir it");
});

test("context/continuation split: trailing spaces move, the continuation is the whole's tail", () => {
  // a toy encoder: one token per character, BOS = 0
  const enc = (s: string) => [0, ...Array.from(s, (c) => c.charCodeAt(0))];
  const r = splitPairs(enc, "Q: x\nA: ", ["yes", "no"]);
  assert.deepEqual(r.context, enc("Q: x\nA:"));
  assert.deepEqual(r.continuations, [Array.from(" yes", (c) => c.charCodeAt(0)), Array.from(" no", (c) => c.charCodeAt(0))]);
  // an encoder that merges across the boundary leaves the harness's split (no tokens → error)
  assert.throws(() => splitPairs(() => [0, 1], "a", ["b"]), /choice 0 \("b"\) has no tokens/);
});

test("acc and acc_norm choose by the harness's rules (first on ties)", () => {
  assert.equal(argmax([-3, -1, -1, -5]), 1);
  // summed log-likelihood prefers the short choice; per byte the long one
  const ll = [-4, -6],
    texts = ["ab", "abcdef"];
  assert.equal(argmax(ll), 0);
  assert.equal(argmax(ll.map((x, i) => x / Buffer.byteLength(texts[i]))), 1);
});

test("cloze: template to prompt, answer extraction, relation round-robin, rank", () => {
  assert.deepEqual(clozePrompt("[X] was born in [Y] .", "Dante"), { prompt: "Dante was born in", after: "." });
  assert.deepEqual(clozePrompt("[X] (born [Y]).", "Ada"), { prompt: "Ada (born", after: ")." });
  assert.throws(() => clozePrompt("[Y] is [X]", "a"), /\[X\] must come before \[Y\]/);
  assert.equal(clozeAnswer(" Florence, Italy.\nMore", "."), "florence");
  assert.equal(clozeAnswer(" 1815).", ")."), "1815");
  const rr = roundRobin([
    { relation: "a", v: 0 },
    { relation: "a", v: 1 },
    { relation: "b", v: 2 },
    { relation: "a", v: 3 },
    { relation: "c", v: 4 },
  ]);
  assert.deepEqual(
    rr.map((x) => x.row.v),
    [0, 2, 4, 1, 3],
  );
  assert.equal(rankOf(new Float32Array([0.5, 2, 1, 2]), 2), 2);
  assert.equal(rankOf(new Float32Array([0.5, 2, 1, 2]), 1), 0);
  assert.equal(rankOf(new Float32Array([0.5, 2, 1, 2]), 3), 1, "a tie with a lower id ranks first (argmax)");
});

test("cloze majority baseline: the relation's most frequent other object, leave-one-out", () => {
  const rows = [
    { relation: "lang", object: "English" },
    { relation: "lang", object: "english" },
    { relation: "lang", object: "French" },
    { relation: "city", object: "Paris" },
    { relation: "city", object: "Rome" },
  ];
  // lang: rows 0 and 1 see "english" once more among the others (hit), row 2 sees "english" ×2 (miss);
  // city: each sees only the other city once, which is not its own object (miss)
  assert.equal(majorityBaseline(rows, rows), 2 / 5);
  // a single "english" row alone in its relation has no other row to guess from
  assert.equal(majorityBaseline([rows[0]], [rows[0], rows[2]]), 0);
});

test("cloze and few-shot tasks on real rows", (t) => {
  if (!have("lama-trex-28rel.jsonl") || !existsSync(join(SHARED, "data", "factoid", "freebaseqa-train.jsonl"))) return t.skip("no data");
  process.env.FFNSKIP_SHARED = SHARED;
  const c = clozeTask({ limit: 30 });
  const rels = new Set(c.items.map((x) => (x as unknown as { relation: string }).relation));
  assert.equal(rels.size, 28, "the first 28 items cover every relation");
  const f = fewshotTask({ limit: 3 });
  assert.equal(f.items.length, 3);
  assert.equal(f.items[0].id, "0");
  const p = fewshotPrompt([{ question: "Q1?", answer: "a1" }], "Q2?");
  assert.equal(p, "Q: Q1?\nA: a1\n\nQ: Q2?\nA:");
});

test("sweep cells: METHOD@R restricts ratios, the middle ratio runs first", () => {
  const cells = parseCells(["ffn-skip", "random", "early-exit@0.25"], [0.15, 0.25, 0.35]);
  assert.deepEqual(
    cells.map((c) => `${c.method}@${c.ratio}`),
    ["ffn-skip@0.25", "random@0.25", "early-exit@0.25", "ffn-skip@0.35", "random@0.35", "ffn-skip@0.15", "random@0.15"],
  );
  assert.throws(() => parseCells(["static@1.5"], [0.25]), /each ratio must be a number in \(0, 1\)/);
});

test("a task's warm-up replaces the config's for methods that have one", () => {
  const task = { warmup: 0 } as Task;
  assert.deepEqual(taskSkipConfig(task, { method: "static", warmup: 2, layers: [1] }), { method: "static", warmup: 0, layers: [1] });
  assert.deepEqual(taskSkipConfig(task, { method: "layer-drop", layers: [1] }), { method: "layer-drop", layers: [1] });
  assert.deepEqual(taskSkipConfig({} as Task, { method: "ffn-skip", warmup: 2 }), { method: "ffn-skip", warmup: 2 });
});

const rec = (method: string, acc: number[], ratio = 0.25): EvalRecord => ({
  task: "toy",
  skip: { method } as EvalRecord["skip"],
  achieved_ratio: method === "none" ? 0 : ratio,
  metrics: { acc: acc.reduce((a, b) => a + b, 0) / acc.length, n: acc.length },
  primary: "acc",
  items: acc.length,
  complete: true,
  config: {},
  cache: "",
  provenance: { model: "/m/toy.gguf", model_sha256: "0".repeat(64), git_commit: "abc", created: "2026-12-01T00:00:00Z", node: "v20" },
  chance: 0.25,
  ids: acc.map((_, i) => String(i)),
  values: { acc },
  computed_at: ["abc"],
});

test("report: paired tests, measuring stick and tables from per-item values", () => {
  const n = 200;
  const dense = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 1 : 0));
  // ffn-skip flips 10 right → wrong and 2 wrong → right; random flips 30 → wrong
  const ff = dense.map((x, i) => (i < 20 && x === 1 ? 0 : i >= 20 && i < 24 && x === 0 ? 1 : x));
  const rnd = dense.map((x, i) => (i < 60 && x === 1 ? 0 : x));
  const r: SweepResult = {
    dense: rec("none", dense),
    cells: [
      { method: "ffn-skip", ratio: 0.25, record: rec("ffn-skip", ff) },
      { method: "random", ratio: 0.25, record: rec("random", rnd) },
    ],
    complete: true,
  };
  const c = compare(r.dense, r.cells[0].record, "acc");
  assert.deepEqual([c.onlyA, c.onlyB, c.test], [10, 2, "mcnemar"]);
  assert.ok(Math.abs(c.diff.mean - -8 / n) < 1e-12);
  // exact two-sided binomial of 2 successes in 12: 2·(1 + 12 + 66)/4096
  assert.ok(Math.abs(c.p - (2 * 79) / 4096) < 1e-12);
  const s = measuringStick(r);
  assert.equal(s.flipRate, 12 / n);
  assert.equal(s.pairedItems, itemsForPairedDrop(0.02, 12 / n));
  assert.equal(s.unpairedItems, itemsForUnpaired(0.5, 0.02));
  const table = statsTable(r, ["ffn-skip", "random"], [0.25]);
  assert.match(table, /toy: acc ×100 on 200 items; dense 50\.0 \[/);
  assert.match(table, /\| ffn-skip \| 25% \| 25\.0% \| 46\.0 \[.*\] \| -4\.0 \[.*\] \| 10\/2 \| 0\.039 \|/);
  assert.match(table, /\| random \| 25% \| 25\.0% \| 35\.0 .* \| 30\/0 \| <0\.001 \| -11\.0 \[/);
  const sum = knowledgeSummary([r], r.dense.provenance, "`cmd`");
  assert.match(sum, /\| toy acc \| 200 \| 25\.0 \| 50\.0 \[/);
  assert.match(sum, /\| toy \| \+11\.0 \[.*\] p=<0\.001 \|/);
  // scores that are not right/wrong go to the paired bootstrap
  const a = rec("none", [0.5, 0.25, 1, 0.75]),
    b = rec("static", [0.25, 0.25, 0.75, 0.5]);
  assert.equal(compare(a, b, "acc").test, "paired-bootstrap");
  // the chart carries a CI bar per point
  assert.equal((sweepChart(r, ["ffn-skip", "random"]).match(/<path d="M/g) ?? []).length, 4);
});
