/**
 * Byte-level BPE merging of one pre-tokenized word, as llama.cpp does it:
 * start from single (byte-mapped) characters and repeatedly merge the adjacent
 * pair with the lowest merge rank, leftmost first on ties.
 */
import { mergeSpans } from "./merge.js";
import { MERGE_SEP, type Vocab } from "./vocab.js";

/**
 * Append the ids of `word` (already mapped byte -> GPT-2 character, so one char per byte).
 * Symbols that are not tokens fall back to their single-byte tokens, missing ones are dropped.
 */
export function bpeWord(vocab: Vocab, word: string, ignoreMerges: boolean, out: number[]): void {
  const whole = vocab.tokenToId.get(word);
  if (ignoreMerges && whole !== undefined) {
    out.push(whole);
    return;
  }
  const starts = Array.from({ length: word.length }, (_, i) => i);
  const pieces = mergeSpans(word, starts, (l, r) => vocab.ranks.get(l + MERGE_SEP + r));
  for (const piece of pieces) {
    const id = vocab.tokenToId.get(piece);
    if (id !== undefined) {
      out.push(id);
      continue;
    }
    for (let k = 0; k < piece.length; k++) {
      const b = vocab.tokenToId.get(piece[k]);
      if (b !== undefined) out.push(b);
    }
  }
}
