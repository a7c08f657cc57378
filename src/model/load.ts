/**
 * Loading: file → config, tokenizer, kernels, weights in the heap, model.
 */
import { statSync } from "node:fs";
import { createKernelGroup, defaultThreads, type KernelOptions } from "../kernels/index.js";
import { tokenizerFromGGUFMetadata } from "../tokenizer/index.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { configFromMetadata, type ModelConfig } from "./config.js";
import { GGUFTensorSource } from "./gguf-source.js";
import { openHFDirectory } from "./hf-source.js";
import { DEFAULT_BATCH, Model } from "./model.js";
import { planShards } from "./shard-plan.js";
import { loadWeights, type TensorSource } from "./weights.js";
import { kvBytes, type Kernels, type KVType } from "../kernels/types.js";

export interface LoadOptions extends KernelOptions {
  /** context length; default and maximum: the model's trained context */
  ctx?: number;
  /** most prompt tokens per forward call */
  batchSize?: number;
  /**
   * Heap bytes (weights, KV cache, activations) one wasm32 memory may hold
   * before the model is split over another (default and most: see shard-plan.ts).
   * Smaller values force more shards (tests).
   */
  maxShardBytes?: number;
  /** KV cache element type: "f16" (default, as llama.cpp) or "f32" */
  kvType?: KVType;
  /**
   * Sequences that may decode together in one batch: the KV cache holds this
   * many slots of ctx positions, shared with the single-sequence paths
   * (perplexity, prompt scoring) when they are free; default 1.
   */
  parallel?: number;
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
  return build(src, () => GGUFTensorSource.open(path), config, tokenizer, md, path, src.file.fileSize, opts, t0);
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
  return build(hf.source, () => openHFDirectory(dir).source, config, hf.tokenizer, hf.metadata, dir, hf.source.fileBytes, opts, t0);
}

async function build(
  src: TensorSource,
  reopen: () => TensorSource,
  config: ModelConfig,
  tokenizer: Tokenizer,
  md: Record<string, unknown>,
  path: string,
  fileBytes: number,
  opts: LoadOptions,
  t0: number,
): Promise<Loaded> {
  const ctx = opts.ctx ?? config.ctxTrain;
  if (!Number.isInteger(ctx) || ctx < 1 || ctx > config.ctxTrain) {
    throw new RangeError(`context length must be an integer in [1, ${config.ctxTrain}] for ${path}, got ${opts.ctx}`);
  }
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  kvBytes(opts.kvType ?? "f16"); // a clear error for an unsupported type, before anything is allocated
  const parallel = opts.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > batchSize) {
    throw new RangeError(`parallel sequences must be an integer in [1, ${batchSize}] (the batch size), got ${opts.parallel}`);
  }
  const slots = parallel;
  const plan = planShards(src, config, { ctx, batchSize, maxShardBytes: opts.maxShardBytes, kvType: opts.kvType, slots });
  // one memory (heap + kernels) per shard, one worker pool for all of them
  const kernels: Kernels[] = [];
  const threads = opts.threads ?? defaultThreads(fileBytes);
  try {
    kernels.push(...(await createKernelGroup(plan.layers.length, { ...opts, threads })));
    const weights = loadWeights(
      src,
      config,
      kernels.map((k) => k.heap),
      plan,
      threads, // the file is read on as many threads as will compute
    );
    const written = kernels.map((k) => k.heap.used); // every weight byte below was written by the read
    const model = new Model(config, weights, kernels, ctx, batchSize, opts.kvType, slots);
    model.tensorSource = reopen;
    kernels.forEach((k, i) => k.heap.prefault(written[i]));
    return { model, tokenizer, config, metadata: md, path, fileBytes, loadMs: performance.now() - t0 };
  } catch (e) {
    for (const k of kernels) await k.dispose();
    throw e;
  }
}
