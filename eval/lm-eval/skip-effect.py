#!/usr/bin/env python3
"""How much a skip method changes a loglikelihood task: two lm_eval --log_samples outputs
(dense, skipped) of the same multiple-choice task, compared on the documents both have.

  python3 eval/lm-eval/skip-effect.py DENSE_OUT SKIP_OUT [SKIP_SERVER_LOG]

Prints JSON: accuracy of each, the share of documents where both pick the same choice,
mean and max |difference| of the choices' log-likelihoods, and (from the server log of the
skipped run) the per-prompt skip ratios the server reported.
"""
import glob
import json
import re
import sys


def samples(d):
    f = glob.glob(f"{d}/**/samples_*.jsonl", recursive=True)
    if not f:
        sys.exit(f"no samples_*.jsonl under {d}")
    return {s["doc_id"]: s for s in map(json.loads, open(f[0], encoding="utf-8"))}


dense, skip = samples(sys.argv[1]), samples(sys.argv[2])
ids = sorted(set(dense) & set(skip))
diffs, same = [], 0
for i in ids:
    a = [float(r[0][0]) for r in dense[i]["resps"]]
    b = [float(r[0][0]) for r in skip[i]["resps"]]
    diffs += [abs(x - y) for x, y in zip(a, b)]
    same += a.index(max(a)) == b.index(max(b))
out = {
    "docs": len(ids),
    "acc_dense": sum(dense[i]["acc"] for i in ids) / len(ids),
    "acc_skip": sum(skip[i]["acc"] for i in ids) / len(ids),
    "same_choice": same / len(ids),
    "mean_abs_logprob_diff": sum(diffs) / len(diffs),
    "max_abs_logprob_diff": max(diffs),
}
if len(sys.argv) > 3:
    pct = [float(m) for m in re.findall(r"skip \S+ ([\d.]+)%", open(sys.argv[3], encoding="utf-8").read())]
    out.update(prompts=len(pct), skip_ratio_mean=sum(pct) / len(pct) / 100, skip_ratio_min=min(pct) / 100, skip_ratio_max=max(pct) / 100)
print(json.dumps(out, indent=1))
