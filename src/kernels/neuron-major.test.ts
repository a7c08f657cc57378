// ffn-sparse realized (assembly/neuron-major.ts): the neuron-major down projection and the masked up projection,
// against a scalar mirror of their arithmetic on the file's bytes (bit for bit) and against float math (tolerance).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { GGMLType } from "../quant/types.js";
import { dequantizeRow } from "../quant/dequant.js";
import { f16ToF32 } from "../quant/f16.js";
import { WasmKernels } from "./wasm.js";
import { runsBuild, type KernelVariant } from "./wasm-module.js";
import { randomMatrix, rng } from "../../test/helpers/kernel-testdata.js";
import { dropGroups, gateActivations } from "../model/sparse-ffn.js";
import type { WeightMatrix } from "./types.js";

const VARIANTS: KernelVariant[] = ["baseline", "relaxed", ...(runsBuild("dotadd") ? (["dotadd"] as const) : [])];
const made: WasmKernels[] = [];
after(async () => {
  for (const k of made) await k.dispose();
});

const f = Math.fround;
/** Round half to even, as wasm's f32 nearest. */
function nearest(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Weight (q, d, m) of row j, neuron i of a plain Q4_0/Q4_1 matrix in `u8` (the file's layout): w = d*q + m. */
function weight(u8: Uint8Array, w: WeightMatrix, j: number, i: number): { q: number; d: number; m: number } {
  const q41 = w.type === GGMLType.Q4_1;
  const blk = j * w.rowBytes + (i >> 5) * (q41 ? 20 : 18);
  const d = f16ToF32(u8[blk] | (u8[blk + 1] << 8));
  const m = q41 ? f16ToF32(u8[blk + 2] | (u8[blk + 3] << 8)) : f(-8 * d);
  const e = i & 31,
    byte = u8[blk + (q41 ? 4 : 2) + (e & 15)];
  return { q: e < 16 ? byte & 15 : byte >> 4, d, m };
}

/** The kernel's arithmetic, op by op in f32, on the plain bytes. */
function mirror(u8: Uint8Array, w: WeightMatrix, h: Float32Array, mask: Uint8Array): Float32Array {
  const nb = w.cols / 32;
  const s = new Float32Array(nb),
    sum = new Float32Array(nb),
    q = new Int8Array(w.cols);
  for (let b = 0; b < nb; b++) {
    let amax = 0,
      t = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(h[32 * b + i]));
    s[b] = f(amax / 127);
    const inv = amax > 0 ? f(127 / amax) : 0;
    for (let i = 0; i < 32; i++) t += q[32 * b + i] = nearest(f(h[32 * b + i] * inv));
    sum[b] = f(s[b] * t);
  }
  const y = new Float32Array(w.rows);
  for (let j = 0; j < w.rows; j++) {
    let acc = 0;
    for (let b = 0; b < nb; b++) {
      if (!mask.subarray(8 * b, 8 * b + 8).some((x) => x)) continue;
      let isum = 0;
      for (let i = 32 * b; i < 32 * b + 32; i++) if (mask[i >> 2]) isum += q[i] * weight(u8, w, j, i).q;
      const { d, m } = weight(u8, w, j, 32 * b);
      acc = f(acc + f(f(isum * f(d * s[b])) + f(m * sum[b])));
    }
    y[j] = acc;
  }
  return y;
}

for (const type of [GGMLType.Q4_0, GGMLType.Q4_1])
  for (const variant of VARIANTS)
    for (const threads of [1, 2])
      test(`neuron-major down and masked up: ${GGMLType[type]}, ${variant}, ${threads} thread(s), bit for bit with the scalar mirror`, async () => {
        const K = await WasmKernels.create(threads, undefined, variant);
        made.push(K);
        const rand = rng(7 + type);
        const rows = 160,
          cols = 256;
        const w = randomMatrix(K.heap, type, rows, cols, rand);
        const plain = Uint8Array.from(K.heap.u8(w.ptr, rows * w.rowBytes));
        K.prepare!(w);
        assert.ok(w.packed);
        const nm = K.neuronMajor(w);
        assert.ok(nm, "a neuron-major copy of a packed Q4 matrix");
        // a mask with whole blocks dropped, whole blocks kept and mixed ones; h of dropped groups zeroed
        const groups = cols / 4;
        const maskPtr = K.heap.alloc(groups);
        const mask = K.heap.u8(maskPtr, groups);
        for (let g = 0; g < groups; g++) mask[g] = g < 8 ? 0 : g < 16 ? 1 : rand() < 0.6 ? 1 : 0;
        const hPtr = K.heap.alloc(cols * 4);
        const h = K.heap.f32(hPtr, cols);
        for (let i = 0; i < cols; i++) h[i] = mask[i >> 2] ? (rand() * 2 - 1) * (rand() < 0.05 ? 8 : 1) : 0;
        const out = K.heap.alloc(rows * 4);
        K.matvecNeuronMajor!(nm, hPtr, out, maskPtr);
        const got = Float32Array.from(K.heap.f32(out, rows));
        assert.deepEqual(got, mirror(plain, w, Float32Array.from(h), Uint8Array.from(mask)));
        // and near the float product (the activation's int8 rounding: a few percent of the output's scale)
        const row = new Float32Array(cols);
        let worst = 0,
          scale = 0;
        for (let j = 0; j < rows; j++) {
          dequantizeRow(type, plain, j * w.rowBytes, row, 0, cols);
          let exact = 0;
          for (let i = 0; i < cols; i++) exact += row[i] * h[i];
          worst = Math.max(worst, Math.abs(exact - got[j]));
          scale = Math.max(scale, Math.abs(exact));
        }
        assert.ok(worst <= 0.02 * scale, `largest gap ${worst} against outputs up to ${scale}`);

        // the up projection: kept 4-row groups equal the full product's rows bit for bit, dropped ones are 0
        const up = randomMatrix(K.heap, type, cols, rows, rand);
        K.prepare!(up);
        const x = K.heap.alloc(rows * 4);
        K.heap.f32(x, rows).set(Float32Array.from({ length: rows }, () => rand() * 2 - 1));
        const full = K.heap.alloc(cols * 4),
          masked = K.heap.alloc(cols * 4);
        K.matvec(up, x, full);
        K.heap.f32(masked, cols).fill(Number.NaN);
        K.matvecMasked!(up, x, masked, maskPtr);
        const a = K.heap.f32(full, cols),
          m = K.heap.f32(masked, cols);
        for (let i = 0; i < cols; i++) assert.equal(m[i], mask[i >> 2] ? a[i] : 0, `row ${i}`);
      });

/** A random permutation of n neurons inside each block of 32 (ffn-sparse's neuron order). */
function blockOrder(n: number, rand: () => number): Int32Array {
  const o = Int32Array.from({ length: n }, (_, i) => i);
  for (let b = 0; b < n; b += 32)
    for (let i = 31; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [o[b + i], o[b + j]] = [o[b + j], o[b + i]];
    }
  return o;
}

/** The plain bytes with every row's neurons (columns) along `order`: column i becomes column order[i] (within its block). */
function permuteColumns(u8: Uint8Array, w: WeightMatrix, order: Int32Array): Uint8Array {
  const out = Uint8Array.from(u8);
  const q41 = w.type === GGMLType.Q4_1;
  for (let j = 0; j < w.rows; j++)
    for (let i = 0; i < w.cols; i++) {
      const q = weight(u8, w, j, order[i]).q;
      const e = i & 31,
        at = j * w.rowBytes + (i >> 5) * (q41 ? 20 : 18) + (q41 ? 4 : 2) + (e & 15);
      out[at] = e < 16 ? (out[at] & 0xf0) | q : (out[at] & 15) | (q << 4);
    }
  return out;
}

for (const type of [GGMLType.Q4_0, GGMLType.Q4_1])
  for (const variant of ["baseline", "relaxed"] as const)
    test(`along a neuron order: ${GGMLType[type]}, ${variant}: the down copy is the column-permuted matrix's bit for bit, the up copy's rows are the order's rows`, async () => {
      const K = await WasmKernels.create(1, undefined, variant);
      made.push(K);
      const rand = rng(29 + type);
      const rows = 64,
        cols = 128;
      const w = randomMatrix(K.heap, type, rows, cols, rand);
      const plain = Uint8Array.from(K.heap.u8(w.ptr, rows * w.rowBytes));
      K.prepare!(w);
      const order = blockOrder(cols, rand);
      const nm = K.neuronMajor!(w, order)!;
      const groups = cols / 4;
      const maskPtr = K.heap.alloc(groups);
      const mask = K.heap.u8(maskPtr, groups);
      for (let g = 0; g < groups; g++) mask[g] = rand() < 0.6 ? 1 : 0;
      const hPtr = K.heap.alloc(cols * 4);
      const h = K.heap.f32(hPtr, cols);
      for (let i = 0; i < cols; i++) h[i] = mask[i >> 2] ? rand() * 2 - 1 : 0;
      const out = K.heap.alloc(rows * 4);
      K.matvecNeuronMajor!(nm, hPtr, out, maskPtr);
      const want = mirror(permuteColumns(plain, w, order), w, Float32Array.from(h), Uint8Array.from(mask));
      assert.deepEqual(Float32Array.from(K.heap.f32(out, rows)), want);
      // every group kept: the same product as the file-order copy given h in file order (block sums are integers)
      K.heap.u8(maskPtr, groups).fill(1);
      const hp = Float32Array.from({ length: cols }, () => rand() * 2 - 1);
      K.heap.f32(hPtr, cols).set(Float32Array.from({ length: cols }, (_, i) => hp[order[i]]));
      K.matvecNeuronMajor!(nm, hPtr, out, maskPtr);
      const along = Float32Array.from(K.heap.f32(out, rows));
      K.heap.f32(hPtr, cols).set(hp);
      K.matvecNeuronMajor!(K.neuronMajor!(w)!, hPtr, out, maskPtr);
      assert.deepEqual(along, Float32Array.from(K.heap.f32(out, rows)));

      // the up copy: row r is row order[r], in getRow and in the masked product
      const up = randomMatrix(K.heap, type, cols, rows, rand);
      K.prepare!(up);
      const upOrder = blockOrder(cols, rand);
      const copy = K.permutedRows!(up, upOrder);
      const a = K.heap.alloc(rows * 4),
        b = K.heap.alloc(rows * 4);
      for (const r of [0, 1, 5, 31, 32, 77, cols - 1]) {
        K.getRow(copy, r, a);
        K.getRow(up, upOrder[r], b);
        assert.deepEqual(K.heap.f32(a, rows), K.heap.f32(b, rows), `row ${r}`);
      }
      const x = K.heap.alloc(rows * 4);
      K.heap.f32(x, rows).set(Float32Array.from({ length: rows }, () => rand() * 2 - 1));
      const full = K.heap.alloc(cols * 4),
        masked = K.heap.alloc(cols * 4);
      K.matvec(up, x, full);
      K.matvecMasked!(copy, x, masked, maskPtr);
      const f0 = K.heap.f32(full, cols),
        m = K.heap.f32(masked, cols);
      for (let i = 0; i < cols; i++) assert.equal(m[i], f0[upOrder[i]], `up row ${i}`);
      assert.throws(
        () =>
          K.neuronMajor!(
            w,
            Int32Array.from({ length: cols }, (_, i) => cols - 1 - i),
          ),
        /not a permutation .* within blocks of 32/,
      );
      assert.throws(() => K.permutedRows!(up, new Int32Array(cols)), /not a permutation of the matrix's 128 rows/);
    });

test("neuron-major: no copy for other types or shapes, clear errors for bad masks and matrices", async () => {
  const K = await WasmKernels.create(1, undefined, "baseline");
  made.push(K);
  const rand = rng(3);
  const q8 = randomMatrix(K.heap, GGMLType.Q8_0, 64, 64, rand);
  K.prepare!(q8);
  assert.equal(K.neuronMajor(q8), undefined);
  const odd = randomMatrix(K.heap, GGMLType.Q4_1, 36, 64, rand);
  K.prepare!(odd);
  assert.equal(K.neuronMajor(odd), undefined, "rows not a multiple of 32");
  const x = K.heap.alloc(64 * 4),
    out = K.heap.alloc(64 * 4);
  assert.throws(() => K.matvecMasked!(q8, x, out, K.heap.alloc(16)), /packed Q4_0\/Q4_1.*Q8_0/);
  const w = randomMatrix(K.heap, GGMLType.Q4_0, 64, 64, rand);
  K.prepare!(w);
  assert.throws(() => K.matvecMasked!(w, x, out, K.heap.memory.buffer.byteLength), /group mask .* outside the heap/);
});

test("gateGroups: |act(gate)| as the JavaScript gate computes it, and the groups dropGroups keeps", async () => {
  const K = await WasmKernels.create(1, undefined, "baseline");
  made.push(K);
  const rand = rng(11);
  const n = 512;
  const g = K.heap.alloc(n * 4),
    act = K.heap.alloc(n * 4),
    mask = K.heap.alloc(n / 4);
  const gate = Float32Array.from({ length: n }, () => (rand() * 2 - 1) * (rand() < 0.05 ? 12 : 3));
  K.heap.f32(g, n).set(gate);
  for (const gelu of [false, true]) {
    const want = new Float32Array(n);
    gateActivations(gate, 0, n, gelu, want);
    const means = Array.from({ length: n / 4 }, (_, k) => (want[4 * k] + want[4 * k + 1] + want[4 * k + 2] + want[4 * k + 3]) / 4).sort(
      (a, b) => a - b,
    );
    const threshold = (means[59] + means[60]) / 2; // between two groups: no tie for the rounding to break
    const kept = K.gateGroups!(g, n, gelu, threshold, act, mask);
    const got = K.heap.f32(act, n);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(got[i] - want[i]) <= 1e-5 * Math.max(1, want[i]), `${gelu ? "gelu" : "silu"} ${i}`);
    const h = new Float32Array(n).fill(1);
    assert.equal(kept, dropGroups(h, 0, want, n, threshold, { size: 4 }));
    const wantMask = Uint8Array.from({ length: n / 4 }, (_, k) => (h[4 * k] !== 0 ? 1 : 0));
    assert.deepEqual(K.heap.u8(mask, n / 4), wantMask);
    assert.equal(kept, (n / 4 - 60) * 4);
  }
});
