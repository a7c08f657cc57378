// Matvec (decode) and matmul (prompt) throughput of the wasm kernels per
// weight type, against the memory-bandwidth probe.
// Run: npm run build && node dist/bench/kernels.js [--threads 1,2] [--types Q4_K,Q6_K] [--cases Q4_0:11008x4096,...] [--prompt 64] [--stream-mib 64] [--subnormal-scales]
//   the matmul (prompt) figures are also shown as a share of the int8 instruction bound of the same run (probe.ts peakInt8Macs)
//   --subnormal-scales: K-quant super-block scales as subnormal halves, as real Q6_K files have them
//   streaming: --stream-mib (64) MiB of copies of the matrix, read in turn (as a forward pass reads weights);
//   hot: one matrix repeated (in L2/L3), the kernel's compute bound; the matmul is timed both ways too.
//   This guest reports a 480 MiB L3: --stream-mib 1024 or more reads from DRAM, as a 7B model's decode does.
import { parseArgs } from "node:util";
import { GGMLType, typeInfo } from "../src/quant/types.js";
import { WasmKernels } from "../src/kernels/wasm.js";
import { peakInt8Macs, probeBandwidth } from "../src/kernels/probe.js";
import { K_SCALE_OFFSETS, randomActivations, randomMatrix, rng, subnormalScales } from "../test/helpers/kernel-testdata.js";
import type { WeightMatrix } from "../src/kernels/types.js";

const { values: opts } = parseArgs({
  options: {
    threads: { type: "string", default: "1,2" },
    types: { type: "string", default: "" },
    prompt: { type: "string", default: "64" },
    "subnormal-scales": { type: "boolean", default: false },
    "stream-mib": { type: "string", default: "64" },
    cases: { type: "string", default: "" },
  },
});
const threadList = opts.threads.split(",").map(Number);
const want = new Set(opts.types ? opts.types.split(",") : []);
const nPrompt = Number(opts.prompt);

const probe = probeBandwidth(256, 3);
console.log(`probe: wasm SIMD sum over ${probe.bytes / 2 ** 20} MiB: ${probe.gbps.toFixed(1)} GB/s (1 core)`);
// the int8 kernels' instruction bound: a matmul's GMAC/s below is shown as a share of it (per thread)
const peak = peakInt8Macs();
console.log(
  `instruction bound: ${peak.relaxed ? "i16x8.relaxed_dot_i8x16_i7x16_s" : "i32x4.dot_i16x8_s"} + add on L1 data, ${peak.gmacs.toFixed(1)} GMAC/s (1 core)`,
);

// [type, rows, cols]: shapes of SmolLM2-135M (576/1536), Gemma 3 270M (640/2048/1024) and a 1B (2048/5632)
const cases: [GGMLType, number, number][] = [
  [GGMLType.Q4_0, 5632, 2048],
  [GGMLType.Q4_1, 1536, 576],
  [GGMLType.Q5_0, 2048, 640],
  [GGMLType.Q5_1, 2048, 640],
  [GGMLType.Q8_0, 2048, 640],
  [GGMLType.Q4_K, 640, 1024],
  [GGMLType.Q4_K, 2048, 2048],
  [GGMLType.Q5_K, 2048, 2048],
  [GGMLType.Q6_K, 640, 2048],
  [GGMLType.F16, 640, 640],
  [GGMLType.BF16, 640, 640],
].filter(([t]) => want.size === 0 || want.has(typeInfo(t).name)) as [GGMLType, number, number][];
// --cases Q4_0:11008x4096,Q4_K:4096x4096 replaces the list (e.g. a 7B model's shapes)
if (opts.cases) {
  cases.length = 0;
  for (const c of opts.cases.split(",")) {
    const m = /^(\w+):(\d+)x(\d+)$/.exec(c);
    const type = m ? GGMLType[m[1] as keyof typeof GGMLType] : undefined;
    if (!m || type === undefined) throw new Error(`--cases: '${c}' is not TYPE:ROWSxCOLS (e.g. Q4_0:11008x4096)`);
    cases.push([type, Number(m[2]), Number(m[3])]);
  }
}

/** Best seconds per call of f over 5 rounds of `reps` calls. */
function time(reps: number, f: () => void): number {
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) f();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9 / reps);
  }
  return best;
}

for (const threads of threadList) {
  const rand = rng(1);
  for (const [type, rows, cols] of cases) {
    // a fresh heap per case: the copies of one case can fill most of the 4 GiB the heap never gives back
    const k = await WasmKernels.create(threads);
    const copies = Math.max(
      1,
      Math.ceil((Number(opts["stream-mib"]) * 2 ** 20) / ((rows * typeInfo(type).typeSize * cols) / typeInfo(type).blockSize)),
    );
    const ws: WeightMatrix[] = Array.from({ length: copies }, () => randomMatrix(k.heap, type, rows, cols, rand));
    if (opts["subnormal-scales"] && K_SCALE_OFFSETS[type]) for (const w of ws) subnormalScales(k.heap.u8(w.ptr, rows * w.rowBytes), type);
    for (const w of ws) k.prepare(w);
    const x = randomActivations(k.heap, nPrompt * cols, rand);
    const out = k.heap.alloc(nPrompt * rows * 4);
    const bytes = ws[0].rowBytes * rows;
    let i = 0;
    const stream = time(Math.max(20, copies), () => k.matvec(ws[i++ % copies], x, out));
    const hot = time(200, () => k.matvec(ws[0], x, out));
    const mm = time(3, () => k.matmul(ws[0], x, out, nPrompt));
    let j = 0;
    const mmStream = time(Math.max(3, copies), () => k.matmul(ws[j++ % copies], x, out, nPrompt));
    const subnormal = opts["subnormal-scales"] && K_SCALE_OFFSETS[type] ? " subnormal scales" : "";
    const name = `${typeInfo(type).name} ${rows}x${cols}${ws[0].packed ? " packed" : ""}${subnormal}`;
    console.log(
      `${threads}t ${k.name} ${name}: streaming ${(bytes / stream / 1e9).toFixed(1)} GB/s (${(stream * 1e6).toFixed(0)} us), ` +
        `hot ${(bytes / hot / 1e9).toFixed(1)} GB/s, matmul ${nPrompt} tokens ${(mm * 1e3).toFixed(2)} ms ` +
        `(${((rows * cols * nPrompt) / mm / 1e9).toFixed(1)} GMAC/s, ${((100 * (rows * cols * nPrompt)) / mm / 1e9 / (peak.gmacs * threads)).toFixed(0)}% of ${threads} × the bound; ` +
        `streaming ${((rows * cols * nPrompt) / mmStream / 1e9).toFixed(1)} GMAC/s)`,
    );
    await k.dispose();
  }
}
