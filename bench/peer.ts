/**
 * llama.cpp speed on the same model, thread count and token counts as
 * `ffnskip bench`, so the two can be put side by side. Field names match the
 * ffnskip bench JSON (prompt_tok_per_s, decode_tok_per_s).
 *
 * Run: npx tsx bench/peer.ts [--model PATH] [--threads 2] [--prompt-tokens 128] [--gen-tokens 64] [--repeat 3] [--json]
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Token } from "node-llama-cpp";
import { openLlamaCpp } from "../test/oracle/llamacpp.js";
import { median } from "./median.js";

export interface PeerBenchOptions {
  threads: number;
  promptTokens: number;
  genTokens: number;
  /** timed runs after one untimed warm-up; the median is reported */
  repeat: number;
}

export interface PeerBenchResult {
  engine: "llama.cpp";
  model: string;
  threads: number;
  prompt_tokens: number;
  gen_tokens: number;
  repeat: number;
  load_ms: number;
  prompt_tok_per_s: number;
  decode_tok_per_s: number;
  /** every timed run, for spread */
  runs: { prompt_ms: number; decode_ms: number }[];
}

/** Plain prose, repeated to length: the content barely matters for speed, but keep it real text. */
const FILLER =
  "The history of the city goes back to a small fishing village on the river, which grew into a market town " +
  "during the middle ages and later became an important centre of trade, shipbuilding and education. ";

/**
 * Time llama.cpp: prompt processing of `promptTokens` tokens from an empty
 * cache (one batched pass), then `genTokens` greedy decode steps of one
 * token each. Each run starts from a cleared cache.
 */
export async function benchLlamaCpp(modelPath: string, o: PeerBenchOptions): Promise<PeerBenchResult> {
  if (o.promptTokens < 1 || o.genTokens < 1 || o.repeat < 1 || o.threads < 1) {
    throw new Error("promptTokens, genTokens, repeat and threads must all be ≥ 1");
  }
  const t0 = performance.now();
  const h = await openLlamaCpp(modelPath, {
    threads: o.threads,
    contextSize: o.promptTokens + o.genTokens + 8,
    batchSize: Math.min(512, o.promptTokens),
  });
  const loadMs = performance.now() - t0;
  try {
    let prompt = h.model.tokenize(FILLER.repeat(Math.ceil(o.promptTokens / 30) + 1)).slice(0, o.promptTokens);
    if (h.model.tokens.shouldPrependBosToken && h.model.tokens.bos != null) prompt = [h.model.tokens.bos, ...prompt.slice(1)];
    const pick = { generateNext: { token: true } };

    const runOnce = async () => {
      await h.seq.clearHistory();
      const a = performance.now();
      const first = await h.seq.controlledEvaluate(prompt.map((t, i) => (i === prompt.length - 1 ? [t, pick] : t)) as never);
      const b = performance.now();
      let tok = first[first.length - 1]?.next.token;
      for (let k = 1; k < o.genTokens; k++) {
        if (tok == null) throw new Error(`llama.cpp produced no token at decode step ${k}`);
        const out = await h.seq.controlledEvaluate([[tok as Token, pick]]);
        tok = out[0]?.next.token;
      }
      const c = performance.now();
      // The first generated token comes out of the prompt pass, so decode covers genTokens-1 steps.
      return { prompt_ms: b - a, decode_ms: c - b };
    };

    await runOnce(); // warm-up: page in weights, let thread pools spin up
    const runs: PeerBenchResult["runs"] = [];
    for (let r = 0; r < o.repeat; r++) runs.push(await runOnce());
    const decodeSteps = Math.max(1, o.genTokens - 1);
    return {
      engine: "llama.cpp",
      model: modelPath,
      threads: o.threads,
      prompt_tokens: prompt.length,
      gen_tokens: o.genTokens,
      repeat: o.repeat,
      load_ms: loadMs,
      prompt_tok_per_s: median(runs.map((x) => (prompt.length * 1000) / x.prompt_ms)),
      decode_tok_per_s: o.genTokens > 1 ? median(runs.map((x) => (decodeSteps * 1000) / x.decode_ms)) : NaN,
      runs,
    };
  } finally {
    await h.dispose();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      threads: { type: "string" },
      "prompt-tokens": { type: "string" },
      "gen-tokens": { type: "string" },
      repeat: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const int = (name: string, s: string | undefined, d: number) => {
    if (s === undefined) return d;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got "${s}"`);
    return n;
  };
  const model =
    v.model ?? join(process.env.FFNSKIP_HOME ?? join(homedir(), ".cache", "ffnskip"), "models", "SmolLM2-135M-Instruct.Q4_1.gguf");
  const r = await benchLlamaCpp(model, {
    threads: int("threads", v.threads, 2),
    promptTokens: int("prompt-tokens", v["prompt-tokens"], 128),
    genTokens: int("gen-tokens", v["gen-tokens"], 64),
    repeat: int("repeat", v.repeat, 3),
  });
  if (v.json) process.stdout.write(JSON.stringify(r) + "\n");
  else {
    process.stdout.write(
      `llama.cpp ${r.model} (${r.threads} threads)\n` +
        `load      ${r.load_ms.toFixed(0)} ms\n` +
        `prompt    ${r.prompt_tok_per_s.toFixed(1)} tok/s (${r.prompt_tokens} tokens, median of ${r.repeat})\n` +
        `decode    ${r.decode_tok_per_s.toFixed(1)} tok/s (${r.gen_tokens} tokens, median of ${r.repeat})\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`bench/peer: ${e.message}`);
    process.exit(1);
  });
}
