/* What records and error messages may show: every record is written, as valid JSON and valid
   UTF-8, whatever a provider sent or a buffer cut; no secret (a key echoed back, a value read
   from the environment, a signed URL's query) appears in them; numbers from outside stay in range. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "test.h"
#include "server.h"

#include <math.h>
#include <stdio.h>

#define KEY "sk-test-abcdefghijklmnop1234" /* the api_key of tests/data/records_one_arm.json */

/* Records delivered to the callback, and the logger's messages. */
typedef struct seen {
    pthread_mutex_t lock;
    char lines[8][4096];
    int n, config_events;
    char log[4096];
} seen;

static void on_record(const llmsplit_record *r, const char *line, size_t len, void *ud) {
    seen *s = (seen *)ud;
    pthread_mutex_lock(&s->lock);
    if (strcmp(r->event, "config") == 0) s->config_events++;
    if (strcmp(r->event, "split") == 0) { /* the weights of a group, not what these tests look at */
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (s->n < 8) {
        snprintf(s->lines[s->n], sizeof s->lines[s->n], "%.*s", (int)len, line);
        s->n++;
    }
    pthread_mutex_unlock(&s->lock);
}

static void on_log(llmsplit_log_level level, const char *msg, void *ud) {
    seen *s = (seen *)ud;
    size_t n;
    (void)level;
    pthread_mutex_lock(&s->lock);
    n = strlen(s->log);
    snprintf(s->log + n, sizeof s->log - n, "%s\n", msg);
    pthread_mutex_unlock(&s->lock);
}

static int config_events(seen *s) {
    int n;
    pthread_mutex_lock(&s->lock);
    n = s->config_events;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* A scripted server answering every request with `response`. */
static void serve_with(server *s, const char *response) {
    memset(s, 0, sizeof *s);
    s->parts[0] = response;
    s->read_request = 1;
    server_start(s);
}

/* An HTTP response with the body's length filled in. */
static const char *http_response(char *out, size_t cap, const char *status, const char *body) {
    snprintf(out, cap, "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %u\r\nConnection: close\r\n\r\n%s",
             status, (unsigned)strlen(body), body);
    return out;
}

/* The config text in tests/data/NAME with every {base} replaced by the server's URL. */
static void config_for(const char *name, const server *s, char *out, size_t cap) {
    const char *text = t_data(name);
    char base[64];
    size_t n = 0, b;
    snprintf(base, sizeof base, "http://127.0.0.1:%d", s->port);
    b = strlen(base);
    while (*text && n + 1 < cap) {
        if (strncmp(text, "{base}", 6) == 0 && n + b < cap) {
            memcpy(out + n, base, b);
            n += b;
            text += 6;
        } else {
            out[n++] = *text++;
        }
    }
    out[n] = 0;
}

static llmsplit_client *client_for(const char *config, seen *rec) {
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    memset(&d, 0, sizeof d);
    memset(rec, 0, sizeof *rec);
    pthread_mutex_init(&rec->lock, NULL);
    d.config_json = config;
    d.http.proxy = "";
    d.on_record = on_record;
    d.logger.func = on_log;
    d.user_data = rec;
    d.logger.user_data = rec;
    if (llmsplit_client_create(&d, &c, &err) != LLMSPLIT_OK) printf("  client: %s\n", err.message);
    return c;
}

static llmsplit_status ask(llmsplit_client *c, const char *group, llmsplit_result *res, llmsplit_error *err) {
    llmsplit_message m = {"user", "hello", 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group = group;
    rq.messages = &m;
    rq.num_messages = 1;
    return llmsplit_client_chat(c, &rq, res, err);
}

/* The one record, parsed (which checks it is JSON and valid UTF-8); NULL when there is none. */
static llmsplit_json_doc *the_record(seen *rec) {
    llmsplit_json_doc *doc = NULL;
    llmsplit_error err;
    CHECK_EQ_INT(rec->n, 1);
    if (rec->n < 1) return NULL;
    if (llmsplit_json_parse(rec->lines[0], strlen(rec->lines[0]), NULL, &doc, &err) != LLMSPLIT_OK)
        printf("  record is not JSON: %s\n", err.message);
    CHECK(doc != NULL);
    return doc;
}

static const char *field(llmsplit_json_doc *doc, const char *key) {
    return llmsplit_json_str(llmsplit_json_get(llmsplit_json_root(doc), key), NULL);
}

static void records_keep_a_provider_error_cut_inside_a_character(void) {
    static char body[2048], resp[2600], cfg[1024];
    int shift, i;
    /* two-byte characters only, after 0 or 1 ASCII byte: one of the two lands the ~196-byte cut
       inside a character */
    for (shift = 0; shift < 2; shift++) {
        char msg[1024];
        server s;
        seen rec;
        llmsplit_client *c;
        llmsplit_result r;
        llmsplit_error err;
        llmsplit_json_doc *doc;
        snprintf(msg, sizeof msg, "%s", shift ? "!" : "");
        for (i = 0; i < 12; i++) strcat(msg, "ЗапросСлишкомДлинный");
        snprintf(body, sizeof body, "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\"}}", msg);
        serve_with(&s, http_response(resp, sizeof resp, "400 Bad Request", body));
        config_for("records_one_arm.json", &s, cfg, sizeof cfg);
        c = client_for(cfg, &rec);
        CHECK(c != NULL);
        if (!c) { server_stop(&s); return; }
        CHECK_EQ_INT(ask(c, "chat", &r, &err), LLMSPLIT_ERR_PROVIDER);
        CHECK_STARTS(err.message, shift ? "400 bad request: !ЗапросСлишком" : "400 bad request: ЗапросСлишком");
        CHECK_CONTAINS(err.message, "...");
        CHECK_NOT_CONTAINS(rec.log, "a record was lost");
        doc = the_record(&rec);
        if (doc) {
            CHECK_STARTS(field(doc, "error"), "provider: 400 bad request: ");
            CHECK_NOT_CONTAINS(field(doc, "error"), "\xef\xbf\xbd"); /* cut whole, nothing to repair */
            llmsplit_json_free(doc);
        }
        CHECK_EQ_UINT(llmsplit_client_get_stats(c).records_repaired, 0);
        llmsplit_result_free(&r);
        llmsplit_client_destroy(c);
        server_stop(&s);
    }
}

static void records_keep_a_finish_reason_cut_inside_a_character(void) {
    static char resp[2048], cfg[1024];
    server s;
    seen rec;
    llmsplit_client *c;
    llmsplit_result r;
    llmsplit_error err;
    llmsplit_json_doc *doc;
    /* 14 three-byte characters: 31 bytes end one byte into the 11th */
    serve_with(&s, http_response(resp, sizeof resp, "200 OK",
                                 "{\"id\":\"x\",\"model\":\"gpt-4\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                                 "\"content\":\"hi\"},\"finish_reason\":\"内容过滤器拦截了这个回答因为\"}],"
                                 "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}"));
    config_for("records_one_arm.json", &s, cfg, sizeof cfg);
    c = client_for(cfg, &rec);
    CHECK(c != NULL);
    if (!c) { server_stop(&s); return; }
    CHECK_EQ_INT(ask(c, "chat", &r, &err), LLMSPLIT_OK);
    CHECK_EQ_STR(r.response.finish_reason, "内容过滤器拦截了这个");
    doc = the_record(&rec);
    if (doc) {
        CHECK_EQ_STR(field(doc, "finish_reason"), "内容过滤器拦截了这个");
        llmsplit_json_free(doc);
    }
    llmsplit_result_free(&r);
    llmsplit_client_destroy(c);
    server_stop(&s);
}

static void records_write_invalid_utf8_as_u_fffd_and_count_it(void) {
    static char cfg[1024];
    server s;
    seen rec;
    llmsplit_client *c;
    llmsplit_result r;
    llmsplit_error err;
    llmsplit_json_doc *doc;
    llmsplit_record one;
    llmsplit_buf line;
    serve_with(&s, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"); /* never asked */
    config_for("records_one_arm.json", &s, cfg, sizeof cfg);
    c = client_for(cfg, &rec);
    CHECK(c != NULL);
    if (!c) { server_stop(&s); return; }
    /* a caller's group name that is no group and not UTF-8: a model string with no provider */
    CHECK_EQ_INT(ask(c, "\xff\xfe/x", &r, &err), LLMSPLIT_ERR_CONFIG);
    doc = the_record(&rec);
    if (doc) {
        CHECK_EQ_STR(field(doc, "group"), "\xef\xbf\xbd\xef\xbf\xbd/x");
        CHECK_STARTS(field(doc, "error"), "config: unknown provider in model '\xef\xbf\xbd\xef\xbf\xbd/x'");
        llmsplit_json_free(doc);
    }
    CHECK_EQ_UINT(llmsplit_client_get_stats(c).records_repaired, 1);
    CHECK_CONTAINS(rec.log, "not valid UTF-8");
    llmsplit_result_free(&r);
    llmsplit_client_destroy(c);
    server_stop(&s);

    /* a tool writing its own record: a character cut short is one U+FFFD, a stray byte another */
    memset(&one, 0, sizeof one);
    one.event = "config";
    one.reason = "cut \xe4\xb8 and \x80 stray";
    llmsplit_buf_init(&line, NULL);
    CHECK_EQ_INT(llmsplit_record_json(&one, &line), LLMSPLIT_OK);
    CHECK_CONTAINS(line.data, "\"reason\":\"cut \xef\xbf\xbd and \xef\xbf\xbd stray\"");
    llmsplit_buf_free(&line);
}

static void records_give_no_cost_for_a_token_count_no_call_reaches(void) {
    static char resp[2048], cfg[1024];
    server s;
    seen rec;
    llmsplit_client *c;
    llmsplit_result r;
    llmsplit_error err;
    llmsplit_json_doc *doc;
    serve_with(&s, http_response(resp, sizeof resp, "200 OK",
                                 "{\"id\":\"x\",\"model\":\"gpt-4\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                                 "\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
                                 "\"usage\":{\"prompt_tokens\":9223372036854775807,\"completion_tokens\":5}}"));
    config_for("records_one_arm.json", &s, cfg, sizeof cfg);
    c = client_for(cfg, &rec);
    CHECK(c != NULL);
    if (!c) { server_stop(&s); return; }
    CHECK_EQ_INT(ask(c, "chat", &r, &err), LLMSPLIT_OK);
    CHECK_LT_DBL(r.cost_usd, 0.0);
    doc = the_record(&rec);
    if (doc) {
        const llmsplit_json_val *root = llmsplit_json_root(doc);
        CHECK_EQ_INT(llmsplit_json_type_of(llmsplit_json_get(root, "cost_usd")), LLMSPLIT_JSON_NULL);
        CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_get(root, "prompt_tokens")), INT64_MAX);
        llmsplit_json_free(doc);
    }
    llmsplit_result_free(&r);
    llmsplit_client_destroy(c);
    server_stop(&s);
}

/* Under `make sanitize` a timeout beyond int milliseconds was a float-cast-overflow when the client
   turned it into milliseconds. Such a timeout is now refused at load, with its key path, before
   any conversion; the largest one allowed (a day) fits an int of milliseconds. */
static void records_timeout_beyond_int_milliseconds_is_refused_before_any_conversion(void) {
    static char cfg[1024];
    server s;
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    serve_with(&s, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    config_for("records_huge_timeout.json", &s, cfg, sizeof cfg);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_ERR_CONFIG);
    CHECK(c == NULL);
    CHECK_STARTS(err.message, "model_list[0].litellm_params.timeout: ");
    llmsplit_client_destroy(c);
    server_stop(&s);
}

static void messages_never_quote_an_api_base_read_from_the_environment(void) {
    static const char secret[] = "sk-live-0123456789abcdef";
    char path[] = "/tmp/llmsplit-test-records-XXXXXX";
    static char cfg[1024];
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    llmsplit_route route;
    server s;
    seen rec;
    FILE *f;
    int fd, i;
    setenv("LLMSPLIT_TEST_SECRET_BASE", secret, 1);
    memset(&d, 0, sizeof d);
    d.config_json = t_data("records_env_base.json");
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_EQ_STR(err.message, "model_list[0].litellm_params: api_base (from os.environ/LLMSPLIT_TEST_SECRET_BASE) "
                              "is not an http(s) URL");
    CHECK_NOT_CONTAINS(err.message, "sk-live");

    /* a provider's base variable (OPENAI_API_BASE) holding something else */
    unsetenv("OPENAI_API_BASE");
    setenv("OPENAI_API_BASE", secret, 1);
    CHECK_EQ_INT(llmsplit_route_model("openai/gpt-4", NULL, NULL, &route, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_EQ_STR(err.message, "api_base (from OPENAI_API_BASE) is not an http(s) URL");
    unsetenv("OPENAI_API_BASE");

    /* and on reload, in the config record */
    serve_with(&s, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    fd = mkstemp(path);
    close(fd);
    config_for("records_one_arm.json", &s, cfg, sizeof cfg);
    f = fopen(path, "w");
    fputs(cfg, f);
    fclose(f);
    memset(&rec, 0, sizeof rec);
    pthread_mutex_init(&rec.lock, NULL);
    d.config_json = NULL;
    d.config_file = path;
    d.config_poll_ms = 20;
    d.on_record = on_record;
    d.user_data = &rec;
    d.logger.func = on_log;
    d.logger.user_data = &rec;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (c) {
        struct timespec ts = {0, 20000000L};
        char tmp[300];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        f = fopen(tmp, "w");
        fputs(t_data("records_env_base.json"), f);
        fclose(f);
        rename(tmp, path);
        for (i = 0; i < 250 && config_events(&rec) < 1; i++) nanosleep(&ts, NULL);
        CHECK_EQ_INT(config_events(&rec), 1);
        pthread_mutex_lock(&rec.lock);
        CHECK_CONTAINS(rec.lines[0], "api_base (from os.environ/LLMSPLIT_TEST_SECRET_BASE) is not an http(s) URL");
        CHECK_NOT_CONTAINS(rec.lines[0], "sk-live");
        CHECK_NOT_CONTAINS(rec.log, "sk-live");
        pthread_mutex_unlock(&rec.lock);
        llmsplit_client_destroy(c);
    }
    unlink(path);
    server_stop(&s);
    unsetenv("LLMSPLIT_TEST_SECRET_BASE");
}

/* (User information in the URL is refused by the HTTP client, so only the query can be seen.) */
static void records_show_the_config_url_without_its_query(void) {
    static char ok[1024], ok2[1024], url[512];
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    server s;
    seen rec;
    int i;
    struct timespec ts = {0, 20000000L};
    memset(&s, 0, sizeof s);
    /* the first fetch loads, the second reloads (a config record), the rest fail (a warning) */
    s.seq[0] = http_response(ok, sizeof ok, "200 OK", "{\"split\":{\"ollama/llama3\":1}}");
    /* a different text: the same one again is not a reload and writes no record */
    s.seq[1] = http_response(ok2, sizeof ok2, "200 OK", "{\"split\":{\"ollama/llama3\":1,\"ollama/mistral\":1}}");
    s.seq[2] = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    s.read_request = 1;
    server_start(&s);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cfg.json?X-Amz-Credential=AKIAEXAMPLE%%2F20260101"
             "&X-Amz-Signature=0123456789abcdef#frag", s.port);
    memset(&d, 0, sizeof d);
    memset(&rec, 0, sizeof rec);
    pthread_mutex_init(&rec.lock, NULL);
    d.config_url = url;
    d.config_poll_ms = 20;
    d.http.proxy = "";
    d.on_record = on_record;
    d.user_data = &rec;
    d.logger.func = on_log;
    d.logger.user_data = &rec;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (!c) { printf("  %s\n", err.message); server_stop(&s); return; }
    for (i = 0; i < 250 && (config_events(&rec) < 1 || LOAD(s.requests) < 4); i++) nanosleep(&ts, NULL);
    llmsplit_client_destroy(c);
    server_stop(&s);
    CHECK_GE_INT(rec.config_events, 1);
    {
        char want[128];
        snprintf(want, sizeof want, "\"reason\":\"reloaded from http://127.0.0.1:%d/cfg.json\"", s.port);
        CHECK_CONTAINS(rec.lines[0], want);
        snprintf(want, sizeof want, "config: cannot fetch http://127.0.0.1:%d/cfg.json: ", s.port);
        CHECK_CONTAINS(rec.log, want);
    }
    for (i = 0; i < rec.n; i++) {
        CHECK_NOT_CONTAINS(rec.lines[i], "X-Amz");
    }
    CHECK_NOT_CONTAINS(rec.log, "X-Amz");
}

/* A provider's error that echoes the key: whole where the message is cut to length, or cut
   inside the key by the provider. Neither may show the key's start. */
static void messages_mask_a_key_cut_inside_it(void) {
    static char body[1024], resp[1600], cfg[1024], filler[256];
    const char *ends[2];
    int k;
    memset(filler, 'x', 157);
    filler[157] = 0;
    ends[0] = KEY " is not valid"; /* whole, where the message bound falls */
    ends[1] = "sk-test-abcdefgh";    /* cut by the provider */
    for (k = 0; k < 2; k++) {
        server s;
        seen rec;
        llmsplit_client *c;
        llmsplit_result r;
        llmsplit_error err;
        snprintf(body, sizeof body, "{\"error\":{\"message\":\"Incorrect API key provided: %s%s\"}}", k == 0 ? filler : "",
                 ends[k]);
        serve_with(&s, http_response(resp, sizeof resp, "401 Unauthorized", body));
        config_for("records_one_arm.json", &s, cfg, sizeof cfg);
        c = client_for(cfg, &rec);
        CHECK(c != NULL);
        if (!c) { server_stop(&s); return; }
        CHECK_EQ_INT(ask(c, "chat", &r, &err), LLMSPLIT_ERR_PROVIDER);
        CHECK_NOT_CONTAINS(err.message, "sk-t");
        CHECK_CONTAINS(err.message, k == 0 ? "xxx*** is" : "provided: ***");
        CHECK_EQ_INT(rec.n, 1);
        CHECK_NOT_CONTAINS(rec.lines[0], "sk-t");
        llmsplit_result_free(&r);
        llmsplit_client_destroy(c);
        server_stop(&s);
    }
}

/* Whether s is valid UTF-8, by the strict JSON writer (it refuses anything else). */
static int valid_utf8(const char *s) {
    llmsplit_json_writer w;
    llmsplit_status st;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_string(&w, s, strlen(s));
    st = llmsplit_json_writer_result(&w, NULL, NULL, NULL);
    llmsplit_json_writer_free(&w);
    return st == LLMSPLIT_OK;
}

/* Names quoted in messages are bounded (60 or 80 bytes), and the bound falls on a character. */
/* The judge's events, field for field, as llmsplit_record_json writes them. */
static void records_write_score_and_judgement_events_exactly(void) {
    llmsplit_record r;
    llmsplit_buf out;
    memset(&r, 0, sizeof r);
    snprintf(r.ts, sizeof r.ts, "2026-11-21T10:00:00.123Z");
    r.event = "score";
    snprintf(r.request_id, sizeof r.request_id, "r1");
    r.metric = "judge_score";
    r.value = 7;
    r.judge_model = "gpt-4o";
    r.group = "chat";
    r.deployment = 1;
    r.model = "llama2";
    llmsplit_buf_init(&out, NULL);
    CHECK_EQ_INT(llmsplit_record_json(&r, &out), LLMSPLIT_OK);
    CHECK_EQ_STR(out.data, "{\"ts\":\"2026-11-21T10:00:00.123Z\",\"event\":\"score\",\"request_id\":\"r1\","
                           "\"metric\":\"judge_score\",\"value\":7,\"judge_model\":\"gpt-4o\",\"group\":\"chat\","
                           "\"deployment\":1,\"model\":\"llama2\"}");
    memset(&r, 0, sizeof r);
    snprintf(r.ts, sizeof r.ts, "2026-11-21T10:00:00.123Z");
    r.event = "judgement";
    snprintf(r.pair_id, sizeof r.pair_id, "p1");
    r.winner = "tie";
    r.verdicts[0] = "A";
    r.verdicts[1] = "tie";
    r.primary_model = "gpt-4";
    r.silent_model = "gpt-4o";
    r.judge_model = "judge";
    r.primary_chars = 12;
    r.silent_chars = 0;
    out.len = 0;
    CHECK_EQ_INT(llmsplit_record_json(&r, &out), LLMSPLIT_OK);
    CHECK_EQ_STR(out.data, "{\"ts\":\"2026-11-21T10:00:00.123Z\",\"event\":\"judgement\",\"pair_id\":\"p1\","
                           "\"winner\":\"tie\",\"verdicts\":[\"A\",\"tie\"],\"consistent\":false,"
                           "\"primary_model\":\"gpt-4\",\"silent_model\":\"gpt-4o\",\"judge_model\":\"judge\","
                           "\"primary_chars\":12,\"silent_chars\":0}");
    llmsplit_buf_free(&out);
}

/* The call record has a writer of its own (it is written once per call): byte for byte what
   the JSON writer makes of the same fields, in the same order, rounded the same way. The
   expected lines are built here with the public writer. */
static void expect_str(llmsplit_json_writer *w, const char *k, const char *v) {
    llmsplit_json_write_key(w, k, strlen(k));
    if (v) llmsplit_json_write_string(w, v, strlen(v));
    else llmsplit_json_write_null(w);
}
static void expect_num(llmsplit_json_writer *w, const char *k, double v, double scale) {
    llmsplit_json_write_key(w, k, strlen(k));
    if (v < 0 || v != v || v > 1.7976931348623157e308) llmsplit_json_write_null(w);
    else if (v * scale >= 9007199254740992.0) llmsplit_json_write_double(w, v);
    else llmsplit_json_write_double(w, (double)(int64_t)(v * scale + 0.5) / scale);
}
static void expect_int(llmsplit_json_writer *w, const char *k, int64_t v) {
    llmsplit_json_write_key(w, k, strlen(k));
    if (v < 0) llmsplit_json_write_null(w);
    else llmsplit_json_write_int(w, v);
}
static void expect_call(const llmsplit_record *r, const char *error_text, llmsplit_buf *out) {
    llmsplit_json_writer w;
    const char *text;
    size_t n;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    expect_str(&w, "ts", r->ts);
    expect_str(&w, "event", "call");
    expect_str(&w, "request_id", r->request_id);
    expect_str(&w, "pair_id", r->pair_id[0] ? r->pair_id : NULL);
    expect_str(&w, "role", r->role ? r->role : "primary");
    LLMSPLIT_JSON_KEY(&w, "is_silent_experiment");
    llmsplit_json_write_bool(&w, r->is_silent_experiment);
    expect_str(&w, "group", r->group);
    expect_str(&w, "model", r->model);
    expect_str(&w, "provider", r->provider);
    LLMSPLIT_JSON_KEY(&w, "deployment");
    llmsplit_json_write_int(&w, r->deployment);
    LLMSPLIT_JSON_KEY(&w, "sticky");
    llmsplit_json_write_bool(&w, r->sticky);
    if (r->split_epoch > 0) {
        LLMSPLIT_JSON_KEY(&w, "split_epoch");
        llmsplit_json_write_int(&w, r->split_epoch);
    }
    expect_str(&w, "fallback_from", r->fallback_from);
    expect_str(&w, "status", r->ok ? "ok" : r->client_closed ? "client_closed" : "error");
    expect_int(&w, "http_status", r->http_status > 0 ? r->http_status : -1);
    expect_str(&w, "error", error_text);
    expect_num(&w, "latency_ms", r->latency_ms, 10);
    expect_num(&w, "ttft_ms", r->ttft_ms, 10);
    expect_int(&w, "prompt_tokens", r->prompt_tokens);
    expect_int(&w, "completion_tokens", r->completion_tokens);
    expect_num(&w, "cost_usd", r->cost_usd, 1e9);
    expect_str(&w, "finish_reason", r->finish_reason && r->finish_reason[0] ? r->finish_reason : NULL);
    if (r->response) {
        LLMSPLIT_JSON_KEY(&w, "response");
        llmsplit_json_write_string(&w, r->response, r->response_len);
    }
    llmsplit_json_write_end_object(&w);
    CHECK_EQ_INT(llmsplit_json_writer_result(&w, &text, &n, NULL), LLMSPLIT_OK);
    llmsplit_buf_append(out, text, n);
    llmsplit_json_writer_free(&w);
}

static void records_write_call_events_as_the_json_writer_would(void) {
    static const char resp[] = "line one\nline \"two\"\t\\ caf\xc3\xa9 \xf0\x9f\x99\x82 \x01\x1f end";
    llmsplit_record r;
    llmsplit_buf got, want;
    int i;
    for (i = 0; i < 6; i++) {
        const char *error_text = NULL;
        memset(&r, 0, sizeof r);
        strcpy(r.ts, "2026-12-02T06:00:00.123Z");
        strcpy(r.request_id, "0123456789abcdef0123456789abcdef");
        r.group = "chat";
        r.model = "gpt-4o-mini";
        r.provider = "openai";
        r.deployment = 1;
        r.ok = 1;
        r.http_status = 200;
        r.latency_ms = 123.456;
        r.ttft_ms = -1;
        r.prompt_tokens = 25;
        r.completion_tokens = 16;
        r.cost_usd = 0.00001335;
        r.finish_reason = "stop";
        switch (i) {
        case 1: /* a silent copy, sticky, from a split, with a fallback and the answer kept */
            strcpy(r.pair_id, "fedcba9876543210fedcba9876543210");
            r.role = "silent";
            r.is_silent_experiment = 1;
            r.sticky = 1;
            r.split_epoch = 1764655200123LL;
            r.fallback_from = "llama-2 \"7b\"";
            r.ttft_ms = 45.05;
            r.response = resp;
            r.response_len = sizeof resp - 1;
            break;
        case 2: /* an error: the category, then the message */
            r.ok = 0;
            r.code = LLMSPLIT_ERR_PROVIDER;
            r.http_status = 429;
            r.error = "rate limited: \"slow down\"\nretry later";
            error_text = "provider: rate limited: \"slow down\"\nretry later";
            r.prompt_tokens = r.completion_tokens = -1;
            r.cost_usd = -1;
            r.finish_reason = "";
            break;
        case 3: /* the client went away; a direct model string (deployment -1); no status */
            r.ok = 0;
            r.client_closed = 1;
            r.deployment = -1;
            r.http_status = 0;
            r.latency_ms = 0.04;
            r.group = NULL;
            r.provider = NULL;
            r.model = "ollama/llama3";
            r.cost_usd = 0;
            break;
        case 4: /* numbers at their edges: not a number, huge, whole */
            r.latency_ms = 0.0 / 0.0;
            r.ttft_ms = 1e300;
            r.cost_usd = 12345678.5;
            r.prompt_tokens = INT64_MAX;
            r.completion_tokens = 0;
            r.deployment = 2147483647;
            break;
        case 5: /* an error without a message, an empty answer kept */
            r.ok = 0;
            r.code = LLMSPLIT_ERR_NETWORK;
            r.response = "";
            r.response_len = 0;
            r.latency_ms = 99999.95;
            break;
        }
        llmsplit_buf_init(&got, NULL);
        llmsplit_buf_init(&want, NULL);
        CHECK_EQ_INT(llmsplit_record_json(&r, &got), LLMSPLIT_OK);
        expect_call(&r, error_text, &want);
        CHECK_EQ_STR(got.data ? got.data : "", want.data ? want.data : "");
        /* appended after what is there, as every record writer does */
        CHECK_EQ_INT(llmsplit_record_json(&r, &got), LLMSPLIT_OK);
        CHECK_EQ_UINT(got.len, 2 * want.len);
        llmsplit_buf_free(&got);
        llmsplit_buf_free(&want);
    }
    /* numbers of every size: milliseconds and costs from 1e-12 to 1e17 (the record writes the
       rounded count's digits below 10^15 units; the writer searches for the shortest) */
    {
        uint64_t seed = 0x9e3779b97f4a7c15ull;
        int failures = 0;
        memset(&r, 0, sizeof r);
        strcpy(r.ts, "2026-12-02T06:00:00.123Z");
        r.ok = 1;
        for (i = 0; i < 200000 && failures < 5; i++) {
            double v[3];
            int k;
            for (k = 0; k < 3; k++) {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
                /* a log-uniform magnitude, a random mantissa; every 8th a whole or half count */
                v[k] = (double)(seed >> 11) / 9007199254740992.0 * pow(10.0, (double)(int)(seed % 30) - 12);
                if (seed % 8 == 0) v[k] = (double)(seed >> 40) / ((seed & 16) ? 10.0 : 1e9);
            }
            r.latency_ms = v[0];
            r.ttft_ms = v[1];
            r.cost_usd = v[2];
            llmsplit_buf_init(&got, NULL);
            llmsplit_buf_init(&want, NULL);
            CHECK_EQ_INT(llmsplit_record_json(&r, &got), LLMSPLIT_OK);
            expect_call(&r, NULL, &want);
            if (strcmp(got.data ? got.data : "", want.data ? want.data : "") != 0) {
                CHECK_EQ_STR(got.data ? got.data : "", want.data ? want.data : "");
                failures++;
            }
            llmsplit_buf_free(&got);
            llmsplit_buf_free(&want);
        }
    }
    /* text that is not UTF-8 in every string field: each sequence one U+FFFD */
    memset(&r, 0, sizeof r);
    strcpy(r.ts, "2026-12-02T06:00:00.123Z");
    r.group = "g\xff";
    r.model = "m\xc3";
    r.error = "cut \xe4\xb8 here";
    r.code = LLMSPLIT_ERR_PROVIDER;
    r.response = "a\x80z";
    r.response_len = 3;
    llmsplit_buf_init(&got, NULL);
    CHECK_EQ_INT(llmsplit_record_json(&r, &got), LLMSPLIT_OK);
    CHECK_CONTAINS(got.data, "\"group\":\"g\xef\xbf\xbd\",\"model\":\"m\xef\xbf\xbd\"");
    CHECK_CONTAINS(got.data, "\"error\":\"provider: cut \xef\xbf\xbd here\"");
    CHECK_CONTAINS(got.data, "\"response\":\"a\xef\xbf\xbdz\"}");
    llmsplit_buf_free(&got);
}

static void messages_cut_a_long_name_on_a_character_boundary(void) {
    char name[256] = "!", cfg[512];
    llmsplit_route route;
    llmsplit_config *c = NULL;
    llmsplit_error err;
    int i;
    for (i = 0; i < 60; i++) strcat(name, "Ж");
    strcat(name, "/x");
    CHECK_EQ_INT(llmsplit_route_model(name, NULL, NULL, &route, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_STARTS(err.message, "unknown provider in model '!ЖЖЖ");
    CHECK(valid_utf8(err.message));
    snprintf(cfg, sizeof cfg, "{\"split\":{\"%s\":-1}}", name);
    CHECK_EQ_INT(llmsplit_config_parse(cfg, strlen(cfg), NULL, &c, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_STARTS(err.message, "split[\"!ЖЖЖ");
    CHECK(valid_utf8(err.message));
    llmsplit_config_free(c);
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(records_keep_a_provider_error_cut_inside_a_character);
    RUN(records_keep_a_finish_reason_cut_inside_a_character);
    RUN(records_write_invalid_utf8_as_u_fffd_and_count_it);
    RUN(records_give_no_cost_for_a_token_count_no_call_reaches);
    RUN(records_timeout_beyond_int_milliseconds_is_refused_before_any_conversion);
    RUN(messages_never_quote_an_api_base_read_from_the_environment);
    RUN(records_show_the_config_url_without_its_query);
    RUN(messages_mask_a_key_cut_inside_it);
    RUN(records_write_score_and_judgement_events_exactly);
    RUN(messages_cut_a_long_name_on_a_character_boundary);
    RUN(records_write_call_events_as_the_json_writer_would);
    return t_summary();
}
