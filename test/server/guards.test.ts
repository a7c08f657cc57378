/**
 * What the server review found: start-up failures end `ffnskip serve` with a
 * non-zero exit; empty stop strings and fields the server does not implement
 * get a 400 naming the field; without an API key, a non-local Host or a
 * non-JSON body is refused (DNS rebinding, cross-site form posts); the Bearer
 * scheme is case-insensitive.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Engine } from "../../src/api/engine.js";
import { startServer, type RunningServer } from "../../src/server/server.js";
import { ROOT, SMOLLM2, missing, skipOrFail } from "../helpers/paths.js";
import { closeServer, openServer } from "../helpers/server.js";

const skipReason = missing(SMOLLM2);
let engine: Engine;
let srv: RunningServer;

before(async () => {
  if (skipReason) return;
  ({ engine, srv } = await openServer());
});
after(async () => {
  await closeServer(srv, engine);
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${srv.url}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function expect400(body: Record<string, unknown>, param: string, path = "/v1/chat/completions"): Promise<void> {
  const input = path === "/v1/completions" ? { prompt: "Hi" } : { messages: [{ role: "user", content: "Hi" }] };
  const r = await post(path, { ...input, max_tokens: 2, ...body });
  const j = (await r.json()) as { error: { param: string | null; message: string } };
  assert.equal(r.status, 400, JSON.stringify(j));
  assert.equal(j.error.param, param, j.error.message);
}

test("empty stop strings and unimplemented fields are a 400 naming the field", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  await expect400({ stop: [""] }, "stop");
  await expect400({ stop: "" }, "stop", "/v1/completions");
  await expect400({ stop: [""], stream: true }, "stop");
  await expect400({ response_format: { type: "json_object" } }, "response_format");
  await expect400({ top_logprobs: 3 }, "top_logprobs");
  await expect400({ tools: [] }, "tools");
  // plain text is what every answer is
  const ok = await post("/v1/chat/completions", {
    messages: [{ role: "user", content: "Hi" }],
    max_tokens: 2,
    response_format: { type: "text" },
  });
  assert.equal(ok.status, 200);
});

test("without an API key: a non-local Host is 403, a non-JSON body 415", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const { request } = await import("node:http");
  const raw = (headers: Record<string, string>, body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(`${srv.url}/v1/completions`, { method: "POST", headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end(body);
    });
  const json = JSON.stringify({ prompt: "Hi", max_tokens: 1 });
  assert.equal(await raw({ Host: "attacker.example:8080", "Content-Type": "application/json" }, json), 403);
  assert.equal(await raw({ "Content-Type": "text/plain" }, json), 415);
  assert.equal(await raw({ "Content-Type": "application/x-www-form-urlencoded" }, "prompt=Hi"), 415);
  assert.equal(await raw({ Host: "localhost", "Content-Type": "application/json; charset=utf-8" }, json), 200);
});

test("with an API key the Bearer scheme is matched case-insensitively", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const keyed = await startServer(engine, { port: 0, apiKey: "s3cret" });
  try {
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const r = await fetch(`${keyed.url}/v1/models`, { headers: { Authorization: `${scheme} s3cret` } });
      assert.equal(r.status, 200, scheme);
    }
    assert.equal((await fetch(`${keyed.url}/v1/models`, { headers: { Authorization: "Bearer wrong" } })).status, 401);
  } finally {
    await keyed.close();
  }
});

test("ffnskip serve exits non-zero on a start-up failure", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  // a port that is in use
  const blocker = createServer().listen(0, "127.0.0.1");
  await new Promise((r) => blocker.once("listening", r));
  const port = String((blocker.address() as { port: number }).port);
  try {
    const cases: [string[], RegExp][] = [
      [["--port", port], /EADDRINUSE|in use/],
      [["--port", "0", "--skip", "nonsense"], /unknown skip method "nonsense"/],
      [["--port", "0", "--host", "not a host!"], /ENOTFOUND|EAI_|getaddrinfo|invalid/i],
    ];
    for (const [args, re] of cases) {
      const r = spawnSync(process.execPath, [join(ROOT, "bin", "ffnskip.js"), "serve", "--model", SMOLLM2, "--threads", "2", ...args], {
        encoding: "utf8",
        timeout: 60_000,
      });
      assert.notEqual(r.signal, "SIGTERM", `serve ${args.join(" ")} did not exit (timed out)`);
      assert.notEqual(r.status, 0, `serve ${args.join(" ")} exited 0`);
      assert.match(r.stderr, re, r.stderr);
    }
  } finally {
    blocker.close();
  }
});
