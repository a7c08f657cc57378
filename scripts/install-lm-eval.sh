#!/usr/bin/env bash
# Install EleutherAI's lm-evaluation-harness (PyPI lm-eval, with its "api" extra for the
# local-completions model) into a venv outside the repository, for the lm-eval tests
# (test/eval/lm-eval.test.ts) and eval/lm-eval/run.sh. No torch: lm-eval's core and "api"
# extra do not need it when the model is a server (measured: docs/lm-eval.md).
#
#   scripts/install-lm-eval.sh          venv: $FFNSKIP_LMEVAL_VENV, default $FFNSKIP_HOME/lm-eval-venv
#                                       ($FFNSKIP_HOME defaults to ~/.cache/ffnskip)
# Idempotent: an existing venv with this lm-eval version is kept.
set -euo pipefail
version=0.4.13
venv=${FFNSKIP_LMEVAL_VENV:-${FFNSKIP_HOME:-$HOME/.cache/ffnskip}/lm-eval-venv}
if [ -x "$venv/bin/lm_eval" ] && [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("lm-eval"))' 2>/dev/null)" = "$version" ]; then
  echo "lm-eval $version already in $venv"
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "lm-eval[api]==$version"
echo "lm-eval $version installed in $venv ($(du -sh "$venv" | cut -f1)); run it as $venv/bin/lm_eval"
