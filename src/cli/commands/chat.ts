/** `ffnskip chat`: an interactive conversation through the model's chat template. */
import { createInterface } from "node:readline";
import { loadModel, type Engine, type SkipSpec } from "../../api/engine.js";
import type { ChatMessage } from "../../generate/chat-template.js";
import type { GenerateResult } from "../../generate/generate.js";
import type { SkipConfig } from "../../skip/config.js";
import { MODEL_OPTIONS, SAMPLING_OPTIONS, loadOptions, parse, samplingOptions } from "../args.js";
import { SKIP_OPTIONS, skipConfigFromArgs, skipFromFlags } from "../skip-flags.js";

export const CHAT_HELP = `ffnskip chat [--model M] [--system S] [sampling options] [skip flags]
  Interactive chat (also reads piped input, one message per line). Commands:
${slashHelp("    ")}`;

function slashHelp(indent: string): string {
  return [
    "/skip METHOD [knobs]   switch skipping, e.g. /skip ffn-skip --tau 0.9 --k 2  (or tau=0.9 k=2)",
    "/skip off              dense again;  /skip  shows the current setting",
    "/stats                 last turn's tokens, skip ratio and speed",
    "/reset                 forget the conversation",
    "/help                  this list",
    "/quit                  leave (also /exit, Ctrl-D)",
  ]
    .map((l) => indent + l)
    .join("\n");
}

function describe(c: SkipConfig | null): string {
  if (!c) return "as given on the command line";
  return Object.entries(c)
    .map(([k, v]) => (k === "method" ? String(v) : `${k}=${Array.isArray(v) ? v.join(",") : v}`))
    .join(" ");
}

/** `/skip ffn-skip --tau 0.9 k=2` → a validated config (throws with the reason). */
function parseSkipCommand(args: string[], engine: Engine): SkipConfig {
  const argv = ["--skip", args[0], ...args.slice(1).flatMap((a) => (a.startsWith("--") ? [a] : /^[a-z-]+=/.test(a) ? ["--" + a] : [a]))];
  const config = skipConfigFromArgs(argv, engine.config.nLayers);
  engine.policy(config); // validate against the model now, not at the next turn
  return config;
}

export async function chatCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(
    argv,
    {
      ...MODEL_OPTIONS,
      ...SAMPLING_OPTIONS,
      ...SKIP_OPTIONS,
      system: { type: "string" },
    },
    false,
  );
  if (v.help) {
    process.stdout.write(CHAT_HELP + "\n");
    return 0;
  }
  if (positionals.length) throw new Error("chat takes no prompt argument; type messages after it starts");
  const sampling = samplingOptions(v);
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  const tty = !!process.stdin.isTTY;
  const out = (s: string) => process.stdout.write(s);
  try {
    engine.template(); // fail now when the model has no chat template
    skipFromFlags(v, engine); // validate the flags
    let override: SkipConfig | null = null;
    const skipNow = (): SkipSpec => (override ? engine.policy(override) : skipFromFlags(v, engine).policy);
    const system: ChatMessage[] = v.system ? [{ role: "system", content: v.system as string }] : [];
    let history: ChatMessage[] = [...system];
    let last: GenerateResult | null = null;
    let current: AbortController | null = null;

    const rl = createInterface({ input: process.stdin, output: tty ? process.stdout : undefined, terminal: tty, prompt: "you> " });
    rl.on("SIGINT", () => {
      // Ctrl-C stops the reply being written; a second one at the prompt leaves
      if (current) current.abort();
      else rl.close();
    });
    if (tty) {
      out(`chatting with ${engine.path.replace(/^.*[\\/]/, "")} — /help for commands\n`);
      rl.prompt();
    }

    for await (const raw of rl) {
      const line = raw.trim();
      if (line === "") {
        if (tty) rl.prompt();
        continue;
      }
      if (line.startsWith("/")) {
        const [cmd, ...args] = line.split(/\s+/);
        if (cmd === "/quit" || cmd === "/exit") break;
        try {
          switch (cmd) {
            case "/help":
              out(slashHelp("") + "\n");
              break;
            case "/reset":
              history = [...system];
              last = null;
              out("[conversation reset]\n");
              break;
            case "/stats":
              if (!last) {
                out("[no turn yet]\n");
                break;
              }
              out(
                `[${last.stats.generated_tokens} tokens, ${last.finish_reason} | prompt ${last.stats.prompt_tokens} tok at ${last.stats.prompt_tok_per_s.toFixed(1)} tok/s | ` +
                  `decode ${last.stats.decode_tok_per_s.toFixed(1)} tok/s | skip ${last.skip.method} ${(last.skip.ratio * 100).toFixed(1)}% (${last.skip.skipped_ffn}/${last.skip.total_ffn} FFNs)]\n`,
              );
              break;
            case "/skip":
              if (args.length === 0) out(`[skip: ${describe(override)}]\n`);
              else {
                override = args[0] === "off" ? { method: "none" } : parseSkipCommand(args, engine);
                out(`[skip: ${describe(override)}]\n`);
              }
              break;
            default:
              out(`[unknown command ${cmd}; /help lists them]\n`);
          }
        } catch (e) {
          out(`[error: ${(e as Error).message}]\n`);
        }
        if (tty) rl.prompt();
        continue;
      }
      const messages: ChatMessage[] = [...history, { role: "user", content: raw }];
      current = new AbortController();
      try {
        if (tty) out("bot> ");
        const it = engine.stream({ messages }, { ...sampling, skip: skipNow(), signal: current.signal });
        let r = await it.next();
        while (!r.done) {
          out(r.value);
          r = await it.next();
        }
        last = r.value;
        out("\n");
        // a reply cut short by Ctrl-C is kept as far as it got, so the history matches what was shown
        history = [...messages, { role: "assistant", content: last.text }];
      } catch (e) {
        out(`\n[error: ${(e as Error).message}${/context/.test((e as Error).message) ? " — /reset starts over" : ""}]\n`);
      } finally {
        current = null;
      }
      if (tty) rl.prompt();
    }
    rl.close();
    return 0;
  } finally {
    await engine.dispose();
  }
}
