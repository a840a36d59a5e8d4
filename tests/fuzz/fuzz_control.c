// SPDX-License-Identifier: GPL-2.0-or-later
/* Fuzz the control request parser, and the status renderers with link names, interface
 * names, version and numbers taken from the input. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "status.h"

static bool verb_ok(const char *v)
{
	if (!*v)
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || *v == '-'))
			return false;
	return true;
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	char req[UL_CTL_MAX_REQ + 1], verb[32], arg[64];
	size_t n = size < UL_CTL_MAX_REQ ? size : UL_CTL_MAX_REQ;

	memcpy(req, data, n);
	req[n] = '\0';
	if (ul_control_parse(req, verb, sizeof(verb), arg, sizeof(arg)) == 0) {
		/* what was accepted really has the promised shape */
		if (!verb_ok(verb) || strlen(arg) > 63 || strncmp(req, verb, strlen(verb)))
			abort();
		if (*arg && !strstr(req, arg))
			abort();
	}
	/* tiny buffers must be safe too */
	ul_control_parse(req, verb, 1, arg, 1);
	ul_control_parse(req, verb, 2, NULL, 0);
}

/* Take len bytes (NUL-terminated into out) from the input. */
static void take(const uint8_t **p, size_t *left, char *out, size_t len)
{
	size_t n = *left < len - 1 ? *left : len - 1;

	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	*left -= n;
}

static double take_num(const uint8_t **p, size_t *left)
{
	int64_t v = 0;

	if (*left >= sizeof(v)) {
		memcpy(&v, *p, sizeof(v));
		*p += sizeof(v);
		*left -= sizeof(v);
	}
	return (double)v / 1000.0;
}

static void fuzz_status(const uint8_t *data, size_t size)
{
	static struct ul_status s;
	struct ul_buf b = { 0 };
	char version[32];
	size_t left = size;

	memset(&s, 0, sizeof(s));
	take(&data, &left, version, sizeof(version));
	s.version = version;
	s.uptime_s = take_num(&data, &left);
	s.n_links = size % (UL_MAX_LINKS + 1);
	for (size_t i = 0; i < s.n_links; i++) {
		struct ul_status_link *l = &s.links[i];

		take(&data, &left, l->name, sizeof(l->name));
		take(&data, &left, l->ifname, sizeof(l->ifname));
		if (left) {
			l->state = (enum ul_state)(*data % (UL_ST_DISABLED + 1));
			data++;
			left--;
		}
		l->rtt_ms = take_num(&data, &left);
		l->loss_pct = take_num(&data, &left);
		l->since_s = take_num(&data, &left);
		l->carrier = i & 1;
		l->active = i & 2;
	}
	ul_status_json(&s, &b);
	if (!b.oom && (b.len == 0 || b.p[b.len - 1] != '\n' || memchr(b.p, '\n', b.len) !=
		       b.p + b.len - 1))
		abort();        /* one line, newline-terminated */
	ul_buf_reset(&b);
	ul_status_table(&s, &b);
	ul_buf_reset(&b);
	ul_status_metrics(&s, &b);
	ul_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_parse(data, size);
	fuzz_status(data, size);
	return 0;
}
