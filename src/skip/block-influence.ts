/**
 * ShortGPT's Block Influence: BI_l = 1 − cos(layer input, layer output),
 * averaged over tokens. Layers with the lowest BI change the residual
 * stream least and are the ones layer-drop removes.
 */
import type { SkipPolicy } from "./policy.js";

export interface InfluencePolicy extends SkipPolicy {
  /** mean BI per layer over the steps observed so far (NaN where none) */
  influence(): number[];
}

/**
 * Wrap `policy` so every step's per-layer input/output cosine is collected
 * (prompt and decode steps alike; the forward pass reports the last token of
 * each step, so token-by-token passes give every token).
 */
export function withBlockInfluence(policy: SkipPolicy, nLayers: number): InfluencePolicy {
  const sum = new Float64Array(nLayers), count = new Float64Array(nLayers);
  return {
    method: policy.method,
    nLayers,
    get wantsCosine() { return policy.wantsCosine; },
    beginStep: (s) => policy.beginStep(s),
    layerMode: (l) => policy.layerMode(l),
    runFFN: (l) => policy.runFFN(l),
    observeFFN: (l, c) => policy.observeFFN(l, c),
    observeLayer(l, c) {
      sum[l] += 1 - c;
      count[l]++;
      policy.observeLayer?.(l, c);
    },
    endStep: () => policy.endStep(),
    reset: () => policy.reset(),
    stats: () => policy.stats(),
    influence: () => Array.from(sum, (s, l) => (count[l] ? s / count[l] : NaN)),
  };
}
