# Session 26: the ~25% low-bit screen (README here). Run from the repository root. The simulated copies need the
# research worktree /work/sim: `git worktree add /work/sim HEAD && cd /work/sim && git apply
# ../main/results/method/lowbit/sim.patch` (it adds src/model/fq-sim.ts too), `ln -s ../main/node_modules node_modules`,
# `cp -r ../main/build build`, `npx tsc -p .`.
# The runs of the session used the same profile with its keep file under /tmp (same bytes as all-smollm2.keep), so their
# cache keys differ from a rerun's. The dense answers come from the earlier runs' caches.
T=results/method/lowbit
O=$T/dev-q3ks
M=$HOME/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf
E="node /work/sim/bin/ffnskip.js eval --threads 1 --model $M --resume"
export FFNSKIP_SIM_LOWBIT=q3ks
mkdir -p $O/cache
cp results/method/compact-loops/cache/dev-dense.jsonl $O/cache/conversation-none-7aaee96307f500c8.jsonl
cp results/method/compact-loops/tiered/dev/cache/summarization-none-* $O/cache/
taskset -c 1 $E summarization --items $(seq -s, 40 59) --skip-profile $T/q3-static.json --out $O > $O/cnn.log 2>&1 &
taskset -c 0 $E conversation --items $(seq -s, 40 79) --skip-profile $T/q3-static.json --out $O > $O/vicuna.log 2>&1
taskset -c 0 $E perplexity --window 256 --stride 128 --limit 16 --skip-profile $T/q3-static.json --out $O > $O/ppl.log 2>&1
wait
