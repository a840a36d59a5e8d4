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
};

struct ul_status {
	const char *version;
	double uptime_s;
	struct ul_status_link links[UL_MAX_LINKS];
	size_t n_links;
	uint64_t reloads, reload_failures;
};

/* Exactly the contract's schema; rtt_ms null when unknown. */
void ul_status_json(const struct ul_status *s, struct ul_buf *b);
/* Readable table: LINK IFACE STATE SINCE RTT LOSS WEIGHT TIER ACTIVE. */
void ul_status_table(const struct ul_status *s, struct ul_buf *b);
/* Prometheus text exposition format 0.0.4. */
void ul_status_metrics(const struct ul_status *s, struct ul_buf *b);

#endif
