/**
 * GGUF writer, for building small synthetic models and test files.
 *
 * Metadata value types are inferred where unambiguous and can be given
 * explicitly with typed():
 *   string → STRING; boolean → BOOL; bigint → INT64 if negative else UINT64;
 *   number → UINT32 if a non-negative integer < 2^32, INT32 if a negative
 *   integer >= -2^31, else FLOAT32 (use typed() for FLOAT64, UINT64, ...);
 *   Uint8Array/Int8Array/.../Float64Array/BigInt64Array/BigUint64Array → array
 *   of the matching element type; string[] → array of STRING; boolean[] →
 *   array of BOOL; number[] → array of INT32 if all are integers, else FLOAT32;
 *   an array of arrays → nested ARRAY.
 */
import * as fs from "node:fs";
import { type GGMLType, TYPE_INFO } from "../quant/types.js";
import { GGUFValueType, GGUF_MAGIC, GGUF_DEFAULT_ALIGNMENT, type GGUFValue } from "./reader.js";

/** A metadata value with an explicit GGUF type (itemType for arrays). */
export interface TypedValue {
  readonly __typed: true;
  type: GGUFValueType;
  itemType?: GGUFValueType;
  value: GGUFValue;
}

/** Give a metadata value an explicit GGUF type, e.g. typed(GGUFValueType.UINT64, 5). */
export function typed(type: GGUFValueType, value: GGUFValue, itemType?: GGUFValueType): TypedValue {
  return { __typed: true, type, itemType, value };
}

export type MetadataInput = GGUFValue | TypedValue;

/** A tensor's header entry: what the streaming writer needs before its data exists. */
export interface TensorHeader {
  name: string;
  /** any type id: unknown ids are written as given (for error tests) */
  type: GGMLType | number;
  /** ggml order: row length first */
  dims: number[];
}

export interface TensorInput extends TensorHeader {
  data: Uint8Array;
}

export interface GGUFSpec {
  metadata: Record<string, MetadataInput>;
  tensors: TensorInput[];
  /** GGUF version to write: 3 (default) or 2 (same layout) */
  version?: number;
}

/** Growable little-endian byte buffer with the GGUF primitive encodings. */
export class ByteWriter {
  private buf = new Uint8Array(1024);
  private dv = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.buf.subarray(0, this.length));
    this.buf = nb;
    this.dv = new DataView(nb.buffer);
  }
  /** Reserve `n` bytes at the end and return their offset. Call it before reading this.dv: growing replaces the view. */
  private at(n: number): number {
    this.reserve(n);
    const o = this.length;
    this.length += n;
    return o;
  }
  u8(v: number): this {
    const o = this.at(1);
    this.dv.setUint8(o, v);
    return this;
  }
  i8(v: number): this {
    const o = this.at(1);
    this.dv.setInt8(o, v);
    return this;
  }
  u16(v: number): this {
    const o = this.at(2);
    this.dv.setUint16(o, v, true);
    return this;
  }
  i16(v: number): this {
    const o = this.at(2);
    this.dv.setInt16(o, v, true);
    return this;
  }
  u32(v: number): this {
    const o = this.at(4);
    this.dv.setUint32(o, v, true);
    return this;
  }
  i32(v: number): this {
    const o = this.at(4);
    this.dv.setInt32(o, v, true);
    return this;
  }
  f32(v: number): this {
    const o = this.at(4);
    this.dv.setFloat32(o, v, true);
    return this;
  }
  f64(v: number): this {
    const o = this.at(8);
    this.dv.setFloat64(o, v, true);
    return this;
  }
  u64(v: number | bigint): this {
    const o = this.at(8);
    this.dv.setBigUint64(o, BigInt(v), true);
    return this;
  }
  i64(v: number | bigint): this {
    const o = this.at(8);
    this.dv.setBigInt64(o, BigInt(v), true);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  /** GGUF string: u64 byte length + UTF-8 bytes */
  str(s: string): this {
    const b = Buffer.from(s, "utf8");
    return this.u64(b.length).bytes(b);
  }
  /** zero bytes up to a multiple of `align` */
  pad(align: number): this {
    const n = (align - (this.length % align)) % align;
    this.reserve(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function isTyped(v: MetadataInput): v is TypedValue {
  return typeof v === "object" && v !== null && (v as TypedValue).__typed === true;
}

function typedArrayItemType(v: GGUFValue): GGUFValueType | undefined {
  if (v instanceof Uint8Array) return GGUFValueType.UINT8;
  if (v instanceof Int8Array) return GGUFValueType.INT8;
  if (v instanceof Uint16Array) return GGUFValueType.UINT16;
  if (v instanceof Int16Array) return GGUFValueType.INT16;
  if (v instanceof Uint32Array) return GGUFValueType.UINT32;
  if (v instanceof Int32Array) return GGUFValueType.INT32;
  if (v instanceof Float32Array) return GGUFValueType.FLOAT32;
  if (v instanceof Float64Array) return GGUFValueType.FLOAT64;
  if (v instanceof BigUint64Array) return GGUFValueType.UINT64;
  if (v instanceof BigInt64Array) return GGUFValueType.INT64;
  return undefined;
}

function inferScalarType(v: GGUFValue): GGUFValueType {
  switch (typeof v) {
    case "string":
      return GGUFValueType.STRING;
    case "boolean":
      return GGUFValueType.BOOL;
    case "bigint":
      return v < 0n ? GGUFValueType.INT64 : GGUFValueType.UINT64;
    case "number":
      if (Number.isInteger(v) && v >= 0 && v < 2 ** 32) return GGUFValueType.UINT32;
      if (Number.isInteger(v) && v < 0 && v >= -(2 ** 31)) return GGUFValueType.INT32;
      return GGUFValueType.FLOAT32;
    default:
      return GGUFValueType.ARRAY;
  }
}

/** Element type of a plain JS array. */
function inferItemType(arr: GGUFValue[], key: string): GGUFValueType {
  if (arr.length === 0) throw new Error(`metadata '${key}': give an empty array an explicit item type with typed()`);
  if (arr.every((x) => typeof x === "string")) return GGUFValueType.STRING;
  if (arr.every((x) => typeof x === "boolean")) return GGUFValueType.BOOL;
  if (arr.every((x) => typeof x === "number")) {
    return arr.every((x) => Number.isInteger(x)) ? GGUFValueType.INT32 : GGUFValueType.FLOAT32;
  }
  if (arr.every((x) => typeof x === "bigint")) {
    return arr.some((x) => (x as bigint) < 0n) ? GGUFValueType.INT64 : GGUFValueType.UINT64;
  }
  if (arr.every((x) => typeof x === "object")) return GGUFValueType.ARRAY;
  throw new Error(`metadata '${key}': array mixes value kinds; GGUF arrays hold one type`);
}

function writeScalar(w: ByteWriter, t: GGUFValueType, v: GGUFValue, key: string): void {
  const num = (): number => {
    if (typeof v !== "number") throw new Error(`metadata '${key}': expected a number for ${GGUFValueType[t]}, got ${typeof v}`);
    return v;
  };
  switch (t) {
    case GGUFValueType.UINT8:
      return void w.u8(num());
    case GGUFValueType.INT8:
      return void w.i8(num());
    case GGUFValueType.UINT16:
      return void w.u16(num());
    case GGUFValueType.INT16:
      return void w.i16(num());
    case GGUFValueType.UINT32:
      return void w.u32(num());
    case GGUFValueType.INT32:
      return void w.i32(num());
    case GGUFValueType.FLOAT32:
      return void w.f32(num());
    case GGUFValueType.FLOAT64:
      return void w.f64(num());
    case GGUFValueType.UINT64:
    case GGUFValueType.INT64:
      if (typeof v !== "number" && typeof v !== "bigint") throw new Error(`metadata '${key}': expected an integer`);
      return void (t === GGUFValueType.UINT64 ? w.u64(v) : w.i64(v));
    case GGUFValueType.BOOL:
      if (typeof v !== "boolean") throw new Error(`metadata '${key}': expected a boolean`);
      return void w.u8(v ? 1 : 0);
    case GGUFValueType.STRING:
      if (typeof v !== "string") throw new Error(`metadata '${key}': expected a string`);
      return void w.str(v);
    case GGUFValueType.ARRAY:
      return writeArray(w, v, undefined, key);
    default:
      throw new Error(`metadata '${key}': unknown value type ${t}`);
  }
}

function writeArray(w: ByteWriter, v: GGUFValue, itemType: GGUFValueType | undefined, key: string): void {
  if (typeof v !== "object" || v === null) throw new Error(`metadata '${key}': expected an array`);
  const items = Array.from(v as ArrayLike<GGUFValue>);
  const it = itemType ?? typedArrayItemType(v) ?? inferItemType(items, key);
  w.u32(it).u64(items.length);
  for (const x of items) writeScalar(w, it, x, key);
}

function writeValue(w: ByteWriter, v: MetadataInput, key: string): void {
  if (isTyped(v)) {
    w.u32(v.type);
    if (v.type === GGUFValueType.ARRAY) writeArray(w, v.value, v.itemType, key);
    else writeScalar(w, v.type, v.value, key);
    return;
  }
  const t = inferScalarType(v);
  w.u32(t);
  writeScalar(w, t, v, key);
}

/** Bytes a tensor's data takes, or undefined for a type id this engine does not know. */
function tensorBytes(t: TensorHeader): number | undefined {
  const info = TYPE_INFO[t.type as GGMLType];
  if (!info) return undefined;
  if (t.dims.length > 0 && t.dims[0] % info.blockSize !== 0) {
    throw new Error(`writeGGUF: tensor '${t.name}' row length ${t.dims[0]} is not a multiple of the ${info.name} block size`);
  }
  return (t.dims.reduce((a, b) => a * b, 1) / info.blockSize) * info.typeSize;
}

/**
 * Everything before the tensor data: header, metadata, tensor infos and the
 * padding to the alignment. `sizes[i]` is the data length of tensor i.
 */
function encodeHeader(
  metadata: Record<string, MetadataInput>,
  tensors: TensorHeader[],
  sizes: number[],
  version: number,
): { bytes: Uint8Array; alignment: number } {
  if (version !== 2 && version !== 3) throw new Error(`writeGGUF: can only write GGUF version 2 or 3, not ${version}`);
  const alignV = metadata["general.alignment"];
  const alignment = alignV === undefined ? GGUF_DEFAULT_ALIGNMENT : Number(isTyped(alignV) ? alignV.value : alignV);
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new Error(`writeGGUF: general.alignment must be a power of two, got ${String(alignment)}`);
  }
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC).u32(version).u64(tensors.length).u64(Object.keys(metadata).length);
  for (const [key, v] of Object.entries(metadata)) {
    w.str(key);
    writeValue(w, v, key);
  }
  let rel = 0;
  tensors.forEach((t, i) => {
    w.str(t.name).u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type).u64(rel);
    rel += Math.ceil(sizes[i] / alignment) * alignment;
  });
  w.pad(alignment);
  return { bytes: w.toBytes(), alignment };
}

/** Encode a GGUF file in memory. */
export function encodeGGUF(spec: GGUFSpec): Uint8Array {
  const sizes = spec.tensors.map((t) => {
    const expect = tensorBytes(t);
    if (expect !== undefined && t.data.length !== expect) {
      throw new Error(
        `writeGGUF: tensor '${t.name}' (${TYPE_INFO[t.type as GGMLType]!.name} [${t.dims.join(", ")}]) needs ${expect} bytes, got ${t.data.length}`,
      );
    }
    return t.data.length;
  });
  const { bytes, alignment } = encodeHeader(spec.metadata, spec.tensors, sizes, spec.version ?? 3);
  const w = new ByteWriter();
  w.bytes(bytes);
  for (const t of spec.tensors) {
    w.bytes(t.data);
    w.pad(alignment);
  }
  return w.toBytes();
}

/** Write a GGUF v3 (or v2) file. */
export function writeGGUF(path: string, spec: GGUFSpec): void {
  fs.writeFileSync(path, encodeGGUF(spec));
}

/**
 * Fill `dest` with rows [row0, row0 + nRows) of tensor `index` (a row is
 * dims[0] values; `dest` is exactly nRows rows of the tensor's type long).
 */
export type RowFiller = (index: number, row0: number, nRows: number, dest: Uint8Array) => void;

export interface GGUFStreamSpec {
  metadata: Record<string, MetadataInput>;
  /** tensors of known types only: their sizes must be known before their data */
  tensors: TensorHeader[];
  version?: number;
}

function knownSizes(tensors: TensorHeader[]): number[] {
  return tensors.map((t) => {
    const n = tensorBytes(t);
    if (n === undefined)
      throw new Error(
        `writeGGUFStreaming: tensor '${t.name}' has type id ${t.type}, which has no known size; supported: ${Object.values(TYPE_INFO)
          .map((x) => x!.name)
          .join(", ")}`,
      );
    return n;
  });
}

/** The size in bytes of the file writeGGUFStreaming would write for `spec`. */
export function streamedSize(spec: GGUFStreamSpec): number {
  const sizes = knownSizes(spec.tensors);
  const { bytes, alignment } = encodeHeader(spec.metadata, spec.tensors, sizes, spec.version ?? 3);
  return sizes.reduce((a, n) => a + Math.ceil(n / alignment) * alignment, bytes.length);
}

/**
 * Write a GGUF file with bounded memory: header, metadata and tensor infos
 * first, then each tensor's data produced by `fill` a chunk of whole rows at a
 * time (about `chunkBytes`, at least one row) and written straight to disk.
 * The bytes are the same as encodeGGUF's for the same tensors. Returns the file size.
 */
export function writeGGUFStreaming(path: string, spec: GGUFStreamSpec, fill: RowFiller, chunkBytes = 8 << 20): number {
  const sizes = knownSizes(spec.tensors);
  const { bytes, alignment } = encodeHeader(spec.metadata, spec.tensors, sizes, spec.version ?? 3);
  const fd = fs.openSync(path, "w");
  try {
    let pos = 0;
    const put = (b: Uint8Array) => {
      for (let o = 0; o < b.length; ) o += fs.writeSync(fd, b, o, b.length - o, pos + o);
      pos += b.length;
    };
    put(bytes);
    const pad = new Uint8Array(alignment);
    let buf = new Uint8Array(0);
    spec.tensors.forEach((t, i) => {
      const nRows = t.dims.slice(1).reduce((a, b) => a * b, 1);
      const rowBytes = sizes[i] / nRows;
      const step = Math.max(1, Math.floor(chunkBytes / rowBytes));
      if (buf.length < step * rowBytes) buf = new Uint8Array(Math.min(nRows, step) * rowBytes);
      for (let r = 0; r < nRows; r += step) {
        const n = Math.min(step, nRows - r);
        const chunk = buf.subarray(0, n * rowBytes);
        chunk.fill(0);
        fill(i, r, n, chunk);
        put(chunk);
      }
      put(pad.subarray(0, (alignment - (sizes[i] % alignment)) % alignment));
    });
    return pos;
  } finally {
    fs.closeSync(fd);
  }
}
