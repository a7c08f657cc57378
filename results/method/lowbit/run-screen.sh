# session 26 low-bit screen (research worktree /work/sim with the FFNSKIP_SIM_LOWBIT patch): $1 = format, $2 = core for CNN
set -e
cd /work/sim
F=$1
O=/work/main/results/method/lowbit/dev-$F
M=$HOME/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf
P=/tmp/s26/q3-static.json
E="node bin/ffnskip.js eval --threads 1 --model $M --resume"
export FFNSKIP_SIM_LOWBIT=$F
mkdir -p $O/cache
cp /work/main/results/method/compact-loops/cache/dev-dense.jsonl $O/cache/conversation-none-7aaee96307f500c8.jsonl
taskset -c $2 $E summarization --items $(seq -s, 40 59) --skip-profile ${P2:-$P} --out $O > $O/cnn.log 2>&1 &
taskset -c $3 $E conversation --items $(seq -s, 40 79) --skip-profile ${P2:-$P} --out $O > $O/vicuna.log 2>&1
taskset -c $3 $E perplexity --window 256 --stride 128 --limit 16 --skip-profile ${P2:-$P} --out $O > $O/ppl.log 2>&1
wait
