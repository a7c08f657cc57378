/**
 * Every hook of SkipPolicy reaches the wrapped policy through every
 * combination of decorators (tracing, Block Influence). The list of hooks is
 * checked against the interface at compile time, so a hook added to
 * SkipPolicy must be listed here, and then must survive every wrapper.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SkipPolicy, SkipStats, StepInfo } from "./policy.js";
import { withTrace } from "./trace.js";
import { withBlockInfluence } from "./block-influence.js";

const L = 4;
const STEP: StepInfo = { pos: 0, nTokens: 1, phase: "decode", genIndex: 3 };

/** A policy that records each call it receives. */
function recorder(calls: string[]): SkipPolicy {
  const stats: SkipStats = { method: "rec", ratio: 0, skipped_ffn: 0, total_ffn: 0 };
  return {
    method: "rec",
    nLayers: L,
    wantsCosine: false,
    wantsLayerCosine: false,
    beginStep: () => {
      calls.push("beginStep");
    },
    layerMode: () => {
      calls.push("layerMode");
      return "run";
    },
    runFFN: () => {
      calls.push("runFFN");
      return false;
    },
    observeFFN: () => {
      calls.push("observeFFN");
    },
    observeLayer: () => {
      calls.push("observeLayer");
    },
    endStep: () => {
      calls.push("endStep");
    },
    wantsFFNOutput: true,
    observeFFNOutput: () => {
      calls.push("observeFFNOutput");
    },
    standIn: () => {
      calls.push("standIn");
    },
    observeLogits: () => {
      calls.push("observeLogits");
    },
    neuronThreshold: () => {
      calls.push("neuronThreshold");
      return 0.5;
    },
    neuronGroups: () => {
      calls.push("neuronGroups");
      return { size: 2, order: Int32Array.of(1, 0, 3, 2) };
    },
    observeNeurons: () => {
      calls.push("observeNeurons");
    },
    compactKeep: () => {
      calls.push("compactKeep");
      return Int32Array.of(0, 2);
    },
    compactLists: () => {
      calls.push("compactLists");
      return [undefined, Int32Array.of(0, 2)];
    },
    observeCompact: () => {
      calls.push("observeCompact");
    },
    wantsFFNHidden: true,
    observeFFNHidden: () => {
      calls.push("observeFFNHidden");
    },
    takeBack: () => {
      calls.push("takeBack");
      return 2;
    },
    lookBehind: 3,
    reset: () => {
      calls.push("reset");
    },
    stats: () => {
      calls.push("stats");
      return stats;
    },
  };
}

/** How to exercise each member on the outermost policy; `satisfies` makes the list total. */
const HOOKS = {
  method: (p: SkipPolicy) => assert.equal(p.method, "rec"),
  nLayers: (p: SkipPolicy) => assert.equal(p.nLayers, L),
  wantsCosine: (p: SkipPolicy) => assert.equal(typeof p.wantsCosine, "boolean"),
  wantsLayerCosine: (p: SkipPolicy) => assert.equal(typeof p.wantsLayerCosine, "boolean"),
  beginStep: (p: SkipPolicy) => p.beginStep(STEP),
  layerMode: (p: SkipPolicy) => assert.equal(p.layerMode(1), "run"),
  runFFN: (p: SkipPolicy) => assert.equal(p.runFFN(1), false),
  observeFFN: (p: SkipPolicy) => p.observeFFN(1, 0.5),
  observeLayer: (p: SkipPolicy) => p.observeLayer(1, 0.5),
  endStep: (p: SkipPolicy) => p.endStep(),
  wantsFFNOutput: (p: SkipPolicy) => assert.equal(p.wantsFFNOutput, true),
  observeFFNOutput: (p: SkipPolicy) => p.observeFFNOutput?.(1, new Float32Array(4), 0, 4, 0),
  standIn: (p: SkipPolicy) => p.standIn?.(1, new Float32Array(4), 0, 1, 4),
  observeLogits: (p: SkipPolicy) => p.observeLogits?.(new Float32Array(4)),
  neuronThreshold: (p: SkipPolicy) => assert.equal(p.neuronThreshold?.(1), 0.5),
  neuronGroups: (p: SkipPolicy) => assert.equal(p.neuronGroups?.(1)?.size, 2),
  observeNeurons: (p: SkipPolicy) => p.observeNeurons?.(1, new Float32Array(4), 2, 0.25),
  compactKeep: (p: SkipPolicy) => assert.deepEqual(p.compactKeep?.(1), Int32Array.of(0, 2)),
  compactLists: (p: SkipPolicy) => assert.deepEqual(p.compactLists?.(), [undefined, Int32Array.of(0, 2)]),
  observeCompact: (p: SkipPolicy) => p.observeCompact?.(1, 0.25),
  wantsFFNHidden: (p: SkipPolicy) => assert.equal(p.wantsFFNHidden, true),
  observeFFNHidden: (p: SkipPolicy) => p.observeFFNHidden?.(1, new Float32Array(4), 0, 4),
  takeBack: (p: SkipPolicy) => assert.equal(p.takeBack?.([1, 2]), 2),
  lookBehind: (p: SkipPolicy) => assert.equal(p.lookBehind, 3),
  reset: (p: SkipPolicy) => p.reset(),
  stats: (p: SkipPolicy) => assert.equal(p.stats().method, "rec"),
} satisfies { [K in keyof SkipPolicy]-?: (p: SkipPolicy) => void };
const CALLS = [
  "beginStep",
  "layerMode",
  "runFFN",
  "observeFFN",
  "observeLayer",
  "endStep",
  "observeFFNOutput",
  "standIn",
  "observeLogits",
  "neuronThreshold",
  "neuronGroups",
  "observeNeurons",
  "compactKeep",
  "compactLists",
  "observeCompact",
  "observeFFNHidden",
  "takeBack",
  "reset",
  "stats",
];

const WRAPPERS: Record<string, (p: SkipPolicy) => SkipPolicy> = {
  trace: (p) => withTrace(p),
  influence: (p) => withBlockInfluence(p, L),
};
/** every sequence of 1..3 wrappers, innermost first */
function combos(depth: number): string[][] {
  if (depth === 0) return [[]];
  const shorter = combos(depth - 1);
  return [...shorter, ...shorter.filter((c) => c.length === depth - 1).flatMap((c) => Object.keys(WRAPPERS).map((w) => [...c, w]))];
}

for (const chain of combos(3).filter((c) => c.length > 0)) {
  test(`every hook reaches the policy through ${chain.join(" → ")}`, () => {
    const calls: string[] = [];
    const outer = chain.reduce((p, w) => WRAPPERS[w](p), recorder(calls));
    for (const [name, exercise] of Object.entries(HOOKS)) {
      calls.length = 0;
      exercise(outer);
      if (CALLS.includes(name)) assert.ok(calls.includes(name), `${name} did not reach the wrapped policy (calls: ${calls.join(", ")})`);
    }
    // Block Influence anywhere in the chain must make the forward pass report layer cosines
    assert.equal(outer.wantsLayerCosine, chain.includes("influence"));
    // tracing anywhere forces cosines
    assert.equal(outer.wantsCosine, chain.includes("trace"));
  });
}
