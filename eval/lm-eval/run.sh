#!/usr/bin/env bash
# Run lm-evaluation-harness through `ffnskip serve` on a local task.
#
#   eval/lm-eval/run.sh OUT TASK LIMIT [serve flags...]
#   e.g. eval/lm-eval/run.sh results/eval/lm-eval/factoid-dense ffnskip_factoid 200
#        eval/lm-eval/run.sh results/eval/lm-eval/factoid-ffn-skip-25 ffnskip_factoid 200 --skip-profile profiles/smollm2-135m-instruct-25.json
#
# Starts the server on a free port with --threads 1 (plus the given flags), makes the task
# data (eval/lm-eval/make-data.py), runs lm_eval with --log_samples into OUT, stops the server.
# lm_eval comes from $LM_EVAL, else the venv scripts/install-lm-eval.sh makes, else PATH.
# Run from the repository root; shared data from $FFNSKIP_SHARED (default ../shared).
set -euo pipefail
[ $# -ge 3 ] || { sed -n 3,12p "$0"; exit 2; }
out=$1 task=$2 limit=$3; shift 3
venv=${FFNSKIP_LMEVAL_VENV:-${FFNSKIP_HOME:-$HOME/.cache/ffnskip}/lm-eval-venv}
lm_eval=${LM_EVAL:-$( [ -x "$venv/bin/lm_eval" ] && echo "$venv/bin/lm_eval" || command -v lm_eval || true)}
[ -n "$lm_eval" ] || { echo "lm_eval not found: run scripts/install-lm-eval.sh (or set LM_EVAL)" >&2; exit 1; }
python3 eval/lm-eval/make-data.py >/dev/null
mkdir -p "$out"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node bin/ffnskip.js serve --threads 1 --port "$port" "$@" >"$out/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
model=$(curl -sf "http://127.0.0.1:$port/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["model"])')
cmd=("$lm_eval" --model local-completions
  --model_args "base_url=http://127.0.0.1:$port/v1/completions,model=$model,max_length=8192"
  --include_path eval/lm-eval/tasks --tasks "$task" --limit "$limit" --batch_size "${BATCH:-1}" --log_samples --output_path "$out")
echo "server: node bin/ffnskip.js serve --threads 1 --port $port $*" >"$out/command.txt"
echo "${cmd[*]}" >>"$out/command.txt"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  lm-eval $("$(dirname "$lm_eval")/python" -c 'import importlib.metadata as m; print(m.version("lm-eval"))' 2>/dev/null || echo '?')" >>"$out/command.txt"
HF_DATASETS_OFFLINE=1 HF_HUB_OFFLINE=1 "${cmd[@]}" 2>"$out/lm_eval.stderr" | tee "$out/table.md"
