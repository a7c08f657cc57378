/** Flags shared by the commands, parsed with node:util's parseArgs. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { LoadModelOptions } from "../api/engine.js";
import type { SamplingOptions } from "../generate/sampling.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export const MODEL_OPTIONS: Options = {
  model: { type: "string", short: "m" },
  threads: { type: "string", short: "t" },
  ctx: { type: "string" },
  "kv-type": { type: "string" },
  backend: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

export const SAMPLING_OPTIONS: Options = {
  temperature: { type: "string" },
  "top-k": { type: "string" },
  "top-p": { type: "string" },
  "min-p": { type: "string" },
  "repeat-penalty": { type: "string" },
  "repeat-last-n": { type: "string" },
  seed: { type: "string" },
  "max-tokens": { type: "string", short: "n" },
  stop: { type: "string", multiple: true },
};

export type Values = Record<string, string | boolean | (string | boolean)[] | undefined>;

export function parse(argv: string[], options: Options, allowPositionals = true) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (e) {
    throw new Error((e as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
}

/** A number flag, or undefined when absent; a clear error when not a number. */
export function num(v: Values, name: string, integer = false): number | undefined {
  const s = v[name];
  if (s === undefined) return undefined;
  const x = Number(s);
  if (typeof s !== "string" || s.trim() === "" || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
    throw new Error(`--${name} expects ${integer ? "an integer" : "a number"}, got "${s}"`);
  }
  return x;
}

export function loadOptions(v: Values): LoadModelOptions {
  const backend = v.backend as string | undefined;
  if (backend !== undefined && backend !== "wasm" && backend !== "reference") {
    throw new Error(`--backend must be wasm or reference, got "${backend}"`);
  }
  const kvType = v["kv-type"] as string | undefined;
  if (kvType !== undefined && kvType !== "f16" && kvType !== "f32") throw new Error(`--kv-type must be f16 or f32, got "${kvType}"`);
  const threads = num(v, "threads", true);
  if (threads !== undefined && (threads < 1 || threads > 64)) throw new Error(`--threads must be in [1, 64], got ${threads}`);
  return {
    threads,
    ctx: num(v, "ctx", true),
    kvType: kvType as LoadModelOptions["kvType"],
    backend: backend as LoadModelOptions["backend"],
    onProgress: (m) => process.stderr.write(`${m}\n`),
  };
}

export function samplingOptions(v: Values): SamplingOptions & { maxTokens?: number; stop?: string[] } {
  return {
    temperature: num(v, "temperature"),
    topK: num(v, "top-k", true),
    topP: num(v, "top-p"),
    minP: num(v, "min-p"),
    repetitionPenalty: num(v, "repeat-penalty"),
    repeatLastN: num(v, "repeat-last-n", true),
    seed: num(v, "seed", true),
    maxTokens: num(v, "max-tokens", true),
    stop: v.stop as string[] | undefined,
  };
}
