#!/bin/sh
# `llmsplit report`: its figures against an independent computation (awk and sort(1)) over a
# generated log, unreadable lines, mirrored pairs, and the HTML page. usage: cli_report.sh TOOL
tool=${1:-build/llmsplit}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
check() { # NAME CONDITION...
  name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fi
}
# NAME FILE1 FILE2: equal files, else the difference is shown
same() {
  if cmp -s "$2" "$3"; then echo "ok   $1"; else echo "FAIL $1"; diff "$2" "$3" | head -20; fi
}

if ! "$tool" report --help > "$tmp/help" 2>&1 || ! grep -q 'llmsplit report' "$tmp/help"; then
  echo "skip cli_report: report command not built yet"
  exit 0
fi

# ---- the log: facts.tsv holds what each line says, log.jsonl the same as the client's call records ----
# facts: kind group model deployment status latency ttft prompt completion cost pair response fallback
# ("-" for absent). Group chat is an 80/20 split of gpt-4 and llama2, llama2 mirrored to gpt-4o;
# group edge has a model name full of HTML metacharacters and a model that only ever falls back.
# Some calls in both groups are client_closed (the caller went away): they carry a latency, a
# ttft, tokens and a cost, which the report leaves out, as it leaves them out of calls and errors.
awk -v N=600 -v facts="$tmp/facts.tsv" '
function ts(ms,   s) { s = int(ms / 1000); return sprintf("2026-11-21T10:%02d:%02d.%03dZ", int(s / 60), s % 60, ms % 1000) }
function jstr(v) { if (v == "-") return "null"; gsub(/\\/, "\\\\", v); gsub(/"/, "\\\"", v); return "\"" v "\"" }
function jnum(v) { return v == "-" ? "null" : v }
function emit(kind, g, m, d, st, lat, ttft, pt, ct, cost, pid, resp, fb,   line) {
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", kind, g, m, d, st, lat, ttft, pt, ct, cost, pid, resp, fb > facts
  line = sprintf("{\"ts\":\"%s\",\"event\":\"call\",\"request_id\":\"r%d\",\"pair_id\":%s,\"role\":\"%s\",", ts(t), ++rid, jstr(pid), kind == "P" ? "primary" : "silent")
  line = line sprintf("\"is_silent_experiment\":%s,\"group\":%s,\"model\":%s,\"provider\":\"openai\",\"deployment\":%s,", kind == "P" ? "false" : "true", jstr(g), jstr(m), d)
  line = line sprintf("\"sticky\":false,\"fallback_from\":%s,\"status\":\"%s\",\"http_status\":%d,\"error\":%s,", jstr(fb), st, st == "error" ? 503 : 200,
    st == "ok" ? "null" : st == "error" ? "\"provider: 503 overloaded\"" : "\"network: aborted by the caller (abort_flag)\"")
  line = line sprintf("\"latency_ms\":%s,\"ttft_ms\":%s,\"prompt_tokens\":%s,\"completion_tokens\":%s,\"cost_usd\":%s,\"finish_reason\":\"stop\"", lat, jnum(ttft), pt, ct, cost)
  if (resp != "-") line = line ",\"response\":" jstr(resp)
  print line "}"
}
BEGIN {
  srand(42)
  for (i = 1; i <= N; i++) {
    t += 1 + int(rand() * 700)
    fb = "-"
    if (i % 40 == 0) {
      g = "edge"
      if (rand() < 0.5) { m = "<b>&\"x\"</b>"; d = 0 } else { m = "plain"; d = 1; if (rand() < 0.5) fb = "down-model" }
    } else {
      g = "chat"
      if (rand() < 0.8) { m = "gpt-4"; d = 0 } else { m = "llama2"; d = 1; if (rand() < 0.15) fb = "gpt-4" }
    }
    st = rand() < (d == 0 ? 0.95 : 0.85) ? "ok" : "error"
    if (i % 23 == 0 || i % 200 == 80) st = "client_closed"
    lat = sprintf("%.1f", 150 + rand() * 1500)
    if (rand() < 0.2) lat = int(lat)                       # integers and ties too
    ttft = (st != "error" && rand() < 0.6) ? sprintf("%.1f", lat * 0.3) : "-"
    pt = 10 + int(rand() * 40); ct = st != "error" ? 5 + int(rand() * 200) : 0
    cost = sprintf("%.6f", (pt * 30 + ct * 60) / 1000000)
    resp = st == "ok" ? "answer " i : "-"
    silent = g == "chat" && m == "llama2"
    if (silent) {                                          # the mirrored call to gpt-4o
      sst = rand() < 0.9 ? "ok" : "error"
      slat = sprintf("%.1f", lat * (0.5 + rand()))
      sresp = sst != "ok" ? "-" : (resp != "-" && rand() < 0.5) ? resp : "answer " i substr(" and a bit more", 1, int(rand() * 16))
      spt = pt; sct = sst == "ok" ? 5 + int(rand() * 200) : 0
      scost = sprintf("%.6f", (spt * 5 + sct * 15) / 1000000)
    }
    if (silent && i % 7 == 0) emit("S", "eval", "gpt-4o", 0, sst, slat, "-", spt, sct, scost, "p" i, sresp, "-")
    emit("P", g, m, d, st, lat, ttft, pt, ct, cost, "p" i, resp, fb)
    if (silent && i % 7 != 0) emit("S", "eval", "gpt-4o", 0, sst, slat, "-", spt, sct, scost, "p" i, sresp, "-")
    if (i == 200 || i == 400)
      printf "{\"ts\":\"%s\",\"event\":\"rollback\",\"group\":\"chat\",\"model\":\"llama2\",\"deployment\":1,\"reason\":\"error rate 0.6%d > 0.50 over 50 calls\",\"cooldown_s\":60}\n", ts(t), i / 200
  }
  for (i = 1; i <= 3; i++)                                 # silent calls whose primary is not in the log
    emit("S", "eval", "gpt-4o", 0, "ok", "100.0", "-", 1, 1, "0.000001", "gone" i, "x", "-")
}' > "$tmp/body.jsonl"
{
  echo '{"ts":"2026-11-21T10:00:00.000Z","event":"config","groups":["chat","edge"]}'
  echo
  echo 'this is not json'
  head -n 100 "$tmp/body.jsonl"
  printf '   \r\n'
  echo '{"event":"call","model":'
  tail -n +101 "$tmp/body.jsonl"
  echo '[1,2]'
} > "$tmp/log.jsonl"

"$tool" report "$tmp/log.jsonl" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_report_exits_0 [ $rc = 0 -a ! -s "$tmp/err" ]

# ---- per-arm figures, computed here from facts.tsv ----
# Nearest rank: the value at rank ceil(p*n/100) of the ascending list (integers: (p*n+99)/100).
tab=$(printf '\t')
sort -t "$tab" -k6,6n "$tmp/facts.tsv" > "$tmp/by_lat"
sort -t "$tab" -k7,7n "$tmp/facts.tsv" > "$tmp/by_ttft"
awk -F '\t' '
function pct(a, key, n, p,   r) { if (!n) return "-"; r = int((p * n + 99) / 100); if (r < 1) r = 1; if (r > n) r = n; return sprintf("%.1f", a[key, r]) }
function name(m, d) { return m " #" d }
FILENAME == ARGV[1] && $1 == "P" && $5 == "ok" { k = $2 SUBSEP name($3, $4); lat[k, ++nl[k]] = $6 }
FILENAME == ARGV[2] && $1 == "P" && $5 == "ok" && $7 != "-" { k = $2 SUBSEP name($3, $4); tt[k, ++nt[k]] = $7 }
FILENAME == ARGV[3] && $1 == "P" {
  k = $2 SUBSEP name($3, $4)
  if (!(k in calls)) { calls[k] = 0; order[++narms] = k }
  if ($13 == "-") chosen[k]++
  else { f = $2 SUBSEP ($13 == "gpt-4" ? "gpt-4 #0" : $13); chosen[f]++; if (!(f in calls)) { calls[f] = 0; order[++narms] = f } }
  if ($5 == "client_closed") { closed[k]++; gclosed[$2]++; next }   # chosen, but not a call
  calls[k]++; gcalls[$2]++; cost[k] += $10
  if ($5 != "ok") err[k]++
  else { okn[k]++; pt[k] += $8; ct[k] += $9 }
}
END {
  for (i = 1; i <= narms; i++) {
    k = order[i]; split(k, part, SUBSEP)
    printf "T1 %s %d %.1f%% %d%s %d %s %s %s %s %s\n", part[2], calls[k], 100 * calls[k] / gcalls[part[1]], chosen[k],
      gclosed[part[1]] ? " " closed[k] + 0 : "", err[k],
      calls[k] ? sprintf("%.1f%%", 100 * err[k] / calls[k]) : "-", pct(lat, k, nl[k], 50), pct(lat, k, nl[k], 95), pct(lat, k, nl[k], 99), pct(tt, k, nt[k], 50)
    printf "T2 %s %d %s %d %s %.6f\n", part[2], pt[k], okn[k] ? sprintf("%.1f", pt[k] / okn[k]) : "-", ct[k], okn[k] ? sprintf("%.1f", ct[k] / okn[k]) : "-", cost[k]
  }
}' "$tmp/by_lat" "$tmp/by_ttft" "$tmp/facts.tsv" | sort > "$tmp/expected_arms"
awk '/^  arm +calls +share/ { t = 1; next } /^  arm +prompt tok/ { t = 2; next } /^$/ { t = 0 }
     t { $1 = $1; print "T" t " " $0 }' "$tmp/out" | sort > "$tmp/actual_arms"
check cli_report_lists_every_arm [ "$(wc -l < "$tmp/actual_arms")" -eq 10 ]
same cli_report_arm_counts_shares_errors_percentiles_match_independent_computation "$tmp/expected_arms" "$tmp/actual_arms"

check cli_report_counts_groups_and_their_client_closed_calls [ "$(grep '^group chat:' "$tmp/out")" = "$(awk -F '\t' '
  $1 == "P" && $2 == "chat" { if ($5 == "client_closed") k++; else n++ }
  END { printf "group chat: %d primary calls and %d client_closed", n, k }' "$tmp/facts.tsv")" ]
# --json: the same counts, client_closed always there
"$tool" report --json "$tmp/log.jsonl" > "$tmp/out.json" 2> "$tmp/err"
awk -F '\t' '$1 == "P" && $2 == "chat" {
  k = $3 " #" $4
  if ($13 == "-") chosen[k]++; else chosen["gpt-4 #0"]++
  if ($5 == "client_closed") { closed[k]++; gclosed++ } else { calls[k]++; gcalls++; err[k] += $5 == "error" }
}
END {
  printf "\"chat\":{\"calls\":%d,\"client_closed\":%d,\n", gcalls, gclosed
  for (k in chosen) printf "\"%s\":{\"calls\":%d,\"errors\":%d,\"chosen\":%d,\"client_closed\":%d,\n", k, calls[k], err[k], chosen[k], closed[k]
}' "$tmp/facts.tsv" | sort > "$tmp/expected_json"
grep -o '"chat":{"calls":[0-9]*,"client_closed":[0-9]*,\|"\(gpt-4 #0\|llama2 #1\)":{"calls":[0-9]*,"errors":[0-9]*,"chosen":[0-9]*,"client_closed":[0-9]*,' \
  "$tmp/out.json" | sort > "$tmp/actual_json"
same cli_report_json_counts_client_closed_apart_from_calls_and_errors "$tmp/expected_json" "$tmp/actual_json"

check cli_report_counts_unreadable_lines_and_quotes_the_first \
  [ -n "$(grep -x '3 lines could not be read (first: line 3: .*)' "$tmp/out")" ]
check cli_report_counts_records [ -n "$(grep -x "$(awk -F '\t' '{n++; p += $1 == "P"} END {printf "%d records: %d primary calls, %d silent calls, 3 events (1 config)", n + 3, p, n - p}' "$tmp/facts.tsv")" "$tmp/out")" ]

fb=$(awk -F '\t' '$2 == "chat" && $13 == "gpt-4"' "$tmp/facts.tsv" | wc -l | tr -d ' ')
check cli_report_lists_fallbacks [ -n "$(grep -x "  gpt-4 *llama2 #1 *$fb" "$tmp/out")" ]
check cli_report_lists_rollbacks_with_reasons [ -n "$(grep -x '  rollbacks: 2' "$tmp/out")" -a \
  -n "$(grep 'llama2 #1 *60  error rate 0.62 > 0.50 over 50 calls' "$tmp/out")" ]

# ---- mirrored pairs ----
awk -F '\t' -v lat="$tmp/pair_lat" -v costs="$tmp/expected_cost" '$1 == "P" { p[$11] = $0 } $1 == "S" { s[$11] = $0 }
END {
  for (id in s) {
    if (!(id in p)) { orphans++; continue }
    split(p[id], a, "\t"); split(s[id], b, "\t")
    pairs++; serr += b[5] != "ok"; perr += a[5] == "error"; pc += a[5] == "client_closed" ? 0 : a[10]; sc += b[10]
    if (a[5] == "ok") print "PL", a[6] > lat
    if (b[5] == "ok") print "SL", b[6] > lat
    if (a[12] != "-" && b[12] != "-") { both++; same += a[12] == b[12]; diff += length(b[12]) - length(a[12]) }
  }
  printf "  silent calls without a primary in the log (orphans): %d\n", orphans
  printf "chat: llama2 #1 -> gpt-4o: %d pairs, %d silent errors (%.1f%%), %d primary errors\n", pairs, serr, 100 * serr / pairs, perr
  printf "  exact text match: %d of %d pairs with both texts (%.1f%%)\n", same, both, 100 * same / both
  printf "  length difference, silent - primary: %+.1f chars on average\n", diff / both
  printf "cost sum $ %.6f %.6f\n", pc, sc > costs
}' "$tmp/facts.tsv" > "$tmp/expected_pairs"
sort -k2,2n "$tmp/pair_lat" | awk '{ v[$1, ++n[$1]] = $2 }
function pct(k, p,   r) { r = int((p * n[k] + 99) / 100); return sprintf("%.1f", v[k, r < 1 ? 1 : r]) }
END { printf "latency p50 ms %s %s\nlatency p95 ms %s %s\n", pct("PL", 50), pct("SL", 50), pct("PL", 95), pct("SL", 95) }' >> "$tmp/expected_pairs"
cat "$tmp/expected_cost" >> "$tmp/expected_pairs"   # the pair table: latencies, then the cost sums
{ grep -E '^chat: llama2 #1 -> gpt-4o:|^  exact text match|^  length difference|^  silent calls without' "$tmp/out"
  grep -E '^  cost sum \$|^  latency p(50|95) ms' "$tmp/out" | awk '{ $1 = $1; print }'; } > "$tmp/actual_pairs"
same cli_report_pairs_silent_errors_matches_orphans_match_independent_computation "$tmp/expected_pairs" "$tmp/actual_pairs"

# ---- the HTML page ----
"$tool" report "$tmp/log.jsonl" --html "$tmp/page.html" > "$tmp/out2" 2> "$tmp/err"; rc=$?
check cli_report_html_exits_0_and_says_where [ $rc = 0 -a "$(tail -n 1 "$tmp/out2")" = "wrote $tmp/page.html" ]
check cli_report_html_keeps_the_text_report [ "$(sed '$d' "$tmp/out2")" = "$(cat "$tmp/out")" ]
check cli_report_html_is_one_document [ "$(head -n 1 "$tmp/page.html")" = '<!DOCTYPE html>' -a \
  "$(tail -n 1 "$tmp/page.html")" = '</html>' -a "$(grep -c '<body>' "$tmp/page.html")" = 1 ]
opened() { grep -o "<$1[ >]" "$tmp/page.html" | wc -l; }
closed() { grep -o "</$1>" "$tmp/page.html" | wc -l; }
check cli_report_html_tags_balance [ "$(opened svg)" -ge 5 -a "$(opened svg)" = "$(closed svg)" -a \
  "$(opened table)" -ge 6 -a "$(opened table)" = "$(closed table)" -a "$(opened tr)" = "$(closed tr)" ]
check cli_report_html_escapes_names_from_the_log [ -n "$(grep -F '&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt; #0' "$tmp/page.html")" -a \
  -z "$(grep -F '<b>' "$tmp/page.html")" ]
check cli_report_html_is_self_contained [ -z "$(grep -iE 'https?://|<script|<link|src=|url\(' "$tmp/page.html")" ]
check cli_report_html_has_the_three_charts [ -n "$(grep 'latency per arm' "$tmp/page.html")" -a \
  -n "$(grep 'share of primary calls over time' "$tmp/page.html")" -a -n "$(grep 'primary (x) vs silent (y)' "$tmp/page.html")" ]

# ---- robustness and usage ----
: > "$tmp/empty.jsonl"
"$tool" report "$tmp/empty.jsonl" > "$tmp/out" 2>&1; rc=$?
check cli_report_empty_log_is_fine [ $rc = 0 -a -n "$(grep 'no call records' "$tmp/out")" ]

{ head -c 17000000 /dev/zero | tr '\0' 'a'; echo; head -n 5 "$tmp/body.jsonl"; } > "$tmp/long.jsonl"
"$tool" report "$tmp/long.jsonl" > "$tmp/out" 2>&1; rc=$?
check cli_report_overlong_line_is_counted_not_fatal [ $rc = 0 -a -n "$(grep -x '1 line could not be read (first: line 1: longer than 16777216 bytes)' "$tmp/out")" ]

head -n 20 "$tmp/body.jsonl" | "$tool" report - > "$tmp/out" 2>&1; rc=$?
check cli_report_reads_stdin [ $rc = 0 -a -n "$(grep '^group chat:' "$tmp/out")" ]
check cli_report_has_no_client_closed_column_without_such_calls [ -z "$(grep client_closed "$tmp/out")" -a \
  -n "$(grep -x '  arm  *calls  *share  *chosen  *errors  *err%  *p50  *p95  *p99  *ttft p50' "$tmp/out")" ]

"$tool" report > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_report_without_log_is_usage_error [ $rc = 2 -a -n "$(grep 'usage: llmsplit report' "$tmp/err")" ]
"$tool" report "$tmp/log.jsonl" --frob > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_report_unknown_option_is_usage_error [ $rc = 2 -a "$(cat "$tmp/err")" = "llmsplit: usage: unknown option --frob for report" ]
"$tool" report "$tmp/missing.jsonl" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_report_missing_log_is_usage_error [ $rc = 2 -a -n "$(grep 'llmsplit: usage: cannot read' "$tmp/err")" ]
"$tool" report "$tmp" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_report_directory_is_usage_error [ $rc = 2 -a -n "$(grep 'llmsplit: usage: cannot read' "$tmp/err")" ]
"$tool" report "$tmp/log.jsonl" --html "$tmp/no/such/dir/page.html" > "$tmp/out" 2> "$tmp/err"; rc=$?
check cli_report_unwritable_html_is_an_error [ $rc != 0 -a -n "$(grep 'cannot write' "$tmp/err")" ]
