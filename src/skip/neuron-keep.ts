/**
 * ffn-prune's kept neurons (issue 16): per layer, the sorted list of the FFN
 * neurons its compact copy keeps (src/skip/prune.ts). Calibration writes it
 * (src/skip/calibrate-prune.ts) beside its profile as a binary side file
 * (`keep_file`):
 *
 *   "FFNKEEP1" | u32 nLayers | u32 ffnDim | per layer: u32 count, u16 neuron[count]
 *
 * A layer whose count is ffnDim keeps every neuron and runs the file's own
 * matrices. Counts are whole blocks of 32 (the compact down projection is
 * requantized to Q4_1 along the kept neurons).
 */
import { writeFileSync } from "node:fs";
import { loadSideFile } from "./side-file.js";

const MAGIC = "FFNKEEP1";
/** Kept counts are multiples of this (the Q4_1 block of the compact down projection). */
export const KEEP_BLOCK = 32;

/** Check one layer's list: increasing neuron numbers below ffnDim, a whole number of blocks, at least one block. */
export function checkKeep(keep: ArrayLike<number>, ffnDim: number, where: string): void {
  const n = keep.length;
  if (n < KEEP_BLOCK || n > ffnDim || n % KEEP_BLOCK !== 0)
    throw new Error(`${where}: ${n} kept neurons; need a multiple of ${KEEP_BLOCK} in [${KEEP_BLOCK}, ${ffnDim}]`);
  for (let i = 0; i < n; i++)
    if (!Number.isInteger(keep[i]) || keep[i] < 0 || keep[i] >= ffnDim || (i > 0 && keep[i] <= keep[i - 1]))
      throw new Error(`${where}: kept neuron ${keep[i]} at ${i} is not increasing within [0, ${ffnDim})`);
}

export function encodeKeep(keeps: Int32Array[], ffnDim: number): Uint8Array {
  if (keeps.length === 0) throw new Error("keep file: no layers");
  if (ffnDim > 65536) throw new Error(`keep file: an FFN of ${ffnDim} neurons does not fit u16 indices`);
  keeps.forEach((k, l) => checkKeep(k, ffnDim, `keep file layer ${l}`));
  const out = new Uint8Array(16 + keeps.reduce((s, k) => s + 4 + 2 * k.length, 0));
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, keeps.length, true);
  dv.setUint32(12, ffnDim, true);
  let o = 16;
  for (const k of keeps) {
    dv.setUint32(o, k.length, true);
    o += 4;
    for (const i of k) {
      dv.setUint16(o, i, true);
      o += 2;
    }
  }
  return out;
}

export function decodeKeep(bytes: Uint8Array, where: string): { ffnDim: number; keeps: Int32Array[] } {
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    throw new Error(`${where}: not a keep file (expected the magic "${MAGIC}")`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const L = dv.getUint32(8, true),
    F = dv.getUint32(12, true);
  if (L === 0 || F === 0) throw new Error(`${where}: ${L} layers of ${F} neurons`);
  const keeps: Int32Array[] = [];
  let o = 16;
  for (let l = 0; l < L; l++) {
    if (o + 4 > bytes.length) throw new Error(`${where}: ends in layer ${l} of ${L} (truncated)`);
    const n = dv.getUint32(o, true);
    o += 4;
    if (o + 2 * n > bytes.length) throw new Error(`${where}: layer ${l} lists ${n} neurons past the end (truncated)`);
    const k = new Int32Array(n);
    for (let i = 0; i < n; i++) k[i] = dv.getUint16(o + 2 * i, true);
    o += 2 * n;
    checkKeep(k, F, `${where} layer ${l}`);
    keeps.push(k);
  }
  if (o !== bytes.length) throw new Error(`${where}: ${bytes.length - o} bytes after the last layer (corrupt)`);
  return { ffnDim: F, keeps };
}

export function writeKeep(path: string, keeps: Int32Array[], ffnDim: number): void {
  writeFileSync(path, encodeKeep(keeps, ffnDim));
}

/** Read a keep file once per process: policies from one profile share its lists, and the model one set of copies. */
export function loadKeep(path: string): { ffnDim: number; keeps: Int32Array[] } {
  return loadSideFile(path, "keep file", decodeKeep);
}
