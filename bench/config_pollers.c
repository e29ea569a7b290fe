/* config_pollers - a fleet polling one control plane: N clients each GET /config every INTERVAL
   ms with If-None-Match (the ETag of their last 200), over their own keep-alive connection, as
   llmsplit clients with config_url do. Halfway through it changes the split (a PATCH with the
   master key): every client must see the change within one interval. Prints the polls' latency
   (from the request's send to the response's last byte, nearest-rank percentiles), the statuses,
   serve's CPU over the measured seconds (/proc/PID/stat) and when the last client saw the change.
   One thread, epoll, no library: the client side costs little, so the latency is serve's.

   usage: config_pollers HOST PORT SERVE_PID READ_KEY MASTER_KEY [N] [INTERVAL_MS] [SECONDS]
   (bench/config_pollers.sh starts serve and runs this) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct poller {
    int fd;
    double next_ms;           /* when the next poll goes out */
    double sent_ms;           /* 0: no request in flight */
    char etag[64];
    char in[8192];
    size_t got;
    double saw_change_ms;     /* when it first got the changed config (0: not yet) */
} poller;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double cpu_s(int pid) { /* utime + stime in seconds */
    char path[64], buf[2048], *p;
    unsigned long ut = 0, st = 0;
    FILE *f;
    size_t n;
    int i;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    if (!(f = fopen(path, "r"))) return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    if (!(p = strrchr(buf, ')'))) return -1;
    p += 2; /* field 3 on */
    for (i = 3; i < 14 && p; i++) p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
    if (!p || sscanf(p, "%lu %lu", &ut, &st) != 2) return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int connect_to(const char *host, int port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    inet_pton(AF_INET, host, &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        exit(1);
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_all(int fd, const char *s, size_t n) {
    while (n) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) { perror("send"); exit(1); }
        s += k;
        n -= (size_t)k;
    }
}

/* A whole response in p->in: its status, and its length in *len; 0 while incomplete. */
static int response(poller *p, size_t *len) {
    char *end, *cl, *et;
    size_t head, body = 0;
    p->in[p->got] = 0;
    if (!(end = strstr(p->in, "\r\n\r\n"))) return 0;
    head = (size_t)(end - p->in) + 4;
    if ((cl = strcasestr(p->in, "\r\ncontent-length:")) != NULL && cl < end) body = (size_t)strtoul(cl + 17, NULL, 10);
    if (p->got < head + body) return 0;
    if ((et = strcasestr(p->in, "\r\netag:")) != NULL && et < end) {
        size_t n;
        et += 7;
        while (*et == ' ') et++;
        n = strcspn(et, "\r");
        if (n < sizeof p->etag) { memcpy(p->etag, et, n); p->etag[n] = 0; }
    }
    *len = head + body;
    return atoi(p->in + 9);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *host, *rkey, *mkey;
    int port, pid, n, interval, seconds, ep, i, statuses[600] = {0}, changed = 0;
    double t_start, t_measure, t_change = 0, t_end, c0 = 0, c1, *lat;
    size_t nlat = 0, cap;
    poller *ps;
    char req[512];
    if (argc < 6) {
        fprintf(stderr, "usage: config_pollers HOST PORT SERVE_PID READ_KEY MASTER_KEY [N] [INTERVAL_MS] [SECONDS]\n");
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    pid = atoi(argv[3]);
    rkey = argv[4];
    mkey = argv[5];
    n = argc > 6 ? atoi(argv[6]) : 1000;
    interval = argc > 7 ? atoi(argv[7]) : 1000;
    seconds = argc > 8 ? atoi(argv[8]) : 30;
    ps = (poller *)calloc((size_t)n, sizeof *ps);
    cap = (size_t)n * (size_t)(seconds * 1000 / interval + 4);
    lat = (double *)malloc(cap * sizeof *lat);
    ep = epoll_create1(0);
    srand(42);
    t_start = now_ms();
    for (i = 0; i < n; i++) { /* connected at once; the first polls spread over one interval */
        struct epoll_event ev;
        ps[i].fd = connect_to(host, port);
        ps[i].next_ms = t_start + (double)rand() / RAND_MAX * interval;
        ev.events = EPOLLIN;
        ev.data.u32 = (unsigned)i;
        epoll_ctl(ep, EPOLL_CTL_ADD, ps[i].fd, &ev);
    }
    t_measure = t_start + 2.0 * interval;   /* every client has its ETag by then */
    t_end = t_measure + seconds * 1000.0;
    for (;;) {
        struct epoll_event evs[256];
        double now = now_ms(), wake = now + 1;
        int k, got;
        if (!c0 && now >= t_measure) c0 = cpu_s(pid);
        if (now >= t_end) break;
        if (!changed && now >= t_measure + seconds * 500.0) { /* the change, halfway */
            char body[128], patch[512], resp[1024];
            int fd = connect_to(host, port), len = snprintf(body, sizeof body, "{\"weights\":{\"gpt-a #0\":0.5,\"gpt-b #1\":0.5}}");
            int pl = snprintf(patch, sizeof patch, "PATCH /config/groups/chat HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                              "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", host, mkey, len, body);
            t_change = now_ms();
            send_all(fd, patch, (size_t)pl);
            k = (int)recv(fd, resp, sizeof resp - 1, 0);
            resp[k > 0 ? k : 0] = 0;
            close(fd);
            if (strncmp(resp, "HTTP/1.1 200", 12) != 0) { fprintf(stderr, "the change was refused: %.200s\n", resp); return 1; }
            changed = 1;
        }
        for (i = 0; i < n; i++) { /* due polls */
            poller *p = &ps[i];
            int rl;
            if (p->sent_ms || p->next_ms > now) {
                if (!p->sent_ms && p->next_ms < wake) wake = p->next_ms;
                continue;
            }
            rl = snprintf(req, sizeof req, "GET /config HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n%s%s%s\r\n", host, rkey,
                          p->etag[0] ? "If-None-Match: " : "", p->etag, p->etag[0] ? "\r\n" : "");
            p->sent_ms = now_ms();
            p->next_ms += interval;
            send_all(p->fd, req, (size_t)rl);
        }
        got = epoll_wait(ep, evs, 256, wake > now ? (int)(wake - now) : 0);
        for (k = 0; k < got; k++) {
            poller *p = &ps[evs[k].data.u32];
            size_t len;
            int status;
            ssize_t r = recv(p->fd, p->in + p->got, sizeof p->in - 1 - p->got, 0);
            if (r <= 0) { fprintf(stderr, "a connection ended (%s)\n", r ? strerror(errno) : "closed"); return 1; }
            p->got += (size_t)r;
            if (!(status = response(p, &len))) continue;
            now = now_ms();
            if (p->sent_ms >= t_measure && nlat < cap) lat[nlat++] = now - p->sent_ms;
            if (p->sent_ms >= t_measure && status > 0 && status < 600) statuses[status]++;
            if (status == 200 && changed && p->sent_ms >= t_change && !p->saw_change_ms) p->saw_change_ms = now - t_change;
            memmove(p->in, p->in + len, p->got - len);
            p->got -= len;
            p->sent_ms = 0;
        }
    }
    c1 = cpu_s(pid);
    qsort(lat, nlat, sizeof *lat, cmp);
    {
        double wall = (t_end - t_measure) / 1000, last = 0;
        int saw = 0;
#define PCT(p) lat[(size_t)((p) / 100.0 * nlat + 0.999999) - 1]
        for (i = 0; i < n; i++) if (ps[i].saw_change_ms) { saw++; if (ps[i].saw_change_ms > last) last = ps[i].saw_change_ms; }
        printf("pollers %d, every %d ms, measured %.1f s: %zu polls (%.0f/s): 200 x %d, 304 x %d, other x %zu\n", n, interval,
               wall, nlat, nlat / wall, statuses[200], statuses[304], nlat - (size_t)statuses[200] - (size_t)statuses[304]);
        printf("poll latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", PCT(50), PCT(90), PCT(99), PCT(99.9),
               lat[nlat - 1]);
        printf("serve CPU: %.2f s in %.1f s = %.1f%% of one core, %.1f us per poll\n", c1 - c0, wall, 100 * (c1 - c0) / wall,
               1e6 * (c1 - c0) / nlat);
        printf("the change: %d of %d pollers saw it, the last %.0f ms after it was made (interval %d ms)\n", saw, n, last, interval);
        return saw == n ? 0 : 1;
    }
}
