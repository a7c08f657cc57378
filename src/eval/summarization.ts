/**
 * Summarization: the 90 CNN stories of the LLM-KICK / FFN-SkipLLM study
 * (buckets small/mid/large by article length) or XSum (--data xsum). The
 * model is asked through its chat template for a summary of under 150
 * words; scores are ROUGE-1/2/L F1 against the reference (CNN highlights
 * joined by newlines, or the XSum one-sentence summary) and against the
 * dense model's own summary, plus length and repetition.
 */
import { dataPath, readJsonl, select, str } from "./data.js";
import { chatReply, collapseMetrics, type ChatTurn } from "./generation.js";
import { rougeF } from "./rouge.js";
import { mean, type ItemOutput, type Task, type TaskItem, type TaskOptions } from "./task.js";

export const CNN_DEFAULT = "summarization/cnn-90.jsonl";
export const XSUM_DEFAULT = "summarization/xsum-1000.jsonl";
export const SUMMARY_MAX_TOKENS = 256;
const BUCKETS = ["small", "mid", "large"];

export function summaryInstruction(article: string): string {
  return `Summarize the following news article in under 150 words.\n\nArticle:\n${article.trim()}`;
}

interface SumItem extends TaskItem {
  article: string;
  reference: string;
  bucket: string;
}

function loadRows(data: string | undefined): { path: string; rows: Omit<SumItem, "id">[] } {
  const path = dataPath(data === undefined || data === "cnn" ? CNN_DEFAULT : data === "xsum" ? XSUM_DEFAULT : data);
  const rows = readJsonl(path, "summarization").map((r, i) => {
    const where = `summarization data ${path} row ${i + 1}`;
    const article = str(r, "article", where);
    if (Array.isArray(r.highlights)) {
      return {
        article,
        reference: (r.highlights as unknown[]).map(String).join("\n"),
        bucket: typeof r.bucket === "string" ? r.bucket : "",
      };
    }
    const ref = typeof r.summary_gt === "string" ? r.summary_gt : typeof r.summary === "string" ? r.summary : null;
    if (ref === null) throw new Error(`${where}: needs "highlights" (list), "summary_gt" or "summary"`);
    return { article, reference: ref, bucket: "" };
  });
  return { path, rows };
}

export function summarizationTask(o: TaskOptions): Task {
  const { path, rows: all } = loadRows(o.data);
  let rows = all.map((r, i) => ({ ...r, index: i }));
  if (o.bucket !== undefined) {
    if (!BUCKETS.includes(o.bucket)) throw new Error(`--bucket must be one of ${BUCKETS.join(", ")}, got "${o.bucket}"`);
    rows = rows.filter((r) => r.bucket === o.bucket);
    if (rows.length === 0) throw new Error(`--bucket ${o.bucket}: ${path} has no rows with that bucket (only the CNN set has buckets)`);
  }
  const items: SumItem[] = select(rows, o.limit, o.items, "summarization").map(({ row }) => ({
    id: String(row.index),
    article: row.article,
    reference: row.reference,
    bucket: row.bucket,
  }));
  const maxTokens = o.maxTokens ?? SUMMARY_MAX_TOKENS;
  return {
    name: "summarization",
    settings: { data: path, maxTokens, prompt: "summary-150:v1" },
    items,
    needsReference: true,
    primary: "rougeL_ref",
    higherIsBetter: true,
    async runItem(engine, item, ctx) {
      const it = item as SumItem;
      const t = await chatReply(engine, [{ role: "user", content: summaryInstruction(it.article) }], maxTokens, ctx);
      return { ...t, bucket: it.bucket };
    },
    score(scored: TaskItem[], outputs: ItemOutput[], reference: ItemOutput[] | null) {
      const out: Record<string, number> = {};
      const turns = outputs as unknown as (ChatTurn & { bucket: string })[];
      const vsRef = turns.map((t, i) => rougeF(t.text, (scored[i] as SumItem).reference));
      out.rouge1_ref = mean(vsRef.map((r) => r.rouge1));
      out.rouge2_ref = mean(vsRef.map((r) => r.rouge2));
      out.rougeL_ref = mean(vsRef.map((r) => r.rougeL));
      if (reference) {
        const vsDense = turns.map((t, i) => rougeF(t.text, (reference[i] as unknown as ChatTurn).text));
        out.rouge1_dense = mean(vsDense.map((r) => r.rouge1));
        out.rouge2_dense = mean(vsDense.map((r) => r.rouge2));
        out.rougeL_dense = mean(vsDense.map((r) => r.rougeL));
      }
      for (const b of BUCKETS) {
        const idx = turns.map((t, i) => (t.bucket === b ? i : -1)).filter((i) => i >= 0);
        if (idx.length) out[`rougeL_ref_${b}`] = mean(idx.map((i) => vsRef[i].rougeL));
      }
      Object.assign(out, collapseMetrics(turns));
      out.n = turns.length;
      return out;
    },
  };
}
