/*
 * test_stage5_input.c - unit tests of the i8042 keyboard controller and its PS/2 keyboard and
 * mouse (stage5-full-machine/input/): the controller's commands and status bits, the command
 * byte, translation to set 1, the output port (A20, the reset line, the IRQ bits), the
 * keyboard's and the mouse's command sets, packets, the IntelliMouse knock, bounded queues
 * under a guest that does not read, the X11 keysym table and the -input-script parser. The
 * controller runs with no KVM (interrupt lines without a VM: the output port's IRQ bits show
 * what the lines would carry) and with a reset line of the test's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "input/i8042.h"
#include "input/input.h"
#include "input/keymap.h"
#include "input/ps2.h"
#include "run_loop.h"

struct rig {
	struct i8042 c;
	bool reset;
	pthread_mutex_t lock;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	i8042_init(&r->c, -1, &r->reset, &r->lock);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* The guest's view: wait for the output buffer (as drivers do), read it. -1: empty. */
static int rd(struct i8042 *c)
{
	if (!(i8042_read_status(c) & I8042_STR_OBF))
		return -1;
	return i8042_read_data(c);
}

static bool rd_aux(struct i8042 *c)
{
	return i8042_read_status(c) & I8042_STR_AUXOBF;
}

static void expect_bytes(struct i8042 *c, const int *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(rd(c), want[i]);
	assert_int_equal(rd(c), -1);
}

#define EXPECT(c, ...) do { \
	const int want_[] = { __VA_ARGS__ }; \
	expect_bytes(c, want_, sizeof(want_) / sizeof(want_[0])); \
} while (0)

static void cmd(struct i8042 *c, uint8_t b)
{
	assert_int_equal(i8042_write_command(c, b), 0);
}

static void to_mouse(struct i8042 *c, uint8_t b)
{
	cmd(c, 0xd4);
	assert_int_equal(i8042_write_data(c, b), 0);
}

static void set_cb(struct i8042 *c, uint8_t cb)
{
	cmd(c, 0x60);
	assert_int_equal(i8042_write_data(c, cb), 0);
}

/* ---- the controller ---------------------------------------------------------------------- */

static void test_self_test_and_interface_tests(void **state)
{
	struct rig *r = *state;
	struct i8042 *c = &r->c;
	assert_false(i8042_read_status(c) & I8042_STR_SYS);
	cmd(c, 0xaa);
	assert_true(i8042_read_status(c) & I8042_STR_CMD);
	EXPECT(c, 0x55);
	assert_true(i8042_read_status(c) & I8042_STR_SYS);
	cmd(c, 0xab);
	EXPECT(c, 0x00);
	cmd(c, 0xa9);
	EXPECT(c, 0x00);
	cmd(c, 0xe0);
	EXPECT(c, 0x00);
	assert_false(i8042_read_status(c) & I8042_STR_IBF);
	assert_true(i8042_read_status(c) & I8042_STR_NOINH);
}

static void test_command_byte_and_ram(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	cmd(c, 0x20);
	EXPECT(c, I8042_CB_KBDINT | I8042_CB_AUXINT);
	set_cb(c, 0x65);
	assert_false(i8042_read_status(c) & I8042_STR_CMD);   /* the last write was data */
	cmd(c, 0x20);
	EXPECT(c, 0x65);
	assert_true(i8042_read_status(c) & I8042_STR_SYS);    /* bit 2 is the system flag */
	cmd(c, 0x7f);
	i8042_write_data(c, 0x5a);
	cmd(c, 0x3f);
	EXPECT(c, 0x5a);
	cmd(c, 0xad);
	cmd(c, 0xa7);
	cmd(c, 0x20);
	EXPECT(c, 0x65 | I8042_CB_KBDDIS | I8042_CB_AUXDIS);
	cmd(c, 0xae);
	cmd(c, 0xa8);
	cmd(c, 0x20);
	EXPECT(c, 0x45);
}

static void test_output_port_a20_and_reset(void **state)
{
	struct rig *r = *state;
	struct i8042 *c = &r->c;
	cmd(c, 0xd0);
	EXPECT(c, I8042_OUT_RESET | I8042_OUT_A20);
	cmd(c, 0xdd);
	cmd(c, 0xd0);
	EXPECT(c, I8042_OUT_RESET);
	cmd(c, 0xd1);
	assert_int_equal(i8042_write_data(c, I8042_OUT_RESET | I8042_OUT_A20), 0);
	cmd(c, 0xd0);
	EXPECT(c, I8042_OUT_RESET | I8042_OUT_A20);
	assert_false(r->reset);
	assert_int_equal(i8042_write_command(c, 0xff), 0);     /* pulse nothing */
	assert_int_equal(i8042_write_command(c, 0xfd), 0);     /* line 1 only */
	assert_false(r->reset);
	assert_int_equal(i8042_write_command(c, 0xfe), EXIT_HANDLER_STOP);
	assert_true(r->reset);
	r->reset = false;
	cmd(c, 0xd1);
	assert_int_equal(i8042_write_data(c, I8042_OUT_A20), EXIT_HANDLER_STOP);   /* bit 0 low */
	assert_true(r->reset);
}

static void test_hostile_commands(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	cmd(c, 0xc8);                             /* nothing at 0xc8 */
	cmd(c, 0x01);
	assert_int_equal(c->state.unknown_commands, 2);
	assert_int_equal(rd(c), -1);
	cmd(c, 0xd4);                             /* write-to-mouse, then no data byte */
	cmd(c, 0x20);
	assert_int_equal(c->state.lost_data, 1);
	EXPECT(c, I8042_CB_KBDINT | I8042_CB_AUXINT);
	i8042_write_data(c, 0xf2);                /* so this goes to the keyboard */
	EXPECT(c, 0xfa, 0xab, 0x83);
	assert_int_equal(c->state.mouse.reply.count, 0);
	/* A guest that writes commands and never reads: bounded, the newest answer kept. */
	for (int i = 0; i < 1000; i++)
		cmd(c, 0xaa);
	EXPECT(c, 0x55, 0x55);                    /* the output buffer's, and the newest */
	for (int i = 0; i < 1000; i++)
		i8042_write_data(c, 0xee);        /* keyboard echo, never read */
	assert_true(c->state.kbd.reply.count <= PS2_QUEUE_SIZE);
	for (int i = 0; i < 1000; i++)
		to_mouse(c, 0xf2);
	assert_true(c->state.mouse.reply.count <= PS2_QUEUE_SIZE);
	/* A byte read from an empty buffer is the last one again, not garbage. */
	while (rd(c) >= 0)
		;
	uint8_t last = c->state.out;
	assert_int_equal(i8042_read_data(c), last);
}

static void test_loopback_and_irq_bits(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	cmd(c, 0xd3);
	i8042_write_data(c, 0x5a);
	uint8_t st = i8042_read_status(c);
	assert_true(st & I8042_STR_OBF);
	assert_true(st & I8042_STR_AUXOBF);
	assert_true(c->state.output_port & I8042_OUT_AUXIRQ);
	assert_false(c->state.output_port & I8042_OUT_KBDIRQ);
	EXPECT(c, 0x5a);
	assert_false(c->state.output_port & I8042_OUT_AUXIRQ);   /* read: the line falls */
	cmd(c, 0xd2);
	i8042_write_data(c, 0xa5);
	assert_false(rd_aux(c));
	assert_true(c->state.output_port & I8042_OUT_KBDIRQ);
	EXPECT(c, 0xa5);
	set_cb(c, 0);                             /* interrupts off: no line, data still there */
	cmd(c, 0xd2);
	i8042_write_data(c, 0x11);
	assert_false(c->state.output_port & (I8042_OUT_KBDIRQ | I8042_OUT_AUXIRQ));
	EXPECT(c, 0x11);
}

/* ---- the keyboard ------------------------------------------------------------------------ */

static void test_keyboard_reset_identify_echo(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	i8042_write_data(c, 0xff);
	EXPECT(c, 0xfa, 0xaa);
	uint32_t edges = c->state.kbd_irqs;
	i8042_write_data(c, 0xf2);
	EXPECT(c, 0xfa, 0xab, 0x83);
	/* An edge-triggered line: one rising edge per byte, also for bytes that move into the
	 * buffer the moment the previous one is read (Linux waits for each by interrupt). */
	assert_int_equal(c->state.kbd_irqs - edges, 3);
	assert_int_equal(c->state.aux_irqs, 0);
	set_cb(c, I8042_CB_XLATE | I8042_CB_KBDINT);
	i8042_write_data(c, 0xf2);                /* through translation: 0x83 becomes 0x41 */
	EXPECT(c, 0xfa, 0xab, 0x41);
	i8042_write_data(c, 0xee);
	EXPECT(c, 0xee);
	i8042_write_data(c, 0xfe);                /* resend: the last byte again */
	EXPECT(c, 0xee);
	i8042_write_data(c, 0xed);                /* LEDs */
	EXPECT(c, 0xfa);
	i8042_write_data(c, 0x07);
	EXPECT(c, 0xfa);
	assert_int_equal(c->state.kbd.leds, 7);
	i8042_write_data(c, 0xf3);                /* typematic */
	EXPECT(c, 0xfa);
	i8042_write_data(c, 0x20);
	EXPECT(c, 0xfa);
	i8042_write_data(c, 0x12);                /* not a command */
	EXPECT(c, 0xfe);
	assert_int_equal(c->state.kbd.unknown, 1);
}

static void test_scancode_sets(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	i8042_write_data(c, 0xf0);
	i8042_write_data(c, 0x00);
	EXPECT(c, 0xfa, 0xfa, 0x02);
	for (int set = 1; set <= 3; set++) {
		i8042_write_data(c, 0xf0);
		i8042_write_data(c, set);
		EXPECT(c, 0xfa, 0xfa);
		i8042_write_data(c, 0xf0);
		i8042_write_data(c, 0x00);
		EXPECT(c, 0xfa, 0xfa, set);
	}
	i8042_write_data(c, 0xf0);
	i8042_write_data(c, 0x04);                /* no set 4 */
	EXPECT(c, 0xfa, 0xfe);
	assert_int_equal(c->state.kbd.set, 3);
}

static void key(struct i8042 *c, uint32_t keysym, bool down)
{
	assert_int_equal(ps2_kbd_keysym(c, keysym, down), 0);
}

static void test_keys_in_each_set(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	key(c, 'a', true);
	key(c, 'a', false);
	EXPECT(c, 0x1c, 0xf0, 0x1c);
	key(c, 0xff52, true);                     /* Up: extended */
	key(c, 0xff52, false);
	EXPECT(c, 0xe0, 0x75, 0xe0, 0xf0, 0x75);
	assert_true(c->state.output_port & I8042_OUT_KBDIRQ || rd(c) == -1);

	set_cb(c, I8042_CB_XLATE | I8042_CB_KBDINT);  /* the 8042 translates set 2 to set 1 */
	key(c, 'a', true);
	key(c, 'a', false);
	key(c, 0xff52, true);
	key(c, 0xff52, false);
	key(c, 0xffc4, true);                     /* F7: set 2's one code above 0x7f */
	EXPECT(c, 0x1e, 0x9e, 0xe0, 0x48, 0xe0, 0xc8, 0x41);

	set_cb(c, I8042_CB_KBDINT);
	i8042_write_data(c, 0xf0);                /* the keyboard itself in set 1 */
	i8042_write_data(c, 1);
	EXPECT(c, 0xfa, 0xfa);
	key(c, 'a', true);
	key(c, 'a', false);
	key(c, 0xff0d, true);
	EXPECT(c, 0x1e, 0x9e, 0x1c);

	i8042_write_data(c, 0xf0);                /* set 3: no 0xe0, one code per key */
	i8042_write_data(c, 3);
	EXPECT(c, 0xfa, 0xfa);
	key(c, 0xff52, true);
	key(c, 0xff52, false);
	key(c, 0xffbe, true);
	EXPECT(c, 0x63, 0xf0, 0x63, 0x07);
}

static void test_shifted_characters(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	key(c, '!', true);                        /* no Shift held: one is added around it */
	key(c, '!', false);
	EXPECT(c, 0x12, 0x16, 0xf0, 0x12, 0xf0, 0x16);
	key(c, XK_SHIFT_L, true);                 /* the client holds Shift: just the key */
	key(c, 'A', true);
	key(c, 'A', false);
	key(c, XK_SHIFT_L, false);
	EXPECT(c, 0x12, 0x1c, 0xf0, 0x1c, 0xf0, 0x12);
	key(c, XK_SHIFT_R, true);
	key(c, '_', true);
	EXPECT(c, 0x59, 0x4e);
	assert_int_equal(ps2_kbd_keysym(c, 0x20ac, true), -ENOENT);   /* the euro: no key */
	EXPECT(c);
}

static void test_scanning_and_port_disable(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	i8042_write_data(c, 0xf5);                /* the keyboard stops scanning */
	EXPECT(c, 0xfa);
	key(c, 'b', true);
	EXPECT(c);
	i8042_write_data(c, 0xf4);
	EXPECT(c, 0xfa);
	cmd(c, 0xad);                             /* the controller's keyboard port off */
	key(c, 'b', true);
	EXPECT(c);                                /* held in the keyboard ... */
	cmd(c, 0xae);
	EXPECT(c, 0x32);                          /* ... until the port is on again */
}

static void test_keyboard_queue_is_bounded(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	int err = 0, dropped = 0;
	for (int i = 0; i < 100; i++) {
		err = ps2_kbd_keysym(c, 'z', i % 2 == 0);
		dropped += err == -ENOSPC;
	}
	assert_int_equal(err, -ENOSPC);
	assert_true(dropped > 50);
	/* One byte sits in the output buffer, the queue holds whole codes and the overrun code. */
	int n = 0, b, last = -1;
	while ((b = rd(c)) >= 0) {
		n++;
		last = b;
	}
	assert_true(n <= PS2_QUEUE_SIZE + 1);
	assert_int_equal(last, 0x00);
	assert_int_equal(c->state.kbd.dropped, dropped);
	key(c, 'z', true);                        /* read empty: keys flow again */
	EXPECT(c, 0x1a);
	/* In set 1 the overrun code is 0xff, and translation turns set 2's 0x00 into 0xff. */
	set_cb(c, I8042_CB_XLATE | I8042_CB_KBDINT);
	for (int i = 0; i < 40; i++)
		ps2_kbd_keysym(c, 'z', true);
	while ((b = rd(c)) >= 0)
		last = b;
	assert_int_equal(last, 0xff);
}

/* ---- the mouse --------------------------------------------------------------------------- */

static void test_mouse_reset_id_and_knock(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	to_mouse(c, 0xff);
	assert_true(rd_aux(c));
	assert_true(c->state.output_port & I8042_OUT_AUXIRQ);
	EXPECT(c, 0xfa, 0xaa, 0x00);
	assert_int_equal(c->state.aux_irqs, 3);
	to_mouse(c, 0xf2);
	EXPECT(c, 0xfa, 0x00);
	const uint8_t knock[] = { 200, 100, 80 };
	for (int i = 0; i < 3; i++) {
		to_mouse(c, 0xf3);
		to_mouse(c, knock[i]);
		EXPECT(c, 0xfa, 0xfa);
	}
	to_mouse(c, 0xf2);
	EXPECT(c, 0xfa, 0x03);
	const uint8_t knock2[] = { 200, 200, 80 };
	for (int i = 0; i < 3; i++) {
		to_mouse(c, 0xf3);
		to_mouse(c, knock2[i]);
		EXPECT(c, 0xfa, 0xfa);
	}
	to_mouse(c, 0xf2);
	EXPECT(c, 0xfa, 0x04);
	to_mouse(c, 0xff);                        /* reset: a plain mouse again */
	EXPECT(c, 0xfa, 0xaa, 0x00);
	to_mouse(c, 0xf2);
	EXPECT(c, 0xfa, 0x00);
	to_mouse(c, 0xf3);                        /* 90 samples a second is no rate */
	to_mouse(c, 90);
	EXPECT(c, 0xfa, 0xfe);
}

static void test_mouse_settings_and_status(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	to_mouse(c, 0xe9);
	EXPECT(c, 0xfa, 0x00, 0x02, 100);
	to_mouse(c, 0xe8);
	to_mouse(c, 0x03);
	to_mouse(c, 0xe7);
	to_mouse(c, 0xf3);
	to_mouse(c, 40);
	to_mouse(c, 0xf4);
	EXPECT(c, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa);
	ps2_mouse_move(c, 0, 0, 0, 1 | 4);        /* left and right held */
	EXPECT(c, 0x08 | PS2_MOUSE_LEFT | PS2_MOUSE_RIGHT, 0, 0);
	to_mouse(c, 0xe9);
	EXPECT(c, 0xfa, 0x20 | 0x10 | 0x04 | 0x01, 0x03, 40);
	to_mouse(c, 0xf0);                        /* remote mode */
	to_mouse(c, 0xe6);
	EXPECT(c, 0xfa, 0xfa);
	to_mouse(c, 0xe9);
	EXPECT(c, 0xfa, 0x40 | 0x20 | 0x04 | 0x01, 0x03, 40);
	to_mouse(c, 0xf6);                        /* defaults: stream, off, 100/s, 4/mm */
	to_mouse(c, 0xe9);
	EXPECT(c, 0xfa, 0xfa, 0x04 | 0x01, 0x02, 100);
	to_mouse(c, 0xee);                        /* wrap mode: everything echoed ... */
	to_mouse(c, 0xf2);
	to_mouse(c, 0x42);
	to_mouse(c, 0xec);                        /* ... but the way out */
	to_mouse(c, 0xf2);
	EXPECT(c, 0xfa, 0xf2, 0x42, 0xfa, 0xfa, 0x00);
	to_mouse(c, 0xd7);                        /* unknown */
	EXPECT(c, 0xfe);
	to_mouse(c, 0xfe);                        /* resend */
	EXPECT(c, 0xfe);
}

static void test_mouse_packets(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	ps2_mouse_move(c, 5, 5, 0, 0);            /* reporting off: nothing */
	EXPECT(c);
	to_mouse(c, 0xf4);
	EXPECT(c, 0xfa);
	ps2_mouse_move(c, 10, -5, 0, 1);          /* right 10, up 5 (PS/2: y +5), left button */
	EXPECT(c, 0x09, 10, 5);
	ps2_mouse_move(c, -3, 7, 0, 0);           /* left and down: both sign bits */
	EXPECT(c, 0x08 | 0x10 | 0x20, 0xfd, 0xf9);
	ps2_mouse_move(c, 600, 0, 0, 0);          /* larger than a packet: 255 + 255 + 90 */
	EXPECT(c, 0x08, 255, 0, 0x08, 255, 0, 0x08, 90, 0);

	const uint8_t knock[] = { 200, 100, 80 };
	for (int i = 0; i < 3; i++) {
		to_mouse(c, 0xf3);
		to_mouse(c, knock[i]);
	}
	EXPECT(c, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa);
	ps2_mouse_move(c, 1, 0, 2, 2);            /* a wheel mouse: 4 bytes; middle button */
	EXPECT(c, 0x08 | PS2_MOUSE_MIDDLE, 1, 0, 2);
	ps2_mouse_move(c, 0, 0, -1, 0);
	EXPECT(c, 0x08, 0, 0, 0xff);
}

static void test_mouse_remote_mode_overflow(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	to_mouse(c, 0xf4);
	to_mouse(c, 0xf0);
	EXPECT(c, 0xfa, 0xfa);
	ps2_mouse_move(c, 300, 400, 0, 0);        /* remote: counted, not sent */
	EXPECT(c);
	to_mouse(c, 0xeb);                        /* read data: the counters overflowed */
	EXPECT(c, 0xfa, 0x08 | 0x40 | 0x80 | 0x20, 0xff, 0x00);
	to_mouse(c, 0xeb);                        /* and restarted */
	EXPECT(c, 0xfa, 0x08, 0, 0);
	uint8_t p[4];
	assert_int_equal(ps2_mouse_packet(0, 0, -256, 255, 0, p), 3);
	assert_int_equal(p[0], 0x08 | 0x10);
	assert_int_equal(p[1], 0x00);
	assert_int_equal(p[2], 0xff);
	assert_int_equal(ps2_mouse_packet(3, 7, 0, 0, 100, p), 4);
	assert_int_equal(p[0], 0x0f);
	assert_int_equal(p[3], 7);
	assert_int_equal(ps2_mouse_packet(4, 0, 0, 0, -100, p), 4);
	assert_int_equal(p[3], 0x08);
}

static void test_mouse_queue_waits_not_loses(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	to_mouse(c, 0xf4);
	EXPECT(c, 0xfa);
	for (int i = 0; i < 100; i++)             /* a guest that does not read */
		ps2_mouse_move(c, 3, 0, 0, 0);
	assert_true(c->state.mouse.data.count <= PS2_QUEUE_SIZE);
	assert_true(c->state.mouse.waiting > 0);
	int total = 0, b, i = 0;
	while ((b = rd(c)) >= 0) {                /* every movement arrives, in whole packets */
		if (i % 3 == 1)
			total += b;
		i++;
	}
	assert_int_equal(i % 3, 0);
	assert_int_equal(total, 300);
}

static void test_keyboard_and_mouse_share_the_buffer(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	to_mouse(c, 0xf4);
	EXPECT(c, 0xfa);
	key(c, 'a', true);
	ps2_mouse_move(c, 1, 0, 0, 0);
	assert_false(rd_aux(c));
	assert_int_equal(rd(c), 0x1c);
	assert_true(rd_aux(c));
	EXPECT(c, 0x08, 1, 0);
	cmd(c, 0xa7);                             /* mouse port off: its packets wait */
	ps2_mouse_move(c, 2, 0, 0, 0);
	EXPECT(c);
	cmd(c, 0xa8);
	EXPECT(c, 0x08, 2, 0);
}

static void test_pointer_absolute_to_relative(void **state)
{
	struct i8042 *c = &((struct rig *)*state)->c;
	struct ps2_pointer p = { 0 };
	to_mouse(c, 0xf4);
	EXPECT(c, 0xfa);
	ps2_mouse_pointer(c, &p, 100, 100, 0);    /* the first event only places it */
	EXPECT(c);
	ps2_mouse_pointer(c, &p, 110, 90, 0);
	EXPECT(c, 0x08, 10, 10);
	ps2_mouse_pointer(c, &p, 110, 90, 0x10);  /* button 5 pressed: one step of the wheel */
	ps2_mouse_pointer(c, &p, 110, 90, 0);     /* released: nothing */
	assert_int_equal(c->state.mouse.dz, 0);
	EXPECT(c);                                /* a plain mouse has no wheel byte */
}

/* ---- tables ------------------------------------------------------------------------------ */

static void test_keymap(void **state)
{
	(void)state;
	struct keymap_entry e;
	assert_true(keymap_lookup('a', &e));
	assert_int_equal(e.key.set2, 0x1c);
	assert_false(e.shifted);
	assert_true(keymap_lookup('A', &e));
	assert_int_equal(e.key.set2, 0x1c);
	assert_true(e.shifted);
	assert_false(keymap_lookup(0x20ac, &e));
	assert_true(keymap_by_name("Return", &e));
	assert_int_equal(e.keysym, 0xff0d);
	assert_true(keymap_by_name("exclam", &e));
	assert_true(e.shifted);
	assert_true(keymap_by_name("?", &e));
	assert_int_equal(e.key.set2, 0x4a);
	assert_false(keymap_by_name("NoSuchKey", &e));
	/* Every printable ASCII character and the named keys the VNC display needs. */
	for (uint32_t ch = 0x20; ch < 0x7f; ch++)
		assert_true(keymap_lookup(ch, &e));
	const uint32_t named[] = { 0xff08, 0xff09, 0xff0d, 0xff1b, 0xffff, 0xff50, 0xff51, 0xff52,
				   0xff53, 0xff54, 0xff55, 0xff56, 0xff57, 0xff63, 0xffe1, 0xffe2,
				   0xffe3, 0xffe4, 0xffe9, 0xffea };
	for (unsigned i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		assert_true(keymap_lookup(named[i], &e));
	for (uint32_t f = 0xffbe; f <= 0xffc9; f++)   /* F1-F12 */
		assert_true(keymap_lookup(f, &e));
	/* Each key's set 2 code has a set 1 code: the translation knows every key. */
	for (uint32_t ch = 0x20; ch < 0x7f; ch++) {
		keymap_lookup(ch, &e);
		if (e.key.set2 != 0x31)           /* 'n' is 0x31 in both sets */
			assert_int_not_equal(ps2_set2_to_set1(e.key.set2), e.key.set2);
		assert_true(ps2_set2_to_set1(e.key.set2) < 0x80);
	}
	assert_int_equal(ps2_set2_to_set1(0x00), 0xff);
	assert_int_equal(ps2_set2_to_set1(0xfa), 0xfa);
	assert_int_equal(ps2_set2_to_set1(0xe0), 0xe0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_input_script_parsing(void **state)
{
	(void)state;
	char path[] = "/tmp/input-script-XXXXXX", why[200] = "";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# a script\nkey Return down\nkey 0xff0d up   # comment\n"
		   "wait leds 7\ntype Hi!\nmouse 10 -5 1 4\nflood 50 a\n\n");
	struct input_script *s = input_script_open(path, why, sizeof(why));
	assert_non_null(s);
	input_script_close(s);
	write_file(path, "key Return down\nkey NoSuchKey down\n");
	assert_null(input_script_open(path, why, sizeof(why)));
	assert_non_null(strstr(why, ":2: no key types 'NoSuchKey'"));
	write_file(path, "wiggle\n");
	assert_null(input_script_open(path, why, sizeof(why)));
	assert_non_null(strstr(why, ":1: 'wiggle'"));
	write_file(path, "mouse 1 2\n");
	assert_null(input_script_open(path, why, sizeof(why)));
	write_file(path, "wait leds 9\n");
	assert_null(input_script_open(path, why, sizeof(why)));
	assert_non_null(strstr(why, ":1: wait leds N: N from 0 to 7"));
	unlink(path);
	assert_null(input_script_open(path, why, sizeof(why)));
	assert_non_null(strstr(why, "cannot open the input script"));
}

/* The script thread plays into a polling "guest" (this test) in order, waiting for it. */
static void test_input_script_plays(void **state)
{
	struct rig *r = *state;
	struct i8042 *c = &r->c;
	char path[] = "/tmp/input-script-XXXXXX", why[200] = "";
	int fd = mkstemp(path);
	close(fd);
	write_file(path, "wait leds 4\ntype ab\nmouse 4 0 0 0\n");
	struct input_script *s = input_script_open(path, why, sizeof(why));
	unlink(path);
	assert_non_null(s);
	assert_int_equal(input_script_start(s, c), 0);
	usleep(20000);
	pthread_mutex_lock(&r->lock);
	assert_int_equal(rd(c), -1);              /* nothing before the guest lights Caps Lock */
	i8042_write_data(c, 0xed);
	i8042_write_data(c, 0x04);
	EXPECT(c, 0xfa, 0xfa);
	pthread_mutex_unlock(&r->lock);
	const int want[] = { 0x1c, 0xf0, 0x1c, 0x32, 0xf0, 0x32, 0xfa, 0x08, 4, 0 };
	unsigned got = 0;
	for (int tries = 0; got < sizeof(want) / sizeof(want[0]) && tries < 20000; tries++) {
		pthread_mutex_lock(&r->lock);
		if (got == 6 && !c->state.mouse.reporting)
			to_mouse(c, 0xf4);        /* the mouse's line waits for reporting */
		int b = rd(c);
		pthread_mutex_unlock(&r->lock);
		if (b >= 0)
			assert_int_equal(b, want[got++]);
		else
			usleep(200);
	}
	assert_int_equal(got, sizeof(want) / sizeof(want[0]));
	input_script_close(s);
}

/* A migration stream's PS/2 queues: a head or count past the queue is refused. */
static void test_loaded_queues_are_checked(void **state)
{
	(void)state;
	struct i8042_state s;
	memset(&s, 0, sizeof(s));
	assert_true(i8042_state_valid(&s));
	s.kbd.keys.head = PS2_QUEUE_SIZE - 1, s.kbd.keys.count = PS2_QUEUE_SIZE;
	assert_true(i8042_state_valid(&s));
	s.mouse.data.head = PS2_QUEUE_SIZE;
	assert_false(i8042_state_valid(&s));
	s.mouse.data.head = 0, s.kbd.reply.count = PS2_QUEUE_SIZE + 1;
	assert_false(i8042_state_valid(&s));
	/* Flags are bools: a byte 2 in one (a stream is bytes) is refused before it is read. */
	static const size_t flags[] = {
		offsetof(struct i8042_state, out_full), offsetof(struct i8042_state, xlat_break),
		offsetof(struct i8042_state, kbd) + offsetof(struct ps2_kbd, overrun),
		offsetof(struct i8042_state, mouse) + offsetof(struct ps2_mouse, wrap),
	};
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		memset(&s, 0, sizeof(s));
		((uint8_t *)&s)[flags[i]] = 2;
		assert_false(i8042_state_valid(&s));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loaded_queues_are_checked),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_self_test_and_interface_tests),
		T(test_command_byte_and_ram),
		T(test_output_port_a20_and_reset),
		T(test_hostile_commands),
		T(test_loopback_and_irq_bits),
		T(test_keyboard_reset_identify_echo),
		T(test_scancode_sets),
		T(test_keys_in_each_set),
		T(test_shifted_characters),
		T(test_scanning_and_port_disable),
		T(test_keyboard_queue_is_bounded),
		T(test_mouse_reset_id_and_knock),
		T(test_mouse_settings_and_status),
		T(test_mouse_packets),
		T(test_mouse_remote_mode_overflow),
		T(test_mouse_queue_waits_not_loses),
		T(test_keyboard_and_mouse_share_the_buffer),
		T(test_pointer_absolute_to_relative),
		T(test_keymap),
		T(test_input_script_parsing),
		T(test_input_script_plays),
#undef T
	};
	return cmocka_run_group_tests_name("stage5 input", tests, NULL, NULL);
}
