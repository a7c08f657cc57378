/** Prompt processing: feed tokens in batches of the model's batch size. */
import type { SkipPolicy } from "../skip/policy.js";
import type { Model } from "./model.js";

/**
 * Run `tokens` from position 0 (the policy sees phase "prompt") and return
 * the last token's logits (a heap view, valid until the next forward call).
 */
export function prefill(model: Model, tokens: readonly number[], policy: SkipPolicy, slot = 0): Float32Array {
  if (tokens.length === 0) throw new Error("prefill: no tokens");
  let logits: Float32Array | null = null;
  for (let p = 0; p < tokens.length; p += model.batchSize) {
    const batch = tokens.slice(p, p + model.batchSize);
    const last = p + batch.length >= tokens.length;
    logits = model.forward(batch, p, { policy, phase: "prompt", logits: last ? "last" : "none", slot });
  }
  return logits!;
}
