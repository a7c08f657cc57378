/**
 * Multiple-choice knowledge tasks scored by log-likelihood, with the prompt
 * formats of lm-evaluation-harness's task yamls:
 * - arc-easy, arc-challenge: "Question: {question}\nAnswer:" + " {choice}"
 * - piqa: "Question: {goal}\nAnswer:" + " {sol}"
 * - hellaswag: preprocess(activity_label + ": " + ctx) + " " + preprocess(ending)
 * - openbookqa: "{question_stem}" + " {choice}"
 * acc: the choice with the highest summed log-likelihood is the gold one;
 * acc_norm: the same after dividing by the choice text's length in UTF-8
 * bytes (the harness divides by len(choice), characters; the same on ASCII).
 * Ties go to the first choice (numpy argmax). Data: ../shared/data/knowledge.
 *
 * Skip methods run with warm-up 0 here (KNOWLEDGE_WARMUP): with the usual
 * warm-up of 2, every answer of ≤ 3 tokens would be scored dense. Each item
 * records how many continuation tokens were scored under skipping anyway.
 */
import { scoreChoices } from "./choice.js";
import { dataPath, readJsonl, select, str } from "./data.js";
import type { ItemOutput, Task, TaskItem, TaskOptions } from "./task.js";

export const KNOWLEDGE_WARMUP = 0;

export interface McDoc {
  context: string;
  /** continuation texts without the delimiter */
  choices: string[];
  gold: number;
}

interface McItem extends TaskItem, McDoc {}

/** The harness's HellaSwag preprocess: strip, " [title]" → ". ", drop [bracketed] tags, "  " → " " (one pass). */
export function hellaswagPreprocess(text: string): string {
  return text
    .trim()
    .replaceAll(" [title]", ". ")
    .replace(/\[.*?\]/g, "")
    .replaceAll("  ", " ");
}

function arcDoc(r: Record<string, unknown>, where: string, prefix: (q: string) => string): McDoc {
  const q = str(r, "question", where);
  const cs = r.choices;
  if (!Array.isArray(cs) || cs.length < 2) throw new Error(`${where}: "choices" must be a list of ≥ 2 {label, text}`);
  const labels = cs.map((c) => str(c as Record<string, unknown>, "label", where));
  const gold = labels.indexOf(str(r, "answerKey", where));
  if (gold < 0) throw new Error(`${where}: answerKey ${JSON.stringify(r.answerKey)} is not one of ${labels.join(",")}`);
  return { context: prefix(q), choices: cs.map((c) => str(c as Record<string, unknown>, "text", where)), gold };
}

const intLabel = (r: Record<string, unknown>, n: number, where: string): number => {
  const l = r.label;
  if (!Number.isInteger(l) || (l as number) < 0 || (l as number) >= n) throw new Error(`${where}: "label" must be an integer in [0, ${n})`);
  return l as number;
};

/** Each task: its data file, chance level per item, and the doc → (context, choices, gold) map. */
export const MC_TASKS: Record<string, { file: string; doc: (r: Record<string, unknown>, where: string) => McDoc }> = {
  "arc-easy": { file: "knowledge/arc-easy-test.jsonl", doc: (r, w) => arcDoc(r, w, (q) => `Question: ${q}\nAnswer:`) },
  "arc-challenge": { file: "knowledge/arc-challenge-test.jsonl", doc: (r, w) => arcDoc(r, w, (q) => `Question: ${q}\nAnswer:`) },
  openbookqa: { file: "knowledge/openbookqa-test.jsonl", doc: (r, w) => arcDoc(r, w, (q) => q) },
  piqa: {
    file: "knowledge/piqa-valid.jsonl",
    doc: (r, w) => ({
      context: `Question: ${str(r, "goal", w)}\nAnswer:`,
      choices: [str(r, "sol1", w), str(r, "sol2", w)],
      gold: intLabel(r, 2, w),
    }),
  },
  hellaswag: {
    file: "knowledge/hellaswag-val.jsonl",
    doc: (r, w) => {
      const endings = r.endings;
      if (!Array.isArray(endings) || !endings.every((e) => typeof e === "string"))
        throw new Error(`${w}: "endings" must be a list of strings`);
      return {
        context: hellaswagPreprocess(`${str(r, "activity_label", w)}: ${str(r, "ctx", w)}`),
        choices: (endings as string[]).map(hellaswagPreprocess),
        gold: intLabel(r, endings.length, w),
      };
    },
  },
};

/** Index of the largest value, first on ties (numpy's argmax). */
export function argmax(xs: readonly number[]): number {
  let b = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[b]) b = i;
  return b;
}

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

export function mcTask(name: string, o: TaskOptions): Task {
  const spec = MC_TASKS[name];
  if (!spec) throw new Error(`unknown multiple-choice task "${name}"; supported: ${Object.keys(MC_TASKS).join(", ")}`);
  const path = dataPath(o.data ?? spec.file);
  const rows = readJsonl(path, name);
  const items: McItem[] = select(rows, o.limit, o.items, name).map(({ index, row }) => ({
    id: typeof row.id === "string" ? row.id : String(index),
    ...spec.doc(row, `${name} ${path} row ${index + 1}`),
  }));
  return {
    name,
    settings: { data: path, prompt: `${name}:lm-eval-v1`, rule: "choice:v1", warmup: KNOWLEDGE_WARMUP },
    items,
    needsReference: false,
    primary: "acc",
    higherIsBetter: true,
    warmup: KNOWLEDGE_WARMUP,
    chance: items.length ? items.reduce((s, it) => s + 1 / it.choices.length, 0) / items.length : NaN,
    async runItem(engine, item, ctx) {
      const it = item as McItem;
      const r = scoreChoices(
        engine,
        it.context,
        it.choices.map((c) => ` ${c}`),
        ctx.policy,
      );
      const ll = r.choices.map((c) => c.logprob);
      const pred = argmax(ll),
        predNorm = argmax(ll.map((x, i) => x / bytes(it.choices[i])));
      return {
        ll,
        tok: r.choices.map((c) => c.tokens),
        dec: r.choices.map((c) => c.decoded),
        pred,
        pred_norm: predNorm,
        acc: pred === it.gold ? 1 : 0,
        acc_norm: predNorm === it.gold ? 1 : 0,
        skipped_ffn: r.skipped_ffn,
        total_ffn: r.total_ffn,
      };
    },
    perItem: (out) => ({ acc: out.acc as number, acc_norm: out.acc_norm as number }),
    score(_items, outputs: ItemOutput[]) {
      const n = outputs.length;
      const sum = (f: (x: ItemOutput) => number) => outputs.reduce((s, x) => s + f(x), 0);
      const toks = sum((x) => (x.tok as number[]).reduce((a, b) => a + b, 0));
      return {
        acc: n ? sum((x) => x.acc as number) / n : NaN,
        acc_norm: n ? sum((x) => x.acc_norm as number) / n : NaN,
        // share of all scored continuation tokens that a skipping step predicted
        decoded_share: toks ? sum((x) => (x.dec as number[]).reduce((a, b) => a + b, 0)) / toks : NaN,
        n,
      };
    },
  };
}
