#!/bin/sh
# k-matched controls (SmolLM2): the same calibrator with alpha 0 (= ffn-skip's global tau) and with alpha 0.5 at one k
cd /work/wt-layerwise
R=results/method/layerwise
C=$R/control
mkdir -p $C
while pgrep -f run-smollm2.sh >/dev/null; do sleep 5; done
nice -n 10 node bin/ffnskip.js calibrate --threads 1 --method ffn-skip-layerwise --weights-from $R/screen/damage-smollm2.json --alpha 0 --k 1 --target 0.35 --out $C/a0-k1-35.json > $C/a0-k1-35.out 2> $C/a0-k1-35.log
nice -n 10 node bin/ffnskip.js calibrate --threads 1 --method ffn-skip-layerwise --weights-from $R/screen/damage-smollm2.json --alpha 0.5 --k 1 --target 0.25 --out $C/a0.5-k1-25.json > $C/a0.5-k1-25.out 2> $C/a0.5-k1-25.log
for p in $C/a0-k1-35.json $R/screen/a0-25.json $C/a0.5-k1-25.json; do
  n=$(basename $p .json)
  nice -n 10 node bin/ffnskip.js eval perplexity --threads 1 --limit 16 --window 256 --stride 128 --skip-profile $p --out $C/ppl-$n > $C/ppl-$n.out 2> $C/ppl-$n.log
done
