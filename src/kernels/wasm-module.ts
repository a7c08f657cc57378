import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The functions build/kernels.wasm exports (see src/kernels/assembly/kernels.ts). */
export interface KernelExports {
  actBytes(cols: number): number;
  quantizeAct(x: number, cols: number, act: number): void;
  usesAct(type: number): number;
  supports(type: number): number;
  packable(type: number): number;
  setScratch(p: number, bytes: number): void;
  repack(type: number, w: number, rowBytes: number, cols: number, rows: number, scratch: number): void;
  getRow(type: number, w: number, rowBytes: number, cols: number, rows: number, row: number, dst: number): void;
  matmul(type: number, w: number, rowBytes: number, cols: number, rows: number, r0: number, r1: number,
    act: number, actStride: number, x: number, n: number, out: number, outStride: number): void;
  probeSum(p: number, bytes: number): number;
  swiglu(x: number, y: number, n: number): void;
  attention(out: number, q: number, kc: number, vc: number, kvDim: number, pos: number,
    nHeads: number, nKvHeads: number, headDim: number, scores: number): void;
}

const WASM_NAME = "kernels.wasm";
let cached: WebAssembly.Module | undefined;

/**
 * Path of the compiled kernels: `build/kernels.wasm` under the package root,
 * found by walking up from this file (it runs from src/kernels under tsx and
 * from dist/src/kernels when built), so the working directory never matters.
 */
export function kernelWasmPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, "build", WASM_NAME);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  throw new Error(`${WASM_NAME} not found in a build/ folder above ${fileURLToPath(import.meta.url)}; run "npm run build:kernels"`);
}

/** Compile (once per thread) the kernel module. */
export function kernelModule(): WebAssembly.Module {
  cached ??= new WebAssembly.Module(readFileSync(kernelWasmPath()));
  return cached;
}

/** Instantiate the kernels over `memory` (a shared memory created by SharedHeap). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  return inst.exports as unknown as KernelExports;
}
