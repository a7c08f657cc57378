/**
 * Turn what the user typed for "model" into a .gguf path or a Hugging Face
 * model directory: nothing means the default alias, an alias is pulled into
 * the cache, anything else must be an existing file or a directory with a
 * config.json.
 */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pullModel, type PullOptions } from "./pull.js";
import { DEFAULT_ALIAS, knownAliases, MODELS } from "./registry.js";

/**
 * Resolve `spec` (alias, path, or undefined for the default model) to the path
 * of a .gguf file or a Hugging Face directory, downloading on first use of an alias.
 */
export async function resolveModel(spec?: string, opts: PullOptions = {}): Promise<string> {
  const registry = opts.registry ?? MODELS;
  if (spec === undefined || spec === "") return pullModel(DEFAULT_ALIAS, { ...opts, registry });
  // Aliases win over same-named files in the working directory; write ./name for the file.
  if (registry.some((m) => m.alias === spec)) return pullModel(spec, { ...opts, registry });
  let isFile = false;
  try {
    const st = await stat(spec);
    if (st.isDirectory()) {
      if (existsSync(join(spec, "config.json"))) return resolve(spec);
      throw new Error(
        `model "${spec}" is a directory without config.json; give a Hugging Face model directory, the path of a .gguf file or an alias (known aliases: ${knownAliases(registry)})`,
      );
    }
    isFile = st.isFile();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  if (!isFile) {
    throw new Error(
      `no such file or alias "${spec}"; give the path of a .gguf file or one of the known aliases: ${knownAliases(registry)}`,
    );
  }
  return resolve(spec);
}
