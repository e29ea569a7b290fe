/* loadgen - a small HTTP/1.1 load generator for the gateway benchmark (wrk/hey-style, but with a
   fixed request rate that does not wait for answers, and the CPU of the servers measured from
   /proc over exactly the measured interval).

   usage: loadgen HOST:PORT PATH BODY_FILE [--conns N] [--rate R] [--seconds S] [--warmup S]
                  [--header 'Name: value']... [--pid PID]...

   --rate R > 0: open loop. Request k is due at start + k/R (a timerfd wakes the loop at the due
   time); it goes out on an idle keep-alive connection, or waits for the first one that becomes
   idle. Latency is measured from the due time, so a slow server cannot hide its queue by slowing
   the load down (coordinated omission). --rate 0: closed loop, every connection sends its next
   request as soon as its answer is complete (saturation).
   Every answer must be 200 with a Content-Length or chunked body; anything else is an error.
   --pid: processes whose user+system CPU (utime+stime from /proc/PID/stat, children not
   included) is divided by the requests answered in the measured interval.

   Prints one line:
   requests N errors E seconds S rps X p50_us A p90_us B p99_us C p999_us D max_us M cpu_us_per_req U
   (cpu_us_per_req is -1 without --pid). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 4096
#define MAX_PIDS 16
#define RBUF (64 * 1024)

typedef struct conn {
    int fd;
    int busy;                 /* a request is out */
    double sent_due;          /* due time of the request out (its latency starts here) */
    char *rbuf;
    size_t rlen;
} conn;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double proc_cpu_s(const int *pids, int n) {
    double total = 0;
    int i;
    for (i = 0; i < n; i++) {
        char path[64], buf[1024], *p;
        unsigned long ut = 0, st = 0;
        FILE *f;
        int field;
        snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
        if (!(f = fopen(path, "r"))) continue;
        if (!fgets(buf, sizeof buf, f)) { fclose(f); continue; }
        fclose(f);
        p = strrchr(buf, ')'); /* the command name may hold spaces */
        if (!p) continue;
        p += 2; /* field 3, the state */
        for (field = 3; field < 14 && p; field++) { p = strchr(p, ' '); if (p) p++; }
        if (p && sscanf(p, "%lu %lu", &ut, &st) == 2) total += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    }
    return total;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* nearest rank */
static double pct(const double *v, size_t n, double p) {
    size_t k;
    if (!n) return -1;
    k = (size_t)(p / 100.0 * (double)n + 0.999999);
    if (k < 1) k = 1;
    if (k > n) k = n;
    return v[k - 1];
}

/* 1: a whole answer is in c->rbuf (its length in *used, its status in *status); 0: not yet; -1: bad */
static int answer_complete(const conn *c, size_t *used, int *status) {
    const char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4), *h;
    size_t head, clen = 0;
    int chunked = 0, have_len = 0;
    if (!end) return c->rlen > 16384 ? -1 : 0;
    head = (size_t)(end - c->rbuf) + 4;
    if (c->rlen < 12 || memcmp(c->rbuf, "HTTP/1.1 ", 9) != 0) return -1;
    *status = atoi(c->rbuf + 9);
    for (h = c->rbuf; h && h < end; h = memchr(h, '\n', (size_t)(end - h))) {
        if (*h == '\n') h++;
        if (strncasecmp(h, "content-length:", 15) == 0) { clen = (size_t)strtoul(h + 15, NULL, 10); have_len = 1; }
        else if (strncasecmp(h, "transfer-encoding:", 18) == 0 && memmem(h, (size_t)(end - h) < 40 ? (size_t)(end - h) : 40, "chunked", 7))
            chunked = 1;
    }
    if (chunked) {
        /* the last chunk and an empty trailer end the body */
        const char *t = memmem(c->rbuf + head - 2, c->rlen - head + 2, "\r\n0\r\n\r\n", 7);
        if (!t) return 0;
        *used = (size_t)(t - c->rbuf) + 7;
        return 1;
    }
    if (!have_len) return -1;
    if (c->rlen < head + clen) return 0;
    *used = head + clen;
    return 1;
}

static int connect_to(const struct sockaddr_in *a) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0) return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (const struct sockaddr *)a, sizeof *a) != 0 && errno != EINPROGRESS) { close(fd); return -1; }
    return fd;
}

int main(int argc, char **argv) {
    const char *hostport, *path, *bodyfile, *headers[32];
    int nheaders = 0, conns = 16, pids[MAX_PIDS], npids = 0, i, ep, tfd, port;
    double rate = 0, seconds = 5, warmup = 1;
    char host[64], *colon, *req;
    size_t req_len, body_len, cap_lat, nlat = 0;
    double *lat;
    struct sockaddr_in addr;
    conn *cs;
    FILE *f;
    char body[65536];
    int *idle, nidle = 0;
    uint64_t due_k = 0, answered = 0, errors = 0;
    double start, t_begin = 0, t_end, cpu_begin = 0, cpu_end;
    int measuring = 0;
    uint64_t pending = 0; /* due requests not yet sent (open loop) */

    if (argc < 4) {
        fprintf(stderr, "usage: loadgen HOST:PORT PATH BODY_FILE [--conns N] [--rate R] [--seconds S] [--warmup S] "
                        "[--header 'Name: value']... [--pid PID]...\n");
        return 2;
    }
    hostport = argv[1]; path = argv[2]; bodyfile = argv[3];
    for (i = 4; i < argc; i++) {
        if (i + 1 >= argc) { fprintf(stderr, "loadgen: %s needs a value\n", argv[i]); return 2; }
        if (strcmp(argv[i], "--conns") == 0) conns = atoi(argv[++i]);
        else if (strcmp(argv[i], "--rate") == 0) rate = atof(argv[++i]);
        else if (strcmp(argv[i], "--seconds") == 0) seconds = atof(argv[++i]);
        else if (strcmp(argv[i], "--warmup") == 0) warmup = atof(argv[++i]);
        else if (strcmp(argv[i], "--header") == 0 && nheaders < 32) headers[nheaders++] = argv[++i];
        else if (strcmp(argv[i], "--pid") == 0 && npids < MAX_PIDS) pids[npids++] = atoi(argv[++i]);
        else { fprintf(stderr, "loadgen: unknown option %s\n", argv[i]); return 2; }
    }
    if (conns < 1 || conns > MAX_CONNS || seconds <= 0 || rate < 0) { fprintf(stderr, "loadgen: bad option value\n"); return 2; }
    snprintf(host, sizeof host, "%s", hostport);
    if (!(colon = strrchr(host, ':'))) { fprintf(stderr, "loadgen: HOST:PORT expected\n"); return 2; }
    *colon = 0;
    port = atoi(colon + 1);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { fprintf(stderr, "loadgen: an IPv4 address expected\n"); return 2; }
    if (!(f = fopen(bodyfile, "rb"))) { perror(bodyfile); return 2; }
    body_len = fread(body, 1, sizeof body, f);
    fclose(f);

    req = malloc(8192 + body_len);
    req_len = (size_t)sprintf(req, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n",
                              path, hostport, body_len);
    for (i = 0; i < nheaders; i++) req_len += (size_t)sprintf(req + req_len, "%s\r\n", headers[i]);
    memcpy(req + req_len, "\r\n", 2);
    req_len += 2;
    memcpy(req + req_len, body, body_len);
    req_len += body_len;

    cap_lat = (size_t)((rate > 0 ? rate : 200000) * seconds * 1.5) + 1024;
    lat = malloc(cap_lat * sizeof *lat);
    cs = calloc((size_t)conns, sizeof *cs);
    idle = malloc((size_t)conns * sizeof *idle);
    ep = epoll_create1(0);
    for (i = 0; i < conns; i++) {
        struct epoll_event ev;
        cs[i].fd = connect_to(&addr);
        cs[i].rbuf = malloc(RBUF);
        if (cs[i].fd < 0) { perror("connect"); return 1; }
        ev.events = EPOLLIN;
        ev.data.u32 = (uint32_t)i;
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
        idle[nidle++] = i;
    }
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    {
        struct epoll_event ev;
        ev.events = EPOLLIN;
        ev.data.u32 = UINT32_MAX;
        epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    }
    start = now_s();
    t_end = start + warmup + seconds;

#define SEND_ON(ci, due)                                                                                   \
    do {                                                                                                 \
        conn *c_ = &cs[ci];                                                                              \
        size_t off_ = 0;                                                                                 \
        c_->busy = 1;                                                                                    \
        c_->sent_due = (due);                                                                            \
        while (off_ < req_len) {                                                                         \
            ssize_t w_ = send(c_->fd, req + off_, req_len - off_, MSG_NOSIGNAL);                          \
            if (w_ > 0) off_ += (size_t)w_;                                                              \
            else if (w_ < 0 && errno == EAGAIN) continue; /* connecting: spin briefly */                 \
            else { fprintf(stderr, "loadgen: send failed: %s\n", strerror(errno)); return 1; }          \
        }                                                                                                \
    } while (0)

    if (rate == 0)
        while (nidle) { int ci = idle[--nidle]; SEND_ON(ci, now_s()); }

    for (;;) {
        struct epoll_event evs[256];
        int n, e;
        double t = now_s();
        if (!measuring && t >= start + warmup) {
            measuring = 1;
            t_begin = t;
            cpu_begin = proc_cpu_s(pids, npids);
            nlat = 0; answered = 0; errors = 0;
        }
        if (t >= t_end) break;
        if (rate > 0) {
            /* every request due by now: send or queue */
            uint64_t due_now = (uint64_t)((t - start) * rate) + 1;
            while (due_k < due_now) { pending++; due_k++; }
            while (pending && nidle) {
                uint64_t k = due_k - pending;
                int ci = idle[--nidle];
                SEND_ON(ci, start + (double)k / rate);
                pending--;
            }
            {
                struct itimerspec its;
                double next = start + (double)due_k / rate;
                memset(&its, 0, sizeof its);
                its.it_value.tv_sec = (time_t)next;
                its.it_value.tv_nsec = (long)((next - (double)(time_t)next) * 1e9);
                timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
            }
        }
        n = epoll_wait(ep, evs, 256, 100);
        for (e = 0; e < n; e++) {
            uint32_t ci = evs[e].data.u32;
            conn *c;
            if (ci == UINT32_MAX) { uint64_t x; if (read(tfd, &x, sizeof x) < 0) {} continue; }
            c = &cs[ci];
            for (;;) {
                ssize_t r = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, 0);
                size_t used;
                int status = 0, done;
                if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                    fprintf(stderr, "loadgen: the server closed a connection (%s)\n", r == 0 ? "EOF" : strerror(errno));
                    return 1;
                }
                if (r < 0) break;
                c->rlen += (size_t)r;
                done = answer_complete(c, &used, &status);
                if (done < 0) { fprintf(stderr, "loadgen: a malformed answer\n"); return 1; }
                if (done == 0) continue;
                {
                    double t2 = now_s();
                    if (status != 200) errors++;
                    else if (nlat < cap_lat) lat[nlat++] = (t2 - c->sent_due) * 1e6;
                    answered++;
                    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
                    c->rlen -= used;
                    c->busy = 0;
                    if (rate == 0) SEND_ON((int)ci, t2);
                    else if (pending) {
                        uint64_t k = due_k - pending;
                        SEND_ON((int)ci, start + (double)k / rate);
                        pending--;
                    } else idle[nidle++] = (int)ci;
                }
                break;
            }
        }
    }
    cpu_end = proc_cpu_s(pids, npids);
    {
        double span = now_s() - t_begin;
        qsort(lat, nlat, sizeof *lat, cmp_double);
        printf("requests %llu errors %llu seconds %.2f rps %.0f p50_us %.1f p90_us %.1f p99_us %.1f p999_us %.1f max_us %.1f "
               "cpu_us_per_req %.2f\n",
               (unsigned long long)answered, (unsigned long long)errors, span, (double)answered / span, pct(lat, nlat, 50),
               pct(lat, nlat, 90), pct(lat, nlat, 99), pct(lat, nlat, 99.9), nlat ? lat[nlat - 1] : -1,
               npids && answered ? (cpu_end - cpu_begin) * 1e6 / (double)answered : -1.0);
    }
    return errors ? 3 : 0;
}
