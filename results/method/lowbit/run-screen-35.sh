# Session 26: the ~35% low-bit screen (README here). Run from the repository root; the q2k runs need the research
# worktree /work/sim with sim.patch applied (it reads FFNSKIP_SIM_LOWBIT). FFN-SkipLLM ~35% on CNN 40-59 runs unpatched.
# `run-screen-35.sh q2k` ran the first design only; without an argument it goes on to the second (its runs resume from the caches).
T=results/method/lowbit
M=$HOME/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf
E="node /work/sim/bin/ffnskip.js eval --threads 1 --model $M --resume"
O=$T/dev-q2k
mkdir -p $O/cache $T/dev-35/cache
cp results/method/compact-loops/cache/dev-dense.jsonl $O/cache/conversation-none-7aaee96307f500c8.jsonl
cp results/method/compact-loops/tiered/dev/cache/summarization-none-* $O/cache/
cp results/method/compact-loops/tiered/dev/cache/summarization-none-* $T/dev-35/cache/
C="summarization --items $(seq -s, 40 59)"
FFNSKIP_SIM_LOWBIT=q2k $E $C --skip-profile $T/q2-static.json --out $O > $O/cnn.log 2>&1
FFNSKIP_SIM_LOWBIT=q2k $E conversation --items $(seq -s, 40 79) --skip-profile $T/q2-static.json --out $O > $O/vicuna.log 2>&1
FFNSKIP_SIM_LOWBIT=q2k $E perplexity --window 256 --stride 128 --limit 16 --skip-profile $T/q2-static.json --out $O > $O/ppl.log 2>&1
$E $C --skip ffn-skip --warmup 2 --cold-start 3 --cold-end 3 --tau 0.96 --k 2 --out $T/dev-35 > $T/dev-35/cnn.log 2>&1
[ "$1" = q2k ] && exit 0
# second design (README): 3-bit copies in every middle layer plus outright skips, tau calibrated to 35%
O=$T/dev-q3base
mkdir -p $O/cache
cp results/method/compact-loops/cache/dev-dense.jsonl $O/cache/conversation-none-7aaee96307f500c8.jsonl
cp results/method/compact-loops/tiered/dev/cache/summarization-none-* $O/cache/
export FFNSKIP_SIM_LOWBIT=q3ks FFNSKIP_SIM_BASE=1
taskset -c 1 $E $C --skip-profile $T/q3-base-35.json --out $O > $O/cnn.log 2>&1 &
taskset -c 0 $E conversation --items $(seq -s, 40 79) --skip-profile $T/q3-base-35.json --out $O > $O/vicuna.log 2>&1
taskset -c 0 $E perplexity --window 256 --stride 128 --limit 16 --skip-profile $T/q3-base-35.json --out $O > $O/ppl.log 2>&1
wait
# third design (README): the copies in layers 1-28
O=$T/dev-q3cold1
P=$T/q3-base-cold1-35.json
mkdir -p $O/cache
cp results/method/compact-loops/cache/dev-dense.jsonl $O/cache/conversation-none-7aaee96307f500c8.jsonl
cp results/method/compact-loops/tiered/dev/cache/summarization-none-* $O/cache/
export FFNSKIP_SIM_BASE_COLD=1,1
taskset -c 1 $E $C --skip-profile $P --out $O > $O/cnn.log 2>&1 &
taskset -c 0 $E conversation --items $(seq -s, 40 79) --skip-profile $P --out $O > $O/vicuna.log 2>&1
taskset -c 0 $E perplexity --window 256 --stride 128 --limit 16 --skip-profile $P --out $O > $O/ppl.log 2>&1
wait
