/* llmsplit chat: one chat completion from the command line (DESIGN §12). Included by llmsplit.c. */

typedef struct chat_opts {
    const char *model, *api_base, *api_key, *cacert, *system, *prompt;
    int insecure, stream, verbose, timeout_s;
    llmsplit_buf params;          /* {"k":v,...} from --param */
} chat_opts;

static int exit_for(llmsplit_err e) {
    switch (e) {
    case LLMSPLIT_OK: return EXIT_OK;
    case LLMSPLIT_ERR_USAGE: case LLMSPLIT_ERR_CONFIG: return EXIT_USAGE;
    case LLMSPLIT_ERR_NETWORK: case LLMSPLIT_ERR_TLS: return EXIT_NET;
    case LLMSPLIT_ERR_PROVIDER: return EXIT_PROVIDER;
    case LLMSPLIT_ERR_RESPONSE: case LLMSPLIT_ERR_HTTP: return EXIT_RESPONSE;
    default: return EXIT_OTHER;
    }
}

/* Error messages already start with their category ("tls: ..."); print them as
   "llmsplit: <category>: <message>" without saying the category twice. */
static int report_error(const llmsplit_error *err) {
    const char *cat = llmsplit_strerror(err->code);
    size_t n = strlen(cat);
    const char *msg = err->message;
    if (strncmp(msg, cat, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    fprintf(stderr, "llmsplit: %s: %s\n", cat, msg);
    return exit_for(err->code);
}

static int usage_chat(void) {
    fprintf(stderr,
            "usage: llmsplit chat [options] PROMPT      (PROMPT '-' reads stdin)\n"
            "  --model M          model string: gpt-4o-mini, azure/DEPLOYMENT, anthropic/claude-..., ollama/llama3, ...\n"
            "  --api-base URL     endpoint base (default: the provider's, or its *_API_BASE variable)\n"
            "  --api-key KEY      key (default: the provider's variable, e.g. OPENAI_API_KEY; os.environ/NAME works)\n"
            "  --cacert FILE      trust these CA certificates (PEM) instead of the system bundle\n"
            "  --insecure         do not verify certificates (dangerous)\n"
            "  --system TEXT      a system message before the prompt\n"
            "  --param K=V        extra request parameter; V is JSON when it parses (0.7, true, [..]) else a string\n"
            "  --stream           print the answer as it arrives\n"
            "  --timeout SECONDS  per attempt (default 600)\n"
            "  --verbose          print provider, model, status, latency, ttft and tokens on stderr\n"
            "exit: 0 ok, 2 usage/config, 3 network/TLS, 4 provider error status, 5 unusable response\n");
    return EXIT_USAGE;
}

/* --param K=V into the params object (V as JSON when it is valid JSON, else as a string). */
static int add_param(chat_opts *o, const char *kv) {
    const char *eq = strchr(kv, '=');
    llmsplit_json_writer w;
    llmsplit_json_doc *doc;
    size_t n;
    const char *piece;
    if (!eq || eq == kv) return 0;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    llmsplit_json_write_key(&w, kv, (size_t)(eq - kv));
    doc = llmsplit_json_parse(eq + 1, strlen(eq + 1), NULL, NULL);
    if (doc) llmsplit_json_write_value(&w, llmsplit_json_root(doc));
    else llmsplit_json_write_string(&w, eq + 1, strlen(eq + 1));
    llmsplit_json_write_end_object(&w);
    llmsplit_json_free(doc);
    piece = llmsplit_json_writer_result(&w, &n);
    if (!piece) { llmsplit_json_writer_free(&w); return 0; }
    /* splice "{...}" members into the running object */
    if (o->params.len == 0) llmsplit_buf_append(&o->params, "{", 1);
    else { o->params.len--; llmsplit_buf_append(&o->params, ",", 1); }
    llmsplit_buf_append(&o->params, piece + 1, n - 1);
    llmsplit_json_writer_free(&w);
    return 1;
}

static int print_delta(const char *text, size_t len, void *ud) {
    (void)ud;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0;
}

static int cmd_chat(int argc, char **argv) {
    chat_opts o;
    llmsplit_http_desc hd;
    llmsplit_http *http;
    llmsplit_chat_request rq;
    llmsplit_chat_response resp;
    llmsplit_message msgs[2];
    llmsplit_error err;
    llmsplit_err e;
    char *stdin_text = NULL;
    int i, nm = 0, rc;
    memset(&o, 0, sizeof o);
    llmsplit_buf_init(&o.params, NULL);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { llmsplit_buf_free(&o.params); return usage_chat(); }
        else if (strcmp(a, "--stream") == 0) o.stream = 1;
        else if (strcmp(a, "--insecure") == 0) o.insecure = 1;
        else if (strcmp(a, "--verbose") == 0) o.verbose = 1;
        else if (strcmp(a, "--model") == 0 && has_value) o.model = argv[++i];
        else if (strcmp(a, "--api-base") == 0 && has_value) o.api_base = argv[++i];
        else if (strcmp(a, "--api-key") == 0 && has_value) o.api_key = argv[++i];
        else if (strcmp(a, "--cacert") == 0 && has_value) o.cacert = argv[++i];
        else if (strcmp(a, "--system") == 0 && has_value) o.system = argv[++i];
        else if (strcmp(a, "--timeout") == 0 && has_value) {
            o.timeout_s = atoi(argv[++i]);
            if (o.timeout_s <= 0) { llmsplit_buf_free(&o.params); return fail(EXIT_USAGE, "usage", "--timeout needs a positive number of seconds, got '%s'", argv[i]); }
        } else if (strcmp(a, "--param") == 0 && has_value) {
            if (!add_param(&o, argv[++i])) { llmsplit_buf_free(&o.params); return fail(EXIT_USAGE, "usage", "--param needs K=V, got '%s'", argv[i]); }
        } else if (a[0] == '-' && a[1] != 0) {
            llmsplit_buf_free(&o.params);
            return fail(EXIT_USAGE, "usage", has_value || a[1] != '-' ? "unknown option %s for chat (see llmsplit chat --help)"
                                                                   : "option %s needs a value", a);
        } else if (o.prompt) {
            llmsplit_buf_free(&o.params);
            return fail(EXIT_USAGE, "usage", "chat takes one PROMPT (quote it); unexpected '%s'", a);
        } else o.prompt = a;
    }
    if (!o.prompt) { llmsplit_buf_free(&o.params); return usage_chat(); }
    if (!o.model) { llmsplit_buf_free(&o.params); return fail(EXIT_USAGE, "usage", "%s", "chat needs --model M"); }
    if (strcmp(o.prompt, "-") == 0) {
        size_t len;
        stdin_text = read_all("-", &len);
        if (!stdin_text) { llmsplit_buf_free(&o.params); return fail(EXIT_USAGE, "usage", "cannot read stdin: %s", strerror(errno)); }
        while (len && (stdin_text[len - 1] == '\n' || stdin_text[len - 1] == '\r')) len--;
        stdin_text[len] = 0;
        o.prompt = stdin_text;
    }
    memset(&hd, 0, sizeof hd);
    hd.ca_file = o.cacert;
    hd.insecure = o.insecure;
    hd.timeout_ms = o.timeout_s ? o.timeout_s * 1000 : 0;
    http = llmsplit_http_create(&hd, &err);
    if (!http) { free(stdin_text); llmsplit_buf_free(&o.params); return report_error(&err); }
    memset(msgs, 0, sizeof msgs);
    if (o.system) { msgs[nm].role = "system"; msgs[nm++].content = o.system; }
    msgs[nm].role = "user";
    msgs[nm++].content = o.prompt;
    memset(&rq, 0, sizeof rq);
    rq.model = o.model;
    rq.messages = msgs;
    rq.num_messages = nm;
    rq.params_json = o.params.len ? o.params.data : NULL;
    rq.stream = o.stream;
    rq.api_key = o.api_key;
    rq.api_base = o.api_base;
    rq.num_retries = 1;
    rq.on_delta = o.stream ? print_delta : NULL;
    e = llmsplit_chat(http, &rq, &resp, &err);
    if (e == LLMSPLIT_OK) {
        if (!o.stream) fwrite(resp.text.data ? resp.text.data : "", 1, resp.text.len, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        rc = EXIT_OK;
    } else {
        if (o.stream && resp.text.len) fputc('\n', stdout);
        rc = report_error(&err);
    }
    if (o.verbose)
        fprintf(stderr, "llmsplit: %s %s status %d, %.1f ms%s, ttft %.1f ms, tokens %lld+%lld, finish %s, attempts %d\n",
                llmsplit_provider_name(resp.provider), resp.model, resp.http_status, resp.latency_ms, "",
                resp.ttft_ms, (long long)resp.prompt_tokens, (long long)resp.completion_tokens,
                resp.finish_reason[0] ? resp.finish_reason : "-", resp.attempts);
    llmsplit_chat_response_free(&resp);
    llmsplit_http_destroy(http);
    llmsplit_buf_free(&o.params);
    free(stdin_text);
    return rc;
}
