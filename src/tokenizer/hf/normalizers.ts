/**
 * tokenizer.json `normalizer`: a function from text to text, applied to each
 * fragment between added tokens before pre-tokenization. Only the string
 * matters here (no offsets), since ffnskip needs ids, not alignments.
 */
import { patternRegex } from "./regex.js";

export type Normalizer = (s: string) => string;

type Spec = { type?: string; [k: string]: unknown };

export const SUPPORTED_NORMALIZERS = ["Sequence", "Prepend", "Replace", "NFC", "NFD", "NFKC", "NFKD", "Lowercase", "Strip"];

/** Build the normalizer a tokenizer.json declares (null = none). */
export function buildNormalizer(spec: Spec | null | undefined): Normalizer | null {
  if (spec === null || spec === undefined) return null;
  switch (spec.type) {
    case "Sequence": {
      const parts = ((spec.normalizers as Spec[]) ?? []).map(buildNormalizer).filter((n): n is Normalizer => n !== null);
      return (s) => parts.reduce((acc, n) => n(acc), s);
    }
    case "Prepend": {
      const p = String(spec.prepend);
      // like the Rust one: nothing is prepended to an empty string
      return (s) => (s.length > 0 ? p + s : s);
    }
    case "Replace": {
      const re = patternRegex(spec.pattern),
        content = String(spec.content);
      return (s) => s.replace(re, () => content);
    }
    case "NFC":
    case "NFD":
    case "NFKC":
    case "NFKD": {
      const form = spec.type;
      return (s) => s.normalize(form);
    }
    case "Lowercase":
      return (s) => s.toLowerCase();
    case "Strip": {
      const left = spec.strip_left !== false,
        right = spec.strip_right !== false;
      return (s) => (left && right ? s.trim() : left ? s.trimStart() : right ? s.trimEnd() : s);
    }
    default:
      throw new Error(`tokenizer.json: unsupported normalizer "${spec.type}"; supported: ${SUPPORTED_NORMALIZERS.join(", ")}`);
  }
}
