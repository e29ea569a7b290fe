/* JSON layer: grammar edge cases, numbers, lookups, memory, writer. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "test.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* The document, or NULL; the status must agree with what came back. */
static llmsplit_json_doc *parse_desc(const char *s, size_t n, const llmsplit_json_desc *desc, llmsplit_error *err) {
    llmsplit_json_doc *doc = (llmsplit_json_doc *)&doc; /* not NULL: parse must set it either way */
    llmsplit_status st = llmsplit_json_parse(s, n, desc, &doc, err);
    if ((st == LLMSPLIT_OK) != (doc != NULL) || (err && st != err->code)) {
        t_cur_failed = 1;
        printf("  json_parse said %s with%s a document\n", llmsplit_strerror(st), doc ? "" : "out");
    }
    return doc;
}
static llmsplit_json_doc *parse(const char *s) { return parse_desc(s, strlen(s), NULL, NULL); }

/* The writer's text, or NULL when it reports an error. */
static const char *written(const llmsplit_json_writer *w, size_t *len) {
    const char *text = "not set";
    llmsplit_status st = llmsplit_json_writer_result(w, &text, len, NULL);
    if ((st == LLMSPLIT_OK) != (text != NULL)) {
        t_cur_failed = 1;
        printf("  writer_result said %s with%s text\n", llmsplit_strerror(st), text ? "" : "out");
    }
    return text;
}

/* --- grammar: one test per case ---------------------------------------------------------- */

static const char *const valid_docs[] = {
    "0", "-0", "1.5", "-1.5e-10", "1E+2", "1e-2", "[]", "{}", "[[]]", "\"\"", " \t\n\r[1] \n",
    "true", "false", "null", "{\"a\":{\"b\":[1,2,{\"c\":null}]}}", "\"\\u0000\"",
    "\"\\ud83d\\ude00\"", "\"\xc3\xa9\"", "\"\xf4\x8f\xbf\xbf\"", "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"",
    "9223372036854775807", "-9223372036854775808", "1e308", "4.9e-324", "[1,2,3]",
    "{\"\":\"\"}", "\"\xef\xbf\xbf\"", "[-0.0e-0]", "123456789012345678901234567890",
};

struct bad_case {
    const char *text;
    int line, col;
    const char *message; /* substring of the expected message */
};

static const struct bad_case invalid_docs[] = {
    {"", 1, 1, "empty input"},
    {"   ", 1, 4, "unexpected end"},
    {"[1,]", 1, 4, "unexpected character"},
    {"[01]", 1, 3, "leading zero"},
    {"[1.]", 1, 4, "after '.'"},
    {"[.5]", 1, 2, "unexpected character"},
    {"[+1]", 1, 2, "unexpected character"},
    {"[1e]", 1, 4, "exponent"},
    {"[-]", 1, 3, "expected digit"},
    {"{\"a\" 1}", 1, 6, "expected ':'"},
    {"{1:2}", 1, 2, "expected string key"},
    {"{\"a\":1,}", 1, 8, "expected string key"},
    {"[1 2]", 1, 4, "expected ',' or ']'"},
    {"{\"a\":1 \"b\":2}", 1, 8, "expected ',' or '}'"},
    {"\"abc", 1, 5, "unterminated string"},
    {"\"\\x\"", 1, 2, "invalid escape"},
    {"\"\\u12\"", 1, 2, "4 hex digits"},
    {"\"\\ud800\"", 1, 2, "lone surrogate"},
    {"\"\\udc00\\ud800\"", 1, 2, "lone surrogate"},
    {"\"\\ud800\\u0041\"", 1, 2, "lone surrogate"},
    {"\"a\tb\"", 1, 3, "control character"},
    {"\"\xc0\xaf\"", 1, 2, "invalid UTF-8"},
    {"\"\xed\xa0\x80\"", 1, 2, "invalid UTF-8"},
    {"\"\xf4\x90\x80\x80\"", 1, 2, "invalid UTF-8"},
    {"\"\xe2\x82\"", 1, 2, "invalid UTF-8"},
    {"\"\x80\"", 1, 2, "invalid UTF-8"},
    {"tru", 1, 1, "invalid literal"},
    {"True", 1, 1, "unexpected character"},
    {"NaN", 1, 1, "unexpected character"},
    {"-Infinity", 1, 2, "expected digit"},
    {"[1]x", 1, 4, "after the JSON value"},
    {"[1] [2]", 1, 5, "after the JSON value"},
    {"1e400", 1, 1, "out of range"},
    {"[-1e400]", 1, 2, "out of range"},
    {"[", 1, 2, "unexpected end"},
    {"{", 1, 2, "unexpected end"},
    {"\xef\xbb\xbf[]", 1, 1, "unexpected character"},
    {"[1,\n 2,\n x]", 3, 2, "unexpected character"},
    {"[\"\xc3\xa9\xc3\xa9\", x]", 1, 8, "unexpected character"},
    {"'a'", 1, 1, "unexpected character"},
    {"[1,2", 1, 5, "unexpected end"},
    {"{\"a\":}", 1, 6, "unexpected character"},
    {"[[[[[[[[[[[", 1, 12, "unexpected end"},      /* more open brackets than valid JSON's slots */
    {"[{\"a\":[{\"b\":[[[[[[", 1, 19, "unexpected end"},
};

static void test_valid_cases(void) {
    size_t i;
    for (i = 0; i < sizeof valid_docs / sizeof valid_docs[0]; i++) {
        char name[96];
        llmsplit_error err;
        llmsplit_json_doc *doc;
        snprintf(name, sizeof name, "json_accepts[%u]", (unsigned)i);
        if (!t_selected(name)) continue;
        t_begin();
        if (llmsplit_json_parse(valid_docs[i], strlen(valid_docs[i]), NULL, &doc, &err) != LLMSPLIT_OK) printf("  %s -> %d:%d %s\n", valid_docs[i], err.line, err.col, err.message);
        CHECK(doc != NULL);
        llmsplit_json_free(doc);
        t_end(name);
    }
}

static void test_invalid_cases(void) {
    size_t i;
    for (i = 0; i < sizeof invalid_docs / sizeof invalid_docs[0]; i++) {
        const struct bad_case *c = &invalid_docs[i];
        char name[96];
        llmsplit_error err;
        llmsplit_json_doc *doc;
        snprintf(name, sizeof name, "json_rejects[%u] %s", (unsigned)i, c->message);
        if (!t_selected(name)) continue;
        t_begin();
        llmsplit_json_parse(c->text, strlen(c->text), NULL, &doc, &err);
        CHECK(doc == NULL);
        CHECK_EQ_INT(err.code, LLMSPLIT_ERR_JSON);
        CHECK_EQ_INT(err.line, c->line);
        CHECK_EQ_INT(err.col, c->col);
        CHECK_CONTAINS(err.message, c->message);
        llmsplit_json_free(doc);
        t_end(name);
    }
}

/* --- lookups ---------------------------------------------------------------------------- */

static const char *completion =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
    "\"message\":{\"role\":\"assistant\",\"content\":\"Hello \\\"there\\\"\\n\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":40,"
    "\"total_tokens\":52},\"extra\":[[1,[2,[3]]],{\"deep\":{\"er\":[]}}]}";

static void json_path_reads_nested_content(void) {
    llmsplit_json_doc *doc = parse(completion);
    const llmsplit_json_val *root = llmsplit_json_root(doc);
    size_t n;
    const char *s = llmsplit_json_str(llmsplit_json_path(root, "choices[0].message.content"), &n);
    CHECK_STR(s, "Hello \"there\"\n");
    CHECK_EQ_INT(n, 14);
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_path(root, "usage.total_tokens")), 52);
    CHECK(llmsplit_json_is_int(llmsplit_json_path(root, ".usage.prompt_tokens")));
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_path(root, "extra[0][1][1][0]")), 3);
    CHECK_EQ_INT(llmsplit_json_type_of(llmsplit_json_path(root, "extra[1].deep.er")), LLMSPLIT_JSON_ARRAY);
    llmsplit_json_free(doc);
}

static void json_path_missing_or_malformed_is_null(void) {
    llmsplit_json_doc *doc = parse(completion);
    const llmsplit_json_val *root = llmsplit_json_root(doc);
    CHECK(llmsplit_json_path(root, "choices[1]") == NULL);
    CHECK(llmsplit_json_path(root, "choices.message") == NULL);
    CHECK(llmsplit_json_path(root, "nope.x") == NULL);
    CHECK(llmsplit_json_path(root, "choices[") == NULL);
    CHECK(llmsplit_json_path(root, "choices[x]") == NULL);
    CHECK(llmsplit_json_path(root, "usage..x") == NULL);
    CHECK(llmsplit_json_path(root, "choices[99999999999999999999999]") == NULL);
    CHECK(llmsplit_json_path(NULL, "a") == NULL);
    CHECK_EQ_INT(llmsplit_json_type_of(NULL), LLMSPLIT_JSON_NONE);
    CHECK(llmsplit_json_str(llmsplit_json_path(root, "usage"), NULL) == NULL);
    llmsplit_json_free(doc);
}

static void json_get_skips_subtrees_and_finds_first_duplicate(void) {
    llmsplit_json_doc *doc = parse("{\"a\":{\"x\":[1,2,{\"k\":3}]},\"k\":1,\"k\":2,\"b\":[[],[[]]],\"z\":true}");
    const llmsplit_json_val *root = llmsplit_json_root(doc);
    CHECK_EQ_INT(llmsplit_json_len(root), 5);
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_get(root, "k")), 1);
    CHECK(llmsplit_json_is_true(llmsplit_json_get(root, "z")));
    CHECK_EQ_INT(llmsplit_json_len(llmsplit_json_at(llmsplit_json_get(root, "b"), 1)), 1);
    CHECK(llmsplit_json_getn(root, "kk", 1) == llmsplit_json_get(root, "k"));
    CHECK(llmsplit_json_get(root, "x") == NULL);
    llmsplit_json_free(doc);
}

static void json_iterates_members_in_order(void) {
    llmsplit_json_doc *doc = parse("{\"one\":1,\"two\":[2,2],\"three\":{\"x\":3}}");
    llmsplit_json_iter it = llmsplit_json_iterate(llmsplit_json_root(doc));
    const llmsplit_json_val *k, *v;
    const char *want[3] = {"one", "two", "three"};
    int i = 0;
    while (llmsplit_json_next(&it, &k, &v)) {
        if (i < 3) CHECK_STR(llmsplit_json_str(k, NULL), want[i]);
        i++;
    }
    CHECK_EQ_INT(i, 3);
    it = llmsplit_json_iterate(llmsplit_json_get(llmsplit_json_root(doc), "two"));
    i = 0;
    while (llmsplit_json_next(&it, &k, &v)) {
        CHECK(k == NULL);
        CHECK_EQ_INT(llmsplit_json_int(v), 2);
        i++;
    }
    CHECK_EQ_INT(i, 2);
    it = llmsplit_json_iterate(llmsplit_json_get(llmsplit_json_root(doc), "one"));
    CHECK(!llmsplit_json_next(&it, &k, &v));
    llmsplit_json_free(doc);
}

static void json_strings_carry_length_and_nul(void) {
    llmsplit_json_doc *doc = parse("[\"a\\u0000b\", \"\\ud83d\\ude00\", \"caf\\u00e9\"]");
    size_t n;
    const char *s = llmsplit_json_str(llmsplit_json_at(llmsplit_json_root(doc), 0), &n);
    CHECK_EQ_MEM(s, n, "a\0b", 3);
    if (s && n == 3) CHECK_EQ_INT(s[3], '\0');
    s = llmsplit_json_str(llmsplit_json_at(llmsplit_json_root(doc), 1), &n);
    CHECK_EQ_MEM(s, n, "\xf0\x9f\x98\x80", 4);
    CHECK_STR(llmsplit_json_str(llmsplit_json_at(llmsplit_json_root(doc), 2), NULL), "caf\xc3\xa9");
    llmsplit_json_free(doc);
}

/* --- numbers ---------------------------------------------------------------------------- */

static void json_int64_exact_at_limits(void) {
    llmsplit_json_doc *doc = parse("[9223372036854775807,-9223372036854775808,9223372036854775808,"
                                   "-9223372036854775809,0,-0,12345678901234567890123]");
    const llmsplit_json_val *a = llmsplit_json_root(doc);
    CHECK(llmsplit_json_is_int(llmsplit_json_at(a, 0)));
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_at(a, 0)), INT64_MAX);
    CHECK(llmsplit_json_is_int(llmsplit_json_at(a, 1)));
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_at(a, 1)), INT64_MIN);
    CHECK(!llmsplit_json_is_int(llmsplit_json_at(a, 2)));
    CHECK_EQ_DBL(llmsplit_json_double(llmsplit_json_at(a, 2)), 9223372036854775808.0);
    CHECK(!llmsplit_json_is_int(llmsplit_json_at(a, 3)));
    CHECK_EQ_DBL(llmsplit_json_double(llmsplit_json_at(a, 3)), -9223372036854775808.0);
    CHECK(llmsplit_json_is_int(llmsplit_json_at(a, 5)));
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_at(a, 5)), 0);
    CHECK_EQ_DBL(llmsplit_json_double(llmsplit_json_at(a, 6)), 12345678901234567890123.0);
    llmsplit_json_free(doc);
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static int parse_double(const char *s, double *out) {
    llmsplit_json_doc *doc = parse(s);
    if (!doc) return 0;
    *out = llmsplit_json_double(llmsplit_json_root(doc));
    llmsplit_json_free(doc);
    return 1;
}

/* The fast path's table of powers of five is made at the first number that needs it: threads
   that all meet their first such numbers at once get the same, correct values (and ThreadSanitizer,
   which runs this program too, sees no race). Runs first, while no table exists. */
static const char *const first_hard = "[2.2250738585072011e-308, 0.1000000000000000055511151231257827021181583404541015625,"
                                      " 7.038531e-26, 1.7976931348623157e308, 3.14159265358979323846, 1e-300, 123456.789e200]";
static pthread_barrier_t first_hard_start;
static void *parse_first_hard(void *out) {
    llmsplit_json_doc *doc = NULL;
    size_t i;
    pthread_barrier_wait(&first_hard_start);      /* all at once */
    if (llmsplit_json_parse(first_hard, strlen(first_hard), NULL, &doc, NULL) == LLMSPLIT_OK)
        for (i = 0; i < 7; i++) ((double *)out)[i] = llmsplit_json_double(llmsplit_json_at(llmsplit_json_root(doc), i));
    llmsplit_json_free(doc);
    return NULL;
}

static void json_first_hard_numbers_in_many_threads_agree(void) {
    double got[8][7];
    pthread_t th[8];
    int t, i;
    memset(got, 0, sizeof got);
    pthread_barrier_init(&first_hard_start, NULL, 8);
    for (t = 0; t < 8; t++) CHECK_EQ_INT(pthread_create(&th[t], NULL, parse_first_hard, got[t]), 0);
    for (t = 0; t < 8; t++) pthread_join(th[t], NULL);
    pthread_barrier_destroy(&first_hard_start);
    setlocale(LC_NUMERIC, "C");
    for (t = 0; t < 8; t++)
        for (i = 0; i < 7; i++) {
            static const char *const want[7] = {"2.2250738585072011e-308", "0.1000000000000000055511151231257827021181583404541015625",
                                                "7.038531e-26", "1.7976931348623157e308", "3.14159265358979323846", "1e-300",
                                                "123456.789e200"};
            CHECK(same_bits(got[t][i], strtod(want[i], NULL)));
        }
}

static void json_doubles_hard_cases_round_correctly(void) {
    static const char *const cases[] = {
        "2.2250738585072011e-308", "2.2250738585072012e-308", "4.9406564584124654e-324",
        "2.4703282292062327e-324", "2.4703282292062328e-324", "1.7976931348623157e308",
        "1.7976931348623158e308", "9007199254740993.0", "9007199254740993.00000000000000000001",
        "0.1000000000000000055511151231257827021181583404541015625",
        "0.1000000000000000055511151231257827021181583404541015624",
        "1000000000000000000000000000000000000000001e-40", "7.038531e-26", "0.3", "1e23",
        "8.98846567431158e307", "5e-324", "3e-324", "2e-324", "1e-400", "-0.0", "0.000001",
        "123456789012345678901234567890e-30", "1448997445238699", "2.98023223876953125E-8",
        "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999999999999999999999999999999999999999999999999999999999999999999999",
    };
    size_t i;
    char *end;
    setlocale(LC_NUMERIC, "C");
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double got = 0, want = strtod(cases[i], &end);
        int ok = parse_double(cases[i], &got);
        if (!ok || !same_bits(got, want)) printf("  %s: got %.17g want %.17g\n", cases[i], got, want);
        CHECK(ok);
        CHECK(same_bits(got, want));
    }
    /* 1 followed by 900 zeros, scaled back: the slow path's digit limit must not lose it */
    {
        char big[1000];
        double got = 0;
        memset(big, '0', sizeof big);
        big[0] = '1';
        memcpy(big + 901, "e-900", 6);
        CHECK(parse_double(big, &got));
        CHECK_EQ_DBL(got, 1.0);
    }
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void json_doubles_match_strtod_on_200k_random_numbers(void) {
    int i, bad = 0;
    setlocale(LC_NUMERIC, "C");
    for (i = 0; i < 200000; i++) {
        char buf[96];
        int n = 0, digits = 1 + (int)(rng() % 25), point = (int)(rng() % (unsigned)(digits + 1)), d;
        double want, got = 0;
        if (rng() & 1) buf[n++] = '-';
        buf[n++] = (char)('1' + rng() % 9);
        for (d = 1; d < digits; d++) {
            if (d == point) buf[n++] = '.';
            buf[n++] = (char)('0' + rng() % 10);
        }
        n += snprintf(buf + n, sizeof buf - (size_t)n, "e%d", (int)(rng() % 700) - 350);
        want = strtod(buf, NULL);
        if (isinf(want)) {
            if (parse_double(buf, &got)) bad++;
            continue;
        }
        if (!parse_double(buf, &got) || !same_bits(got, want)) {
            if (bad < 5) printf("  %s: got %.17g want %.17g\n", buf, got, want);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void json_numbers_ignore_the_c_locale(void) {
    static const char *const comma_locales[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "ru_RU.UTF-8", NULL};
    char buf[32];
    double got = 0;
    int i, found = 0;
    for (i = 0; comma_locales[i]; i++)
        if (setlocale(LC_NUMERIC, comma_locales[i])) { found = 1; break; }
    if (!found) SKIP("no locale with a decimal comma installed (e.g. locale-gen de_DE.UTF-8)");
    CHECK(parse_double("1.5", &got));
    CHECK_EQ_DBL(got, 1.5);
    llmsplit_format_double(0.25, buf);
    CHECK_STR(buf, "0.25");
    setlocale(LC_NUMERIC, "C");
}

/* --- structure and memory ------------------------------------------------------------------ */

static void json_rejects_100000_nested_arrays_without_recursion(void) {
    size_t n = 100000, i;
    char *s = (char *)malloc(2 * n);
    llmsplit_error err;
    for (i = 0; i < n; i++) { s[i] = '['; s[2 * n - 1 - i] = ']'; }
    CHECK(parse_desc(s, 2 * n, NULL, &err) == NULL);
    CHECK_CONTAINS(err.message, "too deep");
    CHECK_EQ_INT(err.col, LLMSPLIT_JSON_MAX_DEPTH + 1);
    free(s);
}

static void json_depth_limit_is_exact_and_configurable(void) {
    char s[2 * LLMSPLIT_JSON_MAX_DEPTH + 2];
    llmsplit_json_desc desc;
    llmsplit_json_doc *doc;
    int i;
    for (i = 0; i < LLMSPLIT_JSON_MAX_DEPTH; i++) { s[i] = '['; s[2 * LLMSPLIT_JSON_MAX_DEPTH - 1 - i] = ']'; }
    llmsplit_json_parse(s, 2 * LLMSPLIT_JSON_MAX_DEPTH, NULL, &doc, NULL);
    CHECK(doc != NULL);
    llmsplit_json_free(doc);
    memset(&desc, 0, sizeof desc);
    desc.max_depth = 3;
    llmsplit_json_parse("[[[]]]", 6, &desc, &doc, NULL);
    CHECK(doc != NULL);
    llmsplit_json_free(doc);
    CHECK(parse_desc("[[[[]]]]", 8, &desc, NULL) == NULL);
}

static void json_needs_no_nul_terminator(void) {
    const char *src = "{\"k\":[1,2,\"abc\",true]}";
    size_t n = strlen(src), i;
    char *exact = (char *)malloc(n);
    llmsplit_json_doc *doc;
    memcpy(exact, src, n); /* no NUL after: ASan flags any read past the end */
    llmsplit_json_parse(exact, n, NULL, &doc, NULL);
    CHECK(doc != NULL);
    CHECK_STR(llmsplit_json_str(llmsplit_json_path(llmsplit_json_root(doc), "k[2]"), NULL), "abc");
    llmsplit_json_free(doc);
    /* every strict prefix is incomplete and must fail cleanly */
    for (i = 0; i < n; i++) {
        char *cut = (char *)malloc(i ? i : 1);
        memcpy(cut, src, i);
        CHECK(parse_desc(cut, i, NULL, NULL) == NULL);
        free(cut);
    }
    free(exact);
}

static int alloc_count, free_count;
static void *count_alloc(size_t n, void *ud) { (void)ud; alloc_count++; return malloc(n); }
static void count_free(void *p, void *ud) { (void)ud; free_count++; free(p); }

static void json_document_is_one_allocation(void) {
    llmsplit_json_desc desc;
    llmsplit_json_doc *doc;
    memset(&desc, 0, sizeof desc);
    desc.allocator.alloc_fn = count_alloc;
    desc.allocator.free_fn = count_free;
    alloc_count = free_count = 0;
    llmsplit_json_parse(completion, strlen(completion), &desc, &doc, NULL);
    CHECK(doc != NULL);
    CHECK_EQ_INT(alloc_count, 1);
    llmsplit_json_free(doc);
    CHECK_EQ_INT(free_count, 1);
    CHECK(parse_desc("[1,", 3, &desc, NULL) == NULL);
    CHECK_EQ_INT(alloc_count, 2);
    CHECK_EQ_INT(free_count, 2);
}

static void json_caller_buffer_means_no_allocation(void) {
    size_t len = strlen(completion), need = llmsplit_json_buffer_size(len);
    void *buf = malloc(need);
    llmsplit_json_desc desc;
    llmsplit_error err;
    llmsplit_json_doc *doc;
    memset(&desc, 0, sizeof desc);
    desc.allocator.alloc_fn = count_alloc;
    desc.allocator.free_fn = count_free;
    desc.buffer = buf;
    desc.buffer_size = need;
    alloc_count = 0;
    llmsplit_json_parse(completion, len, &desc, &doc, &err);
    CHECK(doc != NULL);
    CHECK_EQ_INT(alloc_count, 0);
    CHECK_LT_UINT(llmsplit_json_doc_used(doc), need);
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_path(llmsplit_json_root(doc), "usage.completion_tokens")), 40);
    llmsplit_json_free(doc);
    desc.buffer_size = 200; /* far too small for this document */
    CHECK(parse_desc(completion, len, &desc, &err) == NULL);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_NOMEM);
    free(buf);
}

static void json_lone_surrogates_only_when_asked(void) {
    llmsplit_json_desc d;
    llmsplit_json_doc *doc;
    size_t n;
    const char *s;
    memset(&d, 0, sizeof d);
    CHECK(parse_desc("\"\\ud83d\"", 8, &d, NULL) == NULL);
    d.flags = LLMSPLIT_JSON_LONE_SURROGATES;
    s = "\"x\\ud83dy\\ude00\\ud83d\\ude00\"";
    llmsplit_json_parse(s, strlen(s), &d, &doc, NULL);
    s = llmsplit_json_str(llmsplit_json_root(doc), &n);
    CHECK_EQ_MEM(s, n, "x\xed\xa0\xbdy\xed\xb8\x80\xf0\x9f\x98\x80", 12);
    llmsplit_json_free(doc);
}

static void json_null_text_is_usage_error(void) {
    llmsplit_error err;
    CHECK(parse_desc(NULL, 4, NULL, &err) == NULL);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_USAGE);
}

/* --- writer ----------------------------------------------------------------------------- */

static void json_writer_builds_a_request_body(void) {
    llmsplit_json_writer w;
    const char *out;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    LLMSPLIT_JSON_KEY(&w, "model");
    llmsplit_json_write_string(&w, "gpt-4", 5);
    LLMSPLIT_JSON_KEY(&w, "messages");
    llmsplit_json_write_begin_array(&w);
    llmsplit_json_write_begin_object(&w);
    LLMSPLIT_JSON_KEY(&w, "role");
    llmsplit_json_write_string(&w, "user", 4);
    LLMSPLIT_JSON_KEY(&w, "content");
    llmsplit_json_write_string(&w, "say \"hi\"\n\t\x01\\ caf\xc3\xa9 </tag>", 25);
    llmsplit_json_write_end_object(&w);
    llmsplit_json_write_end_array(&w);
    LLMSPLIT_JSON_KEY(&w, "temperature");
    llmsplit_json_write_double(&w, 0.7);
    LLMSPLIT_JSON_KEY(&w, "max_tokens");
    llmsplit_json_write_int(&w, -9223372036854775807 - 1);
    LLMSPLIT_JSON_KEY(&w, "stream");
    llmsplit_json_write_bool(&w, 0);
    LLMSPLIT_JSON_KEY(&w, "user");
    llmsplit_json_write_null(&w);
    llmsplit_json_write_end_object(&w);
    out = written(&w, NULL);
    CHECK_STR(out, "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"user\",\"content\":"
                   "\"say \\\"hi\\\"\\n\\t\\u0001\\\\ caf\xc3\xa9 </tag>\"}],\"temperature\":0.7,"
                   "\"max_tokens\":-9223372036854775808,\"stream\":false,\"user\":null}");
    llmsplit_json_writer_free(&w);
}

static void json_writer_refuses_misuse(void) {
    llmsplit_json_writer w;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    llmsplit_json_write_int(&w, 1); /* value where a key belongs */
    CHECK_EQ_INT(w.err, LLMSPLIT_ERR_USAGE);
    CHECK(written(&w, NULL) == NULL);
    llmsplit_json_writer_free(&w);

    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_array(&w);
    llmsplit_json_write_end_object(&w);
    CHECK_EQ_INT(w.err, LLMSPLIT_ERR_USAGE);
    llmsplit_json_writer_free(&w);

    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_array(&w);
    CHECK(written(&w, NULL) == NULL); /* unbalanced */
    llmsplit_json_write_string(&w, "\xff", 1);
    CHECK_EQ_INT(w.err, LLMSPLIT_ERR_USAGE);
    CHECK_CONTAINS(w.err_message, "UTF-8");
    llmsplit_json_writer_free(&w);

    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_double(&w, NAN);
    CHECK_EQ_INT(w.err, LLMSPLIT_ERR_USAGE);
    llmsplit_json_writer_free(&w);

    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_int(&w, 1);
    llmsplit_json_write_int(&w, 2);
    CHECK_EQ_INT(w.err, LLMSPLIT_ERR_USAGE);
    llmsplit_json_writer_free(&w);
}

static void json_format_double_is_shortest(void) {
    static const struct { double d; const char *s; } cases[] = {
        {0.1, "0.1"}, {0.7, "0.7"}, {1.0, "1.0"}, {100.0, "100.0"}, {-2.5, "-2.5"}, {1e300, "1e+300"},
        {5e-324, "5e-324"}, {1.0 / 3, "0.3333333333333333"}, {123456789012345680000.0, "123456789012345680000.0"},
        {1e21, "1e+21"}, {0.000001, "0.000001"}, {1e-7, "1e-7"}, {-0.0, "-0.0"},
        {1.7976931348623157e308, "1.7976931348623157e+308"}, {2.2250738585072014e-308, "2.2250738585072014e-308"},
    };
    size_t i;
    char buf[32];
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llmsplit_format_double(cases[i].d, buf);
        CHECK_STR(buf, cases[i].s);
    }
    CHECK_EQ_INT(llmsplit_format_double(INFINITY, buf), 0);
}

/* Numbers whose digits, scaled to a whole number, come within 2 of 2^53: the search for the
   shortest digits went on forever there (adding 1 to 2^53 gives 2^53), so a feedback value of
   0.9007199254740991 sent to the gateway hung its loop. */
static void json_format_double_ends_next_to_2_pow_53(void) {
    static const struct { double d; const char *s; } cases[] = {
        {0.9007199254740991, "0.9007199254740991"}, {9007199254740991.0, "9007199254740991.0"},
        {9007199254740990.0, "9007199254740990.0"}, {900719925474099.1, "900719925474099.1"},
        {9007199254740992.0, "9007199254740992.0"},
    };
    size_t i;
    int j, bad = 0;
    char buf[32];
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        llmsplit_format_double(cases[i].d, buf);
        CHECK_STR(buf, cases[i].s);
    }
    for (i = 0; i < 12; i++) {
        double p = 1.0;
        for (j = 0; j <= 22; j++, p *= 10.0) {
            double d = (9007199254740984.0 + (double)i) / p, back = 0;
            llmsplit_format_double(d, buf);
            if (!parse_double(buf, &back) || !same_bits(back, d)) bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void json_format_double_round_trips_100k_random_doubles(void) {
    int i, bad = 0;
    for (i = 0; i < 100000; i++) {
        uint64_t bits = rng();
        double d, back = 0;
        char buf[32];
        memcpy(&d, &bits, sizeof d);
        if (isnan(d) || isinf(d)) continue;
        llmsplit_format_double(d, buf);
        if (!parse_double(buf, &back) || !same_bits(back, d)) {
            if (bad < 5) printf("  %s does not read back\n", buf);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

/* The significant digits of a number's text, without leading or trailing zeros. */
static void sig_digits(const char *s, char *out) {
    char *o = out;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && (o > out || *s != '0')) *o++ = *s;
    while (o > out && o[-1] == '0') o--;
    *o = 0;
}

/* Short decimals (a latency in tenths, a price of a few digits) take a path without printf:
   the text must be the one printf's shortest round-trip rounding gives. */
static void json_format_double_short_decimals_match_printf(void) {
    int i, bad = 0;
    for (i = 0; i < 200000; i++) {
        uint64_t r = rng();
        int dec = (int)(r % 18), digits = 1 + (int)((r >> 8) % 17), p;
        uint64_t m = (r >> 16) % 100000000000000000ull, lim = 1;
        double d, back;
        char buf[40], ref[40], a[24], b[24];
        while (digits-- > 0) lim *= 10;
        m %= lim;
        d = (double)m / pow(10.0, dec);
        if (i & 1) d = -d;
        if (d == 0) continue;
        for (p = 1; p <= 17; p++) {
            snprintf(ref, sizeof ref, "%.*e", p - 1, d);
            if (strtod(ref, NULL) == d) break;
        }
        llmsplit_format_double(d, buf);
        back = strtod(buf, NULL);
        sig_digits(buf, a);
        sig_digits(ref, b);
        if (back != d || strcmp(a, b) != 0) {
            if (bad < 5) printf("  %.17g: %s, printf %s\n", d, buf, ref);
            bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

static void json_write_value_minifies_and_keeps_number_text(void) {
    const char *src = " { \"a\" : [ 1.0e5 , -0 , 12345678901234567890123 , \"\\u00e9\\n\\/\" ] ,\n"
                      " \"b\" : { } , \"c\" : [ [ ] , { \"d\" : null } ] , \"e\" : true } ";
    llmsplit_json_doc *doc = parse(src);
    llmsplit_json_writer w;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_value(&w, llmsplit_json_root(doc));
    CHECK_STR(written(&w, NULL),
              "{\"a\":[1.0e5,-0,12345678901234567890123,\"\xc3\xa9\\n/\"],\"b\":{},\"c\":[[],{\"d\":null}],\"e\":true}");
    llmsplit_json_writer_free(&w);
    /* a subtree, inside a writer's own object */
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    llmsplit_json_write_key(&w, "c", 1);
    llmsplit_json_write_value(&w, llmsplit_json_get(llmsplit_json_root(doc), "c"));
    llmsplit_json_write_end_object(&w);
    CHECK_STR(written(&w, NULL), "{\"c\":[[],{\"d\":null}]}");
    llmsplit_json_writer_free(&w);
    llmsplit_json_free(doc);
}

static void strerror_names_every_category(void) {
    CHECK_STR(llmsplit_strerror(LLMSPLIT_OK), "ok");
    CHECK_STR(llmsplit_strerror(LLMSPLIT_ERR_TLS), "tls");
    CHECK_STR(llmsplit_strerror(LLMSPLIT_ERR_PROVIDER), "provider");
    CHECK_STR(llmsplit_strerror(LLMSPLIT_ERR_JSON), "json");
    CHECK_STR(llmsplit_strerror((llmsplit_status)999), "unknown");
}

int main(int argc, char **argv) {
    t_init(argc, argv);
    RUN(json_first_hard_numbers_in_many_threads_agree);
    test_valid_cases();
    test_invalid_cases();
    RUN(json_path_reads_nested_content);
    RUN(json_path_missing_or_malformed_is_null);
    RUN(json_get_skips_subtrees_and_finds_first_duplicate);
    RUN(json_iterates_members_in_order);
    RUN(json_strings_carry_length_and_nul);
    RUN(json_int64_exact_at_limits);
    RUN(json_doubles_hard_cases_round_correctly);
    RUN(json_doubles_match_strtod_on_200k_random_numbers);
    RUN(json_numbers_ignore_the_c_locale);
    RUN(json_rejects_100000_nested_arrays_without_recursion);
    RUN(json_depth_limit_is_exact_and_configurable);
    RUN(json_needs_no_nul_terminator);
    RUN(json_document_is_one_allocation);
    RUN(json_caller_buffer_means_no_allocation);
    RUN(json_lone_surrogates_only_when_asked);
    RUN(json_null_text_is_usage_error);
    RUN(json_writer_builds_a_request_body);
    RUN(json_writer_refuses_misuse);
    RUN(json_format_double_is_shortest);
    RUN(json_format_double_ends_next_to_2_pow_53);
    RUN(json_format_double_round_trips_100k_random_doubles);
    RUN(json_format_double_short_decimals_match_printf);
    RUN(json_write_value_minifies_and_keeps_number_text);
    RUN(strerror_names_every_category);
    return t_summary();
}
