/**
 * ffn-skip-linear's maps in a wasm memory of their own, applied by the SIMD
 * kernel `lowRank` (src/kernels/assembly/lowrank.ts). The plain TypeScript
 * product (applyLowRank) cost ~59 µs per skipped FFN and token on SmolLM2,
 * enough to cancel what the skipped bytes save; the kernel gives the same
 * bits (it keeps the reference's f64 accumulation order) in a fraction of it.
 *
 * The maps are widened to f32 here (exactly: the side file's values are f16),
 * since converting f16 inside the kernel cost more than reading twice the
 * bytes; `runBytes` is what a skipped FFN reads, and the speed bound charges
 * that. U is stored transposed so the second product runs across contiguous rows.
 */
import { SharedHeap } from "../kernels/heap.js";
import { instantiateKernels, kernelModule, type KernelExports } from "../kernels/wasm-module.js";
import { f16ToF32, f32ToF16 } from "../quant/f16.js";
import type { LowRankMap } from "./linear-fit.js";

/** eps of the unit-RMS normalization of the stand-in's input (the fit uses the same) */
export const UNIT_RMS_EPS = 1e-6;

/** out[0..dim) = row / rms(row): the FFN input before the norm's weight. */
export function unitRms(m: Float32Array, at: number, dim: number, out: Float32Array, outAt = 0): void {
  let ss = 0;
  for (let i = 0; i < dim; i++) ss += m[at + i] * m[at + i];
  const s = 1 / Math.sqrt(ss / dim + UNIT_RMS_EPS);
  for (let i = 0; i < dim; i++) out[outAt + i] = m[at + i] * s;
}

/** the f16 bits of a map's value; the maps come from the side file, so every value is one */
function half(v: number, what: string): number {
  const h = f32ToF16(v);
  if (f16ToF32(h) !== Math.fround(v)) throw new Error(`ffn-skip-linear: ${what} holds ${v}, which is not an f16 value`);
  return h;
}

/** Bytes one skipped FFN's stand-in reads at run time (b, U, V in f32), for the speed bound. */
export function runBytes(dim: number, rank: number): number {
  return 4 * dim + 2 * 4 * dim * rank;
}

interface Placed {
  v: number;
  ut: number;
  b: number;
}

/** Per-layer maps placed in a wasm memory; `apply` adds a layer's stand-in to residual rows. */
export class StandInKernel {
  readonly dim: number;
  readonly rank: number;
  private readonly k: KernelExports;
  private readonly placed: (Placed | null)[];
  private readonly x: number;
  private readonly z: number;
  private readonly u: number;
  private readonly xView: Float32Array;
  private readonly uView: Float64Array;

  /**
   * @param scale the stand-in is added times this (1: as fitted, bit for bit the reference; the
   *   stand-in-scale knob shrinks a map that predicts poorly towards zero)
   */
  constructor(
    layers: readonly (LowRankMap | null)[],
    dim: number,
    rank: number,
    readonly scale = 1,
  ) {
    if (!(Number.isFinite(scale) && scale >= 0 && scale <= 2)) throw new Error(`stand-in scale must be a number in [0, 2], got ${scale}`);
    this.dim = dim;
    this.rank = rank;
    const mapped = layers.filter((m) => m !== null).length;
    const heap = new SharedHeap(mapped * (8 * dim * rank + 4 * dim + 192) + 16 * dim + 8 * rank + 65536 * 2);
    this.x = heap.alloc(4 * dim);
    this.z = heap.alloc(8 * rank);
    this.u = heap.alloc(8 * dim);
    this.placed = layers.map((m, l) => {
      if (!m) return null;
      if (m.dim !== dim || m.rank !== rank) throw new Error(`ffn-skip-linear: layer ${l}'s map is ${m.dim}×${m.rank}, not ${dim}×${rank}`);
      const p = { v: heap.alloc(4 * dim * rank), ut: heap.alloc(4 * dim * rank), b: heap.alloc(4 * dim) };
      const v = heap.f32(p.v, dim * rank),
        ut = heap.f32(p.ut, dim * rank);
      for (let i = 0; i < dim; i++)
        for (let j = 0; j < rank; j++) {
          v[i * rank + j] = f16ToF32(half(m.V[i * rank + j], `layer ${l}'s V`));
          ut[j * dim + i] = f16ToF32(half(m.U[i * rank + j], `layer ${l}'s U`));
        }
      heap.f32(p.b, dim).set(m.b);
      return p;
    });
    this.k = instantiateKernels(kernelModule(), heap.memory);
    this.xView = heap.f32(this.x, dim);
    this.uView = new Float64Array(heap.memory.buffer, this.u, dim);
  }

  /** Whether `layer` has a map. */
  has(layer: number): boolean {
    return !!this.placed[layer];
  }

  /** m[at..at+dim) += scale · (b + U Vᵀ (row / rms(row))) with layer's map; at scale 1 as unitRms + applyLowRank, bit for bit. */
  apply(layer: number, m: Float32Array, at: number): void {
    const p = this.placed[layer];
    if (!p) return;
    const dim = this.dim;
    unitRms(m, at, dim, this.xView);
    this.k.lowRank(this.x, dim, this.rank, p.v, p.ut, p.b, this.z, this.u);
    const u = this.uView,
      scale = this.scale;
    for (let i = 0; i < dim; i++) m[at + i] += u[i] * scale;
  }
}
