/**
 * One typed configuration for every skipping method, its defaults and
 * validation, and `createPolicy`. CLI flags (flags.ts) and skip-profile JSON
 * files (skip-profile.ts) both go through `buildConfig`, so they produce the
 * same SkipConfig for the same knobs.
 */
import { DensePolicy } from "./dense.js";
import { EarlyExitPolicy, type EarlyExitOptions } from "./early-exit.js";
import { FfnSkipPolicy, type FfnSkipOptions } from "./ffn-skip.js";
import { GuardedSkipPolicy, type GuardedOptions } from "./guarded.js";
import { LayerwiseSkipPolicy, type LayerwiseOptions } from "./layerwise.js";
import { LayerDropPolicy, type LayerDropOptions } from "./layer-drop.js";
import { LinearSkipPolicy, loadStandIn } from "./linear.js";
import type { SkipPolicy } from "./policy.js";
import { RandomPolicy, type RandomOptions } from "./random.js";
import { SparsePolicy, type SparseOptions } from "./sparse.js";
import { PrunePolicy } from "./prune.js";
import { CompactSkipPolicy, type CompactSkipOptions } from "./skip-compact.js";
import { loadKeep } from "./neuron-keep.js";
import { loadNeuronOrder, orderedGroups } from "./neuron-order.js";
import { RewindGuard } from "./rewind.js";
import { StaticPolicy, type StaticOptions } from "./static.js";

export const SKIP_METHODS = [
  "none",
  "ffn-skip",
  "random",
  "static",
  "early-exit",
  "layer-drop",
  "ffn-skip-guarded",
  "ffn-skip-linear",
  "ffn-skip-layerwise",
  "ffn-sparse",
  "ffn-prune",
  "ffn-skip-compact",
] as const;
export type SkipMethod = (typeof SKIP_METHODS)[number];

/** A method's knobs; omitted ones take SKIP_DEFAULTS when the policy is made. */
export type SkipConfig =
  | { method: "none" }
  | ({ method: "ffn-skip" } & Partial<FfnSkipOptions>)
  | ({ method: "random" } & Partial<RandomOptions>)
  | ({ method: "static" } & Partial<StaticOptions>)
  | ({ method: "early-exit" } & Partial<EarlyExitOptions>)
  | ({ method: "layer-drop" } & Partial<LayerDropOptions>)
  | ({ method: "ffn-skip-guarded" } & Partial<GuardedOptions>)
  | ({ method: "ffn-skip-linear" } & Partial<LinearOptions>)
  | ({ method: "ffn-skip-layerwise" } & Partial<LayerwiseOptions>)
  | ({ method: "ffn-sparse" } & Partial<SparseConfigOptions>)
  | ({ method: "ffn-prune" } & Partial<PruneConfigOptions>)
  | ({ method: "ffn-skip-compact" } & Partial<CompactSkipOptions & { keepFile: string }>);

/** The same with every knob filled in and checked against the model. */
export type ResolvedSkipConfig =
  | { method: "none" }
  | ({ method: "ffn-skip" } & FfnSkipOptions)
  | ({ method: "random" } & RandomOptions)
  | ({ method: "static" } & StaticOptions)
  | ({ method: "early-exit" } & EarlyExitOptions)
  | ({ method: "layer-drop" } & LayerDropOptions)
  | ({ method: "ffn-skip-guarded" } & GuardedOptions)
  | ({ method: "ffn-skip-linear" } & LinearOptions)
  | ({ method: "ffn-skip-layerwise" } & LayerwiseOptions)
  | ({ method: "ffn-sparse" } & SparseConfigOptions)
  | ({ method: "ffn-prune" } & PruneConfigOptions)
  | ({ method: "ffn-skip-compact" } & CompactSkipOptions & { keepFile: string });

/** ffn-prune (prune.ts) as a config: warm-up and the side file of the neurons each layer keeps (neuron-keep.ts). */
export interface PruneConfigOptions {
  warmup: number;
  keepFile: string;
}

/**
 * ffn-sparse (sparse.ts) as a config: its thresholds and grouping, and optionally the side file of a per-layer neuron
 * order within quantization blocks (neuron-order.ts) along which the groups of 4 are taken (needs groupSize 4).
 */
export type SparseConfigOptions = Omit<SparseOptions, "groups"> & { neuronOrderFile?: string };

/**
 * ffn-skip-linear (linear.ts): FFN-SkipLLM's knobs, the file of fitted stand-in maps and the loop rewind
 * (rewind.ts; `rewind` = n-gram length, 0 = off; `hold` = dense steps after a rewind).
 */
export type LinearOptions = FfnSkipOptions & { standInFile: string; standInScale: number; rewind: number; hold: number };

/** Defaults of ffn-skip-linear's loop rewind: off, so profiles without it run as before. */
export const REWIND_DEFAULTS = { rewind: 0, hold: 8 } as const;

/**
 * Defaults. tau 0.95 and cold regions of 5 layers out of 32 (scaled to the
 * model's depth) are the values in the FFN-SkipLLM research code; warm-up 2
 * and k 2 are this project's starting point; calibration (calibrate.ts)
 * replaces them per model.
 */
export const SKIP_DEFAULTS = { warmup: 2, tau: 0.95, k: 2, seed: 1, coldFraction: 5 / 32 } as const;

/**
 * Defaults of the guards of ffn-skip-guarded (guarded.ts): the combination
 * chosen by the measurements in results/method/ (docs/method.md).
 */
export const GUARD_DEFAULTS = { guard: 0, hold: 8, minConf: 0, standIn: 2 } as const;

export type KnobName =
  | "warmup"
  | "coldStart"
  | "coldEnd"
  | "tau"
  | "k"
  | "schedule"
  | "maxWindows"
  | "seed"
  | "layers"
  | "exitLayers"
  | "guard"
  | "hold"
  | "minConf"
  | "standIn"
  | "standInFile"
  | "standInScale"
  | "rewind"
  | "taus"
  | "thresholds"
  | "groupSize"
  | "neuronOrderFile"
  | "keepFile"
  | "tauSkip";

/** How a knob's value is written: integers, a number, a list of integers or of numbers, a file path. */
export type KnobKind = "int" | "number" | "int[]" | "number[]" | "path";

/** Every knob: its CLI flag, its skip-profile JSON key and its value kind. */
export const KNOBS: Record<KnobName, { flag: string; json: string; kind: KnobKind; doc: string }> = {
  warmup: { flag: "warmup", json: "warmup", kind: "int", doc: "generated tokens run dense first" },
  coldStart: { flag: "cold-start", json: "cold_start", kind: "int", doc: "first layers always run" },
  coldEnd: { flag: "cold-end", json: "cold_end", kind: "int", doc: "last layers always run" },
  tau: { flag: "tau", json: "tau", kind: "number", doc: "cosine threshold in [-1, 2]; > 1 never skips" },
  k: { flag: "k", json: "k", kind: "int", doc: "FFNs skipped per window / random block length" },
  schedule: { flag: "schedule", json: "schedule", kind: "int[]", doc: "k per decode token, cycling (0 = full compute)" },
  maxWindows: { flag: "windows", json: "max_windows", kind: "int", doc: "skip windows per token (default: no limit)" },
  seed: { flag: "skip-seed", json: "seed", kind: "int", doc: "PRNG seed of the random method (--seed is the sampling seed)" },
  layers: { flag: "layers", json: "layers", kind: "int[]", doc: "layer list (static: FFNs skipped; layer-drop: removed)" },
  exitLayers: { flag: "exit-layers", json: "exit_layers", kind: "int[]", doc: "fixed first copied layer per token, cycling" },
  guard: { flag: "guard", json: "guard", kind: "int", doc: "loop guard: n-gram length whose repeat makes tokens dense (0 = off)" },
  hold: { flag: "hold", json: "hold", kind: "int", doc: "dense tokens after the loop guard fires (ffn-skip-linear: after a rewind)" },
  standInScale: {
    flag: "stand-in-scale",
    json: "stand_in_scale",
    kind: "number",
    doc: "ffn-skip-linear: the fitted stand-in times this (shrinkage towards zero; default 1)",
  },
  rewind: {
    flag: "rewind",
    json: "rewind",
    kind: "int",
    doc: "ffn-skip-linear loop rewind: n-gram length whose repeat made under skipping is taken back and made again dense (0 = off)",
  },
  minConf: { flag: "min-conf", json: "min_conf", kind: "number", doc: "skip only after a step with top-1 probability ≥ this (0 = off)" },
  standIn: { flag: "stand-in", json: "stand_in", kind: "int", doc: "skipped FFN output: 0 none, 1 previous token's, 2 running mean" },
  taus: {
    flag: "taus",
    json: "taus",
    kind: "number[]",
    doc: "ffn-skip-layerwise: per layer l, the threshold the cosine of layer l − 1 must exceed to open a window at l",
  },
  thresholds: {
    flag: "neuron-thresholds",
    json: "thresholds",
    kind: "number[]",
    doc: "ffn-sparse: per layer, the |act(gate)| below which an FFN neuron is dropped (0 = keep all)",
  },
  groupSize: {
    flag: "neuron-group",
    json: "group_size",
    kind: "int",
    doc: "ffn-sparse: 1 drops neurons one by one; 4 drops them in groups of 4 (file order), which the kernels skip on Q4_0/Q4_1",
  },
  neuronOrderFile: {
    flag: "neuron-order-file",
    json: "neuron_order_file",
    kind: "path",
    doc: "ffn-sparse with groups of 4: per-layer neuron order within 32-neuron blocks the groups follow (in a profile: relative to its folder)",
  },
  keepFile: {
    flag: "keep-file",
    json: "keep_file",
    kind: "path",
    doc: "ffn-prune, ffn-skip-compact: the neurons each layer's compact FFN keeps (written by calibrate --method ffn-prune; in a profile: relative to its folder)",
  },
  tauSkip: {
    flag: "tau-skip",
    json: "tau_skip",
    kind: "number",
    doc: "ffn-skip-compact: a window opened by a cosine above this skips its FFNs outright instead of running compact copies (> 1, the default: never)",
  },
  standInFile: {
    flag: "stand-in-file",
    json: "stand_in_file",
    kind: "path",
    doc: "ffn-skip-linear's fitted maps (in a profile: relative to the profile's folder)",
  },
};

/** Which knobs each method takes. */
export const METHOD_KNOBS: Record<SkipMethod, readonly KnobName[]> = {
  none: [],
  "ffn-skip": ["warmup", "coldStart", "coldEnd", "tau", "k", "schedule", "maxWindows"],
  random: ["warmup", "coldStart", "coldEnd", "k", "schedule", "seed"],
  static: ["warmup", "layers"],
  "early-exit": ["warmup", "coldStart", "coldEnd", "tau", "exitLayers"],
  "layer-drop": ["layers"],
  "ffn-skip-guarded": ["warmup", "coldStart", "coldEnd", "tau", "k", "guard", "hold", "minConf", "standIn"],
  "ffn-skip-linear": ["warmup", "coldStart", "coldEnd", "tau", "k", "maxWindows", "standInFile", "standInScale", "rewind", "hold"],
  "ffn-skip-layerwise": ["warmup", "coldStart", "coldEnd", "taus", "k", "maxWindows"],
  "ffn-sparse": ["warmup", "thresholds", "groupSize", "neuronOrderFile"],
  "ffn-prune": ["warmup", "keepFile"],
  "ffn-skip-compact": ["warmup", "coldStart", "coldEnd", "tau", "k", "maxWindows", "keepFile", "tauSkip"],
};

export function isSkipMethod(m: unknown): m is SkipMethod {
  return typeof m === "string" && (SKIP_METHODS as readonly string[]).includes(m);
}

function checkMethod(m: unknown, where: string): SkipMethod {
  if (!isSkipMethod(m)) {
    throw new Error(`${where}: unknown skip method ${JSON.stringify(m)}; supported: ${SKIP_METHODS.join(", ")}`);
  }
  return m;
}

/**
 * Build a config from knob values already converted to numbers / arrays.
 * Rejects knobs the method does not take (a typo must not silently run dense)
 * and values of the wrong kind. `name` says how the knob is spelt in the
 * source (flag or JSON key) for error messages.
 */
export function buildConfig(
  method: unknown,
  values: Partial<Record<KnobName, unknown>>,
  where: string,
  name: (k: KnobName) => string = (k) => k,
): SkipConfig {
  const m = checkMethod(method, where);
  const allowed = METHOD_KNOBS[m];
  const out: Record<string, unknown> = { method: m };
  for (const key of Object.keys(values) as KnobName[]) {
    const v = values[key];
    if (v === undefined) continue;
    if (!allowed.includes(key)) {
      const ok = allowed.length ? allowed.map(name).join(", ") : "none";
      throw new Error(`${where}: ${name(key)} does not apply to method "${m}" (its knobs: ${ok})`);
    }
    const kind = KNOBS[key].kind;
    const good =
      kind === "int"
        ? Number.isInteger(v)
        : kind === "number"
          ? typeof v === "number" && Number.isFinite(v)
          : kind === "path"
            ? typeof v === "string" && v.length > 0
            : kind === "number[]"
              ? Array.isArray(v) && v.every((x) => typeof x === "number" && Number.isFinite(x))
              : Array.isArray(v) && v.every((x) => Number.isInteger(x));
    if (!good) {
      const want =
        kind === "int"
          ? "an integer"
          : kind === "number"
            ? "a finite number"
            : kind === "path"
              ? "a file path"
              : kind === "number[]"
                ? "a list of numbers"
                : "a list of integers";
      throw new Error(`${where}: ${name(key)} must be ${want}, got ${JSON.stringify(v)}`);
    }
    out[key] = Array.isArray(v) ? [...v] : v;
  }
  return out as SkipConfig;
}

function need(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`skip config: ${msg}`);
}

function intAtLeast(name: string, v: number, min: number): void {
  need(Number.isInteger(v) && v >= min, `${name} must be an integer ≥ ${min}, got ${v}`);
}

function layerList(name: string, v: number[], lo: number, hi: number, nLayers: number): void {
  need(Array.isArray(v) && v.length > 0, `${name} must be a non-empty list`);
  for (const l of v)
    need(Number.isInteger(l) && l >= lo && l <= hi, `${name}: ${l} is not a layer in [${lo}, ${hi}] (model has ${nLayers} layers)`);
}

/** Fill defaults and check every knob against a model with `nLayers` layers. */
export function resolveConfig(config: SkipConfig, nLayers: number): ResolvedSkipConfig {
  need(Number.isInteger(nLayers) && nLayers > 0, `nLayers must be a positive integer, got ${nLayers}`);
  const m = checkMethod((config as { method?: unknown }).method, "skip config");
  const c = config as Partial<Record<KnobName, never>> & Record<string, unknown>;
  for (const key of Object.keys(c)) {
    if (key === "method") continue;
    need(
      (METHOD_KNOBS[m] as readonly string[]).includes(key),
      `${key} does not apply to method "${m}" (its knobs: ${METHOD_KNOBS[m].join(", ") || "none"})`,
    );
  }
  const cold = Math.round(SKIP_DEFAULTS.coldFraction * nLayers);
  const warmup = (c.warmup as number | undefined) ?? SKIP_DEFAULTS.warmup;
  const coldStart = (c.coldStart as number | undefined) ?? cold;
  const coldEnd = (c.coldEnd as number | undefined) ?? cold;
  const tau = (c.tau as number | undefined) ?? SKIP_DEFAULTS.tau;
  const k = (c.k as number | undefined) ?? SKIP_DEFAULTS.k;
  const schedule = c.schedule as number[] | undefined;
  const checkCommon = (): void => {
    intAtLeast("warmup", warmup, 0);
    intAtLeast("coldStart", coldStart, 0);
    intAtLeast("coldEnd", coldEnd, 0);
    need(coldStart + coldEnd <= nLayers, `coldStart + coldEnd = ${coldStart + coldEnd} exceeds the ${nLayers} layers`);
  };
  const checkTau = (): void => {
    need(
      typeof tau === "number" && Number.isFinite(tau) && tau >= -1 && tau <= 2,
      `tau must be a number in [-1, 2] (> 1 never skips), got ${tau}`,
    );
  };
  const checkK = (maxK: number): void => {
    intAtLeast("k", k, 0);
    need(k <= maxK, `k = ${k} does not fit in the ${maxK} middle layers`);
    if (schedule !== undefined) {
      need(Array.isArray(schedule) && schedule.length > 0, "schedule must be a non-empty list");
      for (const s of schedule) {
        intAtLeast("schedule entry", s, 0);
        need(s <= maxK, `schedule entry ${s} does not fit in the ${maxK} middle layers`);
      }
    }
  };
  switch (m) {
    case "none":
      return { method: "none" };
    case "ffn-skip":
    case "ffn-skip-compact":
    case "ffn-skip-linear": {
      checkCommon();
      checkTau();
      // windows are cut at the cold end, so any k up to the whole stack is meaningful
      checkK(nLayers);
      const maxWindows = c.maxWindows as number | undefined;
      if (maxWindows !== undefined) intAtLeast("maxWindows", maxWindows, 1);
      const o: FfnSkipOptions = { warmup, coldStart, coldEnd, tau, k };
      if (schedule) o.schedule = [...schedule];
      if (maxWindows !== undefined) o.maxWindows = maxWindows;
      if (m === "ffn-skip") return { method: m, ...o };
      if (m === "ffn-skip-compact") {
        const keepFile = c.keepFile as string | undefined;
        need(
          typeof keepFile === "string" && keepFile.length > 0,
          `method "ffn-skip-compact" needs keep_file (the neurons each layer's compact FFN keeps)`,
        );
        const tauSkip = c.tauSkip as number | undefined;
        if (tauSkip === undefined) return { method: m, ...o, keepFile: keepFile! };
        need(
          typeof tauSkip === "number" && Number.isFinite(tauSkip) && tauSkip >= -1 && tauSkip <= 2,
          `tau_skip must be a number in [-1, 2] (> 1 never skips outright), got ${tauSkip}`,
        );
        return { method: m, ...o, keepFile: keepFile!, tauSkip };
      }
      const standInFile = c.standInFile as string | undefined;
      need(typeof standInFile === "string" && standInFile.length > 0, `method "ffn-skip-linear" needs standInFile (the fitted maps)`);
      const rewind = (c.rewind as number | undefined) ?? REWIND_DEFAULTS.rewind;
      const hold = (c.hold as number | undefined) ?? REWIND_DEFAULTS.hold;
      intAtLeast("rewind", rewind, 0);
      intAtLeast("hold", hold, 0);
      const standInScale = (c.standInScale as number | undefined) ?? 1;
      need(
        typeof standInScale === "number" && Number.isFinite(standInScale) && standInScale >= 0 && standInScale <= 2,
        `standInScale must be a number in [0, 2], got ${standInScale}`,
      );
      return { method: m, ...o, standInFile: standInFile!, standInScale, rewind, hold };
    }
    case "random": {
      checkCommon();
      checkK(nLayers - coldStart - coldEnd);
      const seed = (c.seed as number | undefined) ?? SKIP_DEFAULTS.seed;
      need(Number.isInteger(seed), `seed must be an integer, got ${seed}`);
      const r: ResolvedSkipConfig = { method: m, warmup, coldStart, coldEnd, k, seed };
      if (schedule) r.schedule = [...schedule];
      return r;
    }
    case "static": {
      intAtLeast("warmup", warmup, 0);
      const layers = c.layers as number[] | undefined;
      need(layers !== undefined, `method "static" needs layers (the FFNs to skip)`);
      layerList("layers", layers!, 0, nLayers - 1, nLayers);
      need(new Set(layers).size === layers!.length, `layers has duplicates: ${layers!.join(",")}`);
      return { method: m, warmup, layers: [...layers!].sort((a, b) => a - b) };
    }
    case "early-exit": {
      checkCommon();
      checkTau();
      const exitLayers = c.exitLayers as number[] | undefined;
      const r: ResolvedSkipConfig = { method: m, warmup, coldStart, coldEnd, tau };
      if (exitLayers !== undefined) {
        layerList("exitLayers", exitLayers, Math.max(1, coldStart), nLayers - coldEnd, nLayers);
        r.exitLayers = [...exitLayers];
      }
      return r;
    }
    case "ffn-skip-guarded": {
      checkCommon();
      checkTau();
      checkK(nLayers);
      const guard = (c.guard as number | undefined) ?? GUARD_DEFAULTS.guard;
      const hold = (c.hold as number | undefined) ?? GUARD_DEFAULTS.hold;
      const minConf = (c.minConf as number | undefined) ?? GUARD_DEFAULTS.minConf;
      const standIn = (c.standIn as number | undefined) ?? GUARD_DEFAULTS.standIn;
      intAtLeast("guard", guard, 0);
      intAtLeast("hold", hold, 0);
      need(typeof minConf === "number" && minConf >= 0 && minConf <= 1, `minConf must be a probability in [0, 1], got ${minConf}`);
      need(
        standIn === 0 || standIn === 1 || standIn === 2,
        `standIn must be 0 (none), 1 (previous token) or 2 (running mean), got ${standIn}`,
      );
      return { method: m, warmup, coldStart, coldEnd, tau, k, guard, hold, minConf, standIn };
    }
    case "ffn-skip-layerwise": {
      checkCommon();
      checkK(nLayers);
      const taus = c.taus as number[] | undefined;
      need(Array.isArray(taus), `method "ffn-skip-layerwise" needs taus (one threshold per layer)`);
      need(taus!.length === nLayers, `taus has ${taus!.length} entries, the model has ${nLayers} layers`);
      for (const t of taus!)
        need(
          typeof t === "number" && Number.isFinite(t) && t >= -1 && t <= 2,
          `each of taus must be a number in [-1, 2] (> 1 never skips), got ${t}`,
        );
      const maxWindows = c.maxWindows as number | undefined;
      if (maxWindows !== undefined) intAtLeast("maxWindows", maxWindows, 1);
      const r: ResolvedSkipConfig = { method: m, warmup, coldStart, coldEnd, taus: [...taus!], k };
      if (maxWindows !== undefined) r.maxWindows = maxWindows;
      return r;
    }
    case "ffn-sparse": {
      intAtLeast("warmup", warmup, 0);
      const thresholds = c.thresholds as number[] | undefined;
      need(Array.isArray(thresholds), `method "ffn-sparse" needs thresholds (one per layer)`);
      need(thresholds!.length === nLayers, `thresholds has ${thresholds!.length} entries, the model has ${nLayers} layers`);
      for (const t of thresholds!)
        need(typeof t === "number" && Number.isFinite(t) && t >= 0, `each of thresholds must be a finite number ≥ 0, got ${t}`);
      const groupSize = (c.groupSize as number | undefined) ?? 1;
      need(groupSize === 1 || groupSize === 4, `group_size must be 1 (neuron by neuron) or 4 (groups the kernels skip), got ${groupSize}`);
      const neuronOrderFile = c.neuronOrderFile as string | undefined;
      if (neuronOrderFile !== undefined) {
        need(typeof neuronOrderFile === "string" && neuronOrderFile.length > 0, `neuronOrderFile must be a file path`);
        need(groupSize === 4, `a neuron order file needs group_size 4 (the order says which neurons form each group of 4)`);
      }
      return {
        method: m,
        warmup,
        thresholds: [...thresholds!],
        ...(groupSize === 4 ? { groupSize } : {}),
        ...(neuronOrderFile !== undefined ? { neuronOrderFile } : {}),
      };
    }
    case "ffn-prune": {
      intAtLeast("warmup", warmup, 0);
      const keepFile = c.keepFile as string | undefined;
      need(typeof keepFile === "string" && keepFile.length > 0, `method "ffn-prune" needs keep_file (the neurons each layer keeps)`);
      return { method: m, warmup, keepFile: keepFile! };
    }
    case "layer-drop": {
      const layers = c.layers as number[] | undefined;
      need(layers !== undefined, `method "layer-drop" needs layers (the layers to remove)`);
      layerList("layers", layers!, 0, nLayers - 1, nLayers);
      need(new Set(layers).size === layers!.length, `layers has duplicates: ${layers!.join(",")}`);
      need(layers!.length < nLayers, `layer-drop cannot remove all ${nLayers} layers`);
      return { method: m, layers: [...layers!].sort((a, b) => a - b) };
    }
  }
}

/** Validate `config` for a model with `nLayers` layers and make its policy. */
export function createPolicy(config: SkipConfig, nLayers: number): SkipPolicy {
  const r = resolveConfig(config, nLayers);
  switch (r.method) {
    case "none":
      return new DensePolicy(nLayers);
    case "ffn-skip":
      return new FfnSkipPolicy(nLayers, r);
    case "random":
      return new RandomPolicy(nLayers, r);
    case "static":
      return new StaticPolicy(nLayers, r);
    case "early-exit":
      return new EarlyExitPolicy(nLayers, r);
    case "layer-drop":
      return new LayerDropPolicy(nLayers, r);
    case "ffn-skip-guarded":
      return new GuardedSkipPolicy(nLayers, r);
    case "ffn-skip-layerwise":
      return new LayerwiseSkipPolicy(nLayers, r);
    case "ffn-sparse": {
      const { neuronOrderFile, groupSize, ...o } = r;
      if (neuronOrderFile === undefined) return new SparsePolicy(nLayers, { ...o, groupSize });
      const orders = loadNeuronOrder(neuronOrderFile);
      if (orders.length !== nLayers)
        throw new Error(`neuron order file ${neuronOrderFile}: ${orders.length} layers, the model has ${nLayers}`);
      return new SparsePolicy(nLayers, { ...o, groups: orderedGroups(orders) });
    }
    case "ffn-prune": {
      const { ffnDim, keeps } = keepsFor(r.keepFile, nLayers);
      return new PrunePolicy(nLayers, { warmup: r.warmup, keeps, ffnDim });
    }
    case "ffn-skip-compact": {
      const { keepFile, ...o } = r;
      const { ffnDim, keeps } = keepsFor(keepFile, nLayers);
      return new CompactSkipPolicy(nLayers, o, keeps, ffnDim);
    }
    case "ffn-skip-linear": {
      const { standInFile, standInScale, rewind, hold, ...o } = r;
      return new LinearSkipPolicy(nLayers, o, loadStandIn(standInFile), {
        guard: rewind > 0 ? new RewindGuard(rewind, hold) : null,
        scale: standInScale,
      });
    }
  }
}

/** A keep file's lists (ffn-prune, ffn-skip-compact), checked against the model's layer count. */
function keepsFor(file: string, nLayers: number): { ffnDim: number; keeps: Int32Array[] } {
  const k = loadKeep(file);
  if (k.keeps.length !== nLayers) throw new Error(`keep file ${file}: ${k.keeps.length} layers, the model has ${nLayers}`);
  return k;
}
