#!/bin/sh
# The judge end to end: `llmsplit replay` with router_settings.judge against `llmsplit mock` acting
# as models and judge, then `llmsplit report`: judge calls priced and never an arm, the judge score
# per arm, and the pairs the silent model won. Also the mock's judge options. usage: cli_judge.sh TOOL
tool=${1:-build/llmsplit}
tmp=$(mktemp -d)
mock=
cleanup() { [ -n "$mock" ] && kill $mock 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}

bad() { # NAME ARGS...: the mock refuses them with exit 2
  name=$1; shift
  "$tool" mock "$@" > "$tmp/out" 2>&1; rc=$?
  check "$name" [ $rc = 2 ]
}
bad cli_judge_mock_refuses_a_score_above_10 --judge-score gpt-4=11
bad cli_judge_mock_refuses_a_score_that_is_not_whole --judge-score gpt-4=7.5
bad cli_judge_mock_refuses_a_bias_above_1 --judge-position-bias 1.5
bad cli_judge_mock_refuses_a_malformed_rate_that_is_not_a_number --judge-malformed often
bad cli_judge_mock_refuses_an_empty_preferred_model --judge-prefers ''

"$tool" mock --listen 127.0.0.1:0 --judge-prefers gpt-4o --judge-score tgi=3 --judge-score gpt-4=8 \
    > "$tmp/mock.out" 2>/dev/null &
mock=$!
i=0; while [ ! -s "$tmp/mock.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
url=$(sed -n 's/^listening on //p' "$tmp/mock.out")
if [ -z "$url" ]; then echo "skip cli_judge: the mock did not start"; exit 0; fi

cat > "$tmp/config.json" <<JSON
{"model_list": [
  {"model_name": "chat", "litellm_params": {"model": "gpt-4", "api_base": "$url/v1", "api_key": "k", "weight": 0.5,
                                            "silent_model": "eval"}},
  {"model_name": "chat", "litellm_params": {"model": "huggingface/$url", "api_key": "k", "weight": 0.5}},
  {"model_name": "eval", "litellm_params": {"model": "openai/gpt-4o", "api_base": "$url/v1", "api_key": "k"}},
  {"model_name": "referee", "litellm_params": {"model": "openai/judge-model", "api_base": "$url/v1", "api_key": "k",
                                               "input_cost_per_token": 0.000001, "output_cost_per_token": 0.000002}}],
 "router_settings": {"mirror_threads": 2, "mirror_queue": 256,
                     "judge": {"model": "referee", "pairs": 1, "arms": 1}}}
JSON
awk 'BEGIN { for (i = 1; i <= 40; i++) printf "{\"prompt\": \"question %d\", \"user\": \"u%d\"}\n", i, i }' > "$tmp/prompts.jsonl"
"$tool" replay --config "$tmp/config.json" --model chat "$tmp/prompts.jsonl" --concurrency 4 --log "$tmp/log.jsonl" \
    > "$tmp/replay.out" 2>&1; rc=$?
check cli_judge_replay_exits_0 [ $rc = 0 ]
check cli_judge_replay_summary_names_the_judge grep -q '^judge: [0-9]* judged so far' "$tmp/replay.out"
scores=$(grep -c '"event":"score"' "$tmp/log.jsonl")
pairs=$(grep -c '"event":"judgement"' "$tmp/log.jsonl")
gpt4=$(grep '"role":"primary"' "$tmp/log.jsonl" | grep -c '"model":"gpt-4"')
judge_calls=$(grep -c '"role":"judge"' "$tmp/log.jsonl")
check cli_judge_every_call_is_scored [ "$scores" -eq 40 ]
check cli_judge_every_pair_is_judged [ "$pairs" -eq "$gpt4" -a "$gpt4" -gt 0 ]
check cli_judge_a_pair_takes_two_judge_calls [ "$judge_calls" -eq $((40 + 2 * gpt4)) ]

"$tool" report --json "$tmp/log.jsonl" > "$tmp/report.json" 2>&1; rc=$?
"$tool" report "$tmp/log.jsonl" > "$tmp/report.txt" 2>&1
check cli_judge_report_exits_0 [ $rc = 0 ]
# the judge's calls: their own entry, priced; the group's arms stay gpt-4 and tgi
check cli_judge_report_prices_judge_calls grep -q "\"judge_calls\":{\"judge-model\":{\"calls\":$judge_calls,\"errors\":0,\"cost_usd\":0\\.[0-9]" "$tmp/report.json"
check cli_judge_report_judge_is_no_arm sh -c '! grep -q "judge-model #" "$1"' - "$tmp/report.json"
check cli_judge_report_text_shows_judge_cost grep -q '^  judge-model  *'"$judge_calls"'  *0  *0\.[0-9]' "$tmp/report.txt"
# llama2 (tgi) scores 3, gpt-4 8: the means per arm, with their intervals
check cli_judge_report_scores_per_arm grep -q '"gpt-4 #0":{.*"judge_score":{"n":[0-9]*,"mean":8.0,"ci95":\[8.0,8.0\]}' "$tmp/report.json"
check cli_judge_report_low_arm_scores_lower grep -q '"tgi #1":{.*"judge_score":{"n":[0-9]*,"mean":3.0,' "$tmp/report.json"
check cli_judge_report_text_has_the_quality_table grep -Eq '^  tgi #1 +judge_score +[0-9]+ +3 ' "$tmp/report.txt"
# gpt-4o, preferred by the judge in both orders, wins every pair
check cli_judge_report_silent_wins_every_pair grep -q "\"gpt-4 #0 -> gpt-4o\":{\"pairs\":$gpt4,\"wins\":$gpt4,\"ties\":0,\"losses\":0," "$tmp/report.json"
check cli_judge_report_orders_agreed grep -q '"inconsistent":0,"inconsistency_rate":0.0,' "$tmp/report.json"
check cli_judge_report_text_names_the_lengths grep -q 'mean length of the winner' "$tmp/report.txt"
