/**
 * Decode speed of skip profiles against dense in one process: every round
 * runs dense and then each profile (the same prompt and token count,
 * src/api/bench.ts benchmark), and a profile's speed-up is the median over
 * rounds of its tok/s ÷ that round's dense tok/s. Per-round ratios follow
 * a shared machine's drift better than ratios of medians (compare.ts), which is
 * what this machine's ±25% swings between runs need. Beside each, the byte
 * bound (decode weight bytes ÷ the bytes the profile reads per token, an
 * ffn-skip-linear stand-in's maps counted) and the share of the bound's gain
 * the profile got, with a distribution-free CI of the median per-round ratio
 * (order statistics, src/eval/stats.ts medianInterval: with 6–8 rounds only
 * the whole range reaches 95%); a bandwidth probe runs before and after. With --out,
 * writes a markdown table there with the command.
 *
 * --interleave: within a round the configs decode side by side, token by token
 * in turn, each in its own KV cache slot (src/api/bench.ts benchmarkInterleaved),
 * so drift lasting more than a few milliseconds cancels out of each round's ratio.
 * In session 25 it agreed with sequential rounds within their noise, with 5–20×
 * narrower intervals (results/method/compact-loops/speed-s25/README.md).
 * --block N: N tokens per turn instead of 1.
 *
 *   npm run build && [taskset -c 1] node dist/bench/skip-ab.js --profiles A.json,B.json [--model M] [--threads 1]
 *     [--rounds 15] [--prompt-tokens 32] [--gen-tokens 128] [--interleave [--block N]] [--out results/method/x.md]
 */
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { type BenchResult, benchmark, benchmarkInterleaved } from "../src/api/bench.js";
import { probeBandwidth } from "../src/kernels/probe.js";
import { bytesPerSkip } from "../src/skip/linear.js";
import { readSkipProfile } from "../src/skip/skip-profile.js";
import type { SkipConfig } from "../src/skip/config.js";
import { medianInterval } from "../src/eval/stats.js";
import { median } from "./median.js";

const { values: v } = parseArgs({
  options: {
    profiles: { type: "string" },
    model: { type: "string" },
    threads: { type: "string", default: "1" },
    rounds: { type: "string", default: "15" },
    "prompt-tokens": { type: "string", default: "32" },
    "gen-tokens": { type: "string", default: "128" },
    interleave: { type: "boolean", default: false },
    block: { type: "string", default: "1" },
    out: { type: "string" },
  },
});
if (!v.profiles) throw new Error("skip-ab: --profiles A.json[,B.json...] is required");
const rounds = Number(v.rounds),
  promptTokens = Number(v["prompt-tokens"]),
  genTokens = Number(v["gen-tokens"]);
const bw0 = probeBandwidth().gbps;
const nProfiles = v.profiles.split(",").length;
const engine = await loadModel(v.model, {
  threads: Number(v.threads),
  ctx: promptTokens + genTokens + 8,
  parallel: v.interleave ? nProfiles + 1 : 1,
});
const configs: { name: string; skip: SkipConfig | undefined }[] = [
  { name: "dense", skip: undefined },
  ...v.profiles.split(",").map((p) => ({ name: basename(p, ".json"), skip: readSkipProfile(p, engine.config.nLayers).config })),
];
for (const c of configs) benchmark(engine, { promptTokens, genTokens, skip: c.skip }); // warm-up; builds what a method builds on first use
const tps = configs.map(() => [] as number[]);
const ratio = configs.map(() => 0);
const bytesRead = configs.map(() => 0);
const round = (): BenchResult[] =>
  v.interleave
    ? benchmarkInterleaved(engine, { promptTokens, genTokens, skips: configs.map((c) => c.skip), block: Number(v.block) })
    : configs.map((c) => benchmark(engine, { promptTokens, genTokens, skip: c.skip }));
for (let r = 0; r < rounds; r++)
  round().forEach((b, i) => {
    const c = configs[i];
    tps[i].push(b.decode_tok_per_s);
    ratio[i] = b.skip.ratio;
    // a stand-in's maps are read for every skipped FFN: they count against the bound
    bytesRead[i] = b.weight_bytes_per_token + (c.skip ? (b.skip.skipped_ffn / genTokens) * bytesPerSkip(c.skip) : 0);
  });
const total = engine.weightBytes.total;
await engine.dispose();
const bw1 = probeBandwidth().gbps;

const command = `node dist/bench/skip-ab.js ${process.argv.slice(2).join(" ")}`;
const rows = configs.map((c, i) => {
  const ratios = tps[i].map((t, r) => t / tps[0][r]);
  const perRound = median(ratios);
  const bound = total / bytesRead[i];
  const shareOf = (x: number) => `${((100 * (x - 1)) / (bound - 1)).toFixed(0)}%`;
  const ci = medianInterval(ratios);
  const ratioCi = i === 0 ? "–" : `${ci.lo.toFixed(3)}–${ci.hi.toFixed(3)}×`;
  // a config that saves no bytes (dense run as a profile: the A/A check) has no gain to share
  const share = bound - 1 < 1e-9 ? "– | –" : `${shareOf(perRound)} | ${shareOf(ci.lo)} to ${shareOf(ci.hi)}`;
  return `| ${c.name} | ${(100 * ratio[i]).toFixed(1)}% | ${median(tps[i]).toFixed(1)} | ${perRound.toFixed(3)}× | ${ratioCi} | ${Math.min(...tps[i]).toFixed(1)}–${Math.max(...tps[i]).toFixed(1)} | ×${bound.toFixed(3)} | ${share} |`;
});
const md = [
  `# Decode speed against dense, one process: ${basename(engine.path)}`,
  "",
  `Command: \`npm run build && ${command}\` (${new Date().toISOString().slice(0, 16)}Z; Node ${process.version}, kernels ${engine.model.kernels.name}, ${v.threads} thread(s)). ${rounds} rounds of ${v.interleave ? `dense and each profile decoding side by side, ${v.block === "1" ? "token by token" : `${v.block} tokens per turn`} in turn (--interleave)` : "dense then each profile"}, ${promptTokens}-token prompt, ${genTokens} decoded tokens each. Bandwidth probe (one core, wasm): ${bw0.toFixed(1)} GB/s before, ${bw1.toFixed(1)} GB/s after.`,
  "",
  `| config | FFN skip ratio | median decode tok/s | median of per-round tok/s ÷ dense | its CI (${(100 * medianInterval(tps[0]).coverage).toFixed(1)}%) | range tok/s | byte bound | share of the bound's gain | its CI |`,
  "|---|---|---|---|---|---|---|---|---|",
  ...rows,
  "",
].join("\n");
if (v.out) writeFileSync(v.out, md);
process.stdout.write(md);
