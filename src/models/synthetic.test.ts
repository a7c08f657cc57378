import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { getTensor, openGGUF } from "../gguf/reader.js";
import { writeGGUFStreaming } from "../gguf/writer.js";
import { randomWeights, synthSpec, tensorPlan, useMoreBits, SYNTH_TYPES, type SynthShape } from "./synthetic.js";
import { GGMLType } from "../quant/types.js";
import { dequantizeTensor } from "../../test/helpers/dequant-tensor.js";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ffnskip-synth-"));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// tiny, but with rows a multiple of the 256-value K-quant super-block
const TINY: SynthShape = { nLayers: 8, dim: 256, ffnDim: 512, nHeads: 4, nKvHeads: 2, ropeBase: 10000, ctxTrain: 128 };
const TOKENIZER = { "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.tokens": Array.from({ length: 64 }, (_, i) => `t${i}`) };

function write(type: string, seed: number, chunkBytes?: number): string {
  const spec = synthSpec(TINY, type, TOKENIZER);
  const p = path.join(tmp, `${type}-${seed}-${chunkBytes ?? 0}.gguf`);
  writeGGUFStreaming(p, spec, randomWeights(spec, seed), chunkBytes);
  return p;
}

test("useMoreBits picks llama.cpp's layers for the _M mixes", () => {
  const pick = (n: number) => Array.from({ length: n }, (_, i) => i).filter((i) => useMoreBits(i, n));
  assert.deepEqual(pick(32), [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
  assert.deepEqual(pick(22), [0, 1, 4, 7, 10, 13, 16, 19, 20, 21]);
});

test("tensorPlan types follow llama.cpp's mix", () => {
  const types = (t: string) => new Map(tensorPlan(TINY, t, 64).map((x) => [x.name, x.type]));
  const km = types("Q4_K_M");
  assert.equal(km.get("token_embd.weight"), GGMLType.Q4_K);
  assert.equal(km.get("output.weight"), GGMLType.Q6_K);
  assert.equal(km.get("blk.0.attn_norm.weight"), GGMLType.F32);
  assert.equal(km.get("blk.0.attn_v.weight"), GGMLType.Q6_K); // 0 < 8/8
  assert.equal(km.get("blk.0.ffn_down.weight"), GGMLType.Q6_K);
  assert.equal(km.get("blk.0.attn_q.weight"), GGMLType.Q4_K);
  assert.equal(km.get("blk.1.attn_v.weight"), GGMLType.Q4_K); // (1 - 1) % 3 = 0
  assert.equal(km.get("blk.3.ffn_down.weight"), GGMLType.Q6_K); // (3 - 1) % 3 = 2
  assert.equal(km.get("blk.7.ffn_down.weight"), GGMLType.Q6_K); // 7 >= 7·8/8
  assert.equal(types("Q5_K_M").get("blk.1.ffn_gate.weight"), GGMLType.Q5_K);
  assert.equal(types("Q4_0").get("output.weight"), GGMLType.Q6_K);
  assert.equal(types("Q4_0").get("blk.0.attn_v.weight"), GGMLType.Q4_0);
  assert.equal(types("Q8_0").get("output.weight"), GGMLType.Q8_0);
  assert.equal(types("F16").get("output.weight"), GGMLType.F16);
  assert.throws(() => tensorPlan(TINY, "Q3_K", 64), /unknown type 'Q3_K'; supported: F16, Q4_0/);
  assert.throws(() => tensorPlan("llama-70b", "Q4_0", 64), /unknown shape 'llama-70b'; supported: tinyllama-1.1b/);
});

test("random weights have zero mean and row std 1/sqrt(row length) in every type; norms are 1", () => {
  for (const type of Object.keys(SYNTH_TYPES)) {
    const f = openGGUF(write(type, 1));
    for (const name of ["blk.0.attn_q.weight", "blk.0.ffn_down.weight", "output.weight"]) {
      const t = getTensor(f, name);
      const x = dequantizeTensor(f, t);
      let s = 0,
        ss = 0;
      for (const v of x) {
        s += v;
        ss += v * v;
      }
      const mean = s / x.length,
        std = Math.sqrt(ss / x.length - mean * mean),
        want = 1 / Math.sqrt(t.dims[0]);
      assert.ok(Math.abs(std / want - 1) < 0.03, `${type} ${name}: std ${std} vs ${want}`);
      assert.ok(Math.abs(mean) < 0.02 * want, `${type} ${name}: mean ${mean}`);
    }
    assert.ok(dequantizeTensor(f, getTensor(f, "blk.0.ffn_norm.weight")).every((v) => v === 1));
    assert.equal(f.metadata["general.file_type"], SYNTH_TYPES[type].ftype);
  }
});

test("random weights are deterministic per seed and do not depend on the chunk size", () => {
  const a = fs.readFileSync(write("Q4_K_M", 7));
  assert.deepEqual(fs.readFileSync(write("Q4_K_M", 7, 1)), a);
  assert.notDeepEqual(fs.readFileSync(write("Q4_K_M", 8)), a);
});
