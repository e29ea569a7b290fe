/* Allocations per request and memory over many requests: llmsplit against libcurl + cJSON.

   usage: mem_bench LLMSPLIT_BINARY CERT_DIR [N]

   Each client runs in a process of its own (forked, so RSS figures are its alone) and makes N
   (100000) sequential keep-alive HTTPS chat completions to the local server (bench_util.h),
   doing the same work per request (chat_clients.h). Measured between request N/10 and N, the
   steady state after connections, TLS sessions and caches exist:
   - allocations per request: every malloc, calloc and realloc of the process, libraries
     included (OpenSSL's too), counted by this program's own malloc, calloc and realloc, which
     take the place of the C library's (ELF interposition) and forward to glibc; for llmsplit also
     the allocations through the counting allocator of llmsplit_client_desc, which every layer
     uses (the two agree when nothing bypasses it);
   - heap in use (glibc's mallinfo2) and VmRSS at N/10 and at N requests: growth is a leak or
     a cache without bound (target: none); VmHWM is the peak.
   Both processes run this binary, so both map libcurl and OpenSSL; only what each touches
   counts in its RSS. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "bench_util.h"
#include "chat_clients.h"
#include <malloc.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static long mallocs; /* every allocation in the process */

void *malloc(size_t n) {
    __atomic_add_fetch(&mallocs, 1, __ATOMIC_RELAXED);
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    __atomic_add_fetch(&mallocs, 1, __ATOMIC_RELAXED);
    return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n) {
    __atomic_add_fetch(&mallocs, 1, __ATOMIC_RELAXED);
    return __libc_realloc(p, n);
}

/* llmsplit's counting allocator: calls and live bytes (the size is kept in front of each block) */
static long lib_allocs, lib_live;
static void *count_alloc(size_t n, void *ud) {
    size_t *p = (size_t *)malloc(n + 16);
    (void)ud;
    if (!p) return NULL;
    p[0] = n;
    __atomic_add_fetch(&lib_allocs, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&lib_live, (long)n, __ATOMIC_RELAXED);
    return (char *)p + 16;
}
static void count_free(void *q, void *ud) {
    size_t *p = (size_t *)((char *)q - 16);
    (void)ud;
    __atomic_sub_fetch(&lib_live, (long)p[0], __ATOMIC_RELAXED);
    free(p);
}

typedef struct snapshot { long mallocs, lib_allocs, lib_live, heap, rss; } snapshot;
typedef struct figures { snapshot at10, at100; long hwm; } figures;

static snapshot snap(void) {
    struct mallinfo2 mi = mallinfo2();
    snapshot s;
    s.mallocs = mallocs;
    s.lib_allocs = lib_allocs;
    s.lib_live = lib_live;
    s.heap = (long)(mi.uordblks + mi.hblkhd); /* in use: arena chunks and mmapped blocks */
    s.rss = bench_status_kb("VmRSS:");
    return s;
}

/* in the child: one client, n requests */
static figures measure(int curl, const bench_server *srv, int n) {
    llmsplit_allocator a = {count_alloc, count_free, NULL};
    chat_worker w;
    figures f;
    int i;
    memset(&w, 0, sizeof w);
    if (curl) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        chat_curl_setup(&w, srv->https_url, srv->ca, 0);
    } else {
        w.client = chat_llmsplit_create(srv->https_url, srv->ca, &a);
    }
    for (i = 1; i <= n; i++) {
        chat_one(&w);
        if (i == n / 10) f.at10 = snap();
    }
    f.at100 = snap();
    f.hwm = bench_status_kb("VmHWM:");
    return f;
}

static figures run_child(int curl, const bench_server *srv, int n) {
    int fds[2];
    pid_t pid;
    figures f;
    if (pipe(fds) != 0) chat_fail("pipe failed");
    if ((pid = fork()) == 0) {
        close(fds[0]);
        f = measure(curl, srv, n);
        _exit(write(fds[1], &f, sizeof f) == (ssize_t)sizeof f ? 0 : 1);
    }
    close(fds[1]);
    if (read(fds[0], &f, sizeof f) != (ssize_t)sizeof f) chat_fail(curl ? "the curl process failed" : "the llmsplit process failed");
    close(fds[0]);
    waitpid(pid, NULL, 0);
    return f;
}

static void row(const char *what, int after, const char *unit, long ours, long ref) {
    char label[64];
    snprintf(label, sizeof label, "%s %d requests (%s)", what, after, unit);
    printf("%-40s %12ld %12ld %7.2fx\n", label, ours, ref, ref ? (double)ours / ref : 0.0);
}

int main(int argc, char **argv) {
    int n = argc > 3 ? atoi(argv[3]) : 100000, k10;
    bench_server srv;
    figures l, c;
    double lper, cper, llib;
    if (argc < 3 || n < 100) { fprintf(stderr, "usage: mem_bench LLMSPLIT_BINARY CERT_DIR [N>=100]\n"); return 2; }
    k10 = n / 10;
    bench_server_start(&srv, argv[1], argv[2], 0);
    l = run_child(0, &srv, n);
    c = run_child(1, &srv, n);
    bench_server_stop(&srv);
    lper = (double)(l.at100.mallocs - l.at10.mallocs) / (n - k10);
    cper = (double)(c.at100.mallocs - c.at10.mallocs) / (n - k10);
    llib = (double)(l.at100.lib_allocs - l.at10.lib_allocs) / (n - k10);
    printf("server: %s; %d sequential HTTPS requests per client, each client in its own process\n",
           bench_server_name(&srv), n);
    printf("%-40s %12s %12s %8s\n", "", "llmsplit", "curl+cJSON", "ratio");
    printf("%-40s %12.1f %12.1f %7.2fx\n", "allocations per request (whole process)", lper, cper, lper / cper);
    printf("%-40s %12.1f %12s\n", "  of them through llmsplit's allocator", llib, "-");
    row("heap in use after", k10, "bytes", l.at10.heap, c.at10.heap);
    row("heap in use after", n, "bytes", l.at100.heap, c.at100.heap);
    row("VmRSS after", k10, "kB", l.at10.rss, c.at10.rss);
    row("VmRSS after", n, "kB", l.at100.rss, c.at100.rss);
    printf("%-40s %12ld %12ld   (target 0)\n", "RSS growth between them (kB)", l.at100.rss - l.at10.rss, c.at100.rss - c.at10.rss);
    printf("%-40s %12ld %12ld\n", "heap growth between them (bytes)", l.at100.heap - l.at10.heap, c.at100.heap - c.at10.heap);
    printf("%-40s %12ld %12s\n", "  of it llmsplit's own (bytes)", l.at100.lib_live - l.at10.lib_live, "-");
    printf("%-40s %12ld %12ld %7.2fx\n", "peak RSS, VmHWM (kB)", l.hwm, c.hwm, (double)l.hwm / c.hwm);
    bench_result("mem_allocations_per_request", lper, cper, "allocs");
    bench_result("mem_heap_growth", (double)(l.at100.heap - l.at10.heap), (double)(c.at100.heap - c.at10.heap), "bytes");
    bench_result("mem_rss_growth", (double)(l.at100.rss - l.at10.rss), (double)(c.at100.rss - c.at10.rss), "kB");
    bench_result("mem_rss_end", (double)l.at100.rss, (double)c.at100.rss, "kB");
    bench_result("mem_peak_rss", (double)l.hwm, (double)c.hwm, "kB");
    return 0;
}
