/**
 * ffn-skip-compact: FFN-SkipLLM's decisions (ffn-skip.ts, unchanged), but an
 * FFN it skips runs the layer's compact copy (ffn-prune's, src/model/
 * compact-ffn.ts: the layer's most important neurons only) instead of
 * nothing. Per-token adaptive like FFN-SkipLLM, with part of the FFN kept
 * where it cuts. The cosine of a compact FFN is not observed, so windows
 * open exactly where FFN-SkipLLM's would. The ratio is the bytes saved:
 * a compact run counts as the share of the FFN's bytes its copy does not
 * hold, so at a given ratio it skips more often than FFN-SkipLLM.
 *
 * `tauSkip` (session 25) tiers the windows: one opened by a cosine above it,
 * where the FFN just computed barely moved the residual, skips its FFNs
 * outright (no bytes) and only windows opened between tau and tauSkip run
 * compact copies. Above 1 (the default) no window skips outright.
 */
import { FfnSkipPolicy, type FfnSkipOptions } from "./ffn-skip.js";

/** ffn-skip-compact's own knob beside FFN-SkipLLM's. */
export interface CompactSkipOptions extends FfnSkipOptions {
  /** a window opened by a cosine above this skips outright instead of compacting (> 1: never) */
  tauSkip?: number;
}

export class CompactSkipPolicy extends FfnSkipPolicy {
  override readonly method: string = "ffn-skip-compact";
  private readonly keeps: (Int32Array | undefined)[];
  /** per layer: this step runs its compact copy */
  private readonly compactNow: Uint8Array;
  private readonly tauSkip: number;

  constructor(nLayers: number, o: CompactSkipOptions, keeps: Int32Array[], ffnDim: number) {
    super(nLayers, o);
    this.tauSkip = o.tauSkip ?? 2;
    if (keeps.length !== nLayers) throw new Error(`ffn-skip-compact: kept neurons for ${keeps.length} layers, the model has ${nLayers}`);
    this.keeps = keeps.map((k) => (k.length < ffnDim ? k : undefined));
    this.compactNow = new Uint8Array(nLayers);
  }

  override runFFN(layer: number): boolean {
    this.compactNow[layer] = 0;
    if (super.runFFN(layer)) return true;
    // FFN-SkipLLM skips it: run the compact copy where the layer has one (it counts as run, minus its saved share),
    // unless the window was opened by a cosine above tauSkip
    if (!this.keeps[layer] || this.windowCos > this.tauSkip) return false;
    this.compactNow[layer] = 1;
    this.counter.ran(layer);
    return true;
  }

  compactKeep(layer: number): Int32Array | undefined {
    return this.compactNow[layer] ? this.keeps[layer] : undefined;
  }

  compactLists(): readonly (Int32Array | undefined)[] {
    return this.keeps;
  }

  observeCompact(layer: number, savedFraction: number): void {
    if (this.compactNow[layer]) this.counter.partial(layer, savedFraction);
  }

  override observeFFN(layer: number, cos: number): void {
    if (!this.compactNow[layer]) super.observeFFN(layer, cos);
  }
}
