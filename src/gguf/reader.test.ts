import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { getTensor, openGGUF, readTensorInto } from "./reader.js";
import { GGMLType } from "../quant/types.js";
import { dequantizeTensor } from "../../test/helpers/dequant-tensor.js";
import { readF32File, repoFile } from "../../test/helpers/fixtures.js";
import { LLAMA2_TINY, SMOLLM2, needs } from "../../test/helpers/paths.js";

const TINY = LLAMA2_TINY;
const SMOL = SMOLLM2;
const fixtures = repoFile("test/fixtures/quant");

interface ModelFixture {
  model: string;
  tensor: string;
  type: number;
  dims: number[];
  head: string;
  headCount: number;
  sum: number;
  sumSquares: number;
  min: number;
  max: number;
}
const modelFixtures = (JSON.parse(fs.readFileSync(`${fixtures}/manifest.json`, "utf8")) as { models: ModelFixture[] }).models;

test("llama-2-tiny-random: metadata and tensor infos", (t) => {
  if (needs(t, TINY)) return;
  const f = openGGUF(TINY);
  assert.equal(f.version, 3);
  assert.equal(f.architecture, "llama");
  assert.equal(f.alignment, 32);
  assert.equal(f.fileSize, 1750560);
  assert.equal(f.dataOffset % 32, 0);
  assert.equal(f.metadata["llama.embedding_length"], 8);
  assert.equal(f.metadata["llama.feed_forward_length"], 32);
  assert.equal(f.metadata["llama.attention.head_count"], 2);
  assert.equal(f.metadata["tokenizer.ggml.model"], "llama");
  assert.equal(f.metadata["llama.attention.layer_norm_rms_epsilon"], Math.fround(1e-5));
  const tokens = f.metadata["tokenizer.ggml.tokens"] as string[];
  assert.ok(Array.isArray(tokens));
  assert.equal(tokens.length, 32000);
  assert.deepEqual(tokens.slice(0, 4), ["<unk>", "<s>", "</s>", "<0x00>"]);
  assert.ok(f.metadata["tokenizer.ggml.scores"] instanceof Float32Array);
  assert.ok(f.metadata["tokenizer.ggml.token_type"] instanceof Int32Array);
  assert.equal(f.tensors.length, 12);
  const emb = getTensor(f, "token_embd.weight");
  assert.deepEqual(emb.dims, [8, 32000]);
  assert.equal(emb.type, GGMLType.F16);
  assert.equal(emb.nElements, 256000);
  assert.equal(emb.nbytes, 512000);
  assert.equal(emb.offset, f.dataOffset);
  assert.equal(getTensor(f, "blk.0.attn_norm.weight").type, GGMLType.F32);
  assert.throws(() => getTensor(f, "nope"), /no tensor named 'nope'/);
});

test("SmolLM2-135M Q4_1: metadata and tensor infos", (t) => {
  if (needs(t, SMOL)) return;
  const f = openGGUF(SMOL);
  assert.equal(f.version, 3);
  assert.equal(f.architecture, "llama");
  assert.equal(f.metadata["llama.block_count"], 30);
  assert.equal(f.metadata["llama.embedding_length"], 576);
  assert.equal(f.metadata["llama.feed_forward_length"], 1536);
  assert.equal(f.metadata["llama.attention.head_count"], 9);
  assert.equal(f.metadata["llama.attention.head_count_kv"], 3);
  assert.equal(f.metadata["llama.rope.freq_base"], 100000);
  assert.equal(f.metadata["tokenizer.ggml.pre"], "smollm");
  assert.equal(f.metadata["tokenizer.ggml.add_bos_token"], false);
  assert.equal((f.metadata["tokenizer.ggml.tokens"] as string[]).length, 49152);
  assert.equal((f.metadata["tokenizer.ggml.merges"] as string[])[0], "Ġ t");
  assert.equal(f.tensors.length, 272);
  const emb = getTensor(f, "token_embd.weight");
  assert.equal(emb.type, GGMLType.Q8_0);
  assert.deepEqual(emb.dims, [576, 49152]);
  assert.equal(emb.nbytes, (576 / 32) * 34 * 49152);
  const down = getTensor(f, "blk.29.ffn_down.weight");
  assert.equal(down.type, GGMLType.Q4_1);
  assert.deepEqual(down.dims, [1536, 576]);
  // tensors lie inside the data section and do not overlap
  const sorted = [...f.tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 0; i < sorted.length; i++) {
    assert.ok(sorted[i].offset >= f.dataOffset);
    if (i > 0) assert.ok(sorted[i].offset >= sorted[i - 1].offset + sorted[i - 1].nbytes);
  }
  assert.ok(sorted[sorted.length - 1].offset + sorted[sorted.length - 1].nbytes <= f.fileSize);
});

for (const m of modelFixtures) {
  test(`${m.model} ${m.tensor}: dequantizeTensor matches gguf-python`, (t) => {
    const file = m.model === "tiny" ? TINY : SMOL;
    if (needs(t, file)) return;
    const f = openGGUF(file);
    const info = getTensor(f, m.tensor);
    assert.equal(info.type, m.type);
    assert.deepEqual(info.dims, m.dims);
    const vals = dequantizeTensor(f, info);
    // the first two rows, bit for bit
    const head = readF32File(`${fixtures}/${m.head}`);
    assert.deepEqual(Array.from(vals.subarray(0, m.headCount)), Array.from(head));
    // the whole tensor, through sums (only the summation order differs from numpy)
    let sum = 0;
    let sumSq = 0;
    let sumAbs = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      sum += v;
      sumSq += v * v;
      sumAbs += Math.abs(v);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    assert.equal(min, m.min);
    assert.equal(max, m.max);
    assert.ok(Math.abs(sum - m.sum) <= 1e-9 * sumAbs, `sum ${sum} vs ${m.sum}`);
    assert.ok(Math.abs(sumSq - m.sumSquares) <= 1e-9 * sumSq, `sum of squares ${sumSq} vs ${m.sumSquares}`);
  });
}

test("readTensorInto rejects a too-small buffer", (t) => {
  if (needs(t, TINY)) return;
  const f = openGGUF(TINY);
  const info = getTensor(f, "output_norm.weight");
  assert.throws(() => readTensorInto(f, info, new Uint8Array(info.nbytes - 1)), /too small for tensor 'output_norm.weight'/);
});
