// Worker thread of the kernel pool: instantiates the kernels over each shared
// memory (one per shard of a model) and takes chunks of every dispatch, in the
// memory the dispatch names. See pool-protocol.ts.
import { parentPort, workerData } from "node:worker_threads";
import { instantiateKernels } from "./wasm-module.js";
import { ERR, EXIT, HEARTBEAT, HEARTBEAT_STRIDE, SEQ, SLEEPERS, SPIN } from "./pool-protocol.js";
import { runChunks } from "./pool-share.js";

interface Data {
  module: WebAssembly.Module;
  /** every memory this pool computes in (a model's shards), with this thread's kernel scratch in each (see KernelExports.setScratch) */
  memories: { memory: WebAssembly.Memory; scratch: number }[];
  scratchBytes: number;
  control: SharedArrayBuffer;
  index: number;
}
const { module, memories, scratchBytes, control, index } = workerData as Data;
const ctl = new Int32Array(control);
const ks = memories.map((m) => {
  const k = instantiateKernels(module, m.memory);
  k.setScratch(m.scratch, m.scratch ? scratchBytes : 0);
  return k;
});
parentPort!.postMessage("ready");

let seen = 0; // SEQ starts at 0; a dispatch made before this loop starts is still seen
for (;;) {
  // Spin briefly: in a forward pass the next dispatch usually comes within microseconds.
  let spins = 0;
  while (Atomics.load(ctl, SEQ) === seen && spins < SPIN) spins++;
  if (Atomics.load(ctl, SEQ) === seen) {
    // announce the sleep before re-checking SEQ inside wait: a dispatch
    // either sees SLEEPERS > 0 and notifies, or bumped SEQ before our wait
    Atomics.add(ctl, SLEEPERS, 1);
    Atomics.wait(ctl, SEQ, seen);
    Atomics.sub(ctl, SLEEPERS, 1);
  }
  seen = Atomics.load(ctl, SEQ);
  if (Atomics.load(ctl, EXIT) !== 0) break;
  try {
    runChunks(ks, ctl, HEARTBEAT + HEARTBEAT_STRIDE * (index - 1));
  } catch (e) {
    Atomics.store(ctl, ERR, index);
    parentPort!.postMessage(String((e as Error)?.stack ?? e));
  }
}
