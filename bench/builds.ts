// Kernel builds for the A/B micro-benchmarks (matmul-n, attention, kernels-ab,
// decode-ab, batch-check): each .wasm instantiated over one shared heap, so the
// same matrices and activations serve every build.
//
// Each build also has static data (constant tables such as exp4's) at fixed
// addresses at the bottom of that memory, and two builds' tables may overlap:
// instantiating the second overwrites the first's, which then computes garbage.
// So every exported function of a build puts its own static data back first
// whenever another build ran since (a few kB copied once per switch).
import { readFileSync } from "node:fs";
import type { SharedHeap } from "../src/kernels/heap.js";
import { dataSegments, instantiateKernels, kernelWasmPath, type KernelExports } from "../src/kernels/wasm-module.js";

/** Which build's static data the shared memory holds now (per memory). */
const owner = new WeakMap<WebAssembly.Memory, object>();

/** The build at `path` over `heap`'s memory. */
export function loadBuild(path: string, heap: SharedHeap): KernelExports {
  const wasm = readFileSync(path);
  const K = instantiateKernels(new WebAssembly.Module(wasm), heap.memory);
  const segs = dataSegments(wasm);
  const me = {};
  owner.set(heap.memory, me);
  const own = (): void => {
    if (owner.get(heap.memory) === me) return;
    const mem = new Uint8Array(heap.memory.buffer);
    for (const s of segs) mem.set(s.bytes, s.at);
    owner.set(heap.memory, me);
  };
  const wrapped: Record<string, unknown> = {};
  for (const [name, v] of Object.entries(K))
    wrapped[name] =
      typeof v === "function"
        ? (...args: unknown[]): unknown => {
            own();
            return (v as (...a: unknown[]) => unknown)(...args);
          }
        : v;
  return wrapped as unknown as KernelExports;
}

/** The builds named in `list` (comma-separated paths; empty: this checkout's relaxed build), with their file names. */
export function loadBuilds(list: string, heap: SharedHeap): { name: string; K: KernelExports }[] {
  const paths = list ? list.split(",") : [kernelWasmPath("relaxed")];
  return paths.map((p) => ({ name: p.replace(/.*\//, ""), K: loadBuild(p, heap) }));
}
