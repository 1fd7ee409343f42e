/*
 * i8042.h - the PC keyboard controller: an Intel 8042 (8742) microcontroller between the CPU
 * and two PS/2 ports, the keyboard's and the mouse's ("auxiliary").
 *
 * Teaches how the PC's oldest device still in use is put together: two I/O ports in front of a
 * small computer of its own, which talks to two devices down serial cables (ps2.h) and owns a
 * few motherboard wires besides. Models the IBM PC/AT and PS/2 keyboard controller (IBM PS/2
 * Hardware Interface Technical Reference, "Keyboard/Auxiliary Device Controller"), as QEMU's
 * hw/input/pckbd.c and the Linux and SeaBIOS drivers use it.
 *
 *   port 0x60 read   the output buffer: the next byte from the keyboard, the mouse or the
 *                    controller itself; reading empties it (status bit 0 clears)
 *   port 0x60 write  a byte for the keyboard, or the data byte a controller command waits for
 *   port 0x64 read   status: bit 0 output buffer full, 1 input buffer full (never: we take each
 *                    byte at once), 2 system flag (self test passed), 3 the last write was a
 *                    command, 4 keyboard not inhibited, 5 the output byte is the mouse's
 *   port 0x64 write  a controller command
 *
 * The command byte (read with 0x20, written with 0x60 + a data byte): bit 0 keyboard interrupt
 * (IRQ 1), 1 mouse interrupt (IRQ 12), 2 system flag, 4 keyboard port off, 5 mouse port off,
 * 6 translate: scan codes from the keyboard are turned into set 1 (the IBM PC/XT's) on their
 * way through, so that old software sees the codes it knows whatever set the keyboard speaks.
 *
 * Commands: 0x20-0x3f read internal RAM (0x20: the command byte), 0x60-0x7f write it, 0xa7/0xa8
 * mouse port off/on, 0xa9 mouse port test (0x00), 0xaa self test (0x55), 0xab keyboard port
 * test (0x00), 0xad/0xae keyboard port off/on, 0xc0 input port, 0xd0/0xd1 read/write the output
 * port, 0xd2/0xd3 put a byte in the output buffer as if from the keyboard/mouse, 0xd4 send the
 * next data byte to the mouse, 0xdd/0xdf A20 off/on, 0xe0 test inputs, 0xf0-0xff pulse output
 * port lines for 6 us: a 0 in bit 0 of the low nibble pulses the reset line (0xfe).
 *
 * The output port: bit 0 is wired to the CPU's reset (0: reset), bit 1 gates address line 20
 * (the IBM AT's wrap-around at 1 MiB; KVM always leaves A20 on, so the bit is stored only),
 * bits 4/5 mirror the two interrupt lines. Stage 4's power.c had only the reset line; here it
 * is one wire of the whole controller, pulled through the machine's reset line like the
 * chipset's 0xcf9 and port 0x92.
 *
 * Interrupts: when a keyboard byte enters the output buffer and command byte bit 0 is set, IRQ 1
 * rises, and falls when the guest reads it; likewise for mouse bytes and IRQ 12 (bit 1). The
 * lines are ISA edge interrupts: one edge per byte. Only the interrupt controller's API
 * (stage 4's irq_line) is used.
 *
 * The state is plain data (snapshot-ready); the wiring (interrupt lines, reset line, the lock
 * the host side takes) is beside it.
 */
#ifndef I8042_H
#define I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "irq.h"
#include "power.h"   /* stage 4's I8042_DATA_PORT, I8042_COMMAND_PORT, I8042_CMD_RESET */
#include "ps2.h"

#define I8042_KBD_IRQ 1
#define I8042_AUX_IRQ 12

/* Status register (port 0x64) */
#define I8042_STR_OBF    0x01
#define I8042_STR_IBF    0x02
#define I8042_STR_SYS    0x04
#define I8042_STR_CMD    0x08
#define I8042_STR_NOINH  0x10
#define I8042_STR_AUXOBF 0x20

/* Command byte */
#define I8042_CB_KBDINT  0x01
#define I8042_CB_AUXINT  0x02
#define I8042_CB_SYS     0x04
#define I8042_CB_KBDDIS  0x10
#define I8042_CB_AUXDIS  0x20
#define I8042_CB_XLATE   0x40

/* Output port */
#define I8042_OUT_RESET  0x01   /* 0 holds the CPU in reset */
#define I8042_OUT_A20    0x02
#define I8042_OUT_KBDIRQ 0x10
#define I8042_OUT_AUXIRQ 0x20

/* Where the byte in the output buffer came from. */
enum i8042_source { I8042_FROM_KBD, I8042_FROM_AUX };

/* Things a hostile or careless guest did, each said once on stderr (and counted). */
enum i8042_complaint {
	I8042_SAID_UNKNOWN_COMMAND = 1,   /* a controller command we do not know */
	I8042_SAID_NO_DATA = 2,           /* a command waiting for data got another command */
	I8042_SAID_KBD_FULL = 4,          /* the keyboard's queue overflowed: keys dropped */
	I8042_SAID_KBD_COMMAND = 8,       /* a keyboard command it does not know */
	I8042_SAID_AUX_COMMAND = 16,      /* a mouse command it does not know */
};

struct i8042_state {
	uint8_t ram[32];           /* internal RAM; byte 0 is the command byte */
	uint8_t output_port;
	uint8_t status;            /* the stored bits: SYS, CMD */
	uint8_t out;               /* the output buffer */
	bool out_full;
	enum i8042_source out_from;
	uint8_t ctl_byte;          /* the controller's own answer, waiting for the output buffer */
	bool ctl_full;
	enum i8042_source ctl_from;   /* 0xd3 makes it look like the mouse's */
	uint8_t wait_data;         /* the command whose data byte is due at port 0x60, or 0 */
	bool xlat_break;           /* translating: 0xf0 was seen, the next code is a break */
	uint8_t said;              /* enum i8042_complaint bits already printed */
	uint32_t unknown_commands, lost_data;
	uint32_t kbd_irqs, aux_irqs;   /* rising edges of IRQ 1 and IRQ 12 (one per byte) */
	struct ps2_kbd kbd;
	struct ps2_mouse mouse;
};

struct i8042 {
	struct i8042_state state;
	struct irq_line kbd_irq, aux_irq;  /* IRQ 1 and IRQ 12 */
	bool *reset_line;          /* the machine's (stage 4's struct machine); NULL: none */
	pthread_mutex_t *lock;     /* the bus lock: taken by the host-side calls (input.h) */
};

/*
 * Power-on state and the wiring: vm_fd for the interrupt lines (-1: none, in unit tests),
 * reset_line pulled by 0xfe or the output port, lock taken by input.h's calls (NULL: none).
 */
void i8042_init(struct i8042 *c, int vm_fd, bool *reset_line, pthread_mutex_t *lock);
/* Whether a state from outside (a migration stream) keeps the devices' queues consistent,
 * and every flag (the controller's, the keyboard's, the mouse's) 0 or 1 (state_check.h). */
bool i8042_state_valid(const struct i8042_state *s);
/* Register ports 0x60-0x64 on the bus. 0 or -EBUSY. */
int i8042_attach(struct i8042 *c, struct io_bus *bus);

/*
 * The guest's side, as the bus calls it (bus lock held); exported for the unit tests.
 * Writes return EXIT_HANDLER_STOP after pulling the reset line, else 0.
 */
uint8_t i8042_read_data(struct i8042 *c);
uint8_t i8042_read_status(struct i8042 *c);
int i8042_write_data(struct i8042 *c, uint8_t byte);
int i8042_write_command(struct i8042 *c, uint8_t byte);

/* After a device's queue changed from the host side: refill the output buffer, set the IRQs.
 * Caller holds the lock. */
void i8042_update(struct i8042 *c);

#endif
