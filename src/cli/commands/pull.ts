/** `ffnskip pull <alias>`: download a model into the cache. */
import { pullModel } from "../../models/pull.js";
import { knownAliases } from "../../models/registry.js";
import { parse } from "../args.js";

export const PULL_HELP = `ffnskip pull <alias> [--json]
  Downloads a model into $FFNSKIP_HOME (default ~/.cache/ffnskip). Aliases: ${knownAliases()}`;

export async function pullCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, { json: { type: "boolean" }, help: { type: "boolean", short: "h" } });
  if (v.help) {
    process.stdout.write(PULL_HELP + "\n");
    return 0;
  }
  if (positionals.length !== 1) throw new Error(`pull takes one alias; known aliases: ${knownAliases()}`);
  const path = await pullModel(positionals[0], { onProgress: (m) => process.stderr.write(m + "\n") });
  process.stdout.write(v.json ? JSON.stringify({ path }) + "\n" : path + "\n");
  return 0;
}
