/**
 * Weights: every tensor the forward pass reads, copied once into the
 * kernels' heap at load time. Matrices stay in their file's quantized form
 * (the kernels dequantize on the fly), except minority Q5_0 matrices, which
 * are widened exactly to Q8_0 (see heapType); norm vectors become f32.
 */
import { GGMLType, rowBytes } from "../quant/types.js";
import { dequantizeRow } from "../quant/dequant.js";
import { widenQ5_0InPlace } from "../quant/widen.js";
import type { Heap, WeightMatrix } from "../kernels/types.js";
import type { ModelConfig } from "./config.js";

/** A source of named tensors (GGUF file, safetensors directory, ...), names in GGUF convention. */
export interface TensorSource {
  /** where the tensors come from, for error messages */
  readonly name: string;
  has(name: string): boolean;
  /** ggml order: dims[0] is the row length */
  dims(name: string): number[];
  type(name: string): GGMLType;
  /** copy the raw bytes of `name` into dest */
  readInto(name: string, dest: Uint8Array): void;
  /** Optional: readInto for each, on up to `threads` threads where it pays (a large file into shared memory). */
  readAllInto?(reads: readonly { name: string; dest: Uint8Array }[], threads: number): void;
}

export interface LayerWeights {
  /** f32 [dim] */
  attnNorm: number;
  wq: WeightMatrix;
  wk: WeightMatrix;
  wv: WeightMatrix;
  wo: WeightMatrix;
  /** f32 [dim] */
  ffnNorm: number;
  /** gate */
  w1: WeightMatrix;
  /** down */
  w2: WeightMatrix;
  /** up */
  w3: WeightMatrix;
  // Gemma 3 only, f32:
  /** per-head RMSNorm of q and k [headDim] */
  attnQNorm?: number;
  attnKNorm?: number;
  /** RMSNorm of the attention / FFN output before it joins the residual [dim] */
  postAttnNorm?: number;
  postFfnNorm?: number;
}

export interface Weights {
  tokenEmbd: WeightMatrix;
  /** f32 [dim] */
  outputNorm: number;
  /** the output matrix (the embedding table itself when tied) */
  output: WeightMatrix;
  layers: LayerWeights[];
  /** which memory (shard) holds which tensors; every pointer above is into its own shard's heap */
  plan: ShardPlan;
  /** total bytes of all weights in the heaps */
  bytes: number;
}

/**
 * Where the weights live when they span several memories (shards): shard s
 * holds layers [layers[s].first, layers[s].end); the embedding table is in
 * shard `embed`; output norm and output matrix are in the last shard.
 */
export interface ShardPlan {
  layers: { first: number; end: number }[];
  embed: number;
}

/** Everything in one memory. */
export function singleShard(cfg: ModelConfig): ShardPlan {
  return { layers: [{ first: 0, end: cfg.nLayers }], embed: 0 };
}

/** Does the file tie the output matrix to the embedding table (no output.weight)? */
export function tiedOutput(src: TensorSource): boolean {
  return !src.has("output.weight");
}

function expectDims(src: TensorSource, name: string, want: number[]): number[] {
  if (!src.has(name)) throw new Error(`${src.name}: missing tensor ${name}`);
  const d = src.dims(name);
  const got = d.filter((x, i) => i < 2 || x !== 1);
  if (got.length !== want.length || got.some((x, i) => x !== want[i])) {
    throw new Error(`${src.name}: tensor ${name} has shape [${d}], expected [${want}]`);
  }
  return d;
}

/** A tensor the forward pass reads: [cols, rows] is a matrix (kept quantized), [n] a vector (made f32). */
type TensorSpec = [field: keyof LayerWeights, name: string, dims: number[]];

/** The tensors of layer l, the one list both sizing and loading go by. */
function layerTensors(cfg: ModelConfig, l: number): TensorSpec[] {
  const { dim, ffnDim, nHeads, nKvHeads, headDim } = cfg;
  const p = `blk.${l}.`,
    qDim = nHeads * headDim,
    kvDim = nKvHeads * headDim;
  const t: TensorSpec[] = [
    ["attnNorm", p + "attn_norm.weight", [dim]],
    ["wq", p + "attn_q.weight", [dim, qDim]],
    ["wk", p + "attn_k.weight", [dim, kvDim]],
    ["wv", p + "attn_v.weight", [dim, kvDim]],
    ["wo", p + "attn_output.weight", [qDim, dim]],
    ["ffnNorm", p + "ffn_norm.weight", [dim]],
    ["w1", p + "ffn_gate.weight", [dim, ffnDim]],
    ["w2", p + "ffn_down.weight", [ffnDim, dim]],
    ["w3", p + "ffn_up.weight", [dim, ffnDim]],
  ];
  // Gemma 3's extra norms are required there, absent elsewhere
  if (cfg.arch === "gemma3") {
    t.push(
      ["attnQNorm", p + "attn_q_norm.weight", [headDim]],
      ["attnKNorm", p + "attn_k_norm.weight", [headDim]],
      ["postAttnNorm", p + "post_attention_norm.weight", [dim]],
      ["postFfnNorm", p + "post_ffw_norm.weight", [dim]],
    );
  }
  return t;
}

/** Heap bytes a tensor takes once loaded (matrices in their heap type, vectors as f32), plus its alignment slack. */
function heapBytes(src: TensorSource, name: string, dims: number[], widen: boolean): number {
  expectDims(src, name, dims);
  const bytes = dims.length === 1 ? dims[0] * 4 : rowBytes(heapType(src, name, widen), dims[0]) * dims[1];
  return bytes + ALIGN;
}
const ALIGN = 64;

/** Heap bytes of the parts of the model, for planning shards (before anything is read). */
export function weightSizes(src: TensorSource, cfg: ModelConfig): { layers: number[]; embed: number; output: number } {
  const { dim, vocabSize } = cfg;
  const widen = widenQ5_0(src, cfg);
  const layers: number[] = [];
  for (let l = 0; l < cfg.nLayers; l++)
    layers.push(layerTensors(cfg, l).reduce((s, [, name, dims]) => s + heapBytes(src, name, dims, widen), 0));
  const embed = heapBytes(src, "token_embd.weight", [dim, vocabSize], widen);
  const output =
    heapBytes(src, "output_norm.weight", [dim], widen) + (tiedOutput(src) ? 0 : heapBytes(src, "output.weight", [dim, vocabSize], widen));
  return { layers, embed, output };
}

/**
 * Whether the file's Q5_0 matrices load widened to Q8_0 (quant/widen.ts):
 * when they are under half of its matrix bytes — llama.cpp's fallback type
 * inside K-quant mixes, e.g. Gemma 3 270M's 640-wide rows — since the Q8_0
 * kernels compute them about three times faster and the extra bytes are
 * few. A file mostly of Q5_0 keeps it, so its memory stays at its size.
 */
export function widenQ5_0(src: TensorSource, cfg: ModelConfig): boolean {
  let q5 = 0,
    all = 0;
  const add = (name: string): void => {
    if (!src.has(name)) return;
    const d = src.dims(name);
    const b = rowBytes(src.type(name), d[0]) * (d[1] ?? 1);
    all += b;
    if (src.type(name) === GGMLType.Q5_0) q5 += b;
  };
  for (let l = 0; l < cfg.nLayers; l++) for (const [, name, dims] of layerTensors(cfg, l)) if (dims.length === 2) add(name);
  add("token_embd.weight");
  add("output.weight");
  return q5 > 0 && q5 < all / 2;
}

/** The type matrix `name` has in the heap (Q8_0 for a widened Q5_0, else the file's). */
function heapType(src: TensorSource, name: string, widen: boolean): GGMLType {
  const t = src.type(name);
  return widen && t === GGMLType.Q5_0 ? GGMLType.Q8_0 : t;
}

/**
 * Read every tensor into its shard's heap (heaps[s] for shard s of `plan`;
 * one heap: everything there). Matrices go straight from the file into the
 * heap, so no second copy of the weights is ever made in JS memory; they are
 * read last, all at once, on up to `threads` threads where the source can.
 */
export function loadWeights(
  src: TensorSource,
  cfg: ModelConfig,
  heaps: Heap | readonly Heap[],
  plan = singleShard(cfg),
  threads = 1,
): Weights {
  const hs = Array.isArray(heaps) ? (heaps as readonly Heap[]) : [heaps as Heap];
  if (hs.length !== plan.layers.length) throw new Error(`loadWeights: ${hs.length} heaps for a plan of ${plan.layers.length} shards`);
  let bytes = 0;
  const widen = widenQ5_0(src, cfg);
  const reads: { name: string; dest: Uint8Array }[] = [];
  const widened: Uint8Array[] = [];
  const matrix = (heap: Heap, name: string, cols: number, rows: number): WeightMatrix => {
    expectDims(src, name, [cols, rows]);
    const type = heapType(src, name, widen);
    const rb = rowBytes(type, cols);
    const ptr = heap.alloc(rb * rows, ALIGN);
    if (type === src.type(name)) reads.push({ name, dest: heap.u8(ptr, rb * rows) });
    else {
      // Q5_0 read into the end of the Q8_0-sized block, widened in place from the front once read
      const fileBytes = rowBytes(src.type(name), cols) * rows;
      reads.push({ name, dest: heap.u8(ptr + rb * rows - fileBytes, fileBytes) });
      widened.push(heap.u8(ptr, rb * rows));
    }
    bytes += rb * rows;
    return { ptr, type, rows, cols, rowBytes: rb };
  };
  const vector = (heap: Heap, name: string, n: number): number => {
    expectDims(src, name, [n]);
    const type = src.type(name);
    const rb = rowBytes(type, n);
    const raw = new Uint8Array(rb);
    src.readInto(name, raw);
    const ptr = heap.alloc(n * 4, ALIGN);
    dequantizeRow(type, raw, 0, heap.f32(ptr, n), 0, n);
    bytes += n * 4;
    return ptr;
  };
  const { dim, vocabSize } = cfg;
  const last = hs[hs.length - 1];
  const tokenEmbd = matrix(hs[plan.embed], "token_embd.weight", dim, vocabSize);
  const layers: LayerWeights[] = [];
  plan.layers.forEach(({ first, end }, s) => {
    if (first !== layers.length || end < first)
      throw new Error(`loadWeights: shard ${s} holds layers [${first}, ${end}), expected them to start at ${layers.length}`);
    for (let l = first; l < end; l++) {
      const L: Partial<Record<keyof LayerWeights, number | WeightMatrix>> = {};
      for (const [field, name, dims] of layerTensors(cfg, l)) {
        L[field] = dims.length === 1 ? vector(hs[s], name, dims[0]) : matrix(hs[s], name, dims[0], dims[1]);
      }
      layers.push(L as unknown as LayerWeights);
    }
  });
  if (layers.length !== cfg.nLayers) throw new Error(`loadWeights: the shard plan covers ${layers.length} of ${cfg.nLayers} layers`);
  const outputNorm = vector(last, "output_norm.weight", dim);
  if (tiedOutput(src) && hs[plan.embed] !== last) throw new Error("loadWeights: a tied embedding/output matrix must be in the last shard");
  const output = tiedOutput(src) ? tokenEmbd : matrix(last, "output.weight", dim, vocabSize);
  if (src.readAllInto) src.readAllInto(reads, threads);
  else for (const r of reads) src.readInto(r.name, r.dest);
  for (const w of widened) widenQ5_0InPlace(w, w.length / 34);
  return { tokenEmbd, outputNorm, output, layers, plan, bytes };
}

/** Bytes of weights read to decode one token with every FFN run. */
export function bytesPerToken(w: Weights): { total: number; ffnPerLayer: number[] } {
  let total = w.output.rowBytes * w.output.rows;
  const ffnPerLayer: number[] = [];
  for (const L of w.layers) {
    const ffn = [L.w1, L.w2, L.w3].reduce((s, m) => s + m.rowBytes * m.rows, 0);
    const attn = [L.wq, L.wk, L.wv, L.wo].reduce((s, m) => s + m.rowBytes * m.rows, 0);
    ffnPerLayer.push(ffn);
    total += ffn + attn;
  }
  return { total, ffnPerLayer };
}
