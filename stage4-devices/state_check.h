/*
 * state_check.h - what a device state from outside (a migration stream) must be before a
 * device model reads it, beside the indexes each *_state_valid() checks: every bool 0 or 1.
 *
 * Teaches: a C bool holds only 0 or 1. A stream is bytes, and a byte 2 copied into a bool is
 * undefined behaviour the first time the field is read (the compiler may use the byte as it
 * is: !b is then 3, b ? x : y picks neither, an array indexed by b goes past its end). So a
 * loader looks at the byte through an unsigned char view - which C allows for any object -
 * before the field is ever read as a bool.
 */
#ifndef STATE_CHECK_H
#define STATE_CHECK_H

#include <stddef.h>

/* Is field (a bool) of the type-struct at ptr a 0 or a 1? */
#define STATE_BOOL_OK(ptr, type, field) \
	(((const unsigned char *)(ptr))[offsetof(type, field)] <= 1)

#endif
