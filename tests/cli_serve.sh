#!/bin/sh
# `llmsplit serve` with curl (and raw sockets from python3 where curl cannot say it): the OpenAI
# routes, errors, limits, framing, auth, metrics, feedback, a client that hangs up, SIGHUP, SIGTERM.
# usage: cli_serve.sh TOOL
tool=${1:-build/llmsplit}
case "$tool" in /*) ;; *) tool=$(pwd)/$tool ;; esac
tmp=$(mktemp -d)
pids=
cleanup() { [ -n "$KEEP" ] && { echo "kept $tmp"; for p in $pids; do kill "$p" 2>/dev/null; done; return; }; for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}
if ! command -v curl >/dev/null 2>&1; then echo "skip cli_serve: curl is not installed"; exit 0; fi
py=/usr/bin/python3; [ -x "$py" ] || py=$(command -v python3)

# waits for "listening on URL" in FILE and prints the URL
url_of() {
  i=0; while ! grep -q '^listening on ' "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
  sed -n 's/^listening on //p' "$1"
}

"$tool" mock --listen 127.0.0.1:0 --status rl=429 --retry-after rl=7 --latency slow=3000 --latency lag=1000 --latency hold=3000 \
  --chunk-delay drip=2000 --log-requests "$tmp/upstream.jsonl" > "$tmp/mock.out" 2>&1 &
pids="$pids $!"
mock=$(url_of "$tmp/mock.out")
if [ -z "$mock" ]; then echo "FAIL cli_serve_mock_starts"; exit 0; fi

write_config() { # FILE EXTRA_GROUP
  cat > "$1" <<EOF
{"model_list": [
  {"model_name": "chat", "litellm_params": {"model": "openai/gpt-a", "api_base": "$mock/v1", "api_key": "sk-upstream-secret-1", "weight": 0.5}},
  {"model_name": "chat", "litellm_params": {"model": "openai/gpt-b", "api_base": "$mock/v1", "api_key": "sk-upstream-secret-1", "weight": 0.5}},
  {"model_name": "claude", "litellm_params": {"model": "anthropic/claude-x", "api_base": "$mock", "api_key": "sk-upstream-secret-1"}},
  {"model_name": "llama", "litellm_params": {"model": "ollama/llama-x", "api_base": "$mock"}},
  {"model_name": "limited", "litellm_params": {"model": "openai/rl", "api_base": "$mock/v1", "api_key": "sk-upstream-secret-1"}},
  {"model_name": "slowpoke", "litellm_params": {"model": "openai/slow", "api_base": "$mock/v1", "api_key": "sk-upstream-secret-1", "timeout": 1}},
  {"model_name": "dripping", "litellm_params": {"model": "openai/drip", "api_base": "$mock/v1", "api_key": "sk-upstream-secret-1"}},
  {"model_name": "lagging", "litellm_params": {"model": "openai/lag", "api_base": "$mock/v1", "api_key": "sk-upstream-secret-1"}},
  {"model_name": "holding", "litellm_params": {"model": "openai/hold", "api_base": "$mock/v1", "api_key": "sk-upstream-secret-1"}},
  {"model_name": "dead", "litellm_params": {"model": "openai/gone", "api_base": "http://127.0.0.1:9/v1", "api_key": "sk-upstream-secret-1"}},
  {"model_name": "$2", "litellm_params": {"model": "openai/gpt-c", "api_base": "$mock/v1", "api_key": "sk-upstream-secret-1"}}
], "router_settings": {"drain_ms": 5000}}
EOF
}
write_config "$tmp/cfg.json" extra1
log=$tmp/log.jsonl

"$tool" serve > "$tmp/out" 2>&1; rc=$?
check cli_serve_without_config_is_a_usage_error [ $rc = 2 ]
check cli_serve_usage_names_litellm_port_4000 grep -q '127.0.0.1:4000' "$tmp/out"

"$tool" serve --config "$tmp/cfg.json" --listen 127.0.0.1:0 --log "$log" --max-body 4096 --read-timeout 400 \
  > "$tmp/serve.out" 2> "$tmp/serve.err" &
serve_pid=$!
pids="$pids $serve_pid"
gw=$(url_of "$tmp/serve.out")
check cli_serve_prints_listening_with_the_real_port sh -c 'case "$1" in http://127.0.0.1:[1-9]*) exit 0;; *) exit 1;; esac' - "$gw"
if [ -z "$gw" ]; then cat "$tmp/serve.err"; exit 0; fi

# curl_to NAME PATH [curl args]: body in $tmp/NAME.body, headers in $tmp/NAME.head, status printed
curl_to() {
  n=$1; p=$2; shift 2
  curl -s -o "$tmp/$n.body" -D "$tmp/$n.head" -w '%{http_code}' "$@" "$gw$p"
}
chat() { # NAME BODY [curl args]
  n=$1; b=$2; shift 2
  curl_to "$n" /v1/chat/completions -H 'Content-Type: application/json' --data-binary "$b" "$@"
}
header() { sed -n "s/^$2: *//Ip" "$tmp/$1.head" | tr -d '\r'; }

check cli_serve_liveliness [ "$(curl_to live /health/liveliness)" = 200 ]
check cli_serve_readiness [ "$(curl_to ready /health/readiness)" = 200 ]
st=$(curl_to models /v1/models)
check cli_serve_models_lists_the_groups sh -c '[ $1 = 200 ] && grep -q "\"id\":\"chat\"" "$2" && grep -q "\"id\":\"claude\"" "$2" && grep -q "\"object\":\"list\"" "$2"' - "$st" "$tmp/models.body"

st=$(chat c1 '{"model":"chat","messages":[{"role":"user","content":"hi there"}],"temperature":0.2}')
check cli_serve_chat_answers_200 [ "$st" = 200 ]
check cli_serve_chat_is_openai_shaped grep -q '"object":"chat.completion".*"choices":\[{"index":0,"message":{"role":"assistant","content":"mock reply from gpt-[ab]: hi there"}' "$tmp/c1.body"
check cli_serve_chat_passes_an_openai_answer_on_as_it_came grep -q '^{"id":"chatcmpl-mock-[0-9]*","object":"chat.completion",.*"system_fingerprint":"fp_mock"}$' "$tmp/c1.body"
check cli_serve_chat_has_usage grep -q '"usage":{"prompt_tokens":2,"completion_tokens":6,"total_tokens":8}' "$tmp/c1.body"
rid=$(header c1 x-llmsplit-request-id)
check cli_serve_chat_has_a_request_id_header sh -c 'echo "$1" | grep -Eq "^[0-9a-f]{32}$"' - "$rid"
check cli_serve_chat_has_the_arm_header sh -c 'echo "$1" | grep -Eq "^gpt-[ab] #[01]$"' - "$(header c1 x-llmsplit-model)"
check cli_serve_chat_also_on_the_unversioned_path [ "$(curl_to c2 /chat/completions --data-binary '{"model":"claude","messages":[{"role":"user","content":"x"}]}')" = 200 ]
check cli_serve_anthropic_answer_is_openai_shaped grep -q '"content":"mock reply from claude-x: x"' "$tmp/c2.body"

# the same user always gets the same arm; the header x-llmsplit-user works like "user"
arms=
for u in alice alice alice alice bob bob bob bob; do
  chat s '{"model":"chat","messages":[{"role":"user","content":"x"}],"user":"'$u'"}' > /dev/null
  arms="$arms $u=$(header s x-llmsplit-model | cut -d' ' -f1)"
done
check cli_serve_same_user_same_arm sh -c 'for u in alice bob; do
  n=$(echo "$1" | tr " " "\n" | grep "^$u=" | sort -u | wc -l); [ "$n" = 1 ] || exit 1; done' - "$arms"
chat h1 '{"model":"chat","messages":[{"role":"user","content":"x"}]}' -H 'x-llmsplit-user: carol' > /dev/null
a1=$(header h1 x-llmsplit-model)
chat h2 '{"model":"chat","messages":[{"role":"user","content":"x"}],"user":"carol"}' > /dev/null
check cli_serve_user_header_is_the_sticky_key [ "$a1" = "$(header h2 x-llmsplit-model)" ]
# "user" goes on to the provider as OpenAI's own field (Anthropic's metadata.user_id); the
# header is llmsplit's alone
chat u1 '{"model":"claude","messages":[{"role":"user","content":"x"}],"user":"dora"}' > /dev/null
check cli_serve_user_is_passed_on_upstream sh -c 'grep -q "\"user\":\"carol\"" "$1" && grep -q "\"metadata\":{\"user_id\":\"dora\"}" "$1" && [ "$(grep -c "\"user\":\"carol\"" "$1")" = 1 ]' - "$tmp/upstream.jsonl"

# streaming
curl -s -N "$gw/v1/chat/completions" --data-binary '{"model":"chat","messages":[{"role":"user","content":"a b c"}],"stream":true}' \
  -D "$tmp/st.head" > "$tmp/st.body"
check cli_serve_stream_is_event_stream grep -qi '^content-type: text/event-stream' "$tmp/st.head"
check cli_serve_stream_has_chunks grep -q '^data: {.*"object":"chat.completion.chunk"' "$tmp/st.body"
check cli_serve_stream_ends_with_done sh -c '[ "$(grep "^data:" "$1" | tail -n 1)" = "data: [DONE]" ]' - "$tmp/st.body"
check cli_serve_stream_without_include_usage_has_no_usage_chunk sh -c '! grep -q "\"choices\":\[\],\"usage\":{" "$1"' - "$tmp/st.body"
curl -s -N "$gw/v1/chat/completions" --data-binary '{"model":"claude","messages":[{"role":"user","content":"a b c"}],"stream":true,"stream_options":{"include_usage":true}}' > "$tmp/st2.body"
check cli_serve_stream_usage_chunk_when_asked grep -q '"choices":\[\],"usage":{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10}' "$tmp/st2.body"
check cli_serve_anthropic_stream_text_in_openai_chunks sh -c '[ "$(sed -n "s/.*\"delta\":{\(\"role\":\"assistant\",\)\{0,1\}\"content\":\"\([^\"]*\)\".*/\2/p" "$1" | tr -d "\n")" = "mock reply from claude-x: a b c" ]' - "$tmp/st2.body"

curl -s -N "$gw/v1/chat/completions" --data-binary '{"model":"llama","messages":[{"role":"user","content":"a b c"}],"stream":true,"stream_options":{"include_usage":true}}' > "$tmp/st3.body"
check cli_serve_ollama_stream_text_in_openai_chunks sh -c '[ "$(sed -n "s/.*\"delta\":{\(\"role\":\"assistant\",\)\{0,1\}\"content\":\"\([^\"]*\)\".*/\2/p" "$1" | tr -d "\n")" = "mock reply from llama-x: a b c" ]' - "$tmp/st3.body"
check cli_serve_ollama_stream_finish_and_usage sh -c 'grep -q "\"finish_reason\":\"stop\"" "$1" && grep -q "\"choices\":\[\],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":7,\"total_tokens\":10}" "$1"' - "$tmp/st3.body"
check cli_serve_ollama_stream_ends_with_done sh -c '[ "$(grep "^data:" "$1" | tail -n 1)" = "data: [DONE]" ]' - "$tmp/st3.body"

# errors, OpenAI-shaped
st=$(chat e1 '{"model":"nope","messages":[{"role":"user","content":"x"}]}')
check cli_serve_unknown_group_is_404_listing_the_groups sh -c '[ $1 = 404 ] && grep -q "\"error\":{\"message\":\".*chat, claude" "$2" && grep -q "\"code\":\"model_not_found\"" "$2"' - "$st" "$tmp/e1.body"
st=$(chat e2 '{"model":"chat",
"messages": [}')
check cli_serve_bad_json_is_400_with_line_and_col sh -c '[ $1 = 400 ] && grep -q "2:14" "$2"' - "$st" "$tmp/e2.body"
st=$(chat e3 '{"messages":[{"role":"user","content":"x"}]}')
check cli_serve_missing_model_is_400 [ "$st" = 400 ]
big=$("$py" -c 'print("{\"model\":\"chat\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x"*5000 + "\"}]}")')
st=$(chat e4 "$big")
check cli_serve_body_over_the_limit_is_413 [ "$st" = 413 ]
st=$(chat e5 '{"model":"limited","messages":[{"role":"user","content":"x"}]}')
check cli_serve_upstream_429_passes_through_with_retry_after sh -c '[ $1 = 429 ] && [ "$2" = 7 ] && grep -q "\"type\":\"rate_limit_error\"" "$3"' - "$st" "$(header e5 retry-after)" "$tmp/e5.body"
st=$(chat e6 '{"model":"dead","messages":[{"role":"user","content":"x"}]}')
check cli_serve_unreachable_upstream_is_502 [ "$st" = 502 ]
st=$(chat e7 '{"model":"slowpoke","messages":[{"role":"user","content":"x"}]}')
check cli_serve_upstream_timeout_is_504 [ "$st" = 504 ]
check cli_serve_wrong_method_is_405 [ "$(curl_to e8 /v1/chat/completions)" = 405 ]
check cli_serve_unknown_path_is_404 [ "$(curl_to e9 /v2/nothing)" = 404 ]
check cli_serve_upstream_key_never_in_answers sh -c '! cat "$1"/*.body "$1"/*.head | grep -q sk-upstream-secret' - "$tmp"

# framing, limits, timeouts: raw bytes
raw() { # BYTES (printf format) -> the status line's code, or "closed"
  "$py" - "$gw" "$1" <<'EOF'
import socket, sys
host, port = sys.argv[1].split("//")[1].split(":")
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk: break
        data += chunk
except socket.timeout:
    pass
print(data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.1 ") else "closed")
EOF
}
if [ -x "$py" ]; then
  body='{"model":"chat","messages":[{"role":"user","content":"x"}]}'
  check cli_serve_content_length_with_transfer_encoding_is_400 [ "$(raw "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")" = 400 ]
  check cli_serve_obsolete_line_folding_is_400 [ "$(raw "GET /health/liveliness HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n")" = 400 ]
  check cli_serve_bare_lf_is_400 [ "$(raw "GET /health/liveliness HTTP/1.1\nHost: x\r\n\r\n")" = 400 ]
  check cli_serve_missing_host_is_400 [ "$(raw "GET /health/liveliness HTTP/1.1\r\n\r\n")" = 400 ]
  check cli_serve_conflicting_lengths_are_400 [ "$(raw "POST /v1/feedback HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}")" = 400 ]
  check cli_serve_space_before_colon_is_400 [ "$(raw "GET /health/liveliness HTTP/1.1\r\nHost : x\r\n\r\n")" = 400 ]
  check cli_serve_unknown_transfer_coding_is_501 [ "$(raw "POST /v1/feedback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")" = 501 ]
  hdrs=$("$py" -c 'print("X-Pad: " + "a"*40000 + "\\r\\n")')
  check cli_serve_head_over_the_limit_is_431 [ "$(raw "GET /health/liveliness HTTP/1.1\r\nHost: x\r\n$hdrs\r\n")" = 431 ]
  chunked=$("$py" -c 'import sys; b=sys.argv[1]; print("POST /v1/chat/completions HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n%x\\r\\n%s\\r\\n%x\\r\\n%s\\r\\n0\\r\\n\\r\\n" % (10, b[:10], len(b)-10, b[10:]))' "$body")
  check cli_serve_chunked_request_body_is_read [ "$(raw "$chunked")" = 200 ]
  check cli_serve_http10_is_answered [ "$(raw "GET /health/liveliness HTTP/1.0\r\n\r\n")" = 200 ]
  # a client that sends half a head is closed after --read-timeout, and holds no worker meanwhile
  "$py" - "$gw" > "$tmp/slow.out" <<'EOF' &
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
socks = [socket.create_connection((host, int(port))) for _ in range(30)]
for s in socks: s.sendall(b"GET /health/liveliness HTTP/1.1\r\nHo")
time.sleep(1.5)
closed = 0
for s in socks:
    s.settimeout(2)
    try:
        if s.recv(100) == b"": closed += 1
    except Exception:
        pass
print(closed)
EOF
  slow=$!
  sleep 0.3
  check cli_serve_slow_heads_do_not_hold_workers [ "$(curl_to w /health/liveliness)" = 200 ]
  wait $slow
  check cli_serve_slow_heads_are_closed_after_the_read_timeout [ "$(cat "$tmp/slow.out")" = 30 ]
else
  echo "skip cli_serve framing tests: python3 is not installed"
fi

# /metrics in Prometheus text format
st=$(curl_to m /metrics)
check cli_serve_metrics_200 [ "$st" = 200 ]
check cli_serve_metrics_is_text_format grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/m.head"
check cli_serve_metrics_counts_calls_per_arm grep -Eq '^llmsplit_calls_total\{role="primary",group="chat",arm="gpt-[ab] #[01]",status="ok"\} [1-9]' "$tmp/m.body"
check cli_serve_metrics_has_latency_histograms grep -Eq '^llmsplit_call_duration_seconds_bucket\{role="primary",group="chat",arm="gpt-[ab] #[01]",le="\+Inf"\} [1-9]' "$tmp/m.body"
check cli_serve_metrics_counts_errors grep -Eq '^llmsplit_calls_total\{role="primary",group="limited",arm="rl #4",status="error"\} 1$' "$tmp/m.body"
check cli_serve_metrics_has_mirror_and_reload_counters sh -c 'grep -q "^llmsplit_mirror_total{outcome=\"queued\"} 0$" "$1" && grep -q "^llmsplit_config_reloads_total 0$" "$1"' - "$tmp/m.body"
check cli_serve_metrics_lines_are_well_formed sh -c '! grep -v "^#" "$1" | grep -Ev "^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\.)*\",?)*\})? -?[0-9.e+Inf-]+$"' - "$tmp/m.body"

# upstream sockets come and go under the same fd numbers: each 429 of the mock closes its
# connection, between calls on kept-alive ones; every new socket is put in its loop's set again
# (a loop that took the number for the socket it had registered before would wait for nothing
# until the call's timeout)
ok=0; i=0
while [ $i -lt 12 ]; do
  st1=$(chat fd1 '{"model":"limited","messages":[{"role":"user","content":"x"}]}' --max-time 5)
  st2=$(chat fd2 '{"model":"chat","messages":[{"role":"user","content":"y"}]}' --max-time 5)
  [ "$st1" = 429 ] && [ "$st2" = 200 ] && ok=$((ok+1))
  i=$((i+1))
done
check cli_serve_upstream_sockets_reopened_under_old_fd_numbers_are_waited_for [ $ok = 12 ]

# feedback joins the call in the log
st=$(curl_to f /v1/feedback --data-binary '{"request_id":"'$rid'","metric":"thumbs_up","value":1}')
check cli_serve_feedback_answers_200 [ "$st" = 200 ]
# (the records reach the log from the client's writer thread, within its 10 ms linger)
i=0; while ! grep -q '"event":"feedback","request_id":"'$rid'"' "$log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
check cli_serve_feedback_is_in_the_log grep -q '"event":"feedback","request_id":"'$rid'","metric":"thumbs_up","value":1,"group":"chat","deployment":[01],"model":"gpt-[ab]"' "$log"
st=$(curl_to f2 /v1/feedback --data-binary '{"request_id":"x","metric":"bad metric","value":1}')
check cli_serve_feedback_with_a_bad_metric_is_400 [ "$st" = 400 ]
# a value whose shortest digits lie next to 2^53 once scaled: writing its record hung the loop
st=$(curl_to f3 /v1/feedback --max-time 5 --data-binary '{"request_id":"'$rid'","metric":"rating","value":0.9007199254740991}')
check cli_serve_feedback_value_next_to_2_pow_53_is_answered [ "$st" = 200 ]
i=0; while ! grep -q '"metric":"rating","value":0.9007199254740991,' "$log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
check cli_serve_feedback_value_next_to_2_pow_53_is_logged_exactly grep -q '"metric":"rating","value":0.9007199254740991,' "$log"
check cli_serve_still_answers_after_that [ "$(curl_to f4 /health/liveliness --max-time 5)" = 200 ]

# a client that hangs up mid-stream: the upstream call stops, the record says client_closed
curl -s -N --max-time 0.8 "$gw/v1/chat/completions" --data-binary '{"model":"dripping","messages":[{"role":"user","content":"one two three four five six seven eight nine ten"}],"stream":true}' > "$tmp/drip.body" 2>/dev/null
# the whole stream would take 20 s: its record comes at once only because the call was stopped
i=0; while ! grep -q '"model":"drip".*"status":"client_closed"' "$log" && [ $i -lt 160 ]; do sleep 0.05; i=$((i+1)); done
check cli_serve_client_gone_mid_stream_is_recorded_client_closed grep -q '"group":"dripping","model":"drip".*"status":"client_closed"' "$log"
check cli_serve_client_gone_mid_stream_got_the_first_chunk grep -q '"role":"assistant"' "$tmp/drip.body"
check cli_serve_client_gone_mid_stream_is_no_error_of_the_arm sh -c 'curl -s "$1/metrics" | grep -q "^llmsplit_calls_total{role=\"primary\",group=\"dripping\",arm=\"drip #6\",status=\"client_closed\"} 1$"' - "$gw"
# a client that sends a whole request and hangs up at once, and one that hangs up while its
# (not streamed) answer is awaited: both upstream calls stop and say client_closed (had they run
# on, the mock would have answered them after 1 s and the records would say ok)
"$py" - "$gw" <<'EOF'
import socket, sys, time
host, port = sys.argv[1].split('//')[1].split(':')
body = b'{"model":"lagging","messages":[{"role":"user","content":"gone"}]}'
req = b'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n' % len(body) + body
for wait in (0, 0.3):
    s = socket.create_connection((host, int(port)))
    s.sendall(req)
    time.sleep(wait)
    s.close()
EOF
i=0; while [ "$(grep -c '"model":"lag".*"status":' "$log")" -lt 2 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
check cli_serve_client_gone_before_the_answer_is_recorded_client_closed sh -c '[ "$(grep -c "\"model\":\"lag\".*\"status\":\"client_closed\"" "$1")" = 2 ] && ! grep -q "\"model\":\"lag\".*\"status\":\"ok\"" "$1"' - "$log"

# Requests waiting for their upstream hold no thread: 40 at once (the upstream answers after 3 s)
# are 40 coroutines on the gateway's event loops, and the process has as many threads as when
# it was idle (one blocked thread per request would make 40 more)
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }
idle_threads=$(threads_of $serve_pid)
many=""
i=0; while [ $i -lt 40 ]; do
  chat "many$i" '{"model":"holding","messages":[{"role":"user","content":"x"}]}' --max-time 20 > "$tmp/many$i.st" &
  many="$many $!"; i=$((i+1))
done
i=0; n=0
while [ $i -lt 100 ]; do
  n=$(curl -s "$gw/metrics" | sed -n 's/^llmsplit_gateway_coroutines //p')
  [ "${n:-0}" -ge 40 ] && break
  sleep 0.05; i=$((i+1))
done
busy_threads=$(threads_of $serve_pid)
check cli_serve_40_requests_waiting_are_40_coroutines [ "${n:-0}" -ge 40 ]
check cli_serve_requests_waiting_for_the_upstream_hold_no_thread [ "$busy_threads" -le $((idle_threads + 2)) ]
wait $many
check cli_serve_the_40_waiting_requests_are_answered sh -c 'for f in "$1"/many*.st; do [ "$(cat "$f")" = 200 ] || exit 1; done' - "$tmp"
check cli_serve_metrics_say_the_loops [ "$(curl -s "$gw/metrics" | sed -n 's/^llmsplit_gateway_loops //p')" -ge 1 ]
# Two waves of 200 at once: more coroutines than a loop keeps warm, so the second wave reuses
# stacks whose memory was given back; every request is answered both times
if [ -x "$py" ]; then
  waves=$("$py" - "$gw" <<'EOF'
import http.client, sys, threading
host, port = sys.argv[1].split("//")[1].split(":")
def wave(n):
    codes = []
    def one(i):
        try:
            c = http.client.HTTPConnection(host, int(port), timeout=30)
            c.request("POST", "/v1/chat/completions", body='{"model":"holding","messages":[{"role":"user","content":"w%d"}]}' % i,
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            body = r.read()
            codes.append(r.status if b"mock reply from hold: w%d\"" % i in body else -r.status)
        except Exception as e:
            codes.append(str(e))
    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
    return sum(1 for c in codes if c == 200)
print(wave(200), wave(200))
EOF
)
  check cli_serve_two_waves_of_200_are_all_answered [ "$waves" = "200 200" ]
fi
check cli_serve_upstream_key_never_in_the_log sh -c '! grep -q sk-upstream-secret "$1" "$2"' - "$log" "$tmp/serve.err"

# SIGHUP reloads at once: the new text has the same size and time, so only the signal can tell
cp "$tmp/cfg.json" "$tmp/cfg.old"
write_config "$tmp/cfg.json" extra2
touch -r "$tmp/cfg.old" "$tmp/cfg.json"
kill -HUP $serve_pid
i=0; while ! curl -s "$gw/v1/models" | grep -q '"extra2"' && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done
check cli_serve_sighup_reloads_the_config_at_once sh -c 'curl -s "$1/v1/models" | grep -q "\"extra2\""' - "$gw"
check cli_serve_reload_is_counted_in_metrics sh -c 'curl -s "$1/metrics" | grep -q "^llmsplit_config_reloads_total 1$"' - "$gw"

# SIGTERM: the request in flight finishes, new connections are refused, exit 0
curl -s -o "$tmp/inflight.body" -w '%{http_code}' --max-time 20 "$gw/v1/chat/completions" \
  --data-binary '{"model":"lagging","messages":[{"role":"user","content":"x"}]}' > "$tmp/inflight.code" &
inflight=$!
sleep 0.3
kill -TERM $serve_pid
# a loop that never stops must not hold the test (and CI) forever: past 30 s the tool is killed,
# and the exit check below fails
( sleep 30; kill -9 $serve_pid ) >/dev/null 2>&1 &
guard=$!
wait $serve_pid; rc=$?
kill $guard 2>/dev/null
wait $inflight
check cli_serve_sigterm_exits_0 [ $rc = 0 ]
check cli_serve_sigterm_lets_the_request_in_flight_finish [ "$(cat "$tmp/inflight.code")" = 200 ]
check cli_serve_after_sigterm_new_connections_are_refused sh -c '! curl -s --max-time 2 "$1/health/liveliness" > /dev/null' - "$gw"

# a non-loopback address needs a master key (or --no-auth)
"$tool" serve --config "$tmp/cfg.json" --listen 0.0.0.0:0 > "$tmp/open.out" 2>&1; rc=$?
check cli_serve_refuses_a_public_address_without_a_key sh -c '[ $1 = 2 ] && grep -q "master key" "$2"' - $rc "$tmp/open.out"

# the master key
LLMSPLIT_MASTER_KEY=sk-master-123 "$tool" serve --config "$tmp/cfg.json" --listen 0.0.0.0:0 > "$tmp/k.out" 2>&1 &
kpid=$!
pids="$pids $kpid"
kgw=$(url_of "$tmp/k.out" | sed 's/0\.0\.0\.0/127.0.0.1/')
gw=$kgw
check cli_serve_key_missing_is_401 [ "$(chat k1 '{"model":"chat","messages":[{"role":"user","content":"x"}]}')" = 401 ]
check cli_serve_key_wrong_is_401 [ "$(chat k2 '{"model":"chat","messages":[{"role":"user","content":"x"}]}' -H 'Authorization: Bearer sk-master-12')" = 401 ]
check cli_serve_key_right_is_200 [ "$(chat k3 '{"model":"chat","messages":[{"role":"user","content":"x"}]}' -H 'Authorization: Bearer sk-master-123')" = 200 ]
check cli_serve_health_needs_no_key [ "$(curl_to k4 /health/liveliness)" = 200 ]
check cli_serve_metrics_need_the_key [ "$(curl_to k5 /metrics)" = 401 ]
kill -TERM $kpid; wait $kpid

# over --max-conns: a clean 503
"$tool" serve --config "$tmp/cfg.json" --listen 127.0.0.1:0 --max-conns 2 > "$tmp/cap.out" 2>&1 &
cpid=$!
pids="$pids $cpid"
gw=$(url_of "$tmp/cap.out")
if [ -x "$py" ]; then
  capped=$("$py" - "$gw" <<'EOF'
import socket, sys, time
host, port = sys.argv[1].split("//")[1].split(":")
held = [socket.create_connection((host, int(port))) for _ in range(2)]
time.sleep(0.2)
s = socket.create_connection((host, int(port)), timeout=5)
s.sendall(b"GET /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
while b"\r\n\r\n" not in data:
    c = s.recv(4096)
    if not c: break
    data += c
print(data.split(b" ")[1].decode() if data.startswith(b"HTTP/1.1") else "closed")
EOF
)
  check cli_serve_over_max_conns_is_503 [ "$capped" = 503 ]
fi
kill -TERM $cpid; wait $cpid
# An HTTPS upstream through the gateway: the TLS handshakes and answers of 20 requests at once go
# through the loops' waits (a coroutine each), answers and a stream come back whole
"$tool" mock --listen 127.0.0.1:0 --tls-cert tests/certs/leaf-ecdsa-chain.pem --tls-key tests/certs/leaf-ecdsa.key \
  > "$tmp/tmock.out" 2>&1 &
pids="$pids $!"
tmock=$(url_of "$tmp/tmock.out" | sed 's/127\.0\.0\.1/localhost/')
cat > "$tmp/tls.json" <<EOF2
{"model_list": [{"model_name": "secure", "litellm_params": {"model": "openai/gpt-s", "api_base": "$tmock/v1", "api_key": "sk-upstream-secret-1"}}]}
EOF2
SSL_CERT_FILE=tests/certs/root-ca.pem "$tool" serve --config "$tmp/tls.json" --listen 127.0.0.1:0 --workers 2 \
  > "$tmp/tserve.out" 2> "$tmp/tserve.err" &
tpid=$!
pids="$pids $tpid"
tgw=$(url_of "$tmp/tserve.out")
many=""
i=0; while [ $i -lt 20 ]; do
  curl -s -o "$tmp/tls$i.body" -w '%{http_code}' "$tgw/v1/chat/completions" -H 'Content-Type: application/json' \
    --data-binary "{\"model\":\"secure\",\"messages\":[{\"role\":\"user\",\"content\":\"secret $i\"}]}" > "$tmp/tls$i.st" &
  many="$many $!"; i=$((i+1))
done
wait $many
check cli_serve_https_upstream_20_at_once sh -c 'i=0; while [ $i -lt 20 ]; do [ "$(cat "$1/tls$i.st")" = 200 ] && grep -q "mock reply from gpt-s: secret $i\"" "$1/tls$i.body" || exit 1; i=$((i+1)); done' - "$tmp"
curl -s -N "$tgw/v1/chat/completions" -H 'Content-Type: application/json' \
  --data-binary '{"model":"secure","stream":true,"messages":[{"role":"user","content":"streamed"}]}' > "$tmp/tls.sse"
check cli_serve_https_upstream_streams sh -c 'grep -q "^data: \[DONE\]" "$1" && [ "$(grep -c "^data: {" "$1")" -ge 2 ]' - "$tmp/tls.sse"
kill -TERM $tpid; wait $tpid
check cli_serve_https_gateway_exits_0_on_sigterm [ $? = 0 ]
exit 0
