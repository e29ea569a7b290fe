/* The implementation half of test_layout: built with tiny limits, as a user who defines them
   only before the implementation include would. Every public struct must still have the layout
   the other file (built with the defaults) sees; llmsplit__layout_sizes lets it check. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_JSON_MAX_DEPTH 4
#define LLMSPLIT_HTTP_MAX_HEADERS 3
#define LLMSPLIT_HTTP_MAX_HEADER_BYTES 1024
#define LLMSPLIT_SSE_MAX_EVENT_BYTES 64
#define LLMSPLIT_CONFIG_MAX_DEPLOYMENTS 8
#define LLMSPLIT_POOL_MAX_THREADS 4
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"

size_t layout_impl_sizes[12] = {
    sizeof(llmsplit_error), sizeof(llmsplit_json_writer), sizeof(llmsplit_json_desc), sizeof(llmsplit_url),
    sizeof(llmsplit_http_response), sizeof(llmsplit_http_parser), sizeof(llmsplit_http_desc),
    sizeof(llmsplit_route), sizeof(llmsplit_sse_parser), sizeof(llmsplit_config), sizeof(llmsplit_result),
    sizeof(llmsplit_client_desc)};
