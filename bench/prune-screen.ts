/**
 * Research screen for issue 16 (not part of the product): decode-time static FFN neuron pruning, simulated by
 * zeroing the pruned neurons' activations (masked; the result a compact FFN without them would give). Neuron
 * importance = E[h_i²]·‖W2[:, i]‖² on the dense model's sampled continuations of the calibration prompts
 * (h = act(gate)·up, the down projection's input), optionally over the layer's mean residual energy (--global:
 * neurons ranked across layers). Prints WikiText-2 perplexity (first --ppl windows of 256, stride 128, warm-up 2
 * per window as the sweeps) for dense and each ratio.
 *
 *   npm run build && node dist/bench/prune-screen.js [--model M] [--ratios 0.25,0.35] [--modes uniform,global,block]
 */
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { buildCalibSet } from "../src/eval/calib.js";
import { perplexityTask } from "../src/eval/perplexity.js";
import { BasePolicy } from "../src/skip/base.js";

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    ratios: { type: "string", default: "0.25,0.35" },
    modes: { type: "string", default: "uniform,global" },
    ppl: { type: "string", default: "16" },
    ctx: { type: "string", default: "1024" },
    "fit-tokens": { type: "string", default: "256" },
    cold: { type: "string", default: "0" },
  },
});
const engine = await loadModel(v.model, { threads: 1, ctx: Number(v.ctx) });
const { dim, ffnDim: F, nLayers: L } = engine.config;
const gelu = engine.config.ffnAct === "gelu";
const model = engine.model;
const K = model.shards[0].kernels;
const layers = model.weights.layers;
const log = (s: string) => process.stderr.write(s + "\n");

let cur = -1;
let collect = false;
let active = false;
let masks: Uint8Array[] = [];
const hsq = Array.from({ length: L }, () => new Float64Array(F));
const resid = new Float64Array(L);
const nRows = new Float64Array(L);
const mm = K.matvecMulti.bind(K);
K.matvecMulti = (ws, x, outs, n) => {
  const l = layers.findIndex((Lw) => Lw.w1 === ws[0]);
  if (l >= 0) cur = l;
  mm(ws, x, outs, n);
};
const rn = K.rmsnorm.bind(K);
K.rmsnorm = (o, x, w, d, n, eps) => {
  if (collect && n === 1) {
    const l = layers.findIndex((Lw) => Lw.ffnNorm === w);
    if (l >= 0) {
      const r = K.heap.f32(x, d);
      let s = 0;
      for (let i = 0; i < d; i++) s += r[i] * r[i];
      resid[l] += s;
    }
  }
  rn(o, x, w, d, n, eps);
};
function after(x: number, n: number): void {
  const h = K.heap.f32(x, n);
  if (collect && n === F) {
    const a = hsq[cur];
    for (let i = 0; i < F; i++) a[i] += h[i] * h[i];
    nRows[cur]++;
  }
  const m = masks[cur];
  if (active && m !== null && m !== undefined) for (let r = 0; r < n; r += F) for (let i = 0; i < F; i++) if (m[i]) h[r + i] = 0;
}
const sw = K.swiglu.bind(K),
  ge = K.geglu.bind(K);
K.swiglu = (x, y, n) => {
  sw(x, y, n);
  after(x, n);
};
K.geglu = (x, y, n) => {
  ge(x, y, n);
  after(x, n);
};

// importance data: the calibration prompts and the dense model's sampled continuations, fed one token at a time
const set = await buildCalibSet(engine, 6, 1);
const seqs: number[][] = [];
for (const [i, ids] of set.prompts.entries()) {
  const g = await engine.generate({ tokens: ids }, { temperature: 0.7, seed: 1 + i, maxTokens: Number(v["fit-tokens"]), ignoreEog: true });
  seqs.push([...ids, ...g.tokens]);
}
const none = engine.policy({ method: "none" });
for (const ids of seqs) {
  model.kv.truncate(0);
  for (let pos = 0; pos < ids.length; pos++) {
    collect = pos >= 4;
    model.forward([ids[pos]], pos, { policy: none, phase: "prompt", logits: "none" });
  }
}
collect = false;
// ‖W2[:, i]‖²: the down projection of unit vectors (an int8-exact input)
const col2 = Array.from({ length: L }, () => new Float64Array(F));
{
  const xp = K.heap.alloc(F * 4, 16),
    op = K.heap.alloc(dim * 4, 16);
  const xv = () => K.heap.f32(xp, F);
  for (let l = 0; l < L; l++)
    for (let i = 0; i < F; i++) {
      xv().fill(0);
      xv()[i] = 1;
      K.matvec(layers[l].w2, xp, op);
      const o = K.heap.f32(op, dim);
      let s = 0;
      for (let j = 0; j < dim; j++) s += o[j] * o[j];
      col2[l][i] = s;
    }
}
const imp = hsq.map((a, l) => Float64Array.from(a, (s, i) => (s / nRows[l]) * col2[l][i]));
const relImp = imp.map((a, l) => Float64Array.from(a, (s) => s / (resid[l] / nRows[l])));
for (let l = 0; l < L; l++) {
  const tot = imp[l].reduce((s, x) => s + x, 0);
  log(
    `layer ${l}: residual energy ${(resid[l] / nRows[l]).toFixed(1)}, sum importance ${tot.toExponential(2)}, relative ${(tot / (resid[l] / nRows[l])).toExponential(2)}`,
  );
}

class Screen extends BasePolicy {
  readonly method = "prune-screen";
  readonly wantsCosine = false;
  get on(): boolean {
    return this.active;
  }
}
const task = perplexityTask({ limit: Number(v.ppl), window: 256, stride: 128 }, (t) => engine.tokenizer.encode(t, { addSpecial: true }));
async function ppl(): Promise<number> {
  const outs = [];
  for (const item of task.items) {
    const p = new Screen(L, 2);
    const wrapped = new Proxy(p, {
      get(t, k, r) {
        if (k === "beginStep")
          return (s: Parameters<Screen["beginStep"]>[0]) => {
            t.beginStep(s);
            active = t.on;
          };
        return Reflect.get(t, k, r);
      },
    });
    outs.push(await task.runItem(engine, item, { policy: wrapped }));
    active = false;
  }
  return task.score(task.items, outs, null).ppl;
}

const cold = Number(v.cold);
function plan(mode: string, r: number): Uint8Array[] {
  const out = Array.from({ length: L }, () => new Uint8Array(F));
  if (mode === "global") {
    const all: [number, number, number][] = [];
    for (let l = cold; l < L - cold; l++) for (let i = 0; i < F; i++) all.push([relImp[l][i], l, i]);
    all.sort((a, b) => a[0] - b[0]);
    const n = Math.round(r * L * F);
    for (let k = 0; k < n; k++) out[all[k][1]][all[k][2]] = 1;
    return out;
  }
  const mid = L - 2 * cold,
    per = Math.round((r * L * F) / mid);
  for (let l = cold; l < L - cold; l++) {
    if (mode === "block") {
      const nb = F / 32;
      const bs = Array.from({ length: nb }, (_, b) => [imp[l].slice(32 * b, 32 * b + 32).reduce((s, x) => s + x, 0), b]);
      bs.sort((a, b) => a[0] - b[0]);
      for (let k = 0; k < Math.round(per / 32); k++) out[l].fill(1, 32 * bs[k][1], 32 * bs[k][1] + 32);
    } else {
      const idx = Array.from({ length: F }, (_, i) => i).sort((a, b) => imp[l][a] - imp[l][b]);
      for (let k = 0; k < per; k++) out[l][idx[k]] = 1;
    }
  }
  return out;
}
masks = [];
log(`dense: ppl ${(await ppl()).toFixed(2)}`);
for (const mode of v.modes.split(","))
  for (const r of v.ratios.split(",").map(Number)) {
    masks = plan(mode, r);
    const per = masks.map((m) => m.reduce((s, x) => s + x, 0));
    const got = per.reduce((s, x) => s + x, 0) / (L * F);
    log(
      `${mode} ${r} (cold ${cold}): pruned ${(got * 100).toFixed(1)}%, per layer ${per.map((x) => Math.round((100 * x) / F)).join(",")}: ppl ${(await ppl()).toFixed(2)}`,
    );
  }
void gelu;
