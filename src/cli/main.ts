/** The `ffnskip` command: one subcommand per job. */
import { generateCommand, GENERATE_HELP } from "./commands/generate.js";
import { perplexityCommand, PERPLEXITY_HELP } from "./commands/perplexity.js";
import { inspectCommand, INSPECT_HELP } from "./commands/inspect.js";
import { pullCommand, PULL_HELP } from "./commands/pull.js";
import { benchCommand, BENCH_HELP } from "./commands/bench.js";
import { profileCommand, PROFILE_HELP } from "./commands/profile.js";
import { calibrateCommand, CALIBRATE_HELP } from "./commands/calibrate.js";
import { evalCommand, EVAL_HELP } from "./commands/eval.js";
import { sweepCommand, SWEEP_HELP } from "./commands/sweep.js";
import { serveCommand, SERVE_HELP } from "./commands/serve.js";
import { skipHelp } from "./skip-flags.js";
import { chatCommand, CHAT_HELP } from "./commands/chat.js";
import { traceCommand, TRACE_HELP } from "./commands/trace.js";

type Command = { run: (argv: string[]) => Promise<number>; help: string };

const COMMANDS: Record<string, Command> = {
  generate: { run: generateCommand, help: GENERATE_HELP },
  perplexity: { run: perplexityCommand, help: PERPLEXITY_HELP },
  inspect: { run: inspectCommand, help: INSPECT_HELP },
  pull: { run: pullCommand, help: PULL_HELP },
  bench: { run: benchCommand, help: BENCH_HELP },
  profile: { run: profileCommand, help: PROFILE_HELP },
  calibrate: { run: calibrateCommand, help: CALIBRATE_HELP },
  eval: { run: evalCommand, help: EVAL_HELP },
  sweep: { run: sweepCommand, help: SWEEP_HELP },
  serve: { run: serveCommand, help: SERVE_HELP },
  chat: { run: chatCommand, help: CHAT_HELP },
  trace: { run: traceCommand, help: TRACE_HELP },
};

const USAGE = `ffnskip — LLM inference with FFN-SkipLLM input-adaptive FFN skipping

usage: ffnskip <command> [options]   (ffnskip <command> --help for its options)

commands:
${Object.entries(COMMANDS)
  .map(([k, c]) => `  ${k.padEnd(11)} ${c.help.split("\n")[0]}`)
  .join("\n")}`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    const topic = rest[0] && COMMANDS[rest[0]];
    process.stdout.write((rest[0] === "skip" ? skipHelp() : topic ? topic.help : USAGE) + "\n");
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) throw new Error(`unknown command "${cmd}"; commands: ${Object.keys(COMMANDS).join(", ")}`);
  return c.run(rest);
}
