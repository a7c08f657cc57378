/**
 * Few-shot factoid QA (TriviaQA style): five fixed question–answer pairs
 * from FreebaseQA's train split, then the question:
 *   "Q: {shot question}\nA: {shot answer}\n\n" × 5 + "Q: {question}\nA:"
 * greedy, stopping at the first newline (up to FEWSHOT_MAX_TOKENS), scored
 * as the LLM-KICK task scores (gold or alias, lowercased without
 * whitespace, contained in the answer). The items are the LLM-KICK ones
 * (the file's first 1,000 questions); the shots are the file's last five
 * rows, which no evaluated item is. Skip methods run with warm-up 0 and each
 * item records how many answer tokens were decoded under skipping.
 */
import { dataPath, readJsonl, select } from "./data.js";
import { FACTOID_DEFAULT, FACTOID_LIMIT, factoidItems, isCorrect } from "./factoid.js";
import { KNOWLEDGE_WARMUP } from "./knowledge.js";
import type { ItemOutput, Task, TaskItem, TaskOptions } from "./task.js";
import { decodedTokens } from "./generation.js";

export const FEWSHOT_SHOTS = 5;
export const FEWSHOT_MAX_TOKENS = 16;

interface QaItem extends TaskItem {
  question: string;
  golds: string[];
}

export function fewshotPrompt(shots: readonly { question: string; answer: string }[], question: string): string {
  return shots.map((s) => `Q: ${s.question}\nA: ${s.answer}\n\n`).join("") + `Q: ${question}\nA:`;
}

export function fewshotTask(o: TaskOptions): Task {
  const path = dataPath(o.data ?? FACTOID_DEFAULT);
  const rows = factoidItems(readJsonl(path, "factoid-fewshot"), path);
  if (rows.length <= FEWSHOT_SHOTS) throw new Error(`factoid-fewshot: ${path} has ${rows.length} rows; need more than ${FEWSHOT_SHOTS}`);
  const shots = rows.slice(rows.length - FEWSHOT_SHOTS).map((r) => ({ question: r.question, answer: r.golds[0] }));
  const pool = rows.slice(0, rows.length - FEWSHOT_SHOTS);
  const limit = o.limit ?? (o.items ? undefined : Math.min(FACTOID_LIMIT, pool.length));
  const items: QaItem[] = select(pool, limit, o.items, "factoid-fewshot").map(({ index, row }) => ({ id: String(index), ...row }));
  const maxTokens = o.maxTokens ?? FEWSHOT_MAX_TOKENS;
  return {
    name: "factoid-fewshot",
    settings: { data: path, shots: "last-5:v1", maxTokens, stop: ["\n"], warmup: KNOWLEDGE_WARMUP },
    items,
    needsReference: false,
    primary: "accuracy",
    higherIsBetter: true,
    warmup: KNOWLEDGE_WARMUP,
    chance: 0,
    async runItem(engine, item, ctx) {
      const it = item as QaItem;
      const r = await engine.generate(fewshotPrompt(shots, it.question), {
        temperature: 0,
        maxTokens,
        stop: ["\n"],
        skip: ctx.policy,
        signal: ctx.signal,
      });
      return {
        output: r.text,
        correct: isCorrect(r.text, it.golds) ? 1 : 0,
        tokens: r.tokens.length,
        decoded: decodedTokens(r),
        eog: r.eog,
        skipped_ffn: r.skip.skipped_ffn,
        total_ffn: r.skip.total_ffn,
      };
    },
    perItem: (x) => ({ accuracy: x.correct as number }),
    score(_items, outputs: ItemOutput[]) {
      const n = outputs.length;
      const sum = (f: (x: ItemOutput) => number) => outputs.reduce((s, x) => s + f(x), 0);
      const toks = sum((x) => x.tokens as number);
      return {
        accuracy: n ? sum((x) => x.correct as number) / n : NaN,
        decoded_share: toks ? sum((x) => x.decoded as number) / toks : NaN,
        n,
      };
    },
  };
}
