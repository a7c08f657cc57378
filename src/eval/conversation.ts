/**
 * Conversation: Vicuna-80 (single turn; the set the FFN-SkipLLM code calls
 * "MT-Bench") or MT-Bench (--data mt-bench, two turns: the second question
 * follows the model's own first answer), greedy through the chat template.
 * There is no LLM judge: answers are compared with the dense model's answers
 * (ROUGE-L F1 and SQuAD token F1, per turn, averaged over all turns), and
 * generation collapse is measured (see collapse.ts).
 */
import type { ChatMessage } from "../generate/chat-template.js";
import { dataPath, readJsonl, select, str } from "./data.js";
import { chatReply, collapseMetrics, type ChatTurn } from "./generation.js";
import { rougeL, tokenF1 } from "./rouge.js";
import { mean, type ItemOutput, type Task, type TaskItem, type TaskOptions } from "./task.js";

export const VICUNA_DEFAULT = "conversation/vicuna-80.jsonl";
export const MTBENCH_DEFAULT = "conversation/mt-bench.jsonl";
export const CONVERSATION_MAX_TOKENS = 256;

interface ConvItem extends TaskItem {
  turns: string[];
  category: string;
}

export function conversationTask(o: TaskOptions): Task {
  const path = dataPath(o.data === undefined || o.data === "vicuna" ? VICUNA_DEFAULT : o.data === "mt-bench" ? MTBENCH_DEFAULT : o.data);
  const rows = readJsonl(path, "conversation").map((r, i) => {
    const where = `conversation data ${path} row ${i + 1}`;
    let turns: string[];
    if (Array.isArray(r.turns)) {
      if (r.turns.length === 0 || !r.turns.every((t) => typeof t === "string"))
        throw new Error(`${where}: "turns" must be a non-empty list of strings`);
      turns = r.turns as string[];
    } else {
      turns = [str(r, "text", where + ' (needs "text" or "turns")')];
    }
    return { id: String(r.question_id ?? i), turns, category: typeof r.category === "string" ? r.category : "" };
  });
  const items: ConvItem[] = select(rows, o.limit, o.items, "conversation").map(({ row }) => row);
  const maxTokens = o.maxTokens ?? CONVERSATION_MAX_TOKENS;
  return {
    name: "conversation",
    settings: { data: path, maxTokens, prompt: "chat:v1" },
    items,
    needsReference: true,
    primary: "rougeL_dense",
    higherIsBetter: true,
    async runItem(engine, item, ctx) {
      const it = item as ConvItem;
      const messages: ChatMessage[] = [];
      const answers: ChatTurn[] = [];
      for (const q of it.turns) {
        messages.push({ role: "user", content: q });
        const a = await chatReply(engine, messages, maxTokens, ctx);
        if (a.finish === "aborted") break;
        answers.push(a);
        messages.push({ role: "assistant", content: a.text });
      }
      const sum = (k: "skipped_ffn" | "total_ffn") => answers.reduce((s, a) => s + a[k], 0);
      return { answers, category: it.category, skipped_ffn: sum("skipped_ffn"), total_ffn: sum("total_ffn") };
    },
    score(_items: TaskItem[], outputs: ItemOutput[], reference: ItemOutput[] | null) {
      const turns = outputs.flatMap((o) => o.answers as ChatTurn[]);
      const out: Record<string, number> = {};
      if (reference) {
        const rl: number[] = [],
          f1: number[] = [];
        outputs.forEach((o, i) => {
          const mine = o.answers as ChatTurn[],
            dense = reference[i].answers as ChatTurn[];
          mine.forEach((a, t) => {
            rl.push(rougeL(a.text, dense[t]?.text ?? "").f);
            f1.push(tokenF1(a.text, dense[t]?.text ?? ""));
          });
        });
        out.rougeL_dense = mean(rl);
        out.tokenF1_dense = mean(f1);
      }
      Object.assign(out, collapseMetrics(turns));
      out.n = outputs.length;
      out.turns = turns.length;
      return out;
    },
  };
}
