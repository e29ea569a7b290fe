/* Limit macros never change a public struct's layout. This file is built with the default
   limits and tests/layout_impl.c, which holds the implementation, with tiny ones (a JSON depth of
   4, 3 response headers, ...). Structs made here are filled there and read back here; under
   AddressSanitizer any disagreement about a layout is an overflow. */
#define _POSIX_C_SOURCE 200809L
#include "../llmsplit.h"
#include "test.h"

extern size_t layout_impl_sizes[12];

static void layout_public_structs_have_one_size(void) {
    size_t here[12] = {
        sizeof(llmsplit_error), sizeof(llmsplit_json_writer), sizeof(llmsplit_json_desc), sizeof(llmsplit_url),
        sizeof(llmsplit_http_response), sizeof(llmsplit_http_parser), sizeof(llmsplit_http_desc),
        sizeof(llmsplit_route), sizeof(llmsplit_sse_parser), sizeof(llmsplit_config), sizeof(llmsplit_result),
        sizeof(llmsplit_client_desc)};
    int i;
    for (i = 0; i < 12; i++) CHECK(here[i] == layout_impl_sizes[i]);
}

static void layout_writer_nests_deeper_than_any_limit(void) {
    /* The writer made here, written by the implementation built with a depth limit of 4: its
       nesting record is not sized by that macro, and nesting past the 512 levels kept inline
       takes memory from the allocator. */
    llmsplit_json_writer w;
    llmsplit_json_doc *doc = NULL;
    llmsplit_error err;
    const char *text = NULL;
    size_t len = 0;
    int i, depth = 700;
    llmsplit_json_writer_init(&w, NULL);
    for (i = 0; i < depth; i++) {
        if (i % 2) llmsplit_json_write_begin_array(&w);
        else {
            llmsplit_json_write_begin_object(&w);
            llmsplit_json_write_key(&w, "k", 1);
        }
    }
    llmsplit_json_write_int(&w, 7);
    for (i = depth - 1; i >= 0; i--) {
        if (i % 2) llmsplit_json_write_end_array(&w);
        else llmsplit_json_write_end_object(&w);
    }
    CHECK(llmsplit_json_writer_result(&w, &text, &len, &err) == LLMSPLIT_OK);
    CHECK(text != NULL && len == (size_t)depth * 2 + 1 + (size_t)depth / 2 * 4);
    /* the parser there has a depth limit of 4: the macro did take effect in that file */
    CHECK(llmsplit_json_parse(text, len, NULL, &doc, &err) == LLMSPLIT_ERR_JSON);
    CHECK(doc == NULL && err.line == 1 && err.col > 4);
    CHECK(llmsplit_json_parse("[[[1]]]", 7, NULL, &doc, &err) == LLMSPLIT_OK);
    llmsplit_json_free(doc);
    llmsplit_json_writer_free(&w);
}

static void layout_writer_misuse_deep_is_an_error(void) {
    llmsplit_json_writer w;
    llmsplit_error err;
    const char *text = "x";
    int i;
    llmsplit_json_writer_init(&w, NULL);
    for (i = 0; i < 600; i++) llmsplit_json_write_begin_array(&w);
    llmsplit_json_write_end_object(&w); /* wrong kind at level 600 */
    CHECK(llmsplit_json_writer_result(&w, &text, NULL, &err) == LLMSPLIT_ERR_USAGE);
    CHECK(text == NULL);
    llmsplit_json_writer_free(&w);
}

static void layout_response_headers_read_across_files(void) {
    static const char resp_text[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "X-Request-Id:  abc \r\nContent-Length: 2\r\n\r\n{}";
    llmsplit_http_response r;
    llmsplit_http_parser p;
    llmsplit_error err;
    size_t used = 0, n = 0;
    int done = 0;
    const char *v;
    memset(&r, 0, sizeof r);
    llmsplit_http_parser_init(&p, &r);
    CHECK(llmsplit_http_parser_feed(&p, resp_text, sizeof resp_text - 1, &used, &done, &err) == LLMSPLIT_OK);
    CHECK(done == 1 && used == sizeof resp_text - 1 && r.status == 200 && r.num_headers == 3);
    v = llmsplit_http_get_header(&r, "x-request-id", &n);
    CHECK(v != NULL && n == 3 && memcmp(v, "abc", 3) == 0);
    v = llmsplit_http_get_header(&r, "content-type", &n);
    CHECK(v != NULL && n == 16 && memcmp(v, "application/json", 16) == 0);
    CHECK(llmsplit_http_get_header(&r, "content", &n) == NULL && n == 0);
    CHECK(r.body.len == 2 && memcmp(r.body.data, "{}", 2) == 0);
    llmsplit_http_response_free(&r);
}

static void layout_response_header_limit_is_the_implementations(void) {
    static const char resp_text[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nContent-Length: 0\r\n\r\n";
    llmsplit_http_response r;
    llmsplit_http_parser p;
    llmsplit_error err;
    size_t used = 0;
    int done = 0;
    memset(&r, 0, sizeof r);
    llmsplit_http_parser_init(&p, &r);
    CHECK(llmsplit_http_parser_feed(&p, resp_text, sizeof resp_text - 1, &used, &done, &err) == LLMSPLIT_ERR_HTTP);
    CHECK(!done && strstr(err.message, "more than 3 response header fields") != NULL);
    llmsplit_http_response_free(&r);
}

static void layout_url_target_is_fixed(void) {
    char url[2100];
    llmsplit_url u;
    llmsplit_error err;
    memcpy(url, "http://h/", 9);
    memset(url + 9, 'a', 2000);
    url[2009] = 0;
    CHECK(llmsplit_url_parse(url, &u, &err) == LLMSPLIT_OK);
    CHECK(strlen(u.target) == 2001);
    memset(url + 9, 'a', 2080);
    url[2089] = 0;
    CHECK(llmsplit_url_parse(url, &u, &err) == LLMSPLIT_ERR_USAGE);
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(layout_public_structs_have_one_size);
    RUN(layout_writer_nests_deeper_than_any_limit);
    RUN(layout_writer_misuse_deep_is_an_error);
    RUN(layout_response_headers_read_across_files);
    RUN(layout_response_header_limit_is_the_implementations);
    RUN(layout_url_target_is_fixed);
    return t_summary();
}
