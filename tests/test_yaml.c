/* The YAML reader: what it reads (as JSON), what it refuses (with the place and the fix), the
   config entry points that take YAML, and a LiteLLM config.yaml driving a client against
   `llmsplit mock`. tests/cli_yaml.sh checks the same reader against PyYAML. */
#define _POSIX_C_SOURCE 200809L
#define LLMSPLIT_IMPLEMENTATION
#include "../llmsplit.h"
#include "test.h"
#include "mock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The document as compact JSON (static buffer), or "ERROR L:C: message" when it is refused. */
static const char *as_json_n(const char *yaml, size_t len) {
    static char out[4096];
    llmsplit_json_doc *doc = (llmsplit_json_doc *)&doc; /* not NULL: parse must set it either way */
    llmsplit_error err;
    llmsplit_status st = llmsplit_yaml_parse(yaml, len, NULL, &doc, &err);
    if ((st == LLMSPLIT_OK) != (doc != NULL) || st != err.code) {
        t_cur_failed = 1;
        printf("  yaml_parse said %s with%s a document\n", llmsplit_strerror(st), doc ? "" : "out");
    }
    if (st != LLMSPLIT_OK) {
        snprintf(out, sizeof out, "ERROR %d:%d: %s", err.line, err.col, err.message);
    } else {
        llmsplit_json_writer w;
        const char *text;
        llmsplit_json_writer_init(&w, NULL);
        llmsplit_json_write_value(&w, llmsplit_json_root(doc));
        snprintf(out, sizeof out, "%s", llmsplit_json_writer_result(&w, &text, NULL, NULL) == LLMSPLIT_OK ? text : "WRITER FAILED");
        llmsplit_json_writer_free(&w);
        llmsplit_json_free(doc);
    }
    return out;
}
static const char *as_json(const char *yaml) { return as_json_n(yaml, strlen(yaml)); }

struct yaml_case {
    const char *name, *yaml, *json;
};

/* --- what it reads ------------------------------------------------------------------------- */

static const struct yaml_case read_cases[] = {
    /* structure */
    {"block_mapping", "a: 1\nb: two\n", "{\"a\":1,\"b\":\"two\"}"},
    {"nested_mapping_any_indent", "a:\n   b:\n    c: 1\n   d: 2\ne: 3", "{\"a\":{\"b\":{\"c\":1},\"d\":2},\"e\":3}"},
    {"sequence_indented", "a:\n  - 1\n  - 2\n", "{\"a\":[1,2]}"},
    {"sequence_at_its_keys_column", "a:\n- 1\n- 2\nb: 3\n", "{\"a\":[1,2],\"b\":3}"},
    {"sequence_of_mappings", "- a: 1\n  b: 2\n- c: 3\n", "[{\"a\":1,\"b\":2},{\"c\":3}]"},
    {"sequence_of_mappings_one_space", "l:\n - a: 1\n   b: 2\n", "{\"l\":[{\"a\":1,\"b\":2}]}"},
    {"sequence_in_sequence", "- - a\n  - b\n- c\n", "[[\"a\",\"b\"],\"c\"]"},
    {"item_on_the_next_line", "-\n  a: 1\n-\n", "[{\"a\":1},null]"},
    {"top_mapping_indented", "  a: 1\n  b: 2\n", "{\"a\":1,\"b\":2}"},
    {"top_scalar", "hello world\n", "\"hello world\""},
    {"empty_document_is_null", "", "null"},
    {"only_comments_is_null", "# nothing\n\n   # here\n", "null"},
    {"comments_everywhere", "# head\na: 1 # one\n# between\nb:   # empty\n  - x  # item\n", "{\"a\":1,\"b\":[\"x\"]}"},
    {"document_markers", "---\na: 1\n...\n# after\n", "{\"a\":1}"},
    {"start_marker_with_comment", "--- # doc\na: 1\n", "{\"a\":1}"},
    {"crlf_line_ends", "a: 1\r\nb:\r\n  - x\r\nc: |\r\n  l1\r\n  l2\r\n", "{\"a\":1,\"b\":[\"x\"],\"c\":\"l1\\nl2\\n\"}"},
    {"byte_order_mark", "\xef\xbb\xbf" "a: 1\n", "{\"a\":1}"},
    {"no_final_newline", "a: 1", "{\"a\":1}"},
    {"spaces_before_colon", "a  : 1\n", "{\"a\":1}"},
    {"key_order_kept", "z: 1\na: 2\nm: 3\n", "{\"z\":1,\"a\":2,\"m\":3}"},
    /* flow collections */
    {"flow_sequence", "a: [1, two, \"three\"]", "{\"a\":[1,\"two\",\"three\"]}"},
    {"flow_mapping_nested", "a: {b: [1, {c: d}], e: {}}", "{\"a\":{\"b\":[1,{\"c\":\"d\"}],\"e\":{}}}"},
    {"flow_over_lines", "a: [1,\n  2,\n    3\n]\n", "{\"a\":[1,2,3]}"},
    {"flow_trailing_comma", "a: [1, 2, ]\nb: {c: 1,}", "{\"a\":[1,2],\"b\":{\"c\":1}}"},
    {"flow_key_without_value", "{a, b: 1}", "{\"a\":null,\"b\":1}"},
    {"flow_json_style", "{\"a\":1,\"b\":[true,null]}", "{\"a\":1,\"b\":[true,null]}"},
    {"flow_plain_colon_no_space", "{a:1}", "{\"a:1\":null}"},
    {"flow_url", "[http://a.example:80/x]", "[\"http://a.example:80/x\"]"},
    {"flow_empty_value", "{a: , b:}", "{\"a\":null,\"b\":null}"},
    /* plain scalars */
    {"plain_with_colons_and_hashes", "a: ollama/llama2:13b#x y", "{\"a\":\"ollama/llama2:13b#x y\"}"},
    {"plain_folded_over_lines", "a: one\n  two\n\n  three\nb: 1", "{\"a\":\"one two\\nthree\",\"b\":1}"},
    {"plain_trailing_spaces_dropped", "a: x   \nb: y  # c", "{\"a\":\"x\",\"b\":\"y\"}"},
    {"plain_dash_and_question_inside", "a: -x ?y :z", "{\"a\":\"-x ?y :z\"}"},
    /* quoted scalars */
    {"single_quotes", "a: 'it''s \\n # not a comment'", "{\"a\":\"it's \\\\n # not a comment\"}"},
    {"double_quote_escapes", "a: \"\\n\\t\\\"\\\\\\/\\0\\a\\b\\v\\f\\r\\e\\ \"",
     "{\"a\":\"\\n\\t\\\"\\\\/\\u0000\\u0007\\b\\u000b\\f\\r\\u001b \"}"},
    {"double_quote_code_points", "a: \"\\x41\\xe9\\u00e9\\u263A\\U0001F600\\N\\_\\L\\P\"",
     "{\"a\":\"A\xc3\xa9\xc3\xa9\xe2\x98\xba\xf0\x9f\x98\x80\xc2\x85\xc2\xa0\xe2\x80\xa8\xe2\x80\xa9\"}"},
    {"quoted_folding", "a: \"one\n   two\n\n  three  \n four\"", "{\"a\":\"one two\\nthree four\"}"},
    {"quoted_escaped_line_break", "a: \"one\\\n    two\"", "{\"a\":\"onetwo\"}"},
    {"quoted_keys", "\"a b\": 1\n'c''d': 2\n\"\": 3", "{\"a b\":1,\"c'd\":2,\"\":3}"},
    {"quoted_key_json_colon", "{\"a\":\"b\"}", "{\"a\":\"b\"}"},
    {"quoted_tab_kept", "a: \"x\ty\"", "{\"a\":\"x\\ty\"}"},
    /* block scalars */
    {"literal_clip", "a: |\n  x\n   y\n\n\nb: 1", "{\"a\":\"x\\n y\\n\",\"b\":1}"},
    {"literal_strip", "a: |-\n  x\n\n", "{\"a\":\"x\"}"},
    {"literal_keep", "a: |+\n  x\n\n\nb: 1", "{\"a\":\"x\\n\\n\\n\",\"b\":1}"},
    {"folded", "a: >\n  one\n  two\n\n  three\n    more\n  four\n", "{\"a\":\"one two\\nthree\\n  more\\nfour\\n\"}"},
    {"folded_strip", "a: >-\n  one\n  two\n", "{\"a\":\"one two\"}"},
    {"indentation_digit", "a: |2\n    x\n  y\n", "{\"a\":\"  x\\ny\\n\"}"},
    {"indicators_both_orders", "a: |-2\n   x\nb: |2-\n   y\n", "{\"a\":\" x\",\"b\":\" y\"}"},
    {"literal_header_comment", "a: | # prompt\n  x\n", "{\"a\":\"x\\n\"}"},
    {"literal_keeps_hash_and_tabs", "a: |\n  # not a comment\n  x\ty\n", "{\"a\":\"# not a comment\\nx\\ty\\n\"}"},
    {"literal_in_sequence", "- |\n x\n- >\n y\n", "[\"x\\n\",\"y\\n\"]"},
    {"literal_at_end_without_newline", "a: |\n  x", "{\"a\":\"x\"}"},
    {"literal_empty", "a: |\nb: 1", "{\"a\":\"\",\"b\":1}"},
    /* resolution as YAML 1.1 (PyYAML) */
    {"nulls", "[~, null, Null, NULL, nUll]", "[null,null,null,null,\"nUll\"]"},
    {"plain_item_continues_on_a_deeper_line", "- a\n  - b\n", "[\"a - b\"]"},
    {"empty_values_are_null", "a:\nb: ~\n", "{\"a\":null,\"b\":null}"},
    {"booleans", "[true, True, TRUE, false, False, FALSE, yes, Yes, YES, no, No, NO, on, On, ON, off, Off, OFF]",
     "[true,true,true,false,false,false,true,true,true,false,false,false,true,true,true,false,false,false]"},
    {"not_booleans", "[tRUE, yEs, y, n, Y, N, oN]", "[\"tRUE\",\"yEs\",\"y\",\"n\",\"Y\",\"N\",\"oN\"]"},
    {"integers", "[0, -0, +7, 42, 80_000, 1_000_000, 0x1F, 0x_ff, -0x10, 0b101, 017, 0_7, 0_]",
     "[0,0,7,42,80000,1000000,31,255,-16,5,15,7,0]"},
    {"integer_limits", "[9223372036854775807, -9223372036854775808]", "[9223372036854775807,-9223372036854775808]"},
    {"floats", "[1.5, .5, 1., -0.0, 1_000.5, 2.5e-7, 1.0e+3, 6.02E+23, 0.00000015, 00.5]",
     "[1.5,0.5,1.0,-0.0,1000.5,2.5e-7,1000.0,6.02e+23,1.5e-7,0.5]"},
    {"float_underflow_is_zero", "1.0e-999", "0.0"},
    {"not_numbers", "[1e-6, 1.0e5, 1e3, -.5, +.5, 08, 0o17, 0x, 1_2a, .5.5, 1.5e+, _1]",
     "[\"1e-6\",\"1.0e5\",\"1e3\",\"-.5\",\"+.5\",\"08\",\"0o17\",\"0x\",\"1_2a\",\".5.5\",\"1.5e+\",\"_1\"]"},
    {"date_is_its_text", "api_version: 2024-02-29", "{\"api_version\":\"2024-02-29\"}"},
    {"almost_dates_are_text", "[2023-5-15, 2023-05-15-preview, 2023-05-15x, 12023-05-15]",
     "[\"2023-5-15\",\"2023-05-15-preview\",\"2023-05-15x\",\"12023-05-15\"]"},
    {"not_base_60", "[1:60, a:30, 1:2:x]", "[\"1:60\",\"a:30\",\"1:2:x\"]"},
    {"quoted_is_always_text", "[\"1\", '2.5', \"true\", 'null', \"2023-05-15\", \"~\", '1:30']",
     "[\"1\",\"2.5\",\"true\",\"null\",\"2023-05-15\",\"~\",\"1:30\"]"},
    {"block_scalar_is_always_text", "a: |-\n  80_000", "{\"a\":\"80_000\"}"},
    {"litellm_entry", "model_list:\n  - model_name: chat\n    litellm_params:\n      model: azure/gpt-4o  # deployment\n"
                      "      api_key: os.environ/AZURE_API_KEY\n      api_version: \"2024-02-01\"\n      tpm: 20_000\n"
                      "      input_cost_per_token: 0.00000015\n",
     "{\"model_list\":[{\"model_name\":\"chat\",\"litellm_params\":{\"model\":\"azure/gpt-4o\",\"api_key\":"
     "\"os.environ/AZURE_API_KEY\",\"api_version\":\"2024-02-01\",\"tpm\":20000,\"input_cost_per_token\":1.5e-7}}]}"},
};

static void test_read_cases(void) {
    size_t i;
    for (i = 0; i < sizeof read_cases / sizeof read_cases[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "yaml_reads_%s", read_cases[i].name);
        if (!t_selected(name)) continue;
        t_begin();
        CHECK_STR(as_json(read_cases[i].yaml), read_cases[i].json);
        t_end(name);
    }
}

/* --- what it refuses: the place and the message, exactly ------------------------------------ */

static const struct yaml_case refused_cases[] = {
    {"anchor", "a: &x 1\nb: *x\n", "ERROR 1:4: an anchor (&) or alias (*): not supported; write the value out"},
    {"alias", "a: *x\n", "ERROR 1:4: an anchor (&) or alias (*): not supported; write the value out"},
    {"tag", "a: !!str 1\n", "ERROR 1:4: a tag (!): not supported; remove it (quote the value for text)"},
    {"directive", "%YAML 1.1\n---\na: 1\n", "ERROR 1:1: a directive (%): not supported; remove it"},
    {"complex_key", "? a\n: b\n", "ERROR 1:1: a complex key ('? ') or a ':' without a key: write KEY: VALUE"},
    {"colon_without_key", "a: 1\n: b\n", "ERROR 2:1: a complex key ('? ') or a ':' without a key: write KEY: VALUE"},
    {"second_document", "a: 1\n---\nb: 2\n",
     "ERROR 2:1: a second document ('---'): a config is one document; remove the marker and what follows"},
    {"text_after_end", "a: 1\n...\nb: 2\n", "ERROR 3:1: text after the end of the document ('...'): remove one or the other"},
    {"end_marker_before_any_document", "# c\n...\n", "ERROR 2:1: '...' ends a document that has not begun: remove it"},
    {"text_after_start_marker", "--- a: 1\n", "ERROR 1:5: text after '---' or '...': start it on the next line"},
    {"tab_indentation", "a:\n\tb: 1\n", "ERROR 2:1: a tab: YAML indents and separates with spaces only; replace it"},
    {"tab_after_colon", "a:\t1\n", "ERROR 1:3: a tab: YAML indents and separates with spaces only; replace it"},
    {"tab_after_value", "a: 1\t\n", "ERROR 1:5: a tab: YAML indents and separates with spaces only; replace it"},
    {"duplicate_key", "a: 1\nb: 2\na: 3\n",
     "ERROR 3:1: a key repeated in its mapping: YAML readers differ on which one counts; keep one"},
    {"duplicate_key_quoted_and_plain", "x:\n  \"a\": 1\n  a: 2\n",
     "ERROR 3:3: a key repeated in its mapping: YAML readers differ on which one counts; keep one"},
    {"duplicate_key_in_flow", "{a: 1, b: 2, a: 3}",
     "ERROR 1:14: a key repeated in its mapping: YAML readers differ on which one counts; keep one"},
    {"integer_key", "1: a\n", "ERROR 1:1: a key YAML reads as a number, boolean, null or date: quote it"},
    {"boolean_key", "on: push\n", "ERROR 1:1: a key YAML reads as a number, boolean, null or date: quote it"},
    {"null_key", "~: a\n", "ERROR 1:1: a key YAML reads as a number, boolean, null or date: quote it"},
    {"float_key", "{1.5: a}", "ERROR 1:2: a key YAML reads as a number, boolean, null or date: quote it"},
    {"date_key", "2024-01-01: a\n", "ERROR 1:1: a key YAML reads as a number, boolean, null or date: quote it"},
    {"flow_key", "[a]: b\n", "ERROR 1:4: a ':' after a value: a key is text on one line (quote a value holding ': ')"},
    {"multi_line_key", "\"a\n b\": 1\n", "ERROR 1:1: a key on more than one line: write it on one line"},
    {"mapping_on_its_keys_line", "a: b: c\n", "ERROR 1:4: a mapping on its key's line (a: b: c): start it on the next line, indented"},
    {"sequence_on_its_keys_line", "a: - b\n", "ERROR 1:4: a list on its key's line: start it on the next line"},
    {"over_indented_key", "a:\n  b: 1\n    c: 2\n",
     "ERROR 3:5: indented more than the keys above: align it with them, or nest it under a key that has no value"},
    {"under_indented_key", "a:\n    b: 1\n  c: 2\n",
     "ERROR 3:3: indented more than the keys above: align it with them, or nest it under a key that has no value"},
    {"item_where_key_belongs", "a: 1\n- b\n", "ERROR 2:1: a '- ' item where a key belongs: indent the list under its key"},
    {"misaligned_item", "- [a]\n  - b\n", "ERROR 2:3: indented more than the '- ' above: align it with them"},
    {"no_colon_after_key", "a: 1\nb\n", "ERROR 2:2: expected ': ' after the key"},
    {"text_after_quoted_value", "a: \"x\" y\n", "ERROR 1:8: text after the value: quote the value or end the line"},
    {"leftover_line", "- a\nb: 1\n",
     "ERROR 2:1: this line does not fit the indentation above it: align it with the keys or '- ' it belongs to"},
    {"unclosed_double_quote", "a: \"x\n", "ERROR 1:4: a quoted value never closed: add the closing quote"},
    {"unclosed_single_quote", "a: 'x''\n", "ERROR 1:4: a quoted value never closed: add the closing quote"},
    {"unclosed_flow", "a: [1, 2\n", "ERROR 1:4: a '[' never closed: add ']'"},
    {"unclosed_flow_mapping", "a: {b: 1", "ERROR 1:4: a '{' never closed: add '}'"},
    {"flow_missing_comma", "[a b: c]", "ERROR 1:5: a KEY: VALUE pair inside [ ]: write it as {KEY: VALUE}"},
    {"flow_missing_comma_mapping", "{a: 1 b: 2}", "ERROR 1:8: expected ',' or '}'"},
    {"flow_stray_comma", "[,]", "ERROR 1:2: a plain value cannot start with this character: quote it"},
    {"flow_dash_item", "[- a]", "ERROR 1:2: a '- ' item where a value belongs: start the list on its own line"},
    {"unknown_escape", "a: \"\\q\"", "ERROR 1:5: an unknown escape: write \\\\ for a backslash"},
    {"short_hex_escape", "a: \"\\x4\"", "ERROR 1:5: an escape needs hexadecimal digits: \\xFF, \\uFFFF or \\UFFFFFFFF"},
    {"surrogate_escape", "a: \"\\ud83d\"", "ERROR 1:5: an escape of a surrogate or beyond U+10FFFF: write the character itself"},
    {"escape_beyond_unicode", "a: \"\\U00110000\"", "ERROR 1:5: an escape of a surrogate or beyond U+10FFFF: write the character itself"},
    {"document_marker_in_quotes", "a: \"x\n---\ny\"\n", "ERROR 2:1: '---' or '...' inside a quoted value: indent the line"},
    {"block_indicator_zero", "a: |0\n  x\n",
     "ERROR 1:5: after | or >: only - or +, a digit 1-9 and a comment; the text starts on the next line"},
    {"block_text_on_header_line", "a: | x\n",
     "ERROR 1:6: after | or >: only - or +, a digit 1-9 and a comment; the text starts on the next line"},
    {"block_comment_without_space", "a: |#c\n  x\n",
     "ERROR 1:5: after | or >: only - or +, a digit 1-9 and a comment; the text starts on the next line"},
    {"merge_key", "<<: {a: 1}\n", "ERROR 1:1: '<<' and '=' have special meanings in YAML: quote them"},
    {"value_indicator", "a: =\n", "ERROR 1:4: '<<' and '=' have special meanings in YAML: quote them"},
    {"infinity", "a: .inf\n", "ERROR 1:4: infinity or NaN: JSON has neither; quote it for text"},
    {"nan", "a: -.NaN\n", "ERROR 1:4: infinity or NaN: JSON has neither; quote it for text"},
    {"integer_beyond_64_bits", "a: 9223372036854775808\n", "ERROR 1:4: an integer beyond 64 bits: quote it for text"},
    {"negative_integer_beyond_64_bits", "a: -9_223_372_036_854_775_809\n", "ERROR 1:4: an integer beyond 64 bits: quote it for text"},
    {"hex_without_digits", "a: 0x_\n", "ERROR 1:4: a number without digits: quote it for text"},
    {"float_beyond_double", "a: 1.0e+309\n", "ERROR 1:4: a number beyond the range of a double: quote it for text"},
    {"base_60", "a: 1:30\n", "ERROR 1:4: a base-60 number (YAML 1.1 reads 1:30 as 90): quote it for text"},
    {"base_60_float", "a: 190:20:30.15\n", "ERROR 1:4: a base-60 number (YAML 1.1 reads 1:30 as 90): quote it for text"},
    {"invalid_date", "a: 2023-02-29\n", "ERROR 1:4: not a date (YAML reads YYYY-MM-DD as one): quote it for text"},
    {"date_month_13", "a: 2023-13-01\n", "ERROR 1:4: not a date (YAML reads YYYY-MM-DD as one): quote it for text"},
    {"timestamp", "a: 2001-12-14t21:59:43.10-05:00\n", "ERROR 1:4: a timestamp (YAML 1.1 reads it as a date and time): quote it for text"},
    {"timestamp_with_space", "a: 2001-12-14 21:59:43\n", "ERROR 1:4: a timestamp (YAML 1.1 reads it as a date and time): quote it for text"},
    {"reserved_at", "a: @x\n", "ERROR 1:4: a plain value cannot start with this character: quote it"},
    {"reserved_backtick", "a: `x`\n", "ERROR 1:4: a plain value cannot start with this character: quote it"},
    {"long_key", NULL, "ERROR 1:1: a key longer than 1024 characters: YAML stops looking for its ':' there"},
    {"invalid_utf8", "a: \xc3\x28\n", "ERROR 1:4: not UTF-8: save the file as UTF-8"},
    {"control_character", "a: x\x01y\n",
     "ERROR 1:5: a control character, line separator or CR without LF: write it as an escape in double quotes"},
    {"lone_carriage_return", "a: 1\rb: 2\n",
     "ERROR 1:5: a control character, line separator or CR without LF: write it as an escape in double quotes"},
    {"line_separator", "a: x\xe2\x80\xa8y\n",
     "ERROR 1:5: a control character, line separator or CR without LF: write it as an escape in double quotes"},
    {"next_line_character", "a: \"x\xc2\x85y\"\n",
     "ERROR 1:6: a control character, line separator or CR without LF: write it as an escape in double quotes"},
    {"error_column_counts_characters", "\xc3\xa9\xc3\xa9: &x 1\n", "ERROR 1:5: an anchor (&) or alias (*): not supported; write the value out"},
};

static void test_refused_cases(void) {
    char long_key[1100];
    size_t i;
    memset(long_key, 'k', 1025);
    memcpy(long_key + 1025, ": 1\n", 5);
    for (i = 0; i < sizeof refused_cases / sizeof refused_cases[0]; i++) {
        char name[128];
        snprintf(name, sizeof name, "yaml_refuses_%s", refused_cases[i].name);
        if (!t_selected(name)) continue;
        t_begin();
        CHECK_STR(as_json(refused_cases[i].yaml ? refused_cases[i].yaml : long_key), refused_cases[i].json);
        t_end(name);
    }
}

/* --- limits and the API ------------------------------------------------------------------- */

static void yaml_key_of_1024_characters_is_read(void) {
    char doc[1100], want[1100];
    memset(doc, 'k', 1024);
    memcpy(doc + 1024, ": 1", 4);
    snprintf(want, sizeof want, "{\"%.*s\":1}", 1024, doc);
    CHECK_STR(as_json(doc), want);
}

static void yaml_needs_no_nul_terminator(void) {
    /* the length ends the text: "a: 12" read as "a: 1" */
    CHECK_STR(as_json_n("a: 12", 4), "{\"a\":1}");
    CHECK_STR(as_json_n("a: \"x\"", 5), "ERROR 1:4: a quoted value never closed: add the closing quote");
}

static void yaml_refuses_deep_nesting_without_running_out_of_stack(void) {
    size_t n = 200000, i;
    char *s = (char *)malloc(2 * n + 1);
    for (i = 0; i < n; i++) s[i] = '[';
    for (i = 0; i < n; i++) s[n + i] = ']';
    s[2 * n] = 0;
    CHECK_STR(as_json(s), "ERROR 1:129: nested deeper than the limit (max_depth)");
    free(s);
    /* the same in block style: one level per line, each indented one more */
    s = (char *)malloc(300 * 302);
    for (n = 0, i = 0; i < 300; i++) {
        memset(s + n, ' ', i);
        memcpy(s + n + i, "-\n", 2);
        n += i + 2;
    }
    s[n] = 0;
    CHECK_STR(as_json(s), "ERROR 129:129: nested deeper than the limit (max_depth)");
    free(s);
}

static void yaml_depth_limit_is_exact_and_configurable(void) {
    char s[300];
    llmsplit_json_desc d;
    llmsplit_json_doc *doc = NULL;
    llmsplit_error err;
    int i;
    for (i = 0; i < LLMSPLIT_YAML_MAX_DEPTH; i++) s[i] = '[';
    for (i = 0; i < LLMSPLIT_YAML_MAX_DEPTH; i++) s[LLMSPLIT_YAML_MAX_DEPTH + i] = ']';
    s[2 * LLMSPLIT_YAML_MAX_DEPTH] = 0;
    CHECK_EQ_INT(llmsplit_yaml_parse(s, strlen(s), NULL, &doc, &err), LLMSPLIT_OK);
    llmsplit_json_free(doc);
    memset(&d, 0, sizeof d);
    d.max_depth = 3;
    CHECK_EQ_INT(llmsplit_yaml_parse("a:\n  b:\n    c: [1]", 18, &d, &doc, &err), LLMSPLIT_ERR_CONFIG);
    CHECK(doc == NULL);
    CHECK_EQ_INT(err.line, 3);
    CHECK_EQ_INT(err.col, 8);
    CHECK_EQ_INT(llmsplit_yaml_parse("a:\n  b:\n    c: 1", 16, &d, &doc, &err), LLMSPLIT_OK);
    llmsplit_json_free(doc);
}

static void yaml_error_has_line_column_and_offset(void) {
    llmsplit_json_doc *doc = NULL;
    llmsplit_error err;
    const char *s = "a: 1\nb:\n  c: &x\n";
    CHECK_EQ_INT(llmsplit_yaml_parse(s, strlen(s), NULL, &doc, &err), LLMSPLIT_ERR_CONFIG);
    CHECK(doc == NULL);
    CHECK_EQ_INT(err.code, LLMSPLIT_ERR_CONFIG);
    CHECK_EQ_INT(err.line, 3);
    CHECK_EQ_INT(err.col, 6);
    CHECK_EQ_UINT(err.offset, 13);
}

static void yaml_null_arguments_are_usage_errors(void) {
    llmsplit_json_doc *doc;
    llmsplit_error err;
    CHECK_EQ_INT(llmsplit_yaml_parse("a: 1", 4, NULL, NULL, &err), LLMSPLIT_ERR_USAGE);
    CHECK_EQ_INT(llmsplit_yaml_parse(NULL, 4, NULL, &doc, &err), LLMSPLIT_ERR_USAGE);
    CHECK(doc == NULL);
    CHECK_EQ_INT(llmsplit_yaml_parse(NULL, 0, NULL, &doc, NULL), LLMSPLIT_OK);
    CHECK_EQ_INT(llmsplit_json_type_of(llmsplit_json_root(doc)), LLMSPLIT_JSON_NULL);
    llmsplit_json_free(doc);
}

/* An allocator that fails after a set number of allocations. */
typedef struct { int left, live; } budget;
static void *budget_alloc(size_t n, void *ud) {
    budget *b = (budget *)ud;
    if (b->left-- <= 0) return NULL;
    b->live++;
    return malloc(n);
}
static void budget_free(void *p, void *ud) {
    if (p) ((budget *)ud)->live--;
    free(p);
}

static void yaml_out_of_memory_is_reported_and_leaks_nothing(void) {
    const char *s = "model_list:\n  - model_name: a\n    litellm_params: {model: gpt-4, rpm: 80_000}\n  - x: |\n      text\n";
    int n, ok = 0, nomem = 0;
    for (n = 0; n < 40; n++) {
        budget b = {0, 0};
        llmsplit_json_desc d;
        llmsplit_json_doc *doc = NULL;
        llmsplit_error err;
        llmsplit_status st;
        b.left = n;
        memset(&d, 0, sizeof d);
        d.allocator.alloc_fn = budget_alloc;
        d.allocator.free_fn = budget_free;
        d.allocator.user_data = &b;
        st = llmsplit_yaml_parse(s, strlen(s), &d, &doc, &err);
        if (st == LLMSPLIT_OK) ok++;
        else if (st == LLMSPLIT_ERR_NOMEM) nomem++;
        else printf("  with %d allocations: %s %s\n", n, llmsplit_strerror(st), err.message);
        CHECK(st == LLMSPLIT_OK || st == LLMSPLIT_ERR_NOMEM);
        llmsplit_json_free(doc);
        CHECK_EQ_INT(b.live, 0);
    }
    CHECK_GT_INT(nomem, 0);
    CHECK_GT_INT(ok, 0);
}

static void yaml_document_goes_into_a_caller_buffer(void) {
    static char buffer[8192];
    llmsplit_json_desc d;
    llmsplit_json_doc *doc = NULL;
    llmsplit_error err;
    memset(&d, 0, sizeof d);
    d.buffer = buffer;
    d.buffer_size = sizeof buffer;
    CHECK_EQ_INT(llmsplit_yaml_parse("a: [1, 2]\nb: x\n", 15, &d, &doc, &err), LLMSPLIT_OK);
    CHECK((void *)doc == (void *)buffer);
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_path(llmsplit_json_root(doc), "a[1]")), 2);
    llmsplit_json_free(doc);
}

static void yaml_numbers_keep_their_type(void) {
    llmsplit_json_doc *doc = NULL;
    const llmsplit_json_val *r;
    const char *s = "i: 80_000\nf: 1.\ne: 2.5e-7\nt: 1e-6\n";
    CHECK_EQ_INT(llmsplit_yaml_parse(s, strlen(s), NULL, &doc, NULL), LLMSPLIT_OK);
    r = llmsplit_json_root(doc);
    CHECK(llmsplit_json_is_int(llmsplit_json_get(r, "i")));
    CHECK_EQ_INT(llmsplit_json_int(llmsplit_json_get(r, "i")), 80000);
    CHECK(!llmsplit_json_is_int(llmsplit_json_get(r, "f")));
    CHECK_EQ_DBL(llmsplit_json_double(llmsplit_json_get(r, "f")), 1.0);
    CHECK_EQ_DBL(llmsplit_json_double(llmsplit_json_get(r, "e")), 2.5e-7);
    CHECK_EQ_INT(llmsplit_json_type_of(llmsplit_json_get(r, "t")), LLMSPLIT_JSON_STRING);
    llmsplit_json_free(doc);
}

/* --- configs: text and files, YAML and JSON ------------------------------------------------ */

static void yaml_config_text_is_read_as_yaml_unless_it_starts_with_a_brace(void) {
    llmsplit_config *cfg = NULL;
    llmsplit_error err;
    const char *yaml = "# a comment first\nmodel_list:\n  - model_name: chat\n    litellm_params: {model: gpt-4, weight: 1}\n";
    CHECK_EQ_INT(llmsplit_config_parse(yaml, strlen(yaml), NULL, &cfg, &err), LLMSPLIT_OK);
    if (cfg) CHECK_STR(cfg->deployments[0].model, "gpt-4");
    llmsplit_config_free(cfg);
    /* JSON text: as strict as ever (YAML would take the unquoted key) */
    CHECK_EQ_INT(llmsplit_config_parse(" \n{model_list: []}", 17, NULL, &cfg, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_STR(err.message, "json: 2:2: expected string key");
}

static void yaml_empty_config_says_what_is_missing(void) {
    llmsplit_config *cfg = NULL;
    llmsplit_error err;
    CHECK_EQ_INT(llmsplit_config_parse("# only a comment\n", 17, NULL, &cfg, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_STR(err.message, "the top level must be an object (KEY: VALUE lines in YAML)");
    CHECK_EQ_INT(llmsplit_config_parse("litellm_settings: {}\n", 21, NULL, &cfg, &err), LLMSPLIT_ERR_CONFIG);
    CHECK_STR(err.message, "no model_list or split: nothing to route");
}

static void yaml_config_text_error_names_line_and_column(void) {
    llmsplit_config *cfg = NULL;
    llmsplit_error err;
    const char *yaml = "model_list:\n  - model_name: chat\n\tlitellm_params: {}\n";
    CHECK_EQ_INT(llmsplit_config_parse(yaml, strlen(yaml), NULL, &cfg, &err), LLMSPLIT_ERR_CONFIG);
    CHECK(cfg == NULL);
    CHECK_STR(err.message, "yaml: 3:1: a tab: YAML indents and separates with spaces only; replace it");
    CHECK_EQ_INT(err.line, 3);
    CHECK_EQ_INT(err.col, 1);
    CHECK_EQ_UINT(err.offset, 33);
}

static char tmpdir[64];

static const char *write_tmp(const char *name, const char *text) {
    static char path[128];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    f = fopen(path, "wb");
    fputs(text, f);
    fclose(f);
    return path;
}

static void yaml_config_file_error_is_file_line_column(void) {
    llmsplit_config *cfg = NULL;
    llmsplit_error err;
    char want[300];
    const char *path = write_tmp("bad.yaml", "model_list:\n  - model_name: a\n    litellm_params:\n      model: &m gpt-4\n");
    CHECK_EQ_INT(llmsplit_config_load(path, NULL, &cfg, &err), LLMSPLIT_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:4:14: an anchor (&) or alias (*): not supported; write the value out", path);
    CHECK_STR(err.message, want);
    CHECK_EQ_INT(err.line, 4);
    CHECK_EQ_INT(err.col, 14);
    /* a JSON file the same way */
    path = write_tmp("bad.json", "{\"model_list\":\n [,]}");
    CHECK_EQ_INT(llmsplit_config_load(path, NULL, &cfg, &err), LLMSPLIT_ERR_CONFIG);
    snprintf(want, sizeof want, "%s:2:3: unexpected character", path);
    CHECK_STR(err.message, want);
    /* a client given the file says the same */
    {
        llmsplit_client_desc d;
        llmsplit_client *c = NULL;
        memset(&d, 0, sizeof d);
        d.config_file = path;
        CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_ERR_CONFIG);
        CHECK(c == NULL);
        CHECK_STR(err.message, want);
    }
}

static void yaml_litellm_silent_model_config_loads_unchanged(void) {
    llmsplit_config *cfg = NULL;
    llmsplit_error err;
    const llmsplit_group *chat;
    setenv("OPENAI_API_KEY", "sk-test-openai", 1);
    CHECK_EQ_INT(llmsplit_config_load("tests/data/yaml/silent_model.yaml", NULL, &cfg, &err), LLMSPLIT_OK);
    if (!cfg) { printf("  %s\n", err.message); return; }
    CHECK_EQ_INT(cfg->num_deployments, 3);
    chat = llmsplit_config_group(cfg, "chat");
    CHECK(chat != NULL);
    if (chat) CHECK_EQ_INT(chat->count, 2);
    CHECK_STR(cfg->deployments[0].model, "gpt-4");
    CHECK_STR(cfg->deployments[0].api_key, "sk-test-openai");
    CHECK_EQ_DBL(cfg->deployments[0].share, 0.8);
    CHECK_STR(cfg->deployments[1].silent_model, "eval");
    CHECK(llmsplit_config_group(cfg, cfg->deployments[1].silent_model) != NULL);
    CHECK_EQ_DBL(cfg->deployments[2].timeout_s, 30.0);
    CHECK_EQ_INT(cfg->num_retries, 1);
    CHECK_EQ_INT(cfg->rollback.window, 50);
    CHECK_EQ_DBL(cfg->rollback.max_error_rate, 0.5);
    if (chat) CHECK_EQ_INT(chat->num_fallbacks, 1);
    llmsplit_config_free(cfg);
    /* and a client takes the same file as its config_file */
    {
        llmsplit_client_desc d;
        llmsplit_client *c = NULL;
        memset(&d, 0, sizeof d);
        d.config_file = "tests/data/yaml/silent_model.yaml";
        CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
        CHECK(c != NULL);
        llmsplit_client_destroy(c);
    }
}

static void yaml_shorthand_and_crlf_configs_load(void) {
    llmsplit_config *cfg = NULL;
    llmsplit_error err;
    CHECK_EQ_INT(llmsplit_config_load("tests/data/yaml/split_shorthand.yaml", NULL, &cfg, &err), LLMSPLIT_OK);
    if (cfg) {
        CHECK_EQ_INT(cfg->num_deployments, 2);
        CHECK_STR(cfg->groups[0].name, "default");
        CHECK_EQ_DBL(cfg->deployments[1].share, 0.2);
    }
    llmsplit_config_free(cfg);
    CHECK_EQ_INT(llmsplit_config_load("tests/data/yaml/crlf.yaml", NULL, &cfg, &err), LLMSPLIT_OK);
    if (cfg) {
        CHECK_EQ_INT(cfg->sticky, 0);
        CHECK_STR(cfg->deployments[0].extra_params, "{\"prompt\":\"line one\\nline two\\n\"}");
    }
    llmsplit_config_free(cfg);
}

/* Counts the records of a client run. */
typedef struct { pthread_mutex_t lock; int primary, silent, silent_ok; } counts;
static void count_record(const llmsplit_record *r, const char *line, size_t len, void *ud) {
    counts *c = (counts *)ud;
    (void)line; (void)len;
    pthread_mutex_lock(&c->lock);
    if (strcmp(r->event, "call") == 0 && strcmp(r->role, "primary") == 0) c->primary++;
    if (strcmp(r->event, "call") == 0 && strcmp(r->role, "silent") == 0) { c->silent++; c->silent_ok += r->ok; }
    pthread_mutex_unlock(&c->lock);
}

static void yaml_config_file_drives_mirroring_against_the_mock(void) {
    mock m;
    char yaml[2048];
    const char *path;
    llmsplit_client_desc d;
    llmsplit_client *c = NULL;
    llmsplit_error err;
    counts n;
    int i;
    if (!mock_start(&m, 0, NULL)) SKIP("build/llmsplit mock did not start (run make first)");
    /* LiteLLM's form: a list entry with silent_model, keys from the environment, comments */
    snprintf(yaml, sizeof yaml,
             "model_list:\n"
             "  - model_name: chat            # what the app asks for\n"
             "    litellm_params:\n"
             "      model: openai/gpt-4o\n"
             "      api_base: %s/v1\n"
             "      api_key: os.environ/LLMSPLIT_TEST_KEY\n"
             "      silent_model: eval        # mirrored, answer only logged\n"
             "  - model_name: eval\n"
             "    litellm_params:\n"
             "      model: openai/gpt-4o-mini\n"
             "      api_base: %s/v1\n"
             "      api_key: os.environ/LLMSPLIT_TEST_KEY\n"
             "      temperature: 0.0\n"
             "router_settings:\n"
             "  mirror_sample_rate: 1.0\n"
             "general_settings:\n"
             "  master_key: sk-1234\n",
             m.url, m.url);
    setenv("LLMSPLIT_TEST_KEY", "sk-mock", 1);
    path = write_tmp("mirror.yaml", yaml);
    memset(&n, 0, sizeof n);
    pthread_mutex_init(&n.lock, NULL);
    memset(&d, 0, sizeof d);
    d.config_file = path;
    d.http.proxy = "";
    d.on_record = count_record;
    d.user_data = &n;
    CHECK_EQ_INT(llmsplit_client_create(&d, &c, &err), LLMSPLIT_OK);
    if (!c) { printf("  %s\n", err.message); mock_stop(&m); return; }
    for (i = 0; i < 5; i++) {
        llmsplit_message msg = {"user", "hello", 0, NULL, NULL, NULL, NULL};
        llmsplit_request rq;
        llmsplit_result r;
        memset(&rq, 0, sizeof rq);
        rq.group = "chat";
        rq.messages = &msg;
        rq.num_messages = 1;
        CHECK_EQ_INT(llmsplit_client_chat(c, &rq, &r, &err), LLMSPLIT_OK);
        CHECK(r.mirrored);
        if (i == 0) CHECK_CONTAINS(r.response.text.data, "mock reply from gpt-4o: hello");
        llmsplit_result_free(&r);
    }
    CHECK_EQ_INT(llmsplit_client_wait_mirrors(c, 20000), LLMSPLIT_OK);
    llmsplit_client_destroy(c);
    CHECK_EQ_INT(n.primary, 5);
    CHECK_EQ_INT(n.silent, 5);
    CHECK_EQ_INT(n.silent_ok, 5);
    mock_stop(&m);
}

int main(int argc, char **argv) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/llmsplit-yaml-XXXXXX");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 2; }
    t_init(argc, argv);
    test_read_cases();
    test_refused_cases();
    RUN(yaml_key_of_1024_characters_is_read);
    RUN(yaml_needs_no_nul_terminator);
    RUN(yaml_refuses_deep_nesting_without_running_out_of_stack);
    RUN(yaml_depth_limit_is_exact_and_configurable);
    RUN(yaml_error_has_line_column_and_offset);
    RUN(yaml_null_arguments_are_usage_errors);
    RUN(yaml_out_of_memory_is_reported_and_leaks_nothing);
    RUN(yaml_document_goes_into_a_caller_buffer);
    RUN(yaml_numbers_keep_their_type);
    RUN(yaml_config_text_is_read_as_yaml_unless_it_starts_with_a_brace);
    RUN(yaml_empty_config_says_what_is_missing);
    RUN(yaml_config_text_error_names_line_and_column);
    RUN(yaml_config_file_error_is_file_line_column);
    RUN(yaml_litellm_silent_model_config_loads_unchanged);
    RUN(yaml_shorthand_and_crlf_configs_load);
    RUN(yaml_config_file_drives_mirroring_against_the_mock);
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
        if (system(cmd) != 0) printf("  could not remove %s\n", tmpdir);
    }
    return t_summary();
}
