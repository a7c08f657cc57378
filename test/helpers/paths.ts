/**
 * Where tests find models and shared data, and how they treat a missing one:
 * locally a test skips and says why (the run ends with a summary of the
 * skips, test/helpers/skip-summary.ts); under CI (CI=true) a missing model,
 * data file or browser is a failure, since .ci/run installs all of them.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { repoFile } from "./fixtures.js";

/** The repository root, from src/, test/ or dist/. */
export const ROOT = repoFile("");
export const SHARED = resolve(process.env.FFNSKIP_SHARED ?? join(ROOT, "..", "shared"));
export const HOME = process.env.FFNSKIP_HOME ?? join(homedir(), ".cache", "ffnskip");
export const SMOLLM2 = join(HOME, "models", "SmolLM2-135M-Instruct.Q4_1.gguf");
export const GEMMA3 = join(HOME, "models", "gemma-3-270m-q4_k_m.gguf");
export const LLAMA2_TINY = join(SHARED, "models", "llama-2-tiny-random", "llama-2-tiny-random.gguf");
export const WIKITEXT = join(SHARED, "data", "perplexity", "wikitext-2-raw-test.txt");

/** True under CI, where nothing a test needs may be missing. */
export const IN_CI = process.env.CI === "true" || process.env.CI === "1";

/** A reason to skip when a file is missing, or null. */
export function missing(...paths: string[]): string | null {
  const gone = paths.filter((p) => !existsSync(p));
  return gone.length
    ? `missing ${gone.join(", ")} (run 'npx ffnskip pull smollm2-135m-instruct' / 'gemma3-270m'; shared data from ../shared or FFNSKIP_SHARED)`
    : null;
}

/**
 * Skip `t` with `reason` — or, under CI, fail with it. Returns true when the
 * caller should return (skipped); throws under CI.
 */
export function skipOrFail(t: { skip: (message?: string) => void }, reason: string | null): boolean {
  if (reason === null) return false;
  if (IN_CI) throw new Error(`CI=true and a test requirement is missing: ${reason}`);
  t.skip(reason);
  return true;
}

/** skipOrFail for missing files: `if (needs(t, SMOLLM2, WIKITEXT)) return;` */
export function needs(t: { skip: (message?: string) => void }, ...paths: string[]): boolean {
  return skipOrFail(t, missing(...paths));
}
