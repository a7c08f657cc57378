/**
 * Tokenizer parity with llama.cpp (node-llama-cpp, vocab-only load): identical ids
 * for a torture text (with and without special-token parsing) and for the whole
 * WikiText-2 test file, identical detokenized text, identical EOG sets, for both
 * the byte-level BPE model (SmolLM2) and the SentencePiece one (Llama-2 vocab).
 * Skips with a message when a model or data file is missing.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { homedir } from "node:os";
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from "node-llama-cpp";
import { openGGUF } from "../../src/gguf/reader.js";
import { tokenizerFromGGUFMetadata } from "../../src/tokenizer/index.js";
import type { Tokenizer } from "../../src/tokenizer/types.js";
import { repoFile } from "../../src/quant/fixtures.js";

const ROOT = repoFile("");
const SHARED = process.env.FFNSKIP_SHARED ?? resolve(ROOT, "../shared");
const HOME = process.env.FFNSKIP_HOME ?? join(homedir(), ".cache", "ffnskip");
const MODELS = [
  { name: "SmolLM2 (gpt2 BPE, pre=smollm)", path: join(HOME, "models", "SmolLM2-135M-Instruct.Q4_1.gguf") },
  { name: "Llama-2 vocab (SPM)", path: join(SHARED, "models", "llama-2-tiny-random", "llama-2-tiny-random.gguf") },
];
const TORTURE = readFileSync(join(ROOT, "test", "fixtures", "tokenizer", "torture.txt"), "utf8");
const WIKI = join(SHARED, "data", "perplexity", "wikitext-2-raw-test.txt");

let llama: Llama | undefined;
async function loadVocab(path: string): Promise<LlamaModel> {
  llama ??= await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  return llama.loadModel({ modelPath: path, vocabOnly: true });
}
after(async () => { await llama?.dispose(); });

/** Where two id sequences first differ, with context, or null when equal. */
function firstDiff(ours: readonly number[], ref: readonly number[]): string | null {
  const n = Math.max(ours.length, ref.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] !== ref[i]) {
      return `lengths ${ours.length} vs ${ref.length}; first difference at index ${i}: ` +
        `ours ${JSON.stringify(ours.slice(Math.max(0, i - 3), i + 6))} llama.cpp ${JSON.stringify(ref.slice(Math.max(0, i - 3), i + 6))}`;
    }
  }
  return null;
}

for (const m of MODELS) {
  test(`tokenizer parity with llama.cpp: ${m.name}`, async (t) => {
    if (!existsSync(m.path)) { t.skip(`model file missing: ${m.path}`); return; }
    const tok: Tokenizer = tokenizerFromGGUFMetadata(openGGUF(m.path).metadata);
    const ref = await loadVocab(m.path);
    try {
      const refIds = (text: string, special: boolean) => Array.from(ref.tokenize(text, special), Number);

      await t.test("torture text, line by line and whole, parseSpecial off and on", () => {
        const pieces = [TORTURE, ...TORTURE.split("\n"), ...TORTURE.split(/(?<=\n)/), "", " ", "  ", "\n", " a", "a "];
        let mismatches = 0;
        const report: string[] = [];
        for (const text of pieces) {
          for (const parseSpecial of [false, true]) {
            const ours = tok.encode(text, { addSpecial: false, parseSpecial });
            const diff = firstDiff(ours, refIds(text, parseSpecial));
            if (diff) { mismatches++; if (report.length < 5) report.push(`${JSON.stringify(text)} parseSpecial=${parseSpecial}: ${diff}`); }
          }
        }
        assert.equal(mismatches, 0, report.join("\n"));
      });

      await t.test("BOS/EOS flags match llama.cpp", () => {
        assert.equal(tok.bos, ref.tokens.bos === null ? null : Number(ref.tokens.bos));
        assert.equal(tok.addBos, ref.tokens.shouldPrependBosToken);
        assert.equal(tok.addEos, ref.tokens.shouldAppendEosToken);
        const withSpecial = tok.encode("Hi there", { parseSpecial: false });
        const expect = [...(tok.addBos ? [tok.bos!] : []), ...refIds("Hi there", false), ...(tok.addEos ? [tok.eos!] : [])];
        assert.deepEqual(withSpecial, expect);
      });

      await t.test("EOG set matches llama.cpp", () => {
        const refEog: number[] = [];
        for (let id = 0; id < tok.vocabSize; id++) if (ref.isEogToken(id as Token)) refEog.push(id);
        assert.deepEqual([...tok.eogIds].sort((a, b) => a - b), refEog);
      });

      await t.test("detokenize matches llama.cpp (specials rendered and not)", () => {
        const ids = refIds(TORTURE, true);
        assert.equal(tok.decode(ids), ref.detokenize(ids as Token[], true));
        assert.equal(tok.decode(ids, { skipSpecial: true }), ref.detokenize(ids as Token[], false));
      });

      await t.test("decode(encode(x)) == x and streaming gives the same text", () => {
        const ids = tok.encode(TORTURE, { addSpecial: false });
        assert.equal(tok.decode(ids), TORTURE);
        const d = tok.createStreamDecoder();
        assert.equal(ids.map((id) => d.push(id)).join("") + d.flush(), TORTURE);
      });

      await t.test("whole wikitext-2 test file", (tt) => {
        if (!existsSync(WIKI)) { tt.skip(`data file missing: ${WIKI}`); return; }
        const text = readFileSync(WIKI, "utf8");
        const ours = tok.encode(text, { addSpecial: false });
        const diff = firstDiff(ours, refIds(text, false));
        assert.equal(diff, null, diff ?? "");
      });
    } finally {
      await ref.dispose();
    }
  });
}
