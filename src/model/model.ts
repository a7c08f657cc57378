/**
 * The forward pass of a LLaMA-family decoder: one straight loop over layers
 * over buffers allocated once (llama2.c style), for the rows of one or
 * several sequences at once (continuous batching). Each layer is an
 * attention block and an FFN block; the sequences' skip policies are
 * consulted between them — the only place an FFN is or is not run.
 */
import type { Kernels, KVType, WeightMatrix } from "../kernels/types.js";
import type { LayerMode, SkipPolicy } from "../skip/policy.js";
import { isLocalLayer, type ModelConfig } from "./config.js";
import type { TensorSource, Weights } from "./weights.js";
import { CompactFFN, type CompactLayer } from "./compact-ffn.js";
import { KVCache } from "./kv-cache.js";
import { Shard } from "./shard.js";
import * as ops from "../kernels/ops.js";
import type { NeuronGroups } from "../skip/policy.js";
import { dropGroups, dropNeurons, gateActivations, neuronByteShare, REALIZED_GROUP, RealizedSparseFFN } from "./sparse-ffn.js";

export interface StepOptions {
  policy: SkipPolicy;
  phase: "prompt" | "decode";
  /** index of the generated token (decode), -1 in the prompt */
  genIndex?: number;
  /** which logits to compute: the last token's, every token's, or none */
  logits: "last" | "all" | "none";
}

/** A single-sequence step (Model.forward): StepOptions and, optionally, the KV cache slot (default 0). */
export interface ForwardOptions extends StepOptions {
  slot?: number;
}

/** One sequence's part of a batched step (Model.forwardBatch). */
export interface SeqStep extends StepOptions {
  /** its KV cache slot (see KVCache) */
  slot: number;
  /** its tokens in this step: a prompt chunk, or the one token it decodes */
  tokens: ArrayLike<number>;
  /** position of tokens[0] in its sequence */
  pos: number;
}

/** FFN blocks over the steps so far: how often a layer's FFN weights were read, and for how many rows. */
export interface FfnStats {
  /** layer steps that reached the FFN decision with at least one row running attention */
  blocks: number;
  /** of those, layer steps in which no row ran the FFN: its weights were not read */
  skipped: number;
  /** rows (tokens) that reached the FFN decision */
  rowBlocks: number;
  /** of those, rows that ran the FFN */
  rowsRun: number;
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
  // the local (sliding-window) layers' rope tables, when their base differs (Gemma 3)
  private readonly invFreqLocal: Float32Array | null;
  // each sequence's last row entering a layer (Block Influence), grown on demand
  private layerIn: Float32Array;
  /** ffn-sparse (src/model/sparse-ffn.ts): |act(gate)| of the FFN rows, and each row's neuron threshold this layer */
  private gateAct: Float32Array;
  private readonly gateThreshold: Float64Array;
  /** per-row and per-sequence bookkeeping of the current step (allocated once, batchSize long) */
  private readonly rows: {
    seq: Int32Array;
    pos: Int32Array;
    first: Int32Array;
    last: Int32Array;
    mode: LayerMode[];
    ffn: Uint8Array;
    ffnRow: Int32Array;
  };
  /** ffn-sparse's kernels that read only the kept neuron groups (realizeSparse), or undefined: the masked form */
  private realized: RealizedSparseFFN | undefined;
  /** ffn-prune's and ffn-skip-compact's compact FFN copies (built per layer and kept list on first use) */
  private compact: CompactFFN | undefined;
  /** per FFN row of the current layer: its compact FFN, or undefined (the whole FFN) */
  private readonly compactRow: (CompactLayer | undefined)[] = [];
  /**
   * Reopens the tensors the model was loaded from (load.ts sets it): the compact FFN copies take rows of the file's
   * FFN matrices byte for byte. A model built without it cannot run ffn-prune or ffn-skip-compact.
   */
  tensorSource: (() => TensorSource) | undefined;
  /** FFN reads and skips since load (or the last resetFfnStats) */
  readonly ffnStats: FfnStats = { blocks: 0, skipped: 0, rowBlocks: 0, rowsRun: 0 };

  /** `kernels`: one per shard of `weights.plan`, each over the heap that shard's weights were loaded into. */
  constructor(
    readonly config: ModelConfig,
    readonly weights: Weights,
    kernels: Kernels | readonly Kernels[],
    readonly ctx: number,
    batchSize = DEFAULT_BATCH,
    kvType: KVType = "f16",
    slots = 1,
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
      slots,
      c.headDim,
    );
    this.invFreq = ops.ropeInvFreq(c.ropeBase, c.ropeDim);
    this.invFreqLocal = c.ropeBaseLocal !== undefined && c.slidingWindow ? ops.ropeInvFreq(c.ropeBaseLocal, c.ropeDim) : null;
    this.layerIn = new Float32Array(c.dim);
    this.gateAct = new Float32Array(c.ffnDim);
    this.gateThreshold = new Float64Array(B);
    this.rows = {
      seq: new Int32Array(B),
      pos: new Int32Array(B),
      first: new Int32Array(B),
      last: new Int32Array(B),
      mode: new Array<LayerMode>(B).fill("run"),
      ffn: new Uint8Array(B),
      ffnRow: new Int32Array(B),
    };
    // Let each shard's kernels rearrange its matrices into their fast layout
    // (once; prepare is idempotent, so the tied embedding/output matrix is safe).
    for (const S of this.shards) {
      const K = S.kernels;
      const ws: WeightMatrix[] = [];
      for (let l = S.first; l < S.end; l++) {
        const L = weights.layers[l];
        ws.push(L.wq, L.wk, L.wv, L.wo, L.w1, L.w2, L.w3);
      }
      if (S.index === plan.embed) ws.push(weights.tokenEmbd);
      if (S === this.last) ws.push(weights.output);
      if (K.prepareAll) K.prepareAll(ws);
      else if (K.prepare) for (const w of ws) K.prepare(w);
    }
  }

  /**
   * Build what ffn-sparse needs to skip the bytes of the neurons it drops (src/model/sparse-ffn.ts
   * RealizedSparseFFN) in file order: afterwards a decode step whose policy drops neurons in groups of 4 reads only
   * the kept groups' up rows and down columns, in the layers whose types allow it (Q4_0/Q4_1). Returns the layers
   * that run so and the bytes added. Idempotent; the first such step builds it if this was not called.
   */
  realizeSparse(): { layers: number; bytes: number } {
    const r = this.realizedFFN();
    return { layers: r.buildAll(), bytes: r.bytes };
  }

  /** The realized kernels' copies (built per layer and order on first use). */
  private realizedFFN(): RealizedSparseFFN {
    this.realized ??= new RealizedSparseFFN(this.weights.layers, (l) => this.shardOf(l).kernels);
    return this.realized;
  }

  /** Zero the FFN read counters. */
  resetFfnStats(): void {
    Object.assign(this.ffnStats, { blocks: 0, skipped: 0, rowBlocks: 0, rowsRun: 0 });
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

  /** RMSNorm n rows of dim at byte offset `at` of shard S's heap, in place, with the f32 weight at byte offset w. */
  private normRows(S: Shard, at: number, w: number, n: number): void {
    S.kernels.rmsnorm(at, at, w, this.config.dim, n, this.config.normEps);
  }

  /**
   * One token's `nh` query or key heads at byte offset `at` of shard S's heap: Gemma's per-head RMSNorm first (the
   * weight at byte offset `norm`, when given), then RoPE with the token's table (row t of the local or global one).
   */
  private normRopeHeads(S: Shard, at: number, nh: number, norm: number | undefined, local: boolean, t: number): void {
    const c = this.config,
      K = S.kernels;
    if (norm !== undefined) K.rmsnorm(at, at, norm, c.headDim, nh, c.normEps);
    const half = c.ropeDim / 2,
      cos = S.b.rope + ((local && this.invFreqLocal ? 2 : 0) * this.batchSize + t) * half * 4,
      sin = cos + this.batchSize * half * 4;
    K.rope(at, nh, c.headDim, c.ropeDim, c.ropeStyle === "neox", cos, sin);
  }

  /** Release every shard's worker threads. */
  async dispose(): Promise<void> {
    for (const S of this.shards) await S.kernels.dispose();
  }

  /**
   * Run `tokens` at positions pos.. of KV cache slot `opt.slot` (default 0)
   * through the model, writing every layer's cache, and return the requested
   * logits (a view into the heap, valid until the next call): [vocab] for
   * "last", [n][vocab] for "all".
   */
  forward(tokens: ArrayLike<number>, pos: number, opt: ForwardOptions): Float32Array | null {
    return this.forwardBatch([{ ...opt, slot: opt.slot ?? 0, tokens, pos }])[0];
  }

  /**
   * One step over several sequences at once: their rows (a prompt chunk, or
   * the one token each decodes) go through every layer together, so each
   * matrix is read once for all of them. Each sequence has its own KV cache
   * slot, positions and skip policy; per layer the FFN runs only over the
   * rows whose policy runs it (see ffnBlock). Returns each sequence's logits
   * as `forward` does (heap views, valid until the next call).
   */
  forwardBatch(seqs: readonly SeqStep[]): (Float32Array | null)[] {
    const c = this.config,
      dim = c.dim,
      half = c.ropeDim / 2;
    const n = this.layoutRows(seqs);
    const rows = this.rows;

    const tokens = new Int32Array(n);
    for (let i = 0; i < n; i++) tokens[i] = seqs[rows.seq[i]].tokens[i - rows.first[rows.seq[i]]];
    this.embed(tokens);
    // Gemma scales the embedding by √dim
    if (c.embedScale !== undefined) {
      const m = this.shards[0].views();
      for (let i = this.shards[0].b.x / 4, e = i + n * dim; i < e; i++) m[i] *= c.embedScale;
    }
    // each token's RoPE tables, written into the first shard's heap (where the RoPE kernel reads them; see
    // Buffers.rope) and copied to the others
    const S0 = this.shards[0],
      m0 = S0.views(),
      r0 = S0.b.rope / 4,
      B = this.batchSize * half;
    for (let t = 0; t < n; t++) {
      const at = rows.pos[t],
        o = r0 + t * half;
      ops.ropeTable(at, this.invFreq, m0.subarray(o, o + half), m0.subarray(o + B, o + B + half));
      if (this.invFreqLocal)
        ops.ropeTable(at, this.invFreqLocal, m0.subarray(o + 2 * B, o + 2 * B + half), m0.subarray(o + 3 * B, o + 3 * B + half));
    }
    for (const S of this.shards.slice(1)) S0.copyTo(S, S0.b.rope, S.b.rope, 4 * B);

    for (const s of seqs)
      s.policy.beginStep({
        pos: s.pos,
        nTokens: s.tokens.length,
        phase: s.phase,
        genIndex: s.genIndex ?? -1,
        token: s.tokens[s.tokens.length - 1],
      });
    const layerCos = seqs.some((s) => s.policy.wantsLayerCosine);
    if (layerCos && this.layerIn.length < seqs.length * dim) this.layerIn = new Float32Array(seqs.length * dim);
    let S = this.shards[0];
    for (let l = 0; l < c.nLayers; l++) {
      // the layer's weights and KV cache are in its shard's memory: the hidden state goes there
      while (l >= S.end) S = this.handOff(S, n);
      const m = S.views(),
        x = S.b.x / 4;
      // each sequence's last row entering the layer, for Block Influence (ShortGPT)
      if (layerCos)
        for (let i = 0; i < seqs.length; i++) this.layerIn.set(m.subarray(x + rows.last[i] * dim, x + (rows.last[i] + 1) * dim), i * dim);
      for (let i = 0; i < seqs.length; i++) rows.mode[i] = seqs[i].policy.layerMode(l);
      if (this.attentionBlock(S, l, seqs, n)) {
        this.ffnBlock(S, l, seqs, n);
        this.standIns(S, l, seqs);
      }
      if (layerCos)
        for (let i = 0; i < seqs.length; i++)
          if (seqs[i].policy.wantsLayerCosine)
            seqs[i].policy.observeLayer(l, ops.cosine(this.layerIn, i * dim, m, x + rows.last[i] * dim, dim));
    }
    for (const s of seqs) s.policy.endStep();
    return this.logits(S, seqs, n);
  }

  /** Check a step and lay its rows out (sequence by sequence) in this.rows; returns the row count. */
  private layoutRows(seqs: readonly SeqStep[]): number {
    if (seqs.length === 0) throw new Error("forward: no sequences");
    const rows = this.rows,
      used = new Set<number>();
    let n = 0;
    for (let i = 0; i < seqs.length; i++) {
      const s = seqs[i],
        len = s.tokens.length;
      if (len === 0) throw new Error("forward: no tokens");
      if (!(Number.isInteger(s.slot) && s.slot >= 0 && s.slot < this.kv.slots))
        throw new Error(`forward: KV cache slot ${s.slot} out of range [0, ${this.kv.slots})`);
      if (used.has(s.slot)) throw new Error(`forward: two sequences in KV cache slot ${s.slot}`);
      used.add(s.slot);
      if (s.pos + len > this.ctx) throw new Error(`context full: ${s.pos + len} tokens exceed the context of ${this.ctx}`);
      if (n + len > this.batchSize) throw new Error(`forward: ${n + len} tokens exceed the batch size ${this.batchSize}`);
      rows.first[i] = n;
      for (let t = 0; t < len; t++, n++) {
        rows.seq[n] = i;
        rows.pos[n] = s.pos + t;
      }
      rows.last[i] = n - 1;
    }
    return n;
  }

  /**
   * Attention of layer l for every row, each over its own sequence's slot.
   * K and V are always computed from real hidden states, so the cache is
   * written for every layer and token (for "copy-kv" from the state that
   * passes through the skipped layer). Returns whether any row goes on to the FFN.
   */
  private attentionBlock(S: Shard, l: number, seqs: readonly SeqStep[], n: number): boolean {
    const c = this.config,
      rows = this.rows;
    const { dim, nHeads, nKvHeads, headDim, normEps: eps } = c;
    const qDim = nHeads * headDim,
      kvDim = nKvHeads * headDim;
    let anyRun = false,
      allRun = true,
      anyKV = false;
    for (let i = 0; i < seqs.length; i++) {
      anyRun ||= rows.mode[i] === "run";
      allRun &&= rows.mode[i] === "run";
      anyKV ||= rows.mode[i] !== "removed";
    }
    if (!anyKV) return false;
    // p: the shard's buffers as heap byte offsets (for the kernels); k, v: the same as float indices (for the KV cache)
    const K = S.kernels,
      p = S.b,
      m = S.views();
    const k = p.k / 4,
      v = p.v / 4;
    const L = this.weights.layers[l];
    // sliding-window layers: their own rope base, and attention over the last `slidingWindow` positions
    const local = isLocalLayer(c, l);
    K.rmsnorm(p.xb, p.x, L.attnNorm, dim, n, eps);

    // Q with K and V in one dispatch (one quantization, and for a batch one split, of the input);
    // K and V alone when no row attends here (its cache rows are still written)
    if (anyRun) K.matvecMulti([L.wk, L.wv, L.wq], p.xb, [p.k, p.v, p.q], n);
    else K.matvecMulti([L.wk, L.wv], p.xb, [p.k, p.v], n);
    for (let t = 0; t < n; t++) {
      const i = rows.seq[t];
      if (rows.mode[i] === "removed") continue;
      this.normRopeHeads(S, p.k + t * kvDim * 4, nKvHeads, L.attnKNorm, local, t);
      this.kv.write(l, rows.pos[t], m, k + t * kvDim, v + t * kvDim, seqs[i].slot, K);
    }
    for (let i = 0; i < seqs.length; i++) if (rows.mode[i] !== "removed") this.kv.mark(l, seqs[i].pos, seqs[i].tokens.length, seqs[i].slot);
    if (!anyRun) return false;

    // attention: each row over its own slot, up to its own position
    for (let t = 0; t < n; t++) {
      const i = rows.seq[t];
      if (rows.mode[i] !== "run") continue;
      const at = rows.pos[t],
        slot = seqs[i].slot;
      this.normRopeHeads(S, p.q + t * qDim * 4, nHeads, L.attnQNorm, local, t);
      // a window starting at s0 is the same attention over a cache that begins there
      const s0 = local ? Math.max(0, at - c.slidingWindow! + 1) : 0,
        sb = s0 * this.kv.posBytes;
      K.attention(
        p.att + t * qDim * 4,
        p.q + t * qDim * 4,
        this.kv.keys(l, slot) + sb,
        this.kv.values(l, slot) + sb,
        kvDim,
        at - s0,
        nHeads,
        nKvHeads,
        headDim,
        this.kv.type,
        this.kv.strides,
      );
    }
    this.mat(K, L.wo, p.att, p.o, n);
    if (L.postAttnNorm !== undefined) this.normRows(S, p.o, L.postAttnNorm, n);
    if (allRun) K.addInto(p.x, p.o, n * dim);
    else for (let t = 0; t < n; t++) if (rows.mode[rows.seq[t]] === "run") K.addInto(p.x + t * dim * 4, p.o + t * dim * 4, dim);
    return true;
  }

  /**
   * The FFN of layer l — or not: each "run" sequence's policy decides for its
   * rows (the one place an FFN is or is not run). Only the rows that run it
   * are normalized into xb, packed (row j of xb, h1, h3, o is the j-th
   * running row), multiplied and added back to their residual; when no row
   * runs it, the FFN's weights are not read at all.
   */
  private ffnBlock(S: Shard, l: number, seqs: readonly SeqStep[], n: number): void {
    const rows = this.rows;
    let nf = 0;
    for (let i = 0; i < seqs.length; i++) {
      rows.ffn[i] = rows.mode[i] === "run" && seqs[i].policy.runFFN(l) ? 1 : 0;
      if (rows.mode[i] === "run") this.ffnStats.rowBlocks += seqs[i].tokens.length;
    }
    for (let t = 0; t < n; t++) if (rows.ffn[rows.seq[t]]) rows.ffnRow[nf++] = t;
    this.ffnStats.blocks++;
    if (nf === 0) {
      this.ffnStats.skipped++;
      return;
    }
    this.ffnStats.rowsRun += nf;
    // ffn-prune, ffn-skip-compact: rows whose policy runs a compact copy of this FFN go last, the others take the paths below (decided
    // before the heap views are taken: building a copy on first use grows the heap)
    const nDense = this.partitionCompact(l, seqs, nf);
    if (nDense < nf) {
      this.compactRows(S, l, seqs, nDense, nf);
      if (nDense > 0) this.wholeFFN(S, l, seqs, nDense);
      this.ffnOutput(S, l, seqs, nf, n, nDense === 0);
      return;
    }
    this.wholeFFN(S, l, seqs, nf);
    this.ffnOutput(S, l, seqs, nf, n);
  }

  /**
   * Order the nf FFN rows (rows.ffnRow) so that those whose policy keeps a compact copy of layer l's FFN come last,
   * their copies in compactRow[j]; returns how many rows run the whole FFN.
   */
  private partitionCompact(l: number, seqs: readonly SeqStep[], nf: number): number {
    const rows = this.rows;
    let any = false;
    for (let j = 0; j < nf; j++) {
      const keep = seqs[rows.seq[rows.ffnRow[j]]].policy.compactKeep?.(l);
      this.compactRow[j] = keep ? this.compactFFN().layer(l, keep) : undefined;
      any ||= keep !== undefined;
    }
    if (!any) return nf;
    if (nf === 1) return 0; // one row (a single sequence's decode step): nothing to order
    // stable: whole rows first in their order, then the compact ones grouped by copy (so that rows sharing a copy run
    // as one batch), each group in row order
    // rank: 0 for a whole row, else 1 + the first row with the same copy
    const rank = this.compactRow.slice(0, nf).map((C) => (C ? 1 + this.compactRow.indexOf(C) : 0));
    const order = Array.from({ length: nf }, (_, j) => j).sort((a, b) => rank[a] - rank[b] || a - b);
    const ffnRow = order.map((j) => rows.ffnRow[j]),
      copies = order.map((j) => this.compactRow[j]);
    rows.ffnRow.set(ffnRow);
    copies.forEach((c, j) => (this.compactRow[j] = c));
    return copies.findIndex((c) => c !== undefined);
  }

  /**
   * The compact FFNs of rows [from, nf) through the copies' dense kernels, into o[j]: the rows that share a copy (they
   * are consecutive, see partitionCompact) as one batch, which reads the copy once for all of them.
   */
  private compactRows(S: Shard, l: number, seqs: readonly SeqStep[], from: number, nf: number): void {
    const c = this.config,
      rows = this.rows,
      K = S.kernels,
      p = S.b,
      L = this.weights.layers[l];
    const dim = c.dim;
    for (let a = from, b = from; a < nf; a = b) {
      const C = this.compactRow[a]!;
      while (b < nf && this.compactRow[b] === C) b++;
      const n = b - a,
        xb = p.xb + a * dim * 4;
      for (let j = a; j < b; j++) K.rmsnorm(p.xb + j * dim * 4, p.x + rows.ffnRow[j] * dim * 4, L.ffnNorm, dim, 1, c.normEps);
      K.matvecMulti([C.w1, C.w3], xb, [p.h1, p.h3], n);
      if (c.ffnAct === "gelu") K.geglu(p.h1, p.h3, n * C.w1.rows);
      else K.swiglu(p.h1, p.h3, n * C.w1.rows);
      this.mat(K, C.w2, p.h1, p.o + a * dim * 4, n);
      for (let j = a; j < b; j++) {
        const t = rows.ffnRow[j];
        if (t === rows.last[rows.seq[t]]) seqs[rows.seq[t]].policy.observeCompact?.(l, C.saved);
      }
    }
  }

  /**
   * Build ahead the compact FFN copies a policy's `compactLists` names (ffn-prune, ffn-skip-compact), instead of on
   * its first pruned step. Returns the bytes all copies take so far.
   */
  buildCompact(lists: readonly (Int32Array | undefined)[]): number {
    lists.forEach((keep, l) => {
      if (keep) this.compactFFN().layer(l, keep);
    });
    return this.compact?.bytes ?? 0;
  }

  /** The compact copies (built per layer and kept list on first use). */
  private compactFFN(): CompactFFN {
    this.compact ??= new CompactFFN(this.weights.layers, (l) => this.shardOf(l).kernels, this.tensorSource);
    return this.compact;
  }

  /** The whole FFN of rows [0, nf) (rows.ffnRow) into o[0..nf), ffn-sparse's neuron dropping included. */
  private wholeFFN(S: Shard, l: number, seqs: readonly SeqStep[], nf: number): void {
    const c = this.config,
      rows = this.rows;
    const { dim, ffnDim, normEps: eps } = c;
    // ffn-sparse: each row's neurons are chosen on its gate, before the activation overwrites it
    let sparse = false;
    for (let j = 0; j < nf; j++) {
      const th = seqs[rows.seq[rows.ffnRow[j]]].policy.neuronThreshold?.(l) ?? 0;
      this.gateThreshold[j] = th;
      sparse ||= th > 0;
    }
    // (decided before the heap views are taken: building the realized kernels' copies on first use grows the heap)
    const groups = sparse && nf === 1 ? seqs[rows.seq[rows.ffnRow[0]]].policy.neuronGroups?.(l) : undefined;
    const realized = groups !== undefined && this.realizedRow(l, groups);
    const K = S.kernels,
      p = S.b,
      m = S.views();
    const L = this.weights.layers[l];
    for (let j = 0; j < nf; j++) K.rmsnorm(p.xb + j * dim * 4, p.x + rows.ffnRow[j] * dim * 4, L.ffnNorm, dim, 1, eps);
    if (realized) {
      // one token whose neurons drop in groups of 4 (in file order or along a within-block order): the kernels read
      // only the kept groups
      K.matvec(L.w1, p.xb, p.h1);
      const { kept, act } = this.realized!.run(K, l, groups!.order, p.xb, p.h1, p.h3, p.o, this.gateThreshold[0], c.ffnAct === "gelu");
      const t = rows.ffnRow[0],
        s = seqs[rows.seq[t]];
      if (t === rows.last[rows.seq[t]]) s.policy.observeNeurons?.(l, act, kept, neuronByteShare(L.w1, L.w2, L.w3) * (1 - kept / ffnDim));
      return;
    }
    K.matvecMulti([L.w1, L.w3], p.xb, [p.h1, p.h3], nf);
    if (sparse) {
      if (this.gateAct.length < nf * ffnDim) this.gateAct = new Float32Array(nf * ffnDim);
      for (let j = 0; j < nf; j++)
        gateActivations(m, p.h1 / 4 + j * ffnDim, ffnDim, c.ffnAct === "gelu", this.gateAct.subarray(j * ffnDim, (j + 1) * ffnDim));
    }
    if (c.ffnAct === "gelu") K.geglu(p.h1, p.h3, nf * ffnDim);
    else K.swiglu(p.h1, p.h3, nf * ffnDim);
    if (sparse) {
      const share = neuronByteShare(L.w1, L.w2, L.w3);
      for (let j = 0; j < nf; j++) {
        const t = rows.ffnRow[j],
          s = seqs[rows.seq[t]];
        if (!(this.gateThreshold[j] > 0)) continue;
        const act = this.gateAct.subarray(j * ffnDim, (j + 1) * ffnDim);
        const g = s.policy.neuronGroups?.(l);
        const kept = g
          ? dropGroups(m, p.h1 / 4 + j * ffnDim, act, ffnDim, this.gateThreshold[j], g)
          : dropNeurons(m, p.h1 / 4 + j * ffnDim, act, ffnDim, this.gateThreshold[j]);
        if (t === rows.last[rows.seq[t]]) s.policy.observeNeurons?.(l, act, kept, share * (1 - kept / ffnDim));
      }
    }
    for (let j = 0; j < nf; j++) {
      const t = rows.ffnRow[j],
        s = seqs[rows.seq[t]];
      if (t === rows.last[rows.seq[t]] && s.policy.wantsFFNHidden) s.policy.observeFFNHidden!(l, m, p.h1 / 4 + j * ffnDim, ffnDim);
    }
    this.mat(K, L.w2, p.h1, p.o, nf);
  }

  /**
   * Whether layer l can run a row's ffn-sparse groups `g` realized: groups of 4, in file order or along an order
   * within the down projection's 32-neuron blocks, and kernels for it (copies built on first use, see realizeSparse).
   */
  private realizedRow(l: number, g: NeuronGroups): boolean {
    return g.size === REALIZED_GROUP && this.realizedFFN().has(l, g.order);
  }

  /** The FFN outputs of the nf running rows (at o) into their residuals, after Gemma's post-norm and the policies' observations. */
  private ffnOutput(S: Shard, l: number, seqs: readonly SeqStep[], nf: number, n: number, inOrder = true): void {
    const rows = this.rows,
      dim = this.config.dim,
      m = S.views(),
      p = S.b;
    const x = p.x / 4,
      o = p.o / 4;
    const L = this.weights.layers[l];
    // Gemma normalizes the FFN output first: the skip signal is the residual this block really adds
    if (L.postFfnNorm !== undefined) this.normRows(S, p.o, L.postFfnNorm, nf);
    for (let j = 0; j < nf; j++) {
      const t = rows.ffnRow[j];
      const s = seqs[rows.seq[t]];
      // cos(h, h + FFN) of each sequence's last row, before it is added
      if (t === rows.last[rows.seq[t]] && s.policy.wantsCosine)
        s.policy.observeFFN(l, ops.residualCosine(m, x + t * dim, m, o + j * dim, dim));
      if (t === rows.last[rows.seq[t]] && s.policy.wantsFFNOutput) s.policy.observeFFNOutput!(l, m, o + j * dim, dim, x + t * dim);
    }
    // (rows.ffnRow is 0..n-1 in order unless ffn-prune's rows were moved last)
    if (nf === n && inOrder) S.kernels.addInto(p.x, p.o, n * dim);
    else for (let j = 0; j < nf; j++) S.kernels.addInto(p.x + rows.ffnRow[j] * dim * 4, p.o + j * dim * 4, dim);
  }

  /** A skipping method may add a cheap stand-in for the FFN output it skipped, to each of its sequence's rows. */
  private standIns(S: Shard, l: number, seqs: readonly SeqStep[]): void {
    const rows = this.rows,
      dim = this.config.dim;
    for (let i = 0; i < seqs.length; i++) {
      const pol = seqs[i].policy;
      if (rows.mode[i] === "run" && !rows.ffn[i] && pol.wantsFFNOutput)
        pol.standIn!(l, S.views(), S.b.x / 4 + rows.first[i] * dim, seqs[i].tokens.length, dim);
    }
  }

  /** The logits each sequence asked for, from the last shard (output norm and matrix live there). */
  private logits(S: Shard, seqs: readonly SeqStep[], n: number): (Float32Array | null)[] {
    const c = this.config,
      rows = this.rows,
      dim = c.dim,
      V = c.vocabSize;
    // the rows whose logits are wanted, packed in sequence order
    let nw = 0;
    for (let i = 0; i < seqs.length; i++) {
      const s = seqs[i];
      if (s.logits === "none") continue;
      for (let t = s.logits === "all" ? rows.first[i] : rows.last[i]; t <= rows.last[i]; t++) rows.ffnRow[nw++] = t;
    }
    const out: (Float32Array | null)[] = seqs.map(() => null);
    if (nw === 0) return out;
    while (S !== this.last) S = this.handOff(S, n);
    const K = S.kernels,
      p = S.b;
    for (let j = 0; j < nw; j++) K.rmsnorm(p.xb + j * dim * 4, p.x + rows.ffnRow[j] * dim * 4, this.weights.outputNorm, dim, 1, c.normEps);
    this.mat(K, this.weights.output, p.xb, p.logits, nw);
    const lg = S.views().subarray(p.logits / 4, p.logits / 4 + nw * V);
    let j = 0;
    for (let i = 0; i < seqs.length; i++) {
      const s = seqs[i];
      if (s.logits === "none") continue;
      const k = s.logits === "all" ? s.tokens.length : 1;
      out[i] = lg.subarray(j * V, (j + k) * V);
      j += k;
      // confidence-gated methods read the distribution they will condition the next step on
      s.policy.observeLogits?.(lg.subarray((j - 1) * V, j * V));
    }
    return out;
  }

  /** W × n rows at xp into outp: one matrix-vector product for one row. */
  private mat(K: Kernels, w: WeightMatrix, xp: number, outp: number, n: number): void {
    if (n === 1) K.matvec(w, xp, outp);
    else K.matmul(w, xp, outp, n);
  }
}
