import { dequantizeRow } from "../quant/dequant.js";
import { kvBytes, type Heap, type Kernels, type KVStrides, type KVType, type WeightMatrix } from "./types.js";
import { addInto, attention, geglu, rmsnorm, rope, swiglu } from "./ops.js";
import { f16ToF32, f32ToF16 } from "../quant/f16.js";
import { SharedHeap } from "./heap.js";
import { rowBytes } from "../quant/types.js";

/**
 * Plain TypeScript kernels: dequantize each weight row to f32 with the
 * quant module's dequantizeRow, then dot with the activation. Slow but
 * obviously right, so it is the ground truth the wasm kernels are tested
 * against. The dot accumulates in f64 (a JS number) so the reference itself
 * adds no rounding error worth mentioning.
 */
export class ReferenceKernels implements Kernels {
  readonly name = "reference";
  readonly threads = 1;
  readonly heap: SharedHeap;
  /** one dequantized weight row, grown to the widest matrix seen */
  private row = new Float32Array(0);
  /** attention scores, grown with the position */
  private scores = new Float32Array(0);

  constructor(heap?: SharedHeap) {
    this.heap = heap ?? new SharedHeap();
  }

  private rowBuf(cols: number): Float32Array {
    if (this.row.length < cols) this.row = new Float32Array(cols);
    return this.row;
  }

  /** out[t*rows + r] = W[r,:] . x[t*cols ..] for t < n (the shared body of matvec and matmul). */
  private product(w: WeightMatrix, x: number, out: number, n: number): void {
    checkMatrix(this.heap, w);
    if (w.packed) throw new Error("reference kernels cannot read a matrix packed by another backend");
    const u8 = this.heap.viewsU8();
    const f32 = this.heap.viewsF32();
    const row = this.rowBuf(w.cols);
    const xi = x >>> 2;
    const oi = out >>> 2;
    for (let r = 0; r < w.rows; r++) {
      dequantizeRow(w.type, u8, w.ptr + r * w.rowBytes, row, 0, w.cols);
      for (let t = 0; t < n; t++) {
        const xo = xi + t * w.cols;
        let s = 0;
        for (let c = 0; c < w.cols; c++) s += row[c] * f32[xo + c];
        f32[oi + t * w.rows + r] = s;
      }
    }
  }

  matvec(w: WeightMatrix, x: number, out: number): void {
    this.product(w, x, out, 1);
  }

  matvecMulti(ws: readonly WeightMatrix[], x: number, outs: readonly number[], n = 1): void {
    if (ws.length !== outs.length) throw new Error(`matvecMulti: ${ws.length} matrices but ${outs.length} outputs`);
    if (!Number.isInteger(n) || n < 1) throw new Error(`matvecMulti: token count ${n} must be a positive integer`);
    for (let i = 0; i < ws.length; i++) this.product(ws[i], x, outs[i], n);
  }

  matmul(w: WeightMatrix, x: number, out: number, n: number): void {
    if (!Number.isInteger(n) || n < 1) throw new Error(`matmul: token count ${n} must be a positive integer`);
    this.product(w, x, out, n);
  }

  /** ops.attention over the cache positions [0, pos], gathered into rows of kvDim (an f16 cache widened to f32) first. */
  attention(
    out: number,
    q: number,
    keys: number,
    values: number,
    kvDim: number,
    pos: number,
    nHeads: number,
    nKvHeads: number,
    headDim: number,
    kvType: KVType,
    strides: KVStrides = { pos: kvDim, head: headDim },
  ): void {
    const eb = kvBytes(kvType),
      extent = (nKvHeads - 1) * strides.head + pos * strides.pos + headDim;
    if (
      !(nHeads % nKvHeads === 0 && kvDim === nKvHeads * headDim && pos >= 0) ||
      (keys | values) & (eb - 1) ||
      Math.max(keys, values) + extent * eb > this.heap.memory.buffer.byteLength
    ) {
      throw new Error(
        `attention: ${nHeads} heads, ${nKvHeads} KV heads of ${headDim}, kvDim ${kvDim}, position ${pos} do not fit the cache`,
      );
    }
    const f32 = this.heap.viewsF32();
    const cache = (p: number): Float32Array => {
      const raw =
        kvType === "f32" ? f32.subarray(p >>> 2, (p >>> 2) + extent) : Float32Array.from(new Uint16Array(f32.buffer, p, extent), f16ToF32);
      const rows = new Float32Array((pos + 1) * kvDim);
      for (let t = 0; t <= pos; t++)
        for (let j = 0; j < nKvHeads; j++) {
          const at = j * strides.head + t * strides.pos;
          rows.set(raw.subarray(at, at + headDim), t * kvDim + j * headDim);
        }
      return rows;
    };
    if (this.scores.length < pos + 1) this.scores = new Float32Array(pos + 1);
    attention(f32, out >>> 2, f32, q >>> 2, cache(keys), cache(values), kvDim, pos, nHeads, nKvHeads, headDim, this.scores);
  }

  swiglu(x: number, y: number, n: number): void {
    const f32 = this.heap.viewsF32();
    swiglu(f32, x >>> 2, f32, y >>> 2, n);
  }

  geglu(x: number, y: number, n: number): void {
    const f32 = this.heap.viewsF32();
    geglu(f32, x >>> 2, f32, y >>> 2, n);
  }

  rmsnorm(out: number, x: number, w: number, n: number, rows: number, eps: number): void {
    const f32 = this.heap.viewsF32(),
      wv = f32.subarray(w >>> 2, (w >>> 2) + n);
    for (let r = 0; r < rows; r++) rmsnorm(f32, (out >>> 2) + r * n, f32, (x >>> 2) + r * n, wv, n, eps);
  }

  addInto(dst: number, src: number, n: number): void {
    const f32 = this.heap.viewsF32();
    addInto(f32, dst >>> 2, f32, src >>> 2, n);
  }

  rope(v: number, nHeads: number, headDim: number, ropeDim: number, neox: boolean, cos: number, sin: number): void {
    const f32 = this.heap.viewsF32(),
      half = ropeDim / 2;
    rope(
      f32,
      v >>> 2,
      nHeads,
      headDim,
      ropeDim,
      neox,
      f32.subarray(cos >>> 2, (cos >>> 2) + half),
      f32.subarray(sin >>> 2, (sin >>> 2) + half),
    );
  }

  toHalves(src: number, dst: number, n: number, rows = 1, dstStride = n * 2): void {
    const f32 = this.heap.viewsF32(),
      h = new Uint16Array(f32.buffer);
    for (let r = 0; r < rows; r++)
      for (let i = 0; i < n; i++) h[((dst + r * dstStride) >>> 1) + i] = f32ToF16(f32[(src >>> 2) + r * n + i]);
  }

  getRow(w: WeightMatrix, row: number, dst: number): void {
    checkMatrix(this.heap, w);
    if (w.packed) throw new Error("reference kernels cannot read a matrix packed by another backend");
    if (!(Number.isInteger(row) && row >= 0 && row < w.rows)) throw new Error(`getRow: row ${row} out of range [0, ${w.rows})`);
    dequantizeRow(w.type, this.heap.viewsU8(), w.ptr + row * w.rowBytes, this.heap.viewsF32(), dst >>> 2, w.cols);
  }

  async dispose(): Promise<void> {}
}

/** Throws if `w` does not describe a consistent matrix inside the heap. */
export function checkMatrix(heap: Heap, w: WeightMatrix): void {
  const size = heap.memory.buffer.byteLength;
  if (!(w.rows > 0 && w.cols > 0 && Number.isInteger(w.rows) && Number.isInteger(w.cols))) {
    throw new Error(`matrix shape ${w.rows}x${w.cols} is not a positive integer shape`);
  }
  const rb = rowBytes(w.type, w.cols); // throws for unsupported types and ragged rows
  if (w.rowBytes !== rb) throw new Error(`matrix rowBytes ${w.rowBytes} does not match ${w.cols} values per row (${rb} bytes)`);
  if (w.ptr < 0 || w.ptr + w.rows * w.rowBytes > size) {
    throw new Error(`matrix at ${w.ptr} (${w.rows} rows of ${w.rowBytes} bytes) lies outside the ${size}-byte heap`);
  }
}
