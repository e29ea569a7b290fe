#!/bin/sh
# A first check of the gateway's speed: wrk (POST, 16 connections, then one) straight to an nginx
# answering a fixed completion, and the same through `llmsplit serve`; then 2,000 req/s with hey.
# Prints wrk's and hey's own lines and the gateway's CPU per request (user+sys from /proc).
# Needs nginx, wrk and hey (Debian packages nginx-light, wrk, hey). The full benchmark is make bench.
# usage: bench/serve_quick.sh [TOOL]
tool=${1:-build/llmsplit}
for b in nginx wrk hey; do command -v $b >/dev/null 2>&1 || [ -x /usr/sbin/$b ] || { echo "serve_quick: $b is not installed"; exit 0; }; done
nginx=$(command -v nginx || echo /usr/sbin/nginx)
tmp=$(mktemp -d)
trap '[ -f "$tmp/nginx.pid" ] && kill $(cat "$tmp/nginx.pid") 2>/dev/null; kill $gw 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/nginx.conf" <<EOC
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $tmp;
  server {
    listen 127.0.0.1:$port;
    location /v1/chat/completions {
      default_type application/json;
      return 200 '{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21}}';
    }
  }
}
EOC
"$nginx" -c "$tmp/nginx.conf" -p "$tmp" || exit 0
echo '{"model_list":[{"model_name":"chat","litellm_params":{"model":"openai/gpt-4o","api_base":"http://127.0.0.1:'$port'/v1","api_key":"sk-x"}}]}' > "$tmp/cfg.json"
body='{"model":"chat","messages":[{"role":"user","content":"Hello, how are you?"}]}'
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\n' "'$body'" > "$tmp/post.lua"
"$tool" serve --config "$tmp/cfg.json" --listen 127.0.0.1:0 > "$tmp/gw.out" 2>&1 &
gw=$!
i=0; while ! grep -q '^listening on ' "$tmp/gw.out" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
url=$(sed -n 's/^listening on //p' "$tmp/gw.out")
direct=http://127.0.0.1:$port
for c in 16 1; do
  echo "== wrk -c$c direct";  wrk -t1 -c$c -d5s -s "$tmp/post.lua" --latency "$direct/v1/chat/completions" | grep -E '50%|99%|Requests/sec'
  t0=$(awk '{print $14+$15}' /proc/$gw/stat)
  echo "== wrk -c$c through the gateway"; wrk -t1 -c$c -d5s -s "$tmp/post.lua" --latency "$url/v1/chat/completions" > "$tmp/w.out"
  t1=$(awk '{print $14+$15}' /proc/$gw/stat)
  grep -E '50%|99%|Requests/sec|Non-2xx' "$tmp/w.out"
  n=$(awk '/requests in/ {print $1}' "$tmp/w.out")
  awk -v t="$((t1 - t0))" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "gateway CPU: %.1f us per request\n", t * 1e6 / hz / n }'
done
for u in "$direct" "$url"; do
  echo "== hey at 2,000 req/s: $u"; hey -z 6s -c 20 -q 100 -m POST -T application/json -d "$body" "$u/v1/chat/completions" | grep -E '50% in|99% in'
done
