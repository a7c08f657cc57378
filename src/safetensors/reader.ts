/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}),
 * then the raw tensor data (row-major, little-endian), offsets relative to
 * the end of the header. Only the header is read up front; tensor bytes are
 * read on demand straight into the caller's buffer.
 */
import * as fs from "node:fs";
import { GGMLType } from "../quant/types.js";

/** Bytes per element of every dtype the format defines (to validate sizes even for types we do not load). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** dtypes the engine can compute with, as ggml types (same bytes, same order). */
const LOADABLE: Record<string, GGMLType> = { F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16 };
export const SUPPORTED_DTYPES = Object.keys(LOADABLE);

// a header larger than this is not a real model's (the format's own limit is 100 MB)
const MAX_HEADER = 100 * 1024 * 1024;

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  /** row-major: shape[last] is the row length */
  shape: number[];
  /** absolute file offset of the first byte */
  offset: number;
  nbytes: number;
}

export interface SafetensorsFile {
  path: string;
  fileSize: number;
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

/** Read and validate the header of a .safetensors file. Throws an Error naming the file and the problem. */
export function openSafetensors(path: string): SafetensorsFile {
  const fd = fs.openSync(path, "r");
  try {
    const fileSize = fs.fstatSync(fd).size;
    if (fileSize < 8) throw new Error(`${path}: truncated safetensors file (${fileSize} bytes, no header length)`);
    const lenBuf = Buffer.alloc(8);
    fs.readSync(fd, lenBuf, 0, 8, 0);
    const n = lenBuf.readBigUInt64LE(0);
    if (n > BigInt(MAX_HEADER)) throw new Error(`${path}: corrupt safetensors header: header length ${n} bytes is implausible`);
    const headerLen = Number(n);
    if (8 + headerLen > fileSize)
      throw new Error(
        `${path}: truncated safetensors file: header of ${headerLen} bytes but the file has ${fileSize - 8} after the length`,
      );
    const hb = Buffer.alloc(headerLen);
    fs.readSync(fd, hb, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(hb.toString("utf8"));
    } catch (e) {
      throw new Error(`${path}: corrupt safetensors header: not valid JSON (${(e as Error).message})`);
    }
    if (header === null || typeof header !== "object" || Array.isArray(header))
      throw new Error(`${path}: corrupt safetensors header: not a JSON object`);
    const dataStart = 8 + headerLen,
      dataSize = fileSize - dataStart;
    const tensors = new Map<string, SafetensorsTensor>();
    let metadata: Record<string, string> = {};
    for (const [name, v] of Object.entries(header)) {
      if (name === "__metadata__") {
        metadata = (v ?? {}) as Record<string, string>;
        continue;
      }
      const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const bad = (why: string) => new Error(`${path}: corrupt safetensors header: tensor ${name}: ${why}`);
      if (typeof e?.dtype !== "string" || !(e.dtype in DTYPE_BYTES)) throw bad(`unknown dtype ${JSON.stringify(e?.dtype)}`);
      if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`bad shape ${JSON.stringify(e.shape)}`);
      const off = e.data_offsets;
      if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isInteger(x) && x >= 0) || off[1] < off[0]) {
        throw bad(`bad data_offsets ${JSON.stringify(off)}`);
      }
      const shape = e.shape as number[];
      const want = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[e.dtype];
      if (off[1] - off[0] !== want) throw bad(`data_offsets span ${off[1] - off[0]} bytes, but ${e.dtype}[${shape}] needs ${want}`);
      if (off[1] > dataSize)
        throw new Error(`${path}: truncated safetensors file: tensor ${name} ends at data byte ${off[1]} but the file has ${dataSize}`);
      tensors.set(name, { name, dtype: e.dtype, shape, offset: dataStart + off[0], nbytes: want });
    }
    return { path, fileSize, metadata, tensors };
  } finally {
    fs.closeSync(fd);
  }
}

/** The ggml type a tensor loads as, or an Error naming the dtype and the supported ones. */
export function ggmlTypeOf(file: SafetensorsFile, t: SafetensorsTensor): GGMLType {
  const g = LOADABLE[t.dtype];
  if (g === undefined)
    throw new Error(`${file.path}: tensor ${t.name} has dtype ${t.dtype}; supported dtypes: ${SUPPORTED_DTYPES.join(", ")}`);
  return g;
}

/** Copy the bytes of tensor `t` into dest. */
export function readSafetensor(file: SafetensorsFile, t: SafetensorsTensor, dest: Uint8Array): void {
  if (dest.length < t.nbytes)
    throw new Error(`${file.path}: buffer of ${dest.length} bytes is too small for tensor ${t.name} (${t.nbytes} bytes)`);
  const fd = fs.openSync(file.path, "r");
  try {
    let got = 0;
    while (got < t.nbytes) {
      const r = fs.readSync(fd, dest, got, t.nbytes - got, t.offset + got);
      if (r === 0) throw new Error(`${file.path}: truncated safetensors file while reading tensor ${t.name}`);
      got += r;
    }
  } finally {
    fs.closeSync(fd);
  }
}
