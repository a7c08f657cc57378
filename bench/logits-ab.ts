/**
 * Two built checkouts' logits compared bit for bit: each loads the same models, runs a prompt of 18 tokens (all
 * positions' logits) and 8 decode steps; prints how many logits are identical and the largest difference. For
 * changes meant to keep every bit (kernels, layouts).
 *
 *   node dist/bench/logits-ab.js --a /path/to/other/checkout --b . [--models smollm2-135m-instruct,gemma3-270m,FILE]
 *     [--threads 2]
 */
import { parseArgs } from "node:util";
import { checkoutLoadModel } from "./checkout.js";

const { values: v } = parseArgs({
  options: {
    a: { type: "string" },
    b: { type: "string" },
    models: { type: "string", default: "smollm2-135m-instruct,gemma3-270m" },
    threads: { type: "string", default: "2" },
  },
});
if (!v.a || !v.b) throw new Error("usage: logits-ab.js --a DIR --b DIR [--models M1,M2] [--threads 2]");
const [loadA, loadB] = [await checkoutLoadModel(v.a), await checkoutLoadModel(v.b)];
let differ = 0;
for (const model of v.models.split(",")) {
  const opts = { threads: Number(v.threads), ctx: 256 };
  const [ea, eb] = [await loadA(model, opts), await loadB(model, opts)];
  const toks = ea.tokenizer.encode("The history of the city begins with a small settlement on the river, where traders met");
  const run = (e: typeof ea): Float32Array[] => {
    const out = [e.model.forward(toks, 0, { policy: e.policy(), phase: "prompt", logits: "all" })!.slice()];
    for (let t = 0; t < 8; t++)
      out.push(e.model.forward([toks[t]], toks.length + t, { policy: e.policy(), phase: "decode", genIndex: t, logits: "last" })!.slice());
    return out;
  };
  const [ra, rb] = [run(ea), run(eb)];
  let same = 0,
    total = 0,
    maxDiff = 0;
  ra.forEach((x, i) => {
    for (let j = 0; j < x.length; j++, total++) {
      if (Object.is(x[j], rb[i][j])) same++;
      maxDiff = Math.max(maxDiff, Math.abs(x[j] - rb[i][j]));
    }
  });
  if (same !== total) differ++;
  console.log(`${model.split("/").pop()}: ${same} of ${total} logits identical, largest difference ${maxDiff}`);
  await ea.dispose();
  await eb.dispose();
}
process.exitCode = differ ? 1 : 0;
