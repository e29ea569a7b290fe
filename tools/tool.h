/* tool.h - what every command of the llmsplit tool shares: the exit codes, the one
   error printer, the exit code of each llmsplit_status, reading a whole file, and the usage
   helpers.

   Every .c file in tools/ includes this file first, so each compiles on its own (`make
   check-tools`). tools/llmsplit.c defines LLMSPLIT_IMPLEMENTATION, includes llmsplit.h and then
   the other .c files into one program; the guard keeps one copy of this file there. Everything
   here is static (marked unused, so a file that needs only part of it compiles without
   warnings) and uses only the public API of llmsplit.h. */
#ifndef LLMSPLIT_TOOL_H
#define LLMSPLIT_TOOL_H

#include "../llmsplit.h" /* first: it asks for POSIX before any system header under -std=c99 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

/* TOOL_FN: a static function that a file may leave unused (also route.c's, which chat.c and
   replay.c share). */
#if defined(__GNUC__) || defined(__clang__)
#define TOOL_UNUSED __attribute__((unused))
#define TOOL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TOOL_UNUSED
#define TOOL_PRINTF(fmt, args)
#endif
#define TOOL_FN static TOOL_UNUSED

/* Exit codes, the same for every command. */
enum {
    EXIT_OK = 0,
    EXIT_OTHER = 1,    /* anything else: invalid JSON for `json`, output or memory failures */
    EXIT_USAGE = 2,    /* usage or config */
    EXIT_NET = 3,      /* network or TLS */
    EXIT_PROVIDER = 4, /* the provider answered with an error status */
    EXIT_RESPONSE = 5, /* the answer is not a usable completion */
    EXIT_WORSE = 6     /* report --fail-on worse: an arm's verdict is "worse" */
};

/* Largest input read whole into memory: a prompt from stdin, a JSONL file of requests, a JSON
   document from a pipe. */
#define TOOL_MAX_FILE ((size_t)1 << 30)

/* The commands: each takes the arguments after its name and returns the exit code. Not static,
   so that a file compiled on its own does not warn about its unused command. */
int cmd_json(int argc, char **argv);   /* llmsplit.c */
int cmd_chat(int argc, char **argv);   /* chat.c */
int cmd_replay(int argc, char **argv); /* replay.c */
int cmd_bench(int argc, char **argv);  /* replay.c */
int cmd_pick(int argc, char **argv);   /* pick.c */
int cmd_report(int argc, char **argv); /* report.c */
int cmd_feedback(int argc, char **argv); /* feedback.c */
int cmd_mock(int argc, char **argv);   /* mock.c */
int cmd_serve(int argc, char **argv);  /* serve.c */

/* ---- errors ------------------------------------------------------------------------------ */

/* The one printer: "llmsplit: CATEGORY: MESSAGE" and a newline on stderr, MESSAGE formatted as
   by printf. The stream stays locked for the line so that threads do not interleave. */
TOOL_FN void tool_vsay(const char *category, const char *fmt, va_list ap) {
    flockfile(stderr);
    fprintf(stderr, "llmsplit: %s: ", category);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    funlockfile(stderr);
}

/* A line in a category of the tool's own ("warning", "output"). */
TOOL_FN TOOL_PRINTF(2, 3) void tool_say(const char *category, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tool_vsay(category, fmt, ap);
    va_end(ap);
}

/* The exit code for a status . */
TOOL_FN int tool_exit_for(llmsplit_status code) {
    switch (code) {
    case LLMSPLIT_OK: return EXIT_OK;
    case LLMSPLIT_ERR_USAGE: case LLMSPLIT_ERR_CONFIG: return EXIT_USAGE;
    case LLMSPLIT_ERR_NETWORK: case LLMSPLIT_ERR_TLS: return EXIT_NET;
    case LLMSPLIT_ERR_PROVIDER: return EXIT_PROVIDER;
    case LLMSPLIT_ERR_RESPONSE: case LLMSPLIT_ERR_HTTP: return EXIT_RESPONSE;
    default: return EXIT_OTHER;
    }
}

/* Prints "llmsplit: <llmsplit_strerror(code)>: MESSAGE" and returns code's exit code:
   `return tool_fail(LLMSPLIT_ERR_USAGE, "unknown option %s for json", a);` */
TOOL_FN TOOL_PRINTF(2, 3) int tool_fail(llmsplit_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tool_vsay(llmsplit_strerror(code), fmt, ap);
    va_end(ap);
    return tool_exit_for(code);
}

/* An error from the library, in its category; returns the exit code. Library messages used to
   begin with their category ("tls: ..."); until none does, such a prefix is dropped here rather
   than printed twice. */
TOOL_FN int tool_fail_error(const llmsplit_error *err) {
    const char *cat = llmsplit_strerror(err->code), *msg = err->message;
    size_t n = strlen(cat);
    if (strncmp(msg, cat, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') msg += n + 2;
    return tool_fail(err->code, "%s", msg);
}

/* Writing the results failed (a full disk, a closed pipe): errno says why. */
TOOL_FN int tool_fail_output(void) {
    tool_say("output", "%s", strerror(errno));
    return EXIT_OTHER;
}

/* ---- files ------------------------------------------------------------------------------- */

/* Reads the file at path whole ("-" reads stdin) into a malloc'd buffer with a NUL after the
   *len bytes. At most max bytes (max < SIZE_MAX / 2): a larger input is refused rather than
   read in part. On failure returns NULL with errno set and the reason in why (why_cap bytes):
   the system's words, or "larger than MAX bytes". A regular file is read in one go at its
   size; a pipe grows the buffer as data comes. */
TOOL_FN char *tool_read_file(const char *path, size_t max, size_t *len, char *why, size_t why_cap) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct stat st;
    size_t cap = max + 2 < 65536 ? max + 2 : 65536, n = 0;
    char *buf = NULL;
    int e = 0;
    if (!f) e = errno;
    else if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) e = EISDIR;
        else if (S_ISREG(st.st_mode) && st.st_size > 0) /* the size, the NUL, one byte to see the end */
            cap = (unsigned long long)st.st_size < max ? (size_t)st.st_size + 2 : max + 2;
    }
    if (!e && !(buf = (char *)malloc(cap))) e = ENOMEM;
    while (!e) {
        size_t got;
        if (n > max) { e = EFBIG; break; }
        if (cap - n < 2) {
            size_t ncap = cap > max / 2 ? max + 2 : cap * 2;
            char *nb = (char *)realloc(buf, ncap);
            if (!nb) { e = ENOMEM; break; }
            buf = nb;
            cap = ncap;
        }
        errno = 0;
        got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) e = errno ? errno : EIO;
            break;
        }
    }
    if (f && f != stdin) fclose(f);
    if (e) {
        free(buf);
        if (e == EFBIG) snprintf(why, why_cap, "larger than %llu bytes", (unsigned long long)max);
        else snprintf(why, why_cap, "%s", strerror(e));
        errno = e;
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

/* ---- usage ------------------------------------------------------------------------------- */

/* -h or --help. */
TOOL_FN int tool_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

/* A command's usage text (formatted as by printf). Asked for with --help it goes to stdout and
   the command succeeds; shown because the arguments were wrong, it goes to stderr and the exit
   code is EXIT_USAGE. */
TOOL_FN TOOL_PRINTF(2, 3) int tool_usage(int asked, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(asked ? stdout : stderr, fmt, ap);
    va_end(ap);
    return asked ? EXIT_OK : EXIT_USAGE;
}

/* A listening TCP socket on host:port (port "0": the kernel picks one), the first address of
   host that binds; its bound address in *sa. Returns the descriptor, or -1 with the reason in
   err (the mock and serve share it). */
TOOL_FN int tool_listen(const char *host, const char *port, int backlog, struct sockaddr_storage *sa, char *err,
                        size_t cap) {
    struct addrinfo hints, *res = NULL, *ai;
    socklen_t salen = sizeof *sa;
    int rc, fd = -1, one = 1, saved = 0;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, cap, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) { saved = errno; continue; }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0) break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0 || getsockname(fd, (struct sockaddr *)sa, &salen) != 0) {
        snprintf(err, cap, "cannot listen on %s port %s: %s", host, port, strerror(fd < 0 ? saved : errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

#endif /* LLMSPLIT_TOOL_H */
