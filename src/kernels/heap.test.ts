import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedHeap, PAGE } from "./heap.js";

test("heap allocates aligned, non-overlapping blocks and grows the shared memory", () => {
  const heap = new SharedHeap(2 * PAGE);
  assert.ok((heap.memory.buffer as unknown) instanceof SharedArrayBuffer);
  const a = heap.alloc(100);
  const b = heap.alloc(10, 256);
  assert.equal(a % 64, 0);
  assert.equal(b % 256, 0);
  assert.ok(b >= a + 100);
  const va = heap.f32(a, 25);
  va.fill(1.5);
  const before = heap.memory.buffer.byteLength;
  const big = heap.alloc(5 * PAGE);
  assert.ok(heap.memory.buffer.byteLength > before);
  assert.ok(big + 5 * PAGE <= heap.memory.buffer.byteLength);
  // old view still reads the same memory; new views see the grown buffer
  va[0] = 7;
  assert.equal(heap.f32(a, 25)[0], 7);
  heap.u8(big, 5 * PAGE).fill(3);
  assert.equal(heap.u8(big + 5 * PAGE - 1, 1)[0], 3);
});

test("heap rejects bad sizes, alignments and out-of-range views", () => {
  const heap = new SharedHeap();
  assert.throws(() => heap.alloc(-1), /bad size/);
  assert.throws(() => heap.alloc(8, 3), /power of two/);
  assert.throws(() => heap.f32(2, 1), /aligned/);
  assert.throws(() => heap.u8(heap.memory.buffer.byteLength - 4, 8), /outside/);
  assert.throws(() => heap.alloc(5 * 2 ** 30), /4 GiB/);
});
