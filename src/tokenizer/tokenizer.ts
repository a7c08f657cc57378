/**
 * tokenizerFromGGUFMetadata: a llama.cpp-identical tokenizer for the `gpt2`
 * (byte-level BPE) and `llama` (SentencePiece BPE) vocabulary types.
 */
import { bpeWord } from "./bpe.js";
import { Detokenizer } from "./decode.js";
import { preTokenizerFor, splitWords, type PreTokenizer } from "./pretokenize.js";
import { partitionSpecial } from "./special.js";
import { spmEncode } from "./spm.js";
import type { DecodeOptions, EncodeOptions, StreamDecoder, Tokenizer } from "./types.js";
import { BYTE_TO_CHAR, codePoints, cpsToString, utf8, wellFormed } from "./unicode.js";
import { loadVocab, type Vocab } from "./vocab.js";

// word -> ids memo for BPE; cleared when full so memory stays bounded
const WORD_CACHE_MAX = 1 << 16;

class GGUFTokenizer implements Tokenizer {
  readonly vocabSize: number;
  readonly bos: number | null;
  readonly eos: number | null;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly eogIds: ReadonlySet<number>;
  private readonly detok: Detokenizer;
  private readonly wordCache = new Map<string, number[]>();

  constructor(
    private readonly vocab: Vocab,
    private readonly pre: PreTokenizer | null,
  ) {
    this.vocabSize = vocab.tokens.length;
    this.bos = vocab.bos;
    this.eos = vocab.eos;
    this.addBos = vocab.addBos;
    this.addEos = vocab.addEos;
    this.eogIds = vocab.eog;
    this.detok = new Detokenizer(vocab, pre?.cleanSpaces ?? false);
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    if (typeof text !== "string") throw new Error(`encode expects a string, got ${typeof text}`);
    const addSpecial = opts.addSpecial ?? true;
    const v = this.vocab;
    const out: number[] = [];
    if (addSpecial && v.addBos) out.push(v.bos!);
    const frags = partitionSpecial(v, wellFormed(text), opts.parseSpecial ?? false);
    // SPM: text at the start or right after a special token gets the space prefix
    let prevSpecial = true;
    for (const f of frags) {
      if (typeof f === "number") {
        out.push(f);
        prevSpecial = true;
        continue;
      }
      if (this.pre === null) {
        const s = v.addSpacePrefix && prevSpecial ? " " + f : f;
        spmEncode(v, s.replaceAll(" ", "\u2581"), out);
      } else {
        this.encodeBpe(f, out);
      }
      prevSpecial = false;
    }
    if (addSpecial && v.addEos) out.push(v.eos!);
    return out;
  }

  private encodeBpe(text: string, out: number[]): void {
    const pre = this.pre!;
    const cps = codePoints(text);
    let start = 0;
    for (const len of splitWords(cps, pre)) {
      const word = cpsToString(cps, start, start + len);
      start += len;
      let ids = this.wordCache.get(word);
      if (ids === undefined) {
        let mapped = "";
        for (const b of utf8(word)) mapped += BYTE_TO_CHAR[b];
        ids = [];
        bpeWord(this.vocab, mapped, pre.ignoreMerges, ids);
        if (this.wordCache.size >= WORD_CACHE_MAX) this.wordCache.clear();
        this.wordCache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    return this.detok.decode(ids, opts.skipSpecial ?? false);
  }

  tokenToPiece(id: number): string {
    this.detok.checkId(id);
    return this.vocab.tokens[id];
  }

  createStreamDecoder(opts: DecodeOptions = {}): StreamDecoder {
    return this.detok.stream(opts.skipSpecial ?? false);
  }
}

/**
 * Build a tokenizer from a GGUF metadata record (`tokenizer.ggml.*` keys; string
 * arrays as string[], numeric arrays as typed or plain arrays). Throws an Error
 * naming the supported values for an unsupported tokenizer model or pre-tokenizer.
 */
export function tokenizerFromGGUFMetadata(md: Record<string, unknown>): Tokenizer {
  if (md === null || typeof md !== "object") throw new Error("tokenizerFromGGUFMetadata expects a metadata record");
  const model = md["tokenizer.ggml.model"];
  const preName = typeof md["tokenizer.ggml.pre"] === "string" ? (md["tokenizer.ggml.pre"] as string) : "";
  // resolve the pre-tokenizer first: it sets defaults the vocabulary needs (llama3 adds BOS)
  const pre = model === "gpt2" ? preTokenizerFor(preName) : null;
  const vocab = loadVocab(md, () => ({ addBos: pre?.addBos }));
  return new GGUFTokenizer(vocab, pre);
}
