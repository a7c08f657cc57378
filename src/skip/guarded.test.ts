import assert from "node:assert/strict";
import { test } from "node:test";
import { drive, type CosineFn } from "../../test/helpers/fake-driver.js";
import { createPolicy, resolveConfig } from "./config.js";
import { FfnSkipPolicy } from "./ffn-skip.js";
import { endsInRepeat, GuardedSkipPolicy, topProbability, type GuardedOptions } from "./guarded.js";
import type { SkipPolicy } from "./policy.js";

const L = 12;
const skipped = (ran: boolean[]): number[] => ran.flatMap((r, l) => (r ? [] : [l]));
const base: GuardedOptions = { warmup: 0, coldStart: 2, coldEnd: 2, tau: 0.9, k: 3, guard: 0, hold: 4, minConf: 0, standIn: 0 };

/** One decode step the way the forward pass makes it, with an input token and FFN outputs of `dim` floats filled with `value(layer)`. */
function step(
  p: SkipPolicy,
  genIndex: number,
  token: number,
  cos: CosineFn,
  dim = 2,
  value = (l: number) => l + 1,
): { ran: boolean[]; x: Float32Array } {
  const ran = new Array<boolean>(L).fill(false);
  const x = new Float32Array(dim);
  p.beginStep({ pos: 10 + genIndex, nTokens: 1, phase: "decode", genIndex, token });
  for (let l = 0; l < L; l++) {
    if (!p.runFFN(l)) {
      if (p.wantsFFNOutput) p.standIn!(l, x, 0, 1, dim);
      continue;
    }
    ran[l] = true;
    p.observeFFN(l, cos(l, genIndex));
    if (p.wantsFFNOutput) p.observeFFNOutput!(l, new Float32Array(dim).fill(value(l) * (genIndex + 1)), 0, dim, 0);
  }
  p.endStep();
  return { ran, x };
}

test("with every guard off the decisions are FFN-SkipLLM's", () => {
  const cosines: CosineFn[] = [() => 0.95, (l) => (l === 3 ? 0.95 : 0.5), (l, g) => ((l + g) % 3 === 0 ? 0.97 : 0.8), () => 0.9];
  for (const cos of cosines) {
    for (const k of [1, 2, 3]) {
      const o = { ...base, k };
      const mine = drive(new GuardedSkipPolicy(L, o), { nLayers: L, promptTokens: 4, decodeTokens: 5, cos });
      const paper = drive(new FfnSkipPolicy(L, { warmup: 0, coldStart: 2, coldEnd: 2, tau: 0.9, k }), {
        nLayers: L,
        promptTokens: 4,
        decodeTokens: 5,
        cos,
      });
      assert.deepEqual(mine, paper);
    }
  }
});

test("endsInRepeat: the last n tokens seen earlier as a run", () => {
  assert.equal(endsInRepeat([1, 2, 3, 4, 2, 3], 2), true);
  assert.equal(endsInRepeat([1, 2, 3, 4, 3, 2], 2), false);
  assert.equal(endsInRepeat([5, 5], 1), true);
  assert.equal(endsInRepeat([5], 1), false);
  // outside the lookback it does not count
  assert.equal(endsInRepeat([7, 8, 1, 1, 1, 7, 8], 2, 4), false);
  assert.equal(endsInRepeat([7, 8, 1, 1, 1, 7, 8], 2, 7), true);
});

test("loop guard: a repeated n-gram makes the next `hold` tokens dense, then skipping resumes", () => {
  const p = new GuardedSkipPolicy(L, { ...base, guard: 2, hold: 3 });
  const tokens = [10, 11, 12, 10, 11, 20, 21, 22, 23, 24];
  const out = tokens.map((t, g) => skipped(step(p, g, t, () => 0.95).ran));
  // steps 0-3 skip; step 4's input closes the repeat "10 11": steps 4, 5, 6 run dense; 7 on skips again
  for (const g of [0, 1, 2, 3, 7, 8, 9]) assert.deepEqual(out[g], [2, 3, 4, 6, 7, 8], `step ${g}`);
  for (const g of [4, 5, 6]) assert.deepEqual(out[g], [], `step ${g}`);
  assert.equal(p.guardedTokens, 3);
  // dense guard steps count as tokens that skipped nothing
  assert.equal(p.stats().skipped_ffn, 7 * 6);
  assert.equal(p.stats().total_ffn, 10 * L);
  // reset forgets the history: the same tokens replay the same decisions
  p.reset();
  assert.deepEqual(
    tokens.map((t, g) => skipped(step(p, g, t, () => 0.95).ran)),
    out,
  );
});

test("confidence gate: skip only after a step whose top-1 probability reached minConf", () => {
  const p = new GuardedSkipPolicy(L, { ...base, minConf: 0.5 });
  const confident = new Float32Array([10, 0, 0, 0]); // p(top) ≈ 0.9999
  const unsure = new Float32Array([1, 1, 1, 1]); // p(top) = 0.25
  assert.deepEqual(skipped(step(p, 0, 1, () => 0.95).ran), [2, 3, 4, 6, 7, 8]); // no logits yet: allowed
  p.observeLogits(unsure);
  assert.deepEqual(skipped(step(p, 1, 2, () => 0.95).ran), []);
  p.observeLogits(confident);
  assert.deepEqual(skipped(step(p, 2, 3, () => 0.95).ran), [2, 3, 4, 6, 7, 8]);
  assert.equal(p.gatedTokens, 1);
  assert.ok(Math.abs(topProbability(unsure) - 0.25) < 1e-12);
  assert.ok(Math.abs(topProbability(new Float32Array([Math.log(3), 0])) - 0.75) < 1e-6);
});

test("stand-in 1 adds the layer's output from the previous token that computed it; 2 the running mean", () => {
  // token 0: layers 2-4 and 6-8 skipped, nothing stored yet → no stand-in for them
  const cos = () => 0.95;
  const p1 = new GuardedSkipPolicy(L, { ...base, warmup: 1, standIn: 1 });
  // warm-up token runs every layer and stores layer l's output (l+1)·1
  assert.deepEqual(Array.from(step(p1, 0, 1, cos).x), [0, 0]);
  // next token skips 2,3,4,6,7,8: adds (l+1) for each
  const sum = [2, 3, 4, 6, 7, 8].reduce((s, l) => s + l + 1, 0);
  assert.deepEqual(Array.from(step(p1, 1, 2, cos).x), [sum, sum]);
  const p2 = new GuardedSkipPolicy(L, { ...base, warmup: 2, standIn: 2 });
  step(p2, 0, 1, cos); // stores (l+1)·1
  step(p2, 1, 2, cos); // stores (l+1)·2 → mean (l+1)·1.5
  assert.deepEqual(Array.from(step(p2, 2, 3, cos).x), [sum * 1.5, sum * 1.5]);
  // after reset nothing is stored: the first skipping token adds nothing
  p2.reset();
  const q = new GuardedSkipPolicy(L, { ...base, standIn: 2 });
  assert.deepEqual(Array.from(step(q, 0, 1, cos).x), [0, 0]);
  assert.deepEqual(Array.from(step(p2, 0, 1, cos).x), [0, 0]);
});

test("config: defaults, validation, and the policy it makes", () => {
  const r = resolveConfig({ method: "ffn-skip-guarded", tau: 0.97, k: 1 }, 30);
  assert.equal(r.method, "ffn-skip-guarded");
  assert.ok(createPolicy({ method: "ffn-skip-guarded", guard: 3, standIn: 2 }, 30) instanceof GuardedSkipPolicy);
  assert.throws(() => resolveConfig({ method: "ffn-skip-guarded", standIn: 3 }, 30), /standIn must be 0 \(none\), 1 .* or 2/);
  assert.throws(() => resolveConfig({ method: "ffn-skip-guarded", minConf: 1.5 }, 30), /minConf must be a probability/);
  assert.throws(() => resolveConfig({ method: "ffn-skip", guard: 3 } as never, 30), /guard does not apply to method "ffn-skip"/);
});
