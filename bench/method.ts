/**
 * Measurements of this project's methods (ffn-skip-compact, ffn-prune, ffn-sparse, ffn-skip-guarded, ffn-skip-linear, ffn-skip-layerwise; docs/method.md) against dense,
 * FFN-SkipLLM and the baselines, from `ffnskip sweep` outputs:
 *
 *   node dist/bench/method.js speed  --dir results/method/M [--model M] [--tokens 128] [--rounds 3] [--threads 1]
 *   node dist/bench/method.js report --dir results/method/M
 *   node dist/bench/method.js assemble --dir D --task T --dense FILE --cell METHOD@RATIO=FILE [--cell ...] [--limit N]
 *
 * speed: for every config the sweeps used (DIR/targets/*.json), decode tok/s
 * against dense, alternating dense and config in each round (the machine is
 * shared; a config's speed-up is the median over rounds of its tok/s ÷ the
 * dense run just before it), beside the byte bound: decode bytes ÷ (decode
 * bytes − skipped FFN bytes per token), both from the run's own skip count.
 * report: per task the quality with bootstrap 95% CIs, paired tests of the
 * guarded method against ffn-skip and dense (paired bootstrap for scores,
 * exact McNemar for 0/1 outcomes; src/eval/stats.ts), Pareto charts
 * (quality vs achieved ratio and vs measured speed-up) and DIR/report.md.
 * assemble: D/sweep-T.json from `ffnskip eval --json` records made outside a sweep (each FILE a record whose
 * cache holds its per-item outputs; a cell's METHOD names its row and is tested against ffn-skip's row at RATIO),
 * so that report compares them with a sweep's dense and ffn-skip runs.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { benchmark } from "../src/api/bench.js";
import { CALIB_PROMPTS } from "../src/eval/calib.js";
import { isLooping } from "../src/eval/collapse.js";
import { normalizeAnswer } from "../src/eval/factoid.js";
import { rougeL } from "../src/eval/rouge.js";
import { bootstrapMean, mcnemar, pairedBootstrap, type Interval } from "../src/eval/stats.js";
import type { SkipConfig } from "../src/skip/config.js";
import { bytesPerSkip } from "../src/skip/linear.js";
import { lineChart, type ChartSeries } from "../src/util/chart.js";
import { midMedian as median } from "./median.js";

/** this project's methods, each tested against ffn-skip */
const NEW = ["ffn-skip-guarded", "ffn-skip-linear", "ffn-skip-layerwise", "ffn-sparse", "ffn-prune", "ffn-skip-compact"];
const METHOD_ORDER = ["ffn-skip", ...NEW, "random", "static", "early-exit", "layer-drop"];
/** A new method's row, also under a label that starts with its name ("ffn-sparse (groups of 4)", from assemble). */
const isNew = (m: string) => NEW.some((n) => m === n || m.startsWith(n + " "));

interface Cell {
  method: string;
  ratio: number;
  record: { achieved_ratio: number; cache: string; reference_cache?: string; skip: SkipConfig; items: number };
}
interface Sweep {
  task: string;
  dense: Cell["record"];
  cells: Cell[];
  /** assemble --limit: compare on the dense run's first N items (its cache may hold more than the cells') */
  limit?: number;
}

interface SpeedRow {
  method: string;
  target: number;
  config: SkipConfig;
  ratio: number;
  speedup: number;
  bound: number;
  dense_tok_s: number;
  tok_s: number;
}

/** Per-item outputs of a sweep cache file, by item id. */
function items(path: string): Map<string, Record<string, unknown>> {
  const m = new Map<string, Record<string, unknown>>();
  readFileSync(path, "utf8")
    .split("\n")
    .slice(1)
    .forEach((l) => {
      if (!l.trim()) return;
      try {
        const v = JSON.parse(l) as { id?: string; output?: Record<string, unknown> };
        // session headers ({"session": ...}, one per resumed run) are not items
        if (v.id !== undefined && v.output !== undefined) m.set(v.id, v.output);
      } catch {
        // torn line of an interrupted run
      }
    });
  return m;
}

/** Bytes of ffn-skip-linear's maps read per token (0 for methods without a stand-in). */
function standInBytesPerToken(config: SkipConfig, skippedPerToken: number): number {
  return skippedPerToken * bytesPerSkip(config);
}

async function speed(dir: string, model: string | undefined, tokens: number, rounds: number, threads: number): Promise<void> {
  const tdir = join(dir, "targets");
  const targets = readdirSync(tdir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(tdir, f), "utf8")) as { method: string; target_ratio: number; config: SkipConfig })
    .sort((a, b) => METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method) || a.target_ratio - b.target_ratio);
  const engine = await loadModel(model, { threads });
  try {
    const prompt = engine.encodePrompt({ messages: [{ role: "user", content: CALIB_PROMPTS[0] }] });
    const run = (skip: SkipConfig) => benchmark(engine, { promptTokens: prompt.length, genTokens: tokens, skip, prompt });
    run({ method: "none" }); // warm-up
    const total = engine.weightBytes.total;
    const rows: SpeedRow[] = [];
    for (const t of targets) {
      const ups: number[] = [],
        dense: number[] = [],
        mine: number[] = [];
      let last = run(t.config);
      for (let r = 0; r < rounds; r++) {
        const d = run({ method: "none" });
        last = run(t.config);
        dense.push(d.decode_tok_per_s);
        mine.push(last.decode_tok_per_s);
        ups.push(last.decode_tok_per_s / d.decode_tok_per_s);
      }
      const row: SpeedRow = {
        method: t.method,
        target: t.target_ratio,
        config: t.config,
        ratio: last.skip.skipped_ffn / (tokens * engine.config.nLayers),
        speedup: median(ups),
        // a stand-in's bytes are read for every skipped FFN: they count against the bound
        bound: total / (last.weight_bytes_per_token + standInBytesPerToken(t.config, last.skip.skipped_ffn / tokens)),
        dense_tok_s: median(dense),
        tok_s: median(mine),
      };
      rows.push(row);
      process.stderr.write(
        `${t.method} @${t.target_ratio}: ${row.tok_s.toFixed(1)} vs dense ${row.dense_tok_s.toFixed(1)} tok/s, ×${row.speedup.toFixed(3)}, bound ×${row.bound.toFixed(3)} (skip ${(row.ratio * 100).toFixed(1)}% of all decode FFNs)\n`,
      );
    }
    const out = {
      command: `node dist/bench/method.js speed ${process.argv.slice(3).join(" ")}`,
      created: new Date().toISOString(),
      model: engine.path,
      threads,
      tokens,
      rounds,
      decode_bytes_per_token: total,
      rows,
    };
    writeFileSync(join(dir, "speed.json"), JSON.stringify(out, null, 2) + "\n");
  } finally {
    await engine.dispose();
  }
}

/** What one task measures per item, and how its quality is shown. */
interface TaskView {
  /** per-item value of the quality metric (aligned with the dense item order) */
  value: (out: Record<string, unknown>, dense: Record<string, unknown>) => number;
  /** 0/1 outcomes get McNemar, scores a paired bootstrap */
  binary: boolean;
  label: string;
  /** from the mean of item values to the shown number */
  show: (mean: number) => number;
  higherIsBetter: boolean;
}

/** A multiple-choice task (src/eval: lm-eval's prompts, scored by log-likelihood): per-item acc, 0/1. */
const choiceView = (name: string): TaskView[] => [
  { label: `${name} accuracy (%)`, value: (o) => o.acc as number, binary: true, show: (x) => 100 * x, higherIsBetter: true },
];

const VIEWS: Record<string, TaskView[]> = {
  "arc-easy": choiceView("ARC-Easy"),
  piqa: choiceView("PIQA"),
  hellaswag: choiceView("HellaSwag"),
  openbookqa: choiceView("OpenBookQA"),
  perplexity: [
    {
      label: "perplexity (exp of mean window NLL)",
      value: (o) => (o.nll_sum as number) / (o.n as number),
      binary: false,
      show: Math.exp,
      higherIsBetter: false,
    },
  ],
  conversation: [
    {
      label: "Vicuna loop rate (%)",
      value: (o) => ((o.answers as { text: string }[]).some((a) => isLooping(a.text)) ? 1 : 0),
      binary: true,
      show: (x) => 100 * x,
      higherIsBetter: false,
    },
    {
      // a loop the dense model does not make on the same question: a loop rate that does not reward broken text
      // (a method whose answers break off loops less than a model that loops itself; Gemma 3 270M dense loops on 67.5%)
      label: "Vicuna loops dense does not make (% of items)",
      value: (o, d) => {
        const loops = (x: Record<string, unknown>) => (x.answers as { text: string }[]).some((a) => isLooping(a.text));
        return loops(o) && !loops(d) ? 1 : 0;
      },
      binary: true,
      show: (x) => 100 * x,
      higherIsBetter: false,
    },
    {
      label: "Vicuna ROUGE-L vs dense (%)",
      value: (o, d) => rougeL((o.answers as { text: string }[])[0].text, (d.answers as { text: string }[])[0].text).f,
      binary: false,
      show: (x) => 100 * x,
      higherIsBetter: true,
    },
  ],
  "factoid-qa": [
    {
      label: "factoid answers identical to dense (%)",
      value: (o, d) => (normalizeAnswer(String(o.output)) === normalizeAnswer(String(d.output)) ? 1 : 0),
      binary: true,
      show: (x) => 100 * x,
      higherIsBetter: true,
    },
    { label: "factoid accuracy (%)", value: (o) => (o.correct ? 1 : 0), binary: true, show: (x) => 100 * x, higherIsBetter: true },
  ],
};

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "–");
const fmtP = (p: number) => (p < 0.001 ? "<0.001" : p.toFixed(3));

function report(dir: string): void {
  let speedRows: SpeedRow[] = [];
  const sp = join(dir, "speed.json");
  if (existsSync(sp)) speedRows = (JSON.parse(readFileSync(sp, "utf8")) as { rows: SpeedRow[] }).rows;
  const lines: string[] = [
    `# ${dir}`,
    "",
    `Written by \`node dist/bench/method.js report --dir ${dir}\` on ${new Date().toISOString().slice(0, 10)}.`,
    "",
  ];
  for (const task of Object.keys(VIEWS)) {
    const f = join(dir, `sweep-${task}.json`);
    if (!existsSync(f)) continue;
    const sw = JSON.parse(readFileSync(f, "utf8")) as Sweep;
    const denseItems = items(sw.dense.cache);
    const ids = [...denseItems.keys()].slice(0, sw.limit ?? Infinity);
    for (const [vi, view] of VIEWS[task].entries()) {
      const vals = (cache: string): number[] | null => {
        const m = items(cache);
        if (!ids.every((id) => m.has(id))) return null;
        return ids.map((id) => view.value(m.get(id)!, denseItems.get(id)!));
      };
      const dense = vals(sw.dense.cache)!;
      const ci = (xs: number[]): Interval => {
        const b = bootstrapMean(xs);
        return { mean: view.show(b.mean), lo: view.show(b.lo), hi: view.show(b.hi) };
      };
      const dci = ci(dense);
      lines.push(`## ${task}: ${view.label}, ${ids.length} items`, "");
      lines.push(`dense: ${fmt(dci.mean, 2)} [${fmt(dci.lo, 2)}, ${fmt(dci.hi, 2)}]`, "");
      lines.push("| method | target | achieved | value [95% CI] | speed-up (byte bound) | vs ffn-skip: diff, p | vs dense: diff, p |");
      lines.push("|---|---|---|---|---|---|---|");
      const series = new Map<string, ChartSeries>();
      const speedSeries = new Map<string, ChartSeries>();
      const cells = [...sw.cells].sort((a, b) => METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method) || a.ratio - b.ratio);
      for (const c of cells) {
        const mine = vals(c.record.cache);
        if (!mine) {
          lines.push(`| ${c.method} | ${c.ratio} | – | incomplete | | | |`);
          continue;
        }
        const iv = ci(mine);
        const test = (other: number[]) => {
          if (view.binary) {
            const r = mcnemar(other, mine);
            return `${fmt(view.show(r.diff.mean) - view.show(0), 1)} (${r.onlyA}/${r.onlyB}), p ${fmtP(r.p)}`;
          }
          const r = pairedBootstrap(other, mine);
          return `${fmt(r.diff.mean, 3)} [${fmt(r.diff.lo, 3)}, ${fmt(r.diff.hi, 3)}], p ${fmtP(r.p)}`;
        };
        const ffn = cells.find((x) => x.method === "ffn-skip" && x.ratio === c.ratio);
        const ffnVals = ffn ? vals(ffn.record.cache) : null;
        const s = speedRows.find((r) => r.method === c.method && r.target === c.ratio);
        lines.push(
          `| ${c.method} | ${c.ratio} | ${fmt(c.record.achieved_ratio * 100)}% | ${fmt(iv.mean, 2)} [${fmt(iv.lo, 2)}, ${fmt(iv.hi, 2)}] | ${
            s ? `×${s.speedup.toFixed(3)} (×${s.bound.toFixed(3)})` : "–"
          } | ${isNew(c.method) && ffnVals ? test(ffnVals) : ""} | ${isNew(c.method) || c.method === "ffn-skip" ? test(dense) : ""} |`,
        );
        const add = (m: Map<string, ChartSeries>, x0: number, x: number) => {
          if (!m.has(c.method)) m.set(c.method, { name: c.method, points: [{ x: x0, y: dci.mean, lo: dci.lo, hi: dci.hi }] });
          m.get(c.method)!.points.push({ x, y: iv.mean, lo: iv.lo, hi: iv.hi });
        };
        add(series, 0, c.record.achieved_ratio * 100);
        if (s) add(speedSeries, 1, s.speedup);
      }
      lines.push("");
      const name = `${task}${vi ? `-${vi}` : ""}`;
      const yLabel = view.label;
      writeFileSync(
        join(dir, `pareto-${name}-ratio.svg`),
        lineChart([...series.values()], {
          title: `${task}: ${view.label} vs achieved skip (bands: 95% CI)`,
          xLabel: "achieved skip ratio (% of FFNs)",
          yLabel,
          xMin: 0,
        }),
      );
      if (speedSeries.size)
        writeFileSync(
          join(dir, `pareto-${name}-speed.svg`),
          lineChart([...speedSeries.values()], {
            title: `${task}: ${view.label} vs measured decode speed-up`,
            xLabel: "decode speed-up over dense (×)",
            yLabel,
          }),
        );
      lines.push(`Charts: pareto-${name}-ratio.svg${speedSeries.size ? `, pareto-${name}-speed.svg` : ""}`, "");
    }
  }
  if (speedRows.length) {
    lines.push("## decode speed (1 thread, greedy, chat prompt, alternating with dense)", "");
    lines.push(
      "| method | target | skip in the run | tok/s | dense tok/s | speed-up | byte bound | of bound |",
      "|---|---|---|---|---|---|---|---|",
    );
    for (const r of speedRows)
      lines.push(
        `| ${r.method} | ${r.target} | ${fmt(r.ratio * 100)}% | ${fmt(r.tok_s)} | ${fmt(r.dense_tok_s)} | ×${r.speedup.toFixed(3)} | ×${r.bound.toFixed(3)} | ${fmt(((r.speedup - 1) / (r.bound - 1)) * 100, 0)}% |`,
      );
    lines.push("");
  }
  writeFileSync(join(dir, "report.md"), lines.join("\n"));
  process.stdout.write(lines.join("\n") + "\n");
}

/** D/sweep-T.json naming eval records (see the header): the input `report` reads. */
function assemble(dir: string, task: string, dense: string, cells: string[], limit?: number): void {
  const rec = (f: string) => {
    const r = JSON.parse(readFileSync(f, "utf8")) as Cell["record"] & { task: string };
    // a record moved after its run: its cache beside it, in cache/
    const moved = join(dirname(f), "cache", basename(r.cache));
    if (!existsSync(r.cache) && existsSync(moved)) r.cache = moved;
    return r;
  };
  const d = rec(dense);
  const sweep: Sweep = {
    task,
    dense: d,
    cells: cells.map((c) => {
      const m = /^([^@=]+)@([0-9.]+)=(.+)$/.exec(c);
      if (!m) throw new Error(`--cell ${c}: expected METHOD@RATIO=FILE`);
      const r = rec(m[3]);
      if (r.task !== task || d.task !== task) throw new Error(`--cell ${c}: a ${r.task} record, not ${task} (dense: ${d.task})`);
      return { method: m[1], ratio: Number(m[2]), record: r };
    }),
  };
  if (limit !== undefined) sweep.limit = limit;
  writeFileSync(join(dir, `sweep-${task}.json`), JSON.stringify(sweep, null, 2) + "\n");
}

async function main(): Promise<void> {
  const { values: v, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: "string" },
      model: { type: "string" },
      tokens: { type: "string" },
      rounds: { type: "string" },
      threads: { type: "string" },
      task: { type: "string" },
      dense: { type: "string" },
      cell: { type: "string", multiple: true },
      limit: { type: "string" },
    },
  });
  const dir = v.dir;
  if (!dir) throw new Error("--dir DIR (a sweep output folder, e.g. results/method/smollm2-135m) is required");
  if (positionals[0] === "speed") await speed(dir, v.model, Number(v.tokens ?? 128), Number(v.rounds ?? 3), Number(v.threads ?? 1));
  else if (positionals[0] === "report") report(dir);
  else if (positionals[0] === "assemble") {
    if (!v.task || !v.dense || !v.cell?.length) throw new Error("assemble needs --task T --dense FILE and --cell METHOD@RATIO=FILE");
    assemble(dir, v.task, v.dense, v.cell, v.limit === undefined ? undefined : Number(v.limit));
  } else throw new Error(`usage: method.js speed|report|assemble --dir DIR; got ${JSON.stringify(positionals[0])}`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
