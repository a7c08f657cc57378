import { exp4 } from "./common";
import { f16round } from "./act";

/** x[i] = silu(x[i]) * y[i] for i < n (f32, byte offsets): SwiGLU's gate, as src/model/ops.ts swiglu. */
export function swiglu(x: usize, y: usize, n: i32): void {
  const one = f32x4.splat(1.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(x + o);
    const silu = f32x4.div(g, f32x4.add(one, exp4(f32x4.neg(g))));
    v128.store(x + o, f32x4.mul(silu, v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(x + o);
    store<f32>(x + o, g / (<f32>1.0 + Mathf.exp(-g)) * load<f32>(y + o));
  }
}

/**
 * x[i] = gelu(x[i]) * y[i] for i < n: GeGLU's gate (Gemma), as llama.cpp
 * computes it: gelu (tanh approximation) of the gate rounded to f16, the
 * result rounded to f16 (ggml's 64K-entry f16 table), 0 at or below -10 and
 * the gate itself at or above 10. In f32, 0.5 g (1 + tanh(u)) is
 * g / (1 + e^(-2u)), u = sqrt(2/pi) (g + 0.044715 g^3): swiglu's form with
 * exp4 on -2u. src/model/ops.ts geglu is the same in f64.
 */
export function geglu(x: usize, y: usize, n: i32): void {
  const one = f32x4.splat(1.0), c2 = f32x4.splat(1.5957691216057308), k = f32x4.splat(0.044715);
  const lo = f32x4.splat(-10.0), hi = f32x4.splat(10.0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const g = v128.load(x + o);
    const h = round16(g);
    const u2 = f32x4.mul(c2, f32x4.add(h, f32x4.mul(k, f32x4.mul(h, f32x4.mul(h, h)))));
    let r = round16(f32x4.div(h, f32x4.add(one, exp4(f32x4.neg(u2)))));
    r = v128.bitselect(g, r, f32x4.ge(g, hi));
    r = v128.andnot(r, f32x4.le(g, lo));
    v128.store(x + o, f32x4.mul(r, v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const g = load<f32>(x + o);
    let r: f32 = 0;
    if (g >= <f32>10.0) r = g;
    else if (g > <f32>-10.0) {
      const h = f16round(g);
      const u2 = <f32>1.5957691216057308 * (h + <f32>0.044715 * (h * (h * h)));
      r = f16round(h / (<f32>1.0 + Mathf.exp(-u2)));
    }
    store<f32>(x + o, r * load<f32>(y + o));
  }
}

/** Four floats rounded to the nearest f16 value (ties to even; |v| < 65520), as act.ts f16round. */
@inline function round16(v: v128): v128 {
  const b = v;
  const normal = v128.and(i32x4.add(i32x4.add(b, i32x4.splat(0xfff)), v128.and(i32x4.shr_u(b, 13), i32x4.splat(1))), i32x4.splat(~0x1fff));
  const sub = f32x4.mul(f32x4.nearest(f32x4.mul(v, f32x4.splat(16777216.0))), f32x4.splat(5.9604644775390625e-8));
  return v128.bitselect(sub, normal, f32x4.lt(f32x4.abs(v), f32x4.splat(6.103515625e-5)));
}

/**
 * ffn-sparse's decision for one token in groups of 4 (the rule of src/model/sparse-ffn.ts dropGroups): a[i] = |act(g[i])| for the
 * n gate values at g (SiLU, or with gelu != 0 the tanh GELU, unrounded), written to `act`; mask[k] = 1 where the
 * group's sum a[4k..4k+3] is at least 4 * threshold, else 0. Returns the neurons kept.
 */
export function gateGroups(g: usize, n: i32, gelu: i32, threshold: f32, act: usize, mask: usize): i32 {
  const one = f32x4.splat(1.0), c2 = f32x4.splat(1.5957691216057308), k = f32x4.splat(0.044715);
  const t4 = <f32>4 * threshold;
  let kept = 0;
  for (let i = 0; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const x = v128.load(g + o);
    // SiLU: x / (1 + e^-x); GELU (tanh form): x / (1 + e^(-2u)), u = sqrt(2/pi) (x + 0.044715 x^3)
    const e = gelu ? f32x4.mul(c2, f32x4.add(x, f32x4.mul(k, f32x4.mul(x, f32x4.mul(x, x))))) : x;
    const a = f32x4.abs(f32x4.div(x, f32x4.add(one, exp4(f32x4.neg(e)))));
    v128.store(act + o, a);
    const s = f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
    const keep = s >= t4;
    store<u8>(mask + <usize>(i >> 2), keep ? 1 : 0);
    kept += keep ? 4 : 0;
  }
  return kept;
}
