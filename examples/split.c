/* split.c - LiteLLM's tutorial "Split traffic between GPT-4 and Llama2 in production", in C.

   Routes 80% of requests to GPT-4 and 20% to a Llama2 endpoint on Hugging Face. If Llama2 gives
   poor or slow answers, change the weights (or let a config file's rollback settings do it).

       export OPENAI_API_KEY=...            (the GPT-4 arm)
       export HUGGINGFACE_API_KEY=...       (the Llama2 arm)
       ./split                              one request
       ./split 100                          a hundred, and the share each arm got

   LLAMA2_ENDPOINT overrides the endpoint URL (make demo points it at the local mock). */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    char llama2[600];
    const char *endpoint = getenv("LLAMA2_ENDPOINT");
    const char *models[2];
    double weights[2] = {0.8, 0.2}; /* route 20% of responses to Llama2 */
    llmsplit_message messages[1] = {{"user", "Hello, how are you?", 0, NULL, NULL, NULL, NULL}};
    int i, n = argc > 1 ? atoi(argv[1]) : 1, to_gpt4 = 0, failed = 0;
    snprintf(llama2, sizeof llama2, "huggingface/%s",
             endpoint ? endpoint : "https://my-unique-endpoint.us-east-1.aws.endpoints.huggingface.cloud");
    models[0] = "gpt-4";
    models[1] = llama2;
    for (i = 0; i < n; i++) {
        llmsplit_result r;
        llmsplit_error err;
        if (llmsplit_completion_with_split_tests(models, weights, 2, messages, 1, &r, &err) != LLMSPLIT_OK) {
            fprintf(stderr, "%s (arm %s)\n", err.message, r.model);
            failed++;
        } else {
            if (n == 1) printf("%s answered: %.*s\n", r.model, (int)r.response.text.len, r.response.text.data);
            to_gpt4 += strcmp(r.model, "gpt-4") == 0;
        }
        llmsplit_result_free(&r);
    }
    llmsplit_completion_cleanup(); /* the client kept for the split: its connections and thread */
    if (n > 1) printf("%d requests: %d to gpt-4 (%.0f%%), %d to llama2, %d failed\n", n, to_gpt4, 100.0 * to_gpt4 / n,
                      n - to_gpt4 - failed, failed);
    return failed == n;
}
