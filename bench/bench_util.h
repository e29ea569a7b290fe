/* bench_util.h - what client_bench, mem_bench and tls_bench share: clocks, the local server
   (nginx answering a fixed chat completion, or `llmsplit mock` when nginx is missing), /proc
   memory figures, and the results file. Include after llmsplit.h (which sets the POSIX level).

   The server. nginx is the reference server of the issue: it costs the same for both clients and
   little, so the figures are the clients'. It gets a temporary prefix directory with its own
   nginx.conf, two free loopback ports (http and https with tests/certs' ECDSA chain, TLS 1.2 only
   because llmsplit speaks TLS 1.2, a shared session cache so BearSSL's session-ID resumption works)
   and runs in the foreground as our child. With log_tls, every HTTPS request writes one line,
   "$ssl_session_reused" ("r" or "."), so resumptions can be counted for clients that do not
   report them (libcurl). Without nginx, two `llmsplit mock` processes serve instead.

   Results: bench_result() appends "figure<TAB>ours<TAB>reference<TAB>ratio<TAB>unit" to the file
   named by $BENCH_RESULTS (bench/run.sh sets it), ratio = ours / reference. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_FN static __attribute__((unused)) /* each program uses part of this file */

/* The fixed answer nginx gives: a 334-byte OpenAI chat completion. */
#define BENCH_COMPLETION                                                                                       \
    "{\"id\":\"chatcmpl-bench0001\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"gpt-4o-mini\"," \
    "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello! I am doing well, thank you. " \
    "How can I help you today?\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":25,"    \
    "\"completion_tokens\":16,\"total_tokens\":41},\"system_fingerprint\":\"fp_bench\"}"

BENCH_FN double bench_wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* user + system time of this process, all threads (the server is another process) */
BENCH_FN double bench_cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

/* a line of /proc/self/status such as "VmRSS:" or "VmHWM:", in kB (-1 if absent) */
BENCH_FN long bench_status_kb(const char *field) {
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0) { kb = atol(line + strlen(field)); break; }
    fclose(f);
    return kb;
}

BENCH_FN void bench_result(const char *figure, double ours, double ref, const char *unit) {
    const char *path = getenv("BENCH_RESULTS");
    FILE *f;
    if (!path || !*path || !(f = fopen(path, "a"))) return;
    double ratio = ref != 0 && ours != 0 ? ours / ref : 0.0; /* 0 when undefined, never -0 */
    fprintf(f, "%s\t%.6g\t%.6g\t%.4f\t%s\n", figure, ours, ref, ratio, unit);
    fclose(f);
}

typedef struct bench_server {
    int nginx;                  /* 1: nginx, 0: llmsplit mock */
    pid_t pid[2];               /* nginx: pid[0]; mock: plain and TLS */
    pid_t worker;               /* nginx's worker process (the one that serves), 0 if unknown */
    char http_url[128];         /* http://127.0.0.1:P (no path) */
    char https_url[128];        /* https://localhost:P: the name check runs as in production */
    char dir[64];               /* nginx's prefix directory */
    char ca[512];               /* tests/certs/root-ca.pem */
} bench_server;

/* a loopback port nobody listens on now (the kernel picks it) */
BENCH_FN int bench_free_port(void) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0) close(fd);
    return port;
}

BENCH_FN int bench_port_open(int port) {
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((unsigned short)port);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

BENCH_FN int bench_start_nginx(bench_server *s, const char *nginx, const char *certs_rel, int log_tls) {
    char path[256], cmd[256], certs[4096], cwd[2048];
    int hp = bench_free_port(), sp = bench_free_port(), i;
    struct timespec tick = {0, 10000000}; /* 10 ms between checks that nginx listens */
    FILE *f;
    snprintf(s->dir, sizeof s->dir, "/tmp/llmsplit-bench-XXXXXX");
    /* nginx resolves relative paths against its prefix, so the certificates get absolute ones */
    snprintf(certs, sizeof certs, "%s/%s", certs_rel[0] == '/' ? "" : getcwd(cwd, sizeof cwd) ? cwd : ".", certs_rel);
    if (hp < 0 || sp < 0 || hp == sp || !mkdtemp(s->dir)) return 0;
    s->nginx = 1; /* from here on bench_server_stop cleans up */
    snprintf(path, sizeof path, "%s/nginx.conf", s->dir);
    if (!(f = fopen(path, "w"))) return 0;
    /* one worker: the machine has two cores and the client needs the other one */
    fprintf(f,
            "worker_processes 1;\nevents { worker_connections 1024; }\nhttp {\n"
            "  access_log off;\n"
            "  client_body_temp_path %s/body; proxy_temp_path %s/proxy; fastcgi_temp_path %s/fcgi;\n"
            "  uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n"
            "  keepalive_requests 100000000; keepalive_timeout 300s;\n"
            "  log_format reused '$ssl_session_reused';\n"
            "  server {\n"
            "    listen 127.0.0.1:%d;\n    listen 127.0.0.1:%d ssl;\n"
            "    ssl_certificate %s/leaf-ecdsa-chain.pem;\n    ssl_certificate_key %s/leaf-ecdsa.key;\n"
            "    ssl_protocols TLSv1.2;\n    ssl_session_cache shared:bench:1m;\n"
            "    %s\n"
            "    location = /v1/chat/completions { default_type application/json; return 200 '%s'; }\n"
            "  }\n}\n",
            s->dir, s->dir, s->dir, s->dir, s->dir, hp, sp, certs, certs,
            log_tls ? "access_log logs/tls.log reused if=$https;" : "", BENCH_COMPLETION);
    fclose(f);
    snprintf(path, sizeof path, "%s/logs", s->dir);
    mkdir(path, 0700);
    s->pid[0] = fork();
    if (s->pid[0] == 0) {
        snprintf(cmd, sizeof cmd, "daemon off; pid %s/nginx.pid; error_log %s/err.log;", s->dir, s->dir);
        execl(nginx, nginx, "-q", "-p", s->dir, "-c", "nginx.conf", "-g", cmd, (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 500 && !(bench_port_open(hp) && bench_port_open(sp)); i++) {
        if (waitpid(s->pid[0], NULL, WNOHANG) == s->pid[0]) { s->pid[0] = 0; return 0; } /* it exited */
        nanosleep(&tick, NULL);
    }
    if (i == 500) return 0;
    /* the worker: the master's only child (forked after the ports listen, so it may take a moment) */
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)s->pid[0], (int)s->pid[0]);
    for (i = 0; i < 200 && s->worker <= 0; i++) {
        int w = 0;
        if ((f = fopen(path, "r"))) {
            if (fscanf(f, "%d", &w) == 1) s->worker = (pid_t)w;
            fclose(f);
        }
        if (s->worker <= 0) nanosleep(&tick, NULL);
    }
    snprintf(s->http_url, sizeof s->http_url, "http://127.0.0.1:%d", hp);
    snprintf(s->https_url, sizeof s->https_url, "https://localhost:%d", sp);
    return 1;
}

/* `llmsplit mock`, reading its "listening on URL" line */
BENCH_FN pid_t bench_start_mock(const char *bin, const char *certs, int tls, char *url, size_t cap) {
    int fds[2];
    pid_t pid;
    char line[256], cert[512], key[512];
    FILE *f;
    snprintf(cert, sizeof cert, "%s/leaf-ecdsa-chain.pem", certs);
    snprintf(key, sizeof key, "%s/leaf-ecdsa.key", certs);
    if (pipe(fds) != 0) return -1;
    if ((pid = fork()) == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        if (tls) execl(bin, bin, "mock", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, (char *)NULL);
        else execl(bin, bin, "mock", "--listen", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f) || !strstr(line, "127.0.0.1:")) return -1;
    line[strcspn(line, "\r\n")] = 0;
    snprintf(url, cap, "%s://%s%s", tls ? "https" : "http", tls ? "localhost" : "127.0.0.1",
             strstr(line, "127.0.0.1:") + 9);
    fclose(f);
    return pid;
}

BENCH_FN void bench_server_stop(bench_server *s);

/* nginx when the binary exists ($NGINX, default /usr/sbin/nginx), else the mock; exits on failure */
BENCH_FN void bench_server_start(bench_server *s, const char *mock_bin, const char *certs, int log_tls) {
    const char *nginx = getenv("NGINX") ? getenv("NGINX") : "/usr/sbin/nginx";
    memset(s, 0, sizeof *s);
    if (*nginx && access(nginx, X_OK) == 0) {
        char path[128], line[512];
        FILE *f;
        if (bench_start_nginx(s, nginx, certs, log_tls)) {
            snprintf(s->ca, sizeof s->ca, "%s/root-ca.pem", certs);
            return;
        }
        fprintf(stderr, "bench: nginx did not start; using the mock\n");
        snprintf(path, sizeof path, "%s/err.log", s->dir);
        if ((f = fopen(path, "r"))) { /* say why */
            while (fgets(line, sizeof line, f)) fprintf(stderr, "  %s", line);
            fclose(f);
        }
        bench_server_stop(s);
        memset(s, 0, sizeof *s);
    }
    snprintf(s->ca, sizeof s->ca, "%s/root-ca.pem", certs);
    s->pid[0] = bench_start_mock(mock_bin, certs, 0, s->http_url, sizeof s->http_url);
    s->pid[1] = bench_start_mock(mock_bin, certs, 1, s->https_url, sizeof s->https_url);
    if (s->pid[0] <= 0 || s->pid[1] <= 0) { fprintf(stderr, "bench: the mock did not start\n"); exit(1); }
}

/* CPU time the server has used so far, in seconds: nginx's worker, from /proc/PID/schedstat
   (nanoseconds on the CPU, user and kernel, the kernel's own accounting). -1 when unknown (the
   mock, or no /proc). */
BENCH_FN double bench_server_cpu_s(const bench_server *s) {
    char path[64];
    double ns = -1;
    FILE *f;
    if (!s->nginx || s->worker <= 0) return -1;
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)s->worker);
    if (!(f = fopen(path, "r"))) return -1;
    if (fscanf(f, "%lf", &ns) != 1) ns = -1;
    fclose(f);
    return ns < 0 ? -1 : ns * 1e-9;
}

BENCH_FN const char *bench_server_name(const bench_server *s) { return s->nginx ? "nginx" : "llmsplit mock"; }

/* nginx with log_tls: how many HTTPS requests so far resumed a session ("r") and did not (".") */
BENCH_FN void bench_tls_log(const bench_server *s, long *resumed, long *full) {
    char path[128], line[16];
    FILE *f;
    *resumed = *full = 0;
    snprintf(path, sizeof path, "%s/logs/tls.log", s->dir);
    if (!s->nginx || !(f = fopen(path, "r"))) { *resumed = *full = -1; return; }
    while (fgets(line, sizeof line, f)) {
        if (line[0] == 'r') (*resumed)++;
        else if (line[0] == '.') (*full)++;
    }
    fclose(f);
}

BENCH_FN void bench_server_stop(bench_server *s) {
    int i;
    char cmd[128];
    for (i = 0; i < 2; i++)
        if (s->pid[i] > 0) { kill(s->pid[i], SIGTERM); waitpid(s->pid[i], NULL, 0); }
    if (s->nginx) { /* the temporary prefix: conf, logs, pid, empty temp dirs */
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
        if (system(cmd) != 0) fprintf(stderr, "bench: could not remove %s\n", s->dir);
    }
}

#endif
