import { test } from "node:test";
import assert from "node:assert/strict";
import { addInto, rmsnorm, rope } from "./ops.js";
import { ReferenceKernels } from "./reference.js";
import { WasmKernels } from "./wasm.js";
import { SharedHeap } from "./heap.js";
import { runsBuild, type KernelVariant } from "./wasm-module.js";
import type { Kernels } from "./types.js";
import { rng } from "../../test/helpers/kernel-testdata.js";

const VARIANTS: KernelVariant[] = ["baseline", "relaxed", ...(runsBuild("dotadd") ? (["dotadd"] as const) : [])];

/** Every backend: the wasm builds this runtime runs, and the TypeScript reference. */
async function backends(): Promise<{ name: string; K: Kernels }[]> {
  const out: { name: string; K: Kernels }[] = [];
  for (const v of VARIANTS) out.push({ name: v, K: await WasmKernels.create(1, new SharedHeap(), v) });
  out.push({ name: "reference", K: new ReferenceKernels(new SharedHeap()) });
  return out;
}

/** n floats of mixed magnitudes (1e-3 .. 1e3, both signs) written at a fresh heap offset. */
function floats(K: Kernels, n: number, r: () => number): { at: number; v: Float32Array } {
  const v = Float32Array.from({ length: n }, () => (r() - 0.5) * 10 ** (6 * r() - 3));
  const at = K.heap.alloc(n * 4, 64);
  K.heap.f32(at, n).set(v);
  return { at, v };
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

test("the rmsnorm, addInto and rope kernels equal ops.ts bit for bit in every build (tails, several rows, both RoPE styles, partial rotary)", async () => {
  for (const { name, K } of await backends()) {
    const r = rng(5);
    // rmsnorm: rows of 4096, 576 and 1003 (a tail of 3), in place and not
    for (const [n, rows] of [
      [4096, 1],
      [576, 3],
      [1003, 2],
      [2, 1],
    ]) {
      const x = floats(K, n * rows, r),
        w = floats(K, n, r);
      const out = K.heap.alloc(n * rows * 4, 64);
      K.rmsnorm(out, x.at, w.at, n, rows, 1e-5);
      const want = new Float32Array(n * rows);
      for (let t = 0; t < rows; t++) rmsnorm(want, t * n, x.v, t * n, w.v, n, 1e-5);
      assert.deepEqual(bits(K.heap.f32(out, n * rows).slice()), bits(want), `${name}: rmsnorm ${rows} x ${n}`);
      K.rmsnorm(x.at, x.at, w.at, n, rows, 1e-5);
      assert.deepEqual(bits(K.heap.f32(x.at, n * rows).slice()), bits(want), `${name}: rmsnorm ${rows} x ${n} in place`);
    }
    // addInto, with a tail
    {
      const n = 4099;
      const d = floats(K, n, r),
        s = floats(K, n, r);
      K.addInto(d.at, s.at, n);
      const want = Float32Array.from(d.v);
      addInto(want, 0, s.v, 0, n);
      assert.deepEqual(bits(K.heap.f32(d.at, n).slice()), bits(want), `${name}: addInto`);
    }
    // rope: 7B-like heads, Gemma-like (neox), partial rotary with an odd half
    for (const [nHeads, headDim, ropeDim, neox] of [
      [32, 128, 128, false],
      [4, 256, 256, true],
      [3, 64, 38, true],
      [3, 64, 38, false],
    ] as const) {
      const v = floats(K, nHeads * headDim, r);
      const cs = floats(K, ropeDim / 2, r),
        sn = floats(K, ropeDim / 2, r);
      K.rope(v.at, nHeads, headDim, ropeDim, neox, cs.at, sn.at);
      const want = Float32Array.from(v.v);
      rope(want, 0, nHeads, headDim, ropeDim, neox, cs.v, sn.v);
      assert.deepEqual(
        bits(K.heap.f32(v.at, nHeads * headDim).slice()),
        bits(want),
        `${name}: rope ${nHeads}x${headDim}, ropeDim ${ropeDim}, ${neox ? "neox" : "pairs"}`,
      );
    }
    if (K instanceof WasmKernels) {
      assert.throws(() => K.rmsnorm(2, 64, 64, 16, 1, 1e-5), /rmsnorm: 16 floats at 2 are misaligned/);
      assert.throws(() => K.addInto(64, K.heap.memory.buffer.byteLength - 8, 4), /addInto: 4 floats at .* outside the heap/);
      assert.throws(() => K.rope(64, 1, 64, 66, false, 64, 64), /rotary dimension 66 must be even and at most the head's 64/);
    }
    await K.dispose();
  }
});
