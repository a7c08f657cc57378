/**
 * llama.cpp perplexity on the first N tokens of a text file (default: WikiText-2
 * raw test from ../shared), one window from an empty cache, BOS only if the
 * model's metadata asks for it. The reference number for ffnskip's own
 * perplexity on the same file and token count.
 *
 * Run: npx tsx bench/peer-ppl.ts [--model PATH] [--file PATH] [--tokens 2000] [--threads 2] [--json]
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { getOracle } from "../test/oracle/llamacpp.js";

export interface PeerPplResult {
  engine: "llama.cpp";
  model: string;
  file: string;
  tokens: number;
  threads: number;
  mean_nll: number;
  ppl: number;
  /** predictions whose target was the argmax */
  top1_accuracy: number;
  score_ms: number;
}

/** Perplexity of the first `tokens` tokens of `file` under llama.cpp. */
export async function peerPerplexity(modelPath: string, file: string, tokens: number, threads: number): Promise<PeerPplResult> {
  if (!Number.isInteger(tokens) || tokens < 2) throw new Error(`tokens must be an integer ≥ 2, got ${tokens}`);
  const text = readFileSync(file, "utf8");
  const o = await getOracle(modelPath, { threads, contextSize: tokens });
  try {
    // Tokenize a generous prefix rather than the whole file: ~4 characters per token is plenty.
    let ids = o.tokenize(text.slice(0, tokens * 8));
    if (ids.length < tokens) ids = o.tokenize(text);
    if (ids.length < tokens) throw new Error(`${file} has only ${ids.length} tokens, fewer than the ${tokens} asked for`);
    ids = ids.slice(0, tokens);
    const t0 = performance.now();
    const s = await o.score(ids);
    const scoreMs = performance.now() - t0;
    let sum = 0,
      hits = 0;
    for (let i = 0; i < s.nll.length; i++) {
      sum += s.nll[i];
      if (s.argmax[i] === ids[i + 1]) hits++;
    }
    const mean = sum / s.nll.length;
    return {
      engine: "llama.cpp",
      model: modelPath,
      file,
      tokens,
      threads,
      mean_nll: mean,
      ppl: Math.exp(mean),
      top1_accuracy: hits / s.nll.length,
      score_ms: scoreMs,
    };
  } finally {
    await o.dispose();
  }
}

async function main(argv: string[]): Promise<void> {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      model: { type: "string" },
      file: { type: "string" },
      tokens: { type: "string" },
      threads: { type: "string" },
      json: { type: "boolean" },
    },
  });
  const shared = process.env.FFNSKIP_SHARED ?? "../shared";
  const model =
    v.model ?? join(process.env.FFNSKIP_HOME ?? join(homedir(), ".cache", "ffnskip"), "models", "SmolLM2-135M-Instruct.Q4_1.gguf");
  const file = v.file ?? join(shared, "data", "perplexity", "wikitext-2-raw-test.txt");
  const tokens = Number(v.tokens ?? 2000);
  const threads = Number(v.threads ?? 2);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got "${v.threads}"`);
  const r = await peerPerplexity(model, file, tokens, threads);
  if (v.json) process.stdout.write(JSON.stringify(r) + "\n");
  else {
    process.stdout.write(
      `llama.cpp perplexity ${r.ppl.toFixed(4)} (mean nll ${r.mean_nll.toFixed(5)}, top-1 ${(r.top1_accuracy * 100).toFixed(1)}%) ` +
        `over the first ${r.tokens} tokens of ${r.file}; ${r.score_ms.toFixed(0)} ms with ${r.threads} threads\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: Error) => {
    console.error(`bench/peer-ppl: ${e.message}`);
    process.exit(1);
  });
}
