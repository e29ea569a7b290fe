/* llmsplit.h - A/B testing for LLM calls from C: weighted traffic splits between
   models and background mirroring to a silent model.        public domain / MIT

   DO THIS in exactly one C or C++ file, before including this header:

       #define LLMSPLIT_IMPLEMENTATION
       #include "llmsplit.h"

   and link with -lbearssl -lpthread. Every other file includes it without the define.

   QUICK START

   A config in LiteLLM's format (its proxy config.yaml as it is, or the same as JSON, as here): 80%
   of the "chat" traffic to GPT-4, 20% to a Llama2 endpoint, and every request that lands on Llama2
   also sent, in the background, to a silent model whose answer is only logged.

       {"model_list": [
          {"model_name": "chat", "litellm_params": {"model": "gpt-4", "weight": 0.8,
                                                    "api_key": "os.environ/OPENAI_API_KEY"}},
          {"model_name": "chat", "litellm_params": {"model": "huggingface/https://my-endpoint.example/",
                                                    "api_key": "os.environ/HUGGINGFACE_API_KEY",
                                                    "weight": 0.2, "silent_model": "eval"}},
          {"model_name": "eval", "litellm_params": {"model": "openai/gpt-4o", "timeout": 30}}],
        "router_settings": {"sticky": true, "num_retries": 1, "fallbacks": [{"chat": ["eval"]}],
                            "rollback": {"window": 50, "max_error_rate": 0.5, "cooldown_s": 60}}}

       llmsplit_client_desc desc = {0};
       llmsplit_client *client;
       llmsplit_error err;
       desc.config_file = "llmsplit.json";    -- edited while running: used from the next request
       desc.log_path = "ab.jsonl";            -- one JSON record per call, primary and silent
       if (llmsplit_client_create(&desc, &client, &err) != LLMSPLIT_OK) {
           fprintf(stderr, "llmsplit: %s: %s\n", llmsplit_strerror(err.code), err.message);
           exit(2);
       }

       llmsplit_message msg = {0};
       llmsplit_request req = {0};
       llmsplit_result res;
       msg.role = "user"; msg.content = "Hello, how are you?";
       req.group = "chat"; req.messages = &msg; req.num_messages = 1;
       req.user = "user-42";                  -- sticky: this user always gets the same arm
       if (llmsplit_client_chat(client, &req, &res, &err) == LLMSPLIT_OK)
           printf("%s answered: %s\n", res.model, res.response.text.data);
       llmsplit_result_free(&res);            -- also after a failure
       llmsplit_client_destroy(client);       -- waits (up to drain_ms) for silent calls

   A judge grades the answers in the background: with "judge": {"model": "eval", "arms": 0.1}
   in router_settings, the eval group's model scores a tenth of each arm's answers (1..10, a
   "score" record) and compares every mirrored pair, blind and in both orders (a "judgement"
   record); "min_score": 5 in rollback takes out an arm whose scores fall below 5. The judge is
   sent the conversation and the answers: its provider sees what the arms see.

   Without a config, one call does what LiteLLM's completion_with_split_tests does:

       const char *models[] = {"gpt-4", "huggingface/https://my-endpoint.example/"};
       double weights[] = {0.8, 0.2};
       llmsplit_completion_with_split_tests(models, weights, 2, &msg, 1, &res, &err);

   RULES

   - Errors. Every function that can fail returns an llmsplit_status: LLMSPLIT_OK (0) or the
     category (LLMSPLIT_ERR_NETWORK, _TLS, _PROVIDER, ...). Pass an llmsplit_error * (or NULL) to
     also get a message a person can act on; the message never repeats the category, so print
     both: "llmsplit: %s: %s", llmsplit_strerror(err.code), err.message. Constructors hand their
     object back through an out pointer, which is NULL after a failure. Functions that cannot fail
     (getters, predicates such as llmsplit_json_is_int, llmsplit_price's "is it known") return
     their answer directly.
   - Ownership. Whatever a function fills (llmsplit_result, llmsplit_chat_response,
     llmsplit_http_response, llmsplit_json_doc, llmsplit_config) is released with its _free or
     _destroy function, also after a failure: a failed call may have filled part of it. Descs
     and strings you pass in are copied when they are needed after the call returns (a mirrored
     request is copied when it is queued); the library keeps no pointer into your memory but the
     user_data pointers you give it.
   - Threads. llmsplit_client, llmsplit_http and llmsplit_pool are thread-safe: any number of
     threads may call them at once (create and destroy excepted: nothing may be in flight then).
     The one-call llmsplit_completion_with_split_tests is thread-safe too. A parsed
     llmsplit_json_doc and a llmsplit_config are read-only and may be shared. Everything else (a
     writer, a buffer, a parser, a health window) belongs to one thread at a time. Callbacks
     (on_record, on_delta, the logger) are called from the thread doing the work, which for
     silent calls is a pool worker. A call given a wait (llmsplit_request.wait or wait_socket,
     for an event loop) never blocks its thread: it waits through that function instead. A call
     takes about 40 KiB of its thread's stack at its deepest (the HTTP exchange's 16 KiB read
     buffer, and small request buffers kept there instead of the heap); coroutines that run
     calls need that much room besides their own frames.
   - Secrets. API keys are sent only to their own provider. A key from a provider's environment
     variable goes only to that provider's own host: its default base, the base named by its own
     base variable (OPENAI_API_BASE, ...), or for huggingface/ an https endpoint under
     huggingface.cloud; a deployment with an api_base of its own and no api_key sends no key. No
     key, URL user information or URL query string appears in an error message, a record or a
     log line.
   - A config is code. It names the hosts requests go to and, with "os.environ/NAME", the
     environment variables sent to them: a config can send any environment variable of the
     process to any host it names. Load configs only from a source you trust as you trust your
     code. config_url must be https://, or http:// to a loopback host (127.0.0.0/8, ::1,
     localhost), unless the desc sets allow_insecure_config_url (then a warning is logged).
   - Environment. Read by the library: OPENAI_API_KEY, OPENAI_API_BASE, AZURE_API_KEY,
     AZURE_API_BASE, AZURE_API_VERSION, HUGGINGFACE_API_KEY, HF_TOKEN, OLLAMA_API_KEY,
     OLLAMA_API_BASE, OPENROUTER_API_KEY, TOGETHER_API_KEY, TOGETHERAI_API_KEY, ANTHROPIC_API_KEY
     (each only for its provider, when a deployment has no key or base of its own; a client
     reads the base and version variables when it loads or reloads its config, where it resolves
     each deployment's route, and the key variables at every call);
     HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy (unless llmsplit_http_desc says otherwise);
     SSL_CERT_FILE (the CA bundle, unless one is given); and NAME for every config value written
     "os.environ/NAME". Nothing else, but for one variable that only tests set:
     LLMSPLIT_TEST_RESOLVER_DELAY_MS (read when an llmsplit_http is created: each of its name
     lookups first waits that many milliseconds, standing for a resolver that does not answer).
     Random ids and seeds come from /dev/urandom.
   - Platform. POSIX (Linux, the BSDs, macOS): sockets, poll, clock_gettime, pthreads. The library
     installs no signal handler (sends use MSG_NOSIGNAL or SO_NOSIGPIPE) and never calls exit.
   - Memory. Every allocation goes through the allocator of the desc that created the object
     (zero: malloc/free); diagnostics through its logger (zero: warnings and errors to stderr).
     Name lookups aside: the system resolver allocates with malloc, and a lookup abandoned at its
     deadline may finish after its client is gone, so its small record is malloc'd too.

   COMPILE-TIME OPTIONS (define before the implementation include; the first three before every
   include of this file)

       LLMSPLIT_STATIC           every function static: a private copy in this file
       LLMSPLIT_API              the declaration prefix (default extern, or static with LLMSPLIT_STATIC)
       LLMSPLIT_NO_TLS           build without BearSSL: plain http:// only, https:// is a usage error
       LLMSPLIT_NO_THREADS       build without pthreads: silent calls are refused and counted, and
                                 name lookups are bounded only by the system resolver's own
                                 limits (resolv.conf "options timeout:N attempts:N"), not by the
                                 timeouts or the abort flag
       LLMSPLIT_NO_YAML          build without the YAML reader: configs are JSON only and
                                 llmsplit_yaml_parse does not exist
       LLMSPLIT_ASSERT(x)        defaults to assert(x)

   LIMITS on hostile input (define before the implementation include; they are used only inside
   it and never size a public struct, so files that disagree about them still agree on layouts)

       LLMSPLIT_JSON_MAX_DEPTH          512        deepest JSON nesting the parser accepts
       LLMSPLIT_YAML_MAX_DEPTH          128        deepest YAML nesting the reader accepts (it
                                                   recurses: under 300 bytes of stack a level)
       LLMSPLIT_HTTP_MAX_HEADER_BYTES   65536      bytes of a response's header block
       LLMSPLIT_HTTP_MAX_BODY_BYTES     64 MiB     bytes of a response body
       LLMSPLIT_HTTP_MAX_HEADERS        100        header fields of a response
       LLMSPLIT_HTTP_MAX_INTERIM        16         interim (1xx) responses before the final one
       LLMSPLIT_SSE_MAX_EVENT_BYTES     1 MiB      bytes of one server-sent event
       LLMSPLIT_CONFIG_MAX_BYTES        16 MiB     bytes of a config file
       LLMSPLIT_CONFIG_MAX_DEPLOYMENTS  4096       model_list entries plus split arms
       LLMSPLIT_CONFIG_MAX_KEYS         256        keys of one config object the library reads
       LLMSPLIT_ROLLBACK_MAX_WINDOW     10000      results kept per deployment for rollback
       LLMSPLIT_FEEDBACK_MAX_CALLS      4096       recent primary calls a client remembers for
                                                   llmsplit_client_feedback (32 bytes each, plus
                                                   an 8-byte index slot per call; made at the
                                                   first call)
       LLMSPLIT_JUDGE_MAX_PENDING       256        mirrored pairs waiting for their second
                                                   answer before the judge sees them
       LLMSPLIT_JUDGE_MAX_PENDING_BYTES 4 MiB      answer text those pairs hold; a pair beyond
                                                   either limit is not judged (counted)
       LLMSPLIT_POOL_MAX_THREADS        256        workers of one mirror pool
       LLMSPLIT_POOL_MAX_QUEUE          1048576    waiting tasks of one mirror pool

   LLMSPLIT_URL_MAX (2048, the path and query of a URL) is fixed: it sizes public structs.

   WHAT IS IN HERE, top to bottom

       the public API      common (status, errors, allocator, logger, buffer); the client; the
                           config; JSON (and YAML); HTTP; providers; picking; the mirror pool;
                           records
       building blocks     the pieces the client is made of (URL and HTTP response parsers, SSE,
                           hashing, health windows), for tests, fuzzers and other clients
       implementation      in layers, each knowing only the ones before it: common, json (and
                           yaml), http, providers, split, mirror pool, records, client
       license             at the end
*/
#ifndef LLMSPLIT_H
#define LLMSPLIT_H

/* The implementation needs POSIX (sockets, poll, clock_gettime). Under a strict ISO mode such as
   -std=c99 nothing POSIX is visible unless asked for, and asking adds declarations without hiding
   any, so do it here when no feature macro is set. This only works before the first system
   header: with -std=c99, include llmsplit.h first or pass -D_POSIX_C_SOURCE=200809L. */
#if defined(__STRICT_ANSI__) && !defined(_POSIX_C_SOURCE) && !defined(_XOPEN_SOURCE) && \
    !defined(_GNU_SOURCE) && !defined(_DEFAULT_SOURCE) && !defined(_BSD_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif

#include <stddef.h>
#include <stdint.h>

#define LLMSPLIT_VERSION "0.1.0"

#ifndef LLMSPLIT_API
#ifdef LLMSPLIT_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define LLMSPLIT_API static __attribute__((unused)) /* a file may use only part of the API */
#else
#define LLMSPLIT_API static
#endif
#else
#define LLMSPLIT_API extern
#endif
#endif

/* Limits on hostile input, all overridable. */
#ifndef LLMSPLIT_JSON_MAX_DEPTH
#define LLMSPLIT_JSON_MAX_DEPTH 512
#endif
#ifndef LLMSPLIT_YAML_MAX_DEPTH
#define LLMSPLIT_YAML_MAX_DEPTH 128
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ==== >>public: 1. common ============================================================== */

/* Error categories. Every failure the library reports is one of these, with a message a person
   can act on in the llmsplit_error next to it. */
typedef enum llmsplit_status {
    LLMSPLIT_OK = 0,
    LLMSPLIT_ERR_USAGE,     /* the caller passed something invalid */
    LLMSPLIT_ERR_CONFIG,    /* a configuration file or value is invalid */
    LLMSPLIT_ERR_NETWORK,   /* DNS, connect, reset, timeout */
    LLMSPLIT_ERR_TLS,       /* handshake or certificate verification */
    LLMSPLIT_ERR_HTTP,      /* malformed or oversized HTTP response */
    LLMSPLIT_ERR_PROVIDER,  /* HTTP status >= 400 from the provider */
    LLMSPLIT_ERR_RESPONSE,  /* well-formed HTTP, but not a usable completion */
    LLMSPLIT_ERR_JSON,      /* text is not valid JSON (RFC 8259) */
    LLMSPLIT_ERR_NOMEM,     /* an allocation failed or a caller buffer is too small */
    LLMSPLIT_ERR_BUSY,      /* a bounded queue is full or closed, or a wait ran out of time */
    LLMSPLIT_ERR__COUNT
} llmsplit_status;

/* The category's name: "usage", "config", "network", "tls", "http", "provider", "response",
   "json", "memory", "busy"; "ok" for LLMSPLIT_OK; "unknown" for anything else. Never NULL. */
LLMSPLIT_API const char *llmsplit_strerror(llmsplit_status err);

/* What went wrong, for a person to act on. Every fallible function returns its llmsplit_status
   and, when given a non-NULL llmsplit_error *, fills it too. The category is the code; the message
   never repeats it ("certificate has expired (api.example.com:443)", printed by a tool as
   "llmsplit: tls: certificate has expired (api.example.com:443)"). Keys, URL user information and
   URL query strings never appear in messages. */
typedef struct llmsplit_error {
    llmsplit_status code;
    int http_status;              /* the provider's HTTP status for LLMSPLIT_ERR_PROVIDER, else 0 */
    int line, col;                /* where in a JSON or config text (1-based; col counts characters);
                                     0 when the error is not about a position in a text */
    size_t offset;                /* the same position in bytes from the start of the text */
    char message[320];
} llmsplit_error;

/* Memory comes from here when a desc sets it; zero fields mean malloc/free. The user_data pointer
   is passed back on every call. Named alloc_fn/free_fn because free may be a macro. */
typedef struct llmsplit_allocator {
    void *(*alloc_fn)(size_t size, void *user_data);
    void (*free_fn)(void *ptr, void *user_data);
    void *user_data;
} llmsplit_allocator;

typedef enum llmsplit_log_level {
    LLMSPLIT_LOG_ERROR = 0,
    LLMSPLIT_LOG_WARN = 1,
    LLMSPLIT_LOG_INFO = 2,
    LLMSPLIT_LOG_DEBUG = 3
} llmsplit_log_level;

/* Diagnostics go here when a desc sets it; a zero logger prints warnings and errors to stderr. */
typedef struct llmsplit_logger {
    void (*func)(llmsplit_log_level level, const char *message, void *user_data);
    void *user_data;
} llmsplit_logger;

/* A growable byte buffer (used by the writer, and by the HTTP layer for bodies). */
typedef struct llmsplit_buf {
    char *data;                   /* NUL-terminated whenever len > 0 */
    size_t len, cap;
    llmsplit_allocator allocator;
    int failed;                   /* an allocation failed; later appends are ignored */
} llmsplit_buf;
LLMSPLIT_API void llmsplit_buf_init(llmsplit_buf *b, const llmsplit_allocator *allocator);
/* Makes room for extra more bytes (and the NUL). LLMSPLIT_ERR_NOMEM when memory ran out, and
   from then on every append is ignored (b->failed). */
LLMSPLIT_API llmsplit_status llmsplit_buf_reserve(llmsplit_buf *b, size_t extra);
LLMSPLIT_API void llmsplit_buf_append(llmsplit_buf *b, const void *data, size_t len);
LLMSPLIT_API void llmsplit_buf_free(llmsplit_buf *b);

/* Not an option: it sizes llmsplit_url.target and llmsplit_route.url, and a public layout must
   be the same in every file that includes this header. */
#ifdef LLMSPLIT_URL_MAX
#error "LLMSPLIT_URL_MAX is fixed at 2048 (it sizes public structs); do not define it"
#endif
#define LLMSPLIT_URL_MAX 2048                         /* path and query of a URL */

/* ==== >>public: 2. client ================================================================ */

/* The client: a config (text, file or URL), a picker per group, retries and fallbacks, automatic
   rollback, mirroring to silent models on a worker pool, and records. Thread-safe: any number of
   threads may call llmsplit_client_chat at once. */
typedef struct llmsplit_client llmsplit_client;

/* --- what the client takes and gives back ---------------------------------------------- */

typedef struct llmsplit_message {
    const char *role;             /* "system", "user", "assistant" or "tool" */
    const char *content;          /* text; NULL with content_json or tool_calls_json */
    size_t content_len;           /* 0: strlen(content) */
    const char *content_json;     /* raw JSON content (e.g. an array of parts), sent as given */
    const char *tool_calls_json;  /* raw JSON array of an assistant's tool calls */
    const char *tool_call_id;     /* for role "tool" */
    const char *name;             /* optional participant name */
} llmsplit_message;

typedef enum llmsplit_provider {
    LLMSPLIT_PROVIDER_OPENAI = 0,
    LLMSPLIT_PROVIDER_AZURE,
    LLMSPLIT_PROVIDER_HUGGINGFACE,
    LLMSPLIT_PROVIDER_OLLAMA,
    LLMSPLIT_PROVIDER_OPENROUTER,
    LLMSPLIT_PROVIDER_TOGETHER,
    LLMSPLIT_PROVIDER_ANTHROPIC,
    LLMSPLIT_PROVIDER__COUNT
} llmsplit_provider;

/* "openai", "azure", "huggingface", "ollama", "openrouter", "together_ai", "anthropic". */
LLMSPLIT_API const char *llmsplit_provider_name(llmsplit_provider p);

typedef struct llmsplit_chat_response {
    llmsplit_buf text;            /* the whole answer text (also when streamed) */
    char role[16];                /* "assistant" */
    char finish_reason[32];       /* "stop", "length", "tool_calls", ... (OpenAI's names) */
    /* The tool calls as a JSON array, empty when none, in OpenAI's shape from every provider:
       [{"id":"call_...","type":"function","function":{"name":"...","arguments":"{...}"}}], the
       arguments as JSON text in a string ("{}" for none), an id made up when the provider gave
       none (Ollama), finish_reason "tool_calls" when Ollama or Anthropic answered with calls. */
    llmsplit_buf tool_calls;
    int64_t prompt_tokens, completion_tokens; /* -1 when the provider did not say */
    llmsplit_provider provider;
    char model[256];              /* the name sent upstream */
    int http_status;
    double latency_ms;            /* whole call, retries included */
    double ttft_ms;               /* time to the first text delta when streaming, else -1 */
    int attempts;                 /* 1 + retries made */
    llmsplit_buf raw;             /* raw body of the final attempt when keep_raw */
    double retry_after_s;         /* the provider's Retry-After (whole seconds) on the last attempt it
                                     refused; 0 when it sent none */
    int delivered;                /* a stream handed something to on_delta or on_event: another
                                     attempt (a retry, a fallback) would repeat it to the caller */
} llmsplit_chat_response;

/* One request header: a name (an HTTP token) and a value (no CR or LF). Used by the HTTP layer's
   requests and by the client desc's config_headers. */
typedef struct llmsplit_http_header {
    const char *name;
    const char *value;
} llmsplit_http_header;

/* How the client (and the HTTP layer below it) connects: CA bundle, proxies, timeouts, the
   keep-alive pool. Zero fields are defaults. */
typedef struct llmsplit_http_desc {
    llmsplit_allocator allocator;
    llmsplit_logger logger;
    int connect_timeout_ms;       /* 0: 10000; per connection attempt (name lookup included),
                                     within the total */
    int timeout_ms;               /* 0: 600000; the whole exchange, connect to last byte */
    const char *ca_file;          /* PEM bundle of trusted roots */
    const char *ca_pem;           /* or the same in memory (ca_pem_len bytes) */
    size_t ca_pem_len;
    int insecure;                 /* DANGER: no certificate verification (a warning is logged) */
    const char *proxy;            /* http://[user:pass@]host:port for https:// URLs (user and
                                     pass percent-encoded, as curl reads them); NULL: take
                                     $HTTPS_PROXY / $https_proxy; "" : never use a proxy */
    const char *no_proxy;         /* hosts that bypass the proxy; NULL: $NO_PROXY / $no_proxy */
    int max_idle_per_host;        /* 0: 8 idle connections kept per host; -1: no keep-alive */
    int idle_timeout_ms;          /* 0: 30000; idle connections older than this are closed */
    size_t max_header_bytes;      /* 0: LLMSPLIT_HTTP_MAX_HEADER_BYTES */
    uint64_t max_body_bytes;      /* 0: LLMSPLIT_HTTP_MAX_BODY_BYTES */
} llmsplit_http_desc;

/* One result record: a call (primary, silent or judge) or an event ("rollback", "config",
   "split", "feedback", "score", "judgement").
   Written as one JSON object per line; absent numbers are written as null. Keys never appear.
   A "split" event is written whenever a group's effective weights change - its config is loaded
   or reloaded, an arm is rolled back or comes back - before the first call they pick:
   {"event":"split","epoch":N,"group":G,"weights":{"MODEL #DEPLOYMENT":share,...}}, MODEL being
   the name sent upstream; each primary call then carries "split_epoch":N, so the expected share
   of every arm is known exactly for a sample-ratio check, across reloads and rollbacks.
   The judge (router_settings.judge) writes a call record with role "judge" for every judge call
   (priced like any call; pair_id is the pair_id of the call or pair it judged; an answer that
   holds no valid verdict makes it status "error", category response), then for a call it
   scored {"event":"score","request_id":R,"metric":"judge_score","value":7,"judge_model":J,
   "group":G,"deployment":N,"model":M} (R, G, N and M those of the scored call), and for a
   mirrored pair it judged {"event":"judgement","pair_id":P,"winner":"primary"|"silent"|"tie",
   "verdicts":[V1,V2],"consistent":B,"primary_model":M1,"silent_model":M2,"judge_model":J,
   "primary_chars":N1,"silent_chars":N2}: V1 the judge's answer ("A", "B" or "tie") when the
   primary's answer was shown as A, V2 when the silent one's was; consistent when both name the
   same side (or both say tie); winner that side, else "tie"; the lengths in characters (UTF-8
   code points) of the two answers, so a judge that favours long answers shows. */
typedef struct llmsplit_record {
    const char *event;            /* "call", "rollback", "config", "split", "feedback", "score"
                                     or "judgement" */
    char ts[32];                  /* "2026-11-21T10:00:00.123Z" */
    char request_id[40], pair_id[40];
    const char *role;             /* "primary", "silent" or "judge" */
    int is_silent_experiment;
    const char *group;            /* the model group */
    const char *model;            /* the name sent upstream (prefix stripped) */
    const char *provider;         /* the adapter that sent it */
    int deployment;               /* index in the config's model_list, -1 for a direct model */
    int sticky;                   /* the arm came from the user key */
    const char *fallback_from;    /* upstream name of the arm first picked, when a fallback answered */
    int ok;                       /* status "ok" or "error" */
    int client_closed;            /* status "client_closed" (not ok, not an error of the arm): the
                                     caller's abort_flag stopped the call (llmsplit_request) */
    int http_status;              /* 0 when none */
    llmsplit_status code;         /* the category when not ok */
    const char *error;            /* the message when not ok; written as "category: message" */
    double latency_ms;
    double ttft_ms;               /* < 0: null */
    int64_t prompt_tokens, completion_tokens; /* < 0: null */
    double cost_usd;              /* < 0: null */
    const char *finish_reason;
    const char *response;         /* the text, only when the client keeps responses */
    size_t response_len;
    const char *reason;           /* rollback and config events */
    double cooldown_s;            /* rollback events */
    /* A primary call picked from a group: the epoch of the split that picked it (0: none, e.g. a
       direct model string). A "split" event: its epoch. Epochs are unique per client (a random
       base plus a counter), so the logs of a fleet of processes merge without collisions. */
    int64_t split_epoch;
    const char *weights_json;     /* "split" events: {"MODEL #DEPLOYMENT": share, ...}, shares summing to 1 */
    /* "feedback" events: {"event":"feedback","request_id":ID,"metric":M,"value":V,"group":G,
       "deployment":N,"model":M}, group, deployment and model those of the call's answering
       deployment, null when the call is not known (deployment < 0 here). */
    const char *metric;
    double value;
    /* "score" events: metric "judge_score" and value as above. "score" and "judgement" events:
       judge_model, the judge's model (the name sent upstream). "judgement" events: the rest. */
    const char *judge_model;
    const char *winner;           /* "primary", "silent" or "tie" */
    const char *verdicts[2];      /* "A", "B" or "tie": primary shown as A, then silent shown as A */
    int consistent;
    const char *primary_model, *silent_model;
    int64_t primary_chars, silent_chars;
} llmsplit_record;

/* What the client delivers for every record, besides the log file. */
typedef void (*llmsplit_record_fn)(const llmsplit_record *record, const char *json_line, size_t len,
                                   void *user_data);

typedef struct llmsplit_client_desc {
    const char *config_json;      /* the config as text, JSON or YAML (see llmsplit_config_parse;
                                     config_len bytes, 0: strlen) */
    size_t config_len;
    const char *config_file;      /* or a file: changes are picked up between requests. The same
                                     text again (a touch, a 200 with an unchanged body) is no
                                     reload; a reload keeps the health and cooldown of every arm
                                     that stays (same group, model and api_base); mirror_threads
                                     and mirror_queue take effect at restart, drain_ms at once */
    const char *config_url;       /* or a URL polled in the background (ETag / If-None-Match):
                                     https://, or http:// to a loopback host */
    int config_poll_ms;           /* 0: 1000 for a file, 5000 for a URL (an unchanged config is a
                                     304 answered from memory: a fleet can poll often) */
    const char *config_api_key;   /* sent as "Authorization: Bearer KEY" with every config_url
                                     request (a control plane that wants a key: llmsplit serve's
                                     general_settings.config_read_key); NULL: none. Copied. It
                                     goes to config_url's host only (redirects are never
                                     followed) and never into a message, record or log line */
    const llmsplit_http_header *config_headers; /* more headers for every config_url request
                                     (num_config_headers of them), copied and kept as private
                                     as config_api_key; not Host, Content-Length, Connection,
                                     Transfer-Encoding, If-None-Match, nor Authorization
                                     together with config_api_key */
    int num_config_headers;
    int allow_insecure_config_url;/* DANGER: accept an http:// config_url to another host (a
                                     warning is logged); see Secrets in the RULES at the top */
    llmsplit_http_desc http;      /* CA file, insecure, proxies, connect timeout, ... */
    const char *log_path;         /* JSONL records are appended here (NULL: none). When the file
                                     is moved or deleted (logrotate), a new one is started at the
                                     path within a second; see llmsplit_client_reopen_log */
    int log_async;                /* 1: records reach the file from a thread of the client's own,
                                     so a caller never waits for the disk (an event loop's thread,
                                     say): a record is queued in memory and written, with the
                                     others queued meanwhile, by that thread within 10 ms (at
                                     once when 64 KiB are queued): one write per 10 ms under
                                     load, not one per record. destroy writes what is queued;
                                     a crash loses it. Beyond 4 MiB queued, a caller waits for
                                     the disk. Ignored without threads (LLMSPLIT_NO_THREADS) */
    int keep_responses;           /* put the answer text in call records */
    llmsplit_record_fn on_record; /* called for every record (may be NULL), from any thread */
    void *user_data;
    uint64_t seed;                /* random picks and ids; 0: unpredictable */
    llmsplit_allocator allocator;
    llmsplit_logger logger;
} llmsplit_client_desc;

/* Creates a client in *out. Fails (*out NULL, err filled) when the config is invalid
   (LLMSPLIT_ERR_CONFIG, with the key path), the CA bundle cannot be read (LLMSPLIT_ERR_TLS), the
   log cannot be opened (LLMSPLIT_ERR_USAGE) or a thread cannot start (LLMSPLIT_ERR_NOMEM). */
LLMSPLIT_API llmsplit_status llmsplit_client_create(const llmsplit_client_desc *desc, llmsplit_client **out,
                                                    llmsplit_error *err);

/* Stops the background work and frees the client: waits for queued and in-flight silent calls up
   to the config's drain_ms, then abandons the rest (counted). No call may be in flight. */
LLMSPLIT_API void llmsplit_client_destroy(llmsplit_client *client);

struct llmsplit_result;

typedef struct llmsplit_request {
    const char *group;            /* a model group of the config, or a model string (no split) */
    const llmsplit_message *messages;
    int num_messages;
    const char *params_json;      /* extra parameters (merged over the deployment's own) */
    const char *user;             /* sticky key: the same user gets the same arm; NULL or "": random */
    int stream;
    /* Gets each piece of answer text as it streams in. Return nonzero to stop the call. */
    int (*on_delta)(const char *text, size_t len, void *user_data);
    void *user_data;              /* passed to on_delta, on_event, on_answer and wait */
    /* Gets the provider's stream itself, event by event, as it arrives: data is one event's
       JSON text exactly as the provider sent it (len bytes, not NUL-terminated) and event its
       server-sent event name ("" when none; NULL for Ollama's JSON lines). What the events say
       depends on the wire format of res->response.provider: OpenAI's chat.completion.chunk
       objects for every OpenAI-compatible provider (so a gateway forwards them as they are),
       Anthropic's message events, Ollama's lines. Only events read without error are handed
       over (errors end the call instead); OpenAI's "[DONE]" and Anthropic's pings are not.
       Return nonzero to stop the call. Once an event or a delta has been handed over the call
       is neither retried nor sent to a fallback: the caller would get the answer twice. While
       a callback runs, res (of llmsplit_client_chat) already holds request_id, pair_id, and
       the group, model, deployment and response.provider of the arm that streams. */
    int (*on_event)(const char *event, const char *data, size_t len, void *user_data);
    /* Optional: when the int it points to becomes nonzero (another thread sets it: the program's
       own client went away), the call stops within ~50 ms (with a wait, as soon as that wait
       returns); the result and the record say client_closed, and the call counts against no arm
       (neither errors nor rollback). */
    const volatile int *abort_flag;
    int group_required;           /* group must be a group of the config in use: a model string is
                                     refused (LLMSPLIT_ERR_USAGE, res->unknown_group), not called */
    /* Optional: called once, on the caller's thread, when the call has succeeded, with res as
       llmsplit_client_chat will return it (cost_usd included), before the call's record is
       written and its judge work queued: a gateway sends its answer from here, so its client
       does not wait for the log line (as a web server writes its access log after the
       response). Feedback for res->request_id is accepted from then on. Not called when the
       call fails. */
    void (*on_answer)(const struct llmsplit_result *res, void *user_data);
    int keep_raw;                 /* keep the provider's answer body, as it came, in res->response.raw
                                     (the last attempt's; a gateway passes an answer in OpenAI's
                                     format on unchanged) */
    /* Optional: the wait of an event loop, for a program that runs its calls as coroutines on a
       few threads. When it is NULL a call blocks its thread whenever it waits (in the kernel,
       watching its deadline and abort_flag). When it is set the call never blocks its thread:
       every socket read and write of the call (the connect, the TLS handshake, the request, the
       answer, the stream) is made without blocking, and whenever one would block the call calls
       wait(fd, POLLIN or POLLOUT, timeout_ms, user_data), which waits as the program likes (a
       gateway switches to its event loop until fd is ready or the time has passed) and returns as
       poll does for one fd: > 0 ready, 0 the time passed, < 0 failure. fd -1 with events 0 is a
       plain timed wait: the pause before a retry, and the name lookup, which runs on a thread of
       its own and is looked at after 1, 2, 4 ... up to every 50 ms. timeout_ms is the time left
       (to the call's deadline, or to a connect's), not cut into slices: the call looks at its
       abort_flag each time wait returns and not otherwise, so whoever sets the flag also ends
       the wait (a gateway whose client hung up sets abort_flag and resumes the call; a call
       waiting on a long answer costs no wake-up meanwhile). The wait may return early, or say
       ready when nothing is: the call looks at its deadline and abort_flag again and tries
       again. A negative return ends the call with a network error ("the caller's wait
       failed"). wait is called on the caller's thread, with no lock of the library held,
       and only for this call: its silent and judge calls (on the pool's threads) and config
       polling wait as before. Built with LLMSPLIT_NO_THREADS, a name lookup still blocks (the
       system resolver cannot be left). */
    int (*wait)(int fd, int events, int timeout_ms, void *user_data);
    /* Optional, in place of wait: the same wait, told also which socket fd is. socket_id is a
       number the library gives each socket it opens and never gives again in the process (0
       with fd -1). An event loop may then leave a socket in its epoll or kqueue set from one
       wait to the next (edge-triggered: one registration per socket instead of one system call
       per wait) and still see when fd, closed by the library meanwhile, names another socket:
       its id is new. A socket the library closes has left every set by then (the kernel's own
       rule for a socket's last close). When both are set, wait_socket is used. */
    int (*wait_socket)(int fd, uint64_t socket_id, int events, int timeout_ms, void *user_data);
} llmsplit_request;

typedef struct llmsplit_result {
    llmsplit_chat_response response; /* the answer (and its usage, latency, ttft) */
    char group[128];
    char model[256];              /* model string of the deployment that answered */
    int deployment;               /* its index in model_list (-1: direct model string) */
    char chosen_model[256];       /* the arm first picked (differs after a fallback) */
    int chosen_deployment;
    int fallback;                 /* a fallback group answered */
    int sticky;                   /* picked by the user key */
    int mirrored;                 /* a copy went to a silent model */
    double cost_usd;              /* < 0 when unknown */
    char request_id[40], pair_id[40];
    int unknown_group;            /* group_required and group is not a group of the config */
    int client_closed;            /* the abort_flag stopped the call */
} llmsplit_result;

/* Sends one logical request: picks an arm of the group (sticky by user key or random), queues a
   copy for the deployment's silent model when it has one (once, never on retries), calls the arm
   with the config's retries, then the group's fallbacks in order. Writes one primary record.
   Returns the category of the final failure, or LLMSPLIT_OK; res is filled either way (free it
   with llmsplit_result_free). */
LLMSPLIT_API llmsplit_status llmsplit_client_chat(llmsplit_client *client, const llmsplit_request *req,
                                                  llmsplit_result *res, llmsplit_error *err);
LLMSPLIT_API void llmsplit_result_free(llmsplit_result *res);

typedef struct llmsplit_client_stats {
    uint64_t requests, errors, fallbacks, rollbacks;
    uint64_t mirrored, mirror_completed, mirror_failed, mirror_dropped_queue_full, mirror_abandoned_at_shutdown;
    uint64_t config_reloads, config_errors;
    uint64_t records_repaired;    /* records written with U+FFFD for text that was not valid UTF-8 */
    /* The judge: judged counts the judgement and score records written; judge_failed the pairs
       and calls not judged because a judge call failed or answered without a valid verdict;
       judge_dropped the judge tasks refused by a full mirror queue; judge_dropped_held the
       mirrored pairs left unjudged because holding their first answer would have passed
       LLMSPLIT_JUDGE_MAX_PENDING pairs or LLMSPLIT_JUDGE_MAX_PENDING_BYTES bytes. Judge tasks
       abandoned at shutdown count in mirror_abandoned_at_shutdown. */
    uint64_t judged, judge_failed, judge_dropped, judge_dropped_held;
} llmsplit_client_stats;
LLMSPLIT_API llmsplit_client_stats llmsplit_client_get_stats(llmsplit_client *client);

/* Closes the log and opens log_path again (creating it), for a program that rotates its logs on
   a signal such as SIGHUP: the library installs no handler, so the program's handler sets a flag
   and the program calls this outside the handler. Without it a moved or deleted log is noticed
   anyway, at the first record written a second or more after the last check. LLMSPLIT_OK also
   when the client has no log; LLMSPLIT_ERR_USAGE when the file cannot be opened (the old one is
   kept). Thread-safe. */
LLMSPLIT_API llmsplit_status llmsplit_client_reopen_log(llmsplit_client *client, llmsplit_error *err);

/* Reads the config again now (the file, or the URL), without waiting for the watcher: for a
   program that reloads on a signal such as SIGHUP (the library installs no handler, so the
   handler sets a flag and the program calls this outside it). A text that parses to the config
   in use changes nothing; a new one is installed as a watched change is (records, health kept).
   LLMSPLIT_OK when the config in use is the file's (or the URL's) now; LLMSPLIT_ERR_CONFIG with
   the reason when it cannot be read or is refused (the last good config keeps serving, and the
   refusal is logged and recorded as the watcher's are); LLMSPLIT_ERR_USAGE for a client given
   its config as text. Thread-safe: waits for a check the watcher has in progress. */
LLMSPLIT_API llmsplit_status llmsplit_client_reload(llmsplit_client *client, llmsplit_error *err);

/* Installs the config text (len bytes) now, for a program that is itself the source of its
   clients' config (a control plane that edits it, then writes the file): parsed and validated
   like a file, and installed as a reload is (health and cooldowns of the arms that stay kept; a
   "config" record "reloaded from SOURCE", source NULL meaning "text"). For a client that follows
   a file or a URL, the text counts as read from there: the same text read there later is no
   reload and writes no record, so install first, then write the file. LLMSPLIT_OK when the text
   is in use now (also when it was already); LLMSPLIT_ERR_CONFIG with the key path when it is
   refused (the config in use stays, and the refusal is logged and recorded); LLMSPLIT_ERR_USAGE
   for a missing client or text. Thread-safe: one reload at a time, the watcher's included. */
LLMSPLIT_API llmsplit_status llmsplit_client_reload_text(llmsplit_client *client, const char *text, size_t len,
                                                         const char *source, llmsplit_error *err);

/* Waits until no silent call or judge call is queued or running, up to timeout_ms (< 0:
   forever): LLMSPLIT_OK when idle, LLMSPLIT_ERR_BUSY when some were still queued or running at
   the timeout. For tools and tests that want every record written before reading the log. */
LLMSPLIT_API llmsplit_status llmsplit_client_wait_mirrors(llmsplit_client *client, int timeout_ms);

/* Attaches a number to an earlier call: request_id is its llmsplit_result.request_id, metric a
   name of 1..64 bytes of [A-Za-z0-9_.-] ("thumbs_up", "accepted", "csat"), value any finite
   number. Writes a "feedback" record (see llmsplit_record) to the log and on_record, with the
   group, deployment and model that answered the call when the client still remembers it: the
   last LLMSPLIT_FEEDBACK_MAX_CALLS primary calls picked from a group, across reloads as long
   as the arm stays. Feedback for a call it does not remember (too old, a direct model string,
   another process) is still recorded, with nulls, and is no error; so is feedback given twice.
   When router_settings.rollback.feedback names this metric, the value also joins the window
   of that deployment, which rolls the arm back when its mean falls below min_mean.
   LLMSPLIT_ERR_USAGE for a missing client or request_id, a bad metric name or a value that is
   not finite. Thread-safe and cheap (a lock held for a table lookup): call it from request
   handlers. */
LLMSPLIT_API llmsplit_status llmsplit_client_feedback(llmsplit_client *client, const char *request_id,
                                                      const char *metric, double value, llmsplit_error *err);

/* The one-call form of LiteLLM's completion_with_split_tests: models[i] gets weights[i] of the
   traffic; one random pick, one call. For programs that only want a split. Thread-safe.

   The first call with a given split (the same models with the same weights, in the same order)
   makes a client for it and keeps it for the life of the process, so later calls reuse its
   kept-alive connections and TLS sessions instead of paying a handshake each. At most 16 splits
   are kept; a new split beyond that replaces the least recently used one that no call is using,
   and when all 16 are in use it gets a client of its own that is freed after the call.

   Keys and API bases are read from the environment on every call. SSL_CERT_FILE, HTTPS_PROXY
   and NO_PROXY are read once, when the split's client is made: call
   llmsplit_completion_cleanup() after changing them. */
LLMSPLIT_API llmsplit_status llmsplit_completion_with_split_tests(const char *const *models, const double *weights,
                                                                  int n, const llmsplit_message *messages,
                                                                  int num_messages, llmsplit_result *res,
                                                                  llmsplit_error *err);

/* Frees the clients the one-call form keeps (their connections, TLS sessions and threads); the
   next one-call request makes a new one. Without it they live until the process exits. It must
   not be called while a one-call request is running in any thread. */
LLMSPLIT_API void llmsplit_completion_cleanup(void);

/* ==== >>public: 3. config ================================================================ */

/* A LiteLLM proxy config (its config.yaml as it is, or the same as JSON) or the `split`
   shorthand, validated as a whole, with the key path of the first error in the message. The client loads one for you; these
   are for programs that want to read a config themselves. */

#ifndef LLMSPLIT_CONFIG_MAX_BYTES
#define LLMSPLIT_CONFIG_MAX_BYTES (16u * 1024u * 1024u) /* config file size */
#endif
#ifndef LLMSPLIT_CONFIG_MAX_DEPLOYMENTS
#define LLMSPLIT_CONFIG_MAX_DEPLOYMENTS 4096              /* model_list entries + split arms */
#endif
#ifndef LLMSPLIT_CONFIG_MAX_KEYS
#define LLMSPLIT_CONFIG_MAX_KEYS 256                      /* keys of one interpreted object */
#endif
#ifndef LLMSPLIT_ROLLBACK_MAX_WINDOW
#define LLMSPLIT_ROLLBACK_MAX_WINDOW 10000                /* results kept per deployment */
#endif

/* Automatic rollback limits (router_settings.rollback). A limit of 0 turns that check off; a
   check trips when the measured value is greater than the limit. */
typedef struct llmsplit_rollback_settings {
    int window;               /* results kept per deployment; 0 = rollback off */
    double max_error_rate;    /* 0..1, share of failed results in a full window */
    double max_p95_ms;        /* p95 latency over a full window, nearest rank */
    double cooldown_s;        /* how long a tripped arm gets no traffic (default 60) */
    /* router_settings.rollback.feedback: the mean of the last feedback_min_count values of
       feedback_metric for a deployment's calls (llmsplit_client_feedback) below
       feedback_min_mean trips it. feedback_min_count 0 (and an empty metric): off. */
    char feedback_metric[65];
    double feedback_min_mean;
    int feedback_min_count;
    /* router_settings.rollback.min_score: the mean of the last `window` judge scores of a
       deployment's calls (router_settings.judge.arms) below this trips it; 0: off. */
    double min_score;
} llmsplit_rollback_settings;

/* The judge (router_settings.judge): a model that compares the answers of mirrored pairs and
   scores the answers of the split's arms, in the background. */
typedef struct llmsplit_judge_settings {
    const char *model;        /* a group of this config or a model string; NULL: no judge */
    double pairs;             /* share of mirrored pairs judged (default 1), sticky per user key */
    double arms;              /* share of primary calls scored (default 0.1), drawn per call */
    const char *criteria;     /* what a good answer is (default "correct, helpful and concise") */
    double timeout_s;         /* per judge call; 0: the judge deployment's, else the router's */
} llmsplit_judge_settings;

/* One model_list entry (or one arm of the `split` shorthand). Every string stays valid until
   llmsplit_config_free and is NUL-terminated; none contains a NUL byte. */
typedef struct llmsplit_deployment {
    const char *group;        /* its model_name (the same pointer as its group's name) */
    const char *model;        /* the model string exactly as written, e.g. "azure/chatgpt-v-2" */
    const char *api_key;      /* resolved: "os.environ/NAME" is read at load; NULL if absent,
                                 empty or the variable is unset. Never printed by the library. */
    const char *api_base;     /* NULL when absent ("os.environ/NAME" resolved like api_key) */
    const char *api_version;  /* NULL when absent (likewise) */
    double weight;            /* as written; 1 when the group has no weights (uniform split) */
    int has_weight;
    double share;             /* weight / the group's sum: the normalised weight */
    const char *silent_model; /* a group of this config or a model string; NULL when absent.
                                 llmsplit_config_group(cfg, silent_model) tells which: when it
                                 returns NULL, silent_model is a model string */
    double timeout_s;         /* per-deployment timeout; 0 = the router's */
    double input_cost_per_token, output_cost_per_token; /* USD; 0 when absent */
    int has_costs;            /* either cost was given */
    int rpm, tpm;             /* 0 when absent */
    const char *extra_params; /* JSON object text of every other litellm_params key (request
                                 parameters: temperature, max_tokens, top_p, ...) to send
                                 upstream, in the order written; "{}" when none. Control keys
                                 never appear in it (see llmsplit_config_parse). */
    int index;                /* position in model_list; split arms follow the model_list */
} llmsplit_deployment;

/* A model group: the deployments sharing a model_name, in model_list order. */
typedef struct llmsplit_group {
    const char *name;
    int *deployments;         /* indexes into cfg->deployments */
    int count;
    const char **fallbacks;   /* group names to try in order when this group's pick fails */
    int num_fallbacks;
} llmsplit_group;

typedef struct llmsplit_config {
    llmsplit_deployment *deployments;
    int num_deployments;
    llmsplit_group *groups;   /* in order of first appearance; the split shorthand's is "default" */
    int num_groups;
    int sticky;               /* router_settings.sticky (default 1): a user key makes picks sticky */
    double mirror_sample_rate;/* 0..1 (default 1) */
    int mirror_threads;       /* default 2 */
    int mirror_queue;         /* default 64 */
    int num_retries;          /* retries on the picked deployment (default 0, as LiteLLM's Router) */
    double timeout_s;         /* router_settings.timeout (default 600) */
    int drain_ms;             /* shutdown wait for silent calls (default 10000) */
    llmsplit_rollback_settings rollback;
    llmsplit_judge_settings judge;
    const char *master_key;   /* general_settings.master_key, for a gateway in front of the client
                                 ("os.environ/NAME" read at load); NULL when absent or empty */
    /* private */
    void *llmsplit__blocks;
    llmsplit_allocator llmsplit__allocator;
    void *llmsplit__ref;      /* the client's reference to it, when a client uses it */
} llmsplit_config;

/* Parses and validates a config: len bytes at json (no NUL needed) of JSON when the first
   character after any whitespace is '{' (strict RFC 8259, as llmsplit_json_parse), otherwise of
   YAML (LiteLLM's config.yaml unchanged, read as llmsplit_yaml_parse reads it; JSON only with
   LLMSPLIT_NO_YAML). Accepted:

   - "model_list": LiteLLM entries {"model_name": GROUP, "litellm_params": {...}} ("params" is
     accepted for "litellm_params", not both). In the params: model (required), weight (number
     >= 0), silent_model, api_key, api_base (an http:// or https:// URL), api_version, timeout
     (seconds, 0 < timeout <= 86400), input_cost_per_token, output_cost_per_token (USD, 0..1),
     rpm, tpm (integers >= 0).
     "os.environ/NAME" in api_key, api_base and api_version reads the variable now. Every other
     key is a request parameter and goes into extra_params, except LiteLLM's other control keys
     (stream_timeout, max_retries, organization, custom_llm_provider, model_info, tags, cloud
     credentials, ...) and any key ending in _key, _secret, _token, _password or _credentials,
     which are never sent upstream. null counts as absent for every optional key.
   - "split": {"MODEL": WEIGHT, ...}, the shorthand of LiteLLM's split-test tutorial: one group
     named "default" whose arms are those model strings. It may sit beside a model_list that has
     no group "default".
   - "router_settings": sticky (bool), mirror_sample_rate (0..1), mirror_threads (1..256),
     mirror_queue (1..1000000), num_retries (0..100), timeout (seconds, 0 < timeout <= 86400),
     drain_ms (0..86400000), fallbacks ([{"GROUP": ["GROUP", ...]}, ...], each group of this
     config, at most one list per group, not itself), rollback ({window, max_error_rate,
     max_p95_ms, cooldown_s}: window 0..LLMSPLIT_ROLLBACK_MAX_WINDOW, max_error_rate 0..1,
     max_p95_ms 0..86400000, 0 < cooldown_s <= 86400; a window needs a limit and a limit needs a
     window; feedback: {metric, min_mean, min_count}, all three, metric a name as for
     llmsplit_client_feedback, min_mean finite, min_count 1..LLMSPLIT_ROLLBACK_MAX_WINDOW;
     min_score 0..10, which needs a judge that scores arms; no other keys), judge ({model,
     pairs, arms, criteria, timeout}: model, required, a group of this config or a model
     string; pairs and arms 0..1; criteria a string of 1..1000 bytes; timeout seconds,
     0 < timeout <= 86400; no other keys). Its other keys (LiteLLM's routing_strategy,
     redis_host, ...) are ignored. No duration may exceed a day: a longer one is more often a
     typo than a wish.
   - "general_settings": master_key (a string, "os.environ/NAME" read now), the key a gateway
     such as `llmsplit serve` asks its clients for. Its other keys are ignored.
   - Other top-level keys (litellm_settings, environment_variables, ...) are ignored, so a
     LiteLLM proxy config loads unchanged. Nothing is taken from them.

   Weights: within a group either every deployment has one or none has (then the split is
   uniform); not all 0. silent_model names a group of this config or is a model string: it
   contains '/', starts with gpt-, o1, o3 or claude-, or equals the model of a deployment.
   An interpreted object (the top level, a model_list entry, litellm_params, router_settings,
   rollback, a fallbacks entry) may not repeat a key or have more than LLMSPLIT_CONFIG_MAX_KEYS
   keys; split may not repeat a model and has at most LLMSPLIT_CONFIG_MAX_DEPLOYMENTS.

   Stores the config in *out, or NULL with the status and *err filled (err may be NULL):
   LLMSPLIT_ERR_CONFIG with the key path of the first error and what is wrong with it, e.g.
   "model_list[1].litellm_params.weight: must be >= 0", or for a syntax error "json: 3:7:
   unexpected character" or "yaml: 3:1: a tab: ..." (err->line, col and offset are set then
   too); LLMSPLIT_ERR_NOMEM when memory ran out. A config with any
   error is refused as a whole. allocator may be NULL (malloc/free); everything the config holds
   is allocated through it. */
LLMSPLIT_API llmsplit_status llmsplit_config_parse(const char *json, size_t len, const llmsplit_allocator *allocator,
                                                   llmsplit_config **out, llmsplit_error *err);

/* Reads the file at path (at most LLMSPLIT_CONFIG_MAX_BYTES) and parses it as above, JSON or
   YAML by its first character; a syntax error reads "PATH:LINE:COL: what to change". A file
   that cannot be read is a LLMSPLIT_ERR_CONFIG error "cannot read PATH: REASON". */
LLMSPLIT_API llmsplit_status llmsplit_config_load(const char *path, const llmsplit_allocator *allocator,
                                                  llmsplit_config **out, llmsplit_error *err);

/* Frees the config and everything in it. NULL is fine. */
LLMSPLIT_API void llmsplit_config_free(llmsplit_config *cfg);

/* The group with this name, or NULL (also for a NULL cfg or name). */
LLMSPLIT_API const llmsplit_group *llmsplit_config_group(const llmsplit_config *cfg, const char *name);

/* The config a client is using now, for programs that show it or check a name against it (a
   gateway listing its groups). The config stays valid, unchanged, until it is handed back with
   llmsplit_client_config_release, also when a reload installs another one meanwhile; release
   every config acquired, from any thread. Cheap (a lock held for a counter) and thread-safe.
   NULL for a NULL client. */
LLMSPLIT_API const llmsplit_config *llmsplit_client_config_acquire(llmsplit_client *client);
/* Hands back a config from llmsplit_client_config_acquire; NULL is fine. */
LLMSPLIT_API void llmsplit_client_config_release(llmsplit_client *client, const llmsplit_config *cfg);

/* ==== >>public: 4. json ================================================================== */

/* A parsed document is one block: a flat array of 16-byte values in document order, followed by
   the unescaped strings (each NUL-terminated, with its length kept, so "\u0000" survives) and the
   source text of numbers. Containers know how many slots their subtree takes, so skipping a
   member costs O(1). Values stay valid until llmsplit_json_free; they are read-only. */
typedef struct llmsplit_json_doc llmsplit_json_doc;
typedef struct llmsplit_json_val llmsplit_json_val;

typedef enum llmsplit_json_type {
    LLMSPLIT_JSON_NONE = 0,    /* returned for a NULL value pointer (a lookup that missed) */
    LLMSPLIT_JSON_NULL,
    LLMSPLIT_JSON_BOOL,
    LLMSPLIT_JSON_NUMBER,
    LLMSPLIT_JSON_STRING,
    LLMSPLIT_JSON_ARRAY,
    LLMSPLIT_JSON_OBJECT
} llmsplit_json_type;

typedef struct llmsplit_json_desc {
    llmsplit_allocator allocator; /* used for the document block (zero: malloc/free) */
    void *buffer;                 /* optional caller memory for the document: no allocation at all */
    size_t buffer_size;           /* its size; llmsplit_json_buffer_size(len) is always enough */
    int max_depth;                /* 0: LLMSPLIT_JSON_MAX_DEPTH */
    int flags;                    /* LLMSPLIT_JSON_* below; 0 is strict RFC 8259 */
} llmsplit_json_desc;

/* Accept a "\uD83D" without its pair (as in an LLM stream that splits an emoji's UTF-16 pair
   across two events) and store it as its 3-byte form (ED A0..BF xx, "WTF-8"), so the pieces can
   be joined later. Such strings are not valid UTF-8 until joined. */
#define LLMSPLIT_JSON_LONE_SURROGATES 1


/* Parses len bytes at text (no NUL needed) as one JSON value, strictly per RFC 8259: UTF-8
   validated, no raw control characters in strings, no lone surrogates, exact number grammar,
   nothing but whitespace after the value, nesting at most max_depth (the parser never recurses).
   Integers that fit int64 are kept exactly; other numbers become correctly rounded doubles,
   independent of the C locale; a number beyond the double range is an error.
   On success *doc is the document (free it with llmsplit_json_free). On failure *doc is NULL and
   the status is LLMSPLIT_ERR_JSON (with err->line, col and offset where the text went wrong),
   LLMSPLIT_ERR_NOMEM, or LLMSPLIT_ERR_USAGE (no doc pointer, or NULL text with len > 0).
   desc and err may be NULL. */
LLMSPLIT_API llmsplit_status llmsplit_json_parse(const char *text, size_t len, const llmsplit_json_desc *desc,
                                                 llmsplit_json_doc **doc, llmsplit_error *err);

/* Releases the document (nothing to do for a caller buffer, but calling it is always fine). */
LLMSPLIT_API void llmsplit_json_free(llmsplit_json_doc *doc);

/* Bytes a caller buffer needs to parse any len-byte input; actual use is usually far less. */
LLMSPLIT_API size_t llmsplit_json_buffer_size(size_t len);

LLMSPLIT_API const llmsplit_json_val *llmsplit_json_root(const llmsplit_json_doc *doc);

/* Readers. Each accepts NULL (a lookup that missed) and then returns its "absent" answer. */
LLMSPLIT_API llmsplit_json_type llmsplit_json_type_of(const llmsplit_json_val *v);
LLMSPLIT_API int llmsplit_json_is_true(const llmsplit_json_val *v);
/* 1 when v is a number with an exact int64 value (written without fraction or exponent). */
LLMSPLIT_API int llmsplit_json_is_int(const llmsplit_json_val *v);
LLMSPLIT_API int64_t llmsplit_json_int(const llmsplit_json_val *v);   /* 0 unless a number */
LLMSPLIT_API double llmsplit_json_double(const llmsplit_json_val *v); /* 0.0 unless a number */
/* The string's bytes (NUL-terminated) and length; NULL unless v is a string (or object key). */
LLMSPLIT_API const char *llmsplit_json_str(const llmsplit_json_val *v, size_t *len);
/* A number's text exactly as it appeared in the input. */
LLMSPLIT_API const char *llmsplit_json_number_text(const llmsplit_json_val *v, size_t *len);
/* Items of an array, members of an object, bytes of a string; 0 otherwise. */
LLMSPLIT_API size_t llmsplit_json_len(const llmsplit_json_val *v);

/* Member of an object by key (first match), item of an array by index; NULL when absent. */
LLMSPLIT_API const llmsplit_json_val *llmsplit_json_get(const llmsplit_json_val *obj, const char *key);
LLMSPLIT_API const llmsplit_json_val *llmsplit_json_getn(const llmsplit_json_val *obj,
                                                         const char *key, size_t key_len);
LLMSPLIT_API const llmsplit_json_val *llmsplit_json_at(const llmsplit_json_val *arr, size_t index);

/* Follows a path of ".name" and "[index]" steps from v: "choices[0].message.content".
   A leading '.' is optional. Returns NULL when any step is missing or the path is malformed. */
LLMSPLIT_API const llmsplit_json_val *llmsplit_json_path(const llmsplit_json_val *v, const char *path);

/* Iteration over an array's items or an object's members, in document order:
       llmsplit_json_iter it = llmsplit_json_iterate(obj);
       const llmsplit_json_val *k, *v;
       while (llmsplit_json_next(&it, &k, &v)) { ... }      (k is NULL for arrays) */
typedef struct llmsplit_json_iter {
    const llmsplit_json_val *cur;
    size_t left;
    int is_object;
} llmsplit_json_iter;
LLMSPLIT_API llmsplit_json_iter llmsplit_json_iterate(const llmsplit_json_val *container);
LLMSPLIT_API int llmsplit_json_next(llmsplit_json_iter *it, const llmsplit_json_val **key,
                                    const llmsplit_json_val **val);

/* JSON writer: produces compact JSON into a buffer, placing commas and colons itself. Strings
   are escaped (quote, backslash, control characters) and must be valid UTF-8; doubles are written
   in the shortest form that reads back to the same value. Misuse (a value where a key belongs,
   invalid UTF-8, NaN or infinity, unbalanced ends) sets a sticky error rather than writing
   invalid JSON. */
typedef struct llmsplit_json_writer {
    llmsplit_buf buf;
    int depth;
    int first;          /* no item written yet in the innermost container */
    int after_key;      /* a key was written; its value comes next */
    llmsplit_status err;          /* the first misuse or allocation failure (sticky) */
    const char *err_message;
    /* private: one bit per open container (1 = object). The first 512 levels live here, deeper
       ones in memory from the allocator, so the layout never depends on a limit macro. */
    unsigned char llmsplit__kinds[64];
    unsigned char *llmsplit__deep;
    size_t llmsplit__deep_cap;
    /* private: set by the record writer, which must never lose a record for one bad field:
       strings then get U+FFFD for each invalid sequence, counted here, instead of an error */
    int llmsplit__repair;
    size_t llmsplit__repaired;
} llmsplit_json_writer;

LLMSPLIT_API void llmsplit_json_writer_init(llmsplit_json_writer *w, const llmsplit_allocator *allocator);
LLMSPLIT_API void llmsplit_json_writer_free(llmsplit_json_writer *w);
/* The document written: *text (NUL-terminated, owned by the writer) and *len (may be NULL).
   LLMSPLIT_ERR_USAGE after a misuse or while a container or key is still open, LLMSPLIT_ERR_NOMEM
   when memory ran out; *text is NULL then. The write functions themselves return nothing: the
   first error sticks and is reported here, so a sequence of writes needs one check. */
LLMSPLIT_API llmsplit_status llmsplit_json_writer_result(const llmsplit_json_writer *w, const char **text,
                                                         size_t *len, llmsplit_error *err);
LLMSPLIT_API void llmsplit_json_write_begin_object(llmsplit_json_writer *w);
LLMSPLIT_API void llmsplit_json_write_end_object(llmsplit_json_writer *w);
LLMSPLIT_API void llmsplit_json_write_begin_array(llmsplit_json_writer *w);
LLMSPLIT_API void llmsplit_json_write_end_array(llmsplit_json_writer *w);
LLMSPLIT_API void llmsplit_json_write_key(llmsplit_json_writer *w, const char *key, size_t len);
/* A key given as a string literal, its length counted by the compiler ("" refuses a pointer):
   LLMSPLIT_JSON_KEY(w, "model"). */
#define LLMSPLIT_JSON_KEY(w, lit) llmsplit_json_write_key((w), "" lit, sizeof(lit) - 1)
LLMSPLIT_API void llmsplit_json_write_string(llmsplit_json_writer *w, const char *s, size_t len);
LLMSPLIT_API void llmsplit_json_write_int(llmsplit_json_writer *w, int64_t v);
LLMSPLIT_API void llmsplit_json_write_double(llmsplit_json_writer *w, double v);
LLMSPLIT_API void llmsplit_json_write_bool(llmsplit_json_writer *w, int v);
LLMSPLIT_API void llmsplit_json_write_null(llmsplit_json_writer *w);
/* Writes a parsed value (and its subtree) compactly; numbers keep their original text. */
LLMSPLIT_API void llmsplit_json_write_value(llmsplit_json_writer *w, const llmsplit_json_val *v);

/* Writes d in the shortest decimal form that parses back to d ("0.1", "1e+300", "-2.5").
   buf needs 32 bytes. Returns the length, or 0 for NaN and infinities (not JSON). */
LLMSPLIT_API size_t llmsplit_format_double(double d, char *buf);

#ifndef LLMSPLIT_NO_YAML
/* Parses len bytes at text (no NUL needed) as a YAML document into the same kind of document
   llmsplit_json_parse makes, so every reader above works on it. Reads the subset configs use,
   as PyYAML (YAML 1.1, what LiteLLM loads config.yaml with) reads it:
   - block mappings and sequences at any consistent indentation (a sequence may sit at its key's
     column), flow [a, b] and {a: 1} over any lines, comments, CRLF or LF line ends, a leading
     "---" and a trailing "...";
   - plain scalars (folded over lines), 'single-quoted' ('' is a quote), "double-quoted" with
     YAML's escapes (\n \t \" \\ \xFF \uFFFF \UFFFFFFFF ...), | and > block scalars with
     chomping (- +) and an indentation digit;
   - plain scalars resolved as YAML 1.1 does: empty, ~, null, Null, NULL are null; true, yes, on,
     false, no, off (lowercase, capitalised or uppercase) are booleans; 80_000, +1, 0x1F, 0b101
     and 017 (octal: 15) are integers; 1.5, .5, 1., 1_000.5 and 1.5e-7 (a dot, and a signed
     exponent) are numbers that are not integers; anything else is a string, so 1e-6 and 1.0e5
     are strings, as PyYAML reads them. A date (2023-05-15) is its text.
   Refused, with the line and column, rather than read otherwise: anchors (&), aliases (*), tags
   (!), complex keys (?), directives (%), several documents, tabs outside quotes, block scalars
   and comments, a key repeated in its mapping, a key that is not text (a number, boolean, null
   or date unquoted, a [ ] or { } key), keys over 1024 characters, '<<', '=', .inf, .nan,
   integers beyond 64 bits, timestamps, base-60 numbers (1:30), invalid UTF-8, control
   characters, a CR without LF, U+0085, U+2028 and U+2029, nesting beyond max_depth.
   desc is as for llmsplit_json_parse; its max_depth (0: LLMSPLIT_YAML_MAX_DEPTH) bounds the
   nesting, and the reader's own working memory (about three times len) comes from its
   allocator even when the document goes into a caller buffer. On failure *doc is NULL and the
   status is LLMSPLIT_ERR_CONFIG (err->line, col and offset say where, the message what to
   change), LLMSPLIT_ERR_NOMEM or LLMSPLIT_ERR_USAGE. desc and err may be NULL. */
LLMSPLIT_API llmsplit_status llmsplit_yaml_parse(const char *text, size_t len, const llmsplit_json_desc *desc,
                                                 llmsplit_json_doc **doc, llmsplit_error *err);
#endif

/* ==== >>public: 5. http ================================================================ */

/* An HTTP/1.1 client over POSIX sockets, HTTPS through BearSSL (TLS 1.2), with a thread-safe
   keep-alive pool. Certificates are always verified unless insecure mode is asked for:
   CA file order is desc.ca_pem, desc.ca_file, $SSL_CERT_FILE, then the system bundles
   (/etc/ssl/certs/ca-certificates.crt, /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/ca-bundle.pem,
   /etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem, /etc/ssl/cert.pem). No redirects are
   followed. The library never installs signal handlers (sends use MSG_NOSIGNAL). */


#ifndef LLMSPLIT_HTTP_MAX_HEADER_BYTES
#define LLMSPLIT_HTTP_MAX_HEADER_BYTES 65536          /* response header block */
#endif
#ifndef LLMSPLIT_HTTP_MAX_BODY_BYTES
#define LLMSPLIT_HTTP_MAX_BODY_BYTES (64u * 1024u * 1024u) /* response body */
#endif
#ifndef LLMSPLIT_HTTP_MAX_HEADERS
#define LLMSPLIT_HTTP_MAX_HEADERS 100                 /* response header fields */
#endif
#ifndef LLMSPLIT_HTTP_MAX_INTERIM
#define LLMSPLIT_HTTP_MAX_INTERIM 16                  /* interim 1xx responses of one request */
#endif
/* A response. Headers are kept raw with an index; the body is collected in `body` unless the
   request had an on_body callback. */
typedef struct llmsplit_http_response {
    int status;                   /* final status (interim 1xx responses are skipped) */
    int minor_version;            /* HTTP/1.x */
    llmsplit_buf head;            /* the header block of the final response */
    int num_headers;              /* header fields in head (at most LLMSPLIT_HTTP_MAX_HEADERS) */
    llmsplit_buf body;
    uint64_t body_bytes;          /* body bytes received (also with on_body) */
    int keep_alive;               /* the connection may carry another request */
    int reused;                   /* the request went over a kept-alive connection */
    double connect_ms, ttfb_ms, total_ms; /* connect_ms includes TLS; 0 when reused */
} llmsplit_http_response;

/* Value of the first header with this name (case-insensitive), or NULL. Not NUL-terminated:
   use *len. */
LLMSPLIT_API const char *llmsplit_http_get_header(const llmsplit_http_response *resp, const char *name,
                                              size_t *len);
LLMSPLIT_API void llmsplit_http_response_free(llmsplit_http_response *resp);

typedef struct llmsplit_http llmsplit_http;

typedef struct llmsplit_http_request {
    const char *method;           /* NULL: "POST" when there is a body, else "GET" */
    const char *url;
    const llmsplit_http_header *headers; /* extra headers; Host, Content-Length and Connection
                                            are written by the client */
    int num_headers;
    const char *body;
    size_t body_len;
    int timeout_ms;               /* 0: the client's timeout_ms */
    /* Receives the body as it arrives (already de-chunked). Return 0 to go on, nonzero to stop:
       the request then fails with LLMSPLIT_ERR_USAGE "aborted by the body callback". */
    int (*on_body)(const char *data, size_t len, void *user_data);
    void *user_data;
    /* Optional: when the int it points to becomes nonzero (another thread sets it, e.g. a pool
       shutting down), the request stops within ~50 ms with a network error "aborted" (with a
       wait, as soon as that wait returns: see below). */
    const volatile int *abort_flag;
    /* Optional: the wait of an event loop; the request then never blocks its thread. Its every
       socket read and write (the connect and the TLS handshake included) is made without
       blocking, and whenever one would block, wait(fd, POLLIN or POLLOUT, timeout_ms, user_data)
       is called, timeout_ms being the time left (whoever sets abort_flag ends the wait); fd -1 with
       events 0 is a plain timed wait, while the name lookup runs on its own thread. It returns as
       poll does for one fd (> 0 ready, 0 the time passed, < 0 failure: the request fails with a
       network error "the caller's wait failed") and may return early: the request looks at the
       deadline and the flag again and retries. It is called on the caller's thread with no lock
       of the library held. NULL: the request blocks its thread when it waits. See
       llmsplit_request.wait. */
    int (*wait)(int fd, int events, int timeout_ms, void *user_data);
    /* Optional, in place of wait: told also the socket's id (see llmsplit_request.wait_socket). */
    int (*wait_socket)(int fd, uint64_t socket_id, int events, int timeout_ms, void *user_data);
} llmsplit_http_request;

/* Creates a client (its pool, TLS settings and session cache) in *out. Thread-safe: any number
   of threads may send through one client. On failure *out is NULL: LLMSPLIT_ERR_TLS when the CA
   bundle cannot be read or holds no certificate, LLMSPLIT_ERR_USAGE for a bad proxy URL,
   LLMSPLIT_ERR_NOMEM. desc may be NULL. */
LLMSPLIT_API llmsplit_status llmsplit_http_create(const llmsplit_http_desc *desc, llmsplit_http **out,
                                                  llmsplit_error *err);
/* Closes idle connections and frees the client. No request may be in flight. */
LLMSPLIT_API void llmsplit_http_destroy(llmsplit_http *http);

/* Sends one request and reads the whole response into *resp (which the caller frees with
   llmsplit_http_response_free, also after a failure). Any HTTP status counts as success here:
   the caller decides what a 4xx means. A request that fails on a reused connection before any
   response byte arrives is retried once on a fresh connection. A proxy that refuses the tunnel
   with 407 or 403 is LLMSPLIT_ERR_USAGE (its credentials or its policy: no retry helps). Returns
   LLMSPLIT_OK or the error category, with details in *err (may be NULL). */
LLMSPLIT_API llmsplit_status llmsplit_http_send(llmsplit_http *http, const llmsplit_http_request *req,
                                             llmsplit_http_response *resp, llmsplit_error *err);

/* ==== >>public: 6. providers ============================================================= */

/* One request shape, sent to each provider in its own wire format. A model string is
   "provider/name" or a bare name; the prefix picks the adapter and is stripped before the name
   goes upstream:
       openai/ or bare (gpt-*, o1*, ...)  OpenAI chat            OPENAI_API_KEY, base $OPENAI_API_BASE
       azure/DEPLOYMENT                   Azure OpenAI           AZURE_API_KEY, $AZURE_API_BASE (required),
                                                                 api_version or $AZURE_API_VERSION
       huggingface/https://ENDPOINT       HF endpoint (TGI)      HUGGINGFACE_API_KEY or HF_TOKEN
       huggingface/ORG/MODEL              HF router              same
       ollama/, ollama_chat/              Ollama /api/chat       OLLAMA_API_KEY (optional), $OLLAMA_API_BASE
       openrouter/                        OpenRouter             OPENROUTER_API_KEY
       together_ai/                       Together               TOGETHER_API_KEY or TOGETHERAI_API_KEY
       anthropic/ or bare claude-*        Anthropic Messages     ANTHROPIC_API_KEY
   An explicit api_base always wins. A key given as "os.environ/NAME" is read from NAME. A key
   from the provider's variable (OPENAI_API_KEY, ...) is sent only to the provider's own host: its
   default base, the base in its base variable ($OPENAI_API_BASE, ...), or for huggingface/ an
   https:// endpoint under huggingface.cloud. A request with an api_base of its own (a local server,
   a proxy) and no api_key sends no key. Keys never appear in messages or logs. */

/* Where a model string goes: the adapter, the name sent upstream, the endpoint URL, and the
   environment variables its key comes from. */
typedef struct llmsplit_route {
    llmsplit_provider provider;
    char model[256];              /* upstream model name (prefix stripped) */
    char url[LLMSPLIT_URL_MAX + 256];
    const char *key_env[2];       /* NULL when none, and when the URL is not the provider's own
                                     host (its default, its base variable's, an HF Inference
                                     Endpoint): an environment key goes nowhere else */
    int key_required;             /* 0 for Ollama, and for any explicit api_base */
} llmsplit_route;

/* Resolves a model string with an optional api_base and api_version (NULL: defaults and
   environment). Returns LLMSPLIT_OK, or LLMSPLIT_ERR_CONFIG with details in *err (may be NULL):
   an empty model string or name, an unknown provider prefix, a missing Azure base or version, a
   base that is not an http(s) URL. */
LLMSPLIT_API llmsplit_status llmsplit_route_model(const char *model, const char *api_base, const char *api_version,
                                               llmsplit_route *out, llmsplit_error *err);

typedef struct llmsplit_chat_request {
    const char *model;            /* a model string, see above */
    const llmsplit_message *messages;
    int num_messages;
    const char *params_json;      /* extra parameters as a JSON object ({"temperature":0.7,
                                     "max_tokens":64, "tools":[...], ...}), sent upstream as given
                                     (translated for Anthropic and Ollama); NULL for none */
    int stream;                   /* stream the answer; deltas go to on_delta */
    const char *api_key;          /* NULL: the provider's environment variable */
    const char *api_base;         /* NULL: the provider's default */
    const char *api_version;      /* Azure */
    int timeout_ms;               /* per attempt; 0: the http client's */
    int num_retries;              /* retries on 429, 5xx and connection failures */
    int keep_raw;                 /* keep the raw response body in resp->raw */
    /* Receives each text delta as it arrives (stream mode). Return nonzero to stop. */
    int (*on_delta)(const char *text, size_t len, void *user_data);
    void *user_data;
    const volatile int *abort_flag; /* see llmsplit_http_request */
    /* Receives each stream event as the provider sent it (see llmsplit_request.on_event).
       Return nonzero to stop. */
    int (*on_event)(const char *event, const char *data, size_t len, void *user_data);
    /* Optional: the wait of an event loop, given user_data; the pause between retries goes
       through it too (see llmsplit_http_request and llmsplit_request.wait). */
    int (*wait)(int fd, int events, int timeout_ms, void *user_data);
    /* Optional, in place of wait: told also the socket's id (see llmsplit_request.wait_socket). */
    int (*wait_socket)(int fd, uint64_t socket_id, int events, int timeout_ms, void *user_data);
} llmsplit_chat_request;

/* Sends a chat request through http (which owns connections and TLS) and fills resp (free it with
   llmsplit_chat_response_free, also after a failure). Retries up to num_retries on 429, 5xx and
   connection failures, with exponential backoff and jitter, honouring Retry-After; never on
   400/401/403/404 or TLS errors; a stream is retried only before its first delta. Errors:
   usage/config (bad request or model), network, tls, http, provider (the message says
   "429 rate limited (retry after 2 s): <the provider's message>"), response (a 200 that is not a
   usable answer). */
LLMSPLIT_API llmsplit_status llmsplit_chat(llmsplit_http *http, const llmsplit_chat_request *req,
                                        llmsplit_chat_response *resp, llmsplit_error *err);
LLMSPLIT_API void llmsplit_chat_response_free(llmsplit_chat_response *resp);

/* ==== >>public: 7. picking =============================================================== */

/* Which arm of a group gets a request: weights (any non-negative scale) to an arm index, either
   at random from a thread-safe PRNG or sticky per user key exactly like nginx's split_clients,
   so a fleet of processes - and an nginx in front of them - put every user in the same arm. */

/* A thread-safe PRNG for random picks: SplitMix64, one 64-bit state advanced by one atomic add
   per draw (gcc and clang builtins; elsewhere a process-wide mutex), so any number of threads
   may draw from one rng without a lock of their own. The same seed gives the same sequence on
   every platform. Not for cryptography. */
typedef struct llmsplit_rng {
    uint64_t state;
} llmsplit_rng;

/* Seeds r. A seed of 0 means "unpredictable": 8 bytes of /dev/urandom, or the clock, process id
   and a counter when that cannot be read, so rngs seeded with 0 at the same moment differ. */
LLMSPLIT_API void llmsplit_rng_seed(llmsplit_rng *r, uint64_t seed);

/* The next draw, uniform in [0, 1) with 53 random bits. Thread-safe. */
LLMSPLIT_API double llmsplit_rng_next(llmsplit_rng *r);

/* Picks an arm for one request, the way the client does it:
   - with a key (key_len > 0), sticky: llmsplit_pick_sticky over the configured weights. When
     that arm is out (available[arm] == 0, e.g. rolled back), the key is placed again among the
     available arms by an independent hash of the key, so only that arm's users move, they move
     in proportion to the other arms' weights, and each still lands in the same arm every time;
   - without a key (key NULL or key_len 0: an empty key is not a key), random: one draw from
     rng over the weights of the available arms.
   available may be NULL (every arm available); otherwise it has n entries, nonzero meaning
   available. When no arm with a weight is available, the availability is ignored: serving the
   configured split beats failing every request. rng is needed only for random picks.
   Stores the arm index in *arm. LLMSPLIT_ERR_USAGE (and *arm = -1) when the weights are invalid
   (see llmsplit_pick_hash) or a random pick has no rng. */
LLMSPLIT_API llmsplit_status llmsplit_pick(const double *weights, const unsigned char *available, int n,
                                           const char *key, size_t key_len, llmsplit_rng *rng, int *arm,
                                           llmsplit_error *err);

/* Whether to sample this request, for mirror_sample_rate: 1 with probability rate (rate <= 0:
   never; rate >= 1: always). With a key (key_len > 0) the answer is a pure function of the key,
   from a hash independent of the one that picks arms, so the mirrored share is the same in every
   arm; without a key it is a draw from rng (NULL rng: 0 unless rate >= 1). */
LLMSPLIT_API int llmsplit_pick_sample(double rate, const char *key, size_t key_len, llmsplit_rng *rng);

/* ==== >>public: 8. mirror pool =========================================================== */

/* A fixed set of worker threads and a bounded queue, for work that must never delay or fail the
   caller (mirrored calls to a silent model). Submitting never waits: when the queue is
   full the task is refused and counted. Shutdown drains what is queued and running for a bounded
   time, then tells running tasks to stop (the abort flag) and hands every task still queued back
   to its owner (the drop callback), counting both as abandoned. All memory is allocated by
   llmsplit_pool_create; nothing is allocated per task.

   Built with LLMSPLIT_NO_THREADS the pool exists but runs nothing: create succeeds, every submit
   is refused and counted as dropped, and the pool's logger gets one warning that mirroring is
   unavailable in this build.

   Typical use, with the task owning a heap copy of its input:

       static void run(void *arg, const volatile int *abort_flag) {
           job *j = (job *)arg;
           ... work, checking llmsplit_pool_aborting(abort_flag) between steps ...
           job_free(j);
       }
       static void drop(void *arg) { job_record_abandoned((job *)arg); job_free(arg); }

       if (llmsplit_pool_submit(pool, run, drop, j) != LLMSPLIT_OK) { count_loss(); job_free(j); }
       ...
       llmsplit_pool_shutdown(pool, 10000, &final_stats);                                                   */

#ifndef LLMSPLIT_POOL_MAX_THREADS
#define LLMSPLIT_POOL_MAX_THREADS 256      /* most workers one pool may have */
#endif
#ifndef LLMSPLIT_POOL_MAX_QUEUE
#define LLMSPLIT_POOL_MAX_QUEUE 1048576    /* most waiting tasks one pool may hold */
#endif

typedef struct llmsplit_pool llmsplit_pool;

typedef struct llmsplit_pool_desc {
    int threads;                  /* 0: 2; at most LLMSPLIT_POOL_MAX_THREADS */
    int queue;                    /* 0: 64; bounded queue of waiting tasks (running ones not
                                     included); at most LLMSPLIT_POOL_MAX_QUEUE */
    llmsplit_allocator allocator; /* for the pool's one block (zero: malloc/free) */
    llmsplit_logger logger;       /* zero: warnings and errors to stderr */
} llmsplit_pool_desc;

/* A task runs fn(arg, abort_flag) on a worker. abort_flag points to an int that becomes nonzero
   when shutdown's drain deadline passes: long-running tasks (HTTP calls) poll it, through
   llmsplit_pool_aborting or by passing it on as llmsplit_http_request.abort_flag, and stop early.
   When a task is abandoned while still queued at the deadline, drop(arg, 1) is called instead of
   fn so the owner can free arg and record the loss; drop may be NULL. Whenever fn runs, it is
   responsible for arg, also when it returns early because of the flag. */
typedef void (*llmsplit_task_fn)(void *arg, const volatile int *abort_flag);
/* Called only at shutdown, for a task still queued at the drain deadline. A task refused by a full
   queue is not dropped: submit says so, and arg stays the caller's. */
typedef void (*llmsplit_task_drop_fn)(void *arg);

/* Counters since the pool was created. Under the pool's lock they always satisfy
       submitted == completed + dropped_queue_full + abandoned_at_shutdown + running + queued
   so after shutdown (running == queued == 0) every submitted task is exactly one of completed,
   dropped or abandoned. submitted counts every call to llmsplit_pool_submit with a pool and a
   function, accepted or not; dropped_queue_full counts the refused ones (queue full, or the pool
   closed or shutting down, or built with LLMSPLIT_NO_THREADS); abandoned_at_shutdown counts the
   tasks still queued at the drain deadline plus those still running then. */
typedef struct llmsplit_pool_stats {
    uint64_t submitted, completed, dropped_queue_full, abandoned_at_shutdown, running, queued;
} llmsplit_pool_stats;

/* Creates a pool: allocates its one block (the pool, the ring of desc.queue task slots and the
   thread handles) from desc.allocator and starts desc.threads workers, which sleep until there is
   work, and stores the pool in *out. desc may be NULL (all defaults); zero fields mean the
   defaults above. Fails with LLMSPLIT_ERR_USAGE when a count is negative or above its limit,
   LLMSPLIT_ERR_NOMEM when the block cannot be allocated or a mutex, condition variable or thread
   cannot be created (with the system's error number in the message); nothing is left running or
   allocated then and *out is NULL. The pool is released only by llmsplit_pool_shutdown. */
LLMSPLIT_API llmsplit_status llmsplit_pool_create(const llmsplit_pool_desc *desc, llmsplit_pool **out,
                                                  llmsplit_error *err);

/* Queues fn(arg) and returns LLMSPLIT_OK, or returns LLMSPLIT_ERR_BUSY at once when the queue
   is full, the pool is closed or shutting down, or the build has no threads. It never waits for a
   worker or for space: it holds the pool's lock only for a few instructions (no callback ever
   runs under that lock) and allocates nothing. When refused, drop is NOT called: the caller
   still owns arg and decides what to do, and dropped_queue_full has been incremented. fn NULL or
   pool NULL returns LLMSPLIT_ERR_USAGE and counts nothing. Thread-safe, also while
   llmsplit_pool_shutdown runs in another thread (the task is
   refused), but never after shutdown has returned: the pool is gone then. */
LLMSPLIT_API llmsplit_status llmsplit_pool_submit(llmsplit_pool *pool, llmsplit_task_fn fn,
                                                  llmsplit_task_drop_fn drop, void *arg);

/* A consistent snapshot of the counters, taken under the pool's lock. Thread-safe; all zero for a
   NULL pool. */
LLMSPLIT_API llmsplit_pool_stats llmsplit_pool_get_stats(llmsplit_pool *pool);

/* Stops accepting tasks: every later submit returns LLMSPLIT_ERR_BUSY and counts as dropped. Queued and running
   tasks carry on; the workers keep running until shutdown. Idempotent and thread-safe. Shutdown
   closes the pool itself; call this first when submits must stop before the drain starts. */
LLMSPLIT_API void llmsplit_pool_close(llmsplit_pool *pool);

/* Closes the pool, then waits up to drain_ms (measured on CLOCK_MONOTONIC where the system lets
   condition variables use it) for queued and running tasks to finish. If they have not by then,
   it sets the abort flag, calls drop(arg) for every task still queued (in queue order, on the
   calling thread, without the pool's lock), waits for running tasks to notice the flag and return,
   and counts both kinds as abandoned (a task that had not returned by the deadline counts as
   abandoned even if it then finishes its work). Then it joins the workers and frees everything.
   drain_ms < 0 waits forever; 0 abandons at once whatever has not finished. Tasks submitted
   concurrently are refused. A task that never looks at the flag holds shutdown until it returns.
   When final_stats is not NULL it gets the last counters, taken just before the pool is freed:
   running and queued are 0 there, so submitted == completed + dropped_queue_full +
   abandoned_at_shutdown. Call it once per pool, never from one of its own tasks; pool may be
   NULL (final_stats is then all zero). */
LLMSPLIT_API void llmsplit_pool_shutdown(llmsplit_pool *pool, int drain_ms, llmsplit_pool_stats *final_stats);

/* Reads a task's abort flag: 1 once shutdown's drain deadline has passed, else 0 (also for NULL).
   The pool writes the flag with an atomic store and this is the matching atomic load, so the flag
   may be polled from the task's thread without a data race; read it through this function (or
   hand the pointer to the HTTP layer) rather than dereferencing it. */
LLMSPLIT_API int llmsplit_pool_aborting(const volatile int *flag);

/* ==== >>public: 9. records =============================================================== */

/* The client writes records itself (to its log and on_record); these are for tools that write
   or price their own. */

/* Appends the record as one line of JSON (no newline) to out; a record with an empty ts gets the
   current time. Text that is not valid UTF-8 is written with U+FFFD for each invalid sequence, so
   a record is never lost for one bad field. LLMSPLIT_ERR_NOMEM when memory ran out (out is then
   marked failed), LLMSPLIT_ERR_USAGE for a NULL record or buffer. */
LLMSPLIT_API llmsplit_status llmsplit_record_json(const llmsplit_record *r, llmsplit_buf *out);

/* The built-in price for a model name (upstream name, prefix stripped; dated suffixes like
   "-2024-08-06" match their base model): USD per token for input and output. A lookup, not a
   fallible call: 1 when the model is known, 0 when it is not (then no cost is recorded unless the
   deployment sets its own). */
LLMSPLIT_API int llmsplit_price(const char *model, double *input_per_token, double *output_per_token);

/* ======================================================================================= */
/* ==== >>building blocks ================================================================ */
/* ======================================================================================= */

/* The pieces the client is made of, public for tests, fuzzers and programs that build their
   own client on them: the URL and HTTP response parsers, connection counters, the SSE parser,
   the providers' wire formats without a connection, the hashes behind sticky picks and the
   health window behind automatic rollback. Most programs never need them. */

typedef struct llmsplit_url {
    int https;                    /* 1 for https://, 0 for http:// */
    char host[256];               /* lower-cased; IPv6 without brackets */
    int host_is_ip;               /* 4 or 6 for IP literals, else 0 */
    int port;                     /* explicit or the scheme's default */
    char userinfo[256];           /* "user:password" before '@', usually empty */
    char target[LLMSPLIT_URL_MAX];/* path and query, at least "/"; the fragment is dropped */
} llmsplit_url;

/* Parses an absolute http:// or https:// URL into *out. LLMSPLIT_ERR_USAGE for an unknown
   scheme, an empty or invalid host, a bad port, spaces or control characters, or a URL too long. */
LLMSPLIT_API llmsplit_status llmsplit_url_parse(const char *url, llmsplit_url *out, llmsplit_error *err);

/* The response parser on its own (the client uses it; exposed for tests and fuzzing). Feed it
   bytes as they arrive; it frames the response per RFC 9112: interim 1xx skipped (at most
   LLMSPLIT_HTTP_MAX_INTERIM of them: each resets the header limit, so only a count bounds them), chunked
   (strict: hex sizes without overflow, CRLF only), Content-Length, or close-delimited;
   Transfer-Encoding together with Content-Length is an error, as are conflicting lengths,
   obsolete line folding, bare CR or LF, and anything over the limits. */
typedef struct llmsplit_http_parser {
    llmsplit_http_response *resp;
    int (*on_body)(const char *data, size_t len, void *user_data);
    void *user_data;
    size_t max_header_bytes;
    uint64_t max_body_bytes;
    int state;
    int head_request;             /* the request was HEAD: no body follows */
    int chunked, close_delimited;
    uint64_t remaining;           /* Content-Length or chunk bytes still to come */
    size_t scan;                  /* bytes of head already searched for the blank line */
    char line[80];                /* chunk-size / trailer line being collected */
    size_t line_len;
    size_t trailer_bytes;
    uint64_t total_bytes;         /* bytes of this response consumed so far */
    int interim;                  /* interim 1xx responses skipped so far */
} llmsplit_http_parser;

LLMSPLIT_API void llmsplit_http_parser_init(llmsplit_http_parser *p, llmsplit_http_response *resp);
/* Consumes bytes from data. *done becomes 1 when the response is complete (*consumed tells how
   many bytes belonged to it) and stays 0 while it needs more. LLMSPLIT_ERR_HTTP for a malformed
   or oversized response; LLMSPLIT_ERR_USAGE when on_body asked to stop. */
LLMSPLIT_API llmsplit_status llmsplit_http_parser_feed(llmsplit_http_parser *p, const char *data, size_t len,
                                                       size_t *consumed, int *done, llmsplit_error *err);
/* The peer closed the connection: LLMSPLIT_OK when that completes a close-delimited body,
   else LLMSPLIT_ERR_HTTP (closed before or in the middle of the response). */
LLMSPLIT_API llmsplit_status llmsplit_http_parser_eof(llmsplit_http_parser *p, llmsplit_error *err);

/* Counters, for tests and benchmarks. sends and receives count the system calls that moved
   bytes (TLS records included; a receive that found nothing is not counted): a small request
   and its answer take one of each on a kept-alive connection. idle_checks counts the polls of
   kept-alive connections before their reuse, made only for those idle for over a second (a
   request on a connection the server closed sooner fails before any answer and is retried on
   a new one, counted in retries). */
typedef struct llmsplit_http_stats {
    uint64_t connections_opened, connections_reused, tls_handshakes, tls_resumed, retries;
    uint64_t sends, receives, idle_checks;
} llmsplit_http_stats;
LLMSPLIT_API llmsplit_http_stats llmsplit_http_get_stats(llmsplit_http *http);

/* What the TLS layer reads from a server's leaf certificate itself (BearSSL checks the chain and
   DNS names): the validity dates, to tell "not yet valid" from "expired", and the IP
   subjectAltNames that an IP-literal URL is verified against. For fuzzing that reader, and for
   tools that want to show the same. Available without TLS too. */
typedef struct llmsplit_cert_info {
    char not_before[15], not_after[15]; /* "YYYYMMDDHHMMSS" (UTC); "" when absent or unreadable */
    unsigned char ips[8][16];           /* the first 8 IP SANs, 4 or 16 bytes each */
    int ip_lens[8], num_ips;
} llmsplit_cert_info;
/* Reads the certificate's len bytes of DER at der into *out (may be NULL). LLMSPLIT_ERR_TLS
   "certificate is not well-formed DER" (and *out zeroed) when the structure up to the fields
   above does not parse. Nothing is verified: no signature, no date against the clock. */
LLMSPLIT_API llmsplit_status llmsplit_cert_info_parse(const unsigned char *der, size_t len, llmsplit_cert_info *out,
                                                      llmsplit_error *err);


/* Bytes of the block the document actually uses (values and strings). */
LLMSPLIT_API size_t llmsplit_json_doc_used(const llmsplit_json_doc *doc);

/* Server-Sent Events, incrementally (WHATWG rules): lines end in LF, CRLF or CR, split anywhere;
   ':' comments; "data" lines joined with LF; "event" names; an empty line dispatches. */
typedef struct llmsplit_sse_parser {
    llmsplit_buf line, data;
    char event[64];
    int after_cr;                 /* the last byte was CR: a following LF belongs to it */
    size_t max_event_bytes;       /* 0: LLMSPLIT_SSE_MAX_EVENT_BYTES */
    /* Gets each event (name "" when none). Return nonzero to stop the parse. */
    int (*on_event)(const char *event, const char *data, size_t len, void *user_data);
    void *user_data;
} llmsplit_sse_parser;
#ifndef LLMSPLIT_SSE_MAX_EVENT_BYTES
#define LLMSPLIT_SSE_MAX_EVENT_BYTES (1024u * 1024u)
#endif
LLMSPLIT_API void llmsplit_sse_init(llmsplit_sse_parser *p, const llmsplit_allocator *allocator);
/* LLMSPLIT_ERR_HTTP when an event is larger than max_event_bytes, LLMSPLIT_ERR_USAGE when on_event
   asked to stop, LLMSPLIT_ERR_NOMEM. */
LLMSPLIT_API llmsplit_status llmsplit_sse_feed(llmsplit_sse_parser *p, const char *data, size_t len, llmsplit_error *err);
LLMSPLIT_API void llmsplit_sse_free(llmsplit_sse_parser *p);

/* --- provider wire formats without a connection -------------------------------------------- */

/* The JSON body llmsplit_chat would send for req, byte for byte: req->model (with req->api_base
   and req->api_version, as llmsplit_route_model takes them) picks the provider and the name sent
   upstream; messages, params_json and stream are written in that provider's wire format. Only
   the body is made: no key is looked up, nothing is sent. out must have been set up with
   llmsplit_buf_init (its allocator is used); on success its old contents are replaced by the
   body (NUL-terminated), and it is freed with llmsplit_buf_free, also after a failure.
   Errors: LLMSPLIT_ERR_USAGE for a missing request, model, messages or out, params_json that is
   not a JSON object, and a message's content_json or tool_calls_json that is not JSON;
   LLMSPLIT_ERR_CONFIG for a model string routing refuses (see llmsplit_route_model);
   LLMSPLIT_ERR_NOMEM. */
LLMSPLIT_API llmsplit_status llmsplit_chat_body(const llmsplit_chat_request *req, llmsplit_buf *out, llmsplit_error *err);

/* Reads len bytes at body as the answer of model's provider, the way llmsplit_chat reads a 200
   answer, and fills *resp (free it with llmsplit_chat_response_free, also after a failure).
   With stream 0 the body is one whole answer (JSON); otherwise it is the whole stream as it
   would have arrived: Server-Sent Events for OpenAI-shaped providers and Anthropic, JSON lines
   for Ollama. resp gets text, role, finish_reason, tokens and tool_calls as llmsplit_chat gives
   them, provider and model from the model string, http_status 200, attempts 1; latency_ms is 0
   and ttft_ms the time to the first text delta while reading. The model string needs a known
   provider and nothing else (no base, version or key). Errors: LLMSPLIT_ERR_USAGE (no model, no
   resp, NULL body with len > 0), LLMSPLIT_ERR_CONFIG (unknown provider), LLMSPLIT_ERR_RESPONSE
   (not JSON, no answer, a stream that stops short or holds an event that is not JSON),
   LLMSPLIT_ERR_PROVIDER (an error event inside the stream), LLMSPLIT_ERR_HTTP (an event over
   LLMSPLIT_SSE_MAX_EVENT_BYTES), LLMSPLIT_ERR_NOMEM. */
LLMSPLIT_API llmsplit_status llmsplit_chat_read_answer(const char *model, int stream, const char *body, size_t len,
                                                       llmsplit_chat_response *resp, llmsplit_error *err);


/* --- hashing and picking ---------------------------------------------------------------- */

/* 32-bit MurmurHash2 with seed 0, byte for byte the function nginx uses for split_clients
   (ngx_murmur_hash2): the key is read as little-endian 32-bit words on every platform, and the
   length enters the hash modulo 2^32. Known values: "" -> 0, "1" -> 0x49342faf,
   "hello" -> 0xe56129cb. key may be NULL when len is 0. */
LLMSPLIT_API uint32_t llmsplit_murmur2(const void *key, size_t len);

/* The arm nginx split_clients gives a key whose hash is `hash`, for these weights. Each arm with
   a weight above 0 gets its normalised weight as a percentage with 0.01% precision, that is
   round(w / sum * 10000) units; bounds grow as `last += units * 0xFFFFFFFF / 10000` in 64-bit
   arithmetic; the first arm with hash < bound wins, and the last arm with a weight above 0 takes
   the rest (nginx's `*`). Arms of weight 0 never win: they are left out of the table, as nginx
   cannot write a 0% line. So weights {51.2, 10, 38.8} behave as
   `split_clients ... { 51.2% a; 10% b; * c; }`. An arm whose share rounds to 0 units (below
   0.005%) gets no sticky traffic unless it is the last one.
   Stores the arm index in *arm. LLMSPLIT_ERR_USAGE (and *arm = -1) when n < 1, weights is NULL,
   any weight is negative or not a finite number, or every weight is 0. */
LLMSPLIT_API llmsplit_status llmsplit_pick_hash(const double *weights, int n, uint32_t hash, int *arm,
                                                llmsplit_error *err);

/* Sticky pick: llmsplit_pick_hash(weights, n, llmsplit_murmur2(key, key_len)). The arm is a pure
   function of the key bytes and the weights: the same on every machine, run and process.
   LLMSPLIT_ERR_USAGE for the cases of llmsplit_pick_hash and also for an empty key (key_len 0):
   an empty key is not a key, and the caller must draw at random instead (llmsplit_pick does). */
LLMSPLIT_API llmsplit_status llmsplit_pick_sticky(const double *weights, int n, const char *key, size_t key_len,
                                                  int *arm, llmsplit_error *err);

/* Random pick: the arm whose slice of [0, sum) holds u * sum, arms in order, for u uniform in
   [0, 1) (values outside are clamped). Arms of weight 0 are never picked. LLMSPLIT_ERR_USAGE in
   the same cases as llmsplit_pick_hash. */
LLMSPLIT_API llmsplit_status llmsplit_pick_random(const double *weights, int n, double u, int *arm,
                                                  llmsplit_error *err);


/* Why a health window tripped (bits of llmsplit_health.last_reason). */
#define LLMSPLIT_ROLLBACK_ERROR_RATE 1
#define LLMSPLIT_ROLLBACK_LATENCY 2
#define LLMSPLIT_ROLLBACK_FEEDBACK 4
#define LLMSPLIT_ROLLBACK_SCORE 8

/* The last `window` primary results of one deployment and whether it is out. Rules:
   - nothing trips until the window is full (window results since the start or the last trip),
     so a few early failures cannot take an arm out on a noisy rate;
   - on each result once full: error rate = failed / window, p95 = the nearest-rank 95th
     percentile of the latencies in the window (failed results count with their latency: a
     timeout is slow). Either one above its limit trips the window;
   - a trip takes the arm out until now + cooldown_s, empties the window and records why;
   - results that arrive while the arm is out (requests sent before the trip) are ignored;
   - after the cooldown the arm is available again and starts a fresh window.
   Not thread-safe: the caller holds a lock around record and available. Fields are read-only
   for the caller. */
typedef struct llmsplit_health {
    llmsplit_rollback_settings settings;
    llmsplit_allocator allocator;
    double *latency_ms;       /* ring of window latencies */
    double *scratch;          /* workspace for the percentile */
    unsigned char *failed;    /* ring of window failure flags */
    int count;                /* results in the window */
    int next;                 /* ring slot for the next result */
    int errors;               /* failed results in the window */
    int out;                  /* tripped; out until out_until_ms */
    int64_t out_until_ms;
    int trips;                /* times this deployment was taken out */
    int last_reason;          /* LLMSPLIT_ROLLBACK_* bits of the last trip */
    double last_error_rate;   /* error rate of the window that last tripped */
    double last_p95_ms;       /* p95 of that window (0 when the latency check is off) */
    /* The feedback window (settings.feedback_min_count values), beside the results window
       and with the same rules: nothing trips until it is full, values that arrive while the
       arm is out are ignored, a trip empties both windows. */
    double *feedback;         /* ring of feedback values */
    int feedback_count, feedback_next;
    double last_feedback_mean;/* mean of the feedback window that last tripped */
    /* The score window (settings.window judge scores when settings.min_score is set), with the
       same rules again. */
    double *scores;           /* ring of judge scores */
    int score_count, score_next;
    double last_score_mean;   /* mean of the score window that last tripped */
} llmsplit_health;

/* Prepares h for these settings (copied); allocator may be NULL. A window of 0 (rollback off)
   allocates nothing. LLMSPLIT_ERR_USAGE when s is NULL or invalid (window outside
   0..LLMSPLIT_ROLLBACK_MAX_WINDOW, a limit negative or not a number), LLMSPLIT_ERR_NOMEM when
   memory ran out; h is then still safe to free. */
LLMSPLIT_API llmsplit_status llmsplit_health_init(llmsplit_health *h, const llmsplit_rollback_settings *s,
                                                  const llmsplit_allocator *a, llmsplit_error *err);

/* Frees what llmsplit_health_init allocated. */
LLMSPLIT_API void llmsplit_health_free(llmsplit_health *h);

/* Records one primary result (ok nonzero for success) that took latency_ms, at now_ms on a
   monotonic clock. Returns 1 when this result trips the rollback: the arm is out until
   now_ms + cooldown_s (write the "rollback" record then, with last_reason, last_error_rate and
   last_p95_ms); otherwise 0. Always 0 with rollback off. Caller holds the lock. */
LLMSPLIT_API int llmsplit_health_record(llmsplit_health *h, int ok, double latency_ms, int64_t now_ms);

/* Records one feedback value (of settings.feedback_metric) for a call this deployment answered.
   Returns 1 when it trips the rollback (last_reason LLMSPLIT_ROLLBACK_FEEDBACK, with
   last_feedback_mean), otherwise 0; always 0 with the feedback check off or a value that is
   not finite. Caller holds the lock. */
LLMSPLIT_API int llmsplit_health_feedback(llmsplit_health *h, double value, int64_t now_ms);

/* Records one judge score of a call this deployment answered. Returns 1 when it trips the
   rollback (last_reason LLMSPLIT_ROLLBACK_SCORE, with last_score_mean: the mean of the last
   settings.window scores fell below settings.min_score), otherwise 0; always 0 with the score
   check off or a value that is not finite. Caller holds the lock. */
LLMSPLIT_API int llmsplit_health_score(llmsplit_health *h, double value, int64_t now_ms);

/* 1 when the deployment may get traffic at now_ms (not out, or its cooldown is over). */
LLMSPLIT_API int llmsplit_health_available(const llmsplit_health *h, int64_t now_ms);

#ifdef __cplusplus
}
#endif
#endif /* LLMSPLIT_H */

/* ======================================================================================= */
/* ==== >>implementation ================================================================= */
/* ======================================================================================= */
#ifdef LLMSPLIT_IMPLEMENTATION
#ifndef LLMSPLIT__IMPLEMENTED
#define LLMSPLIT__IMPLEMENTED

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <float.h>

#ifndef LLMSPLIT_ASSERT
#include <assert.h>
#define LLMSPLIT_ASSERT(x) assert(x)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define LLMSPLIT__LIKELY(x) __builtin_expect(!!(x), 1)
#define LLMSPLIT__UNLIKELY(x) __builtin_expect(!!(x), 0)
#ifdef __OPTIMIZE_SIZE__ /* -Os: a call, not a copy at every caller */
#define LLMSPLIT__INLINE
#define LLMSPLIT__SMALL 1     /* -Os: the byte-at-a-time loops alone, no eight-byte fast paths */
#else
#define LLMSPLIT__INLINE __inline__ __attribute__((always_inline))
#endif
#define LLMSPLIT__NOINLINE __attribute__((noinline))
#else
#define LLMSPLIT__NOINLINE
#define LLMSPLIT__LIKELY(x) (x)
#define LLMSPLIT__UNLIKELY(x) (x)
#define LLMSPLIT__INLINE
#endif

#ifndef LLMSPLIT__SMALL
#define LLMSPLIT__SMALL 0
#endif

/* Copies n bytes of s to o and moves o past them (o: a char pointer variable). */
#define LLMSPLIT__PUT(o, s, n) (memcpy((o), (s), (n)), (o) += (n))

/* Compile-time checks that the value layout is what the code assumes. */
typedef char llmsplit__check_u64[sizeof(uint64_t) == 8 ? 1 : -1];
typedef char llmsplit__check_double[sizeof(double) == 8 ? 1 : -1];
typedef char llmsplit__check_depth[LLMSPLIT_JSON_MAX_DEPTH > 0 ? 1 : -1];

/* ==== 1. common ========================================================================= */

#include <time.h>
#ifndef LLMSPLIT_NO_THREADS
#include <pthread.h>
#endif


LLMSPLIT_API const char *llmsplit_strerror(llmsplit_status err) {
    static const char *const names[LLMSPLIT_ERR__COUNT] = {
        "ok", "usage", "config", "network", "tls", "http", "provider", "response", "json", "memory", "busy"};
    if ((int)err < 0 || err >= LLMSPLIT_ERR__COUNT) return "unknown";
    return names[err];
}

/* Adds d to *p, atomically where threads may share it; the new value. */
#if defined(__GCC_HAVE_SYNC_COMPARE_AND_SWAP_8)
static uint64_t llmsplit__add_u64(uint64_t *p, uint64_t d) { return __atomic_add_fetch(p, d, __ATOMIC_RELAXED); }
#elif !defined(LLMSPLIT_NO_THREADS)
/* No 64-bit atomics: one lock for every such counter is enough, each holds it for an add. */
static pthread_mutex_t llmsplit__add_mutex = PTHREAD_MUTEX_INITIALIZER;
static uint64_t llmsplit__add_u64(uint64_t *p, uint64_t d) {
    uint64_t v;
    pthread_mutex_lock(&llmsplit__add_mutex);
    v = *p += d;
    pthread_mutex_unlock(&llmsplit__add_mutex);
    return v;
}
#else
static uint64_t llmsplit__add_u64(uint64_t *p, uint64_t d) { return *p += d; }
#endif

static void *llmsplit__alloc(const llmsplit_allocator *a, size_t size) {
    if (a && a->alloc_fn) return a->alloc_fn(size, a->user_data);
    return malloc(size);
}

static void llmsplit__free(const llmsplit_allocator *a, void *p) {
    if (!p) return;
    if (a && a->free_fn) a->free_fn(p, a->user_data);
    else free(p);
}

/* Memory of the caller's (its stack, declared as uint64_t so that what is put there is aligned as
   the parser's values need) lent to a buffer that lives within one function: the first block
   asked for that fits is mem, anything else comes from the parent allocator. A buffer that
   stays small (a call's record line, a request head) so never reaches malloc, and one that grows
   moves to the parent's memory as it would have anyway. */
typedef struct llmsplit__lender {
    char *mem;
    size_t cap;
    int lent;
    const llmsplit_allocator *parent;
} llmsplit__lender;

#if !LLMSPLIT__SMALL
static void *llmsplit__lender_alloc(size_t size, void *user_data) {
    llmsplit__lender *l = (llmsplit__lender *)user_data;
    if (!l->lent && size <= l->cap) {
        l->lent = 1;
        return l->mem;
    }
    return llmsplit__alloc(l->parent, size);
}

static void llmsplit__lender_free(void *p, void *user_data) {
    llmsplit__lender *l = (llmsplit__lender *)user_data;
    if (p == l->mem) l->lent = 0;
    else llmsplit__free(l->parent, p);
}

/* The allocator that lends mem[0..cap) (kept in *l, which must outlive what uses it); -Os builds
   take the parent's memory only (less code). */
static llmsplit_allocator llmsplit__lending(llmsplit__lender *l, char *mem, size_t cap, const llmsplit_allocator *parent) {
    llmsplit_allocator a;
    l->mem = mem;
    l->cap = cap;
    l->lent = 0;
    l->parent = parent;
    a.alloc_fn = llmsplit__lender_alloc;
    a.free_fn = llmsplit__lender_free;
    a.user_data = l;
    return a;
}
#else
#define llmsplit__lending(l, mem, cap, parent) ((void)(l), (void)(mem), (void)(cap), *(parent))
#endif

static void *llmsplit__dup(const llmsplit_allocator *a, const void *src, size_t n) {
    void *d = llmsplit__alloc(a, n ? n : 1);
    if (d && n) memcpy(d, src, n);
    return d;
}

/* Where to cut text that must fit in n bytes: n, or less when n would split a UTF-8 character.
   Text from outside (a provider's message, a model name) lands in fixed buffers, and half a
   character at the end makes the whole field invalid UTF-8. Only the last character is looked
   at: bytes that were invalid before the cut stay as they were. */
static size_t llmsplit__utf8_cut(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = n, tail = 0, need;
    while (i > 0 && tail < 3 && (u[i - 1] & 0xc0) == 0x80) { i--; tail++; }
    if (i == 0 || u[i - 1] < 0xc0) return n;
    need = u[i - 1] >= 0xf0 ? 4 : u[i - 1] >= 0xe0 ? 3 : 2;
    return tail + 1 < need ? i - 1 : n;
}

/* For "%.*s": at most max bytes of s, cut on a character boundary. */
static int llmsplit__fit(const char *s, size_t max) {
    size_t n = 0;
    while (n < max && s[n]) n++;
    return (int)(n < max ? n : llmsplit__utf8_cut(s, max));
}

/* Copies n bytes of src into a fixed buffer, cut on a character boundary when they do not fit. */
static void llmsplit__copy_n(char *dst, size_t cap, const char *src, size_t n) {
    if (!cap) return;
    if (n >= cap) n = llmsplit__utf8_cut(src, cap - 1);
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
}

/* Copies a string into a fixed buffer, truncating; the cheap form of snprintf(dst, cap, "%s"). */
static void llmsplit__copy(char *dst, size_t cap, const char *src) {
    llmsplit__copy_n(dst, cap, src, src ? strlen(src) : 0);
}

/* After snprintf's `written` into buf: when the text did not fit, its end may be half a
   character; that half goes. */
static void llmsplit__utf8_fix_cut(char *buf, size_t cap, int written) {
    if (cap && written >= 0 && (size_t)written >= cap) buf[llmsplit__utf8_cut(buf, cap - 1)] = 0;
}

/* Not NaN and not infinite, without <math.h> (and -lm) for isfinite. */
static int llmsplit__finite(double d) {
    return d == d && d <= DBL_MAX && d >= -DBL_MAX;
}

/* A metric name: 1..64 bytes of [A-Za-z0-9_.-], so it is a safe JSON key and file name part. */
static int llmsplit__metric_ok(const char *m) {
    size_t i;
    if (!m) return 0;
    for (i = 0; m[i]; i++)
        if (i >= 64 || !((m[i] >= 'a' && m[i] <= 'z') || (m[i] >= 'A' && m[i] <= 'Z') || (m[i] >= '0' && m[i] <= '9') ||
                         m[i] == '_' || m[i] == '.' || m[i] == '-'))
            return 0;
    return i > 0;
}

/* A double as an integer in [lo, hi]: the C conversion is undefined outside the target's range
   (a server's token count, a config's timeout), so values beyond it become the nearest end and
   NaN becomes lo. */
static int64_t llmsplit__clamp_to_int(double d, int64_t lo, int64_t hi) {
    if (!(d > (double)lo)) return lo;
    if (d >= (double)hi) return hi;
    return (int64_t)d;
}

static llmsplit_allocator llmsplit__allocator_or_default(const llmsplit_allocator *a) {
    llmsplit_allocator r;
    if (a) return *a;
    memset(&r, 0, sizeof r);
    return r;
}

#ifndef LLMSPLIT_NO_THREADS
typedef pthread_mutex_t llmsplit__mutex;
#define llmsplit__mutex_init(m) pthread_mutex_init((m), NULL)
#define llmsplit__mutex_destroy(m) pthread_mutex_destroy(m)
#define llmsplit__lock(m) pthread_mutex_lock(m)
#define llmsplit__unlock(m) pthread_mutex_unlock(m)
#else
typedef int llmsplit__mutex;
#define llmsplit__mutex_init(m) ((void)(m))
#define llmsplit__mutex_destroy(m) ((void)(m))
#define llmsplit__lock(m) ((void)(m))
#define llmsplit__unlock(m) ((void)(m))
#endif

/* Fills err (when there is one) with a category and a message. The position fields are for
   errors about a place in a text; whoever knows the place sets them after this. */
static void llmsplit__set_error(llmsplit_error *err, llmsplit_status code, const char *fmt, ...) {
    va_list ap;
    if (!err) return;
    err->code = code;
    err->line = err->col = 0;
    err->offset = 0;
    va_start(ap, fmt);
    llmsplit__utf8_fix_cut(err->message, sizeof err->message, vsnprintf(err->message, sizeof err->message, fmt, ap));
    va_end(ap);
}

/* Clears err (when there is one): no error. The fields are reset, not every byte of the
   message (a call clears its error several times on its way). */
static void llmsplit__clear_error(llmsplit_error *err) {
    if (err) memset(err, 0, offsetof(llmsplit_error, message) + 1); /* the fields, an empty message */
}

/* The public constructors hand their object back through an out pointer. These three keep that
   in one shape: an error record to fill (the caller's or a local one), the refusal of a missing
   out pointer, and the status that matches what came back. */
static llmsplit_error *llmsplit__err_or(llmsplit_error *err, llmsplit_error *local) {
    llmsplit_error *e = err ? err : local;
    e->code = LLMSPLIT_OK;
    e->message[0] = 0;
    return e;
}

static llmsplit_status llmsplit__no_out(llmsplit_error *err, const char *what) {
    llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "%s: nowhere to put the result (out is NULL)", what);
    return LLMSPLIT_ERR_USAGE;
}

static llmsplit_status llmsplit__made(const void *obj, const llmsplit_error *e) {
    if (obj) return LLMSPLIT_OK;
    return e->code != LLMSPLIT_OK ? e->code : LLMSPLIT_ERR_NOMEM;
}

static int64_t llmsplit__now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double llmsplit__now_msf(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Wall-clock time as records write it: "2026-11-21T10:00:00.123Z" (UTC, milliseconds). */
static void llmsplit__put2(char *o, int v) {
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

/* Now as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC), worked out from the clock by hand: gmtime_r takes
   the C library's time zone lock, and every record asks for the time. The date from the day
   number is the proleptic Gregorian calendar counted in 400-year eras of 146097 days, with
   years starting in March so that the leap day ends them. */
static void llmsplit__now_iso(char out[32]) {
    struct timespec ts;
    int64_t days, rem, z, era, doe, yoe, doy, mp, y;
    int m, d, ms;
    clock_gettime(CLOCK_REALTIME, &ts);
    days = (int64_t)ts.tv_sec / 86400;
    rem = (int64_t)ts.tv_sec % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    z = days + 719468; /* days since 0000-03-01 */
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = (int)(doy - (153 * mp + 2) / 5 + 1);
    m = (int)(mp < 10 ? mp + 3 : mp - 9);
    y = yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999) {
        out[0] = 0;
        return;
    }
    ms = (int)(ts.tv_nsec / 1000000);
    llmsplit__put2(out, (int)(y / 100));
    llmsplit__put2(out + 2, (int)(y % 100));
    out[4] = '-';
    llmsplit__put2(out + 5, m);
    out[7] = '-';
    llmsplit__put2(out + 8, d);
    out[10] = 'T';
    llmsplit__put2(out + 11, (int)(rem / 3600));
    out[13] = ':';
    llmsplit__put2(out + 14, (int)(rem / 60 % 60));
    out[16] = ':';
    llmsplit__put2(out + 17, (int)(rem % 60));
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    llmsplit__put2(out + 21, ms % 100);
    out[23] = 'Z';
    out[24] = 0;
}

static void llmsplit__log(const llmsplit_logger *lg, llmsplit_log_level level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    llmsplit__utf8_fix_cut(msg, sizeof msg, vsnprintf(msg, sizeof msg, fmt, ap));
    va_end(ap);
    if (lg && lg->func) lg->func(level, msg, lg->user_data);
    else if (level <= LLMSPLIT_LOG_WARN) fprintf(stderr, "llmsplit: %s: %s\n", level == LLMSPLIT_LOG_ERROR ? "error" : "warning", msg);
}


/* ==== 2. json =========================================================================== */

/* A value slot. tag: bits 0-2 type, the rest depends on it:
     string/key   tag>>3 = byte length, u.s = the NUL-terminated unescaped bytes
     array/object tag>>3 = child count (members for objects), u.span = slots of the subtree
                  (while the container is still open, u.span holds its parent's slot index)
     int/real     bits 3-15 = length of the number's source text (0 if longer than 8191),
                  bits 16-63 = distance in bytes from this slot to that text (strings come
                  after the values, so it is positive); u.i / u.d the value */
struct llmsplit_json_val {
    uint64_t tag;
    union {
        int64_t i;
        double d;
        const char *s;
        uint64_t span;
    } u;
};

enum {
    LLMSPLIT__T_NULL = 0, LLMSPLIT__T_FALSE, LLMSPLIT__T_TRUE, LLMSPLIT__T_INT,
    LLMSPLIT__T_REAL, LLMSPLIT__T_STR, LLMSPLIT__T_ARR, LLMSPLIT__T_OBJ
};
#define LLMSPLIT__TYPE(v) ((unsigned)((v)->tag & 7u))
#define LLMSPLIT__NUMTEXT_MAX 8191u

struct llmsplit_json_doc {
    llmsplit_allocator allocator;
    int owned;                 /* the block came from the allocator */
    llmsplit_json_val *vals;
    size_t nvals;
    char *strs;                /* string area */
    size_t strs_len;
};

LLMSPLIT_API size_t llmsplit_json_buffer_size(size_t len) {
    /* Every value takes at least two input bytes but one (its separator or brackets), so at
       most len/2 + 1 values; strings shrink when unescaped and each has two quotes to spare for
       its NUL, so the string area never exceeds len + 1 bytes. */
    size_t head = (sizeof(llmsplit_json_doc) + 15u) & ~(size_t)15u;
    size_t nvals = len / 2u + 2u;
    if (nvals > (SIZE_MAX - head - len - 16u) / sizeof(llmsplit_json_val)) return SIZE_MAX;
    return head + nvals * sizeof(llmsplit_json_val) + len + 16u;
}

/* --- number conversion ---------------------------------------------------------------- */

/* Top 128 bits of 5^q for q in [-342, 308] (truncated for q >= 0; for q < 0 those of
   2^b / 5^-q plus one, b as tools/gen/pow5.py picks it), as (high, low) pairs: the table the
   Eisel-Lemire algorithm needs. Computed once, at the first number conversion, rather than
   stored: 10 KB less in every program that links the parser. */
#define LLMSPLIT__POW5_MIN (-342)
#define LLMSPLIT__POW5_MAX 308
static uint64_t llmsplit__pow5_128[(LLMSPLIT__POW5_MAX - LLMSPLIT__POW5_MIN + 1) * 2];

static const double llmsplit__exact_pow10[23] = {
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static void llmsplit__mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
#if defined(__SIZEOF_INT128__)
    __extension__ typedef unsigned __int128 llmsplit__u128;
    llmsplit__u128 r = (llmsplit__u128)a * b;
    *hi = (uint64_t)(r >> 64);
    *lo = (uint64_t)r;
#else
    uint64_t a0 = a & 0xffffffffu, a1 = a >> 32, b0 = b & 0xffffffffu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (p01 & 0xffffffffu) + (p10 & 0xffffffffu);
    *lo = (mid << 32) | (p00 & 0xffffffffu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

static int llmsplit__clz64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clzll(x);
#else
    int n = 0;
    while (!(x & 0x8000000000000000u)) { x <<= 1; n++; }
    return n;
#endif
}

/* The top 128 bits of the n-limb number x (32-bit limbs, least significant first; x != 0),
   zero-filled when it has fewer. */
static void llmsplit__top128(const uint32_t *x, int n, uint64_t *out) {
    uint64_t w[3] = {0, 0, 0};
    int i, sh;
    while (!x[n - 1]) n--;
    for (i = 0; i < 6 && n - 1 - i >= 0; i++) w[i / 2] |= (uint64_t)x[n - 1 - i] << (i % 2 ? 0 : 32);
    sh = llmsplit__clz64(w[0]);
    out[0] = sh ? w[0] << sh | w[1] >> (64 - sh) : w[0];
    out[1] = sh ? w[1] << sh | w[2] >> (64 - sh) : w[1];
}

static void llmsplit__pow5_fill(void) {
    /* p = 5^k; x = floor(2^928 / 5^k), whose top bits are what the entries for -k need:
       floor(2^(z+127) / 5^k) for 5^k of z bits, plus one while 5^k < 2^64 (the +1 of the
       generator's wider quotients never reaches the top 128 bits beyond that) */
    uint32_t p[26], x[30];
    int k, i, top = 29, ptop = 0;
    memset(p, 0, sizeof p);
    memset(x, 0, sizeof x);
    p[0] = 1;
    x[29] = 1;
    for (k = 0; k <= -LLMSPLIT__POW5_MIN; k++) {
        if (k) {
            uint64_t c = 0;
            int z, off;
            uint64_t *e = &llmsplit__pow5_128[(-k - LLMSPLIT__POW5_MIN) * 2];
            for (i = 0; i <= ptop; i++, c >>= 32) p[i] = (uint32_t)(c += (uint64_t)p[i] * 5);
            if (c) p[++ptop] = (uint32_t)c;
            for (c = 0, i = top; i >= 0; i--) {
                uint64_t q = (c << 32 | x[i]) / 5;
                c = (c << 32 | x[i]) - q * 5;
                x[i] = (uint32_t)q;
            }
            while (!x[top]) top--;
            z = ptop * 32 + 64 - llmsplit__clz64(p[ptop]);
            off = 928 - z - 127;
            llmsplit__top128(x + off / 32, top + 1 - off / 32, e);
            if (k <= 27 && ++e[1] == 0) e[0]++;
        }
        if (k <= LLMSPLIT__POW5_MAX) llmsplit__top128(p, ptop + 1, &llmsplit__pow5_128[(k - LLMSPLIT__POW5_MIN) * 2]);
    }
}

/* The table is made once, whichever thread comes first, by the exact slow path: until then
   Eisel-Lemire says it cannot decide and the slow path converts (the first hard number of a
   process pays about 40 us), so the hot path stays a leaf that only checks the flag, and a
   process whose numbers never need the table (integers, decimals Clinger's exact path takes
   such as 0.5 or 1.5e-7) never makes it. */
static int llmsplit__pow5_done;
#ifndef LLMSPLIT_NO_THREADS
static pthread_once_t llmsplit__pow5_once = PTHREAD_ONCE_INIT;
static void llmsplit__pow5_make(void) {
    llmsplit__pow5_fill();
    __atomic_store_n(&llmsplit__pow5_done, 1, __ATOMIC_RELEASE);
}
static int llmsplit__pow5_made(void) { return __atomic_load_n(&llmsplit__pow5_done, __ATOMIC_ACQUIRE); }
static void llmsplit__pow5_ready(void) { pthread_once(&llmsplit__pow5_once, llmsplit__pow5_make); }
#else
static int llmsplit__pow5_made(void) { return llmsplit__pow5_done; }
static void llmsplit__pow5_ready(void) {
    if (!llmsplit__pow5_done) llmsplit__pow5_fill();
    llmsplit__pow5_done = 1;
}
#endif

static double llmsplit__bits_to_double(uint64_t bits) {
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

/* Eisel-Lemire: man * 10^e10 correctly rounded, for man != 0. Returns 0 when the 128-bit
   product cannot decide the rounding (or the result is subnormal or out of range); the caller
   then takes the exact slow path. */
static int llmsplit__eisel_lemire(uint64_t man, int e10, int neg, double *out) {
    const uint64_t *p;
    uint64_t xhi, xlo, yhi, ylo, mant, bits;
    uint64_t exp2;
    int clz, msb;
    if (e10 < LLMSPLIT__POW5_MIN || e10 > LLMSPLIT__POW5_MAX || !llmsplit__pow5_made()) return 0;
    p = &llmsplit__pow5_128[(e10 - LLMSPLIT__POW5_MIN) * 2];
    clz = llmsplit__clz64(man);
    man <<= clz;
    /* 217706/65536 ~ log2(10): the binary exponent of 10^e10, plus the bias. */
    exp2 = (uint64_t)(((217706 * e10) >> 16) + 64 + 1023) - (uint64_t)clz;
    llmsplit__mul64(man, p[0], &xhi, &xlo);
    if ((xhi & 0x1ff) == 0x1ff && xlo + man < man) {
        uint64_t mhi, mlo;
        llmsplit__mul64(man, p[1], &yhi, &ylo);
        mhi = xhi;
        mlo = xlo + yhi;
        if (mlo < xlo) mhi++;
        if ((mhi & 0x1ff) == 0x1ff && mlo + 1 == 0 && ylo + man < man) return 0;
        xhi = mhi;
        xlo = mlo;
    }
    msb = (int)(xhi >> 63);
    mant = xhi >> (msb + 9);
    exp2 -= (uint64_t)(1 ^ msb);
    if (xlo == 0 && (xhi & 0x1ff) == 0 && (mant & 3) == 1) return 0; /* exactly halfway */
    mant += mant & 1;
    mant >>= 1;
    if (mant >> 53) { mant >>= 1; exp2++; }
    if (exp2 - 1 >= 0x7ff - 1) return 0;
    bits = (exp2 << 52) | (mant & 0x000fffffffffffffu);
    if (neg) bits |= 0x8000000000000000u;
    *out = llmsplit__bits_to_double(bits);
    return 1;
}

/* The exact slow path: a big decimal scaled by powers of two until the binary mantissa can be
   read off with correct rounding (the "simple decimal conversion" method). Only reached for
   inputs the fast paths cannot decide: ties, subnormals, huge exponents, > 19 digits. */
#define LLMSPLIT__DEC_DIGITS 800
typedef struct llmsplit__decimal {
    int nd;        /* digits used */
    int dp;        /* decimal point position: value = 0.d[0..nd) * 10^dp */
    int trunc;     /* nonzero digits were dropped beyond capacity */
    unsigned char d[LLMSPLIT__DEC_DIGITS];
} llmsplit__decimal;

static void llmsplit__dec_trim(llmsplit__decimal *a) {
    while (a->nd > 0 && a->d[a->nd - 1] == 0) a->nd--;
    if (a->nd == 0) a->dp = 0;
}

/* a /= 2^k, k <= 60 */
static void llmsplit__dec_rshift(llmsplit__decimal *a, unsigned k) {
    int r = 0, w = 0;
    uint64_t n = 0, mask = ((uint64_t)1 << k) - 1;
    for (; (n >> k) == 0; r++) {
        if (r >= a->nd) {
            if (n == 0) { a->nd = 0; return; }
            while ((n >> k) == 0) { n *= 10; r++; }
            break;
        }
        n = n * 10 + a->d[r];
    }
    a->dp -= r - 1;
    for (; r < a->nd; r++) {
        uint64_t c = a->d[r];
        a->d[w++] = (unsigned char)(n >> k);
        n = (n & mask) * 10 + c;
    }
    while (n > 0) {
        unsigned char dig = (unsigned char)(n >> k);
        n = (n & mask) * 10;
        if (w < LLMSPLIT__DEC_DIGITS) a->d[w++] = dig;
        else if (dig > 0) a->trunc = 1;
    }
    a->nd = w;
    llmsplit__dec_trim(a);
}

/* a *= 2^k, k <= 60 */
static void llmsplit__dec_lshift(llmsplit__decimal *a, unsigned k) {
    /* Work right to left into a scratch copy; at most 19 new leading digits appear. */
    unsigned char tmp[LLMSPLIT__DEC_DIGITS + 20];
    int r = a->nd - 1, w = a->nd + 19, start, len;
    uint64_t n = 0;
    for (; r >= 0; r--) {
        uint64_t q;
        n += (uint64_t)a->d[r] << k;
        q = n / 10;
        tmp[w--] = (unsigned char)(n - q * 10);
        n = q;
    }
    while (n > 0) {
        uint64_t q = n / 10;
        tmp[w--] = (unsigned char)(n - q * 10);
        n = q;
    }
    start = w + 1;
    len = a->nd + 20 - start;
    a->dp += len - a->nd;
    if (len > LLMSPLIT__DEC_DIGITS) {
        int i;
        for (i = start + LLMSPLIT__DEC_DIGITS; i < start + len; i++)
            if (tmp[i]) a->trunc = 1;
        len = LLMSPLIT__DEC_DIGITS;
    }
    memcpy(a->d, tmp + start, (size_t)len);
    a->nd = len;
    llmsplit__dec_trim(a);
}

static int llmsplit__dec_round_up(const llmsplit__decimal *a, int nd) {
    if (nd < 0 || nd >= a->nd) return 0;
    if (a->d[nd] == 5 && nd + 1 == a->nd) {
        if (a->trunc) return 1;
        return nd > 0 && (a->d[nd - 1] & 1);
    }
    return a->d[nd] >= 5;
}

/* Integer part of a, rounded half to even; a must be < 2^64. */
static uint64_t llmsplit__dec_rounded_int(const llmsplit__decimal *a) {
    int i;
    uint64_t n = 0;
    if (a->dp > 20) return UINT64_MAX;
    for (i = 0; i < a->dp && i < a->nd; i++) n = n * 10 + a->d[i];
    for (; i < a->dp; i++) n *= 10;
    if (llmsplit__dec_round_up(a, a->dp)) n++;
    return n;
}

/* Converts a validated JSON number's text. Returns 0 when the magnitude overflows a double. */
static int llmsplit__slow_strtod(const char *s, const char *end, double *out) {
    static const unsigned char powtab[9] = {1, 3, 6, 9, 13, 16, 19, 23, 26};
    llmsplit__decimal local;
    llmsplit__decimal *a = &local;
    int neg = 0, exp = 0, e10 = 0, eneg = 0, seen_point = 0;
    uint64_t mant, bits;
    llmsplit__pow5_ready();       /* the fast path's table, for the numbers after this one */
    a->nd = 0; a->dp = 0; a->trunc = 0;
    if (*s == '-') { neg = 1; s++; }
    for (; s < end; s++) {
        char c = *s;
        if (c == '.') { seen_point = 1; continue; }
        if (c == 'e' || c == 'E') break;
        if (c == '0' && a->nd == 0) { if (seen_point) a->dp--; continue; }
        if (a->nd < LLMSPLIT__DEC_DIGITS) a->d[a->nd++] = (unsigned char)(c - '0');
        else if (c != '0') a->trunc = 1;
        if (!seen_point) a->dp++;
    }
    if (s < end) {
        s++;
        if (*s == '+' || *s == '-') { eneg = *s == '-'; s++; }
        for (; s < end; s++) if (e10 < 100000) e10 = e10 * 10 + (*s - '0');
        a->dp += eneg ? -e10 : e10;
    }
    llmsplit__dec_trim(a);
    if (a->nd == 0 || a->dp < -330) { mant = 0; exp = -1023; goto done; }
    if (a->dp > 310) return 0;
    while (a->dp > 0) {
        unsigned n = a->dp >= 9 ? 27u : powtab[a->dp];
        llmsplit__dec_rshift(a, n);
        exp += (int)n;
    }
    while (a->dp < 0 || (a->dp == 0 && a->d[0] < 5)) {
        unsigned n = -a->dp >= 9 ? 27u : powtab[-a->dp];
        llmsplit__dec_lshift(a, n);
        exp -= (int)n;
    }
    /* now 0.5 <= a < 1: value = a * 2^exp; make it [1,2) */
    exp--;
    if (exp < -1022) {
        int n = -1022 - exp;
        while (n > 0) { int k = n > 60 ? 60 : n; llmsplit__dec_rshift(a, (unsigned)k); n -= k; }
        exp = -1022;
    }
    if (exp + 1023 >= 0x7ff) return 0;
    llmsplit__dec_lshift(a, 53);
    mant = llmsplit__dec_rounded_int(a);
    if (mant == ((uint64_t)2 << 52)) {
        mant >>= 1;
        exp++;
        if (exp + 1023 >= 0x7ff) return 0;
    }
    if (!(mant & ((uint64_t)1 << 52))) exp = -1023; /* subnormal */
done:
    bits = (mant & 0x000fffffffffffffu) | ((uint64_t)((exp + 1023) & 0x7ff) << 52);
    if (neg) bits |= 0x8000000000000000u;
    *out = llmsplit__bits_to_double(bits);
    return 1;
}

/* --- the parser ------------------------------------------------------------------------ */

/* Byte classes for the string scanner: 1 = needs a closer look ('"', '\\', controls, non-ASCII). */
static const unsigned char llmsplit__str_special[256] = {
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
    0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
    1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1};

typedef struct llmsplit__parser {
    const unsigned char *p, *end, *start;
    llmsplit_json_val *vals, *vals_end;
    char *strs, *s, *strs_end;
    const char *msg;
    int lone_surrogates_ok;       /* LLMSPLIT_JSON_LONE_SURROGATES */
} llmsplit__parser;

static int llmsplit__hex4(const unsigned char *p, unsigned *out) {
    unsigned v = 0;
    int i;
    for (i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static char *llmsplit__put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { *o++ = (char)cp; }
    else if (cp < 0x800) { *o++ = (char)(0xc0 | (cp >> 6)); *o++ = (char)(0x80 | (cp & 0x3f)); }
    else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | (cp >> 12)); *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | (cp >> 18)); *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3f)); *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Length of the valid UTF-8 sequence starting at p (lead byte >= 0x80), or 0 if invalid:
   no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t llmsplit__utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c >= 0xc2 && c <= 0xdf) return (avail >= 2 && (p[1] & 0xc0) == 0x80) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        unsigned lo = 0x80, hi = 0xbf;
        if (avail < 3) return 0;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
        if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80) return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        unsigned lo = 0x80, hi = 0xbf;
        if (avail < 4) return 0;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
        if (p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) return 0;
        return 4;
    }
    return 0;
}

static int llmsplit__str_fail(llmsplit__parser *ps, const unsigned char *at, const char *msg) {
    ps->p = at;
    ps->msg = msg;
    return 0;
}

#if (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight bytes at a time: a mask with bit 7 set in each byte that is '"', '\\', a control
   character or non-ASCII. Borrows only run upward from a flagged byte, so the lowest set bit
   always marks the first special byte. */
#define LLMSPLIT__SWAR 1
#ifdef __SSE2__
#include <emmintrin.h>
#endif
static LLMSPLIT__INLINE uint64_t llmsplit__swar_special(uint64_t x) {
    const uint64_t ones = 0x0101010101010101u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) &
           0x8080808080808080u;
}
/* The same without flagging non-ASCII bytes: for text already known to be valid UTF-8. */
static LLMSPLIT__INLINE uint64_t llmsplit__swar_escape(uint64_t x) {
    const uint64_t ones = 0x0101010101010101u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x)) & 0x8080808080808080u;
}

/* Copies 16 bytes at a time (SSE2), then 8, from p to o while none needs a closer look, and
   returns how many plain bytes it found. A store is made only while as many input bytes remain,
   and may run up to 15 bytes past the plain ones: callers have room for all the input. */
static LLMSPLIT__INLINE size_t llmsplit__copy_plain(const unsigned char *p, const unsigned char *end, char *o, int valid_utf8) {
    const unsigned char *s = p;
#if defined(__SSE2__) && !LLMSPLIT__SMALL /* (-Os: eight bytes at a time only) */
    {
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        const __m128i below = _mm_set1_epi8(0x20), c1f = _mm_set1_epi8(0x1f);
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p), m;
            unsigned bits;
            _mm_storeu_si128((__m128i *)(void *)o, x);
            m = _mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash));
            /* a control character; as signed bytes, non-ASCII ones are below 0x20 too */
            m = _mm_or_si128(m, valid_utf8 ? _mm_cmpeq_epi8(_mm_min_epu8(x, c1f), x) : _mm_cmplt_epi8(x, below));
            bits = (unsigned)_mm_movemask_epi8(m);
            if (bits) return (size_t)(p - s) + (size_t)__builtin_ctz(bits);
            p += 16;
            o += 16;
        }
    }
#endif
    while (end - p >= 8) {
        uint64_t x, m;
        memcpy(&x, p, 8);
        memcpy(o, &x, 8);
        m = valid_utf8 ? llmsplit__swar_escape(x) : llmsplit__swar_special(x);
        if (m) return (size_t)(p - s) + (size_t)(__builtin_ctzll(m) >> 3);
        p += 8;
        o += 8;
    }
    return (size_t)(p - s);
}
#endif

/* Copies the bytes from p that need no closer look (up to a quote, a backslash, a control
   character, a non-ASCII byte or end) to o; returns how many. */
static LLMSPLIT__INLINE size_t llmsplit__plain_run(const unsigned char *p, const unsigned char *end, char *o) {
    size_t n = 0;
#ifdef LLMSPLIT__SWAR
    n = llmsplit__copy_plain(p, end, o, 0);
#endif
    while (p + n < end && !llmsplit__str_special[p[n]]) { o[n] = (char)p[n]; n++; }
    return n;
}

/* The string read (its closing quote at p, its text ending at o) becomes v. */
static int llmsplit__string_end(llmsplit__parser *ps, llmsplit_json_val *v, const unsigned char *p, char *o, char *begin) {
    *o = 0;
    v->tag = ((uint64_t)(o - begin) << 3) | LLMSPLIT__T_STR;
    v->u.s = begin;
    ps->s = o + 1;
    ps->p = p + 1;
    return 1;
}

/* The rest of a string from p (output at o) once an escape, a control character or a non-ASCII
   byte turned up. */
static LLMSPLIT__NOINLINE int llmsplit__parse_string_rest(llmsplit__parser *ps, llmsplit_json_val *v,
                                                          const unsigned char *p, char *o, char *begin) {
    const unsigned char *end = ps->end;
    for (;;) {
        {
            size_t n = llmsplit__plain_run(p, end, o);
            p += n;
            o += n;
        }
        if (LLMSPLIT__UNLIKELY(p >= end)) return llmsplit__str_fail(ps, p, "unterminated string");
        if (*p == '"') break;
        if (*p == '\\') {
            unsigned cp;
            if (end - p < 2) return llmsplit__str_fail(ps, p, "unterminated string");
            switch (p[1]) {
            case '"': *o++ = '"'; p += 2; continue;
            case '\\': *o++ = '\\'; p += 2; continue;
            case '/': *o++ = '/'; p += 2; continue;
            case 'b': *o++ = '\b'; p += 2; continue;
            case 'f': *o++ = '\f'; p += 2; continue;
            case 'n': *o++ = '\n'; p += 2; continue;
            case 'r': *o++ = '\r'; p += 2; continue;
            case 't': *o++ = '\t'; p += 2; continue;
            case 'u': break;
            default: return llmsplit__str_fail(ps, p, "invalid escape sequence");
            }
            if (end - p < 6 || !llmsplit__hex4(p + 2, &cp))
                return llmsplit__str_fail(ps, p, "invalid \\u escape (needs 4 hex digits)");
            if (cp >= 0xd800 && cp <= 0xdbff) {
                unsigned lo;
                if (end - p >= 12 && p[6] == '\\' && p[7] == 'u' && llmsplit__hex4(p + 8, &lo) &&
                    lo >= 0xdc00 && lo <= 0xdfff) {
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 12;
                } else if (ps->lone_surrogates_ok) {
                    p += 6;
                } else {
                    return llmsplit__str_fail(ps, p, "lone surrogate in \\u escape");
                }
            } else if (cp >= 0xdc00 && cp <= 0xdfff && !ps->lone_surrogates_ok) {
                return llmsplit__str_fail(ps, p, "lone surrogate in \\u escape");
            } else {
                p += 6;
            }
            o = llmsplit__put_utf8(o, cp);
            continue;
        }
        if (*p < 0x20) return llmsplit__str_fail(ps, p, "control character in string (must be escaped)");
        if (*p >= 0xe1 && *p <= 0xec && end - p >= 3 && (p[1] & 0xc0) == 0x80 && (p[2] & 0xc0) == 0x80) {
            /* the common 3-byte case (most CJK) with no special ranges to check */
            o[0] = (char)p[0]; o[1] = (char)p[1]; o[2] = (char)p[2];
            o += 3;
            p += 3;
            continue;
        }
        {
            size_t n = llmsplit__utf8_seq(p, end);
            if (!n) return llmsplit__str_fail(ps, p, "invalid UTF-8 in string");
            memcpy(o, p, n);
            o += n;
            p += n;
        }
    }
    return llmsplit__string_end(ps, v, p, o, begin);
}

/* Parses the string whose opening quote is at ps->p into v (type string): the common one, plain
   ASCII up to its closing quote, inline; the rest out of line. The string area always has room
   for every input byte not yet read plus one (checked before each value), and output never runs
   ahead of input, so the wide stores of llmsplit__copy_plain stay inside it. */
static LLMSPLIT__INLINE int llmsplit__parse_string(llmsplit__parser *ps, llmsplit_json_val *v) {
    const unsigned char *p = ps->p + 1, *end = ps->end;
    size_t n = llmsplit__plain_run(p, end, ps->s);
    p += n;
    if (LLMSPLIT__LIKELY(p < end && *p == '"')) return llmsplit__string_end(ps, v, p, ps->s + n, ps->s);
    return llmsplit__parse_string_rest(ps, v, p, ps->s + n, ps->s);
}

static int llmsplit__is_digit(unsigned c) { return c - '0' < 10u; }

/* man * 10^e10 (man != 0, at most 19 digits; trunc: digits after those were dropped, some
   nonzero). Fast paths first; 0 when only the exact slow path can decide. */
static int llmsplit__decimal_to_double(uint64_t man, int e10, int neg, int trunc, double *d) {
    double d2;
    if (trunc)
        return llmsplit__eisel_lemire(man, e10, neg, d) &&
               llmsplit__eisel_lemire(man + 1, e10, neg, &d2) && *d == d2;
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
    /* Clinger: both operands exact, one IEEE operation rounds correctly */
    if (e10 >= -22 && e10 <= 22 && man <= ((uint64_t)1 << 53)) {
        d2 = (double)man;
        d2 = e10 < 0 ? d2 / llmsplit__exact_pow10[-e10] : d2 * llmsplit__exact_pow10[e10];
        *d = neg ? -d2 : d2;
        return 1;
    }
#endif
    return llmsplit__eisel_lemire(man, e10, neg, d);
}

static int llmsplit__parse_number(llmsplit__parser *ps, llmsplit_json_val *v) {
    const unsigned char *p = ps->p, *end = ps->end, *start = ps->p;
    uint64_t man = 0;
    int neg = 0, sig = 0, dropped = 0, e10 = 0, is_int = 1, trunc = 0;
    size_t len;
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (p < end && *p == '0') {
        p++;
        if (p < end && llmsplit__is_digit(*p)) return llmsplit__str_fail(ps, p, "leading zero in number");
    } else if (p < end && llmsplit__is_digit(*p)) {
        for (; p < end && llmsplit__is_digit(*p); p++) {
            if (sig < 19) { man = man * 10 + (unsigned)(*p - '0'); sig++; }
            else { dropped++; if (*p != '0') trunc = 1; }
        }
    } else {
        return llmsplit__str_fail(ps, p, "expected digit in number");
    }
    if (p < end && *p == '.') {
        p++;
        is_int = 0;
        if (p >= end || !llmsplit__is_digit(*p)) return llmsplit__str_fail(ps, p, "expected digit after '.'");
        for (; p < end && llmsplit__is_digit(*p); p++) {
            if (sig < 19) {
                man = man * 10 + (unsigned)(*p - '0');
                if (man) sig++;
                e10--;
            } else if (*p != '0') trunc = 1;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0, ev = 0;
        p++;
        is_int = 0;
        if (p < end && (*p == '+' || *p == '-')) { eneg = *p == '-'; p++; }
        if (p >= end || !llmsplit__is_digit(*p)) return llmsplit__str_fail(ps, p, "expected digit in exponent");
        for (; p < end && llmsplit__is_digit(*p); p++)
            if (ev < 1000000) ev = ev * 10 + (*p - '0');
        e10 += eneg ? -ev : ev;
    }
    e10 += dropped;
    len = (size_t)(p - start);
    if (is_int && !dropped && (man <= (uint64_t)INT64_MAX || (neg && man == (uint64_t)INT64_MAX + 1))) {
        v->u.i = neg ? (int64_t)(0 - man) : (int64_t)man;
        v->tag = LLMSPLIT__T_INT;
    } else {
        double d = neg ? -0.0 : 0.0;
        if (man != 0 && !llmsplit__decimal_to_double(man, e10, neg, trunc, &d) &&
            !llmsplit__slow_strtod((const char *)start, (const char *)p, &d))
            return llmsplit__str_fail(ps, start, "number out of range");
        v->u.d = d;
        v->tag = LLMSPLIT__T_REAL;
    }
    /* keep the source text so writers can reproduce it exactly */
    if (len <= 16 && end - start >= 16 && ps->strs_end - ps->s >= 16) {
        memcpy(ps->s, start, 8); /* fixed sizes: plain moves, no call */
        if (len > 8) memcpy(ps->s + 8, start + 8, 8);
    } else {
        memcpy(ps->s, start, len);
    }
    if (len <= LLMSPLIT__NUMTEXT_MAX)
        v->tag |= ((uint64_t)len << 3) | ((uint64_t)(ps->s - (char *)v) << 16);
    ps->s += len;
    ps->p = p;
    return 1;
}

static int llmsplit__literal(llmsplit__parser *ps, const char *word, size_t n) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return llmsplit__str_fail(ps, ps->p, "invalid literal (expected true, false or null)");
    ps->p += n;
    return 1;
}

static LLMSPLIT__INLINE void llmsplit__skip_ws(llmsplit__parser *ps) {
    const unsigned char *p = ps->p, *end = ps->end;
    if (p < end && *p > ' ') return; /* compact text: nothing to skip */
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    ps->p = p;
}

static void llmsplit__fill_error(llmsplit_error *err, llmsplit_status code, const unsigned char *start,
                                 const unsigned char *at, const char *msg) {
    const unsigned char *q;
    int line = 1, col = 1;
    if (!err) return;
    for (q = start; q < at; q++) {
        if (*q == '\n') { line++; col = 1; }
        else if ((*q & 0xc0) != 0x80) col++;
    }
    err->code = code;
    err->offset = (size_t)(at - start);
    err->line = line;
    err->col = col;
    llmsplit__copy(err->message, sizeof err->message, msg);
}

static llmsplit_json_doc *llmsplit__json_parse(const char *text, size_t len, const llmsplit_json_desc *desc,
                                              llmsplit_error *err) {
    llmsplit__parser ps;
    llmsplit_json_doc *doc;
    llmsplit_json_val *v, *cont = NULL;
    size_t need = llmsplit_json_buffer_size(len), head, depth = 0, max_depth;
    size_t slots = len / 2u + 2u; /* enough for any valid document */
    int widened = 0;
    void *block;
    int owned = 0;
    llmsplit_status code = LLMSPLIT_ERR_JSON;
    llmsplit_allocator alloc = llmsplit__allocator_or_default(desc ? &desc->allocator : NULL);

    llmsplit__clear_error(err);
    if (!text && len) {
        llmsplit__fill_error(err, LLMSPLIT_ERR_USAGE, NULL, NULL, "NULL text");
        return NULL;
    }
    if (!text) text = "";
    max_depth = (desc && desc->max_depth > 0) ? (size_t)desc->max_depth : LLMSPLIT_JSON_MAX_DEPTH;
    head = (sizeof(llmsplit_json_doc) + 15u) & ~(size_t)15u;
    if (desc && desc->buffer) {
        block = desc->buffer;
        need = desc->buffer_size;
        if (((uintptr_t)block & 7u) != 0 || need < head + 2 * sizeof(llmsplit_json_val) + 16) {
            llmsplit__fill_error(err, LLMSPLIT_ERR_NOMEM, NULL, NULL, "caller buffer too small or misaligned");
            return NULL;
        }
    } else {
    again:
        if (need == SIZE_MAX || !(block = llmsplit__alloc(&alloc, need))) {
            llmsplit__fill_error(err, LLMSPLIT_ERR_NOMEM, NULL, NULL, "out of memory");
            return NULL;
        }
        owned = 1;
        cont = NULL;
        depth = 0;
    }
    doc = (llmsplit_json_doc *)block;
    doc->allocator = alloc;
    doc->owned = owned;
    {
        /* values from the front of the block, strings after them; a caller buffer smaller than
           the bound is split in proportion and checked as the parse goes */
        size_t avail = need - head, nvals = slots, strs_cap = len + 16u;
        if (nvals * sizeof(llmsplit_json_val) + strs_cap > avail) {
            nvals = avail / 2 / sizeof(llmsplit_json_val);
            if (nvals * sizeof(llmsplit_json_val) < avail - strs_cap && avail > strs_cap)
                nvals = (avail - strs_cap) / sizeof(llmsplit_json_val);
        }
        ps.vals = (llmsplit_json_val *)(void *)((char *)block + head);
        ps.vals_end = ps.vals + nvals;
        ps.strs = (char *)(ps.vals_end);
        ps.strs_end = (char *)block + need;
    }
    ps.s = ps.strs;
    ps.start = ps.p = (const unsigned char *)text;
    ps.end = ps.p + len;
    ps.msg = NULL;
    ps.lone_surrogates_ok = desc && (desc->flags & LLMSPLIT_JSON_LONE_SURROGATES);
    v = ps.vals;

    /* The parse is a loop over "a value starts here" and "a value just ended", with the open
       containers chained through their own slots: no recursion and no side stack. */
    for (;;) {
        unsigned c;
        llmsplit__skip_ws(&ps);
        if (ps.p >= ps.end) { ps.msg = len ? "unexpected end of input" : "empty input"; goto fail; }
        if (LLMSPLIT__UNLIKELY(v >= ps.vals_end ||
                               (size_t)(ps.strs_end - ps.s) < (size_t)(ps.end - ps.p) + 1))
            goto out_of_slots;
        c = *ps.p;
        switch (c) {
        case '{':
        case '[':
            if (++depth > max_depth) { ps.msg = "nesting too deep"; goto fail; }
            v->tag = c == '{' ? LLMSPLIT__T_OBJ : LLMSPLIT__T_ARR;
            v->u.span = cont ? (uint64_t)(cont - ps.vals) : UINT64_MAX;
            cont = v++;
            ps.p++;
            llmsplit__skip_ws(&ps);
            if (ps.p < ps.end && *ps.p == (c == '{' ? '}' : ']')) {
                ps.p++;
                goto close_container;
            }
            if (c == '{') goto object_key;
            continue;
        case '"':
            if (!llmsplit__parse_string(&ps, v)) goto fail;
            break;
        case 't':
            if (!llmsplit__literal(&ps, "true", 4)) goto fail;
            v->tag = LLMSPLIT__T_TRUE; v->u.i = 0;
            break;
        case 'f':
            if (!llmsplit__literal(&ps, "false", 5)) goto fail;
            v->tag = LLMSPLIT__T_FALSE; v->u.i = 0;
            break;
        case 'n':
            if (!llmsplit__literal(&ps, "null", 4)) goto fail;
            v->tag = LLMSPLIT__T_NULL; v->u.i = 0;
            break;
        default:
            if (c == '-' || llmsplit__is_digit(c)) {
                if (!llmsplit__parse_number(&ps, v)) goto fail;
                break;
            }
            ps.msg = "unexpected character";
            goto fail;
        }
        v++;

    value_done:
        /* a value ended: count it in its container and see what follows */
        if (!cont) break;
        cont->tag += 8;
        llmsplit__skip_ws(&ps);
        if (ps.p >= ps.end) { ps.msg = "unexpected end of input"; goto fail; }
        if (*ps.p == ',') {
            ps.p++;
            if (LLMSPLIT__TYPE(cont) == LLMSPLIT__T_OBJ) goto object_key;
            continue;
        }
        if (*ps.p == (LLMSPLIT__TYPE(cont) == LLMSPLIT__T_OBJ ? '}' : ']')) {
            ps.p++;
            goto close_container;
        }
        ps.msg = LLMSPLIT__TYPE(cont) == LLMSPLIT__T_OBJ ? "expected ',' or '}'" : "expected ',' or ']'";
        goto fail;

    close_container: {
            uint64_t parent = cont->u.span;
            cont->u.span = (uint64_t)(v - cont);
            cont = parent == UINT64_MAX ? NULL : ps.vals + parent;
            depth--;
            goto value_done;
        }

    object_key:
        llmsplit__skip_ws(&ps);
        if (ps.p >= ps.end) { ps.msg = "unexpected end of input"; goto fail; }
        if (*ps.p != '"') { ps.msg = "expected string key"; goto fail; }
        if (LLMSPLIT__UNLIKELY(v + 1 >= ps.vals_end ||
                               (size_t)(ps.strs_end - ps.s) < (size_t)(ps.end - ps.p) + 1))
            goto out_of_slots;
        if (!llmsplit__parse_string(&ps, v)) goto fail;
        v++;
        llmsplit__skip_ws(&ps);
        if (ps.p >= ps.end || *ps.p != ':') { ps.msg = "expected ':' after key"; goto fail; }
        ps.p++;
    }
    llmsplit__skip_ws(&ps);
    if (ps.p != ps.end) { ps.msg = "unexpected text after the JSON value"; goto fail; }
    doc->vals = ps.vals;
    doc->nvals = (size_t)(v - ps.vals);
    doc->strs = ps.strs;
    doc->strs_len = (size_t)(ps.s - ps.strs);
    return doc;

out_of_slots:
    if (owned && !widened && slots < len + 2u && len + 2u <= (SIZE_MAX - head - len - 16u) / sizeof(llmsplit_json_val)) {
        /* Only invalid input (unclosed brackets: one slot per byte) outgrows the valid-JSON
           bound. Parse again with a slot per byte so the real syntax error is reported. */
        llmsplit__free(&alloc, block);
        widened = 1;
        slots = len + 2u;
        need = head + slots * sizeof(llmsplit_json_val) + len + 16u;
        goto again;
    }
    ps.msg = "caller buffer too small";
    code = LLMSPLIT_ERR_NOMEM;
fail:
    llmsplit__fill_error(err, code, ps.start, ps.p, ps.msg);
    if (owned) llmsplit__free(&alloc, block);
    return NULL;
}

LLMSPLIT_API llmsplit_status llmsplit_json_parse(const char *text, size_t len, const llmsplit_json_desc *desc,
                                                 llmsplit_json_doc **doc, llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    if (!doc) return llmsplit__no_out(err, "json");
    *doc = llmsplit__json_parse(text, len, desc, e);
    return llmsplit__made(*doc, e);
}

/* Parses with the given allocator: the layers below use it so every byte comes from the desc. */
static llmsplit_json_doc *llmsplit__parse(const llmsplit_allocator *a, const char *text, size_t len, llmsplit_error *err) {
    llmsplit_json_desc d;
    memset(&d, 0, sizeof d);
    if (a) d.allocator = *a;
    return llmsplit__json_parse(text, len, &d, err);
}

LLMSPLIT_API void llmsplit_json_free(llmsplit_json_doc *doc) {
    if (doc && doc->owned) {
        llmsplit_allocator a = doc->allocator;
        llmsplit__free(&a, doc);
    }
}

LLMSPLIT_API size_t llmsplit_json_doc_used(const llmsplit_json_doc *doc) {
    if (!doc) return 0;
    return sizeof *doc + doc->nvals * sizeof(llmsplit_json_val) + doc->strs_len;
}

LLMSPLIT_API const llmsplit_json_val *llmsplit_json_root(const llmsplit_json_doc *doc) {
    return doc ? doc->vals : NULL;
}

/* --- readers ------------------------------------------------------------------------- */

static size_t llmsplit__span(const llmsplit_json_val *v) {
    unsigned t = LLMSPLIT__TYPE(v);
    return (t == LLMSPLIT__T_ARR || t == LLMSPLIT__T_OBJ) ? (size_t)v->u.span : 1u;
}

LLMSPLIT_API llmsplit_json_type llmsplit_json_type_of(const llmsplit_json_val *v) {
    static const llmsplit_json_type map[8] = {
        LLMSPLIT_JSON_NULL, LLMSPLIT_JSON_BOOL, LLMSPLIT_JSON_BOOL, LLMSPLIT_JSON_NUMBER,
        LLMSPLIT_JSON_NUMBER, LLMSPLIT_JSON_STRING, LLMSPLIT_JSON_ARRAY, LLMSPLIT_JSON_OBJECT};
    return v ? map[LLMSPLIT__TYPE(v)] : LLMSPLIT_JSON_NONE;
}

LLMSPLIT_API int llmsplit_json_is_true(const llmsplit_json_val *v) {
    return v && LLMSPLIT__TYPE(v) == LLMSPLIT__T_TRUE;
}

LLMSPLIT_API int llmsplit_json_is_int(const llmsplit_json_val *v) {
    return v && LLMSPLIT__TYPE(v) == LLMSPLIT__T_INT;
}

LLMSPLIT_API int64_t llmsplit_json_int(const llmsplit_json_val *v) {
    if (!v) return 0;
    if (LLMSPLIT__TYPE(v) == LLMSPLIT__T_INT) return v->u.i;
    if (LLMSPLIT__TYPE(v) == LLMSPLIT__T_REAL) {
        double d = v->u.d;
        if (d >= 9223372036854775807.0) return INT64_MAX;
        if (d <= -9223372036854775808.0) return INT64_MIN;
        return (int64_t)d;
    }
    return 0;
}

LLMSPLIT_API double llmsplit_json_double(const llmsplit_json_val *v) {
    if (!v) return 0.0;
    if (LLMSPLIT__TYPE(v) == LLMSPLIT__T_REAL) return v->u.d;
    if (LLMSPLIT__TYPE(v) == LLMSPLIT__T_INT) return (double)v->u.i;
    return 0.0;
}

LLMSPLIT_API const char *llmsplit_json_str(const llmsplit_json_val *v, size_t *len) {
    if (!v || LLMSPLIT__TYPE(v) != LLMSPLIT__T_STR) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = (size_t)(v->tag >> 3);
    return v->u.s;
}

LLMSPLIT_API const char *llmsplit_json_number_text(const llmsplit_json_val *v, size_t *len) {
    size_t n = 0;
    const char *s = NULL;
    if (v && (LLMSPLIT__TYPE(v) == LLMSPLIT__T_INT || LLMSPLIT__TYPE(v) == LLMSPLIT__T_REAL)) {
        n = (size_t)((v->tag >> 3) & LLMSPLIT__NUMTEXT_MAX);
        if (n) s = (const char *)v + (v->tag >> 16);
    }
    if (len) *len = n;
    return s;
}

LLMSPLIT_API size_t llmsplit_json_len(const llmsplit_json_val *v) {
    if (!v) return 0;
    switch (LLMSPLIT__TYPE(v)) {
    case LLMSPLIT__T_STR: case LLMSPLIT__T_ARR: case LLMSPLIT__T_OBJ: return (size_t)(v->tag >> 3);
    default: return 0;
    }
}

LLMSPLIT_API const llmsplit_json_val *llmsplit_json_getn(const llmsplit_json_val *obj,
                                                         const char *key, size_t key_len) {
    size_t n;
    const llmsplit_json_val *k;
    if (!obj || LLMSPLIT__TYPE(obj) != LLMSPLIT__T_OBJ || !key) return NULL;
    n = (size_t)(obj->tag >> 3);
    k = obj + 1;
    while (n--) {
        const llmsplit_json_val *val = k + 1;
        if ((size_t)(k->tag >> 3) == key_len && memcmp(k->u.s, key, key_len) == 0) return val;
        k = val + llmsplit__span(val);
    }
    return NULL;
}

LLMSPLIT_API const llmsplit_json_val *llmsplit_json_get(const llmsplit_json_val *obj, const char *key) {
    return key ? llmsplit_json_getn(obj, key, strlen(key)) : NULL;
}

LLMSPLIT_API const llmsplit_json_val *llmsplit_json_at(const llmsplit_json_val *arr, size_t index) {
    const llmsplit_json_val *it;
    if (!arr || LLMSPLIT__TYPE(arr) != LLMSPLIT__T_ARR || index >= (size_t)(arr->tag >> 3)) return NULL;
    it = arr + 1;
    while (index--) it += llmsplit__span(it);
    return it;
}

LLMSPLIT_API const llmsplit_json_val *llmsplit_json_path(const llmsplit_json_val *v, const char *path) {
    const char *p = path;
    if (!v || !p) return NULL;
    while (*p && v) {
        if (*p == '[') {
            size_t idx = 0;
            p++;
            if (!llmsplit__is_digit((unsigned char)*p)) return NULL;
            while (llmsplit__is_digit((unsigned char)*p)) {
                if (idx > (SIZE_MAX - 9) / 10) return NULL;
                idx = idx * 10 + (size_t)(*p++ - '0');
            }
            if (*p++ != ']') return NULL;
            v = llmsplit_json_at(v, idx);
        } else {
            const char *k;
            if (*p == '.') p++;
            k = p;
            while (*p && *p != '.' && *p != '[') p++;
            if (p == k) return NULL;
            v = llmsplit_json_getn(v, k, (size_t)(p - k));
        }
    }
    return v;
}

LLMSPLIT_API llmsplit_json_iter llmsplit_json_iterate(const llmsplit_json_val *container) {
    llmsplit_json_iter it;
    unsigned t = container ? LLMSPLIT__TYPE(container) : 0;
    it.cur = NULL;
    it.left = 0;
    it.is_object = t == LLMSPLIT__T_OBJ;
    if (container && (t == LLMSPLIT__T_ARR || t == LLMSPLIT__T_OBJ)) {
        it.cur = container + 1;
        it.left = (size_t)(container->tag >> 3);
    }
    return it;
}

LLMSPLIT_API int llmsplit_json_next(llmsplit_json_iter *it, const llmsplit_json_val **key,
                                    const llmsplit_json_val **val) {
    const llmsplit_json_val *k = NULL, *v;
    if (!it || !it->left) return 0;
    v = it->cur;
    if (it->is_object) { k = v; v = k + 1; }
    if (key) *key = k;
    if (val) *val = v;
    it->cur = v + llmsplit__span(v);
    it->left--;
    return 1;
}

/* --- buffer ---------------------------------------------------------------------------- */

LLMSPLIT_API void llmsplit_buf_init(llmsplit_buf *b, const llmsplit_allocator *allocator) {
    memset(b, 0, sizeof *b);
    b->allocator = llmsplit__allocator_or_default(allocator);
}

/* Room for extra more bytes and the NUL: the common case (room already there) is one
   comparison where it is called; the allocation is out of line. */
static int llmsplit__buf_grow_slow(llmsplit_buf *b, size_t extra);
static LLMSPLIT__INLINE int llmsplit__buf_grow(llmsplit_buf *b, size_t extra) {
    if (!b->failed && extra < b->cap - b->len) return 1; /* cap > len whenever cap > 0 */
    return llmsplit__buf_grow_slow(b, extra);
}

static int llmsplit__buf_grow_slow(llmsplit_buf *b, size_t extra) {
    size_t want, cap;
    char *nd;
    if (b->failed) return 0;
    if (extra >= SIZE_MAX - b->len - 1) { b->failed = 1; return 0; }
    want = b->len + extra + 1;
    if (want <= b->cap) return 1;
    cap = b->cap ? b->cap : 256;
    while (cap < want) cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    nd = (char *)llmsplit__alloc(&b->allocator, cap);
    if (!nd) { b->failed = 1; return 0; }
    if (b->len) memcpy(nd, b->data, b->len);
    llmsplit__free(&b->allocator, b->data);
    b->data = nd;
    b->cap = cap;
    return 1;
}

LLMSPLIT_API llmsplit_status llmsplit_buf_reserve(llmsplit_buf *b, size_t extra) {
    return llmsplit__buf_grow(b, extra) ? LLMSPLIT_OK : LLMSPLIT_ERR_NOMEM;
}

LLMSPLIT_API void llmsplit_buf_append(llmsplit_buf *b, const void *data, size_t len) {
    if (!len || !llmsplit__buf_grow(b, len)) return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = 0;
}

/* One byte appended (the writer's punctuation): no call, no copy. */
static LLMSPLIT__INLINE void llmsplit__buf_putc(llmsplit_buf *b, char ch) {
    if (LLMSPLIT__SMALL) { llmsplit_buf_append(b, &ch, 1); return; }
    if (!llmsplit__buf_grow(b, 1)) return;
    b->data[b->len++] = ch;
    b->data[b->len] = 0;
}

LLMSPLIT_API void llmsplit_buf_free(llmsplit_buf *b) {
    llmsplit__free(&b->allocator, b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* --- writer ---------------------------------------------------------------------------- */

/* The digits of d rounded to prec significant digits, trailing zeros dropped, from printf's
   exact %e conversion. printf's decimal point follows the locale, so only digits are taken. */
static int llmsplit__digits(double d, int prec, char *digits, int *exp10) {
    char tmp[48];
    const char *q;
    int nd = 0;
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
    for (q = tmp; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9') digits[nd++] = *q;
    *exp10 = atoi(q + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    return nd;
}

/* 1 when digits (d0.d1d2... * 10^exp10) read back exactly as d */
static int llmsplit__digits_round_trip(const char *digits, int nd, int exp10, double d) {
    uint64_t man = 0;
    double back = 0;
    int i;
    for (i = 0; i < nd; i++) man = man * 10 + (uint64_t)(digits[i] - '0');
    if (!llmsplit__decimal_to_double(man, exp10 - (nd - 1), 0, 0, &back)) {
        char txt[48];
        int tl;
        memcpy(txt, digits, (size_t)nd);
        tl = nd + snprintf(txt + nd, sizeof txt - (size_t)nd, "e%d", exp10 - (nd - 1));
        if (!llmsplit__slow_strtod(txt, txt + tl, &back)) return 0;
    }
    return back == d;
}

/* The common case without printf: d (> 0) is m / 10^k for the fewest decimals k with m below
   2^53. Both are exact doubles, so the division rounds m * 10^-k correctly, as reading the text
   back does; the fewest decimals give the fewest significant digits. Taken only when one m
   alone reads back as d, so it is the nearest, as printf would round it. 0 when d is not such
   a number (the search with printf decides). */
static int llmsplit__digits_short(double d, char *digits, int *nd, int *exp10) {
    double p = 1.0;
    int dec, n, z, i;
    for (dec = 0; dec <= 17; dec++, p *= 10.0) {
        double scaled = d * p, m, r = 0.0;
        uint64_t v;
        char tmp[24] = {0};
        int hits = 0;
        /* (every m below stays under 2^53, where adding 1 is exact: at 2^53 the loop below
           would never end, as it did for 0.9007199254740991) */
        if (scaled >= 9007199254740990.0) return 0;
        /* m is within 1 of d * 10^dec; any integer that reads back as d leaves one of m - 1, m,
           m + 1 reading back too (those that do form a range around d * 10^dec) */
        for (m = (double)(uint64_t)(scaled + 0.5) - 1.0; m <= scaled + 1.5; m += 1.0)
            if (m > 0.0 && m / p == d) hits++, r = m;
        if (!hits) continue;
        if (hits > 1) return 0;
        m = r;
        for (n = 0, v = (uint64_t)m; v; v /= 10) tmp[n++] = (char)('0' + v % 10);
        for (z = 0; z < n && tmp[z] == '0'; z++) {}
        for (i = 0; i < n - z; i++) digits[i] = tmp[n - 1 - i];
        *nd = n - z;
        *exp10 = n - 1 - dec;
        return 1;
    }
    return 0;
}

/* Writes d0.d1d2... * 10^exp10 (nd digits, the last not 0) as JavaScript prints a number,
   with ".0" on whole ones; returns the length. */
static size_t llmsplit__format_digits(const char *digits, int nd, int exp10, char *buf) {
    char *o = buf;
    int i;
    if (exp10 >= -6 && exp10 < 21) {
        if (exp10 < 0) {
            *o++ = '0'; *o++ = '.';
            for (i = 0; i < -exp10 - 1; i++) *o++ = '0';
            memcpy(o, digits, (size_t)nd);
            o += nd;
        } else {
            for (i = 0; i <= exp10; i++) *o++ = i < nd ? digits[i] : '0';
            *o++ = '.';
            if (nd > exp10 + 1) {
                memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1));
                o += nd - exp10 - 1;
            } else {
                *o++ = '0';
            }
        }
        *o = 0;
        return (size_t)(o - buf);
    }
    *o++ = digits[0];
    if (nd > 1) { *o++ = '.'; memcpy(o, digits + 1, (size_t)nd - 1); o += nd - 1; }
    o += snprintf(o, 8, "e%+d", exp10);
    return (size_t)(o - buf);
}

LLMSPLIT_API size_t llmsplit_format_double(double d, char *buf) {
    /* The fewest significant digits that read back to d: a k-digit rounding that round-trips
       implies every longer one does, so a binary search over 1..17 finds the shortest. */
    char digits[24] = {0};
    int lo = 1, hi = 17, nd = 0, exp10 = 0;
    uint64_t bits;
    char *o = buf;
    memcpy(&bits, &d, sizeof bits);
    if (((bits >> 52) & 0x7ff) == 0x7ff) { buf[0] = 0; return 0; }
    if (bits & 0x8000000000000000u) { *o++ = '-'; d = -d; }
    if (d == 0) { memcpy(o, "0.0", 4); return (size_t)(o - buf) + 3; }
    if (llmsplit__digits_short(d, digits, &nd, &exp10)) goto format;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        nd = llmsplit__digits(d, mid, digits, &exp10);
        if (llmsplit__digits_round_trip(digits, nd, exp10, d)) hi = mid;
        else lo = mid + 1;
    }
    nd = llmsplit__digits(d, lo, digits, &exp10);
format:
    return (size_t)(o - buf) + llmsplit__format_digits(digits, nd, exp10, o);
}

LLMSPLIT_API void llmsplit_json_writer_init(llmsplit_json_writer *w, const llmsplit_allocator *allocator) {
    memset(w, 0, sizeof *w);
    llmsplit_buf_init(&w->buf, allocator);
    w->first = 1;
}

LLMSPLIT_API void llmsplit_json_writer_free(llmsplit_json_writer *w) {
    if (w->llmsplit__deep) llmsplit__free(&w->buf.allocator, w->llmsplit__deep);
    w->llmsplit__deep = NULL;
    w->llmsplit__deep_cap = 0;
    llmsplit_buf_free(&w->buf);
}

/* Whether the container at level i (0-based) is an object. */
static int llmsplit__w_is_object(const llmsplit_json_writer *w, int i) {
    size_t bit = (size_t)i;
    const unsigned char *bits = w->llmsplit__kinds;
    if (bit >= 8 * sizeof w->llmsplit__kinds) { bit -= 8 * sizeof w->llmsplit__kinds; bits = w->llmsplit__deep; }
    return (bits[bit >> 3] >> (bit & 7)) & 1;
}

/* Records the kind of the container opened at level i; 0 when memory for it ran out. */
static int llmsplit__w_set_kind(llmsplit_json_writer *w, int i, int obj) {
    size_t bit = (size_t)i;
    unsigned char *bits = w->llmsplit__kinds;
    if (bit >= 8 * sizeof w->llmsplit__kinds) {
        bit -= 8 * sizeof w->llmsplit__kinds;
        if ((bit >> 3) >= w->llmsplit__deep_cap) {
            size_t cap = w->llmsplit__deep_cap ? w->llmsplit__deep_cap * 2 : 64;
            unsigned char *n = (unsigned char *)llmsplit__alloc(&w->buf.allocator, cap);
            if (!n) return 0;
            memset(n, 0, cap);
            if (w->llmsplit__deep) {
                memcpy(n, w->llmsplit__deep, w->llmsplit__deep_cap);
                llmsplit__free(&w->buf.allocator, w->llmsplit__deep);
            }
            w->llmsplit__deep = n;
            w->llmsplit__deep_cap = cap;
        }
        bits = w->llmsplit__deep;
    }
    if (obj) bits[bit >> 3] = (unsigned char)(bits[bit >> 3] | (1u << (bit & 7)));
    else bits[bit >> 3] = (unsigned char)(bits[bit >> 3] & ~(1u << (bit & 7)));
    return 1;
}

static const char *llmsplit__w_result(const llmsplit_json_writer *w, size_t *len) {
    if (w->err || w->buf.failed || w->depth != 0 || w->after_key || w->buf.len == 0) {
        if (len) *len = 0;
        return NULL;
    }
    if (len) *len = w->buf.len;
    return w->buf.data;
}

LLMSPLIT_API llmsplit_status llmsplit_json_writer_result(const llmsplit_json_writer *w, const char **text,
                                                         size_t *len, llmsplit_error *err) {
    const char *t = llmsplit__w_result(w, len);
    llmsplit_status code = LLMSPLIT_OK;
    if (text) *text = t;
    if (t) return LLMSPLIT_OK;
    if (w->err) code = w->err;
    else if (w->buf.failed) code = LLMSPLIT_ERR_NOMEM;
    else code = LLMSPLIT_ERR_USAGE;
    llmsplit__set_error(err, code, "%s", w->err_message ? w->err_message
                                        : code == LLMSPLIT_ERR_NOMEM ? "json writer: out of memory"
                                        : w->buf.len == 0 ? "json writer: nothing written"
                                        : "json writer: a container or key is still open");
    return code;
}

static void llmsplit__w_fail(llmsplit_json_writer *w, llmsplit_status e, const char *msg) {
    if (!w->err) { w->err = e; w->err_message = msg; }
}

/* Called before every value: places the comma and checks a value may go here. */
static int llmsplit__w_value(llmsplit_json_writer *w) {
    if (w->err) return 0;
    if (w->after_key) { w->after_key = 0; return 1; }
    if (w->depth > 0 && llmsplit__w_is_object(w, w->depth - 1)) {
        llmsplit__w_fail(w, LLMSPLIT_ERR_USAGE, "json writer: value where a key belongs");
        return 0;
    }
    if (w->depth == 0 && w->buf.len > 0) {
        llmsplit__w_fail(w, LLMSPLIT_ERR_USAGE, "json writer: more than one top-level value");
        return 0;
    }
    if (!w->first) llmsplit__buf_putc(&w->buf, ',');
    w->first = 0;
    return 1;
}

static void llmsplit__w_begin(llmsplit_json_writer *w, int obj) {
    if (!llmsplit__w_value(w)) return;
    if (w->depth == INT32_MAX || !llmsplit__w_set_kind(w, w->depth, obj)) {
        llmsplit__w_fail(w, LLMSPLIT_ERR_NOMEM, "json writer: out of memory for nesting");
        return;
    }
    w->depth++;
    w->first = 1;
    llmsplit__buf_putc(&w->buf, obj ? '{' : '[');
}

static void llmsplit__w_end(llmsplit_json_writer *w, int obj) {
    if (w->err) return;
    if (w->depth == 0 || llmsplit__w_is_object(w, w->depth - 1) != obj || w->after_key) {
        llmsplit__w_fail(w, LLMSPLIT_ERR_USAGE, "json writer: unbalanced end");
        return;
    }
    w->depth--;
    w->first = 0;
    llmsplit__buf_putc(&w->buf, obj ? '}' : ']');
}

LLMSPLIT_API void llmsplit_json_write_begin_object(llmsplit_json_writer *w) { llmsplit__w_begin(w, 1); }
LLMSPLIT_API void llmsplit_json_write_end_object(llmsplit_json_writer *w) { llmsplit__w_end(w, 1); }
LLMSPLIT_API void llmsplit_json_write_begin_array(llmsplit_json_writer *w) { llmsplit__w_begin(w, 0); }
LLMSPLIT_API void llmsplit_json_write_end_array(llmsplit_json_writer *w) { llmsplit__w_end(w, 0); }

/* How long the invalid sequence at p is: the longest start of a valid sequence there (a
   character cut short), else one byte. Each becomes one U+FFFD, as Unicode recommends
   (chapter 3, "U+FFFD Substitution of Maximal Subparts"). */
static size_t llmsplit__utf8_bad_len(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
    size_t need, k = 1;
    if (c >= 0xc2 && c <= 0xdf) need = 2;
    else if (c >= 0xe0 && c <= 0xef) { need = 3; lo = c == 0xe0 ? 0xa0 : 0x80; hi = c == 0xed ? 0x9f : 0xbf; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 4; lo = c == 0xf0 ? 0x90 : 0x80; hi = c == 0xf4 ? 0x8f : 0xbf; }
    else return 1;
    while (k < need && p + k < end && p[k] >= lo && p[k] <= hi) { k++; lo = 0x80; hi = 0xbf; }
    return k;
}

/* Appends s as a quoted JSON string. valid_utf8: s came from a parsed document, so its
   non-ASCII bytes are copied without checking them again. Otherwise invalid UTF-8 is an error,
   or with w->llmsplit__repair U+FFFD (3 bytes, within the room reserved per input byte). */
/* The quoted JSON string of s[0..len) at o, which has room for len * 6 + 3 bytes (every byte
   \u00XX; the wide stores below never pass that); returns the end, or NULL at invalid UTF-8
   when repaired is NULL. With repaired, an invalid sequence becomes U+FFFD and is counted. */
static char *llmsplit__escape_to(char *o, const char *s, size_t len, int valid_utf8, size_t *repaired) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    *o++ = '"';
    for (;;) {
#ifdef LLMSPLIT__SWAR
        {
            size_t n = llmsplit__copy_plain(p, end, o, valid_utf8);
            p += n;
            o += n;
        }
#endif
        while (p < end && (!llmsplit__str_special[*p] || (valid_utf8 && *p >= 0x80))) *o++ = (char)*p++;
        if (p >= end) break;
        if (*p >= 0x80) {
            size_t n = valid_utf8 ? 1 : llmsplit__utf8_seq(p, end);
            if (!n && repaired) {
                memcpy(o, "\xef\xbf\xbd", 3);
                o += 3;
                p += llmsplit__utf8_bad_len(p, end);
                ++*repaired;
                continue;
            }
            if (!n) return NULL;
            memcpy(o, p, n);
            o += n;
            p += n;
            continue;
        }
        *o++ = '\\';
        switch (*p) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        default:
            *o++ = 'u'; *o++ = '0'; *o++ = '0';
            *o++ = hex[*p >> 4]; *o++ = hex[*p & 15];
        }
        p++;
    }
    *o++ = '"';
    *o = 0;
    return o;
}

static void llmsplit__w_escaped(llmsplit_json_writer *w, const char *s, size_t len, int valid_utf8) {
    llmsplit_buf *b = &w->buf;
    char *o;
    if (len > (SIZE_MAX - 16) / 6 || !llmsplit__buf_grow(b, len * 6 + 10)) {
        llmsplit__w_fail(w, LLMSPLIT_ERR_NOMEM, "json writer: out of memory");
        return;
    }
    o = llmsplit__escape_to(b->data + b->len, s, len, valid_utf8, w->llmsplit__repair ? &w->llmsplit__repaired : NULL);
    if (!o) {
        b->data[b->len] = 0;
        llmsplit__w_fail(w, LLMSPLIT_ERR_USAGE, "json writer: string is not valid UTF-8");
        return;
    }
    b->len = (size_t)(o - b->data);
}

LLMSPLIT_API void llmsplit_json_write_key(llmsplit_json_writer *w, const char *key, size_t len) {
    if (w->err) return;
    if (w->depth == 0 || !llmsplit__w_is_object(w, w->depth - 1) || w->after_key) {
        llmsplit__w_fail(w, LLMSPLIT_ERR_USAGE, "json writer: key outside an object");
        return;
    }
    if (!LLMSPLIT__SMALL && key && len <= 64 && llmsplit__buf_grow(&w->buf, len + 4)) {
        /* a short key of plain ASCII (every key a program writes): copied as it is */
        size_t i;
        for (i = 0; i < len && !llmsplit__str_special[(unsigned char)key[i]]; i++) {}
        if (i == len) {
            char *o = w->buf.data + w->buf.len;
            if (!w->first) *o++ = ',';
            *o++ = '"';
            memcpy(o, key, len);
            o += len;
            *o++ = '"';
            *o++ = ':';
            *o = 0;
            w->buf.len = (size_t)(o - w->buf.data);
            w->first = 0;
            w->after_key = 1;
            return;
        }
    }
    if (!w->first) llmsplit__buf_putc(&w->buf, ',');
    w->first = 0;
    llmsplit__w_escaped(w, key ? key : "", key ? len : 0, 0);
    llmsplit__buf_putc(&w->buf, ':');
    w->after_key = 1;
}

LLMSPLIT_API void llmsplit_json_write_string(llmsplit_json_writer *w, const char *s, size_t len) {
    if (!llmsplit__w_value(w)) return;
    llmsplit__w_escaped(w, s ? s : "", s ? len : 0, 0);
}

/* v in decimal at buf (no NUL); its length. The length first, so the digits go straight to their
   place, two at a time from a table of the hundred pairs. */
static size_t llmsplit__format_int(int64_t v, char *buf /* 24 bytes */) {
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v, t = u;
    size_t n = v < 0 ? 2 : 1;
    char *o;
    if (LLMSPLIT__SMALL) { /* -Os: one digit at a time, no table */
        while (t >= 10) { t /= 10; n++; }
        o = buf + n;
        do { *--o = (char)('0' + u % 10); u /= 10; } while (u);
        if (v < 0) *--o = '-';
        return n;
    }
    while (t >= 100) { t /= 100; n += 2; }
    n += t >= 10;
    o = buf + n;
    while (u >= 100) {
        unsigned r = (unsigned)(u % 100);
        u /= 100;
        o -= 2;
        o[0] = pairs[2 * r];
        o[1] = pairs[2 * r + 1];
    }
    if (u >= 10) {
        o -= 2;
        o[0] = pairs[2 * u];
        o[1] = pairs[2 * u + 1];
    } else {
        *--o = (char)('0' + u);
    }
    if (v < 0) *--o = '-';
    return n;
}

LLMSPLIT_API void llmsplit_json_write_int(llmsplit_json_writer *w, int64_t v) {
    char tmp[24];
    size_t n;
    if (!llmsplit__w_value(w)) return;
    n = llmsplit__format_int(v, tmp);
    llmsplit_buf_append(&w->buf, tmp, n);
}

LLMSPLIT_API void llmsplit_json_write_double(llmsplit_json_writer *w, double v) {
    char tmp[32];
    size_t n;
    if (w->err) return;
    n = llmsplit_format_double(v, tmp);
    if (!n) { llmsplit__w_fail(w, LLMSPLIT_ERR_USAGE, "json writer: NaN or infinity is not JSON"); return; }
    if (!llmsplit__w_value(w)) return;
    llmsplit_buf_append(&w->buf, tmp, n);
}

LLMSPLIT_API void llmsplit_json_write_bool(llmsplit_json_writer *w, int v) {
    if (!llmsplit__w_value(w)) return;
    if (v) llmsplit_buf_append(&w->buf, "true", 4);
    else llmsplit_buf_append(&w->buf, "false", 5);
}

LLMSPLIT_API void llmsplit_json_write_null(llmsplit_json_writer *w) {
    if (!llmsplit__w_value(w)) return;
    llmsplit_buf_append(&w->buf, "null", 4);
}

typedef struct llmsplit__wframe {
    const llmsplit_json_val *end;   /* first slot after the container */
    int obj, first;
} llmsplit__wframe;

LLMSPLIT_API void llmsplit_json_write_value(llmsplit_json_writer *w, const llmsplit_json_val *v) {
    /* Walks the subtree's slots in order with an explicit stack of open containers, so any
       depth the parser accepted is written without recursion. */
    llmsplit_buf stack;
    llmsplit_buf *b = &w->buf;
    const llmsplit_json_val *p = v;
    size_t depth = 0;
    if (!v) { llmsplit__w_fail(w, LLMSPLIT_ERR_USAGE, "json writer: NULL value"); return; }
    if (!llmsplit__w_value(w)) return;
    llmsplit_buf_init(&stack, &b->allocator);
    do {
        unsigned t;
        if (depth) {
            llmsplit__wframe *f = (llmsplit__wframe *)(void *)stack.data + depth - 1;
            if (!f->first) llmsplit__buf_putc(b, ',');
            f->first = 0;
            if (f->obj) {
                llmsplit__w_escaped(w, p->u.s, (size_t)(p->tag >> 3), 1);
                llmsplit__buf_putc(b, ':');
                p++;
            }
        }
        t = LLMSPLIT__TYPE(p);
        if (t == LLMSPLIT__T_ARR || t == LLMSPLIT__T_OBJ) {
            llmsplit__wframe nf;
            nf.end = p + p->u.span;
            nf.obj = t == LLMSPLIT__T_OBJ;
            nf.first = 1;
            llmsplit_buf_append(b, nf.obj ? "{" : "[", 1);
            llmsplit_buf_append(&stack, &nf, sizeof nf);
            if (stack.failed) break;
            depth++;
            p++;
        } else {
            switch (t) {
            case LLMSPLIT__T_NULL: llmsplit_buf_append(b, "null", 4); break;
            case LLMSPLIT__T_TRUE: llmsplit_buf_append(b, "true", 4); break;
            case LLMSPLIT__T_FALSE: llmsplit_buf_append(b, "false", 5); break;
            case LLMSPLIT__T_STR: llmsplit__w_escaped(w, p->u.s, (size_t)(p->tag >> 3), 1); break;
            default: {
                size_t n;
                const char *s = llmsplit_json_number_text(p, &n);
                char tmp[32];
                if (!s) {
                    n = t == LLMSPLIT__T_INT ? llmsplit__format_int(p->u.i, tmp)
                                             : llmsplit_format_double(p->u.d, tmp);
                    s = tmp;
                }
                llmsplit_buf_append(b, s, n);
            }
            }
            p++;
        }
        while (depth && p == ((llmsplit__wframe *)(void *)stack.data)[depth - 1].end) {
            llmsplit_buf_append(b, ((llmsplit__wframe *)(void *)stack.data)[depth - 1].obj ? "}" : "]", 1);
            depth--;
            stack.len -= sizeof(llmsplit__wframe);
        }
    } while (depth && !w->err);
    if (stack.failed || b->failed) llmsplit__w_fail(w, LLMSPLIT_ERR_NOMEM, "json writer: out of memory");
    llmsplit_buf_free(&stack);
}

#ifndef LLMSPLIT_NO_YAML
/* --- YAML ------------------------------------------------------------------------------ */

/* The YAML reader writes the document as JSON text with the writer above and parses that text,
   so it gives back the same document a JSON text gives. It reads as PyYAML does (YAML 1.1, what
   LiteLLM loads its config.yaml with): its scanning mirrors PyYAML's scanner (indentation, line
   folding, escapes, block scalars and their chomping) and it refuses, with the place, whatever
   it would read otherwise. It recurses once per level of nesting (three small frames at most),
   at most max_depth levels. */

typedef struct llmsplit__ykey {
    const char *json, *src;       /* the key's JSON text (set when its mapping ends); where in the YAML */
    size_t off, len;              /* that text in the output */
} llmsplit__ykey;

typedef struct llmsplit__yaml {
    const char *p, *end, *ls;     /* cursor, end, start of the cursor's line */
    const char *tok;              /* end of the last thing read */
    const char *at, *msg;         /* the first error */
    llmsplit_json_writer w;       /* the JSON */
    llmsplit_buf t, keys;         /* a scalar's text; the keys of the open mappings */
    int depth, max_depth, doc;    /* doc: 1 after a '---', 2 after a '...' */
} llmsplit__yaml;

static int llmsplit__y_fail(llmsplit__yaml *y, const char *at, const char *msg) {
    if (!y->msg) { y->msg = msg; y->at = at; }
    y->p = y->end;                /* every loop sees the end: the parse unwinds */
    return 0;
}

/* The end, a space, a tab or a line break at q. */
static int llmsplit__y_ws(const llmsplit__yaml *y, const char *q) {
    return q >= y->end || *q == ' ' || *q == '\t' || *q == '\n' || *q == '\r';
}

static int llmsplit__y_eol(const char *q, const char *end) { return q < end && (*q == '\n' || *q == '\r'); }
static int llmsplit__y_is(const llmsplit__yaml *y, char c) { return y->p < y->end && *y->p == c; }
static int llmsplit__y_dash(const llmsplit__yaml *y) { return llmsplit__y_is(y, '-') && llmsplit__y_ws(y, y->p + 1); }

/* A document marker ("---" or "...") at q, the start of a line. */
static int llmsplit__y_marker(const llmsplit__yaml *y, const char *q) {
    return y->end - q >= 3 && (*q == '-' || *q == '.') && q[1] == *q && q[2] == *q && llmsplit__y_ws(y, q + 3);
}

static int llmsplit__y_ci(const char *s, const char *word, size_t n) {
    while (n--) if ((*s++ | 0x20) != *word++) return 0;
    return 1;
}

/* A hexadecimal digit's value, or 99. */
static unsigned llmsplit__y_hex(char ch) {
    unsigned d = (unsigned)(unsigned char)ch - '0', c = ((unsigned)(unsigned char)ch | 0x20) - 'a';
    return d < 10 ? d : c < 6 ? c + 10 : 99;
}

static void llmsplit__y_nl(llmsplit__yaml *y, size_t n) {
    while (n--) llmsplit_buf_append(&y->t, "\n", 1);
}

/* Past the line break at q (validated: a CR is always followed by LF). */
static const char *llmsplit__y_break(llmsplit__yaml *y, const char *q) {
    q += *q == '\r' ? 2 : 1;
    y->ls = q;
    return q;
}

/* Skips spaces, comments, line breaks and document markers to the next content: its column, or
   -1 at the end of the document (or after an error). */
static ptrdiff_t llmsplit__y_next(llmsplit__yaml *y) {
    const char *p = y->p, *end = y->end;
    for (;;) {
        if (p == y->ls && llmsplit__y_marker(y, p)) {
            if (*p == '.' && !y->doc && !y->w.buf.len)
                return llmsplit__y_fail(y, p, "'...' ends a document that has not begun: remove it"), -1;
            if (*p == '.') y->doc = 2;
            else if (y->doc || y->w.buf.len)
                return llmsplit__y_fail(y, p, "a second document ('---'): a config is one document; remove the marker and what follows"), -1;
            else y->doc = 1;
            for (p += 3; p < end && *p == ' '; p++) {}
            if (p < end && *p != '#' && !llmsplit__y_eol(p, end))
                return llmsplit__y_fail(y, p, "text after '---' or '...': start it on the next line"), -1;
        }
        while (p < end && *p == ' ') p++;
        if (p < end && *p == '#') while (p < end && !llmsplit__y_eol(p, end)) p++;
        if (!llmsplit__y_eol(p, end)) break;
        p = llmsplit__y_break(y, p);
    }
    y->p = p;
    if (p >= end) return -1;
    if (*p == '\t') return llmsplit__y_fail(y, p, "a tab: YAML indents and separates with spaces only; replace it"), -1;
    if (y->doc == 2) return llmsplit__y_fail(y, p, "text after the end of the document ('...'): remove one or the other"), -1;
    return p - y->ls;
}

/* After a value: the rest of its line must be blank or a comment. The column of the next
   content, or -1 at the end. */
static ptrdiff_t llmsplit__y_after(llmsplit__yaml *y) {
    ptrdiff_t c = llmsplit__y_next(y);
    if (c >= 0 && !memchr(y->tok, '\n', (size_t)(y->p - y->tok)))
        return llmsplit__y_fail(y, y->p, *y->p == ':' ? "a ':' after a value: a key is text on one line (quote a value holding ': ')"
                                                      : "text after the value: quote the value or end the line"), -1;
    return c;
}

/* A plain scalar into y->t, folded over lines; continuation lines in block context need a
   column >= indent. */
static void llmsplit__y_plain(llmsplit__yaml *y, ptrdiff_t indent, int flow) {
    const char *p = y->p, *end = y->end, *ls = y->ls, *s, *q, *gap = p;
    ptrdiff_t nl = -1;            /* before the next piece: -1 the spaces at gap, 0 a space, n newlines */
    for (;;) {
        for (s = p; p < end; p++) {
            char c = *p;
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
                (c == ':' && (llmsplit__y_ws(y, p + 1) || (flow && strchr(",[]{}", p[1])))) ||
                (flow && strchr(",?[]{}", c)))
                break;
        }
        if (p == s) return;
        if (nl < 0) llmsplit_buf_append(&y->t, gap, (size_t)(s - gap));
        else if (nl == 0) llmsplit_buf_append(&y->t, " ", 1);
        else llmsplit__y_nl(y, (size_t)nl);
        llmsplit_buf_append(&y->t, s, (size_t)(p - s));
        y->p = y->tok = gap = p;
        y->ls = ls;
        for (q = p; q < end && *q == ' '; q++) {}
        nl = -1;
        while (llmsplit__y_eol(q, end)) {
            q += *q == '\r' ? 2 : 1;
            ls = q;
            nl++;
            if (llmsplit__y_marker(y, q)) return;
            while (q < end && *q == ' ') q++;
        }
        if (q >= end || *q == '#' || (nl >= 0 && !flow && q - ls < indent)) return;
        p = q;
    }
}

/* A quoted scalar into y->t: '' in single quotes, escapes in double quotes, lines folded. */
static int llmsplit__y_quoted(llmsplit__yaml *y) {
    static const char names[] = "0abt\tnvfre \"/\\N_LP";
    static const unsigned short cps[] = {0, 7, 8, 9, 9, 10, 11, 12, 13, 27, 32, 34, 47, 92, 0x85, 0xa0, 0x2028, 0x2029};
    const char *p = y->p, *end = y->end, *start = p, *s;
    char q = *p++, u[4];
    for (;;) {
        ptrdiff_t nl = -1;
        int esc = 0;
        for (s = p; p < end && *p != q && *p != ' ' && *p != '\t' && !llmsplit__y_eol(p, end) && (*p != '\\' || q != '"'); p++) {}
        llmsplit_buf_append(&y->t, s, (size_t)(p - s));
        if (p >= end) return llmsplit__y_fail(y, start, "a quoted value never closed: add the closing quote");
        if (*p == q) {
            if (q == '"' || p + 1 >= end || p[1] != '\'') break;
            llmsplit_buf_append(&y->t, p, 1);
            p += 2;
            continue;
        }
        if (*p == '\\') {
            const char *e = ++p < end && *p ? strchr(names, *p) : NULL;
            unsigned long cp = 0;
            int k = 0;
            s = p - 1;
            if (llmsplit__y_eol(p, end)) esc = 1;                  /* an escaped line break */
            else if (e) cp = cps[e - names];
            else if (p < end && (*p == 'x' || *p == 'u' || *p == 'U')) k = *p == 'x' ? 2 : *p == 'u' ? 4 : 8;
            else return llmsplit__y_fail(y, s, "an unknown escape: write \\\\ for a backslash");
            if (!esc) {
                for (p++; k > 0; k--, p++) {
                    if (p >= end || llmsplit__y_hex(*p) > 15)
                        return llmsplit__y_fail(y, s, "an escape needs hexadecimal digits: \\xFF, \\uFFFF or \\UFFFFFFFF");
                    cp = cp * 16 + llmsplit__y_hex(*p);
                }
                if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
                    return llmsplit__y_fail(y, s, "an escape of a surrogate or beyond U+10FFFF: write the character itself");
                llmsplit_buf_append(&y->t, u, (size_t)(llmsplit__put_utf8(u, (unsigned)cp) - u));
                continue;
            }
        } else {
            for (s = p; p < end && (*p == ' ' || *p == '\t'); p++) {}
            if (!llmsplit__y_eol(p, end)) { llmsplit_buf_append(&y->t, s, (size_t)(p - s)); continue; }
        }
        while (llmsplit__y_eol(p, end)) {     /* line breaks: one folds to a space, more keep all but one */
            p = llmsplit__y_break(y, p);
            nl++;
            if (llmsplit__y_marker(y, p)) return llmsplit__y_fail(y, p, "'---' or '...' inside a quoted value: indent the line");
            while (p < end && (*p == ' ' || *p == '\t')) p++;
        }
        if (nl || esc) llmsplit__y_nl(y, (size_t)nl);
        else llmsplit_buf_append(&y->t, " ", 1);
    }
    y->p = y->tok = p + 1;
    return 1;
}

/* A block scalar (| or >, chomping - or +, an indentation digit) into y->t. */
static int llmsplit__y_block(llmsplit__yaml *y, ptrdiff_t n) {
    const char *p = y->p + 1, *end = y->end, *ls, *s;
    int folded = *y->p == '>', chomp = 0, inc = 0, i, lb = 0;
    size_t br = 0;
    ptrdiff_t indent = n < 0 ? 1 : n + 1, max = 0;
    for (i = 0; i < 2 && p < end; i++) {
        if (!chomp && (*p == '+' || *p == '-')) chomp = *p++ == '+' ? 1 : -1;
        else if (!inc && *p >= '1' && *p <= '9') inc = *p++ - '0';
    }
    while (p < end && *p == ' ') p++;
    if (p < end && *p == '#' && p[-1] == ' ') while (p < end && !llmsplit__y_eol(p, end)) p++;
    if (p < end && !llmsplit__y_eol(p, end))
        return llmsplit__y_fail(y, p, "after | or >: only - or +, a digit 1-9 and a comment; the text starts on the next line");
    ls = p = p < end ? llmsplit__y_break(y, p) : p;
    if (inc) indent += inc - 1;
    for (;;) {                    /* leading empty lines; without a digit the first text line sets the indentation */
        while (p < end && *p == ' ' && (!inc || p - ls < indent)) p++;
        if (!inc && p - ls > max) max = p - ls;
        if (!llmsplit__y_eol(p, end)) break;
        ls = p = llmsplit__y_break(y, p);
        br++;
    }
    if (max > indent) indent = max;
    while (p - ls == indent && p < end) {
        int text = *p != ' ' && *p != '\t';
        llmsplit__y_nl(y, br);
        for (s = p; p < end && !llmsplit__y_eol(p, end); p++) {}
        llmsplit_buf_append(&y->t, s, (size_t)(p - s));
        lb = p < end;
        if (lb) p = llmsplit__y_break(y, p);
        ls = p;
        for (br = 0;; br++) {
            while (p < end && *p == ' ' && p - ls < indent) p++;
            if (!llmsplit__y_eol(p, end)) break;
            ls = p = llmsplit__y_break(y, p);
        }
        if (p - ls != indent || p >= end) break;
        if (!folded || !text || *p == ' ' || *p == '\t') llmsplit__y_nl(y, 1);
        else if (!br) llmsplit_buf_append(&y->t, " ", 1);
    }
    if (chomp >= 0 && lb) llmsplit__y_nl(y, 1);
    if (chomp > 0) llmsplit__y_nl(y, br);
    y->ls = y->p = ls;
    if (ls > y->tok) y->tok = ls - 1;
    return 1;
}

/* A scalar into y->t. Returns its style: 'p' plain, '\'' or '"' quoted, '|' or '>' block; 0
   after an error. */
static int llmsplit__y_scalar(llmsplit__yaml *y, ptrdiff_t n, int flow) {
    const char *p = y->p, *msg = NULL;
    char c = *p;
    int ws = llmsplit__y_ws(y, p + 1);
    y->t.len = 0;
    if (c == '"' || c == '\'') return llmsplit__y_quoted(y) ? c : 0;
    if ((c == '|' || c == '>') && !flow) return llmsplit__y_block(y, n) ? c : 0;
    if (c == '&' || c == '*') msg = "an anchor (&) or alias (*): not supported; write the value out";
    else if (c == '!') msg = "a tag (!): not supported; remove it (quote the value for text)";
    else if (c == '%') msg = "a directive (%): not supported; remove it";
    else if ((c == '?' || c == ':') && (ws || flow)) msg = "a complex key ('? ') or a ':' without a key: write KEY: VALUE";
    else if (c == '-' && ws) msg = "a '- ' item where a value belongs: start the list on its own line";
    else if (strchr(",[]{}|>@`", c)) msg = "a plain value cannot start with this character: quote it";
    if (msg) return llmsplit__y_fail(y, p, msg);
    llmsplit__y_plain(y, n + 1, flow);
    return 'p';
}

/* 1 + the index of the YAML 1.1 word s is (null, three true words, three false words) when it
   is spelled all lowercase, capitalised or all uppercase; 0 for anything else. */
static int llmsplit__y_word(const char *s, size_t n) {
    static const char words[] = "\4null\3yes\4true\2on\2no\5false\3off";
    const char *w = words;
    int k;
    for (k = 1; *w; w += *w + 1, k++) {
        size_t i;
        int lower = 1, upper = 1;
        if ((size_t)*w != n || !llmsplit__y_ci(s, w + 1, n)) continue;
        for (i = 0; i < n; i++) {
            if (s[i] >= 'a') upper = 0;
            else if (i) lower = 0;
        }
        if (lower || upper) return k;
    }
    return 0;
}

/* An integer in base b from the digits at [a, e) ('_' skipped): 1 when they are one (written,
   or refused with the error set), 0 when they are not (so the scalar is text). */
static int llmsplit__y_int(llmsplit__yaml *y, const char *at, const char *a, const char *e, unsigned b, int neg, int key) {
    uint64_t v = 0;
    int digits = 0, big = 0;
    if (a == e) return 0;
    for (; a < e; a++) {
        unsigned d = llmsplit__y_hex(*a);
        if (*a == '_') continue;
        if (d >= b) return 0;
        if (v > (UINT64_MAX - d) / b) big = 1;
        v = v * b + d;
        digits++;
    }
    if (key) llmsplit__y_fail(y, at, "a key YAML reads as a number, boolean, null or date: quote it");
    else if (!digits) llmsplit__y_fail(y, at, "a number without digits: quote it for text");
    else if (big || v > (uint64_t)INT64_MAX + (unsigned)neg) llmsplit__y_fail(y, at, "an integer beyond 64 bits: quote it for text");
    else llmsplit_json_write_int(&y->w, neg ? (int64_t)(0 - v) : (int64_t)v);
    return 1;
}

/* Writes the plain scalar in y->t as PyYAML resolves it: null, bool, int, float or text. A date
   (2023-05-15, Azure's api_version) is its text; timestamps, base-60 numbers (1:30), .inf,
   .nan, '<<' and '=' are refused. For a key (key != 0) nothing is written and only text passes. */
static int llmsplit__y_resolve(llmsplit__yaml *y, const char *at, int key) {
    char *s = y->t.data, *e = s + y->t.len, *q, *i1, *o;
    const char *msg = "a key YAML reads as a number, boolean, null or date: quote it";
    int neg, word = 0, i, v[3], len[3];
    unsigned base = 0;
    double d;
    if (!y->t.len || (y->t.len == 1 && *s == '~') || (word = llmsplit__y_word(s, y->t.len)) != 0) {
        if (key) goto refuse;
        if (word > 1) llmsplit_json_write_bool(&y->w, word < 5);
        else llmsplit_json_write_null(&y->w);
        return 1;
    }
    if (!strcmp(s, "<<") || !strcmp(s, "=")) {
        msg = "'<<' and '=' have special meanings in YAML: quote them";
        goto refuse;
    }
    neg = *s == '-';
    q = s + (neg || *s == '+');
    if (e - q == 4 && *q == '.' && (llmsplit__y_ci(q + 1, "inf", 3) || llmsplit__y_ci(q + 1, "nan", 3))) {
        msg = "infinity or NaN: JSON has neither; quote it for text";
        goto refuse;
    }
    for (i1 = q; i1 < e && (llmsplit__is_digit((unsigned char)*i1) || *i1 == '_'); i1++) {}
    if (e - q > 2 && *q == '0' && (q[1] == 'x' || q[1] == 'b')) base = q[1] == 'x' ? 16 : 2, q += 2;  /* 0x1F, 0b101 */
    else if (i1 == e && q < e && *q != '_') base = *q == '0' && e - q > 1 ? 8 : 10;                      /* 10, 1_000, 017 */
    if (base && llmsplit__y_int(y, at, q, e, base, neg, key)) return !y->msg;
    if (*i1 == '.' && (q < i1 ? *q != '_' : q == s && llmsplit__is_digit((unsigned char)i1[1]))) {    /* 1.5, .5, 1., 2.5e-7 */
        for (q = i1 + 1; q < e && (llmsplit__is_digit((unsigned char)*q) || *q == '_'); q++) {}
        if (e - q > 2 && (*q | 0x20) == 'e' && (q[1] == '+' || q[1] == '-'))
            for (i1 = q += 2; q < e && llmsplit__is_digit((unsigned char)*q); q++) {}
        if (q != e || q == i1) goto text;
        if (key) goto refuse;
        for (o = q = s; q < e; q++)
            if (*q != '_' && *q != '+') *o++ = *q;
        msg = "a number beyond the range of a double: quote it for text";
        if (!llmsplit__slow_strtod(s, o, &d)) goto refuse;
        llmsplit_json_write_double(&y->w, d);
        return 1;
    }
    if (*i1 == ':' && q < i1 && *q != '_') {                                                               /* 1:30 */
        for (q = i1; q < e && *q == ':'; q++) {
            if (++q + 1 < e && *q >= '0' && *q <= '5' && llmsplit__is_digit((unsigned char)q[1])) q++;
            if (q >= e || !llmsplit__is_digit((unsigned char)*q)) goto text;
        }
        if (q < e && *q == '.') while (++q < e && (llmsplit__is_digit((unsigned char)*q) || *q == '_')) {}
        msg = "a base-60 number (YAML 1.1 reads 1:30 as 90): quote it for text";
        if (q == e) goto refuse;
        goto text;
    }
    for (q = s, i = 0; i < 3; i++) {                                                                        /* 2023-05-15 */
        for (v[i] = len[i] = 0; q < e && llmsplit__is_digit((unsigned char)*q) && len[i] < (i ? 2 : 4); q++, len[i]++)
            v[i] = v[i] * 10 + *q - '0';
        if (len[i] < (i ? 1 : 4) || (i < 2 && (q >= e || *q++ != '-'))) goto text;
    }
    if (q == e && len[1] == 2 && len[2] == 2) {
        if (key) goto refuse;
        msg = "not a date (YAML reads YYYY-MM-DD as one): quote it for text";
        if (!v[0] || v[1] < 1 || v[1] > 12 || v[2] < 1 ||
            v[2] > (v[1] == 2 ? 28 + ((v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0) : 30 + ((v[1] + (v[1] > 7)) & 1)))
            goto refuse;
    } else if (q < e && (*q == 'T' || *q == 't' || *q == ' ')) {
        while (++q < e && *q == ' ') {}
        msg = "a timestamp (YAML 1.1 reads it as a date and time): quote it for text";
        if (q < e && llmsplit__is_digit((unsigned char)*q)) goto refuse;
    }
text:
    if (!key) llmsplit_json_write_string(&y->w, y->t.data, y->t.len);
    return 1;
refuse:
    return llmsplit__y_fail(y, at, msg);
}

/* The ':' after the scalar just read, on its line and followed by a space (or, in flow
   context, by anything), or NULL. */
static const char *llmsplit__y_colon(const llmsplit__yaml *y, int flow) {
    const char *q = y->p;
    while (q < y->end && *q == ' ') q++;
    return q < y->end && *q == ':' && (flow || llmsplit__y_ws(y, q + 1)) ? q : NULL;
}

/* Writes the scalar just read (style, from at on the line at ls) as a key, keeps it for the
   repeat check and moves to its ':' (in flow context there may be none). */
static int llmsplit__y_key(llmsplit__yaml *y, const char *at, const char *ls, int style, int flow) {
    const char *q = llmsplit__y_colon(y, flow), *s;
    llmsplit__ykey k;
    size_t chars = 0;
    if (!q && !flow) return llmsplit__y_fail(y, y->p, "expected ': ' after the key");
    if (y->ls != ls) return llmsplit__y_fail(y, at, "a key on more than one line: write it on one line");
    if (style == 'p' && !llmsplit__y_resolve(y, at, 1)) return 0;
    if (q) y->p = q;
    for (s = at; s < y->p; s++) chars += (*s & 0xc0) != 0x80;
    if (chars > 1024) return llmsplit__y_fail(y, at, "a key longer than 1024 characters: YAML stops looking for its ':' there");
    k.src = at;
    k.off = y->w.buf.len + !y->w.first;    /* after the comma */
    llmsplit_json_write_key(&y->w, y->t.data, y->t.len);
    k.len = y->w.buf.len - k.off;
    llmsplit_buf_append(&y->keys, &k, sizeof k);
    return 1;
}

/* Reads and writes a key (text on one line). */
static int llmsplit__y_read_key(llmsplit__yaml *y, int flow) {
    const char *at = y->p, *ls = y->ls;
    int style;
    if (strchr("[{|>", *at)) return llmsplit__y_fail(y, at, "a key is text: quote it");
    style = llmsplit__y_scalar(y, PTRDIFF_MAX - 1, flow);
    return style && llmsplit__y_key(y, at, ls, style, flow);
}

/* Writes the scalar just read (style, from at). */
static int llmsplit__y_out(llmsplit__yaml *y, const char *at, int style) {
    if (style == 'p') return llmsplit__y_resolve(y, at, 0);
    llmsplit_json_write_string(&y->w, y->t.data, y->t.len);
    return 1;
}

static int llmsplit__ykey_cmp(const void *a, const void *b) {
    const llmsplit__ykey *x = (const llmsplit__ykey *)a, *z = (const llmsplit__ykey *)b;
    int c = memcmp(x->json, z->json, x->len < z->len ? x->len : z->len);
    if (!c) c = (x->len > z->len) - (x->len < z->len);
    return c ? c : (x->src > z->src) - (x->src < z->src);
}

static int llmsplit__y_open(llmsplit__yaml *y, int obj) {
    if (++y->depth > y->max_depth) return llmsplit__y_fail(y, y->p, "nested deeper than the limit (max_depth)");
    if (obj) llmsplit_json_write_begin_object(&y->w);
    else llmsplit_json_write_begin_array(&y->w);
    return 1;
}

/* Closes a sequence, or a mapping whose keys start at entry first: a repeated key is refused
   (PyYAML keeps the last, JSON readers the first). */
static int llmsplit__y_close(llmsplit__yaml *y, int obj, size_t first) {
    llmsplit__ykey *k = (llmsplit__ykey *)(void *)y->keys.data;
    size_t n = y->keys.len / sizeof *k, i;
    const char *dup = NULL;
    y->depth--;
    if (!obj) {
        llmsplit_json_write_end_array(&y->w);
        return 1;
    }
    if (y->keys.failed || y->w.buf.failed) return llmsplit__y_fail(y, y->p, "out of memory"); /* reported as such */
    if (n > first) {
        for (i = first; i < n; i++) k[i].json = y->w.buf.data + k[i].off;
        qsort(k + first, n - first, sizeof *k, llmsplit__ykey_cmp);
        for (i = first + 1; i < n; i++)
            if (k[i].len == k[i - 1].len && !memcmp(k[i].json, k[i - 1].json, k[i].len) && (!dup || k[i].src < dup))
                dup = k[i].src;
    }
    y->keys.len = first * sizeof *k;
    llmsplit_json_write_end_object(&y->w);
    return dup ? llmsplit__y_fail(y, dup, "a key repeated in its mapping: YAML readers differ on which one counts; keep one") : 1;
}

static int llmsplit__y_node(llmsplit__yaml *y, ptrdiff_t n, int ctx);

/* A block mapping whose keys are at column c; its first key is read (style, from at on the
   line at ls). */
static int llmsplit__y_map(llmsplit__yaml *y, ptrdiff_t c, const char *at, const char *ls, int style) {
    size_t first = y->keys.len / sizeof(llmsplit__ykey);
    ptrdiff_t nc;
    if (!llmsplit__y_open(y, 1) || !llmsplit__y_key(y, at, ls, style, 0)) return 0;
    for (;;) {
        y->tok = ++y->p;
        llmsplit__y_node(y, c, 0);
        if ((nc = llmsplit__y_after(y)) > c)
            return llmsplit__y_fail(y, y->p, "indented more than the keys above: align it with them, or nest it under a key that has no value");
        if (nc < c) return llmsplit__y_close(y, 1, first);
        if (llmsplit__y_dash(y)) return llmsplit__y_fail(y, y->p, "a '- ' item where a key belongs: indent the list under its key");
        if (!llmsplit__y_read_key(y, 0)) return 0;
    }
}

/* A block sequence whose '- ' are at column c. */
static int llmsplit__y_seq(llmsplit__yaml *y, ptrdiff_t c) {
    ptrdiff_t nc;
    if (!llmsplit__y_open(y, 0)) return 0;
    do {
        y->tok = ++y->p;
        llmsplit__y_node(y, c, 1);
        if ((nc = llmsplit__y_after(y)) > c)
            return llmsplit__y_fail(y, y->p, "indented more than the '- ' above: align it with them");
    } while (nc == c && llmsplit__y_dash(y));
    return llmsplit__y_close(y, 0, 0);
}

static int llmsplit__y_flow(llmsplit__yaml *y);

/* A scalar or a flow collection at the cursor, written; n: the column of the block collection
   it is in. */
static int llmsplit__y_value(llmsplit__yaml *y, ptrdiff_t n, int flow) {
    const char *at = y->p;
    int style;
    if (*at == '[' || *at == '{') return llmsplit__y_flow(y);
    return (style = llmsplit__y_scalar(y, n, flow)) != 0 && llmsplit__y_out(y, at, style);
}

/* [a, b] or {a: 1}, over any number of lines. */
static int llmsplit__y_flow(llmsplit__yaml *y) {
    const char *open = y->p;
    int obj = *open == '{';
    char close = obj ? '}' : ']';
    size_t first = y->keys.len / sizeof(llmsplit__ykey);
    if (!llmsplit__y_open(y, obj)) return 0;
    y->p++;
    for (;;) {
        if (llmsplit__y_next(y) < 0) return llmsplit__y_fail(y, open, obj ? "a '{' never closed: add '}'" : "a '[' never closed: add ']'");
        if (*y->p == close) break;
        if (obj) {
            if (!llmsplit__y_read_key(y, 1)) return 0;
            if (llmsplit__y_is(y, ':') && (y->p++, llmsplit__y_next(y) >= 0) && *y->p != ',' && *y->p != '}') llmsplit__y_value(y, 0, 1);
            else llmsplit_json_write_null(&y->w);
        } else {
            llmsplit__y_value(y, 0, 1);
            if (llmsplit__y_next(y) >= 0 && *y->p == ':')
                return llmsplit__y_fail(y, y->p, "a KEY: VALUE pair inside [ ]: write it as {KEY: VALUE}");
        }
        if (llmsplit__y_next(y) >= 0) {
            if (*y->p == ',') y->p++;
            else if (*y->p != close) return llmsplit__y_fail(y, y->p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
    y->tok = ++y->p;
    return llmsplit__y_close(y, obj, first);
}

/* The node after "KEY:" (ctx 0), "- " (ctx 1) or at the top (ctx 2), in a block collection at
   column n. */
static int llmsplit__y_node(llmsplit__yaml *y, ptrdiff_t n, int ctx) {
    const char *ls = y->ls, *at;
    ptrdiff_t c = llmsplit__y_next(y);
    int same = ctx < 2 && y->ls == ls, style;
    if (c < 0 || (!same && (c < n || (c == n && (ctx || !llmsplit__y_dash(y)))))) {
        llmsplit_json_write_null(&y->w);
        return 1;
    }
    if (llmsplit__y_dash(y))
        return same && !ctx ? llmsplit__y_fail(y, y->p, "a list on its key's line: start it on the next line") : llmsplit__y_seq(y, c);
    at = y->p;
    ls = y->ls;
    if (*at == '[' || *at == '{') return llmsplit__y_flow(y);
    if (!(style = llmsplit__y_scalar(y, n, 0))) return 0;
    if (style == '|' || style == '>' || !llmsplit__y_colon(y, 0)) return llmsplit__y_out(y, at, style);
    if (style == 'p' && y->ls != ls) {    /* a plain value went on over a deeper line that is a key */
        for (at = y->ls; *at == ' '; at++) {}
        return llmsplit__y_fail(y, at, "indented more than the keys above: align it with them, or nest it under a key that has no value");
    }
    return same && !ctx ? llmsplit__y_fail(y, at, "a mapping on its key's line (a: b: c): start it on the next line, indented")
                        : llmsplit__y_map(y, c, at, ls, style);
}

static llmsplit_json_doc *llmsplit__yaml_parse(const char *text, size_t len, const llmsplit_json_desc *desc,
                                               llmsplit_error *err) {
    llmsplit__yaml y;
    llmsplit_json_doc *doc = NULL;
    llmsplit_allocator a = llmsplit__allocator_or_default(desc ? &desc->allocator : NULL);
    const unsigned char *u = (const unsigned char *)text, *e = u + len;
    llmsplit__clear_error(err);
    if (!text && len) {
        llmsplit__fill_error(err, LLMSPLIT_ERR_USAGE, NULL, NULL, "NULL text");
        return NULL;
    }
    if (!text) text = "";
    memset(&y, 0, sizeof y);
    /* what PyYAML refuses (control characters, invalid UTF-8) and line breaks it reads that
       this reader does not (a lone CR, U+0085, U+2028, U+2029) */
    for (; u < e && !y.msg; u++) {
        size_t n = *u < 0x80 ? 1 : llmsplit__utf8_seq(u, e);
        if (!n) llmsplit__y_fail(&y, (const char *)u, "not UTF-8: save the file as UTF-8");
        else if (*u == 0x7f || (*u < 0x20 && *u != '\t' && *u != '\n' && (*u != '\r' || u + 1 >= e || u[1] != '\n')) ||
                 (*u == 0xc2 && u[1] < 0xa0) || (*u == 0xe2 && u[1] == 0x80 && (u[2] | 1) == 0xa9) ||
                 (*u == 0xef && u[1] == 0xbf && u[2] >= 0xbe))
            llmsplit__y_fail(&y, (const char *)u, "a control character, line separator or CR without LF: write it as an escape in double quotes");
        u += n ? n - 1 : 0;
    }
    if (!y.msg) {
        y.p = y.ls = text + (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0);
        y.end = text + len;
        y.tok = y.p;
        y.max_depth = desc && desc->max_depth > 0 ? desc->max_depth : LLMSPLIT_YAML_MAX_DEPTH;
        llmsplit_json_writer_init(&y.w, &a);
        llmsplit_buf_init(&y.t, &a);
        llmsplit_buf_init(&y.keys, &a);
        llmsplit__y_node(&y, -1, 2);
        if (llmsplit__y_after(&y) >= 0)
            llmsplit__y_fail(&y, y.p, "this line does not fit the indentation above it: align it with the keys or '- ' it belongs to");
        if (y.w.buf.failed || y.t.failed || y.keys.failed || (!y.msg && y.w.err)) {
            y.msg = NULL;
            llmsplit__fill_error(err, LLMSPLIT_ERR_NOMEM, NULL, NULL, "out of memory");
        } else if (!y.msg) {
            doc = llmsplit__json_parse(y.w.buf.data, y.w.buf.len, desc, err);
        }
        llmsplit_json_writer_free(&y.w);
        llmsplit_buf_free(&y.t);
        llmsplit_buf_free(&y.keys);
    }
    if (y.msg) llmsplit__fill_error(err, LLMSPLIT_ERR_CONFIG, (const unsigned char *)text, (const unsigned char *)y.at, y.msg);
    return doc;
}

LLMSPLIT_API llmsplit_status llmsplit_yaml_parse(const char *text, size_t len, const llmsplit_json_desc *desc,
                                                 llmsplit_json_doc **doc, llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    if (!doc) return llmsplit__no_out(err, "yaml");
    *doc = llmsplit__yaml_parse(text, len, desc, e);
    return llmsplit__made(*doc, e);
}
#endif /* LLMSPLIT_NO_YAML */

/* How a config text that is not JSON gets read: the YAML reader, or NULL (JSON only). The client
   of the one-call form passes NULL, since its config is JSON it wrote itself, so a program that
   only uses that form does not link the reader. */
typedef llmsplit_json_doc *(*llmsplit__yaml_fn)(const char *text, size_t len, const llmsplit_json_desc *desc,
                                                llmsplit_error *err);
#ifndef LLMSPLIT_NO_YAML
#define LLMSPLIT__YAML llmsplit__yaml_parse
#else
#define LLMSPLIT__YAML NULL
#endif

/* ==== 3. http =========================================================================== */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#ifndef LLMSPLIT_NO_THREADS
#include <pthread.h>
#endif
#ifndef LLMSPLIT_NO_TLS
#include <bearssl.h>
#endif

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* BSDs: SO_NOSIGPIPE is set on the socket instead */
#endif

/* --- URLs ----------------------------------------------------------------------------- */

static int llmsplit__host_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

/* A URL as a message or a log line may show it: scheme, *** in place of any user information,
   host, port and path. User information holds a password and a query string often a key
   (?key=, ?sig=), so neither is ever printed; what is left still tells a person which endpoint
   it was. Control bytes become '?'. */
static const char *llmsplit__url_redact(const char *url, char *out, size_t cap) {
    const char *p = url ? url : "", *auth = p, *auth_end, *at = NULL, *end, *q;
    size_t o = 0, n = strcspn(p, ":/?#@");
    const char *parts[4];
    size_t lens[4], k;
    if (p[n] == ':' && p[n + 1] == '/' && p[n + 2] == '/') auth = p + n + 3;
    auth_end = auth + strcspn(auth, "/?#");
    for (q = auth; q < auth_end; q++)
        if (*q == '@') at = q;
    end = auth_end + strcspn(auth_end, "?#");
    parts[0] = p; lens[0] = (size_t)(auth - p);
    parts[1] = "***@"; lens[1] = at ? 4 : 0;
    parts[2] = at ? at + 1 : auth; lens[2] = (size_t)(auth_end - parts[2]);
    parts[3] = auth_end; lens[3] = (size_t)(end - auth_end);
    if (!cap) return out;
    for (k = 0; k < 4; k++)
        for (n = 0; n < lens[k] && o + 1 < cap; n++) {
            unsigned char c = (unsigned char)parts[k][n];
            out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
    out[o] = 0;
    return out;
}

static int llmsplit__url_parse(const char *url, llmsplit_url *out, llmsplit_error *err) {
    const char *p, *host, *host_end, *auth_end, *at;
    size_t n, i;
    memset(out, 0, sizeof *out);
    if (!url) { llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: missing"); return 0; }
    for (p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: contains a space or control character");
            return 0;
        }
    if (strncasecmp(url, "https://", 8) == 0) { out->https = 1; p = url + 8; out->port = 443; }
    else if (strncasecmp(url, "http://", 7) == 0) { p = url + 7; out->port = 80; }
    else {
        char shown[61];
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: must start with http:// or https:// ('%s')",
                            llmsplit__url_redact(url, shown, sizeof shown));
        return 0;
    }
    auth_end = p + strcspn(p, "/?#");
    at = NULL;
    for (host = p; host < auth_end; host++)
        if (*host == '@') at = host;
    host = p;
    if (at) {
        if ((size_t)(at - p) >= sizeof out->userinfo) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: user information too long");
            return 0;
        }
        memcpy(out->userinfo, p, (size_t)(at - p));
        host = at + 1;
    }
    if (*host == '[') {
        unsigned char tmp[16];
        host++;
        host_end = (const char *)memchr(host, ']', (size_t)(auth_end - host));
        if (!host_end || (size_t)(host_end - host) >= sizeof out->host) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: unterminated IPv6 literal");
            return 0;
        }
        memcpy(out->host, host, (size_t)(host_end - host));
        if (inet_pton(AF_INET6, out->host, tmp) != 1) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: invalid IPv6 address '%s'", out->host);
            return 0;
        }
        out->host_is_ip = 6;
        p = host_end + 1;
        if (p < auth_end && *p != ':') {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: unexpected text after IPv6 literal");
            return 0;
        }
    } else {
        unsigned char tmp[4];
        for (p = host; p < auth_end && *p != ':'; p++)
            if (!llmsplit__host_char((unsigned char)*p)) {
                llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: invalid character '%c' in host", *p);
                return 0;
            }
        n = (size_t)(p - host);
        if (n == 0 || n >= sizeof out->host) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, n ? "url: host name too long" : "url: empty host");
            return 0;
        }
        for (i = 0; i < n; i++) out->host[i] = (char)((host[i] >= 'A' && host[i] <= 'Z') ? host[i] + 32 : host[i]);
        if (inet_pton(AF_INET, out->host, tmp) == 1) out->host_is_ip = 4;
    }
    if (p < auth_end && *p == ':') {
        long port = 0;
        p++;
        if (p == auth_end) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: empty port");
            return 0;
        }
        for (; p < auth_end; p++) {
            if (*p < '0' || *p > '9' || port > 65535) {
                llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: invalid port");
                return 0;
            }
            port = port * 10 + (*p - '0');
        }
        if (port < 1 || port > 65535) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: port out of range");
            return 0;
        }
        out->port = (int)port;
    }
    n = strcspn(auth_end, "#");
    if (n + 2 > sizeof out->target) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: path longer than %d bytes", LLMSPLIT_URL_MAX);
        return 0;
    }
    i = 0;
    if (*auth_end != '/') out->target[i++] = '/';
    memcpy(out->target + i, auth_end, n);
    return 1;
}

LLMSPLIT_API llmsplit_status llmsplit_url_parse(const char *url, llmsplit_url *out, llmsplit_error *err) {
    llmsplit_error local;
    if (!out) return llmsplit__no_out(err, "url");
    if (llmsplit__url_parse(url, out, err ? err : &local)) return LLMSPLIT_OK;
    return LLMSPLIT_ERR_USAGE;
}

/* --- response parser ---------------------------------------------------------------------- */

enum {
    LLMSPLIT__HP_HEAD = 0, LLMSPLIT__HP_BODY, LLMSPLIT__HP_CHUNK_SIZE, LLMSPLIT__HP_CHUNK_DATA,
    LLMSPLIT__HP_CHUNK_CRLF, LLMSPLIT__HP_TRAILER, LLMSPLIT__HP_CLOSE, LLMSPLIT__HP_DONE,
    LLMSPLIT__HP_ERROR
};

LLMSPLIT_API void llmsplit_http_parser_init(llmsplit_http_parser *p, llmsplit_http_response *resp) {
    memset(p, 0, sizeof *p);
    p->resp = resp;
    p->max_header_bytes = LLMSPLIT_HTTP_MAX_HEADER_BYTES;
    p->max_body_bytes = LLMSPLIT_HTTP_MAX_BODY_BYTES;
}

static int llmsplit__hp_fail(llmsplit_http_parser *p, llmsplit_error *err, const char *fmt, ...) {
    va_list ap;
    p->state = LLMSPLIT__HP_ERROR;
    if (err) {
        err->code = LLMSPLIT_ERR_HTTP;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A token character (RFC 9110): letters, digits and !#$%&'*+-.^_`|~: '1' by value, a load and a
   compare a byte (-Os: a bit each, less code). */
#if !LLMSPLIT__SMALL
static const char llmsplit__tchar_map[257] =
    "0000000000000000000000000000000001011111001101101111111111000000"
    "0111111111111111111111111110001111111111111111111111111111101010"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000";
static LLMSPLIT__INLINE int llmsplit__tchar(unsigned char c) { return llmsplit__tchar_map[c] == '1'; }
#else
static const uint64_t llmsplit__tchar_bits[4] = {0x03ff6cfa00000000ull, 0x57ffffffc7fffffeull, 0, 0};
static int llmsplit__tchar(unsigned char c) { return (int)(llmsplit__tchar_bits[c >> 6] >> (c & 63) & 1); }
#endif

/* Reads a Connection value (comma-separated tokens, any case): bit 1 for close, 2 for keep-alive. */
static int llmsplit__conn_tokens(const char *v, size_t n) {
    size_t i = 0;
    int found = 0;
    while (i < n) {
        size_t s, e;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        s = i;
        while (i < n && v[i] != ',') i++;
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e - s == 5 && strncasecmp(v + s, "close", 5) == 0) found |= 1;
        else if (e - s == 10 && strncasecmp(v + s, "keep-alive", 10) == 0) found |= 2;
    }
    return found;
}

/* Parses the complete header block in resp->head (ending in CRLF CRLF) and sets up framing.
   The scan that found its end has checked every byte of it: each LF follows a CR, each CR comes
   before an LF, and no other control character than HTAB is in it. Returns 1 for a final
   response, 2 for an interim 1xx to skip, -1 on error. */
static int llmsplit__hp_head(llmsplit_http_parser *p, llmsplit_error *err) {
    llmsplit_http_response *r = p->resp;
    const char *h = r->head.data, *end = h + r->head.len - 2, *line, *eol;
    int have_cl = 0, have_te = 0, conn_close = 0, conn_keep = 0;
    uint64_t cl = 0;
    /* status line: HTTP/1.x SP 3DIGIT SP reason */
    if (r->head.len < 14 || memcmp(h, "HTTP/1.", 7) != 0 || (h[7] != '0' && h[7] != '1') || h[8] != ' ' ||
        h[9] < '1' || h[9] > '5' || h[10] < '0' || h[10] > '9' || h[11] < '0' || h[11] > '9' ||
        (h[12] != ' ' && h[12] != '\r'))
        return llmsplit__hp_fail(p, err, "malformed status line (not an HTTP/1.x response)");
    r->minor_version = h[7] - '0';
    r->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    r->num_headers = 0;
    eol = (const char *)memchr(h, '\n', (size_t)(end + 2 - h)) - 1;
    for (line = eol + 2; line < end; line = eol + 2) {
        const char *colon, *v, *ve;
        eol = (const char *)memchr(line, '\n', (size_t)(end + 2 - line)) - 1;
        if (line[0] == ' ' || line[0] == '\t')
            return llmsplit__hp_fail(p, err, "obsolete header line folding is not accepted");
        /* (no bound needed: every LF of the head follows a CR, checked above, and a CR is no
           token character, so the scan stops at eol at the latest) */
        for (colon = line; llmsplit__tchar((unsigned char)*colon); colon++) {}
        if (colon == line || colon >= eol || *colon != ':')
            return llmsplit__hp_fail(p, err, "malformed header line");
        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {}
        for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
        if (r->num_headers >= LLMSPLIT_HTTP_MAX_HEADERS)
            return llmsplit__hp_fail(p, err, "more than %d response header fields", LLMSPLIT_HTTP_MAX_HEADERS);
        r->num_headers++;
        if ((size_t)(colon - line) == 14 && strncasecmp(line, "content-length", 14) == 0) {
            uint64_t val = 0;
            const char *q;
            if (v == ve) return llmsplit__hp_fail(p, err, "empty Content-Length");
            for (q = v; q < ve; q++) {
                if (*q < '0' || *q > '9') return llmsplit__hp_fail(p, err, "invalid Content-Length");
                if (val > (UINT64_MAX - 9) / 10) return llmsplit__hp_fail(p, err, "Content-Length overflows");
                val = val * 10 + (uint64_t)(*q - '0');
            }
            if (have_cl && val != cl) return llmsplit__hp_fail(p, err, "conflicting Content-Length headers");
            have_cl = 1;
            cl = val;
        } else if ((size_t)(colon - line) == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
            if (have_te || (size_t)(ve - v) != 7 || strncasecmp(v, "chunked", 7) != 0)
                return llmsplit__hp_fail(p, err, "unsupported Transfer-Encoding '%.*s' (only chunked)",
                                         (int)(ve - v > 40 ? 40 : ve - v), v);
            have_te = 1;
        } else if ((size_t)(colon - line) == 10 && strncasecmp(line, "connection", 10) == 0) {
            int t = llmsplit__conn_tokens(v, (size_t)(ve - v));
            conn_close |= t & 1;
            conn_keep |= t >> 1;
        }
    }
    if (r->status < 200) {
        if (r->status == 101) return llmsplit__hp_fail(p, err, "unexpected 101 Switching Protocols");
        return 2;
    }
    if (have_te && have_cl)
        return llmsplit__hp_fail(p, err, "response has both Transfer-Encoding and Content-Length");
    r->keep_alive = r->minor_version == 1 ? !conn_close : (conn_keep && !conn_close);
    if (p->head_request || r->status == 204 || r->status == 304) {
        p->state = LLMSPLIT__HP_DONE;
    } else if (have_te) {
        p->chunked = 1;
        p->state = LLMSPLIT__HP_CHUNK_SIZE;
    } else if (have_cl) {
        if (cl > p->max_body_bytes)
            return llmsplit__hp_fail(p, err, "response body larger than %llu bytes (Content-Length %llu)",
                                     (unsigned long long)p->max_body_bytes, (unsigned long long)cl);
        p->remaining = cl;
        p->state = cl ? LLMSPLIT__HP_BODY : LLMSPLIT__HP_DONE;
    } else {
        p->close_delimited = 1;
        r->keep_alive = 0;
        p->state = LLMSPLIT__HP_CLOSE;
    }
    return 1;
}

static int llmsplit__hp_body(llmsplit_http_parser *p, const char *data, size_t n, llmsplit_error *err) {
    llmsplit_http_response *r = p->resp;
    if (!n) return 0;
    if (r->body_bytes + n > p->max_body_bytes)
        return llmsplit__hp_fail(p, err, "response body larger than %llu bytes", (unsigned long long)p->max_body_bytes);
    r->body_bytes += n;
    if (p->on_body) {
        if (p->on_body(data, n, p->user_data) != 0) {
            p->state = LLMSPLIT__HP_ERROR;
            if (!err || !err->code) /* the callback may have said why itself */
                llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "aborted by the body callback");
            return -1;
        }
        return 0;
    }
    llmsplit_buf_append(&r->body, data, n);
    if (r->body.failed) {
        p->state = LLMSPLIT__HP_ERROR;
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory for the response body");
        return -1;
    }
    return 0;
}

/* Collects one CRLF-terminated line into p->line. Returns 1 when complete (CRLF stripped),
   0 when more is needed, -1 on a bare CR/LF or an overlong line. */
static int llmsplit__hp_line(llmsplit_http_parser *p, const char *data, size_t len, size_t *i,
                             llmsplit_error *err, const char *what) {
    while (*i < len) {
        char c = data[(*i)++];
        if (p->line_len > 0 && p->line[p->line_len - 1] == '\r') {
            if (c != '\n') return llmsplit__hp_fail(p, err, "bare CR in %s", what);
            p->line_len--;
            p->line[p->line_len] = 0;
            return 1;
        }
        if (c == '\n') return llmsplit__hp_fail(p, err, "bare LF in %s", what);
        if (p->line_len + 1 >= sizeof p->line) return llmsplit__hp_fail(p, err, "%s line too long", what);
        p->line[p->line_len++] = c;
    }
    return 0;
}

static int llmsplit__hp_feed(llmsplit_http_parser *p, const char *data, size_t len,
                                           size_t *consumed, llmsplit_error *err) {
    size_t i = 0;
    llmsplit_http_response *r = p->resp;
    *consumed = 0;
    while (i < len || p->state == LLMSPLIT__HP_DONE) {
        switch (p->state) {
        case LLMSPLIT__HP_HEAD: {
            /* append what may belong to the head, then look for the blank line */
            size_t room = p->max_header_bytes - r->head.len, take = len - i, k, blank = 0, hlen;
            const char *hd;
            if (take > room + 4) take = room + 4;
            llmsplit_buf_append(&r->head, data + i, take);
            if (r->head.failed) {
                p->state = LLMSPLIT__HP_ERROR;
                llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory for response headers");
                return -1;
            }
            hd = r->head.data;
            hlen = r->head.len;
            for (k = p->scan; k < hlen; k++) {
                unsigned char ch;
                /* eight bytes at a time past those that are no control character (most of a head) */
                while (!LLMSPLIT__SMALL && hlen - k >= 8) {
                    uint64_t x, y, m;
                    memcpy(&x, hd + k, 8);
                    y = x ^ 0x7f7f7f7f7f7f7f7full;
                    m = (((x - 0x2020202020202020ull) & ~x) | ((y - 0x0101010101010101ull) & ~y)) & 0x8080808080808080ull;
                    if (m) {
#ifdef LLMSPLIT__SWAR /* (little-endian: the lowest flagged byte is the first) */
                        k += (size_t)(__builtin_ctzll(m) >> 3);
#endif
                        break;
                    }
                    k += 8;
                }
                /* up to the byte that stopped it (else, from the next byte, the same word again) */
                while (k < hlen && (unsigned char)hd[k] >= 0x20 && hd[k] != 0x7f) k++;
                if (k >= hlen) break;
                ch = (unsigned char)hd[k];
                if (ch == '\n') {
                    if (k == 0 || hd[k - 1] != '\r') return llmsplit__hp_fail(p, err, "bare LF in response header");
                    if (k >= 3 && hd[k - 2] == '\n') { blank = k + 1; break; }
                } else if (ch == '\r') {
                    if (k + 1 < hlen && hd[k + 1] != '\n')
                        return llmsplit__hp_fail(p, err, "bare CR in response header");
                } else if (!ch) {
                    return llmsplit__hp_fail(p, err, "NUL byte in response header");
                } else if (ch != '\t') {
                    return llmsplit__hp_fail(p, err, "control character in response header");
                }
            }
            if (!blank) {
                p->scan = r->head.len > 0 && hd[r->head.len - 1] == '\r' ? r->head.len - 1 : r->head.len;
                if (r->head.len > p->max_header_bytes)
                    return llmsplit__hp_fail(p, err, "response header larger than %lu bytes",
                                             (unsigned long)p->max_header_bytes);
                i += take;
                break;
            }
            if (blank > p->max_header_bytes)
                return llmsplit__hp_fail(p, err, "response header larger than %lu bytes",
                                         (unsigned long)p->max_header_bytes);
            /* give back the bytes after the blank line */
            i += take - (r->head.len - blank);
            r->head.len = blank;
            r->head.data[blank] = 0;
            p->scan = 0;
            switch (llmsplit__hp_head(p, err)) {
            case -1: return -1;
            case 2: /* interim: next head */
                if (++p->interim > LLMSPLIT_HTTP_MAX_INTERIM)
                    return llmsplit__hp_fail(p, err, "more than %d interim (1xx) responses", LLMSPLIT_HTTP_MAX_INTERIM);
                r->head.len = 0;
                r->num_headers = 0;
                break;
            default: break;
            }
            break;
        }
        case LLMSPLIT__HP_BODY:
        case LLMSPLIT__HP_CHUNK_DATA: { /* a counted run of body bytes: all of it, or one chunk */
            size_t n = len - i;
            if ((uint64_t)n > p->remaining) n = (size_t)p->remaining;
            if (llmsplit__hp_body(p, data + i, n, err) < 0) return -1;
            i += n;
            p->remaining -= n;
            if (!p->remaining) p->state = p->state == LLMSPLIT__HP_BODY ? LLMSPLIT__HP_DONE : LLMSPLIT__HP_CHUNK_CRLF;
            break;
        }
        case LLMSPLIT__HP_CHUNK_SIZE: {
            int lr = llmsplit__hp_line(p, data, len, &i, err, "chunk size");
            uint64_t size = 0;
            size_t k, digits = 0;
            if (lr < 0) return -1;
            if (lr == 0) break;
            for (k = 0; k < p->line_len; k++) {
                char c = p->line[k];
                int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
                if (d < 0) break;
                if (++digits > 15) return llmsplit__hp_fail(p, err, "chunk size overflows");
                size = size * 16 + (uint64_t)d;
            }
            while (k < p->line_len && (p->line[k] == ' ' || p->line[k] == '\t')) k++;
            if (!digits || (k < p->line_len && p->line[k] != ';'))
                return llmsplit__hp_fail(p, err, "invalid chunk size '%.20s'", p->line);
            p->line_len = 0;
            if (size == 0) { p->state = LLMSPLIT__HP_TRAILER; break; }
            if (r->body_bytes + size > p->max_body_bytes)
                return llmsplit__hp_fail(p, err, "response body larger than %llu bytes",
                                         (unsigned long long)p->max_body_bytes);
            p->remaining = size;
            p->state = LLMSPLIT__HP_CHUNK_DATA;
            break;
        }
        case LLMSPLIT__HP_CHUNK_CRLF: {
            int lr = llmsplit__hp_line(p, data, len, &i, err, "chunk");
            if (lr < 0) return -1;
            if (lr == 0) break;
            if (p->line_len != 0) return llmsplit__hp_fail(p, err, "chunk data longer than its size");
            p->state = LLMSPLIT__HP_CHUNK_SIZE;
            break;
        }
        case LLMSPLIT__HP_TRAILER: {
            size_t before = i;
            int lr = llmsplit__hp_line(p, data, len, &i, err, "trailer");
            p->trailer_bytes += i - before;
            if (lr < 0) return -1;
            if (p->trailer_bytes > p->max_header_bytes)
                return llmsplit__hp_fail(p, err, "trailers larger than %lu bytes", (unsigned long)p->max_header_bytes);
            if (lr == 0) break;
            if (p->line_len == 0) p->state = LLMSPLIT__HP_DONE;
            p->line_len = 0;
            break;
        }
        case LLMSPLIT__HP_CLOSE:
            if (llmsplit__hp_body(p, data + i, len - i, err) < 0) return -1;
            i = len;
            break;
        case LLMSPLIT__HP_DONE:
            *consumed = i;
            p->total_bytes += i;
            return 1;
        default:
            return llmsplit__hp_fail(p, err, "parser used after an error");
        }
    }
    *consumed = i;
    p->total_bytes += i;
    return 0;
}

LLMSPLIT_API llmsplit_status llmsplit_http_parser_feed(llmsplit_http_parser *p, const char *data, size_t len,
                                                       size_t *consumed, int *done, llmsplit_error *err) {
    llmsplit_error local;
    llmsplit_error *e = err ? err : &local;
    int rc;
    size_t used = 0;
    e->code = LLMSPLIT_OK;
    rc = llmsplit__hp_feed(p, data, len, &used, e);
    if (consumed) *consumed = used;
    if (done) *done = rc == 1;
    if (rc >= 0) return LLMSPLIT_OK;
    return e->code != LLMSPLIT_OK ? e->code : LLMSPLIT_ERR_HTTP;
}

static int llmsplit__hp_eof(llmsplit_http_parser *p, llmsplit_error *err) {
    if (p->state == LLMSPLIT__HP_CLOSE || p->state == LLMSPLIT__HP_DONE) {
        p->state = LLMSPLIT__HP_DONE;
        return 1;
    }
    if (p->state == LLMSPLIT__HP_ERROR) return -1;
    if (p->state == LLMSPLIT__HP_HEAD && p->total_bytes == 0 && p->resp->head.len == 0)
        return llmsplit__hp_fail(p, err, "connection closed before any response");
    return llmsplit__hp_fail(p, err, "connection closed in the middle of the response");
}

LLMSPLIT_API llmsplit_status llmsplit_http_parser_eof(llmsplit_http_parser *p, llmsplit_error *err) {
    llmsplit_error local;
    return llmsplit__hp_eof(p, err ? err : &local) == 1 ? LLMSPLIT_OK : LLMSPLIT_ERR_HTTP;
}

LLMSPLIT_API const char *llmsplit_http_get_header(const llmsplit_http_response *resp, const char *name,
                                              size_t *len) {
    /* The parser validated the head (status line, then "name: value" lines ending in CRLF), so a
       scan of it is the index: no table in the response, whose size would then depend on
       LLMSPLIT_HTTP_MAX_HEADERS. */
    const char *h, *end, *line, *eol;
    size_t nl = name ? strlen(name) : 0;
    if (len) *len = 0;
    if (!resp || !name || resp->head.len < 4 || resp->num_headers == 0) return NULL;
    h = resp->head.data;
    end = h + resp->head.len - 2;
    eol = strstr(h, "\r\n");
    for (line = eol ? eol + 2 : end; line < end; line = eol + 2) {
        const char *v, *ve;
        eol = strstr(line, "\r\n");
        if (!eol) break;
        if ((size_t)(eol - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            for (v = line + nl + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {}
            for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--) {}
            if (len) *len = (size_t)(ve - v);
            return v;
        }
    }
    return NULL;
}

LLMSPLIT_API void llmsplit_http_response_free(llmsplit_http_response *resp) {
    if (!resp) return;
    llmsplit_buf_free(&resp->head);
    llmsplit_buf_free(&resp->body);
    resp->num_headers = 0;
}

/* --- TLS: trust anchors, certificate checks, error messages -------------------------------- */

#ifndef LLMSPLIT_NO_TLS
typedef struct llmsplit__tas {
    br_x509_trust_anchor *v;
    size_t n, cap;
    llmsplit_allocator allocator;
} llmsplit__tas;

static void llmsplit__tas_free(llmsplit__tas *t) {
    size_t i;
    for (i = 0; i < t->n; i++) {
        br_x509_trust_anchor *ta = &t->v[i];
        llmsplit__free(&t->allocator, ta->dn.data);
        if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
            llmsplit__free(&t->allocator, ta->pkey.key.rsa.n);
            llmsplit__free(&t->allocator, ta->pkey.key.rsa.e);
        } else {
            llmsplit__free(&t->allocator, ta->pkey.key.ec.q);
        }
    }
    llmsplit__free(&t->allocator, t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

static void llmsplit__buf_sink(void *ctx, const void *data, size_t len) {
    llmsplit_buf_append((llmsplit_buf *)ctx, data, len);
}

/* Adds the certificate (DER) as a trust anchor. Returns 0 when it cannot be decoded. */
static int llmsplit__tas_add(llmsplit__tas *t, const unsigned char *der, size_t len) {
    br_x509_decoder_context dc;
    llmsplit_buf dn;
    const br_x509_pkey *pk;
    br_x509_trust_anchor *ta;
    int ok = 0;
    llmsplit_buf_init(&dn, &t->allocator);
    br_x509_decoder_init(&dc, llmsplit__buf_sink, &dn);
    br_x509_decoder_push(&dc, der, len);
    pk = br_x509_decoder_get_pkey(&dc);
    if (!pk || dn.failed || !dn.len) goto done;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        br_x509_trust_anchor *nv = (br_x509_trust_anchor *)llmsplit__alloc(&t->allocator, cap * sizeof *nv);
        if (!nv) goto done;
        if (t->n) memcpy(nv, t->v, t->n * sizeof *nv);
        llmsplit__free(&t->allocator, t->v);
        t->v = nv;
        t->cap = cap;
    }
    ta = &t->v[t->n];
    memset(ta, 0, sizeof *ta);
    ta->dn.data = (unsigned char *)llmsplit__dup(&t->allocator, dn.data, dn.len);
    ta->dn.len = dn.len;
    ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
    ta->pkey.key_type = pk->key_type;
    if (pk->key_type == BR_KEYTYPE_RSA) {
        ta->pkey.key.rsa.n = (unsigned char *)llmsplit__dup(&t->allocator, pk->key.rsa.n, pk->key.rsa.nlen);
        ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
        ta->pkey.key.rsa.e = (unsigned char *)llmsplit__dup(&t->allocator, pk->key.rsa.e, pk->key.rsa.elen);
        ta->pkey.key.rsa.elen = pk->key.rsa.elen;
        ok = ta->dn.data && ta->pkey.key.rsa.n && ta->pkey.key.rsa.e;
    } else {
        ta->pkey.key.ec.curve = pk->key.ec.curve;
        ta->pkey.key.ec.q = (unsigned char *)llmsplit__dup(&t->allocator, pk->key.ec.q, pk->key.ec.qlen);
        ta->pkey.key.ec.qlen = pk->key.ec.qlen;
        ok = ta->dn.data && ta->pkey.key.ec.q;
    }
    t->n++; /* counted even when a copy failed, so free releases what was made */
done:
    llmsplit_buf_free(&dn);
    return ok;
}

/* Adds every CERTIFICATE block of a PEM text. Returns the number added. */
static size_t llmsplit__tas_add_pem(llmsplit__tas *t, const char *pem, size_t len) {
    br_pem_decoder_context pc;
    llmsplit_buf der;
    size_t added = 0, off = 0;
    int in_cert = 0;
    llmsplit_buf_init(&der, &t->allocator);
    br_pem_decoder_init(&pc);
    while (off < len) {
        off += br_pem_decoder_push(&pc, pem + off, len - off);
        switch (br_pem_decoder_event(&pc)) {
        case BR_PEM_BEGIN_OBJ:
            der.len = 0;
            in_cert = strcmp(br_pem_decoder_name(&pc), "CERTIFICATE") == 0 ||
                      strcmp(br_pem_decoder_name(&pc), "X509 CERTIFICATE") == 0;
            br_pem_decoder_setdest(&pc, in_cert ? llmsplit__buf_sink : NULL, &der);
            break;
        case BR_PEM_END_OBJ:
            if (in_cert && der.len && !der.failed && llmsplit__tas_add(t, (const unsigned char *)der.data, der.len))
                added++;
            in_cert = 0;
            break;
        case BR_PEM_ERROR:
            /* skip to the next line and carry on: one bad block should not hide the rest */
            while (off < len && pem[off] != '\n') off++;
            br_pem_decoder_init(&pc);
            in_cert = 0;
            break;
        default:
            break;
        }
    }
    llmsplit_buf_free(&der);
    return added;
}

#endif /* LLMSPLIT_NO_TLS: the DER reader below needs no BearSSL, and is a building block */

/* A minimal DER reader: enough to find the validity dates and IP subjectAltNames of a leaf. */
typedef struct llmsplit__der { const unsigned char *p, *end; } llmsplit__der;

/* Reads one element: its tag, and a reader over its contents. 0 on malformed input. */
static int llmsplit__der_next(llmsplit__der *d, unsigned *tag, llmsplit__der *inner) {
    size_t len = 0;
    if (d->end - d->p < 2) return 0;
    *tag = *d->p++;
    if (*d->p < 0x80) {
        len = *d->p++;
    } else {
        int n = *d->p++ & 0x7f;
        if (n < 1 || n > 3 || d->end - d->p < n) return 0;
        while (n--) len = (len << 8) | *d->p++;
    }
    if ((size_t)(d->end - d->p) < len) return 0;
    inner->p = d->p;
    inner->end = d->p + len;
    d->p += len;
    return 1;
}

/* From a certificate: the validity (as "YYYYMMDDHHMMSS" strings) and the IP SANs. */
typedef llmsplit_cert_info llmsplit__certinfo;

static void llmsplit__der_time(const llmsplit__der *t, unsigned tag, char out[15]) {
    size_t n = (size_t)(t->end - t->p), digits = tag == 0x17 ? 12 : 14, i;
    out[0] = 0;
    /* digits only: the "not yet valid" check compares these with the clock as strings */
    for (i = 0; i < digits && i < n; i++)
        if (t->p[i] < '0' || t->p[i] > '9') return;
    if (tag == 0x17 && n >= 13) { /* UTCTime YYMMDDHHMMSSZ */
        memcpy(out, t->p[0] < '5' ? "20" : "19", 2);
        memcpy(out + 2, t->p, 12);
        out[14] = 0;
    } else if (tag == 0x18 && n >= 15) { /* GeneralizedTime YYYYMMDDHHMMSSZ */
        memcpy(out, t->p, 14);
        out[14] = 0;
    }
}

static int llmsplit__cert_info(const unsigned char *der, size_t len, llmsplit__certinfo *ci) {
    llmsplit__der d, cert, tbs, el, validity, t;
    unsigned tag;
    int field = 0;
    memset(ci, 0, sizeof *ci);
    d.p = der;
    d.end = der + len;
    if (!llmsplit__der_next(&d, &tag, &cert) || tag != 0x30) return 0;
    if (!llmsplit__der_next(&cert, &tag, &tbs) || tag != 0x30) return 0;
    while (tbs.p < tbs.end) {
        if (!llmsplit__der_next(&tbs, &tag, &el)) return 0;
        if (tag == 0xa0) continue; /* [0] version */
        field++;                   /* 1 serial, 2 sigalg, 3 issuer, 4 validity, 5 subject, 6 spki */
        if (field == 4 && tag == 0x30) {
            validity = el;
            if (llmsplit__der_next(&validity, &tag, &t)) llmsplit__der_time(&t, tag, ci->not_before);
            if (llmsplit__der_next(&validity, &tag, &t)) llmsplit__der_time(&t, tag, ci->not_after);
        }
        if (tag == 0xa3) { /* [3] extensions */
            llmsplit__der exts, ext, oid, val, names, gn;
            if (!llmsplit__der_next(&el, &tag, &exts) || tag != 0x30) return 0;
            while (exts.p < exts.end) {
                if (!llmsplit__der_next(&exts, &tag, &ext) || tag != 0x30) return 0;
                if (!llmsplit__der_next(&ext, &tag, &oid) || tag != 0x06) return 0;
                if (oid.end - oid.p != 3 || memcmp(oid.p, "\x55\x1d\x11", 3) != 0) continue;
                if (!llmsplit__der_next(&ext, &tag, &val)) return 0;
                if (tag == 0x01 && !llmsplit__der_next(&ext, &tag, &val)) return 0; /* critical */
                if (tag != 0x04 || !llmsplit__der_next(&val, &tag, &names) || tag != 0x30) return 0;
                while (names.p < names.end && ci->num_ips < 8) {
                    if (!llmsplit__der_next(&names, &tag, &gn)) return 0;
                    if (tag == 0x87 && (gn.end - gn.p == 4 || gn.end - gn.p == 16)) {
                        memcpy(ci->ips[ci->num_ips], gn.p, (size_t)(gn.end - gn.p));
                        ci->ip_lens[ci->num_ips++] = (int)(gn.end - gn.p);
                    }
                }
            }
        }
    }
    return 1;
}

LLMSPLIT_API llmsplit_status llmsplit_cert_info_parse(const unsigned char *der, size_t len, llmsplit_cert_info *out,
                                                      llmsplit_error *err) {
    llmsplit_cert_info local;
    if (!out) out = &local;
    if (der && llmsplit__cert_info(der, len, out)) return LLMSPLIT_OK;
    memset(out, 0, sizeof *out);
    llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "certificate is not well-formed DER");
    return LLMSPLIT_ERR_TLS;
}

#ifndef LLMSPLIT_NO_TLS
static void llmsplit__utc_now(char out[15]) {
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    if (strftime(out, 15, "%Y%m%d%H%M%S", &tmv) != 14) out[0] = 0;
}

/* An X.509 engine wrapped around BearSSL's minimal one: it also keeps the leaf certificate,
   verifies IP-literal hosts against the leaf's IP SANs (BearSSL checks DNS names only), and
   implements insecure mode (chain errors ignored, the leaf's key used as is). */
#define LLMSPLIT__LEAF_MAX 16384
typedef struct llmsplit__x509 {
    const br_x509_class *vtable;
    br_x509_minimal_context minimal;
    int insecure;
    unsigned char ip[16];
    int ip_len;                   /* > 0: the host is this IP literal */
    int cert_index;
    unsigned char leaf[LLMSPLIT__LEAF_MAX];
    size_t leaf_len;
    int leaf_truncated;
    int ip_mismatch;              /* end_chain failed on the IP check */
    br_x509_decoder_context dec;  /* insecure mode: the leaf's key */
} llmsplit__x509;

static void llmsplit__x_start_chain(const br_x509_class **ctx, const char *server_name) {
    llmsplit__x509 *x = (llmsplit__x509 *)(void *)ctx;
    x->cert_index = -1;
    x->leaf_len = 0;
    x->leaf_truncated = 0;
    x->ip_mismatch = 0;
    br_x509_decoder_init(&x->dec, NULL, NULL);
    x->minimal.vtable->start_chain(&x->minimal.vtable, server_name);
}

static void llmsplit__x_start_cert(const br_x509_class **ctx, uint32_t length) {
    llmsplit__x509 *x = (llmsplit__x509 *)(void *)ctx;
    x->cert_index++;
    x->minimal.vtable->start_cert(&x->minimal.vtable, length);
}

static void llmsplit__x_append(const br_x509_class **ctx, const unsigned char *buf, size_t len) {
    llmsplit__x509 *x = (llmsplit__x509 *)(void *)ctx;
    if (x->cert_index == 0) {
        if (x->leaf_len + len <= sizeof x->leaf) {
            memcpy(x->leaf + x->leaf_len, buf, len);
            x->leaf_len += len;
        } else {
            x->leaf_truncated = 1;
        }
        if (x->insecure) br_x509_decoder_push(&x->dec, buf, len);
    }
    x->minimal.vtable->append(&x->minimal.vtable, buf, len);
}

static void llmsplit__x_end_cert(const br_x509_class **ctx) {
    llmsplit__x509 *x = (llmsplit__x509 *)(void *)ctx;
    x->minimal.vtable->end_cert(&x->minimal.vtable);
}

static unsigned llmsplit__x_end_chain(const br_x509_class **ctx) {
    llmsplit__x509 *x = (llmsplit__x509 *)(void *)ctx;
    unsigned r = x->minimal.vtable->end_chain(&x->minimal.vtable);
    if (x->insecure) return br_x509_decoder_get_pkey(&x->dec) ? 0 : BR_ERR_X509_EMPTY_CHAIN;
    if (r == 0 && x->ip_len > 0) {
        llmsplit__certinfo ci;
        int i;
        if (x->leaf_truncated || !llmsplit__cert_info(x->leaf, x->leaf_len, &ci)) {
            x->ip_mismatch = 1;
            return BR_ERR_X509_BAD_SERVER_NAME;
        }
        for (i = 0; i < ci.num_ips; i++)
            if (ci.ip_lens[i] == x->ip_len && memcmp(ci.ips[i], x->ip, (size_t)x->ip_len) == 0) return 0;
        x->ip_mismatch = 1;
        return BR_ERR_X509_BAD_SERVER_NAME;
    }
    return r;
}

static const br_x509_pkey *llmsplit__x_get_pkey(const br_x509_class *const *ctx, unsigned *usages) {
    const llmsplit__x509 *x = (const llmsplit__x509 *)(const void *)ctx;
    if (x->insecure) {
        if (usages) *usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
        return br_x509_decoder_get_pkey((br_x509_decoder_context *)&x->dec);
    }
    return x->minimal.vtable->get_pkey(&x->minimal.vtable, usages);
}

static const br_x509_class llmsplit__x509_vtable = {
    sizeof(llmsplit__x509), llmsplit__x_start_chain, llmsplit__x_start_cert, llmsplit__x_append,
    llmsplit__x_end_cert, llmsplit__x_end_chain, llmsplit__x_get_pkey};

/* We have no client certificate to offer; this handler only notes that the server asked for
   one (a CertificateRequest), so that the alert the server then sends can be explained. */
typedef struct llmsplit__nocert {
    const br_ssl_client_certificate_class *vtable;
    int asked;
} llmsplit__nocert;

static void llmsplit__nc_start_name_list(const br_ssl_client_certificate_class **ctx) {
    ((llmsplit__nocert *)(void *)ctx)->asked = 1;
}
static void llmsplit__nc_start_name(const br_ssl_client_certificate_class **ctx, size_t len) { (void)ctx; (void)len; }
static void llmsplit__nc_append_name(const br_ssl_client_certificate_class **ctx, const unsigned char *data,
                                     size_t len) {
    (void)ctx; (void)data; (void)len;
}
static void llmsplit__nc_end(const br_ssl_client_certificate_class **ctx) { (void)ctx; }
static void llmsplit__nc_choose(const br_ssl_client_certificate_class **ctx, const br_ssl_client_context *cc,
                                uint32_t auth_types, br_ssl_client_certificate *choices) {
    (void)ctx; (void)cc; (void)auth_types;
    memset(choices, 0, sizeof *choices); /* an empty Certificate message */
}
static uint32_t llmsplit__nc_do_keyx(const br_ssl_client_certificate_class **ctx, unsigned char *data, size_t *len) {
    (void)ctx; (void)data; (void)len;
    return 0;
}
static size_t llmsplit__nc_do_sign(const br_ssl_client_certificate_class **ctx, int hash_id, size_t hv_len,
                                   unsigned char *data, size_t len) {
    (void)ctx; (void)hash_id; (void)hv_len; (void)data; (void)len;
    return 0;
}

static const br_ssl_client_certificate_class llmsplit__nocert_vtable = {
    sizeof(llmsplit__nocert), llmsplit__nc_start_name_list, llmsplit__nc_start_name, llmsplit__nc_append_name,
    llmsplit__nc_end, llmsplit__nc_end, llmsplit__nc_choose, llmsplit__nc_do_keyx, llmsplit__nc_do_sign};

static const char *llmsplit__alert_name(int a) {
    switch (a) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 22: return "record_overflow";
    case 40: return "handshake_failure";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 112: return "unrecognized_name";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "unknown alert";
    }
}
#endif /* LLMSPLIT_NO_TLS */

/* --- connections ------------------------------------------------------------------------- */

/* How a request waits: its abort flag, and the caller's wait with its user_data (NULL: poll and
   blocking sockets). failed: that wait returned an error, which ends the request. */
typedef struct llmsplit__waiter {
    const volatile int *abort_flag;
    int (*wait)(int fd, int events, int timeout_ms, void *user_data);
    int (*wait_socket)(int fd, uint64_t socket_id, int events, int timeout_ms, void *user_data);
    void *user_data;
    int caller_waits;             /* wait or wait_socket is set */
    int failed;
} llmsplit__waiter;

typedef struct llmsplit__conn {
    struct llmsplit__conn *next;
    int fd;
    int https;
    uint64_t id;                  /* the socket's (llmsplit_request.wait_socket) */
#ifndef LLMSPLIT_NO_THREADS
    pthread_t put_by;             /* the thread that last put it in the pool */
#endif
    char key[320];                /* pool key: scheme, host, port, proxy */
    uint64_t key_hash;            /* of key (llmsplit__pool_hash) */
    int64_t idle_since_ms;
    int64_t deadline_ms;          /* for the I/O callbacks */
    int timed_out, peer_closed, io_errno;
    llmsplit__waiter *w;          /* the current request's */
    unsigned char first_bytes[3]; /* the first bytes the peer sent: tells TLS from not-TLS */
    size_t first_len;
    uint64_t sends, receives;     /* system calls that moved bytes, for llmsplit_http_stats */
    llmsplit_allocator allocator;
#ifndef LLMSPLIT_NO_TLS
    br_ssl_client_context sc;
    llmsplit__x509 xc;
    llmsplit__nocert nocert;
    br_sslio_context ioc;
    int handshaking;              /* from the start of TLS to the first flush */
    int send_failed;              /* a handshake send failed: see llmsplit__tls_send_out */
    unsigned char out[4096];      /* handshake records waiting to go out in one send */
    size_t out_len;
    size_t ahead_off, ahead_len;  /* ahead[ahead_off..ahead_len): received, not yet given to BearSSL */
    unsigned char ahead[4096];    /* read-ahead: see llmsplit__tls_read */
    unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
#endif
} llmsplit__conn;

/* Where a request goes: the parts of its URL (pointing into an llmsplit_url, or into a target a
   client prepared when it loaded its config) and the connection pool's key for them. */
typedef struct llmsplit__dest {
    int https, port, host_is_ip;  /* as in llmsplit_url */
    const char *host, *target;
    const char *key;              /* "scheme://host:port": connections are pooled by it (and the
                                     proxy, when one applies) */
} llmsplit__dest;

#define LLMSPLIT__SESSIONS 32
struct llmsplit_http {
    llmsplit_allocator allocator;
    llmsplit_logger logger;
    int connect_timeout_ms, timeout_ms, max_idle, idle_timeout_ms, insecure;
    size_t max_header_bytes;
    uint64_t max_body_bytes;
    char *ca_file;                /* copies of the desc strings */
    char *ca_pem;
    size_t ca_pem_len;
    char *proxy;                  /* NULL: none */
    char proxy_shown[300];        /* the proxy URL as messages show it (no password) */
    char proxy_auth[400];         /* the Proxy-Authorization value, "" when none */
    int resolve_delay_ms;         /* $LLMSPLIT_TEST_RESOLVER_DELAY_MS: tests only */
    char *no_proxy;
    llmsplit__mutex lock;         /* pool, stats, session cache, trust anchors */
    llmsplit__conn *idle;
    int nidle;                    /* connections in idle */
    int64_t idle_sweep_ms;        /* when llmsplit__pool_take next looks at the whole idle list */
    llmsplit_http_stats stats;
#ifndef LLMSPLIT_NO_TLS
    int tas_loaded;
    char ca_source[300];          /* where the trust anchors came from, for messages */
    llmsplit__tas tas;
    struct { char key[320]; br_ssl_session_parameters params; int used; } sessions[LLMSPLIT__SESSIONS];
    unsigned session_next;
#endif
};

/* Reads a flag another thread may set (an atomic load where the compiler offers one). */
static int llmsplit__flag_set(const volatile int *f) {
    if (!f) return 0;
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(f, __ATOMIC_ACQUIRE) != 0;
#else
    return *f != 0;
#endif
}

/* A new socket's id: 1, 2, 3 ... for the process, never given twice. */
static uint64_t llmsplit__socket_id(void) {
    static uint64_t last;
    return llmsplit__add_u64(&last, 1);
}

/* Waits for events on fd until the deadline: 1 ready, 0 timed out (or aborted), -1 error. With an
   abort flag the wait is cut into 50 ms slices so the flag is seen promptly. The caller's wait,
   when there is one, waits instead of poll, for all the time left (whoever sets the flag ends
   that wait), and may come back early or say ready when nothing is: for an fd its every return
   but a failure is 1, "look again" (the caller retries its I/O, which tells); fd -1 (events 0)
   waits for the time alone, until the deadline. id is fd's socket id (llmsplit__socket_id). */
static int llmsplit__wait_fd(int fd, uint64_t id, short events, int64_t deadline_ms, llmsplit__waiter *w) {
    for (;;) {
        struct pollfd pfd;
        int64_t left = deadline_ms - llmsplit__now_ms();
        int r, ms;
        if (left <= 0 || llmsplit__flag_set(w->abort_flag)) return 0;
        if (w->abort_flag && left > 50 && !w->caller_waits) left = 50;
        ms = left > 1000000 ? 1000000 : (int)left;
        if (w->caller_waits) {
            r = w->wait_socket ? w->wait_socket(fd, id, events, ms, w->user_data) /* (id 0 with fd -1) */
                               : w->wait(fd, events, ms, w->user_data);
            if (r < 0) {
                w->failed = 1;
                return -1;
            }
            if (fd >= 0) return 1;
            continue;
        }
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        r = poll(&pfd, 1, ms);
        if (r > 0) return 1;
        if (r < 0 && errno != EINTR) return -1;
    }
}

/* Low-level I/O with the deadline, also used as BearSSL's transport callbacks. A connected socket
   is blocking with SO_RCVTIMEO and SO_SNDTIMEO of LLMSPLIT__IO_SLICE_MS: a receive waits in the
   kernel (one system call for the wait and the bytes, where a non-blocking socket needs a recv
   that finds nothing, a poll and another recv) and wakes at least that often to look at the
   deadline and the abort flag. Closer to the deadline than one slice, the call does not block
   and poll waits exactly the time left. A request with the caller's wait never blocks: it waits
   through llmsplit__wait_fd every time. */
#define LLMSPLIT__IO_SLICE_MS 50

/* One recvmsg (out 0) or sendmsg (out 1) over iov[0..n): the bytes moved, at least one, received
   into iov[0] first; or -1 (peer_closed, timed_out or io_errno says why). The deadline and the
   abort flag are checked on every call, not only when one would block: a peer that always has
   the next bytes ready (a flood of 1xx, a fast endless trickle) must still meet the deadline. */
static int llmsplit__sock_io(llmsplit__conn *c, struct iovec *iov, int n, int out) {
    for (;;) {
        struct msghdr m;
        int64_t left = c->deadline_ms - llmsplit__now_ms();
        int nowait = left < LLMSPLIT__IO_SLICE_MS || c->w->caller_waits ? MSG_DONTWAIT : 0;
        ssize_t k;
        if (left <= 0 || llmsplit__flag_set(c->w->abort_flag)) { c->timed_out = 1; return -1; }
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)n;
        k = out ? sendmsg(c->fd, &m, MSG_NOSIGNAL | nowait) : recvmsg(c->fd, &m, nowait);
        if (k > 0) {
            const unsigned char *b = (const unsigned char *)iov[0].iov_base;
            if (out) {
                c->sends++;
            } else { /* (BearSSL's first read asks for 5 bytes: the first 3 are in iov[0]) */
                while (c->first_len < sizeof c->first_bytes && c->first_len < (size_t)k && c->first_len < iov[0].iov_len)
                    c->first_bytes[c->first_len] = b[c->first_len], c->first_len++;
                c->receives++;
            }
            return (int)k;
        }
        if (k == 0) { /* the peer's close (a send of nothing is never asked for) */
            c->peer_closed = 1;
            return -1;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) { c->io_errno = errno; return -1; }
        /* a slice went by (blocking), or nothing yet with less than a slice left (polled) */
        if (nowait && llmsplit__wait_fd(c->fd, c->id, out ? POLLOUT : POLLIN, c->deadline_ms, c->w) <= 0) {
            c->timed_out = 1;
            return -1;
        }
    }
}

static int llmsplit__sock_write(void *ctx, const unsigned char *buf, size_t len) {
    struct iovec iov;
    iov.iov_base = (void *)buf; /* sendmsg does not write through it */
    iov.iov_len = len;
    return llmsplit__sock_io((llmsplit__conn *)ctx, &iov, 1, 1);
}

#ifndef LLMSPLIT_NO_TLS
/* BearSSL hands over one record at a time, so a handshake flight (Certificate, ClientKeyExchange,
   ChangeCipherSpec, Finished) went out in three or four sends. A server that refuses the first
   record (no client certificate) sends its alert and closes while the rest is still being
   written, and a later send then fails with EPIPE or ECONNRESET, hiding the alert. So during the
   handshake records are gathered in c->out and sent in one send when the engine turns to reading
   (or at a flush, or at close). And should that send fail, the peer's reason is most likely
   already in our receive buffer: the failure is noted and the bytes dropped as if sent, so the
   engine goes on to read and reports the alert. The handshake cannot complete without the peer,
   so pretending loses nothing: the read that follows fails if there is nothing to read. */
static int llmsplit__tls_send_out(llmsplit__conn *c) {
    size_t off = 0;
    while (off < c->out_len) {
        int n = llmsplit__sock_write(c, c->out + off, c->out_len - off);
        if (n <= 0) {
            c->out_len = 0;
            if (c->handshaking && !c->timed_out) {
                c->send_failed = 1;
                return 1;
            }
            return 0;
        }
        off += (size_t)n;
    }
    c->out_len = 0;
    return 1;
}

static int llmsplit__tls_write(void *ctx, const unsigned char *buf, size_t len) {
    llmsplit__conn *c = (llmsplit__conn *)ctx;
    if (c->send_failed) return (int)len;
    if (!c->handshaking && !c->out_len) return llmsplit__sock_write(c, buf, len);
    if (c->out_len + len > sizeof c->out && !llmsplit__tls_send_out(c)) return -1;
    if (c->send_failed) return (int)len;
    if (len > sizeof c->out) {
        int n = llmsplit__sock_write(c, buf, len);
        if (n <= 0 && c->handshaking && !c->timed_out) {
            c->send_failed = 1;
            return (int)len;
        }
        return n;
    }
    memcpy(c->out + c->out_len, buf, len);
    c->out_len += len;
    return (int)len;
}

/* BearSSL asks for a record's 5-byte header, then for its body: two receives per record. So each
   receive also fills c->ahead, and the next requests are served from there: a record of up to
   about 4 KB, header and body, comes in one system call (a larger one in one or two), and the
   bytes BearSSL asked for go straight into its buffer. */
static int llmsplit__tls_read(void *ctx, unsigned char *buf, size_t len) {
    llmsplit__conn *c = (llmsplit__conn *)ctx;
    struct iovec iov[2];
    int n;
    if (c->out_len && !llmsplit__tls_send_out(c)) return -1;
    if (c->ahead_off < c->ahead_len) {
        size_t k = c->ahead_len - c->ahead_off;
        if (k > len) k = len;
        memcpy(buf, c->ahead + c->ahead_off, k);
        c->ahead_off += k;
        return (int)k;
    }
    iov[0].iov_base = buf;
    iov[0].iov_len = len;
    iov[1].iov_base = c->ahead;
    iov[1].iov_len = sizeof c->ahead;
    n = llmsplit__sock_io(c, iov, 2, 0);
    if (n <= 0 || (size_t)n <= len) return n;
    c->ahead_off = 0;
    c->ahead_len = (size_t)n - len;
    return (int)len;
}
#endif

static void llmsplit__conn_close(llmsplit__conn *c) {
    llmsplit_allocator a;
    if (!c) return;
#ifndef LLMSPLIT_NO_TLS
    /* an alert the engine wrote when it failed is still here: one try, never waiting */
    if (c->out_len && c->fd >= 0 && !c->send_failed) (void)!send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
#endif
    if (c->fd >= 0) close(c->fd);
    a = c->allocator;
    llmsplit__free(&a, c);
}

/* --- name lookups ------------------------------------------------------------------------ */

static int llmsplit__getaddrinfo(const char *host, const char *port, struct addrinfo **res) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    return getaddrinfo(host, port, &hints, res);
}

static void llmsplit__dns_delay(int ms) {
    struct timespec ts;
    if (ms <= 0) return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

#ifndef LLMSPLIT_NO_THREADS
/* getaddrinfo has no timeout and cannot be cancelled, so a resolver that never answers would
   hold a call, and a shutdown waiting for that call, forever. The lookup runs on a detached
   thread instead, and the caller waits for it only until its deadline or abort flag. The job is
   shared by the two and freed by whichever lets go last, so an answer that comes after the
   caller gave up is freed by the thread. It comes from malloc, as getaddrinfo's own answer
   does, not from the client's allocator: the thread may outlive the client. */
typedef struct llmsplit__dns_job {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    int refs, done, rc, delay_ms;
    struct addrinfo *res;
    char host[256], port[8];
} llmsplit__dns_job;

/* Drops one reference; called with the lock held, returns with it released. */
static void llmsplit__dns_release(llmsplit__dns_job *j) {
    int last = --j->refs == 0;
    pthread_mutex_unlock(&j->lock);
    if (!last) return;
    if (j->res) freeaddrinfo(j->res);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

static void *llmsplit__dns_main(void *arg) {
    llmsplit__dns_job *j = (llmsplit__dns_job *)arg;
    struct addrinfo *res = NULL;
    int rc;
    llmsplit__dns_delay(j->delay_ms);
    rc = llmsplit__getaddrinfo(j->host, j->port, &res);
    pthread_mutex_lock(&j->lock);
    j->res = res;
    j->rc = rc;
    j->done = 1;
    pthread_cond_signal(&j->cv);
    llmsplit__dns_release(j);
    return NULL;
}
#endif

/* Resolves host (port is numeric) until `until` or the abort flag: 0 with *res (free it with
   freeaddrinfo), getaddrinfo's error code, or -1 when the time ran out, the caller aborted or
   the caller's wait failed. delay_ms > 0 (tests only) stands for a resolver that takes that long
   to answer. IP literals are answered at once, without a thread. */
static int llmsplit__resolve(const char *host, const char *port, int delay_ms, int64_t until,
                             llmsplit__waiter *w, struct addrinfo **res) {
    const volatile int *abort_flag = w->abort_flag;
    unsigned char ip[16];
    *res = NULL;
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
        return llmsplit__getaddrinfo(host, port, res);
    /* "localhost" is answered from the hosts file, never a name server (RFC 6761), so it needs no
       thread: a local model server is reached without paying one per connection. (Unless the test
       hook is standing in for a hung resolver.) */
    if (delay_ms <= 0 && strcasecmp(host, "localhost") == 0) return llmsplit__getaddrinfo(host, port, res);
#ifndef LLMSPLIT_NO_THREADS
    {
        llmsplit__dns_job *j = (llmsplit__dns_job *)malloc(sizeof *j);
        pthread_attr_t attr;
        pthread_t th;
        int started = 0, rc = -1, slice = 1;
        if (j) {
            memset(j, 0, sizeof *j);
            llmsplit__copy(j->host, sizeof j->host, host);
            llmsplit__copy(j->port, sizeof j->port, port);
            j->delay_ms = delay_ms;
            j->refs = 2;
            pthread_mutex_init(&j->lock, NULL);
            pthread_cond_init(&j->cv, NULL);
            if (pthread_attr_init(&attr) == 0) {
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                started = pthread_create(&th, &attr, llmsplit__dns_main, j) == 0;
                pthread_attr_destroy(&attr);
            }
            if (!started) {
                pthread_cond_destroy(&j->cv);
                pthread_mutex_destroy(&j->lock);
                free(j);
            }
        }
        if (started) {
            pthread_mutex_lock(&j->lock);
            /* waits in slices of at most 50 ms on the wall clock the condition variable uses;
               the monotonic clock decides when the time is up, so a clock jump costs one slice */
            while (!j->done) {
                struct timespec ts;
                int64_t left = until - llmsplit__now_ms();
                if (left <= 0 || llmsplit__flag_set(abort_flag)) break;
                if (w->caller_waits) { /* the caller's wait, for 1, 2, 4 ... 50 ms, never holding the lock */
                    int64_t t = llmsplit__now_ms() + slice;
                    int r;
                    pthread_mutex_unlock(&j->lock);
                    r = llmsplit__wait_fd(-1, 0, 0, t < until ? t : until, w);
                    pthread_mutex_lock(&j->lock);
                    if (r < 0) break;
                    slice = slice < 25 ? slice * 2 : 50;
                    continue;
                }
                if (left > 50) left = 50;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += (long)left * 1000000L;
                if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
                pthread_cond_timedwait(&j->cv, &j->lock, &ts);
            }
            if (j->done) {
                rc = j->rc;
                *res = j->res;
                j->res = NULL;
            }
            llmsplit__dns_release(j);
            return rc;
        }
        /* no thread to be had: resolve here, as a build without threads does */
    }
#endif
    /* LLMSPLIT_NO_THREADS: the lookup cannot be abandoned, so only the system resolver's own
       limits (resolv.conf "options timeout:N attempts:N") bound it; a deadline that passed
       meanwhile is still reported as one. */
    if (llmsplit__flag_set(abort_flag)) return -1;
    llmsplit__dns_delay(delay_ms);
    {
        int rc = llmsplit__getaddrinfo(host, port, res);
        if (rc == 0 && (llmsplit__now_ms() >= until || llmsplit__flag_set(abort_flag))) {
            freeaddrinfo(*res);
            *res = NULL;
            return -1;
        }
        return rc;
    }
}

/* Opens a TCP connection to host:port within the connect timeout and the total deadline; *id is
   the socket's id. */
static int llmsplit__tcp_connect(const char *host, int port, int connect_timeout_ms, int resolve_delay_ms,
                                 int64_t deadline_ms, llmsplit__waiter *w, uint64_t *id, llmsplit_error *err) {
    struct addrinfo *res = NULL, *ai;
    char portstr[8];
    int rc, fd = -1, last_errno = 0, timed_out = 0;
    int64_t lookup_until = llmsplit__now_ms() + connect_timeout_ms; /* the lookup is part of the attempt */
    snprintf(portstr, sizeof portstr, "%d", port);
    rc = llmsplit__resolve(host, portstr, resolve_delay_ms, lookup_until < deadline_ms ? lookup_until : deadline_ms,
                           w, &res);
    if (rc == -1) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "timed out resolving %s", host);
        return -1;
    }
    if (rc != 0) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "cannot resolve host '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai && !w->failed; ai = ai->ai_next) {
        int64_t until = llmsplit__now_ms() + connect_timeout_ms;
        int one = 1, soerr = 0;
        socklen_t sl = sizeof soerr;
        if (until > deadline_ms) until = deadline_ms;
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) { last_errno = errno; continue; }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
#ifdef SO_NOSIGPIPE
        setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
        *id = llmsplit__socket_id();
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) goto connected;
        if (errno != EINPROGRESS) { last_errno = errno; close(fd); fd = -1; continue; }
        /* (the caller's wait may come back before the connect is done: a poll that does not wait tells) */
        while ((rc = llmsplit__wait_fd(fd, *id, POLLOUT, until, w)) > 0 && w->caller_waits) {
            struct pollfd pfd;
            pfd.fd = fd;
            pfd.events = POLLOUT;
            pfd.revents = 0;
            if (poll(&pfd, 1, 0) != 0) break;
        }
        if (rc <= 0) { timed_out = rc == 0; last_errno = rc ? errno : ETIMEDOUT; close(fd); fd = -1; continue; }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
            last_errno = soerr ? soerr : errno;
            close(fd);
            fd = -1;
            continue;
        }
    connected:
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        {   /* blocking from here on, waking every slice: see llmsplit__sock_io */
            struct timeval tv;
            tv.tv_sec = 0;
            tv.tv_usec = LLMSPLIT__IO_SLICE_MS * 1000;
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        }
        break;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (timed_out)
            llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "connect to %s:%d timed out", host, port);
        else
            llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "cannot connect to %s:%d: %s", host, port,
                                strerror(last_errno ? last_errno : ECONNREFUSED));
    }
    return fd;
}

static const char *llmsplit__env(const char *a, const char *b) {
    const char *v = getenv(a);
    if (!v || !*v) v = getenv(b);
    return (v && *v) ? v : NULL;
}

/* 1 when host matches a NO_PROXY list: "*", exact names, or domain suffixes (".example.com"
   and "example.com" both match sub.example.com); ports in entries are ignored. */
static int llmsplit__no_proxy_match(const char *list, const char *host) {
    const char *p = list;
    size_t hl = strlen(host);
    while (p && *p) {
        size_t n;
        const char *e;
        while (*p == ',' || *p == ' ') p++;
        n = strcspn(p, ", ");
        e = p;
        if (n == 1 && *p == '*') return 1;
        if (n) {
            size_t m = n;
            const char *colon = (const char *)memchr(p, ':', n);
            if (colon && memchr(p, '[', n) == NULL && memchr(colon + 1, ':', (size_t)(p + n - colon - 1)) == NULL)
                m = (size_t)(colon - p);
            if (*e == '.') { e++; m--; }
            if (m && m <= hl && strncasecmp(host + hl - m, e, m) == 0 && (m == hl || host[hl - m - 1] == '.'))
                return 1;
        }
        p += n;
    }
    return 0;
}

static const char *llmsplit__base64(const char *in, size_t n, char *out, size_t cap) {
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i < n && o + 5 < cap; i += 3) {
        unsigned v = (unsigned)(unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = 0;
    return out;
}

static int llmsplit__hex_digit(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decodes n bytes into out (room for n): a user or a password in a URL is written
   percent-encoded (RFC 3986 3.2.1), and curl decodes it before sending it, so "s%33cret" is the
   password s3cret. Returns the decoded length, or -1 for a '%' without two hex digits after it. */
static long llmsplit__pct_decode(const char *in, size_t n, char *out) {
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        if (in[i] != '%') { out[o++] = in[i]; continue; }
        if (n - i < 3 || llmsplit__hex_digit(in[i + 1]) < 0 || llmsplit__hex_digit(in[i + 2]) < 0) return -1;
        out[o++] = (char)(llmsplit__hex_digit(in[i + 1]) * 16 + llmsplit__hex_digit(in[i + 2]));
        i += 2;
    }
    return (long)o;
}

/* The Proxy-Authorization value for a proxy URL's user information: "Basic " and the base64 of
   user:password (RFC 7617), each part percent-decoded; "" when there is none. 0 for a
   malformed escape (the caller says so without quoting the credentials). */
static int llmsplit__proxy_auth(const char *userinfo, char *out, size_t cap) {
    char plain[sizeof ((llmsplit_url *)0)->userinfo + 1], b64[360];
    size_t n = strlen(userinfo), user = strcspn(userinfo, ":");
    long a, b = 0;
    out[0] = 0;
    if (!n) return 1;
    a = llmsplit__pct_decode(userinfo, user, plain);
    if (a < 0) return 0;
    plain[a] = ':'; /* a user without a password still needs the colon */
    if (user < n) b = llmsplit__pct_decode(userinfo + user + 1, n - user - 1, plain + a + 1);
    if (b < 0) return 0;
    snprintf(out, cap, "Basic %s", llmsplit__base64(plain, (size_t)(a + 1 + b), b64, sizeof b64));
    memset(plain, 0, sizeof plain);
    return 1;
}

/* Sends CONNECT host:port through the proxy on fd and reads its answer. */
static int llmsplit__proxy_connect(llmsplit__conn *c, const llmsplit_http *h, const llmsplit__dest *u,
                                   llmsplit_error *err) {
    char req[1024], resp[4096], target[300];
    size_t got = 0;
    int n, status;
    snprintf(target, sizeof target, u->host_is_ip == 6 ? "[%s]:%d" : "%s:%d", u->host, u->port);
    n = snprintf(req, sizeof req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s\r\n", target, target,
                 h->proxy_auth[0] ? "Proxy-Authorization: " : "", h->proxy_auth, h->proxy_auth[0] ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof req || llmsplit__sock_write(c, (const unsigned char *)req, (size_t)n) != n) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "cannot send CONNECT to proxy %s", h->proxy_shown);
        return 0;
    }
    /* The proxy says nothing after its answer until the TLS handshake starts, so reading in
       chunks cannot swallow tunnel bytes. */
    for (;;) {
        struct iovec iov;
        int r;
        iov.iov_base = resp + got;
        iov.iov_len = sizeof resp - 1 - got;
        r = llmsplit__sock_io(c, &iov, 1, 0);
        if (r <= 0) {
            llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "proxy %s %s during CONNECT", h->proxy_shown,
                                c->timed_out ? "timed out" : "closed the connection");
            return 0;
        }
        got += (size_t)r;
        resp[got] = 0;
        if (strstr(resp, "\r\n\r\n")) break;
        if (got >= sizeof resp - 1) {
            llmsplit__set_error(err, LLMSPLIT_ERR_HTTP, "proxy answer to CONNECT is too long");
            return 0;
        }
    }
    status = strncmp(resp, "HTTP/1.", 7) == 0 && got >= 12 && resp[8] == ' ' && resp[9] >= '1' && resp[9] <= '5' &&
                     resp[10] >= '0' && resp[10] <= '9' && resp[11] >= '0' && resp[11] <= '9'
                 ? (resp[9] - '0') * 100 + (resp[10] - '0') * 10 + (resp[11] - '0') : 0;
    if (status < 200 || status > 299) {
        char *eol = strstr(resp, "\r\n"), *p;
        if (eol) *eol = 0;
        for (p = resp; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
        if (status == 407 || status == 403) {
            /* The proxy's verdict on our credentials or on this host: the same on every try, so
               a usage error, which no layer retries, rather than a network one, which is. */
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "proxy refused the tunnel to %s: %.80s (proxy %s%s)", target,
                                resp + 9, h->proxy_shown,
                                status == 407 ? (h->proxy_auth[0] ? "; check the user and password in its URL"
                                                                  : "; it wants a user and password in its URL")
                                              : "");
            return 0;
        }
        llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "proxy %s refused CONNECT to %s: %.80s", h->proxy_shown,
                            target, resp);
        return 0;
    }
    if (strstr(resp, "\r\n\r\n") + 4 != resp + got) {
        llmsplit__set_error(err, LLMSPLIT_ERR_HTTP, "proxy sent data after its CONNECT answer");
        return 0;
    }
    c->first_len = 0; /* what follows is the origin's, through the tunnel */
    return 1;
}

#ifndef LLMSPLIT_NO_TLS
/* Loads the trust anchors once per client, in the documented order. Call with the lock held. */
static int llmsplit__load_tas(llmsplit_http *h, llmsplit_error *err) {
    static const char *const system_paths[] = {
        "/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem"};
    const char *file = NULL;
    size_t i;
    if (h->tas_loaded) return 1;
    h->tas.allocator = h->allocator;
    if (h->ca_pem) {
        snprintf(h->ca_source, sizeof h->ca_source, "in-memory CA PEM");
        if (!llmsplit__tas_add_pem(&h->tas, h->ca_pem, h->ca_pem_len)) {
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "no usable certificate in the in-memory CA PEM");
            return 0;
        }
        h->tas_loaded = 1;
        return 1;
    }
    if (h->ca_file) file = h->ca_file;
    else if (getenv("SSL_CERT_FILE") && *getenv("SSL_CERT_FILE")) file = getenv("SSL_CERT_FILE");
    else {
        for (i = 0; i < sizeof system_paths / sizeof system_paths[0]; i++)
            if (access(system_paths[i], R_OK) == 0) { file = system_paths[i]; break; }
        if (!file) {
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "no CA bundle found (tried /etc/ssl/certs/ca-certificates.crt "
                                "and the other system paths); set SSL_CERT_FILE or pass a CA file");
            return 0;
        }
    }
    {
        FILE *f = fopen(file, "rb");
        llmsplit_buf pem;
        char chunk[8192];
        size_t n;
        if (!f) {
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "cannot read CA file %s: %s", file, strerror(errno));
            return 0;
        }
        llmsplit_buf_init(&pem, &h->allocator);
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) llmsplit_buf_append(&pem, chunk, n);
        fclose(f);
        n = pem.failed ? 0 : llmsplit__tas_add_pem(&h->tas, pem.data ? pem.data : "", pem.len);
        llmsplit_buf_free(&pem);
        if (!n) {
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "no usable certificate in CA file %s", file);
            return 0;
        }
    }
    snprintf(h->ca_source, sizeof h->ca_source, "CA file %s", file);
    h->tas_loaded = 1;
    return 1;
}

/* Turns the engine's last error into a message a person can act on: what failed, and where. */
static void llmsplit__tls_error(llmsplit_http *h, llmsplit__conn *c, const llmsplit__dest *u, llmsplit_error *err) {
    int e = br_ssl_engine_last_error(&c->sc.eng);
    char where[300];
    snprintf(where, sizeof where, u->host_is_ip == 6 ? "[%s]:%d" : "%s:%d", u->host, u->port);
    if (e == BR_ERR_IO || e == 0) {
        if (c->timed_out)
            llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "timed out during the TLS exchange with %s", where);
        else if (c->peer_closed)
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "%s closed the connection during the handshake "
                                "(not a TLS server, or it refused us)", where);
        else
            llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "connection to %s failed: %s", where,
                                strerror(c->io_errno ? c->io_errno : ECONNRESET));
        return;
    }
    /* a TLS record starts with a content type 20..23 and major version 3 */
    if (c->first_len >= 2 && (c->first_bytes[0] < 20 || c->first_bytes[0] > 23 || c->first_bytes[1] != 3)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "%s answered with something that is not TLS "
                            "(not a TLS server? try http://)", where);
        return;
    }
    switch (e) {
    case BR_ERR_X509_EXPIRED: {
        llmsplit__certinfo ci;
        char now[15];
        llmsplit__utc_now(now);
        if (llmsplit__cert_info(c->xc.leaf, c->xc.leaf_len, &ci) && ci.not_before[0] && strcmp(now, ci.not_before) < 0)
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "certificate is not yet valid (%s)", where);
        else
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "certificate has expired (%s)", where);
        return;
    }
    case BR_ERR_X509_BAD_SERVER_NAME:
        if (c->xc.ip_mismatch)
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "certificate has no IP address entry for '%s' "
                                "(an IP-literal URL is only verified against the certificate's IP SANs)", u->host);
        else
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "certificate is not for host '%s' (%s)", u->host, where);
        return;
    case BR_ERR_X509_NOT_TRUSTED:
        llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "unknown issuer or incomplete chain (no trust anchor; %s) (%s)",
                            h->ca_source, where);
        return;
    case BR_ERR_BAD_VERSION:
    case BR_ERR_BAD_LENGTH:
    case BR_ERR_TOO_LARGE:
    case BR_ERR_UNKNOWN_TYPE:
        llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "%s answered with something that is not TLS "
                            "(not a TLS server? try http://)", where);
        return;
    default:
        break;
    }
    {
        static const struct { int code; const char *text; } plain[] = {
            {BR_ERR_X509_NOT_CA, "certificate chain uses a non-CA certificate as issuer"},
            {BR_ERR_X509_BAD_SIGNATURE, "certificate signature does not verify"},
            {BR_ERR_X509_FORBIDDEN_KEY_USAGE, "certificate key usage forbids TLS server use"},
            {BR_ERR_X509_WEAK_PUBLIC_KEY, "certificate key is too weak"},
            {BR_ERR_X509_EMPTY_CHAIN, "server sent no certificate"},
            {BR_ERR_UNSUPPORTED_VERSION, "server only offers a TLS version older than 1.2"}};
        size_t i;
        for (i = 0; i < sizeof plain / sizeof plain[0]; i++)
            if (plain[i].code == e) {
                llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "%s (%s)", plain[i].text, where);
                return;
            }
    }
    if (e >= BR_ERR_SEND_FATAL_ALERT) {
        llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "handshake aborted, we sent alert %s (%s)",
                            llmsplit__alert_name(e - BR_ERR_SEND_FATAL_ALERT), where);
    } else if (e >= BR_ERR_RECV_FATAL_ALERT) {
        int a = e - BR_ERR_RECV_FATAL_ALERT;
        if (c->nocert.asked && (a == 40 || a == 42 || a == 43 || a == 46 || a == 116))
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "server sent alert %s (the server requires a client "
                                "certificate) (%s)", llmsplit__alert_name(a), where);
        else if (a == 70)
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "server requires TLS 1.3 (BearSSL speaks up to 1.2) (%s)", where);
        else if (a == 40)
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "server alert handshake_failure: no cipher suite or "
                                "protocol in common (%s)", where);
        else
            llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "server sent alert %s (%s)", llmsplit__alert_name(a), where);
    } else if (e >= 32 && e < 64) {
        llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "certificate verification failed (BearSSL X.509 error %d) (%s)", e, where);
    } else {
        llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "handshake failed (BearSSL error %d) (%s)", e, where);
    }
}

/* Forward-secret AEAD suites first, then CBC, then RSA key exchange for old servers; static ECDH,
   CCM and 3DES are left out. With AES in hardware AES-GCM goes first (measured 14% fewer
   instructions per request than ChaCha20 on x86-64); without it ChaCha20 is the faster one. */
static void llmsplit__tls_suites(br_ssl_engine_context *eng) {
    static const uint16_t aes_first[] = {
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384, BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,
        BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        BR_TLS_RSA_WITH_AES_128_GCM_SHA256, BR_TLS_RSA_WITH_AES_256_GCM_SHA384,
        BR_TLS_RSA_WITH_AES_128_CBC_SHA256, BR_TLS_RSA_WITH_AES_256_CBC_SHA256,
        BR_TLS_RSA_WITH_AES_128_CBC_SHA, BR_TLS_RSA_WITH_AES_256_CBC_SHA};
    uint16_t order[sizeof aes_first / sizeof aes_first[0]];
    size_t n = sizeof aes_first / sizeof aes_first[0];
    memcpy(order, aes_first, sizeof order);
    if (!br_aes_x86ni_ctr_get_vtable() && !br_aes_pwr8_ctr_get_vtable()) {
        /* software AES: ChaCha20 pair first */
        order[0] = aes_first[4]; order[1] = aes_first[5];
        order[2] = aes_first[0]; order[3] = aes_first[1];
        order[4] = aes_first[2]; order[5] = aes_first[3];
    }
    br_ssl_engine_set_suites(eng, order, n);
}

/* The engine with only what TLS 1.2 and the suites above need: no 3DES, CCM, MD5 or TLS 1.0 PRF
   (br_ssl_client_init_full links them all in, about 6 KB a static build does not need). The
   X.509 checker gets the same hashes, SHA-1 included for old chains. */
static void llmsplit__tls_init(br_ssl_client_context *cc, br_x509_minimal_context *xc,
                               const br_x509_trust_anchor *tas, size_t num_tas) {
    static const br_hash_class *const hashes[] = {&br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
                                                  &br_sha384_vtable, &br_sha512_vtable};
    int id;
    br_ssl_client_zero(cc);
    br_ssl_engine_set_versions(&cc->eng, BR_TLS12, BR_TLS12);
    br_x509_minimal_init(xc, &br_sha256_vtable, tas, num_tas);
    br_ssl_client_set_default_rsapub(cc);
    br_ssl_engine_set_default_rsavrfy(&cc->eng);
    br_ssl_engine_set_default_ecdsa(&cc->eng);
    br_x509_minimal_set_rsa(xc, br_ssl_engine_get_rsavrfy(&cc->eng));
    br_x509_minimal_set_ecdsa(xc, br_ssl_engine_get_ec(&cc->eng), br_ssl_engine_get_ecdsa(&cc->eng));
    for (id = br_sha1_ID; id <= br_sha512_ID; id++) {
        br_ssl_engine_set_hash(&cc->eng, id, hashes[id - br_sha1_ID]);
        br_x509_minimal_set_hash(xc, id, hashes[id - br_sha1_ID]);
    }
    br_ssl_engine_set_prf_sha256(&cc->eng, &br_tls12_sha256_prf);
    br_ssl_engine_set_prf_sha384(&cc->eng, &br_tls12_sha384_prf);
    br_ssl_engine_set_default_aes_cbc(&cc->eng);
    br_ssl_engine_set_default_aes_gcm(&cc->eng);
    br_ssl_engine_set_default_chapol(&cc->eng);
}

/* Starts TLS on c (handshake runs on the first write). */
static int llmsplit__tls_start(llmsplit_http *h, llmsplit__conn *c, const llmsplit__dest *u, llmsplit_error *err) {
    static const char *alpn[] = {"http/1.1"};
    int i, resume = 0;
    llmsplit__lock(&h->lock);
    if (!h->insecure && !llmsplit__load_tas(h, err)) { /* insecure mode needs no trust anchors */
        llmsplit__unlock(&h->lock);
        return 0;
    }
    llmsplit__unlock(&h->lock);
    llmsplit__tls_init(&c->sc, &c->xc.minimal, h->tas.v, h->tas.n);
    c->xc.vtable = &llmsplit__x509_vtable;
    c->xc.insecure = h->insecure;
    c->xc.ip_len = 0;
    if (u->host_is_ip == 4) { inet_pton(AF_INET, u->host, c->xc.ip); c->xc.ip_len = 4; }
    if (u->host_is_ip == 6) { inet_pton(AF_INET6, u->host, c->xc.ip); c->xc.ip_len = 16; }
    br_ssl_engine_set_x509(&c->sc.eng, &c->xc.vtable);
    br_ssl_engine_set_versions(&c->sc.eng, BR_TLS12, BR_TLS12);
    llmsplit__tls_suites(&c->sc.eng);
    br_ssl_engine_set_buffer(&c->sc.eng, c->iobuf, sizeof c->iobuf, 1);
    br_ssl_engine_set_protocol_names(&c->sc.eng, alpn, 1);
    llmsplit__lock(&h->lock);
    for (i = 0; i < LLMSPLIT__SESSIONS; i++)
        if (h->sessions[i].used && strcmp(h->sessions[i].key, c->key) == 0) {
            br_ssl_engine_set_session_parameters(&c->sc.eng, &h->sessions[i].params);
            resume = 1;
            break;
        }
    llmsplit__unlock(&h->lock);
    /* SNI and the name check use the host name; IP literals get neither (RFC 6066) and are
       checked against the certificate's IP SANs by our X.509 wrapper instead. */
    if (!br_ssl_client_reset(&c->sc, u->host_is_ip ? NULL : u->host, resume)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_TLS, "cannot start the TLS engine (error %d)",
                            br_ssl_engine_last_error(&c->sc.eng));
        return 0;
    }
    /* (the connection's TLS part is not zeroed when it is allocated: the iobuf is large) */
    c->nocert.vtable = &llmsplit__nocert_vtable;
    c->nocert.asked = 0;
    br_ssl_client_set_client_certificate(&c->sc, &c->nocert.vtable);
    c->handshaking = 1;
    c->send_failed = 0;
    c->out_len = 0;
    c->ahead_off = c->ahead_len = 0;
    br_sslio_init(&c->ioc, &c->sc.eng, llmsplit__tls_read, c, llmsplit__tls_write, c);
    return 1;
}

/* After the first flush: the handshake is done; remember the session for resumption. */
static void llmsplit__tls_done(llmsplit_http *h, llmsplit__conn *c) {
    br_ssl_session_parameters sp;
    int i, slot = -1;
    c->handshaking = 0;
    br_ssl_engine_get_session_parameters(&c->sc.eng, &sp);
    llmsplit__lock(&h->lock);
    h->stats.tls_handshakes++;
    for (i = 0; i < LLMSPLIT__SESSIONS; i++)
        if (h->sessions[i].used && strcmp(h->sessions[i].key, c->key) == 0) {
            /* resumed: the server accepted the session ID we offered */
            if (sp.session_id_len > 0 && h->sessions[i].params.session_id_len == sp.session_id_len &&
                memcmp(h->sessions[i].params.session_id, sp.session_id, sp.session_id_len) == 0)
                h->stats.tls_resumed++;
            slot = i;
            break;
        }
    if (slot < 0) slot = (int)(h->session_next++ % LLMSPLIT__SESSIONS);
    h->sessions[slot].used = 1;
    llmsplit__copy(h->sessions[slot].key, sizeof h->sessions[slot].key, c->key);
    h->sessions[slot].params = sp;
    llmsplit__unlock(&h->lock);
}
#endif /* LLMSPLIT_NO_TLS */

/* --- the client ---------------------------------------------------------------------------- */

static char *llmsplit__strdup(const llmsplit_allocator *a, const char *s) {
    return s ? (char *)llmsplit__dup(a, s, strlen(s) + 1) : NULL;
}

static llmsplit_http *llmsplit__http_create(const llmsplit_http_desc *desc, llmsplit_error *err) {
    llmsplit_http_desc d;
    llmsplit_http *h;
    const char *proxy;
    if (desc) d = *desc;
    else memset(&d, 0, sizeof d);
    llmsplit__clear_error(err);
    h = (llmsplit_http *)llmsplit__alloc(&d.allocator, sizeof *h);
    if (!h) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memset(h, 0, sizeof *h);
    h->allocator = d.allocator;
    h->logger = d.logger;
    h->connect_timeout_ms = d.connect_timeout_ms > 0 ? d.connect_timeout_ms : 10000;
    h->timeout_ms = d.timeout_ms > 0 ? d.timeout_ms : 600000;
    h->max_idle = d.max_idle_per_host > 0 ? d.max_idle_per_host : d.max_idle_per_host < 0 ? 0 : 8;
    h->idle_timeout_ms = d.idle_timeout_ms > 0 ? d.idle_timeout_ms : 30000;
    h->max_header_bytes = d.max_header_bytes ? d.max_header_bytes : LLMSPLIT_HTTP_MAX_HEADER_BYTES;
    h->max_body_bytes = d.max_body_bytes ? d.max_body_bytes : LLMSPLIT_HTTP_MAX_BODY_BYTES;
    h->insecure = d.insecure;
    /* read once here, never per request: a test's stand-in for a resolver that hangs */
    if (getenv("LLMSPLIT_TEST_RESOLVER_DELAY_MS")) h->resolve_delay_ms = atoi(getenv("LLMSPLIT_TEST_RESOLVER_DELAY_MS"));
    h->ca_file = llmsplit__strdup(&h->allocator, d.ca_file);
    if (d.ca_pem) {
        h->ca_pem = (char *)llmsplit__dup(&h->allocator, d.ca_pem, d.ca_pem_len);
        h->ca_pem_len = d.ca_pem_len;
    }
    proxy = d.proxy ? d.proxy : llmsplit__env("HTTPS_PROXY", "https_proxy");
    if (proxy && *proxy) {
        /* the caller's setting (or environment): a usage error, and never its password */
        llmsplit_url pu;
        llmsplit_error pe;
        llmsplit__url_redact(proxy, h->proxy_shown, sizeof h->proxy_shown);
        if (strncasecmp(proxy, "http://", 7) != 0) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "proxy %s is not supported: only http:// proxies are",
                                h->proxy_shown);
            llmsplit_http_destroy(h);
            return NULL;
        }
        if (!llmsplit__url_parse(proxy, &pu, &pe)) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "proxy %s: %s", h->proxy_shown,
                                strncmp(pe.message, "url: ", 5) == 0 ? pe.message + 5 : pe.message);
            llmsplit_http_destroy(h);
            return NULL;
        }
        if (!llmsplit__proxy_auth(pu.userinfo, h->proxy_auth, sizeof h->proxy_auth)) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "proxy %s: malformed percent-escape in the user or "
                                "password ('%%' must be followed by two hex digits; write a literal %% as %%25)",
                                h->proxy_shown);
            llmsplit_http_destroy(h);
            return NULL;
        }
        h->proxy = llmsplit__strdup(&h->allocator, proxy);
    }
    h->no_proxy = llmsplit__strdup(&h->allocator, d.no_proxy ? d.no_proxy : llmsplit__env("NO_PROXY", "no_proxy"));
    llmsplit__mutex_init(&h->lock);
#ifdef LLMSPLIT_NO_TLS
    if (d.ca_file || d.ca_pem || d.insecure)
        llmsplit__log(&h->logger, LLMSPLIT_LOG_WARN, "built with LLMSPLIT_NO_TLS: TLS options are ignored");
#else
    if (h->insecure)
        llmsplit__log(&h->logger, LLMSPLIT_LOG_WARN, "tls: certificate verification is OFF (insecure mode): "
                      "any server can pose as any host");
#endif
    return h;
}

LLMSPLIT_API llmsplit_status llmsplit_http_create(const llmsplit_http_desc *desc, llmsplit_http **out,
                                                  llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    if (!out) return llmsplit__no_out(err, "http");
    *out = llmsplit__http_create(desc, e);
    return llmsplit__made(*out, e);
}

LLMSPLIT_API void llmsplit_http_destroy(llmsplit_http *h) {
    llmsplit__conn *c;
    if (!h) return;
    while ((c = h->idle) != NULL) {
        h->idle = c->next;
        llmsplit__conn_close(c);
    }
#ifndef LLMSPLIT_NO_TLS
    llmsplit__tas_free(&h->tas);
#endif
    llmsplit__free(&h->allocator, h->ca_file);
    llmsplit__free(&h->allocator, h->ca_pem);
    llmsplit__free(&h->allocator, h->proxy);
    llmsplit__free(&h->allocator, h->no_proxy);
    llmsplit__mutex_destroy(&h->lock);
    llmsplit__free(&h->allocator, h);
}

LLMSPLIT_API llmsplit_http_stats llmsplit_http_get_stats(llmsplit_http *h) {
    llmsplit_http_stats s;
    llmsplit__lock(&h->lock);
    s = h->stats;
    llmsplit__unlock(&h->lock);
    return s;
}

/* A connection idle for longer than this is polled before it is reused: a server that closed it
   meanwhile is seen without sending anything. A connection idle for less is used as it is, one
   system call less per request: a server rarely closes one so soon, and when it has, the request
   fails before any response byte and is sent again on a fresh connection (the retry below). */
#define LLMSPLIT__IDLE_CHECK_MS 1000

/* Connections past idle_timeout_ms that no request came across are closed this often. */
#define LLMSPLIT__POOL_SWEEP_MS 1000

static uint64_t llmsplit__pool_hash(const char *key) {
    uint64_t x = 0xcbf29ce484222325ull;
    for (; *key; key++) x = (x ^ (unsigned char)*key) * 0x100000001b3ull;
    return x;
}

/* How many connections for a key pool_take looks at for one the calling thread put back. */
#define LLMSPLIT__POOL_AFFINITY 8

/* 1 when c was put back by the calling thread. */
static int llmsplit__pool_mine(const llmsplit__conn *c) {
#ifndef LLMSPLIT_NO_THREADS
    if (LLMSPLIT__SMALL) return 1; /* -Os: the first for key (less code) */
    return pthread_equal(c->put_by, pthread_self()) != 0;
#else
    (void)c;
    return 1;
#endif
}

/* An idle connection for key that the server has not closed, or NULL. The list is most recently
   used first; the walk takes the first connection for key (compared by hash, then by text) that
   the calling thread put back, or when none of the first LLMSPLIT__POOL_AFFINITY for key is, the
   first of them: a pool of many connections to one upstream costs a request a comparison or a
   few, not one per connection, and a thread keeps to its own connections where it can (an event
   loop leaves its sockets registered in its own set between requests: a socket that went to
   another thread's loop would cost both loops a system call). Once every LLMSPLIT__POOL_SWEEP_MS
   the whole list is walked, closing connections past idle_timeout_ms; one met on the way is
   closed at once, never handed out. */
static llmsplit__conn *llmsplit__pool_take(llmsplit_http *h, const char *key) {
    llmsplit__conn **pp, *c, *stale = NULL, *found = NULL, **first = NULL;
    int64_t now = llmsplit__now_ms();
    uint64_t hash = llmsplit__pool_hash(key);
    int check = 0, sweep, seen = 0;
    llmsplit__lock(&h->lock);
    sweep = now >= h->idle_sweep_ms;
    if (sweep) h->idle_sweep_ms = now + LLMSPLIT__POOL_SWEEP_MS;
    for (pp = &h->idle; (c = *pp) != NULL;) {
        int ours = !found && c->key_hash == hash && strcmp(c->key, key) == 0;
        if ((ours || sweep) && now - c->idle_since_ms > h->idle_timeout_ms) {
            *pp = c->next;
            c->next = stale;
            stale = c;
            h->nidle--;
            continue;
        }
        if (ours) {
            int mine = llmsplit__pool_mine(c);
            if (mine || ++seen > LLMSPLIT__POOL_AFFINITY) {
                if (!mine) pp = first; /* none of the first few: the first */
                found = *pp;
                *pp = found->next;
                h->nidle--;
                if (!sweep) break;
                continue;
            }
            if (!first) first = pp;
        }
        pp = &c->next;
    }
    if (!found && first) { /* (a connection unlinked after first leaves *first pointing at it still) */
        found = *first;
        *first = found->next;
        h->nidle--;
    }
    if (found) {
        check = now - found->idle_since_ms > LLMSPLIT__IDLE_CHECK_MS;
        h->stats.idle_checks += (uint64_t)check;
    }
    llmsplit__unlock(&h->lock);
    while (stale) {
        c = stale->next;
        llmsplit__conn_close(stale);
        stale = c;
    }
    if (check) {
        /* readable while idle means the server closed it (or sent junk): not reusable */
        struct pollfd pfd;
        pfd.fd = found->fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, 0) != 0) {
            llmsplit__conn_close(found);
            found = NULL;
        }
    }
    return found;
}

static void llmsplit__pool_put(llmsplit_http *h, llmsplit__conn *c) {
    llmsplit__conn *it, *drop = NULL;
    int same = 0;
#ifndef LLMSPLIT_NO_TLS
    if (c->https && c->ahead_off < c->ahead_len) { /* bytes after the response: do not trust it */
        llmsplit__conn_close(c);
        return;
    }
#endif
    c->idle_since_ms = llmsplit__now_ms();
#ifndef LLMSPLIT_NO_THREADS
    c->put_by = pthread_self();
#endif
    llmsplit__lock(&h->lock);
    /* (by hash only: two keys with one hash would share a limit, which only keeps fewer; and
       only when the pool holds as many in all: a gateway's pool of dozens to one upstream is not
       walked per request) */
    if (h->nidle >= h->max_idle)
        for (it = h->idle; it && same < h->max_idle; it = it->next)
            if (it->key_hash == c->key_hash) same++;
    if (same < h->max_idle) {
        c->next = h->idle;
        h->idle = c;
        h->nidle++;
        c = NULL;
    } else {
        drop = c;
    }
    llmsplit__unlock(&h->lock);
    llmsplit__conn_close(drop);
}

/* Opens a connection (through the proxy when one applies) ready for the request. */
static llmsplit__conn *llmsplit__conn_open(llmsplit_http *h, const llmsplit__dest *u, const char *key,
                                           int64_t deadline, llmsplit__waiter *w, llmsplit_error *err) {
    llmsplit__conn *c;
    llmsplit_url pu;
    int use_proxy = u->https && h->proxy && !(h->no_proxy && llmsplit__no_proxy_match(h->no_proxy, u->host));
#ifdef LLMSPLIT_NO_TLS
    if (u->https) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "https:// is unavailable: built with LLMSPLIT_NO_TLS");
        return NULL;
    }
#endif
    if (use_proxy) llmsplit__url_parse(h->proxy, &pu, NULL);
    c = (llmsplit__conn *)llmsplit__alloc(&h->allocator, sizeof *c);
    if (!c) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory for a connection");
        return NULL;
    }
    memset(c, 0, offsetof(llmsplit__conn, allocator));
    c->allocator = h->allocator;
    c->https = u->https;
    c->deadline_ms = deadline;
    llmsplit__copy(c->key, sizeof c->key, key);
    c->key_hash = llmsplit__pool_hash(c->key);
    c->w = w;
    c->fd = llmsplit__tcp_connect(use_proxy ? pu.host : u->host, use_proxy ? pu.port : u->port, h->connect_timeout_ms,
                                  h->resolve_delay_ms, deadline, w, &c->id, err);
    if (c->fd < 0) {
        if (use_proxy && err) {
            char tmp[sizeof err->message];
            llmsplit__copy(tmp, sizeof tmp, err->message);
            llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "%s (the proxy)", tmp);
        }
        llmsplit__conn_close(c);
        return NULL;
    }
    llmsplit__lock(&h->lock);
    h->stats.connections_opened++;
    llmsplit__unlock(&h->lock);
    if (use_proxy && !llmsplit__proxy_connect(c, h, u, err)) {
        llmsplit__conn_close(c);
        return NULL;
    }
#ifndef LLMSPLIT_NO_TLS
    if (u->https && !llmsplit__tls_start(h, c, u, err)) {
        llmsplit__conn_close(c);
        return NULL;
    }
#endif
    return c;
}

/* Writes the request head and body (body_len may be 0). Over TLS both go into BearSSL's record
   buffer, which the flush sends as one record (a body of up to 16 KB with its head) in one send;
   in plain text one sendmsg takes both, so a request leaves in one segment when it fits one. */
static int llmsplit__conn_write(llmsplit__conn *c, const char *head, size_t head_len, const char *body,
                                size_t body_len) {
    struct iovec iov[2];
#ifndef LLMSPLIT_NO_TLS
    if (c->https)
        return br_sslio_write_all(&c->ioc, head, head_len) == 0 &&
               (!body_len || br_sslio_write_all(&c->ioc, body, body_len) == 0);
#endif
    iov[0].iov_base = (void *)head; /* sendmsg does not write through them */
    iov[0].iov_len = head_len;
    iov[1].iov_base = (void *)body;
    iov[1].iov_len = body_len;
    while (iov[0].iov_len || iov[1].iov_len) {
        int k = iov[0].iov_len ? 0 : 1, sent = llmsplit__sock_io(c, iov + k, 2 - k, 1);
        if (sent <= 0) return 0;
        for (; k < 2; k++) {
            size_t take = (size_t)sent < iov[k].iov_len ? (size_t)sent : iov[k].iov_len;
            iov[k].iov_base = (char *)iov[k].iov_base + take;
            iov[k].iov_len -= take;
            sent -= (int)take;
        }
    }
    return 1;
}

static int llmsplit__conn_flush(llmsplit__conn *c) {
#ifndef LLMSPLIT_NO_TLS
    if (c->https) return br_sslio_flush(&c->ioc) == 0 && llmsplit__tls_send_out(c) && !c->send_failed;
#endif
    (void)c;
    return 1;
}

/* >0 bytes, 0 clean EOF, -1 error */
static int llmsplit__conn_read(llmsplit__conn *c, char *buf, size_t cap) {
#ifndef LLMSPLIT_NO_TLS
    if (c->https) {
        int n = br_sslio_read(&c->ioc, buf, cap);
        if (n > 0) return n;
        /* a close_notify, or the TCP close some servers use instead of it */
        if (br_ssl_engine_current_state(&c->sc.eng) == BR_SSL_CLOSED &&
            (br_ssl_engine_last_error(&c->sc.eng) == BR_ERR_OK ||
             (br_ssl_engine_last_error(&c->sc.eng) == BR_ERR_IO && c->peer_closed)))
            return 0;
        return -1;
    }
#endif
    {
        struct iovec iov;
        int n;
        iov.iov_base = buf;
        iov.iov_len = cap;
        n = llmsplit__sock_io(c, &iov, 1, 0);
        if (n > 0) return n;
        return c->peer_closed ? 0 : -1;
    }
}

static int llmsplit__header_ok(const char *s) { return s[strcspn(s, "\r\n")] == 0; }

/* The request head: method, target, Host, the caller's headers, framing, connection. */
static int llmsplit__build_head(llmsplit_http *h, const llmsplit_http_request *req, const llmsplit__dest *u,
                                llmsplit_buf *out, llmsplit_error *err) {
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    char *o;
    int i, default_port = u->port == (u->https ? 443 : 80);
    for (i = 0; method[i]; i++)
        if (!llmsplit__tchar((unsigned char)method[i])) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "http: invalid method");
            return 0;
        }
    /* each part is written in place after one reservation for it (a request has a dozen) */
    {
        size_t ml = strlen(method), tl = strlen(u->target), hl = strlen(u->host);
        if (llmsplit_buf_reserve(out, ml + tl + hl + 64) != LLMSPLIT_OK) goto nomem;
        o = out->data + out->len;
        LLMSPLIT__PUT(o, method, ml);
        *o++ = ' ';
        LLMSPLIT__PUT(o, u->target, tl);
        LLMSPLIT__PUT(o, " HTTP/1.1\r\nHost: ", 17);
        if (u->host_is_ip == 6) *o++ = '[';
        LLMSPLIT__PUT(o, u->host, hl);
        if (u->host_is_ip == 6) *o++ = ']';
        if (!default_port) {
            *o++ = ':';
            o += llmsplit__format_int(u->port, o);
        }
        LLMSPLIT__PUT(o, "\r\n", 2);
        out->len = (size_t)(o - out->data);
    }
    for (i = 0; i < req->num_headers; i++) {
        const char *name = req->headers[i].name, *value = req->headers[i].value ? req->headers[i].value : "";
        size_t vn = strcspn(value, "\r\n");
        int k;
        if (!name || !*name) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "http: empty header name");
            return 0;
        }
        for (k = 0; name[k]; k++)
            if (!llmsplit__tchar((unsigned char)name[k])) {
                llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "http: invalid character in header name '%.40s'", name);
                return 0;
            }
        if (value[vn]) {
            /* the value may be a key: never echo it */
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "http: CR or LF in the value of header '%.40s'", name);
            return 0;
        }
        if ((k == 4 && strcasecmp(name, "host") == 0) || (k == 14 && strcasecmp(name, "content-length") == 0) ||
            (k == 10 && strcasecmp(name, "connection") == 0) || (k == 17 && strcasecmp(name, "transfer-encoding") == 0))
            continue; /* the client owns framing */
        if (llmsplit_buf_reserve(out, (size_t)k + vn + 4) != LLMSPLIT_OK) goto nomem;
        o = out->data + out->len;
        LLMSPLIT__PUT(o, name, (size_t)k);
        LLMSPLIT__PUT(o, ": ", 2);
        LLMSPLIT__PUT(o, value, vn);
        LLMSPLIT__PUT(o, "\r\n", 2);
        out->len = (size_t)(o - out->data);
    }
    if (llmsplit_buf_reserve(out, 80) != LLMSPLIT_OK) goto nomem;
    o = out->data + out->len;
    if (req->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0) {
        LLMSPLIT__PUT(o, "Content-Length: ", 16);
        o += llmsplit__format_int((int64_t)req->body_len, o);
        LLMSPLIT__PUT(o, "\r\n", 2);
    }
    if (h->max_idle > 0) LLMSPLIT__PUT(o, "Connection: keep-alive\r\n\r\n", 26);
    else LLMSPLIT__PUT(o, "Connection: close\r\n\r\n", 21);
    out->len = (size_t)(o - out->data);
    out->data[out->len] = 0;
    return 1;
nomem:
    llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory");
    return 0;
}

/* A 408 on a reused connection is what a server sends before it closes a connection left idle
   too long (connections idle for under a second are reused without a look): it came before our
   request reached the server, so the request is worth sending again on a fresh connection. */
static int llmsplit__stale_answer(const llmsplit_http_response *resp, const llmsplit__dest *u, llmsplit_error *err) {
    if (!resp->reused || resp->status != 408) return 0;
    llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "%s:%d closed the connection without a response", u->host, u->port);
    return 1;
}

/* One attempt over connection c. Returns 1 done, 0 failed (err set), -1 failed before any
   response byte, or with a stale answer (worth a retry on a fresh connection when c was reused). */
static int llmsplit__exchange(llmsplit_http *h, llmsplit__conn *c, const llmsplit_http_request *req,
                              const llmsplit__dest *u, const llmsplit_buf *head, llmsplit_http_response *resp,
                              double t0, llmsplit_error *err) {
    llmsplit_http_parser hp;
    char buf[16384];
    int first = 1, handshake = c->https && !resp->reused;
    llmsplit_http_parser_init(&hp, resp);
    hp.on_body = req->on_body;
    hp.user_data = req->user_data;
    hp.max_header_bytes = h->max_header_bytes;
    hp.max_body_bytes = h->max_body_bytes;
    hp.head_request = req->method && strcmp(req->method, "HEAD") == 0;
    if (!llmsplit__conn_write(c, head->data, head->len, req->body, req->body ? req->body_len : 0)) goto write_failed;
    if (!llmsplit__conn_flush(c)) goto write_failed;
#ifndef LLMSPLIT_NO_TLS
    if (handshake) llmsplit__tls_done(h, c);
#endif
    (void)handshake;
    if (!resp->reused) resp->connect_ms = llmsplit__now_msf() - t0;
    /* with the caller's wait, a plain connection waits for the answer before its first read: the
       answer is seldom there the moment the request has gone, and the read would only say so */
    if (c->w->caller_waits && !c->https) {
        int ready = llmsplit__wait_fd(c->fd, c->id, POLLIN, c->deadline_ms, c->w);
        if (ready <= 0) {
            c->timed_out = ready == 0;
            goto read_failed;
        }
    }
    for (;;) {
        size_t used = 0;
        int r, n = llmsplit__conn_read(c, buf, sizeof buf);
        if (n <= 0) {
            if (n < 0) goto read_failed;
            if (first) {
                llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "%s:%d closed the connection without a response",
                                    u->host, u->port);
                return -1;
            }
            r = llmsplit__hp_eof(&hp, err);
            if (r < 0) return 0;
            resp->keep_alive = 0;
            break;
        }
        if (first) {
            resp->ttfb_ms = llmsplit__now_msf() - t0;
            first = 0;
        }
        r = llmsplit__hp_feed(&hp, buf, (size_t)n, &used, err);
        if (r < 0) return 0;
        if (r == 1) {
            if (used != (size_t)n) resp->keep_alive = 0; /* bytes beyond the response: do not trust it */
            break;
        }
    }
    return llmsplit__stale_answer(resp, u, err) ? -1 : 1;

write_failed:
#ifndef LLMSPLIT_NO_TLS
    if (c->https && (handshake || br_ssl_engine_last_error(&c->sc.eng) != BR_ERR_IO)) {
        llmsplit__tls_error(h, c, u, err);
        return err && err->code == LLMSPLIT_ERR_NETWORK && resp->reused ? -1 : 0;
    }
#endif
    if (c->timed_out) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "timed out sending the request to %s:%d", u->host, u->port);
        return 0;
    }
    llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "cannot send the request to %s:%d: %s", u->host, u->port,
                        strerror(c->io_errno ? c->io_errno : EPIPE));
    return -1;

read_failed: /* before any response byte, a failure that is no timeout and no TLS error is worth a retry */
    if (c->timed_out) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "timed out waiting for %s from %s:%d",
                            first ? "a response" : "the rest of the response", u->host, u->port);
        return 0;
    }
#ifndef LLMSPLIT_NO_TLS
    if (c->https && br_ssl_engine_last_error(&c->sc.eng) != BR_ERR_IO) {
        llmsplit__tls_error(h, c, u, err);
        return 0;
    }
#endif
    llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "connection to %s:%d %s: %s", u->host, u->port,
                        first ? "failed before a response" : "broke mid-response",
                        strerror(c->io_errno ? c->io_errno : ECONNRESET));
    return first ? -1 : 0;
}

/* "scheme://host:port" into out (at least 300 bytes): a destination's pool key without proxy. */
static void llmsplit__dest_key(char *out, size_t cap, int https, const char *host, int port) {
    snprintf(out, cap, "%s://%s:%d", https ? "https" : "http", host, port);
}

/* Parses url into u and points d at its parts, with the pool key written into key (300 bytes).
   LLMSPLIT_ERR_USAGE for a malformed URL, or one with user information (never sent). */
static llmsplit_status llmsplit__dest_parse(const char *url, llmsplit_url *u, llmsplit__dest *d, char *key, llmsplit_error *err) {
    if (!llmsplit__url_parse(url, u, err)) return LLMSPLIT_ERR_USAGE;
    if (u->userinfo[0]) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "url: credentials in the URL are not sent; use a header");
        return LLMSPLIT_ERR_USAGE;
    }
    d->https = u->https;
    d->port = u->port;
    d->host_is_ip = u->host_is_ip;
    d->host = u->host;
    d->target = u->target;
    llmsplit__dest_key(key, 300, u->https, u->host, u->port);
    d->key = key;
    return LLMSPLIT_OK;
}

/* llmsplit_http_send to a destination parsed before (to), or to req->url when to is NULL. */
static llmsplit_status llmsplit__http_send_to(llmsplit_http *h, const llmsplit_http_request *req, const llmsplit__dest *to,
                                              llmsplit_http_response *resp, llmsplit_error *err) {
    llmsplit_url url;
    llmsplit__dest parsed;
    llmsplit_buf head;
    char plain_key[300], key_buf[320];
    uint64_t head_mem[1024 / 8];
    llmsplit__lender lender;
    llmsplit_allocator head_alloc;
    const char *key;
    double t0 = llmsplit__now_msf();
    int64_t deadline;
    int attempt, r = 0;
    llmsplit_error local;
    llmsplit__waiter w;
    if (!err) err = &local;
    llmsplit__clear_error(err);
    if (!resp) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "http: missing response");
        return err->code;
    }
    memset(resp, 0, sizeof *resp);
    if (!h || !req || (!to && !req->url)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "http: missing client, request or URL");
        return err->code;
    }
    llmsplit_buf_init(&resp->head, &h->allocator);
    llmsplit_buf_init(&resp->body, &h->allocator);
    if (!to) {
        if (llmsplit__dest_parse(req->url, &url, &parsed, plain_key, err) != LLMSPLIT_OK) return err->code;
        to = &parsed;
    }
    deadline = llmsplit__now_ms() + (req->timeout_ms > 0 ? req->timeout_ms : h->timeout_ms);
    w.abort_flag = req->abort_flag;
    w.wait = req->wait;
    w.wait_socket = req->wait_socket;
    w.user_data = req->user_data;
    w.caller_waits = req->wait || req->wait_socket;
    w.failed = 0;
    /* the head on the stack when it fits (a request's does: a few hundred bytes); reserved at
       once, as the lender lends only the first block a buffer asks for */
    head_alloc = llmsplit__lending(&lender, (char *)head_mem, sizeof head_mem, &h->allocator);
    llmsplit_buf_init(&head, &head_alloc);
    if (!LLMSPLIT__SMALL) llmsplit_buf_reserve(&head, sizeof head_mem - 1);
    if (!llmsplit__build_head(h, req, to, &head, err)) {
        llmsplit_buf_free(&head);
        return err->code;
    }
    key = to->key;
    if (h->proxy && to->https) { /* tunnels through a proxy are pooled apart: "KEY via PROXY" */
        size_t n;
        llmsplit__copy(key_buf, 281, to->key);
        n = strlen(key_buf);
        llmsplit__copy(key_buf + n, sizeof key_buf - n, " via ");
        llmsplit__copy(key_buf + n + 5, sizeof key_buf - n - 5, h->proxy);
        key = key_buf;
    }
    for (attempt = 0; attempt < 2; attempt++) {
        llmsplit__conn *c = attempt == 0 ? llmsplit__pool_take(h, key) : NULL;
        resp->reused = c != NULL;
        if (!c) c = llmsplit__conn_open(h, to, key, deadline, &w, err);
        if (!c) break;
        c->deadline_ms = deadline;
        c->w = &w;
        c->timed_out = c->peer_closed = c->io_errno = 0;
        r = llmsplit__exchange(h, c, req, to, &head, resp, t0, err);
        llmsplit__lock(&h->lock);
        h->stats.sends += c->sends;
        h->stats.receives += c->receives;
        if (r == 1 && resp->reused) h->stats.connections_reused++;
        llmsplit__unlock(&h->lock);
        c->sends = c->receives = 0;
        if (r == 1 && resp->keep_alive && h->max_idle > 0) llmsplit__pool_put(h, c);
        else llmsplit__conn_close(c);
        if (r == 1) {
            llmsplit__clear_error(err);
            break;
        }
        if (r == -1 && resp->reused && !w.failed && llmsplit__now_ms() < deadline) {
            /* the server dropped a kept-alive connection we chose: one fresh try */
            llmsplit__lock(&h->lock);
            h->stats.retries++;
            llmsplit__unlock(&h->lock);
            llmsplit_buf_free(&resp->head);
            llmsplit_buf_free(&resp->body);
            resp->num_headers = 0;
            resp->status = 0;
            resp->body_bytes = 0;
            llmsplit__clear_error(err);
            continue;
        }
        break;
    }
    llmsplit_buf_free(&head);
    resp->total_ms = llmsplit__now_msf() - t0;
    if (r != 1 && !err->code) llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "request failed");
    if (r != 1 && w.failed) llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "the caller's wait failed");
    if (r != 1 && llmsplit__flag_set(req->abort_flag))
        llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "aborted by the caller (abort_flag)");
    return r == 1 ? LLMSPLIT_OK : err->code;
}

LLMSPLIT_API llmsplit_status llmsplit_http_send(llmsplit_http *h, const llmsplit_http_request *req,
                                             llmsplit_http_response *resp, llmsplit_error *err) {
    return llmsplit__http_send_to(h, req, NULL, resp, err);
}


/* ==== 4. providers ====================================================================== */

/* Every provider is one row of llmsplit__providers (below, after the wire formats): how its
   model strings look, where its key and base come from, its URL and headers, and the wire
   format it speaks. Routing, the config's check of model strings and each call read that row
   and nothing else, so adding a provider is its llmsplit_provider value, its row and, when its
   API speaks a new wire format, that format's three functions. */

typedef struct llmsplit__stream llmsplit__stream;
typedef struct llmsplit__provider llmsplit__provider;

/* One wire format: how a request body is written and how answers are read. Several providers
   share one (every OpenAI-compatible API speaks OpenAI chat). */
typedef struct llmsplit__wire {
    /* Writes the body's members after "model". Invalid JSON from the caller sets w->err and err. */
    void (*write_request)(llmsplit_json_writer *w, const llmsplit_chat_request *req, const llmsplit_json_val *params,
                          const llmsplit__provider *p, llmsplit_error *err);
    /* Fills text, role, finish reason, tokens and tool calls from a whole answer; an answer
       without its essential part is LLMSPLIT_ERR_RESPONSE. */
    llmsplit_status (*read_answer)(llmsplit_chat_response *r, const llmsplit_json_val *root, llmsplit_error *err);
    /* Reads one parsed stream event (event is the SSE event name, NULL for a JSON line); -1
       stops the stream, as llmsplit__delta does when the caller asks to. */
    int (*read_event)(llmsplit__stream *st, const char *event, const llmsplit_json_val *root);
    const char *stream_accept;    /* the Accept header of a streamed request */
    const char *done_data;        /* event data (not JSON) that ends a stream; NULL: none */
    int ndjson;                   /* streams JSON lines unless the server answers text/event-stream */
} llmsplit__wire;

#define LLMSPLIT__OTHER_BARE_NAMES 1u /* takes the bare model names no row claims */
#define LLMSPLIT__KEY_OPTIONAL 2u     /* a local server: a key is sent only when there is one */
/* Asks for usage in the last stream chunk: the provider's own API knows stream_options, other
   OpenAI-compatible ones may reject it. */
#define LLMSPLIT__STREAM_USAGE 4u

struct llmsplit__provider {
    const char *name;             /* llmsplit_provider_name; rows are in llmsplit_provider order */
    const char *prefix[2];        /* "provider/" forms of a model string; the first is shown in errors */
    const char *bare[4];          /* bare model names starting with one of these are this provider's */
    unsigned flags;               /* LLMSPLIT__OTHER_BARE_NAMES, ... */
    const char *key_env[2];       /* where the key comes from when the caller gives none, in order */
    const char *base_env;         /* the base when the caller gives none; overrides default_base */
    const char *default_base;     /* NULL: a base must be given (caller or base_env) */
    const char *version_env;      /* non-NULL: an api_version must be given (caller or this variable) */
    const char *path;             /* after the base; with version_env a format of (name, version) */
    const char *endpoint[2];      /* the upstream model and path when the name is an http(s) URL: a
                                     dedicated endpoint, which is then the base */
    const char *auth[2];          /* the key's header, and what precedes the key in its value */
    const char *header[2];        /* a header every request carries (name, value), or NULL */
    const llmsplit__wire *wire;
};

static int llmsplit__starts(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Joins base (trailing slashes dropped) and path into out; 0 when base is not an http(s) URL.
   base_env: the variable base was read from, if it was; its value is never quoted (a key put
   in the wrong variable would end up in a log). */
static int llmsplit__join_url(char *out, size_t cap, const char *base, const char *base_env, const char *path,
                              llmsplit_error *err) {
    size_t n = strlen(base);
    llmsplit_url u;
    while (n > 0 && base[n - 1] == '/') n--;
    if ((size_t)snprintf(out, cap, "%.*s%s", (int)n, base, path) >= cap) {
        llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "api_base is too long");
        return 0;
    }
    if (!llmsplit__url_parse(out, &u, err)) {
        if (base_env) {
            llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "api_base (from %s) is not an http(s) URL", base_env);
        } else if (err) {
            char tmp[sizeof err->message];
            llmsplit__copy(tmp, sizeof tmp, err->message);
            llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "api_base '%.*s' is not usable: %s", llmsplit__fit(base, 80), base, tmp);
        }
        return 0;
    }
    return 1;
}

/* The key to send: the caller's (with "os.environ/NAME" read from NAME), else the route's
   environment variables. NULL when there is none. */
static const char *llmsplit__resolve_key(const char *given, const char *const key_env[2]) {
    int i;
    if (given && *given) {
        if (llmsplit__starts(given, "os.environ/")) {
            const char *v = getenv(given + 11);
            return v && *v ? v : NULL;
        }
        return given;
    }
    for (i = 0; i < 2; i++) {
        const char *v = key_env[i] ? getenv(key_env[i]) : NULL;
        if (v && *v) return v;
    }
    return NULL;
}

/* Keys that steer llmsplit itself and never go upstream, even if a caller puts them in params. */
static int llmsplit__control_key(const char *k, size_t n) {
    static const char *const keys[] = {
        "model", "messages", "stream", "weight", "silent_model", "api_key", "api_base", "api_version", "rpm",
        "tpm", "timeout", "stream_timeout", "max_retries", "num_retries", "input_cost_per_token",
        "output_cost_per_token", "model_name", "litellm_params", "metadata_llmsplit", NULL};
    int i;
    for (i = 0; keys[i]; i++)
        if (strlen(keys[i]) == n && memcmp(keys[i], k, n) == 0) return 1;
    return 0;
}

static void llmsplit__w_lit(llmsplit_json_writer *w, const char *key, const char *value) {
    llmsplit_json_write_key(w, key, strlen(key));
    llmsplit_json_write_string(w, value, strlen(value));
}

/* Writes a raw JSON text (already validated by the caller's parse) as a value. */
static void llmsplit__w_raw(llmsplit_json_writer *w, const char *json, llmsplit_error *err, const char *what) {
    llmsplit_error je;
    llmsplit_json_doc *doc = llmsplit__parse(&w->buf.allocator, json, strlen(json), &je);
    if (!doc) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "request: %s is not valid JSON (%d:%d: %s)", what, je.line, je.col, je.message);
        w->err = LLMSPLIT_ERR_USAGE;
        return;
    }
    llmsplit_json_write_value(w, llmsplit_json_root(doc));
    llmsplit_json_free(doc);
}

static size_t llmsplit__content_len(const llmsplit_message *m) {
    return m->content ? (m->content_len ? m->content_len : strlen(m->content)) : 0;
}

static int llmsplit__key_is(const llmsplit_json_val *k, const char *name) {
    size_t n;
    const char *s = llmsplit_json_str(k, &n);
    return s && n == strlen(name) && memcmp(s, name, n) == 0;
}

/* --- what every wire format uses --------------------------------------------------------- */

static void llmsplit__copy_str(char *dst, size_t cap, const llmsplit_json_val *v) {
    size_t n;
    const char *s = llmsplit_json_str(v, &n);
    if (!s) return;
    llmsplit__copy_n(dst, cap, s, n);
}

static void llmsplit__set_finish(llmsplit_chat_response *r, const llmsplit_json_val *v) {
    static const char *const map[][2] = {{"end_turn", "stop"}, {"stop_sequence", "stop"}, {"max_tokens", "length"},
                                         {"tool_use", "tool_calls"}, {NULL, NULL}};
    int i;
    llmsplit__copy_str(r->finish_reason, sizeof r->finish_reason, v);
    for (i = 0; map[i][0]; i++)
        if (strcmp(r->finish_reason, map[i][0]) == 0) snprintf(r->finish_reason, sizeof r->finish_reason, "%s", map[i][1]);
}

static void llmsplit__set_tokens(int64_t *dst, const llmsplit_json_val *v) {
    if (llmsplit_json_type_of(v) == LLMSPLIT_JSON_NUMBER) *dst = llmsplit_json_int(v);
}
/* An answer without the part its wire format must have. */
static llmsplit_status llmsplit__no_answer(llmsplit_error *err, const char *part) {
    llmsplit__set_error(err, LLMSPLIT_ERR_RESPONSE, "the answer has no %s", part);
    return LLMSPLIT_ERR_RESPONSE;
}

/* Tool calls come back in one shape whatever the provider, OpenAI's (as LiteLLM gives them):
       [{"id":"call_...","type":"function","function":{"name":"...","arguments":"<JSON text>"}}]
   with the arguments as JSON text in a string, "{}" when there are none, and an id made up for a
   call that came without one (Ollama's never have one). */

/* "call_" and 24 hex digits: 16 from a process-wide counter through a bijective mix (unique in
   the process), 8 from the clock and the process id (unlikely to repeat in another process). */
static void llmsplit__call_id(char out[32]) {
    static uint32_t counter;
    struct timespec ts;
    uint64_t n, t;
#if defined(__GNUC__) || defined(__clang__)
    n = __atomic_add_fetch(&counter, 1u, __ATOMIC_RELAXED);
#else
    n = ++counter; /* without atomics two threads may draw one number; the clock digits differ */
#endif
    clock_gettime(CLOCK_REALTIME, &ts);
    t = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 40);
    n = (n ^ (n >> 33)) * 0xff51afd7ed558ccdull; /* MurmurHash3's fmix64: each step is invertible */
    n = (n ^ (n >> 33)) * 0xc4ceb9fe1a85ec53ull;
    n ^= n >> 33;
    t = (t ^ (t >> 29)) * 0xbf58476d1ce4e5b9ull;
    snprintf(out, 32, "call_%08lx%016llx", (unsigned long)(uint32_t)(t >> 32), (unsigned long long)n);
}

/* The arguments of a call as JSON text: a string as it is, any other value written compactly
   (into tmp); NULL when there are none. */
static const char *llmsplit__args_text(llmsplit_json_writer *tmp, const llmsplit_json_val *v, size_t *n) {
    const char *s = llmsplit_json_str(v, n);
    if (s || !v || llmsplit_json_type_of(v) == LLMSPLIT_JSON_NULL) return s;
    llmsplit_json_write_value(tmp, v);
    return llmsplit__w_result(tmp, n);
}

/* Writes one tool call in the shape above. */
static void llmsplit__w_tool_call(llmsplit_json_writer *w, const char *id, size_t id_len, const char *name,
                                  size_t name_len, const char *args, size_t args_len) {
    char made[32];
    if (!id || !id_len) {
        llmsplit__call_id(made);
        id = made;
        id_len = strlen(made);
    }
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "id");
    llmsplit_json_write_string(w, id, id_len);
    llmsplit__w_lit(w, "type", "function");
    LLMSPLIT_JSON_KEY(w, "function");
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "name");
    llmsplit_json_write_string(w, name ? name : "", name ? name_len : 0);
    LLMSPLIT_JSON_KEY(w, "arguments");
    if (args && args_len) llmsplit_json_write_string(w, args, args_len);
    else llmsplit_json_write_string(w, "{}", 2);
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_object(w);
}

/* The same from parsed values (an id and a name that are not strings count as absent). */
static void llmsplit__w_tool_call_vals(llmsplit_json_writer *w, const llmsplit_json_val *id, const llmsplit_json_val *name,
                                       const llmsplit_json_val *args) {
    llmsplit_json_writer tmp;
    size_t idn = 0, nn = 0, an = 0;
    const char *ids = llmsplit_json_str(id, &idn), *ns = llmsplit_json_str(name, &nn), *as;
    llmsplit_json_writer_init(&tmp, &w->buf.allocator);
    as = llmsplit__args_text(&tmp, args, &an);
    llmsplit__w_tool_call(w, ids, idn, ns, nn, as, an);
    llmsplit_json_writer_free(&tmp);
}

/* Ends the array of calls in w and makes it the answer's tool calls when it has any. */
static void llmsplit__take_tool_calls(llmsplit_chat_response *r, llmsplit_json_writer *w, int any) {
    llmsplit_json_write_end_array(w);
    if (any && llmsplit__w_result(w, NULL)) {
        llmsplit_buf_free(&r->tool_calls);
        r->tool_calls = w->buf;
    } else {
        llmsplit_json_writer_free(w);
    }
}

/* An answer's tool calls in OpenAI's shape, or Ollama's (arguments as an object, no id). */
static void llmsplit__set_tool_calls(llmsplit_chat_response *r, const llmsplit_json_val *calls) {
    llmsplit_json_writer w;
    llmsplit_json_iter it = llmsplit_json_iterate(calls);
    const llmsplit_json_val *c;
    int any = 0;
    llmsplit_json_writer_init(&w, &r->tool_calls.allocator);
    llmsplit_json_write_begin_array(&w);
    while (llmsplit_json_next(&it, NULL, &c)) {
        if (llmsplit_json_type_of(c) != LLMSPLIT_JSON_OBJECT) continue;
        any = 1;
        llmsplit__w_tool_call_vals(&w, llmsplit_json_get(c, "id"), llmsplit_json_path(c, "function.name"),
                                   llmsplit_json_path(c, "function.arguments"));
    }
    llmsplit__take_tool_calls(r, &w, any);
}

/* How many bytes at the end of t[0..len) are the start of the key (at least 4, short of the
   whole key): a message cut inside an echoed key, by the provider or by us, would show that
   much of it. */
static size_t llmsplit__key_start_at_end(const char *t, size_t len, const char *key, size_t kl) {
    size_t m = kl - 1 < len ? kl - 1 : len;
    for (; m >= 4; m--)
        if (memcmp(t + len - m, key, m) == 0) return m;
    return 0;
}

/* Copies a message for display: control characters become spaces, the key (if a provider echoes
   it, whole or cut at the end) is masked, and the length is bounded, cut on a character
   boundary. */
static void llmsplit__clean_message(char *out, size_t cap, const char *s, size_t n, const char *key) {
    size_t i, o = 0, m, kl = key ? strlen(key) : 0;
    int cut;
    for (i = 0; i < n && o + 4 < cap; i++) {
        if (kl >= 8 && i + kl <= n && memcmp(s + i, key, kl) == 0) {
            memcpy(out + o, "***", 3);
            o += 3;
            i += kl - 1;
            continue;
        }
        out[o++] = (unsigned char)s[i] < 0x20 ? ' ' : s[i];
    }
    cut = i < n;
    if (cut) o = llmsplit__utf8_cut(out, o >= 3 ? o - 3 : 0); /* room for the "..." */
    if (kl >= 8 && (m = llmsplit__key_start_at_end(out, o, key, kl)) != 0) {
        memcpy(out + o - m, "***", 3);
        o = o - m + 3;
    }
    if (cut && o + 3 < cap) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = 0;
}

/* --- SSE ------------------------------------------------------------------------------- */

LLMSPLIT_API void llmsplit_sse_init(llmsplit_sse_parser *p, const llmsplit_allocator *allocator) {
    memset(p, 0, sizeof *p);
    llmsplit_buf_init(&p->line, allocator);
    llmsplit_buf_init(&p->data, allocator);
}

LLMSPLIT_API void llmsplit_sse_free(llmsplit_sse_parser *p) {
    llmsplit_buf_free(&p->line);
    llmsplit_buf_free(&p->data);
}

/* One complete line (without its ending). Returns -1 to stop. */
static int llmsplit__sse_line(llmsplit_sse_parser *p, const char *s, size_t n, llmsplit_error *err) {
    const char *colon, *value;
    size_t name_len, value_len;
    if (n == 0) { /* dispatch */
        int r = 0;
        if (p->data.len) {
            p->data.len--; /* the last LF */
            p->data.data[p->data.len] = 0;
            if (p->on_event) r = p->on_event(p->event, p->data.data, p->data.len, p->user_data);
        }
        p->data.len = 0;
        p->event[0] = 0;
        return r ? -1 : 0;
    }
    if (s[0] == ':') return 0; /* comment */
    colon = (const char *)memchr(s, ':', n);
    name_len = colon ? (size_t)(colon - s) : n;
    value = colon ? colon + 1 : s + n;
    value_len = (size_t)(s + n - value);
    if (value_len && *value == ' ') { value++; value_len--; }
    if (name_len == 4 && memcmp(s, "data", 4) == 0) {
        size_t max = p->max_event_bytes ? p->max_event_bytes : LLMSPLIT_SSE_MAX_EVENT_BYTES;
        if (p->data.len + value_len + 1 > max) {
            llmsplit__set_error(err, LLMSPLIT_ERR_HTTP, "server-sent event larger than %lu bytes", (unsigned long)max);
            return -1;
        }
        llmsplit_buf_append(&p->data, value, value_len);
        llmsplit_buf_append(&p->data, "\n", 1);
        if (p->data.failed) {
            llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory for a server-sent event");
            return -1;
        }
    } else if (name_len == 5 && memcmp(s, "event", 5) == 0) {
        if (value_len >= sizeof p->event) value_len = sizeof p->event - 1;
        memcpy(p->event, value, value_len);
        p->event[value_len] = 0;
    }
    return 0; /* id, retry and unknown fields are ignored */
}

static int llmsplit__sse_feed(llmsplit_sse_parser *p, const char *data, size_t len, llmsplit_error *err) {
    size_t i = 0, max = p->max_event_bytes ? p->max_event_bytes : LLMSPLIT_SSE_MAX_EVENT_BYTES;
    while (i < len) {
        size_t start = i;
        if (p->after_cr && data[i] == '\n') { /* the LF of a CRLF split across reads */
            p->after_cr = 0;
            i++;
            continue;
        }
        p->after_cr = 0;
        while (i < len && data[i] != '\n' && data[i] != '\r') i++;
        if (i == len) { /* partial line: keep it */
            if (p->line.len + (i - start) > max) {
                llmsplit__set_error(err, LLMSPLIT_ERR_HTTP, "server-sent event line larger than %lu bytes", (unsigned long)max);
                return -1;
            }
            llmsplit_buf_append(&p->line, data + start, i - start);
            break;
        }
        if (data[i] == '\r') p->after_cr = 1;
        if (p->line.len) {
            int r;
            llmsplit_buf_append(&p->line, data + start, i - start);
            r = llmsplit__sse_line(p, p->line.data, p->line.len, err);
            p->line.len = 0;
            if (r < 0) return -1;
        } else if (llmsplit__sse_line(p, data + start, i - start, err) < 0) {
            return -1;
        }
        i++;
        if (p->after_cr && i < len && data[i] == '\n') { p->after_cr = 0; i++; }
    }
    return 0;
}

LLMSPLIT_API llmsplit_status llmsplit_sse_feed(llmsplit_sse_parser *p, const char *data, size_t len, llmsplit_error *err) {
    llmsplit_error local;
    llmsplit_error *e = err ? err : &local;
    e->code = LLMSPLIT_OK;
    if (llmsplit__sse_feed(p, data, len, e) == 0) return LLMSPLIT_OK;
    if (e->code != LLMSPLIT_OK) return e->code;
    llmsplit__set_error(e, LLMSPLIT_ERR_USAGE, "sse: stopped by the event callback");
    return LLMSPLIT_ERR_USAGE;
}

/* --- streams ------------------------------------------------------------------------------- */

/* Streaming state: the SSE (or NDJSON) reader feeding deltas into the response. */
struct llmsplit__stream {
    const llmsplit_chat_request *req;
    const llmsplit__wire *wire;
    llmsplit_chat_response *resp;
    llmsplit_http_response *http;
    llmsplit_error *err;
    const char *key;
    llmsplit_sse_parser sse;
    llmsplit_buf ndjson;            /* Ollama: the partial line */
    llmsplit_buf errbody;           /* a non-200 answer, kept whole */
    int mode;                       /* 0 undecided, 1 SSE, 2 NDJSON, 3 plain JSON, 4 error body */
    int done, failed, deltas;
    unsigned high_half;             /* a surrogate half waiting for its pair (see llmsplit__delta) */
    double t0;
    /* tool calls assembled from deltas, in the order they start; key is the provider's number
       for the call (OpenAI's tool call index, Anthropic's content block index) */
    struct { llmsplit_buf id, name, args; int64_t key; } calls[16];
    int num_calls;
};

/* Hands text to the response and the caller. Servers that count UTF-16 units may split a
   surrogate pair across two events; the parser keeps such halves in their 3-byte form (ED A0..BF),
   so a high half is held back here until its low half arrives, and any half left alone becomes
   U+FFFD: callers only ever see valid UTF-8. */
static int llmsplit__delta(llmsplit__stream *st, const char *s, size_t n) {
    char out_local[256];
    llmsplit_buf big;
    char *out = out_local, *o;
    size_t i = 0;
    int rc = 0;
    llmsplit_buf_init(&big, &st->resp->text.allocator);
    if (n + 4 > sizeof out_local) { /* each 3-byte half becomes at most 4 bytes */
        if (!llmsplit__buf_grow(&big, n + 4)) return -1;
        out = big.data;
    }
    o = out;
    while (i < n) {
        const unsigned char *u = (const unsigned char *)s + i;
        if (u[0] == 0xed && i + 2 < n && (u[1] & 0xe0) == 0xa0) {
            unsigned half = 0xd000u | ((unsigned)(u[1] & 0x3f) << 6) | (u[2] & 0x3f);
            i += 3;
            if (half < 0xdc00) {
                if (st->high_half) o = llmsplit__put_utf8(o, 0xfffd);
                st->high_half = half;
            } else if (st->high_half) {
                o = llmsplit__put_utf8(o, 0x10000u + ((st->high_half - 0xd800u) << 10) + (half - 0xdc00u));
                st->high_half = 0;
            } else {
                o = llmsplit__put_utf8(o, 0xfffd);
            }
            continue;
        }
        if (st->high_half) { o = llmsplit__put_utf8(o, 0xfffd); st->high_half = 0; }
        *o++ = s[i++];
    }
    n = (size_t)(o - out);
    if (n) {
        if (!st->deltas++) st->resp->ttft_ms = llmsplit__now_msf() - st->t0;
        llmsplit_buf_append(&st->resp->text, out, n);
        if (st->req->on_delta && (st->resp->delivered = 1) && st->req->on_delta(out, n, st->req->user_data) != 0) {
            llmsplit__set_error(st->err, LLMSPLIT_ERR_USAGE, "stopped by the delta callback");
            st->failed = 1;
            rc = -1;
        }
    }
    llmsplit_buf_free(&big);
    return rc;
}

/* Adds to the tool call the provider numbers key, or with create starts it when it is new. The
   provider's numbers are not slots: Anthropic numbers every content block, text ones included,
   so a call is found by its key and the calls are numbered in the order they start. */
static void llmsplit__tool_delta(llmsplit__stream *st, int64_t key, int create, const llmsplit_json_val *id,
                                 const llmsplit_json_val *name, const llmsplit_json_val *args) {
    size_t n;
    const char *s;
    int i;
    for (i = 0; i < st->num_calls && st->calls[i].key != key; i++) {}
    if (i == st->num_calls) {
        if (!create || i == (int)(sizeof st->calls / sizeof st->calls[0])) return;
        llmsplit_buf_init(&st->calls[i].id, &st->resp->text.allocator);
        llmsplit_buf_init(&st->calls[i].name, &st->resp->text.allocator);
        llmsplit_buf_init(&st->calls[i].args, &st->resp->text.allocator);
        st->calls[i].key = key;
        st->num_calls++;
    }
    if ((s = llmsplit_json_str(id, &n)) != NULL) llmsplit_buf_append(&st->calls[i].id, s, n);
    if ((s = llmsplit_json_str(name, &n)) != NULL) llmsplit_buf_append(&st->calls[i].name, s, n);
    if (args) {
        llmsplit_json_writer tmp;
        llmsplit_json_writer_init(&tmp, &st->resp->text.allocator);
        if ((s = llmsplit__args_text(&tmp, args, &n)) != NULL) llmsplit_buf_append(&st->calls[i].args, s, n);
        llmsplit_json_writer_free(&tmp);
    }
}

static void llmsplit__stream_error(llmsplit__stream *st, const llmsplit_json_val *e) {
    size_t n = 0;
    const char *msg = llmsplit_json_type_of(e) == LLMSPLIT_JSON_STRING ? llmsplit_json_str(e, &n)
                                                                      : llmsplit_json_str(llmsplit_json_get(e, "message"), &n);
    const char *type = llmsplit_json_str(llmsplit_json_get(e, "type"), NULL);
    char clean[200];
    llmsplit__clean_message(clean, sizeof clean, msg ? msg : "", msg ? n : 0, st->key);
    llmsplit__set_error(st->err, LLMSPLIT_ERR_PROVIDER, "error inside the stream%s%s: %s", type ? ": " : "",
                        type ? type : "", clean);
    if (st->err) st->err->http_status = st->http->status;
    st->failed = 1;
}

/* --- OpenAI chat (OpenAI, Azure, Hugging Face, OpenRouter, Together) --------------------- */
/* An assistant's tool calls for Ollama, which wants each call's arguments as an object where
   OpenAI (and the calls llmsplit gives back) has JSON text in a string. Arguments that are not
   a JSON text become {}, as for Anthropic. */
static void llmsplit__w_ollama_calls(llmsplit_json_writer *w, const char *json, llmsplit_error *err) {
    llmsplit_json_doc *calls = llmsplit__parse(&w->buf.allocator, json, strlen(json), NULL);
    llmsplit_json_iter it = llmsplit_json_iterate(llmsplit_json_root(calls));
    const llmsplit_json_val *c;
    if (!calls) {
        llmsplit__w_raw(w, json, err, "message tool_calls_json"); /* fails with the parser's message */
        return;
    }
    llmsplit_json_write_begin_array(w);
    while (llmsplit_json_next(&it, NULL, &c)) {
        const llmsplit_json_val *name = llmsplit_json_path(c, "function.name");
        const llmsplit_json_val *args = llmsplit_json_path(c, "function.arguments");
        size_t an = 0, nn = 0;
        const char *a = llmsplit_json_str(args, &an), *ns = llmsplit_json_str(name, &nn);
        llmsplit_json_doc *input = a ? llmsplit__parse(&w->buf.allocator, a, an, NULL) : NULL;
        if (llmsplit_json_type_of(llmsplit_json_root(input)) == LLMSPLIT_JSON_OBJECT) args = llmsplit_json_root(input);
        else if (a || llmsplit_json_type_of(args) != LLMSPLIT_JSON_OBJECT) args = NULL;
        llmsplit_json_write_begin_object(w);
        LLMSPLIT_JSON_KEY(w, "function");
        llmsplit_json_write_begin_object(w);
        LLMSPLIT_JSON_KEY(w, "name");
        llmsplit_json_write_string(w, ns ? ns : "", ns ? nn : 0);
        LLMSPLIT_JSON_KEY(w, "arguments");
        if (args) llmsplit_json_write_value(w, args);
        else llmsplit__w_raw(w, "{}", NULL, "arguments");
        llmsplit_json_write_end_object(w);
        llmsplit_json_write_end_object(w);
        llmsplit_json_free(input);
    }
    llmsplit_json_write_end_array(w);
    llmsplit_json_free(calls);
}

/* OpenAI chat messages, shared by every OpenAI-shaped provider and Ollama. */
static void llmsplit__w_openai_messages(llmsplit_json_writer *w, const llmsplit_chat_request *req, int ollama,
                                        llmsplit_error *err) {
    int i;
    LLMSPLIT_JSON_KEY(w, "messages");
    llmsplit_json_write_begin_array(w);
    for (i = 0; i < req->num_messages; i++) {
        const llmsplit_message *m = &req->messages[i];
        llmsplit_json_write_begin_object(w);
        llmsplit__w_lit(w, "role", m->role ? m->role : "user");
        LLMSPLIT_JSON_KEY(w, "content");
        if (m->content_json && !ollama) llmsplit__w_raw(w, m->content_json, err, "message content_json");
        else if (m->content) llmsplit_json_write_string(w, m->content, llmsplit__content_len(m));
        else if (ollama) llmsplit_json_write_string(w, "", 0);
        else llmsplit_json_write_null(w);
        if (m->name) llmsplit__w_lit(w, "name", m->name);
        if (m->tool_calls_json) {
            LLMSPLIT_JSON_KEY(w, "tool_calls");
            if (ollama) llmsplit__w_ollama_calls(w, m->tool_calls_json, err);
            else llmsplit__w_raw(w, m->tool_calls_json, err, "message tool_calls_json");
        }
        if (m->tool_call_id) llmsplit__w_lit(w, "tool_call_id", m->tool_call_id);
        llmsplit_json_write_end_object(w);
    }
    llmsplit_json_write_end_array(w);
}

static void llmsplit__w_openai(llmsplit_json_writer *w, const llmsplit_chat_request *req, const llmsplit_json_val *params,
                               const llmsplit__provider *p, llmsplit_error *err) {
    llmsplit_json_iter it;
    const llmsplit_json_val *k, *v;
    int has_stream_options = 0;
    llmsplit__w_openai_messages(w, req, 0, err);
    it = llmsplit_json_iterate(params);
    while (llmsplit_json_next(&it, &k, &v)) {
        size_t n;
        const char *ks = llmsplit_json_str(k, &n);
        if (llmsplit__control_key(ks, n)) continue;
        if (llmsplit__key_is(k, "stream_options")) {
            if (!req->stream) continue;
            has_stream_options = 1;
        }
        llmsplit_json_write_key(w, ks, n);
        llmsplit_json_write_value(w, v);
    }
    if (req->stream) {
        LLMSPLIT_JSON_KEY(w, "stream");
        llmsplit_json_write_bool(w, 1);
        if (!has_stream_options && (p->flags & LLMSPLIT__STREAM_USAGE)) {
            LLMSPLIT_JSON_KEY(w, "stream_options");
            llmsplit__w_raw(w, "{\"include_usage\":true}", NULL, "stream_options");
        }
    }
}

/* A member by a literal name (no strlen, no path to read): for the answers read per call. */
#define llmsplit__get(v, lit) llmsplit_json_getn((v), "" lit, sizeof(lit) - 1)

static llmsplit_status llmsplit__openai_answer(llmsplit_chat_response *r, const llmsplit_json_val *root, llmsplit_error *err) {
    const llmsplit_json_val *c0 = llmsplit_json_at(llmsplit__get(root, "choices"), 0), *m = llmsplit__get(c0, "message");
    const llmsplit_json_val *u = llmsplit__get(root, "usage"), *c;
    size_t n;
    const char *s;
    if (!m) return llmsplit__no_answer(err, "choices[0].message");
    if ((s = llmsplit_json_str(llmsplit__get(m, "content"), &n)) != NULL) llmsplit_buf_append(&r->text, s, n);
    llmsplit__copy_str(r->role, sizeof r->role, llmsplit__get(m, "role"));
    llmsplit__set_finish(r, llmsplit__get(c0, "finish_reason"));
    llmsplit__set_tokens(&r->prompt_tokens, llmsplit__get(u, "prompt_tokens"));
    llmsplit__set_tokens(&r->completion_tokens, llmsplit__get(u, "completion_tokens"));
    if ((c = llmsplit__get(m, "tool_calls")) != NULL && llmsplit_json_len(c)) llmsplit__set_tool_calls(r, c);
    return LLMSPLIT_OK;
}

static int llmsplit__openai_event(llmsplit__stream *st, const char *event, const llmsplit_json_val *root) {
    const llmsplit_json_val *ch = llmsplit_json_at(llmsplit__get(root, "choices"), 0), *d = llmsplit__get(ch, "delta"), *tc, *v;
    llmsplit_json_iter it;
    size_t n;
    const char *s;
    int rc = 0;
    (void)event;
    if ((s = llmsplit_json_str(llmsplit__get(d, "content"), &n)) != NULL) rc = llmsplit__delta(st, s, n);
    llmsplit__copy_str(st->resp->role, sizeof st->resp->role, llmsplit__get(d, "role"));
    if (llmsplit_json_type_of(v = llmsplit__get(ch, "finish_reason")) == LLMSPLIT_JSON_STRING) llmsplit__set_finish(st->resp, v);
    it = llmsplit_json_iterate(llmsplit__get(d, "tool_calls"));
    while (llmsplit_json_next(&it, NULL, &tc))
        llmsplit__tool_delta(st, llmsplit_json_int(llmsplit_json_get(tc, "index")), 1, llmsplit_json_get(tc, "id"),
                             llmsplit_json_path(tc, "function.name"), llmsplit_json_path(tc, "function.arguments"));
    if ((v = llmsplit_json_get(root, "usage")) != NULL && llmsplit_json_type_of(v) == LLMSPLIT_JSON_OBJECT) {
        llmsplit__set_tokens(&st->resp->prompt_tokens, llmsplit_json_get(v, "prompt_tokens"));
        llmsplit__set_tokens(&st->resp->completion_tokens, llmsplit_json_get(v, "completion_tokens"));
    }
    return rc;
}

static const llmsplit__wire llmsplit__wire_openai = {
    llmsplit__w_openai, llmsplit__openai_answer, llmsplit__openai_event, "text/event-stream", "[DONE]", 0
};

/* --- Anthropic messages ------------------------------------------------------------------ */
/* Anthropic wants tools as {name, description, input_schema}. */
static void llmsplit__w_anthropic_tools(llmsplit_json_writer *w, const llmsplit_json_val *tools) {
    llmsplit_json_iter it = llmsplit_json_iterate(tools);
    const llmsplit_json_val *t;
    llmsplit_json_write_begin_array(w);
    while (llmsplit_json_next(&it, NULL, &t)) {
        const llmsplit_json_val *f = llmsplit_json_get(t, "function"), *v;
        if (!f) { llmsplit_json_write_value(w, t); continue; } /* already Anthropic-shaped */
        llmsplit_json_write_begin_object(w);
        LLMSPLIT_JSON_KEY(w, "name");
        llmsplit_json_write_value(w, llmsplit_json_get(f, "name"));
        if ((v = llmsplit_json_get(f, "description")) != NULL) {
            LLMSPLIT_JSON_KEY(w, "description");
            llmsplit_json_write_value(w, v);
        }
        LLMSPLIT_JSON_KEY(w, "input_schema");
        if ((v = llmsplit_json_get(f, "parameters")) != NULL) llmsplit_json_write_value(w, v);
        else llmsplit__w_raw(w, "{\"type\":\"object\",\"properties\":{}}", NULL, "schema");
        llmsplit_json_write_end_object(w);
    }
    llmsplit_json_write_end_array(w);
}

/* One OpenAI parameter in Anthropic terms. */
static void llmsplit__w_anthropic_param(llmsplit_json_writer *w, const llmsplit_json_val *params, const llmsplit_json_val *k,
                                        const llmsplit_json_val *v) {
    static const char *const dropped[] = {"n", "frequency_penalty", "presence_penalty", "logit_bias", "logprobs",
                                          "top_logprobs", "response_format", "seed", "stream_options",
                                          "parallel_tool_calls", "max_tokens", "max_completion_tokens", "system", NULL};
    int i;
    for (i = 0; dropped[i]; i++)
        if (llmsplit__key_is(k, dropped[i])) return;
    /* a translated key the caller also gave in Anthropic's own terms yields to it */
    if ((llmsplit__key_is(k, "stop") && llmsplit_json_get(params, "stop_sequences")) ||
        (llmsplit__key_is(k, "user") && llmsplit_json_get(params, "metadata")))
        return;
    if (llmsplit__key_is(k, "stop")) {
        LLMSPLIT_JSON_KEY(w, "stop_sequences");
        if (llmsplit_json_type_of(v) == LLMSPLIT_JSON_STRING) {
            llmsplit_json_write_begin_array(w);
            llmsplit_json_write_value(w, v);
            llmsplit_json_write_end_array(w);
        } else {
            llmsplit_json_write_value(w, v);
        }
    } else if (llmsplit__key_is(k, "user")) {
        LLMSPLIT_JSON_KEY(w, "metadata");
        llmsplit_json_write_begin_object(w);
        LLMSPLIT_JSON_KEY(w, "user_id");
        llmsplit_json_write_value(w, v);
        llmsplit_json_write_end_object(w);
    } else if (llmsplit__key_is(k, "tools")) {
        LLMSPLIT_JSON_KEY(w, "tools");
        llmsplit__w_anthropic_tools(w, v);
    } else if (llmsplit__key_is(k, "tool_choice")) {
        const char *s = llmsplit_json_str(v, NULL);
        const llmsplit_json_val *fn = llmsplit_json_path(v, "function.name");
        if (s && strcmp(s, "none") == 0) return;
        LLMSPLIT_JSON_KEY(w, "tool_choice");
        llmsplit_json_write_begin_object(w);
        if (fn) {
            llmsplit__w_lit(w, "type", "tool");
            LLMSPLIT_JSON_KEY(w, "name");
            llmsplit_json_write_value(w, fn);
        } else {
            llmsplit__w_lit(w, "type", s && strcmp(s, "required") == 0 ? "any" : "auto");
        }
        llmsplit_json_write_end_object(w);
    } else {
        size_t n;
        const char *ks = llmsplit_json_str(k, &n);
        llmsplit_json_write_key(w, ks, n);
        llmsplit_json_write_value(w, v);
    }
}

/* Anthropic Messages: system messages hoisted to "system", tool calls and results as blocks. */
static void llmsplit__w_anthropic(llmsplit_json_writer *w, const llmsplit_chat_request *req, const llmsplit_json_val *params,
                                  const llmsplit__provider *p, llmsplit_error *err) {
    llmsplit_buf system;
    const llmsplit_json_val *mt = llmsplit_json_get(params, "max_tokens"), *k, *v;
    llmsplit_json_iter it;
    int i;
    (void)p;
    if (!mt) mt = llmsplit_json_get(params, "max_completion_tokens");
    LLMSPLIT_JSON_KEY(w, "max_tokens");
    if (mt) llmsplit_json_write_value(w, mt);
    else llmsplit_json_write_int(w, 4096); /* required by Anthropic; LiteLLM's default too */
    llmsplit_buf_init(&system, &w->buf.allocator);
    for (i = 0; i < req->num_messages; i++) {
        const llmsplit_message *m = &req->messages[i];
        if (!m->role || strcmp(m->role, "system") != 0 || !m->content) continue;
        if (system.len) llmsplit_buf_append(&system, "\n\n", 2);
        llmsplit_buf_append(&system, m->content, llmsplit__content_len(m));
    }
    if (system.len) {
        LLMSPLIT_JSON_KEY(w, "system");
        llmsplit_json_write_string(w, system.data, system.len);
    }
    llmsplit_buf_free(&system);
    LLMSPLIT_JSON_KEY(w, "messages");
    llmsplit_json_write_begin_array(w);
    for (i = 0; i < req->num_messages; i++) {
        const llmsplit_message *m = &req->messages[i];
        const char *role = m->role ? m->role : "user";
        if (strcmp(role, "system") == 0) continue;
        llmsplit_json_write_begin_object(w);
        if (strcmp(role, "tool") == 0) {
            llmsplit__w_lit(w, "role", "user");
            LLMSPLIT_JSON_KEY(w, "content");
            llmsplit_json_write_begin_array(w);
            llmsplit_json_write_begin_object(w);
            llmsplit__w_lit(w, "type", "tool_result");
            llmsplit__w_lit(w, "tool_use_id", m->tool_call_id ? m->tool_call_id : "");
            LLMSPLIT_JSON_KEY(w, "content");
            llmsplit_json_write_string(w, m->content ? m->content : "", llmsplit__content_len(m));
            llmsplit_json_write_end_object(w);
            llmsplit_json_write_end_array(w);
        } else if (m->tool_calls_json) {
            llmsplit_json_doc *calls = llmsplit__parse(&w->buf.allocator, m->tool_calls_json, strlen(m->tool_calls_json), NULL);
            llmsplit_json_iter ci = llmsplit_json_iterate(llmsplit_json_root(calls));
            const llmsplit_json_val *c;
            llmsplit__w_lit(w, "role", "assistant");
            LLMSPLIT_JSON_KEY(w, "content");
            llmsplit_json_write_begin_array(w);
            if (m->content && llmsplit__content_len(m)) {
                llmsplit_json_write_begin_object(w);
                llmsplit__w_lit(w, "type", "text");
                LLMSPLIT_JSON_KEY(w, "text");
                llmsplit_json_write_string(w, m->content, llmsplit__content_len(m));
                llmsplit_json_write_end_object(w);
            }
            while (llmsplit_json_next(&ci, NULL, &c)) {
                size_t an = 0;
                const char *args = llmsplit_json_str(llmsplit_json_path(c, "function.arguments"), &an);
                llmsplit_json_doc *input = args ? llmsplit__parse(&w->buf.allocator, args, an, NULL) : NULL;
                llmsplit_json_write_begin_object(w);
                llmsplit__w_lit(w, "type", "tool_use");
                LLMSPLIT_JSON_KEY(w, "id");
                llmsplit_json_write_value(w, llmsplit_json_get(c, "id"));
                LLMSPLIT_JSON_KEY(w, "name");
                llmsplit_json_write_value(w, llmsplit_json_path(c, "function.name"));
                LLMSPLIT_JSON_KEY(w, "input");
                if (input) llmsplit_json_write_value(w, llmsplit_json_root(input));
                else llmsplit__w_raw(w, "{}", NULL, "input");
                llmsplit_json_free(input);
                llmsplit_json_write_end_object(w);
            }
            llmsplit_json_write_end_array(w);
            if (!calls) llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "request: message tool_calls_json is not valid JSON");
            if (!calls) w->err = LLMSPLIT_ERR_USAGE;
            llmsplit_json_free(calls);
        } else {
            llmsplit__w_lit(w, "role", role);
            LLMSPLIT_JSON_KEY(w, "content");
            if (m->content_json) llmsplit__w_raw(w, m->content_json, err, "message content_json");
            else llmsplit_json_write_string(w, m->content ? m->content : "", llmsplit__content_len(m));
        }
        llmsplit_json_write_end_object(w);
    }
    llmsplit_json_write_end_array(w);
    it = llmsplit_json_iterate(params);
    while (llmsplit_json_next(&it, &k, &v)) {
        size_t n;
        const char *ks = llmsplit_json_str(k, &n);
        if (!llmsplit__control_key(ks, n)) llmsplit__w_anthropic_param(w, params, k, v);
    }
    if (req->stream) {
        LLMSPLIT_JSON_KEY(w, "stream");
        llmsplit_json_write_bool(w, 1);
    }
}

/* Anthropic tool_use blocks as tool calls in the one shape. */
static void llmsplit__anthropic_tool_calls(llmsplit_chat_response *r, const llmsplit_json_val *content) {
    llmsplit_json_writer w;
    llmsplit_json_iter it = llmsplit_json_iterate(content);
    const llmsplit_json_val *b;
    int any = 0;
    llmsplit_json_writer_init(&w, &r->tool_calls.allocator);
    llmsplit_json_write_begin_array(&w);
    while (llmsplit_json_next(&it, NULL, &b)) {
        const char *t = llmsplit_json_str(llmsplit_json_get(b, "type"), NULL);
        if (!t || strcmp(t, "tool_use") != 0) continue;
        any = 1;
        llmsplit__w_tool_call_vals(&w, llmsplit_json_get(b, "id"), llmsplit_json_get(b, "name"), llmsplit_json_get(b, "input"));
    }
    llmsplit__take_tool_calls(r, &w, any);
}

static llmsplit_status llmsplit__anthropic_answer(llmsplit_chat_response *r, const llmsplit_json_val *root,
                                                  llmsplit_error *err) {
    const llmsplit_json_val *c = llmsplit_json_get(root, "content"), *b;
    llmsplit_json_iter it = llmsplit_json_iterate(c);
    if (llmsplit_json_type_of(c) != LLMSPLIT_JSON_ARRAY) return llmsplit__no_answer(err, "content blocks");
    while (llmsplit_json_next(&it, NULL, &b)) {
        size_t n;
        const char *t = llmsplit_json_str(llmsplit_json_get(b, "type"), NULL), *s;
        if (t && strcmp(t, "text") == 0 && (s = llmsplit_json_str(llmsplit_json_get(b, "text"), &n)) != NULL)
            llmsplit_buf_append(&r->text, s, n);
    }
    llmsplit__anthropic_tool_calls(r, c);
    llmsplit__copy_str(r->role, sizeof r->role, llmsplit_json_get(root, "role"));
    llmsplit__set_finish(r, llmsplit_json_get(root, "stop_reason"));
    llmsplit__set_tokens(&r->prompt_tokens, llmsplit_json_path(root, "usage.input_tokens"));
    llmsplit__set_tokens(&r->completion_tokens, llmsplit_json_path(root, "usage.output_tokens"));
    return LLMSPLIT_OK;
}

static int llmsplit__anthropic_event(llmsplit__stream *st, const char *event, const llmsplit_json_val *root) {
    const char *type = llmsplit_json_str(llmsplit_json_get(root, "type"), NULL), *s;
    size_t n;
    int rc = 0;
    if (!type) type = event ? event : "";
    if (strcmp(type, "message_start") == 0) {
        llmsplit__set_tokens(&st->resp->prompt_tokens, llmsplit_json_path(root, "message.usage.input_tokens"));
        llmsplit__copy_str(st->resp->role, sizeof st->resp->role, llmsplit_json_path(root, "message.role"));
    } else if (strcmp(type, "content_block_start") == 0) {
        const llmsplit_json_val *b = llmsplit_json_get(root, "content_block");
        const char *bt = llmsplit_json_str(llmsplit_json_get(b, "type"), NULL);
        if (bt && strcmp(bt, "tool_use") == 0)
            llmsplit__tool_delta(st, llmsplit_json_int(llmsplit_json_get(root, "index")), 1, llmsplit_json_get(b, "id"),
                                 llmsplit_json_get(b, "name"), NULL);
        else if ((s = llmsplit_json_str(llmsplit_json_get(b, "text"), &n)) != NULL)
            rc = llmsplit__delta(st, s, n);
    } else if (strcmp(type, "content_block_delta") == 0) {
        const llmsplit_json_val *d = llmsplit_json_get(root, "delta");
        if ((s = llmsplit_json_str(llmsplit_json_get(d, "text"), &n)) != NULL) rc = llmsplit__delta(st, s, n);
        else if (llmsplit_json_get(d, "partial_json"))
            llmsplit__tool_delta(st, llmsplit_json_int(llmsplit_json_get(root, "index")), 0, NULL, NULL,
                                 llmsplit_json_get(d, "partial_json"));
    } else if (strcmp(type, "message_delta") == 0) {
        llmsplit__set_finish(st->resp, llmsplit_json_path(root, "delta.stop_reason"));
        llmsplit__set_tokens(&st->resp->completion_tokens, llmsplit_json_path(root, "usage.output_tokens"));
    } else if (strcmp(type, "message_stop") == 0) {
        st->done = 1;
    }
    return rc;
}

static const llmsplit__wire llmsplit__wire_anthropic = {
    llmsplit__w_anthropic, llmsplit__anthropic_answer, llmsplit__anthropic_event, "text/event-stream", NULL, 0
};

/* --- Ollama ------------------------------------------------------------------------------ */
/* Ollama's native /api/chat: sampling parameters go in "options". */
static void llmsplit__w_ollama(llmsplit_json_writer *w, const llmsplit_chat_request *req, const llmsplit_json_val *params,
                               const llmsplit__provider *p, llmsplit_error *err) {
    static const char *const opts[] = {"temperature", "top_p", "top_k", "seed", "stop", "frequency_penalty",
                                       "presence_penalty", "num_ctx", "repeat_penalty", "min_p", NULL};
    llmsplit_json_iter it;
    /* the caller's own "options": its members come first in the one "options" written below */
    const llmsplit_json_val *k, *v, *given = llmsplit_json_get(params, "options");
    int i, any_opt = 0, predict = 0;
    (void)p;
    if (llmsplit_json_type_of(given) != LLMSPLIT_JSON_OBJECT) given = NULL;
    it = llmsplit_json_iterate(params);
    while (llmsplit_json_next(&it, &k, &v)) {
        any_opt |= llmsplit__key_is(k, "max_tokens") || llmsplit__key_is(k, "max_completion_tokens");
        for (i = 0; opts[i]; i++) any_opt |= llmsplit__key_is(k, opts[i]);
    }
    llmsplit__w_openai_messages(w, req, 1, err);
    LLMSPLIT_JSON_KEY(w, "stream");
    llmsplit_json_write_bool(w, req->stream); /* Ollama streams unless told not to */
    it = llmsplit_json_iterate(params);
    while (llmsplit_json_next(&it, &k, &v)) {
        size_t n;
        const char *ks = llmsplit_json_str(k, &n);
        int is_opt = llmsplit__key_is(k, "max_tokens") || llmsplit__key_is(k, "max_completion_tokens");
        for (i = 0; opts[i] && !is_opt; i++) is_opt = llmsplit__key_is(k, opts[i]);
        if (is_opt) continue;
        if (llmsplit__control_key(ks, n) || llmsplit__key_is(k, "stream_options")) continue;
        if (llmsplit__key_is(k, "options") && (given || any_opt)) continue; /* merged below */
        if (llmsplit__key_is(k, "response_format")) {
            const char *t = llmsplit_json_str(llmsplit_json_get(v, "type"), NULL);
            if (llmsplit_json_get(params, "format")) continue; /* the caller's own format wins */
            if (t && strcmp(t, "json_object") == 0) llmsplit__w_lit(w, "format", "json");
            else if (llmsplit_json_path(v, "json_schema.schema")) {
                LLMSPLIT_JSON_KEY(w, "format");
                llmsplit_json_write_value(w, llmsplit_json_path(v, "json_schema.schema"));
            }
            continue;
        }
        llmsplit_json_write_key(w, ks, n);
        llmsplit_json_write_value(w, v);
    }
    if (!any_opt && !given) return;
    /* one "options", each name once: the caller's own, then the translated ones it did not set */
    LLMSPLIT_JSON_KEY(w, "options");
    llmsplit_json_write_begin_object(w);
    it = llmsplit_json_iterate(given);
    while (llmsplit_json_next(&it, &k, &v)) {
        size_t n;
        const char *ks = llmsplit_json_str(k, &n);
        llmsplit_json_write_key(w, ks, n);
        llmsplit_json_write_value(w, v);
    }
    it = llmsplit_json_iterate(params);
    while (llmsplit_json_next(&it, &k, &v)) {
        size_t n;
        const char *ks = llmsplit_json_str(k, &n);
        if (llmsplit__key_is(k, "max_tokens") || llmsplit__key_is(k, "max_completion_tokens")) {
            if (predict++ || llmsplit_json_get(given, "num_predict")) continue;
            LLMSPLIT_JSON_KEY(w, "num_predict");
            llmsplit_json_write_value(w, v);
            continue;
        }
        for (i = 0; opts[i]; i++)
            if (llmsplit__key_is(k, opts[i]) && !llmsplit_json_get(given, opts[i])) {
                llmsplit_json_write_key(w, ks, n);
                llmsplit_json_write_value(w, v);
            }
    }
    llmsplit_json_write_end_object(w);
}

/* Ollama says "stop" also when the answer is tool calls; OpenAI's name for that is "tool_calls". */
static void llmsplit__ollama_finish(llmsplit_chat_response *r, int has_calls) {
    if (has_calls && (!r->finish_reason[0] || strcmp(r->finish_reason, "stop") == 0))
        snprintf(r->finish_reason, sizeof r->finish_reason, "tool_calls");
}

static llmsplit_status llmsplit__ollama_answer(llmsplit_chat_response *r, const llmsplit_json_val *root, llmsplit_error *err) {
    const llmsplit_json_val *m = llmsplit_json_get(root, "message"), *c;
    size_t n;
    const char *s;
    if (!m) return llmsplit__no_answer(err, "message");
    if ((s = llmsplit_json_str(llmsplit_json_get(m, "content"), &n)) != NULL) llmsplit_buf_append(&r->text, s, n);
    llmsplit__copy_str(r->role, sizeof r->role, llmsplit_json_get(m, "role"));
    llmsplit__set_finish(r, llmsplit_json_get(root, "done_reason"));
    llmsplit__set_tokens(&r->prompt_tokens, llmsplit_json_get(root, "prompt_eval_count"));
    llmsplit__set_tokens(&r->completion_tokens, llmsplit_json_get(root, "eval_count"));
    if ((c = llmsplit_json_get(m, "tool_calls")) != NULL) llmsplit__set_tool_calls(r, c);
    llmsplit__ollama_finish(r, r->tool_calls.len > 0);
    return LLMSPLIT_OK;
}

static int llmsplit__ollama_event(llmsplit__stream *st, const char *event, const llmsplit_json_val *root) {
    llmsplit_json_iter it = llmsplit_json_iterate(llmsplit_json_path(root, "message.tool_calls"));
    const llmsplit_json_val *tc;
    size_t n;
    const char *s;
    int rc = 0;
    (void)event;
    if ((s = llmsplit_json_str(llmsplit_json_path(root, "message.content"), &n)) != NULL) rc = llmsplit__delta(st, s, n);
    /* each line carries whole calls, never pieces of one: every call is a new one */
    while (llmsplit_json_next(&it, NULL, &tc))
        if (llmsplit_json_type_of(tc) == LLMSPLIT_JSON_OBJECT)
            llmsplit__tool_delta(st, st->num_calls, 1, llmsplit_json_get(tc, "id"), llmsplit_json_path(tc, "function.name"),
                                 llmsplit_json_path(tc, "function.arguments"));
    if (llmsplit_json_is_true(llmsplit_json_get(root, "done"))) {
        st->done = 1;
        llmsplit__set_finish(st->resp, llmsplit_json_get(root, "done_reason"));
        llmsplit__ollama_finish(st->resp, st->num_calls > 0);
        llmsplit__set_tokens(&st->resp->prompt_tokens, llmsplit_json_get(root, "prompt_eval_count"));
        llmsplit__set_tokens(&st->resp->completion_tokens, llmsplit_json_get(root, "eval_count"));
    }
    return rc;
}

/* Ollama answers a stream in JSON lines; "[DONE]" is accepted as its end like OpenAI's. */
static const llmsplit__wire llmsplit__wire_ollama = {
    llmsplit__w_ollama, llmsplit__ollama_answer, llmsplit__ollama_event, "application/x-ndjson", "[DONE]", 1
};

/* --- the provider table -------------------------------------------------------------------- */

#define LLMSPLIT__COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* In llmsplit_provider order. Each row: name, "provider/" prefixes, bare-name prefixes, flags;
   key variables, base variable, default base, version variable, path; dedicated endpoint (model,
   path); key header (name, value prefix); fixed header (name, value); wire format. */
static const llmsplit__provider llmsplit__providers[] = {
    {"openai", {"openai/", NULL}, {"gpt-", "o1", "o3", NULL}, LLMSPLIT__OTHER_BARE_NAMES | LLMSPLIT__STREAM_USAGE,
     {"OPENAI_API_KEY", NULL}, "OPENAI_API_BASE", "https://api.openai.com/v1", NULL, "/chat/completions",
     {NULL, NULL}, {"Authorization", "Bearer "}, {NULL, NULL}, &llmsplit__wire_openai},
    {"azure", {"azure/", NULL}, {NULL}, 0,
     {"AZURE_API_KEY", NULL}, "AZURE_API_BASE", NULL, "AZURE_API_VERSION",
     "/openai/deployments/%s/chat/completions?api-version=%s",
     {NULL, NULL}, {"api-key", ""}, {NULL, NULL}, &llmsplit__wire_openai},
    /* TGI's OpenAI route calls the one model of a dedicated endpoint "tgi" */
    {"huggingface", {"huggingface/", NULL}, {NULL}, 0,
     {"HUGGINGFACE_API_KEY", "HF_TOKEN"}, NULL, "https://router.huggingface.co/v1", NULL, "/chat/completions",
     {"tgi", "/v1/chat/completions"}, {"Authorization", "Bearer "}, {NULL, NULL}, &llmsplit__wire_openai},
    {"ollama", {"ollama/", "ollama_chat/"}, {NULL}, LLMSPLIT__KEY_OPTIONAL,
     {"OLLAMA_API_KEY", NULL}, "OLLAMA_API_BASE", "http://localhost:11434", NULL, "/api/chat",
     {NULL, NULL}, {"Authorization", "Bearer "}, {NULL, NULL}, &llmsplit__wire_ollama},
    {"openrouter", {"openrouter/", NULL}, {NULL}, 0,
     {"OPENROUTER_API_KEY", NULL}, NULL, "https://openrouter.ai/api/v1", NULL, "/chat/completions",
     {NULL, NULL}, {"Authorization", "Bearer "}, {NULL, NULL}, &llmsplit__wire_openai},
    {"together_ai", {"together_ai/", NULL}, {NULL}, 0,
     {"TOGETHER_API_KEY", "TOGETHERAI_API_KEY"}, NULL, "https://api.together.xyz/v1", NULL, "/chat/completions",
     {NULL, NULL}, {"Authorization", "Bearer "}, {NULL, NULL}, &llmsplit__wire_openai},
    {"anthropic", {"anthropic/", NULL}, {"claude-", NULL}, 0,
     {"ANTHROPIC_API_KEY", NULL}, NULL, "https://api.anthropic.com", NULL, "/v1/messages",
     {NULL, NULL}, {"x-api-key", ""}, {"anthropic-version", "2023-06-01"}, &llmsplit__wire_anthropic},
};
typedef char llmsplit__check_providers[(int)LLMSPLIT__COUNT_OF(llmsplit__providers) == LLMSPLIT_PROVIDER__COUNT ? 1 : -1];

LLMSPLIT_API const char *llmsplit_provider_name(llmsplit_provider p) {
    return (int)p >= 0 && p < LLMSPLIT_PROVIDER__COUNT ? llmsplit__providers[p].name : "unknown";
}

/* The row a model string goes to, with *name (optional) the part after its prefix. NULL for a
   "provider/name" whose provider is unknown: more likely a typo than a bare name with a slash.
   *named (optional) is 0 when no prefix or bare-name rule matched and the row only takes bare
   names nobody claims: the config then asks whether the string is a model at all. */
static const llmsplit__provider *llmsplit__model_provider(const char *model, const char **name, int *named) {
    const llmsplit__provider *p, *end = llmsplit__providers + LLMSPLIT_PROVIDER__COUNT, *other = NULL;
    size_t i;
    if (name) *name = model;
    if (named) *named = 1;
    for (p = llmsplit__providers; p < end; p++)
        for (i = 0; i < LLMSPLIT__COUNT_OF(p->prefix) && p->prefix[i]; i++)
            if (llmsplit__starts(model, p->prefix[i])) {
                if (name) *name = model + strlen(p->prefix[i]);
                return p;
            }
    for (p = llmsplit__providers; p < end; p++) {
        if (p->flags & LLMSPLIT__OTHER_BARE_NAMES) other = p;
        for (i = 0; i < LLMSPLIT__COUNT_OF(p->bare) && p->bare[i]; i++)
            if (llmsplit__starts(model, p->bare[i])) return p;
    }
    if (named) *named = 0;
    return strchr(model, '/') ? NULL : other;
}

/* "openai/, azure/, ..." for messages about a model string. */
static void llmsplit__known_prefixes(char *out, size_t cap) {
    size_t o = 0;
    int i;
    out[0] = 0;
    for (i = 0; i < LLMSPLIT_PROVIDER__COUNT && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? ", " : "", llmsplit__providers[i].prefix[0]);
}

/* a and b name the same base URL, trailing slashes aside. */
static int llmsplit__same_base(const char *a, const char *b) {
    size_t n = strlen(a), m = b ? strlen(b) : 0;
    while (n > 0 && a[n - 1] == '/') n--;
    while (m > 0 && b[m - 1] == '/') m--;
    return b && n == m && memcmp(a, b, n) == 0;
}

/* Whether the provider's environment key may go to base. A key in the environment was meant for
   the provider's own host: its default base, the base its own variable names (set on purpose,
   like the key), or one of its Inference Endpoints. A base given with the deployment (a local
   server, a proxy, someone else's endpoint) gets a key only when one is given with it. */
static int llmsplit__env_key_goes_to(const llmsplit__provider *p, const char *base) {
    llmsplit_url u;
    size_t n;
    if ((p->default_base && llmsplit__same_base(base, p->default_base)) ||
        (p->base_env && llmsplit__same_base(base, getenv(p->base_env))))
        return 1;
    if (!p->endpoint[0] || !llmsplit__url_parse(base, &u, NULL) || !u.https) return 0;
    n = strlen(u.host);
    return n > 18 && strcmp(u.host + n - 18, ".huggingface.cloud") == 0;
}

LLMSPLIT_API llmsplit_status llmsplit_route_model(const char *model, const char *api_base, const char *api_version,
                                               llmsplit_route *out, llmsplit_error *err) {
    const char *name, *base = api_base && *api_base ? api_base : NULL, *path, *base_env = NULL;
    const llmsplit__provider *p;
    char formatted[LLMSPLIT_URL_MAX];
    memset(out, 0, sizeof *out);
    if (!model || !*model) {
        llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "empty model string");
        return LLMSPLIT_ERR_CONFIG;
    }
    if ((p = llmsplit__model_provider(model, &name, NULL)) == NULL) {
        char known[160];
        llmsplit__known_prefixes(known, sizeof known);
        llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "unknown provider in model '%.*s' (known: %s)", llmsplit__fit(model, 80),
                            model, known);
        return LLMSPLIT_ERR_CONFIG;
    }
    if (!*name) {
        llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "model '%.*s' has no name after its prefix", llmsplit__fit(model, 80), model);
        return LLMSPLIT_ERR_CONFIG;
    }
    out->provider = (llmsplit_provider)(p - llmsplit__providers);
    out->key_env[0] = p->key_env[0];
    out->key_env[1] = p->key_env[1];
    out->key_required = !(p->flags & LLMSPLIT__KEY_OPTIONAL);
    path = p->path;
    if (p->endpoint[0] && (llmsplit__starts(name, "https://") || llmsplit__starts(name, "http://"))) {
        if (!base) base = name;
        name = p->endpoint[0];
        path = p->endpoint[1];
    } else {
        if (!base && p->base_env) base = getenv(base_env = p->base_env);
        if (!base || !*base) {
            base = p->default_base;
            base_env = NULL;
        }
        if (!base) {
            llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "%s needs an api_base%s%s%s", model,
                                p->base_env ? " (or " : "", p->base_env ? p->base_env : "", p->base_env ? ")" : "");
            return LLMSPLIT_ERR_CONFIG;
        }
        /* a base of one's own instead of the provider's public one is self-hosted and may need
           no key; a dedicated endpoint, or a base that is always given (Azure's), is not */
        if (api_base && *api_base && p->default_base) out->key_required = 0;
    }
    if (!llmsplit__env_key_goes_to(p, base)) out->key_env[0] = out->key_env[1] = NULL;
    if (p->version_env) {
        const char *version = api_version && *api_version ? api_version : getenv(p->version_env);
        if (!version || !*version) {
            llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "%s needs an api_version (or %s)", model, p->version_env);
            return LLMSPLIT_ERR_CONFIG;
        }
        snprintf(formatted, sizeof formatted, path, name, version);
        path = formatted;
    }
    llmsplit__copy(out->model, sizeof out->model, name);
    return llmsplit__join_url(out->url, sizeof out->url, base, base_env, path, err) ? LLMSPLIT_OK : LLMSPLIT_ERR_CONFIG;
}

/* --- calls --------------------------------------------------------------------------------- */

/* Where a call goes, resolved once: the adapter, the upstream model name, the URL's parsed
   destination, where the key may come from, and the deployment's own parameters parsed. A
   client prepares one per deployment when it loads a config (routing reads the environment's
   base and version variables then); llmsplit_chat makes one for its call. */
typedef struct llmsplit__target {
    llmsplit_provider provider;
    const char *model;            /* NULL: no target (it could not be made) */
    const char *key_env[2];
    int key_required;
    llmsplit__dest dest;
    llmsplit_json_doc *params;    /* NULL: none ("{}" or absent) */
    char *strings;                /* model, host, target and pool key */
    /* the list price of the model its provider names in answers (found once, not per call) */
    int price_state;              /* atomic: 0 not yet, 1 being set, 2 set */
    int price_known;
    double price_in, price_out;
    char price_model[64];
} llmsplit__target;

/* Prepares *t for a model string with an optional api_base, api_version and parameters (JSON
   text; NULL or "{}" for none): routing, the URL parsed into its destination and pool key, the
   parameters parsed, the strings in one allocation. On failure t holds nothing to free and
   *err says why (routing's errors; LLMSPLIT_ERR_USAGE for a URL with user information, which is
   never sent; LLMSPLIT_ERR_NOMEM), but for parameters that are not a JSON object
   (LLMSPLIT_ERR_USAGE, *err untouched). */
static llmsplit_status llmsplit__target_prepare(llmsplit__target *t, const llmsplit_allocator *a, const char *model,
                                                const char *api_base, const char *api_version, const char *params,
                                                llmsplit_error *err) {
    llmsplit_route r;
    llmsplit_url u;
    char key[300];
    size_t lens[4], total = 0, i;
    const char *src[4];
    char *p;
    llmsplit_status code;
    memset(t, 0, sizeof *t);
    if ((code = llmsplit_route_model(model, api_base, api_version, &r, err)) != LLMSPLIT_OK) return code;
    if ((code = llmsplit__dest_parse(r.url, &u, &t->dest, key, err)) != LLMSPLIT_OK) return code;
    src[0] = r.model, src[1] = u.host, src[2] = u.target, src[3] = key;
    for (i = 0; i < 4; i++) total += (lens[i] = strlen(src[i]) + 1);
    if (!(t->strings = p = (char *)llmsplit__alloc(a, total))) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory");
        return LLMSPLIT_ERR_NOMEM;
    }
    for (i = 0; i < 4; i++) {
        memcpy(p, src[i], lens[i]);
        src[i] = p;
        p += lens[i];
    }
    t->provider = r.provider;
    t->model = src[0], t->dest.host = src[1], t->dest.target = src[2], t->dest.key = src[3];
    t->key_env[0] = r.key_env[0];
    t->key_env[1] = r.key_env[1];
    t->key_required = r.key_required;
    if (params && strcmp(params, "{}") != 0) {
        t->params = llmsplit__parse(a, params, strlen(params), NULL);
        if (!t->params || llmsplit_json_type_of(llmsplit_json_root(t->params)) != LLMSPLIT_JSON_OBJECT) {
            llmsplit_json_free(t->params); /* (a config's are objects; the call's own reading says why not) */
            llmsplit__free(a, t->strings);
            memset(t, 0, sizeof *t);
            return LLMSPLIT_ERR_USAGE;
        }
    }
    return LLMSPLIT_OK;
}

static void llmsplit__target_free(llmsplit__target *t, const llmsplit_allocator *a) {
    llmsplit_json_free(t->params);
    llmsplit__free(a, t->strings);
}


/* The body a provider gets: the upstream model name, then its wire format's members. params is
   the parameters object when the caller has it parsed already (a deployment's own, prepared
   once), else req->params_json is read. */
static llmsplit_status llmsplit__chat_body(const llmsplit_chat_request *req, llmsplit_provider provider, const char *model,
                                           const llmsplit_json_val *params, llmsplit_buf *out, llmsplit_error *err) {
    const llmsplit__provider *p = &llmsplit__providers[provider];
    llmsplit_json_writer w;
    llmsplit_json_doc *pdoc = NULL;
    llmsplit_status code = LLMSPLIT_OK;
    if (!params && req->params_json && *req->params_json) {
        llmsplit_error je;
        pdoc = llmsplit__parse(&out->allocator, req->params_json, strlen(req->params_json), &je);
        if (!pdoc || llmsplit_json_type_of(llmsplit_json_root(pdoc)) != LLMSPLIT_JSON_OBJECT) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "request: params must be a JSON object%s%s",
                                pdoc ? "" : ": ", pdoc ? "" : je.message);
            llmsplit_json_free(pdoc);
            return LLMSPLIT_ERR_USAGE;
        }
        params = llmsplit_json_root(pdoc);
    }
    llmsplit_json_writer_init(&w, &out->allocator);
    {
        /* room for the usual body at once (the writer would start at 256 bytes and grow) */
        size_t hint = 512;
        int i;
        for (i = 0; i < req->num_messages && hint < 65536; i++) {
            const llmsplit_message *m = &req->messages[i];
            size_t n = m->content ? (m->content_len ? m->content_len : strlen(m->content)) : 0;
            hint += 48 + (n < 65536 ? n + n / 8 : 65536);
        }
        llmsplit_buf_reserve(&w.buf, hint < 65536 ? hint : 65536);
    }
    llmsplit_json_write_begin_object(&w);
    llmsplit__w_lit(&w, "model", model);
    p->wire->write_request(&w, req, params, p, err);
    llmsplit_json_write_end_object(&w);
    llmsplit_json_free(pdoc);
    if (!llmsplit__w_result(&w, NULL)) {
        code = w.err == LLMSPLIT_ERR_NOMEM || w.buf.failed ? LLMSPLIT_ERR_NOMEM : LLMSPLIT_ERR_USAGE;
        if (!err || !err->code)
            llmsplit__set_error(err, code, "request: %s", w.err_message ? w.err_message : "out of memory");
        else
            code = err->code;
        llmsplit_json_writer_free(&w);
        return code;
    }
    llmsplit_buf_free(out);
    *out = w.buf; /* hand the writer's buffer over */
    return LLMSPLIT_OK;
}

/* Fills the answer from a whole (non-streamed) body. */
static llmsplit_status llmsplit__parse_answer(const llmsplit__wire *wire, llmsplit_chat_response *r, const char *body,
                                              size_t len, llmsplit_error *err) {
    llmsplit_error je;
    /* the parsed answer lives until this returns: on the stack when it fits (an answer of up to
       about 1.8 KB; the HTTP exchange's frame, as deep, has returned) */
    uint64_t mem[16384 / 8];
    llmsplit__lender lender;
    llmsplit_allocator a = llmsplit__lending(&lender, (char *)mem, sizeof mem, &r->text.allocator);
    llmsplit_json_doc *doc = llmsplit__parse(&a, body, len, &je);
    llmsplit_status code;
    if (!doc) {
        llmsplit__set_error(err, LLMSPLIT_ERR_RESPONSE, "the answer is not JSON (%d:%d: %s)", je.line, je.col, je.message);
        return LLMSPLIT_ERR_RESPONSE;
    }
    code = wire->read_answer(r, llmsplit_json_root(doc), err);
    llmsplit_json_free(doc);
    if (code == LLMSPLIT_OK && (r->text.failed || r->tool_calls.failed)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory for the answer");
        return LLMSPLIT_ERR_NOMEM;
    }
    return code;
}

static const char *llmsplit__status_words(int s) {
    switch (s) {
    case 400: return "bad request";
    case 401: return "unauthorized (check the API key)";
    case 402: return "payment required";
    case 403: return "forbidden";
    case 404: return "not found (check the model name and api_base)";
    case 408: return "request timeout";
    case 409: return "conflict";
    case 413: return "request too large";
    case 422: return "unprocessable request";
    case 429: return "rate limited";
    case 500: return "server error";
    case 502: return "bad gateway";
    case 503: return "service unavailable";
    case 504: return "gateway timeout";
    case 529: return "overloaded";
    default: return s >= 500 ? "server error" : "error";
    }
}

/* "429 rate limited (retry after 2 s): <message>" (category provider) from an error body of any provider. */
static void llmsplit__provider_error(const llmsplit_allocator *a, llmsplit_error *err, int status, const char *body,
                                     size_t len, double retry_after_s, const char *key) {
    llmsplit_json_doc *doc = llmsplit__parse(a, body ? body : "", body ? len : 0, NULL);
    const llmsplit_json_val *root = llmsplit_json_root(doc), *e = llmsplit_json_get(root, "error");
    const char *msg = NULL;
    size_t n = 0;
    char clean[200], after[48] = "";
    if (llmsplit_json_type_of(e) == LLMSPLIT_JSON_STRING) msg = llmsplit_json_str(e, &n);
    else if (e) msg = llmsplit_json_str(llmsplit_json_get(e, "message"), &n);
    if (!msg) msg = llmsplit_json_str(llmsplit_json_get(root, "message"), &n);
    if (!msg) msg = llmsplit_json_str(llmsplit_json_get(root, "detail"), &n);
    if (!msg && !doc && body) { msg = body; n = len; } /* not JSON: show the start of it */
    llmsplit__clean_message(clean, sizeof clean, msg ? msg : "", msg ? n : 0, key);
    if (retry_after_s > 0) snprintf(after, sizeof after, " (retry after %.0f s)", retry_after_s);
    if (err) {
        err->code = LLMSPLIT_ERR_PROVIDER;
        err->http_status = status;
        llmsplit__utf8_fix_cut(err->message, sizeof err->message,
                               snprintf(err->message, sizeof err->message, "%d %s%s%s%s", status,
                                        llmsplit__status_words(status), after, clean[0] ? ": " : "", clean));
    }
    llmsplit_json_free(doc);
}

/* One stream event's data (SSE), or one JSON line, through the wire format's reader. */
static int llmsplit__stream_json(llmsplit__stream *st, const char *event, const char *data, size_t len) {
    llmsplit_error je;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *root, *v;
    const char *done = st->wire->done_data;
    int rc;
    if (done && len == strlen(done) && memcmp(data, done, len) == 0) {
        st->done = 1;
        return 0;
    }
    {
        llmsplit_json_desc d;
        memset(&d, 0, sizeof d);
        d.allocator = st->resp->text.allocator;
        d.flags = LLMSPLIT_JSON_LONE_SURROGATES; /* pairs split across events are joined in llmsplit__delta */
        doc = llmsplit__json_parse(data, len, &d, &je);
    }
    root = llmsplit_json_root(doc);
    if (!doc) {
        llmsplit__set_error(st->err, LLMSPLIT_ERR_RESPONSE, "a stream event is not JSON (%d:%d: %s)", je.line,
                            je.col, je.message);
        st->failed = 1;
        return -1;
    }
    if ((v = llmsplit_json_get(root, "error")) != NULL || (event && strcmp(event, "error") == 0)) {
        llmsplit__stream_error(st, v ? v : root);
        llmsplit_json_free(doc);
        return -1;
    }
    rc = st->wire->read_event(st, event, root);
    llmsplit_json_free(doc);
    if (rc == 0 && st->req->on_event) {
        /* the event as it came, once it is known to be no error; nothing can be taken back once
           given (no retry, no fallback). A caller that has gone says so from the callback. */
        st->resp->delivered = 1;
        if (st->req->on_event(event, data, len, st->req->user_data) != 0) {
            llmsplit__set_error(st->err, LLMSPLIT_ERR_USAGE, "stopped by the event callback");
            st->failed = 1;
            rc = -1;
        }
    }
    return rc;
}

static int llmsplit__on_sse(const char *event, const char *data, size_t len, void *ud) {
    llmsplit__stream *st = (llmsplit__stream *)ud;
    if (event[0] && strcmp(event, "ping") == 0) return 0;
    return llmsplit__stream_json(st, event, data, len) < 0;
}

/* Stream bytes as they arrive, SSE (mode 1) or JSON lines (mode 2); nonzero stops the stream. */
static int llmsplit__stream_feed(llmsplit__stream *st, const char *data, size_t len) {
    if (st->mode == 2) {
        size_t i = 0;
        while (i < len) {
            const char *nl = (const char *)memchr(data + i, '\n', len - i);
            size_t take = nl ? (size_t)(nl - (data + i)) : len - i;
            llmsplit_buf_append(&st->ndjson, data + i, take);
            i += take;
            if (!nl) break;
            i++;
            if (st->ndjson.len && llmsplit__stream_json(st, NULL, st->ndjson.data, st->ndjson.len) < 0) return 1;
            st->ndjson.len = 0;
        }
        return 0;
    }
    return llmsplit__sse_feed(&st->sse, data, len, st->err) < 0 ? (st->failed = 1) : 0;
}

/* The HTTP body callback: decides from the status and content type how to read the body. */
static int llmsplit__on_stream_body(const char *data, size_t len, void *ud) {
    llmsplit__stream *st = (llmsplit__stream *)ud;
    if (!st->mode) {
        size_t n;
        const char *ct = llmsplit_http_get_header(st->http, "content-type", &n);
        if (st->http->status != 200) st->mode = 4;
        else if (st->wire->ndjson && !(ct && n >= 17 && strncasecmp(ct, "text/event-stream", 17) == 0))
            st->mode = 2;
        else if (ct && n >= 16 && strncasecmp(ct, "application/json", 16) == 0) st->mode = 3;
        else st->mode = 1;
    }
    if (st->mode >= 3) { /* kept whole: an error body, or a server that ignored "stream" */
        llmsplit_buf_append(&st->errbody, data, len);
        return st->errbody.len > 4 * 1024 * 1024;
    }
    return llmsplit__stream_feed(st, data, len);
}

/* Stream events are parsed with lone surrogate halves kept (ED A0..BF xx, see llmsplit__delta),
   so a pair split across two pieces of a call is joined here: a pair becomes its character and
   a half left alone U+FFFD, and the call is written as UTF-8. Never longer than before. */
static void llmsplit__join_halves(llmsplit_buf *b) {
    unsigned char *u = (unsigned char *)b->data;
    size_t i = 0, o = 0;
    while (i < b->len) {
        if (u[i] == 0xed && i + 2 < b->len && (u[i + 1] & 0xe0) == 0xa0) {
            unsigned hi = 0xd000u | ((unsigned)(u[i + 1] & 0x3f) << 6) | (u[i + 2] & 0x3f), cp = 0xfffd;
            size_t used = 3;
            if (hi < 0xdc00 && i + 5 < b->len && u[i + 3] == 0xed && (u[i + 4] & 0xf0) == 0xb0) {
                unsigned lo = 0xd000u | ((unsigned)(u[i + 4] & 0x3f) << 6) | (u[i + 5] & 0x3f);
                cp = 0x10000u + ((hi - 0xd800u) << 10) + (lo - 0xdc00u);
                used = 6;
            }
            o = (size_t)(llmsplit__put_utf8(b->data + o, cp) - b->data);
            i += used;
            continue;
        }
        u[o++] = u[i++];
    }
    b->len = o;
    if (b->data) b->data[o] = 0;
}

/* Streamed tool calls as one JSON array in the response. */
static void llmsplit__stream_tool_calls(llmsplit__stream *st) {
    llmsplit_json_writer w;
    int i;
    if (!st->num_calls) return;
    llmsplit_json_writer_init(&w, &st->resp->tool_calls.allocator);
    llmsplit_json_write_begin_array(&w);
    for (i = 0; i < st->num_calls; i++) {
        llmsplit__join_halves(&st->calls[i].id);
        llmsplit__join_halves(&st->calls[i].name);
        llmsplit__join_halves(&st->calls[i].args);
        llmsplit__w_tool_call(&w, st->calls[i].id.data, st->calls[i].id.len, st->calls[i].name.data, st->calls[i].name.len,
                              st->calls[i].args.data, st->calls[i].args.len);
    }
    llmsplit__take_tool_calls(st->resp, &w, 1);
}

/* Ends a stream after its last byte: the last JSON line without its newline, a stream that
   stopped short, a surrogate half left over, and the tool calls assembled. */
static llmsplit_status llmsplit__stream_end(llmsplit__stream *st) {
    if (st->mode == 2 && st->ndjson.len && llmsplit__stream_json(st, NULL, st->ndjson.data, st->ndjson.len) < 0)
        return st->err && st->err->code ? st->err->code : LLMSPLIT_ERR_RESPONSE;
    st->ndjson.len = 0;
    if (!st->done && !st->resp->finish_reason[0]) {
        llmsplit__set_error(st->err, LLMSPLIT_ERR_RESPONSE, "the stream ended before the answer was complete");
        return LLMSPLIT_ERR_RESPONSE;
    }
    if (st->high_half) { /* a half that never found its pair */
        st->high_half = 0;
        llmsplit__delta(st, "\xef\xbf\xbd", 3);
    }
    llmsplit__stream_tool_calls(st);
    return LLMSPLIT_OK;
}

static void llmsplit__stream_init(llmsplit__stream *st, const llmsplit_chat_request *req, const llmsplit__wire *wire,
                                  llmsplit_chat_response *resp, llmsplit_http_response *http, llmsplit_error *err,
                                  const char *key) {
    memset(st, 0, sizeof *st);
    st->req = req;
    st->wire = wire;
    st->resp = resp;
    st->http = http;
    st->err = err;
    st->key = key;
    st->t0 = llmsplit__now_msf();
    llmsplit_sse_init(&st->sse, &resp->text.allocator);
    st->sse.on_event = llmsplit__on_sse;
    st->sse.user_data = st;
    llmsplit_buf_init(&st->ndjson, &resp->text.allocator);
    llmsplit_buf_init(&st->errbody, &resp->text.allocator);
}

static void llmsplit__stream_free(llmsplit__stream *st) {
    int i;
    llmsplit_sse_free(&st->sse);
    llmsplit_buf_free(&st->ndjson);
    llmsplit_buf_free(&st->errbody);
    for (i = 0; i < st->num_calls; i++) {
        llmsplit_buf_free(&st->calls[i].id);
        llmsplit_buf_free(&st->calls[i].name);
        llmsplit_buf_free(&st->calls[i].args);
    }
}

static double llmsplit__retry_after(const llmsplit_http_response *h) {
    size_t n;
    const char *v = llmsplit_http_get_header(h, "retry-after", &n);
    double s = 0;
    size_t i;
    if (!v || !n) return 0;
    for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) s = s * 10 + (v[i] - '0');
    return i == n ? s : 0; /* an HTTP date is ignored: backoff applies */
}

/* The pause before a retry, cut short by the abort flag: through the caller's wait when there is
   one (-1 when it failed), else in 50 ms sleeps. */
static int llmsplit__sleep_ms(double ms, const llmsplit_chat_request *req) {
    const volatile int *abort_flag = req->abort_flag;
    if (req->wait || req->wait_socket) {
        llmsplit__waiter w;
        w.abort_flag = abort_flag;
        w.wait = req->wait;
        w.wait_socket = req->wait_socket;
        w.user_data = req->user_data;
        w.caller_waits = 1;
        w.failed = 0;
        return llmsplit__wait_fd(-1, 0, 0, llmsplit__now_ms() + (int64_t)ms, &w);
    }
    while (ms > 0 && !llmsplit__flag_set(abort_flag)) {
        struct timespec ts;
        double slice = ms > 50 ? 50 : ms;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)(slice * 1e6);
        nanosleep(&ts, NULL);
        ms -= slice;
    }
    return 0;
}

/* The caller's wait with the caller's user_data, for a stream (whose body callback has the
   stream's). */
static int llmsplit__stream_wait(int fd, int events, int timeout_ms, void *user_data) {
    const llmsplit_chat_request *req = ((llmsplit__stream *)user_data)->req;
    return req->wait(fd, events, timeout_ms, req->user_data);
}
static int llmsplit__stream_wait_socket(int fd, uint64_t id, int events, int timeout_ms, void *user_data) {
    const llmsplit_chat_request *req = ((llmsplit__stream *)user_data)->req;
    return req->wait_socket(fd, id, events, timeout_ms, req->user_data);
}

/* One attempt: the HTTP exchange and the answer. Returns the category; *retryable says whether
   another attempt could help. */
static llmsplit_status llmsplit__chat_once(llmsplit_http *http, const llmsplit_chat_request *req, const llmsplit__target *t,
                                        const char *key, const llmsplit_buf *body, llmsplit_chat_response *resp,
                                        llmsplit_error *err, int *retryable, double *retry_after) {
    const llmsplit__provider *p = &llmsplit__providers[t->provider];
    llmsplit_http_header hd[5];
    llmsplit_http_request hr;
    llmsplit_http_response h;
    llmsplit__stream st;
    const llmsplit_buf *hb = &h.body; /* the answer's body */
    char auth[600];
    int nh = 0;
    llmsplit_status code;
    *retryable = 0;
    *retry_after = 0;
    hd[nh].name = "Content-Type";
    hd[nh++].value = "application/json";
    if (p->header[0]) {
        hd[nh].name = p->header[0];
        hd[nh++].value = p->header[1];
    }
    if (key) {
        if (p->auth[1][0]) { /* "Bearer KEY" (no printf on a request's path) */
            size_t a = strlen(p->auth[1]), k = strlen(key);
            if (a + k >= sizeof auth) k = sizeof auth - 1 - a;
            memcpy(auth, p->auth[1], a);
            memcpy(auth + a, key, k);
            auth[a + k] = 0;
        }
        hd[nh].name = p->auth[0];
        hd[nh++].value = p->auth[1][0] ? auth : key;
    }
    if (req->stream) {
        hd[nh].name = "Accept";
        hd[nh++].value = p->wire->stream_accept;
    }
    memset(&hr, 0, sizeof hr);
    hr.method = "POST";
    hr.url = NULL; /* the destination, t->dest, is parsed already */
    hr.headers = hd;
    hr.num_headers = nh;
    hr.body = body->data;
    hr.body_len = body->len;
    hr.timeout_ms = req->timeout_ms;
    hr.abort_flag = req->abort_flag;
    hr.wait = req->wait;
    hr.wait_socket = req->wait_socket;
    hr.user_data = req->user_data;
    st.deltas = 0; /* all of st that a call without stream reads (the stream's state is large) */
    if (req->stream) {
        llmsplit__stream_init(&st, req, p->wire, resp, &h, err, key);
        hr.on_body = llmsplit__on_stream_body;
        hr.user_data = &st;
        if (req->wait) hr.wait = llmsplit__stream_wait;
        if (req->wait_socket) hr.wait_socket = llmsplit__stream_wait_socket;
    }
    code = llmsplit__http_send_to(http, &hr, &t->dest, &h, err);
    resp->http_status = h.status;
    if (req->keep_raw) {
        llmsplit_buf_free(&resp->raw);
        if (req->stream) {
            llmsplit_buf_init(&resp->raw, &resp->text.allocator);
            llmsplit_buf_append(&resp->raw, st.errbody.data, st.errbody.len);
        } else { /* the body moves over, and is read from there */
            resp->raw = h.body;
            llmsplit_buf_init(&h.body, &resp->text.allocator);
            hb = &resp->raw;
        }
    }
    if (code != LLMSPLIT_OK) {
        /* a stream that fails after text arrived cannot be replayed without duplicating it */
        *retryable = code == LLMSPLIT_ERR_NETWORK && !st.deltas && !resp->delivered;
        goto out;
    }
    if (h.status >= 400 || (h.status != 200 && h.status >= 300)) {
        const llmsplit_buf *eb = req->stream ? &st.errbody : hb;
        resp->retry_after_s = *retry_after = llmsplit__retry_after(&h);
        llmsplit__provider_error(&resp->text.allocator, err, h.status, eb->data, eb->len, *retry_after, key);
        code = LLMSPLIT_ERR_PROVIDER;
        *retryable = h.status == 429 || h.status >= 500;
        goto out;
    }
    if (!req->stream || st.mode == 3) {
        const llmsplit_buf *b = req->stream ? &st.errbody : hb;
        code = llmsplit__parse_answer(p->wire, resp, b->data ? b->data : "", b->len, err);
        if (code == LLMSPLIT_OK && req->stream && resp->text.len) { /* the server ignored "stream": one delta */
            llmsplit_buf whole = resp->text;
            llmsplit_buf_init(&resp->text, &whole.allocator);
            st.deltas = 0;
            llmsplit__delta(&st, whole.data, whole.len);
            llmsplit_buf_free(&whole);
        }
        goto out;
    }
    code = llmsplit__stream_end(&st);
out:
    if (req->stream) llmsplit__stream_free(&st);
    llmsplit_http_response_free(&h);
    return code;
}

/* llmsplit_chat, to a target prepared before (t, with the parameters parsed when params is not
   NULL) or, when t is NULL, to the one req names. */
static llmsplit_status llmsplit__chat_call(llmsplit_http *http, const llmsplit_chat_request *req, const llmsplit__target *t,
                                           const llmsplit_json_val *params, llmsplit_chat_response *resp, llmsplit_error *err) {
    llmsplit__target own;
    llmsplit_buf body;
    const char *key;
    double t0 = llmsplit__now_msf();
    llmsplit_status code;
    llmsplit_error local;
    int attempt;
    uint64_t body_mem[2048 / 8]; /* the usual request body: on the stack */
    llmsplit__lender lender;
    llmsplit_allocator body_alloc;
    if (!err) err = &local;
    llmsplit__clear_error(err);
    if (!resp) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "chat: missing response");
        return err->code;
    }
    memset(resp, 0, sizeof *resp);
    resp->prompt_tokens = resp->completion_tokens = -1;
    resp->ttft_ms = -1;
    if (!http || !req || !req->model || req->num_messages < 0 || (req->num_messages && !req->messages)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "chat: missing client, request, model or messages");
        return err->code;
    }
    llmsplit_buf_init(&resp->text, &http->allocator);
    llmsplit_buf_init(&resp->tool_calls, &http->allocator);
    llmsplit_buf_init(&resp->raw, &http->allocator);
    if (!t) {
        code = llmsplit__target_prepare(&own, &http->allocator, req->model, req->api_base, req->api_version, NULL, err);
        if (code != LLMSPLIT_OK) return code;
        t = &own;
    } else {
        own.params = NULL;
        own.strings = NULL;
    }
    body_alloc = llmsplit__lending(&lender, (char *)body_mem, sizeof body_mem, &http->allocator);
    llmsplit_buf_init(&body, &body_alloc);
    resp->provider = t->provider;
    llmsplit__copy(resp->model, sizeof resp->model, t->model);
    key = llmsplit__resolve_key(req->api_key, t->key_env);
    if (!key && t->key_required && !t->key_env[0]) {
        llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "no API key for %s: its api_base is not the provider's own, "
                            "so no key from the environment goes there; pass api_key", req->model);
        code = err->code;
    } else if (!key && t->key_required) {
        llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "no API key for %s: set %s%s%s or pass one", req->model,
                            t->key_env[0] ? t->key_env[0] : "a key",
                            t->key_env[1] ? " or " : "", t->key_env[1] ? t->key_env[1] : "");
        code = err->code;
    } else {
        code = llmsplit__chat_body(req, t->provider, t->model, params, &body, err);
    }
    for (attempt = 0; code == LLMSPLIT_OK || attempt; attempt++) {
        int retryable;
        double retry_after, delay;
        resp->attempts = attempt + 1;
        llmsplit__clear_error(err);
        code = llmsplit__chat_once(http, req, t, key, &body, resp, err, &retryable, &retry_after);
        if (code == LLMSPLIT_OK || !retryable || attempt >= req->num_retries || llmsplit__flag_set(req->abort_flag)) break;
        /* exponential backoff with jitter (0.5-1x of 500 ms * 2^attempt, at most 8 s), or the
           server's Retry-After when it asks for longer (at most 60 s) */
        delay = 500.0 * (double)(1u << (attempt < 4 ? attempt : 4));
        delay = delay * (0.5 + 0.5 * (double)((llmsplit__now_ms() * 2654435761u + (uint64_t)attempt) % 1000) / 1000.0);
        if (retry_after * 1000 > delay) delay = retry_after * 1000 > 60000 ? 60000 : retry_after * 1000;
        if (llmsplit__sleep_ms(delay, req) < 0) {
            llmsplit__set_error(err, LLMSPLIT_ERR_NETWORK, "the caller's wait failed");
            code = err->code;
            break;
        }
        llmsplit_buf_free(&resp->text);
        llmsplit_buf_free(&resp->tool_calls);
        resp->finish_reason[0] = 0;
        resp->prompt_tokens = resp->completion_tokens = -1;
    }
    if (resp->attempts) resp->latency_ms = llmsplit__now_msf() - t0; /* (it was sent) */
    if (!resp->role[0] && code == LLMSPLIT_OK) snprintf(resp->role, sizeof resp->role, "assistant");
    llmsplit_buf_free(&body);
    llmsplit__target_free(&own, &http->allocator);
    return code;
}

LLMSPLIT_API llmsplit_status llmsplit_chat(llmsplit_http *http, const llmsplit_chat_request *req,
                                        llmsplit_chat_response *resp, llmsplit_error *err) {
    return llmsplit__chat_call(http, req, NULL, NULL, resp, err);
}

LLMSPLIT_API void llmsplit_chat_response_free(llmsplit_chat_response *resp) {
    if (!resp) return;
    llmsplit_buf_free(&resp->text);
    llmsplit_buf_free(&resp->tool_calls);
    llmsplit_buf_free(&resp->raw);
}

/* --- bodies and answers without a connection ------------------------------------------------- */

LLMSPLIT_API llmsplit_status llmsplit_chat_body(const llmsplit_chat_request *req, llmsplit_buf *out, llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    llmsplit_route route;
    llmsplit_status code;
    if (!out) return llmsplit__no_out(e, "chat body");
    if (!req || !req->model || req->num_messages < 0 || (req->num_messages && !req->messages)) {
        llmsplit__set_error(e, LLMSPLIT_ERR_USAGE, "chat body: missing request, model or messages");
        return LLMSPLIT_ERR_USAGE;
    }
    code = llmsplit_route_model(req->model, req->api_base, req->api_version, &route, e);
    return code != LLMSPLIT_OK ? code : llmsplit__chat_body(req, route.provider, route.model, NULL, out, e);
}

LLMSPLIT_API llmsplit_status llmsplit_chat_read_answer(const char *model, int stream, const char *body, size_t len,
                                                       llmsplit_chat_response *resp, llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    const llmsplit__provider *p;
    const char *name;
    llmsplit_status code;
    if (!resp) return llmsplit__no_out(e, "chat answer");
    memset(resp, 0, sizeof *resp);
    resp->prompt_tokens = resp->completion_tokens = -1;
    resp->ttft_ms = -1;
    llmsplit_buf_init(&resp->text, NULL);
    llmsplit_buf_init(&resp->tool_calls, NULL);
    llmsplit_buf_init(&resp->raw, NULL);
    if (!model || !*model || (!body && len)) {
        llmsplit__set_error(e, LLMSPLIT_ERR_USAGE, "chat answer: missing model or body");
        return LLMSPLIT_ERR_USAGE;
    }
    if ((p = llmsplit__model_provider(model, &name, NULL)) == NULL) {
        char known[160];
        llmsplit__known_prefixes(known, sizeof known);
        llmsplit__set_error(e, LLMSPLIT_ERR_CONFIG, "unknown provider in model '%.80s' (known: %s)", model, known);
        return LLMSPLIT_ERR_CONFIG;
    }
    resp->provider = (llmsplit_provider)(p - llmsplit__providers);
    llmsplit__copy(resp->model, sizeof resp->model, name);
    resp->http_status = 200;
    resp->attempts = 1;
    if (!stream) {
        code = llmsplit__parse_answer(p->wire, resp, body ? body : "", len, e);
    } else {
        llmsplit_chat_request rq;
        llmsplit_http_response h;
        llmsplit__stream st;
        memset(&rq, 0, sizeof rq);
        memset(&h, 0, sizeof h);
        h.status = 200;
        llmsplit__stream_init(&st, &rq, p->wire, resp, &h, e, NULL);
        st.mode = p->wire->ndjson ? 2 : 1; /* as the provider's own server sends it */
        if (llmsplit__stream_feed(&st, body ? body : "", len) != 0)
            code = e->code != LLMSPLIT_OK ? e->code : LLMSPLIT_ERR_RESPONSE;
        else
            code = llmsplit__stream_end(&st);
        llmsplit__stream_free(&st);
    }
    if (code == LLMSPLIT_OK && !resp->role[0]) snprintf(resp->role, sizeof resp->role, "assistant");
    return code;
}


/* ==== 5. split ======================================================================= */


#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>
#if !defined(LLMSPLIT_NO_THREADS) && !defined(__GCC_HAVE_SYNC_COMPARE_AND_SWAP_8)
#include <pthread.h>
#endif

/* --- hashing and picking ------------------------------------------------------------------ */

/* Seeds of the hashes that must not correlate with the arm hash (seed 0) or each other: the
   re-pick of a key whose arm is out, mirror sampling, and the sampling of mirrored pairs for the
   judge (so its share of the mirrored pairs is its own rate). Any odd constants do. */
#define LLMSPLIT__PICK_SEED_REPICK 0x9e3779b9u
#define LLMSPLIT__PICK_SEED_SAMPLE 0x85ebca6bu
#define LLMSPLIT__PICK_SEED_JUDGE 0xc2b2ae35u

static uint32_t llmsplit__pick_murmur2(const unsigned char *p, size_t len, uint32_t seed) {
    const uint32_t m = 0x5bd1e995u;
    uint32_t h = seed ^ (uint32_t)len;
    while (len >= 4) {
        /* Little-endian words whatever the host, and shifts on unsigned values (nginx shifts a
           promoted int, which is undefined for bytes >= 0x80 but does the same in practice). */
        uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        k *= m;
        k ^= k >> 24;
        k *= m;
        h *= m;
        h ^= k;
        p += 4;
        len -= 4;
    }
    if (len >= 3) h ^= (uint32_t)p[2] << 16;
    if (len >= 2) h ^= (uint32_t)p[1] << 8;
    if (len >= 1) {
        h ^= (uint32_t)p[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return h;
}

LLMSPLIT_API uint32_t llmsplit_murmur2(const void *key, size_t len) {
    if (!key) len = 0;
    return llmsplit__pick_murmur2((const unsigned char *)key, len, 0);
}

/* Weight i as the picker sees it: 0 when the arm is not available. */
static double llmsplit__pick_weight(const double *w, const unsigned char *avail, int i) {
    return avail && !avail[i] ? 0.0 : w[i];
}

/* Sum of the effective weights, or -1 when a weight is invalid or all are 0. */
static double llmsplit__pick_sum(const double *w, const unsigned char *avail, int n) {
    double sum = 0.0;
    int i;
    if (!w || n < 1) return -1.0;
    for (i = 0; i < n; i++) {
        if (!(w[i] >= 0.0) || w[i] > DBL_MAX) return -1.0; /* negative, NaN or infinite */
        sum += llmsplit__pick_weight(w, avail, i);
    }
    return sum > 0.0 && sum <= DBL_MAX ? sum : -1.0;
}

static int llmsplit__pick_hash_avail(const double *w, const unsigned char *avail, int n, uint32_t hash) {
    double sum = llmsplit__pick_sum(w, avail, n);
    uint64_t bound = 0;
    int i, last = -1;
    if (sum < 0.0) return -1;
    for (i = n - 1; i >= 0 && last < 0; i--)
        if (llmsplit__pick_weight(w, avail, i) > 0.0) last = i;
    for (i = 0; i < last; i++) {
        double x = llmsplit__pick_weight(w, avail, i) / sum * 10000.0;
        uint64_t units = (uint64_t)(x + 0.5); /* 0.01% units; x is in [0, 10000] */
        if (units == 0) continue;             /* nginx has no 0% line: such an arm never wins */
        bound += units * 0xFFFFFFFFu / 10000u;
        if ((uint64_t)hash < bound) return i;
    }
    return last;
}

static int llmsplit__pick_random_avail(const double *w, const unsigned char *avail, int n, double u) {
    double sum = llmsplit__pick_sum(w, avail, n), target, acc = 0.0;
    int i, last = -1;
    if (sum < 0.0) return -1;
    if (!(u > 0.0)) u = 0.0;
    if (u > 1.0) u = 1.0;
    target = u * sum;
    for (i = 0; i < n; i++) {
        double wi = llmsplit__pick_weight(w, avail, i);
        if (!(wi > 0.0)) continue;
        acc += wi;
        last = i;
        if (target < acc) return i;
    }
    return last; /* rounding put the target at the very end: the last arm with a weight */
}

static int llmsplit__pick_hash(const double *weights, int n, uint32_t hash) {
    return llmsplit__pick_hash_avail(weights, NULL, n, hash);
}

static int llmsplit__pick_sticky(const double *weights, int n, const char *key, size_t key_len) {
    if (!key || key_len == 0) return -1;
    return llmsplit__pick_hash_avail(weights, NULL, n, llmsplit_murmur2(key, key_len));
}

static int llmsplit__pick_random(const double *weights, int n, double u) {
    return llmsplit__pick_random_avail(weights, NULL, n, u);
}

/* SplitMix64 (Steele, Lea, Flood 2014): the state moves by a constant, so advancing it is one
   atomic add and the output function needs no lock. */
#define LLMSPLIT__RNG_GAMMA 0x9e3779b97f4a7c15ull

static uint64_t llmsplit__rng_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t llmsplit__rng_advance(uint64_t *state) { return llmsplit__add_u64(state, LLMSPLIT__RNG_GAMMA); }

static uint64_t llmsplit__rng_entropy(void) {
    static uint64_t counter;
    uint64_t x = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &x, sizeof x) != (ssize_t)sizeof x) x = 0;
        close(fd);
    }
    if (x == 0) {
        /* No /dev/urandom (chroot, early boot): the clock, the pid, a stack address and a
           counter, mixed, differ between processes and between calls. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        x ^= (uint64_t)getpid() << 32;
        x ^= (uint64_t)(uintptr_t)&x;
        x = llmsplit__rng_mix(x + llmsplit__rng_advance(&counter));
    }
    return x ? x : LLMSPLIT__RNG_GAMMA;
}

LLMSPLIT_API void llmsplit_rng_seed(llmsplit_rng *r, uint64_t seed) {
    if (!r) return;
    r->state = seed ? seed : llmsplit__rng_entropy();
}

/* The generator's next 64 bits. */
static uint64_t llmsplit__rng_u64(llmsplit_rng *r) { return llmsplit__rng_mix(llmsplit__rng_advance(&r->state)); }

LLMSPLIT_API double llmsplit_rng_next(llmsplit_rng *r) {
    return (double)(llmsplit__rng_u64(r) >> 11) * (1.0 / 9007199254740992.0); /* 53 bits / 2^53 */
}

static int llmsplit__pick(const double *weights, const unsigned char *available, int n,
                               const char *key, size_t key_len, llmsplit_rng *rng) {
    int arm;
    if (key && key_len > 0) {
        const unsigned char *k = (const unsigned char *)key;
        arm = llmsplit__pick_hash_avail(weights, NULL, n, llmsplit__pick_murmur2(k, key_len, 0));
        if (arm < 0 || !available || available[arm]) return arm;
        /* The key's arm is out. Placing the key again with the same hash over the reduced
           weights would shift every bound and move users between healthy arms; an independent
           hash moves only this arm's users, in proportion to the others. */
        {
            int again = llmsplit__pick_hash_avail(weights, available, n,
                                                  llmsplit__pick_murmur2(k, key_len, LLMSPLIT__PICK_SEED_REPICK));
            return again >= 0 ? again : arm;
        }
    }
    if (!rng) return -1;
    {
        double u = llmsplit_rng_next(rng);
        arm = llmsplit__pick_random_avail(weights, available, n, u);
        return arm >= 0 ? arm : llmsplit__pick_random_avail(weights, NULL, n, u);
    }
}

/* The public pickers: the arm in *arm, and a status saying why there is none. */
static llmsplit_status llmsplit__pick_result(int got, int *arm, llmsplit_error *err, const char *why) {
    if (arm) *arm = got;
    if (got >= 0) return LLMSPLIT_OK;
    llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "pick: %s", why);
    return LLMSPLIT_ERR_USAGE;
}

#define LLMSPLIT__BAD_WEIGHTS "weights must be finite numbers >= 0, at least one above 0"

LLMSPLIT_API llmsplit_status llmsplit_pick_hash(const double *weights, int n, uint32_t hash, int *arm,
                                                llmsplit_error *err) {
    return llmsplit__pick_result(llmsplit__pick_hash(weights, n, hash), arm, err, LLMSPLIT__BAD_WEIGHTS);
}

LLMSPLIT_API llmsplit_status llmsplit_pick_sticky(const double *weights, int n, const char *key, size_t key_len,
                                                  int *arm, llmsplit_error *err) {
    return llmsplit__pick_result(llmsplit__pick_sticky(weights, n, key, key_len), arm, err,
                                 key_len == 0 ? "an empty key is not a key (draw at random instead)"
                                              : LLMSPLIT__BAD_WEIGHTS);
}

LLMSPLIT_API llmsplit_status llmsplit_pick_random(const double *weights, int n, double u, int *arm,
                                                  llmsplit_error *err) {
    return llmsplit__pick_result(llmsplit__pick_random(weights, n, u), arm, err, LLMSPLIT__BAD_WEIGHTS);
}

LLMSPLIT_API llmsplit_status llmsplit_pick(const double *weights, const unsigned char *available, int n,
                                           const char *key, size_t key_len, llmsplit_rng *rng, int *arm,
                                           llmsplit_error *err) {
    int got = llmsplit__pick(weights, available, n, key, key_len, rng);
    return llmsplit__pick_result(got, arm, err,
                                 got < 0 && key_len == 0 && !rng && llmsplit__pick_random(weights, n, 0.0) >= 0
                                     ? "a random pick needs an rng"
                                     : LLMSPLIT__BAD_WEIGHTS);
}

static int llmsplit__sample(double rate, const char *key, size_t key_len, llmsplit_rng *rng, uint32_t seed) {
    if (rate >= 1.0) return 1;
    if (!(rate > 0.0)) return 0;
    if (key && key_len > 0) {
        uint32_t h = llmsplit__pick_murmur2((const unsigned char *)key, key_len, seed);
        return (double)h < rate * 4294967296.0;
    }
    return rng ? llmsplit_rng_next(rng) < rate : 0;
}

LLMSPLIT_API int llmsplit_pick_sample(double rate, const char *key, size_t key_len, llmsplit_rng *rng) {
    return llmsplit__sample(rate, key, key_len, rng, LLMSPLIT__PICK_SEED_SAMPLE);
}

/* --- config: memory ------------------------------------------------------------------------ */

/* Everything a config holds lives in a chain of blocks freed together: no per-string frees, no
   partial states to unwind on an error. */
typedef struct llmsplit__cfg_block {
    struct llmsplit__cfg_block *next;
    size_t used, cap;
} llmsplit__cfg_block;

#define LLMSPLIT__CFG_ALIGN 16u
#define LLMSPLIT__CFG_BLOCK_HEAD ((sizeof(llmsplit__cfg_block) + LLMSPLIT__CFG_ALIGN - 1) & ~(size_t)(LLMSPLIT__CFG_ALIGN - 1))
#define LLMSPLIT__CFG_BLOCK_SIZE 8192u

/* n zeroed bytes, aligned for any field of the config structs; NULL when out of memory. */
static void *llmsplit__cfg_alloc(llmsplit_config *cfg, size_t n) {
    llmsplit__cfg_block *b = (llmsplit__cfg_block *)cfg->llmsplit__blocks;
    char *p;
    if (n > SIZE_MAX / 4) return NULL;
    n = (n + LLMSPLIT__CFG_ALIGN - 1) & ~(size_t)(LLMSPLIT__CFG_ALIGN - 1);
    if (n == 0) n = LLMSPLIT__CFG_ALIGN;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > LLMSPLIT__CFG_BLOCK_SIZE - LLMSPLIT__CFG_BLOCK_HEAD ? n : LLMSPLIT__CFG_BLOCK_SIZE - LLMSPLIT__CFG_BLOCK_HEAD;
        llmsplit__cfg_block *nb = (llmsplit__cfg_block *)llmsplit__alloc(&cfg->llmsplit__allocator, LLMSPLIT__CFG_BLOCK_HEAD + cap);
        if (!nb) return NULL;
        nb->next = b;
        nb->used = 0;
        nb->cap = cap;
        cfg->llmsplit__blocks = nb;
        b = nb;
    }
    p = (char *)b + LLMSPLIT__CFG_BLOCK_HEAD + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

static char *llmsplit__cfg_strdup(llmsplit_config *cfg, const char *s, size_t n) {
    char *d = (char *)llmsplit__cfg_alloc(cfg, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

LLMSPLIT_API void llmsplit_config_free(llmsplit_config *cfg) {
    llmsplit__cfg_block *b;
    llmsplit_allocator a;
    if (!cfg) return;
    a = cfg->llmsplit__allocator;
    b = (llmsplit__cfg_block *)cfg->llmsplit__blocks;
    while (b) {
        llmsplit__cfg_block *next = b->next;
        llmsplit__free(&a, b);
        b = next;
    }
    llmsplit__free(&a, cfg);
}

/* --- config: reading values ------------------------------------------------------------------- */

/* The parse in progress: the config being built and where errors go. path holds the key path of
   the object being read ("model_list[1].litellm_params"). */
typedef struct llmsplit__cfgp {
    llmsplit_config *cfg;
    llmsplit_error *err;
    int nomem;
    const volatile int *abort_flag; /* set: give up (a client being destroyed does not wait) */
} llmsplit__cfgp;

/* Always returns 0, so callers write `return llmsplit__cfg_fail(...)`. */
static int llmsplit__cfg_fail(llmsplit__cfgp *p, const char *path, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    llmsplit__utf8_fix_cut(msg, sizeof msg, vsnprintf(msg, sizeof msg, fmt, ap));
    va_end(ap);
    if (path && *path) llmsplit__set_error(p->err, LLMSPLIT_ERR_CONFIG, "%.*s: %s", llmsplit__fit(path, 110), path, msg);
    else llmsplit__set_error(p->err, LLMSPLIT_ERR_CONFIG, "%s", msg);
    return 0;
}

static int llmsplit__cfg_nomem(llmsplit__cfgp *p) {
    p->nomem = 1;
    llmsplit__set_error(p->err, LLMSPLIT_ERR_NOMEM, "config: out of memory");
    return 0;
}

/* base + "." + key (or key alone at the top). Keys are cut at 60 bytes: a path is for a
   person to find the place, and messages have a fixed size. */
static void llmsplit__cfg_path(char *out, size_t cap, const char *base, const char *key, size_t key_len) {
    int kl = key_len > 60 ? 60 : (int)key_len, n;
    if (base && *base) n = snprintf(out, cap, "%s.%.*s", base, kl, key);
    else n = snprintf(out, cap, "%.*s", kl, key);
    if (n < 0 || (size_t)n >= cap) out[cap - 1] = 0; /* cut: still NUL-terminated */
}

static int llmsplit__cfg_key_is(const llmsplit_json_val *k, const char *name) {
    size_t n;
    const char *s = llmsplit_json_str(k, &n);
    return s && n == strlen(name) && memcmp(s, name, n) == 0;
}

/* A key of an object being checked for repeats, with its place in the object. */
typedef struct llmsplit__cfg_key {
    const char *s;
    size_t n, at;
} llmsplit__cfg_key;

static int llmsplit__cfg_key_cmp(const void *a, const void *b) {
    const llmsplit__cfg_key *x = (const llmsplit__cfg_key *)a, *y = (const llmsplit__cfg_key *)b;
    int c;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    if ((c = memcmp(x->s, y->s, x->n)) != 0) return c;
    return (x->at > y->at) - (x->at < y->at);
}

/* Fails when an interpreted object has more keys than it may (max) or repeats a key: the first
   copy would win silently, which hides a mistake (and JSON does not say which copy counts). The
   keys are sorted, so a hostile object costs n log n, not n squared; the key reported is the
   first one in the text that comes again, as a reader scanning from the top would find it. */
static int llmsplit__cfg_keys(llmsplit__cfgp *p, const llmsplit_json_val *obj, const char *path, size_t max) {
    int brackets = strcmp(path, "split") == 0; /* its keys are model strings: split["a/b.c"] */
    llmsplit_json_iter it = llmsplit_json_iterate(obj);
    const llmsplit_json_val *k;
    llmsplit__cfg_key local[16], *keys = local; /* most objects have a few keys: no allocation */
    size_t n = llmsplit_json_len(obj), i = 0, dup = (size_t)-1, first = (size_t)-1;
    if (n > max)
        return llmsplit__cfg_fail(p, *path ? path : NULL, "%smore than %d keys", *path ? "" : "the top level has ", (int)max);
    if (n < 2) return 1;
    if (n > sizeof local / sizeof local[0] &&
        !(keys = (llmsplit__cfg_key *)llmsplit__alloc(&p->cfg->llmsplit__allocator, n * sizeof *keys)))
        return llmsplit__cfg_nomem(p);
    while (i < n && llmsplit_json_next(&it, &k, NULL)) {
        keys[i].s = llmsplit_json_str(k, &keys[i].n);
        keys[i].at = i;
        i++;
    }
    qsort(keys, i, sizeof *keys, llmsplit__cfg_key_cmp);
    for (n = i, i = 1; i < n; i++)
        if (keys[i].n == keys[i - 1].n && memcmp(keys[i].s, keys[i - 1].s, keys[i].n) == 0 && keys[i - 1].at < first) {
            first = keys[i - 1].at; /* equal keys are sorted by place: the smallest is a group's first */
            dup = i - 1;
        }
    if (dup != (size_t)-1) {
        char kp[192];
        if (brackets) snprintf(kp, sizeof kp, "split[\"%.*s\"]", llmsplit__fit(keys[dup].s, 60), keys[dup].s);
        else llmsplit__cfg_path(kp, sizeof kp, path, keys[dup].s, keys[dup].n);
        if (keys != local) llmsplit__free(&p->cfg->llmsplit__allocator, keys);
        return llmsplit__cfg_fail(p, kp, "given twice");
    }
    if (keys != local) llmsplit__free(&p->cfg->llmsplit__allocator, keys);
    return 1;
}

static int llmsplit__cfg_no_dups(llmsplit__cfgp *p, const llmsplit_json_val *obj, const char *path) {
    return llmsplit__cfg_keys(p, obj, path, LLMSPLIT_CONFIG_MAX_KEYS);
}

/* An optional member: NULL when absent or null (YAML's empty value becomes null). */
static const llmsplit_json_val *llmsplit__cfg_get(const llmsplit_json_val *obj, const char *key) {
    const llmsplit_json_val *v = llmsplit_json_get(obj, key);
    return llmsplit_json_type_of(v) == LLMSPLIT_JSON_NULL ? NULL : v;
}

/* Reads an optional number member into *out. min_excl: the minimum itself is refused.
   Returns 1 (also when absent: *present says which), 0 on error. */
static int llmsplit__cfg_number(llmsplit__cfgp *p, const llmsplit_json_val *obj, const char *base,
                                const char *key, double min, int min_excl, double max, double *out,
                                int *present) {
    const llmsplit_json_val *v = llmsplit__cfg_get(obj, key);
    char path[192];
    double d;
    if (present) *present = 0;
    if (!v) return 1;
    llmsplit__cfg_path(path, sizeof path, base, key, strlen(key));
    if (llmsplit_json_type_of(v) != LLMSPLIT_JSON_NUMBER) return llmsplit__cfg_fail(p, path, "must be a number");
    d = llmsplit_json_double(v);
    if (min_excl ? !(d > min) : !(d >= min))
        return llmsplit__cfg_fail(p, path, "must be %s %g", min_excl ? ">" : ">=", min);
    if (d > max) return llmsplit__cfg_fail(p, path, "must be <= %g", max);
    *out = d;
    if (present) *present = 1;
    return 1;
}

/* An optional integer member (a number with an integral value, so 50.0 and 5e1 count). */
static int llmsplit__cfg_int(llmsplit__cfgp *p, const llmsplit_json_val *obj, const char *base,
                             const char *key, int min, int max, int *out) {
    const llmsplit_json_val *v = llmsplit__cfg_get(obj, key);
    char path[192];
    double d;
    if (!v) return 1;
    llmsplit__cfg_path(path, sizeof path, base, key, strlen(key));
    if (llmsplit_json_type_of(v) != LLMSPLIT_JSON_NUMBER) return llmsplit__cfg_fail(p, path, "must be an integer");
    d = llmsplit_json_double(v);
    if (d < (double)min) return llmsplit__cfg_fail(p, path, "must be >= %d", min);
    if (d > (double)max) return llmsplit__cfg_fail(p, path, "must be <= %d", max);
    if (d != (double)(int)d) return llmsplit__cfg_fail(p, path, "must be an integer"); /* in range: the cast is defined */
    *out = (int)d;
    return 1;
}

static int llmsplit__cfg_bool(llmsplit__cfgp *p, const llmsplit_json_val *obj, const char *base,
                              const char *key, int *out) {
    const llmsplit_json_val *v = llmsplit__cfg_get(obj, key);
    char path[192];
    if (!v) return 1;
    if (llmsplit_json_type_of(v) != LLMSPLIT_JSON_BOOL) {
        llmsplit__cfg_path(path, sizeof path, base, key, strlen(key));
        return llmsplit__cfg_fail(p, path, "must be true or false");
    }
    *out = llmsplit_json_is_true(v);
    return 1;
}

/* A string value: checked and copied. Empty strings are refused when nonempty is set, and
   strings with a NUL byte always (they would be cut short as C strings). */
static int llmsplit__cfg_strval(llmsplit__cfgp *p, const llmsplit_json_val *v, const char *path,
                                int nonempty, const char **out) {
    size_t n;
    const char *s = llmsplit_json_str(v, &n);
    char *d;
    if (!s) return llmsplit__cfg_fail(p, path, "must be a string");
    if (nonempty && n == 0) return llmsplit__cfg_fail(p, path, "must not be empty");
    if (memchr(s, 0, n)) return llmsplit__cfg_fail(p, path, "must not contain a NUL character");
    if (!(d = llmsplit__cfg_strdup(p->cfg, s, n))) return llmsplit__cfg_nomem(p);
    *out = d;
    return 1;
}

static int llmsplit__cfg_string(llmsplit__cfgp *p, const llmsplit_json_val *obj, const char *base,
                                const char *key, int nonempty, const char **out) {
    const llmsplit_json_val *v = llmsplit__cfg_get(obj, key);
    char path[192];
    if (!v) return 1;
    llmsplit__cfg_path(path, sizeof path, base, key, strlen(key));
    return llmsplit__cfg_strval(p, v, path, nonempty, out);
}

/* A string that may be LiteLLM's "os.environ/NAME": the variable's value is read now. Empty
   values and unset variables leave *out NULL (the provider's default then applies). The value is
   never put in a message: it may be a key. */
static int llmsplit__cfg_env_string(llmsplit__cfgp *p, const llmsplit_json_val *obj, const char *base,
                                    const char *key, const char **out) {
    static const char prefix[] = "os.environ/";
    const llmsplit_json_val *v = llmsplit__cfg_get(obj, key);
    const char *s = NULL;
    char path[192];
    if (!v) return 1;
    llmsplit__cfg_path(path, sizeof path, base, key, strlen(key));
    if (!llmsplit__cfg_strval(p, v, path, 0, &s)) return 0;
    if (strncmp(s, prefix, sizeof prefix - 1) == 0) {
        const char *name = s + sizeof prefix - 1, *val;
        if (!*name) return llmsplit__cfg_fail(p, path, "os.environ/ needs a variable name");
        val = getenv(name);
        s = NULL;
        if (val && *val && !(s = llmsplit__cfg_strdup(p->cfg, val, strlen(val)))) return llmsplit__cfg_nomem(p);
    }
    *out = s && *s ? s : NULL;
    return 1;
}

/* --- config: deployments -------------------------------------------------------------------- */

/* The longest duration a config may ask for: a day. A longer timeout, drain or cooldown is a
   typo (milliseconds written as seconds) more often than a wish, and no call should block that
   long; the bound also keeps every conversion to milliseconds inside an int. */
#define LLMSPLIT__CFG_MAX_SECONDS 86400

/* litellm_params keys that steer llmsplit or LiteLLM itself and are never sent upstream.
   Credentials of providers llmsplit does not speak are here too, so they cannot leak into a
   request body. */
static const char *const llmsplit__cfg_control_keys[] = {
    "model", "weight", "silent_model", "api_key", "api_base", "api_version", "rpm", "tpm",
    "timeout", "stream_timeout", "max_retries", "input_cost_per_token", "output_cost_per_token",
    "input_cost_per_second", "output_cost_per_second", "organization", "custom_llm_provider",
    "region_name", "aws_access_key_id", "aws_secret_access_key", "aws_session_token",
    "aws_region_name", "aws_profile_name", "aws_role_name", "aws_session_name", "vertex_project",
    "vertex_location", "vertex_credentials", "tenant_id", "client_id", "client_secret",
    "azure_ad_token", "azure_ad_token_provider", "azure_username", "azure_password", "api_type",
    "use_in_pass_through", "use_litellm_proxy", "merge_reasoning_content_in_choices", "model_info",
    "mock_response", "tags", "litellm_credential_name", "max_budget", "budget_duration",
    "drop_params", "additional_drop_params", "configurable_clientside_auth_params", "base_model",
    "litellm_trace_id", "deployment_id", "model_name", "stream", "cache_control_injection_points",
};

static int llmsplit__cfg_ends_with(const char *s, size_t n, const char *suffix) {
    size_t m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

static int llmsplit__cfg_is_control(const llmsplit_json_val *k) {
    size_t i, n;
    const char *s = llmsplit_json_str(k, &n);
    for (i = 0; i < sizeof llmsplit__cfg_control_keys / sizeof llmsplit__cfg_control_keys[0]; i++)
        if (llmsplit__cfg_key_is(k, llmsplit__cfg_control_keys[i])) return 1;
    /* Whatever LiteLLM adds later, a secret-looking key stays home. */
    return llmsplit__cfg_ends_with(s, n, "_key") || llmsplit__cfg_ends_with(s, n, "_secret") ||
           llmsplit__cfg_ends_with(s, n, "_token") || llmsplit__cfg_ends_with(s, n, "_password") ||
           llmsplit__cfg_ends_with(s, n, "_credentials");
}

/* The request parameters of one litellm_params object, as a JSON object text. */
static int llmsplit__cfg_extra(llmsplit__cfgp *p, const llmsplit_json_val *params, const char **out) {
    llmsplit_json_writer w;
    llmsplit_json_iter it = llmsplit_json_iterate(params);
    const llmsplit_json_val *k, *v;
    const char *text;
    size_t n;
    llmsplit_json_writer_init(&w, &p->cfg->llmsplit__allocator);
    llmsplit_json_write_begin_object(&w);
    while (llmsplit_json_next(&it, &k, &v)) {
        const char *ks = llmsplit_json_str(k, &n);
        if (llmsplit__cfg_is_control(k)) continue;
        llmsplit_json_write_key(&w, ks, n);
        llmsplit_json_write_value(&w, v);
    }
    llmsplit_json_write_end_object(&w);
    /* The writer only fails for lack of memory here: keys and values come from a parsed, hence
       valid, document. */
    text = llmsplit__w_result(&w, &n);
    *out = text ? llmsplit__cfg_strdup(p->cfg, text, n) : NULL;
    llmsplit_json_writer_free(&w);
    return *out ? 1 : llmsplit__cfg_nomem(p);
}

/* Reads model_list[i]'s litellm_params into d. path is "model_list[i].litellm_params". */
static int llmsplit__cfg_deployment(llmsplit__cfgp *p, const llmsplit_json_val *params, const char *path,
                                    llmsplit_deployment *d) {
    const char *base = NULL;
    int has_in = 0, has_out = 0;
    if (!llmsplit__cfg_no_dups(p, params, path)) return 0;
    if (!llmsplit__cfg_get(params, "model")) {
        char mp[192];
        llmsplit__cfg_path(mp, sizeof mp, path, "model", 5);
        return llmsplit__cfg_fail(p, mp, "missing");
    }
    d->weight = 1.0;
    if (!llmsplit__cfg_string(p, params, path, "model", 1, &d->model) ||
        !llmsplit__cfg_number(p, params, path, "weight", 0.0, 0, DBL_MAX, &d->weight, &d->has_weight) ||
        !llmsplit__cfg_string(p, params, path, "silent_model", 1, &d->silent_model) ||
        !llmsplit__cfg_env_string(p, params, path, "api_key", &d->api_key) ||
        !llmsplit__cfg_env_string(p, params, path, "api_base", &base) ||
        !llmsplit__cfg_env_string(p, params, path, "api_version", &d->api_version) ||
        !llmsplit__cfg_number(p, params, path, "timeout", 0.0, 1, LLMSPLIT__CFG_MAX_SECONDS, &d->timeout_s, NULL) ||
        !llmsplit__cfg_number(p, params, path, "input_cost_per_token", 0.0, 0, 1.0, &d->input_cost_per_token, &has_in) ||
        !llmsplit__cfg_number(p, params, path, "output_cost_per_token", 0.0, 0, 1.0, &d->output_cost_per_token, &has_out) ||
        !llmsplit__cfg_int(p, params, path, "rpm", 0, INT_MAX, &d->rpm) ||
        !llmsplit__cfg_int(p, params, path, "tpm", 0, INT_MAX, &d->tpm))
        return 0;
    if (!d->has_weight) d->weight = 1.0;
    d->has_costs = has_in || has_out;
    if (base) {
        /* A bad URL fails here, at load, rather than on the first request to this arm. */
        llmsplit_url u;
        llmsplit_error uerr;
        char bp[192];
        if (!llmsplit__url_parse(base, &u, &uerr)) {
            /* a value read from the environment is never quoted: it may be a key put in the wrong variable */
            const char *raw = llmsplit_json_str(llmsplit__cfg_get(params, "api_base"), NULL);
            if (raw && strncmp(raw, "os.environ/", 11) == 0)
                return llmsplit__cfg_fail(p, path, "api_base (from %.*s) is not an http(s) URL", llmsplit__fit(raw, 100), raw);
            llmsplit__cfg_path(bp, sizeof bp, path, "api_base", 8);
            return llmsplit__cfg_fail(p, bp, "%s", uerr.message);
        }
        d->api_base = base;
    }
    return llmsplit__cfg_extra(p, params, &d->extra_params);
}

/* --- config: the whole ------------------------------------------------------------------------ */

/* Index of the group with this name, or -1. Linear: configs have a handful of groups. */
static int llmsplit__cfg_find_group(const llmsplit_config *cfg, const char *name, size_t n) {
    int g;
    for (g = 0; g < cfg->num_groups; g++)
        if (strlen(cfg->groups[g].name) == n && memcmp(cfg->groups[g].name, name, n) == 0) return g;
    return -1;
}

LLMSPLIT_API const llmsplit_group *llmsplit_config_group(const llmsplit_config *cfg, const char *name) {
    int g;
    if (!cfg || !name) return NULL;
    g = llmsplit__cfg_find_group(cfg, name, strlen(name));
    return g >= 0 ? &cfg->groups[g] : NULL;
}

/* Adds deployment d to its group (made on first sight); group_of[d] records which. */
static int llmsplit__cfg_assign(llmsplit__cfgp *p, int d, const char *name, size_t n, int *group_of) {
    llmsplit_config *cfg = p->cfg;
    int g = llmsplit__cfg_find_group(cfg, name, n);
    if (g < 0) {
        g = cfg->num_groups++;
        if (!(cfg->groups[g].name = llmsplit__cfg_strdup(cfg, name, n))) return llmsplit__cfg_nomem(p);
    }
    cfg->deployments[d].group = cfg->groups[g].name;
    cfg->groups[g].count++;
    group_of[d] = g;
    return 1;
}

static int llmsplit__cfg_model_list(llmsplit__cfgp *p, const llmsplit_json_val *list, int *group_of,
                                    const char **params_key) {
    llmsplit_json_iter it = llmsplit_json_iterate(list);
    const llmsplit_json_val *e;
    int i = 0;
    while (llmsplit_json_next(&it, NULL, &e)) {
        llmsplit_deployment *d = &p->cfg->deployments[i];
        const llmsplit_json_val *name = llmsplit__cfg_get(e, "model_name");
        const llmsplit_json_val *lp = llmsplit__cfg_get(e, "litellm_params");
        const llmsplit_json_val *pp = llmsplit__cfg_get(e, "params");
        const char *gname = NULL;
        char ep[64], path[192];
        if (llmsplit__flag_set(p->abort_flag)) return llmsplit__cfg_fail(p, NULL, "abandoned");
        snprintf(ep, sizeof ep, "model_list[%d]", i);
        if (llmsplit_json_type_of(e) != LLMSPLIT_JSON_OBJECT) return llmsplit__cfg_fail(p, ep, "must be an object");
        if (!llmsplit__cfg_no_dups(p, e, ep)) return 0;
        llmsplit__cfg_path(path, sizeof path, ep, "model_name", 10);
        if (!name) return llmsplit__cfg_fail(p, path, "missing");
        if (!llmsplit__cfg_strval(p, name, path, 1, &gname)) return 0;
        if (lp && pp) return llmsplit__cfg_fail(p, ep, "has both litellm_params and params");
        if (!lp && !pp) {
            llmsplit__cfg_path(path, sizeof path, ep, "litellm_params", 14);
            return llmsplit__cfg_fail(p, path, "missing");
        }
        params_key[i] = lp ? "litellm_params" : "params";
        llmsplit__cfg_path(path, sizeof path, ep, params_key[i], strlen(params_key[i]));
        if (llmsplit_json_type_of(lp ? lp : pp) != LLMSPLIT_JSON_OBJECT) return llmsplit__cfg_fail(p, path, "must be an object");
        if (!llmsplit__cfg_deployment(p, lp ? lp : pp, path, d)) return 0;
        d->index = i;
        if (!llmsplit__cfg_assign(p, i, gname, strlen(gname), group_of)) return 0;
        i++;
    }
    return 1;
}

static int llmsplit__cfg_split(llmsplit__cfgp *p, const llmsplit_json_val *split, int first, int *group_of) {
    llmsplit_json_iter it = llmsplit_json_iterate(split);
    const llmsplit_json_val *k, *v;
    int i = first;
    if (llmsplit__cfg_find_group(p->cfg, "default", 7) >= 0)
        return llmsplit__cfg_fail(p, "split", "group 'default' is also defined in model_list");
    if (!llmsplit__cfg_keys(p, split, "split", LLMSPLIT_CONFIG_MAX_DEPLOYMENTS)) return 0;
    while (llmsplit_json_next(&it, &k, &v)) {
        llmsplit_deployment *d = &p->cfg->deployments[i];
        size_t n;
        const char *model = llmsplit_json_str(k, &n);
        char path[192];
        if (llmsplit__flag_set(p->abort_flag)) return llmsplit__cfg_fail(p, NULL, "abandoned");
        if (!model || n == 0) return llmsplit__cfg_fail(p, "split", "a model string is empty");
        snprintf(path, sizeof path, "split[\"%.*s\"]", llmsplit__fit(model, 60), model);
        if (memchr(model, 0, n)) return llmsplit__cfg_fail(p, path, "model string contains a NUL character");
        if (llmsplit_json_type_of(v) != LLMSPLIT_JSON_NUMBER) return llmsplit__cfg_fail(p, path, "must be a number");
        d->weight = llmsplit_json_double(v);
        if (!(d->weight >= 0.0)) return llmsplit__cfg_fail(p, path, "must be >= 0");
        d->has_weight = 1;
        d->extra_params = "{}";
        d->index = i;
        if (!(d->model = llmsplit__cfg_strdup(p->cfg, model, n))) return llmsplit__cfg_nomem(p);
        if (!llmsplit__cfg_assign(p, i, "default", 7, group_of)) return 0;
        i++;
    }
    return 1;
}

/* The path of deployment d's litellm_params (or of its split entry) followed by key. */
static void llmsplit__cfg_dpath(char *out, size_t cap, const llmsplit_config *cfg, int d, int n_list,
                                const char *const *params_key, const char *key) {
    if (d < n_list) snprintf(out, cap, "model_list[%d].%s.%s", d, params_key[d], key);
    else snprintf(out, cap, "split[\"%.*s\"]", llmsplit__fit(cfg->deployments[d].model, 60), cfg->deployments[d].model);
}

/* Weights: all or none per group, not all 0, a finite sum; then the normalised shares. */
static int llmsplit__cfg_weights(llmsplit__cfgp *p, int n_list, const char *const *params_key) {
    llmsplit_config *cfg = p->cfg;
    int g, j;
    for (g = 0; g < cfg->num_groups; g++) {
        llmsplit_group *grp = &cfg->groups[g];
        int with = 0, first_without = -1;
        double sum = 0.0;
        char path[192];
        for (j = 0; j < grp->count; j++) {
            const llmsplit_deployment *d = &cfg->deployments[grp->deployments[j]];
            if (d->has_weight) with++;
            else if (first_without < 0) first_without = grp->deployments[j];
            sum += d->weight;
        }
        if (with && first_without >= 0) {
            llmsplit__cfg_dpath(path, sizeof path, cfg, first_without, n_list, params_key, "weight");
            return llmsplit__cfg_fail(p, path, "missing (other deployments of group '%.*s' have a weight)",
                                      llmsplit__fit(grp->name, 60), grp->name);
        }
        llmsplit__cfg_dpath(path, sizeof path, cfg, grp->deployments[0], n_list, params_key, "weight");
        if (!(sum > 0.0))
            return llmsplit__cfg_fail(p, path, "every weight of group '%.*s' is 0", llmsplit__fit(grp->name, 60), grp->name);
        if (sum > DBL_MAX)
            return llmsplit__cfg_fail(p, path, "the weights of group '%.*s' add up to infinity", llmsplit__fit(grp->name, 60),
                                      grp->name);
        for (j = 0; j < grp->count; j++) {
            llmsplit_deployment *d = &cfg->deployments[grp->deployments[j]];
            d->share = d->weight / sum;
        }
    }
    return 1;
}

/* Routing decides what names a model: a provider prefix or one of a provider's bare-name rules.
   A bare name that only falls to the default provider is more likely a misspelt group, unless a
   deployment of this config uses it as its model. */
static int llmsplit__cfg_is_model_string(const llmsplit_config *cfg, const char *s) {
    int i, named;
    if (llmsplit__model_provider(s, NULL, &named) && named) return 1;
    for (i = 0; i < cfg->num_deployments; i++)
        if (strcmp(cfg->deployments[i].model, s) == 0) return 1;
    return 0;
}

static int llmsplit__cfg_silent(llmsplit__cfgp *p, int n_list, const char *const *params_key) {
    llmsplit_config *cfg = p->cfg;
    int i;
    for (i = 0; i < n_list; i++) {
        const char *s = cfg->deployments[i].silent_model;
        char path[192];
        if (!s || llmsplit_config_group(cfg, s) || llmsplit__cfg_is_model_string(cfg, s)) continue;
        llmsplit__cfg_dpath(path, sizeof path, cfg, i, n_list, params_key, "silent_model");
        if (!llmsplit__model_provider(s, NULL, NULL)) { /* every silent call would fail to route */
            char known[160];
            llmsplit__known_prefixes(known, sizeof known);
            return llmsplit__cfg_fail(p, path, "'%.*s' names an unknown provider (known: %s)", llmsplit__fit(s, 60), s, known);
        }
        return llmsplit__cfg_fail(p, path, "'%.*s' is neither a model group of this config nor a model string (provider/name)",
                                  llmsplit__fit(s, 60), s);
    }
    return 1;
}

static int llmsplit__cfg_fallbacks(llmsplit__cfgp *p, const llmsplit_json_val *fb) {
    llmsplit_config *cfg = p->cfg;
    llmsplit_json_iter it = llmsplit_json_iterate(fb);
    const llmsplit_json_val *e;
    int i = 0;
    if (llmsplit_json_type_of(fb) != LLMSPLIT_JSON_ARRAY)
        return llmsplit__cfg_fail(p, "router_settings.fallbacks", "must be an array of {\"group\": [\"group\", ...]} objects");
    while (llmsplit_json_next(&it, NULL, &e)) {
        llmsplit_json_iter mt = llmsplit_json_iterate(e);
        const llmsplit_json_val *k, *list;
        char ep[64];
        snprintf(ep, sizeof ep, "router_settings.fallbacks[%d]", i);
        if (llmsplit_json_type_of(e) != LLMSPLIT_JSON_OBJECT)
            return llmsplit__cfg_fail(p, ep, "must be an object {\"group\": [\"group\", ...]}");
        if (!llmsplit__cfg_no_dups(p, e, ep)) return 0;
        while (llmsplit_json_next(&mt, &k, &list)) {
            size_t n;
            const char *name = llmsplit_json_str(k, &n);
            llmsplit_json_iter lt = llmsplit_json_iterate(list);
            const llmsplit_json_val *item;
            llmsplit_group *grp;
            char kp[192];
            int g = llmsplit__cfg_find_group(cfg, name, n), j = 0;
            llmsplit__cfg_path(kp, sizeof kp, ep, name, n);
            if (g < 0) return llmsplit__cfg_fail(p, ep, "'%.*s' is not a model group", llmsplit__fit(name, 60), name);
            grp = &cfg->groups[g];
            if (grp->fallbacks) return llmsplit__cfg_fail(p, kp, "fallbacks for this group are given twice");
            if (llmsplit_json_type_of(list) != LLMSPLIT_JSON_ARRAY) return llmsplit__cfg_fail(p, kp, "must be an array of group names");
            grp->fallbacks = (const char **)llmsplit__cfg_alloc(cfg, (llmsplit_json_len(list) + 1) * sizeof(char *));
            if (!grp->fallbacks) return llmsplit__cfg_nomem(p);
            while (llmsplit_json_next(&lt, NULL, &item)) {
                size_t m;
                const char *to = llmsplit_json_str(item, &m);
                char ip[224];
                int tg;
                snprintf(ip, sizeof ip, "%s[%d]", kp, j);
                if (!to) return llmsplit__cfg_fail(p, ip, "must be a string (a model group)");
                tg = llmsplit__cfg_find_group(cfg, to, m);
                if (tg < 0) return llmsplit__cfg_fail(p, ip, "'%.*s' is not a model group", llmsplit__fit(to, 60), to);
                if (tg == g) return llmsplit__cfg_fail(p, ip, "a group cannot fall back to itself");
                grp->fallbacks[j++] = cfg->groups[tg].name;
            }
            grp->num_fallbacks = j;
        }
        i++;
    }
    return 1;
}

/* One of our own objects (rollback, its feedback, the judge): an object without repeated keys
   and with only the keys listed (NULL-terminated). An unknown key here is a typo, not one of
   LiteLLM's. */
static int llmsplit__cfg_own(llmsplit__cfgp *p, const llmsplit_json_val *obj, const char *base,
                             const char *const *keys) {
    llmsplit_json_iter it = llmsplit_json_iterate(obj);
    const llmsplit_json_val *k;
    if (llmsplit_json_type_of(obj) != LLMSPLIT_JSON_OBJECT) return llmsplit__cfg_fail(p, base, "must be an object");
    if (!llmsplit__cfg_no_dups(p, obj, base)) return 0;
    while (llmsplit_json_next(&it, &k, NULL)) {
        char kp[192], expected[160];
        size_t i, n, at = 0;
        const char *ks = llmsplit_json_str(k, &n);
        int known = 0;
        for (i = 0; keys[i]; i++) known |= llmsplit__cfg_key_is(k, keys[i]);
        if (known) continue;
        for (i = 0; keys[i]; i++)
            at += (size_t)snprintf(expected + at, sizeof expected - at, "%s%s", i ? ", " : "", keys[i]);
        llmsplit__cfg_path(kp, sizeof kp, base, ks, n);
        return llmsplit__cfg_fail(p, kp, "unknown key (expected %s)", expected);
    }
    return 1;
}

/* router_settings.rollback.feedback: {"metric": NAME, "min_mean": X, "min_count": N}, all three. */
static int llmsplit__cfg_rollback_feedback(llmsplit__cfgp *p, const llmsplit_json_val *fb) {
    static const char *const keys[] = {"metric", "min_mean", "min_count", NULL};
    static const char base[] = "router_settings.rollback.feedback";
    llmsplit_rollback_settings *s = &p->cfg->rollback;
    const llmsplit_json_val *m;
    const char *ms;
    size_t n;
    int present = 0;
    if (!llmsplit__cfg_own(p, fb, base, keys)) return 0;
    if (!(m = llmsplit__cfg_get(fb, "metric"))) return llmsplit__cfg_fail(p, base, "needs a metric");
    ms = llmsplit_json_str(m, &n);
    if (!ms || n == 0 || n > 64 || memchr(ms, 0, n))
        return llmsplit__cfg_fail(p, "router_settings.rollback.feedback.metric", "must be a name of 1..64 characters A-Z a-z 0-9 _ . -");
    memcpy(s->feedback_metric, ms, n);
    s->feedback_metric[n] = 0;
    if (!llmsplit__metric_ok(s->feedback_metric))
        return llmsplit__cfg_fail(p, "router_settings.rollback.feedback.metric", "must be a name of 1..64 characters A-Z a-z 0-9 _ . -");
    if (!llmsplit__cfg_number(p, fb, base, "min_mean", -DBL_MAX, 0, DBL_MAX, &s->feedback_min_mean, &present)) return 0;
    if (!present) return llmsplit__cfg_fail(p, base, "needs min_mean");
    if (!llmsplit__cfg_get(fb, "min_count")) return llmsplit__cfg_fail(p, base, "needs min_count");
    return llmsplit__cfg_int(p, fb, base, "min_count", 1, LLMSPLIT_ROLLBACK_MAX_WINDOW, &s->feedback_min_count);
}

static int llmsplit__cfg_rollback(llmsplit__cfgp *p, const llmsplit_json_val *rb) {
    static const char *const keys[] = {"window", "max_error_rate", "max_p95_ms", "cooldown_s", "feedback", "min_score", NULL};
    static const char base[] = "router_settings.rollback";
    llmsplit_rollback_settings *s = &p->cfg->rollback;
    const llmsplit_json_val *k;
    if (!llmsplit__cfg_own(p, rb, base, keys)) return 0;
    if (!llmsplit__cfg_int(p, rb, base, "window", 0, LLMSPLIT_ROLLBACK_MAX_WINDOW, &s->window) ||
        !llmsplit__cfg_number(p, rb, base, "max_error_rate", 0.0, 0, 1.0, &s->max_error_rate, NULL) ||
        !llmsplit__cfg_number(p, rb, base, "max_p95_ms", 0.0, 0, LLMSPLIT__CFG_MAX_SECONDS * 1000.0, &s->max_p95_ms, NULL) ||
        !llmsplit__cfg_number(p, rb, base, "cooldown_s", 0.0, 1, LLMSPLIT__CFG_MAX_SECONDS, &s->cooldown_s, NULL) ||
        !llmsplit__cfg_number(p, rb, base, "min_score", 0.0, 0, 10.0, &s->min_score, NULL))
        return 0;
    if ((k = llmsplit__cfg_get(rb, "feedback")) && !llmsplit__cfg_rollback_feedback(p, k)) return 0;
    if (s->window > 0 && s->max_error_rate == 0.0 && s->max_p95_ms == 0.0 && s->min_score == 0.0)
        return llmsplit__cfg_fail(p, base, "a window needs a limit: max_error_rate, max_p95_ms or min_score");
    if (s->window == 0 && (s->max_error_rate > 0.0 || s->max_p95_ms > 0.0 || s->min_score > 0.0))
        return llmsplit__cfg_fail(p, "router_settings.rollback.window", "must be >= 1 when a limit is set");
    return 1;
}

/* router_settings.judge: {"model": M, "pairs": 0..1, "arms": 0..1, "criteria": TEXT, "timeout": S}. */
static int llmsplit__cfg_judge(llmsplit__cfgp *p, const llmsplit_json_val *j) {
    static const char *const keys[] = {"model", "pairs", "arms", "criteria", "timeout", NULL};
    static const char base[] = "router_settings.judge";
    llmsplit_judge_settings *s = &p->cfg->judge;
    const char *m = NULL;
    if (!llmsplit__cfg_own(p, j, base, keys)) return 0;
    if (!llmsplit__cfg_get(j, "model")) return llmsplit__cfg_fail(p, base, "needs a model (a group of this config or a model string)");
    if (!llmsplit__cfg_string(p, j, base, "model", 1, &m) ||
        !llmsplit__cfg_number(p, j, base, "pairs", 0.0, 0, 1.0, &s->pairs, NULL) ||
        !llmsplit__cfg_number(p, j, base, "arms", 0.0, 0, 1.0, &s->arms, NULL) ||
        !llmsplit__cfg_string(p, j, base, "criteria", 1, &s->criteria) ||
        !llmsplit__cfg_number(p, j, base, "timeout", 0.0, 1, LLMSPLIT__CFG_MAX_SECONDS, &s->timeout_s, NULL))
        return 0;
    if (strlen(s->criteria) > 1000) return llmsplit__cfg_fail(p, "router_settings.judge.criteria", "must be at most 1000 bytes");
    if (!llmsplit_config_group(p->cfg, m) && !llmsplit__cfg_is_model_string(p->cfg, m))
        return llmsplit__cfg_fail(p, "router_settings.judge.model", "'%.*s' is neither a model group of this config nor a model string (provider/name)",
                                  llmsplit__fit(m, 60), m);
    s->model = m;
    return 1;
}

/* general_settings: only master_key is read (LiteLLM's many other settings are its own). */
static int llmsplit__cfg_general(llmsplit__cfgp *p, const llmsplit_json_val *gs) {
    static const char base[] = "general_settings";
    if (llmsplit_json_type_of(gs) != LLMSPLIT_JSON_OBJECT) return llmsplit__cfg_fail(p, base, "must be an object");
    if (!llmsplit__cfg_no_dups(p, gs, base)) return 0;
    return llmsplit__cfg_env_string(p, gs, base, "master_key", &p->cfg->master_key);
}

static int llmsplit__cfg_router(llmsplit__cfgp *p, const llmsplit_json_val *rs) {
    llmsplit_config *cfg = p->cfg;
    static const char base[] = "router_settings";
    const llmsplit_json_val *v;
    if (llmsplit_json_type_of(rs) != LLMSPLIT_JSON_OBJECT) return llmsplit__cfg_fail(p, base, "must be an object");
    if (!llmsplit__cfg_no_dups(p, rs, base)) return 0;
    if (!llmsplit__cfg_bool(p, rs, base, "sticky", &cfg->sticky) ||
        !llmsplit__cfg_number(p, rs, base, "mirror_sample_rate", 0.0, 0, 1.0, &cfg->mirror_sample_rate, NULL) ||
        !llmsplit__cfg_int(p, rs, base, "mirror_threads", 1, 256, &cfg->mirror_threads) ||
        !llmsplit__cfg_int(p, rs, base, "mirror_queue", 1, 1000000, &cfg->mirror_queue) ||
        !llmsplit__cfg_int(p, rs, base, "num_retries", 0, 100, &cfg->num_retries) ||
        !llmsplit__cfg_number(p, rs, base, "timeout", 0.0, 1, LLMSPLIT__CFG_MAX_SECONDS, &cfg->timeout_s, NULL) ||
        !llmsplit__cfg_int(p, rs, base, "drain_ms", 0, LLMSPLIT__CFG_MAX_SECONDS * 1000, &cfg->drain_ms))
        return 0;
    if ((v = llmsplit__cfg_get(rs, "fallbacks")) && !llmsplit__cfg_fallbacks(p, v)) return 0;
    if ((v = llmsplit__cfg_get(rs, "rollback")) && !llmsplit__cfg_rollback(p, v)) return 0;
    if ((v = llmsplit__cfg_get(rs, "judge")) && !llmsplit__cfg_judge(p, v)) return 0;
    if (cfg->rollback.min_score > 0.0 && !(cfg->judge.model && cfg->judge.arms > 0.0))
        return llmsplit__cfg_fail(p, "router_settings.rollback.min_score", "needs a judge that scores arms (router_settings.judge with arms > 0)");
    return 1;
}

/* Builds the config from a parsed document; p->cfg is allocated and zeroed. */
static int llmsplit__cfg_build(llmsplit__cfgp *p, const llmsplit_json_val *root) {
    llmsplit_config *cfg = p->cfg;
    const llmsplit_json_val *list, *split, *rs, *gs;
    size_t n_list = 0, n_split = 0, total;
    int *group_of = NULL, *fill, g, i;
    const char **params_key = NULL;

    if (llmsplit_json_type_of(root) != LLMSPLIT_JSON_OBJECT)
        return llmsplit__cfg_fail(p, NULL, "the top level must be an object (KEY: VALUE lines in YAML)");
    if (!llmsplit__cfg_no_dups(p, root, "")) return 0;
    list = llmsplit__cfg_get(root, "model_list");
    split = llmsplit__cfg_get(root, "split");
    rs = llmsplit__cfg_get(root, "router_settings");
    if (list && llmsplit_json_type_of(list) != LLMSPLIT_JSON_ARRAY) return llmsplit__cfg_fail(p, "model_list", "must be an array");
    if (split && llmsplit_json_type_of(split) != LLMSPLIT_JSON_OBJECT)
        return llmsplit__cfg_fail(p, "split", "must be an object {\"model\": weight, ...}");
    n_list = llmsplit_json_len(list);
    n_split = llmsplit_json_len(split);
    total = n_list + n_split;
    if (total == 0) {
        if (list) return llmsplit__cfg_fail(p, "model_list", "is empty");
        if (split) return llmsplit__cfg_fail(p, "split", "is empty");
        return llmsplit__cfg_fail(p, NULL, "no model_list or split: nothing to route");
    }
    if (total > LLMSPLIT_CONFIG_MAX_DEPLOYMENTS)
        return llmsplit__cfg_fail(p, list ? "model_list" : "split", "more than %d deployments", LLMSPLIT_CONFIG_MAX_DEPLOYMENTS);

    cfg->deployments = (llmsplit_deployment *)llmsplit__cfg_alloc(cfg, total * sizeof *cfg->deployments);
    cfg->groups = (llmsplit_group *)llmsplit__cfg_alloc(cfg, total * sizeof *cfg->groups);
    group_of = (int *)llmsplit__cfg_alloc(cfg, total * sizeof(int));
    params_key = (const char **)llmsplit__cfg_alloc(cfg, total * sizeof(char *));
    if (!cfg->deployments || !cfg->groups || !group_of || !params_key) return llmsplit__cfg_nomem(p);
    cfg->num_deployments = (int)total;

    if (list && !llmsplit__cfg_model_list(p, list, group_of, params_key)) return 0;
    if (split && !llmsplit__cfg_split(p, split, (int)n_list, group_of)) return 0;

    /* Each group's deployment list, in model_list order. */
    fill = (int *)llmsplit__cfg_alloc(cfg, (size_t)cfg->num_groups * sizeof(int));
    if (!fill) return llmsplit__cfg_nomem(p);
    for (g = 0; g < cfg->num_groups; g++) {
        cfg->groups[g].deployments = (int *)llmsplit__cfg_alloc(cfg, (size_t)cfg->groups[g].count * sizeof(int));
        if (!cfg->groups[g].deployments) return llmsplit__cfg_nomem(p);
    }
    for (i = 0; i < cfg->num_deployments; i++) cfg->groups[group_of[i]].deployments[fill[group_of[i]]++] = i;

    if (!llmsplit__cfg_weights(p, (int)n_list, params_key)) return 0;
    if (!llmsplit__cfg_silent(p, (int)n_list, params_key)) return 0;
    if (rs && !llmsplit__cfg_router(p, rs)) return 0;
    if ((gs = llmsplit__cfg_get(root, "general_settings")) != NULL && !llmsplit__cfg_general(p, gs)) return 0;
    return 1;
}

/* name: the file the text came from, for messages (NULL: a text); yaml: how a text that is not
   JSON is read (NULL: it is JSON too). */
static llmsplit_config *llmsplit__config_parse_named(const char *json, size_t len, const char *name, llmsplit__yaml_fn yaml_fn,
                                                    const llmsplit_allocator *allocator,
                                                    const volatile int *abort_flag, llmsplit_error *err) {
    llmsplit__cfgp p;
    llmsplit_json_desc desc;
    llmsplit_error jerr;
    llmsplit_json_doc *doc;
    llmsplit_config *cfg;
    llmsplit_allocator a = llmsplit__allocator_or_default(allocator);
    int ok, yaml = 0;
    size_t i;

    if (err) {
        err->code = LLMSPLIT_OK;
        err->http_status = 0;
        err->message[0] = 0;
    }
    if (!json) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "config: no text");
        return NULL;
    }
    memset(&desc, 0, sizeof desc);
    desc.allocator = a;
    for (i = 0; i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\r' || json[i] == '\n'); i++) {}
    yaml = yaml_fn && (i == len || json[i] != '{');  /* JSON configs are objects: anything else is YAML */
    doc = yaml ? yaml_fn(json, len, &desc, &jerr) : llmsplit__json_parse(json, len, &desc, &jerr);
    if (!doc) {
        if (jerr.code == LLMSPLIT_ERR_JSON || jerr.code == LLMSPLIT_ERR_CONFIG) {
            llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, name ? "%.*s:%d:%d: %s" : "%.*s: %d:%d: %s", name ? llmsplit__fit(name, 200) : 4,
                                name ? name : yaml ? "yaml" : "json", jerr.line, jerr.col, jerr.message);
            if (err) { err->line = jerr.line; err->col = jerr.col; err->offset = jerr.offset; }
        } else {
            llmsplit__set_error(err, jerr.code, "config: %s", jerr.message);
        }
        return NULL;
    }
    cfg = (llmsplit_config *)llmsplit__alloc(&a, sizeof *cfg);
    if (!cfg) {
        llmsplit_json_free(doc);
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "config: out of memory");
        return NULL;
    }
    memset(cfg, 0, sizeof *cfg);
    cfg->llmsplit__allocator = a;
    cfg->sticky = 1;
    cfg->mirror_sample_rate = 1.0;
    cfg->mirror_threads = 2;
    cfg->mirror_queue = 64;
    cfg->num_retries = 0;
    cfg->timeout_s = 600.0;
    cfg->drain_ms = 10000;
    cfg->rollback.cooldown_s = 60.0;
    cfg->judge.pairs = 1.0;
    cfg->judge.arms = 0.1;
    cfg->judge.criteria = "correct, helpful and concise";

    p.cfg = cfg;
    p.err = err;
    p.nomem = 0;
    p.abort_flag = abort_flag;
    ok = llmsplit__cfg_build(&p, llmsplit_json_root(doc));
    llmsplit_json_free(doc);
    if (!ok) {
        llmsplit_config_free(cfg);
        return NULL;
    }
    return cfg;
}

LLMSPLIT_API llmsplit_status llmsplit_config_parse(const char *json, size_t len, const llmsplit_allocator *allocator,
                                                   llmsplit_config **out, llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    if (!out) return llmsplit__no_out(err, "config");
    *out = llmsplit__config_parse_named(json, len, NULL, LLMSPLIT__YAML, allocator, NULL, e);
    return llmsplit__made(*out, e);
}

/* The text of a config file (*len bytes, allocated through a: the caller frees it), or NULL with
   err filled. */
static char *llmsplit__config_read(const char *path, const llmsplit_allocator *a, size_t *len, llmsplit_error *err) {
    FILE *f;
    char *text;
    size_t n = 0, cap = 65536;
    int too_big = 0, rerr = 0;

    if (!path) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "config: no path");
        return NULL;
    }
    if (!(f = fopen(path, "rb"))) {
        llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "cannot read %.*s: %s", llmsplit__fit(path, 200), path, strerror(errno));
        return NULL;
    }
    text = (char *)llmsplit__alloc(a, cap);
    while (text) {
        size_t got;
        if (n == cap) {
            char *bigger;
            if (cap >= LLMSPLIT_CONFIG_MAX_BYTES + (size_t)1) { too_big = 1; break; }
            bigger = (char *)llmsplit__alloc(a, cap * 2);
            if (bigger) memcpy(bigger, text, n);
            llmsplit__free(a, text);
            text = bigger;
            cap *= 2;
            if (!text) break;
        }
        got = fread(text + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            rerr = ferror(f);
            break;
        }
    }
    fclose(f);
    if (!text) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "config: out of memory reading %.*s", llmsplit__fit(path, 200), path);
        return NULL;
    }
    if (too_big || n > LLMSPLIT_CONFIG_MAX_BYTES || rerr) {
        if (rerr) llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "cannot read %.*s: read error", llmsplit__fit(path, 200), path);
        else llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "%.*s: larger than %u bytes", llmsplit__fit(path, 200), path,
                                 (unsigned)LLMSPLIT_CONFIG_MAX_BYTES);
        llmsplit__free(a, text);
        return NULL;
    }
    *len = n;
    return text;
}

static llmsplit_config *llmsplit__config_load(const char *path, const llmsplit_allocator *allocator,
                                                   llmsplit_error *err) {
    llmsplit_allocator a = llmsplit__allocator_or_default(allocator);
    llmsplit_config *cfg;
    size_t n;
    char *text = llmsplit__config_read(path, &a, &n, err);
    if (!text) return NULL;
    cfg = llmsplit__config_parse_named(text, n, path, LLMSPLIT__YAML, allocator, NULL, err);
    llmsplit__free(&a, text);
    return cfg;
}

LLMSPLIT_API llmsplit_status llmsplit_config_load(const char *path, const llmsplit_allocator *allocator,
                                                  llmsplit_config **out, llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    if (!out) return llmsplit__no_out(err, "config");
    *out = llmsplit__config_load(path, allocator, e);
    return llmsplit__made(*out, e);
}

/* --- health window --------------------------------------------------------------------------- */

static int llmsplit__health_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int llmsplit__health_init(llmsplit_health *h, const llmsplit_rollback_settings *s,
                                      const llmsplit_allocator *a) {
    size_t w;
    char *block;
    if (!h) return 0;
    memset(h, 0, sizeof *h);
    h->allocator = llmsplit__allocator_or_default(a);
    if (!s || s->window < 0 || s->window > LLMSPLIT_ROLLBACK_MAX_WINDOW || !(s->max_error_rate >= 0.0) ||
        !(s->max_p95_ms >= 0.0) || !(s->cooldown_s >= 0.0) || s->feedback_min_count < 0 ||
        s->feedback_min_count > LLMSPLIT_ROLLBACK_MAX_WINDOW || !llmsplit__finite(s->feedback_min_mean) ||
        !(s->min_score >= 0.0) || !llmsplit__finite(s->min_score))
        return 0;
    h->settings = *s;
    h->settings.feedback_metric[sizeof h->settings.feedback_metric - 1] = 0;
    if (s->feedback_min_count > 0 &&
        !(h->feedback = (double *)llmsplit__alloc(&h->allocator, sizeof(double) * (size_t)s->feedback_min_count)))
        return 0;
    if (s->window == 0) return 1;
    w = (size_t)s->window;
    /* One block: two arrays of doubles (three with scores), then the flags. */
    block = (char *)llmsplit__alloc(&h->allocator, w * ((s->min_score > 0.0 ? 3 : 2) * sizeof(double) + 1));
    if (!block) return 0;
    h->latency_ms = (double *)(void *)block;
    h->scratch = h->latency_ms + w;
    h->failed = (unsigned char *)(h->scratch + w);
    if (s->min_score > 0.0) {
        h->scores = h->scratch + w;
        h->failed = (unsigned char *)(h->scores + w);
    }
    memset(h->failed, 0, w);
    return 1;
}

LLMSPLIT_API llmsplit_status llmsplit_health_init(llmsplit_health *h, const llmsplit_rollback_settings *s,
                                                  const llmsplit_allocator *a, llmsplit_error *err) {
    if (llmsplit__health_init(h, s, a)) return LLMSPLIT_OK;
    if (h && s && ((h->settings.window > 0 && !h->latency_ms) || (h->settings.feedback_min_count > 0 && !h->feedback))) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "health: out of memory for a window of %d", s->window);
        return LLMSPLIT_ERR_NOMEM;
    }
    llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "health: invalid settings (window 0..%d, limits finite and >= 0)",
                        LLMSPLIT_ROLLBACK_MAX_WINDOW);
    return LLMSPLIT_ERR_USAGE;
}

LLMSPLIT_API void llmsplit_health_free(llmsplit_health *h) {
    if (!h) return;
    llmsplit__free(&h->allocator, h->latency_ms);
    llmsplit__free(&h->allocator, h->feedback);
    h->feedback = h->scores = NULL;
    h->latency_ms = h->scratch = NULL;
    h->failed = NULL;
}

/* Nearest-rank 95th percentile of the window: the ceil(0.95 n)-th smallest latency. */
static double llmsplit__health_p95(llmsplit_health *h) {
    int n = h->count, rank = (95 * n + 99) / 100;
    memcpy(h->scratch, h->latency_ms, (size_t)n * sizeof(double));
    qsort(h->scratch, (size_t)n, sizeof(double), llmsplit__health_cmp);
    return h->scratch[rank - 1];
}

/* Takes the arm out until now + cooldown and starts both windows afresh for its return. */
static void llmsplit__health_trip(llmsplit_health *h, int reason, int64_t now_ms) {
    h->out = 1;
    /* Capped at 1e15 ms (some 30,000 years) so the sum cannot overflow either. */
    h->out_until_ms = now_ms + llmsplit__clamp_to_int(h->settings.cooldown_s * 1000.0 + 0.5, 0, 1000000000000000);
    h->trips++;
    h->last_reason = reason;
    h->count = h->next = h->errors = 0;
    h->feedback_count = h->feedback_next = 0;
    h->score_count = h->score_next = 0;
}

LLMSPLIT_API int llmsplit_health_record(llmsplit_health *h, int ok, double latency_ms, int64_t now_ms) {
    const llmsplit_rollback_settings *s;
    double rate, p95 = 0.0;
    int w, reason = 0;
    if (!h || h->settings.window <= 0 || !h->latency_ms) return 0;
    s = &h->settings;
    w = s->window;
    if (h->out) {
        if (now_ms < h->out_until_ms) return 0; /* sent before the trip: says nothing new */
        h->out = 0;
    }
    if (h->count == w) { /* the oldest result leaves the window */
        if (h->failed[h->next]) h->errors--;
    } else {
        h->count++;
    }
    h->failed[h->next] = (unsigned char)(ok ? 0 : 1);
    h->latency_ms[h->next] = latency_ms == latency_ms ? latency_ms : 0.0; /* NaN counts as 0 */
    if (!ok) h->errors++;
    h->next = (h->next + 1) % w;
    if (h->count < w) return 0;

    rate = (double)h->errors / (double)w;
    if (s->max_error_rate > 0.0 && rate > s->max_error_rate) reason |= LLMSPLIT_ROLLBACK_ERROR_RATE;
    if (s->max_p95_ms > 0.0 && (p95 = llmsplit__health_p95(h)) > s->max_p95_ms) reason |= LLMSPLIT_ROLLBACK_LATENCY;
    if (!reason) return 0;

    h->last_error_rate = rate;
    h->last_p95_ms = p95;
    llmsplit__health_trip(h, reason, now_ms); /* fresh windows when the arm comes back */
    return 1;
}

/* Feedback and scores: value joins a ring of w values; once the ring is full, a mean below min
   trips the arm (reason, the mean in *last). */
static int llmsplit__health_mean(llmsplit_health *h, double *ring, int *count, int *next, int w, double value,
                                 double min, double *last, int reason, int64_t now_ms) {
    double sum = 0.0;
    int i;
    if (!ring || w <= 0 || !llmsplit__finite(value)) return 0;
    if (h->out) {
        if (now_ms < h->out_until_ms) return 0; /* about calls the arm answered before its trip */
        h->out = 0;
    }
    ring[*next] = value;
    *next = (*next + 1) % w;
    if (*count < w) ++*count;
    if (*count < w) return 0;
    /* summed afresh (at most LLMSPLIT_ROLLBACK_MAX_WINDOW values): a running sum drifts, and a
       drifted mean could trip an arm whose true mean sits exactly at the limit */
    for (i = 0; i < w; i++) sum += ring[i];
    if (!(sum / w < min)) return 0;
    *last = sum / w;
    llmsplit__health_trip(h, reason, now_ms);
    return 1;
}

LLMSPLIT_API int llmsplit_health_feedback(llmsplit_health *h, double value, int64_t now_ms) {
    return h && llmsplit__health_mean(h, h->feedback, &h->feedback_count, &h->feedback_next,
                                      h->settings.feedback_min_count, value, h->settings.feedback_min_mean,
                                      &h->last_feedback_mean, LLMSPLIT_ROLLBACK_FEEDBACK, now_ms);
}

LLMSPLIT_API int llmsplit_health_score(llmsplit_health *h, double value, int64_t now_ms) {
    return h && llmsplit__health_mean(h, h->scores, &h->score_count, &h->score_next, h->settings.window, value,
                                      h->settings.min_score, &h->last_score_mean, LLMSPLIT_ROLLBACK_SCORE, now_ms);
}

LLMSPLIT_API int llmsplit_health_available(const llmsplit_health *h, int64_t now_ms) {
    return !h || !h->out || now_ms >= h->out_until_ms;
}

/* ==== 6. mirror pool ================================================================= */

#include <errno.h>
#include <time.h>
#include <unistd.h>
#ifndef LLMSPLIT_NO_THREADS
#include <pthread.h>
#endif

/* The flag is a plain int so that tasks can hand it to code that knows nothing about the pool
   (llmsplit_http_request.abort_flag). It is written once, 0 -> 1, under the pool's lock, but read
   by tasks without the lock, so both sides use the compiler's __atomic builtins (release store,
   acquire load): that is race-free for the C11 memory model and for ThreadSanitizer, and costs a
   plain load on x86 and ARM. Compilers without the builtins get a volatile access, which works
   on every platform llmsplit targets (an aligned int is written in one piece) but is formally a
   race. */
LLMSPLIT_API int llmsplit_pool_aborting(const volatile int *flag) {
    if (!flag) return 0;
#if defined(__GNUC__) || defined(__clang__)
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
#else
    return *flag != 0;
#endif
}

static llmsplit_pool_stats llmsplit__pool_no_stats(void) {
    llmsplit_pool_stats s;
    memset(&s, 0, sizeof s);
    return s;
}

/* Validates a desc (NULL: all defaults) into the effective counts. 1 ok, 0 with err filled. */
static int llmsplit__pool_config(const llmsplit_pool_desc *desc, llmsplit_pool_desc *d, llmsplit_error *err) {
    if (desc) *d = *desc;
    else memset(d, 0, sizeof *d);
    if (d->threads == 0) d->threads = 2;
    if (d->queue == 0) d->queue = 64;
    if (d->threads < 1 || d->threads > LLMSPLIT_POOL_MAX_THREADS) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "pool: threads must be 1..%d (0 means 2), not %d",
                            LLMSPLIT_POOL_MAX_THREADS, d->threads);
        return 0;
    }
    if (d->queue < 1 || d->queue > LLMSPLIT_POOL_MAX_QUEUE) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "pool: queue must be 1..%d (0 means 64), not %d",
                            LLMSPLIT_POOL_MAX_QUEUE, d->queue);
        return 0;
    }
    return 1;
}

#ifndef LLMSPLIT_NO_THREADS

/* Tests replace this to make thread creation fail. */
#ifndef LLMSPLIT__POOL_THREAD_CREATE
#define LLMSPLIT__POOL_THREAD_CREATE pthread_create
#endif

/* Timed waits measure on CLOCK_MONOTONIC when condition variables can use it (POSIX clock
   selection), so a wall-clock jump cannot stretch or cut the drain. Elsewhere (macOS) they use
   CLOCK_REALTIME in slices of at most 250 ms, re-measured on the monotonic clock each time. */
#if defined(_POSIX_CLOCK_SELECTION) && (_POSIX_CLOCK_SELECTION + 0) > 0 && defined(CLOCK_MONOTONIC)
#define LLMSPLIT__POOL_CLOCK_SELECTION 1
#else
#define LLMSPLIT__POOL_CLOCK_SELECTION 0
#endif

/* Makes cv, timing out on CLOCK_MONOTONIC where the system lets it (*monotonic says whether it
   does). 0 or the error of pthread_cond_init. */
static int llmsplit__cond_init(pthread_cond_t *cv, int *monotonic) {
    pthread_condattr_t attr;
    int rc;
    *monotonic = 0;
    if (pthread_condattr_init(&attr) != 0) return pthread_cond_init(cv, NULL);
#if LLMSPLIT__POOL_CLOCK_SELECTION
    *monotonic = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0;
#endif
    rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

/* With lock held: waits on cv (made by llmsplit__cond_init) at most ms > 0. On CLOCK_REALTIME
   the wait is at most 250 ms, so a wall-clock jump stretches it by no more; callers re-check
   their condition and the time left on the monotonic clock. */
static void llmsplit__cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *lock, int monotonic, int64_t ms) {
    struct timespec ts;
    if (!monotonic && ms > 250) ms = 250;
#if LLMSPLIT__POOL_CLOCK_SELECTION
    clock_gettime(monotonic ? CLOCK_MONOTONIC : CLOCK_REALTIME, &ts);
#else
    clock_gettime(CLOCK_REALTIME, &ts);
#endif
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, lock, &ts);
}

typedef struct llmsplit__pool_task {
    llmsplit_task_fn fn;
    llmsplit_task_drop_fn drop;
    void *arg;
} llmsplit__pool_task;

struct llmsplit_pool {
    llmsplit_allocator allocator;
    llmsplit_logger logger;
    llmsplit__mutex lock;          /* guards everything below but the thread handles */
    pthread_cond_t work;           /* a task was queued, or the workers must stop */
    pthread_cond_t idle;           /* nothing queued or running (signalled while draining) */
    int monotonic;                 /* the condition variables time out on CLOCK_MONOTONIC */
    int closing;                   /* submits are refused */
    int draining;                  /* shutdown waits on idle */
    int stopping;                  /* workers exit once the queue is empty */
    int aborted;                   /* the drain deadline passed */
    volatile int abort_flag;       /* aborted, for tasks: see llmsplit_pool_aborting */
    int cap, head, count, running; /* the ring of queued tasks and the tasks being run */
    uint64_t submitted, completed, dropped, abandoned;
    llmsplit__pool_task *ring;     /* cap slots, in the same block as the pool */
    pthread_t *threads;            /* nthreads handles, in the same block */
    int nthreads;
};

static void *llmsplit__pool_worker(void *arg) {
    llmsplit_pool *p = (llmsplit_pool *)arg;
    llmsplit__lock(&p->lock);
    for (;;) {
        llmsplit__pool_task t;
        while (p->count == 0 && !p->stopping) pthread_cond_wait(&p->work, &p->lock);
        if (p->count == 0) break; /* stopping, and nothing left to run */
        t = p->ring[p->head];
        p->head = p->head + 1 == p->cap ? 0 : p->head + 1;
        p->count--;
        p->running++;
        llmsplit__unlock(&p->lock);
        t.fn(t.arg, &p->abort_flag);
        llmsplit__lock(&p->lock);
        p->running--;
        /* Every task still running when the deadline passed ends here after it; none starts
           later (the queue was emptied then), so this counts exactly those. */
        if (p->aborted) p->abandoned++;
        else p->completed++;
        if (p->draining && p->running == 0 && p->count == 0) pthread_cond_broadcast(&p->idle);
    }
    llmsplit__unlock(&p->lock);
    return NULL;
}

/* With the lock held: waits until nothing is queued or running, or drain_ms have passed
   (drain_ms < 0: no limit). Returns 1 when idle. */
static int llmsplit__pool_wait_idle(llmsplit_pool *p, int drain_ms) {
    int64_t deadline = llmsplit__now_ms() + (drain_ms > 0 ? drain_ms : 0);
    while (p->count > 0 || p->running > 0) {
        int64_t left;
        if (drain_ms < 0) {
            pthread_cond_wait(&p->idle, &p->lock);
            continue;
        }
        left = deadline - llmsplit__now_ms();
        if (left <= 0) return 0;
        llmsplit__cond_wait_ms(&p->idle, &p->lock, p->monotonic, left);
    }
    return 1;
}

/* Stops and joins the first n workers and releases everything; the pool must be idle. */
static void llmsplit__pool_destroy(llmsplit_pool *p, int n) {
    llmsplit_allocator a = p->allocator;
    int i;
    llmsplit__lock(&p->lock);
    p->stopping = 1;
    pthread_cond_broadcast(&p->work);
    llmsplit__unlock(&p->lock);
    for (i = 0; i < n; i++) pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->work);
    llmsplit__mutex_destroy(&p->lock);
    llmsplit__free(&a, p);
}

static size_t llmsplit__pool_round(size_t n) { return (n + 15u) & ~(size_t)15u; }

static const char *llmsplit__pool_errno_hint(int e) {
    return e == EAGAIN ? "the system is out of threads or memory" : e == ENOMEM ? "out of memory" : "system error";
}

static llmsplit_pool *llmsplit__pool_create(const llmsplit_pool_desc *desc, llmsplit_error *err) {
    llmsplit_pool_desc d;
    llmsplit_pool *p;
    size_t ring_off, threads_off, size;
    int i, rc;
    llmsplit__clear_error(err);
    if (!llmsplit__pool_config(desc, &d, err)) return NULL;
    /* One block: the pool, the ring, the thread handles; each part on a 16-byte boundary. Both
       counts are capped, so the size cannot overflow. */
    ring_off = llmsplit__pool_round(sizeof(llmsplit_pool));
    threads_off = ring_off + llmsplit__pool_round((size_t)d.queue * sizeof(llmsplit__pool_task));
    size = threads_off + (size_t)d.threads * sizeof(pthread_t);
    p = (llmsplit_pool *)llmsplit__alloc(&d.allocator, size);
    if (!p) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "pool: out of memory (%lu bytes for %d task slots)",
                            (unsigned long)size, d.queue);
        return NULL;
    }
    memset(p, 0, size);
    p->allocator = d.allocator;
    p->logger = d.logger;
    p->cap = d.queue;
    p->nthreads = d.threads;
    p->ring = (llmsplit__pool_task *)(void *)((char *)p + ring_off);
    p->threads = (pthread_t *)(void *)((char *)p + threads_off);

    if ((rc = llmsplit__mutex_init(&p->lock)) != 0) {
        llmsplit__free(&d.allocator, p);
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "pool: cannot create a mutex (%s, errno %d)",
                            llmsplit__pool_errno_hint(rc), rc);
        return NULL;
    }
    if ((rc = llmsplit__cond_init(&p->work, &p->monotonic)) == 0 && (rc = llmsplit__cond_init(&p->idle, &p->monotonic)) != 0)
        pthread_cond_destroy(&p->work);
    if (rc != 0) {
        llmsplit__mutex_destroy(&p->lock);
        llmsplit__free(&d.allocator, p);
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "pool: cannot create a condition variable (%s, errno %d)",
                            llmsplit__pool_errno_hint(rc), rc);
        return NULL;
    }
    for (i = 0; i < d.threads; i++) {
        rc = LLMSPLIT__POOL_THREAD_CREATE(&p->threads[i], NULL, llmsplit__pool_worker, p);
        if (rc != 0) {
            llmsplit__pool_destroy(p, i);
            llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "pool: cannot start worker thread %d of %d (%s, errno %d)",
                                i + 1, d.threads, llmsplit__pool_errno_hint(rc), rc);
            return NULL;
        }
    }
    return p;
}

static int llmsplit__pool_submit(llmsplit_pool *pool, llmsplit_task_fn fn, llmsplit_task_drop_fn drop,
                                      void *arg) {
    int queued = 0;
    if (!pool || !fn) return 0;
    llmsplit__lock(&pool->lock);
    pool->submitted++;
    if (!pool->closing && pool->count < pool->cap) {
        int slot = pool->head + pool->count;
        if (slot >= pool->cap) slot -= pool->cap;
        pool->ring[slot].fn = fn;
        pool->ring[slot].drop = drop;
        pool->ring[slot].arg = arg;
        pool->count++;
        queued = 1;
        pthread_cond_signal(&pool->work);
    } else {
        pool->dropped++;
    }
    llmsplit__unlock(&pool->lock);
    return queued;
}

LLMSPLIT_API llmsplit_pool_stats llmsplit_pool_get_stats(llmsplit_pool *pool) {
    llmsplit_pool_stats s = llmsplit__pool_no_stats();
    if (!pool) return s;
    llmsplit__lock(&pool->lock);
    s.submitted = pool->submitted;
    s.completed = pool->completed;
    s.dropped_queue_full = pool->dropped;
    s.abandoned_at_shutdown = pool->abandoned;
    s.running = (uint64_t)pool->running;
    s.queued = (uint64_t)pool->count;
    llmsplit__unlock(&pool->lock);
    return s;
}

LLMSPLIT_API void llmsplit_pool_close(llmsplit_pool *pool) {
    if (!pool) return;
    llmsplit__lock(&pool->lock);
    pool->closing = 1;
    llmsplit__unlock(&pool->lock);
}

static int llmsplit__pool_shutdown(llmsplit_pool *pool, int drain_ms, llmsplit_pool_stats *final_stats) {
    int first = 0, left = 0, running = 0, i;
    if (final_stats) *final_stats = llmsplit__pool_no_stats();
    if (!pool) return 0;
    llmsplit__lock(&pool->lock);
    pool->closing = 1;
    pool->draining = 1;
    if (!llmsplit__pool_wait_idle(pool, drain_ms)) {
        pool->aborted = 1;
#if defined(__GNUC__) || defined(__clang__)
        __atomic_store_n(&pool->abort_flag, 1, __ATOMIC_RELEASE);
#else
        pool->abort_flag = 1;
#endif
        /* Take the queued tasks out; their slots stay untouched (no submit is accepted and no
           worker pops from an empty queue), so drop can be called after unlocking. */
        first = pool->head;
        left = pool->count;
        running = pool->running;
        pool->count = 0;
        pool->abandoned += (uint64_t)left;
    }
    llmsplit__unlock(&pool->lock);
    if (left || running)
        llmsplit__log(&pool->logger, LLMSPLIT_LOG_INFO,
                      "pool: drain deadline of %d ms passed: abandoning %d queued and %d running tasks",
                      drain_ms, left, running);
    for (i = 0; i < left; i++) {
        llmsplit__pool_task *t = &pool->ring[(first + i) % pool->cap];
        if (t->drop) t->drop(t->arg);
    }
    /* Running tasks see the flag and return; the workers then find the queue empty and exit. */
    llmsplit__lock(&pool->lock);
    pool->stopping = 1;
    pthread_cond_broadcast(&pool->work);
    llmsplit__unlock(&pool->lock);
    for (i = 0; i < pool->nthreads; i++) pthread_join(pool->threads[i], NULL);
    if (final_stats) *final_stats = llmsplit_pool_get_stats(pool);
    llmsplit__pool_destroy(pool, 0);
    return left + running;
}

#else /* LLMSPLIT_NO_THREADS: a pool that refuses everything, and says so once. */

struct llmsplit_pool {
    llmsplit_allocator allocator;
    llmsplit_logger logger;
    int closing;
    int warned;
    uint64_t submitted, dropped;
};

static llmsplit_pool *llmsplit__pool_create(const llmsplit_pool_desc *desc, llmsplit_error *err) {
    llmsplit_pool_desc d;
    llmsplit_pool *p;
    llmsplit__clear_error(err);
    if (!llmsplit__pool_config(desc, &d, err)) return NULL;
    p = (llmsplit_pool *)llmsplit__alloc(&d.allocator, sizeof *p);
    if (!p) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "pool: out of memory");
        return NULL;
    }
    memset(p, 0, sizeof *p);
    p->allocator = d.allocator;
    p->logger = d.logger;
    return p;
}

static int llmsplit__pool_submit(llmsplit_pool *pool, llmsplit_task_fn fn, llmsplit_task_drop_fn drop,
                                      void *arg) {
    (void)drop;
    (void)arg;
    if (!pool || !fn) return 0;
    pool->submitted++;
    pool->dropped++;
    if (!pool->warned) {
        pool->warned = 1;
        llmsplit__log(&pool->logger, LLMSPLIT_LOG_WARN,
                      "pool: mirroring is unavailable in this build (LLMSPLIT_NO_THREADS): "
                      "background tasks are refused and counted as dropped");
    }
    return 0;
}

LLMSPLIT_API llmsplit_pool_stats llmsplit_pool_get_stats(llmsplit_pool *pool) {
    llmsplit_pool_stats s = llmsplit__pool_no_stats();
    if (!pool) return s;
    s.submitted = pool->submitted;
    s.dropped_queue_full = pool->dropped;
    return s;
}

LLMSPLIT_API void llmsplit_pool_close(llmsplit_pool *pool) {
    if (pool) pool->closing = 1;
}

static int llmsplit__pool_shutdown(llmsplit_pool *pool, int drain_ms, llmsplit_pool_stats *final_stats) {
    llmsplit_allocator a;
    (void)drain_ms;
    if (final_stats) *final_stats = llmsplit_pool_get_stats(pool);
    if (!pool) return 0;
    a = pool->allocator;
    llmsplit__free(&a, pool);
    return 0;
}

#endif /* LLMSPLIT_NO_THREADS */

LLMSPLIT_API llmsplit_status llmsplit_pool_create(const llmsplit_pool_desc *desc, llmsplit_pool **out,
                                                  llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    if (!out) return llmsplit__no_out(err, "pool");
    *out = llmsplit__pool_create(desc, e);
    return llmsplit__made(*out, e);
}

LLMSPLIT_API llmsplit_status llmsplit_pool_submit(llmsplit_pool *pool, llmsplit_task_fn fn,
                                                  llmsplit_task_drop_fn drop, void *arg) {
    if (!pool || !fn) return LLMSPLIT_ERR_USAGE;
    return llmsplit__pool_submit(pool, fn, drop, arg) ? LLMSPLIT_OK : LLMSPLIT_ERR_BUSY;
}

LLMSPLIT_API void llmsplit_pool_shutdown(llmsplit_pool *pool, int drain_ms, llmsplit_pool_stats *final_stats) {
    (void)llmsplit__pool_shutdown(pool, drain_ms, final_stats);
}

/* ==== 7. records ======================================================================== */

#include <sys/stat.h>

/* The record's keys are literals: their lengths are known where they are written. */
#define llmsplit__w_key(w, k) llmsplit_json_write_key((w), "" k, sizeof(k) - 1)
#define llmsplit__w_str_or_null(w, k, v) llmsplit__w_str_or_null_n((w), "" k, sizeof(k) - 1, (v))
#define llmsplit__w_num_or_null(w, k, v, scale) llmsplit__w_num_or_null_n((w), "" k, sizeof(k) - 1, (v), (scale))
#define llmsplit__w_int_or_null(w, k, v) llmsplit__w_int_or_null_n((w), "" k, sizeof(k) - 1, (v))

static LLMSPLIT__NOINLINE void llmsplit__w_str_or_null_n(llmsplit_json_writer *w, const char *k, size_t kn, const char *v) {
    llmsplit_json_write_key(w, k, kn);
    if (v) llmsplit_json_write_string(w, v, strlen(v));
    else llmsplit_json_write_null(w);
}

/* Numbers are rounded so the log stays short: milliseconds to 0.1, costs to 1e-9 USD. Dividing
   the rounded count by the scale gives the double nearest the short decimal, which then prints
   as that decimal. */
static LLMSPLIT__NOINLINE void llmsplit__w_num_or_null_n(llmsplit_json_writer *w, const char *k, size_t kn, double v, double scale) {
    llmsplit_json_write_key(w, k, kn);
    if (v < 0 || v != v || v > DBL_MAX) llmsplit_json_write_null(w);
    else if (v * scale >= 9007199254740992.0) llmsplit_json_write_double(w, v); /* 2^53: already whole units */
    else llmsplit_json_write_double(w, (double)(int64_t)(v * scale + 0.5) / scale);
}

static LLMSPLIT__NOINLINE void llmsplit__w_int_or_null_n(llmsplit_json_writer *w, const char *k, size_t kn, int64_t v) {
    llmsplit_json_write_key(w, k, kn);
    if (v < 0) llmsplit_json_write_null(w);
    else llmsplit_json_write_int(w, v);
}

/* The call record, written once per call: straight into room reserved for it, byte for byte
   what the writer makes of the same fields (the other events go through the writer), without
   its checks per token. LLMSPLIT__REC_LIT copies a literal of known length. */
#define LLMSPLIT__REC_LIT(o, lit) (memcpy((o), lit, sizeof lit - 1), (o) + sizeof lit - 1)

/* As llmsplit__w_num_or_null_n, scale 10^decimals. Below 10^15 units the rounded count k has at
   most 15 digits, and no other decimal that short reads back as the double nearest k / scale:
   k's digits are what llmsplit_format_double would find, without its search. */
static char *llmsplit__rec_num(char *o, double v, double scale, int decimals) {
    if (v < 0 || v != v || v > DBL_MAX) return LLMSPLIT__REC_LIT(o, "null");
    if (v * scale < 1e15) {
        int64_t k = (int64_t)(v * scale + 0.5);
        char digits[24];
        size_t n, nd;
        if (!k) return LLMSPLIT__REC_LIT(o, "0.0");
        n = nd = llmsplit__format_int(k, digits);
        while (digits[nd - 1] == '0') nd--;
        return o + llmsplit__format_digits(digits, (int)nd, (int)n - 1 - decimals, o);
    }
    if (v * scale < 9007199254740992.0) v = (double)(int64_t)(v * scale + 0.5) / scale;
    return o + llmsplit_format_double(v, o);
}

static char *llmsplit__rec_str(char *o, const char *v, size_t n, size_t *repaired) {
    return v ? llmsplit__escape_to(o, v, n, 0, repaired) : LLMSPLIT__REC_LIT(o, "null");
}

static char *llmsplit__rec_count(char *o, int64_t v) { /* a count, or null when negative */
    return v < 0 ? LLMSPLIT__REC_LIT(o, "null") : o + llmsplit__format_int(v, o);
}

/* Appends to out; 0 (out unchanged) when memory ran out. repaired is never NULL: invalid UTF-8
   is always repaired here (escape_to would stop at it otherwise). */
static int llmsplit__record_call_json(const llmsplit_record *r, llmsplit_buf *out, size_t *repaired) {
    enum { /* the text fields */
        LLMSPLIT__RF_TS, LLMSPLIT__RF_ID, LLMSPLIT__RF_PAIR, LLMSPLIT__RF_ROLE, LLMSPLIT__RF_GROUP, LLMSPLIT__RF_MODEL,
        LLMSPLIT__RF_PROVIDER, LLMSPLIT__RF_FROM, LLMSPLIT__RF_STATUS, LLMSPLIT__RF_ERROR, LLMSPLIT__RF_FINISH,
        LLMSPLIT__RF_NTEXT
    };
    const char *v[LLMSPLIT__RF_NTEXT];
    size_t n[LLMSPLIT__RF_NTEXT], total = 0;
    int i;
    char text[400], *o;
    v[LLMSPLIT__RF_TS] = r->ts;
    v[LLMSPLIT__RF_ID] = r->request_id;
    v[LLMSPLIT__RF_PAIR] = r->pair_id[0] ? r->pair_id : NULL;
    v[LLMSPLIT__RF_ROLE] = r->role ? r->role : "primary";
    v[LLMSPLIT__RF_GROUP] = r->group;
    v[LLMSPLIT__RF_MODEL] = r->model;
    v[LLMSPLIT__RF_PROVIDER] = r->provider;
    v[LLMSPLIT__RF_FROM] = r->fallback_from;
    v[LLMSPLIT__RF_STATUS] = r->ok ? "ok" : r->client_closed ? "client_closed" : "error";
    v[LLMSPLIT__RF_ERROR] = NULL;
    if (!r->ok && r->error) { /* the category, then the message (which never repeats it) */
        llmsplit__utf8_fix_cut(text, sizeof text, snprintf(text, sizeof text, "%s: %s", llmsplit_strerror(r->code), r->error));
        v[LLMSPLIT__RF_ERROR] = text;
    }
    v[LLMSPLIT__RF_FINISH] = r->finish_reason && r->finish_reason[0] ? r->finish_reason : NULL;
    for (i = 0; i < LLMSPLIT__RF_NTEXT; i++) {
        n[i] = v[i] ? strlen(v[i]) : 0;
        if (n[i] > SIZE_MAX / 128) return 0;
        total += n[i];
    }
    if (r->response) {
        if (r->response_len > SIZE_MAX / 8) return 0;
        total += r->response_len;
    }
    /* every byte of text at most 6 (\u00XX); the names, quotes and numbers well within 2048 */
    if (total > (SIZE_MAX - 2048) / 6 || llmsplit_buf_reserve(out, total * 6 + 2048) != LLMSPLIT_OK) return 0;
    o = out->data + out->len;
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, "{\"ts\":"), v[LLMSPLIT__RF_TS], n[LLMSPLIT__RF_TS], repaired);
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"event\":\"call\",\"request_id\":"), v[LLMSPLIT__RF_ID], n[LLMSPLIT__RF_ID], repaired);
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"pair_id\":"), v[LLMSPLIT__RF_PAIR], n[LLMSPLIT__RF_PAIR], repaired);
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"role\":"), v[LLMSPLIT__RF_ROLE], n[LLMSPLIT__RF_ROLE], repaired);
    o = r->is_silent_experiment ? LLMSPLIT__REC_LIT(o, ",\"is_silent_experiment\":true")
                                : LLMSPLIT__REC_LIT(o, ",\"is_silent_experiment\":false");
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"group\":"), v[LLMSPLIT__RF_GROUP], n[LLMSPLIT__RF_GROUP], repaired);
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"model\":"), v[LLMSPLIT__RF_MODEL], n[LLMSPLIT__RF_MODEL], repaired);
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"provider\":"), v[LLMSPLIT__RF_PROVIDER], n[LLMSPLIT__RF_PROVIDER], repaired);
    o = LLMSPLIT__REC_LIT(o, ",\"deployment\":");
    o += llmsplit__format_int(r->deployment, o);
    o = r->sticky ? LLMSPLIT__REC_LIT(o, ",\"sticky\":true") : LLMSPLIT__REC_LIT(o, ",\"sticky\":false");
    if (r->split_epoch > 0) {
        o = LLMSPLIT__REC_LIT(o, ",\"split_epoch\":");
        o += llmsplit__format_int(r->split_epoch, o);
    }
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"fallback_from\":"), v[LLMSPLIT__RF_FROM], n[LLMSPLIT__RF_FROM], repaired);
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"status\":"), v[LLMSPLIT__RF_STATUS], n[LLMSPLIT__RF_STATUS], repaired);
    o = llmsplit__rec_count(LLMSPLIT__REC_LIT(o, ",\"http_status\":"), r->http_status > 0 ? r->http_status : -1);
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"error\":"), v[LLMSPLIT__RF_ERROR], n[LLMSPLIT__RF_ERROR], repaired);
    o = llmsplit__rec_num(LLMSPLIT__REC_LIT(o, ",\"latency_ms\":"), r->latency_ms, 10, 1);
    o = llmsplit__rec_num(LLMSPLIT__REC_LIT(o, ",\"ttft_ms\":"), r->ttft_ms, 10, 1);
    o = llmsplit__rec_count(LLMSPLIT__REC_LIT(o, ",\"prompt_tokens\":"), r->prompt_tokens);
    o = llmsplit__rec_count(LLMSPLIT__REC_LIT(o, ",\"completion_tokens\":"), r->completion_tokens);
    o = llmsplit__rec_num(LLMSPLIT__REC_LIT(o, ",\"cost_usd\":"), r->cost_usd, 1e9, 9);
    o = llmsplit__rec_str(LLMSPLIT__REC_LIT(o, ",\"finish_reason\":"), v[LLMSPLIT__RF_FINISH], n[LLMSPLIT__RF_FINISH], repaired);
    if (r->response) o = llmsplit__escape_to(LLMSPLIT__REC_LIT(o, ",\"response\":"), r->response, r->response_len, 0, repaired);
    *o++ = '}';
    *o = 0;
    out->len = (size_t)(o - out->data);
    return 1;
}

/* Every text field may hold bytes from outside (a provider's message, a caller's group name):
   invalid UTF-8 becomes U+FFFD rather than costing the whole record; *repaired (may be NULL)
   counts the replacements. */
static int llmsplit__record_json(const llmsplit_record *r, llmsplit_buf *out, size_t *repaired) {
    llmsplit_json_writer w;
    const char *text;
    size_t n;
    int ok;
    size_t fixes = 0;
    if (!LLMSPLIT__SMALL && (!r->event || strcmp(r->event, "call") == 0)) {
        /* the one per call: its own writer (the same line as the writer's below, which -Os
           builds use instead: it takes half the code) */
        ok = llmsplit__record_call_json(r, out, &fixes);
        if (repaired) *repaired = fixes;
        return ok;
    }
    llmsplit_json_writer_init(&w, &out->allocator);
    w.llmsplit__repair = 1;
    llmsplit_json_write_begin_object(&w);
    llmsplit__w_str_or_null(&w, "ts", r->ts);
    llmsplit__w_str_or_null(&w, "event", r->event ? r->event : "call");
    if (!r->event || strcmp(r->event, "call") == 0) {
        llmsplit__w_str_or_null(&w, "request_id", r->request_id);
        llmsplit__w_str_or_null(&w, "pair_id", r->pair_id[0] ? r->pair_id : NULL);
        llmsplit__w_str_or_null(&w, "role", r->role ? r->role : "primary");
        llmsplit__w_key(&w, "is_silent_experiment");
        llmsplit_json_write_bool(&w, r->is_silent_experiment);
        llmsplit__w_str_or_null(&w, "group", r->group);
        llmsplit__w_str_or_null(&w, "model", r->model);
        llmsplit__w_str_or_null(&w, "provider", r->provider);
        llmsplit__w_key(&w, "deployment");
        llmsplit_json_write_int(&w, r->deployment);
        llmsplit__w_key(&w, "sticky");
        llmsplit_json_write_bool(&w, r->sticky);
        if (r->split_epoch > 0) {
            LLMSPLIT_JSON_KEY(&w, "split_epoch");
            llmsplit_json_write_int(&w, r->split_epoch);
        }
        llmsplit__w_str_or_null(&w, "fallback_from", r->fallback_from);
        llmsplit__w_str_or_null(&w, "status", r->ok ? "ok" : r->client_closed ? "client_closed" : "error");
        llmsplit__w_int_or_null(&w, "http_status", r->http_status > 0 ? r->http_status : -1);
        if (r->ok || !r->error) {
            llmsplit__w_str_or_null(&w, "error", NULL);
        } else {
            /* the category, then the message (which never repeats it) */
            char text[400];
            llmsplit__utf8_fix_cut(text, sizeof text, snprintf(text, sizeof text, "%s: %s", llmsplit_strerror(r->code), r->error));
            llmsplit__w_str_or_null(&w, "error", text);
        }
        llmsplit__w_num_or_null(&w, "latency_ms", r->latency_ms, 10);
        llmsplit__w_num_or_null(&w, "ttft_ms", r->ttft_ms, 10);
        llmsplit__w_int_or_null(&w, "prompt_tokens", r->prompt_tokens);
        llmsplit__w_int_or_null(&w, "completion_tokens", r->completion_tokens);
        llmsplit__w_num_or_null(&w, "cost_usd", r->cost_usd, 1e9);
        llmsplit__w_str_or_null(&w, "finish_reason", r->finish_reason && r->finish_reason[0] ? r->finish_reason : NULL);
        if (r->response) {
            llmsplit__w_key(&w, "response");
            llmsplit_json_write_string(&w, r->response, r->response_len);
        }
    } else {
        int feedback = strcmp(r->event, "feedback") == 0, score = strcmp(r->event, "score") == 0;
        int judgement = strcmp(r->event, "judgement") == 0, i;
        if (r->group && !feedback && !score && !judgement) llmsplit__w_str_or_null(&w, "group", r->group);
        if (r->model && !feedback && !score && !judgement) llmsplit__w_str_or_null(&w, "model", r->model);
        if (feedback || score) {
            /* every key always there: group, deployment and model null for a call not known */
            llmsplit__w_str_or_null(&w, "request_id", r->request_id);
            llmsplit__w_str_or_null(&w, "metric", r->metric);
            llmsplit__w_key(&w, "value");
            if (r->value > -9e15 && r->value < 9e15 && r->value == (double)(int64_t)r->value)
                llmsplit_json_write_int(&w, (int64_t)r->value); /* 1, not 1.0: as a person wrote it */
            else if (llmsplit__finite(r->value)) llmsplit_json_write_double(&w, r->value);
            else llmsplit_json_write_null(&w);
            if (score) llmsplit__w_str_or_null(&w, "judge_model", r->judge_model);
            llmsplit__w_str_or_null(&w, "group", r->group);
            llmsplit__w_int_or_null(&w, "deployment", r->deployment);
            llmsplit__w_str_or_null(&w, "model", r->model);
        }
        if (judgement) {
            llmsplit__w_str_or_null(&w, "pair_id", r->pair_id);
            llmsplit__w_str_or_null(&w, "winner", r->winner);
            llmsplit__w_key(&w, "verdicts");
            llmsplit_json_write_begin_array(&w);
            for (i = 0; i < 2; i++)
                if (r->verdicts[i]) llmsplit_json_write_string(&w, r->verdicts[i], strlen(r->verdicts[i]));
                else llmsplit_json_write_null(&w);
            llmsplit_json_write_end_array(&w);
            llmsplit__w_key(&w, "consistent");
            llmsplit_json_write_bool(&w, r->consistent);
            llmsplit__w_str_or_null(&w, "primary_model", r->primary_model);
            llmsplit__w_str_or_null(&w, "silent_model", r->silent_model);
            llmsplit__w_str_or_null(&w, "judge_model", r->judge_model);
            llmsplit__w_int_or_null(&w, "primary_chars", r->primary_chars);
            llmsplit__w_int_or_null(&w, "silent_chars", r->silent_chars);
        }
        if (strcmp(r->event, "rollback") == 0) {
            llmsplit__w_key(&w, "deployment");
            llmsplit_json_write_int(&w, r->deployment);
            llmsplit__w_num_or_null(&w, "cooldown_s", r->cooldown_s, 1000);
        }
        if (strcmp(r->event, "split") == 0) {
            llmsplit_json_doc *wd = r->weights_json ? llmsplit__parse(&out->allocator, r->weights_json,
                                                                      strlen(r->weights_json), NULL) : NULL;
            LLMSPLIT_JSON_KEY(&w, "epoch");
            llmsplit_json_write_int(&w, r->split_epoch);
            LLMSPLIT_JSON_KEY(&w, "weights");
            if (wd) llmsplit_json_write_value(&w, llmsplit_json_root(wd));
            else llmsplit_json_write_null(&w);
            llmsplit_json_free(wd);
        }
        if (r->reason) llmsplit__w_str_or_null(&w, "reason", r->reason);
    }
    llmsplit_json_write_end_object(&w);
    text = llmsplit__w_result(&w, &n);
    ok = text != NULL;
    if (ok) llmsplit_buf_append(out, text, n);
    if (repaired) *repaired = w.llmsplit__repaired;
    llmsplit_json_writer_free(&w);
    return ok && !out->failed;
}

LLMSPLIT_API llmsplit_status llmsplit_record_json(const llmsplit_record *r, llmsplit_buf *out) {
    llmsplit_record stamped;
    if (!r || !out) return LLMSPLIT_ERR_USAGE;
    if (!r->ts[0]) { /* a record without a time gets the current one, as the client's do */
        stamped = *r;
        llmsplit__now_iso(stamped.ts);
        r = &stamped;
    }
    return llmsplit__record_json(r, out, NULL) ? LLMSPLIT_OK : LLMSPLIT_ERR_NOMEM;
}

LLMSPLIT_API int llmsplit_price(const char *model, double *input_per_token, double *output_per_token) {
    /* USD per million tokens, list prices; the longest matching prefix wins. */
    static const struct { const char *prefix; double in, out; } table[] = {
        {"gpt-4", 30, 60}, {"gpt-4-32k", 60, 120}, {"gpt-4-turbo", 10, 30}, {"gpt-4-1106", 10, 30}, {"gpt-4-0125", 10, 30},
        {"gpt-4o", 2.5, 10}, {"gpt-4o-mini", 0.15, 0.6}, {"gpt-4.1", 2, 8}, {"gpt-4.1-mini", 0.4, 1.6},
        {"gpt-4.1-nano", 0.1, 0.4}, {"gpt-3.5-turbo", 0.5, 1.5}, {"o1", 15, 60}, {"o1-mini", 1.1, 4.4},
        {"o3", 2, 8}, {"o3-mini", 1.1, 4.4}, {"o4-mini", 1.1, 4.4}, {"chatgpt-v-2", 0.5, 1.5},
        {"claude-3-opus", 15, 75}, {"claude-opus-4", 15, 75}, {"claude-3-sonnet", 3, 15}, {"claude-3-5-sonnet", 3, 15},
        {"claude-3-7-sonnet", 3, 15}, {"claude-sonnet-4", 3, 15}, {"claude-3-haiku", 0.25, 1.25},
        {"claude-3-5-haiku", 0.8, 4}, {"llama-2-7b", 0.2, 0.2}, {"llama-2-13b", 0.3, 0.3}, {"llama-2-70b", 0.9, 0.9},
        {"llama2", 0.2, 0.2}, {"llama-3-8b", 0.2, 0.2}, {"llama-3-70b", 0.9, 0.9}, {"llama-3.1-8b", 0.18, 0.18},
        {"llama-3.1-70b", 0.88, 0.88}, {"llama3", 0.2, 0.2}, {"mixtral-8x7b", 0.6, 0.6}, {"mistral-7b", 0.2, 0.2},
    };
    const char *name = model ? strrchr(model, '/') : NULL;
    size_t i, best = 0, best_len = 0;
    int found = 0;
    char first;
    name = name ? name + 1 : model;
    if (!name) return 0;
    first = name[0] >= 'A' && name[0] <= 'Z' ? name[0] | 0x20 : name[0];
    for (i = 0; i < sizeof table / sizeof table[0]; i++) {
        const char *q = table[i].prefix; /* lower case: name is compared as lower-cased */
        size_t l = 0;
        if (q[0] != first) continue; /* most entries, at one comparison */
        while (q[l] && (name[l] >= 'A' && name[l] <= 'Z' ? name[l] | 0x20 : name[l]) == q[l]) l++;
        if (!q[l] && l > best_len &&
            (name[l] == 0 || name[l] == '-' || name[l] == ':' || name[l] == '@')) {
            best = i;
            best_len = l;
            found = 1;
        }
    }
    /* Meta's published names ("Meta-Llama-3.1-8B-Instruct") contain the base name */
    if (!found && strncasecmp(name, "meta-", 5) == 0) return llmsplit_price(name + 5, input_per_token, output_per_token);
    if (!found) return 0;
    if (input_per_token) *input_per_token = table[best].in / 1e6;
    if (output_per_token) *output_per_token = table[best].out / 1e6;
    return 1;
}

/* ==== 8. client ========================================================================= */

#ifndef LLMSPLIT_FEEDBACK_MAX_CALLS
#define LLMSPLIT_FEEDBACK_MAX_CALLS 4096              /* primary calls remembered for feedback */
#endif
#ifndef LLMSPLIT_JUDGE_MAX_PENDING
#define LLMSPLIT_JUDGE_MAX_PENDING 256                /* mirrored pairs waiting to be judged */
#endif
#ifndef LLMSPLIT_JUDGE_MAX_PENDING_BYTES
#define LLMSPLIT_JUDGE_MAX_PENDING_BYTES (4u * 1024u * 1024u) /* answer text those pairs hold */
#endif

/* A primary call remembered for llmsplit_client_feedback: its id (the 128 bits of the hex text),
   the deployment that answered and that arm's identity, so feedback given after a reload still
   finds the arm when it stayed (at another index, maybe) and finds nothing when it went. */
typedef struct llmsplit__fb_call {
    uint64_t id[2];
    uint64_t arm;                 /* llmsplit__arm_hash of the deployment */
    int deployment;
} llmsplit__fb_call;

/* The last LLMSPLIT_FEEDBACK_MAX_CALLS calls: a ring, and an open-addressing index into it
   (twice as many slots, linear probing, 0 empty, else ring slot + 1) for a lookup in a few
   probes. The oldest call leaves the index when its ring slot is reused. */
typedef struct llmsplit__fb_table {
    llmsplit__fb_call *ring;
    uint32_t *index;
    uint32_t cap, mask, count, next;
    int failed;                   /* its memory could not be had: feedback finds no call */
} llmsplit__fb_table;

/* A config in use, with the health windows of its deployments. Requests hold a reference, so a
   reload never frees a config under a request that started on it. */
typedef struct llmsplit__cfgref {
    llmsplit_config *cfg;
    llmsplit_health *health;      /* one per deployment */
    unsigned char *seen;          /* per deployment: its availability in the group's last split record */
    int64_t *group_epoch;         /* per group: the epoch of its last split record (0: none yet) */
    uint64_t *arm;                /* per deployment: llmsplit__arm_hash, for feedback */
    llmsplit__target *targets;    /* per deployment: its route, URL and parameters, resolved at load
                                     (a target that could not be made has a NULL model: the call
                                     routes itself and reports why) */
    int refs;                     /* atomic: holds (cur is one) */
} llmsplit__cfgref;

typedef struct llmsplit__pair llmsplit__pair;
typedef struct llmsplit__mirror llmsplit__mirror;

/* The judge is reached only through these, which llmsplit_client_create sets: the one-call form
   (which has no judge) makes its clients without them, so a program that only splits links none
   of the judge's code. */
typedef struct llmsplit__judge_hooks {
    /* a primary call is answered (after its record) */
    void (*primary)(llmsplit_client *c, const llmsplit__cfgref *ref, const llmsplit_request *req,
                    const llmsplit_result *res, const llmsplit_record *r, llmsplit__pair *pair);
    /* the silent call of a judged pair is answered (ok), failed, or will never run */
    void (*silent)(llmsplit__mirror *m, int ok, const char *text, size_t len, const char *model,
                   const volatile int *abort_flag);
} llmsplit__judge_hooks;
static const llmsplit__judge_hooks *llmsplit__judge_on(void);

struct llmsplit_client {
    llmsplit_allocator allocator;
    llmsplit_logger logger;
    llmsplit_http *http;          /* primary calls */
    llmsplit_http *mirror_http;   /* silent calls: their own connections, never contending */
    llmsplit_logger mirror_logger;/* the http desc's, behind llmsplit__mirror_http_log */
    int mirror_http_making;       /* mirror_http is being made: its logger stays quiet */
    llmsplit_pool *pool;
    int drain_ms;
    int pool_threads, pool_queue; /* what the pool was made with: a reload cannot change them */
    llmsplit__mutex lock;         /* cur, health, stats */
    llmsplit__cfgref *cur;
    llmsplit_rng rng;
    int64_t epoch_base, epochs;   /* split epochs: a random base, and how many were handed out */
    char *config_file, *config_url;
    llmsplit_http_header *config_headers; /* config_api_key's Authorization, then config_headers:
                                     one block with their strings, never logged */
    int num_config_headers;
    int poll_ms;
    struct stat file_stat;        /* of the loaded file, to notice changes */
    char etag[256];
    uint64_t text_hash;           /* of the config text in use: the same text again is no reload */
    uint64_t refused_hash;        /* of the last text refused: refused once, not at every poll */
    int64_t next_file_check_ms;   /* without threads the file is checked between requests */
#ifndef LLMSPLIT_NO_THREADS
    pthread_t watcher;
    int watcher_running;
    pthread_mutex_t watch_lock;   /* the watcher's sleep, which destroy ends */
    pthread_cond_t watch_cv;
    int watch_monotonic;
#endif
    int stop;                     /* atomic: the watcher should end */
    llmsplit__mutex reload_lock;  /* one check of the file or URL at a time (watcher, reload) */
    llmsplit__mutex cur_lock;     /* cur, read by every call (held for a pointer and a count) */
    llmsplit__mutex fb_lock;      /* fb, the calls remembered for feedback */
    uint64_t n_requests, n_errors, n_fallbacks; /* atomic: stats.requests, errors, fallbacks */
    int log_fd;
    llmsplit__mutex log_lock;     /* a reopen, log_id; writes to a log that is not a regular file */
    char *log_path;
    struct stat log_id;           /* device and inode of the file log_fd writes to */
    int64_t next_log_check_ms;    /* atomic read outside log_lock */
    int log_append_only;          /* atomic: log_fd is a regular file opened O_APPEND */
#ifndef LLMSPLIT_NO_THREADS
    /* log_async: lines queued for the writer thread (under logq_lock) */
    int logq_running;
    pthread_t logq_thread;
    pthread_mutex_t logq_lock;
    pthread_cond_t logq_more, logq_room;
    llmsplit_buf logq;
    int logq_stop;
    int logq_waiting;  /* the writer waits: 1 for a first record, 2 for a batch to fill */
    int logq_monotonic;/* logq_more times out on CLOCK_MONOTONIC */
#endif
    int keep_responses;
    llmsplit_record_fn on_record;
    void *user_data;
    llmsplit_client_stats stats;
    llmsplit__fb_table fb;        /* under lock */
    const llmsplit__judge_hooks *judge; /* NULL: no judging (the one-call form) */
    llmsplit__yaml_fn yaml;       /* NULL: configs are JSON only (the one-call form) */
    int pairs_pending;            /* under lock: mirrored pairs waiting to be judged */
    size_t pairs_held;            /* under lock: bytes of answer text they hold */
};

/* 128 random bits in hex, and in bits[] as the feedback index keeps them (llmsplit__fb_id of the
   text): the top 32 bits of four outputs of the client's generator, so that an id does not give
   away whole outputs (from which the generator's next ones follow). */
static void llmsplit__new_id(llmsplit_client *c, char out[40], uint64_t bits[2]) {
    static const char hex[] = "0123456789abcdef";
    int i, k;
    bits[0] = bits[1] = 0;
    for (i = 0; i < 4; i++) {
        uint32_t v = (uint32_t)(llmsplit__rng_u64(&c->rng) >> 32);
        bits[i >> 1] = bits[i >> 1] << 32 | v;
        for (k = 7; k >= 0; k--, v >>= 4) out[8 * i + k] = hex[v & 15];
    }
    out[32] = 0;
}

/* Opens the log at its path again; the old descriptor is kept when that fails. Call with
   log_lock held. */
static llmsplit_status llmsplit__log_reopen(llmsplit_client *c, llmsplit_error *err) {
    struct stat st;
    int fd = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600); /* may hold private text */
    if (fd < 0 || fstat(fd, &st) != 0) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "log: cannot open %s: %s", c->log_path, strerror(errno));
        if (fd >= 0) close(fd);
        return LLMSPLIT_ERR_USAGE;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    /* the number stays: writers that read it without the lock reach the old file or the new
       one, never a closed or reused descriptor */
    if (c->log_fd >= 0 && dup2(fd, c->log_fd) >= 0) close(fd);
    else {
        if (c->log_fd >= 0) close(c->log_fd);
        __atomic_store_n(&c->log_fd, fd, __ATOMIC_RELEASE);
    }
    c->log_id = st;
    __atomic_store_n(&c->log_append_only, S_ISREG(st.st_mode) ? 1 : 0, __ATOMIC_RELEASE);
    return LLMSPLIT_OK;
}

/* logrotate moves or deletes the log and expects the writer to start a new file at the path; a
   writer that does not writes on into a file nobody will read. Checked at most once a second,
   so a busy client pays one stat a second, not one a record. Call with log_lock held. */
static void llmsplit__log_follow(llmsplit_client *c) {
    struct stat st;
    int64_t now = llmsplit__now_ms();
    llmsplit_error err;
    if (!c->log_path || now < c->next_log_check_ms) return;
    __atomic_store_n(&c->next_log_check_ms, now + 1000, __ATOMIC_RELAXED);
    if (stat(c->log_path, &st) == 0 && st.st_dev == c->log_id.st_dev && st.st_ino == c->log_id.st_ino) return;
    if (llmsplit__log_reopen(c, &err) != LLMSPLIT_OK) llmsplit__log(&c->logger, LLMSPLIT_LOG_ERROR, "records: %s", err.message);
}

LLMSPLIT_API llmsplit_status llmsplit_client_reopen_log(llmsplit_client *c, llmsplit_error *err) {
    llmsplit_status e = LLMSPLIT_OK;
    if (!c) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: missing client");
        return LLMSPLIT_ERR_USAGE;
    }
    llmsplit__clear_error(err);
    llmsplit__lock(&c->log_lock);
    if (c->log_path) e = llmsplit__log_reopen(c, err);
    llmsplit__unlock(&c->log_lock);
    return e;
}

/* Writes whole lines to the log. One write per call: lines never interleave. A regular file is
   opened O_APPEND, where the kernel appends each write whole, so no lock is needed while the
   lines are written (a reopen swaps the file behind the same descriptor number); a pipe or a
   terminal is written under the lock. The once-a-second check of the path takes the lock. */
static void llmsplit__log_write(llmsplit_client *c, const char *data, size_t len) {
    size_t off = 0;
    int locked;
    if (llmsplit__now_ms() >= __atomic_load_n(&c->next_log_check_ms, __ATOMIC_RELAXED)) {
        llmsplit__lock(&c->log_lock);
        llmsplit__log_follow(c);
        llmsplit__unlock(&c->log_lock);
    }
    locked = !__atomic_load_n(&c->log_append_only, __ATOMIC_ACQUIRE);
    if (locked) llmsplit__lock(&c->log_lock);
    while (off < len) {
        ssize_t n = write(__atomic_load_n(&c->log_fd, __ATOMIC_ACQUIRE), data + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += (size_t)n;
    }
    if (locked) llmsplit__unlock(&c->log_lock);
    if (off < len) llmsplit__log(&c->logger, LLMSPLIT_LOG_ERROR, "records: cannot write the log: %s", strerror(errno));
}

#ifndef LLMSPLIT_NO_THREADS
#define LLMSPLIT__LOGQ_MAX (4u << 20)    /* bytes queued before a caller waits for the writer */
#define LLMSPLIT__LOGQ_BATCH (64u << 10) /* bytes queued that end the writer's linger */
#define LLMSPLIT__LOGQ_LINGER_MS 10      /* how long a record may wait for others to join it */

/* log_async: the line joins the queue. A wake-up only for the first record of a batch (the
   writer waits for work) or the one that fills it (the writer lingers): at a steady load one
   wake-up and one write per 10 ms, whatever the rate. */
static void llmsplit__logq_push(llmsplit_client *c, const char *data, size_t len) {
    int lost;
    pthread_mutex_lock(&c->logq_lock);
    while (c->logq.len && c->logq.len + len > LLMSPLIT__LOGQ_MAX && !c->logq_stop) {
        if (c->logq_waiting == 2) pthread_cond_signal(&c->logq_more); /* no lingering now */
        pthread_cond_wait(&c->logq_room, &c->logq_lock);
    }
    if ((c->logq_waiting == 1 && !c->logq.len) ||
        (c->logq_waiting == 2 && c->logq.len < LLMSPLIT__LOGQ_BATCH && c->logq.len + len >= LLMSPLIT__LOGQ_BATCH))
        pthread_cond_signal(&c->logq_more);
    llmsplit_buf_append(&c->logq, data, len);
    lost = c->logq.failed;
    c->logq.failed = 0;
    pthread_mutex_unlock(&c->logq_lock);
    if (lost) llmsplit__log(&c->logger, LLMSPLIT_LOG_ERROR, "records: out of memory; a record was lost");
}

/* The writer: once a record is queued, lingers 10 ms (less when 64 KiB are queued or destroy
   asks it to stop) for others to join it, then writes everything queued in one go; until
   destroy has asked it to stop and nothing is left. */
static void *llmsplit__logq_main(void *arg) {
    llmsplit_client *c = (llmsplit_client *)arg;
    llmsplit_buf out, swap;
    llmsplit_buf_init(&out, &c->allocator);
    pthread_mutex_lock(&c->logq_lock);
    for (;;) {
        c->logq_waiting = 1;
        while (!c->logq.len && !c->logq_stop) pthread_cond_wait(&c->logq_more, &c->logq_lock);
        c->logq_waiting = 0;
        if (!c->logq.len) break;
        if (!c->logq_stop && c->logq.len < LLMSPLIT__LOGQ_BATCH) {
            int64_t until = llmsplit__now_ms() + LLMSPLIT__LOGQ_LINGER_MS, left;
            c->logq_waiting = 2;
            while (!c->logq_stop && c->logq.len < LLMSPLIT__LOGQ_BATCH && (left = until - llmsplit__now_ms()) > 0)
                llmsplit__cond_wait_ms(&c->logq_more, &c->logq_lock, c->logq_monotonic, left);
            c->logq_waiting = 0;
        }
        swap = c->logq;
        c->logq = out;
        out = swap;
        pthread_cond_broadcast(&c->logq_room);
        pthread_mutex_unlock(&c->logq_lock);
        llmsplit__log_write(c, out.data, out.len);
        out.len = 0;
        if (out.cap > LLMSPLIT__LOGQ_MAX) llmsplit_buf_free(&out); /* after a burst */
        pthread_mutex_lock(&c->logq_lock);
    }
    pthread_mutex_unlock(&c->logq_lock);
    llmsplit_buf_free(&out);
    return NULL;
}
#endif

static void llmsplit__emit(llmsplit_client *c, llmsplit_record *r) {
    llmsplit_buf line;
    size_t repaired = 0;
    uint64_t mem[4096 / 8]; /* a call's line reserves about 3 KiB (the worst case of its escapes) */
    llmsplit__lender lender;
    llmsplit_allocator a;
    if (!c->log_path && !c->on_record) return; /* nobody reads it: not even a timestamp */
    if (!r->ts[0]) llmsplit__now_iso(r->ts);
    a = llmsplit__lending(&lender, (char *)mem, sizeof mem, &c->allocator);
    llmsplit_buf_init(&line, &a);
    if (!llmsplit__record_json(r, &line, &repaired)) {
        llmsplit__log(&c->logger, LLMSPLIT_LOG_ERROR, "records: out of memory; a record was lost");
        llmsplit_buf_free(&line);
        return;
    }
    if (repaired) {
        llmsplit__lock(&c->lock);
        c->stats.records_repaired++;
        llmsplit__unlock(&c->lock);
        llmsplit__log(&c->logger, LLMSPLIT_LOG_WARN, "records: a %s record had text that is not valid UTF-8; "
                      "%zu sequence(s) written as U+FFFD", r->event ? r->event : "call", repaired);
    }
    if (c->log_path) {
        llmsplit_buf_append(&line, "\n", 1);
#ifndef LLMSPLIT_NO_THREADS
        if (c->logq_running) llmsplit__logq_push(c, line.data, line.len);
        else
#endif
            llmsplit__log_write(c, line.data, line.len);
        line.len--;
    }
    if (c->on_record) c->on_record(r, line.data, line.len, c->user_data);
    llmsplit_buf_free(&line);
}

static uint64_t llmsplit__fnv(uint64_t h, const char *s) {
    if (s)
        for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull; /* a separator: ("ab","c") is not ("a","bc") */
}

/* What makes two deployments the same arm across a reload (llmsplit__same_arm): group, model
   string and api_base. */
static uint64_t llmsplit__arm_hash(const llmsplit_deployment *d) {
    return llmsplit__fnv(llmsplit__fnv(llmsplit__fnv(0xcbf29ce484222325ull, d->group), d->model), d->api_base);
}

/* The 128 bits of a request id (32 hex digits, as llmsplit__new_id makes them); 0 for any other
   text, which no call has. */
static int llmsplit__fb_id(const char *s, uint64_t id[2]) {
    int i, h;
    for (h = 0; h < 2; h++) {
        uint64_t x = 0;
        for (i = 0; i < 16; i++) {
            unsigned c = (unsigned char)*s++, v = c - '0';
            if (v > 9) {
                v = c - 'a' + 10;
                if (v < 10 || v > 15) return 0;
            }
            x = x << 4 | v;
        }
        id[h] = x;
    }
    return *s == 0;
}

static uint32_t llmsplit__fb_slot(const llmsplit__fb_table *t, const uint64_t id[2]) {
    uint64_t h = (id[0] ^ (id[1] * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    return (uint32_t)(h >> 32) & t->mask;
}

static int llmsplit__fb_init(llmsplit__fb_table *t, const llmsplit_allocator *a) {
    uint32_t n = LLMSPLIT_FEEDBACK_MAX_CALLS > 0 ? (uint32_t)LLMSPLIT_FEEDBACK_MAX_CALLS : 1, slots = 2;
    while (slots < 2 * n) slots <<= 1;
    memset(t, 0, sizeof *t);
    t->ring = (llmsplit__fb_call *)llmsplit__alloc(a, sizeof *t->ring * n);
    t->index = (uint32_t *)llmsplit__alloc(a, sizeof *t->index * slots);
    if (!t->ring || !t->index) {
        llmsplit__free(a, t->ring);
        llmsplit__free(a, t->index);
        memset(t, 0, sizeof *t);
        t->failed = 1;
        return 0;
    }
    memset(t->index, 0, sizeof *t->index * slots);
    t->cap = n;
    t->mask = slots - 1;
    return 1;
}

static void llmsplit__fb_free(llmsplit__fb_table *t, const llmsplit_allocator *a) {
    llmsplit__free(a, t->ring);
    llmsplit__free(a, t->index);
}

/* The index position of ring slot r (which is in the index), or of id when r is UINT32_MAX: the
   position holding it, or -1. */
static int64_t llmsplit__fb_find(const llmsplit__fb_table *t, const uint64_t id[2], uint32_t r) {
    uint32_t i;
    if (!t->cap) return -1;
    i = llmsplit__fb_slot(t, id);
    for (; t->index[i]; i = (i + 1) & t->mask) {
        uint32_t e = t->index[i] - 1;
        if (r != UINT32_MAX ? e == r : t->ring[e].id[0] == id[0] && t->ring[e].id[1] == id[1]) return i;
    }
    return -1;
}

/* Removes index position i, moving later entries of its probe run back into the gap (linear
   probing has no tombstones this way, so lookups stay short however long the client runs). */
static void llmsplit__fb_unindex(llmsplit__fb_table *t, uint32_t i) {
    uint32_t j = i;
    t->index[i] = 0;
    for (;;) {
        uint32_t home;
        j = (j + 1) & t->mask;
        if (!t->index[j]) return;
        home = llmsplit__fb_slot(t, t->ring[t->index[j] - 1].id);
        /* the entry at j may fill the gap at i when its home is not in (i, j] cyclically */
        if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
            t->index[i] = t->index[j];
            t->index[j] = 0;
            i = j;
        }
    }
}

/* Remembers a call; the oldest one goes when the ring is full. The table is made at the first
   call, so a client that never answers one (or a program that never gives feedback, until its
   first call) holds none of its memory. Call with the client's lock. */
static void llmsplit__fb_add(llmsplit__fb_table *t, const llmsplit_allocator *a, const uint64_t id[2], int dep,
                             uint64_t arm) {
    llmsplit__fb_call *e;
    uint32_t i;
    if (!t->cap && (t->failed || !llmsplit__fb_init(t, a))) return;
    e = &t->ring[t->next];
    if (t->count == t->cap) {
        int64_t at = llmsplit__fb_find(t, e->id, t->next);
        if (at >= 0) llmsplit__fb_unindex(t, (uint32_t)at);
    } else {
        t->count++;
    }
    e->id[0] = id[0];
    e->id[1] = id[1];
    e->deployment = dep;
    e->arm = arm;
    for (i = llmsplit__fb_slot(t, e->id); t->index[i]; i = (i + 1) & t->mask) {}
    t->index[i] = t->next + 1;
    t->next = (t->next + 1) % t->cap;
}

static void llmsplit__cfgref_free(llmsplit_client *c, llmsplit__cfgref *ref) {
    int i;
    if (!ref) return;
    for (i = 0; ref->health && i < ref->cfg->num_deployments; i++) llmsplit_health_free(&ref->health[i]);
    for (i = 0; ref->targets && i < ref->cfg->num_deployments; i++) llmsplit__target_free(&ref->targets[i], &c->allocator);
    llmsplit__free(&c->allocator, ref->health);
    llmsplit__free(&c->allocator, ref->group_epoch); /* the block that also holds arm, targets and seen */
    llmsplit_config_free(ref->cfg);
    llmsplit__free(&c->allocator, ref);
}

static llmsplit__cfgref *llmsplit__cfgref_new(llmsplit_client *c, llmsplit_config *cfg, llmsplit_error *err) {
    llmsplit__cfgref *ref = (llmsplit__cfgref *)llmsplit__alloc(&c->allocator, sizeof *ref);
    int i;
    if (!ref) goto nomem;
    ref->cfg = cfg;
    ref->refs = 1;
    cfg->llmsplit__ref = ref;
    ref->seen = NULL;
    ref->group_epoch = NULL;
    ref->arm = NULL;
    ref->targets = NULL;
    ref->health = (llmsplit_health *)llmsplit__alloc(&c->allocator, sizeof *ref->health * (size_t)(cfg->num_deployments + 1));
    if (!ref->health) { llmsplit__free(&c->allocator, ref); goto nomem; }
    /* one block: the epochs of the groups, the arms and targets of the deployments, then the
       availability seen per deployment */
    ref->seen = (unsigned char *)llmsplit__alloc(&c->allocator, sizeof(int64_t) * (size_t)(cfg->num_groups + 1) +
                                                                    sizeof(uint64_t) * (size_t)(cfg->num_deployments + 1) +
                                                                    sizeof(llmsplit__target) * (size_t)cfg->num_deployments +
                                                                    (size_t)cfg->num_deployments + 1);
    if (!ref->seen) { llmsplit__free(&c->allocator, ref->health); llmsplit__free(&c->allocator, ref); goto nomem; }
    ref->group_epoch = (int64_t *)(void *)ref->seen;
    memset(ref->group_epoch, 0, sizeof(int64_t) * (size_t)(cfg->num_groups + 1));
    ref->seen += sizeof(int64_t) * (size_t)(cfg->num_groups + 1);
    ref->arm = (uint64_t *)(void *)ref->seen;
    ref->seen += sizeof(uint64_t) * (size_t)(cfg->num_deployments + 1);
    ref->targets = (llmsplit__target *)(void *)ref->seen;
    memset(ref->targets, 0, sizeof(llmsplit__target) * (size_t)cfg->num_deployments);
    ref->seen += sizeof(llmsplit__target) * (size_t)cfg->num_deployments;
    for (i = 0; i < cfg->num_deployments; i++) ref->arm[i] = llmsplit__arm_hash(&cfg->deployments[i]);
    memset(ref->health, 0, sizeof *ref->health * (size_t)(cfg->num_deployments + 1));
    for (i = 0; i < cfg->num_deployments; i++)
        if (!llmsplit__health_init(&ref->health[i], &cfg->rollback, &c->allocator)) {
            llmsplit__cfgref_free(c, ref);
            llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory for the rollback windows");
            return NULL;
        }
    /* every deployment's route, URL and parameters, once here rather than at every call */
    for (i = 0; i < cfg->num_deployments; i++) {
        const llmsplit_deployment *d = &cfg->deployments[i];
        (void)llmsplit__target_prepare(&ref->targets[i], &c->allocator, d->model, d->api_base, d->api_version,
                                       d->extra_params, NULL);
    }
    return ref;
nomem:
    llmsplit_config_free(cfg);
    llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory");
    return NULL;
}

static llmsplit__cfgref *llmsplit__acquire(llmsplit_client *c) {
    llmsplit__cfgref *ref;
    llmsplit__lock(&c->cur_lock); /* cur is read under its lock (of its own: every call takes it); its count is atomic */
    ref = c->cur;
    __atomic_add_fetch(&ref->refs, 1, __ATOMIC_RELAXED);
    llmsplit__unlock(&c->cur_lock);
    return ref;
}

/* Drops a hold without the lock: the count is atomic, and a config that is no longer cur
   gains no hold (acquire reads cur under the lock), so the last one out frees it. */
static void llmsplit__release(llmsplit_client *c, llmsplit__cfgref *ref) {
    if (__atomic_sub_fetch(&ref->refs, 1, __ATOMIC_ACQ_REL) == 0) llmsplit__cfgref_free(c, ref);
}

/* FNV-1a, 64 bits, with the length mixed in: tells whether a polled config text is the one in
   use. Not a defence against a hostile server, which can send any config it likes anyway. */
static uint64_t llmsplit__text_hash(const char *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 0x100000001b3ull;
    return (h ^ (uint64_t)n) * 0x100000001b3ull;
}

static int llmsplit__same_str(const char *a, const char *b) {
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Two deployments are the same arm when they send to the same place: the group, the model string
   and the api_base. Their health (and a cooldown in progress) carries over a reload. */
static int llmsplit__same_arm(const llmsplit_deployment *a, const llmsplit_deployment *b) {
    return llmsplit__same_str(a->group, b->group) && llmsplit__same_str(a->model, b->model) &&
           llmsplit__same_str(a->api_base, b->api_base);
}

static int llmsplit__same_deployment(const llmsplit_deployment *a, const llmsplit_deployment *b) {
    return llmsplit__same_arm(a, b) && llmsplit__same_str(a->api_key, b->api_key) &&
           llmsplit__same_str(a->api_version, b->api_version) && llmsplit__same_str(a->silent_model, b->silent_model) &&
           llmsplit__same_str(a->extra_params, b->extra_params) && a->weight == b->weight &&
           a->has_weight == b->has_weight && a->timeout_s == b->timeout_s && a->has_costs == b->has_costs &&
           a->input_cost_per_token == b->input_cost_per_token && a->output_cost_per_token == b->output_cost_per_token &&
           a->rpm == b->rpm && a->tpm == b->tpm;
}

/* Whether a new config would change anything a request or a record can see. A text that parses
   to the same config (a comment-free reformat, keys reordered) is no reload. */
static int llmsplit__same_config(const llmsplit_config *a, const llmsplit_config *b) {
    const llmsplit_rollback_settings *x = &a->rollback, *y = &b->rollback;
    int i, j;
    if (a->num_deployments != b->num_deployments || a->num_groups != b->num_groups || a->sticky != b->sticky ||
        a->mirror_sample_rate != b->mirror_sample_rate || a->mirror_threads != b->mirror_threads ||
        a->mirror_queue != b->mirror_queue || a->num_retries != b->num_retries || a->timeout_s != b->timeout_s ||
        a->drain_ms != b->drain_ms || x->window != y->window || x->max_error_rate != y->max_error_rate ||
        x->max_p95_ms != y->max_p95_ms || x->cooldown_s != y->cooldown_s ||
        strcmp(x->feedback_metric, y->feedback_metric) != 0 || x->feedback_min_mean != y->feedback_min_mean ||
        x->feedback_min_count != y->feedback_min_count || x->min_score != y->min_score ||
        !llmsplit__same_str(a->judge.model, b->judge.model) || a->judge.pairs != b->judge.pairs ||
        a->judge.arms != b->judge.arms || !llmsplit__same_str(a->judge.criteria, b->judge.criteria) ||
        a->judge.timeout_s != b->judge.timeout_s ||
        !llmsplit__same_str(a->master_key, b->master_key))
        return 0;
    for (i = 0; i < a->num_deployments; i++)
        if (!llmsplit__same_deployment(&a->deployments[i], &b->deployments[i])) return 0;
    for (i = 0; i < a->num_groups; i++) {
        const llmsplit_group *g = &a->groups[i], *h = &b->groups[i];
        if (strcmp(g->name, h->name) != 0 || g->count != h->count || g->num_fallbacks != h->num_fallbacks) return 0;
        for (j = 0; j < g->count; j++)
            if (g->deployments[j] != h->deployments[j]) return 0;
        for (j = 0; j < g->num_fallbacks; j++)
            if (strcmp(g->fallbacks[j], h->fallbacks[j]) != 0) return 0;
    }
    return 1;
}

/* Carries a deployment's health over a reload: its cooldown always (an arm rolled back stays
   out for the time it was given), its window of results when the window has the same size. */
static void llmsplit__health_carry(llmsplit_health *to, const llmsplit_health *from) {
    to->out = from->out;
    to->out_until_ms = from->out_until_ms;
    to->trips = from->trips;
    to->last_reason = from->last_reason;
    to->last_error_rate = from->last_error_rate;
    to->last_p95_ms = from->last_p95_ms;
    to->last_feedback_mean = from->last_feedback_mean;
    to->last_score_mean = from->last_score_mean;
    if (to->feedback && from->feedback && to->settings.feedback_min_count == from->settings.feedback_min_count &&
        strcmp(to->settings.feedback_metric, from->settings.feedback_metric) == 0) {
        memcpy(to->feedback, from->feedback, (size_t)from->settings.feedback_min_count * sizeof(double));
        to->feedback_count = from->feedback_count;
        to->feedback_next = from->feedback_next;
    }
    if (to->settings.window != from->settings.window || !to->latency_ms || !from->latency_ms) return;
    memcpy(to->latency_ms, from->latency_ms, (size_t)from->settings.window * sizeof(double));
    memcpy(to->failed, from->failed, (size_t)from->settings.window);
    to->count = from->count;
    to->next = from->next;
    to->errors = from->errors;
    if (!to->scores || !from->scores) return;
    memcpy(to->scores, from->scores, (size_t)from->settings.window * sizeof(double));
    to->score_count = from->score_count;
    to->score_next = from->score_next;
}

/* For each deployment of the new config, the same arm in the old one, or -1. The same position
   is tried first: a reload mostly edits a few entries in place. */
static int *llmsplit__arm_map(llmsplit_client *c, const llmsplit_config *to, const llmsplit_config *from) {
    int *map = (int *)llmsplit__alloc(&c->allocator, sizeof(int) * (size_t)(to->num_deployments + 1));
    int i, j;
    if (!map) return NULL;
    for (i = 0; i < to->num_deployments; i++) {
        map[i] = -1;
        if (i < from->num_deployments && llmsplit__same_arm(&to->deployments[i], &from->deployments[i])) {
            map[i] = i;
            continue;
        }
        for (j = 0; j < from->num_deployments && map[i] < 0; j++)
            if (llmsplit__same_arm(&to->deployments[i], &from->deployments[j])) map[i] = j;
    }
    return map;
}

/* Installs a new config; requests already running finish on the old one. Arms that stay keep
   their health windows and cooldowns: a reload (and a poll that fetched the same config) must not
   bring back an arm that was rolled back. A config that changes nothing is dropped: no reload,
   no record. */
static void llmsplit__swap(llmsplit_client *c, llmsplit_config *cfg, uint64_t hash, const char *source) {
    llmsplit_error err;
    llmsplit__cfgref *ref, *old = c->cur; /* only this thread replaces cur */
    llmsplit_record r;
    char reason[400];
    int *map, i;
    c->text_hash = hash;
    c->refused_hash = 0;
    if (llmsplit__same_config(cfg, old->cfg)) {
        llmsplit_config_free(cfg);
        return;
    }
    if (!(ref = llmsplit__cfgref_new(c, cfg, &err))) {
        llmsplit__log(&c->logger, LLMSPLIT_LOG_ERROR, "config: reload from %s failed: %s", source, err.message);
        return;
    }
    map = llmsplit__arm_map(c, cfg, old->cfg);
    llmsplit__lock(&c->lock);
    for (i = 0; map && i < cfg->num_deployments; i++)
        if (map[i] >= 0) llmsplit__health_carry(&ref->health[i], &old->health[map[i]]);
    llmsplit__lock(&c->cur_lock);
    c->cur = ref;
    llmsplit__unlock(&c->cur_lock);
    c->stats.config_reloads++;
    llmsplit__unlock(&c->lock);
    llmsplit__free(&c->allocator, map);
    llmsplit__release(c, old);
    c->drain_ms = cfg->drain_ms; /* read by destroy, after this thread has ended */
    if (cfg->mirror_threads != c->pool_threads || cfg->mirror_queue != c->pool_queue)
        snprintf(reason, sizeof reason,
                 "reloaded from %s; mirror_threads %d and mirror_queue %d take effect at restart (running with %d and %d)",
                 source, cfg->mirror_threads, cfg->mirror_queue, c->pool_threads, c->pool_queue);
    else
        snprintf(reason, sizeof reason, "reloaded from %s", source);
    memset(&r, 0, sizeof r);
    r.event = "config";
    r.reason = reason;
    llmsplit__emit(c, &r);
    llmsplit__log(&c->logger, LLMSPLIT_LOG_INFO, "config: %s", reason);
}

static void llmsplit__config_rejected(llmsplit_client *c, const llmsplit_error *e, uint64_t hash, const char *source) {
    llmsplit_record r;
    char reason[420];
    if (llmsplit__flag_set(&c->stop)) return; /* abandoned by destroy: nothing was wrong with it */
    c->refused_hash = hash;
    llmsplit__lock(&c->lock);
    c->stats.config_errors++;
    llmsplit__unlock(&c->lock);
    snprintf(reason, sizeof reason, "new config from %s refused, the last good one keeps serving: %s", source, e->message);
    llmsplit__log(&c->logger, LLMSPLIT_LOG_ERROR, "%s", reason);
    memset(&r, 0, sizeof r);
    r.event = "config";
    r.reason = reason;
    llmsplit__emit(c, &r);
}

/* A config text read from the file or the URL after the first: parsed and installed unless it is
   the text in use or the one last refused. 1 when the text in use is this one now; 0 when it
   was refused (out_err, may be NULL, gets why). */
static int llmsplit__reload(llmsplit_client *c, const char *text, size_t len, const char *source, llmsplit_error *out_err) {
    uint64_t hash = llmsplit__text_hash(text, len);
    llmsplit_config *cfg;
    llmsplit_error err;
    if (hash == c->text_hash) return 1;
    if (hash == c->refused_hash) {
        if (out_err) llmsplit__set_error(out_err, LLMSPLIT_ERR_CONFIG, "the config from %s was refused; the last good one keeps serving", source);
        return 0;
    }
    cfg = llmsplit__config_parse_named(text, len, NULL, c->yaml, &c->allocator, &c->stop, &err);
    if (cfg) {
        llmsplit__swap(c, cfg, hash, source);
        return 1;
    }
    llmsplit__config_rejected(c, &err, hash, source);
    if (out_err) *out_err = err;
    return 0;
}

static int llmsplit__stat_changed(const struct stat *a, const struct stat *b) {
    return a->st_mtime != b->st_mtime || a->st_size != b->st_size || a->st_ino != b->st_ino ||
#if defined(__linux__) && defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200809L
           a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
#endif
           0;
}

/* Reloads the config file when it changed since it was loaded (or, with force, whatever its
   stat says). 1 when the config in use is the file's; 0 with out_err (may be NULL) filled. */
static int llmsplit__check_file(llmsplit_client *c, int force, llmsplit_error *out_err) {
    struct stat st;
    llmsplit_error err;
    char *text;
    size_t n;
    int ok;
    if (stat(c->config_file, &st) != 0) {
        if (!force) return 1;
    } else if (!llmsplit__stat_changed(&st, &c->file_stat) && !force) {
        return 1;
    } else {
        c->file_stat = st;
    }
    if (!(text = llmsplit__config_read(c->config_file, &c->allocator, &n, &err))) {
        llmsplit__config_rejected(c, &err, 0, c->config_file);
        if (out_err) *out_err = err;
        return 0;
    }
    ok = llmsplit__reload(c, text, n, c->config_file, out_err);
    llmsplit__free(&c->allocator, text);
    return ok;
}

/* A URL as logs and records show it: without user information, query and fragment, which is
   where a signed URL carries its credentials (X-Amz-Credential, X-Amz-Signature, sig=...). */
static void llmsplit__url_for_log(char *out, size_t cap, const char *url) {
    const char *sep = strstr(url, "://"), *host = sep ? sep + 3 : url;
    const char *path = host + strcspn(host, "/?#"), *at;
    for (at = path; at > host && at[-1] != '@'; at--) {}
    llmsplit__utf8_fix_cut(out, cap, snprintf(out, cap, "%.*s%.*s%.*s", (int)(host - url), url, (int)(path - at), at,
                                              (int)strcspn(path, "?#"), path));
}

/* Fetches the config URL; 304 or an error keep the current config. */
static void llmsplit__check_url(llmsplit_client *c, int initial, llmsplit_error *out_err) {
    llmsplit_http_header hd_local[8], *hd = hd_local;
    llmsplit_http_request rq;
    llmsplit_http_response resp;
    llmsplit_error err;
    llmsplit_config *cfg;
    char shown[300];
    llmsplit__url_for_log(shown, sizeof shown, c->config_url);
    memset(&rq, 0, sizeof rq);
    rq.method = "GET";
    rq.url = c->config_url;
    rq.timeout_ms = 30000;
    rq.abort_flag = &c->stop;
    if (c->num_config_headers >= (int)(sizeof hd_local / sizeof hd_local[0]) &&
        !(hd = (llmsplit_http_header *)llmsplit__alloc(&c->allocator, (size_t)(c->num_config_headers + 1) * sizeof *hd))) {
        llmsplit__set_error(&err, LLMSPLIT_ERR_NOMEM, "out of memory");
        if (out_err) *out_err = err;
        return;
    }
    if (c->num_config_headers) memcpy(hd, c->config_headers, (size_t)c->num_config_headers * sizeof *hd);
    rq.headers = hd;
    rq.num_headers = c->num_config_headers;
    if (c->etag[0]) {
        hd[rq.num_headers].name = "If-None-Match";
        hd[rq.num_headers++].value = c->etag;
    }
    if (llmsplit__http_send_to(c->http, &rq, NULL, &resp, &err) != LLMSPLIT_OK || (resp.status != 200 && resp.status != 304)) {
        if (resp.status && !err.code)
            llmsplit__set_error(&err, LLMSPLIT_ERR_CONFIG, "config_url answered HTTP %d%s", resp.status,
                                resp.status == 401 || resp.status == 403
                                    ? (c->num_config_headers ? " (is config_api_key the key it wants?)"
                                                             : " (it wants a key: set config_api_key)")
                                    : "");
        if (hd != hd_local) llmsplit__free(&c->allocator, hd);
        if (out_err) *out_err = err;
        if (!initial && !llmsplit__flag_set(&c->stop))
            llmsplit__log(&c->logger, LLMSPLIT_LOG_WARN, "config: cannot fetch %s: %s", shown, err.message);
        llmsplit_http_response_free(&resp);
        return;
    }
    if (hd != hd_local) llmsplit__free(&c->allocator, hd);
    if (resp.status == 200) {
        size_t n;
        const char *etag = llmsplit_http_get_header(&resp, "etag", &n);
        const char *body = resp.body.data ? resp.body.data : "";
        if (!initial) {
            llmsplit__reload(c, body, resp.body.len, shown, out_err);
        } else if ((cfg = llmsplit__config_parse_named(body, resp.body.len, NULL, c->yaml, &c->allocator, &c->stop, &err)) != NULL) {
            c->text_hash = llmsplit__text_hash(body, resp.body.len);
            c->cur = llmsplit__cfgref_new(c, cfg, out_err);
        } else if (out_err) {
            *out_err = err;
        }
        if (etag && n < sizeof c->etag) {
            memcpy(c->etag, etag, n);
            c->etag[n] = 0;
        }
    }
    llmsplit_http_response_free(&resp);
}

/* The silent side's HTTP client is made from the same desc as the primary's, so whatever its
   making says (the insecure-mode warning) the primary's has just said: once is enough. After
   that its messages pass through. */
static void llmsplit__mirror_http_log(llmsplit_log_level level, const char *message, void *user_data) {
    llmsplit_client *c = (llmsplit_client *)user_data;
    if (!c->mirror_http_making) llmsplit__log(&c->mirror_logger, level, "%s", message);
}

#ifndef LLMSPLIT_NO_THREADS
/* The background watcher: config files and URLs are checked here, never on the request path.
   It sleeps until the next check (destroy wakes it), so an idle client's thread stays asleep. */
static void *llmsplit__watcher_main(void *arg) {
    llmsplit_client *c = (llmsplit_client *)arg;
    int64_t next = llmsplit__now_ms() + c->poll_ms, left;
    while (!llmsplit__flag_set(&c->stop)) {
        pthread_mutex_lock(&c->watch_lock);
        while (!llmsplit__flag_set(&c->stop) && (left = next - llmsplit__now_ms()) > 0)
            llmsplit__cond_wait_ms(&c->watch_cv, &c->watch_lock, c->watch_monotonic, left);
        pthread_mutex_unlock(&c->watch_lock);
        if (llmsplit__flag_set(&c->stop)) break;
        llmsplit__lock(&c->reload_lock);
        if (c->config_file) llmsplit__check_file(c, 0, NULL);
        else if (c->config_url) llmsplit__check_url(c, 0, NULL);
        llmsplit__unlock(&c->reload_lock);
        next = llmsplit__now_ms() + c->poll_ms;
    }
    return NULL;
}
#endif

/* A config is code: it names the hosts requests go to and the environment variables whose values
   go with them ("os.environ/NAME"). Fetched over plain http, anyone on the path could rewrite it
   and collect every secret of the process, so only https, a loopback host (the same machine), or
   a caller who said so. */
static int llmsplit__config_url_ok(const llmsplit_client_desc *d, llmsplit_error *err) {
    llmsplit_url u;
    llmsplit_error uerr;
    if (!llmsplit__url_parse(d->config_url, &u, &uerr)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "config_url: %s", uerr.message);
        return 0;
    }
    if (u.https || strcmp(u.host, "localhost") == 0 || (u.host_is_ip == 4 && strncmp(u.host, "127.", 4) == 0) ||
        (u.host_is_ip == 6 && strcmp(u.host, "::1") == 0))
        return 1;
    if (!d->allow_insecure_config_url) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE,
                            "config_url must be https:// (or name a loopback host): a config over plain http to %.100s "
                            "can be rewritten on the way to send any environment variable to any host; set "
                            "allow_insecure_config_url to accept that", u.host);
        return 0;
    }
    llmsplit__log(&d->logger, LLMSPLIT_LOG_WARN,
                  "config: config_url is plain http to %.100s (allow_insecure_config_url): anyone on the path can "
                  "change the config, and with it where requests and keys go", u.host);
    return 1;
}

/* Copies s with its NUL to p; returns the byte after the NUL. */
static char *llmsplit__copy_z(char *p, const char *s) {
    size_t n = strlen(s) + 1;
    memcpy(p, s, n);
    return p + n;
}

/* config_api_key and config_headers, checked and copied into one block (the headers, then their
   strings). A value may be a key: messages name the header, never its value. */
static int llmsplit__config_headers(llmsplit_client *c, const llmsplit_client_desc *d, llmsplit_error *err) {
    static const char *const owned[] = {"host", "content-length", "connection", "transfer-encoding", "if-none-match"};
    int i, k, n = d->num_config_headers + (d->config_api_key != NULL), at = 0;
    size_t bytes;
    char *p;
    if (d->num_config_headers < 0 || (d->num_config_headers > 0 && !d->config_headers)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: num_config_headers without config_headers");
        return 0;
    }
    if (!n) return 1;
    if (!d->config_url) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: config_api_key and config_headers go with config_url");
        return 0;
    }
    bytes = (size_t)n * sizeof(llmsplit_http_header) + (d->config_api_key ? strlen(d->config_api_key) + 8 : 0);
    for (i = 0; i < d->num_config_headers; i++) {
        const char *name = d->config_headers[i].name, *value = d->config_headers[i].value ? d->config_headers[i].value : "";
        for (k = 0; name && name[k] && llmsplit__tchar((unsigned char)name[k]); k++) {}
        if (!name || !name[0] || name[k]) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: config_headers[%d]: the name must be an HTTP token", i);
            return 0;
        }
        for (k = 0; k < (int)(sizeof owned / sizeof owned[0]); k++)
            if (strcasecmp(name, owned[k]) == 0) {
                llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: config_headers[%d]: %.40s is written by the client", i, name);
                return 0;
            }
        if (d->config_api_key && strcasecmp(name, "authorization") == 0) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: config_headers[%d]: Authorization is config_api_key's", i);
            return 0;
        }
        if (!llmsplit__header_ok(value)) {
            llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: config_headers[%d]: CR or LF in the value of %.40s", i, name);
            return 0;
        }
        bytes += strlen(name) + strlen(value) + 2;
    }
    if (d->config_api_key && (!d->config_api_key[0] || !llmsplit__header_ok(d->config_api_key))) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: config_api_key is empty or has a CR or LF");
        return 0;
    }
    if (!(c->config_headers = (llmsplit_http_header *)llmsplit__alloc(&c->allocator, bytes))) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory");
        return 0;
    }
    p = (char *)(c->config_headers + n);
    if (d->config_api_key) {
        c->config_headers[at].name = "Authorization";
        c->config_headers[at++].value = p;
        memcpy(p, "Bearer ", 7);
        p = llmsplit__copy_z(p + 7, d->config_api_key);
    }
    for (i = 0; i < d->num_config_headers; i++, at++) {
        c->config_headers[at].name = p;
        p = llmsplit__copy_z(p, d->config_headers[i].name);
        c->config_headers[at].value = p;
        p = llmsplit__copy_z(p, d->config_headers[i].value ? d->config_headers[i].value : "");
    }
    c->num_config_headers = n;
    return 1;
}

static llmsplit_client *llmsplit__client_create(const llmsplit_client_desc *desc, const llmsplit__judge_hooks *judge,
                                                llmsplit__yaml_fn yaml, llmsplit_error *err) {
    llmsplit_client_desc d;
    llmsplit_client *c;
    llmsplit_config *cfg = NULL;
    llmsplit_pool_desc pd;
    llmsplit_error local;
    int sources;
    if (!err) err = &local;
    llmsplit__clear_error(err);
    if (desc) d = *desc;
    else memset(&d, 0, sizeof d);
    sources = (d.config_json != NULL) + (d.config_file != NULL) + (d.config_url != NULL);
    if (sources != 1) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: give exactly one of config_json, config_file, config_url");
        return NULL;
    }
    c = (llmsplit_client *)llmsplit__alloc(&d.allocator, sizeof *c);
    if (!c) {
        llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memset(c, 0, sizeof *c);
    c->allocator = d.allocator;
    c->logger = d.logger;
    c->log_fd = -1;
    c->keep_responses = d.keep_responses;
    c->judge = judge;
    c->yaml = yaml;
    c->on_record = d.on_record;
    c->user_data = d.user_data;
    c->poll_ms = d.config_poll_ms > 0 ? d.config_poll_ms : d.config_url ? 5000 : 1000;
    llmsplit__mutex_init(&c->lock);
    llmsplit__mutex_init(&c->log_lock);
    llmsplit__mutex_init(&c->reload_lock);
    llmsplit__mutex_init(&c->cur_lock);
    llmsplit__mutex_init(&c->fb_lock);
    llmsplit_rng_seed(&c->rng, d.seed);
    /* 32 random bits above a 20-bit counter: below 2^53, so every JSON reader keeps it exact */
    c->epoch_base = (int64_t)(llmsplit_rng_next(&c->rng) * 4294967296.0) << 20;
    if (!d.http.allocator.alloc_fn) d.http.allocator = d.allocator;
    if (!d.http.logger.func) d.http.logger = d.logger;
    if (!(c->http = llmsplit__http_create(&d.http, err))) goto fail;
    if (!llmsplit__config_headers(c, &d, err)) goto fail;
    if (d.config_json) {
        cfg = llmsplit__config_parse_named(d.config_json, d.config_len ? d.config_len : strlen(d.config_json), NULL, c->yaml,
                                           &d.allocator, NULL, err);
    } else if (d.config_file) {
        size_t n;
        char *text;
        c->config_file = llmsplit__strdup(&c->allocator, d.config_file);
        stat(d.config_file, &c->file_stat); /* before the read: a change in between is seen later */
        if ((text = llmsplit__config_read(d.config_file, &c->allocator, &n, err)) != NULL) {
            c->text_hash = llmsplit__text_hash(text, n);
            cfg = llmsplit__config_parse_named(text, n, d.config_file, c->yaml, &d.allocator, NULL, err);
            llmsplit__free(&c->allocator, text);
        }
    } else {
        if (!llmsplit__config_url_ok(&d, err)) goto fail;
        c->config_url = llmsplit__strdup(&c->allocator, d.config_url);
        llmsplit__check_url(c, 1, err);
        if (!c->cur) goto fail;
    }
    if (!c->cur) {
        if (!cfg) goto fail;
        if (!(c->cur = llmsplit__cfgref_new(c, cfg, err))) goto fail;
    }
    if (d.log_path) {
        if (!(c->log_path = llmsplit__strdup(&c->allocator, d.log_path))) {
            llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory");
            goto fail;
        }
        if (llmsplit__log_reopen(c, err) != LLMSPLIT_OK) goto fail;
        c->next_log_check_ms = llmsplit__now_ms() + 1000;
#ifndef LLMSPLIT_NO_THREADS
        if (d.log_async) {
            pthread_mutex_init(&c->logq_lock, NULL);
            (void)llmsplit__cond_init(&c->logq_more, &c->logq_monotonic);
            pthread_cond_init(&c->logq_room, NULL);
            llmsplit_buf_init(&c->logq, &c->allocator);
            if (pthread_create(&c->logq_thread, NULL, llmsplit__logq_main, c) != 0) {
                pthread_cond_destroy(&c->logq_room);
                pthread_cond_destroy(&c->logq_more);
                pthread_mutex_destroy(&c->logq_lock);
                llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "client: cannot start the log writer thread");
                goto fail;
            }
            c->logq_running = 1;
        }
#endif
    }
    /* the silent side gets its own HTTP client: its own pool of connections and TLS sessions */
    c->mirror_logger = d.http.logger;
    d.http.logger.func = llmsplit__mirror_http_log;
    d.http.logger.user_data = c;
    c->mirror_http_making = 1;
    c->mirror_http = llmsplit__http_create(&d.http, err);
    c->mirror_http_making = 0; /* before the pool's threads start: they see it */
    if (!c->mirror_http) goto fail;
    memset(&pd, 0, sizeof pd);
    pd.threads = c->pool_threads = c->cur->cfg->mirror_threads;
    pd.queue = c->pool_queue = c->cur->cfg->mirror_queue;
    pd.allocator = d.allocator;
    pd.logger = d.logger;
    c->drain_ms = c->cur->cfg->drain_ms;
    if (!(c->pool = llmsplit__pool_create(&pd, err))) goto fail;
#ifndef LLMSPLIT_NO_THREADS
    if (c->config_file || c->config_url) {
        pthread_mutex_init(&c->watch_lock, NULL);
        (void)llmsplit__cond_init(&c->watch_cv, &c->watch_monotonic);
        if (pthread_create(&c->watcher, NULL, llmsplit__watcher_main, c) != 0) {
            pthread_cond_destroy(&c->watch_cv);
            pthread_mutex_destroy(&c->watch_lock);
            llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "client: cannot start the config watcher thread");
            goto fail;
        }
        c->watcher_running = 1;
    }
#else
    if (c->config_url) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: config_url needs threads (built with LLMSPLIT_NO_THREADS)");
        goto fail;
    }
#endif
    return c;
fail:
    llmsplit_client_destroy(c);
    return NULL;
}

LLMSPLIT_API llmsplit_status llmsplit_client_create(const llmsplit_client_desc *desc, llmsplit_client **out,
                                                    llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    if (!out) return llmsplit__no_out(err, "client");
    *out = llmsplit__client_create(desc, llmsplit__judge_on(), LLMSPLIT__YAML, e);
    return llmsplit__made(*out, e);
}

LLMSPLIT_API void llmsplit_client_destroy(llmsplit_client *c) {
    llmsplit_pool_stats ps;
    if (!c) return;
#if defined(__GNUC__) || defined(__clang__)
    __atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
#else
    c->stop = 1;
#endif
#ifndef LLMSPLIT_NO_THREADS
    if (c->watcher_running) {
        pthread_mutex_lock(&c->watch_lock); /* (stop is set: the watcher sees it under this lock) */
        pthread_cond_signal(&c->watch_cv);
        pthread_mutex_unlock(&c->watch_lock);
        pthread_join(c->watcher, NULL);
        pthread_cond_destroy(&c->watch_cv);
        pthread_mutex_destroy(&c->watch_lock);
    }
#endif
    if (c->pool) {
        memset(&ps, 0, sizeof ps);
        llmsplit__pool_shutdown(c->pool, c->drain_ms, &ps);
        c->stats.mirror_abandoned_at_shutdown += ps.abandoned_at_shutdown;
    }
    llmsplit_http_destroy(c->mirror_http);
    llmsplit_http_destroy(c->http);
    if (c->cur) llmsplit__release(c, c->cur);
#ifndef LLMSPLIT_NO_THREADS
    if (c->logq_running) { /* the last records reach the file */
        pthread_mutex_lock(&c->logq_lock);
        c->logq_stop = 1;
        pthread_cond_signal(&c->logq_more);
        pthread_cond_broadcast(&c->logq_room);
        pthread_mutex_unlock(&c->logq_lock);
        pthread_join(c->logq_thread, NULL);
        llmsplit_buf_free(&c->logq);
        pthread_cond_destroy(&c->logq_room);
        pthread_cond_destroy(&c->logq_more);
        pthread_mutex_destroy(&c->logq_lock);
    }
#endif
    if (c->log_fd >= 0) close(c->log_fd);
    llmsplit__free(&c->allocator, c->log_path);
    llmsplit__free(&c->allocator, c->config_file);
    llmsplit__free(&c->allocator, c->config_url);
    llmsplit__free(&c->allocator, c->config_headers);
    llmsplit__fb_free(&c->fb, &c->allocator);
    llmsplit__mutex_destroy(&c->lock);
    llmsplit__mutex_destroy(&c->log_lock);
    llmsplit__mutex_destroy(&c->reload_lock);
    llmsplit__mutex_destroy(&c->cur_lock);
    llmsplit__mutex_destroy(&c->fb_lock);
    {
        llmsplit_allocator a = c->allocator;
        llmsplit__free(&a, c);
    }
}

LLMSPLIT_API llmsplit_client_stats llmsplit_client_get_stats(llmsplit_client *c) {
    llmsplit_client_stats s;
    llmsplit__lock(&c->lock);
    s = c->stats;
    llmsplit__unlock(&c->lock);
    /* (these three are counted atomically, outside the lock) */
    s.errors = __atomic_load_n(&c->n_errors, __ATOMIC_ACQUIRE);
    s.fallbacks = __atomic_load_n(&c->n_fallbacks, __ATOMIC_ACQUIRE);
    s.requests = __atomic_load_n(&c->n_requests, __ATOMIC_RELAXED);
    return s;
}

LLMSPLIT_API llmsplit_status llmsplit_client_reload(llmsplit_client *c, llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    int ok = 1;
    memset(e, 0, sizeof *e);
    if (!c || (!c->config_file && !c->config_url)) {
        llmsplit__set_error(e, LLMSPLIT_ERR_USAGE, "reload: %s", c ? "the client was given its config as text" : "missing client");
        return LLMSPLIT_ERR_USAGE;
    }
    llmsplit__lock(&c->reload_lock);
    c->refused_hash = 0; /* asked for: a text refused before is read and refused again, with its reason */
    if (c->config_file) {
        ok = llmsplit__check_file(c, 1, e);
    } else {
        llmsplit__check_url(c, 0, e);
        ok = e->code == LLMSPLIT_OK;
    }
    llmsplit__unlock(&c->reload_lock);
    if (ok) return LLMSPLIT_OK;
    if (e->code != LLMSPLIT_ERR_NOMEM) e->code = LLMSPLIT_ERR_CONFIG;
    return e->code;
}

LLMSPLIT_API llmsplit_status llmsplit_client_reload_text(llmsplit_client *c, const char *text, size_t len,
                                                         const char *source, llmsplit_error *err) {
    llmsplit_error local, *e = llmsplit__err_or(err, &local);
    int ok;
    memset(e, 0, sizeof *e);
    if (!c || (!text && len)) {
        llmsplit__set_error(e, LLMSPLIT_ERR_USAGE, "reload: %s", c ? "missing text" : "missing client");
        return LLMSPLIT_ERR_USAGE;
    }
    llmsplit__lock(&c->reload_lock);
    c->refused_hash = 0; /* asked for: a text refused before is parsed and refused again, with its reason */
    ok = llmsplit__reload(c, text ? text : "", len, source ? source : "text", e);
    llmsplit__unlock(&c->reload_lock);
    if (ok) return LLMSPLIT_OK;
    if (e->code != LLMSPLIT_ERR_NOMEM) e->code = LLMSPLIT_ERR_CONFIG;
    return e->code;
}

LLMSPLIT_API const llmsplit_config *llmsplit_client_config_acquire(llmsplit_client *c) {
    return c ? llmsplit__acquire(c)->cfg : NULL;
}

LLMSPLIT_API void llmsplit_client_config_release(llmsplit_client *c, const llmsplit_config *cfg) {
    if (c && cfg) llmsplit__release(c, (llmsplit__cfgref *)cfg->llmsplit__ref);
}

LLMSPLIT_API llmsplit_status llmsplit_client_wait_mirrors(llmsplit_client *c, int timeout_ms) {
    int64_t until = llmsplit__now_ms() + timeout_ms;
    if (!c) return LLMSPLIT_ERR_USAGE;
    for (;;) {
        llmsplit_pool_stats ps = llmsplit_pool_get_stats(c->pool);
        struct timespec ts = {0, 5 * 1000000L};
        if (ps.queued == 0 && ps.running == 0) return LLMSPLIT_OK;
        if (timeout_ms >= 0 && llmsplit__now_ms() >= until) return LLMSPLIT_ERR_BUSY;
        nanosleep(&ts, NULL);
    }
}

/* The deployment's parameters with the request's on top (the request wins a shared key). */
static char *llmsplit__merge_params(const llmsplit_allocator *a, const llmsplit_json_val *base_val, const char *base,
                                    const char *over) {
    llmsplit_json_doc *bd = !base_val && base ? llmsplit__parse(a, base, strlen(base), NULL) : NULL;
    llmsplit_json_doc *od = over ? llmsplit__parse(a, over, strlen(over), NULL) : NULL;
    const llmsplit_json_val *k, *v, *bv = base_val ? base_val : llmsplit_json_root(bd);
    llmsplit_json_iter it;
    llmsplit_json_writer w;
    char *out = NULL;
    size_t n;
    if ((!bv || !llmsplit_json_len(bv)) && !od) {
        llmsplit_json_free(bd);
        return NULL;
    }
    if (over && !od) { /* invalid request params: pass them on so the provider layer says why */
        llmsplit_json_free(bd);
        return llmsplit__strdup(a, over);
    }
    llmsplit_json_writer_init(&w, a);
    llmsplit_json_write_begin_object(&w);
    it = llmsplit_json_iterate(bv);
    while (llmsplit_json_next(&it, &k, &v)) {
        const char *ks = llmsplit_json_str(k, &n);
        if (od && llmsplit_json_getn(llmsplit_json_root(od), ks, n)) continue;
        llmsplit_json_write_key(&w, ks, n);
        llmsplit_json_write_value(&w, v);
    }
    it = llmsplit_json_iterate(llmsplit_json_root(od));
    while (llmsplit_json_next(&it, &k, &v)) {
        const char *ks = llmsplit_json_str(k, &n);
        llmsplit_json_write_key(&w, ks, n);
        llmsplit_json_write_value(&w, v);
    }
    llmsplit_json_write_end_object(&w);
    if (llmsplit__w_result(&w, &n)) out = (char *)llmsplit__dup(a, w.buf.data, n + 1);
    else if (od && llmsplit_json_type_of(llmsplit_json_root(od)) != LLMSPLIT_JSON_OBJECT) out = llmsplit__strdup(a, over);
    llmsplit_json_writer_free(&w);
    llmsplit_json_free(bd);
    llmsplit_json_free(od);
    return out;
}

/* llmsplit_price, remembered in the deployment's target (t, may be NULL) for the first model name
   its answers give: a deployment's answers name one model, and the table is not read per call. */
static int llmsplit__price_of(llmsplit__target *t, const char *model, double *in, double *out) {
    int known, expect = 0;
    if (LLMSPLIT__SMALL) t = NULL; /* -Os: the table each time */
    if (t && __atomic_load_n(&t->price_state, __ATOMIC_ACQUIRE) == 2 && strcmp(t->price_model, model) == 0) {
        *in = t->price_in;
        *out = t->price_out;
        return t->price_known;
    }
    known = llmsplit_price(model, in, out);
    if (t && strlen(model) < sizeof t->price_model &&
        __atomic_compare_exchange_n(&t->price_state, &expect, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        strcpy(t->price_model, model);
        t->price_in = *in;
        t->price_out = *out;
        t->price_known = known;
        __atomic_store_n(&t->price_state, 2, __ATOMIC_RELEASE);
    }
    return known;
}

static double llmsplit__cost(const llmsplit_deployment *dep, const llmsplit_chat_response *r, llmsplit__target *t) {
    double in = 0, out = 0;
    if (r->prompt_tokens < 0 && r->completion_tokens < 0) return -1;
    /* a count no call reaches is a server's garbage, not a price to report */
    if (r->prompt_tokens > 1000000000000 || r->completion_tokens > 1000000000000) return -1;
    if (dep && dep->has_costs) {
        in = dep->input_cost_per_token;
        out = dep->output_cost_per_token;
    } else if (!llmsplit__price_of(t, r->model, &in, &out)) {
        return -1;
    }
    return (double)(r->prompt_tokens > 0 ? r->prompt_tokens : 0) * in +
           (double)(r->completion_tokens > 0 ? r->completion_tokens : 0) * out;
}

/* The outcome half of a call record, the same for primary and silent calls: what the answer
   (or the failure) says. The caller has filled in who was called (role, ids, group, model,
   deployment, sticky); the model becomes the name the provider reports when it reports one. The
   record points into resp and err, so it is emitted before they are freed. */
static void llmsplit__record_outcome(const llmsplit_client *c, llmsplit_record *r, const llmsplit_chat_response *resp,
                                     llmsplit_status e, const llmsplit_error *err, double cost_usd) {
    r->event = "call";
    if (resp->model[0]) r->model = resp->model;
    r->provider = llmsplit_provider_name(resp->provider);
    r->ok = e == LLMSPLIT_OK;
    r->code = e;
    r->http_status = resp->http_status;
    r->error = err->message;
    r->latency_ms = resp->latency_ms;
    r->ttft_ms = resp->ttft_ms;
    r->prompt_tokens = resp->prompt_tokens;
    r->completion_tokens = resp->completion_tokens;
    r->cost_usd = cost_usd;
    r->finish_reason = resp->finish_reason;
    if (c->keep_responses && r->ok) {
        r->response = resp->text.data ? resp->text.data : "";
        r->response_len = resp->text.len;
    }
}

/* A mirrored pair the judge compares: the first of its two answers (primary and silent, in
   either order) waits here for the second. Shared by the primary's call and the silent task. */
struct llmsplit__pair {
    int in;                       /* answers in: 0 or 1 (the second one frees the pair) */
    int dead;                     /* no judgement: the first side failed or its text was not held */
    char *held;                   /* the first answer's text, NUL, its model, NUL */
    size_t len;                   /* bytes of that text (counted in the client's pairs_held) */
};

/* What the judge is asked about: the conversation and one answer (a score) or two (a pair: the
   primary's, then the silent one's), with what the records say of them. */
typedef struct llmsplit__judging {
    const llmsplit_message *messages;
    int num_messages;
    int pair;                     /* 1: two answers */
    const char *text[2], *model[2];
    size_t len[2];
    const char *id;               /* the pair's pair_id, or the scored call's request_id */
    const char *group;            /* the scored call's group, deployment and arm */
    int deployment;
    uint64_t arm;
} llmsplit__judging;

/* A silent call: everything copied at enqueue, so the caller may free its request at once. */
struct llmsplit__mirror {
    llmsplit_client *client;
    llmsplit_message *messages;
    int num_messages;
    const char *model, *api_key, *api_base, *api_version, *params, *group;
    int deployment, stream, timeout_ms, sticky;
    double in_cost, out_cost;
    int has_costs;
    char pair_id[40];
    llmsplit__pair *pair;         /* the judge compares this pair; NULL: not judged */
};

static void llmsplit__mirror_free(llmsplit__mirror *m) {
    llmsplit_allocator a = m->client->allocator;
    llmsplit__free(&a, m);
}

/* Copies n bytes of s (NULL stays NULL) to *p, NUL-terminated, and moves *p past it. */
static const char *llmsplit__put(char **p, const char *s, size_t n) {
    char *d = *p;
    if (!s) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    *p += n + 1;
    return d;
}

/* A task for the pool in one block: head bytes (its struct, zeroed), a copy of the nm messages
   (in *mout), then n strings: strs[i] (NULL stays NULL) of lens[i] bytes ((size_t)-1: strlen)
   is replaced by its copy. */
static void *llmsplit__task_new(llmsplit_client *c, size_t head, const llmsplit_message *msgs, int nm,
                                llmsplit_message **mout, const char **strs, size_t *lens, int n) {
    /* a message's strings: content (content_len bytes) first, then the NUL-terminated ones */
    static const size_t field[6] = {offsetof(llmsplit_message, content), offsetof(llmsplit_message, role),
                                    offsetof(llmsplit_message, content_json), offsetof(llmsplit_message, tool_calls_json),
                                    offsetof(llmsplit_message, tool_call_id), offsetof(llmsplit_message, name)};
    size_t fixed = head + sizeof(llmsplit_message) * (size_t)nm, total = fixed;
    llmsplit_message *cm = NULL;
    char *t = NULL, *p = NULL;
    int i, k, pass;
    for (pass = 0; pass < 2; pass++) { /* the size, then the copies */
        if (pass) {
            if (!(t = (char *)llmsplit__alloc(&c->allocator, total))) return NULL;
            memset(t, 0, fixed);
            cm = (llmsplit_message *)(void *)(t + head);
            p = t + fixed;
        }
        for (i = 0; i < n; i++) {
            if (strs[i] && lens[i] == (size_t)-1) lens[i] = strlen(strs[i]);
            if (pass) strs[i] = llmsplit__put(&p, strs[i], lens[i]);
            else total += strs[i] ? lens[i] + 1 : 0;
        }
        for (i = 0; i < nm; i++)
            for (k = 0; k < 6; k++) {
                const char *src = *(const char *const *)(const void *)((const char *)&msgs[i] + field[k]);
                size_t len = !src ? 0 : k ? strlen(src) : llmsplit__content_len(&msgs[i]);
                if (!pass) {
                    total += src ? len + 1 : 0;
                    continue;
                }
                *(const char **)(void *)((char *)&cm[i] + field[k]) = llmsplit__put(&p, src, len);
                if (!k) cm[i].content_len = len;
            }
    }
    *mout = cm;
    return t;
}

static llmsplit__mirror *llmsplit__mirror_new(llmsplit_client *c, const llmsplit_request *req, const llmsplit_deployment *dep,
                                              const char *model_string, const char *group, const char *params, double timeout_s) {
    const char *strs[6];
    size_t lens[6] = {(size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1, (size_t)-1};
    llmsplit_message *msgs;
    llmsplit__mirror *m;
    strs[0] = model_string;
    strs[1] = dep ? dep->api_key : NULL;
    strs[2] = dep ? dep->api_base : NULL;
    strs[3] = dep ? dep->api_version : NULL;
    strs[4] = params;
    strs[5] = group;
    m = (llmsplit__mirror *)llmsplit__task_new(c, sizeof *m, req->messages, req->num_messages, &msgs, strs, lens, 6);
    if (!m) return NULL;
    m->client = c;
    m->messages = msgs;
    m->num_messages = req->num_messages;
    m->model = strs[0];
    m->api_key = strs[1];
    m->api_base = strs[2];
    m->api_version = strs[3];
    m->params = strs[4];
    m->group = strs[5];
    m->deployment = dep ? dep->index : -1;
    m->stream = req->stream;
    m->timeout_ms = (int)llmsplit__clamp_to_int((dep && dep->timeout_s > 0 ? dep->timeout_s : timeout_s) * 1000, 0, INT_MAX);
    if (dep && dep->has_costs) {
        m->has_costs = 1;
        m->in_cost = dep->input_cost_per_token;
        m->out_cost = dep->output_cost_per_token;
    }
    return m;
}

/* A silent task that never ran, or was cut short at shutdown: its pair (if judged) loses a side. */
static void llmsplit__mirror_drop(void *arg) {
    llmsplit__mirror *m = (llmsplit__mirror *)arg;
    if (m->pair) m->client->judge->silent(m, 0, NULL, 0, NULL, NULL);
    /* the pool counts abandoned tasks; the client reads its final stats */
    llmsplit__mirror_free(m);
}

static void llmsplit__mirror_run(void *arg, const volatile int *abort_flag) {
    llmsplit__mirror *m = (llmsplit__mirror *)arg;
    llmsplit_client *c = m->client;
    llmsplit_chat_request rq;
    llmsplit_chat_response resp;
    llmsplit_error err;
    llmsplit_record r;
    llmsplit_deployment costs;
    llmsplit_status e;
    uint64_t id_bits[2];
    memset(&rq, 0, sizeof rq);
    rq.model = m->model;
    rq.messages = m->messages;
    rq.num_messages = m->num_messages;
    rq.params_json = m->params;
    rq.stream = m->stream; /* a streamed primary is mirrored streamed, so ttft compares */
    rq.api_key = m->api_key;
    rq.api_base = m->api_base;
    rq.api_version = m->api_version;
    rq.timeout_ms = m->timeout_ms;
    rq.num_retries = 0; /* a silent call is never retried */
    rq.keep_raw = 0;
    rq.abort_flag = abort_flag;
    e = llmsplit__chat_call(c->mirror_http, &rq, NULL, NULL, &resp, &err);
    if (e != LLMSPLIT_OK && llmsplit_pool_aborting(abort_flag)) {
        /* cut short by shutdown: the pool counts it as abandoned, so no failure is recorded */
        llmsplit_chat_response_free(&resp);
        llmsplit__mirror_drop(m);
        return;
    }
    memset(&r, 0, sizeof r);
    memset(&costs, 0, sizeof costs);
    costs.has_costs = m->has_costs;
    costs.input_cost_per_token = m->in_cost;
    costs.output_cost_per_token = m->out_cost;
    llmsplit__new_id(c, r.request_id, id_bits);
    llmsplit__copy(r.pair_id, sizeof r.pair_id, m->pair_id);
    r.role = "silent";
    r.is_silent_experiment = 1;
    r.group = m->group;
    r.model = m->model;
    r.deployment = m->deployment;
    r.sticky = m->sticky;
    llmsplit__record_outcome(c, &r, &resp, e, &err, e == LLMSPLIT_OK ? llmsplit__cost(&costs, &resp, NULL) : -1);
    llmsplit__emit(c, &r);
    llmsplit__lock(&c->lock);
    if (r.ok) c->stats.mirror_completed++;
    else c->stats.mirror_failed++;
    llmsplit__unlock(&c->lock);
    if (m->pair) c->judge->silent(m, r.ok, resp.text.data, resp.text.len, r.model, abort_flag);
    llmsplit_chat_response_free(&resp);
    llmsplit__mirror_free(m);
}

/* Writes the "split" record of a group's new epoch: each arm's share of the traffic as the picker
   sees it now, that is its weight if it is available, renormalised (and the configured weights
   when no weighted arm is available, as the picker then ignores availability). */
static void llmsplit__split_record(llmsplit_client *c, const llmsplit__cfgref *ref, const llmsplit_group *g,
                                   const double *w, const unsigned char *avail, int64_t epoch) {
    llmsplit_json_writer wr;
    llmsplit_record r;
    double sum = 0.0, live = 0.0;
    int i, use_avail;
    for (i = 0; i < g->count; i++) {
        sum += w[i];
        if (avail[i]) live += w[i];
    }
    use_avail = live > 0.0;
    llmsplit_json_writer_init(&wr, &c->allocator);
    llmsplit_json_write_begin_object(&wr);
    for (i = 0; i < g->count; i++) {
        const llmsplit_deployment *d = &ref->cfg->deployments[g->deployments[i]];
        llmsplit_route route;
        char arm[300];
        int n;
        /* the arm as records name it: the name sent upstream and the deployment's index */
        if (llmsplit_route_model(d->model, d->api_base, d->api_version, &route, NULL) != LLMSPLIT_OK)
            llmsplit__copy(route.model, sizeof route.model, d->model);
        n = snprintf(arm, sizeof arm, "%.*s #%d", llmsplit__fit(route.model, 256), route.model, g->deployments[i]);
        llmsplit_json_write_key(&wr, arm, n > 0 && (size_t)n < sizeof arm ? (size_t)n : strlen(arm));
        llmsplit_json_write_double(&wr, use_avail ? (avail[i] ? w[i] / live : 0.0) : (sum > 0.0 ? w[i] / sum : 0.0));
    }
    llmsplit_json_write_end_object(&wr);
    memset(&r, 0, sizeof r);
    r.event = "split";
    r.group = g->name;
    r.split_epoch = epoch;
    r.weights_json = llmsplit__w_result(&wr, NULL);
    if (r.weights_json) llmsplit__emit(c, &r);
    else llmsplit__log(&c->logger, LLMSPLIT_LOG_ERROR, "records: out of memory; a split record was lost");
    llmsplit_json_writer_free(&wr);
}

/* Picks an arm of a group for this request. Returns the deployment index, -1 when the weights
   are unusable. With epoch (primary picks), also the split epoch the pick belongs to: when the
   group's effective weights are not the ones of its last split record (a new config, an arm
   rolled back or back), a new epoch begins and its record is written before the call's. */
static int llmsplit__pick_in(llmsplit_client *c, llmsplit__cfgref *ref, const llmsplit_group *g, const char *key,
                             int *sticky, int64_t *epoch) {
    double w_local[32], *w = w_local;
    unsigned char a_local[32], *avail = a_local;
    int i, n = g->count, arm, gi = (int)(g - ref->cfg->groups), fresh = 0;
    int64_t now = llmsplit__now_ms();
    size_t kl = key ? strlen(key) : 0;
    *sticky = ref->cfg->sticky && kl > 0;
    if (n > 32) { /* large groups are rare: only they pay for an allocation */
        w = (double *)llmsplit__alloc(&c->allocator, (sizeof *w + 1) * (size_t)n);
        if (!w) return -1;
        avail = (unsigned char *)(w + n);
    }
    llmsplit__lock(&c->lock);
    for (i = 0; i < n; i++) {
        const llmsplit_deployment *d = &ref->cfg->deployments[g->deployments[i]];
        w[i] = d->has_weight ? d->weight : 1.0;
        avail[i] = (unsigned char)llmsplit_health_available(&ref->health[g->deployments[i]], now);
    }
    if (epoch) {
        fresh = ref->group_epoch[gi] == 0;
        for (i = 0; i < n && !fresh; i++) fresh = ref->seen[g->deployments[i]] != avail[i];
        if (fresh) {
            for (i = 0; i < n; i++) ref->seen[g->deployments[i]] = avail[i];
            ref->group_epoch[gi] = c->epoch_base + ++c->epochs;
        }
        *epoch = ref->group_epoch[gi];
    }
    llmsplit__unlock(&c->lock);
    if (fresh) llmsplit__split_record(c, ref, g, w, avail, *epoch);
    arm = llmsplit__pick(w, avail, n, *sticky ? key : NULL, *sticky ? kl : 0, &c->rng);
    if (w != w_local) llmsplit__free(&c->allocator, w);
    return arm < 0 ? -1 : g->deployments[arm];
}

/* The rollback record of a deployment whose health window just tripped. */
static void llmsplit__rollback_emit(llmsplit_client *c, llmsplit__cfgref *ref, int dep, const char *reason) {
    llmsplit_record r;
    memset(&r, 0, sizeof r);
    r.event = "rollback";
    r.group = ref->cfg->deployments[dep].group;
    r.model = ref->cfg->deployments[dep].model;
    r.deployment = dep;
    r.reason = reason;
    r.cooldown_s = ref->cfg->rollback.cooldown_s;
    llmsplit__emit(c, &r);
    llmsplit__log(&c->logger, LLMSPLIT_LOG_WARN, "rollback: %s in group %s is out for %.0f s: %s", r.model, r.group,
                  r.cooldown_s, reason);
}

/* Records a primary result in its deployment's health window; a trip writes a rollback record. */
/* A call its caller abandoned (abort flag) is no result of the arm's: it is not recorded. */
static void llmsplit__health(llmsplit_client *c, llmsplit__cfgref *ref, int dep, int ok, double latency_ms,
                             const volatile int *abort_flag) {
    llmsplit_health *h = &ref->health[dep];
    char reason[200];
    int tripped;
    if (!ok && llmsplit__flag_set(abort_flag)) return;
    if (h->settings.window <= 0 || !h->latency_ms) return; /* rollback is off: set when made, never changed */
    llmsplit__lock(&c->lock);
    tripped = llmsplit_health_record(h, ok, latency_ms, llmsplit__now_ms());
    if (tripped) {
        c->stats.rollbacks++;
        if (h->last_reason & LLMSPLIT_ROLLBACK_ERROR_RATE)
            snprintf(reason, sizeof reason, "error rate %.2f > %.2f over %d calls", h->last_error_rate,
                     h->settings.max_error_rate, h->settings.window);
        else
            snprintf(reason, sizeof reason, "p95 latency %.1f ms > %.1f ms over %d calls", h->last_p95_ms,
                     h->settings.max_p95_ms, h->settings.window);
    }
    llmsplit__unlock(&c->lock);
    if (tripped) llmsplit__rollback_emit(c, ref, dep, reason);
}

/* An arm in the config in use: at index dep when it is still there, else wherever a reload
   moved it; -1 when it went. */
static int llmsplit__arm_in(const llmsplit__cfgref *ref, int dep, uint64_t arm) {
    int i;
    if (dep >= 0 && dep < ref->cfg->num_deployments && ref->arm[dep] == arm) return dep;
    for (i = 0; i < ref->cfg->num_deployments; i++)
        if (ref->arm[i] == arm) return i;
    return -1;
}

LLMSPLIT_API llmsplit_status llmsplit_client_feedback(llmsplit_client *c, const char *request_id, const char *metric,
                                                      double value, llmsplit_error *err) {
    llmsplit__cfgref *ref;
    llmsplit_record r;
    llmsplit_route route;
    uint64_t id[2];
    char reason[200];
    int dep = -1, tripped = 0;
    llmsplit__clear_error(err);
    if (!c || !request_id || !request_id[0]) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "feedback: needs a client and a request_id");
        return LLMSPLIT_ERR_USAGE;
    }
    if (!llmsplit__metric_ok(metric)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "feedback: the metric must be a name of 1..64 characters A-Z a-z 0-9 _ . -");
        return LLMSPLIT_ERR_USAGE;
    }
    if (!llmsplit__finite(value)) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "feedback: the value must be a finite number");
        return LLMSPLIT_ERR_USAGE;
    }
    memset(&r, 0, sizeof r);
    r.event = "feedback";
    r.metric = metric;
    r.value = value;
    r.deployment = -1;
    llmsplit__copy(r.request_id, sizeof r.request_id, request_id);
    ref = llmsplit__acquire(c);
    llmsplit__lock(&c->fb_lock);
    if (llmsplit__fb_id(request_id, id)) {
        int64_t at = llmsplit__fb_find(&c->fb, id, UINT32_MAX);
        if (at >= 0) {
            const llmsplit__fb_call *e = &c->fb.ring[c->fb.index[at] - 1];
            dep = llmsplit__arm_in(ref, e->deployment, e->arm);
        }
    }
    llmsplit__unlock(&c->fb_lock);
    llmsplit__lock(&c->lock);
    if (dep >= 0 && ref->cfg->rollback.feedback_min_count > 0 && strcmp(metric, ref->cfg->rollback.feedback_metric) == 0) {
        llmsplit_health *h = &ref->health[dep];
        if ((tripped = llmsplit_health_feedback(h, value, llmsplit__now_ms())) != 0) {
            c->stats.rollbacks++;
            snprintf(reason, sizeof reason, "feedback %s mean %.3g < %.3g over %d calls", metric, h->last_feedback_mean,
                     h->settings.feedback_min_mean, h->settings.feedback_min_count);
        }
    }
    llmsplit__unlock(&c->lock);
    if (dep >= 0) {
        /* the names as the call record wrote them: the model sent upstream */
        const llmsplit_deployment *d = &ref->cfg->deployments[dep];
        r.group = d->group;
        r.deployment = dep;
        r.model = llmsplit_route_model(d->model, d->api_base, d->api_version, &route, NULL) == LLMSPLIT_OK ? route.model
                                                                                                          : d->model;
    }
    llmsplit__emit(c, &r);
    if (tripped) llmsplit__rollback_emit(c, ref, dep, reason);
    llmsplit__release(c, ref);
    return LLMSPLIT_OK;
}

/* --- the judge ------------------------------------------------------------------------------- */

/* The judge's instructions. The first line marks a judge request (a mock provider answers it
   as a judge); %s is the config's criteria. Nothing in a judge request names a model or a
   deployment: the answers are A and B, and each pair is judged in both orders. */
static const char llmsplit__judge_pair_prompt[] =
    "[llmsplit judge: pairwise]\nYou are an impartial judge. Two AI assistants, A and B, each answered the last "
    "message of the conversation below. Decide which answer is better by these criteria: %s. Judge the content "
    "alone: the order of the answers, their length and any names must not sway you. Reply with only a JSON "
    "object: {\"winner\": \"A\"}, {\"winner\": \"B\"} or {\"winner\": \"tie\"}.";
static const char llmsplit__judge_score_prompt[] =
    "[llmsplit judge: score]\nYou are an impartial judge. An AI assistant answered the last message of the "
    "conversation below. Rate the answer by these criteria: %s, from 1 (useless) to 10 (excellent). Reply with "
    "only a JSON object: {\"score\": N}, N a whole number from 1 to 10.";

static void llmsplit__buf_str(llmsplit_buf *b, const char *s) { llmsplit_buf_append(b, s, strlen(s)); }

/* The judge's user message: the conversation, then the answers ("[Answer A]" ... or "[Answer]"). */
static void llmsplit__judge_text(llmsplit_buf *b, const llmsplit__judging *j, int swap) {
    int i;
    b->len = 0;
    llmsplit__buf_str(b, "[Conversation]\n");
    for (i = 0; i < j->num_messages; i++) {
        const llmsplit_message *m = &j->messages[i];
        const char *t = m->content ? m->content : m->content_json ? m->content_json : m->tool_calls_json;
        llmsplit__buf_str(b, m->role ? m->role : "user");
        llmsplit__buf_str(b, ": ");
        if (t) llmsplit_buf_append(b, t, m->content ? llmsplit__content_len(m) : strlen(t));
        llmsplit__buf_str(b, "\n");
    }
    llmsplit__buf_str(b, "[End of conversation]\n");
    for (i = 0; i < 1 + j->pair; i++) {
        const char *label = !j->pair ? "" : i == 0 ? " A" : " B";
        int k = i ^ swap;
        llmsplit__buf_str(b, "\n[Answer");
        llmsplit__buf_str(b, label);
        llmsplit__buf_str(b, "]\n");
        llmsplit_buf_append(b, j->text[k], j->len[k]);
        llmsplit__buf_str(b, "\n[End of answer");
        llmsplit__buf_str(b, label);
        llmsplit__buf_str(b, "]\n");
    }
}

/* The first JSON object in an answer (judges wrap it in prose or a code fence): from each '{' in
   turn, the span that closes it, outside strings, if it parses. NULL when there is none. */
static llmsplit_json_doc *llmsplit__first_object(const llmsplit_allocator *a, const char *t, size_t n) {
    size_t i, k;
    for (i = 0; i < n; i++) {
        int depth = 0, in_str = 0;
        if (t[i] != '{') continue;
        for (k = i; k < n; k++) {
            char ch = t[k];
            if (in_str) {
                if (ch == '\\') k++;
                else if (ch == '"') in_str = 0;
            } else if (ch == '"') {
                in_str = 1;
            } else if (ch == '{' || ch == '[') {
                depth++;
            } else if ((ch == '}' || ch == ']') && --depth == 0) {
                llmsplit_json_doc *d = llmsplit__parse(a, t + i, k + 1 - i, NULL);
                if (d && llmsplit_json_type_of(llmsplit_json_root(d)) == LLMSPLIT_JSON_OBJECT) return d;
                llmsplit_json_free(d);
                break;
            }
        }
    }
    return NULL;
}

/* The verdict in a judge's answer: for a pair 0 "A", 1 "B", 2 "tie" (any case); for a score the
   number, 1..10. -1 when the answer holds none: never guessed. */
static double llmsplit__verdict(const llmsplit_allocator *a, const char *t, size_t n, int pair) {
    static const char *const names[] = {"a", "b", "tie"};
    llmsplit_json_doc *d = llmsplit__first_object(a, t, n);
    const llmsplit_json_val *v = d ? llmsplit_json_get(llmsplit_json_root(d), pair ? "winner" : "score") : NULL;
    double got = -1;
    size_t len;
    const char *w = llmsplit_json_str(v, &len);
    int i;
    if (pair && w)
        for (i = 0; i < 3; i++)
            if (len == strlen(names[i]) && strncasecmp(w, names[i], len) == 0) got = i;
    if (!pair && llmsplit_json_type_of(v) == LLMSPLIT_JSON_NUMBER && llmsplit_json_double(v) >= 1.0 &&
        llmsplit_json_double(v) <= 10.0)
        got = llmsplit_json_double(v);
    llmsplit_json_free(d);
    return got;
}

static int64_t llmsplit__chars(const char *s, size_t n) {
    int64_t k = 0;
    size_t i;
    for (i = 0; i < n; i++) k += ((unsigned char)s[i] & 0xc0) != 0x80;
    return k;
}

/* Asks the judge (the config's judge.model, a deployment of its group or a model string) about
   a pair, in both orders, or about one answer; writes a "judge" call record per call, then the
   judgement or score record. A pair stops at the first call without a verdict: one order alone
   cannot be trusted. A score feeds the scored arm's health window. Runs on a pool worker. */
static void llmsplit__judge(llmsplit_client *c, const llmsplit__judging *j, const volatile int *abort_flag) {
    static const char *const labels[] = {"A", "B", "tie"};
    llmsplit__cfgref *ref = llmsplit__acquire(c);
    const llmsplit_judge_settings *js = &ref->cfg->judge;
    const llmsplit_group *g = js->model ? llmsplit_config_group(ref->cfg, js->model) : NULL;
    const llmsplit_deployment *dep = NULL;
    llmsplit_chat_request rq;
    llmsplit_message msgs[2];
    llmsplit_route route;
    llmsplit_buf sys, user;
    llmsplit_record r;
    char *params = NULL, judge_model[256], reason[200];
    uint64_t id_bits[2];
    int order, sticky, got[2] = {-1, -1}, ok = 1, tripped = 0, d = -1;
    double score = -1;
    if (!js->model || (g && (d = llmsplit__pick_in(c, ref, g, NULL, &sticky, NULL)) < 0)) { /* reloaded away */
        llmsplit__release(c, ref);
        return;
    }
    dep = d >= 0 ? &ref->cfg->deployments[d] : NULL;
    memset(&rq, 0, sizeof rq);
    rq.model = dep ? dep->model : js->model;
    if (dep) {
        rq.api_key = dep->api_key;
        rq.api_base = dep->api_base;
        rq.api_version = dep->api_version;
    }
    if (llmsplit_route_model(rq.model, rq.api_base, rq.api_version, &route, NULL) != LLMSPLIT_OK) {
        route.provider = LLMSPLIT_PROVIDER__COUNT;
        llmsplit__copy(route.model, sizeof route.model, rq.model);
    }
    llmsplit__copy(judge_model, sizeof judge_model, route.model);
    /* deterministic, and JSON where the API can promise it (Hugging Face's TGI wants its own form) */
    params = llmsplit__merge_params(&c->allocator, NULL, dep ? dep->extra_params : NULL,
                                    route.provider == LLMSPLIT_PROVIDER_HUGGINGFACE
                                        ? "{\"temperature\":0}"
                                        : "{\"temperature\":0,\"response_format\":{\"type\":\"json_object\"}}");
    rq.params_json = params;
    rq.timeout_ms = (int)llmsplit__clamp_to_int(
        (js->timeout_s > 0 ? js->timeout_s : dep && dep->timeout_s > 0 ? dep->timeout_s : ref->cfg->timeout_s) * 1000, 0,
        INT_MAX);
    rq.abort_flag = abort_flag;
    rq.messages = msgs;
    rq.num_messages = 2;
    llmsplit_buf_init(&sys, &c->allocator);
    llmsplit_buf_init(&user, &c->allocator);
    if (llmsplit_buf_reserve(&sys, strlen(js->criteria) + sizeof llmsplit__judge_pair_prompt) == LLMSPLIT_OK)
        sys.len = (size_t)snprintf(sys.data, sys.cap, j->pair ? llmsplit__judge_pair_prompt : llmsplit__judge_score_prompt,
                                   js->criteria);
    memset(msgs, 0, sizeof msgs);
    msgs[0].role = "system";
    msgs[0].content = sys.data ? sys.data : "";
    msgs[1].role = "user";
    for (order = 0; ok && order < 1 + j->pair; order++) {
        llmsplit_chat_response resp;
        llmsplit_error err;
        llmsplit_status e;
        llmsplit__judge_text(&user, j, order);
        msgs[1].content = user.data ? user.data : "";
        msgs[1].content_len = user.len;
        e = sys.failed || user.failed ? LLMSPLIT_ERR_NOMEM : llmsplit__chat_call(c->mirror_http, &rq, NULL, NULL, &resp, &err);
        if (e == LLMSPLIT_ERR_NOMEM && (sys.failed || user.failed)) {
            memset(&resp, 0, sizeof resp);
            resp.prompt_tokens = resp.completion_tokens = -1;
            llmsplit__set_error(&err, e, "out of memory for the judge's request");
        }
        if (e != LLMSPLIT_OK && llmsplit_pool_aborting(abort_flag)) { /* shutdown: abandoned, not failed */
            llmsplit_chat_response_free(&resp);
            ok = -1;
            break;
        }
        if (e == LLMSPLIT_OK) {
            score = llmsplit__verdict(&c->allocator, resp.text.data ? resp.text.data : "", resp.text.len, j->pair);
            got[order] = (int)score;
            if (score < 0) {
                e = LLMSPLIT_ERR_RESPONSE;
                llmsplit__set_error(&err, e, j->pair ? "no verdict in the judge's answer (expected {\"winner\": \"A\", \"B\" or \"tie\"})"
                                                     : "no score in the judge's answer (expected {\"score\": 1..10})");
            }
        }
        memset(&r, 0, sizeof r);
        llmsplit__new_id(c, r.request_id, id_bits);
        llmsplit__copy(r.pair_id, sizeof r.pair_id, j->id);
        r.role = "judge";
        r.group = g ? g->name : js->model;
        r.model = rq.model;
        r.deployment = dep ? dep->index : -1;
        llmsplit__record_outcome(c, &r, &resp, e, &err, resp.http_status == 200 ? llmsplit__cost(dep, &resp, NULL) : -1);
        if (c->keep_responses && resp.http_status == 200) {
            r.response = resp.text.data ? resp.text.data : "";
            r.response_len = resp.text.len;
        }
        if (resp.model[0]) llmsplit__copy(judge_model, sizeof judge_model, resp.model);
        llmsplit__emit(c, &r);
        llmsplit_chat_response_free(&resp);
        ok = e == LLMSPLIT_OK;
    }
    memset(&r, 0, sizeof r);
    r.judge_model = judge_model;
    if (ok > 0 && j->pair) {
        /* got[0]: primary shown as A; got[1]: silent shown as A. A side wins only in both orders. */
        int s0 = got[0] == 2 ? 2 : got[0], s1 = got[1] == 2 ? 2 : 1 - got[1];
        r.event = "judgement";
        llmsplit__copy(r.pair_id, sizeof r.pair_id, j->id);
        r.consistent = s0 == s1;
        r.winner = !r.consistent || s0 == 2 ? "tie" : s0 == 0 ? "primary" : "silent";
        r.verdicts[0] = labels[got[0]];
        r.verdicts[1] = labels[got[1]];
        r.primary_model = j->model[0];
        r.silent_model = j->model[1];
        r.primary_chars = llmsplit__chars(j->text[0], j->len[0]);
        r.silent_chars = llmsplit__chars(j->text[1], j->len[1]);
    } else if (ok > 0) {
        int at;
        r.event = "score";
        llmsplit__copy(r.request_id, sizeof r.request_id, j->id);
        r.metric = "judge_score";
        r.value = score;
        r.group = j->group;
        r.deployment = j->deployment;
        r.model = j->model[0];
        llmsplit__lock(&c->lock);
        at = llmsplit__arm_in(ref, j->deployment, j->arm);
        if (at >= 0 && (tripped = llmsplit_health_score(&ref->health[at], score, llmsplit__now_ms())) != 0) {
            llmsplit_health *h = &ref->health[at];
            c->stats.rollbacks++;
            snprintf(reason, sizeof reason, "judge score mean %.3g < %.3g over %d scores", h->last_score_mean,
                     h->settings.min_score, h->settings.window);
            d = at;
        }
        llmsplit__unlock(&c->lock);
    }
    llmsplit__lock(&c->lock);
    if (ok > 0) c->stats.judged++;
    else if (ok == 0) c->stats.judge_failed++;
    llmsplit__unlock(&c->lock);
    if (ok > 0) llmsplit__emit(c, &r);
    if (tripped) llmsplit__rollback_emit(c, ref, d, reason);
    llmsplit_buf_free(&sys);
    llmsplit_buf_free(&user);
    llmsplit__free(&c->allocator, params);
    llmsplit__release(c, ref);
}

/* See the prototype above llmsplit__mirror. The text is held under the client's lock, within
   LLMSPLIT_JUDGE_MAX_PENDING_BYTES; the second side takes it out. */
static int llmsplit__pair_in(llmsplit_client *c, llmsplit__pair *p, int ok, const char *text, size_t len,
                             const char *model, char **held, size_t *held_len) {
    int first;
    *held = NULL;
    llmsplit__lock(&c->lock);
    first = !p->in;
    if (first) {
        size_t ml = strlen(model ? model : "");
        p->in = 1;
        p->dead = !ok;
        if (ok && (c->pairs_held + len > LLMSPLIT_JUDGE_MAX_PENDING_BYTES ||
                   !(p->held = (char *)llmsplit__alloc(&c->allocator, len + ml + 2)))) {
            p->dead = 1;
            c->stats.judge_dropped_held++;
        } else if (ok) {
            memcpy(p->held, text ? text : "", len);
            p->held[len] = 0;
            memcpy(p->held + len + 1, model ? model : "", ml + 1);
            p->len = len;
            c->pairs_held += len;
        }
    } else {
        c->pairs_pending--;
        c->pairs_held -= p->len;
        if (ok && !p->dead) {
            *held = p->held;
            *held_len = p->len;
            p->held = NULL;
        }
    }
    llmsplit__unlock(&c->lock);
    if (!first) {
        llmsplit__free(&c->allocator, p->held);
        llmsplit__free(&c->allocator, p);
    }
    return *held != NULL;
}

/* A judge task on the pool: a judging with its own copy of everything. */
typedef struct llmsplit__judge_task {
    llmsplit_client *client;
    llmsplit__judging j;
    char id[40];
} llmsplit__judge_task;

static void llmsplit__judge_run(void *arg, const volatile int *abort_flag) {
    llmsplit__judge_task *t = (llmsplit__judge_task *)arg;
    llmsplit_client *c = t->client;
    llmsplit__judge(c, &t->j, abort_flag);
    llmsplit__free(&c->allocator, t);
}

static void llmsplit__judge_drop(void *arg) {
    llmsplit__judge_task *t = (llmsplit__judge_task *)arg;
    llmsplit__free(&t->client->allocator, t);
}

/* Queues a judging (copied) for the pool; a full queue drops it, counted. */
static void llmsplit__judge_submit(llmsplit_client *c, const llmsplit__judging *j) {
    const char *strs[5];
    size_t lens[5] = {0, 0, (size_t)-1, (size_t)-1, (size_t)-1};
    llmsplit_message *msgs;
    llmsplit__judge_task *t;
    strs[0] = j->text[0];
    strs[1] = j->text[1];
    strs[2] = j->model[0];
    strs[3] = j->model[1];
    strs[4] = j->group;
    lens[0] = j->len[0];
    lens[1] = j->len[1];
    t = (llmsplit__judge_task *)llmsplit__task_new(c, sizeof *t, j->messages, j->num_messages, &msgs, strs, lens, 5);
    if (t) {
        t->client = c;
        t->j = *j;
        t->j.messages = msgs;
        t->j.text[0] = strs[0];
        t->j.text[1] = strs[1];
        t->j.model[0] = strs[2];
        t->j.model[1] = strs[3];
        t->j.group = strs[4];
        llmsplit__copy(t->id, sizeof t->id, j->id);
        t->j.id = t->id;
    }
    if (!t || !llmsplit__pool_submit(c->pool, llmsplit__judge_run, llmsplit__judge_drop, t)) {
        llmsplit__free(&c->allocator, t);
        llmsplit__lock(&c->lock);
        c->stats.judge_dropped++;
        llmsplit__unlock(&c->lock);
    }
}

/* The judge's part of a primary call, after its record: its answer joins its mirrored pair (and
   when the silent answer is already in, the pair is queued for judging), and the share
   judge.arms of the calls an arm answered is queued for a score. Only queues: never waits. */
static void llmsplit__judge_primary(llmsplit_client *c, const llmsplit__cfgref *ref, const llmsplit_request *req,
                                  const llmsplit_result *res, const llmsplit_record *r, llmsplit__pair *pair) {
    const llmsplit_buf *t = &res->response.text;
    llmsplit__judging j;
    char *held = NULL;
    memset(&j, 0, sizeof j);
    j.messages = req->messages;
    j.num_messages = req->num_messages;
    j.text[0] = t->data ? t->data : "";
    j.len[0] = t->len;
    j.model[0] = r->model;
    if (pair && llmsplit__pair_in(c, pair, r->ok, t->data, t->len, r->model, &held, &j.len[1])) {
        j.pair = 1;
        j.text[1] = held;
        j.model[1] = held + j.len[1] + 1;
        j.id = res->pair_id;
        llmsplit__judge_submit(c, &j);
        llmsplit__free(&c->allocator, held);
        j.text[1] = j.model[1] = NULL;
        j.len[1] = 0;
    }
    /* deployment >= 0: picked from a group (a direct model string is no arm) */
    if (r->ok && r->deployment >= 0 && ref->cfg->judge.model && llmsplit__sample(ref->cfg->judge.arms, NULL, 0, &c->rng, 0)) {
        j.pair = 0;
        j.id = res->request_id;
        j.group = res->group;
        j.deployment = res->deployment;
        j.arm = ref->arm[res->deployment];
        llmsplit__judge_submit(c, &j);
    }
}

/* The silent side of a judged pair; when its answer came second, the pair is judged right
   here, on this worker. */
static void llmsplit__judge_silent(llmsplit__mirror *m, int ok, const char *text, size_t len, const char *model,
                                   const volatile int *abort_flag) {
    llmsplit_client *c = m->client;
    llmsplit__judging j;
    char *held;
    memset(&j, 0, sizeof j);
    if (!llmsplit__pair_in(c, m->pair, ok, text, len, model, &held, &j.len[0])) return;
    j.messages = m->messages;
    j.num_messages = m->num_messages;
    j.pair = 1;
    j.text[0] = held;
    j.model[0] = held + j.len[0] + 1;
    j.text[1] = text ? text : "";
    j.len[1] = len;
    j.model[1] = model;
    j.id = m->pair_id;
    llmsplit__judge(c, &j, abort_flag);
    llmsplit__free(&c->allocator, held);
}

static const llmsplit__judge_hooks *llmsplit__judge_on(void) {
    static const llmsplit__judge_hooks on = {llmsplit__judge_primary, llmsplit__judge_silent};
    return &on;
}

/* Queues the silent copy for a deployment with silent_model (once per logical request). When
   the judge is to compare the pair, *pair gets the pair the primary's answer goes to. */
static int llmsplit__mirror_enqueue(llmsplit_client *c, llmsplit__cfgref *ref, const llmsplit_deployment *dep,
                                    const llmsplit_request *req, const char *pair_id, llmsplit__pair **pair) {
    const llmsplit_group *sg = llmsplit_config_group(ref->cfg, dep->silent_model);
    const llmsplit_deployment *sdep = NULL;
    const char *key = req->user && req->user[0] ? req->user : NULL;
    llmsplit__mirror *m;
    char *params;
    int sticky = 0, ok;
    size_t kl = key ? strlen(key) : 0;
    if (!llmsplit_pick_sample(ref->cfg->mirror_sample_rate, key, kl, &c->rng)) return 0;
    if (sg) {
        int d = llmsplit__pick_in(c, ref, sg, key, &sticky, NULL);
        if (d < 0) return 0;
        sdep = &ref->cfg->deployments[d];
    }
    params = llmsplit__merge_params(&c->allocator, NULL, sdep ? sdep->extra_params : NULL, req->params_json);
    m = llmsplit__mirror_new(c, req, sdep, sdep ? sdep->model : dep->silent_model, sg ? sg->name : dep->silent_model,
                             params, ref->cfg->timeout_s);
    llmsplit__free(&c->allocator, params);
    llmsplit__lock(&c->lock);
    c->stats.mirrored++;
    llmsplit__unlock(&c->lock);
    if (!m) {
        llmsplit__lock(&c->lock);
        c->stats.mirror_dropped_queue_full++;
        llmsplit__unlock(&c->lock);
        return 0;
    }
    m->sticky = sticky;
    llmsplit__copy(m->pair_id, sizeof m->pair_id, pair_id);
    if (c->judge && ref->cfg->judge.model && llmsplit__sample(ref->cfg->judge.pairs, key, kl, &c->rng, LLMSPLIT__PICK_SEED_JUDGE) &&
        (m->pair = (llmsplit__pair *)llmsplit__alloc(&c->allocator, sizeof *m->pair)) != NULL) {
        memset(m->pair, 0, sizeof *m->pair);
        llmsplit__lock(&c->lock);
        if (c->pairs_pending < LLMSPLIT_JUDGE_MAX_PENDING) {
            c->pairs_pending++;
        } else {
            c->stats.judge_dropped_held++;
            llmsplit__free(&c->allocator, m->pair);
            m->pair = NULL;
        }
        llmsplit__unlock(&c->lock);
    }
    *pair = m->pair; /* read before the submit: once queued, the task may run and free m */
    ok = llmsplit__pool_submit(c->pool, llmsplit__mirror_run, llmsplit__mirror_drop, m);
    if (!ok) {
        llmsplit__lock(&c->lock);
        c->stats.mirror_dropped_queue_full++;
        c->pairs_pending -= *pair != NULL;
        llmsplit__unlock(&c->lock);
        llmsplit__free(&c->allocator, *pair);
        *pair = NULL;
        llmsplit__mirror_free(m);
    }
    return ok;
}

/* One call to one deployment (or to a bare model string when dep is NULL). */
static llmsplit_status llmsplit__call(llmsplit_client *c, llmsplit__cfgref *ref, const llmsplit_deployment *dep,
                                   const char *model_string, const llmsplit_request *req, llmsplit_chat_response *resp,
                                   llmsplit_error *err) {
    llmsplit_chat_request rq;
    llmsplit_status e;
    /* prepared at load; one that could not be made has no model: the call routes itself, says why */
    const llmsplit__target *t = dep && ref->targets[dep - ref->cfg->deployments].model ? &ref->targets[dep - ref->cfg->deployments] : NULL;
    const char *base = dep && strcmp(dep->extra_params, "{}") != 0 ? dep->extra_params : NULL;
    const llmsplit_json_val *base_val = t && t->params ? llmsplit_json_root(t->params) : NULL;
    /* merging costs a parse and a rewrite: only when both sides have parameters */
    char *merged = base && req->params_json ? llmsplit__merge_params(&c->allocator, base_val, base, req->params_json) : NULL;
    const char *params = merged ? merged : base ? base : req->params_json;
    memset(&rq, 0, sizeof rq);
    rq.model = model_string;
    rq.messages = req->messages;
    rq.num_messages = req->num_messages;
    rq.params_json = params;
    rq.stream = req->stream;
    rq.on_delta = req->on_delta;
    rq.on_event = req->on_event;
    rq.user_data = req->user_data;
    rq.abort_flag = req->abort_flag;
    rq.wait = req->wait; /* the caller's own call only: silent and judge calls build their own */
    rq.wait_socket = req->wait_socket;
    rq.keep_raw = req->keep_raw;
    if (dep) {
        rq.api_key = dep->api_key;
        rq.api_base = dep->api_base;
        rq.api_version = dep->api_version;
    }
    rq.timeout_ms = (int)llmsplit__clamp_to_int((dep && dep->timeout_s > 0 ? dep->timeout_s : ref->cfg->timeout_s) * 1000,
                                                0, INT_MAX);
    rq.num_retries = ref->cfg->num_retries;
    /* prepared at load (t): no routing, URL parsing or parameter parsing here */
    e = llmsplit__chat_call(c->http, &rq, t, merged || !base_val ? NULL : base_val, resp, err);
    llmsplit__free(&c->allocator, merged);
    return e;
}

LLMSPLIT_API llmsplit_status llmsplit_client_chat(llmsplit_client *c, const llmsplit_request *req, llmsplit_result *res,
                                               llmsplit_error *err) {
    llmsplit__cfgref *ref;
    const llmsplit_group *g;
    const llmsplit_deployment *dep = NULL, *chosen = NULL;
    llmsplit_record r;
    llmsplit_route chosen_route;
    llmsplit_error local;
    llmsplit_status e;
    llmsplit__pair *pair = NULL;
    int d, i, sticky = 0, closed = 0;
    uint64_t id_bits[2];
    int64_t split_epoch = 0;
    if (!err) err = &local;
    llmsplit__clear_error(err);
    if (!res) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: missing result");
        return err->code;
    }
    memset(res, 0, sizeof *res);
    res->cost_usd = -1;
    res->deployment = res->chosen_deployment = -1;
    res->response.prompt_tokens = res->response.completion_tokens = -1;
    res->response.ttft_ms = -1;
    if (!c || !req || !req->group || !req->group[0] || req->num_messages < 1 || !req->messages) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "client: a request needs a group (or model) and messages");
        return err->code;
    }
#ifdef LLMSPLIT_NO_THREADS
    if (c->config_file && llmsplit__now_ms() >= c->next_file_check_ms) {
        c->next_file_check_ms = llmsplit__now_ms() + c->poll_ms;
        llmsplit__check_file(c, 0, NULL);
    }
#endif
    ref = llmsplit__acquire(c);
    llmsplit__new_id(c, res->request_id, id_bits);
    llmsplit__copy(res->pair_id, sizeof res->pair_id, res->request_id);
    llmsplit__copy(res->group, sizeof res->group, req->group);
    g = llmsplit_config_group(ref->cfg, req->group);
    if (!g && req->group_required) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "'%.*s' is not a model group of the config",
                            llmsplit__fit(req->group, 100), req->group);
        res->unknown_group = 1;
        llmsplit__release(c, ref);
        return err->code;
    }
    if (!g) {
        /* a model string: one call, no split, no mirror */
        llmsplit__copy(res->model, sizeof res->model, req->group);
        llmsplit__copy(res->chosen_model, sizeof res->chosen_model, req->group);
        e = llmsplit__call(c, ref, NULL, req->group, req, &res->response, err);
    } else {
        d = llmsplit__pick_in(c, ref, g, req->user, &sticky, &split_epoch);
        if (d < 0) {
            llmsplit__release(c, ref);
            llmsplit__set_error(err, LLMSPLIT_ERR_CONFIG, "group '%s' has no usable weights", g->name);
            return err->code;
        }
        chosen = dep = &ref->cfg->deployments[d];
        res->sticky = sticky;
        res->chosen_deployment = res->deployment = d;
        llmsplit__copy(res->chosen_model, sizeof res->chosen_model, dep->model);
        llmsplit__copy(res->model, sizeof res->model, dep->model);
        /* the silent copy is queued once, after the pick and before the call: it never waits
           for the primary and is never repeated by retries or fallbacks */
        if (dep->silent_model) res->mirrored = llmsplit__mirror_enqueue(c, ref, dep, req, res->pair_id, &pair);
        e = llmsplit__call(c, ref, dep, dep->model, req, &res->response, err);
        llmsplit__health(c, ref, d, e == LLMSPLIT_OK, res->response.latency_ms, req->abort_flag);
        /* no fallback once the caller has part of an answer (a caller that has gone stops the
           fallback's call at once through the same flag) */
        for (i = 0; e != LLMSPLIT_OK && e != LLMSPLIT_ERR_USAGE && !res->response.delivered && i < g->num_fallbacks; i++) {
            const llmsplit_group *fg = llmsplit_config_group(ref->cfg, g->fallbacks[i]);
            int fs, fd = fg ? llmsplit__pick_in(c, ref, fg, req->user, &fs, NULL) : -1;
            if (fd < 0) continue;
            dep = &ref->cfg->deployments[fd];
            llmsplit_chat_response_free(&res->response);
            res->fallback = 1; /* before the call: a streaming callback sees who answers */
            res->deployment = fd;
            llmsplit__copy(res->model, sizeof res->model, dep->model);
            llmsplit__copy(res->group, sizeof res->group, fg->name);
            e = llmsplit__call(c, ref, dep, dep->model, req, &res->response, err);
            llmsplit__health(c, ref, fd, e == LLMSPLIT_OK, res->response.latency_ms, req->abort_flag);
        }
    }
    res->client_closed = closed = e != LLMSPLIT_OK && llmsplit__flag_set(req->abort_flag);
    res->cost_usd = e == LLMSPLIT_OK ? llmsplit__cost(dep, &res->response, dep ? &ref->targets[dep - ref->cfg->deployments] : NULL) : -1;
    memset(&r, 0, sizeof r);
    llmsplit__copy(r.request_id, sizeof r.request_id, res->request_id);
    llmsplit__copy(r.pair_id, sizeof r.pair_id, res->pair_id);
    r.role = "primary";
    r.split_epoch = split_epoch;
    r.group = res->group;
    r.model = res->model;
    r.deployment = res->deployment;
    r.sticky = res->sticky;
    if (res->fallback && chosen &&
        llmsplit_route_model(chosen->model, chosen->api_base, chosen->api_version, &chosen_route, NULL) == LLMSPLIT_OK)
        r.fallback_from = chosen_route.model;
    else if (res->fallback)
        r.fallback_from = res->chosen_model;
    llmsplit__record_outcome(c, &r, &res->response, e, err, res->cost_usd);
    r.client_closed = closed;
    if (g && res->deployment >= 0) {
        llmsplit__lock(&c->fb_lock);
        llmsplit__fb_add(&c->fb, &c->allocator, id_bits, res->deployment, ref->arm[res->deployment]);
        llmsplit__unlock(&c->fb_lock);
    }
    /* counted without the client's lock, which every call would otherwise take once more */
    /* (requests first, and read last: a snapshot never has more errors than requests) */
    __atomic_add_fetch(&c->n_requests, 1, __ATOMIC_RELAXED);
    if (e != LLMSPLIT_OK && !closed) __atomic_add_fetch(&c->n_errors, 1, __ATOMIC_RELEASE);
    if (res->fallback) __atomic_add_fetch(&c->n_fallbacks, 1, __ATOMIC_RELEASE);
    /* the answer goes out first; the record and the judge's work follow */
    if (e == LLMSPLIT_OK && req->on_answer) req->on_answer(res, req->user_data);
    llmsplit__emit(c, &r);
    if (c->judge) c->judge->primary(c, ref, req, res, &r, pair);
    llmsplit__release(c, ref);
    return e;
}

LLMSPLIT_API void llmsplit_result_free(llmsplit_result *res) {
    if (res) llmsplit_chat_response_free(&res->response);
}

/* The one-call form keeps one client per split, process-wide, because a client is what owns the
   kept-alive connections and TLS sessions: a client per call would pay a TCP and TLS handshake
   (and a CA bundle parse) on every request. The config text written from the models and weights
   is the key, so two calls share a client exactly when they would build the same config. */
#define LLMSPLIT__ONECALL_MAX_SPLITS 16

typedef struct llmsplit__onecall {
    struct llmsplit__onecall *next;
    llmsplit_client *client;
    int in_use;                   /* one-call requests running on it: such a client is never evicted */
    uint64_t last_used;           /* llmsplit__onecalls.clock at the last request, for eviction */
    size_t key_len;
    char key[1];                  /* the config text, key_len bytes and a NUL */
} llmsplit__onecall;

static struct {
    llmsplit__onecall *head;
    int count;
    uint64_t clock;
} llmsplit__onecalls;

#ifndef LLMSPLIT_NO_THREADS
static pthread_mutex_t llmsplit__onecalls_lock = PTHREAD_MUTEX_INITIALIZER; /* guards llmsplit__onecalls */
#else
static int llmsplit__onecalls_lock;
#endif

/* The config for a split, {"split":{"MODEL":WEIGHT,...},...}, written into w. */
static const char *llmsplit__onecall_config(llmsplit_json_writer *w, const char *const *models, const double *weights,
                                            int n, size_t *len) {
    int i;
    llmsplit_json_writer_init(w, NULL);
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "split");
    llmsplit_json_write_begin_object(w);
    for (i = 0; i < n; i++) {
        llmsplit_json_write_key(w, models[i] ? models[i] : "", models[i] ? strlen(models[i]) : 0);
        llmsplit_json_write_double(w, weights[i]);
    }
    llmsplit_json_write_end_object(w);
    /* a split has no silent model, so its mirror pool never gets work: one idle thread, not two */
    LLMSPLIT_JSON_KEY(w, "router_settings");
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "mirror_threads");
    llmsplit_json_write_int(w, 1);
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_object(w);
    return llmsplit__w_result(w, len);
}

/* Finds or makes the kept client for a config and marks it in use. Call with the lock held. A
   client is made under the lock so that two threads starting the same split make one; making one
   parses the config text and starts a thread, no network I/O (the CA bundle is read on the first
   TLS connection). *evicted gets an entry to destroy once the lock is released. Returns NULL when
   the client cannot be made (err filled) or when every kept client is in use (err untouched). */
static llmsplit__onecall *llmsplit__onecall_get(const char *config, size_t len, llmsplit__onecall **evicted,
                                                llmsplit_error *err) {
    llmsplit__onecall *e, **pp, **lru = NULL;
    llmsplit_client_desc d;
    for (e = llmsplit__onecalls.head; e; e = e->next)
        if (e->key_len == len && memcmp(e->key, config, len) == 0) break;
    if (!e) {
        if (llmsplit__onecalls.count >= LLMSPLIT__ONECALL_MAX_SPLITS) {
            for (pp = &llmsplit__onecalls.head; *pp; pp = &(*pp)->next)
                if (!(*pp)->in_use && (!lru || (*pp)->last_used < (*lru)->last_used)) lru = pp;
            if (!lru) return NULL;
        }
        memset(&d, 0, sizeof d);
        d.config_json = config;
        d.config_len = len;
        e = (llmsplit__onecall *)llmsplit__alloc(NULL, sizeof *e + len);
        if (!e) {
            llmsplit__set_error(err, LLMSPLIT_ERR_NOMEM, "out of memory");
            return NULL;
        }
        if (!(e->client = llmsplit__client_create(&d, NULL, NULL, err))) {
            llmsplit__free(NULL, e);
            return NULL;
        }
        if (lru) { /* unlinked now, destroyed by the caller after the lock: destroying waits for threads */
            *evicted = *lru;
            *lru = (*lru)->next;
            llmsplit__onecalls.count--;
        }
        memcpy(e->key, config, len);
        e->key[len] = 0;
        e->key_len = len;
        e->in_use = 0;
        e->next = llmsplit__onecalls.head;
        llmsplit__onecalls.head = e;
        llmsplit__onecalls.count++;
    }
    e->in_use++;
    e->last_used = ++llmsplit__onecalls.clock;
    return e;
}

static void llmsplit__onecall_free(llmsplit__onecall *e) {
    if (!e) return;
    llmsplit_client_destroy(e->client);
    llmsplit__free(NULL, e);
}

LLMSPLIT_API llmsplit_status llmsplit_completion_with_split_tests(const char *const *models, const double *weights, int n,
                                                               const llmsplit_message *messages, int num_messages,
                                                               llmsplit_result *res, llmsplit_error *err) {
    llmsplit_json_writer w;
    llmsplit__onecall *kept, *evicted = NULL;
    llmsplit_client *c;
    llmsplit_request rq;
    llmsplit_error local;
    llmsplit_status e;
    const char *config;
    size_t len;
    if (!err) err = &local;
    llmsplit__clear_error(err);
    if (res) memset(res, 0, sizeof *res);
    if (!models || !weights || n < 1 || !res) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "split: models, weights and a result are needed");
        return LLMSPLIT_ERR_USAGE;
    }
    if (!(config = llmsplit__onecall_config(&w, models, weights, n, &len))) {
        llmsplit__set_error(err, LLMSPLIT_ERR_USAGE, "split: %s", w.err_message ? w.err_message : "bad weights");
        llmsplit_json_writer_free(&w);
        return LLMSPLIT_ERR_USAGE;
    }
    llmsplit__lock(&llmsplit__onecalls_lock);
    kept = llmsplit__onecall_get(config, len, &evicted, err);
    llmsplit__unlock(&llmsplit__onecalls_lock);
    llmsplit__onecall_free(evicted);
    if (kept) {
        c = kept->client;
    } else if (err->code) {
        llmsplit_json_writer_free(&w);
        return err->code;
    } else {
        /* every kept split is busy: this call gets a client of its own, as if nothing were kept */
        llmsplit_client_desc d;
        memset(&d, 0, sizeof d);
        d.config_json = config;
        d.config_len = len;
        if (!(c = llmsplit__client_create(&d, NULL, NULL, err))) {
            llmsplit_json_writer_free(&w);
            return err->code;
        }
    }
    llmsplit_json_writer_free(&w);
    memset(&rq, 0, sizeof rq);
    rq.group = "default";
    rq.messages = messages;
    rq.num_messages = num_messages;
    e = llmsplit_client_chat(c, &rq, res, err);
    if (kept) {
        llmsplit__lock(&llmsplit__onecalls_lock);
        kept->in_use--;
        llmsplit__unlock(&llmsplit__onecalls_lock);
    } else {
        llmsplit_client_destroy(c);
    }
    return e;
}

LLMSPLIT_API void llmsplit_completion_cleanup(void) {
    llmsplit__onecall *e, *next;
    llmsplit__lock(&llmsplit__onecalls_lock);
    e = llmsplit__onecalls.head;
    llmsplit__onecalls.head = NULL;
    llmsplit__onecalls.count = 0;
    llmsplit__unlock(&llmsplit__onecalls_lock);
    for (; e; e = next) {
        next = e->next;
        LLMSPLIT_ASSERT(e->in_use == 0); /* documented: no one-call request may be running */
        llmsplit__onecall_free(e);
    }
}

#endif /* LLMSPLIT__IMPLEMENTED */
#endif /* LLMSPLIT_IMPLEMENTATION */

/*
------------------------------------------------------------------------------
This software is available under 2 licenses -- choose whichever you prefer.
------------------------------------------------------------------------------
ALTERNATIVE A - MIT License
Copyright (c) 2026 the llmsplit authors
Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
------------------------------------------------------------------------------
ALTERNATIVE B - Public Domain (www.unlicense.org)
This is free and unencumbered software released into the public domain.
Anyone is free to copy, modify, publish, use, compile, sell, or distribute this
software, either in source code form or as a compiled binary, for any purpose,
commercial or non-commercial, and by any means.
In jurisdictions that recognize copyright law, the author or authors of this
software dedicate any and all copyright interest in the software to the public
domain. We make this dedication in recognition of the software's existence,
and we believe that the future of the software, and the reading of this
software, sends it to the public domain.
------------------------------------------------------------------------------
*/
