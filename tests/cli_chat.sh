#!/bin/sh
# `llmsplit chat`, `replay` and `bench` against `llmsplit mock`: answers, exit codes, records.
# usage: cli_chat.sh TOOL
tool=${1:-build/llmsplit}
tmp=$(mktemp -d)
mock=
cleanup() { [ -n "$mock" ] && kill $mock 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
check() { name=$1; shift; if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi; }

"$tool" mock --listen 127.0.0.1:0 --fail broken=1 --latency slow=300 > "$tmp/mock.out" 2>/dev/null &
mock=$!
i=0; while [ ! -s "$tmp/mock.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
url=$(sed -n 's/^listening on //p' "$tmp/mock.out")
if [ -z "$url" ]; then echo "skip cli_chat: the mock did not start"; exit 0; fi
base="--api-base $url/v1 --api-key test-key-123456"

out=$("$tool" chat --model gpt-4 $base "Hello, caf\xc3\xa9" 2>"$tmp/err"); rc=$?
check cli_chat_prints_the_answer [ $rc = 0 -a "$out" = "mock reply from gpt-4: Hello, caf\xc3\xa9" ]

out=$(printf 'from stdin\n' | "$tool" chat --model gpt-4 $base - 2>/dev/null)
check cli_chat_reads_the_prompt_from_stdin [ "$out" = "mock reply from gpt-4: from stdin" ]

out=$("$tool" chat --model anthropic/claude-3 --api-base "$url" --api-key k --stream "streamed" 2>/dev/null); rc=$?
check cli_chat_streams [ $rc = 0 -a "$out" = "mock reply from claude-3: streamed" ]

"$tool" chat --model broken $base hi > /dev/null 2> "$tmp/err"; rc=$?
check cli_chat_provider_error_exits_4 [ $rc = 4 -a -n "$(grep '^llmsplit: provider: 500' "$tmp/err")" ]
check cli_chat_never_prints_the_key [ -z "$(grep 'test-key-123456' "$tmp/err")" ]

"$tool" chat --model gpt-4 --api-base http://127.0.0.1:1/v1 hi > /dev/null 2> "$tmp/err"; rc=$?
check cli_chat_network_error_exits_3 [ $rc = 3 -a -n "$(grep '^llmsplit: network: ' "$tmp/err")" ]

"$tool" chat --split gpt-4=-5 $base hi > /dev/null 2> "$tmp/err"; rc=$?
check cli_chat_config_error_exits_2 [ $rc = 2 -a -n "$(grep 'must be >= 0' "$tmp/err")" ]

"$tool" chat --model gpt-4 > /dev/null 2>&1; rc=$?
check cli_chat_without_prompt_is_usage [ $rc = 2 ]

"$tool" chat --model gpt-4 --timeout 1 --api-base "$url/v1" --api-key k --param x hi > /dev/null 2>&1; rc=$?
check cli_chat_bad_param_is_usage [ $rc = 2 ]

"$tool" chat --split gpt-4=80 --split openai/llama2=20 $base --silent gpt-4o --user alice \
    --log "$tmp/log.jsonl" --keep-responses hi > /dev/null 2>&1; rc=$?
lines=$(wc -l < "$tmp/log.jsonl")
check cli_chat_logs_primary_and_silent_records [ $rc = 0 -a "$lines" = 2 -a -n "$(grep '"role":"silent"' "$tmp/log.jsonl")" ]
check cli_chat_records_keep_no_key [ -z "$(grep 'test-key' "$tmp/log.jsonl")" ]

a=$("$tool" chat --split gpt-4=50 --split openai/llama2=50 $base --user bob hi 2>/dev/null)
b=$("$tool" chat --split gpt-4=50 --split openai/llama2=50 $base --user bob hi 2>/dev/null)
p=$("$tool" pick --split gpt-4=50 --split openai/llama2=50 --user bob)
check cli_chat_user_is_sticky_and_agrees_with_pick [ "$a" = "$b" -a "$a" = "mock reply from ${p#openai/}: hi" ]

for i in 1 2 3 4 5 6 7 8 9 10; do echo "{\"prompt\": \"q$i\", \"user\": \"u$i\"}"; done > "$tmp/prompts.jsonl"
echo 'not json' >> "$tmp/prompts.jsonl"
"$tool" replay --split gpt-4=80 --split openai/llama2=20 $base "$tmp/prompts.jsonl" --concurrency 3 \
    --log "$tmp/replay.jsonl" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_replay_sends_every_line_and_reports [ $rc = 0 -a -n "$(grep '^replay: 10 requests' "$tmp/out")" -a "$(wc -l < "$tmp/replay.jsonl")" = 10 ]
check cli_replay_says_which_line_was_skipped [ -n "$(grep 'line skipped: not JSON' "$tmp/err")" ]

"$tool" bench --model gpt-4 $base -n 50 -c 4 > "$tmp/out" 2>/dev/null; rc=$?
check cli_bench_prints_rate_and_percentiles [ $rc = 0 -a -n "$(grep '^bench: 50 requests' "$tmp/out")" -a -n "$(grep '^gpt-4 ' "$tmp/out")" ]
