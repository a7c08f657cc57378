import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { dequantizeRow } from "./dequant.js";
import { GGMLType, typeInfo } from "./types.js";
import { readF32File, repoFile } from "../../test/helpers/fixtures.js";

interface TypeFixture {
  name: string;
  type: number;
  n: number;
  raw: string;
  expected: string;
}

const dir = repoFile("test/fixtures/quant");
const manifest = JSON.parse(fs.readFileSync(`${dir}/manifest.json`, "utf8")) as { types: TypeFixture[] };

/** Bit-exact comparison (any NaN matches any NaN; -0 differs from +0). */
function assertSameFloats(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!Object.is(a, e)) assert.fail(`${what}: value ${i} is ${a}, gguf-python says ${e}`);
  }
}

test("fixtures cover every loadable type", () => {
  const names = manifest.types.map((f) => f.name).sort();
  assert.deepEqual(names, ["BF16", "F16", "F32", "Q4_0", "Q4_1", "Q4_K", "Q5_0", "Q5_1", "Q5_K", "Q6_K", "Q8_0"]);
});

for (const f of manifest.types) {
  test(`dequantizeRow ${f.name} matches gguf-python exactly`, () => {
    const raw = new Uint8Array(fs.readFileSync(`${dir}/${f.raw}`));
    const expected = readF32File(`${dir}/${f.expected}`);
    assert.equal(expected.length, f.n);
    const out = new Float32Array(f.n);
    dequantizeRow(f.type as GGMLType, raw, 0, out, 0, f.n);
    assertSameFloats(out, expected, f.name);
  });

  test(`dequantizeRow ${f.name} honours source and destination offsets`, () => {
    // One block at a time, from a copy shifted by 3 bytes into a buffer shifted by 5 floats.
    const raw = new Uint8Array(fs.readFileSync(`${dir}/${f.raw}`));
    const expected = readF32File(`${dir}/${f.expected}`);
    const info = typeInfo(f.type as GGMLType);
    const shifted = new Uint8Array(raw.length + 3);
    shifted.set(raw, 3);
    const out = new Float32Array(f.n + 5).fill(7);
    const step = Math.max(info.blockSize, 32);
    for (let v = 0; v < f.n; v += step) {
      const so = 3 + (v / info.blockSize) * info.typeSize;
      dequantizeRow(f.type as GGMLType, shifted, so, out, 5 + v, step);
    }
    assert.deepEqual(Array.from(out.subarray(0, 5)), [7, 7, 7, 7, 7]);
    assertSameFloats(out.subarray(5), expected, `${f.name} (offsets)`);
  });
}

test("dequantizeRow rejects unsupported types, partial blocks and short buffers", () => {
  const src = new Uint8Array(1024);
  const dst = new Float32Array(1024);
  assert.throws(() => dequantizeRow(GGMLType.Q2_K, src, 0, dst, 0, 256), /unsupported tensor type Q2_K; supported: F32, F16, .*Q4_K/);
  assert.throws(() => dequantizeRow(GGMLType.Q4_0, src, 0, dst, 0, 33), /33 values is not a multiple of the Q4_0 block size 32/);
  assert.throws(() => dequantizeRow(GGMLType.Q8_0, src, 1000, dst, 0, 64), /Q8_0 source needs 68 bytes at offset 1000, but has 1024/);
  assert.throws(() => dequantizeRow(GGMLType.F32, src, 0, dst, 1000, 64), /destination needs 64 floats at offset 1000/);
});
