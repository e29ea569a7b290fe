/* Split layer: MurmurHash2 and nginx split_clients vectors, sticky and random picks, goodness of
   fit, the rng, rollback re-picks and sampling, every config rule and error, the health window,
   and agreement with a real nginx when one is installed. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

#include "test.h"

/* The pickers report an arm through a pointer and a status; these give the arm back (-1 when
   refused) so a check can name the arm, and fail the running test when the status and the arm
   disagree (an arm with an error, or no arm with LLMSPLIT_OK). */
static int t_arm(llmsplit_status st, int arm) {
    if ((st == LLMSPLIT_OK) != (arm >= 0) || (st != LLMSPLIT_OK && (st != LLMSPLIT_ERR_USAGE || arm != -1))) {
        t_cur_failed = 1;
        printf("  picker said %s with arm %d\n", llmsplit_strerror(st), arm);
    }
    return arm;
}
static int arm_hash(const double *w, int n, uint32_t hash) {
    int a = -2;
    llmsplit_status st = llmsplit_pick_hash(w, n, hash, &a, NULL);
    return t_arm(st, a);
}
static int arm_sticky(const double *w, int n, const char *key, size_t key_len) {
    int a = -2;
    llmsplit_status st = llmsplit_pick_sticky(w, n, key, key_len, &a, NULL);
    return t_arm(st, a);
}
static int arm_random(const double *w, int n, double u) {
    int a = -2;
    llmsplit_status st = llmsplit_pick_random(w, n, u, &a, NULL);
    return t_arm(st, a);
}
static int arm_pick(const double *w, const unsigned char *avail, int n, const char *key, size_t key_len,
                    llmsplit_rng *rng) {
    int a = -2;
    llmsplit_status st = llmsplit_pick(w, avail, n, key, key_len, rng, &a, NULL);
    return t_arm(st, a);
}

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

/* Chi-square critical values at p = 0.001 by degrees of freedom: a correct picker fails one of
   these 1 time in 1000 for a random input; the inputs here are fixed, so a pass is permanent. */
static const double chi2_crit_p001[] = {0.0, 10.828, 13.816, 16.266, 18.467};

static double chi_square(const long *observed, const double *weights, int n, long total) {
    double sum = 0.0, chi = 0.0;
    int i;
    for (i = 0; i < n; i++) sum += weights[i];
    for (i = 0; i < n; i++) {
        double e = (double)total * weights[i] / sum;
        chi += ((double)observed[i] - e) * ((double)observed[i] - e) / e;
    }
    return chi;
}

/* --- MurmurHash2 and nginx vectors ---------------------------------------------------------- */

static void split_murmur2_known_vectors(void) {
    CHECK_EQ_UINT(llmsplit_murmur2("", 0), 0u);
    CHECK_EQ_UINT(llmsplit_murmur2(NULL, 0), 0u);
    CHECK_EQ_UINT(llmsplit_murmur2("1", 1), 0x49342fafu);
    CHECK_EQ_UINT(llmsplit_murmur2("hello", 5), 0xe56129cbu);
    CHECK_EQ_UINT(llmsplit_murmur2("\xff\xfe\xfd", 3), 0x3d614590u);
}

static void split_murmur2_reads_every_tail_length(void) {
    /* Keys of 0..9 bytes exercise the 4-byte loop and the 1-, 2- and 3-byte tails; a prefix
       never hashes like the whole key, and bytes >= 0x80 are read unsigned. */
    const char *key = "\x80\x81\x82\x83\x84\x85\x86\x87\x88";
    uint32_t seen[10];
    int i, j, distinct = 1;
    for (i = 0; i < 10; i++) seen[i] = llmsplit_murmur2(key, (size_t)i);
    for (i = 0; i < 10; i++)
        for (j = i + 1; j < 10; j++)
            if (seen[i] == seen[j]) distinct = 0;
    CHECK(distinct);
    CHECK_EQ_UINT(llmsplit_murmur2("abcd", 4), llmsplit_murmur2("abcdX", 4));
}

static const double nginx_table[3] = {51.2, 10.0, 38.8}; /* split_clients { 51.2% a; 10% b; * c; } */

static void split_sticky_nginx_vector_keys_1_to_20_fall_12_2_6(void) {
    int counts[3] = {0, 0, 0}, i;
    for (i = 1; i <= 20; i++) {
        char key[32];
        int arm;
        snprintf(key, sizeof key, "%d", i);
        arm = arm_sticky(nginx_table, 3, key, strlen(key));
        CHECK_GE_INT(arm, 0);
        CHECK_LT_INT(arm, 3);
        if (arm >= 0) counts[arm]++;
    }
    CHECK_EQ_INT(counts[0], 12);
    CHECK_EQ_INT(counts[1], 2);
    CHECK_EQ_INT(counts[2], 6);
}

static void split_sticky_bounds_are_exact_at_hash_edges(void) {
    /* bound1 = 5120 * 0xFFFFFFFF / 10000, bound2 = bound1 + 1000 * 0xFFFFFFFF / 10000, floored
       per arm; hash < bound wins, the last arm takes the rest. */
    uint32_t b1 = (uint32_t)(5120ull * 0xFFFFFFFFull / 10000ull);
    uint32_t b2 = b1 + (uint32_t)(1000ull * 0xFFFFFFFFull / 10000ull);
    CHECK_EQ_UINT(b1, 2199023255u);
    CHECK_EQ_UINT(b2, 2628519984u);
    CHECK_EQ_INT(arm_hash(nginx_table, 3, 0), 0);
    CHECK_EQ_INT(arm_hash(nginx_table, 3, b1 - 1), 0);
    CHECK_EQ_INT(arm_hash(nginx_table, 3, b1), 1);
    CHECK_EQ_INT(arm_hash(nginx_table, 3, b2 - 1), 1);
    CHECK_EQ_INT(arm_hash(nginx_table, 3, b2), 2);
    CHECK_EQ_INT(arm_hash(nginx_table, 3, 0xFFFFFFFFu), 2);
}

static void split_sticky_shares_round_to_hundredths_of_a_percent(void) {
    /* 1/3 each: 33.33% + 33.33% + the rest, as nginx would need it written. */
    double thirds[3] = {1, 1, 1};
    uint32_t b1 = (uint32_t)(3333ull * 0xFFFFFFFFull / 10000ull);
    uint32_t b2 = b1 + (uint32_t)(3333ull * 0xFFFFFFFFull / 10000ull);
    double tiny[2] = {0.00004, 99.99996}; /* 0.00004% rounds to 0 units: never wins by bound */
    double half_unit[2] = {0.005, 99.995}; /* 0.005% rounds up to 1 unit */
    CHECK_EQ_INT(arm_hash(thirds, 3, b1 - 1), 0);
    CHECK_EQ_INT(arm_hash(thirds, 3, b1), 1);
    CHECK_EQ_INT(arm_hash(thirds, 3, b2 - 1), 1);
    CHECK_EQ_INT(arm_hash(thirds, 3, b2), 2);
    CHECK_EQ_INT(arm_hash(tiny, 2, 0), 1);
    CHECK_EQ_INT(arm_hash(half_unit, 2, 0), 0);
    CHECK_EQ_INT(arm_hash(half_unit, 2, (uint32_t)(0xFFFFFFFFull / 10000ull)), 1);
}

static void split_sticky_80_and_0_8_weights_mean_the_same(void) {
    double a[2] = {80, 20}, b[2] = {0.8, 0.2}, c[3] = {51.2, 10, 38.8}, d[3] = {0.512, 0.1, 0.388};
    int i, same = 1;
    for (i = 0; i < 20000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "user-%d", i);
        if (arm_sticky(a, 2, key, (size_t)n) != arm_sticky(b, 2, key, (size_t)n)) same = 0;
        if (arm_sticky(c, 3, key, (size_t)n) != arm_sticky(d, 3, key, (size_t)n)) same = 0;
    }
    CHECK(same);
}

static void split_zero_weight_arms_never_win(void) {
    double mid[3] = {0, 1, 0}, first[2] = {1, 0};
    int i, ok = 1;
    llmsplit_rng r;
    llmsplit_rng_seed(&r, 7);
    for (i = 0; i < 5000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "k%d", i);
        if (arm_sticky(mid, 3, key, (size_t)n) != 1) ok = 0;
        if (arm_sticky(first, 2, key, (size_t)n) != 0) ok = 0; /* the rest goes to the last arm WITH a weight */
        if (arm_random(mid, 3, llmsplit_rng_next(&r)) != 1) ok = 0;
    }
    CHECK(ok);
    CHECK_EQ_INT(arm_hash(first, 2, 0xFFFFFFFFu), 0);
}

static void split_empty_key_is_not_a_key(void) {
    double w[2] = {50, 50};
    int seen[2] = {0, 0}, i;
    llmsplit_rng r;
    CHECK_EQ_INT(arm_sticky(w, 2, "", 0), -1);
    CHECK_EQ_INT(arm_sticky(w, 2, NULL, 5), -1);
    llmsplit_rng_seed(&r, 42);
    for (i = 0; i < 1000; i++) {
        int arm = arm_pick(w, NULL, 2, "", 0, &r);
        if (arm >= 0) seen[arm]++;
    }
    /* random mode, not "hash of the empty string" (which is 0, the first arm, every time) */
    CHECK_GT_INT(seen[0], 400);
    CHECK_GT_INT(seen[1], 400);
}

static void split_pick_rejects_invalid_weights(void) {
    double neg[2] = {1, -1}, zero[2] = {0, 0}, nan2[2], inf2[2], big[2] = {1e308, 1e308}, ok[1] = {3};
    llmsplit_rng r;
    nan2[0] = 1;
    nan2[1] = strtod("nan", NULL);
    inf2[0] = 1;
    inf2[1] = strtod("inf", NULL);
    llmsplit_rng_seed(&r, 1);
    CHECK_EQ_INT(arm_hash(neg, 2, 1), -1);
    CHECK_EQ_INT(arm_random(neg, 2, 0.5), -1);
    CHECK_EQ_INT(arm_hash(zero, 2, 1), -1);
    CHECK_EQ_INT(arm_random(zero, 2, 0.5), -1);
    CHECK_EQ_INT(arm_hash(nan2, 2, 1), -1);
    CHECK_EQ_INT(arm_random(nan2, 2, 0.5), -1);
    CHECK_EQ_INT(arm_hash(inf2, 2, 1), -1);
    CHECK_EQ_INT(arm_random(inf2, 2, 0.5), -1);
    CHECK_EQ_INT(arm_hash(big, 2, 1), -1); /* the sum overflows */
    CHECK_EQ_INT(arm_hash(NULL, 2, 1), -1);
    CHECK_EQ_INT(arm_hash(ok, 0, 1), -1);
    CHECK_EQ_INT(arm_pick(neg, NULL, 2, "k", 1, &r), -1);
    CHECK_EQ_INT(arm_pick(zero, NULL, 2, NULL, 0, &r), -1);
    CHECK_EQ_INT(arm_pick(ok, NULL, 1, NULL, 0, NULL), -1); /* random needs an rng */
    CHECK_EQ_INT(arm_pick(ok, NULL, 1, "k", 1, NULL), 0);   /* sticky does not */
    CHECK_EQ_INT(arm_hash(ok, 1, 12345), 0);
    CHECK_EQ_INT(arm_random(ok, 1, 0.99), 0);
}

static void split_random_pick_slices_are_exact(void) {
    double w[4] = {0, 0.8, 0, 0.2};
    CHECK_EQ_INT(arm_random(w, 4, 0.0), 1);
    CHECK_EQ_INT(arm_random(w, 4, 0.7999999), 1);
    CHECK_EQ_INT(arm_random(w, 4, 0.8), 3);
    CHECK_EQ_INT(arm_random(w, 4, 0.9999999999999999), 3);
    CHECK_EQ_INT(arm_random(w, 4, -3.0), 1); /* clamped */
    CHECK_EQ_INT(arm_random(w, 4, 7.0), 3);
    CHECK_EQ_INT(arm_random(w, 4, strtod("nan", NULL)), 1);
}

/* --- goodness of fit over 10^6 keys or draws ---------------------------------------------- */

#define FIT_N 1000000L

static void fit_sticky(const double *w, int n) {
    long counts[4] = {0, 0, 0, 0}, i;
    double chi;
    for (i = 0; i < FIT_N; i++) {
        char key[32];
        int len = snprintf(key, sizeof key, "user-%ld", i), arm = arm_sticky(w, n, key, (size_t)len);
        CHECK_GE_INT(arm, 0);
        if (arm < 0) return;
        counts[arm]++;
    }
    chi = chi_square(counts, w, n, FIT_N);
    if (chi >= chi2_crit_p001[n - 1]) printf("  chi2 = %.3f (df %d), counts %ld/%ld/%ld\n", chi, n - 1, counts[0], counts[1], counts[2]);
    CHECK_LT_DBL(chi, chi2_crit_p001[n - 1]);
}

static void fit_random(const double *w, int n, uint64_t seed) {
    long counts[4] = {0, 0, 0, 0}, i;
    double chi;
    llmsplit_rng r;
    llmsplit_rng_seed(&r, seed);
    for (i = 0; i < FIT_N; i++) {
        int arm = arm_pick(w, NULL, n, NULL, 0, &r);
        CHECK_GE_INT(arm, 0);
        if (arm < 0) return;
        counts[arm]++;
    }
    chi = chi_square(counts, w, n, FIT_N);
    if (chi >= chi2_crit_p001[n - 1]) printf("  chi2 = %.3f (df %d), counts %ld/%ld/%ld\n", chi, n - 1, counts[0], counts[1], counts[2]);
    CHECK_LT_DBL(chi, chi2_crit_p001[n - 1]);
}

static const double w80_20[2] = {80, 20}, w50_50[2] = {50, 50}, w9999[2] = {99.99, 0.01}, w33[3] = {33, 33, 34};
static void split_fit_sticky_80_20(void) { fit_sticky(w80_20, 2); }
static void split_fit_sticky_50_50(void) { fit_sticky(w50_50, 2); }
static void split_fit_sticky_99_99_0_01(void) { fit_sticky(w9999, 2); }
static void split_fit_sticky_33_33_34(void) { fit_sticky(w33, 3); }
static void split_fit_random_80_20(void) { fit_random(w80_20, 2, 1); }
static void split_fit_random_50_50(void) { fit_random(w50_50, 2, 2); }
static void split_fit_random_99_99_0_01(void) { fit_random(w9999, 2, 3); }
static void split_fit_random_33_33_34(void) { fit_random(w33, 3, 4); }

static void split_random_80_20_over_10000_calls_lands_within_two_points(void) {
    int i, first = 0;
    llmsplit_rng r;
    llmsplit_rng_seed(&r, 0); /* unseeded: this must hold for any seed, with room to spare */
    for (i = 0; i < 10000; i++) first += arm_pick(w80_20, NULL, 2, NULL, 0, &r) == 0;
    CHECK_GT_INT(first, 7800);
    CHECK_LT_INT(first, 8200);
}

/* --- stickiness ------------------------------------------------------------------------------- */

/* FNV-1a over the arms of keys user-0..user-9999 for three tables: a fingerprint of the picker
   that must not change between runs, machines or versions (it would move users). */
static uint64_t sticky_fingerprint(void) {
    static const double t3[3] = {51.2, 10, 38.8};
    uint64_t h = 1469598103934665603ull;
    int i;
    for (i = 0; i < 10000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "user-%d", i);
        int a = arm_sticky(w80_20, 2, key, (size_t)n) * 9 + arm_sticky(t3, 3, key, (size_t)n) * 3 +
                arm_sticky(w33, 3, key, (size_t)n);
        h = (h ^ (uint64_t)a) * 1099511628211ull;
    }
    return h;
}

static void split_sticky_same_key_same_arm_across_calls_and_configs(void) {
    const char *text = "{\"split\": {\"gpt-4\": 0.8, \"huggingface/https://e.example/\": 0.2}}";
    llmsplit_config *c1 = NULL;
    llmsplit_config_parse(text, strlen(text), NULL, &c1, NULL);
    llmsplit_config *c2 = NULL;
    llmsplit_config_parse(text, strlen(text), NULL, &c2, NULL);
    llmsplit_rng r1, r2;
    int i, same = 1;
    CHECK(c1 != NULL);
    CHECK(c2 != NULL);
    if (!c1 || !c2) goto done;
    llmsplit_rng_seed(&r1, 0);
    llmsplit_rng_seed(&r2, 0);
    for (i = 0; i < 5000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "u%d", i), j;
        double w1[2], w2[2];
        for (j = 0; j < 2; j++) {
            w1[j] = c1->deployments[c1->groups[0].deployments[j]].weight;
            w2[j] = c2->deployments[c2->groups[0].deployments[j]].weight;
        }
        int a = arm_pick(w1, NULL, 2, key, (size_t)n, &r1);
        if (a != arm_pick(w2, NULL, 2, key, (size_t)n, &r2) || a != arm_pick(w1, NULL, 2, key, (size_t)n, &r1)) same = 0;
    }
    CHECK(same);
done:
    llmsplit_config_free(c1);
    llmsplit_config_free(c2);
}

static void split_sticky_fingerprint_is_stable_across_runs(void) {
    uint64_t f = sticky_fingerprint();
    if (f != 0xa58ddf46cae34b77ull) printf("  fingerprint 0x%016llx\n", (unsigned long long)f);
    CHECK_EQ_UINT(f, 0xa58ddf46cae34b77ull);
}

static void split_sticky_same_in_another_process(void) {
    int fds[2];
    pid_t pid;
    uint64_t theirs = 0;
    int status = 0;
    CHECK_EQ_INT(pipe(fds), 0);
    pid = fork();
    CHECK_GE_INT(pid, 0);
    if (pid == 0) {
        uint64_t f = sticky_fingerprint();
        ssize_t w = write(fds[1], &f, sizeof f);
        _exit(w == (ssize_t)sizeof f ? 0 : 1);
    }
    close(fds[1]);
    CHECK_EQ_INT(read(fds[0], &theirs, sizeof theirs), (ssize_t)sizeof theirs);
    close(fds[0]);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);
    CHECK_EQ_UINT(theirs, sticky_fingerprint());
}

/* --- rng ------------------------------------------------------------------------------------- */

static void split_rng_same_seed_same_sequence(void) {
    llmsplit_rng a, b;
    int i, same = 1;
    llmsplit_rng_seed(&a, 12345);
    llmsplit_rng_seed(&b, 12345);
    for (i = 0; i < 1000; i++)
        if (llmsplit_rng_next(&a) != llmsplit_rng_next(&b)) same = 0;
    CHECK(same);
    /* SplitMix64 seeded with 1: the first output is fixed forever (reproducible runs). */
    llmsplit_rng_seed(&a, 1);
    CHECK_EQ_DBL(llmsplit_rng_next(&a), (double)(0x910a2dec89025cc1ull >> 11) / 9007199254740992.0);
}

static void split_rng_seed_zero_is_unpredictable(void) {
    llmsplit_rng a, b;
    llmsplit_rng_seed(&a, 0);
    llmsplit_rng_seed(&b, 0);
    CHECK_NE_UINT(a.state, b.state);
    CHECK(llmsplit_rng_next(&a) != llmsplit_rng_next(&b));
}

static void split_rng_draws_are_in_0_1(void) {
    llmsplit_rng r;
    int i, ok = 1;
    double lo = 1, hi = 0;
    llmsplit_rng_seed(&r, 99);
    for (i = 0; i < 200000; i++) {
        double u = llmsplit_rng_next(&r);
        if (!(u >= 0.0 && u < 1.0)) ok = 0;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    CHECK(ok);
    CHECK_LT_DBL(lo, 0.0001);
    CHECK_GT_DBL(hi, 0.9999);
    r.state = 0xFFFFFFFFFFFFFFFFull - 0x9e3779b97f4a7c15ull + 1; /* next state wraps to 0 */
    CHECK_LT_DBL(llmsplit_rng_next(&r), 1.0);
}

#define RNG_THREADS 4
#define RNG_DRAWS 100000
static llmsplit_rng shared_rng;
static void *rng_worker(void *arg) {
    double *sum = (double *)arg;
    int i;
    for (i = 0; i < RNG_DRAWS; i++) *sum += llmsplit_rng_next(&shared_rng);
    return NULL;
}

static void split_rng_is_thread_safe(void) {
    pthread_t th[RNG_THREADS];
    double sums[RNG_THREADS] = {0, 0, 0, 0};
    int i;
    llmsplit_rng_seed(&shared_rng, 5);
    for (i = 0; i < RNG_THREADS; i++) CHECK_EQ_INT(pthread_create(&th[i], NULL, rng_worker, &sums[i]), 0);
    for (i = 0; i < RNG_THREADS; i++) pthread_join(th[i], NULL);
    /* No draw was lost or doubled: the state moved by exactly one step per draw. */
    CHECK_EQ_UINT(shared_rng.state, 5u + (uint64_t)RNG_THREADS * RNG_DRAWS * 0x9e3779b97f4a7c15ull);
    for (i = 0; i < RNG_THREADS; i++) CHECK_NEAR(sums[i] / RNG_DRAWS, 0.5, 0.01);
}

/* --- picks under rollback, and sampling -------------------------------------------------------- */

static void split_pick_out_arm_moves_only_its_users_in_proportion(void) {
    double w[3] = {40, 40, 20};
    unsigned char avail[3] = {0, 1, 1};
    long moved[2] = {0, 0};
    double rest[2] = {40, 20};
    int i, stayed = 1, stable = 1;
    for (i = 0; i < 200000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "user-%d", i);
        int before = arm_sticky(w, 3, key, (size_t)n);
        int after = arm_pick(w, avail, 3, key, (size_t)n, NULL);
        if (before != 0 && after != before) stayed = 0;
        if (before == 0) {
            if (after < 1) stayed = 0;
            else moved[after - 1]++;
        }
        if (arm_pick(w, avail, 3, key, (size_t)n, NULL) != after) stable = 0;
    }
    CHECK(stayed);
    CHECK(stable);
    CHECK_LT_DBL(chi_square(moved, rest, 2, moved[0] + moved[1]), chi2_crit_p001[1]);
}

static void split_pick_random_skips_out_arms(void) {
    double w[3] = {40, 40, 20};
    unsigned char avail[3] = {1, 0, 1};
    long counts[3] = {0, 0, 0};
    double rest[2] = {40, 20};
    llmsplit_rng r;
    int i;
    llmsplit_rng_seed(&r, 11);
    for (i = 0; i < 100000; i++) counts[arm_pick(w, avail, 3, NULL, 0, &r)]++;
    CHECK_EQ_INT(counts[1], 0);
    counts[1] = counts[2];
    CHECK_LT_DBL(chi_square(counts, rest, 2, 100000), chi2_crit_p001[1]);
}

static void split_pick_all_out_serves_the_configured_split(void) {
    double w[2] = {50, 50};
    unsigned char none[2] = {0, 0}, zero_arm_only[2] = {1, 0};
    double w2[2] = {0, 1};
    llmsplit_rng r;
    llmsplit_rng_seed(&r, 3);
    CHECK_EQ_INT(arm_pick(w, none, 2, "alice", 5, NULL), arm_sticky(w, 2, "alice", 5));
    CHECK_GE_INT(arm_pick(w, none, 2, NULL, 0, &r), 0);
    /* the only available arm has weight 0: nothing with a weight is available */
    CHECK_EQ_INT(arm_pick(w2, zero_arm_only, 2, NULL, 0, &r), 1);
    CHECK_EQ_INT(arm_pick(w2, zero_arm_only, 2, "bob", 3, NULL), 1);
}

static void split_sample_is_sticky_and_independent_of_the_arm(void) {
    long sampled[2] = {0, 0}, total[2] = {0, 0};
    int i, stable = 1;
    llmsplit_rng r;
    llmsplit_rng_seed(&r, 8);
    for (i = 0; i < 200000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "user-%d", i);
        int arm = arm_sticky(w80_20, 2, key, (size_t)n);
        int s = llmsplit_pick_sample(0.5, key, (size_t)n, NULL);
        if (s != llmsplit_pick_sample(0.5, key, (size_t)n, &r)) stable = 0;
        total[arm]++;
        sampled[arm] += s;
    }
    CHECK(stable);
    /* half of each arm, not "the first half of the hash space", which would be arm 0 only */
    CHECK_NEAR((double)sampled[0] / (double)total[0], 0.5, 0.01);
    CHECK_NEAR((double)sampled[1] / (double)total[1], 0.5, 0.01);
}

static void split_sample_rate_edges(void) {
    llmsplit_rng r;
    int i, hits = 0, ok = 1;
    llmsplit_rng_seed(&r, 10);
    for (i = 0; i < 1000; i++) {
        char key[32];
        int n = snprintf(key, sizeof key, "%d", i);
        if (llmsplit_pick_sample(0.0, key, (size_t)n, &r) || !llmsplit_pick_sample(1.0, key, (size_t)n, &r)) ok = 0;
        if (llmsplit_pick_sample(-1.0, NULL, 0, &r) || !llmsplit_pick_sample(2.0, NULL, 0, NULL)) ok = 0;
        hits += llmsplit_pick_sample(0.25, NULL, 0, &r);
    }
    CHECK(ok);
    CHECK_GT_INT(hits, 180);
    CHECK_LT_INT(hits, 320);
    CHECK_EQ_INT(llmsplit_pick_sample(0.5, NULL, 0, NULL), 0);
}

/* --- config: what loads ---------------------------------------------------------------------- */

/* The config, or NULL; the status must agree with what came back. */
static llmsplit_config *parse_cfg(const char *text, llmsplit_error *err) {
    llmsplit_config *cfg = (llmsplit_config *)&cfg; /* not NULL: parse must set it either way */
    llmsplit_status st = llmsplit_config_parse(text, strlen(text), NULL, &cfg, err);
    if ((st == LLMSPLIT_OK) != (cfg != NULL) || (err && st != err->code)) {
        t_cur_failed = 1;
        printf("  config_parse said %s with%s a config\n", llmsplit_strerror(st), cfg ? "" : "out");
    }
    return cfg;
}

static const char *design_example; /* tests/data/design_example.json, read by main */

static void config_loads_the_design_example(void) {
    llmsplit_error err;
    llmsplit_config *cfg;
    const llmsplit_group *chat, *eval;
    setenv("LLMSPLIT_TEST_KEY", "sk-test-123", 1);
    cfg = parse_cfg(design_example, &err);
    CHECK(cfg != NULL);
    if (!cfg) { printf("  %s\n", err.message); return; }
    CHECK_EQ_INT(err.code, LLMSPLIT_OK);
    CHECK_EQ_INT(cfg->num_deployments, 3);
    CHECK_EQ_INT(cfg->num_groups, 2);
    chat = llmsplit_config_group(cfg, "chat");
    eval = llmsplit_config_group(cfg, "eval");
    CHECK(chat != NULL);
    CHECK(eval != NULL);
    CHECK(llmsplit_config_group(cfg, "nope") == NULL);
    if (!chat || !eval) goto done;
    CHECK_EQ_INT(chat->count, 2);
    if (chat->count == 2) {
        CHECK_EQ_INT(chat->deployments[0], 0);
        CHECK_EQ_INT(chat->deployments[1], 1);
    }
    CHECK_EQ_INT(eval->count, 1);
    if (eval->count == 1) CHECK_EQ_INT(eval->deployments[0], 2);
    CHECK_STR(cfg->deployments[0].model, "gpt-4");
    CHECK_STR(cfg->deployments[0].group, "chat");
    CHECK(cfg->deployments[0].group == chat->name);
    CHECK_STR(cfg->deployments[0].api_key, "sk-test-123");
    CHECK_EQ_DBL(cfg->deployments[0].weight, 0.8);
    CHECK(cfg->deployments[0].has_weight);
    CHECK_NEAR(cfg->deployments[0].share, 0.8, 1e-12);
    CHECK_NEAR(cfg->deployments[1].share, 0.2, 1e-12);
    CHECK_STR(cfg->deployments[1].model, "huggingface/https://my-endpoint.example/");
    CHECK_STR(cfg->deployments[1].silent_model, "eval");
    CHECK(cfg->deployments[1].api_key == NULL);
    CHECK(cfg->deployments[1].api_base == NULL);
    CHECK_EQ_DBL(cfg->deployments[2].timeout_s, 30.0);
    CHECK_EQ_DBL(cfg->deployments[0].timeout_s, 0.0);
    CHECK_STR(cfg->deployments[2].extra_params, "{}");
    CHECK_EQ_INT(cfg->deployments[2].index, 2);
    CHECK_EQ_INT(cfg->sticky, 1);
    CHECK_EQ_DBL(cfg->mirror_sample_rate, 1.0);
    CHECK_EQ_INT(cfg->mirror_threads, 2);
    CHECK_EQ_INT(cfg->mirror_queue, 64);
    CHECK_EQ_INT(cfg->num_retries, 1);
    CHECK_EQ_DBL(cfg->timeout_s, 600.0);
    CHECK_EQ_INT(cfg->drain_ms, 10000);
    CHECK_EQ_INT(chat->num_fallbacks, 1);
    CHECK(chat->fallbacks != NULL);
    if (chat->num_fallbacks == 1 && chat->fallbacks) CHECK_EQ_STR(chat->fallbacks[0], "eval");
    CHECK_EQ_INT(eval->num_fallbacks, 0);
    CHECK_EQ_INT(cfg->rollback.window, 50);
    CHECK_EQ_DBL(cfg->rollback.max_error_rate, 0.5);
    CHECK_EQ_DBL(cfg->rollback.max_p95_ms, 0.0);
    CHECK_EQ_DBL(cfg->rollback.cooldown_s, 60.0);
done:
    llmsplit_config_free(cfg);
    unsetenv("LLMSPLIT_TEST_KEY");
}

/* A LiteLLM proxy config.yaml converted to JSON, keys it does not read included. */
static const char *litellm_proxy_config; /* tests/data/litellm_proxy_config.json, read by main */

static void config_litellm_proxy_config_loads_unchanged(void) {
    llmsplit_error err;
    llmsplit_config *cfg;
    const llmsplit_group *g;
    setenv("LLMSPLIT_TEST_AZURE_BASE", "https://openai-gpt-4-test.openai.azure.com/", 1);
    setenv("LLMSPLIT_TEST_AZURE_KEY", "azure-key", 1);
    cfg = parse_cfg(litellm_proxy_config, &err);
    CHECK(cfg != NULL);
    if (!cfg) { printf("  %s\n", err.message); return; }
    g = llmsplit_config_group(cfg, "gpt-3.5-turbo");
    CHECK(g != NULL);
    if (g) CHECK_EQ_INT(g->count, 2);
    CHECK_STR(cfg->deployments[0].api_base, "https://openai-gpt-4-test.openai.azure.com/");
    CHECK_STR(cfg->deployments[0].api_key, "azure-key");
    CHECK_STR(cfg->deployments[0].api_version, "2023-07-01-preview");
    CHECK_EQ_INT(cfg->deployments[0].rpm, 6);
    CHECK_EQ_INT(cfg->deployments[1].tpm, 100000);
    CHECK_STR(cfg->deployments[0].extra_params, "{\"temperature\":0.2}");
    CHECK_STR(cfg->deployments[1].extra_params, "{\"max_tokens\":256}");
    CHECK_STR(cfg->deployments[1].api_key, "sk-literal");
    CHECK(cfg->deployments[1].has_costs);
    CHECK_EQ_DBL(cfg->deployments[1].input_cost_per_token, 0.0000015);
    CHECK_EQ_DBL(cfg->deployments[1].output_cost_per_token, 2e-6);
    CHECK(!cfg->deployments[0].has_costs);
    CHECK_STR(cfg->deployments[2].extra_params, "{}");
    CHECK(cfg->deployments[2].api_base == NULL);
    /* no weights in the group: a uniform split */
    CHECK(!cfg->deployments[0].has_weight);
    CHECK_EQ_DBL(cfg->deployments[0].weight, 1.0);
    CHECK_EQ_DBL(cfg->deployments[0].share, 0.5);
    CHECK_EQ_INT(cfg->num_retries, 2);
    CHECK_EQ_DBL(cfg->timeout_s, 30.0);
    CHECK_EQ_INT(cfg->groups[0].num_fallbacks, 0); /* litellm_settings is not read */
    llmsplit_config_free(cfg);
    unsetenv("LLMSPLIT_TEST_AZURE_BASE");
    unsetenv("LLMSPLIT_TEST_AZURE_KEY");
}

static void config_split_shorthand_makes_group_default(void) {
    const char *text = "{\"split\": {\"gpt-4\": 0.8, \"huggingface/https://my-endpoint.example/\": 0.2}}";
    llmsplit_config *cfg = parse_cfg(text, NULL);
    const llmsplit_group *g = llmsplit_config_group(cfg, "default");
    CHECK(cfg != NULL);
    CHECK(g != NULL);
    if (g) CHECK_EQ_INT(g->count, 2);
    if (cfg) CHECK_EQ_INT(cfg->num_groups, 1);
    if (cfg && g && g->count == 2) {
        CHECK_STR(cfg->deployments[g->deployments[0]].model, "gpt-4");
        CHECK_STR(cfg->deployments[g->deployments[1]].model, "huggingface/https://my-endpoint.example/");
        CHECK_EQ_DBL(cfg->deployments[1].weight, 0.2);
        CHECK(cfg->deployments[1].has_weight);
        CHECK_STR(cfg->deployments[0].group, "default");
        CHECK_STR(cfg->deployments[0].extra_params, "{}");
        CHECK_EQ_INT(cfg->deployments[1].index, 1);
    }
    llmsplit_config_free(cfg);
}

static void config_split_sits_beside_a_model_list(void) {
    const char *text = t_data("split_beside_model_list.json");
    llmsplit_config *cfg = parse_cfg(text, NULL);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_EQ_INT(cfg->num_groups, 2);
        CHECK_EQ_INT(cfg->num_deployments, 3);
        CHECK_STR(cfg->groups[1].name, "default");
        CHECK_EQ_INT(cfg->deployments[1].index, 1);
        CHECK_EQ_INT(cfg->deployments[2].index, 2);
        CHECK_NEAR(cfg->deployments[1].share, 0.8, 1e-12);
    }
    llmsplit_config_free(cfg);
}

static void config_params_is_accepted_for_litellm_params(void) {
    const char *text = t_data("params_for_litellm_params.json");
    llmsplit_config *cfg = parse_cfg(text, NULL);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_EQ_INT(cfg->num_deployments, 2);
        CHECK_EQ_DBL(cfg->deployments[0].weight, 3.0);
        CHECK_NEAR(cfg->deployments[0].share, 0.75, 1e-12);
    }
    llmsplit_config_free(cfg);
}

static void config_extra_params_carry_request_parameters_only(void) {
    const char *text = t_data("extra_params.json");
    llmsplit_error err;
    llmsplit_config *cfg = parse_cfg(text, &err);
    CHECK(cfg != NULL);
    if (!cfg) { printf("  %s\n", err.message); return; }
    CHECK_STR(cfg->deployments[0].extra_params,
              "{\"temperature\":0.7,\"max_tokens\":64,\"top_p\":0.9,\"stop\":[\"\\n\",\"END\"],"
              "\"response_format\":{\"type\":\"json_object\"},\"max_completion_tokens\":9,\"seed\":1,\"user\":\"u\"}");
    llmsplit_config_free(cfg);
}

static void config_os_environ_is_read_at_load(void) {
    const char *text = t_data("os_environ.json");
    llmsplit_config *cfg;
    setenv("LLMSPLIT_TEST_K1", "secret-1", 1);
    setenv("LLMSPLIT_TEST_EMPTY", "", 1);
    setenv("LLMSPLIT_TEST_BASE", "http://127.0.0.1:9/v1", 1);
    unsetenv("LLMSPLIT_TEST_UNSET");
    cfg = parse_cfg(text, NULL);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_STR(cfg->deployments[0].api_key, "secret-1");
        CHECK(cfg->deployments[0].api_version == NULL);
        CHECK(cfg->deployments[1].api_key == NULL);
        CHECK_STR(cfg->deployments[1].api_base, "http://127.0.0.1:9/v1");
        CHECK(cfg->deployments[2].api_key == NULL);
    }
    setenv("LLMSPLIT_TEST_K1", "changed", 1); /* read at load: later changes do not show */
    if (cfg) CHECK_STR(cfg->deployments[0].api_key, "secret-1");
    llmsplit_config_free(cfg);
    unsetenv("LLMSPLIT_TEST_K1");
    unsetenv("LLMSPLIT_TEST_EMPTY");
    unsetenv("LLMSPLIT_TEST_BASE");
}

static void config_defaults_when_router_settings_absent(void) {
    llmsplit_config *cfg = parse_cfg("{\"split\":{\"gpt-4\":1}}", NULL);
    CHECK(cfg != NULL);
    if (!cfg) return;
    CHECK_EQ_INT(cfg->sticky, 1);
    CHECK_EQ_DBL(cfg->mirror_sample_rate, 1.0);
    CHECK_EQ_INT(cfg->mirror_threads, 2);
    CHECK_EQ_INT(cfg->mirror_queue, 64);
    CHECK_EQ_INT(cfg->num_retries, 0);
    CHECK_EQ_DBL(cfg->timeout_s, 600.0);
    CHECK_EQ_INT(cfg->drain_ms, 10000);
    CHECK_EQ_INT(cfg->rollback.window, 0);
    CHECK_EQ_DBL(cfg->rollback.max_error_rate, 0.0);
    CHECK_EQ_DBL(cfg->rollback.max_p95_ms, 0.0);
    CHECK_EQ_DBL(cfg->rollback.cooldown_s, 60.0);
    llmsplit_config_free(cfg);
}

static void config_router_settings_are_read(void) {
    const char *text = t_data("router_settings.json");
    llmsplit_error err;
    llmsplit_config *cfg = parse_cfg(text, &err);
    CHECK(cfg != NULL);
    if (!cfg) { printf("  %s\n", err.message); return; }
    CHECK_EQ_INT(cfg->sticky, 0);
    CHECK_EQ_DBL(cfg->mirror_sample_rate, 0.25);
    CHECK_EQ_INT(cfg->mirror_threads, 8);
    CHECK_EQ_INT(cfg->mirror_queue, 1000);
    CHECK_EQ_INT(cfg->num_retries, 3);
    CHECK_EQ_DBL(cfg->timeout_s, 12.5);
    CHECK_EQ_INT(cfg->drain_ms, 0);
    CHECK_EQ_INT(cfg->rollback.window, 50);
    CHECK_EQ_DBL(cfg->rollback.max_p95_ms, 2500.0);
    CHECK_EQ_DBL(cfg->rollback.cooldown_s, 0.5);
    CHECK_EQ_DBL(cfg->rollback.max_error_rate, 0.0);
    llmsplit_config_free(cfg);
}

static void config_groups_keep_model_list_order(void) {
    const char *text = t_data("groups_in_model_list_order.json");
    llmsplit_config *cfg = parse_cfg(text, NULL);
    CHECK(cfg != NULL);
    if (!cfg) return;
    CHECK_EQ_INT(cfg->num_groups, 2);
    CHECK_STR(cfg->groups[0].name, "b");
    CHECK_EQ_INT(cfg->groups[0].count, 3);
    if (cfg->groups[0].count == 3) {
        CHECK_EQ_INT(cfg->groups[0].deployments[0], 0);
        CHECK_EQ_INT(cfg->groups[0].deployments[1], 2);
        CHECK_EQ_INT(cfg->groups[0].deployments[2], 4);
    }
    CHECK_EQ_INT(cfg->groups[1].count, 2);
    if (cfg->groups[1].count == 2) {
        CHECK_EQ_INT(cfg->groups[1].deployments[0], 1);
        CHECK_EQ_INT(cfg->groups[1].deployments[1], 3);
    }
    CHECK_NEAR(cfg->deployments[4].share, 1.0 / 3.0, 1e-12);
    CHECK_EQ_INT(cfg->groups[0].num_fallbacks, 1);
    if (cfg->groups[0].num_fallbacks == 1) CHECK_EQ_STR(cfg->groups[0].fallbacks[0], "a");
    CHECK(cfg->groups[1].fallbacks[0] == cfg->groups[0].name);
    llmsplit_config_free(cfg);
}

static void config_silent_model_may_be_a_group_or_a_model_string(void) {
    static const char *const ok_values[] = {"eval", "openai/gpt-4o", "gpt-4o-mini", "o1-preview", "o3-mini",
                                            "claude-3-5-sonnet", "huggingface/https://x.example/", "llama-local"};
    size_t i;
    for (i = 0; i < sizeof ok_values / sizeof ok_values[0]; i++) {
        char text[512];
        llmsplit_error err;
        llmsplit_config *cfg;
        snprintf(text, sizeof text,
                 "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"gpt-4\",\"silent_model\":\"%s\"}},"
                 "{\"model_name\":\"eval\",\"litellm_params\":{\"model\":\"llama-local\"}}]}",
                 ok_values[i]);
        cfg = parse_cfg(text, &err);
        if (!cfg) printf("  %s: %s\n", ok_values[i], err.message);
        CHECK(cfg != NULL);
        if (cfg) CHECK_STR(cfg->deployments[0].silent_model, ok_values[i]);
        llmsplit_config_free(cfg);
    }
}

static void config_null_counts_as_absent(void) {
    const char *text = t_data("nulls_as_absent.json");
    llmsplit_config *cfg = parse_cfg(text, NULL);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK(!cfg->deployments[0].has_weight);
        CHECK(cfg->deployments[0].silent_model == NULL);
        CHECK_EQ_INT(cfg->deployments[0].rpm, 0);
    }
    llmsplit_config_free(cfg);
}

static void config_load_reads_a_file(void) {
    char path[] = "/tmp/llmsplit-test-config-XXXXXX";
    int fd = mkstemp(path);
    llmsplit_error err;
    llmsplit_config *cfg;
    CHECK_GE_INT(fd, 0);
    if (fd < 0) return;
    CHECK_EQ_INT(write(fd, design_example, strlen(design_example)), (ssize_t)strlen(design_example));
    close(fd);
    llmsplit_config_load(path, NULL, &cfg, &err);
    CHECK(cfg != NULL);
    if (cfg) CHECK_EQ_INT(cfg->num_deployments, 3);
    llmsplit_config_free(cfg);
    unlink(path);
}

static void config_load_missing_file_is_a_config_error(void) {
    llmsplit_error err;
    llmsplit_config *cfg = NULL;
    CHECK_EQ_INT(llmsplit_config_load("/nonexistent/llmsplit.json", NULL, &cfg, &err), LLMSPLIT_ERR_CONFIG);
    CHECK(cfg == NULL);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_CONFIG);
    CHECK_STR(err.message, "cannot read /nonexistent/llmsplit.json: No such file or directory");
    CHECK_EQ_INT(llmsplit_config_load(NULL, NULL, &cfg, &err), LLMSPLIT_ERR_USAGE);
    CHECK(cfg == NULL);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(llmsplit_config_load("/nonexistent", NULL, NULL, &err), LLMSPLIT_ERR_USAGE); /* no out */
}

static void config_load_big_file_crosses_read_chunks(void) {
    /* 2000 deployments with padding: well over the 64 KiB first read */
    char path[] = "/tmp/llmsplit-test-config-XXXXXX";
    int fd = mkstemp(path), i;
    FILE *f;
    llmsplit_config *cfg;
    llmsplit_error err;
    CHECK_GE_INT(fd, 0);
    if (fd < 0) return;
    f = fdopen(fd, "w");
    fputs("{\"model_list\":[", f);
    for (i = 0; i < 2000; i++)
        fprintf(f, "%s{\"model_name\":\"g%d\",\"litellm_params\":{\"model\":\"openai/m%d\",\"note\":\"%064d\"}}", i ? "," : "", i % 7, i, i);
    fputs("]}", f);
    fclose(f);
    llmsplit_config_load(path, NULL, &cfg, &err);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_EQ_INT(cfg->num_deployments, 2000);
        CHECK_EQ_INT(cfg->num_groups, 7);
    } else {
        printf("  %s\n", err.message);
    }
    llmsplit_config_free(cfg);
    unlink(path);
}

/* --- config: memory ---------------------------------------------------------------------------- */

typedef struct counting {
    long allocs, frees, live, fail_at;
} counting;
static void *count_alloc(size_t n, void *ud) {
    counting *c = (counting *)ud;
    if (c->fail_at && c->allocs + 1 == c->fail_at) return NULL;
    c->allocs++;
    c->live++;
    return malloc(n);
}
static void count_free(void *p, void *ud) {
    counting *c = (counting *)ud;
    c->frees++;
    c->live--;
    free(p);
}

static void config_uses_the_given_allocator_for_everything(void) {
    counting c;
    llmsplit_allocator a;
    llmsplit_config *cfg;
    memset(&c, 0, sizeof c);
    a.alloc_fn = count_alloc;
    a.free_fn = count_free;
    a.user_data = &c;
    setenv("LLMSPLIT_TEST_KEY", "k", 1);
    llmsplit_config_parse(design_example, strlen(design_example), &a, &cfg, NULL);
    CHECK(cfg != NULL);
    CHECK_GT_INT(c.allocs, 0);
    CHECK_GT_INT(c.live, 0);
    llmsplit_config_free(cfg);
    CHECK_EQ_INT(c.live, 0);
    CHECK_EQ_INT(c.allocs, c.frees);
    unsetenv("LLMSPLIT_TEST_KEY");
}

static void config_out_of_memory_anywhere_fails_cleanly(void) {
    counting c;
    llmsplit_allocator a;
    llmsplit_error err;
    llmsplit_config *cfg = NULL;
    long n;
    int clean = 1, nomem = 1;
    a.alloc_fn = count_alloc;
    a.free_fn = count_free;
    a.user_data = &c;
    for (n = 1; n < 1000 && !cfg; n++) {
        memset(&c, 0, sizeof c);
        c.fail_at = n;
        if (llmsplit_config_parse(litellm_proxy_config, strlen(litellm_proxy_config), &a, &cfg, &err) != LLMSPLIT_OK) {
            if (c.live != 0) clean = 0;
            if (err.code != LLMSPLIT_ERR_NOMEM) nomem = 0;
        }
    }
    CHECK(cfg != NULL);
    CHECK_GT_INT(n, 3);
    CHECK(clean);
    CHECK(nomem);
    llmsplit_config_free(cfg);
    CHECK_EQ_INT(c.live, 0);
}

/* --- config: every error ------------------------------------------------------------------------ */

#define ML(params) "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":" params "}]}"
#define ML2(p0, p1) "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":" p0 "},{\"model_name\":\"chat\",\"litellm_params\":" p1 "}]}"
#define RS(settings) "{\"split\":{\"gpt-4\":1},\"model_list\":[{\"model_name\":\"eval\",\"litellm_params\":{\"model\":\"gpt-4o\"}}],\"router_settings\":" settings "}"

struct config_error_case {
    const char *name;
    const char *text;
    const char *message; /* the whole message, exactly */
};

static const struct config_error_case config_errors[] = {
    {"not_json", "{\"model_list\": [,]}", "json: 1:17: unexpected character"},
    {"top_level_not_object", "[]", "the top level must be an object (KEY: VALUE lines in YAML)"},
    {"nothing_to_route", "{\"litellm_settings\":{}}", "no model_list or split: nothing to route"},
    {"duplicate_top_level_key", "{\"split\":{\"a/b\":1},\"split\":{\"c/d\":1}}", "split: given twice"},
    {"model_list_not_array", "{\"model_list\":{}}", "model_list: must be an array"},
    {"model_list_empty", "{\"model_list\":[]}", "model_list: is empty"},
    {"entry_not_object", "{\"model_list\":[1]}", "model_list[0]: must be an object"},
    {"model_name_missing", "{\"model_list\":[{\"litellm_params\":{\"model\":\"gpt-4\"}}]}", "model_list[0].model_name: missing"},
    {"model_name_not_string", "{\"model_list\":[{\"model_name\":1,\"litellm_params\":{\"model\":\"gpt-4\"}}]}", "model_list[0].model_name: must be a string"},
    {"model_name_empty", "{\"model_list\":[{\"model_name\":\"\",\"litellm_params\":{\"model\":\"gpt-4\"}}]}", "model_list[0].model_name: must not be empty"},
    {"params_missing", "{\"model_list\":[{\"model_name\":\"chat\"}]}", "model_list[0].litellm_params: missing"},
    {"params_and_litellm_params", "{\"model_list\":[{\"model_name\":\"chat\",\"params\":{},\"litellm_params\":{}}]}", "model_list[0]: has both litellm_params and params"},
    {"params_not_object", ML("[]"), "model_list[0].litellm_params: must be an object"},
    {"model_missing", ML("{\"weight\":1}"), "model_list[0].litellm_params.model: missing"},
    {"model_not_string", ML("{\"model\":4}"), "model_list[0].litellm_params.model: must be a string"},
    {"model_empty", ML("{\"model\":\"\"}"), "model_list[0].litellm_params.model: must not be empty"},
    {"model_with_nul", ML("{\"model\":\"gpt\\u00004\"}"), "model_list[0].litellm_params.model: must not contain a NUL character"},
    {"weight_negative", ML2("{\"model\":\"gpt-4\",\"weight\":1}", "{\"model\":\"gpt-4o\",\"weight\":-0.5}"), "model_list[1].litellm_params.weight: must be >= 0"},
    {"weight_not_number", ML("{\"model\":\"gpt-4\",\"weight\":\"80%\"}"), "model_list[0].litellm_params.weight: must be a number"},
    {"weight_bool", ML("{\"model\":\"gpt-4\",\"weight\":true}"), "model_list[0].litellm_params.weight: must be a number"},
    {"weight_missing_when_others_have_one", ML2("{\"model\":\"gpt-4\",\"weight\":1}", "{\"model\":\"gpt-4o\"}"),
     "model_list[1].litellm_params.weight: missing (other deployments of group 'chat' have a weight)"},
    {"weights_all_zero", ML2("{\"model\":\"gpt-4\",\"weight\":0}", "{\"model\":\"gpt-4o\",\"weight\":0.0}"),
     "model_list[0].litellm_params.weight: every weight of group 'chat' is 0"},
    {"weights_overflow", ML2("{\"model\":\"gpt-4\",\"weight\":1e308}", "{\"model\":\"gpt-4o\",\"weight\":1.7e308}"),
     "model_list[0].litellm_params.weight: the weights of group 'chat' add up to infinity"},
    {"params_path_named_as_written", "{\"model_list\":[{\"model_name\":\"c\",\"params\":{\"model\":\"gpt-4\",\"weight\":-1}}]}",
     "model_list[0].params.weight: must be >= 0"},
    {"silent_model_unknown", ML("{\"model\":\"gpt-4\",\"silent_model\":\"evl\"}"),
     "model_list[0].litellm_params.silent_model: 'evl' is neither a model group of this config nor a model string (provider/name)"},
    {"silent_model_not_string", ML("{\"model\":\"gpt-4\",\"silent_model\":[\"eval\"]}"), "model_list[0].litellm_params.silent_model: must be a string"},
    {"silent_model_empty", ML("{\"model\":\"gpt-4\",\"silent_model\":\"\"}"), "model_list[0].litellm_params.silent_model: must not be empty"},
    {"api_key_not_string", ML("{\"model\":\"gpt-4\",\"api_key\":123}"), "model_list[0].litellm_params.api_key: must be a string"},
    {"api_key_env_without_name", ML("{\"model\":\"gpt-4\",\"api_key\":\"os.environ/\"}"), "model_list[0].litellm_params.api_key: os.environ/ needs a variable name"},
    {"api_base_not_url", ML("{\"model\":\"gpt-4\",\"api_base\":\"ftp://x\"}"),
     "model_list[0].litellm_params.api_base: url: must start with http:// or https:// ('ftp://x')"},
    {"api_version_not_string", ML("{\"model\":\"gpt-4\",\"api_version\":2024}"), "model_list[0].litellm_params.api_version: must be a string"},
    {"timeout_zero", ML("{\"model\":\"gpt-4\",\"timeout\":0}"), "model_list[0].litellm_params.timeout: must be > 0"},
    {"timeout_not_number", ML("{\"model\":\"gpt-4\",\"timeout\":\"30s\"}"), "model_list[0].litellm_params.timeout: must be a number"},
    {"rpm_negative", ML("{\"model\":\"gpt-4\",\"rpm\":-1}"), "model_list[0].litellm_params.rpm: must be >= 0"},
    {"tpm_fraction", ML("{\"model\":\"gpt-4\",\"tpm\":1.5}"), "model_list[0].litellm_params.tpm: must be an integer"},
    {"rpm_too_large", ML("{\"model\":\"gpt-4\",\"rpm\":1e10}"), "model_list[0].litellm_params.rpm: must be <= 2147483647"},
    {"input_cost_negative", ML("{\"model\":\"gpt-4\",\"input_cost_per_token\":-1e-6}"), "model_list[0].litellm_params.input_cost_per_token: must be >= 0"},
    {"output_cost_not_number", ML("{\"model\":\"gpt-4\",\"output_cost_per_token\":\"cheap\"}"), "model_list[0].litellm_params.output_cost_per_token: must be a number"},
    {"params_duplicate_key", ML("{\"model\":\"gpt-4\",\"weight\":1,\"weight\":2}"), "model_list[0].litellm_params.weight: given twice"},
    {"split_not_object", "{\"split\":[[\"gpt-4\",1]]}", "split: must be an object {\"model\": weight, ...}"},
    {"split_empty", "{\"split\":{}}", "split: is empty"},
    {"split_weight_negative", "{\"split\":{\"gpt-4\":0.8,\"ollama/llama2\":-0.2}}", "split[\"ollama/llama2\"]: must be >= 0"},
    {"split_weight_not_number", "{\"split\":{\"gpt-4\":\"0.8\"}}", "split[\"gpt-4\"]: must be a number"},
    {"split_model_empty", "{\"split\":{\"\":1}}", "split: a model string is empty"},
    {"split_all_zero", "{\"split\":{\"gpt-4\":0,\"gpt-4o\":0}}", "split[\"gpt-4\"]: every weight of group 'default' is 0"},
    {"split_duplicate_model", "{\"split\":{\"gpt-4\":1,\"gpt-4\":2}}", "split[\"gpt-4\"]: given twice"},
    {"split_and_model_list_group_default", "{\"split\":{\"gpt-4\":1},\"model_list\":[{\"model_name\":\"default\",\"litellm_params\":{\"model\":\"gpt-4o\"}}]}",
     "split: group 'default' is also defined in model_list"},
    {"router_settings_not_object", RS("[]"), "router_settings: must be an object"},
    {"router_settings_duplicate_key", RS("{\"timeout\":1,\"timeout\":2}"), "router_settings.timeout: given twice"},
    {"sticky_not_bool", RS("{\"sticky\":\"yes\"}"), "router_settings.sticky: must be true or false"},
    {"mirror_sample_rate_above_1", RS("{\"mirror_sample_rate\":1.5}"), "router_settings.mirror_sample_rate: must be <= 1"},
    {"mirror_sample_rate_negative", RS("{\"mirror_sample_rate\":-0.1}"), "router_settings.mirror_sample_rate: must be >= 0"},
    {"mirror_sample_rate_not_number", RS("{\"mirror_sample_rate\":\"10%\"}"), "router_settings.mirror_sample_rate: must be a number"},
    {"mirror_threads_zero", RS("{\"mirror_threads\":0}"), "router_settings.mirror_threads: must be >= 1"},
    {"mirror_threads_too_many", RS("{\"mirror_threads\":257}"), "router_settings.mirror_threads: must be <= 256"},
    {"mirror_queue_zero", RS("{\"mirror_queue\":0}"), "router_settings.mirror_queue: must be >= 1"},
    {"num_retries_negative", RS("{\"num_retries\":-1}"), "router_settings.num_retries: must be >= 0"},
    {"num_retries_fraction", RS("{\"num_retries\":2.5}"), "router_settings.num_retries: must be an integer"},
    {"num_retries_not_number", RS("{\"num_retries\":\"2\"}"), "router_settings.num_retries: must be an integer"},
    {"router_timeout_zero", RS("{\"timeout\":0}"), "router_settings.timeout: must be > 0"},
    {"drain_ms_negative", RS("{\"drain_ms\":-5}"), "router_settings.drain_ms: must be >= 0"},
    {"fallbacks_not_array", RS("{\"fallbacks\":{\"default\":[\"eval\"]}}"), "router_settings.fallbacks: must be an array of {\"group\": [\"group\", ...]} objects"},
    {"fallbacks_entry_not_object", RS("{\"fallbacks\":[\"eval\"]}"), "router_settings.fallbacks[0]: must be an object {\"group\": [\"group\", ...]}"},
    {"fallbacks_unknown_group", RS("{\"fallbacks\":[{\"chat\":[\"eval\"]}]}"), "router_settings.fallbacks[0]: 'chat' is not a model group"},
    {"fallbacks_list_not_array", RS("{\"fallbacks\":[{\"default\":\"eval\"}]}"), "router_settings.fallbacks[0].default: must be an array of group names"},
    {"fallbacks_item_not_string", RS("{\"fallbacks\":[{\"default\":[1]}]}"), "router_settings.fallbacks[0].default[0]: must be a string (a model group)"},
    {"fallbacks_item_unknown", RS("{\"fallbacks\":[{\"default\":[\"eval\",\"evil\"]}]}"), "router_settings.fallbacks[0].default[1]: 'evil' is not a model group"},
    {"fallbacks_to_itself", RS("{\"fallbacks\":[{\"default\":[\"default\"]}]}"), "router_settings.fallbacks[0].default[0]: a group cannot fall back to itself"},
    {"fallbacks_twice_for_a_group", RS("{\"fallbacks\":[{\"default\":[\"eval\"]},{\"default\":[\"eval\"]}]}"),
     "router_settings.fallbacks[1].default: fallbacks for this group are given twice"},
    {"rollback_not_object", RS("{\"rollback\":50}"), "router_settings.rollback: must be an object"},
    {"rollback_unknown_key", RS("{\"rollback\":{\"window\":5,\"max_error_rate\":0.5,\"cooldown\":60}}"),
     "router_settings.rollback.cooldown: unknown key (expected window, max_error_rate, max_p95_ms, cooldown_s, feedback, min_score)"},
    {"rollback_window_negative", RS("{\"rollback\":{\"window\":-1}}"), "router_settings.rollback.window: must be >= 0"},
    {"rollback_window_too_large", RS("{\"rollback\":{\"window\":10001,\"max_error_rate\":0.5}}"), "router_settings.rollback.window: must be <= 10000"},
    {"rollback_error_rate_above_1", RS("{\"rollback\":{\"window\":5,\"max_error_rate\":50}}"), "router_settings.rollback.max_error_rate: must be <= 1"},
    {"rollback_p95_negative", RS("{\"rollback\":{\"window\":5,\"max_p95_ms\":-1}}"), "router_settings.rollback.max_p95_ms: must be >= 0"},
    {"rollback_cooldown_zero", RS("{\"rollback\":{\"window\":5,\"max_error_rate\":0.5,\"cooldown_s\":0}}"), "router_settings.rollback.cooldown_s: must be > 0"},
    {"rollback_window_without_limit", RS("{\"rollback\":{\"window\":5}}"), "router_settings.rollback: a window needs a limit: max_error_rate, max_p95_ms or min_score"},
    {"rollback_limit_without_window", RS("{\"rollback\":{\"max_error_rate\":0.5}}"), "router_settings.rollback.window: must be >= 1 when a limit is set"},
    {"rollback_duplicate_key", RS("{\"rollback\":{\"window\":5,\"window\":6}}"), "router_settings.rollback.window: given twice"},
    /* durations over a day: milliseconds written as seconds, more likely than a wish */
    {"timeout_over_a_day", ML("{\"model\":\"gpt-4\",\"timeout\":600000}"), "model_list[0].litellm_params.timeout: must be <= 86400"},
    {"router_timeout_over_a_day", RS("{\"timeout\":86401}"), "router_settings.timeout: must be <= 86400"},
    {"drain_ms_over_a_day", RS("{\"drain_ms\":86400001}"), "router_settings.drain_ms: must be <= 86400000"},
    {"rollback_cooldown_over_a_day", RS("{\"rollback\":{\"window\":5,\"max_error_rate\":0.5,\"cooldown_s\":1e9}}"),
     "router_settings.rollback.cooldown_s: must be <= 86400"},
    {"rollback_p95_over_a_day", RS("{\"rollback\":{\"window\":5,\"max_p95_ms\":1e300}}"),
     "router_settings.rollback.max_p95_ms: must be <= 8.64e+07"},
    {"input_cost_over_a_dollar", ML("{\"model\":\"gpt-4\",\"input_cost_per_token\":1e300}"),
     "model_list[0].litellm_params.input_cost_per_token: must be <= 1"},
    {"model_list_entry_duplicate_key", "{\"model_list\":[{\"model_name\":\"a\",\"model_name\":\"b\",\"litellm_params\":{\"model\":\"gpt-4\"}}]}",
     "model_list[0].model_name: given twice"},
};

static void test_config_errors(void) {
    size_t i;
    for (i = 0; i < sizeof config_errors / sizeof config_errors[0]; i++) {
        const struct config_error_case *c = &config_errors[i];
        char name[128];
        llmsplit_error err;
        llmsplit_config *cfg;
        snprintf(name, sizeof name, "config_rejects_%s", c->name);
        if (!t_selected(name)) continue;
        t_begin();
        memset(&err, 0x55, sizeof err);
        cfg = parse_cfg(c->text, &err);
        CHECK(cfg == NULL);
        CHECK_EQ_INT(err.code, LLMSPLIT_ERR_CONFIG);
        CHECK_EQ_STR(err.message, c->message);
        llmsplit_config_free(cfg);
        t_end(name);
    }
}

static void config_rejects_too_many_params_keys(void) {
    char *text = (char *)malloc(20000), *p;
    int i;
    llmsplit_error err;
    p = text + sprintf(text, "{\"model_list\":[{\"model_name\":\"m\",\"litellm_params\":{\"model\":\"gpt-4\"");
    for (i = 0; i < LLMSPLIT_CONFIG_MAX_KEYS; i++) p += sprintf(p, ",\"k%d\":1", i);
    strcpy(p, "}}]}");
    CHECK(parse_cfg(text, &err) == NULL);
    CHECK_STR(err.message, "model_list[0].litellm_params: more than 256 keys");
    free(text);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds the fastest of three parses of text took: as a config when as_config, else as plain
   JSON (the baseline: reading a text can never be cheaper than parsing it). */
static double parse_seconds(const char *text, size_t len, int as_config, llmsplit_error *err) {
    double best = 1e9;
    int i;
    for (i = 0; i < 3; i++) {
        double t0 = now_s(), dt;
        if (as_config) {
            llmsplit_config *cfg = NULL;
            llmsplit_config_parse(text, len, NULL, &cfg, err);
            llmsplit_config_free(cfg);
        } else {
            llmsplit_json_doc *doc = NULL;
            llmsplit_json_parse(text, len, NULL, &doc, NULL);
            llmsplit_json_free(doc);
        }
        dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    return best;
}

/* 160,000 keys (1.8 MB) in an object the config reads took 17 s: a quadratic search for repeated
   keys, and no cap on keys but in litellm_params. Now every interpreted object has the cap, and
   a config is refused in a small multiple of the time its JSON takes to parse. */
static void config_refuses_160k_keys_in_about_the_time_of_a_json_parse(void) {
    static const char *const wrappers[][2] = {{"{", "}"}, {"{\"split\":{\"gpt-4\":1},\"router_settings\":{", "}}"}};
    static const char *const messages[] = {"the top level has more than 256 keys", "router_settings: more than 256 keys"};
    size_t w;
    for (w = 0; w < 2; w++) {
        size_t cap = 160000 * 16 + 100, len;
        char *text = (char *)malloc(cap), *p = text;
        llmsplit_error err;
        double json_s, config_s;
        int i;
        p += sprintf(p, "%s", wrappers[w][0]);
        for (i = 0; i < 160000; i++) p += sprintf(p, "%s\"key%06d\":1", i ? "," : "", i);
        p += sprintf(p, "%s", wrappers[w][1]);
        len = (size_t)(p - text);
        json_s = parse_seconds(text, len, 0, NULL);
        config_s = parse_seconds(text, len, 1, &err);
        CHECK_EQ_INT(err.code, LLMSPLIT_ERR_CONFIG);
        CHECK_STR(err.message, messages[w]);
        if (config_s > 20 * json_s) printf("  config %.4f s, json %.4f s\n", config_s, json_s);
        CHECK(config_s <= 20 * json_s);
        free(text);
    }
}

/* The split object may have LLMSPLIT_CONFIG_MAX_DEPLOYMENTS keys: its repeats are found by
   sorting (a search of every pair took 8 million comparisons when the repeat came last), and the
   one reported is the first in the text that comes again. */
static void config_finds_a_repeat_among_4096_arms_in_about_the_time_of_a_json_parse(void) {
    size_t cap = (size_t)LLMSPLIT_CONFIG_MAX_DEPLOYMENTS * 24 + 64, len;
    char *text = (char *)malloc(cap), *p = text;
    llmsplit_error err;
    double json_s, config_s;
    int i;
    p += sprintf(p, "{\"split\":{");
    for (i = 0; i < LLMSPLIT_CONFIG_MAX_DEPLOYMENTS - 4; i++) p += sprintf(p, "%s\"m/%d\":1", i ? "," : "", i);
    p += sprintf(p, ",\"m/y\":1,\"m/x\":1,\"m/x\":1,\"m/y\":1}}"); /* m/y comes first */
    len = (size_t)(p - text);
    json_s = parse_seconds(text, len, 0, NULL);
    config_s = parse_seconds(text, len, 1, &err);
    CHECK_STR(err.message, "split[\"m/y\"]: given twice");
    if (config_s > 20 * json_s) printf("  config %.4f s, json %.4f s\n", config_s, json_s);
    CHECK(config_s <= 20 * json_s);
    free(text);
}

static void config_rejects_too_many_deployments(void) {
    size_t cap = (size_t)(LLMSPLIT_CONFIG_MAX_DEPLOYMENTS + 1) * 24 + 64;
    char *text = (char *)malloc(cap), *p;
    int i;
    llmsplit_error err;
    p = text + sprintf(text, "{\"split\":{");
    for (i = 0; i <= LLMSPLIT_CONFIG_MAX_DEPLOYMENTS; i++) p += sprintf(p, "%s\"m/%d\":1", i ? "," : "", i);
    strcpy(p, "}}");
    CHECK(parse_cfg(text, &err) == NULL);
    CHECK_STR(err.message, "split: more than 4096 deployments");
    free(text);
}

static void config_error_names_no_secret(void) {
    /* A bad key value is reported by its path, never by its text. */
    llmsplit_error err;
    CHECK(parse_cfg(ML("{\"model\":\"gpt-4\",\"api_key\":\"sk-secret-\\u0000\"}"), &err) == NULL);
    CHECK_NOT_CONTAINS(err.message, "sk-secret");
    CHECK_CONTAINS(err.message, "api_key");
}

static void config_null_text_is_a_usage_error(void) {
    llmsplit_error err;
    llmsplit_config *cfg = NULL;
    CHECK_EQ_INT(llmsplit_config_parse(NULL, 0, NULL, &cfg, &err), LLMSPLIT_ERR_USAGE);
    CHECK(cfg == NULL);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(llmsplit_config_parse("{}", 2, NULL, &cfg, NULL), LLMSPLIT_ERR_CONFIG); /* err may be NULL */
    CHECK(cfg == NULL);
    llmsplit_config_free(NULL);
    CHECK(llmsplit_config_group(NULL, "x") == NULL);
}

/* --- health window ---------------------------------------------------------------------------- */

static llmsplit_rollback_settings rb(int window, double rate, double p95, double cooldown_s) {
    llmsplit_rollback_settings s;
    memset(&s, 0, sizeof s); /* zero is "off" for every setting not named here (feedback too) */
    s.window = window;
    s.max_error_rate = rate;
    s.max_p95_ms = p95;
    s.cooldown_s = cooldown_s;
    return s;
}

static void health_waits_for_a_full_window(void) {
    llmsplit_rollback_settings s = rb(10, 0.5, 0, 60);
    llmsplit_health h;
    int i, tripped = 0;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    for (i = 0; i < 9; i++) tripped |= llmsplit_health_record(&h, 0, 10, 1000 + i);
    CHECK(!tripped); /* 9 of 9 failed, but the window is not full */
    CHECK(llmsplit_health_available(&h, 1009));
    CHECK_EQ_INT(llmsplit_health_record(&h, 0, 10, 1010), 1);
    CHECK(!llmsplit_health_available(&h, 1010));
    llmsplit_health_free(&h);
}

static void health_feedback_trips_below_the_mean_of_a_full_window_and_ignores_it_while_out(void) {
    llmsplit_rollback_settings s = rb(0, 0, 0, 60);
    llmsplit_health h;
    int i, tripped = 0;
    double zero = 0.0;
    snprintf(s.feedback_metric, sizeof s.feedback_metric, "thumbs_up");
    s.feedback_min_mean = 0.5;
    s.feedback_min_count = 4;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    for (i = 0; i < 3; i++) tripped |= llmsplit_health_feedback(&h, 0, 1000 + i);
    CHECK(!tripped); /* 3 zeros, but the window is not full */
    CHECK_EQ_INT(llmsplit_health_feedback(&h, zero / zero, 1003), 0); /* not a number: ignored */
    CHECK_EQ_INT(h.feedback_count, 3);
    CHECK_EQ_INT(llmsplit_health_feedback(&h, 2, 1004), 0); /* 0,0,0,2: mean exactly 0.5, not below */
    CHECK_EQ_INT(llmsplit_health_feedback(&h, 0.1, 1005), 0); /* 0,0,2,0.1: the oldest left, mean 0.525 */
    CHECK_EQ_INT(llmsplit_health_feedback(&h, 0, 1006), 0);
    CHECK_EQ_INT(llmsplit_health_feedback(&h, 0, 1007), 0);
    CHECK_EQ_INT(llmsplit_health_feedback(&h, 0, 1008), 1); /* 0.1,0,0,0: mean 0.025 */
    CHECK_EQ_INT(h.last_reason, LLMSPLIT_ROLLBACK_FEEDBACK);
    CHECK_NEAR(h.last_feedback_mean, 0.025, 1e-12);
    CHECK(!llmsplit_health_available(&h, 1009));
    CHECK_EQ_INT(llmsplit_health_feedback(&h, 0, 1010), 0); /* out: about calls before the trip */
    CHECK_EQ_INT(h.feedback_count, 0);
    CHECK(llmsplit_health_available(&h, 61008));
    CHECK_EQ_INT(llmsplit_health_feedback(&h, 0, 61008), 0); /* back: a fresh window */
    CHECK_EQ_INT(h.feedback_count, 1);
    CHECK_EQ_INT(h.trips, 1);
    llmsplit_health_free(&h);
}

static void health_score_trips_below_min_score_over_the_window_and_starts_fresh(void) {
    llmsplit_rollback_settings s = rb(4, 0, 0, 60);
    llmsplit_health h;
    int i, tripped = 0;
    double zero = 0.0;
    s.min_score = 5;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    CHECK(h.scores != NULL);
    for (i = 0; i < 3; i++) tripped |= llmsplit_health_score(&h, 1, 1000 + i);
    CHECK(!tripped); /* three 1s, but the window is not full */
    CHECK_EQ_INT(llmsplit_health_score(&h, zero / zero, 1003), 0); /* not a number: ignored */
    CHECK_EQ_INT(h.score_count, 3);
    CHECK_EQ_INT(llmsplit_health_score(&h, 17, 1004), 0); /* 1,1,1,17: mean exactly 5, not below */
    for (i = 0; i < 3; i++) tripped |= llmsplit_health_score(&h, 1, 1005 + i); /* 17 still in: mean 5 */
    CHECK(!tripped);
    CHECK_EQ_INT(llmsplit_health_score(&h, 1, 1008), 1); /* 17 left: 1,1,1,1 */
    CHECK_EQ_INT(h.last_reason, LLMSPLIT_ROLLBACK_SCORE);
    CHECK_NEAR(h.last_score_mean, 1, 1e-12);
    CHECK(!llmsplit_health_available(&h, 1009));
    CHECK_EQ_INT(llmsplit_health_score(&h, 1, 1010), 0); /* out: about calls before the trip */
    CHECK_EQ_INT(h.score_count, 0);
    CHECK_EQ_INT(llmsplit_health_record(&h, 0, 10, 1011), 0); /* no limit on the results window */
    CHECK_EQ_INT(llmsplit_health_score(&h, 1, 61008), 0); /* back: a fresh window */
    CHECK_EQ_INT(h.score_count, 1);
    CHECK_EQ_INT(h.trips, 1);
    llmsplit_health_free(&h);
    s.min_score = 0; /* off: no ring, nothing trips */
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    CHECK(h.scores == NULL);
    for (i = 0; i < 10; i++) CHECK_EQ_INT(llmsplit_health_score(&h, 1, 1000 + i), 0);
    llmsplit_health_free(&h);
}

static void health_trips_only_above_the_error_rate(void) {
    llmsplit_rollback_settings s = rb(10, 0.5, 0, 60);
    llmsplit_health h;
    int i, tripped = 0;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    for (i = 0; i < 10; i++) tripped |= llmsplit_health_record(&h, i % 2 == 0, 10, i); /* exactly 50%: not above */
    CHECK(!tripped);
    CHECK_EQ_INT(llmsplit_health_record(&h, 0, 10, 10), 1); /* the oldest (a success) leaves: 6 of 10 fail */
    CHECK_EQ_INT(h.last_reason, LLMSPLIT_ROLLBACK_ERROR_RATE);
    CHECK_NEAR(h.last_error_rate, 0.6, 1e-12);
    CHECK_EQ_INT(h.trips, 1);
    llmsplit_health_free(&h);
}

static void health_window_slides_and_forgets_old_failures(void) {
    llmsplit_rollback_settings s = rb(4, 0.5, 0, 60);
    llmsplit_health h;
    int i, tripped = 0;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    tripped |= llmsplit_health_record(&h, 0, 1, 0);
    tripped |= llmsplit_health_record(&h, 0, 1, 1);
    for (i = 0; i < 100; i++) tripped |= llmsplit_health_record(&h, 1, 1, 2 + i);
    CHECK(!tripped);
    CHECK_EQ_INT(h.errors, 0);
    CHECK_EQ_INT(h.count, 4);
    for (i = 0; i < 2; i++) tripped |= llmsplit_health_record(&h, 0, 1, 200 + i);
    CHECK(!tripped); /* 2 of 4: at the limit */
    CHECK_EQ_INT(h.errors, 2);
    CHECK_EQ_INT(llmsplit_health_record(&h, 0, 1, 300), 1);
    llmsplit_health_free(&h);
}

static void health_p95_is_nearest_rank(void) {
    /* 20 latencies 1..20 ms: ceil(0.95 * 20) = 19th smallest = 19. */
    llmsplit_rollback_settings at = rb(20, 0, 19, 60), below = rb(20, 0, 18.5, 60);
    llmsplit_health h1, h2;
    int i, t1 = 0, t2 = 0;
    CHECK((llmsplit_health_init(&h1, &at, NULL, NULL) == LLMSPLIT_OK));
    CHECK((llmsplit_health_init(&h2, &below, NULL, NULL) == LLMSPLIT_OK));
    for (i = 20; i >= 1; i--) {
        t1 |= llmsplit_health_record(&h1, 1, i, 0);
        t2 |= llmsplit_health_record(&h2, 1, i, 0);
    }
    CHECK(!t1);
    CHECK(t2);
    CHECK_EQ_INT(h2.last_reason, LLMSPLIT_ROLLBACK_LATENCY);
    CHECK_EQ_DBL(h2.last_p95_ms, 19.0);
    llmsplit_health_free(&h1);
    llmsplit_health_free(&h2);
}

static void health_p95_of_50_is_the_48th(void) {
    llmsplit_rollback_settings s = rb(50, 0, 100, 60);
    llmsplit_health h;
    int i, tripped = 0;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    /* 47 fast, 3 slow: the 48th smallest is slow, so p95 is slow (2 slow would not be) */
    for (i = 0; i < 47; i++) tripped |= llmsplit_health_record(&h, 1, 10, i);
    for (i = 0; i < 2; i++) tripped |= llmsplit_health_record(&h, 1, 5000, 50 + i);
    CHECK(!tripped);
    CHECK_EQ_INT(llmsplit_health_record(&h, 1, 10, 60), 0); /* full: 48th smallest is 10 */
    CHECK_EQ_INT(llmsplit_health_record(&h, 1, 5000, 61), 1);
    CHECK_EQ_DBL(h.last_p95_ms, 5000.0);
    llmsplit_health_free(&h);
}

static void health_failed_results_count_in_the_latency(void) {
    llmsplit_rollback_settings s = rb(5, 0, 1000, 60);
    llmsplit_health h;
    int i, tripped = 0;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    for (i = 0; i < 5; i++) tripped |= llmsplit_health_record(&h, 0, 30000, i); /* timeouts */
    CHECK(tripped);
    CHECK_EQ_INT(h.last_reason, LLMSPLIT_ROLLBACK_LATENCY);
    llmsplit_health_free(&h);
}

static void health_both_limits_report_both_reasons(void) {
    llmsplit_rollback_settings s = rb(3, 0.5, 100, 60);
    llmsplit_health h;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    llmsplit_health_record(&h, 0, 500, 0);
    llmsplit_health_record(&h, 0, 500, 1);
    CHECK_EQ_INT(llmsplit_health_record(&h, 0, 500, 2), 1);
    CHECK_EQ_INT(h.last_reason, (LLMSPLIT_ROLLBACK_ERROR_RATE | LLMSPLIT_ROLLBACK_LATENCY));
    CHECK_EQ_DBL(h.last_error_rate, 1.0);
    CHECK_EQ_DBL(h.last_p95_ms, 500.0);
    llmsplit_health_free(&h);
}

static void health_cooldown_then_back_with_a_fresh_window(void) {
    llmsplit_rollback_settings s = rb(4, 0.5, 0, 2.5);
    llmsplit_health h;
    int i;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    for (i = 0; i < 3; i++) llmsplit_health_record(&h, 0, 1, 10000);
    CHECK_EQ_INT(llmsplit_health_record(&h, 0, 1, 10000), 1);
    CHECK_EQ_INT(h.count, 0);
    CHECK_EQ_INT(h.errors, 0);
    CHECK(!llmsplit_health_available(&h, 10000));
    CHECK(!llmsplit_health_available(&h, 12499));
    CHECK(llmsplit_health_available(&h, 12500));
    /* results of requests sent before the trip arrive during the cooldown: ignored */
    for (i = 0; i < 10; i++) CHECK_EQ_INT(llmsplit_health_record(&h, 0, 1, 11000 + i), 0);
    CHECK_EQ_INT(h.count, 0);
    /* back: three failures in a fresh window of four do not trip yet */
    for (i = 0; i < 3; i++) CHECK_EQ_INT(llmsplit_health_record(&h, 0, 1, 13000 + i), 0);
    CHECK_EQ_INT(h.count, 3);
    CHECK(llmsplit_health_available(&h, 13003));
    CHECK_EQ_INT(llmsplit_health_record(&h, 0, 1, 13004), 1);
    CHECK_EQ_INT(h.trips, 2);
    llmsplit_health_free(&h);
}

static void health_window_0_is_off(void) {
    llmsplit_rollback_settings s = rb(0, 0.1, 1, 60);
    llmsplit_health h;
    int i, tripped = 0;
    CHECK((llmsplit_health_init(&h, &s, NULL, NULL) == LLMSPLIT_OK));
    CHECK(h.latency_ms == NULL);
    for (i = 0; i < 1000; i++) tripped |= llmsplit_health_record(&h, 0, 1e9, i);
    CHECK(!tripped);
    CHECK(llmsplit_health_available(&h, 1000));
    llmsplit_health_free(&h);
    CHECK(llmsplit_health_available(NULL, 0));
}

static void health_init_rejects_invalid_settings(void) {
    llmsplit_health h;
    llmsplit_rollback_settings bad[4];
    int i;
    bad[0] = rb(-1, 0.5, 0, 1);
    bad[1] = rb(LLMSPLIT_ROLLBACK_MAX_WINDOW + 1, 0.5, 0, 1);
    bad[2] = rb(5, -0.5, 0, 1);
    bad[3] = rb(5, 0.5, strtod("nan", NULL), 1);
    for (i = 0; i < 4; i++) {
        CHECK_EQ_INT((llmsplit_health_init(&h, &bad[i], NULL, NULL) == LLMSPLIT_OK), 0);
        llmsplit_health_free(&h); /* safe after a failed init */
    }
    CHECK_EQ_INT((llmsplit_health_init(&h, NULL, NULL, NULL) == LLMSPLIT_OK), 0);
    CHECK_EQ_INT((llmsplit_health_init(NULL, &bad[0], NULL, NULL) == LLMSPLIT_OK), 0);
}

static void health_uses_the_given_allocator(void) {
    counting c;
    llmsplit_allocator a;
    llmsplit_rollback_settings s = rb(100, 0.5, 0, 1);
    llmsplit_health h;
    memset(&c, 0, sizeof c);
    a.alloc_fn = count_alloc;
    a.free_fn = count_free;
    a.user_data = &c;
    CHECK((llmsplit_health_init(&h, &s, &a, NULL) == LLMSPLIT_OK));
    CHECK_EQ_INT(c.live, 1);
    llmsplit_health_free(&h);
    CHECK_EQ_INT(c.live, 0);
    c.fail_at = c.allocs + 1;
    CHECK_EQ_INT((llmsplit_health_init(&h, &s, &a, NULL) == LLMSPLIT_OK), 0);
    llmsplit_health_free(&h);
    CHECK_EQ_INT(c.live, 0);
}

/* --- a real nginx ---------------------------------------------------------------------------------- */

static const char *find_nginx(void) {
    static char found[512];
    static const char *const fixed[] = {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"};
    const char *path = getenv("PATH");
    size_t i;
    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (access(fixed[i], X_OK) == 0) return fixed[i];
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t n = end ? (size_t)(end - path) : strlen(path);
        if (n > 0 && n < sizeof found - 8) {
            memcpy(found, path, n);
            strcpy(found + n, "/nginx");
            if (access(found, X_OK) == 0) return found;
        }
        path = end ? end + 1 : NULL;
    }
    return NULL;
}

static int free_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

static int port_answers(int port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

/* The tables nginx and llmsplit both get: nginx percentages and the same numbers as weights. */
static const struct nginx_table {
    const char *name, *block;
    double weights[4];
    int n;
} nginx_tables[] = {
    {"51_2_10_rest", "51.2% a; 10% b; * c;", {51.2, 10, 38.8, 0}, 3},
    {"80_rest", "80% a; * b;", {80, 20, 0, 0}, 2},
    {"0_01_33_33_33_33_rest", "0.01% a; 33.33% b; 33.33% c; * d;", {0.01, 33.33, 33.33, 33.33}, 4},
};
#define NGINX_TABLES 3
#define NGINX_KEYS 1000

static pid_t nginx_pid = -1;
static int nginx_port;
static char nginx_dir[64];
static char nginx_skip[256];

static void nginx_stop(void) {
    char cmd[128];
    if (nginx_pid > 0) {
        kill(nginx_pid, SIGTERM);
        waitpid(nginx_pid, NULL, 0);
        nginx_pid = -1;
    }
    if (nginx_dir[0]) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", nginx_dir);
        if (system(cmd) != 0) printf("  could not remove %s\n", nginx_dir);
        nginx_dir[0] = 0;
    }
}

/* Starts nginx on a free loopback port; on failure leaves the reason in nginx_skip. */
static int nginx_start(void) {
    const char *bin = find_nginx();
    char conf[160], log[160], errlog[160];
    int attempt, t;
    if (!bin) {
        snprintf(nginx_skip, sizeof nginx_skip, "nginx not installed (apt-get install nginx-light)");
        return 0;
    }
    strcpy(nginx_dir, "/tmp/llmsplit-nginx-XXXXXX");
    if (!mkdtemp(nginx_dir)) {
        nginx_dir[0] = 0;
        snprintf(nginx_skip, sizeof nginx_skip, "mkdtemp failed");
        return 0;
    }
    snprintf(conf, sizeof conf, "%s/nginx.conf", nginx_dir);
    snprintf(log, sizeof log, "%s/stderr.log", nginx_dir);
    snprintf(errlog, sizeof errlog, "%s/error.log", nginx_dir);
    for (attempt = 0; attempt < 5; attempt++) {
        FILE *f = fopen(conf, "w");
        int i;
        if (!f) break;
        nginx_port = free_port();
        fprintf(f,
                "daemon off;\nmaster_process off;\nworker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log;\n"
                "events { worker_connections 64; }\nhttp {\n  access_log off;\n"
                "  client_body_temp_path %s/body;\n  proxy_temp_path %s/proxy;\n  fastcgi_temp_path %s/fastcgi;\n"
                "  uwsgi_temp_path %s/uwsgi;\n  scgi_temp_path %s/scgi;\n",
                nginx_dir, nginx_dir, nginx_dir, nginx_dir, nginx_dir, nginx_dir, nginx_dir);
        for (i = 0; i < NGINX_TABLES; i++)
            fprintf(f, "  split_clients \"$arg_key\" $variant%d { %s }\n", i, nginx_tables[i].block);
        fprintf(f, "  server {\n    listen 127.0.0.1:%d;\n", nginx_port);
        for (i = 0; i < NGINX_TABLES; i++) fprintf(f, "    location = /t%d { return 200 $variant%d; }\n", i, i);
        fprintf(f, "  }\n}\n");
        fclose(f);
        fflush(stdout);
        nginx_pid = fork();
        if (nginx_pid == 0) {
            int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
            execl(bin, "nginx", "-p", nginx_dir, "-c", conf, (char *)NULL);
            _exit(127);
        }
        if (nginx_pid < 0) break;
        for (t = 0; t < 250; t++) { /* up to 5 s */
            int status;
            if (waitpid(nginx_pid, &status, WNOHANG) == nginx_pid) {
                nginx_pid = -1;
                break;
            }
            if (port_answers(nginx_port)) return 1;
            {
                struct timespec ts = {0, 20000000};
                nanosleep(&ts, NULL);
            }
        }
        if (nginx_pid > 0) { /* alive but silent: give up on this one */
            kill(nginx_pid, SIGKILL);
            waitpid(nginx_pid, NULL, 0);
            nginx_pid = -1;
        }
        /* a port taken between our probe and nginx's bind is worth another try; nothing else is */
        {
            char text[4096] = "";
            FILE *lf = fopen(errlog, "r");
            if (!lf) lf = fopen(log, "r");
            if (lf) {
                size_t got = fread(text, 1, sizeof text - 1, lf);
                text[got] = 0;
                fclose(lf);
            }
            if (!strstr(text, "Address already in use")) {
                char *nl = strrchr(text, '\n');
                if (nl && nl == text + strlen(text) - 1) *nl = 0;
                snprintf(nginx_skip, sizeof nginx_skip, "nginx did not start: %.200s", text[0] ? text : "no output");
                return 0;
            }
        }
    }
    snprintf(nginx_skip, sizeof nginx_skip, "nginx did not start after 5 attempts");
    return 0;
}

static void nginx_agrees(int table) {
    const struct nginx_table *nt = &nginx_tables[table];
    llmsplit_http_desc d;
    llmsplit_http *http;
    llmsplit_rng r;
    int i, agree = 0, asked = 0;
    if (nginx_pid <= 0) SKIP(nginx_skip);
    memset(&d, 0, sizeof d);
    d.proxy = "";
    d.timeout_ms = 5000;
    llmsplit_http_create(&d, &http, NULL);
    CHECK(http != NULL);
    if (!http) return;
    llmsplit_rng_seed(&r, 2024 + (uint64_t)table);
    for (i = 0; i < NGINX_KEYS; i++) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";
        char key[32], url[128];
        llmsplit_http_request rq;
        llmsplit_http_response resp;
        llmsplit_error err;
        int len = 1 + (int)(llmsplit_rng_next(&r) * 24), j, ours;
        for (j = 0; j < len; j++) key[j] = alphabet[(int)(llmsplit_rng_next(&r) * (sizeof alphabet - 1))];
        key[len] = 0;
        snprintf(url, sizeof url, "http://127.0.0.1:%d/t%d?key=%s", nginx_port, table, key);
        memset(&rq, 0, sizeof rq);
        memset(&resp, 0, sizeof resp);
        rq.url = url;
        ours = arm_sticky(nt->weights, nt->n, key, (size_t)len);
        if (llmsplit_http_send(http, &rq, &resp, &err) == LLMSPLIT_OK && resp.status == 200 && resp.body.len == 1) {
            asked++;
            if (ours >= 0 && resp.body.data[0] == 'a' + ours) agree++;
            else if (agree + 5 > asked) printf("  key %s: nginx %c, llmsplit %c\n", key, resp.body.data[0], 'a' + ours);
        } else if (asked == i) {
            printf("  request failed: %s (status %d)\n", err.message, resp.status);
        }
        llmsplit_http_response_free(&resp);
    }
    llmsplit_http_destroy(http);
    printf("  %d of %d keys agree with nginx\n", agree, asked);
    CHECK_EQ_INT(asked, NGINX_KEYS);
    CHECK_EQ_INT(agree, asked);
}

static void split_agrees_with_nginx_51_2_10_rest(void) { nginx_agrees(0); }
static void split_agrees_with_nginx_80_rest(void) { nginx_agrees(1); }
static void split_agrees_with_nginx_0_01_33_33_33_33_rest(void) { nginx_agrees(2); }

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(split_murmur2_known_vectors);
    RUN(split_murmur2_reads_every_tail_length);
    RUN(split_sticky_nginx_vector_keys_1_to_20_fall_12_2_6);
    RUN(split_sticky_bounds_are_exact_at_hash_edges);
    RUN(split_sticky_shares_round_to_hundredths_of_a_percent);
    RUN(split_sticky_80_and_0_8_weights_mean_the_same);
    RUN(split_zero_weight_arms_never_win);
    RUN(split_empty_key_is_not_a_key);
    RUN(split_pick_rejects_invalid_weights);
    RUN(split_random_pick_slices_are_exact);
    RUN(split_fit_sticky_80_20);
    RUN(split_fit_sticky_50_50);
    RUN(split_fit_sticky_99_99_0_01);
    RUN(split_fit_sticky_33_33_34);
    RUN(split_fit_random_80_20);
    RUN(split_fit_random_50_50);
    RUN(split_fit_random_99_99_0_01);
    RUN(split_fit_random_33_33_34);
    RUN(split_random_80_20_over_10000_calls_lands_within_two_points);
    RUN(split_sticky_same_key_same_arm_across_calls_and_configs);
    RUN(split_sticky_fingerprint_is_stable_across_runs);
    RUN(split_sticky_same_in_another_process);
    RUN(split_rng_same_seed_same_sequence);
    RUN(split_rng_seed_zero_is_unpredictable);
    RUN(split_rng_draws_are_in_0_1);
    RUN(split_rng_is_thread_safe);
    RUN(split_pick_out_arm_moves_only_its_users_in_proportion);
    RUN(split_pick_random_skips_out_arms);
    RUN(split_pick_all_out_serves_the_configured_split);
    RUN(split_sample_is_sticky_and_independent_of_the_arm);
    RUN(split_sample_rate_edges);

    design_example = t_data("design_example.json");
    litellm_proxy_config = t_data("litellm_proxy_config.json");
    RUN(config_loads_the_design_example);
    RUN(config_litellm_proxy_config_loads_unchanged);
    RUN(config_split_shorthand_makes_group_default);
    RUN(config_split_sits_beside_a_model_list);
    RUN(config_params_is_accepted_for_litellm_params);
    RUN(config_extra_params_carry_request_parameters_only);
    RUN(config_os_environ_is_read_at_load);
    RUN(config_defaults_when_router_settings_absent);
    RUN(config_router_settings_are_read);
    RUN(config_groups_keep_model_list_order);
    RUN(config_silent_model_may_be_a_group_or_a_model_string);
    RUN(config_null_counts_as_absent);
    RUN(config_load_reads_a_file);
    RUN(config_load_missing_file_is_a_config_error);
    RUN(config_load_big_file_crosses_read_chunks);
    RUN(config_uses_the_given_allocator_for_everything);
    RUN(config_out_of_memory_anywhere_fails_cleanly);
    test_config_errors();
    RUN(config_rejects_too_many_params_keys);
    RUN(config_rejects_too_many_deployments);
    RUN(config_refuses_160k_keys_in_about_the_time_of_a_json_parse);
    RUN(config_finds_a_repeat_among_4096_arms_in_about_the_time_of_a_json_parse);
    RUN(config_error_names_no_secret);
    RUN(config_null_text_is_a_usage_error);

    RUN(health_waits_for_a_full_window);
    RUN(health_feedback_trips_below_the_mean_of_a_full_window_and_ignores_it_while_out);
    RUN(health_score_trips_below_min_score_over_the_window_and_starts_fresh);
    RUN(health_trips_only_above_the_error_rate);
    RUN(health_window_slides_and_forgets_old_failures);
    RUN(health_p95_is_nearest_rank);
    RUN(health_p95_of_50_is_the_48th);
    RUN(health_failed_results_count_in_the_latency);
    RUN(health_both_limits_report_both_reasons);
    RUN(health_cooldown_then_back_with_a_fresh_window);
    RUN(health_window_0_is_off);
    RUN(health_init_rejects_invalid_settings);
    RUN(health_uses_the_given_allocator);

    if (!nginx_start()) nginx_stop();
    RUN(split_agrees_with_nginx_51_2_10_rest);
    RUN(split_agrees_with_nginx_80_rest);
    RUN(split_agrees_with_nginx_0_01_33_33_33_33_rest);
    nginx_stop();
    return t_summary();
}
