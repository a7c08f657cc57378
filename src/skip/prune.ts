/**
 * ffn-prune: this project's second method beyond the paper (issue 16). Every
 * FFN runs for every token, but after warm-up each decode token runs a
 * compact copy of it without the neurons calibration found least important
 * (src/model/compact-ffn.ts builds the copies: the kept gate and up rows, and
 * the down projection's kept columns requantized to Q4_1). It is static:
 * the same neurons go for every token, so the copies are ordinary dense
 * matrices and the bytes it saves are saved by the ordinary kernels.
 *
 * Which neurons go is decided at calibration (calibrate-prune.ts): neuron i
 * of layer l matters as E[h_i²]·‖W2[:, i]‖² (the energy it adds to the FFN's
 * output, h = act(gate)·up on the calibration prompts' dense continuations)
 * relative to the residual stream's energy at that layer, ranked over all
 * layers at once, so layers whose FFN adds little give up more neurons.
 *
 * The ratio it reports is the share of FFN weight bytes the copies do not
 * read, per layer and decode token after warm-up, in FFN units like
 * FFN-SkipLLM's skipped FFNs ÷ (layers × tokens). The prompt and the first
 * `warmup` generated tokens run the whole FFNs, as in FFN-SkipLLM.
 */
import { BasePolicy } from "./base.js";

export interface PruneOptions {
  warmup: number;
  /** per layer, the sorted neurons its compact FFN keeps (all ffnDim of them: the layer runs whole) */
  keeps: Int32Array[];
  ffnDim: number;
}

export class PrunePolicy extends BasePolicy {
  readonly method = "ffn-prune";
  readonly wantsCosine = false;
  private readonly keeps: (Int32Array | undefined)[];

  constructor(nLayers: number, o: PruneOptions) {
    super(nLayers, o.warmup);
    if (o.keeps.length !== nLayers) throw new Error(`ffn-prune: kept neurons for ${o.keeps.length} layers, the model has ${nLayers}`);
    // a layer that keeps every neuron runs the file's own matrices
    this.keeps = o.keeps.map((k) => (k.length < o.ffnDim ? k : undefined));
  }

  compactKeep(layer: number): Int32Array | undefined {
    return this.active ? this.keeps[layer] : undefined;
  }

  compactLists(): readonly (Int32Array | undefined)[] {
    return this.keeps;
  }

  observeCompact(layer: number, savedFraction: number): void {
    if (this.active) this.counter.partial(layer, savedFraction);
  }
}
