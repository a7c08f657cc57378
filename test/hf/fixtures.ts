/** Paths for the Hugging Face tests: the repository root (from src or dist) and the shared model. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, SHARED } from "../helpers/paths.js";

export { ROOT };
export const TINYSTORIES = join(SHARED, "models", "tinystories-656k");
export const HF_FIXTURES = join(ROOT, "test", "fixtures", "hf");

export interface TokenizerCase {
  text: string;
  ids: number[];
  special_ids: number[];
  decoded: string;
  decoded_skip: string;
}

/** The expected ids the Python `tokenizers` package gave (scripts/hf-tokenizer-fixtures.py). */
export function expected(name: string): { tokenizer: string; cases: TokenizerCase[] } {
  return JSON.parse(readFileSync(join(HF_FIXTURES, `${name}.expected.json`), "utf8"));
}
