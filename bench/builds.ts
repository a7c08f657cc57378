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
import { instantiateKernels, kernelWasmPath, type KernelExports } from "../src/kernels/wasm-module.js";

/** An active data segment of a module: its bytes and the address they are written to. */
interface Segment {
  at: number;
  bytes: Uint8Array;
}

/** LEB128 unsigned integer at b[i]: [value, next index]. */
function uleb(b: Uint8Array, i: number): [number, number] {
  let v = 0,
    shift = 0;
  for (;;) {
    const c = b[i++];
    v += (c & 0x7f) * 2 ** shift;
    if (c < 0x80) return [v, i];
    shift += 7;
  }
}

/** Signed LEB128 (an i32.const operand) at b[i]. */
function sleb(b: Uint8Array, i: number): [number, number] {
  let v = 0,
    shift = 0,
    c: number;
  do {
    c = b[i++];
    v |= (c & 0x7f) << shift;
    shift += 7;
  } while (c & 0x80);
  if (shift < 32 && c & 0x40) v |= -1 << shift;
  return [v, i];
}

/** The active data segments (memory 0, `i32.const` offset) of a wasm binary. */
export function dataSegments(wasm: Uint8Array): Segment[] {
  const segs: Segment[] = [];
  let i = 8; // magic and version
  while (i < wasm.length) {
    const id = wasm[i];
    const [size, body] = uleb(wasm, i + 1);
    i = body + size;
    if (id !== 11) continue;
    let [count, p] = uleb(wasm, body);
    for (; count > 0; count--) {
      const [flags, q] = uleb(wasm, p);
      p = q;
      if (flags === 1) {
        // passive: no address
        const [len, r] = uleb(wasm, p);
        p = r + len;
        continue;
      }
      if (flags === 2) p = uleb(wasm, p)[1]; // explicit memory index
      if (wasm[p] !== 0x41) throw new Error(`data segment offset is not an i32.const (opcode 0x${wasm[p].toString(16)})`);
      const [at, r] = sleb(wasm, p + 1);
      if (wasm[r] !== 0x0b) throw new Error("data segment offset expression longer than one i32.const");
      const [len, s] = uleb(wasm, r + 1);
      segs.push({ at, bytes: wasm.slice(s, s + len) });
      p = s + len;
    }
  }
  return segs;
}

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
