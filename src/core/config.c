// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The configuration: libconfig 1.5 text -> validated, immutable struct ul_config.
 *
 * Every problem is reported as one "FILE:LINE: key.path: message" line in a struct ul_diag and
 * validation goes on, so one run shows all of them; a struct is returned only when there are none.
 *
 * libconfig 1.5 quietly truncates integer literals that do not fit in 32 bits (3000000000 becomes
 * -1294967296, 0x100000001 becomes 1), so the text (and every @include) is scanned first and such
 * literals are reported; range errors on those lines are then not repeated.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "identity.h"
#include "names.h"
#include "setfile.h"

#define MAX_FILE_SIZE (4 << 20)
#define MAX_INCLUDE_DEPTH 10    /* libconfig 1.5's own limit */
#define PATHLEN 128             /* key paths: "port_forwards[12].links[3]" */
#define QLEN UL_CONFIG_QLEN
#define TABLE_MAX 0xfffffff0u

struct mark {
	char *file;             /* raw libconfig file name, NULL = main text */
	int line;
};

struct msg {
	const char *file;       /* raw libconfig file name (owned by config_t), NULL = main */
	int line;
	size_t seq;
	char *text;
};

struct link_meta {
	const config_setting_t *grp, *name, *ifname, *table, *id, *snat, *masq;
};

struct ctx {
	const char *name;       /* the main file as given */
	char *incdir;           /* where @include files are looked up */
	/* An absolute @include in the main text is handed to libconfig (which always prepends
	 * its include directory) as ABS_MARK + "../" for each component of the include
	 * directory's real path + the path; messages show the path as written. */
	const char *main_text;
	struct abs_inc { size_t off, len; char *path; } *abs_incs;
	size_t n_abs_incs;
	char *abs_mark;         /* "./../../" for /tmp/dir */
	char *realdir;          /* realpath of incdir */
	struct ul_diag *diag;
	struct msg *msgs;       /* collected, then sorted by file and line into diag */
	size_t n_msgs;
	unsigned int nerr;
	bool oom;
	bool include_failed;
	char **names;           /* @include names seen by the pre-scan (messages point to them) */
	size_t n_names;
	struct mark *marks;     /* lines holding an integer literal libconfig truncates */
	size_t n_marks;
	const struct ul_config_io *io;  /* reads named sets' files */
	struct ul_config *c;
	struct ul_link_conf *links;     /* every link, even beyond UL_MAX_LINKS */
	struct link_meta *meta;
	size_t n_links;
};

/* ---- diagnostics ---------------------------------------------------------------------------- */

void ul_diag_add(struct ul_diag *d, const char *fmt, ...)
{
	char **msgs, *m = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&m, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	msgs = realloc(d->msgs, (d->n + 1) * sizeof(*msgs));
	if (!msgs) {
		free(m);
		return;
	}
	msgs[d->n++] = m;
	d->msgs = msgs;
}

void ul_diag_free(struct ul_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	d->msgs = NULL;
	d->n = 0;
}

/* Quote a string for a message: one line, printable, at most ~256 characters. */
static const char *qstr(const char *s, char *buf, size_t len)
{
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; s[i] && o + 8 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	if (s[i])
		o += (size_t)snprintf(buf + o, len - o, "...");
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *ul_config_quote(const char *s, char *buf, size_t len)
{
	return qstr(s, buf, len);
}

static int line_of(const config_setting_t *s)
{
	int l = s ? (int)config_setting_source_line(s) : 0;

	return l > 0 ? l : 1;
}

static void note_oom(struct ctx *x)
{
	if (!x->oom)
		ul_diag_add(x->diag, "%s: out of memory", x->name);
	x->oom = true;
	x->nerr++;
}

static bool same_file(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* The prefix of messages about a file libconfig names `file` (raw @include name). */
static const char *file_disp(struct ctx *x, const char *file, const char **pre, const char **sep)
{
	*pre = *sep = "";
	if (!file)
		return x->name;
	if (x->abs_mark && !strncmp(file, x->abs_mark, strlen(x->abs_mark)))
		return file + strlen(x->abs_mark) - 1;  /* the '/' before the path */
	if (strcmp(x->incdir, ".")) {
		*pre = x->incdir;
		*sep = "/";
	}
	return file;
}

static void __attribute__((format(printf, 5, 0)))
verr_at(struct ctx *x, const char *file, int line, const char *path, const char *fmt,
		    va_list ap)
{
	const char *pre, *sep, *fname = file_disp(x, file, &pre, &sep);
	char *msg = NULL, *full = NULL;
	struct msg *m;

	x->nerr++;
	if (vasprintf(&msg, fmt, ap) < 0) {
		note_oom(x);
		return;
	}
	if (line < 1)
		line = 1;
	if (asprintf(&full, "%s%s%s:%d: %s%s%s", pre, sep, fname, line, path ? path : "",
		     path && *path ? ": " : "", msg) < 0) {
		free(msg);
		note_oom(x);
		return;
	}
	free(msg);
	m = realloc(x->msgs, (x->n_msgs + 1) * sizeof(*m));
	if (!m) {
		free(full);
		note_oom(x);
		return;
	}
	x->msgs = m;
	m[x->n_msgs] = (struct msg){ .file = file, .line = line, .seq = x->n_msgs, .text = full };
	x->n_msgs++;
}

static int msg_cmp(const void *a, const void *b)
{
	const struct msg *ma = a, *mb = b;

	if (ma->line != mb->line)
		return ma->line < mb->line ? -1 : 1;
	return ma->seq < mb->seq ? -1 : ma->seq > mb->seq;
}

/* Move the messages into diag: the main file first, then each @include file, by line. */
static void flush_msgs(struct ctx *x)
{
	size_t done = 0;

	while (done < x->n_msgs) {
		const char *file = x->msgs[done].file;
		size_t k = done;

		/* gather this file's messages at [done, k) keeping their order */
		for (size_t i = done; i < x->n_msgs; i++)
			if (same_file(x->msgs[i].file, file)) {
				struct msg t = x->msgs[i];

				memmove(&x->msgs[k + 1], &x->msgs[k], (i - k) * sizeof(t));
				x->msgs[k++] = t;
			}
		qsort(&x->msgs[done], k - done, sizeof(struct msg), msg_cmp);
		for (size_t i = done; i < k; i++) {
			ul_diag_add(x->diag, "%s", x->msgs[i].text);
			free(x->msgs[i].text);
		}
		done = k;
	}
	free(x->msgs);
	x->msgs = NULL;
	x->n_msgs = 0;
}

static void __attribute__((format(printf, 5, 6)))
err_at(struct ctx *x, const char *file, int line, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(x, file, line, path, fmt, ap);
	va_end(ap);
}

/* An error about setting s (its file and line), for the key path. */
static void __attribute__((format(printf, 4, 5)))
err(struct ctx *x, const config_setting_t *s, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr_at(x, s ? config_setting_source_file(s) : NULL, line_of(s), path, fmt, ap);
	va_end(ap);
}

/* Remember where setting s is, as the prefix err() would give a message about it. */
static void where_of(struct ctx *x, const config_setting_t *s, const char *path,
		     struct ul_conf_where *w)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	bool prefix = file && strcmp(x->incdir, ".");
	int line = line_of(s) < 1 ? 1 : line_of(s);

	snprintf(w->at, sizeof(w->at), "%s%s%s:%d: %s", prefix ? x->incdir : "",
		 prefix ? "/" : "", file ? file : x->name, line, path);
	w->line = line;
}

/* "line 5", or "FILE:5" when b is in another file than a. */
static const char *where(struct ctx *x, const config_setting_t *a, const config_setting_t *b,
			 char *buf, size_t len)
{
	const char *fb = config_setting_source_file(b), *pre, *sep, *fname;

	if (same_file(config_setting_source_file(a), fb)) {
		snprintf(buf, len, "line %d", line_of(b));
	} else {
		fname = file_disp(x, fb, &pre, &sep);
		snprintf(buf, len, "%s%s%s:%d", pre, sep, fname, line_of(b));
	}
	return buf;
}

static bool marked(struct ctx *x, const config_setting_t *s)
{
	for (size_t i = 0; i < x->n_marks; i++)
		if (x->marks[i].line == line_of(s) &&
		    same_file(x->marks[i].file, config_setting_source_file(s)))
			return true;
	return false;
}

/* ---- pre-scan for integer literals libconfig 1.5 would truncate ---------------------------- */

static char *read_text(const char *path, int *err_out, bool *has_nul)
{
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0;
	FILE *f = fopen(path, "re");
	struct stat st;

	*has_nul = false;
	if (!f) {
		*err_out = errno;
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		*err_out = EISDIR;
		goto fail;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			if (cap >= MAX_FILE_SIZE) {
				*err_out = EFBIG;
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				*err_out = ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f)) {
				*err_out = EIO;
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	buf[len] = '\0';
	*has_nul = memchr(buf, '\0', len) != NULL;
	return buf;
fail:
	free(buf);
	fclose(f);
	return NULL;
}

static void add_mark(struct ctx *x, const char *file, int line)
{
	struct mark *m = realloc(x->marks, (x->n_marks + 1) * sizeof(*m));

	if (!m) {
		note_oom(x);
		return;
	}
	x->marks = m;
	m[x->n_marks].line = line;
	m[x->n_marks].file = file ? strdup(file) : NULL;
	if (file && !m[x->n_marks].file) {
		note_oom(x);
		return;
	}
	x->n_marks++;
}

static void prescan(struct ctx *x, const char *p, const char *file, int depth);

static void prescan_include(struct ctx *x, const char *file, int line, const char *inc, int depth,
			    const char *raw, size_t raw_len)
{
	char q[QLEN], *full = NULL, *text, **names;
	bool has_nul;
	int e = 0;

	if (depth >= MAX_INCLUDE_DEPTH)
		return; /* libconfig reports the nesting */
	names = realloc(x->names, (x->n_names + 1) * sizeof(*names));
	if (!names) {
		note_oom(x);
		return;
	}
	x->names = names;
	if (inc[0] == '/' && depth == 0 && x->abs_mark) {
		/* the name libconfig will report for it */
		if (asprintf(&names[x->n_names], "%s%s", x->abs_mark, inc + 1) < 0)
			names[x->n_names] = NULL;
	} else {
		names[x->n_names] = strdup(inc);
	}
	if (!names[x->n_names]) {
		note_oom(x);
		return;
	}
	if (inc[0] == '/' && depth == 0 && !x->abs_mark) {
		err_at(x, file, line, NULL, "@include %s: cannot resolve the directory %s",
		       qstr(inc, q, sizeof(q)), x->incdir);
		x->include_failed = true;
		free(names[x->n_names]);
		return;
	}
	if (inc[0] == '/' && depth > 0) {
		err_at(x, file, line, NULL, "@include %s: an absolute path is only allowed in the "
		       "main configuration file (libconfig resolves it inside %s)",
		       qstr(inc, q, sizeof(q)), x->incdir);
		x->include_failed = true;
		free(names[x->n_names]);
		return;
	}
	if (inc[0] == '/') {
		struct abs_inc *ai = realloc(x->abs_incs, (x->n_abs_incs + 1) * sizeof(*ai));

		if (!ai) {
			free(names[x->n_names]);
			note_oom(x);
			return;
		}
		x->abs_incs = ai;
		ai[x->n_abs_incs] = (struct abs_inc){ .off = (size_t)(raw - x->main_text),
						      .len = raw_len, .path = names[x->n_names] };
		x->n_abs_incs++;
	}
	{
		const char *orig = inc;

		inc = names[x->n_names++];     /* freed with the context from here on */
		if (orig[0] == '/' ? !(full = strdup(orig)) :
		    asprintf(&full, "%s/%s", x->incdir, orig) < 0) {
			note_oom(x);
			return;
		}
	}
	text = read_text(full, &e, &has_nul);
	if (!text) {
		err_at(x, file, line, NULL, "@include %s: cannot read %s: %s",
		       qstr(inc[0] == '.' && x->abs_mark && !strncmp(inc, x->abs_mark,
		       strlen(x->abs_mark)) ? inc + strlen(x->abs_mark) - 1 : inc, q, sizeof(q)),
		       full, strerror(e));
		x->include_failed = true;
	} else {
		prescan(x, text, inc, depth + 1);
	}
	free(text);
	free(full);
}

static void prescan_number(struct ctx *x, const char **pp, const char *file, int line)
{
	const char *p = *pp, *start = p;
	bool neg = false, too_big;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
		size_t sig = 0;

		p += 2;
		while (*p == '0')
			p++;
		while (isxdigit((unsigned char)*p)) {
			p++;
			sig++;
		}
		too_big = *p == 'L' ? sig > 16 : sig > 8;
		if (too_big)
			err_at(x, file, line, NULL, "integer %.*s is too large for %s",
			       (int)(p - start), start,
			       *p == 'L' ? "64 bits" : "32 bits (add L for a 64-bit integer)");
	} else {
		unsigned long long v = 0;
		bool ovf = false;

		while (isdigit((unsigned char)*p)) {
			if (v > (ULLONG_MAX - 9) / 10)
				ovf = true;
			else
				v = v * 10 + (unsigned long long)(*p - '0');
			p++;
		}
		if (*p == '.' || *p == 'e' || *p == 'E') {
			/* a float: skip it */
			while (isdigit((unsigned char)*p) || *p == '.' || *p == 'e' || *p == 'E' ||
			       ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
				p++;
			*pp = p;
			return;
		}
		if (*p == 'L')
			too_big = ovf || v > (unsigned long long)LLONG_MAX + neg;
		else
			too_big = ovf || v > (unsigned long long)INT_MAX + neg;
		if (too_big)
			err_at(x, file, line, NULL, "integer %.*s is out of range for %s",
			       (int)(p - start), start,
			       *p == 'L' ? "64 bits" : "32 bits (add L for a 64-bit integer)");
	}
	if (too_big)
		add_mark(x, file, line);
	while (*p == 'L')
		p++;
	*pp = p;
}

static void prescan(struct ctx *x, const char *p, const char *file, int depth)
{
	bool bol = true;
	int line = 1;

	while (*p) {
		char ch = *p;

		if (ch == '\n') {
			line++;
			bol = true;
			p++;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v') {
			p++;
			continue;
		}
		if (bol && !strncmp(p, "@include", 8) && (p[8] == ' ' || p[8] == '\t')) {
			char inc[PATH_MAX];
			size_t n = 0;

			p += 8;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '"') {
				const char *raw = ++p;

				while (*p && *p != '"' && *p != '\n') {
					if (*p == '\\' && p[1] && p[1] != '\n')
						p++;
					if (n + 1 < sizeof(inc))
						inc[n++] = *p;
					p++;
				}
				inc[n] = '\0';
				if (*p == '"') {
					prescan_include(x, file, line, inc, depth, raw,
							(size_t)(p - raw));
					p++;
				}
			}
			bol = false;
			continue;
		}
		bol = false;
		if (ch == '#' || (ch == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
		} else if (ch == '/' && p[1] == '*') {
			p += 2;
			while (*p && !(p[0] == '*' && p[1] == '/'))
				if (*p++ == '\n')
					line++;
			if (*p)
				p += 2;
		} else if (ch == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				if (*p++ == '\n')
					line++;
			}
			if (*p)
				p++;
		} else if (isalpha((unsigned char)ch) || ch == '*') {
			while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '*')
				p++;
		} else if (isdigit((unsigned char)ch) ||
			   ((ch == '-' || ch == '+') && isdigit((unsigned char)p[1]))) {
			prescan_number(x, &p, file, line);
		} else {
			p++;
		}
	}
}

/* ---- typed access ---------------------------------------------------------------------------- */

static const char *type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	}
	return "a value";
}

static bool is_hex(const config_setting_t *s)
{
	return config_setting_get_format(s) == CONFIG_FORMAT_HEX;
}

/* The value of an integer setting (its type already checked). */
static long long int_value(const config_setting_t *s)
{
	if (config_setting_type(s) == CONFIG_TYPE_INT64)
		return config_setting_get_int64(s);
	int v = config_setting_get_int(s);
	/* a hex literal such as 0xfffffff0 arrives as a negative int */
	return v < 0 && is_hex(s) ? (long long)(unsigned int)v : v;
}

static void wrong_type(struct ctx *x, const config_setting_t *s, const char *path, const char *want)
{
	char q[QLEN];

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		err(x, s, path, "expected %s, got the integer %lld", want, int_value(s));
		break;
	case CONFIG_TYPE_FLOAT:
		err(x, s, path, "expected %s, got the float %g", want, config_setting_get_float(s));
		break;
	case CONFIG_TYPE_STRING:
		err(x, s, path, "expected %s, got the string %s", want,
		    qstr(config_setting_get_string(s), q, sizeof(q)));
		break;
	case CONFIG_TYPE_BOOL:
		err(x, s, path, "expected %s, got the boolean %s", want,
		    config_setting_get_bool(s) ? "true" : "false");
		break;
	default:
		err(x, s, path, "expected %s, got %s", want, type_name(config_setting_type(s)));
		break;
	}
}

static void kpath(char *buf, const char *parent, const char *key)
{
	if (snprintf(buf, PATHLEN, "%s%s%s", parent, *parent ? "." : "", key) >= PATHLEN)
		memcpy(buf + PATHLEN - 4, "...", 4);
}

static void ipath(char *buf, const char *parent, size_t i)
{
	if (snprintf(buf, PATHLEN, "%s[%zu]", parent, i) >= PATHLEN)
		memcpy(buf + PATHLEN - 4, "...", 4);
}

static void check_keys(struct ctx *x, const config_setting_t *grp, const char *gpath,
		       const char *const *keys)
{
	int n = config_setting_length(grp);

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(grp, (unsigned int)i);
		const char *name = config_setting_name(e);
		char path[PATHLEN];
		size_t k;

		if (!name)
			continue;
		for (k = 0; keys[k]; k++)
			if (!strcmp(keys[k], name))
				break;
		if (!keys[k]) {
			kpath(path, gpath, name);
			err(x, e, path, "unknown key");
		}
	}
}

/* A member of a group, type-checked. Returns 1 (found, *sp set), 0 (absent) or -1 (reported). */
static int member(struct ctx *x, const config_setting_t *grp, const char *gpath, const char *key,
		  int type, char *path, const config_setting_t **sp)
{
	const config_setting_t *s = config_setting_get_member(grp, key);
	int t;

	kpath(path, gpath, key);
	*sp = s;
	if (!s)
		return 0;
	t = config_setting_type(s);
	if (type == CONFIG_TYPE_INT ? (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) :
	    type == CONFIG_TYPE_LIST ? true : t == type)
		return 1;
	wrong_type(x, s, path, type_name(type));
	return -1;
}

static bool in_range(struct ctx *x, const config_setting_t *s, const char *path, long long v,
		     long long lo, long long hi)
{
	if (v >= lo && v <= hi)
		return true;
	if (marked(x, s))
		x->nerr++;      /* already reported as a truncated literal */
	else if (is_hex(s))
		err(x, s, path, "0x%llx is out of range 0x%llx..0x%llx", v, lo, hi);
	else
		err(x, s, path, "%lld is out of range %lld..%lld", v, lo, hi);
	return false;
}

static int get_u32(struct ctx *x, const config_setting_t *grp, const char *gpath, const char *key,
		   long long lo, long long hi, uint32_t *out, const config_setting_t **sp)
{
	const config_setting_t *s;
	char path[PATHLEN];
	int r = member(x, grp, gpath, key, CONFIG_TYPE_INT, path, &s);
	long long v;

	if (sp)
		*sp = s;
	if (r <= 0)
		return r;
	v = int_value(s);
	if (!in_range(x, s, path, v, lo, hi))
		return -1;
	*out = (uint32_t)v;
	return 1;
}

static int get_str(struct ctx *x, const config_setting_t *grp, const char *gpath, const char *key,
		   const char **out, const config_setting_t **sp, char *path)
{
	const config_setting_t *s;
	int r = member(x, grp, gpath, key, CONFIG_TYPE_STRING, path, &s);

	if (sp)
		*sp = s;
	if (r > 0)
		*out = config_setting_get_string(s);
	return r;
}

/* A group-valued key. Returns 1, 0 (absent) or -1 (reported). */
static int get_group(struct ctx *x, const config_setting_t *grp, const char *gpath,
		     const char *key, const config_setting_t **sp, char *path)
{
	return member(x, grp, gpath, key, CONFIG_TYPE_GROUP, path, sp);
}

/* List-valued keys accept an array, a list, or one scalar standing for a list of one. */
static bool is_seq(const config_setting_t *s)
{
	return config_setting_is_array(s) || config_setting_is_list(s);
}

static size_t seq_len(const config_setting_t *s)
{
	return is_seq(s) ? (size_t)config_setting_length(s) : 1;
}

/* The path of element i of a list, or of the lone value standing for one. */
static void seq_path(const config_setting_t *s, const char *path, size_t i, char *epath)
{
	if (is_seq(s))
		ipath(epath, path, i);
	else
		snprintf(epath, PATHLEN, "%s", path);
}

static const config_setting_t *seq_elem(const config_setting_t *s, const char *path, size_t i,
					char *epath)
{
	seq_path(s, path, i, epath);
	return is_seq(s) ? config_setting_get_elem(s, (unsigned int)i) : s;
}

/* ---- small validators ------------------------------------------------------------------------ */

static bool valid_link_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= UL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || isdigit((unsigned char)s[i]) || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

static bool valid_rule_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= UL_RULE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* The kernel's rules (dev_valid_name), and no control characters. */
static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '/' || ch == ':' || isspace(ch) || ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

/* A link's required name-like key: missing, not valid, or copied into dst (where it was
 * into *where, for the duplicate checks). */
static void get_name(struct ctx *x, const config_setting_t *g, const char *gp, const char *key,
		     bool (*valid)(const char *), const char *needs, const char *what,
		     char *dst, size_t len, const config_setting_t **where)
{
	const config_setting_t *s;
	char path[PATHLEN], q[QLEN];
	const char *str;

	switch (get_str(x, g, gp, key, &str, &s, path)) {
	case 0:
		err(x, g, path, "missing (every link needs %s)", needs);
		break;
	case 1:
		if (!valid(str)) {
			err(x, s, path, "%s is not %s", qstr(str, q, sizeof(q)), what);
			break;
		}
		snprintf(dst, len, "%s", str);
		*where = s;
		break;
	}
}

static bool valid_dns_name(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (n < 1 || n >= 254)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

static bool valid_http_path(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= 256 || s[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* "80" -> 80; digits only, 1..65535. */
static int parse_port(const char *s, size_t len, uint16_t *out)
{
	unsigned long v = 0;

	if (len < 1 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* "ADDR", "ADDR:PORT", "[V6]" or "[V6]:PORT". */
static int parse_hostport(const char *s, struct ul_addr *a, uint16_t *port, bool *has_port)
{
	const char *host = s, *ps = NULL;
	char buf[64];
	size_t hl;

	*has_port = false;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');

		if (!e)
			return -EINVAL;
		host = s + 1;
		hl = (size_t)(e - host);
		if (e[1] == ':')
			ps = e + 2;
		else if (e[1])
			return -EINVAL;
	} else if (ul_addr_parse(s, false, a) == 0) {
		return 0;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - s);
		ps = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, host, hl);
	buf[hl] = '\0';
	if (ul_addr_parse(buf, false, a))
		return -EINVAL;
	if ((s[0] == '[') != (a->family == AF_INET6))
		return -EINVAL;
	if (ps) {
		if (parse_port(ps, strlen(ps), port))
			return -EINVAL;
		*has_port = true;
	}
	return 0;
}

/* An entry of a list being checked for overlaps: its value and its place in the list. */
struct pentry {
	struct ul_addr a;
	uint8_t last[16];       /* last address of the prefix */
	size_t idx;             /* position in the list */
	const config_setting_t *e;
};

static int pentry_cmp(const void *pa, const void *pb)
{
	const struct pentry *a = pa, *b = pb;
	int r;

	if (a->a.family != b->a.family)
		return a->a.family < b->a.family ? -1 : 1;
	r = memcmp(a->a.bytes, b->a.bytes, sizeof(a->a.bytes));
	if (r)
		return r;
	if (a->a.plen != b->a.plen)
		return a->a.plen < b->a.plen ? -1 : 1;     /* the wider prefix first */
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * Overlapping prefixes among v[0..n) in O(n log n). Sorted by start (the wider prefix first),
 * an entry overlaps an earlier one exactly when it lies inside a prefix still open on a stack
 * of nested prefixes (prefixes either nest or are disjoint). Each overlapping pair found is
 * reported once, on the entry that comes later in the list, naming the earlier one; bad[idx]
 * marks the entries reported, each at most once. Returns false on allocation failure.
 */
static bool check_prefix_overlaps(struct ctx *x, const config_setting_t *s, const char *path,
				  struct pentry *v, size_t n, bool *bad)
{
	const char *lname = config_setting_name(s) ? config_setting_name(s) : "";
	size_t *stack, top = 0;

	if (n < 2)
		return true;
	stack = malloc(n * sizeof(*stack));
	if (!stack)
		return false;
	qsort(v, n, sizeof(*v), pentry_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t len = ul_addr_len(v[i].a.family);

		/* close the open prefixes that end before this one starts */
		while (top && (v[stack[top - 1]].a.family != v[i].a.family ||
			       memcmp(v[stack[top - 1]].last, v[i].a.bytes, len) < 0))
			top--;
		/* every prefix on the stack contains this one; the stack holds only entries not
		 * reported, so as in the list order the earlier of two overlapping ones stays */
		while (top) {
			const struct pentry *o = &v[stack[top - 1]], *l = &v[i];
			char a1[UL_ADDR_STRLEN], a2[UL_ADDR_STRLEN], jp[PATHLEN], ep[PATHLEN];
			bool popped = o->idx > l->idx;

			if (popped) {
				const struct pentry *t = o;

				o = l;
				l = t;
			}
			bad[l->idx] = true;
			seq_path(s, path, l->idx, ep);
			ipath(jp, lname, o->idx);
			if (ul_addr_eq(&o->a, &l->a))
				err(x, l->e, ep, "%s is listed twice (also %s)",
				    ul_addr_format(&l->a, a1, sizeof(a1)), jp);
			else
				err(x, l->e, ep, "%s overlaps %s (%s)",
				    ul_addr_format(&l->a, a1, sizeof(a1)),
				    ul_addr_format(&o->a, a2, sizeof(a2)), jp);
			if (!popped)
				break;
			top--;
		}
		if (!bad[v[i].idx])
			stack[top++] = i;
	}
	free(stack);
	return true;
}

/*
 * A list of addresses (host only) or prefixes. *out gets a new array (NULL when empty), in the
 * order of the list. Entries that overlap each other are refused (nftables interval sets
 * reject them).
 */
static void parse_addr_list(struct ctx *x, const config_setting_t *s, const char *path,
			    bool allow_prefix, struct ul_addr **out, size_t *n_out, size_t max,
			    bool unique)
{
	size_t n = seq_len(s), k = 0, np = 0;
	struct ul_addr *v;
	struct pentry *pe = NULL;
	char ep[PATHLEN], q[QLEN];
	bool *bad;

	*out = NULL;
	*n_out = 0;
	if (n == 0) {
		err(x, s, path, "empty list");
		return;
	}
	if (n > max) {
		err(x, s, path, "%zu entries, at most %zu allowed", n, max);
		return;
	}
	v = calloc(n, sizeof(*v));
	bad = calloc(n, sizeof(*bad));
	if (unique)
		pe = calloc(n, sizeof(*pe));
	if (!v || !bad || (unique && !pe)) {
		free(v);
		free(bad);
		free(pe);
		note_oom(x);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = seq_elem(s, path, i, ep);
		const char *str;
		struct ul_addr a;

		bad[i] = true;
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			wrong_type(x, e, ep, "a string");
			continue;
		}
		str = config_setting_get_string(e);
		if (ul_addr_parse(str, allow_prefix, &a)) {
			const char *slash = strchr(str, '/');
			char host[64];
			struct ul_addr h;

			if (!allow_prefix && slash && ul_addr_parse(str, true, &a) == 0)
				err(x, e, ep, "%s is not a host address (no prefix allowed)",
				    qstr(str, q, sizeof(q)));
			else if (allow_prefix && slash && (size_t)(slash - str) < sizeof(host) &&
				 (memcpy(host, str, (size_t)(slash - str)),
				  host[slash - str] = '\0', ul_addr_parse(host, false, &h) == 0) &&
				 strtol(slash + 1, NULL, 10) <= (long)(ul_addr_len(h.family) * 8) &&
				 isdigit((unsigned char)slash[1]))
				err(x, e, ep, "%s has host bits set", qstr(str, q, sizeof(q)));
			else
				err(x, e, ep, "%s is not %s", qstr(str, q, sizeof(q)),
				    allow_prefix ? "an IPv4/IPv6 address or prefix" :
				    "an IPv4/IPv6 address");
			continue;
		}
		bad[i] = false;
		v[i] = a;
		if (unique) {
			pe[np].a = a;
			ul_addr_last(&a, pe[np].last);
			pe[np].idx = i;
			pe[np].e = e;
			np++;
		}
	}
	if (unique && !check_prefix_overlaps(x, s, path, pe, np, bad))
		note_oom(x);
	for (size_t i = 0; i < n; i++)
		if (!bad[i])
			v[k++] = v[i];
	free(pe);
	free(bad);
	*out = v;
	*n_out = k;
}

static const char *range_str(const struct ul_port_range *r, char *buf, size_t len)
{
	if (r->lo == r->hi)
		snprintf(buf, len, "%u", r->lo);
	else
		snprintf(buf, len, "%u-%u", r->lo, r->hi);
	return buf;
}

/* Ports: integers or strings "N" / "A-B". Overlapping entries are refused. */
struct prange {
	struct ul_port_range r;
	size_t idx;             /* position in the list */
	const config_setting_t *e;
};

static int prange_cmp(const void *pa, const void *pb)
{
	const struct prange *a = pa, *b = pb;

	if (a->r.lo != b->r.lo)
		return a->r.lo < b->r.lo ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Overlapping port ranges among p[0..n) (sorted here; v[i] is p[i] before): each is compared
 * with the range reaching furthest among those before it; the later one in the list is
 * reported. The good ones stay in v, in the order of the list. */
static void check_port_overlaps(struct ctx *x, const config_setting_t *s, const char *path,
				struct prange *p, size_t n, struct ul_port_range *v, size_t *n_out)
{
	const char *lname = config_setting_name(s) ? config_setting_name(s) : "";
	size_t far = 0, k = 0, nl = seq_len(s), *order;
	bool *bad = calloc(nl ? nl : 1, sizeof(*bad));

	order = calloc(n ? n : 1, sizeof(*order));
	if (!bad || !order) {
		free(bad);
		free(order);
		note_oom(x);
		*n_out = 0;
		return;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = p[i].idx;    /* list positions, ascending */
	qsort(p, n, sizeof(*p), prange_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct prange *o = &p[far], *l = &p[i];
		bool swapped = false;

		if (l->r.lo <= o->r.hi) {
			char b1[16], b2[16], jp[PATHLEN], ep[PATHLEN];

			if (o->idx > l->idx) {
				const struct prange *t = o;

				o = l;
				l = t;
				swapped = true;
			}
			if (!bad[l->idx]) {
				bad[l->idx] = true;
				seq_path(s, path, l->idx, ep);
				ipath(jp, lname, o->idx);
				err(x, l->e, ep, "%s overlaps %s (%s)",
				    range_str(&l->r, b1, sizeof(b1)), range_str(&o->r, b2, sizeof(b2)),
				    jp);
			}
			if (swapped)
				far = i;        /* the reported one no longer counts */
			continue;
		}
		if (p[i].r.hi > p[far].r.hi)
			far = i;
	}
	for (size_t i = 0; i < n; i++)
		if (!bad[order[i]])
			v[k++] = v[i];
	free(bad);
	free(order);
	*n_out = k;
}

static void parse_port_list(struct ctx *x, const config_setting_t *s, const char *path,
			    struct ul_port_range **out, size_t *n_out)
{
	size_t n = seq_len(s), k = 0;
	struct ul_port_range *v;
	struct prange *pr;
	char ep[PATHLEN], q[QLEN];

	*out = NULL;
	*n_out = 0;
	if (n == 0) {
		err(x, s, path, "empty list");
		return;
	}
	v = calloc(n, sizeof(*v));
	pr = calloc(n, sizeof(*pr));
	if (!v || !pr) {
		free(v);
		free(pr);
		note_oom(x);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = seq_elem(s, path, i, ep);
		struct ul_port_range r;
		int t = config_setting_type(e);

		if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
			long long p = int_value(e);

			if (!in_range(x, e, ep, p, 1, 65535))
				continue;
			r.lo = r.hi = (uint16_t)p;
		} else if (t == CONFIG_TYPE_STRING) {
			const char *str = config_setting_get_string(e), *dash = strchr(str, '-');

			if (dash ? parse_port(str, (size_t)(dash - str), &r.lo) ||
				   parse_port(dash + 1, strlen(dash + 1), &r.hi) || r.lo > r.hi :
				   parse_port(str, strlen(str), &r.lo)) {
				err(x, e, ep, "%s is not a port or port range (N or A-B, 1 <= A "
					      "<= B <= 65535)",
				    qstr(str, q, sizeof(q)));
				continue;
			}
			if (!dash)
				r.hi = r.lo;
		} else {
			wrong_type(x, e, ep, "an integer or a string \"A-B\"");
			continue;
		}
		pr[k] = (struct prange){ .r = r, .idx = i, .e = e };
		v[k++] = r;
	}
	check_port_overlaps(x, s, path, pr, k, v, n_out);
	free(pr);
	*out = v;
}

/* What a list of names refers to: the words of its messages and the lookup. */
struct ref_kind {
	const char *want;       /* the element's type, for wrong_type */
	const char *noun;       /* "link": "unknown link X", "link X is listed twice" */
	const char *unknown;    /* after "unknown <noun> X" */
	bool at_list;           /* messages name the list (links), not the element (sets) */
	int (*index)(const struct ctx *x, const char *name);    /* < 0: unknown */
};

/* Names -> distinct indices, in list order. Returns the count stored (at most max);
 * reports wrong types, unknown and repeated names. */
static size_t parse_refs(struct ctx *x, const config_setting_t *s, const char *path,
			 const struct ref_kind *rk, int *idx, size_t max)
{
	size_t n = seq_len(s), k = 0;
	char ep[PATHLEN], q[QLEN];

	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = seq_elem(s, path, i, ep);
		const char *name, *mp = rk->at_list ? path : ep;
		size_t j;
		int ri;

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			wrong_type(x, e, ep, rk->want);
			continue;
		}
		name = config_setting_get_string(e);
		ri = rk->index(x, name);
		if (ri < 0) {
			err(x, e, mp, "unknown %s %s%s", rk->noun, qstr(name, q, sizeof(q)),
			    rk->unknown);
			continue;
		}
		for (j = 0; j < k; j++)
			if (idx[j] == ri)
				break;
		if (j < k) {
			err(x, e, mp, "%s %s is listed twice", rk->noun, qstr(name, q, sizeof(q)));
			continue;
		}
		if (k < max)
			idx[k++] = ri;
	}
	return k;
}

static int link_ref_index(const struct ctx *x, const char *name)
{
	for (size_t l = 0; l < x->n_links; l++)
		if (x->links[l].name[0] && !strcmp(x->links[l].name, name))
			return (int)l;
	return -1;
}

static const struct ref_kind link_refs = {
	.want = "a link name (string)", .noun = "link", .unknown = "", .at_list = true,
	.index = link_ref_index,
};

/* Link names -> indices. Returns the count stored; reports unknown and repeated names. */
static size_t parse_link_refs(struct ctx *x, const config_setting_t *s, const char *path,
			      int *idx, size_t max)
{
	if (seq_len(s) == 0) {
		err(x, s, path, "empty list");
		return 0;
	}
	return parse_refs(x, s, path, &link_refs, idx, max);
}

/* ---- sections -------------------------------------------------------------------------------- */

/* daemon.metrics_listen = "ADDR:PORT" or "[V6]:PORT" (the port is required). */
static void parse_metrics_listen(struct ctx *x, const config_setting_t *g)
{
	struct ul_daemon_conf *d = &x->c->daemon;
	const config_setting_t *s;
	char path[PATHLEN], q[QLEN];
	const char *str;
	bool has_port;

	if (get_str(x, g, "daemon", "metrics_listen", &str, &s, path) <= 0)
		return;
	if (parse_hostport(str, &d->metrics_addr, &d->metrics_port, &has_port) || !has_port ||
	    !ul_addr_is_host(&d->metrics_addr)) {
		err(x, s, path, "%s is not \"ADDR:PORT\" or \"[IPV6]:PORT\" (e.g. "
		    "\"127.0.0.1:9732\", \"[::1]:9732\")", qstr(str, q, sizeof(q)));
		return;
	}
	d->metrics_on = true;
}

/* A word of a key's table (the table ends with a NULL word). */
struct word {
	const char *w;
	int v;
};

/* str's value in words; otherwise reports "X is not one of w1|w2|..." and returns -1. */
static int one_of(struct ctx *x, const config_setting_t *s, const char *path, const char *str,
		  const struct word *words)
{
	char q[QLEN], list[128];
	size_t o = 0;

	for (const struct word *w = words; w->w; w++)
		if (!strcmp(str, w->w))
			return w->v;
	list[0] = 0;
	for (const struct word *w = words; w->w && o < sizeof(list); w++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? "|" : "", w->w);
	err(x, s, path, "%s is not one of %s", qstr(str, q, sizeof(q)), list);
	return -1;
}

/* A required key of one of two words, w1 or w2: *out = v1 or v2 (unchanged, and the
 * error reported, when the key is missing or neither). */
static void get_either(struct ctx *x, const config_setting_t *g, const char *gp, const char *key,
		       const char *w1, uint8_t v1, const char *w2, uint8_t v2, uint8_t *out)
{
	const struct word words[] = { { w1, v1 }, { w2, v2 }, { NULL, 0 } };
	const config_setting_t *s;
	char path[PATHLEN];
	const char *str;
	int v;

	switch (get_str(x, g, gp, key, &str, &s, path)) {
	case 0:
		err(x, g, path, "missing (\"%s\" or \"%s\")", w1, w2);
		break;
	case 1:
		v = one_of(x, s, path, str, words);
		if (v >= 0)
			*out = (uint8_t)v;
		break;
	}
}

/* daemon.KEY: a group or user name (what: "group", "user") of at most len - 1
 * characters into out, where it stands into at */
static void get_daemon_name(struct ctx *x, const config_setting_t *g, const char *key,
			    const char *what, char *out, size_t len, struct ul_conf_where *at)
{
	const config_setting_t *s;
	char path[PATHLEN], q[QLEN];
	const char *str;

	if (get_str(x, g, "daemon", key, &str, &s, path) <= 0)
		return;
	if (strlen(str) >= len || !str[0]) {
		err(x, s, path, "%s is not a valid %s name", qstr(str, q, sizeof(q)), what);
		return;
	}
	snprintf(out, len, "%s", str);
	where_of(x, s, path, at);
}

static void parse_daemon(struct ctx *x, const config_setting_t *root)
{
	static const char *const keys[] = { "log_level", "control_socket", "control_group",
					    "admin_group", "hook", "hook_user", "hook_timeout_s",
					    "rule_priority", "mark_mask", "balance_table",
					    "metrics_listen", NULL };
	struct ul_daemon_conf *d = &x->c->daemon;
	const config_setting_t *g, *s;
	char path[PATHLEN], q[QLEN];
	const char *str;
	uint32_t v;

	if (get_group(x, root, "", "daemon", &g, path) <= 0)
		return;
	check_keys(x, g, "daemon", keys);
	parse_metrics_listen(x, g);

	if (get_str(x, g, "daemon", "log_level", &str, &s, path) > 0) {
		int lvl = ul_log_level_parse(str);

		if (lvl < 0)
			err(x, s, path, "%s is not one of error|warning|notice|info|debug",
			    qstr(str, q, sizeof(q)));
		else
			d->log_level = lvl;
	}
	if (get_str(x, g, "daemon", "control_socket", &str, &s, path) > 0) {
		if (str[0] != '/')
			err(x, s, path, "%s is not an absolute path", qstr(str, q, sizeof(q)));
		else if (strlen(str) >= sizeof(d->control_socket))
			err(x, s, path, "%s is too long (at most %zu characters)",
			    qstr(str, q, sizeof(q)), sizeof(d->control_socket) - 1);
		else
			snprintf(d->control_socket, sizeof(d->control_socket), "%s", str);
	}
	get_daemon_name(x, g, "control_group", "group", d->control_group, sizeof(d->control_group),
			&d->control_group_at);
	get_daemon_name(x, g, "admin_group", "group", d->admin_group, sizeof(d->admin_group),
			&d->admin_group_at);
	/* that the groups and the hook user exist and the hook can be trusted is the host's
	 * business: checked after parsing (ul_config_check_host), so that parsing is
	 * deterministic */
	if (get_str(x, g, "daemon", "hook", &str, &s, path) > 0) {
		if (str[0] != '/')
			err(x, s, path, "%s is not an absolute path", qstr(str, q, sizeof(q)));
		else if (strlen(str) >= sizeof(d->hook))
			err(x, s, path, "%s is too long", qstr(str, q, sizeof(q)));
		else {
			snprintf(d->hook, sizeof(d->hook), "%s", str);
			where_of(x, s, path, &d->hook_at);
		}
	}
	get_daemon_name(x, g, "hook_user", "user", d->hook_user, sizeof(d->hook_user),
			&d->hook_user_at);
	get_u32(x, g, "daemon", "hook_timeout_s", 1, 3600, &d->hook_timeout_s, NULL);
	get_u32(x, g, "daemon", "rule_priority", 1, 32666, &d->rule_priority, NULL);
	if (get_u32(x, g, "daemon", "mark_mask", 1, 0xffffffffLL, &v, &s) > 0) {
		uint64_t m = v, run;

		while (!(m & 1))
			m >>= 1;
		run = m;
		if (run & (run + 1))
			err(x, s, "daemon.mark_mask", "0x%x is not one contiguous run of bits", v);
		else if (__builtin_popcount(v) < 4)
			err(x, s, "daemon.mark_mask", "0x%x has %d bits, at least 4 are needed", v,
			    __builtin_popcount(v));
		else
			d->mark_mask = v;
	}
	if (get_u32(x, g, "daemon", "balance_table", 1, TABLE_MAX, &v, &s) > 0) {
		if (v >= 253 && v <= 255)
			err(x, s, "daemon.balance_table",
			    "%u is reserved (253, 254 and 255 are the kernel's tables)", v);
		else
			d->balance_table = v;
	}
}

static void check_defaults(struct ul_check *k)
{
	k->method = UL_CHECK_ICMP;
	k->n_targets = 0;
	k->port = 80;
	snprintf(k->dns_name, sizeof(k->dns_name), "example.com");
	snprintf(k->http_path, sizeof(k->http_path), "/");
	k->interval_ms = 1000;
	k->timeout_ms = 1000;
	k->quorum = 1;
	k->down_after = 3;
	k->up_after = 3;
	k->max_rtt_ms = 0;
	k->max_loss_pct = 0;
}

static void parse_check(struct ctx *x, const config_setting_t *g, const char *gp,
			struct ul_check *k)
{
	static const char *const keys[] = { "method", "targets", "port", "dns_name", "http_path",
					    "interval_ms", "timeout_ms", "quorum", "down_after",
					    "up_after", "max_rtt_ms", "max_loss_pct", NULL };
	const config_setting_t *s, *qs;
	char path[PATHLEN], q[QLEN];
	const char *str;
	bool port_set = false;
	uint32_t quorum = 1;
	size_t listed = 0;
	int r;

	check_keys(x, g, gp, keys);
	if (get_str(x, g, gp, "method", &str, &s, path) > 0) {
		int m = ul_check_method_parse(str);

		if (m < 0)
			err(x, s, path, "%s is not one of icmp|dns|tcp|http",
			    qstr(str, q, sizeof(q)));
		else
			k->method = (enum ul_check_method)m;
	}
	r = member(x, g, gp, "targets", CONFIG_TYPE_LIST, path, &s);
	if (r == 0) {
		err(x, g, path, "missing: a check needs at least one target");
	} else if (r > 0) {
		struct ul_addr *t;
		size_t n;

		listed = seq_len(s);
		parse_addr_list(x, s, path, false, &t, &n, UL_MAX_TARGETS, true);
		if (t) {
			memcpy(k->targets, t, n * sizeof(*t));
			k->n_targets = n;
			free(t);
		}
	}
	{
		uint32_t port;

		if (get_u32(x, g, gp, "port", 1, 65535, &port, NULL) > 0) {
			k->port = (uint16_t)port;
			port_set = true;
		}
	}
	if (!port_set && k->method == UL_CHECK_DNS)
		k->port = 53;
	if (get_str(x, g, gp, "dns_name", &str, &s, path) > 0) {
		if (!valid_dns_name(str))
			err(x, s, path, "%s is not a valid DNS name", qstr(str, q, sizeof(q)));
		else
			snprintf(k->dns_name, sizeof(k->dns_name), "%s", str);
	}
	if (get_str(x, g, gp, "http_path", &str, &s, path) > 0) {
		if (!valid_http_path(str))
			err(x, s, path, "%s is not a valid path (\"/...\" without spaces, < 256 "
					"characters)",
			    qstr(str, q, sizeof(q)));
		else
			snprintf(k->http_path, sizeof(k->http_path), "%s", str);
	}
	get_u32(x, g, gp, "interval_ms", 50, 3600000, &k->interval_ms, NULL);
	get_u32(x, g, gp, "timeout_ms", 10, 60000, &k->timeout_ms, NULL);
	if (get_u32(x, g, gp, "quorum", 1, UL_MAX_TARGETS, &quorum, &qs) > 0) {
		size_t n4 = ul_check_family_targets(k, AF_INET);
		size_t n6 = ul_check_family_targets(k, AF_INET6);

		kpath(path, gp, "quorum");
		if (listed && quorum > listed)
			err(x, qs, path, "%u is more than the %zu target%s", quorum, listed,
			    listed == 1 ? "" : "s");
		else if (n4 && n6 && quorum > (n4 < n6 ? n4 : n6))
			err(x, qs, path, "%u is more than the %zu %s target%s (quorum counts per "
					 "family)", quorum, n4 < n6 ? n4 : n6,
			    n4 < n6 ? "IPv4" : "IPv6", (n4 < n6 ? n4 : n6) == 1 ? "" : "s");
		else
			k->quorum = quorum;
	}
	get_u32(x, g, gp, "down_after", 1, 100, &k->down_after, NULL);
	get_u32(x, g, gp, "up_after", 1, 100, &k->up_after, NULL);
	get_u32(x, g, gp, "max_rtt_ms", 0, 60000, &k->max_rtt_ms, NULL);
	get_u32(x, g, gp, "max_loss_pct", 0, 100, &k->max_loss_pct, NULL);
}

static bool is_link_local6(const struct ul_addr *a)
{
	return a->family == AF_INET6 && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

static bool is_multicast6(const struct ul_addr *a)
{
	return a->family == AF_INET6 && a->bytes[0] == 0xff;
}

static bool is_unspec_or_loopback6(const struct ul_addr *a)
{
	static const uint8_t zero[15];

	return a->family == AF_INET6 && !memcmp(a->bytes, zero, 15) && a->bytes[15] <= 1;
}

/* gateway6, nat6, prefix6 of one link. */
static void parse_link6(struct ctx *x, const config_setting_t *g, const char *gp,
			struct ul_link_conf *l)
{
	const config_setting_t *s, *ns = NULL, *ps = NULL;
	char path[PATHLEN], q[QLEN];
	const char *str;

	if (get_str(x, g, gp, "gateway6", &str, &s, path) > 0) {
		struct ul_addr a;

		l->gw6_explicit = true;
		if (!strcmp(str, "auto")) {
			l->gw6_mode = UL_GW_AUTO;
		} else if (!strcmp(str, "none")) {
			l->gw6_mode = UL_GW_NONE;
		} else if (ul_addr_parse(str, false, &a)) {
			err(x, s, path, "%s is not an IPv6 address, \"auto\" or \"none\"",
			    qstr(str, q, sizeof(q)));
		} else if (a.family != AF_INET6) {
			err(x, s, path, "%s is an IPv4 address: IPv4 next hops go in gateway",
			    qstr(str, q, sizeof(q)));
		} else if (is_multicast6(&a) || is_unspec_or_loopback6(&a)) {
			err(x, s, path, "%s cannot be a next hop (multicast, unspecified or "
					"loopback)", qstr(str, q, sizeof(q)));
		} else {
			l->gw6_mode = UL_GW_STATIC;
			l->gateway6 = a;
		}
	}
	if (get_str(x, g, gp, "nat6", &str, &ns, path) > 0) {
		static const struct word nat6s[] = { { "masquerade", UL_NAT6_MASQUERADE },
						     { "prefix", UL_NAT6_PREFIX },
						     { "none", UL_NAT6_NONE }, { NULL, 0 } };
		int v = one_of(x, ns, path, str, nat6s);

		if (v >= 0)
			l->nat6 = (enum ul_nat6)v;
	}
	if (get_str(x, g, gp, "prefix6", &str, &ps, path) > 0) {
		struct ul_addr a;

		if (ul_addr_parse(str, true, &a) || a.family != AF_INET6)
			err(x, ps, path, "%s is not an IPv6 prefix (\"2001:db8:1::/48\")",
			    qstr(str, q, sizeof(q)));
		else if (a.plen < 8 || a.plen > 64)
			err(x, ps, path, "/%u: a routed prefix is /8 to /64 long", a.plen);
		else if (is_link_local6(&a) || is_multicast6(&a))
			err(x, ps, path, "%s is a link-local or multicast prefix",
			    qstr(str, q, sizeof(q)));
		else {
			l->prefix6 = a;
			l->has_prefix6 = true;
		}
	}
	if ((l->nat6 == UL_NAT6_PREFIX || l->nat6 == UL_NAT6_NONE) && !ps) {
		kpath(path, gp, "nat6");
		err(x, ns, path, "\"%s\" needs prefix6 (the link's routed prefix)",
		    ul_nat6_name(l->nat6));
	} else if (ps && l->nat6 == UL_NAT6_MASQUERADE) {
		kpath(path, gp, "prefix6");
		err(x, ps, path, "only used with nat6 = \"prefix\" or \"none\" (nat6 is "
				 "\"masquerade\")");
	}
	if (l->gw6_mode == UL_GW_NONE && (ns || ps)) {
		kpath(path, gp, ns ? "nat6" : "prefix6");
		err(x, ns ? ns : ps, path, "the link carries no IPv6 (gateway6 = \"none\")");
	}
}

/* IPv6 targets need a link that carries IPv6. */
static void check_targets6(struct ctx *x, const config_setting_t *g, const char *gp,
			   const struct ul_link_conf *l)
{
	const config_setting_t *cs = config_setting_get_member(g, "check");
	const config_setting_t *ts = cs ? config_setting_get_member(cs, "targets") : NULL;
	char path[PATHLEN], a[UL_ADDR_STRLEN];

	if (l->gw6_mode != UL_GW_NONE || !ts)
		return;
	for (size_t t = 0; t < l->check.n_targets; t++) {
		if (l->check.targets[t].family != AF_INET6)
			continue;
		kpath(path, gp, "check.targets");
		err(x, ts, path, "%s is an IPv6 target, but the link carries no IPv6 "
				 "(gateway6 = \"none\")",
		    ul_addr_format(&l->check.targets[t], a, sizeof(a)));
		return;
	}
}

/* snat = "ADDR": the link's connections are translated to this (shared) address instead of
 * being masqueraded. An IPv4 host address a node can own: not 0.0.0.0, loopback, multicast
 * or broadcast. */
static void parse_snat(struct ctx *x, const config_setting_t *s, const char *path,
		       const char *str, struct ul_link_conf *l, struct link_meta *m)
{
	char q[QLEN];
	uint8_t b0;

	if (ul_addr_parse(str, false, &l->snat) || l->snat.family != AF_INET) {
		memset(&l->snat, 0, sizeof(l->snat));
		err(x, s, path, "%s is not an IPv4 address", qstr(str, q, sizeof(q)));
		return;
	}
	b0 = l->snat.bytes[0];
	if (b0 == 0 || b0 == 127 || b0 >= 224) {
		memset(&l->snat, 0, sizeof(l->snat));
		err(x, s, path, "%s cannot be a source address (unspecified, loopback, "
				"multicast or reserved)", qstr(str, q, sizeof(q)));
		return;
	}
	m->snat = s;
}

static void parse_link(struct ctx *x, const config_setting_t *g, size_t i)
{
	static const char *const keys[] = { "name", "interface", "gateway", "weight", "tier",
					    "table", "id", "masquerade", "snat", "check", "gateway6",
					    "nat6", "prefix6", NULL };
	struct ul_link_conf *l = &x->links[i];
	struct link_meta *m = &x->meta[i];
	const config_setting_t *s;
	char gp[PATHLEN], path[PATHLEN], q[QLEN];
	const char *str;

	ipath(gp, "links", i);
	m->grp = g;
	l->line = line_of(g);
	l->weight = 1;
	l->tier = 1;
	l->table = (uint32_t)(200 + i + 1);
	l->masquerade = true;
	l->gw_mode = UL_GW_NONE;
	l->gw6_mode = UL_GW_AUTO;
	l->nat6 = UL_NAT6_MASQUERADE;
	check_defaults(&l->check);
	if (!config_setting_is_group(g)) {
		wrong_type(x, g, gp, "a group");
		return;
	}
	check_keys(x, g, gp, keys);

	get_name(x, g, gp, "name", valid_link_name, "a name",
		 "a valid link name (1..15 of a-z 0-9 _ -)", l->name, sizeof(l->name), &m->name);
	get_name(x, g, gp, "interface", valid_ifname, "an interface", "a valid interface name",
		 l->ifname, sizeof(l->ifname), &m->ifname);
	if (get_str(x, g, gp, "gateway", &str, &s, path) > 0) {
		struct ul_addr a;

		if (!strcmp(str, "auto"))
			l->gw_mode = UL_GW_AUTO;
		else if (ul_addr_parse(str, false, &a))
			err(x, s, path, "%s is not an IPv4 address or \"auto\"",
			    qstr(str, q, sizeof(q)));
		else if (a.family != AF_INET)
			err(x, s, path, "%s is an IPv6 address: IPv6 next hops go in gateway6",
			    qstr(str, q, sizeof(q)));
		else {
			l->gateway = a;
			l->gw_mode = UL_GW_STATIC;
		}
	}
	parse_link6(x, g, gp, l);
	get_u32(x, g, gp, "weight", 1, 256, &l->weight, NULL);
	get_u32(x, g, gp, "tier", 1, 16, &l->tier, NULL);
	if (get_u32(x, g, gp, "table", 1, TABLE_MAX, &l->table, &s) > 0) {
		m->table = s;
		l->table_set = true;
	} else if (s) {
		l->table = 0;   /* bad value: already reported, skip the table checks */
	}
	l->id = (uint32_t)i + 1;
	if (get_u32(x, g, gp, "id", 1, UL_ID_MAX, &l->id, &s) > 0) {
		uint32_t mask = x->c->daemon.mark_mask;

		m->id = s;
		kpath(path, gp, "id");
		if (l->id == UL_ID_DROP || l->id == UL_ID_EXCLUDE) {
			err(x, s, path, "%u is reserved (marks 0x%x and 0x%x under "
					"daemon.mark_mask are uplinkd's own)",
			    l->id, UL_ID_DROP << __builtin_ctz(mask), UL_ID_EXCLUDE << __builtin_ctz(mask));
		} else if (!ul_ident_id_valid(l->id, mask)) {
			err(x, s, path, "%u does not fit daemon.mark_mask 0x%x (at most %u)", l->id,
			    mask, mask >> __builtin_ctz(mask));
		} else {
			l->id_set = true;
		}
	}
	if (member(x, g, gp, "masquerade", CONFIG_TYPE_BOOL, path, &s) > 0) {
		l->masquerade = config_setting_get_bool(s);
		m->masq = s;
	}
	if (get_str(x, g, gp, "snat", &str, &s, path) > 0)
		parse_snat(x, s, path, str, l, m);
	if (get_group(x, g, gp, "check", &s, path) > 0)
		parse_check(x, s, path, &l->check);
	check_targets6(x, g, gp, l);
}

static void check_links(struct ctx *x)
{
	uint32_t bt = x->c->daemon.balance_table;
	char path[PATHLEN], q[QLEN], w[PATHLEN + 32];

	for (size_t i = 0; i < x->n_links; i++) {
		struct ul_link_conf *l = &x->links[i];
		struct link_meta *m = &x->meta[i];
		const config_setting_t *ts = m->table ? m->table : m->grp;

		for (size_t j = 0; j < i && l->name[0]; j++)
			if (!strcmp(x->links[j].name, l->name)) {
				ipath(path, "links", i);
				strcat(path, ".name");
				err(x, m->name, path, "duplicate name %s (first at %s)",
				    qstr(l->name, q, sizeof(q)),
				    where(x, m->name, x->meta[j].name, w, sizeof(w)));
				break;
			}
		for (size_t j = 0; j < i && l->ifname[0]; j++)
			if (!strcmp(x->links[j].ifname, l->ifname)) {
				ipath(path, "links", i);
				strcat(path, ".interface");
				err(x, m->ifname, path, "%s is already the interface of link "
							"\"%s\" (%s)",
				    qstr(l->ifname, q, sizeof(q)), x->links[j].name,
				    where(x, m->ifname, x->meta[j].ifname, w, sizeof(w)));
				break;
			}
		for (size_t j = 0; j < i && l->id_set; j++)
			if (x->links[j].id_set && x->links[j].id == l->id) {
				ipath(path, "links", i);
				strcat(path, ".id");
				err(x, m->id, path, "%u is already the id of link \"%s\" (%s)", l->id,
				    x->links[j].name[0] ? x->links[j].name : "?",
				    where(x, m->id, x->meta[j].id, w, sizeof(w)));
				break;
			}
		/* a table by default (200 + position, or remembered) is chosen free by the
		 * identity assignment; only given tables can collide */
		if (!l->table || !l->table_set)
			continue;
		ipath(path, "links", i);
		strcat(path, ".table");
		if (l->table >= 253 && l->table <= 255) {
			err(x, ts, path, "%u is reserved (253, 254 and 255 are the kernel's "
					 "tables)",
			    l->table);
			continue;
		}
		if (l->table == bt) {
			err(x, ts, path, "%u is also daemon.balance_table", l->table);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (x->links[j].table_set && x->links[j].table == l->table) {
				err(x, ts, path, "%u is already the table of link \"%s\" (%s)",
				    l->table, x->links[j].name[0] ? x->links[j].name : "?",
				    where(x, ts, x->meta[j].table, w, sizeof(w)));
				break;
			}
	}
}

static void parse_links(struct ctx *x, const config_setting_t *root)
{
	const config_setting_t *s;
	char path[PATHLEN];
	size_t n;
	int r = member(x, root, "", "links", CONFIG_TYPE_LIST, path, &s);

	if (r == 0) {
		err(x, root, path, "missing: at least one link is required");
		return;
	}
	if (!is_seq(s)) {
		wrong_type(x, s, path, "a list of groups");
		return;
	}
	n = (size_t)config_setting_length(s);
	if (n == 0) {
		err(x, s, path, "empty: at least one link is required");
		return;
	}
	if (n > UL_MAX_LINKS)
		err(x, config_setting_get_elem(s, UL_MAX_LINKS), path,
		    "%zu links, at most %d are supported", n, UL_MAX_LINKS);
	x->links = calloc(n, sizeof(*x->links));
	x->meta = calloc(n, sizeof(*x->meta));
	if (!x->links || !x->meta) {
		note_oom(x);
		return;
	}
	x->n_links = n;
	for (size_t i = 0; i < n; i++)
		parse_link(x, config_setting_get_elem(s, (unsigned int)i), i);
	check_links(x);
	for (size_t i = 0; i < n && i < UL_MAX_LINKS; i++)
		x->c->links[i] = x->links[i];
	x->c->n_links = n < UL_MAX_LINKS ? n : UL_MAX_LINKS;
	/* ids and tables with nothing remembered: the daemon assigns again with its store */
	if (!x->nerr) {
		struct ul_ident a[UL_MAX_LINKS];

		if (ul_ident_assign(x->c, NULL, a))
			err(x, s, path, "more links than free ids under daemon.mark_mask");
		else
			ul_ident_apply(x->c, a);
	}
}

static void parse_lan(struct ctx *x, const config_setting_t *root)
{
	static const char *const keys[] = { "interfaces", "networks", NULL };
	struct ul_lan_conf *lan = &x->c->lan;
	const config_setting_t *g, *s;
	char path[PATHLEN], ep[PATHLEN], q[QLEN];

	if (get_group(x, root, "", "lan", &g, path) <= 0)
		return;
	check_keys(x, g, "lan", keys);
	if (member(x, g, "lan", "interfaces", CONFIG_TYPE_LIST, path, &s) > 0) {
		size_t n = seq_len(s);

		if (n == 0)
			err(x, s, path, "empty list");
		if (n > UL_MAX_LAN_IFS) {
			err(x, s, path, "%zu interfaces, at most %d allowed", n, UL_MAX_LAN_IFS);
			n = 0;
		}
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *e = seq_elem(s, path, i, ep);
			const char *str;
			size_t j;

			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				wrong_type(x, e, ep, "an interface name (string)");
				continue;
			}
			str = config_setting_get_string(e);
			if (!valid_ifname(str)) {
				err(x, e, ep, "%s is not a valid interface name",
				    qstr(str, q, sizeof(q)));
				continue;
			}
			for (j = 0; j < lan->n_ifnames; j++)
				if (!strcmp(lan->ifnames[j], str))
					break;
			if (j < lan->n_ifnames) {
				err(x, e, ep, "%s is listed twice", qstr(str, q, sizeof(q)));
				continue;
			}
			for (j = 0; j < x->n_links; j++)
				if (!strcmp(x->links[j].ifname, str))
					break;
			if (j < x->n_links) {
				err(x, e, ep, "%s is also the interface of link \"%s\"",
				    qstr(str, q, sizeof(q)), x->links[j].name);
				continue;
			}
			snprintf(lan->ifnames[lan->n_ifnames++], IFNAMSIZ, "%s", str);
		}
	}
	if (member(x, g, "lan", "networks", CONFIG_TYPE_LIST, path, &s) > 0) {
		parse_addr_list(x, s, path, true, &lan->networks, &lan->n_networks, SIZE_MAX,
				true);
	}
}

/* Do two prefixes share an address (same family, equal on the shorter prefix)? */
static bool prefix_overlap(const struct ul_addr *a, const struct ul_addr *b)
{
	unsigned int plen = a->plen < b->plen ? a->plen : b->plen;

	if (a->family != b->family)
		return false;
	for (unsigned int bit = 0; bit < plen; bit++) {
		uint8_t m = (uint8_t)(0x80 >> (bit % 8));

		if ((a->bytes[bit / 8] & m) != (b->bytes[bit / 8] & m))
			return false;
	}
	return true;
}

/* Is a inside b (same family, b's prefix covers a)? */
static bool prefix_within(const struct ul_addr *a, const struct ul_addr *b)
{
	return a->family == b->family && a->plen >= b->plen && prefix_overlap(a, b);
}

/* nat6 against lan.networks and against each other (after both are parsed). */
static void check_links6(struct ctx *x, const config_setting_t *root)
{
	const struct ul_lan_conf *lan = &x->c->lan;
	const config_setting_t *ll = config_setting_get_member(root, "links");
	char path[PATHLEN], a1[UL_ADDR_STRLEN], a2[UL_ADDR_STRLEN];
	bool lan6 = false;

	for (size_t n = 0; n < lan->n_networks; n++)
		lan6 |= lan->networks[n].family == AF_INET6;
	for (size_t i = 0; i < x->c->n_links; i++) {
		const struct ul_link_conf *l = &x->c->links[i];
		const config_setting_t *g = ll ? config_setting_get_elem(ll, (unsigned)i) : NULL;
		const config_setting_t *ps = g ? config_setting_get_member(g, "prefix6") : NULL;

		if (!l->has_prefix6 || l->gw6_mode == UL_GW_NONE)
			continue;
		ipath(path, "links", i);
		strcat(path, ".prefix6");
		ul_addr_format(&l->prefix6, a1, sizeof(a1));
		if (l->nat6 == UL_NAT6_PREFIX) {
			if (!lan6)
				err(x, ps, path, "nat6 \"prefix\" translates the LAN's IPv6 "
						 "networks: lan.networks lists none");
			for (size_t n = 0; n < lan->n_networks; n++)
				if (lan->networks[n].family == AF_INET6 &&
				    lan->networks[n].plen < l->prefix6.plen)
					err(x, ps, path, "%s is longer than lan network %s: prefix "
							 "translation keeps the host bits, so the "
							 "LAN prefix may be at most as long",
					    a1, ul_addr_format(&lan->networks[n], a2, sizeof(a2)));
			continue;
		}
		if (lan6) {
			size_t n;

			for (n = 0; n < lan->n_networks; n++)
				if (prefix_within(&l->prefix6, &lan->networks[n]))
					break;
			if (n == lan->n_networks)
				err(x, ps, path, "%s (nat6 \"none\": the LAN numbers from it) is not "
						 "in lan.networks", a1);
		}
		for (size_t j = 0; j < i; j++) {
			const struct ul_link_conf *o = &x->c->links[j];

			if (o->has_prefix6 && o->nat6 == UL_NAT6_NONE &&
			    prefix_overlap(&o->prefix6, &l->prefix6)) {
				err(x, ps, path, "%s overlaps prefix6 %s of link \"%s\"", a1,
				    ul_addr_format(&o->prefix6, a2, sizeof(a2)), o->name);
				break;
			}
		}
	}
}

/* ---- named sets ---- */

static void parse_named_list(struct ctx *x, const config_setting_t *root, const char *key,
			     void **arr, size_t elsize, size_t *n_out,
			     void (*one)(struct ctx *, const config_setting_t *, size_t));

static bool valid_set_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n >= UL_SET_NAME_MAX || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* Names uplinkd gives its own sets and chains in table inet uplinkd. */
static bool reserved_set_name(const char *s)
{
	static const char *const exact[] = { "pre", "pick", "post", "out", "portfwd", "nat",
					     NULL };
	static const char *const prefix[] = { "r_", "sticky_", "lan_", "link_", "ul_", "count_",
					      NULL };

	for (size_t i = 0; exact[i]; i++)
		if (!strcmp(s, exact[i]))
			return true;
	for (size_t i = 0; prefix[i]; i++)
		if (!strncmp(s, prefix[i], strlen(prefix[i])))
			return true;
	return false;
}

int ul_config_read_file(void *ctx, const char *path, char **text, size_t *len)
{
	size_t cap, n = 0;
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	(void)ctx;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || S_ISDIR(st.st_mode)) {
		e = S_ISDIR(st.st_mode) ? -EISDIR : -errno;
		close(fd);
		return e;
	}
	if (st.st_size > (256 << 20)) {
		close(fd);
		return -EFBIG;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {     /* the file grew */
			char *nb;

			if (cap > (256 << 20)) {
				free(buf);
				close(fd);
				return -EFBIG;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = -errno;
			free(buf);
			close(fd);
			return e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static void parse_set(struct ctx *x, const config_setting_t *g, size_t i)
{
	static const char *const keys[] = { "name", "type", "file", "timeout_s", NULL };
	struct ul_set_conf *sc = &x->c->sets[i];
	const config_setting_t *s, *fs = NULL, *ts = NULL;
	char gp[PATHLEN], path[PATHLEN], q[QLEN];
	const char *str;

	ipath(gp, "sets", i);
	sc->line = line_of(g);
	if (!config_setting_is_group(g)) {
		wrong_type(x, g, gp, "a group");
		return;
	}
	check_keys(x, g, gp, keys);
	switch (get_str(x, g, gp, "name", &str, &s, path)) {
	case 0:
		err(x, g, path, "missing");
		break;
	case 1:
		if (!valid_set_name(str))
			err(x, s, path, "%s is not a valid set name (1..32 of A-Z a-z 0-9 _, not "
			    "starting with a digit)", qstr(str, q, sizeof(q)));
		else if (reserved_set_name(str))
			err(x, s, path, "%s is reserved for uplinkd's own sets and chains "
			    "(r_*, sticky_*, lan_*, link_*, ul_*, count_*, pre, pick, post, out, "
			    "portfwd, nat)", qstr(str, q, sizeof(q)));
		else
			snprintf(sc->name, sizeof(sc->name), "%s", str);
		break;
	}
	get_either(x, g, gp, "type", "ipv4", AF_INET, "ipv6", AF_INET6, &sc->family);
	get_str(x, g, gp, "file", &str, &fs, path);
	if (get_u32(x, g, gp, "timeout_s", 1, 2592000, &sc->timeout_s, &ts) > 0)
		sc->dynamic = true;
	if (fs && ts) {
		kpath(path, gp, "timeout_s");
		err(x, ts, path, "a set has either a file or a timeout_s (filled at run time), "
		    "not both");
		return;
	}
	if (!fs && !ts) {
		err(x, g, gp, "needs file = \"...\" (a prefix file) or timeout_s = N (a set "
		    "that other programs fill)");
		return;
	}
	if (fs && config_setting_type(fs) == CONFIG_TYPE_STRING && sc->family) {
		const char *fname = config_setting_get_string(fs);
		char *full = NULL, *text = NULL;
		size_t len = 0;
		int e;

		kpath(path, gp, "file");
		if (!fname[0]) {
			err(x, fs, path, "empty file name");
			return;
		}
		if (fname[0] == '/' || !strcmp(x->incdir, ".") ? !(full = strdup(fname)) :
		    asprintf(&full, "%s/%s", x->incdir, fname) < 0) {
			note_oom(x);
			return;
		}
		sc->file = full;
		e = x->io && x->io->read_file ? x->io->read_file(x->io->ctx, full, &text, &len) :
						ul_config_read_file(NULL, full, &text, &len);
		if (e) {
			err(x, fs, path, "cannot read %s: %s", full, strerror(-e));
			return;
		}
		e = ul_setfile_parse(text, len, full, sc->family, &sc->elems, &sc->n_elems,
				     x->diag);
		free(text);
		if (e == -ENOMEM)
			note_oom(x);
		else if (e)
			x->nerr++;      /* the lines are in diag already */
	}
}

static void parse_sets(struct ctx *x, const config_setting_t *root)
{
	const config_setting_t *l;
	char path[PATHLEN], q[QLEN], w[PATHLEN + 32];

	parse_named_list(x, root, "sets", (void **)&x->c->sets, sizeof(*x->c->sets),
			 &x->c->n_sets, parse_set);
	l = config_setting_get_member(root, "sets");
	if (x->c->n_sets > UL_MAX_SETS)
		err(x, l, "sets", "%zu sets, at most %d are supported", x->c->n_sets,
		    UL_MAX_SETS);
	for (size_t i = 0; i < x->c->n_sets; i++)
		for (size_t j = 0; j < i; j++) {
			const config_setting_t *a, *b, *an, *bn;

			if (!x->c->sets[i].name[0] || strcmp(x->c->sets[i].name, x->c->sets[j].name))
				continue;
			a = config_setting_get_elem(l, (unsigned int)i);
			b = config_setting_get_elem(l, (unsigned int)j);
			an = config_setting_get_member(a, "name");
			bn = config_setting_get_member(b, "name");
			ipath(path, "sets", i);
			strcat(path, ".name");
			err(x, an ? an : a, path, "duplicate name %s (first at %s)",
			    qstr(x->c->sets[i].name, q, sizeof(q)),
			    where(x, an ? an : a, bn ? bn : b, w, sizeof(w)));
			break;
		}
}

static int set_ref_index(const struct ctx *x, const char *name)
{
	int si = ul_config_set_index(x->c, name);

	return si < UL_MAX_SETS ? si : -1;
}

static const struct ref_kind set_refs = {
	.want = "a set name (string)", .noun = "set", .unknown = " (not in sets)",
	.at_list = false, .index = set_ref_index,
};

/* Set names -> indices (src_set, dst_set). An empty list is no condition. */
static void parse_set_refs(struct ctx *x, const config_setting_t *s, const char *path,
			   uint8_t **out, size_t *n_out)
{
	size_t n = seq_len(s), k;
	int idx[UL_MAX_SETS];
	uint8_t *v;

	*out = NULL;
	*n_out = 0;
	if (!n)
		return;
	v = calloc(n, sizeof(*v));
	if (!v) {
		note_oom(x);
		return;
	}
	k = parse_refs(x, s, path, &set_refs, idx, UL_MAX_SETS);
	for (size_t i = 0; i < k; i++)
		v[i] = (uint8_t)idx[i];
	*out = v;
	*n_out = k;
}

/* snat replaces masquerade, translates the LAN's connections only (the router's own, its
 * probes above all, keep the node's own address), and names one link's address. */
static void check_snat(struct ctx *x)
{
	const struct ul_lan_conf *lan = &x->c->lan;
	char path[PATHLEN], q[UL_ADDR_STRLEN];
	bool lan_v4 = false;

	for (size_t i = 0; i < lan->n_networks; i++)
		lan_v4 |= lan->networks[i].family == AF_INET;
	for (size_t i = 0; i < x->n_links; i++) {
		struct ul_link_conf *l = &x->links[i];
		const struct link_meta *m = &x->meta[i];

		if (!m->snat)
			continue;
		ipath(path, "links", i);
		strcat(path, ".snat");
		if (m->masq && l->masquerade) {
			err(x, m->snat, path, "and masquerade = true exclude each other (snat "
					      "replaces masquerade)");
			continue;
		}
		l->masquerade = false;
		if (!lan->n_ifnames && !lan_v4) {
			err(x, m->snat, path, "needs lan.interfaces or an IPv4 network in "
					      "lan.networks (only LAN connections are translated)");
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (x->meta[j].snat && ul_addr_eq(&x->links[j].snat, &l->snat)) {
				err(x, m->snat, path, "%s is already the snat address of link "
						      "\"%s\"",
				    ul_addr_format(&l->snat, q, sizeof(q)), x->links[j].name);
				break;
			}
	}
	for (size_t i = 0; i < x->n_links && i < UL_MAX_LINKS; i++) {
		x->c->links[i].snat = x->links[i].snat;
		x->c->links[i].masquerade = x->links[i].masquerade;
	}
}

/* GP.name of a rule or port forward (1..32 of A-Z a-z 0-9 _ -) into out */
static void get_rule_name(struct ctx *x, const config_setting_t *g, const char *gp, char *out,
			  size_t len)
{
	const config_setting_t *s;
	char path[PATHLEN], q[QLEN];
	const char *str;

	if (get_str(x, g, gp, "name", &str, &s, path) <= 0)
		return;
	if (!valid_rule_name(str))
		err(x, s, path, "%s is not a valid name (1..32 of A-Z a-z 0-9 _ -)",
		    qstr(str, q, sizeof(q)));
	else
		snprintf(out, len, "%s", str);
}

static void parse_rule(struct ctx *x, const config_setting_t *g, size_t i)
{
	static const char *const keys[] = { "name", "src", "dst", "proto", "src_port", "dst_port",
					    "via", "fallback", "src_set", "dst_set", NULL };
	struct ul_rule_conf *r = &x->c->rules[i];
	const config_setting_t *s, *ps = NULL, *ds = NULL, *fs = NULL;
	char gp[PATHLEN], path[PATHLEN];
	const char *str;

	ipath(gp, "rules", i);
	r->line = line_of(g);
	r->fallback = UL_FALLBACK_BALANCE;
	snprintf(r->name, sizeof(r->name), "rule%zu", i + 1);
	if (!config_setting_is_group(g)) {
		wrong_type(x, g, gp, "a group");
		return;
	}
	check_keys(x, g, gp, keys);
	get_rule_name(x, g, gp, r->name, sizeof(r->name));
	if (member(x, g, gp, "src", CONFIG_TYPE_LIST, path, &s) > 0) {
		parse_addr_list(x, s, path, true, &r->src, &r->n_src, SIZE_MAX, true);
	}
	if (member(x, g, gp, "dst", CONFIG_TYPE_LIST, path, &s) > 0) {
		parse_addr_list(x, s, path, true, &r->dst, &r->n_dst, SIZE_MAX, true);
	}
	if (member(x, g, gp, "src_set", CONFIG_TYPE_LIST, path, &s) > 0)
		parse_set_refs(x, s, path, &r->src_sets, &r->n_src_sets);
	if (member(x, g, gp, "dst_set", CONFIG_TYPE_LIST, path, &s) > 0)
		parse_set_refs(x, s, path, &r->dst_sets, &r->n_dst_sets);
	if (get_str(x, g, gp, "proto", &str, &ps, path) > 0) {
		static const struct word protos[] = { { "tcp", UL_PROTO_TCP },
						      { "udp", UL_PROTO_UDP },
						      { "icmp", UL_PROTO_ICMP }, { NULL, 0 } };
		int v = one_of(x, ps, path, str, protos);

		if (v >= 0)
			r->proto = (uint8_t)v;
	}
	if (member(x, g, gp, "src_port", CONFIG_TYPE_LIST, path, &s) > 0) {
		if (r->proto != UL_PROTO_TCP && r->proto != UL_PROTO_UDP && !(ps && !r->proto))
			err(x, s, path, "ports need proto \"tcp\" or \"udp\"");
		parse_port_list(x, s, path, &r->sport, &r->n_sport);
	}
	if (member(x, g, gp, "dst_port", CONFIG_TYPE_LIST, path, &s) > 0) {
		if (r->proto != UL_PROTO_TCP && r->proto != UL_PROTO_UDP && !(ps && !r->proto))
			err(x, s, path, "ports need proto \"tcp\" or \"udp\"");
		parse_port_list(x, s, path, &r->dport, &r->n_dport);
	}
	if (member(x, g, gp, "via", CONFIG_TYPE_LIST, path, &ds) > 0) {
		int idx[UL_MAX_LINKS];

		r->n_via = parse_link_refs(x, ds, path, idx, UL_MAX_LINKS);
		for (size_t k = 0; k < r->n_via; k++)
			r->via[k] = (uint8_t)idx[k];
	}
	if (get_str(x, g, gp, "fallback", &str, &fs, path) > 0) {
		static const struct word fallbacks[] = { { "balance", UL_FALLBACK_BALANCE },
							 { "drop", UL_FALLBACK_DROP }, { NULL, 0 } };
		int v = one_of(x, fs, path, str, fallbacks);

		if (v >= 0)
			r->fallback = (enum ul_fallback)v;
		if (!ds)
			err(x, fs, path, "only allowed with via (a rule without via is an "
					 "exclusion)");
	}
}

static void parse_pf(struct ctx *x, const config_setting_t *g, size_t i)
{
	static const char *const keys[] = { "name", "proto", "port", "to", "links", NULL };
	struct ul_pf_conf *f = &x->c->pfs[i];
	const config_setting_t *s;
	char gp[PATHLEN], path[PATHLEN], q[QLEN];
	const char *str;
	uint32_t port;

	ipath(gp, "port_forwards", i);
	f->line = line_of(g);
	snprintf(f->name, sizeof(f->name), "pf%zu", i + 1);
	for (size_t l = 0; l < x->c->n_links; l++)
		f->links |= 1u << l;
	if (!config_setting_is_group(g)) {
		wrong_type(x, g, gp, "a group");
		return;
	}
	check_keys(x, g, gp, keys);
	get_rule_name(x, g, gp, f->name, sizeof(f->name));
	get_either(x, g, gp, "proto", "tcp", UL_PROTO_TCP, "udp", UL_PROTO_UDP, &f->proto);
	switch (get_u32(x, g, gp, "port", 1, 65535, &port, NULL)) {
	case 0:
		kpath(path, gp, "port");
		err(x, g, path, "missing (the outside port, 1..65535)");
		break;
	case 1:
		f->port = (uint16_t)port;
		break;
	}
	switch (get_str(x, g, gp, "to", &str, &s, path)) {
	case 0:
		err(x, g, path, "missing (\"ADDR\" or \"ADDR:PORT\")");
		break;
	case 1: {
		bool has_port;
		uint16_t p = 0;

		if (parse_hostport(str, &f->to, &p, &has_port)) {
			err(x, s, path, "%s is not \"ADDR\" or \"ADDR:PORT\" (port 1..65535)",
			    qstr(str, q, sizeof(q)));
			break;
		}
		f->to_port = has_port ? p : f->port;
		if (f->to.family == AF_INET6) {
			if (is_link_local6(&f->to) || is_multicast6(&f->to) ||
			    is_unspec_or_loopback6(&f->to))
				err(x, s, path, "%s is not a LAN host's IPv6 address (link-local, "
						"multicast, unspecified or loopback)",
				    qstr(str, q, sizeof(q)));
		}
		break;
	}
	}
	if (!f->to_port)
		f->to_port = f->port;
	if (member(x, g, gp, "links", CONFIG_TYPE_LIST, path, &s) > 0) {
		int idx[UL_MAX_LINKS];
		size_t n = parse_link_refs(x, s, path, idx, UL_MAX_LINKS);

		f->links = 0;
		for (size_t k = 0; k < n; k++)
			f->links |= 1u << idx[k];
	}
}

static void parse_named_list(struct ctx *x, const config_setting_t *root, const char *key,
			     void **arr, size_t elsize, size_t *n_out,
			     void (*one)(struct ctx *, const config_setting_t *, size_t))
{
	const config_setting_t *s;
	char path[PATHLEN];
	size_t n;

	if (member(x, root, "", key, CONFIG_TYPE_LIST, path, &s) <= 0)
		return;
	if (!is_seq(s)) {
		wrong_type(x, s, path, "a list of groups");
		return;
	}
	n = (size_t)config_setting_length(s);
	if (!n)
		return;
	*arr = calloc(n, elsize);
	if (!*arr) {
		note_oom(x);
		return;
	}
	*n_out = n;
	for (size_t i = 0; i < n; i++)
		one(x, config_setting_get_elem(s, (unsigned int)i), i);
}

/* "duplicate name" for element i of list l (a rule or a forward), first used by element j. */
static void dup_name(struct ctx *x, const config_setting_t *l, const char *lname, size_t i,
		     size_t j, const char *name)
{
	const config_setting_t *a = config_setting_get_elem(l, (unsigned int)i);
	const config_setting_t *b = config_setting_get_elem(l, (unsigned int)j);
	const config_setting_t *an = config_setting_get_member(a, "name");
	const config_setting_t *bn = config_setting_get_member(b, "name");
	char path[PATHLEN], q[QLEN], w[PATHLEN + 32];

	ipath(path, lname, i);
	strcat(path, ".name");
	err(x, an ? an : a, path, "duplicate name %s (first at %s)", qstr(name, q, sizeof(q)),
	    where(x, an ? an : a, bn ? bn : b, w, sizeof(w)));
}

/* Duplicate rule / port-forward names and duplicate forwards. */
static void check_names(struct ctx *x, const config_setting_t *root)
{
	const config_setting_t *rl = config_setting_get_member(root, "rules");
	const config_setting_t *pl = config_setting_get_member(root, "port_forwards");
	char path[PATHLEN], q[QLEN], w[PATHLEN + 32];

	for (size_t i = 0; i < x->c->n_rules; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(x->c->rules[i].name, x->c->rules[j].name)) {
				dup_name(x, rl, "rules", i, j, x->c->rules[i].name);
				break;
			}
	for (size_t i = 0; i < x->c->n_pfs; i++) {
		const struct ul_pf_conf *f = &x->c->pfs[i];
		const config_setting_t *a = config_setting_get_elem(pl, (unsigned int)i);

		for (size_t j = 0; j < i; j++)
			if (!strcmp(f->name, x->c->pfs[j].name)) {
				dup_name(x, pl, "port_forwards", i, j, f->name);
				break;
			}
		for (size_t j = 0; j < i; j++) {
			const config_setting_t *b = config_setting_get_elem(pl, (unsigned int)j);
			const config_setting_t *ap;

			if (!f->port || f->proto != x->c->pfs[j].proto ||
			    f->port != x->c->pfs[j].port ||
			    (f->to.family && x->c->pfs[j].to.family &&
			     f->to.family != x->c->pfs[j].to.family))
				continue;       /* one forward per family may share a port */
			ap = config_setting_get_member(a, "port");
			ipath(path, "port_forwards", i);
			strcat(path, ".port");
			err(x, ap ? ap : a, path, "%s port %u is already forwarded by %s (%s)",
			    f->proto == UL_PROTO_TCP ? "tcp" : "udp", f->port,
			    qstr(x->c->pfs[j].name, q, sizeof(q)), where(x, a, b, w, sizeof(w)));
			break;
		}
	}
}

static void parse_sticky(struct ctx *x, const config_setting_t *root)
{
	static const char *const keys[] = { "by", "timeout_s", NULL };
	const config_setting_t *g, *s;
	char path[PATHLEN], q[QLEN];
	const char *str;

	if (get_group(x, root, "", "sticky", &g, path) <= 0)
		return;
	check_keys(x, g, "sticky", keys);
	x->c->sticky.enabled = true;
	if (get_str(x, g, "sticky", "by", &str, &s, path) > 0 && strcmp(str, "source"))
		err(x, s, path, "%s is not \"source\" (the only supported key)",
		    qstr(str, q, sizeof(q)));
	get_u32(x, g, "sticky", "timeout_s", 1, 604800, &x->c->sticky.timeout_s, NULL);
}

static void validate(struct ctx *x, const config_setting_t *root)
{
	static const char *const keys[] = { "daemon", "lan", "links", "rules", "sticky",
					    "port_forwards", "sets", NULL };
	struct ul_config *c = x->c;

	c->daemon.log_level = LOG_INFO;
	snprintf(c->daemon.control_socket, sizeof(c->daemon.control_socket), "%s",
		 UL_DEFAULT_SOCKET);
	c->daemon.hook_timeout_s = 10;
	c->daemon.rule_priority = 1000;
	c->daemon.mark_mask = 0xff00;
	c->daemon.balance_table = 250;
	c->sticky.timeout_s = 600;

	check_keys(x, root, "", keys);
	parse_daemon(x, root);
	parse_links(x, root);
	parse_lan(x, root);
	check_snat(x);
	parse_sets(x, root);
	check_links6(x, root);
	parse_named_list(x, root, "rules", (void **)&c->rules, sizeof(*c->rules), &c->n_rules,
			 parse_rule);
	parse_named_list(x, root, "port_forwards", (void **)&c->pfs, sizeof(*c->pfs), &c->n_pfs,
			 parse_pf);
	check_names(x, root);
	parse_sticky(x, root);
}

/* ---- entry points ---------------------------------------------------------------------------- */

void ul_config_free(struct ul_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_rules; i++) {
		free(c->rules[i].src);
		free(c->rules[i].dst);
		free(c->rules[i].sport);
		free(c->rules[i].dport);
		free(c->rules[i].src_sets);
		free(c->rules[i].dst_sets);
	}
	for (size_t i = 0; i < c->n_sets; i++) {
		free(c->sets[i].file);
		free(c->sets[i].elems);
	}
	free(c->sets);
	free(c->rules);
	free(c->pfs);
	free(c->lan.networks);
	free(c->path);
	free(c);
}

/* x->abs_mark and x->realdir for the include directory (left NULL when it cannot be resolved). */
static void set_abs_mark(struct ctx *x)
{
	size_t depth = 0;
	char *m;

	x->realdir = realpath(x->incdir, NULL);
	if (!x->realdir)
		return;
	for (const char *p = x->realdir; *p; p++)
		if (*p == '/' && p[1] && p[1] != '/')
			depth++;
	m = malloc(2 + 3 * depth + 1);
	if (!m) {
		note_oom(x);
		return;
	}
	strcpy(m, "./");
	for (size_t i = 0; i < depth; i++)
		strcat(m, "../");
	x->abs_mark = m;
}

/* The main text with each absolute @include path replaced by its libconfig name. */
static char *rewrite_abs_includes(struct ctx *x, const char *text)
{
	size_t len = strlen(text), extra = 0, o = 0, at = 0;
	char *out;

	for (size_t i = 0; i < x->n_abs_incs; i++)
		extra += 2 * strlen(x->abs_incs[i].path);
	out = malloc(len + extra + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < x->n_abs_incs; i++) {
		const struct abs_inc *ai = &x->abs_incs[i];

		memcpy(out + o, text + at, ai->off - at);
		o += ai->off - at;
		for (const char *p = ai->path; *p; p++) {
			if (*p == '"' || *p == '\\')
				out[o++] = '\\';
			out[o++] = *p;
		}
		at = ai->off + ai->len;
	}
	memcpy(out + o, text + at, len - at + 1);
	return out;
}

static void report_parse_error(struct ctx *x, const config_t *cfg)
{
	const char *text = config_error_text(cfg) ? config_error_text(cfg) : "parse error";

	if (x->include_failed && !strcmp(text, "cannot open include file"))
		return; /* the pre-scan said which file and why */
	err_at(x, config_error_file(cfg), config_error_line(cfg), NULL, "%s%s", text,
	       strcmp(text, "mismatched element type in array") ? "" :
	       " (an array [ ] holds values of one type; use a list ( ) to mix ports and \"A-B\" "
	       "ranges)");
}

int ul_config_parse_string(const char *text, const char *name, struct ul_config **out,
			   struct ul_diag *diag)
{
	return ul_config_parse_string_io(text, name, NULL, out, diag);
}

int ul_config_parse_string_io(const char *text, const char *name, const struct ul_config_io *io,
			      struct ul_config **out, struct ul_diag *diag)
{
	struct ctx x = { .name = name ? name : "<string>", .diag = diag, .io = io };
	char *rewritten = NULL;
	const char *slash;
	config_t cfg;
	int ret;

	slash = strrchr(x.name, '/');
	if (!slash)
		x.incdir = strdup(".");
	else if (slash == x.name)
		x.incdir = strdup("/");
	else
		x.incdir = strndup(x.name, (size_t)(slash - x.name));
	if (!x.incdir) {
		note_oom(&x);
		return -ENOMEM;
	}
	x.main_text = text;
	set_abs_mark(&x);
	prescan(&x, text, NULL, 0);

	config_init(&cfg);
	config_set_include_dir(&cfg, x.incdir);
	/* an include the pre-scan could not read is not handed to libconfig: its scanner
	 * exit()s on one it can open but not read (a directory: @include ".") */
	if (x.include_failed) {
		ret = -EINVAL;
		goto out;
	}
	if (x.n_abs_incs) {
		if (!(rewritten = rewrite_abs_includes(&x, text))) {
			note_oom(&x);
			ret = -ENOMEM;
			goto out;
		}
		config_set_include_dir(&cfg, x.realdir);
	}
	if (!config_read_string(&cfg, rewritten ? rewritten : text)) {
		report_parse_error(&x, &cfg);
		ret = -EINVAL;
		goto out;
	}
	x.c = calloc(1, sizeof(*x.c));
	if (!x.c || !(x.c->path = strdup(x.name))) {
		note_oom(&x);
	} else {
		validate(&x, config_root_setting(&cfg));
		/* an unnamed link has no name to resolve; nothing else is missing */
	}
	if (x.nerr) {
		ul_config_free(x.c);
		ret = x.oom ? -ENOMEM : -EINVAL;
	} else {
		*out = x.c;
		ret = 0;
	}
out:
	flush_msgs(&x);
	config_destroy(&cfg);
	for (size_t i = 0; i < x.n_marks; i++)
		free(x.marks[i].file);
	free(x.marks);
	for (size_t i = 0; i < x.n_names; i++)
		free(x.names[i]);
	free(x.names);
	free(x.links);
	free(x.meta);
	free(x.incdir);
	free(x.realdir);
	free(x.abs_mark);
	free(x.abs_incs);
	free(rewritten);
	return ret;
}

int ul_config_load(const char *path, struct ul_config **out, struct ul_diag *diag)
{
	bool has_nul;
	char *text;
	int e = 0, ret;

	text = read_text(path, &e, &has_nul);
	if (!text) {
		ul_diag_add(diag, "%s: %s", path, strerror(e));
		return -e;
	}
	if (has_nul) {
		ul_diag_add(diag, "%s: contains a NUL byte (not a text file)", path);
		free(text);
		return -EINVAL;
	}
	ret = ul_config_parse_string(text, path, out, diag);
	free(text);
	return ret;
}

int ul_config_set_index(const struct ul_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_sets; i++)
		if (c->sets[i].name[0] && !strcmp(c->sets[i].name, name))
			return (int)i;
	return -1;
}

int ul_config_link_index(const struct ul_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_links; i++)
		if (!strcmp(c->links[i].name, name))
			return (int)i;
	return -1;
}

size_t ul_check_family_targets(const struct ul_check *k, int family)
{
	size_t n = 0;

	for (size_t i = 0; i < k->n_targets; i++)
		n += k->targets[i].family == family;
	return n;
}

const char *ul_nat6_name(enum ul_nat6 n)
{
	switch (n) {
	case UL_NAT6_MASQUERADE:
		return "masquerade";
	case UL_NAT6_PREFIX:
		return "prefix";
	case UL_NAT6_NONE:
		return "none";
	}
	return "?";
}
