#!/bin/sh
# `make demo`: the tutorial's A/B test end to end, with no keys and no network. A local mock
# provider plays GPT-4, a Llama2 endpoint on Hugging Face (a little slower and flakier), a
# silent candidate (gpt-4o) and a judge model; a few hundred prompts go through an 80/20 split
# with every request mirrored to the silent model; the judge scores a share of each arm's answers
# (the mock's judge gives Llama2's answers 3 and GPT-4's 8) and compares every mirrored pair in
# both orders (it prefers gpt-4o's answers); then the A/B report, as text and as an HTML page.
set -e
build=${1:-build}
out="$build/demo"
mkdir -p "$out"
rm -f "$out/ab.jsonl"
"$build/llmsplit" mock --listen 127.0.0.1:0 --latency gpt-4=40 --latency tgi=90 --fail tgi=0.08 \
    --latency gpt-4o=60 --latency judge=20 --judge-score tgi=3 --judge-score gpt-4=8 --judge-prefers gpt-4o \
    > "$out/mock.out" 2> "$out/mock.err" &
mock=$!
trap 'kill $mock 2>/dev/null; wait $mock 2>/dev/null || true' EXIT INT TERM
i=0
url=
while [ -z "$url" ] && [ $i -lt 200 ]; do   # up to 10 s on a busy machine
  sleep 0.05; i=$((i+1))
  url=$(sed -n 's/^listening on \(http[^ ]*\)$/\1/p' "$out/mock.out")
done
[ -n "$url" ] || { echo "demo: the mock did not start:"; cat "$out/mock.err"; exit 1; }
echo "== mock provider at $url"

cat > "$out/config.json" <<JSON
{
  "model_list": [
    {"model_name": "chat", "litellm_params": {"model": "gpt-4", "api_base": "$url/v1", "api_key": "demo",
                                              "weight": 0.8, "silent_model": "eval"}},
    {"model_name": "chat", "litellm_params": {"model": "huggingface/$url", "api_key": "demo",
                                              "weight": 0.2, "silent_model": "eval",
                                              "input_cost_per_token": 0.0000002, "output_cost_per_token": 0.0000002}},
    {"model_name": "eval", "litellm_params": {"model": "openai/gpt-4o", "api_base": "$url/v1", "api_key": "demo"}},
    {"model_name": "referee", "litellm_params": {"model": "openai/judge", "api_base": "$url/v1", "api_key": "demo",
                                                 "input_cost_per_token": 0.0000025, "output_cost_per_token": 0.00001}}
  ],
  "router_settings": {"num_retries": 0, "mirror_threads": 4, "mirror_queue": 512,
                      "judge": {"model": "referee", "pairs": 1, "arms": 0.5, "criteria": "correct, helpful and concise"},
                      "rollback": {"window": 50, "max_error_rate": 0.5, "cooldown_s": 30}}
}
JSON
echo "== config: 80% gpt-4, 20% Llama2 on a Hugging Face endpoint, every request mirrored to gpt-4o;"
echo "   a judge scores half the answers of each arm and compares every mirrored pair"
cat "$out/config.json"

n=300
awk -v n=$n 'BEGIN { for (i = 1; i <= n; i++)
  printf "{\"messages\": [{\"role\": \"user\", \"content\": \"Question %d: how are you today?\"}], \"user\": \"user-%d\"}\n", i, i % 97 }' \
  > "$out/prompts.jsonl"
echo
echo "== replaying $n prompts, 8 at a time"
"$build/llmsplit" replay --config "$out/config.json" --model chat "$out/prompts.jsonl" --concurrency 8 \
    --log "$out/ab.jsonl" --keep-responses
echo
echo "== the A/B report (from $out/ab.jsonl)"
"$build/llmsplit" report "$out/ab.jsonl" --html "$out/ab-report.html"
echo
echo "HTML report: $out/ab-report.html"
echo "The same experiment live, with the dashboard to change the split from a page: make demo-live"
