// Multiple-choice scoring with the KV cache reused across choices gives the
// numbers of scoring each choice from scratch (prefill of the context, then
// the continuation token by token on the decode path), and its skip counts
// follow the documented rule: continuation token j ≥ 1 comes from the decode
// step with genIndex j − 1, which skips when j − 1 ≥ warm-up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadModel } from "../../src/api/engine.js";
import { scoreChoices, splitPairs } from "../../src/eval/choice.js";
import { scoreRow } from "../../src/generate/perplexity.js";
import { prefill } from "../../src/model/prefill.js";
import { LLAMA2_TINY, needs } from "../helpers/paths.js";

test("scoreChoices equals scoring every choice from scratch, dense and skipping", { timeout: 60_000 }, async (t) => {
  if (needs(t, LLAMA2_TINY)) return;
  const engine = await loadModel(LLAMA2_TINY, { threads: 1 });
  t.after(() => engine.dispose());
  const model = engine.model,
    V = engine.config.vocabSize,
    L = engine.config.nLayers;
  const context = "Question: Which gas do plants take in?\nAnswer:";
  const conts = [" carbon dioxide", " oxygen", " nitrogen and argon in the air"];
  const enc = (s: string) => engine.tokenizer.encode(s, { addSpecial: true, parseSpecial: false });
  const { context: ctx, continuations: ids } = splitPairs(enc, context, conts);
  for (const skip of [{ method: "none" as const }, { method: "static" as const, warmup: 1, layers: [0] }]) {
    const got = scoreChoices(engine, context, conts, engine.policy(skip));
    let skipped = 0;
    ids.forEach((cont, c) => {
      // from scratch: a fresh policy and cache per choice
      const p = engine.policy(skip);
      p.reset();
      model.kv.truncate(0);
      let lp = scoreRow(prefill(model, ctx, p).slice(0, V), 0, V, cont[0]).logp;
      for (let j = 0; j + 1 < cont.length; j++) {
        const logits = model.forward([cont[j]], ctx.length + j, { policy: p, phase: "decode", genIndex: j, logits: "last" })!;
        lp += scoreRow(logits, 0, V, cont[j + 1]).logp;
      }
      assert.equal(got.choices[c].logprob, lp, `${skip.method} choice ${c}`);
      assert.equal(got.choices[c].tokens, cont.length);
      const w = skip.method === "none" ? 0 : 1;
      assert.equal(got.choices[c].decoded, Math.max(0, cont.length - 1 - w));
      if (skip.method === "static") skipped += Math.max(0, cont.length - 1 - w);
    });
    assert.equal(got.contextTokens, ctx.length);
    assert.equal(got.skipped_ffn, skipped, "static skips one FFN per decode step after warm-up");
    assert.equal(got.total_ffn, L * got.choices.reduce((s, c) => s + c.decoded, 0));
  }
});
