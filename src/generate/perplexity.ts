/**
 * Teacher-forced scoring: feed the tokens, and at every position take the
 * log-probability of the next one and the model's top token (and, when asked,
 * the `top` most likely tokens). Perplexity, the server's `echo` log-probs and
 * the generation loop's per-token log-probs all go through `scoreRow`.
 */
import type { Model } from "../model/model.js";
import type { SkipPolicy } from "../skip/policy.js";

export interface PerplexityResult {
  /** exp(mean negative log-likelihood) */
  ppl: number;
  /** number of scored predictions (tokens − 1) */
  n: number;
  tokens: number[];
  /** argmax[i]: the model's top token after tokens[0..i] */
  argmax: number[];
  /** nll[i] = −log p(tokens[i+1] | tokens[0..i]) */
  nll: number[];
}

/** One of the most likely tokens at a position. */
export interface TopToken {
  id: number;
  logprob: number;
}

/** A row's log-softmax facts: the target's log-probability, the argmax, and the `nTop` best. */
export interface RowScore {
  logp: number;
  top: number;
  best: TopToken[];
}

/**
 * log-softmax of `target` and the argmax of one row of logits; with `nTop` > 0
 * also the nTop most likely tokens (best first, ties by lower id). The
 * log-probabilities are computed one way (logit − max − log Σ exp), so the
 * target's equals its entry among the best exactly.
 */
export function scoreRow(logits: Float32Array, off: number, n: number, target: number, nTop = 0): RowScore {
  let max = -Infinity,
    top = 0;
  for (let i = 0; i < n; i++)
    if (logits[off + i] > max) {
      max = logits[off + i];
      top = i;
    }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
  const lse = Math.log(sum);
  const logp = target >= 0 ? logits[off + target] - max - lse : 0;
  const best: TopToken[] = [];
  if (nTop > 0) {
    // insertion into a short sorted list: nTop is small (OpenAI allows up to 5)
    for (let i = 0; i < n; i++) {
      const v = logits[off + i];
      if (best.length === nTop && v <= logits[off + best[nTop - 1].id]) continue;
      let j = best.length < nTop ? best.length : nTop - 1;
      if (best.length < nTop) best.push({ id: i, logprob: 0 });
      while (j > 0 && logits[off + best[j - 1].id] < v) {
        best[j] = best[j - 1];
        j--;
      }
      best[j] = { id: i, logprob: 0 };
    }
    for (const b of best) b.logprob = logits[off + b.id] - max - lse;
  }
  return { logp, top, best };
}

export interface ScoreOptions {
  /** one token per forward step on the decode path (where a skipping policy acts) */
  stepwise?: boolean;
  /** also keep the `top` most likely tokens at every position */
  top?: number;
  /** keep a copy of the last position's logits (to go on generating from) */
  keepLast?: boolean;
  /** the KV cache slot to run in (default 0) */
  slot?: number;
}

export interface ScoreResult {
  /** logp[i] = log p(tokens[i+1] | tokens[0..i]) */
  logp: number[];
  argmax: number[];
  /** best[i]: the most likely tokens after tokens[0..i] (empty lists unless `top`) */
  best: TopToken[][];
  /** the last position's logits (copied) when `keepLast` */
  last: Float32Array | null;
}

/**
 * Score `tokens` from position 0. Dense runs go in prompt batches; a skipping
 * policy needs the decode path (one token per step, warm-up counted from the
 * first token) — that is where its decisions apply. The KV cache is left
 * holding the tokens, so generation can continue after them.
 */
export function scoreTokens(model: Model, tokens: readonly number[], policy: SkipPolicy, o: ScoreOptions = {}): ScoreResult {
  if (tokens.length === 0) throw new Error("nothing to score: no tokens");
  if (tokens.length > model.ctx)
    throw new Error(`${tokens.length} tokens exceed the context of ${model.ctx}; use --max-tokens or a larger --ctx`);
  const V = model.config.vocabSize;
  const slot = o.slot ?? 0;
  policy.reset();
  model.kv.truncate(0, slot);
  const out: ScoreResult = { logp: [], argmax: [], best: [], last: null };
  const batch = o.stepwise ? 1 : model.batchSize;
  for (let p = 0; p < tokens.length; p += batch) {
    const chunk = tokens.slice(p, p + batch);
    const logits = model.forward(
      chunk,
      p,
      o.stepwise ? { policy, phase: "decode", genIndex: p, logits: "all", slot } : { policy, phase: "prompt", logits: "all", slot },
    )!;
    for (let t = 0; t < chunk.length; t++) {
      const i = p + t;
      const next = i + 1 < tokens.length ? tokens[i + 1] : -1;
      const r = scoreRow(logits, t * V, V, next, o.top ?? 0);
      out.argmax.push(r.top);
      out.best.push(r.best);
      if (next >= 0) out.logp.push(r.logp);
    }
    if (o.keepLast && p + batch >= tokens.length) out.last = logits.slice((chunk.length - 1) * V, chunk.length * V);
  }
  return out;
}

/** Perplexity of `tokens` (at least 2) under `policy`; see `scoreTokens`. */
export function perplexity(model: Model, tokens: readonly number[], policy: SkipPolicy, stepwise = false, slot = 0): PerplexityResult {
  if (tokens.length < 2) throw new Error(`perplexity needs at least 2 tokens, got ${tokens.length}`);
  const s = scoreTokens(model, tokens, policy, { stepwise, slot });
  const nll = s.logp.map((l) => -l);
  const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
  return { ppl: Math.exp(mean), n: nll.length, tokens: [...tokens], argmax: s.argmax, nll };
}
