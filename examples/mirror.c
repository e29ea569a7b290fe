/* mirror.c - LiteLLM's "A/B Testing - Traffic Mirroring" guide, in C.

   Requests to the group "gpt-3.5-turbo" (an Azure deployment) are answered by Azure, and a copy
   of each goes in the background to the group "gpt-4" (OpenAI). The silent answer is recorded
   for comparison, never returned, and never delays or fails the primary.

       export AZURE_API_BASE=https://YOUR.openai.azure.com AZURE_API_VERSION=2024-02-01
       export AZURE_API_KEY=... OPENAI_API_KEY=...
       ./mirror                          prints the answer, then both records */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include <stdio.h>

static const char *config =
    "{\"model_list\": ["
    "  {\"model_name\": \"gpt-3.5-turbo\","
    "   \"litellm_params\": {\"model\": \"azure/chatgpt-v-2\", \"api_key\": \"os.environ/AZURE_API_KEY\","
    "                        \"silent_model\": \"gpt-4\"}},"
    "  {\"model_name\": \"gpt-4\","
    "   \"litellm_params\": {\"model\": \"openai/gpt-4\", \"api_key\": \"os.environ/OPENAI_API_KEY\"}}"
    "]}";

static void on_record(const llmsplit_record *r, const char *json, size_t len, void *user_data) {
    (void)r;
    (void)user_data;
    printf("record: %.*s\n", (int)len, json);
}

int main(void) {
    llmsplit_client_desc desc = {0};
    llmsplit_client *client;
    llmsplit_message messages[1] = {{"user", "How does traffic mirroring work?", 0, NULL, NULL, NULL, NULL}};
    llmsplit_request req = {0};
    llmsplit_result res;
    llmsplit_error err;
    llmsplit_client_stats st;
    desc.config_json = config;
    desc.on_record = on_record;
    if (llmsplit_client_create(&desc, &client, &err) != LLMSPLIT_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    req.group = "gpt-3.5-turbo";
    req.messages = messages;
    req.num_messages = 1;
    if (llmsplit_client_chat(client, &req, &res, &err) == LLMSPLIT_OK)
        printf("answer (%s): %.*s\n", res.model, (int)res.response.text.len, res.response.text.data);
    else
        fprintf(stderr, "%s\n", err.message);
    llmsplit_result_free(&res);
    llmsplit_client_wait_mirrors(client, 30000); /* only so this demo prints the silent record */
    st = llmsplit_client_get_stats(client);
    printf("mirrored %llu, completed %llu, failed %llu\n", (unsigned long long)st.mirrored,
           (unsigned long long)st.mirror_completed, (unsigned long long)st.mirror_failed);
    llmsplit_client_destroy(client);
    return 0;
}
