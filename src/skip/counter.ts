/**
 * The one place skip statistics are counted, shared by every policy so that
 * all methods report the same quantity.
 *
 * Definition (FFN-SkipLLM): ratio = FFNs not run ÷ (layers × decode tokens
 * after warm-up). "Not run" covers every reason an FFN was not computed: an
 * FFN skip (runFFN → false), a whole layer copied ("copy-kv", early exit) or a
 * removed layer ("removed", layer drop). For whole-layer methods the ratio is
 * therefore the fraction of FFN work saved, comparable with FFN skipping; the
 * attention they also save is not counted. Prompt steps and warm-up tokens
 * are never counted (they are neither in the numerator nor the denominator).
 */
import type { SkipStats, StepInfo } from "./policy.js";

export class SkipCounter {
  private readonly ranNow: Uint8Array;
  /** per layer, the fraction of a run FFN's bytes not read in this step (ffn-sparse: dropped neurons) */
  private readonly partNow: Float64Array;
  private readonly skippedPerLayer: Float64Array;
  private counting = false;
  private skipped = 0;
  private tokens = 0;

  constructor(readonly nLayers: number) {
    this.ranNow = new Uint8Array(nLayers);
    this.partNow = new Float64Array(nLayers);
    this.skippedPerLayer = new Float64Array(nLayers);
  }

  /** Start a step; `counted` says whether it is a decode token after warm-up. */
  begin(step: StepInfo, warmup: number): void {
    this.counting = step.phase === "decode" && step.genIndex >= warmup;
    this.ranNow.fill(0);
    this.partNow.fill(0);
  }

  /** Record that `layer`'s FFN was computed in this step. */
  ran(layer: number): void {
    this.ranNow[layer] = 1;
  }

  /**
   * Record that `layer`'s FFN ran in part: `fraction` of its weight bytes
   * were not needed (ffn-sparse's dropped neurons). It counts as that
   * fraction of a skipped FFN, so the ratio stays FFN work (bytes) saved.
   */
  partial(layer: number, fraction: number): void {
    this.partNow[layer] = fraction;
  }

  /** Whether the current step counts towards the ratio. */
  get counted(): boolean {
    return this.counting;
  }

  /** Close the step: every FFN not reported by `ran` counts as skipped. */
  end(): void {
    if (!this.counting) return;
    this.tokens++;
    for (let l = 0; l < this.nLayers; l++) {
      const skipped = this.ranNow[l] === 0 ? 1 : this.partNow[l];
      this.skipped += skipped;
      this.skippedPerLayer[l] += skipped;
    }
    this.counting = false;
  }

  /**
   * Take back the last `steps` counted tokens (loop rewind): they leave the
   * denominator, and every FFN they skipped is charged as run — whatever they
   * computed was work for nothing — so the ratio stays FFN work saved per
   * kept token (it may turn negative if more is thrown away than skipped).
   */
  discard(steps: number): void {
    if (!Number.isInteger(steps) || steps < 0 || steps > this.tokens)
      throw new RangeError(`skip counter: cannot discard ${steps} of ${this.tokens} counted tokens`);
    this.tokens -= steps;
    this.skipped -= this.nLayers * steps;
    for (let l = 0; l < this.nLayers; l++) this.skippedPerLayer[l] -= steps;
  }

  reset(): void {
    this.counting = false;
    this.skipped = 0;
    this.tokens = 0;
    this.ranNow.fill(0);
    this.partNow.fill(0);
    this.skippedPerLayer.fill(0);
  }

  stats(method: string): SkipStats {
    const total = this.nLayers * this.tokens;
    return {
      method,
      ratio: total > 0 ? this.skipped / total : 0,
      skipped_ffn: this.skipped,
      total_ffn: total,
      tokens: this.tokens,
      per_layer: Array.from(this.skippedPerLayer),
    };
  }
}
