/* llmsplit - the command-line tool (DESIGN §12). Uses only the public API of llmsplit.h.

   Exit codes: 0 ok, 1 anything else (e.g. invalid JSON for `json`), 2 usage or config,
   3 network or TLS, 4 provider error status, 5 unusable response.
   Errors go to stderr as "llmsplit: <category>: <message>". */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "mock.c"

#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_OTHER = 1, EXIT_USAGE = 2, EXIT_NET = 3, EXIT_PROVIDER = 4, EXIT_RESPONSE = 5 };

static int fail(int code, const char *category, const char *fmt, const char *arg) {
    fprintf(stderr, "llmsplit: %s: ", category);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return code;
}

/* Reads a whole file (or stdin for "-"). Returns NULL with errno set on failure. A regular
   file is read in one go at its size; pipes grow the buffer as data comes. */
static char *read_all(const char *path, size_t *len) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    struct stat st;
    size_t cap = 1 << 16, n = 0;
    char *buf;
    if (!f) return NULL;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) cap = (size_t)st.st_size + 1;
    buf = (char *)malloc(cap);
    while (buf) {
        size_t got;
        if (n == cap) {
            char *nb = (char *)realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; errno = ENOMEM; break; }
            buf = nb;
            cap *= 2;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) { free(buf); buf = NULL; errno = EIO; }
            break;
        }
    }
    if (f != stdin) fclose(f);
    *len = n;
    return buf;
}

/* A regular file is mapped rather than read: no copy of it is made, and the parser reads it
   once. Anything else (stdin, pipes) is read whole. *mapped says which one to release. */
static char *load_input(const char *path, size_t *len, int *mapped) {
    struct stat st;
    int fd;
    void *p;
    *mapped = 0;
    if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY)) >= 0) {
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            (p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) != MAP_FAILED) {
            close(fd);
            *mapped = 1;
            *len = (size_t)st.st_size;
            return (char *)p;
        }
        close(fd);
    }
    return read_all(path, len);
}

static void release_input(char *text, size_t len, int mapped) {
    if (mapped) munmap(text, len);
    else free(text);
}

static int usage_json(void) {
    fprintf(stderr, "usage: llmsplit json [--check] FILE   (FILE '-' reads stdin)\n"
                    "  validates FILE as strict JSON (RFC 8259); prints it minified unless --check.\n"
                    "  exit 0 valid, 1 invalid (the error as line:col: message on stderr)\n");
    return EXIT_USAGE;
}

static int cmd_json(int argc, char **argv) {
    const char *path = NULL;
    int check = 0, i, rc = EXIT_OK, mapped = 0;
    char *text;
    size_t len;
    llmsplit_json_doc *doc;
    llmsplit_json_error err;
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) check = 1;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return usage_json();
        else if (argv[i][0] == '-' && argv[i][1] != 0) return fail(EXIT_USAGE, "usage", "unknown option %s for json", argv[i]);
        else if (path) return fail(EXIT_USAGE, "usage", "json takes one FILE (got a second: %s)", argv[i]);
        else path = argv[i];
    }
    if (!path) return usage_json();
    text = load_input(path, &len, &mapped);
    if (!text) {
        fprintf(stderr, "llmsplit: usage: cannot read %s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    doc = llmsplit_json_parse(text, len, NULL, &err);
    if (!doc) {
        if (err.code == LLMSPLIT_ERR_JSON)
            fprintf(stderr, "llmsplit: json: %d:%d: %s\n", err.line, err.col, err.message);
        else
            fprintf(stderr, "llmsplit: %s: %s\n", llmsplit_strerror(err.code), err.message);
        release_input(text, len, mapped);
        return EXIT_OTHER;
    }
    if (!check) {
        llmsplit_json_writer w;
        const char *out;
        size_t out_len;
        llmsplit_json_writer_init(&w, NULL);
        llmsplit_buf_reserve(&w.buf, len + 1);
        llmsplit_json_write_value(&w, llmsplit_json_root(doc));
        out = llmsplit_json_writer_result(&w, &out_len);
        if (!out) {
            fprintf(stderr, "llmsplit: %s: %s\n", llmsplit_strerror(w.err ? w.err : LLMSPLIT_ERR_NOMEM),
                    w.err_message ? w.err_message : "out of memory");
            rc = EXIT_OTHER;
        } else if (fwrite(out, 1, out_len, stdout) != out_len || fputc('\n', stdout) == EOF ||
                   fflush(stdout) != 0) {
            fprintf(stderr, "llmsplit: output: %s\n", strerror(errno));
            rc = EXIT_OTHER;
        }
        llmsplit_json_writer_free(&w);
    }
    llmsplit_json_free(doc);
    release_input(text, len, mapped);
    return rc;
}

#include "route.c"
#include "chat.c"
#include "replay.c"
#include "pick.c"
#include "report.c"

static int usage(void) {
    fprintf(stderr,
            "llmsplit " LLMSPLIT_VERSION " - A/B testing and traffic mirroring for LLM calls\n"
            "usage: llmsplit COMMAND [options]\n"
            "commands:\n"
            "  chat [options] PROMPT  one chat completion (--model M, --split M=W, --silent M; see --help)\n"
            "  replay [options] FILE  send a JSONL file of requests through the split, N at a time\n"
            "  bench [options] [PROMPT]  N requests, C at a time: req/s and p50/p95/p99 per arm\n"
            "  pick --split M=W ... [--user KEY]...  which arm each key gets (nginx split_clients)\n"
            "  report LOG [--html F]  the A/B comparison per group and arm, primary vs silent\n"
            "  json [--check] FILE    validate JSON strictly; print it minified\n"
            "  mock [--listen HOST:PORT] [--tls-cert F --tls-key F] [--latency MODEL=MS] [--fail MODEL=RATE]\n"
            "                         run a local mock LLM provider (OpenAI, Azure, Anthropic, Ollama)\n"
            "run 'llmsplit COMMAND --help' for a command's options\n");
    return EXIT_USAGE;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    if (strcmp(argv[1], "json") == 0) return cmd_json(argc - 2, argv + 2);
    if (strcmp(argv[1], "chat") == 0) return cmd_chat(argc - 2, argv + 2);
    if (strcmp(argv[1], "replay") == 0) return cmd_replay(argc - 2, argv + 2);
    if (strcmp(argv[1], "bench") == 0) return cmd_bench(argc - 2, argv + 2);
    if (strcmp(argv[1], "pick") == 0) return cmd_pick(argc - 2, argv + 2);
    if (strcmp(argv[1], "report") == 0) return cmd_report(argc - 2, argv + 2);
    if (strcmp(argv[1], "mock") == 0) return cmd_mock(argc - 2, argv + 2);
    if (strcmp(argv[1], "--version") == 0) { puts("llmsplit " LLMSPLIT_VERSION); return EXIT_OK; }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) { usage(); return EXIT_OK; }
    return fail(EXIT_USAGE, "usage", "unknown command '%s' (try llmsplit --help)", argv[1]);
}
