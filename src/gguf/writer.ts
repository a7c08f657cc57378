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
import { GGMLType, TYPE_INFO } from "../quant/types.js";
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

export interface TensorInput {
  name: string;
  /** any type id: unknown ids are written as given (for error tests) */
  type: GGMLType | number;
  /** ggml order: row length first */
  dims: number[];
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
  /** Reserve `n` bytes at the end and return their offset. */
  private at(n: number): number {
    this.reserve(n);
    const o = this.length;
    this.length += n;
    return o;
  }
  u8(v: number): this {
    this.dv.setUint8(this.at(1), v);
    return this;
  }
  i8(v: number): this {
    this.dv.setInt8(this.at(1), v);
    return this;
  }
  u16(v: number): this {
    this.dv.setUint16(this.at(2), v, true);
    return this;
  }
  i16(v: number): this {
    this.dv.setInt16(this.at(2), v, true);
    return this;
  }
  u32(v: number): this {
    this.dv.setUint32(this.at(4), v, true);
    return this;
  }
  i32(v: number): this {
    this.dv.setInt32(this.at(4), v, true);
    return this;
  }
  f32(v: number): this {
    this.dv.setFloat32(this.at(4), v, true);
    return this;
  }
  f64(v: number): this {
    this.dv.setFloat64(this.at(8), v, true);
    return this;
  }
  u64(v: number | bigint): this {
    this.dv.setBigUint64(this.at(8), BigInt(v), true);
    return this;
  }
  i64(v: number | bigint): this {
    this.dv.setBigInt64(this.at(8), BigInt(v), true);
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

/** Encode a GGUF file in memory. */
export function encodeGGUF(spec: GGUFSpec): Uint8Array {
  const version = spec.version ?? 3;
  if (version !== 2 && version !== 3) throw new Error(`writeGGUF: can only write GGUF version 2 or 3, not ${version}`);
  const alignV = spec.metadata["general.alignment"];
  const alignment = alignV === undefined ? GGUF_DEFAULT_ALIGNMENT : Number(isTyped(alignV) ? alignV.value : alignV);
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw new Error(`writeGGUF: general.alignment must be a power of two, got ${String(alignment)}`);
  }

  const w = new ByteWriter();
  w.u32(GGUF_MAGIC).u32(version).u64(spec.tensors.length).u64(Object.keys(spec.metadata).length);
  for (const [key, v] of Object.entries(spec.metadata)) {
    w.str(key);
    writeValue(w, v, key);
  }
  let rel = 0;
  for (const t of spec.tensors) {
    const info = TYPE_INFO[t.type as GGMLType];
    if (info) {
      const n = t.dims.reduce((a, b) => a * b, 1);
      const expect = (n / info.blockSize) * info.typeSize;
      if (t.dims.length > 0 && t.dims[0] % info.blockSize !== 0) {
        throw new Error(`writeGGUF: tensor '${t.name}' row length ${t.dims[0]} is not a multiple of the ${info.name} block size`);
      }
      if (t.data.length !== expect) {
        throw new Error(`writeGGUF: tensor '${t.name}' (${info.name} [${t.dims.join(", ")}]) needs ${expect} bytes, got ${t.data.length}`);
      }
    }
    w.str(t.name).u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type).u64(rel);
    rel += Math.ceil(t.data.length / alignment) * alignment;
  }
  w.pad(alignment);
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
