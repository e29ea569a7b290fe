#!/bin/sh
# `llmsplit json`: exit codes (0 valid, 1 invalid, 2 usage) and messages as the README states them. usage: cli_json.sh TOOL
tool=${1:-build/llmsplit}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}
printf '{ "a" : [1, 2.50, "x"],\n  "b": null }\n' > "$tmp/ok.json"
printf '{"a": [1,\n 2,, 3]}' > "$tmp/bad.json"

"$tool" json "$tmp/ok.json" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_json_prints_minified_and_exits_0 [ $rc = 0 -a "$(cat "$tmp/out")" = '{"a":[1,2.50,"x"],"b":null}' ]

"$tool" json --check "$tmp/ok.json" > "$tmp/out" 2>&1; rc=$?
check cli_json_check_is_silent_on_valid [ $rc = 0 -a ! -s "$tmp/out" ]

"$tool" json --check "$tmp/bad.json" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_json_invalid_exits_1_with_line_col [ $rc = 1 -a "$(cat "$tmp/err")" = "llmsplit: json: 2:4: unexpected character" ]

"$tool" json "$tmp/bad.json" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_json_invalid_prints_nothing_on_stdout [ $rc = 1 -a ! -s "$tmp/out" ]

printf '[true]' | "$tool" json - > "$tmp/out" 2>&1; rc=$?
check cli_json_reads_stdin [ $rc = 0 -a "$(cat "$tmp/out")" = '[true]' ]

"$tool" json "$tmp/missing.json" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_json_missing_file_is_usage_error [ $rc = 2 -a -n "$(grep 'llmsplit: usage: cannot read' "$tmp/err")" ]

"$tool" json > "$tmp/out" 2>&1; rc=$?
check cli_json_without_file_is_usage_error [ $rc = 2 ]

"$tool" frobnicate > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_unknown_command_is_usage_error [ $rc = 2 -a "$(head -c 24 "$tmp/err")" = "llmsplit: usage: unknown" ]
