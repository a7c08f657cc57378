/**
 * Byte-level BPE pre-tokenizers: split text into words before merging.
 * Each `tokenizer.ggml.pre` value names a list of splitters applied in turn,
 * every splitter refining the pieces the previous one produced (a piece never
 * crosses an earlier boundary), exactly as llama.cpp's unicode_regex_split does.
 * The two big GPT-2 / Llama-3 patterns are hand-written scanners (as in llama.cpp),
 * because their `\s+(?!\S)` lookahead must stop at piece boundaries, which a
 * regex run over the whole text would not do.
 */
import { cpsToString, isLetter, isNumber, isWhitespace } from "./unicode.js";

/** Refines `lens` (piece lengths in code points over `cps`) into smaller pieces. */
export type Splitter = (cps: readonly number[], lens: readonly number[]) => number[];

export interface PreTokenizer {
  splitters: Splitter[];
  /** llama3-style: a whole word that is a token skips the merges */
  ignoreMerges: boolean;
  /** BOS is added unless the metadata says otherwise */
  addBos: boolean;
  /** detokenizer removes the space before ?!., and some contractions */
  cleanSpaces: boolean;
}

/** Run a JS regex (global, unicode) over each piece; matches and the gaps between them become pieces. */
export function regexSplitter(re: RegExp): Splitter {
  if (!re.global || !re.unicode) throw new Error("regexSplitter needs a /gu regex");
  return (cps, lens) => {
    const out: number[] = [];
    let start = 0;
    for (const len of lens) {
      const s = cpsToString(cps, start, start + len);
      // UTF-16 index -> code point index within this piece
      let last = 0,
        lastCp = 0;
      const cpAt = (u: number) => {
        for (let i = last; i < u; i++) {
          const c = s.charCodeAt(i);
          if (c >= 0xd800 && c <= 0xdbff) i++;
          lastCp++;
        }
        last = u;
        return lastCp;
      };
      let prevEnd = 0;
      re.lastIndex = 0;
      for (let m = re.exec(s); m !== null; m = re.exec(s)) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        const a = cpAt(m.index),
          b = cpAt(m.index + m[0].length);
        if (a > prevEnd) out.push(a - prevEnd);
        out.push(b - a);
        prevEnd = b;
      }
      if (len > prevEnd) out.push(len - prevEnd);
      start += len;
    }
    return out;
  };
}

/** Shared scaffolding for the hand-written scanners: walks each piece, `step` returns the end of the next word. */
function scanner(step: (cps: readonly number[], pos: number, end: number) => number): Splitter {
  return (cps, lens) => {
    const out: number[] = [];
    let start = 0;
    for (const len of lens) {
      const end = start + len;
      let pos = start;
      while (pos < end) {
        const next = step(cps, pos, end);
        out.push(next - pos);
        pos = next;
      }
      start = end;
    }
    return out;
  };
}

const APOS = 0x27,
  SPACE = 0x20,
  CR = 0x0d,
  LF = 0x0a;

/** English contractions 's 't 'm 'd 're 've 'll at pos; returns the end or -1. */
function contraction(cps: readonly number[], pos: number, end: number, foldCase: boolean): number {
  if (cps[pos] !== APOS || pos + 1 >= end) return -1;
  const low = (c: number) => (foldCase && c >= 0x41 && c <= 0x5a ? c + 32 : c);
  const a = low(cps[pos + 1]);
  if (a === 0x73 || a === 0x74 || a === 0x6d || a === 0x64) return pos + 2; // s t m d
  if (pos + 2 < end) {
    const b = low(cps[pos + 2]);
    if ((a === 0x72 && b === 0x65) || (a === 0x76 && b === 0x65) || (a === 0x6c && b === 0x6c)) return pos + 3; // re ve ll
  }
  return -1;
}

/** Whitespace run handling shared by both scanners: `\s+(?!\S)` then `\s+`, else one code point. */
function whitespaceOrOne(cps: readonly number[], pos: number, end: number): number {
  let n = 0;
  while (pos + n < end && isWhitespace(cps[pos + n])) n++;
  // a run followed by a non-space leaves its last space to prefix the next word
  if (n > 1 && pos + n < end) return pos + n - 1;
  if (n > 0) return pos + n;
  return pos + 1;
}

const isOther = (c: number) => !isWhitespace(c) && !isLetter(c) && !isNumber(c);

/** GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ */
export const gpt2Splitter: Splitter = scanner((cps, pos, end) => {
  const c = contraction(cps, pos, end, false);
  if (c >= 0) return c;
  const cp = cps[pos];
  // class of the character after an optional leading space
  const q = cp === SPACE ? pos + 1 : pos;
  if (q < end) {
    const c2 = cps[q];
    let p = q;
    if (isLetter(c2)) {
      while (p < end && isLetter(cps[p])) p++;
      return p;
    }
    if (isNumber(c2)) {
      while (p < end && isNumber(cps[p])) p++;
      return p;
    }
    if (isOther(c2)) {
      while (p < end && isOther(cps[p])) p++;
      return p;
    }
  }
  return whitespaceOrOne(cps, pos, end);
});

/** Llama-3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
export const llama3Splitter: Splitter = scanner((cps, pos, end) => {
  const c = contraction(cps, pos, end, true);
  if (c >= 0) return c;
  const cp = cps[pos];
  if (cp !== CR && cp !== LF && !isNumber(cp)) {
    if (isLetter(cp) || (pos + 1 < end && isLetter(cps[pos + 1]))) {
      let p = pos + 1;
      while (p < end && isLetter(cps[p])) p++;
      return p;
    }
  }
  if (isNumber(cp)) {
    let p = pos;
    while (p < end && p - pos < 3 && isNumber(cps[p])) p++;
    return p;
  }
  // a lone trailing space also lands here (nothing follows it in the piece)
  const q = cp === SPACE ? pos + 1 : pos;
  if (q >= end || isOther(cps[q])) {
    let p = q;
    while (p < end && isOther(cps[p])) p++;
    while (p < end && (cps[p] === CR || cps[p] === LF)) p++;
    return p;
  }
  let n = 0,
    lastNl = -1;
  while (pos + n < end && isWhitespace(cps[pos + n])) {
    if (cps[pos + n] === CR || cps[pos + n] === LF) lastNl = pos + n + 1;
    n++;
  }
  if (lastNl > 0) return lastNl; // \s*[\r\n]+
  return whitespaceOrOne(cps, pos, end);
});

const digitsEach = regexSplitter(/\p{N}/gu);

const GPT2: PreTokenizer = { splitters: [gpt2Splitter], ignoreMerges: false, addBos: false, cleanSpaces: true };
const SMOLLM: PreTokenizer = { splitters: [digitsEach, gpt2Splitter], ignoreMerges: false, addBos: false, cleanSpaces: false };
const LLAMA3: PreTokenizer = { splitters: [llama3Splitter], ignoreMerges: true, addBos: true, cleanSpaces: true };
const DEFAULT: PreTokenizer = {
  splitters: [regexSplitter(/[\p{P}$+<=>^~|]+/gu), gpt2Splitter, regexSplitter(/\p{N}+/gu), regexSplitter(/[0-9][0-9][0-9]/gu)],
  ignoreMerges: false,
  addBos: false,
  cleanSpaces: true,
};

/** `tokenizer.ggml.pre` values we implement, with llama.cpp's names. */
const PRE_TOKENIZERS: Record<string, PreTokenizer> = {
  default: DEFAULT,
  "gpt-2": GPT2,
  "phi-2": GPT2,
  mpt: GPT2,
  olmo: GPT2,
  smollm: SMOLLM,
  "command-r": SMOLLM,
  starcoder: { ...SMOLLM, cleanSpaces: true },
  refact: { ...SMOLLM, cleanSpaces: true },
  codeshell: { ...SMOLLM, cleanSpaces: true },
  exaone: { ...SMOLLM, cleanSpaces: true },
  "minerva-7b": { ...SMOLLM, cleanSpaces: true },
  llama3: LLAMA3,
  "llama-v3": LLAMA3,
  "llama-bpe": LLAMA3,
  falcon3: LLAMA3,
};

export const SUPPORTED_PRE = Object.keys(PRE_TOKENIZERS);

/** The pre-tokenizer for a `tokenizer.ggml.pre` value; a missing value means "default", as in llama.cpp. */
export function preTokenizerFor(pre: string): PreTokenizer {
  const p = PRE_TOKENIZERS[pre === "" ? "default" : pre];
  if (!p) {
    throw new Error(`unsupported tokenizer.ggml.pre ${JSON.stringify(pre)} for a gpt2 tokenizer; supported: ${SUPPORTED_PRE.join(", ")}`);
  }
  return p;
}

/** Split code points into words (as code point arrays' lengths) with the given pre-tokenizer. */
export function splitWords(cps: readonly number[], pre: PreTokenizer): number[] {
  let lens = cps.length > 0 ? [cps.length] : [];
  for (const s of pre.splitters) lens = s(cps, lens);
  return lens;
}
