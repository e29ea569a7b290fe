/* Primary latency with and without mirroring, side by side (issue 6's figure).

   usage: mirror_bench MOCK_BINARY [N]

   One `llmsplit mock` answers the primary model at once and the silent model after 200 ms.
   Two clients send N sequential requests each, interleaved in rounds so machine noise hits both
   alike: one whose deployment has no silent_model, one that mirrors every request. Printed:
   primary latency p50/p95/p99 for both and the differences; the mirror counters show every
   silent call completed and was recorded once. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t start_mock(const char *bin, char *url, size_t cap) {
    int fds[2];
    pid_t pid;
    char line[256];
    FILE *f;
    if (pipe(fds) != 0) return -1;
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(bin, bin, "mock", "--listen", "127.0.0.1:0", "--latency", "silent-model=200", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f) || strncmp(line, "listening on ", 13) != 0) return -1;
    line[strcspn(line, "\r\n")] = 0;
    snprintf(url, cap, "%s", line + 13);
    fclose(f);
    return pid;
}

static int records;
static void on_record(const llmsplit_record *r, const char *line, size_t len, void *ud) {
    (void)line;
    (void)len;
    (void)ud;
    if (r->is_silent_experiment) __atomic_add_fetch(&records, 1, __ATOMIC_SEQ_CST);
}

static llmsplit_client *make(const char *url, int mirror) {
    char cfg[1024];
    llmsplit_client_desc d;
    llmsplit_error err;
    llmsplit_client *c;
    snprintf(cfg, sizeof cfg,
             "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/primary-model\","
             "\"api_base\":\"%s/v1\"%s}},{\"model_name\":\"eval\",\"litellm_params\":{\"model\":\"openai/silent-model\","
             "\"api_base\":\"%s/v1\"}}],\"router_settings\":{\"mirror_threads\":8,\"mirror_queue\":4096}}",
             url, mirror ? ",\"silent_model\":\"eval\"" : "", url);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    d.on_record = on_record;
    if (llmsplit_client_create(&d, &c, &err) != LLMSPLIT_OK) {
        fprintf(stderr, "mirror_bench: %s\n", err.message);
        exit(1);
    }
    return c;
}

static double one(llmsplit_client *c) {
    llmsplit_message m = {"user", "How does traffic mirroring work?", 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    llmsplit_result r;
    double ms;
    memset(&rq, 0, sizeof rq);
    rq.group = "chat";
    rq.messages = &m;
    rq.num_messages = 1;
    if (llmsplit_client_chat(c, &rq, &r, NULL) != LLMSPLIT_OK) {
        fprintf(stderr, "mirror_bench: a primary call failed\n");
        exit(1);
    }
    ms = r.response.latency_ms;
    llmsplit_result_free(&r);
    return ms;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, int n, double p) {
    int i = (int)(p / 100.0 * n + 0.999999) - 1;
    return v[i < 0 ? 0 : i >= n ? n - 1 : i];
}

int main(int argc, char **argv) {
    char url[256];
    int n = argc > 2 ? atoi(argv[2]) : 400, i;
    pid_t pid;
    llmsplit_client *plain, *mirrored;
    double *a, *b;
    llmsplit_client_stats st;
    if (argc < 2 || n < 10) { fprintf(stderr, "usage: mirror_bench MOCK_BINARY [N>=10]\n"); return 2; }
    if ((pid = start_mock(argv[1], url, sizeof url)) < 0) { fprintf(stderr, "mirror_bench: mock did not start\n"); return 1; }
    plain = make(url, 0);
    mirrored = make(url, 1);
    a = (double *)malloc(sizeof *a * (size_t)n);
    b = (double *)malloc(sizeof *b * (size_t)n);
    for (i = 0; i < 20; i++) { one(plain); one(mirrored); } /* warm connections */
    for (i = 0; i < n; i++) {
        a[i] = one(plain);
        b[i] = one(mirrored);
    }
    llmsplit_client_wait_mirrors(mirrored, 60000);
    st = llmsplit_client_get_stats(mirrored);
    qsort(a, (size_t)n, sizeof *a, cmp);
    qsort(b, (size_t)n, sizeof *b, cmp);
    printf("primary latency over %d calls (silent model answers in 200 ms):\n", n);
    printf("%-22s %9s %9s %9s\n", "", "p50 ms", "p95 ms", "p99 ms");
    printf("%-22s %9.3f %9.3f %9.3f\n", "without mirroring", pct(a, n, 50), pct(a, n, 95), pct(a, n, 99));
    printf("%-22s %9.3f %9.3f %9.3f\n", "every call mirrored", pct(b, n, 50), pct(b, n, 95), pct(b, n, 99));
    printf("%-22s %+9.3f %+9.3f %+9.3f\n", "difference", pct(b, n, 50) - pct(a, n, 50), pct(b, n, 95) - pct(a, n, 95),
           pct(b, n, 99) - pct(a, n, 99));
    printf("silent calls: %llu mirrored (%d+20 warm-up requests), %llu completed, %llu failed, %llu dropped, %d records\n",
           (unsigned long long)st.mirrored, n, (unsigned long long)st.mirror_completed, (unsigned long long)st.mirror_failed,
           (unsigned long long)st.mirror_dropped_queue_full, __atomic_load_n(&records, __ATOMIC_SEQ_CST));
    llmsplit_client_destroy(plain);
    llmsplit_client_destroy(mirrored);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    free(a);
    free(b);
    return 0;
}
