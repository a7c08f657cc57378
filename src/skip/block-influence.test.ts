import { test } from "node:test";
import assert from "node:assert/strict";
import { withBlockInfluence } from "./block-influence.js";
import { createPolicy } from "./config.js";

test("Block Influence averages 1 − cos per layer and forwards every call", () => {
  const inner = createPolicy({ method: "static", warmup: 0, layers: [1] }, 3);
  const p = withBlockInfluence(inner, 3);
  p.reset();
  for (let i = 0; i < 2; i++) {
    p.beginStep({ pos: i, nTokens: 1, phase: "decode", genIndex: i });
    for (let l = 0; l < 3; l++) {
      p.layerMode(l);
      p.runFFN(l);
      p.observeLayer(l, l === 0 ? 0.5 : l === 1 ? 0.9 + 0.05 * i : 1);
    }
    p.endStep();
  }
  const bi = p.influence();
  assert.ok(Math.abs(bi[0] - 0.5) < 1e-12);
  assert.ok(Math.abs(bi[1] - 0.075) < 1e-12);
  assert.equal(bi[2], 0);
  assert.equal(p.stats().skipped_ffn, 2, "the wrapped policy still decides");
});
