#!/usr/bin/env bash
# The package works when installed: pack it, install the tarball into an empty
# folder (no repository around it), and generate there with the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tarball=$(npm pack --pack-destination "$dir" --silent | tail -n 1)
files=$(tar tzf "$dir/$tarball")
if grep -E '\.test\.(js|ts|d\.ts)$' <<<"$files"; then
  echo "check-pack: the tarball ships test files (above)" >&2; exit 1
fi
for f in package/build/kernels.wasm package/build/kernels-relaxed.wasm package/dist/src/index.js package/bin/ffnskip.js; do
  grep -qx "$f" <<<"$files" || { echo "check-pack: $f is missing from the tarball" >&2; exit 1; }
done
cd "$dir"
npm init -y >/dev/null
npm install --no-audit --no-fund --silent "./$tarball"
out=$(npx --no-install ffnskip generate --temperature 0 --max-tokens 8 "The capital of France is")
echo "installed package: ffnskip generate -> $out"
grep -q "Paris" <<<"$out" || { echo "check-pack: expected Paris from the installed package" >&2; exit 1; }
