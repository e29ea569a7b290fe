/* The one-call form, llmsplit_completion_with_split_tests, against `llmsplit mock` over HTTPS:
   it keeps one client per split for the whole process, so repeated calls reuse one kept-alive
   connection instead of a TCP and TLS handshake each. Connections are counted on the server
   side by a relay in front of the mock that counts what it accepts. A program of its own because
   the kept clients are process-wide: no other test's calls can be mixed into the counts. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "test.h"
#include "mock.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

/* A TCP relay on 127.0.0.1:0 to the mock's port: the TLS bytes pass through untouched (the
   client still checks the mock's certificate) and every accepted connection is counted. */
#define RELAY_MAX_PAIRS 64
typedef struct relay {
    int fd, port, upstream_port;
    pthread_t thread;
    int stop;                     /* atomic */
    int connections;              /* atomic: accepted so far */
} relay;

static int connect_local(int port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

/* One thread polls every pair: a test makes few connections, and one thread keeps stop simple. */
static void *relay_main(void *arg) {
    relay *r = (relay *)arg;
    int pairs[RELAY_MAX_PAIRS][2], npairs = 0, i, k;
    char buf[16384];
    while (!LOAD(r->stop)) {
        struct pollfd p[1 + 2 * RELAY_MAX_PAIRS];
        int polled = npairs;
        p[0].fd = r->fd;
        p[0].events = POLLIN;
        for (i = 0; i < npairs; i++)
            for (k = 0; k < 2; k++) {
                p[1 + 2 * i + k].fd = pairs[i][k];
                p[1 + 2 * i + k].events = POLLIN;
            }
        if (poll(p, (nfds_t)(1 + 2 * npairs), 50) <= 0) continue;
        for (i = 0; i < polled; i++)
            for (k = 0; k < 2 && pairs[i][0] >= 0; k++) {
                ssize_t n;
                if (!(p[1 + 2 * i + k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                n = recv(pairs[i][k], buf, sizeof buf, 0);
                if (n <= 0 || !send_all(pairs[i][!k], buf, (size_t)n)) {
                    close(pairs[i][0]);
                    close(pairs[i][1]);
                    pairs[i][0] = pairs[i][1] = -1;
                }
            }
        for (i = k = 0; i < npairs; i++)
            if (pairs[i][0] >= 0) {
                pairs[k][0] = pairs[i][0];
                pairs[k][1] = pairs[i][1];
                k++;
            }
        npairs = k;
        if (p[0].revents & POLLIN) {
            int c = accept(r->fd, NULL, NULL), up;
            if (c < 0) continue;
            __sync_fetch_and_add(&r->connections, 1);
            up = connect_local(r->upstream_port);
            if (up < 0 || npairs == RELAY_MAX_PAIRS) {
                close(c);
                if (up >= 0) close(up);
                continue;
            }
            pairs[npairs][0] = c;
            pairs[npairs][1] = up;
            npairs++;
        }
    }
    for (i = 0; i < npairs; i++) {
        close(pairs[i][0]);
        close(pairs[i][1]);
    }
    return NULL;
}

static int relay_start(relay *r, int upstream_port) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    memset(r, 0, sizeof *r);
    r->upstream_port = upstream_port;
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (r->fd < 0 || bind(r->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(r->fd, 64) != 0 ||
        getsockname(r->fd, (struct sockaddr *)&a, &al) != 0)
        return 0;
    r->port = ntohs(a.sin_port);
    return pthread_create(&r->thread, NULL, relay_main, r) == 0;
}

static void relay_stop(relay *r) {
    STORE(r->stop, 1);
    pthread_join(r->thread, NULL);
    close(r->fd);
}

static mock M;
static relay R;
static int mock_up, ready;

#define NEED_SERVER() do { if (!ready) SKIP("build/llmsplit mock over HTTPS did not start (run make first)"); } while (0)

static llmsplit_message hello = {"user", "Hello, how are you?", 0, NULL, NULL, NULL, NULL};

/* One one-call request to a single-model split; 1 when the mock's answer came back. */
static int ask(const char *model) {
    const char *models[1];
    double weights[1] = {1};
    llmsplit_result r;
    llmsplit_error err;
    int ok;
    models[0] = model;
    ok = llmsplit_completion_with_split_tests(models, weights, 1, &hello, 1, &r, &err) == LLMSPLIT_OK &&
         r.response.text.len && strstr(r.response.text.data, ": Hello, how are you?") != NULL;
    if (!ok) printf("  %s: %s\n", model, err.message);
    llmsplit_result_free(&r);
    return ok;
}

static void oncall_100_calls_share_one_connection(void) {
    const char *models[2] = {"openai/gpt-4", "openai/llama2"};
    double weights[2] = {0.8, 0.2};
    int i, ok = 0, before, conns;
    NEED_SERVER();
    before = LOAD(R.connections);
    for (i = 0; i < 100; i++) {
        llmsplit_result r;
        llmsplit_error err;
        if (llmsplit_completion_with_split_tests(models, weights, 2, &hello, 1, &r, &err) == LLMSPLIT_OK &&
            r.response.text.len && strstr(r.response.text.data, ": Hello, how are you?"))
            ok++;
        else if (ok == i)
            printf("  call %d: %s\n", i + 1, err.message);
        llmsplit_result_free(&r);
    }
    conns = LOAD(R.connections) - before;
    printf("  100 one-call requests over HTTPS -> %d connection(s)\n", conns);
    CHECK(ok == 100);
    CHECK(conns == 1);
    llmsplit_completion_cleanup();
}

static void oncall_after_cleanup_the_next_call_makes_a_new_client(void) {
    int before;
    NEED_SERVER();
    before = LOAD(R.connections);
    CHECK(ask("openai/gpt-4"));
    CHECK(ask("openai/gpt-4"));
    CHECK(LOAD(R.connections) - before == 1);
    llmsplit_completion_cleanup();
    CHECK(ask("openai/gpt-4")); /* the old client, and its connection, are gone */
    CHECK(LOAD(R.connections) - before == 2);
    llmsplit_completion_cleanup();
    llmsplit_completion_cleanup(); /* nothing kept: a no-op */
}

typedef struct worker { int ok; } worker;
static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    int i;
    for (i = 0; i < 25; i++) w->ok += ask("openai/gpt-4");
    return NULL;
}

static void oncall_threads_share_the_kept_client(void) {
    pthread_t t[4];
    worker w[4];
    int i, ok = 0, conns, before;
    NEED_SERVER();
    before = LOAD(R.connections);
    for (i = 0; i < 4; i++) {
        w[i].ok = 0;
        pthread_create(&t[i], NULL, worker_main, &w[i]);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
    }
    conns = LOAD(R.connections) - before;
    CHECK(ok == 100);
    /* one client: at most one connection per thread at a time, all of them reused */
    if (conns < 1 || conns > 4) printf("  4 threads x 25 calls -> %d connections\n", conns);
    CHECK(conns >= 1 && conns <= 4);
    llmsplit_completion_cleanup();
}

/* 16 splits are kept; the 17th replaces the one used longest ago. Each split's client has its
   own connection, so a new connection means a new client. */
static void oncall_keeps_16_splits_and_replaces_the_least_recently_used(void) {
    char model[17][32];
    int i, ok = 0, before;
    NEED_SERVER();
    for (i = 0; i < 17; i++) snprintf(model[i], sizeof model[i], "openai/m%d", i);
    before = LOAD(R.connections);
    for (i = 0; i < 16; i++) ok += ask(model[i]);
    CHECK(LOAD(R.connections) - before == 16);
    for (i = 15; i >= 0; i--) ok += ask(model[i]); /* m15 is now the least recently used */
    CHECK(LOAD(R.connections) - before == 16);
    ok += ask(model[16]);
    CHECK(LOAD(R.connections) - before == 17);
    for (i = 0; i < 15; i++) ok += ask(model[i]); /* all still kept */
    CHECK(LOAD(R.connections) - before == 17);
    ok += ask(model[15]); /* replaced: a new client */
    CHECK(LOAD(R.connections) - before == 18);
    CHECK(ok == 16 + 16 + 1 + 15 + 1);
    llmsplit_completion_cleanup();
}

static void oncall_invalid_split_is_refused_and_not_kept(void) {
    const char *models[1] = {"openai/gpt-4"};
    double weights[1] = {-1};
    llmsplit_result r;
    llmsplit_error err;
    NEED_SERVER();
    CHECK(llmsplit_completion_with_split_tests(models, weights, 1, &hello, 1, &r, &err) == LLMSPLIT_ERR_CONFIG);
    CHECK(err.code == LLMSPLIT_ERR_CONFIG && err.message[0]);
    llmsplit_result_free(&r);
    CHECK(llmsplit_completion_with_split_tests(models, weights, 0, &hello, 1, &r, &err) == LLMSPLIT_ERR_USAGE);
    llmsplit_completion_cleanup();
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    const char *port;
    char base[320];
    /* the one-call form takes its CA, proxy, key and base from the environment */
    unsetenv("HTTPS_PROXY");
    unsetenv("https_proxy");
    setenv("SSL_CERT_FILE", "tests/certs/root-ca.pem", 1);
    setenv("OPENAI_API_KEY", "test-key", 1);
    if ((mock_up = mock_start(&M, 1, NULL))) {
        port = strrchr(M.url, ':');
        ready = port && relay_start(&R, atoi(port + 1));
        snprintf(base, sizeof base, "https://localhost:%d/v1", R.port);
        setenv("OPENAI_API_BASE", base, 1);
    }
    RUN(oncall_100_calls_share_one_connection);
    RUN(oncall_after_cleanup_the_next_call_makes_a_new_client);
    RUN(oncall_threads_share_the_kept_client);
    RUN(oncall_keeps_16_splits_and_replaces_the_least_recently_used);
    RUN(oncall_invalid_split_is_refused_and_not_kept);
    if (ready) relay_stop(&R);
    if (mock_up) mock_stop(&M);
    return t_summary();
}
