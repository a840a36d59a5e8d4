// SPDX-License-Identifier: GPL-2.0-or-later
/* The daemon on a fake kernel port: every port call is written to a transcript, events
 * come from the test. Start, carrier loss, control verbs, stop. (The scenario tests of
 * the daemon build on this fake; this one shows the port is all the daemon touches.) */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "daemon.h"
#include "kport.h"
#include "log.h"
#include "loop.h"

#define UP_FLAGS (IFF_UP | 0x10000)             /* IFF_UP | IFF_LOWER_UP */

struct fake {
	struct ul_buf calls;                    /* the transcript, one call a line */
	struct ul_kev dump[8], pending[8];      /* what a dump / the next read returns */
	size_t n_dump, n_pending;
	int pipe[2];                            /* the "event fd" (never readable) */
	int prober;                             /* handles handed out */
	/* the watching part (fake_port_watching): nftables events come through nft_pipe */
	int nft_pipe[2];
	int nft_changes;                        /* the next read: foreign changes ... */
	struct ul_nft_change nft_change;        /* ... and the most serious of them */
	int nft_lost;                           /* the next nft_apply returns 1: deaf */
	int drift;                              /* routing_drift: differences, ... */
	char drift_what[128];                   /* ... the first in words */
	const char *sysctl_key;                 /* sysctl_check: this one drifted, ... */
	long sysctl_found;                      /* ... to this value */
};

#define CALL(f, ...) ul_buf_printf(&((struct fake *)(f))->calls, __VA_ARGS__)

static uint64_t f_now_ms(void *ctx)
{
	return ul_now_ms();                     /* the loop's clock: timers must fire */
}

static int f_rtnl_open(void *ctx)
{
	CALL(ctx, "rtnl_open\n");
	return 0;
}

static int f_rtnl_event_fd(void *ctx)
{
	return ((struct fake *)ctx)->pipe[0];
}

static int f_rtnl_read_events(void *ctx, ul_kev_cb cb, void *data)
{
	struct fake *f = ctx;

	CALL(f, "rtnl_read_events -> %zu\n", f->n_pending);
	for (size_t i = 0; i < f->n_pending; i++)
		cb(&f->pending[i], data);
	f->n_pending = 0;
	return -EAGAIN;
}

static int f_rtnl_dump_all(void *ctx, ul_kev_cb cb, void *data)
{
	struct fake *f = ctx;

	CALL(f, "rtnl_dump_all -> %zu\n", f->n_dump);
	for (size_t i = 0; i < f->n_dump; i++)
		cb(&f->dump[i], data);
	return 0;
}

static int f_nft_open(void *ctx)
{
	CALL(ctx, "nft_open\n");
	return 0;
}

static int f_nft_apply(void *ctx, const struct ul_ruleset *rs)
{
	struct fake *f = ctx;
	int ret = f->nft_lost;

	f->nft_lost = 0;
	CALL(f, "nft_apply%s\n", ret ? " -> 1 (others committed meanwhile)" : "");
	return ret;
}

static int f_nft_remove(void *ctx)
{
	CALL(ctx, "nft_remove\n");
	return 0;
}

static int f_reconcile(void *ctx, const struct ul_plan *want, const uint32_t *tables,
		       size_t n_tables, uint32_t lo, uint32_t hi)
{
	char txt[256];

	CALL(ctx, "reconcile tables");
	for (size_t i = 0; i < n_tables; i++)
		CALL(ctx, " %u", tables[i]);
	CALL(ctx, " rules %u-%u\n", lo, hi);
	for (size_t i = 0; i < want->n_routes; i++) {
		ul_route_format(&want->routes[i], txt, sizeof(txt));
		CALL(ctx, "  route %s\n", txt);
	}
	for (size_t i = 0; i < want->n_rules; i++) {
		ul_iprule_format(&want->rules[i], txt, sizeof(txt));
		CALL(ctx, "  rule %s\n", txt);
	}
	return 1;
}

static int f_remove_all(void *ctx, const uint32_t *tables, size_t n_tables, uint32_t lo,
			uint32_t hi)
{
	CALL(ctx, "remove_all tables");
	for (size_t i = 0; i < n_tables; i++)
		CALL(ctx, " %u", tables[i]);
	CALL(ctx, " rules %u-%u\n", lo, hi);
	return 0;
}

static int f_ct_flush_mark(void *ctx, int family, uint32_t mark, uint32_t mask)
{
	CALL(ctx, "ct_flush_mark %s 0x%x/0x%x\n", family == AF_INET ? "ipv4" :
	     family == AF_INET6 ? "ipv6" : "?", mark, mask);
	return 0;
}

static int f_ct_flush_unmarked(void *ctx, const struct ul_addr *reply_dst, uint32_t mask)
{
	char a[UL_ADDR_STRLEN];

	ul_addr_format(reply_dst, a, sizeof(a));
	CALL(ctx, "ct_flush_unmarked to %s 0x%x\n", a, mask);
	return 0;
}

static int f_ident_load(void *ctx, const char *path, struct ul_ident_map *m)
{
	const char *slash = strrchr(path, '/');

	CALL(ctx, "ident_load .../%s\n", slash ? slash + 1 : path);
	m->n = 0;
	return 0;
}

static int f_ident_save(void *ctx, const char *path, const struct ul_ident *a, size_t n)
{
	const char *slash = strrchr(path, '/');

	CALL(ctx, "ident_save .../%s", slash ? slash + 1 : path);
	for (size_t i = 0; i < n; i++)
		CALL(ctx, " %s=%u/%u", a[i].name, a[i].id, a[i].table);
	CALL(ctx, "\n");
	return 0;
}

static int f_sysctl_open(void *ctx)
{
	CALL(ctx, "sysctl_open\n");
	return 0;
}

static int f_sysctl_ensure(void *ctx, const char *key, int value, int atleast)
{
	CALL(ctx, "sysctl_ensure %s %d%s\n", key, value, atleast ? " (at least)" : "");
	return 0;
}

static int f_sysctl_get(void *ctx, const char *key, long *value)
{
	CALL(ctx, "sysctl_get %s -> 1\n", key);
	*value = 1;                     /* accept_ra as a fresh interface has it */
	return 0;
}

static void f_sysctl_restore(void *ctx)
{
	CALL(ctx, "sysctl_restore\n");
}

static int f_hooks_open(void *ctx, struct ul_loop *loop)
{
	CALL(ctx, "hooks_open\n");
	return 0;
}

static int f_hooks_configure(void *ctx, const char *path, uint32_t timeout_s,
			     const char *user)
{
	CALL(ctx, "hooks_configure \"%s\" %u%s%s\n", path, timeout_s, user[0] ? " as " : "",
	     user);
	return 0;
}

static int f_priv_drop(void *ctx, bool keep_setid)
{
	CALL(ctx, "priv_drop%s\n", keep_setid ? " (keep setid)" : "");
	return 0;
}

static bool f_priv_can_setid(void *ctx)
{
	return false;
}

static int f_hook_event(void *ctx, const char *name, const char *ifname, const char *state,
			const char *prev, const char *active_csv)
{
	CALL(ctx, "hook %s %s %s <- %s active=%s\n", name, ifname, state, prev, active_csv);
	return 0;
}

static int f_hook_event6(void *ctx, const char *name, const char *ifname, const char *state,
			 const char *prev, const char *active_csv)
{
	CALL(ctx, "hook ipv6 %s %s %s <- %s active=%s\n", name, ifname, state, prev, active_csv);
	return 0;
}

static void f_hooks_reap(void *ctx)
{
	CALL(ctx, "hooks_reap\n");
}

static struct ul_prober *f_prober_new(void *ctx, struct ul_loop *loop,
				      const struct ul_check *chk, const char *ifname,
				      uint32_t mark, ul_round_cb cb, void *data)
{
	struct fake *f = ctx;

	CALL(f, "prober_new %s\n", ifname);
	return (struct ul_prober *)&f->prober;
}

static int f_prober_bind(void *ctx, struct ul_prober *p, const struct ul_addr *src)
{
	return 0;
}

static const struct ul_probe_stats *f_prober_stats(void *ctx, const struct ul_prober *p)
{
	static const struct ul_probe_stats none;

	return &none;
}

static void f_prober_free(void *ctx, struct ul_prober *p)
{
	CALL(ctx, "prober_free\n");
}

static void f_close(void *ctx)
{
	CALL(ctx, "close\n");
}

static struct ul_kport fake_port(struct fake *f)
{
	return (struct ul_kport){
		.ctx = f, .now_ms = f_now_ms,
		.rtnl_open = f_rtnl_open, .rtnl_event_fd = f_rtnl_event_fd,
		.rtnl_read_events = f_rtnl_read_events, .rtnl_dump_all = f_rtnl_dump_all,
		.nft_open = f_nft_open, .nft_apply = f_nft_apply, .nft_remove = f_nft_remove,
		.reconcile = f_reconcile, .remove_all = f_remove_all,
		.ct_flush_mark = f_ct_flush_mark, .ct_flush_unmarked = f_ct_flush_unmarked,
		.ident_load = f_ident_load, .ident_save = f_ident_save,
		.sysctl_open = f_sysctl_open, .sysctl_ensure = f_sysctl_ensure,
		.sysctl_restore = f_sysctl_restore, .sysctl_get = f_sysctl_get,
		.hooks_open = f_hooks_open, .hooks_configure = f_hooks_configure,
		.hook_event = f_hook_event, .hook_event6 = f_hook_event6, .hooks_reap = f_hooks_reap,
		.prober_new = f_prober_new, .prober_bind = f_prober_bind,
		.prober_stats = f_prober_stats, .prober_free = f_prober_free,
		.priv_drop = f_priv_drop, .priv_can_setid = f_priv_can_setid,
		.close = f_close,
	};
}

/* ---- the watching part of the port ---- */

static int f_nft_watch_open(void *ctx)
{
	struct fake *f = ctx;

	CALL(f, "nft_watch_open\n");
	return pipe(f->nft_pipe) ? -errno : 0;
}

static int f_nft_watch_fd(void *ctx)
{
	return ((struct fake *)ctx)->nft_pipe[0];
}

static int f_nft_watch_read(void *ctx, const struct ul_ruleset *rs, struct ul_nft_change *ch)
{
	struct fake *f = ctx;
	char c;
	int n = f->nft_changes;

	assert_int_equal(read(f->nft_pipe[0], &c, 1), 1);
	CALL(f, "nft_watch_read -> %d\n", n);
	if (n)
		*ch = f->nft_change;
	f->nft_changes = 0;
	return n;
}

static int f_nft_check(void *ctx, const struct ul_ruleset *rs, struct ul_nft_change *ch)
{
	CALL(ctx, "nft_check\n");
	return 0;
}

static int f_routing_drift(void *ctx, const struct ul_plan *want, const uint32_t *tables,
			   size_t n_tables, uint32_t lo, uint32_t hi, char *what, size_t len)
{
	struct fake *f = ctx;
	int n = f->drift;

	CALL(f, "routing_drift -> %d\n", n);
	snprintf(what, len, "%s", f->drift_what);
	f->drift = 0;
	return n;
}

static int f_sysctl_check(void *ctx, const char *key, int value, int atleast, bool fix,
			  long *found)
{
	struct fake *f = ctx;
	bool drifted = f->sysctl_key && !strcmp(key, f->sysctl_key);

	CALL(f, "sysctl_check %s%s -> %d\n", key, fix ? " fix" : "", drifted);
	*found = drifted ? f->sysctl_found : value;
	if (drifted && fix)
		f->sysctl_key = NULL;
	return drifted;
}

static struct ul_kport fake_port_watching(struct fake *f)
{
	struct ul_kport kp = fake_port(f);

	kp.nft_watch_open = f_nft_watch_open;
	kp.nft_watch_fd = f_nft_watch_fd;
	kp.nft_watch_read = f_nft_watch_read;
	kp.nft_check = f_nft_check;
	kp.routing_drift = f_routing_drift;
	kp.sysctl_check = f_sysctl_check;
	return kp;
}

static struct ul_kev link_kev(int ifindex, const char *name, unsigned flags)
{
	struct ul_kev ev = { .type = UL_KEV_LINK, .ifindex = ifindex, .flags = flags };

	snprintf(ev.ifname, sizeof(ev.ifname), "%s", name);
	return ev;
}

static struct ul_kev addr_kev(int ifindex, const char *a)
{
	struct ul_kev ev = { .type = UL_KEV_ADDR, .ifindex = ifindex };

	assert_int_equal(ul_addr_parse(a, false, &ev.addr), 0);
	ev.addr.plen = 24;
	return ev;
}

static void on_stop(struct ul_timer *t)
{
	ul_loop_stop(t->data);
}

/* Run the loop for ms milliseconds (the apply timer is due at once). */
static void run_for(struct ul_daemon *d, uint64_t ms)
{
	struct ul_timer t = { .cb = on_stop, .data = d->loop };

	assert_int_equal(ul_timer_arm(d->loop, &t, ul_now_ms() + ms), 0);
	assert_int_equal(ul_loop_run(d->loop), 0);
}

/* The transcript since the last call, compared whole, then forgotten. */
static void expect_calls(struct fake *f, const char *want)
{
	const char *got = f->calls.p ? f->calls.p : "";

	if (strcmp(got, want)) {
		fprintf(stderr, "--- want\n%s--- got\n%s---\n", want, got);
		fail();
	}
	ul_buf_reset(&f->calls);
}

static void start_carrier_loss_stop(void **state)
{
	char dir[] = "/tmp/ul-dport-XXXXXX", text[1024], sock[128];
	struct ul_diag diag = { 0 };
	struct ul_daemon *d = calloc(1, sizeof(*d));
	struct fake f = { 0 };
	struct ul_buf body = { 0 };

	assert_non_null(d);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(f.pipe), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(text, sizeof(text),
		 "lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\" ]; };\n"
		 "links = (\n"
		 " { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; },\n"
		 " { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\"; }\n"
		 ");\n"
		 "daemon = { control_socket = \"%s\"; log_level = \"error\"; };\n", sock);
	assert_int_equal(ul_config_parse_string(text, "t.conf", &d->cfg, &diag), 0);
	f.dump[f.n_dump++] = link_kev(5, "wan1", UP_FLAGS);
	f.dump[f.n_dump++] = addr_kev(5, "192.168.1.2");
	f.dump[f.n_dump++] = link_kev(6, "wan2", UP_FLAGS);
	f.dump[f.n_dump++] = addr_kev(6, "192.168.2.2");
	d->kp = fake_port(&f);
	d->cfg_path = "t.conf";
	d->level_override = -1;

	/* start: open, read the kernel, sysctls, adopt; the first apply, hooks after it */
	assert_int_equal(ul_daemon_start(d), 0);
	run_for(d, 50);
	expect_calls(&f,
		     "hooks_open\n"
		     "sysctl_open\n"
		     "ident_load .../links.ids\n"
		     "ident_save .../links.ids isp1=1/201 isp2=2/202\n"
		     "rtnl_open\n"
		     "nft_open\n"
		     "rtnl_dump_all -> 4\n"
		     "sysctl_ensure net/ipv4/ip_forward 1\n"
		     "sysctl_ensure net/ipv4/fib_multipath_hash_policy 1\n"
		     "priv_drop\n"
		     "hooks_configure \"\" 10\n"
		     "sysctl_ensure net/ipv4/conf/wan1/rp_filter 2 (at least)\n"
		     "sysctl_ensure net/ipv4/conf/wan2/rp_filter 2 (at least)\n"
		     "nft_apply\n"
		     "reconcile tables 201 202 250 rules 1000-1099\n"
		     "  route default via 192.168.1.1 dev wan1 table 201\n"
		     "  route default via 192.168.2.1 dev wan2 table 202\n"
		     "  route default nexthop via 192.168.1.1 dev wan1 weight 1 nexthop via "
		     "192.168.2.1 dev wan2 weight 1 table 250\n"
		     "  rule 1000: from all lookup main suppress_prefixlength 0\n"
		     "  rule 1001: from 192.168.1.2 lookup 201\n"
		     "  rule 1002: from 192.168.2.2 lookup 202\n"
		     "  rule 1010: from all fwmark 0x100/0xff00 lookup 201\n"
		     "  rule 1011: from all fwmark 0x200/0xff00 lookup 202\n"
		     "  rule 1099: from all lookup 250\n"
		     "hook isp1 wan1 up <- init active=isp1,isp2\n"
		     "hook isp2 wan2 up <- init active=isp1,isp2\n");

	/* wan1 loses its carrier: its routes go, its connections are forgotten (the ruleset
	 * is the same: not sent again) */
	f.pending[f.n_pending++] = link_kev(5, "wan1", IFF_UP);
	ul_daemon_kernel_events(d);
	run_for(d, 50);
	expect_calls(&f,
		     "rtnl_read_events -> 1\n"
		     "reconcile tables 201 202 250 rules 1000-1099\n"
		     "  route default via 192.168.2.1 dev wan2 table 202\n"
		     "  route default via 192.168.2.1 dev wan2 table 250\n"
		     "  rule 1000: from all lookup main suppress_prefixlength 0\n"
		     "  rule 1002: from 192.168.2.2 lookup 202\n"
		     "  rule 1011: from all fwmark 0x200/0xff00 lookup 202\n"
		     "  rule 1099: from all lookup 250\n"
		     "ct_flush_mark ipv4 0x100/0xff00\n"
		     "ct_flush_unmarked to 192.168.1.2 0xff00\n"
		     "hook isp1 wan1 down <- up active=isp2\n");

	/* the control verbs, from the table */
	assert_int_equal(ul_verbs_handle(d, "status json", &body), 0);
	assert_non_null(strstr(body.p, "\"isp1\""));
	ul_buf_reset(&body);
	assert_int_equal(ul_verbs_handle(d, "status xml", &body), -EINVAL);
	assert_string_equal(body.p, "unknown request \"status\"");
	ul_buf_reset(&body);
	assert_int_equal(ul_verbs_handle(d, "reload now", &body), -EINVAL);
	assert_string_equal(body.p, "unknown request \"reload\"");
	ul_buf_reset(&body);
	assert_int_equal(ul_verbs_handle(d, "disable", &body), -EINVAL);
	assert_string_equal(body.p, "unknown request \"disable\"");
	ul_buf_reset(&body);
	assert_int_equal(ul_verbs_handle(d, "disable isp9", &body), -ENOENT);
	assert_string_equal(body.p, "no link named \"isp9\"");
	ul_buf_reset(&body);
	assert_int_equal(ul_verbs_handle(d, "disable isp2", &body), 0);
	assert_string_equal(body.p, "link isp2 disabled\n");
	ul_buf_reset(&body);
	expect_calls(&f, "");

	/* a reload that adds hook_user, once the capabilities to switch are gone (the fake
	 * says so): refused, nothing touched; without it, taken */
	{
		char conf[160];
		FILE *fp;

		snprintf(conf, sizeof(conf), "%s/t.conf", dir);
		fp = fopen(conf, "w");
		assert_non_null(fp);
		fprintf(fp, "%.*s", (int)(strstr(text, "daemon = {") - text), text);
		fprintf(fp, "daemon = { control_socket = \"%s\"; log_level = \"error\"; "
			"hook_user = \"nobody\"; };\n", sock);
		fclose(fp);
		d->cfg_path = conf;
		assert_int_equal(ul_daemon_reload(d, &body), -EPERM);
		assert_string_equal(body.p, "reload refused: daemon.hook_user needs a restart");
		ul_buf_reset(&body);
		expect_calls(&f, "");
		fp = fopen(conf, "w");
		assert_non_null(fp);
		fprintf(fp, "%.*s", (int)(strstr(text, "daemon = {") - text), text);
		fprintf(fp, "daemon = { control_socket = \"%s\"; log_level = \"error\"; "
			"admin_group = \"root\"; };\n", sock);
		fclose(fp);
		assert_int_equal(ul_daemon_reload(d, &body), 0);
		/* a reload sets the sysctls again too (and re-sends the ruleset at its apply) */
		expect_calls(&f, "ident_save .../links.ids isp1=1/201 isp2=2/202\n"
				 "sysctl_ensure net/ipv4/ip_forward 1\n"
				 "sysctl_ensure net/ipv4/fib_multipath_hash_policy 1\n"
				 "hooks_configure \"\" 10\n"
				 "sysctl_ensure net/ipv4/conf/wan1/rp_filter 2 (at least)\n"
				 "sysctl_ensure net/ipv4/conf/wan2/rp_filter 2 (at least)\n");
		unlink(conf);
	}
	ul_buf_free(&body);

	/* SIGTERM: stop; everything taken away, the port closed */
	assert_int_equal(ul_daemon_signal(d, SIGTERM), 1);
	ul_daemon_stop(d);
	expect_calls(&f,
		     "nft_remove\n"
		     "remove_all tables 201 202 250 rules 1000-1099\n"
		     "sysctl_restore\n"
		     "close\n");
	ul_buf_free(&f.calls);
	close(f.pipe[0]);
	close(f.pipe[1]);
	unlink(sock);
	rmdir(dir);
	free(d);
}

/* Dual stack on the fake port: accept_ra 2 before IPv6 forwarding, the IPv6 half of the
 * plan reconciled with the IPv4 one, a lost router that takes the link's IPv6 out alone, a
 * carrier loss that flushes both families' connections and runs the hook for each. */
static struct ul_kev addr6_kev(int ifindex, const char *a)
{
	struct ul_kev ev = { .type = UL_KEV_ADDR, .ifindex = ifindex, .addr_usable = true };

	assert_int_equal(ul_addr_parse(a, false, &ev.addr), 0);
	ev.addr.plen = 64;
	return ev;
}

static struct ul_kev router_kev(enum ul_kev_type type, int ifindex)
{
	struct ul_kev ev = { .type = type, .ifindex = ifindex, .has_gw = true, .table = 254,
			     .metric = 1024, .proto = 9 };

	assert_int_equal(ul_addr_parse("::/0", true, &ev.addr), 0);
	assert_int_equal(ul_addr_parse("fe80::1", false, &ev.gw), 0);
	return ev;
}

static void dual_stack(void **state)
{
	char dir[] = "/tmp/ul-dport-XXXXXX", text[1024], sock[128];
	struct ul_diag diag = { 0 };
	struct ul_daemon *d = calloc(1, sizeof(*d));
	struct fake f = { 0 };

	assert_non_null(d);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(f.pipe), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(text, sizeof(text),
		 "lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\", \"fd00::/64\" ]; };\n"
		 "links = (\n"
		 " { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\";"
		 " gateway6 = \"auto\"; },\n"
		 " { name = \"isp2\"; interface = \"wan2\"; gateway = \"192.168.2.1\";"
		 " gateway6 = \"auto\"; }\n"
		 ");\n"
		 "daemon = { control_socket = \"%s\"; log_level = \"error\"; };\n", sock);
	assert_int_equal(ul_config_parse_string(text, "t.conf", &d->cfg, &diag), 0);
	f.dump[f.n_dump++] = link_kev(5, "wan1", UP_FLAGS);
	f.dump[f.n_dump++] = addr_kev(5, "192.168.1.2");
	f.dump[f.n_dump++] = addr6_kev(5, "2001:db8:1::2");
	f.dump[f.n_dump++] = router_kev(UL_KEV_ROUTE, 5);
	f.dump[f.n_dump++] = link_kev(6, "wan2", UP_FLAGS);
	f.dump[f.n_dump++] = addr_kev(6, "192.168.2.2");
	f.dump[f.n_dump++] = addr6_kev(6, "2001:db8:2::2");
	f.dump[f.n_dump++] = router_kev(UL_KEV_ROUTE, 6);
	d->kp = fake_port(&f);
	d->cfg_path = "t.conf";
	d->level_override = -1;

	assert_int_equal(ul_daemon_start(d), 0);
	run_for(d, 50);
	expect_calls(&f,
		     "hooks_open\n"
		     "sysctl_open\n"
		     "ident_load .../links.ids\n"
		     "ident_save .../links.ids isp1=1/201 isp2=2/202\n"
		     "rtnl_open\n"
		     "nft_open\n"
		     "rtnl_dump_all -> 8\n"
		     "sysctl_ensure net/ipv4/ip_forward 1\n"
		     "sysctl_ensure net/ipv4/fib_multipath_hash_policy 1\n"
		     "priv_drop\n"
		     "hooks_configure \"\" 10\n"
		     "sysctl_ensure net/ipv4/conf/wan1/rp_filter 2 (at least)\n"
		     "sysctl_get net/ipv6/conf/wan1/accept_ra -> 1\n"
		     "sysctl_ensure net/ipv6/conf/wan1/accept_ra 2\n"
		     "sysctl_ensure net/ipv4/conf/wan2/rp_filter 2 (at least)\n"
		     "sysctl_get net/ipv6/conf/wan2/accept_ra -> 1\n"
		     "sysctl_ensure net/ipv6/conf/wan2/accept_ra 2\n"
		     "sysctl_ensure net/ipv6/conf/all/forwarding 1\n"
		     "sysctl_ensure net/ipv6/fib_multipath_hash_policy 1\n"
		     "nft_apply\n"
		     "reconcile tables 201 202 250 rules 1000-1099\n"
		     "  route default via 192.168.1.1 dev wan1 table 201\n"
		     "  route default via 192.168.2.1 dev wan2 table 202\n"
		     "  route default nexthop via 192.168.1.1 dev wan1 weight 1 nexthop via "
		     "192.168.2.1 dev wan2 weight 1 table 250\n"
		     "  route default via fe80::1 dev wan1 table 201\n"
		     "  route default via fe80::1 dev wan2 table 202\n"
		     "  route default nexthop via fe80::1 dev wan1 weight 1 nexthop via "
		     "fe80::1 dev wan2 weight 1 table 250\n"
		     "  rule 1000: from all lookup main suppress_prefixlength 0\n"
		     "  rule 1001: from 192.168.1.2 lookup 201\n"
		     "  rule 1002: from 192.168.2.2 lookup 202\n"
		     "  rule 1010: from all fwmark 0x100/0xff00 lookup 201\n"
		     "  rule 1011: from all fwmark 0x200/0xff00 lookup 202\n"
		     "  rule 1099: from all lookup 250\n"
		     "  rule 1000: from all lookup main suppress_prefixlength 0\n"
		     "  rule 1001: from 2001:db8:1::2 lookup 201\n"
		     "  rule 1002: from 2001:db8:2::2 lookup 202\n"
		     "  rule 1010: from all fwmark 0x100/0xff00 lookup 201\n"
		     "  rule 1011: from all fwmark 0x200/0xff00 lookup 202\n"
		     "  rule 1099: from all lookup 250\n"
		     "hook isp1 wan1 up <- init active=isp1,isp2\n"
		     "hook ipv6 isp1 wan1 up <- init active=isp1,isp2\n"
		     "hook isp2 wan2 up <- init active=isp1,isp2\n"
		     "hook ipv6 isp2 wan2 up <- init active=isp1,isp2\n");

	/* isp2's router ends (its lifetime, or a last advertisement): IPv6 leaves isp2 alone,
	 * its IPv4 stays; its IPv6 connections are flushed (no route out of it any more) */
	f.pending[f.n_pending++] = router_kev(UL_KEV_ROUTE_DEL, 6);
	ul_daemon_kernel_events(d);
	run_for(d, 50);
	expect_calls(&f,
		     "rtnl_read_events -> 1\n"
		     "reconcile tables 201 202 250 rules 1000-1099\n"
		     "  route default via 192.168.1.1 dev wan1 table 201\n"
		     "  route default via 192.168.2.1 dev wan2 table 202\n"
		     "  route default nexthop via 192.168.1.1 dev wan1 weight 1 nexthop via "
		     "192.168.2.1 dev wan2 weight 1 table 250\n"
		     "  route default via fe80::1 dev wan1 table 201\n"
		     "  route default via fe80::1 dev wan1 table 250\n"
		     "  rule 1000: from all lookup main suppress_prefixlength 0\n"
		     "  rule 1001: from 192.168.1.2 lookup 201\n"
		     "  rule 1002: from 192.168.2.2 lookup 202\n"
		     "  rule 1010: from all fwmark 0x100/0xff00 lookup 201\n"
		     "  rule 1011: from all fwmark 0x200/0xff00 lookup 202\n"
		     "  rule 1099: from all lookup 250\n"
		     "  rule 1000: from all lookup main suppress_prefixlength 0\n"
		     "  rule 1001: from 2001:db8:1::2 lookup 201\n"
		     "  rule 1010: from all fwmark 0x100/0xff00 lookup 201\n"
		     "  rule 1099: from all lookup 250\n"
		     "ct_flush_mark ipv6 0x200/0xff00\n"
		     "ct_flush_unmarked to 2001:db8:2::2 0xff00\n");

	/* wan1's carrier goes: both families of isp1 down, both flushed, a hook for each (no
	 * link's IPv6 is active now: isp2 has no router); the ruleset is the same (not sent
	 * again) */
	f.pending[f.n_pending++] = link_kev(5, "wan1", IFF_UP);
	ul_daemon_kernel_events(d);
	run_for(d, 50);
	expect_calls(&f,
		     "rtnl_read_events -> 1\n"
		     "reconcile tables 201 202 250 rules 1000-1099\n"
		     "  route default via 192.168.2.1 dev wan2 table 202\n"
		     "  route default via 192.168.2.1 dev wan2 table 250\n"
		     "  rule 1000: from all lookup main suppress_prefixlength 0\n"
		     "  rule 1002: from 192.168.2.2 lookup 202\n"
		     "  rule 1011: from all fwmark 0x200/0xff00 lookup 202\n"
		     "  rule 1099: from all lookup 250\n"
		     "  rule 1000: from all lookup main suppress_prefixlength 0\n"
		     "  rule 1099: from all lookup 250\n"
		     "ct_flush_mark ipv4 0x100/0xff00\n"
		     "ct_flush_unmarked to 192.168.1.2 0xff00\n"
		     "ct_flush_mark ipv6 0x100/0xff00\n"
		     "ct_flush_unmarked to 2001:db8:1::2 0xff00\n"
		     "hook isp1 wan1 down <- up active=isp2\n"
		     "hook ipv6 isp1 wan1 down <- up active=\n");

	assert_int_equal(ul_daemon_signal(d, SIGTERM), 1);
	ul_daemon_stop(d);
	expect_calls(&f,
		     "nft_remove\n"
		     "remove_all tables 201 202 250 rules 1000-1099\n"
		     "sysctl_restore\n"
		     "close\n");
	ul_buf_free(&f.calls);
	close(f.pipe[0]);
	close(f.pipe[1]);
	unlink(sock);
	rmdir(dir);
	free(d);
}

/* The daemon's log lines, from a file stderr points at while the test runs; the teardown
 * points stderr back and shows what was not looked at (cmocka's words of a failure). */
static FILE *g_log;
static long g_log_off;
static int g_saved_err = -1;
static char g_log_path[] = "/tmp/ul-dport-log-XXXXXX";

static void log_capture(void)
{
	int fd = mkstemp(g_log_path);

	assert_true(fd >= 0);
	fflush(stderr);
	g_saved_err = dup(2);
	assert_true(g_saved_err >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	g_log = fopen(g_log_path, "r");
	assert_non_null(g_log);
	g_log_off = 0;
}

static int log_restore(void **state)
{
	char line[512];

	if (g_saved_err < 0)
		return 0;
	fflush(stderr);
	dup2(g_saved_err, 2);
	close(g_saved_err);
	g_saved_err = -1;
	fseek(g_log, g_log_off, SEEK_SET);
	while (fgets(line, sizeof(line), g_log))
		fputs(line, stderr);
	fclose(g_log);
	unlink(g_log_path);
	return 0;
}

/* The log since the last call (whole lines, without the <N> priority). */
static void log_since(char *out, size_t len)
{
	char line[512];
	size_t off = 0;

	out[0] = '\0';
	clearerr(g_log);
	fseek(g_log, g_log_off, SEEK_SET);
	while (fgets(line, sizeof(line), g_log)) {
		const char *p = line[0] == '<' && strchr(line, '>') ? strchr(line, '>') + 1 : line;

		off += (size_t)snprintf(out + off, off < len ? len - off : 0, "%s", p);
	}
	g_log_off = ftell(g_log);
}

static void expect_log(const char *want)
{
	char got[4096];

	log_since(got, sizeof(got));
	if (strcmp(got, want)) {
		fprintf(stdout, "--- log wanted\n%s--- got\n%s---\n", want, got);
		fail();
	}
}

static void nft_event(struct fake *f, int changes, const char *what)
{
	f->nft_changes = changes;
	f->nft_change = (struct ul_nft_change){ .rank = 5 };
	snprintf(f->nft_change.what, sizeof(f->nft_change.what), "%s", what);
	assert_int_equal(write(f->nft_pipe[1], "x", 1), 1);
}

static void expect_calls_quiet(struct fake *f, const char *want)
{
	const char *got = f->calls.p ? f->calls.p : "";

	if (strcmp(got, want)) {
		fprintf(stdout, "--- want\n%s--- got\n%s---\n", want, got);
		fail();
	}
	ul_buf_reset(&f->calls);
}

#define RECONCILE_ONE_LINK \
	"reconcile tables 201 250 rules 1000-1099\n" \
	"  route default via 192.168.1.1 dev wan1 table 201\n" \
	"  route default via 192.168.1.1 dev wan1 table 250\n" \
	"  rule 1000: from all lookup main suppress_prefixlength 0\n" \
	"  rule 1001: from 192.168.1.2 lookup 201\n" \
	"  rule 1010: from all fwmark 0x100/0xff00 lookup 201\n" \
	"  rule 1099: from all lookup 250\n"

/* Someone flushes the ruleset, deletes a rule, changes rp_filter: each is put back and
 * logged; uplinkd's own changes are not; a fight backs off; a reload re-sends all. */
static void foreign_changes_repaired(void **state)
{
	char dir[] = "/tmp/ul-dport-XXXXXX", text[1024], sock[128], path[160];
	struct ul_diag diag = { 0 };
	struct ul_daemon *d = calloc(1, sizeof(*d));
	struct fake f = { 0 };
	FILE *cf;

	assert_non_null(d);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(f.pipe), 0);
	snprintf(sock, sizeof(sock), "%s/ctl.sock", dir);
	snprintf(path, sizeof(path), "%s/t.conf", dir);
	snprintf(text, sizeof(text),
		 "lan = { interfaces = [ \"lan0\" ]; networks = [ \"10.0.0.0/24\" ]; };\n"
		 "links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = \"192.168.1.1\"; } );\n"
		 "daemon = { control_socket = \"%s\"; log_level = \"warning\"; };\n", sock);
	cf = fopen(path, "w");
	assert_non_null(cf);
	fputs(text, cf);
	fclose(cf);
	assert_int_equal(ul_config_parse_string(text, path, &d->cfg, &diag), 0);
	f.dump[f.n_dump++] = link_kev(5, "wan1", UP_FLAGS);
	f.dump[f.n_dump++] = addr_kev(5, "192.168.1.2");
	d->kp = fake_port_watching(&f);
	d->cfg_path = path;
	d->level_override = -1;
	log_capture();

	/* start: the nftables event socket is opened too */
	assert_int_equal(ul_daemon_start(d), 0);
	run_for(d, 50);
	assert_non_null(strstr(f.calls.p, "nft_watch_open\n"));
	ul_buf_reset(&f.calls);
	expect_log("");

	/* uplinkd's own transaction: events, but no change of someone else's */
	nft_event(&f, 0, "");
	run_for(d, 50);
	expect_calls_quiet(&f, "nft_watch_read -> 0\n");
	expect_log("");

	/* nft flush ruleset: the ruleset is sent again although its text is the same (the
	 * routing, unchanged and followed, is not looked at) */
	nft_event(&f, 3, "table inet uplinkd removed");
	run_for(d, 50);
	expect_calls_quiet(&f, "nft_watch_read -> 3\n" "nft_apply\n");
	expect_log("repair: table inet uplinkd removed (changed outside uplinkd)\n");

	/* ip rule del of one of its rules: the difference is named, then put back */
	f.pending[f.n_pending++] = (struct ul_kev){ .type = UL_KEV_RULE, .metric = 1010,
						    .deleted = true };
	f.drift = 1;
	snprintf(f.drift_what, sizeof(f.drift_what),
		 "rule 1010: from all fwmark 0x100/0xff00 lookup 201 missing");
	ul_daemon_kernel_events(d);
	run_for(d, 50);
	expect_calls_quiet(&f, "rtnl_read_events -> 1\n" "routing_drift -> 1\n" RECONCILE_ONE_LINK);
	expect_log("repair: rule 1010: from all fwmark 0x100/0xff00 lookup 201 missing "
		   "(changed outside uplinkd)\n");

	/* its own rule changes, rules outside its range and routes of tables not its own are
	 * not looked at; a route flushed from its link table is */
	f.pending[f.n_pending++] = (struct ul_kev){ .type = UL_KEV_RULE, .metric = 1010, .own = true };
	f.pending[f.n_pending++] = (struct ul_kev){ .type = UL_KEV_RULE, .metric = 32766 };
	f.pending[f.n_pending++] = (struct ul_kev){ .type = UL_KEV_TROUTE, .table = 100 };
	f.pending[f.n_pending++] = (struct ul_kev){ .type = UL_KEV_TROUTE, .table = 201, .own = true };
	ul_daemon_kernel_events(d);
	run_for(d, 50);
	expect_calls_quiet(&f, "rtnl_read_events -> 4\n");
	f.pending[f.n_pending++] = (struct ul_kev){ .type = UL_KEV_TROUTE, .table = 201,
						    .deleted = true };
	f.drift = 1;
	snprintf(f.drift_what, sizeof(f.drift_what),
		 "route default via 192.168.1.1 dev wan1 table 201 missing");
	ul_daemon_kernel_events(d);
	run_for(d, 50);
	expect_calls_quiet(&f, "rtnl_read_events -> 1\n" "routing_drift -> 1\n" RECONCILE_ONE_LINK);
	expect_log("repair: route default via 192.168.1.1 dev wan1 table 201 missing "
		   "(changed outside uplinkd)\n");
	/* changed and changed back before the check: nothing to do, nothing said */
	f.pending[f.n_pending++] = (struct ul_kev){ .type = UL_KEV_RULE, .metric = 1050 };
	ul_daemon_kernel_events(d);
	run_for(d, 50);
	expect_calls_quiet(&f, "rtnl_read_events -> 1\n" "routing_drift -> 0\n");
	expect_log("");

	/* rp_filter changed (a netconf event): set again, the saved original untouched */
	f.sysctl_key = "net/ipv4/conf/wan1/rp_filter";
	f.sysctl_found = 1;
	f.pending[f.n_pending++] = (struct ul_kev){ .type = UL_KEV_NETCONF, .ifindex = 5 };
	ul_daemon_kernel_events(d);
	run_for(d, 50);
	expect_calls_quiet(&f, "rtnl_read_events -> 1\n"
			   "rtnl_read_events -> 0\n"           /* the interfaces as they are now */
			   "sysctl_check net/ipv4/ip_forward -> 0\n"
			   "sysctl_check net/ipv4/fib_multipath_hash_policy -> 0\n"
			   "sysctl_check net/ipv4/conf/wan1/rp_filter -> 1\n"
			   "sysctl_check net/ipv4/conf/wan1/rp_filter fix -> 1\n");
	expect_log("repair: sysctl net.ipv4.conf.wan1.rp_filter is 1, uplinkd set 2 "
		   "(changed outside uplinkd)\n");

	/* applied while the event socket was deaf, and others committed meanwhile: as lost
	 * events, the table is checked (found whole: nothing more) */
	f.nft_lost = 1;
	assert_int_equal(ul_daemon_reload(d, NULL), 0);
	run_for(d, 100);
	{
		const char *a = strstr(f.calls.p, "nft_apply -> 1 (others committed meanwhile)\n");

		assert_non_null(a);
		assert_non_null(strstr(a, "nft_check\n"));
		assert_null(strstr(strstr(a, "nft_check\n"), "nft_apply"));
	}
	expect_log("nftables events lost during uplinkd's transaction, checking table inet "
		   "uplinkd\n");
	run_for(d, 1100);
	ul_buf_reset(&f.calls);

	/* a fight: the table went 1 time above; 4 more repairs make 5 in 10 s, the next
	 * change waits 1 s, said once with the count */
	for (int i = 0; i < 4; i++) {
		nft_event(&f, 1, "table inet uplinkd removed");
		run_for(d, 60);
		expect_calls_quiet(&f, "nft_watch_read -> 1\n" "nft_apply\n");
	}
	expect_log("repair: table inet uplinkd removed (changed outside uplinkd)\n"
		   "repair: table inet uplinkd removed (changed outside uplinkd)\n"
		   "repair: table inet uplinkd removed (changed outside uplinkd)\n"
		   "repair: table inet uplinkd removed (changed outside uplinkd)\n");
	nft_event(&f, 1, "table inet uplinkd removed");
	run_for(d, 100);
	expect_calls_quiet(&f, "nft_watch_read -> 1\n");
	expect_log("repair: table inet uplinkd removed 6 times in 10 s (changed outside uplinkd); "
		   "backing off 1 s\n");
	nft_event(&f, 1, "table inet uplinkd removed");   /* during the wait: nothing */
	run_for(d, 100);
	expect_calls_quiet(&f, "nft_watch_read -> 1\n");
	run_for(d, 1000);                                 /* the wait is over: repaired */
	assert_non_null(strstr(f.calls.p, "nft_apply\n"));
	ul_buf_reset(&f.calls);
	expect_log("repair: table inet uplinkd removed (changed outside uplinkd)\n");

	/* a reload of the same file sends everything again: ruleset, sysctls, routing */
	assert_int_equal(ul_daemon_reload(d, NULL), 0);
	run_for(d, 50);
	assert_non_null(strstr(f.calls.p, "sysctl_ensure net/ipv4/ip_forward 1\n"));
	assert_non_null(strstr(f.calls.p, "sysctl_ensure net/ipv4/conf/wan1/rp_filter 2 (at least)\n"));
	assert_non_null(strstr(f.calls.p, "nft_apply\n" RECONCILE_ONE_LINK));
	ul_buf_reset(&f.calls);
	expect_log("");

	/* SIGTERM: everything taken away, nothing repaired */
	assert_int_equal(ul_daemon_signal(d, SIGTERM), 1);
	ul_daemon_stop(d);
	expect_calls_quiet(&f, "nft_remove\n" "remove_all tables 201 250 rules 1000-1099\n"
			   "sysctl_restore\n" "close\n");
	expect_log("");
	ul_buf_free(&f.calls);
	close(f.pipe[0]);
	close(f.pipe[1]);
	close(f.nft_pipe[0]);
	close(f.nft_pipe[1]);
	unlink(sock);
	unlink(path);
	rmdir(dir);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(start_carrier_loss_stop),
		cmocka_unit_test(dual_stack),
		cmocka_unit_test_teardown(foreign_changes_repaired, log_restore),
	};

	ul_log_init("test_daemon_port");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
