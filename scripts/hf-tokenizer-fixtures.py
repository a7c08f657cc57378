#!/usr/bin/env python3
"""Write Hugging Face tokenizer fixtures for test/hf/tokenizer.test.ts.

The expected ids come from the reference `tokenizers` package reading the
tokenizer.json directly, so the TypeScript implementation is checked against
the rules the file declares, not against itself. Run once; the output is
committed and the tests never call Python.

  1. TinyStories-656K's own tokenizer.json (SentencePiece-style BPE with byte
     fallback, Prepend/Replace normalizers, Replace/ByteFallback/Fuse/Strip decoders).
  2. Small tokenizers trained here, deterministically, on the torture text, to
     cover the other components LLaMA-family files use: byte-level BPE with a
     Split(regex) + Digits + ByteLevel pre-tokenizer (Llama 3 / SmolLM style),
     and Metaspace pre-tokenizer/decoder with NFKC. Their tokenizer.json files
     are written next to the expected ids.

Output in test/fixtures/hf/:
  <name>.tokenizer.json   (trained ones only)
  <name>.expected.json    {"tokenizer": path, "cases": [{"text", "ids", "special_ids", "decoded"}]}

Usage: python3 scripts/hf-tokenizer-fixtures.py [../shared]   (needs `pip install tokenizers`)
"""
import json
import os
import sys

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
from tokenizers import AddedToken

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "hf")
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FFNSKIP_SHARED", os.path.join(ROOT, "..", "shared"))

torture = open(os.path.join(ROOT, "test", "fixtures", "tokenizer", "torture.txt"), encoding="utf-8").read()

TEXTS = [
    "",
    " ",
    "Once upon a time, there was a little girl named Lily.",
    "  leading and trailing spaces  ",
    "Lily and Tom played in the park. They saw a big dog!\n\nThe end.",
    "numbers 0 7 42 123 4567 3.14159 1,000,000 12345678901234567890",
    "tabs\tand\nnewlines\r\nand CR\r",
    "café naïve Zürich ﬁ ＡＢＣ ½ Ⅻ",
    "emoji 😀 👍🏽 and CJK 你好世界 한국어",
    "<|start_story|>Once upon a time<|end_story|> <unk> after",
    "a<|start_story|>b",
    "hi<|eot_id|> user_word there <|begin_of_text|>x user_wordy",
    "Don't SHOUT, it'S fine; we'LL see",
]
# every line of the torture text, and the whole of it
TEXTS += torture.split("\n")
TEXTS.append(torture)


def cases(tok: Tokenizer):
    out = []
    seen = set()
    for t in TEXTS:
        if t in seen:
            continue
        seen.add(t)
        ids = tok.encode(t, add_special_tokens=False).ids
        with_special = tok.encode(t, add_special_tokens=True).ids
        out.append({
            "text": t,
            "ids": ids,
            "special_ids": with_special,
            "decoded": tok.decode(ids, skip_special_tokens=False),
            "decoded_skip": tok.decode(ids, skip_special_tokens=True),
        })
    return out


def write(name: str, tokenizer_path: str, tok: Tokenizer):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, f"{name}.expected.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizer": tokenizer_path, "cases": cases(tok)}, f, ensure_ascii=False, indent=0)
        f.write("\n")


def train(tok: Tokenizer, vocab_size: int, special: list[str], byte_level: bool):
    kw = dict(vocab_size=vocab_size, special_tokens=special, show_progress=False)
    if byte_level:
        kw["initial_alphabet"] = pre_tokenizers.ByteLevel.alphabet()
    tok.train_from_iterator([torture] * 3 + TEXTS, trainers.BpeTrainer(**kw))


def main():
    # 1. the real model's tokenizer, read from the shared folder (not copied)
    ts = os.path.join(SHARED, "models", "tinystories-656k", "tokenizer.json")
    if os.path.exists(ts):
        write("tinystories-656k", "shared:models/tinystories-656k/tokenizer.json", Tokenizer.from_file(ts))
    else:
        print(f"skipping tinystories: {ts} not found", file=sys.stderr)

    # 2. byte-level BPE, Llama-3-like pre-tokenizer
    bl = Tokenizer(models.BPE(ignore_merges=False))
    bl.normalizer = normalizers.NFC()
    bl.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"), behavior="isolated"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    bl.decoder = decoders.ByteLevel()
    train(bl, 600, ["<|begin_of_text|>", "<|end_of_text|>"], True)
    bl.add_special_tokens([AddedToken("<|eot_id|>", special=True)])
    bl.add_tokens([AddedToken(" user_word", lstrip=False, rstrip=False, normalized=False)])
    p = os.path.join(OUT, "bytelevel.tokenizer.json")
    os.makedirs(OUT, exist_ok=True)
    bl.save(p)
    write("bytelevel", "bytelevel.tokenizer.json", Tokenizer.from_file(p))

    # 3. Metaspace BPE with NFKC, byte fallback, Metaspace decoder
    ms = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    ms.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(r"\t"), "    ")])
    ms.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="first", split=True)
    ms.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace(replacement="\u2581", prepend_scheme="first")])
    special = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    train(ms, 700, special, False)
    p = os.path.join(OUT, "metaspace.tokenizer.json")
    ms.save(p)
    write("metaspace", "metaspace.tokenizer.json", Tokenizer.from_file(p))


main()
