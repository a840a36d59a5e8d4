// SPDX-License-Identifier: GPL-2.0-or-later
/* The planner: config + link states -> routes, ip rules and the nftables ruleset.
 * Pure: no I/O, no clock. Same input, same output.
 *
 * Rules, from P = daemon.rule_priority:
 *   P+0      lookup main suppress_prefixlength 0     connected and specific routes first
 *   P+1+i    from <address of link i> lookup T(i)    router traffic from a link's addresses
 *                                                   (one rule per address: the node's own and
 *                                                   the shared one of a gateway pair)
 *   P+10+i   fwmark M(i)/mask lookup T(i)            connections of link i (while it carries)
 *   P+20     fwmark EXCLUDE/mask lookup main         rules without via
 *   P+99     lookup balance_table                    weighted multipath default
 *   P+30+i   from <prefix6 of link i> lookup T(i)    IPv6 only, nat6 "none", while usable
 * T(i) holds the default route of link i whenever the link has an address (and gateway);
 * the balance table the active links of the best tier.
 *
 * IPv6 uses the same priorities, marks and table numbers (ip -6 rule / ip -6 route); each
 * family picks its active links from its own state (rt.state6 for IPv6), so a link can
 * carry IPv4 while its IPv6 is down. With no link able to carry IPv6 the plan is the
 * IPv4-only one, unchanged.
 *
 * nftables (table inet uplinkd): see plan_ruleset. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "identity.h"
#include "plan.h"

#define PRIO_MAIN 0
#define PRIO_FROM 1
#define PRIO_MARK 10
#define PRIO_EXCLUDE 20
#define PRIO_PREFIX6 30
#define PRIO_BALANCE 99
#define STICKY_PREFIX "sticky_"
#define STICKY6_PREFIX "sticky6_"

_Static_assert(1 + UL_MAX_LINKS * UL_LINK_MAX_ADDRS + UL_MAX_LINKS + 2 <= UL_PLAN_MAX_RULES,
	       "UL_PLAN_MAX_RULES too small for the from, mark, exclude and balance rules");

void ul_link_rt_set_addrs(struct ul_link_rt *rt, const struct ul_link_conf *lc,
			  const struct ul_addr *addrs, size_t n)
{
	size_t own = 0;

	rt->n_addrs = 0;
	for (size_t i = 0; i < n && rt->n_addrs < UL_LINK_MAX_ADDRS; i++) {
		bool dup = false;

		if (addrs[i].family != AF_INET)
			continue;
		ul_addr_from_raw(&rt->addrs[rt->n_addrs], AF_INET, addrs[i].bytes);
		for (size_t j = 0; j < rt->n_addrs; j++)
			dup |= ul_addr_eq(&rt->addrs[j], &rt->addrs[rt->n_addrs]);
		if (!dup)
			rt->n_addrs++;
	}
	for (size_t i = rt->n_addrs; i < UL_LINK_MAX_ADDRS; i++)
		memset(&rt->addrs[i], 0, sizeof(rt->addrs[i]));
	rt->has_addr = rt->n_addrs > 0;
	if (!rt->has_addr) {
		memset(&rt->addr, 0, sizeof(rt->addr));
		return;
	}
	if (lc->snat.family)
		while (own < rt->n_addrs && ul_addr_eq(&rt->addrs[own], &lc->snat))
			own++;
	rt->addr = rt->addrs[own < rt->n_addrs ? own : 0];
}

static unsigned mask_shift(uint32_t mask)
{
	return mask ? (unsigned)__builtin_ctz(mask) : 0;
}

/* The link's identity, not its position: a reorder leaves every mark as it was. */
uint32_t ul_link_mark(const struct ul_config *c, size_t i)
{
	return c->links[i].id << mask_shift(c->daemon.mark_mask);
}

uint32_t ul_plan_carrying(const struct ul_plan *p)
{
	return p->carrying;
}

uint32_t ul_exclude_mark(const struct ul_config *c)
{
	return UL_ID_EXCLUDE << mask_shift(c->daemon.mark_mask);
}

/* Connections that must not leave at all (rule with fallback "drop", none of via up). */
static uint32_t drop_mark(const struct ul_config *c)
{
	return UL_ID_DROP << mask_shift(c->daemon.mark_mask);
}

/* A route to the link's table can be installed (the kernel refuses nexthops on a device
 * that is down). */
static bool routable(const struct ul_config *c, const struct ul_link_rt *rt, size_t i)
{
	return rt[i].present && rt[i].carrier && rt[i].has_addr &&
	       (c->links[i].gw_mode == UL_GW_NONE || rt[i].has_gw);
}

bool ul_plan_link_v6(const struct ul_config *c, const struct ul_link_rt *rt, size_t i)
{
	const struct ul_link_conf *l = &c->links[i];

	return l->gw6_mode != UL_GW_NONE && (l->gw6_explicit || rt[i].has_addr6);
}

static bool routable6(const struct ul_config *c, const struct ul_link_rt *rt, size_t i)
{
	return ul_plan_link_v6(c, rt, i) && rt[i].present && rt[i].carrier && rt[i].has_addr6 &&
	       rt[i].has_gw6;
}

/* One family's view of the links, for the choices the families make alike. */
struct fam {
	int family;
	enum ul_state st[UL_MAX_LINKS];
	bool ok[UL_MAX_LINKS];          /* routable in this family */
	uint32_t active, usable, carrying;
	bool last_resort;
};

static void fam_view(const struct ul_config *c, const struct ul_link_rt *rt, int family,
		     struct fam *f)
{
	memset(f, 0, sizeof(*f));
	f->family = family;
	for (size_t i = 0; i < c->n_links; i++) {
		f->st[i] = family == AF_INET6 ? rt[i].state6 : rt[i].state;
		f->ok[i] = family == AF_INET6 ? routable6(c, rt, i) : routable(c, rt, i);
	}
}

/* Choose which links carry new balanced connections: links that are up, else degraded,
 * in the lowest tier that has any; with none usable at all (start-up, or every check
 * failing), every link with carrier of the lowest tier: better to try than to blackhole. */
static void choose_active(const struct ul_config *c, const struct ul_link_rt *rt,
			  struct fam *p)
{
	static const enum ul_state order[] = { UL_ST_UP, UL_ST_DEGRADED };
	uint32_t best_tier = UINT32_MAX;

	/* Every working link keeps routing its established connections by its own table,
	 * also when it takes no new ones (a backup tier, init after "enable", disabled for
	 * maintenance: it drains). Only a link that is down loses them. */
	p->usable = p->carrying = 0;
	for (size_t i = 0; i < c->n_links; i++) {
		if (ul_state_usable(p->st[i]) && p->ok[i])
			p->usable |= 1u << i;
		if (p->st[i] != UL_ST_DOWN && p->ok[i])
			p->carrying |= 1u << i;
	}

	for (size_t o = 0; o < 2 && best_tier == UINT32_MAX; o++)
		for (size_t i = 0; i < c->n_links; i++)
			if (p->st[i] == order[o] && p->ok[i] && c->links[i].tier < best_tier)
				best_tier = c->links[i].tier;
	if (best_tier != UINT32_MAX) {
		for (size_t o = 0; o < 2 && !p->active; o++)
			for (size_t i = 0; i < c->n_links; i++)
				if (p->st[i] == order[o] && p->ok[i] &&
				    c->links[i].tier == best_tier)
					p->active |= 1u << i;
		p->carrying |= p->active;
		return;
	}
	p->last_resort = true;
	for (size_t i = 0; i < c->n_links; i++)
		if (p->st[i] != UL_ST_DISABLED && rt[i].carrier && p->ok[i] &&
		    c->links[i].tier < best_tier)
			best_tier = c->links[i].tier;
	for (size_t i = 0; i < c->n_links; i++)
		if (p->st[i] != UL_ST_DISABLED && rt[i].carrier && p->ok[i] &&
		    c->links[i].tier == best_tier)
			p->active |= 1u << i;
	p->carrying |= p->active;
}

/* The link a rule's via list selects now in family f, or -1. */
static int via_choice(const struct ul_rule_conf *r, const struct fam *f)
{
	for (size_t i = 0; i < r->n_via; i++)
		if (f->st[r->via[i]] == UL_ST_UP && (f->usable & (1u << r->via[i])))
			return r->via[i];
	for (size_t i = 0; i < r->n_via; i++)
		if (f->usable & (1u << r->via[i]))
			return r->via[i];
	if (f->last_resort)
		for (size_t i = 0; i < r->n_via; i++)
			if (f->active & (1u << r->via[i]))
				return r->via[i];
	return -1;
}

static void fill_nexthop(const struct ul_config *c, const struct ul_link_rt *rt, size_t i,
			 int family, struct ul_nexthop *nh, uint16_t weight)
{
	memset(nh, 0, sizeof(*nh));
	if (family == AF_INET6) {
		nh->has_gw = true;
		nh->gw = rt[i].gw6;
	} else {
		nh->has_gw = c->links[i].gw_mode != UL_GW_NONE;
		if (nh->has_gw)
			nh->gw = rt[i].gw;
	}
	nh->ifindex = rt[i].ifindex;
	snprintf(nh->ifname, sizeof(nh->ifname), "%s", c->links[i].ifname);
	nh->weight = weight;
}

static void default_dst(struct ul_addr *a, int family)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint8_t)family;
	a->plen = 0;
}

static void plan_routes(const struct ul_config *c, const struct ul_link_rt *rt,
			const struct fam *f, struct ul_plan *p)
{
	struct ul_route *bal;

	for (size_t i = 0; i < c->n_links; i++) {
		struct ul_route *r;

		if (!f->ok[i])
			continue;
		r = &p->routes[p->n_routes++];
		memset(r, 0, sizeof(*r));
		r->family = (uint8_t)f->family;
		r->table = c->links[i].table;
		default_dst(&r->dst, f->family);
		fill_nexthop(c, rt, i, f->family, &r->nh[0], 1);
		r->n_nh = 1;
	}
	if (!f->active)
		return;
	bal = &p->routes[p->n_routes++];
	memset(bal, 0, sizeof(*bal));
	bal->family = (uint8_t)f->family;
	bal->table = c->daemon.balance_table;
	default_dst(&bal->dst, f->family);
	for (size_t i = 0; i < c->n_links; i++)
		if (f->active & (1u << i))
			fill_nexthop(c, rt, i, f->family, &bal->nh[bal->n_nh++],
				     (uint16_t)c->links[i].weight);
	if (bal->n_nh == 1)
		bal->nh[0].weight = 1;
}

static struct ul_iprule *add_iprule(struct ul_plan *p, int family, uint32_t prio,
				    uint32_t table)
{
	struct ul_iprule *r = &p->rules[p->n_rules++];

	memset(r, 0, sizeof(*r));
	r->family = (uint8_t)family;
	r->prio = prio;
	r->table = table;
	r->suppress_prefixlen = UL_NO_SUPPRESS;
	return r;
}

static void plan_rules(const struct ul_config *c, const struct ul_link_rt *rt,
		       const struct fam *f, struct ul_plan *p)
{
	uint32_t base = c->daemon.rule_priority, mask = c->daemon.mark_mask;
	int fa = f->family;
	struct ul_iprule *r;

	r = add_iprule(p, fa, base + PRIO_MAIN, 254);
	r->suppress_prefixlen = 0;
	for (size_t i = 0; i < c->n_links; i++) {
		size_t n = rt[i].n_addrs ? rt[i].n_addrs : 1;

		if (!f->ok[i])
			continue;
		if (fa == AF_INET6)
			n = 1;          /* IPv6: the link's one global address */
		for (size_t k = 0; k < n && k < UL_LINK_MAX_ADDRS; k++) {
			r = add_iprule(p, fa, base + PRIO_FROM + (uint32_t)i, c->links[i].table);
			r->src = fa == AF_INET6 ? rt[i].addr6 :
				 rt[i].n_addrs ? rt[i].addrs[k] : rt[i].addr;
			r->src.plen = (uint8_t)(ul_addr_len(r->src.family) * 8);
		}
	}
	for (size_t i = 0; i < c->n_links; i++) {
		if (!(f->carrying & (1u << i)))
			continue;
		r = add_iprule(p, fa, base + PRIO_MARK + (uint32_t)i, c->links[i].table);
		r->fwmark = ul_link_mark(c, i);
		r->fwmask = mask;
	}
	for (size_t i = 0; i < c->n_rules; i++)
		if (!c->rules[i].n_via) {
			r = add_iprule(p, fa, base + PRIO_EXCLUDE, 254);
			r->fwmark = ul_exclude_mark(c);
			r->fwmask = mask;
			break;
		}
	/* routed prefixes (nat6 "none") leave by their own link while its IPv6 works */
	for (size_t i = 0; fa == AF_INET6 && i < c->n_links; i++) {
		const struct ul_link_conf *l = &c->links[i];

		if (l->nat6 != UL_NAT6_NONE || !l->has_prefix6 || !(f->usable & (1u << i)))
			continue;
		r = add_iprule(p, fa, base + PRIO_PREFIX6 + (uint32_t)i, l->table);
		r->src = l->prefix6;
	}
	add_iprule(p, fa, base + PRIO_BALANCE, c->daemon.balance_table);
}

/* ---- nftables ---- */

struct rb {             /* ruleset builder with sticky allocation failure */
	struct ul_ruleset *rs;
	int err;
};

static struct ul_stmt *st(struct rb *b, struct ul_nrule *r, enum ul_stmt_kind k)
{
	struct ul_stmt *s;

	if (!r) {
		b->err = -ENOMEM;
		return NULL;
	}
	s = ul_rule_add(r, k);
	if (!s)
		b->err = -E2BIG;
	return s;
}

/* Shorthands that tolerate a NULL rule/statement (the error is in b->err). */
static void m_str(struct rb *b, struct ul_nrule *r, enum ul_stmt_kind k, const char *str)
{
	struct ul_stmt *s = st(b, r, k);

	if (s)
		snprintf(s->str, sizeof(s->str), "%s", str);
}

static void m_mark(struct rb *b, struct ul_nrule *r, enum ul_stmt_kind k, uint32_t mask,
		   uint32_t value, bool neg)
{
	struct ul_stmt *s = st(b, r, k);

	if (s) {
		s->mask = mask;
		s->value = value;
		s->neg = neg;
	}
}

static void m_set(struct rb *b, struct ul_nrule *r, enum ul_stmt_kind k, int family,
		  const char *set)
{
	struct ul_stmt *s = st(b, r, k);

	if (s) {
		s->family = (uint8_t)family;
		snprintf(s->str, sizeof(s->str), "%s", set);
	}
}

static void m_plain(struct rb *b, struct ul_nrule *r, enum ul_stmt_kind k)
{
	st(b, r, k);
}

/* A translation (dnat, snat, snat prefix) to addr, and port when not 0. */
static void m_nat(struct rb *b, struct ul_nrule *r, enum ul_stmt_kind k, int family,
		  const struct ul_addr *addr, uint16_t port)
{
	struct ul_stmt *s = st(b, r, k);

	if (s) {
		s->family = (uint8_t)family;
		s->addr = *addr;
		s->port = port;
	}
}

/* Rule comment: "<what> <name>". */
static void comment(struct ul_nrule *r, const char *what, const char *name)
{
	if (r)
		snprintf(r->comment, sizeof(r->comment), "%s%s%s", what, name[0] ? " " : "", name);
}

static struct ul_nrule *rule(struct rb *b, struct ul_chain *c)
{
	struct ul_nrule *r = c ? ul_chain_add_rule(c) : NULL;

	if (!r)
		b->err = -ENOMEM;
	return r;
}

static void set_elem_prefixes(struct rb *b, struct ul_set *s, const struct ul_addr *a, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		union ul_set_elem e;

		memset(&e, 0, sizeof(e));
		e.prefix = a[i];
		if (ul_set_add_elem(s, &e))
			b->err = -ENOMEM;
	}
}

static void set_elem_ports(struct rb *b, struct ul_set *s, const struct ul_port_range *pr,
			   size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		union ul_set_elem e;

		memset(&e, 0, sizeof(e));
		e.port.lo = pr[i].lo;
		e.port.hi = pr[i].hi;
		if (ul_set_add_elem(s, &e))
			b->err = -ENOMEM;
	}
}

static struct ul_set *add_set(struct rb *b, const char *name, enum ul_set_key key, bool interval)
{
	struct ul_set *s = ul_ruleset_add_set(b->rs, name, key, interval);

	if (!s)
		b->err = -ENOMEM;
	return s;
}

/* Prefix sets of one family from a mixed list; returns whether any element was added. */
static bool family_set(struct rb *b, const char *name, const struct ul_addr *a, size_t n,
		       int family)
{
	struct ul_set *s = NULL;

	for (size_t i = 0; i < n; i++) {
		if (a[i].family != family)
			continue;
		if (!s)
			s = add_set(b, name, family == AF_INET ? UL_KEY_IPV4 : UL_KEY_IPV6, true);
		set_elem_prefixes(b, s, &a[i], 1);
	}
	return s != NULL;
}

static void mark_set(struct rb *b, struct ul_nrule *r, enum ul_stmt_kind k, uint32_t mask,
		     uint32_t value)
{
	m_mark(b, r, k, mask, value, false);
}

/* The named sets of the config (see ul_set_conf): file sets are interval sets holding the
 * file's prefixes, dynamic ones are filled by other programs and kept across applies. */
static void plan_named_sets(struct rb *b, const struct ul_config *c)
{
	for (size_t i = 0; i < c->n_sets; i++) {
		const struct ul_set_conf *sc = &c->sets[i];
		struct ul_set *s = add_set(b, sc->name, sc->family == AF_INET6 ? UL_KEY_IPV6 :
						  UL_KEY_IPV4, !sc->dynamic);

		if (!s)
			return;
		if (sc->dynamic) {
			s->dynamic = true;
			s->timeout_ms = sc->timeout_s * 1000u;
		} else {
			set_elem_prefixes(b, s, sc->elems, sc->n_elems);
		}
	}
}

/* The sets a rule's src (or dst) side matches in one family: its own prefix set, then its named
 * sets of that family. */
struct side {
	char sets[UL_MAX_SETS + 1][UL_NFT_NAME_MAX];
	size_t n;
	bool constrained;               /* the rule names addresses or sets on this side */
};

static void rule_side(const struct ul_config *c, bool own, const char *own_name,
		      const uint8_t *refs, size_t n_refs, bool any_own, int family, struct side *sd)
{
	sd->n = 0;
	sd->constrained = any_own || n_refs;
	if (own)
		snprintf(sd->sets[sd->n++], UL_NFT_NAME_MAX, "%s", own_name);
	for (size_t k = 0; k < n_refs; k++)
		if (c->sets[refs[k]].family == family)
			snprintf(sd->sets[sd->n++], UL_NFT_NAME_MAX, "%s", c->sets[refs[k]].name);
}

/* A rule's ports on one side (what: "sport", "dport"), when it lists any: its set
 * r_<rule>_<what> (made once, for the first family's rule) and the match k on it. */
static void port_match(struct rb *b, struct ul_nrule *r, const char *rname, const char *what,
		       enum ul_stmt_kind k, const struct ul_port_range *pr, size_t n)
{
	char name[UL_NFT_NAME_MAX];

	if (!n)
		return;
	snprintf(name, sizeof(name), "r_%s_%s", rname, what);
	if (!ul_ruleset_find_set(b->rs, name))
		set_elem_ports(b, add_set(b, name, UL_KEY_PORT, true), pr, n);
	m_set(b, r, k, 0, name);
}

/* One nft rule of config rule cr in family f, matching saddr @sset and daddr @dset (NULL:
 * any). split: the plan carries IPv6, so a rule without addresses is written once per family
 * (each family has its own choice of link). */
static void policy_rule(struct rb *b, const struct ul_config *c, const struct ul_rule_conf *cr,
			const struct fam *f, bool split, const char *sset, const char *dset,
			struct ul_chain *policy)
{
	uint32_t mask = c->daemon.mark_mask;
	struct ul_nrule *r;
	int k;

	r = rule(b, policy);
	comment(r, "rule", cr->name);
	if (sset || dset || split)
		m_set(b, r, UL_M_NFPROTO, f->family, "");
	if (sset)
		m_set(b, r, UL_M_SADDR_SET, f->family, sset);
	if (dset)
		m_set(b, r, UL_M_DADDR_SET, f->family, dset);
	if (cr->proto) {
		struct ul_stmt *s = st(b, r, UL_M_L4PROTO);

		if (s)
			s->proto = cr->proto == UL_PROTO_ICMP && f->family == AF_INET6 ?
				   58 : cr->proto;      /* "icmp" is ICMPv6 in IPv6 */
	}
	port_match(b, r, cr->name, "sport", UL_M_SPORT_SET, cr->sport, cr->n_sport);
	port_match(b, r, cr->name, "dport", UL_M_DPORT_SET, cr->dport, cr->n_dport);
	if (!cr->n_via) {
		mark_set(b, r, UL_S_CTMARK, mask, ul_exclude_mark(c));
		mark_set(b, r, UL_S_MARK, mask, ul_exclude_mark(c));
	} else if ((k = via_choice(cr, f)) >= 0) {
		mark_set(b, r, UL_S_MARK, mask, ul_link_mark(c, (size_t)k));
	} else if (cr->fallback == UL_FALLBACK_DROP) {
		mark_set(b, r, UL_S_MARK, mask, drop_mark(c));
	}
	m_plain(b, r, UL_V_RETURN);
}

/* One config rule in one family: one nft rule per combination of the sets its sides match
 * (the sides are unions: its own prefixes of that family, then its named sets of that
 * family); none when a side lists addresses or sets only of the other family. */
static void policy_family(struct rb *b, const struct ul_config *c, const struct ul_rule_conf *cr,
			  const struct fam *f, bool split, struct ul_chain *policy)
{
	const char *fs = f->family == AF_INET6 ? "6" : "4";
	char sname[UL_NFT_NAME_MAX], dname[UL_NFT_NAME_MAX];
	struct side src, dst;
	bool has_src, has_dst;

	snprintf(sname, sizeof(sname), "r_%s_src%s", cr->name, fs);
	has_src = family_set(b, sname, cr->src, cr->n_src, f->family);
	snprintf(dname, sizeof(dname), "r_%s_dst%s", cr->name, fs);
	has_dst = family_set(b, dname, cr->dst, cr->n_dst, f->family);
	rule_side(c, has_src, sname, cr->src_sets, cr->n_src_sets, cr->n_src, f->family, &src);
	rule_side(c, has_dst, dname, cr->dst_sets, cr->n_dst_sets, cr->n_dst, f->family, &dst);
	if ((src.constrained && !src.n) || (dst.constrained && !dst.n))
		return;
	for (size_t si = 0; si < (src.n ? src.n : 1); si++)
		for (size_t di = 0; di < (dst.n ? dst.n : 1); di++)
			policy_rule(b, c, cr, f, split, src.n ? src.sets[si] : NULL,
				    dst.n ? dst.sets[di] : NULL, policy);
}

/* The policy chain: config rules, first match wins. */
static void plan_policy(struct rb *b, const struct ul_config *c, const struct fam *f4,
			const struct fam *f6, struct ul_chain *policy)
{
	for (size_t i = 0; i < c->n_rules; i++) {
		policy_family(b, c, &c->rules[i], f4, f6 != NULL, policy);
		if (f6)
			policy_family(b, c, &c->rules[i], f6, true, policy);
	}
}

static bool any_drop_fallback(const struct ul_config *c)
{
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].n_via && c->rules[i].fallback == UL_FALLBACK_DROP)
			return true;
	return false;
}

/* Restore the packet mark from the connection's mark, one rule per value (constant
 * operands keep the other mark bits intact). */
static void plan_restore(struct rb *b, const struct ul_config *c, struct ul_chain *ch)
{
	uint32_t mask = c->daemon.mark_mask;

	for (size_t i = 0; i <= c->n_links; i++) {
		uint32_t v = i < c->n_links ? ul_link_mark(c, i) : ul_exclude_mark(c);
		struct ul_nrule *r;

		if (i == c->n_links && !c->n_rules)
			break;
		r = rule(b, ch);
		m_mark(b, r, UL_M_CTMARK, mask, v, false);
		mark_set(b, r, UL_S_MARK, mask, v);
		m_plain(b, r, UL_V_RETURN);
	}
}

/* One direction's counting rules in ch: every packet by the interface (ifk: UL_M_IIFNAME
 * or UL_M_OIFNAME) to the counter bytes, its new connections to conn. */
static void count_rules(struct rb *b, struct ul_chain *ch, enum ul_stmt_kind ifk,
			const char *ifn, const char *bytes, const char *conn)
{
	struct ul_nrule *r = rule(b, ch);

	m_str(b, r, ifk, ifn);
	m_str(b, r, UL_S_COUNTER_REF, bytes);
	r = rule(b, ch);
	m_str(b, r, ifk, ifn);
	m_plain(b, r, UL_M_CT_NEW);
	m_str(b, r, UL_S_COUNTER_REF, conn);
}

/* Traffic per link: named counters ul_tx_<link>, ul_rx_<link> (bytes and packets leaving and
 * arriving by its interface) and ul_conn_<link> (new connections either way), counted in
 * chains of their own at the edges of the datapath, so no other rule's verdict hides them. */
static void plan_counters(struct rb *b, const struct ul_config *c)
{
	struct ul_chain *in, *out;

	in = ul_ruleset_add_chain(b->rs, "count_in", UL_CHAIN_FILTER, UL_HOOK_PREROUTING, -300);
	out = ul_ruleset_add_chain(b->rs, "count_out", UL_CHAIN_FILTER, UL_HOOK_POSTROUTING, 300);
	if (!in || !out) {
		b->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < c->n_links; i++) {
		const char *ln = c->links[i].name, *ifn = c->links[i].ifname;
		char tx[UL_NFT_NAME_MAX], rx[UL_NFT_NAME_MAX], conn[UL_NFT_NAME_MAX];

		snprintf(tx, sizeof(tx), "ul_tx_%s", ln);
		snprintf(rx, sizeof(rx), "ul_rx_%s", ln);
		snprintf(conn, sizeof(conn), "ul_conn_%s", ln);
		if (ul_ruleset_add_counter(b->rs, tx) || ul_ruleset_add_counter(b->rs, rx) ||
		    ul_ruleset_add_counter(b->rs, conn)) {
			b->err = -ENOMEM;
			return;
		}
		count_rules(b, in, UL_M_IIFNAME, ifn, rx, conn);
		count_rules(b, out, UL_M_OIFNAME, ifn, tx, conn);
	}
}

int ul_plan_counter_link(const struct ul_config *c, const char *name, int *kind)
{
	static const char *const pre[] = { "ul_tx_", "ul_rx_", "ul_conn_" };

	for (int k = 0; k < 3; k++) {
		size_t n = strlen(pre[k]);

		if (strncmp(name, pre[k], n))
			continue;
		*kind = k;
		return ul_config_link_index(c, name + n);
	}
	return -1;
}

/* A set of interface names. */
static void ifname_set(struct rb *b, const char *name, const struct ul_config *c, bool lan)
{
	struct ul_set *s = add_set(b, name, UL_KEY_IFNAME, false);
	size_t n = lan ? c->lan.n_ifnames : c->n_links;

	for (size_t i = 0; s && i < n; i++) {
		union ul_set_elem e;

		memset(&e, 0, sizeof(e));
		snprintf(e.ifname, sizeof(e.ifname), "%s", lan ? c->lan.ifnames[i] :
								 c->links[i].ifname);
		if (ul_set_add_elem(s, &e))
			b->err = -ENOMEM;
	}
}

/* Sticky sources of one family: one dynamic set per link. */
static void sticky_sets(struct rb *b, const struct ul_config *c, const struct fam *f)
{
	char name[UL_NFT_NAME_MAX];

	for (size_t i = 0; i < c->n_links; i++) {
		struct ul_set *s;

		snprintf(name, sizeof(name), "%s%s", f->family == AF_INET6 ? STICKY6_PREFIX :
					     STICKY_PREFIX, c->links[i].name);
		s = add_set(b, name, f->family == AF_INET6 ? UL_KEY_IPV6 : UL_KEY_IPV4, false);
		if (!s)
			break;
		s->dynamic = true;
		s->timeout_ms = c->sticky.timeout_s * 1000u;
		/* A link that stops carrying balanced traffic forgets its sources, so
		 * they pick a live link now and do not snap back on its return. */
		s->flush = !(f->active & (1u << i));
	}
}

/* The sticky rules of a family, one an active link, in pre (pre: a new balanced connection
 * from a sticky source goes to that source's link) or else in post (post: balanced LAN
 * sources become sticky to the link they left by). */
static void sticky_rules(struct rb *b, const struct ul_config *c, const struct fam *f,
			 struct ul_chain *ch, bool pre)
{
	uint32_t mask = c->daemon.mark_mask;
	char name[UL_NFT_NAME_MAX];

	for (size_t i = 0; i < c->n_links; i++) {
		struct ul_nrule *r;

		if (!(f->active & (1u << i)))
			continue;
		snprintf(name, sizeof(name), "%s%s", f->family == AF_INET6 ? STICKY6_PREFIX :
					     STICKY_PREFIX, c->links[i].name);
		r = rule(b, ch);
		m_plain(b, r, UL_M_CT_NEW);
		m_mark(b, r, UL_M_MARK, mask, 0, false);
		if (c->lan.n_ifnames)
			m_set(b, r, UL_M_IIFNAME_SET, 0, "lan_ifs");
		if (!pre) {
			m_str(b, r, UL_M_OIFNAME, c->links[i].ifname);
			m_set(b, r, UL_M_NFPROTO, f->family, "");
			m_set(b, r, UL_S_SET_UPDATE, f->family, name);
			continue;
		}
		m_set(b, r, UL_M_NFPROTO, f->family, "");
		m_set(b, r, UL_M_SADDR_IN_DYN, f->family, name);
		mark_set(b, r, UL_S_MARK, mask, ul_link_mark(c, i));
		m_set(b, r, UL_S_SET_UPDATE, f->family, name);
		m_plain(b, r, UL_V_RETURN);
		comment(r, "sticky", c->links[i].name);
	}
}

/* pre: new connections from the LAN (of one family, or of both when fam is NULL) go
 * through the policy chain. */
static void pick_jump(struct rb *b, const struct ul_config *c, int family, const char *nets,
		      struct ul_chain *pre)
{
	struct ul_nrule *r = rule(b, pre);

	m_plain(b, r, UL_M_CT_NEW);
	if (c->lan.n_ifnames)
		m_set(b, r, UL_M_IIFNAME_SET, 0, "lan_ifs");
	if (family)
		m_set(b, r, UL_M_NFPROTO, family, "");
	if (nets)
		m_set(b, r, UL_M_SADDR_SET, family, nets);
	m_str(b, r, UL_V_JUMP, "pick");
}

/* Port forwards of one family, on every listed link (IPv6: links that may carry it). */
static void plan_forwards(struct rb *b, const struct ul_config *c, int family,
			  struct ul_chain *dnat)
{
	for (size_t i = 0; i < c->n_pfs; i++) {
		const struct ul_pf_conf *pf = &c->pfs[i];

		if (pf->to.family != family)
			continue;
		for (size_t k = 0; k < c->n_links; k++) {
			struct ul_nrule *r;
			struct ul_stmt *s;

			if (!(pf->links & (1u << k)) ||
			    (family == AF_INET6 && c->links[k].gw6_mode == UL_GW_NONE))
				continue;
			r = rule(b, dnat);
			m_str(b, r, UL_M_IIFNAME, c->links[k].ifname);
			if (family == AF_INET6)
				m_set(b, r, UL_M_NFPROTO, AF_INET6, "");
			s = st(b, r, UL_M_L4PROTO);
			if (s)
				s->proto = pf->proto;
			s = st(b, r, UL_M_DPORT);
			if (s)
				s->port = pf->port;
			m_nat(b, r, UL_S_DNAT, family, &pf->to, pf->to_port);
			comment(r, "forward", pf->name);
		}
	}
}

/* nat: IPv4 to the link's shared address (snat) or masquerade (of both families while the
 * plan has no IPv6, as in 1.0), and IPv6 per link by nat6. */
static void plan_nat(struct rb *b, const struct ul_config *c, bool v6, bool lan_nets,
		     bool lan_nets6, struct ul_chain *nat)
{
	bool lan_ifs = c->lan.n_ifnames > 0;

	for (size_t i = 0; i < c->n_links; i++) {
		const struct ul_link_conf *l = &c->links[i];
		struct ul_nrule *r;

		if (l->snat.family == AF_INET) {
			/* to the link's shared address, the LAN's connections only: the router's
			 * own (probes) keep the node's address, so that each node of a gateway
			 * pair checks its links itself. (Without a LAN to tell them apart the
			 * config is refused; never translate everything.) */
			if (lan_nets || lan_ifs) {
				r = rule(b, nat);
				m_str(b, r, UL_M_OIFNAME, l->ifname);
				if (lan_nets) {
					m_set(b, r, UL_M_NFPROTO, AF_INET, "");
					m_set(b, r, UL_M_SADDR_SET, AF_INET, "lan_nets4");
				} else {
					m_set(b, r, UL_M_IIFNAME_SET, 0, "lan_ifs");
					m_set(b, r, UL_M_NFPROTO, AF_INET, "");
				}
				m_nat(b, r, UL_S_SNAT, AF_INET, &l->snat, 0);
				comment(r, "snat", l->name);
			}
		} else if (l->masquerade) {
			r = rule(b, nat);
			if (v6)
				m_set(b, r, UL_M_NFPROTO, AF_INET, "");
			m_str(b, r, UL_M_OIFNAME, l->ifname);
			m_plain(b, r, UL_S_MASQUERADE);
		}
		if (!v6 || l->gw6_mode == UL_GW_NONE || l->nat6 == UL_NAT6_NONE)
			continue;
		if (l->nat6 == UL_NAT6_PREFIX && !lan_nets6)
			continue;       /* refused by the config check; never translate all */
		r = rule(b, nat);
		m_set(b, r, UL_M_NFPROTO, AF_INET6, "");
		m_str(b, r, UL_M_OIFNAME, l->ifname);
		if (l->nat6 == UL_NAT6_MASQUERADE) {
			m_plain(b, r, UL_S_MASQUERADE);
			continue;
		}
		m_set(b, r, UL_M_SADDR_SET, AF_INET6, "lan_nets6");
		m_nat(b, r, UL_S_SNAT_PREFIX, AF_INET6, &l->prefix6, 0);
		comment(r, "nat6 prefix", l->name);
	}
}

static int plan_ruleset(const struct ul_config *c, const struct fam *f4, const struct fam *f6,
			struct ul_plan *p)
{
	struct rb b = { .rs = &p->nft };
	uint32_t mask = c->daemon.mark_mask;
	struct ul_chain *pre, *post, *out, *nat, *dnat, *policy;
	bool lan_ifs = c->lan.n_ifnames > 0, lan_nets = false, lan_nets6 = false;
	struct ul_nrule *r;

	/* sets */
	plan_named_sets(&b, c);
	if (lan_ifs)
		ifname_set(&b, "lan_ifs", c, true);
	if (c->lan.n_networks)
		lan_nets = family_set(&b, "lan_nets4", c->lan.networks, c->lan.n_networks,
				      AF_INET);
	if (f6 && c->lan.n_networks)
		lan_nets6 = family_set(&b, "lan_nets6", c->lan.networks, c->lan.n_networks,
				       AF_INET6);
	if (c->sticky.enabled) {
		sticky_sets(&b, c, f4);
		if (f6)
			sticky_sets(&b, c, f6);
	}

	pre = ul_ruleset_add_chain(&p->nft, "pre", UL_CHAIN_FILTER, UL_HOOK_PREROUTING, -150);
	policy = ul_ruleset_add_chain(&p->nft, "pick", UL_CHAIN_FILTER, UL_HOOK_NONE, 0);
	post = ul_ruleset_add_chain(&p->nft, "post", UL_CHAIN_FILTER, UL_HOOK_POSTROUTING, -150);
	out = ul_ruleset_add_chain(&p->nft, "out", UL_CHAIN_ROUTE, UL_HOOK_OUTPUT, -150);
	dnat = c->n_pfs ? ul_ruleset_add_chain(&p->nft, "portfwd", UL_CHAIN_NAT, UL_HOOK_PREROUTING,
					       -100) : NULL;
	nat = ul_ruleset_add_chain(&p->nft, "nat", UL_CHAIN_NAT, UL_HOOK_POSTROUTING, 100);
	if (!pre || !policy || !post || !out || !nat || (c->n_pfs && !dnat))
		return -ENOMEM;

	/* pre: connections arriving on a link belong to it (port forwards, the router's own
	 * services), then every packet of a known connection gets its link back. */
	for (size_t i = 0; i < c->n_links; i++) {
		r = rule(&b, pre);
		m_str(&b, r, UL_M_IIFNAME, c->links[i].ifname);
		m_plain(&b, r, UL_M_CT_NEW);
		mark_set(&b, r, UL_S_CTMARK, mask, ul_link_mark(c, i));
		comment(r, "inbound on", c->links[i].name);
	}
	plan_restore(&b, c, pre);
	/* new connections from the LAN: policy rules, then stickiness, then the balance
	 * table's multipath route decides */
	if (c->n_rules) {
		if (!f6) {
			pick_jump(&b, c, lan_nets ? AF_INET : 0, lan_nets ? "lan_nets4" : NULL,
				  pre);
		} else {
			pick_jump(&b, c, AF_INET, lan_nets ? "lan_nets4" : NULL, pre);
			pick_jump(&b, c, AF_INET6, lan_nets6 ? "lan_nets6" : NULL, pre);
		}
		plan_policy(&b, c, f4, f6, policy);
	}
	if (c->sticky.enabled) {
		sticky_rules(&b, c, f4, pre, true);
		if (f6)
			sticky_rules(&b, c, f6, pre, true);
	}

	/* post: connections a rule refuses to send elsewhere ("fallback drop") are dropped
	 * when they would leave by a link (traffic to the LAN is not concerned) */
	if (any_drop_fallback(c)) {
		ifname_set(&b, "link_ifs", c, false);
		r = rule(&b, post);
		m_mark(&b, r, UL_M_MARK, mask, drop_mark(c), false);
		m_set(&b, r, UL_M_OIFNAME_SET, 0, "link_ifs");
		m_plain(&b, r, UL_V_DROP);
		comment(r, "fallback drop", "");
	}
	/* post: a new connection's link is the interface it leaves by (unless it arrived on
	 * a link or a rule already set it); balanced LAN sources become sticky to it */
	for (size_t i = 0; i < c->n_links; i++) {
		r = rule(&b, post);
		m_plain(&b, r, UL_M_CT_NEW);
		m_mark(&b, r, UL_M_CTMARK, mask, 0, false);
		m_str(&b, r, UL_M_OIFNAME, c->links[i].ifname);
		mark_set(&b, r, UL_S_CTMARK, mask, ul_link_mark(c, i));
	}
	if (c->sticky.enabled) {
		sticky_rules(&b, c, f4, post, false);
		if (f6)
			sticky_rules(&b, c, f6, post, false);
	}

	/* out: the router's own connections follow the same policy (probes carry their
	 * link's mark already and are left alone) */
	r = rule(&b, out);
	m_mark(&b, r, UL_M_MARK, mask, 0, true);
	m_plain(&b, r, UL_V_RETURN);
	plan_restore(&b, c, out);
	if (c->n_rules) {
		r = rule(&b, out);
		m_plain(&b, r, UL_M_CT_NEW);
		m_str(&b, r, UL_V_JUMP, "pick");
	}

	plan_forwards(&b, c, AF_INET, dnat);
	if (f6)
		plan_forwards(&b, c, AF_INET6, dnat);
	plan_nat(&b, c, f6 != NULL, lan_nets, lan_nets6, nat);
	plan_counters(&b, c);
	return b.err;
}

int ul_plan_build(const struct ul_config *c, const struct ul_link_rt *rt, struct ul_plan *p)
{
	struct fam f4, f6;
	int err;

	memset(p, 0, sizeof(*p));
	fam_view(c, rt, AF_INET, &f4);
	choose_active(c, rt, &f4);
	p->active = f4.active;
	p->usable = f4.usable;
	p->carrying = f4.carrying;
	p->last_resort = f4.last_resort;
	for (size_t i = 0; i < c->n_links; i++)
		p->v6 |= ul_plan_link_v6(c, rt, i);
	if (p->v6) {
		fam_view(c, rt, AF_INET6, &f6);
		choose_active(c, rt, &f6);
		p->active6 = f6.active;
		p->usable6 = f6.usable;
		p->carrying6 = f6.carrying;
		p->last_resort6 = f6.last_resort;
	}
	plan_routes(c, rt, &f4, p);
	plan_rules(c, rt, &f4, p);
	if (p->v6) {
		plan_routes(c, rt, &f6, p);
		plan_rules(c, rt, &f6, p);
	}
	err = plan_ruleset(c, &f4, p->v6 ? &f6 : NULL, p);
	if (err)
		ul_plan_free(p);
	return err;
}

void ul_plan_free(struct ul_plan *p)
{
	ul_ruleset_free(&p->nft);
	memset(p, 0, sizeof(*p));
}

void ul_plan_print(FILE *f, const struct ul_config *c, const struct ul_plan *p)
{
	char buf[512];

	for (int fam = AF_INET; fam; fam = fam == AF_INET && p->v6 ? AF_INET6 : 0) {
		const char *w = fam == AF_INET6 ? "IPv6 " : "";

		fprintf(f, "%s# %sroutes\n", fam == AF_INET6 ? "\n" : "", w);
		for (size_t i = 0; i < p->n_routes; i++) {
			if (p->routes[i].family != fam)
				continue;
			ul_route_format(&p->routes[i], buf, sizeof(buf));
			fprintf(f, "%s\n", buf);
		}
		fprintf(f, "\n# %srules\n", w);
		for (size_t i = 0; i < p->n_rules; i++) {
			if (p->rules[i].family != fam)
				continue;
			ul_iprule_format(&p->rules[i], buf, sizeof(buf));
			fprintf(f, "%s\n", buf);
		}
	}
	fprintf(f, "\n# nftables\n");
	ul_ruleset_print(f, &p->nft);
	(void)c;
}
