/**
 * A stand-in for the forward pass, for tests and offline experiments: it
 * plays exactly the call sequence the model makes (beginStep, per layer
 * layerMode → runFFN → observeFFN, endStep) with cosines from a function.
 */
import type { SkipPolicy } from "../../src/skip/policy.js";

/** cosine the fake FFN of `layer` produces at decode token `genIndex` (-1 = prompt) */
export type CosineFn = (layer: number, genIndex: number) => number;

export interface DriveOptions {
  nLayers: number;
  /** prompt tokens, fed in one batched step (0 = none) */
  promptTokens: number;
  decodeTokens: number;
  cos: CosineFn;
}

/** Run one sequence through `policy`; returns per decode token which FFNs ran. */
export function drive(policy: SkipPolicy, o: DriveOptions): boolean[][] {
  const ranPerToken: boolean[][] = [];
  const step = (pos: number, nTokens: number, genIndex: number): boolean[] => {
    const phase = genIndex < 0 ? "prompt" : "decode";
    const ran = new Array<boolean>(o.nLayers).fill(false);
    policy.beginStep({ pos, nTokens, phase, genIndex });
    for (let l = 0; l < o.nLayers; l++) {
      if (policy.layerMode(l) !== "run") continue;
      if (!policy.runFFN(l)) continue;
      ran[l] = true;
      if (policy.wantsCosine) policy.observeFFN(l, o.cos(l, genIndex));
    }
    policy.endStep();
    return ran;
  };
  if (o.promptTokens > 0) step(0, o.promptTokens, -1);
  for (let g = 0; g < o.decodeTokens; g++) ranPerToken.push(step(o.promptTokens + g, 1, g));
  return ranPerToken;
}
