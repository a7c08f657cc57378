/**
 * Loading: file → config, tokenizer, kernels, weights in the heap, model.
 */
import { statSync } from "node:fs";
import { createKernels, defaultThreads, type KernelOptions } from "../kernels/index.js";
import { kvBytes, type KVType } from "../kernels/types.js";
import { tokenizerFromGGUFMetadata } from "../tokenizer/index.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { configFromMetadata, type ModelConfig } from "./config.js";
import { GGUFTensorSource } from "./gguf-source.js";
import { openHFDirectory } from "./hf-source.js";
import { Model } from "./model.js";
import { loadWeights, type TensorSource } from "./weights.js";

export interface LoadOptions extends KernelOptions {
  /** context length; default and maximum: the model's trained context */
  ctx?: number;
  /** most prompt tokens per forward call */
  batchSize?: number;
  /** KV cache element type: "f16" (default, as llama.cpp) or "f32" */
  kvType?: KVType;
}

export interface Loaded {
  model: Model;
  tokenizer: Tokenizer;
  config: ModelConfig;
  metadata: Record<string, unknown>;
  path: string;
  fileBytes: number;
  loadMs: number;
}

/** Load a model from a .gguf file or a Hugging Face directory: the one place that dispatches on the path. */
export async function loadModelPath(path: string, opts: LoadOptions = {}): Promise<Loaded> {
  return statSync(path).isDirectory() ? loadHFModel(path, opts) : loadGGUFModel(path, opts);
}

export async function loadGGUFModel(path: string, opts: LoadOptions = {}): Promise<Loaded> {
  const t0 = performance.now();
  const src = GGUFTensorSource.open(path);
  const md = src.file.metadata as Record<string, unknown>;
  const config = configFromMetadata(md, path);
  const tokenizer = tokenizerFromGGUFMetadata(md);
  return build(src, config, tokenizer, md, path, src.file.fileSize, opts, t0);
}

/**
 * Load a Hugging Face directory (config.json, safetensors, tokenizer.json).
 * Its q/k projections are in the rotate-halves layout (GGUF llama files were
 * permuted to adjacent pairs by the converter), so it runs with NEOX rope.
 */
export async function loadHFModel(dir: string, opts: LoadOptions = {}): Promise<Loaded> {
  const t0 = performance.now();
  const hf = openHFDirectory(dir);
  const config: ModelConfig = { ...configFromMetadata(hf.metadata, dir), ropeStyle: "neox" };
  return build(hf.source, config, hf.tokenizer, hf.metadata, dir, hf.source.fileBytes, opts, t0);
}

async function build(
  src: TensorSource, config: ModelConfig, tokenizer: Tokenizer, md: Record<string, unknown>,
  path: string, fileBytes: number, opts: LoadOptions, t0: number,
): Promise<Loaded> {
  const ctx = opts.ctx ?? config.ctxTrain;
  if (!Number.isInteger(ctx) || ctx < 1 || ctx > config.ctxTrain) {
    throw new RangeError(`context length must be an integer in [1, ${config.ctxTrain}] for ${path}, got ${opts.ctx}`);
  }
  kvBytes(opts.kvType ?? "f16"); // a clear error for an unsupported type, before anything is allocated
  const kernels = await createKernels({ ...opts, threads: opts.threads ?? defaultThreads(fileBytes) });
  try {
    const weights = loadWeights(src, config, kernels.heap);
    const model = new Model(config, weights, kernels, ctx, opts.batchSize, opts.kvType);
    return { model, tokenizer, config, metadata: md, path, fileBytes, loadMs: performance.now() - t0 };
  } catch (e) {
    await kernels.dispose();
    throw e;
  }
}
