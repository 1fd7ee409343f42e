/*
 * serial.h - port I/O and a polled COM1 console for stage 4's bare test guests.
 *
 * The guests run instead of Linux, with no interrupts set up, so they poll the 16550A's
 * line status register (LSR, COM1 + 5): bit 0 "data ready", bit 5 "transmitter holding
 * register empty". Static inline: each guest is one C file plus this header.
 */
#ifndef STAGE4_SERIAL_H
#define STAGE4_SERIAL_H

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

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void put_char(char c)
{
	while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
		;
	outb(COM1, c);
}

static inline void put_str(const char *s)
{
	while (*s)
		put_char(*s++);
}

#endif
