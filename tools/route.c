/* Routing options shared by chat, bench and replay: where requests go (a config file, or a
   config built from --model / --split / --silent), TLS options and records. Included by
   llmsplit.c, and by chat.c and replay.c so that each compiles on its own. */
#ifndef LLMSPLIT_TOOL_ROUTE_C
#define LLMSPLIT_TOOL_ROUTE_C
#include "tool.h"

#define ROUTE_MAX_SPLITS 64

typedef struct route_opts {
    const char *config, *model, *api_base, *api_key, *cacert, *silent, *user, *log;
    const char *splits[ROUTE_MAX_SPLITS];
    int nsplits, insecure, timeout_s, keep_responses, verbose;
    int config_poll_ms;           /* --config-poll; 0: the library's */
} route_opts;

static TOOL_UNUSED const char route_usage_text[] =
    "  --config FILE      a LiteLLM-style config (JSON); --model then names a group. Or a URL (https://,\n"
    "                     or http:// to this machine) such as llmsplit serve's /config, polled with\n"
    "                     If-None-Match and sent $LLMSPLIT_CONFIG_KEY as its bearer key when set\n"
    "  --config-poll S    seconds between checks of --config (default 1 for a file, 5 for a URL)\n"
    "  --model M          a model string (gpt-4o-mini, azure/DEPLOYMENT, anthropic/claude-..., ollama/llama3,\n"
    "                     huggingface/https://ENDPOINT, ...) or a group of --config\n"
    "  --split M=W        an arm of a weighted split (repeat; the weight follows the last '=')\n"
    "  --silent M         mirror every request to model M in the background (never delays the answer)\n"
    "  --user KEY         sticky key: the same key always gets the same arm\n"
    "  --api-base URL     endpoint base for --model/--split/--silent models (default: the provider's)\n"
    "  --api-key KEY      key for the models of --model's provider (of the first --split arm's); models of\n"
    "                     other providers take their own provider's variable (os.environ/NAME works)\n"
    "  --cacert FILE      trust these CA certificates (PEM) instead of the system bundle\n"
    "  --insecure         do not verify certificates (dangerous)\n"
    "  --timeout SECONDS  per call (default 600)\n"
    "  --log FILE         append one JSON record per call (primary and silent) to FILE; a moved or deleted\n"
    "                     FILE is started again at its path (replay and bench also on SIGHUP)\n"
    "  --keep-responses   put the answer text in the records\n"
    "  --verbose          say which arm answered, the status, latency, ttft and tokens (stderr)\n";

/* Takes a routing option at argv[*i]. Returns 1 when taken (advancing *i past its value), 0 when
   argv[*i] is not a routing option, -1 after printing a usage error. */
TOOL_FN int route_opt(route_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    const char **slot = NULL;
    if (strcmp(a, "--insecure") == 0) { o->insecure = 1; return 1; }
    if (strcmp(a, "--verbose") == 0) { o->verbose = 1; return 1; }
    if (strcmp(a, "--keep-responses") == 0) { o->keep_responses = 1; return 1; }
    if (strcmp(a, "--config") == 0) slot = &o->config;
    else if (strcmp(a, "--model") == 0) slot = &o->model;
    else if (strcmp(a, "--api-base") == 0) slot = &o->api_base;
    else if (strcmp(a, "--api-key") == 0) slot = &o->api_key;
    else if (strcmp(a, "--cacert") == 0) slot = &o->cacert;
    else if (strcmp(a, "--silent") == 0) slot = &o->silent;
    else if (strcmp(a, "--user") == 0) slot = &o->user;
    else if (strcmp(a, "--log") == 0) slot = &o->log;
    else if (strcmp(a, "--split") != 0 && strcmp(a, "--timeout") != 0 && strcmp(a, "--config-poll") != 0) return 0;
    if (*i + 1 >= argc) {
        tool_fail(LLMSPLIT_ERR_USAGE, "option %s needs a value", a);
        return -1;
    }
    (*i)++;
    if (slot) { *slot = argv[*i]; return 1; }
    if (strcmp(a, "--config-poll") == 0) {
        char *end;
        double s = strtod(argv[*i], &end);
        if (*end || end == argv[*i] || !(s >= 0.01 && s <= 86400)) {
            tool_fail(LLMSPLIT_ERR_USAGE, "--config-poll needs seconds between 0.01 and 86400, got '%s'", argv[*i]);
            return -1;
        }
        o->config_poll_ms = (int)(s * 1000 + 0.5);
        return 1;
    }
    if (strcmp(a, "--timeout") == 0) {
        char *end;
        long t = strtol(argv[*i], &end, 10);
        if (*end || t <= 0 || t > 86400) {
            tool_fail(LLMSPLIT_ERR_USAGE, "--timeout needs whole seconds between 1 and 86400, got '%s'", argv[*i]);
            return -1;
        }
        o->timeout_s = (int)t;
        return 1;
    }
    if (o->nsplits >= ROUTE_MAX_SPLITS) {
        tool_fail(LLMSPLIT_ERR_USAGE, "at most %d --split arms", ROUTE_MAX_SPLITS);
        return -1;
    }
    o->splits[o->nsplits++] = argv[*i];
    return 1;
}

/* The provider a model string goes to, or -1 when routing refuses it. Only the provider is
   wanted: a placeholder base and version keep routing from asking for them. */
static int route_provider(const char *model, size_t len) {
    char m[512];
    llmsplit_route r;
    snprintf(m, sizeof m, "%.*s", (int)len, model);
    if (llmsplit_route_model(m, "http://127.0.0.1", "2024-02-01", &r, NULL) != LLMSPLIT_OK) return -1;
    return (int)r.provider;
}

/* One generated deployment: {"model_name":G,"litellm_params":{"model":M,...}}. --api-key goes
   only to the deployments of key_provider: an OpenAI key given for --model must not reach
   Anthropic as x-api-key because a --silent model happens to be Claude. */
static void route_w_deployment(llmsplit_json_writer *w, const route_opts *o, const char *group, const char *model,
                               size_t model_len, const char *weight, int silent, int key_provider) {
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "model_name");
    llmsplit_json_write_string(w, group, strlen(group));
    LLMSPLIT_JSON_KEY(w, "litellm_params");
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "model");
    llmsplit_json_write_string(w, model, model_len);
    if (weight) {
        char *end;
        double v = strtod(weight, &end);
        LLMSPLIT_JSON_KEY(w, "weight");
        if (*end || end == weight) llmsplit_json_write_string(w, weight, strlen(weight)); /* the config says why */
        else llmsplit_json_write_double(w, v);
    }
    if (o->api_base) {
        LLMSPLIT_JSON_KEY(w, "api_base");
        llmsplit_json_write_string(w, o->api_base, strlen(o->api_base));
    }
    if (o->api_key && key_provider >= 0 && route_provider(model, model_len) == key_provider) {
        LLMSPLIT_JSON_KEY(w, "api_key");
        llmsplit_json_write_string(w, o->api_key, strlen(o->api_key));
    }
    if (silent) {
        LLMSPLIT_JSON_KEY(w, "silent_model");
        llmsplit_json_write_string(w, "silent", 6);
    }
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_object(w);
}

/* The config the command line describes when there is no --config: one group "default" with
   the --split arms (or the one --model), each mirrored to group "silent" with --silent. */
static int route_build_config(const route_opts *o, llmsplit_json_writer *w) {
    const char *primary = o->nsplits ? o->splits[0] : o->model, *weq = o->nsplits ? strrchr(primary, '=') : NULL;
    int k, key_provider = route_provider(primary, weq ? (size_t)(weq - primary) : strlen(primary));
    llmsplit_json_writer_init(w, NULL);
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "model_list");
    llmsplit_json_write_begin_array(w);
    for (k = 0; k < o->nsplits; k++) {
        const char *eq = strrchr(o->splits[k], '=');
        if (!eq || eq == o->splits[k] || !eq[1]) {
            tool_fail(LLMSPLIT_ERR_USAGE, "--split needs MODEL=WEIGHT, got '%s'", o->splits[k]);
            return 0;
        }
        route_w_deployment(w, o, "default", o->splits[k], (size_t)(eq - o->splits[k]), eq + 1, o->silent != NULL,
                           key_provider);
    }
    if (!o->nsplits)
        route_w_deployment(w, o, "default", o->model, strlen(o->model), NULL, o->silent != NULL, key_provider);
    if (o->silent) route_w_deployment(w, o, "silent", o->silent, strlen(o->silent), NULL, 0, key_provider);
    llmsplit_json_write_end_array(w);
    LLMSPLIT_JSON_KEY(w, "router_settings");
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "num_retries");
    llmsplit_json_write_int(w, 1);
    if (o->timeout_s) {
        LLMSPLIT_JSON_KEY(w, "timeout");
        llmsplit_json_write_int(w, o->timeout_s);
    }
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_object(w);
    return llmsplit_json_writer_result(w, NULL, NULL, NULL) == LLMSPLIT_OK;
}

/* The client for these options, and the group requests go to. NULL after printing the error
   (*rc set to the exit code). */
TOOL_FN llmsplit_client *route_client(const route_opts *o, const char **group, int *rc) {
    llmsplit_client_desc d;
    llmsplit_json_writer w;
    llmsplit_client *c;
    llmsplit_error err;
    int built = 0;
    memset(&d, 0, sizeof d);
    memset(&w, 0, sizeof w);
    *rc = EXIT_USAGE;
    if (o->config && o->nsplits) {
        tool_fail(LLMSPLIT_ERR_USAGE, "--split builds its own config; use it without --config");
        return NULL;
    }
    if (!o->config && !o->model && !o->nsplits) {
        tool_fail(LLMSPLIT_ERR_USAGE, "say where requests go: --model M, --split M=W ... or --config FILE");
        return NULL;
    }
    if (o->config && (strncmp(o->config, "http://", 7) == 0 || strncmp(o->config, "https://", 8) == 0)) {
        const char *key = getenv("LLMSPLIT_CONFIG_KEY");
        d.config_url = o->config; /* the control plane's key comes from the environment, never argv */
        d.config_api_key = key && *key ? key : NULL;
        if (o->silent) tool_say("warning", "--silent is ignored with --config (set silent_model there)");
    } else if (o->config) {
        d.config_file = o->config;
        if (o->silent) tool_say("warning", "--silent is ignored with --config (set silent_model there)");
    } else {
        if (!route_build_config(o, &w)) {
            llmsplit_json_writer_free(&w);
            return NULL;
        }
        llmsplit_json_writer_result(&w, &d.config_json, &d.config_len, NULL);
        built = 1;
    }
    d.config_poll_ms = o->config_poll_ms;
    d.http.ca_file = o->cacert;
    d.http.insecure = o->insecure;
    d.log_path = o->log;
    d.keep_responses = o->keep_responses;
    llmsplit_client_create(&d, &c, &err);
    if (built) llmsplit_json_writer_free(&w);
    if (!c) {
        *rc = tool_fail_error(&err);
        return NULL;
    }
    *group = o->config ? o->model : "default";
    if (!*group) {
        tool_fail(LLMSPLIT_ERR_USAGE, "with --config, --model names the group to send to");
        llmsplit_client_destroy(c);
        return NULL;
    }
    *rc = EXIT_OK;
    return c;
}

#endif /* LLMSPLIT_TOOL_ROUTE_C */
