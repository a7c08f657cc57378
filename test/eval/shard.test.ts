// Sharding: shards partition the items, and the merged shard caches give
// exactly the records (metrics, per-item values, achieved ratios) of one
// unsharded sweep — here on llama-2-tiny-random over 5 ARC-Easy items with
// dense and two skip configs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel } from "../../src/api/engine.js";
import { makeTask, provenance } from "../../src/eval/evaluate.js";
import { mergeCaches, parseShard, shardTask } from "../../src/eval/shard.js";
import { runSweeps, type Cell } from "../../src/eval/sweep.js";
import type { Target, Targeter } from "../../src/eval/targets.js";
import type { Task } from "../../src/eval/task.js";
import { LLAMA2_TINY, SHARED, needs } from "../helpers/paths.js";

test("shards partition the items deterministically", () => {
  const task = { items: Array.from({ length: 7 }, (_, i) => ({ id: `q${i}` })) } as Task;
  const parts = [0, 1, 2].map((i) => shardTask(task, i, 3).items.map((x) => x.id));
  assert.deepEqual(parts, [
    ["q0", "q3", "q6"],
    ["q1", "q4"],
    ["q2", "q5"],
  ]);
  assert.deepEqual(parseShard("1/3"), { index: 1, count: 3 });
  assert.throws(() => parseShard("3/3"), /--shard expects I\/N with 0 ≤ I < N/);
  assert.throws(() => parseShard("a/b"), /--shard expects I\/N/);
});

/** Fixed configs in place of ratio targeting (which would calibrate). */
const targeter = {
  async get(method: string, ratio: number): Promise<Target> {
    const config = method === "static" ? { method: "static" as const, layers: [0] } : { method: "random" as const, k: 1, seed: 3 };
    return {
      method: method as Target["method"],
      target_ratio: ratio,
      config,
      calib: { ratio, agreement: 1 } as Target["calib"],
      source: "test",
    };
  },
} as unknown as Targeter;

test("merged shard caches equal one unsharded run", { timeout: 60_000 }, async (t) => {
  const data = join(SHARED, "data", "knowledge", "arc-easy-test.jsonl");
  if (needs(t, LLAMA2_TINY, data)) return;
  process.env.FFNSKIP_SHARED = SHARED;
  const root = mkdtempSync(join(tmpdir(), "ffnskip-shard-"));
  const engine = await loadModel(LLAMA2_TINY, { threads: 1 });
  t.after(async () => {
    await engine.dispose();
    rmSync(root, { recursive: true, force: true });
  });
  const prov = provenance(engine);
  const cells: Cell[] = [
    { method: "static", ratio: 0.25 },
    { method: "random", ratio: 0.25 },
  ];
  const sweep = (dir: string, shard?: { index: number; count: number }, computeMissing = true) =>
    runSweeps(engine, [makeTask("arc-easy", { limit: 5, shard }, engine)], cells, targeter, {
      outDir: dir,
      resume: true,
      prov,
      computeMissing,
    });
  const whole = await sweep(join(root, "whole"));
  await sweep(join(root, "s0"), { index: 0, count: 2 });
  await sweep(join(root, "s1"), { index: 1, count: 2 });
  const rep = mergeCaches([join(root, "s0"), join(root, "s1")], join(root, "merged"));
  assert.deepEqual(Object.values(rep.files), [5, 5, 5], "three cache files of 5 items each");
  const merged = await sweep(join(root, "merged"), undefined, false);
  const strip = (r: (typeof whole)[number]) =>
    [r.dense, ...r.cells.map((c) => c.record)].map((x) => ({
      skip: x.skip,
      metrics: x.metrics,
      achieved: x.achieved_ratio,
      ids: x.ids,
      values: x.values,
      complete: x.complete,
    }));
  assert.deepEqual(strip(merged[0]), strip(whole[0]));
  assert.equal(merged[0].dense.computed, 0, "the merged sweep computed nothing");
  // a missing shard is reported, not recomputed
  rmSync(join(root, "only0"), { recursive: true, force: true });
  mergeCaches([join(root, "s0")], join(root, "only0"));
  const part = await sweep(join(root, "only0"), undefined, false);
  assert.equal(part[0].complete, false);
  assert.equal(part[0].dense.items, 3);
  assert.ok(!existsSync(join(root, "only0", "nothing")));
});
