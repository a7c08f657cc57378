// Shared by screen.mjs and where-screen.mjs (session 24 research, not product): the model, its keep lists, the dense
// model's sampled continuations of the calibration prompts, each layer's dropped down-projection columns, and a dense
// run that hands both screens the dropped contribution at every FFN.
import { loadModel } from "../../../../dist/src/api/engine.js";
import { buildCalibSet } from "../../../../dist/src/eval/calib.js";
import { loadKeep } from "../../../../dist/src/skip/neuron-keep.js";
import { PolicyWrapper } from "../../../../dist/src/skip/wrapper.js";

export async function openScreen(model, keepFile) {
  const engine = await loadModel(model, { threads: 1 });
  const { nLayers: L, ffnDim: F, dim } = engine.config;
  const { keeps } = loadKeep(keepFile);
  const set = await buildCalibSet(engine, 6, 32);
  /** the six prompts, each with 256 tokens sampled at temperature 0.7, seeds seed0 .. seed0 + 5 */
  async function sampled(seed0) {
    const seqs = [];
    for (const [i, ids] of set.prompts.entries()) {
      const g = await engine.generate({ tokens: ids }, { temperature: 0.7, seed: seed0 + i, maxTokens: 256, ignoreEog: true });
      seqs.push([...ids, ...g.tokens]);
    }
    return seqs;
  }
  // dropped columns of W2, dequantized: per layer D x dim (column-major per dropped neuron)
  const drop = [], W = [];
  for (const S of engine.model.shards) {
    const K = S.kernels, row = K.heap.alloc(F * 4, 16);
    for (let l = S.first; l < S.end; l++) {
      const kept = new Set(keeps[l]);
      const D = []; for (let i = 0; i < F; i++) if (!kept.has(i)) D.push(i);
      drop[l] = D;
      const w = new Float32Array(D.length * dim);
      for (let r = 0; r < dim; r++) { K.getRow(engine.model.weights.layers[l].w2, r, row); const v = K.heap.f32(row, F); D.forEach((i, j) => (w[j * dim + r] = v[i])); }
      W[l] = w;
    }
  }
  /** d = the dropped neurons' contribution W2[:, D] h_D of layer l, from the FFN hidden state m at `at` */
  function dropped(l, m, at, d) {
    d.fill(0);
    const D = drop[l], w = W[l];
    for (let j = 0; j < D.length; j++) { const h = m[at + D[j]]; if (h === 0) continue; const o = j * dim; for (let r = 0; r < dim; r++) d[r] += h * w[o + r]; }
  }
  /**
   * Run the dense model over `seqs` (teacher-forced, one token at a time) and, from the fifth position on, call
   * onHidden(l, m, at, d) once d (dropped) holds layer l's dropped contribution, then onOutput(l, m, at, dd, hAt, d)
   * with the FFN's output. Returns the number of positions observed.
   */
  function observeDropped(seqs, onHidden, onOutput) {
    let pos = 0, n = 0;
    const d = new Float64Array(dim);
    const c = new (class extends PolicyWrapper {
      get wantsFFNHidden() { return true; }
      get wantsFFNOutput() { return true; }
      observeFFNHidden(l, m, at) {
        if (pos < 4) return;
        dropped(l, m, at, d);
        onHidden(l, m, at, d);
      }
      observeFFNOutput(l, m, at, dd, hAt) {
        if (pos < 4) return;
        onOutput(l, m, at, dd, hAt, d);
      }
    })(engine.policy({ method: "none" }));
    for (const ids of seqs) {
      c.reset(); engine.model.kv.truncate(0);
      for (pos = 0; pos < ids.length; pos++) { engine.model.forward([ids[pos]], pos, { policy: c, phase: "prompt", logits: "none" }); if (pos >= 4) n++; }
    }
    return n;
  }
  return { engine, L, F, dim, keeps, sampled, dropped, observeDropped };
}
