import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GGMLType } from "../quant/types.js";
import { ggmlTypeOf, openSafetensors, readSafetensor } from "./reader.js";
import { encodeSafetensors, writeSafetensors } from "../../test/helpers/safetensors-write.js";

function tmp(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-st-"));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("round trip: dtypes, shapes, offsets, bytes", () => {
  const { dir, done } = tmp();
  try {
    const a = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const b = Uint8Array.from([1, 2, 3, 4]);
    const p = join(dir, "x.safetensors");
    writeSafetensors(
      p,
      [
        { name: "a", dtype: "F32", shape: [2, 3], data: a },
        { name: "b", dtype: "BF16", shape: [2], data: b },
      ],
      { format: "pt" },
    );
    const f = openSafetensors(p);
    assert.deepEqual(f.metadata, { format: "pt" });
    const ta = f.tensors.get("a")!,
      tb = f.tensors.get("b")!;
    assert.deepEqual(ta.shape, [2, 3]);
    assert.equal(ggmlTypeOf(f, ta), GGMLType.F32);
    assert.equal(ggmlTypeOf(f, tb), GGMLType.BF16);
    const out = new Uint8Array(24);
    readSafetensor(f, ta, out);
    assert.deepEqual(Array.from(new Float32Array(out.buffer)), [1, 2, 3, 4, 5, 6]);
    const ob = new Uint8Array(4);
    readSafetensor(f, tb, ob);
    assert.deepEqual(Array.from(ob), [1, 2, 3, 4]);
  } finally {
    done();
  }
});

test("unsupported dtype is named with the supported ones", () => {
  const { dir, done } = tmp();
  try {
    const p = join(dir, "x.safetensors");
    writeSafetensors(p, [{ name: "ids", dtype: "I64", shape: [2], data: new Uint8Array(16) }]);
    const f = openSafetensors(p);
    assert.throws(() => ggmlTypeOf(f, f.tensors.get("ids")!), /tensor ids has dtype I64; supported dtypes: F32, F16, BF16/);
  } finally {
    done();
  }
});

test("truncated and corrupt files give clear errors", () => {
  const { dir, done } = tmp();
  try {
    const good = encodeSafetensors([{ name: "a", dtype: "F32", shape: [4], data: new Uint8Array(16) }]);
    const p = join(dir, "x.safetensors");
    const cases: [Uint8Array, RegExp][] = [
      [good.subarray(0, 5), /truncated safetensors file \(5 bytes/],
      [good.subarray(0, 20), /truncated safetensors file: header of \d+ bytes/],
      [good.subarray(0, good.length - 4), /truncated safetensors file: tensor a ends at data byte 16 but the file has 12/],
    ];
    const bad = good.slice();
    bad[9] = 0x7b;
    bad[10] = 0x7b; // "{{" : not JSON
    cases.push([bad, /corrupt safetensors header: not valid JSON/]);
    const huge = good.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    cases.push([huge, /corrupt safetensors header: header length \d+ bytes is implausible/]);
    const wrongSize = encodeSafetensors([{ name: "a", dtype: "F32", shape: [5], data: new Uint8Array(16) }]);
    cases.push([wrongSize, /tensor a: data_offsets span 16 bytes, but F32\[5\] needs 20/]);
    for (const [bytes, re] of cases) {
      writeFileSync(p, bytes);
      assert.throws(() => openSafetensors(p), re);
    }
  } finally {
    done();
  }
});
