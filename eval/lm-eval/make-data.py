#!/usr/bin/env python3
"""Write the local lm-eval tasks' data (JSON Lines) from the shared data folder.

  python3 eval/lm-eval/make-data.py [OUT]      (OUT default: .ffnskip-cache/lm-eval, which the task YAMLs read)

Shared data comes from $FFNSKIP_SHARED (default ../shared), as for `ffnskip eval`.
- freebaseqa.jsonl: FreebaseQA in file order as {question, answer, aliases} — the rows
  `ffnskip eval factoid-qa` reads (its question is the row's "question" or else "context").
- arc-easy.jsonl: ARC-Easy test in file order as {id, question, choices: [text...], gold: index}.
Standard library only; the output is rewritten on every run (a few MB).
"""
import json
import os
import sys

shared = os.environ.get("FFNSKIP_SHARED", "../shared")
out = sys.argv[1] if len(sys.argv) > 1 else ".ffnskip-cache/lm-eval"
os.makedirs(out, exist_ok=True)


def rows(rel):
    path = os.path.join(shared, "data", rel)
    try:
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError as e:
        sys.exit(f"make-data: cannot read {path} ({e}); shared data is taken from ../shared or $FFNSKIP_SHARED")


def write(name, items):
    path = os.path.join(out, name)
    with open(path, "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it, ensure_ascii=False) + "\n")
    print(f"{path}: {len(items)} rows")


write("freebaseqa.jsonl", [
    {"question": r["question"] if isinstance(r.get("question"), str) else r["context"], "answer": r["answer"], "aliases": r.get("aliases", [])}
    for r in rows("factoid/freebaseqa-train.jsonl")
])

arc = []
for r in rows("knowledge/arc-easy-test.jsonl"):
    labels = [c["label"] for c in r["choices"]]
    arc.append({"id": r["id"], "question": r["question"], "choices": [c["text"] for c in r["choices"]], "gold": labels.index(r["answerKey"])})
write("arc-easy.jsonl", arc)
