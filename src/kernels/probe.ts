import { SharedHeap } from "./heap.js";
import { instantiateKernels, kernelModule } from "./wasm-module.js";

export interface BandwidthResult {
  /** bytes read per pass */
  bytes: number;
  /** best of `passes` passes, GB/s (1e9 bytes) */
  gbps: number;
}

/**
 * Single-core memory bandwidth as the wasm kernels see it: a SIMD sum over a
 * `mb`-MiB buffer (much larger than any cache) in eight streams, as the
 * decode kernels read, best of `passes` after one warm-up pass. The matvec
 * benchmark and the roofline figure of `ffnskip bench` compare against it.
 */
export function probeBandwidth(mb = 256, passes = 3): BandwidthResult {
  const heap = new SharedHeap();
  const bytes = mb * 1024 * 1024;
  const p = heap.alloc(bytes);
  const v = heap.f32(p, bytes / 4);
  for (let i = 0; i < v.length; i += 1024) v[i] = 1; // touch every page so it is really mapped
  const k = instantiateKernels(kernelModule(), heap.memory);
  k.probeSum(p, bytes);
  let best = Infinity;
  for (let i = 0; i < passes; i++) {
    const t0 = process.hrtime.bigint();
    k.probeSum(p, bytes);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { bytes, gbps: bytes / best / 1e9 };
}

/**
 * The int8 kernels' instruction bound on one core: multiply-adds per second
 * of the dot + add pair every int8 kernel needs per 16 (relaxed build) or 8
 * (baseline) products, on L1 data with nothing else (assembly/probe.ts
 * peakDot), best of `passes`. Kernel throughput divided by this is the share
 * of the bound a kernel reaches (bench/kernels.ts).
 */
export function peakInt8Macs(passes = 15, iters = 2_000_000): { gmacs: number; relaxed: boolean } {
  const heap = new SharedHeap();
  const p = heap.alloc(256);
  heap.u8(p, 256).forEach((_, i, a) => {
    a[i] = (i * 37) & 127;
  });
  const k = instantiateKernels(kernelModule(), heap.memory);
  const relaxed = k.relaxed() >= 1;
  // V8 compiles wasm with a baseline compiler first and tiers a function up to
  // the optimizing one after enough calls: warm up until it has
  for (let i = 0; i < 50; i++) k.peakDot(p, iters / 20);
  let best = Infinity;
  for (let i = 0; i < passes; i++) {
    const t0 = process.hrtime.bigint();
    k.peakDot(p, iters);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { gmacs: (iters * (relaxed ? 128 : 64)) / best / 1e9, relaxed };
}
