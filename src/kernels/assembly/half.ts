// f32 -> IEEE half, rounding to nearest even, bit for bit as src/quant/f16.ts
// f32ToF16 (the KV cache's conversion): four lanes at a time, each lane's
// three cases (normal, subnormal, too large / inf / NaN) computed and the
// right one selected.

/**
 * `rows` rows of n floats at src (contiguous; heap byte offsets) as halves at dst, row r at dst + r * dstStride
 * bytes (one position's key heads into the head-major KV cache, see src/model/kv-cache.ts).
 */
export function toHalves(src: usize, dst: usize, n: i32, rows: i32, dstStride: i32): void {
  for (let r = 0; r < rows; r++) {
    toHalvesRow(src, dst, n);
    src += <usize>n << 2;
    dst += <usize>dstStride;
  }
}

/**
 * n floats at src as halves at dst. Normal: the f32 bits
 * rebiased and rounded at bit 13 (+0xfff plus the kept lowest bit: ties to
 * even; a carry into the exponent rounds up to the next binade or to inf).
 * Subnormal (|x| < 2^-14): |x| + 0.5 in f32 arithmetic rounds |x| to a
 * multiple of 2^-24 (0.5's ulp, the half's subnormal step), left in the low
 * bits. |x| >= 65536 (and inf): inf; NaN: quiet NaN keeping the top payload bits.
 */
function toHalvesRow(src: usize, dst: usize, n: i32): void {
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    const lo = half4(v128.load(src + (<usize>i << 2)));
    const hi = half4(v128.load(src + (<usize>i << 2), 16));
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(lo, hi));
  }
  for (; i < n; i++) {
    const h = half4(v128.load32_zero(src + (<usize>i << 2)));
    store<u16>(dst + (<usize>i << 1), <u16>i32x4.extract_lane(h, 0));
  }
}

/** Four f32 (as bits) to halves in the low 16 bits of each i32 lane. */
@inline export function half4(b: v128): v128 {
  const sign = v128.and(i32x4.shr_u(b, 16), i32x4.splat(0x8000));
  const a = v128.and(b, i32x4.splat(0x7fffffff));
  const odd = v128.and(i32x4.shr_u(a, 13), i32x4.splat(1));
  const normal = i32x4.shr_u(i32x4.add(i32x4.add(a, i32x4.splat(0xfff - 0x38000000)), odd), 13);
  const sub = i32x4.sub(f32x4.add(a, f32x4.splat(0.5)), i32x4.splat(0x3f000000));
  const special = v128.or(i32x4.splat(0x7c00),
    v128.and(i32x4.gt_s(a, i32x4.splat(0x7f800000)), v128.or(i32x4.splat(0x200), v128.and(i32x4.shr_u(a, 13), i32x4.splat(0x3ff)))));
  let h = v128.bitselect(sub, normal, i32x4.lt_s(a, i32x4.splat(0x38800000)));
  h = v128.bitselect(special, h, i32x4.gt_s(a, i32x4.splat(0x477fffff)));
  return v128.or(h, sign);
}
