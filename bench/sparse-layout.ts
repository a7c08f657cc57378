/**
 * Can a kernel turn ffn-sparse's dropped neurons into bytes not read? (issue 16)
 *
 * ffn-sparse (src/skip/sparse.ts) drops FFN neurons one by one. The packed
 * weights hold the up projection in groups of four rows, and the down
 * projection's quantization blocks run along the neuron axis (32 neurons for
 * Q4_0/Q4_1/Q8_0, 256 for the K-quants). A kernel can only skip a whole group
 * or block. This measures, on the calibration set (the prompts and dense
 * continuations `ffnskip calibrate` uses), at each target ratio:
 *
 *  1. Exact decisions: with the calibrated per-neuron thresholds, how many
 *     up groups of four and down blocks have every neuron dropped — what a
 *     kernel could skip without changing the results. Neurons in their file
 *     order, and sorted by how often they are kept (the order fitted on the
 *     even decode tokens, measured on the odd ones), the best a load-time
 *     permutation of the neurons could do with a fixed order.
 *  2. Grouped decisions: neurons dropped in whole groups of four or whole
 *     down blocks (a group drops when its mean |act(gate)| is below the
 *     layer's threshold, SparsePolicy's `groups`), calibrated to the same
 *     target; the teacher-forced next-token agreement with dense beside that
 *     of per-neuron ffn-sparse and of FFN-SkipLLM's shipped profile.
 *
 * With --ppl N, WikiText-2 perplexity of dense, FFN-SkipLLM (--compare), ffn-sparse and the realizable grouped
 * form; with --tasks (e.g. arc-easy,piqa,hellaswag; --limit items each), their accuracy with 95% CIs and McNemar
 * tests against dense and FFN-SkipLLM.
 *
 * With --within, section 2 has one case instead: groups of 4 sorted by kept count within each quantization block of
 * the down rows, the grouping the neuron-major kernels (src/kernels/assembly/neuron-major.ts) could skip in full.
 *
 * Run: npm run build && node dist/bench/sparse-layout.js [--model M] [--targets 0.25,0.35] [--ctx 1024]
 *        [--compare profiles/<model>-25.json] [--ppl 16] [--tasks arc-easy,hellaswag --limit 100] [--within]
 *        [--out results/method/sparse-layout-<model>.md]
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { buildCalibSet, measure, type CalibSet } from "../src/eval/calib.js";
import { calibrateSparse } from "../src/eval/calib-sparse.js";
import { keptQuantile } from "../src/skip/calibrate-sparse.js";
import { neuronByteShare } from "../src/model/sparse-ffn.js";
import { typeInfo } from "../src/quant/types.js";
import { readSkipProfile } from "../src/skip/skip-profile.js";
import type { NeuronGroups } from "../src/skip/policy.js";
import { SparsePolicy } from "../src/skip/sparse.js";
import type { SkipPolicy } from "../src/skip/policy.js";
import { perplexityTask } from "../src/eval/perplexity.js";
import { makeTask } from "../src/eval/evaluate.js";
import { bootstrapMean, mcnemar } from "../src/eval/stats.js";
import type { Task } from "../src/eval/task.js";

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    targets: { type: "string", default: "0.25,0.35" },
    ctx: { type: "string", default: "1024" },
    compare: { type: "string" },
    ppl: { type: "string" },
    tasks: { type: "string" },
    limit: { type: "string", default: "100" },
    out: { type: "string" },
    within: { type: "boolean", default: false },
  },
});
const WARMUP = 2,
  PROMPTS = 6,
  TOKENS = 32;
const engine = await loadModel(v.model, { threads: 1, ctx: Number(v.ctx) });
const L = engine.config.nLayers,
  F = engine.config.ffnDim;
const layers = engine.model.weights.layers;
const log = (s: string) => process.stderr.write(s + "\n");
const set: CalibSet = await buildCalibSet(engine, PROMPTS, TOKENS);

/** |act(gate)| of every FFN neuron at every decode token after warm-up, per layer (drops nothing). */
class Collect extends SparsePolicy {
  readonly acts: Float32Array[][] = Array.from({ length: L }, () => []);
  constructor() {
    super(L, { warmup: WARMUP, thresholds: new Array<number>(L).fill(Number.MIN_VALUE) });
  }
  override observeNeurons(l: number, act: Float32Array, kept: number, saved: number): void {
    super.observeNeurons(l, act, kept, saved);
    if (this.active) this.acts[l].push(Float32Array.from(act));
  }
}
const col = new Collect();
const dense = measure(engine, set, col);
const acts = col.acts,
  T = acts[0].length;
log(`sparse-layout: ${T} decode tokens per layer, ffn ${F}, dense agreement ${dense.agreement}`);

/** The down projection's quantization block along the neuron axis (its row length is ffnDim). */
const downBlock = Math.max(...layers.map((w) => typeInfo(w.w2.type).blockSize));
const upGroup = 4;
const identity = Int32Array.from({ length: F }, (_, i) => i);

/** Neurons sorted by how often they are kept (|act| >= th) over the tokens t with pick(t), rarest first. */
function byKept(A: Float32Array[], th: number, pick: (t: number) => boolean): Int32Array {
  const kept = new Float64Array(F);
  A.forEach((a, t) => {
    if (pick(t)) for (let i = 0; i < F; i++) if (a[i] >= th) kept[i]++;
  });
  return Int32Array.from([...identity].sort((x, y) => kept[x] - kept[y] || x - y));
}

/** `order` re-sorted so each down quantization block's neurons stay in that block, in the order `order` ranks them. */
function withinBlocks(order: Int32Array): Int32Array {
  const rank = new Int32Array(F);
  order.forEach((n, r) => (rank[n] = r));
  const out = new Int32Array(F);
  for (let b = 0; b < F; b += downBlock) {
    const block = Array.from({ length: downBlock }, (_, i) => b + i).sort((x, y) => rank[x] - rank[y]);
    out.set(block, b);
  }
  return out;
}

/** Share of groups of `size` along `order` with every neuron below th, over the tokens with pick(t). */
function allDropped(A: Float32Array[], th: number, order: Int32Array, size: number, pick: (t: number) => boolean): number {
  let all = 0,
    n = 0;
  A.forEach((a, t) => {
    if (!pick(t)) return;
    for (let g = 0; g < F; g += size, n++) {
      let dropped = true;
      for (let i = g; i < g + size && dropped; i++) dropped = a[order[i]] < th;
      if (dropped) all++;
    }
  });
  return n ? all / n : 0;
}

/** Bytes of the FFN (gate + up + down) in the up projection and in the down projection, per layer. */
const upShare = layers.map(
  (w) => (w.w3.rowBytes * w.w3.rows) / (w.w1.rowBytes * w.w1.rows + w.w2.rowBytes * w.w2.rows + w.w3.rowBytes * w.w3.rows),
);
const downShare = layers.map((w, l) => neuronByteShare(w.w1, w.w2, w.w3) - upShare[l]);
const upMean = upShare.reduce((a, b) => a + b) / L;
/** the up rows' part of the neurons' bytes (up + down) */
const upOnly = upMean / (upMean + downShare.reduce((a, b) => a + b) / L);

const even = (t: number) => t % 2 === 0,
  odd = (t: number) => t % 2 === 1,
  all = () => true;
const pct = (x: number, d = 1) => (100 * x).toFixed(d) + "%";

const exactRows: string[] = [];
const groupedRows: string[] = [];
const compare = v.compare ? measure(engine, set, engine.policy(readSkipProfile(v.compare, L).config)) : undefined;

/** --ppl N: WikiText-2 perplexity over the first N windows of 256 tokens, stride 128 (the sweeps' setting), a fresh policy per window. */
const pplTask = v.ppl
  ? perplexityTask({ limit: Number(v.ppl), window: 256, stride: 128 }, (t) => engine.tokenizer.encode(t, { addSpecial: true }))
  : undefined;
async function ppl(make: () => SkipPolicy): Promise<{ ppl: number; ratio: number }> {
  const outs = [];
  let skipped = 0,
    total = 0;
  for (const item of pplTask!.items) {
    const o = await pplTask!.runItem(engine, item, { policy: make() });
    outs.push(o);
    skipped += o.skipped_ffn as number;
    total += o.total_ffn as number;
  }
  return { ppl: pplTask!.score(pplTask!.items, outs, null).ppl, ratio: total ? skipped / total : 0 };
}
const pplRows: string[] = [];
const pplCell = (r: { ppl: number; ratio: number }) => `${r.ppl.toFixed(2)} (${pct(r.ratio)})`;
if (pplTask) {
  pplRows.push(`| dense | — | ${pplCell(await ppl(() => engine.policy({ method: "none" })))} |`);
  if (v.compare)
    pplRows.push(
      `| FFN-SkipLLM, \`${v.compare}\` | — | ${pplCell(await ppl(() => engine.policy(readSkipProfile(v.compare!, L).config)))} |`,
    );
}

/** --tasks: per task, each policy's per-item accuracy (1/0), for CIs and paired tests against dense and FFN-SkipLLM. */
const tasks: Task[] = v.tasks ? v.tasks.split(",").map((name) => makeTask(name, { limit: Number(v.limit) }, engine)) : [];
const accRows: string[] = [];
async function accuracy(task: Task, make: (warmup: number) => SkipPolicy): Promise<{ acc: number[]; ratio: number }> {
  const acc: number[] = [];
  let skipped = 0,
    total = 0;
  for (const item of task.items) {
    const o = await task.runItem(engine, item, { policy: make(task.warmup ?? WARMUP) });
    acc.push(task.perItem!(o).acc);
    skipped += (o.skipped_ffn as number | undefined) ?? 0;
    total += (o.total_ffn as number | undefined) ?? 0;
  }
  return { acc, ratio: total ? skipped / total : 0 };
}
const denseAcc = new Map<Task, number[]>(),
  skipAcc = new Map<Task, number[]>();
async function accuracyRows(label: string, target: string, make: (warmup: number) => SkipPolicy, ratioScale = 1): Promise<void> {
  for (const task of tasks) {
    const r = await accuracy(task, make);
    const ci = bootstrapMean(r.acc);
    const vs = (ref: number[] | undefined) => (ref ? mcnemar(r.acc, ref).p.toFixed(3) : "—");
    accRows.push(
      `| ${task.name} | ${label} | ${target} | ${(100 * ci.mean).toFixed(1)} [${(100 * ci.lo).toFixed(1)}, ${(100 * ci.hi).toFixed(1)}] | ${pct(r.ratio * ratioScale)} | ${label === "dense" ? "—" : vs(denseAcc.get(task))} | ${label === "dense" || label === "FFN-SkipLLM" ? "—" : vs(skipAcc.get(task))} |`,
    );
    if (label === "dense") denseAcc.set(task, r.acc);
    if (label === "FFN-SkipLLM") skipAcc.set(task, r.acc);
  }
}
if (tasks.length) {
  await accuracyRows("dense", "—", () => engine.policy({ method: "none" }));
  if (v.compare) {
    const cfg = readSkipProfile(v.compare, L).config;
    await accuracyRows("FFN-SkipLLM", "—", (warmup) => engine.policy({ ...cfg, warmup } as typeof cfg));
  }
}

for (const target of v.targets.split(",").map(Number)) {
  const cal = calibrateSparse(engine, set, target, WARMUP, log);
  const th = cal.thresholds;
  // 1. exact decisions
  for (const [name, orderOf, pick] of [
    ["file order", () => identity, all],
    ["sorted by kept count (fitted on even tokens, measured on odd)", (l: number) => byKept(acts[l], th[l], even), odd],
  ] as const) {
    let up = 0,
      down = 0,
      bytes = 0;
    for (let l = 0; l < L; l++) {
      const order = orderOf(l);
      const u = allDropped(acts[l], th[l], order, upGroup, pick),
        d = allDropped(acts[l], th[l], order, downBlock, pick);
      up += u / L;
      down += d / L;
      bytes += (u * upShare[l] + d * downShare[l]) / L;
    }
    exactRows.push(`| ${pct(target, 0)} | ${pct(cal.best.ratio)} | ${name} | ${pct(up)} | ${pct(down, 2)} | ${pct(bytes, 2)} |`);
  }
  groupedRows.push(`| ${pct(target, 0)} | one by one (ffn-sparse) | — | ${pct(cal.best.ratio)} | ${pct(cal.best.agreement)} |`);
  if (pplTask)
    pplRows.push(
      `| ffn-sparse, one by one | ${pct(target, 0)} | ${pplCell(await ppl(() => new SparsePolicy(L, { warmup: WARMUP, thresholds: th })))} |`,
    );
  await accuracyRows("ffn-sparse, one by one", pct(target, 0), (warmup) => new SparsePolicy(L, { warmup, thresholds: th }));
  // 2. grouped decisions, calibrated like ffn-sparse: one kept fraction of groups, each layer's quantile of group means
  // the last case: groups of 4 whose ratio counting only the up rows (what a kernel skips) meets the target
  // every layer's neurons sorted by kept count over all tokens, once for the cases below
  const sorted = acts.map((A, l) => byKept(A, th[l], all));
  // realizable: "up" = the up rows alone are skipped (any order), "both" = up rows and a neuron-major down copy
  // (groups must stay inside one quantization block of the down rows, so the order sorts within each block)
  const cases: [number, string, (l: number) => Int32Array, number, "up" | "both" | undefined][] = [];
  let upRows = "";
  if (v.within)
    cases.push([upGroup, "sorted by kept count within each down block", (l: number) => withinBlocks(sorted[l]), target, "both"]);
  else {
    for (const size of [upGroup, downBlock])
      for (const [name, orderOf] of [
        ["file order", () => identity],
        ["sorted by kept count", (l: number) => sorted[l]],
      ] as const)
        cases.push([size, name, orderOf, target, undefined]);
    if (target < upMean)
      cases.push([upGroup, "sorted by kept count; up rows alone reach the target", (l: number) => sorted[l], target / upOnly, "up"]);
    else
      upRows = `| ${pct(target, 0)} | groups of ${upGroup}, up rows alone | — | not reachable: the up rows are ${pct(upMean)} of the FFN bytes | — |`;
  }
  for (const [size, name, orderOf, goal, realizable] of cases) {
    const groups: NeuronGroups[] = Array.from({ length: L }, (_, l) => ({ size, order: orderOf(l) }));
    const means = groups.map(({ order }, l) => {
      const s: number[] = [];
      for (const a of acts[l])
        for (let g = 0; g < F; g += size) {
          let m = 0;
          for (let i = g; i < g + size; i++) m += a[order![i]];
          s.push(m / size);
        }
      return Float64Array.from(s).sort();
    });
    const thresholdsAt = (keep: number) => means.map((s) => keptQuantile(s, keep));
    let lo = 0,
      hi = 1,
      best: { keep: number; ratio: number; agreement: number } | undefined;
    for (let i = 0; i < 10; i++) {
      const keep = (lo + hi) / 2;
      const m = measure(engine, set, new SparsePolicy(L, { warmup: WARMUP, thresholds: thresholdsAt(keep), groups }));
      log(`sparse-layout: groups of ${size}, ${name}, keep ${pct(keep)} → ratio ${pct(m.ratio)}, agreement ${pct(m.agreement)}`);
      if (!best || Math.abs(m.ratio - goal) < Math.abs(best.ratio - goal)) best = { keep, ratio: m.ratio, agreement: m.agreement };
      if (Math.abs(m.ratio - goal) < 0.003) break;
      if (m.ratio > goal) lo = keep;
      else hi = keep;
    }
    const upRatio = realizable !== "up" ? "" : ` (up rows: ${pct(best!.ratio * upOnly)})`;
    const scale = realizable === "up" ? upOnly : 1;
    const label = realizable === "up" ? "up rows alone" : "within down blocks, up and down";
    if (pplTask && realizable) {
      const r = await ppl(() => new SparsePolicy(L, { warmup: WARMUP, thresholds: thresholdsAt(best!.keep), groups }));
      pplRows.push(
        `| groups of ${size} along the sorted order, ${label} (realizable) | ${pct(target, 0)} | ${r.ppl.toFixed(2)} (${realizable === "up" ? "up rows: " : ""}${pct(r.ratio * scale)}) |`,
      );
    }
    if (realizable)
      await accuracyRows(
        `groups of ${size}, sorted, ${label} (realizable)`,
        pct(target, 0),
        (warmup) => new SparsePolicy(L, { warmup, thresholds: thresholdsAt(best!.keep), groups }),
        scale,
      );
    groupedRows.push(`| ${pct(target, 0)} | groups of ${size} | ${name} | ${pct(best!.ratio)}${upRatio} | ${pct(best!.agreement)} |`);
  }
  if (upRows) groupedRows.push(upRows);
}

const model = engine.path.split("/").pop()!;
const command = `node dist/bench/sparse-layout.js ${process.argv.slice(2).join(" ")}`.trim();
const md = [
  `# ffn-sparse against the packed layouts: ${model}`,
  "",
  `Command: \`npm run build && ${command}\` (${new Date().toISOString().slice(0, 16)}Z). Calibration set: the ${PROMPTS} built-in prompts and their dense greedy continuations of ${TOKENS} tokens, warm-up ${WARMUP} (as \`ffnskip calibrate\`); ${T} decode tokens per layer. Deterministic: no timing.`,
  "",
  `Up projection: packed groups of ${upGroup} rows (neurons); down projection: quantization blocks of ${downBlock} neurons along each row (${[...new Set(layers.map((w) => typeInfo(w.w2.type).name))].join(", ")}). FFN bytes: up ${pct(upShare.reduce((a, b) => a + b) / L)}, down ${pct(downShare.reduce((a, b) => a + b) / L)}.`,
  "",
  "## 1. With ffn-sparse's own decisions, what a kernel could skip",
  "",
  "Calibrated per-neuron thresholds (`calibrateSparse`, as the shipped profiles); the share of up groups and down blocks whose neurons are all dropped, averaged over layers and tokens, and the FFN bytes they hold in FFN units (the method's ratio counts every dropped neuron).",
  "",
  "| target | ratio (neurons) | neuron order | up groups all dropped | down blocks all dropped | bytes a kernel could skip |",
  "|---|---|---|---|---|---|",
  ...exactRows,
  "",
  "## 2. Dropping whole groups instead: quality at the same ratio",
  "",
  `Teacher-forced next-token agreement with dense on the calibration set (in-sample, as calibration reports it; the sorted order is fitted on the same tokens${compare ? `; FFN-SkipLLM's \`${v.compare}\`: ${pct(compare.agreement)} at ${pct(compare.ratio)}` : ""}).`,
  "",
  v.within
    ? `Which of these a kernel could realize: groups of ${upGroup} whose neurons share one quantization block of the down rows (${downBlock} neurons) can be skipped in the up rows (gate and up rows permuted alike within each block) and in a neuron-major copy of the down projection (src/kernels/assembly/neuron-major.ts; permuting within a block changes no block's scales), so the whole ratio is realizable; the sorted order is the kept-count order restricted to each block.`
    : `Which of these a kernel could realize: a dropped group of ${upGroup} in any order in the up projection (the gate and up rows permuted alike at load and the activations gathered back into file order before the down projection change no bit), so of a ratio r it realizes r × ${pct(upOnly)} (up ÷ up + down); the last row of each target is calibrated on that realized share. A dropped group of ${downBlock} only in file order, where it is one quantization block of every down row: the sorted groups of ${downBlock} would need the down projection's columns permuted, which requantizes it.`,
  "",
  "| target | dropped | neuron order | ratio | agreement with dense |",
  "|---|---|---|---|---|",
  ...groupedRows,
  "",
  ...(pplTask
    ? [
        "## 3. WikiText-2 perplexity",
        "",
        `The first ${v.ppl} windows of 256 tokens, stride 128 (the sweeps' setting; \`ffnskip eval --task perplexity\` computes the same), teacher-forced; in brackets the ratio the policy reports on them (for the realizable row: the share of FFN bytes its up rows hold).`,
        "",
        "| policy | target | perplexity (ratio) |",
        "|---|---|---|",
        ...pplRows,
        "",
      ]
    : []),
  ...(tasks.length
    ? [
        "## 4. Knowledge tasks",
        "",
        `The first ${v.limit} items of each task (lm-evaluation-harness prompts and choice rule, as \`ffnskip eval\`), accuracy in % with a 95% bootstrap CI; the ratio the policy reports on them (for the realizable rows: the up rows' share of the FFN bytes); exact McNemar p against dense and against FFN-SkipLLM.`,
        "",
        "| task | policy | target | accuracy [95% CI] | ratio | p vs dense | p vs FFN-SkipLLM |",
        "|---|---|---|---|---|---|---|",
        ...accRows,
        "",
      ]
    : []),
].join("\n");
if (v.out) writeFileSync(v.out, md);
process.stdout.write(md);
await engine.dispose();
