/*
 * i8042.c - the keyboard controller: ports 0x60/0x64, its commands, the output buffer that the
 * keyboard, the mouse and the controller share, scan code translation, IRQ 1 and 12, and the
 * reset line. See i8042.h (models the IBM PC/AT and PS/2 keyboard controller).
 */
#include "i8042.h"
#include "state_check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CB(c) ((c)->state.ram[0])

/* One line on stderr, the first time only: a guest cannot flood the log. */
__attribute__((format(printf, 3, 4)))
static void say_once(struct i8042_state *s, enum i8042_complaint what, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	if (s->said & what)
		return;
	s->said |= what;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "i8042: %s (said once; the VMM goes on)\n", line);
}

bool i8042_state_valid(const struct i8042_state *s)
{
	return ps2_queue_valid(&s->kbd.reply) && ps2_queue_valid(&s->kbd.keys) &&
	       ps2_queue_valid(&s->mouse.reply) && ps2_queue_valid(&s->mouse.data) &&
	       STATE_BOOL_OK(s, struct i8042_state, out_full) &&
	       STATE_BOOL_OK(s, struct i8042_state, ctl_full) &&
	       STATE_BOOL_OK(s, struct i8042_state, xlat_break) &&
	       ps2_kbd_bools_valid(&s->kbd) && ps2_mouse_bools_valid(&s->mouse);
}

void i8042_init(struct i8042 *c, int vm_fd, bool *reset_line, pthread_mutex_t *lock)
{
	struct i8042_state *s = &c->state;
	memset(c, 0, sizeof(*c));
	/* As the chip comes out of reset: interrupts on, both ports on, no translation yet
	 * (firmware and drivers write the command byte they want). */
	CB(c) = I8042_CB_KBDINT | I8042_CB_AUXINT;
	s->output_port = I8042_OUT_RESET | I8042_OUT_A20;
	ps2_kbd_init(&s->kbd);
	ps2_mouse_init(&s->mouse);
	irq_line_init(&c->kbd_irq, vm_fd, I8042_KBD_IRQ);
	irq_line_init(&c->aux_irq, vm_fd, I8042_AUX_IRQ);
	c->reset_line = reset_line;
	c->lock = lock;
}

/* A keyboard byte on its way through: set 2 -> set 1 when the command byte asks. */
static bool take_kbd_byte(struct i8042 *c, uint8_t *byte)
{
	struct i8042_state *s = &c->state;
	while (ps2_kbd_read(&s->kbd, byte)) {
		if (!(CB(c) & I8042_CB_XLATE))
			return true;
		if (*byte == 0xf0) {          /* set 2's break prefix becomes bit 7 of the code */
			s->xlat_break = true;
			continue;
		}
		*byte = ps2_set2_to_set1(*byte) | (s->xlat_break ? 0x80 : 0);
		s->xlat_break = false;
		return true;
	}
	return false;
}

void i8042_update(struct i8042 *c)
{
	struct i8042_state *s = &c->state;
	if (!s->out_full) {
		if (s->ctl_full) {            /* the controller's own answer first */
			s->out = s->ctl_byte;
			s->out_from = s->ctl_from;
			s->ctl_full = false;
			s->out_full = true;
		} else if (!(CB(c) & I8042_CB_KBDDIS) && take_kbd_byte(c, &s->out)) {
			s->out_from = I8042_FROM_KBD;
			s->out_full = true;
		} else if (!(CB(c) & I8042_CB_AUXDIS) && ps2_mouse_read(&s->mouse, &s->out)) {
			s->out_from = I8042_FROM_AUX;
			s->out_full = true;
		}
	}
	bool kbd = s->out_full && s->out_from == I8042_FROM_KBD && (CB(c) & I8042_CB_KBDINT);
	bool aux = s->out_full && s->out_from == I8042_FROM_AUX && (CB(c) & I8042_CB_AUXINT);
	s->kbd_irqs += kbd && !(s->output_port & I8042_OUT_KBDIRQ);   /* rising edges */
	s->aux_irqs += aux && !(s->output_port & I8042_OUT_AUXIRQ);
	s->output_port = (s->output_port & ~(I8042_OUT_KBDIRQ | I8042_OUT_AUXIRQ)) |
			 (kbd ? I8042_OUT_KBDIRQ : 0) | (aux ? I8042_OUT_AUXIRQ : 0);
	irq_line_set(&c->kbd_irq, kbd);
	irq_line_set(&c->aux_irq, aux);
}

/* The controller's answer to a command. */
static void ctl_answer(struct i8042 *c, uint8_t byte, enum i8042_source from)
{
	c->state.ctl_byte = byte;
	c->state.ctl_from = from;
	c->state.ctl_full = true;
}

uint8_t i8042_read_data(struct i8042 *c)
{
	struct i8042_state *s = &c->state;
	uint8_t byte = s->out;     /* an empty buffer reads as its last byte, as on the chip */
	s->out_full = false;
	/*
	 * The line falls, and the next byte (if one waits) raises it again: IRQs 1 and 12 are
	 * edge-triggered, so a byte that moved in without a fall would never be announced.
	 */
	s->output_port &= ~(I8042_OUT_KBDIRQ | I8042_OUT_AUXIRQ);
	irq_line_set(&c->kbd_irq, false);
	irq_line_set(&c->aux_irq, false);
	i8042_update(c);
	return byte;
}

uint8_t i8042_read_status(struct i8042 *c)
{
	struct i8042_state *s = &c->state;
	i8042_update(c);
	uint8_t st = s->status | I8042_STR_NOINH;
	if (s->out_full)
		st |= I8042_STR_OBF | (s->out_from == I8042_FROM_AUX ? I8042_STR_AUXOBF : 0);
	return st;
}

static int pull_reset(struct i8042 *c)
{
	if (!c->reset_line)
		return 0;
	*c->reset_line = true;
	return EXIT_HANDLER_STOP;
}

/* The data byte a command waited for. */
static int command_data(struct i8042 *c, uint8_t cmd, uint8_t byte)
{
	struct i8042_state *s = &c->state;
	switch (cmd) {
	case 0xd1:                 /* the output port: bit 0 low resets the CPU */
		s->output_port = (byte & ~(I8042_OUT_KBDIRQ | I8042_OUT_AUXIRQ)) |
				 (s->output_port & (I8042_OUT_KBDIRQ | I8042_OUT_AUXIRQ));
		if (!(byte & I8042_OUT_RESET))
			return pull_reset(c);
		break;
	case 0xd2:
		ctl_answer(c, byte, I8042_FROM_KBD);
		break;
	case 0xd3:
		ctl_answer(c, byte, I8042_FROM_AUX);
		break;
	case 0xd4:
		ps2_mouse_write(&s->mouse, byte);
		break;
	default:                   /* 0x60-0x7f: internal RAM; byte 0 is the command byte */
		s->ram[cmd & 0x1f] = byte;
		if ((cmd & 0x1f) == 0)
			s->status = (s->status & ~I8042_STR_SYS) | (byte & I8042_CB_SYS);
		break;
	}
	return 0;
}

int i8042_write_data(struct i8042 *c, uint8_t byte)
{
	struct i8042_state *s = &c->state;
	int ret = 0;
	s->status &= ~I8042_STR_CMD;
	if (s->wait_data) {
		uint8_t cmd = s->wait_data;
		s->wait_data = 0;
		ret = command_data(c, cmd, byte);
	} else {
		ps2_kbd_write(&s->kbd, byte);   /* no command waiting: the byte is the keyboard's */
	}
	if (s->kbd.unknown)
		say_once(s, I8042_SAID_KBD_COMMAND, "keyboard: unknown command byte 0x%02x: "
			 "answered 0xfe (resend)", byte);
	if (s->mouse.unknown)
		say_once(s, I8042_SAID_AUX_COMMAND, "mouse: unknown command or bad parameter "
			 "0x%02x: answered 0xfe (resend)", byte);
	i8042_update(c);
	return ret;
}

int i8042_write_command(struct i8042 *c, uint8_t cmd)
{
	struct i8042_state *s = &c->state;
	s->status |= I8042_STR_CMD;
	if (s->wait_data) {        /* a new command cancels one still waiting for its data */
		s->lost_data++;
		say_once(s, I8042_SAID_NO_DATA, "command 0x%02x waited for a data byte at port "
			 "0x60 and got a command instead: dropped", s->wait_data);
		s->wait_data = 0;
	}
	if (cmd >= 0x20 && cmd <= 0x3f) {
		ctl_answer(c, s->ram[cmd & 0x1f], I8042_FROM_KBD);
	} else if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
		s->wait_data = cmd;
	} else if (cmd >= 0xf0) {  /* pulse output port lines; bit 0 clear: the reset line */
		if (!(cmd & 1))
			return pull_reset(c);
	} else {
		switch (cmd) {
		case 0xa7: CB(c) |= I8042_CB_AUXDIS; break;
		case 0xa8: CB(c) &= ~I8042_CB_AUXDIS; break;
		case 0xa9: ctl_answer(c, 0x00, I8042_FROM_KBD); break;   /* mouse port: no fault */
		case 0xaa:                                          /* self test passed */
			s->status |= I8042_STR_SYS;
			ctl_answer(c, 0x55, I8042_FROM_KBD);
			break;
		case 0xab: ctl_answer(c, 0x00, I8042_FROM_KBD); break;   /* keyboard port: no fault */
		case 0xad: CB(c) |= I8042_CB_KBDDIS; break;
		case 0xae: CB(c) &= ~I8042_CB_KBDDIS; break;
		case 0xc0: ctl_answer(c, 0x80, I8042_FROM_KBD); break;   /* input port: not locked */
		case 0xd0:
			i8042_update(c);
			ctl_answer(c, s->output_port, I8042_FROM_KBD);
			break;
		case 0xdd: s->output_port &= ~I8042_OUT_A20; break;
		case 0xdf: s->output_port |= I8042_OUT_A20; break;
		case 0xe0: ctl_answer(c, 0x00, I8042_FROM_KBD); break;   /* test inputs */
		default:
			s->unknown_commands++;
			say_once(s, I8042_SAID_UNKNOWN_COMMAND, "unknown controller command 0x%02x "
				 "at port 0x64: ignored", cmd);
			break;
		}
	}
	i8042_update(c);
	return 0;
}

/* ---- on the bus -------------------------------------------------------------------------- */

#define OFFSET_COMMAND (I8042_COMMAND_PORT - I8042_DATA_PORT)

static int bus_read(void *dev, uint64_t offset, uint8_t *data, unsigned len)
{
	struct i8042 *c = dev;
	memset(data, 0xff, len);
	if (offset == 0)
		data[0] = i8042_read_data(c);
	else if (offset == OFFSET_COMMAND)
		data[0] = i8042_read_status(c);
	return 0;
}

static int bus_write(void *dev, uint64_t offset, const uint8_t *data, unsigned len)
{
	struct i8042 *c = dev;
	(void)len;
	if (offset == 0)
		return i8042_write_data(c, data[0]);
	if (offset == OFFSET_COMMAND)
		return i8042_write_command(c, data[0]);
	return 0;
}

static const struct bus_ops i8042_ops = { bus_read, bus_write };

int i8042_attach(struct i8042 *c, struct io_bus *bus)
{
	/* 0x60-0x64 also covers port 0x61, which KVM's PIT answers before we ever see it. */
	if (!bus_register(bus, BUS_PIO, I8042_DATA_PORT, OFFSET_COMMAND + 1, &i8042_ops, c,
			  "i8042"))
		return -EBUSY;
	return 0;
}
