// SPDX-License-Identifier: GPL-2.0-or-later
/* nftables over libnftnl/libmnl: table inet uplinkd, changed only in whole transactions.
 *
 * Batch buffers: every message is at most UL_NFT_MSG_MAX (nft.h) bytes, and,
 * as libmnl expects, the buffer of a batch started with limit L must hold L + UL_NFT_MSG_MAX
 * bytes. A batch that outgrows its limit makes ul_nft_build_batch return -ENOSPC. */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "klog.h"
#include "nft.h"
#include "setdiff.h"

/* mnl_nlmsg_ok() casts nlmsg_len to int: a length above 2 GiB would pass it (and
 * mnl_cb_run walks with it). These do not. A message must fit with its padding too:
 * libmnl's attribute walk ends at the aligned tail. */
static bool msg_ok(const struct nlmsghdr *nlh, size_t len)
{
	return len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) && nlh->nlmsg_len <= len &&
	       (size_t)NLMSG_ALIGN((size_t)nlh->nlmsg_len) <= len;
}

static const struct nlmsghdr *msg_next(const struct nlmsghdr *nlh, size_t *len)
{
	size_t step = NLMSG_ALIGN(nlh->nlmsg_len);

	*len = step < *len ? *len - step : 0;
	return (const struct nlmsghdr *)((const char *)nlh + step);
}

/* The length of the part of buf made of whole messages: what mnl_cb_run may be given. */
static size_t whole_msgs(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	size_t left = len;

	while (msg_ok(nlh, left))
		nlh = msg_next(nlh, &left);
	return len - left;
}

#define SCRATCH_SIZE (64 * 1024)
#ifndef MNL_SOCKET_DUMP_SIZE
#define MNL_SOCKET_DUMP_SIZE 32768
#endif

/* nft userspace datatype ids, so that `nft list` prints the sets nicely. */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_INET_SERVICE 13
#define NFT_TYPE_IFNAME 41
#ifdef NF_NAT_RANGE_NETMAP
#define UL_NF_NAT_RANGE_NETMAP NF_NAT_RANGE_NETMAP
#else
#define UL_NF_NAT_RANGE_NETMAP (1 << 6)        /* linux/netfilter/nf_nat.h, since 5.8 */
#endif
#define DYN_SET_SIZE 65535
/* nft's enum byteorder, in the set's userdata */
#define NFT_BYTEORDER_HOST 1
#define NFT_BYTEORDER_BIG 2

/* ------------------------------------------------------------------------------------------ */
/* Batch building */

struct bctx {
	struct mnl_nlmsg_batch *b;
	uint32_t *seq;
	char *scratch;
};

static struct nlmsghdr *msg_hdr(struct bctx *c, uint16_t type, uint16_t flags)
{
	memset(c->scratch, 0, 64);
	return nftnl_nlmsg_build_hdr(c->scratch, type, NFPROTO_INET, flags | NLM_F_ACK,
				     (*c->seq)++);
}

static int msg_commit(struct bctx *c, const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len > UL_NFT_MSG_MAX)
		return -EMSGSIZE;
	memcpy(mnl_nlmsg_batch_current(c->b), nlh, nlh->nlmsg_len);
	if (!mnl_nlmsg_batch_next(c->b))
		return -ENOSPC;
	return 0;
}

static uint32_t key_type(enum ul_set_key k)
{
	switch (k) {
	case UL_KEY_IFNAME:
		return NFT_TYPE_IFNAME;
	case UL_KEY_IPV4:
		return NFT_TYPE_IPADDR;
	case UL_KEY_IPV6:
		return NFT_TYPE_IP6ADDR;
	case UL_KEY_PORT:
		return NFT_TYPE_INET_SERVICE;
	}
	return 0;
}

static uint32_t set_flags(const struct ul_set *s)
{
	uint32_t f = 0;

	if (s->interval)
		f |= NFT_SET_INTERVAL;
	if (s->dynamic)
		f |= NFT_SET_TIMEOUT | NFT_SET_EVAL;
	else if (ul_set_gc_spaced(s))
		f |= NFT_SET_TIMEOUT;   /* for the gc-interval alone (ruleset.h) */
	return f;
}

static bool key_is_zero(const uint8_t *k, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (k[i])
			return false;
	return true;
}

/* k + 1 (the caller checks k is not the maximum). */
static void key_inc(uint8_t *k, size_t len)
{
	for (size_t i = len; i-- > 0;)
		if (++k[i])
			break;
}

static struct nftnl_set *nset_alloc(const char *name, uint32_t id)
{
	struct nftnl_set *ns = nftnl_set_alloc();

	if (!ns)
		return NULL;
	nftnl_set_set_str(ns, NFTNL_SET_TABLE, UL_NFT_TABLE);
	nftnl_set_set_str(ns, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(ns, NFTNL_SET_FAMILY, NFPROTO_INET);
	if (id)
		nftnl_set_set_u32(ns, NFTNL_SET_ID, id);
	return ns;
}

/* Element messages are written with libmnl straight from the ranges, as libnftnl's
 * nftnl_set_elems_nlmsg_build_payload lays them out (set, set id, table, then the list of
 * elements: flags, key, userdata), without an object allocated per element. */
struct emsg {
	struct nlmsghdr *nlh;
	struct nlattr *list;
	uint16_t idx;
};

static void emsg_start(struct bctx *c, struct emsg *m, const char *name, uint32_t id, bool del)
{
	m->nlh = del ? msg_hdr(c, NFT_MSG_DELSETELEM, 0) : msg_hdr(c, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	mnl_attr_put_strz(m->nlh, NFTA_SET_ELEM_LIST_SET, name);
	if (id)
		mnl_attr_put_u32(m->nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(id));
	mnl_attr_put_strz(m->nlh, NFTA_SET_ELEM_LIST_TABLE, UL_NFT_TABLE);
	m->list = mnl_attr_nest_start(m->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	m->idx = 0;
}

/* One attribute at the message's tail, as mnl_attr_put writes it (header, payload, zero
 * padding), inline: the element loop writes 200,000 of them for 100,000 prefixes. */
static void put_attr(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data)
{
	struct nlattr *a = (struct nlattr *)((char *)nlh + MNL_ALIGN(nlh->nlmsg_len));
	size_t pad = MNL_ALIGN(len) - len;

	a->nla_type = type;
	a->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
	memcpy((char *)a + MNL_ATTR_HDRLEN, data, len);
	if (pad)
		memset((char *)a + MNL_ATTR_HDRLEN + len, 0, pad);
	nlh->nlmsg_len = (uint32_t)(MNL_ALIGN(nlh->nlmsg_len) + MNL_ATTR_HDRLEN + MNL_ALIGN(len));
}

static struct nlattr *nest_start(struct nlmsghdr *nlh, uint16_t type)
{
	struct nlattr *a = (struct nlattr *)((char *)nlh + MNL_ALIGN(nlh->nlmsg_len));

	a->nla_type = NLA_F_NESTED | type;
	nlh->nlmsg_len = (uint32_t)(MNL_ALIGN(nlh->nlmsg_len) + MNL_ATTR_HDRLEN);
	return a;
}

static void nest_end(struct nlmsghdr *nlh, struct nlattr *a)
{
	a->nla_len = (uint16_t)((char *)nlh + MNL_ALIGN(nlh->nlmsg_len) - (char *)a);
}

static void emsg_elem(struct emsg *m, const uint8_t *key, size_t len, uint32_t flags,
		      const void *ud, size_t ud_len)
{
	struct nlattr *e = nest_start(m->nlh, ++m->idx), *k;

	if (flags) {
		uint32_t be = htonl(flags);

		put_attr(m->nlh, NFTA_SET_ELEM_FLAGS, sizeof(be), &be);
	}
	k = nest_start(m->nlh, NFTA_SET_ELEM_KEY);
	put_attr(m->nlh, NFTA_DATA_VALUE, len, key);
	nest_end(m->nlh, k);
	if (ud)
		put_attr(m->nlh, NFTA_SET_ELEM_USERDATA, ud_len, ud);
	nest_end(m->nlh, e);
}

static int emsg_end(struct bctx *c, struct emsg *m)
{
	mnl_attr_nest_end(m->nlh, m->list);
	return msg_commit(c, m->nlh);
}

/* What nft stores in the userdata of the start of a range running to the end of the key
 * space. */
static int open_udata(uint8_t *out, size_t max, size_t *len)
{
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(16);

	if (!ud || !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_ELEM_FLAGS,
					NFTNL_SET_ELEM_F_INTERVAL_OPEN) ||
	    nftnl_udata_buf_len(ud) > max) {
		nftnl_udata_buf_free(ud);
		return -ENOMEM;
	}
	*len = nftnl_udata_buf_len(ud);
	memcpy(out, nftnl_udata_buf_data(ud), *len);
	nftnl_udata_buf_free(ud);
	return 0;
}

/*
 * Elements for the ranges r[0..n) of set s, added (or deleted), as nft stores them: in an
 * interval set a range is its start and the end element one past its end (none for a range
 * to the end of the key space). zero_end: also the end element at key 0 nft puts below a
 * first range that does not start at 0 ("everything below is outside").
 */
static int emit_ranges(struct bctx *c, const struct ul_set *s, uint32_t id,
		       const struct ul_set_range *r, size_t n, bool zero_end, bool del)
{
	size_t len = ul_set_key_len(s->key), in_msg = 0, per_msg, ud_len = 0;
	uint8_t key[16], ud[16];
	struct emsg m;
	int ret;

	if (!n && !zero_end)
		return 0;
	/* attribute bytes of one element, generously: nest + key nest + key + flags + udata */
	per_msg = (UL_NFT_MSG_MAX - 512) / (NLA_ALIGN(len) + 48);
	emsg_start(c, &m, s->name, id, del);
	if (zero_end) {
		memset(key, 0, sizeof(key));
		emsg_elem(&m, key, len, NFT_SET_ELEM_INTERVAL_END, NULL, 0);
		in_msg++;
	}
	for (size_t i = 0; i < n; i++) {
		bool open = s->interval && ul_set_key_is_max(r[i].hi, len);

		if (in_msg + 2 > per_msg) {
			ret = emsg_end(c, &m);
			if (ret)
				return ret;
			emsg_start(c, &m, s->name, id, del);
			in_msg = 0;
		}
		if (open && !ud_len) {
			ret = open_udata(ud, sizeof(ud), &ud_len);
			if (ret)
				return ret;
		}
		emsg_elem(&m, r[i].lo, len, 0, open ? ud : NULL, open ? ud_len : 0);
		in_msg++;
		if (s->interval && !open) {
			memcpy(key, r[i].hi, 16);
			key_inc(key, len);
			emsg_elem(&m, key, len, NFT_SET_ELEM_INTERVAL_END, NULL, 0);
			in_msg++;
		}
	}
	return in_msg ? emsg_end(c, &m) : 0;
}

/* nft's end element at 0 below the first range (see emit_ranges). */
static bool has_zero_end(const struct ul_set *s, const struct ul_set_range *r, size_t n)
{
	return s->interval && n && !key_is_zero(r[0].lo, ul_set_key_len(s->key));
}

static int build_elems(struct bctx *c, const struct ul_set *s, uint32_t id,
		       const struct ul_set_range *r, size_t n)
{
	return emit_ranges(c, s, id, r, n, has_zero_end(s, r, n), false);
}

/* The elements of a kept set by difference: deletions first, then additions. */
static int update_elems(struct bctx *c, const struct ul_set *s, const struct ul_nft_prev_set *p,
			const struct ul_set_range *r, size_t n, size_t *added, size_t *deleted)
{
	struct ul_set_range *del = NULL, *add = NULL;
	bool z0 = has_zero_end(s, p->r, p->n), z1 = has_zero_end(s, r, n);
	size_t ndel = 0, nadd = 0;
	int ret;

	ret = ul_set_ranges_diff(p->r, p->n, r, n, &del, &ndel, &add, &nadd);
	if (ret)
		return ret;
	ret = emit_ranges(c, s, 0, del, ndel, z0 && !z1, true);
	if (!ret)
		ret = emit_ranges(c, s, 0, add, nadd, z1 && !z0, false);
	*added += nadd;
	*deleted += ndel;
	free(del);
	free(add);
	return ret;
}

static int build_set(struct bctx *c, const struct ul_set *s, uint32_t id,
		     const struct ul_set_range *r, size_t n)
{
	struct nftnl_set *ns = nset_alloc(s->name, id);
	struct nftnl_udata_buf *ud;
	struct nlmsghdr *nlh;
	int ret;

	if (!ns)
		return -ENOMEM;
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_TYPE, key_type(s->key));
	nftnl_set_set_u32(ns, NFTNL_SET_KEY_LEN, (uint32_t)ul_set_key_len(s->key));
	nftnl_set_set_u32(ns, NFTNL_SET_FLAGS, set_flags(s));
	/* the key byte order nft records, so that `nft list` prints the elements right */
	ud = nftnl_udata_buf_alloc(64);
	if (!ud || !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER,
					s->key == UL_KEY_IFNAME ? NFT_BYTEORDER_HOST :
								  NFT_BYTEORDER_BIG)) {
		nftnl_udata_buf_free(ud);
		nftnl_set_free(ns);
		return -ENOMEM;
	}
	nftnl_set_set_data(ns, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
	if (s->dynamic) {
		nftnl_set_set_u64(ns, NFTNL_SET_TIMEOUT, s->timeout_ms);
		nftnl_set_set_u32(ns, NFTNL_SET_DESC_SIZE, DYN_SET_SIZE);
	} else if (ul_set_gc_spaced(s)) {
		nftnl_set_set_u32(ns, NFTNL_SET_GC_INTERVAL, UL_SET_GC_INTERVAL_MS);
	}
	nlh = msg_hdr(c, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	ret = msg_commit(c, nlh);
	if (ret)
		return ret;
	return build_elems(c, s, id, r, n);
}

static struct nftnl_obj *nobj_alloc(const char *name)
{
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o)
		return NULL;
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, UL_NFT_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	return o;
}

/* A counter object; one that exists already keeps its values (no NLM_F_EXCL). */
static int build_counter(struct bctx *c, const char *name, bool del)
{
	struct nftnl_obj *o = nobj_alloc(name);
	struct nlmsghdr *nlh;

	if (!o)
		return -ENOMEM;
	nlh = del ? msg_hdr(c, NFT_MSG_DELOBJ, 0) : msg_hdr(c, NFT_MSG_NEWOBJ, NLM_F_CREATE);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	return msg_commit(c, nlh);
}

static int build_del_set(struct bctx *c, const char *name)
{
	struct nftnl_set *ns = nset_alloc(name, 0);
	struct nlmsghdr *nlh;

	if (!ns)
		return -ENOMEM;
	nlh = msg_hdr(c, NFT_MSG_DELSET, 0);
	nftnl_set_nlmsg_build_payload(nlh, ns);
	nftnl_set_free(ns);
	return msg_commit(c, nlh);
}

/* DELSETELEM without a list of elements: the kernel flushes the set. */
static int build_flush_set(struct bctx *c, const char *name)
{
	struct nlmsghdr *nlh = msg_hdr(c, NFT_MSG_DELSETELEM, 0);

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, UL_NFT_TABLE);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
	return msg_commit(c, nlh);
}

static int hook_num(enum ul_hook h)
{
	switch (h) {
	case UL_HOOK_PREROUTING:
		return NF_INET_PRE_ROUTING;
	case UL_HOOK_OUTPUT:
		return NF_INET_LOCAL_OUT;
	case UL_HOOK_POSTROUTING:
		return NF_INET_POST_ROUTING;
	case UL_HOOK_NONE:
		break;
	}
	return -1;
}

static struct nftnl_chain *nchain_alloc(const char *name)
{
	struct nftnl_chain *nc = nftnl_chain_alloc();

	if (!nc)
		return NULL;
	nftnl_chain_set_str(nc, NFTNL_CHAIN_TABLE, UL_NFT_TABLE);
	nftnl_chain_set_str(nc, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(nc, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	return nc;
}

static int build_chain(struct bctx *c, const struct ul_chain *ch)
{
	struct nftnl_chain *nc = nchain_alloc(ch->name);
	struct nlmsghdr *nlh;

	if (!nc)
		return -ENOMEM;
	if (ch->hook != UL_HOOK_NONE) {
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook_num(ch->hook));
		nftnl_chain_set_s32(nc, NFTNL_CHAIN_PRIO, ch->prio);
		nftnl_chain_set_str(nc, NFTNL_CHAIN_TYPE, ul_chain_kind_name(ch->kind));
		nftnl_chain_set_u32(nc, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = msg_hdr(c, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, nc);
	nftnl_chain_free(nc);
	return msg_commit(c, nlh);
}

static int build_del_chain_name(struct bctx *c, const char *name)
{
	struct nftnl_chain *nc = nchain_alloc(name);
	struct nlmsghdr *nlh;

	if (!nc)
		return -ENOMEM;
	nlh = msg_hdr(c, NFT_MSG_DELCHAIN, 0);
	nftnl_chain_nlmsg_build_payload(nlh, nc);
	nftnl_chain_free(nc);
	return msg_commit(c, nlh);
}

/* --- expressions --- */

static int add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (!e)
		return -ENOMEM;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int e_meta_load(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return add_expr(r, e);
}

static int e_meta_set(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
	return add_expr(r, e);
}

static int e_ct_load(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	return add_expr(r, e);
}

static int e_ct_set(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_SREG, NFT_REG_1);
	}
	return add_expr(r, e);
}

static int e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add_expr(r, e);
}

static int e_bitwise(struct nftnl_rule *r, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, sizeof(uint32_t));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, sizeof(mask));
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &xor, sizeof(xor));
	}
	return add_expr(r, e);
}

static int e_lookup(struct nftnl_rule *r, const char *set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	}
	return add_expr(r, e);
}

static int e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	}
	return add_expr(r, e);
}

static int e_imm_data(struct nftnl_rule *r, uint32_t reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	}
	return add_expr(r, e);
}

static int e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
		if (chain)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	return add_expr(r, e);
}

static int e_simple(struct nftnl_rule *r, const char *name)
{
	return add_expr(r, nftnl_expr_alloc(name));
}

static int e_addr_payload(struct nftnl_rule *r, uint8_t family, bool src)
{
	if (family == AF_INET6)
		return e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, src ? 8 : 24, 16);
	return e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, src ? 12 : 16, 4);
}

static uint8_t nfproto_of(uint8_t family)
{
	return family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

static bool needs_family(enum ul_stmt_kind k)
{
	return k == UL_M_SADDR_SET || k == UL_M_DADDR_SET || k == UL_M_SADDR_IN_DYN ||
	       k == UL_S_SET_UPDATE || k == UL_S_DNAT || k == UL_S_SNAT ||
	       k == UL_S_SNAT_PREFIX;
}

static int check_set(const struct ul_ruleset *rs, const struct ul_chain *ch,
		     const struct ul_stmt *s, enum ul_set_key key, bool need_dynamic)
{
	const struct ul_set *set = ul_ruleset_find_set(rs, s->str);

	if (!set) {
		ul_kerr("nft: chain %s: rule refers to unknown set '%s'", ch->name, s->str);
		return -EINVAL;
	}
	if (set->key != key || (need_dynamic && !set->dynamic)) {
		ul_kerr("nft: chain %s: set '%s' has the wrong type for its use", ch->name, s->str);
		return -EINVAL;
	}
	return 0;
}

static int check_stmt(const struct ul_ruleset *rs, const struct ul_chain *ch,
		      const struct ul_stmt *s)
{
	uint8_t fam = needs_family(s->kind) ? ul_stmt_family(rs, s) : AF_INET;
	enum ul_set_key ipkey = fam == AF_INET6 ? UL_KEY_IPV6 : UL_KEY_IPV4;

	if (fam != AF_INET && fam != AF_INET6) {
		ul_kerr("nft: chain %s: bad address family %u", ch->name, fam);
		return -EINVAL;
	}
	switch (s->kind) {
	case UL_S_COUNTER_REF:
		if (!ul_ruleset_has_counter(rs, s->str)) {
			ul_kerr("nft: chain %s: unknown counter '%s'", ch->name, s->str);
			return -EINVAL;
		}
		return 0;
	case UL_M_IIFNAME:
	case UL_M_OIFNAME:
		if (!s->str[0] || strnlen(s->str, sizeof(s->str)) >= IFNAMSIZ) {
			ul_kerr("nft: chain %s: bad interface name '%.*s'", ch->name,
			       (int)sizeof(s->str), s->str);
			return -EINVAL;
		}
		return 0;
	case UL_M_IIFNAME_SET:
	case UL_M_OIFNAME_SET:
		return check_set(rs, ch, s, UL_KEY_IFNAME, false);
	case UL_M_SADDR_SET:
	case UL_M_DADDR_SET:
	case UL_M_SADDR_IN_DYN:
		return check_set(rs, ch, s, ipkey, false);
	case UL_S_SET_UPDATE:
		return check_set(rs, ch, s, ipkey, true);
	case UL_M_SPORT_SET:
	case UL_M_DPORT_SET:
		return check_set(rs, ch, s, UL_KEY_PORT, false);
	case UL_M_NFPROTO:
		if (s->family != AF_INET && s->family != AF_INET6) {
			ul_kerr("nft: chain %s: meta nfproto needs AF_INET or AF_INET6", ch->name);
			return -EINVAL;
		}
		return 0;
	case UL_S_DNAT:
	case UL_S_SNAT:
		if (s->addr.family != fam || !ul_addr_is_host(&s->addr)) {
			ul_kerr("nft: chain %s: %s needs a host address of its family", ch->name,
				s->kind == UL_S_DNAT ? "dnat" : "snat");
			return -EINVAL;
		}
		return 0;
	case UL_S_SNAT_PREFIX:
		if (s->addr.family != fam || ch->kind != UL_CHAIN_NAT ||
		    ch->hook != UL_HOOK_POSTROUTING) {
			ul_kerr("nft: chain %s: snat prefix needs a prefix of its family in a "
			       "postrouting nat chain", ch->name);
			return -EINVAL;
		}
		return 0;
	case UL_V_JUMP:
	case UL_V_GOTO:
		if (!ul_ruleset_find_chain(rs, s->str)) {
			ul_kerr("nft: chain %s: jump to unknown chain '%s'", ch->name, s->str);
			return -EINVAL;
		}
		return 0;
	case UL_M_CT_NEW:
	case UL_M_CTMARK:
	case UL_M_MARK:
	case UL_M_L4PROTO:
	case UL_M_DPORT:
	case UL_S_COUNTER:
	case UL_S_MARK:
	case UL_S_CTMARK:
	case UL_S_MASQUERADE:
	case UL_V_ACCEPT:
	case UL_V_DROP:
	case UL_V_RETURN:
		return 0;
	}
	ul_kerr("nft: chain %s: unknown statement kind %d", ch->name, (int)s->kind);
	return -EINVAL;
}

static int add_stmt(struct nftnl_rule *r, const struct ul_ruleset *rs, const struct ul_stmt *s,
		    uint8_t *l3ctx)
{
	uint8_t fam = 0, b8;
	uint16_t b16;
	uint32_t b32;
	char ifname[IFNAMSIZ];
	int ret;

	if (needs_family(s->kind)) {
		/* the dependency nft adds too: never read IPv4 offsets of an IPv6 packet */
		fam = ul_stmt_family(rs, s);
		if (*l3ctx != fam) {
			b8 = nfproto_of(fam);
			ret = e_meta_load(r, NFT_META_NFPROTO);
			if (!ret)
				ret = e_cmp(r, NFT_CMP_EQ, &b8, 1);
			if (ret)
				return ret;
			*l3ctx = fam;
		}
	}
	switch (s->kind) {
	case UL_M_IIFNAME:
	case UL_M_OIFNAME:
		memset(ifname, 0, sizeof(ifname));
		memcpy(ifname, s->str, strnlen(s->str, IFNAMSIZ - 1));
		ret = e_meta_load(r, s->kind == UL_M_IIFNAME ? NFT_META_IIFNAME : NFT_META_OIFNAME);
		return ret ? ret : e_cmp(r, NFT_CMP_EQ, ifname, IFNAMSIZ);
	case UL_M_IIFNAME_SET:
	case UL_M_OIFNAME_SET:
		ret = e_meta_load(r, s->kind == UL_M_IIFNAME_SET ? NFT_META_IIFNAME :
								   NFT_META_OIFNAME);
		return ret ? ret : e_lookup(r, s->str);
	case UL_M_CT_NEW:
		b32 = 0;
		ret = e_ct_load(r, NFT_CT_STATE);
		if (!ret)
			ret = e_bitwise(r, NF_CT_STATE_BIT(IP_CT_NEW), 0);
		return ret ? ret : e_cmp(r, NFT_CMP_NEQ, &b32, 4);
	case UL_M_CTMARK:
	case UL_M_MARK:
		b32 = s->value & s->mask;
		ret = s->kind == UL_M_CTMARK ? e_ct_load(r, NFT_CT_MARK) :
					       e_meta_load(r, NFT_META_MARK);
		if (!ret)
			ret = e_bitwise(r, s->mask, 0);
		if (!ret && (s->value & ~s->mask)) {
			/* bits outside the mask can never match */
			b32 = ~s->mask;
			ul_kwarn("nft: mark match value 0x%08" PRIx32 " has bits outside mask 0x%08"
				PRIx32, s->value, s->mask);
		}
		return ret ? ret : e_cmp(r, s->neg ? NFT_CMP_NEQ : NFT_CMP_EQ, &b32, 4);
	case UL_M_NFPROTO:
		b8 = nfproto_of(s->family);
		*l3ctx = s->family;
		ret = e_meta_load(r, NFT_META_NFPROTO);
		return ret ? ret : e_cmp(r, NFT_CMP_EQ, &b8, 1);
	case UL_M_L4PROTO:
		ret = e_meta_load(r, NFT_META_L4PROTO);
		return ret ? ret : e_cmp(r, NFT_CMP_EQ, &s->proto, 1);
	case UL_M_SADDR_SET:
	case UL_M_DADDR_SET:
	case UL_M_SADDR_IN_DYN:
		ret = e_addr_payload(r, fam, s->kind != UL_M_DADDR_SET);
		return ret ? ret : e_lookup(r, s->str);
	case UL_M_SPORT_SET:
	case UL_M_DPORT_SET:
		ret = e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, s->kind == UL_M_SPORT_SET ? 0 : 2,
				2);
		return ret ? ret : e_lookup(r, s->str);
	case UL_M_DPORT:
		b16 = htons(s->port);
		ret = e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		return ret ? ret : e_cmp(r, NFT_CMP_EQ, &b16, 2);
	case UL_S_COUNTER:
		return e_simple(r, "counter");
	case UL_S_COUNTER_REF: {
		struct nftnl_expr *e = nftnl_expr_alloc("objref");

		if (!e)
			return -ENOMEM;
		nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
		nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, s->str);
		return add_expr(r, e);
	}
	case UL_S_MARK:
	case UL_S_CTMARK:
		/* (x & ~mask) | value == (x & ~(mask | value)) ^ value */
		ret = s->kind == UL_S_MARK ? e_meta_load(r, NFT_META_MARK) :
					     e_ct_load(r, NFT_CT_MARK);
		if (!ret)
			ret = e_bitwise(r, ~(s->mask | s->value), s->value);
		if (ret)
			return ret;
		return s->kind == UL_S_MARK ? e_meta_set(r, NFT_META_MARK) :
					      e_ct_set(r, NFT_CT_MARK);
	case UL_S_SET_UPDATE: {
		struct nftnl_expr *e;

		ret = e_addr_payload(r, fam, true);
		if (ret)
			return ret;
		e = nftnl_expr_alloc("dynset");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
			nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, s->str);
		}
		return add_expr(r, e);
	}
	case UL_S_MASQUERADE:
		return e_simple(r, "masq");
	case UL_S_DNAT:
	case UL_S_SNAT: {
		struct nftnl_expr *e;

		ret = e_imm_data(r, NFT_REG_1, s->addr.bytes, (uint32_t)ul_addr_len(fam));
		if (ret)
			return ret;
		if (s->port) {
			b16 = htons(s->port);
			ret = e_imm_data(r, NFT_REG_2, &b16, 2);
			if (ret)
				return ret;
		}
		e = nftnl_expr_alloc("nat");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, s->kind == UL_S_DNAT ?
					   NFT_NAT_DNAT : NFT_NAT_SNAT);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nfproto_of(fam));
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
			if (s->port) {
				nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
				nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS,
						   NF_NAT_RANGE_PROTO_SPECIFIED);
			}
		}
		return add_expr(r, e);
	}
	case UL_S_SNAT_PREFIX: {
		/* as nft encodes "snat ip6 prefix to P": the first and last address of P in
		 * two registers, flags NETMAP (the kernel keeps the host bits) */
		struct nftnl_expr *e;
		uint8_t last[16];

		ul_addr_last(&s->addr, last);
		ret = e_imm_data(r, NFT_REG_1, s->addr.bytes, (uint32_t)ul_addr_len(fam));
		if (!ret)
			ret = e_imm_data(r, NFT_REG_2, last, (uint32_t)ul_addr_len(fam));
		if (ret)
			return ret;
		e = nftnl_expr_alloc("nat");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, nfproto_of(fam));
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX, NFT_REG_2);
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, UL_NF_NAT_RANGE_NETMAP);
		}
		return add_expr(r, e);
	}
	case UL_V_ACCEPT:
		return e_verdict(r, NF_ACCEPT, NULL);
	case UL_V_DROP:
		return e_verdict(r, NF_DROP, NULL);
	case UL_V_RETURN:
		return e_verdict(r, NFT_RETURN, NULL);
	case UL_V_JUMP:
		return e_verdict(r, NFT_JUMP, s->str);
	case UL_V_GOTO:
		return e_verdict(r, NFT_GOTO, s->str);
	}
	return -EINVAL;
}

static int build_rule(struct bctx *c, const struct ul_ruleset *rs, const struct ul_chain *ch,
		      const struct ul_nrule *ur)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nftnl_udata_buf *ud = NULL;
	struct nlmsghdr *nlh;
	uint8_t l3ctx = 0;
	int ret = 0;

	if (!r)
		return -ENOMEM;
	if (ur->n > UL_STMT_MAX) {
		ret = -EINVAL;
		goto out;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, UL_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, ch->name);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	for (size_t i = 0; i < ur->n && !ret; i++) {
		ret = check_stmt(rs, ch, &ur->s[i]);
		if (!ret)
			ret = add_stmt(r, rs, &ur->s[i], &l3ctx);
	}
	if (ret)
		goto out;
	if (ur->comment[0]) {
		char cm[UL_NFT_NAME_MAX];

		snprintf(cm, sizeof(cm), "%.*s", (int)sizeof(ur->comment) - 1, ur->comment);
		ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 16);
		if (!ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, cm)) {
			ret = -ENOMEM;
			goto out;
		}
		nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
				    nftnl_udata_buf_len(ud));
	}
	nlh = msg_hdr(c, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	ret = msg_commit(c, nlh);
out:
	nftnl_udata_buf_free(ud);
	nftnl_rule_free(r);
	return ret;
}

static int build_simple(struct bctx *c, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = msg_hdr(c, type, flags);

	if (type == NFT_MSG_DELRULE)
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, UL_NFT_TABLE);
	else
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, UL_NFT_TABLE);
	return msg_commit(c, nlh);
}

static int batch_mark(struct bctx *c, bool begin)
{
	struct nlmsghdr *nlh;

	memset(c->scratch, 0, 64);
	nlh = begin ? nftnl_batch_begin(c->scratch, (*c->seq)++) :
		      nftnl_batch_end(c->scratch, (*c->seq)++);
	return msg_commit(c, nlh);
}

static const struct ul_nft_existing_set *ex_set(const struct ul_nft_existing *ex,
						const char *name)
{
	for (size_t i = 0; ex->table && i < ex->n_sets; i++)
		if (!strcmp(ex->sets[i].name, name))
			return &ex->sets[i];
	return NULL;
}

/* A dynamic set that can be kept as it is (its entries survive). */
static bool keep_dynamic(const struct ul_set *s, const struct ul_nft_existing_set *e)
{
	uint32_t d;

	if (!s->dynamic || !e)
		return false;
	d = e->timeout_ms > s->timeout_ms ? e->timeout_ms - s->timeout_ms :
					    s->timeout_ms - e->timeout_ms;
	/* the kernel keeps timeouts in jiffies: allow for its rounding */
	return e->key_type == key_type(s->key) && e->key_len == ul_set_key_len(s->key) &&
	       e->flags == set_flags(s) && d <= 20;
}

/* An existing chain that must be deleted before the wanted one is (re-)created. */
static bool chain_incompatible(const struct ul_nft_existing *ex, size_t i, const struct ul_chain *w)
{
	const struct ul_nft_existing_chain *e;

	if (!ex->chain_info)
		return false;
	e = &ex->chain_info[i];
	if (w->hook == UL_HOOK_NONE)
		return e->base;
	return !e->base || e->hooknum != (uint32_t)hook_num(w->hook) || e->prio != w->prio ||
	       strcmp(e->type, ul_chain_kind_name(w->kind));
}

static int validate(const struct ul_ruleset *rs)
{
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct ul_set *s = &rs->sets[i];

		if (!s->name[0] || !ul_set_key_len(s->key) || (s->dynamic && s->interval)) {
			ul_kerr("nft: set '%s': bad name, key type or flags", s->name);
			return -EINVAL;
		}
		if (ul_ruleset_find_set(rs, s->name) != s) {
			ul_kerr("nft: set '%s' defined twice", s->name);
			return -EINVAL;
		}
		if (ul_ruleset_find_chain(rs, s->name)) {
			/* allowed by nft, but confusing: refuse */
			ul_kerr("nft: '%s' names both a set and a chain", s->name);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < rs->n_chains; i++) {
		const struct ul_chain *ch = &rs->chains[i];

		if (!ch->name[0] || ul_ruleset_find_chain(rs, ch->name) != ch) {
			ul_kerr("nft: chain '%s': empty or duplicate name", ch->name);
			return -EINVAL;
		}
		if (ch->hook != UL_HOOK_NONE && (hook_num(ch->hook) < 0 || !ul_chain_kind_name(ch->kind))) {
			ul_kerr("nft: chain '%s': bad type or hook", ch->name);
			return -EINVAL;
		}
	}
	return 0;
}

void ul_nft_prev_free(struct ul_nft_prev *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n_sets; i++)
		free(p->sets[i].r);
	free(p->sets);
	memset(p, 0, sizeof(*p));
}

static const struct ul_nft_prev_set *prev_set(const struct ul_nft_prev *p, const char *name)
{
	for (size_t i = 0; p && i < p->n_sets; i++)
		if (!strcmp(p->sets[i].name, name))
			return &p->sets[i];
	return NULL;
}

/* A static set that can be updated in place: the kernel has it with the type it had when
 * this handle filled it. */
static bool keep_static(const struct ul_set *s, const struct ul_nft_existing_set *e,
			const struct ul_nft_prev_set *p)
{
	return !s->dynamic && e && p && e->key_type == key_type(s->key) &&
	       e->key_len == ul_set_key_len(s->key) && e->flags == set_flags(s) &&
	       p->key_type == e->key_type && p->key_len == e->key_len && p->flags == e->flags;
}

int ul_nft_build_batch(const struct ul_ruleset *rs, const struct ul_nft_existing *ex,
		       struct mnl_nlmsg_batch *b, uint32_t *seq)
{
	return ul_nft_build_update(rs, ex, NULL, NULL, b, seq);
}

int ul_nft_build_update(const struct ul_ruleset *rs, const struct ul_nft_existing *ex,
			const struct ul_nft_prev *prev, struct ul_nft_prev *next,
			struct mnl_nlmsg_batch *b, uint32_t *seq)
{
	static const struct ul_nft_existing none;
	struct bctx c = { .b = b, .seq = seq };
	struct ul_nft_prev out = { 0 };
	bool *keep = NULL, *inplace = NULL;
	int ret;

	if (!ex)
		ex = &none;
	ret = validate(rs);
	if (ret)
		return ret;
	c.scratch = malloc(SCRATCH_SIZE);
	keep = calloc(rs->n_sets + 1, sizeof(*keep));
	inplace = calloc(rs->n_sets + 1, sizeof(*inplace));
	out.sets = calloc(rs->n_sets + 1, sizeof(*out.sets));
	if (!c.scratch || !keep || !inplace || !out.sets) {
		ret = -ENOMEM;
		goto out;
	}
	/* the static sets' elements as ranges: what is sent, and what next remembers */
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct ul_set *s = &rs->sets[i];
		struct ul_nft_prev_set *o;

		if (s->dynamic)
			continue;
		o = &out.sets[out.n_sets];
		snprintf(o->name, sizeof(o->name), "%s", s->name);
		o->key_type = key_type(s->key);
		o->key_len = (uint32_t)ul_set_key_len(s->key);
		o->flags = set_flags(s);
		ret = ul_set_ranges(s, &o->r, &o->n);
		if (ret == -EINVAL)
			ul_kerr("nft: set %s: an element does not fit its type", s->name);
		if (ret)
			goto out;
		out.n_sets++;
	}
	ret = batch_mark(&c, true);
	if (!ret)
		ret = build_simple(&c, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	if (!ret && ex->table)
		ret = build_simple(&c, NFT_MSG_DELRULE, 0);
	if (ret)
		goto out;

	/* sets: delete what is not wanted, static ones not updated in place, and dynamic ones
	 * whose spec changed */
	for (size_t i = 0; i < rs->n_sets; i++) {
		const struct ul_nft_existing_set *e = ex_set(ex, rs->sets[i].name);

		inplace[i] = keep_static(&rs->sets[i], e, prev_set(prev, rs->sets[i].name));
		keep[i] = inplace[i] || keep_dynamic(&rs->sets[i], e);
	}
	for (size_t i = 0; ex->table && i < ex->n_sets; i++) {
		const struct ul_set *w = ul_ruleset_find_set(rs, ex->sets[i].name);

		if (w && keep[w - rs->sets])
			continue;
		ret = build_del_set(&c, ex->sets[i].name);
		if (ret)
			goto out;
	}
	/* chains: delete what is not wanted, or base chains whose hook changed */
	for (size_t i = 0; ex->table && i < ex->n_chains; i++) {
		const struct ul_chain *w = ul_ruleset_find_chain(rs, ex->chains[i]);

		if (w && !chain_incompatible(ex, i, w))
			continue;
		ret = build_del_chain_name(&c, ex->chains[i]);
		if (ret)
			goto out;
	}
	/* counters: delete the unwanted ones (no rule uses them any more), add the new */
	for (size_t i = 0; ex->table && i < ex->n_counters; i++) {
		if (ul_ruleset_has_counter(rs, ex->counters[i]))
			continue;
		ret = build_counter(&c, ex->counters[i], true);
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < rs->n_counters; i++) {
		ret = build_counter(&c, rs->counters[i].name, false);
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < rs->n_chains; i++) {
		ret = build_chain(&c, &rs->chains[i]);
		if (ret)
			goto out;
	}
	for (size_t i = 0, k = 0; i < rs->n_sets; i++) {
		const struct ul_set *s = &rs->sets[i];
		const struct ul_nft_prev_set *o = s->dynamic ? NULL : &out.sets[k++];

		if (inplace[i]) {
			ret = update_elems(&c, s, prev_set(prev, s->name), o->r, o->n, &out.added,
					   &out.deleted);
			out.updated++;
		} else if (keep[i]) {
			ret = s->flush ? build_flush_set(&c, s->name) : 0;
		} else {
			ret = build_set(&c, s, (uint32_t)i + 1, o ? o->r : NULL, o ? o->n : 0);
			out.created++;
			if (o)
				out.added += o->n;
		}
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < rs->n_chains; i++) {
		const struct ul_chain *ch = &rs->chains[i];

		for (size_t j = 0; j < ch->n_rules; j++) {
			ret = build_rule(&c, rs, ch, &ch->rules[j]);
			if (ret) {
				if (ret == -EINVAL)
					ul_kerr("nft: chain %s: rule %zu refused", ch->name, j + 1);
				goto out;
			}
		}
	}
	ret = batch_mark(&c, false);
out:
	if (!ret && next) {
		ul_nft_prev_free(next);
		*next = out;
	} else {
		ul_nft_prev_free(&out);
	}
	free(inplace);
	free(keep);
	free(c.scratch);
	return ret;
}

int ul_nft_build_remove(const struct ul_nft_existing *ex, struct mnl_nlmsg_batch *b,
			uint32_t *seq)
{
	struct bctx c = { .b = b, .seq = seq };
	int ret;

	if (!ex || !ex->table)
		return 0;
	c.scratch = malloc(SCRATCH_SIZE);
	if (!c.scratch)
		return -ENOMEM;
	ret = batch_mark(&c, true);
	if (!ret)
		ret = build_simple(&c, NFT_MSG_DELTABLE, 0);
	if (!ret)
		ret = batch_mark(&c, false);
	free(c.scratch);
	return ret;
}

void ul_nft_existing_free(struct ul_nft_existing *ex)
{
	if (!ex)
		return;
	free(ex->chains);
	free(ex->chain_info);
	free(ex->sets);
	free(ex->counters);
	memset(ex, 0, sizeof(*ex));
}

/* ------------------------------------------------------------------------------------------ */
/* The socket */

struct ul_nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	struct ul_nft_prev prev;        /* the static sets as last committed */
	bool have_prev;
	size_t last_added, last_deleted, last_updated, last_created;
	unsigned long commits;          /* transactions this handle had committed */
};

int ul_nft_open(struct ul_nft **out)
{
	struct ul_nft *h = calloc(1, sizeof(*h));
	int one = 1, ret;

	*out = NULL;
	if (!h)
		return -ENOMEM;
	h->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!h->nl) {
		ret = -errno;
		goto err;
	}
	if (mnl_socket_bind(h->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err;
	}
	/* short acks, with the kernel's error text when it has one */
	mnl_socket_setsockopt(h->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(h->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	h->portid = mnl_socket_get_portid(h->nl);
	h->seq = (uint32_t)time(NULL);
	*out = h;
	return 0;
err:
	ul_kerr("nft: netlink socket: %s", strerror(-ret));
	if (h->nl)
		mnl_socket_close(h->nl);
	free(h);
	return ret;
}

uint32_t ul_nft_portid(const struct ul_nft *h)
{
	return h ? h->portid : 0;
}

void ul_nft_close(struct ul_nft *h)
{
	if (!h)
		return;
	ul_nft_prev_free(&h->prev);
	mnl_socket_close(h->nl);
	free(h);
}

void ul_nft_forget(struct ul_nft *h)
{
	ul_nft_prev_free(&h->prev);
	h->have_prev = false;
}

void ul_nft_last_stats(const struct ul_nft *h, size_t *added, size_t *deleted, size_t *updated,
		       size_t *created)
{
	*added = h->last_added;
	*deleted = h->last_deleted;
	*updated = h->last_updated;
	*created = h->last_created;
}

unsigned long ul_nft_commits(const struct ul_nft *h)
{
	return h ? h->commits : 0;
}

/* One request, then its replies through cb until the end of the dump or the ack. */
static int request(struct ul_nft *h, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char *buf;
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	buf = malloc(MNL_SOCKET_DUMP_SIZE);
	if (!buf)
		return -ENOMEM;
	/* late answers to an earlier request must not be taken for this one's */
	while (recv(mnl_socket_get_fd(h->nl), buf, MNL_SOCKET_DUMP_SIZE, MSG_DONTWAIT) > 0)
		;
	if (mnl_socket_sendto(h->nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		free(buf);
		return ret;
	}
	for (;;) {
		n = mnl_socket_recvfrom(h->nl, buf, MNL_SOCKET_DUMP_SIZE);
		if (n < 0) {
			ret = -errno;
			break;
		}
		ret = mnl_cb_run(buf, whole_msgs(buf, (size_t)n), seq, h->portid, cb, data);
		if (ret < 0) {
			ret = errno ? -errno : -EIO;
			break;
		}
		if (ret == MNL_CB_STOP) {
			ret = 0;
			break;
		}
	}
	free(buf);
	return ret;
}

/* The dump answers are read with libmnl, each attribute checked for its type before use:
 * libnftnl's *_nlmsg_parse abort the process ("kernel ABI is broken") on an attribute of
 * an unexpected size, and uplinkd reads only a few fields anyway. A message that cannot be
 * read is skipped. */
struct nft_attrs {
	const struct nlattr *tb[32];
	unsigned max;
};

static int nft_attr_cb(const struct nlattr *a, void *data)
{
	struct nft_attrs *t = data;
	unsigned type = mnl_attr_get_type(a);

	if (type <= t->max && type < sizeof(t->tb) / sizeof(t->tb[0]))
		t->tb[type] = a;
	return MNL_CB_OK;
}

/* The attributes of an nf_tables message; its family in *family. -1 if unreadable. */
static int nft_parse(const struct nlmsghdr *nlh, unsigned max, struct nft_attrs *t,
		     uint8_t *family)
{
	const struct nfgenmsg *g;

	memset(t, 0, sizeof(*t));
	t->max = max;
	if (nlh->nlmsg_len < NLMSG_HDRLEN + MNL_ALIGN(sizeof(*g)))
		return -1;
	g = mnl_nlmsg_get_payload(nlh);
	*family = g->nfgen_family;
	return mnl_attr_parse(nlh, sizeof(*g), nft_attr_cb, t) < 0 ? -1 : 0;
}

static int nested_attrs(const struct nlattr *nest, unsigned max, struct nft_attrs *t)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
	return mnl_attr_parse_nested(nest, nft_attr_cb, t) < 0 ? -1 : 0;
}

static const char *attr_strz(const struct nlattr *a)
{
	return a && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING) ? mnl_attr_get_str(a) : NULL;
}

static bool attr_be32(const struct nlattr *a, uint32_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U32))
		return false;
	*v = ntohl(mnl_attr_get_u32(a));
	return true;
}

static bool attr_be64(const struct nlattr *a, uint64_t *v)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U64))
		return false;
	*v = be64toh(mnl_attr_get_u64(a));
	return true;
}

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_attrs t;
	bool *found = data;
	const char *name;
	uint8_t family;

	if (nft_parse(nlh, NFTA_TABLE_MAX, &t, &family))
		return MNL_CB_OK;
	name = attr_strz(t.tb[NFTA_TABLE_NAME]);
	if (name && !strcmp(name, UL_NFT_TABLE) && family == NFPROTO_INET)
		*found = true;
	return MNL_CB_OK;
}

static bool name_ok(const char *name, const char *what)
{
	if (!name || !name[0] || strlen(name) >= UL_NFT_NAME_MAX) {
		ul_kwarn("nft: ignoring a %s with an unusable name in table %s", what, UL_NFT_TABLE);
		return false;
	}
	return true;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ul_nft_existing *ex = data;
	struct ul_nft_existing_chain *ci;
	const char *name, *table, *type;
	char (*names)[UL_NFT_NAME_MAX];
	struct nft_attrs t, h;
	uint32_t hooknum = 0, prio = 0;
	bool base = false;
	uint8_t family;

	if (nft_parse(nlh, NFTA_CHAIN_MAX, &t, &family))
		return MNL_CB_OK;       /* not a chain we can read: skip it */
	name = attr_strz(t.tb[NFTA_CHAIN_NAME]);
	table = attr_strz(t.tb[NFTA_CHAIN_TABLE]);
	if (!table || strcmp(table, UL_NFT_TABLE) || family != NFPROTO_INET ||
	    !name_ok(name, "chain"))
		return MNL_CB_OK;
	if (t.tb[NFTA_CHAIN_HOOK] && !mnl_attr_validate(t.tb[NFTA_CHAIN_HOOK], MNL_TYPE_NESTED) &&
	    !nested_attrs(t.tb[NFTA_CHAIN_HOOK], NFTA_HOOK_MAX, &h) &&
	    attr_be32(h.tb[NFTA_HOOK_HOOKNUM], &hooknum)) {
		base = true;
		attr_be32(h.tb[NFTA_HOOK_PRIORITY], &prio);
	}
	type = attr_strz(t.tb[NFTA_CHAIN_TYPE]);
	names = realloc(ex->chains, (ex->n_chains + 1) * sizeof(*names));
	if (!names)
		goto oom;
	ex->chains = names;
	ci = realloc(ex->chain_info, (ex->n_chains + 1) * sizeof(*ci));
	if (!ci)
		goto oom;
	ex->chain_info = ci;
	ci = &ex->chain_info[ex->n_chains];
	memset(ci, 0, sizeof(*ci));
	snprintf(ex->chains[ex->n_chains], UL_NFT_NAME_MAX, "%s", name);
	if (base) {
		ci->base = true;
		ci->hooknum = hooknum;
		ci->prio = (int32_t)prio;
		snprintf(ci->type, sizeof(ci->type), "%s", type ? type : "");
	}
	ex->n_chains++;
	return MNL_CB_OK;
oom:
	errno = ENOMEM;
	return MNL_CB_ERROR;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ul_nft_existing *ex = data;
	struct ul_nft_existing_set *es;
	const char *name, *table;
	struct nft_attrs t;
	uint64_t to = 0;
	uint8_t family;

	if (nft_parse(nlh, NFTA_SET_MAX, &t, &family))
		return MNL_CB_OK;
	name = attr_strz(t.tb[NFTA_SET_NAME]);
	table = attr_strz(t.tb[NFTA_SET_TABLE]);
	if (!table || strcmp(table, UL_NFT_TABLE) || family != NFPROTO_INET ||
	    !name_ok(name, "set"))
		return MNL_CB_OK;
	es = realloc(ex->sets, (ex->n_sets + 1) * sizeof(*es));
	if (!es) {
		errno = ENOMEM;
		return MNL_CB_ERROR;
	}
	ex->sets = es;
	es = &ex->sets[ex->n_sets++];
	memset(es, 0, sizeof(*es));
	snprintf(es->name, sizeof(es->name), "%s", name);
	attr_be32(t.tb[NFTA_SET_KEY_TYPE], &es->key_type);
	attr_be32(t.tb[NFTA_SET_KEY_LEN], &es->key_len);
	attr_be32(t.tb[NFTA_SET_FLAGS], &es->flags);
	attr_be64(t.tb[NFTA_SET_TIMEOUT], &to);
	es->timeout_ms = to > UINT32_MAX ? UINT32_MAX : (uint32_t)to;
	return MNL_CB_OK;
}

int ul_nft_parse_dump(const void *buf, size_t len, enum ul_nft_dump_kind kind,
		      struct ul_nft_existing *ex)
{
	static const mnl_cb_t cbs[] = { table_cb, chain_cb, set_cb };
	void *data = kind == UL_NFT_DUMP_TABLE ? (void *)&ex->table : (void *)ex;

	if ((unsigned)kind >= sizeof(cbs) / sizeof(cbs[0]))
		return -EINVAL;
	return mnl_cb_run(buf, whole_msgs(buf, len), 0, 0, cbs[kind], data);
}

struct ctr_dump {
	struct ul_nft_counter *v;
	size_t n;
};

static int obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctr_dump *cd = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct ul_nft_counter *v;
	const char *name, *table;
	int ret = MNL_CB_OK;

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0)
		goto out;
	name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME);
	table = nftnl_obj_get_str(o, NFTNL_OBJ_TABLE);
	if (!table || strcmp(table, UL_NFT_TABLE) ||
	    nftnl_obj_get_u32(o, NFTNL_OBJ_FAMILY) != NFPROTO_INET ||
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) != NFT_OBJECT_COUNTER || !name_ok(name, "counter"))
		goto out;
	v = realloc(cd->v, (cd->n + 1) * sizeof(*v));
	if (!v) {
		ret = MNL_CB_ERROR;
		errno = ENOMEM;
		goto out;
	}
	cd->v = v;
	v = &cd->v[cd->n++];
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->packets = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
	v->bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
out:
	nftnl_obj_free(o);
	return ret;
}

static int dump_counters(struct ul_nft *h, struct ctr_dump *cd)
{
	char buf[512];
	struct nlmsghdr *nlh;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o)
		return -ENOMEM;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET, NLM_F_DUMP, ++h->seq);
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, UL_NFT_TABLE);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	return request(h, nlh, obj_cb, cd);
}

int ul_nft_read_counters(struct ul_nft *h, struct ul_nft_counter **out, size_t *n)
{
	struct ctr_dump cd = { 0 };
	int ret = dump_counters(h, &cd);

	*out = NULL;
	*n = 0;
	if (ret == -ENOENT)
		ret = 0;
	if (ret) {
		free(cd.v);
		return ret;
	}
	*out = cd.v;
	*n = cd.n;
	return 0;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nft_attrs t;
	uint8_t family;
	uint32_t *gen = data;

	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWGEN ||
	    nft_parse(nlh, NFTA_GEN_MAX, &t, &family))
		return MNL_CB_OK;
	if (!attr_be32(t.tb[NFTA_GEN_ID], gen))
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

int ul_nft_genid(struct ul_nft *h, uint32_t *gen)
{
	char buf[128];
	struct nlmsghdr *nlh;
	uint32_t v = 0;
	int ret;

	/* the answer is one NEWGEN message, then the ack */
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, ++h->seq);
	ret = request(h, nlh, gen_cb, &v);
	if (!ret)
		*gen = v;
	return ret;
}

int ul_nft_dump_existing(struct ul_nft *h, struct ul_nft_existing *ex)
{
	char buf[512];
	struct nlmsghdr *nlh;
	int ret;

	memset(ex, 0, sizeof(*ex));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK, ++h->seq);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, UL_NFT_TABLE);
	ret = request(h, nlh, table_cb, &ex->table);
	if (ret == -ENOENT)
		return 0;
	if (ret)
		goto err;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET, NLM_F_DUMP, ++h->seq);
	mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, UL_NFT_TABLE);
	ret = request(h, nlh, chain_cb, ex);
	if (ret && ret != -ENOENT)
		goto err;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_DUMP, ++h->seq);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, UL_NFT_TABLE);
	ret = request(h, nlh, set_cb, ex);
	if (ret && ret != -ENOENT)
		goto err;

	{
		struct ctr_dump cd = { 0 };

		ret = dump_counters(h, &cd);
		if (ret && ret != -ENOENT) {
			free(cd.v);
			goto err;
		}
		ex->counters = calloc(cd.n ? cd.n : 1, sizeof(*ex->counters));
		if (!ex->counters) {
			free(cd.v);
			ret = -ENOMEM;
			goto err;
		}
		for (size_t i = 0; i < cd.n; i++)
			snprintf(ex->counters[i], UL_NFT_NAME_MAX, "%s", cd.v[i].name);
		ex->n_counters = cd.n;
		free(cd.v);
	}
	return 0;
err:
	ul_kerr("nft: reading table inet %s: %s", UL_NFT_TABLE, strerror(-ret));
	ul_nft_existing_free(ex);
	return ret;
}

/* --- sending a batch --- */

static const char *msg_name(uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWTABLE:
		return "add table";
	case NFT_MSG_DELTABLE:
		return "delete table";
	case NFT_MSG_NEWCHAIN:
		return "add chain";
	case NFT_MSG_DELCHAIN:
		return "delete chain";
	case NFT_MSG_NEWRULE:
		return "add rule";
	case NFT_MSG_DELRULE:
		return "flush rules";
	case NFT_MSG_NEWSET:
		return "add set";
	case NFT_MSG_DELSET:
		return "delete set";
	case NFT_MSG_NEWSETELEM:
		return "add elements to set";
	case NFT_MSG_DELSETELEM:
		return "flush set";
	}
	return "message";
}

/* A top-level string attribute of a message of the batch, or NULL. */
static const char *attr_str(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		return NULL;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			return mnl_attr_get_str(a);
	return NULL;
}

static const char *msg_object(const struct nlmsghdr *nlh, uint16_t type)
{
	switch (type) {
	case NFT_MSG_NEWRULE:
		return attr_str(nlh, NFTA_RULE_CHAIN);
	case NFT_MSG_NEWCHAIN:
	case NFT_MSG_DELCHAIN:
		return attr_str(nlh, NFTA_CHAIN_NAME);
	case NFT_MSG_NEWSET:
	case NFT_MSG_DELSET:
		return attr_str(nlh, NFTA_SET_NAME);
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		return attr_str(nlh, NFTA_SET_ELEM_LIST_SET);
	}
	return NULL;
}

/* "add rule #3 to chain pre", "add set lan_ifs", ... for the batch message with this seq. */
void ul_nft_describe(const void *batch, size_t len, uint32_t seq, char *out, size_t outlen)
{
	const struct nlmsghdr *nlh = batch, *target = NULL;
	const char *name = NULL, *chain;
	uint16_t type = 0;
	unsigned nrule = 0;
	size_t rem = len;

	snprintf(out, outlen, "batch message %" PRIu32, seq);
	for (; msg_ok(nlh, rem); nlh = msg_next(nlh, &rem))
		if (nlh->nlmsg_seq == seq &&
		    NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES) {
			target = nlh;
			type = NFNL_MSG_TYPE(nlh->nlmsg_type);
			name = msg_object(nlh, type);
			break;
		}
	if (!target)
		return;
	if (type != NFT_MSG_NEWRULE || !name) {
		snprintf(out, outlen, "%s%s%s", msg_name(type), name ? " " : "", name ? name : "");
		return;
	}
	rem = len;
	for (nlh = batch; msg_ok(nlh, rem) && nlh != target; nlh = msg_next(nlh, &rem))
		if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES &&
		    NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE &&
		    (chain = attr_str(nlh, NFTA_RULE_CHAIN)) && !strcmp(chain, name))
			nrule++;
	snprintf(out, outlen, "add rule #%u to chain %s", nrule + 1, name);
}

static int ext_ack_cb(const struct nlattr *a, void *data)
{
	struct ul_nft_acks *k = data;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(k->msg, sizeof(k->msg), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

void ul_nft_parse_acks(const void *buf, size_t len, struct ul_nft_acks *k)
{
	const struct nlmsghdr *nlh = (const void *)buf;
	size_t rem = len;

	for (; msg_ok(nlh, rem); nlh = msg_next(nlh, &rem)) {
		const struct nlmsgerr *e;
		size_t off;

		if (nlh->nlmsg_type != NLMSG_ERROR)
			continue;
		if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
			continue;
		e = mnl_nlmsg_get_payload(nlh);
		k->n++;
		if (!e->error || k->err)
			continue;
		k->err = e->error;
		k->err_seq = e->msg.nlmsg_seq;
		if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
			continue;
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
			/* the request is echoed whole: its length must make sense */
			if (e->msg.nlmsg_len < sizeof(struct nlmsghdr) ||
			    e->msg.nlmsg_len > nlh->nlmsg_len)
				continue;
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		}
		if (off <= nlh->nlmsg_len - NLMSG_HDRLEN)
			mnl_attr_parse(nlh, (unsigned)off, ext_ack_cb, k);
	}
}

static void grow_sockbuf(struct ul_nft *h, int opt_force, int opt, size_t want)
{
	int fd = mnl_socket_get_fd(h->nl), v = want > INT32_MAX / 2 ? INT32_MAX / 2 : (int)want;

	if (setsockopt(fd, SOL_SOCKET, opt_force, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* Send one batch, read an ack for each of its n_acked messages. */
static int send_batch(struct ul_nft *h, struct mnl_nlmsg_batch *b, size_t n_acked)
{
	const void *head = mnl_nlmsg_batch_head(b);
	size_t len = mnl_nlmsg_batch_size(b);
	struct ul_nft_acks k = { 0 };
	char *buf = NULL, what[160];
	int fd = mnl_socket_get_fd(h->nl), ret = 0;

	grow_sockbuf(h, SO_SNDBUFFORCE, SO_SNDBUF, len + 65536);
	/* every ack is a small skb, but the kernel counts its whole truesize */
	grow_sockbuf(h, SO_RCVBUFFORCE, SO_RCVBUF, n_acked * 1024 + 65536);
	if (mnl_socket_sendto(h->nl, head, len) < 0) {
		ret = -errno;
		ul_kerr("nft: sending the transaction (%zu bytes): %s", len, strerror(-ret));
		return ret;
	}
	buf = malloc(MNL_SOCKET_DUMP_SIZE);
	if (!buf)
		return -ENOMEM;
	while (k.n < n_acked) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n = recv(fd, buf, MNL_SOCKET_DUMP_SIZE, MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* the kernel answers before sendmsg returns; wait a little anyway */
			n = poll(&p, 1, 2000);
			if (n == 0) {
				ret = k.err ? k.err : -ETIMEDOUT;
				break;
			}
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		ul_nft_parse_acks(buf, (size_t)n, &k);
	}
	/* anything left (a commit failure is acked on the batch header) */
	for (;;) {
		ssize_t n = recv(fd, buf, MNL_SOCKET_DUMP_SIZE, MSG_DONTWAIT);

		if (n <= 0)
			break;
		ul_nft_parse_acks(buf, (size_t)n, &k);
	}
	if (k.err) {
		ul_nft_describe(head, len, k.err_seq, what, sizeof(what));
		ul_kerr("nft: transaction refused at %s: %s%s%s", what, strerror(-k.err),
		       k.msg[0] ? ": " : "", k.msg);
		ret = k.err;
	} else if (ret) {
		ul_kerr("nft: reading the answers to the transaction: %s", strerror(-ret));
	}
	free(buf);
	return ret;
}

static size_t count_acked(struct mnl_nlmsg_batch *b)
{
	const struct nlmsghdr *nlh = mnl_nlmsg_batch_head(b);
	int rem = (int)mnl_nlmsg_batch_size(b);
	size_t n = 0;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem))
		if (nlh->nlmsg_flags & NLM_F_ACK)
			n++;
	return n;
}

static size_t estimate(const struct ul_ruleset *rs)
{
	size_t n = 64 * 1024;

	for (size_t i = 0; i < rs->n_sets; i++)
		n += 512 + rs->sets[i].n_elems * 2 * 64;
	for (size_t i = 0; i < rs->n_chains; i++)
		n += 512 + rs->chains[i].n_rules * 2048;
	return n;
}

struct build_args {
	const struct ul_ruleset *rs;
	const struct ul_nft_existing *ex;
	const struct ul_nft_prev *prev;
	struct ul_nft_prev *next;
};
typedef int (*build_fn)(const struct build_args *a, struct mnl_nlmsg_batch *b, uint32_t *seq);

static int build_remove_fn(const struct build_args *a, struct mnl_nlmsg_batch *b, uint32_t *seq)
{
	return ul_nft_build_remove(a->ex, b, seq);
}

static int build_update_fn(const struct build_args *a, struct mnl_nlmsg_batch *b, uint32_t *seq)
{
	return ul_nft_build_update(a->rs, a->ex, a->prev, a->next, b, seq);
}

static int build_and_send(struct ul_nft *h, const struct build_args *args, build_fn fn,
			  size_t limit)
{
	struct mnl_nlmsg_batch *b = NULL;
	char *buf = NULL;
	int ret;

	for (;;) {
		uint32_t seq = h->seq + 1;

		buf = malloc(limit + UL_NFT_MSG_MAX);
		b = buf ? mnl_nlmsg_batch_start(buf, limit) : NULL;
		if (!b) {
			ret = -ENOMEM;
			break;
		}
		ret = fn(args, b, &seq);
		h->seq = seq;
		if (ret != -ENOSPC || limit > (SIZE_MAX / 4))
			break;
		mnl_nlmsg_batch_stop(b);
		free(buf);
		b = NULL;
		buf = NULL;
		limit *= 2;
	}
	if (!ret && mnl_nlmsg_batch_size(b)) {
		struct timespec t0, t1;

		/* the kernel's part: it checks and commits the transaction within sendmsg */
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = send_batch(h, b, count_acked(b));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (!ret) {
			h->commits++;
			ul_kdebug("nft: %zu messages (%zu bytes) applied in %.1f ms", count_acked(b),
				  mnl_nlmsg_batch_size(b),
				  (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
					  (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
		}
	}
	if (b)
		mnl_nlmsg_batch_stop(b);
	free(buf);
	return ret;
}

/* The batch estimate of an update: sets updated in place cost little. */
static size_t estimate_update(const struct ul_ruleset *rs, const struct ul_nft_prev *prev)
{
	size_t n = 64 * 1024;

	for (size_t i = 0; i < rs->n_sets; i++)
		n += 512 + (prev_set(prev, rs->sets[i].name) ? 64 : rs->sets[i].n_elems * 2 * 64);
	for (size_t i = 0; i < rs->n_chains; i++)
		n += 512 + rs->chains[i].n_rules * 2048;
	return n;
}

int ul_nft_apply(struct ul_nft *h, const struct ul_ruleset *rs)
{
	struct ul_nft_prev next = { 0 };
	struct build_args a = { .rs = rs, .next = &next };
	struct ul_nft_existing ex;
	int ret;

	ret = ul_nft_dump_existing(h, &ex);
	if (ret)
		return ret;
	a.ex = &ex;
	a.prev = h->have_prev ? &h->prev : NULL;
	ret = build_and_send(h, &a, build_update_fn, a.prev ? estimate_update(rs, a.prev) :
								  estimate(rs));
	if (ret && a.prev && next.updated) {
		/* the sets were not as this handle left them: fill them anew */
		ul_kwarn("nft: updating the sets in place was refused (changed outside uplinkd?); "
			"filling them anew");
		ul_nft_prev_free(&next);
		ul_nft_forget(h);
		a.prev = NULL;
		ret = build_and_send(h, &a, build_update_fn, estimate(rs));
	}
	if (!ret) {
		h->last_added = next.added;
		h->last_deleted = next.deleted;
		h->last_updated = next.updated;
		h->last_created = next.created;
		ul_nft_prev_free(&h->prev);
		h->prev = next;
		h->have_prev = true;
	} else {
		ul_nft_prev_free(&next);
		ul_nft_forget(h);
	}
	ul_nft_existing_free(&ex);
	return ret;
}

int ul_nft_remove(struct ul_nft *h)
{
	struct ul_nft_existing ex;
	int ret;

	ret = ul_nft_dump_existing(h, &ex);
	if (ret)
		return ret;
	{
		struct build_args a = { .ex = &ex };

		ret = build_and_send(h, &a, build_remove_fn, 16 * 1024);
	}
	ul_nft_forget(h);
	ul_nft_existing_free(&ex);
	return ret;
}
