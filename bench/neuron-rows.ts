/**
 * Kernel screen for ffn-sparse-rows (issue 16): one layer's FFN for one token, dense (gate and up together, swiglu
 * or geglu, down) against the per-neuron sparse path (gate, gateSelect, the kept up rows, the down projection by
 * neuron rows) at several shares of neurons kept; CPU time per FFN, best of rounds, and the sparse path's error at
 * 100% kept against the dense output. The input is a fixed pseudo-random Laplace vector (the timings do not depend on
 * its values; the shares kept are set by thresholds on its own |act(gate)|).
 *
 *   npm run build && node dist/bench/neuron-rows.js [--model M] [--layers 3,10,20] [--iters 400] [--rounds 5]
 */
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { NeuronRowsFFN, neuronRowValue } from "../src/model/neuron-rows.js";

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    layers: { type: "string", default: "3,10,20" },
    iters: { type: "string", default: "400" },
    rounds: { type: "string", default: "5" },
    keeps: { type: "string", default: "1,0.625,0.475,0.35" },
  },
});
const engine = await loadModel(v.model, { threads: 1 });
const model = engine.model;
const K = model.shards[0].kernels;
const { dim, ffnDim: F } = engine.config;
const gelu = engine.config.ffnAct === "gelu";
const layers = v.layers!.split(",").map(Number);
const iters = Number(v.iters),
  rounds = Number(v.rounds);
const H = K.heap;
const x = H.alloc(dim * 4),
  g = H.alloc(F * 4),
  u = H.alloc(F * 4),
  o = H.alloc(dim * 4),
  o2 = H.alloc(dim * 4),
  idx = H.alloc(F * 4),
  a = H.alloc(F * 4),
  hk = H.alloc(F * 4);
const nr = new NeuronRowsFFN(model.weights.layers, () => K, model.tensorSource);
// a heavy-tailed input, as FFN inputs are (a fixed pseudo-random Laplace draw)
let seed = 12345;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32;
};
const xs = H.f32(x, dim);
for (let i = 0; i < dim; i++) xs[i] = Math.log(rnd() + 1e-9) * (rnd() < 0.5 ? -1 : 1);
const cpu = () => process.cpuUsage().user;
const best = (f: () => void) => {
  let b = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = cpu();
    for (let i = 0; i < iters; i++) f();
    b = Math.min(b, (cpu() - t) / iters);
  }
  return b;
};
for (const l of layers) {
  const Lw = model.weights.layers[l];
  const c = nr.layer(l);
  if (!c) throw new Error(`layer ${l}: no neuron-row copies for these types`);
  const dense = () => {
    K.matvecMulti([Lw.w1, Lw.w3], x, [g, u]);
    if (gelu) K.geglu(g, u, F);
    else K.swiglu(g, u, F);
    K.matvec(Lw.w2, g, o);
  };
  const tDense = best(dense);
  // thresholds for each share kept, from this input's own |act| quantiles
  K.matvec(Lw.w1, x, g);
  const nAll = K.gateSelect!(g, F, gelu, 0, idx, a);
  const acts = Float32Array.from(H.f32(a, nAll)).map(Math.abs).sort();
  const line: string[] = [`layer ${l}: dense ${tDense.toFixed(1)} µs`];
  // the parts at 100% kept: the gate (a dense kernel), the up rows gathered, the down by neuron rows
  const tGate = best(() => K.matvec(Lw.w1, x, g));
  const tDown = best(() => K.matvec(Lw.w2, g, o));
  const tUpRows = best(() => K.gatherDots!(c.up, x, idx, nAll, hk, a));
  const tDownRows = best(() => K.neuronRowsDown!(c.down, idx, hk, nAll, o2));
  // correctness at 100% kept: the gathered up rows against the dense kernel's, the down against an f64 sum over the copy
  K.matvecMulti([Lw.w1, Lw.w3], x, [g, u]);
  const uDense = Float32Array.from(H.f32(u, F));
  K.gatherDots!(c.up, x, idx, nAll, hk);
  const upRows = H.f32(hk, nAll);
  let upDiff = 0;
  for (let k = 0; k < nAll; k++) upDiff = Math.max(upDiff, Math.abs(upRows[k] - uDense[k]));
  K.gatherDots!(c.up, x, idx, nAll, hk, a);
  const hv = Float32Array.from(H.f32(hk, nAll));
  K.neuronRowsDown!(c.down, idx, hk, nAll, o2);
  const got = H.f32(o2, dim),
    copy = H.u8(c.down.ptr, c.down.rowBytes * F);
  let num = 0,
    den = 0;
  for (let j = 0; j < dim; j++) {
    let r = 0;
    for (let k = 0; k < F; k++) r += hv[k] * neuronRowValue(copy, k * c.down.rowBytes, dim / 32, j);
    num += (r - got[j]) ** 2;
    den += r * r;
  }
  line.push(
    `up rows vs dense max |diff| ${upDiff.toExponential(2)}, down rows vs f64 over the copy rel. error ${Math.sqrt(num / den).toExponential(2)}`,
  );
  line.push(
    `gate ${tGate.toFixed(1)}, dense down ${tDown.toFixed(1)}, all up rows ${tUpRows.toFixed(1)}, all down rows ${tDownRows.toFixed(1)} µs`,
  );
  for (const q of v.keeps!.split(",").map(Number)) {
    const th = q >= 1 ? 0 : acts[Math.floor((1 - q) * acts.length)];
    let n = 0;
    const sparse = () => {
      K.matvec(Lw.w1, x, g);
      n = K.gateSelect!(g, F, gelu, th, idx, a);
      K.gatherDots!(c.up, x, idx, n, hk, a);
      K.neuronRowsDown!(c.down, idx, hk, n, o2);
    };
    const t = best(sparse);
    let err = "";
    if (q >= 1) {
      dense();
      sparse();
      const d = H.f32(o, dim),
        s = H.f32(o2, dim);
      let num = 0,
        den = 0;
      for (let i = 0; i < dim; i++) {
        num += (d[i] - s[i]) ** 2;
        den += d[i] ** 2;
      }
      err = `, rel. error ${Math.sqrt(num / den).toExponential(2)}`;
    }
    line.push(`keep ${q} (${n}): ${t.toFixed(1)} µs = ${(t / tDense).toFixed(3)}× dense${err}`);
  }
  console.log(line.join("; "));
}
await engine.dispose();
