/**
 * Byte-level BPE merging of one pre-tokenized word, as llama.cpp does it:
 * start from single (byte-mapped) characters and repeatedly merge the adjacent
 * pair with the lowest merge rank, leftmost first on ties.
 */
import { PairHeap } from "./heap.js";
import { MERGE_SEP, type Vocab } from "./vocab.js";


/**
 * Append the ids of `word` (already mapped byte -> GPT-2 character, so one char per byte).
 * Symbols that are not tokens fall back to their single-byte tokens, missing ones are dropped.
 */
export function bpeWord(vocab: Vocab, word: string, ignoreMerges: boolean, out: number[]): void {
  const whole = vocab.tokenToId.get(word);
  if (ignoreMerges && whole !== undefined) { out.push(whole); return; }
  const n = word.length;
  // symbol i covers word[start[i], start[i] + len[i]); len 0 = merged away
  const start = new Int32Array(n), len = new Int32Array(n), next = new Int32Array(n), prev = new Int32Array(n);
  for (let i = 0; i < n; i++) { start[i] = i; len[i] = 1; prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; }
  const heap = new PairHeap();
  const tryAdd = (l: number, r: number) => {
    if (l < 0 || r < 0) return;
    const key = word.substr(start[l], len[l]) + MERGE_SEP + word.substr(start[r], len[r]);
    const rank = vocab.ranks.get(key);
    if (rank !== undefined) heap.push(rank, l, r, len[l] + len[r]);
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  while (heap.pop()) {
    const l = heap.topLeft, r = heap.topRight;
    // stale: one side was merged away or grew since this pair was queued
    if (len[l] === 0 || len[r] === 0 || len[l] + len[r] !== heap.topSize) continue;
    len[l] += len[r];
    len[r] = 0;
    next[l] = next[r];
    if (next[r] >= 0) prev[next[r]] = l;
    tryAdd(prev[l], l);
    tryAdd(l, next[l]);
  }
  for (let i = 0; i !== -1; i = next[i]) {
    const piece = word.substr(start[i], len[i]);
    const id = vocab.tokenToId.get(piece);
    if (id !== undefined) { out.push(id); continue; }
    for (let k = 0; k < piece.length; k++) {
      const b = vocab.tokenToId.get(piece[k]);
      if (b !== undefined) out.push(b);
    }
  }
}
