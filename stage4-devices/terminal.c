/*
 * terminal.c - raw mode and the Ctrl-A escape. See terminal.h.
 */
#include "terminal.h"

#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_A 0x01

static struct termios saved;
static bool is_raw;

void terminal_restore(void)
{
	if (is_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	is_raw = false;
}

void terminal_raw(void)
{
	struct termios raw;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	raw = saved;
	cfmakeraw(&raw);   /* no echo, no line editing, no signals, no output processing */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
		is_raw = true;
		atexit(terminal_restore);
	}
}

unsigned terminal_filter(const uint8_t *in, unsigned len, uint8_t *out, bool *escape, bool *quit)
{
	unsigned n = 0;
	for (unsigned i = 0; i < len; i++) {
		if (*escape) {
			*escape = false;
			if (in[i] == 'x' || in[i] == 'X') {
				*quit = true;
				return n;
			}
			if (in[i] == CTRL_A)
				out[n++] = CTRL_A;
			/* any other key after Ctrl-A is ignored */
		} else if (in[i] == CTRL_A) {
			*escape = true;
		} else {
			out[n++] = in[i];
		}
	}
	return n;
}
