import type { Kernels } from "./types.js";
import { ReferenceKernels } from "./reference.js";
import { WasmKernels } from "./wasm.js";

/**
 * Default thread count. Measured with `npx tsx bench/kernels.ts` on this
 * 2-core machine while it was shared (load average ~4.4): 2 threads were
 * slower than 1 for the 576x1536 Q4_1 and 49152x576 Q8_0 matvecs and a token's
 * worth of small matvecs cost ~5x more in hand-offs (the worker often is not
 * scheduled), so 1 is the safe default; pass threads: 2 on an idle machine
 * and re-measure.
 */
export const DEFAULT_THREADS = 1;

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
