/**
 * ffnskip against llama.cpp (node-llama-cpp) on the same GGUF, prompt, token
 * counts and threads, alternating engines round by round in one run; then
 * FFN-SkipLLM decode speed at the shipped skip profiles against dense, beside
 * the speed-up the skipped weight bytes allow. Writes results/bench/compare.{md,json}.
 *
 *   npm run build && node dist/bench/compare.js [--model FILE.gguf] [--threads 1,2] [--rounds 5] [--prompt-tokens 128]
 *     [--gen-tokens 64] [--profiles a.json,b.json | none] [--out results/bench/compare]
 *
 * Any GGUF model works; the skip profiles (any method, e.g. profiles/*-linear-25.json) default to profiles/<file stem>-NN.json
 * (SmolLM2: smollm2-135m-instruct-NN.json), "none" leaves the skip section out.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { benchmark, type BenchResult } from "../src/api/bench.js";
import { probeBandwidth } from "../src/kernels/probe.js";
import { readSkipProfile } from "../src/skip/skip-profile.js";
import { bytesPerSkip } from "../src/skip/linear.js";
import { benchLlamaCpp } from "./peer.js";
import { SMOLLM2 } from "../test/helpers/paths.js";
import { median } from "./median.js";

const { values: v } = parseArgs({
  options: {
    threads: { type: "string" },
    rounds: { type: "string" },
    "prompt-tokens": { type: "string" },
    "gen-tokens": { type: "string" },
    model: { type: "string" },
    out: { type: "string" },
    profiles: { type: "string" },
  },
});
const threadList = (v.threads ?? "1,2").split(",").map(Number);
const rounds = Number(v.rounds ?? 5),
  promptTokens = Number(v["prompt-tokens"] ?? 128),
  genTokens = Number(v["gen-tokens"] ?? 64);
const model = v.model ?? SMOLLM2;
const stem = model === SMOLLM2 ? "smollm2-135m-instruct" : basename(model, ".gguf").toLowerCase();
const profilePaths =
  v.profiles === "none"
    ? []
    : v.profiles
      ? v.profiles.split(",")
      : existsSync("profiles")
        ? readdirSync("profiles")
            .filter((f) => new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d+\\.json$`).test(f))
            .map((f) => `profiles/${f}`)
        : [];
const PROFILES = profilePaths.map((path) => ({ pct: Number(/-(\d+)\.json$/.exec(path)?.[1] ?? NaN), path })).sort((a, b) => a.pct - b.pct);

const md: string[] = [];
const json: Record<string, unknown> = { model, rounds, promptTokens, genTokens, date: new Date().toISOString() };
md.push(`# ffnskip vs llama.cpp — ${model.split("/").pop()}`, "");
md.push(
  `Command: \`npm run build && node dist/bench/compare.js ${process.argv.slice(2).join(" ")}\` (${new Date().toISOString().slice(0, 16)}Z; defaults: --threads 1,2 --rounds 5 --prompt-tokens 128 --gen-tokens 64).`,
);
md.push(
  `Engines alternate round by round in one process; medians of ${rounds} rounds. llama.cpp = node-llama-cpp's prebuilt CPU build, same threads.`,
  "",
);
const bw = probeBandwidth(128, 3).gbps;
md.push(`Single-core bandwidth probe (wasm SIMD sum over 128 MiB): ${bw.toFixed(1)} GB/s.`, "");
json.bandwidth_gbps = bw;

md.push(
  `## Speed`,
  "",
  `| threads | ffnskip prompt tok/s | llama.cpp prompt tok/s | ratio | ffnskip decode tok/s | llama.cpp decode tok/s | ratio | ffnskip GB/s (roofline) |`,
  `|---|---|---|---|---|---|---|---|`,
);
const speed: unknown[] = [];
const skipRows: string[] = [];
const skipJson: unknown[] = [];
for (const threads of threadList) {
  const engine = await loadModel(model, { threads, ctx: promptTokens + genTokens + 8 });
  const ours: BenchResult[] = [],
    peer: { p: number; d: number }[] = [];
  benchmark(engine, { promptTokens, genTokens }); // warm-up (V8 tiers the kernels up)
  for (let r = 0; r < rounds; r++) {
    ours.push(benchmark(engine, { promptTokens, genTokens }));
    const l = await benchLlamaCpp(model, { threads, promptTokens, genTokens, repeat: 1 });
    peer.push({ p: l.prompt_tok_per_s, d: l.decode_tok_per_s });
    process.stderr.write(
      `threads ${threads} round ${r + 1}: ffnskip ${ours[r].decode_tok_per_s.toFixed(1)} / llama.cpp ${l.decode_tok_per_s.toFixed(1)} decode tok/s\n`,
    );
  }
  const op = median(ours.map((x) => x.prompt_tok_per_s)),
    od = median(ours.map((x) => x.decode_tok_per_s));
  const lp = median(peer.map((x) => x.p)),
    ld = median(peer.map((x) => x.d));
  const gbps = median(ours.map((x) => x.decode_gb_per_s));
  md.push(
    `| ${threads} | ${op.toFixed(0)} | ${lp.toFixed(0)} | ${(op / lp).toFixed(2)}× | ${od.toFixed(1)} | ${ld.toFixed(1)} | ${(od / ld).toFixed(2)}× | ${gbps.toFixed(1)} (${((gbps / bw) * 100).toFixed(0)}% of 1-core probe) |`,
  );
  speed.push({ threads, ffnskip: { prompt: op, decode: od, gbps }, llamacpp: { prompt: lp, decode: ld } });

  // FFN-SkipLLM at the shipped profiles against dense, alternating
  if (PROFILES.length > 0) {
    const configs = [
      { name: "dense", skip: undefined as never, mapPerSkip: 0 },
      ...PROFILES.map((p) => {
        const skip = readSkipProfile(p.path, engine.config.nLayers).config;
        // ffn-skip-linear reads its rank-r maps (f32 at run time) for every skipped FFN: those bytes count against its bound
        // two profiles of one method and target (e.g. ffn-sparse by neurons and by groups of 4) get their file names
        const same = PROFILES.filter(
          (q) => q.pct === p.pct && readSkipProfile(q.path, engine.config.nLayers).config.method === skip.method,
        );
        const name = `${skip.method} ${p.pct}%${same.length > 1 ? ` (${basename(p.path, ".json")})` : ""}`;
        return { name, skip: skip as never, mapPerSkip: bytesPerSkip(skip) };
      }),
    ];
    const res = new Map<string, BenchResult[]>(configs.map((c) => [c.name, []]));
    for (let r = 0; r < rounds; r++)
      for (const c of configs) res.get(c.name)!.push(benchmark(engine, { promptTokens, genTokens, skip: c.skip }));
    const dense = median(res.get("dense")!.map((x) => x.decode_tok_per_s));
    const total = engine.weightBytes.total;
    for (const c of configs) {
      const rs = res.get(c.name)!;
      const tps = median(rs.map((x) => x.decode_tok_per_s));
      const st = rs[0].skip;
      const bound = total / (rs[0].weight_bytes_per_token + (c.mapPerSkip * st.skipped_ffn) / genTokens);
      skipRows.push(
        `| ${threads} | ${c.name} | ${(st.ratio * 100).toFixed(1)}% | ${tps.toFixed(1)} | ${(tps / dense).toFixed(3)}× | ${bound.toFixed(3)}× | ${c.name === "dense" ? "—" : (((tps / dense - 1) / (bound - 1)) * 100).toFixed(0) + "%"} |`,
      );
      skipJson.push({ threads, config: c.name, ratio: st.ratio, decode_tok_per_s: tps, speedup: tps / dense, bound });
    }
  }
  await engine.dispose();
}
if (PROFILES.length > 0)
  md.push(
    "",
    `## FFN skipping: decode speed against dense`,
    "",
    "Achieved ratio on the benchmark's greedy decode; the bound is total weight bytes ÷ bytes read with the skipped FFNs left out (and, for ffn-skip-linear, its stand-in maps added back for every skipped FFN); 'of bound' = (speed-up − 1) ÷ (bound − 1).",
    "",
    `| threads | config | FFN skip ratio | decode tok/s | speed-up | bound | of bound |`,
    `|---|---|---|---|---|---|---|`,
    ...skipRows,
  );
json.speed = speed;
json.skip = skipJson;
const out = v.out ?? "results/bench/compare";
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out + ".md", md.join("\n") + "\n");
writeFileSync(out + ".json", JSON.stringify(json, null, 2) + "\n");
process.stdout.write(md.join("\n") + "\n");
