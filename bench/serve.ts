/**
 * Serving many clients at once: ffnskip's OpenAI server (continuous batching,
 * in process) driven by the official `openai` client, beside llama.cpp
 * (node-llama-cpp) decoding the same number of sequences in one context, in
 * the same run, same threads. Writes a markdown report.
 *
 *   aggregate tok/s   all clients' generated tokens ÷ wall time of the round (short prompts included)
 *   TTFT              time to the first streamed token of a short request, alone and while 4 streams run
 *   FFN reads saved   layer steps in which no row ran the FFN ÷ layer steps (Model.ffnStats), beside the
 *                     share of rows that skipped it (what a single sequence saves)
 *   step profile      ms per forward step with n decoding rows (no server): where compute bounds the batch
 *
 * Run: npx tsx bench/serve.ts [--model PATH] [--threads 1] [--tokens 32] [--skip JSON] [--skip-label S] [--out results/bench/serve.md]
 */
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { execSync } from "node:child_process";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { getLlama, LlamaLogLevel, type Token } from "node-llama-cpp";
import { loadModel, type Engine } from "../src/api/engine.js";
import { startServer } from "../src/server/server.js";
import { decodeRows } from "./steps.js";
import { median } from "./median.js";

const PROMPTS = [
  "The history of the city goes back to",
  "Write a short poem about the sea.",
  "The three laws of motion are",
  "Once upon a time, a small robot",
  "The best way to learn a language is",
  "In 1969, the first humans",
  "A recipe for bread needs",
  "The largest planet in the solar system",
];
let MODEL_ID = "";

interface Round {
  clients: number;
  tokens: number;
  ms: number;
  tokPerS: number;
}

/** C concurrent streamed completions through the client; returns aggregate tok/s. */
async function ffnskipRound(client: OpenAI, clients: number, tokens: number, skip: (i: number) => unknown): Promise<Round> {
  const t0 = performance.now();
  const counts = await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const body = {
        model: MODEL_ID,
        prompt: PROMPTS[i % PROMPTS.length],
        max_tokens: tokens,
        temperature: 0,
        ignore_eos: true,
        stream: true,
      };
      const s = await client.completions.create({
        ...body,
        stream_options: { include_usage: true },
        ...(skip(i) ? { ffnskip: { skip: skip(i) } } : {}),
      } as OpenAI.CompletionCreateParamsStreaming);
      let n = 0;
      for await (const c of s) if (c.usage) n = c.usage.completion_tokens;
      return n;
    }),
  );
  const ms = performance.now() - t0;
  const n = counts.reduce((a, b) => a + b, 0);
  return { clients, tokens: n, ms, tokPerS: (n * 1000) / ms };
}

/** Time to the first streamed text of a short request. */
async function ttft(client: OpenAI): Promise<number> {
  const t0 = performance.now();
  const body = { model: MODEL_ID, prompt: "Hello,", max_tokens: 4, temperature: 0, ignore_eos: true, stream: true };
  const s = await client.completions.create(body as OpenAI.CompletionCreateParamsStreaming);
  let first = 0;
  for await (const c of s) if (!first && c.choices[0]?.text) first = performance.now() - t0;
  return first;
}

/** llama.cpp: C sequences of one context, each its prompt then `tokens` greedy steps, all at once (node-llama-cpp batches them). */
async function llamaRound(
  ctx: Awaited<ReturnType<Awaited<ReturnType<Awaited<ReturnType<typeof getLlama>>["loadModel"]>>["createContext"]>>,
  model: { tokenize(t: string): Token[] },
  clients: number,
  tokens: number,
): Promise<Round> {
  const seqs = Array.from({ length: clients }, () => ctx.getSequence());
  const pick = { generateNext: { token: true } };
  const t0 = performance.now();
  try {
    await Promise.all(
      seqs.map(async (seq, i) => {
        const prompt = model.tokenize(PROMPTS[i % PROMPTS.length]);
        const first = await seq.controlledEvaluate(prompt.map((t, j) => (j === prompt.length - 1 ? [t, pick] : t)) as never);
        let tok = first[first.length - 1]?.next.token;
        for (let k = 1; k < tokens; k++) {
          const out = await seq.controlledEvaluate([[tok as Token, pick]]);
          tok = out[0]?.next.token;
        }
      }),
    );
  } finally {
    for (const s of seqs) s.dispose();
  }
  const ms = performance.now() - t0;
  return { clients, tokens: clients * tokens, ms, tokPerS: (clients * tokens * 1000) / ms };
}

/** ms per forward step with n decoding rows (dense), straight on the model: the batched kernels' cost per row count. */
function stepProfile(engine: Engine, ns: number[], steps = 8): { n: number; ms: number }[] {
  const m = engine.model;
  const out: { n: number; ms: number }[] = [];
  for (const n of ns) {
    const parts = decodeRows(engine, n);
    m.forwardBatch(parts);
    const t0 = performance.now();
    for (let s = 0; s < steps; s++) m.forwardBatch(parts.map((p) => ({ ...p, pos: 1 + s })));
    out.push({ n, ms: (performance.now() - t0) / steps });
  }
  return out;
}

/** ms per call of the FFN gate matrix of layer 0 over n rows (matvec for 1): the batched kernel alone. */
function kernelProfile(engine: Engine, ns: number[], calls = 30): { n: number; ms: number }[] {
  const S = engine.model.shards[0],
    K = S.kernels,
    w = engine.model.weights.layers[0].w1;
  const run = (n: number) => (n === 1 ? K.matvec(w, S.b.xb, S.b.h1) : K.matmul(w, S.b.xb, S.b.h1, n));
  return ns.map((n) => {
    run(n);
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) run(n);
    return { n, ms: (performance.now() - t0) / calls };
  });
}

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      threads: { type: "string" },
      tokens: { type: "string" },
      skip: { type: "string" },
      "skip-label": { type: "string" },
      "seed-per-client": { type: "boolean" },
      prefill: { type: "string" },
      out: { type: "string" },
    },
  });
  const modelPath = v.model ?? `${process.env.HOME}/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf`;
  if (!existsSync(modelPath)) throw new Error(`--model ${modelPath} does not exist`);
  const threads = Number(v.threads ?? 1);
  const tokens = Number(v.tokens ?? 32);
  const skipCfg = v.skip ? (JSON.parse(v.skip) as Record<string, unknown>) : null;
  // input-blind methods get a seed per client, so the rows do not all skip the same layers
  const skipFor = (i: number) => (skipCfg && v["seed-per-client"] ? { ...skipCfg, seed: i + 1 } : skipCfg);
  const out = v.out ?? "results/bench/serve.md";
  const CLIENTS = [1, 4, 8];
  const log = (s: string) => {
    process.stderr.write(s + "\n");
    appendFileSync(out, s + "\n");
  };
  if (!existsSync(out)) writeFileSync(out, "# Continuous batching: aggregate throughput, TTFT, FFN reads (bench/serve.ts)\n\n");

  const uptime = execSync("uptime").toString().trim();
  log(
    `## ${basename(modelPath)}, ${threads} thread(s), ${tokens} tokens per client, prefill ${v.prefill ?? "mixed"} — ${new Date().toISOString()}`,
  );
  log("");
  log(`Command: \`npx tsx bench/serve.ts ${argv.join(" ")}\``);
  log(`Load before: \`${uptime}\``);
  log("");

  const engine = await loadModel(modelPath, {
    threads,
    ctx: 256,
    parallel: 8,
    promptChunk: 32,
    prefill: (v.prefill ?? "mixed") as "mixed" | "first",
  });
  const srv = await startServer(engine, { port: 0 });
  MODEL_ID = basename(modelPath).replace(/\.gguf$/i, "");
  const client = new OpenAI({ baseURL: `${srv.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const lm = await llama.loadModel({ modelPath, gpuLayers: 0 });
  const lctx = await lm.createContext({ contextSize: 8 * 256, sequences: 8, threads, batchSize: 512 });
  try {
    await ffnskipRound(client, 1, 4, () => null); // warm-up
    await llamaRound(lctx, lm, 1, 4);
    log(
      "| clients | ffnskip dense tok/s | ffnskip " +
        (v["skip-label"] ?? "skip") +
        " tok/s | llama.cpp tok/s | dense vs llama.cpp | FFN reads saved (skip) | rows skipping FFN (skip) |",
    );
    log("|---|---|---|---|---|---|---|");
    const base: Record<string, number> = {};
    for (const c of CLIENTS) {
      // alternate the engines in the same round so load changes hit both
      const d = await ffnskipRound(client, c, tokens, () => null);
      const l = await llamaRound(lctx, lm, c, tokens);
      engine.model.resetFfnStats();
      const s = skipCfg ? await ffnskipRound(client, c, tokens, skipFor) : null;
      const f = engine.model.ffnStats;
      if (c === 1) Object.assign(base, { d: d.tokPerS, s: s?.tokPerS ?? NaN, l: l.tokPerS });
      const x = (r: number, b: number) => (c === 1 ? "" : ` (${(r / b).toFixed(2)}×)`);
      log(
        `| ${c} | ${d.tokPerS.toFixed(1)}${x(d.tokPerS, base.d)} | ${s ? s.tokPerS.toFixed(1) + x(s.tokPerS, base.s) : "—"} | ${l.tokPerS.toFixed(1)}${x(l.tokPerS, base.l)} | ${(d.tokPerS / l.tokPerS).toFixed(2)} | ${s ? ((100 * f.skipped) / f.blocks).toFixed(1) + "%" : "—"} | ${s ? ((100 * (f.rowBlocks - f.rowsRun)) / f.rowBlocks).toFixed(1) + "%" : "—"} |`,
      );
    }
    log("");
    // TTFT of a short request alone, then while 4 long streams run
    const alone: number[] = [];
    for (let i = 0; i < 3; i++) alone.push(await ttft(client));
    const longs = ffnskipRound(client, 4, tokens * 4, () => null);
    await new Promise((r) => setTimeout(r, 300));
    const busy: number[] = [];
    for (let i = 0; i < 3; i++) busy.push(await ttft(client));
    await longs;
    log(
      `TTFT of a 4-token request ("Hello,"): alone median ${median(alone).toFixed(0)} ms [${alone.map((x) => x.toFixed(0)).join(", ")}]; while 4 streams run median ${median(busy).toFixed(0)} ms [${busy.map((x) => x.toFixed(0)).join(", ")}] (${(median(busy) / median(alone)).toFixed(2)}×)`,
    );
    log("");
    const prof = stepProfile(engine, [1, 2, 4, 8]);
    log(
      `Forward step with n decoding rows (dense, no server): ${prof.map((p) => `n=${p.n} ${p.ms.toFixed(1)} ms (${(p.ms / p.n).toFixed(1)} ms/row)`).join("; ")}. ` +
        `Batching pays while ms/row falls; ${(prof[2].ms / prof[0].ms).toFixed(2)}× the n=1 time for 4 rows.`,
    );
    const kp = kernelProfile(engine, [1, 2, 4, 8]);
    log(
      `FFN gate matrix of layer 0 (${engine.model.weights.layers[0].w1.rows}×${engine.model.weights.layers[0].w1.cols}) alone: ${kp.map((p) => `n=${p.n} ${(p.ms * 1000).toFixed(0)} µs (${((p.ms * 1000) / p.n).toFixed(0)} µs/row)`).join("; ")}.`,
    );
    log(`Load after: \`${execSync("uptime").toString().trim()}\``);
    log("");
  } finally {
    await srv.close();
    await engine.dispose();
    await lctx.dispose();
    await lm.dispose();
  }
}

main(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`bench/serve: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
