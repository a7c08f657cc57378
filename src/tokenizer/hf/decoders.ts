/**
 * tokenizer.json `decoder`: token strings -> text. Each decoder maps a list
 * of token strings to a new list (ByteLevel and Fuse collapse it to one);
 * the final list is concatenated.
 */
import { CHAR_TO_BYTE, utf8 } from "../unicode.js";
import { patternRegex } from "./regex.js";

export type Decoder = (tokens: string[]) => string[];

type Spec = { type?: string; [k: string]: unknown };

export const SUPPORTED_DECODERS = ["Sequence", "ByteLevel", "Replace", "ByteFallback", "Fuse", "Strip", "Metaspace"];

const lossy = new TextDecoder("utf-8", { fatal: false });
const strict = new TextDecoder("utf-8", { fatal: true });

/** "<0xE4>" -> 0xE4, anything else -> -1 */
function byteToken(t: string): number {
  if (t.length !== 6 || !t.startsWith("<0x") || t[5] !== ">") return -1;
  const v = parseInt(t.slice(3, 5), 16);
  return Number.isNaN(v) ? -1 : v;
}

/** Build the decoder a tokenizer.json declares (null = tokens joined by spaces, as the Rust library does). */
export function buildDecoder(spec: Spec | null | undefined): Decoder {
  if (spec === null || spec === undefined) return (toks) => [toks.join(" ")];
  switch (spec.type) {
    case "Sequence": {
      const parts = ((spec.decoders as Spec[]) ?? []).map(buildDecoder);
      return (toks) => parts.reduce((acc, d) => d(acc), toks);
    }
    case "ByteLevel":
      return (toks) => {
        const bytes: number[] = [];
        for (const t of toks) {
          const mapped: number[] = [];
          let ok = true;
          for (const ch of t) {
            const b = CHAR_TO_BYTE.get(ch);
            if (b === undefined) {
              ok = false;
              break;
            }
            mapped.push(b);
          }
          // a token outside the byte alphabet (an added token) passes as its own UTF-8
          if (ok) for (const b of mapped) bytes.push(b);
          else for (const b of utf8(t)) bytes.push(b);
        }
        return [lossy.decode(new Uint8Array(bytes))];
      };
    case "Replace": {
      const re = patternRegex(spec.pattern),
        content = String(spec.content);
      return (toks) => toks.map((t) => t.replace(re, () => content));
    }
    case "ByteFallback":
      return (toks) => {
        const out: string[] = [];
        let pending: number[] = [];
        const flushBytes = () => {
          if (pending.length === 0) return;
          // valid UTF-8 becomes its text; otherwise one U+FFFD per byte
          try {
            out.push(strict.decode(new Uint8Array(pending)));
          } catch {
            for (let i = 0; i < pending.length; i++) out.push("\ufffd");
          }
          pending = [];
        };
        for (const t of toks) {
          const b = byteToken(t);
          if (b >= 0) {
            pending.push(b);
            continue;
          }
          flushBytes();
          out.push(t);
        }
        flushBytes();
        return out;
      };
    case "Fuse":
      return (toks) => [toks.join("")];
    case "Strip": {
      const c = String(spec.content),
        start = Number(spec.start ?? 0),
        stop = Number(spec.stop ?? 0);
      return (toks) =>
        toks.map((t) => {
          let a = 0,
            b = t.length;
          for (let i = 0; i < start && t.startsWith(c, a); i++) a += c.length;
          for (let i = 0; i < stop && b - c.length >= a && t.startsWith(c, b - c.length); i++) b -= c.length;
          return t.slice(a, b);
        });
    }
    case "Metaspace": {
      const rep = String(spec.replacement ?? "\u2581");
      const never = (spec.prepend_scheme ?? (spec.add_prefix_space === false ? "never" : "always")) === "never";
      // as the Rust decoder: in the first token the replacement is dropped, elsewhere it becomes a space
      return (toks) => toks.map((t, i) => t.replaceAll(rep, i === 0 && !never ? "" : " "));
    }
    default:
      throw new Error(`tokenizer.json: unsupported decoder "${spec.type}"; supported: ${SUPPORTED_DECODERS.join(", ")}`);
  }
}
