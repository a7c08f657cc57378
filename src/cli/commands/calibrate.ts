/**
 * `ffnskip calibrate`: search FFN-SkipLLM's cold regions, τ and k so the
 * achieved skip ratio on calibration text meets a target while staying
 * closest to the dense model (teacher-forced next-token agreement), and
 * write a skip profile JSON.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { loadModel } from "../../api/engine.js";
import { CALIB_PROMPTS, buildCalibSet, collectFFNPairs, layerDamage, loadPrompts, measure } from "../../eval/calib.js";
import { fileSha256 } from "../../eval/provenance.js";
import { calibrate, defaultGrid, type CalibrateResult, type Evaluator } from "../../skip/calibrate.js";
import { calibrateGuarded } from "../../skip/calibrate-guarded.js";
import { calibrateLayerwise, sensitivities } from "../../skip/calibrate-layerwise.js";
import { calibrateSparse, sortedNeuronOrder } from "../../eval/calib-sparse.js";
import { writeNeuronOrder } from "../../skip/neuron-order.js";
import { fitStandIn, standInShare } from "../../skip/calibrate-linear.js";
import { loadStandIn, mapBytes, writeStandIn } from "../../skip/linear.js";
import { GUARD_DEFAULTS } from "../../skip/config.js";
import { profileToJSON } from "../../skip/skip-profile.js";
import { pruneStats } from "../../eval/calib-prune.js";
import { choosePrune, pruneScores } from "../../skip/calibrate-prune.js";
import { compactBytes } from "../../model/compact-ffn.js";
import { writeKeep } from "../../skip/neuron-keep.js";
import { PrunePolicy } from "../../skip/prune.js";
import { MODEL_OPTIONS, loadOptions, num, parse } from "../args.js";

export const CALIBRATE_HELP = `ffnskip calibrate [--model M] --target R [--data F] [--prompts N] [--tokens T] [--warmup W] [--max-evals E] [--out FILE] [--json]
  Finds FFN-SkipLLM knobs (cold-start, cold-end, k, tau) reaching skip ratio R on calibration text (F, or built-in
  generic prompts) with the highest next-token agreement with dense, and writes a skip profile (use it with
  --skip-profile FILE).
  --method ffn-skip-guarded [--guard N --hold N --min-conf P --stand-in 0|1|2 --cold C --free-tokens N]: this project's
  guarded method (docs/method.md): the guards are fixed, tau is bisected per k ∈ {1, 2} until the ratio on free greedy
  generation of the calibration prompts (N tokens each, default 64) meets the target; agreement is teacher-forced.
  --method ffn-skip-linear [--rank R --ridge A --fit-tokens N --fit-temp T --held-out P --cold C --k 1,2]: FFN-SkipLLM with a low-rank
  linear stand-in for skipped FFNs (docs/method.md): dense FFN input/output pairs over the calibration prompts and their
  dense continuations (N tokens, sampled at temperature T, default 256 and 0.7) give per middle layer a rank-R ridge fit
  (default 32, ridge 0.01), written next to --out as .standin (or --stand-in-file F: reuse maps fitted before); then
  tau is bisected per k (teacher-forced ratio), or --tau T --k K fixes them (e.g. ffn-skip's profile's, to add only the
  stand-in to its decisions).
  --method ffn-skip-layerwise [--cold C --k 1 --alpha A --damage-tokens N --damage-temp T | --weights-from PROFILE]: FFN-SkipLLM
  with one threshold per layer (docs/method.md): on the calibration prompts and the dense model's sampled continuations
  (N tokens, temperature T; default 64, 0.7) every middle layer's FFN is skipped alone at every token, giving its
  next-token KL per unit of cosine gap w_l; taus[l] = 1 − c·(mean w / w_l)^A (default A 1) with c bisected to the target
  (teacher-forced ratio). --weights-from reuses the w of a profile made before (e.g. for another target).
  --method ffn-sparse: FFN neuron sparsity (docs/method.md): per layer, neurons whose |act(gate)| is below a threshold
  are dropped; the thresholds are the same quantile of each layer's |act(gate)| over the calibration prompts' dense
  continuations, the quantile bisected until the share of FFN weight bytes saved (teacher-forced) meets the target.
  --neuron-group 4 drops them in groups of 4 in file order instead (on the group's mean |act(gate)|): the form the
  kernels read only the kept groups of, on Q4_0/Q4_1 weights, so it is faster than dense where the masked form is not.
  --neuron-group 4 --neuron-order sorted: the groups follow a neuron order instead, each 32-neuron block of every layer
  sorted by how often its neurons are kept neuron by neuron at the target (calibrated first), written next to --out as
  .order; the kernels read such groups too (they permute their copies of the weights within blocks).
  --method ffn-prune [--fit-tokens N --fit-temp T --allocation global|uniform]: decode-time static neuron pruning
  (docs/method.md): each neuron's importance E[h_i²]·‖W2[:, i]‖² (relative to the residual's energy) on the calibration
  prompts and the dense model's sampled continuations (N tokens, temperature T; default 256 and 0.7); the least
  important go, ranked over all layers (or the same number per layer), in whole blocks of 32, until the share of FFN
  weight bytes the compact copies do not read meets the target. The kept neurons go next to --out as .keep.
  --method ffn-skip-compact --keep-file F [--cold C --cold-end E --k 1,2 --tau-skip S]: FFN-SkipLLM whose skipped FFNs run the compact copies
  of keep file F (from --method ffn-prune) instead of nothing; tau is bisected per k (teacher-forced byte ratio).
  --tau-skip S fixes the tier above which a window skips its FFNs outright (docs/method.md).
  --cold-end E: the last E layers run whole (default: C, as the first C).`;

/** How each method's profile describes itself. */
const METHOD_DESCRIPTIONS: Record<string, string> = {
  "ffn-skip": "FFN-SkipLLM",
  "ffn-skip-guarded": "FFN-SkipLLM with guards (docs/method.md)",
  "ffn-skip-linear": "FFN-SkipLLM with a low-rank linear stand-in (docs/method.md)",
  "ffn-skip-layerwise": "FFN-SkipLLM with per-layer thresholds (docs/method.md)",
  "ffn-sparse": "FFN neuron sparsity on the gate (docs/method.md), share of FFN bytes saved",
  "ffn-prune": "decode-time static FFN neuron pruning (docs/method.md), share of FFN bytes saved",
  "ffn-skip-compact": "FFN-SkipLLM whose skipped FFNs run compact copies (docs/method.md)",
};

export async function calibrateCommand(argv: string[]): Promise<number> {
  const { values: v } = parse(
    argv,
    {
      ...MODEL_OPTIONS,
      target: { type: "string" },
      data: { type: "string" },
      prompts: { type: "string" },
      tokens: { type: "string" },
      warmup: { type: "string" },
      "max-evals": { type: "string" },
      out: { type: "string" },
      method: { type: "string" },
      guard: { type: "string" },
      hold: { type: "string" },
      "min-conf": { type: "string" },
      "stand-in": { type: "string" },
      cold: { type: "string" },
      "cold-end": { type: "string" },
      "free-tokens": { type: "string" },
      rank: { type: "string" },
      ridge: { type: "string" },
      "fit-tokens": { type: "string" },
      "fit-temp": { type: "string" },
      "stand-in-file": { type: "string" },
      "held-out": { type: "string" },
      alpha: { type: "string" },
      "damage-tokens": { type: "string" },
      "damage-temp": { type: "string" },
      "weights-from": { type: "string" },
      k: { type: "string" },
      tau: { type: "string" },
      "neuron-group": { type: "string" },
      "neuron-order": { type: "string" },
      allocation: { type: "string" },
      "keep-file": { type: "string" },
      "tau-skip": { type: "string" },
    },
    false,
  );
  const method = (v.method as string | undefined) ?? "ffn-skip";
  const METHODS = Object.keys(METHOD_DESCRIPTIONS);
  if (!METHODS.includes(method)) throw new Error(`calibrate: --method must be one of ${METHODS.join(", ")}, got "${method}"`);
  if (v.help) {
    process.stdout.write(CALIBRATE_HELP + "\n");
    return 0;
  }
  const target = num(v, "target");
  if (target === undefined || !(target > 0 && target < 1)) throw new Error("calibrate needs --target R with 0 < R < 1 (e.g. 0.25)");
  const nPrompts = num(v, "prompts", true) ?? 6,
    nTokens = num(v, "tokens", true) ?? 32;
  const warmup = num(v, "warmup", true) ?? 2,
    maxEvals = num(v, "max-evals", true) ?? 60;
  const texts = v.data ? loadPrompts(v.data as string, nPrompts) : CALIB_PROMPTS;
  const engine = await loadModel(v.model as string | undefined, loadOptions(v));
  try {
    const L = engine.config.nLayers;
    const t0 = performance.now();
    const set = await buildCalibSet(engine, Math.min(nPrompts, texts.length), nTokens, texts);
    let evals = 0;
    const evaluate: Evaluator = async (config) => {
      const m = measure(engine, set, engine.policy(config));
      evals++;
      process.stderr.write(
        `calibrate: #${evals} ${JSON.stringify(config)} → ratio ${(m.ratio * 100).toFixed(1)}%, agreement ${(m.agreement * 100).toFixed(1)}%\n`,
      );
      return m;
    };
    let r: CalibrateResult;
    let extra: Record<string, unknown> = {};
    if (method === "ffn-prune") {
      if (!v.out) throw new Error("calibrate --method ffn-prune needs --out FILE (the kept neurons are written next to it)");
      const allocation = (v.allocation as string | undefined) ?? "global";
      if (allocation !== "global" && allocation !== "uniform")
        throw new Error(`calibrate: --allocation must be global or uniform, got "${allocation}"`);
      const fitTokens = num(v, "fit-tokens", true) ?? 256,
        fitTemp = num(v, "fit-temp") ?? 0.7;
      const seqs: number[][] = [];
      for (const [i, ids] of set.prompts.entries()) {
        const g = await engine.generate({ tokens: ids }, { temperature: fitTemp, seed: 1 + i, maxTokens: fitTokens, ignoreEog: true });
        seqs.push([...ids, ...g.tokens]);
      }
      const st = pruneStats(engine, seqs);
      const layers = engine.model.weights.layers;
      const choice = choosePrune(
        pruneScores(st.hsq, st.col2, st.outEnergy, st.residEnergy),
        target,
        (l, kept) => compactBytes(layers[l], kept),
        allocation,
      );
      const keepFile = (v.out as string).replace(/\.json$/, "") + ".keep";
      mkdirSync(dirname(keepFile), { recursive: true });
      writeKeep(keepFile, choice.keeps, engine.config.ffnDim);
      process.stderr.write(`calibrate: wrote ${keepFile}; bytes saved ${(choice.ratio * 100).toFixed(1)}% of the FFNs'\n`);
      const m = measure(engine, set, new PrunePolicy(L, { warmup, keeps: choice.keeps, ffnDim: engine.config.ffnDim }));
      process.stderr.write(
        `calibrate: teacher-forced ratio ${(m.ratio * 100).toFixed(1)}%, agreement ${(m.agreement * 100).toFixed(1)}%\n`,
      );
      const best = {
        config: { method: "ffn-prune" as const, warmup, keepFile: relative(dirname(resolve(v.out as string)), resolve(keepFile)) },
        ratio: m.ratio,
        agreement: m.agreement,
      };
      r = { best, met: Math.abs(m.ratio - target) <= 0.01, trials: [best], truncated: false };
      extra = {
        prune: {
          allocation,
          fit_tokens_per_prompt: fitTokens,
          fit_temperature: fitTemp,
          samples_per_layer: st.samples,
          kept_per_layer: choice.keeps.map((k) => k.length),
          ffn_dim: engine.config.ffnDim,
          rule: "importance E[h_i^2]*|W2[:,i]|^2 / sum over the layer * E|ffn out|^2 / E|residual|^2 (src/skip/calibrate-prune.ts)",
        },
      };
    } else if (method === "ffn-skip-compact") {
      const keepFile = v["keep-file"] as string | undefined;
      if (!keepFile) throw new Error("calibrate --method ffn-skip-compact needs --keep-file F (made by calibrate --method ffn-prune)");
      const cold = num(v, "cold", true) ?? Math.max(1, Math.round(0.1 * L));
      const coldEnd = num(v, "cold-end", true) ?? cold;
      if (cold + coldEnd >= L) throw new Error(`calibrate: cold regions ${cold} + ${coldEnd} leave no middle layer of ${L}`);
      const ks = ((v.k as string | undefined) ?? "1,2").split(",").map(Number);
      const tauSkip = num(v, "tau-skip");
      const base = { warmup, coldStart: cold, coldEnd, keepFile: resolve(keepFile), ...(tauSkip === undefined ? {} : { tauSkip }) };
      r = await calibrateGuarded({ method: "ffn-skip-compact", nLayers: L, targetRatio: target, k: ks, base, evaluate });
      // the profile names its side file relative to itself
      if (v.out) (r.best.config as { keepFile?: string }).keepFile = relative(dirname(resolve(v.out as string)), resolve(keepFile));
    } else if (method === "ffn-sparse") {
      const groupSize = num(v, "neuron-group", true) ?? 1;
      if (groupSize !== 1 && groupSize !== 4) throw new Error(`calibrate: --neuron-group must be 1 or 4, got ${groupSize}`);
      const log = (line: string) => process.stderr.write(line + "\n");
      const sorted = v["neuron-order"] as string | undefined;
      if (sorted !== undefined && sorted !== "sorted") throw new Error(`calibrate: --neuron-order takes "sorted", got "${sorted}"`);
      if (sorted && groupSize !== 4) throw new Error("calibrate: --neuron-order sorted needs --neuron-group 4");
      if (sorted && !v.out) throw new Error("calibrate: --neuron-order sorted writes its order next to --out, so it needs --out");
      let orders: Int32Array[] | undefined;
      let orderFile: string | undefined;
      if (sorted) {
        // neuron by neuron at the target first: how often each neuron is kept there decides its place in its block
        const byNeuron = calibrateSparse(engine, set, target, warmup, log, 1);
        orders = sortedNeuronOrder(engine, set, byNeuron.thresholds, warmup);
        orderFile = (v.out as string).replace(/\.json$/, "") + ".order";
        mkdirSync(dirname(orderFile), { recursive: true });
        writeNeuronOrder(orderFile, orders);
        log(`wrote ${orderFile}`);
      }
      const c = calibrateSparse(engine, set, target, warmup, log, groupSize, orders);
      const grouped = {
        ...(groupSize === 4 ? { groupSize } : {}),
        // the profile names its side file relative to itself
        ...(orderFile ? { neuronOrderFile: relative(dirname(resolve(v.out as string)), resolve(orderFile)) } : {}),
      };
      const trial = (keep: number, ratio: number, agreement: number) => ({
        config: { method: "ffn-sparse" as const, warmup, thresholds: keep === c.best.keep ? c.thresholds : [], ...grouped },
        ratio,
        agreement,
      });
      r = {
        best: trial(c.best.keep, c.best.ratio, c.best.agreement),
        met: Math.abs(c.best.ratio - target) <= 0.01,
        trials: c.trials.map((t) => trial(t.keep, t.ratio, t.agreement)),
        truncated: false,
      };
      extra = {
        sparse: {
          keep: c.best.keep,
          rule: `thresholds[l] = (1 - keep) quantile of ${groupSize === 4 ? `the mean |act(gate)| of each group of 4 neurons (${orderFile ? "along the neuron order: each 32-neuron block sorted by how often its neurons are kept at this target neuron by neuron" : "file order"})` : "|act(gate)|"} in layer l over the set's decode steps (src/skip/calibrate-sparse.ts)`,
        },
      };
    } else if (method === "ffn-skip-layerwise") {
      const cold = num(v, "cold", true) ?? Math.max(1, Math.round(0.1 * L));
      const alpha = num(v, "alpha") ?? 1;
      let w: number[];
      let source: Record<string, unknown>;
      if (v["weights-from"]) {
        // sensitivities measured before (they do not depend on the target): only c is calibrated
        const prev = JSON.parse(readFileSync(v["weights-from"] as string, "utf8")) as {
          calibrated?: { layerwise?: { w?: number[]; cold?: number } };
        };
        const lw = prev.calibrated?.layerwise;
        if (!lw?.w || lw.w.length !== L) throw new Error(`--weights-from ${v["weights-from"]}: no calibrated.layerwise.w for ${L} layers`);
        if (lw.cold !== cold) throw new Error(`--weights-from ${v["weights-from"]}: measured with cold ${lw.cold}, asked for ${cold}`);
        w = lw.w.map((x) => (x === null ? NaN : x));
        source = { reused: v["weights-from"] };
      } else {
        const damageTokens = num(v, "damage-tokens", true) ?? 64,
          damageTemp = num(v, "damage-temp") ?? 0.7;
        // the dense model's own sampled continuations of the calibration prompts (not the greedy ones agreement is measured on)
        const seqs = [];
        for (const [i, ids] of set.prompts.entries()) {
          const g = await engine.generate(
            { tokens: ids },
            { temperature: damageTemp, seed: 1 + i, maxTokens: damageTokens, ignoreEog: true },
          );
          seqs.push({ prompt: ids, cont: g.tokens });
        }
        const dmg = layerDamage(engine, seqs, {
          coldStart: cold,
          coldEnd: cold,
          warmup,
          log: (line) => process.stderr.write(`calibrate: ${line}\n`),
        });
        w = sensitivities(dmg);
        const meanOf = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
        source = {
          damage_tokens_per_prompt: damageTokens,
          damage_temperature: damageTemp,
          tokens_per_layer: dmg.gap[cold].length,
          mean_gap: dmg.gap.map((g) => (g.length ? +meanOf(g).toPrecision(4) : null)),
          mean_kl: dmg.kl.map((d) => (d.length ? +meanOf(d).toPrecision(4) : null)),
        };
        for (let l = cold; l < L - cold; l++)
          process.stderr.write(
            `calibrate: layer ${l}: mean gap ${meanOf(dmg.gap[l]).toFixed(4)}, mean KL ${meanOf(dmg.kl[l]).toFixed(4)}, w ${w[l].toFixed(3)}\n`,
          );
      }
      const ks = ((v.k as string | undefined) ?? "1").split(",").map(Number);
      const lr = await calibrateLayerwise({
        nLayers: L,
        targetRatio: target,
        evaluate,
        w,
        alpha,
        warmup,
        coldStart: cold,
        coldEnd: cold,
        k: ks,
      });
      r = lr;
      extra = {
        layerwise: {
          rule: "taus[l] = clamp(1 - c * (geomean(w) / w[l])^alpha, -1, 1); w[l] = sum KL / sum (1 - cos[l-1]) (src/skip/calibrate-layerwise.ts)",
          c: lr.best.c,
          alpha,
          cold,
          w: w.map((x) => (Number.isFinite(x) ? +x.toPrecision(6) : null)),
          ...source,
        },
      };
    } else if (method === "ffn-skip-linear") {
      if (!v.out) throw new Error("calibrate --method ffn-skip-linear needs --out FILE (the stand-in maps are written next to it)");
      const cold = num(v, "cold", true) ?? Math.max(1, Math.round(0.1 * L));
      const rank = num(v, "rank", true) ?? 32,
        ridge = num(v, "ridge") ?? 0.01,
        fitTokens = num(v, "fit-tokens", true) ?? 256,
        fitTemp = num(v, "fit-temp") ?? 0.7,
        // which prompt's samples score a fit without them (-1: none, half the fitting time)
        heldOut = num(v, "held-out") ?? 5;
      let file: string;
      if (v["stand-in-file"]) {
        // maps fitted before (for another target: they do not depend on tau) — only tau is calibrated
        file = v["stand-in-file"] as string;
        const maps = loadStandIn(file);
        if (maps.nLayers !== L) throw new Error(`--stand-in-file ${file}: maps for ${maps.nLayers} layers, the model has ${L}`);
        extra = {
          stand_in: {
            reused: file,
            rank: maps.rank,
            share_of_ffn_bytes: +standInShare(maps.dim, maps.rank, engine.weightBytes.ffnPerLayer[cold]).toFixed(4),
          },
        };
      } else {
        // the fit's text: the calibration prompts and the dense model's own sampled continuations of them
        const seqs: number[][] = [];
        for (const [i, ids] of set.prompts.entries()) {
          const g = await engine.generate({ tokens: ids }, { temperature: fitTemp, seed: 1 + i, maxTokens: fitTokens, ignoreEog: true });
          seqs.push([...ids, ...g.tokens]);
        }
        const layers = Array.from({ length: L - 2 * cold }, (_, i) => cold + i);
        const { samples, seqOf } = collectFFNPairs(engine, seqs, layers);
        const { maps, fits } = fitStandIn(samples, seqOf, L, {
          rank,
          ridge,
          heldOut: heldOut < 0 ? -1 : Math.min(heldOut, seqs.length - 1),
          log: (line) => process.stderr.write(`calibrate: ${line}\n`),
        });
        file = (v.out as string).replace(/\.json$/, "") + ".standin";
        mkdirSync(dirname(file), { recursive: true });
        writeStandIn(file, maps);
        const ffnBytes = engine.weightBytes.ffnPerLayer[cold];
        const share = standInShare(engine.config.dim, rank, ffnBytes);
        process.stderr.write(
          `calibrate: wrote ${file}: ${layers.length} maps of rank ${rank}, ${mapBytes(engine.config.dim, rank)} bytes each = ${(share * 100).toFixed(1)}% of an FFN's ${ffnBytes} weight bytes\n`,
        );
        extra = {
          stand_in: {
            rank,
            ridge,
            fit_tokens_per_prompt: fitTokens,
            fit_temperature: fitTemp,
            held_out_prompt: heldOut < 0 ? "none" : Math.min(heldOut, seqs.length - 1),
            bytes_per_layer_f16: mapBytes(engine.config.dim, rank),
            share_of_ffn_bytes: +share.toFixed(4),
            layers: fits.map((f) => ({
              layer: f.layer,
              samples: f.samples,
              ev_fit: +f.ev_fit.toFixed(4),
              ev_heldout: +f.ev_heldout.toFixed(4),
              gain_fit: +f.gain_fit.toFixed(4),
              gain_heldout: +f.gain_heldout.toFixed(4),
            })),
          },
        };
      }
      const ks = ((v.k as string | undefined) ?? "1").split(",").map(Number);
      const base = { warmup, coldStart: cold, coldEnd: cold, standInFile: resolve(file) };
      const tau = num(v, "tau");
      if (tau !== undefined) {
        // FFN-SkipLLM's own calibrated tau and k (--tau, --k): the decisions of that profile, with the stand-in added
        if (ks.length !== 1) throw new Error("calibrate --tau takes one --k");
        const config = { method: "ffn-skip-linear" as const, ...base, tau, k: ks[0] };
        const t = { config, ...(await evaluate(config)) };
        r = { best: t, met: t.ratio >= target - 0.01, trials: [t], truncated: false };
      } else r = await calibrateGuarded({ method: "ffn-skip-linear", nLayers: L, targetRatio: target, k: ks, base, evaluate });
      // the profile names its side file relative to itself
      (r.best.config as { standInFile?: string }).standInFile = relative(dirname(resolve(v.out as string)), resolve(file));
    } else if (method === "ffn-skip-guarded") {
      const cold = num(v, "cold", true) ?? Math.max(1, Math.round(0.1 * L));
      const base = {
        warmup,
        coldStart: cold,
        coldEnd: cold,
        guard: num(v, "guard", true) ?? GUARD_DEFAULTS.guard,
        hold: num(v, "hold", true) ?? GUARD_DEFAULTS.hold,
        minConf: num(v, "min-conf") ?? GUARD_DEFAULTS.minConf,
        standIn: num(v, "stand-in", true) ?? GUARD_DEFAULTS.standIn,
      };
      // the loop guard fires in free generation, where skipping causes repetition, and rarely on
      // dense teacher-forced text: the ratio is measured on free greedy generation of the same
      // prompts (--free-tokens each), agreement stays teacher-forced
      const free = num(v, "free-tokens", true) ?? 64;
      r = await calibrateGuarded({
        nLayers: L,
        targetRatio: target,
        base,
        evaluate: async (config) => {
          const m = await evaluate(config);
          let skipped = 0,
            total = 0;
          for (const ids of set.prompts) {
            const g = await engine.generate({ tokens: ids }, { temperature: 0, maxTokens: free, ignoreEog: true, skip: config });
            skipped += g.skip.skipped_ffn;
            total += g.skip.total_ffn;
          }
          const ratio = total ? skipped / total : 0;
          process.stderr.write(`calibrate:    free-generation ratio ${(ratio * 100).toFixed(1)}%\n`);
          return { ...m, ratio, teacher_forced_ratio: m.ratio };
        },
      });
    } else {
      r = await calibrate({ nLayers: L, targetRatio: target, base: { warmup }, maxEvals, grid: defaultGrid(L), evaluate });
    }
    const profile = profileToJSON({
      config: r.best.config,
      target_ratio: target,
      description: `${METHOD_DESCRIPTIONS[method]} calibrated for ${(target * 100).toFixed(0)}% FFN skip on ${engine.path.split("/").pop()}`,
      calibrated: {
        n_layers: L,
        model_sha256: fileSha256(engine.path),
        ratio: r.best.ratio,
        agreement: r.best.agreement,
        met: r.met,
        evaluations: r.trials.length,
        truncated: r.truncated,
        data: v.data ?? "built-in generic prompts (src/eval/calib.ts)",
        prompts: set.prompts.length,
        tokens_per_prompt: nTokens,
        seconds: +((performance.now() - t0) / 1000).toFixed(1),
        command: `ffnskip calibrate ${argv.join(" ")}`.trim(),
        ...extra,
      },
    });
    const text = JSON.stringify(profile, null, 2) + "\n";
    if (v.out) {
      mkdirSync(dirname(v.out as string), { recursive: true });
      writeFileSync(v.out as string, text);
      process.stderr.write(`wrote ${v.out}\n`);
    }
    process.stdout.write(
      v.json || !v.out
        ? text
        : `ratio ${(r.best.ratio * 100).toFixed(1)}% (target ${(target * 100).toFixed(0)}%${r.met ? "" : ", NOT met"}), agreement with dense ${(r.best.agreement * 100).toFixed(1)}%: ${JSON.stringify(r.best.config)}\n`,
    );
    return 0;
  } finally {
    await engine.dispose();
  }
}
