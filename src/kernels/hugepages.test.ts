// Huge-page advice for the kernels' memory (hugepages.ts, native/hugepages.c): advised where the helper was built,
// off on request, and the memory reads and writes as before either way.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { SharedHeap } from "./heap.js";
import { adviseHugePages, anonHugeBytes } from "./hugepages.js";
import { buildFile } from "./wasm-module.js";

/** The helper is optional (a C compiler and Node's headers at install); on Linux with both it must have been built. */
const helper = buildFile("hugepages.node");

test("a heap's memory is advised to use huge pages where the helper is built; FFNSKIP_HUGEPAGES=0 leaves it alone", (t) => {
  if (!helper) {
    assert.ok(process.platform !== "linux" || !existsSync("/usr/include/node/node_api.h"), "the helper should have been built here");
    t.skip("no native helper built (no C compiler or Node headers at install)");
    return;
  }
  const h = new SharedHeap(1 << 20);
  assert.equal(h.hugePages, "advised");
  const p = h.alloc(8 << 20);
  h.u8(p, 8 << 20).fill(7);
  assert.equal(h.u8(p + (5 << 20), 1)[0], 7);
  const before = process.env.FFNSKIP_HUGEPAGES;
  process.env.FFNSKIP_HUGEPAGES = "0";
  try {
    assert.equal(new SharedHeap(1 << 20).hugePages, "off");
    assert.equal(adviseHugePages(new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true }), 65536), "off");
  } finally {
    if (before === undefined) delete process.env.FFNSKIP_HUGEPAGES;
    else process.env.FFNSKIP_HUGEPAGES = before;
  }
  assert.equal(new SharedHeap(1 << 20, h.memory).hugePages, undefined, "a memory given to the heap is not advised again");
});

test("anonHugeBytes reads /proc/self/smaps_rollup", () => {
  const n = anonHugeBytes();
  assert.ok(Number.isInteger(n) && n >= 0);
  if (existsSync("/proc/self/smaps_rollup")) assert.match(readFileSync("/proc/self/smaps_rollup", "utf8"), /AnonHugePages:\s+\d+ kB/);
  else assert.equal(n, 0);
});
