import { exp4 } from "./common";

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
