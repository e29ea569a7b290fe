# llmsplit: `make` builds build/llmsplit and the examples; `make test` runs the suite;
# `make demo` shows what works. See README.md.
CC       ?= cc
CXX      ?= c++
OPT      ?= -O2 -g
WARN     := -Wall -Wextra -Wpedantic -Werror
CSTD     := -std=c99
LIBS     := -lbearssl -lpthread -lm
BUILD    := build
PREFIX   ?= /usr/local
DESTDIR  ?=
JSONTESTSUITE ?= ../shared/testdata/JSONTestSuite
JSONBENCH     ?= ../shared/testdata/json-bench
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

TOOL     := $(BUILD)/llmsplit
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
SAN_TESTS:= $(patsubst tests/%.c,$(BUILD)/san/%,$(wildcard tests/test_*.c))
# the tests that run threads also run under ThreadSanitizer
THREADED := test_http test_tls test_mock test_pool test_client
TSAN_TESTS:= $(patsubst %,$(BUILD)/san/%_tsan,$(filter $(THREADED),$(patsubst tests/%.c,%,$(wildcard tests/test_*.c))))
HDR      := llmsplit.h

.PHONY: all deps bench-deps test-deps test sanitize conformance bench demo install uninstall clean check-header fuzz

all: deps $(TOOL) $(EXAMPLES)

# Installs what the build needs when run as root; otherwise says exactly what to run.
deps:
	@sh tools/deps.sh libbearssl-dev:/usr/include/bearssl.h

bench-deps:
	@sh tools/deps.sh libbearssl-dev:/usr/include/bearssl.h libcjson-dev:/usr/include/cjson/cJSON.h \
	    libcurl4-openssl-dev:/usr/include/x86_64-linux-gnu/curl/curl.h

$(BUILD)/llmsplit: tools/llmsplit.c $(wildcard tools/*.c) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(OPT) $(WARN) -o $@ $< $(LIBS)

$(BUILD)/examples/%: examples/%.c $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(OPT) $(WARN) -o $@ $< $(LIBS)

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(OPT) $(WARN) -o $@ $< $(LIBS)

$(BUILD)/san/%_tsan: tests/%.c $(wildcard tests/*.h) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) -O1 -g -fsanitize=thread $(WARN) -o $@ $< $(LIBS)

$(BUILD)/san/%: tests/%.c $(wildcard tests/*.h) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) -O1 -g $(SAN) $(WARN) -o $@ $< $(LIBS)

# The header alone, warning-free as C99 under gcc and clang and as C++11.
check-header: | deps
	@mkdir -p $(BUILD)
	@printf '#include "../llmsplit.h"\n#define LLMSPLIT_IMPLEMENTATION\n#include "../llmsplit.h"\nint main(void){return 0;}\n' > $(BUILD)/hdr.c
	@cp $(BUILD)/hdr.c $(BUILD)/hdr.cpp
	$(CC) -std=c99 $(WARN) -fsyntax-only $(BUILD)/hdr.c
	@if command -v clang >/dev/null 2>&1; then echo "clang -std=c99 $(WARN) -fsyntax-only"; clang -std=c99 $(WARN) -fsyntax-only $(BUILD)/hdr.c; fi
	$(CXX) -std=c++11 $(WARN) -fsyntax-only $(BUILD)/hdr.cpp

# what the tests use besides the build: a real TLS server (openssl s_server) and a real nginx
# to compare sticky picks with; without them those tests are skipped with the reason
test-deps:
	@sh tools/deps.sh --optional openssl:/usr/bin/openssl nginx-light:/usr/sbin/nginx

test: all check-header test-deps $(TESTS)
	@sh tests/run $(BUILD)/tests

sanitize: all test-deps $(SAN_TESTS) $(TSAN_TESTS)
	@UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 TSAN_OPTIONS=halt_on_error=1 \
	    sh tests/run $(BUILD)/san

conformance: $(TOOL)
	@sh tests/conformance.sh $(TOOL) $(JSONTESTSUITE)

bench: bench-deps all
	@mkdir -p $(BUILD)
	$(CC) $(CSTD) -O2 -o $(BUILD)/json_bench bench/json_bench.c -lcjson $(LIBS)
	$(CC) $(CSTD) -O2 -o $(BUILD)/cjson_minify bench/cjson_minify.c -lcjson
	$(CC) $(CSTD) -O2 -o $(BUILD)/http_bench bench/http_bench.c $(LIBS) -lcurl
	$(CC) $(CSTD) -O2 -o $(BUILD)/mirror_bench bench/mirror_bench.c $(LIBS)
	@sh bench/run.sh $(BUILD) $(JSONBENCH)

# libFuzzer harnesses (clang); FUZZ_SECONDS each
FUZZ_SECONDS ?= 30
fuzz: | deps
	@mkdir -p $(BUILD)/fuzz
	@for f in fuzz/fuzz_*.c; do n=$$(basename $$f .c); \
	  clang -O1 -g -fsanitize=fuzzer,address,undefined -o $(BUILD)/fuzz/$$n $$f $(LIBS) || exit 1; \
	  mkdir -p $(BUILD)/fuzz/corpus-$$n; \
	  echo "== $$n ($(FUZZ_SECONDS) s)"; \
	  $(BUILD)/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 $(BUILD)/fuzz/corpus-$$n $$( [ -d fuzz/corpus/$$n ] && echo fuzz/corpus/$$n ) 2>&1 | tail -2 || exit 1; \
	done

demo: all
	@sh examples/demo.sh $(BUILD)

install: $(TOOL)
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 llmsplit.h $(DESTDIR)$(PREFIX)/include/llmsplit.h
	install -m 755 $(TOOL) $(DESTDIR)$(PREFIX)/bin/llmsplit
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e "s|@VERSION@|$$(sed -n 's/^#define LLMSPLIT_VERSION "\(.*\)"/\1/p' llmsplit.h)|" \
	    tools/llmsplit.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/llmsplit.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/llmsplit.h $(DESTDIR)$(PREFIX)/bin/llmsplit $(DESTDIR)$(PREFIX)/lib/pkgconfig/llmsplit.pc

clean:
	rm -rf $(BUILD)
