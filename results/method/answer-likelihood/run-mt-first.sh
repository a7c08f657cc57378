# Session 24: the pre-registered replication (README, last section) on the MT-Bench first-turn answers of session 23.
# The question file is made as in results/method/compact-loops/mt-first/run.sh.
set -e
mkdir -p /tmp/s24
python3 -c "
import json
with open('/tmp/s24/mt-first.jsonl','w') as o:
    for l in open('../shared/data/conversation/mt-bench.jsonl'):
        r=json.loads(l); o.write(json.dumps({'question_id':r['question_id'],'text':r['turns'][0],'category':r['category']})+'\n')"
C=results/method/compact-loops/mt-first
A=results/method/answer-likelihood
taskset -c 0 node dist/bench/answer-likelihood.js --model ~/.cache/ffnskip/models/SmolLM2-135M-Instruct.Q4_1.gguf --data /tmp/s24/mt-first.jsonl \
  --out $A/smollm2-mt-first.jsonl --pairs compact-25:ffn-skip-25,compact-35:ffn-skip-35,compact-25:dense,compact-35:dense \
  --runs dense=$C/smollm2/cache/conversation-none-727effd6fc32ee90.jsonl \
  --runs ffn-skip-25=$C/smollm2/cache/conversation-ffn-skip-a639eaaadc6e3b85.jsonl \
  --runs compact-25=$C/smollm2/cache/conversation-ffn-skip-compact-3658ba1f6cc23e00.jsonl \
  --runs ffn-skip-35=$C/smollm2/cache/conversation-ffn-skip-2ed4f7468927ac22.jsonl \
  --runs compact-35=$C/smollm2/cache/conversation-ffn-skip-compact-7862040a83d37df6.jsonl > $A/smollm2-mt-first.md &
taskset -c 1 node dist/bench/answer-likelihood.js --model ~/.cache/ffnskip/models/gemma-3-270m-q4_k_m.gguf --data /tmp/s24/mt-first.jsonl \
  --out $A/gemma3-mt-first.jsonl --pairs compact-25:ffn-skip-25,compact-35:ffn-skip-35,compact-25:dense,compact-35:dense \
  --runs dense=$C/gemma3/cache/conversation-none-ab723d523d511d26.jsonl \
  --runs ffn-skip-25=$C/gemma3/cache/conversation-ffn-skip-69425700e34f5bd8.jsonl \
  --runs compact-25=$C/gemma3/cache/conversation-ffn-skip-compact-ee58698484aa0d5e.jsonl \
  --runs ffn-skip-35=$C/gemma3/cache/conversation-ffn-skip-e63e02eafd783c99.jsonl \
  --runs compact-35=$C/gemma3/cache/conversation-ffn-skip-compact-dddab82b09bd992f.jsonl > $A/gemma3-mt-first.md &
wait
