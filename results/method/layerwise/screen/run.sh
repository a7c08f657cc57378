#!/bin/sh
# screening: alpha x k at 25% on SmolLM2, sensitivities reused from damage-smollm2.json
cd /work/wt-layerwise
R=results/method/layerwise/screen
for a in 1 0.5 0 2; do
  nice -n 10 node bin/ffnskip.js calibrate --threads 1 --method ffn-skip-layerwise --weights-from $R/damage-smollm2.json --alpha $a --k 1,2 --target 0.25 --out $R/a$a-25.json > $R/a$a-25.out 2> $R/a$a-25.log
done
