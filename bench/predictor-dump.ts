/**
 * Research dump for issue 16's neuron predictor (not part of the product): the dense model's FFN inputs and
 * pre-activations at every token of the calibration prompts and their sampled continuations, per layer, as raw
 * float32 files for offline analysis: x̂ (the FFN-normed input the gate sees, dim), g (gate pre-activation, ffnDim),
 * u (up pre-activation, ffnDim); seq.i32 holds each row's prompt index.
 *
 *   npm run build && node dist/bench/predictor-dump.js [--model M] [--tokens 400] --out DIR
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { buildCalibSet } from "../src/eval/calib.js";

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    tokens: { type: "string", default: "400" },
    out: { type: "string" },
    ctx: { type: "string", default: "1024" },
  },
});
if (!v.out) throw new Error("--out DIR");
const engine = await loadModel(v.model, { threads: 1, ctx: Number(v.ctx) });
const { dim, ffnDim: F, nLayers: L } = engine.config;
const model = engine.model;
const set = await buildCalibSet(engine, 6, 1);
const seqs: number[][] = [];
for (const [i, ids] of set.prompts.entries()) {
  const g = await engine.generate({ tokens: ids }, { temperature: 0.7, seed: 1 + i, maxTokens: Number(v.tokens), ignoreEog: true });
  seqs.push([...ids, ...g.tokens]);
}
const rows = seqs.reduce((s, q) => s + q.length - 4, 0);
const xs = Array.from({ length: L }, () => new Float32Array(rows * dim));
const gs = Array.from({ length: L }, () => new Float32Array(rows * F));
const us = Array.from({ length: L }, () => new Float32Array(rows * F));
const seqOf = new Int32Array(rows);
let row = -1;
let layer = 0;
const S = model.shards[0];
const K = S.kernels;
const orig = K.matvecMulti.bind(K);
K.matvecMulti = (ws, x, outs, n) => {
  orig(ws, x, outs, n);
  const l = model.weights.layers.findIndex((Lw) => Lw.w1 === ws[0]);
  if (l < 0 || row < 0) return;
  layer = l;
  const h = K.heap;
  xs[l].set(h.f32(x, dim), row * dim);
  gs[l].set(h.f32(outs[0], F), row * F);
  us[l].set(h.f32(outs[1], F), row * F);
};
let r = 0;
const policy = engine.policy({ method: "none" });
seqs.forEach((ids, q) => {
  model.kv.truncate(0);
  for (let pos = 0; pos < ids.length; pos++) {
    row = pos >= 4 ? r : -1;
    model.forward([ids[pos]], pos, { policy, phase: "prompt", logits: "none" });
    if (pos >= 4) seqOf[r++] = q;
  }
});
void layer;
mkdirSync(v.out, { recursive: true });
for (let l = 0; l < L; l++) {
  writeFileSync(`${v.out}/x${l}.f32`, xs[l]);
  writeFileSync(`${v.out}/g${l}.f32`, gs[l]);
  writeFileSync(`${v.out}/u${l}.f32`, us[l]);
}
writeFileSync(`${v.out}/seq.i32`, seqOf);
writeFileSync(`${v.out}/meta.json`, JSON.stringify({ dim, F, L, rows, act: engine.config.ffnAct }));
process.stderr.write(`wrote ${rows} rows x ${L} layers to ${v.out}\n`);
