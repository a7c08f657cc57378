/**
 * benchmarkInterleaved (src/api/bench.ts): configs that decode side by side, token by token in their own KV cache
 * slots, must each decode exactly what they decode alone. Otherwise the speed it measures would be of other work:
 * a slot mix-up would show as different skip decisions, since ffn-skip decides from the hidden states.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { loadModel, type Engine } from "./engine.js";
import { benchmark, benchmarkInterleaved } from "./bench.js";
import type { SkipConfig } from "../skip/config.js";
import { SMOLLM2, missing, skipOrFail } from "../../test/helpers/paths.js";

let engine: Engine | undefined;
before(async () => {
  if (missing(SMOLLM2)) return;
  engine = await loadModel(SMOLLM2, { threads: 1, ctx: 64, parallel: 3 });
});
after(async () => {
  await engine?.dispose();
});

const SKIP: SkipConfig = { method: "ffn-skip", warmup: 2, coldStart: 3, coldEnd: 3, tau: 0.9, k: 1 };
const RANDOM: SkipConfig = { method: "random", warmup: 2, coldStart: 3, coldEnd: 3, k: 2, seed: 7 };

test("interleaved configs each decode what they decode alone", (t) => {
  if (skipOrFail(t, missing(SMOLLM2))) return;
  const e = engine!;
  const o = { promptTokens: 12, genTokens: 24 };
  const side = benchmarkInterleaved(e, { ...o, skips: [undefined, SKIP, RANDOM] });
  const alone = [undefined, SKIP, RANDOM].map((skip) => benchmark(e, { ...o, skip }));
  assert.equal(side.length, 3);
  for (let c = 0; c < 3; c++) {
    assert.deepEqual(side[c].skip, alone[c].skip, `config ${c}: skip decisions differ from its run alone`);
    assert.equal(side[c].weight_bytes_per_token, alone[c].weight_bytes_per_token);
    assert.ok(side[c].decode_ms > 0);
  }
  assert.equal(side[0].skip.skipped_ffn, 0);
  assert.ok(side[1].skip.skipped_ffn > 0, "the ffn-skip config skipped nothing: the test would not see a slot mix-up");
});

test("interleaving more configs than KV cache slots is refused, naming the load option", (t) => {
  if (skipOrFail(t, missing(SMOLLM2))) return;
  assert.throws(
    () => benchmarkInterleaved(engine!, { promptTokens: 8, genTokens: 2, skips: [undefined, SKIP, RANDOM, SKIP] }),
    /4 configs need 4 KV cache slots, the model has 3 \(load with parallel: 4\)/,
  );
});

test("interleaved turns of several tokens decode the same as turns of one", (t) => {
  if (skipOrFail(t, missing(SMOLLM2))) return;
  const o = { promptTokens: 12, genTokens: 10, skips: [undefined, SKIP] };
  const one = benchmarkInterleaved(engine!, o);
  const four = benchmarkInterleaved(engine!, { ...o, block: 4 });
  for (let c = 0; c < 2; c++) assert.deepEqual(four[c].skip, one[c].skip);
  assert.throws(() => benchmarkInterleaved(engine!, { ...o, block: 0 }), /block must be an integer ≥ 1, got 0/);
});
