/*
 * ps2.c - the PS/2 keyboard and mouse: command state machines and output queues. See ps2.h.
 *
 * Teaches how little a PS/2 device is: a byte comes in, an answer goes into a queue. Models the
 * IBM PS/2 keyboard and mouse protocols and the IntelliMouse extension (ps2.h).
 */
#include "ps2.h"
#include "state_check.h"

#include <errno.h>
#include <string.h>

/* ---- queues ------------------------------------------------------------------------------- */

bool ps2_queue_push(struct ps2_queue *q, uint8_t byte)
{
	if (q->count == PS2_QUEUE_SIZE)
		return false;
	q->data[(q->head + q->count) % PS2_QUEUE_SIZE] = byte;
	q->count++;
	return true;
}

bool ps2_queue_pop(struct ps2_queue *q, uint8_t *byte)
{
	if (q->count == 0)
		return false;
	*byte = q->data[q->head];
	q->head = (q->head + 1) % PS2_QUEUE_SIZE;
	q->count--;
	return true;
}

bool ps2_queue_valid(const struct ps2_queue *q)
{
	return q->head < PS2_QUEUE_SIZE && q->count <= PS2_QUEUE_SIZE;
}

bool ps2_kbd_bools_valid(const struct ps2_kbd *k)
{
	return STATE_BOOL_OK(k, struct ps2_kbd, scanning) &&
	       STATE_BOOL_OK(k, struct ps2_kbd, overrun);
}

bool ps2_mouse_bools_valid(const struct ps2_mouse *m)
{
	return STATE_BOOL_OK(m, struct ps2_mouse, scaling21) &&
	       STATE_BOOL_OK(m, struct ps2_mouse, remote) &&
	       STATE_BOOL_OK(m, struct ps2_mouse, reporting) &&
	       STATE_BOOL_OK(m, struct ps2_mouse, wrap);
}

unsigned ps2_queue_room(const struct ps2_queue *q)
{
	return PS2_QUEUE_SIZE - q->count;
}

static void queue_clear(struct ps2_queue *q)
{
	q->head = q->count = 0;
}

/* An answer of n bytes. A guest that sends commands and never reads fills the reply queue:
 * answers that do not fit are lost, as on a real device whose host stopped clocking. */
static void reply(struct ps2_queue *q, const uint8_t *bytes, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ps2_queue_push(q, bytes[i]);
}

static void ack(struct ps2_queue *q)
{
	ps2_queue_push(q, PS2_ACK);
}

/* ---- scan codes --------------------------------------------------------------------------- */

/*
 * Set 2 -> set 1, for every key of a US 101/102-key keyboard (the i8042's translation table
 * has 256 entries; the others are for codes no keyboard sends, and pass through here).
 */
static const uint8_t set2_set1[][2] = {
	{ 0x76, 0x01 }, { 0x16, 0x02 }, { 0x1e, 0x03 }, { 0x26, 0x04 }, { 0x25, 0x05 },
	{ 0x2e, 0x06 }, { 0x36, 0x07 }, { 0x3d, 0x08 }, { 0x3e, 0x09 }, { 0x46, 0x0a },
	{ 0x45, 0x0b }, { 0x4e, 0x0c }, { 0x55, 0x0d }, { 0x66, 0x0e }, { 0x0d, 0x0f },
	{ 0x15, 0x10 }, { 0x1d, 0x11 }, { 0x24, 0x12 }, { 0x2d, 0x13 }, { 0x2c, 0x14 },
	{ 0x35, 0x15 }, { 0x3c, 0x16 }, { 0x43, 0x17 }, { 0x44, 0x18 }, { 0x4d, 0x19 },
	{ 0x54, 0x1a }, { 0x5b, 0x1b }, { 0x5a, 0x1c }, { 0x14, 0x1d }, { 0x1c, 0x1e },
	{ 0x1b, 0x1f }, { 0x23, 0x20 }, { 0x2b, 0x21 }, { 0x34, 0x22 }, { 0x33, 0x23 },
	{ 0x3b, 0x24 }, { 0x42, 0x25 }, { 0x4b, 0x26 }, { 0x4c, 0x27 }, { 0x52, 0x28 },
	{ 0x0e, 0x29 }, { 0x12, 0x2a }, { 0x5d, 0x2b }, { 0x1a, 0x2c }, { 0x22, 0x2d },
	{ 0x21, 0x2e }, { 0x2a, 0x2f }, { 0x32, 0x30 }, { 0x31, 0x31 }, { 0x3a, 0x32 },
	{ 0x41, 0x33 }, { 0x49, 0x34 }, { 0x4a, 0x35 }, { 0x59, 0x36 }, { 0x7c, 0x37 },
	{ 0x11, 0x38 }, { 0x29, 0x39 }, { 0x58, 0x3a }, { 0x05, 0x3b }, { 0x06, 0x3c },
	{ 0x04, 0x3d }, { 0x0c, 0x3e }, { 0x03, 0x3f }, { 0x0b, 0x40 }, { 0x83, 0x41 },
	{ 0x0a, 0x42 }, { 0x01, 0x43 }, { 0x09, 0x44 }, { 0x77, 0x45 }, { 0x7e, 0x46 },
	{ 0x6c, 0x47 }, { 0x75, 0x48 }, { 0x7d, 0x49 }, { 0x7b, 0x4a }, { 0x6b, 0x4b },
	{ 0x73, 0x4c }, { 0x74, 0x4d }, { 0x79, 0x4e }, { 0x69, 0x4f }, { 0x72, 0x50 },
	{ 0x7a, 0x51 }, { 0x70, 0x52 }, { 0x71, 0x53 }, { 0x61, 0x56 }, { 0x78, 0x57 },
	{ 0x07, 0x58 }, { 0x1f, 0x5b }, { 0x27, 0x5c }, { 0x2f, 0x5d }, { 0x00, 0xff },
};

uint8_t ps2_set2_to_set1(uint8_t code)
{
	for (unsigned i = 0; i < sizeof(set2_set1) / sizeof(set2_set1[0]); i++)
		if (set2_set1[i][0] == code)
			return set2_set1[i][1];
	return code;
}

unsigned ps2_scancode(const struct ps2_key *key, unsigned set, bool down, uint8_t out[3])
{
	unsigned n = 0;
	if (set == 3) {                      /* one code per key; a break is 0xf0, code */
		if (!down)
			out[n++] = 0xf0;
		out[n++] = key->set3;
		return n;
	}
	if (key->extended)
		out[n++] = 0xe0;
	if (set == 1) {                      /* a break is the make code with bit 7 set */
		out[n++] = ps2_set2_to_set1(key->set2) | (down ? 0 : 0x80);
		return n;
	}
	if (!down)
		out[n++] = 0xf0;
	out[n++] = key->set2;
	return n;
}

/* ---- keyboard ----------------------------------------------------------------------------- */

static void kbd_defaults(struct ps2_kbd *k)
{
	k->set = 2;
	k->typematic = 0x2b;   /* 10.9 characters a second after 500 ms: the documented default */
	k->leds = 0;
}

void ps2_kbd_init(struct ps2_kbd *k)
{
	memset(k, 0, sizeof(*k));
	kbd_defaults(k);
	k->scanning = true;
}

bool ps2_kbd_has_data(const struct ps2_kbd *k)
{
	return k->reply.count || k->keys.count;
}

bool ps2_kbd_read(struct ps2_kbd *k, uint8_t *byte)
{
	if (!ps2_queue_pop(&k->reply, byte) && !ps2_queue_pop(&k->keys, byte))
		return false;
	k->last = *byte;
	if (k->keys.count == 0)
		k->overrun = false;   /* emptied: keys are queued again */
	return true;
}

/* The parameter byte of 0xed, 0xf0 or 0xf3. */
static void kbd_param(struct ps2_kbd *k, uint8_t cmd, uint8_t byte)
{
	switch (cmd) {
	case 0xed:
		k->leds = byte & 7;
		ack(&k->reply);
		break;
	case 0xf3:
		k->typematic = byte & 0x7f;
		ack(&k->reply);
		break;
	case 0xf0:
		if (byte == 0) {
			uint8_t answer[2] = { PS2_ACK, k->set };
			reply(&k->reply, answer, 2);
		} else if (byte <= 3) {
			k->set = byte;
			queue_clear(&k->keys);   /* codes of the old set mean nothing now */
			ack(&k->reply);
		} else {
			ps2_queue_push(&k->reply, PS2_RESEND);
		}
		break;
	}
}

void ps2_kbd_write(struct ps2_kbd *k, uint8_t byte)
{
	if (k->param_for) {
		uint8_t cmd = k->param_for;
		k->param_for = 0;
		/* A command byte in place of the parameter is taken as a new command. */
		if (byte < 0xed || cmd == 0xf3) {
			kbd_param(k, cmd, byte);
			return;
		}
	}
	switch (byte) {
	case 0xed: case 0xf0: case 0xf3:       /* LEDs, scan code set, typematic: a byte follows */
		k->param_for = byte;
		ack(&k->reply);
		break;
	case 0xee:
		ps2_queue_push(&k->reply, PS2_ECHO);
		break;
	case 0xf2: {                           /* an MF2 keyboard (0x83: translated, 0x41) */
		uint8_t answer[3] = { PS2_ACK, 0xab, 0x83 };
		reply(&k->reply, answer, 3);
		break;
	}
	case 0xf4:
		k->scanning = true;
		queue_clear(&k->keys);
		ack(&k->reply);
		break;
	case 0xf5:                             /* disable and restore the defaults */
		k->scanning = false;
		kbd_defaults(k);
		queue_clear(&k->keys);
		ack(&k->reply);
		break;
	case 0xf6:
		kbd_defaults(k);
		queue_clear(&k->keys);
		ack(&k->reply);
		break;
	case 0xf7: case 0xf8: case 0xf9: case 0xfa:   /* set 3 key types: accepted, no effect */
	case 0xfb: case 0xfc: case 0xfd:
		ack(&k->reply);
		break;
	case 0xfe:
		ps2_queue_push(&k->reply, k->last);
		break;
	case 0xff: {
		uint8_t answer[2] = { PS2_ACK, PS2_BAT_OK }, shifts = k->shifts;
		ps2_kbd_init(k);
		k->shifts = shifts;   /* the keys are still held */
		reply(&k->reply, answer, 2);
		break;
	}
	default:
		k->unknown++;
		ps2_queue_push(&k->reply, PS2_RESEND);
		break;
	}
}

int ps2_kbd_key(struct ps2_kbd *k, const struct ps2_key *key, bool down)
{
	uint8_t code[3];
	if (!k->scanning)
		return 0;
	unsigned n = ps2_scancode(key, k->set, down, code);
	/* One place stays free for the overrun code; a code goes in whole or not at all. */
	if (k->overrun || ps2_queue_room(&k->keys) < n + 1) {
		if (!k->overrun)
			ps2_queue_push(&k->keys, k->set == 1 ? 0xff : 0x00);
		k->overrun = true;
		k->dropped++;
		return -ENOSPC;
	}
	for (unsigned i = 0; i < n; i++)
		ps2_queue_push(&k->keys, code[i]);
	return 0;
}

/* ---- mouse -------------------------------------------------------------------------------- */

static void mouse_defaults(struct ps2_mouse *m)
{
	m->rate = 100;
	m->resolution = 2;
	m->scaling21 = m->remote = m->reporting = false;
	m->dx = m->dy = m->dz = 0;
	queue_clear(&m->data);
}

void ps2_mouse_init(struct ps2_mouse *m)
{
	memset(m, 0, sizeof(*m));
	mouse_defaults(m);
}

bool ps2_mouse_has_data(const struct ps2_mouse *m)
{
	return m->reply.count || m->data.count;
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

unsigned ps2_mouse_packet(uint8_t id, uint8_t buttons, int dx, int dy, int dz, uint8_t out[4])
{
	uint8_t b0 = 0x08 | (buttons & 7);
	if (dx < -256 || dx > 255) {
		b0 |= 0x40;
		dx = dx < 0 ? -256 : 255;
	}
	if (dy < -256 || dy > 255) {
		b0 |= 0x80;
		dy = dy < 0 ? -256 : 255;
	}
	if (dx < 0)
		b0 |= 0x10;
	if (dy < 0)
		b0 |= 0x20;
	out[0] = b0;
	out[1] = (uint8_t)dx;
	out[2] = (uint8_t)dy;
	if (id == 3) {
		out[3] = (uint8_t)clamp(dz, -8, 7);
		return 4;
	}
	if (id == 4) {
		out[3] = (uint8_t)clamp(dz, -8, 7) & 0x0f;   /* buttons 4 and 5 (bits 4-5): none */
		return 4;
	}
	return 3;
}

/* 2:1 scaling (stream mode only): small movements stay small, larger ones double. */
static int scale21(int v)
{
	static const int table[6] = { 0, 1, 1, 3, 6, 9 };
	int a = v < 0 ? -v : v;
	int s = a < 6 ? table[a] : 2 * a;
	return v < 0 ? -s : s;
}

static unsigned packet_size(const struct ps2_mouse *m)
{
	return m->id == 3 || m->id == 4 ? 4 : 3;
}

/* Stream mode: packets for what is not yet reported, while whole packets fit. */
static unsigned mouse_stream(struct ps2_mouse *m)
{
	unsigned sent = 0;
	if (!m->reporting || m->remote || m->wrap)
		return 0;
	while (m->dx || m->dy || m->dz || m->buttons != m->sent_buttons) {
		uint8_t p[4];
		if (ps2_queue_room(&m->data) < packet_size(m)) {
			m->waiting++;
			break;
		}
		int x = clamp(m->dx, -255, 255), y = clamp(m->dy, -255, 255);
		int z = clamp(m->dz, -8, 7);
		m->dx -= x;
		m->dy -= y;
		m->dz -= z;
		if (m->scaling21) {
			x = scale21(x);
			y = scale21(y);
		}
		unsigned n = ps2_mouse_packet(m->id, m->buttons, x, y, z, p);
		reply(&m->data, p, n);
		m->sent_buttons = m->buttons;
		sent++;
	}
	return sent;
}

unsigned ps2_mouse_event(struct ps2_mouse *m, int dx, int dy, int dz, uint8_t buttons)
{
	/* Counters saturate far beyond anything a packet carries: no overflow of our own. */
	m->dx = clamp(m->dx + clamp(dx, -65536, 65536), -65536, 65536);
	m->dy = clamp(m->dy + clamp(dy, -65536, 65536), -65536, 65536);
	if (m->id)                /* a plain mouse has no wheel */
		m->dz = clamp(m->dz + clamp(dz, -256, 256), -256, 256);
	m->buttons = buttons & 7;
	return mouse_stream(m);
}

bool ps2_mouse_read(struct ps2_mouse *m, uint8_t *byte)
{
	if (!ps2_queue_pop(&m->reply, byte) && !ps2_queue_pop(&m->data, byte))
		return false;
	m->last = *byte;
	mouse_stream(m);   /* room again: movement that waited goes out */
	return true;
}

/* The IntelliMouse knock: sample rates 200, 100, 80 give ID 3; then 200, 200, 80 give ID 4. */
static void mouse_rate(struct ps2_mouse *m, uint8_t rate)
{
	m->rate = rate;
	m->rates[0] = m->rates[1];
	m->rates[1] = m->rates[2];
	m->rates[2] = rate;
	if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80 && m->id == 0)
		m->id = 3;
	else if (m->rates[0] == 200 && m->rates[1] == 200 && m->rates[2] == 80 && m->id == 3)
		m->id = 4;
}

static bool valid_rate(uint8_t r)
{
	return r == 10 || r == 20 || r == 40 || r == 60 || r == 80 || r == 100 || r == 200;
}

static void mouse_param(struct ps2_mouse *m, uint8_t cmd, uint8_t byte)
{
	if (cmd == 0xf3 && valid_rate(byte)) {
		mouse_rate(m, byte);
		ack(&m->reply);
	} else if (cmd == 0xe8 && byte <= 3) {
		m->resolution = byte;
		ack(&m->reply);
	} else {
		m->unknown++;
		ps2_queue_push(&m->reply, PS2_RESEND);
	}
}

/* One packet of what moved since the last (remote mode's 0xeb, or on request in stream). */
static void mouse_read_data(struct ps2_mouse *m)
{
	uint8_t p[5] = { PS2_ACK };
	unsigned n = ps2_mouse_packet(m->id, m->buttons, m->dx, m->dy, m->dz, p + 1);
	m->dx = m->dy = m->dz = 0;   /* the counters restart with each packet, overflow or not */
	m->sent_buttons = m->buttons;
	reply(&m->reply, p, n + 1);
}

void ps2_mouse_write(struct ps2_mouse *m, uint8_t byte)
{
	if (m->param_for) {
		uint8_t cmd = m->param_for;
		m->param_for = 0;
		mouse_param(m, cmd, byte);
		return;
	}
	if (m->wrap && byte != 0xec && byte != 0xff) {
		ps2_queue_push(&m->reply, byte);   /* wrap mode: everything comes back */
		return;
	}
	switch (byte) {
	case 0xe6:
	case 0xe7:
		m->scaling21 = byte == 0xe7;
		ack(&m->reply);
		break;
	case 0xe8: case 0xf3:                  /* resolution, sample rate: a byte follows */
		m->param_for = byte;
		ack(&m->reply);
		break;
	case 0xe9: {
		uint8_t status = (m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
				 (m->scaling21 ? 0x10 : 0) | (m->buttons & PS2_MOUSE_LEFT ? 4 : 0) |
				 (m->buttons & PS2_MOUSE_MIDDLE ? 2 : 0) |
				 (m->buttons & PS2_MOUSE_RIGHT ? 1 : 0);
		uint8_t answer[4] = { PS2_ACK, status, m->resolution, m->rate };
		reply(&m->reply, answer, 4);
		break;
	}
	case 0xea:
		m->remote = false;
		m->dx = m->dy = m->dz = 0;
		ack(&m->reply);
		break;
	case 0xeb:
		mouse_read_data(m);
		break;
	case 0xec:
		m->wrap = false;
		ack(&m->reply);
		break;
	case 0xee:
		m->wrap = true;
		ack(&m->reply);
		break;
	case 0xf0:
		m->remote = true;
		m->dx = m->dy = m->dz = 0;
		queue_clear(&m->data);
		ack(&m->reply);
		break;
	case 0xf2: {
		uint8_t answer[2] = { PS2_ACK, m->id };
		reply(&m->reply, answer, 2);
		break;
	}
	case 0xf4:
		m->reporting = true;
		m->dx = m->dy = m->dz = 0;
		m->sent_buttons = m->buttons;
		ack(&m->reply);
		break;
	case 0xf5:
		m->reporting = false;
		queue_clear(&m->data);
		ack(&m->reply);
		break;
	case 0xf6:
		mouse_defaults(m);
		ack(&m->reply);
		break;
	case 0xfe:
		ps2_queue_push(&m->reply, m->last);
		break;
	case 0xff: {
		uint8_t answer[3] = { PS2_ACK, PS2_BAT_OK, 0x00 };
		uint8_t buttons = m->buttons;
		ps2_mouse_init(m);
		m->buttons = m->sent_buttons = buttons;   /* the buttons are still where they are */
		reply(&m->reply, answer, 3);
		break;
	}
	default:
		m->unknown++;
		ps2_queue_push(&m->reply, PS2_RESEND);
		break;
	}
}
