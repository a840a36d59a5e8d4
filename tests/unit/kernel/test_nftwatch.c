// SPDX-License-Identifier: GPL-2.0-or-later
/* nftables events: which are changes others made to table inet uplinkd, and in words. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <cmocka.h>

#include "nftwatch.h"
#include "tk.h"

#define OWN 4242
#define OTHER 777

static char buf[4096] __attribute__((aligned(8)));

/* An event as the kernel sends it: type, family, the sender's portid, attributes 1 (table)
 * and name_attr (chain, set...) when given. */
static struct nlmsghdr *ev(uint16_t type, uint8_t family, uint32_t pid, const char *table,
			   uint16_t name_attr, const char *name)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	nlh->nlmsg_pid = pid;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	if (table)
		mnl_attr_put_strz(nlh, 1, table);
	if (name)
		mnl_attr_put_strz(nlh, name_attr, name);
	return nlh;
}

static void foreign_changes(void **state)
{
	struct ul_nft_change ch = { 0 };

	/* a flush of one chain by someone else */
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELRULE, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_RULE_CHAIN, "pre"), OWN, NULL, &ch), 1);
	assert_string_equal(ch.what, "rules of chain inet uplinkd pre removed");
	/* the table going (nft flush ruleset) is more serious: it is what is said */
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELCHAIN, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_CHAIN_NAME, "post"), OWN, NULL, &ch), 1);
	assert_string_equal(ch.what, "chain inet uplinkd post removed");
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELTABLE, NFPROTO_INET, OTHER, "uplinkd",
					       0, NULL), OWN, NULL, &ch), 1);
	assert_string_equal(ch.what, "table inet uplinkd removed");
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELSET, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_SET_NAME, "s"), OWN, NULL, &ch), 1);
	assert_string_equal(ch.what, "table inet uplinkd removed");

	memset(&ch, 0, sizeof(ch));
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_NEWRULE, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_RULE_CHAIN, "route"), OWN, NULL, &ch), 1);
	assert_string_equal(ch.what, "rules of chain inet uplinkd route changed");
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELSET, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_SET_NAME, "bank"), OWN, NULL, &ch), 1);
	assert_string_equal(ch.what, "set inet uplinkd bank removed");
	/* the kernel itself (portid 0) is someone else too */
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELTABLE, NFPROTO_INET, 0, "uplinkd", 0,
					       NULL), OWN, NULL, &ch), 1);
}

static void not_foreign_changes(void **state)
{
	struct ul_nft_change ch = { 0 };

	/* uplinkd's own transaction */
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELTABLE, NFPROTO_INET, OWN, "uplinkd", 0,
					       NULL), OWN, NULL, &ch), 0);
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_NEWRULE, NFPROTO_INET, OWN, "uplinkd",
					       NFTA_RULE_CHAIN, "pre"), OWN, NULL, &ch), 0);
	/* other tables, other families */
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELTABLE, NFPROTO_INET, OTHER, "filter", 0,
					       NULL), OWN, NULL, &ch), 0);
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELTABLE, NFPROTO_IPV4, OTHER, "uplinkd",
					       0, NULL), OWN, NULL, &ch), 0);
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELTABLE, NFPROTO_INET, OTHER, "uplinkd2",
					       0, NULL), OWN, NULL, &ch), 0);
	/* elements of sets (without a ruleset: none is static); counters reset;
	 * generations */
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_NEWSETELEM, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_SET_ELEM_LIST_SET, "streaming4"), OWN, NULL, &ch), 0);
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELSETELEM, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_SET_ELEM_LIST_SET, "streaming4"), OWN, NULL, &ch), 0);
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_NEWOBJ, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_OBJ_NAME, "c"), OWN, NULL, &ch), 0);
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_NEWGEN, NFPROTO_UNSPEC, OTHER, NULL, 0,
					       NULL), OWN, NULL, &ch), 0);
	/* another netfilter subsystem */
	{
		struct nlmsghdr *nlh = ev(NFT_MSG_DELTABLE, NFPROTO_INET, OTHER, "uplinkd", 0, NULL);

		nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | 1;
		assert_int_equal(ul_nft_event_parse(nlh, OWN, NULL, &ch), 0);
	}
	assert_int_equal(ch.rank, 0);
}

/* Elements: of the static sets uplinkd fills, a change; of dynamic ones, not. */
static void set_elements(void **state)
{
	struct ul_ruleset rs = { 0 };
	struct ul_nft_change ch = { 0 };
	struct ul_set *s;

	assert_non_null(ul_ruleset_add_set(&rs, "bank", UL_KEY_IPV4, true));
	s = ul_ruleset_add_set(&rs, "streaming4", UL_KEY_IPV4, false);
	assert_non_null(s);
	s->dynamic = true;
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_DELSETELEM, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_SET_ELEM_LIST_SET, "bank"), OWN, &rs, &ch), 1);
	assert_string_equal(ch.what, "set inet uplinkd bank elements changed");
	memset(&ch, 0, sizeof(ch));
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_NEWSETELEM, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_SET_ELEM_LIST_SET, "streaming4"), OWN, &rs,
					    &ch), 0);
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_NEWSETELEM, NFPROTO_INET, OTHER, "uplinkd",
					       NFTA_SET_ELEM_LIST_SET, "nosuch"), OWN, &rs, &ch), 0);
	assert_int_equal(ul_nft_event_parse(ev(NFT_MSG_NEWSETELEM, NFPROTO_INET, OWN, "uplinkd",
					       NFTA_SET_ELEM_LIST_SET, "bank"), OWN, &rs, &ch), 0);
	assert_int_equal(ch.rank, 0);
	ul_ruleset_free(&rs);
}

static void malformed(void **state)
{
	struct ul_nft_change ch = { 0 };
	struct nlmsghdr *nlh;

	/* no room for the nfgenmsg */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE;
	assert_int_equal(ul_nft_event_parse(nlh, OWN, NULL, &ch), -EINVAL);
	/* a table name that is not a string */
	nlh = ev(NFT_MSG_DELTABLE, NFPROTO_INET, OTHER, NULL, 0, NULL);
	mnl_attr_put(nlh, 1, 7, "uplinkd");
	assert_int_equal(ul_nft_event_parse(nlh, OWN, NULL, &ch), -EINVAL);
	/* a chain name that is not one */
	nlh = ev(NFT_MSG_DELCHAIN, NFPROTO_INET, OTHER, "uplinkd", 0, NULL);
	mnl_attr_put(nlh, NFTA_CHAIN_NAME, 3, "pre");
	assert_int_equal(ul_nft_event_parse(nlh, OWN, NULL, &ch), -EINVAL);
}

TK_MAIN(NULL, NULL, foreign_changes, not_foreign_changes, set_elements, malformed)
