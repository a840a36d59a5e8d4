// SPDX-License-Identifier: GPL-2.0-or-later
/* nft.c, pure part: the batch is built into a buffer, walked and parsed back. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "klog.h"
#include "log.h"
#include "nft.h"
#include "tk.h"

#define BATCH_LIMIT (4u << 20)

static char *batch_buf;

struct elem {
	uint8_t key[16];
	uint32_t len, flags;
	bool has_udata;
};

struct msg {
	uint16_t type;          /* NFT_MSG_* or NFNL_MSG_BATCH_BEGIN/END */
	uint16_t flags;
	uint32_t seq;
	const struct nlmsghdr *nlh;
	char name[UL_NFT_NAME_MAX];     /* table/chain/set name, rule: its chain */
};

struct built {
	struct msg *m;
	size_t n;
	size_t bytes;
	struct mnl_nlmsg_batch *b;
};

static void built_free(struct built *bt)
{
	free(bt->m);
	if (bt->b)
		mnl_nlmsg_batch_stop(bt->b);
	memset(bt, 0, sizeof(*bt));
}

/* libnftnl reads the object's message as nft would (a round trip without a kernel) */
#define PARSES(obj)                                                                     \
	static int parses_##obj(const struct nlmsghdr *nlh)                             \
	{                                                                               \
		struct nftnl_##obj *o = nftnl_##obj##_alloc();                          \
		int ret = o ? nftnl_##obj##_nlmsg_parse(nlh, o) : -ENOMEM;              \
									                \
		nftnl_##obj##_free(o);                                                  \
		return ret;                                                             \
	}
PARSES(table)
PARSES(chain)
PARSES(set)
PARSES(rule)

/* The attribute that names each message's object: the table, the chain, the set, the set
 * of an element list, the chain of a rule (a DELRULE that flushes the table names none);
 * and libnftnl's parser of the object (element lists: none). */
static const struct {
	uint16_t type, attr;
	int (*parses)(const struct nlmsghdr *nlh);
} name_attrs[] = {
	{ NFT_MSG_NEWTABLE, NFTA_TABLE_NAME, parses_table },
	{ NFT_MSG_DELTABLE, NFTA_TABLE_NAME, parses_table },
	{ NFT_MSG_NEWCHAIN, NFTA_CHAIN_NAME, parses_chain },
	{ NFT_MSG_DELCHAIN, NFTA_CHAIN_NAME, parses_chain },
	{ NFT_MSG_NEWSET, NFTA_SET_NAME, parses_set },
	{ NFT_MSG_DELSET, NFTA_SET_NAME, parses_set },
	{ NFT_MSG_NEWSETELEM, NFTA_SET_ELEM_LIST_SET, NULL },
	{ NFT_MSG_DELSETELEM, NFTA_SET_ELEM_LIST_SET, NULL },
	{ NFT_MSG_NEWRULE, NFTA_RULE_CHAIN, parses_rule },
};

static int attr_ok(const struct nlattr *a, void *data)
{
	return MNL_CB_OK;
}

/* The message's attributes are well-formed (each within the message), libnftnl parses it,
 * and its name, read from the attribute, is a NUL-terminated string. */
static void msg_name(struct msg *m)
{
	const struct nlattr *a;

	assert_true(mnl_attr_parse(m->nlh, sizeof(struct nfgenmsg), attr_ok, NULL) >= 0);
	for (size_t i = 0; i < sizeof(name_attrs) / sizeof(name_attrs[0]); i++) {
		if (name_attrs[i].type != m->type)
			continue;
		if (name_attrs[i].parses)
			assert_int_equal(name_attrs[i].parses(m->nlh), 0);
		mnl_attr_for_each(a, m->nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) != name_attrs[i].attr)
				continue;
			assert_int_equal(mnl_attr_validate(a, MNL_TYPE_NUL_STRING), 0);
			snprintf(m->name, sizeof(m->name), "%s", mnl_attr_get_str(a));
		}
	}
}

static int build(const struct ul_ruleset *rs, const struct ul_nft_existing *ex, uint32_t limit,
		 struct built *bt)
{
	const struct nlmsghdr *nlh;
	uint32_t seq = 100;
	int rem, ret;

	memset(bt, 0, sizeof(*bt));
	bt->b = mnl_nlmsg_batch_start(batch_buf, limit);
	assert_non_null(bt->b);
	ret = ul_nft_build_batch(rs, ex, bt->b, &seq);
	if (ret)
		return ret;
	nlh = mnl_nlmsg_batch_head(bt->b);
	rem = (int)mnl_nlmsg_batch_size(bt->b);
	bt->bytes = (size_t)rem;
	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		struct msg *m;

		bt->m = realloc(bt->m, (bt->n + 1) * sizeof(*bt->m));
		assert_non_null(bt->m);
		m = &bt->m[bt->n++];
		memset(m, 0, sizeof(*m));
		m->nlh = nlh;
		m->flags = nlh->nlmsg_flags;
		m->seq = nlh->nlmsg_seq;
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
		    nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
			m->type = nlh->nlmsg_type;
		} else {
			assert_int_equal(NFNL_SUBSYS_ID(nlh->nlmsg_type), NFNL_SUBSYS_NFTABLES);
			m->type = NFNL_MSG_TYPE(nlh->nlmsg_type);
			/* every message is acked, in family inet, and small */
			assert_true(m->flags & NLM_F_ACK);
			assert_int_equal(((const struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))
						 ->nfgen_family, NFPROTO_INET);
			assert_true(nlh->nlmsg_len <= (uint32_t)UL_NFT_MSG_MAX);
			msg_name(m);
		}
		assert_int_equal(m->seq, 100 + bt->n - 1);
	}
	assert_int_equal(rem, 0);
	assert_int_equal(seq, 100 + bt->n);
	return 0;
}

/* Compact "TYPE:name" list of the batch, e.g. "B NT DR DS:x NC:pre ... E". */
static char *sequence(const struct built *bt)
{
	static char s[16384];
	size_t off = 0;

	s[0] = '\0';
	for (size_t i = 0; i < bt->n; i++) {
		const struct msg *m = &bt->m[i];
		const char *t;

		switch (m->type) {
		case NFNL_MSG_BATCH_BEGIN:
			t = "B";
			break;
		case NFNL_MSG_BATCH_END:
			t = "E";
			break;
		case NFT_MSG_NEWTABLE:
			t = "NT";
			break;
		case NFT_MSG_DELTABLE:
			t = "DT";
			break;
		case NFT_MSG_DELRULE:
			t = "DR";
			break;
		case NFT_MSG_NEWRULE:
			t = "NR";
			break;
		case NFT_MSG_NEWCHAIN:
			t = "NC";
			break;
		case NFT_MSG_DELCHAIN:
			t = "DC";
			break;
		case NFT_MSG_NEWSET:
			t = "NS";
			break;
		case NFT_MSG_DELSET:
			t = "DS";
			break;
		case NFT_MSG_NEWSETELEM:
			t = "NE";
			break;
		case NFT_MSG_DELSETELEM:
			t = "FE";
			break;
		default:
			t = "?";
		}
		off += (size_t)snprintf(s + off, sizeof(s) - off, "%s%s%s%s", i ? " " : "", t,
					m->name[0] && m->type != NFT_MSG_NEWTABLE &&
					m->type != NFT_MSG_DELTABLE ? ":" : "",
					m->type != NFT_MSG_NEWTABLE && m->type != NFT_MSG_DELTABLE ?
					m->name : "");
		assert_true(off < sizeof(s));
	}
	return s;
}

static const struct msg *find(const struct built *bt, uint16_t type, const char *name)
{
	for (size_t i = 0; i < bt->n; i++)
		if (bt->m[i].type == type && (!name || !strcmp(bt->m[i].name, name)))
			return &bt->m[i];
	return NULL;
}

/* The elements of a NEWSETELEM message, read straight from the attributes. */
static size_t parse_elems(const struct nlmsghdr *nlh, struct elem *out, size_t max)
{
	const struct nlattr *a, *e, *x, *d;
	size_t n = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a) {
			struct elem *el = &out[n];

			assert_true(n < max);
			memset(el, 0, sizeof(*el));
			mnl_attr_for_each_nested(x, e) {
				switch (mnl_attr_get_type(x)) {
				case NFTA_SET_ELEM_KEY:
					mnl_attr_for_each_nested(d, x) {
						assert_int_equal(mnl_attr_get_type(d),
								 NFTA_DATA_VALUE);
						el->len = mnl_attr_get_payload_len(d);
						assert_true(el->len <= 16);
						memcpy(el->key, mnl_attr_get_payload(d), el->len);
					}
					break;
				case NFTA_SET_ELEM_FLAGS:
					el->flags = ntohl(mnl_attr_get_u32(x));
					break;
				case NFTA_SET_ELEM_USERDATA:
					el->has_udata = true;
					break;
				}
			}
			n++;
		}
	}
	return n;
}

static size_t all_elems(const struct built *bt, const char *set, struct elem *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < bt->n; i++)
		if (bt->m[i].type == NFT_MSG_NEWSETELEM && !strcmp(bt->m[i].name, set))
			n += parse_elems(bt->m[i].nlh, out + n, max - n);
	return n;
}

/* libnftnl's own listing of a rule's expressions (what `nft --debug=netlink` shows). */
static char *rule_text(const struct msg *m, char *comment, size_t clen)
{
	static char s[8192];
	struct nftnl_rule *r = nftnl_rule_alloc();
	const struct nftnl_udata *ud;
	uint32_t len = 0;
	const void *data;

	assert_int_equal(nftnl_rule_nlmsg_parse(m->nlh, r), 0);
	nftnl_rule_snprintf(s, sizeof(s), r, NFTNL_OUTPUT_DEFAULT, 0);
	if (comment) {
		comment[0] = '\0';
		data = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
		if (data) {
			nftnl_udata_for_each_data(data, len, ud) {
				if (nftnl_udata_type(ud) == NFTNL_UDATA_RULE_COMMENT)
					snprintf(comment, clen, "%s",
						 (const char *)nftnl_udata_get(ud));
			}
		}
	}
	nftnl_rule_free(r);
	return s;
}

/* The batch's NEWSET of that set: its key type and length, flags, timeout (0: none) and, unless
 * 0, at least that size. */
static void assert_set(const struct built *bt, const char *name, uint32_t key_type,
		       uint32_t key_len, uint32_t flags, uint64_t timeout_ms, uint32_t min_size)
{
	struct nftnl_set *s = nftnl_set_alloc();

	assert_int_equal(nftnl_set_nlmsg_parse(find(bt, NFT_MSG_NEWSET, name)->nlh, s), 0);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), key_type);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), key_len);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), flags);
	if (timeout_ms)
		assert_int_equal(nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT), timeout_ms);
	else
		assert_false(nftnl_set_is_set(s, NFTNL_SET_TIMEOUT));
	if (min_size)
		assert_true(nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE) >= min_size);
	nftnl_set_free(s);
}

/* The rule messages of the batch, the first max of them; how many there are. */
static size_t new_rules(const struct built *bt, const struct msg **rules, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < bt->n; i++)
		if (bt->m[i].type == NFT_MSG_NEWRULE && n < max)
			rules[n++] = &bt->m[i];
	return n;
}

/* A rule of the batch: its expressions as libnftnl prints them and, unless NULL, its comment. */
struct rule_want {
	const char *text, *comment;
};

/* rs builds into exactly these rules (the list ends with a NULL text). */
static void assert_rules(const struct ul_ruleset *rs, const struct rule_want *want)
{
	const struct msg *rules[16];
	char comment[128];
	struct built bt;
	size_t n = 0;

	assert_int_equal(build(rs, NULL, BATCH_LIMIT, &bt), 0);
	while (want[n].text)
		n++;
	assert_int_equal(new_rules(&bt, rules, 16), n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(rule_text(rules[i], comment, sizeof(comment)), want[i].text);
		if (want[i].comment)
			assert_string_equal(comment, want[i].comment);
	}
	built_free(&bt);
}

/* The batch builder refuses rs with EINVAL (what: the case, named when it does not). */
static void assert_refused(const struct ul_ruleset *rs, const char *what)
{
	struct built bt;
	int ret = build(rs, NULL, BATCH_LIMIT, &bt);

	if (ret != -EINVAL)
		fail_msg("%s: build returned %d, not -EINVAL", what, ret);
	built_free(&bt);
}

/* A new ruleset with one interval set holding one prefix. */
static void one_set(struct ul_ruleset *rs, const char *name, enum ul_set_key key,
		    const char *prefix)
{
	memset(rs, 0, sizeof(*rs));
	tk_elem_prefix(ul_ruleset_add_set(rs, name, key, true), prefix, 0);
}

/* A new ruleset for the NAT tests: the interval set with one prefix, and the srcnat chain. */
static void nat_ruleset(struct ul_ruleset *rs, const char *set, enum ul_set_key key,
			const char *prefix, const char *chain)
{
	one_set(rs, set, key, prefix);
	assert_non_null(ul_ruleset_add_chain(rs, chain, UL_CHAIN_NAT, UL_HOOK_POSTROUTING, 100));
}

/* The small ruleset most tests use. */
static void small(struct ul_ruleset *rs)
{
	struct ul_set *s;
	struct ul_nrule *r;

	memset(rs, 0, sizeof(*rs));
	s = ul_ruleset_add_set(rs, "lan_ifs", UL_KEY_IFNAME, false);
	tk_elem_ifname(s, "lan0", 0);
	s = ul_ruleset_add_set(rs, "sticky", UL_KEY_IPV4, false);
	s->dynamic = true;
	s->timeout_ms = 600000;
	assert_non_null(ul_ruleset_add_chain(rs, "pre", UL_CHAIN_FILTER, UL_HOOK_PREROUTING, -150));
	assert_non_null(ul_ruleset_add_chain(rs, "sub", UL_CHAIN_FILTER, UL_HOOK_NONE, 0));
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_M_IIFNAME_SET, "lan_ifs");
	tk_stmt(r, UL_V_JUMP, "sub");
	r = tk_rule(rs, "sub");
	tk_stmt(r, UL_S_SET_UPDATE, "sticky");
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_V_ACCEPT, NULL);
}

static void test_fresh_batch(void **state)
{
	struct ul_ruleset *rs = *state;
	struct built bt;
	const struct msg *m;
	struct nftnl_chain *c;
	struct elem el[4];

	small(rs);
	assert_int_equal(build(rs, NULL, BATCH_LIMIT, &bt), 0);
	assert_string_equal(sequence(&bt), "B NT NC:pre NC:sub NS:lan_ifs NE:lan_ifs NS:sticky "
					   "NR:pre NR:pre NR:sub E");
	/* the table: created, idempotent (no EXCL), and not owned (fail-static) */
	m = find(&bt, NFT_MSG_NEWTABLE, NULL);
	assert_string_equal(m->name, "uplinkd");
	assert_true(m->flags & NLM_F_CREATE);
	assert_false(m->flags & NLM_F_EXCL);
	{
		struct nftnl_table *t = nftnl_table_alloc();

		assert_int_equal(nftnl_table_nlmsg_parse(m->nlh, t), 0);
		assert_false(nftnl_table_is_set(t, NFTNL_TABLE_FLAGS) &&
			     (nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) & NFT_TABLE_F_OWNER));
		nftnl_table_free(t);
	}
	/* base and regular chains */
	c = nftnl_chain_alloc();
	assert_int_equal(nftnl_chain_nlmsg_parse(find(&bt, NFT_MSG_NEWCHAIN, "pre")->nlh, c), 0);
	assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), "uplinkd");
	assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), NF_INET_PRE_ROUTING);
	assert_int_equal(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), -150);
	assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
	assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
	nftnl_chain_free(c);
	c = nftnl_chain_alloc();
	assert_int_equal(nftnl_chain_nlmsg_parse(find(&bt, NFT_MSG_NEWCHAIN, "sub")->nlh, c), 0);
	assert_false(nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM));
	assert_false(nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE));
	nftnl_chain_free(c);
	/* sets: nft's key types */
	assert_set(&bt, "lan_ifs", 41, 16, 0, 0, 0);
	assert_set(&bt, "sticky", 7, 4, NFT_SET_TIMEOUT | NFT_SET_EVAL, 600000, 65535);
	/* ifname elements: 16 bytes, zero-padded */
	assert_int_equal(all_elems(&bt, "lan_ifs", el, 4), 1);
	assert_int_equal(el[0].len, 16);
	assert_memory_equal(el[0].key, "lan0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(el[0].flags, 0);
	/* rules are appended */
	m = find(&bt, NFT_MSG_NEWRULE, "sub");
	assert_true(m->flags & NLM_F_APPEND);
	assert_true(m->flags & NLM_F_CREATE);
	built_free(&bt);
}

static void test_rule_bytecode(void **state)
{
	struct ul_ruleset *rs = *state;
	struct ul_set *s;
	struct ul_nrule *r;
	struct ul_stmt *x;

	one_set(rs, "s4", UL_KEY_IPV4, "10.0.0.0/24");
	s = ul_ruleset_add_set(rs, "s6", UL_KEY_IPV6, true);
	tk_elem_prefix(s, "2001:db8::/32", 0);
	s = ul_ruleset_add_set(rs, "p", UL_KEY_PORT, true);
	tk_elem_port(s, 25, 25, 0);
	s = ul_ruleset_add_set(rs, "ifs", UL_KEY_IFNAME, false);
	tk_elem_ifname(s, "lan0", 0);
	s = ul_ruleset_add_set(rs, "dyn", UL_KEY_IPV4, false);
	s->dynamic = true;
	s->timeout_ms = 600000;
	assert_non_null(ul_ruleset_add_chain(rs, "pre", UL_CHAIN_FILTER, UL_HOOK_PREROUTING,
					     -150));
	assert_non_null(ul_ruleset_add_chain(rs, "c", UL_CHAIN_FILTER, UL_HOOK_NONE, 0));

	/* 0 */
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_M_IIFNAME, "lan0");
	tk_stmt(r, UL_M_CT_NEW, NULL);
	x = tk_stmt(r, UL_M_CTMARK, NULL);
	x->mask = 0xff00;
	x->value = 0x100;
	tk_stmt(r, UL_S_COUNTER, NULL);
	/* 1 */
	r = tk_rule(rs, "pre");
	x = tk_stmt(r, UL_M_MARK, NULL);
	x->mask = 0xff00;
	x->value = 0x100;
	x->neg = true;
	tk_stmt(r, UL_M_NFPROTO, NULL)->family = AF_INET;
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_TCP;
	tk_stmt(r, UL_M_DPORT_SET, "p");
	tk_stmt(r, UL_M_SADDR_SET, "s4")->family = AF_INET;
	tk_stmt(r, UL_M_DADDR_SET, "s4")->family = AF_INET;
	tk_stmt(r, UL_M_SPORT_SET, "p");
	tk_stmt(r, UL_V_RETURN, NULL);
	/* 2 */
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_M_IIFNAME_SET, "ifs");
	tk_stmt(r, UL_M_SADDR_IN_DYN, "dyn")->family = AF_INET;
	x = tk_stmt(r, UL_S_MARK, NULL);
	x->mask = 0xff00;
	x->value = 0x100;
	x = tk_stmt(r, UL_S_CTMARK, NULL);
	x->mask = 0xff00;
	x->value = 0x100;
	snprintf(r->comment, sizeof(r->comment), "hi");
	/* 3 */
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_S_SET_UPDATE, "dyn")->family = AF_INET;
	tk_stmt(r, UL_V_JUMP, "c");
	/* 4 */
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_M_OIFNAME, "wan1");
	tk_stmt(r, UL_S_MASQUERADE, NULL);
	/* 5 */
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_M_NFPROTO, NULL)->family = AF_INET;
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_TCP;
	tk_stmt(r, UL_M_DPORT, NULL)->port = 8080;
	tk_dnat4(r, "10.0.0.5", 80);
	/* 6: family left 0, taken from the set; and a change of family mid-rule */
	r = tk_rule(rs, "pre");
	tk_stmt(r, UL_M_SADDR_SET, "s6");
	tk_stmt(r, UL_M_DADDR_SET, "s4");
	tk_stmt(r, UL_V_DROP, NULL);
	/* 7 */
	r = tk_rule(rs, "c");
	tk_stmt(r, UL_M_OIFNAME_SET, "ifs");
	tk_stmt(r, UL_V_GOTO, "c");
	r = tk_rule(rs, "c");
	tk_stmt(r, UL_V_ACCEPT, NULL);

	/* the expected texts are what `nft --debug=netlink` printed for the same rules */
	assert_rules(rs, (const struct rule_want[]){
		{ "inet uplinkd pre\n"
		  "  [ meta load iifname => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x306e616c 0x00000000 0x00000000 0x00000000 ]\n"
		  "  [ ct load state => reg 1 ]\n"
		  "  [ bitwise reg 1 = ( reg 1 & 0x00000008 ) ^ 0x00000000 ]\n"
		  "  [ cmp neq reg 1 0x00000000 ]\n"
		  "  [ ct load mark => reg 1 ]\n"
		  "  [ bitwise reg 1 = ( reg 1 & 0x0000ff00 ) ^ 0x00000000 ]\n"
		  "  [ cmp eq reg 1 0x00000100 ]\n"
		  "  [ counter pkts 0 bytes 0 ]\n", "" },
		{ "inet uplinkd pre\n"
		  "  [ meta load mark => reg 1 ]\n"
		  "  [ bitwise reg 1 = ( reg 1 & 0x0000ff00 ) ^ 0x00000000 ]\n"
		  "  [ cmp neq reg 1 0x00000100 ]\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000002 ]\n"
		  "  [ meta load l4proto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000006 ]\n"
		  "  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
		  "  [ lookup reg 1 set p ]\n"
		  "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
		  "  [ lookup reg 1 set s4 ]\n"
		  "  [ payload load 4b @ network header + 16 => reg 1 ]\n"
		  "  [ lookup reg 1 set s4 ]\n"
		  "  [ payload load 2b @ transport header + 0 => reg 1 ]\n"
		  "  [ lookup reg 1 set p ]\n"
		  "  [ immediate reg 0 return ]\n", NULL },
		{ "inet uplinkd pre\n"
		  "  [ meta load iifname => reg 1 ]\n"
		  "  [ lookup reg 1 set ifs ]\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000002 ]\n"
		  "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
		  "  [ lookup reg 1 set dyn ]\n"
		  "  [ meta load mark => reg 1 ]\n"
		  "  [ bitwise reg 1 = ( reg 1 & 0xffff00ff ) ^ 0x00000100 ]\n"
		  "  [ meta set mark with reg 1 ]\n"
		  "  [ ct load mark => reg 1 ]\n"
		  "  [ bitwise reg 1 = ( reg 1 & 0xffff00ff ) ^ 0x00000100 ]\n"
		  "  [ ct set mark with reg 1 ]\n"
		  "  userdata = { \\x00\\x03hi\\x00 }", "hi" },
		{ "inet uplinkd pre\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000002 ]\n"
		  "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
		  "  [ dynset update reg_key 1 set dyn ]\n"
		  "  [ immediate reg 0 jump -> c ]\n", NULL },
		{ "inet uplinkd pre\n"
		  "  [ meta load oifname => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x316e6177 0x00000000 0x00000000 0x00000000 ]\n"
		  "  [ masq ]\n", NULL },
		{ "inet uplinkd pre\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000002 ]\n"
		  "  [ meta load l4proto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000006 ]\n"
		  "  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x0000901f ]\n"
		  "  [ immediate reg 1 0x0500000a ]\n"
		  "  [ immediate reg 2 0x00005000 ]\n"
		  "  [ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]\n", NULL },
		{ "inet uplinkd pre\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x0000000a ]\n"
		  "  [ payload load 16b @ network header + 8 => reg 1 ]\n"
		  "  [ lookup reg 1 set s6 ]\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000002 ]\n"
		  "  [ payload load 4b @ network header + 16 => reg 1 ]\n"
		  "  [ lookup reg 1 set s4 ]\n"
		  "  [ immediate reg 0 drop ]\n", NULL },
		{ "inet uplinkd c\n"
		  "  [ meta load oifname => reg 1 ]\n"
		  "  [ lookup reg 1 set ifs ]\n"
		  "  [ immediate reg 0 goto -> c ]\n", NULL },
		{ "inet uplinkd c\n"
		  "  [ immediate reg 0 accept ]\n", NULL },
		{ NULL, NULL } });
}

/* snat to a gateway pair's shared address (nft: "oifname wan1 ip saddr @s4 snat ip to
 * 192.168.1.10"), and snat to a prefix is refused */
static void test_snat_bytecode(void **state)
{
	struct ul_ruleset *rs = *state;
	struct ul_nrule *r;
	struct ul_stmt *x;

	nat_ruleset(rs, "s4", UL_KEY_IPV4, "10.0.0.0/24", "nat");
	r = tk_rule(rs, "nat");
	tk_stmt(r, UL_M_OIFNAME, "wan1");
	tk_stmt(r, UL_M_NFPROTO, NULL)->family = AF_INET;
	tk_stmt(r, UL_M_SADDR_SET, "s4")->family = AF_INET;
	x = tk_stmt(r, UL_S_SNAT, NULL);
	x->family = AF_INET;
	assert_int_equal(ul_addr_parse("192.168.1.10", false, &x->addr), 0);
	assert_rules(rs, (const struct rule_want[]){
		{ "inet uplinkd nat\n"
		  "  [ meta load oifname => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x316e6177 0x00000000 0x00000000 0x00000000 ]\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000002 ]\n"
		  "  [ payload load 4b @ network header + 12 => reg 1 ]\n"
		  "  [ lookup reg 1 set s4 ]\n"
		  "  [ immediate reg 1 0x0a01a8c0 ]\n"
		  "  [ nat snat ip addr_min reg 1 ]\n", NULL },
		{ NULL, NULL } });
	x->addr.plen = 24;
	assert_refused(rs, "snat to a prefix");
}

/* The IPv6 half: prefix translation and a forward to an IPv6 host, as nft encodes them. */
static void test_ipv6_bytecode(void **state)
{
	struct ul_ruleset *rs = *state;
	struct ul_nrule *r;
	struct ul_stmt *x;

	nat_ruleset(rs, "s6", UL_KEY_IPV6, "fd00:10::/64", "n");
	assert_non_null(ul_ruleset_add_chain(rs, "d", UL_CHAIN_NAT, UL_HOOK_PREROUTING, -100));
	r = tk_rule(rs, "n");
	tk_stmt(r, UL_M_NFPROTO, NULL)->family = AF_INET6;
	tk_stmt(r, UL_M_OIFNAME, "wan2");
	tk_stmt(r, UL_M_SADDR_SET, "s6")->family = AF_INET6;
	x = tk_stmt(r, UL_S_SNAT_PREFIX, NULL);
	x->family = AF_INET6;
	assert_int_equal(ul_addr_parse("2001:db8:2:100::/56", true, &x->addr), 0);
	r = tk_rule(rs, "d");
	tk_stmt(r, UL_M_IIFNAME, "wan1");
	tk_stmt(r, UL_M_NFPROTO, NULL)->family = AF_INET6;
	tk_stmt(r, UL_M_L4PROTO, NULL)->proto = IPPROTO_TCP;
	tk_stmt(r, UL_M_DPORT, NULL)->port = 80;
	x = tk_stmt(r, UL_S_DNAT, NULL);
	x->family = AF_INET6;
	assert_int_equal(ul_addr_parse("fd00:10::5", false, &x->addr), 0);
	x->port = 8080;

	/* what `nft --debug=netlink` printed for "meta nfproto ipv6 oifname "wan2" ip6 saddr
	 * @s6 snat ip6 prefix to 2001:db8:2:100::/56" and "iifname "wan1" meta nfproto ipv6
	 * meta l4proto tcp th dport 80 dnat ip6 to [fd00:10::5]:8080" */
	assert_rules(rs, (const struct rule_want[]){
		{ "inet uplinkd n\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x0000000a ]\n"
		  "  [ meta load oifname => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x326e6177 0x00000000 0x00000000 0x00000000 ]\n"
		  "  [ payload load 16b @ network header + 8 => reg 1 ]\n"
		  "  [ lookup reg 1 set s6 ]\n"
		  "  [ immediate reg 1 0xb80d0120 0x00010200 0x00000000 0x00000000 ]\n"
		  "  [ immediate reg 2 0xb80d0120 0xff010200 0xffffffff 0xffffffff ]\n"
		  "  [ nat snat ip6 addr_min reg 1 addr_max reg 2 flags 0x40 ]\n", NULL },
		{ "inet uplinkd d\n"
		  "  [ meta load iifname => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x316e6177 0x00000000 0x00000000 0x00000000 ]\n"
		  "  [ meta load nfproto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x0000000a ]\n"
		  "  [ meta load l4proto => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00000006 ]\n"
		  "  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
		  "  [ cmp eq reg 1 0x00005000 ]\n"
		  "  [ immediate reg 1 0x100000fd 0x00000000 0x00000000 0x05000000 ]\n"
		  "  [ immediate reg 2 0x0000901f ]\n"
		  "  [ nat dnat ip6 addr_min reg 1 proto_min reg 2 flags 0x2 ]\n", NULL },
		{ NULL, NULL } });
	ul_ruleset_free(rs);

	/* a prefix translation outside a postrouting nat chain is refused */
	memset(rs, 0, sizeof(*rs));
	assert_non_null(ul_ruleset_add_chain(rs, "f", UL_CHAIN_FILTER, UL_HOOK_POSTROUTING, 0));
	x = tk_stmt(tk_rule(rs, "f"), UL_S_SNAT_PREFIX, NULL);
	x->family = AF_INET6;
	assert_int_equal(ul_addr_parse("2001:db8::/48", true, &x->addr), 0);
	assert_refused(rs, "snat prefix outside a postrouting nat chain");
}

static void test_existing_kept_and_replaced(void **state)
{
	struct ul_ruleset *rs = *state;
	struct ul_set *s;
	struct built bt;
	const struct msg *m;
	const struct nlattr *a;
	char chains[3][UL_NFT_NAME_MAX] = { "pre", "old", "sub" };
	struct ul_nft_existing_set sets[5] = {
		{ "gone", 7, 4, 0, 0 },
		{ "sticky", 7, 4, NFT_SET_TIMEOUT | NFT_SET_EVAL, 600004 },     /* jiffies */
		{ "lan_ifs", 41, 16, 0, 0 },
		{ "sticky2", 7, 4, NFT_SET_TIMEOUT | NFT_SET_EVAL, 300000 },
		{ "sticky3", 7, 4, NFT_SET_TIMEOUT | NFT_SET_EVAL, 1000 },
	};
	struct ul_nft_existing ex = {
		.table = true, .chains = chains, .n_chains = 3, .sets = sets, .n_sets = 5,
	};
	int attrs = 0;

	small(rs);
	s = ul_ruleset_add_set(rs, "sticky2", UL_KEY_IPV4, false);    /* timeout changed */
	s->dynamic = true;
	s->timeout_ms = 600000;
	s = ul_ruleset_add_set(rs, "sticky3", UL_KEY_IPV4, false);    /* kept, flushed */
	s->dynamic = true;
	s->timeout_ms = 1000;
	s->flush = true;
	assert_int_equal(build(rs, &ex, BATCH_LIMIT, &bt), 0);
	assert_string_equal(sequence(&bt),
		"B NT DR DS:gone DS:lan_ifs DS:sticky2 DC:old NC:pre NC:sub NS:lan_ifs NE:lan_ifs "
		"NS:sticky2 FE:sticky3 NR:pre NR:pre NR:sub E");
	/* the flush of all rules names only the table */
	m = find(&bt, NFT_MSG_DELRULE, NULL);
	mnl_attr_for_each(a, m->nlh, sizeof(struct nfgenmsg)) {
		assert_int_equal(mnl_attr_get_type(a), NFTA_RULE_TABLE);
		assert_string_equal(mnl_attr_get_str(a), "uplinkd");
		attrs++;
	}
	assert_int_equal(attrs, 1);
	/* the flush of a set has no element list */
	m = find(&bt, NFT_MSG_DELSETELEM, "sticky3");
	mnl_attr_for_each(a, m->nlh, sizeof(struct nfgenmsg))
		assert_int_not_equal(mnl_attr_get_type(a), NFTA_SET_ELEM_LIST_ELEMENTS);
	built_free(&bt);

	/* the same set with another key type is re-created too */
	sets[1].key_type = 8;
	sets[1].key_len = 16;
	assert_int_equal(build(rs, &ex, BATCH_LIMIT, &bt), 0);
	assert_non_null(find(&bt, NFT_MSG_DELSET, "sticky"));
	assert_non_null(find(&bt, NFT_MSG_NEWSET, "sticky"));
	built_free(&bt);

	/* no table: nothing to flush or delete, whatever ex lists */
	ex.table = false;
	assert_int_equal(build(rs, &ex, BATCH_LIMIT, &bt), 0);
	assert_null(find(&bt, NFT_MSG_DELRULE, NULL));
	assert_null(find(&bt, NFT_MSG_DELSET, NULL));
	assert_null(find(&bt, NFT_MSG_DELCHAIN, NULL));
	assert_null(find(&bt, NFT_MSG_DELSETELEM, NULL));
	assert_non_null(find(&bt, NFT_MSG_NEWSET, "sticky3"));
	built_free(&bt);
}

static void test_existing_chain_hooks(void **state)
{
	struct ul_ruleset *rs = *state;
	struct built bt;
	char chains[2][UL_NFT_NAME_MAX] = { "pre", "sub" };
	struct ul_nft_existing_chain info[2] = {
		{ .base = true, .type = "filter", .hooknum = NF_INET_PRE_ROUTING, .prio = -150 },
		{ .base = false },
	};
	struct ul_nft_existing ex = { .table = true, .chains = chains, .n_chains = 2 };

	small(rs);
	/* unknown hooks: taken as compatible */
	assert_int_equal(build(rs, &ex, BATCH_LIMIT, &bt), 0);
	assert_null(find(&bt, NFT_MSG_DELCHAIN, NULL));
	built_free(&bt);
	/* same hooks */
	ex.chain_info = info;
	assert_int_equal(build(rs, &ex, BATCH_LIMIT, &bt), 0);
	assert_null(find(&bt, NFT_MSG_DELCHAIN, NULL));
	built_free(&bt);
	/* another priority, another type, a base chain that must become regular */
	info[0].prio = -140;
	info[1] = info[0];
	assert_int_equal(build(rs, &ex, BATCH_LIMIT, &bt), 0);
	assert_string_equal(sequence(&bt), "B NT DR DC:pre DC:sub NC:pre NC:sub NS:lan_ifs "
					   "NE:lan_ifs NS:sticky NR:pre NR:pre NR:sub E");
	built_free(&bt);
	info[0].prio = -150;
	snprintf(info[0].type, sizeof(info[0].type), "route");
	info[1].base = false;
	assert_int_equal(build(rs, &ex, BATCH_LIMIT, &bt), 0);
	assert_non_null(find(&bt, NFT_MSG_DELCHAIN, "pre"));
	assert_null(find(&bt, NFT_MSG_DELCHAIN, "sub"));
	built_free(&bt);
}

static void test_interval_elements(void **state)
{
	/* overlapping, repeated and out of order: merged into ranges */
	static const char *const v4[] = { "10.0.1.0/24", "10.0.0.128/25", "10.0.0.0/24",
					  "10.0.1.0/24", "10.0.3.5" };
	static const struct {
		uint16_t lo, hi;
	} ports[] = { { 65000, 65535 }, { 0, 10 }, { 5, 11 } };
	struct ul_ruleset *rs = *state;
	struct ul_set *s;
	struct built bt;
	struct elem el[16];
	size_t n;

	memset(rs, 0, sizeof(*rs));
	s = ul_ruleset_add_set(rs, "v4", UL_KEY_IPV4, true);
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
		tk_elem_prefix(s, v4[i], 0);
	s = ul_ruleset_add_set(rs, "ports", UL_KEY_PORT, true);
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		tk_elem_port(s, ports[i].lo, ports[i].hi, 0);
	s = ul_ruleset_add_set(rs, "v6", UL_KEY_IPV6, true);
	tk_elem_prefix(s, "2001:db8::/32", 0);
	assert_int_equal(build(rs, NULL, BATCH_LIMIT, &bt), 0);

	/* a leading interval end at 0, then [start, end) pairs of the merged ranges */
	n = all_elems(&bt, "v4", el, 16);
	assert_int_equal(n, 5);
	assert_int_equal(tk_be32(el[0].key), 0);
	assert_int_equal(el[0].flags, NFT_SET_ELEM_INTERVAL_END);
	assert_int_equal(tk_be32(el[1].key), 0x0a000000);
	assert_int_equal(el[1].flags, 0);
	assert_int_equal(tk_be32(el[2].key), 0x0a000200);
	assert_int_equal(el[2].flags, NFT_SET_ELEM_INTERVAL_END);
	assert_int_equal(tk_be32(el[3].key), 0x0a000305);
	assert_int_equal(el[3].flags, 0);
	assert_int_equal(tk_be32(el[4].key), 0x0a000306);
	assert_int_equal(el[4].flags, NFT_SET_ELEM_INTERVAL_END);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(el[i].len, 4);

	/* starting at 0: no leading end; reaching 65535: no end, marked open */
	n = all_elems(&bt, "ports", el, 16);
	assert_int_equal(n, 3);
	assert_int_equal(el[0].len, 2);
	assert_int_equal(el[0].key[0] << 8 | el[0].key[1], 0);
	assert_int_equal(el[0].flags, 0);
	assert_int_equal(el[1].key[0] << 8 | el[1].key[1], 12);
	assert_int_equal(el[1].flags, NFT_SET_ELEM_INTERVAL_END);
	assert_int_equal(el[2].key[0] << 8 | el[2].key[1], 65000);
	assert_int_equal(el[2].flags, 0);
	assert_true(el[2].has_udata);

	n = all_elems(&bt, "v6", el, 16);
	assert_int_equal(n, 3);
	assert_int_equal(el[1].len, 16);
	assert_int_equal(tk_be32(el[1].key), 0x20010db8);
	assert_int_equal(tk_be32(el[2].key), 0x20010db9);
	assert_int_equal(el[2].flags, NFT_SET_ELEM_INTERVAL_END);
	built_free(&bt);
}

static void test_10000_prefixes(void **state)
{
	struct ul_ruleset *rs = *state;
	struct ul_set *s;
	struct built bt;
	struct elem *el;
	struct timespec t0, t1;
	size_t n, msgs = 0;

	memset(rs, 0, sizeof(*rs));
	s = ul_ruleset_add_set(rs, "big", UL_KEY_IPV4, true);
	tk_elem_spread24(s, 10000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(build(rs, NULL, BATCH_LIMIT, &bt), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("10000 prefixes: %zu messages, %zu bytes, built in %.1f ms\n", bt.n, bt.bytes,
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	el = calloc(30000, sizeof(*el));
	assert_non_null(el);
	n = all_elems(&bt, "big", el, 30000);
	assert_int_equal(n, 20001);
	for (size_t i = 1; i < n; i++) {
		assert_true(tk_be32(el[i].key) > tk_be32(el[i - 1].key));
		assert_int_equal(el[i].flags, i % 2 ? 0 : NFT_SET_ELEM_INTERVAL_END);
	}
	for (size_t i = 0; i < bt.n; i++)
		msgs += bt.m[i].type == NFT_MSG_NEWSETELEM;
	assert_true(msgs > 1);
	free(el);
	built_free(&bt);

	/* too small a batch: a clear error, not an overflow */
	assert_int_equal(build(rs, NULL, 64 * 1024, &bt), -ENOSPC);
	built_free(&bt);
}

/* What the batch builder refuses with EINVAL: the small ruleset, a set added to it, then a
 * rule in pre with one statement. */
static const struct refusal {
	const char *what;
	const char *set;                /* added first, of this key */
	enum ul_set_key set_key;
	bool rule;                      /* then a rule with kind, str and addr */
	enum ul_stmt_kind kind;
	const char *str, *addr;
} refusals[] = {
	{ "unknown set", NULL, 0, true, UL_M_SADDR_SET, "nope", NULL },
	{ "set of the wrong type", NULL, 0, true, UL_M_DPORT_SET, "lan_ifs", NULL },
	{ "update of a set that is not dynamic", "static4", UL_KEY_IPV4, true, UL_S_SET_UPDATE,
	  "static4", NULL },
	{ "jump to nowhere", NULL, 0, true, UL_V_JUMP, "nowhere", NULL },
	{ "duplicate set", "lan_ifs", UL_KEY_IFNAME, false, 0, NULL, NULL },
	{ "interface name too long for IFNAMSIZ", NULL, 0, true, UL_M_IIFNAME, "0123456789abcdef",
	  NULL },
	{ "dnat to a prefix", NULL, 0, true, UL_S_DNAT, NULL, "10.0.0.0/24" },
};

static void test_refused(void **state)
{
	struct ul_ruleset *rs = *state;

	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *c = &refusals[i];
		struct ul_stmt *x;

		small(rs);
		if (c->set)
			assert_non_null(ul_ruleset_add_set(rs, c->set, c->set_key, false));
		if (c->rule) {
			x = tk_stmt(tk_rule(rs, "pre"), c->kind, c->str);
			if (c->addr)
				assert_int_equal(ul_addr_parse(c->addr, true, &x->addr), 0);
		}
		assert_refused(rs, c->what);
		ul_ruleset_free(rs);
	}
	/* an element smuggled past ul_set_add_elem */
	small(rs);
	memset(rs->sets[0].elems[0].ifname, 'x', IFNAMSIZ);
	assert_refused(rs, "an element smuggled past ul_set_add_elem");
}

static void test_remove_batch(void **state)
{
	struct ul_nft_existing ex = { .table = false };
	struct mnl_nlmsg_batch *b;
	const struct nlmsghdr *nlh;
	uint32_t seq = 7;
	int rem;

	b = mnl_nlmsg_batch_start(batch_buf, BATCH_LIMIT);
	assert_int_equal(ul_nft_build_remove(&ex, b, &seq), 0);
	assert_int_equal(mnl_nlmsg_batch_size(b), 0);
	assert_int_equal(seq, 7);
	ex.table = true;
	assert_int_equal(ul_nft_build_remove(&ex, b, &seq), 0);
	assert_int_equal(seq, 10);
	nlh = mnl_nlmsg_batch_head(b);
	rem = (int)mnl_nlmsg_batch_size(b);
	assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	nlh = mnl_nlmsg_next(nlh, &rem);
	assert_int_equal(nlh->nlmsg_type, NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_DELTABLE);
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	{
		struct nftnl_table *t = nftnl_table_alloc();

		assert_int_equal(nftnl_table_nlmsg_parse(nlh, t), 0);
		assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "uplinkd");
		assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_INET);
		nftnl_table_free(t);
	}
	nlh = mnl_nlmsg_next(nlh, &rem);
	assert_int_equal(nlh->nlmsg_type, NFNL_MSG_BATCH_END);
	nlh = mnl_nlmsg_next(nlh, &rem);
	assert_false(mnl_nlmsg_ok(nlh, rem));
	mnl_nlmsg_batch_stop(b);
}

static int setup(void **state)
{
	ul_log_set_level(LOG_EMERG);    /* the refusals are expected */
	ul_klog_set_level(LOG_EMERG);
	batch_buf = malloc(BATCH_LIMIT + UL_NFT_MSG_MAX);
	return batch_buf ? 0 : -1;
}

static int teardown(void **state)
{
	free(batch_buf);
	return 0;
}

/* Each test's ruleset, freed after it. */
static int rs_new(void **state)
{
	*state = calloc(1, sizeof(struct ul_ruleset));
	return *state ? 0 : -1;
}

static int rs_free(void **state)
{
	ul_ruleset_free(*state);
	free(*state);
	return 0;
}

int main(void)
{
	return TK_RUN(setup, teardown, rs_new, rs_free, test_fresh_batch, test_rule_bytecode,
		      test_ipv6_bytecode, test_snat_bytecode, test_existing_kept_and_replaced,
		      test_existing_chain_hooks, test_interval_elements, test_10000_prefixes,
		      test_refused, test_remove_batch);
}
