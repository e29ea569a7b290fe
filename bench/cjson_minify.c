/* The reference for `llmsplit json FILE`: the same job done with cJSON (read the file, parse,
   print unformatted with a newline). Used by bench/run.sh for whole-run comparisons. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    FILE *f;
    char *buf, *out;
    long n;
    cJSON *root;
    int check = argc > 2 && strcmp(argv[1], "--check") == 0;
    if (argc < 2) return 2;
    f = fopen(argv[argc - 1], "rb");
    if (!f) return 2;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (char *)malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) return 2;
    fclose(f);
    buf[n] = 0;
    root = cJSON_ParseWithLength(buf, (size_t)n);
    if (!root) { fprintf(stderr, "invalid JSON\n"); return 1; }
    if (!check) {
        out = cJSON_PrintUnformatted(root);
        if (!out) return 1;
        fputs(out, stdout);
        fputc('\n', stdout);
        cJSON_free(out);
    }
    cJSON_Delete(root);
    free(buf);
    return 0;
}
