/**
 * Skip-profile files: a calibrated skip configuration saved as JSON so a run
 * can reuse it (`--skip-profile FILE`). Schema (all knobs optional unless the
 * method needs them; keys are the snake_case names of KNOBS):
 *
 *   {
 *     "method": one of SKIP_METHODS (config.ts),
 *     "warmup": 2, "cold_start": 4, "cold_end": 4, "tau": 0.93, "k": 2,
 *     "schedule": [2, 2, 0], "max_windows": 1, "seed": 1,
 *     "layers": [5, 6], "exit_layers": [20, 18],
 *     "stand_in_file": "x.standin",               // ffn-skip-linear; relative to the profile's folder
 *     "target_ratio": 0.25,                       // optional, in [0, 1]
 *     "description": "free text",                 // optional
 *     "calibrated": {                             // optional metadata, free-form;
 *       "n_layers": 30,                           //   checked against the model when given
 *       "model": "...", "ratio": 0.251, "agreement": 0.97, "kl": 0.02, ...
 *     }
 *   }
 *
 * Any other key is an error (a typo must not silently fall back to a default).
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { buildConfig, KNOBS, type KnobName, type SkipConfig } from "./config.js";

export interface SkipProfile {
  config: SkipConfig;
  target_ratio?: number;
  description?: string;
  calibrated?: Record<string, unknown>;
}

const META_KEYS = ["method", "target_ratio", "description", "calibrated"];

const BY_JSON = new Map<string, KnobName>((Object.keys(KNOBS) as KnobName[]).map((k) => [KNOBS[k].json, k]));

/**
 * Parse a skip profile from already-decoded JSON. With `nLayers` given, a
 * `calibrated.n_layers` that differs is an error (a profile made for another
 * model).
 */
export function configFromProfile(json: unknown, where = "skip profile", nLayers?: number): SkipProfile {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new Error(`${where}: must be a JSON object with a "method" key`);
  }
  const obj = json as Record<string, unknown>;
  if (!("method" in obj)) throw new Error(`${where}: missing "method"`);
  const values: Partial<Record<KnobName, unknown>> = {};
  for (const [key, v] of Object.entries(obj)) {
    if (META_KEYS.includes(key)) continue;
    const knob = BY_JSON.get(key);
    if (!knob) {
      throw new Error(`${where}: unknown key "${key}"; allowed: ${[...META_KEYS, ...BY_JSON.keys()].join(", ")}`);
    }
    values[knob] = v;
  }
  const config = buildConfig(obj.method, values, where, (k) => KNOBS[k].json);
  const out: SkipProfile = { config };
  const t = obj.target_ratio;
  if (t !== undefined) {
    if (typeof t !== "number" || !(t >= 0 && t <= 1))
      throw new Error(`${where}: target_ratio must be a number in [0, 1], got ${JSON.stringify(t)}`);
    out.target_ratio = t;
  }
  if (obj.description !== undefined) {
    if (typeof obj.description !== "string") throw new Error(`${where}: description must be a string`);
    out.description = obj.description;
  }
  const cal = obj.calibrated;
  if (cal !== undefined) {
    if (cal === null || typeof cal !== "object" || Array.isArray(cal)) throw new Error(`${where}: calibrated must be an object`);
    out.calibrated = { ...(cal as Record<string, unknown>) };
    const n = out.calibrated.n_layers;
    if (nLayers !== undefined && n !== undefined && n !== nLayers) {
      throw new Error(`${where}: calibrated for a model with ${JSON.stringify(n)} layers, this model has ${nLayers}`);
    }
  }
  return out;
}

/** Read and parse a skip-profile file. */
export function readSkipProfile(path: string, nLayers?: number): SkipProfile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`skip profile ${path}: cannot read (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`skip profile ${path}: not valid JSON (${(e as Error).message})`);
  }
  const p = configFromProfile(json, `skip profile ${path}`, nLayers);
  // a profile's side files (ffn-skip-linear's maps, ffn-sparse's neuron order, ffn-prune's kept neurons) are named relative to the profile
  const c = p.config as { standInFile?: string; neuronOrderFile?: string; keepFile?: string };
  if (c.keepFile !== undefined && !isAbsolute(c.keepFile)) c.keepFile = join(dirname(path), c.keepFile);
  if (c.standInFile !== undefined && !isAbsolute(c.standInFile)) c.standInFile = join(dirname(path), c.standInFile);
  if (c.neuronOrderFile !== undefined && !isAbsolute(c.neuronOrderFile)) c.neuronOrderFile = join(dirname(path), c.neuronOrderFile);
  return p;
}

/** The JSON object for a profile (inverse of configFromProfile). */
export function profileToJSON(p: SkipProfile): Record<string, unknown> {
  const out: Record<string, unknown> = { method: p.config.method };
  const c = p.config as Record<string, unknown>;
  for (const k of Object.keys(KNOBS) as KnobName[]) {
    if (c[k] !== undefined) out[KNOBS[k].json] = c[k];
  }
  if (p.target_ratio !== undefined) out.target_ratio = p.target_ratio;
  if (p.description !== undefined) out.description = p.description;
  if (p.calibrated !== undefined) out.calibrated = p.calibrated;
  return out;
}
