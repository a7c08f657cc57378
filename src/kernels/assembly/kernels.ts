// Fused dequantize-and-dot kernels in AssemblyScript (compiled to wasm SIMD).
//
// No GC: every buffer is a byte offset into the one shared memory the JS
// side allocates from, so worker instances over the same memory can run these
// on disjoint row ranges. Static data is only constant tables (exp4's), which
// every instance writes identically at instantiation, below the bytes the
// heap never hands out (src/kernels/heap.ts RESERVED_BYTES; tested).
//
// Files: common.ts (type ids, helpers), act.ts (activation quantization),
// dot-legacy.ts / dot-float.ts (plain row dots per type family),
// rows4.ts (four-row kernels, plain layout), packed.ts (4-row packed layouts),
// packed-k.ts (the K-quants: packed layout and kernels), streams.ts (decode kernels over packed groups),
// prompt.ts (batched kernels over unpacked groups), prompt-k.ts / expand-k.ts (the same for the K-quants),
// matmul.ts (dispatch, getRow),
// attention.ts, elementwise.ts (swiglu, geglu), norm.ts (RMSNorm, residual add, RoPE), half.ts (f32 -> f16 for the KV cache), lowrank.ts (ffn-skip-linear's stand-in),
// neuron-major.ts (ffn-sparse realized: the down projection by groups of neurons, the up projection's masked rows),
// probe.ts (build checks, bandwidth probe).
// This file is the entry: its exports are the module's exports.
//
// The module is compiled twice (see package.json build:kernels): plain
// SIMD128, and with relaxed SIMD (ASC_FEATURE_RELAXED_SIMD), whose
// i16x8.relaxed_dot_i8x16_i7x16_s (x86 pmaddubsw) multiplies 16 int8 pairs
// in one instruction where i32x4.dot_i16x8_s needs int16 and does 8. The
// relaxed build adds the i8 copy q8 (per block in the order of the packed
// Q4_1 nibbles, see repack) and uses it for packed Q4_1; every integer sum is
// exact in both builds and the float operations are the same, so the two
// builds give bit-identical results.

export { actBytes, quantizeAct, quantizeActK } from "./act";
export { relaxed, selfTest, probeSum, peakDot } from "./probe";
export { actKind, supports, getRow, matmul, splitNeed, splitJob } from "./matmul";
export { packable, repack } from "./packed";
export { packableK, plainRowK, scratchNeedK } from "./packed-k";
export { setScratch } from "./prompt";
export { attention, attentionScratch } from "./attention";
export { swiglu, geglu, gateGroups } from "./elementwise";
export { toHalves } from "./half";
export { rmsnorm, addInto, rope } from "./norm";
export { lowRank } from "./lowrank";
export { neuronMajorBytes, toNeuronMajor, permuteRows, neuronActBytes, quantizeNeurons } from "./neuron-major";
