/**
 * Whether `order` is a permutation of 0..n−1 that keeps every index inside its block of `block` (block = n: any
 * permutation). ffn-sparse's neuron orders move neurons only inside the down projection's 32-neuron quantization
 * blocks, which is what lets the kernels copy weights along them without touching any block's scales.
 */
export function isWithinBlocks(order: ArrayLike<number>, block: number): boolean {
  const n = order.length;
  if (n % block !== 0) return false;
  const seen = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const j = order[i];
    if (!(Number.isInteger(j) && j >= 0 && j < n) || seen[j] || Math.floor(j / block) !== Math.floor(i / block)) return false;
    seen[j] = 1;
  }
  return true;
}
