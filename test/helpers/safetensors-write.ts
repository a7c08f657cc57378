/**
 * Write a .safetensors file: used by tests to build small or deliberately
 * broken model directories, and to convert weights between dtypes.
 */
import { writeFileSync } from "node:fs";

export interface TensorToWrite {
  name: string;
  dtype: string;
  /** row-major */
  shape: number[];
  data: Uint8Array;
}

/** Serialize tensors (data in order) with an optional __metadata__ record. */
export function encodeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + t.data.length] };
    off += t.data.length;
  }
  let json = JSON.stringify(header);
  // the format pads the header with spaces to a multiple of 8 so the data is aligned
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const t of tensors) {
    out.set(t.data, p);
    p += t.data.length;
  }
  return out;
}

export function writeSafetensors(path: string, tensors: TensorToWrite[], metadata?: Record<string, string>): void {
  writeFileSync(path, encodeSafetensors(tensors, metadata));
}
