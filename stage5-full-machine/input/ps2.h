/*
 * ps2.h - the two devices at the ends of an i8042's cables: a PS/2 keyboard and a PS/2 mouse.
 *
 * Teaches: a device as a byte-stream state machine. Each device talks to the controller over a
 * serial line, one byte at a time in each direction. The host (the controller, on the guest's
 * behalf) sends command bytes, some of which take a parameter byte; the device answers each
 * byte it accepts with ACK (0xfa), and a byte it does not understand with RESEND (0xfe). What
 * the device has to say (answers, scan codes, movement packets) waits in a small queue inside
 * it until the controller takes it.
 *
 * Models: the IBM PS/2 keyboard and mouse protocols (IBM PS/2 Hardware Interface Technical
 * Reference, "Keyboard and Auxiliary Device Controller"; the scan code sets of the IBM
 * Personal System/2 keyboards), and Microsoft's IntelliMouse extension (the sample-rate
 * "knock" 200, 100, 80 that turns device ID 0 into ID 3 with a wheel byte; 200, 200, 80
 * then ID 4, five buttons).
 *
 *   keyboard  0xff reset (ACK, then 0xaa "self test passed"), 0xf2 identify (ACK, 0xab 0x83),
 *             0xed LEDs + byte, 0xf0 scan code set + byte (0: ACK and the current set; 1-3:
 *             select), 0xf3 typematic + byte (stored, no repeat is generated), 0xf4 enable
 *             scanning, 0xf5 disable and set defaults, 0xf6 set defaults, 0xee echo (0xee),
 *             0xfe resend the last byte, 0xf7-0xfd (set 3 key types: ACK, no effect).
 *   mouse     0xff reset (ACK, 0xaa, ID 0x00), 0xf2 get ID, 0xf3 sample rate + byte, 0xe8
 *             resolution + byte, 0xe6/0xe7 scaling 1:1 / 2:1, 0xea stream mode, 0xf0 remote
 *             mode, 0xeb read data (one packet), 0xe9 status (3 bytes), 0xf4/0xf5 enable/disable
 *             reporting, 0xf6 defaults, 0xee/0xec wrap (echo) mode on/off, 0xfe resend.
 *
 * Answers to commands have their own queue and always go out before queued keys or packets, so
 * a driver waiting for an ACK never finds it behind a burst of typing (QEMU does the same).
 *
 * Packets: byte 0 = Y overflow (bit 7), X overflow (6), Y sign (5), X sign (4), always 1 (3),
 * middle (2), right (1), left (0); byte 1 = X and byte 2 = Y movement, the low 8 bits of a 9-bit
 * two's complement number (Y grows upwards); ID 3 and 4 mice add byte 3 = the wheel (ID 3: a
 * signed byte, -8..7; ID 4: the low nibble, bits 4-5 buttons 4 and 5).
 *
 * All of it is plain data (snapshot-ready) and pure: no locks, no interrupts, no printing.
 * The controller (i8042.h) moves bytes between these queues and its output buffer.
 */
#ifndef PS2_H
#define PS2_H

#include <stdbool.h>
#include <stdint.h>

#define PS2_ACK     0xfa
#define PS2_RESEND  0xfe
#define PS2_BAT_OK  0xaa   /* basic assurance test passed: after reset */
#define PS2_ECHO    0xee
#define PS2_QUEUE_SIZE 16  /* a real keyboard's buffer; the mouse gets the same */

/* A byte FIFO of fixed size: pushes past the end fail, nothing is overwritten. */
struct ps2_queue {
	uint8_t data[PS2_QUEUE_SIZE];
	uint8_t head, count;
};

bool ps2_queue_push(struct ps2_queue *q, uint8_t byte);
bool ps2_queue_pop(struct ps2_queue *q, uint8_t *byte);
unsigned ps2_queue_room(const struct ps2_queue *q);
/* Whether a queue from outside (a migration stream) has its head and count inside it. */
bool ps2_queue_valid(const struct ps2_queue *q);

/* ---- keyboard ----------------------------------------------------------------------------- */

/* A key as the keyboard knows it: its codes in scan code sets 2 and 3 (set 1 is derived). */
struct ps2_key {
	uint8_t set2;          /* make code in set 2 (after 0xe0 when extended) */
	uint8_t set3;          /* make code in set 3 (never extended) */
	bool extended;         /* set 1 and 2 send 0xe0 first */
};

struct ps2_kbd {
	struct ps2_queue reply;    /* answers to commands: they go first */
	struct ps2_queue keys;     /* scan codes of key presses and releases */
	uint8_t param_for;         /* the command waiting for its parameter byte, or 0 */
	uint8_t set;               /* scan code set: 1, 2 or 3 */
	uint8_t leds;              /* bit 0 Scroll Lock, 1 Num Lock, 2 Caps Lock */
	uint8_t typematic;         /* rate and delay, as set; no repeat is generated */
	bool scanning;             /* keys are reported (0xf4); off after 0xf5 */
	uint8_t shifts;            /* Shift keys held: bit 0 left, bit 1 right (input.c) */
	bool overrun;              /* keys is full: the overrun code is queued, keys are dropped */
	uint8_t last;              /* the last byte taken by the controller (for 0xfe) */
	uint32_t dropped;          /* key events lost to a full queue */
	uint32_t unknown;          /* commands answered with RESEND */
};

/* Power-on state: set 2, scanning, queues empty (no 0xaa: that answers a reset command). */
void ps2_kbd_init(struct ps2_kbd *k);
/* Whether a keyboard from outside (a migration stream) has its flags 0 or 1 (state_check.h). */
bool ps2_kbd_bools_valid(const struct ps2_kbd *k);
/* A byte from the controller (a command or a command's parameter). */
void ps2_kbd_write(struct ps2_kbd *k, uint8_t byte);
/* The next byte for the controller: an answer first, then scan codes. */
bool ps2_kbd_read(struct ps2_kbd *k, uint8_t *byte);
bool ps2_kbd_has_data(const struct ps2_kbd *k);
/*
 * Queue the make (down) or break (up) code of key in the current set. Ignored (0) while
 * scanning is off. -ENOSPC when the queue cannot take the whole code: the first time the
 * overrun code (0x00; 0xff in set 1) takes the last place, and keys are dropped until the
 * controller has emptied the queue.
 */
int ps2_kbd_key(struct ps2_kbd *k, const struct ps2_key *key, bool down);

/* Pure: the bytes of a key's make or break code in scan code set 1, 2 or 3; returns how many
 * (at most 3). */
unsigned ps2_scancode(const struct ps2_key *key, unsigned set, bool down, uint8_t out[3]);

/*
 * Pure: set 2 code -> set 1 code, the correspondence the i8042 uses to translate (its command
 * byte bit 6) and the keyboard in set 1. Codes with no set 1 key, and 0x80 and above (the
 * prefixes 0xe0/0xe1, answers 0xfa/0xaa/0xee/0xfe), come back unchanged, but for 0x83 (F7)
 * and 0x00 (overrun: 0xff).
 */
uint8_t ps2_set2_to_set1(uint8_t code);

/* ---- mouse -------------------------------------------------------------------------------- */

#define PS2_MOUSE_LEFT   0x01
#define PS2_MOUSE_RIGHT  0x02
#define PS2_MOUSE_MIDDLE 0x04

struct ps2_mouse {
	struct ps2_queue reply;    /* answers to commands: they go first */
	struct ps2_queue data;     /* movement packets, whole packets only */
	uint8_t param_for;         /* the command waiting for its parameter byte, or 0 */
	uint8_t id;                /* 0 (3 bytes a packet), 3 (wheel), 4 (wheel + buttons 4-5) */
	uint8_t rate;              /* samples a second: 10..200 */
	uint8_t resolution;        /* 0..3: 1, 2, 4, 8 counts/mm */
	uint8_t rates[3];          /* the last three sample rates set: the IntelliMouse knock */
	bool scaling21, remote, reporting, wrap;
	uint8_t buttons;           /* PS2_MOUSE_*: as last reported by the host */
	uint8_t sent_buttons;      /* as in the last packet */
	int32_t dx, dy, dz;        /* movement not yet in a packet (PS/2 directions: y up) */
	uint8_t last;              /* the last byte taken by the controller (for 0xfe) */
	uint32_t unknown;          /* commands answered with RESEND */
	uint32_t waiting;          /* times movement had to wait for room in the queue */
};

void ps2_mouse_init(struct ps2_mouse *m);
/* Whether a mouse from outside (a migration stream) has its flags 0 or 1 (state_check.h). */
bool ps2_mouse_bools_valid(const struct ps2_mouse *m);
void ps2_mouse_write(struct ps2_mouse *m, uint8_t byte);
bool ps2_mouse_read(struct ps2_mouse *m, uint8_t *byte);
bool ps2_mouse_has_data(const struct ps2_mouse *m);
/*
 * Movement and buttons from the host, in PS/2 directions (x right, y up, z: wheel towards the
 * user). Added to what is not yet reported; in stream mode with reporting on, packets are
 * queued as long as whole packets fit (a large movement becomes several packets of at most
 * 255 counts: none is lost). What does not fit waits: ps2_mouse_read() queues it as room
 * frees up. Returns how many packets were queued.
 */
unsigned ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz, uint8_t buttons);

/*
 * Pure: one packet for a mouse of this id (3 or 4 bytes; returns how many). Movement beyond
 * -256..255 sets the overflow bit and is sent as the largest value of its sign; the wheel is
 * clamped to -8..7.
 */
unsigned ps2_mouse_packet(uint8_t id, uint8_t buttons, int dx, int dy, int dz, uint8_t out[4]);

#endif
