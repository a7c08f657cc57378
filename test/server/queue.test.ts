/** The server's bounded FIFO: order, one job at a time, refusal when full, abort while waiting. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { JobQueue, QueueFullError } from "../../src/server/queue.js";

test("jobs run one at a time in arrival order; a full queue refuses; an aborted waiter leaves", async () => {
  const q = new JobQueue(2);
  const order: string[] = [];
  let active = 0;
  const gates: Record<string, () => void> = {};
  const job = (name: string) => () =>
    new Promise<string>((resolve) => {
      active++;
      assert.equal(active, 1, "never two jobs at once");
      order.push(name);
      gates[name] = () => {
        active--;
        resolve(name);
      };
    });
  const a = q.run(job("a"));
  const ac = new AbortController();
  const b = q.run(job("b"), ac.signal);
  const c = q.run(job("c"));
  assert.equal(q.running, 1);
  assert.equal(q.queued, 2);
  await assert.rejects(q.run(job("d")), (e: unknown) => e instanceof QueueFullError && e.retryAfterS >= 1);
  ac.abort(new Error("client gone"));
  await assert.rejects(b, /client gone/);
  assert.equal(q.queued, 1);
  gates.a();
  assert.equal(await a, "a");
  await new Promise((r) => setImmediate(r));
  gates.c();
  assert.equal(await c, "c");
  assert.deepEqual(order, ["a", "c"]);
  assert.equal(q.running, 0);
  // a new arrival after the queue drained runs at once
  const e = q.run(async () => "e");
  assert.equal(await e, "e");
});

test("cancelWaiting refuses every waiter", async () => {
  const q = new JobQueue(3);
  let release!: () => void;
  const held = q.run(
    () =>
      new Promise<void>((r) => {
        release = r;
      }),
  );
  const w = [q.run(async () => 1), q.run(async () => 2)];
  q.cancelWaiting(new Error("shutting down"));
  for (const p of w) await assert.rejects(p, /shutting down/);
  release();
  await held;
  assert.equal(q.running, 0);
  assert.throws(() => new JobQueue(-1), /capacity must be an integer ≥ 0/);
});
