/*
 * guest_error.h - how the full machine's devices tell the user that a guest asked for
 * something wrong: one line on stderr per mistake, for the first GUEST_ERROR_LINES mistakes
 * of each device, then one line saying that the rest go unreported.
 *
 * Why a limit: a hostile or broken guest can repeat a bad request (a descriptor outside RAM,
 * a link loop) millions of times a second. The first lines say what went wrong; printing all
 * of them would let the guest fill the host's disk and slow the VMM down. The device itself
 * still answers every bad request as its specification says (an error bit, a dropped frame).
 */
#ifndef STAGE5_GUEST_ERROR_H
#define STAGE5_GUEST_ERROR_H

#include <stdarg.h>

#define GUEST_ERROR_LINES 20

/* Per device: how many lines it has printed. Zero (as in a zeroed struct) is a fresh count. */
struct guest_errors {
	unsigned reported;
};

/* "who: " (or "who name: " when name is not NULL) and the message, or nothing past the limit. */
__attribute__((format(printf, 4, 0)))
void guest_verror(struct guest_errors *e, const char *who, const char *name, const char *fmt,
		  va_list ap);
__attribute__((format(printf, 4, 5)))
void guest_error(struct guest_errors *e, const char *who, const char *name, const char *fmt, ...);

#endif
