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
# float-cast-overflow is not part of "undefined" (gcc and clang both have it): a double beyond the
# target's range cast to an integer
SAN      := -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined,float-cast-overflow

TOOL     := $(BUILD)/llmsplit
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
SAN_TESTS:= $(patsubst tests/%.c,$(BUILD)/san/%,$(wildcard tests/test_*.c))
# the tests that run threads also run under ThreadSanitizer
THREADED := test_http test_tls test_mock test_pool test_client test_oncall test_records test_judge test_json
TSAN_TESTS:= $(patsubst %,$(BUILD)/san/%_tsan,$(filter $(THREADED),$(patsubst tests/%.c,%,$(wildcard tests/test_*.c))))
HDR      := llmsplit.h

.PHONY: all deps bench-deps test-deps variants install-check footprint test sanitize conformance bench demo demo-live install uninstall clean check-header check-tools fuzz

all: deps $(TOOL) $(EXAMPLES)

# Installs what the build needs when run as root; otherwise says exactly what to run.
deps:
	@sh tools/deps.sh libbearssl-dev:/usr/include/bearssl.h

bench-deps:
	@sh tools/deps.sh libbearssl-dev:/usr/include/bearssl.h libcjson-dev:/usr/include/cjson/cJSON.h \
	    libcurl4-openssl-dev:/usr/include/x86_64-linux-gnu/curl/curl.h
	@sh tools/deps.sh --optional nginx-light:/usr/sbin/nginx
	@sh tools/deps.sh --optional valgrind:/usr/bin/valgrind

# The tool carries BearSSL inside (static): it starts faster (no extra shared object to load and
# relocate, ~0.4 ms a run) and an installed copy needs nothing but libc.
TOOL_LIBS := -Wl,-Bstatic -lbearssl -Wl,-Bdynamic -lpthread -lm

# The dashboard's page is real files in tools/ui/, carried inside the tool as arrays in a
# generated header (tools/embed.sh: od and sed).
UI_ASSETS := tools/ui/index.html tools/ui/app.css tools/ui/app.js
$(BUILD)/ui_assets.h: $(UI_ASSETS) tools/embed.sh
	@mkdir -p $(@D)
	sh tools/embed.sh $@ $(UI_ASSETS)

$(BUILD)/llmsplit: tools/llmsplit.c $(wildcard tools/*.c tools/*.h) $(HDR) $(BUILD)/ui_assets.h | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(OPT) $(WARN) -I$(BUILD) -o $@ $< $(TOOL_LIBS)

$(BUILD)/examples/%: examples/%.c $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(OPT) $(WARN) -o $@ $< $(LIBS)

# Two files with different limit macros: the public layouts must not depend on them.
$(BUILD)/tests/test_layout: tests/test_layout.c tests/layout_impl.c tests/test.h $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(OPT) $(WARN) -o $@ tests/test_layout.c tests/layout_impl.c $(LIBS)

$(BUILD)/san/test_layout: tests/test_layout.c tests/layout_impl.c tests/test.h $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) -O1 -g $(SAN) $(WARN) -o $@ tests/test_layout.c tests/layout_impl.c $(LIBS)

$(BUILD)/tests/%: tests/%.c $(wildcard tests/*.h) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(OPT) $(WARN) -o $@ $< $(LIBS)

$(BUILD)/san/%_tsan: tests/%.c $(wildcard tests/*.h) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) -O1 -g -fsanitize=thread $(WARN) -o $@ $< $(LIBS)

$(BUILD)/san/%: tests/%.c $(wildcard tests/*.h) $(HDR) | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) -O1 -g $(SAN) $(WARN) -o $@ $< $(LIBS)

# The header alone, warning-free as C99 under gcc and clang and as C++11, also without YAML.
check-header: | deps
	@mkdir -p $(BUILD)
	@printf '#include "../llmsplit.h"\n#define LLMSPLIT_IMPLEMENTATION\n#include "../llmsplit.h"\nint main(void){return 0;}\n' > $(BUILD)/hdr.c
	@cp $(BUILD)/hdr.c $(BUILD)/hdr.cpp
	$(CC) -std=c99 $(WARN) -fsyntax-only $(BUILD)/hdr.c
	$(CC) -std=c99 $(WARN) -DLLMSPLIT_NO_YAML -fsyntax-only $(BUILD)/hdr.c
	@if command -v clang >/dev/null 2>&1; then echo "clang -std=c99 $(WARN) -fsyntax-only"; clang -std=c99 $(WARN) -fsyntax-only $(BUILD)/hdr.c; fi
	$(CXX) -std=c++11 $(WARN) -fsyntax-only $(BUILD)/hdr.cpp

# Each file of the tool compiles on its own (the unity build would hide a missing include).
check-tools: $(BUILD)/ui_assets.h | deps
	@set -e; for f in tools/*.c; do \
	  echo "$(CC) -std=c99 -fsyntax-only $$f"; $(CC) -std=c99 $(WARN) -I$(BUILD) -fsyntax-only $$f; \
	  if command -v clang >/dev/null 2>&1; then clang -std=c99 $(WARN) -I$(BUILD) -fsyntax-only $$f; fi; done

# what the tests use besides the build: a real TLS server (openssl s_server), a real nginx
# to compare sticky picks with, scipy to check the report's statistics against, PyYAML to check
# the YAML reader against, chromium to use the dashboard as a person would, curl for the gateway;
# without them those tests are skipped with the reason
test-deps:
	@sh tools/deps.sh --optional openssl:/usr/bin/openssl nginx-light:/usr/sbin/nginx \
	    python3-scipy:/usr/lib/python3/dist-packages/scipy/__init__.py \
	    python3-yaml:/usr/lib/python3/dist-packages/yaml/__init__.py chromium:/usr/bin/chromium curl:/usr/bin/curl \
	    strace:/usr/bin/strace

test: all check-header check-tools test-deps $(TESTS)
	@sh tests/run $(BUILD)/tests

# The tool too, under AddressSanitizer and UBSan: every tests/*.sh script runs it (tests/run takes
# BINDIR/llmsplit when there is one), so the gateway's coroutines and loops are checked as well.
$(BUILD)/san/llmsplit: tools/llmsplit.c $(wildcard tools/*.c tools/*.h) $(HDR) $(BUILD)/ui_assets.h | deps
	@mkdir -p $(@D)
	$(CC) $(CSTD) -O1 -g $(SAN) $(WARN) -I$(BUILD) -o $@ $< $(LIBS)

sanitize: all test-deps $(SAN_TESTS) $(TSAN_TESTS) $(BUILD)/san/llmsplit
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
	$(CC) $(CSTD) -O2 $(WARN) -o $(BUILD)/client_bench bench/client_bench.c $(LIBS) -lcurl -lcjson
	$(CC) $(CSTD) -O2 $(WARN) -o $(BUILD)/pick_bench bench/pick_bench.c $(LIBS)
	$(CC) $(CSTD) -O2 $(WARN) -o $(BUILD)/mem_bench bench/mem_bench.c $(LIBS) -lcurl -lcjson
	$(CC) $(CSTD) -O2 $(WARN) -o $(BUILD)/tls_bench bench/tls_bench.c $(LIBS) -lcurl
	@sh bench/run.sh $(BUILD) $(JSONBENCH)

# The header in every supported build: C99/C11 with gcc and clang, C++11/C++17, static, without
# TLS and without threads; the HTTP tests built without TLS must link without BearSSL at all.
variants: | deps
	@sh tools/deps.sh --optional musl-tools:/usr/bin/musl-gcc
	@mkdir -p $(BUILD)/variants
	@printf '#include "../../llmsplit.h"\n#define LLMSPLIT_IMPLEMENTATION\n#include "../../llmsplit.h"\nint main(void){return 0;}\n' > $(BUILD)/variants/v.c
	@cp $(BUILD)/variants/v.c $(BUILD)/variants/v.cpp
	@set -e; for cc in gcc clang; do command -v $$cc >/dev/null || continue; for std in c99 c11; do \
	  for opt in "" -DLLMSPLIT_STATIC -DLLMSPLIT_NO_TLS -DLLMSPLIT_NO_THREADS -DLLMSPLIT_NO_YAML "-DLLMSPLIT_NO_TLS -DLLMSPLIT_NO_THREADS"; do \
	    echo "$$cc -std=$$std $$opt"; $$cc -std=$$std $(WARN) $$opt -fsyntax-only $(BUILD)/variants/v.c; done; done; done
	@set -e; for cxx in g++ clang++; do command -v $$cxx >/dev/null || continue; for std in c++11 c++17; do \
	  for opt in "" -DLLMSPLIT_NO_TLS -DLLMSPLIT_NO_THREADS; do \
	    echo "$$cxx -std=$$std $$opt"; $$cxx -std=$$std $(WARN) $$opt -fsyntax-only $(BUILD)/variants/v.cpp; done; done; done
	$(CC) $(CSTD) -O1 $(WARN) -DLLMSPLIT_NO_TLS -o $(BUILD)/variants/test_http_notls tests/test_http.c -lpthread -lm
	@echo "LLMSPLIT_NO_TLS: linked without -lbearssl; running the HTTP tests"
	@$(BUILD)/variants/test_http_notls | tail -n 1 | grep -q ' 0 failed' || { echo "variants: test_http without TLS failed"; exit 1; }
	@printf '#define LLMSPLIT_NO_TLS\n#define LLMSPLIT_IMPLEMENTATION\n#include "../../llmsplit.h"\n#include <stdio.h>\nint main(void){llmsplit_http *h=NULL;llmsplit_http_create(NULL,&h,NULL);llmsplit_http_request rq={0};llmsplit_http_response r;llmsplit_error e;rq.url="https://localhost/";int c=llmsplit_http_send(h,&rq,&r,&e);puts(e.message);llmsplit_http_response_free(&r);llmsplit_http_destroy(h);return c==LLMSPLIT_ERR_USAGE?0:1;}\n' > $(BUILD)/variants/notls.c
	$(CC) -std=c99 -o $(BUILD)/variants/notls $(BUILD)/variants/notls.c -lpthread
	@$(BUILD)/variants/notls
	@printf '#define LLMSPLIT_NO_YAML\n#define LLMSPLIT_IMPLEMENTATION\n#include "../../llmsplit.h"\n#include <stdio.h>\n#include <string.h>\nint main(void){llmsplit_config *c;llmsplit_error e;int r=llmsplit_config_parse("split: {gpt-4: 1}",17,NULL,&c,&e);puts(e.message);return r==LLMSPLIT_ERR_CONFIG&&strcmp(e.message,"json: 1:1: unexpected character")==0?0:1;}\n' > $(BUILD)/variants/noyaml.c
	$(CC) -std=c99 -o $(BUILD)/variants/noyaml $(BUILD)/variants/noyaml.c -lbearssl -lpthread -lm
	@$(BUILD)/variants/noyaml
	@if command -v musl-gcc >/dev/null; then echo "musl-gcc -DLLMSPLIT_NO_TLS"; musl-gcc -std=c99 $(WARN) -DLLMSPLIT_NO_TLS -static -o $(BUILD)/variants/musl_json tests/test_json.c -lm && $(BUILD)/variants/musl_json | tail -n 1; fi
	$(CC) $(CSTD) -Os $(WARN) -o $(BUILD)/variants/test_records_os tests/test_records.c $(LIBS)
	@echo "-Os (the call record through the JSON writer): running the record tests"
	@$(BUILD)/variants/test_records_os | tail -n 1 | grep -q ' 0 failed' || { echo "variants: test_records at -Os failed"; exit 1; }
	@echo "variants: all compiled"

# make install into a scratch DESTDIR, then build an example against the installed copy only
install-check:
	@rm -rf $(BUILD)/stage && $(MAKE) --no-print-directory install DESTDIR=$(CURDIR)/$(BUILD)/stage PREFIX=/usr >/dev/null
	PKG_CONFIG_SYSROOT_DIR=$(CURDIR)/$(BUILD)/stage PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/stage/usr/lib/pkgconfig \
	  sh -c 'cp examples/split.c $(BUILD)/stage/split.c && sed -i "s|\.\./llmsplit.h|llmsplit.h|" $(BUILD)/stage/split.c && \
	  $(CC) -std=c99 $(WARN) $$(pkg-config --cflags llmsplit) -o $(BUILD)/stage/split $(BUILD)/stage/split.c $$(pkg-config --libs llmsplit)'
	@test -x $(BUILD)/stage/usr/bin/llmsplit && $(BUILD)/stage/usr/bin/llmsplit --version
	@echo "install-check: the installed header, pkg-config file and tool work"

# Size of examples/split.c linked statically with BearSSL (-Os, sections collected, stripped),
# of the implementation object alone, and the client's memory at rest and per request
footprint: all
	@mkdir -p $(BUILD)/footprint
	$(CC) -std=c99 -Os -ffunction-sections -fdata-sections -Wl,--gc-sections -s -o $(BUILD)/footprint/split examples/split.c \
	  -Wl,-Bstatic -lbearssl -Wl,-Bdynamic -lpthread
	@printf '#define LLMSPLIT_IMPLEMENTATION\n#include "../../llmsplit.h"\n' > $(BUILD)/footprint/impl.c
	$(CC) -std=c99 -Os -ffunction-sections -fdata-sections -c -o $(BUILD)/footprint/impl.o $(BUILD)/footprint/impl.c
	$(CC) $(CSTD) -O2 -o $(BUILD)/footprint/memory bench/footprint.c $(LIBS)
	@echo "examples/split static with BearSSL (-Os, gc-sections, stripped): $$(stat -c %s $(BUILD)/footprint/split) bytes (budget 262144)"
	@size $(BUILD)/footprint/impl.o | awk 'NR==2 {print "llmsplit implementation object (-Os): text " $$1 ", data " $$2 ", bss " $$3 " bytes"}'
	@$(BUILD)/footprint/memory $(BUILD)/llmsplit tests/certs

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

# the dashboard with an experiment running behind it, until Ctrl-C
demo-live: all
	@sh examples/demo_live.sh $(BUILD)

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
