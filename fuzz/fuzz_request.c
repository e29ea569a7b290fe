/* libFuzzer harness: request bodies for every provider from hostile params and messages, through
   llmsplit_chat_body. The body writer must never crash and never write what is not JSON: a body
   it accepts must parse, with "model" its first member, and name no key twice (at the top or in
   Ollama's "options") unless the caller's params repeat one; a body it refuses has a category and a
   message. Input: byte 0 picks the provider (low bits) and streaming (high bit), byte 1 which
   message fields are set; the rest, split at NUL bytes, is params_json and then the fields of up
   to four messages (role, content, content_json, tool_calls_json, tool_call_id, name).
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_request.c -lbearssl -lpthread -lm */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include <stdlib.h>
#include <string.h>

static const char *const models[] = {"gpt-4", "azure/dep", "huggingface/org/model", "ollama/llama3",
                                     "openrouter/x/y", "together_ai/x/y", "anthropic/claude-3"};

static int count_key(const llmsplit_json_val *obj, const char *key, size_t len) {
    llmsplit_json_iter it = llmsplit_json_iterate(obj);
    const llmsplit_json_val *k;
    int count = 0;
    while (llmsplit_json_next(&it, &k, NULL)) {
        size_t n;
        const char *s = llmsplit_json_str(k, &n);
        count += n == len && memcmp(s, key, n) == 0;
    }
    return count;
}

/* 1 when obj names some key twice. */
static int repeats_a_key(const llmsplit_json_val *obj) {
    llmsplit_json_iter it = llmsplit_json_iterate(obj);
    const llmsplit_json_val *k;
    while (llmsplit_json_next(&it, &k, NULL)) {
        size_t n;
        const char *s = llmsplit_json_str(k, &n);
        if (count_key(obj, s, n) > 1) return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llmsplit_chat_request rq;
    llmsplit_message msgs[4];
    llmsplit_buf body;
    llmsplit_error err;
    char *text, *p, *end;
    unsigned flags;
    int field = 0;
    if (size < 2) return 0;
    text = (char *)malloc(size - 2 + 1);
    if (!text) return 0;
    memcpy(text, data + 2, size - 2);
    text[size - 2] = 0;
    end = text + size - 2;
    flags = data[1];
    memset(&rq, 0, sizeof rq);
    memset(msgs, 0, sizeof msgs);
    rq.model = models[(data[0] & 0x7f) % (sizeof models / sizeof models[0])];
    rq.stream = data[0] >> 7;
    rq.api_base = "https://x.example"; /* Azure needs one */
    rq.api_version = "2024-02-01";
    rq.messages = msgs;
    /* piece 0: params; then the fields of each message in turn; flags bit k (k = field % 8)
       leaves that field NULL */
    for (p = text; p <= end; p += strlen(p) + 1, field++) {
        int m = (field - 1) / 6, f = (field - 1) % 6;
        if (field == 0) { rq.params_json = *p ? p : NULL; continue; }
        if (m >= 4) break;
        if (m + 1 > rq.num_messages) rq.num_messages = m + 1;
        if (flags & (1u << (field % 8))) continue;
        switch (f) {
        case 0: msgs[m].role = p; break;
        case 1: msgs[m].content = p; msgs[m].content_len = strlen(p); break;
        case 2: msgs[m].content_json = p; break;
        case 3: msgs[m].tool_calls_json = p; break;
        case 4: msgs[m].tool_call_id = p; break;
        default: msgs[m].name = p; break;
        }
    }
    llmsplit_buf_init(&body, NULL);
    if (llmsplit_chat_body(&rq, &body, &err) == LLMSPLIT_OK) {
        llmsplit_json_doc *doc = NULL;
        if (llmsplit_json_parse(body.data, body.len, NULL, &doc, NULL) != LLMSPLIT_OK) __builtin_trap();
        if (strncmp(body.data, "{\"model\":", 9) != 0) __builtin_trap();
        if (rq.params_json) {
            llmsplit_json_doc *params = NULL;
            const llmsplit_json_val *root = llmsplit_json_root(doc), *given;
            llmsplit_json_parse(rq.params_json, strlen(rq.params_json), NULL, &params, NULL);
            given = llmsplit_json_root(params);
            /* params that repeat a key go upstream as given (translated keys too); otherwise the
               body repeats none, also where two parameters translate to one key */
            if (!repeats_a_key(given) && !repeats_a_key(llmsplit_json_get(given, "options")) &&
                (repeats_a_key(root) || repeats_a_key(llmsplit_json_get(root, "options"))))
                __builtin_trap();
            llmsplit_json_free(params);
        }
        llmsplit_json_free(doc);
    } else if (err.code == LLMSPLIT_OK || !err.message[0]) {
        __builtin_trap();
    }
    llmsplit_buf_free(&body);
    free(text);
    return 0;
}
