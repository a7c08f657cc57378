/**
 * ffnskip against llama.cpp at real model sizes, on the random-weight GGUFs of
 * scripts/synth-gguf.ts and on the real small models: load time, prompt and
 * decode tok/s at each thread count (engines alternating round by round), the
 * GB/s decode achieves against a bandwidth probe of the same run, peak RSS of
 * each engine, greedy agreement on the synthetic files, and FFN skipping's
 * decode speed-up beside its byte bound. Every measurement runs in its own
 * child process (fresh load, its own VmHWM), so engines do not pollute each
 * other's memory peaks. Files that do not load get a row that says why.
 * Writes results/bench/scale.{md,json}.
 *
 *   npm run build && node dist/bench/scale.js --shapes tinyllama-1.1b --types Q4_0,Q4_K_M [--real gemma3-270m,smollm2-135m]
 *     [--threads 1,2] [--rounds 3] [--prompt-tokens 32] [--gen-tokens 16] [--skip-on tinyllama-1.1b-Q4_0,llama2-7b-Q4_0] [--skip-pairs 3] [--pin1 CPU] [--out results/bench/scale]
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { spawnSync, execSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { benchmark, type BenchResult } from "../src/api/bench.js";
import { probeBandwidth } from "../src/kernels/probe.js";
import { WasmKernels } from "../src/kernels/wasm.js";
import { openGGUF, type GGUFFile } from "../src/gguf/reader.js";
import { synthPath, SHAPES, SYNTH_TYPES } from "../src/models/synthetic.js";
import { tokenizerFromGGUFMetadata } from "../src/tokenizer/tokenizer.js";
import type { SkipConfig } from "../src/skip/config.js";
import { benchLlamaCpp } from "./peer.js";
import { getOracle } from "../test/oracle/llamacpp.js";
import { HOME, SMOLLM2 } from "../test/helpers/paths.js";

/** One measurement, run in a child process. */
interface Job {
  engine: "ffnskip" | "llama.cpp";
  model: string;
  threads: number;
  promptTokens: number;
  genTokens: number;
  /** ffnskip: also time decode with this skip config (dense first, same load) */
  skip?: SkipConfig;
  /** skip/dense decode pairs timed in alternation after the main run (default 3) */
  skipPairs?: number;
  /** instead of timing: the first `genTokens` greedy tokens after these prompt ids */
  greedy?: number[];
}

interface JobResult {
  error?: string;
  load_ms?: number;
  prompt_tok_per_s?: number;
  decode_tok_per_s?: number;
  /**
   * dense and skip decode timed in alternation (`skipPairs` pairs after the
   * main run): each pair's skip ÷ dense is one speed-up sample on the same load
   */
  skip?: { decode_tok_per_s: number; dense_decode_tok_per_s: number; speedups: number[]; ratio: number; weight_bytes_per_token: number };
  greedy?: { ids: number[]; gaps?: number[] };
  /** peak resident set of the child (VmHWM), bytes */
  peak_rss?: number;
}

function vmHWM(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function runJob(j: Job): Promise<JobResult> {
  const ctx = (j.greedy?.length ?? j.promptTokens) + j.genTokens + 8;
  if (j.engine === "llama.cpp") {
    if (j.greedy) {
      const o = await getOracle(j.model, { threads: j.threads, contextSize: ctx });
      const g = await o.greedy(j.greedy, j.genTokens);
      await o.dispose();
      return { greedy: g, peak_rss: vmHWM() };
    }
    const r = await benchLlamaCpp(j.model, { threads: j.threads, promptTokens: j.promptTokens, genTokens: j.genTokens, repeat: 1 });
    return { load_ms: r.load_ms, prompt_tok_per_s: r.prompt_tok_per_s, decode_tok_per_s: r.decode_tok_per_s, peak_rss: vmHWM() };
  }
  const t0 = performance.now();
  const engine = await loadModel(j.model, { threads: j.threads, ctx });
  const load_ms = performance.now() - t0;
  try {
    if (j.greedy) {
      const g = await engine.generate({ tokens: j.greedy }, { temperature: 0, maxTokens: j.genTokens, ignoreEog: true });
      return { load_ms, greedy: { ids: g.tokens }, peak_rss: vmHWM() };
    }
    const o = { promptTokens: j.promptTokens, genTokens: j.genTokens };
    benchmark(engine, o); // warm-up (V8 tiers the kernels up; pages the weights in)
    const dense: BenchResult = benchmark(engine, o);
    let skip: JobResult["skip"];
    if (j.skip) {
      // one pair is noise-bound on a shared machine: alternate, so drifts in load hit both sides alike
      const d: number[] = [],
        s: BenchResult[] = [];
      for (let i = 0; i < (j.skipPairs ?? 3); i++) {
        s.push(benchmark(engine, { ...o, skip: j.skip }));
        d.push(benchmark(engine, o).decode_tok_per_s);
      }
      skip = {
        decode_tok_per_s: median(s.map((x) => x.decode_tok_per_s)),
        dense_decode_tok_per_s: median(d),
        speedups: s.map((x, i) => x.decode_tok_per_s / d[i]),
        ratio: s[0].skip.ratio,
        weight_bytes_per_token: s[0].weight_bytes_per_token,
      };
    }
    return { load_ms, prompt_tok_per_s: dense.prompt_tok_per_s, decode_tok_per_s: dense.decode_tok_per_s, skip, peak_rss: vmHWM() };
  } finally {
    await engine.dispose();
  }
}

const SELF = fileURLToPath(import.meta.url);

function median(xs: number[]): number {
  return xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : NaN;
}

/**
 * Run a job in a fresh node process; a crash or a thrown error becomes `error`. With `pin1`, a 1-thread job (either
 * engine) runs under `taskset -c pin1`: both engines on the same vCPU, as a one-core comparison should be.
 */
function inChild(j: Job, pin1?: string): JobResult {
  const argv = [process.execPath, SELF, "--child", JSON.stringify(j)];
  if (pin1 !== undefined && j.threads === 1) argv.unshift("taskset", "-c", pin1);
  const p = spawnSync(argv[0], argv.slice(1), {
    encoding: "utf8",
    maxBuffer: 64 << 20,
    timeout: 20 * 60_000,
    killSignal: "SIGKILL",
  });
  const line = p.stdout.split("\n").find((l) => l.startsWith("{"));
  if (line) return JSON.parse(line) as JobResult;
  const why = (p.stderr.trim().split("\n").filter(Boolean).pop() ?? "") || (p.signal ? `killed by ${p.signal}` : `exit ${p.status}`);
  return { error: why.slice(0, 200) };
}

/**
 * Weight bytes a decode step reads, from the file's tensor table: every
 * layer matrix plus the output projection (the tied embedding when there is
 * no output.weight); the embedding lookup reads one row and is left out.
 * Also the FFN bytes of each layer, for the skip bound.
 */
function decodeBytes(f: GGUFFile): { total: number; ffnPerLayer: number[] } {
  const by = new Map(f.tensors.map((t) => [t.name, t.nbytes]));
  let total = by.get("output.weight") ?? by.get("token_embd.weight") ?? 0;
  const ffnPerLayer: number[] = [];
  for (let l = 0; by.has(`blk.${l}.attn_q.weight`); l++) {
    const g = (n: string) => by.get(`blk.${l}.${n}.weight`) ?? 0;
    const ffn = g("ffn_gate") + g("ffn_up") + g("ffn_down");
    ffnPerLayer.push(ffn);
    total += ffn + g("attn_q") + g("attn_k") + g("attn_v") + g("attn_output");
  }
  return { total, ffnPerLayer };
}

/** ~25% of the layers, spread evenly over the middle (first and last eighth always run). */
function staticLayers(n: number): number[] {
  const k = Math.round(n / 4),
    lo = Math.ceil(n / 8),
    hi = n - Math.ceil(n / 8);
  return Array.from({ length: k }, (_, i) => lo + Math.floor(((i + 0.5) * (hi - lo)) / k));
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      shapes: { type: "string" },
      types: { type: "string" },
      real: { type: "string" },
      threads: { type: "string" },
      rounds: { type: "string" },
      "prompt-tokens": { type: "string" },
      "gen-tokens": { type: "string" },
      "skip-on": { type: "string" },
      "skip-pairs": { type: "string" },
      pin1: { type: "string" },
      out: { type: "string" },
      files: { type: "string" },
    },
  });
  const list = (s: string | undefined) =>
    (s ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  const shapes = list(v.shapes),
    types = list(v.types),
    extra = list(v.files),
    real = list(v.real ?? "gemma3-270m,smollm2-135m");
  for (const s of shapes) if (!SHAPES[s]) throw new Error(`unknown shape ${s}; supported: ${Object.keys(SHAPES).join(", ")}`);
  for (const t of types) if (!SYNTH_TYPES[t]) throw new Error(`unknown type ${t}; supported: ${Object.keys(SYNTH_TYPES).join(", ")}`);
  const REAL: Record<string, string> = { "gemma3-270m": join(HOME, "models", "gemma-3-270m-q4_k_m.gguf"), "smollm2-135m": SMOLLM2 };
  for (const r of real) if (!REAL[r]) throw new Error(`unknown real model ${r}; supported: ${Object.keys(REAL).join(", ")}`);
  const threadList = list(v.threads ?? "1,2").map(Number);
  const rounds = Number(v.rounds ?? 3),
    promptTokens = Number(v["prompt-tokens"] ?? 32),
    genTokens = Number(v["gen-tokens"] ?? 16),
    skipPairs = Number(v["skip-pairs"] ?? 3);
  if (!(Number.isInteger(skipPairs) && skipPairs >= 1)) throw new Error(`--skip-pairs takes a whole number >= 1, got ${v["skip-pairs"]}`);
  const skipOn = new Set(list(v["skip-on"] ?? "tinyllama-1.1b-Q4_0,llama2-7b-Q4_0"));
  const GB = 1e9,
    GiB = 2 ** 30;

  const named = (n: string) => {
    const m = /^(.+)-(F16|Q\w+)$/.exec(n);
    if (!m || !SHAPES[m[1]] || !SYNTH_TYPES[m[2]]) throw new Error(`--files takes <shape>-<type> names like llama2-7b-Q4_0, got ${n}`);
    return { name: n, path: synthPath(m[1], m[2]), synthetic: true };
  };
  const files = [
    ...shapes.flatMap((s) => types.map((t) => named(`${s}-${t}`))),
    ...real.map((r) => ({ name: r, path: REAL[r], synthetic: false })),
    ...extra.map(named), // last: the big files take longest
  ];
  const cmd = `node dist/bench/scale.js${shapes.length ? ` --shapes ${shapes.join(",")}` : ""}${types.length ? ` --types ${types.join(",")}` : ""}${extra.length ? ` --files ${extra.join(",")}` : ""} --real ${real.join(",")} --threads ${threadList.join(",")} --rounds ${rounds} --prompt-tokens ${promptTokens} --gen-tokens ${genTokens} --skip-on ${[...skipOn].join(",")} --skip-pairs ${skipPairs}${v.pin1 !== undefined ? ` --pin1 ${v.pin1}` : ""}${v.out ? ` --out ${v.out}` : ""}`;
  const uptimeStart = execSync("uptime").toString().trim();
  // the runtime and the kernel build auto takes in it: the children run under this same Node
  const probeKernels = await WasmKernels.create(1);
  const runtime = `Node ${process.version} (V8 ${process.versions.v8}, ${process.execPath}); ffnskip's kernels: ${probeKernels.name}`;
  await probeKernels.dispose();
  const bw0 = probeBandwidth(128, 3).gbps;
  const log = (s: string) => process.stderr.write(s + "\n");
  log(`bandwidth probe ${bw0.toFixed(1)} GB/s; ${uptimeStart}`);

  const tok = tokenizerFromGGUFMetadata(openGGUF(SMOLLM2).metadata);
  const greedyPrompt = tok.encode("The capital of France is", { addSpecial: true });

  const speedRows: string[] = [],
    skipRows: string[] = [],
    greedyRows: string[] = [];
  const json: Record<string, unknown>[] = [];
  /** Write results; called after every file, so a run cut short still leaves its rows. */
  const render = (final: boolean) => {
    const bw1 = final ? probeBandwidth(128, 3).gbps : NaN;
    const uptimeEnd = execSync("uptime").toString().trim();

    const md: string[] = [];
    md.push(`# Scale: ffnskip vs llama.cpp from 135M to 7B+ parameters`, "");
    md.push(`Command: \`npm run build && ${cmd}\` (${new Date().toISOString().slice(0, 16)}Z). Runtime: ${runtime}.`, "");
    md.push(
      `Machine load: start \`${uptimeStart}\`; ${final ? "end" : "at the last file"} \`${uptimeEnd}\` (2 cores shared with other agents: timings are noisy, ratios from alternating rounds are the robust part).`,
      "",
    );
    md.push(
      `Synthetic files (\`*-Q4_0\` etc.) are random-weight GGUFs of the real shapes written by \`scripts/synth-gguf.ts\` (seed 1): LLaMA architecture, SmolLM2-135M's tokenizer (vocabulary 49,152 rather than the real models' 32,000/128,256), llama.cpp's type mix (output.weight Q6_K except in Q8_0/F16; Q4_K_M/Q5_K_M put attn_v and ffn_down of the use_more_bits layers in Q6_K). Speed depends on shapes and types, not on weight values.`,
      "",
    );
    md.push(
      `Each number comes from its own child process (fresh load, one warm-up run, one timed run), ffnskip and llama.cpp alternating; medians of ${rounds} rounds; prompt ${promptTokens} tokens (one batched pass), decode ${genTokens} tokens one at a time${v.pin1 !== undefined ? `; 1-thread children of both engines pinned to vCPU ${v.pin1} (\`taskset -c ${v.pin1}\`)` : ""}. GB/s = weight bytes a decode step reads (all layer matrices + output projection, from the tensor table) × decode tok/s; the percentage is of the single-core wasm bandwidth probe of this run (${bw0.toFixed(1)} GB/s at the start, ${final ? bw1.toFixed(1) + " GB/s at the end" : "run still going when written"}). Peak RSS = the child's VmHWM (llama.cpp's includes its mmapped weights).`,
      "",
    );
    md.push(
      `## Speed and memory`,
      "",
      `| file | size GB | threads | ffnskip load s | ffnskip prompt tok/s | llama.cpp prompt tok/s | ratio | ffnskip decode tok/s | llama.cpp decode tok/s | ratio | ffnskip GB/s (% probe) | llama.cpp GB/s (% probe) | ffnskip peak RSS GiB | llama.cpp peak RSS GiB | note |`,
      `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
      ...speedRows,
    );
    if (skipRows.length) {
      md.push(
        "",
        `## FFN skipping at ~25%: decode speed against dense`,
        "",
        `Random weights make FFN-SkipLLM's cosine test meaningless (nothing saturates the way trained models do), so the skip is the \`static\` method with warm-up 0: the FFNs of ~25% of the layers (evenly spread, first and last eighth kept) skipped on every decode token; the achieved ratio is the policy's own count. Dense and skip are timed in the same child, alternating ${skipPairs} times after the main run; the speed-up is the median of the pairs' skip ÷ dense, and the dense column is the median of those dense runs. Bound = decode bytes ÷ (decode bytes − skipped FFN bytes); 'of bound' = (speed-up − 1) ÷ (bound − 1).`,
        "",
        `| file | threads | skip | achieved ratio | dense decode tok/s | skip decode tok/s | speed-up | byte bound | of bound | note |`,
        `|---|---|---|---|---|---|---|---|---|---|`,
        ...skipRows,
      );
    }
    if (greedyRows.length) {
      md.push(
        "",
        `## Greedy agreement on the synthetic files`,
        "",
        `First 8 greedy tokens after "The capital of France is" (ids ${greedyPrompt.join(" ")}), 2 threads. Random weights give near-tied logits, so a divergence says little by itself: the gap is llama.cpp's top-1 minus top-2 logit at the first divergence.`,
        "",
        `| file | ffnskip | llama.cpp | agreeing prefix | llama.cpp top-2 gap at divergence |`,
        `|---|---|---|---|---|`,
        ...greedyRows,
      );
    }
    const out = v.out ?? "results/bench/scale";
    mkdirSync("results/bench", { recursive: true });
    writeFileSync(out + ".md", md.join("\n") + "\n");
    writeFileSync(
      out + ".json",
      JSON.stringify(
        {
          command: cmd,
          date: new Date().toISOString(),
          uptimeStart,
          uptimeEnd,
          bandwidth_gbps: [bw0, bw1],
          rounds,
          promptTokens,
          genTokens,
          rows: json,
        },
        null,
        2,
      ) + "\n",
    );
    if (final) process.stdout.write(md.join("\n") + "\n");
  };

  for (const f of files) {
    if (!existsSync(f.path)) {
      speedRows.push(
        `| ${f.name} | — | — | missing: ${f.synthetic ? `run node dist/scripts/synth-gguf.js --shapes ${f.name.replace(/-(F16|Q\w+)$/, "")} --types ${f.name.match(/-(F16|Q\w+)$/)?.[1]}` : "pull it"} | | | | | | | | | | | | |`,
      );
      render(false);
      continue;
    }
    const gf = openGGUF(f.path);
    const bytes = decodeBytes(gf);
    const size = statSync(f.path).size;
    const nLayers = bytes.ffnPerLayer.length;
    const skip: SkipConfig | undefined = skipOn.has(f.name) ? { method: "static", warmup: 0, layers: staticLayers(nLayers) } : undefined;
    for (const threads of threadList) {
      const ours: JobResult[] = [],
        peer: JobResult[] = [];
      for (let r = 0; r < rounds; r++) {
        const base = { model: f.path, threads, promptTokens, genTokens };
        // a file ffnskip cannot load is tried once, not every round
        if (!ours[0]?.error) ours.push(inChild({ engine: "ffnskip", ...base, skip, skipPairs }, v.pin1));
        peer.push(inChild({ engine: "llama.cpp", ...base }, v.pin1));
        const o = ours[ours.length - 1],
          p = peer[r];
        log(
          `${f.name} t${threads} round ${r + 1}: ffnskip ${o.error ? "error: " + o.error : o.decode_tok_per_s!.toFixed(2)} / llama.cpp ${p.error ? "error: " + p.error : p.decode_tok_per_s!.toFixed(2)} decode tok/s`,
        );
      }
      const ok = (rs: JobResult[]) => rs.filter((x) => !x.error);
      const m = (rs: JobResult[], k: "load_ms" | "prompt_tok_per_s" | "decode_tok_per_s" | "peak_rss") => median(ok(rs).map((x) => x[k]!));
      const od = m(ours, "decode_tok_per_s"),
        ld = m(peer, "decode_tok_per_s");
      const op = m(ours, "prompt_tok_per_s"),
        lp = m(peer, "prompt_tok_per_s");
      const gbps = (tps: number) => (tps * bytes.total) / GB;
      const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "—");
      const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}×` : "—");
      const oErr = ok(ours).length ? "" : `ffnskip does not load: ${ours[0].error}`;
      const pErr = ok(peer).length ? "" : `llama.cpp failed: ${peer[0].error}`;
      const pct = (tps: number) => (Number.isFinite(tps) ? `${fmt(gbps(tps))} (${((gbps(tps) / bw0) * 100).toFixed(0)}%)` : "—");
      speedRows.push(
        `| ${f.name} | ${(size / GB).toFixed(2)} | ${threads} | ${fmt(m(ours, "load_ms") / 1000, 2)} | ${fmt(op)} | ${fmt(lp)} | ${ratio(op, lp)} | ${fmt(od, 2)} | ${fmt(ld, 2)} | ${ratio(od, ld)} | ${pct(od)} | ${pct(ld)} | ${fmt(m(ours, "peak_rss") / GiB, 2)} | ${fmt(m(peer, "peak_rss") / GiB, 2)} | ${[oErr, pErr].filter(Boolean).join("; ")} |`,
      );
      const row: Record<string, unknown> = {
        file: f.name,
        path: f.path,
        size,
        threads,
        decode_bytes_per_token: bytes.total,
        ffnskip: ours,
        llamacpp: peer,
      };
      if (skip) {
        const sk = ok(ours).map((x) => x.skip!);
        const skipped = skip.layers!.reduce((s, l) => s + bytes.ffnPerLayer[l], 0);
        const bound = bytes.total / (bytes.total - skipped);
        const st = median(sk.map((x) => x.decode_tok_per_s));
        const dd = median(sk.map((x) => x.dense_decode_tok_per_s));
        // the median of per-pair speed-ups (dense and skip timed back to back)
        const up = median(sk.flatMap((x) => x.speedups));
        skipRows.push(
          `| ${f.name} | ${threads} | static [${skip.layers!.join(",")}] | ${sk.length ? (sk[0].ratio * 100).toFixed(1) + "%" : "—"} | ${fmt(dd, 2)} | ${fmt(st, 2)} | ${Number.isFinite(up) ? up.toFixed(3) + "×" : "—"} | ${bound.toFixed(3)}× | ${Number.isFinite(up) ? (((up - 1) / (bound - 1)) * 100).toFixed(0) + "%" : "—"} | ${oErr} |`,
        );
        row.skip = { layers: skip.layers, bound, runs: sk };
      }
      json.push(row);
    }
    if (f.synthetic) {
      const n = 8;
      const a = inChild({ engine: "ffnskip", model: f.path, threads: 2, promptTokens: 0, genTokens: n, greedy: greedyPrompt });
      const b = inChild({ engine: "llama.cpp", model: f.path, threads: 2, promptTokens: 0, genTokens: n, greedy: greedyPrompt });
      const ai = a.greedy?.ids ?? [],
        bi = b.greedy?.ids ?? [];
      const k = ai.length && bi.length ? ai.findIndex((x, i) => x !== bi[i]) : -2;
      const agree = k === -2 ? "—" : k === -1 ? `${n}/${n}` : `${k}/${n}`;
      const gap = k >= 0 && b.greedy?.gaps ? b.greedy.gaps[k].toFixed(3) : "—";
      greedyRows.push(
        `| ${f.name} | ${a.error ? "does not load" : ai.join(" ")} | ${b.error ? "error: " + b.error : bi.join(" ")} | ${agree} | ${gap} |`,
      );
      json.push({ file: f.name, greedy: { prompt: greedyPrompt, ffnskip: a, llamacpp: b } });
    }
    render(false);
  }
  render(true);
}

if (process.argv[2] === "--child") {
  runJob(JSON.parse(process.argv[3]) as Job).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + "\n");
      process.exit(0);
    },
    (e: Error) => {
      process.stdout.write(JSON.stringify({ error: e.message.split("\n")[0].slice(0, 300) }) + "\n");
      process.exit(0);
    },
  );
} else {
  await main();
}
