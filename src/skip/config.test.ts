import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createPolicy, resolveConfig, SKIP_METHODS, type SkipConfig } from "./config.js";
import { drive } from "../../test/helpers/fake-driver.js";
import { configFromFlags } from "./flags.js";
import { skipConfigFromArgs } from "../cli/skip-flags.js";
import { configFromProfile, profileToJSON, readSkipProfile } from "./skip-profile.js";
import { writeStandIn } from "./linear.js";
import { writeKeep } from "./neuron-keep.js";

const L = 30;

/** A keep file for ffn-prune / ffn-skip-compact: every layer keeps its first 32 of 64 neurons. */
function keepFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), "ffnskip-config-")), "k.keep");
  writeKeep(path, new Array(L).fill(Int32Array.from({ length: 32 }, (_, i) => i)), 64);
  return path;
}

/** A stand-in file for ffn-skip-linear with a (zero) map for every layer. */
function linearMaps(): string {
  const path = join(mkdtempSync(join(tmpdir(), "ffnskip-config-")), "maps.standin");
  const map = { dim: 2, rank: 1, b: new Float32Array(2), U: new Float32Array(2), V: new Float32Array(2) };
  writeStandIn(path, { nLayers: L, dim: 2, rank: 1, layers: new Array(L).fill(map) });
  return path;
}

test("createPolicy makes every method, with defaults from the research code", () => {
  const cfgs: SkipConfig[] = [
    { method: "none" },
    { method: "ffn-skip" },
    { method: "random", k: 3 },
    { method: "static", layers: [5, 6] },
    { method: "early-exit" },
    { method: "layer-drop", layers: [20] },
    { method: "ffn-skip-guarded", guard: 3, standIn: 2 },
    { method: "ffn-skip-linear", standInFile: linearMaps() },
    { method: "ffn-skip-layerwise", taus: new Array(L).fill(0.95) },
    { method: "ffn-sparse", thresholds: new Array(L).fill(0.1) },
    { method: "ffn-prune", keepFile: keepFile() },
    { method: "ffn-skip-compact", keepFile: keepFile() },
  ];
  assert.deepEqual(
    cfgs.map((c) => createPolicy(c, L).method),
    [...SKIP_METHODS],
  );
  assert.deepEqual(resolveConfig({ method: "ffn-skip" }, 32), { method: "ffn-skip", warmup: 2, coldStart: 5, coldEnd: 5, tau: 0.95, k: 2 });
  for (const c of cfgs) {
    const p = createPolicy(c, L);
    drive(p, { nLayers: L, promptTokens: 3, decodeTokens: 4, cos: () => 0.99 });
    assert.equal(p.nLayers, L);
    assert.equal(p.stats().method, c.method);
  }
});

test("validation errors name the problem", () => {
  const bad: [SkipConfig, RegExp][] = [
    [{ method: "ffn-skip", tau: 3 }, /tau must be a number in \[-1, 2\]/],
    [{ method: "ffn-skip", tau: NaN }, /tau/],
    [{ method: "ffn-skip", k: -1 }, /k must be an integer ≥ 0/],
    [{ method: "ffn-skip", k: 1.5 }, /k must be an integer/],
    [{ method: "ffn-skip", coldStart: 20, coldEnd: 11 }, /coldStart \+ coldEnd = 31 exceeds the 30 layers/],
    [{ method: "ffn-skip", schedule: [] }, /schedule must be a non-empty list/],
    [{ method: "ffn-skip", maxWindows: 0 }, /maxWindows must be an integer ≥ 1/],
    [{ method: "random", coldStart: 10, coldEnd: 10, k: 11 }, /k = 11 does not fit in the 10 middle layers/],
    [{ method: "random", coldStart: 10, coldEnd: 10, k: 1, schedule: [1, 12] }, /schedule entry 12/],
    [{ method: "static" }, /needs layers/],
    [{ method: "static", layers: [30] }, /30 is not a layer in \[0, 29\]/],
    [{ method: "static", layers: [3, 3] }, /duplicates/],
    [{ method: "layer-drop", layers: Array.from({ length: 30 }, (_, i) => i) }, /cannot remove all 30 layers/],
    [{ method: "early-exit", coldStart: 4, exitLayers: [3] }, /exitLayers: 3 is not a layer in \[4, 25\]/],
    [
      { method: "fast" } as unknown as SkipConfig,
      /unknown skip method "fast"; supported: none, ffn-skip, random, static, early-exit, layer-drop/,
    ],
    [{ method: "none", tau: 0.5 } as unknown as SkipConfig, /tau does not apply to method "none"/],
    [{ method: "ffn-skip-compact", keepFile: keepFile(), tauSkip: 3 }, /tau_skip must be a number in \[-1, 2\]/],
    [{ method: "ffn-skip", tauSkip: 0.99 } as unknown as SkipConfig, /tauSkip does not apply to method "ffn-skip"/],
  ];
  for (const [c, re] of bad) assert.throws(() => createPolicy(c, L), re, JSON.stringify(c));
  // tau > 1 is allowed: a never-skipping control run
  assert.equal(createPolicy({ method: "ffn-skip", tau: 1.5 }, L).method, "ffn-skip");
});

test("flags and a skip-profile file give the same config", () => {
  const argv = [
    "--skip",
    "ffn-skip",
    "--tau",
    "0.9",
    "--k=2",
    "--warmup",
    "2",
    "--cold-start",
    "3",
    "--cold-end",
    "3",
    "--schedule",
    "1,2,0",
    "--windows",
    "1",
  ];
  const config = skipConfigFromArgs(argv);
  const expected = { method: "ffn-skip", tau: 0.9, k: 2, warmup: 2, coldStart: 3, coldEnd: 3, schedule: [1, 2, 0], maxWindows: 1 };
  assert.deepEqual(config, expected);
  const json = {
    method: "ffn-skip",
    tau: 0.9,
    k: 2,
    warmup: 2,
    cold_start: 3,
    cold_end: 3,
    schedule: [1, 2, 0],
    max_windows: 1,
    target_ratio: 0.25,
    calibrated: { n_layers: 30, agreement: 0.97 },
  };
  const prof = configFromProfile(json, "p", 30);
  assert.deepEqual(prof.config, expected);
  assert.equal(prof.target_ratio, 0.25);
  assert.deepEqual(profileToJSON(prof), json);
  // round trip through a file and --skip-profile
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-skip-"));
  const file = join(dir, "p.json");
  writeFileSync(file, JSON.stringify(json));
  assert.deepEqual(readSkipProfile(file).config, expected);
  assert.deepEqual(skipConfigFromArgs(["--skip-profile", file]), expected);
  assert.deepEqual(configFromFlags({ skip: "static", layers: "5,6,7", warmup: "0" }), { method: "static", layers: [5, 6, 7], warmup: 0 });
  assert.deepEqual(configFromFlags({ skip: "random", "skip-seed": "1", k: "2" }), { method: "random", seed: 1, k: 2 });
  assert.deepEqual(configFromFlags({ skip: "ffn-skip-compact", "keep-file": "a.keep", "tau-skip": "0.99" }), {
    method: "ffn-skip-compact",
    keepFile: "a.keep",
    tauSkip: 0.99,
  });
  assert.deepEqual(skipConfigFromArgs([]), { method: "none" });
});

test("flag and profile errors are clear", () => {
  assert.throws(() => skipConfigFromArgs(["--skip", "nope"]), /unknown skip method "nope"; supported: none, ffn-skip/);
  assert.throws(() => skipConfigFromArgs(["--skip", "ffn-skip", "--tau", "high"]), /--tau: expected a number, got "high"/);
  assert.throws(() => skipConfigFromArgs(["--skip", "ffn-skip", "--k", "1.5"]), /--k: expected an integer/);
  assert.throws(() => skipConfigFromArgs(["--skip", "ffn-skip", "--schedule", "1,,2"]), /--schedule: expected a comma-separated list/);
  assert.throws(() => skipConfigFromArgs(["--skip", "none", "--tau", "0.9"]), /--tau does not apply to method "none"/);
  assert.throws(
    () => skipConfigFromArgs(["--skip", "static", "--tau", "0.9"]),
    /--tau does not apply to method "static" \(its knobs: --warmup, --layers\)/,
  );
  assert.throws(() => skipConfigFromArgs(["--tau", "0.9"]), /without --skip METHOD/);
  assert.throws(() => skipConfigFromArgs(["--skip"]), /--skip <value>' argument missing/);
  assert.throws(() => skipConfigFromArgs(["--skip", "random", "--model", "m.gguf"]), /Unknown option '--model'/);
  assert.throws(() => skipConfigFromArgs(["--skip", "random", "extra"]), /not a skip knob: extra/);
  assert.throws(() => skipConfigFromArgs(["--skip-profile", "/nonexistent/p.json"]), /cannot read/);
  assert.throws(() => skipConfigFromArgs(["--skip-profile", "x.json", "--tau", "1"]), /cannot be combined with --tau/);
  assert.throws(() => configFromFlags({ tua: "1" }), /--tua: not a skip flag/);
  assert.throws(() => configFromProfile({ method: "ffn-skip", coldstart: 3 }), /unknown key "coldstart"; allowed: .*cold_start/);
  assert.throws(() => configFromProfile({ method: "ffn-skip", tau: "0.9" }), /tau must be a finite number, got "0.9"/);
  assert.throws(() => configFromProfile({ tau: 0.9 }), /missing "method"/);
  assert.throws(() => configFromProfile([1]), /must be a JSON object/);
  assert.throws(() => configFromProfile({ method: "none", target_ratio: 2 }), /target_ratio must be a number in \[0, 1\]/);
  assert.throws(
    () => configFromProfile({ method: "none", calibrated: { n_layers: 32 } }, "p", 30),
    /calibrated for a model with 32 layers, this model has 30/,
  );
  // a negative tau value is a value, not a flag
  assert.equal((skipConfigFromArgs(["--skip", "ffn-skip", "--tau=-0.5"]) as { tau: number }).tau, -0.5);
});
