/* Starts `llmsplit mock` (build/llmsplit or $LLMSPLIT_TOOL) for integration tests and reads its
   "listening on URL" line. Shared by the tests that talk to the mock. */
#ifndef LLMSPLIT_TEST_MOCK_H
#define LLMSPLIT_TEST_MOCK_H
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct mock { pid_t pid; char url[300]; } mock;

/* Starts the mock with extra arguments (NULL-terminated) and reads its "listening on" line. */
static int mock_start(mock *m, int tls, const char *const *extra) {
    const char *tool = getenv("LLMSPLIT_TOOL") ? getenv("LLMSPLIT_TOOL") : "build/llmsplit";
    const char *argv[24];
    char line[256];
    int fds[2], n = 0, i;
    FILE *f;
    argv[n++] = tool;
    argv[n++] = "mock";
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    if (tls) {
        argv[n++] = "--tls-cert";
        argv[n++] = "tests/certs/leaf-ecdsa-chain.pem";
        argv[n++] = "--tls-key";
        argv[n++] = "tests/certs/leaf-ecdsa.key";
    }
    for (i = 0; extra && extra[i] && n < 22; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    if (access(tool, X_OK) != 0 || pipe(fds) != 0) return 0;
    m->pid = fork();
    if (m->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execv(tool, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f) || strncmp(line, "listening on ", 13) != 0) {
        if (f) fclose(f);
        kill(m->pid, SIGTERM);
        waitpid(m->pid, NULL, 0);
        return 0;
    }
    fclose(f);
    line[strcspn(line, "\r\n")] = 0;
    /* name the host so the certificate's DNS name is what gets checked */
    if (tls) snprintf(m->url, sizeof m->url, "https://localhost%s", strstr(line, "127.0.0.1") + 9);
    else snprintf(m->url, sizeof m->url, "%s", line + 13);
    return 1;
}

static void mock_stop(mock *m) {
    kill(m->pid, SIGTERM);
    waitpid(m->pid, NULL, 0);
}

#endif
