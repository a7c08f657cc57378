/**
 * Code point classes the pre-tokenizers need, with llama.cpp's definitions:
 * letter = \p{L}, number = \p{N}, whitespace = the Unicode White_Space
 * property (which, unlike JS \s, excludes U+FEFF and includes U+0085).
 * Plus the GPT-2 byte <-> printable-character map used by byte-level BPE.
 */

const LETTER = 1,
  NUMBER = 2,
  SPACE = 4,
  KNOWN = 8;
// lazily filled per code point: testing a regex once per distinct code point is cheap
const flagCache = new Uint8Array(0x110000);
const reLetter = /\p{L}/u;
const reNumber = /\p{N}/u;

function isWhiteSpaceProp(cp: number): boolean {
  return (
    (cp >= 0x09 && cp <= 0x0d) ||
    cp === 0x20 ||
    cp === 0x85 ||
    cp === 0xa0 ||
    cp === 0x1680 ||
    (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    cp === 0x202f ||
    cp === 0x205f ||
    cp === 0x3000
  );
}

function flags(cp: number): number {
  if (cp < 0 || cp >= 0x110000) return KNOWN;
  let f = flagCache[cp];
  if (f === 0) {
    const s = String.fromCodePoint(cp);
    f = KNOWN;
    if (reLetter.test(s)) f |= LETTER;
    if (reNumber.test(s)) f |= NUMBER;
    if (isWhiteSpaceProp(cp)) f |= SPACE;
    flagCache[cp] = f;
  }
  return f;
}

export const isLetter = (cp: number): boolean => (flags(cp) & LETTER) !== 0;
export const isNumber = (cp: number): boolean => (flags(cp) & NUMBER) !== 0;
export const isWhitespace = (cp: number): boolean => (flags(cp) & SPACE) !== 0;

/** Code points of a string (lone surrogates become U+FFFD, as UTF-8 conversion would). */
export function codePoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out.push(0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00));
        i++;
        continue;
      }
    }
    out.push(c >= 0xd800 && c <= 0xdfff ? 0xfffd : c);
  }
  return out;
}

/** String of cps[start..end), built in chunks (a spread of a huge array would overflow the stack). */
export function cpsToString(cps: readonly number[], start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 8192) s += String.fromCodePoint(...cps.slice(i, Math.min(end, i + 8192)));
  return s;
}

/** Replace lone surrogates by U+FFFD so the string round-trips through UTF-8. */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
}

const encoder = new TextEncoder();
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * GPT-2's reversible byte -> character map: printable Latin-1 bytes map to
 * themselves, the other 68 bytes to U+0100.. in byte order, so every byte string
 * becomes a printable string of the same length.
 */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const map: string[] = new Array(256);
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return map;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));
