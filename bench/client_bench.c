/* Whole chat completions: llmsplit's client against the libcurl + cJSON client a C programmer
   writes by hand, doing the same work (chat_clients.h), in the same run, against the same server.

   usage: client_bench LLMSPLIT_BINARY CERT_DIR [N]

   The server is nginx answering every POST /v1/chat/completions with a fixed 334-byte completion
   (bench_util.h; `llmsplit mock` when nginx is missing), over keep-alive HTTP and HTTPS (TLS 1.2,
   certificate verified against CERT_DIR/root-ca.pem, host name "localhost").

   Sequentially (one caller) and with 8 callers (8 threads: one shared llmsplit client; one curl
   handle per thread), N requests per round sequentially and 2N with 8 callers; rounds
   interleaved so machine noise hits both alike; best round of each. Client CPU is user + system
   time of this process (getrusage): the server is another process; the last column is its
   system part, mostly the loopback TCP stack, a floor both clients share. Ratios are
   llmsplit / curl+cJSON, lower is better. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "bench_util.h"
#include "chat_clients.h"
#include <pthread.h>

#define THREADS 8

/* ---- rounds ---------------------------------------------------------------------------- */

static void *work(void *arg) {
    chat_worker *w = (chat_worker *)arg;
    int i;
    for (i = 0; i < w->n; i++) chat_one(w);
    return NULL;
}

typedef struct figure { double cpu_us, sys_us, wall_us; } figure;

static double sys_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* n requests over `callers` workers; one caller runs on this thread (no thread cost) */
static figure run(chat_worker *ws, int callers, int n) {
    pthread_t t[THREADS];
    double c0 = bench_cpu_s(), s0 = sys_s(), w0 = bench_wall_s();
    figure f;
    int i;
    for (i = 0; i < callers; i++) ws[i].n = n / callers;
    if (callers == 1) work(&ws[0]);
    else {
        for (i = 0; i < callers; i++)
            if (pthread_create(&t[i], NULL, work, &ws[i]) != 0) chat_fail("pthread_create failed");
        for (i = 0; i < callers; i++) pthread_join(t[i], NULL);
    }
    n = ws[0].n * callers;
    f.cpu_us = (bench_cpu_s() - c0) * 1e6 / n;
    f.sys_us = (sys_s() - s0) * 1e6 / n;
    f.wall_us = (bench_wall_s() - w0) * 1e6 / n;
    return f;
}

int main(int argc, char **argv) {
    int n = argc > 3 ? atoi(argv[3]) : 4000, rounds = getenv("BENCH_ROUNDS") ? atoi(getenv("BENCH_ROUNDS")) : 5;
    int tls, mode, r, i;
    bench_server srv;
    if (argc < 3 || n < THREADS) { fprintf(stderr, "usage: client_bench LLMSPLIT_BINARY CERT_DIR [N]\n"); return 2; }
    if (rounds < 1) rounds = 5;
    bench_server_start(&srv, argv[1], argv[2], 0);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    printf("server: %s; %d rounds of %d sequential requests, %d with %d callers\n", bench_server_name(&srv), rounds, n,
           2 * n, THREADS);
    printf("%-10s %-6s %10s %10s %11s %11s %9s %9s   %s\n", "callers", "scheme", "llmsplit", "curl+cJSON", "llmsplit",
           "curl+cJSON", "CPU", "wall", "of the CPU, in");
    printf("%-10s %-6s %10s %10s %11s %11s %9s %9s   %s\n", "", "", "req/s", "req/s", "CPU/req", "CPU/req", "ratio", "ratio",
           "the kernel");
    for (tls = 0; tls <= 1; tls++) {
        const char *url = tls ? srv.https_url : srv.http_url, *scheme = tls ? "https" : "http";
        llmsplit_client *client = chat_llmsplit_create(url, srv.ca, NULL);
        chat_worker lw[THREADS], cw[THREADS];
        memset(lw, 0, sizeof lw);
        memset(cw, 0, sizeof cw);
        for (i = 0; i < THREADS; i++) {
            lw[i].client = client;
            chat_curl_setup(&cw[i], url, srv.ca, i);
        }
        for (mode = 0; mode <= 1; mode++) {
            int callers = mode ? THREADS : 1, total = mode ? 2 * n : n;
            figure bl = {1e30, 0, 1e30}, bc = {1e30, 0, 1e30};
            char name[64];
            run(lw, callers, callers * 20); /* warm up: connections, TLS sessions, caches */
            run(cw, callers, callers * 20);
            for (r = 0; r < rounds; r++) {
                figure l = run(lw, callers, total), c = run(cw, callers, total);
                if (l.cpu_us < bl.cpu_us) bl.cpu_us = l.cpu_us, bl.sys_us = l.sys_us; /* the best round's split */
                if (l.wall_us < bl.wall_us) bl.wall_us = l.wall_us;
                if (c.cpu_us < bc.cpu_us) bc.cpu_us = c.cpu_us, bc.sys_us = c.sys_us;
                if (c.wall_us < bc.wall_us) bc.wall_us = c.wall_us;
            }
            printf("%-10s %-6s %10.0f %10.0f %8.1f us %8.1f us %8.2fx %8.2fx   %4.1f / %4.1f us\n", mode ? "8 threads" : "sequential",
                   scheme, 1e6 / bl.wall_us, 1e6 / bc.wall_us, bl.cpu_us, bc.cpu_us, bl.cpu_us / bc.cpu_us,
                   bl.wall_us / bc.wall_us, bl.sys_us, bc.sys_us);
            snprintf(name, sizeof name, "client_%s_%s_cpu_per_request", mode ? "c8" : "seq", scheme);
            bench_result(name, bl.cpu_us, bc.cpu_us, "us");
            snprintf(name, sizeof name, "client_%s_%s_wall_per_request", mode ? "c8" : "seq", scheme);
            bench_result(name, bl.wall_us, bc.wall_us, "us");
            snprintf(name, sizeof name, "client_%s_%s_requests_per_s", mode ? "c8" : "seq", scheme);
            bench_result(name, 1e6 / bl.wall_us, 1e6 / bc.wall_us, "req/s");
        }
        {
            long la = 0, lt = 0, ca = 0, ct = 0;
            for (i = 0; i < THREADS; i++) {
                la += lw[i].arm0, lt += lw[i].total, ca += cw[i].arm0, ct += cw[i].total;
                chat_curl_cleanup(&cw[i]);
            }
            printf("%-10s %-6s first arm got %.1f%% (llmsplit) and %.1f%% (curl+cJSON) of %ld requests each\n", "", scheme,
                   100.0 * la / lt, 100.0 * ca / ct, lt);
        }
        llmsplit_client_destroy(client);
    }
    curl_global_cleanup();
    bench_server_stop(&srv);
    return 0;
}
