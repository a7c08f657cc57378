import { test } from "node:test";
import assert from "node:assert/strict";
import { StopMatcher } from "./stop.js";

test("a stop string split across chunks is never emitted", () => {
  const m = new StopMatcher(["\nUser:"]);
  let out = "";
  for (const c of ["Hello", " there\n", "Us", "er: hi"]) {
    const r = m.push(c);
    out += r.emit;
    if (r.stopped) break;
  }
  assert.equal(out, "Hello there");
});

test("text that only looked like a stop prefix is released", () => {
  const m = new StopMatcher(["STOP"]);
  assert.equal(m.push("abc ST").emit, "abc ");
  assert.equal(m.push("AY").emit, "STAY");
  assert.equal(m.flush(), "");
  assert.equal(m.push("ST").emit, "");
  assert.equal(m.flush(), "ST");
});

test("the earliest of several stop strings wins", () => {
  const r = new StopMatcher(["b", "cd"]).push("acdxb");
  assert.deepEqual(r, { emit: "a", stopped: true });
});

test("empty stop strings are refused", () => {
  assert.throws(() => new StopMatcher([""]), /non-empty/);
});
