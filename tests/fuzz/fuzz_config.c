// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: arbitrary bytes as a config text through parse and validation. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_tmp.h"

/*
 * @include is fuzzed too: the config's name lives in a private directory made at start-up,
 * holding a few include files (valid parts of a config, a broken one, one that includes
 * itself, an empty one), so an input's "@include" finds them. Every include name is looked
 * up below that directory (the config's own rule, and libconfig's); only names with "..",
 * and absolute ones (used as they are), could leave it and read this machine's files, and
 * inputs with those are skipped. Named sets' files come from fuzz_read, never from disk.
 */
static char fuzz_name[96];

static void put(const char *name, const char *text)
{
	char p[160];
	FILE *f;

	fuzz_path(p, sizeof(p), name);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static const char *const inc_names[] = { "links.inc", "daemon.inc", "bad.inc", "self.inc",
					 "empty.inc", "nested.inc", NULL };

static void cleanup(void)
{
	char p[160];

	for (int i = 0; inc_names[i]; i++) {
		fuzz_path(p, sizeof(p), inc_names[i]);
		unlink(p);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_tmpdir("cfg", cleanup);
	fuzz_path(fuzz_name, sizeof(fuzz_name), "fuzz.conf");
	put("links.inc", "links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = "
	    "\"192.168.1.1\"; } );\n");
	put("daemon.inc", "daemon = { log_level = \"debug\"; rule_priority = 2000; };\n");
	put("bad.inc", "links = ( { name = \"BAD NAME\"; weight = 99999999999; } )\n");
	put("self.inc", "@include \"self.inc\"\n");
	put("empty.inc", "");
	put("nested.inc", "@include \"daemon.inc\"\n@include \"links.inc\"\n");
	return 0;
}

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
	/* an include could leave the directory: by "..", or by an absolute name (used as it is) */
	if (strstr(text, "..") || (strcasestr(text, "@include") && strstr(text, "\"/"))) {
		free(text);
		return 0;
	}
	if (ul_config_parse_string_io(text, fuzz_name, &io, &c, &d) == 0) {
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
