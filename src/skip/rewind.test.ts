import assert from "node:assert/strict";
import { test } from "node:test";
import { SkipCounter } from "./counter.js";
import { RewindGuard } from "./rewind.js";

/** Feed tokens one by one (with whether skipping made each) and apply every take-back, as the generation loop does. */
function run(g: RewindGuard, tokens: [number, boolean][]): { out: number[]; backs: number[] } {
  const out: number[] = [],
    backs: number[] = [];
  for (const [t, skipped] of tokens) {
    out.push(t);
    const back = g.accept(out, skipped);
    if (back > 0) {
      out.length -= back;
      backs.push(back);
    }
  }
  return { out, backs };
}

test("a repeat completed under skipping is taken back to its first skip-made token", () => {
  const g = new RewindGuard(2, 4);
  // 1 2 3 made dense, then 1 2 by skipping: "1 2" repeats, both tokens skip-made → take back 2
  const { out, backs } = run(g, [
    [1, false],
    [2, false],
    [3, false],
    [1, true],
    [2, true],
  ]);
  assert.deepEqual(out, [1, 2, 3]);
  assert.deepEqual(backs, [2]);
  assert.equal(g.takenBack, 2);
  assert.equal(g.rewinds, 1);
  // the next max(hold, back) = 4 steps run dense, then skipping may resume
  assert.deepEqual([g.nextDense(), g.nextDense(), g.nextDense(), g.nextDense(), g.nextDense()], [true, true, true, true, false]);
});

test("dense-made tokens are never taken back; a repeat the dense model writes stays", () => {
  const g = new RewindGuard(3, 0);
  // the repeated 3-gram's first two tokens were made dense: only the last is taken back, hold covers it
  const { out, backs } = run(g, [
    [5, false],
    [6, false],
    [7, false],
    [5, false],
    [6, false],
    [7, true],
  ]);
  assert.deepEqual(out, [5, 6, 7, 5, 6]);
  assert.deepEqual(backs, [1]);
  assert.equal(g.nextDense(), true);
  assert.equal(g.nextDense(), false);
  // made again dense, the same token stays
  out.push(7);
  assert.equal(g.accept(out, false), 0);
  // no repeat, or no skipping: nothing to take back
  assert.deepEqual(
    run(new RewindGuard(2, 8), [
      [1, true],
      [2, true],
      [3, true],
      [2, false],
      [3, false],
    ]).backs,
    [],
  );
});

test("the guard must see every kept token", () => {
  const g = new RewindGuard(2, 1);
  assert.throws(() => g.accept([1, 2], true), /2 generated tokens but 1 recorded/);
  assert.throws(() => new RewindGuard(0, 1), /n-gram length must be an integer ≥ 1/);
  assert.throws(() => new RewindGuard(2, -1), /hold must be an integer ≥ 0/);
});

test("discarded steps leave the denominator and are charged as run FFNs", () => {
  const L = 4;
  const c = new SkipCounter(L);
  const step = (skip: number[]) => {
    c.begin({ pos: 0, nTokens: 1, phase: "decode", genIndex: 5 }, 0);
    for (let l = 0; l < L; l++) if (!skip.includes(l)) c.ran(l);
    c.end();
  };
  step([1, 2]);
  step([1]);
  step([2]);
  c.discard(2);
  // 4 skipped over 3 tokens, then 2 tokens thrown away: (4 − 2·4) ÷ (1·4)
  const s = c.stats("x");
  assert.equal(s.tokens, 1);
  assert.equal(s.skipped_ffn, -4);
  assert.equal(s.ratio, -1);
  assert.deepEqual(s.per_layer, [-2, 0, 0, -2]);
  assert.throws(() => c.discard(2), /cannot discard 2 of 1/);
});
