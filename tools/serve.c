/* serve.c - `llmsplit serve`: an OpenAI-compatible gateway on the client of llmsplit.h.

       llmsplit serve --config FILE [--listen HOST:PORT] [--log FILE] [--workers N]
                      [--max-conns N] [--max-body BYTES] [--no-auth]

   Any OpenAI SDK pointed at it (base URL http://127.0.0.1:4000/v1; 4000 is LiteLLM's proxy
   port, so a LiteLLM user changes nothing) gets the config's split, mirroring, retries,
   fallbacks and rollback, with the client's records in --log. tools/llmsplit.c includes this
   file; it uses only the public API of llmsplit.h, POSIX sockets, pthreads and Linux's epoll.

   ROUTES (serve_routes below)
       POST /v1/chat/completions, /chat/completions   model = a group of the config
       POST /v1/feedback                              {"request_id", "metric", "value"}
       GET  /v1/models, /models                       the groups
       GET  /health/liveliness, /health/readiness     no key needed
       GET  /metrics                                  Prometheus text format
       /config..., /stats..., /ui...                  the control plane (tools/ui.c, serve.h)

   CONCURRENCY. Event loops, one thread each (--workers, default one per processor), and a
   coroutine per request. A connection belongs to one loop from its accept to its close and sits
   in that loop's epoll set once, edge-triggered for input, output and hang-up: no epoll_ctl is
   made per request. When bytes come, the loop starts a coroutine for the connection (a small
   stack, SERVE_STACK, reused from request to request); it reads what has arrived without
   blocking, and an incomplete request (a slow client, a slowloris) lets the connection wait
   with no coroutine at all. A complete request is answered by that coroutine: the client's call
   runs with llmsplit_request.wait_socket set, so where it would block (the upstream's answer, a
   connect, a TLS handshake, a retry's pause) it hands the thread back to the loop, which
   meanwhile runs the other requests and resumes it when the upstream socket is ready. An
   upstream socket, too, goes into the loop's set once (edge-triggered) and stays while the
   library keeps it: the socket id the library gives with each wait tells the loop when an fd
   number names a new socket, and the library hands a thread back the connections it used
   before, so a kept-alive upstream connection costs no epoll_ctl per request either. A loaded
   loop so handles many requests per epoll_wait and no thread sleeps or wakes per request (a
   blocked thread per request cost two context switches each).
   The answer goes out from the call's on_answer, before the call's record is written. A client
   that hangs up while its request waits for the upstream is seen by the loop (EPOLLRDHUP): it
   sets the request's abort flag and wakes it, so the call stops and its record says
   client_closed. A thousand open streams are a thousand coroutines, and short requests on the
   same loops go on between their chunks. The loops also close connections past their deadlines
   (idle, head, body, linger).

   LIMITS: request head SERVE_MAX_HEAD bytes and SERVE_MAX_HEADERS fields (431 beyond), body
   --max-body (413), framing strict (400: Content-Length with Transfer-Encoding, conflicting
   lengths, obsolete line folding, bare CR or LF, a missing Host in HTTP/1.1), timeouts
   --read-timeout (SERVE_HEAD_TIMEOUT_MS) to send a head, SERVE_BODY_TIMEOUT_MS for the body,
   SERVE_IDLE_TIMEOUT_MS between requests, SERVE_WRITE_TIMEOUT_MS for a client that stops
   reading; connections beyond --max-conns get a 503 and are closed (up to SERVE_RESERVE_CONNS
   of them at once; beyond that they are closed at once).

   SIGNALS: SIGTERM or SIGINT drains (no new connections, idle ones closed, requests in flight
   finish within the config's drain_ms, then the client drains its silent calls) and exits 0;
   SIGHUP reloads the config file at once and reopens the log. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* (before any header) MAP_ANONYMOUS, MAP_NORESERVE, madvise for the coroutines' stacks */
#endif
#include "serve.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define SERVE_DEFAULT_LISTEN   "127.0.0.1:4000"   /* LiteLLM's proxy port */
#define SERVE_MAX_HEAD         (32 * 1024)        /* request line and headers */
#define SERVE_MAX_HEADERS      100
#define SERVE_DEFAULT_MAX_BODY (16u * 1024u * 1024u)
#define SERVE_HEAD_TIMEOUT_MS  10000              /* default --read-timeout: from a request's first byte to
                                                     its last header (and to a new connection's first) */
#define SERVE_BODY_TIMEOUT_MS  60000              /* from the head to the body's last byte */
#define SERVE_IDLE_TIMEOUT_MS  60000              /* a kept-alive connection between requests */
#define SERVE_WRITE_TIMEOUT_MS 30000              /* a client that stops reading */
#define SERVE_LINGER_MS        2000               /* reading what a refused client still sends */
#define SERVE_RESERVE_CONNS    64                 /* connections over the cap being told 503 */
#define SERVE_STACK            (256 * 1024)       /* a coroutine's stack (reserved; RSS is what is touched) */
#define SERVE_SWEEP_MS         100
#define SERVE_LOCKS            64                 /* connection locks, striped by slot */
#define SERVE_DOC_KEEP         (256 * 1024)       /* a worker keeps a JSON buffer up to this size */

/* ==== state ============================================================================= */

/* A connection's state. FREE: the slot is unused. WAITING: no coroutine serves it; its loop
   closes it at its deadline. OWNED: a coroutine reads or answers it. BUSY: its coroutine's call
   waits for the upstream; a hang-up then sets the abort flag. */
enum { SC_FREE, SC_WAITING, SC_OWNED, SC_BUSY };

typedef struct serve_hdr {
    uint32_t name, name_len, value, value_len; /* offsets into the connection's input */
} serve_hdr;

typedef struct serve_conn {
    uint32_t gen;                 /* bumped when the slot is freed: stale events are ignored */
    int state;                    /* SC_*: changed by its loop; the slot's lock orders it with the
                                     accept that registers it, the sweep and the drain */
    int fd;
    int abort;                    /* atomic: the client went away during a request */
    int64_t deadline_ms;          /* WAITING: when its loop's sweep closes it */
    int reject;                   /* over the cap: answered 503, then closed */
    int lingering;                /* answered and write side shut: reading until EOF */
    int hup;                      /* its loop saw the client hang up (EPOLLRDHUP, HUP or ERR) */
    /* input: the request being read (and any pipelined bytes after it) */
    char *in;
    size_t len, cap;
    size_t scanned;               /* bytes already searched for the end of the head */
    size_t head_len;              /* > 0 once the head is parsed */
    int64_t started_ms;           /* the request's first byte */
    /* the parsed head (offsets into in) */
    uint32_t method, method_len, target, target_len;
    serve_hdr hdrs[SERVE_MAX_HEADERS];
    int nhdrs;
    int minor;                    /* HTTP/1.minor */
    int keep_alive, expect_continue, sent_continue, head_only;
    int chunked;
    uint64_t content_length;
    /* a chunked body, decoded */
    llmsplit_buf body;
    size_t raw;                   /* chunked: bytes of in consumed (head included) */
    int chunk_state;              /* SCH_* */
    uint64_t chunk_left;
    size_t req_len;               /* bytes of in the complete request takes */
    char request_id[40];          /* of the request being answered, for the response headers */
    void *worker;                 /* the serve_worker answering it (for serve_stream_*) */
    struct serve_loop *loop;      /* the event loop it belongs to, from accept to close */
    struct serve_fiber *fiber;    /* the coroutine serving it; NULL while it waits for bytes */
    int readable;                 /* input may be waiting (an event came since a read found none) */
} serve_conn;

enum { SCH_SIZE, SCH_DATA, SCH_DATA_END, SCH_TRAILER };

/* What a coroutine reuses from one request to the next, so a request allocates as little as it can. */
typedef struct serve_worker {
    struct serve_server *srv;
    struct serve_fiber *fiber;    /* the coroutine it belongs to */
    llmsplit_buf out;             /* the response being written */
    llmsplit_buf scratch;         /* the request's parameters and raw message parts */
    void *doc_buf;                /* the request body's parsed JSON */
    size_t doc_cap;
    llmsplit_message *msgs;
    int msgs_cap;
    time_t date_sec;              /* the Date header, made once a second */
    char date[40];
} serve_worker;

static void serve_append(llmsplit_buf *b, const char *s) { llmsplit_buf_append(b, s, strlen(s)); }

/* v in decimal at the end of tmp: where its digits start. */
static size_t serve_digits(char tmp[24], uint64_t v) {
    size_t i = 24;
    do { tmp[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    return i;
}

static void serve_append_num(llmsplit_buf *b, uint64_t v) {
    char tmp[24];
    size_t i = serve_digits(tmp, v);
    llmsplit_buf_append(b, tmp + i, sizeof tmp - i);
}

/* ==== metrics ============================================================================= */

/* What GET /metrics reports, counted from the client's records (on_record) and the gateway's
   own requests. A series is one (role, group, arm) of call records: role "primary", "silent"
   (mirrored) or "judge"; arm "MODEL #DEPLOYMENT" as the records and the report name it (MODEL
   the name sent upstream). Latencies are whole calls (retries included), in seconds. */
#define SERVE_SERIES 1024          /* call series kept; later ones are counted in one "other" */
#define SERVE_NBUCKETS 14
#define SERVE_ROUTES 16
static const double serve_buckets[SERVE_NBUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1, 2.5, 5, 10, 30, 60, 120};
/* the gateway's own time per request, in seconds: far smaller */
static const double serve_http_buckets[SERVE_NBUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                          0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30};

typedef struct serve_hist {
    uint64_t bucket[SERVE_NBUCKETS + 1]; /* not cumulative; the last one is above every bound */
    double sum;
    uint64_t count;
} serve_hist;

typedef struct serve_series {
    int used;
    char kind;                    /* 'c' call, 'r' rollback, 'f' feedback, 'e' another event */
    char role[24];                /* calls: primary, silent, judge; events: the event name */
    char group[128];
    char arm[300];
    char metric[72];              /* feedback: the metric */
    uint64_t ok, error, client_closed;
    serve_hist latency, ttft;
    uint64_t prompt_tokens, completion_tokens;
    double cost_usd;
    uint64_t events;              /* rollbacks, feedback values, other events */
    double value_sum;             /* feedback: the sum of the values */
} serve_series;

typedef struct serve_route_stat {
    const char *route;            /* a route's path (static), "ui", "refused" or "other" */
    uint64_t codes[6];            /* by status class: 1xx..5xx, and [0] for 0 */
    serve_hist time;
} serve_route_stat;

typedef struct serve_metrics {
    pthread_mutex_t lock;
    serve_series *series;
    int nseries;
    uint64_t overflow;            /* records that found no free series */
    serve_route_stat routes[SERVE_ROUTES];
    int nroutes;
    int64_t conns;                /* open now */
    uint64_t conns_total, rejected, timeouts;
} serve_metrics;

static void serve_metrics_init(serve_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    m->series = (serve_series *)calloc(SERVE_SERIES, sizeof *m->series);
}

static void serve_metrics_free(serve_metrics *m) {
    free(m->series);
    pthread_mutex_destroy(&m->lock);
}

static void serve_hist_add(serve_hist *h, const double *bounds, double v) {
    int i = 0;
    while (i < SERVE_NBUCKETS && v > bounds[i]) i++;
    h->bucket[i]++;
    h->sum += v;
    h->count++;
}

/* src into dst (cap bytes), cut to fit, NUL-terminated: no printf on a request's path. */
static void serve_copy(char *dst, size_t cap, const char *src) {
    size_t n = src ? strlen(src) : 0;
    if (!cap) return;
    if (n >= cap) n = cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
}

/* An arm's name as the records and the report give it: "MODEL #DEPLOYMENT". */
static void serve_arm_name(char *out, size_t cap, const char *model, int deployment) {
    char num[24];
    size_t n, k;
    int i = (int)sizeof num;
    unsigned v = deployment < 0 ? 0u - (unsigned)deployment : (unsigned)deployment;
    num[--i] = 0;
    do { num[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    if (deployment < 0) num[--i] = '-';
    num[--i] = '#';
    num[--i] = ' ';
    serve_copy(out, cap, model);
    n = strlen(out);
    k = sizeof num - 1 - (size_t)i;
    if (n + k < cap) memcpy(out + n, num + i, k + 1);
}

/* The series for these labels, made when new; NULL when the table is full. Call with the lock. */
static serve_series *serve_series_of(serve_metrics *m, char kind, const char *role, const char *group, const char *arm,
                                     const char *metric) {
    int i;
    if (!m->series) return NULL;
    for (i = 0; i < m->nseries; i++) {
        serve_series *s = &m->series[i];
        if (s->kind == kind && strcmp(s->role, role) == 0 && strcmp(s->group, group) == 0 && strcmp(s->arm, arm) == 0 &&
            strcmp(s->metric, metric) == 0)
            return s;
    }
    if (m->nseries == SERVE_SERIES) return NULL;
    {
        serve_series *s = &m->series[m->nseries++];
        s->used = 1;
        s->kind = kind;
        serve_copy(s->role, sizeof s->role, role);
        serve_copy(s->group, sizeof s->group, group);
        serve_copy(s->arm, sizeof s->arm, arm);
        serve_copy(s->metric, sizeof s->metric, metric);
        return s;
    }
}

/* Counts one record of the client. */
static void serve_metrics_record(serve_metrics *m, const llmsplit_record *r) {
    const char *event = r->event ? r->event : "call";
    char arm[300];
    serve_series *s;
    if (strcmp(event, "split") == 0 || strcmp(event, "config") == 0) return; /* seen in the client's stats */
    if (r->model && strcmp(event, "rollback") == 0) {
        /* a rollback names the deployment's model string: the arm is named by what is sent */
        llmsplit_route route;
        const char *name = llmsplit_route_model(r->model, NULL, NULL, &route, NULL) == LLMSPLIT_OK ? route.model : r->model;
        serve_arm_name(arm, sizeof arm, name, r->deployment);
    } else if (r->model) {
        serve_arm_name(arm, sizeof arm, r->model, r->deployment);
    } else {
        arm[0] = 0;
    }
    pthread_mutex_lock(&m->lock);
    if (strcmp(event, "call") == 0) {
        s = serve_series_of(m, 'c', r->role ? r->role : "primary", r->group ? r->group : "", arm, "");
        if (s) {
            if (r->ok) s->ok++;
            else if (r->client_closed) s->client_closed++;
            else s->error++;
            if (r->latency_ms >= 0) serve_hist_add(&s->latency, serve_buckets, r->latency_ms / 1000.0);
            if (r->ttft_ms >= 0) serve_hist_add(&s->ttft, serve_buckets, r->ttft_ms / 1000.0);
            if (r->prompt_tokens > 0) s->prompt_tokens += (uint64_t)r->prompt_tokens;
            if (r->completion_tokens > 0) s->completion_tokens += (uint64_t)r->completion_tokens;
            if (r->cost_usd > 0) s->cost_usd += r->cost_usd;
        }
    } else if (strcmp(event, "rollback") == 0) {
        if ((s = serve_series_of(m, 'r', event, r->group ? r->group : "", arm, "")) != NULL) s->events++;
    } else if (strcmp(event, "feedback") == 0) {
        if ((s = serve_series_of(m, 'f', event, r->group ? r->group : "", arm, r->metric ? r->metric : "")) != NULL) {
            s->events++;
            if (r->value == r->value) s->value_sum += r->value;
        }
    } else {
        if ((s = serve_series_of(m, 'e', event, r->group ? r->group : "", "", "")) != NULL) s->events++;
    }
    if (!s) m->overflow++;
    pthread_mutex_unlock(&m->lock);
}

/* Counts one answered request of the gateway: its route, status and time on the gateway. */
static void serve_metrics_http(serve_metrics *m, const char *route, int status, double ms) {
    int i;
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->nroutes && m->routes[i].route != route; i++) {}
    if (i == m->nroutes && m->nroutes < SERVE_ROUTES) m->routes[m->nroutes++].route = route;
    if (i < m->nroutes) {
        m->routes[i].codes[status >= 100 && status < 600 ? status / 100 : 0]++;
        serve_hist_add(&m->routes[i].time, serve_http_buckets, ms / 1000.0);
    }
    pthread_mutex_unlock(&m->lock);
}

static void serve_metrics_conn(serve_metrics *m, int delta) {
    pthread_mutex_lock(&m->lock);
    m->conns += delta;
    if (delta > 0) m->conns_total++;
    pthread_mutex_unlock(&m->lock);
}

static void serve_metrics_rejected(serve_metrics *m) {
    pthread_mutex_lock(&m->lock);
    m->rejected++;
    pthread_mutex_unlock(&m->lock);
}

static void serve_metrics_timeout(serve_metrics *m) {
    pthread_mutex_lock(&m->lock);
    m->timeouts++;
    pthread_mutex_unlock(&m->lock);
}

/* A label value, escaped as the text format wants (backslash, quote, newline). */
static void serve_label(llmsplit_buf *o, const char *name, const char *v, int first) {
    const char *p;
    if (!first) llmsplit_buf_append(o, ",", 1);
    serve_append(o, name);
    llmsplit_buf_append(o, "=\"", 2);
    for (p = v; *p; p++) {
        if (*p == '\\') llmsplit_buf_append(o, "\\\\", 2);
        else if (*p == '"') llmsplit_buf_append(o, "\\\"", 2);
        else if (*p == '\n') llmsplit_buf_append(o, "\\n", 2);
        else llmsplit_buf_append(o, p, 1);
    }
    llmsplit_buf_append(o, "\"", 1);
}

static void serve_num(llmsplit_buf *o, double v) {
    char t[40];
    size_t n;
    if (v >= 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v) { /* counts as integers: "3", not "3.0" */
        serve_append_num(o, (uint64_t)v);
        return;
    }
    n = llmsplit_format_double(v, t);
    if (!n) n = (size_t)snprintf(t, sizeof t, "%s", v != v ? "NaN" : v > 0 ? "+Inf" : "-Inf");
    llmsplit_buf_append(o, t, n);
}

static void serve_help(llmsplit_buf *o, const char *name, const char *type, const char *help) {
    serve_append(o, "# HELP ");
    serve_append(o, name);
    serve_append(o, " ");
    serve_append(o, help);
    serve_append(o, "\n# TYPE ");
    serve_append(o, name);
    serve_append(o, " ");
    serve_append(o, type);
    serve_append(o, "\n");
}

/* name{labels} value; labels is "" or the text inside the braces. */
static void serve_sample(llmsplit_buf *o, const char *name, const char *suffix, const char *labels, double v) {
    serve_append(o, name);
    serve_append(o, suffix);
    if (labels && labels[0]) {
        serve_append(o, "{");
        serve_append(o, labels);
        serve_append(o, "}");
    }
    serve_append(o, " ");
    serve_num(o, v);
    serve_append(o, "\n");
}

static void serve_hist_samples(llmsplit_buf *o, const char *name, const char *labels, const serve_hist *h,
                               const double *bounds) {
    uint64_t cum = 0;
    int i;
    llmsplit_buf l;
    llmsplit_buf_init(&l, NULL);
    if (!labels) labels = "";
    for (i = 0; i <= SERVE_NBUCKETS; i++) {
        char le[40];
        cum += h->bucket[i];
        l.len = 0;
        serve_append(&l, labels);
        if (i < SERVE_NBUCKETS) le[llmsplit_format_double(bounds[i], le)] = 0;
        else snprintf(le, sizeof le, "+Inf");
        serve_label(&l, "le", le, !labels || !labels[0]);
        serve_sample(o, name, "_bucket", l.data ? l.data : "", (double)cum);
    }
    serve_sample(o, name, "_sum", labels, h->sum);
    serve_sample(o, name, "_count", labels, (double)h->count);
    llmsplit_buf_free(&l);
}

/* The labels of a series: role, group, arm (and metric for feedback). */
static void serve_series_labels(llmsplit_buf *l, const serve_series *s, int with_role) {
    l->len = 0;
    if (with_role) serve_label(l, "role", s->role, 1);
    serve_label(l, "group", s->group, !with_role);
    serve_label(l, "arm", s->arm, 0);
    if (s->kind == 'f') serve_label(l, "metric", s->metric, 0);
}


struct serve_server {
    llmsplit_client *client;
    const char *config_path;
    int listen_fd;
    int stopfd;                   /* an eventfd in every loop's set, written once at the stop */
    pthread_mutex_t listen_lock;  /* listen_fd: accepted from by one loop at a time, closed by the drain */
    struct serve_loop *loops;
    int nloops;
    unsigned next_loop;           /* under listen_lock: the loop the next connection goes to */
    serve_conn *conns;
    uint32_t nslots, max_conns;
    uint32_t *free_slots, nfree;
    uint32_t open_conns;          /* under free_lock */
    pthread_mutex_t free_lock;
    pthread_mutex_t locks[SERVE_LOCKS];
    int fibers;                   /* atomic: coroutines serving requests now, every loop */
    /* lifecycle: atomic */
    int draining, stop;
    /* the master key: from the config (general_settings.master_key) or LLMSPLIT_MASTER_KEY */
    pthread_mutex_t key_lock;
    char key[512];
    size_t key_len;
    size_t max_body;
    int head_timeout_ms;          /* --read-timeout */
    time_t started;
    serve_metrics metrics;
};

static int64_t serve_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int serve_load(const int *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void serve_store(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* A connection's state is changed under its lock, and read under it but for the sweeper's peek. */
static int serve_state(const serve_conn *c) { return __atomic_load_n(&c->state, __ATOMIC_RELAXED); }
static void serve_set_state(serve_conn *c, int s) { __atomic_store_n(&c->state, s, __ATOMIC_RELAXED); }

/* The loop a connection belongs to (NULL while its slot is free): read by every loop's sweep, so
   atomic; only its own loop goes on to read the rest of the connection. */
static struct serve_loop *serve_loop_of(const serve_conn *c) { return __atomic_load_n(&c->loop, __ATOMIC_RELAXED); }

static pthread_mutex_t *serve_lock_of(serve_server *srv, const serve_conn *c) {
    return &srv->locks[(size_t)(c - srv->conns) % SERVE_LOCKS];
}

/* ==== the interface of serve.h ========================================================= */

llmsplit_client *serve_client(const serve_server *srv) { return srv->client; }
const char *serve_config_path(const serve_server *srv) { return srv->config_path; }
int serve_stopping(const serve_server *srv) { return serve_load(&srv->draining); }

void serve_metrics_text(serve_server *srv, llmsplit_buf *o) {
    serve_metrics *m = &srv->metrics;
    llmsplit_client_stats cs = llmsplit_client_get_stats(srv->client);
    struct {
        int nseries, nroutes;
        uint64_t overflow, conns_total, rejected, timeouts;
        int64_t conns;
        serve_route_stat routes[SERVE_ROUTES];
    } snap;
    serve_series *series = NULL;
    llmsplit_buf l;
    int i, k, workers;
    /* a snapshot, so that the lock is not held while the text is written */
    pthread_mutex_lock(&m->lock);
    snap.nseries = m->nseries;
    snap.nroutes = m->nroutes;
    snap.overflow = m->overflow;
    snap.conns_total = m->conns_total;
    snap.rejected = m->rejected;
    snap.timeouts = m->timeouts;
    snap.conns = m->conns;
    memcpy(snap.routes, m->routes, sizeof snap.routes);
    if (m->nseries && (series = (serve_series *)malloc(sizeof *series * (size_t)m->nseries)) != NULL)
        memcpy(series, m->series, sizeof *series * (size_t)m->nseries);
    pthread_mutex_unlock(&m->lock);
    if (!series) snap.nseries = 0;
    workers = serve_load(&srv->fibers);
    llmsplit_buf_init(&l, NULL);

    serve_help(o, "llmsplit_calls_total", "counter",
               "Calls by role (primary, silent, judge), group, arm and status (ok, error, client_closed).");
    for (i = 0; i < snap.nseries; i++) {
        static const char *const st[] = {"ok", "error", "client_closed"};
        const serve_series *s = &series[i];
        uint64_t v[3];
        if (s->kind != 'c') continue;
        v[0] = s->ok;
        v[1] = s->error;
        v[2] = s->client_closed;
        for (k = 0; k < 3; k++) {
            serve_series_labels(&l, s, 1);
            serve_label(&l, "status", st[k], 0);
            serve_sample(o, "llmsplit_calls_total", "", l.data, (double)v[k]);
        }
    }
    serve_help(o, "llmsplit_call_duration_seconds", "histogram", "Call latency, retries included.");
    for (i = 0; i < snap.nseries; i++)
        if (series[i].kind == 'c') {
            serve_series_labels(&l, &series[i], 1);
            serve_hist_samples(o, "llmsplit_call_duration_seconds", l.data, &series[i].latency, serve_buckets);
        }
    serve_help(o, "llmsplit_time_to_first_token_seconds", "histogram", "Time to the first streamed text.");
    for (i = 0; i < snap.nseries; i++)
        if (series[i].kind == 'c' && series[i].ttft.count) {
            serve_series_labels(&l, &series[i], 1);
            serve_hist_samples(o, "llmsplit_time_to_first_token_seconds", l.data, &series[i].ttft, serve_buckets);
        }
    serve_help(o, "llmsplit_tokens_total", "counter", "Tokens reported by the providers, by kind (prompt, completion).");
    for (i = 0; i < snap.nseries; i++)
        if (series[i].kind == 'c') {
            serve_series_labels(&l, &series[i], 1);
            serve_label(&l, "kind", "prompt", 0);
            serve_sample(o, "llmsplit_tokens_total", "", l.data, (double)series[i].prompt_tokens);
            serve_series_labels(&l, &series[i], 1);
            serve_label(&l, "kind", "completion", 0);
            serve_sample(o, "llmsplit_tokens_total", "", l.data, (double)series[i].completion_tokens);
        }
    serve_help(o, "llmsplit_cost_usd_total", "counter", "Cost of the calls in US dollars (known prices only).");
    for (i = 0; i < snap.nseries; i++)
        if (series[i].kind == 'c') {
            serve_series_labels(&l, &series[i], 1);
            serve_sample(o, "llmsplit_cost_usd_total", "", l.data, series[i].cost_usd);
        }
    serve_help(o, "llmsplit_rollbacks_total", "counter", "Times an arm was rolled back (taken out for its cooldown).");
    serve_sample(o, "llmsplit_rollbacks_total", "", "", (double)cs.rollbacks);
    for (i = 0; i < snap.nseries; i++)
        if (series[i].kind == 'r') {
            serve_series_labels(&l, &series[i], 0);
            serve_sample(o, "llmsplit_rollbacks_total", "", l.data, (double)series[i].events);
        }
    serve_help(o, "llmsplit_feedback_total", "counter", "Feedback values given, by group, arm and metric.");
    for (i = 0; i < snap.nseries; i++)
        if (series[i].kind == 'f') {
            serve_series_labels(&l, &series[i], 0);
            serve_sample(o, "llmsplit_feedback_total", "", l.data, (double)series[i].events);
        }
    serve_help(o, "llmsplit_feedback_value_sum", "counter", "Sum of the feedback values, by group, arm and metric.");
    for (i = 0; i < snap.nseries; i++)
        if (series[i].kind == 'f') {
            serve_series_labels(&l, &series[i], 0);
            serve_sample(o, "llmsplit_feedback_value_sum", "", l.data, series[i].value_sum);
        }
    serve_help(o, "llmsplit_events_total", "counter", "Other records (judge scores and judgements, ...), by event and group.");
    for (i = 0; i < snap.nseries; i++)
        if (series[i].kind == 'e') {
            l.len = 0;
            serve_label(&l, "event", series[i].role, 1);
            serve_label(&l, "group", series[i].group, 0);
            serve_sample(o, "llmsplit_events_total", "", l.data, (double)series[i].events);
        }
    serve_help(o, "llmsplit_requests_total", "counter", "Logical requests of the client (retries and fallbacks inside).");
    serve_sample(o, "llmsplit_requests_total", "", "", (double)cs.requests);
    serve_help(o, "llmsplit_request_errors_total", "counter", "Logical requests that failed after retries and fallbacks.");
    serve_sample(o, "llmsplit_request_errors_total", "", "", (double)cs.errors);
    serve_help(o, "llmsplit_fallbacks_total", "counter", "Requests a fallback group answered.");
    serve_sample(o, "llmsplit_fallbacks_total", "", "", (double)cs.fallbacks);
    serve_help(o, "llmsplit_mirror_total", "counter",
               "Silent calls by outcome: queued, completed, failed, dropped_queue_full, abandoned_at_shutdown.");
    {
        static const char *const names[] = {"queued", "completed", "failed", "dropped_queue_full", "abandoned_at_shutdown"};
        uint64_t v[5];
        v[0] = cs.mirrored;
        v[1] = cs.mirror_completed;
        v[2] = cs.mirror_failed;
        v[3] = cs.mirror_dropped_queue_full;
        v[4] = cs.mirror_abandoned_at_shutdown;
        for (k = 0; k < 5; k++) {
            l.len = 0;
            serve_label(&l, "outcome", names[k], 1);
            serve_sample(o, "llmsplit_mirror_total", "", l.data, (double)v[k]);
        }
    }
    serve_help(o, "llmsplit_config_reloads_total", "counter", "Configs installed after the first (file changes, SIGHUP).");
    serve_sample(o, "llmsplit_config_reloads_total", "", "", (double)cs.config_reloads);
    serve_help(o, "llmsplit_config_errors_total", "counter", "New configs refused (the last good one kept serving).");
    serve_sample(o, "llmsplit_config_errors_total", "", "", (double)cs.config_errors);
    serve_help(o, "llmsplit_records_lost_total", "counter", "Records not counted here because the series table was full.");
    serve_sample(o, "llmsplit_records_lost_total", "", "", (double)snap.overflow);
    serve_help(o, "llmsplit_gateway_requests_total", "counter", "Requests the gateway answered, by route and status class.");
    for (i = 0; i < snap.nroutes; i++)
        for (k = 0; k < 6; k++) {
            char code[16];
            if (!snap.routes[i].codes[k]) continue;
            snprintf(code, sizeof code, "%dxx", k);
            l.len = 0;
            serve_label(&l, "route", snap.routes[i].route, 1);
            serve_label(&l, "code", code, 0);
            serve_sample(o, "llmsplit_gateway_requests_total", "", l.data, (double)snap.routes[i].codes[k]);
        }
    serve_help(o, "llmsplit_gateway_request_duration_seconds", "histogram",
               "Time from a complete request to its answer sent (the upstream call included).");
    for (i = 0; i < snap.nroutes; i++) {
        l.len = 0;
        serve_label(&l, "route", snap.routes[i].route, 1);
        serve_hist_samples(o, "llmsplit_gateway_request_duration_seconds", l.data, &snap.routes[i].time, serve_http_buckets);
    }
    serve_help(o, "llmsplit_gateway_connections", "gauge", "Client connections open now.");
    serve_sample(o, "llmsplit_gateway_connections", "", "", (double)snap.conns);
    serve_help(o, "llmsplit_gateway_connections_total", "counter", "Client connections accepted.");
    serve_sample(o, "llmsplit_gateway_connections_total", "", "", (double)snap.conns_total);
    serve_help(o, "llmsplit_gateway_connections_rejected_total", "counter", "Connections refused over --max-conns (503 or closed).");
    serve_sample(o, "llmsplit_gateway_connections_rejected_total", "", "", (double)snap.rejected);
    serve_help(o, "llmsplit_gateway_timeouts_total", "counter", "Connections closed because a request came too slowly.");
    serve_sample(o, "llmsplit_gateway_timeouts_total", "", "", (double)snap.timeouts);
    serve_help(o, "llmsplit_gateway_loops", "gauge", "Event loop threads (--workers).");
    serve_sample(o, "llmsplit_gateway_loops", "", "", (double)srv->nloops);
    serve_help(o, "llmsplit_gateway_coroutines", "gauge", "Connections being served now, a coroutine each.");
    serve_sample(o, "llmsplit_gateway_coroutines", "", "", (double)workers);
    llmsplit_buf_free(&l);
    free(series);
}

/* ==== writing to a client ================================================================ */

static int serve_fiber_wait(struct serve_fiber *f, int fd, int64_t deadline_ms);

/* Sends all of data; while the socket buffer is full the coroutine waits (its loop serves the
   others), up to SERVE_WRITE_TIMEOUT_MS without progress. 0, or -1 when the client is gone or
   too slow: the abort flag is set then. */
static int serve_send(serve_conn *c, const char *data, size_t len) {
    int64_t deadline = 0;
    while (len > 0) {
        ssize_t n;
        if (serve_load(&c->abort)) return -1;
        n = send(c->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            deadline = 0;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int64_t now = serve_now_ms();
            if (!deadline) deadline = now + SERVE_WRITE_TIMEOUT_MS;
            if (now < deadline && c->fiber) {
                serve_fiber_wait(c->fiber, c->fd, deadline); /* the socket's next EPOLLOUT edge */
                continue;
            }
        }
        serve_store(&c->abort, 1);
        return -1;
    }
    return 0;
}

static const char *serve_reason(int status) {
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
    }
}

/* The Date header's value (RFC 9110 IMF-fixdate), made once a second per coroutine. */
static const char *serve_date(serve_worker *w) {
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (now != w->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(w->date, sizeof w->date, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
                 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        w->date_sec = now;
    }
    return w->date;
}

/* Copies s (its length known) to p, and p moves past it. */
#define SERVE_PUT(p, s, n) (memcpy((p), (s), (n)), (p) += (n))
/* The same for a string literal. */
#define SERVE_LIT(p, lit) SERVE_PUT(p, lit, sizeof lit - 1)

/* The status line and the headers every answer has into w->out (emptied first), written in
   place: one reservation, then copies of known lengths. body_len < 0: the body follows chunked. */
static void serve_head(serve_worker *w, serve_conn *c, int status, const char *content_type, long long body_len,
                       const char *extra, size_t extra_len) {
    llmsplit_buf *o = &w->out;
    const char *reason = serve_reason(status), *date = serve_date(w);
    size_t rl = strlen(reason), dl = strlen(date), il = strlen(c->request_id), tl;
    char num[24], *p;
    if (!content_type) content_type = "application/json";
    tl = strlen(content_type);
    o->len = 0;
    /* (the fixed parts, a status and a length: under 256 bytes) */
    if (llmsplit_buf_reserve(o, 256 + rl + dl + tl + il + extra_len) != LLMSPLIT_OK) return;
    p = o->data;
    SERVE_LIT(p, "HTTP/1.1 ");
    *p++ = (char)('0' + status / 100 % 10);
    *p++ = (char)('0' + status / 10 % 10);
    *p++ = (char)('0' + status % 10);
    *p++ = ' ';
    SERVE_PUT(p, reason, rl);
    SERVE_LIT(p, "\r\nDate: ");
    SERVE_PUT(p, date, dl);
    SERVE_LIT(p, "\r\nContent-Type: ");
    SERVE_PUT(p, content_type, tl);
    if (status == 304 || status == 204) {
        /* no body, and no Content-Length: a 304's would have to be the 200's length (RFC 9110 8.6) */
    } else if (body_len >= 0) {
        size_t k = serve_digits(num, (uint64_t)body_len);
        SERVE_LIT(p, "\r\nContent-Length: ");
        SERVE_PUT(p, num + k, sizeof num - k);
    } else if (c->minor >= 1) {
        SERVE_LIT(p, "\r\nTransfer-Encoding: chunked");
    } else {
        c->keep_alive = 0; /* HTTP/1.0 has no chunks: the body ends when the connection does */
    }
    if (!c->keep_alive) SERVE_LIT(p, "\r\nConnection: close");
    else if (c->minor == 0) SERVE_LIT(p, "\r\nConnection: keep-alive");
    if (il) {
        SERVE_LIT(p, "\r\nx-llmsplit-request-id: ");
        SERVE_PUT(p, c->request_id, il);
    }
    SERVE_LIT(p, "\r\n");
    if (extra_len) SERVE_PUT(p, extra, extra_len);
    SERVE_LIT(p, "\r\n");
    o->len = (size_t)(p - o->data);
    o->data[o->len] = 0;
}

/* Sends a whole answer in one write: head and body. -1 when the client is gone. */
static int serve_send_response(serve_worker *w, serve_conn *c, int status, const char *content_type,
                               const llmsplit_buf *extra, const char *body, size_t body_len) {
    if (serve_load(&w->srv->draining)) c->keep_alive = 0;
    serve_head(w, c, status, content_type, (long long)body_len, extra ? extra->data : NULL, extra ? extra->len : 0);
    if (!c->head_only) llmsplit_buf_append(&w->out, body, body_len);
    if (w->out.failed) return -1;
    return serve_send(c, w->out.data, w->out.len);
}

/* The OpenAI error object: {"error":{"message","type","param","code"}}. */
static void serve_error_json(llmsplit_buf *out, const char *type, const char *code, const char *message) {
    llmsplit_json_writer jw;
    const char *text;
    size_t n;
    llmsplit_json_writer_init(&jw, NULL);
    llmsplit_json_write_begin_object(&jw);
    LLMSPLIT_JSON_KEY(&jw, "error");
    llmsplit_json_write_begin_object(&jw);
    LLMSPLIT_JSON_KEY(&jw, "message");
    llmsplit_json_write_string(&jw, message, strlen(message));
    LLMSPLIT_JSON_KEY(&jw, "type");
    llmsplit_json_write_string(&jw, type, strlen(type));
    LLMSPLIT_JSON_KEY(&jw, "param");
    llmsplit_json_write_null(&jw);
    LLMSPLIT_JSON_KEY(&jw, "code");
    if (code) llmsplit_json_write_string(&jw, code, strlen(code));
    else llmsplit_json_write_null(&jw);
    llmsplit_json_write_end_object(&jw);
    llmsplit_json_write_end_object(&jw);
    out->len = 0;
    if (llmsplit_json_writer_result(&jw, &text, &n, NULL) == LLMSPLIT_OK) llmsplit_buf_append(out, text, n);
    else serve_append(out, "{\"error\":{\"message\":\"error\",\"type\":\"api_error\",\"param\":null,\"code\":null}}");
    llmsplit_json_writer_free(&jw);
}

/* The OpenAI error type for a status. */
static const char *serve_error_type(int status) {
    if (status == 401) return "authentication_error";
    if (status == 403) return "permission_error";
    if (status == 404) return "not_found_error";
    if (status == 429) return "rate_limit_error";
    if (status == 504) return "timeout";
    if (status >= 500) return "api_error";
    return "invalid_request_error";
}

/* An error answer: the status and the OpenAI error object with a message made as by printf. */
static TOOL_PRINTF(5, 6) void serve_fail(serve_response *resp, int status, const char *code, const char *type,
                                         const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    resp->status = status;
    resp->content_type = NULL;
    serve_error_json(&resp->body, type ? type : serve_error_type(status), code, msg);
}

/* ==== connections ========================================================================= */

static void serve_conn_reset_request(serve_conn *c) {
    c->scanned = c->head_len = c->req_len = c->raw = 0;
    c->nhdrs = 0;
    c->keep_alive = 1;
    c->expect_continue = c->sent_continue = c->head_only = 0;
    c->chunked = 0;
    c->content_length = 0;
    c->chunk_state = SCH_SIZE;
    c->chunk_left = 0;
    c->body.len = 0;
    c->request_id[0] = 0;
    c->started_ms = 0;
}

/* Frees the slot: the fd is closed (which takes it out of the epoll set) and the slot's
   generation moves on, so an event still on its way for it is ignored. */
static void serve_conn_close(serve_server *srv, serve_conn *c) {
    pthread_mutex_t *l = serve_lock_of(srv, c);
    int fd = c->fd;
    /* memory kept for the next connection in this slot stays small */
    if (c->cap > 16384) {
        free(c->in);
        c->in = NULL;
        c->cap = 0;
    }
    if (c->body.cap > 65536) llmsplit_buf_free(&c->body);
    c->len = 0;
    pthread_mutex_lock(l);
    c->gen++;
    serve_set_state(c, SC_FREE);
    c->fd = -1;
    c->fiber = NULL;
    __atomic_store_n(&c->loop, (struct serve_loop *)NULL, __ATOMIC_RELAXED);
    pthread_mutex_unlock(l);
    close(fd);
    pthread_mutex_lock(&srv->free_lock);
    srv->free_slots[srv->nfree++] = (uint32_t)(c - srv->conns);
    if (!c->reject) srv->open_conns--;
    pthread_mutex_unlock(&srv->free_lock);
    serve_metrics_conn(&srv->metrics, -1);
}

/* The coroutine lets the connection go: it waits for its next bytes until deadline_ms with no
   coroutine (its loop starts one when they come). It stays in its loop's set all along, so
   nothing is asked of the kernel here. */
static void serve_conn_wait(serve_server *srv, serve_conn *c, int64_t deadline_ms) {
    pthread_mutex_t *l = serve_lock_of(srv, c);
    pthread_mutex_lock(l);
    c->deadline_ms = deadline_ms;
    serve_set_state(c, SC_WAITING);
    c->fiber = NULL;
    pthread_mutex_unlock(l);
}

/* Marks the connection BUSY (an upstream call follows). Its loop sees its hang-up all along (the
   connection is in the set for it), so no system call is made here: a hang-up seen before this
   point aborts at once, one seen after it sets the flag and wakes the call. */
static void serve_conn_busy(serve_server *srv, serve_conn *c) {
    pthread_mutex_t *l = serve_lock_of(srv, c);
    pthread_mutex_lock(l);
    serve_set_state(c, SC_BUSY);
    serve_store(&c->abort, c->hup);
    pthread_mutex_unlock(l);
}

/* Back from BUSY: later hang-up events no longer touch this request. */
static void serve_conn_unbusy(serve_server *srv, serve_conn *c) {
    pthread_mutex_t *l = serve_lock_of(srv, c);
    pthread_mutex_lock(l);
    serve_set_state(c, SC_OWNED);
    pthread_mutex_unlock(l);
}

/* Answered and about to close: shut the write side and read what the client still sends until
   it closes or SERVE_LINGER_MS pass. Closing with unread input makes the kernel send a reset,
   which can destroy the answer before the client has read it. */
static void serve_conn_linger(serve_server *srv, serve_conn *c) {
    shutdown(c->fd, SHUT_WR);
    c->lingering = 1;
    c->len = 0;
    serve_conn_wait(srv, c, serve_now_ms() + SERVE_LINGER_MS);
}

/* ==== reading a request ================================================================== */

/* A token character (RFC 9110): letters, digits and !#$%&'*+-.^_`|~, '1' by value (a load and a
   compare a byte). */
static const char serve_tchar_map[257] =
    "0000000000000000000000000000000001011111001101101111111111000000"
    "0111111111111111111111111110001111111111111111111111111111101010"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000";
static int serve_tchar(unsigned char ch) { return serve_tchar_map[ch] == '1'; }

static int serve_ieq(const char *a, size_t an, const char *lit) {
    size_t n = strlen(lit);
    return an == n && strncasecmp(a, lit, n) == 0;
}

/* The first value of a header of the request being read (NUL-terminated in place), or NULL. */
static const char *serve_conn_header(const serve_conn *c, const char *name) {
    size_t n = strlen(name);
    int i;
    for (i = 0; i < c->nhdrs; i++)
        if (c->hdrs[i].name_len == n && strncasecmp(c->in + c->hdrs[i].name, name, n) == 0) return c->in + c->hdrs[i].value;
    return NULL;
}

/* A comma-separated header value holds this token (case-insensitive). */
static int serve_has_token(const char *v, const char *token) {
    size_t tn = strlen(token);
    while (v && *v) {
        size_t n;
        while (*v == ' ' || *v == '\t' || *v == ',') v++;
        n = strcspn(v, ",");
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) n--;
        if (n == tn && strncasecmp(v, token, n) == 0) return 1;
        v += strcspn(v, ",");
    }
    return 0;
}

/* Why a request cannot be read: the status and message of the answer before closing. */
typedef struct serve_refusal {
    int status;
    char message[200];
} serve_refusal;

static int serve_refuse(serve_refusal *r, int status, const char *message) {
    r->status = status;
    snprintf(r->message, sizeof r->message, "%s", message);
    return -1;
}

/* Where the line at i ends: the first CR or LF at or after i (end when none). Eight bytes at a
   time past those above CR, which is most of a line. */
static size_t serve_line_end(const char *s, size_t i, size_t end) {
    while (i < end) {
        while (end - i >= 8) {
            uint64_t x;
            memcpy(&x, s + i, 8);
            if (((x - 0x0e0e0e0e0e0e0e0eull) & ~x & 0x8080808080808080ull) != 0) break; /* a byte < 14 */
            i += 8;
        }
        while (i < end && (unsigned char)s[i] > '\r') i++;
        if (i >= end || s[i] == '\r' || s[i] == '\n') return i;
        i++; /* another byte below 14 (a tab): part of the line */
    }
    return end;
}

/* How many bytes from s[i] on (up to end) are above ' ' and not DEL: a request target's. Eight
   at a time while none is. */
static size_t serve_visible_run(const char *s, size_t i, size_t end) {
    size_t start = i;
    while (end - i >= 8) {
        uint64_t x, y;
        memcpy(&x, s + i, 8);
        y = x ^ 0x7f7f7f7f7f7f7f7full; /* DEL becomes 0 */
        if ((((x - 0x2121212121212121ull) & ~x) | ((y - 0x0101010101010101ull) & ~y)) & 0x8080808080808080ull)
            break; /* a byte below '!' or a DEL (or, from the borrows, one after it): byte by byte */
        i += 8;
    }
    while (i < end && (unsigned char)s[i] > 0x20 && s[i] != 0x7f) i++;
    return i - start;
}

/* 1 when s[vs .. ve) holds a control character other than tab. Eight bytes at a time while none
   is below ' '. */
static int serve_has_control(const char *s, size_t vs, size_t ve) {
    while (ve - vs >= 8) {
        uint64_t x;
        memcpy(&x, s + vs, 8);
        if (((x - 0x2020202020202020ull) & ~x & 0x8080808080808080ull) != 0) break;
        vs += 8;
    }
    for (; vs < ve; vs++)
        if ((unsigned char)s[vs] < 0x20 && s[vs] != '\t') return 1;
    return 0;
}

/* Parses the head in c->in[0 .. end) (end is just past the blank line). Lines end in CRLF; a
   bare CR or LF, a folded line, a space before a colon, anything outside the grammar is a 400.
   Values and the method and target are NUL-terminated in place. 0, or -1 with *r filled. The
   token scans need no bound: each line's CR (checked first) is no token character. */
static int serve_parse_head(serve_server *srv, serve_conn *c, size_t end, serve_refusal *r) {
    char *s = c->in;
    size_t i = 0, line_end;
    int hosts = 0, lengths = 0, te = 0, k;
    /* tolerate empty lines before the request line (RFC 9112 section 2.2) */
    while (i + 1 < end && s[i] == '\r' && s[i + 1] == '\n') i += 2;
    line_end = serve_line_end(s, i, end);
    if (line_end + 1 >= end || s[line_end] != '\r' || s[line_end + 1] != '\n')
        return serve_refuse(r, 400, "malformed request line: lines must end in CRLF");
    /* method SP target SP HTTP/1.x */
    c->method = (uint32_t)i;
    while (serve_tchar((unsigned char)s[i])) i++;
    c->method_len = (uint32_t)i - c->method;
    if (!c->method_len || i >= line_end || s[i] != ' ') return serve_refuse(r, 400, "malformed request line");
    s[i++] = 0;
    c->target = (uint32_t)i;
    i += serve_visible_run(s, i, line_end);
    c->target_len = (uint32_t)i - c->target;
    if (!c->target_len || i >= line_end || s[i] != ' ') return serve_refuse(r, 400, "malformed request line");
    s[i++] = 0;
    if (line_end - i != 8 || memcmp(s + i, "HTTP/1.", 7) != 0 || (s[i + 7] != '0' && s[i + 7] != '1')) {
        if (line_end - i == 8 && memcmp(s + i, "HTTP/", 5) == 0) return serve_refuse(r, 505, "only HTTP/1.0 and HTTP/1.1 are served");
        return serve_refuse(r, 400, "malformed request line");
    }
    c->minor = s[i + 7] - '0';
    c->keep_alive = c->minor == 1;
    i = line_end + 2;
    /* header fields */
    while (i < end) {
        size_t name, colon, vs, ve;
        if (s[i] == '\r') {
            if (i + 1 < end && s[i + 1] == '\n' && i + 2 == end) break;
            return serve_refuse(r, 400, "malformed header block");
        }
        if (s[i] == ' ' || s[i] == '\t') return serve_refuse(r, 400, "obsolete line folding is not accepted");
        line_end = serve_line_end(s, i, end);
        if (line_end + 1 >= end || s[line_end] != '\r' || s[line_end + 1] != '\n')
            return serve_refuse(r, 400, "malformed header: lines must end in CRLF");
        name = i;
        while (serve_tchar((unsigned char)s[i])) i++;
        colon = i;
        if (colon == name || i >= line_end || s[i] != ':') return serve_refuse(r, 400, "malformed header field");
        i++;
        while (i < line_end && (s[i] == ' ' || s[i] == '\t')) i++;
        vs = i;
        ve = line_end;
        while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t')) ve--;
        if (serve_has_control(s, vs, ve)) return serve_refuse(r, 400, "control character in a header value");
        if (c->nhdrs == SERVE_MAX_HEADERS) return serve_refuse(r, 431, "too many header fields");
        c->hdrs[c->nhdrs].name = (uint32_t)name;
        c->hdrs[c->nhdrs].name_len = (uint32_t)(colon - name);
        c->hdrs[c->nhdrs].value = (uint32_t)vs;
        c->hdrs[c->nhdrs].value_len = (uint32_t)(ve - vs);
        c->nhdrs++;
        s[ve] = 0; /* the value, NUL-terminated where its trailing blanks or CR were */
        i = line_end + 2;
    }
    /* framing */
    for (k = 0; k < c->nhdrs; k++) {
        const char *nm = s + c->hdrs[k].name, *val = s + c->hdrs[k].value;
        size_t nl = c->hdrs[k].name_len;
        if (serve_ieq(nm, nl, "host")) hosts++;
        else if (serve_ieq(nm, nl, "content-length")) {
            uint64_t n = 0;
            size_t j;
            if (!c->hdrs[k].value_len) return serve_refuse(r, 400, "empty Content-Length");
            for (j = 0; j < c->hdrs[k].value_len; j++) {
                if (val[j] < '0' || val[j] > '9') return serve_refuse(r, 400, "Content-Length is not a number");
                if (n > (UINT64_MAX - 9) / 10) return serve_refuse(r, 413, "request body too large");
                n = n * 10 + (uint64_t)(val[j] - '0');
            }
            if (lengths++ && n != c->content_length) return serve_refuse(r, 400, "conflicting Content-Length headers");
            c->content_length = n;
        } else if (serve_ieq(nm, nl, "transfer-encoding")) {
            if (te++ || !serve_ieq(val, c->hdrs[k].value_len, "chunked"))
                return serve_refuse(r, 501, "only Transfer-Encoding: chunked is accepted");
            c->chunked = 1;
        } else if (serve_ieq(nm, nl, "connection")) {
            if (serve_has_token(val, "close")) c->keep_alive = 0;
            else if (serve_has_token(val, "keep-alive") && c->minor == 0) c->keep_alive = 1;
        } else if (serve_ieq(nm, nl, "expect")) {
            if (!serve_ieq(val, c->hdrs[k].value_len, "100-continue")) return serve_refuse(r, 417, "unsupported Expect");
            c->expect_continue = c->minor >= 1;
        }
    }
    if (te && lengths) return serve_refuse(r, 400, "Content-Length and Transfer-Encoding together");
    if (te && c->minor == 0) return serve_refuse(r, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (c->minor == 1 && hosts != 1) return serve_refuse(r, 400, hosts ? "more than one Host header" : "missing Host header");
    if (c->content_length > srv->max_body) return serve_refuse(r, 413, "request body too large");
    c->head_only = c->method_len == 4 && memcmp(s + c->method, "HEAD", 4) == 0;
    return 0;
}

/* Decodes the chunked body from c->in[c->raw ..) into c->body. 1 when the body is complete
   (c->req_len set), 0 when more is needed, -1 with *r filled. */
static int serve_dechunk(serve_server *srv, serve_conn *c, serve_refusal *r) {
    while (c->raw < c->len) {
        char *p = c->in + c->raw, *nl;
        size_t avail = c->len - c->raw;
        if (c->chunk_state == SCH_DATA) {
            size_t take = avail < c->chunk_left ? avail : (size_t)c->chunk_left;
            llmsplit_buf_append(&c->body, p, take);
            if (c->body.failed) return serve_refuse(r, 503, "out of memory");
            c->raw += take;
            c->chunk_left -= take;
            if (!c->chunk_left) c->chunk_state = SCH_DATA_END;
            continue;
        }
        nl = (char *)memchr(p, '\n', avail);
        if (!nl) {
            if (avail > 1024) return serve_refuse(r, 400, "malformed chunked body (line too long)");
            return 0;
        }
        if (nl == p || nl[-1] != '\r') return serve_refuse(r, 400, "malformed chunked body (lines must end in CRLF)");
        if (c->chunk_state == SCH_DATA_END) {
            if (nl != p + 1) return serve_refuse(r, 400, "malformed chunked body (data longer than its size)");
        } else if (c->chunk_state == SCH_SIZE) {
            uint64_t n = 0;
            char *q = p;
            if (!isxdigit((unsigned char)*q)) return serve_refuse(r, 400, "malformed chunk size");
            for (; isxdigit((unsigned char)*q); q++) {
                int d = *q <= '9' ? *q - '0' : (*q | 0x20) - 'a' + 10;
                if (n >> 60) return serve_refuse(r, 413, "request body too large");
                n = n << 4 | (uint64_t)d;
            }
            while (*q == ' ' || *q == '\t') q++;
            if (*q != ';' && q != nl - 1) return serve_refuse(r, 400, "malformed chunk size");
            for (; q < nl - 1; q++) /* chunk extensions are ignored, but not control characters */
                if ((unsigned char)*q < 0x20 && *q != '\t') return serve_refuse(r, 400, "malformed chunk extension");
            if (n > srv->max_body || c->body.len + n > srv->max_body) return serve_refuse(r, 413, "request body too large");
            c->chunk_left = n;
            c->chunk_state = n ? SCH_DATA : SCH_TRAILER;
        } else { /* trailer fields, ignored, until the blank line */
            if (nl == p + 1) {
                c->raw += 2;
                c->req_len = c->raw;
                return 1;
            }
            if (c->raw - c->head_len > srv->max_body + SERVE_MAX_HEAD) return serve_refuse(r, 431, "trailer too large");
        }
        c->raw += (size_t)(nl - p) + 1;
        if (c->chunk_state == SCH_DATA_END && nl == p + 1) c->chunk_state = SCH_SIZE;
    }
    return 0;
}

/* Where the request stands after new bytes: 1 complete, 0 needs more, -1 refused (*r). */
static int serve_request_ready(serve_server *srv, serve_worker *w, serve_conn *c, serve_refusal *r) {
    if (!c->head_len) {
        size_t from = c->scanned > 3 ? c->scanned - 3 : 0, i;
        const char *end = NULL;
        for (i = from; i + 3 < c->len; i++) {
            const char *cr = (const char *)memchr(c->in + i, '\r', c->len - 3 - i); /* (a CR in the last 3 cannot start one) */
            if (!cr) break;
            i = (size_t)(cr - c->in);
            if (c->in[i + 1] == '\n' && c->in[i + 2] == '\r' && c->in[i + 3] == '\n') {
                end = c->in + i + 4;
                break;
            }
        }
        c->scanned = c->len;
        if (!end) {
            if (c->len >= SERVE_MAX_HEAD) return serve_refuse(r, 431, "request head too large");
            return 0;
        }
        if ((size_t)(end - c->in) > SERVE_MAX_HEAD) return serve_refuse(r, 431, "request head too large");
        c->head_len = (size_t)(end - c->in);
        if (serve_parse_head(srv, c, c->head_len, r) != 0) return -1;
        c->raw = c->head_len;
        if (c->expect_continue && !c->sent_continue &&
            (c->chunked || (c->content_length && c->len - c->head_len < c->content_length))) {
            c->sent_continue = 1;
            if (serve_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0) return serve_refuse(r, 0, "gone");
        }
    }
    (void)w;
    if (c->chunked) return serve_dechunk(srv, c, r);
    if (c->len - c->head_len < c->content_length) return 0;
    c->req_len = c->head_len + (size_t)c->content_length;
    return 1;
}

/* Reads what the socket holds into c->in. >0 bytes read, 0 nothing more now (EAGAIN), -1 the
   client closed or failed. A read that finds the socket empty clears c->readable: the next
   bytes bring an event (the set is edge-triggered). */
static ssize_t serve_read(serve_server *srv, serve_conn *c, int *drained) {
    ssize_t n;
    size_t limit = SERVE_MAX_HEAD + (size_t)srv->max_body + 4096; /* head, body, a little framing */
    if (c->chunked) limit += (size_t)srv->max_body / 8 + 65536;    /* chunk size lines */
    if (c->cap - c->len < 4096) {
        size_t ncap = c->cap ? c->cap * 2 : 8192;
        char *nb;
        if (c->cap >= limit) return -2; /* over every limit: refused by the caller */
        if (ncap > limit) ncap = limit;
        if (!(nb = (char *)realloc(c->in, ncap + 1))) return -1;
        c->in = nb;
        c->cap = ncap;
    }
    for (;;) {
        size_t room = c->cap - c->len;
        n = recv(c->fd, c->in + c->len, room, MSG_DONTWAIT);
        if (n > 0) {
            c->len += (size_t)n;
            c->in[c->len] = 0;
            /* less than asked for: the socket is empty now, and another recv would only say so */
            *drained = (size_t)n < room;
            if (*drained) c->readable = 0;
            return n;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->readable = 0;
            return 0;
        }
        return -1;
    }
}

/* ==== routes ============================================================================== */

typedef int (*serve_handler)(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp);

#define SERVE_AUTH 1    /* needs the master key when one is set */

typedef struct serve_route {
    const char *method;           /* NULL: any (the handler checks) */
    const char *path;
    serve_handler handler;
    int flags;
} serve_route;

static const char *serve_req_header(const serve_request *req, const char *name) {
    return serve_conn_header((const serve_conn *)req->priv, name);
}

/* ==== the OpenAI API ========================================================================= */

/* Parses the request body as JSON into the worker's buffer when it fits (no allocation). NULL
   with resp filled (400 and where the JSON went wrong) when it is not JSON. */
static llmsplit_json_doc *serve_parse_body(serve_worker *w, const serve_request *req, serve_response *resp) {
    llmsplit_json_desc d;
    llmsplit_json_doc *doc = NULL;
    llmsplit_error err;
    size_t need = llmsplit_json_buffer_size(req->body_len);
    memset(&d, 0, sizeof d);
    if (need <= SERVE_DOC_KEEP) {
        if (need > w->doc_cap) {
            void *nb = realloc(w->doc_buf, need);
            if (nb) {
                w->doc_buf = nb;
                w->doc_cap = need;
            }
        }
        if (need <= w->doc_cap) {
            d.buffer = w->doc_buf;
            d.buffer_size = w->doc_cap;
        }
    }
    if (llmsplit_json_parse(req->body, req->body_len, &d, &doc, &err) != LLMSPLIT_OK) {
        if (err.code == LLMSPLIT_ERR_JSON)
            serve_fail(resp, 400, "invalid_json", NULL, "the request body is not valid JSON: %d:%d: %s", err.line, err.col,
                       err.message);
        else
            serve_fail(resp, 503, NULL, NULL, "cannot parse the request body: %s", err.message);
        return NULL;
    }
    if (llmsplit_json_type_of(llmsplit_json_root(doc)) != LLMSPLIT_JSON_OBJECT) {
        serve_fail(resp, 400, NULL, NULL, "the request body must be a JSON object");
        llmsplit_json_free(doc);
        return NULL;
    }
    return doc;
}

/* Writes v as compact JSON text at the end of the worker's scratch buffer, NUL-terminated;
   returns its offset there, or -1 when memory ran out. The buffer may move as it grows: the
   caller turns offsets into pointers once every piece is written. */
static long serve_scratch_json(serve_worker *w, const llmsplit_json_val *v) {
    llmsplit_json_writer jw;
    size_t off = w->scratch.len;
    int ok;
    llmsplit_json_writer_init(&jw, NULL);
    jw.buf = w->scratch; /* written after what is there: the writer only appends */
    llmsplit_json_write_value(&jw, v);
    ok = llmsplit_json_writer_result(&jw, NULL, NULL, NULL) == LLMSPLIT_OK;
    llmsplit_buf_append(&jw.buf, "", 1);
    w->scratch = jw.buf;
    llmsplit_buf_init(&jw.buf, NULL);
    llmsplit_json_writer_free(&jw);
    return ok && !w->scratch.failed ? (long)off : -1;
}

/* The request parameters sent upstream: every member of the body but model, messages, stream
   and user (the gateway's own), as one JSON object in the scratch buffer; -2 when there are
   none, -1 when memory ran out. */
static long serve_scratch_params(serve_worker *w, const llmsplit_json_val *root) {
    llmsplit_json_writer jw;
    llmsplit_json_iter it = llmsplit_json_iterate(root);
    const llmsplit_json_val *k, *v;
    size_t off = w->scratch.len;
    int any = 0, ok;
    llmsplit_json_writer_init(&jw, NULL);
    jw.buf = w->scratch;
    llmsplit_json_write_begin_object(&jw);
    while (llmsplit_json_next(&it, &k, &v)) {
        size_t n;
        const char *ks = llmsplit_json_str(k, &n);
        /* ("user" stays: the provider gets it too, as OpenAI's clients expect) */
        if ((n == 5 && memcmp(ks, "model", 5) == 0) || (n == 8 && memcmp(ks, "messages", 8) == 0) ||
            (n == 6 && memcmp(ks, "stream", 6) == 0))
            continue;
        if (llmsplit_json_type_of(v) == LLMSPLIT_JSON_NULL) continue; /* null: as if absent, as OpenAI reads it */
        llmsplit_json_write_key(&jw, ks, n);
        llmsplit_json_write_value(&jw, v);
        any = 1;
    }
    llmsplit_json_write_end_object(&jw);
    ok = llmsplit_json_writer_result(&jw, NULL, NULL, NULL) == LLMSPLIT_OK;
    llmsplit_buf_append(&jw.buf, "", 1);
    w->scratch = jw.buf;
    llmsplit_buf_init(&jw.buf, NULL);
    llmsplit_json_writer_free(&jw);
    if (!any) {
        w->scratch.len = off;
        return -2;
    }
    return ok && !w->scratch.failed ? (long)off : -1;
}

/* A streamed answer in progress. */
typedef struct serve_stream {
    serve_worker *w;
    serve_conn *c;
    llmsplit_result *res;
    int head_sent;
    int include_usage;            /* the client asked for the usage chunk */
    /* translating Anthropic's events and Ollama's lines into OpenAI chunks */
    int role_sent, ncalls, usage_sent;
    int call_of_block[64];        /* Anthropic: content block index -> tool call index + 1 */
    int64_t prompt_tokens, completion_tokens;
    char finish[32];
    /* the answer, sent from serve_on_answer before the call's record is written */
    int stream;                   /* the client asked for a stream */
    int answered;                 /* serve_on_answer ran: the client has its answer */
    int unsent;                   /* serve_on_answer could not make the answer: resp holds a 503 */
    serve_response *resp;
} serve_stream;

/* The arm that answers, as the records and the report name it: "MODEL #DEPLOYMENT". */
static void serve_arm(const llmsplit_result *res, char *out, size_t cap) {
    serve_arm_name(out, cap, res->response.model, res->deployment);
}

/* The streamed answer's head: 200, text/event-stream, chunked, and who answers. */
static int serve_stream_head(serve_stream *ss) {
    char extra[512], arm[300];
    int n;
    serve_arm(ss->res, arm, sizeof arm);
    n = snprintf(extra, sizeof extra, "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nx-llmsplit-model: %s\r\n", arm);
    if (n < 0 || (size_t)n >= sizeof extra) n = (int)strlen(extra);
    ss->head_sent = 1;
    if (serve_load(&ss->w->srv->draining)) ss->c->keep_alive = 0;
    serve_head(ss->w, ss->c, 200, "text/event-stream", -1, extra, (size_t)n);
    return 0;
}

/* Adds one HTTP chunk holding data to w->out (or the bare bytes when the client speaks
   HTTP/1.0, whose stream ends by closing). */
static void serve_frame(serve_worker *w, serve_conn *c, const char *a, size_t an, const char *b, size_t bn, const char *z,
                        size_t zn) {
    if (c->minor >= 1) {
        char hex[20];
        int n = snprintf(hex, sizeof hex, "%zx\r\n", an + bn + zn);
        llmsplit_buf_append(&w->out, hex, (size_t)n);
    }
    llmsplit_buf_append(&w->out, a, an);
    llmsplit_buf_append(&w->out, b, bn);
    llmsplit_buf_append(&w->out, z, zn);
    if (c->minor >= 1) llmsplit_buf_append(&w->out, "\r\n", 2);
}

/* Each chunk goes out at once as one server-sent event, "data: {...}". The first carries the
   response head. Nonzero (the call stops) when the client has gone. */
static int serve_send_chunk(const char *json, size_t len, void *user_data) {
    serve_stream *ss = (serve_stream *)user_data;
    if (serve_load(&ss->c->abort)) return 1;
    if (!ss->head_sent) serve_stream_head(ss);
    else ss->w->out.len = 0;
    serve_frame(ss->w, ss->c, "data: ", 6, json, len, "\n\n", 2);
    if (ss->w->out.failed || serve_send(ss->c, ss->w->out.data, ss->w->out.len) != 0) {
        serve_store(&ss->c->abort, 1);
        return 1;
    }
    return 0;
}

/* ---- Anthropic and Ollama streams as OpenAI chunks ---- */

/* One piece of a translated stream: a delta (role, text, one tool-call piece), a finish, or the
   usage. */
typedef struct serve_part {
    int role;
    const char *text;             /* NULL: no content */
    size_t text_len;
    int call;                     /* the tool call's index; -1: none */
    const char *call_id, *call_name; /* when the call starts */
    const llmsplit_json_val *args;/* a string (JSON text, maybe a piece of it) or an object */
    const char *finish;
    int usage;
} serve_part;

static void serve_part_init(serve_part *p) {
    memset(p, 0, sizeof *p);
    p->call = -1;
}

/* Opens an OpenAI chat.completion.chunk for the result: id, object, created, model, and the
   choices array left open. */
static void serve_chunk_open(llmsplit_json_writer *jw, const llmsplit_result *res) {
    char id[64];
    snprintf(id, sizeof id, "chatcmpl-%s", res->request_id);
    llmsplit_json_writer_init(jw, NULL);
    llmsplit_json_write_begin_object(jw);
    LLMSPLIT_JSON_KEY(jw, "id");
    llmsplit_json_write_string(jw, id, strlen(id));
    LLMSPLIT_JSON_KEY(jw, "object");
    llmsplit_json_write_string(jw, "chat.completion.chunk", 21);
    LLMSPLIT_JSON_KEY(jw, "created");
    llmsplit_json_write_int(jw, (int64_t)time(NULL));
    LLMSPLIT_JSON_KEY(jw, "model");
    llmsplit_json_write_string(jw, res->response.model, strlen(res->response.model));
    LLMSPLIT_JSON_KEY(jw, "choices");
    llmsplit_json_write_begin_array(jw);
}

/* Writes the part as an OpenAI chat.completion.chunk and sends it. */
static int serve_emit(serve_stream *ss, const serve_part *p) {
    llmsplit_json_writer jw;
    const char *text;
    size_t n;
    int rc = -1;
    serve_chunk_open(&jw, ss->res);
    if (!p->usage) {
        llmsplit_json_write_begin_object(&jw);
        LLMSPLIT_JSON_KEY(&jw, "index");
        llmsplit_json_write_int(&jw, 0);
        LLMSPLIT_JSON_KEY(&jw, "delta");
        llmsplit_json_write_begin_object(&jw);
        if (p->role) {
            LLMSPLIT_JSON_KEY(&jw, "role");
            llmsplit_json_write_string(&jw, "assistant", 9);
        }
        if (p->text) {
            LLMSPLIT_JSON_KEY(&jw, "content");
            llmsplit_json_write_string(&jw, p->text, p->text_len);
        }
        if (p->call >= 0) {
            LLMSPLIT_JSON_KEY(&jw, "tool_calls");
            llmsplit_json_write_begin_array(&jw);
            llmsplit_json_write_begin_object(&jw);
            LLMSPLIT_JSON_KEY(&jw, "index");
            llmsplit_json_write_int(&jw, p->call);
            if (p->call_id) {
                LLMSPLIT_JSON_KEY(&jw, "id");
                llmsplit_json_write_string(&jw, p->call_id, strlen(p->call_id));
                LLMSPLIT_JSON_KEY(&jw, "type");
                llmsplit_json_write_string(&jw, "function", 8);
            }
            LLMSPLIT_JSON_KEY(&jw, "function");
            llmsplit_json_write_begin_object(&jw);
            if (p->call_name) {
                LLMSPLIT_JSON_KEY(&jw, "name");
                llmsplit_json_write_string(&jw, p->call_name, strlen(p->call_name));
            }
            LLMSPLIT_JSON_KEY(&jw, "arguments");
            if (llmsplit_json_type_of(p->args) == LLMSPLIT_JSON_STRING) {
                llmsplit_json_write_value(&jw, p->args);
            } else if (p->args) { /* an object (Ollama): its JSON text, as OpenAI sends it */
                llmsplit_json_writer aw;
                const char *at;
                size_t an;
                llmsplit_json_writer_init(&aw, NULL);
                llmsplit_json_write_value(&aw, p->args);
                if (llmsplit_json_writer_result(&aw, &at, &an, NULL) == LLMSPLIT_OK) llmsplit_json_write_string(&jw, at, an);
                else llmsplit_json_write_string(&jw, "{}", 2);
                llmsplit_json_writer_free(&aw);
            } else {
                llmsplit_json_write_string(&jw, "", 0);
            }
            llmsplit_json_write_end_object(&jw);
            llmsplit_json_write_end_object(&jw);
            llmsplit_json_write_end_array(&jw);
        }
        llmsplit_json_write_end_object(&jw);
        LLMSPLIT_JSON_KEY(&jw, "logprobs");
        llmsplit_json_write_null(&jw);
        LLMSPLIT_JSON_KEY(&jw, "finish_reason");
        if (p->finish) llmsplit_json_write_string(&jw, p->finish, strlen(p->finish));
        else llmsplit_json_write_null(&jw);
        llmsplit_json_write_end_object(&jw);
    }
    llmsplit_json_write_end_array(&jw);
    if (p->usage) {
        int64_t pt = ss->prompt_tokens > 0 ? ss->prompt_tokens : 0, ct = ss->completion_tokens > 0 ? ss->completion_tokens : 0;
        LLMSPLIT_JSON_KEY(&jw, "usage");
        llmsplit_json_write_begin_object(&jw);
        LLMSPLIT_JSON_KEY(&jw, "prompt_tokens");
        llmsplit_json_write_int(&jw, pt);
        LLMSPLIT_JSON_KEY(&jw, "completion_tokens");
        llmsplit_json_write_int(&jw, ct);
        LLMSPLIT_JSON_KEY(&jw, "total_tokens");
        llmsplit_json_write_int(&jw, pt + ct);
        llmsplit_json_write_end_object(&jw);
        ss->usage_sent = 1;
    }
    llmsplit_json_write_end_object(&jw);
    /* a piece that cannot be written (text that is not UTF-8) is skipped, the stream goes on */
    if (llmsplit_json_writer_result(&jw, &text, &n, NULL) == LLMSPLIT_OK) rc = serve_send_chunk(text, n, ss) ? -1 : 0;
    else rc = 0;
    llmsplit_json_writer_free(&jw);
    return rc;
}

/* OpenAI's names for a finish reason. */
static const char *serve_finish(const char *reason, int had_calls) {
    if (!reason || !*reason) return "stop";
    if (strcmp(reason, "end_turn") == 0 || strcmp(reason, "stop_sequence") == 0) return had_calls ? "tool_calls" : "stop";
    if (strcmp(reason, "max_tokens") == 0) return "length";
    if (strcmp(reason, "tool_use") == 0) return "tool_calls";
    if (strcmp(reason, "stop") == 0 && had_calls) return "tool_calls";
    return reason;
}

static void serve_set_tokens(int64_t *to, const llmsplit_json_val *v) {
    if (llmsplit_json_is_int(v) && llmsplit_json_int(v) >= 0) *to = llmsplit_json_int(v);
}

/* One Anthropic message event as OpenAI chunks. */
static int serve_anthropic_event(serve_stream *ss, const llmsplit_json_val *root) {
    const char *type = llmsplit_json_str(llmsplit_json_get(root, "type"), NULL);
    const llmsplit_json_val *v;
    int64_t index = llmsplit_json_int(llmsplit_json_get(root, "index"));
    serve_part p;
    size_t n;
    serve_part_init(&p);
    if (!type) return 0;
    if (strcmp(type, "message_start") == 0) {
        serve_set_tokens(&ss->prompt_tokens, llmsplit_json_path(root, "message.usage.input_tokens"));
        p.role = ss->role_sent = 1; /* the first chunk, as soon as the provider says anything */
        p.text = "";
        return serve_emit(ss, &p);
    }
    if (strcmp(type, "content_block_start") == 0) {
        v = llmsplit_json_get(root, "content_block");
        if ((p.text = llmsplit_json_str(llmsplit_json_get(v, "text"), &p.text_len)) != NULL) return p.text_len ? serve_emit(ss, &p) : 0;
        if (!llmsplit_json_get(v, "name")) return 0;
        p.call = ss->ncalls++;
        if (index >= 0 && index < 64) ss->call_of_block[index] = p.call + 1;
        p.call_id = llmsplit_json_str(llmsplit_json_get(v, "id"), NULL);
        p.call_name = llmsplit_json_str(llmsplit_json_get(v, "name"), NULL);
        if (!p.call_id) p.call_id = "";
        return serve_emit(ss, &p);
    }
    if (strcmp(type, "content_block_delta") == 0) {
        v = llmsplit_json_get(root, "delta");
        if ((p.text = llmsplit_json_str(llmsplit_json_get(v, "text"), &n)) != NULL) {
            p.text_len = n;
            return serve_emit(ss, &p);
        }
        if ((p.args = llmsplit_json_get(v, "partial_json")) != NULL && index >= 0 && index < 64 && ss->call_of_block[index]) {
            p.call = ss->call_of_block[index] - 1;
            return serve_emit(ss, &p);
        }
        return 0;
    }
    if (strcmp(type, "message_delta") == 0) {
        serve_set_tokens(&ss->completion_tokens, llmsplit_json_path(root, "usage.output_tokens"));
        p.finish = serve_finish(llmsplit_json_str(llmsplit_json_path(root, "delta.stop_reason"), NULL), ss->ncalls > 0);
        return serve_emit(ss, &p);
    }
    if (strcmp(type, "message_stop") == 0 && ss->include_usage) {
        p.usage = 1;
        return serve_emit(ss, &p);
    }
    return 0;
}

/* One Ollama line as OpenAI chunks. */
static int serve_ollama_line(serve_stream *ss, const llmsplit_json_val *root) {
    llmsplit_json_iter it = llmsplit_json_iterate(llmsplit_json_path(root, "message.tool_calls"));
    const llmsplit_json_val *tc;
    serve_part p;
    int rc = 0;
    serve_part_init(&p);
    if ((p.text = llmsplit_json_str(llmsplit_json_path(root, "message.content"), &p.text_len)) != NULL &&
        (p.text_len || !ss->role_sent)) {
        p.role = !ss->role_sent;
        ss->role_sent = 1;
        rc = serve_emit(ss, &p);
    }
    while (rc == 0 && llmsplit_json_next(&it, NULL, &tc)) { /* whole calls, never pieces */
        char made[80];
        serve_part_init(&p);
        p.role = !ss->role_sent;
        ss->role_sent = 1;
        p.call = ss->ncalls++;
        p.call_id = llmsplit_json_str(llmsplit_json_get(tc, "id"), NULL);
        if (!p.call_id) { /* Ollama gives none: one made from the request id, unique in the answer */
            snprintf(made, sizeof made, "call_%.24s%d", ss->res->request_id, p.call);
            p.call_id = made;
        }
        p.call_name = llmsplit_json_str(llmsplit_json_path(tc, "function.name"), NULL);
        if (!p.call_name) p.call_name = "";
        p.args = llmsplit_json_path(tc, "function.arguments");
        rc = serve_emit(ss, &p);
    }
    if (rc == 0 && llmsplit_json_is_true(llmsplit_json_get(root, "done"))) {
        serve_set_tokens(&ss->prompt_tokens, llmsplit_json_get(root, "prompt_eval_count"));
        serve_set_tokens(&ss->completion_tokens, llmsplit_json_get(root, "eval_count"));
        serve_part_init(&p);
        p.finish = serve_finish(llmsplit_json_str(llmsplit_json_get(root, "done_reason"), NULL), ss->ncalls > 0);
        rc = serve_emit(ss, &p);
        if (rc == 0 && ss->include_usage) {
            serve_part_init(&p);
            p.usage = 1;
            rc = serve_emit(ss, &p);
        }
    }
    return rc;
}

/* A chunk of OpenAI's own holding only the usage ("choices": []), which the library may have
   asked for itself: read without a parse, as the text is the provider's compact JSON. */
static int serve_usage_only(const char *json, size_t len) {
    const char *k = json, *end = json + len;
    while ((k = memchr(k, '"', (size_t)(end - k))) != NULL && end - k > 10) {
        if (memcmp(k, "\"choices\"", 9) == 0) {
            k += 9;
            while (k < end && (*k == ' ' || *k == ':')) k++;
            if (k < end && *k == '[') k++;
            while (k < end && *k == ' ') k++;
            return k < end && *k == ']';
        }
        k++;
    }
    return 0;
}

/* on_event: the provider's stream. OpenAI-shaped events go on as they came (time to first byte is
   the provider's plus the time to copy them out); Anthropic's and Ollama's are translated. */
static int serve_on_event(const char *event, const char *data, size_t len, void *user_data) {
    serve_stream *ss = (serve_stream *)user_data;
    llmsplit_provider provider = ss->res->response.provider;
    llmsplit_json_doc *doc;
    int rc;
    (void)event;
    if (serve_load(&ss->c->abort)) return 1;
    if (provider != LLMSPLIT_PROVIDER_ANTHROPIC && provider != LLMSPLIT_PROVIDER_OLLAMA) {
        if (!ss->include_usage && serve_usage_only(data, len)) return 0;
        return serve_send_chunk(data, len, ss);
    }
    if (llmsplit_json_parse(data, len, NULL, &doc, NULL) != LLMSPLIT_OK) return 0; /* the library read it: cannot happen */
    rc = provider == LLMSPLIT_PROVIDER_ANTHROPIC ? serve_anthropic_event(ss, llmsplit_json_root(doc))
                                                 : serve_ollama_line(ss, llmsplit_json_root(doc));
    llmsplit_json_free(doc);
    return rc != 0;
}

/* One chunk of a stream made here from a whole answer: its envelope, then what fill writes
   into the choice (or, with choice 0, after the empty choices: the usage). */
static int serve_made_chunk(serve_stream *ss, const llmsplit_result *res, int kind, const llmsplit_json_val *calls) {
    const llmsplit_chat_response *r = &res->response;
    llmsplit_json_writer jw;
    const char *text;
    size_t n;
    int rc = -1;
    serve_chunk_open(&jw, res);
    if (kind != 2) {
        llmsplit_json_write_begin_object(&jw);
        LLMSPLIT_JSON_KEY(&jw, "index");
        llmsplit_json_write_int(&jw, 0);
        LLMSPLIT_JSON_KEY(&jw, "delta");
        llmsplit_json_write_begin_object(&jw);
        if (kind == 0) { /* the answer: role, text, the tool calls with their index */
            llmsplit_json_iter it = llmsplit_json_iterate(calls);
            const llmsplit_json_val *call, *k, *v;
            int i = 0;
            LLMSPLIT_JSON_KEY(&jw, "role");
            llmsplit_json_write_string(&jw, "assistant", 9);
            LLMSPLIT_JSON_KEY(&jw, "content");
            llmsplit_json_write_string(&jw, r->text.data ? r->text.data : "", r->text.len);
            if (llmsplit_json_len(calls)) {
                LLMSPLIT_JSON_KEY(&jw, "tool_calls");
                llmsplit_json_write_begin_array(&jw);
                while (llmsplit_json_next(&it, NULL, &call)) {
                    llmsplit_json_iter m = llmsplit_json_iterate(call);
                    llmsplit_json_write_begin_object(&jw);
                    LLMSPLIT_JSON_KEY(&jw, "index");
                    llmsplit_json_write_int(&jw, i++);
                    while (llmsplit_json_next(&m, &k, &v)) {
                        size_t kl;
                        const char *ks = llmsplit_json_str(k, &kl);
                        llmsplit_json_write_key(&jw, ks, kl);
                        llmsplit_json_write_value(&jw, v);
                    }
                    llmsplit_json_write_end_object(&jw);
                }
                llmsplit_json_write_end_array(&jw);
            }
        }
        llmsplit_json_write_end_object(&jw);
        LLMSPLIT_JSON_KEY(&jw, "logprobs");
        llmsplit_json_write_null(&jw);
        LLMSPLIT_JSON_KEY(&jw, "finish_reason");
        if (kind == 1) llmsplit_json_write_string(&jw, r->finish_reason[0] ? r->finish_reason : "stop",
                                                  strlen(r->finish_reason[0] ? r->finish_reason : "stop"));
        else llmsplit_json_write_null(&jw);
        llmsplit_json_write_end_object(&jw);
    }
    llmsplit_json_write_end_array(&jw);
    if (kind == 2) {
        int64_t p = r->prompt_tokens > 0 ? r->prompt_tokens : 0, c = r->completion_tokens > 0 ? r->completion_tokens : 0;
        LLMSPLIT_JSON_KEY(&jw, "usage");
        llmsplit_json_write_begin_object(&jw);
        LLMSPLIT_JSON_KEY(&jw, "prompt_tokens");
        llmsplit_json_write_int(&jw, p);
        LLMSPLIT_JSON_KEY(&jw, "completion_tokens");
        llmsplit_json_write_int(&jw, c);
        LLMSPLIT_JSON_KEY(&jw, "total_tokens");
        llmsplit_json_write_int(&jw, p + c);
        llmsplit_json_write_end_object(&jw);
    }
    llmsplit_json_write_end_object(&jw);
    if (llmsplit_json_writer_result(&jw, &text, &n, NULL) == LLMSPLIT_OK) rc = serve_send_chunk(text, n, ss) ? -1 : 0;
    llmsplit_json_writer_free(&jw);
    return rc;
}

/* A stream request the provider answered whole: the answer chunk, the finish chunk and, when
   asked for, the usage chunk. 0, or -1 when the client has gone. */
static int serve_whole_as_stream(serve_stream *ss, const llmsplit_result *res, int include_usage) {
    llmsplit_json_doc *calls = NULL;
    int rc;
    if (res->response.tool_calls.len)
        llmsplit_json_parse(res->response.tool_calls.data, res->response.tool_calls.len, NULL, &calls, NULL);
    rc = serve_made_chunk(ss, res, 0, llmsplit_json_root(calls));
    if (rc == 0) rc = serve_made_chunk(ss, res, 1, NULL);
    if (rc == 0 && include_usage) rc = serve_made_chunk(ss, res, 2, NULL);
    llmsplit_json_free(calls);
    return rc;
}

/* The end of a stream: "data: [DONE]" after an answer, an error event after a failure, then
   the last chunk. */
static void serve_stream_end(serve_stream *ss, const char *error_json, size_t error_len) {
    serve_worker *w = ss->w;
    w->out.len = 0;
    if (error_json) serve_frame(w, ss->c, "data: ", 6, error_json, error_len, "\n\n", 2);
    else serve_frame(w, ss->c, "data: [DONE]\n\n", 14, "", 0, "", 0);
    if (ss->c->minor >= 1) llmsplit_buf_append(&w->out, "0\r\n\r\n", 5);
    if (w->out.failed || serve_send(ss->c, w->out.data, w->out.len) != 0) serve_store(&ss->c->abort, 1);
}

/* Maps a failed call to the answer a client of OpenAI's API expects: the provider's own status
   passed through (429 with its Retry-After), a timeout 504, anything else upstream 502; the
   gateway's config or memory 500/503; an unknown group 404 listing the groups. */
static int serve_call_status(llmsplit_status e, const llmsplit_error *err, const llmsplit_result *res) {
    if (res->unknown_group) return 404;
    switch (e) {
    case LLMSPLIT_ERR_USAGE: return 400;
    case LLMSPLIT_ERR_PROVIDER: return err->http_status >= 400 && err->http_status < 600 ? err->http_status : 502;
    case LLMSPLIT_ERR_NETWORK: return strstr(err->message, "timed out") ? 504 : 502;
    case LLMSPLIT_ERR_TLS: case LLMSPLIT_ERR_HTTP: case LLMSPLIT_ERR_RESPONSE: return 502;
    case LLMSPLIT_ERR_NOMEM: case LLMSPLIT_ERR_BUSY: return 503;
    default: return 500;
    }
}

/* "a, b, c": the groups of the config in use, for the answer to a model that is none of them. */
static void serve_group_list(serve_server *srv, char *out, size_t cap) {
    const llmsplit_config *cfg = llmsplit_client_config_acquire(srv->client);
    size_t used = 0;
    int i;
    out[0] = 0;
    for (i = 0; cfg && i < cfg->num_groups && used + 1 < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", cfg->groups[i].name);
        if (n < 0) break;
        used = used + (size_t)n < cap ? used + (size_t)n : cap - 1;
    }
    llmsplit_client_config_release(srv->client, cfg);
}

static void serve_call_error(serve_server *srv, serve_response *resp, llmsplit_status e, const llmsplit_error *err,
                             const llmsplit_result *res) {
    int status = serve_call_status(e, err, res);
    const char *code = res->unknown_group ? "model_not_found" : status == 429 ? "rate_limit_exceeded"
                       : status == 504 ? "upstream_timeout" : status >= 500 ? "upstream_error" : NULL;
    if (res->unknown_group) {
        char groups[600];
        serve_group_list(srv, groups, sizeof groups);
        serve_fail(resp, 404, code, NULL, "the model %s (its groups: %s)", err->message, groups);
    }
    else if (e == LLMSPLIT_ERR_USAGE || e == LLMSPLIT_ERR_CONFIG) serve_fail(resp, status, code, NULL, "%s", err->message);
    else serve_fail(resp, status, code, NULL, "upstream: %s: %s", llmsplit_strerror(e), err->message);
    if (status == 429 && res->response.retry_after_s > 0) {
        serve_append(&resp->headers, "Retry-After: ");
        serve_append_num(&resp->headers, (uint64_t)ceil(res->response.retry_after_s));
        serve_append(&resp->headers, "\r\n");
    }
}

/* The whole answer of a call, as OpenAI's chat.completion object. */
static void serve_completion_json(llmsplit_buf *out, const llmsplit_result *res) {
    llmsplit_json_writer jw;
    const llmsplit_chat_response *r = &res->response;
    llmsplit_json_doc *calls = NULL;
    int64_t p = r->prompt_tokens > 0 ? r->prompt_tokens : 0, c = r->completion_tokens > 0 ? r->completion_tokens : 0;
    char id[64];
    snprintf(id, sizeof id, "chatcmpl-%s", res->request_id);
    llmsplit_json_writer_init(&jw, NULL);
    jw.buf = *out;
    jw.buf.len = 0;
    llmsplit_json_write_begin_object(&jw);
    LLMSPLIT_JSON_KEY(&jw, "id");
    llmsplit_json_write_string(&jw, id, strlen(id));
    LLMSPLIT_JSON_KEY(&jw, "object");
    llmsplit_json_write_string(&jw, "chat.completion", 15);
    LLMSPLIT_JSON_KEY(&jw, "created");
    llmsplit_json_write_int(&jw, (int64_t)time(NULL));
    LLMSPLIT_JSON_KEY(&jw, "model");
    llmsplit_json_write_string(&jw, r->model, strlen(r->model));
    LLMSPLIT_JSON_KEY(&jw, "choices");
    llmsplit_json_write_begin_array(&jw);
    llmsplit_json_write_begin_object(&jw);
    LLMSPLIT_JSON_KEY(&jw, "index");
    llmsplit_json_write_int(&jw, 0);
    LLMSPLIT_JSON_KEY(&jw, "message");
    llmsplit_json_write_begin_object(&jw);
    LLMSPLIT_JSON_KEY(&jw, "role");
    llmsplit_json_write_string(&jw, r->role[0] ? r->role : "assistant", strlen(r->role[0] ? r->role : "assistant"));
    LLMSPLIT_JSON_KEY(&jw, "content");
    if (r->tool_calls.len && !r->text.len) llmsplit_json_write_null(&jw);
    else llmsplit_json_write_string(&jw, r->text.data ? r->text.data : "", r->text.len);
    if (r->tool_calls.len && llmsplit_json_parse(r->tool_calls.data, r->tool_calls.len, NULL, &calls, NULL) == LLMSPLIT_OK) {
        LLMSPLIT_JSON_KEY(&jw, "tool_calls");
        llmsplit_json_write_value(&jw, llmsplit_json_root(calls));
    }
    llmsplit_json_write_end_object(&jw);
    LLMSPLIT_JSON_KEY(&jw, "logprobs");
    llmsplit_json_write_null(&jw);
    LLMSPLIT_JSON_KEY(&jw, "finish_reason");
    llmsplit_json_write_string(&jw, r->finish_reason[0] ? r->finish_reason : "stop",
                               strlen(r->finish_reason[0] ? r->finish_reason : "stop"));
    llmsplit_json_write_end_object(&jw);
    llmsplit_json_write_end_array(&jw);
    LLMSPLIT_JSON_KEY(&jw, "usage");
    llmsplit_json_write_begin_object(&jw);
    LLMSPLIT_JSON_KEY(&jw, "prompt_tokens");
    llmsplit_json_write_int(&jw, p);
    LLMSPLIT_JSON_KEY(&jw, "completion_tokens");
    llmsplit_json_write_int(&jw, c);
    LLMSPLIT_JSON_KEY(&jw, "total_tokens");
    llmsplit_json_write_int(&jw, p + c);
    llmsplit_json_write_end_object(&jw);
    llmsplit_json_write_end_object(&jw);
    if (llmsplit_json_writer_result(&jw, NULL, NULL, NULL) != LLMSPLIT_OK) jw.buf.failed = 1;
    *out = jw.buf;
    llmsplit_buf_init(&jw.buf, NULL);
    llmsplit_json_writer_free(&jw);
    llmsplit_json_free(calls);
}

/* The message objects of the body into llmsplit_message (pointing into the parsed document and
   the scratch buffer). -1 with resp filled when one is malformed. */
static int serve_messages(serve_worker *w, const llmsplit_json_val *msgs, int *count, serve_response *resp) {
    llmsplit_json_iter it = llmsplit_json_iterate(msgs);
    const llmsplit_json_val *m;
    size_t n = llmsplit_json_len(msgs);
    long *offs;
    int i = 0;
    if (llmsplit_json_type_of(msgs) != LLMSPLIT_JSON_ARRAY || n == 0) {
        serve_fail(resp, 400, NULL, NULL, "messages must be a non-empty array");
        return -1;
    }
    if (n > (size_t)INT_MAX / 4) {
        serve_fail(resp, 400, NULL, NULL, "too many messages");
        return -1;
    }
    if ((int)n > w->msgs_cap) {
        llmsplit_message *nm = (llmsplit_message *)realloc(w->msgs, sizeof *nm * n + sizeof(long) * 2 * n);
        if (!nm) {
            serve_fail(resp, 503, NULL, NULL, "out of memory");
            return -1;
        }
        w->msgs = nm;
        w->msgs_cap = (int)n;
    }
    /* the raw parts' offsets live after the messages (2 per message: content, tool_calls) */
    offs = (long *)(void *)(w->msgs + w->msgs_cap);
    while (llmsplit_json_next(&it, NULL, &m)) {
        llmsplit_message *out = &w->msgs[i];
        const llmsplit_json_val *content = llmsplit_json_get(m, "content"), *v;
        llmsplit_json_type ct = llmsplit_json_type_of(content);
        memset(out, 0, sizeof *out);
        offs[2 * i] = offs[2 * i + 1] = -1;
        if (llmsplit_json_type_of(m) != LLMSPLIT_JSON_OBJECT ||
            !(out->role = llmsplit_json_str(llmsplit_json_get(m, "role"), NULL))) {
            serve_fail(resp, 400, NULL, NULL, "messages[%d] must be an object with a role", i);
            return -1;
        }
        if (ct == LLMSPLIT_JSON_STRING) {
            out->content = llmsplit_json_str(content, &out->content_len);
            if (!out->content_len) out->content = "";
        } else if (ct == LLMSPLIT_JSON_ARRAY || ct == LLMSPLIT_JSON_OBJECT) {
            if ((offs[2 * i] = serve_scratch_json(w, content)) < 0) goto nomem;
        } else if (ct != LLMSPLIT_JSON_NONE && ct != LLMSPLIT_JSON_NULL) {
            serve_fail(resp, 400, NULL, NULL, "messages[%d].content must be a string, an array of parts or null", i);
            return -1;
        }
        if ((v = llmsplit_json_get(m, "tool_calls")) != NULL && llmsplit_json_type_of(v) == LLMSPLIT_JSON_ARRAY &&
            llmsplit_json_len(v) > 0 && (offs[2 * i + 1] = serve_scratch_json(w, v)) < 0)
            goto nomem;
        out->tool_call_id = llmsplit_json_str(llmsplit_json_get(m, "tool_call_id"), NULL);
        out->name = llmsplit_json_str(llmsplit_json_get(m, "name"), NULL);
        if (!out->content && offs[2 * i] < 0 && offs[2 * i + 1] < 0 && strcmp(out->role, "assistant") != 0) out->content = "";
        i++;
    }
    *count = (int)n;
    return 0;
nomem:
    serve_fail(resp, 503, NULL, NULL, "out of memory");
    return -1;
}

/* POST /v1/chat/completions: the body as OpenAI defines it, model being a group of the config. */
/* The call has its answer: the client gets it now, and the record is written after. A streamed
   answer ends ([DONE]); one the provider answered whole goes out as a stream's chunks when a
   stream was asked for, else as one chat.completion: the provider's own when it speaks OpenAI's
   format (passed on as it came, every field kept, as its streamed chunks are), else one made from
   the answer. */
static void serve_on_answer(const llmsplit_result *res, void *user_data) {
    serve_stream *ss = (serve_stream *)user_data;
    serve_conn *c = ss->c;
    serve_response *resp = ss->resp;
    char arm[300];
    ss->answered = 1;
    serve_copy(c->request_id, sizeof c->request_id, res->request_id);
    if (serve_load(&c->abort)) return; /* the client has gone: nobody to answer */
    if (ss->head_sent) {
        serve_stream_end(ss, NULL, 0);
        return;
    }
    if (ss->stream) {
        if (serve_whole_as_stream(ss, res, ss->include_usage) == 0) serve_stream_end(ss, NULL, 0);
        return;
    }
    serve_arm(res, arm, sizeof arm);
    if (res->response.provider != LLMSPLIT_PROVIDER_ANTHROPIC && res->response.provider != LLMSPLIT_PROVIDER_OLLAMA &&
        res->response.raw.len && res->response.raw.data[0] == '{') {
        /* (the library read it as an answer: it is a JSON object) the header line is made on the
           stack: the answer goes as it came, and nothing else is allocated for it */
        char line[sizeof arm + 24], *p = line;
        llmsplit_buf extra;
        SERVE_LIT(p, "x-llmsplit-model: ");
        SERVE_PUT(p, arm, strlen(arm));
        SERVE_LIT(p, "\r\n");
        memset(&extra, 0, sizeof extra);
        extra.data = line;
        extra.len = (size_t)(p - line);
        resp->status = 200;
        if (serve_send_response(ss->w, c, 200, NULL, &extra, res->response.raw.data, res->response.raw.len) != 0)
            serve_store(&c->abort, 1);
        return;
    }
    serve_append(&resp->headers, "x-llmsplit-model: ");
    serve_append(&resp->headers, arm);
    serve_append(&resp->headers, "\r\n");
    serve_completion_json(&resp->body, res);
    if (resp->body.failed || resp->headers.failed) {
        /* nothing sent yet: serve_process answers 503 */
        serve_fail(resp, 503, NULL, NULL, "out of memory");
        ss->answered = 0;
        ss->unsent = 1;
        return;
    }
    resp->status = 200;
    if (serve_send_response(ss->w, c, 200, NULL, &resp->headers, resp->body.data, resp->body.len) != 0)
        serve_store(&c->abort, 1);
}

static int serve_wait_upstream(struct serve_fiber *f, int fd, uint64_t id, int events, int timeout_ms);

/* The call's wait (llmsplit_request.wait_socket): the coroutine waits in its loop, never the
   thread. */
static int serve_io_wait(int fd, uint64_t id, int events, int timeout_ms, void *user_data) {
    serve_stream *ss = (serve_stream *)user_data;
    return serve_wait_upstream(ss->w->fiber, fd, id, events, timeout_ms);
}

static int serve_chat(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp) {
    serve_server *srv = w->srv;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *root, *v;
    llmsplit_request rq;
    llmsplit_result res;
    llmsplit_error err;
    llmsplit_status e;
    serve_stream ss;
    long params = -2;
    int streamed = 0, nmsgs = 0, include_usage = 0;
    if (!(doc = serve_parse_body(w, req, resp))) return 0;
    root = llmsplit_json_root(doc);
    w->scratch.len = 0;
    memset(&rq, 0, sizeof rq);
    if (!(rq.group = llmsplit_json_str(llmsplit_json_get(root, "model"), NULL)) || !rq.group[0]) {
        serve_fail(resp, 400, NULL, NULL, "model is required: name a model group of the config");
        goto done;
    }
    if (serve_messages(w, llmsplit_json_get(root, "messages"), &nmsgs, resp) != 0) goto done;
    v = llmsplit_json_get(root, "stream");
    if (v && llmsplit_json_type_of(v) != LLMSPLIT_JSON_BOOL && llmsplit_json_type_of(v) != LLMSPLIT_JSON_NULL) {
        serve_fail(resp, 400, NULL, NULL, "stream must be true or false");
        goto done;
    }
    rq.stream = llmsplit_json_is_true(v);
    include_usage = llmsplit_json_is_true(llmsplit_json_path(root, "stream_options.include_usage"));
    if ((v = llmsplit_json_get(root, "n")) != NULL && llmsplit_json_type_of(v) != LLMSPLIT_JSON_NULL &&
        !(llmsplit_json_is_int(v) && llmsplit_json_int(v) == 1)) {
        serve_fail(resp, 400, NULL, NULL, "n must be 1: the gateway answers with one choice");
        goto done;
    }
    rq.user = llmsplit_json_str(llmsplit_json_get(root, "user"), NULL);
    if (!rq.user || !rq.user[0]) rq.user = req->header(req, "x-llmsplit-user");
    params = serve_scratch_params(w, root);
    if (params == -1) {
        serve_fail(resp, 503, NULL, NULL, "out of memory");
        goto done;
    }
    rq.messages = w->msgs;
    rq.num_messages = nmsgs;
    /* the offsets become pointers now: the scratch buffer no longer grows */
    {
        int i;
        for (i = 0; i < nmsgs; i++) {
            long *offs = (long *)(void *)(w->msgs + w->msgs_cap);
            if (offs[2 * i] >= 0) w->msgs[i].content_json = w->scratch.data + offs[2 * i];
            if (offs[2 * i + 1] >= 0) w->msgs[i].tool_calls_json = w->scratch.data + offs[2 * i + 1];
        }
    }
    rq.params_json = params >= 0 ? w->scratch.data + params : NULL;
    rq.group_required = 1;
    rq.abort_flag = &c->abort;
    memset(&ss, 0, sizeof ss);
    ss.w = w;
    ss.c = c;
    ss.res = &res;
    ss.include_usage = include_usage;
    ss.prompt_tokens = ss.completion_tokens = -1;
    ss.stream = rq.stream;
    ss.resp = resp;
    if (rq.stream) rq.on_event = serve_on_event;
    rq.on_answer = serve_on_answer;
    rq.keep_raw = !rq.stream;
    rq.user_data = &ss;
    rq.wait_socket = serve_io_wait;
    serve_conn_busy(srv, c);
    e = llmsplit_client_chat(srv->client, &rq, &res, &err);
    serve_conn_unbusy(srv, c);
    serve_copy(c->request_id, sizeof c->request_id, res.request_id);
    if (ss.answered) {
        streamed = 1; /* sent (or the client had gone) */
    } else if (ss.unsent) {
        /* resp holds the answer to send: out of memory */
    } else if (ss.head_sent) {
        /* the stream has begun: its failure as an error event */
        streamed = 1;
        if (serve_load(&c->abort)) {
            /* nothing more can reach the client */
        } else {
            serve_response tmp;
            llmsplit_buf_init(&tmp.headers, NULL);
            llmsplit_buf_init(&tmp.body, NULL);
            serve_call_error(srv, &tmp, e, &err, &res);
            serve_stream_end(&ss, tmp.body.data ? tmp.body.data : "{}", tmp.body.len);
            llmsplit_buf_free(&tmp.headers);
            llmsplit_buf_free(&tmp.body);
        }
    } else if (serve_load(&c->abort)) {
        streamed = 1; /* the client has gone: no answer */
    } else {
        serve_call_error(srv, resp, e, &err, &res);
    }
    llmsplit_result_free(&res);
done:
    if (w->scratch.cap > SERVE_DOC_KEEP) llmsplit_buf_free(&w->scratch);
    llmsplit_json_free(doc);
    return streamed;
}

/* POST /v1/feedback {"request_id": ID, "metric": NAME, "value": NUMBER or true/false}. */
static int serve_feedback(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp) {
    llmsplit_json_doc *doc;
    const llmsplit_json_val *root, *v;
    const char *id, *metric;
    double value;
    llmsplit_error err;
    (void)c;
    if (!(doc = serve_parse_body(w, req, resp))) return 0;
    root = llmsplit_json_root(doc);
    id = llmsplit_json_str(llmsplit_json_get(root, "request_id"), NULL);
    metric = llmsplit_json_str(llmsplit_json_get(root, "metric"), NULL);
    v = llmsplit_json_get(root, "value");
    if (llmsplit_json_type_of(v) == LLMSPLIT_JSON_BOOL) value = llmsplit_json_is_true(v) ? 1.0 : 0.0;
    else value = llmsplit_json_double(v);
    if (!id || !metric || (llmsplit_json_type_of(v) != LLMSPLIT_JSON_NUMBER && llmsplit_json_type_of(v) != LLMSPLIT_JSON_BOOL)) {
        serve_fail(resp, 400, NULL, NULL, "feedback wants {\"request_id\": ID, \"metric\": NAME, \"value\": NUMBER}");
    } else if (llmsplit_client_feedback(w->srv->client, id, metric, value, &err) != LLMSPLIT_OK) {
        serve_fail(resp, 400, NULL, NULL, "%s", err.message);
    } else {
        serve_append(&resp->body, "{\"status\":\"ok\"}");
    }
    llmsplit_json_free(doc);
    return 0;
}

/* GET /v1/models: the groups, as OpenAI's model list. */
static int serve_models(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp) {
    const llmsplit_config *cfg = llmsplit_client_config_acquire(w->srv->client);
    llmsplit_json_writer jw;
    int i;
    (void)c;
    (void)req;
    llmsplit_json_writer_init(&jw, NULL);
    llmsplit_json_write_begin_object(&jw);
    LLMSPLIT_JSON_KEY(&jw, "object");
    llmsplit_json_write_string(&jw, "list", 4);
    LLMSPLIT_JSON_KEY(&jw, "data");
    llmsplit_json_write_begin_array(&jw);
    for (i = 0; cfg && i < cfg->num_groups; i++) {
        llmsplit_json_write_begin_object(&jw);
        LLMSPLIT_JSON_KEY(&jw, "id");
        llmsplit_json_write_string(&jw, cfg->groups[i].name, strlen(cfg->groups[i].name));
        LLMSPLIT_JSON_KEY(&jw, "object");
        llmsplit_json_write_string(&jw, "model", 5);
        LLMSPLIT_JSON_KEY(&jw, "created");
        llmsplit_json_write_int(&jw, (int64_t)w->srv->started);
        LLMSPLIT_JSON_KEY(&jw, "owned_by");
        llmsplit_json_write_string(&jw, "llmsplit", 8);
        llmsplit_json_write_end_object(&jw);
    }
    llmsplit_json_write_end_array(&jw);
    llmsplit_json_write_end_object(&jw);
    llmsplit_client_config_release(w->srv->client, cfg);
    {
        const char *text;
        size_t n;
        if (llmsplit_json_writer_result(&jw, &text, &n, NULL) == LLMSPLIT_OK) llmsplit_buf_append(&resp->body, text, n);
        else serve_fail(resp, 503, NULL, NULL, "out of memory");
    }
    llmsplit_json_writer_free(&jw);
    return 0;
}

/* GET /health/liveliness: the process answers (LiteLLM's body). */
static int serve_liveliness(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp) {
    (void)w;
    (void)c;
    (void)req;
    serve_append(&resp->body, "\"I'm alive!\"");
    return 0;
}

/* GET /health/readiness: 200 while serving, 503 once draining. */
static int serve_readiness(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp) {
    (void)c;
    (void)req;
    if (serve_load(&w->srv->draining)) {
        resp->status = 503;
        serve_append(&resp->body, "{\"status\":\"draining\"}");
    } else {
        serve_append(&resp->body, "{\"status\":\"healthy\"}");
    }
    return 0;
}

/* GET /metrics: Prometheus text format. */
static int serve_metrics_route(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp) {
    (void)c;
    (void)req;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    serve_metrics_text(w->srv, &resp->body);
    return 0;
}

/* ==== streaming for the modules of serve.h ================================================ */

int serve_stream_begin(const serve_request *req, int status, const char *content_type, const char *extra_headers) {
    serve_conn *c = (serve_conn *)req->priv;
    serve_worker *w = (serve_worker *)c->worker;
    if (serve_load(&w->srv->draining)) c->keep_alive = 0;
    serve_head(w, c, status, content_type, -1, extra_headers, extra_headers ? strlen(extra_headers) : 0);
    return serve_send(c, w->out.data, w->out.len);
}

int serve_sleep(const serve_request *req, int ms) {
    serve_conn *c = (serve_conn *)req->priv;
    int64_t until = serve_now_ms() + ms;
    while (!serve_load(&c->abort) && !serve_load(&((serve_worker *)c->worker)->srv->draining)) {
        if (serve_now_ms() >= until) return 0;
        serve_fiber_wait(c->fiber, -1, until); /* the client's hang-up or the stop wakes it */
    }
    return -1;
}

int serve_stream_write(const serve_request *req, const char *data, size_t len) {
    serve_conn *c = (serve_conn *)req->priv;
    serve_worker *w = (serve_worker *)c->worker;
    if (serve_load(&c->abort) || serve_load(&w->srv->draining)) return -1;
    if (!len) return 0;
    w->out.len = 0;
    serve_frame(w, c, data, len, "", 0, "", 0);
    return w->out.failed ? -1 : serve_send(c, w->out.data, w->out.len);
}

/* >>> the control plane. Requests for /config, /stats and /ui (and below them) go to
   ui_handle in tools/ui.c (see serve.h). Until that module is built in, they are not found. */
#ifdef LLMSPLIT_SERVE_UI
static int serve_ui(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp) {
    int rc;
    serve_conn_busy(w->srv, c); /* a stream (/stats/stream) notices a client that hangs up */
    rc = ui_handle(req, resp);
    serve_conn_unbusy(w->srv, c);
    if (rc == 1 && c->minor >= 1 && !serve_load(&c->abort)) serve_send(c, "0\r\n\r\n", 5);
    return rc == 1;
}
#else
static int serve_ui(serve_worker *w, serve_conn *c, const serve_request *req, serve_response *resp) {
    (void)w;
    (void)c;
    serve_fail(resp, 404, NULL, NULL, "%s is not part of this build", req->path);
    return 0;
}
#endif

static const serve_route serve_routes[] = {
    {"POST", "/v1/chat/completions", serve_chat, SERVE_AUTH},
    {"POST", "/chat/completions", serve_chat, SERVE_AUTH},
    {"POST", "/v1/feedback", serve_feedback, SERVE_AUTH},
    {"GET", "/v1/models", serve_models, SERVE_AUTH},
    {"GET", "/models", serve_models, SERVE_AUTH},
    {"GET", "/health/liveliness", serve_liveliness, 0},
    {"GET", "/health/liveness", serve_liveliness, 0},
    {"GET", "/health/readiness", serve_readiness, 0},
    {"GET", "/metrics", serve_metrics_route, SERVE_AUTH},
};

/* Paths handed to the control plane: the path itself, or anything below it. */
static const char *const serve_ui_prefixes[] = {"/config", "/stats", "/ui"};

/* Constant-time comparison of the request's key with the master key: the time taken does not
   depend on where they differ (nor, beyond the length of the longer one, on either length). */
static int serve_authorized(serve_server *srv, const serve_request *req) {
    const char *h = req->header(req, "authorization");
    const unsigned char *given;
    size_t glen, i, n;
    unsigned diff;
    pthread_mutex_lock(&srv->key_lock);
    if (!srv->key_len) {
        pthread_mutex_unlock(&srv->key_lock);
        return 1;
    }
    if (!h || strncasecmp(h, "bearer ", 7) != 0) {
        pthread_mutex_unlock(&srv->key_lock);
        return 0;
    }
    given = (const unsigned char *)h + 7;
    while (*given == ' ') given++;
    glen = strlen((const char *)given);
    n = glen > srv->key_len ? glen : srv->key_len;
    diff = (unsigned)(glen ^ srv->key_len);
    for (i = 0; i < n; i++)
        diff |= (unsigned)((i < glen ? given[i] : 0) ^ (i < srv->key_len ? (unsigned char)srv->key[i] : 0));
    pthread_mutex_unlock(&srv->key_lock);
    return diff == 0;
}

/* Answers one complete request. Returns 0 to keep the connection, -1 to close it. */
static int serve_process(serve_worker *w, serve_conn *c) {
    serve_server *srv = w->srv;
    serve_request req;
    serve_response resp;
    const serve_route *route = NULL;
    char *q;
    size_t i, plen;
    int method_ok = 0, streamed = 0, rc;
    int64_t t0 = serve_now_ms();
    memset(&req, 0, sizeof req);
    req.method = c->in + c->method;
    req.path = c->in + c->target;
    q = strchr(c->in + c->target, '?');
    if (q) {
        *q = 0;
        req.query = q + 1;
    } else {
        req.query = "";
    }
    if (c->chunked) {
        llmsplit_buf_append(&c->body, "", 0);
        req.body = c->body.data ? c->body.data : "";
        req.body_len = c->body.len;
    } else {
        req.body = c->in + c->head_len;
        req.body_len = (size_t)c->content_length;
    }
    req.header = serve_req_header;
    req.server = srv;
    req.priv = c;
    c->worker = w;
    req.authorized = serve_authorized(srv, &req);
    /* the body is NUL-terminated for handlers (the byte after it belongs to the next request,
       if any: kept and put back) */
    {
        char saved = 0;
        char *after = c->chunked ? NULL : c->in + c->head_len + c->content_length;
        if (after) {
            saved = *after;
            *after = 0;
        }
        llmsplit_buf_init(&resp.headers, NULL);
        llmsplit_buf_init(&resp.body, NULL);
        resp.status = 0;
        resp.content_type = NULL;
        plen = strlen(req.path);
        for (i = 0; i < sizeof serve_routes / sizeof serve_routes[0]; i++) {
            if (strcmp(serve_routes[i].path, req.path) != 0) continue;
            route = &serve_routes[i];
            if (strcmp(route->method, req.method) == 0 || (c->head_only && strcmp(route->method, "GET") == 0)) {
                method_ok = 1;
                break;
            }
        }
        for (i = 0; !route && i < sizeof serve_ui_prefixes / sizeof serve_ui_prefixes[0]; i++) {
            size_t n = strlen(serve_ui_prefixes[i]);
            if (plen >= n && memcmp(req.path, serve_ui_prefixes[i], n) == 0 && (req.path[n] == 0 || req.path[n] == '/')) {
                static const serve_route ui = {NULL, "", serve_ui, 0};
                route = &ui;
                method_ok = 1;
            }
        }
        if (!route) {
            serve_fail(&resp, 404, NULL, NULL, "no route for %s %.200s", req.method, req.path);
        } else if (!method_ok) {
            serve_fail(&resp, 405, NULL, NULL, "%s is not allowed on %.200s (use %s)", req.method, req.path, route->method);
            serve_append(&resp.headers, "Allow: ");
            serve_append(&resp.headers, route->method);
            serve_append(&resp.headers, "\r\n");
        } else if ((route->flags & SERVE_AUTH) && !req.authorized) {
            serve_fail(&resp, 401, "invalid_api_key", NULL,
                       "missing or wrong key: send the master key as 'Authorization: Bearer KEY'");
            serve_append(&resp.headers, "WWW-Authenticate: Bearer\r\n");
        } else {
            streamed = route->handler(w, c, &req, &resp) == 1;
        }
        if (after) *after = saved;
    }
    if (!resp.status) resp.status = 200;
    rc = 0;
    if (!streamed) {
        rc = serve_send_response(w, c, resp.status, resp.content_type, &resp.headers,
                                 resp.body.data ? resp.body.data : "", resp.body.len);
        if (resp.body.failed || resp.headers.failed) rc = -1;
    } else if (serve_load(&c->abort)) {
        rc = -1;
    }
    serve_metrics_http(&srv->metrics, route && route->handler != serve_ui ? route->path : route ? "ui" : "other",
                       streamed ? 200 : resp.status, (double)(serve_now_ms() - t0));
    llmsplit_buf_free(&resp.headers);
    llmsplit_buf_free(&resp.body);
    return rc;
}

/* Answers a request that could not be read, then closes (lingering). */
static void serve_answer_refusal(serve_worker *w, serve_conn *c, const serve_refusal *r) {
    llmsplit_buf body;
    if (r->status) {
        llmsplit_buf_init(&body, NULL);
        serve_error_json(&body, serve_error_type(r->status), NULL, r->message);
        c->keep_alive = 0;
        c->head_only = 0;
        c->request_id[0] = 0;
        if (c->minor < 0 || c->minor > 1) c->minor = 1;
        serve_send_response(w, c, r->status, NULL, NULL, body.data ? body.data : "", body.len);
        llmsplit_buf_free(&body);
        serve_metrics_http(&w->srv->metrics, "refused", r->status, 0);
    }
}

/* A coroutine owns c (bytes or a hang-up came): reads, answers every complete request, and lets
   the connection wait for its next bytes (no coroutine) or closes it. */
static void serve_conn_run(serve_worker *w, serve_conn *c) {
    serve_server *srv = w->srv;
    serve_refusal refusal;
    for (;;) {
        int drained = 0, ready;
        ssize_t n = serve_read(srv, c, &drained);
        if (c->lingering) { /* only the client's close (or the deadline) is awaited */
            if (n == 0) {
                serve_conn_wait(srv, c, c->deadline_ms);
                return;
            }
            if (n > 0) {
                c->len = 0;
                continue;
            }
            serve_conn_close(srv, c);
            return;
        }
        if (n == -1) {
            serve_conn_close(srv, c);
            return;
        }
        if (n > 0 && !c->started_ms) c->started_ms = serve_now_ms();
        while (c->len > 0) {
            refusal.status = 0;
            if (n == -2) ready = serve_refuse(&refusal, c->head_len ? 413 : 431, "request too large");
            else ready = serve_request_ready(srv, w, c, &refusal);
            if (ready < 0) {
                if (!refusal.status) {
                    serve_conn_close(srv, c);
                    return;
                }
                serve_answer_refusal(w, c, &refusal);
                serve_conn_linger(srv, c);
                return;
            }
            if (ready == 0) break;
            if (c->reject) {
                serve_refuse(&refusal, 503, "too many connections; try again later");
                serve_answer_refusal(w, c, &refusal);
                serve_conn_linger(srv, c);
                return;
            }
            if (serve_process(w, c) != 0 || !c->keep_alive) {
                if (serve_load(&c->abort)) serve_conn_close(srv, c);
                else serve_conn_linger(srv, c);
                return;
            }
            /* pipelined bytes of the next request move to the front */
            memmove(c->in, c->in + c->req_len, c->len - c->req_len);
            c->len -= c->req_len;
            serve_conn_reset_request(c);
            if (c->len) c->started_ms = serve_now_ms();
        }
        if (n > 0 && !drained) continue; /* the buffer filled up: more may be waiting */
        /* bytes (or the client's close) came while the request was answered: read them now, as
           no other event will say so */
        if (c->readable || c->hup) continue;
        break;
    }
    if (serve_load(&srv->draining) && !c->len) {
        serve_conn_close(srv, c);
        return;
    }
    if (!c->len) serve_conn_wait(srv, c, serve_now_ms() + SERVE_IDLE_TIMEOUT_MS);
    else serve_conn_wait(srv, c, c->started_ms + (c->head_len ? srv->head_timeout_ms + SERVE_BODY_TIMEOUT_MS
                                                              : srv->head_timeout_ms));
}

/* ==== coroutines: a connection's ======================================================= */

static void serve_worker_free(serve_worker *w) {
    llmsplit_buf_free(&w->out);
    llmsplit_buf_free(&w->scratch);
    free(w->doc_buf);
    free(w->msgs);
    w->doc_buf = NULL;
    w->doc_cap = 0;
    w->msgs = NULL;
    w->msgs_cap = 0;
}

/* ==== coroutines ========================================================================== */

/* A request runs as a coroutine (serve_fiber) on an event loop thread (serve_loop): where a
   thread would block (the upstream's answer, a client slow to read, a stream's pause), the
   coroutine hands the thread back to its loop, which runs the others and resumes it when its
   socket is ready or its time is up. On x86-64 a switch costs a few nanoseconds and no system
   call (the ucontext fallback elsewhere makes one, to save the signal mask); a blocked thread
   costs two context switches per request, which on a loaded machine were the gateway's largest
   cost after the kernel's TCP work.

   The switch saves the callee-saved registers on the stack being left and swaps stack pointers
   (x86-64: hand-written below; elsewhere ucontext). Under AddressSanitizer and ThreadSanitizer
   every switch is announced to them, as they need for stacks they did not make. */
#if defined(__x86_64__) && !defined(SERVE_UCONTEXT)
#define SERVE_ASM_SWITCH 1
/* serve_switch(from, to): saves rbp, rbx, r12-r15, the SSE and x87 control words on the current
   stack, stores the stack pointer in *from, loads to and restores the same from there.
   serve_fiber_start is where a new stack's first switch lands: it calls serve_fiber_main with
   the fiber (placed in r12). */
__asm__(".text\n"
        ".p2align 4\n"
        "serve_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".p2align 4\n"
        "serve_fiber_start:\n"
        "    movq %r12, %rdi\n"
        "    call serve_fiber_main\n"
        "    ud2\n");
void serve_switch(void **from, void *to);
void serve_fiber_start(void);
#else
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SERVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SERVE_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SERVE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SERVE_TSAN 1
#endif
#endif
#ifdef SERVE_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
#endif
#ifdef SERVE_TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif

/* A context: where a coroutine or its loop left off. */
typedef struct serve_ctx {
#ifdef SERVE_ASM_SWITCH
    void *sp;
#else
    ucontext_t uc;
#endif
    const void *stack;            /* its stack's lowest address and size (for AddressSanitizer) */
    size_t stack_size;
    void *tsan;                   /* ThreadSanitizer's fiber */
} serve_ctx;

typedef struct serve_fiber {
    serve_ctx ctx;
    char *map;                    /* the stack's mapping: a guard page, then the stack */
    size_t map_size;
    struct serve_loop *loop;
    uint32_t index;               /* in loop->fibers: the token of its waits */
    int waiting;                  /* in serve_fiber_wait: an event or the time wakes it */
    int wait_fd;                  /* what it waits for (-1: the time only) */
    int woke;                     /* 1: an event woke it; 0: the time */
    int queued;                   /* on the run queue */
    int trim;                     /* finished beyond the warm ones: its memory goes back */
    int64_t wake_at;              /* while waiting: when the time is up */
    size_t heap_pos;              /* its place in loop->timers while waiting (SERVE_NO_POS: none) */
    serve_conn *conn;             /* the connection it serves; NULL while free */
    struct serve_fiber *next;     /* run queue or free list */
    serve_worker w;               /* buffers kept from one request to the next */
} serve_fiber;


/* An event loop: one thread, one epoll set. Each client connection belongs to one loop from its
   accept to its close and is in its set once, edge-triggered for input, output and hang-up, so
   no epoll_ctl is made per request. An upstream socket is armed (one-shot) in the set when a
   coroutine has to wait for it. */
typedef struct serve_loop {
    serve_server *srv;
    pthread_t thread;
    int ep;
    serve_ctx ctx;                /* the loop's own (its thread's stack) */
    serve_fiber **fibers;         /* every coroutine it made, by index */
    uint32_t nfibers, fibers_cap;
    serve_fiber *free_list;       /* free coroutines, the last used first (warm stacks and buffers) */
    uint32_t nfree;
    serve_fiber *cold_list;       /* free coroutines beyond SERVE_FREE_FIBERS, their memory given back */
    serve_fiber *runq, *runq_tail;
    serve_fiber *current;
    struct serve_fiber **timers;  /* the waiting coroutines, a binary min-heap by wake_at */
    size_t ntimers, timers_cap;
    int live;                     /* coroutines serving a connection */
    int64_t next_sweep;
    struct serve_upsock *ups;     /* upstream sockets by fd number (serve_upsock) */
    uint32_t nups;
} serve_loop;

/* An upstream socket in a loop's set, by fd number. It is added (edge-triggered for input,
   output and hang-up) when a coroutine first waits for it and stays while the library keeps the
   socket: a kept-alive connection costs no epoll_ctl per request. The library's socket id (never
   reused) says whether fd still names the socket registered: an fd the library closed has left
   the set with its socket, and the number's next socket has a new id, so it is added again.
   An event no coroutine is waiting for is kept for the socket's next wait in this loop (which
   then returns at once: the library looks at the socket again). A loop never takes a socket out
   of its set: the socket may be closed by another thread at any moment (another loop's call that
   took it from the pool, the pool's sweep), its number given to a client connection of this
   loop, and EPOLL_CTL_DEL by number would then remove the client's registration (its request
   would never be read). A socket that went to another loop's coroutine may so wake this loop
   now and then; the library's pool hands each thread back its own connections first, which
   keeps that rare. */
typedef struct serve_upsock {
    uint64_t id;                  /* the socket registered for this fd; 0: none */
    struct serve_fiber *waiter;   /* the coroutine waiting for it, or NULL */
    uint32_t want;                /* the events that waiter waits for */
    uint32_t pending;             /* events that came while no one waited for them */
} serve_upsock;

#define SERVE_FIBER_TOKEN ((uint64_t)1 << 63)
#define SERVE_STACK_KEEP (16 * 1024) /* the top of a free coroutine's stack, kept (its frames) */
#define SERVE_FREE_FIBERS 64      /* a loop keeps this many free coroutines warm; beyond, their
                                     stacks' memory goes back to the system */

static void serve_ctx_enter(serve_ctx *from, serve_ctx *to, int leaving) {
#ifdef SERVE_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(leaving ? NULL : &fake, to->stack, to->stack_size);
#endif
#ifdef SERVE_TSAN
    __tsan_switch_to_fiber(to->tsan, 0);
#endif
#ifdef SERVE_ASM_SWITCH
    serve_switch(&from->sp, to->sp);
#else
    swapcontext(&from->uc, &to->uc);
#endif
#ifdef SERVE_ASAN
    /* (what it says of the stack left is not from's: from's own stack never changes) */
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    (void)leaving;
}

/* From the loop into f, until f waits or finishes its connection. */
static void serve_fiber_resume(serve_loop *lp, serve_fiber *f) {
    lp->current = f;
    serve_ctx_enter(&lp->ctx, &f->ctx, 0);
    lp->current = NULL;
}

/* From f back to its loop. */
static void serve_fiber_yield(serve_fiber *f) {
    serve_ctx_enter(&f->ctx, &f->loop->ctx, 0);
}

static void serve_runq_push(serve_loop *lp, serve_fiber *f) {
    if (f->queued) return;
    f->queued = 1;
    f->next = NULL;
    if (lp->runq_tail) lp->runq_tail->next = f;
    else lp->runq = f;
    lp->runq_tail = f;
}

/* An event or a stop wakes f if it waits (a wake it did not ask for is harmless: every wait
   looks again at what it waited for). */
static void serve_timer_remove(struct serve_loop *lp, serve_fiber *f);

static void serve_fiber_wake(serve_fiber *f, int by_event) {
    if (!f->waiting) return;
    serve_timer_remove(f->loop, f);
    f->waiting = 0;
    f->woke = by_event;
    serve_runq_push(f->loop, f);
}

#define SERVE_NO_POS ((size_t)-1)

static void serve_heap_set(serve_loop *lp, size_t i, serve_fiber *f) {
    lp->timers[i] = f;
    f->heap_pos = i;
}

/* Moves the coroutine at i up or down to its place. */
static void serve_heap_fix(serve_loop *lp, size_t i) {
    serve_fiber *f = lp->timers[i];
    while (i > 0 && lp->timers[(i - 1) / 2]->wake_at > f->wake_at) {
        serve_heap_set(lp, i, lp->timers[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= lp->ntimers) break;
        if (k + 1 < lp->ntimers && lp->timers[k + 1]->wake_at < lp->timers[k]->wake_at) k++;
        if (lp->timers[k]->wake_at >= f->wake_at) break;
        serve_heap_set(lp, i, lp->timers[k]);
        i = k;
    }
    serve_heap_set(lp, i, f);
}

static int serve_timer_add(serve_loop *lp, serve_fiber *f) {
    if (lp->ntimers == lp->timers_cap) {
        size_t ncap = lp->timers_cap ? lp->timers_cap * 2 : 64;
        serve_fiber **nt = (serve_fiber **)realloc(lp->timers, ncap * sizeof *nt);
        if (!nt) return -1;
        lp->timers = nt;
        lp->timers_cap = ncap;
    }
    serve_heap_set(lp, lp->ntimers++, f);
    serve_heap_fix(lp, lp->ntimers - 1);
    return 0;
}

/* A coroutine woken by an event leaves the heap at once: a timer that is no longer needed never
   wakes the loop. */
static void serve_timer_remove(serve_loop *lp, serve_fiber *f) {
    size_t i = f->heap_pos;
    if (i == SERVE_NO_POS) return;
    f->heap_pos = SERVE_NO_POS;
    if (i != --lp->ntimers) {
        serve_heap_set(lp, i, lp->timers[lp->ntimers]);
        serve_heap_fix(lp, i);
    }
}

/* Wakes the coroutines whose time has come. */
static void serve_timers_due(serve_loop *lp, int64_t now) {
    while (lp->ntimers && lp->timers[0]->wake_at <= now) serve_fiber_wake(lp->timers[0], 0);
}

/* The coroutine f waits until fd (already armed in the loop's set, or -1) has an event or
   deadline_ms passes: 1 woken by an event (or a stop), 0 the time passed. */
static int serve_fiber_wait(serve_fiber *f, int fd, int64_t deadline_ms) {
    serve_loop *lp = f->loop;
    f->wait_fd = fd;
    f->wake_at = deadline_ms;
    if (serve_timer_add(lp, f) != 0) return 0;
    f->waiting = 1;
    serve_fiber_yield(f);
    f->wait_fd = -1;
    return f->woke;
}

/* An upstream socket's token: bit 63, 31 bits of its id and the fd. */
static uint64_t serve_upsock_token(int fd, uint64_t id) {
    return SERVE_FIBER_TOKEN | (id & 0x7fffffffu) << 32 | (uint32_t)fd;
}

/* The loop's entry for fd, the table grown to hold it (NULL: no memory). */
static serve_upsock *serve_upsock_at(serve_loop *lp, int fd) {
    if ((uint32_t)fd >= lp->nups) {
        uint32_t n = lp->nups ? lp->nups : 64;
        serve_upsock *t;
        while (n <= (uint32_t)fd) n *= 2;
        if (!(t = (serve_upsock *)realloc(lp->ups, n * sizeof *t))) return NULL;
        memset(t + lp->nups, 0, (n - lp->nups) * sizeof *t);
        lp->ups = t;
        lp->nups = n;
    }
    return &lp->ups[fd];
}

/* The library's wait (llmsplit_request.wait_socket): the socket goes into the loop's set if it is
   not there yet (see serve_upsock), then the coroutine waits for it, or not at all when what it
   waits for came meanwhile. fd -1: the time only. */
static int serve_wait_upstream(serve_fiber *f, int fd, uint64_t id, int events, int timeout_ms) {
    int64_t deadline = serve_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    serve_loop *lp = f->loop;
    serve_upsock *u;
    uint32_t want;
    int r;
    if (fd < 0) return serve_fiber_wait(f, -1, deadline);
    if (!(u = serve_upsock_at(lp, fd))) return -1;
    want = ((events & POLLIN) ? EPOLLIN | EPOLLRDHUP : 0) | ((events & POLLOUT) ? EPOLLOUT : 0) | EPOLLHUP | EPOLLERR;
    if (u->id != id) {
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET; /* (adding reports what is ready now) */
        ev.data.u64 = serve_upsock_token(fd, id);
        if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &ev) != 0 &&
            (errno != EEXIST || epoll_ctl(lp->ep, EPOLL_CTL_MOD, fd, &ev) != 0))
            return -1;
        u->id = id;
        u->pending = 0;
    } else if (u->pending & want) { /* it came while the coroutine was busy: the library looks */
        u->pending &= ~want;
        return 1;
    }
    u->waiter = f;
    u->want = want;
    r = serve_fiber_wait(f, fd, deadline);
    u = &lp->ups[fd]; /* (the table may have grown meanwhile) */
    if (u->waiter == f) u->waiter = NULL;
    return r;
}

/* An event of an upstream socket (see serve_upsock). */
static void serve_upsock_event(serve_loop *lp, uint64_t tok, uint32_t events) {
    int fd = (int)(uint32_t)tok;
    serve_upsock *u = (uint32_t)fd < lp->nups ? &lp->ups[fd] : NULL;
    if (!u || !u->id || (u->id & 0x7fffffffu) != ((tok >> 32) & 0x7fffffffu)) return;
    if (u->waiter && (events & u->want) && u->waiter->waiting && u->waiter->wait_fd == fd) {
        serve_fiber_wake(u->waiter, 1);
        u->waiter = NULL;
        u->pending |= events & ~u->want;
        return;
    }
    u->pending |= events; /* for the next wait on it here */
}

static void serve_conn_fiber(serve_fiber *f);

/* Where every coroutine runs: one connection at a time, then back to the free list and the loop,
   which may hand it the next one (the stack is reused as it is). */
void serve_fiber_main(void *arg);
void serve_fiber_main(void *arg) {
    serve_fiber *f = (serve_fiber *)arg;
#ifdef SERVE_ASAN
    __sanitizer_finish_switch_fiber(NULL, &f->loop->ctx.stack, &f->loop->ctx.stack_size);
#endif
    for (;;) {
        serve_conn_fiber(f);
        f->conn = NULL;
        f->loop->live--;
        if (f->loop->nfree < SERVE_FREE_FIBERS) {
            f->next = f->loop->free_list;
            f->loop->free_list = f;
            f->loop->nfree++;
        } else { /* its memory goes back once it has left its stack (serve_run_ready) */
            f->trim = 1;
            f->next = f->loop->cold_list;
            f->loop->cold_list = f;
        }
        serve_fiber_yield(f);
    }
}

#ifndef SERVE_ASM_SWITCH
static void serve_fiber_trampoline(unsigned lo, unsigned hi) {
    serve_fiber_main((void *)(((uintptr_t)hi << 16 << 16) | (uintptr_t)lo));
}
#endif

#ifndef SERVE_ASM_SWITCH
/* The ucontext of a new coroutine, its stack at stack (a function of its own: getcontext returns
   twice, and nothing of the caller's may live across it). */
static void serve_fiber_context(serve_fiber *f, char *stack) {
    getcontext(&f->ctx.uc);
    f->ctx.uc.uc_stack.ss_sp = stack;
    f->ctx.uc.uc_stack.ss_size = SERVE_STACK;
    f->ctx.uc.uc_link = NULL;
    makecontext(&f->ctx.uc, (void (*)(void))serve_fiber_trampoline, 2, (unsigned)((uintptr_t)f & 0xffffffffu),
                (unsigned)((uintptr_t)f >> 16 >> 16));
}
#endif

/* A new coroutine with its own stack (SERVE_STACK, a guard page below it), or NULL. */
static serve_fiber *serve_fiber_new(serve_loop *lp) {
    long page = sysconf(_SC_PAGESIZE);
    serve_fiber *f;
    char *top;
    if (lp->nfibers == lp->fibers_cap) {
        uint32_t ncap = lp->fibers_cap ? lp->fibers_cap * 2 : 64;
        serve_fiber **nf = (serve_fiber **)realloc(lp->fibers, ncap * sizeof *nf);
        if (!nf) return NULL;
        lp->fibers = nf;
        lp->fibers_cap = ncap;
    }
    if (!(f = (serve_fiber *)calloc(1, sizeof *f))) return NULL;
    if (page <= 0) page = 4096;
    f->map_size = SERVE_STACK + (size_t)page;
    f->map = (char *)mmap(NULL, f->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (f->map == MAP_FAILED) {
        free(f);
        return NULL;
    }
    mprotect(f->map, (size_t)page, PROT_NONE); /* an overflow faults instead of writing over memory */
    f->ctx.stack = f->map + page;
    f->ctx.stack_size = SERVE_STACK;
    f->loop = lp;
    f->wait_fd = -1;
    f->heap_pos = SERVE_NO_POS;
    f->index = lp->nfibers;
    f->w.srv = lp->srv;
    f->w.fiber = f;
    llmsplit_buf_init(&f->w.out, NULL);
    llmsplit_buf_init(&f->w.scratch, NULL);
    top = f->map + f->map_size;
#ifdef SERVE_ASM_SWITCH
    {
        /* what serve_switch pops: the control words, r15..r12 (r12 = f), rbx, rbp, then the
           return address serve_fiber_start; the stack is 16-byte aligned after that return */
        uint64_t *sp = (uint64_t *)(void *)top;
        *--sp = (uint64_t)(uintptr_t)serve_fiber_start;
        *--sp = 0;                            /* rbp */
        *--sp = 0;                            /* rbx */
        *--sp = (uint64_t)(uintptr_t)f;       /* r12 */
        *--sp = 0;                            /* r13 */
        *--sp = 0;                            /* r14 */
        *--sp = 0;                            /* r15 */
        *--sp = (uint64_t)0x037f << 32 | 0x1f80; /* x87 control word, MXCSR: their defaults */
        f->ctx.sp = sp;
    }
#else
    (void)top;
    serve_fiber_context(f, f->map + page);
#endif
#ifdef SERVE_TSAN
    f->ctx.tsan = __tsan_create_fiber(0);
#endif
    lp->fibers[lp->nfibers++] = f;
    return f;
}

static void serve_fiber_destroy(serve_fiber *f) {
    serve_worker_free(&f->w);
    munmap(f->map, f->map_size);
#ifdef SERVE_TSAN
    __tsan_destroy_fiber(f->ctx.tsan);
#endif
    free(f);
}

/* A coroutine for c: a free one, or a new one. The loop runs it next. 0, or -1 when none can be
   had (out of memory). */
static int serve_fiber_start_conn(serve_loop *lp, serve_conn *c) {
    serve_fiber *f = lp->free_list;
    if (f) {
        lp->free_list = f->next;
        lp->nfree--;
    } else if ((f = lp->cold_list) != NULL) {
        lp->cold_list = f->next;
    } else if (!(f = serve_fiber_new(lp))) {
        return -1;
    }
    f->conn = c;
    c->fiber = f;
    lp->live++;
    f->waiting = 0;
    serve_runq_push(lp, f);
    return 0;
}

/* Runs what is ready; a finished coroutine beyond the warm ones gives its stack's memory back
   (and is used again only when no warm one is free). */
static void serve_run_ready(serve_loop *lp) {
    while (lp->runq) {
        serve_fiber *f = lp->runq;
        lp->runq = f->next;
        if (!lp->runq) lp->runq_tail = NULL;
        f->queued = 0;
        serve_fiber_resume(lp, f);
        if (!f->conn && f->trim) {
            /* all but the top of the stack, where the coroutine waits for its next connection
               (the mapping's own bounds: a guard page, then the stack) */
            madvise(f->map + (f->map_size - SERVE_STACK), SERVE_STACK - SERVE_STACK_KEEP, MADV_DONTNEED);
            serve_worker_free(&f->w);
            f->trim = 0;
        }
    }
}

/* ==== event loops ========================================================================= */

#define SERVE_LISTEN_TOKEN UINT64_MAX
#define SERVE_STOP_TOKEN (UINT64_MAX - 1)

/* A connection's token: 31 bits of its slot's generation and the slot (bit 63 stays clear: it
   marks a coroutine's token). */
static uint64_t serve_token(const serve_server *srv, const serve_conn *c) {
    return (uint64_t)(c->gen & 0x7fffffffu) << 32 | (uint64_t)(uint32_t)(c - srv->conns);
}

static void serve_accept(serve_loop *lp);

/* An event of the loop's set. */
static void serve_dispatch(serve_loop *lp, const struct epoll_event *ev) {
    serve_server *srv = lp->srv;
    uint64_t tok = ev->data.u64;
    serve_conn *c;
    serve_fiber *f;
    uint32_t slot;
    if (tok == SERVE_LISTEN_TOKEN) {
        serve_accept(lp);
        return;
    }
    if (tok == SERVE_STOP_TOKEN) return; /* the loop sees srv->stop */
    if (tok & SERVE_FIBER_TOKEN) { /* an upstream socket */
        serve_upsock_event(lp, tok, ev->events);
        return;
    }
    slot = (uint32_t)tok;
    if (slot >= srv->nslots) return;
    c = &srv->conns[slot];
    if ((c->gen & 0x7fffffffu) != (uint32_t)(tok >> 32) || serve_state(c) == SC_FREE) return;
    if (ev->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        c->hup = 1;
        if (serve_state(c) == SC_BUSY) serve_store(&c->abort, 1);
    }
    if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = 1;
    if ((f = c->fiber) != NULL) {
        /* its coroutine waits for the client (to write), or for the upstream of a request the
           client has just left: it looks again now */
        if (f->waiting && (f->wait_fd == c->fd || serve_load(&c->abort))) serve_fiber_wake(f, 1);
        return;
    }
    if (serve_state(c) != SC_WAITING || !c->readable) return;
    /* past the drain: a new request is not started (its call would hold the exit up) */
    if (serve_load(&srv->stop) || serve_fiber_start_conn(lp, c) != 0) {
        serve_set_state(c, SC_OWNED);
        serve_conn_close(srv, c); /* (or no memory for a coroutine) */
    }
}

/* Closes the loop's connections past their deadline (idle, head, body, linger), and idle ones
   when draining. */
static void serve_sweep(serve_loop *lp, int64_t now) {
    serve_server *srv = lp->srv;
    uint32_t i;
    for (i = 0; i < srv->nslots; i++) {
        serve_conn *c = &srv->conns[i];
        pthread_mutex_t *l;
        int take;
        if (serve_loop_of(c) != lp || serve_state(c) != SC_WAITING) continue; /* a peek (atomics only) */
        /* decided under the slot's lock: an accept still registering the connection holds it */
        l = serve_lock_of(srv, c);
        pthread_mutex_lock(l);
        take = serve_loop_of(c) == lp && serve_state(c) == SC_WAITING && !c->fiber &&
               (c->deadline_ms <= now || (serve_load(&srv->draining) && !c->len));
        if (take) serve_set_state(c, SC_OWNED);
        pthread_mutex_unlock(l);
        if (!take) continue;
        if (!c->lingering && c->len) serve_metrics_timeout(&srv->metrics);
        serve_conn_close(srv, c);
    }
}

/* At the stop: every request still running is aborted and woken; idle connections close. */
static void serve_loop_abort_all(serve_loop *lp) {
    serve_server *srv = lp->srv;
    uint32_t i;
    for (i = 0; i < srv->nslots; i++) {
        serve_conn *c = &srv->conns[i];
        if (serve_loop_of(c) != lp || serve_state(c) == SC_FREE) continue;
        if (c->fiber) {
            serve_store(&c->abort, 1);
            serve_fiber_wake(c->fiber, 1);
        } else if (serve_state(c) == SC_WAITING) {
            serve_set_state(c, SC_OWNED);
            serve_conn_close(srv, c);
        }
    }
}

static void *serve_loop_main(void *arg) {
    serve_loop *lp = (serve_loop *)arg;
    serve_server *srv = lp->srv;
    struct epoll_event evs[64];
    int stopping = 0;
#ifdef SERVE_TSAN
    lp->ctx.tsan = __tsan_get_current_fiber();
#endif
    for (;;) {
        int64_t now, wait_ms;
        int n, i;
        serve_run_ready(lp);
        if (serve_load(&srv->stop) && !stopping) {
            stopping = 1;
            /* the stop is seen: its eventfd (level-triggered, for every loop) leaves this set,
               or every epoll_wait would return at once until the last request ends */
            epoll_ctl(lp->ep, EPOLL_CTL_DEL, srv->stopfd, NULL);
            serve_loop_abort_all(lp);
            continue;
        }
        if (stopping && !lp->live) break;
        now = serve_now_ms();
        wait_ms = lp->next_sweep - now;
        if (lp->ntimers && lp->timers[0]->wake_at - now < wait_ms) wait_ms = lp->timers[0]->wake_at - now;
        if (wait_ms < 0) wait_ms = 0;
        if (stopping && wait_ms > 10) wait_ms = 10;
        n = epoll_wait(lp->ep, evs, 64, (int)wait_ms);
        for (i = 0; i < n; i++) serve_dispatch(lp, &evs[i]);
        now = serve_now_ms();
        serve_timers_due(lp, now);
        if (now >= lp->next_sweep) {
            lp->next_sweep = now + SERVE_SWEEP_MS;
            if (!stopping) serve_sweep(lp, now);
        }
    }
    return NULL;
}

/* Accepts what is waiting (a bounded batch). Each connection goes to the next loop in turn, into
   its set for good: the loops share the connections whichever of them the listener woke. */
static void serve_accept(serve_loop *lp) {
    serve_server *srv = lp->srv;
    int i;
    pthread_mutex_lock(&srv->listen_lock);
    for (i = 0; i < 64 && srv->listen_fd >= 0; i++) {
        struct epoll_event ev;
        serve_conn *c;
        serve_loop *to;
        uint32_t slot;
        int fd = accept(srv->listen_fd, NULL, NULL), one = 1, reject, added;
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE) serve_metrics_rejected(&srv->metrics);
            break;
        }
        pthread_mutex_lock(&srv->free_lock);
        reject = srv->open_conns >= srv->max_conns;
        if (!srv->nfree) {
            pthread_mutex_unlock(&srv->free_lock);
            close(fd); /* beyond the cap and its reserve: no answer at all */
            serve_metrics_rejected(&srv->metrics);
            continue;
        }
        slot = srv->free_slots[--srv->nfree];
        if (!reject) srv->open_conns++;
        pthread_mutex_unlock(&srv->free_lock);
        if (reject) serve_metrics_rejected(&srv->metrics);
        /* (blocking: every read and write says MSG_DONTWAIT) */
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        to = &srv->loops[srv->next_loop++ % srv->nloops];
        c = &srv->conns[slot];
        c->fd = fd;
        __atomic_store_n(&c->loop, to, __ATOMIC_RELAXED);
        c->fiber = NULL;
        c->readable = 0;
        c->reject = reject;
        c->lingering = 0;
        c->hup = 0;
        c->len = 0;
        c->minor = 1;
        serve_store(&c->abort, 0);
        serve_conn_reset_request(c);
        serve_metrics_conn(&srv->metrics, 1);
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET; /* (HUP and ERR are always reported) */
        /* registered under the slot's lock, so that the loop's sweep cannot close it half made;
           once the lock is let go the connection is the other loop's, and nothing here touches
           it again */
        pthread_mutex_lock(serve_lock_of(srv, c));
        c->deadline_ms = serve_now_ms() + srv->head_timeout_ms;
        serve_set_state(c, SC_WAITING);
        ev.data.u64 = serve_token(srv, c);
        added = epoll_ctl(to->ep, EPOLL_CTL_ADD, fd, &ev) == 0;
        if (!added) serve_set_state(c, SC_OWNED);
        pthread_mutex_unlock(serve_lock_of(srv, c));
        if (!added) serve_conn_close(srv, c);
    }
    pthread_mutex_unlock(&srv->listen_lock);
}

static void serve_conn_fiber(serve_fiber *f) {
    serve_conn *c = f->conn;
    serve_set_state(c, SC_OWNED);
    __atomic_add_fetch(&f->loop->srv->fibers, 1, __ATOMIC_ACQ_REL);
    serve_conn_run(&f->w, c); /* (c is no longer this coroutine's when it returns) */
    __atomic_sub_fetch(&f->loop->srv->fibers, 1, __ATOMIC_ACQ_REL);
}

/* ==== starting, draining ================================================================== */

/* HOST:PORT, [IPV6]:PORT or :PORT into host and port. 0 when malformed. */
static int serve_split_listen(const char *s, char *host, size_t hcap, char *port, size_t pcap) {
    const char *colon;
    size_t hl;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return 0;
        hl = (size_t)(close - s - 1);
        if (hl + 1 > hcap) return 0;
        memcpy(host, s + 1, hl);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return 0;
        hl = (size_t)(colon - s);
        if (hl + 1 > hcap) return 0;
        memcpy(host, s, hl);
    }
    host[hl] = 0;
    if (!host[0]) snprintf(host, hcap, "0.0.0.0");
    if (!colon[1] || strlen(colon + 1) + 1 > pcap || strspn(colon + 1, "0123456789") != strlen(colon + 1)) return 0;
    snprintf(port, pcap, "%s", colon + 1);
    return atoi(port) <= 65535;
}

/* Binds and listens; *loopback tells whether the address is this machine only. Returns the
   port bound (for port 0, the one the system picked), -1 with err filled. */
static int serve_listen(serve_server *srv, const char *host, const char *port, int *loopback, char *shown,
                        size_t shown_cap, char *err, size_t cap) {
    struct sockaddr_storage sa;
    int fd = tool_listen(host, port, 4096, &sa, err, cap), bound;
    if (fd < 0) return -1;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    srv->listen_fd = fd;
    if (sa.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)&sa;
        static const unsigned char lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        const unsigned char *a6 = s6->sin6_addr.s6_addr;
        char text[INET6_ADDRSTRLEN];
        bound = ntohs(s6->sin6_port);
        *loopback = memcmp(a6, lo6, 16) == 0 ||
                    (memcmp(a6, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0 && a6[12] == 127);
        inet_ntop(AF_INET6, &s6->sin6_addr, text, sizeof text);
        snprintf(shown, shown_cap, "[%s]:%d", text, bound);
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)&sa;
        char text[INET_ADDRSTRLEN];
        bound = ntohs(s4->sin_port);
        *loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
        inet_ntop(AF_INET, &s4->sin_addr, text, sizeof text);
        snprintf(shown, shown_cap, "%s:%d", text, bound);
    }
    return bound;
}

/* The master key: general_settings.master_key of the config in use, else LLMSPLIT_MASTER_KEY. */
static void serve_refresh_key(serve_server *srv) {
    const llmsplit_config *cfg = llmsplit_client_config_acquire(srv->client);
    const char *k = cfg ? cfg->master_key : NULL;
    if (!k || !*k) k = getenv("LLMSPLIT_MASTER_KEY");
    pthread_mutex_lock(&srv->key_lock);
    srv->key_len = k ? strlen(k) : 0;
    if (srv->key_len >= sizeof srv->key) srv->key_len = sizeof srv->key - 1;
    memcpy(srv->key, k ? k : "", srv->key_len);
    srv->key[srv->key_len] = 0;
    pthread_mutex_unlock(&srv->key_lock);
    llmsplit_client_config_release(srv->client, cfg);
}

/* Every record the client writes: counted for /metrics; a config reload refreshes the key. */
static void serve_on_record(const llmsplit_record *r, const char *json_line, size_t len, void *user_data) {
    serve_server *srv = (serve_server *)user_data;
    (void)json_line;
    (void)len;
    serve_metrics_record(&srv->metrics, r);
    if (r->event && strcmp(r->event, "config") == 0 && srv->client) serve_refresh_key(srv);
#ifdef LLMSPLIT_SERVE_UI
    ui_record(r, json_line, len);
#endif
}

static const char serve_usage_text[] =
    "usage: llmsplit serve --config FILE [--listen HOST:PORT] [--log FILE] [--workers N]\n"
    "                      [--max-conns N] [--max-body BYTES] [--read-timeout MS] [--no-auth]\n"
    "                      [--config-poll MS]\n"
    "  an OpenAI-compatible gateway: point any OpenAI SDK at http://HOST:PORT/v1 and use a\n"
    "  group of the config as the model; the config's split, mirroring, retries, fallbacks and\n"
    "  rollback apply, and every call is recorded in --log.\n"
    "  --config     the config (JSON, or LiteLLM's config.yaml); watched, and reloaded at once on\n"
    "               SIGHUP; its dashboard is /ui. Or the URL of another gateway's /config, to\n"
    "               follow that control plane (sent $LLMSPLIT_CONFIG_KEY, its config_read_key)\n"
    "  --config-poll  ms between checks of --config (default 1000 for a file, 5000 for a URL)\n"
    "  --listen     address to bind (default " SERVE_DEFAULT_LISTEN ", LiteLLM's port; port 0 picks a free one)\n"
    "  --log        append a JSON record per call here (reopened on SIGHUP)\n"
    "  --workers    event loop threads (default one per processor); each serves any number of\n"
    "               requests at once\n"
    "  --max-conns  open connections served at once (default 4096); beyond, 503 and close\n"
    "  --max-body   largest request body in bytes (default 16777216); beyond, 413\n"
    "  --read-timeout  ms a client has to send a request's head once it began (and a new\n"
    "               connection its first byte; default 10000); slower ones are closed\n"
    "  --no-auth    listen on a non-loopback address without a master key\n"
    "  the master key is general_settings.master_key of the config or $LLMSPLIT_MASTER_KEY; when set,\n"
    "  requests need 'Authorization: Bearer KEY' (the health checks excepted).\n"
    "  SIGTERM drains (requests in flight finish within the config's drain_ms) and exits 0.\n"
    "routes: POST /v1/chat/completions, POST /v1/feedback, GET /v1/models, GET /health/liveliness,\n"
    "  GET /health/readiness, GET /metrics; the control plane: /ui (the dashboard), /config,\n"
    "  /config/history, /config/revert, /config/groups/GROUP, /config/router_settings, /stats,\n"
    "  /stats/stream\n";

static int serve_parse_count(const char *v, long long lo, long long hi, long long *out) {
    char *end;
    long long n;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) return 0;
    *out = n;
    return 1;
}

/* Raises the soft limit on open files to the hard one: every connection is a descriptor, and
   every request in flight another (its upstream connection). */
static rlim_t serve_raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

/* Waits until every connection is closed or the deadline passes. 1 when all closed. */
static int serve_wait_conns(serve_server *srv, int64_t deadline_ms) {
    for (;;) {
        uint32_t open;
        struct timespec ts = {0, 10 * 1000000L};
        pthread_mutex_lock(&srv->free_lock);
        open = srv->nslots - srv->nfree;
        pthread_mutex_unlock(&srv->free_lock);
        if (!open) return 1;
        if (serve_now_ms() >= deadline_ms) return 0;
        nanosleep(&ts, NULL);
    }
}

/* SIGTERM: no new connections, idle ones closed (by their loops), requests in flight finish
   within drain_ms; then the rest are aborted, the loops end, and the client drains its silent
   calls (destroy waits up to drain_ms for them). */
static void serve_drain(serve_server *srv) {
    const llmsplit_config *cfg = llmsplit_client_config_acquire(srv->client);
    int drain_ms = cfg ? cfg->drain_ms : 10000;
    uint32_t i;
    llmsplit_client_config_release(srv->client, cfg);
    serve_store(&srv->draining, 1);
    pthread_mutex_lock(&srv->listen_lock);
    for (i = 0; i < (uint32_t)srv->nloops; i++) epoll_ctl(srv->loops[i].ep, EPOLL_CTL_DEL, srv->listen_fd, NULL);
    close(srv->listen_fd);
    srv->listen_fd = -1;
    pthread_mutex_unlock(&srv->listen_lock);
    if (!serve_wait_conns(srv, serve_now_ms() + drain_ms)) {
        /* past drain_ms: stop the upstream calls still running; their clients get what an
           aborted request gets (a closed connection) */
        for (i = 0; i < srv->nslots; i++) {
            serve_conn *c = &srv->conns[i];
            pthread_mutex_lock(serve_lock_of(srv, c));
            if (serve_state(c) == SC_BUSY || serve_state(c) == SC_OWNED) {
                serve_store(&c->abort, 1);
                shutdown(c->fd, SHUT_RDWR);
            }
            pthread_mutex_unlock(serve_lock_of(srv, c));
        }
        serve_wait_conns(srv, serve_now_ms() + 2000);
    }
}

int cmd_serve(int argc, char **argv) {
    const char *config = NULL, *listen_at = SERVE_DEFAULT_LISTEN, *log_path = NULL;
    long long workers = 0, max_conns = 4096, max_body = SERVE_DEFAULT_MAX_BODY, read_timeout = SERVE_HEAD_TIMEOUT_MS;
    long long config_poll_ms = 0;
    int no_auth = 0, i, port, loopback = 0, rc = EXIT_OK, sig;
    char host[256], portstr[16], shown[300], why[300];
    llmsplit_client_desc desc;
    llmsplit_error err;
    serve_server *srv;
    sigset_t set;
    int started = 0;
    struct epoll_event ev;
    rlim_t nofile;
    uint32_t s;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (tool_is_help(a)) return tool_usage(1, "%s", serve_usage_text);
        if (strcmp(a, "--no-auth") == 0) { no_auth = 1; continue; }
        if (strcmp(a, "--config") && strcmp(a, "--listen") && strcmp(a, "--log") && strcmp(a, "--workers") &&
            strcmp(a, "--max-conns") && strcmp(a, "--max-body") && strcmp(a, "--read-timeout") && strcmp(a, "--config-poll"))
            return tool_fail(LLMSPLIT_ERR_USAGE, "unknown option '%s' for serve (try llmsplit serve --help)", a);
        if (!v) return tool_fail(LLMSPLIT_ERR_USAGE, "%s needs a value", a);
        i++;
        if (strcmp(a, "--config") == 0) config = v;
        else if (strcmp(a, "--listen") == 0) listen_at = v;
        else if (strcmp(a, "--log") == 0) log_path = v;
        else if (strcmp(a, "--workers") == 0) {
            if (!serve_parse_count(v, 1, 4096, &workers)) return tool_fail(LLMSPLIT_ERR_USAGE, "--workers wants 1..4096 (got '%s')", v);
        } else if (strcmp(a, "--max-conns") == 0) {
            if (!serve_parse_count(v, 1, 1000000, &max_conns))
                return tool_fail(LLMSPLIT_ERR_USAGE, "--max-conns wants 1..1000000 (got '%s')", v);
        } else if (strcmp(a, "--config-poll") == 0) {
            if (!serve_parse_count(v, 10, 86400000, &config_poll_ms))
                return tool_fail(LLMSPLIT_ERR_USAGE, "--config-poll wants 10..86400000 ms (got '%s')", v);
        } else if (strcmp(a, "--read-timeout") == 0) {
            if (!serve_parse_count(v, 1, 3600000, &read_timeout))
                return tool_fail(LLMSPLIT_ERR_USAGE, "--read-timeout wants 1..3600000 ms (got '%s')", v);
        } else if (!serve_parse_count(v, 1, (long long)1 << 31, &max_body)) {
            return tool_fail(LLMSPLIT_ERR_USAGE, "--max-body wants 1..2147483648 bytes (got '%s')", v);
        }
    }
    if (!config) return tool_usage(0, "%s", serve_usage_text);
    if (!serve_split_listen(listen_at, host, sizeof host, portstr, sizeof portstr))
        return tool_fail(LLMSPLIT_ERR_USAGE, "--listen wants HOST:PORT or [IPV6]:PORT (got '%s')", listen_at);
    nofile = serve_raise_nofile();
    if ((rlim_t)max_conns * 2 + 64 > nofile) {
        long long fit = nofile > 128 ? (long long)(nofile - 64) / 2 : 32;
        tool_say("warning", "serve: the open-file limit (%llu) fits %lld connections with their upstreams; "
                 "--max-conns lowered from %lld (raise it with ulimit -n)", (unsigned long long)nofile, fit, max_conns);
        max_conns = fit;
    }
    if (!(srv = (serve_server *)calloc(1, sizeof *srv))) return tool_fail(LLMSPLIT_ERR_NOMEM, "out of memory");
    srv->config_path = config;
    srv->max_body = (size_t)max_body;
    srv->head_timeout_ms = (int)read_timeout;
    srv->max_conns = (uint32_t)max_conns;
    srv->nslots = srv->max_conns + SERVE_RESERVE_CONNS;
    if (!workers) { /* one loop per processor */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        workers = n < 1 ? 1 : n > 64 ? 64 : n;
    }
    srv->nloops = (int)workers;
    srv->listen_fd = srv->stopfd = -1;
    srv->started = time(NULL);
    pthread_mutex_init(&srv->free_lock, NULL);
    pthread_mutex_init(&srv->listen_lock, NULL);
    pthread_mutex_init(&srv->key_lock, NULL);
    for (i = 0; i < SERVE_LOCKS; i++) pthread_mutex_init(&srv->locks[i], NULL);
    serve_metrics_init(&srv->metrics);
    srv->conns = (serve_conn *)calloc(srv->nslots, sizeof *srv->conns);
    srv->free_slots = (uint32_t *)malloc(sizeof *srv->free_slots * srv->nslots);
    srv->loops = (serve_loop *)calloc((size_t)srv->nloops, sizeof *srv->loops);
    for (i = 0; srv->loops && i < srv->nloops; i++) srv->loops[i].ep = -1;
    if (!srv->conns || !srv->free_slots || !srv->loops) {
        rc = tool_fail(LLMSPLIT_ERR_NOMEM, "out of memory for %u connections", (unsigned)srv->nslots);
        goto out;
    }
    for (s = 0; s < srv->nslots; s++) {
        srv->conns[s].fd = -1;
        llmsplit_buf_init(&srv->conns[s].body, NULL);
        srv->free_slots[s] = srv->nslots - 1 - s; /* slot 0 first: the low slots stay warm */
    }
    srv->nfree = srv->nslots;
    /* every thread (the client's too) starts with these blocked: the main thread takes them */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    memset(&desc, 0, sizeof desc);
    if (strncmp(config, "http://", 7) == 0 || strncmp(config, "https://", 8) == 0) {
        /* a gateway following a control plane (another serve's /config): its read key comes from
           the environment, never the command line */
        const char *key = getenv("LLMSPLIT_CONFIG_KEY");
        desc.config_url = config;
        desc.config_api_key = key && *key ? key : NULL;
    } else {
        desc.config_file = config;
    }
    desc.config_poll_ms = (int)config_poll_ms;
    desc.log_path = log_path;
    desc.log_async = 1; /* the loops never wait for the disk: a writer thread writes the records */
    desc.on_record = serve_on_record;
    desc.user_data = srv;
    /* a gateway sends many requests at once to few hosts: keep a connection for each of them,
       or every burst above the default 8 would pay a new upstream connection */
    desc.http.max_idle_per_host = 1024;
    if (llmsplit_client_create(&desc, &srv->client, &err) != LLMSPLIT_OK) {
        rc = tool_fail_error(&err);
        goto out;
    }
    serve_refresh_key(srv);
#ifdef LLMSPLIT_SERVE_UI
    if (ui_start(srv, log_path, &err) != LLMSPLIT_OK) {
        rc = tool_fail_error(&err);
        goto out;
    }
#endif
    if ((port = serve_listen(srv, host, portstr, &loopback, shown, sizeof shown, why, sizeof why)) < 0) {
        rc = tool_fail(LLMSPLIT_ERR_USAGE, "%s", why);
        goto out;
    }
    if (!loopback && !srv->key_len && !no_auth) {
        rc = tool_fail(LLMSPLIT_ERR_USAGE, "refusing to listen on %s without a master key: anyone who can reach it "
                       "would spend your provider keys. Set general_settings.master_key in the config (or "
                       "LLMSPLIT_MASTER_KEY), or pass --no-auth", shown);
        goto out;
    }
    if ((srv->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        rc = tool_fail(LLMSPLIT_ERR_NOMEM, "eventfd: %s", strerror(errno));
        goto out;
    }
    for (i = 0; i < srv->nloops; i++) {
        serve_loop *lp = &srv->loops[i];
        lp->srv = srv;
        if ((lp->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
            rc = tool_fail(LLMSPLIT_ERR_NOMEM, "epoll_create1: %s", strerror(errno));
            goto out;
        }
        memset(&ev, 0, sizeof ev);
        /* every loop listens; the kernel wakes one of them per new connection */
        ev.events = EPOLLIN | EPOLLEXCLUSIVE;
        ev.data.u64 = SERVE_LISTEN_TOKEN;
        if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, srv->listen_fd, &ev) != 0) {
            rc = tool_fail(LLMSPLIT_ERR_NOMEM, "epoll_ctl: %s", strerror(errno));
            goto out;
        }
        ev.events = EPOLLIN; /* level-triggered: once written, every loop sees it */
        ev.data.u64 = SERVE_STOP_TOKEN;
        if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, srv->stopfd, &ev) != 0) {
            rc = tool_fail(LLMSPLIT_ERR_NOMEM, "epoll_ctl: %s", strerror(errno));
            goto out;
        }
    }
    for (i = 0; i < srv->nloops; i++) {
        if (pthread_create(&srv->loops[i].thread, NULL, serve_loop_main, &srv->loops[i]) != 0) {
            rc = tool_fail(LLMSPLIT_ERR_NOMEM, "cannot start an event loop thread");
            goto out;
        }
        started++;
    }
    printf("listening on http://%s\n", shown);
    fflush(stdout);
    for (;;) {
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            if (llmsplit_client_reload(srv->client, &err) != LLMSPLIT_OK) tool_fail_error(&err);
#ifdef LLMSPLIT_SERVE_UI
            ui_reload_file();
#endif
            if (llmsplit_client_reopen_log(srv->client, &err) != LLMSPLIT_OK) tool_fail_error(&err);
            serve_refresh_key(srv);
            continue;
        }
        if (sig == SIGTERM || sig == SIGINT) break;
    }
    serve_drain(srv);
out:
    if (started) {
        uint64_t one = 1;
        serve_store(&srv->stop, 1);
        (void)!write(srv->stopfd, &one, sizeof one); /* every loop's wait ends now */
        for (i = 0; i < started; i++) pthread_join(srv->loops[i].thread, NULL);
    }
    if (srv->client) llmsplit_client_destroy(srv->client);
#ifdef LLMSPLIT_SERVE_UI
    ui_stop(); /* after the client: its last records (silent calls draining) still reach ui_record */
#endif
    for (i = 0; srv->loops && i < srv->nloops; i++) {
        serve_loop *lp = &srv->loops[i];
        uint32_t k;
        if (lp->ep >= 0) close(lp->ep);
        for (k = 0; k < lp->nfibers; k++) serve_fiber_destroy(lp->fibers[k]);
        free(lp->fibers);
        free(lp->timers);
        free(lp->ups);
    }
    free(srv->loops);
    if (srv->stopfd >= 0) close(srv->stopfd);
    if (srv->listen_fd >= 0) close(srv->listen_fd);
    for (s = 0; srv->conns && s < srv->nslots; s++) {
        if (srv->conns[s].fd >= 0) close(srv->conns[s].fd);
        free(srv->conns[s].in);
        llmsplit_buf_free(&srv->conns[s].body);
    }
    free(srv->conns);
    free(srv->free_slots);
    serve_metrics_free(&srv->metrics);
    free(srv);
    return rc;
}
