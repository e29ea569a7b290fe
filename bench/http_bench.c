/* Client cost of sequential keep-alive chat-completion requests: llmsplit's HTTP client
   against libcurl doing the same exchange, in the same run, over HTTP and HTTPS on loopback.

   usage: http_bench MOCK_BINARY CERT_DIR [N]

   Starts `llmsplit mock` twice (plain and TLS with CERT_DIR's ECDSA chain), then for each
   scheme alternates rounds of N requests from each client (POST of a ~200-byte chat request,
   ~300-byte JSON answer, one connection kept alive, certificates verified). The figure is the
   client process's CPU time per request (user + system; the server runs in another process),
   best round of each; the ratio is llmsplit / libcurl (lower is better). */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include <curl/curl.h>
#include "bench_util.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *body =
    "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"system\",\"content\":\"You are a helpful assistant.\"},"
    "{\"role\":\"user\",\"content\":\"Hello, how are you? Please answer in one short sentence.\"}],"
    "\"temperature\":0.7,\"max_tokens\":64}";

static double cpu_ms(void) { return bench_cpu_s() * 1e3; }
static double wall_ms(void) { return bench_wall_s() * 1e3; }

typedef struct round_result { double cpu_us, wall_us; } round_result;

static round_result run_llmsplit(llmsplit_http *h, const char *url, int n) {
    llmsplit_http_header hd[2] = {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-bench"}};
    llmsplit_http_request rq;
    round_result r;
    double c0 = cpu_ms(), w0 = wall_ms();
    int i;
    memset(&rq, 0, sizeof rq);
    rq.url = url;
    rq.headers = hd;
    rq.num_headers = 2;
    rq.body = body;
    rq.body_len = strlen(body);
    for (i = 0; i < n; i++) {
        llmsplit_http_response resp;
        llmsplit_error err;
        if (llmsplit_http_send(h, &rq, &resp, &err) != LLMSPLIT_OK || resp.status != 200 || resp.body.len < 100) {
            fprintf(stderr, "http_bench: llmsplit request failed: %s (status %d)\n", err.message, resp.status);
            exit(1);
        }
        llmsplit_http_response_free(&resp);
    }
    r.cpu_us = (cpu_ms() - c0) * 1e3 / n;
    r.wall_us = (wall_ms() - w0) * 1e3 / n;
    return r;
}

typedef struct sink { char *data; size_t len, cap; } sink;

static size_t curl_write(char *p, size_t size, size_t nmemb, void *ud) {
    sink *s = (sink *)ud;
    size_t n = size * nmemb;
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->data = (char *)realloc(s->data, s->cap);
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
    return n;
}

static round_result run_curl(CURL *c, struct curl_slist *hdrs, const char *url, const char *ca, int n) {
    round_result r;
    sink s = {NULL, 0, 0};
    double c0 = cpu_ms(), w0 = wall_ms();
    int i;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, curl_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    for (i = 0; i < n; i++) {
        long status = 0;
        s.len = 0;
        if (curl_easy_perform(c) != CURLE_OK) { fprintf(stderr, "http_bench: curl request failed\n"); exit(1); }
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200 || s.len < 100) { fprintf(stderr, "http_bench: curl got status %ld\n", status); exit(1); }
    }
    free(s.data);
    r.cpu_us = (cpu_ms() - c0) * 1e3 / n;
    r.wall_us = (wall_ms() - w0) * 1e3 / n;
    return r;
}

int main(int argc, char **argv) {
    int n = argc > 3 ? atoi(argv[3]) : 2000, tls, round, rounds = 5;
    char ca[512];
    const char *env = getenv("BENCH_ROUNDS");
    if (env && atoi(env) > 0) rounds = atoi(env);
    if (argc < 3 || n < 1) { fprintf(stderr, "usage: http_bench MOCK_BINARY CERT_DIR [N]\n"); return 2; }
    snprintf(ca, sizeof ca, "%s/root-ca.pem", argv[2]);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("%-6s %14s %14s %8s   %s\n", "scheme", "llmsplit", "libcurl", "ratio", "(client CPU per request; wall per request)");
    for (tls = 0; tls <= 1; tls++) {
        char url[256];
        pid_t pid = bench_start_mock(argv[1], argv[2], tls, url, sizeof url);
        llmsplit_http_desc d;
        llmsplit_http *h;
        CURL *c = curl_easy_init();
        struct curl_slist *hdrs = NULL;
        round_result best_l = {1e30, 1e30}, best_c = {1e30, 1e30};
        if (pid < 0) return 1;
        strncat(url, "/v1/chat/completions", sizeof url - strlen(url) - 1);
        memset(&d, 0, sizeof d);
        d.ca_file = ca;
        d.proxy = "";
        llmsplit_http_create(&d, &h, NULL);
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        hdrs = curl_slist_append(hdrs, "Authorization: Bearer sk-bench");
        run_llmsplit(h, url, 50); /* warm up: connections, sessions, caches */
        run_curl(c, hdrs, url, ca, 50);
        for (round = 0; round < rounds; round++) {
            round_result l = run_llmsplit(h, url, n), k = run_curl(c, hdrs, url, ca, n);
            if (l.cpu_us < best_l.cpu_us) best_l = l;
            if (k.cpu_us < best_c.cpu_us) best_c = k;
        }
        printf("%-6s %9.1f us   %9.1f us  %6.2fx   (wall %.0f us vs %.0f us)\n", tls ? "https" : "http",
               best_l.cpu_us, best_c.cpu_us, best_l.cpu_us / best_c.cpu_us, best_l.wall_us, best_c.wall_us);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(c);
        llmsplit_http_destroy(h);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    curl_global_cleanup();
    return 0;
}
