/**
 * Added tokens (tokenizer.json `added_tokens`): cut out of the text before
 * the model sees it, leftmost-longest, as the Rust library's Aho-Corasick
 * pass does, honouring lstrip/rstrip (absorb neighbouring whitespace) and
 * single_word (only between non-word characters).
 */

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
}

export type Fragment = string | number;

const WORD = /[\p{L}\p{N}_]/u;
const SPACE = /\s/u;

/** Matcher over a fixed set of added tokens. */
export class AddedMatcher {
  // first UTF-16 unit -> candidates, longest first
  private readonly byFirst = new Map<string, AddedToken[]>();

  constructor(tokens: readonly AddedToken[]) {
    for (const t of tokens) {
      if (t.content.length === 0) continue;
      const list = this.byFirst.get(t.content[0]) ?? [];
      list.push(t);
      this.byFirst.set(t.content[0], list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.content.length - a.content.length);
  }

  get empty(): boolean {
    return this.byFirst.size === 0;
  }

  private matchAt(s: string, i: number): AddedToken | null {
    const cands = this.byFirst.get(s[i]);
    if (!cands) return null;
    for (const t of cands) {
      if (!s.startsWith(t.content, i)) continue;
      if (t.singleWord) {
        const before = i > 0 ? s[i - 1] : "",
          after = s[i + t.content.length] ?? "";
        if ((before && WORD.test(before)) || (after && WORD.test(after))) continue;
      }
      return t;
    }
    return null;
  }

  /** Split s into text fragments and token ids. */
  split(s: string): Fragment[] {
    if (this.empty) return s.length > 0 ? [s] : [];
    const out: Fragment[] = [];
    let from = 0;
    for (let i = 0; i < s.length; i++) {
      const t = this.matchAt(s, i);
      if (t === null) continue;
      let textEnd = i,
        next = i + t.content.length;
      if (t.lstrip) while (textEnd > from && SPACE.test(s[textEnd - 1])) textEnd--;
      if (t.rstrip) while (next < s.length && SPACE.test(s[next])) next++;
      if (textEnd > from) out.push(s.slice(from, textEnd));
      out.push(t.id);
      from = next;
      i = next - 1;
    }
    if (from < s.length) out.push(s.slice(from));
    return out;
  }
}
