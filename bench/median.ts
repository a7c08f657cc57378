/** The benches' median: the upper middle of the sorted values for an even count (no interpolation). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
