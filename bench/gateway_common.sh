# Sourced by bench/gateway_bench.sh and bench/gateway_instructions.sh, after they set $dir (a
# scratch directory) and $nginx: free ports, waiting for a listener, the fixed completion the
# upstream answers, and an nginx config in $dir/NAME. Started processes go in $pids; the trap
# stops them and removes $dir.
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; sleep 0.2; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_open() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
wait_open() { # PORT [TRIES of 20 ms, default 500]
  i=0; while [ $i -lt "${2:-500}" ]; do port_open "$1" && return 0; sleep 0.02; i=$((i+1)); done; return 1; }

completion='{"id":"chatcmpl-bench0001","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! I am doing well, thank you. How can I help you today?"},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":25,"completion_tokens":16,"total_tokens":41},"system_fingerprint":"fp_bench"}'

nginx_conf() { # NAME "SERVER BLOCK" ["MAIN-CONTEXT LINES"]: $dir/NAME/nginx.conf, one worker
  mkdir -p "$dir/$1/logs"
  cat > "$dir/$1/nginx.conf" <<EOC
worker_processes 1;
${3:-}
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/$1/body; proxy_temp_path $dir/$1/proxy; fastcgi_temp_path $dir/$1/fcgi;
  uwsgi_temp_path $dir/$1/uwsgi; scgi_temp_path $dir/$1/scgi;
  keepalive_requests 100000000; keepalive_timeout 300s;
  $2
}
EOC
}
upstream_block() { echo "server { listen 127.0.0.1:$1; location = /v1/chat/completions { default_type application/json; return 200 '$completion'; } }"; }
proxy_block() { # PROXY_PORT UPSTREAM_PORT: proxy_pass over kept-alive upstream connections
  echo "upstream up { server 127.0.0.1:$2; keepalive 64; }
  server { listen 127.0.0.1:$1; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"; }
