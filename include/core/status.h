/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What `uplinkctl status` and `metrics` show, rendered from a snapshot (pure). */
#ifndef UL_STATUS_H
#define UL_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "linkstate.h"
#include "types.h"

struct ul_status_link {
	char name[UL_NAME_MAX];
	char ifname[IFNAMSIZ];
	enum ul_state state;
	bool carrier, active;
	uint32_t tier, weight;
	double rtt_ms;                  /* < 0: unknown (no answer in the window) */
	double loss_pct;
	double since_s;
	uint32_t transitions;
	struct ul_probe_stats probes;
	/* traffic counted in the datapath (table inet uplinkd's ul_* counters): bytes and packets
	 * leaving (tx) and arriving (rx) by the link's interface, new connections either way */
	struct ul_link_traffic {
		uint64_t tx_bytes, rx_bytes, tx_packets, rx_packets, connections;
	} traffic;
	/* the link carries IPv6: its own health (the fields above are IPv4's) */
	bool has_v6;
	struct ul_status_family {
		enum ul_state state;
		bool active;
		bool has_gw;
		struct ul_addr gw;
		double rtt_ms, loss_pct, since_s;
		uint32_t transitions;
		struct ul_probe_stats probes;
	} v6;
};

struct ul_status {
	const char *version;
	double uptime_s;
	struct ul_status_link links[UL_MAX_LINKS];
	size_t n_links;
	uint64_t reloads, reload_failures;
};

/* Exactly the contract's schema; rtt_ms null when unknown; an "ipv6" object in each link
 * that carries IPv6 (2.0), gateway null when none is known. */
void ul_status_json(const struct ul_status *s, struct ul_buf *b);
/* Readable table: LINK IFACE STATE SINCE RTT LOSS WEIGHT TIER ACTIVE; a link that carries
 * IPv6 has a second row, "  ipv6" in the LINK column and its gateway as IFACE. */
void ul_status_table(const struct ul_status *s, struct ul_buf *b);
/* Prometheus text exposition format 0.0.4. The per-link families carry family="ipv4"
 * (or "ipv6") when any link carries IPv6; without IPv6 the labels are as in 1.0. */
void ul_status_metrics(const struct ul_status *s, struct ul_buf *b);

#endif
