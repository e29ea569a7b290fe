/* wholerun: CPU time (user + system) of two commands run alternately, stdout to /dev/null.

   usage: wholerun N LABEL_A -- CMD_A... -- LABEL_B -- CMD_B...

   Runs A and B in turn N times each and prints the median CPU ms per run of each and the ratio
   B/A (how many times more CPU B takes). CPU time, not wall time, so a busy machine skews it less. */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static double run(char **argv) {
    struct rusage ru;
    int status;
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "wholerun: %s failed\n", argv[0]);
        exit(1);
    }
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int n, i, sep1 = 0, sep2 = 0, sep3 = 0;
    double *ta, *tb;
    if (argc < 7) { fprintf(stderr, "usage: wholerun N LABEL_A -- CMD_A... -- LABEL_B -- CMD_B...\n"); return 2; }
    n = atoi(argv[1]);
    for (i = 3; i < argc; i++)
        if (strcmp(argv[i], "--") == 0) { if (!sep1) sep1 = i; else if (!sep2) sep2 = i; else if (!sep3) sep3 = i; }
    if (!sep1 || !sep2 || !sep3 || n < 1) { fprintf(stderr, "wholerun: bad arguments\n"); return 2; }
    argv[sep2] = NULL;
    ta = calloc((size_t)n, sizeof *ta);
    tb = calloc((size_t)n, sizeof *tb);
    for (i = 0; i < n; i++) {
        ta[i] = run(argv + sep1 + 1);
        tb[i] = run(argv + sep3 + 1);
    }
    qsort(ta, (size_t)n, sizeof *ta, cmp);
    qsort(tb, (size_t)n, sizeof *tb, cmp);
    printf("%-10s %7.2f ms   %-10s %7.2f ms   ratio %.2fx\n", argv[2], ta[n / 2], argv[sep2 + 1], tb[n / 2],
           tb[n / 2] / (ta[n / 2] > 0.001 ? ta[n / 2] : 0.001));
    return 0;
}
