/**
 * The test reporter `npm test` uses: node's TAP output, plus one line before
 * the closing counts that lists every skipped test with its reason, so a run
 * that skipped something says so where it cannot be missed:
 *
 *   # skipped tests (2): missing /x/model.gguf (…) — tokenizer parity …, greedy …
 *
 * (Under CI=true nothing is skipped for a missing model or browser: those
 * tests fail instead; see test/helpers/paths.ts.)
 */
import { tap } from "node:test/reporters";

interface Event {
  type: string;
  data: { name?: string; nesting?: number; skip?: string | boolean; message?: string; file?: string };
}

async function* withSkipLine(source: AsyncIterable<Event>): AsyncGenerator<Event> {
  const byReason = new Map<string, string[]>();
  let said = false;
  for await (const ev of source) {
    const skip = ev.data?.skip;
    if ((ev.type === "test:pass" || ev.type === "test:fail") && skip !== undefined && skip !== false) {
      const reason = typeof skip === "string" && skip ? skip : "no reason given";
      byReason.set(reason, [...(byReason.get(reason) ?? []), ev.data.name ?? "?"]);
    }
    // the runner's closing counts start with "tests N": say what was skipped just before them
    if (!said && ev.type === "test:diagnostic" && ev.data.nesting === 0 && /^tests \d+$/.test(ev.data.message ?? "")) {
      said = true;
      yield { type: "test:diagnostic", data: { nesting: 0, message: skipLine(byReason) } };
    }
    yield ev;
  }
  if (!said) process.stdout.write(`# ${skipLine(byReason)}\n`);
}

function skipLine(byReason: Map<string, string[]>): string {
  const n = [...byReason.values()].reduce((s, names) => s + names.length, 0);
  if (n === 0) return "skipped tests: none";
  return `skipped tests (${n}): ` + [...byReason].map(([reason, names]) => `${reason} — ${names.join(", ")}`).join("; ");
}

export default async function* reporter(source: AsyncIterable<Event>): AsyncGenerator<string> {
  yield* tap(withSkipLine(source) as never) as AsyncGenerator<string>;
}
