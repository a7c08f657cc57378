# Session 23: a replication on questions nothing was chosen on: the first turns of MT-Bench's 80 questions (single
# turn, /tmp/s23/mt-first.jsonl made from ../shared/data/conversation/mt-bench.jsonl by keeping each row's first turn as
# "text"), the sweeps' own configs (results/method/*/targets), greedy, 256 tokens. SmolLM2 on core 0, Gemma 3 on core 1.
python3 -c "
import json
with open('/tmp/s23/mt-first.jsonl','w') as o:
    for l in open('../shared/data/conversation/mt-bench.jsonl'):
        r=json.loads(l); o.write(json.dumps({'question_id':r['question_id'],'text':r['turns'][0],'category':r['category']})+'\n')"
E="node bin/ffnskip.js eval conversation --threads 1 --data /tmp/s23/mt-first.jsonl"
O=/tmp/s23/mt
smol() {
  M=~/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf
  taskset -c 0 $E --model $M --out $O/smol
  taskset -c 0 $E --model $M --out $O/smol --skip ffn-skip --warmup 2 --cold-start 3 --cold-end 3 --tau 0.96375 --k 1
  taskset -c 0 $E --model $M --out $O/smol --skip ffn-skip-compact --warmup 2 --cold-start 3 --cold-end 3 --tau 0.955078125 --k 2 --keep-file profiles/smollm2-135m-instruct-prune-u50.keep
  taskset -c 0 $E --model $M --out $O/smol --skip ffn-skip --warmup 2 --cold-start 3 --cold-end 3 --tau 0.96 --k 2
  taskset -c 0 $E --model $M --out $O/smol --skip ffn-skip-compact --warmup 2 --cold-start 3 --cold-end 3 --tau 0.9609375 --k 4 --keep-file profiles/smollm2-135m-instruct-compact-35.keep
}
gemma() {
  M=~/.cache/ffnskip/models/gemma-3-270m-q4_k_m.gguf
  taskset -c 1 $E --model $M --ctx 1024 --out $O/gemma
  taskset -c 1 $E --model $M --ctx 1024 --out $O/gemma --skip ffn-skip --warmup 2 --cold-start 2 --cold-end 2 --tau 0.9853125 --k 1
  taskset -c 1 $E --model $M --ctx 1024 --out $O/gemma --skip ffn-skip-compact --warmup 2 --cold-start 2 --cold-end 2 --tau 0.970703125 --k 2 --keep-file profiles/gemma-3-270m-q4_k_m-prune-u50.keep
  taskset -c 1 $E --model $M --ctx 1024 --out $O/gemma --skip ffn-skip --warmup 2 --cold-start 2 --cold-end 2 --tau 0.945 --k 1
  taskset -c 1 $E --model $M --ctx 1024 --out $O/gemma --skip ffn-skip-compact --warmup 2 --cold-start 2 --cold-end 2 --tau 0.9921875 --k 4 --keep-file profiles/gemma-3-270m-q4_k_m-prune-u75.keep
}
smol > $O-smol.log 2>&1 &
gemma > $O-gemma.log 2>&1 &
wait
