import { test } from "node:test";
import assert from "node:assert/strict";
import { GGMLType } from "./types.js";
import { dequantizeRow } from "./dequant.js";
import { widenQ5_0InPlace } from "./widen.js";

test("Q5_0 widened to Q8_0 in place dequantizes to exactly the same values", () => {
  let seed = 7;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) / 16777216;
  };
  for (const blocks of [1, 2, 3, 40, 257]) {
    const q5 = new Uint8Array(22 * blocks);
    for (let j = 0; j < blocks; j++) {
      const o = 22 * j;
      // f16 scales of both signs, normal and subnormal; bits and nibbles at random, block 0 all ones
      const h = j % 5 === 0 ? 0x0001 + (j & 0x3ff) : (0x2000 + Math.floor(rand() * 0x3000)) | (rand() < 0.5 ? 0x8000 : 0);
      q5[o] = h & 255;
      q5[o + 1] = h >> 8;
      for (let i = 2; i < 22; i++) q5[o + i] = j === 0 ? 255 : Math.floor(rand() * 256);
    }
    const want = new Float32Array(32 * blocks);
    dequantizeRow(GGMLType.Q5_0, q5, 0, want, 0, 32 * blocks);
    const buf = new Uint8Array(34 * blocks);
    buf.set(q5, 12 * blocks);
    widenQ5_0InPlace(buf, blocks);
    const got = new Float32Array(32 * blocks);
    dequantizeRow(GGMLType.Q8_0, buf, 0, got, 0, 32 * blocks);
    for (let i = 0; i < want.length; i++) assert.ok(Object.is(got[i], want[i]), `${blocks} blocks, value ${i}: ${got[i]} vs ${want[i]}`);
  }
  assert.throws(() => widenQ5_0InPlace(new Uint8Array(33), 1), /33 bytes for 1 blocks, need 34/);
});
