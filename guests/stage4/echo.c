/*
 * echo.c - stage 4's console test guest: what you type comes back.
 *
 * Runs instead of Linux under minivisor-lite (packed as a bzImage, see guests.mk). It polls
 * the 16550A's line status register for received data (LSR bit 0), echoes each byte, and on
 * '!' resets the machine through the keyboard controller. The grader pipes text into the VMM
 * to check the host terminal -> UART -> guest path, and Ctrl-A x to check that it quits.
 */
#include "serial.h"

int main(void)
{
	put_str("echo: ready\n");
	for (;;) {
		while (!(inb(COM1 + 5) & LSR_DATA_READY))
			__asm__ volatile("pause");
		char c = inb(COM1);
		put_char(c);
		if (c == '!')
			break;
	}
	put_str("\necho: done\n");
	outb(0x64, 0xfe);   /* reset: minivisor-lite stops */
	return 0;
}
