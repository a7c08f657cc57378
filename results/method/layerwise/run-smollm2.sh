#!/bin/sh
# SmolLM2: 35% profile, then perplexity and conversation sweeps against ffn-skip's cached cells (copied from ../smollm2-135m)
cd /work/wt-layerwise
R=results/method/layerwise
nice -n 10 node bin/ffnskip.js calibrate --threads 1 --method ffn-skip-layerwise --weights-from $R/screen/damage-smollm2.json --alpha 0.5 --k 1,2 --target 0.35 --out profiles/smollm2-135m-instruct-layerwise-35.json > $R/cal-smollm2-35.out 2> $R/cal-smollm2-35.log
nice -n 10 node bin/ffnskip.js sweep --threads 1 --ratios 0.25,0.35 --methods ffn-skip,ffn-skip-layerwise --out $R/smollm2 --resume --task perplexity --limit 16 --window 256 --stride 128 > $R/sweep-ppl.out 2> $R/sweep-ppl.log
nice -n 10 node bin/ffnskip.js sweep --threads 1 --ratios 0.25,0.35 --methods ffn-skip,ffn-skip-layerwise --out $R/smollm2 --resume --task conversation --limit 20 > $R/sweep-conv.out 2> $R/sweep-conv.log
