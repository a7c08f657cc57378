/**
 * The byte bound of FFN skipping with and without ffn-skip-linear's stand-in:
 * decode weight bytes per token ÷ the bytes left when a share s of the FFNs is
 * skipped — the stand-in's maps (rank r; stored f16 in the side file, read as
 * f32 at run time, runBytes) are read for every skipped FFN, so they are added
 * back. Counts only, no timing:
 *
 *   node dist/bench/stand-in-bytes.js [--models smollm2-135m-instruct,gemma3-270m] [--rank 32] [--ratios 0.25,0.35]
 */
import { parseArgs } from "node:util";
import { loadModel } from "../src/api/engine.js";
import { runBytes } from "../src/skip/linear-kernel.js";

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { models: { type: "string" }, rank: { type: "string" }, ratios: { type: "string" } } });
  const rank = Number(v.rank ?? 32);
  const ratios = (v.ratios ?? "0.25,0.35").split(",").map(Number);
  for (const name of (v.models ?? "smollm2-135m-instruct,gemma3-270m").split(",")) {
    const e = await loadModel(name, { threads: 1, ctx: 64 });
    try {
      const w = e.weightBytes,
        L = e.config.nLayers;
      const ffn = w.ffnPerLayer[L >> 1],
        map = runBytes(e.config.dim, rank);
      const bound = (s: number, extra: number) => w.total / (w.total - s * L * (ffn - extra));
      const cols = ratios.map((s) => `${s}: ×${bound(s, 0).toFixed(3)} vs ×${bound(s, map).toFixed(3)}`).join("; ");
      process.stdout.write(
        `${name}: ${w.total} B/token, FFN ${ffn} B/layer, rank-${rank} map ${map} B read as f32 (${((100 * map) / ffn).toFixed(1)}%); byte bound ffn-skip vs ffn-skip-linear at ${cols}\n`,
      );
    } finally {
      await e.dispose();
    }
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});
