/* libFuzzer harness: the config parser on arbitrary bytes. Checks the invariants a
   client relies on: a refused config names a category and a message; an accepted one has groups
   that cover every deployment, valid weights the picker accepts, and extra_params that parse.
   clang -fsanitize=fuzzer,address,undefined fuzz/fuzz_config.c -lbearssl -lpthread */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    llmsplit_error err;
    llmsplit_config *cfg = NULL;
    int g, i, seen = 0, arm = -1;
    if (llmsplit_config_parse((const char *)data, size, NULL, &cfg, &err) != LLMSPLIT_OK) {
        if (cfg) __builtin_trap();
        if (err.code == LLMSPLIT_OK || !err.message[0]) __builtin_trap();
        return 0;
    }
    for (g = 0; g < cfg->num_groups; g++) {
        const llmsplit_group *grp = &cfg->groups[g];
        double w[64];
        int n = grp->count < 64 ? grp->count : 64;
        if (grp->count < 1 || llmsplit_config_group(cfg, grp->name) != grp) __builtin_trap();
        for (i = 0; i < n; i++) w[i] = cfg->deployments[grp->deployments[i]].weight;
        if (n == grp->count && llmsplit_pick_sticky(w, n, "user", 4, &arm, NULL) != LLMSPLIT_OK) __builtin_trap();
        seen += grp->count;
    }
    if (seen != cfg->num_deployments) __builtin_trap();
    for (i = 0; i < cfg->num_deployments; i++) {
        const char *x = cfg->deployments[i].extra_params;
        llmsplit_json_doc *doc = NULL;
        llmsplit_json_parse(x, strlen(x), NULL, &doc, NULL);
        if (!doc || llmsplit_json_type_of(llmsplit_json_root(doc)) != LLMSPLIT_JSON_OBJECT) __builtin_trap();
        llmsplit_json_free(doc);
    }
    llmsplit_config_free(cfg);
    return 0;
}
