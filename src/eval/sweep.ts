/**
 * The sweep behind the paper's Table 3: dense plus every method at every
 * target ratio, each cell showing the task's headline metric and the skip
 * ratio the run actually achieved; and the same data as an SVG chart of
 * score against achieved ratio (one line per method, dense at x = 0).
 */
import type { Engine } from "../api/engine.js";
import { lineChart, type ChartPoint, type ChartSeries } from "../util/chart.js";
import { bootstrapMean } from "./stats.js";
import { evaluate, type EvalRecord, type EvaluateOptions } from "./evaluate.js";
import { formatDuration } from "./progress.js";
import type { Targeter } from "./targets.js";
import type { Task } from "./task.js";

/** One (method, target ratio) of a sweep. */
export interface Cell {
  method: string;
  ratio: number;
}

/**
 * Cells from --methods and --ratios: "m" runs at every ratio, "m@0.25" (or
 * "m@0.15/0.35") only at the ratios given. Order: the ratio nearest the
 * middle of the list first, then outwards, the higher of two equally far
 * ratios first (methods differ most there); methods in the order listed —
 * so an interrupted sweep has the headline cells first.
 */
export function parseCells(methods: readonly string[], ratios: readonly number[]): Cell[] {
  const cells: Cell[] = [];
  for (const spec of methods) {
    const [m, at] = spec.split("@");
    const rs = at === undefined ? ratios : at.split("/").map(Number);
    for (const r of rs) {
      if (!(r > 0 && r < 1)) throw new Error(`--methods ${spec}: each ratio must be a number in (0, 1)`);
      cells.push({ method: m, ratio: r });
    }
  }
  const all = [...new Set(cells.map((c) => c.ratio))].sort((a, b) => a - b);
  const mid = all[Math.floor((all.length - 1) / 2)];
  const order = (c: Cell) => Math.abs(c.ratio - mid) * 1000 + (c.ratio < mid ? 0.5 : 0);
  return cells
    .map((c, i) => ({ c, i }))
    .sort((a, b) => order(a.c) - order(b.c) || a.i - b.i)
    .map((x) => x.c);
}

/**
 * Several tasks over the same cells: dense on every task first, then each
 * cell on every task, so an interrupted (or time-boxed) sweep leaves every
 * task with its most important cells. Logs a sweep-wide ETA after each run,
 * from each task's measured seconds per item.
 */
export async function runSweeps(
  engine: Engine,
  tasks: Task[],
  cells: Cell[],
  targeter: Targeter,
  o: EvaluateOptions,
): Promise<SweepResult[]> {
  const res: SweepResult[] = [];
  const perItem = new Map<string, number>();
  const runs = tasks.length * (1 + cells.length);
  let doneRuns = 0;
  const t0 = performance.now();
  const eta = (rec: EvalRecord, task: Task, t: number) => {
    doneRuns++;
    if (rec.computed) perItem.set(task.name, t / rec.computed);
    const left = runs - doneRuns;
    const known = [...perItem.values()];
    const avg = known.length ? known.reduce((a, b) => a + b, 0) / known.length : NaN;
    // remaining runs of each task × that task's seconds per item (its items are all still to do)
    let sec = 0;
    for (let k = doneRuns; k < runs; k++) {
      const tk = tasks[k % tasks.length];
      sec += (perItem.get(tk.name) ?? avg) * tk.items.length;
    }
    o.log?.(
      `sweep: ${doneRuns}/${runs} runs done (${formatDuration((performance.now() - t0) / 1000)}), ${left} left, ETA ${formatDuration(sec)}`,
    );
  };
  for (const task of tasks) {
    const t = performance.now();
    const dense = await evaluate(engine, task, { method: "none" }, o);
    res.push({ dense, cells: [], complete: dense.complete });
    eta(dense, task, (performance.now() - t) / 1000);
  }
  for (const cell of cells) {
    const target = await targeter.get(cell.method, cell.ratio);
    for (let i = 0; i < tasks.length; i++) {
      if (o.signal?.aborted) {
        for (const r of res) r.complete = false;
        return res;
      }
      const t = performance.now();
      const record = await evaluate(engine, tasks[i], target.config, { ...o, target });
      res[i].cells.push({ method: cell.method, ratio: cell.ratio, record });
      res[i].complete &&= record.complete;
      eta(record, tasks[i], (performance.now() - t) / 1000);
    }
  }
  return res;
}

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

/** A record's metric as a chart point, with its 95% bootstrap CI as an error bar when it has per-item values. */
function point(rec: EvalRecord, metric: string, x: number, scale: number): ChartPoint {
  const vs = rec.values?.[metric];
  const p: ChartPoint = { x, y: (rec.metrics[metric] ?? NaN) * scale };
  if (vs?.length) {
    const i = bootstrapMean(vs);
    p.errLo = i.lo * scale;
    p.errHi = i.hi * scale;
  }
  return p;
}

/** SVG: the headline metric against the achieved ratio, per method (CI bars where the task has per-item values). */
export function sweepChart(r: SweepResult, methods: string[], metric = r.dense.primary): string {
  const scale = isRate(metric) ? 100 : 1;
  const series: ChartSeries[] = methods.map((m) => ({
    name: m,
    points: [
      point(r.dense, metric, 0, scale),
      ...r.cells.filter((c) => c.method === m).map((c) => point(c.record, metric, c.record.achieved_ratio * 100, scale)),
    ],
  }));
  return lineChart(series, {
    title: `${r.dense.task}: ${metric} vs achieved skip ratio`,
    xLabel: "achieved skip ratio (% of FFNs)",
    yLabel: metric === "ppl" ? "perplexity" : isRate(metric) ? `${metric} (×100)` : metric,
    xMin: 0,
  });
}
