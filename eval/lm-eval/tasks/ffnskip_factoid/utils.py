"""LLM-KICK factoid scoring, the same rule as src/eval/factoid.ts (isCorrect)."""
import re

# JavaScript's \s (what normalizeAnswer strips), spelled out so Python strips the same characters
_WS = re.compile("[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+")


def normalize(s):
    return _WS.sub("", s.lower())


def process_results(doc, results):
    out = normalize(results[0])
    golds = [normalize(g) for g in [doc["answer"], *doc.get("aliases", [])]]
    return {"exact_match": float(any(g and g in out for g in golds))}
