/*
 * input.h - keys and pointer from the host (a VNC client, a test script) into the PS/2
 * keyboard and mouse behind the i8042. The contract the display (display/vnc.c) calls.
 *
 * Teaches where host input meets an emulated device: on another thread than the vCPUs, so
 * under the same lock (the bus lock, stage 4's bus.h) that every guest port access holds.
 * Models the path a key takes on a PC: the key's scan code into the keyboard's buffer, through
 * the controller's output buffer, IRQ 1 (IRQ 12 for the mouse) to the guest's driver.
 *
 * Contract, for every function here:
 *  - Call from any thread but a vCPU's bus callback (they take the lock that callback holds;
 *    pass the bus lock to i8042_init()). Never call with that lock held.
 *  - Nothing blocks: an event goes into the device's queue or is dropped at once.
 *  - 0 when the event was queued (or held, for movement that waits for room), -ENOENT when a
 *    keysym has no key on this layout (ignored: the caller may log it), -ENOSPC when the guest
 *    is not reading and the keyboard's queue is full: the key is dropped (one line on stderr
 *    the first time; a real keyboard does the same and sends the overrun code 0x00).
 *  - Keys and movement reach the guest only while it lets them: the keyboard scanning (0xf4,
 *    on after reset) and the mouse reporting in stream mode (0xf4, off after reset); otherwise
 *    they are ignored, as by real devices. The guest sees them in whatever scan code set and
 *    translation it chose.
 */
#ifndef INPUT_H
#define INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "i8042.h"

/*
 * A key pressed (down) or released, by its X11 keysym (what VNC's KeyEvent carries: 'a',
 * 'A', '!', 0xff0d Return, 0xffbe F1, 0xffe1 Shift_L ...; keymap.h has the list, a US
 * layout). A character typed with Shift ('A', '!') when the client holds no Shift key
 * gets one: Shift down, the key down, Shift up (then the key's own release on up).
 */
int ps2_kbd_keysym(struct i8042 *c, uint32_t keysym, bool down);

/*
 * The mouse moved and/or its buttons changed: dx right, dy down (screen directions, as VNC
 * and X11 count), dz wheel steps (positive: towards the user, X11 button 5, scroll down),
 * buttons the X11/VNC mask: bit 0 left, bit 1 middle, bit 2 right (the state now, not a
 * change). A movement larger than a packet carries goes out in several packets; what does
 * not fit the mouse's queue waits there and follows as the guest reads.
 */
int ps2_mouse_move(struct i8042 *c, int dx, int dy, int dz, unsigned buttons);

/*
 * VNC's PointerEvent is absolute (x, y in pixels, the X11 mask with bit 3 = wheel up, bit 4 =
 * wheel down); a PS/2 mouse is relative. This keeps the last position and turns each event
 * into ps2_mouse_move(): the difference, one wheel step per press of button 4 or 5. The guest's
 * pointer follows with its own acceleration, so it need not land where the client's is.
 */
struct ps2_pointer {
	int x, y;
	unsigned mask;
	bool seen;            /* false: the first event only sets the position */
};
int ps2_mouse_pointer(struct i8042 *c, struct ps2_pointer *p, int x, int y, unsigned mask);

/*
 * Test hook (minivisor -input-script FILE): a file of input events, played into the devices
 * by a thread while the guest runs. One event a line; '#' starts a comment:
 *
 *   key NAME down|up     NAME: an X11 keysym name (keymap.h: Return, F1, Shift_L, a, A,
 *                        exclam) or one printable character, or a number 0xNNNN
 *   type TEXT            press and release each character of TEXT (the rest of the line)
 *   mouse DX DY DZ BTNS  ps2_mouse_move(DX, DY, DZ, BTNS)
 *   flood N NAME         N presses and releases of NAME at once (a guest that does not read
 *                        overflows the keyboard's queue: a test of the bound)
 *   wait leds N          wait until the guest has set the keyboard's LEDs (0xed) to N (bit 0
 *                        Scroll, 1 Num, 2 Caps Lock): how a test guest says "I am ready",
 *                        so that no event reaches the firmware or a reset instead
 *
 * Each line waits until its device is ready for it: the keyboard scanning (the mouse
 * reporting) with nothing of its own queued or in the controller's output buffer, then goes
 * in whole, under the lock. So a polling guest (a test boot sector) gets the events in order,
 * none lost to a reset or a command, however slow the host. The script ends when every line
 * is played or the machine stops.
 */
struct input_script;

/* Read and check the whole file (errors: one line "FILE:LINE: what"); NULL on error. */
struct input_script *input_script_open(const char *path, char *why, size_t why_len);
/*
 * Devices beside the PS/2 pair that hear the script's events too (the USB keyboard and tablet,
 * usb/usb_hid.h), called on the script's thread with the bus lock held, right after the PS/2
 * device got the same event. Keys still wait for the PS/2 keyboard (and "wait leds" watches
 * it); a move goes at once when a sink takes moves (a tablet queues them), the PS/2 mouse
 * queueing it as it does VNC's. Set before input_script_start.
 */
struct input_sink {
	void (*key)(void *opaque, const struct ps2_key *key, bool shifted, bool down);
	void (*move)(void *opaque, int dx, int dy, int dz, unsigned buttons);
	void *opaque;
};
void input_script_set_sink(struct input_script *s, const struct input_sink *sink);
/* Play it into c on a thread of its own. 0 or a negative errno. */
int input_script_start(struct input_script *s, struct i8042 *c);
/* Stop the thread (if started) and free the script. */
void input_script_close(struct input_script *s);

#endif
