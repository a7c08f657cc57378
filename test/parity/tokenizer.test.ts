/**
 * Tokenizer parity with llama.cpp against the frozen reference in
 * test/fixtures/llamacpp/ (recorded by `npm run fixtures:llamacpp`): identical
 * ids for a torture text (whole, line by line, with and without special-token
 * parsing) and for the whole WikiText-2 test file, identical detokenized text,
 * BOS/EOS flags and end-of-generation sets — for byte-level BPE (SmolLM2), the
 * Llama-2 SentencePiece vocabulary and Gemma 3's SentencePiece.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { openGGUF } from "../../src/gguf/reader.js";
import { tokenizerFromGGUFMetadata } from "../../src/tokenizer/index.js";
import { GEMMA3, LLAMA2_TINY, SMOLLM2, WIKITEXT, needs } from "../helpers/paths.js";
import { TORTURE_PATH, WIKI_WINDOW, digest, readFixture, torturePieces, windowDigests } from "../helpers/llamacpp-fixtures.js";

const TORTURE = readFileSync(TORTURE_PATH, "utf8");
const MODELS = [
  { name: "smollm2-135m-instruct", kind: "gpt2 BPE, pre=smollm", path: SMOLLM2 },
  { name: "llama-2-tiny-random", kind: "Llama-2 SentencePiece", path: LLAMA2_TINY },
  { name: "gemma3-270m", kind: "Gemma 3 SentencePiece", path: GEMMA3 },
];

/** Where two id sequences first differ, with context, or null when equal. */
function firstDiff(ours: readonly number[], ref: readonly number[]): string | null {
  const n = Math.max(ours.length, ref.length);
  for (let i = 0; i < n; i++) {
    if (ours[i] !== ref[i]) {
      return (
        `lengths ${ours.length} vs ${ref.length}; first difference at index ${i}: ` +
        `ours ${JSON.stringify(ours.slice(Math.max(0, i - 3), i + 6))} llama.cpp ${JSON.stringify(ref.slice(Math.max(0, i - 3), i + 6))}`
      );
    }
  }
  return null;
}

for (const m of MODELS) {
  test(`tokenizer parity with llama.cpp: ${m.name} (${m.kind})`, async (t) => {
    const fx = readFixture(m.name).tokenizer;
    if (needs(t, m.path)) return;
    assert.equal(fx.torture, digest(TORTURE), "torture.txt changed since the fixture was recorded: run 'npm run fixtures:llamacpp'");
    const tok = tokenizerFromGGUFMetadata(openGGUF(m.path).metadata);

    await t.test("torture text, whole and line by line, parseSpecial off and on", () => {
      const pieces = torturePieces(TORTURE);
      assert.equal(pieces.length, fx.pieces.length);
      const report: string[] = [];
      pieces.forEach((text, i) =>
        [false, true].forEach((parseSpecial, j) => {
          const diff = firstDiff(tok.encode(text, { addSpecial: false, parseSpecial }), fx.pieces[i][j]);
          if (diff) report.push(`${JSON.stringify(text.slice(0, 60))} parseSpecial=${parseSpecial}: ${diff}`);
        }),
      );
      assert.equal(report.length, 0, report.slice(0, 5).join("\n"));
    });

    await t.test("BOS/EOS flags and the end-of-generation set", () => {
      assert.equal(tok.bos, fx.bos);
      assert.equal(tok.addBos, fx.addBos);
      assert.equal(tok.addEos, fx.addEos);
      const ids = tok.encode("Hi there", { parseSpecial: false });
      assert.deepEqual(ids, [
        ...(fx.addBos ? [fx.bos!] : []),
        ...tok.encode("Hi there", { addSpecial: false }),
        ...(fx.addEos ? [tok.eos!] : []),
      ]);
      assert.deepEqual(
        [...tok.eogIds].sort((a, b) => a - b),
        fx.eog,
      );
    });

    await t.test("detokenize (specials rendered and not)", () => {
      const ids = fx.pieces[0][1];
      assert.equal(tok.decode(ids), fx.detokenized.special);
      assert.equal(tok.decode(ids, { skipSpecial: true }), fx.detokenized.plain);
    });

    await t.test("decode(encode(x)) == x and streaming gives the same text", () => {
      const ids = tok.encode(TORTURE, { addSpecial: false });
      assert.equal(tok.decode(ids), TORTURE);
      const d = tok.createStreamDecoder();
      assert.equal(ids.map((id) => d.push(id)).join("") + d.flush(), TORTURE);
    });

    await t.test("the whole WikiText-2 test file", (tt) => {
      if (needs(tt, WIKITEXT)) return;
      assert.ok(fx.wiki, "fixture recorded without WikiText-2");
      const text = readFileSync(WIKITEXT, "utf8");
      assert.equal(digest(text), fx.wiki.text, "the WikiText-2 file differs from the one recorded");
      const ours = tok.encode(text, { addSpecial: false });
      const windows = windowDigests(ours);
      const bad = windows.findIndex((w, i) => w !== fx.wiki!.windows[i]);
      assert.equal(
        ours.length,
        fx.wiki.count,
        `id count ${ours.length} vs llama.cpp ${fx.wiki.count}` + (bad >= 0 ? `; first differing window at id ${bad * WIKI_WINDOW}` : ""),
      );
      assert.equal(
        bad,
        -1,
        `ids differ from llama.cpp's in the window starting at id ${bad * WIKI_WINDOW}: ` +
          `ours ${JSON.stringify(ours.slice(bad * WIKI_WINDOW, bad * WIKI_WINDOW + 12))}`,
      );
    });
  });
}
