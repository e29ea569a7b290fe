/* libFuzzer harness: the JSON parser, and the writer on whatever parses.
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_json.c -lbearssl -lpthread */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llmsplit_error err;
    llmsplit_json_doc *doc = NULL;
    if (llmsplit_json_parse((const char *)data, size, NULL, &doc, &err) == LLMSPLIT_OK) {
        llmsplit_json_writer w;
        size_t n;
        const char *out;
        llmsplit_json_writer_init(&w, NULL);
        llmsplit_json_write_value(&w, llmsplit_json_root(doc));
        if (llmsplit_json_writer_result(&w, &out, &n, NULL) == LLMSPLIT_OK) { /* what we write must parse again */
            llmsplit_json_doc *again = NULL;
            if (llmsplit_json_parse(out, n, NULL, &again, NULL) != LLMSPLIT_OK) __builtin_trap();
            llmsplit_json_free(again);
        }
        llmsplit_json_writer_free(&w);
        llmsplit_json_free(doc);
    }
    return 0;
}
