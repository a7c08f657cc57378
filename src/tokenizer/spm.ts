/**
 * SentencePiece-style BPE (llama.cpp's SPM vocab type): the whole text, spaces
 * already escaped as U+2581, starts as single code points; the adjacent pair
 * whose concatenation is the highest-scoring token is merged first (leftmost
 * on ties). Pieces that are not tokens are emitted byte by byte as <0xXX>.
 */
import { mergeSpans } from "./merge.js";
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
  const pieces = mergeSpans(text, starts, (l, r) => {
    const id = vocab.tokenToId.get(l + r);
    return id === undefined ? undefined : -vocab.scores[id];
  });
  for (const piece of pieces) {
    const id = vocab.tokenToId.get(piece);
    if (id !== undefined) {
      out.push(id);
      continue;
    }
    for (const byte of utf8(piece)) out.push(byteToken(vocab, byte));
  }
}
