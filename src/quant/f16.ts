/**
 * Half-precision conversions, bit-exact: IEEE fp16 <-> f32 (incl. subnormals,
 * ±inf, NaN) and bfloat16 -> f32.
 */

// Scratch views for reinterpreting f32 bits.
const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

function f16BitsToF32Slow(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero / subnormal: mant × 2^-24, exact in f32
  if (exp === 31) {
    if (mant === 0) return sign * Infinity;
    // keep the payload (shifted into the f32 mantissa) so NaNs stay NaNs
    u32buf[0] = ((h & 0x8000) << 16) | 0x7f800000 | (mant << 13);
    return f32buf[0];
  }
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/**
 * All 65536 fp16 values as f32: dequantization reads one scale per block, and
 * a table lookup is the cheapest exact conversion. 256 KiB, built once.
 */
export const F16_TABLE: Float32Array = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) t[h] = f16BitsToF32Slow(h);
  return t;
})();

/** fp16 bits (a u16) -> value. */
export function f16ToF32(h: number): number {
  return F16_TABLE[h & 0xffff];
}

/** bf16 bits (a u16) -> value: bf16 is the top half of an f32. */
export function bf16ToF32(h: number): number {
  u32buf[0] = (h & 0xffff) << 16;
  return f32buf[0];
}

/**
 * value -> fp16 bits, rounding to nearest even like a hardware conversion
 * (numpy's astype(float16)); overflow gives ±inf, NaN gives a quiet NaN.
 */
export function f32ToF16(x: number): number {
  f32buf[0] = x; // first round to f32, as C would with a float argument
  const bits = u32buf[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 255) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15; // rebias
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // fp16 subnormal. With m the 24-bit significand the value is m × 2^(e-38),
    // i.e. (m >> (14 - e)) units of 2^-24 (the fp16 subnormal step); round half to even.
    const shift = 14 - e;
    if (shift > 24) return sign; // below half the smallest subnormal
    const m = mant | 0x800000;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && half & 1)) half++;
    return sign | half; // a carry into bit 10 correctly yields the smallest normal
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++; // a carry may round up to inf: correct
  return sign | half;
}

/** value -> bf16 bits, rounding to nearest even (NaN stays a quiet NaN). */
export function f32ToBF16(x: number): number {
  f32buf[0] = x;
  const bits = u32buf[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** x rounded to the nearest fp16 value (ties to even), as a number. */
export function roundToF16(x: number): number {
  return f16ToF32(f32ToF16(x));
}
