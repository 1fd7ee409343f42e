/*
 * uart.h - a 16550A UART (serial port), the guest's console: Linux's console=ttyS0.
 *
 * Registers per the PC16550D data sheet (National Semiconductor), eight of them at
 * COM1's ports 0x3f8-0x3ff, interrupt on ISA IRQ 4:
 *
 *   +0  RBR (read: received byte)  THR (write: byte to send)   DLAB=1: DLL divisor low
 *   +1  IER interrupt enable: bit 0 data received, bit 1 THR empty, bit 3 modem status
 *                                                              DLAB=1: DLM divisor high
 *   +2  IIR (read: which interrupt, FIFO state)  FCR (write: FIFO control)
 *   +3  LCR line control (bit 7 = DLAB: +0/+1 become the baud-rate divisor)
 *   +4  MCR modem control (bit 4 = loopback: what is sent comes back)
 *   +5  LSR line status: bit 0 data ready, bit 5 THR empty, bit 6 transmitter empty
 *   +6  MSR modem status      +7  SCR scratch (a byte of storage; Linux tests it)
 *
 * A virtual UART sends each byte the moment it is written, so THR is always empty again at
 * once and the baud rate does not matter. The model is split in two: uart_state and the
 * uart_reg_*() functions are pure register logic (unit-tested, saveable); struct uart adds
 * the host side: the output file descriptor and the interrupt line.
 */
#ifndef UART_H
#define UART_H

#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"

#define COM1_PORT 0x3f8
#define COM1_IRQ  4

/* Real 16550As have a 16-byte FIFO; a larger one lets a pasted line through in one go. */
#define UART_RX_FIFO 256

enum uart_reg { UART_RBR_THR, UART_IER, UART_IIR_FCR, UART_LCR, UART_MCR, UART_LSR, UART_MSR,
		UART_SCR };

#define UART_LSR_DR    0x01
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40
#define UART_IER_RDI   0x01   /* interrupt when a byte arrives */
#define UART_IER_THRI  0x02   /* interrupt when THR becomes empty */
#define UART_IER_MSI   0x08
#define UART_IIR_NONE  0x01
#define UART_IIR_THRI  0x02
#define UART_IIR_RDI   0x04
#define UART_IIR_FIFO  0xc0   /* "FIFOs enabled": what makes Linux call it a 16550A */
#define UART_LCR_DLAB  0x80
#define UART_MCR_LOOP  0x10

struct uart_state {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thr_interrupt;       /* THR went empty and IIR has not reported it yet */
	uint16_t rx_head, rx_count;
	uint8_t rx[UART_RX_FIFO];
};

void uart_state_reset(struct uart_state *s);
/* Whether a state from outside (a migration stream) keeps the FIFO's indexes inside it, and
 * its flag a bool (state_check.h). */
bool uart_state_valid(const struct uart_state *s);

/* Register access. A write to THR outside loopback sets *sent to the byte, else to -1. */
uint8_t uart_reg_read(struct uart_state *s, unsigned reg);
void uart_reg_write(struct uart_state *s, unsigned reg, uint8_t value, int *sent);

/* A byte from the outside world; false when the FIFO is full (the byte is lost). */
bool uart_receive(struct uart_state *s, uint8_t byte);

/* The interrupt output: some enabled condition is pending. */
bool uart_irq_pending(const struct uart_state *s);

struct uart {
	struct uart_state state;
	struct irq_line irq;
	int out_fd;               /* where the guest's bytes go: the terminal */
};

/* Register the UART on the bus at port base, wired to GSI irq. */
int uart_attach(struct uart *u, struct io_bus *bus, int vm_fd, uint16_t base, unsigned irq,
		int out_fd);

/* Feed host input to the guest (call with the bus lock held). */
void uart_input(struct uart *u, const uint8_t *bytes, unsigned len);

#endif
