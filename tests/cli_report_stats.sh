#!/bin/sh
# `llmsplit report`'s verdict: every statistic of --json against scipy (tests/report_oracle.py,
# Debian's python3-scipy) on a generated log, merged logs, the sample ratio check, --control,
# --fail-on worse, the HTML error bars, and an A/A simulation of the always-valid p-value.
# usage: cli_report_stats.sh TOOL
tool=${1:-build/llmsplit}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}

if ! "$tool" report --help 2>&1 | grep -q -- '--json'; then
  echo "skip cli_report_stats: report --json not built yet"
  exit 0
fi
# Debian's scipy lives with Debian's python; a python from elsewhere first on PATH may lack it
py=
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import scipy.stats' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
  echo "skip cli_report_stats: python3 with scipy not installed (apt-get install python3-scipy; make test-deps does)"
  exit 0
fi
oracle() { "$py" "$here/report_oracle.py" "$@"; }

# ---- every figure against scipy ----
oracle gen 1 "$tmp/log.jsonl"
"$tool" report --json "$tmp/log.jsonl" > "$tmp/r.json" 2> "$tmp/err"; rc=$?
check cli_report_json_exits_0 [ $rc = 0 -a ! -s "$tmp/err" ]
check cli_report_json_is_strict_json_without_nan "$py" -c '
import json, sys
json.load(open(sys.argv[1]), parse_constant=lambda c: sys.exit("non-JSON constant " + c))' "$tmp/r.json"
oracle check "$tmp/log.jsonl" "$tmp/r.json"

# a second seed: other numbers, the same formulas
oracle gen 2 "$tmp/log2.jsonl"
"$tool" report --json "$tmp/log2.jsonl" > "$tmp/r2.json"
oracle check "$tmp/log2.jsonl" "$tmp/r2.json" | sed 's/^\(ok  *\|FAIL \)report_stats_/\1report_stats_seed2_/'

# ---- several logs are one log: in the order given, '-' for stdin ----
n=$(wc -l < "$tmp/log.jsonl")
head -n $((n / 3)) "$tmp/log.jsonl" > "$tmp/a.jsonl"
tail -n +$((n / 3 + 1)) "$tmp/log.jsonl" | head -n $((n / 3)) > "$tmp/b.jsonl"
tail -n +$((2 * (n / 3) + 1)) "$tmp/log.jsonl" > "$tmp/c.jsonl"
"$tool" report --json "$tmp/a.jsonl" - "$tmp/c.jsonl" < "$tmp/b.jsonl" > "$tmp/merged.json"
check cli_report_merges_logs_in_the_order_given_with_stdin cmp -s "$tmp/merged.json" "$tmp/r.json"
"$tool" report "$tmp/a.jsonl" "$tmp/b.jsonl" "$tmp/c.jsonl" > "$tmp/merged.txt"
check cli_report_names_every_log [ "$(head -n 1 "$tmp/merged.txt")" = "llmsplit report: $tmp/a.jsonl, $tmp/b.jsonl, $tmp/c.jsonl" ]

# ---- the verdict ----
verdict() { "$py" -c 'import json, sys; d = json.load(open(sys.argv[1]))["groups"][sys.argv[2]]["arms"][sys.argv[3]]; print(d.get("verdict", "-"))' "$@"; }
check cli_report_worse_arm_is_worse [ "$(verdict "$tmp/r.json" chat 'tgi #1')" = worse ]
"$tool" report "$tmp/log.jsonl" > "$tmp/out.txt"
check cli_report_verdict_comes_first_one_sentence_per_arm [ "$(sed -n '/^verdict:/,/^$/p' "$tmp/out.txt" | grep -c '^  [a-z]*: ')" = 3 -a \
  "$(grep -n '^verdict:' "$tmp/out.txt" | cut -d: -f1)" -lt "$(grep -n '^group chat:' "$tmp/out.txt" | cut -d: -f1)" ]
check cli_report_worse_sentence_names_metric_and_direction [ -n "$(grep -x '  chat: tgi #1 is worse than gpt-4 #0: error rate higher: .*' "$tmp/out.txt")" ]
"$tool" report --fail-on worse "$tmp/log.jsonl" > /dev/null; rc=$?
check cli_report_fail_on_worse_exits_6 [ $rc = 6 ]
grep -v '"group": "chat"' "$tmp/log.jsonl" > "$tmp/edge.jsonl"
"$tool" report --fail-on worse "$tmp/edge.jsonl" > /dev/null; rc=$?
check cli_report_fail_on_worse_exits_0_without_a_worse_arm [ $rc = 0 ]
"$tool" report --fail-on better "$tmp/log.jsonl" > /dev/null 2> "$tmp/err"; rc=$?
check cli_report_fail_on_takes_only_worse [ $rc = 2 -a -n "$(grep 'fail-on takes "worse"' "$tmp/err")" ]
head -n 300 "$tmp/log.jsonl" | "$tool" report --json - > "$tmp/few.json"
check cli_report_few_calls_are_inconclusive [ "$(verdict "$tmp/few.json" chat 'tgi #1')" = inconclusive ]

"$tool" report --json --control 'claude #2' "$tmp/log.jsonl" > "$tmp/ctl.json"
check cli_report_control_option_picks_the_control [ "$("$py" -c 'import json,sys; g = json.load(open(sys.argv[1]))["groups"]["chat"]; print(g["control"], "vs_control" in g["arms"]["claude #2"], "vs_control" in g["arms"]["gpt-4 #0"])' "$tmp/ctl.json")" = "claude #2 False True" ]
"$tool" report --control nosuch "$tmp/log.jsonl" > /dev/null 2> "$tmp/err"; rc=$?
check cli_report_control_that_no_group_has_is_usage_error [ $rc = 2 -a -n "$(grep 'no arm of that name' "$tmp/err")" ]

# ---- sample ratio mismatch: the split asked 50/30/20, traffic went 56/24/20 ----
oracle gen 3 "$tmp/srm.jsonl" --srm
"$tool" report --json "$tmp/srm.jsonl" > "$tmp/srm.json"
check cli_report_srm_is_flagged_and_every_challenger_invalid [ "$("$py" -c '
import json, sys
g = json.load(open(sys.argv[1]))["groups"]["chat"]
print(g["srm"]["mismatch"], g["srm"]["p_value"] < 0.001, sorted({a.get("verdict") for n, a in g["arms"].items() if n != g["control"]}))' "$tmp/srm.json")" = "True True ['invalid']" ]
oracle check "$tmp/srm.jsonl" "$tmp/srm.json" | grep 'srm_' | sed 's/report_stats_/report_stats_mismatch_/'
"$tool" report "$tmp/srm.jsonl" > "$tmp/srm.txt"
check cli_report_srm_says_first_that_it_is_not_trustworthy \
  [ -n "$(sed -n '/^verdict:/{n;p;}' "$tmp/srm.txt" | grep '^  chat: the comparison is not trustworthy: sample ratio mismatch')" ]
check cli_report_without_epochs_says_srm_cannot_run [ -n "$(grep -x '  edge: sample ratio check not run: no primary call carries a split_epoch' "$tmp/srm.txt")" -a \
  "$("$py" -c 'import json,sys; s = json.load(open(sys.argv[1]))["groups"]["edge"]["srm"]; print(s["p_value"], s["reason"])' "$tmp/srm.json")" = "None no primary call carries a split_epoch" ]

# ---- HTML: intervals as error bars ----
"$tool" report "$tmp/log.jsonl" --html "$tmp/page.html" > /dev/null
opened() { grep -o "<$1[ >]" "$tmp/page.html" | wc -l; }
closed() { grep -o "</$1>" "$tmp/page.html" | wc -l; }
check cli_report_html_draws_intervals_as_error_bars [ -n "$(grep '95% Wilson intervals' "$tmp/page.html")" -a \
  -n "$(grep 'arm - control, 95% intervals' "$tmp/page.html")" -a "$(opened svg)" = "$(closed svg)" -a \
  -z "$(grep -iE 'https?://|<script|src=' "$tmp/page.html")" ]
"$tool" report --json "$tmp/log.jsonl" --html "$tmp/page2.html" > "$tmp/j.json"
check cli_report_json_with_html_prints_only_json cmp -s "$tmp/j.json" "$tmp/r.json"

# ---- A/A: 200 experiments with equal arms, each report read at 10 points ----
oracle aa "$tool" 200 > "$tmp/aa.txt"
sed 's/^/  /' "$tmp/aa.txt"
worst=$(sed -n 's/^worst always-valid crossing rate: //p' "$tmp/aa.txt")
check cli_report_always_valid_p_crosses_005_in_at_most_8_percent_of_aa_experiments \
  awk -v w="$worst" 'BEGIN { exit !(w != "" && w <= 0.08) }'
check cli_report_fixed_horizon_p_read_10_times_crosses_more_often awk '
  /^A\/A error_rate/ { for (i = 1; i <= NF; i++) if ($i ~ /%,?$/) v[++n] = $i + 0 }
  END { exit !(n == 2 && v[1] > v[2]) }' "$tmp/aa.txt"
