#!/bin/sh
# The control plane of `llmsplit serve` with curl: /config (ETag, 304, the read key's view, PUT
# with If-Match, errors with the key path), the convenience edits, history and revert, /stats and
# its stream, the dashboard's login, session cookie and CSRF token, the file edited by hand, and
# an embedded client following /config as its config_url.
# usage: cli_ui.sh TOOL
tool=${1:-build/llmsplit}
case "$tool" in /*) ;; *) tool=$(pwd)/$tool ;; esac
tmp=$(mktemp -d)
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; if [ -n "$KEEP" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi; }
trap cleanup EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}
if ! command -v curl >/dev/null 2>&1; then echo "skip cli_ui: curl is not installed"; exit 0; fi

url_of() { # FILE: waits for "listening on URL" and prints the URL
  i=0; while ! grep -q '^listening on ' "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
  sed -n 's/^listening on //p' "$1"
}
# req NAME METHOD PATH [curl args]: the status in $st, the body in $tmp/NAME.body, the head in $tmp/NAME.head
req() {
  n=$1; m=$2; p=$3; shift 3
  st=$(curl -s -o "$tmp/$n.body" -D "$tmp/$n.head" -w '%{http_code}' -X "$m" "$gw$p" "$@")
}
hdr() { sed -n "s/^$2: //Ip" "$tmp/$1.head" | tr -d '\r'; }   # NAME HEADER
has() { grep -q -- "$2" "$tmp/$1.body"; }                      # NAME TEXT: the body has TEXT
M="Authorization: Bearer mk-master-1"
R="Authorization: Bearer rk-reader-1"
J="Content-Type: application/json"

"$tool" mock --listen 127.0.0.1:0 --latency '*=2' --chunk-delay gpt-c=2000 > "$tmp/mock.out" 2>&1 &
pids="$pids $!"
mock=$(url_of "$tmp/mock.out")
[ -n "$mock" ] || { echo "FAIL cli_ui_mock_starts"; exit 0; }
cfg=$tmp/cfg.json
cat > "$cfg" <<EOF
{
  "model_list": [
    {"model_name": "chat", "litellm_params": {"model": "openai/gpt-a", "api_base": "$mock/v1", "api_key": "sk-up-1", "weight": 0.8}},
    {"model_name": "chat", "litellm_params": {"model": "openai/gpt-b", "api_base": "$mock/v1", "api_key": "sk-up-1", "weight": 0.2}},
    {"model_name": "other", "litellm_params": {"model": "openai/gpt-c", "api_base": "$mock/v1", "api_key": "sk-up-1"}}
  ],
  "router_settings": {"mirror_sample_rate": 1},
  "general_settings": {"master_key": "mk-master-1", "config_read_key": "rk-reader-1", "database_url": "postgres://secret"},
  "environment_variables": {"SOME_TOKEN": "tok-secret"}
}
EOF
cp "$cfg" "$tmp/v1.json"
log=$tmp/log.jsonl
"$tool" serve --config "$cfg" --listen 127.0.0.1:0 --log "$log" > "$tmp/serve.out" 2> "$tmp/serve.err" &
serve_pid=$!
pids="$pids $serve_pid"
gw=$(url_of "$tmp/serve.out")
[ -n "$gw" ] || { echo "FAIL cli_ui_serve_starts"; cat "$tmp/serve.err"; exit 0; }

# ---- reading the config ----
req anon GET /config
check cli_ui_config_needs_a_key [ "$st" = 401 ]
req v1 GET /config -H "$M"
etag1=$(hdr v1 ETag)
check cli_ui_config_is_the_file_for_the_master_key sh -c '[ "$1" = 200 ] && cmp -s "$2" "$3"' - "$st" "$tmp/v1.body" "$cfg"
check cli_ui_config_has_an_etag_and_a_version sh -c 'case "$1" in \"[0-9a-f]*\") [ "$2" = 1 ];; *) exit 1;; esac' - "$etag1" "$(hdr v1 X-Llmsplit-Config-Version)"
req nm GET /config -H "$M" -H "If-None-Match: $etag1"
check cli_ui_config_unchanged_is_304_without_a_body sh -c '[ "$1" = 304 ] && [ ! -s "$2" ] && ! grep -qi "^content-length" "$3"' - "$st" "$tmp/nm.body" "$tmp/nm.head"
req rd GET /config -H "$R"
retag=$(hdr rd ETag)
check cli_ui_read_key_gets_the_config_without_its_secrets sh -c '[ "$1" = 200 ] && grep -q "gpt-a" "$2" && ! grep -q "mk-master-1\|rk-reader-1\|general_settings\|postgres\|tok-secret" "$2"' - "$st" "$tmp/rd.body"
check cli_ui_read_view_has_its_own_etag [ -n "$retag" -a "$retag" != "$etag1" ]
req rd2 GET /config -H "$R" -H "If-None-Match: $retag"
check cli_ui_read_view_is_304_when_unchanged [ "$st" = 304 ]
req rdput PUT /config -H "$R" -H "$J" -H "If-Match: $etag1" --data-binary @"$cfg"
check cli_ui_read_key_cannot_change_the_config [ "$st" = 403 ]
req rdstats GET /stats -H "$R"
check cli_ui_read_key_cannot_read_stats [ "$st" = 403 ]

# ---- PUT ----
sed -e 's/"weight": 0.2/"weight": 0.3/' -e 's/"weight": 0.8/"weight": 0.7/' "$cfg" > "$tmp/v2.json"
req noim PUT /config -H "$M" -H "$J" --data-binary @"$tmp/v2.json"
check cli_ui_put_without_if_match_is_428 sh -c '[ "$1" = 428 ] && grep -q "If-Match" "$2"' - "$st" "$tmp/noim.body"
req stale PUT /config -H "$M" -H "$J" -H 'If-Match: "0000000000000000"' --data-binary @"$tmp/v2.json"
check cli_ui_put_with_a_stale_etag_is_412 sh -c '[ "$1" = 412 ] && grep -q "changed since you read it" "$2"' - "$st" "$tmp/stale.body"
sed 's/"weight": 0.2/"weight": -1/' "$cfg" > "$tmp/bad.json"
req bad PUT /config -H "$M" -H "$J" -H "If-Match: $etag1" --data-binary @"$tmp/bad.json"
check cli_ui_put_invalid_is_400_with_the_key_path sh -c '[ "$1" = 400 ] && grep -q "model_list\[1\].litellm_params.weight: must be >= 0" "$2"' - "$st" "$tmp/bad.body"
printf '{"model_list": [\n  {"model_name": }\n]}' > "$tmp/badjson.json"
req badjson PUT /config -H "$M" -H "$J" -H "If-Match: $etag1" --data-binary @"$tmp/badjson.json"
check cli_ui_put_bad_json_is_400_with_line_and_col sh -c '[ "$1" = 400 ] && grep -q "\"line\":2,\"col\":18" "$2"' - "$st" "$tmp/badjson.body"
sed 's/mk-master-1/mk-other/' "$cfg" > "$tmp/mk.json"
req mk PUT /config -H "$M" -H "$J" -H "If-Match: $etag1" --data-binary @"$tmp/mk.json"
check cli_ui_put_cannot_change_the_master_key sh -c '[ "$1" = 400 ] && grep -q "general_settings.master_key: cannot be changed" "$2"' - "$st" "$tmp/mk.body"
check cli_ui_refused_puts_leave_the_file_alone cmp -s "$cfg" "$tmp/v1.json"
req put PUT /config -H "$M" -H "$J" -H "If-Match: $etag1" --data-binary @"$tmp/v2.json"
etag2=$(hdr put ETag)
check cli_ui_put_makes_version_2 sh -c '[ "$1" = 200 ] && grep -q "\"version\":2" "$2" && grep -q "gpt-a #0 80% → 70%, gpt-b #1 20% → 30%" "$2"' - "$st" "$tmp/put.body"
check cli_ui_put_writes_the_file cmp -s "$cfg" "$tmp/v2.json"
check cli_ui_put_leaves_no_temporary_file sh -c '[ -z "$(ls -A "$1" | grep llmsplit-)" ]' - "$tmp"
# (the records reach the log from the client's writer thread, within its 10 ms linger)
i=0; while ! grep -q '"event":"config","reason":"reloaded from the control plane, version 2' "$log" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
check cli_ui_put_writes_a_config_record_naming_the_change grep -q '"event":"config","reason":"reloaded from the control plane, version 2 (PUT /config): chat: gpt-a #0 80% → 70%, gpt-b #1 20% → 30%"' "$log"
req same PUT /config -H "$M" -H "$J" -H "If-Match: $etag2" --data-binary @"$tmp/v2.json"
check cli_ui_put_of_the_same_text_changes_nothing sh -c '[ "$1" = 200 ] && grep -q "\"version\":2,.*\"changed\":false" "$2"' - "$st" "$tmp/same.body"

# ---- the convenience edits ----
req pw PATCH /config/groups/chat -H "$M" -H "$J" -H "If-Match: $etag2" -d '{"weights":{"gpt-a #0":0.5,"gpt-b #1":0.5}}'
check cli_ui_patch_weights_is_version_3 sh -c '[ "$1" = 200 ] && grep -q "\"version\":3" "$2"' - "$st" "$tmp/pw.body"
check cli_ui_patch_weights_writes_them [ "$(grep -c '"weight": 0.5' "$cfg")" = 2 ]
req pws PATCH /config/groups/chat -H "$M" -H "$J" -H "If-Match: $etag2" -d '{"weights":{"gpt-a #0":1}}'
check cli_ui_patch_with_a_stale_etag_is_412 [ "$st" = 412 ]
req pg PATCH /config/groups/nope -H "$M" -H "$J" -d '{"weights":{"x":1}}'
check cli_ui_patch_unknown_group_is_404_naming_the_groups sh -c '[ "$1" = 404 ] && grep -q "groups: chat, other" "$2"' - "$st" "$tmp/pg.body"
req pa PATCH /config/groups/chat -H "$M" -H "$J" -d '{"weights":{"gpt-z #9":1}}'
check cli_ui_patch_unknown_arm_is_400_naming_the_arms sh -c '[ "$1" = 400 ] && grep -q "arms: gpt-a #0, gpt-b #1" "$2"' - "$st" "$tmp/pa.body"
req pn PATCH /config/groups/chat -H "$M" -H "$J" -d '{"weights":{"gpt-a":-2}}'
check cli_ui_patch_negative_weight_is_400 sh -c '[ "$1" = 400 ] && grep -q "weights.gpt-a: must be a number >= 0" "$2"' - "$st" "$tmp/pn.body"
req pz PATCH /config/groups/chat -H "$M" -H "$J" -d '{"weights":{"gpt-a":0,"gpt-b":0}}'
check cli_ui_patch_all_zero_is_refused_like_a_file sh -c '[ "$1" = 400 ] && grep -q "weight" "$2" && grep -c "\"weight\": 0.5" "$3" > /dev/null' - "$st" "$tmp/pz.body" "$cfg"
req off PATCH /config/groups/chat -H "$M" -H "$J" -d '{"enabled":{"gpt-b #1":false}}'
check cli_ui_arm_off_is_weight_0 sh -c '[ "$1" = 200 ] && grep -q "gpt-b #1 off (was 50%)" "$2" && grep -q "\"weight\": 0$" "$3"' - "$st" "$tmp/off.body" "$cfg"
req on PATCH /config/groups/chat -H "$M" -H "$J" -d '{"enabled":{"gpt-b #1":true}}'
check cli_ui_arm_on_gets_its_weight_back sh -c '[ "$1" = 200 ] && grep -q "gpt-b #1 on (50%)" "$2" && [ "$(grep -c "\"weight\": 0.5" "$3")" = 2 ]' - "$st" "$tmp/on.body" "$cfg"
req mr PATCH /config/router_settings -H "$M" -H "$J" -d '{"mirror_sample_rate":0.25}'
check cli_ui_patch_mirror_sample_rate sh -c '[ "$1" = 200 ] && grep -q "mirror_sample_rate 1 → 0.25" "$2" && grep -q "\"mirror_sample_rate\": 0.25" "$3"' - "$st" "$tmp/mr.body" "$cfg"
req mrb PATCH /config/router_settings -H "$M" -H "$J" -d '{"mirror_sample_rate":1.5}'
check cli_ui_patch_bad_mirror_sample_rate_is_400_with_the_path sh -c '[ "$1" = 400 ] && grep -q "router_settings.mirror_sample_rate" "$2"' - "$st" "$tmp/mrb.body"
req grp PATCH /config/groups/ch%61t -H "$M" -H "$J" -d '{"weights":{"gpt-a #0":0.6}}'
check cli_ui_group_names_are_percent_decoded [ "$st" = 200 ]

# ---- history and revert ----
req h GET /config/history -H "$M"
check cli_ui_history_lists_versions_newest_first sh -c '[ "$1" = 200 ] && grep -q "^{\"version\":7,\"versions\":\[{\"version\":7,.*{\"version\":1,.*\"summary\":\"the config serve started with\"" "$2"' - "$st" "$tmp/h.body"
check cli_ui_history_names_the_source grep -q '"source":"PATCH /config/router_settings"' "$tmp/h.body"
req rv POST /config/revert -H "$M" -H "$J" -d '{"version":1}'
check cli_ui_revert_makes_a_new_version_with_the_old_text sh -c '[ "$1" = 200 ] && grep -q "\"version\":8" "$2" && cmp -s "$3" "$4"' - "$st" "$tmp/rv.body" "$cfg" "$tmp/v1.json"
req rvx POST /config/revert -H "$M" -H "$J" -d '{"version":99}'
check cli_ui_revert_to_an_unknown_version_is_404 [ "$st" = 404 ]
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13; do
  w=$(( i % 2 ))
  curl -s -o /dev/null -X PATCH "$gw/config/groups/other" -H "$M" -H "$J" -d "{\"weights\":{\"gpt-c #2\":$w.5}}"
done
req h2 GET /config/history -H "$M"
check cli_ui_history_keeps_the_last_20 sh -c '[ "$(grep -o "\"version\":[0-9]*,\"time\"" "$1" | wc -l)" = 20 ] && grep -q "\"version\":21,\"versions\"" "$1"' - "$tmp/h2.body"
req rvo POST /config/revert -H "$M" -H "$J" -d '{"version":1}'
check cli_ui_revert_past_the_history_is_404 sh -c '[ "$1" = 404 ] && grep -q "the last 20 are: 2 to 21" "$2"' - "$st" "$tmp/rvo.body"

# ---- methods and paths ----
req m405 DELETE /config -H "$M"
check cli_ui_wrong_method_is_405_with_allow sh -c '[ "$1" = 405 ] && grep -qi "^allow: GET, PUT" "$2"' - "$st" "$tmp/m405.head"
req p404 GET /config/nothing -H "$M"
check cli_ui_unknown_path_is_404 [ "$st" = 404 ]

# ---- the file edited by hand ----
req cur GET /config -H "$M"
v_before=$(hdr cur X-Llmsplit-Config-Version)
sed 's/"mirror_sample_rate": 1/"mirror_sample_rate": 0.5/' "$tmp/v1.json" > "$tmp/hand.json"
cp "$tmp/hand.json" "$cfg.new" && mv "$cfg.new" "$cfg"
i=0; while [ $i -lt 100 ]; do req cur GET /config -H "$M"; [ "$(hdr cur X-Llmsplit-Config-Version)" != "$v_before" ] && break; sleep 0.05; i=$((i+1)); done
check cli_ui_a_file_edited_by_hand_is_a_new_version sh -c 'cmp -s "$1" "$2"' - "$tmp/cur.body" "$tmp/hand.json"
req hh GET /config/history -H "$M"
check cli_ui_the_hand_edit_is_in_the_history grep -q '"source":"the file","summary":"mirror_sample_rate 1 → 0.5"' "$tmp/hh.body"
v_hand=$(hdr cur X-Llmsplit-Config-Version)
printf '{"model_list": 3}' > "$cfg.new" && mv "$cfg.new" "$cfg"
kill -HUP $serve_pid
i=0; while ! grep -q "changed but is refused" "$tmp/serve.err" && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
req cur2 GET /config -H "$M"
check cli_ui_an_invalid_hand_edit_is_refused_with_a_warning sh -c 'grep -q "changed but is refused, the config in use (version $2) stays: model_list: must be an array" "$1" && [ "$3" = "$2" ]' - "$tmp/serve.err" "$v_hand" "$(hdr cur2 X-Llmsplit-Config-Version)"
cp "$tmp/hand.json" "$cfg"

# ---- /stats ----
for i in 1 2 3 4 5 6; do
  curl -s -o /dev/null "$gw/v1/chat/completions" -H "$M" -H "$J" -d '{"model":"chat","messages":[{"role":"user","content":"hi"}]}'
done
req st GET /stats -H "$M"
check cli_ui_stats_counts_the_calls_per_group sh -c '[ "$1" = 200 ] && grep -q "\"name\":\"chat\",\"in_config\":true,\"calls\":6," "$2"' - "$st" "$tmp/st.body"
check cli_ui_stats_names_the_arms_as_the_records_do sh -c 'grep -q "\"arm\":\"gpt-a #0\"" "$1" && grep -q "\"arm\":\"gpt-b #1\"" "$1"' - "$tmp/st.body"
check cli_ui_stats_is_json sh -c '"$1" json --check "$2"' - "$tool" "$tmp/st.body"
req sta GET /stats
check cli_ui_stats_needs_the_master_key [ "$st" = 401 ]
# a caller that hangs up mid-stream (gpt-c's stream would take 20 s): client_closed, which the live
# figures count apart, as the report does: no call of the arm, no error
curl -s -N --max-time 0.8 "$gw/v1/chat/completions" -H "$M" -H "$J" -d '{"model":"other","stream":true,"messages":[{"role":"user","content":"one two three four five six seven eight nine ten"}]}' > /dev/null 2>&1
i=0; while ! grep -q '"model":"gpt-c".*"status":"client_closed"' "$log" && [ $i -lt 160 ]; do sleep 0.05; i=$((i+1)); done
# (the record reaches the log file a moment before the live figures: asked until they have it)
closed_apart() { /usr/bin/python3 -c "
import json, sys
a = [a for g in json.load(open(sys.argv[1]))[\"groups\"] for a in g[\"arms\"] if a[\"arm\"] == \"gpt-c #2\"]
sys.exit(not a or (a[0][\"calls\"], a[0][\"errors\"], a[0].get(\"client_closed\")) != (0, 0, 1))" "$1"; }
i=0; while req stc GET /stats -H "$M" && ! closed_apart "$tmp/stc.body" && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done
closed_and_logged() { closed_apart "$tmp/stc.body" && grep -q '"model":"gpt-c".*"status":"client_closed"' "$log"; }
check cli_ui_stats_counts_a_client_closed_call_apart_not_as_an_error closed_and_logged
curl -s -N --max-time 2.6 "$gw/stats/stream" -H "$M" > "$tmp/stream" 2>/dev/null
check cli_ui_stats_stream_sends_an_event_a_second sh -c '[ "$(grep -c "^event: stats$" "$1")" -ge 2 ] && grep -q "^data: {\"time\":" "$1"' - "$tmp/stream"

# ---- the dashboard's session ----
req page GET /ui
check cli_ui_page_is_served_with_a_strict_csp sh -c '[ "$1" = 200 ] && grep -qi "^content-security-policy: default-src .none.; script-src .self.;" "$2"' - "$st" "$tmp/page.head"
req js GET /ui/app.js
check cli_ui_page_loads_nothing_from_elsewhere sh -c '! grep -v "http://www.w3.org/2000/svg" "$1" "$2" | grep -q "https\?://"' - "$tmp/page.body" "$tmp/js.body"
req lbad POST /ui/login -H "$J" -d '{"key":"wrong"}'
check cli_ui_login_with_a_wrong_key_is_401 sh -c '[ "$1" = 401 ] && ! grep -qi "^set-cookie" "$2"' - "$st" "$tmp/lbad.head"
req login POST /ui/login -H "$J" -d '{"key":"mk-master-1"}'
cookie=$(hdr login Set-Cookie)
sid=$(echo "$cookie" | sed -n 's/^llmsplit_session=\([0-9a-f]*\);.*/\1/p')
csrf=$(sed -n 's/.*"csrf":"\([0-9a-f]*\)".*/\1/p' "$tmp/login.body")
check cli_ui_login_sets_an_httponly_samesite_strict_cookie sh -c 'case "$1" in *HttpOnly*SameSite=Strict*) [ ${#2} = 64 ];; *) exit 1;; esac' - "$cookie" "$sid"
check cli_ui_the_cookie_is_not_the_key sh -c '! echo "$1" | grep -q mk-master-1' - "$cookie"
check cli_ui_the_cookie_is_not_secure_over_plain_http sh -c 'case "$1" in *Secure*) exit 1;; esac' - "$cookie"
req loginp POST /ui/login -H "$J" -H "X-Forwarded-Proto: https" -d '{"key":"mk-master-1"}'
check cli_ui_behind_a_tls_proxy_the_cookie_is_secure sh -c 'case "$1" in *"; Secure"*) exit 0;; *) exit 1;; esac' - "$(hdr loginp Set-Cookie)"
C="Cookie: llmsplit_session=$sid"
req sess GET /ui/session -H "$C"
check cli_ui_session_gives_the_csrf_token sh -c '[ "$1" = 200 ] && grep -q "\"csrf\":\"$2\"" "$3"' - "$st" "$csrf" "$tmp/sess.body"
req cget GET /config -H "$C"
check cli_ui_the_cookie_reads_the_config [ "$st" = 200 ]
req cnocsrf PATCH /config/groups/chat -H "$C" -H "$J" -d '{"weights":{"gpt-a #0":0.9}}'
check cli_ui_cookie_without_csrf_token_is_refused sh -c '[ "$1" = 403 ] && grep -q "X-CSRF-Token" "$2"' - "$st" "$tmp/cnocsrf.body"
req cwrong PATCH /config/groups/chat -H "$C" -H "$J" -H "X-CSRF-Token: 0000" -d '{"weights":{"gpt-a #0":0.9}}'
check cli_ui_cookie_with_a_wrong_csrf_token_is_refused [ "$st" = 403 ]
req nocookie PATCH /config/groups/chat -H "$J" -H "X-CSRF-Token: $csrf" -d '{"weights":{"gpt-a #0":0.9}}'
check cli_ui_csrf_token_without_the_cookie_is_refused [ "$st" = 401 ]
for what in "PUT /config" "POST /config/revert" "PATCH /config/router_settings" "POST /ui/logout"; do
  set -- $what
  req anonw "$1" "$2" -H "$J" -d '{}'
  [ "$st" = 401 ] || echo "  $what without a cookie: $st"
  [ "$st" = 401 ] || break
done
check cli_ui_every_change_needs_the_key_or_the_cookie [ "$st" = 401 ]
for what in "PUT /config" "POST /config/revert" "PATCH /config/router_settings" "PATCH /config/groups/chat" "POST /ui/logout"; do
  set -- $what
  req cw "$1" "$2" -H "$C" -H "$J" -d '{}'
  [ "$st" = 403 ] || echo "  $what with the cookie but no token: $st"
  [ "$st" = 403 ] || break
done
check cli_ui_every_change_with_the_cookie_needs_the_csrf_token [ "$st" = 403 ]
req cok PATCH /config/groups/chat -H "$C" -H "$J" -H "X-CSRF-Token: $csrf" -d '{"weights":{"gpt-a #0":0.9}}'
check cli_ui_cookie_and_csrf_token_may_change [ "$st" = 200 ]
req xsite PATCH /config/groups/chat -H "$C" -H "$J" -H "X-CSRF-Token: $csrf" -H "Origin: https://evil.example" -d '{"weights":{"gpt-a #0":0.1}}'
check cli_ui_a_request_from_another_site_is_refused [ "$st" = 403 ]
req lo POST /ui/logout -H "$C" -H "X-CSRF-Token: $csrf"
req after GET /ui/session -H "$C"
check cli_ui_logout_ends_the_session [ "$st" = 401 ]
for i in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null "$gw/ui/login" -H "$J" -d '{"key":"guess"}'; done
req l429 POST /ui/login -H "$J" -d '{"key":"mk-master-1"}'
check cli_ui_ten_failed_logins_a_minute_are_429 [ "$st" = 429 ]

# ---- a YAML config (LiteLLM's config.yaml): served as JSON, written back as YAML ----
ycfg=$tmp/config.yaml
cat > "$ycfg" <<EOF
# LiteLLM's proxy config
model_list:
  - model_name: chat
    litellm_params:
      model: openai/gpt-a
      api_base: $mock/v1
      weight: 0.8
  - model_name: chat
    litellm_params: {model: openai/gpt-b, api_base: "$mock/v1", weight: 0.2}
general_settings:
  master_key: mk-yaml-1
EOF
"$tool" serve --config "$ycfg" --listen 127.0.0.1:0 > "$tmp/yserve.out" 2> "$tmp/yserve.err" &
pids="$pids $!"
ygw=$(url_of "$tmp/yserve.out")
Y="Authorization: Bearer mk-yaml-1"
yreq() { n=$1; m=$2; p=$3; shift 3; st=$(curl -s -o "$tmp/$n.body" -D "$tmp/$n.head" -w '%{http_code}' -X "$m" "$ygw$p" "$@"); }
yreq y1 GET /config -H "$Y"
check cli_ui_a_yaml_config_is_served_as_json sh -c '[ "$1" = 200 ] && "$2" json --check "$3" && grep -q "\"weight\": 0.8" "$3"' - "$st" "$tool" "$tmp/y1.body"
yreq y2 PATCH /config/groups/chat -H "$Y" -H "$J" -d '{"weights":{"gpt-a #0":0.5,"gpt-b #1":0.5}}'
check cli_ui_a_change_to_a_yaml_config_is_written_as_yaml sh -c '[ "$1" = 200 ] && head -1 "$2" | grep -q "^# written by llmsplit serve" && grep -q "^      weight: 0.5$" "$2" && ! grep -q "[{]" "$2"' - "$st" "$ycfg"
sleep 1.5   # the watcher reads the file it wrote back: the same config, no new version
yreq y3 GET /config/history -H "$Y"
check cli_ui_the_yaml_written_back_is_no_new_version grep -q '^{"version":2,' "$tmp/y3.body"
sed "s|http://127.0.0.1:9/v1|$mock/v1|; s|\"mk-y\"|\"mk-yaml-1\"|" tests/data/ui_tricky.json > "$tmp/tricky.json"
yreq y4 PUT /config -H "$Y" -H "$J" -H "If-Match: *" --data-binary @"$tmp/tricky.json"
"$tool" json "$ycfg" > "$tmp/back.json" 2>&1
# the same values (numbers may be written another way: 1e-6 is 0.000001 back)
check cli_ui_yaml_written_back_reads_as_the_json_that_was_put sh -c '[ "$1" = 200 ] && /usr/bin/python3 -c "
import json, sys
sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))" "$2" "$3"' - "$st" "$tmp/tricky.json" "$tmp/back.json"
if /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
  check cli_ui_yaml_written_back_reads_the_same_in_pyyaml /usr/bin/python3 -c '
import json, sys, yaml
sys.exit(yaml.safe_load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$ycfg" "$tmp/tricky.json"
else
  echo "skip cli_ui_yaml_written_back_reads_the_same_in_pyyaml: python3-yaml is not installed"
fi

# ---- a log too long for a live verdict ----
# the report reads the whole log into memory: past 128 MiB the live verdict stops and says so (a
# sparse file: 129 MiB long, nothing on disk)
truncate -s 129M "$tmp/long.jsonl"
"$tool" serve --config "$ycfg" --listen 127.0.0.1:0 --log "$tmp/long.jsonl" > "$tmp/lserve.out" 2> "$tmp/lserve.err" &
lpid=$!
pids="$pids $lpid"
lgw=$(url_of "$tmp/lserve.out")
i=0; while ! curl -s "$lgw/stats" -H "$Y" | grep -q '"note":"the log is over 128 MiB' && [ $i -lt 60 ]; do sleep 0.1; i=$((i+1)); done
check cli_ui_a_log_too_long_gets_no_live_verdict_and_says_so sh -c 'curl -s "$1/stats" -H "$2" | grep -q "\"note\":\"the log is over 128 MiB: no more live verdict; run llmsplit report on it\""' - "$lgw" "$Y"
check cli_ui_a_log_too_long_is_not_read_into_memory sh -c '[ "$(awk "/^VmRSS:/ {print \$2}" /proc/$1/status)" -lt 65536 ]' - "$lpid"
kill "$lpid" 2>/dev/null

# ---- an embedded client following /config ----
"$tool" chat --config "$gw/config" --model chat hello > "$tmp/nokey.out" 2>&1; rc=$?
check cli_ui_config_url_without_the_key_says_so sh -c '[ "$1" = 2 ] && grep -q "config_url answered HTTP 401 (it wants a key: set config_api_key)" "$2"' - $rc "$tmp/nokey.out"
LLMSPLIT_CONFIG_KEY=rk-reader-1 "$tool" chat --config "$gw/config" --model chat hello > "$tmp/key.out" 2>&1; rc=$?
check cli_ui_config_url_with_the_read_key_works sh -c '[ "$1" = 0 ] && grep -q "mock reply from gpt-" "$2"' - $rc "$tmp/key.out"
check cli_ui_the_read_key_is_in_no_log_line sh -c '! grep -q rk-reader-1 "$1" "$2" "$3"' - "$log" "$tmp/serve.err" "$tmp/key.out"

# a running replay follows a change within its poll interval: after the "config" record of its
# own log, every call goes to the arm that has all the weight now
count() { n=$(grep -c -- "$1" "$2" 2>/dev/null); echo "${n:-0}"; }   # PATTERN FILE
prompt_lines() { i=0; while [ $i -lt 3000 ]; do echo "{\"prompt\": \"q$i\"}"; i=$((i+1)); done; }
prompt_lines > "$tmp/prompts.jsonl"
rlog=$tmp/replay.jsonl
LLMSPLIT_CONFIG_KEY=rk-reader-1 "$tool" replay --config "$gw/config" --config-poll 0.1 --model chat --log "$rlog" \
  "$tmp/prompts.jsonl" > "$tmp/replay.out" 2>&1 &
replay_pid=$!
pids="$pids $replay_pid"
i=0; while [ "$(count '"role":"primary"' "$rlog")" -lt 50 ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
curl -s -o /dev/null -X PATCH "$gw/config/groups/chat" -H "$M" -H "$J" -d '{"weights":{"gpt-a #0":0,"gpt-b #1":1}}'
i=0; while ! grep -q '"event":"config"' "$rlog" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
n0=$(count '"role":"primary"' "$rlog")
i=0; while [ "$(count '"role":"primary"' "$rlog")" -lt $((n0 + 50)) ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
kill $replay_pid 2>/dev/null; wait $replay_pid 2>/dev/null
# calls picked by the split after the change (its epoch: calls in flight at the change keep theirs)
check cli_ui_replay_follows_the_change sh -c '
  epoch=$(awk "/\"event\":\"config\"/ { after = 1 } after && /\"event\":\"split\"/ { print; exit }" "$1" | sed -n "s/.*\"epoch\":\([0-9]*\).*/\1/p")
  [ -n "$epoch" ] || exit 1
  n=$(grep "\"role\":\"primary\"" "$1" | grep -c "\"split_epoch\":$epoch,")
  wrong=$(grep "\"role\":\"primary\"" "$1" | grep "\"split_epoch\":$epoch," | grep -vc "\"model\":\"gpt-b\"")
  before=$(awk "/\"event\":\"config\"/ { exit } /\"model\":\"gpt-a\"/ { a++ } END { print a + 0 }" "$1")
  [ "$n" -ge 40 ] && [ "$wrong" = 0 ] && [ "$before" -gt 0 ]' - "$rlog"
# ---- feedback joins its call's arm in the live figures ----
curl -s -D "$tmp/fc.head" -o /dev/null "$gw/v1/chat/completions" -H "$M" -H "$J" -d '{"model":"chat","messages":[{"role":"user","content":"hi"}]}'
rid=$(hdr fc x-llmsplit-request-id)
arm=$(hdr fc x-llmsplit-model)
curl -s -o /dev/null "$gw/v1/feedback" -H "$M" -H "$J" -d "{\"request_id\":\"$rid\",\"metric\":\"thumbs_up\",\"value\":0.25}"
req stf GET /stats -H "$M"
check cli_ui_stats_shows_feedback_on_the_arm_that_answered sh -c '[ -n "$2" ] && /usr/bin/python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))
a = [a for g in s[\"groups\"] for a in g[\"arms\"] if a[\"arm\"] == sys.argv[2]][0]
sys.exit(a[\"feedback\"] != {\"thumbs_up\": {\"mean\": 0.25, \"n\": 1}})" "$1" "$2"' - "$tmp/stf.body" "$arm"

# ---- a gateway following this control plane (serve --config URL) ----
LLMSPLIT_CONFIG_KEY=rk-reader-1 LLMSPLIT_MASTER_KEY=mk-follower-1 "$tool" serve --config "$gw/config" --config-poll 100 \
  --listen 127.0.0.1:0 > "$tmp/fserve.out" 2> "$tmp/fserve.err" &
pids="$pids $!"
fgw=$(url_of "$tmp/fserve.out")
F="Authorization: Bearer mk-follower-1"
st=$(curl -s -o "$tmp/fc1.body" -w '%{http_code}' "$fgw/v1/chat/completions" -H "$F" -H "$J" -d '{"model":"chat","messages":[{"role":"user","content":"hi"}]}')
check cli_ui_a_following_gateway_serves_the_groups [ "$st" = 200 ]
st=$(curl -s -o "$tmp/fcfg.body" -w '%{http_code}' -X PATCH "$fgw/config/groups/chat" -H "$F" -H "$J" -d '{"weights":{"gpt-a #0":1}}')
check cli_ui_a_following_gateway_sends_changes_to_its_control_plane sh -c '[ "$1" = 409 ] && grep -q "follows the control plane at $2/config" "$3"' - "$st" "$gw" "$tmp/fcfg.body"
curl -s -o /dev/null -X PATCH "$gw/config/groups/chat" -H "$M" -H "$J" -d '{"weights":{"gpt-a #0":0.25,"gpt-b #1":0.75}}'
i=0; while [ $i -lt 100 ]; do
  curl -s -o "$tmp/fst.body" "$fgw/stats" -H "$F"
  grep -q '"arm":"gpt-a #0","in_config":true,"model":"openai/gpt-a","deployment":0,"weight":0.25,' "$tmp/fst.body" && break
  sleep 0.05; i=$((i+1))
done
check cli_ui_a_following_gateway_follows_a_change sh -c 'grep -q "\"weight\":0.25," "$1" && grep -q "\"follows\":\"$2/config\"" "$1"' - "$tmp/fst.body" "$gw"
check cli_ui_the_follower_leaves_the_read_key_out_of_its_log sh -c '! grep -q rk-reader-1 "$1"' - "$tmp/fserve.err"

