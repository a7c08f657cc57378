/** Options shared by `ffnskip eval` and `ffnskip sweep`: task flags, ratio targeting, Ctrl-C handling. */
import type { Engine } from "../api/engine.js";
import { parseShard } from "../eval/shard.js";
import { Targeter } from "../eval/targets.js";
import type { TaskOptions } from "../eval/task.js";
import { num, type Values } from "./args.js";

export const EVAL_OPTIONS = {
  limit: { type: "string" as const },
  items: { type: "string" as const },
  "max-tokens": { type: "string" as const, short: "n" },
  data: { type: "string" as const },
  out: { type: "string" as const },
  resume: { type: "boolean" as const },
  chat: { type: "boolean" as const },
  bucket: { type: "string" as const },
  window: { type: "string" as const },
  stride: { type: "string" as const },
  "calib-prompts": { type: "string" as const },
  "calib-tokens": { type: "string" as const },
  "calib-evals": { type: "string" as const },
  shard: { type: "string" as const },
};

/** Task options from flags; flags that the task does not use are an error. */
export function taskOptions(task: string, v: Values): TaskOptions {
  const only: Record<string, string[]> = {
    chat: ["factoid-qa"],
    bucket: ["summarization"],
    window: ["perplexity"],
    stride: ["perplexity"],
  };
  for (const [flag, tasks] of Object.entries(only)) {
    if (v[flag] !== undefined && !tasks.includes(task)) throw new Error(`--${flag} applies to ${tasks.join(", ")}, not ${task}`);
  }
  let items: number[] | undefined;
  if (v.items !== undefined) {
    const s = String(v.items);
    if (!/^\d+(,\d+)*$/.test(s)) throw new Error(`--items expects comma-separated 0-based indices, got "${s}"`);
    items = s.split(",").map(Number);
  }
  const limit = num(v, "limit", true);
  if (limit !== undefined && limit < 1) throw new Error(`--limit must be ≥ 1, got ${limit}`);
  if (limit !== undefined && items) throw new Error("--limit and --items cannot be combined");
  return {
    data: v.data as string | undefined,
    limit,
    items,
    chat: v.chat as boolean | undefined,
    maxTokens: num(v, "max-tokens", true),
    bucket: v.bucket as string | undefined,
    window: num(v, "window", true),
    stride: num(v, "stride", true),
    shard: v.shard !== undefined ? parseShard(String(v.shard)) : undefined,
  };
}

export function makeTargeter(engine: Engine, v: Values, outDir: string, modelSha: string): Targeter {
  return new Targeter(engine, {
    calibPrompts: num(v, "calib-prompts", true),
    calibTokens: num(v, "calib-tokens", true),
    maxEvals: num(v, "calib-evals", true),
    cacheDir: `${outDir}/targets`,
    modelSha,
    log: (l) => process.stderr.write(l + "\n"),
  });
}

/** An AbortSignal fired by the first Ctrl-C (a second one exits at once). */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const on = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write("\ninterrupted: finishing the current item (Ctrl-C again to quit now)\n");
    ac.abort();
  };
  process.on("SIGINT", on);
  return { signal: ac.signal, dispose: () => process.off("SIGINT", on) };
}
