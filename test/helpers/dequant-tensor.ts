/** Whole-tensor dequantization for tests that compare a file's tensors with reference values. */
import { readTensorInto, type GGUFFile, type TensorInfo } from "../../src/gguf/reader.js";
import { dequantizeRow } from "../../src/quant/dequant.js";

/** Read tensor `t` from `file` and dequantize all of it (rows are contiguous) to f32. */
export function dequantizeTensor(file: GGUFFile, t: TensorInfo): Float32Array {
  const raw = new Uint8Array(t.nbytes);
  readTensorInto(file, t, raw);
  const out = new Float32Array(t.nElements);
  dequantizeRow(t.type, raw, 0, out, 0, t.nElements);
  return out;
}
