#!/bin/sh
cd /work/wt-layerwise
R=results/method/layerwise
while pgrep -f run-controls.sh >/dev/null; do sleep 5; done
nice -n 10 node bin/ffnskip.js sweep --threads 1 --ratios 0.25,0.35 --methods ffn-skip,ffn-skip-layerwise --out $R/smollm2 --resume --task conversation --limit 40 > $R/sweep-conv40.out 2> $R/sweep-conv40.log
nice -n 10 node dist/bench/method.js report --dir $R/smollm2 > $R/report.out 2>&1
