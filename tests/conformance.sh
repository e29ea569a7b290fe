#!/bin/sh
# usage: conformance.sh TOOL JSONTESTSUITE_DIR
# JSONTestSuite test_parsing: every y_ file accepted, every n_ file rejected (exit 1), and no
# file (i_ included) crashes or hangs: each run is bounded by `timeout`.
tool=$1; dir=$2/test_parsing
[ -d "$dir" ] || { echo "no JSONTestSuite at $2 (set JSONTESTSUITE=DIR)"; exit 2; }
y_ok=0 y_n=0 n_ok=0 n_n=0 i_n=0 bad=0
for f in "$dir"/*.json; do
  name=$(basename "$f")
  timeout 10 "$tool" json --check "$f" >/dev/null 2>&1; rc=$?
  case "$name" in
    y_*) y_n=$((y_n+1)); if [ $rc = 0 ]; then y_ok=$((y_ok+1)); else echo "FAIL rejected $name (exit $rc)"; bad=1; fi;;
    n_*) n_n=$((n_n+1)); if [ $rc = 1 ]; then n_ok=$((n_ok+1)); else echo "FAIL accepted $name (exit $rc)"; bad=1; fi;;
    i_*) i_n=$((i_n+1)); if [ $rc != 0 ] && [ $rc != 1 ]; then echo "FAIL crashed or hung on $name (exit $rc)"; bad=1; fi;;
  esac
done
echo "JSONTestSuite: y_ accepted $y_ok/$y_n, n_ rejected $n_ok/$n_n, i_ run without crash: $i_n"
exit $bad
