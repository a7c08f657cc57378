/**
 * GET/POST /trace: a form for a prompt and skip settings, and the trace
 * viewer page for it. Field names are the CLI's (prompt, max_tokens,
 * temperature, chat, skip, tau, k, warmup, cold-start, ...). Reading a
 * skip-profile file is refused here: the path would come from the client.
 */
import type { Engine, Prompt, SkipSpec } from "../api/engine.js";
import { SKIP_METHODS } from "../skip/config.js";
import { configFromFlags, SKIP_FLAGS } from "../skip/flags.js";
import { esc } from "../viewer/colour.js";
import { renderTracePage } from "../viewer/page.js";
import { runTrace, type TraceView } from "../viewer/trace-run.js";
import { badRequest } from "./errors.js";

const KNOB_FIELDS = SKIP_FLAGS.filter((f) => f !== "skip" && f !== "skip-profile");
const FORM_KNOBS = ["tau", "k", "warmup", "cold-start", "cold-end", "layers"].filter((f) => KNOB_FIELDS.includes(f));

export interface TraceQuery {
  prompt: string;
  chat: boolean;
  maxTokens: number;
  temperature: number;
  /** skip flags as given (method and knobs), empty fields dropped */
  flags: Record<string, string>;
}

/** Validate the form fields; `null` prompt means "just show the form". */
export function parseTraceQuery(p: URLSearchParams): TraceQuery | null {
  const get = (k: string) => {
    const v = p.get(k);
    return v === null || v.trim() === "" ? undefined : v;
  };
  const allowed = new Set(["prompt", "chat", "max_tokens", "temperature", "api_key", "skip", ...KNOB_FIELDS]);
  for (const k of p.keys()) if (!allowed.has(k)) throw badRequest(`unknown field "${k}"; fields: ${[...allowed].join(", ")}`, k);
  const prompt = get("prompt");
  if (prompt === undefined) return null;
  const int = (k: string, d: number, lo: number, hi: number) => {
    const s = get(k);
    if (s === undefined) return d;
    const x = Number(s);
    if (!Number.isInteger(x) || x < lo || x > hi) throw badRequest(`${k} must be an integer in [${lo}, ${hi}], got "${s}"`, k);
    return x;
  };
  const tS = get("temperature");
  const temperature = tS === undefined ? 0 : Number(tS);
  if (!Number.isFinite(temperature) || temperature < 0 || temperature > 2)
    throw badRequest(`temperature must be a number in [0, 2], got "${tS}"`, "temperature");
  const flags: Record<string, string> = {};
  for (const f of ["skip", ...KNOB_FIELDS]) {
    const v = get(f);
    if (v !== undefined) flags[f] = v;
  }
  const chat = get("chat");
  return { prompt, chat: chat === "on" || chat === "1" || chat === "true", maxTokens: int("max_tokens", 32, 1, 512), temperature, flags };
}

/** The skip setting the query asks for (the server default when it names none). */
export function traceSkip(q: TraceQuery, engine: Engine, fallback?: () => SkipSpec): SkipSpec | undefined {
  if (Object.keys(q.flags).length === 0) return fallback?.();
  try {
    return engine.policy(configFromFlags(q.flags, engine.config.nLayers));
  } catch (e) {
    throw badRequest((e as Error).message, "skip");
  }
}

export async function traceView(engine: Engine, q: TraceQuery, skip: SkipSpec | undefined, model: string): Promise<TraceView> {
  const prompt: Prompt = q.chat ? { messages: [{ role: "user", content: q.prompt }] } : q.prompt;
  return runTrace(
    engine,
    prompt,
    { temperature: q.temperature, maxTokens: q.maxTokens, skip },
    {
      model,
      settings: { max_tokens: q.maxTokens, temperature: q.temperature, chat: q.chat, ...q.flags },
    },
  );
}

/** The form, pre-filled from the last query. */
export function traceForm(p: URLSearchParams, error?: string): string {
  const val = (k: string, d = "") => esc(p.get(k) ?? d);
  const method = p.get("skip") ?? "";
  const opts = ["", ...SKIP_METHODS]
    .map((m) => `<option value="${m}"${m === method ? " selected" : ""}>${m || "(server default)"}</option>`)
    .join("");
  const key = p.get("api_key") ? `<input type="hidden" name="api_key" value="${val("api_key")}">` : "";
  return `<form method="get" action="/trace">${key}
<div><textarea name="prompt" rows="3" cols="90" placeholder="prompt">${val("prompt")}</textarea></div>
<label>max tokens <input name="max_tokens" size="4" value="${val("max_tokens", "32")}"></label>
<label>temperature <input name="temperature" size="4" value="${val("temperature", "0")}"></label>
<label><input type="checkbox" name="chat"${p.get("chat") ? " checked" : ""}> chat template</label>
<div><label>skip <select name="skip">${opts}</select></label>
${FORM_KNOBS.map((f) => `<label>${f} <input name="${f}" size="5" value="${val(f)}"></label>`).join("")}
<button type="submit">trace</button></div>
${error ? `<p id="error" style="color:#b00">${esc(error)}</p>` : ""}</form>`;
}

export function tracePage(p: URLSearchParams, v: TraceView | null, error?: string): string {
  return renderTracePage(v, { header: traceForm(p, error), title: "ffnskip trace" });
}
