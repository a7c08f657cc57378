/**
 * What the first write to fresh memory costs on this machine, with and without the huge-page advice that every
 * SharedHeap gives its wasm memory (src/kernels/hugepages.ts): loading a model is a first touch of file-sized memory,
 * so this bounds how fast any engine can fill it. Each run is its own child process (fresh memory), the two settings
 * alternating, and each child also touches its memory a second time (mapped pages: the copy alone).
 *
 *   npm run build && node dist/bench/first-touch.js [--gib 3.6] [--rounds 5] [--threads 1]
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { SharedHeap, PAGE } from "../src/kernels/heap.js";
import { anonHugeBytes } from "../src/kernels/hugepages.js";

const { values: v } = parseArgs({
  options: { gib: { type: "string" }, rounds: { type: "string" }, threads: { type: "string" }, child: { type: "boolean" } },
});
const gib = Number(v.gib ?? 3.6),
  rounds = Number(v.rounds ?? 5),
  threads = Number(v.threads ?? 1);

/** Write one byte per 4 KiB page of [from, to) of buf. */
const TOUCH = `const { workerData: d } = require("node:worker_threads");
const u8 = new Uint8Array(d.buf); for (let i = d.from; i < d.to; i += 4096) u8[i] = d.value;
Atomics.store(d.flag, 0, 1); Atomics.notify(d.flag, 0);`;

/** Touch every page of buf with `value`, split over `threads` threads (this one included); ms. */
function touch(buf: SharedArrayBuffer, value: number): number {
  const t0 = performance.now();
  const part = Math.ceil(buf.byteLength / threads / 4096) * 4096;
  const flags = Array.from({ length: threads - 1 }, () => new Int32Array(new SharedArrayBuffer(4)));
  const workers = flags.map(
    (flag, i) =>
      new Worker(TOUCH, {
        eval: true,
        workerData: { buf, from: (i + 1) * part, to: Math.min(buf.byteLength, (i + 2) * part), value, flag },
      }),
  );
  const u8 = new Uint8Array(buf);
  for (let i = 0; i < Math.min(part, buf.byteLength); i += 4096) u8[i] = value;
  for (const f of flags) Atomics.wait(f, 0, 0);
  const ms = performance.now() - t0;
  for (const w of workers) void w.terminate();
  return ms;
}

if (v.child) {
  const heap = new SharedHeap();
  heap.alloc(Math.floor((gib * 2 ** 30) / PAGE) * PAGE - 2 * PAGE);
  const buf = heap.memory.buffer as unknown as SharedArrayBuffer;
  const first = touch(buf, 1);
  const huge = anonHugeBytes();
  const second = touch(buf, 2);
  process.stdout.write(`${JSON.stringify({ advice: heap.hugePages, first, second, huge, bytes: buf.byteLength })}\n`);
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
const runs: Record<string, { first: number; second: number; huge: number; bytes: number }[]> = { on: [], off: [] };
for (let r = 0; r < rounds; r++) {
  for (const mode of ["on", "off"] as const) {
    const env = { ...process.env, FFNSKIP_HUGEPAGES: mode === "on" ? "1" : "0" };
    const out = execFileSync(process.execPath, [self, "--child", "--gib", String(gib), "--threads", String(threads)], {
      env,
      encoding: "utf8",
    });
    const res = JSON.parse(out.trim().split("\n").pop()!);
    runs[mode].push(res);
    console.error(`round ${r + 1} advice ${res.advice}: first touch ${res.first.toFixed(0)} ms, second ${res.second.toFixed(0)} ms`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gb = (b: number) => (b / 1e9).toFixed(2);
console.log(`# First touch of fresh wasm memory, ${threads} thread(s), ${rounds} alternating rounds\n`);
console.log(
  `Command: \`node dist/bench/first-touch.js --gib ${gib} --rounds ${rounds} --threads ${threads}\` (${new Date().toISOString()}).\n`,
);
console.log("| huge-page advice | bytes | first touch ms: median (all rounds) | GB/s | second touch ms (median) | in huge pages |");
console.log("|---|---|---|---|---|---|");
for (const mode of ["on", "off"] as const) {
  const rs = runs[mode];
  const f = median(rs.map((x) => x.first));
  console.log(
    `| ${mode} | ${gb(rs[0].bytes)} GB | ${f.toFixed(0)} (${rs.map((x) => x.first.toFixed(0)).join(", ")}) | ${gb(rs[0].bytes / (f / 1000))} | ${median(rs.map((x) => x.second)).toFixed(0)} | ${gb(median(rs.map((x) => x.huge)))} GB |`,
  );
}
