/* llmsplit chat: one chat completion from the command line, through the same client
   a program would use: splits, sticky keys, silent models and records included. */
#include "tool.h"
#include "route.c"

static int usage_chat(int asked) {
    return tool_usage(asked, "usage: llmsplit chat [options] PROMPT      (PROMPT '-' reads stdin)\n%s"
                             "  --system TEXT      a system message before the prompt\n"
                             "  --param K=V        extra request parameter; V is JSON when it parses (0.7, true, [..]), else a string\n"
                             "  --stream           print the answer as it arrives\n"
                             "exit: 0 ok, 2 usage/config, 3 network/TLS, 4 provider error status, 5 unusable response\n",
                      route_usage_text);
}

/* --param K=V into a JSON object text held in params (V as JSON when it is valid JSON). */
static int add_param(llmsplit_buf *params, const char *kv) {
    const char *eq = strchr(kv, '=');
    llmsplit_json_writer w;
    llmsplit_json_doc *doc;
    size_t n;
    const char *piece;
    if (!eq || eq == kv) return 0;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    llmsplit_json_write_key(&w, kv, (size_t)(eq - kv));
    llmsplit_json_parse(eq + 1, strlen(eq + 1), NULL, &doc, NULL);
    if (doc) llmsplit_json_write_value(&w, llmsplit_json_root(doc));
    else llmsplit_json_write_string(&w, eq + 1, strlen(eq + 1));
    llmsplit_json_write_end_object(&w);
    llmsplit_json_free(doc);
    if (llmsplit_json_writer_result(&w, &piece, &n, NULL) != LLMSPLIT_OK) { llmsplit_json_writer_free(&w); return 0; }
    /* splice the new member into the running object */
    if (params->len == 0) llmsplit_buf_append(params, "{", 1);
    else { params->len--; llmsplit_buf_append(params, ",", 1); }
    llmsplit_buf_append(params, piece + 1, n - 1);
    llmsplit_json_writer_free(&w);
    return 1;
}

static int print_delta(const char *text, size_t len, void *ud) {
    (void)ud;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static void print_verbose(const llmsplit_result *r) {
    const llmsplit_chat_response *a = &r->response;
    fprintf(stderr, "llmsplit: %s%s%s -> %s (%s %s), status %d, %.1f ms", r->group, r->sticky ? " sticky" : "",
            r->fallback ? " fallback" : "", r->model, llmsplit_provider_name(a->provider), a->model, a->http_status,
            a->latency_ms);
    if (a->ttft_ms >= 0) fprintf(stderr, ", ttft %.1f ms", a->ttft_ms);
    if (a->prompt_tokens >= 0 || a->completion_tokens >= 0) { /* a stream cut before its usage may know one side */
        char in[24] = "?", out[24] = "?";
        if (a->prompt_tokens >= 0) snprintf(in, sizeof in, "%lld", (long long)a->prompt_tokens);
        if (a->completion_tokens >= 0) snprintf(out, sizeof out, "%lld", (long long)a->completion_tokens);
        fprintf(stderr, ", tokens %s+%s", in, out);
    }
    if (r->cost_usd >= 0) fprintf(stderr, ", $%.6f", r->cost_usd);
    fprintf(stderr, "%s, attempts %d\n", r->mirrored ? ", mirrored" : "", a->attempts);
}

int cmd_chat(int argc, char **argv) {
    route_opts o;
    llmsplit_buf params;
    llmsplit_client *client;
    llmsplit_request rq;
    llmsplit_result res;
    llmsplit_message msgs[2];
    llmsplit_error err;
    llmsplit_status e;
    const char *prompt = NULL, *system = NULL, *group = NULL;
    char *stdin_text = NULL;
    int i, nm = 0, stream = 0, rc = EXIT_USAGE;
    memset(&o, 0, sizeof o);
    llmsplit_buf_init(&params, NULL);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        int r = route_opt(&o, argc, argv, &i);
        if (r < 0) goto done;
        if (r > 0) continue;
        if (tool_is_help(a)) { rc = usage_chat(1); goto done; }
        else if (strcmp(a, "--stream") == 0) stream = 1;
        else if (strcmp(a, "--system") == 0 && i + 1 < argc) system = argv[++i];
        else if (strcmp(a, "--param") == 0 && i + 1 < argc) {
            if (!add_param(&params, argv[++i])) {
                tool_fail(LLMSPLIT_ERR_USAGE, "--param needs K=V, got '%s'", argv[i]);
                goto done;
            }
        } else if (a[0] == '-' && a[1] != 0) {
            tool_fail(LLMSPLIT_ERR_USAGE, "unknown option %s for chat (see llmsplit chat --help)", a);
            goto done;
        } else if (prompt) {
            tool_fail(LLMSPLIT_ERR_USAGE, "chat takes one PROMPT (quote it); unexpected '%s'", a);
            goto done;
        } else prompt = a;
    }
    if (!prompt) { rc = usage_chat(0); goto done; }
    if (strcmp(prompt, "-") == 0) {
        size_t len;
        char why[128];
        stdin_text = tool_read_file("-", TOOL_MAX_FILE, &len, why, sizeof why);
        if (!stdin_text) {
            tool_fail(LLMSPLIT_ERR_USAGE, "cannot read stdin: %s", why);
            goto done;
        }
        while (len && (stdin_text[len - 1] == '\n' || stdin_text[len - 1] == '\r')) len--;
        stdin_text[len] = 0;
        prompt = stdin_text;
    }
    client = route_client(&o, &group, &rc);
    if (!client) goto done;
    memset(msgs, 0, sizeof msgs);
    if (system) { msgs[nm].role = "system"; msgs[nm++].content = system; }
    msgs[nm].role = "user";
    msgs[nm++].content = prompt;
    memset(&rq, 0, sizeof rq);
    rq.group = group;
    rq.messages = msgs;
    rq.num_messages = nm;
    rq.params_json = params.len ? params.data : NULL;
    rq.user = o.user;
    rq.stream = stream;
    rq.on_delta = stream ? print_delta : NULL;
    e = llmsplit_client_chat(client, &rq, &res, &err);
    if (e == LLMSPLIT_OK) {
        if (!stream) fwrite(res.response.text.data ? res.response.text.data : "", 1, res.response.text.len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        rc = EXIT_OK;
    } else {
        if (stream && res.response.text.len) fputc('\n', stdout);
        rc = tool_fail_error(&err);
    }
    if (o.verbose) print_verbose(&res);
    llmsplit_result_free(&res);
    llmsplit_client_destroy(client); /* waits for the silent call, so its record is written */
done:
    llmsplit_buf_free(&params);
    free(stdin_text);
    return rc;
}
