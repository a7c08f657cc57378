/**
 * Base of the policy decorators (tracing, Block Influence): it forwards every
 * member of SkipPolicy to the wrapped policy, so a decorator overrides only
 * what it adds (and calls super), and a hook added to SkipPolicy reaches
 * through every decorator once it is forwarded here. src/skip/wrapper.test.ts
 * checks every hook through every combination of decorators.
 */
import type { LayerMode, NeuronGroups, SkipPolicy, SkipStats, StepInfo } from "./policy.js";

export class PolicyWrapper implements SkipPolicy {
  constructor(readonly inner: SkipPolicy) {}
  get method(): string {
    return this.inner.method;
  }
  get nLayers(): number | undefined {
    return this.inner.nLayers;
  }
  get wantsCosine(): boolean {
    return this.inner.wantsCosine;
  }
  get wantsLayerCosine(): boolean {
    return this.inner.wantsLayerCosine;
  }
  beginStep(step: StepInfo): void {
    this.inner.beginStep(step);
  }
  layerMode(layer: number): LayerMode {
    return this.inner.layerMode(layer);
  }
  runFFN(layer: number): boolean {
    return this.inner.runFFN(layer);
  }
  observeFFN(layer: number, cos: number): void {
    this.inner.observeFFN(layer, cos);
  }
  observeLayer(layer: number, cos: number): void {
    this.inner.observeLayer(layer, cos);
  }
  endStep(): void {
    this.inner.endStep();
  }
  get wantsFFNOutput(): boolean {
    return this.inner.wantsFFNOutput ?? false;
  }
  observeFFNOutput(layer: number, m: Float32Array, at: number, dim: number, hAt: number): void {
    this.inner.observeFFNOutput?.(layer, m, at, dim, hAt);
  }
  standIn(layer: number, m: Float32Array, at: number, n: number, dim: number): void {
    this.inner.standIn?.(layer, m, at, n, dim);
  }
  observeLogits(logits: Float32Array): void {
    this.inner.observeLogits?.(logits);
  }
  neuronThreshold(layer: number): number {
    return this.inner.neuronThreshold?.(layer) ?? 0;
  }
  neuronGroups(layer: number): NeuronGroups | undefined {
    return this.inner.neuronGroups?.(layer);
  }
  observeNeurons(layer: number, act: Float32Array, kept: number, savedFraction: number): void {
    this.inner.observeNeurons?.(layer, act, kept, savedFraction);
  }
  compactKeep(layer: number): Int32Array | undefined {
    return this.inner.compactKeep?.(layer);
  }
  compactLists(): readonly (Int32Array | undefined)[] {
    return this.inner.compactLists?.() ?? [];
  }
  observeCompact(layer: number, savedFraction: number): void {
    this.inner.observeCompact?.(layer, savedFraction);
  }
  get wantsFFNHidden(): boolean {
    return this.inner.wantsFFNHidden ?? false;
  }
  observeFFNHidden(layer: number, m: Float32Array, at: number, n: number): void {
    this.inner.observeFFNHidden?.(layer, m, at, n);
  }
  takeBack(out: readonly number[]): number {
    return this.inner.takeBack?.(out) ?? 0;
  }
  get lookBehind(): number {
    return this.inner.lookBehind ?? 0;
  }
  reset(): void {
    this.inner.reset();
  }
  stats(): SkipStats {
    return this.inner.stats();
  }
}
