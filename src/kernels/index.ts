import { availableParallelism } from "node:os";
import type { Kernels } from "./types.js";
import { ReferenceKernels } from "./reference.js";
import { WasmKernels } from "./wasm.js";
import type { KernelVariant } from "./wasm-module.js";

/**
 * Default thread count: 2, or 1 on a single-core machine. Measured on the
 * shared 2-core box (results/bench/compare.md): with row chunks taken from a
 * shared counter, 2 threads decode SmolLM2-135M Q4_1 at 1.3x the speed of 1
 * (110.6 vs 86.3 tok/s) and prompts at 1.5x, and lose only when another job
 * holds the second core throughout. More than 2 is unmeasured, so not a default.
 */
export const DEFAULT_THREADS = Math.max(1, Math.min(2, availableParallelism()));

/**
 * Below this many bytes of weights a model runs on one thread by default:
 * its matrices are too small for a second thread to pay for the hand-off.
 * Measured (ffnskip bench, 2-core box): TinyStories-656K (2.6 MB of f32)
 * decodes at 4,000-5,600 tok/s on 1 thread and 2,950-4,000 on 2; SmolLM2-135M
 * (98 MB) at 86 vs 111 tok/s. Sizes in between are unmeasured.
 */
export const SMALL_MODEL_BYTES = 16 * 1024 * 1024;

/** The default thread count for a model whose weights take `weightBytes`. */
export function defaultThreads(weightBytes: number): number {
  return weightBytes < SMALL_MODEL_BYTES ? 1 : DEFAULT_THREADS;
}

export interface KernelOptions {
  /** worker threads including the main thread (wasm backend only) */
  threads?: number;
  /** "wasm" (default): SIMD kernels; "reference": plain TypeScript ground truth */
  backend?: "wasm" | "reference";
  /** wasm kernel build: "auto" (default, or $FFNSKIP_KERNELS), "relaxed", "baseline"; see KernelVariant */
  variant?: KernelVariant;
}

/**
 * `count` kernel sets, each with its own heap (a model's shards), sharing one worker pool (wasm backend; the
 * reference backend has no pool).
 */
export async function createKernelGroup(count: number, opts: KernelOptions = {}): Promise<Kernels[]> {
  const backend = opts.backend ?? "wasm";
  if (backend === "wasm") return WasmKernels.createGroup(count, opts.threads ?? DEFAULT_THREADS, opts.variant);
  const out: Kernels[] = [];
  for (let i = 0; i < count; i++) out.push(await createKernels(opts));
  return out;
}

/** Create the matrix kernels and the heap the whole model lives in. */
export async function createKernels(opts: KernelOptions = {}): Promise<Kernels> {
  const backend = opts.backend ?? "wasm";
  if (backend === "reference") return new ReferenceKernels();
  if (backend === "wasm") return WasmKernels.create(opts.threads ?? DEFAULT_THREADS, undefined, opts.variant);
  throw new Error(`unknown kernel backend "${String(backend)}"; supported: wasm, reference`);
}
