/* A small test harness: one behaviour per test, each reported as "ok NAME" or "FAIL NAME",
   then "N passed, M failed[, K skipped]". tests/run adds the numbers of every test program. */
#ifndef LLMSPLIT_TEST_H
#define LLMSPLIT_TEST_H
#include <stdio.h>
#include <string.h>

static int t_passed, t_failed, t_skipped, t_cur_failed;
static const char *t_skip_reason;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            t_cur_failed = 1;                                                                \
            printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                \
        }                                                                                    \
    } while (0)

#define CHECK_STR(a, b)                                                                      \
    do {                                                                                     \
        const char *t_a = (a), *t_b = (b);                                                   \
        if (!t_a || !t_b || strcmp(t_a, t_b) != 0) {                                         \
            t_cur_failed = 1;                                                                \
            printf("  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, t_a ? t_a : "(null)", \
                   t_b ? t_b : "(null)");                                                    \
        }                                                                                    \
    } while (0)

/* Marks the running test as skipped, with the reason printed. */
#define SKIP(reason) do { t_skip_reason = (reason); return; } while (0)

static void t_begin(void) { t_cur_failed = 0; t_skip_reason = NULL; }

static void t_end(const char *name) {
    if (t_skip_reason && !t_cur_failed) {
        printf("skip %s: %s\n", name, t_skip_reason);
        t_skipped++;
    } else if (t_cur_failed) {
        printf("FAIL %s\n", name);
        t_failed++;
    } else {
        printf("ok   %s\n", name);
        t_passed++;
    }
    fflush(stdout);
}

#define RUN(fn) do { t_begin(); fn(); t_end(#fn); } while (0)

static int t_summary(void) {
    if (t_skipped) printf("%d passed, %d failed, %d skipped\n", t_passed, t_failed, t_skipped);
    else printf("%d passed, %d failed\n", t_passed, t_failed);
    return t_failed ? 1 : 0;
}
#endif
