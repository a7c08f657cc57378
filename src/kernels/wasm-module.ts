import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";

/** The functions build/kernels.wasm exports (see src/kernels/assembly/kernels.ts). */
export interface KernelExports {
  actBytes(cols: number): number;
  quantizeAct(x: number, cols: number, act: number): void;
  quantizeActK(x: number, cols: number, act: number): void;
  actKind(type: number): number;
  supports(type: number): number;
  packable(type: number): number;
  setScratch(p: number, bytes: number): void;
  repack(type: number, w: number, rowBytes: number, cols: number, rows: number, scratch: number): void;
  getRow(type: number, w: number, rowBytes: number, cols: number, rows: number, row: number, dst: number): void;
  packableK(type: number): number;
  scratchNeedK(rowBytes: number): number;
  plainRowK(type: number, w: number, rowBytes: number, cols: number, rows: number, row: number, dst: number): void;
  matmul(
    type: number,
    w: number,
    rowBytes: number,
    cols: number,
    rows: number,
    r0: number,
    r1: number,
    act: number,
    actStride: number,
    x: number,
    n: number,
    out: number,
    outStride: number,
    /** 0, or the job's activations split once by splitJob (omitted: 0) */
    split?: number,
  ): void;
  /** bytes splitJob writes for n activations of a `type` (PACKED | ggml type) matrix of `cols` columns; 0: matmul does not split them */
  splitNeed(type: number, cols: number, n: number): number;
  /** split n A16 activations (act, actStride apart) once for a whole job into dst (splitNeed bytes); see matmul's `split` */
  splitJob(type: number, cols: number, act: number, actStride: number, n: number, dst: number): void;
  probeSum(p: number, bytes: number): number;
  /** rounds of 8 int8 dot + add steps on L1 data (see assembly/probe.ts); returns a checksum */
  peakDot(p: number, iters: number): number;
  relaxed(): number;
  selfTest(p: number): number;
  swiglu(x: number, y: number, n: number): void;
  geglu(x: number, y: number, n: number): void;
  gateGroups(g: number, n: number, gelu: number, threshold: number, act: number, mask: number): number;
  toHalves(src: number, dst: number, n: number, rows: number, dstStride: number): void;
  rmsnorm(out: number, x: number, w: number, n: number, rows: number, eps: number): void;
  addInto(dst: number, src: number, n: number): void;
  rope(v: number, nHeads: number, headDim: number, ropeDim: number, neox: number, cos: number, sin: number): void;
  lowRank(x: number, dim: number, rank: number, v: number, ut: number, b: number, z: number, u: number): void;
  neuronMajorBytes(rows: number, cols: number): number;
  /** 0, or 1 when a Q4_0 scale's -8d is not a half (no copy) */
  toNeuronMajor(type: number, w: number, rowBytes: number, cols: number, rows: number, dst: number, perm: number): number;
  permuteRows(type: number, w: number, rowBytes: number, cols: number, rows: number, perm: number, dst: number): void;
  neuronActBytes(cols: number): number;
  quantizeNeurons(h: number, cols: number, a: number): void;
  attention(
    out: number,
    q: number,
    kc: number,
    vc: number,
    posStride: number,
    headStride: number,
    pos: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
    scores: number,
    f16: number,
  ): void;
  /** bytes of `scores` scratch attention needs at `pos` (absent in builds before it) */
  attentionScratch(pos: number, nHeads: number, nKvHeads: number, headDim: number): number;
}

/**
 * Which build of the kernels to run: "relaxed" uses WebAssembly relaxed SIMD
 * (an int8 dot product, about twice the multiply-adds per instruction; needs
 * Node >= 22, or Node 20 with V8's --experimental-wasm-relaxed-simd, which
 * kernelModule turns on), "dotadd" the same with the int8 dot-add
 * (i32x4.relaxed_dot_i8x16_i7x16_add_s: one instruction where the runtime
 * has a native one, vpdpbusd with AVX-VNNI in Node 24's V8 13.6; three in
 * Node 22's), "baseline" plain SIMD128. All give bit-identical results. "auto"
 * (default) takes relaxed when the engine runs it correctly, and dotadd
 * instead when that runs correctly too and times no slower (chooseRelaxed).
 */
export type KernelVariant = "auto" | "relaxed" | "dotadd" | "baseline";
type Build = Exclude<KernelVariant, "auto">;
const FILES = { baseline: "kernels.wasm", relaxed: "kernels-relaxed.wasm", dotadd: "kernels-dotadd.wasm" } as const;
/** compiled builds, once per thread; null: the build does not run here */
const cached = new Map<Build, WebAssembly.Module | null>();
/** Whether a build runs here, or why not (see buildStatus). */
export type BuildStatus = "runs" | "no relaxed SIMD" | "self-test failed";
/** why a relaxed build was refused, once per thread */
const refused = new Map<Build, BuildStatus>();
/** auto's choice between relaxed and dotadd, made once per thread */
let autoChoice: Build | undefined;

/**
 * Path of a compiled kernel build: `build/<file>` under the package root,
 * found by walking up from this file (it runs from src/kernels under tsx and
 * from dist/src/kernels when built), so the working directory never matters.
 */
export function kernelWasmPath(variant: Build = "baseline"): string {
  const name = FILES[variant];
  const p = buildFile(name);
  if (p) return p;
  throw new Error(`${name} not found in a build/ folder above ${fileURLToPath(import.meta.url)}; run "npm run build:kernels"`);
}

/** `build/<name>` in the nearest folder above this file that has it, or undefined. */
export function buildFile(name: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, "build", name);
    if (existsSync(p)) return p;
    dir = dirname(dir);
  }
  return undefined;
}

/** The variant asked for by FFNSKIP_KERNELS (auto | relaxed | dotadd | baseline), default auto. */
export function variantFromEnv(): KernelVariant {
  const v = process.env.FFNSKIP_KERNELS ?? "auto";
  if (v === "auto" || v === "relaxed" || v === "dotadd" || v === "baseline") return v;
  throw new Error(`FFNSKIP_KERNELS=${v} is not a kernel variant; supported: auto, relaxed, dotadd, baseline`);
}

/** Compile a relaxed build, enabling relaxed SIMD in V8 first where it is still behind a flag; null if the engine can't run it. */
function compileRelaxed(build: "relaxed" | "dotadd"): WebAssembly.Module | null {
  const bytes = readFileSync(kernelWasmPath(build));
  // Node 20 (V8 11.3) has relaxed SIMD behind a flag; flags are process-wide
  // and read at compile time, so this also covers the pool's worker threads.
  if (!WebAssembly.validate(bytes)) setFlagsFromString("--experimental-wasm-relaxed-simd");
  if (!WebAssembly.validate(bytes)) {
    refused.set(build, "no relaxed SIMD");
    return null;
  }
  const module = new WebAssembly.Module(bytes);
  // V8 may lower relaxed ops differently per CPU (V8 13's dot-add passed on an AVX-512 VNNI host and fails on an
  // AVX2-only one, session 24): check the one the kernels use.
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  if (instantiateKernels(module, memory).selfTest(1024) === 1) return module;
  refused.set(build, "self-test failed");
  return null;
}

/** Whether this engine, on this CPU, runs the kernel `build`; if not, whether relaxed SIMD is missing or its self-test failed. */
export function buildStatus(build: Build): BuildStatus {
  return compiled(build) ? "runs" : refused.get(build)!;
}

/** True when this engine runs the kernel `build` correctly (its self-test passes). */
export function runsBuild(build: Build): boolean {
  return compiled(build) !== null;
}

/** The compiled `build` (once per thread), or null when this engine cannot run it. */
function compiled(build: Build): WebAssembly.Module | null {
  if (!cached.has(build))
    cached.set(build, build === "baseline" ? new WebAssembly.Module(readFileSync(kernelWasmPath("baseline"))) : compileRelaxed(build));
  return cached.get(build)!;
}

/**
 * Nanoseconds of a small decode product in a build: a packed Q4_0 matrix of
 * 256 x 1024 (in cache) times one activation, best of 7 x 10 after 100 calls
 * (which get it compiled by the optimizing tier), in a memory of its own.
 */
function decodeProbeNs(module: WebAssembly.Module): number {
  const rows = 256,
    cols = 1024,
    rowBytes = (cols / 32) * 18,
    Q4_0_PACKED = 0x102;
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 16, shared: true });
  const k = instantiateKernels(module, memory);
  const w = 1 << 16,
    x = w + rows * rowBytes,
    act = x + cols * 4,
    out = act + k.actBytes(cols),
    scratch = out + rows * 4 + 64;
  const u8 = new Uint8Array(memory.buffer),
    view = new DataView(memory.buffer);
  let seed = 1;
  const byte = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  };
  for (let i = 0; i < rows * rowBytes; i++) u8[w + i] = byte();
  for (let b = 0; b < (rows * cols) / 32; b++) view.setUint16(w + b * 18, 0x2c00, true); // block scales 1/16, no subnormals
  for (let i = 0; i < cols; i++) view.setFloat32(x + 4 * i, (byte() - 128) / 64, true);
  k.repack(2, w, rowBytes, cols, rows, scratch);
  k.quantizeAct(x, cols, act);
  const product = (): void => k.matmul(Q4_0_PACKED, w, rowBytes, cols, rows, 0, rows, act, 0, x, 1, out, rows);
  for (let i = 0; i < 100; i++) product();
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 10; i++) product();
    best = Math.min(best, Number(process.hrtime.bigint() - t0));
  }
  return best;
}

/**
 * auto's relaxed build: dotadd where it runs correctly (its self-test) and
 * a small decode product is no slower in it than in relaxed. With a native
 * dot-add (vpdpbusd) it took 0.92-0.97 of relaxed's time on that in-cache
 * product here (0.83-0.91 in cache and 0.86-1.0 streaming on real shapes:
 * results/bench/dotadd-s13.md); lowered to three instructions (Node 22)
 * 1.4-1.6. Either choice computes the same bits.
 */
function chooseRelaxed(relaxed: WebAssembly.Module): Build {
  const dotadd = compiled("dotadd");
  if (!dotadd) return "relaxed";
  let a = Infinity,
    b = Infinity;
  for (let r = 0; r < 2; r++) {
    a = Math.min(a, decodeProbeNs(relaxed));
    b = Math.min(b, decodeProbeNs(dotadd));
  }
  return b <= a ? "dotadd" : "relaxed";
}

/** Compile (once per thread) the kernel module of `variant` ("auto": the faster relaxed build if relaxed SIMD works here, else baseline). */
export function kernelModule(variant: KernelVariant = variantFromEnv()): WebAssembly.Module {
  if (variant === "auto") {
    const relaxed = compiled("relaxed");
    if (!relaxed) return compiled("baseline")!;
    autoChoice ??= chooseRelaxed(relaxed);
    return compiled(autoChoice)!;
  }
  const m = compiled(variant);
  if (m) return m;
  const what = variant === "dotadd" ? "dot-add" : "relaxed-SIMD";
  if (refused.get(variant) === "self-test failed")
    throw new Error(
      `${what} kernels do not run on this JavaScript engine and CPU: V8 ${process.versions.v8} lowers its relaxed dot product here in a way that fails the kernels' exactness self-test; use FFNSKIP_KERNELS=${variant === "dotadd" ? "auto, relaxed" : "auto"} or baseline`,
    );
  throw new Error(
    `${what} kernels do not run on this JavaScript engine (needs WebAssembly relaxed SIMD: Node >= 20); use FFNSKIP_KERNELS=baseline`,
  );
}

/** Instantiate the kernels over `memory` (a shared memory created by SharedHeap). */
export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const inst = new WebAssembly.Instance(module, { env: { memory } });
  return inst.exports as unknown as KernelExports;
}

/** An active data segment of a module: its bytes and the address they are written to. */
export interface DataSegment {
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
export function dataSegments(wasm: Uint8Array): DataSegment[] {
  const segs: DataSegment[] = [];
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
