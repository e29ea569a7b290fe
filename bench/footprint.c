/* Memory a client uses: at rest (config, pools, threads' bookkeeping) and per request in flight
   (heap through the client's allocator, which every layer uses, BearSSL buffers included).

   usage: footprint MOCK_BINARY CERT_DIR

   A counting allocator in the desc measures current and peak heap bytes. The mock answers over
   HTTPS (the test PKI), so a request's peak includes a TLS connection's contexts and buffers. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static size_t cur, peak, count;

/* each block carries its size in front, so free can subtract it */
static void *count_alloc(size_t n, void *ud) {
    size_t *p = (size_t *)malloc(n + 16);
    (void)ud;
    if (!p) return NULL;
    p[0] = n;
    __atomic_add_fetch(&count, 1, __ATOMIC_SEQ_CST);
    if (__atomic_add_fetch(&cur, n, __ATOMIC_SEQ_CST) > __atomic_load_n(&peak, __ATOMIC_SEQ_CST))
        __atomic_store_n(&peak, cur, __ATOMIC_SEQ_CST);
    return (char *)p + 16;
}

static void count_free(void *q, void *ud) {
    size_t *p = (size_t *)((char *)q - 16);
    (void)ud;
    __atomic_sub_fetch(&cur, p[0], __ATOMIC_SEQ_CST);
    free(p);
}

int main(int argc, char **argv) {
    int fds[2];
    pid_t pid;
    char line[256], url[300], cert[512], key[512], ca[512], cfg[2048];
    FILE *f;
    llmsplit_client_desc d;
    llmsplit_client *c;
    llmsplit_error err;
    llmsplit_message m = {"user", "Hello, how are you?", 0, NULL, NULL, NULL, NULL};
    llmsplit_request rq;
    llmsplit_result r;
    size_t at_rest, before, after_first, i;
    if (argc < 3) { fprintf(stderr, "usage: footprint MOCK_BINARY CERT_DIR\n"); return 2; }
    snprintf(cert, sizeof cert, "%s/leaf-ecdsa-chain.pem", argv[2]);
    snprintf(key, sizeof key, "%s/leaf-ecdsa.key", argv[2]);
    snprintf(ca, sizeof ca, "%s/root-ca.pem", argv[2]);
    if (pipe(fds) != 0) return 1;
    if ((pid = fork()) == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        execl(argv[1], argv[1], "mock", "--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    if (!f || !fgets(line, sizeof line, f) || !strstr(line, "127.0.0.1")) { fprintf(stderr, "footprint: no mock\n"); return 1; }
    line[strcspn(line, "\r\n")] = 0;
    snprintf(url, sizeof url, "https://localhost%s", strstr(line, "127.0.0.1") + 9);
    snprintf(cfg, sizeof cfg,
             "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"gpt-4\",\"api_base\":\"%s/v1\",\"weight\":0.8}},"
             "{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"openai/llama2\",\"api_base\":\"%s/v1\",\"weight\":0.2}}]}",
             url, url);
    memset(&d, 0, sizeof d);
    d.config_json = cfg;
    d.http.ca_file = ca;
    d.http.proxy = "";
    d.allocator.alloc_fn = count_alloc;
    d.allocator.free_fn = count_free;
    if (llmsplit_client_create(&d, &c, &err) != LLMSPLIT_OK) { fprintf(stderr, "footprint: %s\n", err.message); return 1; }
    at_rest = cur;
    memset(&rq, 0, sizeof rq);
    rq.group = "chat";
    rq.messages = &m;
    rq.num_messages = 1;
    before = cur;
    peak = cur;
    llmsplit_client_chat(c, &rq, &r, &err);
    llmsplit_result_free(&r);
    after_first = cur; /* the kept-alive connection and the loaded trust anchors stay */
    printf("client at rest (config, 2 HTTP clients, mirror pool): %zu bytes of heap\n", at_rest);
    printf("first HTTPS request: peak %zu bytes above rest (TLS connection with its BearSSL buffers, CA\n"
           "  anchors, request and answer); %zu bytes stay for the kept-alive connection and anchors\n",
           peak - before, after_first - before);
    peak = cur;
    before = cur;
    for (i = 0; i < 1000; i++) {
        llmsplit_client_chat(c, &rq, &r, &err);
        llmsplit_result_free(&r);
    }
    printf("later requests on kept-alive connections: peak %zu bytes above rest per request in flight, "
           "%zu allocations per request, %ld bytes growth over 1000 requests\n",
           peak - before, count / 1001, (long)cur - (long)before);
    llmsplit_client_destroy(c);
    printf("after destroy: %zu bytes still allocated\n", cur);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return cur != 0;
}
