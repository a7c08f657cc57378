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

export interface KernelOptions {
  /** worker threads including the main thread (wasm backend only) */
  threads?: number;
  /** "wasm" (default): SIMD kernels; "reference": plain TypeScript ground truth */
  backend?: "wasm" | "reference";
  /** wasm kernel build: "auto" (default, or $FFNSKIP_KERNELS), "relaxed", "baseline"; see KernelVariant */
  variant?: KernelVariant;
}

/** Create the matrix kernels and the heap the whole model lives in. */
export async function createKernels(opts: KernelOptions = {}): Promise<Kernels> {
  const backend = opts.backend ?? "wasm";
  if (backend === "reference") return new ReferenceKernels();
  if (backend === "wasm") return WasmKernels.create(opts.threads ?? DEFAULT_THREADS, undefined, opts.variant);
  throw new Error(`unknown kernel backend "${String(backend)}"; supported: wasm, reference`);
}
