/* The worker pool built with LLMSPLIT_NO_THREADS: it can be created and shut down like the real
   one, but runs nothing. Every submit is refused (the caller keeps its argument) and counted as
   dropped, and the logger hears once that mirroring is unavailable in this build. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_NO_THREADS
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

#include "test.h"

/* Shuts the pool down; returns how many tasks were abandoned, as its final counters say. */
static int shut(llmsplit_pool *p, int drain_ms, llmsplit_pool_stats *final_stats) {
    llmsplit_pool_stats s;
    llmsplit_pool_shutdown(p, drain_ms, &s);
    if (final_stats) *final_stats = s;
    return (int)s.abandoned_at_shutdown;
}

#include <stdlib.h>
#include <string.h>

static int ran, dropped, warnings, other_logs;
static char last_warning[512];

static void task(void *arg, const volatile int *abort_flag) {
    (void)arg;
    (void)abort_flag;
    ran++;
}

static void drop(void *arg) {
    (void)arg;
    dropped++;
}

static void logger(llmsplit_log_level level, const char *message, void *user_data) {
    (void)user_data;
    if (level == LLMSPLIT_LOG_WARN) {
        warnings++;
        snprintf(last_warning, sizeof last_warning, "%s", message);
    } else {
        other_logs++;
    }
}

typedef struct counting_alloc {
    int allocs, frees;
} counting_alloc;
static void *ca_alloc(size_t size, void *ud) {
    ((counting_alloc *)ud)->allocs++;
    return malloc(size);
}
static void ca_free(void *ptr, void *ud) {
    ((counting_alloc *)ud)->frees++;
    free(ptr);
}

static llmsplit_pool *make_pool(counting_alloc *c) {
    llmsplit_pool_desc d;
    llmsplit_error err;
    llmsplit_pool *p;
    memset(&d, 0, sizeof d);
    d.logger.func = logger;
    if (c) {
        d.allocator.alloc_fn = ca_alloc;
        d.allocator.free_fn = ca_free;
        d.allocator.user_data = c;
    }
    if (llmsplit_pool_create(&d, &p, &err) != LLMSPLIT_OK) printf("  create failed: %s\n", err.message);
    return p;
}

static void nothreads_create_succeeds_and_warns_nothing_yet(void) {
    llmsplit_pool *p;
    warnings = other_logs = 0;
    p = make_pool(NULL);
    CHECK(p != NULL);
    CHECK_EQ_INT(warnings, 0);
    CHECK_EQ_INT(other_logs, 0);
    CHECK_EQ_INT(shut(p, 1000, NULL), 0);
}

static void nothreads_every_submit_is_refused_and_counted(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    int i, accepted = 0, arg = 7;
    ran = dropped = 0;
    p = make_pool(NULL);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < 100; i++) accepted += (llmsplit_pool_submit(p, task, drop, &arg) == LLMSPLIT_OK);
    CHECK_EQ_INT(accepted, 0);
    CHECK_EQ_INT(ran, 0); /* refused: the caller keeps arg, drop is not called */
    CHECK_EQ_INT(dropped, 0);
    s = llmsplit_pool_get_stats(p);
    CHECK_EQ_UINT(s.submitted, 100);
    CHECK_EQ_UINT(s.dropped_queue_full, 100);
    CHECK_EQ_UINT(s.completed, 0);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, 0);
    CHECK_EQ_UINT(s.running, 0);
    CHECK_EQ_UINT(s.queued, 0);
    CHECK_EQ_INT(shut(p, -1, NULL), 0);
    CHECK_EQ_INT(ran, 0);
    CHECK_EQ_INT(dropped, 0);
}

static void nothreads_warns_once_that_mirroring_is_unavailable(void) {
    llmsplit_pool *p;
    int i;
    warnings = other_logs = 0;
    last_warning[0] = 0;
    p = make_pool(NULL);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < 10; i++) CHECK((llmsplit_pool_submit(p, task, NULL, NULL) != LLMSPLIT_OK));
    CHECK_EQ_INT(warnings, 1);
    CHECK_CONTAINS(last_warning, "mirroring is unavailable in this build");
    CHECK_EQ_INT(shut(p, 0, NULL), 0);
    CHECK_EQ_INT(warnings, 1);
}

static void nothreads_shutdown_reports_final_counters_and_frees(void) {
    counting_alloc c;
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    memset(&c, 0, sizeof c);
    p = make_pool(&c);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_EQ_INT(c.allocs, 1);
    CHECK((llmsplit_pool_submit(p, task, drop, NULL) != LLMSPLIT_OK));
    CHECK((llmsplit_pool_submit(p, task, drop, NULL) != LLMSPLIT_OK));
    CHECK_EQ_INT(shut(p, 10000, &s), 0);
    CHECK_EQ_UINT(s.submitted, 2);
    CHECK_EQ_UINT(s.dropped_queue_full, 2);
    CHECK_EQ_UINT(s.submitted, s.completed + s.dropped_queue_full + s.abandoned_at_shutdown);
    CHECK_EQ_INT(c.frees, 1);
}

static void nothreads_still_validates_the_desc(void) {
    llmsplit_pool_desc d;
    llmsplit_error err;
    memset(&d, 0, sizeof d);
    d.threads = -1;
    {
        llmsplit_pool *refused = (llmsplit_pool *)&refused; /* create must set it, also to NULL */
        CHECK(llmsplit_pool_create(&d, &refused, &err) != LLMSPLIT_OK);
        CHECK(refused == NULL);
    }
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT((llmsplit_pool_submit(NULL, task, NULL, NULL) == LLMSPLIT_OK), 0);
    CHECK_EQ_INT(llmsplit_pool_aborting(NULL), 0);
    llmsplit_pool_close(NULL);
    CHECK_EQ_INT(shut(NULL, 0, NULL), 0);
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(nothreads_create_succeeds_and_warns_nothing_yet);
    RUN(nothreads_every_submit_is_refused_and_counted);
    RUN(nothreads_warns_once_that_mirroring_is_unavailable);
    RUN(nothreads_shutdown_reports_final_counters_and_frees);
    RUN(nothreads_still_validates_the_desc);
    return t_summary();
}
