/* JSON parse throughput: llmsplit against cJSON, measured in the same run on the same bytes.

   usage: json_bench FILE...

   For each file, the two parsers take turns in rounds (so machine noise hits both alike); each
   round parses the file repeatedly for ~100 ms of CPU time. Reported: best-round MB/s for
   parse alone and for parse + minify to a string, and llmsplit/cJSON ratios. Both sides
   validate and build a full tree; each result is checked (element count) so nothing is
   optimised away. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include <cjson/cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *load(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (char *)malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    if (buf) buf[n] = 0; /* cJSON needs the NUL; llmsplit is given the length */
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static volatile size_t sink;

static size_t run_llmsplit(const char *text, size_t len, int minify) {
    llmsplit_json_doc *doc = NULL;
    size_t r;
    if (llmsplit_json_parse(text, len, NULL, &doc, NULL) != LLMSPLIT_OK) { fprintf(stderr, "llmsplit failed to parse\n"); exit(1); }
    r = llmsplit_json_len(llmsplit_json_root(doc));
    if (minify) {
        llmsplit_json_writer w;
        size_t n = 0;
        llmsplit_json_writer_init(&w, NULL);
        llmsplit_json_write_value(&w, llmsplit_json_root(doc));
        if (llmsplit_json_writer_result(&w, NULL, &n, NULL) != LLMSPLIT_OK) { fprintf(stderr, "llmsplit minify failed\n"); exit(1); }
        r += n;
        llmsplit_json_writer_free(&w);
    }
    llmsplit_json_free(doc);
    return r;
}

static size_t run_cjson(const char *text, size_t len, int minify) {
    cJSON *root = cJSON_ParseWithLength(text, len);
    size_t r;
    if (!root) { fprintf(stderr, "cJSON failed to parse\n"); exit(1); }
    r = (size_t)cJSON_GetArraySize(root);
    if (minify) {
        char *out = cJSON_PrintUnformatted(root);
        if (!out) { fprintf(stderr, "cJSON print failed\n"); exit(1); }
        r += strlen(out);
        cJSON_free(out);
    }
    cJSON_Delete(root);
    return r;
}

/* best MB/s over rounds */
static double measure(size_t (*fn)(const char *, size_t, int), const char *text, size_t len, int minify) {
    double t0 = cpu_now(), t;
    long iters = 0;
    do {
        sink += fn(text, len, minify);
        iters++;
        t = cpu_now() - t0;
    } while (t < 0.1);
    return (double)len * (double)iters / t / 1e6;
}

int main(int argc, char **argv) {
    int i, round, rounds = 5;
    const char *env = getenv("BENCH_ROUNDS");
    if (env && atoi(env) > 0) rounds = atoi(env);
    if (argc < 2) { fprintf(stderr, "usage: json_bench FILE...\n"); return 2; }
    printf("%-18s %-14s %10s %10s %7s\n", "file", "task", "llmsplit", "cJSON", "ratio");
    for (i = 1; i < argc; i++) {
        size_t len;
        char *text = load(argv[i], &len);
        const char *name = strrchr(argv[i], '/') ? strrchr(argv[i], '/') + 1 : argv[i];
        int minify;
        if (!text) { fprintf(stderr, "cannot read %s\n", argv[i]); return 1; }
        for (minify = 0; minify <= 1; minify++) {
            double best_l = 0, best_c = 0;
            for (round = 0; round < rounds; round++) {
                double l = measure(run_llmsplit, text, len, minify);
                double c = measure(run_cjson, text, len, minify);
                if (l > best_l) best_l = l;
                if (c > best_c) best_c = c;
            }
            printf("%-18s %-14s %7.1f MB/s %6.1f MB/s %6.2fx\n", name, minify ? "parse+minify" : "parse",
                   best_l, best_c, best_l / best_c);
        }
        free(text);
    }
    return 0;
}
