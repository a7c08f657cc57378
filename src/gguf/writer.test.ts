import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GGUFValueType, getTensor, openGGUF, readTensorInto } from "./reader.js";
import { encodeGGUF, streamedSize, typed, writeGGUF, writeGGUFStreaming, type TensorInput } from "./writer.js";
import { GGMLType } from "../quant/types.js";
import { dequantizeTensor } from "../../test/helpers/dequant-tensor.js";
import { f32ToF16 } from "../quant/f16.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ffnskip-gguf-writer-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

test("writeGGUF round-trips every metadata value type", () => {
  const p = path.join(tmp, "meta.gguf");
  writeGGUF(p, {
    metadata: {
      "general.architecture": "llama",
      u8: typed(GGUFValueType.UINT8, 200),
      i8: typed(GGUFValueType.INT8, -100),
      u16: typed(GGUFValueType.UINT16, 60000),
      i16: typed(GGUFValueType.INT16, -30000),
      u32: 4000000000,
      i32: -5,
      f32: 0.1,
      f64: typed(GGUFValueType.FLOAT64, 0.1),
      boolT: true,
      boolF: false,
      str: "héllo ✓",
      empty: "",
      u64small: typed(GGUFValueType.UINT64, 12345),
      u64big: 2n ** 63n + 5n,
      i64neg: -(2n ** 62n),
      i64small: typed(GGUFValueType.INT64, -7),
      strs: ["a", "", "Ġt"],
      ints: [1, -2, 3],
      floats: [0.5, -1.25],
      bools: [true, false, true],
      u8s: new Uint8Array([1, 2, 255]),
      i8s: new Int8Array([-1, 2]),
      u16s: new Uint16Array([65535]),
      i16s: new Int16Array([-32768]),
      u32s: new Uint32Array([4294967295]),
      f64s: new Float64Array([Math.PI]),
      u64s: new BigUint64Array([1n, 2n ** 64n - 1n]),
      i64s: new BigInt64Array([-1n]),
      nested: [["x", "y"], [new Int32Array([1, 2, 3])]],
      emptyArr: typed(GGUFValueType.ARRAY, [], GGUFValueType.STRING),
      explicitU16s: typed(GGUFValueType.ARRAY, [1, 2], GGUFValueType.UINT16),
    },
    tensors: [],
  });
  const f = openGGUF(p);
  const m = f.metadata;
  assert.equal(f.version, 3);
  assert.equal(f.architecture, "llama");
  assert.equal(m.u8, 200);
  assert.equal(m.i8, -100);
  assert.equal(m.u16, 60000);
  assert.equal(m.i16, -30000);
  assert.equal(m.u32, 4000000000);
  assert.equal(m.i32, -5);
  assert.equal(m.f32, Math.fround(0.1));
  assert.equal(m.f64, 0.1);
  assert.equal(m.boolT, true);
  assert.equal(m.boolF, false);
  assert.equal(m.str, "héllo ✓");
  assert.equal(m.empty, "");
  assert.equal(m.u64small, 12345); // safe integers become numbers
  assert.equal(m.u64big, 2n ** 63n + 5n); // others stay bigint
  assert.equal(m.i64neg, -(2n ** 62n));
  assert.equal(m.i64small, -7);
  assert.deepEqual(m.strs, ["a", "", "Ġt"]);
  assert.deepEqual(m.ints, new Int32Array([1, -2, 3]));
  assert.deepEqual(m.floats, new Float32Array([0.5, -1.25]));
  assert.deepEqual(m.bools, [true, false, true]);
  assert.deepEqual(m.u8s, new Uint8Array([1, 2, 255]));
  assert.deepEqual(m.i8s, new Int8Array([-1, 2]));
  assert.deepEqual(m.u16s, new Uint16Array([65535]));
  assert.deepEqual(m.i16s, new Int16Array([-32768]));
  assert.deepEqual(m.u32s, new Uint32Array([4294967295]));
  assert.deepEqual(m.f64s, new Float64Array([Math.PI]));
  assert.deepEqual(m.u64s, new BigUint64Array([1n, 2n ** 64n - 1n]));
  assert.deepEqual(m.i64s, new BigInt64Array([-1n]));
  assert.deepEqual(m.nested, [["x", "y"], [new Int32Array([1, 2, 3])]]);
  assert.deepEqual(m.emptyArr, []);
  assert.deepEqual(m.explicitU16s, new Uint16Array([1, 2]));
});

test("writeGGUF round-trips tensors with alignment, and v2", () => {
  const f32 = new Float32Array([1, -2, 3.5, 0]);
  const f16 = new Uint16Array(64).map((_, i) => f32ToF16(i / 8 - 4));
  const q80 = new Uint8Array(34 * 2);
  q80.set([0x00, 0x3c], 0); // d = 1
  q80.set([0xff, 0x02, 0x80], 2); // -1, 2, -128
  for (const version of [2, 3]) {
    const p = path.join(tmp, `t${version}.gguf`);
    writeGGUF(p, {
      version,
      metadata: { "general.alignment": 64, "general.architecture": "test" },
      tensors: [
        { name: "a", type: GGMLType.F32, dims: [4], data: bytesOf(f32) },
        { name: "b", type: GGMLType.F16, dims: [16, 4], data: bytesOf(f16) },
        { name: "c", type: GGMLType.Q8_0, dims: [32, 2], data: q80 },
      ],
    });
    const f = openGGUF(p);
    assert.equal(f.version, version);
    assert.equal(f.alignment, 64);
    assert.equal(f.dataOffset % 64, 0);
    assert.deepEqual(
      f.tensors.map((t) => [t.name, t.type, t.dims, t.nbytes, (t.offset - f.dataOffset) % 64]),
      [
        ["a", GGMLType.F32, [4], 16, 0],
        ["b", GGMLType.F16, [16, 4], 128, 0],
        ["c", GGMLType.Q8_0, [32, 2], 68, 0],
      ],
    );
    assert.deepEqual(dequantizeTensor(f, getTensor(f, "a")), f32);
    const b = dequantizeTensor(f, getTensor(f, "b"));
    for (let i = 0; i < 64; i++) assert.equal(b[i], i / 8 - 4);
    const c = dequantizeTensor(f, getTensor(f, "c"));
    assert.deepEqual(Array.from(c.subarray(0, 4)), [-1, 2, -128, 0]);
    const raw = new Uint8Array(68);
    readTensorInto(f, getTensor(f, "c"), raw);
    assert.deepEqual(raw, q80);
  }
});

test("encodeGGUF rejects wrong tensor sizes, bad alignment and version 1", () => {
  const spec = (over: object) => ({ metadata: {}, tensors: [], ...over });
  assert.throws(
    () => encodeGGUF(spec({ tensors: [{ name: "w", type: GGMLType.Q4_0, dims: [32, 2], data: new Uint8Array(35) }] })),
    /tensor 'w' \(Q4_0 \[32, 2\]\) needs 36 bytes, got 35/,
  );
  assert.throws(
    () => encodeGGUF(spec({ tensors: [{ name: "w", type: GGMLType.Q4_0, dims: [16], data: new Uint8Array(9) }] })),
    /row length 16 is not a multiple of the Q4_0 block size/,
  );
  assert.throws(() => encodeGGUF(spec({ metadata: { "general.alignment": 48 } })), /power of two/);
  assert.throws(() => encodeGGUF(spec({ version: 1 })), /version 2 or 3/);
  assert.throws(() => encodeGGUF(spec({ metadata: { mixed: [1, "a"] } })), /mixes value kinds/);
  assert.throws(() => encodeGGUF(spec({ metadata: { e: [] } })), /explicit item type/);
});

/** Deterministic filler bytes (a multiplicative hash of the position). */
function pattern(n: number, salt: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (Math.imul(i + 1, 2654435761) ^ salt) >>> 24;
  return b;
}

test("writeGGUFStreaming writes the same bytes as encodeGGUF, chunk size aside, and reads back", () => {
  const tensors: TensorInput[] = [
    { name: "norm", type: GGMLType.F32, dims: [3], data: pattern(12, 1) }, // 12 B: padding follows
    { name: "h", type: GGMLType.F16, dims: [8, 5], data: pattern(80, 2) },
    { name: "q4", type: GGMLType.Q4_0, dims: [64, 3], data: pattern(108, 3) },
    { name: "q6", type: GGMLType.Q6_K, dims: [256, 2, 2], data: pattern(840, 4) },
  ];
  const metadata = { "general.architecture": "llama", "general.alignment": 64, big: "x".repeat(3000), list: ["a", "b"] };
  const expect = encodeGGUF({ metadata, tensors });
  for (const chunkBytes of [1, 100, 1 << 20]) {
    const p = path.join(tmp, `stream-${chunkBytes}.gguf`);
    const calls: [number, number, number][] = [];
    const size = writeGGUFStreaming(
      p,
      { metadata, tensors },
      (i, row0, nRows, dest) => {
        calls.push([i, row0, nRows]);
        const rb = tensors[i].data.length / tensors[i].dims.slice(1).reduce((a, b) => a * b, 1);
        assert.equal(dest.length, nRows * rb);
        dest.set(tensors[i].data.subarray(row0 * rb, (row0 + nRows) * rb));
      },
      chunkBytes,
    );
    assert.deepEqual(new Uint8Array(fs.readFileSync(p)), expect);
    assert.equal(size, expect.length);
    assert.equal(streamedSize({ metadata, tensors }), expect.length);
    // chunks are whole rows, in order, covering every row once
    if (chunkBytes === 1) assert.equal(calls.length, 1 + 5 + 3 + 4);
    if (chunkBytes === 1 << 20)
      assert.deepEqual(calls, [
        [0, 0, 1],
        [1, 0, 5],
        [2, 0, 3],
        [3, 0, 4],
      ]);
    const f = openGGUF(p);
    for (const t of tensors) {
      const raw = new Uint8Array(t.data.length);
      readTensorInto(f, getTensor(f, t.name), raw);
      assert.deepEqual(raw, t.data);
    }
  }
});

test("writeGGUFStreaming refuses a tensor type whose size it cannot know", () => {
  assert.throws(
    () => writeGGUFStreaming(path.join(tmp, "bad.gguf"), { metadata: {}, tensors: [{ name: "w", type: 99, dims: [4] }] }, () => {}),
    /tensor 'w' has type id 99, which has no known size; supported: F32, F16/,
  );
});
