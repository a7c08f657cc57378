import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { getOracle, type Oracle } from "./llamacpp.js";

const MODEL = join(process.env.FFNSKIP_HOME ?? join(homedir(), ".cache", "ffnskip"), "models", "SmolLM2-135M-Instruct.Q4_1.gguf");

async function withOracle(t: { skip: (m: string) => void }, fn: (o: Oracle) => Promise<void>): Promise<void> {
  if (!existsSync(MODEL)) return t.skip(`model not found at ${MODEL} (run resolveModel() / ffnskip pull first)`);
  const o = await getOracle(MODEL, { threads: 2, contextSize: 256 });
  try {
    await fn(o);
  } finally {
    await o.dispose();
  }
}

test("oracle: tokenizer round-trips and adds no BOS for SmolLM2", (t) =>
  withOracle(t, async (o) => {
    assert.equal(o.nVocab, 49152);
    const text = "The capital of France is Paris.\nIt's 42°C!";
    const ids = o.tokenize(text);
    assert.ok(ids.length > 5 && ids.length < text.length);
    assert.equal(o.detokenize(ids), text);
    // parseSpecial turns the chat marker into one special token; without it the marker is plain text.
    const marked = o.tokenize("<|im_start|>user", { parseSpecial: true });
    const plain = o.tokenize("<|im_start|>user");
    assert.ok(marked.length < plain.length);
    assert.equal(o.detokenize(marked), "user");
    assert.equal(o.detokenize(marked, { special: true }), "<|im_start|>user");
  }));

test("oracle: greedy continuation agrees with teacher-forced argmax", (t) =>
  withOracle(t, async (o) => {
    const prompt = o.tokenize("The capital of France is");
    const g = await o.greedy(prompt, 8);
    assert.equal(g.ids.length, 8);
    assert.match(o.detokenize(g.ids), /^ Paris/);
    for (const gap of g.gaps) assert.ok(gap >= 0);

    const seq = [...prompt, ...g.ids];
    const last = seq.length - 1;
    const s = await o.score(seq, { keepLogits: [prompt.length - 1, last] });
    assert.equal(s.nll.length, seq.length - 1);
    assert.equal(s.argmax.length, seq.length - 1);
    for (const v of s.nll) assert.ok(Number.isFinite(v) && v >= -1e-6);
    // Each greedy token is the argmax of the teacher-forced pass at the position before it
    // (skipping near-ties, where a different batch split may flip the order).
    for (let k = 0; k < g.ids.length; k++) {
      if (g.gaps[k] > 1e-2) assert.equal(s.argmax[prompt.length - 1 + k], g.ids[k], `step ${k}`);
    }
    // Full logits at a kept position: right width, argmax and top-2 gap consistent with greedy.
    const row = s.logits.get(prompt.length - 1)!;
    assert.equal(row.length, o.nVocab);
    let best = 0;
    for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
    assert.equal(best, g.ids[0]);
    assert.ok(s.logits.get(last)!.length === o.nVocab);
    assert.ok(!s.logits.has(1));
  }));

test("oracle: scoring is deterministic and the fast nll matches the full-logit nll", (t) =>
  withOracle(t, async (o) => {
    const ids = o.tokenize("Robert Boulter is an English film, television and theatre actor. He had a guest role.");
    const a = await o.score(ids);
    const b = await o.score(ids, { keepLogits: [3, 7] });
    const c = await o.score(ids);
    assert.deepEqual(a.nll, c.nll);
    for (let i = 0; i < a.nll.length; i++) {
      // Away from kept positions both runs take the same path; at kept ones the float32
      // softmax denominator of llama.cpp differs from our double one by ~1e-4.
      assert.ok(Math.abs(a.nll[i] - b.nll[i]) < 2e-3, `position ${i}: ${a.nll[i]} vs ${b.nll[i]}`);
    }
    assert.deepEqual(a.argmax, b.argmax);
    // Real text is not always predicted: the argmax must differ from the next token somewhere
    // (guards against reading the target's own logit as the max).
    assert.ok(a.argmax.some((tok, i) => tok !== ids[i + 1]));
    assert.ok(a.nll.some((v) => v > 1));
  }));

test("oracle: bad requests give clear errors", (t) =>
  withOracle(t, async (o) => {
    const ids = o.tokenize("hello world");
    await assert.rejects(o.score(new Array(300).fill(ids[0])), /needs 300 positions but the oracle context holds 256/);
    await assert.rejects(o.score(ids, { keepLogits: [ids.length] }), /keepLogits position \d+ is outside/);
    await assert.rejects(o.greedy([], 3), /at least 1 prompt token/);
    await assert.rejects(o.greedy(ids, -1), /non-negative integer/);
  }));
