/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration: parsed with libconfig into a validated, immutable struct. */
#ifndef UL_CONFIG_H
#define UL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "addr.h"
#include "types.h"


#define UL_MAX_TARGETS 16
#define UL_NAME_MAX 16          /* link names: [a-z0-9_-]{1,15} */
#define UL_RULE_NAME_MAX 33     /* rule / port-forward names: [A-Za-z0-9_-]{1,32} */
#define UL_MAX_LAN_IFS 16
#define UL_DEFAULT_CONFIG "/etc/uplinkd/uplinkd.conf"
#define UL_DEFAULT_SOCKET "/run/uplinkd/control.sock"

enum ul_check_method { UL_CHECK_ICMP, UL_CHECK_DNS, UL_CHECK_TCP, UL_CHECK_HTTP };
enum ul_gw_mode { UL_GW_NONE, UL_GW_STATIC, UL_GW_AUTO };   /* NONE: point-to-point, dev route */
enum ul_fallback { UL_FALLBACK_BALANCE, UL_FALLBACK_DROP };
/* IPv6 translation of LAN sources leaving by a link. */
enum ul_nat6 { UL_NAT6_MASQUERADE, UL_NAT6_PREFIX, UL_NAT6_NONE };
enum ul_proto { UL_PROTO_ANY = 0, UL_PROTO_ICMP = 1, UL_PROTO_TCP = 6, UL_PROTO_UDP = 17 };

struct ul_check {
	enum ul_check_method method;
	struct ul_addr targets[UL_MAX_TARGETS];
	size_t n_targets;
	uint16_t port;                  /* tcp/http default 80, dns 53 */
	char dns_name[256];             /* dns: default "example.com" */
	char http_path[256];            /* http: default "/" */
	uint32_t interval_ms;           /* default 1000, 50..3600000 */
	uint32_t timeout_ms;            /* default 1000, 10..60000 */
	uint32_t quorum;                /* default 1; counted per family, at most the targets
					 * of each family listed */
	uint32_t down_after;            /* default 3, 1..100 */
	uint32_t up_after;              /* default 3, 1..100 */
	uint32_t max_rtt_ms;            /* 0 = off */
	uint32_t max_loss_pct;          /* 0 = off, 1..100 */
};

/* Collected errors, each "FILE:LINE: message". */
struct ul_diag {
	char **msgs;
	size_t n;
};

struct ul_link_conf {
	char name[UL_NAME_MAX];
	char ifname[IFNAMSIZ];
	enum ul_gw_mode gw_mode;
	struct ul_addr gateway;         /* UL_GW_STATIC only */
	uint32_t weight;                /* 1..256, default 1 */
	uint32_t tier;                  /* >= 1, default 1 */
	uint32_t table;                 /* default 200 + position (1-based), or remembered */
	uint32_t id;                    /* identity, 1..255: mark = id << shift of mark_mask;
					 * default position, or remembered (identity.h) */
	bool id_set, table_set;         /* given in the config: they win */
	bool masquerade;                /* default true; false when snat is set */
	struct ul_addr snat;            /* family 0: none; else translate to this address */
	/* IPv6. gw6_mode AUTO: the router advertising itself on the interface; STATIC:
	 * gateway6 (link-local allowed); NONE: the link carries no IPv6. Without gateway6
	 * the mode is AUTO with gw6_explicit false: IPv6 only when the interface has a
	 * global IPv6 address. */
	enum ul_gw_mode gw6_mode;
	bool gw6_explicit;
	struct ul_addr gateway6;
	enum ul_nat6 nat6;              /* default masquerade */
	bool has_prefix6;
	struct ul_addr prefix6;         /* routed prefix: required for nat6 prefix and none */
	struct ul_check check;
	int line;
};

struct ul_port_range { uint16_t lo, hi; };

/* Named sets (table inet uplinkd, under their own name): a prefix file, or filled at run time
 * by other programs (dnsmasq nftset) with elements that time out. */
#define UL_SET_NAME_MAX 33      /* [A-Za-z_][A-Za-z0-9_]{0,31} */
#define UL_MAX_SETS 64
struct ul_set_conf {
	char name[UL_SET_NAME_MAX];
	uint8_t family;                 /* AF_INET ("ipv4") or AF_INET6 ("ipv6") */
	bool dynamic;                   /* timeout_s given: no file, filled at run time */
	uint32_t timeout_s;             /* dynamic: element timeout, 1..2592000 */
	char *file;                     /* file sets: the path (relative: to the config's dir) */
	struct ul_addr *elems;          /* file sets: the prefixes, in file order */
	size_t n_elems;
	int line;
};

struct ul_rule_conf {
	char name[UL_RULE_NAME_MAX];
	struct ul_addr *src; size_t n_src;
	struct ul_addr *dst; size_t n_dst;
	uint8_t proto;                  /* enum ul_proto; ANY when absent */
	struct ul_port_range *sport; size_t n_sport;
	struct ul_port_range *dport; size_t n_dport;
	uint8_t *src_sets; size_t n_src_sets;   /* indices into ul_config.sets (src_set) */
	uint8_t *dst_sets; size_t n_dst_sets;   /* (dst_set); an address matches when it is in
						 * src/dst or in any of these sets */
	uint8_t via[UL_MAX_LINKS];      /* link indices, in order of preference */
	size_t n_via;                   /* 0: exclusion (main table, not balanced) */
	enum ul_fallback fallback;
	int line;
};

struct ul_pf_conf {
	char name[UL_RULE_NAME_MAX];
	uint8_t proto;                  /* UL_PROTO_TCP or UL_PROTO_UDP */
	uint16_t port;                  /* outside port */
	struct ul_addr to;              /* inside host */
	uint16_t to_port;               /* default: port */
	uint32_t links;                 /* bit i = link i; default all */
	int line;
};

/* Where a setting was given, for checks made after parsing (host checks): "FILE:LINE: key",
 * the prefix of a message about it; line orders messages like the parser's. */
struct ul_conf_where {
	char at[4200];
	int line;                       /* 0: not given */
};

struct ul_daemon_conf {
	int log_level;                  /* syslog priority, default LOG_INFO */
	char control_socket[108];
	char control_group[64];         /* "" = root; existence checked on the host */
	char admin_group[64];           /* "" = changes by root only; checked on the host */
	char hook[4096];                /* "" = none; trust checked on the host */
	char hook_user[64];             /* "" = the hook runs as the daemon's user; checked
					 * on the host */
	struct ul_conf_where control_group_at, hook_at, admin_group_at, hook_user_at;
	uint32_t hook_timeout_s;        /* default 10 */
	uint32_t rule_priority;         /* default 1000; uses [p, p + 99] */
	uint32_t mark_mask;             /* default 0xff00; contiguous, >= 4 bits */
	uint32_t balance_table;         /* default 250 */
	bool metrics_on;                /* metrics_listen given: GET /metrics over HTTP */
	struct ul_addr metrics_addr;
	uint16_t metrics_port;
};

struct ul_lan_conf {
	char ifnames[UL_MAX_LAN_IFS][IFNAMSIZ];
	size_t n_ifnames;
	struct ul_addr *networks; size_t n_networks;
};

struct ul_sticky_conf {
	bool enabled;                   /* by = "source" */
	uint32_t timeout_s;             /* default 600 */
};

struct ul_config {
	char *path;
	struct ul_daemon_conf daemon;
	struct ul_lan_conf lan;
	struct ul_link_conf links[UL_MAX_LINKS];
	size_t n_links;
	struct ul_rule_conf *rules; size_t n_rules;
	struct ul_pf_conf *pfs; size_t n_pfs;
	struct ul_sticky_conf sticky;
	struct ul_set_conf *sets; size_t n_sets;
};


void ul_diag_add(struct ul_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ul_diag_free(struct ul_diag *d);

/* Load and validate. On success *out is a new config and 0 is returned.
 * On failure every error found is in diag and -EINVAL (or -errno) is returned. */
int ul_config_load(const char *path, struct ul_config **out, struct ul_diag *diag);
/* Same from a string; name is used in messages (and to resolve @include). */
int ul_config_parse_string(const char *text, const char *name, struct ul_config **out,
			   struct ul_diag *diag);
/* The same, reading the files the config names (named sets' `file`) through io: read_file
 * returns 0 with a malloc'd *text of *len bytes, or -errno. io NULL: the file system. */
struct ul_config_io {
	int (*read_file)(void *ctx, const char *path, char **text, size_t *len);
	void *ctx;
};
int ul_config_parse_string_io(const char *text, const char *name, const struct ul_config_io *io,
			      struct ul_config **out, struct ul_diag *diag);
/* The default reader of ul_config_io (whole file, at most 256 MiB). */
int ul_config_read_file(void *ctx, const char *path, char **text, size_t *len);
void ul_config_free(struct ul_config *c);
/* Named set by name, or -1. */
int ul_config_set_index(const struct ul_config *c, const char *name);
/* Targets of this family in a check. */
size_t ul_check_family_targets(const struct ul_check *k, int family);
const char *ul_nat6_name(enum ul_nat6 n);
/* A value as messages quote it: "...", escaped, cut after about len bytes. Returns buf. */
#define UL_CONFIG_QLEN 320
const char *ul_config_quote(const char *s, char *buf, size_t len);
/* Link index by name, or -1. */
int ul_config_link_index(const struct ul_config *c, const char *name);
/* A check method's name (config, logs, dumps; names.c) and back: -1 for none. */
const char *ul_check_method_name(enum ul_check_method m);
int ul_check_method_parse(const char *s);

#endif
