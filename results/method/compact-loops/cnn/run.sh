# CNN summarization (../shared CNN-90, the first 40 stories: all 90 would take 25-30 minutes per run here), greedy,
# 256 tokens, nothing chosen on it. `bash results/method/compact-loops/cnn/run.sh [smollm2|gemma]` from the repository
# root after `npx tsc -p .`. Session 24 ran SmolLM2 (this folder), session 25 Gemma 3 (../cnn-gemma/).
# Dense first on core 0 (every other run scores against its cached summaries, reused from the same --out); then
# FFN-SkipLLM at the method sweeps' ~35% / ~25% targets (results/method/*/targets) on core 0 and ffn-skip-compact at the
# shipped profiles' settings on core 1.
M=~/.cache/ffnskip/models
case "${1:-smollm2}" in
smollm2)
  E="node bin/ffnskip.js eval summarization --threads 1 --model $M/SmolLM2-135M-Instruct.Q4_1.gguf --out results/method/compact-loops/cnn --limit 40 --resume"
  S="--warmup 2 --cold-start 3 --cold-end 3"
  FFN35="--tau 0.96 --k 2" FFN25="--tau 0.96375 --k 1"
  C35="--tau 0.9609375 --k 4 --keep-file profiles/smollm2-135m-instruct-compact-35.keep"
  C25="--tau 0.955078125 --k 2 --keep-file profiles/smollm2-135m-instruct-prune-u50.keep" ;;
gemma)
  E="node bin/ffnskip.js eval summarization --threads 1 --model $M/gemma-3-270m-q4_k_m.gguf --out results/method/compact-loops/cnn-gemma --limit 40 --resume"
  S="--warmup 2 --cold-start 2 --cold-end 2"
  FFN35="--tau 0.945 --k 1" FFN25="--tau 0.9853125 --k 1"
  C35="--tau 0.9921875 --k 4 --keep-file profiles/gemma-3-270m-q4_k_m-prune-u75.keep"
  C25="--tau 0.970703125 --k 2 --keep-file profiles/gemma-3-270m-q4_k_m-prune-u50.keep" ;;
*) echo "usage: run.sh [smollm2|gemma]" >&2; exit 2 ;;
esac
L=$(mktemp -d)
a() {
  taskset -c 0 $E
  touch $L/dense-done
  taskset -c 0 $E --skip ffn-skip $S $FFN35
  taskset -c 0 $E --skip ffn-skip $S $FFN25
}
b() {
  while [ ! -e $L/dense-done ]; do sleep 5; done
  taskset -c 1 $E --skip ffn-skip-compact $S $C35
  taskset -c 1 $E --skip ffn-skip-compact $S $C25
}
a > $L/a.log 2>&1 &
b > $L/b.log 2>&1 &
wait
echo "logs in $L"
