#!/bin/sh
# `llmsplit feedback`: the appended record, its refusals, and the report reading it per arm.
# usage: cli_feedback.sh TOOL
tool=${1:-build/llmsplit}
tmp=$(mktemp -d)
mock=
cleanup() { [ -n "$mock" ] && kill $mock 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}

log=$tmp/log.jsonl
"$tool" feedback --log "$log" 0123456789abcdef0123456789abcdef thumbs_up 1; rc=$?
"$tool" json --check "$log" > /dev/null 2>&1; json_rc=$?
line=$(cat "$log")
check cli_feedback_appends_one_json_line [ $rc = 0 -a $json_rc = 0 -a "$(wc -l < "$log")" -eq 1 ]
check cli_feedback_line_has_the_fields sh -c 'case "$1" in
  "{\"ts\":\"20"*"\",\"event\":\"feedback\",\"request_id\":\"0123456789abcdef0123456789abcdef\",\"metric\":\"thumbs_up\",\"value\":1,\"group\":null,\"deployment\":null,\"model\":null}") exit 0;;
  *) exit 1;; esac' - "$line"
"$tool" feedback --log "$log" some-id csat -2.5; rc=$?
check cli_feedback_appends_and_takes_a_negative_value [ $rc = 0 -a "$(wc -l < "$log")" -eq 2 ]
check cli_feedback_second_line_value grep -q '"request_id":"some-id","metric":"csat","value":-2.5,' "$log"

bad() { # NAME ARGS...: exit 2, nothing appended
  name=$1; shift
  "$tool" feedback "$@" > "$tmp/out" 2>&1; rc=$?
  check "$name" [ $rc = 2 -a "$(wc -l < "$log")" -eq 2 ]
}
bad cli_feedback_refuses_a_bad_metric --log "$log" id 'thumbs up' 1
bad cli_feedback_refuses_a_long_metric --log "$log" id m2345678901234567890123456789012345678901234567890123456789012345 1
bad cli_feedback_refuses_a_value_that_is_not_a_number --log "$log" id ok yes
bad cli_feedback_refuses_an_infinite_value --log "$log" id ok 1e400
bad cli_feedback_needs_a_log id ok 1
bad cli_feedback_needs_three_arguments --log "$log" id ok
bad cli_feedback_refuses_a_fourth_argument --log "$log" id ok 1 2
bad cli_feedback_refuses_an_unknown_option --log "$log" --metric ok id ok 1
bad cli_feedback_refuses_an_empty_request_id --log "$log" '' ok 1
"$tool" feedback --help > "$tmp/out" 2>&1; rc=$?
check cli_feedback_help_exits_0 [ $rc = 0 ]
check cli_feedback_help_names_the_arguments grep -q 'REQUEST_ID METRIC VALUE' "$tmp/out"

# the report joins feedback to calls by request_id: the mean per arm
"$tool" mock --listen 127.0.0.1:0 > "$tmp/mock.out" 2>/dev/null &
mock=$!
i=0; while [ ! -s "$tmp/mock.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
url=$(sed -n 's/^listening on //p' "$tmp/mock.out")
if [ -z "$url" ]; then echo "skip cli_feedback report: the mock did not start"; exit 0; fi
calls=$tmp/calls.jsonl
for i in 1 2 3 4; do "$tool" chat --log "$calls" --model openai/gpt-4 --api-base "$url/v1" hi > /dev/null 2>&1; done
for id in $(sed -n 's/.*"event":"call","request_id":"\([0-9a-f]*\)".*/\1/p' "$calls"); do
  "$tool" feedback --log "$calls" "$id" thumbs_up 0.5
done
"$tool" report --json "$calls" > "$tmp/report" 2>&1; rc=$?
check cli_feedback_report_shows_the_mean_per_arm sh -c '[ $1 = 0 ] && grep -q "\"feedback.thumbs_up\":{\"n\":4,\"mean\":0.5,\"ci95\":\[0.5,0.5\]}" "$2"' - $rc "$tmp/report"
