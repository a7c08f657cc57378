/** `ffnskip generate`: stream a continuation (or a chat reply), then stats. */
import { loadModel, type Prompt } from "../../api/engine.js";
import { MODEL_OPTIONS, SAMPLING_OPTIONS, loadOptions, parse, samplingOptions } from "../args.js";
import { SKIP_OPTIONS, skipFromFlags } from "../skip-flags.js";

export const GENERATE_HELP = `ffnskip generate [--model M] [options] "prompt"
  --chat                 wrap the prompt as a user message in the model's chat template
  --system S             system message (with --chat)
  --temperature T        0 = greedy (default 0.8)   --top-k K (40)  --top-p P (0.95)  --min-p P (0.05)
  --repeat-penalty R     (1 = off)  --repeat-last-n N (64)  --seed S (0)
  --max-tokens N, -n N   (256)      --stop S (repeatable)
  --threads N  --ctx N  --kv-type f16|f32 (KV cache, default f16)  --backend wasm|reference
  --skip METHOD ...      skipping (see 'ffnskip help skip');  --skip-profile FILE
  --trace                add per-token FFN decisions and cosines to --json output
  --json                 print one JSON object instead of streaming text`;

export async function generateCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, {
    ...MODEL_OPTIONS,
    ...SAMPLING_OPTIONS,
    ...SKIP_OPTIONS,
    chat: { type: "boolean" },
    system: { type: "string" },
    trace: { type: "boolean" },
  });
  if (v.help) {
    process.stdout.write(GENERATE_HELP + "\n");
    return 0;
  }
  if (positionals.length !== 1) throw new Error(`generate takes one prompt argument (quote it), got ${positionals.length}`);
  const sampling = samplingOptions(v);
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  try {
    const text = positionals[0];
    const prompt: Prompt = v.chat
      ? { messages: [...(v.system ? [{ role: "system", content: v.system as string }] : []), { role: "user", content: text }] }
      : text;
    const { policy, trace } = skipFromFlags(v, engine);
    engine.prepareSkip(policy); // compact FFN copies (ffn-prune, ffn-skip-compact) before the first token
    const it = engine.stream(prompt, { ...sampling, skip: policy });
    let r = await it.next();
    while (!r.done) {
      if (!v.json) process.stdout.write(r.value);
      r = await it.next();
    }
    const res = r.value;
    const stats = { ...res.stats, load_ms: engine.loaded.loadMs, finish_reason: res.finish_reason };
    if (v.json) {
      const out: Record<string, unknown> = {
        text: res.text,
        tokens: res.tokens,
        prompt_tokens: res.stats.prompt_tokens,
        stats,
        skip: res.skip,
      };
      if (trace) out.trace = trace.records;
      process.stdout.write(JSON.stringify(out) + "\n");
    } else {
      const s = res.stats,
        sk = res.skip;
      process.stdout.write("\n");
      process.stderr.write(
        `\n[prompt ${s.prompt_tokens} tok, ${s.prompt_tok_per_s.toFixed(1)} tok/s | generated ${s.generated_tokens} tok, ` +
          `${s.decode_tok_per_s.toFixed(1)} tok/s | load ${engine.loaded.loadMs.toFixed(0)} ms | skip ${sk.method} ` +
          `${(sk.ratio * 100).toFixed(1)}% (${+sk.skipped_ffn.toFixed(1)}/${sk.total_ffn} FFNs)]\n`,
      );
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}
