# Session 25: the development screen of the tiered config (README here). Run from the repository root after `npx tsc -p .`.
T=results/method/compact-loops/tiered
M=$HOME/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf
E="node bin/ffnskip.js eval --threads 1 --model $M --resume"
P=$T/smollm2-tiered-25.json
S="--warmup 2 --cold-start 3 --cold-end 3"
# Vicuna items 40-79, dense reference from section 2's dev cache (the eval reads it from its --out folder)
W=$(mktemp -d)
mkdir -p $W/cache $T/dev
cp results/method/compact-loops/cache/dev-dense.jsonl $W/cache/conversation-none-7aaee96307f500c8.jsonl
$E conversation --items $(seq -s, 40 79) --skip-profile $P --out $W
cp $W/cache/conversation-ffn-skip-compact-*.jsonl $T/dev/vicuna-dev-tiered-25.jsonl
# WikiText-2, the method sweeps' 16 windows of 256
$E perplexity --window 256 --stride 128 --limit 16 --skip-profile $P --out $T/test
# CNN stories 40-59: dense, FFN-SkipLLM ~25%, ffn-skip-compact ~25% (shipped), tiered
C="$E summarization --items $(seq -s, 40 59) --out $T/dev"
$C
$C --skip ffn-skip $S --tau 0.96375 --k 1
$C --skip-profile profiles/smollm2-135m-instruct-compact-25.json
$C --skip-profile $P
