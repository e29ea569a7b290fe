#!/bin/sh
# `llmsplit serve` and its upstream sockets: each stays in its event loop's epoll set while the
# library keeps the connection (no epoll_ctl per request), and no loop ever takes one out by its
# fd number. An upstream here closes every kept-alive connection soon after its answer, so the
# loops see hang-ups of sockets idle in the library's pool, whose numbers the next connections
# (the clients' too) take at once; strace counts the gateway's epoll_ctl calls meanwhile.
# usage: cli_serve_upstream.sh TOOL
tool=${1:-build/llmsplit}
case "$tool" in /*) ;; *) tool=$(pwd)/$tool ;; esac
py=/usr/bin/python3; [ -x "$py" ] || py=$(command -v python3)
skip() { echo "skip cli_serve_upstream: $1"; exit 0; }
command -v curl >/dev/null 2>&1 || skip "curl is not installed"
command -v strace >/dev/null 2>&1 || skip "strace is not installed (apt-get install strace)"
[ -n "$py" ] || skip "python3 is not installed"
tmp=$(mktemp -d)
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; [ -n "$KEEP" ] && echo "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}
wait_line() { # FILE PATTERN: waits up to 10 s for a line matching PATTERN
  i=0; while ! grep -q "$2" "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
}

# the upstream: a completion for each request, keep-alive, then the connection closed after 300 ms
# without a next request
cat > "$tmp/upstream.py" <<'EOF'
import socket, sys, threading
body = b'{"id":"c1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}'
answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
def serve(c):
    c.settimeout(0.3)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                d = c.recv(65536)
                if not d: return
                buf += d
            head, _, rest = buf.partition(b"\r\n\r\n")
            n = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length": n = int(v)
            while len(rest) < n:
                d = c.recv(65536)
                if not d: return
                rest += d
            buf = rest[n:]
            c.sendall(answer)
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
"$py" "$tmp/upstream.py" > "$tmp/upstream.port" 2>"$tmp/upstream.err" &
pids="$pids $!"
wait_line "$tmp/upstream.port" '^[0-9]'
up=$(head -n 1 "$tmp/upstream.port")
[ -n "$up" ] || { echo "FAIL cli_serve_upstream_starts: $(cat "$tmp/upstream.err")"; exit 0; }
cat > "$tmp/cfg.json" <<EOF
{"model_list":[{"model_name":"chat","litellm_params":{"model":"openai/m","api_base":"http://127.0.0.1:$up/v1","api_key":"sk-up"}}]}
EOF

strace -f -qq -e trace=epoll_ctl -o "$tmp/strace" \
  "$tool" serve --config "$tmp/cfg.json" --listen 127.0.0.1:0 --workers 2 > "$tmp/serve.out" 2> "$tmp/serve.err" &
spid=$!
pids="$pids $spid"
wait_line "$tmp/serve.out" '^listening on '
gw=$(sed -n 's/^listening on //p' "$tmp/serve.out")
[ -n "$gw" ] || { echo "FAIL cli_serve_upstream_gateway_starts: $(cat "$tmp/serve.err")"; exit 0; }

# rounds of 8 requests at once, each round after the upstream closed the last one's connections
ok=0; round=0
while [ $round -lt 4 ]; do
  i=0; rp=
  while [ $i -lt 8 ]; do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 -H 'Content-Type: application/json' \
      --data-binary '{"model":"chat","messages":[{"role":"user","content":"x"}]}' "$gw/v1/chat/completions" \
      >> "$tmp/codes" &
    rp="$rp $!"; i=$((i+1))
  done
  wait $rp
  sleep 0.6
  round=$((round+1))
done
check cli_serve_upstream_closing_idle_connections_all_answered [ "$(grep -c '^200$' "$tmp/codes")" = 32 ]
# what strace wrote until now is the serving; then SIGTERM to the gateway itself (strace passes
# none on), and strace ends with it
sleep 0.2
served=$(wc -l < "$tmp/strace")
gpid=$(pgrep -P "$spid" | head -n 1)
kill -TERM "${gpid:-$spid}"
i=0; while kill -0 "$spid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL "$gpid" "$spid" 2>/dev/null
# the calls before the stop: ADDs only (a client's, an upstream socket's once each), never a DEL
head -n "$served" "$tmp/strace" > "$tmp/before"
dels=$(grep -c 'EPOLL_CTL_DEL' "$tmp/before")
adds=$(grep -c 'EPOLL_CTL_ADD' "$tmp/before")
mods=$(grep -c 'EPOLL_CTL_MOD' "$tmp/before")
check cli_serve_upstream_no_loop_takes_a_socket_out_by_its_number [ "$dels" = 0 ]
# (about 68 ADDs: 32 clients, up to 32 upstream sockets, the listener and the stop event in each
# loop; a socket that went to the other loop is added there too)
check cli_serve_upstream_sockets_are_registered_once_not_per_request sh -c '[ "$1" = 0 ] && [ "$2" -le 100 ]' - "$mods" "$adds"
echo "  epoll_ctl before the stop: $adds ADD, $mods MOD, $dels DEL for 32 requests"
