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

static void sample(struct ul_status *s)
{
	struct ul_status_link *a = &s->links[0], *b = &s->links[1];

	memset(s, 0, sizeof(*s));
	s->version = "1.0.0";
	s->uptime_s = 12.3;
	s->n_links = 2;
	s->reloads = 3;
	s->reload_failures = 1;

	snprintf(a->name, sizeof(a->name), "isp1");
	snprintf(a->ifname, sizeof(a->ifname), "wan1");
	a->state = UL_ST_UP;
	a->carrier = true;
	a->active = true;
	a->tier = 1;
	a->weight = 30;
	a->rtt_ms = 1.4;
	a->loss_pct = 0;
	a->since_s = 10.2;
	a->transitions = 2;
	a->probes = (struct ul_probe_stats){ .rounds = 100, .sent = 200, .answered = 198,
					     .timeouts = 2, .errors = 0 };

	snprintf(b->name, sizeof(b->name), "isp2");
	snprintf(b->ifname, sizeof(b->ifname), "ppp0");
	b->state = UL_ST_DOWN;
	b->carrier = false;
	b->active = false;
	b->tier = 2;
	b->weight = 1;
	b->rtt_ms = -1;
	b->loss_pct = 100;
	b->since_s = 3725.5;
	b->transitions = 5;
	b->probes = (struct ul_probe_stats){ .rounds = 7, .sent = 14, .answered = 0,
					     .timeouts = 12, .errors = 2 };
	s->links[0].traffic = (struct ul_link_traffic){ .tx_bytes = 12345678901ULL,
							.rx_bytes = 2, .tx_packets = 3,
							.rx_packets = 4, .connections = 5 };
}

static void test_json(void **state)
{
	struct ul_status s;
	struct ul_buf b = { 0 };

	(void)state;
	sample(&s);
	ul_status_json(&s, &b);
	assert_false(b.oom);
	assert_string_equal(b.p,
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
	ul_buf_free(&b);
}

static void test_json_numbers_and_escapes(void **state)
{
	struct ul_status s;
	struct ul_buf b = { 0 };

	(void)state;
	memset(&s, 0, sizeof(s));
	s.version = "1.0\"x";
	s.uptime_s = 5;
	s.n_links = 1;
	snprintf(s.links[0].name, sizeof(s.links[0].name), "a\"b\\c\n");
	snprintf(s.links[0].ifname, sizeof(s.links[0].ifname), "eth0");
	s.links[0].state = UL_ST_DISABLED;
	s.links[0].rtt_ms = 1.23456;
	s.links[0].loss_pct = -0.0001;  /* rounds to zero: never "-0.0" */
	s.links[0].since_s = 0.0005;
	ul_status_json(&s, &b);
	assert_string_equal(b.p,
		"{\"version\": \"1.0\\\"x\", \"uptime_s\": 5.0, \"links\": ["
		"{\"name\": \"a\\\"b\\\\c\\u000a\", \"interface\": \"eth0\", "
		"\"state\": \"disabled\", \"carrier\": false, \"active\": false, \"tier\": 0, "
		"\"weight\": 0, \"rtt_ms\": 1.235, \"loss_pct\": 0.0, \"since_s\": 0.001, "
		"\"transitions\": 0, \"tx_bytes\": 0, \"rx_bytes\": 0, \"tx_packets\": 0, "
		"\"rx_packets\": 0, \"connections\": 0}]}\n");

	/* no links; a NaN never reaches the output as "nan" */
	ul_buf_reset(&b);
	s.n_links = 0;
	s.version = "1.0.0";
	s.uptime_s = NAN;
	ul_status_json(&s, &b);
	assert_string_equal(b.p, "{\"version\": \"1.0.0\", \"uptime_s\": 0.0, \"links\": []}\n");
	ul_buf_free(&b);
}

static void test_table(void **state)
{
	struct ul_status s;
	struct ul_buf b = { 0 };

	(void)state;
	sample(&s);
	ul_status_table(&s, &b);
	assert_string_equal(b.p,
		"LINK  IFACE  STATE  SINCE  RTT    LOSS  WEIGHT  TIER  ACTIVE\n"
		"isp1  wan1   up     10s    1.4ms  0%    30      1     yes\n"
		"isp2  ppp0   down   1h02m  -      100%  1       2     no\n");
	ul_buf_free(&b);
}

/* The SINCE, RTT and LOSS cells for one link. */
static void cells(double since, double rtt, double loss, const char *expect)
{
	struct ul_status s;
	struct ul_buf b = { 0 };
	char row[128];
	const char *nl;

	memset(&s, 0, sizeof(s));
	s.n_links = 1;
	snprintf(s.links[0].name, sizeof(s.links[0].name), "l");
	snprintf(s.links[0].ifname, sizeof(s.links[0].ifname), "e");
	s.links[0].since_s = since;
	s.links[0].rtt_ms = rtt;
	s.links[0].loss_pct = loss;
	ul_status_table(&s, &b);
	nl = strchr(b.p, '\n');
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
	ul_buf_free(&b);
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

static void test_metrics(void **state)
{
	struct ul_status s;
	struct ul_buf b = { 0 };

	(void)state;
	sample(&s);
	ul_status_metrics(&s, &b);
	assert_false(b.oom);
	check_exposition(b.p);

	assert_true(has_line(b.p, "# TYPE uplinkd_link_state gauge"));
	assert_true(has_line(b.p, "uplinkd_link_state{link=\"isp1\",state=\"init\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_state{link=\"isp1\",state=\"up\"} 1"));
	assert_true(has_line(b.p, "uplinkd_link_state{link=\"isp1\",state=\"down\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_state{link=\"isp2\",state=\"down\"} 1"));
	assert_true(has_line(b.p, "uplinkd_link_state{link=\"isp2\",state=\"disabled\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_up{link=\"isp1\"} 1"));
	assert_true(has_line(b.p, "uplinkd_link_up{link=\"isp2\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_active{link=\"isp1\"} 1"));
	assert_true(has_line(b.p, "uplinkd_link_active{link=\"isp2\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_carrier{link=\"isp2\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_rtt_seconds{link=\"isp1\"} 0.0014"));
	assert_null(strstr(b.p, "uplinkd_link_rtt_seconds{link=\"isp2\"}"));
	assert_true(has_line(b.p, "uplinkd_link_loss_ratio{link=\"isp1\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_loss_ratio{link=\"isp2\"} 1"));
	assert_true(has_line(b.p, "# TYPE uplinkd_link_bytes_total counter"));
	assert_true(has_line(b.p, "uplinkd_link_bytes_total{link=\"isp1\",direction=\"tx\"} "
				  "12345678901"));
	assert_true(has_line(b.p, "uplinkd_link_bytes_total{link=\"isp1\",direction=\"rx\"} 2"));
	assert_true(has_line(b.p, "uplinkd_link_packets_total{link=\"isp1\",direction=\"tx\"} 3"));
	assert_true(has_line(b.p, "uplinkd_link_packets_total{link=\"isp2\",direction=\"rx\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_connections_total{link=\"isp1\"} 5"));
	assert_true(has_line(b.p, "# TYPE uplinkd_link_transitions_total counter"));
	assert_true(has_line(b.p, "uplinkd_link_transitions_total{link=\"isp2\"} 5"));
	assert_true(has_line(b.p, "uplinkd_link_weight{link=\"isp1\"} 30"));
	assert_true(has_line(b.p, "uplinkd_probe_rounds_total{link=\"isp1\"} 100"));
	assert_true(has_line(b.p, "uplinkd_probes_sent_total{link=\"isp1\"} 200"));
	assert_true(has_line(b.p, "uplinkd_probes_answered_total{link=\"isp1\"} 198"));
	assert_true(has_line(b.p, "uplinkd_probe_timeouts_total{link=\"isp2\"} 12"));
	assert_true(has_line(b.p, "uplinkd_probe_errors_total{link=\"isp2\"} 2"));
	assert_true(has_line(b.p, "uplinkd_reloads_total 3"));
	assert_true(has_line(b.p, "uplinkd_reload_failures_total 1"));
	assert_true(has_line(b.p, "uplinkd_uptime_seconds 12.3"));
	assert_true(has_line(b.p, "uplinkd_build_info{version=\"1.0.0\"} 1"));
	assert_true(b.p[b.len - 1] == '\n');

	/* no link knows its rtt: the family is left out altogether */
	ul_buf_reset(&b);
	s.links[0].rtt_ms = -1;
	ul_status_metrics(&s, &b);
	check_exposition(b.p);
	assert_null(strstr(b.p, "uplinkd_link_rtt_seconds"));
	ul_buf_free(&b);
}

static void test_metrics_escapes(void **state)
{
	struct ul_status s;
	struct ul_buf b = { 0 };

	(void)state;
	memset(&s, 0, sizeof(s));
	s.version = "1\\2\"3\n";
	s.n_links = 1;
	snprintf(s.links[0].name, sizeof(s.links[0].name), "a\"b\\c\nd");
	s.links[0].rtt_ms = 2000;
	ul_status_metrics(&s, &b);
	assert_true(has_line(b.p, "uplinkd_link_up{link=\"a\\\"b\\\\c\\nd\"} 0"));
	assert_true(has_line(b.p, "uplinkd_link_rtt_seconds{link=\"a\\\"b\\\\c\\nd\"} 2"));
	assert_true(has_line(b.p, "uplinkd_build_info{version=\"1\\\\2\\\"3\\n\"} 1"));
	check_exposition(b.p);
	ul_buf_free(&b);
}

/* A dual-stack link: the "ipv6" object, the second table row, family labels. */
static void test_ipv6(void **state)
{
	struct ul_status s;
	struct ul_buf b = { 0 };
	struct ul_status_link *a = &s.links[0];

	(void)state;
	sample(&s);
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
	ul_status_json(&s, &b);
	ul_buf_put(&b, "", 1);
	assert_non_null(strstr(b.p, "\"transitions\": 2, \"tx_bytes\": 12345678901, \"rx_bytes\": 2, \"tx_packets\": 3, "
			      "\"rx_packets\": 4, \"connections\": 5, \"ipv6\": {\"state\": \"down\", "
			       "\"active\": false, \"gateway\": \"fe80::1\", \"rtt_ms\": null, "
			       "\"loss_pct\": 100.0, \"since_s\": 4.5, \"transitions\": 3}}, "
			       "{\"name\": \"isp2\""));
	assert_null(strstr(strstr(b.p, "isp2"), "ipv6"));   /* IPv4 only: no object */
	ul_buf_free(&b);

	ul_status_table(&s, &b);
	ul_buf_put(&b, "", 1);
	assert_non_null(strstr(b.p, "\nisp1    wan1     up     10s    1.4ms  0%    30      1     yes\n"
			       "  ipv6  fe80::1  down   4s     -      100%  30      1     no\n"
			       "isp2    ppp0"));
	ul_buf_free(&b);

	ul_status_metrics(&s, &b);
	ul_buf_put(&b, "", 1);
	assert_non_null(strstr(b.p, "uplinkd_link_up{link=\"isp1\",family=\"ipv4\"} 1\n"
			       "uplinkd_link_up{link=\"isp1\",family=\"ipv6\"} 0\n"
			       "uplinkd_link_up{link=\"isp2\",family=\"ipv4\"} 0\n"));
	assert_non_null(strstr(b.p, "uplinkd_link_state{link=\"isp1\",family=\"ipv6\","
			       "state=\"down\"} 1\n"));
	assert_non_null(strstr(b.p, "uplinkd_probes_sent_total{link=\"isp1\",family=\"ipv6\"} 9\n"));
	assert_non_null(strstr(b.p, "uplinkd_link_carrier{link=\"isp1\"} 1\n"));
	ul_buf_free(&b);
	/* without IPv6 anywhere: the 1.0 labels */
	a->has_v6 = false;
	ul_status_metrics(&s, &b);
	ul_buf_put(&b, "", 1);
	assert_null(strstr(b.p, "family="));
	ul_buf_free(&b);
}

TK_MAIN(NULL, NULL, test_json, test_json_numbers_and_escapes, test_table, test_table_cells,
	test_metrics, test_metrics_escapes, test_ipv6)
