/**
 * Frozen llama.cpp reference results (test/fixtures/llamacpp/*.json), recorded
 * once by `npm run fixtures:llamacpp` (test/oracle/record-fixtures.ts) so that
 * `npm test` never runs llama.cpp live: llama.cpp's own outputs vary between
 * runs and code paths, and a live 2,000-token comparison costs minutes.
 *
 * The fixtures hold ids and a few floats per position, not full logits.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./paths.js";

export const FIXTURE_DIR = join(ROOT, "test", "fixtures", "llamacpp");
export const TORTURE_PATH = join(ROOT, "test", "fixtures", "tokenizer", "torture.txt");
/** ids per window hashed in the whole-WikiText tokenizer fixture */
export const WIKI_WINDOW = 4096;

/** The texts the tokenizer fixture covers, derived from torture.txt the same way by recorder and test. */
export function torturePieces(torture: string): string[] {
  return [torture, ...torture.split("\n"), ...torture.split(/(?<=\n)/), "", " ", "  ", "\n", " a", "a "];
}

/** Short hex digest of an id sequence (or a string). */
export function digest(x: readonly number[] | string): string {
  const h = createHash("sha256");
  h.update(typeof x === "string" ? x : new Uint8Array(Int32Array.from(x).buffer));
  return h.digest("hex").slice(0, 16);
}

/** Digests of consecutive WIKI_WINDOW-id windows: a mismatch points at the window where it starts. */
export function windowDigests(ids: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ids.length; i += WIKI_WINDOW) out.push(digest(ids.slice(i, i + WIKI_WINDOW)));
  return out;
}

export interface TokenizerFixture {
  /** digest of torture.txt when recorded: a changed torture text needs new fixtures */
  torture: string;
  /** for each torturePieces() entry: [ids without special parsing, ids with it], no BOS/EOS */
  pieces: [number[], number[]][];
  bos: number | null;
  addBos: boolean;
  addEos: boolean;
  eog: number[];
  /** llama.cpp's detokenization of its parseSpecial ids of the whole torture text */
  detokenized: { special: string; plain: string };
  /** the whole WikiText-2 test file, no BOS/EOS: digest of the text, id count, window digests */
  wiki: { text: string; count: number; windows: string[] } | null;
}

export interface TeacherForcedFixture {
  /** the scored ids (llama.cpp's tokenization, with BOS where the model adds one) */
  ids: number[];
  /** llama.cpp batched (batch 512): argmax, -log p(target) and its top-4 next tokens at each position */
  batched: { argmax: number[]; nll: number[]; topIds: number[][]; topLogits: number[][] };
  /** llama.cpp token by token (batch 1): argmax at each position */
  stepwise: { argmax: number[] };
}

export interface GreedyFixture {
  prompt: string;
  promptIds: number[];
  /** llama.cpp's greedy ids and its top-1 minus top-2 logit gap before each */
  ids: number[];
  gaps: number[];
}

export interface ModelFixture {
  model: string;
  sha256: string;
  recorded: { date: string; nodeLlamaCpp: string; threads: number };
  tokenizer: TokenizerFixture;
  teacherForced?: TeacherForcedFixture;
  greedy?: GreedyFixture[];
}

/** The fixture for `name`; throws (a test failure) when it is missing: it is committed. */
export function readFixture(name: string): ModelFixture {
  const p = join(FIXTURE_DIR, `${name}.json`);
  if (!existsSync(p)) throw new Error(`missing llama.cpp fixture ${p}: run 'npm run fixtures:llamacpp'`);
  return JSON.parse(readFileSync(p, "utf8")) as ModelFixture;
}
