#!/bin/sh
# `llmsplit pick` as the README states it, and its agreement with a real nginx split_clients table
# when nginx and curl are installed. usage: cli_pick.sh TOOL
tool=${1:-build/llmsplit}
tmp=$(mktemp -d)
nginx_pid=
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}

# Until the subcommand is wired into the tool, say so once and pass.
"$tool" pick --help > "$tmp/out" 2>&1; rc=$?
if [ ! -x "$tool" ] || grep -q 'unknown command' "$tmp/out" || ! grep -q 'pick' "$tmp/out"; then
  echo "skip cli_pick: '$tool pick' is not available yet (rc $rc)"
  exit 0
fi

check cli_pick_help_exits_0 [ $rc = 0 ]

# nginx: split_clients "$arg_key" $v { 51.2% a; 10% b; * c; } puts keys "1".."20" 12/2/6, in this order.
users=
i=1; while [ $i -le 20 ]; do users="$users --user $i"; i=$((i + 1)); done
# shellcheck disable=SC2086
"$tool" pick --split a=51.2 --split b=10 --split c=38.8 $users > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_pick_nginx_vector_keys_1_to_20 [ $rc = 0 -a "$(tr -d '\n' < "$tmp/out")" = aabaaacabaacacacacac ]
check cli_pick_prints_one_line_per_user [ "$(wc -l < "$tmp/out")" -eq 20 -a ! -s "$tmp/err" ]

# the same weights as fractions: the same split
# shellcheck disable=SC2086
"$tool" pick --split a=0.512 --split b=0.1 --split c=0.388 $users > "$tmp/out2" 2>&1
check cli_pick_80_and_0_8_style_weights_agree cmp -s "$tmp/out" "$tmp/out2"

# the weight follows the LAST '=', and the model string is printed exactly as given
"$tool" pick --split 'huggingface/https://e.example/?x=y=1' --split 'ollama/llama2=0' --user alice > "$tmp/out" 2>&1; rc=$?
check cli_pick_weight_follows_the_last_equals_sign [ $rc = 0 -a "$(cat "$tmp/out")" = 'huggingface/https://e.example/?x=y' ]

"$tool" pick --split gpt-4=80 --split llama2=20 --user alice --user bob --user alice > "$tmp/out" 2>&1
first=$(sed -n 1p "$tmp/out"); third=$(sed -n 3p "$tmp/out")
check cli_pick_same_key_same_model [ -n "$first" -a "$first" = "$third" ]

# no --user: one random draw; an empty --user is no key either (random, not always the first arm)
"$tool" pick --split gpt-4=50 --split llama2=50 > "$tmp/out" 2>&1; rc=$?
check cli_pick_without_user_prints_one_draw [ $rc = 0 -a "$(wc -l < "$tmp/out")" -eq 1 ]
: > "$tmp/draws"
i=0; while [ $i -lt 40 ]; do "$tool" pick --split gpt-4=50 --split llama2=50 --user '' >> "$tmp/draws" 2>&1; i=$((i + 1)); done
check cli_pick_empty_user_draws_at_random [ "$(sort -u "$tmp/draws" | tr '\n' ' ')" = "gpt-4 llama2 " ]

"$tool" pick --split a=1 --split b=1 --split c=1 --seed 42 --user '' --user '' --user '' --user '' > "$tmp/out" 2>&1
"$tool" pick --split a=1 --split b=1 --split c=1 --seed 42 --user '' --user '' --user '' --user '' > "$tmp/out2" 2>&1
check cli_pick_seed_makes_draws_reproducible cmp -s "$tmp/out" "$tmp/out2"

# errors: usage and config, both exit 2, nothing on stdout
expect_error() { # NAME CATEGORY ARGS...
  name=$1; category=$2; shift 2
  "$tool" pick "$@" > "$tmp/out" 2> "$tmp/err"; rc=$?
  check "$name" [ $rc = 2 -a ! -s "$tmp/out" -a -n "$(grep "^llmsplit: $category: " "$tmp/err")" ]
}
expect_error cli_pick_split_without_equals_is_usage_error usage --split gpt-4
expect_error cli_pick_split_without_model_is_usage_error usage --split =5
expect_error cli_pick_weight_not_a_number_is_usage_error usage --split gpt-4=lots
expect_error cli_pick_unknown_option_is_usage_error usage --split gpt-4=1 --frobnicate
expect_error cli_pick_bare_argument_is_usage_error usage --split gpt-4=1 alice
expect_error cli_pick_seed_zero_is_usage_error usage --split gpt-4=1 --seed 0
expect_error cli_pick_negative_weight_is_config_error config --split gpt-4=80 --split llama2=-20
expect_error cli_pick_all_zero_weights_is_config_error config --split gpt-4=0 --split llama2=0
expect_error cli_pick_duplicate_model_is_config_error config --split gpt-4=1 --split gpt-4=2
"$tool" pick > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_pick_without_split_prints_usage [ $rc = 2 -a -n "$(grep 'usage: llmsplit pick' "$tmp/err")" ]

# A real nginx with the same table must put every key where pick puts it.
nginx=$(command -v nginx 2>/dev/null)
for n in /usr/sbin/nginx /usr/local/sbin/nginx /usr/local/nginx/sbin/nginx; do
  [ -z "$nginx" ] && [ -x "$n" ] && nginx=$n
done
if [ -z "$nginx" ]; then
  echo "skip cli_pick_agrees_with_nginx: nginx not installed (apt-get install nginx-light)"
  exit 0
fi
if ! command -v curl > /dev/null 2>&1; then
  echo "skip cli_pick_agrees_with_nginx: curl not installed"
  exit 0
fi
mkdir -p "$tmp/ngx"
started=
attempt=0
while [ $attempt -lt 5 ] && [ -z "$started" ]; do
  attempt=$((attempt + 1))
  port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
  cat > "$tmp/ngx/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $tmp/ngx/nginx.pid;
error_log $tmp/ngx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $tmp/ngx/body;
  proxy_temp_path $tmp/ngx/proxy;
  fastcgi_temp_path $tmp/ngx/fastcgi;
  uwsgi_temp_path $tmp/ngx/uwsgi;
  scgi_temp_path $tmp/ngx/scgi;
  split_clients "\$arg_key" \$variant { 51.2% gpt-4; 10% openai/gpt-4o; * huggingface/https://e.example/; }
  server {
    listen 127.0.0.1:$port;
    location = /t { return 200 \$variant; }
  }
}
EOF
  : > "$tmp/ngx/error.log"
  "$nginx" -p "$tmp/ngx" -c "$tmp/ngx/nginx.conf" > "$tmp/ngx/stderr" 2>&1 &
  nginx_pid=$!
  t=0
  while [ $t -lt 50 ]; do
    if curl -s -o /dev/null "http://127.0.0.1:$port/t?key=x" 2>/dev/null; then started=1; break; fi
    kill -0 "$nginx_pid" 2>/dev/null || break
    sleep 0.1; t=$((t + 1))
  done
  if [ -z "$started" ]; then
    kill "$nginx_pid" 2>/dev/null; wait "$nginx_pid" 2>/dev/null; nginx_pid=
    grep -q 'Address already in use' "$tmp/ngx/error.log" "$tmp/ngx/stderr" 2>/dev/null || break
  fi
done
if [ -z "$started" ]; then
  echo "skip cli_pick_agrees_with_nginx: nginx did not start: $(cat "$tmp/ngx/error.log" "$tmp/ngx/stderr" 2>/dev/null | tail -n 1)"
  exit 0
fi
# 500 keys of varied length and characters (URL-safe, as $arg_key is not decoded)
: > "$tmp/keys"; : > "$tmp/curl.cfg"
i=0
while [ $i -lt 500 ]; do
  key=$(printf 'u%d-%d.%s_%s~' $i $((i * 7919 % 100003)) "$(printf '%x' $((i * 31)))" "$(printf '%o' $((i * i)))" | cut -c1-$((1 + i % 24)))
  echo "$key" >> "$tmp/keys"
  printf 'url = "http://127.0.0.1:%s/t?key=%s"\nwrite-out = "\\n"\n' "$port" "$key" >> "$tmp/curl.cfg"
  i=$((i + 1))
done
curl -s -K "$tmp/curl.cfg" > "$tmp/nginx.out" 2>/dev/null
set --
while read -r key; do set -- "$@" --user "$key"; done < "$tmp/keys"
"$tool" pick --split gpt-4=51.2 --split openai/gpt-4o=10 --split huggingface/https://e.example/=38.8 "$@" > "$tmp/pick.out" 2>&1
echo "  $(paste -d ' ' "$tmp/nginx.out" "$tmp/pick.out" | awk '$1 == $2' | wc -l) of $(wc -l < "$tmp/keys") keys agree with nginx"
agree() { [ "$(wc -l < "$tmp/nginx.out")" -eq 500 ] && cmp -s "$tmp/nginx.out" "$tmp/pick.out"; }
check cli_pick_agrees_with_nginx agree
