/* sticky.c - the same user always gets the same arm. Picks are nginx's split_clients: a pure
   function of the user key and the weights, so every process (and an nginx in front) agrees.

       ./sticky CONFIG.json GROUP user-1 user-2 ...   prints the arm each user gets, twice */
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include <stdio.h>

int main(int argc, char **argv) {
    llmsplit_client_desc desc = {0};
    llmsplit_client *client;
    llmsplit_error err;
    int i, round;
    if (argc < 4) {
        fprintf(stderr, "usage: sticky CONFIG.json GROUP USER...\n");
        return 2;
    }
    desc.config_file = argv[1]; /* edit the file while this runs: the next request uses it */
    if (llmsplit_client_create(&desc, &client, &err) != LLMSPLIT_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    for (round = 0; round < 2; round++)
        for (i = 3; i < argc; i++) {
            llmsplit_message m = {"user", "Hello!", 0, NULL, NULL, NULL, NULL};
            llmsplit_request req = {0};
            llmsplit_result res;
            req.group = argv[2];
            req.messages = &m;
            req.num_messages = 1;
            req.user = argv[i];
            if (llmsplit_client_chat(client, &req, &res, &err) == LLMSPLIT_OK)
                printf("%-12s -> %s\n", argv[i], res.model);
            else
                printf("%-12s -> %s (failed: %s)\n", argv[i], res.model, err.message);
            llmsplit_result_free(&res);
        }
    llmsplit_client_destroy(client);
    return 0;
}
