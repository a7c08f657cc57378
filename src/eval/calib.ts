/**
 * Calibration measurements for ratio targeting: a few prompts with the
 * dense model's greedy continuations, and a teacher-forced pass that feeds
 * those continuations under a skip policy, measuring the achieved skip ratio
 * and how often the policy's next-token argmax agrees with dense. Teacher
 * forcing keeps every config on the same tokens, so ratios are comparable.
 */
import type { Engine } from "../api/engine.js";
import type { SkipPolicy } from "../skip/policy.js";
import { withTrace, type StepRecord } from "../skip/trace.js";
import { readJsonl, readText } from "./data.js";
import { prefill } from "../model/prefill.js";
import { unitRms } from "../skip/linear-kernel.js";
import type { Samples } from "../skip/linear-fit.js";
import { PolicyWrapper } from "../skip/wrapper.js";
import type { LayerDamage } from "../skip/calibrate-layerwise.js";

/**
 * Calibration prompts: generic instructions unrelated to the evaluation
 * sets (so targeting does not tune on test items), sent through the chat
 * template when the model has one.
 */
export const CALIB_PROMPTS = [
  "Explain how a bicycle gear system works.",
  "Write a short story about a lighthouse keeper.",
  "What are the main causes of inflation?",
  "Describe the water cycle for a school student.",
  "Give some tips for learning a new language.",
  "Why is the sky blue?",
];

export interface CalibSet {
  prompts: number[][];
  /** dense greedy continuation of each prompt */
  continuations: number[][];
}

export interface CalibMeasure {
  ratio: number;
  agreement: number;
  skipped_ffn: number;
  total_ffn: number;
}

/**
 * Prompts from a data file: JSONL rows (the first string of text, question,
 * context, prompt, article, or turns[0]) or a text file (non-empty lines of
 * at least 20 characters). Long texts are cut to 1,500 characters.
 */
export function loadPrompts(path: string, n: number): string[] {
  const text = readText(path, "prompt data");
  let out: string[];
  if (/\.jsonl$/i.test(path)) {
    out = readJsonl(path, "prompt data").map((row, i) => {
      for (const k of ["text", "question", "context", "prompt", "article"]) if (typeof row[k] === "string") return row[k] as string;
      const turns = row.turns;
      if (Array.isArray(turns) && typeof turns[0] === "string") return turns[0];
      throw new Error(`${path} line ${i + 1}: no text, question, context, prompt, article or turns field`);
    });
  } else {
    out = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l.length >= 20);
  }
  if (out.length === 0) throw new Error(`${path}: no prompts found`);
  return out.slice(0, n).map((p) => p.slice(0, 1500));
}

/** Dense greedy continuations of `nPrompts` calibration prompts, `nTokens` each. */
export async function buildCalibSet(
  engine: Engine,
  nPrompts: number,
  nTokens: number,
  texts: readonly string[] = CALIB_PROMPTS,
): Promise<CalibSet> {
  if (!Number.isInteger(nPrompts) || nPrompts < 1 || nPrompts > texts.length) {
    throw new Error(`calibration prompts must be in [1, ${texts.length}], got ${nPrompts}`);
  }
  if (!Number.isInteger(nTokens) || nTokens < 1) throw new Error(`calibration tokens must be an integer ≥ 1, got ${nTokens}`);
  let chat = true;
  try {
    engine.template();
  } catch {
    chat = false;
  }
  const prompts: number[][] = [],
    continuations: number[][] = [];
  for (const p of texts.slice(0, nPrompts)) {
    const ids = engine.encodePrompt(chat ? { messages: [{ role: "user", content: p }] } : p);
    const r = await engine.generate({ tokens: ids }, { temperature: 0, maxTokens: nTokens, ignoreEog: true });
    prompts.push(ids);
    continuations.push(r.tokens);
  }
  return { prompts, continuations };
}

function argmax(x: Float32Array): number {
  let best = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
  return best;
}

/** Teacher-forced pass of the calibration set under `policy`. */
export function measure(engine: Engine, set: CalibSet, policy: SkipPolicy): CalibMeasure {
  const model = engine.model;
  let skipped = 0,
    total = 0,
    agree = 0,
    n = 0;
  set.prompts.forEach((prompt, s) => {
    const cont = set.continuations[s];
    policy.reset();
    model.kv.truncate(0);
    let logits: Float32Array | null = prefill(model, prompt, policy);
    for (let i = 0; i < cont.length; i++) {
      // the first prediction comes from the prompt (no decode step yet), as in generation
      if (i > 0) {
        n++;
        if (argmax(logits!) === cont[i]) agree++;
      }
      logits = model.forward([cont[i]], prompt.length + i, { policy, phase: "decode", genIndex: i, logits: "last" });
    }
    const st = policy.stats();
    skipped += st.skipped_ffn;
    total += st.total_ffn;
  });
  return { ratio: total ? skipped / total : 0, agreement: n ? agree / n : 1, skipped_ffn: skipped, total_ffn: total };
}

/** Dense trace of the calibration set: per-layer mean FFN cosine over decode steps. */
export function meanCosines(engine: Engine, set: CalibSet): number[] {
  const L = engine.config.nLayers;
  const traced = withTrace(engine.policy({ method: "none" }), L);
  measure(engine, set, traced);
  const sum = new Float64Array(L),
    cnt = new Float64Array(L);
  for (const r of traced.records as StepRecord[]) {
    if (r.phase !== "decode") continue;
    r.cos.forEach((c, l) => {
      if (Number.isFinite(c)) {
        sum[l] += c;
        cnt[l]++;
      }
    });
  }
  return Array.from(sum, (s, l) => (cnt[l] ? s / cnt[l] : NaN));
}

/**
 * Dense (x̂, y) pairs of the FFNs of `layers` over token sequences, fed one
 * token at a time: x̂ = the residual entering the FFN over its RMS (unitRms,
 * the stand-in's input), y = the FFN's output as added to the residual.
 * Positions below `skipFirst` are left out (the first tokens carry outsized
 * activations and are never skipped). Returns per layer the samples, and
 * which sequence each sample came from (for held-out splits).
 */
export function collectFFNPairs(
  engine: Engine,
  seqs: readonly number[][],
  layers: readonly number[],
  skipFirst = 4,
): { samples: Map<number, Samples>; seqOf: Int32Array } {
  const model = engine.model,
    dim = engine.config.dim;
  const total = seqs.reduce((s, q) => s + Math.max(0, q.length - skipFirst), 0);
  const samples = new Map<number, Samples>();
  for (const l of layers) samples.set(l, { dim, n: 0, x: new Float32Array(total * dim), y: new Float32Array(total * dim) });
  const seqOf = new Int32Array(total);
  let pos = 0,
    row = 0;
  const collector = new (class extends PolicyWrapper {
    override get wantsFFNOutput(): boolean {
      return true;
    }
    override observeFFNOutput(layer: number, m: Float32Array, at: number, d: number, hAt: number): void {
      const s = samples.get(layer);
      if (!s || pos < skipFirst) return;
      unitRms(m, hAt, d, s.x.subarray(row * d, (row + 1) * d));
      s.y.set(m.subarray(at, at + d), row * d);
      s.n = row + 1;
    }
  })(engine.policy({ method: "none" }));
  seqs.forEach((ids, q) => {
    collector.reset();
    model.kv.truncate(0);
    for (pos = 0; pos < ids.length; pos++) {
      model.forward([ids[pos]], pos, { policy: collector, phase: "prompt", logits: "none" });
      if (pos >= skipFirst) seqOf[row++] = q;
    }
  });
  return { samples, seqOf };
}

/** log-softmax of `x` into `out` (float64). */
function logSoftmax(x: Float32Array, out: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - max);
  const lse = max + Math.log(s);
  if (out.length !== x.length) throw new Error(`logSoftmax: ${x.length} logits, ${out.length} outputs`);
  for (let i = 0; i < x.length; i++) out[i] = x[i] - lse;
}

/**
 * ffn-skip-layerwise's sensitivity data (src/skip/calibrate-layerwise.ts): the sequences are fed one token at a time
 * (teacher-forced); at every position p ≥ prompt length + warmup, each of layers [coldStart, L − coldEnd) has its FFN
 * skipped ALONE in a repeat of the step, and the next-token KL(dense ‖ skipped) is recorded beside the dense cosine
 * gap 1 − cos of the layer before (the cosine that would open a window there). The step is then run dense again so
 * the KV cache holds dense entries. One dense + (middle layers) probe + one dense forward per position.
 */
export function layerDamage(
  engine: Engine,
  seqs: readonly { prompt: readonly number[]; cont: readonly number[] }[],
  o: { coldStart: number; coldEnd: number; warmup: number; log?: (line: string) => void },
): LayerDamage {
  const model = engine.model,
    L = engine.config.nLayers;
  const gap: number[][] = Array.from({ length: L }, () => []),
    kl: number[][] = Array.from({ length: L }, () => []);
  const cos = new Float64Array(L).fill(NaN);
  let skipLayer = -1;
  const probe: SkipPolicy = {
    method: "layer-damage-probe",
    nLayers: L,
    wantsCosine: true,
    wantsLayerCosine: false,
    beginStep() {},
    layerMode: () => "run",
    runFFN: (l) => l !== skipLayer,
    observeFFN(l, c) {
      if (skipLayer < 0) cos[l] = c;
    },
    observeLayer() {},
    endStep() {},
    reset() {},
    stats: () => ({ method: "layer-damage-probe", ratio: 0, skipped_ffn: 0, total_ffn: 0 }),
  };
  const end = L - o.coldEnd;
  const vocab = engine.config.vocabSize;
  const dense = new Float64Array(vocab),
    pd = new Float64Array(vocab),
    ls = new Float64Array(vocab);
  const t0 = performance.now();
  seqs.forEach(({ prompt, cont }, s) => {
    model.kv.truncate(0);
    skipLayer = -1;
    prefill(model, [...prompt], probe);
    for (let i = 0; i < cont.length; i++) {
      const pos = prompt.length + i;
      const step = { policy: probe, phase: "decode" as const, genIndex: i, logits: "last" as const };
      skipLayer = -1;
      cos.fill(NaN);
      if (i < o.warmup) {
        model.forward([cont[i]], pos, step);
        continue;
      }
      logSoftmax(model.forward([cont[i]], pos, step)!, dense);
      for (let v = 0; v < vocab; v++) pd[v] = Math.exp(dense[v]);
      const gaps = Array.from(cos, (c) => 1 - c);
      for (let l = Math.max(1, o.coldStart); l < end; l++) {
        skipLayer = l;
        logSoftmax(model.forward([cont[i]], pos, step)!, ls);
        let d = 0;
        for (let v = 0; v < vocab; v++) if (pd[v] > 0) d += pd[v] * (dense[v] - ls[v]);
        gap[l].push(gaps[l - 1]);
        kl[l].push(Math.max(0, d));
      }
      skipLayer = -1;
      model.forward([cont[i]], pos, step); // dense KV entries at pos again
    }
    o.log?.(`layer damage: sequence ${s + 1}/${seqs.length} done (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  });
  return { nLayers: L, coldStart: Math.max(1, o.coldStart), coldEnd: o.coldEnd, gap, kl };
}
