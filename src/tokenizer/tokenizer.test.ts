import { test } from "node:test";
import assert from "node:assert/strict";
import { tokenizerFromGGUFMetadata } from "./tokenizer.js";
import { BYTE_TO_CHAR } from "./unicode.js";
import { gpt2Splitter, llama3Splitter, splitWords, preTokenizerFor } from "./pretokenize.js";
import { completeUtf8Prefix } from "./decode.js";

const G = (s: string) => Array.from(new TextEncoder().encode(s), (b) => BYTE_TO_CHAR[b]).join("");

/** Tiny byte-level BPE: all 256 byte tokens, a few merges, control + user-defined tokens. */
function tinyBpe(extra: Record<string, unknown> = {}) {
  const tokens: string[] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<tool>"];
  const types: number[] = [3, 3, 3, 4];
  for (let b = 0; b < 256; b++) {
    tokens.push(BYTE_TO_CHAR[b]);
    types.push(1);
  }
  const merges = [
    ["h", "e"],
    ["l", "l"],
    ["he", "ll"],
    ["hell", "o"],
    [G(" "), "w"],
    [G(" w"), "o"],
    ["r", "l"],
    ["rl", "d"],
    [G(" wo"), "rld"],
  ];
  for (const [a, b] of merges) {
    tokens.push(a + b);
    types.push(1);
  }
  return {
    "tokenizer.ggml.model": "gpt2",
    "tokenizer.ggml.pre": "smollm",
    "tokenizer.ggml.tokens": tokens,
    "tokenizer.ggml.token_type": Int32Array.from(types),
    "tokenizer.ggml.merges": merges.map(([a, b]) => `${a} ${b}`),
    "tokenizer.ggml.bos_token_id": 1,
    "tokenizer.ggml.eos_token_id": 2,
    "tokenizer.ggml.add_bos_token": false,
    ...extra,
  };
}

/** Tiny SentencePiece vocab: <unk> <s> </s>, 256 byte tokens, scored pieces. */
function tinySpm() {
  const tokens = ["<unk>", "<s>", "</s>"],
    types = [2, 3, 3],
    scores = [0, 0, 0];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(6);
    scores.push(0);
  }
  const pieces: [string, number][] = [
    ["▁", -1],
    ["h", -2],
    ["e", -2],
    ["l", -2],
    ["o", -2],
    ["w", -2],
    ["r", -2],
    ["d", -2],
    ["he", -3],
    ["ll", -3],
    ["hell", -4],
    ["hello", -5],
    ["▁hello", -6],
    ["▁w", -7],
    ["or", -7],
    ["▁wor", -8],
    ["ld", -8],
    ["▁world", -9],
  ];
  for (const [p, s] of pieces) {
    tokens.push(p);
    types.push(1);
    scores.push(s);
  }
  return {
    "tokenizer.ggml.model": "llama",
    "tokenizer.ggml.tokens": tokens,
    "tokenizer.ggml.scores": Float32Array.from(scores),
    "tokenizer.ggml.token_type": types,
    "tokenizer.ggml.bos_token_id": 1,
    "tokenizer.ggml.eos_token_id": 2,
    "tokenizer.ggml.unknown_token_id": 0,
  };
}

test("pre-tokenizer: GPT-2 scanner splits words, contractions, numbers and whitespace runs", () => {
  const split = (s: string) => {
    const cps = Array.from(s, (c) => c.codePointAt(0)!);
    const out: string[] = [];
    let i = 0;
    for (const n of gpt2Splitter(cps, [cps.length])) {
      out.push(String.fromCodePoint(...cps.slice(i, i + n)));
      i += n;
    }
    return out;
  };
  assert.deepEqual(split("Hello world"), ["Hello", " world"]);
  assert.deepEqual(split("it's  ok!!"), ["it", "'s", " ", " ok", "!!"]);
  assert.deepEqual(split("a   \n"), ["a", "   \n"]);
  assert.deepEqual(split("x 123 yé"), ["x", " 123", " yé"]);
});

test("pre-tokenizer: smollm isolates every digit; llama3 groups digits by three and keeps newlines apart", () => {
  const words = (s: string, pre: string) => {
    const cps = Array.from(s, (c) => c.codePointAt(0)!);
    const out: string[] = [];
    let i = 0;
    for (const n of splitWords(cps, preTokenizerFor(pre))) {
      out.push(String.fromCodePoint(...cps.slice(i, i + n)));
      i += n;
    }
    return out;
  };
  assert.deepEqual(words("a 2024!", "smollm"), ["a", " ", "2", "0", "2", "4", "!"]);
  assert.deepEqual(words("1234567", "llama3"), ["123", "456", "7"]);
  assert.deepEqual(words("Hi\n\n  there", "llama3"), ["Hi", "\n\n", " ", " there"]);
  const cps = Array.from("I'M", (c) => c.codePointAt(0)!);
  assert.deepEqual(llama3Splitter(cps, [cps.length]), [1, 2]);
});

test("byte-level BPE: merges by rank, falls back to bytes, round-trips", () => {
  const tok = tokenizerFromGGUFMetadata(tinyBpe());
  const id = (s: string) => (tinyBpe()["tokenizer.ggml.tokens"] as string[]).indexOf(s);
  assert.deepEqual(tok.encode("hello world"), [id("hello"), id(G(" world"))]);
  assert.deepEqual(tok.encode("hé"), [id("h"), id(G("é")[0]), id(G("é")[1])]);
  for (const s of ["hello world", "héllo wörld 👨‍👩‍👧 你好", "  tabs\tand\nlines  ", ""]) assert.equal(tok.decode(tok.encode(s)), s);
});

test("special tokens: control only with parseSpecial, user-defined always; EOG includes <|im_end|> and <|endoftext|>", () => {
  const tok = tokenizerFromGGUFMetadata(tinyBpe());
  assert.deepEqual(tok.encode("<|im_start|>hello", { parseSpecial: true }).slice(0, 1), [1]);
  assert.ok(!tok.encode("<|im_start|>hello").includes(1));
  assert.deepEqual(tok.encode("<tool>").slice(0, 1), [3]);
  assert.deepEqual([...tok.eogIds].sort(), [0, 2]);
  assert.equal(tok.decode([1, 3]), "<|im_start|><tool>");
  assert.equal(tok.decode([1, 3], { skipSpecial: true }), "<tool>");
  assert.equal(tok.tokenToPiece(4 + 0x20), "Ġ");
});

test("BOS/EOS follow the metadata flags and addSpecial", () => {
  const tok = tokenizerFromGGUFMetadata(tinyBpe({ "tokenizer.ggml.add_bos_token": true, "tokenizer.ggml.add_eos_token": true }));
  assert.equal(tok.addBos, true);
  const ids = tok.encode("hello");
  assert.equal(ids[0], 1);
  assert.equal(ids[ids.length - 1], 2);
  assert.deepEqual(tok.encode("hello", { addSpecial: false }), ids.slice(1, -1));
});

test("SPM: space prefix, highest-score merges, byte fallback, leading space removed on decode", () => {
  const md = tinySpm();
  const tok = tokenizerFromGGUFMetadata(md);
  const id = (s: string) => md["tokenizer.ggml.tokens"].indexOf(s);
  assert.equal(tok.addBos, true);
  assert.deepEqual(tok.encode("hello world"), [1, id("▁hello"), id("▁world")]);
  // 'z' is not a piece: its byte token is used
  assert.deepEqual(tok.encode("z", { addSpecial: false }), [id("▁"), id("<0x7A>")]);
  // text after a special token gets the space prefix again
  assert.deepEqual(tok.encode("<s>hello", { addSpecial: false, parseSpecial: true }), [1, id("▁hello")]);
  for (const s of ["hello world", "héllo  wörld 😀", "a\nb"]) {
    assert.equal(tok.decode(tok.encode(s, { addSpecial: false })), s);
    assert.equal(tok.decode(tok.encode(s), { skipSpecial: true }), " " + s); // BOS removed: llama.cpp keeps the space then
  }
});

test("stream decoder holds back partial UTF-8 and matches decode()", () => {
  const md = tinySpm();
  const tok = tokenizerFromGGUFMetadata(md);
  const ids = tok.encode("héllo 😀 wörld", { addSpecial: false });
  const d = tok.createStreamDecoder();
  const parts = ids.map((i) => d.push(i));
  parts.push(d.flush());
  assert.equal(parts.join(""), tok.decode(ids));
  for (const p of parts) assert.ok(!p.includes("\ufffd"), `partial character leaked: ${JSON.stringify(parts)}`);
  // the 4 bytes of 😀 arrive one by one: nothing until the last
  const e = tok.createStreamDecoder();
  const bytes = [0xf0, 0x9f, 0x98, 0x80].map((b) => md["tokenizer.ggml.tokens"].indexOf(`<0x${b.toString(16).toUpperCase()}>`));
  assert.deepEqual(
    bytes.map((b) => e.push(b)),
    ["", "", "", "😀"],
  );
  const f = tok.createStreamDecoder();
  f.push(bytes[0]);
  assert.equal(f.flush(), "\ufffd");
});

test("completeUtf8Prefix", () => {
  assert.equal(completeUtf8Prefix(Uint8Array.of(0x61, 0xe4, 0xbd)), 1);
  assert.equal(completeUtf8Prefix(Uint8Array.of(0x61, 0xe4, 0xbd, 0xa0)), 4);
  assert.equal(completeUtf8Prefix(Uint8Array.of(0x80)), 1);
});

test("bad metadata gives clear errors naming what is supported", () => {
  assert.throws(
    () => tokenizerFromGGUFMetadata({ ...tinyBpe(), "tokenizer.ggml.model": "bert" }),
    /unsupported tokenizer.ggml.model "bert".*gpt2.*llama/,
  );
  assert.throws(
    () => tokenizerFromGGUFMetadata({ ...tinyBpe(), "tokenizer.ggml.pre": "qwen2" }),
    /unsupported tokenizer.ggml.pre "qwen2".*smollm/,
  );
  assert.throws(() => tokenizerFromGGUFMetadata({ ...tinyBpe(), "tokenizer.ggml.merges": undefined }), /merges/);
  assert.throws(() => tokenizerFromGGUFMetadata({ "tokenizer.ggml.model": "llama" }), /tokenizer.ggml.tokens/);
  const tok = tokenizerFromGGUFMetadata(tinyBpe());
  assert.throws(() => tok.decode([999999]), /out of range/);
});
