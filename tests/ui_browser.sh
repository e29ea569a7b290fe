#!/bin/sh
# The dashboard in a real headless browser (tests/ui_browser.mjs): Debian's chromium driven by the
# playwright-core npm package (no browser download: it drives /usr/bin/chromium). As root the
# setup installs chromium with apt-get; the package goes once into build/node-playwright (npm
# registry, pinned version). Without node, npm, chromium or the package this prints a skip line
# with the reason and exits 0. Screenshots: build/ui-*.png.
# usage: ui_browser.sh TOOL
tool=${1:-build/llmsplit}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$(dirname "$tool")" && pwd)
pkg=playwright-core
ver=1.65.1
dir=$top/build/node-playwright
skip() { echo "skip ui_browser: $1"; exit 0; }
to() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }

command -v node >/dev/null 2>&1 || skip "node is not installed"
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || sh "$top/tools/deps.sh" --optional chromium:/usr/bin/chromium >/dev/null 2>&1
[ -x "$chromium" ] || skip "chromium is not installed (apt-get install chromium)"
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
CHROMIUM=$chromium to 300 node "$top/tests/ui_browser.mjs" "$tool" "$dir/node_modules" "$build"; rc=$?
[ $rc -le 1 ] || echo "FAIL ui_browser (node ended with status $rc)"
