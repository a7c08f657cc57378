/**
 * Cloze knowledge completion from LAMA (T-REx by default, Google-RE with
 * --data knowledge/lama-google-re.jsonl): the relation template with the
 * subject filled in, cut before the object slot, is the prompt
 *   "[X] was born in [Y] ." → "Allan Peiper was born in"
 * and the model continues greedily (up to CLOZE_MAX_TOKENS, stopping at a
 * newline). Scores:
 * - exact: the continuation's first line, cut at the first "," or at the
 *   template's text after [Y] (e.g. "."), trimmed and lowercased, equals the
 *   object lowercased;
 * - rank of the gold object's first token (the harness split of
 *   prompt + " " + object) among the next-token logits after the prompt:
 *   top1, top10 and the reciprocal rank. That position is the prefill's last
 *   one, so only layer-drop (which removes layers in the prompt too) can
 *   change it; skipping shows in `exact` on tokens 2, 3, … .
 * Items go round-robin over the relations (fact k of every relation, in file
 * order, before fact k + 1), so a prefix covers every relation.
 */
import type { Engine } from "../api/engine.js";
import { prefill } from "../model/prefill.js";
import { KNOWLEDGE_WARMUP } from "./knowledge.js";
import { splitPairs } from "./choice.js";
import { dataPath, readJsonl, select, str } from "./data.js";
import type { ItemOutput, Task, TaskItem, TaskOptions } from "./task.js";
import { decodedTokens } from "./generation.js";

export const CLOZE_DEFAULT = "knowledge/lama-trex-28rel.jsonl";
export const CLOZE_MAX_TOKENS = 8;

interface ClozeItem extends TaskItem {
  relation: string;
  prompt: string;
  /** template text after [Y], trimmed (where the object ends) */
  after: string;
  object: string;
}

/** Template + subject → the prompt up to the object slot and the text after it. */
export function clozePrompt(template: string, subject: string): { prompt: string; after: string } {
  const y = template.indexOf("[Y]");
  if (y < 0) throw new Error(`cloze template ${JSON.stringify(template)} has no [Y]`);
  const head = template.slice(0, y).trimEnd();
  if (!head.includes("[X]")) throw new Error(`cloze template ${JSON.stringify(template)}: [X] must come before [Y]`);
  return { prompt: head.replace("[X]", subject), after: template.slice(y + 3).trim() };
}

/** The answer in a continuation: first line, cut at "," or the template's closing text, trimmed, lowercased. */
export function clozeAnswer(text: string, after: string): string {
  let a = text.split("\n")[0];
  for (const stop of [",", after]) {
    if (!stop) continue;
    const i = a.indexOf(stop);
    if (i >= 0) a = a.slice(0, i);
  }
  return a.trim().toLowerCase();
}

/** Round-robin order over relations (stable within a relation). */
export function roundRobin<T extends { relation: string }>(rows: T[]): { index: number; row: T }[] {
  const by = new Map<string, { index: number; row: T }[]>();
  rows.forEach((row, index) => {
    const l = by.get(row.relation) ?? [];
    l.push({ index, row });
    by.set(row.relation, l);
  });
  const lists = [...by.values()];
  const out: { index: number; row: T }[] = [];
  for (let k = 0; out.length < rows.length; k++) for (const l of lists) if (k < l.length) out.push(l[k]);
  return out;
}

/**
 * An informed-guess baseline for the cloze task: answer every item with the
 * most frequent object of its relation among the OTHER rows of that relation
 * (leave-one-out, lowercased; a tie goes to the object seen first in file
 * order). "Chance ≈ 0" is open-vocabulary guessing; this is what knowing only
 * the relation gets. Returns the share of `items` it answers correctly.
 */
export function majorityBaseline<T extends { relation: string; object: string }>(items: T[], all: T[]): number {
  const counts = new Map<string, Map<string, number>>();
  for (const r of all) {
    const c = counts.get(r.relation) ?? new Map<string, number>();
    const o = r.object.toLowerCase();
    c.set(o, (c.get(o) ?? 0) + 1);
    counts.set(r.relation, c);
  }
  let hits = 0;
  for (const it of items) {
    const own = it.object.toLowerCase();
    let best = "",
      bestN = 0;
    for (const [o, n0] of counts.get(it.relation) ?? []) {
      const n = o === own ? n0 - 1 : n0;
      if (n > bestN) [best, bestN] = [o, n];
    }
    if (bestN > 0 && best === own) hits++;
  }
  return items.length ? hits / items.length : NaN;
}

/** Rank of `id` among the logits (0 = the greedy pick; a tie with a lower id ranks first, as argmax picks it). */
export function rankOf(logits: Float32Array, id: number): number {
  const v = logits[id];
  let r = 0;
  for (let i = 0; i < logits.length; i++) if (logits[i] > v || (logits[i] === v && i < id)) r++;
  return r;
}

export function clozeTask(o: TaskOptions): Task {
  const path = dataPath(o.data ?? CLOZE_DEFAULT);
  const raw = readJsonl(path, "lama-cloze").map((r, i) => {
    const where = `lama-cloze ${path} row ${i + 1}`;
    const { prompt, after } = clozePrompt(str(r, "template", where), str(r, "subject", where));
    return { id: str(r, "id", where), relation: str(r, "relation", where), prompt, after, object: str(r, "object", where) };
  });
  const ordered = roundRobin(raw).map((x) => x.row);
  const items: ClozeItem[] = select(ordered, o.limit, o.items, "lama-cloze").map(({ row }) => row);
  const maxTokens = o.maxTokens ?? CLOZE_MAX_TOKENS;
  return {
    name: "lama-cloze",
    settings: { data: path, order: "round-robin", maxTokens, prompt: "lama-template:v1", warmup: KNOWLEDGE_WARMUP },
    items,
    needsReference: false,
    primary: "exact",
    higherIsBetter: true,
    warmup: KNOWLEDGE_WARMUP,
    chance: 0,
    async runItem(engine: Engine, item, ctx) {
      const it = item as ClozeItem;
      const enc = (t: string) => engine.tokenizer.encode(t, { addSpecial: true, parseSpecial: false });
      const { context, continuations } = splitPairs(enc, it.prompt, [` ${it.object}`]);
      // rank: dense-equivalent prefill of the prompt under the policy (prompt phase)
      const p = ctx.policy;
      p.reset();
      engine.model.kv.truncate(0);
      const rank = rankOf(prefill(engine.model, context, p).slice(0, engine.config.vocabSize), continuations[0][0]);
      const r = await engine.generate({ tokens: context }, { temperature: 0, maxTokens, stop: ["\n"], skip: p, signal: ctx.signal });
      return {
        output: r.text,
        exact: clozeAnswer(r.text, it.after) === it.object.toLowerCase() ? 1 : 0,
        rank,
        tokens: r.tokens.length,
        decoded: decodedTokens(r),
        eog: r.eog,
        skipped_ffn: r.skip.skipped_ffn,
        total_ffn: r.skip.total_ffn,
      };
    },
    perItem: (x) => ({ exact: x.exact as number, top1: (x.rank as number) === 0 ? 1 : 0, rr: 1 / ((x.rank as number) + 1) }),
    score(_items, outputs: ItemOutput[]) {
      const n = outputs.length;
      const sum = (f: (x: ItemOutput) => number) => outputs.reduce((s, x) => s + f(x), 0);
      const toks = sum((x) => x.tokens as number);
      return {
        exact: n ? sum((x) => x.exact as number) / n : NaN,
        top1: n ? sum((x) => ((x.rank as number) === 0 ? 1 : 0)) / n : NaN,
        top10: n ? sum((x) => ((x.rank as number) < 10 ? 1 : 0)) / n : NaN,
        rr: n ? sum((x) => 1 / ((x.rank as number) + 1)) / n : NaN,
        decoded_share: toks ? sum((x) => x.decoded as number) / toks : NaN,
        n,
      };
    },
  };
}
