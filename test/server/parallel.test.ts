/**
 * The server over the continuous batch: `ffnskip serve --parallel 4`
 * answers four concurrent `openai` client requests (two streamed) each with
 * its own greedy answer, decoding them in shared steps; admission takes
 * `parallel` requests at once, queues `--queue` more and refuses the rest
 * with 429.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import OpenAI from "openai";
import { loadModel, type Engine } from "../../src/api/engine.js";
import { startServer } from "../../src/server/server.js";
import { ROOT, SMOLLM2, missing, skipOrFail } from "../helpers/paths.js";

const skipReason = missing(SMOLLM2);
const MODEL = "SmolLM2-135M-Instruct.Q4_1";
const PROMPTS = ["The capital of France is", "Once upon a time,", "def add(a, b):", "Water boils at"];
const TOKENS = 10;
let engine: Engine | undefined;

before(async () => {
  if (!skipReason) engine = await loadModel(SMOLLM2, { threads: 1, ctx: 256, parallel: 4 });
});
after(async () => {
  await engine?.dispose();
});

/** Each prompt's greedy continuation, one request at a time. */
async function alone(e: Engine): Promise<string[]> {
  const out: string[] = [];
  for (const p of PROMPTS) out.push((await e.generate(p, { temperature: 0, maxTokens: TOKENS, ignoreEog: true })).text);
  return out;
}

/** The four prompts at once through the client, odd ones streamed. */
function concurrently(client: OpenAI): Promise<string[]> {
  return Promise.all(
    PROMPTS.map(async (prompt, i) => {
      const body = { model: MODEL, prompt, max_tokens: TOKENS, temperature: 0, ignore_eos: true };
      if (i % 2 === 0) return (await client.completions.create(body as OpenAI.CompletionCreateParamsNonStreaming)).choices[0].text;
      let s = "";
      for await (const c of await client.completions.create({ ...body, stream: true } as OpenAI.CompletionCreateParamsStreaming))
        s += c.choices[0]?.text ?? "";
      return s;
    }),
  );
}

test("ffnskip serve --parallel 4 answers four concurrent openai-client requests with their own greedy answers", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const expected = await alone(engine!);
  assert.equal(new Set(expected).size, PROMPTS.length, "the prompts should give different continuations");
  const args = [
    join(ROOT, "bin", "ffnskip.js"),
    "serve",
    "--model",
    SMOLLM2,
    "--threads",
    "1",
    "--ctx",
    "256",
    "--port",
    "0",
    "--parallel",
    "4",
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  try {
    let log = "";
    child.stderr.setEncoding("utf8");
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on("data", (d: string) => {
        log += d;
        const m = /serving .* at (http:\/\/\S+) \(4 parallel\)/.exec(log);
        if (m) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`serve exited ${code}: ${log}`)));
    });
    const health = (await (await fetch(`${url}/health`)).json()) as { queue: { parallel: number } };
    assert.equal(health.queue.parallel, 4);
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 });
    assert.deepEqual(await concurrently(client), expected);
  } finally {
    child.kill("SIGTERM");
    if (child.exitCode === null) await once(child, "exit");
  }
});

test("in process: the requests share decode steps; admission holds parallel + queue, then 429", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const e = engine!;
  const expected = await alone(e);
  const s = await startServer(e, { port: 0, queue: 1 });
  try {
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const steps0 = e.batch.stats.steps;
    assert.deepEqual(await concurrently(client), expected);
    const steps = e.batch.stats.steps - steps0;
    assert.ok(steps < PROMPTS.length * TOKENS, `${steps} steps for ${PROMPTS.length} × ${TOKENS} tokens: they did not share steps`);

    // hold the four slots so the test controls when admission moves
    const releases: (() => void)[] = [];
    const held = Array.from({ length: 4 }, () => s.queue.run(() => new Promise<void>((r) => releases.push(r))));
    assert.equal(s.queue.running, 4);
    const queued = client.completions.create({
      model: MODEL,
      prompt: PROMPTS[0],
      max_tokens: TOKENS,
      temperature: 0,
      ignore_eos: true,
    } as OpenAI.CompletionCreateParamsNonStreaming);
    for (let i = 0; i < 200 && s.queue.queued === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.queue.queued, 1);
    await assert.rejects(
      client.completions.create({ model: MODEL, prompt: "x", max_tokens: 1 }),
      (err: unknown) => err instanceof OpenAI.RateLimitError,
    );
    releases.forEach((r) => r());
    await Promise.all(held);
    assert.equal((await queued).choices[0].text, expected[0]);
  } finally {
    await s.close();
  }
});
