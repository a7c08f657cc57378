/**
 * tokenizer.json patterns are written for Rust's Oniguruma/fancy-regex; JS
 * regexes differ in two constructs LLaMA-family files use: scoped flags
 * `(?i:...)` (Llama 3's contractions) and possessive quantifiers `?+ ++ *+`
 * (Qwen-style patterns). Translate those, compile with the `u` flag.
 */

/** Both cases of an ASCII letter as a class body ("sS"), or the char itself. */
function bothCases(ch: string): string {
  const lo = ch.toLowerCase(),
    up = ch.toUpperCase();
  return lo !== up ? lo + up : ch;
}

/** Rewrite the body of a `(?i:...)` group so it matches case-insensitively without flags. */
function caseFold(body: string): string {
  let out = "",
    inClass = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") {
      // keep escapes whole, including \p{..} / \x{..} arguments
      let j = i + 2;
      if ((body[i + 1] === "p" || body[i + 1] === "P" || body[i + 1] === "x") && body[j] === "{") j = body.indexOf("}", j) + 1;
      out += body.slice(i, j);
      i = j - 1;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += /[a-zA-Z]/.test(c) ? bothCases(c) : c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      continue;
    }
    out += /[a-zA-Z]/.test(c) ? `[${bothCases(c)}]` : c;
  }
  return out;
}

/** Translate an HF regex pattern to a JS RegExp source. */
export function translatePattern(src: string): string {
  let s = src;
  // (?i:...) → explicit case classes; find the matching close paren
  for (let at = s.indexOf("(?i:"); at >= 0; at = s.indexOf("(?i:")) {
    let depth = 0,
      end = -1;
    for (let i = at; i < s.length; i++) {
      if (s[i] === "\\") {
        i++;
        continue;
      }
      if (s[i] === "(") depth++;
      else if (s[i] === ")" && --depth === 0) {
        end = i;
        break;
      }
    }
    if (end < 0) throw new Error(`unbalanced (?i: group in pattern ${JSON.stringify(src)}`);
    s = s.slice(0, at) + "(?:" + caseFold(s.slice(at + 4, end)) + ")" + s.slice(end + 1);
  }
  return dropPossessive(s);
}

/** Possessive quantifiers (`?+ *+ ++ {m,n}+`) → greedy ones: the same matches for the token patterns in use. */
function dropPossessive(s: string): string {
  let out = "",
    inClass = false,
    afterAtom = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      let j = i + 2;
      if ("pPx".includes(s[i + 1]) && s[j] === "{") j = s.indexOf("}", j) + 1;
      out += s.slice(i, j);
      i = j - 1;
      afterAtom = !inClass;
      continue;
    }
    if (inClass) {
      out += c;
      if (c === "]") {
        inClass = false;
        afterAtom = true;
      }
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      continue;
    }
    let q = "";
    if (afterAtom && (c === "?" || c === "*" || c === "+")) q = c;
    else if (afterAtom && c === "{" && /^\{\d+(,\d*)?\}/.test(s.slice(i))) q = s.slice(i, s.indexOf("}", i) + 1);
    if (q) {
      out += q;
      i += q.length - 1;
      if (s[i + 1] === "+")
        i++; // possessive marker
      else if (s[i + 1] === "?") {
        out += "?";
        i++;
      } // lazy stays lazy
      afterAtom = false;
      continue;
    }
    out += c;
    afterAtom = c !== "(" && c !== "|";
  }
  return out;
}

/** Compile an HF pattern as a global unicode JS regex, with a clear error when it cannot be. */
export function compilePattern(src: string): RegExp {
  try {
    return new RegExp(translatePattern(src), "gu");
  } catch (e) {
    throw new Error(`tokenizer.json: cannot compile regex ${JSON.stringify(src)} as a JavaScript regex (${(e as Error).message})`);
  }
}

/** Regex for an HF `{String: s}` or `{Regex: r}` pattern object. */
export function patternRegex(p: unknown): RegExp {
  const o = p as { String?: string; Regex?: string };
  if (typeof o?.String === "string") return new RegExp(o.String.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gu");
  if (typeof o?.Regex === "string") return compilePattern(o.Regex);
  throw new Error(`tokenizer.json: pattern must be {"String": ...} or {"Regex": ...}, got ${JSON.stringify(p)}`);
}
