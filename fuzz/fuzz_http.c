/* libFuzzer harness: the HTTP response parser, fed in pieces whose sizes come from the input.
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_http.c -lbearssl -lpthread */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llmsplit_http_parser p;
    llmsplit_http_response r;
    llmsplit_error err;
    size_t off = 1, used;
    int done = 0, failed = 0, step;
    if (size < 1) return 0;
    step = data[0] ? data[0] : 1;
    memset(&r, 0, sizeof r);
    llmsplit_http_parser_init(&p, &r);
    p.max_body_bytes = 1 << 20;
    while (off < size && !done && !failed) {
        size_t n = size - off < (size_t)step ? size - off : (size_t)step;
        failed = llmsplit_http_parser_feed(&p, (const char *)data + off, n, &used, &done, &err) != LLMSPLIT_OK;
        if (failed && err.code == LLMSPLIT_OK) __builtin_trap(); /* a failure always says why */
        if (used > n) __builtin_trap();
        off += n;
    }
    if (!done && !failed) llmsplit_http_parser_eof(&p, &err);
    llmsplit_http_response_free(&r);
    return 0;
}
