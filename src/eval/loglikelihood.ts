/**
 * A continuation's log-likelihood given a context, as lm-evaluation-harness
 * defines it for `loglikelihood` requests, computed with `Engine.perplexity`
 * (the scorer behind `ffnskip perplexity`): the pair is split as the harness
 * splits it (trailing spaces of the context move to the continuation; the
 * whole text is tokenized once and the context's own token count marks where
 * the continuation starts), and the continuation tokens' log-probabilities
 * are summed. `greedy`: every continuation token was the model's top token.
 * Used to check that the harness, talking to the server, gets these numbers.
 */
import type { Engine, SkipSpec } from "../api/engine.js";

export interface Loglikelihood {
  logprob: number;
  greedy: boolean;
  /** per continuation token */
  tokenLogprobs: number[];
}

export function continuationLoglikelihood(engine: Engine, context: string, continuation: string, skip?: SkipSpec): Loglikelihood {
  const spaces = context.length - context.trimEnd().length;
  if (spaces > 0) {
    continuation = context.slice(context.length - spaces) + continuation;
    context = context.slice(0, context.length - spaces);
  }
  const ctxLen = engine.tokenizer.encode(context, { addSpecial: true }).length;
  const r = engine.perplexity(context + continuation, { skip });
  // nll[i] scores tokens[i + 1]: the continuation is tokens[ctxLen..]
  const tokenLogprobs = r.nll.slice(ctxLen - 1).map((x) => -x);
  const greedy = r.tokens.slice(ctxLen).every((t, j) => r.argmax[ctxLen - 1 + j] === t);
  return { logprob: tokenLogprobs.reduce((a, b) => a + b, 0), greedy, tokenLogprobs };
}
