# The test items of a SmolLM2 candidate against FFN-SkipLLM and ffn-skip-compact (their runs are in the caches named
# by compare.mjs): CNN stories 0-39, Vicuna 0-39, MT-Bench's 80 first turns, FreebaseQA 200 and, unless KNOWLEDGE=0,
# ARC-Easy / PIQA / HellaSwag 500. Run from the repository root after `npx tsc -p .`. Dense references are read from
# the earlier runs' caches (copied into scratch --out folders); the candidate's caches are copied to $OUT afterwards.
# Settings (environment), defaulting to session 25's tiered config, whose test was never run (its screen said no go):
#   P profile, TAG name of the copied caches, OUT folder, BIN the ffnskip CLI (a patched research worktree's for
#   session 26's simulated low-bit copies, which read FFNSKIP_SIM_* from the environment), KNOWLEDGE 1 or 0.
T=results/method/compact-loops/tiered
P=${P:-$T/smollm2-tiered-25.json} TAG=${TAG:-tiered-25} OUT=${OUT:-$T/test} BIN=${BIN:-bin/ffnskip.js} KNOWLEDGE=${KNOWLEDGE:-1}
M=$HOME/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf
E="node $BIN eval --threads 1 --model $M --resume --skip-profile $P"
W=$(mktemp -d)
mkdir -p $W/cnn/cache $W/vic/cache $W/mt/cache $W/fq/cache $OUT
cp results/method/compact-loops/cnn/cache/summarization-none-*.jsonl $W/cnn/cache/
cp results/method/smollm2-135m/cache/conversation-none-7aaee96307f500c8.jsonl $W/vic/cache/
cp results/method/compact-loops/mt-first/smollm2/cache/conversation-none-*.jsonl $W/mt/cache/
cp results/method/smollm2-135m/cache/factoid-qa-none-*.jsonl $W/fq/cache/
# MT-Bench's first turns at session 23's path, which the dense cache's key names
python3 -c "
import json
import os
os.makedirs('/tmp/s23', exist_ok=True)
with open('/tmp/s23/mt-first.jsonl','w') as o:
    for l in open('../shared/data/conversation/mt-bench.jsonl'):
        r=json.loads(l); o.write(json.dumps({'question_id':r['question_id'],'text':r['turns'][0],'category':r['category']})+'\n')"
# two cores; without the knowledge tasks the CNN stories take one core alone
a() {
  taskset -c 0 $E summarization --limit 40 --out $W/cnn
  if [ "$KNOWLEDGE" = 1 ]; then
    taskset -c 0 $E conversation --limit 40 --out $W/vic
    taskset -c 0 $E factoid-qa --limit 200 --out $W/fq
    taskset -c 0 $E hellaswag --limit 500 --out $OUT
  fi
}
b() {
  taskset -c 1 $E conversation --data /tmp/s23/mt-first.jsonl --out $W/mt
  if [ "$KNOWLEDGE" = 1 ]; then
    taskset -c 1 $E arc-easy --limit 500 --out $OUT
    taskset -c 1 $E piqa --limit 500 --out $OUT
  else
    taskset -c 1 $E conversation --limit 40 --out $W/vic
    taskset -c 1 $E factoid-qa --limit 200 --out $W/fq
  fi
}
a > $W/a.log 2>&1 &
b > $W/b.log 2>&1 &
wait
cp $W/cnn/cache/summarization-[!n]*.jsonl $OUT/cnn-$TAG.jsonl
cp $W/vic/cache/conversation-[!n]*.jsonl $OUT/vicuna-$TAG.jsonl
cp $W/mt/cache/conversation-[!n]*.jsonl $OUT/mt-first-$TAG.jsonl
cp $W/fq/cache/factoid-qa-[!n]*.jsonl $OUT/factoid-$TAG.jsonl
for f in a b; do cp $W/$f.log $OUT/$f-$TAG.log; done
