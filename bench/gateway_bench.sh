#!/bin/sh
# usage: bench/gateway_bench.sh BUILD_DIR   (part of `make bench`)
#
# What a gateway adds per request. One nginx (one worker) is the upstream, answering every
# POST /v1/chat/completions with a fixed 334-byte completion. The same load (bench/loadgen.c) goes
#   direct      straight to that nginx,
#   relay       through bench/relay.c, a TCP relay that parses nothing (a thread per direction,
#               blocked in recv, one send per read): the floor, what the extra loopback hop and
#               the two wake-ups of a process in the middle cost any proxy on this machine,
#   nginx-proxy through a second nginx (one worker) doing proxy_pass to it over kept-alive
#               upstream connections: the reference a proxy is measured against,
#   llmsplit    through `llmsplit serve` with a one-deployment group on that upstream, records
#               written to a log file as in production, with one event loop (--workers 1) as
#               nginx's proxy has one worker (GATEWAY_WORKERS=N for another count; the default,
#               one loop per processor, pays for a second thread on this machine's two cores,
#               which the load generator and the upstream share),
# in interleaved rounds (machine noise hits all alike), and then (one run per load, after the
# rounds: it cannot keep up, and its backlog would weigh on the runs after it)
#   portkey     through Portkey's gateway (npm @portkey-ai/gateway) when it can be installed,
# at a fixed 2,000 req/s over 32 keep-alive
# connections (latency measured from each request's due time) and at saturation (64 connections,
# each sending again as soon as it has its answer). Overhead = through - direct, at p50 and p99.
# The CPU per request is the gateway process's own (utime + stime from /proc).
# Each figure is the median of the rounds. Everything runs on this machine's cores together
# (the load generator too), so the figures are for comparison in this run, not absolutes.
build=$1
rounds=${GATEWAY_ROUNDS:-3}
secs=${GATEWAY_SECONDS:-4}
nginx=${NGINX:-/usr/sbin/nginx}
[ -x "$nginx" ] || { echo "gateway bench: skipped (no nginx at $nginx; apt-get install nginx-light)"; exit 0; }
cc -std=c99 -O2 -Wall -o "$build/loadgen" bench/loadgen.c || exit 1
cc -std=c99 -O2 -Wall -o "$build/relay" bench/relay.c -lpthread || exit 1
dir=$(mktemp -d /tmp/llmsplit-gw-XXXXXX)
. bench/gateway_common.sh

up=$(free_port); px=$(free_port)
start_nginx() { # name, server block
  nginx_conf "$1" "$2"
  "$nginx" -q -p "$dir/$1" -c nginx.conf -g "daemon off; pid $dir/$1/nginx.pid; error_log $dir/$1/err.log;" &
  pids="$pids $!"
}
start_nginx upstream "$(upstream_block "$up")"
start_nginx proxy "$(proxy_block "$px" "$up")"
wait_open "$up" && wait_open "$px" || { echo "gateway bench: nginx did not start"; cat "$dir"/*/err.log; exit 1; }
worker_of() { pgrep -P "$(cat "$dir/$1/nginx.pid")" | head -n 1; }
up_worker=$(worker_of upstream); px_worker=$(worker_of proxy)

printf '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello, how are you?"}]}' > "$dir/body.json"
rl=$(free_port)
"$build/relay" "$rl" "$up" > "$dir/relay.out" 2>&1 &
rpid=$!; pids="$pids $rpid"
if wait_open "$rl"; then targets="direct:$up:$up_worker relay:$rl:$rpid nginx-proxy:$px:$px_worker"
else echo "gateway bench: the relay did not start"; targets="direct:$up:$up_worker nginx-proxy:$px:$px_worker"; fi

# llmsplit serve
if "$build/llmsplit" serve --help >/dev/null 2>&1; then
  cat > "$dir/serve.json" <<EOF
{"model_list":[{"model_name":"gpt-4o-mini","litellm_params":{"model":"openai/gpt-4o-mini","api_base":"http://127.0.0.1:$up/v1","api_key":"sk-bench"}}]}
EOF
  "$build/llmsplit" serve --config "$dir/serve.json" --listen 127.0.0.1:0 --log "$dir/serve.jsonl" \
    --workers "${GATEWAY_WORKERS:-1}" > "$dir/serve.out" 2> "$dir/serve.err" &
  spid=$!; pids="$pids $spid"
  i=0; while [ $i -lt 250 ] && ! grep -q 'listening on' "$dir/serve.out"; do sleep 0.02; i=$((i+1)); done
  sport=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/serve.out")
  if [ -n "$sport" ]; then targets="$targets llmsplit:$sport:$spid"
  else echo "gateway bench: llmsplit serve did not start: $(cat "$dir/serve.err")"; fi
else
  echo "gateway bench: llmsplit serve is not built; its rows are missing"
fi

# Portkey's gateway (Node), installed into the build directory
if [ -z "$GATEWAY_NO_PORTKEY" ] && command -v node >/dev/null && command -v npm >/dev/null; then
  pk=$build/npm-portkey
  if [ ! -d "$pk/node_modules/@portkey-ai/gateway" ]; then
    mkdir -p "$pk" && (cd "$pk" && npm install --no-audit --no-fund --silent @portkey-ai/gateway >/dev/null 2>&1) ||
      echo "gateway bench: Portkey's gateway could not be installed (npm); its row is missing"
  fi
  pkbin=$(ls "$pk"/node_modules/@portkey-ai/gateway/build/start-server.js "$pk"/node_modules/@portkey-ai/gateway/start-server.js 2>/dev/null | head -n 1)
  if [ -n "$pkbin" ]; then
    pkport=$(free_port)
    node "$pkbin" --port="$pkport" > "$dir/portkey.out" 2>&1 &
    ppid_=$!; pids="$pids $ppid_"
    if wait_open "$pkport"; then
      portkey="portkey:$pkport:$ppid_"
      pkhdr="x-portkey-provider: openai|x-portkey-custom-host: http://127.0.0.1:$up/v1|Authorization: Bearer sk-bench"
    else echo "gateway bench: Portkey's gateway did not start: $(tail -n 3 "$dir/portkey.out")"; fi
  fi
fi

run_one() { # target port pid mode -> one loadgen line
  name=$1; port=$2; pid=$3; mode=$4
  if [ "$mode" = rate ]; then set -- --rate 2000 --conns 32; else set -- --rate 0 --conns 64; fi
  if [ "$name" = portkey ]; then
    "$build/loadgen" "127.0.0.1:$port" /v1/chat/completions "$dir/body.json" "$@" --seconds "$secs" --warmup 1 --pid "$pid" \
      --header "x-portkey-provider: openai" --header "x-portkey-custom-host: http://127.0.0.1:$up/v1" \
      --header "Authorization: Bearer sk-bench"
  else
    "$build/loadgen" "127.0.0.1:$port" /v1/chat/completions "$dir/body.json" "$@" --seconds "$secs" --warmup 1 --pid "$pid"
  fi
}

run_target() { # TARGET MODE: one loadgen line into the results
  name=${1%%:*}; rest=${1#*:}; port=${rest%%:*}; pid=${rest#*:}
  line=$(run_one "$name" "$port" "$pid" "$2") || { echo "gateway bench: $name $2 failed: $line"; return; }
  echo "$name $2 $line" >> "$dir/results"
}
: > "$dir/results"
r=1
while [ $r -le "$rounds" ]; do
  for mode in rate saturation; do
    for t in $targets; do run_target "$t" "$mode"; done
  done
  r=$((r+1))
done
# Portkey's gateway last, once per mode, and stopped before the figures: it cannot keep up with
# 2,000 req/s and goes on working off its queue for seconds, which would weigh on every run
# after its own
if [ -n "$portkey" ]; then
  for mode in rate saturation; do run_target "$portkey" "$mode"; done
  kill "$ppid_" 2>/dev/null
fi
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# medians per target and mode; overhead against direct
awk -v rounds="$rounds" -v srss="$( [ -n "$spid" ] && rss_kb "$spid")" '
function med(key,   n, i, j, a, t) { n = cnt[key]; for (i = 1; i <= n; i++) a[i] = v[key, i]
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ name = $1; mode = $2; for (i = 3; i < NF; i += 2) { k = name SUBSEP mode SUBSEP $i; v[k, ++cnt[k]] = $(i + 1) }
  if (!(name in seen)) { seen[name] = 1; order[++n] = name } }
END {
  printf "%-12s %-10s %9s %9s %9s %9s %12s\n", "through", "load", "req/s", "p50 us", "p99 us", "p99.9 us", "CPU us/req"
  for (m = 1; m <= 2; m++) { mode = m == 1 ? "rate" : "saturation"
    for (i = 1; i <= n; i++) { nm = order[i]
      printf "%-12s %-10s %9.0f %9.1f %9.1f %9.1f %12.1f\n", nm, mode == "rate" ? "2000/s" : "saturated",
        med(nm SUBSEP mode SUBSEP "rps"), med(nm SUBSEP mode SUBSEP "p50_us"), med(nm SUBSEP mode SUBSEP "p99_us"),
        med(nm SUBSEP mode SUBSEP "p999_us"), med(nm SUBSEP mode SUBSEP "cpu_us_per_req") } }
  print ""
  print "overhead per request = through - direct (medians of " rounds " rounds):"
  d50 = med("direct" SUBSEP "rate" SUBSEP "p50_us"); d99 = med("direct" SUBSEP "rate" SUBSEP "p99_us")
  for (i = 1; i <= n; i++) { nm = order[i]; if (nm == "direct") continue
    o50 = med(nm SUBSEP "rate" SUBSEP "p50_us") - d50; o99 = med(nm SUBSEP "rate" SUBSEP "p99_us") - d99
    printf "  %-12s at 2000 req/s: p50 %+.1f us, p99 %+.1f us; saturation %.0f req/s; %.1f us CPU per request\n", nm, o50, o99,
      med(nm SUBSEP "saturation" SUBSEP "rps"), med(nm SUBSEP "saturation" SUBSEP "cpu_us_per_req")
    res = ENVIRON["BENCH_RESULTS"]
    if (res != "") {
      printf "gateway_%s_overhead_p50\t%.1f\t%.1f\t%.4f\tus\n", nm, o50, med("nginx-proxy" SUBSEP "rate" SUBSEP "p50_us") - d50, (med("nginx-proxy" SUBSEP "rate" SUBSEP "p50_us") - d50) ? o50 / (med("nginx-proxy" SUBSEP "rate" SUBSEP "p50_us") - d50) : 0 >> res
      printf "gateway_%s_overhead_p99\t%.1f\t%.1f\t%.4f\tus\n", nm, o99, med("nginx-proxy" SUBSEP "rate" SUBSEP "p99_us") - d99, (med("nginx-proxy" SUBSEP "rate" SUBSEP "p99_us") - d99) ? o99 / (med("nginx-proxy" SUBSEP "rate" SUBSEP "p99_us") - d99) : 0 >> res
      printf "gateway_%s_saturation_rps\t%.0f\t%.0f\t%.4f\treq/s\n", nm, med(nm SUBSEP "saturation" SUBSEP "rps"), med("nginx-proxy" SUBSEP "saturation" SUBSEP "rps"), med(nm SUBSEP "saturation" SUBSEP "rps") / med("nginx-proxy" SUBSEP "saturation" SUBSEP "rps") >> res
    }
  }
  if (srss != "") printf "llmsplit serve RSS after the runs: %d KiB\n", srss
}' "$dir/results"
