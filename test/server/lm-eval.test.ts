/**
 * lm-evaluation-harness end to end: `lm_eval --model local-completions`
 * against a server this test starts, on the repository's local tasks
 * (eval/lm-eval/tasks) for a handful of items. The harness's answers must be
 * the engine's own: each factoid generation equals a greedy `generate` of
 * the LLM-KICK prompt with the same exact-match verdict, and each ARC-Easy
 * choice's log-likelihood equals `continuationLoglikelihood` (perplexity).
 * lm_eval is a Python dev dependency (scripts/install-lm-eval.sh): without
 * it the test skips, except under CI=true where that is a failure.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Engine } from "../../src/api/engine.js";
import type { RunningServer } from "../../src/server/server.js";
import { factoidPrompt, isCorrect } from "../../src/eval/factoid.js";
import { continuationLoglikelihood } from "../../src/eval/loglikelihood.js";
import { HOME, SHARED, SMOLLM2, missing, skipOrFail } from "../helpers/paths.js";
import { closeServer, openServer } from "../helpers/server.js";

const ROOT = resolve(fileURLToPath(import.meta.url), "../../../..");
const N = 2;

/** lm_eval: $LM_EVAL, the venv scripts/install-lm-eval.sh makes, or PATH. */
function findLmEval(): string | null {
  if (process.env.LM_EVAL) return process.env.LM_EVAL;
  const venv = process.env.FFNSKIP_LMEVAL_VENV ?? join(HOME, "lm-eval-venv");
  if (existsSync(join(venv, "bin", "lm_eval"))) return join(venv, "bin", "lm_eval");
  const which = spawnSync("sh", ["-c", "command -v lm_eval"], { encoding: "utf8" });
  return which.status === 0 ? which.stdout.trim() : null;
}

const lmEval = findLmEval();
const NO_LM_EVAL = "lm_eval is not installed: run scripts/install-lm-eval.sh (or set LM_EVAL)";
const skipReason = missing(
  SMOLLM2,
  join(SHARED, "data", "factoid", "freebaseqa-train.jsonl"),
  join(SHARED, "data", "knowledge", "arc-easy-test.jsonl"),
);
let engine: Engine;
let srv: RunningServer;
let out: string;

before(async () => {
  if (skipReason || !lmEval) return;
  ({ engine, srv } = await openServer());
  out = mkdtempSync(join(tmpdir(), "ffnskip-lm-eval-"));
});
after(async () => {
  await closeServer(srv, engine);
  if (out) rmSync(out, { recursive: true, force: true });
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((res, rej) => {
    // async: the server answering the harness lives in this process
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, FFNSKIP_SHARED: SHARED, ...env } });
    let output = "";
    p.stdout.on("data", (d) => (output += d));
    p.stderr.on("data", (d) => (output += d));
    p.on("error", rej);
    p.on("close", (code) => res({ code, output }));
  });
}

function samples(task: string): Record<string, any>[] {
  const find = (dir: string): string | null => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        const f = find(p);
        if (f) return f;
      } else if (e.name.startsWith(`samples_${task}_`)) return p;
    }
    return null;
  };
  const f = find(out);
  assert.ok(f, `lm_eval wrote no samples for ${task} under ${out}`);
  return readFileSync(f, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test("lm_eval local-completions runs the local factoid and ARC-Easy tasks through the server, with the engine's numbers", async (t) => {
  if (skipOrFail(t, lmEval ? null : `${NO_LM_EVAL} (.ci/run installs it)`) || !lmEval) return;
  if (skipOrFail(t, skipReason)) return;
  const data = await run("python3", ["eval/lm-eval/make-data.py"]);
  assert.equal(data.code, 0, data.output);
  const r = await run(
    lmEval,
    [
      "--model",
      "local-completions",
      "--model_args",
      `base_url=${srv.url}/v1/completions,model=SmolLM2-135M-Instruct.Q4_1`,
      "--batch_size",
      "4",
      "--include_path",
      "eval/lm-eval/tasks",
      "--tasks",
      "ffnskip_factoid,ffnskip_arc_easy",
      "--limit",
      String(N),
      "--log_samples",
      "--output_path",
      out,
    ],
    { HF_DATASETS_OFFLINE: "1", HF_HUB_OFFLINE: "1" },
  );
  assert.equal(r.code, 0, r.output.slice(-4000));
  assert.match(r.output, /Using remote tokenizer/, "the harness should count tokens with the server's tokenizer");

  const factoid = samples("ffnskip_factoid");
  assert.equal(factoid.length, N);
  for (const s of factoid) {
    const prompt = s.arguments.gen_args_0.arg_0 as string;
    assert.equal(prompt, factoidPrompt(s.doc.question), "the YAML's prompt is the LLM-KICK prompt of src/eval/factoid.ts");
    const direct = await engine.generate(prompt, { temperature: 0, maxTokens: 24, stop: ["\n"] });
    assert.equal(s.resps[0][0], direct.text, `doc ${s.doc_id}`);
    assert.equal(s.exact_match, isCorrect(direct.text, [s.doc.answer, ...s.doc.aliases]) ? 1 : 0);
  }

  const arc = samples("ffnskip_arc_easy");
  assert.equal(arc.length, N);
  for (const s of arc) {
    const args = Object.values(s.arguments) as { arg_0: string; arg_1: string }[];
    assert.equal(args.length, s.doc.choices.length);
    const lls = args.map((a) => continuationLoglikelihood(engine, a.arg_0, a.arg_1));
    args.forEach((_, i) => {
      // the samples file keeps the (logprob, is_greedy) pair as strings
      const [ll, greedy] = (s.resps[i][0] as unknown[]).map(String);
      assert.ok(Math.abs(Number(ll) - lls[i].logprob) < 1e-9, `doc ${s.doc_id} choice ${i}: harness ${ll}, perplexity ${lls[i].logprob}`);
      assert.equal(greedy, lls[i].greedy ? "True" : "False");
    });
    const best = lls.reduce((b, x, i) => (x.logprob > lls[b].logprob ? i : b), 0);
    assert.equal(s.acc, best === s.doc.gold ? 1 : 0);
  }
});
