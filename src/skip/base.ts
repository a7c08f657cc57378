/**
 * Common skeleton of every policy: it owns the step bookkeeping and the
 * shared SkipCounter, so a method only writes its decisions
 * (`decideLayer`, `decideFFN`) and, if it looks at cosines, `onObserve`.
 */
import { SkipCounter } from "./counter.js";
import type { LayerMode, SkipPolicy, SkipStats, StepInfo } from "./policy.js";

export abstract class BasePolicy implements SkipPolicy {
  abstract readonly method: string;
  abstract readonly wantsCosine: boolean;
  readonly wantsLayerCosine: boolean = false;
  /** generated tokens that run dense before the method may skip */
  protected readonly warmup: number;
  protected readonly counter: SkipCounter;
  /** true in a decode step after warm-up: the only steps a method may skip in */
  protected active = false;
  /** index of this decode token among the tokens after warm-up (-1 otherwise) */
  protected tokenIndex = -1;
  /** the next step runs every FFN (denseNextStep), and this one does */
  private denseNext = false;
  private denseNow = false;
  /** this step (or the last one, after endStep) skipped an FFN */
  private skippedNow = false;

  constructor(
    readonly nLayers: number,
    warmup: number,
  ) {
    this.warmup = warmup;
    this.counter = new SkipCounter(nLayers);
  }

  beginStep(step: StepInfo): void {
    this.denseNow = this.denseNext;
    this.denseNext = false;
    this.skippedNow = false;
    this.counter.begin(step, this.warmup);
    this.active = this.counter.counted;
    this.tokenIndex = this.active ? step.genIndex - this.warmup : -1;
    this.onBegin(step);
  }

  layerMode(layer: number): LayerMode {
    return this.decideLayer(layer);
  }

  runFFN(layer: number): boolean {
    const run = this.denseNow || this.decideFFN(layer);
    if (run) this.counter.ran(layer);
    else this.skippedNow = true;
    return run;
  }

  /** Run every FFN in the next step, whatever the method decides (loop rewind's dense recomputation). */
  denseNextStep(): void {
    this.denseNext = true;
  }

  /** Whether the last step begun skipped at least one FFN. */
  get skippedLastStep(): boolean {
    return this.skippedNow;
  }

  /** Take back the last `steps` counted decode steps (SkipCounter.discard). */
  discardSteps(steps: number): void {
    this.counter.discard(steps);
  }

  observeFFN(layer: number, cos: number): void {
    this.onObserve(layer, cos);
  }

  observeLayer(_layer: number, _cos: number): void {}

  endStep(): void {
    this.counter.end();
    this.active = false;
  }

  reset(): void {
    this.counter.reset();
    this.active = false;
    this.denseNext = this.denseNow = this.skippedNow = false;
    this.tokenIndex = -1;
    this.onReset();
  }

  stats(): SkipStats {
    return this.counter.stats(this.method);
  }

  /** per-step setup (after `active` and `tokenIndex` are set) */
  protected onBegin(_step: StepInfo): void {}
  protected decideLayer(_layer: number): LayerMode {
    return "run";
  }
  protected decideFFN(_layer: number): boolean {
    return true;
  }
  protected onObserve(_layer: number, _cos: number): void {}
  /** forget per-sequence state beyond the counter */
  protected onReset(): void {}
}

/** A 0/1 mark per layer for a layer list (static and layer-drop sets). */
export function layerMask(nLayers: number, layers: readonly number[]): Uint8Array {
  const m = new Uint8Array(nLayers);
  for (const l of layers) m[l] = 1;
  return m;
}
