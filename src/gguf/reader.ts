/**
 * GGUF reader: parses the header (metadata and tensor infos) of a GGUF v2/v3
 * file without reading the tensor data, and reads single tensors on demand.
 *
 * Layout (all little-endian):
 *   magic "GGUF", u32 version, u64 tensor_count, u64 kv_count,
 *   kv_count × (string key, u32 value_type, value),
 *   tensor_count × (string name, u32 n_dims, n_dims × u64 dim, u32 type, u64 offset),
 *   padding to `general.alignment` (default 32), tensor data.
 * A string is a u64 byte length followed by UTF-8 bytes (no terminator).
 *
 * Value mapping to JS:
 *   u8/i8/u16/i16/u32/i32/f32/f64 → number; bool → boolean; string → string;
 *   u64/i64 scalars → number when they are safe integers, else bigint.
 *   Arrays: u8 → Uint8Array, i8 → Int8Array, u16 → Uint16Array, i16 → Int16Array,
 *   u32 → Uint32Array, i32 → Int32Array, f32 → Float32Array, f64 → Float64Array,
 *   u64 → BigUint64Array, i64 → BigInt64Array, bool → boolean[], string → string[],
 *   array → GGUFValue[] (nested).
 */
import * as fs from "node:fs";
import { type GGMLType, typeInfo, type TypeInfo } from "../quant/types.js";

export type GGUFValue =
  | number
  | bigint
  | boolean
  | string
  | GGUFValue[]
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

/** GGUF metadata value type ids. */
export enum GGUFValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export interface TensorInfo {
  name: string;
  /** ggml order: dims[0] = ne0 is the row length (contiguous), dims[1] the number of rows, ... */
  dims: number[];
  type: GGMLType;
  /** absolute byte offset of the tensor data in the file */
  offset: number;
  nbytes: number;
  nElements: number;
}

export interface GGUFFile {
  path: string;
  version: number;
  fileSize: number;
  alignment: number;
  /** absolute byte offset where the tensor data section starts */
  dataOffset: number;
  metadata: Record<string, GGUFValue>;
  tensors: TensorInfo[];
  /** `general.architecture`, or "" when the file has none */
  architecture: string;
}

/** Any problem with a GGUF file; the message names the file. */
export class GGUFError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GGUFError";
  }
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
const GGML_MAX_DIMS = 4;
/** nested arrays deeper than this are treated as corrupt (real files use depth 1) */
const MAX_ARRAY_DEPTH = 8;
const CHUNK = 1 << 20;

/** Byte size of one fixed-size value, or 0 for string/array. */
function fixedSize(t: number): number {
  switch (t) {
    case GGUFValueType.UINT8:
    case GGUFValueType.INT8:
    case GGUFValueType.BOOL:
      return 1;
    case GGUFValueType.UINT16:
    case GGUFValueType.INT16:
      return 2;
    case GGUFValueType.UINT32:
    case GGUFValueType.INT32:
    case GGUFValueType.FLOAT32:
      return 4;
    case GGUFValueType.UINT64:
    case GGUFValueType.INT64:
    case GGUFValueType.FLOAT64:
      return 8;
    default:
      return 0;
  }
}

/**
 * Sequential reader over a file descriptor with a sliding buffer, so the
 * header can be parsed without loading the (possibly huge) tensor data.
 */
class Cursor {
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0; // file position of buf[0]
  pos = 0;
  /** what is being read, for error messages */
  where = "header";

  constructor(
    private readonly fd: number,
    readonly fileSize: number,
    private readonly path: string,
  ) {}

  fail(msg: string): never {
    throw new GGUFError(`${this.path}: ${msg}`);
  }

  /** Make bytes [pos, pos+n) available in buf; returns their index in buf. */
  private need(n: number): number {
    if (this.pos + n > this.fileSize) {
      this.fail(`truncated file: ${this.where} needs ${n} bytes at offset ${this.pos}, but the file is only ${this.fileSize} bytes`);
    }
    const end = this.bufStart + this.buf.length;
    if (this.pos >= this.bufStart && this.pos + n <= end) return this.pos - this.bufStart;
    const len = Math.min(Math.max(n, CHUNK), this.fileSize - this.pos);
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const r = fs.readSync(this.fd, buf, got, len - got, this.pos + got);
      if (r === 0) this.fail(`truncated file: unexpected end of file at offset ${this.pos + got} while reading ${this.where}`);
      got += r;
    }
    this.buf = buf;
    this.bufStart = this.pos;
    return 0;
  }

  remaining(): number {
    return this.fileSize - this.pos;
  }

  u8(): number {
    const i = this.need(1);
    this.pos += 1;
    return this.buf[i];
  }
  i8(): number {
    const i = this.need(1);
    this.pos += 1;
    return this.buf.readInt8(i);
  }
  u16(): number {
    const i = this.need(2);
    this.pos += 2;
    return this.buf.readUInt16LE(i);
  }
  i16(): number {
    const i = this.need(2);
    this.pos += 2;
    return this.buf.readInt16LE(i);
  }
  u32(): number {
    const i = this.need(4);
    this.pos += 4;
    return this.buf.readUInt32LE(i);
  }
  i32(): number {
    const i = this.need(4);
    this.pos += 4;
    return this.buf.readInt32LE(i);
  }
  f32(): number {
    const i = this.need(4);
    this.pos += 4;
    return this.buf.readFloatLE(i);
  }
  f64(): number {
    const i = this.need(8);
    this.pos += 8;
    return this.buf.readDoubleLE(i);
  }
  u64big(): bigint {
    const i = this.need(8);
    this.pos += 8;
    return this.buf.readBigUInt64LE(i);
  }
  i64big(): bigint {
    const i = this.need(8);
    this.pos += 8;
    return this.buf.readBigInt64LE(i);
  }
  /** u64 that must be a safe integer (counts, lengths, offsets). */
  u64num(what: string): number {
    const v = this.u64big();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is absurdly large (corrupt file?)`);
    return Number(v);
  }

  /** Copy `n` bytes into a fresh, 8-byte aligned ArrayBuffer. */
  bytes(n: number): ArrayBuffer {
    const i = this.need(n);
    const out = new ArrayBuffer(n);
    new Uint8Array(out).set(this.buf.subarray(i, i + n));
    this.pos += n;
    return out;
  }

  string(what: string): string {
    const len = this.u64num(`length of ${what}`);
    if (len > this.remaining()) {
      this.fail(`truncated or corrupt file: ${what} has length ${len} but only ${this.remaining()} bytes remain`);
    }
    const i = this.need(len);
    this.pos += len;
    return this.buf.toString("utf8", i, i + len);
  }
}

function safeNumber(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readArray(c: Cursor, key: string, depth: number): GGUFValue {
  if (depth > MAX_ARRAY_DEPTH) c.fail(`metadata '${key}': arrays nested more than ${MAX_ARRAY_DEPTH} deep (corrupt file?)`);
  const et = c.u32();
  const count = c.u64num(`element count of metadata array '${key}'`);
  // Every element takes at least one byte (strings 8, arrays 12): reject counts
  // the rest of the file cannot hold before allocating anything.
  const minSize = et === GGUFValueType.STRING ? 8 : et === GGUFValueType.ARRAY ? 12 : fixedSize(et);
  if (minSize === 0) c.fail(`metadata '${key}': unknown array element type ${et} (known: 0..12)`);
  if (count * minSize > c.remaining()) {
    c.fail(
      `truncated or corrupt file: metadata array '${key}' claims ${count} elements (${count * minSize}+ bytes) but only ${c.remaining()} bytes remain`,
    );
  }
  switch (et) {
    case GGUFValueType.UINT8:
      return new Uint8Array(c.bytes(count));
    case GGUFValueType.INT8:
      return new Int8Array(c.bytes(count));
    case GGUFValueType.UINT16:
      return new Uint16Array(c.bytes(count * 2));
    case GGUFValueType.INT16:
      return new Int16Array(c.bytes(count * 2));
    case GGUFValueType.UINT32:
      return new Uint32Array(c.bytes(count * 4));
    case GGUFValueType.INT32:
      return new Int32Array(c.bytes(count * 4));
    case GGUFValueType.FLOAT32:
      return new Float32Array(c.bytes(count * 4));
    case GGUFValueType.FLOAT64:
      return new Float64Array(c.bytes(count * 8));
    case GGUFValueType.UINT64:
      return new BigUint64Array(c.bytes(count * 8));
    case GGUFValueType.INT64:
      return new BigInt64Array(c.bytes(count * 8));
    case GGUFValueType.BOOL: {
      const u = new Uint8Array(c.bytes(count));
      const out: boolean[] = new Array(count);
      for (let i = 0; i < count; i++) out[i] = u[i] !== 0;
      return out;
    }
    case GGUFValueType.STRING: {
      const out: string[] = new Array(count);
      for (let i = 0; i < count; i++) out[i] = c.string(`element ${i} of metadata array '${key}'`);
      return out;
    }
    default: {
      // nested array
      const out: GGUFValue[] = new Array(count);
      for (let i = 0; i < count; i++) out[i] = readArray(c, key, depth + 1);
      return out;
    }
  }
}

function readValue(c: Cursor, key: string, t: number): GGUFValue {
  switch (t) {
    case GGUFValueType.UINT8:
      return c.u8();
    case GGUFValueType.INT8:
      return c.i8();
    case GGUFValueType.UINT16:
      return c.u16();
    case GGUFValueType.INT16:
      return c.i16();
    case GGUFValueType.UINT32:
      return c.u32();
    case GGUFValueType.INT32:
      return c.i32();
    case GGUFValueType.FLOAT32:
      return c.f32();
    case GGUFValueType.FLOAT64:
      return c.f64();
    case GGUFValueType.BOOL:
      return c.u8() !== 0;
    case GGUFValueType.STRING:
      return c.string(`metadata string '${key}'`);
    case GGUFValueType.UINT64:
      return safeNumber(c.u64big());
    case GGUFValueType.INT64:
      return safeNumber(c.i64big());
    case GGUFValueType.ARRAY:
      return readArray(c, key, 0);
    default:
      return c.fail(`metadata '${key}' has unknown value type ${t} (known: 0..12)`);
  }
}

/**
 * Parse the header of a GGUF v2/v3 file. Reads only metadata and tensor
 * infos; tensor data is read later with readTensorInto().
 */
export function openGGUF(path: string): GGUFFile {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (e) {
    throw new GGUFError(`${path}: cannot open: ${(e as Error).message}`);
  }
  try {
    return parse(fd, path);
  } finally {
    fs.closeSync(fd);
  }
}

function parse(fd: number, path: string): GGUFFile {
  const fileSize = fs.fstatSync(fd).size;
  const c = new Cursor(fd, fileSize, path);
  if (fileSize < 4) c.fail(`not a GGUF file (only ${fileSize} bytes; a GGUF file starts with "GGUF")`);
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) {
    c.fail(`not a GGUF file (bad magic 0x${magic.toString(16).padStart(8, "0")}; expected "GGUF")`);
  }
  c.where = "version";
  const version = c.u32();
  if (version === 1) c.fail(`GGUF version 1 is not supported (obsolete format); supported versions: 2, 3`);
  if (version !== 2 && version !== 3) {
    // A big-endian file shows up as a byte-swapped small version.
    const swapped = ((version & 0xff) << 24) | (((version >>> 8) & 0xff) << 16) | (((version >>> 16) & 0xff) << 8) | (version >>> 24);
    const hint = swapped === 2 || swapped === 3 ? " (this looks like a big-endian GGUF, which is not supported)" : "";
    c.fail(`unsupported GGUF version ${version}${hint}; supported versions: 2, 3`);
  }
  c.where = "tensor/metadata counts";
  const nTensors = c.u64num("tensor count");
  const nKV = c.u64num("metadata count");
  // Minimum encoded sizes: a kv is an 8-byte key length + 4-byte type + >=1 byte;
  // a tensor info is 8 + 4 + 4 + 8 bytes (with zero dims and an empty name).
  if (nKV * 13 + nTensors * 24 > c.remaining()) {
    c.fail(
      `truncated or corrupt file: ${nKV} metadata entries and ${nTensors} tensor infos need at least ${nKV * 13 + nTensors * 24} bytes, but only ${c.remaining()} remain`,
    );
  }

  const metadata: Record<string, GGUFValue> = Object.create(null);
  for (let i = 0; i < nKV; i++) {
    c.where = `metadata entry ${i} of ${nKV}`;
    const key = c.string(`key of metadata entry ${i}`);
    c.where = `metadata '${key}'`;
    const t = c.u32();
    const v = readValue(c, key, t);
    if (key in metadata) c.fail(`duplicate metadata key '${key}'`);
    metadata[key] = v;
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if ("general.alignment" in metadata) {
    const a = metadata["general.alignment"];
    if (typeof a !== "number" || !Number.isInteger(a) || a <= 0 || a > 1 << 30 || (a & (a - 1)) !== 0) {
      return c.fail(`general.alignment must be a power of two, got ${String(a)}`);
    }
    alignment = a;
  }

  const raw: { name: string; dims: number[]; type: number; rel: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < nTensors; i++) {
    c.where = `tensor info ${i} of ${nTensors}`;
    const name = c.string(`name of tensor ${i}`);
    c.where = `tensor info '${name}'`;
    const nDims = c.u32();
    if (nDims > GGML_MAX_DIMS) c.fail(`tensor '${name}' has ${nDims} dimensions; at most ${GGML_MAX_DIMS} are supported`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64num(`dimension ${d} of tensor '${name}'`));
    const type = c.u32();
    const rel = c.u64num(`data offset of tensor '${name}'`);
    if (names.has(name)) c.fail(`duplicate tensor name '${name}'`);
    names.add(name);
    raw.push({ name, dims, type, rel });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;

  const tensors: TensorInfo[] = [];
  for (const r of raw) {
    let info: TypeInfo;
    try {
      info = typeInfo(r.type as GGMLType);
    } catch (e) {
      return c.fail(`tensor '${r.name}': ${(e as Error).message}`);
    }
    let nElements = 1;
    for (const d of r.dims) {
      nElements *= d;
      if (!Number.isSafeInteger(nElements)) c.fail(`tensor '${r.name}' has absurd dimensions [${r.dims.join(", ")}]`);
    }
    const ne0 = r.dims.length > 0 ? r.dims[0] : 1;
    if (ne0 % info.blockSize !== 0) {
      c.fail(`tensor '${r.name}': row length ${ne0} is not a multiple of the ${info.name} block size ${info.blockSize}`);
    }
    const nbytes = (nElements / info.blockSize) * info.typeSize;
    if (r.rel % alignment !== 0) {
      c.fail(`tensor '${r.name}': data offset ${r.rel} is not a multiple of the alignment ${alignment}`);
    }
    const offset = dataOffset + r.rel;
    if (offset + nbytes > fileSize) {
      c.fail(
        `tensor '${r.name}' data (${nbytes} bytes at offset ${offset}) extends beyond the end of the file (${fileSize} bytes); truncated file?`,
      );
    }
    tensors.push({ name: r.name, dims: r.dims, type: r.type as GGMLType, offset, nbytes, nElements });
  }

  const arch = metadata["general.architecture"];
  return {
    path,
    version,
    fileSize,
    alignment,
    dataOffset,
    metadata,
    tensors,
    architecture: typeof arch === "string" ? arch : "",
  };
}

/** Read the raw bytes of tensor `t` into dest[0 .. t.nbytes). */
export function readTensorInto(file: GGUFFile, t: TensorInfo, dest: Uint8Array): void {
  if (dest.length < t.nbytes) {
    throw new GGUFError(`${file.path}: buffer of ${dest.length} bytes is too small for tensor '${t.name}' (${t.nbytes} bytes)`);
  }
  let fd: number;
  try {
    fd = fs.openSync(file.path, "r");
  } catch (e) {
    throw new GGUFError(`${file.path}: cannot open: ${(e as Error).message}`);
  }
  try {
    let got = 0;
    while (got < t.nbytes) {
      const r = fs.readSync(fd, dest, got, t.nbytes - got, t.offset + got);
      if (r === 0) {
        throw new GGUFError(
          `${file.path}: truncated file: tensor '${t.name}' ends at ${t.offset + t.nbytes} but the file ends at ${t.offset + got}`,
        );
      }
      got += r;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Find a tensor by name, or throw a GGUFError naming it. */
export function getTensor(file: GGUFFile, name: string): TensorInfo {
  const t = file.tensors.find((x) => x.name === name);
  if (!t) throw new GGUFError(`${file.path}: no tensor named '${name}'`);
  return t;
}
