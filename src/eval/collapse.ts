/**
 * Generation-collapse measures over word tokens (the ROUGE tokenization):
 *
 * - loop: an answer is "caught in a repeated n-gram loop" when it ENDS in a
 *   periodic run — for some period p in [1, maxPeriod] the last m words
 *   satisfy w[i] = w[i−p] for every i in the last m − p of them, with
 *   m ≥ 3p (at least three copies, the last may be cut short) and
 *   m ≥ minWords. Degenerate generations repeat until the token limit, so
 *   the loop is at the end; a repetition the model left again is not one.
 *   Line breaks count too (since session 23): the ROUGE words drop them, so
 *   an answer that ends in a hundred blank lines, or in "1" between blank
 *   lines of varying length, had no words to repeat and did not count. The
 *   answer is checked three ways and loops if any finds a periodic tail:
 *   the words alone (as before), the words with one token per line break,
 *   and the words with one token per run of line breaks.
 * - distinct-n: distinct n-grams ÷ n-grams of one answer (NaN when it has
 *   no n-gram).
 */
import { rougeTokens } from "./rouge.js";

export interface LoopOptions {
  /** longest repeated span considered, in words (default 20) */
  maxPeriod?: number;
  /** shortest periodic tail that counts, in words (default 12) */
  minWords?: number;
}

export interface Loop {
  /** period in words */
  period: number;
  /** words in the periodic tail */
  words: number;
}

/** The longest periodic tail that qualifies as a loop, or null. */
export function findLoop(words: readonly string[], o: LoopOptions = {}): Loop | null {
  const maxP = o.maxPeriod ?? 20,
    minW = o.minWords ?? 12;
  const n = words.length;
  let best: Loop | null = null;
  for (let p = 1; p <= maxP && 2 * p <= n; p++) {
    // run: consecutive positions from the end with w[i] == w[i-p]
    let run = 0;
    for (let i = n - 1; i >= p && words[i] === words[i - p]; i--) run++;
    const m = run + p;
    if (m >= 3 * p && m >= minW && (!best || m > best.words)) best = { period: p, words: m };
  }
  return best;
}

/** The ROUGE words of `text` with a "\n" token for each line break, or for each run of them (`runs`). */
export function lineTokens(text: string, runs: boolean): string[] {
  const t = text.toLowerCase();
  return (runs ? t.replace(/\s*\n\s*/g, " \n ") : t).match(/[a-z0-9]+|\n/g) ?? [];
}

/** Whether `text` ends in a repeated n-gram loop: in its words alone, or with its line breaks (see the top of this file). */
export function isLooping(text: string, o: LoopOptions = {}): boolean {
  return (
    findLoop(rougeTokens(text), o) !== null || findLoop(lineTokens(text, false), o) !== null || findLoop(lineTokens(text, true), o) !== null
  );
}

/** distinct n-grams ÷ n-grams in `text`; NaN when it has fewer than n words. */
export function distinctN(text: string, n: number): number {
  const w = rougeTokens(text);
  const total = w.length - n + 1;
  if (total <= 0) return NaN;
  const seen = new Set<string>();
  for (let i = 0; i < total; i++) seen.add(w.slice(i, i + n).join("\u0000"));
  return seen.size / total;
}
