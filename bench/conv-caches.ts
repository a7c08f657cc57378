/**
 * The first answer of each question in conversation item caches (results/.../cache/conversation-*.jsonl), keyed by
 * question id. Several files (comma-separated) are joined, e.g. the 40 test and 40 development questions of Vicuna-80.
 * Used by loop-pairs.ts and answer-likelihood.ts.
 */
import { readJsonl } from "../src/eval/data.js";

export interface CachedAnswer {
  text: string;
  tokens: number;
  finish: string;
}

export function firstAnswers(files: string): Map<string, CachedAnswer> {
  const out = new Map<string, CachedAnswer>();
  for (const f of files.split(","))
    for (const r of readJsonl(f, "conversation cache")) {
      // the cache's first lines are its key and session records, which have no output
      const o = r.output as { answers?: CachedAnswer[] } | undefined;
      if (typeof r.id === "string" && o?.answers?.length) out.set(r.id, o.answers[0]);
    }
  return out;
}
