/*
 * uhci.c - the UHCI controller (uhci.h): I/O registers, the frame list walk, TDs and QHs, the
 * root hub's two ports, the millisecond frame thread.
 *
 * Teaches: the older way of scheduling USB - the controller polls a schedule in RAM every
 * frame instead of waiting for a doorbell - and what that costs a VMM: a timer, and a walk
 * that must stay bounded because the schedule may loop (on purpose or not).
 */
#include "uhci.h"

#include "byteorder.h"
#include "guest_error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CMD_RS      (1u << 0)
#define CMD_HCRESET (1u << 1)
#define CMD_GRESET  (1u << 2)
#define CMD_KEEP    0x00f9u           /* RS, EGSM, FGR, SWDBG, CF, MAXP */

#define STS_USBINT  (1u << 0)
#define STS_ERROR   (1u << 1)
#define STS_HSE     (1u << 3)
#define STS_HCPE    (1u << 4)
#define STS_HCH     (1u << 5)

#define INTR_TOCRC  (1u << 0)
#define INTR_IOC    (1u << 2)
#define INTR_SP     (1u << 3)

#define PORT_CCS    (1u << 0)
#define PORT_CSC    (1u << 1)
#define PORT_PE     (1u << 2)
#define PORT_PEC    (1u << 3)
#define PORT_RSVD1  (1u << 7)         /* reads as 1 */
#define PORT_PR     (1u << 9)
#define PORT_WRITABLE 0x1344u         /* PE, RD, PR, SUSP */

#define LINK_T      (1u << 0)         /* terminate */
#define LINK_QH     (1u << 1)

#define TD_ACTLEN   0x7ffu
#define TD_ACTIVE   (1u << 23)
#define TD_STALLED  (1u << 22)
#define TD_NAK      (1u << 19)
#define TD_CRCTO    (1u << 18)
#define TD_STATUS   (0xffu << 16)
#define TD_IOC      (1u << 24)
#define TD_SPD      (1u << 29)

#define PID_SETUP   0x2d
#define PID_IN      0x69
#define PID_OUT     0xe1

#define PCI_DEVICE_PIIX3_UHCI 0x7020
#define PCI_CLASS_UHCI 0x0c0300
#define USBLEGSUP   0xc0              /* legacy support register: 0x2000 after reset */

enum td_result { TD_DONE, TD_SHORT, TD_WAIT, TD_FAILED, TD_OFF, TD_HSE };

__attribute__((format(printf, 2, 3)))
static void uhci_error(struct uhci *u, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	guest_verror(&u->errors, "uhci", NULL, fmt, ap);
	va_end(ap);
}

static uint32_t rd32(const uint8_t *p)
{
	return bytes_to_u64(p, 4);
}

static void update_irq(struct uhci *u)
{
	bool level = (u->sts & (STS_HSE | STS_HCPE)) ||
		     ((u->sts & STS_USBINT) && (u->intr & (INTR_IOC | INTR_SP))) ||
		     ((u->sts & STS_ERROR) && (u->intr & INTR_TOCRC));
	uint8_t *cfg = u->pci.config.bytes;
	cfg[PCI_STATUS] = (cfg[PCI_STATUS] & ~0x08) | (level ? 0x08 : 0);
	if (u->pci.irq.vm_fd > 0)
		irq_line_set(&u->pci.irq, level);
}

/* Host System Error: the schedule points outside RAM; the controller halts. */
static enum td_result system_error(struct uhci *u, const char *what, uint64_t gpa)
{
	uhci_error(u, "%s at %#llx is outside RAM: host system error, controller halted", what,
		   (unsigned long long)gpa);
	u->sts |= STS_HSE | STS_HCH;
	u->cmd &= ~CMD_RS;
	update_irq(u);
	return TD_HSE;
}

/* ---- packets to the devices ------------------------------------------------------------- */

/* The device on an enabled port with this address, and its port. */
static int find_port(struct uhci *u, unsigned addr)
{
	for (int p = 0; p < UHCI_PORTS; p++)
		if (u->dev[p] && (u->portsc[p] & PORT_PE) && u->dev[p]->address == addr)
			return p;
	return -1;
}

/* Endpoint 0: a control transfer in stages. The request runs at SETUP when it reads (IN) and
 * at the status stage when it writes (so that SET_ADDRESS takes effect after its status). */
static int control_packet(struct uhci *u, int port, unsigned pid, uint8_t *buf, unsigned len)
{
	struct uhci_control *c = &u->ctl[port];
	struct usb_device *dev = u->dev[port];
	if (pid == PID_SETUP) {
		if (len != 8)
			return USB_RET_STALL;
		memcpy(c->setup, buf, 8);
		unsigned want = c->setup[6] | c->setup[7] << 8;
		c->active = want <= UHCI_CONTROL_MAX;
		c->in = c->setup[0] & USB_DIR_IN;
		c->len = c->pos = 0;
		if (!c->active)
			return USB_RET_STALL;
		if (c->in) {
			int n = usb_control(dev, c->setup, c->data);
			if (n < 0) {
				c->active = false;
				return n;
			}
			c->len = n;
		}
		return 8;
	}
	if (!c->active)
		return USB_RET_STALL;
	if (pid == PID_IN && c->in) {   /* the data stage */
		unsigned n = len < c->len - c->pos ? len : c->len - c->pos;
		memcpy(buf, c->data + c->pos, n);
		c->pos += n;
		return n;
	}
	if (pid == PID_OUT && !c->in) {   /* the data stage */
		unsigned room = UHCI_CONTROL_MAX - c->len, n = len < room ? len : room;
		memcpy(c->data + c->len, buf, n);
		c->len += n;
		return n;
	}
	c->active = false;   /* the status stage, in the other direction */
	if (c->in)
		return 0;
	int n = usb_control(dev, c->setup, c->data);
	return n < 0 ? n : 0;
}

static int packet(struct uhci *u, int port, unsigned pid, unsigned ep, uint8_t *buf,
		  unsigned len)
{
	if (ep == 0)
		return control_packet(u, port, pid, buf, len);
	if (pid == PID_SETUP)
		return USB_RET_STALL;
	return usb_data(u->dev[port], ep | (pid == PID_IN ? USB_DIR_IN : 0), buf, len);
}

/* ---- TDs and QHs ------------------------------------------------------------------------- */

static void td_finish(struct uhci *u, uint8_t *td, uint32_t ctrl, uint32_t status, int n)
{
	ctrl &= ~(TD_STATUS | TD_ACTLEN);
	ctrl |= status | ((uint32_t)(n - 1) & TD_ACTLEN);
	u64_to_bytes(ctrl, td + 4, 4);
	if (status & TD_STALLED)
		u->sts |= STS_ERROR;
	if (ctrl & TD_IOC)
		u->sts |= STS_USBINT;
}

/* Run one TD (one packet). */
static enum td_result run_td(struct uhci *u, uint32_t gpa)
{
	uint8_t *td = gpa_to_hva(u->mem, gpa, 16);
	if (!td)
		return system_error(u, "TD", gpa);
	uint32_t ctrl = rd32(td + 4), token = rd32(td + 8), buffer = rd32(td + 12);
	if (!(ctrl & TD_ACTIVE))
		return TD_OFF;
	unsigned pid = token & 0xff, addr = (token >> 8) & 0x7f, ep = (token >> 15) & 0xf;
	unsigned len = ((token >> 21) + 1) & 0x7ff;   /* n - 1; 0x7ff is a null packet */
	if (len > sizeof(u->packet))
		len = sizeof(u->packet);
	int port = find_port(u, addr);
	if (port < 0 || (pid != PID_SETUP && pid != PID_IN && pid != PID_OUT)) {
		td_finish(u, td, ctrl & ~(3u << 27), TD_CRCTO, 0);   /* no answer: a timeout */
		u->sts |= STS_ERROR;
		return TD_FAILED;
	}
	uint8_t *data = len ? gpa_to_hva(u->mem, buffer, len) : u->packet;
	if (!data)
		return system_error(u, "TD buffer", buffer);
	if (pid != PID_IN)
		memcpy(u->packet, data, len);
	int n = packet(u, port, pid, ep, u->packet, len);
	if (n == USB_RET_NAK) {
		u64_to_bytes(ctrl | TD_NAK, td + 4, 4);
		return TD_WAIT;
	}
	if (n == USB_RET_STALL) {
		td_finish(u, td, ctrl, TD_STALLED, 0);
		return TD_FAILED;
	}
	if (pid == PID_IN)
		memcpy(data, u->packet, n);
	td_finish(u, td, ctrl, 0, n);
	if (pid == PID_IN && (unsigned)n < len && (ctrl & TD_SPD)) {
		if (u->intr & INTR_SP)
			u->sts |= STS_USBINT;
		return TD_SHORT;   /* the queue stops at this TD (UHCI 2.3.3: SPD) */
	}
	return TD_DONE;
}

/* A QH: run its queue of TDs in order until one waits, fails or is short; the element pointer
 * follows each TD done. Returns false after a host system error. */
static bool run_qh(struct uhci *u, uint32_t gpa, uint32_t *head, unsigned *budget)
{
	uint8_t *qh = gpa_to_hva(u->mem, gpa, 8);
	if (!qh)
		return system_error(u, "QH", gpa), false;
	*head = rd32(qh);
	uint32_t element = rd32(qh + 4);
	while (!(element & LINK_T) && !(element & LINK_QH) && *budget) {
		(*budget)--;
		uint32_t td = element & ~0xfu;
		enum td_result r = run_td(u, td);
		if (r == TD_HSE)
			return false;
		if (r != TD_DONE)
			break;
		element = rd32(gpa_to_hva(u->mem, td, 16));   /* checked by run_td */
		u64_to_bytes(element, qh + 4, 4);
	}
	return true;
}

void uhci_frame(struct uhci *u)
{
	uint64_t entry = u->flbase + 4ull * (u->frnum & 0x3ff);
	uint8_t *p = gpa_to_hva(u->mem, entry, 4);
	if (!p) {
		system_error(u, "frame list", entry);
		return;
	}
	uint32_t link = rd32(p);
	unsigned budget = UHCI_MAX_ELEMENTS;
	while (!(link & LINK_T) && budget) {
		budget--;
		uint32_t gpa = link & ~0xfu;
		if (link & LINK_QH) {
			if (!run_qh(u, gpa, &link, &budget))
				return;
			continue;
		}
		if (run_td(u, gpa) == TD_HSE)
			return;
		link = rd32(gpa_to_hva(u->mem, gpa, 16));
	}
	u->frnum = (u->frnum + 1) & 0x7ff;
	update_irq(u);
}

/* ---- registers ------------------------------------------------------------------------------ */

static void port_connect(struct uhci *u, unsigned p)
{
	u->portsc[p] = u->dev[p] ? PORT_CCS | PORT_CSC : 0;
}

static void controller_reset(struct uhci *u)
{
	u->cmd = u->intr = u->frnum = 0;
	u->sts = STS_HCH;
	u->flbase = 0;
	u->sof = 64;
	memset(u->ctl, 0, sizeof(u->ctl));
	for (unsigned p = 0; p < UHCI_PORTS; p++)
		port_connect(u, p);
	update_irq(u);
}

void uhci_init(struct uhci *u, const struct guest_memory *mem)
{
	u->mem = mem;
	controller_reset(u);
}

int uhci_plug(struct uhci *u, unsigned port, struct usb_device *dev)
{
	if (port < 1 || port > UHCI_PORTS || u->dev[port - 1])
		return -EBUSY;
	u->dev[port - 1] = dev;
	port_connect(u, port - 1);
	return 0;
}

static void registers(const struct uhci *u, uint8_t r[UHCI_IO_SIZE])
{
	memset(r, 0, UHCI_IO_SIZE);
	u64_to_bytes(u->cmd, r, 2);
	u64_to_bytes(u->sts, r + 2, 2);
	u64_to_bytes(u->intr, r + 4, 2);
	u64_to_bytes(u->frnum, r + 6, 2);
	u64_to_bytes(u->flbase, r + 8, 4);
	r[0xc] = u->sof;
	for (unsigned p = 0; p < UHCI_PORTS; p++)
		u64_to_bytes(u->portsc[p] | PORT_RSVD1, r + 0x10 + 2 * p, 2);
}

int uhci_io_read(void *opaque, uint64_t offset, uint8_t *data, unsigned len)
{
	uint8_t r[UHCI_IO_SIZE];
	registers(opaque, r);
	memset(data, 0, len);
	if (offset < UHCI_IO_SIZE)
		memcpy(data, r + offset, offset + len <= UHCI_IO_SIZE ? len : UHCI_IO_SIZE - offset);
	return 0;
}

static void cmd_write(struct uhci *u, uint16_t v)
{
	if (v & (CMD_HCRESET | CMD_GRESET)) {
		controller_reset(u);
		for (unsigned p = 0; p < UHCI_PORTS; p++)
			if (u->dev[p])
				usb_device_reset(u->dev[p]);
		return;
	}
	u->cmd = v & CMD_KEEP;
	if ((v & CMD_RS) && !(u->sts & STS_HSE))
		u->sts &= ~STS_HCH;
	else
		u->sts |= STS_HCH;
	update_irq(u);
}

static void port_write(struct uhci *u, unsigned p, uint16_t v)
{
	uint16_t old = u->portsc[p];
	u->portsc[p] &= ~(v & (PORT_CSC | PORT_PEC));
	u->portsc[p] = (u->portsc[p] & ~PORT_WRITABLE) | (v & PORT_WRITABLE);
	if (!u->dev[p])
		u->portsc[p] &= ~PORT_PE;   /* nothing to enable */
	if ((v & PORT_PR) && !(old & PORT_PR) && u->dev[p]) {   /* a bus reset starts */
		usb_device_reset(u->dev[p]);
		u->ctl[p].active = false;
	}
}

/* One register write of its own size (the ones drivers make; others are ignored). */
static void write_reg(struct uhci *u, unsigned off, uint32_t v, unsigned len)
{
	switch (off) {
	case 0x00: cmd_write(u, v); return;
	case 0x02: u->sts &= ~(v & 0x1f); update_irq(u); return;
	case 0x04: u->intr = v & 0xf; update_irq(u); return;
	case 0x06: if (u->sts & STS_HCH) u->frnum = v & 0x7ff; return;
	case 0x08:
		if (len == 4)
			u->flbase = v & ~0xfffu;
		else
			u->flbase = (u->flbase & 0xffff0000u) | (v & 0xf000u);
		return;
	case 0x0a: u->flbase = (u->flbase & 0xffffu) | (v & 0xffffu) << 16; return;
	case 0x0c: u->sof = v & 0x7f; return;
	case 0x10: case 0x12: port_write(u, (off - 0x10) / 2, v); return;
	}
}

int uhci_io_write(void *opaque, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct uhci *u = opaque;
	uint32_t v = bytes_to_u64(data, len);
	if (len == 4 && offset != 8) {   /* two 16-bit registers at once */
		write_reg(u, offset, v & 0xffff, 2);
		write_reg(u, offset + 2, v >> 16, 2);
		return 0;
	}
	write_reg(u, offset, v, len);
	return 0;
}

/* ---- the frame thread and PCI ------------------------------------------------------------- */

static void *frame_thread(void *arg)
{
	struct uhci *u = arg;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!u->stop) {
		next.tv_nsec += 1000000;   /* one frame: 1 ms */
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		pthread_mutex_lock(u->lock);
		if ((u->cmd & CMD_RS) && !(u->sts & STS_HCH))
			uhci_frame(u);
		pthread_mutex_unlock(u->lock);
	}
	return NULL;
}

int uhci_start(struct uhci *u, pthread_mutex_t *lock)
{
	if (u->thread_running)
		return 0;
	u->lock = lock;
	u->stop = false;
	int err = pthread_create(&u->thread, NULL, frame_thread, u);
	u->thread_running = err == 0;
	return -err;
}

void uhci_stop(struct uhci *u)
{
	if (!u->thread_running)
		return;
	u->stop = true;
	pthread_join(u->thread, NULL);
	u->thread_running = false;
}

static const struct bus_ops io_ops = { uhci_io_read, uhci_io_write };

int uhci_attach(struct uhci *u, struct io_bus *bus, struct pci_host *pci,
		const struct guest_memory *mem, int vm_fd, unsigned slot, unsigned fn,
		unsigned pin, unsigned gsi, char *why, size_t why_len)
{
	struct pci_config *c = &u->pci.config;
	pci_config_init(c, 0x8086, PCI_DEVICE_PIIX3_UHCI, PCI_CLASS_UHCI, 1);
	pci_config_add_io_bar(c, 4, 0, UHCI_IO_SIZE);   /* firmware assigns it */
	c->bytes[PCI_INTERRUPT_PIN] = pin;
	c->bytes[PCI_INTERRUPT_LINE] = gsi;
	c->bytes[0x60] = 0x10;                          /* SBRN: USB 1.0 */
	u64_to_bytes(0x2000, c->bytes + USBLEGSUP, 2);
	u->pci.name = "uhci";
	u->pci.owner = u;
	irq_line_init(&u->pci.irq, vm_fd, gsi);
	uhci_init(u, mem);
	struct bus_range *r = bus_register(bus, BUS_PIO, PCI_IO_LIMIT - 2 * UHCI_IO_SIZE,
					   UHCI_IO_SIZE, &io_ops, u, "uhci");
	if (!r) {
		snprintf(why, why_len, "uhci: the I/O bus is full");
		return -EBUSY;
	}
	bus_move(r, 0, false);   /* off until firmware assigns BAR4 */
	u->pci.bar_range[4] = r;
	int err = pci_host_place(pci, &u->pci, slot, fn);
	if (err)
		snprintf(why, why_len, "uhci: PCI %02x.%x: %s", slot, fn,
			 err == -EBUSY ? "slot taken" : "no such slot");
	return err;
}
