/* libFuzzer harness: URL parsing, and model-string routing on the same bytes.
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_url.c -lbearssl -lpthread */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char s[4096];
    llmsplit_url u;
    llmsplit_route r;
    llmsplit_error err;
    if (size >= sizeof s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    if (llmsplit_url_parse(s, &u, &err) == LLMSPLIT_OK) {
        /* what parses must be usable: a host, a port, a target starting with '/' */
        if (!u.host[0] || u.port < 1 || u.port > 65535 || u.target[0] != '/') __builtin_trap();
    }
    llmsplit_route_model(s, NULL, NULL, &r, &err);
    return 0;
}
