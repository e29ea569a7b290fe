/* The worker pool (layer 5): every accepted task runs once, a full queue refuses at once, the
   counters always add up, and shutdown drains, then abandons, within its deadline without
   leaking. Task arguments are heap copies freed by the task or by its drop callback, so a task
   the pool forgot shows up as a leak under ASan and valgrind. Workers are held on latches rather
   than timed sleeps wherever the test is about ordering, not time. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>

/* Thread creation goes through this hook so a test can make the third thread fail. Workers are
   started through a trampoline that counts the ones that have returned. */
static int t_fail_create_at;  /* 0: never; n: the n-th call fails with EAGAIN */
static int t_create_calls;
static int t_workers_exited;  /* accessed with __atomic */
static struct { void *(*fn)(void *); void *arg; } t_tramp[64];
static void *t_trampoline(void *p) {
    int i = (int)(size_t)p;
    void *r = t_tramp[i].fn(t_tramp[i].arg);
    __atomic_add_fetch(&t_workers_exited, 1, __ATOMIC_SEQ_CST);
    return r;
}
static int t_thread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
    int i = t_create_calls++;
    if (t_fail_create_at && i + 1 == t_fail_create_at) return EAGAIN;
    if (i >= 64) return pthread_create(t, attr, fn, arg);
    t_tramp[i].fn = fn;
    t_tramp[i].arg = arg;
    return pthread_create(t, attr, t_trampoline, (void *)(size_t)i);
}
#define LLMSPLIT__POOL_THREAD_CREATE t_thread_create /* before the implementation sees it */
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

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* --- helpers --------------------------------------------------------------------------------- */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int ld(const int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void inc(int *p) { __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }

/* A gate that tasks wait on until the test opens it. */
typedef struct latch {
    pthread_mutex_t m;
    pthread_cond_t c;
    int open;
} latch;
static void latch_init(latch *l) {
    pthread_mutex_init(&l->m, NULL);
    pthread_cond_init(&l->c, NULL);
    l->open = 0;
}
static void latch_wait(latch *l) {
    pthread_mutex_lock(&l->m);
    while (!l->open) pthread_cond_wait(&l->c, &l->m);
    pthread_mutex_unlock(&l->m);
}
static void latch_open(latch *l) {
    pthread_mutex_lock(&l->m);
    l->open = 1;
    pthread_cond_broadcast(&l->c);
    pthread_mutex_unlock(&l->m);
}
static void latch_free(latch *l) {
    pthread_cond_destroy(&l->c);
    pthread_mutex_destroy(&l->m);
}

/* Waits (up to 5 s) until the pool reports n running tasks. */
static int wait_running(llmsplit_pool *p, uint64_t n) {
    double end = now_ms() + 5000;
    while (now_ms() < end) {
        if (llmsplit_pool_get_stats(p).running == n) return 1;
        sleep_ms(1);
    }
    return 0;
}

static int stats_add_up(llmsplit_pool_stats s) {
    return s.submitted == s.completed + s.dropped_queue_full + s.abandoned_at_shutdown + s.running + s.queued;
}

/* A task argument: a heap copy freed by whoever consumes it (fn or drop), recording what
   happened to it in per-id slots the test reads after shutdown has joined the workers. */
#define MAX_JOBS 20000
typedef struct record {
    int ran, dropped, saw_abort, concurrent_max;
} record;
static record rec[MAX_JOBS];
static latch *job_latch;      /* blocking jobs wait here */
static int job_sleep_ms;      /* slow jobs: total sleep, in 10 ms slices checking the flag */
static int in_flight;         /* running jobs right now (atomic) */

typedef struct job {
    int id;
} job;

static job *job_new(int id) {
    job *j = (job *)malloc(sizeof *j);
    j->id = id;
    return j;
}

static void job_quick(void *arg, const volatile int *abort_flag) {
    job *j = (job *)arg;
    inc(&rec[j->id].ran);
    if (llmsplit_pool_aborting(abort_flag)) rec[j->id].saw_abort = 1;
    free(j);
}

static void job_blocking(void *arg, const volatile int *abort_flag) {
    job *j = (job *)arg;
    int now = __atomic_add_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
    rec[j->id].concurrent_max = now;
    latch_wait(job_latch);
    __atomic_sub_fetch(&in_flight, 1, __ATOMIC_SEQ_CST);
    inc(&rec[j->id].ran);
    (void)abort_flag;
    free(j);
}

static void job_slow(void *arg, const volatile int *abort_flag) {
    job *j = (job *)arg;
    int slept = 0;
    inc(&rec[j->id].ran);
    while (slept < job_sleep_ms) {
        if (llmsplit_pool_aborting(abort_flag)) {
            rec[j->id].saw_abort = 1;
            break;
        }
        sleep_ms(10);
        slept += 10;
    }
    free(j);
}

static void job_drop(void *arg) {
    job *j = (job *)arg;
    inc(&rec[j->id].dropped);
    free(j);
}

static void reset_records(void) {
    memset(rec, 0, sizeof rec);
    job_sleep_ms = 0;
    job_latch = NULL;
    __atomic_store_n(&in_flight, 0, __ATOMIC_SEQ_CST);
}

static llmsplit_pool *make_pool(int threads, int queue) {
    llmsplit_pool_desc d;
    llmsplit_error err;
    llmsplit_pool *p;
    memset(&d, 0, sizeof d);
    d.threads = threads;
    d.queue = queue;
    if (llmsplit_pool_create(&d, &p, &err) != LLMSPLIT_OK) printf("  create failed: %s\n", err.message);
    return p;
}

/* Submits job id with fn, freeing the job itself when refused (the caller still owns it). */
static int submit(llmsplit_pool *p, llmsplit_task_fn fn, int id) {
    job *j = job_new(id);
    if (llmsplit_pool_submit(p, fn, job_drop, j) == LLMSPLIT_OK) return 1;
    free(j);
    return 0;
}

/* --- running ----------------------------------------------------------------------------------- */

static void pool_runs_every_task_exactly_once(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    int i, n = 5000, once = 1;
    reset_records();
    p = make_pool(4, n);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < n; i++) CHECK(submit(p, job_quick, i));
    CHECK_EQ_INT(shut(p, -1, &s), 0);
    for (i = 0; i < n; i++) once &= rec[i].ran == 1 && rec[i].dropped == 0 && !rec[i].saw_abort;
    CHECK(once);
    CHECK_EQ_UINT(s.submitted, (uint64_t)n);
    CHECK_EQ_UINT(s.completed, (uint64_t)n);
    CHECK_EQ_UINT(s.dropped_queue_full, 0);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, 0);
    CHECK_EQ_UINT(s.running, 0);
    CHECK_EQ_UINT(s.queued, 0);
}

static void pool_counters_are_exact_at_every_step(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    latch l;
    int i;
    reset_records();
    latch_init(&l);
    job_latch = &l;
    p = make_pool(2, 4);
    CHECK(p != NULL);
    if (!p) return;
    s = llmsplit_pool_get_stats(p);
    CHECK_EQ_UINT(s.submitted, 0);
    CHECK_EQ_UINT(s.completed, 0);
    CHECK_EQ_UINT(s.running, 0);
    CHECK_EQ_UINT(s.queued, 0);
    CHECK(submit(p, job_blocking, 0));
    CHECK(submit(p, job_blocking, 1));
    CHECK(wait_running(p, 2));
    for (i = 2; i < 6; i++) CHECK(submit(p, job_blocking, i));
    for (i = 6; i < 9; i++) CHECK(!submit(p, job_blocking, i));
    s = llmsplit_pool_get_stats(p);
    CHECK_EQ_UINT(s.submitted, 9);
    CHECK_EQ_UINT(s.running, 2);
    CHECK_EQ_UINT(s.queued, 4);
    CHECK_EQ_UINT(s.dropped_queue_full, 3);
    CHECK_EQ_UINT(s.completed, 0);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, 0);
    CHECK(stats_add_up(s));
    latch_open(&l);
    CHECK_EQ_INT(shut(p, -1, &s), 0);
    CHECK_EQ_UINT(s.submitted, 9);
    CHECK_EQ_UINT(s.completed, 6);
    CHECK_EQ_UINT(s.dropped_queue_full, 3);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, 0);
    CHECK_EQ_UINT(s.running, 0);
    CHECK_EQ_UINT(s.queued, 0);
    for (i = 0; i < 9; i++) {
        CHECK_EQ_INT(rec[i].ran, (i < 6));
        CHECK_EQ_INT(rec[i].dropped, 0);
    }
    latch_free(&l);
}

static void pool_full_queue_refuses_immediately(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    latch l;
    int i, refused = 0;
    double t0, worst = 0;
    reset_records();
    latch_init(&l);
    job_latch = &l;
    p = make_pool(2, 8);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < 2; i++) CHECK(submit(p, job_blocking, i));
    CHECK(wait_running(p, 2));
    for (i = 2; i < 10; i++) CHECK(submit(p, job_blocking, i));
    /* the workers are stuck on the latch: every further submit must come back at once */
    for (i = 10; i < 1010; i++) {
        double dt;
        job *j = job_new(i);
        t0 = now_ms();
        if (llmsplit_pool_submit(p, job_blocking, job_drop, j) != LLMSPLIT_OK) refused++;
        dt = now_ms() - t0;
        if (dt > worst) worst = dt;
        free(j);
    }
    printf("  1000 refused submits, slowest %.4f ms\n", worst);
    CHECK_EQ_INT(refused, 1000);
    s = llmsplit_pool_get_stats(p);
    CHECK_EQ_UINT(s.dropped_queue_full, 1000);
    CHECK_EQ_UINT(s.queued, 8);
    CHECK_EQ_UINT(s.running, 2);
    /* only "did not wait for a worker", which would take until latch_open below: a bound far
       above the microseconds a submit takes, so a loaded or sanitized run cannot trip it */
    CHECK_LT_DBL(worst, 2000);
    for (i = 10; i < 1010; i++) CHECK_EQ_INT(rec[i].dropped, 0); /* submit never calls drop */
    latch_open(&l);
    CHECK_EQ_INT(shut(p, -1, NULL), 0);
    latch_free(&l);
}

static void pool_zero_desc_means_two_threads_and_64_slots(void) {
    llmsplit_pool_desc d;
    llmsplit_pool_stats s;
    llmsplit_pool *pools[2];
    latch l;
    int k, i;
    memset(&d, 0, sizeof d);
    llmsplit_pool_create(NULL, &pools[0], NULL);
    llmsplit_pool_create(&d, &pools[1], NULL);
    for (k = 0; k < 2; k++) {
        llmsplit_pool *p = pools[k];
        CHECK(p != NULL);
        if (!p) continue;
        reset_records();
        latch_init(&l);
        job_latch = &l;
        for (i = 0; i < 3; i++) CHECK(submit(p, job_blocking, i));
        CHECK(wait_running(p, 2));
        sleep_ms(20); /* a third worker, if there were one, would have picked up job 2 by now */
        s = llmsplit_pool_get_stats(p);
        CHECK_EQ_UINT(s.running, 2);
        CHECK_EQ_UINT(s.queued, 1);
        for (i = 3; i < 66; i++) CHECK(submit(p, job_blocking, i)); /* 63 more: 64 queued */
        CHECK(!submit(p, job_blocking, 66));
        s = llmsplit_pool_get_stats(p);
        CHECK_EQ_UINT(s.queued, 64);
        CHECK_EQ_UINT(s.dropped_queue_full, 1);
        latch_open(&l);
        CHECK_EQ_INT(shut(p, -1, NULL), 0);
        for (i = 0; i < 66; i++) {
            CHECK_EQ_INT(rec[i].ran, 1);
            CHECK_LE_INT(rec[i].concurrent_max, 2);
        }
        latch_free(&l);
    }
}

static void pool_rejects_bad_descs_with_usage_errors(void) {
    static const int bad[][2] = {{-1, 0}, {0, -1}, {LLMSPLIT_POOL_MAX_THREADS + 1, 0},
                                 {0, LLMSPLIT_POOL_MAX_QUEUE + 1}, {-5, -5}};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        llmsplit_pool_desc d;
        llmsplit_error err;
        memset(&d, 0, sizeof d);
        d.threads = bad[i][0];
        d.queue = bad[i][1];
        {
            llmsplit_pool *refused = (llmsplit_pool *)&refused; /* create must set it, also to NULL */
            CHECK(llmsplit_pool_create(&d, &refused, &err) != LLMSPLIT_OK);
            CHECK(refused == NULL);
        }
        CHECK_EQ_INT(err.code, LLMSPLIT_ERR_USAGE);
        CHECK_STARTS(err.message, "pool: ");
    }
    /* NULL arguments are harmless */
    CHECK_EQ_INT((llmsplit_pool_submit(NULL, job_quick, NULL, NULL) == LLMSPLIT_OK), 0);
    CHECK_EQ_INT(shut(NULL, 0, NULL), 0);
    CHECK_EQ_UINT(llmsplit_pool_get_stats(NULL).submitted, 0);
    CHECK_EQ_INT(llmsplit_pool_aborting(NULL), 0);
    llmsplit_pool_close(NULL);
}

static void pool_submit_without_a_function_is_refused_and_not_counted(void) {
    llmsplit_pool *p = make_pool(1, 4);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_EQ_INT((llmsplit_pool_submit(p, NULL, job_drop, NULL) == LLMSPLIT_OK), 0);
    CHECK_EQ_UINT(llmsplit_pool_get_stats(p).submitted, 0);
    CHECK_EQ_INT(shut(p, 0, NULL), 0);
}

/* --- shutdown ---------------------------------------------------------------------------------- */

static void pool_shutdown_of_an_empty_pool_returns_at_once(void) {
    llmsplit_pool *p = make_pool(4, 16);
    double t0;
    CHECK(p != NULL);
    if (!p) return;
    CHECK(p->monotonic); /* Linux: the drain is timed on CLOCK_MONOTONIC */
    t0 = now_ms();
    CHECK_EQ_INT(shut(p, 10000, NULL), 0);
    /* at once, not after the 10 s drain: any bound well below 10 s shows it, and 5 s leaves a
       loaded or sanitized machine all the room it needs */
    CHECK_LT_DBL(now_ms() - t0, 5000);
}

static void pool_shutdown_drains_quick_tasks_fully(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    int i;
    reset_records();
    job_sleep_ms = 2;
    p = make_pool(2, 64);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < 64; i++) CHECK(submit(p, job_slow, i));
    CHECK_EQ_INT(shut(p, 10000, &s), 0);
    CHECK_EQ_UINT(s.completed, 64);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, 0);
    for (i = 0; i < 64; i++) {
        CHECK_EQ_INT(rec[i].ran, 1);
        CHECK_EQ_INT(rec[i].dropped, 0);
        CHECK(!rec[i].saw_abort);
    }
}

static void pool_shutdown_abandons_slow_tasks_at_the_deadline(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    int i, n = 12, abandoned;
    double t0, dt;
    reset_records();
    job_sleep_ms = 5000; /* far beyond the drain: only the flag ends them */
    p = make_pool(2, 16);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < n; i++) CHECK(submit(p, job_slow, i));
    CHECK(wait_running(p, 2));
    t0 = now_ms();
    abandoned = shut(p, 100, &s);
    dt = now_ms() - t0;
    printf("  shutdown(100 ms) returned after %.1f ms\n", dt);
    CHECK_GE_DBL(dt, 90); /* not before the deadline: load only makes this longer */
    /* not after the tasks' 5 s either: the bound sits far from both the 100 ms expected and the
       5 s a shutdown that waited for them would take */
    CHECK_LT_DBL(dt, 3000);
    CHECK_EQ_INT(abandoned, n);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, (uint64_t)n);
    CHECK_EQ_UINT(s.completed, 0);
    CHECK_EQ_UINT(s.submitted, (uint64_t)n);
    /* the two that ran saw the flag; the ten still queued were handed back exactly once */
    CHECK_EQ_INT(rec[0].ran, 1);
    CHECK(rec[0].saw_abort);
    CHECK_EQ_INT(rec[1].ran, 1);
    CHECK(rec[1].saw_abort);
    CHECK_EQ_INT(rec[0].dropped, 0);
    CHECK_EQ_INT(rec[1].dropped, 0);
    for (i = 2; i < n; i++) {
        CHECK_EQ_INT(rec[i].ran, 0);
        CHECK_EQ_INT(rec[i].dropped, 1);
    }
}

static void pool_shutdown_with_zero_drain_abandons_at_once(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    int i, abandoned;
    double t0;
    reset_records();
    job_sleep_ms = 5000;
    p = make_pool(1, 8);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < 5; i++) CHECK(submit(p, job_slow, i));
    CHECK(wait_running(p, 1));
    t0 = now_ms();
    abandoned = shut(p, 0, &s);
    /* at once, not after the running task's 5 s: a bound far from both */
    CHECK_LT_DBL(now_ms() - t0, 3000);
    CHECK_EQ_INT(abandoned, 5);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, 5);
    CHECK_EQ_UINT(s.completed, 0);
    CHECK(rec[0].saw_abort);
    CHECK_EQ_INT(rec[0].dropped, 0);
    for (i = 1; i < 5; i++) {
        CHECK_EQ_INT(rec[i].dropped, 1);
        CHECK_EQ_INT(rec[i].ran, 0);
    }
}

/* A task that never looks at the flag cannot be stopped: shutdown waits for it, and it still
   counts as abandoned because it was running at the deadline. */
static void job_stubborn(void *arg, const volatile int *abort_flag) {
    job *j = (job *)arg;
    (void)abort_flag;
    sleep_ms(300);
    inc(&rec[j->id].ran);
    free(j);
}

static void pool_shutdown_waits_for_a_task_that_ignores_the_flag(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    double t0, dt;
    reset_records();
    p = make_pool(1, 4);
    CHECK(p != NULL);
    if (!p) return;
    CHECK(submit(p, job_stubborn, 0));
    CHECK(wait_running(p, 1));
    t0 = now_ms();
    CHECK_EQ_INT(shut(p, 20, &s), 1);
    dt = now_ms() - t0;
    printf("  shutdown(20 ms) returned after %.1f ms\n", dt);
    /* the task marks itself as run only after its 300 ms, so this proves shutdown joined it */
    CHECK_EQ_INT(rec[0].ran, 1);
    CHECK_EQ_INT(rec[0].dropped, 0);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, 1);
    CHECK_EQ_UINT(s.completed, 0);
}

static void pool_abort_flag_is_zero_until_the_deadline(void) {
    llmsplit_pool *p;
    int i;
    reset_records();
    p = make_pool(2, 32);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < 32; i++) CHECK(submit(p, job_quick, i));
    CHECK_EQ_INT(shut(p, -1, NULL), 0);
    for (i = 0; i < 32; i++) {
        CHECK_EQ_INT(rec[i].ran, 1);
        CHECK(!rec[i].saw_abort);
    }
}

/* --- refusals ---------------------------------------------------------------------------------- */

static void pool_submit_after_close_is_refused_and_queued_work_still_runs(void) {
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    latch l;
    int i;
    reset_records();
    latch_init(&l);
    job_latch = &l;
    p = make_pool(1, 8);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < 4; i++) CHECK(submit(p, job_blocking, i));
    llmsplit_pool_close(p);
    llmsplit_pool_close(p); /* idempotent */
    for (i = 4; i < 8; i++) CHECK(!submit(p, job_blocking, i));
    s = llmsplit_pool_get_stats(p);
    CHECK_EQ_UINT(s.submitted, 8);
    CHECK_EQ_UINT(s.dropped_queue_full, 4);
    CHECK(stats_add_up(s));
    latch_open(&l);
    CHECK_EQ_INT(shut(p, -1, &s), 0);
    CHECK_EQ_UINT(s.completed, 4);
    CHECK_EQ_UINT(s.dropped_queue_full, 4);
    for (i = 0; i < 8; i++) {
        CHECK_EQ_INT(rec[i].ran, (i < 4));
        CHECK_EQ_INT(rec[i].dropped, 0);
    }
    latch_free(&l);
}

typedef struct shutdown_arg {
    llmsplit_pool *pool;
    int drain_ms;
    int result;
    llmsplit_pool_stats final;
} shutdown_arg;

static void *shutdown_main(void *arg) {
    shutdown_arg *a = (shutdown_arg *)arg;
    a->result = shut(a->pool, a->drain_ms, &a->final);
    return NULL;
}

static void pool_submit_during_shutdown_is_refused(void) {
    shutdown_arg sa;
    pthread_t t;
    latch l;
    int i, accepted = 0, refused = 0;
    reset_records();
    latch_init(&l);
    job_latch = &l;
    sa.pool = make_pool(1, 4096);
    sa.drain_ms = -1;
    CHECK(sa.pool != NULL);
    if (!sa.pool) return;
    CHECK(submit(sa.pool, job_blocking, 0));
    CHECK(wait_running(sa.pool, 1));
    CHECK_EQ_INT(pthread_create(&t, NULL, shutdown_main, &sa), 0);
    /* The worker is held on the latch, so shutdown cannot finish (it waits forever) until the
       latch opens: every submit below happens while the pool exists, before or after shutdown
       began. Quick jobs accepted before it began are drained; the first refusal marks the start. */
    for (i = 1; i < 4000 && refused == 0; i++) {
        if (submit(sa.pool, job_quick, i)) accepted++;
        else refused++;
        sleep_ms(1);
    }
    CHECK_EQ_INT(refused, 1);
    for (; i < 4000 && refused < 50; i++) {
        if (submit(sa.pool, job_quick, i)) accepted++;
        else refused++;
    }
    CHECK_EQ_INT(refused, 50); /* once refused, always refused */
    latch_open(&l);
    pthread_join(t, NULL);
    CHECK_EQ_INT(sa.result, 0);
    CHECK_EQ_UINT(sa.final.submitted, (uint64_t)(1 + accepted + refused));
    CHECK_EQ_UINT(sa.final.completed, (uint64_t)(1 + accepted));
    CHECK_EQ_UINT(sa.final.dropped_queue_full, (uint64_t)refused);
    latch_free(&l);
}

static void pool_drop_is_called_only_at_shutdown(void) {
    llmsplit_pool *p;
    latch l;
    int i, drops = 0;
    reset_records();
    latch_init(&l);
    job_latch = &l;
    p = make_pool(1, 3);
    CHECK(p != NULL);
    if (!p) return;
    CHECK(submit(p, job_blocking, 0));
    CHECK(wait_running(p, 1));
    for (i = 1; i < 4; i++) CHECK(submit(p, job_quick, i));
    for (i = 4; i < 10; i++) CHECK(!submit(p, job_quick, i)); /* queue full: no drop */
    for (i = 0; i < 10; i++) drops += rec[i].dropped;
    CHECK_EQ_INT(drops, 0);
    /* Shutdown with drain 50 ms: job 0 is stuck on the latch, so jobs 1..3 are still queued at the
       deadline. Open the latch from a thread a little later so the worker can return. */
    {
        shutdown_arg sa;
        pthread_t t;
        sa.pool = p;
        sa.drain_ms = 50;
        CHECK_EQ_INT(pthread_create(&t, NULL, shutdown_main, &sa), 0);
        /* wait until the queued jobs have been handed back, then let job 0 finish */
        {
            double end = now_ms() + 5000;
            while (now_ms() < end && ld(&rec[1].dropped) + ld(&rec[2].dropped) + ld(&rec[3].dropped) < 3)
                sleep_ms(1);
        }
        latch_open(&l);
        pthread_join(t, NULL);
        CHECK_EQ_INT(sa.result, 4);
        CHECK_EQ_UINT(sa.final.abandoned_at_shutdown, 4);
        CHECK_EQ_UINT(sa.final.dropped_queue_full, 6);
        CHECK_EQ_UINT(sa.final.completed, 0);
    }
    for (i = 1; i < 4; i++) {
        CHECK_EQ_INT(ld(&rec[i].dropped), 1);
        CHECK_EQ_INT(rec[i].ran, 0);
    }
    for (i = 4; i < 10; i++) {
        CHECK_EQ_INT(rec[i].dropped, 0);
        CHECK_EQ_INT(rec[i].ran, 0);
    }
    CHECK_EQ_INT(rec[0].ran, 1); /* running at the deadline: abandoned, not dropped */
    CHECK_EQ_INT(rec[0].dropped, 0);
    latch_free(&l);
}

/* --- concurrency ------------------------------------------------------------------------------- */

typedef struct producer {
    llmsplit_pool *pool;
    int first, count;
    llmsplit_task_fn fn;
    int pace;      /* pause 0.1 ms after every `pace` submits so workers and producers interleave */
    int accepted, refused;
} producer;

static void *producer_main(void *arg) {
    producer *pr = (producer *)arg;
    int i;
    for (i = 0; i < pr->count; i++) {
        if (submit(pr->pool, pr->fn, pr->first + i)) pr->accepted++;
        else pr->refused++;
        if (pr->pace && i % pr->pace == 0) {
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

typedef struct sampler {
    llmsplit_pool *pool;
    int stop;      /* atomic */
    int samples, inconsistent;
} sampler;

static void *sampler_main(void *arg) {
    sampler *sm = (sampler *)arg;
    while (!ld(&sm->stop)) {
        llmsplit_pool_stats s = llmsplit_pool_get_stats(sm->pool);
        sm->samples++;
        if (!stats_add_up(s)) sm->inconsistent++;
    }
    return NULL;
}

static void pool_many_producers_counts_add_up(void) {
    enum { NPROD = 8, PER = 2000 };
    producer pr[NPROD];
    sampler sm;
    pthread_t t[NPROD], ts;
    llmsplit_pool_stats s;
    int i, accepted = 0, refused = 0, ran = 0, twice = 0;
    reset_records();
    memset(&sm, 0, sizeof sm);
    sm.pool = make_pool(4, 32);
    CHECK(sm.pool != NULL);
    if (!sm.pool) return;
    CHECK_EQ_INT(pthread_create(&ts, NULL, sampler_main, &sm), 0);
    for (i = 0; i < NPROD; i++) {
        memset(&pr[i], 0, sizeof pr[i]);
        pr[i].pool = sm.pool;
        pr[i].first = i * PER;
        pr[i].count = PER;
        pr[i].fn = job_quick;
        pr[i].pace = 8;
        CHECK_EQ_INT(pthread_create(&t[i], NULL, producer_main, &pr[i]), 0);
    }
    for (i = 0; i < NPROD; i++) {
        pthread_join(t[i], NULL);
        accepted += pr[i].accepted;
        refused += pr[i].refused;
    }
    __atomic_store_n(&sm.stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(ts, NULL);
    CHECK_EQ_INT(shut(sm.pool, -1, &s), 0);
    for (i = 0; i < NPROD * PER; i++) {
        ran += rec[i].ran;
        twice += rec[i].ran > 1 || rec[i].dropped;
    }
    printf("  %d accepted, %d refused (queue full), %d stats samples\n", accepted, refused, sm.samples);
    CHECK_EQ_INT(accepted + refused, NPROD * PER);
    CHECK_EQ_INT(ran, accepted);
    CHECK_EQ_INT(twice, 0);
    CHECK_EQ_UINT(s.submitted, (uint64_t)(NPROD * PER));
    CHECK_EQ_UINT(s.completed, (uint64_t)accepted);
    CHECK_EQ_UINT(s.dropped_queue_full, (uint64_t)refused);
    CHECK_EQ_UINT(s.abandoned_at_shutdown, 0);
    CHECK(stats_add_up(s));
    CHECK_EQ_INT(sm.inconsistent, 0);
    CHECK_GT_INT(sm.samples, 0);
}

/* Producers fill the pool with slow tasks from several threads, then a short drain abandons most
   of them: every accepted task is either run or handed back to drop, exactly once, and
   submitted == completed + dropped + abandoned. (Submits racing the shutdown itself are in
   pool_submit_during_shutdown_is_refused: a producer must not outlive the pool.) */
static void pool_abandoning_under_load_accounts_for_every_task(void) {
    enum { NPROD = 4, PER = 500 };
    producer pr[NPROD];
    pthread_t t[NPROD];
    llmsplit_pool_stats s;
    llmsplit_pool *p;
    int i, accepted = 0, refused = 0, ran = 0, dropped = 0, bad = 0, abandoned;
    reset_records();
    job_sleep_ms = 20;
    p = make_pool(4, 256);
    CHECK(p != NULL);
    if (!p) return;
    for (i = 0; i < NPROD; i++) {
        memset(&pr[i], 0, sizeof pr[i]);
        pr[i].pool = p;
        pr[i].first = i * PER;
        pr[i].count = PER;
        pr[i].fn = job_slow;
        CHECK_EQ_INT(pthread_create(&t[i], NULL, producer_main, &pr[i]), 0);
    }
    for (i = 0; i < NPROD; i++) {
        pthread_join(t[i], NULL);
        accepted += pr[i].accepted;
        refused += pr[i].refused;
    }
    abandoned = shut(p, 60, &s);
    for (i = 0; i < NPROD * PER; i++) {
        ran += rec[i].ran;
        dropped += rec[i].dropped;
        if (rec[i].ran + rec[i].dropped > 1) bad++;
    }
    printf("  %d accepted, %d refused, %d ran, %d handed back, %d abandoned\n", accepted, refused, ran, dropped,
           abandoned);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(ran + dropped, accepted);
    CHECK_GT_INT(abandoned, 0);
    CHECK_EQ_UINT((uint64_t)abandoned, s.abandoned_at_shutdown);
    CHECK_EQ_UINT(s.submitted, s.completed + s.dropped_queue_full + s.abandoned_at_shutdown);
    CHECK_EQ_UINT(s.dropped_queue_full, (uint64_t)refused);
    CHECK_EQ_UINT(s.completed + s.abandoned_at_shutdown, (uint64_t)accepted);
    CHECK_LE_UINT((uint64_t)dropped, s.abandoned_at_shutdown);
}

/* --- resources --------------------------------------------------------------------------------- */

typedef struct counting_alloc {
    int allocs, frees, fail_after; /* fail_after < 0: never fail */
    size_t bytes;
} counting_alloc;

static void *ca_alloc(size_t size, void *ud) {
    counting_alloc *c = (counting_alloc *)ud;
    if (c->fail_after >= 0 && c->allocs >= c->fail_after) return NULL;
    c->allocs++;
    c->bytes += size;
    return malloc(size);
}
static void ca_free(void *ptr, void *ud) {
    counting_alloc *c = (counting_alloc *)ud;
    c->frees++;
    free(ptr);
}

static void pool_memory_comes_from_the_allocator_once(void) {
    counting_alloc c;
    llmsplit_pool_desc d;
    llmsplit_pool *p;
    int i;
    memset(&c, 0, sizeof c);
    c.fail_after = -1;
    memset(&d, 0, sizeof d);
    d.threads = 3;
    d.queue = 100;
    d.allocator.alloc_fn = ca_alloc;
    d.allocator.free_fn = ca_free;
    d.allocator.user_data = &c;
    reset_records();
    llmsplit_pool_create(&d, &p, NULL);
    CHECK(p != NULL);
    if (!p) return;
    CHECK_EQ_INT(c.allocs, 1);
    CHECK_GE_UINT(c.bytes, 100 * 3 * sizeof(void *));
    for (i = 0; i < 500; i++) submit(p, job_quick, i);
    CHECK_EQ_INT(c.allocs, 1); /* nothing per submit */
    CHECK_EQ_INT(shut(p, -1, NULL), 0);
    CHECK_EQ_INT(c.frees, 1);
}

static void pool_out_of_memory_is_a_clean_error(void) {
    counting_alloc c;
    llmsplit_pool_desc d;
    llmsplit_error err;
    memset(&c, 0, sizeof c);
    c.fail_after = 0;
    memset(&d, 0, sizeof d);
    d.allocator.alloc_fn = ca_alloc;
    d.allocator.free_fn = ca_free;
    d.allocator.user_data = &c;
    {
        llmsplit_pool *refused = (llmsplit_pool *)&refused; /* create must set it, also to NULL */
        CHECK(llmsplit_pool_create(&d, &refused, &err) != LLMSPLIT_OK);
        CHECK(refused == NULL);
    }
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_NOMEM);
    CHECK_CONTAINS(err.message, "pool: out of memory");
    CHECK_EQ_INT(c.allocs, 0);
    CHECK_EQ_INT(c.frees, 0);
}

static void pool_thread_start_failure_is_clean(void) {
    counting_alloc c;
    llmsplit_pool_desc d;
    llmsplit_error err;
    memset(&c, 0, sizeof c);
    c.fail_after = -1;
    memset(&d, 0, sizeof d);
    d.threads = 4;
    d.allocator.alloc_fn = ca_alloc;
    d.allocator.free_fn = ca_free;
    d.allocator.user_data = &c;
    t_create_calls = 0;
    __atomic_store_n(&t_workers_exited, 0, __ATOMIC_SEQ_CST);
    t_fail_create_at = 3;
    {
        llmsplit_pool *refused = (llmsplit_pool *)&refused; /* create must set it, also to NULL */
        CHECK(llmsplit_pool_create(&d, &refused, &err) != LLMSPLIT_OK);
        CHECK(refused == NULL);
    }
    t_fail_create_at = 0;
    printf("  %s\n", err.message);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_NOMEM);
    CHECK_CONTAINS(err.message, "worker thread 3 of 4");
    CHECK_EQ_INT(t_create_calls, 3);
    CHECK_EQ_INT(ld(&t_workers_exited), 2); /* the two started workers were stopped and joined */
    CHECK_EQ_INT(c.allocs, 1);
    CHECK_EQ_INT(c.frees, 1);
}

/* --- tasks that use the pool -------------------------------------------------------------------- */

static llmsplit_pool *chain_pool;
static void job_chain(void *arg, const volatile int *abort_flag) {
    job *j = (job *)arg;
    inc(&rec[j->id].ran);
    if (j->id < 99) submit(chain_pool, job_chain, j->id + 1); /* a task may submit more */
    (void)llmsplit_pool_get_stats(chain_pool);              /* and read the counters */
    (void)abort_flag;
    free(j);
}

static void pool_tasks_may_submit_more_tasks(void) {
    llmsplit_pool_stats s;
    int i, all = 1;
    double end;
    reset_records();
    chain_pool = make_pool(2, 4);
    CHECK(chain_pool != NULL);
    if (!chain_pool) return;
    CHECK(submit(chain_pool, job_chain, 0));
    end = now_ms() + 5000;
    while (now_ms() < end && !ld(&rec[99].ran)) sleep_ms(1);
    CHECK_EQ_INT(shut(chain_pool, -1, &s), 0);
    for (i = 0; i < 100; i++) all &= rec[i].ran == 1;
    CHECK(all);
    CHECK_EQ_UINT(s.completed, 100);
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(pool_runs_every_task_exactly_once);
    RUN(pool_counters_are_exact_at_every_step);
    RUN(pool_full_queue_refuses_immediately);
    RUN(pool_zero_desc_means_two_threads_and_64_slots);
    RUN(pool_rejects_bad_descs_with_usage_errors);
    RUN(pool_submit_without_a_function_is_refused_and_not_counted);
    RUN(pool_shutdown_of_an_empty_pool_returns_at_once);
    RUN(pool_shutdown_drains_quick_tasks_fully);
    RUN(pool_shutdown_abandons_slow_tasks_at_the_deadline);
    RUN(pool_shutdown_with_zero_drain_abandons_at_once);
    RUN(pool_shutdown_waits_for_a_task_that_ignores_the_flag);
    RUN(pool_abort_flag_is_zero_until_the_deadline);
    RUN(pool_submit_after_close_is_refused_and_queued_work_still_runs);
    RUN(pool_submit_during_shutdown_is_refused);
    RUN(pool_drop_is_called_only_at_shutdown);
    RUN(pool_many_producers_counts_add_up);
    RUN(pool_abandoning_under_load_accounts_for_every_task);
    RUN(pool_memory_comes_from_the_allocator_once);
    RUN(pool_out_of_memory_is_a_clean_error);
    RUN(pool_thread_start_failure_is_clean);
    RUN(pool_tasks_may_submit_more_tasks);
    return t_summary();
}
