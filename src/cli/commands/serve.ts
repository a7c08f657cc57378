/** `ffnskip serve`: the OpenAI-compatible HTTP server (see docs/server.md). */
import { loadModel } from "../../api/engine.js";
import { startServer, type RunningServer } from "../../server/server.js";
import { MODEL_OPTIONS, loadOptions, num, parse } from "../args.js";
import { SKIP_OPTIONS, skipFromFlags } from "../skip-flags.js";

export const SERVE_HELP = `ffnskip serve [--model M] [--host H] [--port P] [--api-key K] [--parallel N] [--queue N] [skip flags]
  OpenAI-compatible server: POST /v1/chat/completions, POST /v1/completions (stream or not),
  GET /v1/models, GET /health, GET /trace (trace viewer), /tokenize, /detokenize,
  /tokenizer_info (for lm-evaluation-harness; see docs/lm-eval.md). See docs/server.md.
  --host H          bind address (default 127.0.0.1; 0.0.0.0 exposes it to the network)
  --port P          default 8080 (0 = any free port)
  --api-key K       require 'Authorization: Bearer K' (also env FFNSKIP_API_KEY)
  --parallel N      sequences decoded together in one batch, one pass over the weights per step (default 4;
                    each holds a KV cache of --ctx positions)
  --prompt-chunk N  prompt tokens a new request feeds per batch step while others decode (default 32)
  --prefill first|mixed  a prompt chunk gets a step of its own (first, default) or shares the decoding rows'
                    step (mixed: one read of the weights for both; first: lower time to first token)
  --queue N         requests that may wait while all --parallel slots are taken (default 32); more get 429
  --grace S         on SIGTERM/SIGINT, seconds to let in-flight work finish before cancelling (default 10);
                    a second SIGTERM/SIGINT during that drain exits at once
  --max-body BYTES  request body limit (default 1048576)
  --threads N  --ctx N  --kv-type f16|f32 (KV cache, default f16)  --backend wasm|reference
  --skip METHOD ... default skipping for requests that do not send "ffnskip": {"skip": ...}`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(
    argv,
    {
      ...MODEL_OPTIONS,
      ...SKIP_OPTIONS,
      host: { type: "string" },
      port: { type: "string", short: "p" },
      "api-key": { type: "string" },
      queue: { type: "string" },
      parallel: { type: "string" },
      "prompt-chunk": { type: "string" },
      prefill: { type: "string" },
      grace: { type: "string" },
      "max-body": { type: "string" },
    },
    false,
  );
  if (v.help) {
    process.stdout.write(SERVE_HELP + "\n");
    return 0;
  }
  const port = num(v, "port", true) ?? 8080;
  if (port < 0 || port > 65535) throw new Error(`--port must be in [0, 65535], got ${port}`);
  const queue = num(v, "queue", true) ?? 32;
  if (queue < 0) throw new Error(`--queue must be ≥ 0, got ${queue}`);
  const parallel = num(v, "parallel", true) ?? 4;
  if (parallel < 1) throw new Error(`--parallel must be ≥ 1, got ${parallel}`);
  const promptChunk = num(v, "prompt-chunk", true);
  const prefill = (v.prefill as string | undefined) ?? "first";
  if (prefill !== "mixed" && prefill !== "first") throw new Error(`--prefill must be mixed or first, got "${prefill}"`);
  const grace = num(v, "grace") ?? 10;
  if (grace < 0) throw new Error(`--grace must be ≥ 0 seconds, got ${grace}`);
  const maxBody = num(v, "max-body", true) ?? 1 << 20;
  if (maxBody < 1) throw new Error(`--max-body must be ≥ 1, got ${maxBody}`);
  const apiKey = (v["api-key"] as string | undefined) ?? process.env.FFNSKIP_API_KEY;
  if (apiKey !== undefined && apiKey.trim() === "") throw new Error("--api-key must not be empty");

  const engine = await loadModel(v.model as string | undefined, { ...loadOptions(v), parallel, promptChunk, prefill });
  const log = (l: string) => process.stderr.write(`${new Date().toISOString()} ${l}\n`);
  let srv: RunningServer;
  try {
    // validate the skip flags once; each request then gets a fresh policy of that config
    // and build what it needs (ffn-prune's compact FFNs) before the first request
    engine.prepareSkip(skipFromFlags(v, engine).policy);
    srv = await startServer(engine, {
      host: v.host as string | undefined,
      port,
      apiKey,
      queue,
      maxBodyBytes: maxBody,
      log,
      defaultSkip: () => skipFromFlags(v, engine).policy,
    });
  } catch (e) {
    // a start-up failure (bad skip flags, port in use, bad --host) must end the process: release the workers
    await engine.dispose();
    throw e;
  }
  log(
    `ffnskip serving ${engine.path} at ${srv.url} (${parallel} parallel)${apiKey ? " (API key required)" : ""}; Ctrl-C or SIGTERM to stop`,
  );
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log(`${sig}: no new requests; finishing in-flight work (grace ${grace} s); ${sig} again to quit at once`);
      // a second signal during the drain exits at once, cancelling what is still running
      process.once(sig, () => {
        log(`${sig} again: exiting without waiting`);
        process.exit(sig === "SIGINT" ? 130 : 143);
      });
      srv.close(grace * 1000).then(resolve, resolve);
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await engine.dispose();
  log("stopped");
  return 0;
}
