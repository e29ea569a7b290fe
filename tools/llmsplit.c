/* llmsplit - the command-line tool. Uses only the public API of llmsplit.h.

   One program from one translation unit: this file includes the other .c files of tools/. The exit
   codes, the error printer and the helpers they share are in tools/tool.h. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* serve: MAP_ANONYMOUS, MAP_NORESERVE, madvise */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "tool.h"
#include "mock.c"

#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

/* A regular file is mapped rather than read: no copy of it is made, and the parser reads it
   once. Anything else (stdin, pipes) is read whole, up to TOOL_MAX_FILE. *mapped says which
   one to release. */
static char *load_input(const char *path, size_t *len, int *mapped, char *why, size_t why_cap) {
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
    return tool_read_file(path, TOOL_MAX_FILE, len, why, why_cap);
}

static void release_input(char *text, size_t len, int mapped) {
    if (mapped) munmap(text, len);
    else free(text);
}

static const char json_usage_text[] =
    "usage: llmsplit json [--check] [--yaml] FILE   (FILE '-' reads stdin)\n"
    "  validates FILE as strict JSON (RFC 8259); prints it minified unless --check.\n"
    "  FILE.yaml, FILE.yml (or --yaml): reads it as YAML, as LiteLLM's config.yaml is read,\n"
    "  and prints the JSON it reads as, so you see how each value was taken.\n"
    "  exit 0 valid, 1 invalid (the error as line:col: message, FILE:line:col: for YAML)\n";

/* FILE.yaml and FILE.yml are YAML. */
static int is_yaml_path(const char *path) {
    size_t n = strlen(path);
    return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) || (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

int cmd_json(int argc, char **argv) {
    const char *path = NULL;
    int check = 0, yaml = 0, i, rc = EXIT_OK, mapped = 0;
    char *text, why[128];
    size_t len;
    llmsplit_json_doc *doc;
    llmsplit_error err;
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0) check = 1;
        else if (strcmp(argv[i], "--yaml") == 0) yaml = 1;
        else if (tool_is_help(argv[i])) return tool_usage(1, "%s", json_usage_text);
        else if (argv[i][0] == '-' && argv[i][1] != 0) return tool_fail(LLMSPLIT_ERR_USAGE, "unknown option %s for json", argv[i]);
        else if (path) return tool_fail(LLMSPLIT_ERR_USAGE, "json takes one FILE (got a second: %s)", argv[i]);
        else path = argv[i];
    }
    if (!path) return tool_usage(0, "%s", json_usage_text);
    text = load_input(path, &len, &mapped, why, sizeof why);
    if (!text) return tool_fail(LLMSPLIT_ERR_USAGE, "cannot read %s: %s", path, why);
    yaml = yaml || is_yaml_path(path);
    if ((yaml ? llmsplit_yaml_parse(text, len, NULL, &doc, &err) : llmsplit_json_parse(text, len, NULL, &doc, &err)) != LLMSPLIT_OK) {
        if (yaml && err.line) tool_fail(err.code, "%s:%d:%d: %s", path, err.line, err.col, err.message);
        else if (err.code == LLMSPLIT_ERR_JSON) tool_fail(err.code, "%d:%d: %s", err.line, err.col, err.message);
        else tool_fail(err.code, "%s", err.message);
        release_input(text, len, mapped);
        return EXIT_OTHER; /* whatever the category: `json` exits 1 for any invalid input */
    }
    if (!check) {
        llmsplit_json_writer w;
        const char *out;
        size_t out_len;
        llmsplit_json_writer_init(&w, NULL);
        llmsplit_buf_reserve(&w.buf, len + 1);
        llmsplit_json_write_value(&w, llmsplit_json_root(doc));
        if (llmsplit_json_writer_result(&w, &out, &out_len, &err) != LLMSPLIT_OK) {
            tool_fail_error(&err);
            rc = EXIT_OTHER;
        } else if (fwrite(out, 1, out_len, stdout) != out_len || fputc('\n', stdout) == EOF ||
                   fflush(stdout) != 0) {
            rc = tool_fail_output();
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
#include "feedback.c"
#define LLMSPLIT_SERVE_UI /* serve.c hands /config, /stats and /ui to ui.c */
#include "serve.c"
#include "ui.c"

static const char usage_text[] =
    "llmsplit " LLMSPLIT_VERSION " - A/B testing and traffic mirroring for LLM calls\n"
    "usage: llmsplit COMMAND [options]\n"
    "commands:\n"
    "  chat [options] PROMPT  one chat completion (--model M, --split M=W, --silent M; see --help)\n"
    "  replay [options] FILE  send a JSONL file of requests through the split, N at a time\n"
    "  bench [options] [PROMPT]  N requests, C at a time: req/s and p50/p95/p99 per arm\n"
    "  pick --split M=W ... [--user KEY]...  which arm each key gets (nginx split_clients)\n"
    "  report LOG [--html F]  the A/B comparison per group and arm, primary vs silent\n"
    "  feedback --log F ID METRIC VALUE  append a number for an earlier call (thumbs_up 1)\n"
    "  json [--check] FILE    validate JSON strictly; print it minified\n"
    "  serve --config F [--listen HOST:PORT] [--log F]  an OpenAI-compatible gateway (default\n"
    "                         127.0.0.1:4000, LiteLLM's port): any OpenAI SDK, the config's split\n"
    "  mock [--listen HOST:PORT] [--tls-cert F --tls-key F] [--latency MODEL=MS] [--fail MODEL=RATE]\n"
    "                         run a local mock LLM provider (OpenAI, Azure, Anthropic, Ollama)\n"
    "run 'llmsplit COMMAND --help' for a command's options\n";

int main(int argc, char **argv) {
    if (argc < 2) return tool_usage(0, "%s", usage_text);
    if (strcmp(argv[1], "json") == 0) return cmd_json(argc - 2, argv + 2);
    if (strcmp(argv[1], "chat") == 0) return cmd_chat(argc - 2, argv + 2);
    if (strcmp(argv[1], "replay") == 0) return cmd_replay(argc - 2, argv + 2);
    if (strcmp(argv[1], "bench") == 0) return cmd_bench(argc - 2, argv + 2);
    if (strcmp(argv[1], "pick") == 0) return cmd_pick(argc - 2, argv + 2);
    if (strcmp(argv[1], "report") == 0) return cmd_report(argc - 2, argv + 2);
    if (strcmp(argv[1], "feedback") == 0) return cmd_feedback(argc - 2, argv + 2);
    if (strcmp(argv[1], "mock") == 0) return cmd_mock(argc - 2, argv + 2);
    if (strcmp(argv[1], "serve") == 0) return cmd_serve(argc - 2, argv + 2);
    if (strcmp(argv[1], "--version") == 0) { puts("llmsplit " LLMSPLIT_VERSION); return EXIT_OK; }
    if (tool_is_help(argv[1])) return tool_usage(1, "%s", usage_text);
    return tool_fail(LLMSPLIT_ERR_USAGE, "unknown command '%s' (try llmsplit --help)", argv[1]);
}
