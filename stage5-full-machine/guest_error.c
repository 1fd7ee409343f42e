/*
 * guest_error.c - one line per guest mistake, up to a limit (guest_error.h says why).
 */
#include <stdio.h>

#include "guest_error.h"

void guest_verror(struct guest_errors *e, const char *who, const char *name, const char *fmt,
		  va_list ap)
{
	if (e->reported > GUEST_ERROR_LINES)
		return;
	fprintf(stderr, "%s%s%s: ", who, name ? " " : "", name ? name : "");
	if (e->reported++ == GUEST_ERROR_LINES) {
		fputs("more guest errors, not reported\n", stderr);
		return;
	}
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void guest_error(struct guest_errors *e, const char *who, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	guest_verror(e, who, name, fmt, ap);
	va_end(ap);
}
