/**
 * Ratio targeting: for a wanted skip ratio, the config of each method that
 * should reach it on this model. The ratio a config ACHIEVES on the
 * evaluation is measured there and is what gets reported; the numbers here
 * are calibration-set measurements.
 *
 * - ffn-skip: a shipped profile profiles/<model>-<pct>.json when one exists,
 *   else calibrate() (src/skip) over a small grid with a teacher-forced
 *   evaluator on the calibration set (achieved ratio, next-token agreement).
 * - random: k FFNs per token with mean k = ratio·L, fractional values as a
 *   cycling schedule of 10 tokens (Bresenham rounding).
 * - static: the round(ratio·L) FFNs with the highest mean cos(h, h+FFN) on
 *   the calibration set (the most saturated ones).
 * - early-exit: adaptive (CALM) tau found by bisection so that the ratio on
 *   the calibration set is closest to the target.
 * - ffn-skip-guarded / ffn-skip-linear: their shipped profiles
 *   profiles/<model>-guarded-<pct>.json / -linear-<pct>.json (guarded: else tau bisection).
 * - ffn-skip-layerwise: its shipped profile profiles/<model>-layerwise-<pct>.json (made by
 *   `ffnskip calibrate --method ffn-skip-layerwise`).
 * - ffn-sparse: its shipped profile profiles/<model>-sparse-<pct>.json (made by
 *   `ffnskip calibrate --method ffn-sparse`).
 * - layer-drop: ShortGPT — the round(ratio·L) layers with the lowest Block
 *   Influence, 1 − cos(layer input, layer output), measured dense on the
 *   calibration set (the forward pass reports it through observeLayer).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Engine } from "../api/engine.js";
import { calibrate } from "../skip/calibrate.js";
import { calibrateGuarded } from "../skip/calibrate-guarded.js";
import { SKIP_METHODS, type SkipConfig, type SkipMethod } from "../skip/config.js";
import { readSkipProfile } from "../skip/skip-profile.js";
import { withBlockInfluence } from "../skip/block-influence.js";
import { buildCalibSet, meanCosines, measure, type CalibMeasure, type CalibSet } from "./calib.js";
import { hashOf } from "./provenance.js";

/** The methods a sweep can calibrate to a target ratio: every skip method but "none" (src/skip/config.ts). */
export type TargetMethod = Exclude<SkipMethod, "none">;
export const TARGET_METHODS: readonly TargetMethod[] = SKIP_METHODS.filter((m): m is TargetMethod => m !== "none");

export interface Target {
  method: TargetMethod;
  target_ratio: number;
  config: SkipConfig;
  /** ratio and agreement measured on the calibration set */
  calib: CalibMeasure;
  /** how the config was found */
  source: string;
}

export interface TargetOptions {
  /** calibration prompts (default 4) and dense tokens per prompt (default 16) */
  calibPrompts?: number;
  calibTokens?: number;
  /** evaluation budget of the ffn-skip search (default 30) */
  maxEvals?: number;
  /** dense decode tokens before a method may skip (default 2) */
  warmup?: number;
  /** folder with shipped ffn-skip profiles (default "profiles") */
  profilesDir?: string;
  /** where found targets are cached (none: no cache) */
  cacheDir?: string;
  modelSha: string;
  log?: (line: string) => void;
}

/** k per token for `n` tokens whose mean is as close to x as tenths allow. */
export function kSchedule(x: number, n = 10): number[] {
  if (!(x >= 0)) throw new Error(`kSchedule: x must be ≥ 0, got ${x}`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round((i + 1) * x) - Math.round(i * x));
  return out;
}

/** Indices of the `n` largest values (ties: lower index first), ascending. */
export function topIndices(values: readonly number[], n: number): number[] {
  const idx = values.map((v, i) => [v, i] as const).filter(([v]) => Number.isFinite(v));
  idx.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return idx
    .slice(0, n)
    .map(([, i]) => i)
    .sort((a, b) => a - b);
}

/** "SmolLM2-135M-Instruct.Q4_1.gguf" → "smollm2-135m-instruct". */
export function modelStem(path: string): string {
  return basename(path)
    .replace(/\.gguf$/i, "")
    .split(".")[0]
    .toLowerCase();
}

/** Methods that read a shipped profile profiles/<model><tag>-<pct>.json, and their tag. */
const PROFILE_TAG = {
  "ffn-skip": "",
  "ffn-skip-guarded": "-guarded",
  "ffn-skip-linear": "-linear",
  "ffn-skip-layerwise": "-layerwise",
  "ffn-sparse": "-sparse",
  "ffn-prune": "-prune",
  "ffn-skip-compact": "-compact",
} as const;

export class Targeter {
  private set: CalibSet | null = null;
  private cosines: number[] | null = null;
  private influence: number[] | null = null;
  private readonly L: number;

  constructor(
    private readonly engine: Engine,
    private readonly o: TargetOptions,
  ) {
    this.L = engine.config.nLayers;
  }

  private async calibSet(): Promise<CalibSet> {
    if (!this.set) {
      this.o.log?.(`targets: dense calibration set (${this.o.calibPrompts ?? 4} prompts × ${this.o.calibTokens ?? 16} tokens)`);
      this.set = await buildCalibSet(this.engine, this.o.calibPrompts ?? 4, this.o.calibTokens ?? 16);
    }
    return this.set;
  }

  private async measure(c: SkipConfig): Promise<CalibMeasure> {
    return measure(this.engine, await this.calibSet(), this.engine.policy(c));
  }

  /** Mean FFN cosine per layer on the calibration set (dense). */
  async layerCosines(): Promise<number[]> {
    if (!this.cosines) this.cosines = meanCosines(this.engine, await this.calibSet());
    return this.cosines;
  }

  /** Mean Block Influence per layer on the calibration set (dense, token by token). */
  async blockInfluence(): Promise<number[]> {
    if (!this.influence) {
      const p = withBlockInfluence(this.engine.policy({ method: "none" }), this.L);
      measure(this.engine, await this.calibSet(), p);
      this.influence = p.influence();
    }
    return this.influence;
  }

  /** The config of `method` for `ratio` (cached in cacheDir when given). */
  async get(method: string, ratio: number): Promise<Target> {
    if (!(TARGET_METHODS as readonly string[]).includes(method)) {
      throw new Error(`ratio targeting: unknown method "${method}"; supported: ${TARGET_METHODS.join(", ")}`);
    }
    if (!(ratio > 0 && ratio < 1)) throw new Error(`ratio targeting: ratio must be in (0, 1), got ${ratio}`);
    const m = method as TargetMethod;
    const key = hashOf({
      m,
      ratio,
      model: this.o.modelSha,
      prompts: this.o.calibPrompts ?? 4,
      tokens: this.o.calibTokens ?? 16,
      evals: this.o.maxEvals ?? 30,
      warmup: this.o.warmup ?? 2,
      v: 2,
    });
    const file = this.o.cacheDir ? join(this.o.cacheDir, `target-${m}-${Math.round(ratio * 1000)}-${key}.json`) : null;
    if (file && existsSync(file)) {
      const t = JSON.parse(readFileSync(file, "utf8")) as Target;
      // a profile may have appeared (or changed) since: targets of methods with a shipped profile are found again
      const tag = m in PROFILE_TAG ? PROFILE_TAG[m as keyof typeof PROFILE_TAG] : null;
      if (tag === null || !this.profilePath(ratio, tag)) return t;
    }
    const t = await this.find(m, ratio);
    if (file) {
      mkdirSync(this.o.cacheDir!, { recursive: true });
      writeFileSync(file, JSON.stringify(t, null, 2) + "\n");
    }
    return t;
  }

  /** profiles/<model><tag>-<pct>.json, if shipped (see PROFILE_TAG) */
  private profilePath(ratio: number, tag = ""): string | null {
    const p = join(this.o.profilesDir ?? "profiles", `${modelStem(this.engine.path)}${tag}-${Math.round(ratio * 100)}.json`);
    return existsSync(p) ? p : null;
  }

  private async find(m: TargetMethod, ratio: number): Promise<Target> {
    const L = this.L,
      warmup = this.o.warmup ?? 2,
      n = Math.round(ratio * L);
    const log = this.o.log ?? (() => {});
    const done = async (config: SkipConfig, source: string): Promise<Target> => {
      const calib = await this.measure(config);
      log(
        `targets: ${m} @ ${ratio}: ${source}; calibration ratio ${(calib.ratio * 100).toFixed(1)}%, agreement ${(calib.agreement * 100).toFixed(1)}%`,
      );
      return { method: m, target_ratio: ratio, config, calib, source };
    };
    switch (m) {
      case "ffn-skip": {
        const prof = this.profilePath(ratio);
        if (prof) return done(readSkipProfile(prof, L).config, `profile ${prof}`);
        const cold = Math.max(1, Math.round(0.1 * L));
        log(`targets: calibrating ffn-skip for ${ratio} (at most ${this.o.maxEvals ?? 30} evaluations)`);
        const r = await calibrate({
          nLayers: L,
          targetRatio: ratio,
          base: { warmup },
          maxEvals: this.o.maxEvals ?? 30,
          grid: { coldStart: [cold], coldEnd: [cold], k: [1, 2, 4] },
          evaluate: async (c) => this.measure(c),
        });
        return done(
          r.best.config,
          `calibrate: ${r.trials.length} evaluations, ${r.met ? "target met" : "target NOT met (best effort)"}${r.truncated ? ", search truncated" : ""}`,
        );
      }
      case "ffn-skip-guarded": {
        // this project's method (src/skip/guarded.ts): a shipped profile, else tau bisection with the default guards
        const prof = this.profilePath(ratio, PROFILE_TAG[m]);
        if (prof) return done(readSkipProfile(prof, L).config, `profile ${prof}`);
        const cold = Math.max(1, Math.round(0.1 * L));
        const r = await calibrateGuarded({
          nLayers: L,
          targetRatio: ratio,
          base: { warmup, coldStart: cold, coldEnd: cold },
          evaluate: async (c) => this.measure(c),
        });
        return done(
          r.best.config,
          `calibrateGuarded: ${r.trials.length} evaluations, ${r.met ? "target met" : "target NOT met (best effort)"}`,
        );
      }
      case "ffn-skip-linear":
      case "ffn-skip-layerwise":
      case "ffn-sparse":
      case "ffn-prune":
      case "ffn-skip-compact": {
        // this project's methods whose knobs come from `ffnskip calibrate --method M` only (fitted stand-in maps,
        // per-layer thresholds, neuron thresholds): a shipped profile
        const prof = this.profilePath(ratio, PROFILE_TAG[m]);
        if (!prof)
          throw new Error(
            `ratio targeting: ${m} needs a shipped profile ${modelStem(this.engine.path)}${PROFILE_TAG[m]}-${Math.round(ratio * 100)}.json in ${this.o.profilesDir ?? "profiles"} (make it with ffnskip calibrate --method ${m})`,
          );
        return done(readSkipProfile(prof, L).config, `profile ${prof}`);
      }
      case "random": {
        const sched = kSchedule(ratio * L);
        const config: SkipConfig = sched.every((k) => k === sched[0])
          ? { method: "random", warmup, k: sched[0] }
          : { method: "random", warmup, schedule: sched };
        return done(config, `k schedule ${sched.join(",")} (mean ${(sched.reduce((a, b) => a + b, 0) / sched.length).toFixed(2)} of ${L})`);
      }
      case "static": {
        if (n < 1) throw new Error(`static: ratio ${ratio} × ${L} layers rounds to 0 FFNs`);
        const layers = topIndices(await this.layerCosines(), n);
        return done({ method: "static", warmup, layers }, `top-${n} mean FFN cosine on the calibration set`);
      }
      case "early-exit": {
        let lo = -1,
          hi = 1; // ratio falls as tau rises
        let best: { tau: number; r: CalibMeasure } | null = null;
        for (let i = 0; i < 10; i++) {
          const tau = +((lo + hi) / 2).toPrecision(8);
          const r = await this.measure({ method: "early-exit", warmup, tau });
          if (!best || Math.abs(r.ratio - ratio) < Math.abs(best.r.ratio - ratio)) best = { tau, r };
          if (r.ratio > ratio) lo = tau;
          else hi = tau;
        }
        return done({ method: "early-exit", warmup, tau: best!.tau }, `tau bisection (10 steps) on the calibration set`);
      }
      case "layer-drop": {
        if (n < 1) throw new Error(`layer-drop: ratio ${ratio} × ${L} layers rounds to 0 layers`);
        // ShortGPT: drop the n layers with the lowest Block Influence
        const bi = await this.blockInfluence();
        const layers = topIndices(
          bi.map((b) => -b),
          n,
        );
        return done(
          { method: "layer-drop", layers },
          `ShortGPT Block Influence (1 − cos(layer input, output), dense, calibration set): lowest ${n} of ${L}`,
        );
      }
    }
  }
}
