/* libFuzzer harness: the DER reader that takes the validity dates and IP subjectAltNames from a
   server's leaf certificate (for "not yet valid" and for IP-literal hosts), which BearSSL does
   not check. It reads attacker-controlled bytes before any verdict on them.
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_cert.c -lbearssl -lpthread
   Seeds: fuzz/corpus/fuzz_cert, the test certificates as DER. */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

static void check_time(const char *t) {
    size_t n = strlen(t), i;
    if (n != 0 && n != 14) __builtin_trap();
    for (i = 0; i < n; i++)
        if (!t[i]) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llmsplit_cert_info ci;
    llmsplit_error err;
    int i;
    /* an exact-size copy, so ASan sees any read past the end */
    unsigned char *der = (unsigned char *)malloc(size ? size : 1);
    if (!der) return 0;
    memcpy(der, data, size);
    if (llmsplit_cert_info_parse(der, size, &ci, &err) == LLMSPLIT_OK) {
        check_time(ci.not_before);
        check_time(ci.not_after);
        if (ci.num_ips < 0 || ci.num_ips > 8) __builtin_trap();
        for (i = 0; i < ci.num_ips; i++)
            if (ci.ip_lens[i] != 4 && ci.ip_lens[i] != 16) __builtin_trap();
    } else if (err.code != LLMSPLIT_ERR_TLS || ci.num_ips != 0 || ci.not_before[0]) {
        __builtin_trap();
    }
    free(der);
    return 0;
}
