/* relay - the floor of a proxy for the gateway benchmark: a TCP relay that understands nothing.

   usage: relay LISTEN_PORT UPSTREAM_PORT        (both on 127.0.0.1; prints "listening" when ready)

   Each accepted connection gets its own connection to the upstream and two threads, one per
   direction, each blocked in recv() and passing every byte on with one send(). No HTTP is read,
   nothing is parsed, logged or decided: what it adds to a request is what any proxy cannot avoid
   on this machine, the extra loopback hop (a recv and a send on each side, the kernel's TCP work
   for a second connection) and the two wake-ups of the process in the middle (the request's bytes,
   then the answer's). A real proxy (nginx's proxy_pass, llmsplit serve) pays this and its own
   work on top. Not a server for anything but that measurement: no limits, no timeouts. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int upstream_port;

typedef struct relay_conn {
    int fd[2];                    /* the client's, the upstream's */
    int refs;                     /* directions still running: the last one closes both */
} relay_conn;

typedef struct pipe_end {
    relay_conn *conn;
    int from, to;
} pipe_end;

static void *relay_pipe(void *arg) {
    pipe_end p = *(pipe_end *)arg;
    char buf[16384];
    free(arg);
    for (;;) {
        ssize_t n = recv(p.from, buf, sizeof buf, 0), off = 0;
        if (n <= 0) break;
        while (off < n) {
            ssize_t k = send(p.to, buf + off, (size_t)(n - off), MSG_NOSIGNAL);
            if (k <= 0) goto done;
            off += k;
        }
    }
done:
    shutdown(p.to, SHUT_WR);
    shutdown(p.from, SHUT_RD);
    if (__atomic_sub_fetch(&p.conn->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        close(p.conn->fd[0]);
        close(p.conn->fd[1]);
        free(p.conn);
    }
    return NULL;
}

static int start_pipe(relay_conn *conn, int from, int to) {
    pthread_t t;
    pthread_attr_t a;
    pipe_end *p = (pipe_end *)malloc(sizeof *p);
    int rc;
    if (!p) return -1;
    p->conn = conn;
    p->from = from;
    p->to = to;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 64 * 1024);
    rc = pthread_create(&t, &a, relay_pipe, p);
    pthread_attr_destroy(&a);
    if (rc != 0) free(p);
    return rc == 0 ? 0 : -1;
}

static struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

int main(int argc, char **argv) {
    struct sockaddr_in a;
    int lfd, one = 1;
    if (argc != 3) {
        fprintf(stderr, "usage: relay LISTEN_PORT UPSTREAM_PORT\n");
        return 2;
    }
    upstream_port = atoi(argv[2]);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    a = loopback(atoi(argv[1]));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1024) != 0) {
        perror("relay: listen");
        return 1;
    }
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        int c = accept(lfd, NULL, NULL), u;
        relay_conn *conn;
        if (c < 0) continue;
        u = socket(AF_INET, SOCK_STREAM, 0);
        a = loopback(upstream_port);
        if (u < 0 || connect(u, (struct sockaddr *)&a, sizeof a) != 0) {
            close(c);
            if (u >= 0) close(u);
            continue;
        }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!(conn = (relay_conn *)malloc(sizeof *conn))) {
            close(c);
            close(u);
            continue;
        }
        conn->fd[0] = c;
        conn->fd[1] = u;
        conn->refs = 2;
        if (start_pipe(conn, c, u) != 0) { /* (the bench opens a few dozen connections) */
            close(c);
            close(u);
            free(conn);
        } else if (start_pipe(conn, u, c) != 0) {
            shutdown(c, SHUT_RDWR); /* the running direction ends and, as the last, closes */
            if (__atomic_sub_fetch(&conn->refs, 1, __ATOMIC_ACQ_REL) == 0) {
                close(c);
                close(u);
                free(conn);
            }
        }
    }
}
