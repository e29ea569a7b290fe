#!/bin/sh
# `make demo`: what llmsplit can do today. It grows into the full A/B demo (mock provider,
# 80/20 split, silent model, report) as those layers land.
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cat > "$tmp/completion.json" <<'JSON'
{
  "id": "chatcmpl-demo", "object": "chat.completion", "model": "gpt-4",
  "choices": [ { "index": 0,
                 "message": { "role": "assistant", "content": "Hello! I am doing well \u2014 thanks for asking." },
                 "finish_reason": "stop" } ],
  "usage": { "prompt_tokens": 13, "completion_tokens": 11, "total_tokens": 24 }
}
JSON
echo "== a chat completion, read by examples/read_completion.c"
"$build/examples/read_completion" "$tmp/completion.json"
echo
echo "== llmsplit json: the same document, validated and minified"
"$build/llmsplit" json "$tmp/completion.json"
echo
echo "== llmsplit json --check on a broken document"
printf '{"model": "gpt-4",\n "messages": [{"role": "user", "content": "hi"},]}\n' > "$tmp/bad.json"
cat "$tmp/bad.json"
"$build/llmsplit" json --check "$tmp/bad.json" || echo "(exit $?)"
echo
echo "Coming next: 'llmsplit mock', chat over HTTP/HTTPS, the 80/20 split with a silent model, and the A/B report."
