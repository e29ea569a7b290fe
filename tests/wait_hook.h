/* A wait for the tests of the event-loop hook (llmsplit_request.wait, llmsplit_http_request.wait):
   it waits with poll (or sleeps, for fd -1) as an event loop would, and counts its calls by
   kind. Shared by the HTTP, TLS and client tests; include it after llmsplit.h. */
#ifndef LLMSPLIT_TEST_WAIT_HOOK_H
#define LLMSPLIT_TEST_WAIT_HOOK_H
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

typedef struct waits {
    /* what the test sets */
    const void *ud;           /* the user_data every call must get */
    pthread_t caller;         /* the thread making the call */
    int port;                 /* the server's: waits on a socket connected to it are counted apart */
    int fail;                 /* return -1 instead of waiting */
    int fail_timed;           /* return -1 instead of a plain timed wait (fd -1) */
    int liar;                 /* wait 1 ms, then say "ready" (fd) or "time passed" (fd -1) regardless */
    int by_socket;            /* the test's request asks through wait_socket (socket_wait), not wait */
    volatile int *raise;      /* at call raise_at, set this flag and return 0 at once (a client hung up) */
    int raise_at;
    llmsplit_http *http;      /* their stats are read from inside the wait, which takes their locks: */
    llmsplit_client *client;  /* a call that held one there would never come back */
    /* what the wait saw (atomics: a wrong thread may be calling too) */
    int calls, pollin, pollout, timed, server_in, other_thread, wrong_ud, bad_timeout;
    int max_timeout, max_timed;  /* the longest timeout_ms offered: of any wait, of fd -1 ones */
    int handshake_in;         /* POLLIN waits on the server's socket before http's first TLS handshake */
    /* the socket-id wait (llmsplit_request.wait_socket): the socket each wait on an fd was for */
    int nsock;
    int sock_fd[64];
    uint64_t sock_id[64];
    int bad_id;               /* an fd with id 0, or fd -1 with an id */
} waits;

static waits *W; /* the current test's */

#define W_ADD(x) __atomic_add_fetch(&(x), 1, __ATOMIC_SEQ_CST)

static void waits_init(waits *w, const void *ud) {
    memset(w, 0, sizeof *w);
    w->ud = ud;
    w->caller = pthread_self();
    W = w;
}

/* The port at the other end of a connected socket, or 0. */
static int waits_peer_port(int fd) {
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    if (getpeername(fd, (struct sockaddr *)&a, &al) != 0) return 0;
    if (a.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&a)->sin_port);
    if (a.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
    return 0;
}

static int counting_wait(int fd, int events, int timeout_ms, void *ud) {
    waits *w = W;
    int n = W_ADD(w->calls);
    struct pollfd p;
    if (!pthread_equal(pthread_self(), w->caller)) W_ADD(w->other_thread);
    if (ud != w->ud) W_ADD(w->wrong_ud);
    if (timeout_ms <= 0 || (fd < 0 && events != 0)) W_ADD(w->bad_timeout);
    if (timeout_ms > __atomic_load_n(&w->max_timeout, __ATOMIC_SEQ_CST))
        __atomic_store_n(&w->max_timeout, timeout_ms, __ATOMIC_SEQ_CST);
    if (fd < 0 && timeout_ms > __atomic_load_n(&w->max_timed, __ATOMIC_SEQ_CST))
        __atomic_store_n(&w->max_timed, timeout_ms, __ATOMIC_SEQ_CST);
    if (fd < 0) W_ADD(w->timed);
    else if (events == POLLIN) W_ADD(w->pollin);
    else if (events == POLLOUT) W_ADD(w->pollout);
    if (fd >= 0 && events == POLLIN && w->port && waits_peer_port(fd) == w->port) {
        W_ADD(w->server_in);
        if (w->http && llmsplit_http_get_stats(w->http).tls_handshakes == 0) W_ADD(w->handshake_in);
    }
    if (w->http) (void)llmsplit_http_get_stats(w->http);
    if (w->client) (void)llmsplit_client_get_stats(w->client);
    if (w->fail || (w->fail_timed && fd < 0)) return -1;
    if (w->raise && n >= w->raise_at) {
        __atomic_store_n(w->raise, 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    if (w->liar) {
        poll(NULL, 0, 1);
        return fd < 0 ? 0 : 1;
    }
    if (fd < 0) {
        poll(NULL, 0, timeout_ms);
        return 0;
    }
    p.fd = fd;
    p.events = (short)events;
    p.revents = 0;
    return poll(&p, 1, timeout_ms);
}

/* The same wait, given the socket's id (llmsplit_request.wait_socket): it notes fd and id. */
static int socket_wait(int fd, uint64_t id, int events, int timeout_ms, void *ud);

/* 1 when every wait on a socket was for the same socket id (and there was one). */
static int waits_one_socket(const waits *w) {
    int i, n = w->nsock < 64 ? w->nsock : 64;
    for (i = 1; i < n; i++)
        if (w->sock_id[i] != w->sock_id[0] || w->sock_fd[i] != w->sock_fd[0]) return 0;
    return n > 0;
}

static int socket_wait(int fd, uint64_t id, int events, int timeout_ms, void *ud) {
    waits *w = W;
    if ((fd >= 0) != (id != 0)) W_ADD(w->bad_id);
    if (fd >= 0) {
        int k = W_ADD(w->nsock) - 1;
        if (k < 64) {
            w->sock_fd[k] = fd;
            w->sock_id[k] = id;
        }
    }
    return counting_wait(fd, events, timeout_ms, ud);
}

#endif
