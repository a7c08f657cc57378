import { test } from "node:test";
import assert from "node:assert/strict";
import { CompactSkipPolicy } from "./skip-compact.js";
import { FfnSkipPolicy } from "./ffn-skip.js";
import type { SkipPolicy } from "./policy.js";

const L = 8,
  F = 64;
const O = { warmup: 1, coldStart: 1, coldEnd: 1, tau: 0.5, k: 2 };
const part = Int32Array.from({ length: 32 }, (_, i) => 2 * i);
const all = Int32Array.from({ length: F }, (_, i) => i);
/** layer 5 has no compact copy (it keeps every neuron) */
const KEEPS = [part, part, part, part, part, all, part, part];

/** Drive a policy as the forward pass does over `steps` decode steps with cosines cos(step, layer); per step, the layers it skips / compacts. */
function drive(p: SkipPolicy, steps: number, cos: (s: number, l: number) => number): { skipped: number[][]; compact: number[][] } {
  const skipped: number[][] = [],
    compact: number[][] = [];
  for (let s = 0; s < steps; s++) {
    p.beginStep({ pos: 10 + s, nTokens: 1, phase: "decode", genIndex: s });
    const sk: number[] = [],
      co: number[] = [];
    for (let l = 0; l < L; l++) {
      if (!p.runFFN(l)) {
        sk.push(l);
        continue;
      }
      if (p.compactKeep?.(l)) {
        co.push(l);
        p.observeCompact?.(l, 0.5);
      }
      p.observeFFN(l, cos(s, l));
    }
    p.endStep();
    skipped.push(sk);
    compact.push(co);
  }
  return { skipped, compact };
}

test("ffn-skip-compact runs a compact copy exactly where FFN-SkipLLM skips (whole skips only where a layer has no copy)", () => {
  const cos = (s: number, l: number) => 0.3 + 0.6 * Math.abs(Math.sin(1.3 * s + 0.7 * l));
  const ref = drive(new FfnSkipPolicy(L, O), 12, cos);
  const c = new CompactSkipPolicy(L, O, KEEPS, F);
  const got = drive(c, 12, cos);
  let n = 0,
    whole = 0;
  for (let s = 0; s < 12; s++) {
    assert.deepEqual([...got.compact[s], ...got.skipped[s]].sort(), [...ref.skipped[s]].sort(), `step ${s}`);
    assert.ok(got.skipped[s].every((l) => l === 5));
    n += got.compact[s].length;
    whole += got.skipped[s].length;
  }
  assert.ok(n > 10, `only ${n} compact runs`);
  // the ratio counts a compact run as its saved share and a whole skip as 1, over the 11 tokens after warm-up
  const st = c.stats();
  assert.equal(st.tokens, 11);
  assert.ok(Math.abs(st.ratio - (0.5 * n + whole) / (L * 11)) < 1e-12, `ratio ${st.ratio}`);
});

test("tauSkip: windows opened above it skip outright, windows opened between tau and it run compact copies", () => {
  const cos = (s: number, l: number) => 0.3 + 0.6 * Math.abs(Math.sin(1.3 * s + 0.7 * l));
  const ref = drive(new FfnSkipPolicy(L, O), 12, cos);
  const tiered = drive(new CompactSkipPolicy(L, { ...O, tauSkip: 0.75 }, KEEPS, F), 12, cos);
  let outright = 0,
    compact = 0;
  for (let s = 0; s < 12; s++) {
    // the same windows as FFN-SkipLLM's, split between the two tiers
    assert.deepEqual([...tiered.compact[s], ...tiered.skipped[s]].sort(), [...ref.skipped[s]].sort(), `step ${s}`);
    for (const l of ref.skipped[s]) {
      // the window covering l was opened by the FFN computed just before it (k = 2: at l − 1 or l − 2)
      const opener = ref.skipped[s].includes(l - 1) ? l - 2 : l - 1;
      const above = cos(s, opener) > 0.75 || l === 5;
      assert.equal(tiered.skipped[s].includes(l), above, `step ${s} layer ${l}: opened at cos ${cos(s, opener).toFixed(3)}`);
    }
    outright += tiered.skipped[s].filter((l) => l !== 5).length;
    compact += tiered.compact[s].length;
  }
  assert.ok(outright > 3 && compact > 3, `both tiers must occur: ${outright} outright, ${compact} compact`);
});

test("tauSkip above 1 is the plain method", () => {
  const cos = (s: number, l: number) => 0.3 + 0.6 * Math.abs(Math.sin(1.3 * s + 0.7 * l));
  assert.deepEqual(
    drive(new CompactSkipPolicy(L, { ...O, tauSkip: 1.5 }, KEEPS, F), 12, cos),
    drive(new CompactSkipPolicy(L, O, KEEPS, F), 12, cos),
  );
});
