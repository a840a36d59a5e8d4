# uplinkd — plain GNU Makefile.
#   make            build uplinkd and uplinkctl (into build/)
#   make check      install missing Debian packages, unit + integration tests
#   make check-asan the same under ASan+UBSan (build-asan/)
#   make fuzz       libFuzzer targets (clang) into build-fuzz/
#   make demo       the live namespace demo
#   make bench      benchmarks -> bench/RESULTS.md
#   make install    DESTDIR/PREFIX honoured

VERSION    := 1.0.0
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
B          ?= build
SAN        ?=
WITH_SYSTEMD ?= $(shell $(PKG_CONFIG) --exists libsystemd 2>/dev/null && echo 1 || echo 0)

PKGS       := libmnl libnftnl libconfig
# gcc's -Wformat-truncation flags snprintf calls whose truncation is intended; clang has none.
NOTRUNC    := $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
# "override": CFLAGS=... on the command line (make check-asan, make fuzz) sets the
# optimisation, and the warnings and sanitizers below are still added.
override CPPFLAGS += -Iinclude -DUL_VERSION=\"$(VERSION)\" -D_GNU_SOURCE
CFLAGS     ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter $(NOTRUNC) \
	      -fno-strict-aliasing $(SAN) $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
override LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm
override LDFLAGS += $(SAN)
ifeq ($(WITH_SYSTEMD),1)
override CPPFLAGS += -DHAVE_LIBSYSTEMD
override LDLIBS += $(shell $(PKG_CONFIG) --libs libsystemd)
endif
TEST_LIBS  := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

MAINS      := src/uplinkd.c src/uplinkctl.c
LIB_SRCS   := $(filter-out $(MAINS),$(wildcard src/*.c))
LIB_OBJS   := $(LIB_SRCS:src/%.c=$(B)/obj/%.o)
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
KT_SRCS    := $(wildcard tests/kernel/kt_*.c)
KT_BINS    := $(KT_SRCS:tests/kernel/%.c=$(B)/kernel/%)
LAB_SRCS   := $(wildcard tests/lab/*.c)
LAB_BINS   := $(LAB_SRCS:tests/lab/%.c=$(B)/lab/%)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
HDRS       := $(wildcard include/*.h)

# Debian packages the build, the tests and the demo need.
DEB_PKGS   := gcc make pkg-config libmnl-dev libnftnl-dev libconfig-dev libcmocka-dev \
	      libsystemd-dev iproute2 nftables conntrack procps psmisc clang groff-base jq socat

.PHONY: all all-tests deps check check-unit check-integration check-asan fuzz demo bench install \
	clean distclean

all: $(B)/uplinkd $(B)/uplinkctl

deps:
	@tests/lab/deps.sh $(DEB_PKGS)

$(B)/obj/%.o: src/%.c $(HDRS) | $(B)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/libuplinkd.a: $(LIB_OBJS)
	$(AR) rcs $@ $^

$(B)/uplinkd: $(B)/obj/uplinkd.o $(B)/libuplinkd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/uplinkctl: $(B)/obj/uplinkctl.o $(B)/libuplinkd.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libuplinkd.a $(HDRS) | $(B)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-error=unused-function -o $@ $< $(B)/libuplinkd.a \
		$(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

$(B)/kernel/%: tests/kernel/%.c $(B)/libuplinkd.a $(HDRS) | $(B)/kernel
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libuplinkd.a $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

$(B)/lab/%: tests/lab/%.c $(B)/libuplinkd.a $(HDRS) | $(B)/lab
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(B)/libuplinkd.a $(LDFLAGS) $(LDLIBS)

$(B)/obj $(B)/tests $(B)/kernel $(B)/lab:
	mkdir -p $@

# The suite: unit tests, then integration tests in namespaces (root; SKIP elsewhere).
check: deps
	$(MAKE) all-tests
	tests/run.sh $(B)

all-tests: all $(UNIT_BINS) $(KT_BINS) $(LAB_BINS)

check-unit: all-tests
	tests/run.sh $(B) unit

check-integration: all-tests
	tests/run.sh $(B) integration

check-asan: deps
	$(MAKE) B=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		CFLAGS="-O1 -g" all-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run.sh build-asan

fuzz: deps
	$(MAKE) B=build-fuzz CC=clang SAN="-fsanitize=fuzzer-no-link,address,undefined" \
		CFLAGS="-O1 -g" build-fuzz/libuplinkd.a
	@mkdir -p build-fuzz/fuzz
	@set -e; for f in $(FUZZ_SRCS); do \
		n=$$(basename $$f .c); \
		echo "  FUZZ $$n"; \
		clang $(CPPFLAGS) -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined \
			$$($(PKG_CONFIG) --cflags $(PKGS)) -o build-fuzz/fuzz/$$n $$f \
			build-fuzz/libuplinkd.a $(LDLIBS); \
	done

demo: deps all $(LAB_BINS)
	tests/lab/demo.sh $(B)

bench: deps all $(LAB_BINS)
	bench/run.sh $(B)

install: all
	install -D -m 0755 $(B)/uplinkd $(DESTDIR)$(SBINDIR)/uplinkd
	install -D -m 0755 $(B)/uplinkctl $(DESTDIR)$(SBINDIR)/uplinkctl
	install -D -m 0644 man/uplinkd.8 $(DESTDIR)$(MANDIR)/man8/uplinkd.8
	install -D -m 0644 man/uplinkctl.8 $(DESTDIR)$(MANDIR)/man8/uplinkctl.8
	install -D -m 0644 man/uplinkd.conf.5 $(DESTDIR)$(MANDIR)/man5/uplinkd.conf.5
	install -D -m 0644 systemd/uplinkd.service $(DESTDIR)$(UNITDIR)/uplinkd.service
	install -D -m 0644 conf/iproute2/rt_protos.uplinkd.conf \
		$(DESTDIR)$(SYSCONFDIR)/iproute2/rt_protos.d/uplinkd.conf
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/uplinkd/uplinkd.conf ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/uplinkd/uplinkd.conf"; \
	else \
		install -D -m 0640 conf/uplinkd.conf $(DESTDIR)$(SYSCONFDIR)/uplinkd/uplinkd.conf; \
	fi

clean:
	rm -rf build build-asan build-fuzz

distclean: clean
