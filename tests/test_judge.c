/* The judge against `llmsplit mock`: mirrored pairs judged blind and in both orders, arms scored
   one answer at a time, malformed verdicts, a full queue, the bound on held answers, rollback on
   a low score, and the records it writes. One mock answers as the models (--blind: its answers
   carry a tag, not a model name); each test starts its own judge mock with the judge's knobs and
   --log-requests, so it can read what the judge was shown. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#define LLMSPLIT_JUDGE_MAX_PENDING 2        /* small, so a test reaches both bounds */
#define LLMSPLIT_JUDGE_MAX_PENDING_BYTES 60 /* two answers of 27 bytes fit, two of 42 do not */
#include "../llmsplit.h"
#include "test.h"
#include "mock.h"
#include "server.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static mock M;          /* the models, --blind */
static int mock_ok;

#define NEED_MOCK() do { if (!mock_ok) SKIP("build/llmsplit mock did not start (run make first)"); } while (0)

/* Every record delivered to the callback, as its JSON line. */
typedef struct lines {
    pthread_mutex_t lock;
    char *line[512];
    int n;
} lines;

static void on_record(const llmsplit_record *r, const char *line, size_t len, void *ud) {
    lines *s = (lines *)ud;
    (void)r;
    pthread_mutex_lock(&s->lock);
    if (s->n < 512) {
        s->line[s->n] = (char *)malloc(len + 1);
        memcpy(s->line[s->n], line, len);
        s->line[s->n++][len] = 0;
    }
    pthread_mutex_unlock(&s->lock);
}

static void lines_free(lines *s) {
    int i;
    for (i = 0; i < s->n; i++) free(s->line[i]);
    s->n = 0;
}

/* How many records contain every one of the (NULL-terminated) needles; *last gets the last one. */
static int count(lines *s, const char **last, ...) {
    int i, n = 0;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < s->n; i++) {
        va_list ap;
        const char *needle;
        int all = 1;
        va_start(ap, last);
        while ((needle = va_arg(ap, const char *)) != NULL) all &= strstr(s->line[i], needle) != NULL;
        va_end(ap);
        if (all) {
            n++;
            if (last) *last = s->line[i];
        }
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* A judge mock with these knobs (NULL-terminated), logging its requests to a temp file. */
typedef struct judge_mock {
    mock m;
    char log[64];
    int ok;
} judge_mock;

static int judge_start(judge_mock *j, const char *const *knobs) {
    const char *argv[20];
    int n = 0, fd;
    snprintf(j->log, sizeof j->log, "/tmp/llmsplit-test-judge-XXXXXX");
    fd = mkstemp(j->log);
    if (fd >= 0) close(fd);
    argv[n++] = "--log-requests";
    argv[n++] = j->log;
    while (*knobs && n < 18) argv[n++] = *knobs++;
    argv[n] = NULL;
    j->ok = fd >= 0 && mock_start(&j->m, 0, argv);
    return j->ok;
}

static void judge_stop(judge_mock *j) {
    if (j->ok) mock_stop(&j->m);
    unlink(j->log);
}

/* The judge mock's request log, one body per line (the caller frees it). */
static char *judge_requests(judge_mock *j, int *n) {
    size_t len = 0, i;
    char *text = t_read_file(j->log, &len);
    *n = 0;
    for (i = 0; text && i < len; i++) *n += text[i] == '\n';
    return text;
}

/* The tag the mock's --blind answers carry for a model: "#" and the 32-bit FNV-1a of its name in
   hex, then ':'. */
static void tag_of(const char *model, char out[16]) {
    uint32_t h = 2166136261u;
    for (; *model; model++) h = (h ^ (unsigned char)*model) * 16777619u;
    snprintf(out, 16, "#%08x:", (unsigned)h);
}

/* The config with {mock} and {judge} replaced by the two mocks' URLs. */
static void with_mocks(const char *text, const judge_mock *j, char *out, size_t size) {
    size_t n = 0;
    while (*text && n + 1 < size) {
        const char *url = strncmp(text, "{mock}", 6) == 0 ? M.url : strncmp(text, "{judge}", 7) == 0 ? j->m.url : NULL;
        if (url && n + strlen(url) < size) {
            memcpy(out + n, url, strlen(url));
            n += strlen(url);
            text += url == M.url ? 6 : 7;
        } else {
            out[n++] = *text++;
        }
    }
    out[n] = 0;
}

static llmsplit_client *make(const char *config, const judge_mock *j, lines *s, int keep_responses) {
    static char cfg[4096];
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    with_mocks(config, j, cfg, sizeof cfg);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.proxy = "";
    d.seed = 7;
    d.keep_responses = keep_responses;
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    d.on_record = on_record;
    d.user_data = s;
    if (llmsplit_client_create(&d, &c, &err) != LLMSPLIT_OK) printf("  client: %s\n", err.message);
    return c;
}

static llmsplit_status ask_text(llmsplit_client *c, const char *user, const char *text, llmsplit_result *res) {
    llmsplit_message m = {"user", NULL, 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    memset(&rq, 0, sizeof rq);
    rq.group = "chat";
    rq.messages = &m;
    rq.num_messages = 1;
    rq.user = user;
    m.content = text;
    return llmsplit_client_chat(c, &rq, res, NULL);
}

static llmsplit_status ask(llmsplit_client *c, const char *user, llmsplit_result *res) {
    return ask_text(c, user, "hello", res);
}

/* n calls, each with every silent and judge call done before the next (wait 1), or all at once
   and then waiting (wait 0). */
static void ask_n(llmsplit_client *c, int n, int wait) {
    int i;
    for (i = 0; i < n; i++) {
        llmsplit_result r;
        char user[32];
        snprintf(user, sizeof user, "user-%d", i);
        CHECK_EQ_INT(ask(c, user, &r), LLMSPLIT_OK);
        llmsplit_result_free(&r);
        if (wait) CHECK_EQ_INT(llmsplit_client_wait_mirrors(c, 30000), LLMSPLIT_OK);
    }
    CHECK_EQ_INT(llmsplit_client_wait_mirrors(c, 30000), LLMSPLIT_OK);
}

/* gpt-4 answers, every call mirrored to gpt-4o, and the judge (a deployment of the judge mock,
   priced) compares every pair. */
static const char pairs_config[] =
    "{\"model_list\": ["
    " {\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"openai/gpt-4\", \"api_base\": \"{mock}/v1\","
    "  \"silent_model\": \"eval\"}},"
    " {\"model_name\": \"eval\", \"litellm_params\": {\"model\": \"openai/gpt-4o\", \"api_base\": \"{mock}/v1\"}},"
    " {\"model_name\": \"referee\", \"litellm_params\": {\"model\": \"openai/judge-model\", \"api_base\": \"{judge}/v1\","
    "  \"input_cost_per_token\": 0.000001, \"output_cost_per_token\": 0.000002}}],"
    " \"router_settings\": {\"mirror_threads\": 2, \"mirror_queue\": 64,"
    "  \"judge\": {\"model\": \"referee\", \"pairs\": 1, \"arms\": 0}}}";

/* The judge is never told who wrote what: no model name, group or deployment anywhere in what
   it receives, and each pair goes to it twice, once with each answer first. */
static void judge_pairs_are_judged_blind_in_both_orders(void) {
    static const char *const knobs[] = {"--judge-prefers", "gpt-4o", NULL};
    static const char *const names[] = {"gpt-4", "eval", "chat", "deployment", "silent", "primary"};
    judge_mock j;
    lines s;
    llmsplit_client *c;
    llmsplit_client_stats st;
    char *log, *line, tag4[16], tag4o[16];
    const char *last = NULL;
    int n = 0, i, gpt4_first = 0, gpt4o_first = 0;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(pairs_config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    ask_n(c, 5, 1);
    st = llmsplit_client_get_stats(c);
    CHECK_EQ_UINT(st.judged, 5);
    CHECK_EQ_UINT(st.judge_failed, 0);
    log = judge_requests(&j, &n);
    CHECK_EQ_INT(n, 10);
    tag_of("gpt-4", tag4);
    tag_of("gpt-4o", tag4o);
    for (line = log, i = 0; line && *line && i < n; i++) {
        char *end = strchr(line, '\n'), *a;
        size_t k;
        *end = 0;
        for (k = 0; k < sizeof names / sizeof names[0]; k++) CHECK_NOT_CONTAINS(line, names[k]);
        CHECK_CONTAINS(line, "\"model\":\"judge-model\"");
        CHECK_CONTAINS(line, "[llmsplit judge: pairwise]");
        CHECK_CONTAINS(line, "\"temperature\":0");
        CHECK_CONTAINS(line, "\"response_format\":{\"type\":\"json_object\"}");
        CHECK_CONTAINS(line, "[Conversation]\\nuser: hello\\n[End of conversation]\\n");
        a = strstr(line, "[Answer A]\\nmock reply ");
        CHECK(a != NULL);
        if (a) {
            a += strlen("[Answer A]\\nmock reply ");
            gpt4_first += strncmp(a, tag4, strlen(tag4)) == 0;
            gpt4o_first += strncmp(a, tag4o, strlen(tag4o)) == 0;
        }
        line = end + 1;
    }
    CHECK_EQ_INT(gpt4_first, 5);
    CHECK_EQ_INT(gpt4o_first, 5);
    free(log);
    /* gpt-4o wins in both orders: a consistent win for the silent model */
    CHECK_EQ_INT(count(&s, &last, "\"event\":\"judgement\"", "\"winner\":\"silent\"", "\"verdicts\":[\"B\",\"A\"]",
                       "\"consistent\":true", NULL), 5);
    CHECK_EQ_INT(count(&s, NULL, "\"role\":\"judge\"", "\"status\":\"ok\"", NULL), 10);
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* The judgement's fields, exactly, and the judge calls': priced, with the pair's pair_id. */
static void judge_records_name_the_pair_the_models_and_the_lengths(void) {
    static const char *const knobs[] = {"--judge-prefers", "gpt-4o", NULL};
    judge_mock j;
    lines s;
    llmsplit_client *c;
    llmsplit_json_doc *doc = NULL;
    const llmsplit_json_val *root, *k, *v;
    llmsplit_json_iter it;
    const char *judgement = NULL, *call = NULL, *primary = NULL;
    char want[200];
    static const char *const keys[] = {"ts", "event", "pair_id", "winner", "verdicts", "consistent", "primary_model",
                                       "silent_model", "judge_model", "primary_chars", "silent_chars"};
    size_t i = 0;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(pairs_config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    ask_n(c, 1, 1);
    CHECK_EQ_INT(count(&s, &judgement, "\"event\":\"judgement\"", NULL), 1);
    CHECK_EQ_INT(count(&s, &primary, "\"role\":\"primary\"", NULL), 1);
    CHECK_EQ_INT(count(&s, &call, "\"role\":\"judge\"", NULL), 2);
    if (!judgement || !primary || !call) goto out;
    CHECK_EQ_INT(llmsplit_json_parse(judgement, strlen(judgement), NULL, &doc, NULL), LLMSPLIT_OK);
    root = llmsplit_json_root(doc);
    it = llmsplit_json_iterate(root);
    while (llmsplit_json_next(&it, &k, &v) && i < sizeof keys / sizeof keys[0])
        CHECK_EQ_STR(llmsplit_json_str(k, NULL), keys[i++]);
    CHECK_EQ_INT(i, sizeof keys / sizeof keys[0]);
    CHECK_EQ_UINT(llmsplit_json_len(root), sizeof keys / sizeof keys[0]);
    llmsplit_json_free(doc);
    /* "mock reply #xxxxxxxx: hello" is 27 characters on both sides */
    CHECK_CONTAINS(judgement, "\"winner\":\"silent\",\"verdicts\":[\"B\",\"A\"],\"consistent\":true,"
                              "\"primary_model\":\"gpt-4\",\"silent_model\":\"gpt-4o\",\"judge_model\":\"judge-model\","
                              "\"primary_chars\":27,\"silent_chars\":27}");
    snprintf(want, sizeof want, "\"pair_id\":\"%.32s\"", strstr(primary, "\"pair_id\":\"") + 11);
    CHECK_CONTAINS(judgement, want);
    CHECK_CONTAINS(call, want);
    CHECK_CONTAINS(call, "\"role\":\"judge\",\"is_silent_experiment\":false,\"group\":\"referee\",\"model\":\"judge-model\","
                         "\"provider\":\"openai\",\"deployment\":2,");
    CHECK_CONTAINS(call, "\"status\":\"ok\"");
    CHECK_NOT_CONTAINS(call, "\"cost_usd\":null");
out:
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* A judge that answers "A" whatever it is shown would make a one-order judge pick the primary
   every time; asked in both orders it contradicts itself, and the pair is a tie. */
static void judge_position_bias_is_cancelled_by_both_orders(void) {
    static const char *const knobs[] = {"--judge-prefers", "gpt-4o", "--judge-position-bias", "1", NULL};
    judge_mock j;
    lines s;
    llmsplit_client *c;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(pairs_config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    ask_n(c, 6, 1);
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"judgement\"", NULL), 6);
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"judgement\"", "\"winner\":\"tie\"", "\"verdicts\":[\"A\",\"A\"]",
                       "\"consistent\":false", NULL), 6);
    CHECK_EQ_INT(count(&s, NULL, "\"winner\":\"primary\"", NULL), 0);
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* An answer without a verdict is a judge error, recorded, never guessed: the pair stops at its
   first order and no judgement is written; a score likewise. */
static void judge_malformed_answers_are_recorded_as_judge_errors(void) {
    static const char *const knobs[] = {"--judge-malformed", "1", NULL};
    static const char both[] =
        "{\"model_list\": ["
        " {\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"openai/gpt-4\", \"api_base\": \"{mock}/v1\","
        "  \"silent_model\": \"eval\"}},"
        " {\"model_name\": \"eval\", \"litellm_params\": {\"model\": \"openai/gpt-4o\", \"api_base\": \"{mock}/v1\"}},"
        " {\"model_name\": \"referee\", \"litellm_params\": {\"model\": \"openai/judge-model\", \"api_base\": \"{judge}/v1\"}}],"
        " \"router_settings\": {\"judge\": {\"model\": \"referee\", \"pairs\": 1, \"arms\": 1}}}";
    judge_mock j;
    lines s;
    llmsplit_client *c;
    llmsplit_client_stats st;
    const char *last = NULL;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(both, &j, &s, 1);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    ask_n(c, 4, 1);
    st = llmsplit_client_get_stats(c);
    CHECK_EQ_UINT(st.judged, 0);
    CHECK_EQ_UINT(st.judge_failed, 8); /* 4 pairs and 4 scores */
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"judgement\"", NULL), 0);
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"score\"", NULL), 0);
    CHECK_EQ_INT(count(&s, NULL, "\"role\":\"judge\"", NULL), 8); /* one call per pair: the first order failed */
    CHECK_EQ_INT(count(&s, &last, "\"role\":\"judge\"", "\"status\":\"error\"", "\"http_status\":200",
                       "\"error\":\"response: no verdict in the judge's answer (expected {\\\"winner\\\": \\\"A\\\", \\\"B\\\" or \\\"tie\\\"})\"",
                       NULL), 4);
    CHECK_EQ_INT(count(&s, &last, "\"role\":\"judge\"", "\"status\":\"error\"",
                       "\"error\":\"response: no score in the judge's answer (expected {\\\"score\\\": 1..10})\"", NULL), 4);
    if (last) CHECK_CONTAINS(last, "\"response\":\"The first answer is better, I think.\"");
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* A scripted judge that answers every request with this text as the completion's content. */
static void judge_server(server *srv, char *response, size_t cap, const char *content) {
    llmsplit_json_writer w;
    const char *body = "";
    size_t len = 0;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    LLMSPLIT_JSON_KEY(&w, "object");
    llmsplit_json_write_string(&w, "chat.completion", 15);
    LLMSPLIT_JSON_KEY(&w, "choices");
    llmsplit_json_write_begin_array(&w);
    llmsplit_json_write_begin_object(&w);
    LLMSPLIT_JSON_KEY(&w, "message");
    llmsplit_json_write_begin_object(&w);
    LLMSPLIT_JSON_KEY(&w, "role");
    llmsplit_json_write_string(&w, "assistant", 9);
    LLMSPLIT_JSON_KEY(&w, "content");
    llmsplit_json_write_string(&w, content, strlen(content));
    llmsplit_json_write_end_object(&w);
    LLMSPLIT_JSON_KEY(&w, "finish_reason");
    llmsplit_json_write_string(&w, "stop", 4);
    llmsplit_json_write_end_object(&w);
    llmsplit_json_write_end_array(&w);
    llmsplit_json_write_end_object(&w);
    llmsplit_json_writer_result(&w, &body, &len, NULL);
    snprintf(response, cap, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %lu\r\n\r\n%s",
             (unsigned long)len, body);
    llmsplit_json_writer_free(&w);
    memset(srv, 0, sizeof *srv);
    srv->parts[0] = response;
    srv->keepalive = 1;
    srv->threaded = 1;
    server_start(srv);
}

/* The verdict is read from the first JSON object of the judge's answer, whatever surrounds it
   (prose, a code fence); an answer without a valid one is a judge error. Each case asks a scripted
   judge once for a score and once for a pair (two orders, the same answer: a verdict X reads as
   ["X","X"]). */
static void judge_verdicts_are_read_from_the_first_json_object(void) {
    static const struct { const char *answer, *pair, *score; } cases[] = {
        {"{\"winner\": \"A\"}", "[\"A\",\"A\"]", NULL},
        {"```json\n{\"winner\":\"b\"}\n```", "[\"B\",\"B\"]", NULL},
        {"I say {\"winner\": \"Tie\"} because {x}", "[\"tie\",\"tie\"]", NULL},
        {"{\"reason\": \"{nested}\", \"winner\": \"B\"}", "[\"B\",\"B\"]", NULL},
        {"{x} then {\"winner\": \"A\"}", "[\"A\",\"A\"]", NULL},
        {"{\"winner\": \"C\"}", NULL, NULL},
        {"{\"winner\": \"A\"", NULL, NULL},
        {"no json", NULL, NULL},
        {"{\"verdict\": \"A\"}", NULL, NULL},
        {"{\"winner\": \"primary\"}", NULL, NULL},
        {"{\"score\": 7} {\"winner\": \"A\"}", NULL, "7"}, /* only the first object counts */
        {"{\"score\": 1}", NULL, "1"},
        {"{\"score\": 10}", NULL, "10"},
        {"Score: {\"score\": 7.5}", NULL, "7.5"},
        {"{\"score\": 0}", NULL, NULL},
        {"{\"score\": 11}", NULL, NULL},
        {"{\"score\": \"7\"}", NULL, NULL},
        {"score: 7", NULL, NULL},
    };
    static const char config[] =
        "{\"model_list\": ["
        " {\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"openai/gpt-4\", \"api_base\": \"{mock}/v1\","
        "  \"silent_model\": \"eval\"}},"
        " {\"model_name\": \"eval\", \"litellm_params\": {\"model\": \"openai/gpt-4o\", \"api_base\": \"{mock}/v1\"}},"
        " {\"model_name\": \"referee\", \"litellm_params\": {\"model\": \"openai/judge-model\", \"api_base\": \"{judge}/v1\"}}],"
        " \"router_settings\": {\"judge\": {\"model\": \"referee\", \"pairs\": 1, \"arms\": 1}}}";
    size_t i;
    NEED_MOCK();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        static char response[2048];
        server srv;
        judge_mock j; /* only its URL: the scripted server */
        lines s;
        llmsplit_client *c;
        const char *score = NULL, *judgement = NULL;
        char want[64];
        int scored, judged, errors, failed;
        judge_server(&srv, response, sizeof response, cases[i].answer);
        memset(&j, 0, sizeof j);
        snprintf(j.m.url, sizeof j.m.url, "http://127.0.0.1:%d", srv.port);
        c = make(config, &j, &s, 0);
        CHECK(c != NULL);
        if (!c) { server_stop(&srv); continue; }
        ask_n(c, 1, 1);
        scored = count(&s, &score, "\"event\":\"score\"", NULL);
        judged = count(&s, &judgement, "\"event\":\"judgement\"", NULL);
        errors = count(&s, NULL, "\"role\":\"judge\"", "\"status\":\"error\"", "\"error\":\"response: no ", NULL);
        failed = t_cur_failed;
        t_cur_failed = 0;
        CHECK_EQ_INT(judged, cases[i].pair != NULL);
        CHECK_EQ_INT(scored, cases[i].score != NULL);
        CHECK_EQ_INT(errors, (cases[i].pair == NULL) + (cases[i].score == NULL)); /* a pair stops at its first order */
        snprintf(want, sizeof want, "\"verdicts\":%s,", cases[i].pair ? cases[i].pair : "");
        if (cases[i].pair && judgement) CHECK_CONTAINS(judgement, want);
        snprintf(want, sizeof want, "\"value\":%s,", cases[i].score ? cases[i].score : "");
        if (cases[i].score && score) CHECK_CONTAINS(score, want);
        if (t_cur_failed) printf("  (case %lu: %s)\n", (unsigned long)i, cases[i].answer);
        t_cur_failed |= failed;
        llmsplit_client_destroy(c);
        lines_free(&s);
        server_stop(&srv);
    }
}

/* Two arms; every primary call is scored; llama2's answers score 2, gpt-4's 8. */
static const char arms_config[] =
    "{\"model_list\": ["
    " {\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"openai/gpt-4\", \"api_base\": \"{mock}/v1\", \"weight\": 1}},"
    " {\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"openai/llama2\", \"api_base\": \"{mock}/v1\", \"weight\": 1}},"
    " {\"model_name\": \"referee\", \"litellm_params\": {\"model\": \"openai/judge-model\", \"api_base\": \"{judge}/v1\"}}],"
    " \"router_settings\": {\"judge\": {\"model\": \"referee\", \"arms\": 1, \"criteria\": \"kind and brief\"},"
    "  \"rollback\": {\"window\": 4, \"min_score\": 5, \"cooldown_s\": 1}}}";

/* The score record's fields, exactly, and what the judge was asked. */
static void judge_scores_an_arm_answer_with_the_criteria(void) {
    static const char *const knobs[] = {"--judge-score", "llama2=2", "--judge-score", "gpt-4=8", NULL};
    judge_mock j;
    lines s;
    llmsplit_client *c;
    llmsplit_result r;
    char want[400], *log;
    const char *last = NULL;
    int n = 0;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(arms_config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    CHECK_EQ_INT(ask(c, "user-1", &r), LLMSPLIT_OK);
    CHECK_EQ_INT(llmsplit_client_wait_mirrors(c, 30000), LLMSPLIT_OK);
    CHECK_EQ_INT(count(&s, &last, "\"event\":\"score\"", NULL), 1);
    snprintf(want, sizeof want, "\"event\":\"score\",\"request_id\":\"%s\",\"metric\":\"judge_score\",\"value\":%d,"
             "\"judge_model\":\"judge-model\",\"group\":\"chat\",\"deployment\":%d,\"model\":\"%s\"}", r.request_id,
             r.deployment == 0 ? 8 : 2, r.deployment, r.deployment == 0 ? "gpt-4" : "llama2");
    if (last) CHECK_CONTAINS(last, want);
    log = judge_requests(&j, &n);
    CHECK_EQ_INT(n, 1);
    if (log) {
        CHECK_CONTAINS(log, "[llmsplit judge: score]");
        CHECK_CONTAINS(log, "by these criteria: kind and brief,");
        CHECK_CONTAINS(log, "\\n[Answer]\\nmock reply #");
        CHECK_NOT_CONTAINS(log, "llama2");
        CHECK_NOT_CONTAINS(log, "gpt-4");
    }
    free(log);
    llmsplit_result_free(&r);
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* An arm whose answers the judge scores below min_score is rolled back like a failing one, with
   the metric, its value and the limit in the reason, and comes back after the cooldown. */
static void judge_low_scores_roll_the_arm_back_until_the_cooldown(void) {
    static const char *const knobs[] = {"--judge-score", "llama2=2", "--judge-score", "gpt-4=8", NULL};
    judge_mock j;
    lines s;
    llmsplit_client *c;
    const char *rb = NULL;
    int i, to_llama_after = 0, to_llama_back = 0;
    struct timespec ts = {1, 200000000L};
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(arms_config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    for (i = 0; i < 60 && !count(&s, NULL, "\"event\":\"rollback\"", NULL); i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, NULL, &r), LLMSPLIT_OK);
        llmsplit_result_free(&r);
        llmsplit_client_wait_mirrors(c, 30000); /* the score is in before the next call */
    }
    CHECK_EQ_INT(count(&s, &rb, "\"event\":\"rollback\"", NULL), 1);
    if (rb) {
        CHECK_CONTAINS(rb, "\"group\":\"chat\",\"model\":\"openai/llama2\",\"deployment\":1,");
        CHECK_CONTAINS(rb, "\"reason\":\"judge score mean 2 < 5 over 4 scores\"");
    }
    for (i = 0; i < 10; i++) { /* well inside the 1 s cooldown; a 50/50 pick would give llama2 none 1 in 1024 */
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, NULL, &r), LLMSPLIT_OK);
        to_llama_after += r.deployment == 1;
        llmsplit_result_free(&r);
    }
    CHECK_EQ_INT(to_llama_after, 0);
    CHECK_EQ_INT(llmsplit_client_wait_mirrors(c, 30000), LLMSPLIT_OK);
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"rollback\"", NULL), 1); /* gpt-4's 8s never trip it */
    nanosleep(&ts, NULL); /* past the 1 s cooldown */
    for (i = 0; i < 40 && !to_llama_back; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, NULL, &r), LLMSPLIT_OK);
        to_llama_back += r.deployment == 1;
        llmsplit_result_free(&r);
    }
    CHECK_EQ_INT(to_llama_back, 1); /* back, with a fresh window (its next 4 scores decide again) */
    CHECK_EQ_UINT(llmsplit_client_get_stats(c).rollbacks, 1);
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* Mirrored pairs inform; they never roll the primary back, however often it loses. */
static void judge_lost_pairs_never_roll_the_primary_back(void) {
    static const char *const knobs[] = {"--judge-prefers", "gpt-4o", "--judge-score", "*=9", NULL};
    static const char config[] =
        "{\"model_list\": ["
        " {\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"openai/gpt-4\", \"api_base\": \"{mock}/v1\","
        "  \"silent_model\": \"eval\"}},"
        " {\"model_name\": \"eval\", \"litellm_params\": {\"model\": \"openai/gpt-4o\", \"api_base\": \"{mock}/v1\"}},"
        " {\"model_name\": \"referee\", \"litellm_params\": {\"model\": \"openai/judge-model\", \"api_base\": \"{judge}/v1\"}}],"
        " \"router_settings\": {\"judge\": {\"model\": \"referee\", \"arms\": 1},"
        "  \"rollback\": {\"window\": 2, \"min_score\": 5, \"cooldown_s\": 60}}}";
    judge_mock j;
    lines s;
    llmsplit_client *c;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    ask_n(c, 6, 1);
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"judgement\"", "\"winner\":\"silent\"", NULL), 6);
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"score\"", "\"value\":9", NULL), 6);
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"rollback\"", NULL), 0);
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* Judge tasks share the mirror pool's bounded queue: when it is full they are dropped and
   counted, and the caller never waits. One worker, one queue slot, a judge that takes 10 s:
   of three scores, at least one finds the queue full. */
static void judge_tasks_beyond_a_full_queue_are_dropped_and_counted(void) {
    static const char *const knobs[] = {"--latency", "judge-model=10000", NULL};
    static const char config[] =
        "{\"model_list\": ["
        " {\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"openai/gpt-4\", \"api_base\": \"{mock}/v1\"}},"
        " {\"model_name\": \"referee\", \"litellm_params\": {\"model\": \"openai/judge-model\", \"api_base\": \"{judge}/v1\"}}],"
        " \"router_settings\": {\"mirror_threads\": 1, \"mirror_queue\": 1, \"drain_ms\": 0,"
        "  \"judge\": {\"model\": \"referee\", \"arms\": 1}}}";
    judge_mock j;
    lines s;
    llmsplit_client *c;
    llmsplit_client_stats st;
    int i;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    for (i = 0; i < 3; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask(c, NULL, &r), LLMSPLIT_OK);
        llmsplit_result_free(&r);
    }
    st = llmsplit_client_get_stats(c);
    CHECK_GE_UINT(st.judge_dropped, 1);
    CHECK_LE_UINT(st.judge_dropped, 2);
    CHECK_EQ_UINT(st.judged, 0);
    llmsplit_client_destroy(c); /* drain_ms 0: the judge call in flight is abandoned */
    CHECK_EQ_INT(count(&s, NULL, "\"role\":\"judge\"", NULL), 0);
    lines_free(&s);
    judge_stop(&j);
}

/* A primary answer waits for its silent twin; what waits is bounded, here at 2 pairs and 60
   bytes. The silent model is slow, so the primaries' answers are the ones held. */
static const char slow_silent_config[] =
    "{\"model_list\": ["
    " {\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"openai/gpt-4\", \"api_base\": \"{mock}/v1\","
    "  \"silent_model\": \"slow\"}},"
    " {\"model_name\": \"slow\", \"litellm_params\": {\"model\": \"openai/slow-model\", \"api_base\": \"{mock}/v1\"}},"
    " {\"model_name\": \"referee\", \"litellm_params\": {\"model\": \"openai/judge-model\", \"api_base\": \"{judge}/v1\"}}],"
    " \"router_settings\": {\"mirror_threads\": 4, \"mirror_queue\": 16,"
    "  \"judge\": {\"model\": \"referee\", \"arms\": 0}}}";

/* Four quick calls (answers of 27 bytes): two pairs wait, the other two are over the count. */
static void judge_pairs_beyond_the_pending_count_are_not_judged(void) {
    static const char *const knobs[] = {"--judge-prefers", "gpt-4o", NULL};
    judge_mock j;
    lines s;
    llmsplit_client *c;
    llmsplit_client_stats st;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(slow_silent_config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    ask_n(c, 4, 0);
    st = llmsplit_client_get_stats(c);
    CHECK_EQ_UINT(st.mirror_completed, 4);
    CHECK_EQ_UINT(st.judge_dropped_held, 2);
    CHECK_EQ_UINT(st.judged, 2);
    CHECK_EQ_INT(count(&s, NULL, "\"event\":\"judgement\"", NULL), 2);
    /* and the bound is free again once the pairs are judged */
    ask_n(c, 2, 0);
    CHECK_EQ_UINT(llmsplit_client_get_stats(c).judged, 4);
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* Two quick calls whose answers are 42 bytes: the first is held, the second would pass the
   60 bytes, so its pair is not judged (while the count, 2, has room for both). */
static void judge_answers_beyond_the_pending_bytes_are_not_held(void) {
    static const char *const knobs[] = {"--judge-prefers", "gpt-4o", NULL};
    judge_mock j;
    lines s;
    llmsplit_client *c;
    llmsplit_client_stats st;
    int i;
    NEED_MOCK();
    if (!judge_start(&j, knobs)) SKIP("the judge mock did not start");
    c = make(slow_silent_config, &j, &s, 0);
    CHECK(c != NULL);
    if (!c) { judge_stop(&j); return; }
    for (i = 0; i < 2; i++) {
        llmsplit_result r;
        CHECK_EQ_INT(ask_text(c, NULL, "twenty bytes of text", &r), LLMSPLIT_OK);
        CHECK_EQ_UINT(r.response.text.len, 42);
        llmsplit_result_free(&r);
    }
    CHECK_EQ_INT(llmsplit_client_wait_mirrors(c, 30000), LLMSPLIT_OK);
    st = llmsplit_client_get_stats(c);
    CHECK_EQ_UINT(st.judge_dropped_held, 1);
    CHECK_EQ_UINT(st.judged, 1);
    llmsplit_client_destroy(c);
    lines_free(&s);
    judge_stop(&j);
}

/* router_settings.judge and rollback.min_score, refused with the key path. */
static void judge_config_is_checked_with_key_paths(void) {
    static const struct { const char *rs, *message; } cases[] = {
        {"\"judge\": {}", "router_settings.judge: needs a model (a group of this config or a model string)"},
        {"\"judge\": []", "router_settings.judge: must be an object"},
        {"\"judge\": {\"model\": \"nope\"}", "router_settings.judge.model: 'nope' is neither a model group of this config nor a model string"},
        {"\"judge\": {\"model\": \"\"}", "router_settings.judge.model: must not be empty"},
        {"\"judge\": {\"model\": 3}", "router_settings.judge.model: must be a string"},
        {"\"judge\": {\"model\": \"chat\", \"pairs\": 1.5}", "router_settings.judge.pairs: must be <= 1"},
        {"\"judge\": {\"model\": \"chat\", \"arms\": -0.1}", "router_settings.judge.arms: must be >= 0"},
        {"\"judge\": {\"model\": \"chat\", \"arms\": \"all\"}", "router_settings.judge.arms: must be a number"},
        {"\"judge\": {\"model\": \"chat\", \"criteria\": \"\"}", "router_settings.judge.criteria: must not be empty"},
        {"\"judge\": {\"model\": \"chat\", \"timeout\": 0}", "router_settings.judge.timeout: must be > 0"},
        {"\"judge\": {\"model\": \"chat\", \"timeout\": 86401}", "router_settings.judge.timeout: must be <= 86400"},
        {"\"judge\": {\"model\": \"chat\", \"pair\": 1}",
         "router_settings.judge.pair: unknown key (expected model, pairs, arms, criteria, timeout)"},
        {"\"judge\": {\"model\": \"chat\", \"model\": \"chat\"}", "router_settings.judge.model: given twice"},
        {"\"rollback\": {\"window\": 5, \"min_score\": 11}", "router_settings.rollback.min_score: must be <= 10"},
        {"\"rollback\": {\"min_score\": 5}", "router_settings.rollback.window: must be >= 1 when a limit is set"},
        {"\"rollback\": {\"window\": 5, \"min_score\": 5}",
         "router_settings.rollback.min_score: needs a judge that scores arms (router_settings.judge with arms > 0)"},
        {"\"rollback\": {\"window\": 5, \"min_score\": 5}, \"judge\": {\"model\": \"chat\", \"arms\": 0}",
         "router_settings.rollback.min_score: needs a judge that scores arms (router_settings.judge with arms > 0)"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[600];
        llmsplit_config *cfg = NULL;
        llmsplit_error err;
        snprintf(text, sizeof text, "{\"model_list\": [{\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"gpt-4\"}}],"
                 " \"router_settings\": {%s}}", cases[i].rs);
        CHECK_EQ_INT(llmsplit_config_parse(text, strlen(text), NULL, &cfg, &err), LLMSPLIT_ERR_CONFIG);
        CHECK_STARTS(err.message, cases[i].message);
        llmsplit_config_free(cfg);
    }
}

/* What a config says and what it leaves to the defaults. */
static void judge_config_defaults_and_values(void) {
    static const char full[] =
        "{\"model_list\": [{\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"gpt-4\"}}],"
        " \"router_settings\": {\"judge\": {\"model\": \"openai/gpt-4o\", \"pairs\": 0.5, \"arms\": 0.25,"
        " \"criteria\": \"accurate\", \"timeout\": 30}, \"rollback\": {\"window\": 20, \"min_score\": 6.5}}}";
    static const char minimal[] =
        "{\"model_list\": [{\"model_name\": \"chat\", \"litellm_params\": {\"model\": \"gpt-4\"}}],"
        " \"router_settings\": {\"judge\": {\"model\": \"chat\"}}}";
    llmsplit_config *cfg = NULL;
    CHECK_EQ_INT(llmsplit_config_parse(full, strlen(full), NULL, &cfg, NULL), LLMSPLIT_OK);
    if (cfg) {
        CHECK_EQ_STR(cfg->judge.model, "openai/gpt-4o");
        CHECK_EQ_DBL(cfg->judge.pairs, 0.5);
        CHECK_EQ_DBL(cfg->judge.arms, 0.25);
        CHECK_EQ_STR(cfg->judge.criteria, "accurate");
        CHECK_EQ_DBL(cfg->judge.timeout_s, 30);
        CHECK_EQ_DBL(cfg->rollback.min_score, 6.5);
    }
    llmsplit_config_free(cfg);
    CHECK_EQ_INT(llmsplit_config_parse(minimal, strlen(minimal), NULL, &cfg, NULL), LLMSPLIT_OK);
    if (cfg) {
        CHECK_EQ_STR(cfg->judge.model, "chat");
        CHECK_EQ_DBL(cfg->judge.pairs, 1);
        CHECK_EQ_DBL(cfg->judge.arms, 0.1);
        CHECK_EQ_STR(cfg->judge.criteria, "correct, helpful and concise");
        CHECK_EQ_DBL(cfg->judge.timeout_s, 0);
        CHECK_EQ_DBL(cfg->rollback.min_score, 0);
    }
    llmsplit_config_free(cfg);
    CHECK_EQ_INT(llmsplit_config_parse(minimal, strlen(minimal) - 40, NULL, &cfg, NULL), LLMSPLIT_ERR_CONFIG);
    CHECK_EQ_INT(llmsplit_config_parse("{\"split\": {\"gpt-4\": 1}}", 23, NULL, &cfg, NULL), LLMSPLIT_OK);
    if (cfg) CHECK(cfg->judge.model == NULL);
    llmsplit_config_free(cfg);
}

int main(int argc, char **argv) {
    static const char *const models[] = {"--blind", "--latency", "slow-model=1500", NULL};
    t_init(argc, argv);
    mock_ok = mock_start(&M, 0, models);
    RUN(judge_pairs_are_judged_blind_in_both_orders);
    RUN(judge_records_name_the_pair_the_models_and_the_lengths);
    RUN(judge_position_bias_is_cancelled_by_both_orders);
    RUN(judge_malformed_answers_are_recorded_as_judge_errors);
    RUN(judge_verdicts_are_read_from_the_first_json_object);
    RUN(judge_scores_an_arm_answer_with_the_criteria);
    RUN(judge_low_scores_roll_the_arm_back_until_the_cooldown);
    RUN(judge_lost_pairs_never_roll_the_primary_back);
    RUN(judge_tasks_beyond_a_full_queue_are_dropped_and_counted);
    RUN(judge_pairs_beyond_the_pending_count_are_not_judged);
    RUN(judge_answers_beyond_the_pending_bytes_are_not_held);
    RUN(judge_config_is_checked_with_key_paths);
    RUN(judge_config_defaults_and_values);
    if (mock_ok) mock_stop(&M);
    return t_summary();
}
