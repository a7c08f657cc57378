/**
 * Parity with llama.cpp (node-llama-cpp's CPU build) on the real models,
 * against the frozen reference in test/fixtures/llamacpp/ (recorded by
 * `npm run fixtures:llamacpp`; no live llama.cpp here).
 *
 * The criterion (the tests issue's restatement): llama.cpp's own batched and
 * token-by-token paths agree on only ~96–97.5% of next-token argmaxes on these
 * small models, because they have many near-ties and every kernel path rounds
 * a little differently. So ffnskip must agree with llama.cpp's batched path at
 * least as often as llama.cpp's token-by-token path does, minus 0.5 points, on
 * the same tokens; perplexity within 1%; and every greedy divergence at a
 * near-tie (llama.cpp's top-2 logit gap there below 0.3).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { loadModel } from "../../src/api/engine.js";
import { GEMMA3, SMOLLM2, needs } from "../helpers/paths.js";
import { readFixture } from "../helpers/llamacpp-fixtures.js";

/** A greedy divergence counts as a near-tie below this top-2 logit gap (the tests issue). */
const GREEDY_NEAR_TIE = 0.3;
/**
 * At a teacher-forced disagreement, ours must be among llama.cpp's top 4 with a
 * logit within this of its top 1: llama.cpp's own paths differ by 0.10 rms and
 * up to 0.40 on the top-20 logits of SmolLM2 (results/parity.md).
 */
const TF_NEAR_TIE = 0.6;

/**
 * Tokens scored here: a prefix of the fixture's (2,000 / 1,024), compared on the
 * same positions as llama.cpp's self-agreement. Attention makes a pass quadratic
 * in length, so the whole fixture would cost most of the suite's time budget;
 * `node dist/bench/parity.js` runs the full 2,000 live. Gemma's 768 still run
 * past its local layers' 512-token sliding window.
 */
const MODELS = [
  { name: "smollm2-135m-instruct", path: SMOLLM2, tokens: 1024 },
  { name: "gemma3-270m", path: GEMMA3, tokens: 768 },
];

for (const { name, path, tokens } of MODELS) {
  test(`${name}: teacher-forced over ${tokens} WikiText-2 tokens, agreement with llama.cpp at least its own batched-vs-token-by-token minus 0.5 points, perplexity within 1%`, async (t) => {
    const tf = readFixture(name).teacherForced!;
    if (needs(t, path)) return;
    const engine = await loadModel(path, { threads: 2, ctx: 2048 });
    try {
      const ids = tf.ids.slice(0, tokens),
        n = ids.length - 1,
        ref = tf.batched;
      const ours = engine.perplexity(ids);
      const agree = (a: number[]) => a.slice(0, n).filter((x, i) => x === ref.argmax[i]).length / n;
      const agreement = agree(ours.argmax),
        selfAgreement = agree(tf.stepwise.argmax);
      const refPpl = Math.exp(ref.nll.slice(0, n).reduce((a, b) => a + b, 0) / n);
      // where we disagree, how far below llama.cpp's top pick is ours, in llama.cpp's logits?
      const gaps = ours.argmax.slice(0, n).flatMap((x, i) => {
        if (x === ref.argmax[i]) return [];
        const k = ref.topIds[i].indexOf(x);
        return [k < 0 ? Infinity : ref.topLogits[i][0] - ref.topLogits[i][k]];
      });
      const maxGap = Math.max(0, ...gaps);
      t.diagnostic(
        `argmax agreement with llama.cpp ${(agreement * 100).toFixed(2)}% (llama.cpp batched vs token-by-token ${(selfAgreement * 100).toFixed(2)}%); ` +
          `ppl ours ${ours.ppl.toFixed(4)} llama.cpp ${refPpl.toFixed(4)}; ${gaps.length} disagreements, largest gap in llama.cpp's logits ${maxGap.toFixed(3)}`,
      );
      assert.ok(
        agreement >= selfAgreement - 0.005,
        `agreement ${agreement} below llama.cpp's self-agreement ${selfAgreement} minus 0.5 points`,
      );
      assert.ok(Math.abs(ours.ppl / refPpl - 1) <= 0.01, `ppl ${ours.ppl} vs llama.cpp ${refPpl}`);
      assert.ok(maxGap < TF_NEAR_TIE, `a disagreement where our pick is ${maxGap} below llama.cpp's top logit (or outside its top 4)`);
    } finally {
      await engine.dispose();
    }
  });

  test(`${name}: greedy continuations diverge from llama.cpp's only at near-ties`, async (t) => {
    const greedy = readFixture(name).greedy!;
    if (needs(t, path)) return;
    const engine = await loadModel(path, { threads: 2, ctx: 512 });
    try {
      let same = 0,
        prefix = 0;
      for (const g of greedy) {
        assert.deepEqual(engine.tokenizer.encode(g.prompt, { addSpecial: true, parseSpecial: true }), g.promptIds, "prompt ids");
        const ours = await engine.generate({ tokens: g.promptIds }, { temperature: 0, maxTokens: g.ids.length, ignoreEog: true });
        assert.equal(ours.tokens.length, g.ids.length);
        const k = ours.tokens.findIndex((id, i) => id !== g.ids[i]);
        const matched = k < 0 ? g.ids.length : k;
        prefix += matched;
        if (k < 0) same++;
        t.diagnostic(
          `${JSON.stringify(g.prompt)}: same as llama.cpp for ${matched} of ${g.ids.length} tokens${k < 0 ? "" : ` (llama.cpp's top-2 gap there ${g.gaps[k].toFixed(3)})`}`,
        );
        if (k >= 0)
          assert.ok(
            g.gaps[k] < GREEDY_NEAR_TIE,
            `${JSON.stringify(g.prompt)}: divergence at token ${k} where llama.cpp's top-2 gap is ${g.gaps[k]}`,
          );
      }
      t.diagnostic(
        `identical continuations ${same}/${greedy.length}; matching tokens ${prefix} of ${greedy.reduce((s, g) => s + g.ids.length, 0)}`,
      );
    } finally {
      await engine.dispose();
    }
  });
}
