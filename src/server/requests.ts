/**
 * OpenAI request bodies → engine inputs, with every field type- and
 * range-checked so a bad request is a 400 that names the field, never a
 * failure half-way through a stream.
 */
import type { Engine, Prompt, RunOptions, SkipSpec } from "../api/engine.js";
import type { ChatMessage } from "../generate/chat-template.js";
import { resolveSampling } from "../generate/sampling.js";
import { ApiError, badRequest } from "./errors.js";
import { skipFromField } from "./skip-field.js";

/** A validated request, ready for the queue. */
export interface GenRequest {
  model: string;
  /** one or more prompts (completions take batches), already tokenized so the context check happens before queueing */
  prompts: number[][];
  run: Omit<RunOptions, "signal">;
  stream: boolean;
  includeUsage: boolean;
  /** completions: alternatives per position in `logprobs` (null: no log-probs) */
  logprobs: number | null;
  /** completions: the prompt comes back in front of the text (and in `logprobs`) */
  echo: boolean;
}

/** Most alternatives per position a request may ask for (OpenAI's legacy API allows 5; vLLM 20). */
export const MAX_LOGPROBS = 20;

export interface RequestContext {
  engine: Engine;
  /** model ids this server answers to; the first is reported back */
  modelIds: string[];
  /** skip setting for requests without the extension field */
  defaultSkip?: () => SkipSpec;
}

type Body = Record<string, unknown>;

function opt<T>(body: Body, key: string, type: "number" | "boolean" | "string" | "object", integer = false): T | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  const ok = type === "object" ? typeof v === "object" && !Array.isArray(v) : typeof v === type;
  if (!ok || (type === "number" && (!Number.isFinite(v) || (integer && !Number.isInteger(v))))) {
    const want = type === "number" ? (integer ? "an integer" : "a number") : type === "object" ? "an object" : `a ${type}`;
    throw badRequest(`${key} must be ${want}, got ${JSON.stringify(v)}`, key);
  }
  return v as T;
}

function checkModel(body: Body, ctx: RequestContext): string {
  const m = opt<string>(body, "model", "string");
  if (m === undefined) return ctx.modelIds[0];
  if (!ctx.modelIds.includes(m)) {
    throw new ApiError(400, `unknown model "${m}"; this server serves: ${ctx.modelIds.join(", ")}`, "model_not_found", "model");
  }
  return ctx.modelIds[0];
}

/** Fields shared by chat and completions: sampling, limits, stop, the skip extension. */
function runOptions(body: Body, ctx: RequestContext): Omit<RunOptions, "signal"> {
  const n = opt<number>(body, "n", "number", true);
  if (n !== undefined && n !== 1) throw badRequest(`n must be 1 (one choice per request), got ${n}`, "n");
  for (const k of ["frequency_penalty", "presence_penalty"]) {
    const v = opt<number>(body, k, "number");
    if (v !== undefined && v !== 0) throw badRequest(`${k} is not supported (use repetition_penalty); got ${v}`, k);
  }
  const maxTokens = opt<number>(body, "max_completion_tokens", "number", true) ?? opt<number>(body, "max_tokens", "number", true);
  // with echo, 0 tokens means "only score the prompt"
  const least = body.echo === true ? 0 : 1;
  if (maxTokens !== undefined && maxTokens < least)
    throw badRequest(`max_tokens must be ≥ ${least}${least ? " (0 only with echo)" : ""}, got ${maxTokens}`, "max_tokens");
  const sampling = {
    temperature: opt<number>(body, "temperature", "number"),
    topP: opt<number>(body, "top_p", "number"),
    topK: opt<number>(body, "top_k", "number", true),
    minP: opt<number>(body, "min_p", "number"),
    repetitionPenalty: opt<number>(body, "repetition_penalty", "number"),
    seed: opt<number>(body, "seed", "number", true),
  };
  if (sampling.temperature !== undefined && sampling.temperature > 2) {
    throw badRequest(`temperature must be in [0, 2], got ${sampling.temperature}`, "temperature");
  }
  try {
    resolveSampling(sampling);
  } catch (e) {
    const name = /^invalid sampling value: ([a-z-]+)/.exec((e as Error).message)?.[1];
    const param = name
      ? ((
          {
            temperature: "temperature",
            "top-p": "top_p",
            "top-k": "top_k",
            "min-p": "min_p",
            repetition: "repetition_penalty",
            seed: "seed",
          } as Record<string, string>
        )[name] ?? null)
      : null;
    throw badRequest((e as Error).message, param);
  }
  let stop: string[] | undefined;
  const s = body.stop;
  if (typeof s === "string") stop = [s];
  else if (Array.isArray(s) && s.every((x) => typeof x === "string")) {
    if (s.length > 4) throw badRequest(`stop takes at most 4 strings, got ${s.length}`, "stop");
    stop = s as string[];
  } else if (s !== undefined && s !== null) throw badRequest("stop must be a string or a list of strings", "stop");
  // an empty stop string would match before the first token: refuse it rather than answer nothing
  if (stop?.some((x) => x === "")) throw badRequest("stop strings must not be empty", "stop");
  const logitBias = parseLogitBias(body.logit_bias, ctx.engine.tokenizer.vocabSize);
  refuseUnsupported(body);
  const ignoreEos = opt<boolean>(body, "ignore_eos", "boolean");
  const ext = opt<Record<string, unknown>>(body, "ffnskip", "object");
  let skip: SkipSpec | undefined = ctx.defaultSkip?.();
  if (ext) {
    for (const k of Object.keys(ext))
      if (k !== "skip") throw badRequest(`ffnskip.${k}: unknown extension field; supported: skip`, `ffnskip.${k}`);
    if (ext.skip !== undefined) {
      const config = skipFromField(ext.skip, ctx.engine.config.nLayers);
      try {
        skip = ctx.engine.policy(config);
      } catch (e) {
        throw badRequest((e as Error).message, "ffnskip.skip");
      }
    }
  }
  return { ...sampling, logitBias, maxTokens, stop, ignoreEog: ignoreEos, skip };
}

/**
 * OpenAI fields this server does not implement: a 400 naming the field rather
 * than an answer that silently ignores it. (`response_format` {"type": "text"}
 * is what every answer is, so that one value is accepted.)
 */
function refuseUnsupported(body: Body): void {
  const rf = body.response_format;
  if (rf !== undefined && rf !== null) {
    const type = typeof rf === "object" && !Array.isArray(rf) ? (rf as Body).type : undefined;
    if (type !== "text")
      throw badRequest(
        `response_format ${JSON.stringify(rf)} is not supported: answers are plain text (only {"type": "text"})`,
        "response_format",
      );
  }
  for (const k of ["top_logprobs", "tools", "tool_choice", "functions", "function_call"]) {
    if (body[k] !== undefined && body[k] !== null) {
      const hint = k === "top_logprobs" ? " (on /v1/completions, logprobs: N gives the top N per position)" : "";
      throw badRequest(`${k} is not supported${hint}`, k);
    }
  }
}

/** `logit_bias`: {"token id": bias in [-100, 100]}, as in OpenAI's API. */
function parseLogitBias(v: unknown, vocabSize: number): Record<number, number> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw badRequest('logit_bias must be an object {"token id": bias}', "logit_bias");
  const out: Record<number, number> = {};
  for (const [k, b] of Object.entries(v)) {
    const id = /^\d+$/.test(k) ? Number(k) : NaN;
    if (!Number.isInteger(id) || id >= vocabSize)
      throw badRequest(`logit_bias key ${JSON.stringify(k)} is not a token id in [0, ${vocabSize})`, "logit_bias");
    if (typeof b !== "number" || !Number.isFinite(b) || b < -100 || b > 100) {
      throw badRequest(`logit_bias[${k}] must be a number in [-100, 100], got ${JSON.stringify(b)}`, "logit_bias");
    }
    out[id] = b;
  }
  return out;
}

function streamFlags(body: Body): { stream: boolean; includeUsage: boolean } {
  const stream = opt<boolean>(body, "stream", "boolean") ?? false;
  const so = opt<Record<string, unknown>>(body, "stream_options", "object");
  if (so && so.include_usage !== undefined && typeof so.include_usage !== "boolean") {
    throw badRequest("stream_options.include_usage must be a boolean", "stream_options.include_usage");
  }
  return { stream, includeUsage: so?.include_usage === true };
}

/** Tokenize and check the prompt fits with room for at least one generated token. */
function tokenize(ctx: RequestContext, prompt: Prompt, param: string): number[] {
  let ids: number[];
  try {
    ids = ctx.engine.encodePrompt(prompt);
  } catch (e) {
    throw badRequest((e as Error).message, param);
  }
  if (ids.length === 0) throw badRequest(`${param} is empty: nothing to condition on`, param);
  const n = ctx.engine.model.ctx;
  if (ids.length >= n) {
    throw new ApiError(
      400,
      `the prompt is ${ids.length} tokens; this model's context is ${n} tokens (leave room for the reply)`,
      "context_length_exceeded",
      param,
    );
  }
  return ids;
}

function messageContent(c: unknown, i: number): string {
  if (typeof c === "string") return c;
  // content parts: only text is supported
  if (Array.isArray(c)) {
    return c
      .map((p, j) => {
        if (p && typeof p === "object" && (p as Body).type === "text" && typeof (p as Body).text === "string")
          return (p as Body).text as string;
        throw badRequest(`messages[${i}].content[${j}]: only {"type": "text", "text": ...} parts are supported`, `messages[${i}].content`);
      })
      .join("");
  }
  throw badRequest(`messages[${i}].content must be a string or a list of text parts`, `messages[${i}].content`);
}

export function parseChatRequest(body: Body, ctx: RequestContext): GenRequest {
  const model = checkModel(body, ctx);
  const msgs = body.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) throw badRequest("messages must be a non-empty list of {role, content}", "messages");
  const messages: ChatMessage[] = msgs.map((m, i) => {
    if (m === null || typeof m !== "object" || Array.isArray(m))
      throw badRequest(`messages[${i}] must be an object {role, content}`, `messages[${i}]`);
    const role = (m as Body).role;
    if (typeof role !== "string" || !["system", "user", "assistant", "developer"].includes(role)) {
      throw badRequest(
        `messages[${i}].role must be one of system, user, assistant, developer; got ${JSON.stringify(role)}`,
        `messages[${i}].role`,
      );
    }
    return { role: role === "developer" ? "system" : role, content: messageContent((m as Body).content, i) };
  });
  if (body.logprobs !== undefined && body.logprobs !== null && body.logprobs !== false) {
    throw badRequest("logprobs are not supported on chat completions (use /v1/completions with logprobs)", "logprobs");
  }
  const run = runOptions(body, ctx);
  const tokens = tokenize(ctx, { messages }, "messages");
  return { model, prompts: [tokens], run, ...streamFlags(body), logprobs: null, echo: false };
}

/** One prompt: a string or a list of token ids (checked against the vocabulary). */
function onePrompt(p: unknown, ctx: RequestContext, param: string): Prompt {
  if (typeof p === "string") return p;
  if (Array.isArray(p) && p.length > 0 && p.every((t) => Number.isInteger(t))) {
    const V = ctx.engine.tokenizer.vocabSize;
    const bad = (p as number[]).find((t) => t < 0 || t >= V);
    if (bad !== undefined) throw badRequest(`${param}: token id ${bad} is outside the vocabulary [0, ${V})`, "prompt");
    return { tokens: p as number[] };
  }
  throw badRequest(`${param} must be a string or a non-empty list of token ids`, "prompt");
}

/**
 * `prompt` as OpenAI takes it: a string, a list of token ids, or a batch —
 * a list of strings or of token-id lists (one choice per prompt).
 */
function prompts(body: Body, ctx: RequestContext): Prompt[] {
  const p = body.prompt;
  if (typeof p === "string" || (Array.isArray(p) && p.length > 0 && p.every((t) => typeof t === "number")))
    return [onePrompt(p, ctx, "prompt")];
  if (Array.isArray(p) && p.length > 0) return p.map((x, i) => onePrompt(x, ctx, `prompt[${i}]`));
  throw badRequest("prompt must be a string, a list of token ids, or a non-empty batch (a list of strings or of token-id lists)", "prompt");
}

function logprobsField(body: Body): number | null {
  const v = body.logprobs;
  if (v === undefined || v === null || v === false) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > MAX_LOGPROBS) {
    throw badRequest(
      `logprobs must be an integer in [0, ${MAX_LOGPROBS}] (alternatives per position), got ${JSON.stringify(v)}`,
      "logprobs",
    );
  }
  return v;
}

export function parseCompletionRequest(body: Body, ctx: RequestContext): GenRequest {
  const model = checkModel(body, ctx);
  const batch = prompts(body, ctx);
  const echo = opt<boolean>(body, "echo", "boolean") ?? false;
  if (body.suffix !== undefined && body.suffix !== null) throw badRequest("suffix is not supported", "suffix");
  const logprobs = logprobsField(body);
  const flags = streamFlags(body);
  // streamed chunks are not token-aligned (stop strings hold text back), so per-token data is whole-response only
  if (flags.stream && logprobs !== null) throw badRequest("logprobs is not supported with stream: send stream false", "logprobs");
  if (flags.stream && echo) throw badRequest("echo is not supported with stream: send stream false", "echo");
  const run = runOptions(body, ctx);
  // OpenAI's completions default is 16 tokens
  run.maxTokens ??= 16;
  if (logprobs !== null) {
    run.logprobs = logprobs;
    run.scorePrompt = echo;
  }
  const tokens = batch.map((p, i) => tokenize(ctx, p, batch.length > 1 ? `prompt[${i}]` : "prompt"));
  return { model, prompts: tokens, run, ...flags, logprobs, echo };
}
