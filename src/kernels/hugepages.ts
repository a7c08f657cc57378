/**
 * Transparent huge pages for the kernels' memory (issue 11). Decoding streams
 * every weight once per token; in 4 KiB pages that is a TLB miss every 4 KiB,
 * and on Linux's common THP mode "madvise" a WebAssembly memory gets 4 KiB
 * pages, because V8 does not advise it. The optional native helper
 * (native/hugepages.c, built by scripts/build-native.mjs into build/) calls
 * madvise(MADV_HUGEPAGE) on the memory's reserved range; without it, or with
 * FFNSKIP_HUGEPAGES=0, the memory stays as V8 made it. Nothing else changes:
 * the same bytes at the same addresses.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { buildFile } from "./wasm-module.js";

/** What became of the advice for one memory. */
export type HugePages = "advised" | "off" | "no helper" | `failed: ${string}`;

interface Addon {
  advise(view: Uint8Array, bytes: number): number;
}
let addon: Addon | null | undefined;

function load(): Addon | null {
  if (addon !== undefined) return addon;
  const path = buildFile("hugepages.node");
  try {
    addon = path && existsSync(path) ? (createRequire(import.meta.url)(path) as Addon) : null;
  } catch {
    addon = null; // built for another platform or Node: run without it
  }
  return addon;
}

/** Whether FFNSKIP_HUGEPAGES turns the advice off ("0", "off", "false"). */
export function hugePagesWanted(): boolean {
  return !["0", "off", "false"].includes((process.env.FFNSKIP_HUGEPAGES ?? "").toLowerCase());
}

/** Advise `bytes` of `memory` from its start (its reserved maximum: later growth is covered) to use huge pages. */
export function adviseHugePages(memory: WebAssembly.Memory, bytes: number): HugePages {
  if (!hugePagesWanted()) return "off";
  const a = load();
  if (!a) return "no helper";
  const err = a.advise(new Uint8Array(memory.buffer, 0, 1), bytes);
  return err === 0 ? "advised" : `failed: errno ${err}`;
}

/** This process's anonymous memory in huge pages, bytes (Linux; 0 where /proc says nothing). */
export function anonHugeBytes(): number {
  try {
    const m = /AnonHugePages:\s+(\d+) kB/.exec(readFileSync("/proc/self/smaps_rollup", "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
