/**
 * ffnskip's speed under several Node.js binaries and kernel builds, side by
 * side: each configuration runs `ffnskip bench --json` in its own child
 * process (fresh load), configurations alternating round by round so that a
 * change in the machine's load touches them all; medians of the rounds, and
 * each configuration's ratio to the first. It says what the dot-add kernel
 * build (kernels-dotadd.wasm, taken by auto on Node >= 22 with a native
 * dot-add) brings, apart from what the newer V8 brings by itself.
 *
 * Run: npm run build && node dist/bench/runtimes.js --model FILE[,FILE...] [--threads 1,2] [--rounds 3]
 *        [--prompt-tokens 8] [--gen-tokens 64] [--configs 'node20=node;node24=/path/to/node;node24-relaxed=/path/to/node@relaxed']
 *   A config is NAME=NODE_BINARY[@KERNELS][+VAR=VALUE...] (KERNELS: FFNSKIP_KERNELS for it, default auto;
 *   each +VAR=VALUE another environment variable for its children, e.g. +FFNSKIP_POOL_BACKOFF=20).
 *   Default configs: this Node, and the Node of scripts/install-node.sh with auto and with relaxed kernels.
 *   --cpus 1: run every child under `taskset -c 1` (this machine's two vCPUs differ in speed by up to 1.5x
 *   from moment to moment, so an unpinned one-thread run measures partly where the scheduler put it).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { repoFile } from "../test/helpers/fixtures.js";
import { median } from "./median.js";

const { values: opts } = parseArgs({
  options: {
    model: { type: "string", default: join(homedir(), ".cache", "ffnskip", "models", "SmolLM2-135M-Instruct.Q4_1.gguf") },
    threads: { type: "string", default: "1,2" },
    rounds: { type: "string", default: "3" },
    "prompt-tokens": { type: "string", default: "8" },
    "gen-tokens": { type: "string", default: "64" },
    configs: { type: "string" },
    cpus: { type: "string" },
  },
});

interface Config {
  name: string;
  node: string;
  kernels: string;
  env: Record<string, string>;
}

const second = join(process.env.FFNSKIP_HOME ?? join(homedir(), ".cache", "ffnskip"), "node", "bin", "node");
const configs: Config[] = (opts.configs ?? `this=${process.execPath};second=${second};second-relaxed=${second}@relaxed`)
  .split(";")
  .map((c) => {
    const eq = c.indexOf("=");
    const [name, rest] = [c.slice(0, eq), c.slice(eq + 1)];
    const [head, ...vars] = rest.split("+");
    const [node, kernels = "auto"] = head.split("@");
    if (eq < 1 || !node) throw new Error(`--configs: '${c}' is not NAME=NODE[@KERNELS][+VAR=VALUE...]`);
    if (!existsSync(node)) throw new Error(`--configs: ${node} (config ${name}) does not exist`);
    const env = Object.fromEntries(vars.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    return { name, node, kernels, env };
  });

const cli = repoFile("bin/ffnskip.js");

interface Run {
  prompt: number;
  decode: number;
  backend: string;
  version: string;
}

function benchOnce(c: Config, model: string, threads: number): Run {
  const args = [cli, "bench", "--model", model, "--threads", String(threads), "--prompt-tokens", opts["prompt-tokens"]!];
  args.push("--gen-tokens", opts["gen-tokens"]!, "--repeat", "1", "--json");
  const [cmd, argv] = opts.cpus ? ["taskset", ["-c", opts.cpus, c.node, ...args]] : [c.node, args];
  const p = spawnSync(cmd, argv, { encoding: "utf8", env: { ...process.env, FFNSKIP_KERNELS: c.kernels, ...c.env }, maxBuffer: 1 << 24 });
  if (p.status !== 0) throw new Error(`${c.name}: ffnskip bench failed (${p.status}): ${p.stderr.slice(-2000)}`);
  const j = JSON.parse(p.stdout);
  const v = spawnSync(c.node, ["--version"], { encoding: "utf8" }).stdout.trim();
  return { prompt: j.prompt_tok_per_s, decode: j.decode_tok_per_s, backend: j.backend, version: v };
}

const started = new Date().toISOString();
const lines: string[] = [];
lines.push(`Command: \`node dist/bench/runtimes.js ${process.argv.slice(2).join(" ")}\` (${started}).`);
lines.push("");
lines.push("| model | threads | config | Node | kernels | prompt tok/s | ratio | decode tok/s | ratio |");
lines.push("|---|---|---|---|---|---|---|---|---|");
for (const model of opts.model.split(",")) {
  for (const threads of opts.threads.split(",").map(Number)) {
    const runs = new Map<string, Run[]>(configs.map((c) => [c.name, []]));
    for (let r = 0; r < Number(opts.rounds); r++) {
      for (const c of r % 2 ? [...configs].reverse() : configs) runs.get(c.name)!.push(benchOnce(c, model, threads));
    }
    const base = runs.get(configs[0].name)!;
    const [bp, bd] = [median(base.map((x) => x.prompt)), median(base.map((x) => x.decode))];
    for (const c of configs) {
      const rs = runs.get(c.name)!;
      const [p, d] = [median(rs.map((x) => x.prompt)), median(rs.map((x) => x.decode))];
      const file = model.split("/").pop();
      lines.push(
        `| ${file} | ${threads} | ${c.name} | ${rs[0].version} | ${rs[0].backend} | ${p.toFixed(1)} | ${(p / bp).toFixed(2)}× | ${d.toFixed(2)} | ${(d / bd).toFixed(2)}× |`,
      );
    }
    console.error(lines.slice(-configs.length).join("\n"));
  }
}
console.log(lines.join("\n"));
