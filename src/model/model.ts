/**
 * The forward pass of a LLaMA-family decoder: one straight loop over layers
 * over buffers allocated once (llama2.c style). The skip policy is consulted
 * between attention and FFN — the only place an FFN is or is not run.
 */
import type { Kernels, KVType } from "../kernels/types.js";
import type { SkipPolicy } from "../skip/policy.js";
import { isLocalLayer, type ModelConfig } from "./config.js";
import type { Weights } from "./weights.js";
import { KVCache } from "./kv-cache.js";
import { Shard } from "./shard.js";
import * as ops from "../kernels/ops.js";

export interface StepOptions {
  policy: SkipPolicy;
  phase: "prompt" | "decode";
  /** index of the generated token (decode), -1 in the prompt */
  genIndex?: number;
  /** which logits to compute: the last token's, every token's, or none */
  logits: "last" | "all" | "none";
}

/** Most tokens one forward call processes by default. */
export const DEFAULT_BATCH = 64;

export class Model {
  readonly kv: KVCache;
  /** most tokens one forward call processes (prompts are split into batches of this) */
  readonly batchSize: number;
  /** the memories the model is split over, in layer order (one for any model that fits 4 GiB) */
  readonly shards: Shard[];
  /** the first shard's kernels (thread count and name are the same in every shard) */
  readonly kernels: Kernels;
  private readonly invFreq: Float32Array;
  private readonly ropeCos: Float32Array;
  private readonly ropeSin: Float32Array;
  // the local (sliding-window) layers' rope tables, when their base differs (Gemma 3)
  private readonly invFreqLocal: Float32Array | null;
  private readonly ropeCosLocal: Float32Array;
  private readonly ropeSinLocal: Float32Array;
  private readonly layerIn: Float32Array;

  /** `kernels`: one per shard of `weights.plan`, each over the heap that shard's weights were loaded into. */
  constructor(
    readonly config: ModelConfig,
    readonly weights: Weights,
    kernels: Kernels | readonly Kernels[],
    readonly ctx: number,
    batchSize = DEFAULT_BATCH,
    kvType: KVType = "f16",
  ) {
    const c = config,
      plan = weights.plan;
    const ks: readonly Kernels[] = Array.isArray(kernels) ? kernels : [kernels];
    if (ks.length !== plan.layers.length) throw new Error(`Model: ${ks.length} kernels for ${plan.layers.length} shards`);
    this.batchSize = batchSize;
    const B = batchSize;
    this.shards = plan.layers.map(({ first, end }, s) => new Shard(s, ks[s], first, end, c, B, s === ks.length - 1));
    this.kernels = ks[0];
    const heapOf = (l: number) => this.shardOf(l).kernels.heap;
    this.kv = new KVCache(
      Array.from({ length: c.nLayers }, (_, l) => heapOf(l)),
      ctx,
      c.nKvHeads * c.headDim,
      kvType,
    );
    this.invFreq = ops.ropeInvFreq(c.ropeBase, c.ropeDim);
    this.ropeCos = new Float32Array(B * (c.ropeDim / 2));
    this.ropeSin = new Float32Array(B * (c.ropeDim / 2));
    this.invFreqLocal = c.ropeBaseLocal !== undefined && c.slidingWindow ? ops.ropeInvFreq(c.ropeBaseLocal, c.ropeDim) : null;
    this.ropeCosLocal = this.invFreqLocal ? new Float32Array(B * (c.ropeDim / 2)) : this.ropeCos;
    this.ropeSinLocal = this.invFreqLocal ? new Float32Array(B * (c.ropeDim / 2)) : this.ropeSin;
    this.layerIn = new Float32Array(c.dim);
    // Let each shard's kernels rearrange its matrices into their fast layout
    // (once; prepare is idempotent, so the tied embedding/output matrix is safe).
    for (const S of this.shards) {
      const K = S.kernels;
      if (!K.prepare) continue;
      for (let l = S.first; l < S.end; l++) {
        const L = weights.layers[l];
        for (const w of [L.wq, L.wk, L.wv, L.wo, L.w1, L.w2, L.w3]) K.prepare(w);
      }
      if (S.index === plan.embed) K.prepare(weights.tokenEmbd);
      if (S === this.last) K.prepare(weights.output);
    }
  }

  private get last(): Shard {
    return this.shards[this.shards.length - 1];
  }

  /** The shard that holds layer l. */
  shardOf(l: number): Shard {
    const S = this.shards.find((s) => l >= s.first && l < s.end);
    if (!S) throw new Error(`layer ${l} is in no shard`);
    return S;
  }

  /** Embedding rows of `tokens` into the first shard's x (fetched through the kernels of the shard holding the table). */
  private embed(tokens: ArrayLike<number>): void {
    const E = this.weights.tokenEmbd,
      dim = this.config.dim;
    const S = this.shards[this.weights.plan.embed],
      first = this.shards[0];
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t];
      if (!(token >= 0 && token < E.rows)) throw new Error(`token id ${token} out of range [0, ${E.rows})`);
      // through the kernels: they may have rearranged the matrix (see Kernels.prepare)
      S.kernels.getRow(E, token, S.b.x + t * dim * 4);
    }
    if (S !== first) S.copyTo(first, S.b.x, first.b.x, tokens.length * dim);
  }

  /** The next shard, with the hidden state of n tokens moved into it. */
  private handOff(S: Shard, n: number): Shard {
    const next = this.shards[S.index + 1];
    S.copyTo(next, S.b.x, next.b.x, n * this.config.dim);
    return next;
  }

  /** RMSNorm n rows of dim at float index `at` of m, in place, with the f32 weight at byte offset w of m. */
  private normRows(m: Float32Array, at: number, w: number, n: number): void {
    const dim = this.config.dim;
    const wv = m.subarray(w / 4, w / 4 + dim);
    for (let t = 0; t < n; t++) ops.rmsnorm(m, at + t * dim, m, at + t * dim, wv, dim, this.config.normEps);
  }

  /**
   * One token's `nh` query or key heads at float index `at` of m: Gemma's
   * per-head RMSNorm first (when `norm` is given), then RoPE with the token's table.
   */
  private normRopeHeads(m: Float32Array, at: number, nh: number, norm: Float32Array | null, cs: Float32Array, sn: Float32Array): void {
    const c = this.config;
    if (norm) for (let h = 0; h < nh; h++) ops.rmsnorm(m, at + h * c.headDim, m, at + h * c.headDim, norm, c.headDim, c.normEps);
    ops.rope(m, at, nh, c.headDim, c.ropeDim, c.ropeStyle === "neox", cs, sn);
  }

  /** Release every shard's worker threads. */
  async dispose(): Promise<void> {
    for (const S of this.shards) await S.kernels.dispose();
  }

  /**
   * Run `tokens` at positions pos.. through the model, writing every layer's
   * KV cache, and return the requested logits (a view into the heap, valid
   * until the next call): [vocab] for "last", [n][vocab] for "all".
   */
  forward(tokens: ArrayLike<number>, pos: number, opt: StepOptions): Float32Array | null {
    const n = tokens.length,
      c = this.config;
    if (n === 0) throw new Error("forward: no tokens");
    if (n > this.batchSize) throw new Error(`forward: ${n} tokens exceed the batch size ${this.batchSize}`);
    if (pos + n > this.ctx) throw new Error(`context full: ${pos + n} tokens exceed the context of ${this.ctx}`);
    const { dim, ffnDim, nHeads, nKvHeads, headDim, ropeDim, normEps: eps } = c;
    const qDim = nHeads * headDim,
      kvDim = nKvHeads * headDim,
      half = ropeDim / 2;
    const W = this.weights,
      policy = opt.policy;

    this.embed(tokens);
    // Gemma scales the embedding by √dim
    if (c.embedScale !== undefined) {
      const m = this.shards[0].views();
      for (let i = this.shards[0].b.x / 4, e = i + n * c.dim; i < e; i++) m[i] *= c.embedScale;
    }
    for (let t = 0; t < n; t++) {
      ops.ropeTable(
        pos + t,
        this.invFreq,
        this.ropeCos.subarray(t * half, (t + 1) * half),
        this.ropeSin.subarray(t * half, (t + 1) * half),
      );
      if (this.invFreqLocal)
        ops.ropeTable(
          pos + t,
          this.invFreqLocal,
          this.ropeCosLocal.subarray(t * half, (t + 1) * half),
          this.ropeSinLocal.subarray(t * half, (t + 1) * half),
        );
    }
    const mat = (K: Kernels, w: typeof W.output, xp: number, outp: number) => (n === 1 ? K.matvec(w, xp, outp) : K.matmul(w, xp, outp, n));

    policy.beginStep({ pos, nTokens: n, phase: opt.phase, genIndex: opt.genIndex ?? -1, token: tokens[n - 1] });
    let S = this.shards[0];
    for (let l = 0; l < c.nLayers; l++) {
      // the layer's weights and KV cache are in its shard's memory: the hidden state goes there
      while (l >= S.end) S = this.handOff(S, n);
      // p: the shard's buffers as heap byte offsets (for the kernels); x .. h3: the same as float indices (for ops)
      const K = S.kernels,
        p = S.b,
        m = S.views();
      const x = p.x / 4,
        xb = p.xb / 4,
        q = p.q / 4,
        k = p.k / 4,
        v = p.v / 4;
      const o = p.o / 4,
        h1 = p.h1 / 4,
        h3 = p.h3 / 4;
      const lastRow = x + (n - 1) * dim;
      const L = W.layers[l];
      // sliding-window layers: their own rope base, and attention over the last `slidingWindow` positions
      const local = isLocalLayer(c, l);
      const rCos = local ? this.ropeCosLocal : this.ropeCos,
        rSin = local ? this.ropeSinLocal : this.ropeSin;
      // the last token's residual entering the layer, for Block Influence (ShortGPT)
      if (policy.wantsLayerCosine) this.layerIn.set(m.subarray(lastRow, lastRow + dim));
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
        if (qkv) K.matvecMulti([L.wk, L.wv, L.wq], p.xb, [p.k, p.v, p.q]);
        else if (n === 1) K.matvecMulti([L.wk, L.wv], p.xb, [p.k, p.v]);
        else {
          K.matmul(L.wk, p.xb, p.k, n);
          K.matmul(L.wv, p.xb, p.v, n);
        }
        for (let t = 0; t < n; t++) {
          this.normRopeHeads(m, k + t * kvDim, nKvHeads, kNorm, rCos.subarray(t * half), rSin.subarray(t * half));
          this.kv.write(l, pos + t, m, k + t * kvDim, v + t * kvDim);
        }
        this.kv.mark(l, pos, n);
        if (mode === "copy-kv") break layer;

        // attention
        if (!qkv) mat(K, L.wq, p.xb, p.q);
        for (let t = 0; t < n; t++) {
          this.normRopeHeads(m, q + t * qDim, nHeads, qNorm, rCos.subarray(t * half), rSin.subarray(t * half));
          // a window starting at s0 is the same attention over a cache that begins there
          const s0 = local ? Math.max(0, pos + t - c.slidingWindow! + 1) : 0,
            sb = s0 * this.kv.rowBytes;
          K.attention(
            p.att + t * qDim * 4,
            p.q + t * qDim * 4,
            this.kv.keyCache[l] + sb,
            this.kv.valueCache[l] + sb,
            kvDim,
            pos + t - s0,
            nHeads,
            nKvHeads,
            headDim,
            this.kv.type,
          );
        }
        mat(K, L.wo, p.att, p.o);
        if (L.postAttnNorm !== undefined) this.normRows(m, o, L.postAttnNorm, n);
        ops.addInto(m, x, m, o, n * dim);

        // FFN — or not: the policy decides
        if (!policy.runFFN(l)) {
          // a guarded method may add a cheap stand-in for the skipped output
          if (policy.wantsFFNOutput) policy.standIn!(l, m, x, n, dim);
          break layer;
        }
        const ffnNorm = m.subarray(L.ffnNorm / 4, L.ffnNorm / 4 + dim);
        for (let t = 0; t < n; t++) ops.rmsnorm(m, xb + t * dim, m, x + t * dim, ffnNorm, dim, eps);
        if (n === 1) K.matvecMulti([L.w1, L.w3], p.xb, [p.h1, p.h3]);
        else {
          K.matmul(L.w1, p.xb, p.h1, n);
          K.matmul(L.w3, p.xb, p.h3, n);
        }
        if (c.ffnAct === "gelu") ops.geglu(m, h1, m, h3, n * ffnDim);
        else K.swiglu(p.h1, p.h3, n * ffnDim);
        mat(K, L.w2, p.h1, p.o);
        // Gemma normalizes the FFN output first: the skip signal is the residual this block really adds
        if (L.postFfnNorm !== undefined) this.normRows(m, o, L.postFfnNorm, n);
        if (policy.wantsCosine) {
          const last = (n - 1) * dim;
          policy.observeFFN(l, ops.residualCosine(m, x + last, m, o + last, dim));
        }
        if (policy.wantsFFNOutput) policy.observeFFNOutput!(l, m, o + (n - 1) * dim, dim);
        ops.addInto(m, x, m, o, n * dim);
      }
      if (policy.wantsLayerCosine) policy.observeLayer(l, ops.cosine(this.layerIn, 0, m, lastRow, dim));
    }
    policy.endStep();

    if (opt.logits === "none") return null;
    // output norm and matrix are in the last shard
    while (S !== this.last) S = this.handOff(S, n);
    const K = S.kernels,
      p = S.b,
      m = S.views(),
      x = p.x / 4,
      xb = p.xb / 4;
    const outNorm = m.subarray(W.outputNorm / 4, W.outputNorm / 4 + dim);
    if (opt.logits === "last") {
      ops.rmsnorm(m, xb, m, x + (n - 1) * dim, outNorm, dim, eps);
      K.matvec(W.output, p.xb, p.logits);
      const row = S.views().subarray(p.logits / 4, p.logits / 4 + c.vocabSize);
      policy.observeLogits?.(row);
      return row;
    }
    for (let t = 0; t < n; t++) ops.rmsnorm(m, xb + t * dim, m, x + t * dim, outNorm, dim, eps);
    mat(K, W.output, p.xb, p.logits);
    const all = S.views().subarray(p.logits / 4, p.logits / 4 + n * c.vocabSize);
    policy.observeLogits?.(all.subarray((n - 1) * c.vocabSize));
    return all;
  }
}
