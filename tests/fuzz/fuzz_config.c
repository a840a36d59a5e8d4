// SPDX-License-Identifier: GPL-2.0-or-later
/* libFuzzer target: arbitrary bytes as a config text through parse and validation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/*
 * @include is fuzzed too: the config's name lives in a private directory made at start-up,
 * holding a few include files (valid parts of a config, a broken one, one that includes
 * itself, an empty one), so an input's "@include" finds them. Every include name is looked
 * up below that directory (the config's own rule, and libconfig's); only names with ".."
 * could leave it and read this machine's files, and inputs with those are skipped.
 */
static char fuzz_dir[64], fuzz_name[96];

static void put(const char *name, const char *text)
{
	char p[160];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", fuzz_dir, name);
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
		snprintf(p, sizeof(p), "%s/%s", fuzz_dir, inc_names[i]);
		unlink(p);
	}
	rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/ul-fuzz-cfg-XXXXXX");
	if (!mkdtemp(fuzz_dir))
		abort();
	snprintf(fuzz_name, sizeof(fuzz_name), "%s/fuzz.conf", fuzz_dir);
	put("links.inc", "links = ( { name = \"isp1\"; interface = \"wan1\"; gateway = "
	    "\"192.168.1.1\"; } );\n");
	put("daemon.inc", "daemon = { log_level = \"debug\"; rule_priority = 2000; };\n");
	put("bad.inc", "links = ( { name = \"BAD NAME\"; weight = 99999999999; } )\n");
	put("self.inc", "@include \"self.inc\"\n");
	put("empty.inc", "");
	put("nested.inc", "@include \"daemon.inc\"\n@include \"links.inc\"\n");
	atexit(cleanup);
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
	if (strstr(text, "..")) {       /* an include could leave the directory */
		free(text);
		return 0;
	}
	if (ul_config_parse_string(text, fuzz_name, &c, &d) == 0) {
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
		ul_config_free(c);
	} else if (c || d.n == 0) {
		abort();        /* a failure always says why and returns nothing */
	}
	ul_diag_free(&d);
	free(text);
	return 0;
}
