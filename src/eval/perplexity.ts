/**
 * Perplexity on WikiText-2 (raw test file from shared/) with a sliding
 * window: the text is tokenized once (BOS first when the model adds one);
 * the first window scores its first `window` tokens, each later window the
 * next `stride` tokens with the window ending at the last of them, so each
 * has at least window − stride tokens of context (the Hugging Face
 * "strided perplexity" recipe). Each window is one
 * item, so --limit N scores the first N windows. Skipping policies are run
 * token by token by engine.perplexity (their decode path, warm-up counted
 * from the window's first token).
 */
import { dataPath, readText } from "./data.js";
import type { ItemOutput, Task, TaskItem, TaskOptions } from "./task.js";

export const WIKITEXT_DEFAULT = "perplexity/wikitext-2-raw-test.txt";
export const PPL_WINDOW = 512;
export const PPL_STRIDE = 256;

export interface Window {
  begin: number;
  end: number;
  /** first target position scored in this window */
  first: number;
}

/**
 * Windows over n tokens; every position 1..n-1 is scored exactly once.
 * The first window is [0, window); each later one scores the next `stride`
 * targets with the window ending at the last of them, so every target has
 * at least window − stride tokens of context (stride < window).
 */
export function slidingWindows(n: number, window: number, stride: number): Window[] {
  if (!Number.isInteger(window) || window < 2) throw new Error(`perplexity: --window must be an integer ≥ 2, got ${window}`);
  if (!Number.isInteger(stride) || stride < 1 || stride >= window)
    throw new Error(`perplexity: --stride must be an integer in [1, window=${window}), got ${stride}`);
  if (n < 2) throw new Error(`perplexity: the text has ${n} tokens, need at least 2`);
  const out: Window[] = [{ begin: 0, end: Math.min(window, n), first: 1 }];
  for (let prevEnd = out[0].end; prevEnd < n; ) {
    const end = Math.min(prevEnd + stride, n);
    out.push({ begin: end - window, end, first: prevEnd });
    prevEnd = end;
  }
  return out;
}

interface PplItem extends TaskItem {
  w: Window;
}

export function perplexityTask(o: TaskOptions, tokenize: (text: string) => number[]): Task {
  const path = dataPath(o.data ?? WIKITEXT_DEFAULT);
  const text = readText(path, "perplexity");
  const window = o.window ?? PPL_WINDOW,
    stride = o.stride ?? PPL_STRIDE;
  const ids = tokenize(text);
  const all = slidingWindows(ids.length, window, stride);
  let chosen: Window[] = all;
  if (o.items)
    chosen = o.items.map((i) => {
      if (!Number.isInteger(i) || i < 0 || i >= all.length) throw new Error(`perplexity: item ${i} is out of range [0, ${all.length})`);
      return all[i];
    });
  else if (o.limit !== undefined) chosen = all.slice(0, o.limit);
  const items: PplItem[] = chosen.map((w) => ({ id: String(w.begin), w }));
  return {
    name: "perplexity",
    settings: { data: path, window, stride, tokens: ids.length },
    items,
    needsReference: false,
    primary: "ppl",
    higherIsBetter: false,
    async runItem(engine, item, ctx) {
      const { begin, end, first } = (item as PplItem).w;
      const r = engine.perplexity(ids.slice(begin, end), { skip: ctx.policy });
      // r.nll[j] predicts token begin + j + 1
      let s = 0;
      for (let p = first; p < end; p++) s += r.nll[p - begin - 1];
      const st = ctx.policy.stats();
      return { nll_sum: s, n: end - first, skipped_ffn: st.skipped_ffn, total_ffn: st.total_ffn };
    },
    score(_items: TaskItem[], outputs: ItemOutput[]) {
      let s = 0,
        n = 0;
      for (const o of outputs) {
        s += o.nll_sum as number;
        n += o.n as number;
      }
      return { ppl: n ? Math.exp(s / n) : NaN, nll: n ? s / n : NaN, tokens: n };
    },
  };
}
