// ffn-sparse's neuron order side file (neuron-order.ts): the calibration's sort, the file's round trip and its errors,
// and the config and profile that name it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeNeuronOrder, encodeNeuronOrder, loadNeuronOrder, sortWithinBlocks, writeNeuronOrder } from "./neuron-order.js";
import { createPolicy } from "./config.js";
import { readSkipProfile } from "./skip-profile.js";

test("sortWithinBlocks: each block of 32 by kept count, rarest first, ties by neuron; nothing leaves its block", () => {
  const kept = Float64Array.from({ length: 64 }, (_, i) => (i < 32 ? 31 - i : i % 2));
  const o = sortWithinBlocks(kept);
  assert.deepEqual(
    [...o.subarray(0, 32)],
    Array.from({ length: 32 }, (_, i) => 31 - i),
  );
  assert.deepEqual(
    [...o.subarray(32)],
    [...Array.from({ length: 16 }, (_, i) => 32 + 2 * i), ...Array.from({ length: 16 }, (_, i) => 33 + 2 * i)],
  );
  assert.throws(() => sortWithinBlocks(new Float64Array(40)), /40 neurons are not whole blocks of 32/);
});

test("the order file: round trip, and truncated, foreign or cross-block files refused by name", () => {
  const orders = [sortWithinBlocks(Float64Array.from({ length: 64 }, (_, i) => (i * 7) % 5)), Int32Array.from({ length: 64 }, (_, i) => i)];
  const bytes = encodeNeuronOrder(orders);
  assert.deepEqual(decodeNeuronOrder(bytes, "f"), orders);
  assert.throws(() => decodeNeuronOrder(bytes.subarray(0, bytes.length - 1), "f"), /f: .* bytes, expected .* \(truncated or corrupt\)/);
  assert.throws(() => decodeNeuronOrder(new TextEncoder().encode("GGUF and more bytes here"), "f"), /not a neuron order file/);
  const dup = Uint8Array.from(bytes);
  dup[20 + 1] = dup[20]; // two positions name one neuron
  assert.throws(() => decodeNeuronOrder(dup, "f"), /layer 0 is not a permutation within blocks of 32/);
  const across = Int32Array.from({ length: 64 }, (_, i) => 63 - i);
  assert.throws(() => encodeNeuronOrder([across]), /layer 0 is not a permutation of 64 neurons within blocks of 32/);
});

test("a profile's neuron_order_file: relative to the profile, groups of 4 along it; needs group_size 4 and the model's layers", () => {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-order-"));
  const L = 3,
    F = 64;
  const orders = Array.from({ length: L }, (_, l) => sortWithinBlocks(Float64Array.from({ length: F }, (_, i) => (i * (l + 3)) % 7)));
  writeNeuronOrder(join(dir, "p.order"), orders);
  const config = { method: "ffn-sparse", warmup: 2, thresholds: [0.1, 0.2, 0.3], group_size: 4, neuron_order_file: "p.order" };
  writeFileSync(join(dir, "p.json"), JSON.stringify(config));
  const p = readSkipProfile(join(dir, "p.json"), L);
  const policy = createPolicy(p.config, L);
  assert.deepEqual(policy.neuronGroups?.(1), { size: 4, order: orders[1] });
  assert.equal(loadNeuronOrder(join(dir, "p.order")), loadNeuronOrder(join(dir, "p.order")), "read once, shared by every policy");
  writeFileSync(join(dir, "q.json"), JSON.stringify({ ...config, group_size: 1 }));
  assert.throws(() => createPolicy(readSkipProfile(join(dir, "q.json"), L).config, L), /neuron order file needs group_size 4/);
  assert.throws(() => createPolicy(p.config, 2), /thresholds has 3 entries, the model has 2 layers/);
  const four = { method: "ffn-sparse" as const, thresholds: [0.1, 0.2, 0.3, 0.4], groupSize: 4, neuronOrderFile: join(dir, "p.order") };
  assert.throws(() => createPolicy(four, 4), /p\.order: 3 layers, the model has 4/);
  assert.throws(
    () => createPolicy({ ...four, neuronOrderFile: join(dir, "none.order") }, 4),
    /neuron order file .*none\.order: cannot read/,
  );
});
