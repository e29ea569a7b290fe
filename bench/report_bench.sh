#!/bin/sh
# usage: bench/report_bench.sh [BUILD_DIR] [RECORDS]
# `llmsplit report` with the verdict against the report before it (tools/report.c from git
# ${BASE:-main}, built with this checkout's header and other tools so only the report differs), on
# one generated log of RECORDS records (default 2.4 M: primary calls with split_epoch and
# request_id, a mirrored twin for one call in ten, score and feedback events for one call in
# four, split events). Prints wall and CPU time and peak memory of each (best of 3) and the ratios.
# Not a test: the figures depend on the machine; the target is a time ratio of at most 2.
build=${1:-build}
records=${2:-2400000}
dir=$build/report-bench
mkdir -p "$dir/base/tools" || exit 1
top=$(cd "$(dirname "$0")/.." && pwd)

[ -x "$build/llmsplit" ] || { echo "report_bench: build $build/llmsplit first (make build/llmsplit)"; exit 2; }
cp "$top"/tools/*.c "$top"/tools/*.h "$dir/base/tools/" && cp "$top/llmsplit.h" "$dir/base/" &&
  git -C "$top" show "${BASE:-main}:tools/report.c" > "$dir/base/tools/report.c" || exit 1
if [ ! -x "$dir/llmsplit-base" ] || [ "$dir/base/tools/report.c" -nt "$dir/llmsplit-base" ]; then
  echo "building the report of ${BASE:-main}"
  cc -std=c99 -O2 -o "$dir/llmsplit-base" "$dir/base/tools/llmsplit.c" -Wl,-Bstatic -lbearssl -Wl,-Bdynamic -lpthread -lm || exit 1
fi

log=$dir/log-$records.jsonl
if [ ! -s "$log" ]; then
  echo "writing $records records to $log"
  awk -v N="$records" 'BEGIN {
    srand(11)
    print "{\"event\":\"split\",\"epoch\":1,\"group\":\"chat\",\"weights\":{\"gpt-4 #0\":0.8,\"tgi #1\":0.15,\"claude #2\":0.05}}"
    while (n < N) {
      i++; t = i * 3
      u = rand(); d = u < 0.8 ? 0 : u < 0.95 ? 1 : 2; m = d == 0 ? "gpt-4" : d == 1 ? "tgi" : "claude"
      ok = rand() < 0.95
      printf "{\"ts\":\"2026-11-21T%02d:%02d:%02d.%03dZ\",\"event\":\"call\",\"request_id\":\"req-%d\",\"pair_id\":\"p%d\",\"role\":\"primary\",\"is_silent_experiment\":false,\"group\":\"chat\",\"model\":\"%s\",\"provider\":\"openai\",\"deployment\":%d,\"sticky\":false,\"fallback_from\":null,\"status\":\"%s\",\"http_status\":%d,\"error\":%s,\"latency_ms\":%.1f,\"ttft_ms\":null,\"prompt_tokens\":%d,\"completion_tokens\":%d,\"cost_usd\":%.6f,\"finish_reason\":\"stop\",\"split_epoch\":1}\n",
        int(t / 3600000) % 24, int(t / 60000) % 60, int(t / 1000) % 60, t % 1000, i, i, m, d, ok ? "ok" : "error",
        ok ? 200 : 503, ok ? "null" : "\"provider: 503 overloaded\"", 100 + rand() * 900, 10 + int(rand() * 90), 5 + int(rand() * 200), rand() / 100
      n++
      if (i % 10 == 0 && n < N) { printf "{\"event\":\"call\",\"request_id\":\"req-%d\",\"pair_id\":\"p%d\",\"role\":\"silent\",\"is_silent_experiment\":true,\"group\":\"eval\",\"model\":\"gpt-4o\",\"deployment\":0,\"status\":\"ok\",\"latency_ms\":%.1f,\"cost_usd\":0.001}\n", i, i, 100 + rand() * 500; n++ }
      if (i % 4 == 0 && n < N) { printf "{\"event\":\"score\",\"request_id\":\"req-%d\",\"score\":%.1f}\n", i, 1 + rand() * 9; n++ }
      if (i % 4 == 2 && n < N) { printf "{\"event\":\"feedback\",\"request_id\":\"req-%d\",\"metric\":\"thumbs_up\",\"value\":%d}\n", i, rand() < 0.7; n++ }
    }
  }' > "$log" || exit 1
fi
echo "log: $(wc -l < "$log") lines, $(du -m "$log" | cut -f1) MB"

# best of 3: wall seconds, CPU seconds, peak RSS in KB
measure() {
  best=
  for k in 1 2 3; do
    /usr/bin/time -f '%e %U %S %M' -o "$dir/time" "$@" > /dev/null || exit 1
    line=$(awk '{ printf "%.2f %.2f %d", $1, $2 + $3, $4 }' "$dir/time")
    best=$(printf '%s\n%s\n' "$best" "$line" | awk 'NF && (!b || $1 < b) { b = $1; l = $0 } END { print l }')
  done
  echo "$best"
}
base=$(measure "$dir/llmsplit-base" report "$log")
new=$(measure "$build/llmsplit" report "$log")
json=$(measure "$build/llmsplit" report --json "$log")
printf '%-28s %8s %8s %10s\n' "" "wall s" "CPU s" "peak MB"
for row in "before (${BASE:-main}):$base" "with the verdict:$new" "with the verdict, --json:$json"; do
  set -- ${row#*:}
  printf '%-28s %8s %8s %10.0f\n' "${row%%:*}" "$1" "$2" "$(( $3 / 1024 ))"
done
set -- $base; bw=$1; bc=$2; bm=$3
set -- $new
awk -v bw="$bw" -v bc="$bc" -v bm="$bm" -v nw="$1" -v nc="$2" -v nm="$3" 'BEGIN {
  printf "ratio with/before: wall %.2f, CPU %.2f, peak memory %.2f (target: time at most 2)\n", nw / bw, nc / bc, nm / bm }'
