import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GGUFError, GGUFValueType, GGUF_MAGIC, openGGUF } from "./reader.js";
import { ByteWriter, encodeGGUF } from "./writer.js";
import { GGMLType } from "../quant/types.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ffnskip-gguf-errors-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
function put(bytes: Uint8Array): string {
  const p = path.join(tmp, `f${counter++}.gguf`);
  fs.writeFileSync(p, bytes);
  return p;
}

/** openGGUF must throw a GGUFError naming the file and matching `re`. */
function expectError(bytes: Uint8Array, re: RegExp): void {
  const p = put(bytes);
  assert.throws(
    () => openGGUF(p),
    (e: unknown) => {
      assert.ok(e instanceof GGUFError, `expected GGUFError, got ${String(e)}`);
      assert.ok(e.message.includes(p), `message does not name the file: ${e.message}`);
      assert.match(e.message, re);
      return true;
    },
  );
}

/** A small valid file with strings, arrays and two tensors. */
function validFile(tensorType: number = GGMLType.F32): Uint8Array {
  return encodeGGUF({
    metadata: {
      "general.architecture": "llama",
      "llama.block_count": 1,
      "tokenizer.ggml.tokens": ["<s>", "</s>", "hello"],
      "tokenizer.ggml.scores": new Float32Array([0, 0, -1.5]),
    },
    tensors: [
      { name: "w", type: tensorType, dims: [32, 2], data: new Uint8Array(tensorType === GGMLType.F32 ? 256 : 64) },
      { name: "norm", type: GGMLType.F32, dims: [32], data: new Uint8Array(128) },
    ],
  });
}

/** Header prefix: magic, version 3, tensor count, kv count. Callers add 64 bytes of slack
 * after the broken part with `.bytes(SLACK)` so the count sanity check does not fire first. */
const SLACK = new Uint8Array(64);

function header(nTensors: number | bigint, nKV: number | bigint): ByteWriter {
  return new ByteWriter().u32(GGUF_MAGIC).u32(3).u64(nTensors).u64(nKV);
}

test("the valid base file parses", () => {
  const f = openGGUF(put(validFile()));
  assert.equal(f.tensors.length, 2);
  assert.deepEqual(f.metadata["tokenizer.ggml.tokens"], ["<s>", "</s>", "hello"]);
});

test("not a GGUF file", () => {
  expectError(
    new TextEncoder().encode("PK\x03\x04 this is a zip file, not a model"),
    /not a GGUF file \(bad magic 0x04034b50; expected "GGUF"\)/,
  );
  expectError(new Uint8Array(0), /not a GGUF file \(only 0 bytes/);
  expectError(new Uint8Array([0x47, 0x47]), /not a GGUF file/);
});

test("unsupported versions", () => {
  const v1 = validFile();
  new DataView(v1.buffer).setUint32(4, 1, true);
  expectError(v1, /GGUF version 1 is not supported .*supported versions: 2, 3/);
  const v4 = validFile();
  new DataView(v4.buffer).setUint32(4, 4, true);
  expectError(v4, /unsupported GGUF version 4; supported versions: 2, 3/);
  const be = validFile();
  new DataView(be.buffer).setUint32(4, 3, false);
  expectError(be, /big-endian/);
});

test("truncated at every byte gives a GGUFError, never a crash", () => {
  const full = validFile();
  const dataStart = openGGUF(put(full)).dataOffset;
  for (let n = 0; n < full.length; n++) {
    const re = n < 4 ? /not a GGUF file/ : n < dataStart ? /truncated/ : /extends beyond the end of the file/;
    expectError(full.subarray(0, n), re);
  }
});

test("truncation messages say what was being read", () => {
  const full = validFile();
  expectError(full.subarray(0, 10), /truncated file: tensor\/metadata counts/);
  expectError(
    full.subarray(0, 30),
    /truncated or corrupt file: 4 metadata entries and 2 tensor infos need at least 100 bytes, but only 6 remain/,
  );
  expectError(full.subarray(0, 140), /truncated file: .*tokenizer\.ggml\.tokens/);
  const f = openGGUF(put(full));
  const normInfo = Buffer.from(full).lastIndexOf("norm") + 6; // inside the tensor info of 'norm'
  expectError(full.subarray(0, normInfo), /truncated file: tensor info 'norm' needs 4 bytes/);
  expectError(full.subarray(0, f.dataOffset + 100), /tensor 'w' data \(256 bytes at offset \d+\) extends beyond the end of the file/);
});

test("unknown and unsupported tensor types name the type and the supported ones", () => {
  expectError(validFile(99), /tensor 'w': unsupported tensor type type id 99; supported: F32, F16, .*Q6_K/);
  expectError(validFile(16), /tensor 'w': unsupported tensor type IQ2_XXS; supported: F32, F16, .*Q4_1/);
  expectError(validFile(GGMLType.Q2_K), /unsupported tensor type Q2_K/);
});

test("absurd lengths and counts fail fast", () => {
  // a key length far larger than the file
  expectError(
    header(0, 1)
      .u64(2n ** 40n)
      .bytes(SLACK)
      .toBytes(),
    /key of metadata entry 0 has length 1099511627776 but only 64 bytes remain/,
  );
  // a length beyond 2^53
  expectError(
    header(0, 1)
      .u64(2n ** 63n)
      .bytes(SLACK)
      .toBytes(),
    /length of key of metadata entry 0 9223372036854775808 is absurdly large/,
  );
  // a string value length larger than the file
  expectError(
    header(0, 1).str("k").u32(GGUFValueType.STRING).u64(1e12).bytes(SLACK).toBytes(),
    /metadata string 'k' has length 1000000000000/,
  );
  // an array of 2^50 floats, and 2^40 strings
  expectError(
    header(0, 1)
      .str("a")
      .u32(GGUFValueType.ARRAY)
      .u32(GGUFValueType.FLOAT32)
      .u64(2n ** 50n)
      .bytes(SLACK)
      .toBytes(),
    /metadata array 'a' claims 1125899906842624 elements/,
  );
  expectError(
    header(0, 1)
      .str("a")
      .u32(GGUFValueType.ARRAY)
      .u32(GGUFValueType.STRING)
      .u64(2n ** 40n)
      .bytes(SLACK)
      .toBytes(),
    /metadata array 'a' claims 1099511627776 elements/,
  );
  // counts that the file cannot hold
  expectError(header(2n ** 40n, 0).toBytes(), /0 metadata entries and 1099511627776 tensor infos need at least/);
  expectError(header(0, 1e9).toBytes(), /1000000000 metadata entries and 0 tensor infos need at least/);
  // deeply nested arrays
  const deep = header(0, 1).str("d").u32(GGUFValueType.ARRAY);
  for (let i = 0; i < 20; i++) deep.u32(GGUFValueType.ARRAY).u64(1);
  expectError(deep.u32(GGUFValueType.UINT8).u64(0).bytes(SLACK).toBytes(), /nested more than 8 deep/);
});

test("malformed values and tensor infos", () => {
  expectError(header(0, 1).str("k").u32(13).bytes(SLACK).toBytes(), /metadata 'k' has unknown value type 13/);
  expectError(header(0, 1).str("k").u32(GGUFValueType.ARRAY).u32(42).u64(1).bytes(SLACK).toBytes(), /unknown array element type 42/);
  expectError(
    header(0, 2).str("k").u32(GGUFValueType.UINT8).u8(1).str("k").u32(GGUFValueType.UINT8).u8(2).bytes(SLACK).toBytes(),
    /duplicate metadata key 'k'/,
  );
  expectError(
    header(0, 1).str("general.alignment").u32(GGUFValueType.UINT32).u32(48).bytes(SLACK).toBytes(),
    /general.alignment must be a power of two, got 48/,
  );
  const tensor = (name: string, dims: number[], type: number, offset: number, w: ByteWriter) => {
    w.str(name).u32(dims.length);
    for (const d of dims) w.u64(d);
    return w.u32(type).u64(offset);
  };
  const five = tensor("t", [1, 1, 1, 1, 1], GGMLType.F32, 0, header(1, 0)).pad(32).u32(0);
  expectError(five.toBytes(), /tensor 't' has 5 dimensions; at most 4/);
  const twice = tensor("t", [1], GGMLType.F32, 32, tensor("t", [1], GGMLType.F32, 0, header(2, 0)))
    .pad(32)
    .u64(0)
    .u64(0)
    .u64(0)
    .u64(0)
    .u64(0);
  expectError(twice.toBytes(), /duplicate tensor name 't'/);
  const misaligned = tensor("t", [1], GGMLType.F32, 4, header(1, 0)).pad(32).u64(0);
  expectError(misaligned.toBytes(), /tensor 't': data offset 4 is not a multiple of the alignment 32/);
  const partial = tensor("t", [48], GGMLType.Q4_0, 0, header(1, 0)).pad(32).bytes(new Uint8Array(64));
  expectError(partial.toBytes(), /row length 48 is not a multiple of the Q4_0 block size 32/);
  const huge = tensor("t", [2 ** 31, 2 ** 31, 2 ** 31], GGMLType.F32, 0, header(1, 0)).pad(32);
  expectError(huge.toBytes(), /tensor 't' has absurd dimensions/);
});

test("a missing file is a GGUFError naming it", () => {
  const p = path.join(tmp, "does-not-exist.gguf");
  assert.throws(
    () => openGGUF(p),
    (e: unknown) => e instanceof GGUFError && e.message.includes(p) && /cannot open/.test(e.message),
  );
});
