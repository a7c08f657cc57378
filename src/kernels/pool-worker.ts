// Worker thread of the kernel pool: instantiates the kernels over the shared
// memory and computes its row share of every dispatched job. See pool-protocol.ts.
import { parentPort, workerData } from "node:worker_threads";
import { instantiateKernels } from "./wasm-module.js";
import { DONE, ERR, EXIT_JOBS, HEARTBEAT, NJOBS, NTHREADS, SEQ, SPIN } from "./pool-protocol.js";
import { runShare } from "./pool-share.js";

interface Data { module: WebAssembly.Module; memory: WebAssembly.Memory; control: SharedArrayBuffer; index: number }
const { module, memory, control, index } = workerData as Data;
const ctl = new Int32Array(control);
const k = instantiateKernels(module, memory);
parentPort!.postMessage("ready");

let seen = 0; // SEQ starts at 0; a job dispatched before this loop starts is still seen
for (;;) {
  // Spin briefly: the next hand-off usually comes within microseconds.
  let spins = 0;
  while (Atomics.load(ctl, SEQ) === seen && spins < SPIN) spins++;
  if (Atomics.load(ctl, SEQ) === seen) Atomics.wait(ctl, SEQ, seen);
  seen = Atomics.load(ctl, SEQ);
  const njobs = Atomics.load(ctl, NJOBS);
  if (njobs === EXIT_JOBS) break;
  try {
    runShare(k, ctl, njobs, index, Atomics.load(ctl, NTHREADS), HEARTBEAT + index - 1);
  } catch (e) {
    Atomics.store(ctl, ERR, index);
    parentPort!.postMessage(String((e as Error)?.stack ?? e));
  }
  Atomics.add(ctl, DONE, 1);
  Atomics.notify(ctl, DONE);
}
