// Kernel builds for the A/B micro-benchmarks (matmul-n, attention, kernels-ab):
// each .wasm instantiated over one shared heap, so the same matrices and
// activations serve every build.
import { readFileSync } from "node:fs";
import type { SharedHeap } from "../src/kernels/heap.js";
import { instantiateKernels, kernelWasmPath, type KernelExports } from "../src/kernels/wasm-module.js";

/** The build at `path` over `heap`'s memory. */
export function loadBuild(path: string, heap: SharedHeap): KernelExports {
  return instantiateKernels(new WebAssembly.Module(readFileSync(path)), heap.memory);
}

/** The builds named in `list` (comma-separated paths; empty: this checkout's relaxed build), with their file names. */
export function loadBuilds(list: string, heap: SharedHeap): { name: string; K: KernelExports }[] {
  const paths = list ? list.split(",") : [kernelWasmPath("relaxed")];
  return paths.map((p) => ({ name: p.replace(/.*\//, ""), K: loadBuild(p, heap) }));
}
