import { test } from "node:test";
import assert from "node:assert/strict";
import { MODEL_OPTIONS, loadOptions, parse } from "./args.js";

test("--kv-type selects the KV cache element type; anything but f16 or f32 is refused", () => {
  const opts = (argv: string[]) => loadOptions(parse(argv, MODEL_OPTIONS).values);
  assert.equal(opts([]).kvType, undefined); // the engine's default: f16
  assert.equal(opts(["--kv-type", "f32"]).kvType, "f32");
  assert.equal(opts(["--kv-type", "f16", "--ctx", "512"]).kvType, "f16");
  assert.throws(() => opts(["--kv-type", "q8_0"]), /--kv-type must be f16 or f32, got "q8_0"/);
});
