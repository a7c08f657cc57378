import { dot8Add, widen8, h2f, Q4_1 } from "./common";
import { nibByte } from "./packed";
import { scratch, scratchBytes } from "./prompt";
import { half4 } from "./half";

// ---------------------------------------------------------------------------
// ffn-sparse, realized: the down projection read only for the FFN neurons a
// token keeps (issue 16). A down projection W (rows = dim outputs, cols =
// ffnDim neurons) is row-major in the file: its 4-bit quantization blocks
// run along the neurons, 32 to a block, so a dropped neuron's weights sit
// inside every row's block and cannot be skipped. The neuron-major copy
// below stores, for each tile of 32 outputs and each block b of 32 neurons:
//
//   f16 d[32] | f16 m[32] | 8 groups of 4 neurons × 64 bytes of nibbles
//
// (640 bytes, as many as the file's Q4_1 blocks; w = d*q + m as Q4_1, Q4_0 as m = -8d). Group g's 64 bytes are
// four v128s; byte k of v128 v holds, in its low nibble, output 8v + (k>>2)
// and in its high nibble output 8v + 4 + (k>>2), of neuron 4g + (k&3). One
// v128 dotted with the group's four int8 activations splatted to every lane
// sums 4 outputs × 4 neurons in 4 i32 lanes, the same work per instruction
// as the row-major kernels, and a dropped group's 64 bytes (one cache line)
// are neither read nor computed. The block's scales are read when any of its
// groups is kept.
// ---------------------------------------------------------------------------

/** Type-id flag of a neuron-major job (NEURON_MAJOR | Q4_0 or Q4_1; `split` carries the group mask). */
export const NEURON_MAJOR: i32 = 0x2000;
/** Type-id flag of a row-group-masked job (MASKED | PACKED | type; `split` carries the group mask). */
export const MASKED: i32 = 0x1000;

const TILE_BLOCK: usize = 640;
/** Where a tile-block's groups start (after its f16 d[32] and m[32]). */
const GROUPS: usize = 128;

/** Bytes of the neuron-major copy of a rows × cols matrix (rows and cols multiples of 32). */
export function neuronMajorBytes(rows: i32, cols: i32): i32 {
  return (rows >> 5) * (cols >> 5) * <i32>TILE_BLOCK;
}

/** Value e (0..31) of a block of a packed Q4 row whose nibble area starts at p (see packed.ts getRow). */
@inline function nibble(p: usize, e: i32): u32 {
  const i = e & 7;
  const byte = load<u8>(p + nibByte((i << 1) + (e >> 4)));
  return ((e >> 3) & 1) ? <u32>byte >> 4 : <u32>byte & 15;
}

/**
 * Write the neuron-major copy (see above) of the packed Q4_0/Q4_1 matrix at w to dst (neuronMajorBytes). Returns 0,
 * or 1 when a Q4_0 scale's -8d is not a half (|d| > 8188): then there is no copy. `perm`: 0, or cols i32s, a
 * permutation of the neurons inside each block of 32 (ffn-sparse's neuron order): position e of block b then holds
 * neuron perm[32b + e], so the groups of 4 are taken along the order; the block's scales are unchanged.
 */
export function toNeuronMajor(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, dst: usize, perm: usize): i32 {
  const q4_1 = type == Q4_1;
  const bb: usize = q4_1 ? 80 : 72,
    nibOff: usize = q4_1 ? 16 : 8;
  const nb = cols >> 5;
  memory.fill(dst, 0, <usize>neuronMajorBytes(rows, cols));
  for (let jt = 0; jt < rows >> 5; jt++)
    for (let b = 0; b < nb; b++) {
      const t = dst + (<usize>jt * <usize>nb + <usize>b) * TILE_BLOCK;
      for (let jj = 0; jj < 32; jj++) {
        const j = (jt << 5) + jj;
        const lane = <usize>(j & 3);
        const blk = w + <usize>(j & ~3) * <usize>rowBytes + <usize>b * bb;
        const d = load<u16>(blk + (lane << 1));
        store<u16>(t + (<usize>jj << 1), d);
        if (q4_1) store<u16>(t + 64 + (<usize>jj << 1), load<u16>(blk + 8 + (lane << 1)));
        else {
          const m = <u16>i32x4.extract_lane(half4(f32x4.splat(<f32>-8 * h2f(d))), 0);
          if (h2f(m) != <f32>-8 * h2f(d)) return 1;
          store<u16>(t + 64 + (<usize>jj << 1), m);
        }
        const p = blk + nibOff + (lane << 2);
        for (let e = 0; e < 32; e++) {
          const q = nibble(p, perm ? load<i32>(perm + ((<usize>(b << 5) + <usize>e) << 2)) & 31 : e);
          const o = t + GROUPS + (<usize>(e >> 2) << 6) + (<usize>(jj >> 3) << 4) + <usize>(((jj & 3) << 2) | (e & 3));
          const old = <u32>load<u8>(o);
          store<u8>(o, (jj & 4) ? (old & 15) | (q << 4) : (old & 0xf0) | q);
        }
      }
    }
  return 0;
}

/**
 * dst = the packed Q4_0/Q4_1 matrix at w with its rows reordered: row r of the copy is row perm[r] (perm: rows i32s
 * at `perm`, rows a multiple of 4). The 4-row interleaved layout (packed.ts) keeps each row's scales and nibbles in
 * its lane of the group, so a row moves as its d (and m) and four 4-byte nibble runs per block. ffn-sparse's up
 * projection along a neuron order: the kept groups of 4 are then whole packed groups again.
 */
export function permuteRows(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, perm: usize, dst: usize): void {
  const q4_1 = type == Q4_1;
  const bb: usize = q4_1 ? 80 : 72,
    nibOff: usize = q4_1 ? 16 : 8;
  const nb = cols >> 5;
  for (let r = 0; r < rows; r++) {
    const s = load<i32>(perm + (<usize>r << 2));
    const ls = <usize>(s & 3),
      ld = <usize>(r & 3);
    const src = w + <usize>(s & ~3) * <usize>rowBytes,
      out = dst + <usize>(r & ~3) * <usize>rowBytes;
    for (let b = 0; b < nb; b++) {
      const bs = src + <usize>b * bb,
        bd = out + <usize>b * bb;
      store<u16>(bd + (ld << 1), load<u16>(bs + (ls << 1)));
      if (q4_1) store<u16>(bd + 8 + (ld << 1), load<u16>(bs + 8 + (ls << 1)));
      for (let c: usize = 0; c < 4; c++) store<u32>(bd + nibOff + (c << 4) + (ld << 2), load<u32>(bs + nibOff + (c << 4) + (ls << 2)));
    }
  }
}

/** Bytes quantizeNeurons writes for `cols` values: f32 scale[nb] | f32 sum[nb] | i8 q[cols]. */
export function neuronActBytes(cols: i32): i32 {
  return (cols >> 5) * 8 + cols;
}

/**
 * The neuron-major kernels' activation: per block of 32, scale = max|h|/127,
 * q = round(h/scale) as int8, and scale * sum(q) for the m term (a dropped
 * neuron's h is 0, so it adds nothing). The m term takes the quantized sum,
 * not the float one, so that the product is exactly W times the quantized h:
 * Q4 weights are d*q + m with q in 0..15 and m near -8d, and pairing the
 * float sum with the quantized dot leaves d*q (not the centred weight) on
 * every rounding error, ~3x the error on SmolLM2's down projections.
 */
export function quantizeNeurons(h: usize, cols: i32, a: usize): void {
  const nb = cols >> 5;
  const q = a + (<usize>nb << 3);
  for (let b = 0; b < nb; b++) {
    const p = h + (<usize>b << 7);
    let amax: f32 = 0;
    for (let i = 0; i < 32; i++) amax = max(amax, abs(load<f32>(p + (<usize>i << 2))));
    const s = amax / <f32>127;
    const inv: f32 = amax > 0 ? <f32>127 / amax : 0;
    let isum = 0;
    for (let i = 0; i < 32; i++) {
      const v = <i32>nearest<f32>(load<f32>(p + (<usize>i << 2)) * inv);
      store<i8>(q + (<usize>b << 5) + i, <i8>v);
      isum += v;
    }
    store<f32>(a + (<usize>b << 2), s);
    store<f32>(a + (<usize>(nb + b) << 2), s * <f32>isum);
  }
}

/** acc (+) the int sums of 4 outputs × the group's 4 neurons: nibbles w (0..15) against activations x. */
@inline function dot4(acc: v128, x: v128, w: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return dot8Add(acc, x, w);
  // plain SIMD: int16 products by pairs, then the pairs of each output added (lanes j0 j0 j1 j1 | j2 j2 j3 j3)
  const x16 = i16x8.extend_low_i8x16_s(x);
  const lo = i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(w), x16),
    hi = i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(w), x16);
  return i32x4.add(acc, i32x4.add(v128.shuffle<i32>(lo, hi, 0, 2, 4, 6), v128.shuffle<i32>(lo, hi, 1, 3, 5, 7)));
}

/** As an i32x4 of sums: the relaxed build's int16 pairs widened (see common.ts widen8). */
@inline function sums(acc: v128): v128 {
  return ASC_FEATURE_RELAXED_SIMD ? widen8(acc) : acc;
}

/**
 * Four halves at p as f32 times 2^-56: the bits moved into place (sign kept, exponent rebiased by 112 less than an
 * f16->f32 conversion needs) and times 2^56. Exact for every half, subnormals included (d·2^-112 is at least 2^-136,
 * within f32's subnormal precision, and d·2^-56 is normal).
 */
@inline function halves(p: usize): v128 {
  const b = v128.and(i32x4.shl(i32x4.extend_low_i16x8_s(v128.load64_zero(p)), 13), i32x4.splat(0x8fffe000));
  return f32x4.mul(b, f32x4.splat(<f32>7.205759403792794e16)); // 2^56
}

/**
 * out[4k..4k+3] += sums * (d * s) + m * bs for the tile's k-th four outputs, with s and bs given times 2^56 (see
 * halves): d·2^-56 times s·2^56 rounds to the same f32 as d times s.
 */
@inline function tileStep(o: usize, t: usize, k: usize, acc: v128, s: v128, bs: v128): void {
  const y = v128.load(o + (k << 4));
  const d = halves(t + (k << 3)),
    m = halves(t + 64 + (k << 3));
  v128.store(o + (k << 4), f32x4.add(y, f32x4.add(f32x4.mul(f32x4.convert_i32x4_s(sums(acc)), f32x4.mul(d, s)), f32x4.mul(m, bs))));
}

/** The activation's scale (i = b) or scaled sum (i = nb + b) of a block, splatted and times 2^56 (see tileStep). */
@inline function actTimes56(a: usize, i: i32): v128 {
  return f32x4.splat(load<f32>(a + (<usize>i << 2)) * <f32>7.205759403792794e16);
}

/** The kept groups of each block as a list at `list` (per block 9 bytes: count, then group indices), from the mask. */
@inline function keptLists(mask: usize, nb: i32, list: usize): void {
  for (let b = 0; b < nb; b++) {
    const mk = mask + (<usize>b << 3),
      e = list + <usize>b * 9;
    let n = 0;
    for (let g = 0; g < 8; g++) {
      store<u8>(e + 1 + n, g);
      n += load<u8>(mk + g) != 0 ? 1 : 0;
    }
    store<u8>(e, n);
  }
}

/** out[4k..4k+3] (k < 8) = 0 for the tile at o. */
@inline function zeroTile(o: usize): void {
  const z = i32x4.splat(0);
  for (let k: usize = 0; k < 8; k++) v128.store(o + (k << 4), z);
}

/**
 * Outputs [r0, r1) (multiples of 32) of out = W h for the neuron-major W at
 * w (cols neurons), h quantized by quantizeNeurons at a, and mask one byte
 * per group of 4 neurons: 0 = the group is dropped (its h must be 0).
 * The int sums are exact; per output, the blocks are added in order.
 *
 * Decoding reads each weight once, and one stream through memory is slow
 * (streams.ts), so the tiles go four at a time, a quarter of the range apart:
 * four streams. Four tiles' accumulators do not fit the registers, so each
 * block is read in four passes of 8 outputs (one v128 of each kept group's
 * line per tile); the later passes find the lines in L1.
 */
export function neuronMajorRows(w: usize, cols: i32, r0: i32, r1: i32, a: usize, mask: usize, out: usize): void {
  const nb = cols >> 5;
  // the kept groups of each block, listed once per call (this thread's scratch): no branch per group in the loops
  const list = scratch;
  if (nb * 9 > scratchBytes) unreachable();
  keptLists(mask, nb, list);
  const t0 = r0 >> 5,
    tiles = (r1 - r0) >> 5;
  const q = tiles >> 2;
  const tb = <usize>nb * TILE_BLOCK; // bytes of one tile (all blocks)
  for (let i = 0; i < q; i++) fourTiles(w + <usize>(t0 + i) * tb, <usize>q * tb, nb, a, list, out + (<usize>(t0 + i) << 7), <usize>q << 7);
  for (let jt = t0 + 4 * q; jt < t0 + tiles; jt++) oneTile(w + <usize>jt * tb, nb, a, list, out + (<usize>jt << 7));
}

/** Tiles at t, t + d, t + 2d, t + 3d (outputs at o, o + od, ...): per block, four passes of 8 outputs. */
function fourTiles(t: usize, d: usize, nb: i32, a: usize, list: usize, o: usize, od: usize): void {
  const qa = a + (<usize>nb << 3);
  const m15 = i8x16.splat(15);
  const z = i32x4.splat(0);
  zeroTile(o);
  zeroTile(o + od);
  zeroTile(o + 2 * od);
  zeroTile(o + 3 * od);
  for (let b = 0; b < nb; b++) {
    const e = list + <usize>b * 9;
    const n = <i32>load<u8>(e);
    if (n == 0) continue; // every group of the block dropped: nothing of it is read
    const tb = t + <usize>b * TILE_BLOCK;
    const xb = qa + (<usize>b << 5);
    const s = actTimes56(a, b),
      bs = actTimes56(a, nb + b);
    for (let v: usize = 0; v < 4; v++) {
      let a0 = z,
        a1 = z,
        a2 = z,
        a3 = z,
        a4 = z,
        a5 = z,
        a6 = z,
        a7 = z;
      const pv = tb + GROUPS + (v << 4);
      for (let i = 0; i < n; i++) {
        const g = <usize>load<u8>(e + 1 + i);
        const x = v128.load32_splat(xb + (g << 2));
        const p = pv + (g << 6);
        const w0 = v128.load(p),
          w1 = v128.load(p + d),
          w2 = v128.load(p + 2 * d),
          w3 = v128.load(p + 3 * d);
        a0 = dot4(a0, x, v128.and(w0, m15));
        a1 = dot4(a1, x, v128.and(i16x8.shr_u(w0, 4), m15));
        a2 = dot4(a2, x, v128.and(w1, m15));
        a3 = dot4(a3, x, v128.and(i16x8.shr_u(w1, 4), m15));
        a4 = dot4(a4, x, v128.and(w2, m15));
        a5 = dot4(a5, x, v128.and(i16x8.shr_u(w2, 4), m15));
        a6 = dot4(a6, x, v128.and(w3, m15));
        a7 = dot4(a7, x, v128.and(i16x8.shr_u(w3, 4), m15));
      }
      const k = v << 1; // this pass's outputs: 8v..8v+3 (low nibbles) and 8v+4..8v+7 (high)
      tileStep(o, tb, k, a0, s, bs);
      tileStep(o, tb, k + 1, a1, s, bs);
      tileStep(o + od, tb + d, k, a2, s, bs);
      tileStep(o + od, tb + d, k + 1, a3, s, bs);
      tileStep(o + 2 * od, tb + 2 * d, k, a4, s, bs);
      tileStep(o + 2 * od, tb + 2 * d, k + 1, a5, s, bs);
      tileStep(o + 3 * od, tb + 3 * d, k, a6, s, bs);
      tileStep(o + 3 * od, tb + 3 * d, k + 1, a7, s, bs);
    }
  }
}

/** One tile at t (outputs at o): the same sums as fourTiles, in two passes of 16 outputs. */
function oneTile(t: usize, nb: i32, a: usize, list: usize, o: usize): void {
  const qa = a + (<usize>nb << 3);
  const m15 = i8x16.splat(15);
  const z = i32x4.splat(0);
  zeroTile(o);
  for (let b = 0; b < nb; b++) {
    const e = list + <usize>b * 9;
    const n = <i32>load<u8>(e);
    if (n == 0) continue;
    const tb = t + <usize>b * TILE_BLOCK;
    const xb = qa + (<usize>b << 5);
    const s = actTimes56(a, b),
      bs = actTimes56(a, nb + b);
    for (let half: usize = 0; half < 2; half++) {
      let a0 = z,
        a1 = z,
        a2 = z,
        a3 = z;
      const ph = tb + GROUPS + (half << 5);
      for (let i = 0; i < n; i++) {
        const g = <usize>load<u8>(e + 1 + i);
        const x = v128.load32_splat(xb + (g << 2));
        const p = ph + (g << 6);
        const v0 = v128.load(p);
        a0 = dot4(a0, x, v128.and(v0, m15));
        a1 = dot4(a1, x, v128.and(i16x8.shr_u(v0, 4), m15));
        const v1 = v128.load(p, 16);
        a2 = dot4(a2, x, v128.and(v1, m15));
        a3 = dot4(a3, x, v128.and(i16x8.shr_u(v1, 4), m15));
      }
      const k = half << 2;
      tileStep(o, tb, k, a0, s, bs);
      tileStep(o, tb, k + 1, a1, s, bs);
      tileStep(o, tb, k + 2, a2, s, bs);
      tileStep(o, tb, k + 3, a3, s, bs);
    }
  }
}
