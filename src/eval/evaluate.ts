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
import { achievedRatio, type ItemOutput, type Task, type TaskOptions } from "./task.js";
import type { Target } from "./targets.js";

export const TASKS = ["factoid-qa", "summarization", "conversation", "perplexity"] as const;

/** Build a task by name for `engine` (perplexity tokenizes with its tokenizer). */
export function makeTask(name: string, o: TaskOptions, engine: Pick<Engine, "tokenizer">): Task {
  switch (name) {
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
}

export interface EvaluateOptions {
  outDir: string;
  resume: boolean;
  prov: Provenance;
  signal?: AbortSignal;
  log?: (line: string) => void;
  target?: Target;
}

const DENSE: SkipConfig = { method: "none" };

/** Run (or resume) `task` under `skip`; dense reference results are always reused from the cache. */
export async function evaluate(engine: Engine, task: Task, skip: SkipConfig, o: EvaluateOptions): Promise<EvalRecord> {
  const base = { outDir: o.outDir, modelSha: o.prov.model_sha256, signal: o.signal, log: o.log };
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
  };
  mkdirSync(o.outDir, { recursive: true });
  const tag = o.target ? `${skip.method}-${Math.round(o.target.target_ratio * 100)}` : skip.method;
  rec.file = join(o.outDir, `${task.name}-${tag}-${hashOf(rec.config, 8)}.json`);
  writeFileSync(rec.file, JSON.stringify(rec, null, 2) + "\n");
  return rec;
}
