/**
 * Q5_0 → Q8_0, exactly. A Q5_0 block is an f16 scale d, 32 high bits qh and
 * 16 bytes of nibbles; value j is d · (q_j − 16) with q_j = nibble | 5th bit
 * << 4 in [0, 31]. A Q8_0 block is the same d and 32 int8 values, so
 * q_j − 16 in [−16, 15] is a Q8_0 value with the same scale: every weight
 * keeps its exact value, at 34 instead of 22 bytes per block.
 *
 * Why: llama.cpp falls back to Q5_0 in K-quant files for matrices whose rows
 * are not a multiple of 256 (Gemma 3 270M's 640: attn_q, attn_k, ffn_gate,
 * ffn_up), and our Q5_0 kernel (plain layout, the 5th bit spread per block
 * and row) ran at a third of the Q8_0 kernel's weights per second
 * (results/bench/session8-kernels.md). The loader widens such minority Q5_0
 * matrices (model/weights.ts).
 */

const Q5 = 22;
const Q8 = 34;

/**
 * Widen `blocks` Q5_0 blocks to Q8_0 in place inside `buf`: the Q5_0 bytes
 * sit at the END of buf (from buf.length − 22 · blocks), the Q8_0 blocks are
 * written from the start (buf.length must be 34 · blocks). Writing block j
 * ends at 34(j+1) ≤ 12·blocks + 22(j+1), where block j+1's source begins, so
 * no block is overwritten before it is read (each block is read whole first).
 */
export function widenQ5_0InPlace(buf: Uint8Array, blocks: number): void {
  if (buf.length !== Q8 * blocks) throw new Error(`widenQ5_0InPlace: ${buf.length} bytes for ${blocks} blocks, need ${Q8 * blocks}`);
  const src0 = (Q8 - Q5) * blocks;
  const q = new Int8Array(32);
  const out = new Int8Array(buf.buffer, buf.byteOffset, buf.length);
  for (let j = 0; j < blocks; j++) {
    const s = src0 + Q5 * j;
    const d0 = buf[s],
      d1 = buf[s + 1];
    const qh = (buf[s + 2] | (buf[s + 3] << 8) | (buf[s + 4] << 16) | (buf[s + 5] << 24)) >>> 0;
    for (let i = 0; i < 16; i++) {
      const b = buf[s + 6 + i];
      q[i] = ((b & 15) | (((qh >>> i) & 1) << 4)) - 16;
      q[i + 16] = ((b >> 4) | (((qh >>> (i + 16)) & 1) << 4)) - 16;
    }
    const o = Q8 * j;
    buf[o] = d0;
    buf[o + 1] = d1;
    out.set(q, o + 2);
  }
}
