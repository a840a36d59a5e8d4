# uplinkd — plain GNU Makefile.
#   make            build uplinkd and uplinkctl (into build/)
#   make check      install missing Debian packages, unit + integration tests
#   make check-asan the same under ASan+UBSan (build-asan/)
#   make check-system  the system tests alone (tests/system: the Debian package)
#   make fuzz       libFuzzer targets (clang) into build-fuzz/
#   make check-fuzz each fuzz target for FUZZ_SECONDS (20) from its seed corpus
#   make demo       the live namespace demo
#   make bench      benchmarks -> bench/RESULTS.md
#   make install    DESTDIR/PREFIX honoured
#   make deb        the Debian package (dpkg-buildpackage, lintian) -> build/deb/

VERSION    := 1.0.0
PREFIX     ?= /usr
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR    ?= /lib/systemd/system
DOCDIR     ?= $(PREFIX)/share/doc/uplinkd
SYSUSERSDIR ?= /usr/lib/sysusers.d
DESTDIR    ?=

CC         ?= cc
PKG_CONFIG ?= pkg-config
B          ?= build
SAN        ?=
WITH_SYSTEMD ?= $(shell $(PKG_CONFIG) --exists libsystemd 2>/dev/null && echo 1 || echo 0)

# The layers (see README, "Layout"): each is a static library of its own.
#   core    pure: config, planner, link state machine, ruleset model, status, diff, values.
#           Built without libmnl/libnftnl headers and linked without them: a netlink call in
#           the core breaks the build. Its unit tests link libul-core.a alone.
#   kernel  adapters: rtnetlink, nftables, ctnetlink, sysctl.
#   daemon  runtime: loop, probes, control socket, hooks, notify, log.
#   cmd     the two programs' mains.
CORE_PKGS  := libconfig
PKGS       := libmnl libnftnl libconfig libcap-ng
# gcc's -Wformat-truncation flags snprintf calls whose truncation is intended; clang has none.
NOTRUNC    := $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
# "override": CFLAGS=... on the command line (make check-asan, make fuzz) sets the
# optimisation, and the warnings and sanitizers below are still added.
override CPPFLAGS += -DUL_VERSION=\"$(VERSION)\" -D_GNU_SOURCE
CFLAGS     ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter $(NOTRUNC) \
	      -fno-strict-aliasing $(SAN)
override LDFLAGS += $(SAN)
CORE_INC   := -Iinclude/core
ALL_INC    := -Iinclude/core -Iinclude/kernel -Iinclude/daemon
CORE_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(CORE_PKGS) 2>/dev/null)
ALL_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
CORE_LIBS  := $(shell $(PKG_CONFIG) --libs $(CORE_PKGS) 2>/dev/null) -lm
override LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lm
ifeq ($(WITH_SYSTEMD),1)
override CPPFLAGS += -DHAVE_LIBSYSTEMD
override LDLIBS += $(shell $(PKG_CONFIG) --libs libsystemd)
endif
TEST_LIBS  := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

CORE_SRCS  := $(wildcard src/core/*.c)
KERNEL_SRCS := $(wildcard src/kernel/*.c)
DAEMON_SRCS := $(wildcard src/daemon/*.c)
CORE_LIB   := $(B)/libul-core.a
KERNEL_LIB := $(B)/libul-kernel.a
DAEMON_LIB := $(B)/libul-daemon.a
# Link order: a library before those it uses. The daemon uses the kernel adapters (through
# port_netlink.c) and the core; the adapters use the core only (their notes go to a sink,
# klog.h, that the daemon points at its log).
LIBS_ALL   := $(DAEMON_LIB) $(KERNEL_LIB) $(CORE_LIB)
UNIT_CORE_SRCS := $(wildcard tests/unit/core/test_*.c)
UNIT_REST_SRCS := $(wildcard tests/unit/kernel/test_*.c tests/unit/daemon/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_CORE_SRCS) $(UNIT_REST_SRCS))
KT_SRCS    := $(wildcard tests/kernel/kt_*.c)
KT_BINS    := $(KT_SRCS:tests/kernel/%.c=$(B)/kernel/%)
LAB_SRCS   := $(wildcard tests/lab/*.c)
LAB_BINS   := $(LAB_SRCS:tests/lab/%.c=$(B)/lab/%)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
# The test kit (tests/common/tk.h): layer-free helpers linked into every unit and kernel test.
TK_SRCS    := $(wildcard tests/common/*.c)
TK_OBJS    := $(TK_SRCS:tests/common/%.c=$(B)/obj/tests/common/%.o)
TK_INC     := -Itests/common
CORE_HDRS  := $(wildcard include/core/*.h)
HDRS       := $(wildcard include/*/*.h)

# Debian packages the build, the tests and the demo need.
DEB_PKGS   := gcc make pkg-config libmnl-dev libnftnl-dev libconfig-dev libcmocka-dev \
	      libsystemd-dev libcap-ng-dev iproute2 nftables conntrack procps psmisc clang groff-base jq socat \
	      systemd-container keepalived conntrackd lsm dnsmasq-base prometheus curl \
	      libnetfilter-queue-dev iptables iputils-ping radvd

.PHONY: all all-tests deps check check-unit check-integration check-asan fuzz check-fuzz demo bench install \
	check-system deb clean distclean

all: $(B)/uplinkd $(B)/uplinkctl

deps:
	@tests/lab/deps.sh $(DEB_PKGS)

$(B)/obj/core/%.o: src/core/%.c $(CORE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CORE_INC) $(CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

# The kernel adapters see the core's headers and their own, not the daemon's.
$(B)/obj/kernel/%.o: src/kernel/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iinclude/core -Iinclude/kernel $(CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# The daemon proper and its verbs reach the kernel only through the port (kport.h): they
# are built without the kernel adapters' headers, so an adapter call there breaks the build.
PORTED_OBJS := $(B)/obj/daemon/daemon.o $(B)/obj/daemon/verbs.o
$(PORTED_OBJS): $(B)/obj/daemon/%.o: src/daemon/%.c $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Iinclude/core -Iinclude/daemon $(CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

$(CORE_LIB): $(CORE_SRCS:src/%.c=$(B)/obj/%.o)
	$(AR) rcs $@ $^
$(KERNEL_LIB): $(KERNEL_SRCS:src/%.c=$(B)/obj/%.o)
	$(AR) rcs $@ $^
$(DAEMON_LIB): $(DAEMON_SRCS:src/%.c=$(B)/obj/%.o)
	$(AR) rcs $@ $^

$(B)/uplinkd: $(B)/obj/cmd/uplinkd.o $(LIBS_ALL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_ALL) $(LDLIBS)

$(B)/uplinkctl: $(B)/obj/cmd/uplinkctl.o $(LIBS_ALL)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBS_ALL) $(LDLIBS)

# The test kit sees the core's headers only, so the core tests may link it.
$(B)/obj/tests/common/%.o: tests/common/%.c $(wildcard tests/common/*.h) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CORE_INC) $(TK_INC) $(CFLAGS) $(CORE_CFLAGS) -c -o $@ $<

# The sysctl test points /proc/sys at a temporary directory: that hook (UL_SYSCTL_ROOT) is
# compiled only into this test's own copy of sysctl.c, never into the daemon.
$(B)/tests/kernel/test_sysctl: tests/unit/kernel/test_sysctl.c src/kernel/sysctl.c $(LIBS_ALL) $(HDRS) $(TK_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DUL_TESTING $(ALL_INC) $(TK_INC) $(CFLAGS) $(ALL_CFLAGS) -Wno-error=unused-function \
		-o $@ $< src/kernel/sysctl.c $(TK_OBJS) $(LIBS_ALL) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

# Core unit tests: the core's headers and library only (and the layer-free test kit).
$(B)/tests/core/%: tests/unit/core/%.c $(CORE_LIB) $(CORE_HDRS) $(TK_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CORE_INC) $(TK_INC) $(CFLAGS) $(CORE_CFLAGS) -Wno-error=unused-function -o $@ $< \
		$(TK_OBJS) $(CORE_LIB) $(LDFLAGS) $(CORE_LIBS) $(TEST_LIBS)

$(B)/tests/%: tests/unit/%.c $(LIBS_ALL) $(HDRS) $(TK_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(TK_INC) $(CFLAGS) $(ALL_CFLAGS) -Wno-error=unused-function -o $@ $< \
		$(TK_OBJS) $(LIBS_ALL) $(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

$(B)/kernel/%: tests/kernel/%.c $(LIBS_ALL) $(HDRS) $(TK_OBJS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(TK_INC) $(CFLAGS) $(ALL_CFLAGS) -o $@ $< $(TK_OBJS) $(LIBS_ALL) \
		$(LDFLAGS) $(LDLIBS) $(TEST_LIBS)

$(B)/lab/%: tests/lab/%.c $(LIBS_ALL) $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_INC) $(CFLAGS) $(ALL_CFLAGS) -o $@ $< $(LIBS_ALL) $(LDFLAGS) $(LDLIBS)

# The lab's delay line (tests/lab/delayline.c) talks NFQUEUE through libnetfilter-queue; it
# uses none of uplinkd's libraries.
NFQ_CFLAGS := $(shell $(PKG_CONFIG) --cflags libnetfilter_queue 2>/dev/null)
NFQ_LIBS   := $(or $(shell $(PKG_CONFIG) --libs libnetfilter_queue 2>/dev/null),-lnetfilter_queue -lnfnetlink)
$(B)/lab/delayline: tests/lab/delayline.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(NFQ_CFLAGS) -o $@ $< $(LDFLAGS) $(NFQ_LIBS)

# The suite: unit tests, then integration tests in namespaces (root; SKIP elsewhere).
check: deps
	$(MAKE) all-tests
	tests/run.sh $(B)
	$(MAKE) check-fuzz

all-tests: all $(UNIT_BINS) $(KT_BINS) $(LAB_BINS)

check-unit: all-tests
	tests/run.sh $(B) unit

check-integration: all-tests
	tests/run.sh $(B) integration

check-system: all-tests
	tests/run.sh $(B) system

check-asan: deps
	$(MAKE) B=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		CFLAGS="-O1 -g" all-tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run.sh build-asan

fuzz: deps
	$(MAKE) B=build-fuzz CC=clang SAN="-fsanitize=fuzzer-no-link,address,undefined" \
		CFLAGS="-O1 -g" build-fuzz/libul-daemon.a build-fuzz/libul-kernel.a build-fuzz/libul-core.a
	@mkdir -p build-fuzz/fuzz
	@set -e; for f in $(FUZZ_SRCS); do \
		n=$$(basename $$f .c); \
		echo "  FUZZ $$n"; \
		clang $(CPPFLAGS) $(ALL_INC) -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined \
			$(ALL_CFLAGS) -o build-fuzz/fuzz/$$n $$f \
			build-fuzz/libul-daemon.a build-fuzz/libul-kernel.a build-fuzz/libul-core.a $(LDLIBS); \
	done

# Every fuzz target for FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/TARGET, copied
# to build-fuzz/corpus/TARGET, where new inputs go), two at a time; the executions per
# target go to build-fuzz/fuzz-stats.txt. Skipped without clang. A crash fails the step
# (its input is left in build-fuzz/crash-*).
FUZZ_SECONDS ?= 20
check-fuzz:
	@if ! command -v clang >/dev/null 2>&1; then echo "check-fuzz: no clang, skipped"; exit 0; fi; \
	$(MAKE) fuzz >/dev/null || exit 1; \
	rm -f build-fuzz/fuzz-stats.txt; \
	for f in build-fuzz/fuzz/fuzz_*; do echo $$(basename $$f); done | \
	xargs -P 2 -I{} sh -c ' \
		n={}; mkdir -p build-fuzz/corpus/$$n; \
		[ -d tests/fuzz/corpus/$$n ] && cp -n tests/fuzz/corpus/$$n/* build-fuzz/corpus/$$n/ 2>/dev/null; \
		if timeout -k 5 $$(($(FUZZ_SECONDS) + 60)) build-fuzz/fuzz/$$n -max_total_time=$(FUZZ_SECONDS) \
			-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
			-artifact_prefix=build-fuzz/crash-$$n- build-fuzz/corpus/$$n \
			>build-fuzz/$$n.log 2>&1; then \
			echo "$$n $$(sed -n "s/^stat::number_of_executed_units: *//p" build-fuzz/$$n.log) executions" \
				>>build-fuzz/fuzz-stats.txt; \
		else echo "FUZZ FAIL $$n: see build-fuzz/$$n.log"; tail -n 30 build-fuzz/$$n.log; exit 255; fi'; \
	rc=$$?; sort build-fuzz/fuzz-stats.txt 2>/dev/null | sed "s/^/  FUZZ /"; exit $$rc

# demo and bench build in a sub-make, after deps: WITH_SYSTEMD and the pkg-config flags are
# then read with the packages deps has just installed (a fresh machine builds as later ones).
demo: deps
	$(MAKE) all $(LAB_BINS)
	tests/lab/demo.sh $(B)

bench: deps
	$(MAKE) all $(LAB_BINS)
	bench/run.sh $(B)
	bench/ipv6.sh $(B)

install: all
	install -D -m 0755 $(B)/uplinkd $(DESTDIR)$(SBINDIR)/uplinkd
	install -D -m 0755 $(B)/uplinkctl $(DESTDIR)$(SBINDIR)/uplinkctl
	install -D -m 0644 man/uplinkd.8 $(DESTDIR)$(MANDIR)/man8/uplinkd.8
	install -D -m 0644 man/uplinkctl.8 $(DESTDIR)$(MANDIR)/man8/uplinkctl.8
	install -D -m 0644 man/uplinkd.conf.5 $(DESTDIR)$(MANDIR)/man5/uplinkd.conf.5
	install -D -m 0644 man/uplinkd-ha.7 $(DESTDIR)$(MANDIR)/man7/uplinkd-ha.7
	install -D -m 0755 contrib/ha/notify $(DESTDIR)$(SYSCONFDIR)/uplinkd/ha/notify
	for f in keepalived.conf conntrackd.conf uplinkd.conf; do \
		install -D -m 0644 contrib/ha/$$f $(DESTDIR)$(DOCDIR)/examples/ha/$$f || exit 1; \
	done
	install -D -m 0644 systemd/uplinkd.service $(DESTDIR)$(UNITDIR)/uplinkd.service
	install -D -m 0644 systemd/uplinkd.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/uplinkd.conf
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null 2>&1; then \
		systemd-sysusers $(SYSUSERSDIR)/uplinkd.conf; \
	fi
	install -D -m 0644 conf/iproute2/rt_protos.uplinkd.conf \
		$(DESTDIR)$(SYSCONFDIR)/iproute2/rt_protos.d/uplinkd.conf
	install -D -m 0644 contrib/bash-completion/uplinkctl \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/uplinkctl
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/uplinkd/uplinkd.conf ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/uplinkd/uplinkd.conf"; \
	else \
		install -D -m 0640 conf/uplinkd.conf $(DESTDIR)$(SYSCONFDIR)/uplinkd/uplinkd.conf; \
	fi
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/uplinkd/bank.txt ]; then \
		echo "keeping existing $(DESTDIR)$(SYSCONFDIR)/uplinkd/bank.txt"; \
	else \
		install -D -m 0640 conf/bank.txt $(DESTDIR)$(SYSCONFDIR)/uplinkd/bank.txt; \
	fi
	@# the service runs as uplinkd: it reads its configuration through its group (a
	@# root-run daemon reads it as owner either way)
	@if [ -z "$(DESTDIR)" ] && getent group uplinkd >/dev/null 2>&1; then \
		chgrp uplinkd $(SYSCONFDIR)/uplinkd/uplinkd.conf $(SYSCONFDIR)/uplinkd/bank.txt; \
	fi

# The Debian package, built from a clean copy of the tree (contrib/deb-build.sh) into
# $(B)/deb/, then checked by lintian: no error and no warning. It and the package test
# (tests/system/package.sh, in make check) need these as well.
DEB_PKGS   += debhelper dpkg-dev lintian bash-completion
deb: deps
	contrib/deb-build.sh $(B)/deb
	lintian --fail-on error,warning $(B)/deb/uplinkd_*.changes

clean:
	rm -rf build build-asan build-fuzz

distclean: clean
