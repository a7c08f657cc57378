/**
 * The forward pass of a LLaMA-family decoder: one straight loop over layers
 * over buffers allocated once (llama2.c style). The skip policy is consulted
 * between attention and FFN — the only place an FFN is or is not run.
 */
import type { Heap, Kernels, KVType } from "../kernels/types.js";
import type { SkipPolicy } from "../skip/policy.js";
import { isLocalLayer, type ModelConfig } from "./config.js";
import type { Weights } from "./weights.js";
import { KVCache } from "./kv-cache.js";
import * as ops from "./ops.js";

export interface StepOptions {
  policy: SkipPolicy;
  phase: "prompt" | "decode";
  /** index of the generated token (decode), -1 in the prompt */
  genIndex?: number;
  /** which logits to compute: the last token's, every token's, or none */
  logits: "last" | "all" | "none";
}

export class Model {
  readonly kv: KVCache;
  /** most tokens one forward call processes (prompts are split into batches of this) */
  readonly batchSize: number;
  private readonly heap: Heap;
  // heap offsets of the activation buffers, [batchSize][...] each
  private readonly px: number; private readonly pxb: number;
  private readonly pq: number; private readonly pk: number; private readonly pv: number;
  private readonly patt: number; private readonly po: number;
  private readonly ph1: number; private readonly ph3: number;
  private readonly plogits: number;
  // f32 views over the heap, refreshed if the memory grows
  private buf: ArrayBufferLike | null = null;
  private f32!: Float32Array;
  private readonly invFreq: Float32Array;
  private readonly ropeCos: Float32Array;
  private readonly ropeSin: Float32Array;
  // the local (sliding-window) layers' rope tables, when their base differs (Gemma 3)
  private readonly invFreqLocal: Float32Array | null;
  private readonly ropeCosLocal: Float32Array;
  private readonly ropeSinLocal: Float32Array;
  private readonly layerIn: Float32Array;

  constructor(
    readonly config: ModelConfig,
    readonly weights: Weights,
    readonly kernels: Kernels,
    readonly ctx: number,
    batchSize = 64,
    kvType: KVType = "f16",
  ) {
    const c = config;
    this.heap = kernels.heap;
    this.batchSize = batchSize;
    const qDim = c.nHeads * c.headDim, kvDim = c.nKvHeads * c.headDim;
    const B = batchSize, f = (n: number) => this.heap.alloc(n * 4);
    this.px = f(B * c.dim); this.pxb = f(B * c.dim);
    this.pq = f(B * qDim); this.pk = f(B * kvDim); this.pv = f(B * kvDim);
    this.patt = f(B * qDim); this.po = f(B * c.dim);
    this.ph1 = f(B * c.ffnDim); this.ph3 = f(B * c.ffnDim);
    this.plogits = f(B * c.vocabSize);
    this.kv = new KVCache(this.heap, c.nLayers, ctx, kvDim, kvType);
    this.invFreq = ops.ropeInvFreq(c.ropeBase, c.ropeDim);
    this.ropeCos = new Float32Array(B * (c.ropeDim / 2));
    this.ropeSin = new Float32Array(B * (c.ropeDim / 2));
    this.invFreqLocal = c.ropeBaseLocal !== undefined && c.slidingWindow ? ops.ropeInvFreq(c.ropeBaseLocal, c.ropeDim) : null;
    this.ropeCosLocal = this.invFreqLocal ? new Float32Array(B * (c.ropeDim / 2)) : this.ropeCos;
    this.ropeSinLocal = this.invFreqLocal ? new Float32Array(B * (c.ropeDim / 2)) : this.ropeSin;
    this.layerIn = new Float32Array(c.dim);
    // Let the kernels rearrange each matrix into their fast layout (once;
    // prepare is idempotent, so the tied embedding/output matrix is safe).
    if (kernels.prepare) {
      for (const L of weights.layers) for (const w of [L.wq, L.wk, L.wv, L.wo, L.w1, L.w2, L.w3]) kernels.prepare(w);
      kernels.prepare(weights.tokenEmbd);
      kernels.prepare(weights.output);
    }
  }

  private views(): Float32Array {
    const b = this.heap.memory.buffer;
    if (b !== this.buf) {
      this.buf = b;
      this.f32 = new Float32Array(b);
    }
    return this.f32;
  }

  /** Embedding row of `token` into x[t]. */
  private embed(token: number, t: number): void {
    const E = this.weights.tokenEmbd, c = this.config;
    if (!(token >= 0 && token < E.rows)) throw new Error(`token id ${token} out of range [0, ${E.rows})`);
    // through the kernels: they may have rearranged the matrix (see Kernels.prepare)
    this.kernels.getRow(E, token, this.px + t * c.dim * 4);
  }

  /** RMSNorm n rows of dim at heap float index `at`, in place, with the f32 weight at heap byte offset w. */
  private normRows(at: number, w: number, n: number): void {
    const m = this.views(), dim = this.config.dim;
    const wv = m.subarray(w / 4, w / 4 + dim);
    for (let t = 0; t < n; t++) ops.rmsnorm(m, at + t * dim, m, at + t * dim, wv, dim, this.config.normEps);
  }

  /**
   * Run `tokens` at positions pos.. through the model, writing every layer's
   * KV cache, and return the requested logits (a view into the heap, valid
   * until the next call): [vocab] for "last", [n][vocab] for "all".
   */
  forward(tokens: ArrayLike<number>, pos: number, opt: StepOptions): Float32Array | null {
    const n = tokens.length, c = this.config;
    if (n === 0) throw new Error("forward: no tokens");
    if (n > this.batchSize) throw new Error(`forward: ${n} tokens exceed the batch size ${this.batchSize}`);
    if (pos + n > this.ctx) throw new Error(`context full: ${pos + n} tokens exceed the context of ${this.ctx}`);
    const { dim, ffnDim, nHeads, nKvHeads, headDim, ropeDim, normEps: eps } = c;
    const qDim = nHeads * headDim, kvDim = nKvHeads * headDim, half = ropeDim / 2;
    const neox = c.ropeStyle === "neox";
    const K = this.kernels, W = this.weights, policy = opt.policy;

    for (let t = 0; t < n; t++) this.embed(tokens[t], t);
    const m = this.views();
    // Gemma scales the embedding by √dim
    if (c.embedScale !== undefined) for (let i = this.px / 4, e = i + n * c.dim; i < e; i++) m[i] *= c.embedScale;
    const x = this.px / 4, xb = this.pxb / 4, q = this.pq / 4, k = this.pk / 4, v = this.pv / 4;
    const o = this.po / 4, h1 = this.ph1 / 4, h3 = this.ph3 / 4;
    for (let t = 0; t < n; t++) {
      ops.ropeTable(pos + t, this.invFreq, this.ropeCos.subarray(t * half, (t + 1) * half), this.ropeSin.subarray(t * half, (t + 1) * half));
      if (this.invFreqLocal) ops.ropeTable(pos + t, this.invFreqLocal, this.ropeCosLocal.subarray(t * half, (t + 1) * half), this.ropeSinLocal.subarray(t * half, (t + 1) * half));
    }
    const mat = (w: typeof W.output, xp: number, outp: number) =>
      n === 1 ? K.matvec(w, xp, outp) : K.matmul(w, xp, outp, n);

    policy.beginStep({ pos, nTokens: n, phase: opt.phase, genIndex: opt.genIndex ?? -1 });
    const lastRow = x + (n - 1) * dim;
    for (let l = 0; l < c.nLayers; l++) {
      const L = W.layers[l];
      // sliding-window layers: their own rope base, and attention over the last `slidingWindow` positions
      const local = isLocalLayer(c, l);
      const rCos = local ? this.ropeCosLocal : this.ropeCos, rSin = local ? this.ropeSinLocal : this.ropeSin;
      // the last token's residual entering the layer, for Block Influence (ShortGPT)
      if (policy.observeLayer) this.layerIn.set(m.subarray(lastRow, lastRow + dim));
      const mode = policy.layerMode(l);
      layer: {
        if (mode === "removed") break layer;
        const attnNorm = m.subarray(L.attnNorm / 4, L.attnNorm / 4 + dim);
        for (let t = 0; t < n; t++) ops.rmsnorm(m, xb + t * dim, m, x + t * dim, attnNorm, dim, eps);
        const qNorm = L.attnQNorm === undefined ? null : m.subarray(L.attnQNorm / 4, L.attnQNorm / 4 + headDim);
        const kNorm = L.attnKNorm === undefined ? null : m.subarray(L.attnKNorm / 4, L.attnKNorm / 4 + headDim);

        // K and V are always computed from real hidden states, so the cache is
        // written for every layer and token (for "copy-kv" from the state that
        // passes through the skipped layer).
        // one token: Q with K and V in one dispatch (one quantization of the input)
        const qkv = n === 1 && mode !== "copy-kv";
        if (qkv) K.matvecMulti([L.wk, L.wv, L.wq], this.pxb, [this.pk, this.pv, this.pq]);
        else if (n === 1) K.matvecMulti([L.wk, L.wv], this.pxb, [this.pk, this.pv]);
        else { K.matmul(L.wk, this.pxb, this.pk, n); K.matmul(L.wv, this.pxb, this.pv, n); }
        for (let t = 0; t < n; t++) {
          const cs = rCos.subarray(t * half), sn = rSin.subarray(t * half);
          if (kNorm) for (let h = 0; h < nKvHeads; h++) { const b = k + t * kvDim + h * headDim; ops.rmsnorm(m, b, m, b, kNorm, headDim, eps); }
          ops.rope(m, k + t * kvDim, nKvHeads, headDim, ropeDim, neox, cs, sn);
          this.kv.write(l, pos + t, m, k + t * kvDim, v + t * kvDim);
        }
        this.kv.mark(l, pos, n);
        if (mode === "copy-kv") break layer;

        // attention
        if (!qkv) mat(L.wq, this.pxb, this.pq);
        for (let t = 0; t < n; t++) {
          const cs = rCos.subarray(t * half), sn = rSin.subarray(t * half);
          if (qNorm) for (let h = 0; h < nHeads; h++) { const b = q + t * qDim + h * headDim; ops.rmsnorm(m, b, m, b, qNorm, headDim, eps); }
          ops.rope(m, q + t * qDim, nHeads, headDim, ropeDim, neox, cs, sn);
          // a window starting at s0 is the same attention over a cache that begins there
          const s0 = local ? Math.max(0, pos + t - c.slidingWindow! + 1) : 0, sb = s0 * this.kv.rowBytes;
          K.attention(this.patt + t * qDim * 4, this.pq + t * qDim * 4, this.kv.keyCache[l] + sb, this.kv.valueCache[l] + sb, kvDim, pos + t - s0, nHeads, nKvHeads, headDim, this.kv.type);
        }
        mat(L.wo, this.patt, this.po);
        if (L.postAttnNorm !== undefined) this.normRows(o, L.postAttnNorm, n);
        ops.addInto(m, x, m, o, n * dim);

        // FFN — or not: the policy decides
        if (!policy.runFFN(l)) break layer;
        const ffnNorm = m.subarray(L.ffnNorm / 4, L.ffnNorm / 4 + dim);
        for (let t = 0; t < n; t++) ops.rmsnorm(m, xb + t * dim, m, x + t * dim, ffnNorm, dim, eps);
        if (n === 1) K.matvecMulti([L.w1, L.w3], this.pxb, [this.ph1, this.ph3]);
        else { K.matmul(L.w1, this.pxb, this.ph1, n); K.matmul(L.w3, this.pxb, this.ph3, n); }
        if (c.ffnAct === "gelu") ops.geglu(m, h1, m, h3, n * ffnDim);
        else K.swiglu(this.ph1, this.ph3, n * ffnDim);
        mat(L.w2, this.ph1, this.po);
        // Gemma normalizes the FFN output first: the skip signal is the residual this block really adds
        if (L.postFfnNorm !== undefined) this.normRows(o, L.postFfnNorm, n);
        if (policy.wantsCosine) {
          const last = (n - 1) * dim;
          policy.observeFFN(l, ops.residualCosine(m, x + last, m, o + last, dim));
        }
        ops.addInto(m, x, m, o, n * dim);
      }
      if (policy.observeLayer) policy.observeLayer(l, ops.cosine(this.layerIn, 0, m, lastRow, dim));
    }
    policy.endStep();

    if (opt.logits === "none") return null;
    const outNorm = m.subarray(W.outputNorm / 4, W.outputNorm / 4 + dim);
    if (opt.logits === "last") {
      ops.rmsnorm(m, xb, m, x + (n - 1) * dim, outNorm, dim, eps);
      K.matvec(W.output, this.pxb, this.plogits);
      return this.views().subarray(this.plogits / 4, this.plogits / 4 + c.vocabSize);
    }
    for (let t = 0; t < n; t++) ops.rmsnorm(m, xb + t * dim, m, x + t * dim, outNorm, dim, eps);
    mat(W.output, this.pxb, this.plogits);
    return this.views().subarray(this.plogits / 4, this.plogits / 4 + n * c.vocabSize);
  }
}
