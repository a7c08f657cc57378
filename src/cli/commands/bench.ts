/** `ffnskip bench`: load time, prompt and decode speed, peak RSS, roofline. */
import { anonHugeBytes } from "../../kernels/hugepages.js";
import { loadModel } from "../../api/engine.js";
import { benchmark, type BenchResult } from "../../api/bench.js";
import { probeBandwidth } from "../../kernels/probe.js";
import { MODEL_OPTIONS, loadOptions, num, parse } from "../args.js";
import { SKIP_OPTIONS, skipFromFlags } from "../skip-flags.js";

export const BENCH_HELP = `ffnskip bench [--model M] [--threads N] [--prompt-tokens P] [--gen-tokens G] [--repeat R] [--skip METHOD ...] [--json]
  Prompt and decode tok/s (median of R runs), load time, peak RSS, and the roofline: weight bytes read
  per generated token ÷ decode time, as a fraction of the single-core memory bandwidth a probe measures in the same run.`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(
    argv,
    {
      ...MODEL_OPTIONS,
      ...SKIP_OPTIONS,
      "prompt-tokens": { type: "string" },
      "gen-tokens": { type: "string" },
      repeat: { type: "string" },
    },
    false,
  );
  if (v.help) {
    process.stdout.write(BENCH_HELP + "\n");
    return 0;
  }
  const promptTokens = num(v, "prompt-tokens", true) ?? 128;
  const genTokens = num(v, "gen-tokens", true) ?? 64;
  const repeat = num(v, "repeat", true) ?? 3;
  if (promptTokens < 1 || genTokens < 1 || repeat < 1) throw new Error("--prompt-tokens, --gen-tokens and --repeat must be ≥ 1");
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  try {
    const { policy } = skipFromFlags(v, engine);
    const runs: BenchResult[] = [];
    for (let i = 0; i < repeat; i++) runs.push(benchmark(engine, { promptTokens, genTokens, skip: policy }));
    // RSS before the probe: the probe maps a buffer of its own
    const peakRss = process.resourceUsage().maxRSS / 1024;
    const bw = probeBandwidth(128, 3).gbps;
    const decode = median(runs.map((r) => r.decode_tok_per_s));
    const gbps = median(runs.map((r) => r.decode_gb_per_s));
    const out = {
      model: engine.path,
      threads: engine.model.kernels.threads,
      backend: engine.model.kernels.name,
      shards: engine.model.shards.length,
      load_ms: engine.loaded.loadMs,
      prompt_tokens: promptTokens,
      gen_tokens: genTokens,
      repeat,
      prompt_tok_per_s: median(runs.map((r) => r.prompt_tok_per_s)),
      decode_tok_per_s: decode,
      weight_bytes_per_token: runs[0].weight_bytes_per_token,
      decode_gb_per_s: gbps,
      bandwidth_gb_per_s: bw,
      roofline_fraction: gbps / bw,
      peak_rss_mb: peakRss,
      file_mb: engine.loaded.fileBytes / 1e6,
      kv_cache_mb: engine.model.kv.bytes / 1e6,
      /** this process's anonymous memory in transparent huge pages (src/kernels/hugepages.ts), 0 without them */
      huge_pages_mb: anonHugeBytes() / 1e6,
      skip: runs[runs.length - 1].skip,
    };
    if (v.json) process.stdout.write(JSON.stringify(out) + "\n");
    else {
      process.stdout.write(
        `model     ${out.model} (${out.backend}, ${out.threads} threads${out.shards > 1 ? `, ${out.shards} shards` : ""})\n` +
          `load      ${out.load_ms.toFixed(0)} ms\n` +
          `prompt    ${out.prompt_tok_per_s.toFixed(1)} tok/s (${promptTokens} tokens)\n` +
          `decode    ${out.decode_tok_per_s.toFixed(1)} tok/s (${genTokens} tokens, median of ${repeat})\n` +
          `roofline  ${(out.weight_bytes_per_token / 1e6).toFixed(1)} MB/token → ${gbps.toFixed(1)} GB/s of ${bw.toFixed(1)} GB/s (1-core probe) = ${(out.roofline_fraction * 100).toFixed(0)}%\n` +
          `peak RSS  ${out.peak_rss_mb.toFixed(0)} MB (file ${out.file_mb.toFixed(0)} MB, KV cache ${out.kv_cache_mb.toFixed(0)} MB)\n` +
          `skip      ${out.skip.method} ${(out.skip.ratio * 100).toFixed(1)}% (${+out.skip.skipped_ffn.toFixed(1)}/${out.skip.total_ffn} FFNs)\n`,
      );
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}
