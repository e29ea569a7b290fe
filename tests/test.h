/* A small test harness: one behaviour per test, each reported as "ok NAME" or "FAIL NAME",
   then "N passed, M failed[, K skipped]". tests/run adds the numbers of every test program.

   A failed check prints where it is, what it compared and both values:
       tests/test_split.c:76: counts[1] == 2: 3 vs 2
   so one check per fact: CHECK_EQ_INT(a, 1); CHECK_EQ_INT(b, 2); not CHECK(a == 1 && b == 2).

   Every program takes test names as arguments and then runs only those (a trailing '*' matches
   a prefix); an unknown name is an error. --list prints the names instead of running them.
       build/tests/test_split split_empty_key_is_not_a_key 'config_rejects_*'
   main() starts with t_init(argc, argv) and ends with return t_summary(). */
#ifndef LLMSPLIT_TEST_H
#define LLMSPLIT_TEST_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define T_UNUSED __attribute__((unused))
#else
#define T_UNUSED
#endif

static int t_passed, t_failed, t_skipped, t_cur_failed;
static const char *t_skip_reason;

/* --- checks ------------------------------------------------------------------------------ */

/* Marks the running test failed and prints "  file:line: " for the message that follows. */
T_UNUSED static void t_fail_at(const char *file, int line) {
    t_cur_failed = 1;
    printf("  %s:%d: ", file, line);
}

/* Prints n bytes quoted, with C escapes for what is not printable ASCII; long values are cut. */
T_UNUSED static void t_put_bytes(const char *s, size_t n) {
    size_t i, shown = n > 300 ? 300 : n;
    if (!s) { printf("NULL"); return; }
    putchar('"');
    for (i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') printf("\\n");
        else if (c == '\r') printf("\\r");
        else if (c == '\t') printf("\\t");
        else if (c < 0x20 || c >= 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
    if (shown < n) printf("... (%lu bytes)", (unsigned long)n);
}

T_UNUSED static void t_put_str(const char *s) { t_put_bytes(s, s ? strlen(s) : 0); }

/* The condition itself, for facts that are not comparisons (flags, pointers, predicates). */
#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            t_fail_at(__FILE__, __LINE__);                                                   \
            printf("CHECK(%s) failed\n", #cond);                                             \
        }                                                                                    \
    } while (0)

/* Compares two values of one type with op and prints both sides when it does not hold. */
#define T_CMP(type, fmt, a, op, b)                                                           \
    do {                                                                                     \
        type t_a_ = (a), t_b_ = (b);                                                         \
        if (!(t_a_ op t_b_)) {                                                               \
            t_fail_at(__FILE__, __LINE__);                                                   \
            printf("%s " #op " %s: " fmt " vs " fmt "\n", #a, #b, t_a_, t_b_);               \
        }                                                                                    \
    } while (0)

/* An integer comparison of a double or a pointer does not compile: x % 1 needs integers. */
#define T_INTEGER(x) ((void)sizeof((x) % 1))
#define T_CMP_INTEGER(type, fmt, a, op, b) do { T_INTEGER(a); T_INTEGER(b); T_CMP(type, fmt, a, op, b); } while (0)

/* Signed integers (and enums, chars, bools) as long long. */
#define CHECK_EQ_INT(a, b) T_CMP_INTEGER(long long, "%lld", a, ==, b)
#define CHECK_NE_INT(a, b) T_CMP_INTEGER(long long, "%lld", a, !=, b)
#define CHECK_LT_INT(a, b) T_CMP_INTEGER(long long, "%lld", a, <, b)
#define CHECK_LE_INT(a, b) T_CMP_INTEGER(long long, "%lld", a, <=, b)
#define CHECK_GT_INT(a, b) T_CMP_INTEGER(long long, "%lld", a, >, b)
#define CHECK_GE_INT(a, b) T_CMP_INTEGER(long long, "%lld", a, >=, b)

/* Unsigned integers (sizes, counters, hashes) as unsigned long long. */
#define CHECK_EQ_UINT(a, b) T_CMP_INTEGER(unsigned long long, "%llu", a, ==, b)
#define CHECK_NE_UINT(a, b) T_CMP_INTEGER(unsigned long long, "%llu", a, !=, b)
#define CHECK_LT_UINT(a, b) T_CMP_INTEGER(unsigned long long, "%llu", a, <, b)
#define CHECK_LE_UINT(a, b) T_CMP_INTEGER(unsigned long long, "%llu", a, <=, b)
#define CHECK_GT_UINT(a, b) T_CMP_INTEGER(unsigned long long, "%llu", a, >, b)
#define CHECK_GE_UINT(a, b) T_CMP_INTEGER(unsigned long long, "%llu", a, >=, b)

/* Doubles, exactly (values that are exact in binary: 0.5, 30.0, parsed literals); %.17g shows
   every bit, so 0.1 vs 0.10000000000000001 is visible. */
#define CHECK_EQ_DBL(a, b) T_CMP(double, "%.17g", a, ==, b)
#define CHECK_LT_DBL(a, b) T_CMP(double, "%.17g", a, <, b)
#define CHECK_LE_DBL(a, b) T_CMP(double, "%.17g", a, <=, b)
#define CHECK_GT_DBL(a, b) T_CMP(double, "%.17g", a, >, b)
#define CHECK_GE_DBL(a, b) T_CMP(double, "%.17g", a, >=, b)

/* |a - b| < tol (strictly, as fabs(a - b) < tol reads); a NaN on either side fails. */
#define CHECK_NEAR(a, b, tol)                                                                \
    do {                                                                                     \
        double t_a_ = (a), t_b_ = (b), t_tol_ = (tol);                                       \
        if (!(t_a_ - t_b_ < t_tol_ && t_b_ - t_a_ < t_tol_)) {                               \
            t_fail_at(__FILE__, __LINE__);                                                   \
            printf("%s == %s within %s: %.17g vs %.17g\n", #a, #b, #tol, t_a_, t_b_);        \
        }                                                                                    \
    } while (0)

/* NUL-terminated strings; NULL equals only NULL and is printed as NULL. */
#define T_STR(a, b, want_equal, op)                                                          \
    do {                                                                                     \
        const char *t_a_ = (a), *t_b_ = (b);                                                 \
        int t_eq_ = t_a_ && t_b_ ? strcmp(t_a_, t_b_) == 0 : t_a_ == t_b_;                   \
        if (t_eq_ != (want_equal)) {                                                         \
            t_fail_at(__FILE__, __LINE__);                                                   \
            printf("%s " op " %s: ", #a, #b);                                                \
            t_put_str(t_a_);                                                                 \
            printf(" vs ");                                                                  \
            t_put_str(t_b_);                                                                 \
            putchar('\n');                                                                   \
        }                                                                                    \
    } while (0)
#define CHECK_EQ_STR(a, b) T_STR(a, b, 1, "==")
#define CHECK_NE_STR(a, b) T_STR(a, b, 0, "!=")
#define CHECK_STR(a, b) CHECK_EQ_STR(a, b)

/* s contains needle (or, with the _NOT form, does not); a NULL s fails either way. */
#define T_CONTAINS(s, needle, want, op)                                                      \
    do {                                                                                     \
        const char *t_s_ = (s), *t_n_ = (needle);                                            \
        if (!t_s_ || (strstr(t_s_, t_n_) != NULL) != (want)) {                               \
            t_fail_at(__FILE__, __LINE__);                                                   \
            printf("%s " op " %s: ", #s, #needle);                                           \
            t_put_str(t_s_);                                                                 \
            printf(" vs ");                                                                  \
            t_put_str(t_n_);                                                                 \
            putchar('\n');                                                                   \
        }                                                                                    \
    } while (0)
#define CHECK_CONTAINS(s, needle) T_CONTAINS(s, needle, 1, "contains")
#define CHECK_NOT_CONTAINS(s, needle) T_CONTAINS(s, needle, 0, "does not contain")

/* s begins with prefix; a NULL s fails. */
#define CHECK_STARTS(s, prefix)                                                              \
    do {                                                                                     \
        const char *t_s_ = (s), *t_p_ = (prefix);                                            \
        if (!t_s_ || strncmp(t_s_, t_p_, strlen(t_p_)) != 0) {                               \
            t_fail_at(__FILE__, __LINE__);                                                   \
            printf("%s starts with %s: ", #s, #prefix);                                      \
            t_put_str(t_s_);                                                                 \
            printf(" vs ");                                                                  \
            t_put_str(t_p_);                                                                 \
            putchar('\n');                                                                   \
        }                                                                                    \
    } while (0)

/* Byte strings with lengths: equal when the lengths are and the bytes are. */
#define CHECK_EQ_MEM(a, alen, b, blen)                                                       \
    do {                                                                                     \
        const char *t_a_ = (const char *)(a), *t_b_ = (const char *)(b);                     \
        size_t t_al_ = (alen), t_bl_ = (blen);                                               \
        if (t_al_ != t_bl_ || (t_al_ && (!t_a_ || !t_b_ || memcmp(t_a_, t_b_, t_al_) != 0))) { \
            t_fail_at(__FILE__, __LINE__);                                                   \
            printf("%s == %s: ", #a, #b);                                                    \
            t_put_bytes(t_a_, t_al_);                                                        \
            printf(" (%lu) vs ", (unsigned long)t_al_);                                      \
            t_put_bytes(t_b_, t_bl_);                                                        \
            printf(" (%lu)\n", (unsigned long)t_bl_);                                        \
        }                                                                                    \
    } while (0)

/* Marks the running test as skipped, with the reason printed. */
#define SKIP(reason) do { t_skip_reason = (reason); return; } while (0)

/* --- test data --------------------------------------------------------------------------- */

/* The whole file at path (relative to the repo root, where tests/run starts every program),
   NUL-terminated, with its length in *len when len is not NULL; the caller frees it. A missing
   file ends the program: every test after it would fail for the same reason. */
T_UNUSED static char *t_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;
    if (!f) {
        printf("  cannot open %s: %s (tests run from the repo root)\n", path, strerror(errno));
        exit(2);
    }
    do {
        if (cap - n < 4096) {
            char *bigger = (char *)realloc(buf, cap = cap * 2 + 4096);
            if (!bigger) { printf("  %s: out of memory\n", path); exit(2); }
            buf = bigger;
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* tests/data/NAME, read once and kept for the whole run (freed by t_summary), so a test can
   write parse(t_data("design_example.json")) like a string literal. */
static struct { const char *name; char *text; } t_data_files[32];

T_UNUSED static const char *t_data(const char *name) {
    char path[256];
    int i;
    for (i = 0; i < 32 && t_data_files[i].name; i++)
        if (strcmp(t_data_files[i].name, name) == 0) return t_data_files[i].text;
    if (i == 32) { printf("  t_data: more than 32 files\n"); exit(2); }
    snprintf(path, sizeof path, "tests/data/%s", name);
    t_data_files[i].text = t_read_file(path, NULL);
    t_data_files[i].name = name;
    return t_data_files[i].text;
}

/* --- running ----------------------------------------------------------------------------- */

static int t_argc, t_list;
static char **t_argv;
static char t_matched[64];

/* Keeps the names given on the command line; with none, every test runs. */
T_UNUSED static void t_init(int argc, char **argv) {
    int i;
    t_argc = 0;
    t_argv = argv + 1;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--list") == 0) t_list = 1;
        else if (t_argc < (int)sizeof t_matched) t_argv[t_argc++] = argv[i];
    }
}

/* Whether the test called name runs in this invocation; with --list it prints the name instead. */
static int t_selected(const char *name) {
    int i, hit = t_argc == 0;
    for (i = 0; i < t_argc; i++) {
        size_t n = strlen(t_argv[i]);
        if (n && t_argv[i][n - 1] == '*' ? strncmp(name, t_argv[i], n - 1) == 0 : strcmp(name, t_argv[i]) == 0)
            hit = t_matched[i] = 1;
    }
    if (hit && t_list) {
        printf("%s\n", name);
        return 0;
    }
    return hit;
}

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

#define RUN(fn) do { if (t_selected(#fn)) { t_begin(); fn(); t_end(#fn); } } while (0)

/* Prints the totals; exit status 1 when a test failed, 2 when a name given matched no test. */
static int t_summary(void) {
    int i, unknown = 0;
    for (i = 0; i < 32 && t_data_files[i].name; i++) free(t_data_files[i].text);
    if (t_list) return 0;
    if (t_skipped) printf("%d passed, %d failed, %d skipped\n", t_passed, t_failed, t_skipped);
    else printf("%d passed, %d failed\n", t_passed, t_failed);
    for (i = 0; i < t_argc; i++) {
        if (!t_matched[i]) {
            fprintf(stderr, "no test called %s (--list shows them)\n", t_argv[i]);
            unknown = 1;
        }
    }
    return unknown ? 2 : t_failed ? 1 : 0;
}
#endif
