/* Table rendering for mpctl status (and anything else tabular). */
#include "output.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cell {
	char *text;
	enum out_color color;
};

struct table {
	size_t ncols, nrows, cap;
	const char *const *headers;
	struct cell *cells; /* nrows * ncols */
};

static const char *const color_on[] = {
    [OUT_PLAIN] = "",	    [OUT_GREEN] = "\033[32m", [OUT_YELLOW] = "\033[33m",
    [OUT_RED] = "\033[31m", [OUT_DIM] = "\033[2m",
};

struct table *table_new(const char *const *headers, size_t ncols)
{
	struct table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->headers = headers;
	t->ncols = ncols;
	return t;
}

struct table *table_free(struct table *t)
{
	if (!t)
		return NULL;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i].text);
	free(t->cells);
	free(t);
	return NULL;
}

int table_add_row(struct table *t)
{
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		struct cell *c = reallocarray(t->cells, cap * t->ncols, sizeof(*c));
		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(struct cell));
	t->nrows++;
	return 0;
}

void table_set(struct table *t, size_t col, enum out_color color, const char *fmt, ...)
{
	if (!t->nrows || col >= t->ncols)
		return;
	struct cell *c = &t->cells[(t->nrows - 1) * t->ncols + col];
	free(c->text);
	c->text = NULL;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&c->text, fmt, ap) < 0)
		c->text = NULL;
	va_end(ap);
	c->color = color;
}

size_t display_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

bool out_want_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");
	return isatty(fileno(f)) && !(nc && *nc);
}

static const char *cell_text(const struct cell *c)
{
	return c->text && *c->text ? c->text : "-";
}

static void print_cell(FILE *f, const char *text, enum out_color color, bool use_color, size_t pad)
{
	bool paint = use_color && color != OUT_PLAIN;
	fprintf(f, "%s%s%s%*s", paint ? color_on[color] : "", text, paint ? "\033[0m" : "",
		(int)pad, "");
}

void table_print(const struct table *t, FILE *f, bool color)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	if (!w)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = display_width(t->headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t n = display_width(cell_text(&t->cells[r * t->ncols + c]));
			w[c] = n > w[c] ? n : w[c];
		}
	}
	for (size_t r = 0; r <= t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *text;
			enum out_color col = OUT_PLAIN;
			if (r == 0) {
				text = t->headers[c];
			} else {
				const struct cell *cell = &t->cells[(r - 1) * t->ncols + c];
				text = cell_text(cell);
				col = cell->color;
			}
			bool last = c + 1 == t->ncols;
			size_t pad = last ? 0 : w[c] - display_width(text) + 2;
			print_cell(f, text, col, color, pad);
		}
		fputc('\n', f);
	}
	free(w);
}
