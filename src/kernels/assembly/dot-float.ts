// Row dots of the float types F32, F16, BF16 with the f32 activation.

import { h2f, hsum } from "./common";

export function dotF32(w: usize, x: usize, cols: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const o = <usize>c << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(w + o), v128.load(x + o)));
    acc = f32x4.add(acc, f32x4.mul(v128.load(w + o, 16), v128.load(x + o, 16)));
  }
  let s = hsum(acc);
  for (; c < cols; c++) s += load<f32>(w + (<usize>c << 2)) * load<f32>(x + (<usize>c << 2));
  return s;
}

export function dotF16(w: usize, x: usize, cols: i32): f32 {
  const mag = i32x4.splat(0x7fff);
  const sgn = i32x4.splat(0x8000);
  const rebias = f32x4.splat(5.192296858534828e33);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const h = v128.load(w + (<usize>c << 1));
    const lo = i32x4.extend_low_i16x8_u(h);
    const hi = i32x4.extend_high_i16x8_u(h);
    const flo = v128.or(f32x4.mul(i32x4.shl(v128.and(lo, mag), 13), rebias), i32x4.shl(v128.and(lo, sgn), 16));
    const fhi = v128.or(f32x4.mul(i32x4.shl(v128.and(hi, mag), 13), rebias), i32x4.shl(v128.and(hi, sgn), 16));
    acc = f32x4.add(acc, f32x4.mul(flo, v128.load(x + (<usize>c << 2))));
    acc = f32x4.add(acc, f32x4.mul(fhi, v128.load(x + (<usize>c << 2), 16)));
  }
  let s = hsum(acc);
  for (; c < cols; c++) s += h2f(load<u16>(w + (<usize>c << 1))) * load<f32>(x + (<usize>c << 2));
  return s;
}

export function dotBF16(w: usize, x: usize, cols: i32): f32 {
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 8 <= cols; c += 8) {
    const h = v128.load(w + (<usize>c << 1));
    const flo = i32x4.shl(i32x4.extend_low_i16x8_u(h), 16);
    const fhi = i32x4.shl(i32x4.extend_high_i16x8_u(h), 16);
    acc = f32x4.add(acc, f32x4.mul(flo, v128.load(x + (<usize>c << 2))));
    acc = f32x4.add(acc, f32x4.mul(fhi, v128.load(x + (<usize>c << 2), 16)));
  }
  let s = hsum(acc);
  for (; c < cols; c++) s += reinterpret<f32>(<u32>load<u16>(w + (<usize>c << 1)) << 16) * load<f32>(x + (<usize>c << 2));
  return s;
}
