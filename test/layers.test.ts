/**
 * The architecture as a test: src/ folders form layers, and an import may only
 * run down (a folder imports folders below it, never above); and no module
 * under src/ exists only for tests (test helpers live in test/helpers).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./helpers/paths.js";

/** Lowest first. A folder may import only folders listed before it. */
const LAYERS = [
  "util",
  "quant",
  "gguf",
  "safetensors",
  "tokenizer",
  "kernels",
  "skip",
  "model",
  "models",
  "generate",
  "api",
  "eval",
  "viewer",
  "server",
  "cli",
];
/** Modules nothing imports because they are entry points: the package, the CLI, the worker threads. */
const ENTRIES = ["src/index.ts", "src/cli/main.ts", "src/kernels/pool-worker.ts", "src/gguf/read-worker.ts"];

function files(dir: string, exts = [".ts"]): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && exts.some((x) => e.name.endsWith(x)))
    .map((e) => relative(ROOT, join(e.parentPath ?? (e as unknown as { path: string }).path, e.name)));
}
const isTest = (f: string) => f.endsWith(".test.ts");
/** Relative imports of a file, as repository paths of .ts files. */
function imports(file: string): string[] {
  const src = readFileSync(join(ROOT, file), "utf8");
  return [...src.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)].map((m) =>
    relative(ROOT, resolve(ROOT, dirname(file), m[1])).replace(/\.js$/, ".ts"),
  );
}
const SRC = files("src").filter((f) => !f.startsWith("src/kernels/assembly/") && !f.endsWith(".d.ts"));

test("imports run only from a higher layer of src/ to a lower one", () => {
  const bad: string[] = [];
  for (const f of SRC.filter((f) => !isTest(f))) {
    const from = f.split("/")[1];
    if (from.endsWith(".ts")) continue; // src/index.ts: the package's face may import anything
    assert.ok(LAYERS.includes(from), `${f}: folder src/${from} is not in the layer list`);
    for (const to of imports(f).filter((p) => p.startsWith("src/"))) {
      const dest = to.split("/")[1];
      if (dest !== from && LAYERS.indexOf(dest) > LAYERS.indexOf(from)) bad.push(`${f} imports ${to} (${from} is below ${dest})`);
    }
  }
  assert.deepEqual(bad, []);
});

test("no module under src/ exists only for tests", () => {
  const users = [...SRC.filter((f) => !isTest(f)), ...files("bench"), ...files("scripts"), ...files("bin", [".js"])];
  const used = new Set(users.flatMap((f) => imports(f).map((p) => p.replace(/^dist\//, ""))));
  const testOnly = SRC.filter((f) => !isTest(f) && !ENTRIES.includes(f) && !used.has(f));
  assert.deepEqual(testOnly, [], "imported by nothing but tests (move to test/helpers) or by nothing at all (delete)");
});
