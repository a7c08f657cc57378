import { test } from "node:test";
import assert from "node:assert/strict";
import { bf16ToF32, f16ToF32, f32ToBF16, f32ToF16 } from "./f16.js";

test("f16ToF32 known values", () => {
  assert.equal(f16ToF32(0x3c00), 1);
  assert.equal(f16ToF32(0xc000), -2);
  assert.equal(f16ToF32(0x7bff), 65504);
  assert.equal(f16ToF32(0x0001), 2 ** -24); // smallest subnormal
  assert.equal(f16ToF32(0x03ff), 1023 * 2 ** -24); // largest subnormal
  assert.equal(f16ToF32(0x0400), 2 ** -14); // smallest normal
  assert.equal(f16ToF32(0x3555), 0.333251953125);
  assert.ok(Object.is(f16ToF32(0x8000), -0));
  assert.equal(f16ToF32(0x7c00), Infinity);
  assert.equal(f16ToF32(0xfc00), -Infinity);
  assert.ok(Number.isNaN(f16ToF32(0x7e00)));
  assert.ok(Number.isNaN(f16ToF32(0xfc01)));
});

test("f16ToF32 is strictly increasing over all positive finite codes", () => {
  let prev = -1;
  for (let h = 0; h < 0x7c00; h++) {
    const v = f16ToF32(h);
    assert.ok(v > prev, `code 0x${h.toString(16)}`);
    assert.ok(Object.is(f16ToF32(h | 0x8000), -v));
    prev = v;
  }
});

test("f32ToF16 inverts f16ToF32 on every non-NaN code", () => {
  for (let h = 0; h < 65536; h++) {
    const v = f16ToF32(h);
    if (Number.isNaN(v)) {
      assert.ok(Number.isNaN(f16ToF32(f32ToF16(v))));
      continue;
    }
    if (f32ToF16(v) !== h) assert.fail(`0x${h.toString(16)} -> ${v} -> 0x${f32ToF16(v).toString(16)}`);
  }
});

test("f32ToF16 rounds to nearest, ties to even, with overflow to infinity", () => {
  assert.equal(f32ToF16(1 + 2 ** -11), 0x3c00); // tie, down to even
  assert.equal(f32ToF16(1 + 3 * 2 ** -11), 0x3c02); // tie, up to even
  assert.equal(f32ToF16(1 + 2 ** -11 + 2 ** -20), 0x3c01); // above the tie
  assert.equal(f32ToF16(65519), 0x7bff);
  assert.equal(f32ToF16(65520), 0x7c00); // tie at max rounds to inf
  assert.equal(f32ToF16(1e10), 0x7c00);
  assert.equal(f32ToF16(-1e10), 0xfc00);
  assert.equal(f32ToF16(2 ** -25), 0x0000); // tie below the smallest subnormal: even = 0
  assert.equal(f32ToF16(2 ** -25 + 2 ** -40), 0x0001);
  assert.equal(f32ToF16(3 * 2 ** -25), 0x0002); // subnormal tie, up to even
  assert.equal(f32ToF16(1023.5 * 2 ** -24), 0x0400); // rounds up into the smallest normal
  assert.equal(f32ToF16(1e-30), 0x0000);
  assert.equal(f32ToF16(-1e-30), 0x8000);
  assert.equal(f32ToF16(-0), 0x8000);
});

test("bf16 conversions", () => {
  assert.equal(bf16ToF32(0x3f80), 1);
  assert.equal(bf16ToF32(0xc040), -3);
  assert.equal(bf16ToF32(0x7f80), Infinity);
  assert.ok(Number.isNaN(bf16ToF32(0x7fc0)));
  assert.equal(bf16ToF32(0x0001), 2 ** -133); // subnormal
  assert.equal(f32ToBF16(1), 0x3f80);
  assert.equal(f32ToBF16(1 + 2 ** -8), 0x3f80); // tie, to even
  assert.equal(f32ToBF16(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(f32ToBF16(Infinity), 0x7f80);
  assert.ok(Number.isNaN(bf16ToF32(f32ToBF16(NaN))));
  for (let h = 0; h < 65536; h++) {
    const v = bf16ToF32(h);
    if (!Number.isNaN(v) && f32ToBF16(v) !== h) assert.fail(`bf16 0x${h.toString(16)}`);
  }
});
