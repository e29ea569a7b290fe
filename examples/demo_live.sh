#!/bin/sh
# `make demo-live`: the dashboard with an experiment running behind it, until Ctrl-C. A local mock
# provider plays the models; `llmsplit serve` runs the gateway and its control plane; traffic
# flows through the gateway without pause (what the dashboard shows live), and an embedded
# client (`llmsplit replay` with --config pointing at the gateway's /config) follows every change
# made on the page within a second. No keys, no network.
# usage: sh examples/demo_live.sh [BUILD_DIR]   (DEMO_LISTEN=HOST:PORT, default 127.0.0.1:4000)
set -e
build=${1:-build}
out="$build/demo-live"
key=demo-master-key
mkdir -p "$out"
rm -f "$out"/*.jsonl
pids=
servers=
# the mock and the gateway first: a replay still running then fails fast, and its loop ends
stop() { for p in $servers $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null || true; }
trap 'stop; exit 0' INT TERM
trap stop EXIT
url_of() { # FILE: waits for "listening on URL" and prints the URL
  i=0; while ! grep -q '^listening on ' "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
  sed -n 's/^listening on //p' "$1"
}

"$build/llmsplit" mock --listen 127.0.0.1:0 --latency gpt-4=45 --latency gpt-4o-mini=20 --fail gpt-4o-mini=0.03 \
    --latency claude-3-haiku=30 --latency llama-3-70b=80 --fail llama-3-70b=0.02 --latency gpt-4o=60 \
    > "$out/mock.out" 2> "$out/mock.err" &
servers="$servers $!"
mock=$(url_of "$out/mock.out")
[ -n "$mock" ] || { echo "demo-live: the mock did not start:"; cat "$out/mock.err"; exit 1; }

cat > "$out/config.json" <<JSON
{
  "model_list": [
    {"model_name": "chat", "litellm_params": {"model": "openai/gpt-4", "api_base": "$mock/v1", "api_key": "demo",
                                              "weight": 0.8, "silent_model": "eval"}},
    {"model_name": "chat", "litellm_params": {"model": "openai/gpt-4o-mini", "api_base": "$mock/v1", "api_key": "demo",
                                              "weight": 0.2}},
    {"model_name": "summarize", "litellm_params": {"model": "openai/claude-3-haiku", "api_base": "$mock/v1", "api_key": "demo",
                                                   "input_cost_per_token": 0.00000025, "output_cost_per_token": 0.00000125}},
    {"model_name": "summarize", "litellm_params": {"model": "openai/llama-3-70b", "api_base": "$mock/v1", "api_key": "demo",
                                                   "input_cost_per_token": 0.0000009, "output_cost_per_token": 0.0000009}},
    {"model_name": "eval", "litellm_params": {"model": "openai/gpt-4o", "api_base": "$mock/v1", "api_key": "demo"}}
  ],
  "router_settings": {"mirror_sample_rate": 0.5, "mirror_threads": 4,
                      "rollback": {"window": 50, "max_error_rate": 0.5, "cooldown_s": 30}},
  "general_settings": {"master_key": "$key", "config_read_key": "demo-read-key"}
}
JSON

listen=${DEMO_LISTEN:-127.0.0.1:4000}
"$build/llmsplit" serve --config "$out/config.json" --listen "$listen" --log "$out/gateway.jsonl" \
    > "$out/serve.out" 2> "$out/serve.err" &
serve=$!
gw=$(url_of "$out/serve.out")
if [ -z "$gw" ] && [ -z "$DEMO_LISTEN" ]; then   # 4000 taken: any free port
  "$build/llmsplit" serve --config "$out/config.json" --listen 127.0.0.1:0 --log "$out/gateway.jsonl" \
      > "$out/serve.out" 2> "$out/serve.err" &
  serve=$!
  gw=$(url_of "$out/serve.out")
fi
servers="$servers $serve"
[ -n "$gw" ] || { echo "demo-live: serve did not start:"; cat "$out/serve.err"; exit 1; }

awk 'BEGIN { for (i = 1; i <= 2000; i++)
  printf "{\"messages\": [{\"role\": \"user\", \"content\": \"Question %d\"}], \"user\": \"user-%d\"}\n", i, i % 211 }' \
  > "$out/prompts.jsonl"
# traffic through the gateway, for ever (each replay is 2000 requests)
for group in chat chat summarize; do
  ( while kill -0 $serve 2>/dev/null; do "$build/llmsplit" replay --model "openai/$group" --api-base "$gw/v1" --api-key "$key" \
        "$out/prompts.jsonl" --concurrency 1 > /dev/null 2>&1 || sleep 1; done ) &
  pids="$pids $!"
done
# an embedded client following the control plane
( while kill -0 $serve 2>/dev/null; do LLMSPLIT_CONFIG_KEY=demo-read-key "$build/llmsplit" replay --config "$gw/config" --config-poll 1 \
      --model chat --log "$out/embedded.jsonl" "$out/prompts.jsonl" --concurrency 1 > /dev/null 2>&1 || sleep 1; done ) &
pids="$pids $!"

echo
echo "== the dashboard: $gw/ui   (log in with the master key: $key)"
echo "   the gateway: $gw/v1 (OpenAI-compatible); its records: $out/gateway.jsonl"
echo "   an embedded client follows $gw/config (records: $out/embedded.jsonl)"
echo "   Ctrl-C stops everything."
while :; do sleep 3600; done
