/* mock.c - `llmsplit mock`: a local mock LLM provider for tests, demos and benchmarks.
   tools/llmsplit.c includes this file after the llmsplit.h implementation; it uses
   llmsplit's public JSON parser and writer, POSIX sockets, pthreads and BearSSL's server side.
   Everything here but cmd_mock is static and named mock_*.

       llmsplit mock [--listen HOST:PORT] [--tls-cert F --tls-key F]
                     [--latency MODEL=MS]... [--fail MODEL=RATE]... [--blind] [--log-requests FILE]
                     [--judge-prefers MODEL]... [--judge-position-bias RATE]
                     [--judge-score MODEL=N]... [--judge-malformed RATE]
                     [--status MODEL=CODE]...
                     [--retry-after MODEL=S]... [--chunk-delay MODEL=MS]...

   Once listening it prints one line, "listening on http://HOST:PORT" (https with TLS), with the
   port actually bound, and serves until SIGINT or SIGTERM. Every chat request is answered with
   the text "mock reply from MODEL: <last user message>" (with --blind "mock reply #TAG: <last
   user message>", TAG the 8 hex digits of the model name's 32-bit FNV-1a hash, so that a judge
   shown the answer learns no model name) in the wire format its path names:

       POST /v1/chat/completions, /chat/completions              OpenAI
       POST /openai/deployments/D/chat/completions?api-version=V  Azure OpenAI (model defaults to D)
       POST /v1/messages                                          Anthropic (needs anthropic-version)
       POST /api/chat                                             Ollama (streams unless "stream":false)

   Adding a provider means writing one mock_api (request reader, reply, error and stream writers)
   and one line in mock_routes.

   THE JUDGE. A request whose system message (Anthropic: its system field) starts with
   "[llmsplit judge: pairwise]" or "[llmsplit judge: score]" - the first line of every judge
   request llmsplit sends - is answered as a judge, by these rules, whatever its model:
   - an answer is attributed to a model by its text: "mock reply from MODEL: ..." names MODEL,
     "mock reply #TAG: ..." is MODEL's when TAG is MODEL's tag (see --blind); the answers are
     read between "[Answer A]" and "[End of answer A]" (B, or plain "[Answer]" for a score), on
     lines of their own, in the last user message;
   - pairwise: with probability --judge-position-bias RATE, {"winner": "A"} whatever the answers
     (a judge that favours the first answer); otherwise "A" when only answer A comes from a model
     named by a --judge-prefers MODEL, "B" when only answer B does, else "tie";
   - score: {"score": N}, N from the last --judge-score MODEL=N whose MODEL wrote the answer
     (MODEL "*": any answer), else 5;
   - with probability --judge-malformed RATE, either kind is answered with prose that holds no
     verdict ("The first answer is better, I think."), for tests of malformed judge answers.
   --log-requests FILE appends the body of every chat request, minified, one line each: tests
   read what a judge was shown.

   TOKEN COUNTS are deterministic so that tests can assert them: one token is one word, a run of
   non-whitespace bytes. Prompt tokens are the words of every message's text (string content, or
   the "text" of each text part; plus Anthropic's top-level system); completion tokens are the
   words of the reply. When a content array has several text parts, the last user message is
   their texts concatenated with nothing in between (as LiteLLM flattens them).

   THREADS: the main thread accepts; each connection gets its own detached thread, with its own
   receive buffer and, for TLS, its own BearSSL server context and I/O buffer. Shared state is
   read-only after start-up (options, certificate chain, private key) or guarded by srv->lock
   (connection list, request counter, random generator, stop flag); the TLS session cache has its
   own lock. On a signal the accept loop stops, live connections are shut down, and the main
   thread waits for their threads before freeing the shared state. */
#include "tool.h"

#include <bearssl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Limits on what a client may send, and how long it may keep a thread waiting. */
#define MOCK_MAX_HEAD          (64 * 1024)        /* request line and headers */
#define MOCK_MAX_BODY          (8 * 1024 * 1024)  /* Content-Length */
#define MOCK_READ_TIMEOUT_MS   10000              /* a request that has started, or a new connection */
#define MOCK_IDLE_TIMEOUT_MS   30000              /* a kept-alive connection between requests */
#define MOCK_WRITE_TIMEOUT_S   30                 /* a client that stops reading */
#define MOCK_CLOSE_TIMEOUT_MS  1000               /* waiting for the peer's TLS close_notify */
#define MOCK_DRAIN_TIMEOUT_MS  5000               /* shutdown: waiting for connection threads */
#define MOCK_MAX_CONNS         1024
#define MOCK_MAX_CHAIN         8                  /* certificates in --tls-cert */
#define MOCK_MAX_PEM_FILE      (1024 * 1024)
#define MOCK_SESSIONS          256                /* TLS session cache entries (100 bytes each) */
#define MOCK_MAX_LATENCY_MS    3600000.0

/* Results of connection reads, next to positive byte counts. */
#define MOCK_IO_EOF      0
#define MOCK_IO_ERROR   -1
#define MOCK_IO_TIMEOUT -2

/* ==== server state ==================================================================== */

/* --latency MODEL=MS, --fail MODEL=RATE, --status MODEL=CODE, --retry-after MODEL=S or
   --chunk-delay MODEL=MS; model "*" matches every model. */
typedef struct mock_knob {
    const char *model;              /* points into argv: the part before the last '=' */
    size_t model_len;
    double value;
} mock_knob;

/* BearSSL's LRU session cache is not thread-safe; this wraps it in a mutex. The vtable pointer
   comes first because BearSSL hands the callbacks a pointer to it. */
typedef struct mock_session_cache {
    const br_ssl_session_cache_class *vtable;
    pthread_mutex_t lock;
    br_ssl_session_cache_lru lru;
    unsigned char store[MOCK_SESSIONS * 100];
} mock_session_cache;

/* The server's certificate chain and private key, loaded once, shared read-only. */
typedef struct mock_tls {
    br_x509_certificate chain[MOCK_MAX_CHAIN];
    size_t chain_len;
    br_skey_decoder_context skey;   /* holds the decoded private key's bytes */
    int key_type;                   /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
    int has_key;
    unsigned issuer_key_type;       /* what signed the leaf; matters for the ECDH_* suites */
    mock_session_cache cache;
} mock_tls;

typedef struct mock_conn mock_conn;

typedef struct mock_server {
    mock_knob *latency, *fail, *prefers, *score;
    size_t n_latency, n_fail, n_prefers, n_score;
    double position_bias, malformed; /* --judge-position-bias, --judge-malformed */
    int blind;                      /* --blind: replies name the model by its tag */
    FILE *log_requests;             /* --log-requests: written under lock */
    mock_knob *status, *retry_after, *chunk_delay;
    size_t n_status, n_retry_after, n_chunk_delay;
    mock_tls *tls;                  /* NULL: plain HTTP */
    int listen_fd;
    int wake[2];                    /* self-pipe: the signal handler writes, the accept loop polls */
    pthread_mutex_t lock;           /* guards everything below */
    pthread_cond_t changed;         /* a connection ended, or stopping was set */
    mock_conn *conns;
    size_t n_conns;
    int stopping;
    unsigned long next_id;
    uint64_t rng;
} mock_server;

struct mock_conn {
    mock_server *srv;
    int fd;                         /* -1 once closed (under srv->lock) */
    br_ssl_server_context *ssl;     /* NULL for plain HTTP */
    unsigned char *iobuf;
    br_sslio_context io;
    int timeout_ms;                 /* for the next socket read */
    int timed_out;                  /* the last socket read gave up waiting */
    char *buf;                      /* received bytes not yet consumed */
    size_t len, cap, scan;          /* scan: where the search for the end of the head resumes */
    unsigned long served;           /* requests answered on this connection */
    mock_conn *prev, *next;
};

typedef struct mock_request {
    unsigned long id;
    char method[16];
    const char *target;             /* points into conn->buf; printable ASCII only */
    size_t target_len;
    int http_minor;                 /* 0 or 1 */
    int keep_alive;
    int head_only;                  /* HEAD: the reply carries headers but no body */
    int expect_continue, has_host, has_anthropic_version;
    size_t head_len, body_len;
    const char *body;
    const char *error;              /* why the request was refused, when it was */
} mock_request;

static uint64_t mock_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mock_now_ms(void) {
    return mock_now_ns() / 1000000u;
}

static int mock_is_stopping(mock_server *srv) {
    int s;
    pthread_mutex_lock(&srv->lock);
    s = srv->stopping;
    pthread_mutex_unlock(&srv->lock);
    return s;
}

static unsigned long mock_next_id(mock_server *srv) {
    unsigned long id;
    pthread_mutex_lock(&srv->lock);
    id = ++srv->next_id;
    pthread_mutex_unlock(&srv->lock);
    return id;
}

/* A uniform double in [0, 1) from splitmix64; one shared state under the lock keeps it
   thread-safe without per-thread seeding. */
static double mock_random01(mock_server *srv) {
    uint64_t z;
    pthread_mutex_lock(&srv->lock);
    z = (srv->rng += 0x9E3779B97F4A7C15ull);
    pthread_mutex_unlock(&srv->lock);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

/* Sleeps ms milliseconds, or less when the server starts stopping. Returns 0 when stopping. */
static int mock_wait_ms(mock_server *srv, double ms) {
    struct timespec until;
    long long whole = (long long)ms;   /* --latency takes whole milliseconds */
    int stopping;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(whole / 1000);
    until.tv_nsec += (long)(whole % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping && pthread_cond_timedwait(&srv->changed, &srv->lock, &until) != ETIMEDOUT) {}
    stopping = srv->stopping;
    pthread_mutex_unlock(&srv->lock);
    return !stopping;
}

/* The knob for a model: the last exact match, else the last "*", else NULL. */
static const mock_knob *mock_knob_find(const mock_knob *k, size_t n, const char *model, size_t len) {
    const mock_knob *star = NULL;
    size_t i = n;
    while (i-- > 0) {
        if (k[i].model_len == len && memcmp(k[i].model, model, len) == 0) return &k[i];
        if (!star && k[i].model_len == 1 && k[i].model[0] == '*') star = &k[i];
    }
    return star;
}

/* ==== small text helpers ============================================================== */

static int mock_is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static long mock_count_words(const char *s, size_t n) {
    long words = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && mock_is_space(s[i])) i++;
        if (i == n) break;
        words++;
        while (i < n && !mock_is_space(s[i])) i++;
    }
    return words;
}

/* Length of the stream piece starting at pos: one word with the whitespace around it, so the
   pieces concatenate back to exactly the text. Splits only at ASCII bytes: UTF-8 stays whole. */
static size_t mock_next_piece(const char *s, size_t n, size_t pos) {
    size_t i = pos;
    while (i < n && mock_is_space(s[i])) i++;
    while (i < n && !mock_is_space(s[i])) i++;
    while (i < n && mock_is_space(s[i])) i++;
    return i - pos;
}

/* At most max bytes of s, cut at a UTF-8 character boundary, so that a clipped model name
   inside an error message is still valid UTF-8 for the JSON writer. */
static int mock_clip(const char *s, size_t n, size_t max) {
    if (n <= max) return (int)n;
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    return (int)n;
}

static int mock_ieq(const char *s, size_t n, const char *lit) {
    size_t i;
    if (strlen(lit) != n) return 0;
    for (i = 0; i < n; i++) {
        char a = s[i], b = lit[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a - 'A' + 'a');
        if (a != b) return 0;
    }
    return 1;
}

/* 1 when the comma-separated header value holds the token (case-insensitive). */
static int mock_has_token(const char *v, size_t n, const char *token) {
    size_t i = 0;
    while (i < n) {
        size_t start, end;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        start = i;
        while (i < n && v[i] != ',') i++;
        end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t')) end--;
        if (end > start && mock_ieq(v + start, end - start, token)) return 1;
    }
    return 0;
}

/* ==== connection I/O ================================================================== */

/* Waits until fd is readable. 1 ready, 0 timed out, -1 error. */
static int mock_poll_in(int fd, int timeout_ms) {
    struct pollfd p;
    uint64_t deadline = mock_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = mock_now_ms();
        int left = (int)(deadline > now ? deadline - now : 0), r;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        r = poll(&p, 1, left);
        if (r > 0) return 1;
        if (r == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/* One recv with the connection's timeout: bytes read, or a MOCK_IO_* result. */
static long mock_sock_read(mock_conn *c, void *dst, size_t cap) {
    int ready = mock_poll_in(c->fd, c->timeout_ms);
    if (ready == 0) { c->timed_out = 1; return MOCK_IO_TIMEOUT; }
    if (ready < 0) return MOCK_IO_ERROR;
    for (;;) {
        ssize_t n = recv(c->fd, dst, cap, 0);
        if (n >= 0) return (long)n;
        if (errno != EINTR) return MOCK_IO_ERROR;
    }
}

/* Sends everything; SO_SNDTIMEO bounds how long a client that stops reading can stall us. */
static int mock_sock_write_all(int fd, const void *data, size_t len) {
    const char *p = (const char *)data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* br_sslio's transport callbacks. Both report end of stream and timeouts as -1 (errors are
   final for the TLS engine, which is what we want for a dead or silent client). */
static int mock_tls_low_read(void *ctx, unsigned char *data, size_t len) {
    long n = mock_sock_read((mock_conn *)ctx, data, len);
    return n > 0 ? (int)n : -1;
}

static int mock_tls_low_write(void *ctx, const unsigned char *data, size_t len) {
    mock_conn *c = (mock_conn *)ctx;
    for (;;) {
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n >= 0) return (int)n;
        if (errno != EINTR) return -1;
    }
}

/* Reads some application bytes: a count, MOCK_IO_EOF, MOCK_IO_TIMEOUT or MOCK_IO_ERROR. */
static long mock_conn_read(mock_conn *c, void *dst, size_t cap) {
    c->timed_out = 0;
    if (c->ssl) {
        int n = br_sslio_read(&c->io, dst, cap);
        if (n > 0) return n;
        /* close_notify, a reset and a bad handshake all end the connection the same way */
        return c->timed_out ? MOCK_IO_TIMEOUT : MOCK_IO_EOF;
    }
    return mock_sock_read(c, dst, cap);
}

/* Sends len bytes at once (flushing TLS, so streamed events leave immediately). 0 ok, -1 failed. */
static int mock_conn_write(mock_conn *c, const void *data, size_t len) {
    if (!c->ssl) return mock_sock_write_all(c->fd, data, len);
    if (br_sslio_write_all(&c->io, data, len) < 0) return -1;
    return br_sslio_flush(&c->io);
}

/* ==== TLS ============================================================================= */

static void mock_cache_save(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
                            const br_ssl_session_parameters *params) {
    mock_session_cache *mc = (mock_session_cache *)(void *)ctx;
    pthread_mutex_lock(&mc->lock);
    mc->lru.vtable->save(&mc->lru.vtable, sc, params);
    pthread_mutex_unlock(&mc->lock);
}

static int mock_cache_load(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
                           br_ssl_session_parameters *params) {
    mock_session_cache *mc = (mock_session_cache *)(void *)ctx;
    int found;
    pthread_mutex_lock(&mc->lock);
    found = mc->lru.vtable->load(&mc->lru.vtable, sc, params);
    pthread_mutex_unlock(&mc->lock);
    return found;
}

static const br_ssl_session_cache_class mock_cache_class = {
    sizeof(mock_session_cache), mock_cache_save, mock_cache_load
};

typedef int (*mock_pem_fn)(mock_tls *t, const char *name, llmsplit_buf *der, char *err, size_t cap);

static void mock_pem_collect(void *ctx, const void *src, size_t len) {
    llmsplit_buf_append((llmsplit_buf *)ctx, src, len);
}

/* Decodes every PEM block of the text and hands each to fn with its name and DER bytes. */
static int mock_pem_walk(const char *text, size_t len, mock_pem_fn fn, mock_tls *t, char *err, size_t cap) {
    br_pem_decoder_context pc;
    llmsplit_buf der;
    char name[128] = "";
    int inside = 0, ok = 1, pass;
    br_pem_decoder_init(&pc);
    llmsplit_buf_init(&der, NULL);
    /* A final newline lets the decoder see an END line at the very end of the file. */
    for (pass = 0; pass < 2 && ok; pass++) {
        const char *p = pass == 0 ? text : "\n";
        size_t left = pass == 0 ? len : 1;
        while (left > 0 && ok) {
            size_t k = br_pem_decoder_push(&pc, p, left);
            p += k;
            left -= k;
            switch (br_pem_decoder_event(&pc)) {
            case BR_PEM_BEGIN_OBJ:
                snprintf(name, sizeof name, "%s", br_pem_decoder_name(&pc));
                der.len = 0;
                br_pem_decoder_setdest(&pc, mock_pem_collect, &der);
                inside = 1;
                break;
            case BR_PEM_END_OBJ:
                inside = 0;
                if (der.failed) { snprintf(err, cap, "out of memory"); ok = 0; }
                else ok = fn(t, name, &der, err, cap);
                break;
            case BR_PEM_ERROR:
                snprintf(err, cap, "invalid PEM data in the %s block", name);
                ok = 0;
                break;
            default:
                break;
            }
        }
    }
    if (ok && inside) { snprintf(err, cap, "the %s block has no END line", name); ok = 0; }
    llmsplit_buf_free(&der);
    return ok;
}

static int mock_pem_cert(mock_tls *t, const char *name, llmsplit_buf *der, char *err, size_t cap) {
    br_x509_certificate *x;
    if (strcmp(name, "CERTIFICATE") != 0 && strcmp(name, "X509 CERTIFICATE") != 0) return 1;
    if (t->chain_len == MOCK_MAX_CHAIN) {
        snprintf(err, cap, "more than %d certificates", MOCK_MAX_CHAIN);
        return 0;
    }
    if (der->len == 0) { snprintf(err, cap, "empty CERTIFICATE block"); return 0; }
    x = &t->chain[t->chain_len];
    x->data = (unsigned char *)malloc(der->len);
    if (!x->data) { snprintf(err, cap, "out of memory"); return 0; }
    memcpy(x->data, der->data, der->len);
    x->data_len = der->len;
    t->chain_len++;
    return 1;
}

static int mock_pem_key(mock_tls *t, const char *name, llmsplit_buf *der, char *err, size_t cap) {
    int e;
    if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0) {
        snprintf(err, cap, "encrypted private keys are not supported");
        return 0;
    }
    if (strcmp(name, "PRIVATE KEY") != 0 && strcmp(name, "RSA PRIVATE KEY") != 0 &&
        strcmp(name, "EC PRIVATE KEY") != 0)
        return 1;   /* e.g. the "EC PARAMETERS" block some tools write first */
    if (t->has_key) { snprintf(err, cap, "more than one private key"); return 0; }
    if (der->len == 0) { snprintf(err, cap, "empty %s block", name); return 0; }
    br_skey_decoder_init(&t->skey);
    br_skey_decoder_push(&t->skey, der->data, der->len);
    e = br_skey_decoder_last_error(&t->skey);
    if (e != 0) {
        snprintf(err, cap, "the %s block is not a valid key (BearSSL error %d)", name, e);
        return 0;
    }
    t->key_type = br_skey_decoder_key_type(&t->skey);
    t->has_key = 1;
    return 1;
}

/* 1 when the private key belongs to the leaf certificate's public key. Catches a mixed-up
   pair at start-up instead of as handshake failures later. */
static int mock_key_matches(const mock_tls *t, const br_x509_pkey *pk) {
    if (pk->key_type != t->key_type) return 0;
    if (t->key_type == BR_KEYTYPE_EC) {
        const br_ec_private_key *sk = br_skey_decoder_get_ec(&t->skey);
        unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE];
        size_t qlen = br_ec_compute_pub(br_ec_get_default(), NULL, q, sk);
        return sk->curve == pk->key.ec.curve && qlen == pk->key.ec.qlen &&
               memcmp(q, pk->key.ec.q, qlen) == 0;
    } else {
        const br_rsa_private_key *sk = br_skey_decoder_get_rsa(&t->skey);
        br_rsa_compute_modulus modulus = br_rsa_compute_modulus_get_default();
        const unsigned char *n = pk->key.rsa.n;
        size_t nlen = pk->key.rsa.nlen, mlen = modulus(NULL, sk);
        unsigned char m[1024];
        if (mlen == 0 || mlen > sizeof m) return 0;
        modulus(m, sk);
        while (nlen > 0 && *n == 0) { n++; nlen--; }
        return mlen == nlen && memcmp(m, n, nlen) == 0;
    }
}

/* Loads one PEM file through fn; on failure writes "cannot load OPT FILE: why" to err. */
static int mock_load_pem(mock_tls *t, const char *opt, const char *path, mock_pem_fn fn, char *err, size_t cap) {
    char why[200];
    size_t len = 0;
    char *text = tool_read_file(path, MOCK_MAX_PEM_FILE, &len, why, sizeof why);
    int ok;
    if (!text) {
        snprintf(err, cap, "cannot load %s %s: %s", opt, path, why);
        return 0;
    }
    ok = mock_pem_walk(text, len, fn, t, why, sizeof why);
    free(text);
    if (!ok) snprintf(err, cap, "cannot load %s %s: %s", opt, path, why);
    return ok;
}

static void mock_tls_free(mock_tls *t) {
    size_t i;
    if (!t) return;
    for (i = 0; i < t->chain_len; i++) free(t->chain[i].data);
    pthread_mutex_destroy(&t->cache.lock);
    free(t);
}

/* Loads the chain (leaf first) and the key, and checks that they belong together. */
static mock_tls *mock_tls_load(const char *cert_path, const char *key_path, char *err, size_t cap) {
    br_x509_decoder_context xd;
    const br_x509_pkey *pk;
    mock_tls *t = (mock_tls *)calloc(1, sizeof *t);
    if (!t) { snprintf(err, cap, "out of memory"); return NULL; }
    pthread_mutex_init(&t->cache.lock, NULL);
    t->cache.vtable = &mock_cache_class;
    br_ssl_session_cache_lru_init(&t->cache.lru, t->cache.store, sizeof t->cache.store);
    if (!mock_load_pem(t, "--tls-cert", cert_path, mock_pem_cert, err, cap)) goto fail;
    if (t->chain_len == 0) {
        snprintf(err, cap, "cannot load --tls-cert %s: no PEM CERTIFICATE block found", cert_path);
        goto fail;
    }
    if (!mock_load_pem(t, "--tls-key", key_path, mock_pem_key, err, cap)) goto fail;
    if (!t->has_key) {
        snprintf(err, cap, "cannot load --tls-key %s: no PEM PRIVATE KEY block found", key_path);
        goto fail;
    }
    br_x509_decoder_init(&xd, NULL, NULL);
    br_x509_decoder_push(&xd, t->chain[0].data, t->chain[0].data_len);
    pk = br_x509_decoder_get_pkey(&xd);
    if (!pk) {
        snprintf(err, cap, "cannot load --tls-cert %s: the first certificate is not valid X.509 (BearSSL error %d)",
                 cert_path, br_x509_decoder_last_error(&xd));
        goto fail;
    }
    if (!mock_key_matches(t, pk)) {
        snprintf(err, cap, "cannot load --tls-key %s: the key does not belong to the first certificate in %s",
                 key_path, cert_path);
        goto fail;
    }
    t->issuer_key_type = (unsigned)br_x509_decoder_get_signer_key_type(&xd);
    if (t->issuer_key_type == 0) t->issuer_key_type = BR_KEYTYPE_EC;
    return t;
fail:
    mock_tls_free(t);
    return NULL;
}

/* Gives the connection its own server context and buffer; the handshake runs on first read. */
static int mock_tls_start(mock_conn *c) {
    const mock_tls *t = c->srv->tls;
    c->ssl = (br_ssl_server_context *)malloc(sizeof *c->ssl);
    c->iobuf = (unsigned char *)malloc(BR_SSL_BUFSIZE_BIDI);
    if (!c->ssl || !c->iobuf) return 0;
    if (t->key_type == BR_KEYTYPE_EC)
        br_ssl_server_init_full_ec(c->ssl, t->chain, t->chain_len, t->issuer_key_type,
                                   br_skey_decoder_get_ec(&t->skey));
    else
        br_ssl_server_init_full_rsa(c->ssl, t->chain, t->chain_len, br_skey_decoder_get_rsa(&t->skey));
    br_ssl_engine_set_buffer(&c->ssl->eng, c->iobuf, BR_SSL_BUFSIZE_BIDI, 1);
    br_ssl_server_set_cache(c->ssl, &c->srv->tls->cache.vtable);   /* BearSSL wants it non-const */
    if (!br_ssl_server_reset(c->ssl)) return 0;
    br_sslio_init(&c->io, &c->ssl->eng, mock_tls_low_read, c, mock_tls_low_write, c);
    return 1;
}

/* ==== HTTP requests =================================================================== */

/* Makes room for need bytes in the receive buffer. */
static int mock_reserve(mock_conn *c, size_t need) {
    size_t cap = c->cap ? c->cap : 16384;
    char *nb;
    if (need <= c->cap) return 1;
    while (cap < need) cap *= 2;
    nb = (char *)realloc(c->buf, cap);
    if (!nb) return 0;
    c->buf = nb;
    c->cap = cap;
    return 1;
}

/* Reads more bytes into the buffer. Same results as mock_conn_read. */
static long mock_fill(mock_conn *c, int timeout_ms) {
    long n;
    if (!mock_reserve(c, c->len + 4096)) return MOCK_IO_ERROR;
    c->timeout_ms = timeout_ms;
    n = mock_conn_read(c, c->buf + c->len, c->cap - c->len);
    if (n > 0) c->len += (size_t)n;
    return n;
}

/* Drops the first n buffered bytes (one request); what follows is a pipelined next request. */
static void mock_consume(mock_conn *c, size_t n) {
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    c->scan = 0;
    if (c->cap > 1024 * 1024 && c->len < 16384) {   /* give back a big body's buffer */
        char *nb = (char *)realloc(c->buf, 16384);
        if (nb) { c->buf = nb; c->cap = 16384; }
    }
}

/* Finds the blank line ending the head (CRLF or bare LF line ends). Resumes where the last
   search stopped, so a client trickling bytes costs linear time. */
static int mock_find_head_end(mock_conn *c, size_t *head_len) {
    size_t i = c->scan;
    for (; i < c->len; i++) {
        if (c->buf[i] != '\n') continue;
        if (i + 1 >= c->len) break;
        if (c->buf[i + 1] == '\n') { *head_len = i + 2; return 1; }
        if (c->buf[i + 1] == '\r') {
            if (i + 2 >= c->len) break;
            if (c->buf[i + 2] == '\n') { *head_len = i + 3; return 1; }
        }
    }
    c->scan = i;
    return 0;
}

static int mock_is_tchar(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Refuses the request with status and reason; returns status for the caller to pass up. */
static int mock_refuse(mock_request *rq, int status, const char *why) {
    rq->error = why;
    rq->keep_alive = 0;
    return status;
}

/* "METHOD /target HTTP/1.x". 0 or an error status. */
static int mock_parse_request_line(const char *s, size_t n, mock_request *rq) {
    size_t i = 0, t0;
    while (i < n && mock_is_tchar(s[i])) i++;
    if (i == 0 || i >= sizeof rq->method || i >= n || s[i] != ' ')
        return mock_refuse(rq, 400, "malformed request line");
    memcpy(rq->method, s, i);
    rq->method[i] = 0;
    t0 = ++i;
    while (i < n && s[i] > 0x20 && s[i] < 0x7f) i++;
    if (i == t0 || i >= n || s[i] != ' ' || s[t0] != '/')
        return mock_refuse(rq, 400, "malformed request target (expected an origin-form path)");
    rq->target = s + t0;
    rq->target_len = i - t0;
    s += i + 1;
    n -= i + 1;
    if (n == 8 && memcmp(s, "HTTP/1.", 7) == 0 && (s[7] == '0' || s[7] == '1')) {
        rq->http_minor = s[7] - '0';
        rq->keep_alive = rq->http_minor == 1;
        return 0;
    }
    if (n == 8 && memcmp(s, "HTTP/", 5) == 0 && s[5] >= '0' && s[5] <= '9' && s[6] == '.' &&
        s[7] >= '0' && s[7] <= '9')
        return mock_refuse(rq, 505, "only HTTP/1.0 and HTTP/1.1 are supported");
    return mock_refuse(rq, 400, "malformed HTTP version");
}

/* Content-Length: digits only; several copies must agree. 0 or an error status. */
static int mock_parse_length(const char *v, size_t n, mock_request *rq, int *seen) {
    size_t i, len = 0;
    if (n == 0) return mock_refuse(rq, 400, "empty Content-Length");
    for (i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return mock_refuse(rq, 400, "invalid Content-Length");
        if (len > MOCK_MAX_BODY) continue;   /* already too big; keep checking the syntax */
        len = len * 10 + (size_t)(v[i] - '0');
    }
    if (*seen && len != rq->body_len) return mock_refuse(rq, 400, "conflicting Content-Length headers");
    *seen = 1;
    rq->body_len = len;
    return 0;
}

/* One "Name: value" line. 0 or an error status. */
static int mock_parse_header(const char *s, size_t n, mock_request *rq, int *seen_length) {
    size_t i = 0, v, e;
    while (i < n && mock_is_tchar(s[i])) i++;
    if (i == 0 || i >= n || s[i] != ':') {
        if (n > 0 && (s[0] == ' ' || s[0] == '\t')) return mock_refuse(rq, 400, "obsolete header line folding");
        return mock_refuse(rq, 400, "malformed header line");
    }
    v = i + 1;
    while (v < n && (s[v] == ' ' || s[v] == '\t')) v++;
    e = n;
    while (e > v && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
    if (mock_ieq(s, i, "content-length")) return mock_parse_length(s + v, e - v, rq, seen_length);
    if (mock_ieq(s, i, "transfer-encoding"))
        return mock_refuse(rq, 411, "request bodies with Transfer-Encoding are not supported; send Content-Length");
    if (mock_ieq(s, i, "connection")) {
        if (mock_has_token(s + v, e - v, "close")) rq->keep_alive = 0;
        else if (mock_has_token(s + v, e - v, "keep-alive")) rq->keep_alive = 1;
    } else if (mock_ieq(s, i, "expect")) {
        rq->expect_continue = mock_ieq(s + v, e - v, "100-continue");
    } else if (mock_ieq(s, i, "host")) {
        rq->has_host = 1;
    } else if (mock_ieq(s, i, "anthropic-version")) {
        rq->has_anthropic_version = e > v;
    }
    return 0;
}

/* Parses the head (request line and headers) of head_len bytes. 0 or an error status. */
static int mock_parse_head(const char *head, size_t head_len, mock_request *rq) {
    const char *p = head, *end = head + head_len;
    int first = 1, seen_length = 0, st;
    while (p < end) {
        const char *nl = (const char *)memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)(nl - p);
        if (n > 0 && p[n - 1] == '\r') n--;
        if (memchr(p, '\r', n) || memchr(p, 0, n)) return mock_refuse(rq, 400, "stray CR or NUL in the request head");
        if (n == 0) break;   /* the blank line */
        st = first ? mock_parse_request_line(p, n, rq) : mock_parse_header(p, n, rq, &seen_length);
        if (st) return st;
        first = 0;
        p = nl + 1;
    }
    if (rq->http_minor == 1 && !rq->has_host) return mock_refuse(rq, 400, "HTTP/1.1 request without Host header");
    if (rq->body_len > MOCK_MAX_BODY) return mock_refuse(rq, 413, "request body larger than 8 MiB");
    rq->head_only = strcmp(rq->method, "HEAD") == 0;
    return 0;
}

/* Reads one request. 0: a request is ready; -1: the connection ended quietly (closed, idle,
   or cut mid-request); otherwise the HTTP status to refuse the request with (then close). */
static int mock_read_request(mock_conn *c, mock_request *rq) {
    size_t head_len = 0, target_off, blank = 0, skipped = 0;
    long r;
    int st;
    memset(rq, 0, sizeof *rq);
    for (;;) {
        /* RFC 9112 §2.2: ignore empty lines before the request line (bounded, like the head) */
        while (blank < c->len && (c->buf[blank] == '\r' || c->buf[blank] == '\n')) blank++;
        if (blank > 0) { mock_consume(c, blank); skipped += blank; blank = 0; }
        if (skipped > MOCK_MAX_HEAD) return mock_refuse(rq, 400, "too many empty lines before the request");
        if (mock_find_head_end(c, &head_len)) break;
        if (c->len > MOCK_MAX_HEAD) return mock_refuse(rq, 431, "request head larger than 64 KiB");
        r = mock_fill(c, c->len == 0 && c->served > 0 ? MOCK_IDLE_TIMEOUT_MS : MOCK_READ_TIMEOUT_MS);
        if (r == MOCK_IO_TIMEOUT && c->len > 0) return mock_refuse(rq, 408, "timed out reading the request");
        if (r <= 0) return -1;
    }
    if (head_len > MOCK_MAX_HEAD) return mock_refuse(rq, 431, "request head larger than 64 KiB");
    st = mock_parse_head(c->buf, head_len, rq);
    if (st) return st;
    rq->head_len = head_len;
    target_off = (size_t)(rq->target - c->buf);   /* the buffer may move while the body arrives */
    if (rq->expect_continue && rq->http_minor == 1 && c->len < head_len + rq->body_len) {
        static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (mock_conn_write(c, go_on, sizeof go_on - 1) < 0) return -1;
    }
    if (!mock_reserve(c, head_len + rq->body_len + 1)) return mock_refuse(rq, 413, "request body too large for memory");
    while (c->len < head_len + rq->body_len) {
        r = mock_fill(c, MOCK_READ_TIMEOUT_MS);
        if (r == MOCK_IO_TIMEOUT) return mock_refuse(rq, 408, "timed out reading the request body");
        if (r <= 0) return -1;
    }
    rq->target = c->buf + target_off;
    rq->body = c->buf + head_len;
    return 0;
}

/* ==== HTTP responses ================================================================== */

#define MOCK_CHUNKED     -1   /* content_length: Transfer-Encoding: chunked */
#define MOCK_UNTIL_CLOSE -2   /* content_length: the body ends when the connection closes */

static const char *mock_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown";
    }
}

/* Status line and headers. extra: more header lines, each ending in CRLF, or NULL. */
static void mock_head(llmsplit_buf *b, const mock_request *rq, int status, const char *content_type,
                      long long content_length, const char *extra) {
    char line[200];
    snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\nServer: llmsplit-mock/" LLMSPLIT_VERSION "\r\n",
             status, mock_reason(status));
    llmsplit_buf_append(b, line, strlen(line));
    snprintf(line, sizeof line, "Content-Type: %s\r\n", content_type);
    llmsplit_buf_append(b, line, strlen(line));
    if (content_length >= 0) {
        snprintf(line, sizeof line, "Content-Length: %lld\r\n", content_length);
        llmsplit_buf_append(b, line, strlen(line));
    } else if (content_length == MOCK_CHUNKED) {
        llmsplit_buf_append(b, "Transfer-Encoding: chunked\r\n", 28);
    }
    snprintf(line, sizeof line, "Connection: %s\r\nx-request-id: mock-%lu\r\n",
             rq->keep_alive ? "keep-alive" : "close", rq->id);
    llmsplit_buf_append(b, line, strlen(line));
    if (extra) llmsplit_buf_append(b, extra, strlen(extra));
    llmsplit_buf_append(b, "\r\n", 2);
}

/* Sends a complete response. Returns 1 when the connection may serve another request. */
static int mock_send(mock_conn *c, mock_request *rq, int status, const char *content_type,
                     const char *body, size_t len, const char *extra) {
    llmsplit_buf b;
    int ok;
    llmsplit_buf_init(&b, NULL);
    mock_head(&b, rq, status, content_type, (long long)len, extra);
    if (!rq->head_only) llmsplit_buf_append(&b, body, len);
    ok = !b.failed && mock_conn_write(c, b.data, b.len) == 0;
    llmsplit_buf_free(&b);
    return ok && rq->keep_alive;
}

/* Used when building the real answer failed (out of memory): still a well-formed error. */
static const char mock_fallback_error[] =
    "{\"error\":{\"message\":\"mock: could not build the response\",\"type\":\"server_error\",\"param\":null,\"code\":null}}";

/* Sends the writer's JSON with status; a writer error becomes a 500. */
static int mock_send_json(mock_conn *c, mock_request *rq, int status, llmsplit_json_writer *w, const char *extra) {
    size_t len = 0;
    const char *body = NULL;
    if (llmsplit_json_writer_result(w, &body, &len, NULL) != LLMSPLIT_OK) {
        status = 500;
        body = mock_fallback_error;
        len = sizeof mock_fallback_error - 1;
    }
    return mock_send(c, rq, status, "application/json", body, len, extra);
}

/* ==== chat requests, common to every API ============================================= */

/* What every provider's request boils down to, and the reply made from it. */
typedef struct mock_chat {
    unsigned long id;
    long long created;              /* unix seconds */
    uint64_t start_ns;
    const char *model;
    size_t model_len;
    llmsplit_buf last_user;         /* text of the last user message */
    llmsplit_buf system;            /* text of the first system message (Anthropic: "system") */
    llmsplit_buf reply;
    long prompt_words, completion_words;
    int stream, include_usage;
    double chunk_delay_ms;          /* --chunk-delay: pause before each stream event but the first */
} mock_chat;

typedef struct mock_stream mock_stream;

/* One provider's wire format. */
typedef struct mock_api {
    /* Validates the request and fills model, stream flags and (through mock_read_messages)
       the prompt. On a bad request, returns 0 with a message in err. */
    int (*read_request)(mock_chat *ch, const llmsplit_json_val *root, char *err, size_t cap);
    void (*write_reply)(llmsplit_json_writer *w, const mock_chat *ch);
    void (*write_error)(llmsplit_json_writer *w, int status, const char *message);
    int (*write_stream)(mock_stream *s, const mock_chat *ch);   /* 0 ok, -1 connection failed */
    const char *stream_type;        /* Content-Type of a stream */
    int ndjson;                     /* stream events are JSON lines, not Server-Sent Events */
} mock_api;

#define MOCK_KEY(w, k) llmsplit_json_write_key((w), (k), sizeof(k) - 1)

static void mock_kv_str(llmsplit_json_writer *w, const char *key, const char *s, size_t n) {
    llmsplit_json_write_key(w, key, strlen(key));
    llmsplit_json_write_string(w, s ? s : "", s ? n : 0);
}

static void mock_kv_cstr(llmsplit_json_writer *w, const char *key, const char *s) {
    mock_kv_str(w, key, s, strlen(s));
}

static void mock_kv_int(llmsplit_json_writer *w, const char *key, int64_t v) {
    llmsplit_json_write_key(w, key, strlen(key));
    llmsplit_json_write_int(w, v);
}

static void mock_kv_null(llmsplit_json_writer *w, const char *key) {
    llmsplit_json_write_key(w, key, strlen(key));
    llmsplit_json_write_null(w);
}

/* Words of a message content (a string, or an array of {"type":"text","text":...} parts; other
   parts and other types count nothing). When out is set, appends the text to it. */
static long mock_content_text(const llmsplit_json_val *content, llmsplit_buf *out) {
    long words = 0;
    size_t n;
    const char *s = llmsplit_json_str(content, &n);
    if (s) {
        if (out) llmsplit_buf_append(out, s, n);
        return mock_count_words(s, n);
    }
    if (llmsplit_json_type_of(content) == LLMSPLIT_JSON_ARRAY) {
        llmsplit_json_iter it = llmsplit_json_iterate(content);
        const llmsplit_json_val *k, *part;
        while (llmsplit_json_next(&it, &k, &part)) {
            const char *type = llmsplit_json_str(llmsplit_json_get(part, "type"), NULL);
            s = llmsplit_json_str(llmsplit_json_get(part, "text"), &n);
            if (!type || strcmp(type, "text") != 0 || !s) continue;
            if (out) llmsplit_buf_append(out, s, n);
            words += mock_count_words(s, n);
        }
    }
    return words;
}

/* Reads a messages array: counts prompt words and keeps the last user message's text.
   user_or_assistant: only those two roles are allowed (Anthropic). */
static int mock_read_messages(mock_chat *ch, const llmsplit_json_val *msgs, int user_or_assistant,
                              const char *missing, char *err, size_t cap) {
    llmsplit_json_iter it;
    const llmsplit_json_val *k, *m, *last_user = NULL;
    size_t i = 0;
    if (!msgs) {
        snprintf(err, cap, "%s", missing);
        return 0;
    }
    if (llmsplit_json_type_of(msgs) != LLMSPLIT_JSON_ARRAY) {
        snprintf(err, cap, "Invalid type for 'messages': expected an array.");
        return 0;
    }
    if (llmsplit_json_len(msgs) == 0) {
        snprintf(err, cap, "Invalid 'messages': empty array. Expected an array with minimum length 1.");
        return 0;
    }
    it = llmsplit_json_iterate(msgs);
    for (; llmsplit_json_next(&it, &k, &m); i++) {
        const char *role = llmsplit_json_str(llmsplit_json_get(m, "role"), NULL);
        if (role && strcmp(role, "system") == 0 && !ch->system.len)
            mock_content_text(llmsplit_json_get(m, "content"), &ch->system);
        if (!role) {
            snprintf(err, cap, "Invalid 'messages[%lu]': expected an object with a string 'role'.", (unsigned long)i);
            return 0;
        }
        if (user_or_assistant && strcmp(role, "user") != 0 && strcmp(role, "assistant") != 0) {
            snprintf(err, cap, "messages.%lu.role: Input should be 'user' or 'assistant'", (unsigned long)i);
            return 0;
        }
        ch->prompt_words += mock_content_text(llmsplit_json_get(m, "content"), NULL);
        if (strcmp(role, "user") == 0) last_user = m;
    }
    if (last_user) mock_content_text(llmsplit_json_get(last_user, "content"), &ch->last_user);
    return 1;
}

/* Reads the "model" member; absent is fine when the path already named one (Azure). */
static int mock_read_model(mock_chat *ch, const llmsplit_json_val *root, const char *missing, char *err, size_t cap) {
    const llmsplit_json_val *m = llmsplit_json_get(root, "model");
    size_t len;
    const char *s = llmsplit_json_str(m, &len);
    if (s) { ch->model = s; ch->model_len = len; return 1; }
    if (m) { snprintf(err, cap, "Invalid type for 'model': expected a string."); return 0; }
    if (ch->model) return 1;
    snprintf(err, cap, "%s", missing);
    return 0;
}

/* ==== streams ========================================================================= */

struct mock_stream {
    mock_conn *c;
    int chunked;                    /* HTTP/1.1: chunked framing; HTTP/1.0: raw until close */
    int ndjson;
    double delay_ms;                /* --chunk-delay */
    int events;                     /* sent so far */
    llmsplit_json_writer w;         /* the event being built */
    llmsplit_buf frame;
};

/* Sends bytes as one HTTP chunk (or raw for HTTP/1.0). 0 ok, -1 failed. */
static int mock_stream_raw(mock_stream *s, const char *data, size_t len) {
    char size[24];
    s->frame.len = 0;
    if (s->chunked) {
        snprintf(size, sizeof size, "%lx\r\n", (unsigned long)len);
        llmsplit_buf_append(&s->frame, size, strlen(size));
    }
    llmsplit_buf_append(&s->frame, data, len);
    if (s->chunked) llmsplit_buf_append(&s->frame, "\r\n", 2);
    return s->frame.failed ? -1 : mock_conn_write(s->c, s->frame.data, s->frame.len);
}

/* A fresh writer for the next event. */
static llmsplit_json_writer *mock_event(mock_stream *s) {
    llmsplit_json_writer_free(&s->w);
    llmsplit_json_writer_init(&s->w, NULL);
    return &s->w;
}

/* Sends the event built in s->w: "event: NAME\ndata: JSON\n\n" (name optional), or "JSON\n". */
static int mock_event_send(mock_stream *s, const char *name) {
    size_t len;
    const char *json = NULL;
    llmsplit_buf ev;
    int rc;
    if (llmsplit_json_writer_result(&s->w, &json, &len, NULL) != LLMSPLIT_OK) return -1;
    if (s->events++ && s->delay_ms > 0 && !mock_wait_ms(s->c->srv, s->delay_ms)) return -1;
    llmsplit_buf_init(&ev, NULL);
    if (!s->ndjson && name) {
        llmsplit_buf_append(&ev, "event: ", 7);
        llmsplit_buf_append(&ev, name, strlen(name));
        llmsplit_buf_append(&ev, "\n", 1);
    }
    if (!s->ndjson) llmsplit_buf_append(&ev, "data: ", 6);
    llmsplit_buf_append(&ev, json, len);
    llmsplit_buf_append(&ev, s->ndjson ? "\n" : "\n\n", s->ndjson ? 1 : 2);
    rc = ev.failed ? -1 : mock_stream_raw(s, ev.data, ev.len);
    llmsplit_buf_free(&ev);
    return rc;
}

/* Sends the head, the provider's events and the end of the body. Returns 1 when the
   connection may serve another request. */
static int mock_stream_reply(mock_conn *c, mock_request *rq, const mock_api *api, const mock_chat *ch) {
    mock_stream s;
    llmsplit_buf head;
    int ok;
    memset(&s, 0, sizeof s);
    s.c = c;
    s.chunked = rq->http_minor == 1;
    s.ndjson = api->ndjson;
    s.delay_ms = ch->chunk_delay_ms;
    if (!s.chunked) rq->keep_alive = 0;   /* an HTTP/1.0 stream ends by closing */
    llmsplit_json_writer_init(&s.w, NULL);
    llmsplit_buf_init(&s.frame, NULL);
    llmsplit_buf_init(&head, NULL);
    mock_head(&head, rq, 200, api->stream_type, s.chunked ? MOCK_CHUNKED : MOCK_UNTIL_CLOSE,
              "Cache-Control: no-cache\r\n");
    ok = !head.failed && mock_conn_write(c, head.data, head.len) == 0;
    if (ok && !rq->head_only) {
        ok = api->write_stream(&s, ch) == 0;
        if (ok && s.chunked) ok = mock_conn_write(c, "0\r\n\r\n", 5) == 0;
    }
    llmsplit_buf_free(&head);
    llmsplit_buf_free(&s.frame);
    llmsplit_json_writer_free(&s.w);
    return ok && rq->keep_alive;
}

/* ==== OpenAI (and Azure OpenAI) ======================================================= */

static void mock_openai_error(llmsplit_json_writer *w, int status, const char *message) {
    llmsplit_json_write_begin_object(w);
    MOCK_KEY(w, "error");
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "message", message);
    mock_kv_cstr(w, "type", status >= 500 ? "server_error" : "invalid_request_error");
    mock_kv_null(w, "param");
    mock_kv_null(w, "code");
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_object(w);
}

static int mock_openai_read(mock_chat *ch, const llmsplit_json_val *root, char *err, size_t cap) {
    if (!mock_read_model(ch, root, "you must provide a model parameter", err, cap)) return 0;
    if (!mock_read_messages(ch, llmsplit_json_get(root, "messages"), 0,
                            "Missing required parameter: 'messages'.", err, cap))
        return 0;
    ch->stream = llmsplit_json_is_true(llmsplit_json_get(root, "stream"));
    ch->include_usage = llmsplit_json_is_true(llmsplit_json_path(root, "stream_options.include_usage"));
    return 1;
}

static void mock_openai_usage(llmsplit_json_writer *w, const mock_chat *ch) {
    MOCK_KEY(w, "usage");
    llmsplit_json_write_begin_object(w);
    mock_kv_int(w, "prompt_tokens", ch->prompt_words);
    mock_kv_int(w, "completion_tokens", ch->completion_words);
    mock_kv_int(w, "total_tokens", ch->prompt_words + ch->completion_words);
    llmsplit_json_write_end_object(w);
}

/* The members every completion and chunk starts with. */
static void mock_openai_open(llmsplit_json_writer *w, const mock_chat *ch, const char *object) {
    char id[48];
    snprintf(id, sizeof id, "chatcmpl-mock-%lu", ch->id);
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "id", id);
    mock_kv_cstr(w, "object", object);
    mock_kv_int(w, "created", ch->created);
    mock_kv_str(w, "model", ch->model, ch->model_len);
}

static void mock_openai_reply(llmsplit_json_writer *w, const mock_chat *ch) {
    mock_openai_open(w, ch, "chat.completion");
    MOCK_KEY(w, "choices");
    llmsplit_json_write_begin_array(w);
    llmsplit_json_write_begin_object(w);
    mock_kv_int(w, "index", 0);
    MOCK_KEY(w, "message");
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "role", "assistant");
    mock_kv_str(w, "content", ch->reply.data, ch->reply.len);
    llmsplit_json_write_end_object(w);
    mock_kv_cstr(w, "finish_reason", "stop");
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_array(w);
    mock_openai_usage(w, ch);
    mock_kv_cstr(w, "system_fingerprint", "fp_mock"); /* as OpenAI's answers have one */
    llmsplit_json_write_end_object(w);
}

/* One chat.completion.chunk with a single choice. role/content: NULL leaves them out of the
   delta; finish: NULL writes finish_reason null. OpenAI sends "usage":null in every chunk
   but the last when include_usage is on. */
static int mock_openai_chunk(mock_stream *s, const mock_chat *ch, const char *role, const char *content,
                             size_t content_len, const char *finish) {
    llmsplit_json_writer *w = mock_event(s);
    mock_openai_open(w, ch, "chat.completion.chunk");
    MOCK_KEY(w, "choices");
    llmsplit_json_write_begin_array(w);
    llmsplit_json_write_begin_object(w);
    mock_kv_int(w, "index", 0);
    MOCK_KEY(w, "delta");
    llmsplit_json_write_begin_object(w);
    if (role) mock_kv_cstr(w, "role", role);
    if (content) mock_kv_str(w, "content", content, content_len);
    llmsplit_json_write_end_object(w);
    if (finish) mock_kv_cstr(w, "finish_reason", finish);
    else mock_kv_null(w, "finish_reason");
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_array(w);
    if (ch->include_usage) mock_kv_null(w, "usage");
    llmsplit_json_write_end_object(w);
    return mock_event_send(s, NULL);
}

static int mock_openai_stream(mock_stream *s, const mock_chat *ch) {
    const char *text = ch->reply.data;
    size_t len = ch->reply.len, pos = 0, n;
    llmsplit_json_writer *w;
    if (mock_openai_chunk(s, ch, "assistant", "", 0, NULL)) return -1;
    while ((n = mock_next_piece(text, len, pos)) > 0) {
        if (mock_openai_chunk(s, ch, NULL, text + pos, n, NULL)) return -1;
        pos += n;
    }
    if (mock_openai_chunk(s, ch, NULL, NULL, 0, "stop")) return -1;
    if (ch->include_usage) {
        w = mock_event(s);
        mock_openai_open(w, ch, "chat.completion.chunk");
        MOCK_KEY(w, "choices");
        llmsplit_json_write_begin_array(w);
        llmsplit_json_write_end_array(w);
        mock_openai_usage(w, ch);
        llmsplit_json_write_end_object(w);
        if (mock_event_send(s, NULL)) return -1;
    }
    return mock_stream_raw(s, "data: [DONE]\n\n", 14);
}

static const mock_api mock_api_openai = {
    mock_openai_read, mock_openai_reply, mock_openai_error, mock_openai_stream, "text/event-stream", 0
};

/* ==== Anthropic messages ============================================================== */

static void mock_anthropic_error(llmsplit_json_writer *w, int status, const char *message) {
    const char *type = status >= 500 ? "api_error"
                     : status == 404 ? "not_found_error"
                     : status == 413 ? "request_too_large" : "invalid_request_error";
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "type", "error");
    MOCK_KEY(w, "error");
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "type", type);
    mock_kv_cstr(w, "message", message);
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_object(w);
}

/* Anthropic's rules: max_tokens is required, roles are user or assistant only (the system
   prompt is a top-level string or array of text blocks), and the request carries an
   anthropic-version header (checked by the caller). */
static int mock_anthropic_read(mock_chat *ch, const llmsplit_json_val *root, char *err, size_t cap) {
    const llmsplit_json_val *system = llmsplit_json_get(root, "system");
    if (!mock_read_model(ch, root, "model: Field required", err, cap)) return 0;
    if (!llmsplit_json_is_int(llmsplit_json_get(root, "max_tokens"))) {
        snprintf(err, cap, "max_tokens: Field required (an integer)");
        return 0;
    }
    if (system && llmsplit_json_type_of(system) != LLMSPLIT_JSON_STRING &&
        llmsplit_json_type_of(system) != LLMSPLIT_JSON_ARRAY) {
        snprintf(err, cap, "system: Input should be a valid string or a list of text blocks");
        return 0;
    }
    ch->prompt_words += mock_content_text(system, &ch->system);
    if (!mock_read_messages(ch, llmsplit_json_get(root, "messages"), 1,
                            "messages: Field required", err, cap))
        return 0;
    ch->stream = llmsplit_json_is_true(llmsplit_json_get(root, "stream"));
    return 1;
}

static void mock_anthropic_message(llmsplit_json_writer *w, const mock_chat *ch, int streaming) {
    char id[48];
    snprintf(id, sizeof id, "msg_mock_%lu", ch->id);
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "id", id);
    mock_kv_cstr(w, "type", "message");
    mock_kv_cstr(w, "role", "assistant");
    mock_kv_str(w, "model", ch->model, ch->model_len);
    MOCK_KEY(w, "content");
    llmsplit_json_write_begin_array(w);
    if (!streaming) {
        llmsplit_json_write_begin_object(w);
        mock_kv_cstr(w, "type", "text");
        mock_kv_str(w, "text", ch->reply.data, ch->reply.len);
        llmsplit_json_write_end_object(w);
    }
    llmsplit_json_write_end_array(w);
    if (streaming) mock_kv_null(w, "stop_reason");
    else mock_kv_cstr(w, "stop_reason", "end_turn");
    mock_kv_null(w, "stop_sequence");
    MOCK_KEY(w, "usage");
    llmsplit_json_write_begin_object(w);
    mock_kv_int(w, "input_tokens", ch->prompt_words);
    mock_kv_int(w, "output_tokens", streaming ? 0 : ch->completion_words);
    llmsplit_json_write_end_object(w);
    llmsplit_json_write_end_object(w);
}

static void mock_anthropic_reply(llmsplit_json_writer *w, const mock_chat *ch) {
    mock_anthropic_message(w, ch, 0);
}

/* Starts an event object {"type":TYPE, ...} and, for content block events, "index":0. */
static llmsplit_json_writer *mock_anthropic_event(mock_stream *s, const char *type, int indexed) {
    llmsplit_json_writer *w = mock_event(s);
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "type", type);
    if (indexed) mock_kv_int(w, "index", 0);
    return w;
}

static int mock_anthropic_end_event(mock_stream *s, const char *type) {
    llmsplit_json_write_end_object(&s->w);
    return mock_event_send(s, type);
}

/* message_start, content_block_start, ping, content_block_delta per word, content_block_stop,
   message_delta (stop_reason, output tokens), message_stop: Anthropic's named SSE events. */
static int mock_anthropic_stream(mock_stream *s, const mock_chat *ch) {
    const char *text = ch->reply.data;
    size_t len = ch->reply.len, pos = 0, n;
    llmsplit_json_writer *w = mock_anthropic_event(s, "message_start", 0);
    MOCK_KEY(w, "message");
    mock_anthropic_message(w, ch, 1);
    if (mock_anthropic_end_event(s, "message_start")) return -1;
    w = mock_anthropic_event(s, "content_block_start", 1);
    MOCK_KEY(w, "content_block");
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "type", "text");
    mock_kv_cstr(w, "text", "");
    llmsplit_json_write_end_object(w);
    if (mock_anthropic_end_event(s, "content_block_start")) return -1;
    mock_anthropic_event(s, "ping", 0);
    if (mock_anthropic_end_event(s, "ping")) return -1;
    while ((n = mock_next_piece(text, len, pos)) > 0) {
        w = mock_anthropic_event(s, "content_block_delta", 1);
        MOCK_KEY(w, "delta");
        llmsplit_json_write_begin_object(w);
        mock_kv_cstr(w, "type", "text_delta");
        mock_kv_str(w, "text", text + pos, n);
        llmsplit_json_write_end_object(w);
        if (mock_anthropic_end_event(s, "content_block_delta")) return -1;
        pos += n;
    }
    mock_anthropic_event(s, "content_block_stop", 1);
    if (mock_anthropic_end_event(s, "content_block_stop")) return -1;
    w = mock_anthropic_event(s, "message_delta", 0);
    MOCK_KEY(w, "delta");
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "stop_reason", "end_turn");
    mock_kv_null(w, "stop_sequence");
    llmsplit_json_write_end_object(w);
    MOCK_KEY(w, "usage");
    llmsplit_json_write_begin_object(w);
    mock_kv_int(w, "output_tokens", ch->completion_words);
    llmsplit_json_write_end_object(w);
    if (mock_anthropic_end_event(s, "message_delta")) return -1;
    mock_anthropic_event(s, "message_stop", 0);
    return mock_anthropic_end_event(s, "message_stop");
}

static const mock_api mock_api_anthropic = {
    mock_anthropic_read, mock_anthropic_reply, mock_anthropic_error, mock_anthropic_stream,
    "text/event-stream", 0
};

/* ==== Ollama chat ===================================================================== */

static void mock_ollama_error(llmsplit_json_writer *w, int status, const char *message) {
    (void)status;
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "error", message);
    llmsplit_json_write_end_object(w);
}

/* Ollama streams unless the request says "stream": false. */
static int mock_ollama_read(mock_chat *ch, const llmsplit_json_val *root, char *err, size_t cap) {
    const llmsplit_json_val *stream = llmsplit_json_get(root, "stream");
    if (!mock_read_model(ch, root, "model is required", err, cap)) return 0;
    if (!mock_read_messages(ch, llmsplit_json_get(root, "messages"), 0, "messages is required", err, cap))
        return 0;
    ch->stream = stream ? llmsplit_json_is_true(stream) : 1;
    return 1;
}

/* "model", "created_at" (RFC 3339 UTC, as Ollama writes it) and the assistant message. */
static void mock_ollama_open(llmsplit_json_writer *w, const mock_chat *ch, const char *content, size_t len) {
    struct timespec ts;
    struct tm tm;
    char when[64];
    time_t secs;
    clock_gettime(CLOCK_REALTIME, &ts);
    secs = ts.tv_sec;
    gmtime_r(&secs, &tm);
    strftime(when, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + strlen(when), sizeof when - strlen(when), ".%09ldZ", (long)ts.tv_nsec);
    llmsplit_json_write_begin_object(w);
    mock_kv_str(w, "model", ch->model, ch->model_len);
    mock_kv_cstr(w, "created_at", when);
    MOCK_KEY(w, "message");
    llmsplit_json_write_begin_object(w);
    mock_kv_cstr(w, "role", "assistant");
    mock_kv_str(w, "content", content, len);
    llmsplit_json_write_end_object(w);
}

/* The final object's members: done, reason, counts and durations (nanoseconds). */
static void mock_ollama_close(llmsplit_json_writer *w, const mock_chat *ch) {
    int64_t ns = (int64_t)(mock_now_ns() - ch->start_ns);
    mock_kv_cstr(w, "done_reason", "stop");
    MOCK_KEY(w, "done");
    llmsplit_json_write_bool(w, 1);
    mock_kv_int(w, "total_duration", ns);
    mock_kv_int(w, "load_duration", 0);
    mock_kv_int(w, "prompt_eval_count", ch->prompt_words);
    mock_kv_int(w, "prompt_eval_duration", 0);
    mock_kv_int(w, "eval_count", ch->completion_words);
    mock_kv_int(w, "eval_duration", ns);
    llmsplit_json_write_end_object(w);
}

static void mock_ollama_reply(llmsplit_json_writer *w, const mock_chat *ch) {
    mock_ollama_open(w, ch, ch->reply.data, ch->reply.len);
    mock_ollama_close(w, ch);
}

/* One JSON object per line: a message piece per word with "done":false, then the final one. */
static int mock_ollama_stream(mock_stream *s, const mock_chat *ch) {
    const char *text = ch->reply.data;
    size_t len = ch->reply.len, pos = 0, n;
    llmsplit_json_writer *w;
    while ((n = mock_next_piece(text, len, pos)) > 0) {
        w = mock_event(s);
        mock_ollama_open(w, ch, text + pos, n);
        MOCK_KEY(w, "done");
        llmsplit_json_write_bool(w, 0);
        llmsplit_json_write_end_object(w);
        if (mock_event_send(s, NULL)) return -1;
        pos += n;
    }
    w = mock_event(s);
    mock_ollama_open(w, ch, "", 0);
    mock_ollama_close(w, ch);
    return mock_event_send(s, NULL);
}

static const mock_api mock_api_ollama = {
    mock_ollama_read, mock_ollama_reply, mock_ollama_error, mock_ollama_stream, "application/x-ndjson", 1
};

/* ==== routing and the chat handler ==================================================== */

/* Sends status with a message in the API's error format. */
static int mock_reply_error(mock_conn *c, mock_request *rq, const mock_api *api, int status,
                            const char *message, const char *extra) {
    llmsplit_json_writer w;
    int keep;
    llmsplit_json_writer_init(&w, NULL);
    api->write_error(&w, status, message);
    keep = mock_send_json(c, rq, status, &w, extra);
    llmsplit_json_writer_free(&w);
    return keep;
}

/* ==== the judge (see THE JUDGE at the top) ============================================ */

/* A model's tag in --blind replies: 32-bit FNV-1a of its name. */
static uint32_t mock_tag(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    while (n--) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static int mock_starts(const char *s, size_t n, const char *prefix) {
    size_t l = strlen(prefix);
    return s && n >= l && memcmp(s, prefix, l) == 0;
}

/* The text between the lines "[LABEL]" and "[End of LABEL]" (LABEL "Answer A", ...). */
static int mock_section(const char *t, size_t n, const char *label, const char **out, size_t *len) {
    char open[32], close[40];
    const char *a, *e, *end = t + n;
    size_t ol, cl;
    if (!t) return 0;
    snprintf(open, sizeof open, "\n[%s]\n", label);
    snprintf(close, sizeof close, "\n[End of %c%s]", label[0] + 'a' - 'A', label + 1);
    ol = strlen(open);
    cl = strlen(close);
    for (a = t; a + ol <= end && memcmp(a, open, ol) != 0; a++) {}
    if (a + ol > end) return 0;
    a += ol;
    for (e = a; e + cl <= end && memcmp(e, close, cl) != 0; e++) {}
    if (e + cl > end) return 0;
    *out = a;
    *len = (size_t)(e - a);
    return 1;
}

/* 1 when the answer is a reply the mock wrote for the knob's model ("*": any answer). */
static int mock_wrote(const mock_knob *k, const char *a, size_t n) {
    char tag[16];
    if (k->model_len == 1 && k->model[0] == '*') return 1;
    snprintf(tag, sizeof tag, "#%08x:", (unsigned)mock_tag(k->model, k->model_len));
    if (mock_starts(a, n, "mock reply from "))
        return n >= 16 + k->model_len + 2 && memcmp(a + 16, k->model, k->model_len) == 0 &&
               memcmp(a + 16 + k->model_len, ": ", 2) == 0;
    return mock_starts(a, n, "mock reply ") && n >= 11 + strlen(tag) && memcmp(a + 11, tag, strlen(tag)) == 0;
}

/* The last knob whose model wrote the answer, or NULL. */
static const mock_knob *mock_writer(const mock_knob *k, size_t nk, const char *a, size_t n) {
    while (nk-- > 0)
        if (mock_wrote(&k[nk], a, n)) return &k[nk];
    return NULL;
}

static int mock_chance(mock_server *srv, double rate) {
    return rate >= 1.0 || (rate > 0.0 && mock_random01(srv) < rate);
}

/* The verdict of a judge request into ch->reply; 0 when the request is not a judge's. */
static int mock_judge(mock_server *srv, mock_chat *ch) {
    const char *t = ch->last_user.data, *a = NULL, *b = NULL;
    size_t n = ch->last_user.len, al = 0, bl = 0;
    int pair = mock_starts(ch->system.data, ch->system.len, "[llmsplit judge: pairwise]");
    char out[64];
    if (!pair && !mock_starts(ch->system.data, ch->system.len, "[llmsplit judge: score]")) return 0;
    if (mock_chance(srv, srv->malformed)) {
        snprintf(out, sizeof out, "The first answer is better, I think.");
    } else if (pair) {
        int pa, pb;
        mock_section(t, n, "Answer A", &a, &al);
        mock_section(t, n, "Answer B", &b, &bl);
        pa = a && mock_writer(srv->prefers, srv->n_prefers, a, al);
        pb = b && mock_writer(srv->prefers, srv->n_prefers, b, bl);
        snprintf(out, sizeof out, "{\"winner\": \"%s\"}",
                 mock_chance(srv, srv->position_bias) || (pa && !pb) ? "A" : pb && !pa ? "B" : "tie");
    } else {
        const mock_knob *k = mock_section(t, n, "Answer", &a, &al) ? mock_writer(srv->score, srv->n_score, a, al) : NULL;
        snprintf(out, sizeof out, "{\"score\": %d}", k ? (int)k->value : 5);
    }
    llmsplit_buf_append(&ch->reply, out, strlen(out));
    return 1;
}

/* The Retry-After header line for an error answer to this model (--retry-after), or NULL. */
static const char *mock_retry_after(mock_server *srv, const mock_chat *ch, char *buf, size_t cap) {
    const mock_knob *k = mock_knob_find(srv->retry_after, srv->n_retry_after, ch->model, ch->model_len);
    if (!k) return NULL;
    snprintf(buf, cap, "Retry-After: %lld\r\n", (long long)k->value);
    return buf;
}

/* Builds the reply text and counts its words. 0 when out of memory. */
static int mock_make_reply(mock_server *srv, mock_chat *ch) {
    if (!mock_judge(srv, ch)) {
        char tag[16];
        snprintf(tag, sizeof tag, "#%08x", (unsigned)mock_tag(ch->model, ch->model_len));
        llmsplit_buf_append(&ch->reply, "mock reply ", 11);
        if (srv->blind) llmsplit_buf_append(&ch->reply, tag, strlen(tag));
        else llmsplit_buf_append(&ch->reply, "from ", 5);
        if (!srv->blind) llmsplit_buf_append(&ch->reply, ch->model, ch->model_len);
        llmsplit_buf_append(&ch->reply, ": ", 2);
        llmsplit_buf_append(&ch->reply, ch->last_user.data, ch->last_user.len);
    }
    ch->completion_words = mock_count_words(ch->reply.data, ch->reply.len);
    return !ch->reply.failed && !ch->last_user.failed && !ch->system.failed;
}

/* --log-requests: the body, minified, as one line. */
static void mock_log_request(mock_server *srv, const llmsplit_json_doc *doc) {
    llmsplit_json_writer w;
    const char *json;
    size_t len;
    if (!srv->log_requests) return;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_value(&w, llmsplit_json_root(doc));
    if (llmsplit_json_writer_result(&w, &json, &len, NULL) == LLMSPLIT_OK) {
        pthread_mutex_lock(&srv->lock);
        fwrite(json, 1, len, srv->log_requests);
        fputc('\n', srv->log_requests);
        fflush(srv->log_requests);
        pthread_mutex_unlock(&srv->lock);
    }
    llmsplit_json_writer_free(&w);
}

/* Answers one chat request: parse, validate, apply the knobs, reply or stream. */
static int mock_chat_request(mock_conn *c, mock_request *rq, const mock_api *api, const char *deployment,
                             size_t deployment_len) {
    mock_server *srv = c->srv;
    llmsplit_error jerr;
    llmsplit_json_doc *doc = NULL;
    llmsplit_json_parse(rq->body, rq->body_len, NULL, &doc, &jerr);
    const mock_knob *knob;
    mock_chat ch;
    char err[512], extra[64];
    int keep;
    if (!doc) {
        snprintf(err, sizeof err, "We could not parse the JSON body of your request: %d:%d: %s",
                 jerr.line, jerr.col, jerr.message);
        return mock_reply_error(c, rq, api, 400, err, NULL);
    }
    memset(&ch, 0, sizeof ch);
    ch.id = rq->id;
    ch.created = (long long)time(NULL);
    ch.start_ns = mock_now_ns();
    ch.model = deployment;
    ch.model_len = deployment_len;
    llmsplit_buf_init(&ch.last_user, NULL);
    llmsplit_buf_init(&ch.system, NULL);
    llmsplit_buf_init(&ch.reply, NULL);
    mock_log_request(srv, doc);
    if (llmsplit_json_type_of(llmsplit_json_root(doc)) != LLMSPLIT_JSON_OBJECT) {
        keep = mock_reply_error(c, rq, api, 400, "The request body must be a JSON object.", NULL);
    } else if (!api->read_request(&ch, llmsplit_json_root(doc), err, sizeof err)) {
        keep = mock_reply_error(c, rq, api, 400, err, NULL);
    } else if (!mock_make_reply(srv, &ch)) {
        keep = mock_reply_error(c, rq, api, 500, "mock: out of memory", NULL);
    } else if ((knob = mock_knob_find(srv->latency, srv->n_latency, ch.model, ch.model_len)) &&
               !mock_wait_ms(srv, knob->value)) {
        keep = 0;   /* shutting down */
    } else if ((knob = mock_knob_find(srv->status, srv->n_status, ch.model, ch.model_len)) != NULL) {
        snprintf(err, sizeof err, "mock status %d for model '%.*s' (--status)", (int)knob->value,
                 mock_clip(ch.model, ch.model_len, 300), ch.model);
        keep = mock_reply_error(c, rq, api, (int)knob->value, err, mock_retry_after(srv, &ch, extra, sizeof extra));
    } else if ((knob = mock_knob_find(srv->fail, srv->n_fail, ch.model, ch.model_len)) &&
               (knob->value >= 1.0 || mock_random01(srv) < knob->value)) {
        snprintf(err, sizeof err, "mock failure injected for model '%.*s' (--fail rate %g)",
                 mock_clip(ch.model, ch.model_len, 300), ch.model, knob->value);
        keep = mock_reply_error(c, rq, api, 500, err, mock_retry_after(srv, &ch, extra, sizeof extra));
    } else if (ch.stream) {
        if ((knob = mock_knob_find(srv->chunk_delay, srv->n_chunk_delay, ch.model, ch.model_len)) != NULL)
            ch.chunk_delay_ms = knob->value;
        keep = mock_stream_reply(c, rq, api, &ch);
    } else {
        llmsplit_json_writer w;
        llmsplit_json_writer_init(&w, NULL);
        api->write_reply(&w, &ch);
        keep = mock_send_json(c, rq, 200, &w, NULL);
        llmsplit_json_writer_free(&w);
    }
    llmsplit_buf_free(&ch.last_user);
    llmsplit_buf_free(&ch.system);
    llmsplit_buf_free(&ch.reply);
    llmsplit_json_free(doc);
    return keep;
}

/* 1 when the query string has NAME=VALUE with a non-empty value. */
static int mock_query_has(const char *q, size_t n, const char *name) {
    size_t i = 0, nl = strlen(name);
    while (i < n) {
        size_t end = i;
        while (end < n && q[end] != '&') end++;
        if (end - i > nl + 1 && memcmp(q + i, name, nl) == 0 && q[i + nl] == '=') return 1;
        i = end + 1;
    }
    return 0;
}

static const struct mock_route {
    const char *path;
    const mock_api *api;
} mock_routes[] = {
    {"/v1/chat/completions", &mock_api_openai},
    {"/chat/completions", &mock_api_openai},
    {"/v1/messages", &mock_api_anthropic},
    {"/api/chat", &mock_api_ollama},
};

/* Azure's /openai/deployments/D/chat/completions: sets the deployment name D. */
static int mock_azure_path(const char *p, size_t n, const char **dep, size_t *dep_len) {
    static const char pre[] = "/openai/deployments/", post[] = "/chat/completions";
    size_t i;
    if (n <= sizeof pre - 1 + sizeof post - 1 || memcmp(p, pre, sizeof pre - 1) != 0 ||
        memcmp(p + n - (sizeof post - 1), post, sizeof post - 1) != 0)
        return 0;
    *dep = p + sizeof pre - 1;
    *dep_len = n - (sizeof pre - 1) - (sizeof post - 1);
    for (i = 0; i < *dep_len; i++)
        if ((*dep)[i] == '/') return 0;
    return 1;
}

/* Routes one request. Returns 1 when the connection may serve another request. */
static int mock_handle(mock_conn *c, mock_request *rq) {
    const char *path = rq->target, *q = memchr(rq->target, '?', rq->target_len);
    size_t path_len = q ? (size_t)(q - path) : rq->target_len, q_len = q ? rq->target_len - path_len - 1 : 0;
    const mock_api *api = NULL;
    const char *dep = NULL;
    size_t dep_len = 0, i;
    char msg[256];
    for (i = 0; i < sizeof mock_routes / sizeof mock_routes[0]; i++)
        if (strlen(mock_routes[i].path) == path_len && memcmp(mock_routes[i].path, path, path_len) == 0)
            api = mock_routes[i].api;
    if (!api && mock_azure_path(path, path_len, &dep, &dep_len)) {
        api = &mock_api_openai;
        if (!q || !mock_query_has(q + 1, q_len, "api-version"))
            return mock_reply_error(c, rq, api, 404, "Resource not found: the api-version query parameter is required", NULL);
    }
    if (!api) {
        snprintf(msg, sizeof msg, "Invalid URL (%s %.*s)", rq->method, mock_clip(path, path_len, 200), path);
        return mock_reply_error(c, rq, &mock_api_openai, 404, msg, NULL);
    }
    if (strcmp(rq->method, "POST") != 0) {
        snprintf(msg, sizeof msg, "Method %s not allowed for %.*s; use POST", rq->method,
                 mock_clip(path, path_len, 200), path);
        return mock_reply_error(c, rq, api, 405, msg, "Allow: POST\r\n");
    }
    if (api == &mock_api_anthropic && !rq->has_anthropic_version)
        return mock_reply_error(c, rq, api, 400, "anthropic-version: header is required", NULL);
    return mock_chat_request(c, rq, api, dep, dep_len);
}

/* ==== connections ===================================================================== */

/* Half-closes, then briefly reads and drops what the client still sends: closing with unread
   bytes (say, the body of a refused request) makes the kernel send a reset, which can destroy
   our response before the client has read it. */
static void mock_linger(mock_conn *c) {
    char sink[4096];
    uint64_t deadline = mock_now_ms() + 2000;
    shutdown(c->fd, SHUT_WR);
    c->timeout_ms = 500;
    while (mock_now_ms() < deadline && mock_sock_read(c, sink, sizeof sink) > 0) {}
}

/* Ends the connection: TLS close_notify (briefly), the socket, the thread's memory. The
   connection leaves the server's list last, so the main thread's drain waits for it. */
static void mock_conn_end(mock_conn *c, int graceful) {
    mock_server *srv = c->srv;
    int fd;
    if (!graceful) {
        /* nothing was exchanged: close at once */
    } else if (c->ssl) {
        c->timeout_ms = MOCK_CLOSE_TIMEOUT_MS;
        br_sslio_close(&c->io);
    } else {
        mock_linger(c);
    }
    pthread_mutex_lock(&srv->lock);
    fd = c->fd;
    c->fd = -1;
    pthread_mutex_unlock(&srv->lock);
    close(fd);
    free(c->ssl);
    free(c->iobuf);
    free(c->buf);
    pthread_mutex_lock(&srv->lock);
    if (c->prev) c->prev->next = c->next;
    else srv->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    srv->n_conns--;
    pthread_cond_broadcast(&srv->changed);
    pthread_mutex_unlock(&srv->lock);
    free(c);
}

static void *mock_conn_main(void *arg) {
    mock_conn *c = (mock_conn *)arg;
    mock_request rq;
    if (c->srv->tls && !mock_tls_start(c)) {
        free(c->ssl);
        c->ssl = NULL;   /* nothing to close_notify */
    } else {
        while (!mock_is_stopping(c->srv)) {
            int st = mock_read_request(c, &rq), keep;
            if (st < 0) break;
            rq.id = mock_next_id(c->srv);
            if (st > 0) {   /* refused: say why, then close (the stream may be out of sync) */
                mock_reply_error(c, &rq, &mock_api_openai, st, rq.error, NULL);
                break;
            }
            keep = mock_handle(c, &rq);
            c->served++;
            mock_consume(c, rq.head_len + rq.body_len);
            if (!keep) break;
        }
    }
    mock_conn_end(c, 1);
    return NULL;
}

/* Registers the accepted socket and starts its thread (with SIGINT/SIGTERM blocked, so that
   signals reach the main thread's accept loop). */
static void mock_accept_one(mock_server *srv) {
    int fd = accept(srv->listen_fd, NULL, NULL), one = 1, ok;
    struct timeval tv;
    pthread_attr_t attr;
    pthread_t tid;
    sigset_t block, old;
    mock_conn *c;
    if (fd < 0) {
        /* e.g. EMFILE: back off instead of spinning on a listener that stays readable */
        if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) poll(NULL, 0, 50);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* stream events go out at once */
    tv.tv_sec = MOCK_WRITE_TIMEOUT_S;
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    c = (mock_conn *)calloc(1, sizeof *c);
    pthread_mutex_lock(&srv->lock);
    if (!c || srv->n_conns >= MOCK_MAX_CONNS) {
        pthread_mutex_unlock(&srv->lock);
        free(c);
        close(fd);
        return;
    }
    c->srv = srv;
    c->fd = fd;
    c->next = srv->conns;
    if (srv->conns) srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    pthread_mutex_unlock(&srv->lock);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    ok = pthread_create(&tid, &attr, mock_conn_main, c) == 0;
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!ok) mock_conn_end(c, 0);   /* on the accept thread: no lingering */
}

/* ==== start-up, signals, shutdown ===================================================== */

static volatile sig_atomic_t mock_wake_fd = -1;

static void mock_on_signal(int sig) {
    int saved = errno;
    char b = (char)sig;
    if (mock_wake_fd >= 0) {
        ssize_t r = write(mock_wake_fd, &b, 1);
        (void)r;
    }
    errno = saved;
}

static void mock_install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = mock_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Splits HOST:PORT or [V6]:PORT. Returns 0 on a malformed spec. */
static int mock_split_listen(const char *spec, char *host, size_t cap, const char **port) {
    const char *colon;
    size_t n;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':') return 0;
        n = (size_t)(close - spec - 1);
        if (n == 0 || n >= cap) return 0;
        memcpy(host, spec + 1, n);
        *port = close + 2;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || colon == spec || memchr(spec, ':', (size_t)(colon - spec))) return 0;
        n = (size_t)(colon - spec);
        if (n >= cap) return 0;
        memcpy(host, spec, n);
        *port = colon + 1;
    }
    host[n] = 0;
    n = strlen(*port);
    if (n == 0 || n > 5 || strspn(*port, "0123456789") != n || atol(*port) > 65535) return 0;
    return 1;
}

/* Binds and listens; prints nothing. Returns the bound port, or -1 with err set. */
static int mock_listen(mock_server *srv, const char *host, const char *port, char *err, size_t cap) {
    struct sockaddr_storage sa;
    int fd = tool_listen(host, port, 128, &sa, err, cap);
    if (fd < 0) return -1;
    srv->listen_fd = fd;
    return sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)(void *)&sa)->sin6_port)
                                    : ntohs(((struct sockaddr_in *)(void *)&sa)->sin_port);
}

/* Accepts until a signal arrives on the self-pipe. */
static void mock_serve(mock_server *srv) {
    for (;;) {
        struct pollfd p[2];
        p[0].fd = srv->listen_fd;
        p[0].events = POLLIN;
        p[1].fd = srv->wake[0];
        p[1].events = POLLIN;
        p[0].revents = p[1].revents = 0;
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) break;
        if (p[0].revents & POLLIN) mock_accept_one(srv);
    }
}

/* Stops every connection and waits for their threads. Returns 1 when all have ended. */
static int mock_drain(mock_server *srv) {
    struct timespec until;
    mock_conn *c;
    int all_ended;
    close(srv->listen_fd);
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += MOCK_DRAIN_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&srv->lock);
    srv->stopping = 1;
    for (c = srv->conns; c; c = c->next)
        if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);   /* wakes threads blocked in poll or recv */
    pthread_cond_broadcast(&srv->changed);           /* wakes threads sleeping for --latency */
    while (srv->n_conns > 0 && pthread_cond_timedwait(&srv->changed, &srv->lock, &until) != ETIMEDOUT) {}
    all_ended = srv->n_conns == 0;
    pthread_mutex_unlock(&srv->lock);
    return all_ended;
}

static void mock_help(void) {
    printf("usage: llmsplit mock [--listen HOST:PORT] [--tls-cert FILE --tls-key FILE]\n"
           "                     [--latency MODEL=MS]... [--fail MODEL=RATE]... [--blind] [--log-requests FILE]\n"
           "                     [--judge-prefers MODEL]... [--judge-position-bias RATE]\n"
           "                     [--judge-score MODEL=N]... [--judge-malformed RATE]\n"
           "                     [--status MODEL=CODE]...\n"
           "                     [--retry-after MODEL=S]... [--chunk-delay MODEL=MS]...\n"
           "  runs a mock LLM provider: OpenAI (/v1/chat/completions, /chat/completions),\n"
           "  Azure (/openai/deployments/D/chat/completions?api-version=V), Anthropic (/v1/messages)\n"
           "  and Ollama (/api/chat), streaming too, answering 'mock reply from MODEL: <last user message>'.\n"
           "  --listen      address to bind (default 127.0.0.1:0; port 0 picks a free port; [::1]:0 for IPv6)\n"
           "  --tls-cert    PEM certificate chain, leaf first (serves https with --tls-key)\n"
           "  --tls-key     PEM private key (EC or RSA; SEC1, PKCS#1 or PKCS#8, unencrypted)\n"
           "  --latency     wait MS milliseconds before answering MODEL ('*': every model)\n"
           "  --fail        answer that share (0..1) of MODEL's requests with HTTP 500\n"
           "  --blind       answer 'mock reply #TAG: ...' (TAG: FNV-1a of the model name), naming no model\n"
           "  --log-requests  append every chat request's body, minified, one line each, to FILE\n"
           "  judge requests (system message starting '[llmsplit judge: pairwise]' or '[llmsplit judge: score]'):\n"
           "  --judge-prefers MODEL   pairwise: the answer MODEL wrote wins over one it did not (repeatable)\n"
           "  --judge-position-bias RATE  pairwise: that share answered {\"winner\": \"A\"} whatever the answers\n"
           "  --judge-score MODEL=N   score: N (1..10) for answers MODEL wrote ('*': any; default 5)\n"
           "  --judge-malformed RATE  that share of judge requests answered with no verdict\n"
           "  --status      answer every request for MODEL with HTTP CODE (400..599) and an error body\n"
           "  --retry-after send 'Retry-After: S' with MODEL's error answers (--fail, --status)\n"
           "  --chunk-delay wait MS milliseconds before each stream event of MODEL but the first\n"
           "prints 'listening on http://HOST:PORT' when ready; runs until SIGINT or SIGTERM.\n");
}

/* Parses MODEL=VALUE (the value follows the last '='). 0 on a malformed knob. */
static int mock_parse_knob(const char *arg, double lo, double hi, int integer, mock_knob *k) {
    const char *eq = strrchr(arg, '=');
    char *end;
    double v;
    if (!eq || eq == arg || eq[1] == 0) return 0;
    errno = 0;
    v = strtod(eq + 1, &end);
    if (*end || errno || !(v >= lo && v <= hi) || (integer && v != (double)(long long)v)) return 0;
    k->model = arg;
    k->model_len = (size_t)(eq - arg);
    k->value = v;
    return 1;
}

typedef struct mock_options {
    const char *listen, *cert, *key, *log_requests;
} mock_options;

/* Reads the command line into opt and srv's knob arrays. 0 ok, else the exit code. */
/* A rate between 0 and 1 into *out. 0 when malformed. */
static int mock_parse_rate(const char *v, double *out) {
    char *end;
    double r;
    errno = 0;
    r = strtod(v, &end);
    if (!*v || *end || errno || !(r >= 0 && r <= 1)) return 0;
    *out = r;
    return 1;
}

static int mock_parse_args(int argc, char **argv, mock_options *opt, mock_server *srv) {
    static const char *const known[] = {"--listen", "--tls-cert", "--tls-key", "--latency", "--fail", "--log-requests",
                                        "--judge-prefers", "--judge-position-bias", "--judge-score", "--judge-malformed", "--status",
                                        "--retry-after", "--chunk-delay",
                                        NULL};
    int i, k;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (tool_is_help(a)) { mock_help(); return -1; }
        if (strcmp(a, "--blind") == 0) { srv->blind = 1; continue; }
        for (k = 0; known[k] && strcmp(a, known[k]) != 0; k++) {}
        if (!known[k]) return tool_fail(LLMSPLIT_ERR_USAGE, "unknown option '%s' for mock (try llmsplit mock --help)", a);
        if (!v) return tool_fail(LLMSPLIT_ERR_USAGE, "%s needs a value", a);
        i++;
        if (strcmp(a, "--listen") == 0) opt->listen = v;
        else if (strcmp(a, "--tls-cert") == 0) opt->cert = v;
        else if (strcmp(a, "--tls-key") == 0) opt->key = v;
        else if (strcmp(a, "--log-requests") == 0) opt->log_requests = v;
        else if (strcmp(a, "--latency") == 0) {
            if (!mock_parse_knob(v, 0, MOCK_MAX_LATENCY_MS, 1, &srv->latency[srv->n_latency++]))
                return tool_fail(LLMSPLIT_ERR_USAGE, "--latency wants MODEL=MS with MS a whole number of milliseconds (got '%s')", v);
        } else if (strcmp(a, "--judge-prefers") == 0) {
            mock_knob *p = &srv->prefers[srv->n_prefers++];
            if (!*v) return tool_fail(LLMSPLIT_ERR_USAGE, "--judge-prefers wants a model name");
            p->model = v;
            p->model_len = strlen(v);
        } else if (strcmp(a, "--judge-score") == 0) {
            if (!mock_parse_knob(v, 1, 10, 1, &srv->score[srv->n_score++]))
                return tool_fail(LLMSPLIT_ERR_USAGE, "--judge-score wants MODEL=N with N a whole number from 1 to 10 (got '%s')", v);
        } else if (strcmp(a, "--judge-position-bias") == 0 || strcmp(a, "--judge-malformed") == 0) {
            if (!mock_parse_rate(v, strcmp(a, "--judge-malformed") ? &srv->position_bias : &srv->malformed))
                return tool_fail(LLMSPLIT_ERR_USAGE, "%s wants a RATE between 0 and 1 (got '%s')", a, v);
        } else if (strcmp(a, "--status") == 0) {
            if (!mock_parse_knob(v, 400, 599, 1, &srv->status[srv->n_status++]))
                return tool_fail(LLMSPLIT_ERR_USAGE, "--status wants MODEL=CODE with CODE between 400 and 599 (got '%s')", v);
        } else if (strcmp(a, "--retry-after") == 0) {
            if (!mock_parse_knob(v, 0, 86400, 1, &srv->retry_after[srv->n_retry_after++]))
                return tool_fail(LLMSPLIT_ERR_USAGE, "--retry-after wants MODEL=S with S whole seconds up to 86400 (got '%s')", v);
        } else if (strcmp(a, "--chunk-delay") == 0) {
            if (!mock_parse_knob(v, 0, MOCK_MAX_LATENCY_MS, 1, &srv->chunk_delay[srv->n_chunk_delay++]))
                return tool_fail(LLMSPLIT_ERR_USAGE, "--chunk-delay wants MODEL=MS with MS a whole number of milliseconds (got '%s')", v);
        } else if (!mock_parse_knob(v, 0, 1, 0, &srv->fail[srv->n_fail++])) {
            return tool_fail(LLMSPLIT_ERR_USAGE, "--fail wants MODEL=RATE with RATE between 0 and 1 (got '%s')", v);
        }
    }
    if (!opt->cert != !opt->key)
        return tool_fail(LLMSPLIT_ERR_USAGE, "--tls-cert and --tls-key go together");
    return 0;
}

/* Loads TLS, binds, prints the address and serves until a signal. */
static int mock_run(mock_server *srv, const mock_options *opt) {
    char host[256], err[600];
    const char *port;
    int bound;
    if (!mock_split_listen(opt->listen, host, sizeof host, &port))
        return tool_fail(LLMSPLIT_ERR_USAGE, "--listen wants HOST:PORT or [IPV6]:PORT (got '%s')", opt->listen);
    if (opt->cert && !(srv->tls = mock_tls_load(opt->cert, opt->key, err, sizeof err)))
        return tool_fail(LLMSPLIT_ERR_USAGE, "%s", err);
    if (opt->log_requests && !(srv->log_requests = fopen(opt->log_requests, "a")))
        return tool_fail(LLMSPLIT_ERR_USAGE, "cannot open --log-requests %s: %s", opt->log_requests, strerror(errno));
    bound = mock_listen(srv, host, port, err, sizeof err);
    if (bound < 0) return tool_fail(LLMSPLIT_ERR_NETWORK, "%s", err);
    if (pipe(srv->wake) != 0) {
        tool_say("network", "pipe: %s", strerror(errno));
        close(srv->listen_fd);
        return EXIT_OTHER;
    }
    mock_wake_fd = srv->wake[1];
    mock_install_signals();
    printf("listening on %s://%s%s%s:%d\n", srv->tls ? "https" : "http", strchr(host, ':') ? "[" : "",
           host, strchr(host, ':') ? "]" : "", bound);
    fflush(stdout);
    mock_serve(srv);
    if (!mock_drain(srv)) {
        /* a thread is still stuck in a write: leave the shared state to the process exit */
        tool_say("mock", "%lu connection(s) still open at exit", (unsigned long)srv->n_conns);
        exit(0);
    }
    mock_wake_fd = -1;
    close(srv->wake[0]);
    close(srv->wake[1]);
    return 0;
}

int cmd_mock(int argc, char **argv) {
    mock_server srv;
    mock_options opt;
    pthread_condattr_t ca;
    int rc;
    memset(&srv, 0, sizeof srv);
    memset(&opt, 0, sizeof opt);
    opt.listen = "127.0.0.1:0";
    srv.listen_fd = -1;
    /* at most one knob per argument */
    srv.latency = (mock_knob *)calloc((size_t)argc + 1, sizeof *srv.latency);
    srv.fail = (mock_knob *)calloc((size_t)argc + 1, sizeof *srv.fail);
    srv.prefers = (mock_knob *)calloc((size_t)argc + 1, sizeof *srv.prefers);
    srv.score = (mock_knob *)calloc((size_t)argc + 1, sizeof *srv.score);
    srv.status = (mock_knob *)calloc((size_t)argc + 1, sizeof *srv.status);
    srv.retry_after = (mock_knob *)calloc((size_t)argc + 1, sizeof *srv.retry_after);
    srv.chunk_delay = (mock_knob *)calloc((size_t)argc + 1, sizeof *srv.chunk_delay);
    srv.rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ mock_now_ms();
    pthread_mutex_init(&srv.lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* timed waits use CLOCK_MONOTONIC deadlines */
    pthread_cond_init(&srv.changed, &ca);
    pthread_condattr_destroy(&ca);
    if (!srv.latency || !srv.fail || !srv.prefers || !srv.score || !srv.status || !srv.retry_after || !srv.chunk_delay)
        rc = tool_fail(LLMSPLIT_ERR_NOMEM, "out of memory");
    else if ((rc = mock_parse_args(argc, argv, &opt, &srv)) == 0) rc = mock_run(&srv, &opt);
    else if (rc < 0) rc = EXIT_OK;   /* --help */
    mock_tls_free(srv.tls);
    if (srv.log_requests) fclose(srv.log_requests);
    free(srv.latency);
    free(srv.fail);
    free(srv.prefers);
    free(srv.score);
    free(srv.status);
    free(srv.retry_after);
    free(srv.chunk_delay);
    pthread_cond_destroy(&srv.changed);
    pthread_mutex_destroy(&srv.lock);
    return rc;
}
