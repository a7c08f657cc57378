/** `ffnskip sweep`: every method at every ratio on one task (the paper's Table 3), table + JSON + SVG. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel } from "../../api/engine.js";
import { makeTask, provenance, TASKS } from "../../eval/evaluate.js";
import { runSweep, sweepChart, sweepTable } from "../../eval/sweep.js";
import { TARGET_METHODS } from "../../eval/targets.js";
import { MODEL_OPTIONS, loadOptions, parse } from "../args.js";
import { EVAL_OPTIONS, interruptSignal, makeTargeter, taskOptions } from "../eval-options.js";

export const SWEEP_HELP = `ffnskip sweep --task T [--model M] [--ratios 0.05,0.15,0.25,0.35] [--methods ${TARGET_METHODS.join(",")}] [options]
  Runs dense plus each method at each target ratio (configs found by ratio targeting, see docs/eval.md),
  prints a markdown table (metric and ACHIEVED skip ratio per cell) and writes
  OUT/sweep-TASK.json, OUT/sweep-TASK.md and OUT/sweep-TASK.svg (score vs achieved ratio).
  Task options as for 'ffnskip eval' (--limit, --items, --data, --max-tokens, --chat, --bucket, --window, --stride),
  --out DIR (results/eval), --resume, --calib-prompts N --calib-tokens N --calib-evals N, --threads N, --json`;

function list(s: string, what: string): string[] {
  const parts = s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  if (!parts.length) throw new Error(`--${what} is empty`);
  return parts;
}

export async function sweepCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    argv,
    {
      ...MODEL_OPTIONS,
      ...EVAL_OPTIONS,
      task: { type: "string" },
      ratios: { type: "string" },
      methods: { type: "string" },
    },
    false,
  );
  if (v.help) {
    process.stdout.write(SWEEP_HELP + "\n");
    return 0;
  }
  void positionals;
  const taskName = v.task as string | undefined;
  if (!taskName || !(TASKS as readonly string[]).includes(taskName)) throw new Error(`sweep needs --task, one of ${TASKS.join(", ")}`);
  const ratios = list((v.ratios as string | undefined) ?? "0.05,0.15,0.25,0.35", "ratios").map((s) => {
    const x = Number(s);
    if (!(x > 0 && x < 1)) throw new Error(`--ratios: each ratio must be a number in (0, 1), got "${s}"`);
    return x;
  });
  const methods = list((v.methods as string | undefined) ?? TARGET_METHODS.join(","), "methods");
  for (const m of methods) {
    if (!(TARGET_METHODS as readonly string[]).includes(m))
      throw new Error(`--methods: unknown method "${m}"; supported: ${TARGET_METHODS.join(", ")}`);
  }
  const topts = taskOptions(taskName, v);
  const outDir = (v.out as string | undefined) ?? "results/eval";
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  const { signal, dispose } = interruptSignal();
  try {
    const task = makeTask(taskName, topts, engine);
    const prov = provenance(engine);
    const targeter = makeTargeter(engine, v, outDir, prov.model_sha256);
    const r = await runSweep(engine, task, methods, ratios, targeter, {
      outDir,
      resume: !!v.resume,
      prov,
      signal,
      log: (l) => process.stderr.write(l + "\n"),
    });
    mkdirSync(outDir, { recursive: true });
    const base = join(outDir, `sweep-${taskName}`);
    // the headline metric first, then every other metric the task reports
    const metrics = [r.dense.primary, ...Object.keys(r.dense.metrics).filter((k) => k !== r.dense.primary && k !== "n")];
    const table = metrics.map((m) => sweepTable(r, methods, ratios, m)).join("\n") + `\nCommand: \`ffnskip sweep ${argv.join(" ")}\`\n`;
    writeFileSync(base + ".json", JSON.stringify({ task: taskName, methods, ratios, provenance: prov, ...r }, null, 2) + "\n");
    writeFileSync(base + ".md", table);
    writeFileSync(base + ".svg", sweepChart(r, methods));
    for (const m of metrics.slice(1)) writeFileSync(`${base}-${m}.svg`, sweepChart(r, methods, m));
    process.stdout.write(v.json ? JSON.stringify(r) + "\n" : `${table}\n→ ${base}.{json,md,svg}\n`);
    return r.complete ? 0 : 130;
  } finally {
    dispose();
    await engine.dispose();
  }
}
