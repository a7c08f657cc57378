/**
 * Parity with llama.cpp (node-llama-cpp's CPU build) on SmolLM2-135M-Instruct
 * Q4_1: teacher-forced argmax agreement and perplexity over the first 2,000
 * WikiText-2 tokens, and greedy continuations of 64 tokens.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadModel, type Engine } from "../../src/api/engine.js";
import { getOracle, type Oracle } from "../oracle/llamacpp.js";
import { SMOLLM2, WIKITEXT, missing } from "../helpers/paths.js";

const N = 2000;
const PROMPTS = [
  "The capital of France is",
  "def fibonacci(n):\n    ",
  "Once upon a time, in a small village by the sea,",
  "<|im_start|>user\nWhat is photosynthesis?<|im_end|>\n<|im_start|>assistant\n",
  "The three most important inventions of the 20th century are",
];

let engine: Engine | undefined, oracle: Oracle | undefined;
async function setup(): Promise<{ engine: Engine; oracle: Oracle }> {
  engine ??= await loadModel(SMOLLM2, { threads: 2, ctx: 2048 });
  oracle ??= await getOracle(SMOLLM2, { threads: 2, contextSize: 2048 });
  return { engine, oracle };
}

test.after(async () => {
  await engine?.dispose();
  await oracle?.dispose();
});

test("teacher-forced: ≥99% argmax agreement and perplexity within 1% over 2,000 WikiText-2 tokens", async (t) => {
  const why = missing(SMOLLM2, WIKITEXT);
  if (why) return t.skip(why);
  const { engine, oracle } = await setup();
  const ids = engine.tokenizer.encode(readFileSync(WIKITEXT, "utf8"), { addSpecial: true }).slice(0, N);
  assert.equal(ids.length, N);
  const ours = engine.perplexity(ids);
  const ref = await oracle.score(ids);
  let agree = 0;
  for (let i = 0; i < N - 1; i++) if (ours.argmax[i] === ref.argmax[i]) agree++;
  const refPpl = Math.exp(ref.nll.reduce((a, b) => a + b, 0) / ref.nll.length);
  const agreement = agree / (N - 1);
  t.diagnostic(`argmax agreement ${(agreement * 100).toFixed(2)}%, ppl ours ${ours.ppl.toFixed(4)} llama.cpp ${refPpl.toFixed(4)}`);
  assert.ok(agreement >= 0.99, `agreement ${agreement}`);
  assert.ok(Math.abs(ours.ppl / refPpl - 1) <= 0.01, `ppl ${ours.ppl} vs ${refPpl}`);
});

test("greedy 64-token continuations: ≥4 of 5 identical, divergences only at near-ties", async (t) => {
  const why = missing(SMOLLM2);
  if (why) return t.skip(why);
  const { engine, oracle } = await setup();
  let same = 0;
  for (const p of PROMPTS) {
    const tokens = engine.tokenizer.encode(p, { addSpecial: true, parseSpecial: true });
    const ours = await engine.generate({ tokens }, { temperature: 0, maxTokens: 64, ignoreEog: true });
    const ref = await oracle.greedy(tokens, 64);
    const k = ours.tokens.findIndex((id, i) => id !== ref.ids[i]);
    if (k < 0 && ours.tokens.length === 64) { same++; continue; }
    // a divergence is acceptable only where llama.cpp's top two logits nearly tie
    t.diagnostic(`${JSON.stringify(p)} diverges at token ${k}: llama.cpp top-2 gap ${ref.gaps[k].toFixed(4)}`);
    assert.ok(ref.gaps[k] < 0.25, `divergence at ${k} is not a near-tie (gap ${ref.gaps[k]})`);
  }
  t.diagnostic(`${same}/5 greedy continuations identical`);
  assert.ok(same >= 4, `only ${same}/5 identical`);
});
