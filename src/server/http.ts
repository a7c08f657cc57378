/** Small node:http helpers: bounded body reading, JSON and SSE responses. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./errors.js";

/**
 * Read the whole body, refusing more than `limit` bytes with 413. A declared
 * Content-Length over the limit is refused before reading anything.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooBig = () =>
    new ApiError(413, `request body exceeds the limit of ${limit} bytes`, "request_too_large", null, { Connection: "close" });
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooBig());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let done = false;
    req.on("data", (c: Buffer) => {
      if (done) return;
      n += c.length;
      if (n > limit) {
        done = true;
        // stop buffering; the connection is closed after the 413 is sent
        req.pause();
        reject(tooBig());
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
  });
}

/** Parse a JSON object body; 400 naming what is wrong otherwise. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw new ApiError(400, `request body is not valid JSON: ${(e as Error).message}`, "invalid_json");
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new ApiError(400, "request body must be a JSON object", "invalid_json");
  }
  return v as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: ApiError): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, e.status, e.body(), e.headers);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(html) });
  res.end(html);
}

/** Start a server-sent-events response. */
export function startSse(res: ServerResponse): void {
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
  res.flushHeaders();
}

export function sseData(res: ServerResponse, data: unknown): void {
  res.write(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
}
