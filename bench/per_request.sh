#!/bin/sh
# usage: bench/per_request.sh BUILD_DIR [N]   (make bench runs it)
# What one chat completion costs, counted rather than timed, so machine noise does not move it
# (times, which noise does move, are client_bench's, measured in interleaved rounds):
# llmsplit's client against libcurl + cJSON (the same work, bench/chat_clients.h), each alone,
# N (20000) sequential keep-alive requests to nginx (bench/client_bench.c's CLIENT_BENCH_ONLY).
#   - instructions per request in the client process (valgrind's callgrind, user space: the
#     libraries included, the kernel not), over N/10 requests;
#   - system calls and context switches per request of the client, and system calls of nginx's
#     worker for that client's requests (perf stat), over N requests;
#   - TCP segments and bytes per request each way on the connection (ss).
# Tools that are missing are skipped with the reason. Figures also go to $BENCH_RESULTS.
build=${1:-build}; n=${2:-20000}
bin=$build/client_bench
[ -x "$bin" ] || { echo "per_request: $bin missing (make bench builds it)"; exit 2; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
have_perf=1
perf stat -e raw_syscalls:sys_enter true >/dev/null 2>&1 || { have_perf=0; echo "(perf cannot count system calls here: no system call figures)"; }
have_vg=1
command -v valgrind >/dev/null 2>&1 || { have_vg=0; echo "(valgrind missing: no instruction counts)"; }
printf '%-6s %-10s %13s %9s %9s %10s %10s %13s\n' scheme client "instructions" syscalls "switches" "nginx" "segments" "bytes"
printf '%-6s %-10s %13s %9s %9s %10s %10s %13s\n' "" "" "" "" "" syscalls "out/in" "out/in"
for scheme in http https; do
  for who in llmsplit curl; do
    ins=-; sc=-; cs=-; nsc=-
    if [ $have_vg = 1 ]; then
      CLIENT_BENCH_ONLY="$who $scheme" valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
        --toggle-collect=bench_request "$bin" "$build/llmsplit" tests/certs $((n / 10)) > /dev/null 2> "$tmp/vg" &&
        ins=$(awk -v n=$((n / 10)) '/refs:/ { gsub(",", "", $4); printf "%.0f", $4 / n }' "$tmp/vg")
    fi
    CLIENT_BENCH_ONLY="$who $scheme" CLIENT_BENCH_SS=1 CLIENT_BENCH_PERF=$([ $have_perf = 1 ] && echo "$tmp/perf") \
      "$bin" "$build/llmsplit" tests/certs $n > "$tmp/ss" 2>/dev/null
    if [ $have_perf = 1 ] && [ -s "$tmp/perf.client" ]; then
      sc=$(awk -F, -v n=$n '/sys_enter/ { printf "%.2f", $1 / n }' "$tmp/perf.client")
      cs=$(awk -F, -v n=$n '/context-switches/ { printf "%.2f", $1 / n }' "$tmp/perf.client")
      [ -s "$tmp/perf.server" ] && nsc=$(awk -F, -v n=$n '/sys_enter/ { printf "%.2f", $1 / n }' "$tmp/perf.server")
    fi
    seg=$(awk -v n=$n '{ for (i = 1; i <= NF; i++) { split($i, kv, ":"); v[NR, kv[1]] = kv[2] } }
      END { if (NR == 2) printf "%.2f/%.2f", (v[2, "segs_out"] - v[1, "segs_out"]) / n, (v[2, "segs_in"] - v[1, "segs_in"]) / n; else printf "-" }' "$tmp/ss")
    byt=$(awk -v n=$n '{ for (i = 1; i <= NF; i++) { split($i, kv, ":"); v[NR, kv[1]] = kv[2] } }
      END { if (NR == 2) printf "%.0f/%.0f", (v[2, "bytes_sent"] - v[1, "bytes_sent"]) / n, (v[2, "bytes_received"] - v[1, "bytes_received"]) / n; else printf "-" }' "$tmp/ss")
    printf '%-6s %-10s %13s %9s %9s %10s %10s %13s\n' $scheme $([ $who = curl ] && echo curl+cJSON || echo llmsplit) \
      "$ins" "$sc" "$cs" "$nsc" "$seg" "$byt"
    echo "$scheme $who $ins $sc $nsc" >> "$tmp/all"
  done
done
# ratios and the results file: llmsplit / curl+cJSON
awk -v OFS='\t' -v out="${BENCH_RESULTS:-/dev/null}" '
  { f[$1, $2, "ins"] = $3; f[$1, $2, "sc"] = $4; f[$1, $2, "nsc"] = $5 }
  END {
    split("ins sc nsc", keys, " ")
    split("instructions_per_request syscalls_per_request server_syscalls_per_request", names, " ")
    split("instructions calls calls", units, " ")
    for (s = 1; s <= 2; s++) {
      scheme = s == 1 ? "http" : "https"; line = ""
      for (k = 1; k <= 3; k++) {
        a = f[scheme, "llmsplit", keys[k]]; b = f[scheme, "curl", keys[k]]
        if (a == "-" || b == "-" || b == 0) continue
        line = line sprintf("  %s %.2fx", keys[k] == "ins" ? "instructions" : keys[k] == "sc" ? "syscalls" : "nginx syscalls", a / b)
        print "count_" scheme "_" names[k], a, b, a / b, units[k] >> out
      }
      print scheme " ratios (llmsplit / curl+cJSON):" line
    }
  }' "$tmp/all"
