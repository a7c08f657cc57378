/**
 * The sweep behind the paper's Table 3: dense plus every method at every
 * target ratio, each cell showing the task's headline metric and the skip
 * ratio the run actually achieved; and the same data as an SVG chart of
 * score against achieved ratio (one line per method, dense at x = 0).
 */
import type { Engine } from "../api/engine.js";
import { lineChart, type ChartSeries } from "../util/chart.js";
import { evaluate, type EvalRecord, type EvaluateOptions } from "./evaluate.js";
import type { Targeter } from "./targets.js";
import type { Task } from "./task.js";

export interface SweepResult {
  dense: EvalRecord;
  /** method → records in ratio order */
  cells: { method: string; ratio: number; record: EvalRecord }[];
  complete: boolean;
}

export async function runSweep(
  engine: Engine,
  task: Task,
  methods: string[],
  ratios: number[],
  targeter: Targeter,
  o: EvaluateOptions,
): Promise<SweepResult> {
  const dense = await evaluate(engine, task, { method: "none" }, o);
  const cells: SweepResult["cells"] = [];
  let complete = dense.complete;
  for (const method of methods) {
    for (const ratio of ratios) {
      if (o.signal?.aborted) return { dense, cells, complete: false };
      const target = await targeter.get(method, ratio);
      const record = await evaluate(engine, task, target.config, { ...o, target });
      cells.push({ method, ratio, record });
      complete &&= record.complete;
    }
  }
  return { dense, cells, complete };
}

/** Metric as shown in tables: shares as percentages, perplexity as is. */
/** Metrics reported as plain numbers; every other metric is a rate shown ×100. */
const PLAIN = new Set(["ppl", "nll", "words", "turns", "tokens", "length", "n"]);
const isRate = (name: string) => !PLAIN.has(name);

export function fmtMetric(name: string, v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return "–";
  return isRate(name) ? (v * 100).toFixed(1) : v.toFixed(2);
}

/** Markdown table: rows = methods, columns = target ratios; "score (achieved %)". */
export function sweepTable(r: SweepResult, methods: string[], ratios: number[], metric = r.dense.primary): string {
  const dense = fmtMetric(metric, r.dense.metrics[metric]);
  const head = `| method | dense | ${ratios.map((x) => `${Math.round(x * 100)}% target`).join(" | ")} |`;
  const sep = `|---|---|${ratios.map(() => "---").join("|")}|`;
  const rows: string[] = [];
  for (const m of methods) {
    const cells = ratios.map((x) => {
      const c = r.cells.find((c) => c.method === m && c.ratio === x);
      if (!c) return "–";
      const rec = c.record;
      return `${fmtMetric(metric, rec.metrics[metric])} (${(rec.achieved_ratio * 100).toFixed(1)}%)${rec.complete ? "" : "*"}`;
    });
    rows.push(`| ${m} | ${dense} | ${cells.join(" | ")} |`);
  }
  const unit = isRate(metric) ? " ×100" : "";
  return (
    [
      `${r.dense.task}: ${metric}${unit} (achieved skip ratio) on ${r.dense.items} items${r.complete ? "" : "; * = incomplete"}`,
      "",
      head,
      sep,
      ...rows,
    ].join("\n") + "\n"
  );
}

/** SVG: the headline metric against the achieved ratio, per method. */
export function sweepChart(r: SweepResult, methods: string[], metric = r.dense.primary): string {
  const scale = isRate(metric) ? 100 : 1;
  const d = r.dense.metrics[metric] * scale;
  const series: ChartSeries[] = methods.map((m) => ({
    name: m,
    points: [
      { x: 0, y: d },
      ...r.cells
        .filter((c) => c.method === m)
        .map((c) => ({
          x: c.record.achieved_ratio * 100,
          y: (c.record.metrics[metric] ?? NaN) * scale,
        })),
    ],
  }));
  return lineChart(series, {
    title: `${r.dense.task}: ${metric} vs achieved skip ratio`,
    xLabel: "achieved skip ratio (% of FFNs)",
    yLabel: metric === "ppl" ? "perplexity" : isRate(metric) ? `${metric} (×100)` : metric,
    xMin: 0,
  });
}
