/**
 * Random-weight LLaMA GGUFs of real model shapes, for measuring speed and
 * memory at sizes we cannot download. The weights are noise, but chosen so a
 * forward pass stays finite and non-degenerate through 40 layers:
 *   - every matrix row has std ≈ 1/sqrt(row length), so W·x keeps x's rms
 *     when x has rms 1 (as after RMSNorm), and no block has a mean offset
 *     (a shared offset would add the same rank-1 term to every layer);
 *   - norm weights are 1.
 * Quant bits come from a seeded xorshift128 stream per tensor (deterministic
 * per seed); block scales (f16) are then set to give the target std.
 *
 * Type mixes follow llama.cpp's llama_tensor_get_type for a non-imatrix
 * quantization of a LLaMA model (src/llama-quant.cpp):
 *   - norms stay F32; token_embd.weight gets the base type;
 *   - output.weight becomes Q6_K for every quantized type except Q8_0 (which
 *     keeps Q8_0); F16 keeps F16 everywhere (llama.cpp does not re-type F16);
 *   - Q4_K_M / Q5_K_M (base Q4_K / Q5_K): attn_v.weight and ffn_down.weight
 *     become Q6_K in layers where use_more_bits(i, n) holds:
 *     i < n/8 || i >= 7n/8 || (i - n/8) % 3 == 2.
 */
import { GGMLType, TYPE_INFO } from "../quant/types.js";
import { f32ToF16 } from "../quant/f16.js";
import { GGUFValueType, type GGUFValue } from "../gguf/reader.js";
import { typed, type GGUFStreamSpec, type MetadataInput, type RowFiller, type TensorHeader } from "../gguf/writer.js";
import { mulberry32 } from "../util/rng.js";
import { ffnskipHome } from "./pull.js";
import { join } from "node:path";

/** A LLaMA-architecture shape. */
export interface SynthShape {
  nLayers: number;
  dim: number;
  ffnDim: number;
  nHeads: number;
  nKvHeads: number;
  ropeBase: number;
  ctxTrain: number;
}

export const SHAPES: Record<string, SynthShape> = {
  "tinyllama-1.1b": { nLayers: 22, dim: 2048, ffnDim: 5632, nHeads: 32, nKvHeads: 4, ropeBase: 10000, ctxTrain: 2048 },
  "llama2-7b": { nLayers: 32, dim: 4096, ffnDim: 11008, nHeads: 32, nKvHeads: 32, ropeBase: 10000, ctxTrain: 4096 },
  "llama2-13b": { nLayers: 40, dim: 5120, ffnDim: 13824, nHeads: 40, nKvHeads: 40, ropeBase: 10000, ctxTrain: 4096 },
  "llama3-8b": { nLayers: 32, dim: 4096, ffnDim: 14336, nHeads: 32, nKvHeads: 8, ropeBase: 500000, ctxTrain: 8192 },
};

/** File types: the base tensor type and llama.cpp's general.file_type (llama_ftype). */
export const SYNTH_TYPES: Record<string, { base: GGMLType; ftype: number }> = {
  F16: { base: GGMLType.F16, ftype: 1 },
  Q4_0: { base: GGMLType.Q4_0, ftype: 2 },
  Q4_1: { base: GGMLType.Q4_1, ftype: 3 },
  Q8_0: { base: GGMLType.Q8_0, ftype: 7 },
  Q5_0: { base: GGMLType.Q5_0, ftype: 8 },
  Q5_1: { base: GGMLType.Q5_1, ftype: 9 },
  Q4_K_M: { base: GGMLType.Q4_K, ftype: 15 },
  Q5_K_M: { base: GGMLType.Q5_K, ftype: 17 },
  Q6_K: { base: GGMLType.Q6_K, ftype: 18 },
};

function lookup<T>(table: Record<string, T>, key: string, what: string): T {
  const v = table[key];
  if (!v) throw new Error(`unknown ${what} '${key}'; supported: ${Object.keys(table).join(", ")}`);
  return v;
}

/** llama.cpp's rule for which layers of a _M mix get more bits. */
export function useMoreBits(i: number, n: number): boolean {
  const e = Math.trunc(n / 8);
  return i < e || i >= Math.trunc((7 * n) / 8) || (i - e) % 3 === 2;
}

/** A shape by name (SHAPES) or given directly (tests use tiny ones). */
function shapeOf(shape: string | SynthShape): SynthShape {
  return typeof shape === "string" ? lookup(SHAPES, shape, "shape") : shape;
}

/** Tensor names, dims (ggml order) and types of `shape` in file type `typeName`. */
export function tensorPlan(shape: string | SynthShape, typeName: string, vocab: number): TensorHeader[] {
  const s = shapeOf(shape);
  const { base } = lookup(SYNTH_TYPES, typeName, "type");
  const mix = typeName.endsWith("_M");
  const hd = s.dim / s.nHeads;
  const out: TensorHeader[] = [];
  const t = (name: string, dims: number[], type: GGMLType) => out.push({ name, dims, type });
  t("token_embd.weight", [s.dim, vocab], base);
  for (let l = 0; l < s.nLayers; l++) {
    const p = `blk.${l}.`;
    const more = mix && useMoreBits(l, s.nLayers) ? GGMLType.Q6_K : base;
    t(p + "attn_norm.weight", [s.dim], GGMLType.F32);
    t(p + "attn_q.weight", [s.dim, s.nHeads * hd], base);
    t(p + "attn_k.weight", [s.dim, s.nKvHeads * hd], base);
    t(p + "attn_v.weight", [s.dim, s.nKvHeads * hd], more);
    t(p + "attn_output.weight", [s.nHeads * hd, s.dim], base);
    t(p + "ffn_norm.weight", [s.dim], GGMLType.F32);
    t(p + "ffn_gate.weight", [s.dim, s.ffnDim], base);
    t(p + "ffn_up.weight", [s.dim, s.ffnDim], base);
    t(p + "ffn_down.weight", [s.ffnDim, s.dim], more);
  }
  t("output_norm.weight", [s.dim], GGMLType.F32);
  t("output.weight", [s.dim, vocab], base === GGMLType.F16 || base === GGMLType.Q8_0 ? base : GGMLType.Q6_K);
  return out;
}

/**
 * The GGUF spec (metadata + tensor infos) of a synthetic model. `tokenizer`
 * holds the tokenizer.* metadata of a real model; its vocabulary size sets
 * the embedding and output shapes.
 */
export function synthSpec(shape: string | SynthShape, typeName: string, tokenizer: Record<string, GGUFValue>): GGUFStreamSpec {
  const s = shapeOf(shape);
  const shapeName = typeof shape === "string" ? shape : `${s.nLayers}x${s.dim}`;
  const { ftype } = lookup(SYNTH_TYPES, typeName, "type");
  const tokens = tokenizer["tokenizer.ggml.tokens"];
  if (!Array.isArray(tokens)) throw new Error("synthSpec: the tokenizer metadata has no tokenizer.ggml.tokens");
  const f32 = (x: number) => typed(GGUFValueType.FLOAT32, x);
  const metadata: Record<string, MetadataInput> = {
    "general.architecture": "llama",
    "general.name": `synthetic ${shapeName} ${typeName} (random weights)`,
    "general.file_type": ftype,
    "general.quantization_version": 2,
    "llama.vocab_size": tokens.length,
    "llama.context_length": s.ctxTrain,
    "llama.embedding_length": s.dim,
    "llama.block_count": s.nLayers,
    "llama.feed_forward_length": s.ffnDim,
    "llama.rope.dimension_count": s.dim / s.nHeads,
    "llama.attention.head_count": s.nHeads,
    "llama.attention.head_count_kv": s.nKvHeads,
    "llama.attention.layer_norm_rms_epsilon": f32(1e-5),
    "llama.rope.freq_base": f32(s.ropeBase),
  };
  for (const [k, v] of Object.entries(tokenizer)) if (k.startsWith("tokenizer.")) metadata[k] = v;
  return { metadata, tensors: tensorPlan(s, typeName, tokens.length) };
}

/**
 * Where the f16 scales sit in a block and what they must be. With quant
 * levels q uniform over `levels` values and x = d·(q − center) (+ a min that
 * cancels the mean), E[x²] = d²·E[(q − center)²], so d = std / sqrt(E[(q − center)²]).
 *   signed: no min field, so d gets a random sign per block to cancel the
 *           mean offset (levels−1)/2 − center (−d/2 for Q4_0, Q5_0, Q8_0, Q6_K).
 *   minAt/minRatio: a min field set to minRatio·d that cancels the mean.
 */
interface BlockRecipe {
  levels: number;
  center: number;
  dAt: number;
  signed: boolean;
  minAt?: number;
  minRatio?: number;
  /** fixed bytes (sub-block scales) at an offset */
  fixed?: { at: number; bytes: number[] };
}

// Q4_K/Q5_K sub-block scales: all eight 6-bit scales and mins = 1 in the 12-byte packing
// (bytes 0-3 scale j, 4-7 min j for j < 4, bytes 8-11 low nibbles scale / high nibbles min for j ≥ 4).
const K_SCALES_ONE = [1, 1, 1, 1, 1, 1, 1, 1, 0x11, 0x11, 0x11, 0x11];

const RECIPES: Partial<Record<GGMLType, BlockRecipe>> = {
  [GGMLType.Q4_0]: { levels: 16, center: 8, dAt: 0, signed: true },
  [GGMLType.Q4_1]: { levels: 16, center: 7.5, dAt: 0, signed: false, minAt: 2, minRatio: -7.5 },
  [GGMLType.Q5_0]: { levels: 32, center: 16, dAt: 0, signed: true },
  [GGMLType.Q5_1]: { levels: 32, center: 15.5, dAt: 0, signed: false, minAt: 2, minRatio: -15.5 },
  [GGMLType.Q8_0]: { levels: 256, center: 128, dAt: 0, signed: true }, // int8 q = u8 − 128
  // x = d·1·q − dmin·1: dmin = +7.5·d (the formula subtracts it)
  [GGMLType.Q4_K]: { levels: 16, center: 7.5, dAt: 0, signed: false, minAt: 2, minRatio: 7.5, fixed: { at: 4, bytes: K_SCALES_ONE } },
  [GGMLType.Q5_K]: { levels: 32, center: 15.5, dAt: 0, signed: false, minAt: 2, minRatio: 15.5, fixed: { at: 4, bytes: K_SCALES_ONE } },
  [GGMLType.Q6_K]: { levels: 64, center: 32, dAt: 208, signed: true, fixed: { at: 192, bytes: new Array(16).fill(1) } },
};

/** E[(q − center)²] for q uniform over 0..levels−1. */
function secondMoment(levels: number, center: number): number {
  const mean = (levels - 1) / 2;
  return (levels * levels - 1) / 12 + (mean - center) ** 2;
}

/**
 * xorshift128 (Marsaglia): fast, 2^128 − 1 period, seeded per tensor. A byte
 * stream: the bytes do not depend on how the caller splits its requests.
 */
class XorShift128 {
  private x: number;
  private y: number;
  private z: number;
  private w: number;
  /** bytes of the last word not handed out yet */
  private rest = new Uint8Array(0);
  constructor(seed: number) {
    const r = mulberry32(seed);
    const u = () => (r() * 4294967296) >>> 0;
    this.x = u();
    this.y = u();
    this.z = u();
    this.w = u() | 1;
  }
  private words(dst: Uint32Array): void {
    let { x, y, z, w } = this;
    for (let i = 0; i < dst.length; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      dst[i] = w;
    }
    this.x = x;
    this.y = y;
    this.z = z;
    this.w = w;
  }
  fill(dest: Uint8Array): void {
    const head = Math.min(this.rest.length, dest.length);
    dest.set(this.rest.subarray(0, head));
    this.rest = this.rest.subarray(head);
    const body = dest.subarray(head);
    const n = body.length >>> 2;
    if (body.byteOffset % 4 === 0) this.words(new Uint32Array(body.buffer, body.byteOffset, n));
    else {
      const u = new Uint32Array(n);
      this.words(u);
      body.set(new Uint8Array(u.buffer));
    }
    if (body.length % 4 !== 0) {
      const last = new Uint32Array(1);
      this.words(last);
      const b = new Uint8Array(last.buffer);
      const k = body.length % 4;
      body.set(b.subarray(0, k), 4 * n);
      this.rest = b.slice(k);
    }
  }
}

/** Fills one tensor's rows, continuing its random stream from call to call. */
type TensorFill = (dest: Uint8Array) => void;

function tensorFill(t: TensorHeader, seed: number): TensorFill {
  if (t.type === GGMLType.F32) {
    return (dest) => new Float32Array(dest.buffer, dest.byteOffset, dest.length / 4).fill(1); // norm weights
  }
  const rng = new XorShift128(seed);
  const std = 1 / Math.sqrt(t.dims[0]);
  if (t.type === GGMLType.F16) {
    // 65536 f16 values uniform on [−a, a] with std a/√3 = std, indexed by 16 random bits
    const a = std * Math.sqrt(3);
    const table = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) table[i] = f32ToF16((((i + 0.5) / 65536) * 2 - 1) * a);
    return (dest) => {
      rng.fill(dest);
      const h = new Uint16Array(dest.buffer, dest.byteOffset, dest.length >>> 1);
      for (let i = 0; i < h.length; i++) h[i] = table[h[i]];
    };
  }
  const rc = RECIPES[t.type as GGMLType];
  if (!rc) throw new Error(`synthetic weights: no recipe for type ${TYPE_INFO[t.type as GGMLType]?.name ?? t.type}`);
  const bs = TYPE_INFO[t.type as GGMLType]!.typeSize;
  const d = std / Math.sqrt(secondMoment(rc.levels, rc.center));
  const dPos = f32ToF16(d),
    dNeg = f32ToF16(-d);
  const mBits = rc.minAt === undefined ? 0 : f32ToF16(rc.minRatio! * d);
  const fixed = rc.fixed;
  return (dest) => {
    rng.fill(dest);
    for (let o = 0; o < dest.length; o += bs) {
      // a random bit already in the block (the f16's sign bit position) picks d's sign
      const h = rc.signed && dest[o + rc.dAt + 1] & 0x80 ? dNeg : dPos;
      dest[o + rc.dAt] = h & 0xff;
      dest[o + rc.dAt + 1] = h >>> 8;
      if (rc.minAt !== undefined) {
        dest[o + rc.minAt] = mBits & 0xff;
        dest[o + rc.minAt + 1] = mBits >>> 8;
      }
      if (fixed) for (let k = 0; k < fixed.bytes.length; k++) dest[o + fixed.at + k] = fixed.bytes[k];
    }
  };
}

/**
 * A RowFiller for writeGGUFStreaming that produces random weights for the
 * tensors of `spec`, deterministic per `seed` (each tensor has its own stream,
 * restarted when its row 0 is asked for; rows must be asked for in order).
 */
export function randomWeights(spec: GGUFStreamSpec, seed: number): RowFiller {
  const fills = new Map<number, TensorFill>();
  return (index, row0, _nRows, dest) => {
    if (row0 === 0 || !fills.has(index)) fills.set(index, tensorFill(spec.tensors[index], (seed * 1000003 + index) >>> 0));
    fills.get(index)!(dest);
  };
}

/** Where the synthetic file for `shape` × `type` lives: $FFNSKIP_HOME/synthetic/<shape>-<type>.gguf. */
export function synthPath(shapeName: string, typeName: string, home?: string): string {
  return join(ffnskipHome(home), "synthetic", `${shapeName}-${typeName}.gguf`);
}
