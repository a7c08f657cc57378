/**
 * Factoid QA, the LLM-KICK protocol FFN-SkipLLM reports: FreebaseQA, the
 * first 1,000 questions in file order, prompt
 *   "Please give answer to this question: {question}\nThe answer is "
 * greedy decoding, and an answer counts as correct when the gold answer or
 * one of its aliases, lowercased with whitespace removed, is a substring of
 * the output treated the same way.
 *
 * Decoding stops at the first "\n" or after 24 tokens (the answer comes
 * first; anything after the first line cannot add a correct answer that was
 * not already there in practice, and stopping early keeps 1,000 questions
 * cheap). Besides accuracy, `dense_match` is the share of answers identical
 * (normalised) to the dense model's — how often skipping changes the answer.
 * --chat sends "Please give answer to this question: {question}" as
 * a user message through the chat template instead (up to 48 tokens: chat
 * replies tend to restate the question first).
 */
import { dataPath, readJsonl, select, str } from "./data.js";
import type { ItemOutput, Task, TaskItem, TaskOptions } from "./task.js";
import { decodedTokens } from "./generation.js";

export const FACTOID_DEFAULT = "factoid/freebaseqa-train.jsonl";
export const FACTOID_LIMIT = 1000;
export const FACTOID_MAX_TOKENS = 24;
export const FACTOID_CHAT_MAX_TOKENS = 48;

/** Lowercase and drop all whitespace (the LLM-KICK normalisation). */
export function normalizeAnswer(s: string): string {
  return s.toLowerCase().replace(/\s+/g, "");
}

/** Whether any of the gold answers (normalised, non-empty) occurs in the output. */
export function isCorrect(output: string, golds: readonly string[]): boolean {
  const o = normalizeAnswer(output);
  return golds.some((g) => {
    const n = normalizeAnswer(g);
    return n.length > 0 && o.includes(n);
  });
}

export function factoidPrompt(question: string): string {
  return `Please give answer to this question: ${question}\nThe answer is `;
}

interface FactoidItem extends TaskItem {
  question: string;
  golds: string[];
}

/** Rows `{question|context, answer, aliases?}` → items (the gold list is answer + aliases). */
export function factoidItems(rows: Record<string, unknown>[], path: string): Omit<FactoidItem, "id">[] {
  return rows.map((r, i) => {
    const where = `factoid data ${path} row ${i + 1}`;
    const question = typeof r.question === "string" ? r.question : str(r, "context", where + ' (needs "question" or "context")');
    const answer = str(r, "answer", where);
    const aliases = r.aliases ?? [];
    if (!Array.isArray(aliases) || !aliases.every((a) => typeof a === "string")) {
      throw new Error(`${where}: "aliases" must be a list of strings`);
    }
    return { question, golds: [answer, ...(aliases as string[])] };
  });
}

export function factoidTask(o: TaskOptions): Task {
  const path = dataPath(o.data ?? FACTOID_DEFAULT);
  const rows = factoidItems(readJsonl(path, "factoid-qa"), path);
  const limit = o.limit ?? (o.items ? undefined : FACTOID_LIMIT);
  const items: FactoidItem[] = select(rows, limit, o.items, "factoid-qa").map(({ index, row }) => ({ id: String(index), ...row }));
  // chat replies restate the question before answering, so they get more room
  const maxTokens = o.maxTokens ?? (o.chat ? FACTOID_CHAT_MAX_TOKENS : FACTOID_MAX_TOKENS);
  const chat = o.chat ?? false;
  return {
    name: "factoid-qa",
    settings: { data: path, chat, maxTokens, stop: ["\n"], prompt: chat ? "chat:v1" : "llm-kick:v1" },
    items,
    // the dense model's answers: on a model too small to know many answers,
    // how often skipping leaves the answer unchanged is the telling number
    needsReference: true,
    primary: "accuracy",
    higherIsBetter: true,
    async runItem(engine, item, ctx) {
      const it = item as FactoidItem;
      const prompt = chat
        ? { messages: [{ role: "user", content: `Please give answer to this question: ${it.question}` }] }
        : factoidPrompt(it.question);
      const r = await engine.generate(prompt, { temperature: 0, maxTokens, stop: ["\n"], skip: ctx.policy, signal: ctx.signal });
      return {
        output: r.text,
        correct: isCorrect(r.text, it.golds),
        tokens: r.tokens.length,
        decoded: decodedTokens(r),
        eog: r.eog,
        finish: r.finish_reason,
        skipped_ffn: r.skip.skipped_ffn,
        total_ffn: r.skip.total_ffn,
      };
    },
    perItem: (x) => ({ accuracy: x.correct === true ? 1 : 0 }),
    score(_items: TaskItem[], outputs: ItemOutput[], reference: ItemOutput[] | null) {
      const n = outputs.length;
      const out: Record<string, number> = { accuracy: n ? outputs.filter((x) => x.correct === true).length / n : NaN, n };
      // caches written before the count existed lack it
      if (outputs.every((x) => typeof x.decoded === "number")) {
        const toks = outputs.reduce((s, x) => s + (x.tokens as number), 0);
        out.decoded_share = toks ? outputs.reduce((s, x) => s + (x.decoded as number), 0) / toks : NaN;
      }
      if (reference) {
        const same = outputs.filter((x, i) => normalizeAnswer(String(x.output)) === normalizeAnswer(String(reference[i].output))).length;
        out.dense_match = n ? same / n : NaN;
      }
      return out;
    },
  };
}
