/** `ffnskip eval TASK`: one task under one skip config, cached per item and resumable. */
import { loadModel, type Engine } from "../../api/engine.js";
import { evaluate, makeTask, provenance, TASKS, type EvalRecord } from "../../eval/evaluate.js";
import { fmtMetric } from "../../eval/sweep.js";
import { Targeter } from "../../eval/targets.js";
import type { TaskOptions } from "../../eval/task.js";
import { configFromFlags, SKIP_FLAGS } from "../../skip/flags.js";
import { MODEL_OPTIONS, loadOptions, num, parse, type Values } from "../args.js";
import { SKIP_OPTIONS } from "../skip-flags.js";

export const EVAL_HELP = `ffnskip eval TASK [--model M] [skip flags] [options]   (tasks: ${TASKS.join(", ")})
  factoid-qa      FreebaseQA, first 1,000 questions, LLM-KICK prompt, greedy, ≤24 tokens, stop at "\\n";
                  --chat sends the question through the chat template; --data FILE: any JSONL of
                  {question|context, answer, aliases}
  summarization   CNN-90 (--bucket small|mid|large) or --data xsum; ROUGE-1/2/L vs reference and vs dense
  conversation    Vicuna-80, or --data mt-bench (two turns); agreement with dense + collapse
  perplexity      WikiText-2 raw test, sliding --window (512) / --stride (256); --limit = windows
  --limit N              first N items        --items I,J,...  explicit 0-based item indices
  --max-tokens N         generation limit (factoid 24, summarization/conversation 256)
  --data PATH|NAME       dataset (paths relative to the shared data folder, $FFNSKIP_SHARED or ../shared)
  --out DIR              results and per-item cache (default results/eval)
  --resume               reuse items already computed for the same configuration
  --skip METHOD ...      skip flags (see 'ffnskip generate --help'), or
  --target-ratio R       with --skip METHOD alone: find METHOD's config for ratio R (see docs/eval.md)
  --calib-prompts N  --calib-tokens N  --calib-evals N   ratio-targeting budget (4, 16, 30)
  --threads N  --ctx N  --kv-type f16|f32  --json (print the result record)
  Progress with ETA goes to stderr; Ctrl-C stops after the current item (rerun with --resume).`;

export const EVAL_OPTIONS = {
  limit: { type: "string" as const }, items: { type: "string" as const }, "max-tokens": { type: "string" as const, short: "n" },
  data: { type: "string" as const }, out: { type: "string" as const }, resume: { type: "boolean" as const },
  chat: { type: "boolean" as const }, bucket: { type: "string" as const }, window: { type: "string" as const }, stride: { type: "string" as const },
  "calib-prompts": { type: "string" as const }, "calib-tokens": { type: "string" as const }, "calib-evals": { type: "string" as const },
};

/** Task options from flags; flags that the task does not use are an error. */
export function taskOptions(task: string, v: Values): TaskOptions {
  const only: Record<string, string[]> = { chat: ["factoid-qa"], bucket: ["summarization"], window: ["perplexity"], stride: ["perplexity"] };
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
    data: v.data as string | undefined, limit, items, chat: v.chat as boolean | undefined,
    maxTokens: num(v, "max-tokens", true), bucket: v.bucket as string | undefined,
    window: num(v, "window", true), stride: num(v, "stride", true),
  };
}

export function makeTargeter(engine: Engine, v: Values, outDir: string, modelSha: string): Targeter {
  return new Targeter(engine, {
    calibPrompts: num(v, "calib-prompts", true), calibTokens: num(v, "calib-tokens", true), maxEvals: num(v, "calib-evals", true),
    cacheDir: `${outDir}/targets`, modelSha, log: (l) => process.stderr.write(l + "\n"),
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

export function summaryLine(r: EvalRecord): string {
  const m = Object.entries(r.metrics).map(([k, x]) => `${k} ${k === "n" || k === "tokens" || k === "turns" ? x : fmtMetric(k === "ppl" || k === "nll" || k === "words" ? "ppl" : k, x)}`);
  return `${r.task} [${r.skip.method}${r.target ? ` target ${r.target.target_ratio}` : ""}] ${r.items} items, achieved skip ${(r.achieved_ratio * 100).toFixed(1)}%: ${m.join(", ")}` +
    `${r.complete ? "" : " (INCOMPLETE: rerun with --resume)"}\n  → ${r.file}`;
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, { ...MODEL_OPTIONS, ...SKIP_OPTIONS, ...EVAL_OPTIONS, "target-ratio": { type: "string" } });
  if (v.help) { process.stdout.write(EVAL_HELP + "\n"); return 0; }
  if (positionals.length !== 1) throw new Error(`eval takes one task (${TASKS.join(", ")}), got ${positionals.length} arguments`);
  const taskName = positionals[0];
  if (!(TASKS as readonly string[]).includes(taskName)) throw new Error(`unknown task "${taskName}"; tasks: ${TASKS.join(", ")}`);
  const topts = taskOptions(taskName, v);
  const outDir = (v.out as string | undefined) ?? "results/eval";
  const ratio = num(v, "target-ratio");
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  const { signal, dispose } = interruptSignal();
  try {
    const task = makeTask(taskName, topts, engine);
    const prov = provenance(engine);
    const flags: Record<string, string | undefined> = {};
    for (const f of SKIP_FLAGS) flags[f] = v[f] as string | undefined;
    let config = configFromFlags(flags, engine.config.nLayers);
    let target;
    if (ratio !== undefined) {
      const knobs = SKIP_FLAGS.filter((f) => f !== "skip" && flags[f] !== undefined);
      if (!flags.skip || knobs.length) throw new Error("--target-ratio needs --skip METHOD and no other skip flags (the knobs are found for the ratio)");
      target = await makeTargeter(engine, v, outDir, prov.model_sha256).get(flags.skip, ratio);
      config = target.config;
    }
    const rec = await evaluate(engine, task, config, {
      outDir, resume: !!v.resume, prov, signal, target, log: (l) => process.stderr.write(l + "\n"),
    });
    process.stdout.write(v.json ? JSON.stringify(rec) + "\n" : summaryLine(rec) + "\n");
    return rec.complete ? 0 : 130;
  } finally {
    dispose();
    await engine.dispose();
  }
}
