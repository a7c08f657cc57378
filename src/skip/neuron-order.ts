/**
 * ffn-sparse's neuron order (issue 16): per layer, a permutation of the FFN's
 * neurons that only moves neurons inside their 32-neuron quantization block
 * of the down projection, so that ffn-sparse's groups of 4 (taken along the
 * order) gather neurons that are dropped together. A permutation inside a
 * block changes no block's scales, so the kernels can still skip a whole
 * group (src/model/sparse-ffn.ts builds permuted copies), and the dense
 * product is unchanged.
 *
 * Calibration sorts each block's neurons by how often they are kept on the
 * calibration prompts (rarest first). The order ships beside its profile
 * as a small binary side file (`neuron_order_file`):
 *
 *   "FFNORD01" | u32 nLayers | u32 ffnDim | u32 block | u8 offset[nLayers][ffnDim]
 *
 * offset[l][i] is the in-block index of the neuron at position i of layer l
 * (its neuron number is the block start plus that offset).
 */
import { writeFileSync } from "node:fs";
import { loadSideFile } from "./side-file.js";
import type { NeuronGroups } from "./policy.js";
import { isWithinBlocks } from "../kernels/permutation.js";

/** The quantization block along the down projection's rows that an order must stay inside. */
export const ORDER_BLOCK = 32;
const MAGIC = "FFNORD01";
const HEADER = 8 + 12;

/** Each block's neurons sorted by `kept` (ascending; ties by neuron number): the order calibration writes. */
export function sortWithinBlocks(kept: ArrayLike<number>, block = ORDER_BLOCK): Int32Array {
  const n = kept.length;
  if (n % block !== 0) throw new Error(`neuron order: ${n} neurons are not whole blocks of ${block}`);
  const out = new Int32Array(n);
  for (let b = 0; b < n; b += block) {
    const idx = Array.from({ length: block }, (_, i) => b + i).sort((x, y) => kept[x] - kept[y] || x - y);
    out.set(idx, b);
  }
  return out;
}

/** The side file's bytes for per-layer orders (each within blocks of `block`). */
export function encodeNeuronOrder(orders: Int32Array[], block = ORDER_BLOCK): Uint8Array {
  const F = orders[0]?.length ?? 0;
  if (orders.length === 0 || F === 0) throw new Error("neuron order: no layers");
  const out = new Uint8Array(HEADER + orders.length * F);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, orders.length, true);
  dv.setUint32(12, F, true);
  dv.setUint32(16, block, true);
  orders.forEach((o, l) => {
    if (o.length !== F || !isWithinBlocks(o, block))
      throw new Error(`neuron order: layer ${l} is not a permutation of ${F} neurons within blocks of ${block}`);
    for (let i = 0; i < F; i++) out[HEADER + l * F + i] = o[i] % block;
  });
  return out;
}

/** Per-layer orders from the side file's bytes; `where` names the file in errors. */
export function decodeNeuronOrder(bytes: Uint8Array, where: string): Int32Array[] {
  if (bytes.length < HEADER || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC)
    throw new Error(`${where}: not a neuron order file (expected the magic "${MAGIC}")`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const L = dv.getUint32(8, true),
    F = dv.getUint32(12, true),
    block = dv.getUint32(16, true);
  if (block !== ORDER_BLOCK) throw new Error(`${where}: block ${block} is not supported (only ${ORDER_BLOCK})`);
  if (L === 0 || F === 0 || F % block !== 0) throw new Error(`${where}: ${L} layers of ${F} neurons is not whole blocks of ${block}`);
  if (bytes.length !== HEADER + L * F)
    throw new Error(`${where}: ${bytes.length} bytes, expected ${HEADER + L * F} for ${L} layers of ${F} neurons (truncated or corrupt)`);
  const orders: Int32Array[] = [];
  for (let l = 0; l < L; l++) {
    const o = new Int32Array(F);
    for (let i = 0; i < F; i++) o[i] = i - (i % block) + bytes[HEADER + l * F + i];
    if (!isWithinBlocks(o, block)) throw new Error(`${where}: layer ${l} is not a permutation within blocks of ${block}`);
    orders.push(o);
  }
  return orders;
}

export function writeNeuronOrder(path: string, orders: Int32Array[]): void {
  writeFileSync(path, encodeNeuronOrder(orders));
}

/**
 * Read a side file once per process: every policy made from the profile shares the same arrays, which is what lets
 * the model keep one set of permuted weight copies per order (src/model/sparse-ffn.ts).
 */
export function loadNeuronOrder(path: string): Int32Array[] {
  return loadSideFile(path, "neuron order file", decodeNeuronOrder);
}

/** ffn-sparse's groups of 4 along each layer's order (SparseOptions.groups). */
export function orderedGroups(orders: Int32Array[]): NeuronGroups[] {
  return orders.map((order) => ({ size: 4, order }));
}
