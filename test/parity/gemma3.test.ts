/**
 * Gemma 3 (270M, Q4_K_M GGUF) against llama.cpp (node-llama-cpp's CPU build):
 * the SentencePiece tokenizer on the torture text and WikiText-2, and
 * teacher-forced argmax agreement and perplexity over 2,000 WikiText-2 tokens
 * (long enough that the local layers' 512-token sliding window matters).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel, type Engine } from "../../src/api/engine.js";
import { getOracle, type Oracle } from "../oracle/llamacpp.js";
import { HOME, WIKITEXT, missing } from "../helpers/paths.js";
import { ROOT } from "../hf/fixtures.js";

const GEMMA = join(HOME, "models", "gemma-3-270m-q4_k_m.gguf");
const N = 2000;

let engine: Engine | undefined, oracle: Oracle | undefined;
async function setup(): Promise<{ engine: Engine; oracle: Oracle }> {
  engine ??= await loadModel(GEMMA, { threads: 2, ctx: 2048 });
  oracle ??= await getOracle(GEMMA, { threads: 2, contextSize: 2048 });
  return { engine, oracle };
}

test.after(async () => {
  await engine?.dispose();
  await oracle?.dispose();
});

test("gemma3 tokenizer: same ids as llama.cpp on the torture text and WikiText-2", async (t) => {
  const why = missing(GEMMA, WIKITEXT);
  if (why) return t.skip(why);
  const { engine, oracle } = await setup();
  const torture = readFileSync(join(ROOT, "test", "fixtures", "tokenizer", "torture.txt"), "utf8");
  const wiki = readFileSync(WIKITEXT, "utf8").slice(0, 20000);
  for (const text of [torture, ...torture.split("\n"), wiki]) {
    for (const parseSpecial of [false, true]) {
      const ours = engine.tokenizer.encode(text, { addSpecial: true, parseSpecial });
      assert.deepEqual(ours, oracle.tokenize(text, { addSpecial: true, parseSpecial }), JSON.stringify(text.slice(0, 50)));
    }
  }
});

/**
 * As in model.test.ts: on a small model llama.cpp's batched and token-by-token
 * paths do not agree with each other on every position, so ours must agree
 * with llama.cpp's batched path at least as well as its own token-by-token
 * path does (minus half a point), with perplexity within 1%.
 */
test("gemma3 teacher-forced over 2,000 WikiText-2 tokens: agreement as high as llama.cpp's with itself, perplexity within 1%", async (t) => {
  const why = missing(GEMMA, WIKITEXT);
  if (why) return t.skip(why);
  // three passes over 2,000 tokens with a 262k-entry vocabulary: ~3 min on 2 shared cores
  const { engine, oracle } = await setup();
  const ids = engine.tokenizer.encode(readFileSync(WIKITEXT, "utf8").slice(0, 40000), { addSpecial: true }).slice(0, N);
  assert.equal(ids.length, N);
  const t0 = Date.now();
  const ours = engine.perplexity(ids);
  const t1 = Date.now();
  const ref = await oracle.score(ids);
  const t2 = Date.now();
  const stepwise = await getOracle(GEMMA, { threads: 2, contextSize: 2048, batchSize: 1 });
  let self: number[];
  try { self = (await stepwise.score(ids)).argmax; } finally { await stepwise.dispose(); }
  t.diagnostic(`time: ffnskip ${((t1 - t0) / 1000).toFixed(0)} s, llama.cpp batched ${((t2 - t1) / 1000).toFixed(0)} s, token by token ${((Date.now() - t2) / 1000).toFixed(0)} s`);
  const agree = (a: number[], b: number[]) => a.slice(0, N - 1).filter((x, i) => x === b[i]).length / (N - 1);
  const agreement = agree(ours.argmax, ref.argmax), selfAgreement = agree(self, ref.argmax);
  const refPpl = Math.exp(ref.nll.reduce((a, b) => a + b, 0) / ref.nll.length);
  t.diagnostic(`gemma3 argmax agreement with llama.cpp ${(agreement * 100).toFixed(2)}% (llama.cpp batched vs token-by-token: ${(selfAgreement * 100).toFixed(2)}%); ` +
    `ppl ours ${ours.ppl.toFixed(4)} llama.cpp ${refPpl.toFixed(4)}`);
  assert.ok(agreement >= selfAgreement - 0.005, `agreement ${agreement} below llama.cpp's self-agreement ${selfAgreement}`);
  assert.ok(Math.abs(ours.ppl / refPpl - 1) <= 0.01, `ppl ${ours.ppl} vs ${refPpl}`);
});
