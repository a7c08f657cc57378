/**
 * Teacher-forced scoring: feed the tokens, and at every position take the
 * log-probability of the next one and the model's top token.
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

/** log-softmax of `target` and the argmax of one row of logits. */
export function scoreRow(logits: Float32Array, off: number, n: number, target: number): { logp: number; top: number } {
  let max = -Infinity, top = 0;
  for (let i = 0; i < n; i++) if (logits[off + i] > max) { max = logits[off + i]; top = i; }
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(logits[off + i] - max);
  const logp = target >= 0 ? logits[off + target] - max - Math.log(sum) : 0;
  return { logp, top };
}

/**
 * Score `tokens`. Dense runs go in prompt batches; a skipping policy needs the
 * decode path (one token per step, warm-up counted from the first token) —
 * that is where its decisions apply.
 */
export function perplexity(model: Model, tokens: readonly number[], policy: SkipPolicy, stepwise = false): PerplexityResult {
  if (tokens.length < 2) throw new Error(`perplexity needs at least 2 tokens, got ${tokens.length}`);
  if (tokens.length > model.ctx) throw new Error(`${tokens.length} tokens exceed the context of ${model.ctx}; use --max-tokens or a larger --ctx`);
  const V = model.config.vocabSize;
  policy.reset();
  model.kv.truncate(0);
  const argmax: number[] = [], nll: number[] = [];
  const batch = stepwise ? 1 : model.batchSize;
  for (let p = 0; p < tokens.length; p += batch) {
    const chunk = tokens.slice(p, p + batch);
    const logits = model.forward(chunk, p, stepwise
      ? { policy, phase: "decode", genIndex: p, logits: "all" }
      : { policy, phase: "prompt", logits: "all" })!;
    for (let t = 0; t < chunk.length; t++) {
      const i = p + t;
      const next = i + 1 < tokens.length ? tokens[i + 1] : -1;
      const { logp, top } = scoreRow(logits, t * V, V, next);
      argmax.push(top);
      if (next >= 0) nll.push(-logp);
    }
  }
  const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
  return { ppl: Math.exp(mean), n: nll.length, tokens: [...tokens], argmax, nll };
}
