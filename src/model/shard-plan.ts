/**
 * Splitting a model over shards (see shard.ts) by a byte budget, before any
 * weight is read: as few shards as fit, each a contiguous run of layers.
 */
import type { KVType } from "../kernels/types.js";
import type { ModelConfig } from "./config.js";
import { KVCache } from "./kv-cache.js";
import { activationBytes } from "./shard.js";
import { tiedOutput, weightSizes, type ShardPlan, type TensorSource } from "./weights.js";

const GiB = 2 ** 30,
  MiB = 2 ** 20;
/** Default budget per shard: leaves half a GiB of the 4 GiB wasm32 memory for what the kernels allocate on demand. */
export const DEFAULT_MAX_SHARD_BYTES = 3.5 * GiB;
/**
 * Largest budget accepted: the kernels later allocate scratch of their own
 * (quantized activations, attention scores, a repack buffer; megabytes).
 */
export const MAX_SHARD_BYTES = 4 * GiB - 256 * MiB;

export interface PlanOptions {
  ctx: number;
  batchSize: number;
  /** heap bytes one shard may plan for: weights, KV cache and activations (default DEFAULT_MAX_SHARD_BYTES) */
  maxShardBytes?: number;
  /** KV cache element type (default "f16") */
  kvType?: KVType;
  /** KV cache slots (sequences with a cache of ctx positions each; default 1) */
  slots?: number;
}

export interface SizedPlan extends ShardPlan {
  /** planned heap bytes per shard */
  bytes: number[];
}

const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB (${Math.ceil(b)} bytes)`;

/**
 * Greedy, layer by layer: a layer joins the current shard if it fits, else
 * opens the next (the fewest shards for contiguous ranges). The embedding
 * table goes in the first shard, output norm and matrix in the last — both
 * in the last when they are one tied matrix; if they do not fit beside the
 * last layers they get a shard of their own.
 */
export function planShards(src: TensorSource, cfg: ModelConfig, opt: PlanOptions): SizedPlan {
  const max = opt.maxShardBytes ?? DEFAULT_MAX_SHARD_BYTES;
  if (!(Number.isFinite(max) && max > 0 && max <= MAX_SHARD_BYTES)) {
    throw new RangeError(
      `maxShardBytes must be a number of bytes in (0, ${MAX_SHARD_BYTES}] (4 GiB wasm32 memory less kernel scratch), got ${max}`,
    );
  }
  const sizes = weightSizes(src, cfg);
  const tied = tiedOutput(src);
  const kv = KVCache.layerBytes(opt.ctx, cfg.nKvHeads * cfg.headDim, opt.kvType, opt.slots);
  const act = activationBytes(cfg, opt.batchSize, false);
  // the last shard's extras: output norm and matrix, the logits buffer, and the tied table
  const tail = sizes.output + (tied ? sizes.embed : 0) + activationBytes(cfg, opt.batchSize, true) - act;
  const tooBig = (what: string, bytes: number) =>
    new RangeError(
      `${src.name}: ${what} needs ${mib(bytes)} (weights, KV cache for ctx ${opt.ctx} × ${opt.slots ?? 1} slot(s), activations for batch ${opt.batchSize}), ` +
        `more than the ${mib(max)} one wasm32 memory (shard) may hold (maxShardBytes); use a smaller ctx or batch size`,
    );

  const layers: { first: number; end: number }[] = [];
  const bytes: number[] = [];
  let first = 0,
    used = act + (tied ? 0 : sizes.embed);
  if (used > max) throw tooBig("the embedding table", used);
  for (let l = 0; l < cfg.nLayers; l++) {
    const need = sizes.layers[l] + kv;
    if (used + need > max) {
      if (l === first) throw tooBig(`layer ${l}`, used + need);
      layers.push({ first, end: l });
      bytes.push(used);
      first = l;
      used = act;
      if (used + need > max) throw tooBig(`layer ${l}`, used + need);
    }
    used += need;
  }
  if (used + tail > max) {
    layers.push({ first, end: cfg.nLayers });
    bytes.push(used);
    first = cfg.nLayers;
    used = act;
    if (used + tail > max) throw tooBig("the output matrix", used + tail);
  }
  layers.push({ first, end: cfg.nLayers });
  bytes.push(used + tail);
  return { layers, embed: tied ? layers.length - 1 : 0, bytes };
}
