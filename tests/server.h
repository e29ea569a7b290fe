/* Scripted test servers on 127.0.0.1:0, shared by the HTTP and provider tests. Each accepted
   connection runs the script: read the request (optionally), send the parts (pausing between
   them), then close, hang or reset. With `seq`, the Nth request gets seq[N-1] (the last entry
   repeats) instead of parts. The last request is kept for inspection. */
#ifndef LLMSPLIT_TEST_SERVER_H
#define LLMSPLIT_TEST_SERVER_H
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { AFTER_CLOSE, AFTER_HANG, AFTER_RESET };

typedef struct server {
    int fd, port;
    pthread_t thread;
    int stop;
    /* script */
    const char *parts[4];      /* sent in order, pausing `pause_ms` between them */
    const char *seq[8];        /* per request instead of parts: request N gets seq[N-1], the last repeats */
    int pause_ms;
    int after;                 /* what to do once sent */
    int keepalive;             /* answer requests on a connection until the client closes */
    int drop_nth;              /* on connection 1: close without answering request N (1-based) */
    int close_after;           /* keepalive: close a connection once it has answered this many
                                  requests, as a server whose keep-alive timeout ran out */
    const char *goodbye;       /* with close_after: sent just before that close (a 408, say),
                                  once the test sets say_goodbye (so the client has read the
                                  answer before: it does not arrive with it) */
    int say_goodbye;
    int read_request;          /* read the request head (and body) before answering */
    int threaded;              /* serve each connection on its own thread */
    int active;
    /* observations */
    int connections, requests;
    int closed;                /* connections the server has closed */
    char last_request[8192];
} server;

/* the server thread and the tests share these flags and counters */
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

static void sleep_ms(int ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

/* Reads one request (head + Content-Length body). 1 ok, 0 closed. */
static int read_request(server *s, int fd) {
    char buf[32768];
    size_t got = 0;
    for (;;) {
        char *end;
        ssize_t n;
        struct pollfd pfd;
        pfd.fd = fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 100) == 0) {
            if (LOAD(s->stop)) return 0;
            continue;
        }
        n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (n <= 0) return 0;
        got += (size_t)n;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t body = cl ? (size_t)atoi(cl + 16) : 0, have = got - (size_t)(end + 4 - buf);
            while (have < body) {
                n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
                if (n <= 0) return 0;
                got += (size_t)n;
                have += (size_t)n;
            }
            buf[got] = 0;
            if (!s->threaded) snprintf(s->last_request, sizeof s->last_request, "%.8000s", buf);
            __sync_fetch_and_add(&s->requests, 1);
            return 1;
        }
        if (got >= sizeof buf - 1) return 0;
    }
}

static void send_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k <= 0) return;
        p += k;
        n -= (size_t)k;
    }
}

/* Runs the script on one accepted connection. */
static void serve(server *s, int c) {
    int i, conn_no = __sync_add_and_fetch(&s->connections, 1), answered = 0;
    do {
        int req_no = LOAD(s->requests) + 1;
        if ((s->read_request || s->keepalive) && !read_request(s, c)) break;
        if (s->drop_nth && conn_no == 1 && req_no == s->drop_nth) break;
        if (s->seq[0]) {
            int k = req_no - 1;
            while (k > 0 && (k >= 8 || !s->seq[k])) k--;
            send_all(c, s->seq[k], strlen(s->seq[k]));
        }
        for (i = 0; i < 4 && s->parts[i]; i++) {
            if (i && s->pause_ms) sleep_ms(s->pause_ms);
            send_all(c, s->parts[i], strlen(s->parts[i]));
        }
        if (s->close_after && ++answered >= s->close_after) {
            if (s->goodbye) {
                while (!LOAD(s->say_goodbye) && !LOAD(s->stop)) sleep_ms(1);
                send_all(c, s->goodbye, strlen(s->goodbye));
            }
            break;
        }
    } while (s->keepalive && !LOAD(s->stop));
    if (s->after == AFTER_HANG) {
        while (!LOAD(s->stop)) sleep_ms(10);
    } else if (s->after == AFTER_RESET) {
        struct linger lg;
        lg.l_onoff = 1;
        lg.l_linger = 0;
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(c);
    __sync_fetch_and_add(&s->closed, 1);
}

typedef struct worker { server *s; int fd; } worker;

static void *worker_main(void *arg) {
    worker *w = (worker *)arg;
    serve(w->s, w->fd);
    __sync_fetch_and_sub(&w->s->active, 1);
    free(w);
    return NULL;
}

static void *server_main(void *arg) {
    server *s = (server *)arg;
    while (!LOAD(s->stop)) {
        struct pollfd pfd;
        int c;
        pfd.fd = s->fd;
        pfd.events = POLLIN;
        if (poll(&pfd, 1, 50) <= 0) continue;
        c = accept(s->fd, NULL, NULL);
        if (c < 0) continue;
        if (s->threaded) {
            /* one thread per connection, as a real server: clients may hold several at once */
            pthread_t t;
            worker *w = (worker *)malloc(sizeof *w);
            w->s = s;
            w->fd = c;
            __sync_fetch_and_add(&s->active, 1);
            pthread_create(&t, NULL, worker_main, w);
            pthread_detach(t);
        } else {
            serve(s, c);
        }
    }
    while (LOAD(s->active)) sleep_ms(5);
    return NULL;
}

static void server_start(server *s) {
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int one = 1;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 16) != 0) {
        perror("server");
        exit(1);
    }
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->thread, NULL, server_main, s);
}

static void server_stop(server *s) {
    STORE(s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
}


#endif
