#!/bin/sh
# `llmsplit serve` with a real client: the official `openai` npm package (tests/serve_openai.mjs).
# The package is installed once into build/node-openai (npm registry, pinned version); without
# node, npm or the package this prints a skip line and exits 0.
# usage: cli_serve_node.sh TOOL
tool=${1:-build/llmsplit}
top=$(cd "$(dirname "$0")/.." && pwd)
pkg=openai
ver=7.59.0
dir=$top/build/node-openai
skip() { echo "skip cli_serve_node: $1"; exit 0; }
to() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }

command -v node >/dev/null 2>&1 || skip "node is not installed"
if ! grep -q "\"version\": *\"$ver\"" "$dir/node_modules/$pkg/package.json" 2>/dev/null; then
  command -v npm >/dev/null 2>&1 || skip "npm is not installed"
  # into a directory of its own, moved into place when complete, so two first runs don't collide
  stage=$dir.$$
  rm -rf "$stage"; mkdir -p "$stage" || skip "cannot create $stage"
  if ! to 240 npm install --prefix "$stage" --no-audit --no-fund --ignore-scripts --save-exact \
      --loglevel=error "$pkg@$ver" > "$stage/npm.log" 2>&1; then
    rm -rf "$dir.failed"; mv "$stage" "$dir.failed"
    skip "npm install $pkg@$ver failed (see $dir.failed/npm.log)"
  fi
  if [ -f "$dir/node_modules/$pkg/package.json" ]; then rm -rf "$stage"; else rm -rf "$dir"; mv "$stage" "$dir"; fi
fi
to 300 node "$top/tests/serve_openai.mjs" "$tool" "$dir/node_modules"; rc=$?
[ $rc -le 1 ] || echo "FAIL cli_serve_node (node ended with status $rc)"
