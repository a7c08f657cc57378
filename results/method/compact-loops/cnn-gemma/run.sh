# Session 25: CNN summarization on Gemma 3 270M, the same 40 stories, greedy, 256 tokens, as session 24's SmolLM2 check.
# Nothing was ever chosen on this task for any method. The configs are in ../cnn/run.sh (FFN-SkipLLM at the Gemma
# method sweeps' targets, results/method/gemma3-270m-prune/targets: tau 0.9853125 k 1 / tau 0.945 k 1;
# ffn-skip-compact at the shipped profiles' settings, profiles/gemma-3-270m-q4_k_m-compact-{25,35}.json).
# Run from the repository root after `npx tsc -p .`.
bash results/method/compact-loops/cnn/run.sh gemma
