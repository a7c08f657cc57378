/**
 * The OpenAI-compatible server with the official `openai` client against the
 * real default model: chat and completions (whole and streamed), validation,
 * API key, disconnect → abort, 20 concurrent clients, queue overflow, and a
 * graceful close. Generations are a few greedy tokens so the file stays fast.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { Engine } from "../../src/api/engine.js";
import { startServer, type RunningServer } from "../../src/server/server.js";
import { SMOLLM2, missing, skipOrFail } from "../helpers/paths.js";
import { closeServer, openServer } from "../helpers/server.js";

const skipReason = missing(SMOLLM2);
let engine: Engine;
let srv: RunningServer;
let client: OpenAI;
const MODEL = "SmolLM2-135M-Instruct.Q4_1";

before(async () => {
  if (!skipReason) ({ engine, srv, client } = await openServer());
});
after(() => closeServer(srv, engine));

const health = async (s: RunningServer) =>
  (await (await fetch(`${s.url}/health`)).json()) as {
    queue: { running: number; waiting: number };
    stats: { generations: { completed: number; aborted: number }; last: { finish_reason: string; generated_tokens: number } | null };
  };

async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const messages = [{ role: "user" as const, content: "What is the capital of France?" }];

test("chat completion, whole and streamed, equals the engine's own greedy reply", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const direct = await engine.generate({ messages }, { temperature: 0, maxTokens: 8 });
  const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 8, temperature: 0 });
  assert.equal(r.object, "chat.completion");
  assert.equal(r.choices[0].message.role, "assistant");
  assert.equal(r.choices[0].message.content, direct.text);
  assert.ok(direct.text.length > 0);
  const u = r.usage as unknown as Record<string, number>;
  assert.equal(u.completion_tokens, direct.stats.generated_tokens);
  assert.equal(u.prompt_tokens, direct.stats.prompt_tokens);
  assert.equal(u.skip_ratio, 0);
  assert.ok(u.decode_tok_per_s > 0);

  const stream = await client.chat.completions.create({
    model: MODEL,
    messages,
    max_tokens: 8,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = "",
    finish: string | null = null,
    usage: Record<string, number> | null = null,
    first = true;
  for await (const c of stream) {
    if (c.choices.length) {
      if (first) assert.equal(c.choices[0].delta.role, "assistant");
      first = false;
      text += c.choices[0].delta.content ?? "";
      finish = c.choices[0].finish_reason ?? finish;
    }
    if (c.usage) usage = c.usage as unknown as Record<string, number>;
  }
  assert.equal(text, direct.text);
  assert.equal(finish, direct.finish_reason === "stop" ? "stop" : "length");
  assert.equal(usage?.completion_tokens, direct.stats.generated_tokens);
});

test("text completion, whole and streamed, with a per-request skip config", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const prompt = "The capital of France is";
  const skip = { method: "static", layers: [10, 11], warmup: 0 };
  const body = {
    model: MODEL,
    prompt,
    max_tokens: 6,
    temperature: 0,
    ignore_eos: true,
    ffnskip: { skip },
  } as unknown as OpenAI.CompletionCreateParamsNonStreaming;
  const r = await client.completions.create(body);
  const direct = await engine.generate(prompt, {
    temperature: 0,
    maxTokens: 6,
    ignoreEog: true,
    skip: { method: "static", layers: [10, 11], warmup: 0 },
  });
  assert.equal(r.object, "text_completion");
  assert.equal(r.choices[0].text, direct.text);
  assert.equal(r.choices[0].finish_reason, "length");
  const u = r.usage as unknown as Record<string, number | string>;
  assert.equal(u.skip_method, "static");
  assert.equal(u.skip_ratio, direct.skip.ratio);
  assert.ok((u.skip_ratio as number) > 0, "static skipping of 2 layers must show a ratio");
  // snake_case profile keys are accepted as well
  const s = await client.completions.create({
    ...body,
    stream: true,
    stream_options: { include_usage: true },
    ffnskip: { skip: { method: "static", layers: [10, 11], warmup: 0 } },
  } as unknown as OpenAI.CompletionCreateParamsStreaming);
  let text = "",
    ratio: unknown;
  for await (const c of s) {
    if (c.choices.length) text += c.choices[0].text;
    if (c.usage) ratio = (c.usage as unknown as Record<string, unknown>).skip_ratio;
  }
  assert.equal(text, direct.text);
  assert.equal(ratio, direct.skip.ratio);
});

test("models, health, 404, 405", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const list = await client.models.list();
  assert.deepEqual(
    list.data.map((m) => m.id),
    [MODEL],
  );
  const h = await fetch(`${srv.url}/health`);
  assert.equal(h.status, 200);
  const nf = await fetch(`${srv.url}/v1/embeddings`, { method: "POST", body: "{}" });
  assert.equal(nf.status, 404);
  assert.match(((await nf.json()) as { error: { message: string } }).error.message, /no route \/v1\/embeddings/);
  const na = await fetch(`${srv.url}/v1/chat/completions`);
  assert.equal(na.status, 405);
  assert.equal(na.headers.get("allow"), "POST");
});

test("bad requests are 400s (413 for a huge body) with messages naming the problem", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const raw = async (path: string, body: string) => {
    const r = await fetch(`${srv.url}${path}`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    return { status: r.status, error: ((await r.json()) as { error: { message: string; type: string; param: string | null } }).error };
  };
  const bad = await raw("/v1/chat/completions", "{not json");
  assert.equal(bad.status, 400);
  assert.match(bad.error.message, /not valid JSON/);
  assert.equal(bad.error.type, "invalid_request_error");

  const cases: [Record<string, unknown>, RegExp][] = [
    [{ messages, temperature: "hot" }, /temperature must be a number/],
    [{ messages, top_p: 1.5 }, /top-p must be in \(0, 1\]/],
    [{ messages, temperature: 3 }, /temperature must be in \[0, 2\]/],
    [{ messages, max_tokens: 2.5 }, /max_tokens must be an integer/],
    [{ messages: "hi" }, /messages must be a non-empty list/],
    [{ messages: [{ role: "wizard", content: "x" }] }, /role must be one of/],
    [{ messages, model: "gpt-4o" }, /unknown model "gpt-4o"/],
    [{ messages, ffnskip: { skip: { method: "teleport" } } }, /unknown skip method "teleport"/],
    [{ messages, ffnskip: { skip: { method: "ffn-skip", tau: 7 } } }, /tau must be a number in \[-1, 2\]/],
  ];
  for (const [body, re] of cases) {
    await assert.rejects(
      client.chat.completions.create({ model: MODEL, max_tokens: 2, ...body } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming),
      (e: unknown) => e instanceof OpenAI.BadRequestError && re.test(e.message),
      `expected 400 matching ${re} for ${JSON.stringify(body)}`,
    );
  }
  // a prompt longer than the context: token ids, so no tokenizing cost
  const long = await raw("/v1/completions", JSON.stringify({ prompt: new Array(engine.model.ctx + 5).fill(1), max_tokens: 1 }));
  assert.equal(long.status, 400);
  assert.match(long.error.message, /context is \d+ tokens/);
  const big = await fetch(`${srv.url}/v1/completions`, {
    method: "POST",
    body: "x".repeat((1 << 20) + 10),
    headers: { "Content-Type": "application/json" },
  });
  assert.equal(big.status, 413);
});

test("an API key is enforced (401) when set", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const s = await startServer(engine, { port: 0, apiKey: "s3cret" });
  try {
    const wrong = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "nope", maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError && /API key/.test(e.message));
    const none = await fetch(`${s.url}/v1/completions`, { method: "POST", body: "{}" });
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, "invalid_api_key");
    const right = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "s3cret", maxRetries: 0 });
    assert.equal((await right.models.list()).data.length, 1);
    assert.equal((await fetch(`${s.url}/health`)).status, 200);
  } finally {
    await s.close();
  }
});

test("a client that disconnects mid-stream aborts its generation", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const before = (await health(srv)).stats.generations.aborted;
  const stream = await client.completions.create({
    model: MODEL,
    prompt: "Once upon a time",
    max_tokens: 400,
    temperature: 0,
    stream: true,
    ignore_eos: true,
  } as unknown as OpenAI.CompletionCreateParamsStreaming);
  let n = 0;
  for await (const c of stream) {
    if (c.choices[0]?.text) n++;
    if (n === 2) break; // leaving the loop aborts the HTTP request
  }
  await until(async () => (await health(srv)).stats.generations.aborted === before + 1, "the generation to abort");
  const h = await health(srv);
  assert.equal(h.stats.last?.finish_reason, "aborted");
  assert.ok(h.stats.last!.generated_tokens < 400, `stopped early (${h.stats.last!.generated_tokens} of 400 tokens)`);
  assert.equal(h.queue.running, 0);
});

test("20 concurrent clients each get exactly their own answer", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const prompts = Array.from({ length: 20 }, (_, i) => `Item ${i + 1}:`);
  const alone: string[] = [];
  for (const p of prompts) alone.push((await engine.generate(p, { temperature: 0, maxTokens: 2, ignoreEog: true })).text);
  assert.ok(new Set(alone).size > 1, "the prompts should give different continuations");
  const got = await Promise.all(
    prompts.map(async (prompt, i) => {
      const body = { model: MODEL, prompt, max_tokens: 2, temperature: 0, ignore_eos: true };
      if (i % 2 === 0) return (await client.completions.create(body as OpenAI.CompletionCreateParamsNonStreaming)).choices[0].text;
      let s = "";
      for await (const c of await client.completions.create({ ...body, stream: true } as OpenAI.CompletionCreateParamsStreaming))
        s += c.choices[0]?.text ?? "";
      return s;
    }),
  );
  assert.deepEqual(got, alone);
});

test("a full queue answers 429 with Retry-After; queued work still completes", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const s = await startServer(engine, { port: 0, queue: 1 });
  try {
    // hold the single generation slot so the test controls when the queue moves
    let release!: () => void;
    const held = s.queue.run(
      () =>
        new Promise<void>((r) => {
          release = r;
        }),
    );
    const body = JSON.stringify({ prompt: "Item 1:", max_tokens: 3, temperature: 0, ignore_eos: true });
    const queued = fetch(`${s.url}/v1/completions`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    await until(async () => (await health(s)).queue.waiting === 1, "the request to queue");
    const over = await fetch(`${s.url}/v1/completions`, { method: "POST", body, headers: { "Content-Type": "application/json" } });
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get("retry-after")) >= 1);
    assert.match(((await over.json()) as { error: { message: string } }).error.message, /busy/);
    const c = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "x", maxRetries: 0 });
    await assert.rejects(
      c.completions.create({ model: MODEL, prompt: "x", max_tokens: 1 }),
      (e: unknown) => e instanceof OpenAI.RateLimitError,
    );
    release();
    await held;
    const r = await queued;
    assert.equal(r.status, 200);
    const alone = await engine.generate("Item 1:", { temperature: 0, maxTokens: 3, ignoreEog: true });
    assert.equal(((await r.json()) as { choices: { text: string }[] }).choices[0].text, alone.text);
  } finally {
    await s.close();
  }
});

test("close() lets an in-flight request finish, then refuses connections", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const s = await startServer(engine, { port: 0 });
  const inflight = fetch(`${s.url}/v1/completions`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ prompt: "Item 2:", max_tokens: 3, temperature: 0 }),
  });
  await until(async () => s.stats().requests >= 1, "the request to arrive");
  await s.close(5000);
  const r = await inflight;
  assert.equal(r.status, 200);
  assert.equal(((await r.json()) as { choices: unknown[] }).choices.length, 1);
  await assert.rejects(fetch(`${s.url}/health`));
});
