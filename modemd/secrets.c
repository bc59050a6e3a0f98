/* pppd-style secrets files and the in-memory secrets store. */
#include "secrets.h"

#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/memops.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct secrets {
	struct secret *v;
	size_t n, cap;
};

struct secrets *secrets_new(void)
{
	return calloc(1, sizeof(struct secrets));
}

static void wipe_str(char *p)
{
	if (p)
		explicit_bzero(p, strlen(p));
}

static void secret_release(struct secret *e)
{
	free(e->client);
	free(e->server);
	wipe_str(e->secret);
	free(e->secret);
	for (size_t i = 0; i < e->n_addrs; i++)
		free(e->addrs[i]);
	memset(e, 0, sizeof(*e));
}

static void truncate_to(struct secrets *s, size_t n)
{
	while (s->n > n)
		secret_release(&s->v[--s->n]);
}

struct secrets *secrets_free(struct secrets *s)
{
	if (!s)
		return NULL;
	truncate_to(s, 0);
	free(s->v);
	free(s);
	return NULL;
}

size_t secrets_count(const struct secrets *s)
{
	return s ? s->n : 0;
}

const struct secret *secrets_at(const struct secrets *s, size_t i)
{
	return s && i < s->n ? &s->v[i] : NULL;
}

/* Append an entry built from NUL-terminated words; words[2] is the secret. */
static int append(struct secrets *s, char words[][SECRET_WORD_MAX + 1], size_t n_words,
		  unsigned line)
{
	if (s->n >= SECRETS_MAX_ENTRIES)
		return -E2BIG;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct secret *v = reallocarray(s->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	struct secret *e = &s->v[s->n];
	memset(e, 0, sizeof(*e));
	e->line = line;
	e->client = strdup(words[0]);
	e->server = strdup(words[1]);
	e->secret = strdup(words[2]);
	if (!e->client || !e->server || !e->secret)
		goto oom;
	e->secret_len = strlen(e->secret);
	for (size_t i = 3; i < n_words; i++) {
		e->addrs[e->n_addrs] = strdup(words[i]);
		if (!e->addrs[e->n_addrs])
			goto oom;
		e->n_addrs++;
	}
	s->n++;
	return 0;
oom:
	secret_release(e);
	return -ENOMEM;
}

int secrets_add(struct secrets *s, const char *client, const char *server, const char *secret)
{
	char words[3][SECRET_WORD_MAX + 1];
	int r;

	if (!s || !client || !server || !secret)
		return -EINVAL;
	if (strlen(client) > SECRET_NAME_MAX || strlen(server) > SECRET_NAME_MAX ||
	    strlen(secret) > SECRET_VALUE_MAX)
		return -ENAMETOOLONG;
	strcpy(words[0], client);
	strcpy(words[1], server);
	strcpy(words[2], secret);
	r = append(s, words, 3, 0);
	explicit_bzero(words[2], sizeof(words[2]));
	return r;
}

const struct secret *secrets_lookup(const struct secrets *s, const char *client, const char *server)
{
	const struct secret *best = NULL;
	int best_score = -1;

	if (!s || !client || !server)
		return NULL;
	for (size_t i = 0; i < s->n; i++) {
		const struct secret *e = &s->v[i];
		bool c_wild = strcmp(e->client, "*") == 0, s_wild = strcmp(e->server, "*") == 0;
		if (!c_wild && strcmp(e->client, client) != 0)
			continue;
		if (!s_wild && strcmp(e->server, server) != 0)
			continue;
		/* pppd's ranking: an exact client name counts more than an
		 * exact server name; the first of equal rank wins. */
		int score = (c_wild ? 0 : 2) + (s_wild ? 0 : 1);
		if (score > best_score) {
			best = e;
			best_score = score;
			if (score == 3)
				break;
		}
	}
	return best;
}

/* ---- the word lexer (pppd(8) OPTIONS FILES rules) ---- */

struct lexer {
	struct rbuf in;
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4))) static int lex_error(struct lexer *lx, int r, const char *fmt,
							   ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (lx->err && lx->errlen)
		snprintf(lx->err, lx->errlen, "%s:%u: %s", lx->name, lx->line, why);
	return r;
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' || c == '\n';
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* After a backslash: decode one escape. Returns the byte (0..255), 256 for a
 * line continuation (nothing to add), or a negative errno. */
static int lex_escape(struct lexer *lx)
{
	uint8_t c, d;

	if (rbuf_get8(&lx->in, &c) < 0)
		return lex_error(lx, -EINVAL, "backslash at end of file");
	switch (c) {
	case '\n':
		lx->line++;
		return 256;
	case 'a':
		return '\a';
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 's':
		return ' ';
	case 't':
		return '\t';
	case 'v':
		return '\v';
	case '^':
		/* \^C: control character */
		if (rbuf_get8(&lx->in, &d) < 0 || d == '\n')
			return lex_error(lx, -EINVAL, "incomplete \\^ escape");
		return d & 0x1f;
	case 'x': {
		int v = 0, n = 0, h;
		while (n < 2 && rbuf_peek8(&lx->in, 0, &d) == 0 && (h = hexval(d)) >= 0) {
			v = v * 16 + h;
			rbuf_skip(&lx->in, 1);
			n++;
		}
		if (n == 0)
			return lex_error(lx, -EINVAL, "\\x without hex digits");
		return v;
	}
	default:
		break;
	}
	if (c >= '0' && c <= '7') {
		int v = c - '0', n = 1;
		while (n < 3 && rbuf_peek8(&lx->in, 0, &d) == 0 && d >= '0' && d <= '7') {
			v = v * 8 + (d - '0');
			rbuf_skip(&lx->in, 1);
			n++;
		}
		return v & 0xff;
	}
	return c; /* any other character stands for itself: \\ \" \' \# \  */
}

/* Next word into w (NUL-terminated, at most SECRET_WORD_MAX bytes). *nl is
 * set when a line break came before it. Returns 1 word, 0 end, <0 error. */
static int lex_word(struct lexer *lx, char *w, bool *nl)
{
	size_t n = 0;
	uint8_t c, quote = 0;

	*nl = false;
	for (;;) {
		if (rbuf_peek8(&lx->in, 0, &c) < 0)
			return 0;
		if (c == '\n') {
			lx->line++;
			*nl = true;
		} else if (c == '#') {
			while (rbuf_peek8(&lx->in, 0, &c) == 0 && c != '\n')
				rbuf_skip(&lx->in, 1);
			continue;
		} else if (c == '\\') {
			uint8_t d;
			if (rbuf_peek8(&lx->in, 1, &d) < 0 || d != '\n')
				break;
			rbuf_skip(&lx->in, 1);
			lx->line++;
		} else if (!is_space(c)) {
			break;
		}
		rbuf_skip(&lx->in, 1);
	}
	for (;;) {
		int v;
		if (rbuf_peek8(&lx->in, 0, &c) < 0) {
			if (quote)
				return lex_error(lx, -EINVAL, "unterminated %c quote", quote);
			break;
		}
		if (!quote && is_space(c))
			break; /* the newline stays for the next call */
		rbuf_skip(&lx->in, 1);
		if (c == '\n')
			return lex_error(lx, -EINVAL, "unterminated %c quote", quote);
		if (quote && c == quote) {
			quote = 0;
			continue;
		}
		if (!quote && (c == '"' || c == '\'')) {
			quote = c;
			continue;
		}
		if (c == '\\') {
			v = lex_escape(lx);
			if (v < 0)
				return v;
			if (v == 256)
				continue;
		} else {
			v = c;
		}
		if (v == 0)
			return lex_error(lx, -EINVAL, "NUL byte in a word");
		if (n >= SECRET_WORD_MAX)
			return lex_error(lx, -E2BIG, "word longer than %d bytes", SECRET_WORD_MAX);
		w[n++] = (char)v;
	}
	w[n] = 0;
	return 1;
}

#define ENTRY_WORDS (3 + SECRETS_MAX_ADDRS)

struct entry_words {
	char w[ENTRY_WORDS][SECRET_WORD_MAX + 1];
	size_t n;
	unsigned line;
};

static int flush_entry(struct secrets *s, struct lexer *lx, struct entry_words *e)
{
	unsigned cur = lx->line;
	int r = 0;

	if (e->n == 0)
		return 0;
	lx->line = e->line; /* errors name the line the entry starts on */
	if (e->n < 3)
		r = lex_error(lx, -EINVAL, "expected \"client server secret [address ...]\"");
	else if (strlen(e->w[0]) > SECRET_NAME_MAX || strlen(e->w[1]) > SECRET_NAME_MAX)
		r = lex_error(lx, -E2BIG, "name longer than %d bytes", SECRET_NAME_MAX);
	else if (e->w[2][0] == '@')
		r = lex_error(lx, -EINVAL, "secrets read from a file (@...) are not supported");
	else if ((r = append(s, e->w, e->n, e->line)) == -E2BIG)
		r = lex_error(lx, r, "more than %d secrets", SECRETS_MAX_ENTRIES);
	else if (r < 0)
		r = lex_error(lx, r, "out of memory");
	lx->line = cur;
	for (size_t i = 0; i < e->n; i++)
		explicit_bzero(e->w[i], sizeof(e->w[i]));
	e->n = 0;
	return r;
}

int secrets_load_string(struct secrets *s, const char *text, size_t len, const char *name,
			char *err, size_t errlen)
{
	struct lexer lx = {.in = rbuf_make(text, len),
			   .name = name ? name : "secrets",
			   .line = 1,
			   .err = err,
			   .errlen = errlen};
	char word[SECRET_WORD_MAX + 1];
	struct entry_words *e;
	size_t start;
	int r;

	if (err && errlen)
		err[0] = 0;
	if (!s || (!text && len))
		return -EINVAL;
	if (len > SECRETS_FILE_MAX)
		return lex_error(&lx, -E2BIG, "larger than %d bytes", SECRETS_FILE_MAX);
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	start = s->n;
	for (;;) {
		bool nl;

		r = lex_word(&lx, word, &nl);
		if (r < 0)
			break;
		if (r == 0) {
			r = flush_entry(s, &lx, e);
			break;
		}
		if (lx.line > SECRETS_MAX_LINES) {
			r = lex_error(&lx, -E2BIG, "more than %d lines", SECRETS_MAX_LINES);
			break;
		}
		if (nl && (r = flush_entry(s, &lx, e)) < 0)
			break;
		if (e->n == 0)
			e->line = lx.line;
		if (e->n == ENTRY_WORDS) {
			lx.line = e->line;
			r = lex_error(&lx, -E2BIG, "more than %d addresses", SECRETS_MAX_ADDRS);
			break;
		}
		memcpy(e->w[e->n++], word, sizeof(word));
	}
	explicit_bzero(word, sizeof(word));
	explicit_bzero(e, sizeof(*e));
	free(e);
	if (r < 0) {
		truncate_to(s, start);
		return r;
	}
	return (int)(s->n - start);
}

int secrets_load_file(struct secrets *s, const char *path, uid_t owner_uid, char *err,
		      size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, r;

	if (err && errlen)
		err[0] = 0;
	if (!s || !path)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-r));
		return r;
	}
	/* Checked on the open descriptor, so what we read is what we checked. */
	if (fstat(fd, &st) < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot stat: %s", path, strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EPERM;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_uid != owner_uid) {
		r = -EPERM;
		snprintf(err, errlen, "%s: owned by uid %u, must be owned by uid %u", path,
			 (unsigned)st.st_uid, (unsigned)owner_uid);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		r = -EPERM;
		snprintf(err, errlen,
			 "%s: mode %04o gives group/others access to secrets; use chmod 600", path,
			 (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > SECRETS_FILE_MAX) {
		r = -E2BIG;
		snprintf(err, errlen, "%s: larger than %d bytes", path, SECRETS_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	/* Read one byte more than stat said, to notice a file that grew. */
	while (got <= (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			snprintf(err, errlen, "%s: read: %s", path, strerror(-r));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > (size_t)st.st_size) {
		r = -EAGAIN;
		snprintf(err, errlen, "%s: changed while being read", path);
		goto out;
	}
	r = secrets_load_string(s, buf, got, path, err, errlen);
out:
	if (buf) {
		explicit_bzero(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	close(fd);
	return r;
}

/* ---- helpers shared by pap.c and chap.c ---- */

bool auth_secret_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	uint8_t pa[SECRET_VALUE_MAX + 1] = {0}, pb[SECRET_VALUE_MAX + 1] = {0};
	bool eq;

	if (alen > SECRET_VALUE_MAX || blen > SECRET_VALUE_MAX)
		return false;
	/* Fixed-size padded copies: the comparison takes the same time
	 * whatever the contents; lengths are compared separately. */
	memcpy(pa, a, alen);
	memcpy(pb, b, blen);
	eq = memeql_sec(pa, pb, sizeof(pa)) != 0;
	eq &= alen == blen;
	explicit_bzero(pa, sizeof(pa));
	explicit_bzero(pb, sizeof(pb));
	return eq;
}

void auth_printable(char *out, size_t size, const uint8_t *p, size_t n)
{
	size_t i;

	if (!size)
		return;
	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[i] = 0;
}

bool auth_name_valid(const uint8_t *p, size_t n)
{
	if (n > SECRET_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

int auth_hdr_parse(const uint8_t *pkt, size_t len, uint8_t *code, uint8_t *id, struct rbuf *body)
{
	struct rbuf r = rbuf_make(pkt, len);
	uint16_t plen;

	if (rbuf_get8(&r, code) < 0 || rbuf_get8(&r, id) < 0 || rbuf_get16(&r, &plen) < 0)
		return -EBADMSG;
	if (plen < 4 || rbuf_sub(&r, plen - 4u, body) < 0)
		return -EBADMSG;
	return 0;
}
