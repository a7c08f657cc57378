/**
 * ROUGE-1/2/L and token F1, small and exact.
 *
 * Tokenization follows the rouge_score package's default tokenizer (no
 * stemming): lowercase, every character outside [a-z0-9] becomes a space,
 * split on whitespace. ROUGE-N counts n-gram overlap with clipping (an n-gram
 * matches at most as often as it occurs in the other text); ROUGE-L uses the
 * longest common subsequence of the two token lists. Each returns precision,
 * recall and F1 = 2PR / (P + R) (0 when either side is empty).
 */

export interface PRF {
  p: number;
  r: number;
  f: number;
}

/** rouge_score's default tokenizer (no stemmer). */
export function rougeTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim()
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

function prf(overlap: number, nCand: number, nRef: number): PRF {
  const p = nCand > 0 ? overlap / nCand : 0;
  const r = nRef > 0 ? overlap / nRef : 0;
  return { p, r, f: p + r > 0 ? (2 * p * r) / (p + r) : 0 };
}

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  // "\u0000" cannot occur in a token, so joined keys are unambiguous
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join("\u0000");
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

/** Clipped n-gram overlap between token lists. */
export function overlapPRF(cand: readonly string[], ref: readonly string[], n: number): PRF {
  const c = ngramCounts(cand, n),
    r = ngramCounts(ref, n);
  let overlap = 0;
  for (const [g, k] of c) overlap += Math.min(k, r.get(g) ?? 0);
  return prf(overlap, Math.max(0, cand.length - n + 1), Math.max(0, ref.length - n + 1));
}

/** ROUGE-N of a candidate text against a reference text. */
export function rougeN(candidate: string, reference: string, n: number): PRF {
  if (!Number.isInteger(n) || n < 1) throw new Error(`rougeN: n must be an integer ≥ 1, got ${n}`);
  return overlapPRF(rougeTokens(candidate), rougeTokens(reference), n);
}

/** Length of the longest common subsequence (O(|a|·|b|) time, O(|b|) memory). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0; // row[j-1] of the previous i
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[b.length];
}

/** ROUGE-L (sentence-level, LCS over the whole token lists). */
export function rougeL(candidate: string, reference: string): PRF {
  const c = rougeTokens(candidate),
    r = rougeTokens(reference);
  return prf(lcsLength(c, r), c.length, r.length);
}

/** ROUGE-1, ROUGE-2 and ROUGE-L F1 at once. */
export function rougeF(candidate: string, reference: string): { rouge1: number; rouge2: number; rougeL: number } {
  const c = rougeTokens(candidate),
    r = rougeTokens(reference);
  return {
    rouge1: overlapPRF(c, r, 1).f,
    rouge2: overlapPRF(c, r, 2).f,
    rougeL: prf(lcsLength(c, r), c.length, r.length).f,
  };
}

/**
 * SQuAD-style answer tokens: lowercase, punctuation removed, the articles
 * a/an/the removed, split on whitespace.
 */
export function squadTokens(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s]/gu, "")
    .replace(/\b(a|an|the)\b/g, " ")
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

/** SQuAD token F1 (bag-of-tokens overlap); 1 when both are empty. */
export function tokenF1(candidate: string, reference: string): number {
  const c = squadTokens(candidate),
    r = squadTokens(reference);
  if (c.length === 0 && r.length === 0) return 1;
  return overlapPRF(c, r, 1).f;
}
