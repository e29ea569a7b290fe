/* libFuzzer harness: the YAML reader. A refused text has a category, a message and a place
   inside the text; a read one is a document whose JSON parses again, and reading the same text
   twice gives the same JSON.
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_yaml.c -lbearssl -lpthread */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

/* The document as JSON text (malloc'd), or NULL. */
static char *read_as_json(const uint8_t *data, size_t size, size_t *len) {
    llmsplit_error err;
    llmsplit_json_doc *doc = NULL;
    llmsplit_json_writer w;
    const char *out;
    char *copy = NULL;
    if (llmsplit_yaml_parse((const char *)data, size, NULL, &doc, &err) != LLMSPLIT_OK) {
        if (doc || !err.message[0]) __builtin_trap();
        if (err.code != LLMSPLIT_ERR_CONFIG && err.code != LLMSPLIT_ERR_NOMEM) __builtin_trap();
        if (err.code == LLMSPLIT_ERR_CONFIG && (err.line < 1 || err.col < 1 || err.offset > size)) __builtin_trap();
        return NULL;
    }
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_value(&w, llmsplit_json_root(doc));
    if (llmsplit_json_writer_result(&w, &out, len, NULL) == LLMSPLIT_OK) {
        llmsplit_json_doc *again = NULL;
        if (llmsplit_json_parse(out, *len, NULL, &again, NULL) != LLMSPLIT_OK) __builtin_trap();
        llmsplit_json_free(again);
        copy = (char *)malloc(*len);
        if (copy) memcpy(copy, out, *len);
    }
    llmsplit_json_writer_free(&w);
    llmsplit_json_free(doc);
    return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t n1 = 0, n2 = 0;
    char *a = read_as_json(data, size, &n1), *b = a ? read_as_json(data, size, &n2) : NULL;
    if (a && (!b || n1 != n2 || memcmp(a, b, n1) != 0)) __builtin_trap();
    free(a);
    free(b);
    return 0;
}
