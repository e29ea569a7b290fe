/* Picks per second: llmsplit_pick against the least a program could do for the same pick.

   usage: pick_bench [MILLIONS_OF_RANDOM_PICKS]

   random  llmsplit_pick with an llmsplit_rng (thread-safe SplitMix64: one atomic add per draw;
           the weights are validated and summed on every call, as the client passes them fresh)
           against a plain xorshift64 and a linear scan over weights summed once.
   sticky  llmsplit_pick with a user key, over 10^6 distinct keys ("user-0000000", ...), against
           nginx's split_clients done inline: ngx_murmur_hash2 and a table of bounds built once
           (as nginx builds it when reading its config). Every key must land in the same arm
           both ways, which is also the check that llmsplit is nginx-compatible.
   Weights 0.8/0.2. CPU time, rounds interleaved, best round of each; ratio = llmsplit /
   reference in picks/s (higher is better). */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "bench_util.h"

#define KEYS 1000000
static const double weights[2] = {0.8, 0.2};
static volatile long sink; /* so no loop is optimised away */

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- references -------------------------------------------------------------------------- */

static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int ref_random(uint64_t *s, double sum) {
    double target = (double)(xorshift(s) >> 11) * (1.0 / 9007199254740992.0) * sum, acc = 0;
    int i;
    for (i = 0; i < 2 - 1; i++) {
        acc += weights[i];
        if (target < acc) return i;
    }
    return 2 - 1; /* the last arm takes the rest */
}

/* ngx_murmur_hash2 (src/core/ngx_murmurhash.c) */
static uint32_t ngx_murmur_hash2(const unsigned char *data, size_t len) {
    uint32_t h = 0 ^ (uint32_t)len, k;
    while (len >= 4) {
        k = data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
        k *= 0x5bd1e995;
        k ^= k >> 24;
        k *= 0x5bd1e995;
        h *= 0x5bd1e995;
        h ^= k;
        data += 4;
        len -= 4;
    }
    switch (len) {
    case 3: h ^= (uint32_t)data[2] << 16; /* fall through */
    case 2: h ^= (uint32_t)data[1] << 8;  /* fall through */
    case 1: h ^= data[0]; h *= 0x5bd1e995;
    }
    h ^= h >> 13;
    h *= 0x5bd1e995;
    h ^= h >> 15;
    return h;
}

/* split_clients "$key" { 80% a; * b; }: bounds in 0.01% units, as ngx_http_split_clients */
static uint32_t bound0;
static int ref_sticky(const char *key, size_t len) {
    return ngx_murmur_hash2((const unsigned char *)key, len) < bound0 ? 0 : 1;
}

/* ---- rounds -------------------------------------------------------------------------------- */

static char *keys;      /* KEYS keys of 12 bytes each, back to back */
#define KEYLEN 12

static double random_llmsplit(long n) {
    llmsplit_rng rng;
    double t = cpu_now();
    long i, s = 0;
    llmsplit_rng_seed(&rng, 42);
    for (i = 0; i < n; i++) {
        int a = -1;
        llmsplit_pick(weights, NULL, 2, NULL, 0, &rng, &a, NULL);
        s += a;
    }
    sink += s;
    return n / (cpu_now() - t);
}

static double random_ref(long n) {
    uint64_t st = 42;
    double t = cpu_now(), sum = weights[0] + weights[1];
    long i, s = 0;
    for (i = 0; i < n; i++) s += ref_random(&st, sum);
    sink += s;
    return n / (cpu_now() - t);
}

static double sticky_llmsplit(void) {
    double t = cpu_now();
    long i, s = 0;
    for (i = 0; i < KEYS; i++) {
        int a = -1;
        llmsplit_pick(weights, NULL, 2, keys + i * KEYLEN, KEYLEN, NULL, &a, NULL);
        s += a;
    }
    sink += s;
    return KEYS / (cpu_now() - t);
}

static double sticky_ref(void) {
    double t = cpu_now();
    long i, s = 0;
    for (i = 0; i < KEYS; i++) s += ref_sticky(keys + i * KEYLEN, KEYLEN);
    sink += s;
    return KEYS / (cpu_now() - t);
}

int main(int argc, char **argv) {
    long n = (argc > 1 ? atol(argv[1]) : 20) * 1000000L, i, first = 0, differ = 0;
    int rounds = getenv("BENCH_ROUNDS") && atoi(getenv("BENCH_ROUNDS")) > 0 ? atoi(getenv("BENCH_ROUNDS")) : 5, r;
    double rl = 0, rr = 0, sl = 0, sr = 0;
    char tmp[KEYLEN + 1];
    if (n < 1) { fprintf(stderr, "usage: pick_bench [MILLIONS_OF_RANDOM_PICKS]\n"); return 2; }
    bound0 = (uint32_t)(8000u * (uint64_t)0xFFFFFFFFu / 10000u);
    keys = (char *)malloc((size_t)KEYS * KEYLEN);
    for (i = 0; i < KEYS; i++) {
        snprintf(tmp, sizeof tmp, "user-%07ld", i);
        memcpy(keys + i * KEYLEN, tmp, KEYLEN);
    }
    for (i = 0; i < KEYS; i++) { /* same arm both ways, for every key */
        int a = -1;
        llmsplit_pick(weights, NULL, 2, keys + i * KEYLEN, KEYLEN, NULL, &a, NULL);
        differ += a != ref_sticky(keys + i * KEYLEN, KEYLEN);
        first += a == 0;
    }
    for (r = 0; r < rounds; r++) {
        double a = random_llmsplit(n), b = random_ref(n), c = sticky_llmsplit(), d = sticky_ref();
        if (a > rl) rl = a;
        if (b > rr) rr = b;
        if (c > sl) sl = c;
        if (d > sr) sr = d;
    }
    printf("%-8s %14s %14s %8s   %s\n", "pick", "llmsplit", "reference", "ratio", "(picks/s, higher is better)");
    printf("%-8s %10.1f M/s %10.1f M/s %7.2fx   (%.1f vs %.1f ns per pick; reference: xorshift64 + linear scan)\n",
           "random", rl / 1e6, rr / 1e6, rl / rr, 1e9 / rl, 1e9 / rr);
    printf("%-8s %10.1f M/s %10.1f M/s %7.2fx   (%.1f vs %.1f ns per pick; reference: nginx split_clients inline)\n",
           "sticky", sl / 1e6, sr / 1e6, sl / sr, 1e9 / sl, 1e9 / sr);
    printf("sticky: %d distinct keys, %.2f%% in the 80%% arm, %ld keys in a different arm than nginx's\n", KEYS,
           100.0 * first / KEYS, differ);
    bench_result("pick_random_per_s", rl, rr, "picks/s");
    bench_result("pick_sticky_per_s", sl, sr, "picks/s");
    free(keys);
    return differ != 0;
}
