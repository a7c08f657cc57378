/**
 * A model bigger than one wasm32 memory, against llama.cpp on the same file:
 * time from process start to the first generated token, peak RSS against
 * file + KV cache bytes, and the first greedy tokens of each engine. Each
 * engine runs in a fresh child process (so start-up, load and RSS are its
 * own), alternating round by round; the file is read once first so both
 * find it in the page cache. Writes results/scale/<file>.md and .json.
 *
 *   npm run build && node dist/bench/big-model.js --model ~/.cache/ffnskip/synthetic/llama2-7b-Q4_0.gguf [--ctx 512] [--threads 2] [--rounds 2] [--gen 8]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, statSync, writeFileSync, openSync, readSync, closeSync } from "node:fs";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { loadavg } from "node:os";

const { values: v } = parseArgs({
  options: {
    model: { type: "string" },
    ctx: { type: "string" },
    threads: { type: "string" },
    rounds: { type: "string" },
    gen: { type: "string" },
    child: { type: "string" },
    tokens: { type: "string" },
    ref: { type: "string" },
    out: { type: "string" },
  },
});
const ctx = Number(v.ctx ?? 512),
  threads = Number(v.threads ?? 2),
  rounds = Number(v.rounds ?? 2),
  gen = Number(v.gen ?? 8);
const PROMPT = "The history of the city begins with a small settlement on the river, where traders met";

interface ChildResult {
  engine: "ffnskip" | "llama.cpp";
  /** ms from process start to the first generated token */
  ttft_ms: number;
  /** ms from process start to the model loaded (weights in memory, context made) */
  loaded_ms: number;
  ids: number[];
  /** top-1 minus top-2 logit before each pick (a small gap is a near-tie two correct engines may break differently) */
  gaps: number[];
  /**
   * ffnskip only, fed llama.cpp's picks (teacher forcing): at each step, how far
   * llama.cpp's pick is below ffnskip's top logit (0: the same argmax)
   */
  ref_deficit?: number[];
  /** ms per decoded token after the first */
  decode_ms_per_token: number;
  /** peak resident set (VmHWM), bytes */
  peak_rss: number;
  /** ffnskip only: shards and KV cache bytes */
  shards?: number;
  kv_bytes?: number;
}

/** Peak resident set of this process so far (VmHWM), bytes. */
function peakRss(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Top-1 token, its gap to the top-2 logit, and the top logit. */
function top2(lg: Float32Array): { id: number; gap: number; max: number } {
  let a = 0,
    b = -Infinity;
  for (let i = 1; i < lg.length; i++)
    if (lg[i] > lg[a]) {
      b = lg[a];
      a = i;
    } else if (lg[i] > b) b = lg[i];
  return { id: a, gap: lg[a] - b, max: lg[a] };
}

async function childFfnskip(model: string, tokens: number[], ref: number[]): Promise<ChildResult> {
  const { loadModel } = await import("../src/api/engine.js");
  const { prefill } = await import("../src/model/prefill.js");
  const engine = await loadModel(model, { ctx, threads });
  const loaded = performance.now();
  const m = engine.model,
    policy = engine.policy();
  // greedy: the next token after the prompt, then each pick fed back
  const step = (prev: number | null, i: number) =>
    prev === null
      ? prefill(m, tokens, policy)
      : m.forward([prev], tokens.length + i - 1, { policy, phase: "decode", genIndex: i - 1, logits: "last" })!;
  let t = top2(step(null, 0));
  const ttft = performance.now();
  const ids = [t.id],
    gaps = [t.gap];
  for (let i = 1; i < gen; i++) {
    t = top2(step(ids[i - 1], i));
    ids.push(t.id);
    gaps.push(t.gap);
  }
  const done = performance.now();
  const r: ChildResult = {
    engine: "ffnskip",
    ttft_ms: ttft,
    loaded_ms: loaded,
    ids,
    gaps,
    decode_ms_per_token: (done - ttft) / (gen - 1),
    peak_rss: peakRss(),
    shards: m.shards.length,
    kv_bytes: m.kv.bytes,
  };
  // teacher-forced along llama.cpp's picks: is each of them ffnskip's argmax too, or a near-tie?
  if (ref.length) {
    policy.reset();
    m.kv.truncate(0);
    r.ref_deficit = [];
    for (let i = 0; i < ref.length; i++) {
      const lg = step(i === 0 ? null : ref[i - 1], i);
      r.ref_deficit.push(top2(lg).max - lg[ref[i]]);
    }
  }
  await engine.dispose();
  return r;
}

async function childLlamaCpp(model: string, tokens: number[]): Promise<ChildResult> {
  const { openLlamaCpp } = await import("../test/oracle/llamacpp.js");
  const h = await openLlamaCpp(model, { threads, contextSize: ctx, batchSize: Math.min(512, ctx) });
  const loaded = performance.now();
  // the greedy pick is the top of the two best logits (as test/oracle/llamacpp.ts greedy)
  const next = { generateNext: { logits: { filter: { tokens: [] as number[], includeTop: 2 } } } };
  let pending: unknown[] = tokens.map((t, i) => (i === tokens.length - 1 ? [t, next] : t));
  const ids: number[] = [],
    gaps: number[] = [];
  let ttft = 0;
  for (let k = 0; k < gen; k++) {
    const out = await h.seq.controlledEvaluate(pending as never);
    const lg = out[out.length - 1]?.next.logits;
    if (!lg || lg.size < 2) throw new Error(`llama.cpp returned no top-2 logits at step ${k}`);
    const [[t1, l1], [, l2]] = [...lg.entries()].sort((a, b) => b[1] - a[1]);
    if (k === 0) ttft = performance.now();
    ids.push(Number(t1));
    gaps.push(l1 - l2);
    pending = [[t1, next]];
  }
  const done = performance.now();
  const r: ChildResult = {
    engine: "llama.cpp",
    ttft_ms: ttft,
    loaded_ms: loaded,
    ids,
    gaps,
    decode_ms_per_token: (done - ttft) / (gen - 1),
    peak_rss: peakRss(),
  };
  await h.dispose();
  return r;
}

/** Read the whole file once so both engines find it in the page cache. */
function warmPageCache(path: string): void {
  const fd = openSync(path, "r"),
    buf = Buffer.allocUnsafe(1 << 24);
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  if (!v.model) throw new Error("--model FILE is required");
  const model = v.model;
  if (v.child) {
    const tokens = v.tokens!.split(",").map(Number);
    const ref = v.ref ? v.ref.split(",").map(Number) : [];
    const r = v.child === "ffnskip" ? await childFfnskip(model, tokens, ref) : await childLlamaCpp(model, tokens);
    process.stdout.write(JSON.stringify(r) + "\n");
    process.exit(0); // llama.cpp's native threads may linger
  }
  const { openGGUF } = await import("../src/gguf/reader.js");
  const { tokenizerFromGGUFMetadata } = await import("../src/tokenizer/index.js");
  const tokens = tokenizerFromGGUFMetadata(openGGUF(model).metadata as Record<string, unknown>).encode(PROMPT, { addSpecial: true });
  const fileBytes = statSync(model).size;
  const self = fileURLToPath(import.meta.url);
  const runs: ChildResult[] = [];
  for (let r = 0; r < rounds; r++) {
    // llama.cpp first: its picks are fed to ffnskip (teacher forcing) after ffnskip's own timed greedy run
    for (const engine of ["llama.cpp", "ffnskip"]) {
      warmPageCache(model);
      const ref = engine === "ffnskip" && r === 0 ? ["--ref", runs[runs.length - 1].ids.join(",")] : [];
      const out = execFileSync(
        process.execPath,
        [
          self,
          "--child",
          engine,
          "--model",
          model,
          "--tokens",
          tokens.join(","),
          "--ctx",
          String(ctx),
          "--threads",
          String(threads),
          "--gen",
          String(gen),
          ...ref,
        ],
        { encoding: "utf8", maxBuffer: 1 << 24 },
      );
      const res = JSON.parse(out.trim().split("\n").pop()!) as ChildResult;
      process.stderr.write(`round ${r + 1} ${engine}: ${JSON.stringify(res)}\n`);
      runs.push(res);
    }
  }
  const med = (e: string, f: (x: ChildResult) => number) => {
    const xs = runs
      .filter((x) => x.engine === e)
      .map(f)
      .sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  const ours = runs.find((x) => x.engine === "ffnskip")!,
    peer = runs.find((x) => x.engine === "llama.cpp")!;
  const kv = ours.kv_bytes!;
  const ttft = med("ffnskip", (x) => x.ttft_ms),
    ttftPeer = med("llama.cpp", (x) => x.ttft_ms);
  const rss = Math.max(...runs.filter((x) => x.engine === "ffnskip").map((x) => x.peak_rss));
  const rssPeer = Math.max(...runs.filter((x) => x.engine === "llama.cpp").map((x) => x.peak_rss));
  const same = ours.ids.filter((t, i) => t === peer.ids[i]).length;
  const firstDiff = ours.ids.findIndex((t, i) => t !== peer.ids[i]);
  const cmd = `node dist/bench/big-model.js --model ${model.replace(process.env.HOME ?? "~", "~")} --ctx ${ctx} --threads ${threads} --rounds ${rounds} --gen ${gen}`;
  const gb = (b: number) => (b / 1e9).toFixed(2);
  const md = [
    `# ${basename(model)}: ffnskip vs llama.cpp`,
    "",
    `Command: \`npm run build && ${cmd}\` (${new Date().toISOString().slice(0, 16)}Z, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}).`,
    `Each engine in a fresh process, alternating, file read into the page cache before each run; medians of ${rounds} rounds (peak RSS: the max).`,
    "",
    `| | ffnskip | llama.cpp | ratio |`,
    `|---|---|---|---|`,
    `| start → first token (ms) | ${ttft.toFixed(0)} | ${ttftPeer.toFixed(0)} | ${(ttft / ttftPeer).toFixed(2)} |`,
    `| start → loaded (ms) | ${med("ffnskip", (x) => x.loaded_ms).toFixed(0)} | ${med("llama.cpp", (x) => x.loaded_ms).toFixed(0)} | |`,
    `| decode ms/token | ${med("ffnskip", (x) => x.decode_ms_per_token).toFixed(0)} | ${med("llama.cpp", (x) => x.decode_ms_per_token).toFixed(0)} | ${(med("ffnskip", (x) => x.decode_ms_per_token) / med("llama.cpp", (x) => x.decode_ms_per_token)).toFixed(2)} |`,
    `| peak RSS (GB) | ${gb(rss)} | ${gb(rssPeer)} (file pages mapped) | |`,
    "",
    `File ${gb(fileBytes)} GB, ffnskip KV cache (ctx ${ctx}) ${gb(kv)} GB, ${ours.shards} shard(s): ffnskip peak RSS / (file + KV) = **${(rss / (fileBytes + kv)).toFixed(3)}**.`,
    "",
    `Prompt (${tokens.length} tokens): "${PROMPT}"`,
    "",
    `First ${gen} greedy tokens (top-1 − top-2 logit gap in brackets; random weights give near-ties):`,
    "",
    `- ffnskip: ${ours.ids.map((t, i) => `${t} [${ours.gaps[i].toFixed(3)}]`).join(", ")}`,
    `- llama.cpp: ${peer.ids.map((t, i) => `${t} [${peer.gaps[i].toFixed(3)}]`).join(", ")}`,
    `- equal position by position: ${same}/${gen}; first difference at step ${firstDiff < 0 ? "none" : firstDiff}`,
    `- ffnskip fed llama.cpp's picks (teacher forcing): llama.cpp's pick is below ffnskip's top logit by ${ours.ref_deficit!.map((d) => d.toFixed(3)).join(", ")} (0 = same argmax)`,
    "",
  ];
  const out = v.out ?? `results/scale/${basename(model, ".gguf")}`;
  mkdirSync("results/scale", { recursive: true });
  writeFileSync(out + ".md", md.join("\n"));
  writeFileSync(
    out + ".json",
    JSON.stringify({ command: cmd, date: new Date().toISOString(), fileBytes, ctx, threads, runs }, null, 1) + "\n",
  );
  process.stdout.write(md.join("\n"));
}

await main();
