# telrep — see README.md. Targets: all test unit e2e asan valgrind fuzz check bench demo deps install clean
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build
PKGS     = yaml-0.1 libpcap libnl-3.0 libnl-route-3.0 jansson libzstd zlib libmicrohttpd libcrypto libcap-ng
# -flto: the per-packet path crosses many files (capture, decode, conversation, stream,
# session, queue); inlining across them made BMP at time_factor 0 ~8% faster (bench section 4)
CFLAGS  ?= -O2 -g -flto=auto
override CFLAGS += -std=gnu17 -Wall -Wextra -Wshadow -Wno-unused-parameter -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ifeq ($(CI),true)
override CFLAGS += -Werror
endif
# GCC 12 at link time, with the library inlined into a test, reports a string read "from a
# region of size 0" in test_mrt where the region is a 300-byte array: not a fault, and only
# the tests link that way
TEST_CFLAGS = $(if $(findstring -flto,$(CFLAGS)),-Wno-stringop-overread)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ltrace -lwandio -lm

# Debian 12 packages the build, the tests and the benchmarks need.
DEB_BUILD = build-essential pkg-config clang libclang-rt-14-dev libyaml-dev libwandio1-dev \
            libpcap-dev libzstd-dev zlib1g-dev libnl-3-dev libnl-route-3-dev libjansson-dev libcmocka-dev \
            libmicrohttpd-dev libssl-dev libtrace3-dev libcap-ng-dev
DEB_TEST = iproute2 pmacct nfdump tshark tcpdump tcpreplay gobgpd bgpdump gnuplot-nox softflowd iputils-ping libcap2-bin valgrind jq procps gzip bzip2 xz-utils zstd bc \
           python3-prometheus-client

LIB_SRC  = $(filter-out src/main.c,$(wildcard src/*.c)) $(wildcard src/proto/*.c) $(wildcard src/source/*.c) $(wildcard src/flow/*.c) \
           $(wildcard src/pcapproc/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all bins test unit e2e install uninstall deps demo bench fuzz asan valgrind check examples clean

all: $(BUILD)/telrep $(BUILD)/pcap-proc $(BUILD)/flow-extract $(BUILD)/flow-replay $(BUILD)/gen-pcap $(BUILD)/mrt-gen $(BUILD)/udp-sink $(BUILD)/tcp-sink

$(BUILD)/%.o: %.c $(wildcard src/*.h src/proto/*.h src/source/*.h src/flow/*.h src/pcapproc/*.h tools/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libtelrep.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/telrep: $(BUILD)/src/main.o $(BUILD)/libtelrep.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/pcap-proc: $(BUILD)/tools/pcap-proc/main.o $(BUILD)/libtelrep.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/flow-extract: $(BUILD)/tools/flow-extract/main.o $(BUILD)/libtelrep.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/flow-replay: $(BUILD)/tools/flow-replay/main.o $(BUILD)/libtelrep.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/gen-pcap: $(BUILD)/tools/gen-pcap.o $(BUILD)/tools/gen-session.o $(BUILD)/libtelrep.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/mrt-gen: $(BUILD)/tools/mrt-gen.o $(BUILD)/libtelrep.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tcp-sink: tools/tcp-sink.c $(BUILD)/libtelrep.a
	$(CC) $(CFLAGS) -Isrc -o $@ $^ $(LDLIBS)

$(BUILD)/udp-sink: tools/udp-sink.c
	$(CC) $(CFLAGS) -o $@ $< -ljansson

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libtelrep.a tests/unit/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libtelrep.a $(LDLIBS) -lcmocka

# unit tests, then end-to-end tests against real collectors (root + network namespaces)
test: unit e2e

SHARED ?= $(abspath ../shared)
# T=name runs one test: make unit T=loop (tests/unit/test_loop.c), make e2e T=bmp
T ?=
UNIT_RUN = $(if $(T),$(filter %/test_$(T),$(UNIT_BIN)),$(UNIT_BIN))
unit: $(UNIT_RUN) all
	@[ -n "$(UNIT_RUN)" ] || { echo "make unit: no tests/unit/test_$(T).c"; exit 1; }
	@fail=0; for t in $(UNIT_RUN); do TELREP_ANCHOR_CONFIGS=$(SHARED)/compat/anchor-configs $$t || fail=1; done; exit $$fail

e2e: all
	SHARED=$(SHARED) tests/e2e/run-all.sh $(BUILD) $(T)

# the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer
ASAN = BUILD=build/asan CC=clang CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# builds use every core; the unit tests run one at a time, the end-to-end tests two at a time but
# the timing ones alone (tests/e2e/run-all.sh)
JOBS = -j$(shell nproc 2>/dev/null || echo 2)
asan:
	$(MAKE) $(JOBS) $(ASAN) bins
	$(MAKE) $(ASAN) test

# every binary and unit test built, nothing run
bins: all $(UNIT_BIN)

# each fuzz target briefly (FUZZ_SECONDS, default 20) from generated seeds
# the unit tests and a replay of every example under valgrind (errors and leaks fail)
VALGRIND = valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect
valgrind: $(UNIT_BIN) all
	@fail=0; for t in $(UNIT_BIN); do echo "valgrind: $$t"; \
	  TELREP_ANCHOR_CONFIGS=$(SHARED)/compat/anchor-configs $(VALGRIND) $$t > $$t.valgrind.log 2>&1 \
	    || { tail -30 $$t.valgrind.log; fail=1; }; done; \
	WRAP="$(VALGRIND)" BUILD=$(BUILD) tests/e2e/test_examples.sh || fail=1; exit $$fail

# everything CI runs (.ci/run): the suite, the suite under sanitizers, valgrind, fuzzing
check:
	$(MAKE) $(JOBS) bins
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) valgrind
	$(MAKE) fuzz FUZZ_SECONDS=$${FUZZ_SECONDS:-10}

# the library is built once for every target (instrumented for libFuzzer, ASan and UBSan)
fuzz: all
	@mkdir -p $(BUILD)/fuzz
	@$(MAKE) -s $(JOBS) BUILD=$(BUILD)/fuzz/lib CC=clang CFLAGS="-g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
	  $(BUILD)/fuzz/lib/libtelrep.a
	@tests/fuzz/make-seeds.sh $(BUILD) $(BUILD)/fuzz/seeds
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  clang -std=gnu17 -g -O1 -Isrc $$(pkg-config --cflags $(PKGS)) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -o $(BUILD)/fuzz/$$n $$f $(BUILD)/fuzz/lib/libtelrep.a $(LDLIBS) || exit 1; \
	  mkdir -p $(BUILD)/fuzz/$$n.corpus; \
	  echo "fuzz: $$n for $${FUZZ_SECONDS:-20}s"; \
	  $(BUILD)/fuzz/$$n -max_total_time=$${FUZZ_SECONDS:-20} -max_len=4096 $(BUILD)/fuzz/$$n.corpus $(BUILD)/fuzz/seeds/$$n \
	    2>$(BUILD)/fuzz/$$n.log || { tail -40 $(BUILD)/fuzz/$$n.log; exit 1; }; \
	  tail -1 $(BUILD)/fuzz/$$n.log; done

BENCH_BIN = $(BUILD)/sendmmsg-loop $(BUILD)/write-loop $(BUILD)/timing $(BUILD)/maxrss $(BUILD)/connect-loop $(BUILD)/model-fit
$(BUILD)/%: bench/%.c bench/dgrams.h $(BUILD)/libtelrep.a
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libtelrep.a $(LDLIBS)

# throughput, timing fidelity and memory beside tcpreplay and a sendmmsg loop (root)
bench: all $(BENCH_BIN)
	bench/run.sh $(BUILD)

# regenerate the example captures (deterministic; they are committed)
examples: all
	examples/make-pcaps.sh $(BUILD)

# install what is missing (Debian 12), build, and replay an example to a local collector
demo: deps all
	examples/demo.sh $(BUILD)

deps:
	@missing=$$(for p in $(DEB_BUILD) $(DEB_TEST); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then echo "installing:" $$missing; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
	  $(DESTDIR)$(PREFIX)/share/doc/telrep/examples
	install -m 755 $(BUILD)/telrep $(BUILD)/pcap-proc $(BUILD)/flow-extract $(BUILD)/flow-replay $(DESTDIR)$(PREFIX)/bin/
	install -m 644 docs/telrep.1 docs/pcap-proc.1 docs/flow-extract.1 docs/flow-replay.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/telrep.yml.5 $(DESTDIR)$(PREFIX)/share/man/man5/telrep.yml.5
	install -m 644 README.md $(DESTDIR)$(PREFIX)/share/doc/telrep/README.md
	install -m 644 examples/*.yml examples/flows.csv $(DESTDIR)$(PREFIX)/share/doc/telrep/examples/
	install -d $(DESTDIR)$(PREFIX)/share/doc/telrep/examples/pcaps
	install -m 644 examples/pcaps/*.pcap examples/pcaps/*.mrt.gz $(DESTDIR)$(PREFIX)/share/doc/telrep/examples/pcaps/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/telrep $(DESTDIR)$(PREFIX)/bin/pcap-proc $(DESTDIR)$(PREFIX)/bin/flow-extract $(DESTDIR)$(PREFIX)/bin/flow-replay \
	  $(DESTDIR)$(PREFIX)/share/man/man1/telrep.1 $(DESTDIR)$(PREFIX)/share/man/man1/pcap-proc.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man1/flow-extract.1 $(DESTDIR)$(PREFIX)/share/man/man1/flow-replay.1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5/telrep.yml.5
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/telrep

clean:
	rm -rf build
