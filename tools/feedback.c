/* `llmsplit feedback`: attaches a number to an earlier call from a shell.

       llmsplit feedback --log FILE REQUEST_ID METRIC VALUE

   Appends {"ts":...,"event":"feedback","request_id":ID,"metric":M,"value":V,"group":null,
   "deployment":null,"model":null} to FILE, the record llmsplit_client_feedback writes for a call
   it does not remember: a shell cannot know which arm answered, and `llmsplit report` finds the
   arm by joining on request_id anyway. One write(2) with O_APPEND, so a line never interleaves
   with the records of a client writing to the same file. The rules are the library's: METRIC is
   1..64 bytes of [A-Za-z0-9_.-], VALUE a finite number (a JSON number, read the same in every
   locale), REQUEST_ID at most 39 bytes (the ids the library makes have 32).

   Included by tools/llmsplit.c after llmsplit.h; everything here but cmd_feedback is static and
   named feedback_*. Uses only the public API. Exit codes (tool.h): 0 ok, 2 usage, 1 the log
   cannot be written. */
#include "tool.h"

#include <fcntl.h>
#include <float.h>
#include <unistd.h>

static const char feedback_usage_text[] =
    "usage: llmsplit feedback --log FILE REQUEST_ID METRIC VALUE\n"
    "  appends a feedback record for an earlier call to the log FILE (the request_id of its\n"
    "  record); `llmsplit report` shows its mean per arm as metrics.\"feedback.METRIC\".\n"
    "  METRIC  a name of 1..64 characters A-Z a-z 0-9 _ . - (thumbs_up, accepted, csat)\n"
    "  VALUE   a finite number (1, 0, 4.5, -2)\n";

static int feedback_metric_ok(const char *m) {
    size_t i;
    for (i = 0; m[i]; i++)
        if (i >= 64 || !((m[i] >= 'a' && m[i] <= 'z') || (m[i] >= 'A' && m[i] <= 'Z') || (m[i] >= '0' && m[i] <= '9') ||
                         m[i] == '_' || m[i] == '.' || m[i] == '-'))
            return 0;
    return i > 0;
}

/* A finite JSON number; the JSON parser is locale-independent, unlike strtod. */
static int feedback_parse_value(const char *text, double *out) {
    llmsplit_json_doc *doc;
    const llmsplit_json_val *v;
    int ok;
    if (llmsplit_json_parse(text, strlen(text), NULL, &doc, NULL) != LLMSPLIT_OK) return 0;
    v = llmsplit_json_root(doc);
    ok = llmsplit_json_type_of(v) == LLMSPLIT_JSON_NUMBER;
    if (ok) *out = llmsplit_json_double(v);
    llmsplit_json_free(doc);
    return ok && *out == *out && *out <= DBL_MAX && *out >= -DBL_MAX;
}


int cmd_feedback(int argc, char **argv) {
    const char *log = NULL, *pos[3];
    int i, npos = 0, fd;
    llmsplit_record r;
    llmsplit_buf line;
    double value;
    ssize_t n;
    for (i = 0; i < argc; i++) {
        if (tool_is_help(argv[i])) return tool_usage(1, "%s", feedback_usage_text);
        if (strcmp(argv[i], "--log") == 0) {
            if (i + 1 >= argc) return tool_fail(LLMSPLIT_ERR_USAGE, "--log needs a FILE");
            log = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return tool_fail(LLMSPLIT_ERR_USAGE, "unknown option %s for feedback", argv[i]);
        } else if (npos == 3) {
            return tool_fail(LLMSPLIT_ERR_USAGE, "feedback takes REQUEST_ID METRIC VALUE (got a fourth: %s)", argv[i]);
        } else {
            pos[npos++] = argv[i]; /* "-1" is a VALUE, not an option */
        }
    }
    if (!log || npos < 3) return tool_usage(0, "%s", feedback_usage_text);
    if (!pos[0][0] || strlen(pos[0]) > 39)
        return tool_fail(LLMSPLIT_ERR_USAGE, "REQUEST_ID must have 1..39 characters");
    if (!feedback_metric_ok(pos[1]))
        return tool_fail(LLMSPLIT_ERR_USAGE, "METRIC must be a name of 1..64 characters A-Z a-z 0-9 _ . - (got '%s')", pos[1]);
    if (!feedback_parse_value(pos[2], &value))
        return tool_fail(LLMSPLIT_ERR_USAGE, "VALUE must be a finite number (got '%s')", pos[2]);

    memset(&r, 0, sizeof r);
    r.event = "feedback";
    snprintf(r.request_id, sizeof r.request_id, "%s", pos[0]);
    r.metric = pos[1];
    r.value = value;
    r.deployment = -1;
    llmsplit_buf_init(&line, NULL);
    if (llmsplit_record_json(&r, &line) == LLMSPLIT_OK) llmsplit_buf_append(&line, "\n", 1);
    if (line.failed || !line.len) {
        llmsplit_buf_free(&line);
        return tool_fail(LLMSPLIT_ERR_NOMEM, "out of memory");
    }
    if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0) {
        tool_say("output", "cannot open %s: %s", log, strerror(errno));
        llmsplit_buf_free(&line);
        return EXIT_OTHER;
    }
    n = write(fd, line.data, line.len);
    if (n != (ssize_t)line.len || close(fd) != 0) {
        int rc = tool_fail_output();
        llmsplit_buf_free(&line);
        return rc;
    }
    llmsplit_buf_free(&line);
    return EXIT_OK;
}
