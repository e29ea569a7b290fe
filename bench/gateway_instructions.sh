#!/bin/sh
# usage: bench/gateway_instructions.sh BUILD_DIR   (part of `make bench`)
#
# The gateway's own work per request, counted in instructions (user space, every thread of the
# process), which the machine's noise does not move: nginx's proxy_pass and `llmsplit serve`
# (one event loop, records to a log file) each run under valgrind's callgrind in front of the
# same nginx upstream answering a fixed completion; the counters are zeroed after a warm-up
# (startup and config reading left out), N requests go through over 4 keep-alive connections,
# and the count is divided by the requests the load generator saw answered (llmsplit's live
# verdict, a thread re-reading the log every 5 s whatever the rate, is shown apart). Kernel work (the
# system calls, the same in number for both: see bench/gateway_bench.sh) is not in it.
build=$1
n=${GATEWAY_INSN_SECONDS:-4}
nginx=${NGINX:-/usr/sbin/nginx}
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
  { echo "gateway instructions: skipped (no valgrind; apt-get install valgrind)"; exit 0; }
[ -x "$nginx" ] || { echo "gateway instructions: skipped (no nginx at $nginx)"; exit 0; }
cc -std=c99 -O2 -Wall -o "$build/loadgen" bench/loadgen.c || exit 1
dir=$(mktemp -d /tmp/llmsplit-gwi-XXXXXX)
. bench/gateway_common.sh

up=$(free_port); px=$(free_port); gw=$(free_port)
nginx_conf upstream "$(upstream_block "$up")"
"$nginx" -q -p "$dir/upstream" -c nginx.conf -g "daemon off; pid $dir/upstream/nginx.pid; error_log $dir/upstream/err.log;" &
pids="$pids $!"
# the proxy in one process (no master), so callgrind follows the worker
nginx_conf proxy "$(proxy_block "$px" "$up")" "master_process off;"
printf '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you?"}]}' > "$dir/body.json"
cat > "$dir/serve.json" <<EOF
{"model_list":[{"model_name":"gpt-4o-mini","litellm_params":{"model":"openai/gpt-4o-mini","api_base":"http://127.0.0.1:$up/v1","api_key":"sk-bench"}}]}
EOF
wait_open "$up" || { echo "gateway instructions: the upstream did not start"; exit 1; }

count() { # name port pid out -> "name insn_per_request requests"
  name=$1; port=$2; pid=$3; out=$4
  wait_open "$port" 1500 || { echo "gateway instructions: $name did not start"; return 1; } # (valgrind starts slowly)
  "$build/loadgen" "127.0.0.1:$port" /v1/chat/completions "$dir/body.json" --rate 0 --conns 4 --seconds 1 --warmup 0 >/dev/null
  callgrind_control -z "$pid" >/dev/null 2>&1
  line=$("$build/loadgen" "127.0.0.1:$port" /v1/chat/completions "$dir/body.json" --rate 0 --conns 4 --seconds "$n" --warmup 0)
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 0.5
  reqs=$(echo "$line" | sed -n 's/.*requests \([0-9]*\).*/\1/p')
  # the dump after the zeroing has the most; the live verdict's thread (ui_main: the log re-read
  # every 5 s, whatever the rate) is counted apart
  set -- $(for f in "$out"*; do callgrind_annotate --inclusive=yes "$f" 2>/dev/null |
           awk '/PROGRAM TOTALS/ {t = $1} /ui\.c:ui_main / {u = $1} END {gsub(",", "", t); gsub(",", "", u); print t + 0, u + 0}'
         done | sort -n | tail -n 1)
  insn=$1; verdict=$2
  [ -n "$reqs" ] && [ "$reqs" -gt 0 ] && [ -n "$insn" ] || { echo "gateway instructions: $name: no count ($line)"; return 1; }
  echo "$name $(((insn - verdict) / reqs)) $reqs $((verdict / reqs))"
}

valgrind --tool=callgrind --callgrind-out-file="$dir/cg.nginx" "$nginx" -q -p "$dir/proxy" -c nginx.conf \
  -g "daemon off; pid $dir/proxy/nginx.pid; error_log $dir/proxy/err.log;" 2>"$dir/vg.nginx" &
vn=$!; pids="$pids $vn"
rn=$(count nginx-proxy "$px" "$vn" "$dir/cg.nginx") || exit 1
kill "$vn" 2>/dev/null
valgrind --tool=callgrind --callgrind-out-file="$dir/cg.llmsplit" "$build/llmsplit" serve --workers 1 --config "$dir/serve.json" \
  --listen "127.0.0.1:$gw" --log "$dir/serve.jsonl" >/dev/null 2>"$dir/vg.llmsplit" &
vl=$!; pids="$pids $vl"
rl=$(count llmsplit "$gw" "$vl" "$dir/cg.llmsplit") || exit 1
kill "$vl" 2>/dev/null
echo "$rn
$rl" | awk '{v[$1] = $2; printf "  %-12s %8d instructions per request (user space, all threads; %d requests under callgrind)\n", $1, $2, $3
       if ($4 > 0) printf "  %-12s %8d more per request at this rate for the live verdict (the log re-read every 5 s)\n", "", $4}
  END { if (v["nginx-proxy"] > 0) {
          printf "  llmsplit / nginx-proxy: %.2fx\n", v["llmsplit"] / v["nginx-proxy"]
          res = ENVIRON["BENCH_RESULTS"]
          if (res != "") printf "gateway_instructions_per_request\t%d\t%d\t%.4f\tinsn\n", v["llmsplit"], v["nginx-proxy"], v["llmsplit"] / v["nginx-proxy"] >> res } }'
