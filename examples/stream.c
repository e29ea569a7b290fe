/* stream.c - print an answer as it arrives, from any provider.

       ./stream MODEL "PROMPT"        e.g. ./stream gpt-4o-mini "Tell me a joke"
                                      or   ./stream anthropic/claude-3-5-haiku-latest "..." */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include <stdio.h>

static int on_delta(const char *text, size_t len, void *user_data) {
    (void)user_data;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return 0; /* nonzero would stop the stream */
}

int main(int argc, char **argv) {
    llmsplit_http *http;
    llmsplit_chat_request req = {0};
    llmsplit_chat_response resp;
    llmsplit_error err;
    llmsplit_message m = {"user", NULL, 0, NULL, NULL, NULL, NULL};
    if (argc < 3) {
        fprintf(stderr, "usage: stream MODEL PROMPT\n");
        return 2;
    }
    if (llmsplit_http_create(NULL, &http, &err) != LLMSPLIT_OK) {
        fprintf(stderr, "llmsplit: %s: %s\n", llmsplit_strerror(err.code), err.message);
        return 1;
    }
    m.content = argv[2];
    req.model = argv[1];
    req.messages = &m;
    req.num_messages = 1;
    req.stream = 1;
    req.on_delta = on_delta;
    if (llmsplit_chat(http, &req, &resp, &err) != LLMSPLIT_OK) {
        fprintf(stderr, "\n%s\n", err.message);
    } else {
        printf("\n[%s, first token after %.0f ms, %lld+%lld tokens]\n", resp.model, resp.ttft_ms,
               (long long)resp.prompt_tokens, (long long)resp.completion_tokens);
    }
    llmsplit_chat_response_free(&resp);
    llmsplit_http_destroy(http);
    return 0;
}
