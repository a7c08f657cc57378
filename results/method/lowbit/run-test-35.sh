# Session 26: the test of the third ~35% design (README here; run after its screen said go): simulated q3ks copies in layers 1-28 plus outright skips.
# Dense references are read from the earlier runs' caches (copied into scratch --out folders); the caches of this design are
# copied to test/ afterwards. FFN-SkipLLM's side comes from the same caches. Run from the repository root after `npx tsc -p .`.
T=results/method/lowbit
S=/work/sim  # the research worktree with sim.patch applied (it reads FFNSKIP_SIM_LOWBIT)
export FFNSKIP_SIM_LOWBIT=q3ks FFNSKIP_SIM_BASE=1 FFNSKIP_SIM_BASE_COLD=1,1
M=$HOME/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf
E="node $S/bin/ffnskip.js eval --threads 1 --model $M --resume --skip-profile $T/q3-base-cold1-35.json"
W=$(mktemp -d)
mkdir -p $W/cnn/cache $W/vic/cache $W/mt/cache $W/fq/cache $PWD/$T/test
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
a() {
  taskset -c 0 $E summarization --limit 40 --out $W/cnn
}
b() {
  taskset -c 1 $E conversation --data /tmp/s23/mt-first.jsonl --out $W/mt
  taskset -c 1 $E conversation --limit 40 --out $W/vic
  taskset -c 1 $E factoid-qa --limit 200 --out $W/fq
}
a > $W/a.log 2>&1 &
b > $W/b.log 2>&1 &
wait
cp $W/cnn/cache/summarization-ffn-skip-compact-*.jsonl $PWD/$T/test/cnn-q3cold1-35.jsonl
cp $W/vic/cache/conversation-ffn-skip-compact-*.jsonl $PWD/$T/test/vicuna-q3cold1-35.jsonl
cp $W/mt/cache/conversation-ffn-skip-compact-*.jsonl $PWD/$T/test/mt-first-q3cold1-35.jsonl
cp $W/fq/cache/factoid-qa-ffn-skip-compact-*.jsonl $PWD/$T/test/factoid-q3cold1-35.jsonl
for f in a b; do cp $W/$f.log $PWD/$T/test/$f-35.log; done
