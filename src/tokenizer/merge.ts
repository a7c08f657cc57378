/**
 * The merge loop both BPE flavours share: symbols are spans of a string in a
 * linked list; the adjacent pair with the lowest priority is merged first
 * (leftmost on ties, via the heap), until no mergeable pair is left.
 * Byte-level BPE ranks pairs by merge rank, SentencePiece by −score.
 */
import { PairHeap } from "./heap.js";

/**
 * Merge the symbols starting at `starts` (ascending offsets into `text`) and
 * return the surviving pieces in order. `priority(l, r)` gives the priority
 * of merging the spans [l, r) text, or undefined when they cannot merge.
 */
export function mergeSpans(
  text: string,
  starts: ArrayLike<number>,
  priority: (left: string, right: string) => number | undefined,
): string[] {
  const n = starts.length;
  if (n === 0) return [];
  // symbol i covers text[start[i], start[i] + len[i]); len 0 = merged away
  const start = Int32Array.from(starts),
    len = new Int32Array(n),
    next = new Int32Array(n),
    prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    len[i] = (i + 1 < n ? start[i + 1] : text.length) - start[i];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  const heap = new PairHeap();
  const tryAdd = (l: number, r: number) => {
    if (l < 0 || r < 0) return;
    const p = priority(text.substr(start[l], len[l]), text.substr(start[r], len[r]));
    if (p !== undefined) heap.push(p, l, r, len[l] + len[r]);
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  while (heap.pop()) {
    const l = heap.topLeft,
      r = heap.topRight;
    // stale: one side was merged away or grew since this pair was queued
    if (len[l] === 0 || len[r] === 0 || len[l] + len[r] !== heap.topSize) continue;
    len[l] += len[r];
    len[r] = 0;
    next[l] = next[r];
    if (next[r] >= 0) prev[next[r]] = l;
    tryAdd(prev[l], l);
    tryAdd(l, next[l]);
  }
  const pieces: string[] = [];
  for (let i = 0; i !== -1; i = next[i]) pieces.push(text.substr(start[i], len[i]));
  return pieces;
}
