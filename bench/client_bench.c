/* Whole chat completions: llmsplit's client against the libcurl + cJSON client a C programmer
   writes by hand, doing the same work (chat_clients.h), in the same run, against the same server.

   usage: client_bench LLMSPLIT_BINARY CERT_DIR [N]

   The server is nginx answering every POST /v1/chat/completions with a fixed 334-byte completion
   (bench_util.h; `llmsplit mock` when nginx is missing), over keep-alive HTTP and HTTPS (TLS 1.2,
   certificate verified against CERT_DIR/root-ca.pem, host name "localhost").

   Three ways: sequentially (one caller); sequentially with the caller and nginx's worker pinned
   to the same CPU ("1 CPU": then wall = client CPU + server CPU + nothing else, no wake-up
   crossing CPUs, so what one client costs the server shows in the wall time); and with 8
   callers (8 threads: one shared llmsplit client; one curl handle per thread). N requests per
   round sequentially and 2N with 8 callers; rounds interleaved so machine noise hits both
   alike; each figure's best round (user CPU: the mean of all rounds, see best_of). Client CPU is this process's (getrusage), user and user + system (the
   system part is mostly the loopback TCP stack, a floor both clients share); the server's is
   nginx's worker's (/proc/PID/schedstat, user + system), what each client's requests cost it.
   Ratios are llmsplit / curl+cJSON, lower is better. */
#define _GNU_SOURCE /* sched_setaffinity, for the 1 CPU mode */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "bench_util.h"
#include "chat_clients.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>

#define THREADS 8

/* ---- rounds ---------------------------------------------------------------------------- */

static void *work(void *arg) {
    chat_worker *w = (chat_worker *)arg;
    int i;
    for (i = 0; i < w->n; i++) chat_one(w);
    return NULL;
}

typedef struct figure { double cpu_us, user_us, wall_us, server_us; } figure;

static double user_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
}

static bench_server srv;

/* n requests over `callers` workers; one caller runs on this thread (no thread cost) */
static figure run(chat_worker *ws, int callers, int n) {
    pthread_t t[THREADS];
    double c0 = bench_cpu_s(), u0 = user_s(), w0 = bench_wall_s(), v0 = bench_server_cpu_s(&srv);
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
    f.user_us = (user_s() - u0) * 1e6 / n;
    f.wall_us = (bench_wall_s() - w0) * 1e6 / n;
    f.server_us = v0 < 0 ? -1 : (bench_server_cpu_s(&srv) - v0) * 1e6 / n;
    return f;
}

/* The 1 CPU mode: this thread and the server's worker on one CPU (the last one this process may
   use), or back on all the CPUs they had. Returns 0 when it cannot be done (no worker pid). */
static cpu_set_t all_cpus;
static int pin(int on) {
    cpu_set_t one;
    int cpu;
    if (!srv.nginx || srv.worker <= 0) return 0;
    if (!on) {
        sched_setaffinity(0, sizeof all_cpus, &all_cpus);
        sched_setaffinity(srv.worker, sizeof all_cpus, &all_cpus);
        return 1;
    }
    for (cpu = CPU_SETSIZE - 1; cpu >= 0 && !CPU_ISSET(cpu, &all_cpus); cpu--) {}
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return cpu >= 0 && sched_setaffinity(0, sizeof one, &one) == 0 && sched_setaffinity(srv.worker, sizeof one, &one) == 0;
}

/* each figure's best round (the least is the one machine noise disturbed least), but user CPU:
   the kernel splits a process's CPU time into user and system by sampling at its clock tick, too
   coarse for one round, so that figure is the mean over all rounds (summed in *user_sum) */
static void best_of(figure *b, figure f, double *user_sum) {
    if (f.cpu_us < b->cpu_us) b->cpu_us = f.cpu_us;
    *user_sum += f.user_us;
    if (f.wall_us < b->wall_us) b->wall_us = f.wall_us;
    if (f.server_us < b->server_us) b->server_us = f.server_us;
}

static double ratio(double a, double b) { return a > 0 && b > 0 ? a / b : 0; }

/* ---- one client alone, for counting tools --------------------------------------------- */

/* One request of one client; not inlined, so that valgrind --toggle-collect=bench_request counts
   exactly the requests' instructions. */
__attribute__((noinline)) void bench_request(chat_worker *w);
__attribute__((noinline)) void bench_request(chat_worker *w) { chat_one(w); }

/* Starts `perf stat` on pid (events as perf spells them) writing to path; 0 when it cannot. */
static pid_t perf_on(pid_t pid, const char *events, const char *path) {
    char p[16];
    pid_t k;
    snprintf(p, sizeof p, "%d", (int)pid);
    if ((k = fork()) == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 2);
        execlp("perf", "perf", "stat", "-x,", "-e", events, "-p", p, "-o", path, (char *)NULL);
        _exit(127);
    }
    return k;
}

static void perf_off(pid_t k) {
    if (k <= 0) return;
    kill(k, SIGINT);
    waitpid(k, NULL, 0);
}

/* CLIENT_BENCH_ONLY="llmsplit https" (or curl, http): warm up, then N sequential requests of that
   client alone and nothing else (no rounds, no other client), for tools that count per request
   (bench/per_request.sh). With CLIENT_BENCH_PERF=PREFIX, `perf stat` counts the system calls
   (and context switches) of this process and the system calls of nginx's worker around the N
   requests only, into PREFIX.client and PREFIX.server; with CLIENT_BENCH_SS=1, `ss` shows the connection's TCP counters before and after. */
static int only(const char *spec, int n) {
    int tls = strstr(spec, "https") != NULL, curl = strncmp(spec, "curl", 4) == 0, i;
    const char *url = tls ? srv.https_url : srv.http_url, *perf = getenv("CLIENT_BENCH_PERF");
    char path[2][512], ss[300];
    pid_t k[2] = {0, 0};
    chat_worker w;
    memset(&w, 0, sizeof w);
    if (curl) chat_curl_setup(&w, url, srv.ca, 0);
    else w.client = chat_llmsplit_create(url, srv.ca, NULL);
    for (i = 0; i < 200; i++) chat_one(&w);
    snprintf(ss, sizeof ss, "ss -tinH state established '( dport = :%s )' | tr -s ' \t' '\n' | "
             "grep -E '^(segs_out|segs_in|data_segs_out|data_segs_in|bytes_sent|bytes_received):' | tr '\n' ' '; echo",
             strrchr(url, ':') + 1);
    if (getenv("CLIENT_BENCH_SS") && system(ss) != 0) fprintf(stderr, "bench: ss failed\n");
    if (perf && *perf) {
        struct timespec settle = {0, 300000000};
        snprintf(path[0], sizeof path[0], "%s.client", perf);
        snprintf(path[1], sizeof path[1], "%s.server", perf);
        k[0] = perf_on(getpid(), "raw_syscalls:sys_enter,context-switches", path[0]);
        if (srv.worker > 0) k[1] = perf_on(srv.worker, "raw_syscalls:sys_enter", path[1]);
        nanosleep(&settle, NULL); /* perf attaches */
    }
    for (i = 0; i < n; i++) bench_request(&w);
    perf_off(k[0]);
    perf_off(k[1]);
    if (getenv("CLIENT_BENCH_SS") && system(ss) != 0) fprintf(stderr, "bench: ss failed\n");
    if (curl) chat_curl_cleanup(&w);
    else llmsplit_client_destroy(w.client);
    return 0;
}

int main(int argc, char **argv) {
    static const char *mode_names[3] = {"sequential", "1 CPU", "8 threads"}, *mode_keys[3] = {"seq", "cpu1", "c8"};
    int n = argc > 3 ? atoi(argv[3]) : 4000, rounds = getenv("BENCH_ROUNDS") ? atoi(getenv("BENCH_ROUNDS")) : 5;
    int tls, mode, r, i;
    if (argc < 3 || n < THREADS) { fprintf(stderr, "usage: client_bench LLMSPLIT_BINARY CERT_DIR [N]\n"); return 2; }
    if (rounds < 1) rounds = 5;
    bench_server_start(&srv, argv[1], argv[2], 0);
    sched_getaffinity(0, sizeof all_cpus, &all_cpus);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (getenv("CLIENT_BENCH_ONLY")) {
        only(getenv("CLIENT_BENCH_ONLY"), n);
        curl_global_cleanup();
        bench_server_stop(&srv);
        return 0;
    }
    printf("server: %s; %d rounds of %d sequential requests, %d with %d callers; per request, llmsplit vs curl+cJSON:\n",
           bench_server_name(&srv), rounds, n, 2 * n, THREADS);
    printf("%-10s %-6s %15s %19s %19s %19s %19s\n", "callers", "scheme", "req/s", "client user CPU", "client CPU (u+s)",
           "wall", "server CPU");
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
        for (mode = 0; mode < 3; mode++) {
            int callers = mode == 2 ? THREADS : 1, total = mode == 2 ? 2 * n : n;
            figure bl = {1e30, 1e30, 1e30, 1e30}, bc = {1e30, 1e30, 1e30, 1e30};
            char name[64], sv[32];
            double lu = 0, cu = 0;
            if (mode == 1 && !pin(1)) continue;
            run(lw, callers, callers * 20); /* warm up: connections, TLS sessions, caches */
            run(cw, callers, callers * 20);
            for (r = 0; r < rounds; r++) {
                best_of(&bl, run(lw, callers, total), &lu);
                best_of(&bc, run(cw, callers, total), &cu);
            }
            bl.user_us = lu / rounds;
            bc.user_us = cu / rounds;
            if (mode == 1) pin(0);
            if (bl.server_us >= 0 && bc.server_us >= 0)
                snprintf(sv, sizeof sv, "%4.1f/%4.1f %5.2fx", bl.server_us, bc.server_us, ratio(bl.server_us, bc.server_us));
            else
                snprintf(sv, sizeof sv, "%19s", "n/a");
            printf("%-10s %-6s %6.0f/%6.0f   %4.1f/%4.1f %5.2fx   %4.1f/%4.1f %5.2fx   %4.1f/%4.1f %5.2fx   %s\n",
                   mode_names[mode], scheme, 1e6 / bl.wall_us, 1e6 / bc.wall_us, bl.user_us, bc.user_us,
                   ratio(bl.user_us, bc.user_us), bl.cpu_us, bc.cpu_us, ratio(bl.cpu_us, bc.cpu_us), bl.wall_us, bc.wall_us,
                   ratio(bl.wall_us, bc.wall_us), sv);
#define FIGURE(what, a, b, unit)                                                              \
    snprintf(name, sizeof name, "client_%s_%s_%s", mode_keys[mode], scheme, what);           \
    bench_result(name, a, b, unit)
            FIGURE("user_cpu_per_request", bl.user_us, bc.user_us, "us");
            FIGURE("cpu_per_request", bl.cpu_us, bc.cpu_us, "us");
            FIGURE("wall_per_request", bl.wall_us, bc.wall_us, "us");
            FIGURE("requests_per_s", 1e6 / bl.wall_us, 1e6 / bc.wall_us, "req/s");
            if (bl.server_us >= 0 && bc.server_us >= 0) { FIGURE("server_cpu_per_request", bl.server_us, bc.server_us, "us"); }
#undef FIGURE
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
