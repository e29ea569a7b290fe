#!/bin/sh
# usage: bench/run.sh BUILD_DIR JSON_BENCH_DIR   (what `make bench` runs)
build=$1; data=$2
[ -d "$data" ] || { echo "bench: no JSON benchmark files at $data (set JSONBENCH=DIR)"; exit 2; }
cc -std=c99 -O2 -o "$build/wholerun" bench/wholerun.c || exit 1
echo "== JSON parse throughput in process (best of ${BENCH_ROUNDS:-5} rounds; ratio = llmsplit / cJSON)"
"$build/json_bench" "$data/canada.json" "$data/citm_catalog.json" "$data/twitter.json" || exit 1
echo
echo "== whole runs: 'llmsplit json' vs the same program on cJSON (median CPU per run of 21; ratio = cJSON / llmsplit)"
for f in canada citm_catalog twitter; do
  printf '%-14s check   ' "$f"
  "$build/wholerun" 21 llmsplit -- "$build/llmsplit" json --check "$data/$f.json" -- cJSON -- "$build/cjson_minify" --check "$data/$f.json" || exit 1
  printf '%-14s minify  ' "$f"
  "$build/wholerun" 21 llmsplit -- "$build/llmsplit" json "$data/$f.json" -- cJSON -- "$build/cjson_minify" "$data/$f.json" || exit 1
done
echo
echo "== HTTP client: sequential keep-alive chat requests to 'llmsplit mock' on loopback, llmsplit vs libcurl"
echo "   (client CPU per request, best of ${BENCH_ROUNDS:-5} rounds of 2000; ratio = llmsplit / libcurl, lower is better)"
"$build/http_bench" "$build/llmsplit" tests/certs 2000 || exit 1
echo
echo "== mirroring: primary latency with and without a silent model that takes 200 ms (400 calls each, interleaved)"
"$build/mirror_bench" "$build/llmsplit" 400 || exit 1
