/* `llmsplit pick`: which model each user key gets, without sending anything.

       llmsplit pick --split M=W ... [--user KEY]... [--seed N]

   Prints, one line per --user in the order given, the model string (exactly as written in
   --split) that the key gets; with no --user, one random draw. A key is placed exactly like
   nginx's split_clients with the same percentages, so `--split gpt-4=80 --split llama2=20` and
   `split_clients "$key" $m { 80% gpt-4; * llama2; }` agree on every key. An empty --user ""
   is not a key: it gets a random draw, as in the library.

   In --split M=W the weight follows the LAST '=' (model strings may contain '='); weights are
   normalised by their sum, so 80/20 and 0.8/0.2 are the same split. A trailing '%' is allowed
   (80%), as is a leading '.' (.2); otherwise a weight is a JSON number, read the same in every
   locale.

   Included by tools/llmsplit.c after llmsplit.h; everything here but cmd_pick is static and
   named pick_*. Uses only the public API. Exit codes (tool.h): 0 ok, 2 usage or config, 1 output
   or memory failure. */
#include "tool.h"

static const char pick_usage_text[] =
    "usage: llmsplit pick --split MODEL=WEIGHT ... [--user KEY]... [--seed N]\n"
    "  prints the model each --user KEY gets, one per line in order (sticky: the same as nginx\n"
    "  split_clients with the same percentages); without --user, one random draw.\n"
    "  --split MODEL=WEIGHT  an arm; repeat it. The weight follows the last '='; weights are\n"
    "                        normalised by their sum (80/20 and 0.8/0.2 are the same split)\n"
    "  --user KEY            a user key; repeat it. An empty key gets a random draw\n"
    "  --seed N              make random draws reproducible (N >= 1)\n";

/* Reads a weight: a JSON number, optionally with a leading '.' or a trailing '%'. Returns 1 and
   sets *out, or 0 when the text is not a number. The JSON parser is locale-independent, unlike
   strtod under a decimal-comma locale. */
static int pick_parse_weight(const char *text, double *out) {
    char buf[64];
    size_t n = strlen(text);
    llmsplit_json_doc *doc;
    const llmsplit_json_val *v;
    int ok;
    if (n > 0 && text[n - 1] == '%') n--;
    if (n == 0 || n + 2 > sizeof buf) return 0;
    if (text[0] == '.') { /* ".2" as "0.2" */
        buf[0] = '0';
        memcpy(buf + 1, text, n);
        n++;
    } else {
        memcpy(buf, text, n);
    }
    buf[n] = 0;
    llmsplit_json_parse(buf, n, NULL, &doc, NULL);
    v = llmsplit_json_root(doc);
    ok = doc && llmsplit_json_type_of(v) == LLMSPLIT_JSON_NUMBER;
    if (ok) *out = llmsplit_json_double(v);
    llmsplit_json_free(doc);
    return ok;
}

/* Reads a --seed value: decimal digits only, 1 .. 2^64-1. */
static int pick_parse_seed(const char *text, uint64_t *out) {
    uint64_t v = 0;
    const char *p;
    if (!*text) return 0;
    for (p = text; *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (d > 9 || v > (UINT64_MAX - d) / 10u) return 0;
        v = v * 10u + d;
    }
    *out = v;
    return v != 0;
}

int cmd_pick(int argc, char **argv) {
    const char **models = NULL, **users = NULL;
    size_t *model_len = NULL;
    double *weights = NULL, sum = 0.0;
    int n_arms = 0, n_users = 0, i, j, rc = EXIT_OK;
    uint64_t seed = 0;
    llmsplit_rng rng;

    models = (const char **)malloc((size_t)(argc + 1) * sizeof *models);
    users = (const char **)malloc((size_t)(argc + 1) * sizeof *users);
    model_len = (size_t *)malloc((size_t)(argc + 1) * sizeof *model_len);
    weights = (double *)malloc((size_t)(argc + 1) * sizeof *weights);
    if (!models || !users || !model_len || !weights) {
        rc = tool_fail(LLMSPLIT_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (tool_is_help(a)) {
            rc = tool_usage(1, "%s", pick_usage_text);
            goto done;
        }
        if (strcmp(a, "--split") == 0 || strcmp(a, "--user") == 0 || strcmp(a, "--seed") == 0) {
            const char *v;
            if (i + 1 >= argc) {
                rc = tool_fail(LLMSPLIT_ERR_USAGE, "%s needs a value", a);
                goto done;
            }
            v = argv[++i];
            if (strcmp(a, "--user") == 0) {
                users[n_users++] = v;
            } else if (strcmp(a, "--seed") == 0) {
                if (!pick_parse_seed(v, &seed)) {
                    rc = tool_fail(LLMSPLIT_ERR_USAGE, "--seed '%s': must be an integer from 1 to %llu (leave it out for unseeded draws)",
                                   v, (unsigned long long)UINT64_MAX);
                    goto done;
                }
            } else {
                const char *eq = strrchr(v, '=');
                if (!eq || eq == v) {
                    rc = tool_fail(LLMSPLIT_ERR_USAGE, "--split '%s': expected MODEL=WEIGHT, e.g. --split gpt-4=80", v);
                    goto done;
                }
                if (!pick_parse_weight(eq + 1, &weights[n_arms])) {
                    rc = tool_fail(LLMSPLIT_ERR_USAGE, "--split '%s': weight '%s' is not a number", v, eq + 1);
                    goto done;
                }
                models[n_arms] = v;
                model_len[n_arms] = (size_t)(eq - v);
                n_arms++;
            }
        } else if (a[0] == '-' && a[1] != 0) {
            rc = tool_fail(LLMSPLIT_ERR_USAGE, "unknown option %s for pick (try llmsplit pick --help)", a);
            goto done;
        } else {
            rc = tool_fail(LLMSPLIT_ERR_USAGE, "pick takes no bare arguments (got '%s'; a user key goes after --user)", a);
            goto done;
        }
    }
    if (n_arms == 0) {
        rc = tool_usage(0, "%s", pick_usage_text);
        goto done;
    }

    /* The rules of a config's weights (finite, >= 0, not all 0), with messages that name the arguments. */
    for (i = 0; i < n_arms; i++) {
        if (!(weights[i] >= 0.0)) {
            rc = tool_fail(LLMSPLIT_ERR_CONFIG, "--split '%s': weight must be >= 0", models[i]);
            goto done;
        }
        for (j = 0; j < i; j++)
            if (model_len[j] == model_len[i] && memcmp(models[j], models[i], model_len[i]) == 0) {
                rc = tool_fail(LLMSPLIT_ERR_CONFIG, "--split: model '%.*s' is given twice", (int)model_len[i], models[i]);
                goto done;
            }
        sum += weights[i];
    }
    if (!(sum > 0.0)) {
        rc = tool_fail(LLMSPLIT_ERR_CONFIG, "--split: every weight is 0");
        goto done;
    }
    if (sum > 1.7976931348623157e308) {
        rc = tool_fail(LLMSPLIT_ERR_CONFIG, "--split: the weights add up to infinity");
        goto done;
    }

    llmsplit_rng_seed(&rng, seed);
    if (n_users == 0) users[n_users++] = ""; /* no key: one random draw */
    for (i = 0; i < n_users; i++) {
        int arm = -1;
        /* cannot fail after the checks above; say so rather than print nothing */
        if (llmsplit_pick(weights, NULL, n_arms, users[i], strlen(users[i]), &rng, &arm, NULL) != LLMSPLIT_OK) {
            rc = tool_fail(LLMSPLIT_ERR_CONFIG, "--split: invalid weights");
            goto done;
        }
        printf("%.*s\n", (int)model_len[arm], models[arm]);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        rc = tool_fail_output();
    }
done:
    free(models);
    free(users);
    free(model_len);
    free(weights);
    return rc;
}
