# Session 25: CNN summarization on Gemma 3 270M, the same 40 stories, greedy, 256 tokens, as session 24's SmolLM2 check
# (../cnn/). Nothing was ever chosen on this task for any method. Configs: FFN-SkipLLM at the Gemma method sweeps'
# targets (results/method/gemma3-270m-prune/targets: tau 0.9853125 k 1 / tau 0.945 k 1), ffn-skip-compact the two
# shipped profiles' settings (profiles/gemma-3-270m-q4_k_m-compact-{25,35}.json). Dense first on core 0 (every other
# run scores against its cached summaries); then the methods run two at a time, one per core. Run from the repository root after `npx tsc -p .`.
E="node bin/ffnskip.js eval summarization --threads 1 --model $HOME/.cache/ffnskip/models/gemma-3-270m-q4_k_m.gguf --out results/method/compact-loops/cnn-gemma --limit 40 --resume"
S="--warmup 2 --cold-start 2 --cold-end 2"
a() {
  taskset -c 0 $E
  touch /tmp/s25-cnn-dense-done
  taskset -c 0 $E --skip ffn-skip $S --tau 0.945 --k 1
  taskset -c 0 $E --skip ffn-skip $S --tau 0.9853125 --k 1
}
b() {
  while [ ! -e /tmp/s25-cnn-dense-done ]; do sleep 5; done
  taskset -c 1 $E --skip ffn-skip-compact $S --tau 0.9921875 --k 4 --keep-file profiles/gemma-3-270m-q4_k_m-prune-u75.keep
  taskset -c 1 $E --skip ffn-skip-compact $S --tau 0.970703125 --k 2 --keep-file profiles/gemma-3-270m-q4_k_m-prune-u50.keep
}
mkdir -p /tmp/s25
rm -f /tmp/s25-cnn-dense-done
a > /tmp/s25/cnn-a.log 2>&1 &
b > /tmp/s25/cnn-b.log 2>&1 &
wait
