/**
 * Model hyper-parameters, read from GGUF metadata. Everything the forward
 * pass needs to size its buffers comes from here.
 */
export type RopeStyle = "norm" | "neox";

export interface ModelConfig {
  arch: string;
  nLayers: number;
  dim: number;
  ffnDim: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  vocabSize: number;
  /** context length the model was trained with */
  ctxTrain: number;
  ropeBase: number;
  /** rotary dimensions per head (≤ headDim) */
  ropeDim: number;
  /** "norm" rotates adjacent pairs (llama GGUF), "neox" rotates the two halves */
  ropeStyle: RopeStyle;
  normEps: number;
  // --- Gemma 3 (all optional: absent means the plain LLaMA block) ---
  /** the embedding row is multiplied by this (Gemma: √dim) */
  embedScale?: number;
  /** FFN gate activation: "silu" (SwiGLU, default) or "gelu" (GeGLU, tanh approximation) */
  ffnAct?: "silu" | "gelu";
  /** local layers attend to at most this many most recent positions (0 = none) */
  slidingWindow?: number;
  /** every swaPattern-th layer (l + 1 ≡ 0) is global, the others local (0 = all global) */
  swaPattern?: number;
  /** RoPE base of the local (sliding-window) layers */
  ropeBaseLocal?: number;
}

/** Architectures the forward pass implements. */
export const SUPPORTED_ARCHS = ["llama", "gemma3"] as const;

/** True when layer l of a sliding-window model attends locally. */
export function isLocalLayer(c: ModelConfig, l: number): boolean {
  return !!c.slidingWindow && !!c.swaPattern && (l + 1) % c.swaPattern !== 0;
}

type Metadata = Record<string, unknown>;

function num(md: Metadata, key: string, fallback?: number): number {
  const v = md[key];
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  if (fallback !== undefined) return fallback;
  throw new Error(`missing metadata key ${key}`);
}

/** Build the config for `arch` from GGUF metadata, or throw naming what is supported. */
export function configFromMetadata(md: Metadata, source: string): ModelConfig {
  const arch = String(md["general.architecture"] ?? "");
  if (!(SUPPORTED_ARCHS as readonly string[]).includes(arch)) {
    throw new Error(`${source}: unsupported architecture "${arch || "(none)"}"; supported: ${SUPPORTED_ARCHS.join(", ")}`);
  }
  const p = (k: string, fb?: number) => num(md, `${arch}.${k}`, fb);
  const dim = p("embedding_length");
  const nHeads = p("attention.head_count");
  const headDim = p("attention.key_length", dim / nHeads);
  const tokens = md["tokenizer.ggml.tokens"] as { length: number } | undefined;
  const base: ModelConfig = {
    arch,
    nLayers: p("block_count"),
    dim,
    ffnDim: p("feed_forward_length"),
    nHeads,
    nKvHeads: p("attention.head_count_kv", nHeads),
    headDim,
    vocabSize: p("vocab_size", tokens?.length ?? 0),
    ctxTrain: p("context_length"),
    ropeBase: p("rope.freq_base", 10000),
    ropeDim: p("rope.dimension_count", headDim),
    // GGUF llama files were permuted to adjacent pairs; Hugging Face weights were not
    ropeStyle: md["general.source"] === "huggingface" ? "neox" : "norm",
    normEps: p("attention.layer_norm_rms_epsilon", 1e-5),
  };
  if (arch !== "gemma3") return base;
  // Gemma 3, as llama.cpp runs it: NEOX rope, √dim-scaled embeddings, GeGLU,
  // 5 local (sliding-window, rope base 10000) layers to every global one
  return {
    ...base,
    ropeStyle: "neox",
    embedScale: Math.sqrt(dim),
    ffnAct: "gelu",
    slidingWindow: p("attention.sliding_window"),
    swaPattern: 6,
    ropeBaseLocal: 10000,
  };
}
