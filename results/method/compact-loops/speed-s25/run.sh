# Session 25: decode speed of ffn-skip-compact against dense with skip-ab --interleave (configs decode side by side,
# token by token in turn, each in its own KV cache slot), on an otherwise idle VM, one core. "dense-copy" is dense run
# as if it were a profile: its ratio to dense is the A/A check (should be 1.000 within its CI). The SmolLM2 set also
# runs without --interleave (dense then each profile, as in sessions 21-24) to compare the two designs.
# Run from the repository root after `npx tsc -p .`.
D=results/method/compact-loops/speed-s25
M=$HOME/.cache/ffnskip/models
S=profiles/smollm2-135m-instruct
G=profiles/gemma-3-270m-q4_k_m
AB="taskset -c 1 node dist/bench/skip-ab.js --threads 1 --rounds 30"
$AB --model $M/SmolLM2-135M-Instruct.Q4_1.gguf --profiles $D/dense-copy.json,$S-compact-25.json,$S-compact-35.json,$S-25.json --interleave --out $D/smollm2-interleaved.md
$AB --model $M/SmolLM2-135M-Instruct.Q4_1.gguf --profiles $D/dense-copy.json,$S-compact-25.json,$S-compact-35.json,$S-25.json --out $D/smollm2-sequential.md
$AB --model $M/gemma-3-270m-q4_k_m.gguf --profiles $D/dense-copy.json,$G-compact-25.json,$G-compact-35.json,$G-25.json --interleave --out $D/gemma3-interleaved.md
