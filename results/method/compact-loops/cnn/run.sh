# Session 24: CNN summarization (../shared CNN-90, the first 40 stories: all 90 would take 25-30 minutes per run here), greedy,
# 256 tokens, SmolLM2, nothing chosen on it. ~35% first (the contested cell), then ~25%.
# Dense first (the reference for ROUGE vs dense, reused from the same --out), then both methods at the sweeps' ~25% / ~35% configs.
E="node bin/ffnskip.js eval summarization --threads 1 --model $HOME/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf --out results/method/compact-loops/cnn --limit 40 --resume"
S="--warmup 2 --cold-start 3 --cold-end 3"
a() {
  taskset -c 0 $E
  touch /tmp/s24-cnn-dense-done
  taskset -c 0 $E --skip ffn-skip $S --tau 0.96 --k 2
  taskset -c 0 $E --skip ffn-skip $S --tau 0.96375 --k 1
}
b() {
  while [ ! -e /tmp/s24-cnn-dense-done ]; do sleep 5; done
  taskset -c 1 $E --skip ffn-skip-compact $S --tau 0.9609375 --k 4 --keep-file profiles/smollm2-135m-instruct-compact-35.keep
  taskset -c 1 $E --skip ffn-skip-compact $S --tau 0.955078125 --k 2 --keep-file profiles/smollm2-135m-instruct-prune-u50.keep
}
rm -f /tmp/s24-cnn-dense-done
a > /tmp/s24/cnn-a.log 2>&1 &
b > /tmp/s24/cnn-b.log 2>&1 &
wait
