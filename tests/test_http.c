/* HTTP layer: URLs, the response parser on its own (fed whole and byte by byte), and the client
   against small scripted servers in this process: keep-alive, retries, timeouts, resets,
   garbage, oversized answers. Every server binds 127.0.0.1:0. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "test.h"

/* The parser's answer as one number: 1 complete, 0 needs more, -1 refused (with the status in
   err->code, which must then be set). */
static int pfeed(llmsplit_http_parser *p, const char *data, size_t len, size_t *used, llmsplit_error *err) {
    int done = 0;
    llmsplit_status st = llmsplit_http_parser_feed(p, data, len, used, &done, err);
    if (st == LLMSPLIT_OK) return done;
    if (err->code != st) {
        t_cur_failed = 1;
        printf("  parser_feed said %s, err says %s\n", llmsplit_strerror(st), llmsplit_strerror(err->code));
    }
    return -1;
}
static int feed_eof(llmsplit_http_parser *p, llmsplit_error *err) {
    return llmsplit_http_parser_eof(p, err) == LLMSPLIT_OK ? 1 : -1;
}


/* --- URLs ---------------------------------------------------------------------------------- */

static void url_parses_scheme_host_port_target(void) {
    llmsplit_url u;
    llmsplit_error err;
    CHECK((llmsplit_url_parse("https://API.OpenAI.com/v1/chat/completions?x=1#frag", &u, &err) == LLMSPLIT_OK));
    CHECK(u.https);
    CHECK_EQ_INT(u.port, 443);
    CHECK(!u.host_is_ip);
    CHECK_STR(u.host, "api.openai.com");
    CHECK_STR(u.target, "/v1/chat/completions?x=1");
    CHECK((llmsplit_url_parse("http://127.0.0.1:8080", &u, &err) == LLMSPLIT_OK));
    CHECK(!u.https);
    CHECK_EQ_INT(u.port, 8080);
    CHECK_EQ_INT(u.host_is_ip, 4);
    CHECK_STR(u.target, "/");
    CHECK((llmsplit_url_parse("http://[::1]:11434/api/chat", &u, &err) == LLMSPLIT_OK));
    CHECK_EQ_INT(u.host_is_ip, 6);
    CHECK_EQ_INT(u.port, 11434);
    CHECK_STR(u.host, "::1");
    CHECK((llmsplit_url_parse("https://h.example?q=1", &u, &err) == LLMSPLIT_OK));
    CHECK_STR(u.target, "/?q=1");
    CHECK((llmsplit_url_parse("http://user:pw@proxy.local:3128", &u, &err) == LLMSPLIT_OK));
    CHECK_STR(u.userinfo, "user:pw");
    CHECK_STR(u.host, "proxy.local");
}

static void url_rejects_bad_input_clearly(void) {
    static const char *const bad[] = {
        "ftp://x/", "api.openai.com/v1", "http://", "http://:80/", "http://host:0/", "http://host:65536/",
        "http://host:12a/", "http://ho st/", "http://host/pa th", "http://[::1/", "http://[zz]/",
        "http://host:/", "http://ho\rst/", "http://h\xc3\xa9.com/"};
    size_t i;
    llmsplit_url u;
    llmsplit_error err;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        if (llmsplit_url_parse(bad[i], &u, &err) == LLMSPLIT_OK) printf("  accepted: %s\n", bad[i]);
        CHECK((llmsplit_url_parse(bad[i], &u, &err) != LLMSPLIT_OK));
        CHECK_EQ_INT(err.code, LLMSPLIT_ERR_USAGE);
        CHECK_STARTS(err.message, "url: ");
    }
}

/* --- the parser on its own ------------------------------------------------------------------ */

/* Feeds text whole (step 0) or in pieces of `step` bytes, then EOF when asked. Returns the
   parser's final verdict: 1 complete, 0 incomplete, -1 error. */
static int feed(const char *text, size_t step, int eof, llmsplit_http_response *resp, llmsplit_error *err,
                size_t *consumed_total) {
    llmsplit_http_parser p;
    size_t len = strlen(text), off = 0, used = 0;
    int r = 0;
    memset(resp, 0, sizeof *resp);
    memset(err, 0, sizeof *err);
    llmsplit_http_parser_init(&p, resp);
    while (off < len) {
        size_t n = step ? (len - off < step ? len - off : step) : len - off;
        r = pfeed(&p, text + off, n, &used, err);
        off += used;
        if (r != 0) break;
    }
    if (consumed_total) *consumed_total = off;
    if (r == 0 && eof) r = feed_eof(&p, err);
    return r;
}

static void parse_expect_ok(const char *text, int status, const char *body) {
    size_t steps[3] = {0, 1, 7};
    int i;
    for (i = 0; i < 3; i++) {
        llmsplit_http_response r;
        llmsplit_error err;
        int v = feed(text, steps[i], 0, &r, &err, NULL);
        if (v != 1) printf("  step %u: verdict %d (%s)\n", (unsigned)steps[i], v, err.message);
        CHECK_EQ_INT(v, 1);
        CHECK_EQ_INT(r.status, status);
        CHECK_EQ_MEM(r.body.data, r.body.len, body, strlen(body));
        llmsplit_http_response_free(&r);
    }
}

static void parse_expect_error(const char *text, const char *message) {
    size_t steps[2] = {0, 1};
    int i;
    for (i = 0; i < 2; i++) {
        llmsplit_http_response r;
        llmsplit_error err;
        int v = feed(text, steps[i], 1, &r, &err, NULL);
        if (v != -1 || !strstr(err.message, message))
            printf("  step %u: verdict %d \"%s\", want \"%s\"\n", (unsigned)steps[i], v, err.message, message);
        CHECK_EQ_INT(v, -1);
        CHECK_EQ_INT(err.code, LLMSPLIT_ERR_HTTP);
        CHECK_CONTAINS(err.message, message);
        llmsplit_http_response_free(&r);
    }
}

static void http_content_length_body(void) {
    parse_expect_ok("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", 200, "hello");
    parse_expect_ok("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 200, "");
    parse_expect_ok("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 200, "abc");
}

static void http_chunked_body_with_extensions_and_trailers(void) {
    parse_expect_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;name=val\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
                    200, "hello 0123456789");
    parse_expect_ok("HTTP/1.1 200 OK\r\ntransfer-encoding: CHUNKED\r\n\r\n0\r\n\r\n", 200, "");
}

static void http_interim_responses_are_skipped(void) {
    parse_expect_ok("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                    "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
                    201, "ok");
}

/* Each interim head resets the header limit, so only a count stops a server that sends them forever. */
static void http_interim_flood_is_capped(void) {
    char text[2048];
    llmsplit_http_response r;
    llmsplit_error err;
    size_t n = 0;
    int i;
    for (i = 0; i < 16; i++) n += (size_t)snprintf(text + n, sizeof text - n, "HTTP/1.1 100 Continue\r\n\r\n");
    snprintf(text + n, sizeof text - n, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    parse_expect_ok(text, 200, "ok");
    snprintf(text + n, sizeof text - n, "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    parse_expect_error(text, "more than 16 interim (1xx) responses");
    CHECK_EQ_INT(feed(text, 0, 0, &r, &err, NULL), -1);
    llmsplit_http_response_free(&r);
}

static void http_no_body_statuses(void) {
    parse_expect_ok("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", 204, "");
    parse_expect_ok("HTTP/1.1 304 Not Modified\r\n\r\n", 304, "");
}

static void http_headers_are_indexed_case_insensitively(void) {
    llmsplit_http_response r;
    llmsplit_error err;
    size_t n;
    const char *v;
    CHECK_EQ_INT(feed("HTTP/1.1 429 Too Many Requests\r\nRetry-After:  2 \r\nContent-Length: 0\r\n\r\n", 0, 0, &r, &err, NULL), 1);
    v = llmsplit_http_get_header(&r, "retry-after", &n);
    CHECK_EQ_MEM(v, n, "2", 1);
    CHECK(llmsplit_http_get_header(&r, "x-missing", &n) == NULL);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(r.keep_alive, 1);
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(feed("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", 0, 0, &r, &err, NULL), 1);
    CHECK_EQ_INT(r.keep_alive, 0);
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(feed("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, &r, &err, NULL), 1);
    CHECK_EQ_INT(r.keep_alive, 0);
    CHECK_EQ_INT(r.minor_version, 0);
    llmsplit_http_response_free(&r);
}

static void http_close_delimited_body_ends_at_eof(void) {
    llmsplit_http_response r;
    llmsplit_error err;
    CHECK_EQ_INT(feed("HTTP/1.1 200 OK\r\n\r\nuntil the end", 3, 1, &r, &err, NULL), 1);
    CHECK_EQ_INT(r.body.len, 13);
    CHECK_EQ_INT(r.keep_alive, 0);
    llmsplit_http_response_free(&r);
}

static void http_framing_attacks_are_rejected(void) {
    parse_expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
                       "both Transfer-Encoding and Content-Length");
    parse_expect_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "conflicting Content-Length");
    parse_expect_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length");
    parse_expect_error("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", "Content-Length overflows");
    parse_expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "unsupported Transfer-Encoding");
    parse_expect_error("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n", "folding");
    parse_expect_error("HTTP/1.1 200 OK\r\nX-A 1\r\n\r\n", "malformed header line");
    parse_expect_error("HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF");
    parse_expect_error("HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", "bare CR");
    parse_expect_error("HTTP/1.1 101 Switching Protocols\r\n\r\n", "101");
}

static void http_chunked_hardening(void) {
    const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    static const struct { const char *body, *msg; } cases[] = {
        {"zz\r\n", "invalid chunk size"},
        {"-5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"},
        {"\r\n", "invalid chunk size"},
        {"fffffffffffffffff\r\n", "chunk size overflows"},
        {"5\nhello\r\n0\r\n\r\n", "bare LF in chunk size"},
        {"5\rhello\r\n0\r\n\r\n", "bare CR in chunk size"},
        {"5\r\nhelloX\r\n0\r\n\r\n", "chunk data longer than its size"},
        {"5\r\nhello\n0\r\n\r\n", "bare LF in chunk"},
        {"5 5\r\nhello\r\n0\r\n\r\n", "invalid chunk size"},
        {"3\r\nabc\r\n0\r\n", "closed in the middle"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "%s%s", head, cases[i].body);
        parse_expect_error(text, cases[i].msg);
    }
}

static void http_garbage_is_not_a_response(void) {
    parse_expect_error("HELLO\r\n\r\n", "malformed status line");
    parse_expect_error("HTTP/2 200 OK\r\n\r\n", "malformed status line");
    parse_expect_error("HTTP/1.1 2000 OK\r\n\r\n", "malformed status line");
    parse_expect_error("HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n", "control character");
    parse_expect_error("HTTP/1.1 200 OK\r\nX: a\x7f\r\n\r\n", "control character");
    /* the reason phrase too (it was read unchecked) */
    parse_expect_error("HTTP/1.1 200 O\x1bK\r\nContent-Length: 0\r\n\r\n", "control character in response header");
}

static void http_header_limit_is_enforced(void) {
    size_t n = LLMSPLIT_HTTP_MAX_HEADER_BYTES + 100, i;
    char *text = (char *)malloc(n + 64);
    llmsplit_http_response r;
    llmsplit_error err;
    strcpy(text, "HTTP/1.1 200 OK\r\nX-Big: ");
    for (i = strlen(text); i < n; i++) text[i] = 'a';
    strcpy(text + n, "\r\nContent-Length: 0\r\n\r\n");
    CHECK_EQ_INT(feed(text, 0, 1, &r, &err, NULL), -1);
    CHECK_STR(err.message, "response header larger than 65536 bytes");
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(feed(text, 4096, 1, &r, &err, NULL), -1);
    CHECK_STR(err.message, "response header larger than 65536 bytes");
    llmsplit_http_response_free(&r);
    free(text);
}

static void http_body_limit_is_enforced(void) {
    llmsplit_http_parser p;
    llmsplit_http_response r;
    llmsplit_error err;
    size_t used;
    const char *cl = "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world";
    const char *ch = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n";
    memset(&r, 0, sizeof r);
    llmsplit_http_parser_init(&p, &r);
    p.max_body_bytes = 10;
    CHECK_EQ_INT(pfeed(&p, cl, strlen(cl), &used, &err), -1);
    CHECK_CONTAINS(err.message, "response body larger than 10 bytes");
    llmsplit_http_response_free(&r);
    memset(&r, 0, sizeof r);
    llmsplit_http_parser_init(&p, &r);
    p.max_body_bytes = 10;
    CHECK_EQ_INT(pfeed(&p, ch, strlen(ch), &used, &err), -1);
    CHECK_CONTAINS(err.message, "response body larger than 10 bytes");
    llmsplit_http_response_free(&r);
}

static void http_truncated_responses_fail_at_eof(void) {
    parse_expect_error("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", "closed in the middle");
    parse_expect_error("HTTP/1.1 200 OK\r\nContent-Le", "closed in the middle");
    parse_expect_error("", "closed before any response");
}

static void http_bytes_after_the_response_are_left_over(void) {
    llmsplit_http_response r;
    llmsplit_error err;
    size_t consumed = 0;
    const char *text = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
    CHECK_EQ_INT(feed(text, 0, 0, &r, &err, &consumed), 1);
    CHECK_EQ_UINT(consumed, strlen(text) - 5);
    llmsplit_http_response_free(&r);
}

#include "server.h"
#include "wait_hook.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One GET (or POST when body) to the server; returns the category. */
static llmsplit_status get(llmsplit_http *h, server *s, const char *body, llmsplit_http_response *r, llmsplit_error *err) {
    char url[64];
    llmsplit_http_request rq;
    memset(&rq, 0, sizeof rq);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/chat/completions", s->port);
    rq.url = url;
    rq.body = body;
    rq.body_len = body ? strlen(body) : 0;
    return llmsplit_http_send(h, &rq, r, err);
}

static llmsplit_http *client(int timeout_ms) {
    llmsplit_http_desc d;
    memset(&d, 0, sizeof d);
    d.timeout_ms = timeout_ms;
    d.proxy = "";
    {
        llmsplit_http *h = NULL;
        llmsplit_http_create(&d, &h, NULL);
        return h;
    }
}

static const char *ok_response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";

static void http_keep_alive_reuses_one_connection(void) {
    server s;
    llmsplit_http *h = client(5000);
    int i;
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.keepalive = 1;
    server_start(&s);
    for (i = 0; i < 5; i++) {
        llmsplit_http_response r;
        llmsplit_error err;
        CHECK_EQ_INT(get(h, &s, "{\"model\":\"x\"}", &r, &err), LLMSPLIT_OK);
        CHECK_EQ_INT(r.status, 200);
        CHECK_EQ_INT(r.body.len, 11);
        CHECK_EQ_INT(r.reused, (i > 0));
        llmsplit_http_response_free(&r);
    }
    CHECK_EQ_INT(LOAD(s.connections), 1);
    CHECK_EQ_INT(s.requests, 5);
    CHECK_EQ_INT(llmsplit_http_get_stats(h).connections_reused, 4);
    CHECK_STARTS(s.last_request, "POST /v1/chat/completions HTTP/1.1\r\n");
    CHECK_CONTAINS(s.last_request, "\r\nContent-Length: 13\r\n");
    CHECK_CONTAINS(s.last_request, "\r\nConnection: keep-alive\r\n");
    CHECK_CONTAINS(s.last_request, "\r\n\r\n{\"model\":\"x\"}");
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_retries_once_when_a_reused_connection_was_dropped(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.keepalive = 1;
    s.drop_nth = 2; /* the server closes instead of answering the 2nd request */
    server_start(&s);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_OK);
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(r.status, 200);
    CHECK(!r.reused);
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(llmsplit_http_get_stats(h).retries, 1);
    CHECK_EQ_INT(LOAD(s.connections), 2);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

/* Waits (5 s at most) until the server has closed n connections. */
static void wait_closed(server *s, int n) {
    int i;
    for (i = 0; i < 500 && LOAD(s->closed) < n; i++) sleep_ms(10);
    CHECK_GE_INT(LOAD(s->closed), n);
}

/* A server that closes a kept-alive connection after one answer (its keep-alive timeout ran
   out), with `goodbye` sent first when given; the next request goes `idle_ms` after the first.
   Returns the client's counters after the second request, which must have been answered by a
   fresh connection; *gap_ms is how long the connection really sat idle. */
static llmsplit_http_stats idle_close(const char *goodbye, int idle_ms, double *gap_ms) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    llmsplit_http_stats st;
    double t0;
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.keepalive = 1;
    s.close_after = 1;
    s.goodbye = goodbye;
    server_start(&s);
    CHECK_EQ_INT(get(h, &s, "{}", &r, &err), LLMSPLIT_OK);
    llmsplit_http_response_free(&r);
    t0 = now_ms();
    STORE(s.say_goodbye, 1);
    wait_closed(&s, 1);
    if (idle_ms) sleep_ms(idle_ms);
    *gap_ms = now_ms() - t0;
    CHECK_EQ_INT(get(h, &s, "{}", &r, &err), LLMSPLIT_OK);
    if (err.code) printf("  %s\n", err.message);
    CHECK_EQ_INT(r.status, 200);
    CHECK(!r.reused);
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(LOAD(s.connections), 2);
    CHECK_EQ_INT(LOAD(s.requests), 2); /* what went to the closed connection never counted */
    st = llmsplit_http_get_stats(h);
    CHECK_EQ_UINT(st.connections_opened, 2);
    llmsplit_http_destroy(h);
    server_stop(&s);
    return st;
}

/* Idle for less than a second: the connection is used without a poll, the request meets the
   close and goes again on a fresh connection. (Should this machine have stalled for a second
   between the two requests, the poll is the right path and is what is checked.) */
static void http_connection_closed_soon_after_use_is_retried_without_a_poll(void) {
    double gap;
    llmsplit_http_stats st = idle_close(NULL, 0, &gap);
    if (gap < 900) {
        CHECK_EQ_UINT(st.idle_checks, 0);
        CHECK_EQ_UINT(st.retries, 1);
    } else {
        printf("  (the machine stalled %.0f ms: the idle connection was polled)\n", gap);
        CHECK_EQ_UINT(st.idle_checks, 1);
        CHECK_EQ_UINT(st.retries, 0);
    }
}

/* Idle for over a second: polled before reuse, the close is seen, no request is lost to it. */
static void http_connection_closed_while_idle_over_a_second_is_seen_by_the_poll(void) {
    double gap;
    llmsplit_http_stats st = idle_close(NULL, 1200, &gap);
    CHECK_EQ_UINT(st.idle_checks, 1);
    CHECK_EQ_UINT(st.retries, 0);
}

/* A server that says 408 before closing an idle connection: the 408 is not the answer to the
   next request on it, which goes again on a fresh connection (with a Content-Length, and
   delimited by the close). A 408 on a fresh connection is an answer like any other. */
static void http_408_on_a_reused_connection_is_retried(void) {
    static const char *const goodbyes[2] = {"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                                            "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\nidle"};
    int i;
    for (i = 0; i < 2; i++) {
        double gap;
        llmsplit_http_stats st = idle_close(goodbyes[i], 0, &gap);
        CHECK_EQ_UINT(st.retries, (gap < 900 ? 1 : 0)); /* polled (and dropped) after a stall */
    }
    {
        server s;
        llmsplit_http *h = client(5000);
        llmsplit_http_response r;
        llmsplit_error err;
        memset(&s, 0, sizeof s);
        s.parts[0] = goodbyes[0];
        s.read_request = 1;
        server_start(&s);
        CHECK_EQ_INT(get(h, &s, "{}", &r, &err), LLMSPLIT_OK);
        CHECK_EQ_INT(r.status, 408);
        llmsplit_http_response_free(&r);
        CHECK_EQ_UINT(llmsplit_http_get_stats(h).retries, 0);
        llmsplit_http_destroy(h);
        server_stop(&s);
    }
}

/* A request leaves in one send, head and body together, also with a body of 12 KB (which went
   out in two before); its answer comes in one receive. */
static void http_request_takes_one_send_and_its_answer_one_receive(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_stats a, b;
    char *big = (char *)malloc(12001);
    size_t sizes[2] = {13, 12000};
    int i, k;
    memset(big, 'x', 12000);
    big[0] = '"';
    big[11999] = '"';
    big[12000] = 0;
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.keepalive = 1;
    server_start(&s);
    for (k = 0; k < 2; k++) {
        a = llmsplit_http_get_stats(h);
        for (i = 0; i < 5; i++) {
            llmsplit_http_response r;
            llmsplit_error err;
            CHECK_EQ_INT(get(h, &s, sizes[k] == 13 ? "{\"model\":\"x\"}" : big, &r, &err), LLMSPLIT_OK);
            CHECK_EQ_INT(r.status, 200);
            llmsplit_http_response_free(&r);
        }
        b = llmsplit_http_get_stats(h);
        CHECK_EQ_UINT(b.sends - a.sends, 5);
        CHECK_EQ_UINT(b.receives - a.receives, 5);
    }
    CHECK_EQ_INT(LOAD(s.requests), 10);
    CHECK_CONTAINS(s.last_request, "\r\nContent-Length: 12000\r\n");
    llmsplit_http_destroy(h);
    server_stop(&s);
    free(big);
}

static void http_no_retry_after_part_of_a_response(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    memset(&s, 0, sizeof s);
    s.parts[0] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part";
    s.read_request = 1;
    server_start(&s);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_ERR_HTTP);
    CHECK_CONTAINS(err.message, "closed in the middle");
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(LOAD(s.connections), 1);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_silent_server_times_out(void) {
    server s;
    llmsplit_http *h = client(300);
    llmsplit_http_response r;
    llmsplit_error err;
    double t0;
    memset(&s, 0, sizeof s);
    s.read_request = 1;
    s.after = AFTER_HANG;
    server_start(&s);
    t0 = now_ms();
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "timed out waiting for a response");
    /* the server never answers, so only the 300 ms timeout ends the call; the bound, ten times
       that, only rules out a timeout read in the wrong unit */
    CHECK_LT_DBL(now_ms() - t0, 3000);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_slow_headers_hit_the_total_deadline(void) {
    server s;
    llmsplit_http *h = client(400);
    llmsplit_http_response r;
    llmsplit_error err;
    double t0;
    memset(&s, 0, sizeof s);
    s.parts[0] = "HTTP/1.1 200 OK\r\n";
    s.parts[1] = "X-Slow: 1\r\n";
    s.parts[2] = "X-Slow: 2\r\n";
    s.parts[3] = "Content-Length: 0\r\n\r\n";
    s.pause_ms = 300; /* each piece alone is within the timeout; all together are not */
    s.read_request = 1;
    s.after = AFTER_HANG;
    server_start(&s);
    t0 = now_ms();
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "timed out waiting for the rest of the response");
    /* the server then hangs, so only the 400 ms deadline ends the call; the bound only rules out
       a deadline read in the wrong unit */
    CHECK_LT_DBL(now_ms() - t0, 3000);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_reset_mid_response_is_a_network_error(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    llmsplit_status e;
    memset(&s, 0, sizeof s);
    s.parts[0] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
    s.read_request = 1;
    s.after = AFTER_RESET;
    server_start(&s);
    e = get(h, &s, NULL, &r, &err);
    /* the RST may arrive before or after the partial bytes are read */
    CHECK(e == LLMSPLIT_ERR_NETWORK || e == LLMSPLIT_ERR_HTTP);
    CHECK(strstr(err.message, "127.0.0.1") != NULL || strstr(err.message, "closed in the middle") != NULL);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_garbage_from_server_is_an_http_error(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    memset(&s, 0, sizeof s);
    s.parts[0] = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
    s.read_request = 1;
    server_start(&s);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_ERR_HTTP);
    CHECK_CONTAINS(err.message, "malformed status line");
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_endless_headers_stop_at_the_limit(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    char *big = (char *)malloc(200000);
    size_t i;
    memset(&s, 0, sizeof s);
    strcpy(big, "HTTP/1.1 200 OK\r\n");
    for (i = strlen(big); i + 20 < 200000; i += 12) memcpy(big + i, "X-Junk: 12\r\n", 12);
    big[i] = 0;
    s.parts[0] = big;
    s.read_request = 1;
    s.after = AFTER_HANG;
    server_start(&s);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_ERR_HTTP);
    CHECK(strstr(err.message, "response header larger than 65536 bytes") != NULL ||
          strstr(err.message, "more than 100 response header fields") != NULL);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
    free(big);
}

static void http_oversized_body_is_refused(void) {
    server s;
    llmsplit_http_desc d;
    llmsplit_http *h;
    llmsplit_http_response r;
    llmsplit_error err;
    memset(&d, 0, sizeof d);
    d.proxy = "";
    d.max_body_bytes = 5;
    llmsplit_http_create(&d, &h, NULL);
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.read_request = 1;
    server_start(&s);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_ERR_HTTP);
    CHECK_CONTAINS(err.message, "response body larger than 5 bytes");
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_endless_interim_responses_are_an_http_error(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    char *flood = (char *)malloc(64 * 1024);
    size_t n = 0;
    double t0;
    while (n + 32 < 64 * 1024) n += (size_t)sprintf(flood + n, "HTTP/1.1 100 Continue\r\n\r\n");
    memset(&s, 0, sizeof s);
    s.parts[0] = flood;
    s.read_request = 1;
    s.after = AFTER_HANG;
    server_start(&s);
    t0 = now_ms();
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_ERR_HTTP);
    CHECK_CONTAINS(err.message, "more than 16 interim (1xx) responses");
    CHECK_LT_DBL(now_ms() - t0, 3000);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
    free(flood);
}

static int slow_sink(const char *data, size_t len, void *ud) {
    (void)data;
    (void)len;
    (void)ud;
    sleep_ms(1);
    return 0;
}

/* The socket always has the next bytes ready (the server is far ahead of a slow reader), so no
   read ever has to wait: the deadline must be checked on every read, not only on a wait. */
static void http_data_always_ready_still_hits_the_total_deadline(void) {
    server s;
    llmsplit_http *h = client(300);
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_error err;
    char url[64];
    size_t chunk = 1007, count = 8000, i;
    char *body = (char *)malloc(chunk * count + 8);
    double t0;
    for (i = 0; i < count; i++) {
        memcpy(body + i * chunk, "3e8\r\n", 5);
        memset(body + i * chunk + 5, 'x', 1000);
        memcpy(body + i * chunk + 1005, "\r\n", 2);
    }
    memcpy(body + count * chunk, "0\r\n\r\n", 6);
    body[count * chunk + 5] = 0;
    memset(&s, 0, sizeof s);
    s.parts[0] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    s.parts[1] = body;
    s.read_request = 1;
    server_start(&s);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", s.port);
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.on_body = slow_sink;
    t0 = now_ms();
    /* 8000 chunks at 1 ms each would take 8 s; the deadline is 300 ms */
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "timed out");
    CHECK_LT_DBL(now_ms() - t0, 2000);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
    free(body);
}

typedef struct collect { char data[256]; size_t len; int calls, stop_after; } collect;

static int on_body(const char *data, size_t len, void *ud) {
    collect *c = (collect *)ud;
    if (c->len + len < sizeof c->data) {
        memcpy(c->data + c->len, data, len);
        c->len += len;
    }
    c->calls++;
    return c->stop_after && c->calls >= c->stop_after;
}

static void http_body_callback_gets_dechunked_bytes_as_they_come(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_error err;
    collect col;
    char url[64];
    memset(&s, 0, sizeof s);
    memset(&col, 0, sizeof col);
    s.parts[0] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\ndata: \r\n";
    s.parts[1] = "3\r\none\r\n";
    s.parts[2] = "3\r\ntwo\r\n0\r\n\r\n";
    s.pause_ms = 30;
    s.read_request = 1;
    server_start(&s);
    memset(&rq, 0, sizeof rq);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", s.port);
    rq.url = url;
    rq.on_body = on_body;
    rq.user_data = &col;
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_MEM(col.data, col.len, "data: onetwo", 12);
    CHECK_GE_INT(col.calls, 3);
    CHECK_EQ_INT(r.body.len, 0);
    CHECK_EQ_INT(r.body_bytes, 12);
    llmsplit_http_response_free(&r);
    /* a callback that says stop ends the request */
    memset(&col, 0, sizeof col);
    col.stop_after = 1;
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_ERR_USAGE);
    CHECK_CONTAINS(err.message, "aborted by the body callback");
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_server_connection_close_is_honoured(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    memset(&s, 0, sizeof s);
    s.parts[0] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
    s.read_request = 1;
    server_start(&s);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_OK);
    CHECK(!r.keep_alive);
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_OK);
    CHECK(!r.reused);
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(LOAD(s.connections), 2);
    CHECK_EQ_INT(llmsplit_http_get_stats(h).retries, 0);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_close_delimited_response_over_the_wire(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    memset(&s, 0, sizeof s);
    s.parts[0] = "HTTP/1.0 200 OK\r\n\r\nold style body";
    s.read_request = 1;
    server_start(&s);
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_MEM(r.body.data, r.body.len, "old style body", 14);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_connection_refused_is_a_network_error(void) {
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_response r;
    llmsplit_error err;
    memset(&s, 0, sizeof s);
    server_start(&s);
    server_stop(&s); /* the port is now closed */
    CHECK_EQ_INT(get(h, &s, NULL, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "cannot connect to 127.0.0.1");
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
}

static void http_header_injection_is_refused_without_echoing_the_value(void) {
    static const llmsplit_http_header more[] = {
        {"Authorization", "Bearer sk-test-1"}, {"host", "evil.example"}, {"CONTENT-LENGTH", "99"},
        {"Connection", "close"}, {"Transfer-Encoding", "chunked"}, {"X-Hostname", "kept"}, {"X-Empty", NULL}};
    server s;
    llmsplit_http *h = client(5000);
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_error err;
    llmsplit_http_header hd[2];
    char url[64];
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.read_request = 1;
    server_start(&s);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", s.port);
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    hd[0].name = "Authorization";
    hd[0].value = "Bearer sk-secret\r\nX-Evil: 1";
    rq.headers = hd;
    rq.num_headers = 1;
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_ERR_USAGE);
    CHECK_NOT_CONTAINS(err.message, "sk-secret");
    CHECK_STR(err.message, "http: CR or LF in the value of header 'Authorization'");
    llmsplit_http_response_free(&r);
    hd[0].name = "Bad Name";
    hd[0].value = "x";
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_ERR_USAGE);
    CHECK_STR(err.message, "http: invalid character in header name 'Bad Name'");
    llmsplit_http_response_free(&r);
    /* framing headers from the caller are ignored: the client owns them */
    hd[0].name = "Content-Length";
    hd[0].value = "999";
    hd[1].name = "X-Ok";
    hd[1].value = "yes";
    rq.num_headers = 2;
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_OK);
    CHECK_NOT_CONTAINS(s.last_request, ": 999\r\n");
    CHECK_CONTAINS(s.last_request, "\r\nX-Ok: yes\r\n");
    llmsplit_http_response_free(&r);
    /* all four, in any case (names compared by length first: X-Hostname is no Host), the rest
       as given, a NULL value empty */
    rq.headers = more;
    rq.num_headers = (int)(sizeof more / sizeof more[0]);
    rq.body = "{}";
    rq.body_len = 2;
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_OK);
    llmsplit_http_response_free(&r);
    CHECK_CONTAINS(s.last_request, "\r\nAuthorization: Bearer sk-test-1\r\n");
    CHECK_CONTAINS(s.last_request, "\r\nX-Hostname: kept\r\n");
    CHECK_CONTAINS(s.last_request, "\r\nX-Empty: \r\n");
    CHECK_CONTAINS(s.last_request, "\r\nContent-Length: 2\r\n");
    CHECK_CONTAINS(s.last_request, "\r\nConnection: keep-alive\r\n");
    CHECK_NOT_CONTAINS(s.last_request, "evil.example");
    CHECK_NOT_CONTAINS(s.last_request, ": 99\r\n"); /* (not "99": the port may hold it) */
    CHECK_NOT_CONTAINS(s.last_request, "close");
    CHECK_NOT_CONTAINS(s.last_request, "chunked");
    CHECK_EQ_INT(LOAD(s.requests), 2);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

/* --- the leaf-certificate reader ------------------------------------------------------------ */

/* DER by hand: tag, short or two-byte length, contents (which may not overlap out). */
static size_t tlv(unsigned char *out, unsigned tag, const unsigned char *v, size_t n) {
    size_t h = 0;
    out[h++] = (unsigned char)tag;
    if (n < 128) out[h++] = (unsigned char)n;
    else { out[h++] = 0x82; out[h++] = (unsigned char)(n >> 8); out[h++] = (unsigned char)n; }
    if (n) memcpy(out + h, v, n);
    return h + n;
}

/* A certificate skeleton with these validity times (UTCTime) and IP SANs: only the parts the
   reader looks at are real, the rest is placeholders of the right tags. */
static size_t fake_cert(unsigned char *out, const char *nb, size_t nb_len, const char *na,
                        const unsigned char *ips, const int *ip_lens, int num_ips) {
    unsigned char tbs[1024], a[512], b[512];
    size_t t = 0, n = 0, k, off = 0;
    int i;
    static const unsigned char version[] = {0x02, 0x01, 0x02}, serial[] = {0x01},
                               san_oid[] = {0x55, 0x1d, 0x11};
    t += tlv(tbs + t, 0xa0, version, sizeof version);
    t += tlv(tbs + t, 0x02, serial, sizeof serial);
    t += tlv(tbs + t, 0x30, NULL, 0);                       /* signature algorithm */
    t += tlv(tbs + t, 0x30, NULL, 0);                       /* issuer */
    k = tlv(a, 0x17, (const unsigned char *)nb, nb_len);
    k += tlv(a + k, 0x17, (const unsigned char *)na, strlen(na));
    t += tlv(tbs + t, 0x30, a, k);                          /* validity */
    t += tlv(tbs + t, 0x30, NULL, 0);                       /* subject */
    t += tlv(tbs + t, 0x30, NULL, 0);                       /* public key */
    for (i = 0; i < num_ips; i++) {
        n += tlv(a + n, 0x87, ips + off, (size_t)ip_lens[i]);
        off += (size_t)ip_lens[i];
    }
    k = tlv(b, 0x30, a, n);                                 /* GeneralNames */
    n = tlv(a, 0x06, san_oid, sizeof san_oid);              /* extnID */
    n += tlv(a + n, 0x04, b, k);                            /* extnValue */
    k = tlv(b, 0x30, a, n);                                 /* Extension */
    n = tlv(a, 0x30, b, k);                                 /* Extensions */
    t += tlv(tbs + t, 0xa3, a, n);
    k = tlv(a, 0x30, tbs, t);                               /* TBSCertificate */
    return tlv(out, 0x30, a, k);
}

static void cert_info_reads_validity_and_ip_sans(void) {
    static const unsigned char ips[20] = {127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const int lens[2] = {4, 16};
    unsigned char der[1024];
    llmsplit_cert_info ci;
    llmsplit_error err;
    size_t n = fake_cert(der, "250102030405Z", 13, "491231235959Z", ips, lens, 2);
    CHECK_EQ_INT(llmsplit_cert_info_parse(der, n, &ci, &err), LLMSPLIT_OK);
    CHECK_EQ_STR(ci.not_before, "20250102030405");
    CHECK_EQ_STR(ci.not_after, "20491231235959");
    CHECK_EQ_INT(ci.num_ips, 2);
    CHECK_EQ_INT(ci.ip_lens[0], 4);
    CHECK_EQ_MEM(ci.ips[0], 4, ips, 4);
    CHECK_EQ_INT(ci.ip_lens[1], 16);
    CHECK_EQ_MEM(ci.ips[1], 16, ips + 4, 16);
    /* every truncation is refused or read without going past the end (the sanitizers watch) */
    while (n-- > 0) llmsplit_cert_info_parse(der, n, &ci, &err);
    CHECK_EQ_INT(llmsplit_cert_info_parse(der, 1, &ci, &err), LLMSPLIT_ERR_TLS);
    CHECK_EQ_STR(err.message, "certificate is not well-formed DER");
}

/* Found by fuzz/fuzz_cert.c: a time with a NUL or a letter in it was copied as it was, and the
   "not yet valid" check compared the clock with that. A time that is not all digits is unreadable. */
static void cert_info_time_that_is_not_digits_is_unreadable(void) {
    static const char *const bad[] = {"25010203\0" "405Z", "2501020304x5Z", "-50102030405Z", "2501020304 5Z"};
    unsigned char der[1024];
    llmsplit_cert_info ci;
    llmsplit_error err;
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = fake_cert(der, bad[i], 13, "491231235959Z", NULL, NULL, 0);
        CHECK_EQ_INT(llmsplit_cert_info_parse(der, n, &ci, &err), LLMSPLIT_OK);
        CHECK_EQ_INT(strlen(ci.not_before), 0);
        CHECK_EQ_STR(ci.not_after, "20491231235959");
    }
}

/* --- name lookups -------------------------------------------------------------------------- */

/* A client created while LLMSPLIT_TEST_RESOLVER_DELAY_MS is set: its every name lookup takes
   that long, as with a resolver that does not answer. */
static llmsplit_http *slow_resolver_client(int delay_ms, int timeout_ms, int connect_timeout_ms) {
    llmsplit_http_desc d;
    llmsplit_http *h = NULL;
    char v[16];
    memset(&d, 0, sizeof d);
    d.timeout_ms = timeout_ms;
    d.connect_timeout_ms = connect_timeout_ms;
    d.proxy = "";
    snprintf(v, sizeof v, "%d", delay_ms);
    setenv("LLMSPLIT_TEST_RESOLVER_DELAY_MS", v, 1);
    llmsplit_http_create(&d, &h, NULL);
    unsetenv("LLMSPLIT_TEST_RESOLVER_DELAY_MS");
    return h;
}

static llmsplit_status get_localhost(llmsplit_http *h, const server *s, const volatile int *abort_flag,
                                     llmsplit_error *err) {
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_status st;
    char url[64];
    snprintf(url, sizeof url, "http://localhost:%d/", s->port);
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.abort_flag = abort_flag;
    st = llmsplit_http_send(h, &rq, &r, err);
    llmsplit_http_response_free(&r);
    return st;
}

static void http_hung_resolver_times_out_within_the_deadline(void) {
    server s;
    llmsplit_http *total = slow_resolver_client(1500, 200, 0), *connect = slow_resolver_client(1500, 20000, 200);
    llmsplit_error err;
    double t0;
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.read_request = 1;
    server_start(&s);
    t0 = now_ms();
    CHECK_EQ_INT(get_localhost(total, &s, NULL, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_EQ_STR(err.message, "timed out resolving localhost");
    CHECK_LT_DBL(now_ms() - t0, 1000); /* the lookup alone takes 1500 ms */
    t0 = now_ms();
    CHECK_EQ_INT(get_localhost(connect, &s, NULL, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_EQ_STR(err.message, "timed out resolving localhost");
    CHECK_LT_DBL(now_ms() - t0, 1000);
    CHECK_EQ_INT(LOAD(s.connections), 0);
    llmsplit_http_destroy(total);
    llmsplit_http_destroy(connect);
    /* the abandoned lookups answer after their callers and the clients are gone, and free what
       they got (the sanitizer builds watch this) */
    sleep_ms(1800);
    server_stop(&s);
}

typedef struct raiser { volatile int *flag; int after_ms; } raiser;

static void *raise_later(void *arg) {
    raiser *r = (raiser *)arg;
    sleep_ms(r->after_ms);
    __atomic_store_n(r->flag, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void http_abort_flag_stops_a_hung_lookup(void) {
    server s;
    llmsplit_http *h = slow_resolver_client(1500, 20000, 20000);
    volatile int flag = 0;
    raiser rs;
    pthread_t t;
    llmsplit_error err;
    double t0;
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.read_request = 1;
    server_start(&s);
    rs.flag = &flag;
    rs.after_ms = 100;
    t0 = now_ms();
    pthread_create(&t, NULL, raise_later, &rs);
    CHECK_EQ_INT(get_localhost(h, &s, &flag, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "aborted");
    CHECK_LT_DBL(now_ms() - t0, 1000);
    pthread_join(t, NULL);
    llmsplit_http_destroy(h);
    sleep_ms(1600);
    CHECK_EQ_INT(LOAD(s.connections), 0);
    server_stop(&s);
}

/* --- the caller's wait (an event loop's) ----------------------------------------------------- */

/* One GET to url with the counting wait and its user_data (and an abort flag, or NULL). */
static llmsplit_status get_waiting(llmsplit_http *h, const char *url, waits *w, const volatile int *abort_flag,
                                   llmsplit_http_response *r, llmsplit_error *err) {
    llmsplit_http_request rq;
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.wait = counting_wait;
    rq.user_data = w;
    rq.abort_flag = abort_flag;
    return llmsplit_http_send(h, &rq, r, err);
}

static const char *url_of(const server *s) {
    static char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/models", s->port);
    return url;
}

/* The wait hook's tests: a server that reads the request and answers {"ok":true} 150 ms later. */
static void slow_server_start(server *s) {
    memset(s, 0, sizeof *s);
    s->parts[0] = "";
    s->parts[1] = ok_response;
    s->pause_ms = 150;
    s->read_request = 1;
    server_start(s);
}

/* A server that answers after 150 ms: the wait for the answer goes through the caller's wait (a
   blocking receive would wait in the kernel and never call it), on the request's own socket, on
   the caller's thread, with the caller's user_data. */
static void http_wait_hook_waits_for_a_slow_answer(void) {
    server s;
    llmsplit_http *h = client(20000);
    llmsplit_http_response r;
    llmsplit_error err;
    waits w;
    slow_server_start(&s);
    waits_init(&w, &w);
    w.port = s.port;
    w.http = h;
    CHECK_EQ_INT(get_waiting(h, url_of(&s), &w, NULL, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_MEM(r.body.data, r.body.len, "{\"ok\":true}", 11);
    CHECK_GE_INT(w.server_in, 1);
    CHECK_EQ_INT(w.timed, 0); /* an IP literal: no lookup, no pause */
    CHECK_EQ_INT(w.other_thread, 0);
    CHECK_EQ_INT(w.wrong_ud, 0);
    CHECK_EQ_INT(w.bad_timeout, 0);
    CHECK_LE_INT(w.max_timeout, 20000);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

/* A wait that says "ready" when nothing is (and wakes early): the request just looks again. */
static void http_wait_hook_that_wakes_early_is_harmless(void) {
    server s;
    llmsplit_http *h = client(20000);
    llmsplit_http_response r;
    llmsplit_error err;
    waits w;
    slow_server_start(&s);
    waits_init(&w, &w);
    w.port = s.port;
    w.liar = 1;
    CHECK_EQ_INT(get_waiting(h, url_of(&s), &w, NULL, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_MEM(r.body.data, r.body.len, "{\"ok\":true}", 11);
    CHECK_GE_INT(w.server_in, 2); /* each lie costs one more look */
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

/* The socket-id wait: every wait on a socket says which one it is. A kept-alive connection keeps
   its id from request to request; the server closes it after two answers, and the next socket
   (the same fd number, as the kernel gives the lowest free one) has a new id: an event loop that
   left the old socket registered knows it must register this one. Plain timed waits have id 0. */
static void http_wait_socket_names_each_socket(void) {
    server s;
    llmsplit_http *h = client(20000);
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_error err;
    uint64_t ids[4];
    int fds[4], i;
    waits w;
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.keepalive = 1;
    s.close_after = 2;
    server_start(&s);
    for (i = 0; i < 4; i++) {
        waits_init(&w, &w);
        w.port = s.port;
        memset(&rq, 0, sizeof rq);
        rq.url = url_of(&s);
        rq.wait_socket = socket_wait;
        rq.user_data = &w;
        if (i == 2) /* the server has closed the first connection by now */
            while (LOAD(s.closed) < 1) sleep_ms(1);
        CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_OK);
        CHECK_EQ_MEM(r.body.data, r.body.len, "{\"ok\":true}", 11);
        llmsplit_http_response_free(&r);
        CHECK_GE_INT(w.nsock, 1);
        CHECK_EQ_INT(w.bad_id, 0);
        CHECK_EQ_INT(w.calls, w.nsock); /* wait was never called: wait_socket takes its place */
        if (i != 2) CHECK(waits_one_socket(&w)); /* (the third tries the closed one first) */
        ids[i] = w.nsock ? w.sock_id[w.nsock - 1] : 0; /* the socket that answered */
        fds[i] = w.nsock ? w.sock_fd[w.nsock - 1] : -1;
    }
    CHECK(ids[0] != 0);
    CHECK(ids[1] == ids[0]);
    CHECK_EQ_INT(fds[1], fds[0]);
    CHECK(ids[2] > ids[1]); /* a new socket, */
    CHECK_EQ_INT(fds[2], fds[0]); /* under the old number */
    CHECK(ids[3] == ids[2]);
    CHECK_EQ_INT(LOAD(s.connections), 2);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

/* Two threads share one client and keep to their own kept-alive connections: after both have
   opened one (their first requests overlap), their requests in turn each go on the connection
   that thread used before, not on the one put back last. (An event loop leaves its upstream
   sockets in its own set; a socket that moved to another loop would cost both a system call.) */
#define AFFINE_ROUNDS 4
typedef struct affine_turns {
    llmsplit_http *h;
    const char *url;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int started, turn;            /* round 0: both at once; then thread (turn % 2), one at a time */
} affine_turns;
typedef struct affine { affine_turns *t; int me; uint64_t id[AFFINE_ROUNDS], cur; int ok[AFFINE_ROUNDS]; } affine;

static int affine_wait(int fd, uint64_t id, int events, int timeout_ms, void *ud) {
    struct pollfd p;
    if (fd >= 0) ((affine *)ud)->cur = id;
    p.fd = fd;
    p.events = (short)events;
    p.revents = 0;
    return poll(&p, fd >= 0 ? 1 : 0, timeout_ms);
}

static void *affine_main(void *arg) {
    affine *a = (affine *)arg;
    affine_turns *t = a->t;
    int round;
    for (round = 0; round < AFFINE_ROUNDS; round++) {
        llmsplit_http_request rq;
        llmsplit_http_response r;
        llmsplit_error err;
        pthread_mutex_lock(&t->lock);
        if (round == 0) { /* both start together */
            t->started++;
            pthread_cond_broadcast(&t->cv);
            while (t->started < 2) pthread_cond_wait(&t->cv, &t->lock);
        } else {
            while (t->turn != 2 * round + a->me) pthread_cond_wait(&t->cv, &t->lock);
        }
        pthread_mutex_unlock(&t->lock);
        memset(&rq, 0, sizeof rq);
        rq.url = t->url;
        rq.wait_socket = affine_wait;
        rq.user_data = a;
        a->cur = 0;
        a->ok[round] = llmsplit_http_send(t->h, &rq, &r, &err) == LLMSPLIT_OK && r.status == 200;
        a->id[round] = a->cur;
        llmsplit_http_response_free(&r);
        pthread_mutex_lock(&t->lock);
        if (round == 0) {
            if (++t->started == 4) t->turn = 2; /* both done: turns begin */
        } else {
            t->turn++;
        }
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->lock);
    }
    return NULL;
}

static void http_threads_keep_to_their_own_connections(void) {
    server s;
    affine_turns t;
    affine a[2];
    pthread_t th[2];
    int i, round;
    memset(&s, 0, sizeof s);
    s.parts[0] = "";
    s.parts[1] = ok_response;
    s.pause_ms = 50; /* the first two requests overlap */
    s.keepalive = 1;
    s.threaded = 1;
    server_start(&s);
    memset(&t, 0, sizeof t);
    t.h = client(20000);
    t.url = url_of(&s);
    pthread_mutex_init(&t.lock, NULL);
    pthread_cond_init(&t.cv, NULL);
    memset(a, 0, sizeof a);
    for (i = 0; i < 2; i++) {
        a[i].t = &t;
        a[i].me = i;
        pthread_create(&th[i], NULL, affine_main, &a[i]);
    }
    for (i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(a[0].id[0] != 0 && a[1].id[0] != 0 && a[0].id[0] != a[1].id[0]);
    for (i = 0; i < 2; i++)
        for (round = 0; round < AFFINE_ROUNDS; round++) {
            CHECK(a[i].ok[round]);
            CHECK(a[i].id[round] == a[i].id[0]);
        }
    CHECK_EQ_INT(LOAD(s.connections), 2);
    llmsplit_http_destroy(t.h);
    pthread_cond_destroy(&t.cv);
    pthread_mutex_destroy(&t.lock);
    server_stop(&s);
}

/* A wait that fails ends the request at once, as a network error that says so; the connection
   is not tried again. (The sanitizer builds check that nothing leaks.) */
static void http_wait_hook_that_fails_ends_the_request(void) {
    server s;
    llmsplit_http *h = client(20000);
    llmsplit_http_response r;
    llmsplit_error err;
    waits w;
    slow_server_start(&s);
    waits_init(&w, &w);
    w.fail = 1;
    CHECK_EQ_INT(get_waiting(h, url_of(&s), &w, NULL, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_EQ_STR(err.message, "the caller's wait failed");
    CHECK_EQ_INT(w.calls, 1);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

/* The deadline passes while the caller waits: the request times out as it does without a wait,
   never offering a wait longer than the time left; a refused connection is refused as ever. */
static void http_wait_hook_meets_the_deadline(void) {
    server s;
    llmsplit_http *h = client(300);
    llmsplit_http_response r;
    llmsplit_error err;
    waits w;
    memset(&s, 0, sizeof s);
    s.read_request = 1;
    s.after = AFTER_HANG;
    server_start(&s);
    waits_init(&w, &w);
    w.port = s.port;
    CHECK_EQ_INT(get_waiting(h, url_of(&s), &w, NULL, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "timed out waiting for a response");
    llmsplit_http_response_free(&r);
    CHECK_GE_INT(w.server_in, 1);
    CHECK_EQ_INT(w.bad_timeout, 0);
    CHECK_LE_INT(w.max_timeout, 300);
    server_stop(&s);
    waits_init(&w, &w); /* the port is closed now */
    CHECK_EQ_INT(get_waiting(h, url_of(&s), &w, NULL, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "cannot connect to 127.0.0.1");
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
}

/* A listener on 127.0.0.1:0 that never accepts, its queue filled by two connects of ours: the
   kernel drops the SYNs of every connect after them, which then waits. Returns its fd (close it
   and fill[0..1]), or -1. */
static int full_listener(int *port, int fill[2]) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int i, fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 0) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    for (i = 0; i < 2; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM, 0);
        fcntl(fill[i], F_SETFL, O_NONBLOCK);
        (void)!connect(fill[i], (struct sockaddr *)&a, sizeof a);
    }
    sleep_ms(50); /* (the first is queued; the second's SYN is dropped, as ours will be) */
    return fd;
}

/* A connect that does not complete waits through the caller's wait (POLLOUT) and times out at
   the connect timeout, as without it; a wait that says "ready" too early does not make it
   connected. */
static void http_wait_hook_meets_the_connect_timeout(void) {
    llmsplit_http_desc d;
    llmsplit_http *h = NULL;
    llmsplit_http_response r;
    llmsplit_error err;
    char url[64], want[80];
    int port, fill[2], lfd = full_listener(&port, fill), liar;
    waits w;
    CHECK(lfd >= 0);
    if (lfd < 0) return;
    memset(&d, 0, sizeof d);
    d.timeout_ms = 3000;
    d.connect_timeout_ms = 300;
    d.proxy = "";
    llmsplit_http_create(&d, &h, NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    snprintf(want, sizeof want, "connect to 127.0.0.1:%d timed out", port);
    for (liar = 0; liar < 2; liar++) {
        waits_init(&w, &w);
        w.port = port;
        w.liar = liar;
        CHECK_EQ_INT(get_waiting(h, url, &w, NULL, &r, &err), LLMSPLIT_ERR_NETWORK);
        CHECK_EQ_STR(err.message, want);
        llmsplit_http_response_free(&r);
        CHECK_GE_INT(w.pollout, 1);
        CHECK_EQ_INT(w.pollin, 0);
        CHECK_LE_INT(w.max_timeout, 300);
    }
    llmsplit_http_destroy(h);
    close(fill[0]);
    close(fill[1]);
    close(lfd);
}

/* A gateway whose client hung up sets the abort flag and wakes the call: it stops there. The
   waits are offered all the time left, not 50 ms slices: the flag's setter ends the wait, and a
   call waiting on a long answer costs its event loop no wake-up meanwhile. */
static void http_wait_hook_woken_after_the_abort_flag_stops_the_request(void) {
    server s;
    llmsplit_http *h = client(20000);
    llmsplit_http_response r;
    llmsplit_error err;
    volatile int flag = 0;
    waits w;
    memset(&s, 0, sizeof s);
    s.read_request = 1;
    s.after = AFTER_HANG;
    server_start(&s);
    waits_init(&w, &w);
    w.port = s.port;
    w.raise = &flag;
    w.raise_at = 1; /* the wait for the answer: the flag is set and the wait ends at once */
    CHECK_EQ_INT(get_waiting(h, url_of(&s), &w, &flag, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "aborted by the caller");
    CHECK_EQ_INT(w.calls, 1); /* no wait after the one that raised the flag */
    CHECK(w.max_timeout > 1000); /* the time left (of the connect, the first wait here), not 50 ms */
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    server_stop(&s);
}

/* A name lookup (on its own thread) is waited for through the caller's wait with fd -1, in
   slices of at most 50 ms; a wait that fails there ends the request. */
static void http_wait_hook_waits_for_the_resolver(void) {
    server s;
    llmsplit_http *h = slow_resolver_client(100, 20000, 20000);
    llmsplit_http_response r;
    llmsplit_error err;
    char url[64];
    waits w;
    memset(&s, 0, sizeof s);
    s.parts[0] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"; /* (each request looks its name up) */
    s.read_request = 1;
    server_start(&s);
    snprintf(url, sizeof url, "http://localhost:%d/", s.port);
    waits_init(&w, &w);
    w.http = h;
    CHECK_EQ_INT(get_waiting(h, url, &w, NULL, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_MEM(r.body.data, r.body.len, "{\"ok\":true}", 11);
    llmsplit_http_response_free(&r);
    CHECK_GE_INT(w.timed, 1);
    CHECK_EQ_INT(w.bad_timeout, 0);
    CHECK_LE_INT(w.max_timed, 50);
    CHECK_EQ_INT(w.other_thread, 0);
    waits_init(&w, &w);
    w.fail = 1;
    CHECK_EQ_INT(get_waiting(h, url, &w, NULL, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_EQ_STR(err.message, "the caller's wait failed");
    CHECK_EQ_INT(w.timed, 1);
    CHECK_EQ_INT(w.calls, 1);
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(LOAD(s.requests), 1);
    llmsplit_http_destroy(h);
    sleep_ms(300); /* the abandoned lookup finishes and frees what it got (the sanitizers watch) */
    server_stop(&s);
}

/* --- proxies ------------------------------------------------------------------------------- */

static const char *proxy_407 =
    "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n";

/* A client whose proxy is `proxy` with %d replaced by the server's port. */
static llmsplit_status proxy_client(const char *proxy, const server *s, llmsplit_http **h, llmsplit_error *err) {
    llmsplit_http_desc d;
    char url[160];
    memset(&d, 0, sizeof d);
    d.timeout_ms = 5000;
    snprintf(url, sizeof url, proxy, s ? s->port : 0);
    d.proxy = url;
    return llmsplit_http_create(&d, h, err);
}

/* One https:// GET through the proxy that s plays; the CONNECT head lands in s->last_request. */
static llmsplit_status get_via_proxy(const char *proxy, server *s, llmsplit_error *err) {
    llmsplit_http *h = NULL;
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_status st = proxy_client(proxy, s, &h, err);
    if (st != LLMSPLIT_OK) return st;
    memset(&rq, 0, sizeof rq);
    rq.url = "https://localhost:9/v1/models";
    st = llmsplit_http_send(h, &rq, &r, err);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    return st;
}

static void http_proxy_credentials_are_percent_decoded(void) {
    static const struct { const char *proxy, *basic; } cases[] = {
        {"http://alice:s%%33cret@127.0.0.1:%d", "YWxpY2U6czNjcmV0"},   /* alice:s3cret, as curl sends */
        {"http://al%%40ice:p%%3Aw@127.0.0.1:%d", "YWxAaWNlOnA6dw=="},  /* al@ice:p:w */
        {"http://alice@127.0.0.1:%d", "YWxpY2U6"}};                    /* alice: (RFC 7617 needs the colon) */
    size_t i;
#ifdef LLMSPLIT_NO_TLS
    SKIP("a CONNECT tunnel carries https://, which this build has not");
#endif
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        server s;
        llmsplit_error err;
        char want[80];
        memset(&s, 0, sizeof s);
        s.parts[0] = proxy_407;
        s.read_request = 1;
        server_start(&s);
        CHECK_EQ_INT(get_via_proxy(cases[i].proxy, &s, &err), LLMSPLIT_ERR_USAGE);
        snprintf(want, sizeof want, "\r\nProxy-Authorization: Basic %s\r\n", cases[i].basic);
        CHECK_STARTS(s.last_request, "CONNECT localhost:9 HTTP/1.1\r\n");
        CHECK_CONTAINS(s.last_request, want);
        server_stop(&s);
    }
}

static void http_malformed_proxy_escape_is_a_usage_error_without_the_credentials(void) {
    static const char *const bad[] = {"http://alice:s%%@proxy.local:3128", "http://alice:s%%4@proxy.local:3128",
                                      "http://alice:s%%zzcret@proxy.local:3128", "http://al%%g1ce:secret@proxy.local:3128",
                                      "http://alice%%:secret@proxy.local:3128"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        llmsplit_http *h = NULL;
        llmsplit_error err;
        CHECK_EQ_INT(proxy_client(bad[i], NULL, &h, &err), LLMSPLIT_ERR_USAGE);
        CHECK(h == NULL);
        CHECK_EQ_INT(err.code, LLMSPLIT_ERR_USAGE);
        CHECK_CONTAINS(err.message, "malformed percent-escape");
        CHECK_CONTAINS(err.message, "http://***@proxy.local:3128");
        CHECK_NOT_CONTAINS(err.message, "alice");
        CHECK_NOT_CONTAINS(err.message, "al%");
        CHECK_NOT_CONTAINS(err.message, "s%");
        CHECK_NOT_CONTAINS(err.message, "secret");
    }
}

static void http_proxy_password_never_appears_in_messages(void) {
    llmsplit_http *h = NULL;
    llmsplit_error err;
    llmsplit_url u;
    llmsplit_http_desc d;
    memset(&d, 0, sizeof d);
    setenv("HTTPS_PROXY", "socks5h://alice:Pr0xyPassw0rd@proxy:1080", 1);
    CHECK_EQ_INT(llmsplit_http_create(&d, &h, &err), LLMSPLIT_ERR_USAGE);
    unsetenv("HTTPS_PROXY");
    CHECK(h == NULL);
    CHECK_CONTAINS(err.message, "socks5h://***@proxy:1080");
    CHECK_CONTAINS(err.message, "only http://");
    CHECK_NOT_CONTAINS(err.message, "Pr0xyPassw0rd");
    CHECK_NOT_CONTAINS(err.message, "alice");
    /* a URL the parser refuses is shown without its user information and its query */
    CHECK_EQ_INT(llmsplit_url_parse("ftp://bob:hunter2@files.example/a/b?key=sk-123#top", &u, &err), LLMSPLIT_ERR_USAGE);
    CHECK_CONTAINS(err.message, "ftp://***@files.example/a/b");
    CHECK_NOT_CONTAINS(err.message, "hunter2");
    CHECK_NOT_CONTAINS(err.message, "sk-123");
    CHECK_EQ_INT(llmsplit_url_parse("bob:hunter2@files.example?key=sk-123", &u, &err), LLMSPLIT_ERR_USAGE);
    CHECK_NOT_CONTAINS(err.message, "hunter2");
    CHECK_NOT_CONTAINS(err.message, "sk-123");
    /* an http:// proxy URL that does not parse */
    CHECK_EQ_INT(proxy_client("http://alice:Pr0xyPassw0rd@proxy:99999", NULL, &h, &err), LLMSPLIT_ERR_USAGE);
    CHECK_CONTAINS(err.message, "http://***@proxy:99999");
    CHECK_NOT_CONTAINS(err.message, "Pr0xyPassw0rd");
}

/* 407 (our credentials) and 403 (the proxy's policy) come back the same on every try: reported
   as the proxy's refusal, without its password, and not retried even when retries are allowed. */
static void http_proxy_refusal_is_not_retried(void) {
    static const char *const answers[] = {
        NULL, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"};
    static const char *const said[] = {"407 Proxy Authentication Required", "403 Forbidden"};
    int i;
#ifdef LLMSPLIT_NO_TLS
    SKIP("a CONNECT tunnel carries https://, which this build has not");
#endif
    for (i = 0; i < 2; i++) {
        server s;
        llmsplit_http *h = NULL;
        llmsplit_chat_request rq;
        llmsplit_chat_response r;
        llmsplit_message m;
        llmsplit_error err;
        char want[120];
        memset(&s, 0, sizeof s);
        s.parts[0] = answers[i] ? answers[i] : proxy_407;
        s.read_request = 1;
        server_start(&s);
        CHECK_EQ_INT(proxy_client("http://alice:Pr0xyPassw0rd@127.0.0.1:%d", &s, &h, &err), LLMSPLIT_OK);
        memset(&rq, 0, sizeof rq);
        memset(&m, 0, sizeof m);
        m.role = "user";
        m.content = "hi";
        rq.model = "openai/gpt-4";
        rq.api_base = "https://localhost:9/v1";
        rq.api_key = "sk-test";
        rq.messages = &m;
        rq.num_messages = 1;
        rq.num_retries = 1;
        CHECK_EQ_INT(llmsplit_chat(h, &rq, &r, &err), LLMSPLIT_ERR_USAGE);
        snprintf(want, sizeof want, "proxy refused the tunnel to localhost:9: %s", said[i]);
        CHECK_CONTAINS(err.message, want);
        CHECK_CONTAINS(err.message, "http://***@127.0.0.1:");
        CHECK_NOT_CONTAINS(err.message, "Pr0xyPassw0rd");
        CHECK_EQ_INT(r.attempts, 1);
        CHECK_EQ_INT(LOAD(s.connections), 1);
        llmsplit_chat_response_free(&r);
        llmsplit_http_destroy(h);
        server_stop(&s);
    }
}

typedef struct par { llmsplit_http *h; server *s; int ok; } par;

static void *par_main(void *arg) {
    par *p = (par *)arg;
    int i;
    for (i = 0; i < 50; i++) {
        llmsplit_http_response r;
        llmsplit_error err;
        if (get(p->h, p->s, "{}", &r, &err) == LLMSPLIT_OK && r.status == 200) p->ok++;
        llmsplit_http_response_free(&r);
    }
    return NULL;
}

static void http_one_client_serves_many_threads(void) {
    server s;
    llmsplit_http *h = client(10000);
    pthread_t t[4];
    par p[4];
    int i, ok = 0;
    memset(&s, 0, sizeof s);
    s.parts[0] = ok_response;
    s.keepalive = 1;
    s.threaded = 1;
    server_start(&s);
    for (i = 0; i < 4; i++) {
        p[i].h = h;
        p[i].s = &s;
        p[i].ok = 0;
    }
    /* a connection handed to two threads at once would garble requests and answers */
    for (i = 0; i < 4; i++) pthread_create(&t[i], NULL, par_main, &p[i]);
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += p[i].ok;
    }
    CHECK_EQ_INT(ok, 200);
    CHECK_EQ_INT(LOAD(s.requests), 200);
    CHECK_LE_INT(LOAD(s.connections), 4); /* kept-alive connections were shared out, not reopened */
    llmsplit_http_destroy(h);
    server_stop(&s);
}

static void http_usage_errors(void) {
    llmsplit_http *h = client(1000);
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_error err;
    memset(&rq, 0, sizeof rq);
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_ERR_USAGE);
    rq.url = "http://user:pass@127.0.0.1:1/";
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_ERR_USAGE);
    CHECK_NOT_CONTAINS(err.message, "pass");
    rq.url = "http://127.0.0.1:1/";
    rq.method = "GE T";
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_ERR_USAGE);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(url_parses_scheme_host_port_target);
    RUN(url_rejects_bad_input_clearly);
    RUN(http_content_length_body);
    RUN(http_chunked_body_with_extensions_and_trailers);
    RUN(http_interim_responses_are_skipped);
    RUN(http_interim_flood_is_capped);
    RUN(http_no_body_statuses);
    RUN(http_headers_are_indexed_case_insensitively);
    RUN(http_close_delimited_body_ends_at_eof);
    RUN(http_framing_attacks_are_rejected);
    RUN(http_chunked_hardening);
    RUN(http_garbage_is_not_a_response);
    RUN(http_header_limit_is_enforced);
    RUN(http_body_limit_is_enforced);
    RUN(http_truncated_responses_fail_at_eof);
    RUN(http_bytes_after_the_response_are_left_over);
    RUN(http_keep_alive_reuses_one_connection);
    RUN(http_retries_once_when_a_reused_connection_was_dropped);
    RUN(http_connection_closed_soon_after_use_is_retried_without_a_poll);
    RUN(http_connection_closed_while_idle_over_a_second_is_seen_by_the_poll);
    RUN(http_408_on_a_reused_connection_is_retried);
    RUN(http_request_takes_one_send_and_its_answer_one_receive);
    RUN(http_no_retry_after_part_of_a_response);
    RUN(http_silent_server_times_out);
    RUN(http_slow_headers_hit_the_total_deadline);
    RUN(http_reset_mid_response_is_a_network_error);
    RUN(http_garbage_from_server_is_an_http_error);
    RUN(http_endless_headers_stop_at_the_limit);
    RUN(http_oversized_body_is_refused);
    RUN(http_endless_interim_responses_are_an_http_error);
    RUN(http_data_always_ready_still_hits_the_total_deadline);
    RUN(http_body_callback_gets_dechunked_bytes_as_they_come);
    RUN(http_server_connection_close_is_honoured);
    RUN(http_close_delimited_response_over_the_wire);
    RUN(http_connection_refused_is_a_network_error);
    RUN(http_header_injection_is_refused_without_echoing_the_value);
    RUN(cert_info_reads_validity_and_ip_sans);
    RUN(cert_info_time_that_is_not_digits_is_unreadable);
    RUN(http_hung_resolver_times_out_within_the_deadline);
    RUN(http_abort_flag_stops_a_hung_lookup);
    RUN(http_wait_hook_waits_for_a_slow_answer);
    RUN(http_wait_hook_that_wakes_early_is_harmless);
    RUN(http_wait_socket_names_each_socket);
    RUN(http_threads_keep_to_their_own_connections);
    RUN(http_wait_hook_that_fails_ends_the_request);
    RUN(http_wait_hook_meets_the_deadline);
    RUN(http_wait_hook_meets_the_connect_timeout);
    RUN(http_wait_hook_woken_after_the_abort_flag_stops_the_request);
    RUN(http_wait_hook_waits_for_the_resolver);
    RUN(http_proxy_credentials_are_percent_decoded);
    RUN(http_malformed_proxy_escape_is_a_usage_error_without_the_credentials);
    RUN(http_proxy_password_never_appears_in_messages);
    RUN(http_proxy_refusal_is_not_retried);
    RUN(http_one_client_serves_many_threads);
    RUN(http_usage_errors);
    return t_summary();
}
