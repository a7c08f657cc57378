/**
 * tokenizer.json `pre_tokenizer`: splits normalized text into pieces the BPE
 * model merges independently. Each step refines the pieces of the previous
 * one (a piece never crosses an earlier boundary), as in the Rust library.
 */
import { BYTE_TO_CHAR, utf8 } from "../unicode.js";
import { compilePattern, patternRegex } from "./regex.js";

/** A piece of text; `atStart` is true only for a piece beginning at offset 0 of the original input. */
export interface Piece {
  s: string;
  atStart: boolean;
}

export type PreTokenizer = (pieces: Piece[]) => Piece[];

type Spec = { type?: string; [k: string]: unknown };
type Behavior = "Removed" | "Isolated" | "MergedWithPrevious" | "MergedWithNext" | "Contiguous";

export const SUPPORTED_PRE_TOKENIZERS = ["Sequence", "ByteLevel", "Split", "Metaspace", "Digits", "Whitespace", "WhitespaceSplit"];
const BEHAVIORS: Behavior[] = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"];

// GPT-2's pattern, used by ByteLevel when use_regex is set
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** Cut one string at the matches of `re` and regroup matches/gaps as `behavior` says. */
export function splitBy(s: string, re: RegExp, behavior: Behavior, invert = false): string[] {
  // segments covering s in order: [text, isMatch]
  const segs: [string, boolean][] = [];
  let prev = 0;
  re.lastIndex = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    if (m.index > prev) segs.push([s.slice(prev, m.index), invert]);
    segs.push([m[0], !invert]);
    prev = m.index + m[0].length;
  }
  if (prev < s.length) segs.push([s.slice(prev), invert]);

  const out: string[] = [];
  switch (behavior) {
    case "Removed":
      for (const [t, isMatch] of segs) if (!isMatch) out.push(t);
      return out;
    case "Isolated":
      return segs.map(([t]) => t);
    case "MergedWithPrevious": {
      // a match joins the non-match before it
      let prevMatch = false;
      for (const [t, isMatch] of segs) {
        if (isMatch && !prevMatch && out.length > 0) out[out.length - 1] += t;
        else out.push(t);
        prevMatch = isMatch;
      }
      return out;
    }
    case "MergedWithNext": {
      // a match joins the non-match after it: the mirror image, walked backwards
      let nextMatch = false;
      for (let i = segs.length - 1; i >= 0; i--) {
        const [t, isMatch] = segs[i];
        if (isMatch && !nextMatch && out.length > 0) out[out.length - 1] = t + out[out.length - 1];
        else out.push(t);
        nextMatch = isMatch;
      }
      return out.reverse();
    }
    case "Contiguous": {
      let prevMatch: boolean | null = null;
      for (const [t, isMatch] of segs) {
        if (isMatch === prevMatch && out.length > 0) out[out.length - 1] += t;
        else out.push(t);
        prevMatch = isMatch;
      }
      return out;
    }
  }
}

/** Apply a string splitter to every piece, keeping the at-start flag on the first sub-piece only. */
function eachPiece(split: (p: Piece) => string[]): PreTokenizer {
  return (pieces) => {
    const out: Piece[] = [];
    for (const p of pieces) {
      const parts = split(p);
      for (let i = 0; i < parts.length; i++) out.push({ s: parts[i], atStart: p.atStart && i === 0 });
    }
    return out;
  };
}

function behaviorOf(v: unknown): Behavior {
  if (BEHAVIORS.includes(v as Behavior)) return v as Behavior;
  throw new Error(`tokenizer.json: unsupported Split behavior "${v}"; supported: ${BEHAVIORS.join(", ")}`);
}

/** Legacy files say add_prefix_space; newer ones prepend_scheme. */
function prependScheme(spec: Spec): "always" | "first" | "never" {
  const s = spec.prepend_scheme ?? (spec.add_prefix_space === false ? "never" : "always");
  if (s === "always" || s === "first" || s === "never") return s;
  throw new Error(`tokenizer.json: unsupported Metaspace prepend_scheme "${s}"; supported: always, first, never`);
}

/** Build the pre-tokenizer a tokenizer.json declares (null = none: the whole fragment is one piece). */
export function buildPreTokenizer(spec: Spec | null | undefined): PreTokenizer | null {
  if (spec === null || spec === undefined) return null;
  switch (spec.type) {
    case "Sequence": {
      const parts = ((spec.pretokenizers as Spec[]) ?? []).map(buildPreTokenizer).filter((p): p is PreTokenizer => p !== null);
      return (pieces) => parts.reduce((acc, p) => p(acc), pieces);
    }
    case "ByteLevel": {
      const addPrefix = spec.add_prefix_space === true,
        re = spec.use_regex !== false ? compilePattern(GPT2_PATTERN) : null;
      return eachPiece((p) => {
        const s = addPrefix && !p.s.startsWith(" ") ? " " + p.s : p.s;
        const parts = re ? splitBy(s, re, "Isolated") : [s];
        // bytes -> printable characters, the alphabet byte-level vocabularies are written in
        return parts.map((w) => {
          let m = "";
          for (const b of utf8(w)) m += BYTE_TO_CHAR[b];
          return m;
        });
      });
    }
    case "Split": {
      const re = patternRegex(spec.pattern),
        behavior = behaviorOf(spec.behavior),
        invert = spec.invert === true;
      return eachPiece((p) => splitBy(p.s, re, behavior, invert));
    }
    case "Metaspace": {
      const rep = String(spec.replacement ?? "\u2581"),
        scheme = prependScheme(spec),
        split = spec.split !== false;
      const sep = new RegExp(rep.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gu");
      return eachPiece((p) => {
        let s = p.s.replaceAll(" ", rep);
        if (!s.startsWith(rep) && (scheme === "always" || (scheme === "first" && p.atStart))) s = rep + s;
        return split ? splitBy(s, sep, "MergedWithNext") : [s];
      });
    }
    case "Digits": {
      const individual = spec.individual_digits === true,
        re = /[0-9]/gu;
      return eachPiece((p) => splitBy(p.s, re, individual ? "Isolated" : "Contiguous"));
    }
    case "Whitespace": {
      const re = /\w+|[^\w\s]+/gu;
      return eachPiece((p) => splitBy(p.s, re, "Removed", true));
    }
    case "WhitespaceSplit": {
      const re = /\s+/gu;
      return eachPiece((p) => splitBy(p.s, re, "Removed"));
    }
    default:
      throw new Error(`tokenizer.json: unsupported pre_tokenizer "${spec.type}"; supported: ${SUPPORTED_PRE_TOKENIZERS.join(", ")}`);
  }
}
