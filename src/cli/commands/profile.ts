/**
 * `ffnskip profile`: the per-layer FFN saturation profile — cos(h, h + FFN)
 * over many tokens, prompt and generated apart — as JSON and an SVG chart
 * (the paper's saturation figure, for our models).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadModel } from "../../api/engine.js";
import { argmax } from "../../generate/sampling.js";
import { CALIB_PROMPTS, loadPrompts } from "../../eval/calib.js";
import { modelStem } from "../../eval/targets.js";
import { cosineProfile, cosineProfileChart } from "../../skip/profile.js";
import { withTrace } from "../../skip/trace.js";
import { MODEL_OPTIONS, loadOptions, num, parse } from "../args.js";

export const PROFILE_HELP = `ffnskip profile [--model M] [--data F] [--prompts N] [--gen-tokens G] [--chat] [--out DIR] [--json]
  Runs N prompts (from F: JSONL with text/question/context/turns, or a text file of lines; default: built-in
  generic prompts) token by token, dense, plus G greedy tokens each, recording cos(h, h + FFN(norm(h))) at every
  layer. Writes DIR/profile.json and DIR/profile.svg (default DIR: results/profile/<model>).`;

export async function profileCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(
    argv,
    {
      ...MODEL_OPTIONS,
      data: { type: "string" },
      prompts: { type: "string" },
      "gen-tokens": { type: "string" },
      chat: { type: "boolean" },
      out: { type: "string" },
    },
    false,
  );
  if (v.help) {
    process.stdout.write(PROFILE_HELP + "\n");
    return 0;
  }
  const nPrompts = num(v, "prompts", true) ?? 6;
  const gen = num(v, "gen-tokens", true) ?? 48;
  if (nPrompts < 1 || gen < 1) throw new Error("--prompts and --gen-tokens must be ≥ 1");
  const texts = v.data ? loadPrompts(v.data as string, nPrompts) : CALIB_PROMPTS.slice(0, nPrompts);
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  try {
    const L = engine.config.nLayers,
      model = engine.model;
    const traced = withTrace(engine.policy({ method: "none" }), L);
    let tokens = 0;
    for (const [i, text] of texts.entries()) {
      const ids = engine.encodePrompt(v.chat ? { messages: [{ role: "user", content: text }] } : text);
      if (ids.length + gen > model.ctx)
        throw new Error(`prompt ${i + 1} is too long for the context (${ids.length} + ${gen} > ${model.ctx})`);
      traced.reset();
      model.kv.truncate(0);
      // token by token, so every prompt token's cosine is recorded (a batch reports only its last token)
      let logits: Float32Array | null = null;
      for (let p = 0; p < ids.length; p++)
        logits = model.forward([ids[p]], p, { policy: traced, phase: "prompt", logits: p === ids.length - 1 ? "last" : "none" });
      for (let g = 0; g < gen; g++) {
        const tok = argmax(logits!);
        logits = model.forward([tok], ids.length + g, { policy: traced, phase: "decode", genIndex: g, logits: "last" });
      }
      tokens += ids.length + gen;
      process.stderr.write(`profile: prompt ${i + 1}/${texts.length} (${tokens} tokens)\n`);
    }
    const profile = cosineProfile(traced.records, L);
    const dir = (v.out as string | undefined) ?? join("results", "profile", modelStem(engine.path));
    mkdirSync(dir, { recursive: true });
    const meta = {
      model: engine.path,
      n_layers: L,
      prompts: texts.length,
      gen_tokens: gen,
      tokens,
      data: v.data ?? "built-in generic prompts (src/eval/calib.ts)",
      chat: !!v.chat,
      command: `ffnskip profile ${argv.join(" ")}`.trim(),
    };
    writeFileSync(join(dir, "profile.json"), JSON.stringify({ ...meta, profile }, null, 2) + "\n");
    writeFileSync(join(dir, "profile.svg"), cosineProfileChart(profile, `cos(h, h + FFN(norm(h))) per layer — ${modelStem(engine.path)}`));
    if (v.json) process.stdout.write(JSON.stringify({ ...meta, out: dir, profile }) + "\n");
    else {
      const rows = profile.generated.map(
        (g, l) =>
          `  layer ${String(l).padStart(2)}  prompt ${profile.prompt[l].mean.toFixed(4)}  generated ${g.mean.toFixed(4)}  (q1 ${g.q1.toFixed(4)}, q3 ${g.q3.toFixed(4)})`,
      );
      process.stdout.write(
        `mean cos(h, h + FFN) per layer over ${tokens} tokens:\n${rows.join("\n")}\nwrote ${join(dir, "profile.json")} and profile.svg\n`,
      );
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}
