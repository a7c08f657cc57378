import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { drive, type CosineFn } from "../../test/helpers/fake-driver.js";
import { fitStandIn } from "./calibrate-linear.js";
import { createPolicy, resolveConfig } from "./config.js";
import { FfnSkipPolicy } from "./ffn-skip.js";
import { configFromFlags } from "./flags.js";
import { applyLowRank, fitLowRank, predictionScore, type Samples } from "./linear-fit.js";
import { decodeStandIn, encodeStandIn, LinearSkipPolicy, mapBytes, writeStandIn, type StandInMaps } from "./linear.js";
import { unitRms } from "./linear-kernel.js";
import type { SkipPolicy } from "./policy.js";
import { configFromProfile, profileToJSON, readSkipProfile } from "./skip-profile.js";

/** A deterministic PRNG in [-0.5, 0.5). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** n samples of y = b + A x, A = B Cᵀ of rank r (d × d), plus noise of scale `noise`. */
function synthetic(d: number, r: number, n: number, noise: number, seed = 1): { s: Samples; A: Float64Array; b: Float64Array } {
  const g = rng(seed);
  const B = Float64Array.from({ length: d * r }, g),
    C = Float64Array.from({ length: d * r }, g);
  const A = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < r; k++) A[i * d + j] += B[i * r + k] * C[j * r + k];
  const b = Float64Array.from({ length: d }, g);
  const s: Samples = { dim: d, n, x: new Float32Array(n * d), y: new Float32Array(n * d) };
  for (let t = 0; t < n; t++) {
    for (let j = 0; j < d; j++) s.x[t * d + j] = 2 * g();
    for (let i = 0; i < d; i++) {
      let y = b[i] + noise * g();
      for (let j = 0; j < d; j++) y += A[i * d + j] * s.x[t * d + j];
      s.y[t * d + i] = y;
    }
  }
  return { s, A, b };
}

test("the reduced-rank fit recovers a known low-rank linear map", () => {
  const d = 24,
    r = 4;
  const { s, A, b } = synthetic(d, r, 400, 0);
  const map = fitLowRank(s, { rank: r, ridge: 1e-9 });
  const sc = predictionScore(map, s);
  assert.ok(sc.ev > 0.999999 && sc.gain > 0.999999, `scores ${JSON.stringify(sc)}`);
  // on a fresh input the prediction is the true map's
  const x = Float32Array.from({ length: d }, (_, i) => Math.sin(i + 1));
  const y = new Float32Array(d);
  applyLowRank(map, x, 0, y, 0, new Float64Array(r));
  for (let i = 0; i < d; i++) {
    let want = b[i];
    for (let j = 0; j < d; j++) want += A[i * d + j] * x[j];
    assert.ok(Math.abs(y[i] - want) < 1e-3, `row ${i}: ${y[i]} vs ${want}`);
  }
  // a too-small rank explains less, but more than nothing
  const low = predictionScore(fitLowRank(s, { rank: 1, ridge: 1e-9 }), s).ev;
  assert.ok(low > 0.05 && low < 0.99, `rank-1 explained variance ${low}`);
  assert.throws(() => fitLowRank(s, { rank: 0 }), /rank must be an integer in \[1, 24\]/);
});

test("fitStandIn fits only the sampled layers and scores a held-out sequence", () => {
  const d = 12;
  const { s } = synthetic(d, 3, 300, 0.01, 7);
  const seqOf = Int32Array.from({ length: 300 }, (_, t) => Math.floor(t / 100));
  const { maps, fits } = fitStandIn(
    new Map([
      [2, s],
      [3, s],
    ]),
    seqOf,
    6,
    { rank: 3, ridge: 1e-6, heldOut: 2 },
  );
  assert.deepEqual(
    maps.layers.map((m) => m !== null),
    [false, false, true, true, false, false],
  );
  assert.deepEqual(
    fits.map((f) => f.layer),
    [2, 3],
  );
  for (const f of fits) assert.ok(f.ev_heldout > 0.99 && f.ev_fit > 0.99 && f.gain_heldout > 0.99, JSON.stringify(f));
});

test("the side file round-trips (f16) and bad files are refused", () => {
  const d = 4,
    r = 2;
  const map = {
    dim: d,
    rank: r,
    b: Float32Array.of(1, -2, 0.5, 0),
    U: Float32Array.from({ length: 8 }, (_, i) => i / 4),
    V: new Float32Array(8).fill(-1.5),
  };
  const maps: StandInMaps = { nLayers: 3, dim: d, rank: r, layers: [null, map, null] };
  const bytes = encodeStandIn(maps);
  assert.equal(bytes.length, 4 * (5 + 3) + mapBytes(d, r));
  const back = decodeStandIn(bytes);
  assert.deepEqual(back, maps); // these values are exact in f16
  assert.throws(() => decodeStandIn(new Uint8Array(40)), /not an ffn-skip-linear stand-in file/);
  assert.throws(() => decodeStandIn(bytes.subarray(0, bytes.length - 2)), /bytes, expected/);
  // b is f32 (Gemma's FFN outputs exceed f16's range), U and V must fit in f16
  const big = { ...map, b: Float32Array.of(1e5, 0, 0, 0) };
  assert.equal(decodeStandIn(encodeStandIn({ ...maps, layers: [null, big, null] })).layers[1]!.b[0], 1e5);
  assert.throws(
    () => encodeStandIn({ ...maps, layers: [null, { ...map, V: new Float32Array(8).fill(1e5) }, null] }),
    /does not fit in f16/,
  );
});

const L = 10;
/** maps whose layer l adds the constant vector (l + 1, …) whatever the input (U, V zero) */
function constantMaps(dim: number, layers: number[]): StandInMaps {
  return {
    nLayers: L,
    dim,
    rank: 1,
    layers: Array.from({ length: L }, (_, l) =>
      layers.includes(l)
        ? { dim, rank: 1, b: new Float32Array(dim).fill(l + 1), U: new Float32Array(dim), V: new Float32Array(dim) }
        : null,
    ),
  };
}

test("ffn-skip-linear decides as FFN-SkipLLM and adds the stand-in only for skipped FFNs", () => {
  const o = { warmup: 1, coldStart: 2, coldEnd: 2, tau: 0.9, k: 2 };
  const cos: CosineFn = (l, g) => ((l + g) % 3 === 0 ? 0.97 : 0.8);
  const lin = new LinearSkipPolicy(L, o, constantMaps(2, [2, 3, 4, 5, 6, 7]));
  const ran = drive(lin, { nLayers: L, promptTokens: 3, decodeTokens: 6, cos });
  assert.deepEqual(ran, drive(new FfnSkipPolicy(L, o), { nLayers: L, promptTokens: 3, decodeTokens: 6, cos }));
  assert.equal(lin.method, "ffn-skip-linear");
  assert.equal(lin.stats().method, "ffn-skip-linear");
  assert.ok(lin.stats().skipped_ffn > 0);
  // the forward pass's calls for one decode token: stand-ins land exactly on the skipped layers
  const p: SkipPolicy = lin;
  p.reset();
  const x = new Float32Array(2);
  const skippedLayers: number[] = [];
  for (let g = 0; g < 3; g++) {
    x.fill(0);
    skippedLayers.length = 0;
    p.beginStep({ pos: 5 + g, nTokens: 1, phase: "decode", genIndex: g });
    for (let l = 0; l < L; l++) {
      if (p.runFFN(l)) p.observeFFN(l, cos(l, g));
      else {
        skippedLayers.push(l);
        p.standIn!(l, x, 0, 1, 2);
      }
    }
    p.endStep();
  }
  assert.ok(skippedLayers.length > 0);
  const want = skippedLayers.reduce((s, l) => s + l + 1, 0);
  assert.deepEqual([...x], [want, want]);
});

test("the stand-in reads the residual row over its RMS, row by row", () => {
  const dim = 3;
  // V = e0 (z = x̂0), U = e1: adds x̂0 to component 1, b = 0
  const m = { dim, rank: 1, b: new Float32Array(dim), U: Float32Array.of(0, 1, 0), V: Float32Array.of(1, 0, 0) };
  const p = new LinearSkipPolicy(
    4,
    { warmup: 0, coldStart: 1, coldEnd: 1, tau: 0.9, k: 1 },
    { nLayers: 4, dim, rank: 1, layers: [null, m, m, null] },
  );
  const rows = Float32Array.of(2, 0, 0, 0, 3, 4);
  p.standIn(1, rows, 0, 2, dim);
  const xn = new Float32Array(dim);
  unitRms(Float32Array.of(2, 0, 0), 0, dim, xn);
  assert.ok(Math.abs(rows[1] - xn[0]) < 1e-6 && Math.abs(xn[0] - Math.sqrt(3)) < 1e-5);
  assert.equal(rows[4], 3); // second row: x̂0 = 0
  assert.throws(() => p.standIn(1, new Float32Array(4), 0, 1, 4), /maps have dim 3, the model 4/);
});

test("ffn-skip-linear through config, flags and profiles", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-linear-"));
  writeStandIn(join(dir, "m.standin"), constantMaps(2, [2, 3, 4, 5, 6, 7]));
  const viaFlags = configFromFlags({
    skip: "ffn-skip-linear",
    tau: "0.9",
    k: "1",
    "cold-start": "2",
    "cold-end": "2",
    "stand-in-file": join(dir, "m.standin"),
  });
  assert.equal(createPolicy(viaFlags, L).method, "ffn-skip-linear");
  assert.deepEqual(resolveConfig(viaFlags, L), {
    method: "ffn-skip-linear",
    warmup: 2,
    coldStart: 2,
    coldEnd: 2,
    tau: 0.9,
    k: 1,
    standInFile: join(dir, "m.standin"),
    standInScale: 1,
    rewind: 0,
    hold: 8,
  });
  // the loop rewind is off unless asked for, and checked
  const rw = configFromFlags({ skip: "ffn-skip-linear", "stand-in-file": join(dir, "m.standin"), rewind: "3", hold: "12" });
  assert.deepEqual([(rw as { rewind: number }).rewind, (rw as { hold: number }).hold], [3, 12]);
  assert.equal(createPolicy({ ...rw, coldStart: 2, coldEnd: 2 } as typeof rw, L).lookBehind, 3);
  assert.equal(createPolicy(viaFlags, L).lookBehind, 0);
  assert.throws(() => createPolicy({ ...rw, rewind: -1 } as typeof rw, L), /rewind must be an integer ≥ 0/);
  // a profile names its side file relative to itself
  const json = { method: "ffn-skip-linear", tau: 0.9, k: 1, cold_start: 2, cold_end: 2, stand_in_file: "m.standin", target_ratio: 0.25 };
  writeFileSync(join(dir, "p.json"), JSON.stringify(json));
  const prof = readSkipProfile(join(dir, "p.json"), L);
  assert.equal((prof.config as { standInFile: string }).standInFile, join(dir, "m.standin"));
  assert.deepEqual(profileToJSON(configFromProfile(json)), json);
  // every layer the policy may skip needs a map; the file is required
  assert.throws(() => createPolicy({ ...prof.config, coldStart: 1 } as typeof prof.config, L), /no map for layer 1/);
  assert.throws(() => createPolicy({ method: "ffn-skip-linear", tau: 0.9 }, L), /needs standInFile/);
  assert.throws(() => configFromFlags({ skip: "ffn-skip", "stand-in-file": "x" }), /--stand-in-file does not apply to method "ffn-skip"/);
  assert.throws(() => createPolicy({ method: "ffn-skip-linear", standInFile: join(dir, "none") }, L), /stand-in file .*none: cannot read/);
});

test("the stand-in scale multiplies the stand-in; scale 1 is the fitted map", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-linear-scale-"));
  const dim = 4;
  const m = { dim, rank: 1, b: Float32Array.of(1, -2, 3, 0.5), U: Float32Array.of(0.5, 1, -1, 2), V: Float32Array.of(1, 0.25, 0, -1) };
  const file = join(dir, "s.standin");
  writeStandIn(file, { nLayers: L, dim, rank: 1, layers: Array.from({ length: L }, () => m) });
  const base = { method: "ffn-skip-linear" as const, coldStart: 2, coldEnd: 2, standInFile: file };
  const x0 = [0.3, -1, 2, 0.7];
  const added = (scale?: number) => {
    const row = Float32Array.from(x0);
    createPolicy(scale === undefined ? base : { ...base, standInScale: scale }, L).standIn!(3, row, 0, 1, dim);
    return [...row].map((x, i) => x - x0[i]);
  };
  const full = added(),
    one = added(1),
    half = added(0.5);
  assert.deepEqual(one, full);
  for (let i = 0; i < dim; i++) assert.ok(Math.abs(half[i] - full[i] / 2) < 1e-6, `component ${i}: ${half[i]} vs ${full[i]} / 2`);
  assert.throws(() => createPolicy({ ...base, standInScale: -1 }, L), /standInScale must be a number in \[0, 2\]/);
});
