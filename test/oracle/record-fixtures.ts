/**
 * Record llama.cpp's reference results as committed fixtures (test/fixtures/llamacpp/):
 * tokenizer ids, teacher-forced argmax / nll / top-4 of its batched and
 * token-by-token paths, and greedy continuations with top-2 gaps. The parity
 * tests compare ffnskip with these files, never with a live llama.cpp.
 *
 *   npm run fixtures:llamacpp [-- --only smollm2-135m-instruct] [--threads 2]
 *
 * Needs the models pulled (npx ffnskip pull smollm2-135m-instruct / gemma3-270m)
 * and ../shared (FFNSKIP_SHARED). Takes a few minutes.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { sha256File } from "../../src/models/pull.js";
import { openGGUF } from "../../src/gguf/reader.js";
import { tokenizerFromGGUFMetadata } from "../../src/tokenizer/index.js";
import { getOracle } from "./llamacpp.js";
import { GEMMA3, LLAMA2_TINY, ROOT, SMOLLM2, WIKITEXT, missing } from "../helpers/paths.js";
import {
  FIXTURE_DIR,
  TORTURE_PATH,
  digest,
  torturePieces,
  windowDigests,
  type GreedyFixture,
  type ModelFixture,
  type TeacherForcedFixture,
  type TokenizerFixture,
} from "../helpers/llamacpp-fixtures.js";

/** What is recorded for each model: tokens scored teacher-forced, greedy prompts and length. */
export const RECORDINGS = [
  {
    name: "smollm2-135m-instruct",
    path: SMOLLM2,
    teacherForced: 2000,
    greedyTokens: 64,
    prompts: [
      "The capital of France is",
      "def fibonacci(n):\n    ",
      "Once upon a time, in a small village by the sea,",
      "<|im_start|>user\nWhat is photosynthesis?<|im_end|>\n<|im_start|>assistant\n",
      "The three most important inventions of the 20th century are",
    ],
  },
  {
    // 1,024 tokens: past the local layers' 512-token sliding window
    name: "gemma3-270m",
    path: GEMMA3,
    teacherForced: 1024,
    greedyTokens: 32,
    prompts: ["The capital of France is", "Once upon a time, in a small village by the sea,"],
  },
  { name: "llama-2-tiny-random", path: LLAMA2_TINY, teacherForced: 0, greedyTokens: 0, prompts: [] },
] as const;

const { values: v } = parseArgs({ options: { only: { type: "string" }, threads: { type: "string" } } });
const threads = Number(v.threads ?? 2);
const round = (x: number) => Math.round(x * 1e5) / 1e5;

async function tokenizerFixture(path: string): Promise<TokenizerFixture> {
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
  try {
    const ids = (text: string, special: boolean) => Array.from(model.tokenize(text, special), Number);
    const torture = readFileSync(TORTURE_PATH, "utf8");
    // node-llama-cpp does not expose the vocabulary size; the GGUF's token list is it
    const vocabSize = tokenizerFromGGUFMetadata(openGGUF(path).metadata).vocabSize;
    const eog: number[] = [];
    for (let id = 0; id < vocabSize; id++) if (model.isEogToken(id as Token)) eog.push(id);
    const special = ids(torture, true);
    let wiki: TokenizerFixture["wiki"] = null;
    if (!missing(WIKITEXT)) {
      const text = readFileSync(WIKITEXT, "utf8");
      const w = ids(text, false);
      wiki = { text: digest(text), count: w.length, windows: windowDigests(w) };
    }
    return {
      torture: digest(torture),
      pieces: torturePieces(torture).map((p) => [ids(p, false), ids(p, true)]),
      bos: model.tokens.bos === null ? null : Number(model.tokens.bos),
      addBos: model.tokens.shouldPrependBosToken,
      addEos: model.tokens.shouldAppendEosToken,
      eog,
      detokenized: { special: model.detokenize(special as Token[], true), plain: model.detokenize(special as Token[], false) },
      wiki,
    };
  } finally {
    await model.dispose();
  }
}

async function record(r: (typeof RECORDINGS)[number]): Promise<ModelFixture> {
  const why = missing(r.path, WIKITEXT);
  if (why) throw new Error(`cannot record ${r.name}: ${why}`);
  const started = Date.now();
  const log = (what: string) => console.log(`${r.name}: ${what} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const fixture: ModelFixture = {
    model: r.path.split("/").pop()!,
    sha256: await sha256File(r.path),
    recorded: { date: new Date().toISOString().slice(0, 10), nodeLlamaCpp: nodeLlamaCppVersion(), threads },
    tokenizer: await tokenizerFixture(r.path),
  };
  log("tokenizer recorded");
  if (r.teacherForced > 0) {
    const ctx = 2048;
    const batched = await getOracle(r.path, { threads, contextSize: ctx });
    try {
      // the text is cut before tokenizing only to keep the work small; the ids are what counts
      const ids = batched
        .tokenize(readFileSync(WIKITEXT, "utf8").slice(0, 40 * r.teacherForced), { addSpecial: true })
        .slice(0, r.teacherForced);
      if (ids.length !== r.teacherForced) throw new Error(`${r.name}: only ${ids.length} WikiText tokens`);
      const s = await batched.score(ids, { topK: 4 });
      log(`batched pass over ${ids.length} tokens recorded`);
      const stepwise = await getOracle(r.path, { threads, contextSize: ctx, batchSize: 1 });
      let step: number[];
      try {
        step = (await stepwise.score(ids)).argmax;
      } finally {
        await stepwise.dispose();
      }
      log("token-by-token pass recorded");
      const tf: TeacherForcedFixture = {
        ids,
        batched: {
          argmax: s.argmax,
          nll: s.nll.map(round),
          topIds: s.top.map((x) => x.ids),
          topLogits: s.top.map((x) => x.logits.map(round)),
        },
        stepwise: { argmax: step },
      };
      fixture.teacherForced = tf;
      const greedy: GreedyFixture[] = [];
      for (const prompt of r.prompts) {
        const promptIds = batched.tokenize(prompt, { addSpecial: true, parseSpecial: true });
        const g = await batched.greedy(promptIds, r.greedyTokens);
        greedy.push({ prompt, promptIds, ids: g.ids, gaps: g.gaps.map(round) });
      }
      fixture.greedy = greedy;
    } finally {
      await batched.dispose();
    }
  }
  log("greedy continuations recorded");
  return fixture;
}

function nodeLlamaCppVersion(): string {
  return JSON.parse(readFileSync(join(ROOT, "node_modules", "node-llama-cpp", "package.json"), "utf8")).version;
}

mkdirSync(FIXTURE_DIR, { recursive: true });
for (const r of RECORDINGS) {
  if (v.only && !v.only.split(",").includes(r.name)) continue;
  const f = await record(r);
  writeFileSync(join(FIXTURE_DIR, `${r.name}.json`), JSON.stringify(f) + "\n");
}
