// SPDX-License-Identifier: GPL-2.0-or-later
/* Rendering of a status snapshot: JSON (the contract's schema), a table for humans and
 * the Prometheus text exposition format 0.0.4. Pure functions. */
#include <inttypes.h>
#include <math.h>              /* isfinite, isnan, isinf: macros, no libm */
#include <stdio.h>
#include <string.h>

#include "status.h"

/* A number with one to three decimals: 12.3, 0.0, 1.234 (never "-0.0", never exponents). */
static void put_num(struct ul_buf *b, double v)
{
	char tmp[400];
	size_t n;

	if (!isfinite(v))
		v = 0;
	snprintf(tmp, sizeof(tmp), "%.3f", v);
	n = strlen(tmp);
	while (n > 0 && tmp[n - 1] == '0' && tmp[n - 2] != '.')
		n--;
	tmp[n] = '\0';
	if (!strcmp(tmp, "-0.0"))
		ul_buf_put(b, "0.0", 3);
	else
		ul_buf_put(b, tmp, n);
}

static const char *jbool(bool v)
{
	return v ? "true" : "false";
}

void ul_status_json(const struct ul_status *s, struct ul_buf *b)
{
	ul_buf_printf(b, "{\"version\": ");
	ul_buf_json_str(b, s->version ? s->version : "");
	ul_buf_printf(b, ", \"uptime_s\": ");
	put_num(b, s->uptime_s);
	ul_buf_printf(b, ", \"links\": [");
	for (size_t i = 0; i < s->n_links && i < UL_MAX_LINKS; i++) {
		const struct ul_status_link *l = &s->links[i];

		ul_buf_printf(b, "%s{\"name\": ", i ? ", " : "");
		ul_buf_json_str(b, l->name);
		ul_buf_printf(b, ", \"interface\": ");
		ul_buf_json_str(b, l->ifname);
		ul_buf_printf(b, ", \"state\": ");
		ul_buf_json_str(b, ul_state_name(l->state));
		ul_buf_printf(b, ", \"carrier\": %s, \"active\": %s, \"tier\": %" PRIu32
			      ", \"weight\": %" PRIu32 ", \"rtt_ms\": ",
			      jbool(l->carrier), jbool(l->active), l->tier, l->weight);
		if (l->rtt_ms < 0 || !isfinite(l->rtt_ms))
			ul_buf_printf(b, "null");
		else
			put_num(b, l->rtt_ms);
		ul_buf_printf(b, ", \"loss_pct\": ");
		put_num(b, l->loss_pct);
		ul_buf_printf(b, ", \"since_s\": ");
		put_num(b, l->since_s);
		ul_buf_printf(b, ", \"transitions\": %" PRIu32, l->transitions);
		ul_buf_printf(b, ", \"tx_bytes\": %" PRIu64 ", \"rx_bytes\": %" PRIu64
			      ", \"tx_packets\": %" PRIu64 ", \"rx_packets\": %" PRIu64
			      ", \"connections\": %" PRIu64, l->traffic.tx_bytes,
			      l->traffic.rx_bytes, l->traffic.tx_packets, l->traffic.rx_packets,
			      l->traffic.connections);
		if (l->has_v6) {
			const struct ul_status_family *f = &l->v6;
			char gw[UL_ADDR_STRLEN];

			ul_buf_printf(b, ", \"ipv6\": {\"state\": ");
			ul_buf_json_str(b, ul_state_name(f->state));
			ul_buf_printf(b, ", \"active\": %s, \"gateway\": ", jbool(f->active));
			if (f->has_gw)
				ul_buf_json_str(b, ul_addr_format(&f->gw, gw, sizeof(gw)));
			else
				ul_buf_printf(b, "null");
			ul_buf_printf(b, ", \"rtt_ms\": ");
			if (f->rtt_ms < 0 || !isfinite(f->rtt_ms))
				ul_buf_printf(b, "null");
			else
				put_num(b, f->rtt_ms);
			ul_buf_printf(b, ", \"loss_pct\": ");
			put_num(b, f->loss_pct);
			ul_buf_printf(b, ", \"since_s\": ");
			put_num(b, f->since_s);
			ul_buf_printf(b, ", \"transitions\": %" PRIu32 "}", f->transitions);
		}
		ul_buf_printf(b, "}");
	}
	ul_buf_printf(b, "]}\n");
}

/* ---- table ---- */

enum { C_LINK, C_IFACE, C_STATE, C_SINCE, C_RTT, C_LOSS, C_WEIGHT, C_TIER, C_ACTIVE, N_COLS };

static const char *const col_names[N_COLS] = {
	"LINK", "IFACE", "STATE", "SINCE", "RTT", "LOSS", "WEIGHT", "TIER", "ACTIVE",
};

/* 12s, 3m04s, 2h05m, 3d04h */
static void fmt_since(char *out, size_t len, double s)
{
	uint64_t t = (isfinite(s) && s > 0) ? (s >= 1e15 ? (uint64_t)1e15 : (uint64_t)s) : 0;

	if (t < 60)
		snprintf(out, len, "%" PRIu64 "s", t);
	else if (t < 3600)
		snprintf(out, len, "%" PRIu64 "m%02" PRIu64 "s", t / 60, t % 60);
	else if (t < 86400)
		snprintf(out, len, "%" PRIu64 "h%02" PRIu64 "m", t / 3600, t % 3600 / 60);
	else
		snprintf(out, len, "%" PRIu64 "d%02" PRIu64 "h", t / 86400, t % 86400 / 3600);
}

static void fmt_loss(char *out, size_t len, double pct)
{
	double whole;

	if (!isfinite(pct) || pct < 0)
		pct = 0;
	if (pct > 100)
		pct = 100;
	whole = (double)(int)(pct + 0.5);     /* 0..100: no libm needed */
	if (pct - whole < 0.05 && whole - pct < 0.05)
		snprintf(out, len, "%.0f%%", pct);
	else
		snprintf(out, len, "%.1f%%", pct);
}

static void fmt_rtt(char *out, size_t len, double ms)
{
	if (ms < 0 || !isfinite(ms))
		snprintf(out, len, "-");
	else if (ms >= 1e9)
		snprintf(out, len, ">1e9ms");
	else
		snprintf(out, len, "%.1fms", ms);
}

void ul_status_table(const struct ul_status *s, struct ul_buf *b)
{
	size_t n = s->n_links < UL_MAX_LINKS ? s->n_links : UL_MAX_LINKS, rows = 0;
	char cells[2 * UL_MAX_LINKS][N_COLS][UL_ADDR_STRLEN];
	size_t width[N_COLS];

	for (int c = 0; c < N_COLS; c++)
		width[c] = strlen(col_names[c]);
	for (size_t i = 0; i < n; i++) {
		const struct ul_status_link *l = &s->links[i];
		char (*row)[UL_ADDR_STRLEN] = cells[rows++];

		snprintf(row[C_LINK], 32, "%s", l->name);
		snprintf(row[C_IFACE], 32, "%s", l->ifname);
		snprintf(row[C_STATE], 32, "%s", ul_state_name(l->state));
		fmt_since(row[C_SINCE], 32, l->since_s);
		fmt_rtt(row[C_RTT], 32, l->rtt_ms);
		fmt_loss(row[C_LOSS], 32, l->loss_pct);
		snprintf(row[C_WEIGHT], 32, "%" PRIu32, l->weight);
		snprintf(row[C_TIER], 32, "%" PRIu32, l->tier);
		snprintf(row[C_ACTIVE], 32, "%s", l->active ? "yes" : "no");
		if (l->has_v6) {
			const struct ul_status_family *f = &l->v6;

			row = cells[rows++];
			snprintf(row[C_LINK], 32, "  ipv6");
			if (f->has_gw)
				ul_addr_format(&f->gw, row[C_IFACE], UL_ADDR_STRLEN);
			else
				snprintf(row[C_IFACE], 32, "-");
			snprintf(row[C_STATE], 32, "%s", ul_state_name(f->state));
			fmt_since(row[C_SINCE], 32, f->since_s);
			fmt_rtt(row[C_RTT], 32, f->rtt_ms);
			fmt_loss(row[C_LOSS], 32, f->loss_pct);
			snprintf(row[C_WEIGHT], 32, "%" PRIu32, l->weight);
			snprintf(row[C_TIER], 32, "%" PRIu32, l->tier);
			snprintf(row[C_ACTIVE], 32, "%s", f->active ? "yes" : "no");
		}
	}
	for (size_t i = 0; i < rows; i++)
		for (int c = 0; c < N_COLS; c++)
			if (strlen(cells[i][c]) > width[c])
				width[c] = strlen(cells[i][c]);
	for (size_t i = 0; i <= rows; i++) {
		for (int c = 0; c < N_COLS; c++) {
			const char *cell = i ? cells[i - 1][c] : col_names[c];

			if (c == N_COLS - 1)
				ul_buf_printf(b, "%s\n", cell);
			else
				ul_buf_printf(b, "%-*s  ", (int)width[c], cell);
		}
	}
}

/* ---- Prometheus ---- */

/* A label value: backslash, double quote and newline escaped. */
static void put_label(struct ul_buf *b, const char *v)
{
	ul_buf_put(b, "\"", 1);
	for (; *v; v++) {
		if (*v == '\\')
			ul_buf_put(b, "\\\\", 2);
		else if (*v == '"')
			ul_buf_put(b, "\\\"", 2);
		else if (*v == '\n')
			ul_buf_put(b, "\\n", 2);
		else
			ul_buf_put(b, v, 1);
	}
	ul_buf_put(b, "\"", 1);
}

static void family(struct ul_buf *b, const char *name, const char *type, const char *help)
{
	ul_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void series_link(struct ul_buf *b, const char *name, const struct ul_status_link *l)
{
	ul_buf_printf(b, "%s{link=", name);
	put_label(b, l->name);
	ul_buf_put(b, "}", 1);
}

static void put_float(struct ul_buf *b, double v)
{
	if (isnan(v))
		ul_buf_printf(b, " NaN\n");
	else if (isinf(v))
		ul_buf_printf(b, v > 0 ? " +Inf\n" : " -Inf\n");
	else
		ul_buf_printf(b, " %.9g\n", v);
}

enum probe_counter { P_ROUNDS, P_SENT, P_ANSWERED, P_TIMEOUTS, P_ERRORS, N_PROBE };

static uint64_t probe_counter(const struct ul_probe_stats *p, int which)
{
	switch (which) {
	case P_ROUNDS: return p->rounds;
	case P_SENT: return p->sent;
	case P_ANSWERED: return p->answered;
	case P_TIMEOUTS: return p->timeouts;
	default: return p->errors;
	}
}

static const char *const probe_names[N_PROBE][2] = {
	{ "uplinkd_probe_rounds_total", "Probe rounds completed." },
	{ "uplinkd_probes_sent_total", "Probes sent." },
	{ "uplinkd_probes_answered_total", "Probes answered." },
	{ "uplinkd_probe_timeouts_total", "Probes that timed out." },
	{ "uplinkd_probe_errors_total", "Probes that could not be sent or failed." },
};

/* One (link, family) of the per-family metric families. */
struct mrow {
	const char *link, *fam;         /* fam NULL: no family label (no link has IPv6) */
	enum ul_state state;
	bool active;
	double rtt_ms, loss_pct;
	uint32_t transitions;
	const struct ul_probe_stats *probes;
};

static void series_row(struct ul_buf *b, const char *name, const struct mrow *r)
{
	ul_buf_printf(b, "%s{link=", name);
	put_label(b, r->link);
	if (r->fam)
		ul_buf_printf(b, ",family=\"%s\"", r->fam);
	ul_buf_put(b, "}", 1);
}

void ul_status_metrics(const struct ul_status *s, struct ul_buf *b)
{
	size_t n = s->n_links < UL_MAX_LINKS ? s->n_links : UL_MAX_LINKS, nr = 0;
	struct mrow rows[2 * UL_MAX_LINKS];
	bool any_rtt = false, any_v6 = false;

	for (size_t i = 0; i < n; i++)
		any_v6 |= s->links[i].has_v6;
	for (size_t i = 0; i < n; i++) {
		const struct ul_status_link *l = &s->links[i];

		rows[nr++] = (struct mrow){ l->name, any_v6 ? "ipv4" : NULL, l->state, l->active,
					    l->rtt_ms, l->loss_pct, l->transitions, &l->probes };
		if (l->has_v6)
			rows[nr++] = (struct mrow){ l->name, "ipv6", l->v6.state, l->v6.active,
						    l->v6.rtt_ms, l->v6.loss_pct,
						    l->v6.transitions, &l->v6.probes };
	}

	family(b, "uplinkd_link_state", "gauge", "Link state: 1 for the current state.");
	for (size_t i = 0; i < nr; i++)
		for (int st = UL_ST_INIT; st <= UL_ST_DISABLED; st++) {
			ul_buf_printf(b, "uplinkd_link_state{link=");
			put_label(b, rows[i].link);
			if (rows[i].fam)
				ul_buf_printf(b, ",family=\"%s\"", rows[i].fam);
			ul_buf_printf(b, ",state=\"%s\"} %d\n", ul_state_name((enum ul_state)st),
				      rows[i].state == (enum ul_state)st);
		}

	family(b, "uplinkd_link_up", "gauge", "1 when the link is up or degraded.");
	for (size_t i = 0; i < nr; i++) {
		series_row(b, "uplinkd_link_up", &rows[i]);
		ul_buf_printf(b, " %d\n", ul_state_usable(rows[i].state));
	}

	family(b, "uplinkd_link_active", "gauge", "1 when the link carries new connections.");
	for (size_t i = 0; i < nr; i++) {
		series_row(b, "uplinkd_link_active", &rows[i]);
		ul_buf_printf(b, " %d\n", rows[i].active);
	}

	family(b, "uplinkd_link_carrier", "gauge", "1 when the interface has carrier.");
	for (size_t i = 0; i < n; i++) {
		series_link(b, "uplinkd_link_carrier", &s->links[i]);
		ul_buf_printf(b, " %d\n", s->links[i].carrier);
	}

	for (size_t i = 0; i < nr; i++)
		any_rtt |= rows[i].rtt_ms >= 0;
	if (any_rtt) {
		family(b, "uplinkd_link_rtt_seconds", "gauge",
		       "Average probe round-trip time over the quality window.");
		for (size_t i = 0; i < nr; i++) {
			if (!(rows[i].rtt_ms >= 0))
				continue;
			series_row(b, "uplinkd_link_rtt_seconds", &rows[i]);
			put_float(b, rows[i].rtt_ms / 1000.0);
		}
	}

	family(b, "uplinkd_link_loss_ratio", "gauge",
	       "Share of probes lost over the quality window (0..1).");
	for (size_t i = 0; i < nr; i++) {
		series_row(b, "uplinkd_link_loss_ratio", &rows[i]);
		put_float(b, rows[i].loss_pct / 100.0);
	}

	family(b, "uplinkd_link_transitions_total", "counter", "Link state transitions.");
	for (size_t i = 0; i < nr; i++) {
		series_row(b, "uplinkd_link_transitions_total", &rows[i]);
		ul_buf_printf(b, " %" PRIu32 "\n", rows[i].transitions);
	}

	family(b, "uplinkd_link_weight", "gauge", "Configured weight of the link in its tier.");
	for (size_t i = 0; i < n; i++) {
		series_link(b, "uplinkd_link_weight", &s->links[i]);
		ul_buf_printf(b, " %" PRIu32 "\n", s->links[i].weight);
	}

	family(b, "uplinkd_link_bytes_total", "counter",
	       "Bytes by the link's interface, counted in the datapath (tx: leaving, rx: arriving).");
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < 2; d++) {
			ul_buf_printf(b, "uplinkd_link_bytes_total{link=");
			put_label(b, s->links[i].name);
			ul_buf_printf(b, ",direction=\"%s\"} %" PRIu64 "\n", d ? "rx" : "tx",
				      d ? s->links[i].traffic.rx_bytes : s->links[i].traffic.tx_bytes);
		}
	family(b, "uplinkd_link_packets_total", "counter",
	       "Packets by the link's interface, counted in the datapath (tx: leaving, rx: arriving).");
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < 2; d++) {
			ul_buf_printf(b, "uplinkd_link_packets_total{link=");
			put_label(b, s->links[i].name);
			ul_buf_printf(b, ",direction=\"%s\"} %" PRIu64 "\n", d ? "rx" : "tx",
				      d ? s->links[i].traffic.rx_packets :
					  s->links[i].traffic.tx_packets);
		}
	family(b, "uplinkd_link_connections_total", "counter",
	       "New connections by the link (leaving or arriving by its interface).");
	for (size_t i = 0; i < n; i++) {
		series_link(b, "uplinkd_link_connections_total", &s->links[i]);
		ul_buf_printf(b, " %" PRIu64 "\n", s->links[i].traffic.connections);
	}

	for (int p = 0; p < N_PROBE; p++) {
		family(b, probe_names[p][0], "counter", probe_names[p][1]);
		for (size_t i = 0; i < nr; i++) {
			series_row(b, probe_names[p][0], &rows[i]);
			ul_buf_printf(b, " %" PRIu64 "\n", probe_counter(rows[i].probes, p));
		}
	}

	family(b, "uplinkd_reloads_total", "counter",
	       "Configuration reloads (SIGHUP or uplinkctl reload).");
	ul_buf_printf(b, "uplinkd_reloads_total %" PRIu64 "\n", s->reloads);
	family(b, "uplinkd_reload_failures_total", "counter",
	       "Reloads refused because the new configuration was bad.");
	ul_buf_printf(b, "uplinkd_reload_failures_total %" PRIu64 "\n", s->reload_failures);
	family(b, "uplinkd_uptime_seconds", "gauge", "Seconds since the daemon started.");
	ul_buf_printf(b, "uplinkd_uptime_seconds");
	put_float(b, s->uptime_s);
	family(b, "uplinkd_build_info", "gauge", "Build information.");
	ul_buf_printf(b, "uplinkd_build_info{version=");
	put_label(b, s->version ? s->version : "");
	ul_buf_printf(b, "} 1\n");
}
