import { test, after } from "node:test";
import assert from "node:assert/strict";
import { GGMLType, typeInfo } from "../quant/types.js";
import { dequantizeRow } from "../quant/dequant.js";
import { ReferenceKernels } from "./reference.js";
import { WasmKernels } from "./wasm.js";
import { randomActivations, randomMatrix, rng, subnormalScales } from "../../test/helpers/kernel-testdata.js";
import type { WeightMatrix } from "./types.js";
import { dataSegments, instantiateKernels, kernelModule, kernelWasmPath, runsBuild, type KernelVariant } from "./wasm-module.js";
import { RESERVED_BYTES, SharedHeap } from "./heap.js";
import { readFileSync } from "node:fs";
import { attention, geglu, swiglu } from "./ops.js";
import { f16ToF32, f32ToF16 } from "../quant/f16.js";

const TYPES = [
  GGMLType.Q4_0,
  GGMLType.Q4_1,
  GGMLType.Q5_0,
  GGMLType.Q5_1,
  GGMLType.Q8_0,
  GGMLType.Q4_K,
  GGMLType.Q5_K,
  GGMLType.Q6_K,
  GGMLType.F16,
  GGMLType.BF16,
  GGMLType.F32,
];
const FLOAT = new Set([GGMLType.F32, GGMLType.F16, GGMLType.BF16]);
const EPS = 2 ** -24;

/** The K-quants, whose kernels read the AK activation (one scale per 256 values, assembly/act.ts quantizeActK). */
const K_TYPES = new Set([GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]);

/**
 * Error bound of the wasm result for row r, token t.
 *
 * A16 (every block-quantized type but the K-quants): the activation is
 * quantized per 32-block like llama.cpp does (scale d = amax/127 stored as
 * f16, q = round(x/d)), so each x_j is off by at most d/2 plus 127 times the
 * f16 rounding of d (relative 2^-11), and the block sum d*sum(q) that the
 * weights' offset/min multiplies is rounded to f16 too (the offset is at most
 * max|w| plus twice the block's weight range away from zero).
 *
 * AK (the K-quants, like llama.cpp's Q8_K): one f32 scale d = amax/127 per
 * 256 values, so each x_j is off by at most d/2 (plus f32 roundings of d and
 * 127/amax); the mins and offsets multiply exact integer sums, and the
 * float steps per super-block round terms as large as the offset times
 * sum |x| (a few f32 roundings: 2^-20).
 *
 * On top, f32 accumulation: bounded by cols * eps * sum |W_j x_j| (loose worst case).
 */
function bound(w: Float32Array, x: Float32Array, act: "none" | "a16" | "ak"): number {
  let q = 0,
    mag = 0;
  const blk = act === "ak" ? 256 : 32;
  for (let b = 0; b < x.length; b += blk) {
    const e = Math.min(b + blk, x.length);
    let amax = 0;
    for (let j = b; j < e; j++) amax = Math.max(amax, Math.abs(x[j]));
    const d = amax / 127;
    for (let j = b; j < e; j++) {
      if (act === "a16") q += Math.abs(w[j]) * d * (0.5 + 127 * 2 ** -11);
      if (act === "ak") q += Math.abs(w[j]) * d * (0.5 + 2 ** -20);
      mag += Math.abs(w[j] * x[j]);
    }
  }
  for (let b = 0; b < x.length; b += 32) {
    let wmax = -Infinity,
      wmin = Infinity,
      sx = 0,
      ax = 0,
      amax = 0;
    for (let j = b; j < Math.min(b + 32, x.length); j++) {
      wmax = Math.max(wmax, w[j]);
      wmin = Math.min(wmin, w[j]);
      sx += x[j];
      ax += Math.abs(x[j]);
      amax = Math.max(amax, Math.abs(x[j]));
    }
    const offset = Math.max(Math.abs(wmax), Math.abs(wmin)) + 2 * (wmax - wmin);
    if (act === "a16") q += offset * (Math.abs(sx) + (32 * amax) / 127) * 2 ** -10;
    if (act === "ak") q += offset * ax * 2 ** -20;
  }
  return q * 1.001 + mag * x.length * EPS + 1e-30;
}

function checkAgainstReference(wasm: WasmKernels, w: WeightMatrix, x: number, got: Float32Array, n: number, what: string): void {
  const ref = new ReferenceKernels(wasm.heap);
  const refOut = wasm.heap.alloc(n * w.rows * 4);
  ref.matmul(w, x, refOut, n);
  const want = wasm.heap.f32(refOut, n * w.rows);
  const row = new Float32Array(w.cols);
  for (let r = 0; r < w.rows; r++) {
    dequantizeRow(w.type, wasm.heap.viewsU8(), w.ptr + r * w.rowBytes, row, 0, w.cols);
    for (let t = 0; t < n; t++) {
      const xs = wasm.heap.f32(x + t * w.cols * 4, w.cols);
      const tol = bound(row, xs, FLOAT.has(w.type) ? "none" : K_TYPES.has(w.type) ? "ak" : "a16");
      const i = t * w.rows + r;
      assert.ok(
        Math.abs(got[i] - want[i]) <= tol,
        `${what}: row ${r} token ${t}: wasm ${got[i]} vs reference ${want[i]} (|diff| ${Math.abs(got[i] - want[i])} > bound ${tol})`,
      );
    }
  }
}

const kernels = new Map<string, WasmKernels>();
async function kernelsFor(threads: number, variant: KernelVariant = "auto"): Promise<WasmKernels> {
  const key = `${threads}/${variant}`;
  let k = kernels.get(key);
  if (!k) {
    k = await WasmKernels.create(threads, undefined, variant);
    kernels.set(key, k);
  }
  return k;
}
after(async () => {
  for (const k of kernels.values()) await k.dispose();
});

/**
 * The relaxed builds this runtime runs: the dot-add build only where its
 * dot-add is exact here (V8 >= 12; Node 20's V8 gets it wrong, and
 * src/kernels/dotadd.test.ts then runs this file under a second Node).
 */
const RELAXED: readonly ("relaxed" | "dotadd")[] = runsBuild("dotadd") ? ["relaxed", "dotadd"] : ["relaxed"];

function randomCols(type: GGMLType, rand: () => number): number {
  const bs = typeInfo(type).blockSize;
  if (bs === 1) return 1 + Math.floor(rand() * 90); // float rows: any width, incl. not multiples of 4/8
  if (bs === 256) return 256 * (1 + Math.floor(rand() * 3));
  return 32 * (1 + Math.floor(rand() * 12));
}

// A decode or small-batch product over more than two windows of bytes (assembly/matmul.ts DECODE_WINDOW_BYTES,
// 512 KiB) is cut into windows. Every decoded row must come out as the small-batch path computes it for the same
// token (bit for bit), rows past the last whole group of 32 included, and the small batch must match the reference.
for (const threads of [1, 2]) {
  test(`wasm matvec over several decode windows is bit-identical to the batch path, ${threads} thread(s)`, async () => {
    const k = await kernelsFor(threads);
    const rand = rng(91 + threads);
    for (const [type, rows, cols] of [
      [GGMLType.Q4_0, 2003, 1024],
      [GGMLType.Q4_0, 512, 8192], // one thread: windows of 128 rows would start the streams 72 KiB apart, so 96 (unaliased)
      [GGMLType.Q4_1, 1900, 1024],
      [GGMLType.Q8_0, 1500, 1024],
      [GGMLType.Q4_K, 2030, 1024],
      [GGMLType.Q6_K, 1300, 1024],
    ] as const) {
      const plain = randomMatrix(k.heap, type, rows, cols, rng(rows));
      const w = randomMatrix(k.heap, type, rows, cols, rng(rows)); // the same values, packed
      k.prepare(w);
      assert.ok(w.rowBytes * rows > 1 << 20, `${typeInfo(type).name}: the matrix must be cut into windows`);
      const x = randomActivations(k.heap, cols, rand);
      const x2 = k.heap.alloc(2 * cols * 4);
      k.heap.f32(x2, 2 * cols).set(k.heap.f32(x, cols));
      k.heap.f32(x2 + cols * 4, cols).set(k.heap.f32(x, cols));
      const out = k.heap.alloc(rows * 4);
      const out2 = k.heap.alloc(2 * rows * 4);
      k.heap.f32(out, rows).fill(Number.NaN);
      k.matvec(w, x, out);
      k.matmul(w, x2, out2, 2);
      const got = k.heap.f32(out, rows),
        want = k.heap.f32(out2, rows);
      for (let r = 0; r < rows; r++)
        assert.ok(Object.is(got[r], want[r]), `${typeInfo(type).name} ${rows}x${cols} row ${r}: decode ${got[r]} vs batch ${want[r]}`);
      // the small batch goes window by window too (one split of its activations for all windows)
      checkAgainstReference(k, plain, x2, k.heap.f32(out2, 2 * rows), 2, `${typeInfo(type).name} ${rows}x${cols} n=2`);
    }
  });
}

for (const threads of [1, 2]) {
  for (const type of TYPES) {
    const name = typeInfo(type).name;
    test(`wasm matvec and matmul (n=1..7) match the reference: ${name}, ${threads} thread(s)`, async () => {
      const k = await kernelsFor(threads);
      const rand = rng(type * 100 + threads);
      for (let trial = 0; trial < 3; trial++) {
        const rows = 1 + Math.floor(rand() * 37);
        const cols = randomCols(type, rand);
        const w = randomMatrix(k.heap, type, rows, cols, rand);
        const n = trial === 0 ? 1 : 1 + Math.floor(rand() * 7);
        const x = randomActivations(k.heap, n * cols, rand);
        const out = k.heap.alloc(n * rows * 4);
        if (n === 1) k.matvec(w, x, out);
        else k.matmul(w, x, out, n);
        checkAgainstReference(k, w, x, k.heap.f32(out, n * rows), n, `${name} ${rows}x${cols} n=${n}`);
      }
      for (let n = 1; n <= 7; n++) {
        const w = randomMatrix(k.heap, type, 5 + n, randomCols(type, rand), rand);
        const x = randomActivations(k.heap, n * w.cols, rand);
        const out = k.heap.alloc(n * w.rows * 4);
        k.matmul(w, x, out, n);
        checkAgainstReference(k, w, x, k.heap.f32(out, n * w.rows), n, `${name} matmul n=${n}`);
      }
    });
  }

  test(`wasm matvecMulti over mixed types matches separate products, ${threads} thread(s)`, async () => {
    const k = await kernelsFor(threads);
    const rand = rng(77 + threads);
    const cols = 512;
    const ws = [GGMLType.Q4_1, GGMLType.Q6_K, GGMLType.F32, GGMLType.Q8_0].map((t, i) => randomMatrix(k.heap, t, 9 + 4 * i, cols, rand));
    const x = randomActivations(k.heap, cols, rand);
    const outs = ws.map((w) => k.heap.alloc(w.rows * 4));
    k.matvecMulti(ws, x, outs);
    ws.forEach((w, i) => checkAgainstReference(k, w, x, k.heap.f32(outs[i], w.rows), 1, `multi #${i}`));
  });

  test(`wasm matvecMulti of a batch (packed matrices sharing one split input) is bit-identical to one matmul each, ${threads} thread(s)`, async () => {
    const k = await kernelsFor(threads);
    const rand = rng(99 + threads);
    const [cols, n] = [256, 6];
    const ws = [GGMLType.Q4_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q8_0, GGMLType.Q4_0].map((t, i) =>
      randomMatrix(k.heap, t, 12 + 4 * i, cols, rand),
    );
    for (const w of ws) k.prepare(w);
    const x = randomActivations(k.heap, cols * n, rand);
    const outs = ws.map((w) => k.heap.alloc(w.rows * n * 4));
    k.matvecMulti(ws, x, outs, n);
    ws.forEach((w, i) => {
      const one = k.heap.alloc(w.rows * n * 4);
      k.matmul(w, x, one, n);
      assert.deepEqual(k.heap.f32(outs[i], w.rows * n), k.heap.f32(one, w.rows * n), `multi #${i} (${typeInfo(w.type).name})`);
    });
  });
}

/** Types Kernels.prepare repacks (assembly/packed.ts packable). */
const PACKED_TYPES = [GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q8_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K];

/** A `type` matrix and a byte-identical copy, so one can be packed and the other kept for the reference. */
function matrixPair(k: WasmKernels, type: GGMLType, rows: number, cols: number, rand: () => number): [WeightMatrix, WeightMatrix] {
  const w = randomMatrix(k.heap, type, rows, cols, rand);
  const ptr = k.heap.alloc(rows * w.rowBytes);
  k.heap.u8(ptr, rows * w.rowBytes).set(k.heap.u8(w.ptr, rows * w.rowBytes));
  return [w, { ...w, ptr }];
}

for (const [threads, variant] of [
  [1, "baseline"],
  [2, "baseline"],
  ...RELAXED.flatMap((v) => [[1, v] as const, [2, v] as const]),
] as const) {
  for (const type of PACKED_TYPES) {
    const name = typeInfo(type).name;
    test(`packed ${name} (prepare): matvec, matmul, matvecMulti and getRow match the plain layout, ${threads} thread(s), ${variant} kernels`, async () => {
      const k = await kernelsFor(threads, variant);
      const rand = rng(type * 7 + threads);
      // row counts around multiples of 4 (the packed group) and of the thread split
      for (const rows of [4, 5, 7, 8, 13, 36, 66, 101]) {
        const bs = typeInfo(type).blockSize;
        const cols = bs * (1 + Math.floor(rand() * (bs === 256 ? 3 : 20)));
        const [w, plain] = matrixPair(k, type, rows, cols, rand);
        k.prepare(w);
        assert.equal(w.packed, true);
        k.prepare(w); // idempotent
        assert.notDeepEqual(k.heap.u8(w.ptr, 4 * w.rowBytes), k.heap.u8(plain.ptr, 4 * w.rowBytes), "bytes were rearranged");
        const n = 1 + (rows % 5);
        const x = randomActivations(k.heap, n * cols, rand);
        const out = k.heap.alloc(n * rows * 4);
        k.matmul(w, x, out, n);
        checkAgainstReference(k, plain, x, k.heap.f32(out, n * rows), n, `packed ${name} ${rows}x${cols} n=${n}`);
        // a batch gives exactly what one matvec per token gives (prompt == decode)
        const one = k.heap.alloc(rows * 4);
        for (let t = 0; t < n; t++) {
          k.matvec(w, x + t * cols * 4, one);
          assert.deepEqual(
            k.heap.f32(one, rows),
            k.heap.f32(out + t * rows * 4, rows),
            `packed ${name} ${rows}x${cols}: token ${t} of ${n}`,
          );
        }
        k.matvec(w, x, out);
        checkAgainstReference(k, plain, x, k.heap.f32(out, rows), 1, `packed ${name} ${rows}x${cols} matvec`);
        const [w2, plain2] = matrixPair(k, type, rows + 3, cols, rand);
        k.prepare(w2);
        const outs = [k.heap.alloc(rows * 4), k.heap.alloc((rows + 3) * 4)];
        k.matvecMulti([w, w2], x, outs);
        checkAgainstReference(k, plain, x, k.heap.f32(outs[0], rows), 1, `packed multi #0`);
        checkAgainstReference(k, plain2, x, k.heap.f32(outs[1], rows + 3), 1, `packed multi #1`);
        const dst = k.heap.alloc(cols * 4);
        const want = new Float32Array(cols);
        for (let r = 0; r < rows; r++) {
          k.getRow(w, r, dst);
          dequantizeRow(type, k.heap.viewsU8(), plain.ptr + r * plain.rowBytes, want, 0, cols);
          assert.deepEqual(k.heap.f32(dst, cols), want, `getRow ${r} of packed ${name} ${rows}x${cols}`);
        }
      }
    });
  }
}

for (const threads of [1, 2]) {
  test(`prepareAll (the pool's load-time repack) leaves the same bytes as prepare one matrix at a time, ${threads} thread(s)`, async () => {
    const k = await kernelsFor(threads);
    const rand = rng(404 + threads);
    // row counts that end in a partial group and span several pool chunks; a plain type and a matrix listed twice
    const shapes: [GGMLType, number, number][] = [
      ...PACKED_TYPES.map((t, i): [GGMLType, number, number] => [t, 4 * 97 + i, typeInfo(t).blockSize === 256 ? 512 : 160]),
      [GGMLType.Q5_0, 37, 64],
    ];
    const pairs = shapes.map(([t, rows, cols]) => matrixPair(k, t, rows, cols, rand));
    const all = pairs.map(([w]) => w);
    k.prepareAll([...all, all[0]]);
    for (const [, one] of pairs) k.prepare(one);
    pairs.forEach(([w, one], i) => {
      assert.equal(w.packed, one.packed, `${typeInfo(w.type).name}: packed flag`);
      assert.deepEqual(
        k.heap.u8(w.ptr, w.rows * w.rowBytes),
        k.heap.u8(one.ptr, w.rows * w.rowBytes),
        `matrix #${i} (${typeInfo(w.type).name})`,
      );
    });
    k.prepareAll(all); // idempotent: already packed matrices stay as they are
    assert.deepEqual(k.heap.u8(all[0].ptr, all[0].rows * all[0].rowBytes), k.heap.u8(pairs[0][1].ptr, all[0].rows * all[0].rowBytes));
  });
}

test("large activations (up to 2,048 in a block, as real models' FFN down-projection inputs reach) stay finite and match the reference, plain and packed, decode and batch", async () => {
  const QUANT = TYPES.filter((t) => !FLOAT.has(t));
  for (const variant of ["baseline", ...RELAXED] as const) {
    const k = await kernelsFor(1, variant);
    for (const type of QUANT) {
      const name = typeInfo(type).name;
      const rand = rng(type * 13 + (variant === "relaxed" ? 1 : 0));
      const rows = 12,
        cols = 512,
        n = 5;
      const [w, plain] = matrixPair(k, type, rows, cols, rand);
      const x = k.heap.alloc(n * cols * 4);
      const xs = k.heap.f32(x, n * cols);
      // a quarter of each block's values large: |x| up to 2^k, k = 4..11 by block (block sums stay in f16
      // range, as llama.cpp's f16 activation sums need too)
      for (let i = 0; i < n * cols; i++) xs[i] = (rand() * 2 - 1) * (rand() < 0.25 ? 2 ** (4 + ((i >> 5) % 8)) : 1);
      for (const m of [plain, w]) {
        if (m === w) k.prepare(w);
        const out = k.heap.alloc(n * rows * 4);
        k.matmul(m, x, out, n);
        const got = k.heap.f32(out, n * rows);
        assert.ok(got.every(Number.isFinite), `${name} ${variant}${m === w ? " packed" : ""}: a non-finite result`);
        checkAgainstReference(k, plain, x, got, n, `${name} ${variant}${m === w ? " packed" : ""} batch, large activations`);
        k.matvec(m, x, out);
        checkAgainstReference(
          k,
          plain,
          x,
          k.heap.f32(out, rows),
          1,
          `${name} ${variant}${m === w ? " packed" : ""} matvec, large activations`,
        );
      }
    }
  }
});

test("K-quant scales that are subnormal halves (as in real Q6_K files) match the reference, plain and packed, decode and batch", async () => {
  for (const variant of ["baseline", ...RELAXED] as const) {
    const k = await kernelsFor(1, variant);
    for (const type of [GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]) {
      const name = typeInfo(type).name;
      const rand = rng(type * 7 + 3);
      const rows = 8,
        cols = 512,
        n = 3;
      const [w, plain] = matrixPair(k, type, rows, cols, rand);
      for (const m of [w, plain]) subnormalScales(k.heap.u8(m.ptr, rows * m.rowBytes), type);
      k.prepare(w);
      const x = randomActivations(k.heap, n * cols, rand);
      for (const m of [plain, w]) {
        const what = `${name} ${variant}${m === w ? " packed" : ""}, subnormal scales`;
        const out = k.heap.alloc(n * rows * 4);
        k.matmul(m, x, out, n);
        checkAgainstReference(k, plain, x, k.heap.f32(out, n * rows), n, `${what} batch`);
        k.matvec(m, x, out);
        const got = k.heap.f32(out, rows);
        assert.ok(
          got.some((v) => v !== 0),
          `${what}: all zero`,
        );
        checkAgainstReference(k, plain, x, got, 1, `${what} matvec`);
      }
    }
  }
});

test("relaxed-SIMD (and, where it runs, dot-add) and baseline kernels give bit-identical packed products (decode and prompt)", async () => {
  const base = await kernelsFor(1, "baseline");
  assert.equal(base.name, "wasm-simd");
  for (const variant of RELAXED) {
    const relax = await kernelsFor(1, variant);
    assert.equal(relax.name, variant === "dotadd" ? "wasm-relaxed-simd-dotadd" : "wasm-relaxed-simd");
    identicalPacked(base, relax);
  }
});

/** Random packed products (decode and prompt shapes) give the same bits through `base` and `relax`. */
function identicalPacked(base: WasmKernels, relax: WasmKernels): void {
  const rand = rng(123);
  for (const type of PACKED_TYPES) {
    for (const [rows, width, n] of [
      [64, 576, 1],
      [36, 1536, 1],
      [68, 576, 9],
      [9, 96, 3],
      [40, 2048, 8],
      [12, 1024, 40],
    ]) {
      const cols = Math.ceil(width / typeInfo(type).blockSize) * typeInfo(type).blockSize;
      const wb = randomMatrix(base.heap, type, rows, cols, rand);
      const xb = randomActivations(base.heap, n * cols, rand);
      const wr = { ...wb, ptr: relax.heap.alloc(rows * wb.rowBytes) };
      relax.heap.u8(wr.ptr, rows * wb.rowBytes).set(base.heap.u8(wb.ptr, rows * wb.rowBytes));
      const xr = relax.heap.alloc(n * cols * 4);
      relax.heap.f32(xr, n * cols).set(base.heap.f32(xb, n * cols));
      base.prepare(wb);
      relax.prepare(wr);
      const ob = base.heap.alloc(n * rows * 4),
        or = relax.heap.alloc(n * rows * 4);
      base.matmul(wb, xb, ob, n);
      relax.matmul(wr, xr, or, n);
      assert.deepEqual(
        relax.heap.f32(or, n * rows),
        base.heap.f32(ob, n * rows),
        `${typeInfo(type).name} ${rows}x${cols} n=${n} ${relax.name}`,
      );
    }
  }
}

/**
 * A random `type` matrix (rows x cols) times n random rows through each of
 * `ks` after prepare: every row equals its own matvec bit for bit, every
 * kernel set gives what the first gives, and (if `ref`) the first is within
 * the quantization bound of the reference.
 */
function sameEverywhere(ks: WasmKernels[], type: GGMLType, rows: number, cols: number, n: number, rand: () => number, ref: boolean): void {
  const w0 = randomMatrix(ks[0].heap, type, rows, cols, rand);
  const x0 = randomActivations(ks[0].heap, n * cols, rand);
  const bytes = ks[0].heap.u8(w0.ptr, rows * w0.rowBytes),
    xs = ks[0].heap.f32(x0, n * cols);
  let first: Float32Array | undefined;
  for (const k of ks) {
    const w = { ...w0, ptr: k.heap.alloc(rows * w0.rowBytes) };
    k.heap.u8(w.ptr, bytes.length).set(bytes);
    const x = k.heap.alloc(n * cols * 4);
    k.heap.f32(x, n * cols).set(xs);
    k.prepare(w);
    const out = k.heap.alloc(n * rows * 4),
      one = k.heap.alloc(rows * 4);
    k.matmul(w, x, out, n);
    const got = Float32Array.from(k.heap.f32(out, n * rows));
    const what = `${typeInfo(type).name} ${rows}x${cols} n=${n} ${k.threads} thread(s) ${k.name}`;
    for (let t = 0; t < n; t++) {
      k.matvec(w, x + t * cols * 4, one);
      assert.deepEqual(k.heap.f32(one, rows), got.subarray(t * rows, (t + 1) * rows), `${what}: token ${t} alone`);
    }
    if (!first) {
      first = got;
      if (ref) checkAgainstReference(ks[0], w0, x0, got, n, what);
    } else assert.deepEqual(got, first, `${what} vs 1 thread baseline`);
  }
}

test("four-row and packed kernels (Q4_0, Q5_0, Q4_K, Q5_K, Q6_K, after prepare) are bit-identical across threads, builds, and batch vs token", async () => {
  const ks = [await kernelsFor(1, "baseline"), await kernelsFor(2, "baseline")];
  for (const v of RELAXED) ks.push(await kernelsFor(1, v), await kernelsFor(2, v));
  const rand = rng(321);
  for (const type of [GGMLType.Q4_0, GGMLType.Q5_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K]) {
    for (let trial = 0; trial < 4; trial++) {
      // row counts that are and are not multiples of 4 (the four-row pass) and of the thread split
      const rows = [3, 17, 40, 70][trial] + Math.floor(rand() * 5);
      const cols = randomCols(type, rand);
      const n = 1 + Math.floor(rand() * 6);
      sameEverywhere(ks, type, rows, cols, n, rand, true);
    }
  }
});

test("packed Q4_0, Q4_1, Q8_0 batches (n = 2..9, 16, 17, 64, 65: small, tiled small and expanded paths) equal one matvec per row, across threads and builds", async () => {
  const ks = [await kernelsFor(1, "baseline"), await kernelsFor(2, "baseline")];
  for (const v of RELAXED) ks.push(await kernelsFor(1, v), await kernelsFor(2, v));
  const rand = rng(777);
  // rows: one group, groups not a multiple of the 4 streams plus plain tail rows, a larger matrix;
  // cols: small, a width where only one group fits the scratch (int16 path), one where none does (fallback)
  const shapes: [number, number][] = [
    [4, 64],
    [38, 576],
    [133, 96],
    [70, 4160],
    [9, 16416],
  ];
  for (const type of [GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q8_0]) {
    for (const [rows, cols] of shapes) {
      for (const n of [2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 64, 65]) {
        if (cols > 4096 && n !== 3 && n !== 17) continue; // wide matrices: one int8-path and one int16-path count (17: in tiles for the dot-add build's Q8_0)
        if (n > 17 && cols > 576) continue; // a whole prompt chunk (the dot-add build's Q8_0 small path) and one past it
        sameEverywhere(ks, type, rows, cols, n, rand, cols <= 576);
      }
    }
  }
});

test("getRow of an unpacked matrix is dequantizeRow; bad rows are rejected", async () => {
  const k = await kernelsFor(1);
  const rand = rng(11);
  const w = randomMatrix(k.heap, GGMLType.Q6_K, 3, 256, rand);
  const dst = k.heap.alloc(256 * 4);
  const want = new Float32Array(256);
  k.getRow(w, 2, dst);
  dequantizeRow(w.type, k.heap.viewsU8(), w.ptr + 2 * w.rowBytes, want, 0, 256);
  assert.deepEqual(k.heap.f32(dst, 256), want);
  assert.throws(() => k.getRow(w, 3, dst), /row 3 out of range/);
  const ref = new ReferenceKernels(k.heap);
  ref.getRow(w, 1, dst);
  dequantizeRow(w.type, k.heap.viewsU8(), w.ptr + w.rowBytes, want, 0, 256);
  assert.deepEqual(k.heap.f32(dst, 256), want);
  const [p] = matrixPair(k, GGMLType.Q8_0, 8, 64, rand);
  k.prepare(p);
  assert.throws(() => ref.matvec(p, dst, dst), /packed by another backend/);
});

test("wasm attention matches ops.attention over an f32 and an f16 cache (GQA, several positions); so do the reference kernels", async () => {
  const k = await kernelsFor(1);
  const ref = new ReferenceKernels(k.heap);
  const rand = rng(21);
  for (const [nHeads, nKv, hd] of [
    [9, 3, 64],
    [4, 4, 6],
    [8, 2, 16],
    [4, 1, 256],
  ]) {
    const kvDim = nKv * hd,
      ctx = 40;
    const q = randomActivations(k.heap, nHeads * hd, rand);
    const keys = randomActivations(k.heap, ctx * kvDim, rand),
      values = randomActivations(k.heap, ctx * kvDim, rand);
    // the same cache as IEEE halves, and those halves widened back (what attention over the f16 cache must see)
    const keysH = k.heap.alloc(ctx * kvDim * 2),
      valuesH = k.heap.alloc(ctx * kvDim * 2);
    const kw = new Float32Array(ctx * kvDim),
      vw = new Float32Array(ctx * kvDim);
    const f = k.heap.viewsF32(),
      h = new Uint16Array(f.buffer);
    for (let i = 0; i < ctx * kvDim; i++) {
      h[(keysH >>> 1) + i] = f32ToF16(f[(keys >>> 2) + i]);
      kw[i] = f16ToF32(h[(keysH >>> 1) + i]);
      h[(valuesH >>> 1) + i] = f32ToF16(f[(values >>> 2) + i]);
      vw[i] = f16ToF32(h[(valuesH >>> 1) + i]);
    }
    const out = k.heap.alloc(nHeads * hd * 4),
      refOut = k.heap.alloc(nHeads * hd * 4);
    const want = new Float32Array(nHeads * hd),
      scores = new Float32Array(ctx);
    for (const pos of [0, 1, 17, ctx - 1]) {
      for (const kvType of ["f32", "f16"] as const) {
        const [kp, vp] = kvType === "f32" ? [keys, values] : [keysH, valuesH];
        k.attention(out, q, kp, vp, kvDim, pos, nHeads, nKv, hd, kvType);
        ref.attention(refOut, q, kp, vp, kvDim, pos, nHeads, nKv, hd, kvType);
        const fv = k.heap.viewsF32();
        const [kc, vc] = kvType === "f32" ? [fv.subarray(keys >>> 2), fv.subarray(values >>> 2)] : [kw, vw];
        attention(want, 0, fv, q >>> 2, kc, vc, kvDim, pos, nHeads, nKv, hd, scores);
        const got = k.heap.f32(out, nHeads * hd),
          gotRef = k.heap.f32(refOut, nHeads * hd);
        for (let i = 0; i < want.length; i++) {
          const what = `${kvType} ${nHeads}/${nKv}x${hd} pos ${pos} [${i}]`;
          assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])), `${what}: ${got[i]} vs ${want[i]}`);
          assert.equal(gotRef[i], want[i], `${what}: reference kernels`);
        }
      }
    }
  }
  assert.throws(() => k.attention(0, 0, 0, 0, 10, 0, 3, 2, 5, "f16"), /do not fit/);
  assert.throws(() => k.attention(0, 0, 0, 0, 10, 0, 3, 2, 5, "f8" as "f16"), /KV cache type "f8" is not supported; supported: f16, f32/);
});

test("wasm attention split over 2 and 3 threads equals one thread bit for bit (whole KV groups, one group split, no GQA)", async () => {
  const rand = rng(23);
  // positions past the split threshold (65,536 query-key products) and below it
  for (const [nHeads, nKv, hd, positions] of [
    [9, 3, 64, [50, 200, 301]],
    [4, 1, 256, [20, 100, 129]],
    [8, 8, 32, [300, 555]],
    [32, 8, 20, [150]],
  ] as const) {
    const one = await kernelsFor(1);
    const kvDim = nKv * hd,
      ctx = Math.max(...positions) + 1;
    const q = randomActivations(one.heap, nHeads * hd, rand);
    const keys = randomActivations(one.heap, ctx * kvDim, rand),
      values = randomActivations(one.heap, ctx * kvDim, rand);
    const keysH = one.heap.alloc(ctx * kvDim * 2),
      valuesH = one.heap.alloc(ctx * kvDim * 2);
    const f = one.heap.viewsF32(),
      h = new Uint16Array(f.buffer);
    for (let i = 0; i < ctx * kvDim; i++) {
      h[(keysH >>> 1) + i] = f32ToF16(f[(keys >>> 2) + i]);
      h[(valuesH >>> 1) + i] = f32ToF16(f[(values >>> 2) + i]);
    }
    for (const threads of [2, 3]) {
      const many = await kernelsFor(threads);
      // the same inputs in the other kernels' heap
      const copy = (p: number, bytes: number) => {
        const d = many.heap.alloc(bytes, 64);
        many.heap.u8(d, bytes).set(one.heap.u8(p, bytes));
        return d;
      };
      const q2 = copy(q, nHeads * hd * 4),
        kH2 = copy(keysH, ctx * kvDim * 2),
        vH2 = copy(valuesH, ctx * kvDim * 2),
        k2 = copy(keys, ctx * kvDim * 4),
        v2 = copy(values, ctx * kvDim * 4);
      const outA = one.heap.alloc(nHeads * hd * 4),
        outB = many.heap.alloc(nHeads * hd * 4);
      for (const pos of positions)
        for (const kvType of ["f16", "f32"] as const) {
          const [ka, va, kb, vb] = kvType === "f16" ? [keysH, valuesH, kH2, vH2] : [keys, values, k2, v2];
          one.attention(outA, q, ka, va, kvDim, pos, nHeads, nKv, hd, kvType);
          many.attention(outB, q2, kb, vb, kvDim, pos, nHeads, nKv, hd, kvType);
          const a = one.heap.f32(outA, nHeads * hd),
            b = many.heap.f32(outB, nHeads * hd);
          for (let i = 0; i < a.length; i++)
            assert.ok(Object.is(a[i], b[i]), `${threads} threads ${kvType} ${nHeads}/${nKv}x${hd} pos ${pos} [${i}]: ${b[i]} vs ${a[i]}`);
        }
    }
  }
});

test("wasm attention over an f16 cache equals attention over the same halves widened to f32, bit for bit (GQA groups share widened blocks)", async () => {
  const k = await kernelsFor(1);
  const rand = rng(22);
  // group sizes 1, 3, 4, 8; head sizes with tails; positions across the widened blocks' ends (128 rows at 64, 32 at 256)
  for (const [nHeads, nKv, hd, positions] of [
    [9, 3, 64, [0, 3, 127, 128, 130, 299]],
    [4, 1, 256, [31, 32, 33, 70]],
    [8, 1, 20, [5, 409, 410]],
    [6, 6, 64, [0, 77]],
    [16, 2, 30, [0, 1, 2, 3, 4, 272, 273]],
  ] as const) {
    const kvDim = nKv * hd,
      ctx = Math.max(...positions) + 1;
    const q = randomActivations(k.heap, nHeads * hd, rand);
    const keysH = k.heap.alloc(ctx * kvDim * 2),
      valuesH = k.heap.alloc(ctx * kvDim * 2);
    const keys = k.heap.alloc(ctx * kvDim * 4),
      values = k.heap.alloc(ctx * kvDim * 4);
    const f = k.heap.viewsF32(),
      h = new Uint16Array(f.buffer);
    for (let i = 0; i < ctx * kvDim; i++) {
      // a spread of magnitudes, subnormal halves included
      const m = 2 ** (-20 + 24 * rand());
      h[(keysH >>> 1) + i] = f32ToF16((rand() - 0.5) * m);
      h[(valuesH >>> 1) + i] = f32ToF16((rand() - 0.5) * m);
      f[(keys >>> 2) + i] = f16ToF32(h[(keysH >>> 1) + i]);
      f[(values >>> 2) + i] = f16ToF32(h[(valuesH >>> 1) + i]);
    }
    const outH = k.heap.alloc(nHeads * hd * 4),
      outF = k.heap.alloc(nHeads * hd * 4);
    for (const pos of positions) {
      k.attention(outH, q, keysH, valuesH, kvDim, pos, nHeads, nKv, hd, "f16");
      k.attention(outF, q, keys, values, kvDim, pos, nHeads, nKv, hd, "f32");
      const a = k.heap.f32(outH, nHeads * hd),
        b = k.heap.f32(outF, nHeads * hd);
      for (let i = 0; i < a.length; i++) {
        assert.ok(Number.isFinite(b[i]), `${nHeads}/${nKv}x${hd} pos ${pos} [${i}] finite`);
        assert.ok(Object.is(a[i], b[i]), `${nHeads}/${nKv}x${hd} pos ${pos} [${i}]: f16 ${a[i]} vs f32 ${b[i]}`);
      }
    }
  }
});

test("attention over a head-major cache (the model's KV layout) equals the same cache in position rows, bit for bit: 1 and 2 threads, f16 and f32, GQA, every build and the reference", async () => {
  const rand = rng(29);
  for (const [nHeads, nKv, hd, ctx, positions] of [
    [9, 3, 64, 310, [0, 5, 127, 128, 300]],
    [4, 1, 256, 40, [33]],
    [32, 32, 128, 80, [45, 79]],
  ] as const) {
    const kvDim = nKv * hd;
    for (const [name, K] of [
      ...(await Promise.all([1, 2].map(async (t) => [`${t} thread(s)`, await kernelsFor(t)] as const))),
      ...(await Promise.all(RELAXED.map(async (v) => [v, await kernelsFor(1, v)] as const))),
      ["baseline", await kernelsFor(1, "baseline")] as const,
      ["reference", new ReferenceKernels()] as const,
    ]) {
      for (const kvType of ["f16", "f32"] as const) {
        const eb = kvType === "f16" ? 2 : 4;
        const q = randomActivations(K.heap, nHeads * hd, rand);
        const rowsK = K.heap.alloc(ctx * kvDim * eb, 64),
          rowsV = K.heap.alloc(ctx * kvDim * eb, 64),
          headsK = K.heap.alloc(ctx * kvDim * eb, 64),
          headsV = K.heap.alloc(ctx * kvDim * eb, 64);
        const f = K.heap.viewsF32(),
          h = new Uint16Array(f.buffer);
        // element (t, head j, i): at t * kvDim + j * hd + i in rows, (j * ctx + t) * hd + i head-major
        for (let t = 0; t < ctx; t++)
          for (let j = 0; j < nKv; j++)
            for (let i = 0; i < hd; i++) {
              const a = t * kvDim + j * hd + i,
                b = (j * ctx + t) * hd + i;
              const kv = [(rand() - 0.5) * 4, (rand() - 0.5) * 4];
              if (kvType === "f16") {
                h[(rowsK >>> 1) + a] = h[(headsK >>> 1) + b] = f32ToF16(kv[0]);
                h[(rowsV >>> 1) + a] = h[(headsV >>> 1) + b] = f32ToF16(kv[1]);
              } else {
                f[(rowsK >>> 2) + a] = f[(headsK >>> 2) + b] = kv[0];
                f[(rowsV >>> 2) + a] = f[(headsV >>> 2) + b] = kv[1];
              }
            }
        const outR = K.heap.alloc(nHeads * hd * 4, 64),
          outH = K.heap.alloc(nHeads * hd * 4, 64);
        for (const pos of positions) {
          K.attention(outR, q, rowsK, rowsV, kvDim, pos, nHeads, nKv, hd, kvType);
          K.attention(outH, q, headsK, headsV, kvDim, pos, nHeads, nKv, hd, kvType, { pos: hd, head: ctx * hd });
          const a = K.heap.f32(outR, nHeads * hd),
            b = K.heap.f32(outH, nHeads * hd);
          for (let i = 0; i < a.length; i++)
            assert.ok(
              Object.is(a[i], b[i]),
              `${name} ${kvType} ${nHeads}/${nKv}x${hd} pos ${pos} [${i}]: head-major ${b[i]} vs rows ${a[i]}`,
            );
        }
      }
    }
  }
  const k = await kernelsFor(1);
  assert.throws(
    () => k.attention(0, 0, 64, 64, 128, 10, 2, 2, 64, "f16", { pos: 64, head: 64 }),
    /KV strides 64 \(position\) and 64 \(head\) overlap/,
  );
});

test("wasm swiglu matches ops.swiglu to a few ulp, including large and tiny gates", async () => {
  const k = await kernelsFor(1);
  const rand = rng(31);
  const n = 1003; // not a multiple of 4: the scalar tail too
  const x = randomActivations(k.heap, n, rand),
    y = randomActivations(k.heap, n, rand);
  const xs = k.heap.f32(x, n);
  // exp is clamped at e^88: a gate of -100 gives ~-6e-37 instead of ~-4e-42, which is below any tolerance that matters
  xs[0] = 100;
  xs[1] = -100;
  xs[2] = 0;
  xs[3] = -87.5;
  xs[4] = 1e-30;
  xs[5] = 30;
  const want = Float32Array.from(xs);
  swiglu(want, 0, k.heap.f32(y, n), 0, n);
  k.swiglu(x, y, n);
  const got = k.heap.f32(x, n);
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(got[i] - want[i]) <= 4e-7 * Math.abs(want[i]) + 1e-35, `[${i}] ${got[i]} vs ${want[i]}`);
  }
});
test("wasm geglu matches ops.geglu: llama.cpp's f16-rounded gelu, equal but for an f16 rounding step at ties of f32 vs f64 tanh", async () => {
  const k = await kernelsFor(1);
  const rand = rng(32);
  const n = 4003;
  const x = randomActivations(k.heap, n, rand),
    y = randomActivations(k.heap, n, rand);
  const xs = k.heap.f32(x, n);
  [100, -100, 0, -5, 1e-30, 30, -0.5, 3, 10, -10, 9.999, -9.999, 3e-5, -2e-7].forEach((v, i) => {
    xs[i] = v;
  });
  for (let i = 16; i < 4000; i++) xs[i] = (i - 2000) / 180; // the whole bend, -11..11
  const want = Float32Array.from(xs);
  geglu(want, 0, k.heap.f32(y, n), 0, n);
  k.geglu(x, y, n);
  const got = k.heap.f32(x, n);
  let differ = 0;
  for (let i = 0; i < n; i++) {
    if (got[i] !== want[i]) differ++;
    // one f16 step (2^-11 relative) where f32 and f64 tanh land on either side of a rounding boundary
    assert.ok(Math.abs(got[i] - want[i]) <= 2 ** -10 * Math.abs(want[i]) + 1e-12, `[${i}] ${xs[i]}: ${got[i]} vs ${want[i]}`);
  }
  assert.ok(differ <= n / 100, `${differ} of ${n} differ`);
  assert.equal(got[0], Math.fround(100 * k.heap.f32(y, 1)[0]));
  assert.equal(got[1], 0);
  assert.throws(() => k.geglu(2, 0, 4), /geglu: 4 floats at 2 \/ 0 are misaligned/);
});

test("wasm kernels reject bad input with clear errors", async () => {
  const k = await kernelsFor(1);
  const rand = rng(5);
  const w = randomMatrix(k.heap, GGMLType.Q4_0, 4, 64, rand);
  const x = randomActivations(k.heap, 64, rand);
  const out = k.heap.alloc(16);
  assert.throws(() => k.matvec({ ...w, type: GGMLType.Q2_K }, x, out), /unsupported tensor type Q2_K/);
  assert.throws(() => k.matvec({ ...w, rowBytes: 10 }, x, out), /rowBytes/);
  assert.throws(() => k.matvec({ ...w, cols: 48 }, x, out), /block size/);
  assert.throws(() => k.matvec(w, x + 2, out), /misaligned or outside/);
  assert.throws(() => k.matmul(w, x, out, 0), /token count/);
  assert.throws(() => k.matvecMulti([w, { ...w, cols: 32, rowBytes: 18 }], x, [out, out]), /columns/);
});

test("a dead worker surfaces an error instead of hanging", async () => {
  const k = await WasmKernels.create(2);
  try {
    const rand = rng(9);
    const w = randomMatrix(k.heap, GGMLType.Q8_0, 8, 64, rand);
    const x = randomActivations(k.heap, 64, rand);
    const out = k.heap.alloc(32);
    k.matvec(w, x, out);
    await k.kernelPool!.workerThreads[0].terminate();
    assert.throws(() => k.matvec(w, x, out), /kernel pool is broken: kernel worker 1 exited/);
  } finally {
    await k.dispose();
  }
});

test("a batch job's activations split once (splitJob, for the pool) give the bits of splitting them per tile; the split is really read", () => {
  const heap = new SharedHeap();
  const k = instantiateKernels(kernelModule(), heap.memory);
  const scratchBytes = 1 << 20;
  k.setScratch(heap.alloc(scratchBytes, 64), scratchBytes);
  const rand = rng(4242);
  const PACKED = 0x100;
  for (const type of [GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q8_0]) {
    const [rows, cols, n] = [40, 576, 6];
    const w = randomMatrix(heap, type, rows, cols, rand);
    k.repack(type, w.ptr, w.rowBytes, cols, rows, heap.alloc(4 * w.rowBytes, 64));
    const x = randomActivations(heap, cols * n, rand);
    const stride = k.actBytes(cols);
    const act = heap.alloc(stride * n, 64);
    for (let t = 0; t < n; t++) k.quantizeAct(x + t * cols * 4, cols, act + t * stride);
    const need = k.splitNeed(type | PACKED, cols, n);
    assert.ok(need > 0, `${typeInfo(type).name}: a ${n}-token batch is split`);
    assert.equal(k.splitNeed(type, cols, n), 0, "an unpacked matrix is not");
    const run = (split: number): Float32Array => {
      const out = heap.alloc(rows * n * 4, 64);
      k.matmul(type | PACKED, w.ptr, w.rowBytes, cols, rows, 0, rows, act, stride, x, n, out, rows, split);
      return heap.f32(out, rows * n).slice();
    };
    const split = heap.alloc(need, 64);
    k.splitJob(type | PACKED, cols, act, stride, n, split);
    assert.deepEqual(run(split), run(0), `${typeInfo(type).name}: split once = split per tile`);
    heap.u8(split, need).fill(0);
    assert.notDeepEqual(run(split), run(0), `${typeInfo(type).name}: matmul reads the given split`);
  }
});

test("each kernel build's static data (constant tables) lies below the heap's reserved bytes, where no allocation reaches", () => {
  for (const variant of ["baseline", ...RELAXED] as const) {
    const segs = dataSegments(readFileSync(kernelWasmPath(variant)));
    for (const s of segs) {
      assert.ok(s.at >= 0 && s.at + s.bytes.length <= RESERVED_BYTES, `${variant}: ${s.bytes.length} bytes at ${s.at}`);
    }
  }
});

test("toHalves (the f16 KV cache's conversion) equals f32ToF16 bit for bit: every half, the ties between them, specials, random bit patterns", async () => {
  const vals: number[] = [];
  const f = new Float32Array(1),
    u = new Uint32Array(f.buffer);
  for (let h = 0; h < 0x7c00; h++) {
    const a = f16ToF32(h),
      b = f16ToF32(h + 1);
    vals.push(a, -a, (a + b) / 2, -(a + b) / 2, Math.fround(a * (1 + 2 ** -20)), Math.fround(b * (1 - 2 ** -20)));
  }
  for (const bits of [
    0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x477fefff, 0x477ff000, 0x477fffff, 0x47800000, 1, 0x80000001, 0x33000000,
    0x33000001, 0x32ffffff, 0x387fffff, 0x38800000,
  ]) {
    u[0] = bits;
    vals.push(f[0]);
  }
  const r = rng(11);
  for (let i = 0; i < 200000; i++) {
    u[0] = Math.floor(r() * 2 ** 32);
    vals.push(f[0]);
  }
  const n = vals.length;
  for (const variant of [...RELAXED, "baseline"] as KernelVariant[]) {
    const K = await WasmKernels.create(1, new SharedHeap(), variant);
    const src = K.heap.alloc(n * 4, 64),
      dst = K.heap.alloc(n * 2, 64);
    K.heap.viewsF32().set(vals, src >>> 2);
    K.toHalves(src, dst, n - 3); // a tail that is not a multiple of 8
    K.toHalves(src + (n - 3) * 4, dst + (n - 3) * 2, 3);
    const h = new Uint16Array(K.heap.memory.buffer, dst, n);
    let bad = 0;
    for (let i = 0; i < n; i++) if (h[i] !== f32ToF16(vals[i])) bad++;
    assert.equal(bad, 0, `${variant}: ${bad} of ${n} conversions differ`);
    assert.throws(() => K.toHalves(src + 1, dst, 4), /misaligned/);
    await K.dispose();
  }
});

test("FFNSKIP_POOL_BACKOFF (the pool's back-off after a preempted worker) rejects what is not a whole number, naming it", async () => {
  const { spawnSync } = await import("node:child_process");
  const url = new URL("./wasm.js", import.meta.url).href;
  for (const [v, ok] of [
    ["abc", false],
    ["-1", false],
    ["2.5", false],
    ["0", true],
    ["20", true],
  ] as const) {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(url)})`], {
      encoding: "utf8",
      env: { ...process.env, FFNSKIP_POOL_BACKOFF: v, NODE_TEST_CONTEXT: "" },
    });
    if (ok) assert.equal(r.status, 0, `${v}: ${r.stderr}`);
    else assert.match(r.stderr, new RegExp(`FFNSKIP_POOL_BACKOFF=${v.replace(".", "\\.")}: give a whole number of dispatches`));
  }
});
