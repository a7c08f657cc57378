/**
 * Statistics every evaluation table carries: bootstrap confidence intervals
 * over items, paired tests between two runs on the same items (McNemar for
 * right/wrong, a paired bootstrap for scores), and the number of items a
 * task needs to detect a given drop. All resampling is seeded (mulberry32),
 * so a table is reproducible from its outputs.
 */
import { mulberry32 } from "../util/rng.js";

/** A point estimate with its 95% (or other) confidence interval. */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
}

export interface BootstrapOptions {
  /** resamples (default 2000) */
  resamples?: number;
  /** confidence level (default 0.95) */
  level?: number;
  seed?: number;
}

const DEFAULTS = { resamples: 2000, level: 0.95, seed: 1234 };

function meanOf(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** The q-quantile of sorted values, linearly interpolated (numpy's default). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * q,
    i = Math.floor(h);
  return i + 1 < sorted.length ? sorted[i] + (h - i) * (sorted[i + 1] - sorted[i]) : sorted[i];
}

function checkValues(xs: ArrayLike<number>, what: string): void {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i])) throw new Error(`${what}: value ${i} is ${xs[i]}, not a finite number`);
}

/**
 * Percentile bootstrap CI of the mean of per-item values (1/0 for accuracy,
 * any score otherwise): items are resampled with replacement.
 */
export function bootstrapMean(values: ArrayLike<number>, o: BootstrapOptions = {}): Interval {
  const { resamples, level, seed } = { ...DEFAULTS, ...o };
  checkValues(values, "bootstrapMean");
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN };
  const rand = mulberry32(seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rand() * n)];
    means[r] = s / n;
  }
  means.sort();
  const a = (1 - level) / 2;
  return { mean: meanOf(values), lo: quantile(means, a), hi: quantile(means, 1 - a) };
}

/** Paired comparison of two runs on the same items: the mean difference b − a with its CI and a two-sided p-value. */
export interface PairedResult {
  diff: Interval;
  p: number;
  n: number;
}

/**
 * Paired bootstrap: resample items, recompute mean(b) − mean(a). The p-value
 * is two-sided, from the share of resampled differences on the other side of
 * zero (doubled, at least 1/resamples).
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, o: BootstrapOptions = {}): PairedResult {
  if (a.length !== b.length) throw new Error(`pairedBootstrap: ${a.length} vs ${b.length} items; the runs must cover the same items`);
  checkValues(a, "pairedBootstrap a");
  checkValues(b, "pairedBootstrap b");
  const n = a.length;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = b[i] - a[i];
  const diff = bootstrapMean(d, o);
  if (n === 0) return { diff, p: Number.NaN, n };
  const { resamples, seed } = { ...DEFAULTS, ...o };
  // the same resamples as bootstrapMean drew (same seed), counted against zero
  const rand = mulberry32(seed);
  let below = 0,
    above = 0;
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rand() * n)];
    if (s <= 0) below++;
    if (s >= 0) above++;
  }
  const p = Math.min(1, Math.max(1 / resamples, (2 * Math.min(below, above)) / resamples));
  return { diff, p, n };
}

/** McNemar's test for right/wrong outcomes of two runs on the same items. */
export interface McNemarResult {
  /** items a got right and b wrong, and the reverse */
  onlyA: number;
  onlyB: number;
  n: number;
  /** accuracy difference b − a with a paired bootstrap CI */
  diff: Interval;
  /** exact two-sided p-value (binomial on the discordant pairs) */
  p: number;
}

/** ln C(n, k) */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

/** Exact two-sided binomial test of k successes in n trials at p = 1/2. */
export function binomialTwoSided(k: number, n: number): number {
  if (n === 0) return 1;
  const lo = Math.min(k, n - k);
  let tail = 0;
  for (let i = 0; i <= lo; i++) tail += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, 2 * tail);
}

/**
 * Distribution-free confidence interval of a median: the order statistics x(k) and x(n+1-k) (1-based, sorted) with
 * the largest k whose coverage 1 − 2·P(Binom(n, ½) < k) is still at least `level`; `coverage` is that exact
 * coverage; `mean` holds the median itself (the two middle values averaged for an even count). Needs no model of
 * the values (benchmark rounds on a noisy host); with fewer than 6 values no interval reaches 95%, and the whole range
 * is returned with its coverage.
 */
export function medianInterval(values: ArrayLike<number>, level = 0.95): Interval & { coverage: number } {
  checkValues(values, "medianInterval");
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, coverage: 0 };
  const s = Float64Array.from(values).sort();
  const pmf = (i: number) => Math.exp(logChoose(n, i) - n * Math.LN2);
  // tail = P(Binom(n, 1/2) <= k - 1): the chance the median lies below x(k), and (by symmetry) above x(n+1-k)
  let k = 1,
    tail = pmf(0);
  while (k + 1 <= n - k && 1 - 2 * (tail + pmf(k)) >= level) tail += pmf(k++);
  const mid = n >> 1;
  return { mean: n % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, lo: s[k - 1], hi: s[n - k], coverage: 1 - 2 * tail };
}

/** McNemar (exact) on per-item correctness; `a`, `b` are booleans or 1/0 per item. */
export function mcnemar(a: ArrayLike<number | boolean>, b: ArrayLike<number | boolean>, o: BootstrapOptions = {}): McNemarResult {
  if (a.length !== b.length) throw new Error(`mcnemar: ${a.length} vs ${b.length} items; the runs must cover the same items`);
  const x = Float64Array.from({ length: a.length }, (_, i) => (a[i] ? 1 : 0));
  const y = Float64Array.from({ length: b.length }, (_, i) => (b[i] ? 1 : 0));
  let onlyA = 0,
    onlyB = 0;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > y[i]) onlyA++;
    else if (y[i] > x[i]) onlyB++;
  }
  return { onlyA, onlyB, n: x.length, diff: pairedBootstrap(x, y, o).diff, p: binomialTwoSided(onlyB, onlyA + onlyB) };
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) return -normalQuantile(1 - p);
  const q = p - 0.5,
    r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/**
 * Items needed to detect a paired accuracy drop of `delta` (e.g. 0.02) with a
 * two-sided test at `alpha` and the given power, when a share `discordant`
 * of items flip between the two runs (measured between dense and a skip run;
 * the drop is the imbalance of the flips). Connor's (1987) sample size for
 * McNemar's test. With no measured flip rate, pass the worst case for an
 * unpaired comparison instead: use itemsForUnpaired.
 */
export function itemsForPairedDrop(delta: number, discordant: number, alpha = 0.05, power = 0.8): number {
  if (!(delta > 0 && delta < 1)) throw new Error(`itemsForPairedDrop: delta must be in (0, 1), got ${delta}`);
  // at least the drop itself must flip
  const psi = Math.max(discordant, delta);
  const za = normalQuantile(1 - alpha / 2),
    zb = normalQuantile(power);
  return Math.ceil((za * Math.sqrt(psi) + zb * Math.sqrt(psi - delta * delta)) ** 2 / (delta * delta));
}

/**
 * Items needed per run to detect a drop of `delta` from accuracy `p` between
 * two independent runs (two-proportion z-test), the figure when nothing is
 * known about how the runs pair up.
 */
export function itemsForUnpaired(p: number, delta: number, alpha = 0.05, power = 0.8): number {
  if (!(p > 0 && p < 1)) throw new Error(`itemsForUnpaired: accuracy must be in (0, 1), got ${p}`);
  if (!(delta > 0 && delta < p)) throw new Error(`itemsForUnpaired: delta must be in (0, ${p}), got ${delta}`);
  const q = p - delta,
    bar = (p + q) / 2;
  const za = normalQuantile(1 - alpha / 2),
    zb = normalQuantile(power);
  const n = (za * Math.sqrt(2 * bar * (1 - bar)) + zb * Math.sqrt(p * (1 - p) + q * (1 - q))) ** 2 / (delta * delta);
  return Math.ceil(n);
}
