/**
 * CLI-style skip flags → SkipConfig, the same config a skip-profile file with
 * the same knobs gives:
 *   --skip METHOD --tau 0.9 --k 2 --warmup 2 --cold-start 3 --cold-end 3
 *   --schedule 1,2,0 --windows 1 --skip-seed 1 --layers 5,6,7 --exit-layers 20,18
 *   --skip-profile FILE   (instead of the flags above)
 * Parsing argv is node:util parseArgs' job (src/cli); this module turns the
 * flag values into a validated config.
 */
import { buildConfig, KNOBS, type KnobKind, type KnobName, type SkipConfig } from "./config.js";
import { readSkipProfile } from "./skip-profile.js";

const BY_FLAG = new Map<string, KnobName>((Object.keys(KNOBS) as KnobName[]).map((k) => [KNOBS[k].flag, k]));

/** Every flag this module understands (without the leading "--"). */
export const SKIP_FLAGS: readonly string[] = ["skip", "skip-profile", ...BY_FLAG.keys()];

function parseValue(flag: string, kind: KnobKind, s: string): number | number[] | string {
  const bad = (want: string): Error => new Error(`--${flag}: expected ${want}, got "${s}"`);
  if (kind === "path") {
    if (s.trim() === "") throw bad("a file path");
    return s;
  }
  if (kind === "number[]") {
    const parts = s.split(",").map((p) => (p.trim() === "" ? NaN : Number(p)));
    if (!parts.every(Number.isFinite)) throw bad("a comma-separated list of numbers (e.g. 2,0.97,0.95)");
    return parts;
  }
  if (kind === "int[]") {
    const parts = s.split(",").map((p) => p.trim());
    if (!parts.every((p) => /^-?\d+$/.test(p))) throw bad("a comma-separated list of integers (e.g. 1,2,0)");
    return parts.map(Number);
  }
  if (kind === "int") {
    if (!/^-?\d+$/.test(s.trim())) throw bad("an integer");
    return Number(s);
  }
  const v = s.trim() === "" ? NaN : Number(s);
  if (!Number.isFinite(v)) throw bad("a number");
  return v;
}

/**
 * Config from flag values keyed by flag name without "--" (e.g. from the
 * CLI's own parser). No "skip" flag means dense, unless "skip-profile" names
 * a file. Flags other than the skip flags are an error.
 */
export function configFromFlags(flags: Record<string, string | undefined>, nLayers?: number): SkipConfig {
  const given = Object.entries(flags).filter(([, v]) => v !== undefined) as [string, string][];
  for (const [f] of given) {
    if (!SKIP_FLAGS.includes(f)) throw new Error(`--${f}: not a skip flag; skip flags: ${SKIP_FLAGS.map((x) => "--" + x).join(" ")}`);
  }
  const profile = flags["skip-profile"];
  if (profile !== undefined) {
    const others = given.filter(([f]) => f !== "skip-profile").map(([f]) => "--" + f);
    if (others.length) throw new Error(`--skip-profile cannot be combined with ${others.join(" ")}; edit the profile instead`);
    return readSkipProfile(profile, nLayers).config;
  }
  const values: Partial<Record<KnobName, unknown>> = {};
  for (const [f, v] of given) {
    const knob = BY_FLAG.get(f);
    if (knob) values[knob] = parseValue(f, KNOBS[knob].kind, v);
  }
  const method = flags.skip ?? (Object.keys(values).length ? undefined : "none");
  if (method === undefined) throw new Error(`skip knobs given without --skip METHOD`);
  return buildConfig(method, values, "--skip", (k) => "--" + KNOBS[k].flag);
}
