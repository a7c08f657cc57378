// Packed-group kernels: one group of four rows (group), or several far-apart
// groups in one pass (streams) for decoding.

import { blockOf, nibMask, blockBytes, actBase, actStep, int8Act, actFactor, sumFactor, actScale, outScale } from "./packed";

export function group<Q>(g: usize, a: usize, nb: i32, cols: i32, out: usize, k15: i32, kMask: i32, kRebias: f32): void {
  const m = nibMask(k15), mask = i32x4.splat(kMask), af = actFactor<Q>(kRebias), sf = sumFactor<Q>(kRebias);
  const bb = blockBytes<Q>();
  let qa = actBase<Q>(a, cols);
  let pa = a;
  let acc = f32x4.splat(0);
  const end = g + <usize>nb * bb;
  for (let p = g; p < end; p += bb) {
    const x0 = v128.load(qa), x1 = v128.load(qa, 16);
    const x2 = int8Act<Q>() ? x0 : v128.load(qa, 32), x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
    const da = actScale(pa, af), sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), sf);
    acc = f32x4.add(acc, blockOf<Q>(p, x0, x1, x2, x3, da, sa, m, mask, out));
    qa += actStep<Q>();
    pa += 4;
  }
  v128.store(out, outScale<Q>(acc, kRebias));
}

// Decoding reads each weight once, so it is bound by memory, and one stream
// through memory is not enough: a single core streaming one packed matrix
// front to back reached ~4.5 GB/s, four streams a quarter of the matrix
// apart 8.5-10 GB/s and eight 10-12 GB/s (bench/kernels.md). The hardware
// prefetchers follow each stream; wasm has no prefetch instruction to do it
// ourselves. The stream kernels compute several groups (rows 4g.., 4g+d..,
// 4g+2d.., ...) in one pass over the blocks, each group's sums formed exactly
// as by the one-group kernel, so results do not depend on how rows are split.

/** Number of streams of the stream kernel. */
export const STREAMS: i32 = 8;

/** group<Q> of the eight groups at g + i*d (bytes, i < 8); outputs at out + i*od. */
export function streams<Q>(g: usize, d: usize, a: usize, nb: i32, cols: i32, out: usize, od: usize, k15: i32, kMask: i32, kRebias: f32): void {
  const m = nibMask(k15), mask = i32x4.splat(kMask), af = actFactor<Q>(kRebias), sf = sumFactor<Q>(kRebias);
  const bb = blockBytes<Q>();
  let qa = actBase<Q>(a, cols);
  let pa = a;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let acc4 = f32x4.splat(0), acc5 = f32x4.splat(0), acc6 = f32x4.splat(0), acc7 = f32x4.splat(0);
  const end = g + <usize>nb * bb;
  let p = g;
  if (isSigned<Q>()) {
    // Q4_0: four blocks per pass over the eight streams, the same sums in the same order. From memory, one core,
    // 7B-shaped matrices: 1.07-1.14x (17.2 -> 18.6 GB/s, bench/decode-ab.ts); Q4_1 and Q8_0 gained nothing or lost.
    // Written out: the same four steps as an inner `for (u < 4)` loop are not unrolled by Binaryen or V8 (0.99x).
    for (const end4 = g + <usize>(nb & ~3) * bb; p < end4; p += 4 * bb) {
      let x0 = v128.load(qa), x1 = v128.load(qa, 16);
      let x2 = int8Act<Q>() ? x0 : v128.load(qa, 32), x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
      let da = actScale(pa, af), sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), sf);
      acc0 = f32x4.add(acc0, blockOf<Q>(p, x0, x1, x2, x3, da, sa, m, mask, out));
      acc1 = f32x4.add(acc1, blockOf<Q>(p + d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc2 = f32x4.add(acc2, blockOf<Q>(p + 2 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc3 = f32x4.add(acc3, blockOf<Q>(p + 3 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc4 = f32x4.add(acc4, blockOf<Q>(p + 4 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc5 = f32x4.add(acc5, blockOf<Q>(p + 5 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc6 = f32x4.add(acc6, blockOf<Q>(p + 6 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc7 = f32x4.add(acc7, blockOf<Q>(p + 7 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      qa += actStep<Q>();
      pa += 4;
      const q1 = p + bb;
      x0 = v128.load(qa);
      x1 = v128.load(qa, 16);
      x2 = int8Act<Q>() ? x0 : v128.load(qa, 32);
      x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
      da = actScale(pa, af);
      sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), sf);
      acc0 = f32x4.add(acc0, blockOf<Q>(q1, x0, x1, x2, x3, da, sa, m, mask, out));
      acc1 = f32x4.add(acc1, blockOf<Q>(q1 + d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc2 = f32x4.add(acc2, blockOf<Q>(q1 + 2 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc3 = f32x4.add(acc3, blockOf<Q>(q1 + 3 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc4 = f32x4.add(acc4, blockOf<Q>(q1 + 4 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc5 = f32x4.add(acc5, blockOf<Q>(q1 + 5 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc6 = f32x4.add(acc6, blockOf<Q>(q1 + 6 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc7 = f32x4.add(acc7, blockOf<Q>(q1 + 7 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      qa += actStep<Q>();
      pa += 4;
      const q2 = p + 2 * bb;
      x0 = v128.load(qa);
      x1 = v128.load(qa, 16);
      x2 = int8Act<Q>() ? x0 : v128.load(qa, 32);
      x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
      da = actScale(pa, af);
      sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), sf);
      acc0 = f32x4.add(acc0, blockOf<Q>(q2, x0, x1, x2, x3, da, sa, m, mask, out));
      acc1 = f32x4.add(acc1, blockOf<Q>(q2 + d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc2 = f32x4.add(acc2, blockOf<Q>(q2 + 2 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc3 = f32x4.add(acc3, blockOf<Q>(q2 + 3 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc4 = f32x4.add(acc4, blockOf<Q>(q2 + 4 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc5 = f32x4.add(acc5, blockOf<Q>(q2 + 5 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc6 = f32x4.add(acc6, blockOf<Q>(q2 + 6 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc7 = f32x4.add(acc7, blockOf<Q>(q2 + 7 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      qa += actStep<Q>();
      pa += 4;
      const q3 = p + 3 * bb;
      x0 = v128.load(qa);
      x1 = v128.load(qa, 16);
      x2 = int8Act<Q>() ? x0 : v128.load(qa, 32);
      x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
      da = actScale(pa, af);
      sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), sf);
      acc0 = f32x4.add(acc0, blockOf<Q>(q3, x0, x1, x2, x3, da, sa, m, mask, out));
      acc1 = f32x4.add(acc1, blockOf<Q>(q3 + d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc2 = f32x4.add(acc2, blockOf<Q>(q3 + 2 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc3 = f32x4.add(acc3, blockOf<Q>(q3 + 3 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc4 = f32x4.add(acc4, blockOf<Q>(q3 + 4 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc5 = f32x4.add(acc5, blockOf<Q>(q3 + 5 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc6 = f32x4.add(acc6, blockOf<Q>(q3 + 6 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      acc7 = f32x4.add(acc7, blockOf<Q>(q3 + 7 * d, x0, x1, x2, x3, da, sa, m, mask, out));
      qa += actStep<Q>();
      pa += 4;
    }
  }
  for (; p < end; p += bb) {
    const x0 = v128.load(qa), x1 = v128.load(qa, 16);
    const x2 = int8Act<Q>() ? x0 : v128.load(qa, 32), x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
    const da = actScale(pa, af), sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), sf);
    acc0 = f32x4.add(acc0, blockOf<Q>(p, x0, x1, x2, x3, da, sa, m, mask, out));
    acc1 = f32x4.add(acc1, blockOf<Q>(p + d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc2 = f32x4.add(acc2, blockOf<Q>(p + 2 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc3 = f32x4.add(acc3, blockOf<Q>(p + 3 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc4 = f32x4.add(acc4, blockOf<Q>(p + 4 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc5 = f32x4.add(acc5, blockOf<Q>(p + 5 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc6 = f32x4.add(acc6, blockOf<Q>(p + 6 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    acc7 = f32x4.add(acc7, blockOf<Q>(p + 7 * d, x0, x1, x2, x3, da, sa, m, mask, out));
    qa += actStep<Q>();
    pa += 4;
  }
  v128.store(out, outScale<Q>(acc0, kRebias));
  v128.store(out + od, outScale<Q>(acc1, kRebias));
  v128.store(out + 2 * od, outScale<Q>(acc2, kRebias));
  v128.store(out + 3 * od, outScale<Q>(acc3, kRebias));
  v128.store(out + 4 * od, outScale<Q>(acc4, kRebias));
  v128.store(out + 5 * od, outScale<Q>(acc5, kRebias));
  v128.store(out + 6 * od, outScale<Q>(acc6, kRebias));
  v128.store(out + 7 * od, outScale<Q>(acc7, kRebias));
}

/**
 * streams<Q> over eight groups anywhere: their byte offsets at tab (u32 × 8) and their outputs' at tab + 32 (ffn-sparse's
 * masked up projection, see matmul.ts maskedGroups). Each group's sums are formed exactly as by group<Q>.
 */
export function streamsAt<Q>(tab: usize, a: usize, nb: i32, cols: i32, k15: i32, kMask: i32, kRebias: f32): void {
  const m = nibMask(k15), mask = i32x4.splat(kMask), af = actFactor<Q>(kRebias), sf = sumFactor<Q>(kRebias);
  const bb = blockBytes<Q>();
  const g0 = <usize>load<u32>(tab), g1 = <usize>load<u32>(tab, 4), g2 = <usize>load<u32>(tab, 8), g3 = <usize>load<u32>(tab, 12);
  const g4 = <usize>load<u32>(tab, 16), g5 = <usize>load<u32>(tab, 20), g6 = <usize>load<u32>(tab, 24), g7 = <usize>load<u32>(tab, 28);
  const out = <usize>load<u32>(tab, 32);
  let qa = actBase<Q>(a, cols);
  let pa = a;
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0), acc2 = f32x4.splat(0), acc3 = f32x4.splat(0);
  let acc4 = f32x4.splat(0), acc5 = f32x4.splat(0), acc6 = f32x4.splat(0), acc7 = f32x4.splat(0);
  const end = <usize>nb * bb;
  for (let o: usize = 0; o < end; o += bb) {
    const x0 = v128.load(qa), x1 = v128.load(qa, 16);
    const x2 = int8Act<Q>() ? x0 : v128.load(qa, 32), x3 = int8Act<Q>() ? x1 : v128.load(qa, 48);
    const da = actScale(pa, af), sa = f32x4.mul(v128.load32_splat(pa + (<usize>nb << 2)), sf);
    acc0 = f32x4.add(acc0, blockOf<Q>(g0 + o, x0, x1, x2, x3, da, sa, m, mask, out));
    acc1 = f32x4.add(acc1, blockOf<Q>(g1 + o, x0, x1, x2, x3, da, sa, m, mask, out));
    acc2 = f32x4.add(acc2, blockOf<Q>(g2 + o, x0, x1, x2, x3, da, sa, m, mask, out));
    acc3 = f32x4.add(acc3, blockOf<Q>(g3 + o, x0, x1, x2, x3, da, sa, m, mask, out));
    acc4 = f32x4.add(acc4, blockOf<Q>(g4 + o, x0, x1, x2, x3, da, sa, m, mask, out));
    acc5 = f32x4.add(acc5, blockOf<Q>(g5 + o, x0, x1, x2, x3, da, sa, m, mask, out));
    acc6 = f32x4.add(acc6, blockOf<Q>(g6 + o, x0, x1, x2, x3, da, sa, m, mask, out));
    acc7 = f32x4.add(acc7, blockOf<Q>(g7 + o, x0, x1, x2, x3, da, sa, m, mask, out));
    qa += actStep<Q>();
    pa += 4;
  }
  v128.store(out, outScale<Q>(acc0, kRebias));
  v128.store(<usize>load<u32>(tab, 36), outScale<Q>(acc1, kRebias));
  v128.store(<usize>load<u32>(tab, 40), outScale<Q>(acc2, kRebias));
  v128.store(<usize>load<u32>(tab, 44), outScale<Q>(acc3, kRebias));
  v128.store(<usize>load<u32>(tab, 48), outScale<Q>(acc4, kRebias));
  v128.store(<usize>load<u32>(tab, 52), outScale<Q>(acc5, kRebias));
  v128.store(<usize>load<u32>(tab, 56), outScale<Q>(acc6, kRebias));
  v128.store(<usize>load<u32>(tab, 60), outScale<Q>(acc7, kRebias));
}
