# Session 26, exploratory (no go rule; README here): Gemma 3 270M with FFN-SkipLLM windows running simulated 3-bit
# copies (research worktree as in run-screen.sh), Vicuna 40-79 and the 16 perplexity windows.
T=results/method/lowbit
O=$T/gemma-dev-q3ks
G=$HOME/.cache/ffnskip/models/gemma-3-270m-q4_k_m.gguf
E="node /work/sim/bin/ffnskip.js eval --threads 1 --model $G --ctx 1024 --resume --skip-profile $T/gemma-q3ks-25.json --out $O"
export FFNSKIP_SIM_LOWBIT=q3ks
mkdir -p $O/cache
K=$(head -1 results/method/compact-loops/cache/gemma-dev-dense.jsonl | python3 -c "import sys,json; print(json.loads(sys.stdin.read())['key'])")
cp results/method/compact-loops/cache/gemma-dev-dense.jsonl $O/cache/conversation-none-$K.jsonl
taskset -c 0 $E conversation --items $(seq -s, 40 79) > $O/vicuna.log 2>&1 &
taskset -c 1 $E perplexity --window 256 --stride 128 --limit 16 > $O/ppl.log 2>&1
wait
