/** The benches' median: the upper middle of the sorted values for an even count (no interpolation). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The median with the mean of the two middle values for an even count (method.ts's speed rows, answer-likelihood.ts). */
export function midMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
