import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeKeep, encodeKeep } from "./neuron-keep.js";

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
