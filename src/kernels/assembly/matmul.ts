// Dispatch: which kernel computes a job's rows, and packed-row dequantization.

import { F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, h2f } from "./common";
import { dotQ4_0, dotQ4_1, dotQ5_0, dotQ5_1, dotQ8_0 } from "./dot-legacy";
import { dotF32, dotF16, dotBF16 } from "./dot-float";
import { PACKED, REPACK, packable, repack, int8Act, q8Dot, nibByte, q8Pair } from "./packed";
import { STREAMS, streams, streamsAt, group } from "./streams";
import { has4, rows4 } from "./rows4";
import { packableK, groupK, groupK2, streamsK, streamsOfK, plainRowsK } from "./packed-k";
import { scratch, scratchBytes, expandedBlock, expand, expandedGroup, expandedPair, expandedQuad,
  splitBlock, splitActs, splitPair, splitPair16 } from "./prompt";
import { smallFor, smallBatch, smallScratch, smallSplit, smallSplitBlock, SMALL_STREAMS } from "./small-batch";
import { ATTENTION, attentionHeads, attentionScratch } from "./attention";
import { batchK, batchSplitK, splitActsK, splitNeedK } from "./prompt-k";
import { MASKED, NEURON_MAJOR, neuronMajorRows } from "./neuron-major";

/**
 * The activation a `type` matrix (PACKED | type for a packed one) reads:
 * 0 the f32 x itself (float weights), 1 A16 (act.ts quantizeAct), 2 AK
 * (quantizeActK: the K-quants).
 */
export function actKind(type: i32): i32 {
  type &= ~PACKED;
  if (type == F32 || type == F16 || type == BF16) return 0;
  return packableK(type) ? 2 : 1;
}

/** True when this module has a kernel for ggml type id `type`. */
export function supports(type: i32): bool {
  if (type & PACKED) return packable(type & ~PACKED);
  return type == F32 || type == F16 || type == BF16 || type == Q4_0 || type == Q4_1 || type == Q5_0 ||
    type == Q5_1 || type == Q8_0 || type == Q4_K || type == Q5_K || type == Q6_K;
}

@inline export function dotRow(type: i32, row: usize, a: usize, x: usize, cols: i32): f32 {
  const nb = cols >> 5;
  switch (type) {
    case Q4_0: return dotQ4_0(row, a, nb, cols);
    case Q4_1: return dotQ4_1(row, a, nb, cols);
    case Q5_0: return dotQ5_0(row, a, nb, cols);
    case Q5_1: return dotQ5_1(row, a, nb, cols);
    case Q8_0: return dotQ8_0(row, a, nb, cols);
    case F16: return dotF16(row, x, cols);
    case BF16: return dotBF16(row, x, cols);
    default: return dotF32(row, x, cols);
  }
}

/**
 * Dequantize row `row` of a `type` matrix (PACKED | type for a packed one)
 * of `rows` rows to f32 at dst. Packed types only: plain rows are
 * dequantized on the JS side.
 */
export function getRow(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, row: i32, dst: usize): void {
  const base = type & ~PACKED;
  const nb = cols >> 5;
  const full = rows & ~3;
  const lane = <usize>(row & 3);
  const g = w + <usize>(row & ~3) * <usize>rowBytes;
  for (let b = 0; b < nb; b++) {
    const o = dst + (<usize>b << 7);
    if (base == Q8_0) {
      if (row < full) {
        const blk = g + <usize>b * 136;
        const d = h2f(load<u16>(blk + (lane << 1)));
        for (let j = 0; j < 32; j++) store<f32>(o + (<usize>j << 2), d * <f32>load<i8>(blk + q8Pair(j >> 1) + (lane << 1) + <usize>(j & 1)));
      } else {
        const blk = w + <usize>row * <usize>rowBytes + <usize>b * 34;
        const d = h2f(load<u16>(blk));
        for (let j = 0; j < 32; j++) store<f32>(o + (<usize>j << 2), d * <f32>load<i8>(blk + 2 + j));
      }
    } else { // Q4_1: d*q + m; Q4_0: d*(q - 8)
      const q4_1 = base == Q4_1;
      if (row < full) {
        const blk = g + <usize>b * (q4_1 ? 80 : 72);
        const d = h2f(load<u16>(blk + (lane << 1))), m = q4_1 ? h2f(load<u16>(blk + 8 + (lane << 1))) : 0;
        const p = blk + (q4_1 ? 16 : 8) + (lane << 2);
        for (let i = 0; i < 8; i++) {
          const lo = load<u8>(p + nibByte(i << 1)), hi = load<u8>(p + nibByte((i << 1) + 1));
          store<f32>(o + (<usize>i << 2), nibValue(q4_1, lo & 15, d, m));
          store<f32>(o + (<usize>(8 + i) << 2), nibValue(q4_1, lo >> 4, d, m));
          store<f32>(o + (<usize>(16 + i) << 2), nibValue(q4_1, hi & 15, d, m));
          store<f32>(o + (<usize>(24 + i) << 2), nibValue(q4_1, hi >> 4, d, m));
        }
      } else {
        const blk = w + <usize>row * <usize>rowBytes + <usize>b * (q4_1 ? 20 : 18);
        const d = h2f(load<u16>(blk)), m = q4_1 ? h2f(load<u16>(blk, 2)) : 0;
        for (let j = 0; j < 16; j++) {
          const v = load<u8>(blk + (q4_1 ? 4 : 2) + j);
          store<f32>(o + (<usize>j << 2), nibValue(q4_1, v & 15, d, m));
          store<f32>(o + (<usize>(16 + j) << 2), nibValue(q4_1, v >> 4, d, m));
        }
      }
    }
  }
}

/** A dequantized 4-bit value q, as ggml computes it: Q4_1 d*q + m, Q4_0 (q - 8)*d. */
@inline function nibValue(q4_1: bool, q: u32, d: f32, m: f32): f32 {
  return q4_1 ? d * <f32>q + m : <f32>(<i32>q - 8) * d;
}

/**
 * Rows [r0, r1) of out[t*outStride + r] = W[r,:] . x_t for t < n, for a
 * matrix of `rows` rows. W: rows of `rowBytes` at `w`. x_t: f32 at
 * x + t*cols*4 (float weights) or A16 at act + t*actStride (quantized
 * weights; see quantizeAct). For a packed type (PACKED | ggml type), r0 must
 * be a multiple of 4 and r1 a multiple of 4 or `rows`.
 * Each weight row (group) is read from memory once and reused from L1 for all n tokens.
 */
export function matmul(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, r0: i32, r1: i32,
  act: usize, actStride: i32, x: usize, n: i32, out: usize, outStride: i32, split: usize): void {
  if (type & ATTENTION) {
    // an attention job (WasmKernels.attention): rows r0..r1 are query heads; the
    // fields carry q (w), the cache's position stride (rowBytes) and head stride
    // (split), in elements, headDim (cols), nHeads (rows), keys (act), nKvHeads
    // (actStride), values (x), pos (n) and the scratch base (outStride), one
    // attentionScratch-sized region per head index
    const s = <usize>outStride + <usize>r0 * <usize>attentionScratch(n, rows, actStride, cols);
    attentionHeads(out, w, act, x, rowBytes, <i32>split, n, rows, actStride, cols, s, type & 1, r0, r1);
    return;
  }
  if (type & REPACK) {
    // load time: this chunk's rows into the packed layout (groups of 4 are independent, so threads split them)
    repack(type & ~REPACK, w + <usize>r0 * <usize>rowBytes, rowBytes, cols, r1 - r0, scratch);
    return;
  }
  if (type & NEURON_MAJOR) {
    neuronMajorRows(w, cols, r0, r1, act, split, out); // split: the group mask
    return;
  }
  if (type & MASKED) {
    maskedGroups(type & ~(MASKED | PACKED), w, rowBytes, cols, r0, r1, act, out, split);
    return;
  }
  if ((type & PACKED) != 0 && <i64>(r1 - r0) * rowBytes > 2 * DECODE_WINDOW_BYTES && readyForWindows(type & ~PACKED, n, split, act, actStride, cols)) {
    // a large row range, decoding or a small batch: in equal windows (see DECODE_WINDOW_BYTES); each row's output is the same
    if (n > 1 && split == 0) split = scratch; // readyForWindows split the activations there once for all windows
    const windows = <i32>((<i64>(r1 - r0) * rowBytes + DECODE_WINDOW_BYTES - 1) / DECODE_WINDOW_BYTES);
    const t = type & ~PACKED;
    const step = unaliased(((r1 - r0) / windows + 31) & ~31, rowBytes, packableK(t) ? streamsOfK(t) : STREAMS);
    for (let c = r0; c < r1; c += step)
      matmul(type, w, rowBytes, cols, rows, c, min(c + step, r1), act, actStride, x, n, out, outStride, split);
    return;
  }
  let r = r0;
  if (packableK(type & ~PACKED)) {
    matmulK(type & ~PACKED, (type & PACKED) != 0, w, rowBytes, cols, rows, r0, r1, act, actStride, n, out, outStride, split);
    return;
  }
  if (type & PACKED) {
    type &= ~PACKED;
    const nb = cols >> 5;
    const full = min(r1, rows & ~3);
    const k15 = 15 + (rows >> 31), kMask = 0x8fffe000 + (rows >> 31); // rows >= 0: opaque constants (see group)
    const kRebias = <f32>5.192296858534828e33 + <f32>(rows >> 31);
    while (n == 1 && full - r >= 4 * STREAMS) {
      // decoding: STREAMS streams, a STREAMS-th of [r, full) apart (see streams); what a pass leaves (q made odd or
      // unaliased), another pass while eight groups are left, then the one-group loop below
      const q = streamGroups(oddGroups((full - r) / (4 * STREAMS)), rowBytes);
      const d = <usize>(q << 2) * <usize>rowBytes, od = <usize>(q << 4);
      for (let i = 0; i < q; i++) {
        const g = w + <usize>r * <usize>rowBytes, o = out + (<usize>r << 2);
        if (type == Q4_1) streams<u8>(g, d, act, nb, cols, o, od, k15, kMask, kRebias);
        else if (type == Q4_0) streams<i8>(g, d, act, nb, cols, o, od, k15, kMask, kRebias);
        else streams<u16>(g, d, act, nb, cols, o, od, k15, kMask, kRebias);
        r += 4;
      }
      r += (STREAMS - 1) * 4 * q; // the other streams' rows are done too
    }
    if (n > 1) {
      if (type == Q4_1) r = batch<u8>(w, rowBytes, nb, cols, r, full, act, actStride, n, out, outStride, k15, kMask, kRebias, split);
      else if (type == Q4_0) r = batch<i8>(w, rowBytes, nb, cols, r, full, act, actStride, n, out, outStride, k15, kMask, kRebias, split);
      else r = batch<u16>(w, rowBytes, nb, cols, r, full, act, actStride, n, out, outStride, k15, kMask, kRebias, split);
    }
    for (; r < full; r += 4) {
      const g = w + <usize>r * <usize>rowBytes;
      for (let t = 0; t < n; t++) {
        const a = act + <usize>t * <usize>actStride;
        const o = out + ((<usize>t * <usize>outStride + <usize>r) << 2);
        if (type == Q4_1) group<u8>(g, a, nb, cols, o, k15, kMask, kRebias);
        else if (type == Q4_0) group<i8>(g, a, nb, cols, o, k15, kMask, kRebias);
        else group<u16>(g, a, nb, cols, o, k15, kMask, kRebias);
      }
    }
  }
  else if (has4(type)) {
    rowsPlain4(type, w, rowBytes, cols, rows, r0, r1, act, actStride, n, out, outStride);
    return;
  }
  for (; r < r1; r++) {
    const row = w + <usize>r * <usize>rowBytes;
    for (let t = 0; t < n; t++) {
      const v = dotRow(type, row, act + <usize>t * <usize>actStride, x + (<usize>t * <usize>cols << 2), cols);
      store<f32>(out + ((<usize>t * <usize>outStride + <usize>r) << 2), v);
    }
  }
}

/**
 * One token's rows [r0, r1) (multiples of 4) of a packed Q4_0/Q4_1 matrix,
 * only for the 4-row groups whose byte in `mask` (one per group) is nonzero;
 * the other rows are set to 0 (ffn-sparse's up projection, see neuron-major.ts).
 */
function maskedGroups(type: i32, w: usize, rowBytes: i32, cols: i32, r0: i32, r1: i32, act: usize, out: usize, mask: usize): void {
  if (type == Q4_1) maskedGroupsOf<u8>(w, rowBytes, cols, r0, r1, act, out, mask);
  else maskedGroupsOf<i8>(w, rowBytes, cols, r0, r1, act, out, mask);
}

/**
 * maskedGroups for one type. The kept groups are listed first, then computed eight at a time through streamsAt, the
 * i-th of each eighth of the list together: eight streams far apart, as the decode kernels read (streams.ts); eight
 * neighbouring groups were 1.8x slower per weight. The rest go one by one.
 */
function maskedGroupsOf<Q>(w: usize, rowBytes: i32, cols: i32, r0: i32, r1: i32, act: usize, out: usize, mask: usize): void {
  const nb = cols >> 5;
  const k15 = 15 + (r0 >> 31), kMask = 0x8fffe000 + (r0 >> 31); // r0 >= 0: opaque constants (see group)
  const kRebias = <f32>5.192296858534828e33 + <f32>(r0 >> 31);
  const tab = scratch, // this thread's: 8 group offsets, then their 8 output offsets (u32), then the list of kept rows
    list = scratch + 64;
  if (((r1 - r0) >> 2) * 4 + 64 > scratchBytes) unreachable();
  let n: usize = 0;
  for (let r = r0; r < r1; r += 4) {
    if (load<u8>(mask + <usize>(r >> 2)) == 0) v128.store(out + (<usize>r << 2), i32x4.splat(0));
    else store<u32>(list + (n++ << 2), r);
  }
  const q = n >> 3;
  for (let i: usize = 0; i < q; i++) {
    for (let k: usize = 0; k < 8; k++) {
      const r = <usize>load<u32>(list + ((i + k * q) << 2));
      store<u32>(tab + (k << 2), <u32>(w + r * <usize>rowBytes));
      store<u32>(tab + 32 + (k << 2), <u32>(out + (r << 2)));
    }
    streamsAt<Q>(tab, act, nb, cols, k15, kMask, kRebias);
  }
  for (let i = q << 3; i < n; i++) {
    const r = <usize>load<u32>(list + (i << 2));
    group<Q>(w + r * <usize>rowBytes, act, nb, cols, out + (r << 2), k15, kMask, kRebias);
  }
}

/**
 * Groups per decode stream made odd (one fewer when even, from ODD_FROM): stream
 * starts a multiple of 2^13 bytes or more apart, as even counts give on
 * 4096-row matrices, read 6-18% slower (bench/decode-ab.ts,
 * results/bench/decode-s10.md). The groups left over go through the
 * one-group loop. (The K-quant stream kernels, more compute-bound, did not
 * gain: x0.93-0.98.)
 */
@inline function oddGroups(q: i32): i32 {
  return (q & 1) == 0 && q >= ODD_FROM ? q - 1 : q;
}

/**
 * q groups per decode stream, one fewer when the streams would then start a multiple of 8 KiB apart (q * 4 rows of
 * rowBytes): such starts read 6-18% slower (see oddGroups, unaliased).
 */
@inline function streamGroups(q: i32, rowBytes: i32): i32 {
  return q > 1 && (<i64>q * 4 * <i64>rowBytes) % 8192 == 0 ? q - 1 : q;
}

/**
 * Fewest groups per stream made odd: the leftover groups (up to 8) run one
 * stream each, which a pool's chunks of a few hundred rows (2 threads: q
 * 8-22 on 1.1B rows) pay for without the measured gain (ab-trees 2 threads
 * 1.1B Q4_0 decode 0.93x with q > 8).
 */
const ODD_FROM = 32;

/**
 * Weight bytes one decode (or small-batch) pass streams at most. The decode
 * kernels read a range's rows as STREAMS streams a STREAMS-th of the range
 * apart (the small-batch kernel: SMALL_STREAMS); over a
 * whole matrix of a 1B-7B model (one thread: nothing splits it) those streams
 * lie up to a megabyte apart, and from DRAM they read 11-13 GB/s against
 * 13-15 GB/s when the range is cut into windows of 150-800 KB (1.2 MB: in
 * between; bench/kernels.ts --stream-mib 1024, results/bench/decode-dram-s16.md).
 * Only ranges over twice this are cut: the pool's chunks at 2 threads (up to
 * ~800 KB on a 1.1B model) read 10% slower when cut again. Rows do not depend
 * on how a range is cut.
 */
const DECODE_WINDOW_BYTES: i64 = 512 << 10;

/**
 * A window of `step` rows (a multiple of 32) made 32 rows shorter when its decode streams would start a multiple of
 * 8 KiB apart: each of the kernel's `streams` covers that share of the window, 4 rows a group. Those
 * starts read 6-18% slower (see oddGroups): on a 4096x4096 Q4_0 matrix, windows of 256 rows put the eight streams
 * 72 KiB apart, and a 7B model's Q, K, V and O projections read 13.3 GB/s where its FFN read 14.7-15.1
 * (results/bench/decode-s18.md).
 */
function unaliased(step: i32, rowBytes: i32, streams: i32): i32 {
  const d = <i64>(step / (4 * streams)) * 4 * <i64>rowBytes;
  return step > 32 && d % 8192 == 0 ? step - 32 : step;
}

/**
 * Whether an n-token product of a packed matrix of `type` can go window by window: decoding always; a small batch
 * (smallBatch) when its activations are split once for all windows. Unless the pool already split them
 * (split != 0), this splits them into the scratch, where the windows then read them.
 */
function readyForWindows(type: i32, n: i32, split: usize, act: usize, actStride: i32, cols: i32): bool {
  if (n == 1) return true;
  const small = type == Q4_1 ? smallFor<u8>(n) : type == Q4_0 ? smallFor<i8>(n) : type == Q8_0 ? smallFor<u16>(n) : false;
  if (!small) return false;
  if (split != 0) return true;
  const need = <usize>splitNeed(type | PACKED, cols, n);
  if (need == 0 || need + <usize>smallScratch(SMALL_STREAMS, n) > <usize>scratchBytes) return false;
  splitJob(type, cols, act, actStride, n, scratch);
  return true;
}

/** Fewest rows for which batch() expands groups (see prompt.ts), int8 and int16 path. */
const EXPAND_INT8_ROWS = 2;
const EXPAND_INT16_ROWS = 4;

/**
 * Packed groups [r, full) of a Q matrix times n > 1 activations (see
 * prompt.ts): groups are expanded into the scratch four at a time, a quarter
 * of the range apart (four streams through memory), and each expanded group
 * is then dotted with every activation while it is in L1 (splitBatch, else
 * expandedTokens). Returns the first row not done (r itself when a group
 * does not fit the scratch).
 */
function batch<Q>(w: usize, rowBytes: i32, nb: i32, cols: i32, r: i32, full: i32, act: usize, actStride: i32,
  n: i32, out: usize, outStride: i32, k15: i32, kMask: i32, kRebias: f32, split: usize): i32 {
  if (smallFor<Q>(n)) {
    const done = smallBatch<Q>(w, rowBytes, nb, cols, r, full, act, actStride, n, out, outStride, k15, kMask, kRebias, split);
    if (done > r) return done;
    if (q8Dot<Q>()) split = 0; // split in smallBatch's layout, not the expanded path's
  }
  const gs = nb * expandedBlock<Q>();
  // expanding (and splitting the activations) costs about a row's work per
  // block: with the split path it pays from n = 2 (int8: x0.81-0.85 on 1.1B
  // Q4_0 rows, x0.85-1.05 on SmolLM2's) and n = 4 (int16; n = 3 measured
  // x0.94-1.19), in bench/matmul-n.ts
  if (gs > scratchBytes || n < (int8Act<Q>() ? EXPAND_INT8_ROWS : EXPAND_INT16_ROWS)) return r;
  const done = splitBatch<Q>(w, rowBytes, nb, cols, r, full, act, actStride, n, out, outStride, kMask, kRebias, split);
  if (done > r) return done;
  const rb = <usize>rowBytes;
  const S = 4 * gs <= scratchBytes ? 4 : 1;
  const q = ((full - r) >> 2) / S; // groups per stream
  const d = <usize>(q << 2) * rb;
  for (let i = 0; i < q; i++, r += 4) {
    expand<Q>(w + <usize>r * rb, d, S, nb, kMask);
    for (let s = 0; s < S; s++) expandedTokens<Q>(scratch + <usize>(s * gs), r + s * 4 * q, act, actStride, nb, cols, n, out, outStride, kRebias);
  }
  r += (S - 1) * 4 * q; // the other streams' groups are done too
  const rest = (full - r) >> 2;
  expand<Q>(w + <usize>r * rb, rb << 2, rest, nb, kMask);
  for (let s = 0; s < rest; s++, r += 4) expandedTokens<Q>(scratch + <usize>(s * gs), r, act, actStride, nb, cols, n, out, outStride, kRebias);
  return r;
}

/**
 * batch<Q> with split activations (see splitActs): S = 4 (else 2) expanded
 * groups and then the tokens' split activations in the scratch, in tiles of
 * as many tokens as fit. With `split` (splitJob's output for all n tokens)
 * the tiles are read from there instead of being split here. Returns the
 * first row not done: r itself when a tile of SPLIT_TOKENS (or n) does not fit.
 */
function splitBatch<Q>(w: usize, rowBytes: i32, nb: i32, cols: i32, r: i32, full: i32, act: usize, actStride: i32,
  n: i32, out: usize, outStride: i32, kMask: i32, kRebias: f32, split: usize): i32 {
  const gs = nb * expandedBlock<Q>(), sb = nb * splitBlock<Q>();
  const S = splitGroupsAt<Q>(gs, sb, n);
  if (S == 0) return r;
  const T = min(tileTokens(gs, sb, S), n);
  const tile = scratch + <usize>(S * gs);
  let end = r;
  for (let t = 0; t < n; t += T) {
    const nt = min(T, n - t);
    let x = tile;
    if (split) x = split + <usize>t * <usize>sb;
    else splitActs<Q>(act + <usize>t * <usize>actStride, <usize>actStride, nt, nb, cols, tile, kRebias);
    end = splitGroups<Q>(w, rowBytes, nb, r, full, x, nt, out + (<usize>t * <usize>outStride << 2), outStride, kMask, kRebias, S);
  }
  return end;
}

/** Split tokens that fit the scratch beside S expanded groups of gs bytes (sb bytes per token), even. */
@inline function tileTokens(gs: i32, sb: i32, S: i32): i32 {
  return ((scratchBytes - S * gs) / sb) & ~1;
}

/** splitBatch's expanded groups per pass: 4, else 2 when a tile of SPLIT_TOKENS (or n) does not fit beside 4; 0 when not beside 2 either. */
function splitGroupsAt<Q>(gs: i32, sb: i32, n: i32): i32 {
  const need = min(n, SPLIT_TOKENS);
  if (tileTokens(gs, sb, 4) >= need) return 4;
  return tileTokens(gs, sb, 2) >= need ? 2 : 0;
}

/**
 * Bytes of the split activations of n tokens that matmul's batch path uses
 * for a `type` (PACKED | ggml type) matrix of `cols` columns, 0 when it
 * would not split them (see splitJob).
 */
export function splitNeed(type: i32, cols: i32, n: i32): i32 {
  if (!(type & PACKED)) return 0;
  type &= ~PACKED;
  if (type == Q4_1) return splitNeedOf<u8>(cols, n);
  if (type == Q4_0) return splitNeedOf<i8>(cols, n);
  if (type == Q8_0) return splitNeedOf<u16>(cols, n);
  if (packableK(type)) return splitNeedK(type, cols, n);
  return 0;
}

function splitNeedOf<Q>(cols: i32, n: i32): i32 {
  const nb = cols >> 5, gs = nb * expandedBlock<Q>(), sb = nb * splitBlock<Q>();
  if (smallFor<Q>(n)) return n * nb * smallSplitBlock<Q>(); // smallBatch reads the same split
  if (gs > scratchBytes || n < (int8Act<Q>() ? EXPAND_INT8_ROWS : EXPAND_INT16_ROWS)) return 0;
  return splitGroupsAt<Q>(gs, sb, n) == 0 ? 0 : n * sb;
}

/**
 * Split the n activations (A16 at act, actStride apart) of a job on a
 * `type` matrix once into dst (splitNeed bytes), for matmul's `split`: the
 * same bytes the batch path would make per tile, so the same results.
 */
export function splitJob(type: i32, cols: i32, act: usize, actStride: i32, n: i32, dst: usize): void {
  type &= ~PACKED;
  const nb = cols >> 5;
  const kRebias = <f32>5.192296858534828e33 + <f32>(n >> 31); // n >= 0: the opaque constant of matmul
  if (type == Q4_1) splitActs<u8>(act, <usize>actStride, n, nb, cols, dst, kRebias);
  else if (type == Q4_0) splitActs<i8>(act, <usize>actStride, n, nb, cols, dst, kRebias);
  else if (type == Q8_0) {
    if (smallFor<u16>(n)) smallSplit<u16>(act, <usize>actStride, n, nb, cols, dst, kRebias); // smallBatch's layout
    else splitActs<u16>(act, <usize>actStride, n, nb, cols, dst, kRebias);
  }
  else if (packableK(type)) splitActsK(act, <usize>actStride, n, cols, dst); // AK activations (prompt-k.ts)
}

/** Fewest tokens per tile of split activations (fewer: the tile's groups are expanded again too often). */
const SPLIT_TOKENS = 8;

/**
 * splitBatch<Q> for n tokens whose split activations are at split: groups
 * [r, full) expanded S (4 or 2) at a time, a S-th of the range apart, then
 * dotted in pairs with the tokens in pairs (splitPair, splitPair16). Returns
 * the first row not done.
 */
function splitGroups<Q>(w: usize, rowBytes: i32, nb: i32, r: i32, full: i32, split: usize, n: i32, out: usize,
  outStride: i32, kMask: i32, kRebias: f32, S: i32): i32 {
  const gs = <usize>(nb * expandedBlock<Q>()), rb = <usize>rowBytes;
  const q = ((full - r) >> 2) / S; // groups per stream
  const d = <usize>(q << 2) * rb;
  for (let i = 0; i < q; i++, r += 4) {
    expand<Q>(w + <usize>r * rb, d, S, nb, kMask);
    for (let s = 0; s < S; s += 2) {
      splitTokens<Q>(scratch + <usize>s * gs, scratch + <usize>(s + 1) * gs, r + s * 4 * q, r + (s + 1) * 4 * q, split, nb, n, out, outStride, kRebias);
    }
  }
  r += (S - 1) * 4 * q; // the other streams' groups are done too
  const rest = (full - r) >> 2;
  expand<Q>(w + <usize>r * rb, rb << 2, rest, nb, kMask);
  for (let s = 0; s < rest; s += 2) {
    const s1 = min(s + 1, rest - 1); // a lone last group is passed twice
    splitTokens<Q>(scratch + <usize>s * gs, scratch + <usize>s1 * gs, r + 4 * s, r + 4 * s1, split, nb, n, out, outStride, kRebias);
  }
  return r + 4 * rest;
}

/** Expanded groups u0, u1 (rows r0.., r1..) times the n split activations at split, two at a time (a lone last one twice). */
@inline function splitTokens<Q>(u0: usize, u1: usize, r0: i32, r1: i32, split: usize, nb: i32, n: i32, out: usize,
  outStride: i32, kRebias: f32): void {
  const sb = <usize>(nb * splitBlock<Q>());
  for (let t = 0; t < n; t += 2) {
    const t1 = min(t + 1, n - 1);
    const oa = out + (<usize>t * <usize>outStride << 2), ob = out + (<usize>t1 * <usize>outStride << 2);
    const x0 = split + <usize>t * sb, x1 = split + <usize>t1 * sb;
    const o00 = oa + (<usize>r0 << 2), o01 = ob + (<usize>r0 << 2), o10 = oa + (<usize>r1 << 2), o11 = ob + (<usize>r1 << 2);
    if (int8Act<Q>()) splitPair<Q>(u0, u1, x0, x1, nb, o00, o01, o10, o11, kRebias);
    else splitPair16<Q>(u0, u1, x0, x1, nb, o00, o01, o10, o11, kRebias);
  }
}

/** The expanded group at u (rows r..r+3) dotted with each of the n activations (int8 path: four at a time, then two). */
@inline function expandedTokens<Q>(u: usize, r: i32, act: usize, actStride: i32, nb: i32, cols: i32, n: i32,
  out: usize, outStride: i32, kRebias: f32): void {
  let t = 0;
  if (int8Act<Q>()) {
    const as = <usize>actStride, os = <usize>outStride << 2;
    for (; t + 4 <= n; t += 4) {
      expandedQuad<Q>(u, act + <usize>t * as, as, nb, cols, out + ((<usize>t * <usize>outStride + <usize>r) << 2), os, kRebias);
    }
    for (; t + 2 <= n; t += 2) {
      const a = act + <usize>t * <usize>actStride, o = out + ((<usize>t * <usize>outStride + <usize>r) << 2);
      expandedPair<Q>(u, a, a + <usize>actStride, nb, cols, o, o + (<usize>outStride << 2), kRebias);
    }
  }
  for (; t < n; t++) {
    expandedGroup<Q>(u, act + <usize>t * <usize>actStride, nb, cols, out + ((<usize>t * <usize>outStride + <usize>r) << 2), kRebias);
  }
}

/**
 * matmul's rows [r0, r1) for a K-quant (see packed-k.ts; act is AK): packed
 * groups, decoding streamsOfK(type) groups that share of the range apart per
 * pass; for n >= 4 expanded once and dotted with every token (batchK,
 * prompt-k.ts, or batchSplitK with the job's split; relaxed build), else two
 * tokens per pass (groupK2); rows in the plain layout (an unprepared matrix,
 * the last rows % 4) are staged four at a time as a packed group.
 */
function matmulK(type: i32, packed: bool, w: usize, rowBytes: i32, cols: i32, rows: i32, r0: i32, r1: i32,
  act: usize, actStride: i32, n: i32, out: usize, outStride: i32, split: usize): void {
  const full = packed ? min(r1, rows & ~3) : r0;
  const kMask = 0x8fffe000 + (rows >> 31); // rows >= 0: opaque constants (see packed.ts)
  const kRebias = <f32>5.192296858534828e33 + <f32>(rows >> 31);
  const rb = <usize>rowBytes;
  let r = r0;
  const ns = streamsOfK(type);
  while (n == 1 && full - r >= 4 * ns) {
    const q = streamGroups((full - r) / (4 * ns), rowBytes); // groups per stream (what is left: another pass)
    const d = <usize>(q << 2) * rb, od = <usize>(q << 4);
    for (let i = 0; i < q; i++, r += 4) streamsK(type, ns, w + <usize>r * rb, d, act, cols, out + (<usize>r << 2), od, kMask, kRebias);
    r += (ns - 1) * 4 * q;
  }
  if (n > 1) {
    // with split (splitJob: the activations split once per job), else split here per call
    if (split) r = batchSplitK(type, w, rowBytes, cols, r, full, split, n, out, outStride, kMask, kRebias);
    else r = batchK(type, w, rowBytes, cols, r, full, act, actStride, n, out, outStride, kMask, kRebias);
  }
  for (; r < full; r += 4) {
    // fewer tokens than batchK pays for (or rows it left): two tokens per pass over the group, then one
    const g = w + <usize>r * rb, as = <usize>actStride;
    let t = 0;
    for (; t + 2 <= n; t += 2) {
      const o = out + ((<usize>t * <usize>outStride + <usize>r) << 2);
      groupK2(type, g, act + <usize>t * as, act + <usize>(t + 1) * as, cols, o, o + (<usize>outStride << 2), kMask, kRebias);
    }
    for (; t < n; t++) {
      groupK(type, g, act + <usize>t * as, cols, out + ((<usize>t * <usize>outStride + <usize>r) << 2), kMask, kRebias);
    }
  }
  for (; r < r1; r += 4) {
    plainRowsK(type, w + <usize>r * rb, rowBytes, min(4, r1 - r), cols, act, actStride, n, out + (<usize>r << 2), outStride, kMask, kRebias);
  }
}

/**
 * matmul's rows [r0, r1) for a plain-layout type with a rows4 kernel.
 * Decoding (n = 1): four rows a quarter of the range apart per pass (four
 * memory streams); a prompt: four adjacent rows per pass, for every token
 * while they are in L1. Leftover rows run the kernel with the row repeated.
 */
function rowsPlain4(type: i32, w: usize, rowBytes: i32, cols: i32, rows: i32, r0: i32, r1: i32,
  act: usize, actStride: i32, n: i32, out: usize, outStride: i32): void {
  const nb = cols >> 5;
  const kMask = 0x8fffe000 + (rows >> 31); // rows >= 0: opaque constants (see packed.ts)
  const kRebias = <f32>5.192296858534828e33 + <f32>(rows >> 31);
  const rb = <usize>rowBytes;
  let r = r0;
  if (n == 1) {
    const q = (r1 - r0) >> 2;
    const d = <usize>q * rb;
    for (let i = 0; i < q; i++, r++) {
      const p = w + <usize>r * rb;
      const v = rows4(type, p, p + d, p + 2 * d, p + 3 * d, act, nb, cols, kMask, kRebias);
      const o = out + (<usize>r << 2), od = <usize>q << 2;
      store<f32>(o, f32x4.extract_lane(v, 0));
      store<f32>(o + od, f32x4.extract_lane(v, 1));
      store<f32>(o + 2 * od, f32x4.extract_lane(v, 2));
      store<f32>(o + 3 * od, f32x4.extract_lane(v, 3));
    }
    r = r0 + 4 * q;
  } else {
    for (; r + 4 <= r1; r += 4) {
      const p = w + <usize>r * rb;
      for (let t = 0; t < n; t++) {
        const v = rows4(type, p, p + rb, p + 2 * rb, p + 3 * rb, act + <usize>t * <usize>actStride, nb, cols, kMask, kRebias);
        v128.store(out + ((<usize>t * <usize>outStride + <usize>r) << 2), v);
      }
    }
  }
  for (; r < r1; r++) {
    const p = w + <usize>r * rb;
    for (let t = 0; t < n; t++) {
      const v = rows4(type, p, p, p, p, act + <usize>t * <usize>actStride, nb, cols, kMask, kRebias);
      store<f32>(out + ((<usize>t * <usize>outStride + <usize>r) << 2), f32x4.extract_lane(v, 0));
    }
  }
}
