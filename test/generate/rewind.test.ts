/**
 * The loop rewind's take-back through the generation loops on SmolLM2:
 * taking tokens back and making them again at the same positions gives the
 * same greedy text as never taking them back (alone and in the batch); a stop
 * string inside the held-back tokens ends the text where it would without
 * them; and ffn-skip-linear with the rewind keeps no repeat made under
 * skipping, with a ratio that charges the thrown-away steps.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadModel, type Engine } from "../../src/api/engine.js";
import { generateStream } from "../../src/generate/generate.js";
import { createPolicy, type SkipConfig } from "../../src/skip/config.js";
import { DensePolicy } from "../../src/skip/dense.js";
import { endsInRepeat } from "../../src/skip/guarded.js";
import type { SkipPolicy, StepInfo } from "../../src/skip/policy.js";
import { readSkipProfile } from "../../src/skip/skip-profile.js";
import { PolicyWrapper } from "../../src/skip/wrapper.js";
import { ROOT, SMOLLM2, missing, needs } from "../helpers/paths.js";

let engine: Engine | undefined;
before(async () => {
  if (missing(SMOLLM2)) return;
  engine = await loadModel(SMOLLM2, { threads: 1, ctx: 512, parallel: 2 });
});
after(async () => {
  await engine?.dispose();
});

/** Dense, but takes back `back` tokens whenever the output reaches one of `at` lengths (once each). */
class ScriptedTakeBack extends PolicyWrapper {
  private readonly left: Map<number, number>;
  constructor(at: [number, number][]) {
    super(new DensePolicy(30));
    this.left = new Map(at);
  }
  override get lookBehind(): number {
    return 3;
  }
  override takeBack(out: readonly number[]): number {
    const back = this.left.get(out.length) ?? 0;
    this.left.delete(out.length);
    return back;
  }
}

async function collect(it: AsyncGenerator<string, { text: string; tokens: number[] }>) {
  const chunks: string[] = [];
  for (;;) {
    const r = await it.next();
    if (r.done) return { chunks, result: r.value };
    chunks.push(r.value);
  }
}

const PROMPT = "Write a short poem about the sea.";

test("tokens taken back and made again at their positions give the same greedy text", async (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const opts = { maxTokens: 24, temperature: 0, ignoreEog: true };
  const dense = await e.generate(PROMPT, opts);
  const scripted = (): SkipPolicy =>
    new ScriptedTakeBack([
      [6, 3],
      [10, 1],
      [24, 2],
    ]);
  // through the batch (engine.generate) and the single-sequence loop
  const viaBatch = await collect(e.stream(PROMPT, { ...opts, skip: scripted() }));
  const alone = await collect(generateStream(e.model, e.tokenizer, e.encodePrompt(PROMPT), { ...opts, policy: scripted() }));
  for (const { chunks, result } of [viaBatch, alone]) {
    assert.deepEqual(result.tokens, dense.tokens);
    assert.equal(result.text, dense.text);
    assert.equal(chunks.join(""), dense.text);
  }
});

test("a stop string among held-back tokens ends the text and the tokens where it would without them", async (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const base = { maxTokens: 24, temperature: 0, ignoreEog: true };
  const full = await e.generate(PROMPT, base);
  // a stop string that ends a few tokens in: its match completes while later tokens are still held back
  const words = full.text.trim().split(/\s+/);
  const stop = [words[3]];
  const plain = await e.generate(PROMPT, { ...base, stop });
  assert.equal(plain.finish_reason, "stop");
  const held = await collect(e.stream(PROMPT, { ...base, stop, skip: new ScriptedTakeBack([]) }));
  assert.equal(held.result.text, plain.text);
  assert.deepEqual(held.result.tokens, plain.tokens);
  assert.equal(held.chunks.join(""), plain.text);
});

/** Records, per kept token, whether the step that made it skipped an FFN (from the counts before and after it). */
class Recorder extends PolicyWrapper {
  readonly bySkip: boolean[] = [];
  stepSkipped = 0;
  allSkipped = 0;
  steps = 0;
  private before = { skipped: 0, tokens: 0 };
  private last = false;
  override beginStep(step: StepInfo): void {
    super.beginStep(step);
    const s = this.inner.stats();
    this.before = { skipped: s.skipped_ffn, tokens: s.tokens ?? 0 };
  }
  override endStep(): void {
    super.endStep();
    const s = this.inner.stats();
    this.stepSkipped = s.skipped_ffn - this.before.skipped;
    this.last = this.stepSkipped > 0;
    this.allSkipped += this.stepSkipped;
    // a counted step (decode, after warm-up)
    if ((s.tokens ?? 0) > this.before.tokens) this.steps++;
  }
  override takeBack(out: readonly number[]): number {
    const back = super.takeBack(out);
    this.bySkip.push(this.last);
    this.last = false;
    this.bySkip.length -= back;
    return back;
  }
}

test("ffn-skip-linear with the loop rewind keeps no repeat made under skipping and charges the discarded steps", async (t) => {
  if (needs(t, SMOLLM2)) return;
  const e = engine!;
  const prof = readSkipProfile(join(ROOT, "profiles", "smollm2-135m-instruct-linear-35.json"), 30).config;
  const n = 3;
  const config = { ...prof, rewind: n, hold: 4 } as SkipConfig;
  const rec = new Recorder(createPolicy(config, 30));
  const r = await e.generate(
    { messages: [{ role: "user", content: "List ten fruits, one per line." }] },
    {
      maxTokens: 96,
      temperature: 0,
      ignoreEog: true,
      skip: rec,
    },
  );
  const s = r.skip;
  assert.ok((s.taken_back ?? 0) > 0, `no take-back happened (stats ${JSON.stringify({ ...s, per_layer: undefined })})`);
  assert.equal(rec.bySkip.length, r.tokens.length);
  for (let j = 0; j < r.tokens.length; j++)
    if (rec.bySkip[j]) assert.ok(!endsInRepeat(r.tokens.slice(0, j + 1), n), `token ${j} repeats an ${n}-gram and was made under skipping`);
  // the ratio: everything skipped, less a whole step's FFNs for each step thrown away, over the kept tokens
  const kept = s.tokens!;
  assert.equal(s.skipped_ffn, rec.allSkipped - 30 * s.taken_back!);
  assert.equal(s.total_ffn, 30 * kept);
  assert.equal(s.ratio, s.skipped_ffn / s.total_ffn);
  // the steps that made tokens which were taken back were real steps of the policy
  assert.equal(rec.steps, kept + s.taken_back!, `${rec.steps} counted steps for ${kept} kept and ${s.taken_back} taken back`);
});
