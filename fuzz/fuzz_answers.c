/* libFuzzer harness: every provider's answer reader and stream reader on arbitrary bytes, through
   llmsplit_chat_read_answer. The first byte picks the provider (low bits) and whether the rest is
   read as a whole answer or as a stream (high bit). Checks what a caller relies on: a refusal has
   a category and a message; an accepted answer's text is UTF-8 and its tool calls are a JSON
   array of calls in the one shape (an id, a name, arguments as a string).
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_answers.c -lbearssl -lpthread -lm */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

static const char *const models[] = {"gpt-4", "azure/dep", "huggingface/org/model", "ollama/llama3",
                                     "openrouter/x/y", "together_ai/x/y", "anthropic/claude-3"};

/* 1 when s is valid UTF-8: the JSON writer refuses anything else. */
static int is_utf8(const char *s, size_t n) {
    llmsplit_json_writer w;
    int ok;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_string(&w, s ? s : "", n);
    ok = llmsplit_json_writer_result(&w, NULL, NULL, NULL) == LLMSPLIT_OK;
    llmsplit_json_writer_free(&w);
    return ok;
}

static void check_calls(const llmsplit_buf *calls) {
    llmsplit_json_doc *doc = NULL;
    llmsplit_json_iter it;
    const llmsplit_json_val *c;
    if (!calls->len) return;
    if (llmsplit_json_parse(calls->data, calls->len, NULL, &doc, NULL) != LLMSPLIT_OK) __builtin_trap();
    if (llmsplit_json_type_of(llmsplit_json_root(doc)) != LLMSPLIT_JSON_ARRAY || !llmsplit_json_len(llmsplit_json_root(doc)))
        __builtin_trap();
    it = llmsplit_json_iterate(llmsplit_json_root(doc));
    while (llmsplit_json_next(&it, NULL, &c)) {
        size_t n = 0;
        if (!llmsplit_json_str(llmsplit_json_get(c, "id"), &n) || !n) __builtin_trap();
        if (!llmsplit_json_str(llmsplit_json_path(c, "function.name"), NULL)) __builtin_trap();
        if (!llmsplit_json_str(llmsplit_json_path(c, "function.arguments"), &n) || !n) __builtin_trap();
    }
    llmsplit_json_free(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llmsplit_chat_response r;
    llmsplit_error err;
    const char *model;
    int stream;
    if (size < 1) return 0;
    model = models[(data[0] & 0x7f) % (sizeof models / sizeof models[0])];
    stream = data[0] >> 7;
    if (llmsplit_chat_read_answer(model, stream, (const char *)data + 1, size - 1, &r, &err) != LLMSPLIT_OK) {
        if (err.code == LLMSPLIT_OK || !err.message[0]) __builtin_trap();
    } else {
        if (!is_utf8(r.text.data, r.text.len)) __builtin_trap();
        if (r.text.len && r.text.data[r.text.len] != 0) __builtin_trap();
        check_calls(&r.tool_calls);
    }
    llmsplit_chat_response_free(&r);
    return 0;
}
