import { test } from "node:test";
import assert from "node:assert/strict";
import { applyRepetitionPenalty, argmax, createSampler, resolveSampling } from "./sampling.js";

const logits = () => Float32Array.from([1, 5, 3, 4.5, -2, 0]);

test("temperature 0 is argmax", () => {
  const s = createSampler({ temperature: 0 });
  assert.equal(s.sample(logits(), []), 1);
  assert.equal(argmax([0, 2, 2, 1]), 1);
});

test("same seed, same draws; another seed differs somewhere", () => {
  const draw = (seed: number) => {
    const s = createSampler({ temperature: 1.5, topK: 0, topP: 1, minP: 0, seed });
    return Array.from({ length: 40 }, () => s.sample(logits(), []));
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
});

test("top-k 2 only draws the two best", () => {
  const s = createSampler({ temperature: 5, topK: 2, topP: 1, minP: 0, seed: 3 });
  const seen = new Set(Array.from({ length: 200 }, () => s.sample(logits(), [])));
  assert.deepEqual([...seen].sort(), [1, 3]);
});

test("top-p keeps the nucleus", () => {
  // probabilities ~ [0.5, 0.3, 0.2]: p = 0.6 keeps the first two
  const lg = Float32Array.from([Math.log(0.5), Math.log(0.3), Math.log(0.2)]);
  const s = createSampler({ temperature: 1, topK: 0, topP: 0.6, minP: 0, seed: 1 });
  const seen = new Set(Array.from({ length: 300 }, () => s.sample(lg.slice(), [])));
  assert.deepEqual([...seen].sort(), [0, 1]);
});

test("min-p drops tokens far below the top", () => {
  const lg = Float32Array.from([Math.log(0.6), Math.log(0.3), Math.log(0.1)]);
  const s = createSampler({ temperature: 1, topK: 0, topP: 1, minP: 0.4, seed: 1 });
  const seen = new Set(Array.from({ length: 300 }, () => s.sample(lg.slice(), [])));
  assert.deepEqual([...seen].sort(), [0, 1]);
});

test("repetition penalty divides positive and multiplies negative logits of recent tokens", () => {
  const lg = logits();
  applyRepetitionPenalty(lg, [1, 4, 1], 2, 64);
  assert.equal(lg[1], 2.5);
  assert.equal(lg[4], -4);
  assert.equal(lg[3], 4.5);
  const g = createSampler({ temperature: 0, repetitionPenalty: 2 });
  assert.equal(g.sample(logits(), [1]), 3);
});

test("invalid sampling values are refused with the valid range", () => {
  assert.throws(() => resolveSampling({ temperature: -1 }), /temperature must be a number in \[0, 100\]/);
  assert.throws(() => resolveSampling({ topP: 0 }), /top-p must be in \(0, 1\]/);
  assert.throws(() => resolveSampling({ topK: 1.5 }), /top-k must be an integer/);
  assert.throws(() => resolveSampling({ minP: 1 }), /min-p must be in \[0, 1\)/);
  assert.throws(() => resolveSampling({ repetitionPenalty: 0 }), /repetition penalty must be > 0/);
  assert.throws(() => resolveSampling({ temperature: NaN }), /temperature/);
});

test("logit bias shifts raw logits before the other processors; ids past the vocabulary are an error", () => {
  // greedy would take 1 (logit 5); +10 on token 4 (logit −2) makes it the argmax, −100 on 1 and 3 leaves 2
  assert.equal(createSampler({ temperature: 0, logitBias: { 4: 10 } }).sample(logits(), []), 4);
  assert.equal(createSampler({ temperature: 0, logitBias: { 1: -100, 3: -100 } }).sample(logits(), []), 2);
  const s = createSampler({ temperature: 1, topK: 1, seed: 1, logitBias: { 0: 100 } });
  assert.equal(s.sample(logits(), []), 0);
  assert.throws(() => createSampler({ temperature: 0, logitBias: { 6: 1 } }).sample(logits(), []), /outside the vocabulary \[0, 6\)/);
  assert.throws(() => resolveSampling({ logitBias: { 1: NaN } }), /logit-bias/);
});

test("top-k on a large vocabulary draws only among the k largest logits (selected without copying the vocabulary)", () => {
  const n = 5000,
    k = 6;
  const lg = new Float32Array(n).fill(-10);
  // the six largest: ids 4000, 17, 2500 and three of the five tied at 2.0
  lg[4000] = 5;
  lg[17] = 4;
  lg[2500] = 3;
  const tied = [10, 20, 30, 40, 50];
  for (const id of tied) lg[id] = 2;
  const s = createSampler({ temperature: 100, topK: k, topP: 1, minP: 0, seed: 5 });
  const seen = new Set(Array.from({ length: 400 }, () => s.sample(Float32Array.from(lg), [])));
  assert.equal(seen.size, k, `draws: ${[...seen]}`);
  for (const id of [17, 2500, 4000]) assert.ok(seen.has(id), `${id} drawn`);
  assert.equal([...seen].filter((id) => tied.includes(id)).length, 3);
});
