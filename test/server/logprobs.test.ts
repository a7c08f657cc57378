/**
 * What lm-evaluation-harness's `local-completions` asks of /v1/completions,
 * with the official `openai` client against the real default model: echo +
 * logprobs (OpenAI's legacy format) equal to the engine's own teacher-forced
 * scoring, dense and under a skip policy ("as if decoded"); prompt batches;
 * logprobs of generated tokens; logit_bias; the tokenizer routes; and 400s
 * that name the bad field. A few tokens per request keep the file fast.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import type { Engine } from "../../src/api/engine.js";
import type { RunningServer } from "../../src/server/server.js";
import { SMOLLM2, missing, skipOrFail } from "../helpers/paths.js";
import { closeServer, openServer } from "../helpers/server.js";

const skipReason = missing(SMOLLM2);
let engine: Engine;
let srv: RunningServer;
let client: OpenAI;
const MODEL = "SmolLM2-135M-Instruct.Q4_1";
const TEXT = "Question: What is the capital of France?\nAnswer: Paris";
const SKIP = { method: "static" as const, layers: [10, 11, 12], warmup: 2 };

interface Legacy {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}
type Completion = {
  choices: { index: number; text: string; logprobs: Legacy | null; finish_reason: string }[];
  usage: Record<string, number | string>;
};
const complete = async (body: Record<string, unknown>) =>
  (await client.completions.create({
    model: MODEL,
    temperature: 0,
    ...body,
  } as unknown as OpenAI.CompletionCreateParamsNonStreaming)) as unknown as Completion;

before(async () => {
  if (!skipReason) ({ engine, srv, client } = await openServer());
});
after(() => closeServer(srv, engine));

/** The legacy object's invariants: aligned lists, offsets into the text, the chosen token among the top ones. */
function checkShape(lp: Legacy, text: string, n: number): void {
  const len = lp.tokens.length;
  assert.equal(lp.token_logprobs.length, len);
  assert.equal(lp.top_logprobs.length, len);
  assert.equal(lp.text_offset.length, len);
  for (let i = 0; i < len; i++) {
    assert.ok(lp.text_offset[i] <= text.length && (i === 0 || lp.text_offset[i] >= lp.text_offset[i - 1]));
    const top = lp.top_logprobs[i];
    if (top === null) {
      assert.equal(lp.token_logprobs[i], null);
      continue;
    }
    const vals = Object.values(top);
    assert.ok(vals.length >= 1 && vals.length <= n + 1, `at most logprobs + 1 entries, got ${vals.length}`);
    assert.ok(vals.includes(lp.token_logprobs[i]!), "the chosen token is listed with its own log-prob");
    assert.ok(Math.max(...vals) >= lp.token_logprobs[i]!);
  }
}

test("echo + logprobs (lm-eval's loglikelihood request) equals the engine's teacher-forced scoring", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const r = await complete({ prompt: TEXT, max_tokens: 1, echo: true, logprobs: 1 });
  const c = r.choices[0];
  const ppl = engine.perplexity(TEXT);
  const n = ppl.tokens.length;
  const lp = c.logprobs!;
  checkShape(lp, c.text, 1);
  assert.equal(lp.tokens.length, n + 1, "prompt tokens, then the one generated token");
  assert.equal(lp.token_logprobs[0], null);
  assert.deepEqual(
    lp.token_logprobs.slice(1, n),
    ppl.nll.map((x) => -x),
  );
  assert.ok(c.text.startsWith(TEXT));
  assert.equal(lp.tokens.slice(0, n).join(""), TEXT);
  assert.equal(c.text.slice(lp.text_offset[n - 1], lp.text_offset[n]), " Paris");
  // greedy positions: the model's argmax is the listed top token
  for (let i = 1; i < n; i++) {
    const top = lp.top_logprobs[i]!;
    const greedy = ppl.argmax[i - 1] === ppl.tokens[i];
    assert.equal(Math.max(...Object.values(top)) === lp.token_logprobs[i], greedy, `position ${i}`);
  }
  // max_tokens 0 with echo scores the prompt alone
  const z = await complete({ prompt: TEXT, max_tokens: 0, echo: true, logprobs: 0 });
  assert.equal(z.choices[0].text, TEXT);
  assert.deepEqual(z.choices[0].logprobs!.token_logprobs, lp.token_logprobs.slice(0, n));
});

test("under a skip policy the prompt is scored as if decoded: equal to perplexity with that policy", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const r = await complete({ prompt: TEXT, max_tokens: 0, echo: true, logprobs: 1, ffnskip: { skip: SKIP } });
  const skipped = engine.perplexity(TEXT, { skip: SKIP });
  const dense = engine.perplexity(TEXT);
  const got = r.choices[0].logprobs!.token_logprobs.slice(1);
  assert.deepEqual(
    got,
    skipped.nll.map((x) => -x),
  );
  assert.notDeepEqual(
    got,
    dense.nll.map((x) => -x),
    "skipping 3 layers' FFNs must change the scores",
  );
  assert.equal(r.usage.skip_method, "static");
  assert.ok((r.usage.skip_ratio as number) > 0);
});

test("prompt batches: strings and token-id lists, one choice per prompt with its index", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const prompts = ["The capital of France is", "Once upon a time", "1, 2, 3,"];
  const alone: string[] = [];
  for (const p of prompts) alone.push((await engine.generate(p, { temperature: 0, maxTokens: 3, ignoreEog: true })).text);
  const r = await complete({ prompt: prompts, max_tokens: 3, ignore_eos: true });
  assert.deepEqual(
    r.choices.map((c) => c.index),
    [0, 1, 2],
  );
  assert.deepEqual(
    r.choices.map((c) => c.text),
    alone,
  );
  assert.equal(r.usage.completion_tokens, 9);
  const ids = prompts.map((p) => engine.tokenizer.encode(p));
  const rt = await complete({ prompt: ids, max_tokens: 3, ignore_eos: true, echo: true, logprobs: 1 });
  assert.deepEqual(
    rt.choices.map((c) => c.text),
    prompts.map((p, i) => p + alone[i]),
  );
  rt.choices.forEach((c, i) => {
    checkShape(c.logprobs!, c.text, 1);
    assert.deepEqual(
      c.logprobs!.token_logprobs.slice(1, ids[i].length),
      engine.perplexity(ids[i]).nll.map((x) => -x),
    );
  });
  // streamed: chunks carry their prompt's index
  const texts = ["", "", ""];
  for await (const ch of await client.completions.create({
    model: MODEL,
    prompt: prompts,
    max_tokens: 3,
    temperature: 0,
    ignore_eos: true,
    stream: true,
  } as unknown as OpenAI.CompletionCreateParamsStreaming)) {
    for (const c of ch.choices) texts[c.index] += c.text;
  }
  assert.deepEqual(texts, alone);
});

test("logprobs of generated tokens, and logit_bias bans or forces a token", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const prompt = "The capital of France is";
  const r = await complete({ prompt, max_tokens: 4, ignore_eos: true, logprobs: 3 });
  const c = r.choices[0];
  const lp = c.logprobs!;
  checkShape(lp, c.text, 3);
  assert.equal(lp.tokens.length, 4);
  assert.equal(lp.tokens.join(""), c.text);
  assert.equal(lp.text_offset[0], 0);
  // greedy: every chosen token is the most likely one, with at least 3 alternatives listed
  lp.top_logprobs.forEach((top, i) => {
    assert.equal(Math.max(...Object.values(top!)), lp.token_logprobs[i]);
    assert.ok(Object.keys(top!).length >= 3);
  });
  const first = engine.tokenizer.encode(lp.tokens[0])[0];
  const banned = await complete({ prompt, max_tokens: 1, logit_bias: { [first]: -100 }, logprobs: 0 });
  assert.notEqual(banned.choices[0].text, lp.tokens[0]);
  // log-probs stay the model's own (before the bias): the chosen token is no longer the top one
  assert.ok(banned.choices[0].logprobs!.token_logprobs[0]! < lp.token_logprobs[0]!);
  const forced = engine.tokenizer.encode(" purple")[0];
  const f = await complete({ prompt, max_tokens: 1, logit_bias: { [forced]: 100 } });
  assert.equal(f.choices[0].text, engine.tokenizer.decode([forced]));
});

test("tokenizer routes for lm-eval's remote tokenizer: /tokenizer_info, /tokenize, /detokenize", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const info = (await (await fetch(`${srv.url}/tokenizer_info`)).json()) as Record<string, unknown>;
  assert.equal(info.eos_token, "<|im_end|>");
  assert.equal(info.model_max_length, engine.model.ctx);
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${srv.url}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" },
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> & { error?: { param: string } } };
  };
  const tk = await post("/tokenize", { prompt: "Hello world<|im_end|>", add_special_tokens: false });
  assert.deepEqual(tk.json.tokens, [...engine.tokenizer.encode("Hello world"), engine.tokenizer.eos]);
  const dt = await post("/detokenize", { tokens: tk.json.tokens });
  assert.equal(dt.json.prompt, "Hello world<|im_end|>");
  assert.equal((await post("/tokenize", { prompt: 3 })).json.error?.param, "prompt");
  assert.equal((await post("/detokenize", { tokens: [-1] })).json.error?.param, "tokens");
});

test("bad logprobs / echo / batch / logit_bias values are 400s naming the field", async (t) => {
  if (skipOrFail(t, skipReason)) return;
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ logprobs: -1 }, "logprobs", /logprobs must be an integer in \[0, 20\]/],
    [{ logprobs: 21 }, "logprobs", /logprobs must be an integer/],
    [{ logprobs: 1.5 }, "logprobs", /logprobs must be an integer/],
    [{ echo: "yes" }, "echo", /echo must be a boolean/],
    [{ logprobs: 1, stream: true }, "logprobs", /not supported with stream/],
    [{ echo: true, stream: true }, "echo", /not supported with stream/],
    [{ max_tokens: 0 }, "max_tokens", /max_tokens must be ≥ 1 \(0 only with echo\)/],
    [{ prompt: [] }, "prompt", /prompt must be a string, a list of token ids, or a non-empty batch/],
    [{ prompt: ["ok", 7] }, "prompt", /prompt\[1\] must be a string or a non-empty list of token ids/],
    [
      {
        prompt: [
          [1, 2],
          [3, 1e9],
        ],
      },
      "prompt",
      /prompt\[1\]: token id 1000000000 is outside the vocabulary/,
    ],
    [{ prompt: ["ok", ""] }, "prompt[1]", /prompt\[1\] is empty/],
    [{ logit_bias: [1] }, "logit_bias", /logit_bias must be an object/],
    [{ logit_bias: { abc: 1 } }, "logit_bias", /logit_bias key "abc" is not a token id/],
    [{ logit_bias: { "99999999": 1 } }, "logit_bias", /not a token id in \[0, 49152\)/],
    [{ logit_bias: { "5": 101 } }, "logit_bias", /logit_bias\[5\] must be a number in \[-100, 100\]/],
  ];
  for (const [extra, param, re] of cases) {
    const body = { prompt: "Hi", max_tokens: 1, ...extra };
    const r = await fetch(`${srv.url}/v1/completions`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Content-Type": "application/json" },
    });
    const e = ((await r.json()) as { error: { message: string; param: string } }).error;
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(e.param, param, JSON.stringify(body));
    assert.match(e.message, re);
  }
  await assert.rejects(
    client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }], logprobs: true }),
    (e: unknown) => e instanceof OpenAI.BadRequestError && /logprobs are not supported on chat completions/.test(e.message),
  );
});
