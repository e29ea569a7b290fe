/* chat_clients.h - the two clients client_bench and mem_bench compare, doing the same work per
   request: pick an arm 80/20, build the JSON body (system + user message, temperature,
   max_tokens), POST it with a bearer key, parse the answer, extract choices[0].message.content
   and the usage counts; the text is handed to the caller, who frees it.
     A  llmsplit_client_chat on a client whose config has two arms of weight 0.8 and 0.2;
     B  what a C programmer writes by hand: its own xorshift PRNG, cJSON to build and parse,
        one reused libcurl easy handle (keep-alive; certificate verified with CAINFO).
   Include after llmsplit.h and bench_util.h. */
#ifndef CHAT_CLIENTS_H
#define CHAT_CLIENTS_H

#include <cjson/cJSON.h>
#include <curl/curl.h>

static const char *chat_models[2] = {"gpt-4o-mini", "gpt-4o"};
static const char *chat_system = "You are a helpful assistant.";
static const char *chat_user = "Hello, how are you? Please answer in one short sentence.";

typedef struct chat_worker {
    int curl;                     /* 0: llmsplit, 1: curl + cJSON */
    int n;                        /* requests to make (per round) */
    llmsplit_client *client;      /* A: may be shared by several workers */
    CURL *easy;                   /* B: one per worker, kept between calls (keep-alive) */
    struct curl_slist *headers;
    char url[160];
    char *buf;                    /* B: the answer, reused */
    size_t len, cap;
    uint64_t rng;
    long arm0, total;             /* how the split came out */
} chat_worker;

BENCH_FN void chat_fail(const char *what) {
    fprintf(stderr, "bench: %s\n", what);
    exit(1);
}

/* ---- A: llmsplit ---------------------------------------------------------------------- */

BENCH_FN llmsplit_client *chat_llmsplit_create(const char *url, const char *ca, const llmsplit_allocator *allocator) {
    char cfg[1024];
    llmsplit_client_desc d;
    llmsplit_error err;
    llmsplit_client *c;
    snprintf(cfg, sizeof cfg,
             "{\"model_list\":["
             "{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/%s\",\"api_base\":\"%s/v1\",\"api_key\":\"sk-bench\",\"weight\":0.8}},"
             "{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/%s\",\"api_base\":\"%s/v1\",\"api_key\":\"sk-bench\",\"weight\":0.2}}]}",
             chat_models[0], url, chat_models[1], url);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.ca_file = ca;
    d.http.proxy = "";
    if (allocator) d.allocator = *allocator;
    if (llmsplit_client_create(&d, &c, &err) != LLMSPLIT_OK) chat_fail(err.message);
    return c;
}

BENCH_FN void chat_llmsplit_one(chat_worker *w) {
    llmsplit_message msgs[2] = {{"system", NULL, 0, NULL, NULL, NULL, NULL}, {"user", NULL, 0, NULL, NULL, NULL, NULL}};
    llmsplit_request rq;
    llmsplit_result res;
    llmsplit_error err;
    msgs[0].content = chat_system;
    msgs[1].content = chat_user;
    memset(&rq, 0, sizeof rq);
    rq.group = "chat";
    rq.messages = msgs;
    rq.num_messages = 2;
    rq.params_json = "{\"temperature\":0.7,\"max_tokens\":64}";
    if (llmsplit_client_chat(w->client, &rq, &res, &err) != LLMSPLIT_OK) chat_fail(err.message);
    if (res.response.text.len == 0 || res.response.prompt_tokens < 0 || res.response.completion_tokens < 0)
        chat_fail("llmsplit: no text or usage in the answer");
    w->arm0 += res.deployment == 0;
    w->total++;
    llmsplit_result_free(&res);
}

/* ---- B: libcurl + cJSON, written the way one would by hand ------------------------------ */

static size_t chat_on_data(char *p, size_t size, size_t nmemb, void *ud) {
    chat_worker *w = (chat_worker *)ud;
    size_t n = size * nmemb;
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2;
        if (!(w->buf = (char *)realloc(w->buf, w->cap))) return 0;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
    return n;
}

static void chat_add_message(cJSON *arr, const char *role, const char *content) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "role", role);
    cJSON_AddStringToObject(m, "content", content);
    cJSON_AddItemToArray(arr, m);
}

BENCH_FN void chat_curl_setup(chat_worker *w, const char *url, const char *ca, int seed) {
    w->curl = 1;
    w->rng = 0x9E3779B97F4A7C15ull * (uint64_t)(seed + 1);
    snprintf(w->url, sizeof w->url, "%s/v1/chat/completions", url);
    if (!(w->easy = curl_easy_init())) chat_fail("curl_easy_init failed");
    w->headers = curl_slist_append(NULL, "Content-Type: application/json");
    w->headers = curl_slist_append(w->headers, "Authorization: Bearer sk-bench");
    curl_easy_setopt(w->easy, CURLOPT_HTTPHEADER, w->headers);
    curl_easy_setopt(w->easy, CURLOPT_WRITEFUNCTION, chat_on_data);
    curl_easy_setopt(w->easy, CURLOPT_WRITEDATA, w);
    curl_easy_setopt(w->easy, CURLOPT_CAINFO, ca);
    curl_easy_setopt(w->easy, CURLOPT_NOSIGNAL, 1L); /* threads */
    curl_easy_setopt(w->easy, CURLOPT_NOPROXY, "*");
}

BENCH_FN void chat_curl_cleanup(chat_worker *w) {
    curl_slist_free_all(w->headers);
    curl_easy_cleanup(w->easy);
    free(w->buf);
}

BENCH_FN void chat_curl_one(chat_worker *w) {
    uint64_t x = w->rng;
    int arm;
    cJSON *req = cJSON_CreateObject(), *root, *choice, *content, *usage, *pt, *ct;
    char *body, *text;
    long status = 0;
    x ^= x << 13, x ^= x >> 7, x ^= x << 17, w->rng = x; /* xorshift64 */
    arm = (double)(x >> 11) * (1.0 / 9007199254740992.0) < 0.8 ? 0 : 1;
    cJSON_AddStringToObject(req, "model", chat_models[arm]);
    chat_add_message(cJSON_AddArrayToObject(req, "messages"), "system", chat_system);
    chat_add_message(cJSON_GetObjectItemCaseSensitive(req, "messages"), "user", chat_user);
    cJSON_AddNumberToObject(req, "temperature", 0.7);
    cJSON_AddNumberToObject(req, "max_tokens", 64);
    body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    w->len = 0;
    curl_easy_setopt(w->easy, CURLOPT_URL, w->url); /* the arm's endpoint: both arms share the server */
    curl_easy_setopt(w->easy, CURLOPT_POSTFIELDS, body);
    if (curl_easy_perform(w->easy) != CURLE_OK) chat_fail("curl: request failed");
    cJSON_free(body);
    curl_easy_getinfo(w->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) chat_fail("curl: status is not 200");
    if (!(root = cJSON_ParseWithLength(w->buf, w->len))) chat_fail("cJSON: the answer is not JSON");
    choice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "choices"), 0);
    content = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(choice, "message"), "content");
    usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    pt = cJSON_GetObjectItemCaseSensitive(usage, "prompt_tokens");
    ct = cJSON_GetObjectItemCaseSensitive(usage, "completion_tokens");
    if (!cJSON_IsString(content) || !cJSON_IsNumber(pt) || !cJSON_IsNumber(ct)) chat_fail("cJSON: no text or usage");
    text = (char *)malloc(strlen(content->valuestring) + 1); /* the caller's copy, as llmsplit's result */
    strcpy(text, content->valuestring);
    free(text);
    cJSON_Delete(root);
    w->arm0 += arm == 0;
    w->total++;
}

BENCH_FN void chat_one(chat_worker *w) {
    if (w->curl) chat_curl_one(w);
    else chat_llmsplit_one(w);
}

#endif
