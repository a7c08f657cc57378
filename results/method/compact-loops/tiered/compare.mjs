// Session 25: the tiered config (ffn-skip-compact with tau_skip) against FFN-SkipLLM ~25% and the shipped
// ffn-skip-compact ~25% on SmolLM2, paired per item, from the runs' caches (run from the repository root after
// `npx tsc -p .`): node results/method/compact-loops/tiered/compare.mjs screen|test [shared data folder, default ../shared] [candidate]
// candidate: tiered (the default) or a session 26 low-bit screen (results/method/lowbit/, screen only): lowbit-q3ks
// (~25%), lowbit-q2k, lowbit-q3base or lowbit-q3cold1 (~35%, against FFN-SkipLLM ~35% and the shipped ffn-skip-compact ~35%, whose CNN 40-59 run does not exist).
// screen: CNN stories 40-59 and Vicuna items 40-79 (development items), and the 16 perplexity windows.
// test: CNN stories 0-39, Vicuna 0-39 + MT-Bench's 80 first turns, perplexity, factoid (200), ARC-Easy/PIQA/HellaSwag (500).
// Scores: paired bootstrap (means), exact McNemar (0/1 per item); "a − b" is the first run minus the second.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isLooping } from "../../../../dist/src/eval/collapse.js";
import { rougeL } from "../../../../dist/src/eval/rouge.js";
import { bootstrapMean, mcnemar, pairedBootstrap } from "../../../../dist/src/eval/stats.js";

const phase = process.argv[2];
if (phase !== "screen" && phase !== "test") throw new Error("usage: compare.mjs screen|test [shared] [tiered|lowbit-q3ks|lowbit-q2k|lowbit-q3base|lowbit-q3cold1]");
const shared = process.argv[3] ?? "../shared";
const candidate = process.argv[4] ?? "tiered";
const T = "results/method/compact-loops/tiered";
const R = "results/method";
/** the one cache file in `dir` of `task` whose skip config matches `want` (method, tau, k, tauSkip) */
const one = (dir, task, want) => {
  const hit = readdirSync(dir).filter((f) => {
    if (!f.startsWith(`${task}-`) || !f.endsWith(".jsonl")) return false;
    const skip = JSON.parse(readFileSync(join(dir, f), "utf8").split("\n", 1)[0]).config?.skip;
    return skip && Object.entries(want).every(([k, v]) => skip[k] === v);
  });
  if (hit.length !== 1) throw new Error(`${dir}: ${hit.length} ${task} caches with ${JSON.stringify(want)}`);
  return join(dir, hit[0]);
};
const DENSE = { method: "none" };
const TIERED = { method: "ffn-skip-compact", tau: 0.96484375, k: 2, tauSkip: 0.982421875 };
const FFN = { method: "ffn-skip", tau: 0.96375, k: 1 };
const COMPACT = { method: "ffn-skip-compact", tau: 0.955078125, k: 2, tauSkip: undefined };
/** the config screened against FFN-SkipLLM and ffn-skip-compact: its name, cache key, and folders of its dev runs */
const FFN35 = { method: "ffn-skip", tau: 0.96, k: 2 };
const L0 = join(R, "compact-loops/cache"), S0 = join(R, "smollm2-135m/cache");
/** the two references at ~25%: FFN-SkipLLM and the shipped ffn-skip-compact (CNN 40-59 runs, Vicuna 40-79 answers, perplexity) */
const REF25 = {
  names: ["FFN-SkipLLM ~25%", "ffn-skip-compact ~25%"],
  cnn: [one(join(T, "dev/cache"), "summarization", FFN), one(join(T, "dev/cache"), "summarization", COMPACT)],
  vicuna: [join(L0, "dev-ffn-skip-25.jsonl"), join(L0, "dev-compact-25.jsonl")],
  ppl: [one(S0, "perplexity", FFN), join(S0, "perplexity-ffn-skip-compact-22a237d95905b6a5.jsonl")],
};
const LOWBIT = (k, tau = -1) => ({ method: "ffn-skip-compact", tau, k });
const CANDIDATES = {
  tiered: { name: "tiered ~25%", config: TIERED, dev: join(T, "dev/cache"), vicunaDev: join(T, "dev/vicuna-dev-tiered-25.jsonl"), ppl: join(T, "test/cache"), ref: REF25, test: join(T, "test"), tag: "tiered-25" },
};
for (const [f, k, pct, tau] of [["q3ks", 24, 25], ["q2k", 22, 35], ["q3base", 1, 35, 0.9765625], ["q3cold1", 1, 35, 0.982421875]]) {
  const D = `results/method/lowbit/dev-${f}/cache`;
  try {
    const ref = pct === 25 ? REF25 : {
      names: ["FFN-SkipLLM ~35%", "ffn-skip-compact ~35%"],
      cnn: [one("results/method/lowbit/dev-35/cache", "summarization", FFN35)],
      vicuna: [join(L0, "dev-ffn-skip-35.jsonl"), join(L0, "dev-grade15-35.jsonl")],
      ppl: [one(S0, "perplexity", FFN35), join(S0, "perplexity-ffn-skip-compact-738e9376bb1e7863.jsonl")],
    };
    CANDIDATES[`lowbit-${f}`] = { name: `${f} copies ~${pct}%`, config: LOWBIT(k, tau), dev: D, vicunaDev: one(D, "conversation", LOWBIT(k, tau)), ppl: D, ref,
      test: "results/method/lowbit/test", tag: `${f}-${pct}` };
  } catch {} // not run yet
}
const C0 = CANDIDATES[candidate];
if (!C0) throw new Error(`candidate ${candidate}: not one of ${Object.keys(CANDIDATES).join(", ")}`);
if (!["tiered", "lowbit-q3ks", "lowbit-q3cold1"].includes(candidate) && phase !== "screen") throw new Error(`${candidate}: only the screen has runs`);
/** id → output of a cache file (its first lines are key and session records) */
const outputs = (file) => {
  const m = new Map();
  for (const l of readFileSync(file, "utf8").trim().split("\n")) {
    const r = JSON.parse(l);
    if (r.id !== undefined && r.output) m.set(String(r.id), r.output);
  }
  return m;
};
const pct = (x) => (100 * x).toFixed(1);
const sum = (a) => a.reduce((s, x) => s + x, 0);
const lines = [];
const say = (s) => lines.push(s);

/** paired comparison of per-item numbers of three runs (tiered, FFN-SkipLLM, compact) over the ids all have */
function table(title, runs, score, kind) {
  const ids = [...runs[0][1].keys()].filter((id) => runs.every(([, m]) => m.has(id)));
  const v = runs.map(([, m]) => ids.map((id) => score(m.get(id), id)));
  say(`\n### ${title} (${ids.length} items)\n`);
  say(`| run | mean |`);
  say(`|---|---:|`);
  runs.forEach(([name], i) => say(`| ${name} | ${kind === "ppl" ? Math.exp(sum(v[i]) / ids.length).toFixed(2) : pct(sum(v[i]) / ids.length)} |`));
  for (const [a, b] of [[0, 1], [0, 2]].filter(([, b]) => b < runs.length)) {
    if (kind === "binary") {
      const m = mcnemar(v[a], v[b]);
      say(`\n${runs[a][0]} − ${runs[b][0]}: ${pct((sum(v[a]) - sum(v[b])) / ids.length)} points; discordant ${m.onlyA} / ${m.onlyB}, exact McNemar p ${m.p.toFixed(3)}`);
    } else {
      const r = pairedBootstrap(v[b], v[a]);
      const f = kind === "ppl" ? (x) => x.toFixed(3) : pct;
      say(`\n${runs[a][0]} − ${runs[b][0]}: ${f(r.diff.mean)} [${f(r.diff.lo)}, ${f(r.diff.hi)}], p ${r.p.toFixed(3)}${kind === "ppl" ? " (mean NLL per token)" : ""}`);
    }
  }
}

const NAMES = [C0.name, ...C0.ref.names];
const cnnRefs = readFileSync(join(shared, "data/summarization/cnn-90.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).highlights.join("\n"));
function cnn(files, denseFile) {
  const dense = outputs(denseFile);
  const runs = files.map((f, i) => [NAMES[i], outputs(f)]);
  const text = (o) => o.text;
  table("CNN: ROUGE-L F1 ×100 against the reference highlights", runs, (o, id) => rougeL(text(o), cnnRefs[Number(id)]).f, "score");
  table("CNN: ROUGE-L F1 ×100 against dense's summary", runs, (o, id) => rougeL(text(o), text(dense.get(id))).f, "score");
  table("CNN: summaries that loop (%)", runs, (o) => (isLooping(text(o)) ? 1 : 0), "binary");
}
const first = (o) => o.answers[0].text;
function loops(title, files) {
  const runs = files.map((fs, i) => [NAMES[i], new Map(fs.flatMap((f) => [...outputs(f)]))]);
  table(title, runs, (o) => (isLooping(first(o)) ? 1 : 0), "binary");
}
const nll = (o) => o.nll_sum / o.n;
function ppl() {
  const files = [one(C0.ppl, "perplexity", C0.config), ...C0.ref.ppl];
  const runs = files.map((f, i) => [NAMES[i], outputs(f)]);
  table("WikiText-2 perplexity, 16 windows of 256 (perplexity of the mean window NLL)", runs, nll, "ppl");
}

say(`# ${phase === "screen" ? "Screen (development items)" : "Test"}: \`node ${T}/compare.mjs ${phase}${candidate === "tiered" ? "" : ` ../shared ${candidate}`}\``);
ppl();
if (phase === "screen") {
  const D = join(T, "dev/cache");
  cnn([one(C0.dev, "summarization", C0.config), ...C0.ref.cnn], one(D, "summarization", DENSE));
  loops("Vicuna items 40–79: answers that loop (%)", [[C0.vicunaDev], ...C0.ref.vicuna.map((f) => [f])]);
} else {
  // the references at the candidate's ratio: FFN-SkipLLM and the shipped ffn-skip-compact profile
  const at35 = C0.ref.names[0].endsWith("35%");
  const [F, CP] = at35 ? [FFN35, { method: "ffn-skip-compact", tau: 0.9609375, k: 4 }] : [FFN, COMPACT];
  const C = join(R, "compact-loops/cnn/cache");
  cnn([join(C0.test, `cnn-${C0.tag}.jsonl`), one(C, "summarization", F), one(C, "summarization", CP)], one(C, "summarization", DENSE));
  const V = join(R, "smollm2-135m/cache"),
    MT = join(R, "compact-loops/mt-first/smollm2/cache");
  loops("Vicuna items 0–39 and MT-Bench's 80 first turns: answers that loop (%)", [
    [join(C0.test, `vicuna-${C0.tag}.jsonl`), join(C0.test, `mt-first-${C0.tag}.jsonl`)],
    [one(V, "conversation", F), one(MT, "conversation", F)],
    [join(V, `conversation-ffn-skip-compact-${at35 ? "9825373b2b41a417" : "2938d5b7463da4ea"}.jsonl`), one(MT, "conversation", CP)],
  ]);
  const dense = outputs(one(V, "factoid-qa", DENSE));
  const fq = [
    outputs(join(C0.test, `factoid-${C0.tag}.jsonl`)),
    outputs(one(V, "factoid-qa", F)),
    outputs(join(V, `factoid-qa-ffn-skip-compact-${at35 ? "315deed9e48bf2e3" : "0aecf6f8dc34c0ed"}.jsonl`)),
  ];
  table("FreebaseQA: answers unchanged from dense (%)", fq.map((m, i) => [NAMES[i], m]), (o, id) => (o.output === dense.get(id).output ? 1 : 0), "binary");
  table("FreebaseQA: correct (%)", fq.map((m, i) => [NAMES[i], m]), (o) => (o.correct ? 1 : 0), "binary");
  // the knowledge tasks (500 items) exist at ~25% only
  const K = join("results/eval/knowledge-500/cache");
  for (const task of at35 ? [] : ["arc-easy", "piqa", "hellaswag"]) {
    const runs = [one(join(C0.test, "cache"), task, C0.config), one(K, task, FFN), one(K, task, { ...COMPACT, keepFile: "profiles/smollm2-135m-instruct-prune-u50.keep" })];
    table(`${task}: acc (%)`, runs.map((f, i) => [NAMES[i], outputs(f)]), (o) => o.acc, "binary");
    // the issue's goal: within dense's 95% CI (bootstrap over the same items)
    const dense = [...outputs(one(K, task, DENSE)).values()].map((o) => o.acc), ci = bootstrapMean(dense);
    say(`\ndense ${pct(ci.mean)} [${pct(ci.lo)}, ${pct(ci.hi)}] over ${dense.length} items`);
  }
}
process.stdout.write(lines.join("\n") + "\n");
