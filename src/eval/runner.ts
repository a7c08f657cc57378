/**
 * Runs a task's items under one skip config with a per-item cache in the
 * output folder, so a long run can be interrupted (signal, Ctrl-C) and
 * resumed: the cache file is keyed by the full configuration (task
 * settings, model sha256, skip config), each finished item is appended as
 * one JSON line, and a rerun with `resume` computes only the missing items.
 * A half-written last line (killed mid-write) is ignored.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../api/engine.js";
import type { SkipConfig } from "../skip/config.js";
import { Progress } from "./progress.js";
import { gitCommit, hashOf } from "./provenance.js";
import type { ItemOutput, Task } from "./task.js";

export interface RunTaskOptions {
  outDir: string;
  skip: SkipConfig;
  modelSha: string;
  /** reuse items already in the cache (otherwise the cache file is started afresh) */
  resume: boolean;
  signal?: AbortSignal;
  /** progress lines (stderr); silent when absent */
  log?: (line: string) => void;
  /** label in progress lines */
  label?: string;
  /** false: only read the cache, compute nothing (default true) */
  computeMissing?: boolean;
  /** the commit the running code is at (recorded with computed items; default: git HEAD now) */
  commit?: string | null;
}

export interface RunTaskResult {
  /** the configuration the cache is keyed by */
  config: Record<string, unknown>;
  key: string;
  cachePath: string;
  /** aligned with task.items; null where not computed (interrupted) */
  outputs: (ItemOutput | null)[];
  complete: boolean;
  computed: number;
  cached: number;
  /** git commits the items were computed at (from the cache's header lines) */
  commits: string[];
}

export function cacheConfig(task: Task, skip: SkipConfig, modelSha: string): Record<string, unknown> {
  return { task: task.name, settings: task.settings, model_sha256: modelSha, skip };
}

/** Items already in a cache file (id → output); a header mismatch is an error. */
export function readCache(path: string, key: string): Map<string, ItemOutput> {
  return readCacheFile(path, key).items;
}

/**
 * A cache file's items and the git commits its items were computed at: a
 * run that computes items first appends a line {"session": {commit, started}}.
 */
export function readCacheFile(path: string, key: string): { items: Map<string, ItemOutput>; commits: string[] } {
  const m = new Map<string, ItemOutput>();
  const commits: string[] = [];
  if (!existsSync(path)) return { items: m, commits };
  const lines = readFileSync(path, "utf8").split("\n");
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    let v: { key?: string; id?: string; output?: ItemOutput; session?: { commit?: string | null } };
    try {
      v = JSON.parse(line);
    } catch {
      return; // torn last line of an interrupted run
    }
    if (i === 0) {
      if (v.key !== key) throw new Error(`cache ${path}: header key ${v.key} does not match ${key}; delete the file`);
      return;
    }
    if (typeof v.id === "string" && v.output) m.set(v.id, v.output);
    const c = v.session?.commit ?? (v.session ? "unknown" : undefined);
    if (c && !commits.includes(c)) commits.push(c);
  });
  return { items: m, commits };
}

export async function runTask(engine: Pick<Engine, "policy">, task: Task, o: RunTaskOptions): Promise<RunTaskResult> {
  const config = cacheConfig(task, o.skip, o.modelSha);
  const key = hashOf(config);
  const dir = join(o.outDir, "cache");
  mkdirSync(dir, { recursive: true });
  const cachePath = join(dir, `${task.name}-${o.skip.method}-${key}.jsonl`);
  if (!o.resume || !existsSync(cachePath)) writeFileSync(cachePath, JSON.stringify({ key, config }) + "\n");
  const { items: have, commits } = readCacheFile(cachePath, key);
  // a torn last line (killed mid-write) must not swallow the next record
  const text = readFileSync(cachePath, "utf8");
  if (!text.endsWith("\n")) appendFileSync(cachePath, "\n");
  const outputs: (ItemOutput | null)[] = task.items.map((it) => have.get(it.id) ?? null);
  const cached = outputs.filter((x) => x !== null).length;
  const todo = task.items.length - cached;
  const progress = o.log ? new Progress(o.label ?? `${task.name} [${o.skip.method}]`, todo, cached, o.log) : null;
  let computed = 0;
  let session = false;
  for (let i = 0; i < task.items.length; i++) {
    if (outputs[i] !== null) continue;
    if (o.computeMissing === false) break;
    if (!session) {
      // which code computes the items that follow (a table cites it)
      const commit = o.commit !== undefined ? o.commit : gitCommit();
      appendFileSync(cachePath, JSON.stringify({ session: { commit, started: new Date().toISOString() } }) + "\n");
      if (!commits.includes(commit ?? "unknown")) commits.push(commit ?? "unknown");
      session = true;
    }
    if (o.signal?.aborted) break;
    const item = task.items[i];
    const out = await task.runItem(engine as Engine, item, { policy: engine.policy(o.skip), signal: o.signal });
    // an item cut short by the signal is not a result
    if (o.signal?.aborted) break;
    appendFileSync(cachePath, JSON.stringify({ id: item.id, output: out }) + "\n");
    outputs[i] = out;
    computed++;
    progress?.tick();
  }
  return { config, key, cachePath, outputs, complete: outputs.every((x) => x !== null), computed, cached, commits };
}
