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
lines=$(grep -vc '"event":"split"' "$tmp/log.jsonl")
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
check cli_replay_sends_every_line_and_reports [ $rc = 0 -a -n "$(grep '^replay: 10 requests' "$tmp/out")" -a "$(grep -c '"event":"call"' "$tmp/replay.jsonl")" = 10 ]
check cli_replay_says_which_line_was_skipped [ -n "$(grep 'line skipped: not JSON' "$tmp/err")" ]

"$tool" bench --model gpt-4 $base -n 50 -c 4 > "$tmp/out" 2>/dev/null; rc=$?
check cli_bench_prints_rate_and_percentiles [ $rc = 0 -a -n "$(grep '^bench: 50 requests' "$tmp/out")" -a -n "$(grep '^gpt-4 ' "$tmp/out")" ]

# the library's own log carries the split: the report's sample-ratio check runs on it and finds
# the 80/20 that was asked for
"$tool" bench --split gpt-4=80 --split llama2=20 $base -n 400 -c 4 --log "$tmp/ab.jsonl" > /dev/null 2>&1; rc=$?
"$tool" report --json "$tmp/ab.jsonl" > "$tmp/ab.json" 2>/dev/null
srm=$(tr -d ' \n' < "$tmp/ab.json" | grep -o '"srm":{[^}]*}[^}]*}[^}]*}' | head -n 1)
check cli_bench_log_lets_the_report_check_the_sample_ratio [ $rc = 0 -a -n "$(grep -c '"event":"split"' "$tmp/ab.jsonl")" \
  -a -n "$(printf '%s' "$srm" | grep '"mismatch":false')" -a -z "$(printf '%s' "$srm" | grep '"p_value":null')" ]

"$tool" chat --model gpt-4 $base --insecure hi > /dev/null 2> "$tmp/err"; rc=$?
check cli_chat_insecure_warns_once [ $rc = 0 -a "$(grep -c 'insecure' "$tmp/err")" = 1 ]

# A recording server (python3's http.server): each request's path and credential headers go to
# rec.log; OpenAI and Anthropic answers, and model "cut" gets an Anthropic stream that ends before
# its usage. Without python3 these checks are skipped.
if command -v python3 >/dev/null 2>&1; then
cat > "$tmp/rec.py" <<'PY'
import http.server, json, sys
log = open(sys.argv[1], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        model = body.get("model", "")
        log.write("%s %s authorization=%s x-api-key=%s\n" % (self.path, model, self.headers.get("Authorization"), self.headers.get("x-api-key")))
        if model == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"cut","content":[],"usage":{"input_tokens":0,"output_tokens":0}}}\n\n'
                             b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"par"}}\n\n')
            self.wfile.flush()
            self.close_connection = True
            return
        if self.path.endswith("/messages"):
            out = {"id": "m", "type": "message", "role": "assistant", "model": model, "content": [{"type": "text", "text": "ok"}],
                   "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}
        else:
            out = {"id": "c", "object": "chat.completion", "model": model, "choices": [{"index": 0,
                   "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 1, "completion_tokens": 1}}
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print("listening on http://127.0.0.1:%d" % srv.server_address[1], flush=True)
srv.serve_forever()
PY
python3 "$tmp/rec.py" "$tmp/rec.log" > "$tmp/rec.out" 2>/dev/null &
rec=$!
i=0; while [ ! -s "$tmp/rec.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
rurl=$(sed -n 's/^listening on //p' "$tmp/rec.out")
fi
if [ -n "$rurl" ]; then
  # --api-key is for --model's provider: the Anthropic silent model must not get the OpenAI key
  : > "$tmp/rec.log"
  env -u ANTHROPIC_API_KEY "$tool" chat --model openai/gpt-4o-mini --silent anthropic/claude-3-5-haiku-latest \
      --api-base "$rurl" --api-key sk-openai-cli-1 hi > /dev/null 2>&1
  check cli_chat_api_key_goes_to_the_primary_provider_only \
      [ -n "$(grep '^/chat/completions gpt-4o-mini authorization=Bearer sk-openai-cli-1 ' "$tmp/rec.log")" \
        -a -n "$(grep '^/v1/messages claude-3-5-haiku-latest ' "$tmp/rec.log")" -a "$(grep -c sk-openai-cli-1 "$tmp/rec.log")" = 1 ]
  : > "$tmp/rec.log"
  "$tool" chat --split anthropic/claude-3=50 --split openai/gpt-4=50 --user u1 --api-base "$rurl" --api-key sk-ant-cli-2 hi > /dev/null 2>&1
  "$tool" chat --split anthropic/claude-3=50 --split openai/gpt-4=50 --user u2 --api-base "$rurl" --api-key sk-ant-cli-2 hi > /dev/null 2>&1
  "$tool" chat --split anthropic/claude-3=50 --split openai/gpt-4=50 --user u3 --api-base "$rurl" --api-key sk-ant-cli-2 hi > /dev/null 2>&1
  "$tool" chat --split anthropic/claude-3=50 --split openai/gpt-4=50 --user u4 --api-base "$rurl" --api-key sk-ant-cli-2 hi > /dev/null 2>&1
  check cli_chat_api_key_goes_to_the_first_split_arms_provider_only \
      [ -z "$(grep '^/chat/completions.*sk-ant-cli-2' "$tmp/rec.log")" -a -z "$(grep -v sk-ant-cli-2 "$tmp/rec.log" | grep '^/v1/messages')" ]
  # an environment key stays with its provider's host: not sent to an explicit --api-base
  : > "$tmp/rec.log"
  OPENAI_API_KEY=sk-real-env-3 "$tool" chat --model openai/llama3-local --api-base "$rurl/v1" hi > /dev/null 2>&1
  check cli_chat_env_key_is_not_sent_to_an_explicit_api_base \
      [ -n "$(grep '^/v1/chat/completions llama3-local authorization=None ' "$tmp/rec.log")" ]
  "$tool" chat --model anthropic/cut --api-base "$rurl" --api-key k --stream --verbose hi > /dev/null 2> "$tmp/err"
  check cli_chat_verbose_says_unknown_tokens_of_a_cut_stream \
      [ -n "$(grep 'tokens 0+?' "$tmp/err")" -a -z "$(grep -- '-1' "$tmp/err")" ]
  kill $rec 2>/dev/null
else
  echo "skip cli_chat recording server: python3 is not installed"
fi
