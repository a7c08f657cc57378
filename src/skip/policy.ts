/**
 * The interface between the forward pass and every skipping method.
 *
 * The forward pass asks the policy, between attention and FFN, whether to run
 * this layer's FFN, and tells it the cosine the FFN produced. Whole-layer
 * methods (early exit, layer drop) also answer `layerMode`. No skipping logic
 * lives in the model; statistics and traces are kept by the policy.
 */

/** Neuron groups of ffn-sparse's grouped variant: layer l's group g is order[g*size .. (g+1)*size). */
export interface NeuronGroups {
  size: number;
  /** a permutation of the FFN's neurons; absent: file order (group g is neurons g*size .. (g+1)*size) */
  order?: Int32Array;
}

/** What the forward pass is computing in this step. */
export interface StepInfo {
  /** position of the first token of the step */
  pos: number;
  /** tokens in this step (prompt batches have more than one) */
  nTokens: number;
  /** "prompt" while ingesting the prompt, "decode" for generated tokens */
  phase: "prompt" | "decode";
  /** index of the generated token (0 for the first decode step); -1 in the prompt */
  genIndex: number;
  /** id of the step's last input token (the forward pass sets it; fakes may not) */
  token?: number;
}

/** How a whole layer runs in this step. */
export type LayerMode =
  /** attention and (subject to runFFN) FFN */
  | "run"
  /**
   * skip the whole layer: the hidden state passes through unchanged, and the
   * layer's KV entries are filled from the passed-through hidden state
   * (CALM / SkipDecode style state copying)
   */
  | "copy-kv"
  /** the layer does not exist (ShortGPT layer removal): no KV entries are used */
  | "removed";

export interface SkipPolicy {
  /** short method name, e.g. "none", "ffn-skip" */
  readonly method: string;
  /** layers of the model the policy was made for (all built-in policies set it) */
  readonly nLayers?: number;
  /** Called once per forward step before layer 0. */
  beginStep(step: StepInfo): void;
  /** Whole-layer decision (before attention). */
  layerMode(layer: number): LayerMode;
  /** FFN decision for `layer` (after attention). */
  runFFN(layer: number): boolean;
  /**
   * After a computed FFN: cos(h, h + FFN(norm(h))) of the last token of the
   * step, h being the residual stream after attention.
   */
  observeFFN(layer: number, cos: number): void;
  /**
   * Whether the policy needs `observeFFN` (the cosine costs two dot products
   * per layer; dense runs skip it unless tracing).
   */
  readonly wantsCosine: boolean;
  /**
   * Whether the policy needs `observeLayer` (one copy and one cosine per
   * layer; only Block Influence measurement asks for it).
   */
  readonly wantsLayerCosine: boolean;
  /**
   * When wantsLayerCosine: after every layer, cos(layer input, layer output)
   * of the last token of the step — 1 − this is ShortGPT's Block Influence.
   */
  observeLayer(layer: number, cos: number): void;
  /** Called after the last layer of a step. */
  endStep(): void;
  /**
   * Optional (guarded methods): whether the forward pass hands over FFN
   * outputs (`observeFFNOutput`) and asks for a stand-in after a skip.
   */
  readonly wantsFFNOutput?: boolean;
  /**
   * When wantsFFNOutput: after a computed FFN, its output for the last token: `dim` floats at index `at` of `m`
   * (valid during the call); `hAt` is where the FFN's input, the residual row before the output is added, lies in `m`.
   */
  observeFFNOutput?(layer: number, m: Float32Array, at: number, dim: number, hAt: number): void;
  /** When wantsFFNOutput: after a skipped FFN, add a stand-in for its output to the `n` residual rows of `dim` at index `at` of `m`. */
  standIn?(layer: number, m: Float32Array, at: number, n: number, dim: number): void;
  /**
   * Optional (ffn-sparse, sparse.ts): after the gate projection of `layer`, neurons whose |act(gate)| is below
   * this are dropped (their up and down weights are not needed); 0 keeps them all.
   */
  neuronThreshold?(layer: number): number;
  /**
   * Optional, with neuronThreshold: drop neurons in groups instead of one by one (sparse.ts NeuronGroups): a group
   * of `size` neurons along `order` drops when its mean |act(gate)| is below the threshold. Undefined: one by one.
   */
  neuronGroups?(layer: number): NeuronGroups | undefined;
  /**
   * With neuronThreshold: after the FFN of `layer`, the step's last row's |act(gate)| (`act`, ffnDim values,
   * valid during the call), how many neurons were kept, and the fraction of the FFN's weight bytes the dropped
   * ones did not need.
   */
  observeNeurons?(layer: number, act: Float32Array, kept: number, savedFraction: number): void;
  /**
   * Optional (ffn-prune, prune.ts): the neurons `layer`'s FFN keeps in this step (sorted), which the model runs as a
   * compact copy of the FFN without the others (src/model/compact-ffn.ts); undefined: the whole FFN.
   */
  compactKeep?(layer: number): Int32Array | undefined;
  /** With compactKeep: per layer, every kept list it may return (undefined: none), so the copies can be built ahead. */
  compactLists?(): readonly (Int32Array | undefined)[];
  /** With compactKeep: after a compact FFN, the fraction of the layer's FFN weight bytes its copy did not read. */
  observeCompact?(layer: number, savedFraction: number): void;
  /** Optional (ffn-prune calibration): whether the forward pass hands over the down projection's input (observeFFNHidden). */
  readonly wantsFFNHidden?: boolean;
  /**
   * When wantsFFNHidden: after the activation of a computed FFN, the last token's down-projection input h = act(gate)·up,
   * `n` floats at index `at` of `m` (valid during the call).
   */
  observeFFNHidden?(layer: number, m: Float32Array, at: number, n: number): void;
  /** Optional: the last token's logits after a step that computed them (a view valid during the call), for confidence gating. */
  observeLogits?(logits: Float32Array): void;
  /**
   * Optional (loop rewind, rewind.ts): called by the generation loop after each generated token is appended to `out`
   * (the kept generated tokens); returns how many trailing tokens to take back and generate again (0: keep them).
   */
  takeBack?(out: readonly number[]): number;
  /** The most tokens `takeBack` may return: generated text is held back this many tokens before it is final (0 or absent: none). */
  readonly lookBehind?: number;
  /** Forget per-sequence state (a new prompt starts). */
  reset(): void;
  /** Counts so far (since the last reset). */
  stats(): SkipStats;
}

export interface SkipStats {
  method: string;
  /** skipped FFNs ÷ (layers × decode tokens after warm-up) */
  ratio: number;
  skipped_ffn: number;
  /** layers × decode tokens after warm-up */
  total_ffn: number;
  /** decode tokens after warm-up (the tokens `total_ffn` counts) */
  tokens?: number;
  /** FFNs not run, per layer, over the same tokens (length = layers) */
  per_layer?: number[];
  /** loop rewind: generated tokens taken back and made again (their steps are charged as run FFNs), and how many times */
  taken_back?: number;
  rewinds?: number;
}
