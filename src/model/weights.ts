/**
 * Weights: every tensor the forward pass reads, copied once into the
 * kernels' heap at load time. Matrices stay in their file's quantized form
 * (the kernels dequantize on the fly); norm vectors become f32.
 */
import type { GGMLType } from "../quant/types.js";
import { rowBytes } from "../quant/types.js";
import { dequantizeRow } from "../quant/dequant.js";
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
  /** total bytes of all weights in the heap */
  bytes: number;
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

export function loadWeights(src: TensorSource, cfg: ModelConfig, heap: Heap): Weights {
  let bytes = 0;
  const matrix = (name: string, cols: number, rows: number): WeightMatrix => {
    expectDims(src, name, [cols, rows]);
    const type = src.type(name);
    const rb = rowBytes(type, cols);
    const ptr = heap.alloc(rb * rows);
    src.readInto(name, heap.u8(ptr, rb * rows));
    bytes += rb * rows;
    return { ptr, type, rows, cols, rowBytes: rb };
  };
  const vector = (name: string, n: number): number => {
    expectDims(src, name, [n]);
    const type = src.type(name);
    const rb = rowBytes(type, n);
    const raw = new Uint8Array(rb);
    src.readInto(name, raw);
    const ptr = heap.alloc(n * 4);
    dequantizeRow(type, raw, 0, heap.f32(ptr, n), 0, n);
    bytes += n * 4;
    return ptr;
  };
  const { dim, ffnDim, nHeads, nKvHeads, headDim, vocabSize } = cfg;
  const kvDim = nKvHeads * headDim;
  const tokenEmbd = matrix("token_embd.weight", dim, vocabSize);
  const layers: LayerWeights[] = [];
  // Gemma 3's extra norms are required there, absent elsewhere
  const gemma = cfg.arch === "gemma3";
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `blk.${l}.`;
    const extra = gemma ? {
      attnQNorm: vector(p + "attn_q_norm.weight", headDim),
      attnKNorm: vector(p + "attn_k_norm.weight", headDim),
      postAttnNorm: vector(p + "post_attention_norm.weight", dim),
      postFfnNorm: vector(p + "post_ffw_norm.weight", dim),
    } : {};
    layers.push({
      ...extra,
      attnNorm: vector(p + "attn_norm.weight", dim),
      wq: matrix(p + "attn_q.weight", dim, nHeads * headDim),
      wk: matrix(p + "attn_k.weight", dim, kvDim),
      wv: matrix(p + "attn_v.weight", dim, kvDim),
      wo: matrix(p + "attn_output.weight", nHeads * headDim, dim),
      ffnNorm: vector(p + "ffn_norm.weight", dim),
      w1: matrix(p + "ffn_gate.weight", dim, ffnDim),
      w2: matrix(p + "ffn_down.weight", ffnDim, dim),
      w3: matrix(p + "ffn_up.weight", dim, ffnDim),
    });
  }
  const outputNorm = vector("output_norm.weight", dim);
  const output = src.has("output.weight") ? matrix("output.weight", dim, vocabSize) : tokenEmbd;
  return { tokenEmbd, outputNorm, output, layers, bytes };
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
