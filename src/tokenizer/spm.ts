/**
 * SentencePiece-style BPE (llama.cpp's SPM vocab type): the whole text, spaces
 * already escaped as U+2581, starts as single code points; the adjacent pair
 * whose concatenation is the highest-scoring token is merged first (leftmost
 * on ties). Pieces that are not tokens are emitted byte by byte as <0xXX>.
 */
import { PairHeap } from "./heap.js";
import { utf8 } from "./unicode.js";
import type { Vocab } from "./vocab.js";


const HEX = "0123456789ABCDEF";

/** Token for one raw byte: "<0xXX>", else the byte itself as a one-character token. */
export function byteToken(vocab: Vocab, byte: number): number {
  const id = vocab.tokenToId.get(`<0x${HEX[byte >> 4]}${HEX[byte & 15]}>`);
  if (id !== undefined) return id;
  const direct = byte < 0x80 ? vocab.tokenToId.get(String.fromCharCode(byte)) : undefined;
  if (direct === undefined) throw new Error(`vocabulary has no byte-fallback token for byte 0x${byte.toString(16)}`);
  return direct;
}

export function spmEncode(vocab: Vocab, text: string, out: number[]): void {
  // symbols are code points; start/len are in UTF-16 units of `text`
  const starts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    starts.push(i);
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) i++;
  }
  const n = starts.length;
  if (n === 0) return;
  const start = Int32Array.from(starts), len = new Int32Array(n), next = new Int32Array(n), prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    len[i] = (i + 1 < n ? start[i + 1] : text.length) - start[i];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  const heap = new PairHeap();
  const tryAdd = (l: number, r: number) => {
    if (l < 0 || r < 0) return;
    const size = len[l] + len[r];
    const id = vocab.tokenToId.get(text.substr(start[l], size));
    if (id !== undefined) heap.push(-vocab.scores[id], l, r, size);
  };
  for (let i = 1; i < n; i++) tryAdd(i - 1, i);
  while (heap.pop()) {
    const l = heap.topLeft, r = heap.topRight;
    if (len[l] === 0 || len[r] === 0 || len[l] + len[r] !== heap.topSize) continue;
    len[l] += len[r];
    len[r] = 0;
    next[l] = next[r];
    if (next[r] >= 0) prev[next[r]] = l;
    tryAdd(prev[l], l);
    tryAdd(l, next[l]);
  }
  for (let i = 0; i !== -1; i = next[i]) {
    const piece = text.substr(start[i], len[i]);
    const id = vocab.tokenToId.get(piece);
    if (id !== undefined) { out.push(id); continue; }
    for (const byte of utf8(piece)) out.push(byteToken(vocab, byte));
  }
}
