/**
 * ffn-skip-linear (this project's method, not the paper's; docs/method.md):
 * FFN-SkipLLM's decision, unchanged (the inner FfnSkipPolicy decides), and a
 * skipped FFN's output is replaced by a low-rank linear map of its input,
 * b + U (Vᵀ x̂), fitted per layer on the dense model's FFN inputs and outputs
 * over the calibration prompts (linear-fit.ts). x̂ = h / rms(h) is the FFN's
 * input before the norm's weight (the weight is a diagonal scale, which the
 * fit absorbs into V), so the stand-in needs only the residual row the
 * forward pass hands to `standIn`. The product runs in a wasm SIMD kernel
 * (linear-kernel.ts), bit-identical to the TypeScript reference applyLowRank.
 *
 * The maps live in a side file next to the profile (f16, format below); at
 * run time they are read, widened to f32 (runBytes), for every skipped FFN,
 * and those bytes count against the speed-up.
 *
 * File: "FSLI", then u32 version (2), nLayers, dim, rank, then nLayers u32
 * flags (1 = the layer has a map), then per mapped layer in order b (dim,
 * f32: Gemma's FFN outputs have entries beyond f16's range), U (dim × rank,
 * row-major) and V (dim × rank) as f16, all little-endian. Version 1 stored b
 * as f16 too and is still read.
 */
import { loadSideFile } from "./side-file.js";
import { writeFileSync } from "node:fs";
import { f16ToF32, f32ToF16 } from "../quant/f16.js";
import { FfnSkipPolicy, type FfnSkipOptions } from "./ffn-skip.js";
import type { LowRankMap } from "./linear-fit.js";
import { runBytes, StandInKernel } from "./linear-kernel.js";
import type { SkipStats, StepInfo } from "./policy.js";
import type { RewindGuard } from "./rewind.js";
import { PolicyWrapper } from "./wrapper.js";

/** Per-layer maps (null where the FFN always runs). */
export interface StandInMaps {
  nLayers: number;
  dim: number;
  rank: number;
  layers: (LowRankMap | null)[];
}

const MAGIC = 0x494c5346; // "FSLI" little-endian
const VERSION = 2;
/** bytes of one entry of b by file version */
const B_BYTES: Record<number, number> = { 1: 2, 2: 4 };

/** Bytes of one layer's map in the file (b f32, U and V f16): what a skipped FFN reads instead of its weights. */
export function mapBytes(dim: number, rank: number, version = VERSION): number {
  return B_BYTES[version] * dim + 2 * 2 * dim * rank;
}

/** Encode maps as the side file's bytes. */
export function encodeStandIn(s: StandInMaps): Uint8Array {
  const mapped = s.layers.filter((m) => m !== null).length;
  const head = 4 * (5 + s.nLayers);
  const buf = new ArrayBuffer(head + mapped * mapBytes(s.dim, s.rank));
  const dv = new DataView(buf);
  [MAGIC, VERSION, s.nLayers, s.dim, s.rank].forEach((v, i) => dv.setUint32(4 * i, v, true));
  let o = head;
  s.layers.forEach((m, l) => {
    dv.setUint32(4 * (5 + l), m ? 1 : 0, true);
    if (!m) return;
    if (m.dim !== s.dim || m.rank !== s.rank)
      throw new Error(`encodeStandIn: layer ${l} is ${m.dim}×${m.rank}, file is ${s.dim}×${s.rank}`);
    for (let i = 0; i < m.b.length; i++, o += 4) dv.setFloat32(o, m.b[i], true);
    for (const a of [m.U, m.V])
      for (let i = 0; i < a.length; i++, o += 2) {
        const h = f32ToF16(a[i]);
        if ((h & 0x7c00) === 0x7c00) throw new Error(`encodeStandIn: layer ${l}: ${a[i]} does not fit in f16`);
        dv.setUint16(o, h, true);
      }
  });
  return new Uint8Array(buf);
}

/** Decode the side file's bytes (`where` names it in errors). */
export function decodeStandIn(bytes: Uint8Array, where = "stand-in file"): StandInMaps {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 20 || dv.getUint32(0, true) !== MAGIC)
    throw new Error(`${where}: not an ffn-skip-linear stand-in file (magic FSLI)`);
  const [version, nLayers, dim, rank] = [1, 2, 3, 4].map((i) => dv.getUint32(4 * i, true));
  if (!B_BYTES[version]) throw new Error(`${where}: version ${version}, supported: 1, 2`);
  const head = 4 * (5 + nLayers);
  if (bytes.byteLength < head) throw new Error(`${where}: truncated header`);
  const flags = Array.from({ length: nLayers }, (_, l) => dv.getUint32(4 * (5 + l), true));
  const need = head + flags.filter((f) => f === 1).length * mapBytes(dim, rank, version);
  if (bytes.byteLength !== need) throw new Error(`${where}: ${bytes.byteLength} bytes, expected ${need} for its header`);
  let o = head;
  const read = (n: number): Float32Array => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++, o += 2) a[i] = f16ToF32(dv.getUint16(o, true));
    return a;
  };
  const readB = (): Float32Array => {
    if (version === 1) return read(dim);
    const a = new Float32Array(dim);
    for (let i = 0; i < dim; i++, o += 4) a[i] = dv.getFloat32(o, true);
    return a;
  };
  const layers = flags.map((f) => (f === 1 ? { dim, rank, b: readB(), U: read(dim * rank), V: read(dim * rank) } : null));
  return { nLayers, dim, rank, layers };
}

export function writeStandIn(path: string, s: StandInMaps): void {
  writeFileSync(path, encodeStandIn(s));
}

const kernels = new WeakMap<StandInMaps, Map<number, StandInKernel>>();

/** The kernel over `maps` with the stand-in times `scale`, placed once per process (every sequence's policy shares it). */
export function standInKernel(maps: StandInMaps, scale = 1): StandInKernel {
  let byScale = kernels.get(maps);
  if (!byScale) {
    byScale = new Map();
    kernels.set(maps, byScale);
  }
  let k = byScale.get(scale);
  if (!k) {
    k = new StandInKernel(maps.layers, maps.dim, maps.rank, scale);
    byScale.set(scale, k);
  }
  return k;
}

/** Read a side file once per process (every sequence's policy shares the maps; they are read-only). */
export function loadStandIn(path: string): StandInMaps {
  return loadSideFile(path, "stand-in file", decodeStandIn);
}

/** Bytes a skipped FFN still reads under `skip`, for speed bounds: ffn-skip-linear's maps (runBytes), none for other methods. */
export function bytesPerSkip(skip: { method: string; standInFile?: string }): number {
  if (skip.method !== "ffn-skip-linear" || !skip.standInFile) return 0;
  const maps = loadStandIn(skip.standInFile);
  return runBytes(maps.dim, maps.rank);
}

/** Options of LinearSkipPolicy beyond FFN-SkipLLM's. */
export interface LinearExtras {
  /** the loop rewind (rewind.ts), or none */
  guard?: RewindGuard | null;
  /** the stand-in times this (shrinkage towards zero; 1 = as fitted) */
  scale?: number;
}

/**
 * FFN-SkipLLM's decisions with the low-rank stand-in added for every skipped
 * FFN, and optionally the loop rewind (rewind.ts): a repeat made under
 * skipping is taken back and the inner policy runs dense while it is made again.
 */
export class LinearSkipPolicy extends PolicyWrapper {
  private readonly maps: StandInMaps;
  private readonly kernel: StandInKernel;
  private readonly ffn: FfnSkipPolicy;
  private readonly guard: RewindGuard | null;

  constructor(nLayers: number, o: FfnSkipOptions, maps: StandInMaps, extras: LinearExtras = {}) {
    const ffn = new FfnSkipPolicy(nLayers, o);
    super(ffn);
    this.ffn = ffn;
    this.guard = extras.guard ?? null;
    if (maps.nLayers !== nLayers)
      throw new Error(`ffn-skip-linear: stand-in maps are for ${maps.nLayers} layers, the model has ${nLayers}`);
    for (let l = o.coldStart; l < nLayers - o.coldEnd; l++)
      if (!maps.layers[l])
        throw new Error(
          `ffn-skip-linear: the stand-in file has no map for layer ${l}, which may be skipped (middle layers ${o.coldStart}..${nLayers - o.coldEnd - 1}); refit it with this cold region`,
        );
    this.maps = maps;
    this.kernel = standInKernel(maps, extras.scale ?? 1);
  }

  override get method(): string {
    return "ffn-skip-linear";
  }

  override get wantsFFNOutput(): boolean {
    return true;
  }

  override beginStep(step: StepInfo): void {
    if (this.guard && step.phase === "decode" && this.guard.nextDense()) this.ffn.denseNextStep();
    super.beginStep(step);
  }

  override takeBack(out: readonly number[]): number {
    if (!this.guard) return 0;
    const back = this.guard.accept(out, this.ffn.skippedLastStep);
    if (back > 0) this.ffn.discardSteps(back);
    return back;
  }

  override get lookBehind(): number {
    return this.guard?.lookBehind ?? 0;
  }

  override reset(): void {
    super.reset();
    this.guard?.reset();
  }

  override observeFFNOutput(): void {}

  override standIn(layer: number, m: Float32Array, at: number, n: number, dim: number): void {
    if (!this.kernel.has(layer)) return;
    if (this.maps.dim !== dim) throw new Error(`ffn-skip-linear: stand-in maps have dim ${this.maps.dim}, the model ${dim}`);
    for (let t = 0; t < n; t++) this.kernel.apply(layer, m, at + t * dim);
  }

  override stats(): SkipStats {
    const s = { ...super.stats(), method: this.method };
    return this.guard ? { ...s, taken_back: this.guard.takenBack, rewinds: this.guard.rewinds } : s;
  }
}
