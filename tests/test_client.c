/* The client against `llmsplit mock`: weighted and sticky splits, mirroring to a silent model,
   fallbacks, automatic rollback and recovery, live config reload, records. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#define LLMSPLIT_FEEDBACK_MAX_CALLS 8 /* small, so a test sees calls leave the table */
#include "../llmsplit.h"
#include "test.h"
#include "mock.h"
#include "server.h"
#include "wait_hook.h"

#include <pthread.h>
#include <stdio.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

static mock M;          /* one mock for the whole run: knobs for every test below */
static int mock_ok;

/* Collects records delivered to the callback. */
typedef struct seen {
    pthread_mutex_t lock;
    int primary, silent, silent_ok, silent_err, rollbacks, config_events, fallbacks;
    char pairs[512][40], silent_pairs[512][40];
    int npairs, nsilent_pairs;
    int unmatched;      /* records that are not JSON, or silent ones not marked as such */
    char last_config_reason[400];
    double silent_min_ms; /* the fastest silent call */
    int splits;           /* "split" events, and the first few of them */
    long long split_epoch[8];
    char split_weights[8][200];
    int primary_unannounced; /* primary calls whose split_epoch no split event announced before */
    int feedbacks;
    char last_feedback[600];  /* the JSON line of the last feedback record */
    char last_rollback_reason[200];
} seen;

static void on_record(const llmsplit_record *r, const char *line, size_t len, void *ud) {
    seen *s = (seen *)ud;
    llmsplit_json_doc *doc;
    pthread_mutex_lock(&s->lock);
    if (llmsplit_json_parse(line, len, NULL, &doc, NULL) != LLMSPLIT_OK) s->unmatched += 1000; /* every line must be JSON */

    if (strcmp(r->event, "rollback") == 0) {
        s->rollbacks++;
        snprintf(s->last_rollback_reason, sizeof s->last_rollback_reason, "%s", r->reason ? r->reason : "");
    } else if (strcmp(r->event, "feedback") == 0) {
        s->feedbacks++;
        snprintf(s->last_feedback, sizeof s->last_feedback, "%.*s", (int)len, line);
    } else if (strcmp(r->event, "split") == 0) {
        if (s->splits < 8) {
            s->split_epoch[s->splits] = (long long)r->split_epoch;
            snprintf(s->split_weights[s->splits], sizeof s->split_weights[0], "%s", r->weights_json ? r->weights_json : "");
        }
        s->splits++;
    } else if (strcmp(r->event, "config") == 0) {
        s->config_events++;
        snprintf(s->last_config_reason, sizeof s->last_config_reason, "%s", r->reason ? r->reason : "");
    } else if (strcmp(r->role, "silent") == 0) {
        s->silent++;
        if (s->silent == 1 || r->latency_ms < s->silent_min_ms) s->silent_min_ms = r->latency_ms;
        if (r->ok) s->silent_ok++;
        else s->silent_err++;
        if (!r->is_silent_experiment) s->unmatched++;
        if (s->nsilent_pairs < 512) snprintf(s->silent_pairs[s->nsilent_pairs++], 40, "%s", r->pair_id);
    } else {
        int k, known = 0;
        s->primary++;
        for (k = 0; k < s->splits && k < 8; k++) known |= s->split_epoch[k] == (long long)r->split_epoch;
        if (r->split_epoch <= 0 || (!known && s->splits <= 8)) s->primary_unannounced++;
        if (r->fallback_from) s->fallbacks++;
        if (s->npairs < 512) snprintf(s->pairs[s->npairs++], 40, "%s", r->pair_id);
    }
    pthread_mutex_unlock(&s->lock);
    llmsplit_json_free(doc);
}

/* Silent records whose pair_id no primary record has (a silent call may finish first, so this
   is checked once all records are in). */
static int config_events(seen *s) {
    int n;
    pthread_mutex_lock(&s->lock);
    n = s->config_events;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static int orphans(seen *s) {
    int i, j, n = 0;
    for (i = 0; i < s->nsilent_pairs; i++) {
        int found = 0;
        for (j = 0; j < s->npairs && !found; j++) found = strcmp(s->pairs[j], s->silent_pairs[i]) == 0;
        n += !found;
    }
    return n + s->unmatched;
}

/* The config text in tests/data/client_*.json with every {mock} replaced by the mock's URL. */
static void with_mock(const char *text, char *out, size_t size) {
    size_t n = 0, u = strlen(M.url);
    while (*text && n + 1 < size) {
        if (strncmp(text, "{mock}", 6) == 0 && n + u < size) {
            memcpy(out + n, M.url, u);
            n += u;
            text += 6;
        } else {
            out[n++] = *text++;
        }
    }
    out[n] = '\0';
}

static llmsplit_client *make(const char *config, seen *s, llmsplit_error *err) {
    static char cfg[4096];
    llmsplit_client_desc d;
    with_mock(config, cfg, sizeof cfg);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    d.seed = 42;
    if (s) {
        memset(s, 0, sizeof *s);
        pthread_mutex_init(&s->lock, NULL);
        d.on_record = on_record;
        d.user_data = s;
    }
    {
        llmsplit_client *c = NULL;
        llmsplit_client_create(&d, &c, err);
        return c;
    }
}

static llmsplit_status ask(llmsplit_client *c, const char *group, const char *user, llmsplit_result *res) {
    llmsplit_message m = {"user", "hello", 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    llmsplit_error err;
    memset(&rq, 0, sizeof rq);
    rq.group = group;
    rq.messages = &m;
    rq.num_messages = 1;
    rq.user = user;
    return llmsplit_client_chat(c, &rq, res, &err);
}

#define NEED_MOCK() do { if (!mock_ok) SKIP("build/llmsplit mock did not start (run make first)"); } while (0)

static const char *split_80_20; /* tests/data/client_split_80_20.json, read by main */

static void client_random_split_lands_near_80_20(void) {
    llmsplit_error err;
    llmsplit_client *c;
    int i, n = 1000, first = 0;
    NEED_MOCK();
    c = make(split_80_20, NULL, &err);
    CHECK(c != NULL);
    if (!c) { printf("  %s\n", err.message); return; }
    for (i = 0; i < n; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
        if (strcmp(r.model, "openai/gpt-4") == 0) first++;
        if (i == 0) CHECK_CONTAINS(r.response.text.data, "mock reply from ");
        llmsplit_result_free(&r);
    }
    printf("  gpt-4 got %d of %d\n", first, n);
    /* sd of the share is 1.3 points at n=1000: 5 points is almost 4 sd */
    CHECK_GT_INT(first, n * 75 / 100);
    CHECK_LT_INT(first, n * 85 / 100);
    llmsplit_client_destroy(c);
}

static void client_sticky_user_always_gets_the_same_arm(void) {
    llmsplit_error err;
    llmsplit_client *c;
    int u, k, mismatches = 0, predicted_wrong = 0;
    double w[2] = {0.8, 0.2};
    NEED_MOCK();
    c = make(split_80_20, NULL, &err);
    for (u = 0; u < 40; u++) {
        char key[32], first[256] = "";
        snprintf(key, sizeof key, "user-%d", u);
        for (k = 0; k < 3; k++) {
            llmsplit_result r;
            CHECK_EQ_INT(ask(c, "chat", key, &r), LLMSPLIT_OK);
            CHECK(r.sticky);
            if (!first[0]) snprintf(first, sizeof first, "%s", r.model);
            else if (strcmp(first, r.model) != 0) mismatches++;
            llmsplit_result_free(&r);
        }
        /* and it is nginx's split_clients arm for that key */
        int arm = -1;
        llmsplit_pick_sticky(w, 2, key, strlen(key), &arm, NULL);
        if ((arm == 0) != (strcmp(first, "openai/gpt-4") == 0)) predicted_wrong++;
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK_EQ_INT(predicted_wrong, 0);
    llmsplit_client_destroy(c);
}

static const char *mirrored; /* tests/data/client_mirrored.json, read by main */

static void client_mirrors_every_request_once_with_paired_records(void) {
    llmsplit_error err;
    llmsplit_client *c;
    seen s;
    int i;
    llmsplit_client_stats st;
    double slowest_primary = 0;
    NEED_MOCK();
    c = make(mirrored, &s, &err);
    CHECK(c != NULL);
    if (!c) { printf("  %s\n", err.message); return; }
    for (i = 0; i < 20; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
        CHECK(r.mirrored);
        if (r.response.latency_ms > slowest_primary) slowest_primary = r.response.latency_ms;
        llmsplit_result_free(&r);
    }
    CHECK((llmsplit_client_wait_mirrors(c, 20000) == LLMSPLIT_OK));
    /* the primary never waits for the silent call (300 ms in the mock): even the slowest primary
       beats the fastest silent call of the same run, however loaded the machine */
    CHECK_LT_DBL(slowest_primary, s.silent_min_ms);
    st = llmsplit_client_get_stats(c);
    CHECK_EQ_INT(st.mirrored, 20);
    CHECK_EQ_INT(st.mirror_completed, 20);
    CHECK_EQ_INT(st.mirror_failed, 0);
    CHECK_EQ_INT(s.primary, 20);
    CHECK_EQ_INT(s.silent, 20);
    CHECK_EQ_INT(s.silent_ok, 20);
    CHECK_EQ_INT(orphans(&s), 0);
    llmsplit_client_destroy(c);
}

static const char *mirrored_with_retries; /* tests/data/client_mirrored_with_retries.json, read by main */

static void client_mirror_is_queued_once_even_with_retries(void) {
    llmsplit_error err;
    llmsplit_client *c;
    seen s;
    llmsplit_result r;
    NEED_MOCK();
    c = make(mirrored_with_retries, &s, &err);
    CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_ERR_PROVIDER);
    CHECK_EQ_INT(r.response.attempts, 3);
    llmsplit_result_free(&r);
    CHECK((llmsplit_client_wait_mirrors(c, 10000) == LLMSPLIT_OK));
    CHECK_EQ_INT(s.silent, 1);
    CHECK_EQ_INT(s.primary, 1);
    llmsplit_client_destroy(c);
}

static const char *dead_silent; /* tests/data/client_dead_silent.json, read by main */

static void client_dead_silent_endpoint_never_fails_the_primary(void) {
    llmsplit_error err;
    llmsplit_client *c;
    seen s;
    int i;
    NEED_MOCK();
    c = make(dead_silent, &s, &err);
    for (i = 0; i < 10; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
        llmsplit_result_free(&r);
    }
    CHECK((llmsplit_client_wait_mirrors(c, 10000) == LLMSPLIT_OK));
    CHECK_EQ_INT(s.silent, 10);
    CHECK_EQ_INT(s.silent_err, 10);
    CHECK_EQ_INT(s.primary, 10);
    CHECK_EQ_INT(llmsplit_client_get_stats(c).mirror_failed, 10);
    llmsplit_client_destroy(c);
}

static const char *with_fallback; /* tests/data/client_with_fallback.json, read by main */

static void client_fallback_answers_when_the_arm_fails(void) {
    llmsplit_error err;
    llmsplit_client *c;
    seen s;
    llmsplit_result r;
    NEED_MOCK();
    c = make(with_fallback, &s, &err);
    CHECK(c != NULL);
    if (!c) { printf("  %s\n", err.message); return; }
    CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
    CHECK(r.fallback);
    CHECK_EQ_STR(r.chosen_model, "openai/broken");
    CHECK_EQ_STR(r.model, "openai/gpt-4o");
    CHECK_CONTAINS(r.response.text.data, "gpt-4o");
    llmsplit_result_free(&r);
    CHECK_EQ_INT(s.fallbacks, 1);
    llmsplit_client_destroy(c);
}

static const char *with_rollback; /* tests/data/client_with_rollback.json, read by main */

static void client_rollback_takes_a_failing_arm_out_and_brings_it_back(void) {
    llmsplit_error err;
    llmsplit_client *c;
    seen s;
    int i, to_flaky_after = 0, to_flaky_back = 0;
    struct timespec ts = {1, 200000000L};
    NEED_MOCK();
    c = make(with_rollback, &s, &err);
    CHECK(c != NULL);
    if (!c) { printf("  %s\n", err.message); return; }
    /* "flaky" always fails in the mock: after its window fills it is taken out */
    for (i = 0; i < 60; i++) {
        llmsplit_result r;
        ask(c, "chat", NULL, &r);
        llmsplit_result_free(&r);
    }
    CHECK_EQ_INT(s.rollbacks, 1);
    for (i = 0; i < 40; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
        to_flaky_after += strcmp(r.model, "openai/flaky") == 0;
        llmsplit_result_free(&r);
    }
    CHECK_EQ_INT(to_flaky_after, 0);
    nanosleep(&ts, NULL); /* past the 1 s cooldown */
    for (i = 0; i < 40; i++) {
        llmsplit_result r;
        ask(c, "chat", NULL, &r);
        to_flaky_back += strcmp(r.model, "openai/flaky") == 0;
        llmsplit_result_free(&r);
    }
    CHECK_GT_INT(to_flaky_back, 5);
    /* three splits, each announced before the calls it picked: both arms, then flaky out for its
       cooldown, then both again; epochs differ */
    CHECK_GE_INT(s.splits, 3); /* flaky still fails once back: it may be rolled back again */
    CHECK_EQ_STR(s.split_weights[0], "{\"flaky #0\":0.5,\"gpt-4 #1\":0.5}");
    CHECK_EQ_STR(s.split_weights[1], "{\"flaky #0\":0.0,\"gpt-4 #1\":1.0}");
    CHECK_EQ_STR(s.split_weights[2], "{\"flaky #0\":0.5,\"gpt-4 #1\":0.5}");
    CHECK(s.split_epoch[0] > 0 && s.split_epoch[1] != s.split_epoch[0] && s.split_epoch[2] != s.split_epoch[1]);
    CHECK_EQ_INT(s.primary_unannounced, 0);
    llmsplit_client_destroy(c);
}

static void write_file(const char *path, const char *text) {
    char tmp[300];
    FILE *f;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    fputs(text, f);
    fclose(f);
    rename(tmp, path); /* atomic replace, as an editor or a deploy would */
}

/* A client following a new temporary config file that holds text (polled every 20 ms), its
   records counted in s; path (a mkstemp template) gets the file's name. NULL with err filled
   when it cannot be made. */
static llmsplit_client *make_watching(char *path, const char *text, seen *s, llmsplit_error *err) {
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    write_file(path, text);
    memset(&d, 0, sizeof d);
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    d.config_file = path;
    d.config_poll_ms = 20;
    d.http.proxy = "";
    d.on_record = on_record;
    d.user_data = s;
    llmsplit_client_create(&d, &c, err);
    return c;
}

/* The voluntary context switches of every thread of this process so far. */
static long process_wakeups(void) {
    FILE *f;
    char line[256], path[64];
    long total = 0;
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/self/task/%.20s/status", e->d_name);
        if (!(f = fopen(path, "r"))) continue;
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0) total += atol(line + 24);
        fclose(f);
    }
    if (d) closedir(d);
    return total;
}

/* An idle client following a file it checks every 5 s sleeps between checks: its threads wake
   a few times in 600 ms, not every 20 ms (the watcher's old sleep loop: 30 wake-ups); destroy
   still ends it at once. */
static void client_idle_watcher_sleeps_until_its_next_check(void) {
    char path[] = "/tmp/llmsplit-test-idle-XXXXXX";
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    long before, after;
    struct timespec t0, t1;
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    write_file(path, "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/gpt-4\",\"api_key\":\"sk-x\"}}]}");
    memset(&d, 0, sizeof d);
    d.config_file = path;
    d.config_poll_ms = 5000;
    llmsplit_client_create(&d, &c, &err);
    CHECK(c != NULL);
    if (!c) { unlink(path); return; }
    sleep_ms(50); /* the threads have started */
    before = process_wakeups();
    sleep_ms(600);
    after = process_wakeups();
    CHECK_LT_INT((int)(after - before), 10);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    llmsplit_client_destroy(c);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* at once, not at the next check 5 s away */
    CHECK_LT_INT((long long)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 2500);
    unlink(path);
}

static void client_reloads_a_changed_config_file_and_keeps_the_last_good_one(void) {
    char path[] = "/tmp/llmsplit-test-config-XXXXXX", text[1024];
    llmsplit_client *c;
    llmsplit_error err;
    llmsplit_result r;
    seen s;
    int i, ok = 0;
    struct timespec ts = {0, 50000000L};
    NEED_MOCK();
    snprintf(text, sizeof text, "{\"split\":{\"openai/first\":1}}");
    {   /* the split shorthand has no api_base */
        char base[320];
        snprintf(base, sizeof base, "%s/v1", M.url);
        setenv("OPENAI_API_BASE", base, 1);
    }
    setenv("OPENAI_API_KEY", "test-key", 1);
    c = make_watching(path, text, &s, &err);
    CHECK(c != NULL);
    if (!c) { printf("  %s\n", err.message); return; }
    CHECK_EQ_INT(ask(c, "default", NULL, &r), LLMSPLIT_OK);
    CHECK_CONTAINS(r.response.text.data, "from first:");
    llmsplit_result_free(&r);
    write_file(path, "{\"split\":{\"openai/second\":1}}");
    for (i = 0; i < 100 && !ok; i++) {
        nanosleep(&ts, NULL);
        CHECK_EQ_INT(ask(c, "default", NULL, &r), LLMSPLIT_OK);
        ok = strstr(r.response.text.data, "from second:") != NULL;
        llmsplit_result_free(&r);
    }
    CHECK(ok);
    write_file(path, "{\"split\":{\"openai/third\":-1}}"); /* broken: a negative weight */
    for (i = 0; i < 100 && config_events(&s) < 2; i++) nanosleep(&ts, NULL);
    CHECK_GE_INT(config_events(&s), 2);
    CHECK_CONTAINS(s.last_config_reason, "refused");
    CHECK_CONTAINS(s.last_config_reason, "must be >= 0");
    CHECK_EQ_INT(ask(c, "default", NULL, &r), LLMSPLIT_OK);
    CHECK_CONTAINS(r.response.text.data, "from second:");
    llmsplit_result_free(&r);
    CHECK_EQ_INT(llmsplit_client_get_stats(c).config_errors, 1);
    llmsplit_client_destroy(c);
    unsetenv("OPENAI_API_BASE");
    unsetenv("OPENAI_API_KEY");
    unlink(path);
}


/* --- reloads, rollbacks and the log ----------------------------------------------------------- */

/* Two arms of group "chat", one always failing, rolled back for 600 s after a window of 2; the
   changed config adds a group in front of them (so their positions move) and a mirror thread. */
static void rollback_config(char *out, size_t size, int changed) {
    char other[400] = "";
    if (changed)
        snprintf(other, sizeof other, "{\"model_name\":\"other\",\"litellm_params\":{\"model\":\"openai/other\",\"api_base\":\"%s/v1\"}},", M.url);
    snprintf(out, size,
             "{\"model_list\":[%s"
             "{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/broken\",\"api_base\":\"%s/v1\"}},"
             "{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/gpt-4\",\"api_base\":\"%s/v1\"}}],"
             "\"router_settings\":{\"rollback\":{\"window\":2,\"max_error_rate\":0.4,\"cooldown_s\":600}%s}}",
             other, M.url, M.url, changed ? ",\"mirror_threads\":3" : "");
}

/* Sends requests until the broken arm is rolled back; 1 when it was. */
static int trip_broken_arm(llmsplit_client *c) {
    int i;
    for (i = 0; i < 60 && llmsplit_client_get_stats(c).rollbacks == 0; i++) {
        llmsplit_result r;
        ask(c, "chat", NULL, &r);
        llmsplit_result_free(&r);
    }
    return llmsplit_client_get_stats(c).rollbacks == 1;
}

static int requests_to_broken(llmsplit_client *c, int n) {
    int i, hits = 0;
    for (i = 0; i < n; i++) {
        llmsplit_result r;
        ask(c, "chat", NULL, &r);
        hits += strcmp(r.model, "openai/broken") == 0;
        llmsplit_result_free(&r);
    }
    return hits;
}

/* A config server without ETag answers 200 with the same body at every poll. Each answer counted
   as a reload and gave every arm a fresh health window: an arm rolled back for 600 s came back
   after one poll. */
static void client_polling_the_same_config_keeps_a_rollback_for_its_cooldown(void) {
    static char body[2048], response[2400];
    char url[64];
    server srv;
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    seen s;
    int i, polls;
    NEED_MOCK();
    rollback_config(body, sizeof body, 0);
    snprintf(response, sizeof response, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %u\r\n\r\n%s",
             (unsigned)strlen(body), body);
    memset(&srv, 0, sizeof srv);
    srv.parts[0] = response;
    srv.keepalive = 1;
    srv.threaded = 1;
    server_start(&srv);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/config.json", srv.port);
    memset(&d, 0, sizeof d);
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    d.config_url = url;
    d.config_poll_ms = 20;
    d.http.proxy = "";
    d.on_record = on_record;
    d.user_data = &s;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (!c) { printf("  %s\n", err.message); server_stop(&srv); return; }
    CHECK(trip_broken_arm(c));
    polls = LOAD(srv.requests);
    for (i = 0; i < 200 && LOAD(srv.requests) < polls + 5; i++) sleep_ms(10);
    CHECK_GE_INT(LOAD(srv.requests), polls + 5);
    CHECK_EQ_INT(requests_to_broken(c, 20), 0);
    CHECK_EQ_INT(config_events(&s), 0);
    CHECK_EQ_UINT(llmsplit_client_get_stats(c).config_reloads, 0);
    llmsplit_client_destroy(c);
    server_stop(&srv);
}

/* Touching the file (same text) is no reload; a real change keeps the health and cooldown of the
   arms that stay, and says that the pool's size waits for a restart. */
static void client_reload_keeps_the_cooldown_of_arms_that_stay(void) {
    char path[] = "/tmp/llmsplit-test-config-XXXXXX", text[2048];
    llmsplit_client *c = NULL;
    llmsplit_error err;
    seen s;
    int i;
    NEED_MOCK();
    rollback_config(text, sizeof text, 0);
    c = make_watching(path, text, &s, &err);
    CHECK(c != NULL);
    if (!c) { printf("  %s\n", err.message); unlink(path); return; }
    CHECK(trip_broken_arm(c));
    sleep_ms(30);            /* a new mtime, whatever the file system's resolution */
    write_file(path, text);  /* the same text */
    sleep_ms(300);           /* many polls */
    CHECK_EQ_INT(config_events(&s), 0);
    CHECK_EQ_INT(requests_to_broken(c, 20), 0);
    rollback_config(text, sizeof text, 1);
    write_file(path, text);
    for (i = 0; i < 100 && config_events(&s) < 1; i++) sleep_ms(10);
    CHECK_EQ_INT(config_events(&s), 1);
    CHECK_EQ_UINT(llmsplit_client_get_stats(c).config_reloads, 1);
    CHECK_CONTAINS(s.last_config_reason, "reloaded from ");
    CHECK_CONTAINS(s.last_config_reason, "mirror_threads 3 and mirror_queue 64 take effect at restart (running with 2 and 64)");
    CHECK_EQ_INT(requests_to_broken(c, 20), 0);
    llmsplit_client_destroy(c);
    unlink(path);
}

/* An allocator that takes a while once `slow` is set, and says when it was first used then: it
   turns a config parse into one that lasts long enough to be caught in the middle. */
static int slow, slow_used;
static void *slow_alloc(size_t n, void *ud) {
    (void)ud;
    if (LOAD(slow)) {
        STORE(slow_used, 1);
        sleep_ms(1);
    }
    return malloc(n);
}
static void slow_free(void *p, void *ud) { (void)ud; free(p); }

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A big config took the watcher thread minutes to parse, and destroy waited for it: destroy now
   abandons the parse. Compared with the same parse done on its own, with the same allocator. */
static void client_destroy_abandons_a_config_parse_in_progress(void) {
    char path[] = "/tmp/llmsplit-test-config-XXXXXX";
    size_t cap = 300 * 160 + 100;
    char *big = (char *)malloc(cap), *p = big;
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_config *cfg = NULL;
    llmsplit_error err;
    double t0, parse_s, destroy_s;
    int fd, i;
    p += sprintf(p, "{\"model_list\":[");
    for (i = 0; i < 300; i++)
        p += sprintf(p, "%s{\"model_name\":\"g%d\",\"litellm_params\":{\"model\":\"openai/m%d\",\"temperature\":0.%d}}",
                     i ? "," : "", i, i, i % 10);
    sprintf(p, "]}");
    fd = mkstemp(path);
    close(fd);
    write_file(path, "{\"split\":{\"openai/first\":1}}");
    memset(&d, 0, sizeof d);
    d.config_file = path;
    d.config_poll_ms = 10;
    d.allocator.alloc_fn = slow_alloc;
    d.allocator.free_fn = slow_free;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (!c) { printf("  %s\n", err.message); free(big); unlink(path); return; }
    /* the baseline: the whole parse, slowed the same way */
    STORE(slow, 1);
    t0 = seconds_now();
    CHECK_EQ_INT(llmsplit_config_parse(big, strlen(big), &d.allocator, &cfg, &err), LLMSPLIT_OK);
    parse_s = seconds_now() - t0;
    llmsplit_config_free(cfg);
    STORE(slow_used, 0);
    write_file(path, big);
    for (i = 0; i < 500 && !LOAD(slow_used); i++) sleep_ms(2); /* the watcher has started on it */
    CHECK(LOAD(slow_used));
    sleep_ms(20);
    t0 = seconds_now();
    llmsplit_client_destroy(c);
    destroy_s = seconds_now() - t0;
    STORE(slow, 0);
    if (destroy_s > parse_s / 4) printf("  destroy %.3f s, a whole parse %.3f s\n", destroy_s, parse_s);
    CHECK(destroy_s < parse_s / 4);
    free(big);
    unlink(path);
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    int n = 0, ch;
    if (!f) return -1;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

/* logrotate moves the log away (or deletes it) and expects a new file at the path: records went
   on into the moved file. Followed within a second, or at once with llmsplit_client_reopen_log
   (what a tool does on SIGHUP). */
static void client_log_is_reopened_after_it_was_moved(void) {
    char path[] = "/tmp/llmsplit-test-log-XXXXXX", moved[64], moved2[64];
    static char cfg[2048];
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    llmsplit_result r;
    int fd;
    NEED_MOCK();
    fd = mkstemp(path);
    close(fd);
    snprintf(moved, sizeof moved, "%s.1", path);
    snprintf(moved2, sizeof moved2, "%s.2", path);
    snprintf(cfg, sizeof cfg, "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/gpt-4\",\"api_base\":\"%s/v1\"}}]}", M.url);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    d.log_path = path;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (!c) { printf("  %s\n", err.message); unlink(path); return; }
    CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
    llmsplit_result_free(&r);
    CHECK_EQ_INT(rename(path, moved), 0);
    sleep_ms(1100);
    CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
    llmsplit_result_free(&r);
    CHECK_EQ_INT(count_lines(moved), 2); /* the group's split record, then the call */
    CHECK_EQ_INT(count_lines(path), 1);
    CHECK_EQ_INT(rename(path, moved2), 0);
    CHECK_EQ_INT(llmsplit_client_reopen_log(c, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
    llmsplit_result_free(&r);
    CHECK_EQ_INT(count_lines(moved2), 1);
    CHECK_EQ_INT(count_lines(path), 1);
    llmsplit_client_destroy(c);
    unlink(path);
    unlink(moved);
    unlink(moved2);
}

static int warnings;
static char last_warning[512];
static void count_warnings(llmsplit_log_level level, const char *message, void *ud) {
    (void)ud;
    if (level != LLMSPLIT_LOG_WARN) return;
    warnings++;
    snprintf(last_warning, sizeof last_warning, "%s", message);
}

/* A config is code: it names hosts and the environment variables sent to them. Over plain http
   to another machine, anyone on the path could rewrite it; refused unless the caller says so. */
static void client_config_url_must_be_https_unless_loopback(void) {
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    memset(&d, 0, sizeof d);
    d.config_url = "http://config.example/llmsplit.json?token=secret-token-1";
    d.http.proxy = "";
    d.logger.func = count_warnings;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_ERR_USAGE);
    CHECK(c == NULL);
    CHECK_STARTS(err.message, "config_url must be https:// (or name a loopback host): a config over plain http to config.example");
    CHECK_NOT_CONTAINS(err.message, "secret-token-1");
    CHECK_EQ_INT(warnings, 0);
    /* allowed on purpose: a warning, then the fetch (which fails here: nothing listens on port 1) */
    d.config_url = "http://0.0.0.0:1/llmsplit.json";
    d.allow_insecure_config_url = 1;
    CHECK(llmsplit_client_create(&d, &c, &err) != LLMSPLIT_ERR_USAGE);
    CHECK(c == NULL);
    CHECK_EQ_INT(warnings, 1);
    CHECK_CONTAINS(last_warning, "config_url is plain http to 0.0.0.0 (allow_insecure_config_url)");
}

/* A control plane that wants a key: config_api_key and config_headers go with every poll, and
   the key shows up in no message, warning or record. */
static char poll_log[4096];
static void collect_log(llmsplit_log_level level, const char *message, void *ud) {
    size_t n = strlen(poll_log);
    (void)level;
    (void)ud;
    snprintf(poll_log + n, sizeof poll_log - n, "%s\n", message);
}

static void client_config_url_sends_the_api_key_and_headers_to_its_host(void) {
    static char ok[600];
    static const char cfg[] = "{\"split\":{\"ollama/llama3\":1}}";
    llmsplit_http_header extra[1];
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    server srv;
    char url[64];
    int i;
    snprintf(ok, sizeof ok, "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Length: %u\r\n\r\n%s", (unsigned)strlen(cfg), cfg);
    memset(&srv, 0, sizeof srv);
    srv.seq[0] = ok;
    srv.seq[1] = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n";
    srv.read_request = 1;
    srv.keepalive = 1;
    server_start(&srv);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/config", srv.port);
    extra[0].name = "X-Team";
    extra[0].value = "blue";
    memset(&d, 0, sizeof d);
    d.config_url = url;
    d.config_api_key = "cfg-key-123";
    d.config_headers = extra;
    d.num_config_headers = 1;
    d.config_poll_ms = 20;
    d.http.proxy = "";
    d.logger.func = collect_log;
    poll_log[0] = 0;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    for (i = 0; c && i < 300 && (LOAD(srv.requests) < 3 || !strstr(poll_log, "401")); i++) sleep_ms(10);
    llmsplit_client_destroy(c);
    server_stop(&srv);
    /* the last request is a poll after the first answer: key, header and the ETag */
    CHECK_CONTAINS(srv.last_request, "\r\nAuthorization: Bearer cfg-key-123\r\n");
    CHECK_CONTAINS(srv.last_request, "\r\nX-Team: blue\r\n");
    CHECK_CONTAINS(srv.last_request, "\r\nIf-None-Match: \"v1\"\r\n");
    CHECK_CONTAINS(poll_log, "config_url answered HTTP 401 (is config_api_key the key it wants?)");
    CHECK_NOT_CONTAINS(poll_log, "cfg-key-123");
    CHECK_NOT_CONTAINS(poll_log, "blue");
}

/* Headers the client writes itself, a value that would split the request, a key without a URL
   to send it to: refused at create, naming the header, never its value. */
static void client_config_headers_are_checked_at_create(void) {
    static const struct { const char *name, *value, *key, *file, *want; } cases[] = {
        {"Host", "evil.example", NULL, NULL, "client: config_headers[0]: Host is written by the client"},
        {"If-None-Match", "x", NULL, NULL, "client: config_headers[0]: If-None-Match is written by the client"},
        {"X-Key", "secret-1\r\nX-Evil: 1", NULL, NULL, "client: config_headers[0]: CR or LF in the value of X-Key"},
        {"Bad Name", "v", NULL, NULL, "client: config_headers[0]: the name must be an HTTP token"},
        {"authorization", "Basic secret-1", "k", NULL, "client: config_headers[0]: Authorization is config_api_key's"},
        {NULL, NULL, "secret-1", "/nonexistent.json", "client: config_api_key and config_headers go with config_url"},
        {NULL, NULL, "secret-1\n", NULL, "client: config_api_key is empty or has a CR or LF"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llmsplit_http_header h[1];
        llmsplit_client_desc d;
        llmsplit_client *c = NULL;
        llmsplit_error err;
        memset(&d, 0, sizeof d);
        if (cases[i].name) {
            h[0].name = cases[i].name;
            h[0].value = cases[i].value;
            d.config_headers = h;
            d.num_config_headers = 1;
        }
        d.config_api_key = cases[i].key;
        if (cases[i].file) d.config_file = cases[i].file;
        else d.config_url = "http://127.0.0.1:1/config";
        d.http.proxy = "";
        CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_ERR_USAGE);
        CHECK(c == NULL);
        CHECK_STR(err.message, cases[i].want);
        CHECK_NOT_CONTAINS(err.message, "secret-1");
    }
}

/* --- feedback ------------------------------------------------------------------------------- */

static const char *with_feedback_rollback; /* tests/data/client_with_feedback_rollback.json */

static void client_feedback_record_names_the_arm_that_answered(void) {
    llmsplit_error err;
    llmsplit_client *c;
    llmsplit_result r;
    llmsplit_json_doc *doc = NULL;
    const llmsplit_json_val *root;
    seen s;
    char dep[16];
    NEED_MOCK();
    c = make(split_80_20, &s, &err);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
    CHECK_EQ_INT(llmsplit_client_feedback(c, r.request_id, "thumbs_up", 1, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(s.feedbacks, 1);
    CHECK_EQ_INT(llmsplit_json_parse(s.last_feedback, strlen(s.last_feedback), NULL, &doc, NULL), LLMSPLIT_OK);
    root = llmsplit_json_root(doc);
    CHECK_EQ_STR(llmsplit_json_str(llmsplit_json_get(root, "event"), NULL), "feedback");
    CHECK_EQ_STR(llmsplit_json_str(llmsplit_json_get(root, "request_id"), NULL), r.request_id);
    CHECK_EQ_STR(llmsplit_json_str(llmsplit_json_get(root, "metric"), NULL), "thumbs_up");
    CHECK_EQ_INT((int)llmsplit_json_double(llmsplit_json_get(root, "value")), 1);
    CHECK_EQ_STR(llmsplit_json_str(llmsplit_json_get(root, "group"), NULL), "chat");
    CHECK_EQ_INT((int)llmsplit_json_double(llmsplit_json_get(root, "deployment")), r.deployment);
    /* the model as the call record names it: the name sent upstream */
    CHECK_CONTAINS(r.model, llmsplit_json_str(llmsplit_json_get(root, "model"), NULL));
    snprintf(dep, sizeof dep, "\"deployment\":%d", r.deployment);
    CHECK_CONTAINS(s.last_feedback, dep);
    CHECK_CONTAINS(s.last_feedback, "\"ts\":\"");
    llmsplit_json_free(doc);
    llmsplit_result_free(&r);
    llmsplit_client_destroy(c);
}

/* The report (`llmsplit report --json`, the tool the mock runs from) reads the library's feedback
   records: their mean per arm, joined to the calls by request_id. */
static void client_feedback_in_the_log_shows_in_the_report_per_arm(void) {
    char path[] = "/tmp/llmsplit-test-feedback-XXXXXX", cmd[600], out[65536];
    static char cfg[2048];
    const char *tool = getenv("LLMSPLIT_TOOL") ? getenv("LLMSPLIT_TOOL") : "build/llmsplit";
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    FILE *p;
    size_t n;
    int fd, i;
    NEED_MOCK();
    fd = mkstemp(path);
    close(fd);
    with_mock(split_80_20, cfg, sizeof cfg);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    d.log_path = path;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (!c) return;
    for (i = 0; i < 10; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
        CHECK_EQ_INT(llmsplit_client_feedback(c, r.request_id, "thumbs_up", 1, &err), LLMSPLIT_OK);
        llmsplit_result_free(&r);
    }
    llmsplit_client_destroy(c);
    snprintf(cmd, sizeof cmd, "%s report --json %s", tool, path);
    p = popen(cmd, "r");
    CHECK(p != NULL);
    if (!p) return;
    n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    CHECK_EQ_INT(pclose(p), 0);
    CHECK_CONTAINS(out, "\"feedback.thumbs_up\":{\"n\":");
    CHECK_CONTAINS(out, "\"events_without_call\":0");
    unlink(path);
}

static void client_feedback_for_an_unknown_call_is_recorded_with_nulls(void) {
    llmsplit_error err;
    llmsplit_client *c;
    seen s;
    NEED_MOCK();
    c = make(split_80_20, &s, &err);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(llmsplit_client_feedback(c, "0123456789abcdef0123456789abcdef", "csat", 4.5, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(llmsplit_client_feedback(c, "from-another-process", "accepted", 0, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(s.feedbacks, 2);
    CHECK_CONTAINS(s.last_feedback, "\"request_id\":\"from-another-process\",\"metric\":\"accepted\",\"value\":0,"
                                    "\"group\":null,\"deployment\":null,\"model\":null");
    llmsplit_client_destroy(c);
}

static void client_feedback_remembers_only_the_last_calls(void) {
    llmsplit_error err;
    llmsplit_client *c;
    seen s;
    char ids[40][40];
    int i;
    NEED_MOCK();
    c = make(split_80_20, &s, &err);
    CHECK(c != NULL);
    if (!c) return;
    for (i = 0; i < 40; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
        snprintf(ids[i], sizeof ids[i], "%s", r.request_id);
        llmsplit_result_free(&r);
    }
    /* LLMSPLIT_FEEDBACK_MAX_CALLS is 8 in this file: the last 8 are known, older ones are not
       (checked newest first and oldest first, so every slot of the index is probed after
       many evictions) */
    for (i = 39; i >= 0; i--) {
        CHECK_EQ_INT(llmsplit_client_feedback(c, ids[i], "accepted", 1, &err), LLMSPLIT_OK);
        if (i >= 32) CHECK_CONTAINS(s.last_feedback, "\"group\":\"chat\"");
        else CHECK_CONTAINS(s.last_feedback, "\"group\":null");
    }
    llmsplit_client_destroy(c);
}

static void client_feedback_refuses_a_bad_metric_or_value(void) {
    static const char *const bad[] = {"", "thumbs up", "a/b", "x\"y",
                                      "m2345678901234567890123456789012345678901234567890123456789012345"};
    llmsplit_error err;
    llmsplit_client *c;
    double zero = 0.0;
    seen s;
    size_t i;
    NEED_MOCK();
    c = make(split_80_20, &s, &err);
    CHECK(c != NULL);
    if (!c) return;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(llmsplit_client_feedback(c, "id", bad[i], 1, &err), LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(llmsplit_client_feedback(c, "id", NULL, 1, &err), LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(llmsplit_client_feedback(c, "id", "ok", zero / zero, &err), LLMSPLIT_ERR_USAGE);
    CHECK_CONTAINS(err.message, "finite");
    CHECK_EQ_INT(llmsplit_client_feedback(c, "id", "ok", 1.0 / zero, &err), LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(llmsplit_client_feedback(c, NULL, "ok", 1, &err), LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(llmsplit_client_feedback(c, "id", "m234567890123456789012345678901234567890123456789012345678901234",
                                          -2.5e10, &err), LLMSPLIT_OK); /* 64 bytes: the longest name */
    CHECK_EQ_INT(s.feedbacks, 1);
    llmsplit_client_destroy(c);
}

static void client_feedback_below_min_mean_rolls_the_arm_back_until_the_cooldown(void) {
    llmsplit_error err;
    llmsplit_client *c;
    seen s;
    int i, to_gpt4_after = 0, to_gpt4_back = 0;
    struct timespec ts = {1, 200000000L};
    NEED_MOCK();
    c = make(with_feedback_rollback, &s, &err);
    CHECK(c != NULL);
    if (!c) { printf("  %s\n", err.message); return; }
    /* users dislike every gpt-4 answer and like every gpt-4o one */
    for (i = 0; i < 60; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
        llmsplit_client_feedback(c, r.request_id, "thumbs_up", strcmp(r.model, "openai/gpt-4") == 0 ? 0 : 1, NULL);
        llmsplit_client_feedback(c, r.request_id, "other_metric", 0, NULL); /* not the rollback's metric */
        llmsplit_result_free(&r);
    }
    CHECK_EQ_INT(s.rollbacks, 1);
    CHECK_EQ_STR(s.last_rollback_reason, "feedback thumbs_up mean 0 < 0.5 over 5 calls");
    for (i = 0; i < 40; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, "chat", NULL, &r), LLMSPLIT_OK);
        to_gpt4_after += strcmp(r.model, "openai/gpt-4") == 0;
        llmsplit_client_feedback(c, r.request_id, "thumbs_up", 1, NULL);
        llmsplit_result_free(&r);
    }
    CHECK_EQ_INT(to_gpt4_after, 0);
    CHECK_EQ_INT(s.rollbacks, 1); /* gpt-4o's good feedback never trips it */
    nanosleep(&ts, NULL); /* past the 1 s cooldown */
    for (i = 0; i < 40; i++) {
        llmsplit_result r;
        ask(c, "chat", NULL, &r);
        to_gpt4_back += strcmp(r.model, "openai/gpt-4") == 0;
        llmsplit_result_free(&r);
    }
    CHECK_GT_INT(to_gpt4_back, 5);
    CHECK_EQ_UINT(llmsplit_client_get_stats(c).rollbacks, 1);
    llmsplit_client_destroy(c);
}

static void feedback_config(char *out, size_t size, int changed) {
    char other[400] = "";
    if (changed)
        snprintf(other, sizeof other, "{\"model_name\":\"other\",\"litellm_params\":{\"model\":\"openai/other\",\"api_base\":\"%s/v1\"}},", M.url);
    snprintf(out, size,
             "{\"model_list\":[%s"
             "{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/gpt-4\",\"api_base\":\"%s/v1\"}},"
             "{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/gpt-4o\",\"api_base\":\"%s/v1\"}}],"
             "\"router_settings\":{\"rollback\":{\"cooldown_s\":600,"
             "\"feedback\":{\"metric\":\"thumbs_up\",\"min_mean\":0.5,\"min_count\":5}}}}",
             other, M.url, M.url);
}

/* Sends calls until n of them were answered by gpt-4, giving each of those a thumbs_up 0. */
static void thumbs_down_gpt4(llmsplit_client *c, int n) {
    int i;
    for (i = 0; i < 200 && n > 0; i++) {
        llmsplit_result r;
        if (ask(c, "chat", NULL, &r) == LLMSPLIT_OK && strcmp(r.model, "openai/gpt-4") == 0) {
            llmsplit_client_feedback(c, r.request_id, "thumbs_up", 0, NULL);
            n--;
        }
        llmsplit_result_free(&r);
    }
}

/* A reload keeps the feedback an arm has gathered, also when the arm moved to another index:
   four thumbs down before it and one after trip the window of five. */
static void client_reload_keeps_the_feedback_window_of_arms_that_stay(void) {
    char path[] = "/tmp/llmsplit-test-config-XXXXXX", text[2048];
    llmsplit_client *c = NULL;
    llmsplit_error err;
    seen s;
    int i;
    NEED_MOCK();
    feedback_config(text, sizeof text, 0);
    c = make_watching(path, text, &s, &err);
    CHECK(c != NULL);
    if (!c) { printf("  %s\n", err.message); unlink(path); return; }
    thumbs_down_gpt4(c, 4);
    CHECK_EQ_INT(s.rollbacks, 0);
    feedback_config(text, sizeof text, 1); /* gpt-4 moves from deployment 0 to 1 */
    write_file(path, text);
    for (i = 0; i < 100 && config_events(&s) < 1; i++) sleep_ms(10);
    CHECK_EQ_INT(config_events(&s), 1);
    thumbs_down_gpt4(c, 1);
    CHECK_EQ_INT(s.rollbacks, 1);
    CHECK_EQ_STR(s.last_rollback_reason, "feedback thumbs_up mean 0 < 0.5 over 5 calls");
    llmsplit_client_destroy(c);
    unlink(path);
}

static void client_feedback_rollback_config_is_checked_with_key_paths(void) {
    static const struct { const char *feedback, *message; } cases[] = {
        {"{\"metric\":\"a b\",\"min_mean\":1,\"min_count\":2}", "router_settings.rollback.feedback.metric: must be a name"},
        {"{\"min_mean\":1,\"min_count\":2}", "router_settings.rollback.feedback: needs a metric"},
        {"{\"metric\":\"x\",\"min_count\":2}", "router_settings.rollback.feedback: needs min_mean"},
        {"{\"metric\":\"x\",\"min_mean\":\"1\",\"min_count\":2}", "router_settings.rollback.feedback.min_mean: must be a number"},
        {"{\"metric\":\"x\",\"min_mean\":1}", "router_settings.rollback.feedback: needs min_count"},
        {"{\"metric\":\"x\",\"min_mean\":1,\"min_count\":0}", "router_settings.rollback.feedback.min_count: must be >= 1"},
        {"{\"metric\":\"x\",\"min_mean\":1,\"min_count\":10001}", "router_settings.rollback.feedback.min_count: must be <= 10000"},
        {"{\"metric\":\"x\",\"min_mean\":1,\"min_count\":2,\"window\":3}", "router_settings.rollback.feedback.window: unknown key"},
        {"[]", "router_settings.rollback.feedback: must be an object"},
    };
    char text[600];
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llmsplit_client *c = NULL;
        llmsplit_error err;
        llmsplit_client_desc d;
        memset(&d, 0, sizeof d);
        snprintf(text, sizeof text, "{\"model_list\":[{\"model_name\":\"a\",\"litellm_params\":{\"model\":\"gpt-4\"}}],"
                 "\"router_settings\":{\"rollback\":{\"feedback\":%s}}}", cases[i].feedback);
        d.config_json = text;
        CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_ERR_CONFIG);
        CHECK_CONTAINS(err.message, cases[i].message);
        llmsplit_client_destroy(c);
    }
}

static void client_invalid_config_is_refused_with_the_key_path(void) {
    llmsplit_client *c = NULL;
    llmsplit_error err;
    llmsplit_client_desc d;
    memset(&d, 0, sizeof d);
    d.config_json = "{\"model_list\":[{\"model_name\":\"a\",\"litellm_params\":{\"model\":\"gpt-4\",\"weight\":\"x\"}}]}";
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_ERR_CONFIG);
    CHECK(c == NULL);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "model_list[0].litellm_params.weight");
    d.config_json = NULL;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_ERR_USAGE);
    CHECK(c == NULL);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_USAGE);
}

static void client_log_file_gets_one_json_line_per_record(void) {
    char path[] = "/tmp/llmsplit-test-log-XXXXXX", line[8192];
    static char cfg[2048];
    llmsplit_client_desc d;
    llmsplit_client *c;
    llmsplit_error err;
    FILE *f;
    int fd, i, lines = 0, silent = 0, bad = 0, splits = 0;
    NEED_MOCK();
    fd = mkstemp(path);
    close(fd);
    with_mock(mirrored, cfg, sizeof cfg);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    d.log_path = path;
    d.keep_responses = 1;
    llmsplit_client_create(&d, &c, &err);
    CHECK(c != NULL);
    if (!c) return;
    for (i = 0; i < 5; i++) {
        llmsplit_result r;
        ask(c, "chat", "u1", &r);
        llmsplit_result_free(&r);
    }
    llmsplit_client_destroy(c); /* drains the silent calls */
    f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        llmsplit_json_doc *doc = NULL;
        llmsplit_json_parse(line, strlen(line), NULL, &doc, NULL);
        const llmsplit_json_val *root = llmsplit_json_root(doc);
        lines++;
        if (!doc) { bad++; continue; }
        if (strcmp(llmsplit_json_str(llmsplit_json_get(root, "event"), NULL), "split") == 0) {
            splits++; /* the weights, not a call: no response in it */
            llmsplit_json_free(doc);
            continue;
        }
        if (llmsplit_json_is_true(llmsplit_json_get(root, "is_silent_experiment"))) silent++;
        if (!llmsplit_json_str(llmsplit_json_get(root, "response"), NULL)) bad++;
        if (strstr(line, "api_key") || strstr(line, "test-key")) bad++;
        llmsplit_json_free(doc);
    }
    if (f) fclose(f);
    CHECK_EQ_INT(lines, 11);
    CHECK_EQ_INT(splits, 1);
    CHECK_EQ_INT(silent, 5);
    CHECK_EQ_INT(bad, 0);
    unlink(path);
}

static void client_one_call_split_form(void) {
    const char *models[2] = {"openai/gpt-4", "openai/llama2"};
    double weights[2] = {0.8, 0.2};
    llmsplit_message m = {"user", "Hello, how are you?", 0, NULL, NULL, NULL, NULL};
    llmsplit_result r;
    llmsplit_error err;
    char base[320];
    NEED_MOCK();
    snprintf(base, sizeof base, "%s/v1", M.url);
    setenv("OPENAI_API_BASE", base, 1);
    setenv("OPENAI_API_KEY", "k", 1);
    CHECK_EQ_INT(llmsplit_completion_with_split_tests(models, weights, 2, &m, 1, &r, &err), LLMSPLIT_OK);
    CHECK_GT_UINT(r.response.text.len, 0);
    if (r.response.text.len) CHECK_CONTAINS(r.response.text.data, ": Hello, how are you?");
    llmsplit_result_free(&r);
    llmsplit_completion_cleanup(); /* else the kept client and its thread run on under the later tests */
    unsetenv("OPENAI_API_BASE");
    unsetenv("OPENAI_API_KEY");
}

/* A deployment's route, URL and parameters are resolved when the config is loaded, not at every
   call: the environment's base is the one of that moment (a later change reaches the client at
   its next config load), and the deployment's parameters, parsed once, still merge with each
   request's (the request's win). */
static void client_deployments_are_prepared_when_the_config_loads(void) {
    static const char body[] =
        "{\"id\":\"x\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":"
        "{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}";
    static char answer[512];
    static const char config[] =
        "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/gpt-4o-mini\","
        "\"api_key\":\"sk-test\",\"temperature\":0.125,\"max_tokens\":5}}]}";
    server srv;
    char base[64];
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_message m = {"user", "hello", 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    llmsplit_result r;
    llmsplit_error err;
    int k;
    snprintf(answer, sizeof answer, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %u\r\n\r\n%s",
             (unsigned)strlen(body), body);
    memset(&srv, 0, sizeof srv);
    srv.parts[0] = answer;
    srv.keepalive = 1;
    server_start(&srv);
    snprintf(base, sizeof base, "http://127.0.0.1:%d/v1", srv.port);
    setenv("OPENAI_API_BASE", base, 1);
    memset(&d, 0, sizeof d);
    d.config_json = config;
    d.http.proxy = "";
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    setenv("OPENAI_API_BASE", "http://127.0.0.1:1/v1", 1); /* nobody listens there */
    for (k = 0; c && k < 2; k++) {
        const char *b;
        memset(&rq, 0, sizeof rq);
        rq.group = "chat";
        rq.messages = &m;
        rq.num_messages = 1;
        rq.params_json = k ? NULL : "{\"temperature\":0.875,\"top_p\":0.5}";
        CHECK_EQ_INT(llmsplit_client_chat(c, &rq, &r, &err), LLMSPLIT_OK);
        if (err.code) printf("  %s\n", err.message);
        CHECK_EQ_STR(r.response.text.data ? r.response.text.data : "", "hi");
        llmsplit_result_free(&r);
        b = strstr(srv.last_request, "\r\n\r\n");
        CHECK(b != NULL);
        if (!b) break;
        CHECK_STARTS(srv.last_request, "POST /v1/chat/completions HTTP/1.1\r\n");
        CHECK_CONTAINS(srv.last_request, "\r\nAuthorization: Bearer sk-test\r\n");
        CHECK_CONTAINS(b, "\"model\":\"gpt-4o-mini\"");
        CHECK_CONTAINS(b, "\"max_tokens\":5");
        CHECK_CONTAINS(b, k ? "\"temperature\":0.125" : "\"temperature\":0.875");
        if (!k) CHECK_CONTAINS(b, "\"top_p\":0.5");
        if (!k) CHECK_NOT_CONTAINS(b, "0.125");
    }
    CHECK_EQ_INT(LOAD(srv.requests), 2);
    llmsplit_client_destroy(c);
    unsetenv("OPENAI_API_BASE");
    server_stop(&srv);
}

typedef struct chatter { llmsplit_client *c; int ok; } chatter;
static void *chatter_main(void *arg) {
    chatter *w = (chatter *)arg;
    int i;
    for (i = 0; i < 30; i++) {
        llmsplit_result r;
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        if (ask(w->c, "chat", i % 2 ? key : NULL, &r) == LLMSPLIT_OK) w->ok++;
        llmsplit_result_free(&r);
    }
    return NULL;
}

static const char *mirrored_fast; /* tests/data/client_mirrored_fast.json, read by main */

static void client_many_threads_with_mirroring(void) {
    llmsplit_error err;
    llmsplit_client *c;
    llmsplit_client_stats st;
    seen s;
    pthread_t t[6];
    chatter w[6];
    int i, ok = 0;
    NEED_MOCK();
    c = make(mirrored_fast, &s, &err);
    for (i = 0; i < 6; i++) {
        w[i].c = c;
        w[i].ok = 0;
        pthread_create(&t[i], NULL, chatter_main, &w[i]);
    }
    for (i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    CHECK_EQ_INT(ok, 180);
    CHECK((llmsplit_client_wait_mirrors(c, 20000) == LLMSPLIT_OK));
    st = llmsplit_client_get_stats(c);
    /* every request to the mirrored arm was mirrored once and recorded once */
    CHECK_GT_UINT(st.mirrored, 0);
    CHECK_EQ_INT(s.silent, (int)st.mirrored);
    CHECK_EQ_UINT(st.mirror_completed, st.mirrored);
    CHECK_EQ_INT(s.primary, 180);
    CHECK_EQ_INT(orphans(&s), 0);
    llmsplit_client_destroy(c);
}

/* log_async: six threads' calls and their silent copies reach the file through the writer
   thread, every record a whole line, none lost, all there once destroy returns. */
static void client_log_async_writes_every_record_whole(void) {
    char path[] = "/tmp/llmsplit-test-alog-XXXXXX", line[8192];
    static char cfg[4096];
    llmsplit_client_desc d;
    llmsplit_client *c;
    llmsplit_client_stats st;
    llmsplit_error err;
    pthread_t t[6];
    chatter w[6];
    FILE *f;
    int fd, i, ok = 0, primary = 0, silent = 0, bad = 0, splits = 0;
    NEED_MOCK();
    fd = mkstemp(path);
    close(fd);
    with_mock(mirrored_fast, cfg, sizeof cfg);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    d.log_path = path;
    d.log_async = 1;
    llmsplit_client_create(&d, &c, &err);
    CHECK(c != NULL);
    if (!c) return;
    for (i = 0; i < 6; i++) {
        w[i].c = c;
        w[i].ok = 0;
        pthread_create(&t[i], NULL, chatter_main, &w[i]);
    }
    for (i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    CHECK((llmsplit_client_wait_mirrors(c, 20000) == LLMSPLIT_OK));
    st = llmsplit_client_get_stats(c);
    llmsplit_client_destroy(c); /* the writer writes what is queued */
    f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        llmsplit_json_doc *doc = NULL;
        const llmsplit_json_val *root;
        const char *event;
        llmsplit_json_parse(line, strlen(line), NULL, &doc, NULL);
        if (!doc || line[strlen(line) - 1] != '\n') { bad++; llmsplit_json_free(doc); continue; }
        root = llmsplit_json_root(doc);
        event = llmsplit_json_str(llmsplit_json_get(root, "event"), NULL);
        if (event && strcmp(event, "split") == 0) splits++;
        else if (llmsplit_json_is_true(llmsplit_json_get(root, "is_silent_experiment"))) silent++;
        else primary++;
        llmsplit_json_free(doc);
    }
    if (f) fclose(f);
    unlink(path);
    CHECK_EQ_INT(ok, 180);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(splits, 1);
    CHECK_EQ_INT(primary, 180);
    CHECK_GT_UINT(st.mirrored, 0);
    CHECK_EQ_INT(silent, (int)st.mirrored);
}

/* log_async: the writer lingers for a batch, but a lone record still reaches the file soon
   (within the 10 ms linger, so well within a second) while the client lives on. */
static void client_log_async_a_lone_record_is_written_soon(void) {
    char path[] = "/tmp/llmsplit-test-alog1-XXXXXX", line[8192];
    static char cfg[4096];
    llmsplit_client_desc d;
    llmsplit_client *c;
    llmsplit_result r;
    llmsplit_error err;
    int fd, i, calls = 0;
    NEED_MOCK();
    fd = mkstemp(path);
    close(fd);
    with_mock(mirrored_fast, cfg, sizeof cfg);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    d.log_path = path;
    d.log_async = 1;
    llmsplit_client_create(&d, &c, &err);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(ask(c, "chat", "lone", &r), LLMSPLIT_OK);
    llmsplit_result_free(&r);
    for (i = 0; i < 100 && calls == 0; i++) { /* up to a second */
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof line, f))
            if (strstr(line, "\"role\":\"primary\"") && line[strlen(line) - 1] == '\n') calls++;
        if (f) fclose(f);
        if (!calls) sleep_ms(10);
    }
    CHECK_EQ_INT(calls, 1);
    llmsplit_client_destroy(c);
    unlink(path);
}

/* --- streaming to a gateway: chunks, abort, group_required, fallbacks, reload ------------------- */

/* Collects what on_event and on_delta hand over. */
typedef struct chunks {
    char text[4096];          /* every event: "NAME DATA", one per line */
    size_t len;
    int n, usage_chunks;
    char deltas[1024];
    size_t deltas_len;
    int stop_after;           /* > 0: ask to stop after this many chunks */
    int *flag;                /* set to 1 after flag_after chunks */
    int flag_after;
} chunks;

static int on_event(const char *event, const char *json, size_t len, void *ud) {
    chunks *k = (chunks *)ud;
    size_t en = event ? strlen(event) : 4;
    if (k->len + en + len + 3 < sizeof k->text) {
        memcpy(k->text + k->len, event ? event : "NULL", en);
        k->len += en;
        k->text[k->len++] = ' ';
        memcpy(k->text + k->len, json, len);
        k->len += len;
        k->text[k->len++] = '\n';
        k->text[k->len] = 0;
    }
    if (strstr(json, "\"choices\":[]") && strstr(json, "\"usage\":{")) k->usage_chunks++;
    k->n++;
    if (k->flag && k->n == k->flag_after) __atomic_store_n(k->flag, 1, __ATOMIC_SEQ_CST);
    return k->stop_after > 0 && k->n >= k->stop_after;
}

static int on_text(const char *text, size_t len, void *ud) {
    chunks *k = (chunks *)ud;
    if (k->deltas_len + len < sizeof k->deltas) {
        memcpy(k->deltas + k->deltas_len, text, len);
        k->deltas_len += len;
        k->deltas[k->deltas_len] = 0;
    }
    return 0;
}

/* A streamed call with user_data k; with w, waiting through the counting wait. */
static llmsplit_status ask_stream_with(llmsplit_client *c, const char *group, const char *params, chunks *k,
                                       const volatile int *abort_flag, waits *w, llmsplit_result *res,
                                       llmsplit_error *err) {
    llmsplit_message m = {"user", "one two three", 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group = group;
    rq.messages = &m;
    rq.num_messages = 1;
    rq.stream = 1;
    rq.params_json = params;
    rq.on_event = on_event;
    rq.on_delta = on_text;
    rq.user_data = k;
    rq.abort_flag = abort_flag;
    rq.group_required = 1;
    if (w && w->by_socket) rq.wait_socket = socket_wait;
    else if (w) rq.wait = counting_wait;
    return llmsplit_client_chat(c, &rq, res, err);
}

static llmsplit_status ask_stream(llmsplit_client *c, const char *group, const char *params, chunks *k,
                                  const volatile int *abort_flag, llmsplit_result *res, llmsplit_error *err) {
    return ask_stream_with(c, group, params, k, abort_flag, NULL, res, err);
}

static const char *gateway_config =
    "{\"model_list\":["
    "{\"model_name\":\"oa\",\"litellm_params\":{\"model\":\"openai/gpt-s\",\"api_base\":\"{mock}/v1\",\"api_key\":\"k\"}},"
    "{\"model_name\":\"an\",\"litellm_params\":{\"model\":\"anthropic/claude-s\",\"api_base\":\"{mock}\",\"api_key\":\"k\"}},"
    "{\"model_name\":\"ol\",\"litellm_params\":{\"model\":\"ollama/llama-s\",\"api_base\":\"{mock}\"}},"
    "{\"model_name\":\"drip\",\"litellm_params\":{\"model\":\"openai/dripping\",\"api_base\":\"{mock}/v1\",\"api_key\":\"k\"}},"
    "{\"model_name\":\"limited\",\"litellm_params\":{\"model\":\"openai/limited\",\"api_base\":\"{mock}/v1\",\"api_key\":\"k\"}}]}";

static void client_on_event_hands_over_the_providers_events_as_they_came(void) {
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    chunks k;
    NEED_MOCK();
    c = make(gateway_config, NULL, &err);
    CHECK(c != NULL);
    if (!c) return;
    /* OpenAI: its chat.completion.chunk objects, the usage chunk the library asks for included */
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(ask_stream(c, "oa", NULL, &k, NULL, &res, &err), LLMSPLIT_OK);
    CHECK_CONTAINS(k.text, " {\"id\":\"chatcmpl-mock-");
    CHECK_CONTAINS(k.text, "\"object\":\"chat.completion.chunk\"");
    CHECK_CONTAINS(k.text, "\"delta\":{\"content\":\"three\"}");
    CHECK_EQ_INT(k.usage_chunks, 1);
    CHECK_EQ_INT(res.response.provider, LLMSPLIT_PROVIDER_OPENAI);
    CHECK_STR(k.deltas, "mock reply from gpt-s: one two three");
    CHECK_EQ_INT(res.response.delivered, 1);
    CHECK(strstr(k.text, "[DONE]") == NULL);
    llmsplit_result_free(&res);
    /* Anthropic: its named events, as sent */
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(ask_stream(c, "an", NULL, &k, NULL, &res, &err), LLMSPLIT_OK);
    CHECK_CONTAINS(k.text, "message_start {\"type\":\"message_start\"");
    CHECK_CONTAINS(k.text, "content_block_delta {\"type\":\"content_block_delta\"");
    CHECK_CONTAINS(k.text, "message_stop {\"type\":\"message_stop\"}");
    CHECK_EQ_INT(res.response.provider, LLMSPLIT_PROVIDER_ANTHROPIC);
    llmsplit_result_free(&res);
    /* Ollama: its JSON lines, no event name */
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(ask_stream(c, "ol", NULL, &k, NULL, &res, &err), LLMSPLIT_OK);
    CHECK_CONTAINS(k.text, "NULL {\"model\":\"llama-s\"");
    CHECK_CONTAINS(k.text, "\"done\":true");
    llmsplit_result_free(&res);
    llmsplit_client_destroy(c);
}

static void client_abort_flag_stops_the_stream_and_records_client_closed(void) {
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    chunks k;
    seen s;
    int flag = 0;
    NEED_MOCK();
    c = make(gateway_config, &s, &err);
    CHECK(c != NULL);
    if (!c) return;
    memset(&k, 0, sizeof k);
    k.flag = &flag; /* the "client" goes away after two events: the rest (a second apart) never comes */
    k.flag_after = 2;
    CHECK(ask_stream(c, "drip", NULL, &k, &flag, &res, &err) != LLMSPLIT_OK);
    CHECK_EQ_INT(res.client_closed, 1);
    CHECK_EQ_INT(k.n, 2); /* nothing after the flag: the stream stopped there */
    CHECK_EQ_INT(llmsplit_client_get_stats(c).errors, 0);
    llmsplit_result_free(&res);
    llmsplit_client_destroy(c);
    CHECK_EQ_INT(s.primary, 1);
}

/* on_answer: once, on success only, with the whole result (cost included), before the record is
   written, and feedback for the request is accepted from inside it (a gateway's client may send
   feedback the moment it has its answer). */
typedef struct answered {
    llmsplit_client *c;
    seen *s;
    int calls, primary_records_then, feedback_rc;
    double cost;
    char request_id[40], text[200];
} answered;

static void on_answer_seen(const llmsplit_result *res, void *ud) {
    answered *a = (answered *)ud;
    llmsplit_error err;
    a->calls++;
    pthread_mutex_lock(&a->s->lock);
    a->primary_records_then = a->s->primary;
    pthread_mutex_unlock(&a->s->lock);
    a->cost = res->cost_usd;
    snprintf(a->request_id, sizeof a->request_id, "%s", res->request_id);
    snprintf(a->text, sizeof a->text, "%.*s", (int)res->response.text.len, res->response.text.data ? res->response.text.data : "");
    a->feedback_rc = (int)llmsplit_client_feedback(a->c, res->request_id, "thumbs_up", 1, &err);
}

static void client_on_answer_comes_before_the_record_and_only_on_success(void) {
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    llmsplit_message m = {"user", "hello", 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    answered a;
    seen s;
    NEED_MOCK();
    c = make(gateway_config, &s, &err);
    CHECK(c != NULL);
    if (!c) return;
    memset(&a, 0, sizeof a);
    a.c = c;
    a.s = &s;
    a.feedback_rc = -1;
    memset(&rq, 0, sizeof rq);
    rq.group = "oa";
    rq.messages = &m;
    rq.num_messages = 1;
    rq.on_answer = on_answer_seen;
    rq.user_data = &a;
    rq.keep_raw = 1;
    CHECK_EQ_INT(llmsplit_client_chat(c, &rq, &res, &err), LLMSPLIT_OK);
    {   /* keep_raw: the provider's body as it came */
        char raw[1024];
        snprintf(raw, sizeof raw, "%.*s", (int)res.response.raw.len, res.response.raw.data ? res.response.raw.data : "");
        CHECK_CONTAINS(raw, "{\"id\":\"chatcmpl-mock-");
        CHECK_CONTAINS(raw, "\"system_fingerprint\":\"fp_mock\"}");
    }
    rq.keep_raw = 0;
    CHECK_EQ_INT(a.calls, 1);
    CHECK_EQ_INT(a.primary_records_then, 0); /* the record followed the answer */
    CHECK_EQ_INT(s.primary, 1);
    CHECK_STR(a.request_id, res.request_id);
    CHECK_STR(a.text, "mock reply from gpt-s: hello");
    CHECK_EQ_DBL(a.cost, res.cost_usd);
    CHECK_EQ_INT(a.feedback_rc, LLMSPLIT_OK);
    CHECK_EQ_INT(s.feedbacks, 1);
    CHECK_CONTAINS(s.last_feedback, "\"deployment\":0"); /* the arm was known inside on_answer */
    llmsplit_result_free(&res);
    /* a stream: once, after the last delta */
    memset(&a, 0, sizeof a);
    a.c = c;
    a.s = &s;
    rq.stream = 1;
    CHECK_EQ_INT(llmsplit_client_chat(c, &rq, &res, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(a.calls, 1);
    CHECK_STR(a.text, "mock reply from gpt-s: hello");
    llmsplit_result_free(&res);
    /* a failure (429 after the retries): never called */
    memset(&a, 0, sizeof a);
    a.c = c;
    a.s = &s;
    rq.stream = 0;
    rq.group = "limited";
    CHECK_EQ_INT(llmsplit_client_chat(c, &rq, &res, &err), LLMSPLIT_ERR_PROVIDER);
    CHECK_EQ_INT(a.calls, 0);
    llmsplit_result_free(&res);
    llmsplit_client_destroy(c);
}

static void client_abort_record_says_client_closed(void) {
    llmsplit_record r;
    llmsplit_buf b;
    memset(&r, 0, sizeof r);
    r.event = "call";
    r.client_closed = 1;
    r.code = LLMSPLIT_ERR_USAGE;
    r.error = "aborted by the caller: its client went away";
    r.ttft_ms = r.cost_usd = -1;
    r.prompt_tokens = r.completion_tokens = -1;
    llmsplit_buf_init(&b, NULL);
    CHECK_EQ_INT(llmsplit_record_json(&r, &b), LLMSPLIT_OK);
    CHECK_CONTAINS(b.data, "\"status\":\"client_closed\"");
    llmsplit_buf_free(&b);
}

static void client_group_required_refuses_a_model_string(void) {
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    chunks k;
    NEED_MOCK();
    c = make(gateway_config, NULL, &err);
    CHECK(c != NULL);
    if (!c) return;
    memset(&k, 0, sizeof k);
    CHECK_EQ_INT(ask_stream(c, "openai/gpt-4", NULL, &k, NULL, &res, &err), LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(res.unknown_group, 1);
    CHECK_CONTAINS(err.message, "'openai/gpt-4' is not a model group of the config");
    CHECK_EQ_INT(k.n, 0);
    llmsplit_result_free(&res);
    llmsplit_client_destroy(c);
}

static void client_reports_the_providers_retry_after(void) {
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    NEED_MOCK();
    c = make(gateway_config, NULL, &err);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(ask(c, "limited", NULL, &res), LLMSPLIT_ERR_PROVIDER);
    CHECK_EQ_INT(res.response.http_status, 429);
    CHECK_EQ_DBL(res.response.retry_after_s, 3.0);
    llmsplit_result_free(&res);
    llmsplit_client_destroy(c);
}

/* A stream that breaks after text reached the caller must not go to the fallback: the caller
   would get the fallback's whole answer after the first one's beginning. */
static void client_no_fallback_once_a_stream_was_delivered(void) {
    static server srv;
    char cfg[1024];
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    chunks k;
    NEED_MOCK();
    memset(&srv, 0, sizeof srv);
    srv.parts[0] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                   "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"partial \"}}]}\n\n";
    srv.after = AFTER_RESET;
    srv.read_request = 1;
    server_start(&srv);
    snprintf(cfg, sizeof cfg,
             "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/x\",\"api_base\":"
             "\"http://127.0.0.1:%d/v1\",\"api_key\":\"k\"}},{\"model_name\":\"backup\",\"litellm_params\":{\"model\":"
             "\"openai/y\",\"api_base\":\"{mock}/v1\",\"api_key\":\"k\"}}],\"router_settings\":{\"fallbacks\":[{\"chat\":[\"backup\"]}]}}",
             srv.port);
    c = make(cfg, NULL, &err);
    CHECK(c != NULL);
    if (c) {
        memset(&k, 0, sizeof k);
        CHECK(ask_stream(c, "chat", NULL, &k, NULL, &res, &err) != LLMSPLIT_OK);
        CHECK_EQ_INT(res.fallback, 0);
        CHECK_STR(k.deltas, "partial ");
        llmsplit_result_free(&res);
        /* without a delivered stream the fallback still answers */
        CHECK_EQ_INT(ask(c, "chat", NULL, &res), LLMSPLIT_OK);
        CHECK_EQ_INT(res.fallback, 1);
        llmsplit_result_free(&res);
        llmsplit_client_destroy(c);
    }
    server_stop(&srv);
}

static void client_reload_reads_the_file_at_once(void) {
    char path[] = "/tmp/llmsplit-test-reload-XXXXXX", text[1024];
    const llmsplit_config *held, *now;
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    int fd = mkstemp(path);
    NEED_MOCK();
    close(fd);
    with_mock("{\"model_list\":[{\"model_name\":\"one\",\"litellm_params\":{\"model\":\"openai/a\",\"api_base\":\"{mock}/v1\"}}]}",
              text, sizeof text);
    write_file(path, text);
    memset(&d, 0, sizeof d);
    d.config_file = path;
    d.config_poll_ms = 3600000; /* the watcher would look only in an hour */
    d.http.proxy = "";
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (!c) return;
    held = llmsplit_client_config_acquire(c);
    CHECK_STR(held->groups[0].name, "one");
    with_mock("{\"model_list\":[{\"model_name\":\"two\",\"litellm_params\":{\"model\":\"openai/a\",\"api_base\":\"{mock}/v1\"}}],"
              "\"general_settings\":{\"master_key\":\"sk-gw\"}}", text, sizeof text);
    write_file(path, text);
    CHECK_EQ_INT(llmsplit_client_reload(c, &err), LLMSPLIT_OK);
    now = llmsplit_client_config_acquire(c);
    CHECK_STR(now->groups[0].name, "two");
    CHECK_STR(now->master_key, "sk-gw");
    CHECK_STR(held->groups[0].name, "one"); /* an acquired config outlives the reload */
    llmsplit_client_config_release(c, now);
    llmsplit_client_config_release(c, held);
    write_file(path, "{\"model_list\": 1}");
    CHECK_EQ_INT(llmsplit_client_reload(c, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "model_list");
    CHECK_EQ_INT(llmsplit_client_reload(c, &err), LLMSPLIT_ERR_CONFIG); /* asked again: refused again, not silent */
    now = llmsplit_client_config_acquire(c);
    CHECK_STR(now->groups[0].name, "two");
    llmsplit_client_config_release(c, now);
    llmsplit_client_destroy(c);
    unlink(path);
}

static void client_reload_of_a_config_given_as_text_is_a_usage_error(void) {
    llmsplit_client *c;
    llmsplit_error err;
    NEED_MOCK();
    c = make(gateway_config, NULL, &err);
    CHECK(c != NULL);
    if (!c) return;
    CHECK_EQ_INT(llmsplit_client_reload(c, &err), LLMSPLIT_ERR_USAGE);
    llmsplit_client_destroy(c);
}

/* A control plane puts its change into service with reload_text, then writes the file: the
   record names the change, and the file holding the same text later is no second reload. A
   refused text leaves the config in use. */
static void client_reload_text_installs_it_and_the_same_file_later_is_no_reload(void) {
    char path[] = "/tmp/llmsplit-test-reload-text-XXXXXX", one[1024], two[1024];
    const llmsplit_config *now;
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    seen s;
    int fd = mkstemp(path), i;
    NEED_MOCK();
    close(fd);
    with_mock("{\"model_list\":[{\"model_name\":\"one\",\"litellm_params\":{\"model\":\"openai/a\",\"api_base\":\"{mock}/v1\"}}]}",
              one, sizeof one);
    with_mock("{\"model_list\":[{\"model_name\":\"two\",\"litellm_params\":{\"model\":\"openai/a\",\"api_base\":\"{mock}/v1\"}}]}",
              two, sizeof two);
    write_file(path, one);
    memset(&d, 0, sizeof d);
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    d.config_file = path;
    d.config_poll_ms = 10;
    d.http.proxy = "";
    d.on_record = on_record;
    d.user_data = &s;
    d.logger.func = collect_log; /* the refusal below is logged: not on the test's output */
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (!c) { unlink(path); return; }
    CHECK_EQ_INT(llmsplit_client_reload_text(c, two, strlen(two), "the control plane, version 2", &err), LLMSPLIT_OK);
    now = llmsplit_client_config_acquire(c);
    CHECK_STR(now->groups[0].name, "two");
    llmsplit_client_config_release(c, now);
    CHECK_EQ_INT(config_events(&s), 1);
    CHECK_STR(s.last_config_reason, "reloaded from the control plane, version 2");
    write_file(path, two);                 /* then the file: the watcher finds the text it has */
    for (i = 0; i < 30; i++) sleep_ms(10); /* many polls */
    CHECK_EQ_INT(config_events(&s), 1);
    CHECK_EQ_UINT(llmsplit_client_get_stats(c).config_reloads, 1);
    CHECK_EQ_INT(llmsplit_client_reload_text(c, two, strlen(two), "again", &err), LLMSPLIT_OK); /* in use: nothing */
    CHECK_EQ_INT(config_events(&s), 1);
    CHECK_EQ_INT(llmsplit_client_reload_text(c, "{\"model_list\": 1}", 17, "the control plane", &err), LLMSPLIT_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "model_list: must be an array");
    now = llmsplit_client_config_acquire(c);
    CHECK_STR(now->groups[0].name, "two");
    llmsplit_client_config_release(c, now);
    CHECK_EQ_INT(llmsplit_client_reload_text(NULL, two, strlen(two), NULL, &err), LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(llmsplit_client_reload_text(c, NULL, 3, NULL, &err), LLMSPLIT_ERR_USAGE);
    llmsplit_client_destroy(c);
    unlink(path);
}

/* --- the caller's wait (an event loop's) ----------------------------------------------------- */

/* One call to group with the counting wait (user_data w). */
static llmsplit_status ask_waiting(llmsplit_client *c, const char *group, waits *w, llmsplit_result *res,
                                   llmsplit_error *err) {
    llmsplit_message m = {"user", "hello", 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group = group;
    rq.messages = &m;
    rq.num_messages = 1;
    rq.user_data = w;
    if (w->by_socket) rq.wait_socket = socket_wait;
    else rq.wait = counting_wait;
    return llmsplit_client_chat(c, &rq, res, err);
}

/* The pause before a retry is a plain timed wait (fd -1) of the caller's, and the answer of the
   retry arrives; a wait that fails there ends the call as a network error, without the retry. */
static void client_wait_hook_carries_the_retry_pause(void) {
    static server srv;
    static char refusal[300], answer[400];
    const char *no = "{\"error\":{\"message\":\"try again\",\"type\":\"server_error\"}}";
    const char *yes = "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"second time lucky\"},"
                      "\"finish_reason\":\"stop\"}]}";
    char cfg[1024];
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    waits w;
    snprintf(refusal, sizeof refusal, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\n"
             "Connection: close\r\nContent-Length: %u\r\n\r\n%s", (unsigned)strlen(no), no);
    snprintf(answer, sizeof answer, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
             "Content-Length: %u\r\n\r\n%s", (unsigned)strlen(yes), yes);
    memset(&srv, 0, sizeof srv);
    srv.seq[0] = refusal; /* the first call: refused, then answered */
    srv.seq[1] = answer;
    srv.seq[2] = refusal; /* the second: refused */
    srv.read_request = 1;
    server_start(&srv);
    snprintf(cfg, sizeof cfg,
             "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/x\",\"api_base\":"
             "\"http://127.0.0.1:%d/v1\",\"api_key\":\"k\"}}],\"router_settings\":{\"num_retries\":1}}", srv.port);
    c = make(cfg, NULL, &err);
    CHECK(c != NULL);
    if (c) {
        waits_init(&w, &w);
        w.client = c;
        w.by_socket = 1; /* (the pause comes through wait_socket too, with fd -1 and id 0) */
        CHECK_EQ_INT(ask_waiting(c, "chat", &w, &res, &err), LLMSPLIT_OK);
        CHECK_EQ_INT(res.response.attempts, 2);
        CHECK_STR(res.response.text.data, "second time lucky");
        CHECK_GE_INT(w.timed, 1); /* an IP literal: no lookup, so these are the pause */
        CHECK_EQ_INT(w.bad_id, 0);
        CHECK_GE_INT(w.nsock, 2); /* one socket per attempt (the server closes each) */
        CHECK(w.nsock >= 2 && w.sock_id[w.nsock - 1] > w.sock_id[0]);
        CHECK_EQ_INT(w.other_thread, 0);
        CHECK_EQ_INT(w.wrong_ud, 0);
        CHECK_EQ_INT(w.bad_timeout, 0);
        llmsplit_result_free(&res);
        waits_init(&w, &w);
        w.fail_timed = 1;
        CHECK_EQ_INT(ask_waiting(c, "chat", &w, &res, &err), LLMSPLIT_ERR_NETWORK);
        CHECK_EQ_STR(err.message, "the caller's wait failed");
        CHECK_EQ_INT(res.response.attempts, 1);
        CHECK_EQ_INT(w.timed, 1);
        llmsplit_result_free(&res);
        CHECK_EQ_INT(LOAD(srv.requests), 3);
        llmsplit_client_destroy(c);
    }
    server_stop(&srv);
}

/* A streamed call (the mock waits 150 ms before it answers "waited") waits through the caller's
   wait, which gets the caller's user_data (the stream's own state is what the HTTP layer's body
   callback gets), and the deltas arrive. */
static void client_wait_hook_carries_a_stream(void) {
    static const char *cfg = "{\"model_list\":[{\"model_name\":\"w\",\"litellm_params\":{\"model\":\"openai/waited\","
                             "\"api_base\":\"{mock}/v1\",\"api_key\":\"k\"}}]}";
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    chunks k;
    waits w;
    int by_socket;
    NEED_MOCK();
    c = make(cfg, NULL, &err);
    CHECK(c != NULL);
    if (!c) return;
    for (by_socket = 0; by_socket < 2; by_socket++) { /* wait, then wait_socket */
        memset(&k, 0, sizeof k);
        waits_init(&w, &k);
        w.client = c;
        w.by_socket = by_socket;
        CHECK_EQ_INT(ask_stream_with(c, "w", NULL, &k, NULL, &w, &res, &err), LLMSPLIT_OK);
        CHECK_STR(k.deltas, "mock reply from waited: one two three");
        CHECK_STR(res.response.text.data, "mock reply from waited: one two three");
        CHECK_GE_INT(w.pollin, 1);
        CHECK_EQ_INT(w.other_thread, 0);
        CHECK_EQ_INT(w.wrong_ud, 0);
        CHECK_EQ_INT(w.bad_timeout, 0);
        CHECK_EQ_INT(w.bad_id, 0);
        if (by_socket) CHECK(waits_one_socket(&w)); /* one kept-alive socket, its id every time */
        else CHECK_EQ_INT(w.nsock, 0);
        llmsplit_result_free(&res);
    }
    llmsplit_client_destroy(c);
}

/* The caller's wait is the caller's call's alone: the silent copy (300 ms in the mock, so it
   waits) runs on a pool thread and waits there as it always has, never through it. */
static void client_wait_hook_is_not_lent_to_the_silent_call(void) {
    static const char *cfg =
        "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/waited\",\"api_base\":\"{mock}/v1\","
        "\"api_key\":\"k\",\"silent_model\":\"eval\"}},{\"model_name\":\"eval\",\"litellm_params\":{\"model\":"
        "\"openai/slowsilent\",\"api_base\":\"{mock}/v1\",\"api_key\":\"k\"}}]}";
    llmsplit_client *c;
    llmsplit_result res;
    llmsplit_error err;
    seen s;
    waits w;
    NEED_MOCK();
    c = make(cfg, &s, &err);
    CHECK(c != NULL);
    if (!c) return;
    waits_init(&w, &w);
    w.client = c;
    CHECK_EQ_INT(ask_waiting(c, "chat", &w, &res, &err), LLMSPLIT_OK);
    CHECK_EQ_INT(res.mirrored, 1);
    CHECK_STR(res.response.text.data, "mock reply from waited: hello");
    llmsplit_result_free(&res);
    CHECK((llmsplit_client_wait_mirrors(c, 20000) == LLMSPLIT_OK));
    CHECK_EQ_INT(s.silent_ok, 1);
    CHECK_GE_INT(w.pollin, 1);
    CHECK_EQ_INT(w.other_thread, 0);
    llmsplit_client_destroy(c);
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    static const char *const knobs[] = {"--latency", "slowsilent=300", "--fail", "broken=1", "--fail", "flaky=1",
                                        "--chunk-delay", "dripping=1000", "--status", "limited=429",
                                        "--retry-after", "limited=3", "--latency", "waited=150", NULL};
    mock_ok = mock_start(&M, 0, knobs);
    split_80_20 = t_data("client_split_80_20.json");
    mirrored = t_data("client_mirrored.json");
    mirrored_with_retries = t_data("client_mirrored_with_retries.json");
    dead_silent = t_data("client_dead_silent.json");
    with_fallback = t_data("client_with_fallback.json");
    with_rollback = t_data("client_with_rollback.json");
    mirrored_fast = t_data("client_mirrored_fast.json");
    with_feedback_rollback = t_data("client_with_feedback_rollback.json");
    RUN(client_random_split_lands_near_80_20);
    RUN(client_sticky_user_always_gets_the_same_arm);
    RUN(client_mirrors_every_request_once_with_paired_records);
    RUN(client_mirror_is_queued_once_even_with_retries);
    RUN(client_dead_silent_endpoint_never_fails_the_primary);
    RUN(client_fallback_answers_when_the_arm_fails);
    RUN(client_rollback_takes_a_failing_arm_out_and_brings_it_back);
    RUN(client_reloads_a_changed_config_file_and_keeps_the_last_good_one);
    RUN(client_polling_the_same_config_keeps_a_rollback_for_its_cooldown);
    RUN(client_reload_keeps_the_cooldown_of_arms_that_stay);
    RUN(client_destroy_abandons_a_config_parse_in_progress);
    RUN(client_log_is_reopened_after_it_was_moved);
    RUN(client_config_url_must_be_https_unless_loopback);
    RUN(client_config_url_sends_the_api_key_and_headers_to_its_host);
    RUN(client_config_headers_are_checked_at_create);
    RUN(client_feedback_record_names_the_arm_that_answered);
    RUN(client_feedback_for_an_unknown_call_is_recorded_with_nulls);
    RUN(client_feedback_in_the_log_shows_in_the_report_per_arm);
    RUN(client_feedback_remembers_only_the_last_calls);
    RUN(client_feedback_refuses_a_bad_metric_or_value);
    RUN(client_feedback_below_min_mean_rolls_the_arm_back_until_the_cooldown);
    RUN(client_reload_keeps_the_feedback_window_of_arms_that_stay);
    RUN(client_feedback_rollback_config_is_checked_with_key_paths);
    RUN(client_invalid_config_is_refused_with_the_key_path);
    RUN(client_log_file_gets_one_json_line_per_record);
    RUN(client_one_call_split_form);
    RUN(client_deployments_are_prepared_when_the_config_loads);
    RUN(client_many_threads_with_mirroring);
    RUN(client_log_async_writes_every_record_whole);
    RUN(client_log_async_a_lone_record_is_written_soon);
    RUN(client_idle_watcher_sleeps_until_its_next_check);
    RUN(client_on_event_hands_over_the_providers_events_as_they_came);
    RUN(client_abort_flag_stops_the_stream_and_records_client_closed);
    RUN(client_on_answer_comes_before_the_record_and_only_on_success);
    RUN(client_abort_record_says_client_closed);
    RUN(client_group_required_refuses_a_model_string);
    RUN(client_reports_the_providers_retry_after);
    RUN(client_no_fallback_once_a_stream_was_delivered);
    RUN(client_reload_reads_the_file_at_once);
    RUN(client_reload_of_a_config_given_as_text_is_a_usage_error);
    RUN(client_reload_text_installs_it_and_the_same_file_later_is_no_reload);
    RUN(client_wait_hook_carries_the_retry_pause);
    RUN(client_wait_hook_carries_a_stream);
    RUN(client_wait_hook_is_not_lent_to_the_silent_call);
    if (mock_ok) mock_stop(&M);
    return t_summary();
}
