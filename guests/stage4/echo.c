/*
 * echo.c - stage 4's console test guest: what you type comes back.
 *
 * Runs instead of Linux under minivisor-lite (packed as a bzImage, see guests.mk). It polls
 * the 16550A's line status register for received data (LSR bit 0), echoes each byte, and on
 * '!' resets the machine through the keyboard controller. The grader pipes text into the VMM
 * to check the host terminal -> UART -> guest path, and Ctrl-A x to check that it quits.
 */
#include <stdint.h>

#define COM1 0x3f8
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void put_char(char c)
{
	while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
		;
	outb(COM1, c);
}

static void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

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
