/** Runner: interrupt after k items, rerun with resume, only the rest is computed; configs key the cache. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, appendFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runTask } from "../../src/eval/runner.js";
import { createPolicy, type SkipConfig } from "../../src/skip/config.js";
import type { Task } from "../../src/eval/task.js";

const L = 4;
const engine = { policy: (c?: SkipConfig) => createPolicy(c ?? { method: "none" }, L) };

function fakeTask(calls: string[], onItem?: (id: string) => void): Task {
  return {
    name: "fake",
    settings: { v: 1 },
    needsReference: false,
    primary: "sum",
    higherIsBetter: true,
    items: ["a", "b", "c", "d", "e"].map((id) => ({ id })),
    async runItem(_e, item, ctx) {
      calls.push(item.id);
      onItem?.(item.id);
      return { value: item.id.charCodeAt(0), method: ctx.policy.method, skipped_ffn: 1, total_ffn: 4 };
    },
    score: (_i, outs) => ({ sum: outs.reduce((s, o) => s + (o.value as number), 0) }),
  };
}

test("resume: an interrupted run continues with only the missing items", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-eval-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const base = { outDir: dir, modelSha: "abc", skip: { method: "none" } as SkipConfig };

  const first: string[] = [];
  const ac = new AbortController();
  // "Ctrl-C" while item c runs: a and b are kept, c is discarded
  const r1 = await runTask(
    engine,
    fakeTask(first, (id) => {
      if (id === "c") ac.abort();
    }),
    { ...base, resume: false, signal: ac.signal },
  );
  assert.deepEqual(first, ["a", "b", "c"]);
  assert.equal(r1.complete, false);
  assert.equal(r1.computed, 2);
  assert.deepEqual(
    r1.outputs.map((o) => o !== null),
    [true, true, false, false, false],
  );

  // a torn line from a kill mid-write is ignored
  appendFileSync(r1.cachePath, '{"id":"c","outp');
  const second: string[] = [];
  const r2 = await runTask(engine, fakeTask(second), { ...base, resume: true });
  assert.deepEqual(second, ["c", "d", "e"]);
  assert.equal(r2.complete, true);
  assert.equal(r2.cached, 2);
  assert.equal(r2.cachePath, r1.cachePath);
  assert.deepEqual(
    r2.outputs.map((o) => o!.value),
    [97, 98, 99, 100, 101],
  );

  // everything cached now: nothing recomputed
  const third: string[] = [];
  await runTask(engine, fakeTask(third), { ...base, resume: true });
  assert.deepEqual(third, []);

  // without --resume the cache is started afresh
  const fresh: string[] = [];
  await runTask(engine, fakeTask(fresh), { ...base, resume: false });
  assert.equal(fresh.length, 5);
  const header = JSON.parse(readFileSync(r1.cachePath, "utf8").split("\n")[0]);
  assert.deepEqual(header.config, { task: "fake", settings: { v: 1 }, model_sha256: "abc", skip: { method: "none" } });
});

test("resume: a different skip config or model is a different cache", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "ffnskip-eval-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const calls: string[] = [];
  const a = await runTask(engine, fakeTask(calls), { outDir: dir, modelSha: "m1", skip: { method: "none" }, resume: true });
  const b = await runTask(engine, fakeTask(calls), { outDir: dir, modelSha: "m1", skip: { method: "static", layers: [1] }, resume: true });
  const c = await runTask(engine, fakeTask(calls), { outDir: dir, modelSha: "m2", skip: { method: "none" }, resume: true });
  assert.equal(calls.length, 15);
  assert.equal(new Set([a.cachePath, b.cachePath, c.cachePath]).size, 3);
  assert.equal(b.outputs[0]!.method, "static"); // the item got a policy for its own config
});
