import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeKeep, encodeKeep } from "./neuron-keep.js";
import { createPolicy } from "./config.js";
import { readSkipProfile } from "./skip-profile.js";

const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);

test("keep file: lists come back as written", () => {
  const keeps = [range(0, 64), Int32Array.from(range(0, 32), (i) => 2 * i + 1), range(0, 96)];
  const { ffnDim, keeps: back } = decodeKeep(encodeKeep(keeps, 96), "t");
  assert.equal(ffnDim, 96);
  assert.deepEqual(back, keeps);
});

test("keep file: bad lists and damaged files are refused with what is wrong", () => {
  assert.throws(() => encodeKeep([range(0, 40)], 96), /40 kept neurons; need a multiple of 32/);
  assert.throws(() => encodeKeep([Int32Array.from(range(0, 32)).reverse()], 96), /not increasing/);
  assert.throws(() => encodeKeep([range(70, 102)], 96), /not increasing within \[0, 96\)/);
  const bytes = encodeKeep([range(0, 32), range(32, 64)], 64);
  assert.throws(() => decodeKeep(bytes.subarray(0, bytes.length - 2), "f"), /truncated/);
  assert.throws(() => decodeKeep(Uint8Array.of(...bytes, 0), "f"), /after the last layer/);
  const bad = bytes.slice();
  bad[0] = 0x41;
  assert.throws(() => decodeKeep(bad, "f"), /not a keep file/);
});

test("a profile's keep_file: relative to the profile, for ffn-prune and ffn-skip-compact; needs the model's layers", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-keep-"));
  const keeps = [range(0, 64), range(32, 64), range(0, 96)];
  writeFileSync(join(dir, "p.keep"), encodeKeep(keeps, 96));
  writeFileSync(join(dir, "p.json"), JSON.stringify({ method: "ffn-prune", warmup: 0, keep_file: "p.keep" }));
  const p = createPolicy(readSkipProfile(join(dir, "p.json"), 3).config, 3);
  p.beginStep({ pos: 4, nTokens: 1, phase: "decode", genIndex: 0 });
  assert.deepEqual(p.compactKeep?.(1), keeps[1]);
  assert.equal(p.compactKeep?.(2), undefined, "a layer that keeps every neuron runs whole");
  writeFileSync(join(dir, "c.json"), JSON.stringify({ method: "ffn-skip-compact", tau: 0.9, k: 1, keep_file: "p.keep" }));
  assert.equal(createPolicy(readSkipProfile(join(dir, "c.json"), 3).config, 3).method, "ffn-skip-compact");
  assert.throws(() => createPolicy(readSkipProfile(join(dir, "p.json"), 4).config, 4), /p\.keep: 3 layers, the model has 4/);
  assert.throws(() => createPolicy({ method: "ffn-prune" }, 3), /needs keep_file/);
  assert.throws(() => createPolicy({ method: "ffn-skip-compact", tau: 0.9 }, 3), /needs keep_file/);
});
