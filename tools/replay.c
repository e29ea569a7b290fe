/* llmsplit replay and llmsplit bench: many requests through the client, from a
   JSONL file of requests or a repeated prompt, with worker threads, a progress line, per-arm
   latency figures and the mirror counters. Included by llmsplit.c. */
#include "tool.h"
#include "route.c"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t run_interrupted, run_hangup;
static void on_sigint(int sig) { (void)sig; run_interrupted = 1; }
/* logrotate's postrotate sends SIGHUP: the log is opened again at its path by the main loop (the
   library reopens only from a thread, never inside a handler) */
static void on_sighup(int sig) { (void)sig; run_hangup = 1; }

/* One request of a run: its messages (pointing into the parsed line) and user key. */
typedef struct run_item {
    llmsplit_json_doc *doc;       /* the line, parsed; NULL for bench's repeated prompt */
    llmsplit_message *messages;
    int num_messages;
    const char *user;
    char *params;                 /* the line's other request parameters, as JSON */
} run_item;

/* Per-arm figures, filled by the workers under the run's lock. */
typedef struct run_arm {
    char model[256];
    int calls, errors;
    double *lat;                  /* latencies of successful calls */
    int nlat, caplat;
} run_arm;

typedef struct run_state {
    llmsplit_client *client;
    const char *group;
    run_item *items;
    int nitems, next, done, ok, failed;
    const char *prompt;           /* bench: the same prompt every time */
    int total;
    pthread_mutex_t lock;
    run_arm arms[64];
    int narms;
    int tty;
    double t0;
    int last_shown_pct;
} run_state;

static double run_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A JSON string value as a NUL-terminated copy kept in the document (strings are NUL-terminated
   there already). */
static const char *run_str(const llmsplit_json_val *v) { return llmsplit_json_str(v, NULL); }

/* Raw JSON text of a value, for content parts and tool calls. Caller frees. */
static char *run_raw(const llmsplit_json_val *v) {
    llmsplit_json_writer w;
    char *out = NULL;
    size_t n;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_value(&w, v);
    if (llmsplit_json_writer_result(&w, NULL, &n, NULL) == LLMSPLIT_OK) {
        out = (char *)malloc(n + 1);
        if (out) memcpy(out, w.buf.data, n + 1);
    }
    llmsplit_json_writer_free(&w);
    return out;
}

/* Reads one request line: {"messages":[...], "user": "..."} or {"prompt": "..."}; other keys
   (temperature, max_tokens, ...) are request parameters. Returns 0 with *why set when unusable. */
static int run_item_parse(run_item *it, const char *line, size_t len, const char **why) {
    llmsplit_error je;
    const llmsplit_json_val *root, *msgs, *k, *v;
    llmsplit_json_iter iter;
    llmsplit_json_writer w;
    int i, any = 0;
    static char whybuf[400];
    memset(it, 0, sizeof *it);
    if (llmsplit_json_parse(line, len, NULL, &it->doc, &je) != LLMSPLIT_OK) {
        snprintf(whybuf, sizeof whybuf, "not JSON (%d:%d: %s)", je.line, je.col, je.message);
        *why = whybuf;
        return 0;
    }
    root = llmsplit_json_root(it->doc);
    msgs = llmsplit_json_get(root, "messages");
    it->user = run_str(llmsplit_json_get(root, "user"));
    if (msgs && llmsplit_json_type_of(msgs) == LLMSPLIT_JSON_ARRAY && llmsplit_json_len(msgs) > 0) {
        const llmsplit_json_val *m;
        it->num_messages = (int)llmsplit_json_len(msgs);
        it->messages = (llmsplit_message *)calloc((size_t)it->num_messages, sizeof *it->messages);
        if (!it->messages) { *why = "out of memory"; return 0; }
        iter = llmsplit_json_iterate(msgs);
        for (i = 0; llmsplit_json_next(&iter, NULL, &m); i++) {
            const llmsplit_json_val *content = llmsplit_json_get(m, "content");
            it->messages[i].role = run_str(llmsplit_json_get(m, "role"));
            if (!it->messages[i].role) { *why = "a message has no role"; return 0; }
            if (llmsplit_json_type_of(content) == LLMSPLIT_JSON_STRING)
                it->messages[i].content = llmsplit_json_str(content, &it->messages[i].content_len);
            else if (content && llmsplit_json_type_of(content) != LLMSPLIT_JSON_NULL)
                it->messages[i].content_json = run_raw(content);
            if (llmsplit_json_get(m, "tool_calls")) it->messages[i].tool_calls_json = run_raw(llmsplit_json_get(m, "tool_calls"));
            it->messages[i].tool_call_id = run_str(llmsplit_json_get(m, "tool_call_id"));
            it->messages[i].name = run_str(llmsplit_json_get(m, "name"));
        }
    } else if (run_str(llmsplit_json_get(root, "prompt"))) {
        it->num_messages = 1;
        it->messages = (llmsplit_message *)calloc(1, sizeof *it->messages);
        if (!it->messages) { *why = "out of memory"; return 0; }
        it->messages[0].role = "user";
        it->messages[0].content = llmsplit_json_str(llmsplit_json_get(root, "prompt"), &it->messages[0].content_len);
    } else {
        *why = "needs \"messages\" (an array) or \"prompt\" (a string)";
        return 0;
    }
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    iter = llmsplit_json_iterate(root);
    while (llmsplit_json_next(&iter, &k, &v)) {
        size_t n;
        const char *ks = llmsplit_json_str(k, &n);
        if ((n == 8 && memcmp(ks, "messages", 8) == 0) || (n == 6 && memcmp(ks, "prompt", 6) == 0) ||
            (n == 4 && memcmp(ks, "user", 4) == 0) || (n == 5 && memcmp(ks, "model", 5) == 0))
            continue;
        llmsplit_json_write_key(&w, ks, n);
        llmsplit_json_write_value(&w, v);
        any = 1;
    }
    llmsplit_json_write_end_object(&w);
    if (any && llmsplit_json_writer_result(&w, NULL, &len, NULL) == LLMSPLIT_OK) {
        it->params = (char *)malloc(len + 1);
        if (it->params) memcpy(it->params, w.buf.data, len + 1);
    }
    llmsplit_json_writer_free(&w);
    return 1;
}

static void run_item_free(run_item *it) {
    int i;
    for (i = 0; it->messages && i < it->num_messages; i++) {
        free((char *)it->messages[i].content_json);
        free((char *)it->messages[i].tool_calls_json);
    }
    free(it->messages);
    free(it->params);
    llmsplit_json_free(it->doc);
}

static void run_record(run_state *s, const llmsplit_result *r, int ok) {
    run_arm *a = NULL;
    int i;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->narms; i++)
        if (strcmp(s->arms[i].model, r->model) == 0) a = &s->arms[i];
    if (!a && s->narms < 64) {
        a = &s->arms[s->narms++];
        memset(a, 0, sizeof *a);
        snprintf(a->model, sizeof a->model, "%s", r->model[0] ? r->model : "(none)");
    }
    if (ok) s->ok++;
    else s->failed++;
    s->done++;
    if (a) {
        a->calls++;
        if (!ok) a->errors++;
        else {
            if (a->nlat == a->caplat) {
                int cap = a->caplat ? a->caplat * 2 : 256;
                double *nl = (double *)realloc(a->lat, sizeof *nl * (size_t)cap);
                if (nl) { a->lat = nl; a->caplat = cap; }
            }
            if (a->nlat < a->caplat) a->lat[a->nlat++] = r->response.latency_ms;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

/* The progress line: a bar with rate and ETA on a terminal, a plain line every 10% otherwise. */
static void run_progress(run_state *s, int final) {
    double el = (run_now_ms() - s->t0) / 1e3, rate;
    int done, total = s->total, pct;
    pthread_mutex_lock(&s->lock);
    done = s->done;
    pthread_mutex_unlock(&s->lock);
    rate = el > 0 ? done / el : 0;
    pct = total ? done * 100 / total : 100;
    if (s->tty) {
        char bar[31];
        int i, fill = total ? done * 30 / total : 30;
        for (i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %d/%d  %.1f req/s  ETA %.0f s ", bar, done, total, rate,
                rate > 0 ? (total - done) / rate : 0.0);
        if (final) fputc('\n', stderr);
    } else if (final || pct / 10 > s->last_shown_pct / 10) {
        fprintf(stderr, "progress: %d/%d (%d%%), %.1f req/s\n", done, total, pct, rate);
        s->last_shown_pct = pct;
    }
    fflush(stderr);
}

static void *run_worker(void *arg) {
    run_state *s = (run_state *)arg;
    for (;;) {
        llmsplit_request rq;
        llmsplit_result res;
        llmsplit_message m;
        llmsplit_status e;
        int idx;
        if (run_interrupted) break;
        pthread_mutex_lock(&s->lock);
        idx = s->next < s->total ? s->next++ : -1;
        pthread_mutex_unlock(&s->lock);
        if (idx < 0) break;
        memset(&rq, 0, sizeof rq);
        rq.group = s->group;
        if (s->items) {
            rq.messages = s->items[idx].messages;
            rq.num_messages = s->items[idx].num_messages;
            rq.user = s->items[idx].user;
            rq.params_json = s->items[idx].params;
        } else {
            memset(&m, 0, sizeof m);
            m.role = "user";
            m.content = s->prompt;
            rq.messages = &m;
            rq.num_messages = 1;
        }
        e = llmsplit_client_chat(s->client, &rq, &res, NULL);
        run_record(s, &res, e == LLMSPLIT_OK);
        llmsplit_result_free(&res);
    }
    return NULL;
}

static int run_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* nearest rank: the smallest value with at least p% of the values at or below it */
static double run_pct(const double *v, int n, double p) {
    int i;
    if (!n) return 0;
    i = (int)((p / 100.0) * n + 0.999999999) - 1;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return v[i];
}

/* Runs the workers, then prints the per-arm table and the mirror counters. */
static int run_all(run_state *s, int concurrency, const char *title) {
    pthread_t th[256];
    int i, started = 0;
    llmsplit_client_stats st;
    double el;
    struct sigaction sa, old, hup, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, &old); /* Ctrl-C: stop taking requests, finish what runs, report */
    memset(&hup, 0, sizeof hup);
    hup.sa_handler = on_sighup;
    sigaction(SIGHUP, &hup, &old_hup);
    s->tty = isatty(2);
    s->t0 = run_now_ms();
    for (i = 0; i < concurrency && i < 256; i++)
        if (pthread_create(&th[i], NULL, run_worker, s) == 0) started++;
    if (!started) {
        tool_say("error", "cannot start worker threads");
        return EXIT_OTHER;
    }
    for (;;) {
        int done;
        struct timespec ts = {0, 200000000L};
        pthread_mutex_lock(&s->lock);
        done = s->done >= s->total || (run_interrupted && s->next == s->done);
        pthread_mutex_unlock(&s->lock);
        if (done) break;
        if (run_hangup) {
            llmsplit_error err;
            run_hangup = 0;
            if (llmsplit_client_reopen_log(s->client, &err) != LLMSPLIT_OK) tool_fail_error(&err);
        }
        run_progress(s, 0);
        nanosleep(&ts, NULL);
    }
    for (i = 0; i < started; i++) pthread_join(th[i], NULL);
    el = (run_now_ms() - s->t0) / 1e3;
    run_progress(s, 1);
    sigaction(SIGINT, &old, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    llmsplit_client_wait_mirrors(s->client, 0);
    st = llmsplit_client_get_stats(s->client);
    printf("%s: %d requests in %.2f s (%.1f req/s), %d ok, %d failed%s\n", title, s->done, el, el > 0 ? s->done / el : 0.0,
           s->ok, s->failed, run_interrupted ? " (interrupted)" : "");
    printf("%-40s %7s %6s %7s %9s %9s %9s\n", "arm", "calls", "share", "errors", "p50 ms", "p95 ms", "p99 ms");
    for (i = 0; i < s->narms; i++) {
        run_arm *a = &s->arms[i];
        qsort(a->lat, (size_t)a->nlat, sizeof *a->lat, run_cmp);
        printf("%-40.40s %7d %5.1f%% %7d %9.2f %9.2f %9.2f\n", a->model, a->calls, s->done ? 100.0 * a->calls / s->done : 0.0,
               a->errors, run_pct(a->lat, a->nlat, 50), run_pct(a->lat, a->nlat, 95), run_pct(a->lat, a->nlat, 99));
        free(a->lat);
    }
    printf("mirror: %llu mirrored, %llu completed, %llu failed, %llu dropped (queue full), %llu still running\n",
           (unsigned long long)st.mirrored, (unsigned long long)st.mirror_completed, (unsigned long long)st.mirror_failed,
           (unsigned long long)st.mirror_dropped_queue_full,
           (unsigned long long)(st.mirrored - st.mirror_completed - st.mirror_failed - st.mirror_dropped_queue_full));
    if (st.judged || st.judge_failed || st.judge_dropped || st.judge_dropped_held)
        printf("judge: %llu judged so far, %llu failed, %llu dropped (queue full), %llu not held (pending bound)\n",
               (unsigned long long)st.judged, (unsigned long long)st.judge_failed, (unsigned long long)st.judge_dropped,
               (unsigned long long)st.judge_dropped_held);
    if (st.fallbacks || st.rollbacks) printf("fallbacks: %llu, rollbacks: %llu\n", (unsigned long long)st.fallbacks, (unsigned long long)st.rollbacks);
    return s->failed && !s->ok ? EXIT_NET : EXIT_OK;
}

static int usage_replay(int asked) {
    return tool_usage(asked, "usage: llmsplit replay [routing options] PROMPTS.jsonl [--concurrency N]\n"
                             "  each line: {\"messages\": [...], \"user\": \"...\"} or {\"prompt\": \"...\"}; other keys are parameters\n"
                             "  routing options (as for chat):\n%s", route_usage_text);
}

int cmd_replay(int argc, char **argv) {
    route_opts o;
    run_state s;
    const char *file = NULL, *group = NULL;
    int i, concurrency = 4, rc = EXIT_USAGE, bad = 0, cap = 0;
    char *text = NULL, *p, *end, cause[128];
    size_t len;
    memset(&o, 0, sizeof o);
    memset(&s, 0, sizeof s);
    for (i = 0; i < argc; i++) {
        int r = route_opt(&o, argc, argv, &i);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        if (tool_is_help(argv[i])) return usage_replay(1);
        if ((strcmp(argv[i], "--concurrency") == 0 || strcmp(argv[i], "-c") == 0) && i + 1 < argc) {
            concurrency = atoi(argv[++i]);
            if (concurrency < 1 || concurrency > 256) {
                return tool_fail(LLMSPLIT_ERR_USAGE, "--concurrency must be 1..256");
            }
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return tool_fail(LLMSPLIT_ERR_USAGE, "unknown option %s for replay", argv[i]);
        } else if (file) {
            return tool_fail(LLMSPLIT_ERR_USAGE, "replay takes one PROMPTS.jsonl file");
        } else file = argv[i];
    }
    if (!file) return usage_replay(0);
    text = tool_read_file(file, TOOL_MAX_FILE, &len, cause, sizeof cause);
    if (!text) return tool_fail(LLMSPLIT_ERR_USAGE, "cannot read %s: %s", file, cause);
    for (p = text; p < text + len; p = end + 1) {
        const char *why;
        end = memchr(p, '\n', (size_t)(text + len - p));
        if (!end) end = text + len;
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
        if (p == end) continue;
        if (s.nitems == cap) {
            run_item *ni;
            cap = cap ? cap * 2 : 256;
            ni = (run_item *)realloc(s.items, sizeof *ni * (size_t)cap);
            if (!ni) { tool_say("error", "out of memory"); goto out; }
            s.items = ni;
        }
        if (run_item_parse(&s.items[s.nitems], p, (size_t)(end - p), &why)) s.nitems++;
        else {
            if (!bad) tool_say("warning", "%s: line skipped: %s", file, why);
            run_item_free(&s.items[s.nitems]);
            bad++;
        }
    }
    if (bad > 1) tool_say("warning", "%d lines skipped in all", bad);
    if (!s.nitems) {
        tool_fail(LLMSPLIT_ERR_USAGE, "%s has no usable request lines", file);
        goto out;
    }
    s.client = route_client(&o, &group, &rc);
    if (!s.client) goto out;
    s.group = group;
    s.total = s.nitems;
    pthread_mutex_init(&s.lock, NULL);
    rc = run_all(&s, concurrency, "replay");
    llmsplit_client_destroy(s.client); /* drains the silent calls: every record is written */
    pthread_mutex_destroy(&s.lock);
out:
    for (i = 0; i < s.nitems; i++) run_item_free(&s.items[i]);
    free(s.items);
    free(text);
    return rc;
}

static int usage_bench(int asked) {
    return tool_usage(asked, "usage: llmsplit bench [routing options] [-n N] [-c CONCURRENCY] [PROMPT]\n"
                             "  sends N requests (default 100), C at a time (default 4), and prints req/s and p50/p95/p99 per arm\n"
                             "  routing options (as for chat):\n%s", route_usage_text);
}

int cmd_bench(int argc, char **argv) {
    route_opts o;
    run_state s;
    const char *group = NULL, *prompt = NULL;
    int i, n = 100, concurrency = 4, rc;
    memset(&o, 0, sizeof o);
    memset(&s, 0, sizeof s);
    for (i = 0; i < argc; i++) {
        int r = route_opt(&o, argc, argv, &i);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        if (tool_is_help(argv[i])) return usage_bench(1);
        if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) n = atoi(argv[++i]);
        else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--concurrency") == 0) && i + 1 < argc) concurrency = atoi(argv[++i]);
        else if (argv[i][0] == '-' && argv[i][1]) {
            return tool_fail(LLMSPLIT_ERR_USAGE, "unknown option %s for bench", argv[i]);
        } else if (prompt) {
            return tool_fail(LLMSPLIT_ERR_USAGE, "bench takes one PROMPT");
        } else prompt = argv[i];
    }
    if (n < 1 || concurrency < 1 || concurrency > 256) {
        return tool_fail(LLMSPLIT_ERR_USAGE, "-n must be >= 1 and -c 1..256");
    }
    s.client = route_client(&o, &group, &rc);
    if (!s.client) return rc;
    s.group = group;
    s.prompt = prompt ? prompt : "Hello, how are you?";
    s.total = n;
    pthread_mutex_init(&s.lock, NULL);
    rc = run_all(&s, concurrency, "bench");
    llmsplit_client_destroy(s.client);
    pthread_mutex_destroy(&s.lock);
    return rc;
}
