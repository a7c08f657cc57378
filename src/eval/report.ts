/**
 * Tables with statistical power for a sweep (issue 15): every score with a
 * 95% bootstrap CI over items, every method compared with dense and with
 * FFN-SkipLLM at the same target ratio on the same items (McNemar for
 * right/wrong metrics, a paired bootstrap otherwise), and per task the
 * number of items needed to detect a 2-point drop — paired, from the flip
 * rate measured between dense and FFN-SkipLLM, and unpaired.
 */
import type { EvalRecord, Provenance } from "./evaluate.js";
import { bootstrapMean, itemsForPairedDrop, itemsForUnpaired, mcnemar, pairedBootstrap, type Interval } from "./stats.js";
import type { SweepResult } from "./sweep.js";

/** The drop the "items needed" figures are for. */
export const DETECT_DROP = 0.02;

const isBinary = (xs: readonly number[]) => xs.every((x) => x === 0 || x === 1);
const pct = (x: number, d = 1) => (Number.isFinite(x) ? (x * 100).toFixed(d) : "–");
const ci = (i: Interval) => `${pct(i.mean)} [${pct(i.lo)}, ${pct(i.hi)}]`;
const signed = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}` : "–");
const dci = (i: Interval) => `${signed(i.mean)} [${signed(i.lo)}, ${signed(i.hi)}]`;
export const fmtP = (p: number) => (!Number.isFinite(p) ? "–" : p < 0.001 ? "<0.001" : p.toFixed(3));

/** A record's per-item values of `metric` on the ids both records scored, in `a`'s order. */
export function aligned(a: EvalRecord, b: EvalRecord, metric: string): { x: number[]; y: number[] } {
  const va = a.values?.[metric],
    vb = b.values?.[metric];
  if (!va || !vb || !a.ids || !b.ids) return { x: [], y: [] };
  const at = new Map(b.ids.map((id, i) => [id, i]));
  const x: number[] = [],
    y: number[] = [];
  a.ids.forEach((id, i) => {
    const j = at.get(id);
    if (j !== undefined) {
      x.push(va[i]);
      y.push(vb[j]);
    }
  });
  return { x, y };
}

export interface Comparison {
  /** b − a with CI */
  diff: Interval;
  p: number;
  n: number;
  /** right/wrong metrics: items only a / only b got right */
  onlyA?: number;
  onlyB?: number;
  test: "mcnemar" | "paired-bootstrap";
}

/** Paired comparison of two records on `metric` (b − a). */
export function compare(a: EvalRecord, b: EvalRecord, metric: string): Comparison {
  const { x, y } = aligned(a, b, metric);
  if (isBinary(x) && isBinary(y)) {
    const m = mcnemar(x, y);
    return { diff: m.diff, p: m.p, n: m.n, onlyA: m.onlyA, onlyB: m.onlyB, test: "mcnemar" };
  }
  const r = pairedBootstrap(x, y);
  return { diff: r.diff, p: r.p, n: r.n, test: "paired-bootstrap" };
}

/** Per-task measuring stick: dense with CI, chance, and items needed for a 2-point drop. */
export interface Stick {
  dense: Interval;
  chance: number | undefined;
  /** share of items whose right/wrong flips between dense and the reference method */
  flipRate: number;
  flipFrom: string;
  pairedItems: number;
  unpairedItems: number;
}

function middle(ratios: number[]): number {
  const s = [...ratios].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

export function measuringStick(r: SweepResult, metric = r.dense.primary): Stick {
  const dense = bootstrapMean(r.dense.values?.[metric] ?? []);
  // the flip rate of FFN-SkipLLM at the middle ratio (else the first cell) against dense
  const ff = r.cells.filter((c) => c.method === "ffn-skip");
  const ref = ff.find((c) => c.ratio === middle(ff.map((x) => x.ratio))) ?? r.cells[0];
  let flipRate = NaN;
  if (ref) {
    const c = compare(r.dense, ref.record, metric);
    if (c.onlyA !== undefined && c.n) flipRate = (c.onlyA + (c.onlyB ?? 0)) / c.n;
  }
  const safe = (f: () => number) => {
    try {
      return f();
    } catch {
      return NaN;
    }
  };
  return {
    dense,
    chance: r.dense.chance,
    flipRate,
    flipFrom: ref ? `${ref.method} @${Math.round(ref.ratio * 100)}%` : "–",
    pairedItems: Number.isFinite(flipRate) ? safe(() => itemsForPairedDrop(DETECT_DROP, flipRate)) : NaN,
    unpairedItems: safe(() => itemsForUnpaired(dense.mean, DETECT_DROP)),
  };
}

/** Markdown: per metric with per-item values, each cell with CI and paired tests against dense and ffn-skip. */
export function statsTable(r: SweepResult, methods: string[], ratios: number[]): string {
  const d = r.dense;
  const out: string[] = [];
  for (const metric of Object.keys(d.values ?? {})) {
    const s = measuringStick(r, metric);
    out.push(
      `${d.task}: ${metric} ×100 on ${d.items} items; dense ${ci(s.dense)} (95% bootstrap CI), chance ${s.chance !== undefined ? pct(s.chance) : "–"}.`,
      `Items needed to detect a ${DETECT_DROP * 100}-point drop (α = 0.05 two-sided, power 0.8): paired ${Number.isFinite(s.pairedItems) ? s.pairedItems : "–"}` +
        ` (flip rate ${pct(s.flipRate)}% measured for ${s.flipFrom} vs dense), unpaired ${Number.isFinite(s.unpairedItems) ? s.unpairedItems : "–"} per run.`,
      "",
      "| method | target | achieved | score [95% CI] | Δ vs dense [95% CI] | flips −/+ | p vs dense | Δ vs ffn-skip [95% CI] | p vs ffn-skip | tokens under skipping |",
      "|---|---:|---:|---|---|---:|---:|---|---:|---:|",
      `| dense | – | 0 | ${ci(s.dense)} | – | – | – | – | – | – |`,
    );
    for (const m of methods) {
      for (const ratio of ratios) {
        const c = r.cells.find((x) => x.method === m && x.ratio === ratio);
        if (!c) continue;
        const rec = c.record;
        const own = bootstrapMean(rec.values?.[metric] ?? []);
        const vd = compare(d, rec, metric);
        const ff = m === "ffn-skip" ? null : r.cells.find((x) => x.method === "ffn-skip" && x.ratio === ratio);
        const vf = ff ? compare(ff.record, rec, metric) : null;
        const flips = vd.onlyA !== undefined ? `${vd.onlyA}/${vd.onlyB}` : "–";
        const share = rec.metrics.decoded_share;
        out.push(
          `| ${m} | ${Math.round(ratio * 100)}% | ${pct(rec.achieved_ratio)}% | ${ci(own)}${rec.complete ? "" : "*"} | ${dci(vd.diff)} | ${flips} | ${fmtP(vd.p)} | ` +
            `${vf ? dci(vf.diff) : "–"} | ${vf ? fmtP(vf.p) : "–"} | ${share !== undefined ? `${pct(share)}%` : "–"} |`,
        );
      }
    }
    out.push(
      "",
      "Δ vs ffn-skip is the row's method minus FFN-SkipLLM at the same target ratio (negative: FFN-SkipLLM is better). " +
        "p: exact McNemar on right/wrong items (paired bootstrap for other scores). * incomplete. " +
        "Tokens under skipping: share of scored tokens predicted by a decode step after the warm-up.",
      `Items computed at commit(s): ${[...new Set([d, ...r.cells.map((c) => c.record)].flatMap((x) => x.computed_at ?? []))].join(", ") || "–"}.`,
      "",
    );
  }
  return out.join("\n");
}

/** The README summary: one row per task, FFN-SkipLLM and the baselines relative to dense, and FFN-SkipLLM vs each baseline. */
export function knowledgeSummary(results: SweepResult[], prov: Provenance, command: string): string {
  const cellsOf = (r: SweepResult) => r.cells.map((c) => `${c.method}@${c.ratio}`);
  const keys = [...new Set(results.flatMap(cellsOf))];
  const label = (k: string) => {
    const [m, x] = k.split("@");
    return `${m} ${Math.round(Number(x) * 100)}%`;
  };
  const lines: string[] = [
    `Knowledge tasks on ${prov.model.split("/").pop()} (sha256 ${prov.model_sha256.slice(0, 12)}…), code at ${prov.git_commit ?? "unknown commit"}, ${prov.created.slice(0, 10)}.`,
    "Primary metric ×100 with 95% bootstrap CI; each method as Δ vs dense in points (achieved skip ratio) and the exact McNemar p-value.",
    "",
    `| task | items | chance | dense [95% CI] | items for 2-pt drop (paired / unpaired) | ${keys.map(label).join(" | ")} |`,
    `|---|---:|---:|---|---|${keys.map(() => "---").join("|")}|`,
  ];
  for (const r of results) {
    const s = measuringStick(r);
    const cells = keys.map((k) => {
      const c = r.cells.find((x) => `${x.method}@${x.ratio}` === k);
      if (!c) return "–";
      const v = compare(r.dense, c.record, r.dense.primary);
      return `${signed(v.diff.mean)} (${pct(c.record.achieved_ratio, 0)}%) p=${fmtP(v.p)}`;
    });
    lines.push(
      `| ${r.dense.task} ${r.dense.primary} | ${r.dense.items} | ${s.chance !== undefined ? pct(s.chance) : "–"} | ${ci(s.dense)} | ` +
        `${Number.isFinite(s.pairedItems) ? s.pairedItems : "–"} / ${Number.isFinite(s.unpairedItems) ? s.unpairedItems : "–"} | ${cells.join(" | ")} |`,
    );
  }
  // FFN-SkipLLM against each baseline at the same ratio
  const base = keys.filter((k) => !k.startsWith("ffn-skip@") && keys.includes(`ffn-skip@${k.split("@")[1]}`));
  if (base.length) {
    lines.push(
      "",
      "FFN-SkipLLM minus each baseline at the same target ratio (points, 95% CI, McNemar p); positive: FFN-SkipLLM is better.",
      "",
      `| task | ${base.map(label).join(" | ")} |`,
      `|---|${base.map(() => "---").join("|")}|`,
    );
    for (const r of results) {
      const cells = base.map((k) => {
        const b = r.cells.find((x) => `${x.method}@${x.ratio}` === k);
        const f = r.cells.find((x) => `${x.method}@${x.ratio}` === `ffn-skip@${k.split("@")[1]}`);
        if (!b || !f) return "–";
        const v = compare(b.record, f.record, r.dense.primary);
        return `${dci(v.diff)} p=${fmtP(v.p)}`;
      });
      lines.push(`| ${r.dense.task} | ${cells.join(" | ")} |`);
    }
  }
  lines.push("", `Command: ${command}`, "");
  return lines.join("\n");
}
