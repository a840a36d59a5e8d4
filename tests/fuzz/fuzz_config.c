// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: arbitrary bytes as a config text through parse and validation. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

/*
 * @include would let the input read files of this machine: inputs that mention it are skipped,
 * and the config's name lives in a directory that does not exist, so nothing could be opened
 * anyway (libconfig 1.5 resolves every include below that directory).
 */
#define FUZZ_NAME "/nonexistent-uplinkd-fuzz/fuzz.conf"

/*
 * libconfig 1.5 leaks the value of a token its parser rejects (the input `""` alone is enough:
 * its grammar has no %destructor). Those come from its lexer, not from us; a settings tree we
 * forgot to destroy would still be reported (the parser allocates those).
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* Named sets' files come from here, never from the file system: one fixed prefix list. */
static int fuzz_read(void *ctx, const char *path, char **text, size_t *len)
{
	static const char list[] = "# fuzz\n10.0.0.0/8\n192.0.2.1\n2001:db8::/32\n";

	(void)ctx;
	if (!strstr(path, ".txt"))
		return -ENOENT;
	*text = strdup(list);
	*len = sizeof(list) - 1;
	return *text ? 0 : -ENOMEM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ul_config_io io = { .read_file = fuzz_read };
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	char *text;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strcasestr(text, "@include")) {
		free(text);
		return 0;
	}
	if (ul_config_parse_string_io(text, FUZZ_NAME, &io, &c, &d) == 0) {
		/* a valid config is complete and consistent */
		if (!c || d.n || c->n_links < 1 || c->n_links > UL_MAX_LINKS)
			abort();
		for (size_t i = 0; i < c->n_links; i++)
			if (ul_config_link_index(c, c->links[i].name) != (int)i)
				abort();
		for (size_t i = 0; i < c->n_rules; i++)
			for (size_t k = 0; k < c->rules[i].n_via; k++)
				if (c->rules[i].via[k] >= c->n_links)
					abort();
		for (size_t i = 0; i < c->n_rules; i++) {
			for (size_t k = 0; k < c->rules[i].n_src_sets; k++)
				if (c->rules[i].src_sets[k] >= c->n_sets)
					abort();
			for (size_t k = 0; k < c->rules[i].n_dst_sets; k++)
				if (c->rules[i].dst_sets[k] >= c->n_sets)
					abort();
		}
		for (size_t i = 0; i < c->n_sets; i++)
			if (c->sets[i].dynamic == (c->sets[i].file != NULL))
				abort();
		ul_config_free(c);
	} else if (c || d.n == 0) {
		abort();        /* a failure always says why and returns nothing */
	}
	ul_diag_free(&d);
	free(text);
	return 0;
}
