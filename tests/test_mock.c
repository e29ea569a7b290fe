/* Integration: llmsplit's HTTP client against `llmsplit mock` over HTTP and HTTPS (the test PKI),
   the way the provider layer will use it: JSON requests, JSON and SSE answers, keep-alive,
   concurrency, the --latency and --fail knobs. The tool is build/llmsplit (or $LLMSPLIT_TOOL). */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mock.h"

static llmsplit_http *client(void) {
    llmsplit_http_desc d;
    memset(&d, 0, sizeof d);
    d.ca_file = "tests/certs/root-ca.pem";
    d.proxy = "";
    d.timeout_ms = 10000;
    {
        llmsplit_http *h = NULL;
        llmsplit_http_create(&d, &h, NULL);
        return h;
    }
}

/* Builds a chat request with the JSON writer, as the provider layer will. */
static char *chat_body(const char *model, const char *prompt, int stream) {
    llmsplit_json_writer w;
    char *out;
    size_t n;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    llmsplit_json_write_key(&w, "model", 5);
    llmsplit_json_write_string(&w, model, strlen(model));
    llmsplit_json_write_key(&w, "messages", 8);
    llmsplit_json_write_begin_array(&w);
    llmsplit_json_write_begin_object(&w);
    llmsplit_json_write_key(&w, "role", 4);
    llmsplit_json_write_string(&w, "user", 4);
    llmsplit_json_write_key(&w, "content", 7);
    llmsplit_json_write_string(&w, prompt, strlen(prompt));
    llmsplit_json_write_end_object(&w);
    llmsplit_json_write_end_array(&w);
    if (stream) {
        llmsplit_json_write_key(&w, "stream", 6);
        llmsplit_json_write_bool(&w, 1);
    }
    llmsplit_json_write_end_object(&w);
    {
        const char *text = NULL;
        CHECK_EQ_INT(llmsplit_json_writer_result(&w, &text, &n, NULL), LLMSPLIT_OK);
        out = strdup(text ? text : "");
    }
    llmsplit_json_writer_free(&w);
    return out;
}

static llmsplit_status chat(llmsplit_http *h, const mock *m, const char *model, const char *prompt, int stream,
                         llmsplit_http_response *r, llmsplit_error *err) {
    char url[400];
    char *body = chat_body(model, prompt, stream);
    llmsplit_http_header hd[1] = {{"Content-Type", "application/json"}};
    llmsplit_http_request rq;
    llmsplit_status e;
    memset(&rq, 0, sizeof rq);
    snprintf(url, sizeof url, "%s/v1/chat/completions", m->url);
    rq.url = url;
    rq.headers = hd;
    rq.num_headers = 1;
    rq.body = body;
    rq.body_len = strlen(body);
    e = llmsplit_http_send(h, &rq, r, err);
    free(body);
    return e;
}

static int content_is(const llmsplit_http_response *r, const char *want) {
    llmsplit_json_doc *doc = NULL;
    llmsplit_json_parse(r->body.data, r->body.len, NULL, &doc, NULL);
    const char *s = llmsplit_json_str(llmsplit_json_path(llmsplit_json_root(doc), "choices[0].message.content"), NULL);
    int ok = s && strcmp(s, want) == 0;
    if (!ok) printf("  content: %s\n", s ? s : "(none)");
    llmsplit_json_free(doc);
    return ok;
}

static void check_roundtrip(int tls) {
    mock m;
    llmsplit_http *h;
    int i;
    if (!mock_start(&m, tls, NULL)) SKIP("build/llmsplit mock did not start (run make first)");
    h = client();
    for (i = 0; i < 3; i++) {
        llmsplit_http_response r;
        llmsplit_error err;
        CHECK_EQ_INT(chat(h, &m, "gpt-4", "Hello, how are you?", 0, &r, &err), LLMSPLIT_OK);
        if (err.code) printf("  %s\n", err.message);
        CHECK_EQ_INT(r.status, 200);
        CHECK(content_is(&r, "mock reply from gpt-4: Hello, how are you?"));
        CHECK_EQ_INT(r.reused, (i > 0));
        llmsplit_http_response_free(&r);
    }
    CHECK_EQ_INT(llmsplit_http_get_stats(h).connections_opened, 1);
    llmsplit_http_destroy(h);
    mock_stop(&m);
}

static void mock_chat_over_http_keeps_one_connection(void) { check_roundtrip(0); }
static void mock_chat_over_https_verified_keeps_one_connection(void) { check_roundtrip(1); }

typedef struct sse { char text[512]; size_t len; int done; llmsplit_buf pending; } sse;

/* A minimal SSE reader for the test: collects delta contents until [DONE]. */
static int on_sse(const char *data, size_t len, void *ud) {
    sse *s = (sse *)ud;
    char *line;
    llmsplit_buf_append(&s->pending, data, len);
    while (s->pending.len && (line = strstr(s->pending.data, "\n\n")) != NULL) {
        size_t ev = (size_t)(line - s->pending.data);
        if (ev > 6 && strncmp(s->pending.data, "data: ", 6) == 0) {
            if (strncmp(s->pending.data + 6, "[DONE]", 6) == 0) {
                s->done = 1;
            } else {
                llmsplit_json_doc *doc = NULL;
                llmsplit_json_parse(s->pending.data + 6, ev - 6, NULL, &doc, NULL);
                size_t n;
                const char *t = llmsplit_json_str(llmsplit_json_path(llmsplit_json_root(doc), "choices[0].delta.content"), &n);
                if (t && s->len + n < sizeof s->text) {
                    memcpy(s->text + s->len, t, n);
                    s->len += n;
                }
                llmsplit_json_free(doc);
            }
        }
        memmove(s->pending.data, line + 2, s->pending.len - ev - 2);
        s->pending.len -= ev + 2;
    }
    return 0;
}

static void mock_streams_server_sent_events_over_https(void) {
    mock m;
    llmsplit_http *h;
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_error err;
    llmsplit_http_header hd[1] = {{"Content-Type", "application/json"}};
    char url[400], *body;
    sse s;
    if (!mock_start(&m, 1, NULL)) SKIP("build/llmsplit mock did not start (run make first)");
    h = client();
    memset(&s, 0, sizeof s);
    llmsplit_buf_init(&s.pending, NULL);
    body = chat_body("llama2", "stream this please", 1);
    snprintf(url, sizeof url, "%s/v1/chat/completions", m.url);
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.headers = hd;
    rq.num_headers = 1;
    rq.body = body;
    rq.body_len = strlen(body);
    rq.on_body = on_sse;
    rq.user_data = &s;
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(r.status, 200);
    s.text[s.len] = 0;
    CHECK_STR(s.text, "mock reply from llama2: stream this please");
    CHECK(s.done);
    llmsplit_http_response_free(&r);
    /* the connection is still good after a stream */
    CHECK_EQ_INT(chat(h, &m, "llama2", "again", 0, &r, &err), LLMSPLIT_OK);
    CHECK(r.reused);
    llmsplit_http_response_free(&r);
    llmsplit_buf_free(&s.pending);
    free(body);
    llmsplit_http_destroy(h);
    mock_stop(&m);
}

static void mock_fail_knob_gives_a_provider_error_status(void) {
    static const char *const knobs[] = {"--fail", "broken=1", NULL};
    mock m;
    llmsplit_http *h;
    llmsplit_http_response r;
    llmsplit_error err;
    if (!mock_start(&m, 0, knobs)) SKIP("build/llmsplit mock did not start (run make first)");
    h = client();
    CHECK_EQ_INT(chat(h, &m, "broken", "hi", 0, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(r.status, 500);
    CHECK_GT_UINT(r.body.len, 0);
    if (r.body.len) CHECK_CONTAINS(r.body.data, "broken");
    llmsplit_http_response_free(&r);
    CHECK_EQ_INT(chat(h, &m, "fine", "hi", 0, &r, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(r.status, 200);
    llmsplit_http_response_free(&r);
    llmsplit_http_destroy(h);
    mock_stop(&m);
}

static void mock_latency_beyond_the_timeout_is_a_network_timeout(void) {
    static const char *const knobs[] = {"--latency", "slow=10000", NULL};
    mock m;
    llmsplit_http *h;
    llmsplit_http_request rq;
    llmsplit_http_response r;
    llmsplit_error err;
    char url[400], *body;
    if (!mock_start(&m, 1, knobs)) SKIP("build/llmsplit mock did not start (run make first)");
    h = client();
    body = chat_body("slow", "hi", 0);
    snprintf(url, sizeof url, "%s/v1/chat/completions", m.url);
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.body = body;
    rq.body_len = strlen(body);
    rq.timeout_ms = 300;
    CHECK_EQ_INT(llmsplit_http_send(h, &rq, &r, &err), LLMSPLIT_ERR_NETWORK);
    CHECK_CONTAINS(err.message, "timed out");
    /* the answer would take 10 s; the call ends at the 300 ms timeout. The bound sits far from
       both, so only a timeout that did not fire can trip it, never a loaded machine */
    CHECK_LT_DBL(r.total_ms, 5000);
    llmsplit_http_response_free(&r);
    free(body);
    llmsplit_http_destroy(h);
    mock_stop(&m);
}

/* --- a relay in front of the mock ------------------------------------------------------- */

/* A TCP relay on 127.0.0.1:0 in front of the mock, one client connection at a time: it counts
   the TLS records going each way (reading the record headers in the byte stream) and, when
   asked, closes the client's connection as a server whose keep-alive timeout ran out. */
typedef struct relay {
    int lfd, port, target_port;
    pthread_t th;
    int stop, drop;              /* set by the test */
    int closed;                  /* client connections the relay has closed */
    long records[2];             /* TLS records client to server [0] and back [1] */
    long need[2];                /* per direction: bytes left in the current record */
    unsigned char hdr[2][5];     /* a record header being read */
    int hdr_len[2];
} relay;

#define RLOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define RSTORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

static void relay_sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

static double relay_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Counts the records that start in these bytes going direction d. */
static void relay_count(relay *r, int d, const unsigned char *p, size_t n) {
    while (n) {
        if (r->need[d]) {
            size_t k = (size_t)r->need[d] < n ? (size_t)r->need[d] : n;
            r->need[d] -= (long)k;
            p += k;
            n -= k;
            continue;
        }
        r->hdr[d][r->hdr_len[d]++] = *p++;
        n--;
        if (r->hdr_len[d] == 5) {
            __atomic_add_fetch(&r->records[d], 1, __ATOMIC_SEQ_CST);
            r->need[d] = (long)r->hdr[d][3] << 8 | r->hdr[d][4];
            r->hdr_len[d] = 0;
        }
    }
}

static int relay_send_all(int fd, const unsigned char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

static void *relay_main(void *arg) {
    relay *r = (relay *)arg;
    while (!RLOAD(r->stop)) {
        struct pollfd p[2];
        struct sockaddr_in a;
        int fds[2];
        p[0].fd = r->lfd;
        p[0].events = POLLIN;
        if (poll(p, 1, 20) <= 0) continue;
        if ((fds[0] = accept(r->lfd, NULL, NULL)) < 0) continue;
        fds[1] = socket(AF_INET, SOCK_STREAM, 0);
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons((unsigned short)r->target_port);
        if (connect(fds[1], (struct sockaddr *)&a, sizeof a) != 0) {
            close(fds[0]);
            close(fds[1]);
            continue;
        }
        r->need[0] = r->need[1] = 0;
        r->hdr_len[0] = r->hdr_len[1] = 0;
        for (;;) {
            unsigned char buf[32768];
            int i, done = 0;
            if (RLOAD(r->stop) || RLOAD(r->drop)) break;
            p[0].fd = fds[0];
            p[1].fd = fds[1];
            p[0].events = p[1].events = POLLIN;
            p[0].revents = p[1].revents = 0;
            if (poll(p, 2, 10) <= 0) continue;
            for (i = 0; i < 2; i++)
                if (p[i].revents) {
                    ssize_t n = recv(fds[i], buf, sizeof buf, 0);
                    if (n > 0) relay_count(r, i, buf, (size_t)n); /* before they go on: counted when seen */
                    if (n <= 0 || !relay_send_all(fds[1 - i], buf, (size_t)n)) { done = 1; break; }
                }
            if (done) break;
        }
        close(fds[0]);
        close(fds[1]);
        RSTORE(r->drop, 0);
        __atomic_add_fetch(&r->closed, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static int relay_start(relay *r, const mock *m) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(r, 0, sizeof *r);
    r->target_port = atoi(strrchr(m->url, ':') + 1);
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(r->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(r->lfd, 4) != 0 ||
        getsockname(r->lfd, (struct sockaddr *)&a, &al) != 0) {
        close(r->lfd);
        return 0;
    }
    r->port = ntohs(a.sin_port);
    return pthread_create(&r->th, NULL, relay_main, r) == 0;
}

static void relay_stop(relay *r) {
    RSTORE(r->stop, 1);
    pthread_join(r->th, NULL);
    close(r->lfd);
}

/* Closes the client's connection (and the relay's to the mock) and waits for it to be done. */
static void relay_drop(relay *r) {
    int before = RLOAD(r->closed), i;
    RSTORE(r->drop, 1);
    for (i = 0; i < 500 && RLOAD(r->closed) == before; i++) relay_sleep_ms(10);
    CHECK_GT_INT(RLOAD(r->closed), before);
}

/* A mock "reached through the relay": its URL with the relay's port. */
static void relayed(const mock *m, const relay *r, mock *out) {
    *out = *m;
    snprintf(out->url, sizeof out->url, "https://localhost:%d", r->port);
}

/* Over TLS too, a request is one record in one send (also with a 12 KB body, head and body in
   one record), and an answer of one record comes in one receive (BearSSL asks for the record
   header and then its body; the read-ahead makes that one recv). */
static void mock_https_request_is_one_record_one_send_and_its_answer_one_receive(void) {
    mock m, via;
    relay rl;
    llmsplit_http *h;
    llmsplit_http_stats a, b;
    char big[12001];
    int i, k;
    long up, down;
    if (!mock_start(&m, 1, NULL)) SKIP("build/llmsplit mock did not start (run make first)");
    CHECK(relay_start(&rl, &m));
    relayed(&m, &rl, &via);
    h = client();
    memset(big, 'x', 12000);
    big[12000] = 0;
    for (k = 0; k < 2; k++) {
        llmsplit_http_response r;
        llmsplit_error err;
        CHECK_EQ_INT(chat(h, &via, "gpt-4", "warm up", 0, &r, &err), LLMSPLIT_OK); /* the handshake */
        llmsplit_http_response_free(&r);
        a = llmsplit_http_get_stats(h);
        up = RLOAD(rl.records[0]);
        down = RLOAD(rl.records[1]);
        for (i = 0; i < 5; i++) {
            CHECK_EQ_INT(chat(h, &via, "gpt-4", k ? big : "Hello, how are you?", 0, &r, &err), LLMSPLIT_OK);
            CHECK_EQ_INT(r.status, 200);
            CHECK(r.reused);
            llmsplit_http_response_free(&r);
        }
        b = llmsplit_http_get_stats(h);
        CHECK_EQ_INT(RLOAD(rl.records[0]) - up, 5);   /* one record per request */
        CHECK_EQ_INT(RLOAD(rl.records[1]) - down, 5); /* the mock answers in one record */
        CHECK_EQ_UINT(b.sends - a.sends, 5);
        if (!k) CHECK_EQ_UINT(b.receives - a.receives, 5); /* a 12 KB answer takes two */
    }
    CHECK_EQ_UINT(llmsplit_http_get_stats(h).connections_opened, 1);
    llmsplit_http_destroy(h);
    relay_stop(&rl);
    mock_stop(&m);
}

/* The TLS side of a server closing a kept-alive connection (no close_notify, as many servers
   do): used again within a second, the request meets the close and is sent again on a fresh
   connection; after over a second idle, the poll before reuse sees the close first. */
static void mock_https_connection_closed_while_idle_is_retried_or_polled(void) {
    mock m, via;
    relay rl;
    int idle;
    if (!mock_start(&m, 1, NULL)) SKIP("build/llmsplit mock did not start (run make first)");
    CHECK(relay_start(&rl, &m));
    relayed(&m, &rl, &via);
    for (idle = 0; idle <= 1200; idle += 1200) {
        llmsplit_http *h = client();
        llmsplit_http_response r;
        llmsplit_error err;
        llmsplit_http_stats st;
        double t0, gap;
        CHECK_EQ_INT(chat(h, &via, "gpt-4", "first", 0, &r, &err), LLMSPLIT_OK);
        llmsplit_http_response_free(&r);
        t0 = relay_now_ms();
        relay_drop(&rl);
        if (idle) relay_sleep_ms(idle);
        gap = relay_now_ms() - t0;
        CHECK_EQ_INT(chat(h, &via, "gpt-4", "second", 0, &r, &err), LLMSPLIT_OK);
        if (err.code) printf("  %s\n", err.message);
        CHECK_EQ_INT(r.status, 200);
        CHECK(content_is(&r, "mock reply from gpt-4: second"));
        CHECK(!r.reused);
        llmsplit_http_response_free(&r);
        st = llmsplit_http_get_stats(h);
        CHECK_EQ_UINT(st.connections_opened, 2);
        CHECK_EQ_UINT(st.tls_resumed, 1); /* the fresh connection resumed the session */
        if (idle || gap >= 900) {
            CHECK_EQ_UINT(st.idle_checks, 1);
            CHECK_EQ_UINT(st.retries, 0);
        } else {
            CHECK_EQ_UINT(st.idle_checks, 0);
            CHECK_EQ_UINT(st.retries, 1);
        }
        llmsplit_http_destroy(h);
    }
    relay_stop(&rl);
    mock_stop(&m);
}

typedef struct worker { llmsplit_http *h; const mock *m; int ok, id; } worker;

static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    int i;
    for (i = 0; i < 25; i++) {
        llmsplit_http_response r;
        llmsplit_error err;
        char prompt[64], want[128];
        snprintf(prompt, sizeof prompt, "thread %d request %d", w->id, i);
        snprintf(want, sizeof want, "mock reply from gpt-4: %s", prompt);
        if (chat(w->h, w->m, "gpt-4", prompt, 0, &r, &err) == LLMSPLIT_OK && r.status == 200 && content_is(&r, want))
            w->ok++;
        llmsplit_http_response_free(&r);
    }
    return NULL;
}

static void mock_many_threads_share_one_https_client(void) {
    mock m;
    llmsplit_http *h;
    pthread_t t[8];
    worker w[8];
    int i, ok = 0;
    llmsplit_http_stats st;
    if (!mock_start(&m, 1, NULL)) SKIP("build/llmsplit mock did not start (run make first)");
    h = client();
    for (i = 0; i < 8; i++) {
        w[i].h = h;
        w[i].m = &m;
        w[i].ok = 0;
        w[i].id = i;
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    CHECK_EQ_INT(ok, 200);
    st = llmsplit_http_get_stats(h);
    CHECK_LE_UINT(st.connections_opened, 16); /* at most one per thread, plus pool overflow */
    CHECK_GE_UINT(st.connections_reused, 150);
    llmsplit_http_destroy(h);
    mock_stop(&m);
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(mock_chat_over_http_keeps_one_connection);
    RUN(mock_chat_over_https_verified_keeps_one_connection);
    RUN(mock_streams_server_sent_events_over_https);
    RUN(mock_fail_knob_gives_a_provider_error_status);
    RUN(mock_latency_beyond_the_timeout_is_a_network_timeout);
    RUN(mock_many_threads_share_one_https_client);
    RUN(mock_https_request_is_one_record_one_send_and_its_answer_one_receive);
    RUN(mock_https_connection_closed_while_idle_is_retried_or_polled);
    return t_summary();
}
