/* read_completion: pull the answer and token counts out of an OpenAI-style chat completion.

   usage: read_completion [FILE]     (stdin when no FILE)

   Shows the JSON layer: parse once, then read fields by path. */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    FILE *f = argc > 1 ? fopen(argv[1], "rb") : stdin;
    static char text[1 << 20];
    size_t len, n;
    llmsplit_error err;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *root, *content;
    const char *s;
    if (!f) { perror(argv[1]); return 2; }
    len = fread(text, 1, sizeof text, f);
    if (f != stdin) fclose(f);

    if (llmsplit_json_parse(text, len, NULL, &doc, &err) != LLMSPLIT_OK) {
        fprintf(stderr, "not JSON: %d:%d: %s\n", err.line, err.col, err.message);
        return 1;
    }
    root = llmsplit_json_root(doc);
    content = llmsplit_json_path(root, "choices[0].message.content");
    s = llmsplit_json_str(content, &n);
    if (!s) {
        fprintf(stderr, "no choices[0].message.content in this response\n");
        llmsplit_json_free(doc);
        return 1;
    }
    printf("answer: %.*s\n", (int)n, s);
    printf("finish_reason: %s\n", llmsplit_json_str(llmsplit_json_path(root, "choices[0].finish_reason"), NULL));
    printf("tokens: %lld prompt + %lld completion\n",
           (long long)llmsplit_json_int(llmsplit_json_path(root, "usage.prompt_tokens")),
           (long long)llmsplit_json_int(llmsplit_json_path(root, "usage.completion_tokens")));
    llmsplit_json_free(doc);
    return 0;
}
