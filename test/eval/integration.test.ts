/**
 * Every eval task end to end on 2 items with the real model and shared data
 * (tiny token limits), plus ratio targeting on a one-prompt calibration set,
 * so the harness cannot break silently. Skips plainly when files are missing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadModel, type Engine } from "../../src/api/engine.js";
import { evaluate, makeTask, provenance } from "../../src/eval/evaluate.js";
import { Targeter } from "../../src/eval/targets.js";
import { runSweep, sweepChart, sweepTable } from "../../src/eval/sweep.js";
import { SHARED, SMOLLM2, needs } from "../helpers/paths.js";

const DATA = [
  "factoid/freebaseqa-train.jsonl",
  "summarization/xsum-1000.jsonl",
  "summarization/cnn-90.jsonl",
  "conversation/vicuna-80.jsonl",
  "conversation/mt-bench.jsonl",
  "perplexity/wikitext-2-raw-test.txt",
].map((p) => join(SHARED, "data", p));

test("eval: every task on 2 items with the real model", { timeout: 300_000 }, async (t) => {
  if (needs(t, SMOLLM2, ...DATA)) return;
  process.env.FFNSKIP_SHARED = SHARED;
  const out = mkdtempSync(join(tmpdir(), "ffnskip-eval-int-"));
  const engine: Engine = await loadModel(SMOLLM2, { threads: 1 });
  t.after(async () => {
    await engine.dispose();
    rmSync(out, { recursive: true, force: true });
  });
  const prov = provenance(engine);
  assert.match(prov.model_sha256, /^[0-9a-f]{64}$/);
  const o = { outDir: out, resume: true, prov };
  // warm-up 0: a 2-item factoid answer can end inside the default warm-up, and then nothing would be skipped
  const skip = { method: "static" as const, layers: [12, 13, 14], warmup: 0 };

  await t.test("factoid-qa (plain and chat)", async () => {
    const r = await evaluate(engine, makeTask("factoid-qa", { limit: 2 }, engine), skip, o);
    assert.equal(r.items, 2);
    assert.ok(r.complete && r.metrics.accuracy >= 0 && r.metrics.accuracy <= 1);
    assert.ok(r.achieved_ratio > 0 && r.achieved_ratio <= 0.1 + 1e-9, `ratio ${r.achieved_ratio}`);
    const saved = JSON.parse(readFileSync(r.file!, "utf8"));
    assert.equal(saved.provenance.model_sha256, prov.model_sha256);
    assert.deepEqual(saved.skip, skip);
    const c = await evaluate(engine, makeTask("factoid-qa", { limit: 2, chat: true, maxTokens: 8 }, engine), { method: "none" }, o);
    assert.equal(c.items, 2);
  });

  await t.test("summarization (XSum, CNN small bucket)", async () => {
    const r = await evaluate(engine, makeTask("summarization", { data: "xsum", items: [1, 3], maxTokens: 6 }, engine), skip, o);
    for (const k of ["rouge1_ref", "rouge2_ref", "rougeL_ref", "rougeL_dense", "loop_rate", "distinct2", "hit_limit"]) {
      assert.ok(Number.isFinite(r.metrics[k]), `${k} = ${r.metrics[k]}`);
    }
    assert.ok(r.reference_cache, "dense reference ran first");
    const dense = await evaluate(
      engine,
      makeTask("summarization", { data: "xsum", items: [1, 3], maxTokens: 6 }, engine),
      { method: "none" },
      o,
    );
    assert.equal(dense.metrics.rougeL_dense, 1, "dense agrees with itself");
    const cnn = makeTask("summarization", { bucket: "small", limit: 2 }, engine);
    assert.equal(cnn.items.length, 2);
  });

  await t.test("conversation (Vicuna single turn, MT-Bench two turns)", async () => {
    const v = await evaluate(engine, makeTask("conversation", { limit: 2, maxTokens: 6 }, engine), skip, o);
    assert.equal(v.metrics.turns, 2);
    assert.ok(v.metrics.rougeL_dense >= 0 && v.metrics.rougeL_dense <= 1);
    const m = await evaluate(engine, makeTask("conversation", { data: "mt-bench", limit: 1, maxTokens: 4 }, engine), { method: "none" }, o);
    assert.equal(m.metrics.turns, 2);
    assert.equal(m.metrics.hit_limit, 1);
  });

  await t.test("perplexity (sliding window)", async () => {
    const task = makeTask("perplexity", { limit: 2, window: 48, stride: 24 }, engine);
    const r = await evaluate(engine, task, { method: "none" }, o);
    assert.equal(r.metrics.tokens, 47 + 24);
    assert.ok(r.metrics.ppl > 1 && r.metrics.ppl < 1000, `ppl ${r.metrics.ppl}`);
  });

  await t.test("ratio targeting and a one-cell sweep", async () => {
    const tg = new Targeter(engine, { calibPrompts: 1, calibTokens: 6, modelSha: prov.model_sha256, cacheDir: join(out, "targets") });
    const L = engine.config.nLayers;
    const st = await tg.get("static", 0.1);
    assert.equal((st.config as { layers: number[] }).layers.length, Math.round(0.1 * L));
    const ld = await tg.get("layer-drop", 0.1);
    assert.match(ld.source, /Block Influence/);
    // the dropped layers are the lowest-BI ones
    const bi = await tg.blockInfluence();
    const dropped = (ld.config as { layers: number[] }).layers;
    const maxDropped = Math.max(...dropped.map((l) => bi[l]));
    assert.ok(
      bi.every((b, l) => dropped.includes(l) || b >= maxDropped),
      "layer-drop removes the lowest Block Influence layers",
    );
    assert.ok(Math.abs(ld.calib.ratio - Math.round(0.1 * L) / L) < 1e-9);
    const rnd = await tg.get("random", 0.05);
    assert.ok(Math.abs(rnd.calib.ratio - 0.05) < 0.03, `random calibration ratio ${rnd.calib.ratio}`);
    const task = makeTask("factoid-qa", { limit: 2, maxTokens: 6 }, engine);
    const sw = await runSweep(engine, task, ["static"], [0.1], tg, o);
    const md = sweepTable(sw, ["static"], [0.1]);
    assert.match(md, /\| static \| [\d.]+ \| [\d.]+ \([\d.]+%\) \|/);
    assert.match(sweepChart(sw, ["static"]), /^<svg/);
  });
});
