/* libFuzzer harness: the Server-Sent Events parser, fed in pieces whose sizes come from the input.
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_sse.c -lbearssl -lpthread */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

static int on_event(const char *event, const char *data, size_t len, void *ud) {
    size_t *total = (size_t *)ud;
    if (!event || !data || data[len] != 0) __builtin_trap(); /* events are NUL-terminated at len */
    *total += len;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llmsplit_sse_parser p;
    llmsplit_error err;
    size_t off = 1, total = 0;
    int step;
    if (size < 1) return 0;
    step = data[0] ? data[0] : 1;
    llmsplit_sse_init(&p, NULL);
    p.max_event_bytes = 4096;
    p.on_event = on_event;
    p.user_data = &total;
    while (off < size) {
        size_t n = size - off < (size_t)step ? size - off : (size_t)step;
        if (llmsplit_sse_feed(&p, (const char *)data + off, n, &err) != LLMSPLIT_OK) break;
        off += n;
    }
    llmsplit_sse_free(&p);
    return 0;
}
