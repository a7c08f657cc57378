import type { Kernels } from "./types.js";
import { ReferenceKernels } from "./reference.js";

export interface KernelOptions {
  /** worker threads including the main thread (wasm backend only) */
  threads?: number;
  /** "wasm" (default): SIMD kernels; "reference": plain TypeScript ground truth */
  backend?: "wasm" | "reference";
}

/** Create the matrix kernels and the heap the whole model lives in. */
export async function createKernels(opts: KernelOptions = {}): Promise<Kernels> {
  const backend = opts.backend ?? "reference";
  if (backend === "reference") return new ReferenceKernels();
  throw new Error(`kernel backend "${backend}" is not available yet; supported: reference`);
}
