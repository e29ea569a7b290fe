#!/bin/sh
# Holds N streams open through `llmsplit serve` and reports its RSS and threads, and a short
# request's time meanwhile (bench/serve_streams.py). The upstream is `llmsplit mock` sending a
# stream chunk every 2 s; the short requests go to the mock too, unslowed.
# usage: bench/serve_streams.sh [TOOL] [N]     (N default 1000)
tool=${1:-build/llmsplit}
n=${2:-1000}
tmp=$(mktemp -d)
trap 'kill $mock $gw 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
url_of() { i=0; while ! grep -q '^listening on ' "$1" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; sed -n 's/^listening on //p' "$1"; }
"$tool" mock --listen 127.0.0.1:0 --chunk-delay drip=2000 > "$tmp/mock.out" 2>&1 &
mock=$!
m=$(url_of "$tmp/mock.out")
cat > "$tmp/cfg.json" <<EOC
{"model_list":[{"model_name":"drip","litellm_params":{"model":"openai/drip","api_base":"$m/v1","api_key":"k"}},
{"model_name":"fast","litellm_params":{"model":"openai/fast","api_base":"$m/v1","api_key":"k"}}]}
EOC
"$tool" serve --config "$tmp/cfg.json" --listen 127.0.0.1:0 > "$tmp/gw.out" 2>&1 &
gw=$!
python3 "$(dirname "$0")/serve_streams.py" "$(url_of "$tmp/gw.out")" "$n" "$gw"
