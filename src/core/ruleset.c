// SPDX-License-Identifier: GPL-2.0-or-later
/* The wanted nftables ruleset as plain data: builders, look-ups and nft-syntax printing. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ruleset.h"

static void copy_name(char *dst, const char *src)
{
	snprintf(dst, UL_NFT_NAME_MAX, "%s", src ? src : "");
}

/* Grow *arr (of elements of size sz) so that one more fits; 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / sz)
		return -ENOMEM;
	p = realloc(*arr, ncap * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

struct ul_set *ul_ruleset_add_set(struct ul_ruleset *rs, const char *name, enum ul_set_key key,
				  bool interval)
{
	struct ul_set *s;

	if (grow((void **)&rs->sets, &rs->cap_sets, rs->n_sets, sizeof(*rs->sets)))
		return NULL;
	s = &rs->sets[rs->n_sets++];
	memset(s, 0, sizeof(*s));
	copy_name(s->name, name);
	s->key = key;
	s->interval = interval;
	return s;
}

/* The elements array has no capacity field: its capacity is implied by n_elems
 * (8, then powers of two). */
static bool elems_full(size_t n)
{
	return n == 0 || (n >= 8 && !(n & (n - 1)));
}

/* One element fits its set: of the key's type and family, a host (or a single port)
 * unless the set is an interval set. The one check, for adding and for installing. */
static bool elem_ok(const struct ul_set *s, const union ul_set_elem *e)
{
	switch (s->key) {
	case UL_KEY_IFNAME:
		return e->ifname[0] && memchr(e->ifname, '\0', IFNAMSIZ);
	case UL_KEY_IPV4:
	case UL_KEY_IPV6:
		return e->prefix.family == (s->key == UL_KEY_IPV4 ? AF_INET : AF_INET6) &&
		       e->prefix.plen <= ul_set_key_len(s->key) * 8 &&
		       (s->interval || e->prefix.plen == ul_set_key_len(s->key) * 8);
	case UL_KEY_PORT:
		return e->port.lo <= e->port.hi && (s->interval || e->port.lo == e->port.hi);
	}
	return false;
}

int ul_set_add_elem(struct ul_set *s, const union ul_set_elem *e)
{
	union ul_set_elem *p;
	size_t ncap;

	if (!elem_ok(s, e))
		return -EINVAL;
	if (elems_full(s->n_elems)) {
		ncap = s->n_elems ? s->n_elems * 2 : 8;
		if (ncap > SIZE_MAX / sizeof(*p))
			return -ENOMEM;
		p = realloc(s->elems, ncap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->elems = p;
	}
	s->elems[s->n_elems++] = *e;
	return 0;
}

struct ul_chain *ul_ruleset_add_chain(struct ul_ruleset *rs, const char *name,
				      enum ul_chain_kind kind, enum ul_hook hook, int prio)
{
	struct ul_chain *c;

	if (grow((void **)&rs->chains, &rs->cap_chains, rs->n_chains, sizeof(*rs->chains)))
		return NULL;
	c = &rs->chains[rs->n_chains++];
	memset(c, 0, sizeof(*c));
	copy_name(c->name, name);
	c->kind = kind;
	c->hook = hook;
	c->prio = prio;
	return c;
}

struct ul_nrule *ul_chain_add_rule(struct ul_chain *c)
{
	struct ul_nrule *r;

	if (grow((void **)&c->rules, &c->cap_rules, c->n_rules, sizeof(*c->rules)))
		return NULL;
	r = &c->rules[c->n_rules++];
	memset(r, 0, sizeof(*r));
	return r;
}

struct ul_stmt *ul_rule_add(struct ul_nrule *r, enum ul_stmt_kind kind)
{
	struct ul_stmt *s;

	if (r->n >= UL_STMT_MAX)
		return NULL;
	s = &r->s[r->n++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	return s;
}

const struct ul_set *ul_ruleset_find_set(const struct ul_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_sets; i++)
		if (!strcmp(rs->sets[i].name, name))
			return &rs->sets[i];
	return NULL;
}

const struct ul_chain *ul_ruleset_find_chain(const struct ul_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_chains; i++)
		if (!strcmp(rs->chains[i].name, name))
			return &rs->chains[i];
	return NULL;
}

void ul_ruleset_free(struct ul_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n_sets; i++)
		free(rs->sets[i].elems);
	for (size_t i = 0; i < rs->n_chains; i++)
		free(rs->chains[i].rules);
	free(rs->sets);
	free(rs->chains);
	free(rs->counters);
	memset(rs, 0, sizeof(*rs));
}

int ul_ruleset_add_counter(struct ul_ruleset *rs, const char *name)
{
	if (rs->n_counters == rs->cap_counters) {
		size_t nc = rs->cap_counters ? rs->cap_counters * 2 : 16;
		struct ul_counter *v = realloc(rs->counters, nc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rs->counters = v;
		rs->cap_counters = nc;
	}
	snprintf(rs->counters[rs->n_counters++].name, UL_NFT_NAME_MAX, "%s", name);
	return 0;
}

bool ul_ruleset_has_counter(const struct ul_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->n_counters; i++)
		if (!strcmp(rs->counters[i].name, name))
			return true;
	return false;
}

/* Sets as ranges */

size_t ul_set_key_len(enum ul_set_key k)
{
	switch (k) {
	case UL_KEY_IFNAME:
		return IFNAMSIZ;
	case UL_KEY_IPV4:
		return 4;
	case UL_KEY_IPV6:
		return 16;
	case UL_KEY_PORT:
		return 2;
	}
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct ul_set_range *x = a, *y = b;
	int r = memcmp(x->lo, y->lo, 16);

	return r ? r : memcmp(x->hi, y->hi, 16);
}

bool ul_set_key_is_max(const uint8_t *k, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (k[i] != 0xff)
			return false;
	return true;
}

static int elem_range(const struct ul_set *s, const union ul_set_elem *e, struct ul_set_range *r)
{
	unsigned bits = (unsigned)ul_set_key_len(s->key) * 8;

	memset(r, 0, sizeof(*r));
	if (!elem_ok(s, e))
		return -EINVAL;
	switch (s->key) {
	case UL_KEY_IFNAME:
		memcpy(r->lo, e->ifname, strlen(e->ifname));
		memcpy(r->hi, r->lo, 16);
		break;
	case UL_KEY_IPV4:
	case UL_KEY_IPV6:
		memcpy(r->lo, e->prefix.bytes, bits / 8);
		memcpy(r->hi, r->lo, 16);
		/* clear any host bits, then the last address of the prefix: byte by byte */
		for (unsigned byte = e->prefix.plen / 8; byte < bits / 8; byte++) {
			unsigned keep = byte == e->prefix.plen / 8 ? e->prefix.plen % 8 : 0;
			uint8_t host = (uint8_t)(0xff >> keep);

			r->lo[byte] &= (uint8_t)~host;
			r->hi[byte] = (uint8_t)(r->lo[byte] | host);
		}
		break;
	case UL_KEY_PORT:
		r->lo[0] = (uint8_t)(e->port.lo >> 8);
		r->lo[1] = (uint8_t)e->port.lo;
		r->hi[0] = (uint8_t)(e->port.hi >> 8);
		r->hi[1] = (uint8_t)e->port.hi;
		break;
	}
	return 0;
}

int ul_set_ranges(const struct ul_set *s, struct ul_set_range **out, size_t *n_out)
{
	size_t len = ul_set_key_len(s->key), n = 0;
	struct ul_set_range *r;
	int ret;

	*out = NULL;
	*n_out = 0;
	if (!len)
		return -EINVAL;
	if (!s->n_elems)
		return 0;
	r = calloc(s->n_elems, sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_elems; i++) {
		ret = elem_range(s, &s->elems[i], &r[i]);
		if (ret) {
			free(r);
			return ret;
		}
	}
	/* a prefix file is mostly sorted already: a 100,000-line one is then not sorted again
	 * at each apply */
	for (size_t i = 1; i < s->n_elems; i++)
		if (range_cmp(&r[i - 1], &r[i]) > 0) {
			qsort(r, s->n_elems, sizeof(*r), range_cmp);
			break;
		}
	for (size_t i = 0; i < s->n_elems; i++) {
		struct ul_set_range *cur = n ? &r[n - 1] : NULL;
		uint8_t next[16];

		if (cur && !s->interval && !memcmp(cur->lo, r[i].lo, 16))
			continue;
		if (cur && s->interval) {
			if (ul_set_key_is_max(cur->hi, len))
				continue;       /* cur runs to the end: it holds the rest */
			memcpy(next, cur->hi, 16);
			for (size_t k = len; k-- > 0;)
				if (++next[k])
					break;
			if (memcmp(r[i].lo, next, 16) <= 0) {   /* overlapping or adjacent */
				if (memcmp(r[i].hi, cur->hi, 16) > 0)
					memcpy(cur->hi, r[i].hi, 16);
				continue;
			}
		}
		r[n++] = r[i];
	}
	*out = r;
	*n_out = n;
	return 0;
}

/* Printing */

static const char *key_name(enum ul_set_key k)
{
	switch (k) {
	case UL_KEY_IFNAME:
		return "ifname";
	case UL_KEY_IPV4:
		return "ipv4_addr";
	case UL_KEY_IPV6:
		return "ipv6_addr";
	case UL_KEY_PORT:
		return "inet_service";
	}
	return "?";
}

const char *ul_chain_kind_name(enum ul_chain_kind k)
{
	switch (k) {
	case UL_CHAIN_FILTER:
		return "filter";
	case UL_CHAIN_NAT:
		return "nat";
	case UL_CHAIN_ROUTE:
		return "route";
	}
	return NULL;
}

static const char *hook_name(enum ul_hook h)
{
	switch (h) {
	case UL_HOOK_PREROUTING:
		return "prerouting";
	case UL_HOOK_OUTPUT:
		return "output";
	case UL_HOOK_POSTROUTING:
		return "postrouting";
	case UL_HOOK_NONE:
		break;
	}
	return "?";
}

static const char *ip_word(uint8_t family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

/* A string in double quotes; nft strings cannot hold a double quote or a backslash. */
static void print_quoted(FILE *f, const char *s, size_t max)
{
	fputc('"', f);
	for (size_t i = 0; i < max && s[i]; i++)
		fputc(s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20 ? '\'' : s[i], f);
	fputc('"', f);
}

/* The prefix length of [lo, hi] when it is one prefix, else -1. */
static int range_plen(const struct ul_set_range *r, unsigned bits)
{
	unsigned plen = 0;

	while (plen < bits && !((r->lo[plen / 8] ^ r->hi[plen / 8]) & (0x80 >> (plen % 8))))
		plen++;
	for (unsigned bit = plen; bit < bits; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if ((r->lo[bit / 8] & m) || !(r->hi[bit / 8] & m))
			return -1;
	}
	return (int)plen;
}

static void print_range(FILE *f, const struct ul_set *s, const struct ul_set_range *r)
{
	char a[UL_ADDR_STRLEN], b[UL_ADDR_STRLEN];
	int family = s->key == UL_KEY_IPV6 ? AF_INET6 : AF_INET;
	unsigned bits = (unsigned)ul_set_key_len(s->key) * 8;
	struct ul_addr x;
	unsigned lo, hi;
	int plen;

	switch (s->key) {
	case UL_KEY_IFNAME:
		print_quoted(f, (const char *)r->lo, IFNAMSIZ);
		break;
	case UL_KEY_IPV4:
	case UL_KEY_IPV6:
		plen = range_plen(r, bits);
		ul_addr_from_raw(&x, family, r->lo);
		if (plen >= 0) {
			x.plen = (uint8_t)plen;
			fputs(ul_addr_format(&x, a, sizeof(a)), f);
		} else {
			ul_addr_format(&x, a, sizeof(a));
			ul_addr_from_raw(&x, family, r->hi);
			fprintf(f, "%s-%s", a, ul_addr_format(&x, b, sizeof(b)));
		}
		break;
	case UL_KEY_PORT:
		lo = (unsigned)r->lo[0] << 8 | r->lo[1];
		hi = (unsigned)r->hi[0] << 8 | r->hi[1];
		if (lo == hi)
			fprintf(f, "%u", lo);
		else
			fprintf(f, "%u-%u", lo, hi);
		break;
	}
}

/* Elements as installed: sorted, without duplicates, intervals merged. */
static void print_set(FILE *f, const struct ul_set *s)
{
	struct ul_set_range *r = NULL;
	const char *sep = "";
	size_t n = 0;

	fprintf(f, "\tset %s { type %s;", s->name, key_name(s->key));
	if (s->interval || s->dynamic) {
		fputs(" flags ", f);
		if (s->interval) {
			fputs("interval", f);
			sep = ",";
		}
		if (s->dynamic)
			fprintf(f, "%sdynamic,timeout", sep);
		else if (ul_set_gc_spaced(s))
			fprintf(f, "%stimeout; gc-interval %uh", sep, UL_SET_GC_INTERVAL_MS / 3600000);
		fputc(';', f);
	}
	if (s->dynamic)
		fprintf(f, " timeout %" PRIu32 "%s;",
			s->timeout_ms % 1000 ? s->timeout_ms : s->timeout_ms / 1000,
			s->timeout_ms % 1000 ? "ms" : "s");
	if (ul_set_ranges(s, &r, &n))
		fputs(" # invalid elements", f);
	if (n) {
		fputs(" elements = { ", f);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputs(", ", f);
			print_range(f, s, &r[i]);
		}
		fputs(" }", f);
	}
	free(r);
	fputs(" }\n", f);
}

static const char *l4_name(uint8_t p)
{
	switch (p) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "ipv6-icmp";
	case 132:
		return "sctp";
	}
	return NULL;
}

uint8_t ul_stmt_family(const struct ul_ruleset *rs, const struct ul_stmt *s)
{
	const struct ul_set *set;

	if (s->family)
		return s->family;
	if (s->kind == UL_S_DNAT || s->kind == UL_S_SNAT || s->kind == UL_S_SNAT_PREFIX)
		return s->addr.family;
	set = ul_ruleset_find_set(rs, s->str);
	return set && set->key == UL_KEY_IPV6 ? AF_INET6 : AF_INET;
}

static void print_stmt(FILE *f, const struct ul_ruleset *rs, const struct ul_stmt *s)
{
	char a[UL_ADDR_STRLEN];
	const char *w;

	switch (s->kind) {
	case UL_M_IIFNAME:
	case UL_M_OIFNAME:
		fputs(s->kind == UL_M_IIFNAME ? "iifname " : "oifname ", f);
		print_quoted(f, s->str, sizeof(s->str));
		break;
	case UL_M_IIFNAME_SET:
		fprintf(f, "iifname @%s", s->str);
		break;
	case UL_M_OIFNAME_SET:
		fprintf(f, "oifname @%s", s->str);
		break;
	case UL_M_CT_NEW:
		fputs("ct state new", f);
		break;
	case UL_M_CTMARK:
	case UL_M_MARK:
		fprintf(f, "%s mark & 0x%08" PRIx32 " %s 0x%08" PRIx32,
			s->kind == UL_M_CTMARK ? "ct" : "meta", s->mask, s->neg ? "!=" : "==",
			s->value);
		break;
	case UL_M_NFPROTO:
		fprintf(f, "meta nfproto %s", s->family == AF_INET6 ? "ipv6" : "ipv4");
		break;
	case UL_M_L4PROTO:
		w = l4_name(s->proto);
		if (w)
			fprintf(f, "meta l4proto %s", w);
		else
			fprintf(f, "meta l4proto %u", s->proto);
		break;
	case UL_M_SADDR_SET:
	case UL_M_SADDR_IN_DYN:
		fprintf(f, "%s saddr @%s", ip_word(ul_stmt_family(rs, s)), s->str);
		break;
	case UL_M_DADDR_SET:
		fprintf(f, "%s daddr @%s", ip_word(ul_stmt_family(rs, s)), s->str);
		break;
	case UL_M_SPORT_SET:
		fprintf(f, "th sport @%s", s->str);
		break;
	case UL_M_DPORT_SET:
		fprintf(f, "th dport @%s", s->str);
		break;
	case UL_M_DPORT:
		fprintf(f, "th dport %u", s->port);
		break;
	case UL_S_COUNTER:
		fputs("counter", f);
		break;
	case UL_S_COUNTER_REF:
		fprintf(f, "counter name \"%s\"", s->str);
		break;
	case UL_S_MARK:
	case UL_S_CTMARK:
		w = s->kind == UL_S_MARK ? "meta" : "ct";
		fprintf(f, "%s mark set %s mark & 0x%08" PRIx32 " | 0x%08" PRIx32, w, w, ~s->mask,
			s->value);
		break;
	case UL_S_SET_UPDATE:
		fprintf(f, "update @%s { %s saddr }", s->str, ip_word(ul_stmt_family(rs, s)));
		break;
	case UL_S_MASQUERADE:
		fputs("masquerade", f);
		break;
	case UL_S_DNAT:
		ul_addr_format(&s->addr, a, sizeof(a));
		if (ul_stmt_family(rs, s) == AF_INET6 && s->port)
			fprintf(f, "dnat ip6 to [%s]:%u", a, s->port);
		else if (s->port)
			fprintf(f, "dnat ip to %s:%u", a, s->port);
		else
			fprintf(f, "dnat %s to %s", ip_word(ul_stmt_family(rs, s)), a);
		break;
	case UL_S_SNAT:
		ul_addr_format(&s->addr, a, sizeof(a));
		fprintf(f, "snat %s to %s", ip_word(ul_stmt_family(rs, s)), a);
		break;
	case UL_S_SNAT_PREFIX:
		fprintf(f, "snat %s prefix to %s", ip_word(ul_stmt_family(rs, s)),
			ul_addr_format(&s->addr, a, sizeof(a)));
		break;
	case UL_V_ACCEPT:
		fputs("accept", f);
		break;
	case UL_V_DROP:
		fputs("drop", f);
		break;
	case UL_V_RETURN:
		fputs("return", f);
		break;
	case UL_V_JUMP:
		fprintf(f, "jump %s", s->str);
		break;
	case UL_V_GOTO:
		fprintf(f, "goto %s", s->str);
		break;
	default:
		fprintf(f, "?%d", (int)s->kind);
		break;
	}
}

static void print_chain(FILE *f, const struct ul_ruleset *rs, const struct ul_chain *c)
{
	fprintf(f, "\tchain %s {\n", c->name);
	if (c->hook != UL_HOOK_NONE)
		fprintf(f, "\t\ttype %s hook %s priority %d; policy accept;\n", ul_chain_kind_name(c->kind) ?: "?",
			hook_name(c->hook), c->prio);
	for (size_t i = 0; i < c->n_rules; i++) {
		const struct ul_nrule *r = &c->rules[i];

		fputs("\t\t", f);
		for (size_t j = 0; j < r->n && j < UL_STMT_MAX; j++) {
			if (j)
				fputc(' ', f);
			print_stmt(f, rs, &r->s[j]);
		}
		if (r->comment[0]) {
			fputs(r->n ? " comment " : "comment ", f);
			print_quoted(f, r->comment, sizeof(r->comment));
		}
		fputc('\n', f);
	}
	fputs("\t}\n", f);
}

void ul_ruleset_print(FILE *f, const struct ul_ruleset *rs)
{
	fprintf(f, "table inet %s {\n", UL_NFT_TABLE);
	for (size_t i = 0; i < rs->n_counters; i++)
		fprintf(f, "\tcounter %s {\n\t}\n", rs->counters[i].name);
	for (size_t i = 0; i < rs->n_sets; i++)
		print_set(f, &rs->sets[i]);
	for (size_t i = 0; i < rs->n_chains; i++)
		print_chain(f, rs, &rs->chains[i]);
	fputs("}\n", f);
}
