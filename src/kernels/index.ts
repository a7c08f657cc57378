import type { Kernels } from "./types.js";
import { ReferenceKernels } from "./reference.js";
import { WasmKernels } from "./wasm.js";

/** Default thread count (see the measurement note in bench/kernels.ts). */
export const DEFAULT_THREADS = 2;

export interface KernelOptions {
  /** worker threads including the main thread (wasm backend only) */
  threads?: number;
  /** "wasm" (default): SIMD kernels; "reference": plain TypeScript ground truth */
  backend?: "wasm" | "reference";
}

/** Create the matrix kernels and the heap the whole model lives in. */
export async function createKernels(opts: KernelOptions = {}): Promise<Kernels> {
  const backend = opts.backend ?? "wasm";
  if (backend === "reference") return new ReferenceKernels();
  if (backend === "wasm") return WasmKernels.create(opts.threads ?? DEFAULT_THREADS);
  throw new Error(`unknown kernel backend "${String(backend)}"; supported: wasm, reference`);
}
