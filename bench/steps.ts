import type { Engine } from "../src/api/engine.js";
import type { SeqStep } from "../src/model/model.js";

/** n sequences (KV slots 1..n) that each decode one token at position 0, dense: a batched decode step for the profiles. */
export function decodeRows(engine: Engine, n: number): SeqStep[] {
  return Array.from({ length: n }, (_, i) => ({
    slot: i + 1,
    tokens: [100 + i],
    pos: 0,
    policy: engine.policy(),
    phase: "decode",
    genIndex: 0,
    logits: "last",
  }));
}
