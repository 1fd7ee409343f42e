/*
 * terminal.h - the host terminal as the guest's serial console.
 *
 * In raw mode every key goes to the guest as typed (Ctrl-C included: it is the guest's
 * shell that should see it), and the guest's own \r\n line endings reach the screen
 * unchanged. The escape key is Ctrl-A, as in QEMU: Ctrl-A x quits, Ctrl-A Ctrl-A sends one
 * Ctrl-A. The previous mode is restored at exit, however the VMM ends.
 */
#ifndef TERMINAL_H
#define TERMINAL_H

#include <stdbool.h>
#include <stdint.h>

/* Raw mode on stdin, if it is a terminal; restored by atexit(). */
void terminal_raw(void);
void terminal_restore(void);

/*
 * Filter typed bytes for the escape sequence. Copies what the guest should get to out
 * (at most len bytes) and returns how many; sets *quit on Ctrl-A x. *escape carries the
 * "Ctrl-A seen" state between calls.
 */
unsigned terminal_filter(const uint8_t *in, unsigned len, uint8_t *out, bool *escape, bool *quit);

#endif
