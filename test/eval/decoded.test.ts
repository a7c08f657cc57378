// The generation tasks count the answer tokens that were decoded under the
// skip policy: token i of the answer comes from the prefill (i = 0) or from
// the decode step with genIndex i − 1, which runs the policy when
// i − 1 ≥ warm-up. The step that picks an end-of-generation token runs the
// policy too, but its token is not part of the answer, so it is not counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadModel } from "../../src/api/engine.js";
import { decodedTokens } from "../../src/eval/generation.js";
import { needs, SMOLLM2 } from "../helpers/paths.js";

test("decoded answer tokens = tokens after the prefill and the warm-up, whether or not generation ended on EOG", {
  timeout: 60_000,
}, async (t) => {
  if (needs(t, SMOLLM2)) return;
  const engine = await loadModel(SMOLLM2, { threads: 1 });
  t.after(() => engine.dispose());
  const prompt = { messages: [{ role: "user" as const, content: "Reply with one word: hello" }] };
  for (const warmup of [0, 2]) {
    const skip = { method: "static" as const, warmup, layers: [5, 9] };
    // a short reply that the model ends itself
    const ended = await engine.generate(prompt, { temperature: 0, maxTokens: 40, skip });
    assert.equal(ended.eog, true, `warm-up ${warmup}: "${ended.text}" should end on the end-of-generation token`);
    assert.ok(ended.tokens.length > warmup + 1);
    assert.equal(decodedTokens(ended), ended.tokens.length - 1 - warmup, `warm-up ${warmup}, ended on EOG`);
    // the same reply cut by the token limit
    const cut = await engine.generate(prompt, { temperature: 0, maxTokens: warmup + 3, skip });
    assert.equal(cut.eog, false);
    assert.equal(cut.finish_reason, "length");
    assert.equal(decodedTokens(cut), 2, `warm-up ${warmup}, cut by the limit`);
  }
});
