/**
 * llama.cpp (through the node-llama-cpp devDependency) as the reference for
 * parity tests and benchmarks: tokenizer, teacher-forced scoring and greedy
 * decoding, all on the CPU with an explicit thread count.
 *
 * Everything goes through `LlamaContextSequence.controlledEvaluate`, which lets
 * us ask for logits at chosen positions only; asking for the full vocabulary
 * at every position would cost a 49k-entry Map per token.
 */
import {
  getLlama,
  LlamaLogLevel,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";

export interface OracleOptions {
  /** CPU threads for evaluation; default 2 (the CI machine has 2 cores) */
  threads?: number;
  /** KV cache length; sequences longer than this are refused. Default 2048. */
  contextSize?: number;
  /** tokens per llama_decode call; default 512 */
  batchSize?: number;
  /**
   * "precise": f32 KV cache and no flash attention (llama.cpp's defaults keep
   * K/V in f16 and, with flash attention, accumulate attention outputs in f16);
   * "default": llama.cpp's defaults. Default "default".
   */
  precision?: "default" | "precise";
}

export interface ScoreResult {
  /** nll[i] = -log softmax(logits_i)[tokens[i+1]], length tokens.length-1 */
  nll: number[];
  /** argmax[i] = most likely token after tokens[0..i], length tokens.length-1 */
  argmax: number[];
  /** full raw logits at the positions asked for in keepLogits (0..tokens.length-1) */
  logits: Map<number, Float32Array>;
  /** with opts.topK: the topK most likely next tokens at each position (length tokens.length-1), best first */
  top: { ids: number[]; logits: number[] }[];
}

export interface Oracle {
  /** vocabulary size */
  readonly nVocab: number;
  /**
   * Tokenize like llama.cpp. addSpecial (default true) adds BOS/EOS only where the
   * model's metadata asks for them; parseSpecial (default false) turns text such
   * as "<|im_start|>" into the special token instead of plain bytes.
   */
  tokenize(text: string, opts?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  /** Detokenize; special tokens render as "" unless opts.special is true. */
  detokenize(ids: number[], opts?: { special?: boolean }): string;
  /**
   * Teacher-forced pass over `tokens` from an empty cache. nll uses llama.cpp's
   * own softmax denominator (summed in float32, good to ~1e-4 relative), except at
   * keepLogits positions where it is recomputed in double from the full logits.
   */
  score(tokens: number[], opts?: { keepLogits?: number[]; topK?: number }): Promise<ScoreResult>;
  /**
   * Greedy (temperature 0) continuation of exactly n tokens after `tokens`, from an
   * empty cache; does not stop at end-of-generation tokens. gaps[k] is the
   * top-1 minus top-2 logit before choosing ids[k] (small gaps flag near-ties,
   * where two correct engines may legitimately diverge).
   */
  greedy(tokens: number[], n: number): Promise<{ ids: number[]; gaps: number[] }>;
  dispose(): Promise<void>;
}

let llamaPromise: Promise<Llama> | undefined;

/** One llama.cpp binding per process: loading it twice is wasteful and not needed. */
function llamaInstance(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error }).catch((e: unknown) => {
    llamaPromise = undefined;
    throw new Error(
      `node-llama-cpp could not load its prebuilt CPU binary (build: "never"; expected in ` +
        `node_modules/@node-llama-cpp/${process.platform}-${process.arch}): ${(e as Error).message}`,
    );
  });
  return llamaPromise;
}

/**
 * What to ask for at a scored position: the target's logit, the greedy pick and its
 * logit, and the softmax denominator. Asking for the top-1 logit instead (includeTop)
 * makes llama.cpp sort the whole vocabulary at every position, ~4x slower; and
 * includeMax next to a token filter returns no max at all in node-llama-cpp 3.22.1.
 */
const FAST = (target: number, topK = 0) => ({
  generateNext: {
    token: true,
    options: { temperature: 0 },
    logits: { filter: { tokens: [target as Token], includeSelected: true, ...(topK > 0 ? { includeTop: topK } : {}) } },
    totalLogitWeight: true,
  },
});

/** Full logits as a dense array indexed by token id. */
function denseLogits(map: Map<number, number>, nVocab: number): Float32Array {
  const out = new Float32Array(nVocab);
  for (const [tok, v] of map) out[tok] = v;
  return out;
}

/** -log softmax(logits)[target] and argmax, in double precision. */
function nllFromDense(logits: Float32Array, target: number): { nll: number; argmax: number } {
  let max = -Infinity,
    arg = 0;
  for (let i = 0; i < logits.length; i++)
    if (logits[i] > max) {
      max = logits[i];
      arg = i;
    }
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return { nll: Math.log(sum) - (logits[target] - max), argmax: arg };
}

/** A loaded llama.cpp model with one sequence, for callers that need the raw API (benchmarks). */
export interface LlamaCppHandle {
  model: LlamaModel;
  context: LlamaContext;
  seq: LlamaContextSequence;
  dispose(): Promise<void>;
}

/** Load `modelPath` on the CPU with an explicit thread count and a one-sequence context. */
export async function openLlamaCpp(modelPath: string, opts: OracleOptions = {}): Promise<LlamaCppHandle> {
  const threads = opts.threads ?? 2;
  const contextSize = opts.contextSize ?? 2048;
  const batchSize = Math.min(opts.batchSize ?? 512, contextSize);
  const llama = await llamaInstance();
  const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
  let context: LlamaContext;
  try {
    const precise =
      opts.precision === "precise"
        ? ({ flashAttention: false, experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32" } as const)
        : {};
    context = await model.createContext({ contextSize, batchSize, threads, sequences: 1, ...precise });
  } catch (e) {
    await model.dispose();
    throw e;
  }
  return {
    model,
    context,
    seq: context.getSequence(),
    async dispose() {
      await context.dispose();
      await model.dispose();
    },
  };
}

/** Load `modelPath` into llama.cpp and wrap it as an Oracle. */
export async function getOracle(modelPath: string, opts: OracleOptions = {}): Promise<Oracle> {
  const h = await openLlamaCpp(modelPath, opts);
  const { model, context, seq } = h;
  // node-llama-cpp does not expose n_vocab; the width of one full logits row is it.
  const probe = await seq.controlledEvaluate([[model.tokens.bos ?? (0 as Token), { generateNext: { logits: true } }]]);
  const nVocab = probe[0]?.next.logits?.size ?? 0;
  if (nVocab === 0) {
    await h.dispose();
    throw new Error(`llama.cpp returned no logits for ${modelPath}`);
  }

  const checkLength = (n: number, what: string) => {
    if (n > context.contextSize) {
      throw new Error(
        `${what} needs ${n} positions but the oracle context holds ${context.contextSize}; pass a larger contextSize to getOracle`,
      );
    }
  };
  const reset = async () => {
    await seq.clearHistory();
  };

  const oracle: Oracle = {
    nVocab,
    tokenize(text, o = {}) {
      const ids = model.tokenize(text, o.parseSpecial ?? false);
      if (o.addSpecial ?? true) {
        if (model.tokens.shouldPrependBosToken && model.tokens.bos != null) ids.unshift(model.tokens.bos);
        if (model.tokens.shouldAppendEosToken && model.tokens.eos != null) ids.push(model.tokens.eos);
      }
      return ids.map(Number);
    },
    detokenize(ids, o = {}) {
      return model.detokenize(ids as never, o.special ?? false);
    },
    async score(tokens, o = {}) {
      if (tokens.length < 1) throw new Error("score needs at least 1 token");
      checkLength(tokens.length, `scoring ${tokens.length} tokens`);
      const keep = new Set(o.keepLogits ?? []);
      const topK = o.topK ?? 0;
      if (!Number.isInteger(topK) || topK < 0) throw new Error(`topK must be a non-negative integer, got ${topK}`);
      if (topK > 0 && keep.size > 0) throw new Error("score: pass keepLogits or topK, not both");
      for (const p of keep) {
        if (!Number.isInteger(p) || p < 0 || p >= tokens.length)
          throw new Error(`keepLogits position ${p} is outside 0..${tokens.length - 1}`);
      }
      await reset();
      const input = tokens.map((t, i) => {
        if (keep.has(i)) return [t, { generateNext: { logits: true } }] as const;
        if (i === tokens.length - 1) return t;
        return [t, FAST(tokens[i + 1], topK)] as const;
      });
      const out = await seq.controlledEvaluate(input as never);
      const nll: number[] = [];
      const argmax: number[] = [];
      const logits = new Map<number, Float32Array>();
      const tops: ScoreResult["top"] = [];
      for (let i = 0; i < tokens.length; i++) {
        const next = out[i]?.next;
        if (keep.has(i)) {
          if (!next?.logits) throw new Error(`llama.cpp returned no logits at position ${i}`);
          const dense = denseLogits(next.logits, oracle.nVocab);
          logits.set(i, dense);
          if (i < tokens.length - 1) {
            const r = nllFromDense(dense, tokens[i + 1]);
            nll.push(r.nll);
            argmax.push(r.argmax);
          }
          continue;
        }
        if (i === tokens.length - 1) break;
        if (!next?.logits || next.totalLogitWeight == null) throw new Error(`llama.cpp returned no logits at position ${i}`);
        // totalLogitWeight is sum(exp(l - max)), so nll = log(weight) - (l_target - max),
        // and the greedy pick is the argmax whose logit is max.
        const top = next.token;
        const maxLogit = top == null ? undefined : next.logits.get(top);
        const target = next.logits.get(tokens[i + 1] as Token);
        if (top == null || maxLogit === undefined || target === undefined) {
          throw new Error(`llama.cpp returned no argmax/target logit at position ${i}`);
        }
        if (target > maxLogit)
          throw new Error(`llama.cpp's greedy pick at position ${i} is not the argmax (target logit ${target} > ${maxLogit})`);
        nll.push(Math.log(next.totalLogitWeight) - (target - maxLogit));
        argmax.push(top);
        if (topK > 0) {
          // the map holds the target too; keep the topK best (it is sorted, best first)
          const best = [...next.logits.entries()].sort((a, b) => b[1] - a[1]).slice(0, topK);
          tops.push({ ids: best.map(([id]) => Number(id)), logits: best.map(([, l]) => l) });
        }
      }
      return { nll, argmax, logits, top: tops };
    },
    async greedy(tokens, n) {
      if (tokens.length < 1) throw new Error("greedy needs at least 1 prompt token");
      if (!Number.isInteger(n) || n < 0) throw new Error(`greedy: n must be a non-negative integer, got ${n}`);
      checkLength(tokens.length + n, `greedy over ${tokens.length} prompt + ${n} new tokens`);
      await reset();
      const ids: number[] = [];
      const gaps: number[] = [];
      const ask = { generateNext: { logits: { filter: { tokens: [] as number[], includeTop: 2 } } } };
      let pending: unknown[] = tokens.map((t, i) => (i === tokens.length - 1 ? [t, ask] : t));
      for (let k = 0; k < n; k++) {
        const out = await seq.controlledEvaluate(pending as never);
        const lg = out[out.length - 1]?.next.logits;
        if (!lg || lg.size < 2) throw new Error(`llama.cpp returned no top-2 logits at greedy step ${k}`);
        const [[t1, l1], [, l2]] = [...lg.entries()].sort((a, b) => b[1] - a[1]);
        ids.push(t1);
        gaps.push(l1 - l2);
        pending = [[t1, ask]];
      }
      return { ids, gaps };
    },
    dispose: h.dispose,
  };
  return oracle;
}
