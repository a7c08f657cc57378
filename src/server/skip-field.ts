/**
 * The per-request skip extension: `"ffnskip": {"skip": ...}` where the value
 * is a method name ("ffn-skip"), a SkipConfig (`{"method": "ffn-skip",
 * "coldStart": 4}`) or skip-profile JSON (`{"method": "ffn-skip",
 * "cold_start": 4}`). Both spellings of a knob go through the profile parser,
 * so an unknown key is refused rather than silently ignored.
 */
import { KNOBS, type KnobName, type SkipConfig } from "../skip/config.js";
import { configFromProfile } from "../skip/skip-profile.js";
import { badRequest } from "./errors.js";

export function skipFromField(value: unknown, nLayers: number, param = "ffnskip.skip"): SkipConfig {
  if (typeof value === "string") value = { method: value };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest(`${param} must be a method name or an object like {"method": "ffn-skip", "tau": 0.9}`, param);
  }
  const profile: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const knob = KNOBS[k as KnobName];
    profile[knob ? knob.json : k] = v;
  }
  try {
    return configFromProfile(profile, param, nLayers).config;
  } catch (e) {
    throw badRequest((e as Error).message, param);
  }
}
