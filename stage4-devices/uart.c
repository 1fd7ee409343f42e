/*
 * uart.c - 16550A register logic and its wiring to the terminal and IRQ 4.
 * See uart.h for the register map (PC16550D data sheet, section 8).
 */
#include "uart.h"
#include "state_check.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void uart_state_reset(struct uart_state *s)
{
	/* Everything 0 after a reset (data sheet table 8): no interrupts enabled, FIFOs off. */
	memset(s, 0, sizeof(*s));
}

static bool rx_ready(const struct uart_state *s)
{
	return s->rx_count > 0;
}

static uint8_t rx_pop(struct uart_state *s)
{
	if (!s->rx_count)
		return 0;
	uint8_t b = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % UART_RX_FIFO;
	s->rx_count--;
	return b;
}

bool uart_receive(struct uart_state *s, uint8_t byte)
{
	if (s->rx_count == UART_RX_FIFO)
		return false;
	s->rx[(s->rx_head + s->rx_count) % UART_RX_FIFO] = byte;
	s->rx_count++;
	return true;
}

/* IIR: the highest-priority pending interrupt (data sheet table 4): received data first. */
static uint8_t current_iir(const struct uart_state *s)
{
	uint8_t fifo = (s->fcr & 1) ? UART_IIR_FIFO : 0;
	if ((s->ier & UART_IER_RDI) && rx_ready(s))
		return fifo | UART_IIR_RDI;
	if ((s->ier & UART_IER_THRI) && s->thr_interrupt)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NONE;
}

bool uart_state_valid(const struct uart_state *s)
{
	return s->rx_head < UART_RX_FIFO && s->rx_count <= UART_RX_FIFO &&
	       STATE_BOOL_OK(s, struct uart_state, thr_interrupt);
}

bool uart_irq_pending(const struct uart_state *s)
{
	return !(current_iir(s) & UART_IIR_NONE);
}

/* MSR: in loopback the modem inputs are wired to the MCR outputs (RTS->CTS, DTR->DSR...). */
static uint8_t current_msr(const struct uart_state *s)
{
	if (s->mcr & UART_MCR_LOOP) {
		uint8_t m = s->mcr;
		return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) |
		       ((m & 0x08) << 4);
	}
	return 0xb0;   /* DCD, DSR, CTS: a terminal is connected and ready */
}

uint8_t uart_reg_read(struct uart_state *s, unsigned reg)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		return dlab ? s->dll : rx_pop(s);
	case UART_IER:
		return dlab ? s->dlm : s->ier;
	case UART_IIR_FCR: {
		uint8_t iir = current_iir(s);
		/* Reading IIR while it reports "THR empty" acknowledges that interrupt. */
		if ((iir & 0x0f) == UART_IIR_THRI)
			s->thr_interrupt = false;
		return iir;
	}
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		return (rx_ready(s) ? UART_LSR_DR : 0) | UART_LSR_THRE | UART_LSR_TEMT;
	case UART_MSR:
		return current_msr(s);
	case UART_SCR:
		return s->scr;
	}
	return 0xff;
}

void uart_reg_write(struct uart_state *s, unsigned reg, uint8_t value, int *sent)
{
	bool dlab = s->lcr & UART_LCR_DLAB;

	*sent = -1;
	switch (reg) {
	case UART_RBR_THR:
		if (dlab) {
			s->dll = value;
			break;
		}
		if (s->mcr & UART_MCR_LOOP)
			uart_receive(s, value);
		else
			*sent = value;
		s->thr_interrupt = true;   /* sent at once: THR is empty again */
		break;
	case UART_IER:
		if (dlab) {
			s->dlm = value;
			break;
		}
		/* Enabling the THR-empty interrupt while THR is empty raises it (as the chip does).
		 */
		if ((value & UART_IER_THRI) && !(s->ier & UART_IER_THRI))
			s->thr_interrupt = true;
		s->ier = value & 0x0f;
		break;
	case UART_IIR_FCR:
		s->fcr = value & 0xc9;
		if (value & 0x02) {   /* clear the receive FIFO */
			s->rx_head = 0;
			s->rx_count = 0;
		}
		break;
	case UART_LCR:
		s->lcr = value;
		break;
	case UART_MCR:
		s->mcr = value & 0x1f;
		break;
	case UART_SCR:
		s->scr = value;
		break;
	default:   /* LSR and MSR are read-only */
		break;
	}
}

/*
 * After every access: drive IRQ 4 from the state (an edge-triggered ISA line). On a real PC
 * the MCR's OUT2 bit also gates the line; Linux always sets it, so we leave it out.
 */
static void update_irq(struct uart *u)
{
	irq_line_set(&u->irq, uart_irq_pending(&u->state));
}

static int uart_bus_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct uart *u = dev;
	memset(data, 0, len);
	data[0] = uart_reg_read(&u->state, offset);
	update_irq(u);
	return 0;
}

static int uart_bus_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct uart *u = dev;
	int sent;
	(void)len;
	uart_reg_write(&u->state, offset, data[0], &sent);
	if (sent >= 0) {
		uint8_t b = sent;
		/* The terminal may be gone (a closed pipe): the guest must not notice. */
		while (write(u->out_fd, &b, 1) < 0 && errno == EINTR)
			;
	}
	update_irq(u);
	return 0;
}

static const struct bus_ops uart_ops = { uart_bus_read, uart_bus_write };

int uart_attach(struct uart *u, struct io_bus *bus, int vm_fd, uint16_t base, unsigned irq,
		int out_fd)
{
	uart_state_reset(&u->state);
	irq_line_init(&u->irq, vm_fd, irq);
	u->out_fd = out_fd;
	return bus_register(bus, BUS_PIO, base, 8, &uart_ops, u, "serial") ? 0 : -EBUSY;
}

void uart_input(struct uart *u, const uint8_t *bytes, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		uart_receive(&u->state, bytes[i]);
	update_irq(u);
}
