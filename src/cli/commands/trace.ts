/** `ffnskip trace`: a traced generation written as a self-contained HTML heatmap page. */
import { writeFileSync } from "node:fs";
import { loadModel, type Prompt } from "../../api/engine.js";
import { renderTracePage } from "../../viewer/page.js";
import { runTrace } from "../../viewer/trace-run.js";
import { MODEL_OPTIONS, SAMPLING_OPTIONS, loadOptions, parse, samplingOptions } from "../args.js";
import { SKIP_OPTIONS, skipFromFlags } from "../skip-flags.js";
import { SKIP_FLAGS } from "../../skip/flags.js";

export const TRACE_HELP = `ffnskip trace [--model M] [skip flags] [generation options] "prompt" --html out.html
  Generate with per-layer FFN decisions recorded and write an HTML page (no external resources):
  a tokens × layers heatmap of FFN cosines with skipped FFNs marked, the text with each token's
  skip count, and the run's skip ratio and speed.
  --html FILE            where to write the page (required)
  --chat                 wrap the prompt as a user message in the model's chat template
  --temperature T  --top-k K  --top-p P  --min-p P  --seed S  --max-tokens N (default 64)  --stop S
  --skip METHOD ...      skipping (see 'ffnskip generate --help');  --skip-profile FILE`;

export async function traceCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, {
    ...MODEL_OPTIONS,
    ...SAMPLING_OPTIONS,
    ...SKIP_OPTIONS,
    html: { type: "string" },
    chat: { type: "boolean" },
  });
  if (v.help) {
    process.stdout.write(TRACE_HELP + "\n");
    return 0;
  }
  if (positionals.length !== 1) throw new Error(`trace takes one prompt argument (quote it), got ${positionals.length}`);
  const out = v.html as string | undefined;
  if (!out) throw new Error("trace needs --html FILE (where to write the page)");
  const sampling = samplingOptions(v);
  sampling.maxTokens ??= 64;
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  try {
    const prompt: Prompt = v.chat ? { messages: [{ role: "user", content: positionals[0] }] } : positionals[0];
    const { policy } = skipFromFlags({ ...v, trace: false }, engine);
    const settings: Record<string, unknown> = { chat: !!v.chat };
    for (const [k, x] of Object.entries(sampling)) if (x !== undefined) settings[k] = x;
    for (const f of SKIP_FLAGS) if (v[f] !== undefined) settings[f] = v[f];
    const view = await runTrace(engine, prompt, { ...sampling, skip: policy }, { settings });
    writeFileSync(out, renderTracePage(view));
    const k = view.skip,
      s = view.stats;
    process.stderr.write(
      `wrote ${out}: ${s.generated_tokens} tokens × ${view.nLayers} layers, skip ${k.method} ${(k.ratio * 100).toFixed(1)}% ` +
        `(${k.skipped_ffn}/${k.total_ffn} FFNs), decode ${s.decode_tok_per_s.toFixed(1)} tok/s\n`,
    );
    return 0;
  } finally {
    await engine.dispose();
  }
}
