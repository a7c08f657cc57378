// Fake quantizers (research screen, session 26): K-quant-like formats with super-blocks of 256 and sub-blocks of 16.
// q2a: affine 2-bit, per sub-block 4-bit scale and 4-bit min against f16 super-scales (2.625 bpw, Q2_K's size).
// q3s: symmetric 3-bit (-4..3), per sub-block 6-bit signed scale against an f16 super-scale (3.4375 bpw, Q3_K's size).
// q3a: affine 3-bit, 4-bit scale and min per sub-block (3.625 bpw).
function bestAffine(v, s, n, L) {
  // min-MSE affine fit of n values to q in 0..L, a few range shrinks; returns [d, m] with m <= 0 clamp like k-quants (min >= ... any)
  let lo = Infinity, hi = -Infinity; for (let j = 0; j < n; j++) { const x = v[s + j]; if (x < lo) lo = x; if (x > hi) hi = x; }
  let best = Infinity, bd = 0, bm = lo;
  for (let a = 0; a < 8; a++) for (let b = 0; b < 8; b++) {
    const m = lo + (hi - lo) * 0.03 * a, M = hi - (hi - lo) * 0.03 * b; if (M <= m) continue;
    const d = (M - m) / L; let e = 0;
    for (let j = 0; j < n; j++) { const q = Math.max(0, Math.min(L, Math.round((v[s + j] - m) / d))); const x = q * d + m - v[s + j]; e += x * x; }
    if (e < best) { best = e; bd = d; bm = m; }
  }
  return [bd, bm];
}
export function fqAffineK(W, bits) {
  const L = (1 << bits) - 1, out = new Float32Array(W.length);
  for (let S = 0; S < W.length; S += 256) {
    const d = new Float64Array(16), m = new Float64Array(16);
    for (let k = 0; k < 16; k++) [d[k], m[k]] = bestAffine(W, S + 16 * k, 16, L);
    // k-quants store -min as a positive value scaled by dmin; here min may be either sign: quantize |m| range with sign folded by offset
    let dmax = 0, mmax = 0, mmin = 0; for (let k = 0; k < 16; k++) { dmax = Math.max(dmax, d[k]); mmax = Math.max(mmax, m[k]); mmin = Math.min(mmin, m[k]); }
    // 4-bit scale: sc in 0..15, d_k = D * sc; 4-bit min: mn in 0..15, m_k = -DM * mn (Q2_K: mins are subtracted; positive mins clamp to 0)
    const D = Math.fround(dmax / 15), DM = Math.fround(-mmin / 15);
    for (let k = 0; k < 16; k++) {
      const sc = D > 0 ? Math.max(1, Math.min(15, Math.round(d[k] / D))) : 0;
      const mn = DM > 0 ? Math.max(0, Math.min(15, Math.round(-m[k] / DM))) : 0;
      const dk = D * sc, mk = -DM * mn;
      for (let j = 0; j < 16; j++) { const i = S + 16 * k + j; const q = dk > 0 ? Math.max(0, Math.min(L, Math.round((W[i] - mk) / dk))) : 0; out[i] = q * dk + mk; }
    }
  }
  return out;
}
export function fqSym3K(W) {
  const out = new Float32Array(W.length);
  for (let S = 0; S < W.length; S += 256) {
    const d = new Float64Array(16);
    for (let k = 0; k < 16; k++) {
      let amax = 0, vmax = 0; for (let j = 0; j < 16; j++) { const x = W[S + 16 * k + j]; if (Math.abs(x) > amax) { amax = Math.abs(x); vmax = x; } }
      // search the scale: q in -4..3, try a few scales around amax/4
      let best = Infinity, bd = 0;
      for (let t = 0; t < 12; t++) { const dd = (vmax / -4) * (0.7 + 0.03 * t); if (dd === 0) continue; let e = 0; for (let j = 0; j < 16; j++) { const x = W[S + 16 * k + j]; const q = Math.max(-4, Math.min(3, Math.round(x / dd))); e += (q * dd - x) ** 2; } if (e < best) { best = e; bd = dd; } }
      d[k] = bd;
    }
    let amax = 0, vm = 0; for (let k = 0; k < 16; k++) if (Math.abs(d[k]) > amax) { amax = Math.abs(d[k]); vm = d[k]; }
    const D = Math.fround(vm / -32);
    for (let k = 0; k < 16; k++) {
      const sc = D !== 0 ? Math.max(-32, Math.min(31, Math.round(d[k] / D))) : 0, dk = D * sc;
      for (let j = 0; j < 16; j++) { const i = S + 16 * k + j; const q = dk !== 0 ? Math.max(-4, Math.min(3, Math.round(W[i] / dk))) : 0; out[i] = q * dk; }
    }
  }
  return out;
}
/** ggml Q4_0 as its reference quantizer makes it: per 32, d = (signed value of largest |x|) / -8 in f16, q = round(x / d) + 8 in 0..15. */
export function fqQ4_0(W) {
  const out = new Float32Array(W.length);
  for (let S = 0; S < W.length; S += 32) {
    let amax = 0, vmax = 0; for (let j = 0; j < 32; j++) { const x = W[S + j]; if (Math.abs(x) > amax) { amax = Math.abs(x); vmax = x; } }
    const d = Math.fround(vmax / -8), id = d ? 1 / d : 0;
    for (let j = 0; j < 32; j++) { const q = Math.max(0, Math.min(15, Math.trunc(W[S + j] * id + 8.5))); out[S + j] = (q - 8) * d; }
  }
  return out;
}

/** Affine `bits`-bit blocks of B with an f32 minimum and scale each, min-max or (search) the best of 24 x 24 shrunk ranges. */
export function fqBlock(W, B, bits, search) {
  const out = new Float32Array(W.length), L = (1 << bits) - 1;
  for (let s = 0; s < W.length; s += B) {
    let lo = Infinity, hi = -Infinity; for (let j = 0; j < B; j++) { const v = W[s + j]; if (v < lo) lo = v; if (v > hi) hi = v; }
    let best = Infinity, bd = 0, bm = 0;
    const tries = search ? 24 : 1;
    for (let a = 0; a < tries; a++) for (let b = 0; b < tries; b++) {
      const m = lo + (hi - lo) * 0.02 * a, M = hi - (hi - lo) * 0.02 * b; if (M <= m) continue;
      const d = (M - m) / L; let e = 0;
      for (let j = 0; j < B; j++) { const q = Math.max(0, Math.min(L, Math.round((W[s + j] - m) / d))); const x = q * d + m - W[s + j]; e += x * x; }
      if (e < best) { best = e; bd = d; bm = m; }
    }
    if (!(best < Infinity)) { bd = 0; bm = lo; }
    for (let j = 0; j < B; j++) out[s + j] = bd > 0 ? Math.max(0, Math.min(L, Math.round((W[s + j] - bm) / bd))) * bd + bm : bm;
  }
  return out;
}
