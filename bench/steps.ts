import type { Engine } from "../src/api/engine.js";
import type { SeqStep } from "../src/model/model.js";

/** n sequences (KV slots 0..n-1) that each decode one token at position 0, dense: a batched decode step for the profiles. */
export function decodeRows(engine: Engine, n: number): SeqStep[] {
  return Array.from({ length: n }, (_, i) => ({
    slot: i,
    tokens: [100 + i],
    pos: 0,
    policy: engine.policy(),
    phase: "decode",
    genIndex: 0,
    logits: "last",
  }));
}
