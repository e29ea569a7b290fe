/* libFuzzer harness: the JSON parser, and the writer on whatever parses.
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_json.c -lbearssl -lpthread */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llmsplit_json_error err;
    llmsplit_json_doc *doc = llmsplit_json_parse((const char *)data, size, NULL, &err);
    if (doc) {
        llmsplit_json_writer w;
        size_t n;
        const char *out;
        llmsplit_json_writer_init(&w, NULL);
        llmsplit_json_write_value(&w, llmsplit_json_root(doc));
        out = llmsplit_json_writer_result(&w, &n);
        if (out) { /* what we write must parse again */
            llmsplit_json_doc *again = llmsplit_json_parse(out, n, NULL, NULL);
            if (!again) __builtin_trap();
            llmsplit_json_free(again);
        }
        llmsplit_json_writer_free(&w);
        llmsplit_json_free(doc);
    }
    return 0;
}
