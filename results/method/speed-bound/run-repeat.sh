# Session 27, second runs of the two-thread tables (both cores; run from the repository root after `npx tsc -p .`).
D=results/method/speed-bound
M=$HOME/.cache/ffnskip/models
node dist/bench/skip-ab.js --threads 2 --rounds 30 --model $M/SmolLM2-135M-Instruct.Q4_1.gguf --profiles $D/dense-copy.json,$D/static-8.json,$D/static-11.json,profiles/smollm2-135m-instruct-25.json,profiles/smollm2-135m-instruct-compact-25.json --interleave --out $D/smollm2-static-interleaved-2t-b.md
node dist/bench/skip-ab.js --threads 2 --rounds 30 --model $M/gemma-3-270m-q4_k_m.gguf --profiles $D/dense-copy.json,$D/gemma-static-5.json,$D/gemma-static-6.json,profiles/gemma-3-270m-q4_k_m-compact-25.json,profiles/gemma-3-270m-q4_k_m-compact-35.json --interleave --out $D/gemma3-static-interleaved-2t-b.md
# After the pool's chunking change (85b6e37, src/kernels/pool.ts minChunkMacs), the same two runs again:
# node dist/bench/skip-ab.js ... --out $D/smollm2-static-interleaved-2t-c.md and ... --out $D/gemma3-static-interleaved-2t-c.md
# (and the Gemma run once more: --out $D/gemma3-static-interleaved-2t-d.md)
