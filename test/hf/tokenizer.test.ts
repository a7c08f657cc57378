/**
 * The HF tokenizer against the ids and texts the reference `tokenizers`
 * package produced from the same tokenizer.json files (committed fixtures).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tokenizerFromHF } from "../../src/tokenizer/hf/tokenizer.js";
import { expected, HF_FIXTURES, TINYSTORIES } from "./fixtures.js";
import { needs } from "../helpers/paths.js";

const json = (p: string) => JSON.parse(readFileSync(p, "utf8"));

/**
 * `quirkySkip`: the Rust library does not skip special tokens declared
 * "normalized" (it compares their normalized text); ffnskip drops every
 * special token, so there the expectation is the decode of the other ids.
 */
function check(name: string, tokPath: string, cfgPath: string | null, quirkySkip = false) {
  const tk = tokenizerFromHF(json(tokPath), cfgPath ? json(cfgPath) : null);
  const { cases } = expected(name);
  assert.ok(cases.length > 30);
  for (const c of cases) {
    const what = `${name}: ${JSON.stringify(c.text.slice(0, 60))}`;
    assert.deepEqual(tk.encode(c.text, { addSpecial: false, parseSpecial: true }), c.ids, what);
    assert.deepEqual(
      tk.encode(c.text, { addSpecial: true, parseSpecial: true }),
      c.special_ids.length === c.ids.length && !tk.addBos ? c.ids : c.special_ids,
      what + " (with special)",
    );
    assert.equal(tk.decode(c.ids), c.decoded, what + " (decode)");
    const skipWant = quirkySkip ? tk.decode(c.ids.filter((id) => !tk.isSpecial(id))) : c.decoded_skip;
    assert.equal(tk.decode(c.ids, { skipSpecial: true }), skipWant, what + " (decode, skip special)");
    // streaming gives the same text as decoding all at once
    const sd = tk.createStreamDecoder();
    let s = "";
    for (const id of c.ids) s += sd.push(id);
    s += sd.flush();
    assert.equal(s, c.decoded, what + " (stream)");
  }
  return tk;
}

test("tinystories-656k tokenizer.json: ids, BOS, decode as the tokenizers library", (t) => {
  const dir = TINYSTORIES;
  if (needs(t, join(dir, "tokenizer.json"))) return;
  const tk = check("tinystories-656k", join(dir, "tokenizer.json"), join(dir, "tokenizer_config.json"), true);
  assert.equal(tk.bos, 1);
  assert.equal(tk.eos, 2);
  assert.equal(tk.addBos, true);
  assert.ok(tk.eogIds.has(2));
});

test("byte-level BPE with Split regex + Digits + ByteLevel, added tokens", () => {
  const tk = check("bytelevel", join(HF_FIXTURES, "bytelevel.tokenizer.json"), null);
  // a non-special added token is always matched, a special one only with parseSpecial
  const ids = tk.encode("a user_word<|eot_id|>", { addSpecial: false });
  assert.ok(ids.includes(601) && !ids.includes(600));
});

test("Metaspace + NFKC + byte fallback", () => {
  check("metaspace", join(HF_FIXTURES, "metaspace.tokenizer.json"), null);
});

test("unsupported components are named with what is supported", () => {
  const base = { model: { type: "BPE", vocab: { a: 0 }, merges: [] } };
  assert.throws(
    () => tokenizerFromHF({ ...base, normalizer: { type: "BertNormalizer" } }, null),
    /unsupported normalizer "BertNormalizer"; supported: .*NFKC/,
  );
  assert.throws(
    () => tokenizerFromHF({ ...base, pre_tokenizer: { type: "CharDelimiterSplit" } }, null),
    /unsupported pre_tokenizer .*supported: .*Metaspace/,
  );
  assert.throws(() => tokenizerFromHF({ ...base, decoder: { type: "WordPiece" } }, null), /unsupported decoder .*ByteFallback/);
  assert.throws(() => tokenizerFromHF({ model: { type: "Unigram", vocab: [] } }, null), /unsupported model type "Unigram"; supported: BPE/);
  assert.throws(() => tokenizerFromHF({ model: { type: "BPE", vocab: { a: 0 }, merges: ["a b"] } }, null), /merge #0/);
  assert.throws(() => tokenizerFromHF({} as Record<string, unknown>, null), /not a tokenizer.json/);
});
