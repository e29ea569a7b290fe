#!/bin/sh
# A fleet of N config_url clients (default 1000) polling one `llmsplit serve` every INTERVAL ms
# (default 1000) for SECONDS (default 30): serve's CPU, the polls' p50/p99, and how long the last
# client takes to see a change made halfway (bench/config_pollers.c does the polling).
# usage: sh bench/config_pollers.sh [BUILD_DIR] [N] [INTERVAL_MS] [SECONDS]
build=${1:-build}
n=${2:-1000}
interval=${3:-1000}
seconds=${4:-30}
set -e
${CC:-cc} -std=c99 -O2 -o "$build/config_pollers" bench/config_pollers.c
tmp=$(mktemp -d)
serve=
cleanup() { [ -n "$serve" ] && kill "$serve" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
cat > "$tmp/cfg.json" <<EOF
{"model_list": [
  {"model_name": "chat", "litellm_params": {"model": "openai/gpt-a", "api_base": "http://127.0.0.1:9/v1", "weight": 0.8}},
  {"model_name": "chat", "litellm_params": {"model": "openai/gpt-b", "api_base": "http://127.0.0.1:9/v1", "weight": 0.2}}],
 "general_settings": {"master_key": "mk-bench", "config_read_key": "rk-bench"}}
EOF
# room for the fleet's descriptors
ulimit -n 4096 2>/dev/null || true
"$build/llmsplit" serve --config "$tmp/cfg.json" --listen 127.0.0.1:0 > "$tmp/out" 2>&1 &
serve=$!
i=0; while ! grep -q '^listening on ' "$tmp/out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
port=$(sed -n 's/^listening on http:\/\/127.0.0.1://p' "$tmp/out")
"$build/config_pollers" 127.0.0.1 "$port" "$serve" rk-bench mk-bench "$n" "$interval" "$seconds"
