/** `ffnskip eval TASK`: one task under one skip config, cached per item and resumable. */
import { loadModel } from "../../api/engine.js";
import type { Target } from "../../eval/targets.js";
import { evaluate, makeTask, provenance, TASKS, type EvalRecord } from "../../eval/evaluate.js";
import { fmtMetric } from "../../eval/sweep.js";
import { configFromFlags, SKIP_FLAGS } from "../../skip/flags.js";
import { MODEL_OPTIONS, loadOptions, num, parse } from "../args.js";
import { EVAL_OPTIONS, interruptSignal, makeTargeter, taskOptions } from "../eval-options.js";
import { SKIP_OPTIONS } from "../skip-flags.js";

export const EVAL_HELP = `ffnskip eval TASK [--model M] [skip flags] [options]   (tasks: ${TASKS.join(", ")})
  factoid-qa      FreebaseQA, first 1,000 questions, LLM-KICK prompt, greedy, ≤24 tokens, stop at "\\n";
                  --chat sends the question through the chat template; --data FILE: any JSONL of
                  {question|context, answer, aliases}
  summarization   CNN-90 (--bucket small|mid|large) or --data xsum; ROUGE-1/2/L vs reference and vs dense
  conversation    Vicuna-80, or --data mt-bench (two turns); agreement with dense + collapse
  perplexity      WikiText-2 raw test, sliding --window (512) / --stride (256); --limit = windows
  arc-easy arc-challenge piqa hellaswag openbookqa
                  multiple choice by log-likelihood (lm-eval prompts; acc, acc_norm), skip methods
                  with warm-up 0, continuations scored as if decoded (docs/eval-knowledge.md)
  lama-cloze      LAMA T-REx cloze (--data knowledge/lama-google-re.jsonl): exact match, gold rank
  factoid-fewshot FreebaseQA with 5 fixed shots "Q: … A: …", greedy, ≤16 tokens
  --limit N              first N items        --items I,J,...  explicit 0-based item indices
  --max-tokens N         generation limit (factoid 24, summarization/conversation 256)
  --data PATH|NAME       dataset (paths relative to the shared data folder, $FFNSKIP_SHARED or ../shared)
  --out DIR              results and per-item cache (default results/eval)
  --resume               reuse items already computed for the same configuration
  --shard I/N            only items with index ≡ I (mod N) (see docs/sharding.md)
  --skip METHOD ...      skip flags (see 'ffnskip generate --help'), or
  --target-ratio R       with --skip METHOD alone: find METHOD's config for ratio R (see docs/eval.md)
  --calib-prompts N  --calib-tokens N  --calib-evals N   ratio-targeting budget (4, 16, 30)
  --threads N  --ctx N  --kv-type f16|f32  --json (print the result record)
  Progress with ETA goes to stderr; Ctrl-C stops after the current item (rerun with --resume).`;

export function summaryLine(r: EvalRecord): string {
  const m = Object.entries(r.metrics).map(
    ([k, x]) =>
      `${k} ${k === "n" || k === "tokens" || k === "turns" ? x : fmtMetric(k === "ppl" || k === "nll" || k === "words" ? "ppl" : k, x)}`,
  );
  return (
    `${r.task} [${r.skip.method}${r.target ? ` target ${r.target.target_ratio}` : ""}] ${r.items} items, achieved skip ${(r.achieved_ratio * 100).toFixed(1)}%: ${m.join(", ")}` +
    `${r.complete ? "" : " (INCOMPLETE: rerun with --resume)"}\n  → ${r.file}`
  );
}

export async function evalCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, {
    ...MODEL_OPTIONS,
    ...SKIP_OPTIONS,
    ...EVAL_OPTIONS,
    "target-ratio": { type: "string" },
  });
  if (v.help) {
    process.stdout.write(EVAL_HELP + "\n");
    return 0;
  }
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
    let target: Target | undefined;
    if (ratio !== undefined) {
      const knobs = SKIP_FLAGS.filter((f) => f !== "skip" && flags[f] !== undefined);
      if (!flags.skip || knobs.length)
        throw new Error("--target-ratio needs --skip METHOD and no other skip flags (the knobs are found for the ratio)");
      target = await makeTargeter(engine, v, outDir, prov.model_sha256).get(flags.skip, ratio);
      config = target.config;
    }
    const rec = await evaluate(engine, task, config, {
      outDir,
      resume: !!v.resume,
      prov,
      signal,
      target,
      log: (l) => process.stderr.write(l + "\n"),
    });
    process.stdout.write(v.json ? JSON.stringify(rec) + "\n" : summaryLine(rec) + "\n");
    return rec.complete ? 0 : 130;
  } finally {
    dispose();
    await engine.dispose();
  }
}
