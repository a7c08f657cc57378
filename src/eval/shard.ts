/**
 * Sharding a task over machines: shard I of N runs the items whose index in
 * the task's item list is ≡ I (mod N). The share is deterministic, the
 * shards are disjoint and together cover every item, and the cache key does
 * not depend on the shard (the settings are the task's), so every shard
 * writes a cache file of the same name; `mergeCaches` joins them, and a
 * sweep over the merged folder reads every item from the cache.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Task } from "./task.js";

/** "I/N" → {index, count}, with 0 ≤ I < N. */
export function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const index = m ? Number(m[1]) : NaN,
    count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1) || !(index < count)) throw new Error(`--shard expects I/N with 0 ≤ I < N (e.g. 0/4), got "${s}"`);
  return { index, count };
}

/** The task restricted to shard `index` of `count`. */
export function shardTask(task: Task, index: number, count: number): Task {
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 0 && index < count))
    throw new Error(`shard ${index}/${count}: need integers 0 ≤ index < count`);
  return { ...task, items: task.items.filter((_, i) => i % count === index) };
}

export interface MergeReport {
  /** cache file name → items in the merged file */
  files: Record<string, number>;
  targets: number;
}

/**
 * Join the cache folders (DIR/cache/*.jsonl) and ratio-target files
 * (DIR/targets/*.json) of shard output folders into `outDir`. Files of the
 * same name must have the same header key; an item present in two shards
 * must have the same output (a conflict is an error: the shards did not run
 * the same code). Session lines (which commit computed what) are kept.
 */
export function mergeCaches(dirs: readonly string[], outDir: string): MergeReport {
  if (dirs.length === 0) throw new Error("merge: no shard folders given");
  const files = new Map<string, { header: string; key: string; lines: string[]; ids: Map<string, string> }>();
  const targets = new Map<string, string>();
  for (const d of dirs) {
    const cdir = join(d, "cache");
    if (!existsSync(cdir)) throw new Error(`merge: ${d} has no cache/ folder (is it a shard's --out?)`);
    for (const f of readdirSync(cdir)
      .filter((x) => x.endsWith(".jsonl"))
      .sort()) {
      const lines = readFileSync(join(cdir, f), "utf8").split("\n");
      let header: { key?: string };
      try {
        header = JSON.parse(lines[0]);
      } catch {
        throw new Error(`merge: ${join(cdir, f)} has no valid header line`);
      }
      if (typeof header.key !== "string") throw new Error(`merge: ${join(cdir, f)} header has no key`);
      let m = files.get(f);
      if (!m) {
        m = { header: lines[0], key: header.key, lines: [], ids: new Map() };
        files.set(f, m);
      }
      if (m.key !== header.key) throw new Error(`merge: ${f} has key ${header.key} in ${d} but ${m.key} elsewhere`);
      for (const line of lines.slice(1)) {
        if (line.trim() === "") continue;
        let v: { id?: string; output?: unknown; session?: unknown };
        try {
          v = JSON.parse(line);
        } catch {
          continue; // a torn last line of an interrupted shard
        }
        if (typeof v.id === "string") {
          const out = JSON.stringify(v.output);
          const prev = m.ids.get(v.id);
          if (prev !== undefined) {
            if (prev !== out) throw new Error(`merge: item ${v.id} of ${f} differs between shards`);
            continue;
          }
          m.ids.set(v.id, out);
        }
        m.lines.push(line);
      }
    }
    const tdir = join(d, "targets");
    if (existsSync(tdir)) {
      for (const f of readdirSync(tdir).filter((x) => x.endsWith(".json"))) {
        const text = readFileSync(join(tdir, f), "utf8");
        const prev = targets.get(f);
        const cfg = (t: string) => JSON.stringify(JSON.parse(t).config);
        if (prev !== undefined && cfg(prev) !== cfg(text)) throw new Error(`merge: target ${f} differs between shards`);
        targets.set(f, text);
      }
    }
  }
  mkdirSync(join(outDir, "cache"), { recursive: true });
  const report: MergeReport = { files: {}, targets: targets.size };
  for (const [f, m] of files) {
    writeFileSync(join(outDir, "cache", f), [m.header, ...m.lines].join("\n") + "\n");
    report.files[f] = m.ids.size;
  }
  if (targets.size) {
    mkdirSync(join(outDir, "targets"), { recursive: true });
    for (const [f, t] of targets) writeFileSync(join(outDir, "targets", f), t);
  }
  return report;
}
