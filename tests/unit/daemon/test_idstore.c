// SPDX-License-Identifier: GPL-2.0-or-later
/* The identity store file: save and load round trip, atomic replacement, a stale temporary
 * file or a symlink planted at its name, a missing file, and assign-and-remember. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "idstore.h"
#include "tk.h"

static char dir[64], path[128], tmp[140];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ul-idstore.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/" UL_IDENT_STORE_NAME, dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	return 0;
}

static int teardown(void **state)
{
	char victim[160];

	(void)state;
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	unlink(path);
	unlink(tmp);
	unlink(victim);
	rmdir(dir);
	return 0;
}

static void round_trip(void **state)
{
	struct ul_ident v[3] = { { "isp1", 2, 202 }, { "isp2", 1, 201 }, { "lte", 9, 300 } };
	struct ul_ident_map m;
	struct stat st;

	(void)state;
	assert_int_equal(ul_idstore_load(path, &m), 0);         /* missing: empty */
	assert_int_equal(m.n, 0);
	assert_int_equal(ul_idstore_save(path, v, 3), 0);
	assert_int_equal(access(tmp, F_OK), -1);                 /* no temporary left */
	assert_int_equal(ul_idstore_load(path, &m), 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.e[2].name, "lte");
	assert_int_equal(m.e[2].id, 9);
	assert_int_equal(m.e[2].table, 300);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* replaced, not appended */
	assert_int_equal(ul_idstore_save(path, v, 1), 0);
	assert_int_equal(ul_idstore_load(path, &m), 0);
	assert_int_equal(m.n, 1);
}

static void stale_tmp_and_symlink(void **state)
{
	struct ul_ident v[1] = { { "isp1", 3, 203 } };
	struct ul_ident_map m;
	char victim[160], buf[16] = "";
	int fd;

	(void)state;
	/* a crash left a temporary file */
	fd = open(tmp, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "junk", 4), 4);
	close(fd);
	assert_int_equal(ul_idstore_save(path, v, 1), 0);
	assert_int_equal(ul_idstore_load(path, &m), 0);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.e[0].id, 3);
	/* a symlink at the temporary name: removed, its target never written */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "keep", 4), 4);
	close(fd);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(ul_idstore_save(path, v, 1), 0);
	fd = open(victim, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf) - 1), 4);
	close(fd);
	assert_string_equal(buf, "keep");
	/* a symlink as the store itself is not followed when loading */
	unlink(path);
	assert_int_equal(symlink(victim, path), 0);
	assert_int_equal(ul_idstore_load(path, &m), -ELOOP);
	assert_int_equal(m.n, 0);
	unlink(path);
}

/* What the daemon does with the store at a start or a reload. */
static void assign_save(struct ul_config *c, struct ul_ident_map *m)
{
	struct ul_ident a[UL_MAX_LINKS];

	assert_int_equal(ul_ident_assign(c, m, a), 0);
	ul_ident_apply(c, a);
	assert_int_equal(ul_idstore_save(path, a, c->n_links), 0);
}

static void assign_remembers(void **state)
{
	struct ul_diag d = { 0 };
	struct ul_config *c = NULL;
	struct ul_ident_map m = { .n = 0 };

	(void)state;
	assert_int_equal(ul_config_parse_string("links = ( { name = \"a\"; interface = \"wa\"; },"
						" { name = \"b\"; interface = \"wb\"; } );\n",
						"t.conf", &c, &d), 0);
	assert_int_equal(ul_idstore_load(path, &m), 0);
	assign_save(c, &m);
	ul_config_free(c);
	/* restart (a fresh map from the file) with the links swapped */
	assert_int_equal(ul_config_parse_string("links = ( { name = \"b\"; interface = \"wb\"; },"
						" { name = \"a\"; interface = \"wa\"; } );\n",
						"t.conf", &c, &d), 0);
	assert_int_equal(c->links[0].id, 1);            /* by position, before the store */
	m.n = 0;
	assert_int_equal(ul_idstore_load(path, &m), 0);
	assert_int_equal(m.n, 2);
	assign_save(c, &m);
	assert_string_equal(c->links[0].name, "b");
	assert_int_equal(c->links[0].id, 2);
	assert_int_equal(c->links[0].table, 202);
	assert_int_equal(c->links[1].id, 1);
	assert_int_equal(c->links[1].table, 201);
	ul_config_free(c);
	ul_diag_free(&d);
}

TK_MAIN(setup, teardown, round_trip, stale_tmp_and_symlink, assign_remembers)
