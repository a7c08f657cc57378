/** Where tests find the default model and the shared data (they skip when absent). */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export const SHARED = resolve(process.env.FFNSKIP_SHARED ?? "../shared");
export const HOME = process.env.FFNSKIP_HOME ?? join(homedir(), ".cache", "ffnskip");
export const SMOLLM2 = join(HOME, "models", "SmolLM2-135M-Instruct.Q4_1.gguf");
export const WIKITEXT = join(SHARED, "data", "perplexity", "wikitext-2-raw-test.txt");

/** A reason to skip when a file is missing, or null. */
export function missing(...paths: string[]): string | null {
  const gone = paths.filter((p) => !existsSync(p));
  return gone.length ? `missing ${gone.join(", ")} (run 'npx ffnskip pull smollm2-135m-instruct'; shared data from ../shared or FFNSKIP_SHARED)` : null;
}
