import { test } from "node:test";
import assert from "node:assert/strict";
import { KNOBS, METHOD_KNOBS, SKIP_METHODS } from "../skip/config.js";
import { skipHelp } from "./skip-flags.js";
import { main } from "./main.js";

test("`ffnskip help skip` lists every method with its knobs and every knob's meaning", async () => {
  const help = skipHelp();
  for (const m of SKIP_METHODS) {
    const line = help.split("\n").find((l) => l.trimStart().startsWith(`${m} `));
    assert.ok(line, `method ${m} listed`);
    for (const k of METHOD_KNOBS[m]) assert.match(line, new RegExp(`--${KNOBS[k].flag}\\b`), `${m} takes --${KNOBS[k].flag}`);
  }
  for (const k of Object.values(KNOBS)) assert.ok(help.includes(`--${k.flag}`) && help.includes(k.doc), `knob --${k.flag} explained`);
  let out = "";
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => {
    out += s;
    return true;
  }) as typeof process.stdout.write;
  try {
    assert.equal(await main(["help", "skip"]), 0);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(out, `${help}\n`);
});
