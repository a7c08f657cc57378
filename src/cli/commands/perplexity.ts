/** `ffnskip perplexity`: teacher-forced scoring of the first N tokens of a file. */
import { readFileSync } from "node:fs";
import { loadModel } from "../../api/engine.js";
import { MODEL_OPTIONS, loadOptions, num, parse } from "../args.js";
import { SKIP_OPTIONS, skipFromFlags } from "../skip-flags.js";

export const PERPLEXITY_HELP = `ffnskip perplexity --model M --file F [--max-tokens N] [--skip METHOD ...] [--json]
  Scores the first N tokens of F (BOS first when the model adds one).
  --json prints {"ppl", "n", "tokens", "argmax", "skip"}`;

export async function perplexityCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    argv,
    {
      ...MODEL_OPTIONS,
      ...SKIP_OPTIONS,
      file: { type: "string", short: "f" },
      "max-tokens": { type: "string", short: "n" },
    },
    false,
  );
  if (v.help) {
    process.stdout.write(PERPLEXITY_HELP + "\n");
    return 0;
  }
  void positionals;
  if (!v.file) throw new Error("perplexity needs --file F (a text file to score)");
  let text: string;
  try {
    text = readFileSync(v.file as string, "utf8");
  } catch (e) {
    throw new Error(`cannot read --file ${v.file}: ${(e as Error).message}`);
  }
  const maxTokens = num(v, "max-tokens", true);
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  try {
    const { policy } = skipFromFlags(v, engine);
    const t0 = performance.now();
    const r = engine.perplexity(text, { maxTokens, skip: policy });
    const ms = performance.now() - t0;
    const skip = policy.stats();
    if (v.json) {
      process.stdout.write(JSON.stringify({ ppl: r.ppl, n: r.n, tokens: r.tokens, argmax: r.argmax, skip, ms }) + "\n");
    } else {
      process.stdout.write(
        `perplexity ${r.ppl.toFixed(4)} over ${r.n} predictions (${r.tokens.length} tokens, ${(ms / 1000).toFixed(1)} s; skip ${skip.method} ${(skip.ratio * 100).toFixed(1)}%)\n`,
      );
    }
    return 0;
  } finally {
    await engine.dispose();
  }
}
