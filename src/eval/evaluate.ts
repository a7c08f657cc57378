/**
 * One evaluation: a task under one skip config (dense reference first when
 * the task scores against dense), with provenance, written as JSON into
 * the output folder.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Engine } from "../api/engine.js";
import type { SkipConfig } from "../skip/config.js";
import { conversationTask } from "./conversation.js";
import { factoidTask } from "./factoid.js";
import { perplexityTask } from "./perplexity.js";
import { fileSha256, gitCommit, hashOf } from "./provenance.js";
import { runTask, type RunTaskResult } from "./runner.js";
import { summarizationTask } from "./summarization.js";
import { clozeTask } from "./cloze.js";
import { fewshotTask } from "./fewshot.js";
import { MC_TASKS, mcTask } from "./knowledge.js";
import { shardTask } from "./shard.js";
import { METHOD_KNOBS } from "../skip/config.js";
import { achievedRatio, type ItemOutput, type Task, type TaskOptions } from "./task.js";
import type { Target } from "./targets.js";

/** The knowledge tasks (issue 15): multiple choice, cloze, few-shot factoid QA. */
export const KNOWLEDGE_TASKS = [...Object.keys(MC_TASKS), "lama-cloze", "factoid-fewshot"] as const;
export const TASKS = ["factoid-qa", "summarization", "conversation", "perplexity", ...KNOWLEDGE_TASKS] as const;

/**
 * Build a task by name for `engine` (perplexity tokenizes with its
 * tokenizer); with `o.shard`, only that shard's share of the items.
 */
export function makeTask(name: string, o: TaskOptions, engine: Pick<Engine, "tokenizer">): Task {
  const task = buildTask(name, o, engine);
  return o.shard ? shardTask(task, o.shard.index, o.shard.count) : task;
}

function buildTask(name: string, o: TaskOptions, engine: Pick<Engine, "tokenizer">): Task {
  if (name in MC_TASKS) return mcTask(name, o);
  switch (name) {
    case "lama-cloze":
      return clozeTask(o);
    case "factoid-fewshot":
      return fewshotTask(o);
    case "factoid-qa":
      return factoidTask(o);
    case "summarization":
      return summarizationTask(o);
    case "conversation":
      return conversationTask(o);
    case "perplexity":
      return perplexityTask(o, (t) => engine.tokenizer.encode(t, { addSpecial: true }));
    default:
      throw new Error(`unknown task "${name}"; tasks: ${TASKS.join(", ")}`);
  }
}

export interface Provenance {
  model: string;
  model_sha256: string;
  git_commit: string | null;
  created: string;
  node: string;
}

export function provenance(engine: Engine): Provenance {
  return {
    model: engine.path,
    model_sha256: fileSha256(engine.path),
    git_commit: gitCommit(),
    created: new Date().toISOString(),
    node: process.version,
  };
}

export interface EvalRecord {
  task: string;
  skip: SkipConfig;
  target?: Target;
  /** Σ skipped ÷ Σ total FFNs over the evaluated items (decode tokens after warm-up) */
  achieved_ratio: number;
  metrics: Record<string, number>;
  primary: string;
  items: number;
  complete: boolean;
  /** the configuration the per-item cache is keyed by */
  config: Record<string, unknown>;
  cache: string;
  reference_cache?: string;
  provenance: Provenance;
  /** where the record was written */
  file?: string;
  /** the task's chance level of the primary metric, when it has one */
  chance?: number;
  /** ids of the scored items and, per metric, their per-item values (for CIs and paired tests) */
  ids?: string[];
  values?: Record<string, number[]>;
  /** git commit(s) the scored items were computed at (from the cache headers) */
  computed_at?: string[];
  /** items computed by this call (the rest came from the cache) */
  computed?: number;
}

/**
 * The config a task runs `skip` with: a task that fixes the warm-up (the
 * knowledge tasks: 0) replaces the config's, for every method that has one.
 */
export function taskSkipConfig(task: Task, skip: SkipConfig): SkipConfig {
  if (task.warmup === undefined || !(METHOD_KNOBS[skip.method] as readonly string[]).includes("warmup")) return skip;
  return { ...skip, warmup: task.warmup } as SkipConfig;
}

export interface EvaluateOptions {
  outDir: string;
  resume: boolean;
  prov: Provenance;
  signal?: AbortSignal;
  log?: (line: string) => void;
  target?: Target;
  /** false: only read the cache (after a merge of shard caches); missing items leave the record incomplete */
  computeMissing?: boolean;
}

const DENSE: SkipConfig = { method: "none" };

/** Run (or resume) `task` under `skip`; dense reference results are always reused from the cache. */
export async function evaluate(engine: Engine, task: Task, skip: SkipConfig, o: EvaluateOptions): Promise<EvalRecord> {
  skip = taskSkipConfig(task, skip);
  const base = {
    outDir: o.outDir,
    modelSha: o.prov.model_sha256,
    signal: o.signal,
    log: o.log,
    computeMissing: o.computeMissing,
    commit: o.prov.git_commit,
  };
  let ref: RunTaskResult | null = null;
  if (task.needsReference || skip.method === "none") {
    ref = await runTask(engine, task, { ...base, skip: DENSE, resume: task.needsReference || o.resume, label: `${task.name} [dense]` });
  }
  const run =
    skip.method === "none"
      ? ref!
      : ref && !ref.complete
        ? null
        : await runTask(engine, task, {
            ...base,
            skip,
            resume: o.resume,
            label: `${task.name} [${skip.method}${o.target ? ` @${o.target.target_ratio}` : ""}]`,
          });
  const outputs = run ? run.outputs : task.items.map(() => null);
  // score only items present in both runs, so partial runs stay comparable
  const keep = outputs.map((x, i) => x !== null && (!task.needsReference || ref!.outputs[i] !== null));
  const mine = outputs.filter((_, i) => keep[i]) as ItemOutput[];
  const refs = task.needsReference ? (ref!.outputs.filter((_, i) => keep[i]) as ItemOutput[]) : null;
  const rec: EvalRecord = {
    task: task.name,
    skip,
    ...(o.target ? { target: o.target } : {}),
    achieved_ratio: achievedRatio(mine),
    metrics: mine.length
      ? task.score(
          task.items.filter((_, i) => keep[i]),
          mine,
          refs,
        )
      : {},
    primary: task.primary,
    items: mine.length,
    complete: run !== null && run.complete && (ref === null || ref.complete),
    config: run ? run.config : { task: task.name, settings: task.settings, model_sha256: o.prov.model_sha256, skip },
    cache: run ? run.cachePath : "",
    ...(ref && ref !== run ? { reference_cache: ref.cachePath } : {}),
    provenance: o.prov,
    ...(task.chance !== undefined ? { chance: task.chance } : {}),
  };
  if (task.perItem && mine.length) {
    const kept = task.items.filter((_, i) => keep[i]);
    rec.ids = kept.map((it) => it.id);
    const values: Record<string, number[]> = {};
    for (const x of mine) {
      for (const [k, v] of Object.entries(task.perItem(x))) {
        if (!values[k]) values[k] = [];
        values[k].push(v);
      }
    }
    rec.values = values;
  }
  if (run) {
    rec.computed_at = run.commits;
    rec.computed = run.computed + (ref && ref !== run ? ref.computed : 0);
  }
  mkdirSync(o.outDir, { recursive: true });
  const tag = o.target ? `${skip.method}-${Math.round(o.target.target_ratio * 100)}` : skip.method;
  rec.file = join(o.outDir, `${task.name}-${tag}-${hashOf(rec.config, 8)}.json`);
  writeFileSync(rec.file, JSON.stringify(rec, null, 2) + "\n");
  return rec;
}
