# Gemma 3 270M: the same, with its own dense model as the judge
node dist/bench/answer-likelihood.js --model ~/.cache/ffnskip/models/gemma-3-270m-q4_k_m.gguf --out results/method/answer-likelihood/gemma3.jsonl --scores results/method/answer-likelihood/gemma3.jsonl --pairs compact-25:ffn-skip-25,compact-35:ffn-skip-35,dense:ffn-skip-25,dense:compact-25 \
  --runs dense=results/method/compact-loops/cache/gemma-dev-dense.jsonl,results/method/gemma3-270m-prune/cache/conversation-none-04f64b900f9dda25.jsonl \
  --runs ffn-skip-25=results/method/compact-loops/cache/gemma-dev-ffn-skip-25.jsonl,results/method/gemma3-270m-prune/cache/conversation-ffn-skip-e6af9eb7e098c1ba.jsonl \
  --runs compact-25=results/method/compact-loops/cache/gemma-dev-compact-25.jsonl,results/method/gemma3-270m-prune/cache/conversation-ffn-skip-compact-235260bbb2b11b09.jsonl \
  --runs ffn-skip-35=results/method/compact-loops/cache/gemma-dev-ffn-skip-35.jsonl,results/method/gemma3-270m-prune/cache/conversation-ffn-skip-9a194ca39b6ec7ee.jsonl \
  --runs compact-35=results/method/compact-loops/cache/gemma-dev-compact-35.jsonl,results/method/gemma3-270m-prune/cache/conversation-ffn-skip-compact-3127dea1e0e07572.jsonl \
  --runs random-25=results/method/gemma3-270m-prune/cache/conversation-random-5562682d62b34b35.jsonl --runs random-35=results/method/gemma3-270m-prune/cache/conversation-random-cadbdbdd5c60e053.jsonl \
  --runs static-25=results/method/gemma3-270m-prune/cache/conversation-static-b54bf566b159ddc1.jsonl --runs static-35=results/method/gemma3-270m-prune/cache/conversation-static-fb14eb74fdb00a72.jsonl
