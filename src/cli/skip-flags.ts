/** The skip flags every model command takes, turned into a policy for the loaded model. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Engine } from "../api/engine.js";
import { configFromFlags, SKIP_FLAGS } from "../skip/flags.js";
import { KNOBS, METHOD_KNOBS, SKIP_METHODS, type KnobName, type SkipConfig } from "../skip/config.js";
import type { SkipPolicy } from "../skip/policy.js";
import { withTrace, type TracedPolicy } from "../skip/trace.js";
import type { Values } from "./args.js";

export const SKIP_OPTIONS: NonNullable<ParseArgsConfig["options"]> = Object.fromEntries(
  SKIP_FLAGS.map((f) => [f, { type: "string" as const }]),
);

/** The policy the flags ask for; wrapped in a trace recorder when --trace is set. */
export function skipFromFlags(v: Values, engine: Engine): { policy: SkipPolicy; trace: TracedPolicy | null } {
  const flags: Record<string, string | undefined> = {};
  for (const f of SKIP_FLAGS) flags[f] = v[f] as string | undefined;
  const config = configFromFlags(flags, engine.config.nLayers);
  const policy = engine.policy(config);
  if (!v.trace) return { policy, trace: null };
  const trace = withTrace(policy, engine.config.nLayers);
  return { policy: trace, trace };
}

/** Skip flags alone (chat's `/skip ffn-skip --tau 0.9`) → a validated config; anything else is an error. */
export function skipConfigFromArgs(args: string[], nLayers?: number): SkipConfig {
  const { values, positionals } = parseArgs({ args, options: SKIP_OPTIONS, strict: true, allowPositionals: true });
  if (positionals.length) throw new Error(`not a skip knob: ${positionals.join(" ")}`);
  return configFromFlags(values as Record<string, string | undefined>, nLayers);
}

/** `ffnskip help skip`: every method with the knobs it takes, and what each knob means (from src/skip/config.ts). */
export function skipHelp(): string {
  const methods = SKIP_METHODS.map(
    (m) => `  ${m.padEnd(19)} ${METHOD_KNOBS[m].map((k) => `--${KNOBS[k].flag}`).join(" ") || "(no knobs)"}`,
  );
  const knobs = (Object.keys(KNOBS) as KnobName[]).map((k) => `  --${KNOBS[k].flag.padEnd(15)} ${KNOBS[k].doc}`);
  return [
    "skipping: --skip METHOD [knobs], or --skip-profile FILE (a calibrated profile, e.g. profiles/smollm2-135m-instruct-25.json)",
    "",
    "methods and their knobs:",
    ...methods,
    "",
    "knobs:",
    ...knobs,
  ].join("\n");
}
