// Session 25: a keep file whose every layer keeps all its neurons, so that ffn-skip-compact with it is FFN-SkipLLM
// (every window skips outright). Its calibration then finds FFN-SkipLLM's tau for a fixed k and cold regions.
// node results/method/compact-loops/tiered/keep-all.mjs LAYERS FFN_DIM OUT (after `npx tsc -p .`)
import { writeFileSync } from "node:fs";
import { encodeKeep } from "../../../../dist/src/skip/neuron-keep.js";

const [layers, ffnDim, out] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
writeFileSync(out, encodeKeep(Array.from({ length: layers }, () => Int32Array.from({ length: ffnDim }, (_, i) => i)), ffnDim));
