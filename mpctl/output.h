/* A small table printer: columns aligned by display width; colour only when
 * asked to (stdout is a TTY). Data comes from the daemon; this only renders. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum out_color { OUT_PLAIN, OUT_GREEN, OUT_YELLOW, OUT_RED, OUT_DIM };

struct table;

struct table *table_new(const char *const *headers, size_t ncols);
struct table *table_free(struct table *t);
/* Start a new row; its cells are empty ("-") until set. */
int table_add_row(struct table *t);
/* Set a cell of the last row; NULL or "" text prints as "-". */
void table_set(struct table *t, size_t col, enum out_color color, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Two spaces between columns; no trailing blanks. */
void table_print(const struct table *t, FILE *f, bool color);

/* Columns a UTF-8 string takes on a terminal (code points; no wide glyphs here). */
size_t display_width(const char *s);
/* isatty(stdout) unless NO_COLOR is set. */
bool out_want_color(FILE *f);
