/** The skip flags every model command takes, turned into a policy for the loaded model. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { Engine } from "../api/engine.js";
import { configFromFlags, SKIP_FLAGS } from "../skip/flags.js";
import type { SkipConfig } from "../skip/config.js";
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
