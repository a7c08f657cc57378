/**
 * `ffnskip sweep`: every method at every ratio on one or more tasks (the
 * paper's Table 3), with confidence intervals and paired tests; per task a
 * markdown table, JSON and SVG charts; with several tasks also a summary.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel } from "../../api/engine.js";
import { makeTask, provenance, TASKS } from "../../eval/evaluate.js";
import { knowledgeSummary, statsTable } from "../../eval/report.js";
import { mergeCaches, parseShard } from "../../eval/shard.js";
import { parseCells, runSweeps, sweepChart, sweepTable } from "../../eval/sweep.js";
import { TARGET_METHODS } from "../../eval/targets.js";
import { MODEL_OPTIONS, loadOptions, parse } from "../args.js";
import { EVAL_OPTIONS, interruptSignal, makeTargeter, taskOptions } from "../eval-options.js";

export const SWEEP_HELP = `ffnskip sweep --task T[,T...] [--model M] [--ratios 0.05,0.15,0.25,0.35] [--methods ${TARGET_METHODS.join(",")}] [options]
  Runs dense plus each method at each target ratio (configs found by ratio targeting, see docs/eval.md)
  on each task: dense on every task first, then each (method, ratio) on every task, the middle ratio first.
  A method written METHOD@R[/R...] runs only at those ratios (e.g. early-exit@0.25).
  Writes per task OUT/sweep-TASK.{json,md,svg} (metric and ACHIEVED skip ratio per cell; for tasks with
  per-item scores also 95% bootstrap CIs, paired tests against dense and ffn-skip, and the items needed
  to detect a 2-point drop), and with several tasks OUT/sweep-summary.md.
  Task options as for 'ffnskip eval' (--limit, --items, --data, --max-tokens, --chat, --bucket, --window, --stride),
  --out DIR (results/eval), --resume, --calib-prompts N --calib-tokens N --calib-evals N, --threads N, --json
  --shard I/N          run only items with index ≡ I (mod N) (one machine's share; see docs/sharding.md)
  --merge D1,D2,...    join these shard output folders' caches into --out, then write the tables from
                       the cache alone (nothing is computed; missing items are reported as incomplete)
  Progress and a sweep-wide ETA go to stderr; Ctrl-C stops after the current item (rerun with --resume).`;

function list(s: string, what: string): string[] {
  const parts = s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  if (!parts.length) throw new Error(`--${what} is empty`);
  return parts;
}

export async function sweepCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(
    argv,
    {
      ...MODEL_OPTIONS,
      ...EVAL_OPTIONS,
      task: { type: "string" },
      ratios: { type: "string" },
      methods: { type: "string" },
      merge: { type: "string" },
    },
    false,
  );
  if (v.help) {
    process.stdout.write(SWEEP_HELP + "\n");
    return 0;
  }
  const taskNames = list((v.task as string | undefined) ?? "", "task");
  for (const t of taskNames)
    if (!(TASKS as readonly string[]).includes(t)) throw new Error(`sweep: unknown task "${t}"; tasks: ${TASKS.join(", ")}`);
  const ratios = list((v.ratios as string | undefined) ?? "0.05,0.15,0.25,0.35", "ratios").map((s) => {
    const x = Number(s);
    if (!(x > 0 && x < 1)) throw new Error(`--ratios: each ratio must be a number in (0, 1), got "${s}"`);
    return x;
  });
  const methodSpecs = list((v.methods as string | undefined) ?? TARGET_METHODS.join(","), "methods");
  const methods = [...new Set(methodSpecs.map((m) => m.split("@")[0]))];
  for (const m of methods) {
    if (!(TARGET_METHODS as readonly string[]).includes(m))
      throw new Error(`--methods: unknown method "${m}"; supported: ${TARGET_METHODS.join(", ")}`);
  }
  const cells = parseCells(methodSpecs, ratios);
  const allRatios = [...new Set(cells.map((c) => c.ratio))].sort((a, b) => a - b);
  const outDir = (v.out as string | undefined) ?? "results/eval";
  const merging = v.merge !== undefined;
  if (merging) {
    if (v.shard !== undefined) throw new Error("--merge and --shard cannot be combined: the merge writes the whole tables");
    const rep = mergeCaches(list(v.merge as string, "merge"), outDir);
    process.stderr.write(`merge: ${Object.keys(rep.files).length} cache files, ${rep.targets} targets → ${outDir}\n`);
  }
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  const { signal, dispose } = interruptSignal();
  try {
    const tasks = taskNames.map((t) => makeTask(t, taskOptions(t, v), engine));
    const prov = provenance(engine);
    const targeter = makeTargeter(engine, v, outDir, prov.model_sha256);
    const results = await runSweeps(engine, tasks, cells, targeter, {
      outDir,
      resume: !!v.resume || merging,
      prov,
      signal,
      computeMissing: !merging,
      log: (l) => process.stderr.write(l + "\n"),
    });
    mkdirSync(outDir, { recursive: true });
    const shard = v.shard !== undefined ? parseShard(String(v.shard)) : null;
    const suffix = shard ? `-shard${shard.index}of${shard.count}` : "";
    const command = `\`ffnskip sweep ${argv.join(" ")}\``;
    let out = "";
    for (const r of results) {
      const base = join(outDir, `sweep-${r.dense.task}${suffix}`);
      // the headline metric first, then every other metric the task reports
      const metrics = [r.dense.primary, ...Object.keys(r.dense.metrics).filter((k) => k !== r.dense.primary && k !== "n")];
      const table =
        (r.dense.values ? statsTable(r, methods, allRatios) + "\n" : "") +
        metrics.map((m) => sweepTable(r, methods, allRatios, m)).join("\n") +
        `\nCommand: ${command}\nDate: ${prov.created}\n`;
      writeFileSync(
        base + ".json",
        JSON.stringify({ task: r.dense.task, methods, ratios: allRatios, provenance: prov, ...r }, null, 2) + "\n",
      );
      writeFileSync(base + ".md", table);
      writeFileSync(base + ".svg", sweepChart(r, methods));
      for (const m of metrics.slice(1)) writeFileSync(`${base}-${m}.svg`, sweepChart(r, methods, m));
      out += `${table}\n→ ${base}.{json,md,svg}\n\n`;
    }
    if (results.length > 1) {
      const summary = knowledgeSummary(results, prov, command);
      writeFileSync(join(outDir, `sweep-summary${suffix}.md`), summary);
      out += summary;
    }
    const complete = results.every((r) => r.complete);
    process.stdout.write(v.json ? JSON.stringify(results) + "\n" : out);
    return complete ? 0 : 130;
  } finally {
    dispose();
    await engine.dispose();
  }
}
