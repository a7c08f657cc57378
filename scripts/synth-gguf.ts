/**
 * Write random-weight GGUFs of real LLaMA shapes (src/models/synthetic.ts) to
 * $FFNSKIP_HOME/synthetic/<shape>-<type>.gguf, streaming so 4–13 GB files take
 * bounded memory. The tokenizer metadata (and so the 49,152-token vocabulary)
 * is SmolLM2-135M-Instruct's, read from its GGUF. Files that already exist
 * with the right size are kept unless --force.
 *
 *   npm run build && node dist/scripts/synth-gguf.js --shapes tinyllama-1.1b,llama2-7b --types Q4_0,Q4_K_M [--seed 1] [--force] [--tokenizer FILE]
 *   (or: npx tsx scripts/synth-gguf.ts ...)
 */
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { openGGUF, type GGUFValue } from "../src/gguf/reader.js";
import { streamedSize, writeGGUFStreaming } from "../src/gguf/writer.js";
import { SHAPES, SYNTH_TYPES, randomWeights, synthPath, synthSpec } from "../src/models/synthetic.js";
import { SMOLLM2 } from "../test/helpers/paths.js";

export interface SynthOptions {
  seed?: number;
  force?: boolean;
  /** GGUF whose tokenizer.* metadata to copy; default SmolLM2-135M-Instruct */
  tokenizer?: string;
  log?: (line: string) => void;
}

/** Write (or keep) the file for each shape × type; returns their paths. */
export function synthesize(shapes: string[], types: string[], o: SynthOptions = {}): string[] {
  const log = o.log ?? ((l: string) => process.stderr.write(l + "\n"));
  const tokFile = o.tokenizer ?? SMOLLM2;
  if (!existsSync(tokFile))
    throw new Error(`tokenizer source ${tokFile} is missing (run 'node bin/ffnskip.js pull smollm2-135m-instruct' or pass --tokenizer)`);
  const tokenizer: Record<string, GGUFValue> = {};
  for (const [k, v] of Object.entries(openGGUF(tokFile).metadata)) if (k.startsWith("tokenizer.")) tokenizer[k] = v;
  const out: string[] = [];
  for (const shape of shapes) {
    for (const type of types) {
      const spec = synthSpec(shape, type, tokenizer);
      const path = synthPath(shape, type);
      const size = streamedSize(spec);
      out.push(path);
      if (!o.force && existsSync(path) && statSync(path).size === size) {
        log(`${path}: exists (${(size / 1e9).toFixed(2)} GB), kept`);
        continue;
      }
      mkdirSync(dirname(path), { recursive: true });
      const t0 = performance.now();
      const tmp = `${path}.partial-${process.pid}`; // per process: two writers of one file must not share a temp file
      writeGGUFStreaming(tmp, spec, randomWeights(spec, o.seed ?? 1));
      renameSync(tmp, path);
      log(`${path}: wrote ${(size / 1e9).toFixed(2)} GB in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  return out;
}

function main(argv: string[]): void {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      shapes: { type: "string" },
      types: { type: "string" },
      seed: { type: "string" },
      force: { type: "boolean" },
      tokenizer: { type: "string" },
    },
  });
  const list = (s: string | undefined, what: string, known: string[]) => {
    if (!s) throw new Error(`--${what} is required; one or more of ${known.join(", ")} (comma-separated)`);
    const xs = s
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    const bad = xs.filter((x) => !known.includes(x));
    if (bad.length) throw new Error(`unknown ${what} ${bad.join(", ")}; supported: ${known.join(", ")}`);
    return xs;
  };
  const seed = v.seed === undefined ? 1 : Number(v.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got "${v.seed}"`);
  synthesize(list(v.shapes, "shapes", Object.keys(SHAPES)), list(v.types, "types", Object.keys(SYNTH_TYPES)), {
    seed,
    force: v.force,
    tokenizer: v.tokenizer,
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`synth-gguf: ${(e as Error).message}\n`);
    process.exit(1);
  }
}
