/* Providers: routing of model strings, the exact request each provider gets (captured by a
   recording server), the parsing of each provider's answers, errors and streams, retries, and
   the SSE parser on its own. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "test.h"
#include "server.h"

/* --- routing ------------------------------------------------------------------------------- */

static void clear_env(void) {
    static const char *const vars[] = {"OPENAI_API_BASE", "AZURE_API_BASE", "AZURE_API_VERSION", "OLLAMA_API_BASE",
                                       "OPENAI_API_KEY", "AZURE_API_KEY", "HUGGINGFACE_API_KEY", "HF_TOKEN",
                                       "ANTHROPIC_API_KEY", "OLLAMA_API_KEY", "OPENROUTER_API_KEY", "TOGETHER_API_KEY",
                                       "TOGETHERAI_API_KEY", "HTTPS_PROXY", "https_proxy", NULL};
    int i;
    for (i = 0; vars[i]; i++) unsetenv(vars[i]);
}

static void providers_route_every_prefix_of_the_table(void) {
    static const struct { const char *model, *base, *version; llmsplit_provider p; const char *name, *url; } cases[] = {
        {"gpt-4", NULL, NULL, LLMSPLIT_PROVIDER_OPENAI, "gpt-4", "https://api.openai.com/v1/chat/completions"},
        {"openai/gpt-4o", NULL, NULL, LLMSPLIT_PROVIDER_OPENAI, "gpt-4o", "https://api.openai.com/v1/chat/completions"},
        {"o3-mini", NULL, NULL, LLMSPLIT_PROVIDER_OPENAI, "o3-mini", "https://api.openai.com/v1/chat/completions"},
        {"azure/chatgpt-v-2", "https://x.openai.azure.com/", "2024-02-01", LLMSPLIT_PROVIDER_AZURE, "chatgpt-v-2",
         "https://x.openai.azure.com/openai/deployments/chatgpt-v-2/chat/completions?api-version=2024-02-01"},
        {"huggingface/https://my-endpoint.us-east-1.aws.endpoints.huggingface.cloud", NULL, NULL,
         LLMSPLIT_PROVIDER_HUGGINGFACE, "tgi",
         "https://my-endpoint.us-east-1.aws.endpoints.huggingface.cloud/v1/chat/completions"},
        {"huggingface/meta-llama/Llama-2-7b-chat-hf", NULL, NULL, LLMSPLIT_PROVIDER_HUGGINGFACE,
         "meta-llama/Llama-2-7b-chat-hf", "https://router.huggingface.co/v1/chat/completions"},
        {"ollama/llama2", NULL, NULL, LLMSPLIT_PROVIDER_OLLAMA, "llama2", "http://localhost:11434/api/chat"},
        {"ollama_chat/llama3", "http://gpu-box:11434", NULL, LLMSPLIT_PROVIDER_OLLAMA, "llama3", "http://gpu-box:11434/api/chat"},
        {"openrouter/meta-llama/llama-3-8b-instruct", NULL, NULL, LLMSPLIT_PROVIDER_OPENROUTER,
         "meta-llama/llama-3-8b-instruct", "https://openrouter.ai/api/v1/chat/completions"},
        {"together_ai/togethercomputer/llama-2-70b-chat", NULL, NULL, LLMSPLIT_PROVIDER_TOGETHER,
         "togethercomputer/llama-2-70b-chat", "https://api.together.xyz/v1/chat/completions"},
        {"anthropic/claude-3-5-sonnet-20240620", NULL, NULL, LLMSPLIT_PROVIDER_ANTHROPIC, "claude-3-5-sonnet-20240620",
         "https://api.anthropic.com/v1/messages"},
        {"claude-3-haiku-20240307", NULL, NULL, LLMSPLIT_PROVIDER_ANTHROPIC, "claude-3-haiku-20240307",
         "https://api.anthropic.com/v1/messages"},
        {"gpt-4", "http://127.0.0.1:8000/v1/", NULL, LLMSPLIT_PROVIDER_OPENAI, "gpt-4", "http://127.0.0.1:8000/v1/chat/completions"},
    };
    size_t i;
    clear_env();
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llmsplit_route r;
        llmsplit_error err;
        int ok = llmsplit_route_model(cases[i].model, cases[i].base, cases[i].version, &r, &err) == LLMSPLIT_OK;
        if (!ok) printf("  %s: %s\n", cases[i].model, err.message);
        CHECK(ok);
        CHECK_EQ_INT(r.provider, cases[i].p);
        CHECK_STR(r.model, cases[i].name);
        CHECK_STR(r.url, cases[i].url);
    }
}

static void providers_route_errors_name_what_is_missing(void) {
    llmsplit_route r;
    llmsplit_error err;
    clear_env();
    CHECK_EQ_INT(llmsplit_route_model("azure/dep", NULL, "2024-02-01", &r, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "AZURE_API_BASE");
    CHECK_EQ_INT(llmsplit_route_model("azure/dep", "https://x.example", NULL, &r, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "AZURE_API_VERSION");
    setenv("AZURE_API_BASE", "https://env.example", 1);
    setenv("AZURE_API_VERSION", "2023-05-15", 1);
    CHECK(llmsplit_route_model("azure/dep", NULL, NULL, &r, &err) == LLMSPLIT_OK);
    CHECK_STR(r.url, "https://env.example/openai/deployments/dep/chat/completions?api-version=2023-05-15");
    CHECK_EQ_INT(llmsplit_route_model("fireworks/llama", NULL, NULL, &r, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "unknown provider");
    CHECK_EQ_INT(llmsplit_route_model("openai/", NULL, NULL, &r, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_EQ_INT(llmsplit_route_model("gpt-4", "not a url", NULL, &r, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_CONFIG);
    setenv("OPENAI_API_BASE", "http://proxy.local:4000", 1);
    CHECK(llmsplit_route_model("gpt-4", NULL, NULL, &r, &err) == LLMSPLIT_OK);
    CHECK_STR(r.url, "http://proxy.local:4000/chat/completions");
    clear_env();
}

/* --- exact requests ------------------------------------------------------------------------ */

/* A response with the right Content-Length for body (kept in a small ring of static buffers). */
static const char *mkresp(const char *status, const char *body) {
    static char ring[8][4096];
    static int next;
    char *out = ring[next++ % 8];
    snprintf(out, sizeof ring[0], "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %u\r\n\r\n%s", status,
             (unsigned)strlen(body), body);
    return out;
}

static const char *openai_ok(void) {
    return mkresp("200 OK", "{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"caf\xc3\xa9 \\u2014 ok\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}");
}

static llmsplit_http *client(void) {
    llmsplit_http_desc d;
    memset(&d, 0, sizeof d);
    d.proxy = "";
    d.timeout_ms = 5000;
    {
        llmsplit_http *h = NULL;
        llmsplit_http_create(&d, &h, NULL);
        return h;
    }
}

typedef struct call {
    server s;
    llmsplit_http *h;
    llmsplit_chat_request rq;
    llmsplit_chat_response resp;
    llmsplit_error err;
    llmsplit_status code;
    char base[128];
    llmsplit_message msgs[4];
} call;

static void call_setup(call *c, const char *response) {
    memset(c, 0, sizeof *c);
    c->s.parts[0] = response;
    c->s.keepalive = 1;
    server_start(&c->s);
    snprintf(c->base, sizeof c->base, "http://127.0.0.1:%d", c->s.port);
    c->h = client();
    c->msgs[0].role = "system";
    c->msgs[0].content = "S";
    c->msgs[1].role = "user";
    c->msgs[1].content = "hi";
    c->rq.messages = c->msgs;
    c->rq.num_messages = 2;
    c->rq.api_base = c->base;
    c->rq.api_key = "sk-test-key-123456";
}

static void call_run(call *c) { c->code = llmsplit_chat(c->h, &c->rq, &c->resp, &c->err); }

static void call_done(call *c) {
    llmsplit_chat_response_free(&c->resp);
    llmsplit_http_destroy(c->h);
    server_stop(&c->s);
}

static const char *body_of(const server *s) {
    const char *b = strstr(s->last_request, "\r\n\r\n");
    return b ? b + 4 : "";
}

static void providers_openai_request_is_exact(void) {
    call c;
    char base[160];
    clear_env();
    call_setup(&c, openai_ok());
    snprintf(base, sizeof base, "%s/v1", c.base);
    c.rq.api_base = base;
    c.rq.model = "gpt-4";
    c.rq.params_json = "{\"temperature\":0.7,\"max_tokens\":5,\"weight\":0.8,\"api_key\":\"leak\",\"stop\":[\"\\n\"]}";
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_STARTS(c.s.last_request, "POST /v1/chat/completions HTTP/1.1\r\n");
    CHECK_CONTAINS(c.s.last_request, "\r\nAuthorization: Bearer sk-test-key-123456\r\n");
    CHECK_CONTAINS(c.s.last_request, "\r\nContent-Type: application/json\r\n");
    CHECK_STR(body_of(&c.s), "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\","
                             "\"content\":\"hi\"}],\"temperature\":0.7,\"max_tokens\":5,\"stop\":[\"\\n\"]}");
    CHECK_NOT_CONTAINS(c.s.last_request, "leak");
    /* the answer, byte-exact with UTF-8 */
    CHECK_EQ_MEM(c.resp.text.data, c.resp.text.len, "caf\xc3\xa9 \xe2\x80\x94 ok", strlen("caf\xc3\xa9 \xe2\x80\x94 ok"));
    CHECK_EQ_INT(c.resp.prompt_tokens, 9);
    CHECK_EQ_INT(c.resp.completion_tokens, 3);
    CHECK_STR(c.resp.finish_reason, "stop");
    CHECK_STR(c.resp.role, "assistant");
    CHECK_EQ_INT(c.resp.http_status, 200);
    CHECK_EQ_INT(c.resp.provider, LLMSPLIT_PROVIDER_OPENAI);
    CHECK_LT_DBL(c.resp.ttft_ms, 0);
    call_done(&c);
}

static void providers_azure_request_uses_deployment_path_and_api_key_header(void) {
    call c;
    clear_env();
    call_setup(&c, openai_ok());
    c.rq.model = "azure/chatgpt-v-2";
    c.rq.api_version = "2024-02-01";
    c.rq.api_key = NULL;
    c.rq.api_base = NULL; /* the environment's base: its key goes there */
    setenv("AZURE_API_BASE", c.base, 1);
    setenv("AZURE_API_KEY", "azure-key-abcdef", 1);
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_STARTS(c.s.last_request, "POST /openai/deployments/chatgpt-v-2/chat/completions?api-version=2024-02-01 HTTP/1.1\r\n");
    CHECK_CONTAINS(c.s.last_request, "\r\napi-key: azure-key-abcdef\r\n");
    CHECK_NOT_CONTAINS(c.s.last_request, "Authorization");
    CHECK_CONTAINS(body_of(&c.s), "\"model\":\"chatgpt-v-2\"");
    CHECK_EQ_INT(c.resp.provider, LLMSPLIT_PROVIDER_AZURE);
    clear_env();
    call_done(&c);
}

static void providers_huggingface_endpoint_sends_tgi_with_hf_token(void) {
    call c;
    char model[200];
    clear_env();
    call_setup(&c, openai_ok());
    snprintf(model, sizeof model, "huggingface/%s/", c.base);
    c.rq.model = model;
    c.rq.api_base = NULL;
    c.rq.api_key = "os.environ/HF_TOKEN"; /* not an Inference Endpoint: the token goes only when asked */
    setenv("HF_TOKEN", "hf_token_value_1", 1);
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_STARTS(c.s.last_request, "POST /v1/chat/completions HTTP/1.1\r\n");
    CHECK_CONTAINS(c.s.last_request, "\r\nAuthorization: Bearer hf_token_value_1\r\n");
    CHECK_STARTS(body_of(&c.s), "{\"model\":\"tgi\",");
    clear_env();
    call_done(&c);
}

/* A key from the environment was meant for the provider's own host, never for an api_base given
   with the request (a local server, a proxy): OPENAI_API_KEY=sk-real with --api-base
   http://127.0.0.1:8080/v1 sent "Bearer sk-real" to the local server. */
static void providers_env_key_is_not_sent_to_an_explicit_api_base(void) {
    call c;
    clear_env();
    call_setup(&c, openai_ok());
    c.rq.model = "openai/llama3-local";
    c.rq.api_key = NULL;
    setenv("OPENAI_API_KEY", "sk-real-env-key-1", 1);
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_STARTS(c.s.last_request, "POST /chat/completions HTTP/1.1\r\n");
    CHECK_NOT_CONTAINS(c.s.last_request, "Authorization");
    CHECK_NOT_CONTAINS(c.s.last_request, "sk-real-env-key-1");
    clear_env();
    call_done(&c);
}

static void providers_env_key_is_sent_to_the_base_of_its_own_variable(void) {
    call c;
    char base[160];
    clear_env();
    call_setup(&c, openai_ok());
    snprintf(base, sizeof base, "%s/v1/", c.base); /* a trailing slash names the same base */
    c.rq.model = "openai/llama3-local";
    c.rq.api_key = NULL;
    c.rq.api_base = NULL;
    setenv("OPENAI_API_BASE", base, 1);
    setenv("OPENAI_API_KEY", "sk-real-env-key-2", 1);
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_CONTAINS(c.s.last_request, "\r\nAuthorization: Bearer sk-real-env-key-2\r\n");
    /* the same base given explicitly is the one the user put in the variable: the key goes too */
    c.rq.api_base = base;
    llmsplit_chat_response_free(&c.resp);
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_CONTAINS(c.s.last_request, "\r\nAuthorization: Bearer sk-real-env-key-2\r\n");
    clear_env();
    call_done(&c);
}

static void providers_explicit_key_is_sent_to_an_explicit_api_base(void) {
    call c;
    clear_env();
    call_setup(&c, openai_ok());
    c.rq.model = "openai/llama3-local";
    setenv("OPENAI_API_KEY", "sk-real-env-key-3", 1);
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_CONTAINS(c.s.last_request, "\r\nAuthorization: Bearer sk-test-key-123456\r\n");
    CHECK_NOT_CONTAINS(c.s.last_request, "sk-real-env-key-3");
    clear_env();
    call_done(&c);
}

/* Azure has no public base: its key goes only to $AZURE_API_BASE, and a deployment with a base
   of its own and no key is told so before anything is sent. */
static void providers_azure_env_key_stays_home_from_another_base(void) {
    call c;
    clear_env();
    call_setup(&c, openai_ok());
    c.rq.model = "azure/chatgpt-v-2";
    c.rq.api_version = "2024-02-01";
    c.rq.api_key = NULL;
    setenv("AZURE_API_KEY", "azure-key-abcdef", 1);
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_ERR_CONFIG);
    CHECK_STR(c.err.message, "no API key for azure/chatgpt-v-2: its api_base is not the provider's own, so no key "
                             "from the environment goes there; pass api_key");
    CHECK_EQ_INT(c.s.requests, 0);
    clear_env();
    call_done(&c);
}

static void providers_ollama_request_is_native_with_options(void) {
    call c;
    clear_env();
    call_setup(&c, mkresp("200 OK", "{\"model\":\"llama2\",\"message\":{\"role\":\"assistant\",\"content\":\"hello\"},\"done\":true,"
                   "\"done_reason\":\"stop\",\"prompt_eval_count\":7,\"eval_count\":2}"));
    c.rq.model = "ollama/llama2";
    c.rq.api_key = NULL;
    c.rq.params_json = "{\"temperature\":0.2,\"max_tokens\":50,\"response_format\":{\"type\":\"json_object\"},\"keep_alive\":\"5m\"}";
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_STARTS(c.s.last_request, "POST /api/chat HTTP/1.1\r\n");
    CHECK_NOT_CONTAINS(c.s.last_request, "Authorization");
    CHECK_STR(body_of(&c.s), "{\"model\":\"llama2\",\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"hi\"}],"
                             "\"stream\":false,\"format\":\"json\",\"keep_alive\":\"5m\",\"options\":{\"temperature\":0.2,\"num_predict\":50}}");
    CHECK_EQ_MEM(c.resp.text.data, c.resp.text.len, "hello", 5);
    CHECK_EQ_INT(c.resp.prompt_tokens, 7);
    CHECK_EQ_INT(c.resp.completion_tokens, 2);
    call_done(&c);
}

static void providers_anthropic_request_hoists_system_and_defaults_max_tokens(void) {
    call c;
    clear_env();
    call_setup(&c, mkresp("200 OK", "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Hi \"},"
                   "{\"type\":\"text\",\"text\":\"there\"}],\"model\":\"claude-3\",\"stop_reason\":\"end_turn\","
                   "\"usage\":{\"input_tokens\":11,\"output_tokens\":4}}"));
    c.rq.model = "anthropic/claude-3";
    c.rq.api_key = "os.environ/MY_CLAUDE_KEY";
    setenv("MY_CLAUDE_KEY", "claude-secret-99", 1);
    c.rq.params_json = "{\"temperature\":0.5,\"stop\":\"END\",\"user\":\"u-1\",\"frequency_penalty\":1}";
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_STARTS(c.s.last_request, "POST /v1/messages HTTP/1.1\r\n");
    CHECK_CONTAINS(c.s.last_request, "\r\nx-api-key: claude-secret-99\r\n");
    CHECK_CONTAINS(c.s.last_request, "\r\nanthropic-version: 2023-06-01\r\n");
    CHECK_NOT_CONTAINS(c.s.last_request, "Authorization");
    CHECK_STR(body_of(&c.s), "{\"model\":\"claude-3\",\"max_tokens\":4096,\"system\":\"S\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                             "\"temperature\":0.5,\"stop_sequences\":[\"END\"],\"metadata\":{\"user_id\":\"u-1\"}}");
    CHECK_EQ_MEM(c.resp.text.data, c.resp.text.len, "Hi there", 8);
    CHECK_STR(c.resp.finish_reason, "stop");
    CHECK_EQ_INT(c.resp.prompt_tokens, 11);
    CHECK_EQ_INT(c.resp.completion_tokens, 4);
    unsetenv("MY_CLAUDE_KEY");
    call_done(&c);
}

static void providers_anthropic_tools_translate_both_ways(void) {
    call c;
    llmsplit_json_doc *doc;
    clear_env();
    call_setup(&c, mkresp("200 OK", "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\","
                   "\"input\":{\"city\":\"Paris\"}}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":20,\"output_tokens\":9}}"));
    c.rq.model = "claude-3-opus";
    c.rq.params_json = "{\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"d\","
                       "\"parameters\":{\"type\":\"object\"}}}],\"tool_choice\":\"required\",\"max_tokens\":100}";
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_CONTAINS(body_of(&c.s), "\"max_tokens\":100");
    CHECK_CONTAINS(body_of(&c.s), "\"tools\":[{\"name\":\"get_weather\",\"description\":\"d\",\"input_schema\":{\"type\":\"object\"}}]");
    CHECK_CONTAINS(body_of(&c.s), "\"tool_choice\":{\"type\":\"any\"}");
    CHECK_STR(c.resp.finish_reason, "tool_calls");
    llmsplit_json_parse(c.resp.tool_calls.data, c.resp.tool_calls.len, NULL, &doc, NULL);
    CHECK_STR(llmsplit_json_str(llmsplit_json_path(llmsplit_json_root(doc), "[0].function.name"), NULL), "get_weather");
    CHECK_STR(llmsplit_json_str(llmsplit_json_path(llmsplit_json_root(doc), "[0].function.arguments"), NULL), "{\"city\":\"Paris\"}");
    CHECK_STR(llmsplit_json_str(llmsplit_json_path(llmsplit_json_root(doc), "[0].id"), NULL), "toolu_1");
    llmsplit_json_free(doc);
    call_done(&c);
}

static void providers_openai_tool_calls_pass_through_raw(void) {
    call c;
    clear_env();
    call_setup(&c, mkresp("200 OK", "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"call_1\","
                   "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}}]},\"finish_reason\":\"tool_calls\"}]}"));
    c.rq.model = "gpt-4o";
    c.msgs[2].role = "tool";
    c.msgs[2].tool_call_id = "call_0";
    c.msgs[2].content = "42";
    c.msgs[3].role = "user";
    c.msgs[3].content_json = "[{\"type\":\"text\",\"text\":\"look\"},{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:x\"}}]";
    c.rq.num_messages = 4;
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_EQ_INT(c.resp.text.len, 0);
    CHECK_STR(c.resp.tool_calls.data, "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\":1}\"}}]");
    CHECK_CONTAINS(body_of(&c.s), "{\"role\":\"tool\",\"content\":\"42\",\"tool_call_id\":\"call_0\"}");
    CHECK_CONTAINS(body_of(&c.s), "\"content\":[{\"type\":\"text\",\"text\":\"look\"},{\"type\":\"image_url\"");
    call_done(&c);
}

/* --- errors and retries ------------------------------------------------------------------------ */

static void providers_401_is_a_provider_error_with_the_message_and_no_retry(void) {
    call c;
    clear_env();
    call_setup(&c, mkresp("401 Unauthorized", "{\"error\":{\"message\":\"Incorrect API key provided: sk-test-key-123456.\",\"type\":\"invalid_request_error\","
                   "\"param\":null,\"code\":\"invalid_api_key\"}}"));
    c.rq.model = "gpt-4";
    c.rq.num_retries = 3;
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_ERR_PROVIDER);
    CHECK_EQ_INT(c.err.http_status, 401);
    CHECK_STARTS(c.err.message, "401 unauthorized (check the API key): Incorrect API key provided: ***.");
    CHECK_NOT_CONTAINS(c.err.message, "sk-test-key-123456");
    CHECK_EQ_INT(LOAD(c.s.requests), 1);
    CHECK_EQ_INT(c.resp.attempts, 1);
    call_done(&c);
}

static void providers_error_bodies_of_each_shape(void) {
    static const struct { const char *body, *want; } cases[] = {
        {"{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"message\":\"max_tokens: field required\"}}",
         "400 bad request: max_tokens: field required"},
        {"{\"error\":\"model 'llama9' not found\"}", "400 bad request: model 'llama9' not found"},
        {"<html>Bad Gateway</html>", "400 bad request: <html>Bad Gateway</html>"},
        {"", "400 bad request"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        call c;
        char resp[512];
        snprintf(resp, sizeof resp, "HTTP/1.1 400 Bad Request\r\nContent-Length: %u\r\n\r\n%s", (unsigned)strlen(cases[i].body),
                 cases[i].body);
        clear_env();
        call_setup(&c, resp);
        c.rq.model = "gpt-4";
        call_run(&c);
        CHECK_EQ_INT(c.code, LLMSPLIT_ERR_PROVIDER);
        CHECK_STR(c.err.message, cases[i].want);
        call_done(&c);
    }
}

static void providers_429_honours_retry_after_then_succeeds(void) {
    call c;
    struct timespec a, b;
    double ms;
    clear_env();
    call_setup(&c, NULL);
    c.s.seq[0] = "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 44\r\n\r\n"
                 "{\"error\":{\"message\":\"Rate limit reached\"}}  ";
    c.s.seq[1] = openai_ok();
    c.rq.model = "gpt-4";
    c.rq.num_retries = 2;
    clock_gettime(CLOCK_MONOTONIC, &a);
    call_run(&c);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_EQ_INT(c.resp.attempts, 2);
    CHECK_GE_DBL(ms, 950); /* waited for Retry-After */
    call_done(&c);
}

static void providers_5xx_retries_with_backoff_up_to_num_retries(void) {
    call c;
    clear_env();
    call_setup(&c, NULL);
    c.s.seq[0] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}";
    c.rq.model = "gpt-4";
    c.rq.num_retries = 2;
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_ERR_PROVIDER);
    CHECK_EQ_INT(c.err.http_status, 503);
    CHECK_CONTAINS(c.err.message, "503 service unavailable");
    CHECK_EQ_INT(c.resp.attempts, 3);
    CHECK_EQ_INT(LOAD(c.s.requests), 3);
    call_done(&c);
}

static void providers_unusable_200_is_a_response_error(void) {
    static const char *const bodies[] = {"not json", "{\"object\":\"chat.completion\",\"choices\":[]}", "[1,2]"};
    size_t i;
    for (i = 0; i < 3; i++) {
        call c;
        char resp[256];
        snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n%s", (unsigned)strlen(bodies[i]), bodies[i]);
        clear_env();
        call_setup(&c, resp);
        c.rq.model = "gpt-4";
        c.rq.num_retries = 2;
        call_run(&c);
        CHECK_EQ_INT(c.code, LLMSPLIT_ERR_RESPONSE);
        CHECK(strncmp(c.err.message, "response", 8) != 0);
        CHECK_EQ_INT(c.resp.attempts, 1);
        call_done(&c);
    }
}

static void providers_missing_key_is_a_config_error_naming_the_variable(void) {
    llmsplit_http *h = client();
    llmsplit_chat_request rq;
    llmsplit_chat_response r;
    llmsplit_error err;
    llmsplit_message m = {"user", "hi", 0, NULL, NULL, NULL, NULL};
    clear_env();
    memset(&rq, 0, sizeof rq);
    rq.model = "together_ai/x";
    rq.messages = &m;
    rq.num_messages = 1;
    CHECK_EQ_INT(llmsplit_chat(h, &rq, &r, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "TOGETHER_API_KEY or TOGETHERAI_API_KEY");
    llmsplit_chat_response_free(&r);
    rq.model = "gpt-4";
    rq.params_json = "[1]";
    rq.api_key = "k";
    CHECK_EQ_INT(llmsplit_chat(h, &rq, &r, &err), LLMSPLIT_ERR_USAGE);
    llmsplit_chat_response_free(&r);
    llmsplit_http_destroy(h);
}

/* --- streams --------------------------------------------------------------------------------- */

typedef struct deltas { char text[512]; size_t len; int calls; } deltas;

static int on_delta(const char *s, size_t n, void *ud) {
    deltas *d = (deltas *)ud;
    if (d->len + n < sizeof d->text) {
        memcpy(d->text + d->len, s, n);
        d->len += n;
    }
    d->calls++;
    return 0;
}

static void stream_call(call *c, const char *model, deltas *d) {
    c->rq.model = model;
    c->rq.stream = 1;
    c->rq.on_delta = on_delta;
    c->rq.user_data = d;
    call_run(c);
}

/* Appends data as one HTTP chunk to out. */
static char *chunk(char *out, size_t cap, const char *data) {
    size_t used = strlen(out);
    snprintf(out + used, cap - used, "%x\r\n%s\r\n", (unsigned)strlen(data), data);
    return out;
}

static void providers_openai_stream_split_anywhere_is_byte_exact(void) {
    call c;
    deltas d;
    static char p0[512], p1[512], p2[512], p3[512];
    clear_env();
    memset(&d, 0, sizeof d);
    /* chunk and read boundaries fall inside an event, a CRLF and a UTF-8 sequence */
    snprintf(p0, sizeof p0, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    chunk(p0, sizeof p0, ": keep-alive comment\r\n\r\ndata: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"caf\xc3");
    p1[0] = p2[0] = p3[0] = 0;
    chunk(p1, sizeof p1, "\xa9\"}}]}\r");
    chunk(p1, sizeof p1, "\n\r\ndata: {\"choices\":[{\"delta\":{\"content\":\" \\u2014 \"},\"finish_reason\":null}]}\r\n");
    chunk(p2, sizeof p2, "\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\r\r"
                         "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2}}\n\n");
    chunk(p3, sizeof p3, "data: [DONE]\n\n");
    strcat(p3, "0\r\n\r\n");
    call_setup(&c, p0);
    c.s.parts[1] = p1;
    c.s.parts[2] = p2;
    c.s.parts[3] = p3;
    c.s.pause_ms = 20;
    stream_call(&c, "gpt-4", &d);
    if (c.code) printf("  %s\n", c.err.message);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_CONTAINS(body_of(&c.s), "\"stream\":true,\"stream_options\":{\"include_usage\":true}");
    CHECK_CONTAINS(c.s.last_request, "\r\nAccept: text/event-stream\r\n");
    CHECK_EQ_MEM(c.resp.text.data, c.resp.text.len, "caf\xc3\xa9 \xe2\x80\x94 ", 10);
    CHECK_EQ_MEM(d.text, d.len, c.resp.text.data, 10);
    CHECK_EQ_INT(d.calls, 2);
    CHECK_EQ_INT(c.resp.prompt_tokens, 4);
    CHECK_EQ_INT(c.resp.completion_tokens, 2);
    CHECK_STR(c.resp.finish_reason, "stop");
    CHECK_GE_DBL(c.resp.ttft_ms, 0);
    CHECK_LE_DBL(c.resp.ttft_ms, c.resp.latency_ms);
    call_done(&c);
}

static void providers_anthropic_stream_with_named_events_and_ping(void) {
    call c;
    deltas d;
    clear_env();
    memset(&d, 0, sizeof d);
    call_setup(&c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                   "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"role\":\"assistant\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
                   "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                   "event: ping\ndata: {\"type\": \"ping\"}\n\n"
                   "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"
                   "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"!\"}}\n\n"
                   "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
                   "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\n"
                   "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    c.s.keepalive = 0;
    c.s.read_request = 1;
    stream_call(&c, "anthropic/claude-3", &d);
    if (c.code) printf("  %s\n", c.err.message);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_CONTAINS(body_of(&c.s), "\"stream\":true");
    CHECK_EQ_MEM(c.resp.text.data, c.resp.text.len, "Hello!", 6);
    CHECK_EQ_INT(d.calls, 2);
    CHECK_EQ_INT(c.resp.prompt_tokens, 25);
    CHECK_EQ_INT(c.resp.completion_tokens, 15);
    CHECK_STR(c.resp.finish_reason, "stop");
    call_done(&c);
}

static void providers_ollama_stream_is_ndjson(void) {
    call c;
    deltas d;
    static char p0[1024];
    clear_env();
    memset(&d, 0, sizeof d);
    snprintf(p0, sizeof p0, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n");
    chunk(p0, sizeof p0, "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n");
    chunk(p0, sizeof p0, "{\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\":false}\n{\"message\":{\"content\":\"\"},"
                         "\"done\":true,\"done_reason\":\"stop\",");
    chunk(p0, sizeof p0, "\"prompt_eval_count\":3,\"eval_count\":2}\n");
    strcat(p0, "0\r\n\r\n");
    call_setup(&c, p0);
    c.rq.api_key = NULL;
    stream_call(&c, "ollama/llama3", &d);
    if (c.code) printf("  %s\n", c.err.message);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_CONTAINS(body_of(&c.s), "\"stream\":true");
    CHECK_EQ_MEM(c.resp.text.data, c.resp.text.len, "Hello", 5);
    CHECK_EQ_INT(d.calls, 2);
    CHECK_EQ_INT(c.resp.prompt_tokens, 3);
    CHECK_EQ_INT(c.resp.completion_tokens, 2);
    call_done(&c);
}

static void providers_error_inside_a_stream_after_200(void) {
    call c;
    deltas d;
    clear_env();
    memset(&d, 0, sizeof d);
    call_setup(&c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                   "data: {\"choices\":[{\"delta\":{\"content\":\"par\"}}]}\n\n"
                   "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}\n\n");
    c.s.keepalive = 0;
    c.s.read_request = 1;
    stream_call(&c, "gpt-4", &d);
    CHECK_EQ_INT(c.code, LLMSPLIT_ERR_PROVIDER);
    CHECK_STR(c.err.message, "error inside the stream: server_error: The server had an error");
    CHECK_EQ_INT(d.len, 3);
    call_done(&c);
    /* Anthropic's named error event */
    memset(&d, 0, sizeof d);
    call_setup(&c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                   "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
    c.s.keepalive = 0;
    c.s.read_request = 1;
    stream_call(&c, "claude-3-haiku", &d);
    CHECK_EQ_INT(c.code, LLMSPLIT_ERR_PROVIDER);
    CHECK_STR(c.err.message, "error inside the stream: overloaded_error: Overloaded");
    call_done(&c);
}

static void providers_stream_cut_short_is_a_response_error(void) {
    call c;
    deltas d;
    clear_env();
    memset(&d, 0, sizeof d);
    call_setup(&c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                   "data: {\"choices\":[{\"delta\":{\"content\":\"half\"}}]}\n\n");
    c.s.keepalive = 0;
    c.s.read_request = 1;
    stream_call(&c, "gpt-4", &d);
    CHECK_EQ_INT(c.code, LLMSPLIT_ERR_RESPONSE);
    CHECK_CONTAINS(c.err.message, "stream ended before");
    call_done(&c);
}

static void providers_stream_error_status_reads_the_error_body(void) {
    call c;
    deltas d;
    clear_env();
    memset(&d, 0, sizeof d);
    call_setup(&c, mkresp("404 Not Found", "{\"error\":{\"message\":\"model does not exist\"}}"));
    stream_call(&c, "gpt-5-nope", &d);
    CHECK_EQ_INT(c.code, LLMSPLIT_ERR_PROVIDER);
    CHECK_EQ_INT(c.err.http_status, 404);
    CHECK_CONTAINS(c.err.message, "model does not exist");
    call_done(&c);
}

static void providers_stream_tool_call_deltas_are_assembled(void) {
    call c;
    deltas d;
    clear_env();
    memset(&d, 0, sizeof d);
    call_setup(&c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                   "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_9\",\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\n"
                   "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n"
                   "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"1}\"}}]}}]}\n\n"
                   "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n");
    c.s.keepalive = 0;
    c.s.read_request = 1;
    stream_call(&c, "gpt-4", &d);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_STR(c.resp.tool_calls.data, "[{\"id\":\"call_9\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":1}\"}}]");
    CHECK_STR(c.resp.finish_reason, "tool_calls");
    call_done(&c);
}

/* The tool calls of an answer, parsed, for checks on their members. */
static const llmsplit_json_val *calls_of(const llmsplit_chat_response *r, llmsplit_json_doc **doc) {
    *doc = NULL;
    if (!r->tool_calls.len || llmsplit_json_parse(r->tool_calls.data, r->tool_calls.len, NULL, doc, NULL) != LLMSPLIT_OK)
        return NULL;
    return llmsplit_json_root(*doc);
}

static const char *call_str(const llmsplit_json_val *calls, const char *path) {
    return llmsplit_json_str(llmsplit_json_path(calls, path), NULL);
}

/* "call_" and 24 lower-case hex digits, the shape of an id llmsplit makes up. */
static int is_made_up_id(const char *id) {
    size_t i;
    if (!id || strlen(id) != 29 || strncmp(id, "call_", 5) != 0) return 0;
    for (i = 5; i < 29; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
    return 1;
}

static void providers_anthropic_stream_numbers_tool_calls_by_tool_blocks(void) {
    call c;
    deltas d;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *calls;
    clear_env();
    memset(&d, 0, sizeof d);
    /* a text block (index 0) before two tool blocks (1 and 2): the text block is not a call */
    call_setup(&c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                   "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"role\":\"assistant\",\"usage\":{\"input_tokens\":30}}}\n\n"
                   "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                   "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking.\"}}\n\n"
                   "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
                   "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_a\",\"name\":\"get_weather\",\"input\":{}}}\n\n"
                   "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}}\n\n"
                   "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"Paris\\\"}\"}}\n\n"
                   "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
                   "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_b\",\"name\":\"get_time\",\"input\":{}}}\n\n"
                   "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"tz\\\":\\\"CET\\\"}\"}}\n\n"
                   "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
                   "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":40}}\n\n"
                   "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    c.s.keepalive = 0;
    c.s.read_request = 1;
    stream_call(&c, "anthropic/claude-3-5-sonnet", &d);
    if (c.code) printf("  %s\n", c.err.message);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_EQ_MEM(c.resp.text.data, c.resp.text.len, "Checking.", 9);
    CHECK_STR(c.resp.tool_calls.data, "[{\"id\":\"toolu_a\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                                      "\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"}},{\"id\":\"toolu_b\",\"type\":\"function\","
                                      "\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"tz\\\":\\\"CET\\\"}\"}}]");
    calls = calls_of(&c.resp, &doc);
    CHECK_EQ_INT(llmsplit_json_len(calls), 2);
    llmsplit_json_free(doc);
    CHECK_STR(c.resp.finish_reason, "tool_calls");
    call_done(&c);
}

static void providers_ollama_stream_keeps_tool_calls_openai_shaped(void) {
    call c;
    deltas d;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *calls;
    static char p0[1024];
    clear_env();
    memset(&d, 0, sizeof d);
    snprintf(p0, sizeof p0, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n");
    chunk(p0, sizeof p0, "{\"model\":\"llama3.1\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
                         "{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}}]},\"done\":false}\n");
    chunk(p0, sizeof p0, "{\"model\":\"llama3.1\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
                         "\"done_reason\":\"stop\",\"prompt_eval_count\":12,\"eval_count\":8}\n");
    strcat(p0, "0\r\n\r\n");
    call_setup(&c, p0);
    c.rq.api_key = NULL;
    stream_call(&c, "ollama/llama3.1", &d);
    if (c.code) printf("  %s\n", c.err.message);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_EQ_INT(c.resp.text.len, 0);
    calls = calls_of(&c.resp, &doc);
    CHECK_EQ_INT(llmsplit_json_len(calls), 1);
    CHECK(is_made_up_id(call_str(calls, "[0].id")));
    CHECK_STR(call_str(calls, "[0].type"), "function");
    CHECK_STR(call_str(calls, "[0].function.name"), "get_weather");
    CHECK_STR(call_str(calls, "[0].function.arguments"), "{\"city\":\"Paris\"}");
    llmsplit_json_free(doc);
    CHECK_STR(c.resp.finish_reason, "tool_calls");
    CHECK_EQ_INT(c.resp.completion_tokens, 8);
    call_done(&c);
}

static void providers_ollama_tool_calls_are_openai_shaped(void) {
    call c;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *calls;
    const char *id0, *id1;
    clear_env();
    call_setup(&c, mkresp("200 OK", "{\"model\":\"llama3.1\",\"message\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
                   "{\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\",\"days\":2}}},"
                   "{\"function\":{\"name\":\"get_time\",\"arguments\":{}}}]},\"done\":true,\"done_reason\":\"stop\"}"));
    c.rq.model = "ollama/llama3.1";
    c.rq.api_key = NULL;
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    calls = calls_of(&c.resp, &doc);
    CHECK_EQ_INT(llmsplit_json_len(calls), 2);
    id0 = call_str(calls, "[0].id");
    id1 = call_str(calls, "[1].id");
    CHECK(is_made_up_id(id0));
    CHECK(is_made_up_id(id1));
    CHECK(id0 && id1 && strcmp(id0, id1) != 0);
    CHECK_STR(call_str(calls, "[0].type"), "function");
    CHECK_STR(call_str(calls, "[0].function.name"), "get_weather");
    CHECK_STR(call_str(calls, "[0].function.arguments"), "{\"city\":\"Paris\",\"days\":2}");
    CHECK_STR(call_str(calls, "[1].function.arguments"), "{}");
    llmsplit_json_free(doc);
    CHECK_STR(c.resp.finish_reason, "tool_calls");
    call_done(&c);
}

static void providers_openai_compatible_tool_calls_are_normalised(void) {
    call c;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *calls;
    clear_env();
    /* some OpenAI-compatible servers (TGI) send arguments as an object and no id */
    call_setup(&c, mkresp("200 OK", "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
                   "{\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":{\"x\":1}}}]},\"finish_reason\":\"tool_calls\"}]}"));
    c.rq.model = "huggingface/org/model";
    call_run(&c);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    calls = calls_of(&c.resp, &doc);
    CHECK_EQ_INT(llmsplit_json_len(calls), 1);
    CHECK(is_made_up_id(call_str(calls, "[0].id")));
    CHECK_STR(call_str(calls, "[0].type"), "function");
    CHECK_STR(call_str(calls, "[0].function.arguments"), "{\"x\":1}");
    llmsplit_json_free(doc);
    call_done(&c);
}

static void providers_stream_tool_call_joins_a_surrogate_pair_split_across_pieces(void) {
    call c;
    deltas d;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *calls;
    clear_env();
    memset(&d, 0, sizeof d);
    /* the emoji's UTF-16 pair arrives in two argument pieces; a lone half becomes U+FFFD */
    call_setup(&c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                   "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"say\",\"arguments\":\"{\\\"t\\\":\\\"\\ud83d\"}}]}}]}\n\n"
                   "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\ude00\\ud83d\\\"}\"}}]}}]}\n\n"
                   "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n");
    c.s.keepalive = 0;
    c.s.read_request = 1;
    stream_call(&c, "gpt-4", &d);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    calls = calls_of(&c.resp, &doc);
    CHECK_EQ_INT(llmsplit_json_len(calls), 1);
    CHECK_STR(call_str(calls, "[0].function.arguments"), "{\"t\":\"\xf0\x9f\x98\x80\xef\xbf\xbd\"}");
    llmsplit_json_free(doc);
    call_done(&c);
}

static void providers_stream_joins_a_surrogate_pair_split_across_events(void) {
    call c;
    deltas d;
    clear_env();
    memset(&d, 0, sizeof d);
    /* servers counting UTF-16 units split an emoji's pair; a lone half becomes U+FFFD */
    call_setup(&c, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"
                   "data: {\"choices\":[{\"delta\":{\"content\":\"a\\ud83d\"}}]}\n\n"
                   "data: {\"choices\":[{\"delta\":{\"content\":\"\\ude00b\\udc00\"}}]}\n\n"
                   "data: {\"choices\":[{\"delta\":{\"content\":\"\\ud83d\"},\"finish_reason\":\"stop\"}]}\n\n"
                   "data: [DONE]\n\n");
    c.s.keepalive = 0;
    c.s.read_request = 1;
    stream_call(&c, "gpt-4", &d);
    if (c.code) printf("  %s\n", c.err.message);
    CHECK_EQ_INT(c.code, LLMSPLIT_OK);
    CHECK_EQ_MEM(c.resp.text.data, c.resp.text.len, "a\xf0\x9f\x98\x80" "b\xef\xbf\xbd\xef\xbf\xbd", 12);
    CHECK_EQ_MEM(d.text, d.len, c.resp.text.data, 12);
    call_done(&c);
}

/* --- wire formats without a connection ----------------------------------------------------------- */

static void providers_chat_body_is_the_body_chat_sends(void) {
    static const char *const models[] = {"gpt-4", "anthropic/claude-3", "ollama/llama3"};
    size_t i;
    for (i = 0; i < 3; i++) {
        call c;
        llmsplit_buf body;
        llmsplit_error err;
        clear_env();
        call_setup(&c, mkresp("500 Internal Server Error", "{}"));
        c.rq.model = models[i];
        c.rq.params_json = "{\"temperature\":0.5,\"max_tokens\":9,\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}";
        call_run(&c);
        llmsplit_buf_init(&body, NULL);
        CHECK_EQ_INT(llmsplit_chat_body(&c.rq, &body, &err), LLMSPLIT_OK);
        CHECK_STR(body.data, body_of(&c.s));
        llmsplit_buf_free(&body);
        call_done(&c);
    }
}

static void providers_chat_body_refuses_what_chat_refuses(void) {
    llmsplit_chat_request rq;
    llmsplit_message m = {"user", "hi", 0, NULL, NULL, NULL, NULL};
    llmsplit_buf body;
    llmsplit_error err;
    clear_env();
    memset(&rq, 0, sizeof rq);
    llmsplit_buf_init(&body, NULL);
    CHECK_EQ_INT(llmsplit_chat_body(&rq, &body, &err), LLMSPLIT_ERR_USAGE);
    CHECK_STR(err.message, "chat body: missing request, model or messages");
    rq.messages = &m;
    rq.num_messages = 1;
    rq.model = "fireworks/x";
    CHECK_EQ_INT(llmsplit_chat_body(&rq, &body, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_CONTAINS(err.message, "unknown provider");
    rq.model = "gpt-4";
    rq.params_json = "[1]";
    CHECK_EQ_INT(llmsplit_chat_body(&rq, &body, &err), LLMSPLIT_ERR_USAGE);
    CHECK_CONTAINS(err.message, "params must be a JSON object");
    rq.params_json = NULL;
    m.content = NULL;
    m.content_json = "[1,";
    CHECK_EQ_INT(llmsplit_chat_body(&rq, &body, &err), LLMSPLIT_ERR_USAGE);
    CHECK_CONTAINS(err.message, "content_json is not valid JSON");
    CHECK_EQ_INT(body.len, 0);
    llmsplit_buf_free(&body);
}

static void providers_ollama_request_sends_tool_call_arguments_as_objects(void) {
    llmsplit_chat_request rq;
    llmsplit_message m[3];
    llmsplit_buf body;
    llmsplit_error err;
    clear_env();
    memset(&rq, 0, sizeof rq);
    memset(m, 0, sizeof m);
    m[0].role = "user";
    m[0].content = "weather?";
    /* the calls as llmsplit gives them back, sent back with the next turn */
    m[1].role = "assistant";
    m[1].tool_calls_json = "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},"
                           "{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"not json\"}}]";
    m[2].role = "tool";
    m[2].tool_call_id = "call_1";
    m[2].content = "sunny";
    rq.model = "ollama/llama3.1";
    rq.messages = m;
    rq.num_messages = 3;
    llmsplit_buf_init(&body, NULL);
    CHECK_EQ_INT(llmsplit_chat_body(&rq, &body, &err), LLMSPLIT_OK);
    CHECK_CONTAINS(body.data, "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"get_weather\","
                              "\"arguments\":{\"city\":\"Paris\"}}},{\"function\":{\"name\":\"f\",\"arguments\":{}}}]}");
    m[1].tool_calls_json = "[{";
    CHECK_EQ_INT(llmsplit_chat_body(&rq, &body, &err), LLMSPLIT_ERR_USAGE);
    CHECK_CONTAINS(err.message, "tool_calls_json is not valid JSON");
    llmsplit_buf_free(&body);
}

/* A parameter translated into the provider's terms yields to the same key given in those terms,
   so no body names a key twice (the fuzzer found each of these). */
static void providers_translated_params_never_repeat_a_key(void) {
    static const struct { const char *model, *params, *want; } cases[] = {
        {"anthropic/claude-3", "{\"user\":\"u-1\",\"metadata\":{\"user_id\":\"u-2\"},\"stop\":\"X\",\"stop_sequences\":[\"Y\"]}",
         "{\"model\":\"claude-3\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
         "\"metadata\":{\"user_id\":\"u-2\"},\"stop_sequences\":[\"Y\"]}"},
        {"ollama/llama3", "{\"response_format\":{\"type\":\"json_object\"},\"format\":{\"type\":\"object\"}}",
         "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":false,\"format\":{\"type\":\"object\"}}"},
        {"ollama/llama3", "{\"max_tokens\":1,\"max_completion_tokens\":2,\"options\":{\"top_k\":3,\"num_ctx\":8},\"top_k\":4,\"seed\":5}",
         "{\"model\":\"llama3\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":false,"
         "\"options\":{\"top_k\":3,\"num_ctx\":8,\"num_predict\":1,\"seed\":5}}"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llmsplit_chat_request rq;
        llmsplit_message m = {"user", "hi", 0, NULL, NULL, NULL, NULL};
        llmsplit_buf body;
        llmsplit_error err;
        clear_env();
        memset(&rq, 0, sizeof rq);
        rq.model = cases[i].model;
        rq.messages = &m;
        rq.num_messages = 1;
        rq.params_json = cases[i].params;
        llmsplit_buf_init(&body, NULL);
        CHECK_EQ_INT(llmsplit_chat_body(&rq, &body, &err), LLMSPLIT_OK);
        CHECK_STR(body.data, cases[i].want);
        llmsplit_buf_free(&body);
    }
}

static void providers_chat_read_answer_reads_each_wire_whole_and_streamed(void) {
    static const struct { const char *model; int stream; const char *body; } cases[] = {
        {"gpt-4", 0, "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"Hi!\",\"tool_calls\":[{\"id\":\"call_1\","
                     "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}],"
                     "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}"},
        {"gpt-4", 1, "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"}}]}\n\n"
                     "data: {\"choices\":[{\"delta\":{\"content\":\"!\",\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
                     "\"finish_reason\":\"tool_calls\"}]}\n\n"
                     "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n"},
        {"anthropic/claude-3", 0, "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Hi!\"},{\"type\":\"tool_use\",\"id\":\"call_1\","
                                  "\"name\":\"f\",\"input\":{}}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":5,\"output_tokens\":2}}"},
        {"anthropic/claude-3", 1, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"role\":\"assistant\",\"usage\":{\"input_tokens\":5}}}\n\n"
                                  "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
                                  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi!\"}}\n\n"
                                  "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"f\",\"input\":{}}}\n\n"
                                  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n"
                                  "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":2}}\n\n"
                                  "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"},
        {"ollama/llama3", 0, "{\"message\":{\"role\":\"assistant\",\"content\":\"Hi!\",\"tool_calls\":[{\"id\":\"call_1\",\"function\":{\"name\":\"f\","
                             "\"arguments\":{}}}]},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":5,\"eval_count\":2}"},
        {"ollama/llama3", 1, "{\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"done\":false}\n"
                             "{\"message\":{\"role\":\"assistant\",\"content\":\"!\",\"tool_calls\":[{\"id\":\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":{}}}]},\"done\":false}\n"
                             "{\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":5,\"eval_count\":2}"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llmsplit_chat_response r;
        llmsplit_error err;
        llmsplit_status code = llmsplit_chat_read_answer(cases[i].model, cases[i].stream, cases[i].body, strlen(cases[i].body), &r, &err);
        if (code) printf("  case %u: %s\n", (unsigned)i, err.message);
        CHECK_EQ_INT(code, LLMSPLIT_OK);
        CHECK_EQ_MEM(r.text.data, r.text.len, "Hi!", 3);
        CHECK_STR(r.role, "assistant");
        CHECK_STR(r.finish_reason, "tool_calls");
        CHECK_STR(r.tool_calls.data, "[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]");
        CHECK_EQ_INT(r.prompt_tokens, 5);
        CHECK_EQ_INT(r.completion_tokens, 2);
        CHECK_EQ_INT(r.http_status, 200);
        if (cases[i].stream) CHECK_GE_DBL(r.ttft_ms, 0);
        else CHECK_LT_DBL(r.ttft_ms, 0);
        llmsplit_chat_response_free(&r);
    }
}

static void providers_chat_read_answer_errors(void) {
    static const struct { const char *model; int stream; const char *body; llmsplit_status code; const char *message; } cases[] = {
        {"fireworks/x", 0, "{}", LLMSPLIT_ERR_CONFIG, "unknown provider in model 'fireworks/x'"},
        {"gpt-4", 0, "{\"choices\":[]}", LLMSPLIT_ERR_RESPONSE, "the answer has no choices[0].message"},
        {"gpt-4", 0, "nope", LLMSPLIT_ERR_RESPONSE, "the answer is not JSON"},
        {"gpt-4", 1, "data: {\"choices\":[{\"delta\":{\"content\":\"half\"}}]}\n\n", LLMSPLIT_ERR_RESPONSE, "the stream ended before"},
        {"gpt-4", 1, "data: {\"choices\":[\n\n", LLMSPLIT_ERR_RESPONSE, "a stream event is not JSON"},
        {"claude-3-haiku", 1, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
         LLMSPLIT_ERR_PROVIDER, "error inside the stream: overloaded_error: Overloaded"},
        {"ollama/x", 1, "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"mess", LLMSPLIT_ERR_RESPONSE, "a stream event is not JSON"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llmsplit_chat_response r;
        llmsplit_error err;
        CHECK_EQ_INT(llmsplit_chat_read_answer(cases[i].model, cases[i].stream, cases[i].body, strlen(cases[i].body), &r, &err),
                     cases[i].code);
        CHECK_EQ_INT(err.code, cases[i].code);
        CHECK_STARTS(err.message, cases[i].message);
        llmsplit_chat_response_free(&r);
    }
}

/* --- the SSE parser ---------------------------------------------------------------------------- */

typedef struct events { char log[1024]; int n, stop_at; } events;

static int on_event(const char *event, const char *data, size_t len, void *ud) {
    events *e = (events *)ud;
    size_t used = strlen(e->log);
    snprintf(e->log + used, sizeof e->log - used, "[%s|%.*s]", event, (int)len, data);
    e->n++;
    return e->stop_at && e->n >= e->stop_at;
}

static int sse_run(const char *text, size_t step, events *e, size_t max) {
    llmsplit_sse_parser p;
    llmsplit_error err;
    size_t i, len = strlen(text);
    int r = 0;
    llmsplit_sse_init(&p, NULL);
    p.on_event = on_event;
    p.user_data = e;
    p.max_event_bytes = max;
    for (i = 0; i < len && r == 0; i += step) r = llmsplit_sse_feed(&p, text + i, len - i < step ? len - i : step, &err) == LLMSPLIT_OK ? 0 : -1;
    llmsplit_sse_free(&p);
    return r;
}

static void sse_line_endings_and_splits_give_the_same_events(void) {
    static const char *const texts[] = {
        "event: a\ndata: one\ndata: two\n\n: comment\ndata:three\n\nid: 7\nretry: 10\ndata\n\n",
        "event: a\r\ndata: one\r\ndata: two\r\n\r\n: comment\r\ndata:three\r\n\r\nid: 7\r\nretry: 10\r\ndata\r\n\r\n",
        "event: a\rdata: one\rdata: two\r\r: comment\rdata:three\r\rid: 7\rretry: 10\rdata\r\r",
    };
    const char *want = "[a|one\ntwo][|three][|]";
    size_t steps[4] = {1, 2, 3, 1000};
    int i, s;
    for (i = 0; i < 3; i++)
        for (s = 0; s < 4; s++) {
            events e;
            memset(&e, 0, sizeof e);
            CHECK_EQ_INT(sse_run(texts[i], steps[s], &e, 0), 0);
            if (strcmp(e.log, want) != 0) printf("  text %d step %u: %s\n", i, (unsigned)steps[s], e.log);
            CHECK_STR(e.log, want);
        }
}

static void sse_data_without_blank_line_is_not_dispatched(void) {
    events e;
    memset(&e, 0, sizeof e);
    CHECK_EQ_INT(sse_run("data: pending\n", 1, &e, 0), 0);
    CHECK_EQ_INT(e.n, 0);
}

static void sse_event_size_is_capped(void) {
    events e;
    char big[300];
    memset(&e, 0, sizeof e);
    memset(big, 'x', sizeof big);
    memcpy(big, "data: ", 6);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(sse_run(big, 7, &e, 100), -1);
    CHECK_EQ_INT(sse_run("data: 0123456789\ndata: 0123456789\n\n", 1000, &e, 20), -1);
}

static void sse_callback_can_stop_the_parse(void) {
    events e;
    memset(&e, 0, sizeof e);
    e.stop_at = 1;
    CHECK_EQ_INT(sse_run("data: 1\n\ndata: 2\n\n", 1000, &e, 0), -1);
    CHECK_EQ_INT(e.n, 1);
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(providers_route_every_prefix_of_the_table);
    RUN(providers_route_errors_name_what_is_missing);
    RUN(providers_openai_request_is_exact);
    RUN(providers_azure_request_uses_deployment_path_and_api_key_header);
    RUN(providers_huggingface_endpoint_sends_tgi_with_hf_token);
    RUN(providers_env_key_is_not_sent_to_an_explicit_api_base);
    RUN(providers_env_key_is_sent_to_the_base_of_its_own_variable);
    RUN(providers_explicit_key_is_sent_to_an_explicit_api_base);
    RUN(providers_azure_env_key_stays_home_from_another_base);
    RUN(providers_ollama_request_is_native_with_options);
    RUN(providers_anthropic_request_hoists_system_and_defaults_max_tokens);
    RUN(providers_anthropic_tools_translate_both_ways);
    RUN(providers_openai_tool_calls_pass_through_raw);
    RUN(providers_401_is_a_provider_error_with_the_message_and_no_retry);
    RUN(providers_error_bodies_of_each_shape);
    RUN(providers_429_honours_retry_after_then_succeeds);
    RUN(providers_5xx_retries_with_backoff_up_to_num_retries);
    RUN(providers_unusable_200_is_a_response_error);
    RUN(providers_missing_key_is_a_config_error_naming_the_variable);
    RUN(providers_openai_stream_split_anywhere_is_byte_exact);
    RUN(providers_anthropic_stream_with_named_events_and_ping);
    RUN(providers_ollama_stream_is_ndjson);
    RUN(providers_error_inside_a_stream_after_200);
    RUN(providers_stream_cut_short_is_a_response_error);
    RUN(providers_stream_error_status_reads_the_error_body);
    RUN(providers_stream_tool_call_deltas_are_assembled);
    RUN(providers_anthropic_stream_numbers_tool_calls_by_tool_blocks);
    RUN(providers_ollama_stream_keeps_tool_calls_openai_shaped);
    RUN(providers_ollama_tool_calls_are_openai_shaped);
    RUN(providers_openai_compatible_tool_calls_are_normalised);
    RUN(providers_stream_tool_call_joins_a_surrogate_pair_split_across_pieces);
    RUN(providers_stream_joins_a_surrogate_pair_split_across_events);
    RUN(providers_chat_body_is_the_body_chat_sends);
    RUN(providers_chat_body_refuses_what_chat_refuses);
    RUN(providers_ollama_request_sends_tool_call_arguments_as_objects);
    RUN(providers_translated_params_never_repeat_a_key);
    RUN(providers_chat_read_answer_reads_each_wire_whole_and_streamed);
    RUN(providers_chat_read_answer_errors);
    RUN(sse_line_endings_and_splits_give_the_same_events);
    RUN(sse_data_without_blank_line_is_not_dispatched);
    RUN(sse_event_size_is_capped);
    RUN(sse_callback_can_stop_the_parse);
    return t_summary();
}
