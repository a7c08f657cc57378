/**
 * A Hugging Face model directory (config.json, model.safetensors or a sharded
 * model.safetensors.index.json, tokenizer.json, tokenizer_config.json) seen
 * the way the rest of the engine sees a GGUF file: tensors under GGUF names in
 * ggml dimension order, and a GGUF-style metadata record (architecture,
 * hyper-parameters, chat template).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ggmlTypeOf, openSafetensors, readSafetensor, type SafetensorsFile, type SafetensorsTensor } from "../safetensors/reader.js";
import { tokenizerFromHF, type HFTokenizer } from "../tokenizer/hf/tokenizer.js";
import { rowBytes } from "../quant/types.js";
import type { TensorSource } from "./weights.js";

/** config.json model_type values the forward pass runs (both are the LLaMA graph). */
export const SUPPORTED_HF_MODEL_TYPES = ["llama", "mistral"] as const;

type Json = Record<string, unknown>;

// HF per-layer suffix -> GGUF per-layer suffix
const LAYER_NAMES: Record<string, string> = {
  "input_layernorm.weight": "attn_norm.weight",
  "self_attn.q_proj.weight": "attn_q.weight",
  "self_attn.k_proj.weight": "attn_k.weight",
  "self_attn.v_proj.weight": "attn_v.weight",
  "self_attn.o_proj.weight": "attn_output.weight",
  "post_attention_layernorm.weight": "ffn_norm.weight",
  "mlp.gate_proj.weight": "ffn_gate.weight",
  "mlp.up_proj.weight": "ffn_up.weight",
  "mlp.down_proj.weight": "ffn_down.weight",
};
const GLOBAL_NAMES: Record<string, string> = {
  "model.embed_tokens.weight": "token_embd.weight",
  "model.norm.weight": "output_norm.weight",
  "lm_head.weight": "output.weight",
};

/** GGUF name of an HF LLaMA tensor name, or null for tensors the engine does not use (rotary buffers etc.). */
export function ggufName(hf: string): string | null {
  if (hf in GLOBAL_NAMES) return GLOBAL_NAMES[hf];
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(hf);
  if (m && m[2] in LAYER_NAMES) return `blk.${m[1]}.${LAYER_NAMES[m[2]]}`;
  return null;
}

function readJson(path: string): Json {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Json;
  } catch (e) {
    throw new Error(`${path}: cannot read JSON (${(e as Error).message})`);
  }
}

/** Tensors of one or more safetensors files under GGUF names. */
export class HFTensorSource implements TensorSource {
  private readonly byName = new Map<string, { file: SafetensorsFile; t: SafetensorsTensor }>();
  readonly fileBytes: number;
  constructor(
    readonly name: string,
    files: SafetensorsFile[],
    tied: boolean,
  ) {
    let bytes = 0;
    for (const f of files) {
      bytes += f.fileSize;
      for (const t of f.tensors.values()) {
        const g = ggufName(t.name);
        if (g !== null) this.byName.set(g, { file: f, t });
      }
    }
    // tied embeddings are often saved once, under either name (transformers dedupes shared tensors)
    const out = this.byName.get("output.weight");
    if (tied && out && !this.byName.has("token_embd.weight")) this.byName.set("token_embd.weight", out);
    // and the engine ties by having no output matrix, as GGUF files do
    if (tied) this.byName.delete("output.weight");
    this.fileBytes = bytes;
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  private get(name: string) {
    const e = this.byName.get(name);
    if (!e) throw new Error(`${this.name}: missing tensor ${name}`);
    return e;
  }
  dims(name: string): number[] {
    // row-major [rows, cols] -> ggml [cols, rows]
    return [...this.get(name).t.shape].reverse();
  }
  type(name: string) {
    const e = this.get(name);
    return ggmlTypeOf(e.file, e.t);
  }
  readInto(name: string, dest: Uint8Array): void {
    const e = this.get(name);
    readSafetensor(e.file, e.t, dest);
  }
}

/** GGUF-style metadata for a config.json (the keys configFromMetadata and the engine read). */
export function metadataFromHFConfig(cfg: Json, dir: string, chatTemplate: string | null): Json {
  const type = String(cfg.model_type ?? "");
  if (!(SUPPORTED_HF_MODEL_TYPES as readonly string[]).includes(type)) {
    throw new Error(
      `${dir}: unsupported model_type "${type || "(none)"}" in config.json; supported: ${SUPPORTED_HF_MODEL_TYPES.join(", ")}`,
    );
  }
  const need = (k: string): number => {
    const v = cfg[k];
    if (typeof v !== "number") throw new Error(`${dir}/config.json: missing or non-numeric "${k}"`);
    return v;
  };
  const act = cfg.hidden_act ?? cfg.hidden_activation ?? "silu";
  if (act !== "silu") throw new Error(`${dir}/config.json: hidden_act "${act}" is not supported; supported: silu`);
  if (cfg.attention_bias === true || cfg.mlp_bias === true) throw new Error(`${dir}/config.json: attention/MLP biases are not supported`);
  const rs = cfg.rope_scaling as Json | null | undefined;
  if (rs && (rs.rope_type ?? rs.type) !== "default") {
    throw new Error(`${dir}/config.json: rope_scaling ${JSON.stringify(rs)} is not supported; supported: none`);
  }
  const dim = need("hidden_size"),
    heads = need("num_attention_heads");
  let ctx = need("max_position_embeddings");
  // Mistral's sliding window: the dense attention here is exact up to the window
  if (typeof cfg.sliding_window === "number" && cfg.sliding_window < ctx) ctx = cfg.sliding_window;
  const a = "llama";
  const md: Json = {
    "general.architecture": a,
    "general.name": String(cfg._name_or_path ?? dir),
    "general.source": "huggingface",
    [`${a}.block_count`]: need("num_hidden_layers"),
    [`${a}.context_length`]: ctx,
    [`${a}.embedding_length`]: dim,
    [`${a}.feed_forward_length`]: need("intermediate_size"),
    [`${a}.attention.head_count`]: heads,
    [`${a}.attention.head_count_kv`]: typeof cfg.num_key_value_heads === "number" ? cfg.num_key_value_heads : heads,
    [`${a}.attention.key_length`]: typeof cfg.head_dim === "number" ? cfg.head_dim : dim / heads,
    [`${a}.rope.freq_base`]: typeof cfg.rope_theta === "number" ? cfg.rope_theta : 10000,
    [`${a}.attention.layer_norm_rms_epsilon`]: typeof cfg.rms_norm_eps === "number" ? cfg.rms_norm_eps : 1e-6,
    [`${a}.vocab_size`]: need("vocab_size"),
  };
  if (chatTemplate !== null) md["tokenizer.chat_template"] = chatTemplate;
  return md;
}

export interface HFDirectory {
  source: HFTensorSource;
  metadata: Json;
  tokenizer: HFTokenizer;
}

/** Open a Hugging Face model directory; throws naming what is missing or unsupported. */
export function openHFDirectory(dir: string): HFDirectory {
  const p = (f: string) => join(dir, f);
  const single = p("model.safetensors"),
    index = p("model.safetensors.index.json");
  const missing: string[] = [];
  if (!existsSync(p("config.json"))) missing.push("config.json");
  if (!existsSync(single) && !existsSync(index)) missing.push("model.safetensors (or model.safetensors.index.json)");
  if (!existsSync(p("tokenizer.json"))) missing.push("tokenizer.json");
  if (missing.length) throw new Error(`${dir}: incomplete Hugging Face model directory: missing ${missing.join(", ")}`);

  const cfg = readJson(p("config.json"));
  const tokCfg = existsSync(p("tokenizer_config.json")) ? readJson(p("tokenizer_config.json")) : null;
  const tokenizer = tokenizerFromHF(readJson(p("tokenizer.json")), tokCfg, cfg, p("tokenizer.json"));
  const metadata = metadataFromHFConfig(cfg, dir, tokenizer.chatTemplate);

  let files: SafetensorsFile[];
  if (existsSync(single)) files = [openSafetensors(single)];
  else {
    const map = readJson(index).weight_map as Record<string, string> | undefined;
    if (!map || typeof map !== "object") throw new Error(`${index}: no "weight_map"`);
    const shards = [...new Set(Object.values(map))];
    const gone = shards.filter((s) => !existsSync(p(s)));
    if (gone.length)
      throw new Error(
        `${dir}: incomplete Hugging Face model directory: missing shard ${gone.join(", ")} listed in model.safetensors.index.json`,
      );
    files = shards.map((s) => openSafetensors(p(s)));
  }
  // transformers' default for LLaMA is untied
  const tied = cfg.tie_word_embeddings === true;
  const source = new HFTensorSource(dir, files, tied);
  if (!tied && !source.has("output.weight"))
    throw new Error(`${dir}: config.json says tie_word_embeddings is false but there is no lm_head.weight`);
  return { source, metadata, tokenizer };
}

/** What `ffnskip inspect` shows for a directory: the GGUF-style metadata and the tensors under GGUF names. */
export function describeHFDirectory(dir: string) {
  const hf = openHFDirectory(dir);
  const names = Object.values(GLOBAL_NAMES).concat(
    Array.from({ length: Number(hf.metadata["llama.block_count"]) }, (_, l) =>
      Object.values(LAYER_NAMES).map((n) => `blk.${l}.${n}`),
    ).flat(),
  );
  const tensors = names
    .filter((n) => hf.source.has(n))
    .map((name) => {
      const dims = hf.source.dims(name);
      const type = hf.source.type(name);
      return { name, type, dims, nbytes: rowBytes(type, dims[0]) * dims.slice(1).reduce((a, b) => a * b, 1) };
    });
  return {
    version: "safetensors",
    fileSize: hf.source.fileBytes,
    architecture: String(hf.metadata["general.architecture"]),
    metadata: hf.metadata,
    tensors,
  };
}
