/**
 * The shape of an evaluation task: a list of items, a way to run one item
 * under a skip policy (returning plain JSON that is cached), and a scorer
 * over all outputs — optionally against the dense model's outputs.
 */
import type { Engine } from "../api/engine.js";
import type { SkipPolicy } from "../skip/policy.js";

export interface TaskItem {
  /** stable id (cache key within a run) */
  id: string;
}

/** What one item produced; JSON-able. Every task reports its FFN counts. */
export interface ItemOutput {
  skipped_ffn: number;
  total_ffn: number;
  [key: string]: unknown;
}

export interface RunContext {
  /** a fresh policy for this item (already made for the model) */
  policy: SkipPolicy;
  signal?: AbortSignal;
}

export interface Task {
  name: string;
  /** everything besides model and skip config that changes the outputs */
  settings: Record<string, unknown>;
  items: TaskItem[];
  /** whether score() needs the dense model's outputs on the same items */
  needsReference: boolean;
  /** the headline metric (the Table-3 cell) and its direction */
  primary: string;
  higherIsBetter: boolean;
  runItem(engine: Engine, item: TaskItem, ctx: RunContext): Promise<ItemOutput>;
  /** metrics over outputs aligned with `items` (a subset of the task's); `reference` is dense's, aligned too */
  score(items: TaskItem[], outputs: ItemOutput[], reference: ItemOutput[] | null): Record<string, number>;
  /**
   * Per-item values of the metrics that tables give confidence intervals and
   * paired tests for (1/0 for right/wrong: McNemar; other values: paired
   * bootstrap). Tasks without it get neither.
   */
  perItem?(output: ItemOutput): Record<string, number>;
  /** chance level of the primary metric on these items (multiple choice) */
  chance?: number;
  /** warm-up (dense decode tokens) every skip method runs with on this task, replacing the config's */
  warmup?: number;
}

/** Options every task builder understands (unused ones are rejected by the CLI). */
export interface TaskOptions {
  /** dataset path or name (task-specific) */
  data?: string;
  limit?: number;
  /** explicit 0-based item indices instead of a prefix */
  items?: number[];
  chat?: boolean;
  maxTokens?: number;
  /** summarization: only this bucket of the CNN set */
  bucket?: string;
  /** perplexity: window and stride in tokens */
  window?: number;
  stride?: number;
  /** run only the items with index ≡ shard.index (mod shard.count) (see shard.ts) */
  shard?: { index: number; count: number };
}

/** Mean of the finite values (NaN when none). */
export function mean(xs: readonly number[]): number {
  let s = 0,
    n = 0;
  for (const x of xs)
    if (Number.isFinite(x)) {
      s += x;
      n++;
    }
  return n ? s / n : NaN;
}

/** Achieved skip ratio over all items: Σ skipped ÷ Σ total FFNs. */
export function achievedRatio(outputs: readonly ItemOutput[]): number {
  let s = 0,
    t = 0;
  for (const o of outputs) {
    s += o.skipped_ffn;
    t += o.total_ffn;
  }
  return t > 0 ? s / t : 0;
}
