# SmolLM2: the dense model's likelihood of every Vicuna answer of each run (test items 1-40 from the sweep caches; dense, FFN-SkipLLM and ffn-skip-compact also on the development items 41-80)
node dist/bench/answer-likelihood.js --model ~/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf --out results/method/answer-likelihood/smollm2.jsonl --scores results/method/answer-likelihood/smollm2.jsonl --pairs compact-25:ffn-skip-25,compact-35:ffn-skip-35,dense:ffn-skip-25,dense:compact-25 \
  --runs dense=results/method/compact-loops/cache/dev-dense.jsonl,results/method/smollm2-135m/cache/conversation-none-7aaee96307f500c8.jsonl \
  --runs ffn-skip-25=results/method/compact-loops/cache/dev-ffn-skip-25.jsonl,results/method/smollm2-135m/cache/conversation-ffn-skip-07df175319dfe2d0.jsonl \
  --runs compact-25=results/method/compact-loops/cache/dev-compact-25.jsonl,results/method/smollm2-135m/cache/conversation-ffn-skip-compact-2938d5b7463da4ea.jsonl \
  --runs ffn-skip-35=results/method/compact-loops/cache/dev-ffn-skip-35.jsonl,results/method/smollm2-135m/cache/conversation-ffn-skip-f2e07bca0e113528.jsonl \
  --runs compact-35=results/method/compact-loops/cache/dev-grade15-35.jsonl,results/method/smollm2-135m/cache/conversation-ffn-skip-compact-9825373b2b41a417.jsonl \
  --runs random-25=results/method/smollm2-135m/cache/conversation-random-130ebc85bc2ffedc.jsonl --runs random-35=results/method/smollm2-135m/cache/conversation-random-aad78cc3f1310c99.jsonl \
  --runs static-25=results/method/smollm2-135m/cache/conversation-static-43d34d070c599181.jsonl --runs static-35=results/method/smollm2-135m/cache/conversation-static-24d53e75ead81f47.jsonl \
  --runs ffn-prune-25=results/method/smollm2-135m/cache/conversation-ffn-prune-824fa1d343cf440c.jsonl --runs ffn-prune-35=results/method/smollm2-135m/cache/conversation-ffn-prune-c80a9243685b5638.jsonl \
  --runs ffn-sparse-25=results/method/smollm2-135m/cache/conversation-ffn-sparse-e5323b74889382e8.jsonl --runs ffn-sparse-35=results/method/smollm2-135m/cache/conversation-ffn-sparse-65b92f8983966a36.jsonl
