#!/bin/sh
# usage: bench/run.sh BUILD_DIR JSON_BENCH_DIR   (what `make bench` runs)
# Besides what it prints, every figure goes into BUILD_DIR/bench-results.txt, one tab-separated
# line each: figure, ours, reference, ratio, unit, with ratio = ours / reference always (so
# lower is better for times and sizes, higher for throughputs); the README table is built from it.
build=$1; data=$2
[ -d "$data" ] || { echo "bench: no JSON benchmark files at $data (set JSONBENCH=DIR)"; exit 2; }
cc -std=c99 -O2 -o "$build/wholerun" bench/wholerun.c || exit 1
BENCH_RESULTS=$build/bench-results.txt; export BENCH_RESULTS
printf 'figure\tours\treference\tratio\tunit\n' > "$BENCH_RESULTS"
out=$build/bench-step.txt
# runs a program that only prints, shows its output and keeps it in $out for the awk below
show() { "$@" > "$out" || { cat "$out"; exit 1; }; cat "$out"; }
# appends "figure ours reference ours/reference unit" lines
result() { awk -v OFS='\t' "$1" "$out" >> "$BENCH_RESULTS"; }

echo "== JSON parse throughput in process (best of ${BENCH_ROUNDS:-5} rounds; ratio = llmsplit / cJSON)"
show "$build/json_bench" "$data/canada.json" "$data/citm_catalog.json" "$data/twitter.json"
result '/MB\/s/ { f = $1; sub(/\.json$/, "", f); print "json_" ($2 == "parse" ? "parse" : "parse_minify") "_" f, $3, $5, $3 / $5, "MB/s" }'
echo
echo "== whole runs: 'llmsplit json' vs the same program on cJSON (median CPU per run of 21; ratio = cJSON / llmsplit)"
for f in canada citm_catalog twitter; do
  printf '%-14s check   ' "$f"
  show "$build/wholerun" 21 llmsplit -- "$build/llmsplit" json --check "$data/$f.json" -- cJSON -- "$build/cjson_minify" --check "$data/$f.json"
  result "{ print \"wholerun_check_$f\", \$2, \$5, \$2 / \$5, \"ms CPU\" }"
  printf '%-14s minify  ' "$f"
  show "$build/wholerun" 21 llmsplit -- "$build/llmsplit" json "$data/$f.json" -- cJSON -- "$build/cjson_minify" "$data/$f.json"
  result "{ print \"wholerun_minify_$f\", \$2, \$5, \$2 / \$5, \"ms CPU\" }"
done
echo
echo "== HTTP client: sequential keep-alive chat requests to 'llmsplit mock' on loopback, llmsplit vs libcurl"
echo "   (client CPU per request, best of ${BENCH_ROUNDS:-5} rounds of 2000; ratio = llmsplit / libcurl, lower is better)"
show "$build/http_bench" "$build/llmsplit" tests/certs 2000
result '/^https? / { print "http_" $1 "_cpu_per_request", $2, $4, $2 / $4, "us"
                     print "http_" $1 "_wall_per_request", $8, $11, $8 / $11, "us" }'
echo
echo "== mirroring: primary latency with and without a silent model that takes 200 ms (400 calls each, interleaved)"
show "$build/mirror_bench" "$build/llmsplit" 400
result '/^without mirroring/ { a50 = $3; a95 = $4; a99 = $5 }
        /^every call mirrored/ { print "mirror_p50", $4, a50, $4 / a50, "ms"; print "mirror_p95", $5, a95, $5 / a95, "ms";
                                 print "mirror_p99", $6, a99, $6 / a99, "ms" }'
echo
echo "== chat completions, llmsplit client vs libcurl + cJSON doing the same work (pick 80/20, build the"
echo "   body, POST, parse, extract text and usage) on keep-alive connections to a local server"
echo "   (best of ${BENCH_ROUNDS:-5} interleaved rounds; ratios = llmsplit / curl+cJSON; targets: client CPU"
echo "   <= 0.4x, sequential wall <= 0.9x; '1 CPU': the caller and nginx's worker on one CPU, so wall ="
echo "   client CPU + server CPU; server CPU = what each client's requests cost nginx's worker)"
"$build/client_bench" "$build/llmsplit" tests/certs || exit 1
echo
echo "== the same chat completions counted, not timed (each client alone, 20000 sequential requests;"
echo "   instructions in the client process by callgrind, system calls by perf, TCP segments by ss)"
sh bench/per_request.sh "$build" 20000 || exit 1
echo
echo "== picks per second (CPU, best of ${BENCH_ROUNDS:-5} rounds; ratio = llmsplit / reference, higher is better)"
"$build/pick_bench" || exit 1
echo
echo "== memory over 100000 requests: allocations per request, heap and RSS (target: no growth)"
"$build/mem_bench" "$build/llmsplit" tests/certs 100000 || exit 1
echo
echo "== new HTTPS connections: full TLS handshake vs resumed session (best of ${BENCH_ROUNDS:-5} rounds;"
echo "   ratio = llmsplit / libcurl, lower is better)"
"$build/tls_bench" "$build/llmsplit" tests/certs || exit 1
rm -f "$out"
echo
echo "== the gateway: what 'llmsplit serve' adds per request, against nginx's own proxy_pass to the same"
echo "   upstream (the loopback hop's floor), same run (bench/gateway_bench.sh)"
sh bench/gateway_bench.sh "$build" || exit 1
echo
echo "== the gateway's own work per request in instructions, which the host's noise does not move:"
echo "   nginx's proxy and llmsplit serve under callgrind, same upstream (bench/gateway_instructions.sh)"
sh bench/gateway_instructions.sh "$build" || exit 1
echo
echo "results: $BENCH_RESULTS"
