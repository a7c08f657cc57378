/**
 * Checks lm-evaluation-harness's numbers (its --log_samples output, from a
 * run through `ffnskip serve`) against ffnskip's own:
 *
 *   factoid: each generation and exact-match verdict against `ffnskip eval
 *     factoid-qa`'s per-item cache (same items, same skip config);
 *   loglik: each choice's log-likelihood against `Engine.perplexity` on the
 *     same text (`continuationLoglikelihood`), with the same skip config.
 *
 * Run: node dist/bench/lm-eval-compare.js factoid LMEVAL_OUT_DIR FFNSKIP_CACHE.jsonl
 *      node dist/bench/lm-eval-compare.js loglik LMEVAL_OUT_DIR [--skip-profile F] [--limit DOCS] [--threads 1]
 * Prints a JSON summary (max |difference|, mismatching items).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadModel, type SkipSpec } from "../src/api/engine.js";
import { isCorrect } from "../src/eval/factoid.js";
import { continuationLoglikelihood } from "../src/eval/loglikelihood.js";
import { readSkipProfile } from "../src/skip/skip-profile.js";

type Sample = Record<string, any>;

/** The samples_*.jsonl lm_eval wrote somewhere under `dir`. */
function readSamples(dir: string): Sample[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      const s = readSamples(p);
      if (s.length) return s;
    } else if (e.name.startsWith("samples_") && e.name.endsWith(".jsonl")) {
      return readFileSync(p, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    }
  }
  return [];
}

function factoid(dir: string, cachePath: string) {
  const samples = readSamples(dir);
  const cache = new Map<string, { output: string; correct: boolean }>();
  for (const line of readFileSync(cachePath, "utf8").split("\n").slice(1)) {
    if (!line.trim()) continue;
    const v = JSON.parse(line);
    cache.set(v.id, v.output);
  }
  const diffs: unknown[] = [];
  let lmCorrect = 0,
    ffCorrect = 0,
    n = 0;
  for (const s of samples) {
    const mine = cache.get(String(s.doc_id));
    if (!mine) throw new Error(`item ${s.doc_id} is not in ${cachePath}`);
    n++;
    const text = s.resps[0][0] as string;
    lmCorrect += s.exact_match;
    ffCorrect += mine.correct ? 1 : 0;
    // the harness's verdict must be the LLM-KICK rule applied to its own text
    if (s.exact_match !== (isCorrect(text, [s.doc.answer, ...s.doc.aliases]) ? 1 : 0))
      throw new Error(`item ${s.doc_id}: the harness scored differently from isCorrect`);
    if (text !== mine.output || (s.exact_match === 1) !== mine.correct) diffs.push({ id: s.doc_id, lm_eval: text, ffnskip: mine.output });
  }
  return {
    task: "factoid",
    n,
    lm_eval_exact_match: lmCorrect / n,
    ffnskip_eval_accuracy: ffCorrect / n,
    differing_items: diffs.length,
    diffs,
  };
}

async function loglik(dir: string, skip: SkipSpec | undefined, limit: number | undefined, threads: number) {
  const samples = readSamples(dir).slice(0, limit);
  const engine = await loadModel(undefined, { threads });
  try {
    let maxAbs = 0,
      requests = 0,
      greedyMismatch = 0,
      accLm = 0,
      accMine = 0;
    for (const s of samples) {
      const args = Object.values(s.arguments) as { arg_0: string; arg_1: string }[];
      const mine = args.map((a) => continuationLoglikelihood(engine, a.arg_0, a.arg_1, skip ? engine.policy(skip) : undefined));
      args.forEach((_, i) => {
        const [ll, greedy] = (s.resps[i][0] as unknown[]).map(String);
        maxAbs = Math.max(maxAbs, Math.abs(Number(ll) - mine[i].logprob));
        if (greedy !== (mine[i].greedy ? "True" : "False")) greedyMismatch++;
        requests++;
      });
      const best = mine.reduce((b, x, i) => (x.logprob > mine[b].logprob ? i : b), 0);
      accMine += best === s.doc.gold ? 1 : 0;
      accLm += s.acc;
    }
    return {
      task: "loglik",
      docs: samples.length,
      requests,
      max_abs_diff: maxAbs,
      greedy_mismatches: greedyMismatch,
      lm_eval_acc: accLm / samples.length,
      perplexity_acc: accMine / samples.length,
    };
  } finally {
    await engine.dispose();
  }
}

const {
  values: v,
  positionals: [mode, dir, cache],
} = parseArgs({
  allowPositionals: true,
  options: { "skip-profile": { type: "string" }, limit: { type: "string" }, threads: { type: "string", default: "1" } },
});
if (mode === "factoid" && dir && cache) console.log(JSON.stringify(factoid(dir, cache), null, 1));
else if (mode === "loglik" && dir) {
  const skip = v["skip-profile"] ? readSkipProfile(v["skip-profile"]).config : undefined;
  console.log(JSON.stringify(await loglik(dir, skip, v.limit ? Number(v.limit) : undefined, Number(v.threads)), null, 1));
} else {
  console.error(
    "usage: lm-eval-compare factoid LMEVAL_OUT_DIR FFNSKIP_CACHE.jsonl | loglik LMEVAL_OUT_DIR [--skip-profile F] [--limit DOCS]",
  );
  process.exit(2);
}
