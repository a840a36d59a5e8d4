// SPDX-License-Identifier: GPL-2.0-or-later
/* Large lists (overlap checks in O(n log n)) and @include with an absolute path. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "tk.h"

#define L2 "links = ( { name = \"isp1\"; interface = \"wan1\"; }, " \
	   "{ name = \"isp2\"; interface = \"wan2\"; } );\n"

/* Parse as "t.conf"; it must fail with exactly the NULL-terminated messages. */
static void expect_only(const char *text, ...)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	const char *msg;
	size_t n = 0;
	va_list ap;

	assert_int_equal(ul_config_parse_string(text, "t.conf", &c, &d), -EINVAL);
	assert_null(c);
	va_start(ap, text);
	while ((msg = va_arg(ap, const char *))) {
		n++;
		if (!tk_diag_has(&d, msg)) {
			fprintf(stderr, "missing: %s\n", msg);
			tk_diag_dump(&d);
			fail();
		}
	}
	va_end(ap);
	if (d.n != n)
		tk_diag_dump(&d);
	assert_int_equal(d.n, n);
	ul_diag_free(&d);
}

static void test_overlap_shapes(void **state)
{
	/* nested, in both orders; each entry reported once, naming the earlier one */
	expect_only(L2 "rules = ( { dst = [ \"10.0.1.0/24\", \"10.0.2.0/24\", \"10.0.0.0/16\" ]; "
		    "via = [ \"isp1\" ]; } );\n",
		    "t.conf:2: rules[0].dst[2]: 10.0.0.0/16 overlaps 10.0.1.0/24 (dst[0])",
		    (const char *)NULL);
	expect_only(L2 "rules = ( { dst = [ \"10.0.0.0/16\", \"10.0.1.0/24\", \"10.0.2.0/24\", "
		    "\"10.1.0.0/16\" ]; via = [ \"isp1\" ]; } );\n",
		    "t.conf:2: rules[0].dst[1]: 10.0.1.0/24 overlaps 10.0.0.0/16 (dst[0])",
		    "t.conf:2: rules[0].dst[2]: 10.0.2.0/24 overlaps 10.0.0.0/16 (dst[0])",
		    (const char *)NULL);
	/* three deep: as in list order, the first one stays and the others are reported
	 * against it */
	expect_only(L2 "rules = ( { dst = [ \"10.0.0.0/8\", \"10.1.0.0/16\", \"10.1.2.0/24\" ]; "
		    "via = [ \"isp1\" ]; } );\n",
		    "t.conf:2: rules[0].dst[1]: 10.1.0.0/16 overlaps 10.0.0.0/8 (dst[0])",
		    "t.conf:2: rules[0].dst[2]: 10.1.2.0/24 overlaps 10.0.0.0/8 (dst[0])",
		    (const char *)NULL);
	/* duplicates, also of IPv6; the families never overlap each other */
	expect_only(L2 "rules = ( { dst = [ \"2001:db8::/32\", \"192.0.2.7\", \"::/0\", "
		    "\"192.0.2.7\", \"0.0.0.0/0\" ]; via = [ \"isp1\" ]; } );\n",
		    "t.conf:2: rules[0].dst[2]: ::/0 overlaps 2001:db8::/32 (dst[0])",
		    "t.conf:2: rules[0].dst[3]: 192.0.2.7 is listed twice (also dst[1])",
		    "t.conf:2: rules[0].dst[4]: 0.0.0.0/0 overlaps 192.0.2.7 (dst[1])",
		    (const char *)NULL);
	/* ports: partial overlaps, against the range reaching furthest */
	expect_only(L2 "rules = ( { proto = \"tcp\"; dst_port = ( \"20-30\", 25, \"30-40\", "
		    "\"41-50\", \"1-100\" ); via = [ \"isp1\" ]; } );\n",
		    "t.conf:2: rules[0].dst_port[1]: 25 overlaps 20-30 (dst_port[0])",
		    "t.conf:2: rules[0].dst_port[2]: 30-40 overlaps 20-30 (dst_port[0])",
		    "t.conf:2: rules[0].dst_port[4]: 1-100 overlaps 20-30 (dst_port[0])",
		    (const char *)NULL);
}

/* n distinct /24s (non-adjacent), as a dst list; the one at dup (if < n) repeats entry 0. */
static char *big_conf(size_t n, size_t dup)
{
	size_t cap = n * 24 + 512, o = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	o += (size_t)snprintf(t + o, cap - o, L2 "rules = ( { name = \"pinned\"; dst = [ ");
	for (size_t i = 0; i < n; i++) {
		size_t j = i == dup ? 0 : i;

		o += (size_t)snprintf(t + o, cap - o, "%s\"%zu.%zu.%zu.0/24\"%s", i ? ", " : "",
				      11 + j / 32768, (j % 32768) / 128, (j % 128) * 2,
				      i % 8 == 7 ? "\n" : "");
	}
	snprintf(t + o, cap - o, " ]; via = [ \"isp1\" ]; } );\n");
	return t;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_100k_prefixes(void **state)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	char *t = big_conf(100000, SIZE_MAX);
	double t0 = now_s();

	assert_int_equal(ul_config_parse_string(t, "t.conf", &c, &d), 0);
	/* generous: the quadratic check took minutes; this is ~50 ms on an idle machine */
	assert_true(now_s() - t0 < 5.0);
	assert_int_equal(c->rules[0].n_dst, 100000);
	/* the list order is kept */
	assert_int_equal(c->rules[0].dst[0].bytes[0], 11);
	assert_int_equal(c->rules[0].dst[99999].bytes[0], 14);
	ul_config_free(c);
	free(t);

	/* one duplicate near the end is found and named */
	t = big_conf(100000, 99998);
	assert_int_equal(ul_config_parse_string(t, "t.conf", &c, &d), -EINVAL);
	if (d.n != 1)
		tk_diag_dump(&d);
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.msgs[0], "rules[0].dst[99998]: 11.0.0.0/24 is listed twice "
				       "(also dst[0])"));
	ul_diag_free(&d);
	free(t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_include_absolute(void **state)
{
	char a[] = "/tmp/ul-abs-a-XXXXXX", b[] = "/tmp/ul-abs-b-XXXXXX";
	char main_path[PATH_MAX], inc[PATH_MAX], nest[PATH_MAX], text[3 * PATH_MAX], want[4 * PATH_MAX];
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;

	assert_non_null(mkdtemp(a));
	assert_non_null(mkdtemp(b));
	snprintf(main_path, sizeof(main_path), "%s/main.conf", a);
	snprintf(inc, sizeof(inc), "%s/links.conf", b);
	snprintf(nest, sizeof(nest), "%s/nest.conf", b);
	write_file(inc, "links = ( { name = \"isp1\"; interface = \"wan1\"; } );\n");
	snprintf(text, sizeof(text), "daemon = { log_level = \"debug\"; };\n@include \"%s\"\n", inc);
	write_file(main_path, text);

	/* used as it is, not under the config's directory */
	assert_int_equal(ul_config_load(main_path, &c, &d), 0);
	assert_int_equal(c->n_links, 1);
	ul_config_free(c);
	c = NULL;

	/* an error inside it names the file by its absolute path */
	write_file(inc, "links = (\n  { name = \"isp1\"; interface = \"wan1\"; weight = 0; }\n);\n");
	assert_int_equal(ul_config_load(main_path, &c, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: links[0].weight: 0 is out of range 1..256", inc);
	if (!tk_diag_has(&d, want))
		tk_diag_dump(&d);
	assert_true(tk_diag_has(&d, want));
	ul_diag_free(&d);

	/* a missing one: named as written */
	unlink(inc);
	assert_int_equal(ul_config_load(main_path, &c, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: @include \"%s\": cannot read %s: No such file or "
		 "directory", main_path, inc, inc);
	if (d.n != 1 || strcmp(d.msgs[0], want))
		tk_diag_dump(&d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.msgs[0], want);
	ul_diag_free(&d);

	/* an absolute include inside an included file cannot be handed to libconfig 1.5 */
	snprintf(text, sizeof(text), "@include \"%s\"\n", nest);
	write_file(main_path, text);
	write_file(nest, "@include \"/etc/hostname\"\n");
	assert_int_equal(ul_config_load(main_path, &c, &d), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: @include \"/etc/hostname\": an absolute path is only "
		 "allowed in the main configuration file (libconfig resolves it inside %s)",
		 nest, a);
	if (!tk_diag_has(&d, want))
		tk_diag_dump(&d);
	assert_true(tk_diag_has(&d, want));
	ul_diag_free(&d);

	unlink(nest);
	unlink(main_path);
	rmdir(a);
	rmdir(b);
}

TK_MAIN(NULL, NULL, test_overlap_shapes, test_100k_prefixes, test_include_absolute)
