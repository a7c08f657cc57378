/**
 * An OpenAI-compatible HTTP server on node:http alone:
 *   POST /v1/chat/completions, POST /v1/completions (whole or SSE-streamed),
 *   GET /v1/models, GET /health, GET|POST /trace (the trace viewer), and the
 *   tokenizer routes /tokenizer_info, /tokenize, /detokenize (for lm-eval).
 * Generations share the engine's batch (continuous batching): up to its
 * `parallel` decode together, more wait in a bounded FIFO (429 with
 * Retry-After when slots and queue are full). A client that disconnects
 * aborts its generation at the next token; close() drains in-flight work,
 * cancelling what is left after a grace period.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Engine, SkipSpec } from "../api/engine.js";
import type { GenerateResult } from "../generate/generate.js";
import { ApiError } from "./errors.js";
import { parseJsonObject, readBody, sendError, sendHtml, sendJson, sseData, startSse } from "./http.js";
import { chunk, usage, wholeResponse, type Kind } from "./openai.js";
import { JobQueue, QueueFullError } from "./queue.js";
import { parseChatRequest, parseCompletionRequest, type GenRequest, type RequestContext } from "./requests.js";
import { detokenize, tokenize, tokenizerInfo } from "./tokenize-routes.js";
import { parseTraceQuery, tracePage, traceSkip, traceView } from "./trace-route.js";

/** Host names a server without an API key answers to. */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export interface ServerOptions {
  /** default 127.0.0.1 */
  host?: string;
  /** default 8080; 0 = any free port */
  port?: number;
  /** when set, /v1/* and /trace need `Authorization: Bearer <key>` */
  apiKey?: string;
  /** requests that may wait while the batch's slots are all taken; default 32 */
  queue?: number;
  /** request body limit in bytes; default 1 MiB */
  maxBodyBytes?: number;
  /** model ids clients may name; default: the file name without .gguf */
  modelIds?: string[];
  /** skip setting for requests that do not send one (a fresh policy per call) */
  defaultSkip?: () => SkipSpec;
  /** one line per request */
  log?: (line: string) => void;
}

/** Counters for /health and tests. */
export interface ServerStats {
  requests: number;
  generations: { completed: number; aborted: number; failed: number };
  rejected_queue_full: number;
  /** the last generation that ended (how and after how many tokens) */
  last: { finish_reason: string; generated_tokens: number; max_tokens: number | null } | null;
}

export interface RunningServer {
  url: string;
  server: Server;
  queue: JobQueue;
  stats(): ServerStats;
  /** Stop accepting, let in-flight work finish for `graceMs` (default 10 s), cancel the rest, close. */
  close(graceMs?: number): Promise<void>;
}

const ROUTES: Record<string, string[]> = {
  "/v1/chat/completions": ["POST"],
  "/v1/completions": ["POST"],
  "/v1/models": ["GET"],
  "/health": ["GET"],
  "/trace": ["GET", "POST"],
  "/tokenizer_info": ["GET"],
  "/tokenize": ["POST"],
  "/detokenize": ["POST"],
};

const digest = (s: string) => createHash("sha256").update(s).digest();

export async function startServer(engine: Engine, opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const limit = opts.maxBodyBytes ?? 1 << 20;
  const queue = new JobQueue(opts.queue ?? 32, engine.batch.parallel);
  const modelIds = opts.modelIds ?? [engine.path.replace(/^.*[\\/]/, "").replace(/\.gguf$/i, "")];
  const ctx: RequestContext = { engine, modelIds, defaultSkip: opts.defaultSkip };
  const keyDigest = opts.apiKey ? digest(opts.apiKey) : null;
  const log = opts.log ?? (() => {});
  const created = Math.floor(Date.now() / 1000);
  const shutdown = new AbortController();
  const inflight = new Set<Promise<void>>();
  let closing = false;
  const stats: ServerStats = { requests: 0, generations: { completed: 0, aborted: 0, failed: 0 }, rejected_queue_full: 0, last: null };

  /**
   * Without an API key nothing but the loopback guards the server, so a page
   * in the user's browser must not reach it: refuse a Host that is not a local
   * name (DNS rebinding) and a POST body that is not JSON (a cross-site form
   * post needs no CORS preflight; a JSON one does, and gets none).
   */
  function refuseCrossSite(req: IncomingMessage, url: URL): void {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    if (!LOCAL_HOSTS.has(host)) {
      throw new ApiError(
        403,
        `Host "${req.headers.host ?? ""}" is not a local name; without --api-key only ${[...LOCAL_HOSTS].join(", ")} are served`,
        "forbidden_host",
      );
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
    // the trace page's own form may post from the same origin
    const sameOriginForm =
      url.pathname === "/trace" && (req.headers.origin === undefined || req.headers.origin === `http://${req.headers.host}`);
    if (req.method === "POST" && type !== "application/json" && !sameOriginForm) {
      throw new ApiError(
        415,
        `Content-Type must be application/json, got "${req.headers["content-type"] ?? ""}"`,
        "unsupported_media_type",
      );
    }
  }

  function authorized(req: IncomingMessage, url: URL): boolean {
    if (!keyDigest) return true;
    // the auth scheme is case-insensitive (RFC 9110 §11.1)
    const bearer = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1].trim();
    const given = bearer ?? (url.pathname === "/trace" ? url.searchParams.get("api_key") : null);
    return given !== null && given !== undefined && timingSafeEqual(digest(given), keyDigest);
  }

  /**
   * Run a request's prompts (one, or a completions batch, one after another)
   * in its turn; `onText` sees each chunk with its prompt's index. Client-gone
   * and shutdown both abort it.
   */
  async function generate(
    g: GenRequest,
    signal: AbortSignal,
    onStart: () => void,
    onText?: (index: number, t: string) => void,
  ): Promise<GenerateResult[]> {
    try {
      return await queue.run(async () => {
        onStart();
        const out: GenerateResult[] = [];
        for (const [index, tokens] of g.prompts.entries()) {
          const it = engine.stream({ tokens }, { ...g.run, signal });
          let r = await it.next();
          while (!r.done) {
            onText?.(index, r.value);
            r = await it.next();
          }
          const res = r.value;
          out.push(res);
          if (res.finish_reason === "aborted") stats.generations.aborted++;
          else stats.generations.completed++;
          stats.last = {
            finish_reason: res.finish_reason,
            generated_tokens: res.stats.generated_tokens,
            max_tokens: g.run.maxTokens ?? null,
          };
          log(
            `  generation${g.prompts.length > 1 ? ` ${index + 1}/${g.prompts.length}` : ""}: ${res.stats.generated_tokens} tokens, ${res.finish_reason}, skip ${res.skip.method} ${(res.skip.ratio * 100).toFixed(1)}%, ${res.stats.decode_tok_per_s.toFixed(1)} tok/s`,
          );
          if (res.finish_reason === "aborted") break;
        }
        return out;
      }, signal);
    } catch (e) {
      if (e instanceof QueueFullError) {
        stats.rejected_queue_full++;
        throw new ApiError(429, e.message, "queue_full", null, { "Retry-After": String(e.retryAfterS) });
      }
      if (e instanceof ApiError) throw e;
      if (signal.aborted) throw new ApiError(503, "generation cancelled: the server is shutting down or the client went away", "cancelled");
      stats.generations.failed++;
      throw e;
    }
  }

  async function completions(kind: Kind, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const body = parseJsonObject(await readBody(req, limit));
    const g = kind === "chat" ? parseChatRequest(body, ctx) : parseCompletionRequest(body, ctx);
    const ids = {
      id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomBytes(12).toString("hex")}`,
      created: Math.floor(Date.now() / 1000),
      model: g.model,
    };
    const aborted = (rs: GenerateResult[]) => rs.some((r) => r.finish_reason === "aborted");
    if (!g.stream) {
      const rs = await generate(g, signal, () => {});
      if (aborted(rs)) {
        if (!res.destroyed) throw new ApiError(503, "generation cancelled: the server is shutting down", "cancelled");
        return;
      }
      sendJson(res, 200, wholeResponse(kind, ids, rs, { tokenizer: engine.tokenizer, prompts: g.prompts, echo: g.echo }));
      return;
    }
    const first = new Set<number>();
    const write = (data: unknown) => {
      if (!res.destroyed) sseData(res, data);
    };
    // SSE headers go out when the generation starts, so a full queue is still a plain 429;
    // a batch streams its prompts one after another, each chunk carrying its prompt's index
    const rs = await generate(
      g,
      signal,
      () => startSse(res),
      (index, t) => {
        write(chunk(kind, ids, { index, text: t, first: !first.has(index) }));
        first.add(index);
      },
    );
    if (aborted(rs)) {
      write(new ApiError(503, "generation cancelled: the server is shutting down", "cancelled").body());
    } else {
      rs.forEach((r, index) => {
        if (!first.has(index) && kind === "chat") write(chunk(kind, ids, { text: "", first: true }));
        write(chunk(kind, ids, { index, finish: r.finish_reason === "stop" ? "stop" : "length" }));
      });
      if (g.includeUsage) write(chunk(kind, ids, { usage: usage(rs) }));
    }
    write("[DONE]");
    res.end();
  }

  async function trace(req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
    let params = url.searchParams;
    if (req.method === "POST") {
      const text = (await readBody(req, limit)).toString("utf8");
      params = new URLSearchParams(text);
      if (url.searchParams.get("api_key")) params.set("api_key", url.searchParams.get("api_key")!);
    }
    try {
      const q = parseTraceQuery(params);
      if (!q) return sendHtml(res, 200, tracePage(params, null));
      const skip = traceSkip(q, engine, opts.defaultSkip);
      const view = await queue.run(() => traceView(engine, q, skip, modelIds[0]), signal);
      sendHtml(res, 200, tracePage(params, view));
    } catch (e) {
      if (e instanceof QueueFullError) throw new ApiError(429, e.message, "queue_full", null, { "Retry-After": String(e.retryAfterS) });
      const status = e instanceof ApiError ? e.status : 400;
      sendHtml(res, status, tracePage(params, null, (e as Error).message));
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const t0 = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    const client = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) client.abort(new Error("client disconnected"));
    });
    const signal = AbortSignal.any([client.signal, shutdown.signal]);
    try {
      if (closing) throw new ApiError(503, "server is shutting down", "shutting_down", null, { Connection: "close" });
      const methods = ROUTES[url.pathname];
      if (!methods) throw new ApiError(404, `no route ${url.pathname}; routes: ${Object.keys(ROUTES).join(", ")}`, "not_found");
      if (!methods.includes(req.method ?? "")) {
        throw new ApiError(
          405,
          `${req.method} is not allowed on ${url.pathname}; use ${methods.join(" or ")}`,
          "method_not_allowed",
          null,
          { Allow: methods.join(", ") },
        );
      }
      if (url.pathname !== "/health" && !authorized(req, url)) {
        throw new ApiError(401, "missing or incorrect API key: send 'Authorization: Bearer <key>'", "invalid_api_key");
      }
      if (!keyDigest) refuseCrossSite(req, url);
      switch (url.pathname) {
        case "/health":
          return sendJson(res, 200, {
            status: closing ? "shutting_down" : "ok",
            model: modelIds[0],
            queue: { running: queue.running, waiting: queue.queued, capacity: queue.capacity, parallel: queue.slots },
            stats,
          });
        case "/v1/models":
          return sendJson(res, 200, {
            object: "list",
            data: modelIds.map((id) => ({ id, object: "model", created, owned_by: "ffnskip" })),
          });
        case "/v1/chat/completions":
          return await completions("chat", req, res, signal);
        case "/v1/completions":
          return await completions("completion", req, res, signal);
        case "/trace":
          return await trace(req, res, url, signal);
        case "/tokenizer_info":
          return sendJson(res, 200, tokenizerInfo(engine));
        case "/tokenize":
          return sendJson(res, 200, tokenize(engine, parseJsonObject(await readBody(req, limit))));
        case "/detokenize":
          return sendJson(res, 200, detokenize(engine, parseJsonObject(await readBody(req, limit))));
      }
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, `internal error: ${(e as Error).message}`, "internal_error");
      if (err.status === 500) log(`error: ${(e as Error).stack ?? e}`);
      if (!res.destroyed) {
        if (res.headersSent) {
          // mid-stream: report in the stream, then end it
          sseData(res, err.body());
          sseData(res, "[DONE]");
          res.end();
        } else sendError(res, err);
      }
    } finally {
      log(
        `${req.method} ${url.pathname} ${res.statusCode} ${(performance.now() - t0).toFixed(0)}ms${client.signal.aborted ? " (client disconnected)" : ""}`,
      );
    }
  }

  const server = createServer((req, res) => {
    const p = handle(req, res).catch(() => {});
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 8080, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`;

  let closed: Promise<void> | null = null;
  async function close(graceMs = 10_000): Promise<void> {
    if (closed) return closed;
    closing = true;
    const done = new Promise<void>((r) => server.close(() => r()));
    closed = (async () => {
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => {
        timer = setTimeout(r, graceMs);
      });
      await Promise.race([Promise.allSettled([...inflight]), grace]);
      clearTimeout(timer);
      if (inflight.size) {
        log(`shutdown: cancelling ${inflight.size} request(s) after the ${graceMs} ms grace period`);
        queue.cancelWaiting(new ApiError(503, "server is shutting down", "shutting_down"));
        shutdown.abort(new Error("server shutting down"));
        await Promise.allSettled([...inflight]);
      }
      server.closeAllConnections();
      await done;
    })();
    return closed;
  }

  return { url, server, queue, stats: () => structuredClone(stats), close };
}
