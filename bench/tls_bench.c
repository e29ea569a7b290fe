/* New HTTPS connections: a full TLS handshake against a resumed one, llmsplit against libcurl.

   usage: tls_bench LLMSPLIT_BINARY CERT_DIR [N]

   Every request here opens a connection: a POST of a chat request to the local server over
   HTTPS (bench_util.h; TLS 1.2, ECDSA P-256 chain, certificate verified, host "localhost"), read
   to the end, connection closed.
   - full: a new client for every request, so nothing is cached: llmsplit_http_create (CA file
     loaded on first use) + send + destroy; curl_easy_init + perform + cleanup.
   - resumed: one client whose connections are never kept (llmsplit max_idle_per_host = -1;
     curl CURLOPT_FORBID_REUSE with its default session cache); after a first full handshake
     every connection resumes the session.
   Rounds of N of each, interleaved; best round of each; wall and client CPU per request, in ms.
   Resumption is checked, not assumed: llmsplit_http_get_stats counts handshakes and resumed
   ones, and nginx logs $ssl_session_reused for every request (both clients). */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "bench_util.h"
#include <curl/curl.h>

static const char *body =
    "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
    "{\"role\":\"user\",\"content\":\"Hello, how are you? Please answer in one short sentence.\"}],"
    "\"temperature\":0.7,\"max_tokens\":64}";
static char url[256], ca[512];
static long resumed_seen, full_seen; /* from llmsplit's stats */

static void fail(const char *what) {
    fprintf(stderr, "tls_bench: %s\n", what);
    exit(1);
}

static llmsplit_http *ls_create(void) {
    llmsplit_http_desc d;
    llmsplit_error err;
    llmsplit_http *h;
    memset(&d, 0, sizeof d);
    d.ca_file = ca;
    d.proxy = "";
    d.max_idle_per_host = -1; /* no keep-alive: every request opens a connection */
    if (llmsplit_http_create(&d, &h, &err) != LLMSPLIT_OK) fail(err.message);
    return h;
}

static void ls_send(llmsplit_http *h) {
    llmsplit_http_header hd[2] = {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-bench"}};
    llmsplit_http_request rq;
    llmsplit_http_response resp;
    llmsplit_error err;
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.headers = hd;
    rq.num_headers = 2;
    rq.body = body;
    rq.body_len = strlen(body);
    if (llmsplit_http_send(h, &rq, &resp, &err) != LLMSPLIT_OK || resp.status != 200) fail(err.message);
    llmsplit_http_response_free(&resp);
}

static void ls_stats(llmsplit_http *h) {
    llmsplit_http_stats st = llmsplit_http_get_stats(h);
    resumed_seen += (long)st.tls_resumed;
    full_seen += (long)(st.tls_handshakes - st.tls_resumed);
}

static size_t discard(char *p, size_t size, size_t nmemb, void *ud) {
    (void)p;
    (void)ud;
    return size * nmemb;
}

static struct curl_slist *hdrs;
static CURL *curl_create(void) {
    CURL *c = curl_easy_init();
    if (!c) fail("curl_easy_init failed");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L); /* close after each request */
    return c;
}

static void curl_send(CURL *c) {
    long status = 0;
    if (curl_easy_perform(c) != CURLE_OK) fail("curl: request failed");
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) fail("curl: status is not 200");
}

typedef struct figure { double wall_ms, cpu_ms; } figure;

/* kind: 0 llmsplit full, 1 llmsplit resumed, 2 curl full, 3 curl resumed */
static figure run(int kind, int n) {
    llmsplit_http *h = kind == 1 ? ls_create() : NULL;
    CURL *c = kind == 3 ? curl_create() : NULL;
    double w0, c0;
    figure f;
    int i;
    if (h) ls_send(h); /* the first handshake is full; the timed ones resume it */
    if (c) curl_send(c);
    w0 = bench_wall_s();
    c0 = bench_cpu_s();
    for (i = 0; i < n; i++) {
        if (kind == 0) {
            llmsplit_http *fresh = ls_create();
            ls_send(fresh);
            ls_stats(fresh);
            llmsplit_http_destroy(fresh);
        } else if (kind == 1) {
            ls_send(h);
        } else if (kind == 2) {
            CURL *fresh = curl_create();
            curl_send(fresh);
            curl_easy_cleanup(fresh);
        } else {
            curl_send(c);
        }
    }
    f.wall_ms = (bench_wall_s() - w0) * 1e3 / n;
    f.cpu_ms = (bench_cpu_s() - c0) * 1e3 / n;
    if (h) {
        ls_stats(h);
        llmsplit_http_destroy(h);
    }
    if (c) curl_easy_cleanup(c);
    return f;
}

/* nginx's log lines so far: resumed and full handshakes (-1 without nginx) */
static void logged(const bench_server *srv, long *resumed, long *full) {
    struct timespec settle = {0, 50000000}; /* nginx writes the line just after the answer */
    nanosleep(&settle, NULL);
    bench_tls_log(srv, resumed, full);
}

int main(int argc, char **argv) {
    static const char *names[4] = {"llmsplit full", "llmsplit resumed", "curl full", "curl resumed"};
    int n = argc > 3 ? atoi(argv[3]) : 40, rounds = getenv("BENCH_ROUNDS") ? atoi(getenv("BENCH_ROUNDS")) : 5, r, k;
    long log_res[4] = {0, 0, 0, 0}, log_full[4] = {0, 0, 0, 0};
    figure best[4] = {{1e30, 1e30}, {1e30, 1e30}, {1e30, 1e30}, {1e30, 1e30}};
    bench_server srv;
    if (argc < 3 || n < 1) { fprintf(stderr, "usage: tls_bench LLMSPLIT_BINARY CERT_DIR [N]\n"); return 2; }
    if (rounds < 1) rounds = 5;
    bench_server_start(&srv, argv[1], argv[2], 1);
    snprintf(url, sizeof url, "%s/v1/chat/completions", srv.https_url);
    snprintf(ca, sizeof ca, "%s", srv.ca);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Authorization: Bearer sk-bench");
    for (r = 0; r < rounds; r++)
        for (k = 0; k < 4; k++) {
            long r0, f0, r1, f1;
            figure f;
            logged(&srv, &r0, &f0);
            f = run(k, n);
            logged(&srv, &r1, &f1);
            log_res[k] += r1 - r0;
            log_full[k] += f1 - f0;
            if (f.wall_ms < best[k].wall_ms) best[k].wall_ms = f.wall_ms;
            if (f.cpu_ms < best[k].cpu_ms) best[k].cpu_ms = f.cpu_ms;
        }
    printf("server: %s; %d rounds of %d HTTPS requests, each on a new connection\n", bench_server_name(&srv), rounds, n);
    printf("%-9s %20s %20s %8s   %s\n", "handshake", "llmsplit", "libcurl", "ratio", "(wall per request; client CPU in brackets)");
    printf("%-9s %8.2f ms (%5.2f) %8.2f ms (%5.2f) %7.2fx   (CPU ratio %.2fx)\n", "full", best[0].wall_ms, best[0].cpu_ms,
           best[2].wall_ms, best[2].cpu_ms, best[0].wall_ms / best[2].wall_ms, best[0].cpu_ms / best[2].cpu_ms);
    printf("%-9s %8.2f ms (%5.2f) %8.2f ms (%5.2f) %7.2fx   (CPU ratio %.2fx)\n", "resumed", best[1].wall_ms, best[1].cpu_ms,
           best[3].wall_ms, best[3].cpu_ms, best[1].wall_ms / best[3].wall_ms, best[1].cpu_ms / best[3].cpu_ms);
    printf("llmsplit's own count: %ld full handshakes, %ld resumed (expected %d and %d)\n", full_seen, resumed_seen,
           rounds * (n + 1), rounds * n);
    if (srv.nginx)
        for (k = 0; k < 4; k++)
            printf("nginx saw for %-17s %5ld full, %5ld resumed (expected %d and %d)\n", names[k], log_full[k], log_res[k],
                   rounds * (k & 1 ? 1 : n), k & 1 ? rounds * n : 0);
    bench_result("tls_full_handshake_wall", best[0].wall_ms, best[2].wall_ms, "ms");
    bench_result("tls_full_handshake_cpu", best[0].cpu_ms, best[2].cpu_ms, "ms");
    bench_result("tls_resumed_wall", best[1].wall_ms, best[3].wall_ms, "ms");
    bench_result("tls_resumed_cpu", best[1].cpu_ms, best[3].cpu_ms, "ms");
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    bench_server_stop(&srv);
    return 0;
}
