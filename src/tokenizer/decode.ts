/**
 * Token ids -> bytes -> text, following llama.cpp's token_to_piece / detokenize:
 * control and unknown tokens render only when special tokens are wanted,
 * byte tokens are raw bytes (possibly half a UTF-8 character), SPM pieces turn
 * U+2581 back into spaces, byte-level BPE pieces map characters back to bytes.
 */
import { CHAR_TO_BYTE, utf8 } from "./unicode.js";
import { ATTR_BYTE, ATTR_CONTROL, ATTR_NORMAL, ATTR_UNKNOWN, ATTR_USER_DEFINED, type Vocab } from "./vocab.js";
import type { StreamDecoder } from "./types.js";

const EMPTY = new Uint8Array(0);
const SPACE = 0x20;

export class Detokenizer {
  /** pieces with special tokens rendered, built on first use */
  private cache: (Uint8Array | undefined)[];
  private readonly text = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(
    private readonly vocab: Vocab,
    private readonly cleanSpaces: boolean,
  ) {
    this.cache = new Array(vocab.tokens.length);
  }

  checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocab.tokens.length) {
      throw new Error(`token id ${id} is out of range (vocabulary has ${this.vocab.tokens.length} tokens)`);
    }
  }

  /** Bytes of one token; `special` = render control/unknown tokens as their text. */
  piece(id: number, special: boolean): Uint8Array {
    this.checkId(id);
    const attr = this.vocab.attrs[id];
    if (!special && attr & (ATTR_CONTROL | ATTR_UNKNOWN)) return EMPTY;
    let p = this.cache[id];
    if (p === undefined) this.cache[id] = p = this.build(id, attr);
    return p;
  }

  private build(id: number, attr: number): Uint8Array {
    const v = this.vocab,
      text = v.tokens[id];
    if (attr & (ATTR_CONTROL | ATTR_UNKNOWN | ATTR_USER_DEFINED)) return utf8(text);
    if (attr & ATTR_NORMAL) {
      if (v.kind === "spm") return utf8(text.replaceAll("\u2581", " "));
      const bytes: number[] = [];
      for (const ch of text) {
        const b = CHAR_TO_BYTE.get(ch);
        if (b !== undefined) {
          bytes.push(b);
          continue;
        }
        // not a byte-level character: llama.cpp spells it out rather than failing
        const hex = Array.from(utf8(ch), (x) => x.toString(16).padStart(2, "0")).join("");
        bytes.push(...utf8(`[UNK_BYTE_0x${hex}${text}]`));
      }
      return Uint8Array.from(bytes);
    }
    if (attr & ATTR_BYTE) return Uint8Array.of(parseInt(text.substr(3, 2), 16));
    return EMPTY; // unused / undefined tokens render as nothing
  }

  /** llama_detokenize: removeSpecial drops an added BOS/EOS, unparseSpecial renders control tokens. */
  bytes(ids: readonly number[], removeSpecial: boolean, unparseSpecial: boolean): Uint8Array {
    const v = this.vocab;
    let lo = 0,
      hi = ids.length;
    // the space the SPM encoder put in front of the text is not part of it
    let removeSpace = v.addSpacePrefix;
    if (removeSpecial && v.addBos && hi > 0 && ids[0] === v.bos) {
      removeSpace = false;
      lo++;
    }
    if (removeSpecial && v.addEos && hi > lo && ids[hi - 1] === v.eos) hi--;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = lo; i < hi; i++) {
      let p = this.piece(ids[i], unparseSpecial);
      if (removeSpace && p.length > 0 && p[0] === SPACE) p = p.subarray(1);
      removeSpace = false;
      parts.push(p);
      total += p.length;
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return this.cleanSpaces ? cleanUpSpaces(out) : out;
  }

  decode(ids: readonly number[], skipSpecial: boolean): string {
    return this.text.decode(this.bytes(ids, skipSpecial, !skipSpecial));
  }

  stream(skipSpecial: boolean): StreamDecoder {
    const v = this.vocab;
    // ignoreBOM: a U+FEFF starting a chunk is text, not a byte-order mark
    const dec = new TextDecoder("utf-8", { ignoreBOM: true });
    let pending: Uint8Array = EMPTY;
    let first = true;
    let removeSpace = v.addSpacePrefix;
    return {
      push: (id: number): string => {
        if (first) {
          first = false;
          if (skipSpecial && v.addBos && id === v.bos) {
            removeSpace = false;
            return "";
          }
        }
        let p = this.piece(id, !skipSpecial);
        if (removeSpace && p.length > 0 && p[0] === SPACE) p = p.subarray(1);
        removeSpace = false;
        if (p.length === 0) return "";
        const buf = new Uint8Array(pending.length + p.length);
        buf.set(pending);
        buf.set(p, pending.length);
        const cut = completeUtf8Prefix(buf);
        pending = buf.slice(cut);
        return dec.decode(buf.subarray(0, cut));
      },
      flush: (): string => {
        const s = dec.decode(pending);
        pending = EMPTY;
        return s;
      },
    };
  }
}

/** Length of the longest prefix that does not end inside an unfinished UTF-8 sequence. */
export function completeUtf8Prefix(b: Uint8Array): number {
  const n = b.length;
  for (let k = 1; k <= Math.min(4, n); k++) {
    const x = b[n - k];
    if ((x & 0xc0) === 0x80) continue; // continuation byte: look further back
    if (x < 0xc0) return n; // ASCII ends a character
    const need = x >= 0xf0 ? 4 : x >= 0xe0 ? 3 : 2;
    return need > k ? n - k : n;
  }
  return n; // only continuation bytes: nothing to wait for
}

/** llama.cpp's clean_up_tokenization_spaces (HF's rules), done in place over bytes. */
function cleanUpSpaces(t: Uint8Array): Uint8Array {
  const Q = 0x3f,
    EX = 0x21,
    DOT = 0x2e,
    COMMA = 0x2c,
    AP = 0x27;
  // " ?" " !" " ." " ," lose the space
  let n = t.length,
    total = n ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = t[i];
    if (t[i - 1] === SPACE && (x === Q || x === EX || x === DOT || x === COMMA)) total--;
    t[total++] = x;
  }
  // " ' " becomes "'"
  n = total;
  total = n ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = t[i];
    if (x === AP && i + 1 < n && t[i - 1] === SPACE && t[i + 1] === SPACE) {
      total--;
      t[++i] = 0;
    }
    t[total++] = x;
  }
  // " 's" " 'm" " 're" " 've" lose the space
  n = total;
  total = n ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = t[i];
    if (t[i - 1] === SPACE && x === AP && i + 1 < n) {
      const x1 = t[i + 1];
      if (x1 === 0x73 || x1 === 0x6d) total--;
      else if (i + 2 < n) {
        const x2 = t[i + 2];
        if ((x1 === 0x72 && x2 === 0x65) || (x1 === 0x76 && x2 === 0x65)) total--;
      }
    }
    t[total++] = x;
  }
  return t.subarray(0, total);
}
