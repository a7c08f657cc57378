/**
 * A tiny random LLaMA model held in memory (F32 tensors), for forward-pass
 * and policy tests that must not depend on downloaded files.
 */
import { GGMLType } from "../../src/quant/types.js";
import type { ModelConfig } from "../../src/model/config.js";
import type { TensorSource } from "../../src/model/weights.js";
import { loadWeights } from "../../src/model/weights.js";
import { Model } from "../../src/model/model.js";
import { planShards } from "../../src/model/shard-plan.js";
import { ReferenceKernels } from "../../src/kernels/reference.js";
import type { KVType } from "../../src/kernels/types.js";
import { mulberry32 } from "../../src/util/rng.js";

export const TINY: ModelConfig = {
  arch: "llama",
  nLayers: 6,
  dim: 64,
  ffnDim: 96,
  nHeads: 4,
  nKvHeads: 2,
  headDim: 16,
  vocabSize: 50,
  ctxTrain: 64,
  ropeBase: 10000,
  ropeDim: 16,
  ropeStyle: "norm",
  normEps: 1e-5,
};

export class MemorySource implements TensorSource {
  readonly name = "tiny-model";
  readonly tensors = new Map<string, { dims: number[]; data: Float32Array }>();
  has(n: string) {
    return this.tensors.has(n);
  }
  dims(n: string) {
    return this.tensors.get(n)!.dims;
  }
  type() {
    return GGMLType.F32;
  }
  readInto(n: string, dest: Uint8Array) {
    const d = this.tensors.get(n)!.data;
    dest.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
}

/** Random weights (seeded); `edit` may change tensors before loading. */
export function tinySource(seed = 1, cfg = TINY): MemorySource {
  const rand = mulberry32(seed);
  const src = new MemorySource();
  const t = (name: string, dims: number[], scale: number, base = 0) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = base + (rand() * 2 - 1) * scale;
    src.tensors.set(name, { dims, data });
  };
  const { dim, ffnDim, nHeads, nKvHeads, headDim, vocabSize } = cfg;
  t("token_embd.weight", [dim, vocabSize], 1);
  for (let l = 0; l < cfg.nLayers; l++) {
    const p = `blk.${l}.`;
    t(p + "attn_norm.weight", [dim], 0.1, 1);
    t(p + "attn_q.weight", [dim, nHeads * headDim], 0.2);
    t(p + "attn_k.weight", [dim, nKvHeads * headDim], 0.2);
    t(p + "attn_v.weight", [dim, nKvHeads * headDim], 0.2);
    t(p + "attn_output.weight", [nHeads * headDim, dim], 0.1);
    t(p + "ffn_norm.weight", [dim], 0.1, 1);
    t(p + "ffn_gate.weight", [dim, ffnDim], 0.2);
    t(p + "ffn_up.weight", [dim, ffnDim], 0.2);
    t(p + "ffn_down.weight", [ffnDim, dim], 0.1);
  }
  t("output_norm.weight", [dim], 0.1, 1);
  return src;
}

export function tinyModel(src: TensorSource = tinySource(), ctx = 64, batchSize = 16, cfg = TINY, kvType: KVType = "f16"): Model {
  const kernels = new ReferenceKernels();
  return new Model(cfg, loadWeights(src, cfg, kernels.heap), kernels, ctx, batchSize, kvType);
}

/** The same model split over as many shards (each its own reference kernels and heap) as `maxShardBytes` asks for. */
export function tinyShardedModel(maxShardBytes: number, src: TensorSource = tinySource(), ctx = 64, batchSize = 16, cfg = TINY): Model {
  const plan = planShards(src, cfg, { ctx, batchSize, maxShardBytes });
  const kernels = plan.layers.map(() => new ReferenceKernels());
  return new Model(
    cfg,
    loadWeights(
      src,
      cfg,
      kernels.map((k) => k.heap),
      plan,
    ),
    kernels,
    ctx,
    batchSize,
  );
}
