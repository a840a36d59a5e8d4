// SPDX-License-Identifier: GPL-2.0-or-later
/* Status rendering: the exact JSON of the contract, the table and the Prometheus text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "status.h"
#include "tk.h"

/* Two links: isp1 up and carrying traffic, isp2 down. */
static const struct ul_status SAMPLE = {
	.version = "1.0.0", .uptime_s = 12.3, .n_links = 2, .reloads = 3, .reload_failures = 1,
	.links = {
		{ .name = "isp1", .ifname = "wan1", .state = UL_ST_UP, .carrier = true,
		  .active = true, .tier = 1, .weight = 30, .rtt_ms = 1.4, .loss_pct = 0,
		  .since_s = 10.2, .transitions = 2,
		  .probes = { .rounds = 100, .sent = 200, .answered = 198, .timeouts = 2 },
		  .traffic = { .tx_bytes = 12345678901ULL, .rx_bytes = 2, .tx_packets = 3,
			       .rx_packets = 4, .connections = 5 } },
		{ .name = "isp2", .ifname = "ppp0", .state = UL_ST_DOWN, .carrier = false,
		  .active = false, .tier = 2, .weight = 1, .rtt_ms = -1, .loss_pct = 100,
		  .since_s = 3725.5, .transitions = 5,
		  .probes = { .rounds = 7, .sent = 14, .answered = 0, .timeouts = 12,
			      .errors = 2 } },
	},
};

/* One link of that name and interface, everything else zero. */
static void one_link(struct ul_status *s, const char *version, const char *name,
		     const char *ifname)
{
	memset(s, 0, sizeof(*s));
	s->version = version;
	s->n_links = 1;
	snprintf(s->links[0].name, sizeof(s->links[0].name), "%s", name);
	snprintf(s->links[0].ifname, sizeof(s->links[0].ifname), "%s", ifname);
}

/* s as fn renders it (the JSON, the table or the metrics), in one buffer the tests share,
 * emptied first; never cut short by a failed allocation. Valid until the next call. */
static struct ul_buf out;

static const char *render(void (*fn)(const struct ul_status *, struct ul_buf *),
			  const struct ul_status *s)
{
	ul_buf_reset(&out);
	fn(s, &out);
	assert_false(out.oom);
	return out.p;
}

static int free_out(void **state)
{
	ul_buf_free(&out);
	return 0;
}

static void test_json(void **state)
{
	assert_string_equal(render(ul_status_json, &SAMPLE),
		"{\"version\": \"1.0.0\", \"uptime_s\": 12.3, \"links\": ["
		"{\"name\": \"isp1\", \"interface\": \"wan1\", \"state\": \"up\", "
		"\"carrier\": true, \"active\": true, \"tier\": 1, \"weight\": 30, "
		"\"rtt_ms\": 1.4, \"loss_pct\": 0.0, \"since_s\": 10.2, \"transitions\": 2, "
		"\"tx_bytes\": 12345678901, \"rx_bytes\": 2, \"tx_packets\": 3, "
		"\"rx_packets\": 4, \"connections\": 5}, "
		"{\"name\": \"isp2\", \"interface\": \"ppp0\", \"state\": \"down\", "
		"\"carrier\": false, \"active\": false, \"tier\": 2, \"weight\": 1, "
		"\"rtt_ms\": null, \"loss_pct\": 100.0, \"since_s\": 3725.5, \"transitions\": 5, "
		"\"tx_bytes\": 0, \"rx_bytes\": 0, \"tx_packets\": 0, \"rx_packets\": 0, "
		"\"connections\": 0}"
		"]}\n");
}

static void test_json_numbers_and_escapes(void **state)
{
	struct ul_status s;

	one_link(&s, "1.0\"x", "a\"b\\c\n", "eth0");
	s.uptime_s = 5;
	s.links[0].state = UL_ST_DISABLED;
	s.links[0].rtt_ms = 1.23456;
	s.links[0].loss_pct = -0.0001;  /* rounds to zero: never "-0.0" */
	s.links[0].since_s = 0.0005;
	assert_string_equal(render(ul_status_json, &s),
		"{\"version\": \"1.0\\\"x\", \"uptime_s\": 5.0, \"links\": ["
		"{\"name\": \"a\\\"b\\\\c\\u000a\", \"interface\": \"eth0\", "
		"\"state\": \"disabled\", \"carrier\": false, \"active\": false, \"tier\": 0, "
		"\"weight\": 0, \"rtt_ms\": 1.235, \"loss_pct\": 0.0, \"since_s\": 0.001, "
		"\"transitions\": 0, \"tx_bytes\": 0, \"rx_bytes\": 0, \"tx_packets\": 0, "
		"\"rx_packets\": 0, \"connections\": 0}]}\n");

	/* no links; a NaN never reaches the output as "nan" */
	s.n_links = 0;
	s.version = "1.0.0";
	s.uptime_s = NAN;
	assert_string_equal(render(ul_status_json, &s),
			    "{\"version\": \"1.0.0\", \"uptime_s\": 0.0, \"links\": []}\n");
}

static void test_table(void **state)
{
	assert_string_equal(render(ul_status_table, &SAMPLE),
		"LINK  IFACE  STATE  SINCE  RTT    LOSS  WEIGHT  TIER  ACTIVE\n"
		"isp1  wan1   up     10s    1.4ms  0%    30      1     yes\n"
		"isp2  ppp0   down   1h02m  -      100%  1       2     no\n");
}

/* The SINCE, RTT and LOSS cells for one link. */
static void cells(double since, double rtt, double loss, const char *expect)
{
	struct ul_status s;
	char row[128];
	const char *nl;

	one_link(&s, NULL, "l", "e");
	s.links[0].since_s = since;
	s.links[0].rtt_ms = rtt;
	s.links[0].loss_pct = loss;
	nl = strchr(render(ul_status_table, &s), '\n');
	assert_non_null(nl);
	/* columns: LINK IFACE STATE SINCE RTT LOSS ...; collapse the padding */
	{
		char *tok, *save = NULL, line[128];
		size_t n = 0;

		snprintf(line, sizeof(line), "%s", nl + 1);
		row[0] = '\0';
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
			if (++n >= 4 && n <= 6)
				snprintf(row + strlen(row), sizeof(row) - strlen(row), "%s%s",
					 n > 4 ? " " : "", tok);
	}
	assert_string_equal(row, expect);
}

static void test_table_cells(void **state)
{
	(void)state;
	cells(0, 0, 0, "0s 0.0ms 0%");
	cells(-5, -1, 0, "0s - 0%");
	cells(59.9, 12.345, 10, "59s 12.3ms 10%");
	cells(60, 250, 33.333, "1m00s 250.0ms 33.3%");
	cells(184, 1.04, 50, "3m04s 1.0ms 50%");
	cells(3599, 1, 100, "59m59s 1.0ms 100%");
	cells(7500, 1, 5, "2h05m 1.0ms 5%");
	cells(86399, 1, 5, "23h59m 1.0ms 5%");
	cells(3 * 86400 + 4 * 3600 + 100, 1, 5, "3d04h 1.0ms 5%");
	cells(400 * 86400.0, NAN, NAN, "400d00h - 0%");
}

static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && p[n] == '\n')
			return true;
	return false;
}

/* Every sample belongs to the family whose HELP and TYPE lines came just before it, and
 * a family appears only once. */
static void check_exposition(const char *text)
{
	char fam[128] = "", seen[64][128];
	size_t n_seen = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[512], name[128];
		size_t len;

		assert_non_null(nl);
		len = (size_t)(nl - p);
		assert_true(len < sizeof(line));
		memcpy(line, p, len);
		line[len] = '\0';
		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line + 7, "%127s", fam), 1);
			for (size_t i = 0; i < n_seen; i++)
				assert_string_not_equal(seen[i], fam);
			assert_true(n_seen < 64);
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", fam);
		} else if (!strncmp(line, "# TYPE ", 7)) {
			char type[32];

			assert_int_equal(sscanf(line + 7, "%127s %31s", name, type), 2);
			assert_string_equal(name, fam);
			if (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, "_total"))
				assert_string_equal(type, "counter");
			else
				assert_string_equal(type, "gauge");
		} else {
			size_t k = strcspn(line, "{ ");

			assert_true(k > 0 && k < sizeof(name));
			memcpy(name, line, k);
			name[k] = '\0';
			assert_string_equal(name, fam);
			assert_non_null(strrchr(line, ' '));
		}
		p = nl + 1;
	}
}

/* Each of the lines is a whole line of text; the test fails naming the first that is not. */
static void has_lines(const char *text, const char *const *lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!has_line(text, lines[i]))
			fail_msg("no line '%s'", lines[i]);
}

static void test_metrics(void **state)
{
	static const char *const lines[] = {
		"# TYPE uplinkd_link_state gauge",
		"uplinkd_link_state{link=\"isp1\",state=\"init\"} 0",
		"uplinkd_link_state{link=\"isp1\",state=\"up\"} 1",
		"uplinkd_link_state{link=\"isp1\",state=\"down\"} 0",
		"uplinkd_link_state{link=\"isp2\",state=\"down\"} 1",
		"uplinkd_link_state{link=\"isp2\",state=\"disabled\"} 0",
		"uplinkd_link_up{link=\"isp1\"} 1",
		"uplinkd_link_up{link=\"isp2\"} 0",
		"uplinkd_link_active{link=\"isp1\"} 1",
		"uplinkd_link_active{link=\"isp2\"} 0",
		"uplinkd_link_carrier{link=\"isp2\"} 0",
		"uplinkd_link_rtt_seconds{link=\"isp1\"} 0.0014",
		"uplinkd_link_loss_ratio{link=\"isp1\"} 0",
		"uplinkd_link_loss_ratio{link=\"isp2\"} 1",
		"# TYPE uplinkd_link_bytes_total counter",
		"uplinkd_link_bytes_total{link=\"isp1\",direction=\"tx\"} 12345678901",
		"uplinkd_link_bytes_total{link=\"isp1\",direction=\"rx\"} 2",
		"uplinkd_link_packets_total{link=\"isp1\",direction=\"tx\"} 3",
		"uplinkd_link_packets_total{link=\"isp2\",direction=\"rx\"} 0",
		"uplinkd_link_connections_total{link=\"isp1\"} 5",
		"# TYPE uplinkd_link_transitions_total counter",
		"uplinkd_link_transitions_total{link=\"isp2\"} 5",
		"uplinkd_link_weight{link=\"isp1\"} 30",
		"uplinkd_probe_rounds_total{link=\"isp1\"} 100",
		"uplinkd_probes_sent_total{link=\"isp1\"} 200",
		"uplinkd_probes_answered_total{link=\"isp1\"} 198",
		"uplinkd_probe_timeouts_total{link=\"isp2\"} 12",
		"uplinkd_probe_errors_total{link=\"isp2\"} 2",
		"uplinkd_reloads_total 3",
		"uplinkd_reload_failures_total 1",
		"uplinkd_uptime_seconds 12.3",
		"uplinkd_build_info{version=\"1.0.0\"} 1",
	};
	struct ul_status s = SAMPLE;
	const char *text = render(ul_status_metrics, &s);

	check_exposition(text);
	has_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
	assert_null(strstr(text, "uplinkd_link_rtt_seconds{link=\"isp2\"}"));
	assert_true(out.p[out.len - 1] == '\n');

	/* no link knows its rtt: the family is left out altogether */
	s.links[0].rtt_ms = -1;
	text = render(ul_status_metrics, &s);
	check_exposition(text);
	assert_null(strstr(text, "uplinkd_link_rtt_seconds"));
}

static void test_metrics_escapes(void **state)
{
	static const char *const lines[] = {
		"uplinkd_link_up{link=\"a\\\"b\\\\c\\nd\"} 0",
		"uplinkd_link_rtt_seconds{link=\"a\\\"b\\\\c\\nd\"} 2",
		"uplinkd_build_info{version=\"1\\\\2\\\"3\\n\"} 1",
	};
	struct ul_status s;
	const char *text;

	one_link(&s, "1\\2\"3\n", "a\"b\\c\nd", "");
	s.links[0].rtt_ms = 2000;
	text = render(ul_status_metrics, &s);
	has_lines(text, lines, sizeof(lines) / sizeof(lines[0]));
	check_exposition(text);
}

/* A dual-stack link: the "ipv6" object, the second table row, family labels. */
static void test_ipv6(void **state)
{
	struct ul_status s = SAMPLE;
	struct ul_status_link *a = &s.links[0];
	const char *text;

	a->has_v6 = true;
	a->v6.state = UL_ST_DOWN;
	a->v6.active = false;
	a->v6.has_gw = true;
	assert_int_equal(ul_addr_parse("fe80::1", false, &a->v6.gw), 0);
	a->v6.rtt_ms = -1;
	a->v6.loss_pct = 100;
	a->v6.since_s = 4.5;
	a->v6.transitions = 3;
	a->v6.probes.sent = 9;
	text = render(ul_status_json, &s);
	assert_non_null(strstr(text, "\"transitions\": 2, \"tx_bytes\": 12345678901, \"rx_bytes\": 2, \"tx_packets\": 3, "
			      "\"rx_packets\": 4, \"connections\": 5, \"ipv6\": {\"state\": \"down\", "
			       "\"active\": false, \"gateway\": \"fe80::1\", \"rtt_ms\": null, "
			       "\"loss_pct\": 100.0, \"since_s\": 4.5, \"transitions\": 3}}, "
			       "{\"name\": \"isp2\""));
	assert_null(strstr(strstr(text, "isp2"), "ipv6"));   /* IPv4 only: no object */

	text = render(ul_status_table, &s);
	assert_non_null(strstr(text, "\nisp1    wan1     up     10s    1.4ms  0%    30      1     yes\n"
			       "  ipv6  fe80::1  down   4s     -      100%  30      1     no\n"
			       "isp2    ppp0"));

	text = render(ul_status_metrics, &s);
	assert_non_null(strstr(text, "uplinkd_link_up{link=\"isp1\",family=\"ipv4\"} 1\n"
			       "uplinkd_link_up{link=\"isp1\",family=\"ipv6\"} 0\n"
			       "uplinkd_link_up{link=\"isp2\",family=\"ipv4\"} 0\n"));
	assert_non_null(strstr(text, "uplinkd_link_state{link=\"isp1\",family=\"ipv6\","
			       "state=\"down\"} 1\n"));
	assert_non_null(strstr(text, "uplinkd_probes_sent_total{link=\"isp1\",family=\"ipv6\"} 9\n"));
	assert_non_null(strstr(text, "uplinkd_link_carrier{link=\"isp1\"} 1\n"));
	/* without IPv6 anywhere: the 1.0 labels */
	a->has_v6 = false;
	assert_null(strstr(render(ul_status_metrics, &s), "family="));
}

TK_MAIN(NULL, free_out, test_json, test_json_numbers_and_escapes, test_table, test_table_cells,
	test_metrics, test_metrics_escapes, test_ipv6)
