/**
 * Split raw text around special-token strings before tokenizing, as llama.cpp's
 * tokenizer_st_partition does: special tokens are tried longest first, each one
 * cutting every remaining text fragment at all of its occurrences. Control and
 * unknown tokens are only recognised when parseSpecial is on; user-defined tokens always are.
 */
import { ATTR_CONTROL, ATTR_UNKNOWN, type Vocab } from "./vocab.js";

/** A fragment is either raw text or one special token id. */
export type Fragment = string | number;

export function partitionSpecial(vocab: Vocab, text: string, parseSpecial: boolean): Fragment[] {
  let frags: Fragment[] = text.length > 0 ? [text] : [];
  for (const id of vocab.specialIds) {
    if (!parseSpecial && vocab.attrs[id] & (ATTR_CONTROL | ATTR_UNKNOWN)) continue;
    const tok = vocab.tokens[id];
    // most special tokens never occur: one scan of the whole text rules them out
    if (!text.includes(tok)) continue;
    const next: Fragment[] = [];
    for (const f of frags) {
      if (typeof f === "number") {
        next.push(f);
        continue;
      }
      let from = 0;
      for (let at = f.indexOf(tok); at >= 0; at = f.indexOf(tok, from)) {
        if (at > from) next.push(f.slice(from, at));
        next.push(id);
        from = at + tok.length;
      }
      if (from < f.length) next.push(from === 0 ? f : f.slice(from));
    }
    frags = next;
  }
  return frags;
}
