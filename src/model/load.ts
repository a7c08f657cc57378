/**
 * Loading: file → config, tokenizer, kernels, weights in the heap, model.
 */
import { createKernels, type KernelOptions } from "../kernels/index.js";
import { tokenizerFromGGUFMetadata } from "../tokenizer/index.js";
import type { Tokenizer } from "../tokenizer/types.js";
import { configFromMetadata, type ModelConfig } from "./config.js";
import { GGUFTensorSource } from "./gguf-source.js";
import { Model } from "./model.js";
import { loadWeights } from "./weights.js";

export interface LoadOptions extends KernelOptions {
  /** context length; default and maximum: the model's trained context */
  ctx?: number;
  /** most prompt tokens per forward call */
  batchSize?: number;
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

export async function loadGGUFModel(path: string, opts: LoadOptions = {}): Promise<Loaded> {
  const t0 = performance.now();
  const src = GGUFTensorSource.open(path);
  const md = src.file.metadata as Record<string, unknown>;
  const config = configFromMetadata(md, path);
  const tokenizer = tokenizerFromGGUFMetadata(md);
  const ctx = opts.ctx ?? config.ctxTrain;
  if (!Number.isInteger(ctx) || ctx < 1 || ctx > config.ctxTrain) {
    throw new RangeError(`context length must be an integer in [1, ${config.ctxTrain}] for ${path}, got ${opts.ctx}`);
  }
  const kernels = await createKernels(opts);
  try {
    const weights = loadWeights(src, config, kernels.heap);
    const model = new Model(config, weights, kernels, ctx, opts.batchSize);
    return { model, tokenizer, config, metadata: md, path, fileBytes: src.file.fileSize, loadMs: performance.now() - t0 };
  } catch (e) {
    await kernels.dispose();
    throw e;
  }
}
