import { test } from "node:test";
import assert from "node:assert/strict";
import { chunkRows } from "./pool.js";

const MIN = 1 << 19; // the pool's default minChunkMacs
const BUDGET = 1024;

test("chunkRows: a small decode product gets one chunk per thread, a large one four, a prompt batch is cut as before", () => {
  // SmolLM2-135M's FFN gate (1536 x 576, 885k multiply-adds) at two threads: two chunks, not eight
  assert.equal(chunkRows(1536, 576, 2, 4, MIN, BUDGET), 768);
  assert.equal(chunkRows(1536, 576, 2, 4, 0, BUDGET), 192, "minMacs 0 keeps the old cut: four chunks per thread");
  // ... at four threads still one chunk per thread, so no thread idles
  assert.equal(chunkRows(1536, 576, 4, 4, MIN, BUDGET), 384);
  // a 7B FFN (11008 x 4096, 45M): eight chunks as before
  assert.equal(chunkRows(11008, 4096, 2, 4, MIN, BUDGET), chunkRows(11008, 4096, 2, 4, 0, BUDGET));
  assert.equal(chunkRows(11008, 4096, 2, 4, MIN, BUDGET), 1376);
  // a 64-token prompt through the same gate (576 x 64 multiply-adds per row): unchanged
  assert.equal(chunkRows(1536, 576 * 64, 2, 4, MIN, BUDGET), chunkRows(1536, 576 * 64, 2, 4, 0, BUDGET));
  // Gemma 3 270M's FFN gate (2048 x 640, 1.3M): two chunks of 1024 rows
  assert.equal(chunkRows(2048, 640, 2, 4, MIN, BUDGET), 1024);
});

test("chunkRows: tiny jobs keep MIN_CHUNK_ROWS, huge rows keep the heartbeat cap, results are multiples of 4", () => {
  assert.equal(chunkRows(40, 64, 2, 4, MIN, BUDGET), 32);
  // the LM head of a 262k vocabulary (262144 x 640): capped at 2^23 multiply-adds per chunk
  assert.equal(chunkRows(262144, 640, 2, 4, MIN, BUDGET), 13108);
  for (const [rows, macs] of [
    [37, 64],
    [388, 160],
    [1535, 576],
    [6, 4096],
  ] as const) {
    const r = chunkRows(rows, macs, 2, 4, MIN, BUDGET);
    assert.equal(r % 4, 0, `${rows} x ${macs}: ${r} rows per chunk`);
    assert.ok(r >= 1 && Math.ceil(rows / r) <= BUDGET);
  }
});
